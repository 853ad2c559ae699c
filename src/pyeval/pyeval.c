/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pyeval.c - embedded CPython for the Python expressions of a config.
 *
 * Built into the module oimap-python.so (see pyeval-module.c), which
 * pyeval-shim.c loads the first time a config needs Python: a run
 * without expressions never loads libpython.
 *
 * Python.h must come before any system header (it sets feature macros),
 * hence before pyeval.h.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <frameobject.h>

#include "pyeval.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../util/log.h"
#include "../util/strbuf.h"
#include "../util/util.h"



#ifndef OIMAP_PYTHON_PREFIX
#define OIMAP_PYTHON_PREFIX "/usr"
#endif

/* Longest exception text we put in a message (the rest is cut). */
#define PYEVAL_MAX_EXC_TEXT 600

/*
 * Interpreter state.  g_lock serialises init/shutdown against each other
 * (they are documented as main-thread only; the lock makes a misuse a
 * clean error rather than a race).  Everything Python is under the GIL.
 */
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static bool g_interp_up;	 /* Py_InitializeFromConfig succeeded */
static bool g_ready;		 /* namespace loaded: expressions usable */
static unsigned g_generation;	 /* bumped by each shutdown */
static char *g_pythonfile;	 /* as given to pyeval_init(), or NULL */
static PyThreadState *g_main_ts; /* saved by PyEval_SaveThread() */
static PyObject *g_ns;		 /* the pythonfile's namespace (dict) */
static PyObject *g_re;		 /* module re */
static PyObject *g_sort_cmp;	 /* helpers below */
static PyObject *g_sort_key;

/*
 * Sorting the way OfflineIMAP sorts: list.sort() with a key, which for
 * foldersort is a cmp function wrapped like its cmp2key().  Doing it in
 * Python keeps the exact semantics (stability, which comparisons happen,
 * exceptions from the user's function).
 */
static const char helpers_src[] =
    "import functools\n"
    "def sort_cmp(f, names):\n"
    "    k = functools.cmp_to_key(lambda a, b: f(names[a], names[b]))\n"
    "    return sorted(range(len(names)), key=k)\n"
    "def sort_key(f, items):\n"
    "    return sorted(range(len(items)), key=lambda i: f(items[i]))\n";

struct pyeval_expr {
	char *option;
	char *where; /* may be NULL */
	unsigned flags;
	unsigned generation;
	PyObject *code;
	PyObject *callable; /* evaluated on first call_* use */
};

bool pyeval_initialized(void)
{
	pthread_mutex_lock(&g_lock);
	bool r = g_ready;
	pthread_mutex_unlock(&g_lock);
	return r;
}

/* ---- paths ---- */

/* os.path.expanduser: "~" and "~user" at the start. */
static char *expand_user(const char *path)
{
	if (path[0] != '~')
		return xstrdup(path);
	const char *rest = strchr(path, '/');
	size_t ulen = rest ? (size_t)(rest - path - 1) : strlen(path + 1);
	const char *home = NULL;
	if (!ulen) {
		home = getenv("HOME");
		if (!home || !*home) {
			struct passwd *pw = getpwuid(getuid());
			home = pw ? pw->pw_dir : NULL;
		}
	} else {
		char *user = xstrndup(path + 1, ulen);
		struct passwd *pw = getpwnam(user);
		free(user);
		home = pw ? pw->pw_dir : NULL;
	}
	if (!home)
		return xstrdup(path);
	return xasprintf("%s%s", home, rest ? rest : "");
}

/* os.path.expandvars: $name and ${name}; unknown variables stay as they
 * are. */
static char *expand_vars(const char *path)
{
	struct strbuf sb;
	strbuf_init(&sb, strlen(path) + 1);
	for (const char *p = path; *p;) {
		if (*p != '$') {
			strbuf_addch(&sb, *p++);
			continue;
		}
		const char *name = p + 1, *end;
		bool brace = *name == '{';
		if (brace) {
			name++;
			end = strchr(name, '}');
			if (!end) {
				strbuf_addstr(&sb, p);
				break;
			}
		} else {
			end = name;
			while (isalnum((unsigned char)*end) || *end == '_')
				end++;
		}
		char *var = xstrndup(name, (size_t)(end - name));
		const char *val = *var ? getenv(var) : NULL;
		free(var);
		const char *next = brace ? end + 1 : end;
		if (val)
			strbuf_addstr(&sb, val);
		else
			strbuf_add(&sb, p, (size_t)(next - p));
		p = next;
	}
	return strbuf_detach(&sb, NULL);
}

static char *expand_path(const char *path)
{
	char *u = expand_user(path);
	char *v = expand_vars(u);
	free(u);
	return v;
}

