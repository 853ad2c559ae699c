/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pyeval/pyeval.h"
#include "util/err.h"
#include "util/log.h"
#include "util/util.h"

static void test_option_flags(void **state)
{
	assert_int_equal(pyeval_option_flags("nametrans"), PYEVAL_F_RE);
	assert_int_equal(pyeval_option_flags("FolderFilter"), PYEVAL_F_RE);
	assert_int_equal(pyeval_option_flags("folderincludes"), PYEVAL_F_RE);
	assert_int_equal(pyeval_option_flags("remotepasseval"),
			 PYEVAL_F_SECRET);
	assert_int_equal(pyeval_option_flags("remoteusereval"), 0);
	assert_int_equal(pyeval_option_flags("oauth2_refresh_token_eval"),
			 PYEVAL_F_SECRET | PYEVAL_F_NONE_OK |
			     PYEVAL_F_STRIP_NL);
	assert_int_equal(pyeval_option_flags("oauth2_client_id_eval"),
			 PYEVAL_F_NONE_OK | PYEVAL_F_STRIP_NL);
	assert_int_equal(pyeval_option_flags("copy_ignore_eval"), 0);
}

#ifndef OIMAP_HAVE_PYTHON

static void test_stub(void **state)
{
	struct oim_err err = OIM_ERR_INIT;
	struct pyeval_expr *e = (struct pyeval_expr *)&err;

	assert_false(pyeval_available());
	assert_int_equal(pyeval_init("~/.offlineimap.py", &err), -1);
	assert_int_equal(err.kind, OIM_E_PYTHON);
	assert_non_null(strstr(err.msg, "without Python support"));
	assert_non_null(strstr(err.msg, "~/.offlineimap.py"));
	assert_false(pyeval_initialized());

	oim_err_clear(&err);
	assert_int_equal(pyeval_compile("lambda f: True", "folderfilter",
					"rc:3", PYEVAL_F_RE, &e, &err),
			 -1);
	assert_null(e);
	assert_int_equal(err.kind, OIM_E_PYTHON);
	assert_non_null(strstr(err.msg, "rc:3: folderfilter"));
	assert_non_null(strstr(err.msg, "without Python support"));
	pyeval_expr_free(NULL);
	pyeval_shutdown();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_option_flags),
	    cmocka_unit_test(test_stub),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

#else /* OIMAP_HAVE_PYTHON */

#include <patchlevel.h> /* PY_MAJOR_VERSION */

static char tmpdir[] = "/tmp/oimap-pyeval-XXXXXX";

static char *tmp_path(const char *name)
{
	return xasprintf("%s/%s", tmpdir, name);
}

static void write_file(const char *name, const char *text)
{
	char *p = tmp_path(name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	free(p);
}

static const char pythonfile[] =
    "import os\n"
    "import subprocess\n"
    "\n"
    "def get_pass(account):\n"
    "    return {'work': 's3cret-' + account}.get(account, 'none')\n"
    "\n"
    "def get_bytes():\n"
    "    return b'bytes-pass'\n"
    "\n"
    "def fail(x):\n"
    "    raise FileNotFoundError(2, 'No such file or directory',\n"
    "                            '/nonexistent/' + x)\n"
    "\n"
    "def not_trash(name):\n"
    "    return not name.startswith('Trash')\n"
    "\n"
    "hook_calls = []\n"
    "def hook():\n"
    "    hook_calls.append(1)\n"
    "\n"
    "def reverse_cmp(a, b):\n"
    "    return (a < b) - (a > b)\n";

/* Ignored if the embedded interpreter honours no environment variable. */
static void poison_environment(void)
{
	char *fake = tmp_path("fakepy");
	char *bin = tmp_path("fakepy/bin");
	char *lib = tmp_path("fakepy/lib");
	char *stdlib = tmp_path("fakepy/lib/python3.11");
	char *dyn = tmp_path("fakepy/lib/python3.11/lib-dynload");
	assert_int_equal(mkdir(fake, 0700), 0);
	assert_int_equal(mkdir(bin, 0700), 0);
	assert_int_equal(mkdir(lib, 0700), 0);
	assert_int_equal(mkdir(stdlib, 0700), 0);
	assert_int_equal(mkdir(dyn, 0700), 0);
	/*
	 * A python3 first on PATH with a standard library beside it, like a
	 * pyenv shim: if CPython derived its prefix from PATH it would load
	 * this os.py and fail to start.
	 */
	write_file("fakepy/bin/python3", "#!/bin/sh\nexit 1\n");
	char *py = tmp_path("fakepy/bin/python3");
	assert_int_equal(chmod(py, 0755), 0);
	write_file("fakepy/lib/python3.11/os.py",
		   "raise SystemExit('fake standard library loaded')\n");
	write_file("fakepy/lib/python3.11/site.py",
		   "raise SystemExit('fake site loaded')\n");
	const char *path = getenv("PATH");
	char *newpath = xasprintf("%s:%s", bin, path ? path : "/usr/bin");
	assert_int_equal(setenv("PATH", newpath, 1), 0);
	assert_int_equal(setenv("PYTHONPATH", stdlib, 1), 0);
	assert_int_equal(setenv("PYTHONHOME", fake, 1), 0);
	assert_int_equal(setenv("PYTHONSTARTUP", py, 1), 0);
	assert_int_equal(setenv("PYTHONUSERBASE", fake, 1), 0);
	free(newpath);
	free(py);
	free(fake);
	free(bin);
	free(lib);
	free(stdlib);
	free(dyn);
}

static void on_sigint(int sig)
{
}

static int group_setup(void **state)
{
	if (!mkdtemp(tmpdir))
		return -1;
	write_file("offlineimap.py", pythonfile);
	write_file("raises.py",
		   "x = 1\n\nraise ValueError('boom in config')\n");
	write_file("syntax.py", "def f(:\n    pass\n");
	poison_environment();
	/* ~ in pythonfile is $HOME */
	if (setenv("HOME", tmpdir, 1))
		return -1;
	/* Handlers the program installed before Python starts. */
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_DFL);
	return 0;
}

