/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_account: the pure pieces of the account sync: folder name
 * translation, filters, folder creation and its round-trip check, pairing,
 * and the order of IMAP password sources.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "testutil.h"

#include <stdio.h>
#include <unistd.h>

#include "config/config.h"
#include "pyeval/pyeval.h"
#include "run/mbnames.h"
#include "run/passwords.h"
#include "run/run.h"
#include "ui/ui.h"
#include "sync/account.h"
#include "util/util.h"

/* ---- helpers ---- */

static void list_add(struct store_folder_list *l, const char *name,
		     bool noselect)
{
	ALLOC_GROW(l->v, l->nr, l->alloc);
	l->v[l->nr].name = xstrdup(name);
	l->v[l->nr].noselect = noselect;
	l->nr++;
}

static void list_of(struct store_folder_list *l, char sep,
		    const char *const *names)
{
	memset(l, 0, sizeof(*l));
	l->sep = sep;
	for (; *names; names++) {
		const char *n = *names;
		bool nosel = n[0] == '!';
		list_add(l, nosel ? n + 1 : n, nosel);
	}
}

static struct acct_repo_rules rules(const char *repo, char sep, bool create)
{
	struct acct_repo_rules r;
	memset(&r, 0, sizeof(r));
	r.repo = repo;
	r.sep = sep;
	r.create = create;
	return r;
}

static bool has(char **v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i], s))
			return true;
	return false;
}

static size_t index_of(char **v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i], s))
			return i;
	return SIZE_MAX;
}

/* ---- names ---- */

static void test_sep_translate(void **state)
{
	char *s = acct_sep_translate("a/b/c", '/', '.');
	assert_string_equal(s, "a.b.c");
	free(s);
	s = acct_sep_translate("a.b", '.', '.');
	assert_string_equal(s, "a.b");
	free(s);
}

static void test_visible_default_nametrans(void **state)
{
	struct acct_repo_rules r = rules("R", '/', true);
	struct oim_err err = OIM_ERR_INIT;
	char *v = NULL;
	assert_int_equal(acct_visible_name(&r, "INBOX/sub", &v, &err), 0);
	assert_string_equal(v, "INBOX/sub");
	free(v);
	/* the separator alone is the top-level folder "" */
	assert_int_equal(acct_visible_name(&r, "/", &v, &err), 0);
	assert_string_equal(v, "");
	free(v);
}

static void test_should_sync(void **state)
{
	const char *const only[] = {"INBOX", "Sent", NULL};
	const char *const inc[] = {"Extra", NULL};
	struct acct_repo_rules r = rules("R", '/', true);
	struct oim_err err = OIM_ERR_INIT;
	bool b = false;

	assert_int_equal(acct_should_sync(&r, "Any", &b, &err), 0);
	assert_true(b);
	r.only = only;
	assert_int_equal(acct_should_sync(&r, "Sent", &b, &err), 0);
	assert_true(b);
	assert_int_equal(acct_should_sync(&r, "Trash", &b, &err), 0);
	assert_false(b);
	/* -f is exact: no prefix or case folding */
	assert_int_equal(acct_should_sync(&r, "sent", &b, &err), 0);
	assert_false(b);
	r.includes = inc;
	assert_int_equal(acct_should_sync(&r, "Extra", &b, &err), 0);
	assert_true(b);
}

/* ---- folder structure ---- */

