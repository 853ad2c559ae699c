/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_config.c - the offlineimaprc reader: every ConfigParser rule, the
 * errors and warnings, interpolation, the schema, -k and the command-line
 * changes, validation and --info redaction.  Table-driven; the expected
 * values were checked against Python 3.11's configparser.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "config/config.h"
#include "util/strbuf.h"
#include "util/util.h"

/* ---- helpers ------------------------------------------------------------- */

struct warns {
	struct strbuf all;
	int n;
};

static void collect_warn(void *ctx, const char *msg)
{
	struct warns *w = ctx;
	strbuf_addstr(&w->all, msg);
	strbuf_addch(&w->all, '\n');
	w->n++;
}

static struct warns W;

static struct config *load(const char *text, int expect_rc,
			   struct oim_err *err)
{
	struct config *cfg = config_new();
	strbuf_release(&W.all);
	W.n = 0;
	config_set_warn_fn(cfg, collect_warn, &W);
	int rc = config_read_string(cfg, "t.conf", text, strlen(text), err);
	if (rc != expect_rc)
		fail_msg("read rc %d (want %d) for:\n%s\nerr: %s", rc,
			 expect_rc, text, err->msg);
	return cfg;
}

static void assert_contains(const char *hay, const char *needle)
{
	if (!strstr(hay, needle))
		fail_msg("'%s' not found in '%s'", needle, hay);
}

/* A complete valid config the validation tests edit. */
#define BASE                                                                   \
	"[general]\naccounts = A\n"                                            \
	"[Account A]\nlocalrepository = L\nremoterepository = R\n"             \
	"[Repository L]\ntype = Maildir\nlocalfolders = ~/Mail\n"              \
	"[Repository R]\ntype = IMAP\nremotehost = imap.example.org\n"

/* ---- the dialect ----------------------------------------------------------- */

static const struct {
	const char *text, *section, *option, *want;
} values[] = {
	/* delimiters: the first '=' or ':' */
	{ "[s]\na = 1\n", "s", "a", "1" },
	{ "[s]\na: 1\n", "s", "a", "1" },
	{ "[s]\na=b:c\n", "s", "a", "b:c" },
	{ "[s]\na:b=c\n", "s", "a", "b=c" },
	{ "[s]\nurl = http://x:80/\n", "s", "url", "http://x:80/" },
	/* names lowercased and stripped, looked up in any case */
	{ "[s]\n  RemoteHost   =   h  \n", "s", "remotehost", "h" },
	{ "[s]\nRemoteHost = h\n", "s", "REMOTEHOST", "h" },
	/* empty value */
	{ "[s]\na =\n", "s", "a", "" },
	/* no inline comments */
	{ "[s]\na = 1 # one\n", "s", "a", "1 # one" },
	{ "[s]\na = x ; y\n", "s", "a", "x ; y" },
	/* full-line comments, also indented */
	{ "# c\n; c\n[s]\n# c\n   ; c\na = 1\n", "s", "a", "1" },
	/* continuation lines */
	{ "[s]\na = one\n  two\n\tthree\n", "s", "a", "one\ntwo\nthree" },
	{ "[s]\na = lambda f: f in [\n    'x',\n\n    'y']\nb = 2\n", "s", "a",
	  "lambda f: f in [\n'x',\n\n'y']" },
	/* a comment inside a value is skipped, a blank line kept */
	{ "[s]\na = 1\n  # no\n\n  2\n", "s", "a", "1\n\n2" },
	/* trailing blank lines dropped */
	{ "[s]\na = 1\n  2\n\n\n\n[t]\n", "s", "a", "1\n2" },
	/* a line indented like its option line is a new option */
	{ "[s]\n  a = 1\n  b = 2\n", "s", "b", "2" },
	/* deeper than the option line, even when the option was indented */
	{ "[s]\n  a = 1\n    b = 2\n", "s", "a", "1\nb = 2" },
	/* an indented header is a continuation line */
	{ "[s]\na = 1\n  [t]\n", "s", "a", "1\n[t]" },
	/* an option name may hold blanks */
	{ "[s]\nremote host = h\n", "s", "remote host", "h" },
	/* empty first line of a multi-line value */
	{ "[s]\na =\n  x\n", "s", "a", "\nx" },
	/* a blank line does not end the value: indented text after it
	 * still continues it */
	{ "[s]\na = 1\n\n  2\n", "s", "a", "1\n\n2" },
	/* section names are case-sensitive and keep inner text */
	{ "[S]\na = 1\n[s]\na = 2\n", "S", "a", "1" },
	{ "[Account My Mail]\na = 1\n", "Account My Mail", "a", "1" },
	/* the header runs to the last ']' */
	{ "[a]b]\nx = 1\n", "a]b", "x", "1" },
	{ "[a] trailing\nx = 1\n", "a", "x", "1" },
	/* CRLF and CR line ends, BOM */
	{ "[s]\r\na = 1\r\nb = 2\r\n", "s", "b", "2" },
	{ "[s]\ra = 1\r  2\r", "s", "a", "1\n2" },
	{ "\xef\xbb\xbf[s]\na = 1\n", "s", "a", "1" },
	/* the last value of an option given twice wins */
	{ "[s]\na = 1\na = 2\n", "s", "a", "2" },
	/* a section given twice is merged */
	{ "[s]\na = 1\n[t]\n[s]\nb = 2\n", "s", "a", "1" },
	/* [DEFAULT] supplies every section */
	{ "[DEFAULT]\nd = 5\n[s]\n", "s", "d", "5" },
	{ "[DEFAULT]\nd = 5\n[s]\nd = 6\n", "s", "d", "6" },
	/* interpolation */
	{ "[s]\nx = a\ny = %(x)s-b\n", "s", "y", "a-b" },
	{ "[s]\nx = a\ny = %(X)s\n", "s", "y", "a" },
	{ "[DEFAULT]\nx = d\n[s]\ny = %(x)s\n", "s", "y", "d" },
	{ "[DEFAULT]\nx = d\n[s]\nx = s\ny = %(x)s\n", "s", "y", "s" },
	/* a [DEFAULT] value interpolates in the section that reads it */
	{ "[DEFAULT]\ny = %(x)s!\n[s]\nx = s\n", "s", "y", "s!" },
	{ "[s]\np = 100%%\n", "s", "p", "100%" },
	{ "[s]\na = 1\nb = %(a)s\nc = %(b)s%%\n", "s", "c", "1%" },
	{ "[s]\nx = %%(y)s\n", "s", "x", "%(y)s" },
	{ "[s]\nml = a\n  b\nx = <%(ml)s>\n", "s", "x", "<a\nb>" },
};