/* Read a whole file, at most 'max' bytes, NUL-terminated. */
static int read_file(const char *path, size_t max, char **buf_r,
		     struct oim_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return oim_error(err, OIM_SEV_FATAL, OIM_E_PYTHON,
				 "pythonfile %s: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		return oim_error(err, OIM_SEV_FATAL, OIM_E_PYTHON,
				 "pythonfile %s: %s", path, strerror(e));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return oim_error(err, OIM_SEV_FATAL, OIM_E_PYTHON,
				 "pythonfile %s: not a regular file", path);
	}
	if ((uint64_t)st.st_size > max) {
		close(fd);
		return oim_error(err, OIM_SEV_FATAL, OIM_E_LIMIT,
				 "pythonfile %s: larger than %zu bytes", path,
				 max);
	}
	struct strbuf sb;
	strbuf_init(&sb, (size_t)st.st_size + 1);
	char chunk[8192];
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			close(fd);
			strbuf_release(&sb);
			return oim_error(err, OIM_SEV_FATAL, OIM_E_PYTHON,
					 "pythonfile %s: %s", path,
					 strerror(e));
		}
		if (n == 0)
			break;
		if (sb.len + (size_t)n > max) {
			close(fd);
			strbuf_release(&sb);
			return oim_error(err, OIM_SEV_FATAL, OIM_E_LIMIT,
					 "pythonfile %s: larger than %zu bytes",
					 path, max);
		}
		strbuf_add(&sb, chunk, (size_t)n);
	}
	close(fd);
	if (memchr(sb.buf, '\0', sb.len)) {
		strbuf_release(&sb);
		return oim_error(err, OIM_SEV_FATAL, OIM_E_PYTHON,
				 "pythonfile %s: contains a NUL byte", path);
	}
	*buf_r = strbuf_detach(&sb, NULL);
	return 0;
}

/* ---- exceptions ---- */

/* Copy 'src' into 'dst' as one line: control characters become spaces,
 * and the text is cut (on a UTF-8 character boundary) to fit. */
static void one_line(char *dst, size_t size, const char *src, size_t len)
{
	if (!size)
		return;
	if (len > size - 1) {
		len = size - 1;
		while (len && ((unsigned char)src[len] & 0xc0) == 0x80)
			len--;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)src[i];
		dst[i] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
	}
	dst[len] = '\0';
}

/* UTF-8 of str(o) as one line; never fails, clears any new exception. */
static void obj_text(PyObject *o, char *dst, size_t size)
{
	PyObject *s = o ? PyObject_Str(o) : NULL;
	PyObject *b =
	    s ? PyUnicode_AsEncodedString(s, "utf-8", "replace") : NULL;
	if (b) {
		one_line(dst, size, PyBytes_AS_STRING(b),
			 (size_t)PyBytes_GET_SIZE(b));
	} else {
		PyErr_Clear();
		one_line(dst, size, "<unprintable>", 13);
	}
	Py_XDECREF(b);
	Py_XDECREF(s);
}

static void frame_where(PyTracebackObject *tb, char *dst, size_t size)
{
	PyCodeObject *code = PyFrame_GetCode(tb->tb_frame);
	char file[512], func[128];
	obj_text(code->co_filename, file, sizeof(file));
	obj_text(code->co_name, func, sizeof(func));
	snprintf(dst, size, "%s:%d in %s", file, tb->tb_lineno, func);
	Py_DECREF(code);
}

/*
 * Take the pending exception: "Type: message" into 'dst', plus, if the
 * innermost frame is in a file (the pythonfile, a library), " (at
 * file:line in func)".  With -d config, log every frame.  Clears the
 * exception.
 *
 * 'secret': the expression computes a credential.  When the expression
 * itself raised, its message may quote the expression's text, and users
 * do write a bare password there ("remotepasseval = hunter2" gives
 * "name 'hunter2' is not defined"), so only the type is kept.  Messages
 * raised inside the user's functions are theirs and are kept.
 */
static void take_exception(const char *ctx, bool secret, char *dst, size_t size)
{
	PyObject *type, *value, *tb;
#if PY_VERSION_HEX >= 0x030C0000
	value = PyErr_GetRaisedException();
	type = value ? Py_NewRef((PyObject *)Py_TYPE(value)) : NULL;
	tb = value ? PyException_GetTraceback(value) : NULL;
#else
	PyErr_Fetch(&type, &value, &tb);
	PyErr_NormalizeException(&type, &value, &tb);
#endif
	if (!type) {
		one_line(dst, size, "unknown error", 13);
		return;
	}
	const char *tname =
	    PyType_Check(type) ? ((PyTypeObject *)type)->tp_name : "exception";
	char msg[PYEVAL_MAX_EXC_TEXT];
	obj_text(value, msg, sizeof(msg));

	char at[720] = "";
	bool in_expr = false;
	if (tb && PyTraceBack_Check(tb)) {
		PyTracebackObject *t = (PyTracebackObject *)tb;
		bool dbg = log_debug_enabled(OIM_DBG_CONFIG);
		if (dbg)
			log_debug(
			    OIM_DBG_CONFIG,
			    "%s: Python traceback (innermost last):", ctx);
		for (;; t = t->tb_next) {
			char w[700];
			frame_where(t, w, sizeof(w));
			if (dbg)
				log_debug(OIM_DBG_CONFIG, "  %s", w);
			if (!t->tb_next) {
				/* "<option>" is the expression itself */
				in_expr = w[0] == '<';
				if (!in_expr)
					snprintf(at, sizeof(at), " (at %s)", w);
				break;
			}
		}
	}
	if (secret && in_expr)
		snprintf(dst, size,
			 "%s (message withheld: the expression gives a "
			 "secret)",
			 tname);
	else if (*msg)
		snprintf(dst, size, "%s: %s%s", tname, msg, at);
	else
		snprintf(dst, size, "%s%s", tname, at);
	Py_XDECREF(type);
	Py_XDECREF(value);
	Py_XDECREF(tb);
}

