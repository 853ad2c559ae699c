/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Status cache tests.  Reference files under data/status/ref/ were written
 * by OfflineIMAP's own classes (data/status/gen_reference.py).
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"
#include <sqlite3.h>

#include "status/status.h"
#include "util/err.h"
#include "util/strbuf.h"
#include "util/util.h"

/* ---- helpers ---- */

static char *ref_path(const char *rel)
{
	const char *d = getenv("OIMAP_TESTDATA");

	return xasprintf("%s/status/ref/%s", d ? d : "tests/unit/data", rel);
}

static void spew(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void copy(const char *from, const char *to)
{
	size_t len;
	char *d = test_slurp(from, &len);

	assert_non_null(d);
	spew(to, d, len);
	free(d);
}

static void mkdirs(const char *base, const char *rel)
{
	char *p = xasprintf("%s/%s", base, rel);
	struct oim_err err = OIM_ERR_INIT;
	char *q = p + strlen(base) + 1;

	for (;; q++) {
		if (*q == '/' || !*q) {
			char c = *q;

			*q = '\0';
			if (mkdir(p, 0700) < 0 && errno != EEXIST)
				fail_msg("mkdir %s", p);
			*q = c;
			if (!c)
				break;
		}
	}
	(void)err;
	free(p);
}

static int rm_one(const char *p, const struct stat *sb, int type,
		  struct FTW *ftw)
{
	return remove(p);
}

struct tmp {
	char dir[64];
	char *acct; /* <dir>/Account-Test */
};

static int setup(void **state)
{
	struct tmp *t = xcalloc(1, sizeof(*t));

	snprintf(t->dir, sizeof(t->dir), "/tmp/oimap-status-XXXXXX");
	if (!mkdtemp(t->dir))
		return -1;
	t->acct = xasprintf("%s/Account-Test", t->dir);
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct tmp *t = *state;

	nftw(t->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(t->acct);
	free(t);
	return 0;
}

static char *tpath(const struct tmp *t, const char *rel)
{
	return xasprintf("%s/%s", t->dir, rel);
}

static void put_ref(const struct tmp *t, const char *ref, const char *rel)
{
	char *from = ref_path(ref), *to = tpath(t, rel), *d = xstrdup(rel);
	char *slash = strrchr(d, '/');

	if (slash) {
		*slash = '\0';
		mkdirs(t->dir, d);
	}
	copy(from, to);
	free(from);
	free(to);
	free(d);
}

static bool file_exists(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0;
}

/* The records gen_reference.py stores. */
static const struct {
	uint32_t uid;
	const char *flags;
	int64_t mtime;
	const char *labels;
} ref_recs[] = {
    {1, "S", 0, NULL},
    {2, "RS", 0, NULL},
    {3, "", 0, NULL},
    {7, "FRST", 1700000000, NULL},
    {42, "DFRST", 0, "Work, \\Inbox"},
    {100, "Sab", 5, NULL},
    {4294967295u, "S", 1234567890, "a, b label, z"},
};

static void check_ref_records(const struct status *st)
{
	size_t n;
	uint32_t *uids = status_uids(st, &n);

	assert_int_equal(n, ARRAY_SIZE(ref_recs));
	for (size_t i = 0; i < n; i++) {
		const struct status_rec *r = status_get(st, ref_recs[i].uid);

		assert_int_equal(uids[i], ref_recs[i].uid);
		assert_non_null(r);
		assert_string_equal(r->flags, ref_recs[i].flags);
		assert_true(r->mtime == ref_recs[i].mtime);
		if (ref_recs[i].labels)
			assert_string_equal(r->labels, ref_recs[i].labels);
		else
			assert_null(r->labels);
	}
	free(uids);
}

static void expect_status_error(const struct oim_err *err, const char *path)
{
	assert_int_equal(err->kind, OIM_E_STATUS);
	assert_int_equal(err->sev, OIM_SEV_FOLDER);
	if (!strstr(err->msg, path))
		fail_msg("error does not name '%s': %s", path, err->msg);
}

/* ---- names and paths ---- */

static void test_basename(void **state)
{
	static const struct {
		const char *in, *out;
	} ok[] = {
	    {"INBOX", "INBOX"},
	    {"Sub/Folder", "Sub.Folder"},
	    {"", "dot"},
	    {".", "dot"},
	    {"/", "dot"},
	    {"a/.", "a.."},
	    {".hidden", ".hidden"},
	    {"...", "..."},
	    {"Sent Items", "Sent Items"},
	    {"a/b/c", "a.b.c"},
	};
	struct oim_err err = OIM_ERR_INIT;
	char *b, *longname;

	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		assert_int_equal(status_folder_basename(ok[i].in, &b, &err), 0);
		assert_string_equal(b, ok[i].out);
		free(b);
	}
	assert_int_equal(status_folder_basename("..", &b, &err), -1);
	assert_null(b);
	assert_int_equal(err.kind, OIM_E_STATUS);
	longname = xcalloc(1, 300);
	memset(longname, 'x', 299);
	assert_int_equal(status_folder_basename(longname, &b, &err), -1);
	free(longname);
}

static void test_paths(void **state)
{
	struct oim_err err = OIM_ERR_INIT;
	char *p, *acct = status_account_dir("/m", "Gmail");

	assert_string_equal(acct, "/m/Account-Gmail");
	assert_int_equal(
	    status_cache_path(acct, "INBOX/x", STATUS_BACKEND_SQLITE, &p, &err),
	    0);
	assert_string_equal(p, "/m/Account-Gmail/LocalStatus-sqlite/INBOX.x");
	free(p);
	assert_int_equal(
	    status_cache_path(acct, "", STATUS_BACKEND_PLAIN, &p, &err), 0);
	assert_string_equal(p, "/m/Account-Gmail/LocalStatus/dot");
	free(p);
	assert_int_equal(
	    status_validity_path("/m", "Remote", "INBOX/x", &p, &err), 0);
	assert_string_equal(p, "/m/Repository-Remote/FolderValidity/INBOX.x");
	free(p);
	assert_int_equal(status_journal_path(acct, "INBOX", &p, &err), 0);
	assert_string_equal(p, "/m/Account-Gmail/oimap-journal/INBOX");
	free(p);
	free(acct);

	p = status_name_from_remote("[Gmail]/Sent Mail", '/');
	assert_string_equal(p, "[Gmail].Sent Mail");
	free(p);

	enum status_backend be;

	assert_int_equal(status_backend_parse("SQLite", &be, &err), 0);
	assert_int_equal(be, STATUS_BACKEND_SQLITE);
	assert_int_equal(status_backend_parse("plain", &be, &err), 0);
	assert_int_equal(be, STATUS_BACKEND_PLAIN);
	assert_int_equal(status_backend_parse("text", &be, &err), -1);
	assert_int_equal(err.kind, OIM_E_CONFIG);
}

static void test_normalize(void **state)
{
	char f[STATUS_MAX_FLAGS + 1];
	struct strbuf sb = STRBUF_INIT;

	assert_int_equal(status_flags_normalize("TSRSaF", f), 0);
	assert_string_equal(f, "FRSTa");
	assert_int_equal(status_flags_normalize("", f), 0);
	assert_string_equal(f, "");
	assert_int_equal(status_flags_normalize("S R", f), -1);
	assert_int_equal(status_flags_normalize("S|", f), -1);
	assert_int_equal(status_flags_normalize("S\xc3\xa9", f), -1);

	status_labels_normalize(" z ,a,, b label,a ", 18, &sb);
	assert_string_equal(sb.buf, "a, b label, z");
	strbuf_reset(&sb);
	status_labels_normalize(" , ", 3, &sb);
	assert_string_equal(sb.buf, "");
	strbuf_release(&sb);
}

/* ---- reading OfflineIMAP's files ---- */

static void test_read_offlineimap_plain(void **state)
{
	struct tmp *t = *state;
	struct oim_err err = OIM_ERR_INIT;
	struct status *st;
	const char *names[] = {"INBOX", "Sub/Folder", ""};
	const char *files[] = {"INBOX", "Sub.Folder", "dot"};

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		char *ref = xasprintf("Account-Test/LocalStatus/%s", files[i]);

		put_ref(t, ref, ref);
		free(ref);
		assert_int_equal(status_open(t->acct, names[i],
					     STATUS_BACKEND_PLAIN, 0, &st,
					     &err),
				 0);
		assert_false(status_is_new(st));
		check_ref_records(st);
		status_close(st);
	}
	put_ref(t, "Account-Test/LocalStatus/Empty",
		"Account-Test/LocalStatus/Empty");
	assert_int_equal(status_open(t->acct, "Empty", STATUS_BACKEND_PLAIN,
				     STATUS_OPEN_READONLY, &st, &err),
			 0);
	assert_int_equal(status_count(st), 0);
	assert_false(status_is_new(st));
	status_close(st);
}

