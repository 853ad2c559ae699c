/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pyeval.h - the Python expressions of an offlineimaprc, evaluated by an
 * embedded CPython (libpython3).
 *
 * What OfflineIMAP does, and so what we do (offlineimap/localeval.py,
 * CustomConfig.getlocaleval(), repository/Base.py, repository/IMAP.py,
 * mbnames.py):
 *
 *  - [general] pythonfile (with ~ and $VAR expanded) is executed once as a
 *    module named "<none>"; every attribute of that module (functions it
 *    defines, modules it imports, __name__, __builtins__ ...) becomes the
 *    namespace that expressions see.  Without a pythonfile the namespace
 *    holds only the builtins.
 *  - Each evaluation runs eval(text, names) with 'names' a fresh copy of
 *    that namespace, so expressions cannot see each other's assignments
 *    (walrus) and cannot pollute the pythonfile's namespace.
 *  - nametrans, folderfilter, folderincludes, foldersort and the [mbnames]
 *    sort_keyfunc and folderfilter also see the module 're' (it overrides a
 *    pythonfile's own 're').  No other option gets 're' and none gets 'os':
 *    an expression using os must come with a pythonfile that imports it.
 *  - Values are what ConfigParser hands to eval(): each line stripped of
 *    leading and trailing blanks, lines joined with '\n'.  pyeval_compile()
 *    applies the same normalisation, so it accepts the text whether or not
 *    the config reader already stripped continuation lines.
 *
 * The options and what their value must be:
 *
 *   option                        evaluate with          result
 *   remotepasseval                pyeval_eval_str()      str or bytes (secret)
 *   remoteusereval                pyeval_eval_str()      str or bytes
 *   remotehosteval                pyeval_eval_str()      str or bytes
 *   remoteporteval                pyeval_eval_long()     int (or digits str)
 *   oauth2_{access_token,refresh_token,client_id,client_secret}_eval
 *                                 pyeval_eval_str()      str or None (unset)
 *   folderincludes, idlefolders   pyeval_eval_strlist()  iterable of str
 *   folderfilter                  pyeval_call_bool()     f(folder) -> truthy
 *   nametrans                     pyeval_call_str()      f(folder) -> str
 *   foldersort                    pyeval_sort_cmp()      cmp(a, b) -> int
 *   copy_ignore_eval              pyeval_call_uids()     f(folder) -> [uid]
 *   newmail_hook                  pyeval_call_void()     f()
 *   [mbnames] folderfilter        pyeval_call_bool()     f(account, folder)
 *   [mbnames] sort_keyfunc        pyeval_sort_key()      f(dict) -> key
 *   [mbnames] header, sep, footer pyeval_eval_str()      str
 *
 * pyeval_option_flags() gives the flags OfflineIMAP's behaviour implies for
 * each of these option names; callers pass its result to pyeval_compile().
 *
 * Calling sequence (main thread, while loading the config):
 *
 *   if (config has any expression or a pythonfile)
 *           pyeval_init(pythonfile_or_NULL, &err);
 *   pyeval_compile(text, "folderfilter", "rc:12",
 *                  pyeval_option_flags("folderfilter"), &expr, &err);
 *   ... any thread, any number of times ...
 *   pyeval_call_bool(expr, &folder, 1, &keep, &err);
 *   ... after every worker thread has been joined ...
 *   pyeval_expr_free(expr);
 *   pyeval_shutdown();
 *
 * Threads: pyeval_init() and pyeval_shutdown() must be called from the
 * same thread (the main thread) while no other thread uses pyeval.  Every
 * other function may be called from any thread at any time in between:
 * each takes the GIL for the duration of the call (so Python code from
 * parallel folders runs one at a time, as in OfflineIMAP).  A struct
 * pyeval_expr may be shared between threads.
 *
 * Errors: an expression that fails to compile, raises or gives the wrong
 * type is OIM_E_PYTHON (OIM_E_LIMIT past a limit below) with severity
 * OIM_SEV_ACCOUNT and a one-line message "<where>: <option>:
 * <ExceptionType>: <message>[ (at file:line in function)]" or "<where>:
 * <option>: expected <type>, got <type>" ("<where>: " left out when NULL);
 * "at" names the innermost frame when it is in a file (the pythonfile).
 * pyeval_init() failures are OIM_SEV_FATAL, "pythonfile <path>: ...".
 * With "-d config" the
 * Python traceback is logged too, as frames "file:line in function" only
 * (never source text, which might hold a password).
 *
 * Secrets: expressions compiled with PYEVAL_F_SECRET (remotepasseval, the
 * oauth2 token and secret options) give results that must be freed with
 * oim_free_secret() and never logged; error messages never contain a
 * returned value.  The Python string object is wiped too when pyeval holds
 * its only reference (best effort: copies the user's code made are beyond
 * reach).  When a secret expression itself raises, only the exception
 * type is reported (a bare password written without quotes would come
 * back in NameError's message); an exception raised inside a function of
 * the pythonfile keeps its message, which the user's code wrote.
 *
 * Environment: the interpreter is isolated from PYTHON* variables, user
 * site-packages and the current directory, installs no signal handlers,
 * writes no .pyc files, runs in UTF-8 mode, and takes its standard library
 * from the prefix libpython3 was built for (OIMAP_PYTHON_PREFIX, from
 * pkg-config), never from a python3 found on PATH (pyenv, venvs).  The
 * system site-packages (Debian's dist-packages) are importable.
 *
 * Built without libpython3 (meson -Dpython=disabled) every function exists;
 * pyeval_available() is false and pyeval_init()/pyeval_compile() fail with
 * OIM_E_PYTHON saying oimap was built without Python support.
 */
#ifndef OIMAP_PYEVAL_H
#define OIMAP_PYEVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../util/err.h"

/* Limits. */
#define PYEVAL_MAX_PYTHONFILE (4u * 1024 * 1024) /* bytes in the pythonfile */
#define PYEVAL_MAX_EXPR	      (1024u * 1024)	 /* bytes in one expression */
#define PYEVAL_MAX_RESULT     (1024u * 1024) /* bytes in one result string */
#define PYEVAL_MAX_LIST	      100000	     /* items in a list result */
#define PYEVAL_MAX_ARGS	      8		     /* arguments to a callable */

enum pyeval_flags {
	PYEVAL_F_RE = 1 << 0,	    /* the namespace also holds 're' */
	PYEVAL_F_SECRET = 1 << 1,   /* the result is a credential */
	PYEVAL_F_NONE_OK = 1 << 2,  /* str result may be None: "not set" */
	PYEVAL_F_STRIP_NL = 1 << 3, /* strip '\n' at both ends of a str */
};

/* True when oimap was built with libpython3. */
bool pyeval_available(void);

/*
 * The flags OfflineIMAP's handling of 'option' implies (case-insensitive
 * option name, as in the table above): PYEVAL_F_RE for nametrans,
 * folderfilter, folderincludes, foldersort, sort_keyfunc; PYEVAL_F_SECRET
 * for remotepasseval and oauth2_*_eval; PYEVAL_F_NONE_OK|PYEVAL_F_STRIP_NL
 * for oauth2_*_eval.  0 for anything else.
 */
unsigned pyeval_option_flags(const char *option);

/*
 * Start the interpreter and run the pythonfile ('~' and $VAR expanded as
 * os.path.expanduser/expandvars do; NULL for none).  Once per process:
 * a second call is a no-op returning 0 when 'pythonfile' is the same,
 * an error otherwise.  A missing or unreadable file, a file over
 * PYEVAL_MAX_PYTHONFILE, or an exception while running it is an error
 * naming the file and (for an exception) the Python message.  After a
 * failed call, pyeval stays unusable until pyeval_shutdown().
 */
int pyeval_init(const char *pythonfile, struct oim_err *err) OIM_WUR;
bool pyeval_initialized(void);

/*
 * Stop the interpreter (Py_FinalizeEx).  Call from the thread that called
 * pyeval_init(), after freeing every expression and joining every thread
 * that used pyeval.  Harmless when pyeval_init() was never called.
 */
void pyeval_shutdown(void);

struct pyeval_expr;

/*
 * Compile 'text' (the option's value as the config reader gives it) as a
 * Python expression.  'option' (e.g. "folderfilter") and 'where' (e.g.
 * "~/.offlineimaprc:12", may be NULL) are copied and name the expression
 * in every error.  'flags' is a mask of enum pyeval_flags.  A syntax error
 * fails here; nothing is evaluated yet.  Needs pyeval_init() first.
 * On success *expr_r is owned by the caller (pyeval_expr_free()).
 */
int pyeval_compile(const char *text, const char *option, const char *where,
		   unsigned flags, struct pyeval_expr **expr_r,
		   struct oim_err *err) OIM_WUR;
/* NULL is fine.  Call before pyeval_shutdown() (after it, only the C
 * memory is released). */
void pyeval_expr_free(struct pyeval_expr *expr);

/*
 * Value evaluations: each call evaluates the expression anew (a password
 * command runs every time; cache the result if that matters).
 *
 * pyeval_eval_str: str, or bytes decoded as UTF-8; with PYEVAL_F_NONE_OK
 * None gives *out_r = NULL.  *out_r is owned by the caller: free() it, or
 * oim_free_secret() for PYEVAL_F_SECRET.  A NUL character or more than
 * PYEVAL_MAX_RESULT bytes is an error.
 */
int pyeval_eval_str(struct pyeval_expr *expr, char **out_r,
		    struct oim_err *err) OIM_WUR;
/* An int (not bool) fitting in a long, or a str of decimal digits. */
int pyeval_eval_long(struct pyeval_expr *expr, long *out_r,
		     struct oim_err *err) OIM_WUR;
/*
 * Any iterable of str (list, tuple, set) other than a str or bytes itself,
 * at most PYEVAL_MAX_LIST items.  *list_r is a NULL-terminated array of
 * malloc'd UTF-8 strings, *n_r its length (n_r may be NULL); free with
 * pyeval_strlist_free().
 */
int pyeval_eval_strlist(struct pyeval_expr *expr, char ***list_r, size_t *n_r,
			struct oim_err *err) OIM_WUR;
void pyeval_strlist_free(char **list);

/*
 * Callable evaluations: the expression is evaluated once, on first use,
 * and must give a callable (as OfflineIMAP evaluates nametrans once per
 * repository); later calls reuse it.  Arguments are UTF-8 strings passed
 * as str.
 *
 * pyeval_call_bool: f(*argv) (argc <= PYEVAL_MAX_ARGS), its truth value.
 */
int pyeval_call_bool(struct pyeval_expr *expr, const char *const *argv,
		     size_t argc, bool *out_r, struct oim_err *err) OIM_WUR;
/* f(arg) must return str; *out_r is malloc'd, owned by the caller. */
int pyeval_call_str(struct pyeval_expr *expr, const char *arg, char **out_r,
		    struct oim_err *err) OIM_WUR;
/*
 * copy_ignore_eval: f(folder) returns None (*uids_r = NULL, *n_r = 0) or an
 * iterable of ints in 1..2^32-1 (UIDs).  *uids_r is malloc'd.
 */
int pyeval_call_uids(struct pyeval_expr *expr, const char *folder,
		     uint32_t **uids_r, size_t *n_r,
		     struct oim_err *err) OIM_WUR;
/* newmail_hook: f() with no arguments, result ignored. */
int pyeval_call_void(struct pyeval_expr *expr, struct oim_err *err) OIM_WUR;

/*
 * foldersort: sort 'names' (n of them) with cmp(a, b) as OfflineIMAP does
 * (Python's stable sort through functools.cmp_to_key).  order_r must hold
 * n indexes; it receives the indexes of 'names' in sorted order.
 */
int pyeval_sort_cmp(struct pyeval_expr *expr, const char *const *names,
		    size_t n, size_t *order_r, struct oim_err *err) OIM_WUR;
/*
 * [mbnames] sort_keyfunc: items are dicts with string values; item i has
 * keys[k] = values[i * nkeys + k] for k < nkeys (OfflineIMAP passes
 * accountname, foldername, localfolders).  Sorted stably by f(dict) as
 * Python's list.sort(key=f); order_r as for pyeval_sort_cmp().
 */
int pyeval_sort_key(struct pyeval_expr *expr, const char *const *keys,
		    size_t nkeys, const char *const *values, size_t n,
		    size_t *order_r, struct oim_err *err) OIM_WUR;

#endif