static int group_teardown(void **state)
{
	pyeval_shutdown();
	assert_false(pyeval_initialized());
	/* a second shutdown is harmless */
	pyeval_shutdown();
	char *cmd = xasprintf("rm -rf '%s'", tmpdir);
	int r = system(cmd);
	free(cmd);
	return r == 0 ? 0 : -1;
}

static void test_missing_pythonfile(void **state)
{
	struct oim_err err = OIM_ERR_INIT;
	assert_true(pyeval_available());
	assert_int_equal(pyeval_init("~/no-such-file.py", &err), -1);
	assert_int_equal(err.kind, OIM_E_PYTHON);
	assert_non_null(strstr(err.msg, tmpdir)); /* '~' expanded */
	assert_non_null(strstr(err.msg, "no-such-file.py"));
	assert_non_null(strstr(err.msg, "No such file or directory"));
	assert_false(pyeval_initialized());
}

static void test_pythonfile_raises(void **state)
{
	struct oim_err err = OIM_ERR_INIT;
	char *p = tmp_path("raises.py");
	assert_int_equal(pyeval_init(p, &err), -1);
	assert_int_equal(err.kind, OIM_E_PYTHON);
	assert_non_null(strstr(err.msg, p));
	assert_non_null(strstr(err.msg, "ValueError: boom in config"));
	assert_non_null(strstr(err.msg, "raises.py:3")); /* the line */
	assert_null(strchr(err.msg, '\n'));
	assert_false(pyeval_initialized());
	free(p);

	oim_err_clear(&err);
	p = tmp_path("syntax.py");
	assert_int_equal(pyeval_init(p, &err), -1);
	assert_non_null(strstr(err.msg, "SyntaxError"));
	assert_non_null(strstr(err.msg, "syntax.py"));
	free(p);

	oim_err_clear(&err);
	assert_int_equal(pyeval_init(tmpdir, &err), -1);
	assert_non_null(strstr(err.msg, "not a regular file"));
}

static void test_init(void **state)
{
	struct oim_err err = OIM_ERR_INIT;
	assert_int_equal(pyeval_init("~/offlineimap.py", &err), 0);
	assert_true(pyeval_initialized());
	/* once: same file is fine, another is an error */
	assert_int_equal(pyeval_init("~/offlineimap.py", &err), 0);
	assert_int_equal(pyeval_init(NULL, &err), -1);
	assert_non_null(strstr(err.msg, "already set up"));
}

static struct pyeval_expr *compile_ok(const char *text, const char *option)
{
	struct oim_err err = OIM_ERR_INIT;
	struct pyeval_expr *e = NULL;
	int r = pyeval_compile(text, option, "rc:7",
			       pyeval_option_flags(option), &e, &err);
	if (r)
		fail_msg("compile %s: %s", text, err.msg);
	assert_non_null(e);
	return e;
}

static char *eval_str(const char *text, const char *option)
{
	struct oim_err err = OIM_ERR_INIT;
	struct pyeval_expr *e = compile_ok(text, option);
	char *s = NULL;
	if (pyeval_eval_str(e, &s, &err))
		fail_msg("eval %s: %s", text, err.msg);
	pyeval_expr_free(e);
	return s;
}