static void test_values(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(values); i++) {
		struct oim_err err = OIM_ERR_INIT;
		struct config *cfg = load(values[i].text, 0, &err);
		const char *got = NULL;
		if (config_get_str(cfg, values[i].section, values[i].option,
				   "<unset>", &got, &err))
			fail_msg("case %zu: %s", i, err.msg);
		if (strcmp(got, values[i].want))
			fail_msg("case %zu: got '%s' want '%s'", i, got,
				 values[i].want);
		config_free(cfg);
	}
}

/*
 * Differential cases: random configs made of tricky lines, with the values
 * Python 3.11's configparser (strict=False) gives for every option of every
 * section, generated once and committed (data/config/diff/).
 */
static char *unescape(const char *s)
{
	struct strbuf sb = STRBUF_INIT;
	for (; *s; s++) {
		if (*s == '\\' && s[1]) {
			s++;
			strbuf_addch(&sb, *s == 'n' ? '\n' : *s == 't' ? '\t' : *s);
		} else {
			strbuf_addch(&sb, *s);
		}
	}
	return strbuf_detach(&sb, NULL);
}

static void test_python_differential(void **state)
{
	const char *dir = getenv("OIMAP_TESTDATA");
	assert_non_null(dir);
	int cases = 0, checked = 0;
	for (int i = 0;; i++) {
		char *rc = xasprintf("%s/config/diff/case%02d.rc", dir, i);
		char *exp = xasprintf("%s/config/diff/case%02d.expected", dir, i);
		FILE *f = fopen(exp, "r");
		if (!f) {
			free(rc);
			free(exp);
			break;
		}
		struct oim_err err = OIM_ERR_INIT;
		struct config *cfg = config_new();
		config_set_warn_fn(cfg, NULL, NULL);
		if (config_read_file(cfg, rc, &err))
			fail_msg("%s: %s", rc, err.msg);
		char line[4096];
		while (fgets(line, sizeof(line), f)) {
			if (line[0] == '#')
				continue;
			line[strcspn(line, "\n")] = '\0';
			char *t1 = strchr(line, '\t');
			char *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
			if (!t1 || !t2)
				fail_msg("bad line in %s: %s", exp, line);
			else
				*t1 = *t2 = '\0';
			const char *got = NULL;
			int r = config_get_str(cfg, line, t1 + 1, NULL, &got,
					       &err);
			if (!strcmp(t2 + 1, "!ERROR")) {
				if (r != -1)
					fail_msg("%s [%s] %s: got '%s', Python "
						 "fails",
						 rc, line, t1 + 1, got);
			} else {
				char *want = unescape(t2 + 1);
				if (r || !got || strcmp(got, want))
					fail_msg("%s [%s] %s: got '%s' want "
						 "'%s' (%s)",
						 rc, line, t1 + 1,
						 got ? got : "(null)", want,
						 r ? err.msg : "");
				free(want);
			}
			checked++;
		}
		fclose(f);
		config_free(cfg);
		free(rc);
		free(exp);
		cases++;
	}
	assert_true(cases >= 50);
	assert_true(checked > 200);
}

static const struct {
	const char *text, *want;
} read_errors[] = {
	{ "a = 1\n", "t.conf:1: text before the first [section]" },
	{ "# c\n\n  x\n", "t.conf:3: text before the first [section]" },
	{ "[s]\njunk\n", "t.conf:2: not a [section] header" },
	{ "[s]\na = 1\n[unterminated\n", "t.conf:3: unterminated section" },
	{ "[s\na = 1\n", "t.conf:1: unterminated section" },
	{ "[]\n", "t.conf:1: empty section name" },
	{ "[s]\n= 1\n", "t.conf:2: option name missing" },
	{ "[s]\n : 1\n", "t.conf:2: option name missing" },
	{ "[s]\na = 1\0\n", "t.conf:2: NUL byte" },
};

static void test_read_errors(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(read_errors); i++) {
		struct oim_err err = OIM_ERR_INIT;
		const char *t = read_errors[i].text;
		/* The NUL case: length runs past the embedded NUL. */
		size_t len = strlen(t);
		if (strstr(read_errors[i].want, "NUL"))
			len += 2;
		struct config *cfg = config_new();
		config_set_warn_fn(cfg, NULL, NULL);
		assert_int_equal(config_read_string(cfg, "t.conf", t, len, &err),
				 -1);
		assert_contains(err.msg, read_errors[i].want);
		assert_int_equal(err.kind, OIM_E_CONFIG);
		config_free(cfg);
	}
}

static void test_missing_file(void **state)
{
	struct oim_err err = OIM_ERR_INIT;
	struct config *cfg = config_new();
	assert_int_equal(config_read_file(cfg, "/nonexistent/oimaprc", &err),
			 -1);
	assert_contains(err.msg, "/nonexistent/oimaprc");
	assert_int_equal(config_read_file(cfg, "/", &err), -1);
	assert_contains(err.msg, "directory");
	config_free(cfg);
}

static void test_read_file(void **state)
{
	const char *dir = getenv("OIMAP_TESTDATA");
	assert_non_null(dir);
	char *path = xasprintf("%s/config/multiline.rc", dir);
	struct oim_err err = OIM_ERR_INIT;
	struct config *cfg = config_new();
	config_set_warn_fn(cfg, NULL, NULL);
	assert_int_equal(config_read_file(cfg, path, &err), 0);
	assert_int_equal(config_validate(cfg, &err), 0);
	const char *ff = NULL;
	assert_int_equal(config_get_str(cfg, "Repository Remote",
					"folderfilter", NULL, &ff, &err),
			 0);
	assert_string_equal(ff, "lambda folder: folder in [\n'INBOX',\n"
				"'Sent',\n\n'Archive/2020',\n]");
	assert_int_equal(config_get_str(cfg, "Repository Remote", "nametrans",
					NULL, &ff, &err),
			 0);
	assert_string_equal(ff, "lambda f: re.sub('^INBOX\\.', '', f)");
	config_free(cfg);
	free(path);
}

