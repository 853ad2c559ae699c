/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_account_names: folder names of the account sync (sync/account-names.c)
 * for decodefoldernames and for remote folders without a local folder
 * (createfolders = no, readonly).  test_account.c has the general rules.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "pyeval/pyeval.h"
#include "sync/account.h"
#include "util/util.h"

static void list_of(struct store_folder_list *l, char sep,
		    const char *const *names)
{
	memset(l, 0, sizeof(*l));
	l->sep = sep;
	for (; *names; names++) {
		ALLOC_GROW(l->v, l->nr, l->alloc);
		l->v[l->nr].name = xstrdup(*names);
		l->v[l->nr].noselect = false;
		l->nr++;
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

static size_t index_of(char **v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i], s))
			return i;
	return SIZE_MAX;
}

static void check_visible(const struct acct_repo_rules *r, const char *name,
			  const char *want)
{
	struct oim_err err = OIM_ERR_INIT;
	char *v = NULL;
	assert_int_equal(acct_visible_name(r, name, &v, &err), 0);
	assert_string_equal(v, want);
	free(v);
}

/* ---- decodefoldernames ---- */

static void test_decode_visible(void **state)
{
	struct acct_repo_rules r = rules("Remote", '/', true);
	(void)state;
	/* off: the server's names as they are */
	check_visible(&r, "Entw&APw-rfe", "Entw&APw-rfe");
	r.decode = true;
	check_visible(&r, "Entw&APw-rfe", "Entwürfe");
	check_visible(&r, "Archive/Entw&APw-rfe/2024", "Archive/Entwürfe/2024");
	check_visible(&r, "INBOX", "INBOX");
	check_visible(&r, "Tom &- Jerry", "Tom & Jerry");
	check_visible(&r, "&ZeVnLIqe-", "日本語");
	/* not modified UTF-7: kept (imaputil.decode_mailbox_name) */
	check_visible(&r, "Tom & Jerry", "Tom & Jerry");
	check_visible(&r, "A&AGE-", "A&AGE-"); /* ASCII inside a shift */
	check_visible(&r, "Open&APw", "Open&APw");
	/* the separator alone is still the top-level folder */
	check_visible(&r, "/", "");
}

static void test_create_name(void **state)
{
	struct acct_repo_rules r = rules("Remote", '/', true);
	struct oim_err err = OIM_ERR_INIT;
	char *n = NULL;
	(void)state;
	assert_int_equal(acct_create_name(&r, "Brouillons-é", &n, &err), 0);
	assert_string_equal(n, "Brouillons-é"); /* without decode: as is */
	free(n);
	r.decode = true;
	assert_int_equal(acct_create_name(&r, "Brouillons-é", &n, &err), 0);
	assert_string_equal(n, "Brouillons-&AOk-");
	free(n);
	assert_int_equal(acct_create_name(&r, "Tom & Jerry/x", &n, &err), 0);
	assert_string_equal(n, "Tom &- Jerry/x");
	free(n);
	assert_int_equal(acct_create_name(&r, "bad\xff", &n, &err), -1);
	assert_null(n);
	assert_non_null(strstr(err.msg, "decodefoldernames"));
}