static int expr_prefix(const struct pyeval_expr *e, char *dst, size_t size)
{
	if (e->where)
		return snprintf(dst, size, "%s: %s", e->where, e->option);
	return snprintf(dst, size, "%s", e->option);
}

/* The pending Python exception as this expression's error. */
static int py_fail(const struct pyeval_expr *e, struct oim_err *err)
{
	char ctx[600], exc[OIM_ERR_MSG_MAX];
	expr_prefix(e, ctx, sizeof(ctx));
	take_exception(ctx, e->flags & PYEVAL_F_SECRET, exc, sizeof(exc));
	return oim_error(err, OIM_SEV_ACCOUNT, OIM_E_PYTHON, "%s: %s", ctx,
			 exc);
}

/* A result of the wrong type.  Names the type, never the value (which may
 * be a password). */
static int type_fail(const struct pyeval_expr *e, const char *expected,
		     PyObject *got, struct oim_err *err)
{
	char ctx[600];
	expr_prefix(e, ctx, sizeof(ctx));
	return oim_error(err, OIM_SEV_ACCOUNT, OIM_E_PYTHON,
			 "%s: expected %s, got %s", ctx, expected,
			 Py_TYPE(got)->tp_name);
}

static int expr_fail(const struct pyeval_expr *e, enum oim_err_kind kind,
		     const char *what, struct oim_err *err)
{
	char ctx[600];
	expr_prefix(e, ctx, sizeof(ctx));
	return oim_error(err, OIM_SEV_ACCOUNT, kind, "%s: %s", ctx, what);
}

/* ---- secrets ---- */

/*
 * Overwrite the text of a str or bytes we are about to release, if ours is
 * the only reference (so nobody can observe it) and it is not interned
 * (the interned table would then hold a corrupted key).  Best effort.
 */
static void wipe_obj(PyObject *o)
{
	if (!o || Py_REFCNT(o) != 1)
		return;
	if (PyBytes_CheckExact(o)) {
		oim_wipe(PyBytes_AS_STRING(o), (size_t)PyBytes_GET_SIZE(o));
	} else if (PyUnicode_CheckExact(o) && !PyUnicode_CHECK_INTERNED(o)) {
		oim_wipe(PyUnicode_DATA(o),
			 (size_t)PyUnicode_GET_LENGTH(o) * PyUnicode_KIND(o));
	}
}

static void release(const struct pyeval_expr *e, PyObject *o)
{
	if (o && (e->flags & PYEVAL_F_SECRET))
		wipe_obj(o);
	Py_XDECREF(o);
}

/* ---- the GIL ---- */

static PyGILState_STATE gil_take(const struct pyeval_expr *e)
{
	pthread_mutex_lock(&g_lock);
	bool ok = g_ready && e->generation == g_generation;
	pthread_mutex_unlock(&g_lock);
	if (!ok)
		BUG("pyeval: expression '%s' used after pyeval_shutdown()",
		    e->option);
	return PyGILState_Ensure();
}

/* ---- init and shutdown ---- */

static int status_fail(PyStatus st, struct oim_err *err)
{
	return oim_error(err, OIM_SEV_FATAL, OIM_E_PYTHON,
			 "cannot start the Python interpreter: %s%s%s",
			 st.func ? st.func : "", st.func ? ": " : "",
			 st.err_msg ? st.err_msg : "unknown error");
}

static int start_interpreter(struct oim_err *err)
{
	/*
	 * Isolated: no PYTHON* variables, no user site-packages, no script
	 * directory or cwd on sys.path.  UTF-8 mode, so open() and
	 * subprocess in the user's code do not depend on a C locale we did
	 * not set; we do not touch the process locale (configure_locale=0).
	 */
	PyPreConfig pre;
	PyPreConfig_InitIsolatedConfig(&pre);
	pre.utf8_mode = 1;
	PyStatus st = Py_PreInitialize(&pre);
	if (PyStatus_Exception(st))
		return status_fail(st, err);

	PyConfig cfg;
	PyConfig_InitIsolatedConfig(&cfg);
	cfg.install_signal_handlers = 0; /* oimap owns SIGINT, SIGPIPE... */
	cfg.site_import = 1;		 /* Debian's dist-packages */
	cfg.user_site_directory = 0;
	cfg.write_bytecode = 0; /* no __pycache__ in users' dirs */
	cfg.parse_argv = 0;
	/*
	 * Without these CPython looks for "python3" on PATH to find its
	 * prefix and could pick a pyenv or venv interpreter's standard
	 * library, whose extension modules do not match our libpython.
	 */
	st = PyConfig_SetBytesString(&cfg, &cfg.home, OIMAP_PYTHON_PREFIX);
	if (!PyStatus_Exception(st))
		st =
		    PyConfig_SetBytesString(&cfg, &cfg.program_name,
					    OIMAP_PYTHON_PREFIX "/bin/python3");
	if (!PyStatus_Exception(st))
		st = Py_InitializeFromConfig(&cfg);
	PyConfig_Clear(&cfg);
	if (PyStatus_Exception(st))
		return status_fail(st, err);
	return 0;
}