static void test_read_offlineimap_sqlite(void **state)
{
	struct tmp *t = *state;
	struct oim_err err = OIM_ERR_INIT;
	struct status *st;
	const char *names[] = {"INBOX", "Sub.Folder", "."};
	const char *files[] = {"INBOX", "Sub.Folder", "dot"};

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		char *ref =
		    xasprintf("Account-Test/LocalStatus-sqlite/%s", files[i]);

		put_ref(t, ref, ref);
		free(ref);
		for (int ro = 0; ro < 2; ro++) {
			assert_int_equal(
			    status_open(
				t->acct, names[i], STATUS_BACKEND_SQLITE,
				ro ? STATUS_OPEN_READONLY : 0, &st, &err),
			    0);
			assert_false(status_is_new(st));
			check_ref_records(st);
			status_close(st);
		}
	}
	put_ref(t, "Account-Test/LocalStatus-sqlite/Empty",
		"Account-Test/LocalStatus-sqlite/Empty");
	assert_int_equal(
	    status_open(t->acct, "Empty", STATUS_BACKEND_SQLITE, 0, &st, &err),
	    0);
	assert_int_equal(status_count(st), 0);
	assert_false(status_is_new(st));
	status_close(st);
}

/* ---- writing as OfflineIMAP writes ---- */

static void fill_ref(struct status *st)
{
	struct oim_err err = OIM_ERR_INIT;

	assert_int_equal(status_begin(st, &err), 0);
	/* Flags and labels in scrambled order, as a sync might pass them. */
	for (size_t i = ARRAY_SIZE(ref_recs); i-- > 0;) {
		char flags[STATUS_MAX_FLAGS + 1];
		size_t n = strlen(ref_recs[i].flags);

		for (size_t k = 0; k < n; k++)
			flags[k] = ref_recs[i].flags[n - 1 - k];
		flags[n] = '\0';
		assert_int_equal(status_set(st, ref_recs[i].uid, flags,
					    ref_recs[i].mtime,
					    ref_recs[i].labels, &err),
				 0);
	}
	assert_int_equal(status_commit(st, &err), 0);
}