static const struct {
	const char *text, *want;
} interp_errors[] = {
	{ "[s]\np = 100%\n", "t.conf:2: option 'p' in [s]: '%' must be "
			     "followed by '%' or '('" },
	{ "[s]\np = %(nope)s\n", "t.conf:2: option 'p' in [s] refers to "
				 "%(nope)s, but there is no option 'nope'" },
	{ "[s]\np = %(x\n", "t.conf:2: option 'p' in [s]: bad %(name)s" },
	{ "[s]\np = %()s\n", "bad %(name)s" },
	{ "[s]\np = %(x)d\nx = 1\n", "bad %(name)s" },
	{ "[s]\np = %(b)s\nb = %(p)s\n", "nested more than 10 deep" },
};

static void test_interp_errors(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(interp_errors); i++) {
		struct oim_err err = OIM_ERR_INIT;
		struct config *cfg = load(interp_errors[i].text, 0, &err);
		const char *v;
		if (config_get_str(cfg, "s", "p", NULL, &v, &err) != -1)
			fail_msg("case %zu: got '%s'", i, v);
		assert_contains(err.msg, interp_errors[i].want);
		config_free(cfg);
	}
}

/* Python allows exactly 10 levels of nesting. */
static void test_interp_depth(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addstr(&sb, "[s]\nv0 = end\n");
	for (int i = 1; i <= 11; i++)
		strbuf_addf(&sb, "v%d = %%(v%d)s\n", i, i - 1);
	struct oim_err err = OIM_ERR_INIT;
	struct config *cfg = load(sb.buf, 0, &err);
	const char *v;
	/* v10 -> v9 ... -> v0: 10 levels of values holding '%' */
	assert_int_equal(config_get_str(cfg, "s", "v10", NULL, &v, &err), 0);
	assert_string_equal(v, "end");
	assert_int_equal(config_get_str(cfg, "s", "v11", NULL, &v, &err), -1);
	assert_contains(err.msg, "nested more than 10");
	config_free(cfg);
	strbuf_release(&sb);
}