/* With the GIL: re, builtins, the sort helpers. */
static int load_basics(struct oim_err *err)
{
	char exc[OIM_ERR_MSG_MAX];
	Py_CLEAR(g_re);
	Py_CLEAR(g_sort_cmp);
	g_re = PyImport_ImportModule("re");
	if (!g_re)
		goto fail;
	PyObject *d = PyDict_New();
	if (!d)
		goto fail;
	PyObject *builtins = PyEval_GetBuiltins();
	PyObject *r = NULL;
	if (builtins && !PyDict_SetItemString(d, "__builtins__", builtins))
		r = PyRun_String(helpers_src, Py_file_input, d, d);
	if (r) {
		g_sort_cmp = PyDict_GetItemString(d, "sort_cmp");
		g_sort_key = PyDict_GetItemString(d, "sort_key");
		Py_XINCREF(g_sort_cmp);
		Py_XINCREF(g_sort_key);
	}
	Py_XDECREF(r);
	Py_DECREF(d);
	if (!g_sort_cmp || !g_sort_key)
		goto fail;
	return 0;
fail:
	take_exception("pyeval", false, exc, sizeof(exc));
	return oim_error(err, OIM_SEV_FATAL, OIM_E_PYTHON,
			 "cannot set up the Python interpreter: %s", exc);
}

/*
 * With the GIL: build g_ns.  Like LocalEval.__init__: run the file as a
 * module named "<none>" (registered in sys.modules, as imp.load_module
 * does, so dataclasses and pickle find it) and copy dir(module).
 */
static int load_namespace(const char *pythonfile, struct oim_err *err)
{
	char exc[OIM_ERR_MSG_MAX];
	PyObject *ns = PyDict_New();
	if (!ns)
		goto pyfail;
	if (!pythonfile) {
		if (PyDict_SetItemString(ns, "__builtins__",
					 PyEval_GetBuiltins()) < 0)
			goto pyfail;
		g_ns = ns;
		return 0;
	}

	char *path = expand_path(pythonfile);
	char *src = NULL;
	if (read_file(path, PYEVAL_MAX_PYTHONFILE, &src, err) < 0) {
		free(path);
		Py_DECREF(ns);
		return -1;
	}
	PyObject *mod = PyModule_New("<none>");
	PyObject *code = NULL, *res = NULL, *names = NULL;
	int ret = -1;
	if (!mod)
		goto out;
	PyObject *md = PyModule_GetDict(mod); /* borrowed */
	PyObject *file = PyUnicode_DecodeFSDefault(path);
	if (!file)
		goto out;
	int r = PyDict_SetItemString(md, "__file__", file);
	Py_DECREF(file);
	if (r < 0 ||
	    PyDict_SetItemString(md, "__builtins__", PyEval_GetBuiltins()) <
		0 ||
	    PyDict_SetItemString(PyImport_GetModuleDict(), "<none>", mod) < 0)
		goto out;
	code = Py_CompileStringExFlags(src, path, Py_file_input, NULL, -1);
	if (!code)
		goto out;
	res = PyEval_EvalCode(code, md, md);
	if (!res)
		goto out;
	names = PyObject_Dir(mod);
	if (!names)
		goto out;
	for (Py_ssize_t i = 0; i < PyList_GET_SIZE(names); i++) {
		PyObject *name = PyList_GET_ITEM(names, i);
		PyObject *val = PyObject_GetAttr(mod, name);
		if (!val || PyDict_SetItem(ns, name, val) < 0) {
			Py_XDECREF(val);
			goto out;
		}
		Py_DECREF(val);
	}
	ret = 0;
out:
	if (ret < 0) {
		char ctx[600];
		snprintf(ctx, sizeof(ctx), "pythonfile %s", path);
		take_exception(ctx, false, exc, sizeof(exc));
		oim_error(err, OIM_SEV_FATAL, OIM_E_PYTHON, "pythonfile %s: %s",
			  path, exc);
		Py_DECREF(ns);
		/* a half-run module must not linger for a retry */
		if (PyDict_DelItemString(PyImport_GetModuleDict(), "<none>"))
			PyErr_Clear();
	} else {
		g_ns = ns;
	}
	Py_XDECREF(names);
	Py_XDECREF(res);
	Py_XDECREF(code);
	Py_XDECREF(mod);
	free(src);
	free(path);
	return ret;
pyfail:
	Py_XDECREF(ns);
	take_exception("pyeval", false, exc, sizeof(exc));
	return oim_error(err, OIM_SEV_FATAL, OIM_E_PYTHON,
			 "cannot set up the Python namespace: %s", exc);
}

static bool same_file(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return !strcmp(a, b);
}