static int cmp_line(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* File content with the record lines sorted (OfflineIMAP writes them in
 * dict order, oimap by UID). */
static char *sorted_lines(const char *path)
{
	size_t len, n = 0;
	char *d = test_slurp(path, &len), *lines[64], *save = NULL;
	struct strbuf sb = STRBUF_INIT;

	assert_non_null(d);
	for (char *l = strtok_r(d, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		assert_true(n < ARRAY_SIZE(lines));
		lines[n++] = l;
	}
	assert_true(n > 0);
	oim_qsort(lines + 1, n - 1, sizeof(*lines), cmp_line);
	for (size_t i = 0; i < n; i++)
		strbuf_addf(&sb, "%s\n", lines[i]);
	free(d);
	return strbuf_detach(&sb, NULL);
}

static void test_write_plain_like_offlineimap(void **state)
{
	struct tmp *t = *state;
	struct oim_err err = OIM_ERR_INIT;
	struct status *st;
	char *mine = tpath(t, "Account-Test/LocalStatus/Sub.Folder");
	char *ref = ref_path("Account-Test/LocalStatus/Sub.Folder");
	char *a, *b, *tmpf;

	assert_int_equal(status_open(t->acct, "Sub/Folder",
				     STATUS_BACKEND_PLAIN, 0, &st, &err),
			 0);
	assert_true(status_is_new(st));
	fill_ref(st);
	status_close(st);
	a = sorted_lines(mine);
	b = sorted_lines(ref);
	assert_string_equal(a, b);
	free(a);
	free(b);
	/* and it is sorted by UID, so a second write is byte-identical */
	assert_int_equal(status_open(t->acct, "Sub/Folder",
				     STATUS_BACKEND_PLAIN, 0, &st, &err),
			 0);
	check_ref_records(st);
	assert_int_equal(status_set_flags(st, 3, "S", &err), 0);
	assert_int_equal(status_set_flags(st, 3, "", &err), 0);
	status_close(st);
	a = sorted_lines(mine);
	b = sorted_lines(ref);
	assert_string_equal(a, b);
	free(a);
	free(b);
	tmpf = xasprintf("%s.tmp", mine);
	assert_false(file_exists(tmpf));
	free(tmpf);
	free(mine);
	free(ref);
}

static char *db_dump(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *q;
	struct strbuf sb = STRBUF_INIT;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
	while (sqlite3_step(q) == SQLITE_ROW) {
		for (int c = 0; c < sqlite3_column_count(q); c++) {
			const char *v = (const char *)sqlite3_column_text(q, c);

			strbuf_addf(&sb, "%s%s|",
				    sqlite3_column_type(q, c) == SQLITE_INTEGER
					? "i:"
					: "",
				    v ? v : "NULL");
		}
		strbuf_addch(&sb, '\n');
	}
	sqlite3_finalize(q);
	sqlite3_close(db);
	return strbuf_detach(&sb, NULL);
}

#define SCHEMA_SQL "SELECT type,name,sql FROM sqlite_master ORDER BY name"
#define ROWS_SQL   "SELECT id,flags,mtime,labels FROM status ORDER BY id"
#define META_SQL   "SELECT key,value FROM metadata"

static void assert_same_db(const char *a, const char *b)
{
	const char *q[] = {SCHEMA_SQL, ROWS_SQL, META_SQL};

	for (size_t i = 0; i < ARRAY_SIZE(q); i++) {
		char *x = db_dump(a, q[i]), *y = db_dump(b, q[i]);

		assert_string_equal(x, y);
		free(x);
		free(y);
	}
}

static void test_write_sqlite_like_offlineimap(void **state)
{
	struct tmp *t = *state;
	struct oim_err err = OIM_ERR_INIT;
	struct status *st;
	char *mine = tpath(t, "Account-Test/LocalStatus-sqlite/INBOX");
	char *ref = ref_path("Account-Test/LocalStatus-sqlite/INBOX");
	char *jm;

	assert_int_equal(
	    status_open(t->acct, "INBOX", STATUS_BACKEND_SQLITE, 0, &st, &err),
	    0);
	assert_true(status_is_new(st));
	fill_ref(st);
	status_close(st);
	assert_same_db(mine, ref);
	/* the journal mode is left as OfflineIMAP leaves it */
	jm = db_dump(mine, "PRAGMA journal_mode");
	assert_string_equal(jm, "delete|\n");
	free(jm);
	free(mine);
	free(ref);
}

/* ---- upgrades and migration ---- */

static void test_plain_v1_upgrade(void **state)
{
	struct tmp *t = *state;
	struct oim_err err = OIM_ERR_INIT;
	struct status *st;
	char *mine = tpath(t, "Account-Test/LocalStatus/INBOX");
	char *ref = ref_path("v1-upgraded/LocalStatus/INBOX");
	char *v1 = ref_path("v1/LocalStatus/INBOX");
	char *a, *b;
	size_t la, lb;

	put_ref(t, "v1/LocalStatus/INBOX", "Account-Test/LocalStatus/INBOX");
	/* read-only: read as is, file untouched */
	assert_int_equal(status_open(t->acct, "INBOX", STATUS_BACKEND_PLAIN,
				     STATUS_OPEN_READONLY, &st, &err),
			 0);
	assert_int_equal(status_count(st), 4);
	assert_string_equal(status_get(st, 9)->flags, "DFRST");
	status_close(st);
	a = test_slurp(mine, &la);
	b = test_slurp(v1, &lb);
	assert_int_equal(la, lb);
	assert_memory_equal(a, b, la);
	free(a);
	free(b);
	/* writable: upgraded in place exactly as OfflineIMAP upgrades it */
	assert_int_equal(
	    status_open(t->acct, "INBOX", STATUS_BACKEND_PLAIN, 0, &st, &err),
	    0);
	assert_int_equal(status_count(st), 4);
	assert_string_equal(status_get(st, 2)->flags, "RS");
	assert_string_equal(status_get(st, 3)->flags, "");
	status_close(st);
	a = test_slurp(mine, &la);
	b = test_slurp(ref, &lb);
	assert_int_equal(la, lb);
	assert_memory_equal(a, b, la);
	free(a);
	free(b);
	free(mine);
	free(ref);
	free(v1);
}

static void test_sqlite_v1_upgrade(void **state)
{
	struct tmp *t = *state;
	struct oim_err err = OIM_ERR_INIT;
	struct status *st;
	char *mine = tpath(t, "Account-Test/LocalStatus-sqlite/INBOX");
	char *ref = ref_path("v1-upgraded/LocalStatus-sqlite/INBOX");
	char *v;

	put_ref(t, "v1/LocalStatus-sqlite/INBOX",
		"Account-Test/LocalStatus-sqlite/INBOX");
	assert_int_equal(status_open(t->acct, "INBOX", STATUS_BACKEND_SQLITE,
				     STATUS_OPEN_READONLY, &st, &err),
			 0);
	assert_int_equal(status_count(st), 4);
	status_close(st);
	v = db_dump(mine, META_SQL);
	assert_string_equal(v, "db_version|1|\n");
	free(v);

	assert_int_equal(
	    status_open(t->acct, "INBOX", STATUS_BACKEND_SQLITE, 0, &st, &err),
	    0);
	assert_int_equal(status_count(st), 4);
	assert_string_equal(status_get(st, 9)->flags, "DFRST");
	assert_true(status_get(st, 9)->mtime == 0);
	assert_null(status_get(st, 9)->labels);
	status_close(st);
	assert_same_db(mine, ref);
	free(mine);
	free(ref);
}

static void test_plain_to_sqlite(void **state)
{
	struct tmp *t = *state;
	struct oim_err err = OIM_ERR_INIT;
	struct status *st;
	char *plain = tpath(t, "Account-Test/LocalStatus/INBOX");
	char *db = tpath(t, "Account-Test/LocalStatus-sqlite/INBOX");
	char *before, *after;
	size_t lb, la;

	put_ref(t, "Account-Test/LocalStatus/INBOX",
		"Account-Test/LocalStatus/INBOX");
	before = test_slurp(plain, &lb);

	/* read-only (dry run): read the plain cache, create nothing */
	assert_int_equal(status_open(t->acct, "INBOX", STATUS_BACKEND_SQLITE,
				     STATUS_OPEN_READONLY, &st, &err),
			 0);
	assert_false(status_is_new(st));
	check_ref_records(st);
	status_close(st);
	assert_false(file_exists(db));

	assert_int_equal(
	    status_open(t->acct, "INBOX", STATUS_BACKEND_SQLITE, 0, &st, &err),
	    0);
	assert_false(status_is_new(st));
	check_ref_records(st);
	status_close(st);
	assert_true(file_exists(db));
	/* the plain file is kept, untouched */
	after = test_slurp(plain, &la);
	assert_int_equal(la, lb);
	assert_memory_equal(before, after, la);
	free(after);
	free(before);
	/* the converted db is what OfflineIMAP would have made */
	char *ref = ref_path("Account-Test/LocalStatus-sqlite/INBOX");

	assert_same_db(db, ref);
	free(ref);

	/* once converted the plain file is not read again */
	assert_int_equal(
	    status_open(t->acct, "INBOX", STATUS_BACKEND_SQLITE, 0, &st, &err),
	    0);
	assert_int_equal(status_delete(st, 1, &err), 0);
	status_close(st);
	spew(plain, "garbage\n", 8);
	assert_int_equal(
	    status_open(t->acct, "INBOX", STATUS_BACKEND_SQLITE, 0, &st, &err),
	    0);
	assert_null(status_get(st, 1));
	assert_int_equal(status_count(st), ARRAY_SIZE(ref_recs) - 1);
	status_close(st);

	/* a 0-byte db (crash during creation) is converted again */
	spew(db, "", 0);
	put_ref(t, "Account-Test/LocalStatus/INBOX",
		"Account-Test/LocalStatus/INBOX");
	assert_int_equal(
	    status_open(t->acct, "INBOX", STATUS_BACKEND_SQLITE, 0, &st, &err),
	    0);
	check_ref_records(st);
	status_close(st);

	/* a broken plain file blocks the conversion, naming it */
	unlink(db);
	spew(plain, "garbage\n", 8);
	assert_int_equal(
	    status_open(t->acct, "INBOX", STATUS_BACKEND_SQLITE, 0, &st, &err),
	    -1);
	assert_null(st);
	expect_status_error(&err, plain);
	assert_false(file_exists(db)); /* nothing created */
	free(plain);
	free(db);
}

static void test_sqlite_to_plain(void **state)
{
	struct tmp *t = *state;
	struct oim_err err = OIM_ERR_INIT;
	struct status *st;
	char *plain = tpath(t, "Account-Test/LocalStatus/INBOX");
	char *db = tpath(t, "Account-Test/LocalStatus-sqlite/INBOX");
	char *ref = ref_path("Account-Test/LocalStatus-sqlite/INBOX");
	char *a, *b;
	size_t la, lb;

	put_ref(t, "Account-Test/LocalStatus-sqlite/INBOX",
		"Account-Test/LocalStatus-sqlite/INBOX");
	assert_int_equal(status_open(t->acct, "INBOX", STATUS_BACKEND_PLAIN,
				     STATUS_OPEN_READONLY, &st, &err),
			 0);
	assert_false(status_is_new(st));
	check_ref_records(st);
	status_close(st);
	assert_false(file_exists(plain));

	assert_int_equal(
	    status_open(t->acct, "INBOX", STATUS_BACKEND_PLAIN, 0, &st, &err),
	    0);
	assert_false(status_is_new(st));
	check_ref_records(st);
	status_close(st);
	assert_true(file_exists(plain));
	a = sorted_lines(plain);
	free(ref);
	ref = ref_path("Account-Test/LocalStatus/INBOX");
	b = sorted_lines(ref);
	assert_string_equal(a, b);
	free(a);
	free(b);
	/* the sqlite file is only read */
	free(ref);
	ref = ref_path("Account-Test/LocalStatus-sqlite/INBOX");
	a = test_slurp(db, &la);
	b = test_slurp(ref, &lb);
	assert_int_equal(la, lb);
	assert_memory_equal(a, b, la);
	free(a);
	free(b);
	free(ref);
	free(plain);
	free(db);
}

/* ---- batching ---- */

static void test_batch_sqlite(void **state)
{
	struct tmp *t = *state;
	struct oim_err err = OIM_ERR_INIT;
	struct status *st;
	char *db = tpath(t, "Account-Test/LocalStatus-sqlite/Big");
	char *v;
	const uint32_t N = 20000;

	assert_int_equal(
	    status_open(t->acct, "Big", STATUS_BACKEND_SQLITE, 0, &st, &err),
	    0);
	assert_int_equal(status_begin(st, &err), 0);
	assert_int_equal(status_begin(st, &err), 0); /* nests */
	for (uint32_t u = 1; u <= N; u++)
		assert_int_equal(
		    status_set(st, u, u % 2 ? "S" : "RS", 0, NULL, &err), 0);
	assert_int_equal(status_commit(st, &err), 0);
	/* inner commit wrote nothing: another reader sees no row yet */
	v = db_dump(db, "SELECT count(*) FROM status");
	assert_string_equal(v, "i:0|\n");
	free(v);
	assert_int_equal(status_commit(st, &err), 0);
	v = db_dump(db, "SELECT count(*) FROM status");
	assert_string_equal(v, "i:20000|\n");
	free(v);

	/* deletions and updates in a second batch */
	assert_int_equal(status_begin(st, &err), 0);
	for (uint32_t u = 1; u <= N; u += 3)
		assert_int_equal(status_delete(st, u, &err), 0);
	assert_int_equal(status_set_flags(st, 2, "FS", &err), 0);
	assert_int_equal(status_set_labels(st, 2, "x,y", 77, &err), 0);
	assert_int_equal(status_delete(st, N + 5, &err), 0); /* absent: fine */
	assert_int_equal(status_commit(st, &err), 0);
	status_close(st);

	assert_int_equal(status_open(t->acct, "Big", STATUS_BACKEND_SQLITE,
				     STATUS_OPEN_READONLY, &st, &err),
			 0);
	assert_int_equal(status_count(st), N - (N + 2) / 3);
	for (uint32_t u = 1; u <= N; u++) {
		const struct status_rec *r = status_get(st, u);

		if (u % 3 == 1) {
			assert_null(r);
			continue;
		}
		assert_non_null(r);
		if (u == 2) {
			assert_string_equal(r->flags, "FS");
			assert_string_equal(r->labels, "x, y");
			assert_true(r->mtime == 77);
		} else {
			assert_string_equal(r->flags, u % 2 ? "S" : "RS");
		}
	}
	status_close(st);

	/* uncommitted changes are rolled back on close */
	assert_int_equal(
	    status_open(t->acct, "Big", STATUS_BACKEND_SQLITE, 0, &st, &err),
	    0);
	assert_int_equal(status_begin(st, &err), 0);
	assert_int_equal(status_set(st, N + 1, "S", 0, NULL, &err), 0);
	status_close(st);
	assert_int_equal(
	    status_open(t->acct, "Big", STATUS_BACKEND_SQLITE, 0, &st, &err),
	    0);
	assert_null(status_get(st, N + 1));
	/* outside a batch each change commits at once */
	assert_int_equal(status_set(st, N + 2, "S", 0, NULL, &err), 0);
	v = db_dump(db, "SELECT count(*) FROM status WHERE id=20002");
	assert_string_equal(v, "i:1|\n");
	free(v);
	status_close(st);
	free(db);
}

static void test_batch_plain(void **state)
{
	struct tmp *t = *state;
	struct oim_err err = OIM_ERR_INIT;
	struct status *st;
	char *path = tpath(t, "Account-Test/LocalStatus/P");

	assert_int_equal(
	    status_open(t->acct, "P", STATUS_BACKEND_PLAIN, 0, &st, &err), 0);
	assert_int_equal(status_begin(st, &err), 0);
	for (uint32_t u = 1; u <= 1000; u++)
		assert_int_equal(status_set(st, u, "S", 0, NULL, &err), 0);
	assert_false(file_exists(path)); /* nothing written mid-batch */
	assert_int_equal(status_commit(st, &err), 0);
	assert_true(file_exists(path));
	status_close(st);
	assert_int_equal(
	    status_open(t->acct, "P", STATUS_BACKEND_PLAIN, 0, &st, &err), 0);
	assert_int_equal(status_count(st), 1000);
	status_close(st);
	free(path);
}

/* The hash table against a plain array under random changes. */
static void test_table_random(void **state)
{
	struct status *st;
	struct oim_err err = OIM_ERR_INIT;
	struct tmp *t = *state;
	enum { M = 3000 };
	static char present[M + 1];
	uint32_t seed = 12345;
	size_t count = 0;

	memset(present, 0, sizeof(present));
	for (int i = 0; i < 60000; i++) {
		seed = seed * 1103515245u + 12345u;
		uint32_t uid = (seed >> 8) % M + 1;

		if ((seed >> 4) & 1) {
			if (present[uid])
				count--;
			present[uid] = 0;
		} else {
			if (!present[uid])
				count++;
			present[uid] = 1;
		}
	}
	/* Build the same set through the public API on a writable cache
	 * inside one batch, then compare. */

	assert_int_equal(
	    status_open(t->acct, "R", STATUS_BACKEND_PLAIN, 0, &st, &err), 0);
	assert_int_equal(status_begin(st, &err), 0);
	seed = 12345;
	for (int i = 0; i < 60000; i++) {
		seed = seed * 1103515245u + 12345u;
		uint32_t uid = (seed >> 8) % M + 1;

		if ((seed >> 4) & 1)
			assert_int_equal(status_delete(st, uid, &err), 0);
		else
			assert_int_equal(
			    status_set(st, uid, "S", i, NULL, &err), 0);
	}
	assert_int_equal(status_count(st), count);
	for (uint32_t u = 1; u <= M; u++)
		assert_int_equal(status_get(st, u) != NULL, present[u]);
	size_t it = 0, seen = 0;

	while (status_next(st, &it))
		seen++;
	assert_int_equal(seen, count);
	assert_int_equal(status_commit(st, &err), 0);
	status_close(st);
}

/* ---- oimap's own values ---- */

static void test_meta(void **state)
{
	struct tmp *t = *state;
	struct oim_err err = OIM_ERR_INIT;
	struct status *st;
	char *db = tpath(t, "Account-Test/LocalStatus-sqlite/M");
	char *side = tpath(t, "Account-Test/oimap-meta/M");
	char *v;

	for (int b = 0; b < 2; b++) {
		enum status_backend be = (enum status_backend)b;

		assert_int_equal(status_open(t->acct, "M", be, 0, &st, &err),
				 0);
		assert_null(status_meta_get(st, "uidnext"));
		assert_int_equal(status_begin(st, &err), 0);
		assert_int_equal(status_set(st, 5, "S", 0, NULL, &err), 0);
		assert_int_equal(status_meta_set(st, "uidnext", "6", &err), 0);
		assert_int_equal(status_meta_set(st, "uidnext", "7", &err), 0);
		assert_int_equal(
		    status_meta_set(st, "highestmodseq", "99", &err), 0);
		assert_int_equal(status_meta_set(st, "x", "a\nb", &err), -1);
		assert_int_equal(status_commit(st, &err), 0);
		assert_string_equal(status_meta_get(st, "uidnext"), "7");
		status_close(st);

		assert_int_equal(status_open(t->acct, "M", be,
					     STATUS_OPEN_READONLY, &st, &err),
				 0);
		assert_string_equal(status_meta_get(st, "uidnext"), "7");
		assert_string_equal(status_meta_get(st, "highestmodseq"), "99");
		assert_non_null(status_get(st, 5));
		status_close(st);
	}
	/* sqlite: rows beside db_version, which is untouched */
	v = db_dump(db, META_SQL " ORDER BY key");
	assert_string_equal(v, "db_version|2|\noimap:highestmodseq|99|\n"
			       "oimap:uidnext|7|\n");
	free(v);
	/* plain: a sidecar; a broken one is ignored (values are hints) */
	assert_true(file_exists(side));
	spew(side, "junk", 4);
	assert_int_equal(
	    status_open(t->acct, "M", STATUS_BACKEND_PLAIN, 0, &st, &err), 0);
	assert_null(status_meta_get(st, "uidnext"));
	assert_non_null(status_get(st, 5));
	/* outside a batch a value is written at once */
	assert_int_equal(status_meta_set(st, "uidnext", "8", &err), 0);
	status_close(st);
	assert_int_equal(
	    status_open(t->acct, "M", STATUS_BACKEND_PLAIN, 0, &st, &err), 0);
	assert_string_equal(status_meta_get(st, "uidnext"), "8");
	status_close(st);
	free(db);
	free(side);
}

/* ---- killed at any point ---- */

/* A child opens the cache, changes it in a batch and dies (_exit, no
 * commit, no close) after 'stage' steps; the parent must find the state
 * of the last commit. */
static void die_in_batch(const struct tmp *t, enum status_backend be, int stage)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		struct oim_err err = OIM_ERR_INIT;
		struct status *st;

		if (status_open(t->acct, "K", be, 0, &st, &err) < 0)
			_exit(3);
		if (status_begin(st, &err) < 0)
			_exit(3);
		for (uint32_t u = 1000; u < 1000 + (uint32_t)stage; u++)
			if (status_set(st, u, "S", 0, NULL, &err) < 0)
				_exit(3);
		if (status_delete(st, 1, &err) < 0)
			_exit(3);
		_exit(0);
	}
	int ws;

	assert_int_equal(waitpid(pid, &ws, 0), pid);
	assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
}