static void test_bools(void **state)
{
	static const struct {
		const char *s;
		int want;
	} cases[] = {
		{ "1", 1 },     { "yes", 1 },	{ "YES", 1 },  { "true", 1 },
		{ "True", 1 },	{ "on", 1 },	{ "On", 1 },   { "0", 0 },
		{ "no", 0 },	{ "No", 0 },	{ "false", 0 }, { "FALSE", 0 },
		{ "off", 0 },	{ "2", -1 },	{ "y", -1 },   { "", -1 },
		{ "yes ", -1 }, { "enabled", -1 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		if (config_parse_bool(cases[i].s) != cases[i].want)
			fail_msg("bool '%s'", cases[i].s);

	struct oim_err err = OIM_ERR_INIT;
	struct config *cfg = load("[general]\nfsync = off\nx = maybe\n", 0,
				  &err);
	bool b = true;
	assert_int_equal(config_get_bool(cfg, "general", "fsync", true, &b,
					 &err),
			 0);
	assert_false(b);
	assert_int_equal(config_get_bool(cfg, "general", "x", true, &b, &err),
			 -1);
	assert_contains(err.msg, "t.conf:3: option 'x' in [general]: 'maybe' "
				 "is not a boolean");
	/* unset: schema default (fsync defaults to true elsewhere) */
	assert_int_equal(config_get_bool(cfg, "general", "ignore-readonly",
					 true, &b, &err),
			 0);
	assert_false(b); /* schema default "no" beats the caller's */
	assert_int_equal(config_get_bool(cfg, "general", "notinschema", true,
					 &b, &err),
			 0);
	assert_true(b);
	config_free(cfg);
}

static void test_numbers(void **state)
{
	struct oim_err err = OIM_ERR_INIT;
	struct config *cfg = load("[s]\ni = 42\nn = -7\nu = 1_000\nbad = 4x\n"
				  "f = 3.25\ne = 1e3\nfi = 5\nfb = 1.2.3\n"
				  "hex = 0x10\nsp =  12 \n",
				  0, &err);
	long l;
	double d;
	assert_int_equal(config_get_int(cfg, "s", "i", 0, &l, &err), 0);
	assert_int_equal(l, 42);
	assert_int_equal(config_get_int(cfg, "s", "n", 0, &l, &err), 0);
	assert_int_equal(l, -7);
	assert_int_equal(config_get_int(cfg, "s", "u", 0, &l, &err), 0);
	assert_int_equal(l, 1000);
	assert_int_equal(config_get_int(cfg, "s", "sp", 0, &l, &err), 0);
	assert_int_equal(l, 12);
	assert_int_equal(config_get_int(cfg, "s", "bad", 0, &l, &err), -1);
	assert_contains(err.msg, "t.conf:5: option 'bad' in [s]: '4x' is not "
				 "an integer");
	assert_int_equal(config_get_int(cfg, "s", "hex", 0, &l, &err), -1);
	assert_int_equal(config_get_int(cfg, "s", "f", 0, &l, &err), -1);
	assert_int_equal(config_get_int(cfg, "s", "unset", 9, &l, &err), 0);
	assert_int_equal(l, 9);
	assert_int_equal(config_get_float(cfg, "s", "f", 0, &d, &err), 0);
	assert_true(d == 3.25);
	assert_int_equal(config_get_float(cfg, "s", "e", 0, &d, &err), 0);
	assert_true(d == 1000.0);
	assert_int_equal(config_get_float(cfg, "s", "fi", 0, &d, &err), 0);
	assert_true(d == 5.0);
	assert_int_equal(config_get_float(cfg, "s", "fb", 0, &d, &err), -1);
	assert_contains(err.msg, "not a number");
	assert_int_equal(config_get_float(cfg, "s", "hex", 0, &d, &err), -1);
	config_free(cfg);
}

static void test_has_and_defaults(void **state)
{
	struct oim_err err = OIM_ERR_INIT;
	struct config *cfg =
		load("[DEFAULT]\nd = 1\n[general]\n[Repository G]\ntype = "
		     "Gmail\n[Repository I]\ntype = IMAP\n",
		     0, &err);
	assert_true(config_has_section(cfg, "general"));
	assert_false(config_has_section(cfg, "General"));
	assert_false(config_has_section(cfg, "DEFAULT"));
	assert_true(config_has_option(cfg, "general", "d"));
	assert_true(config_has_option(cfg, "general", "D"));
	assert_true(config_has_option(cfg, "DEFAULT", "d"));
	/* as Python: an absent section has no options, not even DEFAULT's */
	assert_false(config_has_option(cfg, "nope", "d"));
	const char *s;
	long l;
	/* Gmail's own defaults; IMAP has none for remotehost */
	assert_int_equal(config_get_str(cfg, "Repository G", "remotehost",
					NULL, &s, &err),
			 0);
	assert_string_equal(s, "imap.gmail.com");
	assert_int_equal(config_get_str(cfg, "Repository I", "remotehost",
					"fallback", &s, &err),
			 0);
	assert_string_equal(s, "fallback");
	assert_int_equal(config_get_int(cfg, "Repository I", "maxconnections",
					5, &l, &err),
			 0);
	assert_int_equal(l, 1);
	assert_int_equal(config_get_str(cfg, "Repository G", "trashfolder",
					NULL, &s, &err),
			 0);
	assert_string_equal(s, "[Gmail]/Trash");
	assert_null(config_get_raw(cfg, "general", "nope"));
	assert_string_equal(config_get_raw(cfg, "general", "d"), "1");
	assert_contains(config_origin(cfg, "general", "d"),
			"[DEFAULT] t.conf:2");
	config_free(cfg);
}

static void test_list(void **state)
{
	struct oim_err err = OIM_ERR_INIT;
	struct config *cfg = load("[Account A]\nignorelabels = \\Inbox , "
				  "\\Starred,,  Work \n[general]\n",
				  0, &err);
	const char *const *l;
	size_t n;
	assert_int_equal(config_get_list(cfg, "Account A", "ignorelabels", &l,
					 &n, &err),
			 0);
	assert_int_equal(n, 3);
	assert_string_equal(l[0], "\\Inbox");
	assert_string_equal(l[1], "\\Starred");
	assert_string_equal(l[2], "Work");
	assert_null(l[3]);
	/* unset: the schema default, or nothing */
	assert_int_equal(config_get_list(cfg, "Account A", "filterheaders", &l,
					 &n, &err),
			 0);
	assert_int_equal(n, 0);
	assert_null(l[0]);
	assert_int_equal(config_get_list(cfg, "general", "accounts", &l, &n,
					 &err),
			 0);
	assert_int_equal(n, 0);
	config_free(cfg);
	cfg = load("[Repository R]\ntype = IMAP\n", 0, &err);
	assert_int_equal(config_get_list(cfg, "Repository R",
					 "auth_mechanisms", &l, &n, &err),
			 0);
	assert_int_equal(n, 5);
	assert_string_equal(l[0], "GSSAPI");
	assert_string_equal(l[4], "LOGIN");
	config_free(cfg);
}

static void test_path(void **state)
{
	struct oim_err err = OIM_ERR_INIT;
	setenv("HOME", "/home/tester", 1);
	setenv("OIM_T_VAR", "val", 1);
	unsetenv("OIM_T_UNSET");
	struct config *cfg = load("[general]\nmetadata = ~/meta/$OIM_T_VAR/"
				  "${OIM_T_VAR}/$OIM_T_UNSET\n"
				  "[mbnames]\nfilename = /abs\n",
				  0, &err);
	const char *p;
	assert_int_equal(config_get_path(cfg, "general", "metadata", NULL, &p,
					 &err),
			 0);
	assert_string_equal(p, "/home/tester/meta/val/val/$OIM_T_UNSET");
	assert_int_equal(config_get_path(cfg, "mbnames", "filename", NULL, &p,
					 &err),
			 0);
	assert_string_equal(p, "/abs");
	config_free(cfg);
	cfg = load("[general]\n", 0, &err);
	assert_int_equal(config_get_path(cfg, "general", "metadata", NULL, &p,
					 &err),
			 0);
	assert_string_equal(p, "/home/tester/.offlineimap");
	config_free(cfg);
}

/* peritem is read raw by OfflineIMAP: its %(...)s are for mbnames. */
static void test_raw_option(void **state)
{
	struct oim_err err = OIM_ERR_INIT;
	struct config *cfg =
		load("[mbnames]\nperitem = \"+%(accountname)s/%(foldername)s\"\n",
		     0, &err);
	const char *s;
	assert_int_equal(config_get_str(cfg, "mbnames", "peritem", NULL, &s,
					&err),
			 0);
	assert_string_equal(s, "\"+%(accountname)s/%(foldername)s\"");
	config_free(cfg);
}

/* ---- warnings ------------------------------------------------------------------ */

static const struct {
	const char *text, *want;
} warnings[] = {
	{ BASE "[Repository R]\nssl = no\n",
	  "t.conf:12: section [Repository R] given twice (first at line 9)" },
	{ BASE "maxconnections = 2\nmaxconnections = 3\n",
	  "t.conf:13: option 'maxconnections' given twice in [Repository R] "
	  "(first at line 12)" },
	{ BASE "remotehots = x\n",
	  "t.conf:12: unknown option 'remotehots' in [Repository R] (an IMAP "
	  "repository); did you mean 'remotehost'?" },
	{ BASE "localfolders = x\n",
	  "unknown option 'localfolders' in [Repository R]: it is not an "
	  "option of an IMAP repository (it belongs in a Maildir" },
	{ BASE "zzzqqq = x\n", "unknown option 'zzzqqq'" },
	{ "[general]\naccounts = A\n[Account A]\nlocalrepository = L\n"
	  "remoterepository = R\nstatus_backend = plain\n"
	  "[Repository L]\ntype = Maildir\nlocalfolders = ~/Mail\n"
	  "[Repository R]\ntype = IMAP\nremotehost = h\n",
	  "t.conf:6: option 'status_backend' in [Account A] is retired" },
	{ BASE "sep = /\n", "option 'sep' in [Repository R] is ignored" },
	{ BASE "[Strange]\n", "t.conf:12: unknown section [Strange]" },
	{ BASE "[Repository Unused]\ntype = imap\n",
	  "[Repository Unused] has the unknown type 'imap'" },
	{ BASE "[Account A] x\n", "text after the section header" },
	{ BASE "[Account A]\nautorefresh = -1\n", "autorefresh in [Account A] "
						  "is negative" },
	/* OfflineIMAP refuses these; not enabled, oimap warns */
	{ BASE "[mbnames]\n", "t.conf:12: [mbnames] has no peritem, header, "
			      "sep, footer, filename: OfflineIMAP refuses" },
	{ BASE "[mbnames]\nenabled = no\nheader = ''\nfilename = f\n",
	  "[mbnames] has no peritem, sep, footer: OfflineIMAP" },
};

static void test_warnings(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(warnings); i++) {
		struct oim_err err = OIM_ERR_INIT;
		struct config *cfg = load(warnings[i].text, 0, &err);
		if (config_validate(cfg, &err))
			fail_msg("case %zu: %s", i, err.msg);
		assert_contains(W.all.buf, warnings[i].want);
		config_free(cfg);
	}
	/* a variable used by %(...)s is not an unknown option */
	struct oim_err err = OIM_ERR_INIT;
	struct config *cfg = load(BASE "user = me\nremoteuser = %(user)s\n", 0,
				  &err);
	assert_int_equal(config_validate(cfg, &err), 0);
	assert_int_equal(W.n, 0);
	config_free(cfg);
	/* a clean config has no warnings */
	cfg = load(BASE, 0, &err);
	assert_int_equal(config_validate(cfg, &err), 0);
	assert_int_equal(W.n, 0);
	config_free(cfg);
}

/* ---- validation ----------------------------------------------------------------- */

static const struct {
	const char *text, *want;
} invalid[] = {
	{ "[general]\n", "t.conf:1: [general] has no 'accounts'" },
	{ "[Account A]\n", "no [general] section" },
	{ "[general]\naccounts = B, A\n[Account A]\n",
	  "t.conf:2: account 'B' listed in [general] accounts has no" },
	{ "[general]\naccounts = ,A\n", "empty account name" },
	{ "[general]\naccounts = X\n[Account A]\n",
	  "t.conf:2: account 'X' listed in [general] accounts has no "
	  "[Account X] section (known accounts: A)" },
	{ "[general]\naccounts = A\n[Account A]\nlocalrepository = L\n",
	  "t.conf:3: account 'A': [Account A] has no remoterepository" },
	{ "[general]\naccounts = A\n[Account A]\nremoterepository = R\n",
	  "[Account A] has no localrepository" },
	{ "[general]\naccounts = A\n[Account A]\nlocalrepository = L\n"
	  "remoterepository = R\n",
	  "t.conf:4: option 'localrepository' in [Account A]: account 'A' "
	  "uses repository 'L', but there is no [Repository L] section" },
	{ BASE "[Repository R]\ntype = imap\n",
	  "t.conf:13: option 'type' in [Repository R]: 'imap' is not one of "
	  "IMAP, Maildir, Gmail, GmailMaildir (case matters; did you mean "
	  "'IMAP')" },
	{ BASE "[Repository R]\ntype = Exchange\n", "'Exchange' is not one of" },
	{ "[general]\naccounts = A\n[Account A]\nlocalrepository = L\n"
	  "remoterepository = R\n[Repository L]\nlocalfolders = x\n"
	  "[Repository R]\ntype = IMAP\nremotehost = h\n",
	  "t.conf:6: [Repository L] has no 'type'" },
	{ "[general]\naccounts = A\n[Account A]\nlocalrepository = L\n"
	  "remoterepository = R\n[Repository L]\ntype = Maildir\n"
	  "localfolders = x\n[Repository R]\ntype = Maildir\nlocalfolders = "
	  "y\n",
	  "t.conf:5: option 'remoterepository' in [Account A]: account 'A': "
	  "[Repository R] is of type Maildir, which cannot be a remote" },
	{ "[general]\naccounts = A\n[Account A]\nlocalrepository = L\n"
	  "remoterepository = R\n[Repository L]\ntype = Gmail\n"
	  "[Repository R]\ntype = IMAP\nremotehost = h\n",
	  "cannot be a local repository" },
	{ BASE "maxconnections = many\n",
	  "t.conf:12: option 'maxconnections' in [Repository R]: 'many' is "
	  "not an integer" },
	{ BASE "maxconnections = 0\n", "0 is out of range (1 to 1000)" },
	{ BASE "remoteport = 70000\n", "out of range" },
	{ BASE "ssl = maybe\n", "t.conf:12: option 'ssl' in [Repository R]: "
				"'maybe' is not a boolean" },
	{ BASE "[Account A]\nautorefresh = soon\n",
	  "option 'autorefresh' in [Account A]: 'soon' is not a number" },
	{ BASE "[Account A]\nmaxage = 0\n", "0 days: must be at least 1" },
	{ BASE "[Account A]\nmaxage = 2015-02-30\n",
	  "neither a number of days nor a date" },
	{ BASE "startdate = 2015-13-01\n", "is not a date yyyy-mm-dd" },
	{ BASE "[Account A]\nproxy = SOCKS6:h:1\n", "is not TYPE:host:port" },
	{ BASE "tls_level = tls_paranoid\n", "'tls_paranoid' is not one of "
					     "tls_secure, tls_no_ssl" },
	{ BASE "auth_mechanisms = PLAIN, plain\n",
	  "'plain' is not one of GSSAPI, XOAUTH2, CRAM-MD5, PLAIN, LOGIN "
	  "(case matters; did you mean 'PLAIN')" },
	{ BASE "cert_fingerprint = abc\n", "'abc' is not a hexadecimal" },
	{ BASE "tls_level = tls_secure\n", "needs ssl_version" },
	{ BASE "tls_level = tls_secure\nssl_version = ssl23\n",
	  "ssl_version 'ssl23' is not allowed by tls_level 'tls_secure'" },
	{ BASE "preauthtunnel = a\ntransporttunnel = b\n",
	  "sets both preauthtunnel and transporttunnel" },
	{ "[general]\naccounts = A\n[Account A]\nlocalrepository = L\n"
	  "remoterepository = R\n[Repository L]\ntype = Maildir\n"
	  "[Repository R]\ntype = IMAP\nremotehost = h\n",
	  "t.conf:6: [Repository L] has no localfolders" },
	{ "[general]\naccounts = A\n[Account A]\nlocalrepository = L\n"
	  "remoterepository = R\n[Repository L]\ntype = Maildir\n"
	  "localfolders = x\n[Repository R]\ntype = IMAP\n",
	  "[Repository R] has no remotehost" },
	{ BASE "[Account A]\nutf8foldernames = yes\n[Repository R]\n"
	       "decodefoldernames = yes\n",
	  "t.conf:15: option 'decodefoldernames' in [Repository R]: account "
	  "'A' sets utf8foldernames: the account setting utf8foldernames and "
	  "the repository setting decodefoldernames may not be used at the "
	  "same time" },
	/* [mbnames]: what mbnames.py reads whatever 'enabled' says */
	{ BASE "[mbnames]\nenabled = yes\nfilename = f\nheader = ''\n"
	       "sep = ''\nfooter = ''\n",
	  "t.conf:12: [mbnames] has no 'peritem' option" },
	{ BASE "[mbnames]\nenabled = yes\nfilename = f\nperitem = x\n"
	       "sep = ''\nfooter = ''\n",
	  "t.conf:12: [mbnames] has no 'header' option" },
	{ BASE "[mbnames]\nenabled = yes\nfilename = f\nperitem = x\n"
	       "header = ''\nsep = ''\n",
	  "[mbnames] has no 'footer' option" },
	{ BASE "[mbnames]\nenabled = yes\nfooter = ''\nperitem = x\n"
	       "header = ''\nsep = ''\n",
	  "[mbnames] has no 'filename' option" },
	{ BASE "[mbnames]\nenabled = yes\nfilename = f\n",
	  "[mbnames] has no 'peritem' option: with enabled = yes it needs "
	  "peritem, header, sep, footer and filename" },
	{ BASE "[Account A]\nmaxage = 3\n[Repository L]\nstartdate = "
	       "2020-01-01\n",
	  "use only one of maxage and startdate" },
	{ BASE "[DEFAULT]\nssl = perhaps\n",
	  "option 'ssl' in [DEFAULT] (inherited by [Repository R]): "
	  "'perhaps' is not a boolean" },
	{ BASE "remoteuser = 50%\n",
	  "t.conf:12: option 'remoteuser' in [Repository R]: '%' must be "
	  "followed by" },
	/* a value built from a password variable is quoted as written */
	{ BASE "[DEFAULT]\npw = Hunter2\n[Repository R]\nmaxconnections = "
	       "%(pw)s\n",
	  "option 'maxconnections' in [Repository R]: '%(pw)s' is not an "
	  "integer" },
	/* a secret value is never quoted */
	{ BASE "remotepass = 50%\n",
	  "option 'remotepass' in [Repository R]: '%' must be followed by "
	  "'%' or '(' (write '%%' for a percent sign)" },
};

static void test_invalid(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(invalid); i++) {
		struct oim_err err = OIM_ERR_INIT;
		struct config *cfg = load(invalid[i].text, 0, &err);
		if (config_validate(cfg, &err) != -1)
			fail_msg("case %zu validated:\n%s", i, invalid[i].text);
		if (!strstr(err.msg, invalid[i].want))
			fail_msg("case %zu: '%s' not in '%s'", i,
				 invalid[i].want, err.msg);
		assert_int_equal(config_account_count(cfg), 0);
		config_free(cfg);
	}
	/* the secret itself does not appear */
	struct oim_err err = OIM_ERR_INIT;
	struct config *cfg = load(BASE "remotepass = s3cr%t\n", 0, &err);
	assert_int_equal(config_validate(cfg, &err), -1);
	assert_null(strstr(err.msg, "s3cr"));
	config_free(cfg);
	/* a complete [mbnames], [DEFAULT] filling in (ConfigParser) */
	cfg = load("[DEFAULT]\nsep = ', '\n" BASE
		   "[mbnames]\nenabled = no\nfilename = f\nperitem = x\n"
		   "header = ''\nfooter = ''\n",
		   0, &err);
	assert_int_equal(config_validate(cfg, &err), 0);
	config_free(cfg);
}