static void test_decode_create_and_pairs(void **state)
{
	const char *const rn[] = {"INBOX", "Entw&APw-rfe", "Tom &- Jerry",
				  "Neu&AOk-", NULL};
	const char *const ln[] = {"INBOX",	  "Entwürfe",
				  "Tom & Jerry",  "Brouillons-é.Sub",
				  "Brouillons-é", NULL};
	struct store_folder_list rl, ll;
	struct acct_repo_rules r = rules("Remote", '/', true);
	struct acct_repo_rules l = rules("Local", '.', true);
	struct acct_folder_plan p;
	struct oim_err err = OIM_ERR_INIT;
	(void)state;

	r.decode = true;
	list_of(&rl, '/', rn);
	list_of(&ll, '.', ln);
	memset(&p, 0, sizeof(p));
	assert_int_equal(acct_plan_create(&r, &rl, &l, &ll, &p, &err), 0);
	/* the one remote folder without local counterpart, decoded */
	assert_int_equal(p.n_create_local, 1);
	assert_string_equal(p.create_local[0], "Neué");
	/* the local folders the server lacks, encoded, parents first;
	 * Entwürfe and "Tom & Jerry" are found under their encoded names */
	assert_int_equal(p.n_create_remote, 2);
	size_t parent =
	    index_of(p.create_remote, p.n_create_remote, "Brouillons-&AOk-");
	size_t child = index_of(p.create_remote, p.n_create_remote,
				"Brouillons-&AOk-/Sub");
	assert_true(parent != SIZE_MAX && child != SIZE_MAX);
	assert_true(parent < child);
	acct_folder_plan_release(&p);

	/* the pairs: server names with the decoded local names */
	assert_int_equal(acct_plan_pairs(&r, &rl, &l, &ll, false, &p, &err), 0);
	assert_int_equal(p.n_pairs, 3);
	assert_string_equal(p.pairs[0].remote_name, "Entw&APw-rfe");
	assert_string_equal(p.pairs[0].remote_visible, "Entwürfe");
	assert_string_equal(p.pairs[0].local_name, "Entwürfe");
	assert_string_equal(p.pairs[1].remote_name, "INBOX");
	assert_string_equal(p.pairs[2].remote_name, "Tom &- Jerry");
	assert_string_equal(p.pairs[2].local_name, "Tom & Jerry");
	/* Neu&AOk- was not created (no create_folders here): missing */
	assert_int_equal(p.n_missing, 1);
	assert_string_equal(p.missing[0].remote_name, "Neu&AOk-");
	assert_string_equal(p.missing[0].local_name, "Neué");
	acct_folder_plan_release(&p);

	/* once created on both sides, nothing more to create */
	store_folder_list_release(&rl);
	store_folder_list_release(&ll);
	const char *const rn2[] = {
	    "INBOX",	"Entw&APw-rfe",	    "Tom &- Jerry",
	    "Neu&AOk-", "Brouillons-&AOk-", "Brouillons-&AOk-/Sub",
	    NULL};
	const char *const ln2[] = {
	    "INBOX",	    "Entwürfe", "Tom & Jerry", "Brouillons-é.Sub",
	    "Brouillons-é", "Neué",	NULL};
	list_of(&rl, '/', rn2);
	list_of(&ll, '.', ln2);
	assert_int_equal(acct_plan_create(&r, &rl, &l, &ll, &p, &err), 0);
	assert_int_equal(p.n_create_local, 0);
	assert_int_equal(p.n_create_remote, 0);
	acct_folder_plan_release(&p);
	assert_int_equal(acct_plan_pairs(&r, &rl, &l, &ll, false, &p, &err), 0);
	assert_int_equal(p.n_pairs, 6);
	assert_int_equal(p.n_missing, 0);
	acct_folder_plan_release(&p);
	store_folder_list_release(&rl);
	store_folder_list_release(&ll);
}