static void test_killed_mid_batch(void **state)
{
	struct tmp *t = *state;
	struct oim_err err = OIM_ERR_INIT;
	struct status *st;

	for (int b = 0; b < 2; b++) {
		enum status_backend be = (enum status_backend)b;

		assert_int_equal(status_open(t->acct, "K", be, 0, &st, &err),
				 0);
		assert_int_equal(status_begin(st, &err), 0);
		for (uint32_t u = 1; u <= 10; u++)
			assert_int_equal(status_set(st, u, "RS", 0, NULL, &err),
					 0);
		assert_int_equal(status_commit(st, &err), 0);
		status_close(st);
		for (int stage = 0; stage < 300; stage += 100) {
			die_in_batch(t, be, stage);
			assert_int_equal(
			    status_open(t->acct, "K", be, 0, &st, &err), 0);
			assert_int_equal(status_count(st), 10);
			assert_non_null(status_get(st, 1));
			assert_null(status_get(st, 1000));
			status_close(st);
		}
	}
}

static void test_stale_tmp_file(void **state)
{
	struct tmp *t = *state;
	struct oim_err err = OIM_ERR_INIT;
	struct status *st;
	char *tmpf = tpath(t, "Account-Test/LocalStatus/INBOX.tmp");

	/* killed while writing the new file: the old one is intact */
	put_ref(t, "Account-Test/LocalStatus/INBOX",
		"Account-Test/LocalStatus/INBOX");
	spew(tmpf, STATUS_PLAIN_MAGIC "2\n1|S|0", 10);
	assert_int_equal(
	    status_open(t->acct, "INBOX", STATUS_BACKEND_PLAIN, 0, &st, &err),
	    0);
	check_ref_records(st);
	assert_int_equal(status_set_flags(st, 1, "FS", &err), 0);
	status_close(st);
	assert_false(file_exists(tmpf));
	assert_int_equal(
	    status_open(t->acct, "INBOX", STATUS_BACKEND_PLAIN, 0, &st, &err),
	    0);
	assert_string_equal(status_get(st, 1)->flags, "FS");
	assert_int_equal(status_count(st), ARRAY_SIZE(ref_recs));
	status_close(st);
	free(tmpf);
}