static void test_valid_types(void **state)
{
	struct oim_err err = OIM_ERR_INIT;
	struct config *cfg = load(
		BASE "maxconnections = 3\nssl = No\nremoteport = 1_43\n"
		     "auth_mechanisms = XOAUTH2,PLAIN , LOGIN\n"
		     "cert_fingerprint = "
		     "BB:FE:29:CF:97:AC:B2:04:59:1E:DB:AF:E0:AA:8C:8F:91:42:87:C9,"
		     " 0123456789abcdef0123456789abcdef0123456789abcdef01234567"
		     "89abcdef\n"
		     "tls_level = tls_no_ssl\nssl_version = tls1\n"
		     "[Account A]\nmaxage = 2015-04-01\nautorefresh = 0.5\n"
		     "proxy = SOCKS5:127.0.0.1:9050\nauthproxy =\n"
		     "[Repository L]\ncustomflag_x = $Junk\n",
		0, &err);
	if (config_validate(cfg, &err))
		fail_msg("%s", err.msg);
	/* only the merged [Account A] and [Repository L] */
	if (W.n != 2 || strstr(W.all.buf, "unknown"))
		fail_msg("warnings: %s", W.all.buf);
	config_free(cfg);
}

/* ---- accounts ------------------------------------------------------------------- */