static void test_create_both_ways(void **state)
{
	const char *const rn[] = {"INBOX", "Archive", "Archive/2023",
				  "!Top",  "Top/Sub", NULL};
	const char *const ln[] = {"INBOX", "Archive", "Local.New.Deep", "Top",
				  NULL};
	struct store_folder_list rl, ll;
	struct acct_repo_rules r = rules("Remote", '/', true);
	struct acct_repo_rules l = rules("Local", '.', true);
	struct acct_folder_plan p;
	struct oim_err err = OIM_ERR_INIT;

	list_of(&rl, '/', rn);
	list_of(&ll, '.', ln);
	memset(&p, 0, sizeof(p));
	assert_int_equal(acct_plan_create(&r, &rl, &l, &ll, &p, &err), 0);
	/* remote -> local: Archive/2023 and Top/Sub (Top is \Noselect) */
	assert_int_equal(p.n_create_local, 2);
	assert_true(has(p.create_local, p.n_create_local, "Archive.2023"));
	assert_true(has(p.create_local, p.n_create_local, "Top.Sub"));
	/* local -> remote: the nested folder with its parents, parents
	 * first; "Top" exists as \Noselect and is not created again */
	assert_int_equal(p.n_create_remote, 3);
	size_t a = index_of(p.create_remote, p.n_create_remote, "Local");
	size_t b = index_of(p.create_remote, p.n_create_remote, "Local/New");
	size_t c =
	    index_of(p.create_remote, p.n_create_remote, "Local/New/Deep");
	assert_true(a < b && b < c && c != SIZE_MAX);
	assert_false(has(p.create_remote, p.n_create_remote, "Top"));
	acct_folder_plan_release(&p);

	/* createfolders off / readonly: nothing on that side */
	l.create = false;
	assert_int_equal(acct_plan_create(&r, &rl, &l, &ll, &p, &err), 0);
	assert_int_equal(p.n_create_local, 0);
	assert_int_equal(p.n_create_remote, 3);
	acct_folder_plan_release(&p);
	r.create = false;
	l.create = true;
	assert_int_equal(acct_plan_create(&r, &rl, &l, &ll, &p, &err), 0);
	assert_int_equal(p.n_create_remote, 0);
	assert_int_equal(p.n_create_local, 2);
	acct_folder_plan_release(&p);
	store_folder_list_release(&rl);
	store_folder_list_release(&ll);
}

static void test_create_respects_filters(void **state)
{
	const char *const only[] = {"INBOX", NULL};
	const char *const rn[] = {"INBOX", "Spam", NULL};
	const char *const ln[] = {"INBOX", "Drafts", NULL};
	struct store_folder_list rl, ll;
	struct acct_repo_rules r = rules("Remote", '/', true);
	struct acct_repo_rules l = rules("Local", '.', true);
	struct acct_folder_plan p;
	struct oim_err err = OIM_ERR_INIT;

	r.only = only;
	list_of(&rl, '/', rn);
	list_of(&ll, '.', ln);
	memset(&p, 0, sizeof(p));
	assert_int_equal(acct_plan_create(&r, &rl, &l, &ll, &p, &err), 0);
	/* Spam is filtered out remotely: not created locally; Drafts would
	 * be filtered out on the remote: not created there */
	assert_int_equal(p.n_create_local, 0);
	assert_int_equal(p.n_create_remote, 0);
	acct_folder_plan_release(&p);
	store_folder_list_release(&rl);
	store_folder_list_release(&ll);
}

static void test_sep_clash_skipped(void **state)
{
	/* a remote name holding the local separator '.' cannot come back */
	const char *const rn[] = {"INBOX", "a.b", NULL};
	const char *const ln[] = {"INBOX", NULL};
	struct store_folder_list rl, ll;
	struct acct_repo_rules r = rules("Remote", '/', true);
	struct acct_repo_rules l = rules("Local", '.', true);
	struct acct_folder_plan p;
	struct oim_err err = OIM_ERR_INIT;

	list_of(&rl, '/', rn);
	list_of(&ll, '.', ln);
	memset(&p, 0, sizeof(p));
	assert_int_equal(acct_plan_create(&r, &rl, &l, &ll, &p, &err), 0);
	assert_int_equal(p.n_create_local, 0);
	assert_int_equal(acct_plan_pairs(&r, &rl, &l, &ll, false, &p, &err), 0);
	assert_int_equal(p.n_pairs, 1);
	assert_string_equal(p.pairs[0].remote_name, "INBOX");
	acct_folder_plan_release(&p);
	/* with sep '/' on both sides the name is fine */
	l.sep = '/';
	ll.sep = '/';
	assert_int_equal(acct_plan_create(&r, &rl, &l, &ll, &p, &err), 0);
	assert_int_equal(p.n_create_local, 1);
	acct_folder_plan_release(&p);
	store_folder_list_release(&rl);
	store_folder_list_release(&ll);
}