/* ---- corrupt and unknown caches ---- */

static void test_corrupt_plain(void **state)
{
	struct tmp *t = *state;
	struct oim_err err = OIM_ERR_INIT;
	struct status *st;
	char *path = tpath(t, "Account-Test/LocalStatus/C");
	static const char *bad[] = {
	    "",
	    "hello\n1|S|0|\n",
	    STATUS_PLAIN_MAGIC "3\n1|S|0|\n",
	    STATUS_PLAIN_MAGIC "2\n1|S|0\n",
	    STATUS_PLAIN_MAGIC "2\n1|S|0||\n",
	    STATUS_PLAIN_MAGIC "2\nx|S|0|\n",
	    STATUS_PLAIN_MAGIC "2\n0|S|0|\n",
	    STATUS_PLAIN_MAGIC "2\n-1|S|0|\n",
	    STATUS_PLAIN_MAGIC "2\n4294967296|S|0|\n",
	    STATUS_PLAIN_MAGIC "2\n1|S|zz|\n",
	    STATUS_PLAIN_MAGIC "2\n1|S R|0|\n",
	    STATUS_PLAIN_MAGIC "1\n1|S\n",
	};
	size_t len;
	char *after;

	mkdirs(t->dir, "Account-Test/LocalStatus");
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		spew(path, bad[i], strlen(bad[i]));
		oim_err_clear(&err);
		assert_int_equal(status_open(t->acct, "C", STATUS_BACKEND_PLAIN,
					     0, &st, &err),
				 -1);
		assert_null(st);
		expect_status_error(&err, path);
		after = test_slurp(path, &len);
		assert_int_equal(len, strlen(bad[i]));
		assert_memory_equal(after, bad[i], len);
		free(after);
	}
	/* the error says which line and how to recover */
	spew(path, bad[3], strlen(bad[3]));
	assert_int_equal(
	    status_open(t->acct, "C", STATUS_BACKEND_PLAIN, 0, &st, &err), -1);
	assert_non_null(strstr(err.msg, "line 2"));
	assert_non_null(strstr(err.msg, "move the file away"));
	spew(path, bad[2], strlen(bad[2]));
	assert_int_equal(
	    status_open(t->acct, "C", STATUS_BACKEND_PLAIN, 0, &st, &err), -1);
	assert_non_null(strstr(err.msg, "unknown format '3'"));

	/* laxness that matches Python: CRLF, blanks around numbers, labels */
	static const char ok[] =
	    STATUS_PLAIN_MAGIC "2\r\n 5 |SR| -3 | b , a,,a\r\n\r\n6|S|+0|\n";
	assert_int_equal(status_plain_parse(ok, strlen(ok), "mem", &st, &err),
			 0);
	assert_int_equal(status_count(st), 2);
	assert_string_equal(status_get(st, 5)->labels, "a, b");
	assert_true(status_get(st, 5)->mtime == -3);
	status_close(st);
	free(path);
}

