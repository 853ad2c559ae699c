/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * module.c - finding and loading oimap's modules (see module.h).
 */
#include <dlfcn.h>
#include <limits.h>
#include <unistd.h>

#include "log.h"
#include "module.h"
#include "strbuf.h"
#include "util.h"

#ifndef OIMAP_MODULE_DIR
#define OIMAP_MODULE_DIR "/usr/local/lib/oimap"
#endif
#ifndef OIMAP_LIBDIR_NAME
#define OIMAP_LIBDIR_NAME "lib"
#endif

static bool host_debug_enabled(unsigned type)
{
	return log_debug_enabled(type);
}

static void host_message(int level, unsigned type, const char *text)
{
	if (level == 0)
		log_debug(type, "%s", text);
	else
		log_warn("%s", text);
}

const struct oim_module_host oim_module_host = {
    OIM_MODULE_HOST_VERSION, host_debug_enabled, host_message};

typedef const void *(*module_entry)(const struct oim_module_host *host);

/* 1: loaded, 0: no such file, -1: there but unusable (errbuf says) */
static int try_load(const char *path, const char *symbol, unsigned version,
		    const void **ops_r, char *errbuf, size_t errlen)
{
	void *h;
	module_entry fn;

	if (access(path, F_OK) < 0)
		return 0;
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(errbuf, errlen, "cannot load %s: %s", path,
			 dlerror());
		return -1;
	}
	*(void **)&fn = dlsym(h, symbol);
	*ops_r = fn ? fn(&oim_module_host) : NULL;
	if (*ops_r && *(const unsigned *)*ops_r != version)
		*ops_r = NULL;
	if (!*ops_r) {
		snprintf(errbuf, errlen,
			 "%s is not an oimap module of this version", path);
		dlclose(h);
		return -1;
	}
	log_debug(OIM_DBG_CONFIG, "loaded %s", path);
	return 1;
}

const void *oim_module_load(const char *file, const char *symbol,
			    unsigned version, char *errbuf, size_t errlen)
{
	const char *env = getenv("OIMAP_MODULE_PATH");
	const void *ops = NULL;
	char exe[PATH_MAX];
	char *dirs[4] = {NULL, NULL, NULL, NULL};
	size_t nd = 0;
	ssize_t n;
	int r = 0;

	snprintf(errbuf, errlen,
		 "oimap's module %s was not found next to oimap or in %s",
		 file, OIMAP_MODULE_DIR);
	if (env && *env)
		dirs[nd++] = xstrdup(env);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		char *slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			dirs[nd++] = xstrdup(exe);
			dirs[nd++] = xasprintf("%s/../%s/oimap", exe,
					       OIMAP_LIBDIR_NAME);
		}
	}
	dirs[nd++] = xstrdup(OIMAP_MODULE_DIR);
	for (size_t i = 0; i < nd && r == 0; i++) {
		char *p = xasprintf("%s/%s", dirs[i], file);
		r = try_load(p, symbol, version, &ops, errbuf, errlen);
		free(p);
	}
	for (size_t i = 0; i < nd; i++)
		free(dirs[i]);
	return r > 0 ? ops : NULL;
}