int pyeval_init(const char *pythonfile, struct oim_err *err)
{
	int ret = 0;
	pthread_mutex_lock(&g_lock);
	if (g_ready) {
		if (!same_file(pythonfile, g_pythonfile))
			ret = oim_error(err, OIM_SEV_FATAL, OIM_E_PYTHON,
					"pythonfile %s: Python is already set "
					"up with %s",
					pythonfile ? pythonfile : "(none)",
					g_pythonfile ? g_pythonfile
						     : "no pythonfile");
		goto out;
	}
	if (!g_interp_up) {
		if (Py_IsInitialized()) {
			ret = oim_error(err, OIM_SEV_FATAL, OIM_E_PYTHON,
					"Python was started by someone else");
			goto out;
		}
		ret = start_interpreter(err);
		if (ret < 0)
			goto out;
		g_interp_up = true;
		/* from now on the GIL is taken per call, in any thread */
		g_main_ts = PyEval_SaveThread();
	}
	/* a failed call may be retried: each step redoes what is missing */
	PyGILState_STATE gs = PyGILState_Ensure();
	ret = g_sort_key ? 0 : load_basics(err);
	if (!ret)
		ret = load_namespace(pythonfile, err);
	PyGILState_Release(gs);
	if (ret < 0)
		goto out;
	g_pythonfile = pythonfile ? xstrdup(pythonfile) : NULL;
	g_ready = true;
	log_debug(OIM_DBG_CONFIG, "Python %s started%s%s", Py_GetVersion(),
		  pythonfile ? ", loaded " : "", pythonfile ? pythonfile : "");
out:
	pthread_mutex_unlock(&g_lock);
	return ret;
}

void pyeval_shutdown(void)
{
	pthread_mutex_lock(&g_lock);
	if (!g_interp_up) {
		pthread_mutex_unlock(&g_lock);
		return;
	}
	PyEval_RestoreThread(g_main_ts);
	g_main_ts = NULL;
	Py_CLEAR(g_ns);
	Py_CLEAR(g_re);
	Py_CLEAR(g_sort_cmp);
	Py_CLEAR(g_sort_key);
	if (Py_FinalizeEx() < 0)
		log_warn("Python: error while shutting down the interpreter");
	g_interp_up = false;
	g_ready = false;
	g_generation++;
	free(g_pythonfile);
	g_pythonfile = NULL;
	pthread_mutex_unlock(&g_lock);
}

/* ---- compile ---- */

/*
 * ConfigParser strips every line of a value and joins them with '\n';
 * do the same, so that indentation a reader kept on continuation lines
 * does not matter.  eval() itself also strips leading blanks.
 */
static char *normalise(const char *text)
{
	struct strbuf sb;
	strbuf_init(&sb, strlen(text) + 1);
	const char *p = text;
	for (;;) {
		const char *nl = strchr(p, '\n');
		const char *end = nl ? nl : p + strlen(p);
		while (p < end && isspace((unsigned char)*p))
			p++;
		const char *e = end;
		while (e > p && isspace((unsigned char)e[-1]))
			e--;
		strbuf_add(&sb, p, (size_t)(e - p));
		if (!nl)
			break;
		strbuf_addch(&sb, '\n');
		p = nl + 1;
	}
	strbuf_rtrim(&sb);
	return strbuf_detach(&sb, NULL);
}

int pyeval_compile(const char *text, const char *option, const char *where,
		   unsigned flags, struct pyeval_expr **expr_r,
		   struct oim_err *err)
{
	*expr_r = NULL;
	struct pyeval_expr *e = xcalloc(1, sizeof(*e));
	e->option = xstrdup(option);
	e->where = where ? xstrdup(where) : NULL;
	e->flags = flags;

	pthread_mutex_lock(&g_lock);
	bool ok = g_ready;
	e->generation = g_generation;
	pthread_mutex_unlock(&g_lock);
	if (!ok)
		BUG("pyeval_compile(%s) before pyeval_init()", option);

	if (strlen(text) > PYEVAL_MAX_EXPR) {
		expr_fail(e, OIM_E_LIMIT,
			  "expression longer than "
			  "PYEVAL_MAX_EXPR bytes",
			  err);
		pyeval_expr_free(e);
		return -1;
	}
	char *src = normalise(text);
	char *filename = xasprintf("<%s>", option);
	PyGILState_STATE gs = PyGILState_Ensure();
	PyCompilerFlags cf = _PyCompilerFlags_INIT;
	cf.cf_flags = PyCF_SOURCE_IS_UTF8;
	e->code =
	    Py_CompileStringExFlags(src, filename, Py_eval_input, &cf, -1);
	int ret = 0;
	if (!e->code)
		ret = py_fail(e, err);
	PyGILState_Release(gs);
	free(filename);
	free(src);
	if (ret < 0) {
		pyeval_expr_free(e);
		return -1;
	}
	*expr_r = e;
	return 0;
}

void pyeval_expr_free(struct pyeval_expr *e)
{
	if (!e)
		return;
	pthread_mutex_lock(&g_lock);
	bool live = g_ready && e->generation == g_generation;
	pthread_mutex_unlock(&g_lock);
	if (live && (e->code || e->callable)) {
		PyGILState_STATE gs = PyGILState_Ensure();
		Py_CLEAR(e->callable);
		Py_CLEAR(e->code);
		PyGILState_Release(gs);
	}
	free(e->option);
	free(e->where);
	free(e);
}