static const char two_accounts[] =
	"[general]\naccounts = One ,  Two\n"
	"[Account One]\nlocalrepository = L1\nremoterepository = R1\n"
	"[Account Two]\nlocalrepository = L2\nremoterepository = R2\n"
	"[Account Three]\nlocalrepository = L1\nremoterepository = R1\n"
	"[Repository L1]\ntype = Maildir\nlocalfolders = /m1\n"
	"[Repository R1]\ntype = IMAP\nremotehost = h1\n"
	"[Repository L2]\ntype = GmailMaildir\nlocalfolders = /m2\n"
	"[Repository R2]\ntype = Gmail\nremoteuser = u\n";

static void test_accounts(void **state)
{
	struct oim_err err = OIM_ERR_INIT;
	struct config *cfg = load(two_accounts, 0, &err);
	assert_int_equal(config_validate(cfg, &err), 0);
	assert_int_equal(config_account_count(cfg), 2);
	const struct config_account *a = config_account_at(cfg, 0);
	assert_string_equal(a->name, "One");
	assert_string_equal(a->section, "Account One");
	assert_string_equal(a->local.name, "L1");
	assert_string_equal(a->local.section, "Repository L1");
	assert_int_equal(a->local.type, CONFIG_REPO_MAILDIR);
	assert_int_equal(a->remote.type, CONFIG_REPO_IMAP);
	a = config_account_at(cfg, 1);
	assert_string_equal(a->name, "Two");
	assert_int_equal(a->local.type, CONFIG_REPO_GMAILMAILDIR);
	assert_int_equal(a->remote.type, CONFIG_REPO_GMAIL);
	assert_int_equal(a->remote.kind, CONFIG_K_GMAIL);
	assert_null(config_account_at(cfg, 2));
	assert_null(config_account_find(cfg, "Three"));
	assert_non_null(config_account_find(cfg, "Two"));
	assert_string_equal(config_repo_type_name(CONFIG_REPO_GMAILMAILDIR),
			    "GmailMaildir");

	/* -a picks accounts, even one not in [general] accounts */
	config_select_accounts(cfg, "Three,One");
	assert_int_equal(config_account_count(cfg), 0); /* until validated */
	assert_int_equal(config_validate(cfg, &err), 0);
	assert_int_equal(config_account_count(cfg), 2);
	assert_string_equal(config_account_at(cfg, 0)->name, "Three");
	assert_string_equal(config_account_at(cfg, 1)->name, "One");

	config_select_accounts(cfg, "One,Nope");
	assert_int_equal(config_validate(cfg, &err), -1);
	assert_contains(err.msg, "account 'Nope' given with -a does not exist");
	assert_contains(err.msg, "known accounts: One, Two, Three");

	config_select_accounts(cfg, "One,One");
	assert_int_equal(config_validate(cfg, &err), 0);
	assert_int_equal(config_account_count(cfg), 1);
	assert_contains(W.all.buf, "given twice");
	config_free(cfg);
}