static void test_corrupt_sqlite(void **state)
{
	struct tmp *t = *state;
	struct oim_err err = OIM_ERR_INIT;
	struct status *st;
	char *path = tpath(t, "Account-Test/LocalStatus-sqlite/C");
	static const char *scripts[] = {
	    /* not a database */
	    NULL,
	    /* some other database */
	    "CREATE TABLE foo (x);",
	    /* metadata without status */
	    "CREATE TABLE metadata (key VARCHAR(50) PRIMARY KEY, value "
	    "VARCHAR(128)); INSERT INTO metadata VALUES('db_version','2');",
	    /* a newer OfflineIMAP */
	    STATUS_SQL_CREATE "UPDATE metadata SET value='3';",
	    /* no version */
	    STATUS_SQL_CREATE "DELETE FROM metadata;",
	    /* bad uid */
	    STATUS_SQL_CREATE "INSERT INTO status VALUES(-4,'S',0,'');",
	    /* bad flags */
	    STATUS_SQL_CREATE "INSERT INTO status VALUES(4,'S R',0,'');",
	};
	size_t lb, la;
	char *before, *after;

	mkdirs(t->dir, "Account-Test/LocalStatus-sqlite");
	for (size_t i = 0; i < ARRAY_SIZE(scripts); i++) {
		unlink(path);
		if (!scripts[i]) {
			spew(path,
			     "this is not sqlite, but long enough to "
			     "have a header......................"
			     "..................................\n",
			     110);
		} else {
			sqlite3 *db;

			assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
			assert_int_equal(
			    sqlite3_exec(db, scripts[i], NULL, NULL, NULL),
			    SQLITE_OK);
			sqlite3_close(db);
		}
		before = test_slurp(path, &lb);
		for (int ro = 0; ro < 2; ro++) {
			oim_err_clear(&err);
			assert_int_equal(
			    status_open(t->acct, "C", STATUS_BACKEND_SQLITE,
					ro ? STATUS_OPEN_READONLY : 0, &st,
					&err),
			    -1);
			expect_status_error(&err, path);
		}
		after = test_slurp(path, &la);
		assert_int_equal(la, lb);
		assert_memory_equal(before, after, la);
		free(before);
		free(after);
	}
	free(path);
}