/* ---- evaluation ---- */

/* eval(text, copy of the namespace [+ re]); new reference or NULL with
 * an exception set.  GIL held. */
static PyObject *expr_eval(const struct pyeval_expr *e)
{
	PyObject *globals = PyDict_Copy(g_ns);
	if (!globals)
		return NULL;
	if ((e->flags & PYEVAL_F_RE) &&
	    PyDict_SetItemString(globals, "re", g_re) < 0) {
		Py_DECREF(globals);
		return NULL;
	}
	PyObject *r = PyEval_EvalCode(e->code, globals, globals);
	Py_DECREF(globals);
	return r;
}

/* The callable, evaluated once.  GIL held.  Borrowed reference, or NULL
 * with err filled. */
static PyObject *expr_callable(struct pyeval_expr *e, struct oim_err *err)
{
	if (e->callable)
		return e->callable;
	PyObject *f = expr_eval(e);
	if (!f) {
		py_fail(e, err);
		return NULL;
	}
	if (!PyCallable_Check(f)) {
		type_fail(e, "a callable (e.g. a lambda)", f, err);
		Py_DECREF(f);
		return NULL;
	}
	e->callable = f;
	return f;
}

/* A C string as str; bytes that are not UTF-8 come through as surrogate
 * escapes, as os.listdir() gives them. */
static PyObject *c2py(const char *s)
{
	return PyUnicode_DecodeUTF8(s, (Py_ssize_t)strlen(s),
				    "surrogateescape");
}

/* str -> malloc'd UTF-8 (undoing surrogate escapes).  GIL held. */
static int py2c(const struct pyeval_expr *e, PyObject *s, char **out_r,
		size_t *len_r, struct oim_err *err)
{
	PyObject *b = PyUnicode_AsEncodedString(s, "utf-8", "surrogateescape");
	if (!b)
		return py_fail(e, err);
	int ret = 0;
	size_t len = (size_t)PyBytes_GET_SIZE(b);
	const char *p = PyBytes_AS_STRING(b);
	if (len > PYEVAL_MAX_RESULT)
		ret = expr_fail(e, OIM_E_LIMIT,
				"result longer than PYEVAL_MAX_RESULT bytes",
				err);
	else if (memchr(p, '\0', len))
		ret = expr_fail(e, OIM_E_PYTHON,
				"result contains a NUL character", err);
	else
		*out_r = xmemdup(p, len + 1);
	if (len_r)
		*len_r = len;
	release(e, b);
	return ret;
}

/* A str result (or bytes, decoded as OfflineIMAP decodes them). */
static int str_result(const struct pyeval_expr *e, PyObject *v, char **out_r,
		      struct oim_err *err)
{
	if (v == Py_None && (e->flags & PYEVAL_F_NONE_OK)) {
		*out_r = NULL;
		return 0;
	}
	PyObject *s = NULL;
	if (PyUnicode_Check(v)) {
		s = Py_NewRef(v);
	} else if (PyBytes_Check(v)) {
		s = PyUnicode_FromEncodedObject(v, "utf-8", "strict");
		if (!s)
			return py_fail(e, err);
	} else {
		return type_fail(
		    e, (e->flags & PYEVAL_F_NONE_OK) ? "str or None" : "str", v,
		    err);
	}
	size_t len = 0;
	char *out = NULL;
	int ret = py2c(e, s, &out, &len, err);
	release(e, s);
	if (ret < 0)
		return -1;
	if (e->flags & PYEVAL_F_STRIP_NL) {
		/* str.strip("\n"), as repository/IMAP.py does */
		size_t a = 0, b = len;
		while (a < b && out[a] == '\n')
			a++;
		while (b > a && out[b - 1] == '\n')
			b--;
		memmove(out, out + a, b - a);
		oim_wipe(out + (b - a), len - (b - a));
	}
	*out_r = out;
	return 0;
}

int pyeval_eval_str(struct pyeval_expr *e, char **out_r, struct oim_err *err)
{
	*out_r = NULL;
	PyGILState_STATE gs = gil_take(e);
	int ret;
	PyObject *v = expr_eval(e);
	if (!v)
		ret = py_fail(e, err);
	else
		ret = str_result(e, v, out_r, err);
	release(e, v);
	PyGILState_Release(gs);
	return ret;
}

int pyeval_eval_long(struct pyeval_expr *e, long *out_r, struct oim_err *err)
{
	PyGILState_STATE gs = gil_take(e);
	int ret = 0;
	PyObject *v = expr_eval(e);
	if (!v) {
		ret = py_fail(e, err);
	} else if (PyLong_Check(v) && !PyBool_Check(v)) {
		int overflow = 0;
		long l = PyLong_AsLongAndOverflow(v, &overflow);
		if (overflow)
			ret = expr_fail(e, OIM_E_PYTHON,
					"integer result out of range", err);
		else if (l == -1 && PyErr_Occurred())
			ret = py_fail(e, err);
		else
			*out_r = l;
	} else if (PyUnicode_Check(v)) {
		const char *s = PyUnicode_AsUTF8(v);
		if (!s)
			ret = py_fail(e, err);
		else if (oim_parse_long(s, out_r) < 0)
			ret = expr_fail(e, OIM_E_PYTHON,
					"expected int, got a str that is not "
					"a decimal number",
					err);
	} else {
		ret = type_fail(e, "int", v, err);
	}
	Py_XDECREF(v);
	PyGILState_Release(gs);
	return ret;
}