static void test_pairs_sorted_and_matched(void **state)
{
	const char *const rn[] = {"sent",	  "INBOX", "!Parent",
				  "Archive/2023", "Gone",  NULL};
	const char *const ln[] = {"INBOX", "sent", "Archive.2023", NULL};
	struct store_folder_list rl, ll;
	struct acct_repo_rules r = rules("Remote", '/', true);
	struct acct_repo_rules l = rules("Local", '.', true);
	struct acct_folder_plan p;
	struct oim_err err = OIM_ERR_INIT;

	list_of(&rl, '/', rn);
	list_of(&ll, '.', ln);
	memset(&p, 0, sizeof(p));
	assert_int_equal(acct_plan_pairs(&r, &rl, &l, &ll, false, &p, &err), 0);
	/* Gone has no local folder, Parent is \Noselect */
	assert_int_equal(p.n_pairs, 3);
	/* sorted by lower-cased visible name */
	assert_string_equal(p.pairs[0].remote_name, "Archive/2023");
	assert_string_equal(p.pairs[0].local_name, "Archive.2023");
	assert_string_equal(p.pairs[0].local_visible, "Archive.2023");
	assert_string_equal(p.pairs[1].remote_name, "INBOX");
	assert_string_equal(p.pairs[2].remote_name, "sent");
	acct_folder_plan_release(&p);

	/* dry run: the missing one is kept, marked */
	assert_int_equal(acct_plan_pairs(&r, &rl, &l, &ll, true, &p, &err), 0);
	assert_int_equal(p.n_pairs, 4);
	bool seen = false;
	for (size_t i = 0; i < p.n_pairs; i++)
		if (!strcmp(p.pairs[i].remote_name, "Gone")) {
			seen = true;
			assert_true(p.pairs[i].local_missing);
		} else {
			assert_false(p.pairs[i].local_missing);
		}
	assert_true(seen);
	acct_folder_plan_release(&p);
	store_folder_list_release(&rl);
	store_folder_list_release(&ll);
}

static void test_roundtrip_check(void **state)
{
	struct oim_err err = OIM_ERR_INIT;
	if (!pyeval_available()) {
		skip();
		return;
	}
	assert_int_equal(pyeval_init(NULL, &err), 0);

	const char *const rn[] = {"INBOX", NULL};
	const char *const ln[] = {"INBOX", "work", NULL};
	struct store_folder_list rl, ll;
	struct acct_repo_rules r = rules("Remote", '/', true);
	struct acct_repo_rules l = rules("Local", '.', true);
	struct acct_folder_plan p;
	struct pyeval_expr *up = NULL, *low = NULL;

	list_of(&rl, '/', rn);
	list_of(&ll, '.', ln);
	memset(&p, 0, sizeof(p));
	/* local nametrans upper-cases: "work" -> remote "WORK", whose remote
	 * visible name (identity) "WORK" is not "work": refused */
	assert_int_equal(pyeval_compile("lambda f: f.upper()", "nametrans",
					NULL, PYEVAL_F_RE, &up, &err),
			 0);
	l.nametrans = up;
	assert_int_equal(acct_plan_create(&r, &rl, &l, &ll, &p, &err), -1);
	assert_int_equal(err.sev, OIM_SEV_ACCOUNT);
	assert_non_null(strstr(err.msg, "infinite folder creation"));
	acct_folder_plan_release(&p);

	/* with the inverse on the remote it is accepted */
	assert_int_equal(pyeval_compile("lambda f: f.lower()", "nametrans",
					NULL, PYEVAL_F_RE, &low, &err),
			 0);
	r.nametrans = low;
	oim_err_clear(&err);
	assert_int_equal(acct_plan_create(&r, &rl, &l, &ll, &p, &err), 0);
	assert_int_equal(p.n_create_remote, 1);
	assert_string_equal(p.create_remote[0], "WORK");
	acct_folder_plan_release(&p);

	pyeval_expr_free(up);
	pyeval_expr_free(low);
	store_folder_list_release(&rl);
	store_folder_list_release(&ll);
}