/* The error message of evaluating 'text' as a str. */
static void eval_str_fails(const char *text, const char *option, char *msg,
			   size_t size)
{
	struct oim_err err = OIM_ERR_INIT;
	struct pyeval_expr *e = compile_ok(text, option);
	char *s = (char *)"untouched";
	assert_int_equal(pyeval_eval_str(e, &s, &err), -1);
	assert_null(s);
	assert_int_equal(err.kind, OIM_E_PYTHON);
	assert_null(strchr(err.msg, '\n'));
	snprintf(msg, size, "%s", err.msg);
	pyeval_expr_free(e);
}

static void test_environment(void **state)
{
	char *s;
	/* the system's libpython and its own standard library */
	s = eval_str("__import__('sys').prefix", "t");
	assert_string_equal(s, OIMAP_PYTHON_PREFIX);
	free(s);
	s = eval_str("__import__('os').__file__", "t");
	assert_true(oim_starts_with(s, OIMAP_PYTHON_PREFIX "/lib/python3"));
	free(s);
	s = eval_str("'%d.%d' % __import__('sys').version_info[:2]", "t");
	char want[32];
	snprintf(want, sizeof(want), "%d.%d", PY_MAJOR_VERSION,
		 PY_MINOR_VERSION);
	assert_string_equal(s, want);
	free(s);
	/* nothing from PATH, PYTHONPATH, PYTHONHOME, pyenv */
	s = eval_str("repr(__import__('sys').path + "
		     "[__import__('sys').executable])",
		     "t");
	assert_null(strstr(s, tmpdir));
	assert_null(strstr(s, "pyenv"));
	/* the system's site-packages are there (Debian's dist-packages) */
	if (!access(OIMAP_PYTHON_PREFIX "/lib/python3/dist-packages", F_OK))
		assert_non_null(strstr(s, "'" OIMAP_PYTHON_PREFIX
					  "/lib/python3/dist-packages'"));
	free(s);
	s = eval_str("repr((__import__('sys').flags.no_user_site, "
		     "__import__('sys').flags.ignore_environment, "
		     "__import__('sys').dont_write_bytecode, "
		     "__import__('sys').flags.utf8_mode))",
		     "t");
	assert_string_equal(s, "(1, 1, True, 1)");
	free(s);
	/* the environment itself is still visible to the user's code */
	s = eval_str("os.environ['HOME']", "t");
	assert_string_equal(s, tmpdir);
	free(s);

	/* Python installed no signal handlers of its own */
	struct sigaction sa;
	assert_int_equal(sigaction(SIGINT, NULL, &sa), 0);
	assert_ptr_equal(sa.sa_handler, on_sigint);
	assert_int_equal(sigaction(SIGPIPE, NULL, &sa), 0);
	assert_ptr_equal(sa.sa_handler, SIG_DFL);
}

static bool filter(struct pyeval_expr *e, const char *folder)
{
	struct oim_err err = OIM_ERR_INIT;
	bool keep = false;
	if (pyeval_call_bool(e, &folder, 1, &keep, &err))
		fail_msg("filter %s: %s", folder, err.msg);
	return keep;
}

static void test_folderfilter(void **state)
{
	struct pyeval_expr *e;

	e = compile_ok("lambda f: f not in ['Trash', 'Spam']", "folderfilter");
	assert_true(filter(e, "INBOX"));
	assert_false(filter(e, "Trash"));
	assert_false(filter(e, "Spam"));
	pyeval_expr_free(e);

	/* as ConfigParser gives a continued value, and with indentation */
	const char *forms[] = {
	    "lambda folder: folder in ['INBOX',\n'Sent Mail',\n'Drafts']",
	    "lambda folder: folder in ['INBOX',\n"
	    "                          'Sent Mail',\n"
	    "\t\t'Drafts']\n",
	    "  lambda folder: folder in [\n    'INBOX',\n    'Sent Mail',"
	    "\r\n    'Drafts',\n    ]\n\n",
	    /* a blank line inside the value, as ConfigParser keeps it */
	    "lambda folder: folder in [\n'INBOX',\n\n'Sent Mail', 'Drafts']",
	    "lambda folder: folder \\\n    in ['INBOX', 'Sent Mail', "
	    "'Drafts']",
	};
	for (size_t i = 0; i < ARRAY_SIZE(forms); i++) {
		e = compile_ok(forms[i], "folderfilter");
		assert_true(filter(e, "INBOX"));
		assert_true(filter(e, "Sent Mail"));
		assert_false(filter(e, "Junk"));
		pyeval_expr_free(e);
	}

	/* re is there for folderfilter; truthiness, not only bool */
	e = compile_ok("lambda f: re.search('^(INBOX|Sent)', f)",
		       "folderfilter");
	assert_true(filter(e, "INBOX.foo"));
	assert_false(filter(e, "Archive"));
	pyeval_expr_free(e);

	/* a function from the pythonfile */
	e = compile_ok("not_trash", "folderfilter");
	assert_true(filter(e, "INBOX"));
	assert_false(filter(e, "Trash.2020"));
	pyeval_expr_free(e);

	/* [mbnames] folderfilter takes two arguments */
	e = compile_ok("lambda acct, f: acct == 'work' and f != 'Trash'",
		       "folderfilter");
	struct oim_err err = OIM_ERR_INIT;
	bool keep = false;
	const char *args[] = {"work", "INBOX"};
	assert_int_equal(pyeval_call_bool(e, args, 2, &keep, &err), 0);
	assert_true(keep);
	args[0] = "home";
	assert_int_equal(pyeval_call_bool(e, args, 2, &keep, &err), 0);
	assert_false(keep);
	/* wrong arity is a Python TypeError, reported */
	assert_int_equal(pyeval_call_bool(e, args, 1, &keep, &err), -1);
	assert_non_null(strstr(err.msg, "rc:7: folderfilter: TypeError"));
	pyeval_expr_free(e);
}