void pyeval_strlist_free(char **list)
{
	if (!list)
		return;
	for (char **p = list; *p; p++)
		free(*p);
	free(list);
}

int pyeval_eval_strlist(struct pyeval_expr *e, char ***list_r, size_t *n_r,
			struct oim_err *err)
{
	*list_r = NULL;
	if (n_r)
		*n_r = 0;
	PyGILState_STATE gs = gil_take(e);
	int ret = -1;
	char **list = NULL;
	size_t n = 0, alloc = 0;
	PyObject *it = NULL, *item = NULL;
	PyObject *v = expr_eval(e);
	if (!v) {
		py_fail(e, err);
		goto out;
	}
	/* any iterable, but a str would iterate as its characters */
	if (PyUnicode_Check(v) || PyBytes_Check(v) ||
	    !(it = PyObject_GetIter(v))) {
		PyErr_Clear();
		type_fail(e, "a list of str", v, err);
		goto out;
	}
	ALLOC_GROW(list, n, alloc);
	list[0] = NULL;
	while ((item = PyIter_Next(it))) {
		if (n >= PYEVAL_MAX_LIST) {
			expr_fail(e, OIM_E_LIMIT,
				  "list longer than PYEVAL_MAX_LIST items",
				  err);
			goto out;
		}
		if (!PyUnicode_Check(item)) {
			char what[64];
			snprintf(what, sizeof(what), "a list of str (item %zu)",
				 n);
			type_fail(e, what, item, err);
			goto out;
		}
		ALLOC_GROW(list, n + 1, alloc);
		if (py2c(e, item, &list[n], NULL, err) < 0)
			goto out;
		list[++n] = NULL;
		Py_CLEAR(item);
	}
	if (PyErr_Occurred()) {
		py_fail(e, err);
		goto out;
	}
	*list_r = list;
	list = NULL;
	if (n_r)
		*n_r = n;
	ret = 0;
out:
	pyeval_strlist_free(list);
	Py_XDECREF(item);
	Py_XDECREF(it);
	Py_XDECREF(v);
	PyGILState_Release(gs);
	return ret;
}

/* f(*argv); new reference or NULL with err filled.  GIL held. */
static PyObject *call(struct pyeval_expr *e, const char *const *argv,
		      size_t argc, struct oim_err *err)
{
	if (argc > PYEVAL_MAX_ARGS)
		BUG("pyeval: %zu arguments for %s", argc, e->option);
	PyObject *f = expr_callable(e, err);
	if (!f)
		return NULL;
	PyObject *args = PyTuple_New((Py_ssize_t)argc);
	if (!args)
		goto fail;
	for (size_t i = 0; i < argc; i++) {
		PyObject *a = c2py(argv[i]);
		if (!a) {
			Py_DECREF(args);
			goto fail;
		}
		PyTuple_SET_ITEM(args, (Py_ssize_t)i, a);
	}
	PyObject *r = PyObject_Call(f, args, NULL);
	Py_DECREF(args);
	if (!r)
		goto fail;
	return r;
fail:
	py_fail(e, err);
	return NULL;
}

int pyeval_call_bool(struct pyeval_expr *e, const char *const *argv,
		     size_t argc, bool *out_r, struct oim_err *err)
{
	PyGILState_STATE gs = gil_take(e);
	int ret = -1;
	PyObject *r = call(e, argv, argc, err);
	if (r) {
		int t = PyObject_IsTrue(r);
		if (t < 0) {
			py_fail(e, err);
		} else {
			*out_r = t;
			ret = 0;
		}
		Py_DECREF(r);
	}
	PyGILState_Release(gs);
	return ret;
}

int pyeval_call_str(struct pyeval_expr *e, const char *arg, char **out_r,
		    struct oim_err *err)
{
	*out_r = NULL;
	PyGILState_STATE gs = gil_take(e);
	int ret = -1;
	PyObject *r = call(e, &arg, 1, err);
	if (r) {
		if (PyUnicode_Check(r))
			ret = py2c(e, r, out_r, NULL, err);
		else
			ret = type_fail(e, "str", r, err);
		Py_DECREF(r);
	}
	PyGILState_Release(gs);
	return ret;
}