/* ---- password sources ---- */

struct tmp {
	char dir[64];
	char *home_netrc, *etc_netrc, *passfile;
};

static void tmp_setup(struct tmp *t)
{
	snprintf(t->dir, sizeof(t->dir), "/tmp/oimap-acct-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	t->home_netrc = xasprintf("%s/netrc", t->dir);
	t->etc_netrc = xasprintf("%s/etc-netrc", t->dir);
	t->passfile = xasprintf("%s/pass", t->dir);
}

static void tmp_cleanup(struct tmp *t)
{
	unlink(t->home_netrc);
	unlink(t->etc_netrc);
	unlink(t->passfile);
	rmdir(t->dir);
	free(t->home_netrc);
	free(t->etc_netrc);
	free(t->passfile);
}

static struct config *cfg_of(const char *text)
{
	struct config *cfg = config_new();
	struct oim_err err = OIM_ERR_INIT;
	config_set_warn_fn(cfg, NULL, NULL);
	assert_int_equal(
	    config_read_string(cfg, "rc", text, strlen(text), &err), 0);
	return cfg;
}

static char *password_for(const char *rc_body, const struct tmp *t,
			  char **user_r)
{
	struct creds_netrc_paths paths = {t->home_netrc, t->etc_netrc};
	struct imap_creds c;
	struct oim_err err = OIM_ERR_INIT;
	char *text = xasprintf("[Repository R]\ntype = IMAP\n"
			       "remotehost = mail.example\n%s",
			       rc_body);
	struct config *cfg = cfg_of(text);
	char *pass = NULL;
	assert_int_equal(
	    imap_creds_get(cfg, "Repository R", &paths, true, &c, &err), 0);
	if (c.password)
		pass = xstrdup(c.password);
	if (user_r)
		*user_r = c.user ? xstrdup(c.user) : NULL;
	imap_creds_release(&c);
	config_free(cfg);
	free(text);
	return pass;
}

static void test_password_order(void **state)
{
	struct tmp t;
	char *p, *u = NULL, *body;
	tmp_setup(&t);
	test_write_file(t.home_netrc,
		   "machine mail.example login bob password from-netrc\n");
	test_write_file(t.etc_netrc,
		   "machine mail.example login carol password from-etc\n");
	test_write_file(t.passfile, "  from-file  \nsecond line\n");

	/* remotepass beats remotepassfile and netrc */
	body = xasprintf("remotepass = from-rc\nremotepassfile = %s\n",
			 t.passfile);
	p = password_for(body, &t, NULL);
	assert_string_equal(p, "from-rc");
	free(p);
	free(body);

	/* remotepassfile: first line, stripped */
	body = xasprintf("remotepassfile = %s\n", t.passfile);
	p = password_for(body, &t, NULL);
	assert_string_equal(p, "from-file");
	free(p);
	free(body);

	/* ~/.netrc, and the user comes from it too */
	p = password_for("", &t, &u);
	assert_string_equal(p, "from-netrc");
	assert_string_equal(u, "bob");
	free(p);
	free(u);

	/* remoteuser not matching ~/.netrc's login: /etc/netrc's entry for
	 * that user */
	p = password_for("remoteuser = carol\n", &t, &u);
	assert_string_equal(p, "from-etc");
	assert_string_equal(u, "carol");
	free(p);
	free(u);

	/* matching nobody: no password */
	p = password_for("remoteuser = dave\n", &t, NULL);
	assert_null(p);

	/* no ~/.netrc at all: /etc/netrc */
	unlink(t.home_netrc);
	p = password_for("", &t, &u);
	assert_string_equal(p, "from-etc");
	assert_null(u);
	free(p);
	tmp_cleanup(&t);
}

static void test_password_eval_first(void **state)
{
	struct tmp t;
	struct oim_err err = OIM_ERR_INIT;
	char *p;
	if (!pyeval_available()) {
		skip();
		return;
	}
	assert_int_equal(pyeval_init(NULL, &err), 0);
	tmp_setup(&t);
	p = password_for("remotepasseval = 'from' + '-eval'\n"
			 "remotepass = from-rc\n",
			 &t, NULL);
	assert_string_equal(p, "from-eval");
	free(p);

	/* evaluated once per repository: the counter file grows once; after
	 * imap_creds_forget() it is evaluated again */
	char *count = xasprintf("%s/count", t.dir);
	char *body = xasprintf("remotepasseval = open('%s', 'a').write('x') "
			       "and 'counted'\n",
			       count);
	imap_creds_forget("Repository R");
	for (int i = 0; i < 2; i++) {
		p = password_for(body, &t, NULL);
		assert_string_equal(p, "counted");
		free(p);
	}
	FILE *f = fopen(count, "r");
	char buf[16] = "";
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	assert_string_equal(buf, "x");
	imap_creds_forget("Repository R");
	p = password_for(body, &t, NULL);
	free(p);
	f = fopen(count, "r");
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	assert_string_equal(buf, "xx");
	imap_creds_cache_clear();
	unlink(count);
	free(count);
	free(body);
	tmp_cleanup(&t);
}

static void test_passfile_missing_is_error(void **state)
{
	struct imap_creds c;
	struct oim_err err = OIM_ERR_INIT;
	struct creds_netrc_paths paths = {"/nonexistent/a", "/nonexistent/b"};
	struct config *cfg = cfg_of("[Repository R]\ntype = IMAP\n"
				    "remotehost = h\n"
				    "remotepassfile = /nonexistent/pass\n");
	assert_int_equal(
	    imap_creds_get(cfg, "Repository R", &paths, true, &c, &err), -1);
	assert_int_equal(err.sev, OIM_SEV_ACCOUNT);
	assert_non_null(strstr(err.msg, "/nonexistent/pass"));
	/* a preauth tunnel needs no password: not even read */
	assert_int_equal(
	    imap_creds_get(cfg, "Repository R", &paths, false, &c, &err), 0);
	assert_null(c.password);
	imap_creds_release(&c);
	config_free(cfg);
}

/* ---- hooks and the summary line ---- */

static void test_run_hook(void **state)
{
	struct oim_err err = OIM_ERR_INIT;
	int st = -1;
	char dir[] = "/tmp/oimap-hook-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *mark = xasprintf("%s/ran", dir);
	char *cmd = xasprintf("echo hello; touch %s; exit 3", mark);

	/* dry run: announced, not run */
	assert_int_equal(run_hook("A", cmd, true, &st, &err), 0);
	assert_int_equal(st, 0);
	assert_int_equal(access(mark, F_OK), -1);
	/* real run: the exit status comes back, a failing hook is no error */
	assert_int_equal(run_hook("A", cmd, false, &st, &err), 0);
	assert_int_equal(st, 3);
	assert_int_equal(access(mark, F_OK), 0);
	/* stdin is /dev/null: a hook reading it does not hang */
	assert_int_equal(run_hook("A", "cat; exit 0", false, &st, &err), 0);
	assert_int_equal(st, 0);
	unlink(mark);
	rmdir(dir);
	free(mark);
	free(cmd);
}

static void test_counts_text(void **state)
{
	char buf[128];
	struct ui_folder_counts c = {
	    .new_local = 3, .uploaded = 1, .flags = 2, .deleted = 1};
	assert_string_equal(ui_counts_text(&c, buf, sizeof(buf)),
			    "3 new, 1 uploaded, 2 flags changed, 1 deleted");
	c.failed = 2;
	c.dry_run = true;
	assert_string_equal(ui_counts_text(&c, buf, sizeof(buf)),
			    "3 new, 1 uploaded, 2 flags changed, 1 deleted, "
			    "2 failed (dry run)");
	memset(&c, 0, sizeof(c));
	c.skipped = true;
	assert_string_equal(ui_counts_text(&c, buf, sizeof(buf)),
			    "unchanged, skipped");
}

/* ---- mbnames ---- */

static void test_mbnames_json(void **state)
{
	/* as Python's json.dump writes it, non-ASCII escaped, and null for
	 * the localfolders of an IMAP local side */
	const char *text = "[{\"accountname\": \"A\", \"foldername\": "
			   "\"Entw\\u00fcrfe\", \"localfolders\": \"/m\"}, "
			   "{\"foldername\": \"x\\\"y\\ud83d\\ude00\", "
			   "\"accountname\": \"B\", \"localfolders\": null}]\n";
	char **items = NULL;
	size_t n = 0;
	struct oim_err err = OIM_ERR_INIT;
	assert_int_equal(
	    mbnames_parse_json(text, strlen(text), &items, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(items[0], "A");
	assert_string_equal(items[1], "Entw\xc3\xbcrfe");
	assert_string_equal(items[2], "/m");
	assert_string_equal(items[3], "B");
	assert_string_equal(items[4], "x\"y\xf0\x9f\x98\x80");
	assert_string_equal(items[5], "None");
	for (size_t i = 0; i < 6; i++)
		free(items[i]);
	free(items);

	assert_int_equal(mbnames_parse_json("[]", 2, &items, &n, &err), 0);
	assert_int_equal(n, 0);
	free(items);
	assert_int_equal(
	    mbnames_parse_json("[{\"a\": 1}]", 10, &items, &n, &err), -1);
	assert_int_equal(mbnames_parse_json("[{}", 3, &items, &n, &err), -1);
}

static void test_mbnames_peritem(void **state)
{
	const char *item[3] = {"Acc", "INBOX", "/mail"};
	struct oim_err err = OIM_ERR_INIT;
	char *out = NULL;
	assert_int_equal(mbnames_format_item("+%(accountname)s/%(foldername)s "
					     "100%% %(localfolders)s",
					     item, &out, &err),
			 0);
	assert_string_equal(out, "+Acc/INBOX 100% /mail");
	free(out);
	assert_int_equal(mbnames_format_item("%(nope)s", item, &out, &err), -1);
	assert_int_equal(mbnames_format_item("%d", item, &out, &err), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sep_translate),
	    cmocka_unit_test(test_visible_default_nametrans),
	    cmocka_unit_test(test_should_sync),
	    cmocka_unit_test(test_create_both_ways),
	    cmocka_unit_test(test_create_respects_filters),
	    cmocka_unit_test(test_sep_clash_skipped),
	    cmocka_unit_test(test_pairs_sorted_and_matched),
	    cmocka_unit_test(test_password_order),
	    cmocka_unit_test(test_passfile_missing_is_error),
	    cmocka_unit_test(test_run_hook),
	    cmocka_unit_test(test_counts_text),
	    cmocka_unit_test(test_mbnames_json),
	    cmocka_unit_test(test_mbnames_peritem),
	    /* these start the interpreter (once per process) */
	    cmocka_unit_test(test_roundtrip_check),
	    cmocka_unit_test(test_password_eval_first),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	pyeval_shutdown();
	return rc;
}