static char *trans(struct pyeval_expr *e, const char *folder)
{
	struct oim_err err = OIM_ERR_INIT;
	char *out = NULL;
	if (pyeval_call_str(e, folder, &out, &err))
		fail_msg("nametrans %s: %s", folder, err.msg);
	return out;
}

static void test_nametrans(void **state)
{
	const char *forms[] = {
	    "lambda f: re.sub('^INBOX\\.', '', f)",
	    /* continued as ConfigParser gives it, and indented */
	    "lambda folder: re.sub('^INBOX\\.', '',\nfolder)",
	    "lambda folder: re.sub('^INBOX\\.', '',\n"
	    "                      folder)",
	    "lambda folder: re.sub('^INBOX\\.', '', folder) \\\n"
	    "    if folder != 'INBOX' else 'INBOX'",
	};
	for (size_t i = 0; i < ARRAY_SIZE(forms); i++) {
		struct pyeval_expr *e = compile_ok(forms[i], "nametrans");
		char *s = trans(e, "INBOX.Sent");
		assert_string_equal(s, "Sent");
		free(s);
		s = trans(e, "INBOX");
		assert_string_equal(s, "INBOX");
		free(s);
		/* non-ASCII round trip, and bytes that are not UTF-8 */
		s = trans(e, "INBOX.Entw\xc3\xbcrfe");
		assert_string_equal(s, "Entw\xc3\xbcrfe");
		free(s);
		s = trans(e, "INBOX.bad\xff");
		assert_string_equal(s, "bad\xff");
		free(s);
		pyeval_expr_free(e);
	}

	/* the usual two-way pair from the OfflineIMAP docs */
	struct pyeval_expr *e =
	    compile_ok("lambda folder: {'Drafts': '[Gmail]/Drafts',\n"
		       "'Sent': '[Gmail]/Sent Mail',\n"
		       "}.get(folder, folder)",
		       "nametrans");
	char *s = trans(e, "Sent");
	assert_string_equal(s, "[Gmail]/Sent Mail");
	free(s);
	s = trans(e, "Other");
	assert_string_equal(s, "Other");
	free(s);
	pyeval_expr_free(e);

	/* nametrans must give a str */
	struct oim_err err = OIM_ERR_INIT;
	e = compile_ok("lambda f: len(f)", "nametrans");
	assert_int_equal(pyeval_call_str(e, "INBOX", &s, &err), -1);
	assert_null(s);
	assert_string_equal(err.msg, "rc:7: nametrans: expected str, got int");
	pyeval_expr_free(e);

	/* a value that is not callable */
	e = compile_ok("'INBOX'", "nametrans");
	assert_int_equal(pyeval_call_str(e, "INBOX", &s, &err), -1);
	assert_non_null(strstr(err.msg, "expected a callable"));
	assert_non_null(strstr(err.msg, "got str"));
	pyeval_expr_free(e);
}