/* Iterate 'v' as ints in [lo, hi]; GIL held. */
static int int_list(struct pyeval_expr *e, PyObject *v, const char *what,
		    long long lo, long long hi, long long **out_r, size_t *n_r,
		    struct oim_err *err)
{
	*out_r = NULL;
	*n_r = 0;
	PyObject *it = PyObject_GetIter(v);
	if (!it) {
		PyErr_Clear();
		return type_fail(e, what, v, err);
	}
	long long *out = NULL;
	size_t n = 0, alloc = 0;
	PyObject *item;
	int ret = 0;
	while ((item = PyIter_Next(it))) {
		int overflow = 0;
		long long x = 0;
		if (!PyLong_Check(item) || PyBool_Check(item)) {
			ret = type_fail(e, what, item, err);
		} else {
			x = PyLong_AsLongLongAndOverflow(item, &overflow);
			if (x == -1 && PyErr_Occurred())
				ret = py_fail(e, err);
			else if (overflow || x < lo || x > hi)
				ret = expr_fail(e, OIM_E_PYTHON,
						"number out of range", err);
		}
		Py_DECREF(item);
		if (ret < 0)
			break;
		if (n >= PYEVAL_MAX_LIST) {
			ret = expr_fail(e, OIM_E_LIMIT,
					"list longer than PYEVAL_MAX_LIST "
					"items",
					err);
			break;
		}
		ALLOC_GROW(out, n, alloc);
		out[n++] = x;
	}
	if (!ret && PyErr_Occurred())
		ret = py_fail(e, err);
	Py_DECREF(it);
	if (ret < 0) {
		free(out);
		return -1;
	}
	*out_r = out;
	*n_r = n;
	return 0;
}

int pyeval_call_uids(struct pyeval_expr *e, const char *folder,
		     uint32_t **uids_r, size_t *n_r, struct oim_err *err)
{
	*uids_r = NULL;
	*n_r = 0;
	PyGILState_STATE gs = gil_take(e);
	int ret = -1;
	PyObject *r = call(e, &folder, 1, err);
	if (r == Py_None) {
		ret = 0;
	} else if (r) {
		long long *v;
		size_t n;
		ret = int_list(e, r, "None or a list of UIDs (int)", 1,
			       UINT32_MAX, &v, &n, err);
		if (!ret && n) {
			uint32_t *u = xreallocarray(NULL, n, sizeof(*u));
			for (size_t i = 0; i < n; i++)
				u[i] = (uint32_t)v[i];
			*uids_r = u;
			*n_r = n;
		}
		if (!ret)
			free(v);
	}
	Py_XDECREF(r);
	PyGILState_Release(gs);
	return ret;
}

int pyeval_call_void(struct pyeval_expr *e, struct oim_err *err)
{
	PyGILState_STATE gs = gil_take(e);
	PyObject *r = call(e, NULL, 0, err);
	Py_XDECREF(r);
	PyGILState_Release(gs);
	return r ? 0 : -1;
}

/* helper(f, items) -> list of indexes; checked to be a permutation. */
static int run_sort(struct pyeval_expr *e, PyObject *helper, PyObject *items,
		    size_t n, size_t *order_r, struct oim_err *err)
{
	PyObject *f = expr_callable(e, err);
	if (!f)
		return -1;
	PyObject *r = PyObject_CallFunctionObjArgs(helper, f, items, NULL);
	if (!r)
		return py_fail(e, err);
	long long *v;
	size_t got;
	int ret = int_list(e, r, "sort indexes", 0, n ? (long long)n - 1 : 0,
			   &v, &got, err);
	Py_DECREF(r);
	if (ret < 0)
		return -1;
	if (got != n)
		BUG("pyeval: sort helper gave %zu of %zu indexes", got, n);
	for (size_t i = 0; i < n; i++)
		order_r[i] = (size_t)v[i];
	free(v);
	return 0;
}

int pyeval_sort_cmp(struct pyeval_expr *e, const char *const *names, size_t n,
		    size_t *order_r, struct oim_err *err)
{
	PyGILState_STATE gs = gil_take(e);
	int ret = -1;
	PyObject *list = PyList_New((Py_ssize_t)n);
	if (!list)
		goto pyfail;
	for (size_t i = 0; i < n; i++) {
		PyObject *s = c2py(names[i]);
		if (!s)
			goto pyfail;
		PyList_SET_ITEM(list, (Py_ssize_t)i, s);
	}
	ret = run_sort(e, g_sort_cmp, list, n, order_r, err);
	goto out;
pyfail:
	ret = py_fail(e, err);
out:
	Py_XDECREF(list);
	PyGILState_Release(gs);
	return ret;
}

int pyeval_sort_key(struct pyeval_expr *e, const char *const *keys,
		    size_t nkeys, const char *const *values, size_t n,
		    size_t *order_r, struct oim_err *err)
{
	PyGILState_STATE gs = gil_take(e);
	int ret = -1;
	PyObject *list = PyList_New((Py_ssize_t)n);
	if (!list)
		goto pyfail;
	for (size_t i = 0; i < n; i++) {
		PyObject *d = PyDict_New();
		if (!d)
			goto pyfail;
		PyList_SET_ITEM(list, (Py_ssize_t)i, d);
		for (size_t k = 0; k < nkeys; k++) {
			PyObject *s = c2py(values[i * nkeys + k]);
			if (!s || PyDict_SetItemString(d, keys[k], s) < 0) {
				Py_XDECREF(s);
				goto pyfail;
			}
			Py_DECREF(s);
		}
	}
	ret = run_sort(e, g_sort_key, list, n, order_r, err);
	goto out;
pyfail:
	ret = py_fail(e, err);
out:
	Py_XDECREF(list);
	PyGILState_Release(gs);
	return ret;
}


