/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The Maildir driver through the store.h vtable only (a scratch dir under
 * $TMPDIR): folders, save/scan/fetch, flag and UID renames as OfflineIMAP
 * makes them, deletion, foreign FMD5, read-only, vanished files.
 * md5 values: python3 -c 'import hashlib; hashlib.md5(b"INBOX").hexdigest()'.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"

#include "store/store.h"
#include "util/strbuf.h"
#include "util/util.h"

#define FMD5_INBOX "7e33429f656f1e6e9d79b29c3f82c57e"
#define FMD5_FOO   "1356c67d7ad1638d816bfb822dd2c25d"
#define FMD5_OTHER "6311ae17c1ee52b36e68aaf4ad066387"

struct fx {
	char root[1024];
	struct store *s;
	struct store_folder *f;
};

static void run(const char *fmt, ...) OIM_PRINTF(1, 2);
static void run(const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	assert_int_equal(system(sb.buf), 0);
	strbuf_release(&sb);
}

/* root/folder/rel in one of a few rotating buffers (no frees in tests) */
static const char *path_of(struct fx *fx, const char *folder, const char *rel)
{
	static char bufs[4][PATH_MAX];
	static unsigned next;
	char *b = bufs[next++ % ARRAY_SIZE(bufs)];
	snprintf(b, PATH_MAX, "%s/%s/%s", fx->root, folder, rel);
	return b;
}

static bool exists(const char *path)
{
	struct stat st;
	return !stat(path, &st);
}