static void test_decode_roundtrip_with_nametrans(void **state)
{
	struct oim_err err = OIM_ERR_INIT;
	(void)state;
	if (!pyeval_available()) {
		skip();
		return;
	}
	assert_int_equal(pyeval_init(NULL, &err), 0);

	/* remote nametrans sees (and returns) the encoded name, decoding
	 * comes after it; the local nametrans is its inverse on decoded
	 * names */
	const char *const rn[] = {"INBOX", NULL};
	const char *const ln[] = {"R_INBOX", "R_Brouillons-é", NULL};
	struct store_folder_list rl, ll;
	struct acct_repo_rules r = rules("Remote", '/', true);
	struct acct_repo_rules l = rules("Local", '.', true);
	struct acct_folder_plan p;
	struct pyeval_expr *rt = NULL, *lt = NULL;

	r.decode = true;
	assert_int_equal(pyeval_compile("lambda f: 'R_' + f", "nametrans", NULL,
					PYEVAL_F_RE, &rt, &err),
			 0);
	assert_int_equal(pyeval_compile("lambda f: f[2:]", "nametrans", NULL,
					PYEVAL_F_RE, &lt, &err),
			 0);
	r.nametrans = rt;
	l.nametrans = lt;
	check_visible(&r, "Neu&AOk-", "R_Neué");
	list_of(&rl, '/', rn);
	list_of(&ll, '.', ln);
	memset(&p, 0, sizeof(p));
	assert_int_equal(acct_plan_create(&r, &rl, &l, &ll, &p, &err), 0);
	assert_int_equal(p.n_create_remote, 1);
	assert_string_equal(p.create_remote[0], "Brouillons-&AOk-");
	acct_folder_plan_release(&p);
	pyeval_expr_free(rt);
	pyeval_expr_free(lt);
	store_folder_list_release(&rl);
	store_folder_list_release(&ll);
}

/* ---- remote folders without a local folder ---- */

static void test_missing_local_folder(void **state)
{
	const char *const rn[] = {"INBOX", "Lists", "Spam", NULL};
	const char *const ln[] = {"INBOX", NULL};
	struct store_folder_list rl, ll;
	struct acct_repo_rules r = rules("Remote", '/', true);
	struct acct_repo_rules l = rules("Local", '.', false);
	struct acct_folder_plan p;
	struct oim_err err = OIM_ERR_INIT;
	(void)state;

	list_of(&rl, '/', rn);
	list_of(&ll, '.', ln);
	memset(&p, 0, sizeof(p));
	assert_int_equal(acct_plan_create(&r, &rl, &l, &ll, &p, &err), 0);
	assert_int_equal(p.n_create_local, 0);
	acct_folder_plan_release(&p);

	assert_int_equal(acct_plan_pairs(&r, &rl, &l, &ll, false, &p, &err), 0);
	assert_int_equal(p.n_pairs, 1);
	assert_string_equal(p.pairs[0].remote_name, "INBOX");
	assert_int_equal(p.n_missing, 2);
	assert_string_equal(p.missing[0].remote_name, "Lists");
	assert_string_equal(p.missing[1].local_name, "Spam");
	acct_missing_error(&r, &l, &p.missing[0], &err);
	assert_int_equal(err.sev, OIM_SEV_FOLDER);
	assert_non_null(strstr(err.msg, "folder 'Lists' [Remote] not synced"));
	assert_non_null(strstr(err.msg, "createfolders = no"));
	assert_non_null(strstr(err.msg, "repository Local"));
	l.readonly = true;
	acct_missing_error(&r, &l, &p.missing[0], &err);
	assert_non_null(strstr(err.msg, "readonly = yes"));
	l.readonly = false;
	acct_folder_plan_release(&p);

	/* a dry run does not pretend it would create them */
	assert_int_equal(acct_plan_pairs(&r, &rl, &l, &ll, true, &p, &err), 0);
	assert_int_equal(p.n_pairs, 1);
	assert_int_equal(p.n_missing, 2);
	acct_folder_plan_release(&p);

	/* one the local filter leaves out is not an error (a list stands
	 * for folderfilter here) */
	const char *const only[] = {"INBOX", "Lists", NULL};
	l.only = only;
	assert_int_equal(acct_plan_pairs(&r, &rl, &l, &ll, false, &p, &err), 0);
	assert_int_equal(p.n_pairs, 1);
	assert_int_equal(p.n_missing, 1);
	assert_string_equal(p.missing[0].remote_name, "Lists");
	acct_folder_plan_release(&p);

	/* folderincludes naming a listed folder: reported once */
	l.only = NULL;
	store_folder_list_release(&rl);
	list_of(&rl, '/',
		(const char *const[]){"INBOX", "Lists", "Lists", NULL});
	assert_int_equal(acct_plan_pairs(&r, &rl, &l, &ll, false, &p, &err), 0);
	assert_int_equal(p.n_missing, 1);
	acct_folder_plan_release(&p);
	store_folder_list_release(&rl);
	store_folder_list_release(&ll);
}

