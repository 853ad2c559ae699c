/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * module.h - oimap's optional parts built as modules, loaded with
 * dlopen() the first time they are needed, so that a run that needs none
 * of them never maps their libraries (start-up time of short runs):
 *
 *   oimap-python.so   the embedded CPython (src/pyeval/)
 *   oimap-oauth2.so   OAuth2 token requests: libcurl, json-c (src/run/)
 *
 * A module exports one function, SYMBOL(const struct oim_module_host *),
 * returning its table of operations (or NULL when the host's version is
 * not its own).  It carries its own copies of the stateless util code
 * (util.c, strbuf.c, err.c) and module-log.c, which sends its log lines
 * to oimap's log through the host table; everything else in it is hidden
 * (-fvisibility=hidden).
 *
 * Where a module is looked for, first found wins: the directory
 * $OIMAP_MODULE_PATH (tests), the directory of the running binary (the
 * build tree), <bindir>/../<libdir>/oimap, and OIMAP_MODULE_DIR (the
 * configured install directory).
 *
 * Threads: oim_module_load() from any thread; call it under a
 * pthread_once (the callers do).  Modules are never unloaded.
 */
#ifndef OIMAP_MODULE_H
#define OIMAP_MODULE_H

#include <stdbool.h>
#include <stddef.h>

#define OIM_MODULE_HOST_VERSION 1

struct oim_module_host {
	unsigned version;
	bool (*debug_enabled)(unsigned type);
	/* level: 0 debug (of 'type'), 1 warning */
	void (*message)(int level, unsigned type, const char *text);
};

/* oimap's side (module.c). */
extern const struct oim_module_host oim_module_host;

/*
 * Load module 'file' and call its 'symbol' with the host table.  Returns
 * its operations, whose table must start with an 'unsigned' equal to
 * 'version', or NULL with a message naming what was tried in errbuf.
 */
const void *oim_module_load(const char *file, const char *symbol,
			    unsigned version, char *errbuf, size_t errlen);

/* The module's side (module-log.c, linked into modules only). */
void oim_module_set_host(const struct oim_module_host *host);

#endif