/* ---- -k and the command line ----------------------------------------------------- */

static void test_overrides(void **state)
{
	struct oim_err err = OIM_ERR_INIT;
	struct config *cfg = load(BASE "[Repository My Remote]\n", 0, &err);
	const char *s;
	assert_int_equal(config_apply_override(cfg, "metadata=/tmp/m", &err),
			 0);
	assert_int_equal(config_get_str(cfg, "general", "metadata", NULL, &s,
					&err),
			 0);
	assert_string_equal(s, "/tmp/m");
	assert_contains(config_origin(cfg, "general", "metadata"),
			"-k general:metadata");
	assert_int_equal(config_apply_override(
				 cfg, "Repository_R:RemoteHost=b=c", &err),
			 0);
	assert_string_equal(config_get_raw(cfg, "Repository R", "remotehost"),
			    "b=c");
	assert_int_equal(config_apply_override(
				 cfg, "Repository_My_Remote:x=1", &err),
			 0);
	assert_string_equal(config_get_raw(cfg, "Repository My Remote", "x"),
			    "1");
	assert_int_equal(config_apply_override(cfg, "DEFAULT:d=2", &err), 0);
	assert_string_equal(config_get_raw(cfg, "Account A", "d"), "2");
	/* the value may hold ':' */
	assert_int_equal(config_apply_override(cfg, "ui=a:b", &err), 0);
	assert_string_equal(config_get_raw(cfg, "general", "ui"), "a:b");
	/* later -k wins */
	assert_int_equal(config_apply_override(cfg, "ui=basic", &err), 0);
	assert_string_equal(config_get_raw(cfg, "general", "ui"), "basic");

	assert_int_equal(config_apply_override(cfg, "metadata", &err), -1);
	assert_contains(err.msg, "-k 'metadata': expected "
				 "[section:]option=value");
	assert_int_equal(config_apply_override(cfg, "Nope:x=1", &err), -1);
	assert_contains(err.msg, "no section [Nope]");
	assert_int_equal(config_apply_override(cfg, "=1", &err), -1);
	assert_contains(err.msg, "option name missing");
	/* an override's value is validated like the file's */
	assert_int_equal(config_apply_override(cfg,
					       "Repository_R:ssl=sometimes",
					       &err),
			 0);
	assert_int_equal(config_validate(cfg, &err), -1);
	assert_contains(err.msg, "command line (-k Repository R:ssl): option "
				 "'ssl' in [Repository R]");
	config_free(cfg);
}

static void test_cmdline_changes(void **state)
{
	struct oim_err err = OIM_ERR_INIT;
	struct config *cfg =
		load("[DEFAULT]\nautorefresh = 3\n" BASE
		     "[Account A]\nautorefresh = 5\n[Account B]\n"
		     "localrepository = L\nremoterepository = R\n",
		     0, &err);
	const char *s;
	config_set_run_once(cfg);
	assert_false(config_has_option(cfg, "Account A", "autorefresh"));
	assert_false(config_has_option(cfg, "Account B", "autorefresh"));
	config_set_quick(cfg);
	assert_string_equal(config_get_raw(cfg, "Account A", "quick"), "-1");
	assert_string_equal(config_get_raw(cfg, "Account B", "quick"), "-1");
	config_set_dry_run(cfg);
	bool b = false;
	assert_int_equal(config_get_bool(cfg, "general", "dry-run", false, &b,
					 &err),
			 0);
	assert_true(b);

	config_set_folders(cfg, "INBOX,Sent Items,it's,a%b");
	assert_int_equal(config_get_str(cfg, "Repository R", "folderfilter",
					NULL, &s, &err),
			 0);
	assert_string_equal(s, "lambda f: f in ['INBOX', 'Sent Items', "
			       "\"it's\", 'a%b']");
	assert_string_equal(config_get_raw(cfg, "Repository R",
					   "folderincludes"),
			    "[]");
	assert_false(config_has_option(cfg, "Repository L", "folderfilter"));
	const char *const *f = config_folders(cfg);
	assert_non_null(f);
	assert_string_equal(f[1], "Sent Items");
	assert_null(f[4]);
	assert_int_equal(config_validate(cfg, &err), 0);
	config_free(cfg);

	cfg = load(BASE, 0, &err);
	assert_null(config_folders(cfg));
	config_set(cfg, "general", "x", "y");
	assert_string_equal(config_get_raw(cfg, "general", "x"), "y");
	config_free(cfg);
}

/* ---- the schema ------------------------------------------------------------------- */