/* ---- validity ---- */

static void test_validity(void **state)
{
	struct tmp *t = *state;
	struct oim_err err = OIM_ERR_INIT;
	char *refmeta = ref_path("");
	bool present;
	uint64_t v;
	static const struct {
		const char *repo, *folder, *file;
		uint64_t val;
	} cases[] = {
	    {"Remote", "INBOX", "INBOX", 1700000001},
	    {"Remote", "Sub/Folder", "Sub.Folder", 4294967295u},
	    {"Local", "INBOX", "INBOX", 42},
	    {"Local", "Sub.Folder", "Sub.Folder", 42},
	    {"Local", "", "dot", 42},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *rel = xasprintf("Repository-%s/FolderValidity/%s",
				      cases[i].repo, cases[i].file);
		char *mine = tpath(t, rel), *ref = ref_path(rel);
		char *a, *b;
		size_t la, lb;

		assert_int_equal(status_validity_read(refmeta, cases[i].repo,
						      cases[i].folder, &present,
						      &v, &err),
				 0);
		assert_true(present);
		assert_true(v == cases[i].val);
		assert_int_equal(status_validity_write(
				     t->dir, cases[i].repo, cases[i].folder,
				     cases[i].val, false, &err),
				 0);
		a = test_slurp(mine, &la);
		b = test_slurp(ref, &lb);
		assert_int_equal(la, lb);
		assert_memory_equal(a, b, la);
		free(a);
		free(b);
		free(mine);
		free(ref);
		free(rel);
	}
	char *um = tpath(t, "Repository-Remote/UIDMapping");

	assert_true(file_exists(um));
	free(um);
	assert_int_equal(
	    status_validity_read(t->dir, "Remote", "Nope", &present, &v, &err),
	    0);
	assert_false(present);

	char *bad = tpath(t, "Repository-Remote/FolderValidity/Bad");

	spew(bad, "abc\n", 4);
	assert_int_equal(
	    status_validity_read(t->dir, "Remote", "Bad", &present, &v, &err),
	    -1);
	expect_status_error(&err, bad);
	spew(bad, " 17 \n", 5);
	assert_int_equal(
	    status_validity_read(t->dir, "Remote", "Bad", &present, &v, &err),
	    0);
	assert_true(present && v == 17);
	free(bad);
	free(refmeta);
}