/* Two server folders with one status cache: both refused, named. */
static void test_clash_refused(void **state)
{
	const char *const rn[] = {"INBOX", "a.b", "a/b", "c", NULL};
	const char *const ln[] = {"INBOX", "a.b", "a/b", "c", NULL};
	struct store_folder_list rl, ll;
	struct acct_repo_rules r = rules("Remote", '/', true);
	struct acct_repo_rules l = rules("Local", '/', true);
	struct acct_folder_plan p;
	struct oim_err err = OIM_ERR_INIT;
	(void)state;

	list_of(&rl, '/', rn);
	list_of(&ll, '/', ln);
	memset(&p, 0, sizeof(p));
	assert_int_equal(acct_plan_pairs(&r, &rl, &l, &ll, false, &p, &err), 0);
	assert_int_equal(p.n_pairs, 2);
	assert_string_equal(p.pairs[0].remote_name, "c");
	assert_string_equal(p.pairs[1].remote_name, "INBOX");
	assert_int_equal(p.n_missing, 2);
	assert_string_equal(p.missing[0].remote_name, "a.b");
	assert_string_equal(p.missing[0].clash, "a/b");
	assert_string_equal(p.missing[1].remote_name, "a/b");
	assert_string_equal(p.missing[1].clash, "a.b");
	acct_missing_error(&r, &l, &p.missing[0], &err);
	assert_int_equal(err.sev, OIM_SEV_FOLDER);
	assert_non_null(strstr(err.msg, "folders 'a.b' and 'a/b' [Remote]"));
	assert_non_null(strstr(err.msg, "neither is synced"));
	acct_folder_plan_release(&p);
	store_folder_list_release(&rl);
	store_folder_list_release(&ll);
}

/* ---- the default order: Python's stable sort by str.lower() ---- */

static void test_default_order(void **state)
{
	const char *const names[] = {"apple", "Äb",	 "äa",	    "Zebra",
				     "Über",  "archive", "Archive", "ΣΑΣ",
				     "σαx",   "INBOX",	 NULL};
	/* sorted(names, key=str.lower) in Python 3 */
	const char *const want[] = {"apple", "archive", "Archive", "INBOX",
				    "Zebra", "äa",	"Äb",	   "Über",
				    "σαx",   "ΣΑΣ"};
	struct store_folder_list rl, ll;
	struct acct_repo_rules r = rules("Remote", '/', true);
	struct acct_repo_rules l = rules("Local", '.', true);
	struct acct_folder_plan p;
	struct oim_err err = OIM_ERR_INIT;
	(void)state;

	list_of(&rl, '/', names);
	list_of(&ll, '.', names);
	memset(&p, 0, sizeof(p));
	assert_int_equal(acct_plan_pairs(&r, &rl, &l, &ll, false, &p, &err), 0);
	assert_int_equal(p.n_pairs, ARRAY_SIZE(want));
	for (size_t i = 0; i < ARRAY_SIZE(want); i++)
		assert_string_equal(p.pairs[i].remote_name, want[i]);
	acct_folder_plan_release(&p);
	store_folder_list_release(&rl);
	store_folder_list_release(&ll);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_decode_visible),
	    cmocka_unit_test(test_create_name),
	    cmocka_unit_test(test_decode_create_and_pairs),
	    cmocka_unit_test(test_missing_local_folder),
	    cmocka_unit_test(test_clash_refused),
	    cmocka_unit_test(test_default_order),
	    /* starts the interpreter */
	    cmocka_unit_test(test_decode_roundtrip_with_nametrans),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	pyeval_shutdown();
	return rc;
}
