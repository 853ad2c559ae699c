/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pyeval-shim.c - pyeval.h in oimap itself: loads oimap-python.so (the
 * embedded CPython, pyeval-ops.h) on first use and forwards to it.  A
 * build without libpython3, or a missing module, gives every entry point
 * a clear error instead.
 *
 * Where the module is looked for: util/module.h.
 */
#include <pthread.h>

#include "../util/log.h"
#include "../util/strbuf.h"
#include "../util/util.h"
#include "pyeval-ops.h"

/*
 * Which options get which flags: repository/Base.py passes {'re': re} for
 * nametrans, folderfilter, folderincludes and foldersort, mbnames.py for
 * sort_keyfunc and folderfilter; repository/IMAP.py treats a None from an
 * oauth2_*_eval as "not set" and strips '\n' from the others.
 */
static const struct {
	const char *name;
	unsigned flags;
} option_flags[] = {
    {"nametrans", PYEVAL_F_RE},
    {"folderfilter", PYEVAL_F_RE},
    {"folderincludes", PYEVAL_F_RE},
    {"foldersort", PYEVAL_F_RE},
    {"sort_keyfunc", PYEVAL_F_RE},
    {"remotepasseval", PYEVAL_F_SECRET},
    {"oauth2_access_token_eval",
     PYEVAL_F_SECRET | PYEVAL_F_NONE_OK | PYEVAL_F_STRIP_NL},
    {"oauth2_refresh_token_eval",
     PYEVAL_F_SECRET | PYEVAL_F_NONE_OK | PYEVAL_F_STRIP_NL},
    {"oauth2_client_secret_eval",
     PYEVAL_F_SECRET | PYEVAL_F_NONE_OK | PYEVAL_F_STRIP_NL},
    /* an id, not a secret, but treated like the other oauth2 values */
    {"oauth2_client_id_eval", PYEVAL_F_NONE_OK | PYEVAL_F_STRIP_NL},
};

unsigned pyeval_option_flags(const char *option)
{
	for (size_t i = 0; i < ARRAY_SIZE(option_flags); i++)
		if (!oim_strcasecmp(option, option_flags[i].name))
			return option_flags[i].flags;
	return 0;
}

/*
 * CPython 3.11 does not free everything at Py_FinalizeEx() (static types'
 * dictionaries, interned strings: python/cpython issues 1635741 and
 * following).  LeakSanitizer would fail every ASan run of a program that
 * embeds it, so sanitizer builds carry a default suppression for
 * (in oimap itself: LeakSanitizer looks for it in the program, not in
 * the module)
 * allocations made inside libpython.  Our own allocations (xmalloc) are
 * never made from inside libpython, so leaks of ours are still reported.
 */
#if defined(__SANITIZE_ADDRESS__)
#define PYEVAL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PYEVAL_ASAN 1
#endif
#endif
#ifdef PYEVAL_ASAN
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libpython3\n";
}
#endif

/* ---- loading ---- */

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static const struct pyeval_ops *ops;
static char load_error[512];

#ifdef OIMAP_HAVE_PYTHON
static void load(void)
{
	ops = oim_module_load(PYEVAL_MODULE_NAME, PYEVAL_MODULE_SYMBOL,
			      PYEVAL_OPS_VERSION, load_error,
			      sizeof(load_error));
}
#else
static void load(void)
{
	snprintf(load_error, sizeof(load_error),
		 "oimap was built without Python support (libpython3 not "
		 "found at build time)");
}
#endif

bool pyeval_available(void)
{
	pthread_once(&load_once, load);
	return ops != NULL;
}

static int no_python(struct oim_err *err, const char *what)
{
	return oim_error(err, OIM_SEV_ACCOUNT, OIM_E_PYTHON,
			 "%s: %s; Python expressions and pythonfile cannot be "
			 "used",
			 what, load_error);
}

int pyeval_init(const char *pythonfile, struct oim_err *err)
{
	if (!pyeval_available())
		return no_python(err, pythonfile ? pythonfile : "pythonfile");
	return ops->init(pythonfile, err);
}

bool pyeval_initialized(void)
{
	return ops && ops->initialized();
}

void pyeval_shutdown(void)
{
	if (ops)
		ops->shutdown();
}

int pyeval_compile(const char *text, const char *option, const char *where,
		   unsigned flags, struct pyeval_expr **expr_r,
		   struct oim_err *err)
{
	*expr_r = NULL;
	if (!pyeval_available()) {
		if (where)
			return oim_error(err, OIM_SEV_ACCOUNT, OIM_E_PYTHON,
					 "%s: %s: %s; Python expressions "
					 "cannot be used",
					 where, option, load_error);
		return no_python(err, option);
	}
	return ops->compile(text, option, where, flags, expr_r, err);
}

void pyeval_expr_free(struct pyeval_expr *expr)
{
	if (!expr)
		return;
	if (!ops)
		BUG("pyeval_expr_free: no expression exists without Python");
	ops->expr_free(expr);
}

void pyeval_strlist_free(char **list)
{
	if (!list)
		return;
	for (char **p = list; *p; p++)
		free(*p);
	free(list);
}

/* An expression exists only if the module compiled it. */
static const struct pyeval_ops *have(const struct pyeval_expr *expr)
{
	if (!ops || !expr)
		BUG("pyeval: no expression exists without Python");
	return ops;
}

int pyeval_eval_str(struct pyeval_expr *expr, char **out_r, struct oim_err *err)
{
	return have(expr)->eval_str(expr, out_r, err);
}

int pyeval_eval_long(struct pyeval_expr *expr, long *out_r, struct oim_err *err)
{
	return have(expr)->eval_long(expr, out_r, err);
}

int pyeval_eval_strlist(struct pyeval_expr *expr, char ***list_r, size_t *n_r,
			struct oim_err *err)
{
	return have(expr)->eval_strlist(expr, list_r, n_r, err);
}

int pyeval_call_bool(struct pyeval_expr *expr, const char *const *argv,
		     size_t argc, bool *out_r, struct oim_err *err)
{
	return have(expr)->call_bool(expr, argv, argc, out_r, err);
}

int pyeval_call_str(struct pyeval_expr *expr, const char *arg, char **out_r,
		    struct oim_err *err)
{
	return have(expr)->call_str(expr, arg, out_r, err);
}

int pyeval_call_uids(struct pyeval_expr *expr, const char *folder,
		     uint32_t **uids_r, size_t *n_r, struct oim_err *err)
{
	return have(expr)->call_uids(expr, folder, uids_r, n_r, err);
}

int pyeval_call_void(struct pyeval_expr *expr, struct oim_err *err)
{
	return have(expr)->call_void(expr, err);
}

int pyeval_sort_cmp(struct pyeval_expr *expr, const char *const *names,
		    size_t n, size_t *order_r, struct oim_err *err)
{
	return have(expr)->sort_cmp(expr, names, n, order_r, err);
}

int pyeval_sort_key(struct pyeval_expr *expr, const char *const *keys,
		    size_t nkeys, const char *const *values, size_t n,
		    size_t *order_r, struct oim_err *err)
{
	return have(expr)->sort_key(expr, keys, nkeys, values, n, order_r,
				    err);
}