/* ---- journal ---- */

static void test_journal(void **state)
{
	struct tmp *t = *state;
	struct oim_err err = OIM_ERR_INIT;
	struct status_journal *j;
	const struct status_journal_entry *e;
	uint64_t id1, id2, id3, id4;
	size_t n;
	char *path = tpath(t, "Account-Test/oimap-journal/INBOX");

	assert_int_equal(status_journal_open(t->acct, "INBOX", 0, &j, &err), 0);
	e = status_journal_pending(j, &n);
	assert_int_equal(n, 0);
	assert_false(file_exists(path));
	assert_int_equal(status_journal_add(j, "1700000000_0.1.host:2,S",
					    "<a b%c@x>", 1234, 1700000000, &id1,
					    &err),
			 0);
	assert_int_equal(status_journal_add(j, "n2", "", 5, -1, &id2, &err), 0);
	assert_int_equal(status_journal_add(j, "n3", "-", 6, 0, &id3, &err), 0);
	assert_true(id1 < id2 && id2 < id3);
	assert_int_equal(status_journal_done(j, id2, 99, &err), 0);
	assert_int_equal(status_journal_done(j, id2, 99, &err), -1);
	status_journal_close(j); /* as if killed: no clear */

	/* a crash in the middle of the next append leaves a torn line */
	int fd = open(path, O_WRONLY | O_APPEND);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "I 9 1 1 torn", 12), 12);
	close(fd);

	assert_int_equal(status_journal_open(t->acct, "INBOX", 0, &j, &err), 0);
	e = status_journal_pending(j, &n);
	assert_int_equal(n, 2);
	assert_true(e[0].id == id1);
	assert_string_equal(e[0].local_name, "1700000000_0.1.host:2,S");
	assert_string_equal(e[0].message_id, "<a b%c@x>");
	assert_true(e[0].size == 1234 && e[0].internal_date == 1700000000);
	assert_true(e[1].id == id3);
	assert_string_equal(e[1].message_id, "-");
	assert_int_equal(
	    status_journal_add(j, "n4", "<m4@x>", 7, 7, &id4, &err), 0);
	assert_true(id4 > id3);
	status_journal_close(j);

	assert_int_equal(status_journal_open(t->acct, "INBOX", 0, &j, &err), 0);
	e = status_journal_pending(j, &n);
	assert_int_equal(n, 3);
	assert_string_equal(e[2].local_name, "n4");
	assert_int_equal(status_journal_done(j, id1, 5, &err), 0);
	assert_int_equal(status_journal_clear(j, &err), 0);
	status_journal_close(j);

	size_t len;
	char *c = test_slurp(path, &len);

	assert_non_null(c);
	assert_null(strstr(c, "n2"));
	assert_null(strstr(c, "D "));
	assert_non_null(strstr(c, " n3 "));
	free(c);

	assert_int_equal(status_journal_open(t->acct, "INBOX", 0, &j, &err), 0);
	e = status_journal_pending(j, &n);
	assert_int_equal(n, 2);
	assert_int_equal(status_journal_done(j, e[0].id, 0, &err), 0);
	e = status_journal_pending(j, &n);
	assert_int_equal(status_journal_done(j, e[0].id, 0, &err), 0);
	assert_int_equal(status_journal_clear(j, &err), 0);
	status_journal_close(j);
	assert_false(file_exists(path));

	/* corrupt journal: error naming it, file kept */
	spew(path, "OIMAP-JOURNAL 1\nX y\n", 20);
	assert_int_equal(status_journal_open(t->acct, "INBOX", 0, &j, &err),
			 -1);
	expect_status_error(&err, path);
	assert_true(file_exists(path));
	free(path);
}

static void test_readonly_creates_nothing(void **state)
{
	struct tmp *t = *state;
	struct oim_err err = OIM_ERR_INIT;
	struct status *st;

	for (int b = 0; b < 2; b++) {
		assert_int_equal(status_open(t->acct, "X",
					     (enum status_backend)b,
					     STATUS_OPEN_READONLY, &st, &err),
				 0);
		assert_true(status_is_new(st));
		assert_int_equal(status_count(st), 0);
		status_close(st);
	}
	assert_false(file_exists(t->acct));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_basename),
	    cmocka_unit_test(test_paths),
	    cmocka_unit_test(test_normalize),
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	    T(test_read_offlineimap_plain),
	    T(test_read_offlineimap_sqlite),
	    T(test_write_plain_like_offlineimap),
	    T(test_write_sqlite_like_offlineimap),
	    T(test_plain_v1_upgrade),
	    T(test_sqlite_v1_upgrade),
	    T(test_plain_to_sqlite),
	    T(test_sqlite_to_plain),
	    T(test_batch_sqlite),
	    T(test_batch_plain),
	    T(test_table_random),
	    T(test_meta),
	    T(test_killed_mid_batch),
	    T(test_stale_tmp_file),
	    T(test_corrupt_plain),
	    T(test_corrupt_sqlite),
	    T(test_validity),
	    T(test_journal),
	    T(test_readonly_creates_nothing),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