static void test_schema(void **state)
{
	size_t n;
	const struct config_option *tab = config_schema(&n);
	assert_true(n > 90);
	for (size_t i = 0; i < n; i++) {
		const struct config_option *o = &tab[i];
		assert_true(o->kinds != 0);
		assert_non_null(o->doc);
		for (const char *c = o->name; *c; c++)
			if (*c >= 'A' && *c <= 'Z')
				fail_msg("%s not lowercase", o->name);
		if ((o->type == CONFIG_T_ENUM || o->type == CONFIG_T_ENUMLIST) &&
		    !o->choices)
			fail_msg("%s: no choices", o->name);
		if (!o->def)
			continue;
		long l;
		double d;
		switch (o->type) {
		case CONFIG_T_BOOL:
			if (config_parse_bool(o->def) < 0)
				fail_msg("%s default", o->name);
			break;
		case CONFIG_T_INT:
			if (oim_parse_long(o->def, &l))
				fail_msg("%s default", o->name);
			break;
		case CONFIG_T_FLOAT:
			if (sscanf(o->def, "%lf", &d) != 1)
				fail_msg("%s default", o->name);
			break;
		default:
			break;
		}
	}
	/* kinds */
	assert_non_null(config_schema_find(CONFIG_K_GENERAL, "accounts"));
	assert_null(config_schema_find(CONFIG_K_ACCOUNT, "accounts"));
	assert_non_null(config_schema_find(CONFIG_K_GMAIL, "remotepass"));
	assert_non_null(config_schema_find(CONFIG_K_IMAP, "RemotePass"));
	assert_null(config_schema_find(CONFIG_K_MAILDIR, "remotepass"));
	assert_non_null(config_schema_find(CONFIG_K_GMAILMAILDIR,
					   "localfolders"));
	assert_null(config_schema_find(CONFIG_K_IMAP, "localfolders"));
	assert_null(config_schema_find(CONFIG_K_IMAP, "trashfolder"));
	assert_non_null(config_schema_find(CONFIG_K_GMAIL, "trashfolder"));
	assert_non_null(config_schema_find(CONFIG_K_MAILDIR, "customflag_q"));
	assert_null(config_schema_find(CONFIG_K_MAILDIR, "customflag_qq"));
	assert_null(config_schema_find(CONFIG_K_MAILDIR, "customflag_1"));
	assert_int_equal(config_schema_find(CONFIG_K_IMAP, "remotepass")->type,
			 CONFIG_T_PASSWORD);
	assert_true(config_schema_find(CONFIG_K_IMAP, "remotepasseval")->flags &
		    CONFIG_F_SECRET);
	assert_int_equal(config_schema_find(CONFIG_K_IMAP, "folderfilter")->type,
			 CONFIG_T_PYEXPR);
	assert_string_equal(config_schema_find(CONFIG_K_GMAIL, "remoteport")->def,
			    "993");
	assert_null(config_schema_find(CONFIG_K_IMAP, "remoteport")->def);
	assert_string_equal(config_type_name(CONFIG_T_BOOL), "boolean");

	struct oim_err err = OIM_ERR_INIT;
	struct config *cfg = load(two_accounts, 0, &err);
	assert_int_equal(config_section_kind(cfg, "general"), CONFIG_K_GENERAL);
	assert_int_equal(config_section_kind(cfg, "Account One"),
			 CONFIG_K_ACCOUNT);
	assert_int_equal(config_section_kind(cfg, "Repository R2"),
			 CONFIG_K_GMAIL);
	assert_int_equal(config_section_kind(cfg, "Repository L2"),
			 CONFIG_K_GMAILMAILDIR);
	assert_int_equal(config_section_kind(cfg, "weird"), 0);
	config_free(cfg);
}

/* ---- --info ------------------------------------------------------------------------ */

static char *info(struct config *cfg, const struct config_cmdline *cl)
{
	struct oim_err err = OIM_ERR_INIT;
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	assert_non_null(out);
	if (config_print_info(cfg, cl, out, &err))
		fail_msg("%s", err.msg);
	fclose(out);
	return buf;
}

static void test_info(void **state)
{
	struct oim_err err = OIM_ERR_INIT;
	struct config *cfg = load(
		"[DEFAULT]\npw = Hunter2Secret\nroot = /mail\n" BASE
		"remotepass = %(pw)s\nremoteuser = me\n"
		"oauth2_refresh_token = TokenSecret\n"
		"folderfilter = lambda f: f in [\n   'a',\n   'b']\n"
		"[Repository L]\nlocalfolders = %(root)s/x\n",
		0, &err);
	assert_int_equal(config_validate(cfg, &err), 0);
	struct config_cmdline cl = { 0 };
	cl.quick = true;
	cl.single_thread = true;
	cl.single_thread_why = "-1";
	const char *ovr[] = { "Repository_R:remotepass=KSecret" };
	cl.overrides = ovr;
	cl.n_overrides = 1;
	char *out = info(cfg, &cl);
	assert_null(strstr(out, "Hunter2Secret"));
	assert_null(strstr(out, "TokenSecret"));
	assert_null(strstr(out, "KSecret"));
	assert_contains(out, "remotepass = <redacted>");
	assert_contains(out, "pw = <redacted>");
	assert_contains(out, "oauth2_refresh_token = <redacted>");
	assert_contains(out, "remoteuser = me");
	assert_contains(out, "localfolders = /mail/x");
	assert_contains(out, "Accounts to sync (1): A");
	assert_contains(out, "Local repository L: type Maildir");
	assert_contains(out, "Remote repository R: type IMAP");
	assert_contains(out, "ssl = yes  (default)");
	assert_contains(out, "folderfilter = lambda f: f in [\n");
	assert_contains(out, "quick: yes");
	assert_contains(out, "single thread: yes (-1)");
	assert_contains(out, "override: -k Repository_R:remotepass\n");
	free(out);
	config_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_python_differential),
		cmocka_unit_test(test_read_errors),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_read_file),
		cmocka_unit_test(test_interp_errors),
		cmocka_unit_test(test_interp_depth),
		cmocka_unit_test(test_bools),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_has_and_defaults),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_path),
		cmocka_unit_test(test_raw_option),
		cmocka_unit_test(test_warnings),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_valid_types),
		cmocka_unit_test(test_accounts),
		cmocka_unit_test(test_overrides),
		cmocka_unit_test(test_cmdline_changes),
		cmocka_unit_test(test_schema),
		cmocka_unit_test(test_info),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	strbuf_release(&W.all);
	return rc;
}