static void test_folderincludes(void **state)
{
	struct oim_err err = OIM_ERR_INIT;
	char **list = NULL;
	size_t n = 99;
	struct pyeval_expr *e = compile_ok(
	    "['debian.org',\n'INBOX.Entw\xc3\xbcrfe']", "folderincludes");
	assert_int_equal(pyeval_eval_strlist(e, &list, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(list[0], "debian.org");
	assert_string_equal(list[1], "INBOX.Entw\xc3\xbcrfe");
	assert_null(list[2]);
	pyeval_strlist_free(list);
	pyeval_expr_free(e);

	/* tuples and comprehensions too; empty list */
	e = compile_ok("tuple(re.sub('x', 'y', f) for f in ['ax', 'bx'])",
		       "folderincludes");
	assert_int_equal(pyeval_eval_strlist(e, &list, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(list[1], "by");
	pyeval_strlist_free(list);
	pyeval_expr_free(e);
	e = compile_ok("[]", "folderincludes");
	assert_int_equal(pyeval_eval_strlist(e, &list, NULL, &err), 0);
	assert_non_null(list);
	assert_null(list[0]);
	pyeval_strlist_free(list);
	pyeval_expr_free(e);

	/* a bare str is not a list of folders */
	e = compile_ok("'INBOX'", "folderincludes");
	assert_int_equal(pyeval_eval_strlist(e, &list, &n, &err), -1);
	assert_null(list);
	assert_string_equal(err.msg, "rc:7: folderincludes: expected a list "
				     "of str, got str");
	pyeval_expr_free(e);
	e = compile_ok("['INBOX', 3]", "folderincludes");
	assert_int_equal(pyeval_eval_strlist(e, &list, &n, &err), -1);
	assert_string_equal(err.msg, "rc:7: folderincludes: expected a list "
				     "of str (item 1), got int");
	pyeval_expr_free(e);
	e = compile_ok("42", "folderincludes");
	assert_int_equal(pyeval_eval_strlist(e, &list, &n, &err), -1);
	assert_non_null(strstr(err.msg, "got int"));
	pyeval_expr_free(e);
}

static void test_passeval(void **state)
{
	char *s = eval_str("get_pass(\"work\")", "remotepasseval");
	assert_string_equal(s, "s3cret-work");
	oim_free_secret(s);
	/* bytes are decoded, as OfflineIMAP does */
	s = eval_str("get_bytes()", "remotepasseval");
	assert_string_equal(s, "bytes-pass");
	oim_free_secret(s);
	s = eval_str("os.path.basename('/a/user')", "remoteusereval");
	assert_string_equal(s, "user");
	free(s);

	/* a wrong type names the type, never the value */
	char msg[OIM_ERR_MSG_MAX];
	eval_str_fails("['s3cret']", "remotepasseval", msg, sizeof(msg));
	assert_string_equal(msg,
			    "rc:7: remotepasseval: expected str, got list");
	eval_str_fails("None", "remotepasseval", msg, sizeof(msg));
	assert_string_equal(msg,
			    "rc:7: remotepasseval: expected str, got NoneType");
	eval_str_fails("'a\\0b'", "remotepasseval", msg, sizeof(msg));
	assert_string_equal(msg, "rc:7: remotepasseval: result contains a "
				 "NUL character");

	/* oauth2: None means unset; newlines at both ends go */
	s = eval_str("None", "oauth2_refresh_token_eval");
	assert_null(s);
	s = eval_str("'\\ntok\\nen\\n\\n'", "oauth2_refresh_token_eval");
	assert_string_equal(s, "tok\nen");
	oim_free_secret(s);
	s = eval_str("'\\n\\n'", "oauth2_access_token_eval");
	assert_string_equal(s, "");
	oim_free_secret(s);
	eval_str_fails("1", "oauth2_client_id_eval", msg, sizeof(msg));
	assert_string_equal(msg, "rc:7: oauth2_client_id_eval: expected str "
				 "or None, got int");
}

static void test_raises(void **state)
{
	char msg[OIM_ERR_MSG_MAX];
	/* raised in the pythonfile: its place is named */
	eval_str_fails("fail('x')", "remotepasseval", msg, sizeof(msg));
	assert_true(oim_starts_with(msg,
				    "rc:7: remotepasseval: "
				    "FileNotFoundError: [Errno 2] No such "
				    "file or directory: '/nonexistent/x'"));
	assert_non_null(strstr(msg, "offlineimap.py:11 in fail)"));

	/* a bare password in a secret expression is not repeated */
	eval_str_fails("hunter2", "remotepasseval", msg, sizeof(msg));
	assert_null(strstr(msg, "hunter2"));
	assert_string_equal(msg, "rc:7: remotepasseval: NameError (message "
				 "withheld: the expression gives a secret)");
	eval_str_fails("hunter2", "remoteusereval", msg, sizeof(msg));
	assert_non_null(strstr(msg, "name 'hunter2' is not defined"));

	eval_str_fails("1 / 0", "remotehosteval", msg, sizeof(msg));
	assert_string_equal(msg, "rc:7: remotehosteval: ZeroDivisionError: "
				 "division by zero");

	/* re is only given to the folder options, as in OfflineIMAP */
	eval_str_fails("re.sub('a', 'b', 'a')", "remoteusereval", msg,
		       sizeof(msg));
	assert_string_equal(msg, "rc:7: remoteusereval: NameError: name 're' "
				 "is not defined");

	/* multi-line exception messages become one line */
	eval_str_fails("(_ for _ in ()).throw(ValueError('a\\nb'))",
		       "remotehosteval", msg, sizeof(msg));
	assert_string_equal(msg, "rc:7: remotehosteval: ValueError: a b");

	/* SystemExit must not end the process */
	eval_str_fails("__import__('sys').exit(3)", "remotehosteval", msg,
		       sizeof(msg));
	assert_string_equal(msg, "rc:7: remotehosteval: SystemExit: 3");

	/* raised inside a callable */
	struct oim_err err = OIM_ERR_INIT;
	struct pyeval_expr *e =
	    compile_ok("lambda f: f.nosuchmethod()", "folderfilter");
	const char *arg = "INBOX";
	bool keep = true;
	assert_int_equal(pyeval_call_bool(e, &arg, 1, &keep, &err), -1);
	assert_int_equal(err.kind, OIM_E_PYTHON);
	assert_string_equal(err.msg,
			    "rc:7: folderfilter: AttributeError: 'str' object "
			    "has no attribute 'nosuchmethod'");
	/* the callable stays usable: the next call raises again */
	oim_err_clear(&err);
	assert_int_equal(pyeval_call_bool(e, &arg, 1, &keep, &err), -1);
	assert_int_equal(err.kind, OIM_E_PYTHON);
	pyeval_expr_free(e);

	/* with -d config the traceback frames are logged (not asserted:
	 * they go to stderr); make sure the path runs */
	unsigned old = log_get_debug();
	log_set_debug(OIM_DBG_CONFIG);
	eval_str_fails("fail('y')", "remotepasseval", msg, sizeof(msg));
	log_set_debug(old);
	assert_non_null(strstr(msg, "FileNotFoundError"));
}

static void test_syntax_error(void **state)
{
	struct oim_err err = OIM_ERR_INIT;
	struct pyeval_expr *e = (struct pyeval_expr *)&err;
	assert_int_equal(pyeval_compile("lambda f: f not in ['Trash'",
					"folderfilter", "~/.offlineimaprc:12",
					PYEVAL_F_RE, &e, &err),
			 -1);
	assert_null(e);
	assert_int_equal(err.kind, OIM_E_PYTHON);
	assert_true(oim_starts_with(err.msg, "~/.offlineimaprc:12: "
					     "folderfilter: SyntaxError: "));
	assert_null(strchr(err.msg, '\n'));

	/* a statement is not an expression */
	assert_int_equal(
	    pyeval_compile("x = 1", "nametrans", NULL, 0, &e, &err), -1);
	assert_true(oim_starts_with(err.msg, "nametrans: SyntaxError: "));

	/* continuation outside brackets is a syntax error for Python too */
	assert_int_equal(pyeval_compile("lambda f: f not in\n['Trash']",
					"folderfilter", NULL, 0, &e, &err),
			 -1);
	assert_non_null(strstr(err.msg, "SyntaxError"));

	assert_int_equal(pyeval_compile("", "folderfilter", NULL, 0, &e, &err),
			 -1);
	assert_non_null(strstr(err.msg, "SyntaxError"));
}

static void test_namespace_copies(void **state)
{
	/* an assignment in one evaluation is not seen by the next one */
	char *s = eval_str("str((leak := 5))", "t");
	assert_string_equal(s, "5");
	free(s);
	char msg[OIM_ERR_MSG_MAX];
	eval_str_fails("str(leak)", "t", msg, sizeof(msg));
	assert_string_equal(msg, "rc:7: t: NameError: name 'leak' is not "
				 "defined");
	/* the pythonfile's module attributes, as dir(module) gives them */
	s = eval_str("__name__", "t");
	assert_string_equal(s, "<none>");
	free(s);
	s = eval_str("str(callable(subprocess.run))", "t");
	assert_string_equal(s, "True");
	free(s);
}

static void test_long(void **state)
{
	struct oim_err err = OIM_ERR_INIT;
	long v = 0;
	struct pyeval_expr *e = compile_ok("990 + 3", "remoteporteval");
	assert_int_equal(pyeval_eval_long(e, &v, &err), 0);
	assert_int_equal(v, 993);
	pyeval_expr_free(e);
	e = compile_ok("'143'", "remoteporteval");
	assert_int_equal(pyeval_eval_long(e, &v, &err), 0);
	assert_int_equal(v, 143);
	pyeval_expr_free(e);
	e = compile_ok("'imaps'", "remoteporteval");
	assert_int_equal(pyeval_eval_long(e, &v, &err), -1);
	assert_non_null(strstr(err.msg, "not a decimal number"));
	pyeval_expr_free(e);
	e = compile_ok("True", "remoteporteval");
	assert_int_equal(pyeval_eval_long(e, &v, &err), -1);
	assert_string_equal(err.msg,
			    "rc:7: remoteporteval: expected int, got bool");
	pyeval_expr_free(e);
	e = compile_ok("2 ** 80", "remoteporteval");
	assert_int_equal(pyeval_eval_long(e, &v, &err), -1);
	assert_non_null(strstr(err.msg, "out of range"));
	pyeval_expr_free(e);
}

static void test_uids_hook_sort(void **state)
{
	struct oim_err err = OIM_ERR_INIT;
	uint32_t *uids = NULL;
	size_t n = 9;

	struct pyeval_expr *e = compile_ok(
	    "lambda f: {'INBOX': [3, 4294967295]}.get(f)", "copy_ignore_eval");
	assert_int_equal(pyeval_call_uids(e, "INBOX", &uids, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(uids[0], 3);
	assert_int_equal(uids[1], 4294967295u);
	free(uids);
	assert_int_equal(pyeval_call_uids(e, "Other", &uids, &n, &err), 0);
	assert_null(uids);
	assert_int_equal(n, 0);
	pyeval_expr_free(e);
	e = compile_ok("lambda f: [0]", "copy_ignore_eval");
	assert_int_equal(pyeval_call_uids(e, "INBOX", &uids, &n, &err), -1);
	assert_non_null(strstr(err.msg, "out of range"));
	pyeval_expr_free(e);
	e = compile_ok("lambda f: ['7']", "copy_ignore_eval");
	assert_int_equal(pyeval_call_uids(e, "INBOX", &uids, &n, &err), -1);
	assert_non_null(strstr(err.msg, "got str"));
	pyeval_expr_free(e);

	e = compile_ok("hook", "newmail_hook");
	assert_int_equal(pyeval_call_void(e, &err), 0);
	assert_int_equal(pyeval_call_void(e, &err), 0);
	pyeval_expr_free(e);
	char *s = eval_str("str(len(hook_calls))", "t");
	assert_string_equal(s, "2");
	free(s);

	const char *names[] = {"b", "a", "c", "a"};
	size_t order[4];
	e = compile_ok("reverse_cmp", "foldersort");
	assert_int_equal(pyeval_sort_cmp(e, names, 4, order, &err), 0);
	assert_int_equal(order[0], 2);
	assert_int_equal(order[1], 0);
	assert_int_equal(order[2], 1); /* stable: first 'a' first */
	assert_int_equal(order[3], 3);
	assert_int_equal(pyeval_sort_cmp(e, names, 0, order, &err), 0);
	pyeval_expr_free(e);
	e = compile_ok("lambda a, b: a.nope", "foldersort");
	assert_int_equal(pyeval_sort_cmp(e, names, 4, order, &err), -1);
	assert_non_null(strstr(err.msg, "foldersort: AttributeError"));
	pyeval_expr_free(e);

	const char *keys[] = {"accountname", "foldername", "localfolders"};
	const char *vals[] = {
	    "work", "Sent",  "/m/work", /**/
	    "home", "INBOX", "/m/home", /**/
	    "work", "INBOX", "/m/work",
	};
	e = compile_ok("lambda d: (d['accountname'], d['foldername'])",
		       "sort_keyfunc");
	assert_int_equal(pyeval_sort_key(e, keys, 3, vals, 3, order, &err), 0);
	assert_int_equal(order[0], 1);
	assert_int_equal(order[1], 2);
	assert_int_equal(order[2], 0);
	pyeval_expr_free(e);
}

static long traced_memory(void)
{
	char *s = eval_str(
	    "str(__import__('tracemalloc').get_traced_memory()[0])", "t");
	long v = -1;
	assert_int_equal(oim_parse_long(s, &v), 0);
	free(s);
	return v;
}

/* One round of every entry point, errors included. */
static void exercise(struct pyeval_expr **e)
{
	struct oim_err err = OIM_ERR_INIT;
	char *s = NULL, **list = NULL;
	bool keep;
	long v;
	uint32_t *uids;
	size_t n, order[3];
	const char *arg = "INBOX.x";
	const char *names[] = {"b", "a", "c"};
	const char *keys[] = {"k"};

	assert_int_equal(pyeval_eval_str(e[0], &s, &err), 0);
	oim_free_secret(s);
	assert_int_equal(pyeval_eval_strlist(e[1], &list, &n, &err), 0);
	pyeval_strlist_free(list);
	assert_int_equal(pyeval_call_str(e[2], arg, &s, &err), 0);
	free(s);
	assert_int_equal(pyeval_call_bool(e[3], &arg, 1, &keep, &err), 0);
	assert_int_equal(pyeval_call_uids(e[4], arg, &uids, &n, &err), 0);
	free(uids);
	assert_int_equal(pyeval_sort_cmp(e[5], names, 3, order, &err), 0);
	assert_int_equal(pyeval_sort_key(e[6], keys, 1, names, 3, order, &err),
			 0);
	assert_int_equal(pyeval_eval_long(e[7], &v, &err), 0);
	/* failures: exception with a traceback, wrong type */
	assert_int_equal(pyeval_eval_str(e[8], &s, &err), -1);
	assert_int_equal(pyeval_eval_strlist(e[9], &list, &n, &err), -1);
	assert_int_equal(pyeval_call_str(e[10], arg, &s, &err), -1);
}

/*
 * Reference leaks do not show under ASan (CPython's small objects live in
 * its own arenas), so count what Python itself still holds after many
 * rounds, with tracemalloc.
 */
static void test_no_reference_leaks(void **state)
{
	struct pyeval_expr *e[] = {
	    compile_ok("get_pass('work')", "remotepasseval"),
	    compile_ok("['a', 'b', 'c']", "folderincludes"),
	    compile_ok("lambda f: re.sub('^INBOX\\.', '', f)", "nametrans"),
	    compile_ok("lambda f: f.startswith('INBOX')", "folderfilter"),
	    compile_ok("lambda f: [1, 2, 3]", "copy_ignore_eval"),
	    compile_ok("reverse_cmp", "foldersort"),
	    compile_ok("lambda d: d['k']", "sort_keyfunc"),
	    compile_ok("'993'", "remoteporteval"),
	    compile_ok("fail('z')", "remotepasseval"),
	    compile_ok("[1]", "folderincludes"),
	    compile_ok("lambda f: f.nope", "nametrans"),
	};
	for (int i = 0; i < 50; i++)
		exercise(e);
	char *s = eval_str("str(__import__('tracemalloc').start())", "t");
	free(s);
	long before = traced_memory();
	for (int i = 0; i < 500; i++)
		exercise(e);
	long after = traced_memory();
	s = eval_str("str(__import__('tracemalloc').stop())", "t");
	free(s);
	/* one leaked object per round would be > 16 kB */
	if (after - before > 8192)
		fail_msg("Python memory grew by %ld bytes over 500 rounds",
			 after - before);
	for (size_t i = 0; i < ARRAY_SIZE(e); i++)
		pyeval_expr_free(e[i]);
}

#define THREADS 4
#define ROUNDS	300

static struct pyeval_expr *th_filter, *th_trans, *th_pass;

static void *worker(void *arg)
{
	long id = (long)(intptr_t)arg;
	long bad = 0;
	for (int i = 0; i < ROUNDS; i++) {
		struct oim_err err = OIM_ERR_INIT;
		char folder[64], want[64];
		snprintf(folder, sizeof(folder), "INBOX.t%ld-%d", id, i);
		snprintf(want, sizeof(want), "t%ld-%d", id, i);
		const char *f = folder;
		bool keep = false;
		char *s = NULL;
		if (pyeval_call_bool(th_filter, &f, 1, &keep, &err) || !keep)
			bad++;
		if (pyeval_call_str(th_trans, folder, &s, &err) ||
		    strcmp(s, want))
			bad++;
		free(s);
		if (pyeval_eval_str(th_pass, &s, &err) ||
		    strcmp(s, "s3cret-work"))
			bad++;
		oim_free_secret(s);
	}
	return (void *)(intptr_t)bad;
}

static void test_threads(void **state)
{
	th_filter =
	    compile_ok("lambda f: f.startswith('INBOX.t')", "folderfilter");
	th_trans =
	    compile_ok("lambda f: re.sub('^INBOX\\.', '', f)", "nametrans");
	th_pass = compile_ok("get_pass('work')", "remotepasseval");
	pthread_t t[THREADS];
	for (long i = 0; i < THREADS; i++)
		assert_int_equal(
		    pthread_create(&t[i], NULL, worker, (void *)(intptr_t)i),
		    0);
	long bad = 0;
	for (int i = 0; i < THREADS; i++) {
		void *r;
		assert_int_equal(pthread_join(t[i], &r), 0);
		bad += (long)(intptr_t)r;
	}
	assert_int_equal(bad, 0);
	pyeval_expr_free(th_filter);
	pyeval_expr_free(th_trans);
	pyeval_expr_free(th_pass);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_option_flags),
	    /* in this order: init fails, then succeeds */
	    cmocka_unit_test(test_missing_pythonfile),
	    cmocka_unit_test(test_pythonfile_raises),
	    cmocka_unit_test(test_init),
	    cmocka_unit_test(test_environment),
	    cmocka_unit_test(test_folderfilter),
	    cmocka_unit_test(test_nametrans),
	    cmocka_unit_test(test_folderincludes),
	    cmocka_unit_test(test_passeval),
	    cmocka_unit_test(test_raises),
	    cmocka_unit_test(test_syntax_error),
	    cmocka_unit_test(test_namespace_copies),
	    cmocka_unit_test(test_long),
	    cmocka_unit_test(test_uids_hook_sort),
	    cmocka_unit_test(test_no_reference_leaks),
	    cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

#endif /* OIMAP_HAVE_PYTHON */