static size_t count_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;
	assert_non_null(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static struct store *open_store_opts(const struct store_maildir_opts *o)
{
	struct oim_err err = OIM_ERR_INIT;
	struct store *s = NULL;
	if (store_maildir_open(&s, o, &err) < 0)
		fail_msg("%s", err.msg);
	assert_non_null(s);
	return s;
}

static struct store *open_store(const char *root, char sep, bool win,
				bool readonly)
{
	struct oim_err err = OIM_ERR_INIT;
	struct store_maildir_opts o = {
	    .repo = "local",
	    .root = root,
	    .sep = sep,
	    .fsync = false, /* the suite stays fast; maildir.h tests fsync */
	    .windows_compatible = win,
	    .readonly = readonly,
	};
	struct store *s = NULL;
	if (store_maildir_open(&s, &o, &err) < 0)
		fail_msg("%s", err.msg);
	assert_non_null(s);
	assert_string_equal(s->ops->kind, "Maildir");
	assert_string_equal(s->repo, "local");
	assert_int_equal(s->readonly, readonly);
	return s;
}

static struct store_folder *open_folder(struct store *s, const char *name,
					const char *visible, unsigned flags)
{
	struct oim_err err = OIM_ERR_INIT;
	struct store_folder *f = NULL;
	if (s->ops->open_folder(s, name, visible, flags, &f, &err) < 0)
		fail_msg("%s", err.msg);
	assert_non_null(f);
	assert_ptr_equal(f->store, s);
	assert_string_equal(f->name, name);
	return f;
}

static void close_folder(struct store_folder *f)
{
	struct oim_err err = OIM_ERR_INIT;
	struct store *s = f->store;
	if (s->ops->close_folder(f, true, &err) < 0)
		fail_msg("%s", err.msg);
}

static int setup(void **state)
{
	struct fx *fx = xcalloc(1, sizeof(*fx));
	const char *tmp = getenv("TMPDIR");
	snprintf(fx->root, sizeof(fx->root), "%s/oimap-stmd-XXXXXX",
		 tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(fx->root));
	fx->s = open_store(fx->root, '.', false, false);
	fx->f = open_folder(fx->s, "INBOX", NULL, STORE_OPEN_CREATE);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	if (fx->f)
		close_folder(fx->f);
	store_close(fx->s);
	run("rm -rf '%s'", fx->root);
	free(fx);
	return 0;
}

/* Save 'body' in chunks of 'chunk' bytes; returns the id. */
static char *save(struct store_folder *f, uint32_t uid, sync_flags_t flags,
		  const char *body, size_t chunk)
{
	struct oim_err err = OIM_ERR_INIT;
	struct store_writer *w = NULL;
	size_t len = strlen(body);
	uint32_t got_uid = 0;
	char *id = NULL;

	if (f->ops->save_begin(f, uid, flags, 1234, len, &w, &err) < 0)
		fail_msg("%s", err.msg);
	for (size_t off = 0; off < len; off += chunk) {
		size_t k = len - off < chunk ? len - off : chunk;
		if (f->ops->save_write(w, body + off, k, &err) < 0)
			fail_msg("%s", err.msg);
	}
	if (f->ops->save_commit(w, &got_uid, &id, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(got_uid, uid);
	assert_non_null(id);
	return id;
}

static void scan(struct store_folder *f, struct store_msglist *l)
{
	struct oim_err err = OIM_ERR_INIT;
	memset(l, 0, sizeof(*l));
	if (f->ops->scan(f, NULL, l, &err) < 0)
		fail_msg("%s", err.msg);
}

/* The entry with this id / UID; the test fails (and stops) without one. */
static struct store_msg *find_id(struct store_msglist *l, const char *id)
{
	for (size_t i = 0; i < l->nr; i++)
		if (!strcmp(l->v[i].id, id))
			return &l->v[i];
	fail_msg("no message %s", id);
	abort();
}

static bool has_uid(struct store_msglist *l, uint32_t uid)
{
	for (size_t i = 0; i < l->nr; i++)
		if (l->v[i].uid == uid)
			return true;
	return false;
}

static struct store_msg *find_uid(struct store_msglist *l, uint32_t uid)
{
	for (size_t i = 0; i < l->nr; i++)
		if (l->v[i].uid == uid)
			return &l->v[i];
	fail_msg("no message with UID %lu", (unsigned long)uid);
	abort();
}

static bool matches(const char *s, const char *re)
{
	regex_t rx;
	int rc;
	assert_int_equal(regcomp(&rx, re, REG_EXTENDED | REG_NOSUB), 0);
	rc = regexec(&rx, s, 0, NULL, 0);
	regfree(&rx);
	return rc == 0;
}

/* gethostname() as maildir.h puts it into names */
static void hostname(char *buf, size_t cap)
{
	assert_int_equal(gethostname(buf, cap - 1), 0);
	buf[cap - 1] = '\0';
	for (char *p = buf; *p; p++)
		if (*p == '/' || *p == ':' || *p == ',' || *p == '!')
			*p = '-';
}

/* ---- folders ---- */

static bool listed(const struct store_folder_list *l, const char *name)
{
	for (size_t i = 0; i < l->nr; i++)
		if (!strcmp(l->v[i].name, name)) {
			assert_false(l->v[i].noselect);
			return true;
		}
	return false;
}

static void test_folders_dot(void **state)
{
	struct fx *fx = *state;
	struct oim_err err = OIM_ERR_INIT;
	struct store_folder_list l = {0};
	struct store *s = fx->s;

	assert_int_equal(s->ops->create_folder(s, "Archive.2023", &err), 0);
	assert_int_equal(s->ops->create_folder(s, "Sent", &err), 0);
	/* again: exists, fine */
	assert_int_equal(s->ops->create_folder(s, "Sent", &err), 0);
	/* a directory that is no Maildir is no folder */
	run("mkdir -p '%s/notmail/sub'", fx->root);
	assert_int_equal(s->ops->list_folders(s, &l, &err), 0);
	assert_int_equal(l.sep, '.');
	assert_int_equal(l.nr, 3);
	assert_true(listed(&l, "INBOX"));
	assert_true(listed(&l, "Archive.2023"));
	assert_true(listed(&l, "Sent"));
	store_folder_list_release(&l);
	assert_int_equal(l.nr, 0);

	/* escaping the root is refused */
	assert_int_equal(s->ops->create_folder(s, "../evil", &err), -1);
	assert_true(err.sev >= OIM_SEV_FOLDER);
	assert_false(exists(path_of(fx, "..", "evil")));
}

static void test_folders_slash(void **state)
{
	struct fx *fx = *state;
	struct oim_err err = OIM_ERR_INIT;
	struct store_folder_list l = {0};
	char root[1100];
	struct store *s;
	struct store_folder *f;

	snprintf(root, sizeof(root), "%s/slash", fx->root);
	s = open_store(root, '/', false, false);
	assert_int_equal(s->ops->create_folder(s, "Lists/oimap", &err), 0);
	f = open_folder(s, "Lists/dev/c", NULL, STORE_OPEN_CREATE);
	assert_int_equal(f->state.uidvalidity, 42);
	close_folder(f);
	assert_int_equal(s->ops->list_folders(s, &l, &err), 0);
	assert_int_equal(l.sep, '/');
	/* "Lists" and "Lists/dev" are only parents: not listed */
	assert_int_equal(l.nr, 2);
	assert_true(listed(&l, "Lists/oimap"));
	assert_true(listed(&l, "Lists/dev/c"));
	store_folder_list_release(&l);
	/* with sep '/' a component named cur/new/tmp is refused */
	assert_int_equal(s->ops->create_folder(s, "a/cur", &err), -1);
	store_close(s);
}

static void test_open_missing(void **state)
{
	struct fx *fx = *state;
	struct oim_err err = OIM_ERR_INIT;
	struct store_folder *f = NULL;

	assert_int_equal(
	    fx->s->ops->open_folder(fx->s, "Nope", NULL, 0, &f, &err), -1);
	assert_null(f);
	assert_int_equal(err.sev, OIM_SEV_FOLDER);
	assert_non_null(strstr(err.msg, "Nope"));
	assert_false(exists(path_of(fx, "Nope", "")));
}

/* ---- save, scan, fetch ---- */

static void test_save_scan(void **state)
{
	struct fx *fx = *state;
	const char *crlf = "From: a@example.org\r\nSubject: hi\r\n\r\n"
			   "line one\r\nline two\r\n";
	const char *lf = "From: a@example.org\nSubject: hi\n\nline one\n"
			 "line two\n";
	struct store_msglist l;
	struct store_msg *m;
	time_t before = time(NULL);
	char *id, *content;
	const char *path;

	assert_int_equal(fx->f->state.uidvalidity, 42);
	/* chunks of 7: CR and LF meet across chunk borders */
	id = save(fx->f, 17, SYNC_F_FLAGGED | SYNC_F_SEEN | SYNC_FLAG('a'),
		  crlf, 7);
	assert_true(oim_starts_with(id, "cur/"));
	assert_true(matches(id, ",U=17,FMD5=" FMD5_INBOX ":2,FSa$"));
	path = path_of(fx, "INBOX", id);
	content = test_read_file(path);
	assert_string_equal(content, lf);
	free(content);
	assert_int_equal(count_files(path_of(fx, "INBOX", "tmp")), 0);

	scan(fx->f, &l);
	assert_int_equal(l.nr, 1);
	m = find_id(&l, id);
	assert_non_null(m);
	assert_int_equal(m->uid, 17);
	assert_true(m->flags ==
		    (SYNC_F_FLAGGED | SYNC_F_SEEN | SYNC_FLAG('a')));
	assert_int_equal(m->size, strlen(lf));
	/* the name's leading time (what maxage looks at) */
	assert_true(m->date >= (int64_t)before &&
		    m->date <= (int64_t)time(NULL));
	store_msglist_release(&l);

	/* unseen mail goes to new/, still with ":2," */
	free(id);
	id = save(fx->f, 18, 0, crlf, 1000);
	assert_true(oim_starts_with(id, "new/"));
	assert_true(matches(id, ",U=18,FMD5=" FMD5_INBOX ":2,$"));
	scan(fx->f, &l);
	assert_int_equal(l.nr, 2);
	m = find_uid(&l, 18);
	assert_non_null(m);
	assert_string_equal(m->id, id);
	assert_int_equal(m->flags, 0);
	store_msglist_release(&l);

	/* min_uid drops UIDs below it (new local mail stays) */
	{
		struct store_scan_opts so = {.min_uid = 18};
		struct oim_err err = OIM_ERR_INIT;
		memset(&l, 0, sizeof(l));
		assert_int_equal(fx->f->ops->scan(fx->f, &so, &l, &err), 0);
		assert_int_equal(l.nr, 1);
		assert_int_equal(l.v[0].uid, 18);
		store_msglist_release(&l);
	}
	free(id);
}

static void test_save_abort(void **state)
{
	struct fx *fx = *state;
	struct oim_err err = OIM_ERR_INIT;
	struct store_writer *w = NULL;
	struct store_msglist l;

	assert_int_equal(
	    fx->f->ops->save_begin(fx->f, 5, SYNC_F_SEEN, 0, 0, &w, &err), 0);
	assert_int_equal(
	    fx->f->ops->save_write(w, "X: y\r\n\r\nz\r\n", 11, &err), 0);
	assert_int_equal(count_files(path_of(fx, "INBOX", "tmp")), 1);
	fx->f->ops->save_abort(w);
	assert_int_equal(count_files(path_of(fx, "INBOX", "tmp")), 0);
	scan(fx->f, &l);
	assert_int_equal(l.nr, 0);
	store_msglist_release(&l);

	/* a Maildir save needs the UID from the other side */
	assert_int_equal(fx->f->ops->save_begin(fx->f, 0, 0, 0, 0, &w, &err),
			 -1);
	assert_null(w);
}

struct got {
	struct strbuf cur;
	char *bodies[8];
	uint32_t uids[8];
	size_t nr;
	size_t max_chunk;
	int fail_begin_uid; /* begin() of this UID fails */
	enum oim_sev fail_sev;
};

static int cb_begin(void *ctx, const struct store_msg *msg, struct oim_err *err)
{
	struct got *g = ctx;
	if (g->fail_begin_uid && msg->uid == (uint32_t)g->fail_begin_uid)
		return oim_error(err, g->fail_sev, OIM_E_GENERIC, "no thanks");
	assert_true(g->nr < ARRAY_SIZE(g->bodies));
	g->uids[g->nr] = msg->uid;
	strbuf_reset(&g->cur);
	return 0;
}

static int cb_data(void *ctx, const void *data, size_t len, struct oim_err *err)
{
	struct got *g = ctx;
	(void)err;
	assert_true(len > 0);
	if (len > g->max_chunk)
		g->max_chunk = len;
	strbuf_add(&g->cur, data, len);
	return 0;
}

static int cb_end(void *ctx, struct oim_err *err)
{
	struct got *g = ctx;
	(void)err;
	g->bodies[g->nr++] = strbuf_detach(&g->cur, NULL);
	return 0;
}

static const struct store_body_cb cb = {cb_begin, cb_data, cb_end};

static void got_release(struct got *g)
{
	for (size_t i = 0; i < g->nr; i++)
		free(g->bodies[i]);
	strbuf_release(&g->cur);
}

static void test_fetch(void **state)
{
	struct fx *fx = *state;
	struct oim_err err = OIM_ERR_INIT;
	struct strbuf big_crlf = STRBUF_INIT, big_lf = STRBUF_INIT;
	struct got g = {.cur = STRBUF_INIT};
	struct store_msglist l;
	const struct store_msg *msgs[3];
	char *id1, *id2, *id3;

	/* > 2 chunks of 64 KB, with a lone CR kept and a NUL byte */
	strbuf_addstr(&big_crlf, "Subject: big\r\n\r\n");
	strbuf_addstr(&big_lf, "Subject: big\n\n");
	for (int i = 0; i < 5000; i++) {
		strbuf_addf(&big_crlf, "line %05d with a lone \r CR\r\n", i);
		strbuf_addf(&big_lf, "line %05d with a lone \r CR\n", i);
	}
	id1 = save(fx->f, 1, SYNC_F_SEEN, big_crlf.buf, 4096);
	id2 = save(fx->f, 2, 0, "A: b\r\n\r\nsmall\r\n", 3);
	/* new local mail, LF as a mail reader writes it */
	test_write_file(path_of(fx, "INBOX", "new/1700000000.M1P1.host"),
		 "A: c\n\nlocal\n");
	id3 = xstrdup("new/1700000000.M1P1.host");

	scan(fx->f, &l);
	assert_int_equal(l.nr, 3);
	msgs[0] = find_id(&l, id1);
	msgs[1] = find_id(&l, id2);
	msgs[2] = find_id(&l, id3);
	assert_non_null(msgs[0]);
	assert_non_null(msgs[1]);
	assert_non_null(msgs[2]);
	assert_int_equal(msgs[0]->size, big_lf.len);
	assert_int_equal(msgs[2]->uid, 0);
	assert_int_equal(msgs[2]->date, 1700000000);

	assert_int_equal(fx->f->ops->fetch(fx->f, msgs, 3, &cb, &g, &err), 0);
	assert_int_equal(g.nr, 3);
	assert_int_equal(g.uids[0], 1);
	assert_int_equal(strlen(g.bodies[0]), big_lf.len);
	assert_memory_equal(g.bodies[0], big_lf.buf, big_lf.len);
	assert_string_equal(g.bodies[1], "A: b\n\nsmall\n");
	assert_string_equal(g.bodies[2], "A: c\n\nlocal\n");
	assert_int_equal(g.max_chunk, 64 * 1024);
	got_release(&g);

	/* a callback refusing one message: the others go on */
	memset(&g, 0, sizeof(g));
	strbuf_init(&g.cur, 0);
	g.fail_begin_uid = 1;
	g.fail_sev = OIM_SEV_MESSAGE;
	assert_int_equal(fx->f->ops->fetch(fx->f, msgs, 3, &cb, &g, &err), 0);
	assert_int_equal(g.nr, 2);
	assert_int_equal(g.uids[0], 2);
	got_release(&g);

	/* ... and refusing with ACCOUNT stops the fetch */
	memset(&g, 0, sizeof(g));
	strbuf_init(&g.cur, 0);
	g.fail_begin_uid = 1;
	g.fail_sev = OIM_SEV_ACCOUNT;
	assert_int_equal(fx->f->ops->fetch(fx->f, msgs, 3, &cb, &g, &err), -1);
	assert_int_equal(err.sev, OIM_SEV_ACCOUNT);
	assert_int_equal(g.nr, 0);
	got_release(&g);

	store_msglist_release(&l);
	strbuf_release(&big_crlf);
	strbuf_release(&big_lf);
	free(id1);
	free(id2);
	free(id3);
}

static void test_fetch_vanished(void **state)
{
	struct fx *fx = *state;
	struct oim_err err = OIM_ERR_INIT;
	struct got g = {.cur = STRBUF_INIT};
	struct store_msglist l;
	const struct store_msg *msgs[3];
	char *ids[3];
	const char *p;

	ids[0] = save(fx->f, 1, SYNC_F_SEEN, "A: 1\r\n\r\none\r\n", 100);
	ids[1] = save(fx->f, 2, SYNC_F_SEEN, "A: 2\r\n\r\ntwo\r\n", 100);
	ids[2] = save(fx->f, 3, SYNC_F_SEEN, "A: 3\r\n\r\nthree\r\n", 100);
	scan(fx->f, &l);
	for (int i = 0; i < 3; i++) {
		msgs[i] = find_id(&l, ids[i]);
		assert_non_null(msgs[i]);
	}
	/* a mail reader deletes the middle one after the scan */
	p = path_of(fx, "INBOX", ids[1]);
	assert_int_equal(unlink(p), 0);

	assert_int_equal(fx->f->ops->fetch(fx->f, msgs, 3, &cb, &g, &err), -1);
	assert_int_equal(err.sev, OIM_SEV_MESSAGE);
	assert_int_equal(err.kind, OIM_E_IO);
	assert_non_null(strstr(err.msg, ids[1] + 4));
	/* the others were delivered in full */
	assert_int_equal(g.nr, 2);
	assert_int_equal(g.uids[0], 1);
	assert_int_equal(g.uids[1], 3);
	assert_string_equal(g.bodies[0], "A: 1\n\none\n");
	assert_string_equal(g.bodies[1], "A: 3\n\nthree\n");
	got_release(&g);
	store_msglist_release(&l);
	for (int i = 0; i < 3; i++)
		free(ids[i]);
}

/* ---- flags ---- */

static void test_set_flags(void **state)
{
	struct fx *fx = *state;
	struct oim_err err = OIM_ERR_INIT;
	struct store_msglist l;
	struct store_msg *m, *mp[2];
	char *id, *base, *cut;
	const char *p, *old;

	id = save(fx->f, 7, 0, "A: b\r\n\r\nc\r\n", 100);
	assert_true(oim_starts_with(id, "new/"));
	base = xstrdup(id + 4);
	scan(fx->f, &l);
	m = find_uid(&l, 7);
	assert_non_null(m);
	mp[0] = m;

	/* +S: new/ -> cur/, the info part rewritten (savemessageflags) */
	old = path_of(fx, "INBOX", m->id);
	assert_int_equal(fx->f->ops->set_flags(fx->f, mp, 1,
					       SYNC_F_SEEN | SYNC_F_REPLIED, 0,
					       &err),
			 0);
	assert_false(exists(old));
	assert_true(oim_starts_with(m->id, "cur/"));
	assert_true(m->flags == (SYNC_F_SEEN | SYNC_F_REPLIED));
	/* same base name up to the info, flags sorted */
	cut = strstr(base, ":2,");
	assert_non_null(cut);
	*cut = '\0';
	assert_true(oim_starts_with(m->id + 4, base));
	assert_string_equal(m->id + 4 + strlen(base), ":2,RS");
	p = path_of(fx, "INBOX", m->id);
	assert_true(exists(p));

	/* -S +F: back to new/ */
	assert_int_equal(fx->f->ops->set_flags(fx->f, mp, 1, SYNC_F_FLAGGED,
					       SYNC_F_SEEN, &err),
			 0);
	assert_true(oim_starts_with(m->id, "new/"));
	assert_string_equal(m->id + 4 + strlen(base), ":2,FR");
	assert_true(m->flags == (SYNC_F_FLAGGED | SYNC_F_REPLIED));
	store_msglist_release(&l);

	/* the next scan agrees */
	scan(fx->f, &l);
	assert_int_equal(l.nr, 1);
	assert_true(l.v[0].flags == (SYNC_F_FLAGGED | SYNC_F_REPLIED));
	store_msglist_release(&l);

	/* flags plan.h cannot express (digits) survive, keywords count */
	test_write_file(
	    path_of(fx, "INBOX", "cur/100_0.1.h,U=9,FMD5=" FMD5_INBOX ":2,3S"),
	    "A: b\n\nc\n");
	scan(fx->f, &l);
	m = find_uid(&l, 9);
	assert_non_null(m);
	assert_true(m->flags == SYNC_F_SEEN);
	mp[0] = m;
	assert_int_equal(fx->f->ops->set_flags(fx->f, mp, 1,
					       SYNC_FLAG('b') | SYNC_F_DRAFT, 0,
					       &err),
			 0);
	assert_string_equal(m->id,
			    "cur/100_0.1.h,U=9,FMD5=" FMD5_INBOX ":2,3DSb");
	assert_true(m->flags == (SYNC_F_SEEN | SYNC_F_DRAFT | SYNC_FLAG('b')));
	/* a no-op change keeps the name */
	assert_int_equal(
	    fx->f->ops->set_flags(fx->f, mp, 1, SYNC_F_SEEN, 0, &err), 0);
	assert_string_equal(m->id,
			    "cur/100_0.1.h,U=9,FMD5=" FMD5_INBOX ":2,3DSb");
	p = path_of(fx, "INBOX", m->id);
	assert_true(exists(p));
	store_msglist_release(&l);
	free(base);
	free(id);
}

static void test_set_flags_batch_gone(void **state)
{
	struct fx *fx = *state;
	struct oim_err err = OIM_ERR_INIT;
	struct store_msglist l;
	struct store_msg *mp[2];
	char *ids[2];
	const char *p;

	ids[0] = save(fx->f, 1, 0, "A: 1\r\n\r\n", 100);
	ids[1] = save(fx->f, 2, 0, "A: 2\r\n\r\n", 100);
	scan(fx->f, &l);
	mp[0] = find_id(&l, ids[0]);
	mp[1] = find_id(&l, ids[1]);
	/* the first one is gone for good: the second still changes */
	p = path_of(fx, "INBOX", ids[0]);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(
	    fx->f->ops->set_flags(fx->f, mp, 2, SYNC_F_SEEN, 0, &err), -1);
	assert_true(mp[1]->flags == SYNC_F_SEEN);
	assert_true(oim_starts_with(mp[1]->id, "cur/"));
	assert_true(mp[0]->flags == 0);
	store_msglist_release(&l);
	free(ids[0]);
	free(ids[1]);
}

/* ---- UIDs ---- */

static void test_set_uid(void **state)
{
	struct fx *fx = *state;
	struct oim_err err = OIM_ERR_INIT;
	struct store_msglist l;
	struct store_msg *m;
	char host[256], re[1024], *content, *info = NULL;
	const char *p;
	time_t before = time(NULL);

	/* mutt's delivery into new/ (no info), and a seen one in cur/ */
	test_write_file(path_of(fx, "INBOX", "new/1700000000.M5P9.box"),
		 "Message-ID: <abc@x>\nA: b\n\nbody\n");
	test_write_file(path_of(fx, "INBOX", "cur/1700000001.M6P9.box:2,FS"),
		 "A: b\n\nseen\n");
	scan(fx->f, &l);
	assert_int_equal(l.nr, 2);
	for (size_t i = 0; i < l.nr; i++)
		assert_int_equal(l.v[i].uid, 0);

	m = find_id(&l, "new/1700000000.M5P9.box");
	assert_non_null(m);
	assert_int_equal(fx->f->ops->msg_info(fx->f, m, &info, &err), 0);
	assert_string_equal(info, "<abc@x>");
	free(info);
	assert_int_equal(fx->f->ops->set_uid(fx->f, m, 99, &err), 0);
	assert_int_equal(m->uid, 99);
	/* change_message_uid(): same directory, a fresh
	 * '%d_%d.%d.%s,U=%d,FMD5=%s%s2,%s' name */
	hostname(host, sizeof(host));
	snprintf(re, sizeof(re),
		 "^new/([0-9]+)_[0-9]+\\.%ld\\.%s,U=99,FMD5=" FMD5_INBOX ":2,$",
		 (long)getpid(), host);
	assert_true(matches(m->id, re));
	assert_true(strtoll(m->id + 4, NULL, 10) >= (long long)before);
	p = path_of(fx, "INBOX", m->id);
	content = test_read_file(p);
	assert_string_equal(content, "Message-ID: <abc@x>\nA: b\n\nbody\n");
	free(content);
	assert_false(exists(path_of(fx, "INBOX", "new/1700000000.M5P9.box")));

	m = find_id(&l, "cur/1700000001.M6P9.box:2,FS");
	assert_non_null(m);
	assert_int_equal(fx->f->ops->set_uid(fx->f, m, 100, &err), 0);
	snprintf(re, sizeof(re),
		 "^cur/[0-9]+_[0-9]+\\.%ld\\.%s,U=100,FMD5=" FMD5_INBOX
		 ":2,FS$",
		 (long)getpid(), host);
	assert_true(matches(m->id, re));
	store_msglist_release(&l);

	/* and the next scan knows both by UID */
	scan(fx->f, &l);
	assert_true(has_uid(&l, 99));
	assert_true(find_uid(&l, 100)->flags == (SYNC_F_FLAGGED | SYNC_F_SEEN));
	store_msglist_release(&l);
}

static void test_foreign_fmd5(void **state)
{
	struct fx *fx = *state;
	struct store_msglist l;
	struct store_msg *m;

	/* moved in from folder "Other" */
	test_write_file(
	    path_of(fx, "INBOX", "cur/100_0.1.h,U=5,FMD5=" FMD5_OTHER ":2,S"),
	    "A: b\n\n");
	/* mbsync's ",U=" without FMD5 */
	test_write_file(path_of(fx, "INBOX", "cur/101.1_2.h,U=6:2,F"), "A: b\n\n");
	/* ours */
	test_write_file(
	    path_of(fx, "INBOX", "cur/102_0.1.h,U=7,FMD5=" FMD5_INBOX ":2,S"),
	    "A: b\n\n");
	/* names that cannot be trusted: left alone, counted */
	test_write_file(
	    path_of(fx, "INBOX", "cur/103_0.1.h,U=0,FMD5=" FMD5_INBOX ":2,S"),
	    "A: b\n\n");
	run("mkdir '%s'", path_of(fx, "INBOX", "new/adir"));
	scan(fx->f, &l);
	assert_int_equal(l.nr, 3);
	assert_int_equal(l.skipped, 2);
	m = find_id(&l, "cur/100_0.1.h,U=5,FMD5=" FMD5_OTHER ":2,S");
	assert_non_null(m);
	assert_int_equal(m->uid, 0);
	assert_true(m->flags == SYNC_F_SEEN);
	assert_int_equal(m->size, 6);
	m = find_id(&l, "cur/101.1_2.h,U=6:2,F");
	assert_non_null(m);
	assert_int_equal(m->uid, 0);
	assert_true(m->flags == SYNC_F_FLAGGED);
	assert_true(has_uid(&l, 7));
	store_msglist_release(&l);
	assert_int_equal(l.skipped, 0);
}

/* The FMD5 hashes the visible name (after nametrans), not the store's. */
static void test_visible_name(void **state)
{
	struct fx *fx = *state;
	struct store_folder *f;
	struct store_msglist l;
	char *id;

	close_folder(fx->f);
	fx->f = NULL;
	f = open_folder(fx->s, "INBOX", "Foo", 0);
	id = save(f, 3, SYNC_F_SEEN, "A: b\r\n\r\n", 100);
	assert_true(matches(id, ",U=3,FMD5=" FMD5_FOO ":2,S$"));
	test_write_file(
	    path_of(fx, "INBOX", "cur/102_0.1.h,U=8,FMD5=" FMD5_INBOX ":2,S"),
	    "A: b\n\n");
	scan(f, &l);
	assert_int_equal(l.nr, 2);
	assert_true(has_uid(&l, 3));
	assert_false(has_uid(&l, 8)); /* INBOX's md5 is foreign here */
	store_msglist_release(&l);
	close_folder(f);
	free(id);
}

static void test_windows(void **state)
{
	struct fx *fx = *state;
	struct store *s;
	struct store_folder *f;
	struct store_msglist l;
	struct store_msg *mp[1];
	struct oim_err err = OIM_ERR_INIT;
	char root[1100], *id;

	snprintf(root, sizeof(root), "%s/win", fx->root);
	s = open_store(root, '.', true, false);
	f = open_folder(s, "INBOX", NULL, STORE_OPEN_CREATE);
	id = save(f, 4, SYNC_F_SEEN, "A: b\r\n\r\n", 100);
	assert_true(matches(id, ",U=4,FMD5=" FMD5_INBOX "!2,S$"));
	scan(f, &l);
	assert_int_equal(l.nr, 1);
	assert_int_equal(l.v[0].uid, 4);
	assert_true(l.v[0].flags == SYNC_F_SEEN);
	mp[0] = &l.v[0];
	assert_int_equal(f->ops->set_flags(f, mp, 1, SYNC_F_FLAGGED, 0, &err),
			 0);
	assert_true(matches(l.v[0].id, "^cur/.*!2,FS$"));
	assert_null(strchr(l.v[0].id, ':'));
	store_msglist_release(&l);
	close_folder(f);
	store_close(s);
	free(id);
}

/* ---- deletion ---- */

static void test_delete(void **state)
{
	struct fx *fx = *state;
	struct oim_err err = OIM_ERR_INIT;
	struct store_msglist l;
	struct store_msg *mp[2];
	char *ids[2];
	const char *p;

	ids[0] = save(fx->f, 1, SYNC_F_SEEN, "A: 1\r\n\r\n", 100);
	ids[1] = save(fx->f, 2, 0, "A: 2\r\n\r\n", 100);
	scan(fx->f, &l);
	mp[0] = find_id(&l, ids[0]);
	mp[1] = find_id(&l, ids[1]);
	assert_int_equal(fx->f->ops->delete (fx->f, mp, 2, &err), 0);
	for (int i = 0; i < 2; i++) {
		p = path_of(fx, "INBOX", ids[i]);
		assert_false(exists(p));
	}
	/* already gone: fine */
	assert_int_equal(fx->f->ops->delete (fx->f, mp, 2, &err), 0);
	store_msglist_release(&l);
	scan(fx->f, &l);
	assert_int_equal(l.nr, 0);
	store_msglist_release(&l);
	free(ids[0]);
	free(ids[1]);
}

/* ---- read-only ---- */

static void test_readonly(void **state)
{
	struct fx *fx = *state;
	struct oim_err err = OIM_ERR_INIT;
	struct store *s;
	struct store_folder *f = NULL;
	struct store_writer *w = NULL;
	struct store_msglist l;
	struct store_msg *mp[1];
	struct got g = {.cur = STRBUF_INIT};
	const struct store_msg *cmp[1];
	char *id;
	const char *p;

	id = save(fx->f, 1, 0, "A: 1\r\n\r\nro\r\n", 100);
	s = open_store(fx->root, '.', false, true);
	assert_int_equal(s->ops->create_folder(s, "New", &err), -1);
	assert_int_equal(err.sev, OIM_SEV_FOLDER);
	assert_non_null(strstr(err.msg, "read-only"));
	assert_false(exists(path_of(fx, "New", "")));
	assert_int_equal(
	    s->ops->open_folder(s, "New2", NULL, STORE_OPEN_CREATE, &f, &err),
	    -1);
	assert_null(f);
	assert_false(exists(path_of(fx, "New2", "")));

	f = open_folder(s, "INBOX", NULL, STORE_OPEN_CREATE);
	scan(f, &l);
	assert_int_equal(l.nr, 1);
	mp[0] = &l.v[0];
	cmp[0] = &l.v[0];
	/* reading works */
	assert_int_equal(f->ops->fetch(f, cmp, 1, &cb, &g, &err), 0);
	assert_int_equal(g.nr, 1);
	assert_string_equal(g.bodies[0], "A: 1\n\nro\n");
	got_release(&g);
	/* changing does not */
	assert_int_equal(f->ops->save_begin(f, 2, 0, 0, 0, &w, &err), -1);
	assert_null(w);
	assert_int_equal(f->ops->set_flags(f, mp, 1, SYNC_F_SEEN, 0, &err), -1);
	assert_int_equal(f->ops->delete (f, mp, 1, &err), -1);
	assert_non_null(strstr(err.msg, "read-only"));
	assert_string_equal(mp[0]->id, id);
	assert_int_equal(mp[0]->uid, 1);
	p = path_of(fx, "INBOX", id);
	assert_true(exists(p));
	assert_int_equal(count_files(path_of(fx, "INBOX", "tmp")), 0);
	store_msglist_release(&l);
	close_folder(f);
	store_close(s);

	/* read-only and create: nothing is created */
	f = NULL;
	assert_int_equal(fx->s->ops->open_folder(
			     fx->s, "New3", NULL,
			     STORE_OPEN_CREATE | STORE_OPEN_READONLY, &f, &err),
			 -1);
	assert_null(f);
	assert_false(exists(path_of(fx, "New3", "")));

	/* a folder opened read-only in a writable store refuses too */
	close_folder(fx->f);
	fx->f = open_folder(fx->s, "INBOX", NULL, STORE_OPEN_READONLY);
	scan(fx->f, &l);
	mp[0] = &l.v[0];
	assert_int_equal(fx->f->ops->delete (fx->f, mp, 1, &err), -1);
	assert_int_equal(fx->f->ops->set_uid(fx->f, mp[0], 5, &err), -1);
	assert_non_null(strstr(err.msg, "read-only"));
	p = path_of(fx, "INBOX", id);
	assert_true(exists(p));
	store_msglist_release(&l);
	free(id);
}

/*
 * A read-only repository still records the UID of a message it uploaded
 * in the file name, as OfflineIMAP's change_message_uid does; otherwise
 * the next run would upload it again.
 */
static void test_readonly_repo_set_uid(void **state)
{
	struct fx *fx = *state;
	struct oim_err err = OIM_ERR_INIT;
	struct store_msglist l;
	struct store_msg *mp[1];
	/* new mail delivered by a mail reader: no U= */
	test_write_file(path_of(fx, "INBOX", "new/1700000000.M5P9.box"),
		 "Message-ID: <ro@x>\nA: b\n\nbody\n");
	struct store *s = open_store(fx->root, '.', false, true);
	struct store_folder *f = open_folder(s, "INBOX", NULL, 0);
	scan(f, &l);
	assert_int_equal(l.nr, 1);
	assert_int_equal(l.v[0].uid, 0);
	mp[0] = &l.v[0];
	assert_int_equal(f->ops->set_uid(f, mp[0], 7, &err), 0);
	assert_non_null(strstr(mp[0]->id, ",U=7,"));
	store_msglist_release(&l);
	scan(f, &l);
	assert_int_equal(l.nr, 1);
	assert_int_equal(l.v[0].uid, 7);
	store_msglist_release(&l);
	close_folder(f);
	store_close(s);
}

/* ---- options reach the library ---- */

static void test_options(void **state)
{
	struct fx *fx = *state;
	char root[1100], *id;
	struct store_maildir_opts o = {
	    .repo = "opts",
	    .fsync = true,
	    .filename_use_mail_timestamp = true,
	    .utime_from_header = true,
	    .restoreatime = true,
	};
	struct timespec old_atime[2] = {{.tv_sec = 1000000000},
					{.tv_nsec = UTIME_OMIT}};
	struct store *s;
	struct store_folder *f;
	struct store_msglist l;
	struct stat st;

	snprintf(root, sizeof(root), "%s/opts", fx->root);
	o.root = root;
	s = open_store_opts(&o);
	f = open_folder(s, "INBOX", NULL, STORE_OPEN_CREATE);
	/* Tue, 14 Nov 2023 22:13:20 +0000 = 1700000000 */
	id = save(f, 21, SYNC_F_SEEN,
		  "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\nA: b\r\n\r\nc\r\n",
		  5);
	assert_true(oim_starts_with(id, "cur/1700000000_"));
	assert_int_equal(stat(path_of(fx, "opts/INBOX", id), &st), 0);
	assert_int_equal(st.st_mtime, 1700000000);
	scan(f, &l);
	assert_int_equal(l.nr, 1);
	assert_int_equal(l.v[0].date, 1700000000);
	store_msglist_release(&l);
	close_folder(f);

	/* restoreatime: cur/'s atime at open comes back at close */
	assert_int_equal(
	    utimensat(AT_FDCWD, path_of(fx, "opts/INBOX", "cur"), old_atime, 0),
	    0);
	f = open_folder(s, "INBOX", NULL, 0);
	scan(f, &l);
	store_msglist_release(&l);
	close_folder(f);
	assert_int_equal(stat(path_of(fx, "opts/INBOX", "cur"), &st), 0);
	assert_int_equal(st.st_atime, 1000000000);
	store_close(s);
	free(id);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_folders_dot, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_folders_slash, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_open_missing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_save_scan, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_save_abort, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fetch, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fetch_vanished, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_set_flags, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_set_flags_batch_gone, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_set_uid, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_foreign_fmd5, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_visible_name, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_windows, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_delete, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_readonly, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_readonly_repo_set_uid, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_options, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
