/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sync_folder() with an in-memory remote store (a mock of the IMAP driver
 * that can misbehave on demand) and the real Maildir driver as the local
 * side: the failure paths Dovecot will not produce -- no UIDPLUS, an
 * APPEND refused, a message vanishing during FETCH, the connection dying
 * in the middle of a body, one message of a flag batch refused -- and the
 * upload journal's recovery.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "status/status.h"
#include "store/store.h"
#include "sync/sync.h"
#include "util/log.h"
#include "util/strbuf.h"
#include "util/util.h"

/* ---- the mock remote ---- */

struct mmsg {
	uint32_t uid;
	uint64_t modseq; /* last change (with a store's modseq on) */
	sync_flags_t flags;
	char *body; /* CRLF */
	size_t len;
	int64_t date;
	bool deleted;
};

struct mstore {
	struct store base;
	struct mmsg v[64];
	size_t nr;
	uint32_t uidnext, uidvalidity;
	bool uidplus;
	int fail_appends;	/* refuse the next N APPENDs (MESSAGE) */
	uint32_t vanish_uid;	/* never delivered by fetch */
	uint32_t die_uid;	/* connection lost inside this body */
	uint32_t flag_fail_uid; /* set_flags refuses this one */
	size_t appends, fetched;
	uint64_t modseq; /* HIGHESTMODSEQ told at open (0: none) */
	/* pipelined saves (save_commit_start / _finish) */
	bool pipelined;
	struct store_writer *q[STORE_SAVE_INFLIGHT_MAX];
	size_t qn, max_inflight;
	size_t opens; /* open_folder calls */
	/* changes_since (QRESYNC): expunged UIDs and their MODSEQ; another
	 * client's flag change made just before it answers */
	bool qresync;
	uint32_t gone[64];
	uint64_t gone_modseq[64];
	size_t ngone;
	uint32_t foreign_flag_uid;
};

/* A change: the store's HIGHESTMODSEQ grows (when it has one). */
static uint64_t ms_bump(struct mstore *s)
{
	return s->modseq ? ++s->modseq : 0;
}

struct mfolder {
	struct store_folder base;
	struct mstore *s;
};

struct store_writer {
	struct mstore *s;
	struct strbuf sb;
	sync_flags_t flags;
	int64_t date;
};

static struct mstore *ms_of(struct store_folder *f)
{
	return ((struct mfolder *)f)->s;
}

static void crlf(struct strbuf *out, const char *in, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (in[i] == '\n' && (i == 0 || in[i - 1] != '\r'))
			strbuf_addch(out, '\r');
		strbuf_addch(out, in[i]);
	}
}

static uint32_t ms_add(struct mstore *s, const char *lf_text,
		       sync_flags_t flags, int64_t date)
{
	struct strbuf sb = STRBUF_INIT;
	crlf(&sb, lf_text, strlen(lf_text));
	struct mmsg *m = &s->v[s->nr++];
	assert_true(s->nr <= ARRAY_SIZE(s->v));
	m->uid = s->uidnext++;
	m->modseq = ms_bump(s);
	m->flags = flags;
	m->body = strbuf_detach(&sb, &m->len);
	m->date = date;
	m->deleted = false;
	return m->uid;
}

static struct mmsg *ms_find(struct mstore *s, uint32_t uid)
{
	for (size_t i = 0; i < s->nr; i++)
		if (s->v[i].uid == uid)
			return &s->v[i];
	return NULL;
}

/* The message with 'uid', which must exist. */
static struct mmsg *ms_get(struct mstore *s, uint32_t uid)
{
	struct mmsg *m = ms_find(s, uid);
	if (!m)
		BUG("mock: no UID %u", uid);
	return m;
}

static size_t ms_count(const struct mstore *s)
{
	size_t n = 0;
	for (size_t i = 0; i < s->nr; i++)
		n += !s->v[i].deleted;
	return n;
}

static int m_scan(struct store_folder *f, const struct store_scan_opts *o,
		  struct store_msglist *out, struct oim_err *err)
{
	struct mstore *s = ms_of(f);
	for (size_t i = 0; i < s->nr; i++) {
		struct mmsg *m = &s->v[i];
		ALLOC_GROW(out->v, out->nr, out->alloc);
		out->v[out->nr++] = (struct store_msg){
		    m->uid, m->flags | (m->deleted ? SYNC_F_TRASHED : 0),
		    m->len, m->date, NULL, 0};
	}
	return 0;
}

static int m_fetch(struct store_folder *f, const struct store_msg *const *msgs,
		   size_t n, const struct store_body_cb *cb, void *ctx,
		   struct oim_err *err)
{
	struct mstore *s = ms_of(f);
	for (size_t i = 0; i < n; i++) {
		struct mmsg *m = ms_find(s, msgs[i]->uid);
		struct oim_err e = OIM_ERR_INIT;
		if (!m || m->uid == s->vanish_uid)
			continue;
		if (cb->begin(ctx, msgs[i], &e) < 0)
			continue;
		size_t half = m->len / 2;
		if (cb->data(ctx, m->body, half, &e) < 0)
			continue;
		if (m->uid == s->die_uid)
			return oim_error(err, OIM_SEV_ACCOUNT, OIM_E_CONN_LOST,
					 "connection lost");
		if (cb->data(ctx, m->body + half, m->len - half, &e) < 0)
			continue;
		cb->end(ctx, &e);
		s->fetched++;
	}
	return 0;
}

static int m_save_begin(struct store_folder *f, uint32_t uid,
			sync_flags_t flags, int64_t date, uint64_t size_hint,
			struct store_writer **w_r, struct oim_err *err)
{
	struct store_writer *w = xcalloc(1, sizeof(*w));
	w->s = ms_of(f);
	strbuf_init(&w->sb, 0);
	w->flags = flags;
	w->date = date;
	*w_r = w;
	return 0;
}

static int m_save_write(struct store_writer *w, const void *data, size_t len,
			struct oim_err *err)
{
	crlf(&w->sb, data, len);
	return 0;
}

static void m_save_abort(struct store_writer *w)
{
	strbuf_release(&w->sb);
	free(w);
}

static int m_save_commit(struct store_writer *w, uint32_t *uid_r, char **id_r,
			 struct oim_err *err)
{
	struct mstore *s = w->s;
	*uid_r = 0;
	*id_r = NULL;
	if (s->fail_appends) {
		s->fail_appends--;
		m_save_abort(w);
		return oim_error(err, OIM_SEV_MESSAGE, OIM_E_IMAP_NO,
				 "APPEND refused");
	}
	struct mmsg *m = &s->v[s->nr++];
	m->uid = s->uidnext++;
	m->modseq = ms_bump(s);
	m->flags = w->flags;
	m->body = strbuf_detach(&w->sb, &m->len);
	m->date = w->date;
	m->deleted = false;
	s->appends++;
	if (s->uidplus)
		*uid_r = m->uid;
	free(w);
	return 0;
}

/* Pipelined: start queues the save (as APPEND sent, answer unread),
 * finish must come in the same order and commits it. */
static int m_save_commit_start(struct store_writer *w, struct oim_err *err)
{
	struct mstore *s = w->s;
	if (s->qn >= STORE_SAVE_INFLIGHT_MAX)
		BUG("mock: more than %d saves in flight",
		    STORE_SAVE_INFLIGHT_MAX);
	s->q[s->qn++] = w;
	if (s->qn > s->max_inflight)
		s->max_inflight = s->qn;
	return 0;
}

static int m_save_commit_finish(struct store_writer *w, uint32_t *uid_r,
				char **id_r, struct oim_err *err)
{
	struct mstore *s = w->s;
	if (!s->qn || s->q[0] != w)
		BUG("mock: saves finished out of order");
	memmove(s->q, s->q + 1, (s->qn - 1) * sizeof(*s->q));
	s->qn--;
	return m_save_commit(w, uid_r, id_r, err);
}

static int m_find_uid(struct store_folder *f, const char *message_id,
		      uint64_t size, int64_t date, uint32_t min_uid,
		      uint32_t *uid_r, struct oim_err *err)
{
	struct mstore *s = ms_of(f);
	*uid_r = 0;
	/* store.h: nothing but saves while saves are in flight */
	if (s->qn)
		BUG("mock: find_uid with %zu saves in flight", s->qn);
	for (size_t i = 0; i < s->nr; i++) {
		struct mmsg *m = &s->v[i];
		if (m->uid < min_uid || m->deleted || m->len != size ||
		    (date > 0 && m->date != date))
			continue;
		if (*message_id && !strstr(m->body, message_id))
			continue;
		*uid_r = m->uid;
	}
	return 0;
}

static int m_set_flags(struct store_folder *f, struct store_msg *const *msgs,
		       size_t n, sync_flags_t add, sync_flags_t del,
		       struct oim_err *err)
{
	struct mstore *s = ms_of(f);
	for (size_t i = 0; i < n; i++)
		if (msgs[i]->uid == s->flag_fail_uid)
			return oim_error(err, OIM_SEV_MESSAGE, OIM_E_IMAP_NO,
					 "STORE refused for UID %u",
					 msgs[i]->uid);
	for (size_t i = 0; i < n; i++) {
		struct mmsg *m = ms_get(s, msgs[i]->uid);
		m->flags = (m->flags | add) & ~del;
		m->modseq = ms_bump(s);
		msgs[i]->flags = m->flags;
	}
	return 0;
}

static int m_delete(struct store_folder *f, struct store_msg *const *msgs,
		    size_t n, struct oim_err *err)
{
	for (size_t i = 0; i < n; i++) {
		struct mmsg *m = ms_find(ms_of(f), msgs[i]->uid);
		if (m) {
			m->deleted = true;
			m->modseq = ms_bump(ms_of(f));
		}
	}
	return 0;
}

static const struct store_folder_ops m_folder_ops = {
    .scan = m_scan,
    .fetch = m_fetch,
    .save_begin = m_save_begin,
    .save_write = m_save_write,
    .save_commit = m_save_commit,
    .save_abort = m_save_abort,
    .find_uid = m_find_uid,
    .set_flags = m_set_flags,
    .delete = m_delete,
};

static int m_changes_since(struct store_folder *f, uint64_t modseq,
			   struct store_msglist *out, uint64_t *modseq_r,
			   uint32_t **van_r, size_t *nvan_r,
			   struct oim_err *err)
{
	struct mstore *s = ms_of(f);
	memset(out, 0, sizeof(*out));
	*modseq_r = 0;
	*van_r = NULL;
	*nvan_r = 0;
	if (!s->qresync || !modseq)
		return oim_error(err, OIM_SEV_MESSAGE, OIM_E_GENERIC,
				 "no QRESYNC");
	if (s->foreign_flag_uid) {
		struct mmsg *m = ms_get(s, s->foreign_flag_uid);
		m->flags |= SYNC_F_FLAGGED;
		m->modseq = ms_bump(s);
		s->foreign_flag_uid = 0;
	}
	for (size_t i = 0; i < s->nr; i++) {
		struct mmsg *m = &s->v[i];
		if (m->modseq <= modseq)
			continue;
		ALLOC_GROW(out->v, out->nr + 1, out->alloc);
		out->v[out->nr++] = (struct store_msg){
		    m->uid, m->flags | (m->deleted ? SYNC_F_TRASHED : 0), 0, 0,
		    NULL, 0};
		if (m->modseq > *modseq_r)
			*modseq_r = m->modseq;
	}
	for (size_t i = 0; i < s->ngone; i++) {
		if (s->gone_modseq[i] <= modseq)
			continue;
		*van_r = xrealloc(*van_r, 2 * (*nvan_r + 1) * sizeof(uint32_t));
		(*van_r)[2 * *nvan_r] = (*van_r)[2 * *nvan_r + 1] = s->gone[i];
		(*nvan_r)++;
	}
	return 0;
}

static const struct store_folder_ops m_folder_ops_pipelined = {
    .scan = m_scan,
    .fetch = m_fetch,
    .save_begin = m_save_begin,
    .save_write = m_save_write,
    .save_commit = m_save_commit,
    .save_abort = m_save_abort,
    .save_commit_start = m_save_commit_start,
    .save_commit_finish = m_save_commit_finish,
    .find_uid = m_find_uid,
    .changes_since = m_changes_since,
    .set_flags = m_set_flags,
    .delete = m_delete,
};

static int m_open_folder(struct store *st, const char *name,
			 const char *visible, unsigned flags,
			 struct store_folder **f_r, struct oim_err *err)
{
	struct mstore *s = (struct mstore *)st;
	struct mfolder *f = xcalloc(1, sizeof(*f));
	f->base.ops = s->pipelined ? &m_folder_ops_pipelined : &m_folder_ops;
	f->base.store = st;
	f->base.name = xstrdup(name);
	f->base.state.uidvalidity = s->uidvalidity;
	f->base.state.uidnext = s->uidnext;
	f->base.state.exists = (uint32_t)s->nr;
	f->base.state.highestmodseq = s->modseq;
	s->opens++;
	f->s = s;
	*f_r = &f->base;
	return 0;
}

static int m_close_folder(struct store_folder *bf, bool expunge,
			  struct oim_err *err)
{
	struct mstore *s = ms_of(bf);
	if (expunge) {
		size_t k = 0;
		for (size_t i = 0; i < s->nr; i++) {
			if (s->v[i].deleted) {
				free(s->v[i].body);
				assert_true(s->ngone < ARRAY_SIZE(s->gone));
				s->gone[s->ngone] = s->v[i].uid;
				s->gone_modseq[s->ngone++] = ms_bump(s);
			} else {
				s->v[k++] = s->v[i];
			}
		}
		s->nr = k;
	}
	free(bf->name);
	free(bf);
	return 0;
}

static void m_free(struct store *st)
{
}

static const struct store_ops m_store_ops = {
    .kind = "mock",
    .open_folder = m_open_folder,
    .close_folder = m_close_folder,
    .free = m_free,
};

/* ---- fixture ---- */

struct fx {
	char dir[64];
	char *root, *metadata, *account_dir, *inbox;
	struct mstore remote;
	struct store *local;
	struct sync_folder_job job;
	struct sync_folder_result res;
	struct oim_err err;
};

static int setup(void **state)
{
	struct fx *fx = xcalloc(1, sizeof(*fx));
	struct store_maildir_opts mo = {0};
	struct oim_err err = OIM_ERR_INIT;

	snprintf(fx->dir, sizeof(fx->dir), "/tmp/oimap-test-folder-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	fx->root = xasprintf("%s/Mail", fx->dir);
	fx->metadata = xasprintf("%s/meta", fx->dir);
	fx->account_dir = status_account_dir(fx->metadata, "T");
	fx->inbox = xasprintf("%s/INBOX", fx->root);
	assert_int_equal(mkdir(fx->root, 0700), 0);
	assert_int_equal(mkdir(fx->inbox, 0700), 0);
	for (int i = 0; i < 3; i++) {
		char *p = xasprintf("%s/%s", fx->inbox,
				    (const char *[]){"cur", "new", "tmp"}[i]);
		assert_int_equal(mkdir(p, 0700), 0);
		free(p);
	}
	mo.repo = "Local";
	mo.root = fx->root;
	mo.sep = '.';
	assert_int_equal(store_maildir_open(&fx->local, &mo, &err), 0);

	fx->remote.base.ops = &m_store_ops;
	fx->remote.base.repo = (char *)"Remote";
	fx->remote.uidnext = 1;
	fx->remote.uidvalidity = 7;
	fx->remote.uidplus = true;

	struct sync_plan_opts po = SYNC_PLAN_OPTS_INIT;
	fx->job = (struct sync_folder_job){
	    .account = "T",
	    .metadata_dir = fx->metadata,
	    .account_dir = fx->account_dir,
	    .remote = &fx->remote.base,
	    .local = fx->local,
	    .remote_name = "INBOX",
	    .local_name = "INBOX",
	    .local_visible = "INBOX",
	    .status_name = "INBOX",
	    .backend = STATUS_BACKEND_SQLITE,
	    .plan = po,
	    .expunge = true,
	};
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	char *cmd = xasprintf("rm -rf '%s'", fx->dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	for (size_t i = 0; i < fx->remote.nr; i++)
		free(fx->remote.v[i].body);
	store_close(fx->local);
	free(fx->root);
	free(fx->metadata);
	free(fx->account_dir);
	free(fx->inbox);
	free(fx);
	return 0;
}

static int run(struct fx *fx)
{
	oim_err_clear(&fx->err);
	return sync_folder(&fx->job, &fx->res, &fx->err);
}

static const char *text(int n)
{
	static char buf[8][128];
	char *b = buf[n % 8];
	snprintf(b, sizeof(buf[0]),
		 "Message-ID: <m%d@test>\nSubject: %d\n\nbody %d\n", n, n, n);
	return b;
}

/* Files in INBOX/<sub>; *with_uid_r counts names carrying ",U=". */
static size_t count_files(struct fx *fx, const char *sub, size_t *with_uid_r)
{
	char *p = xasprintf("%s/%s", fx->inbox, sub);
	DIR *d = opendir(p);
	struct dirent *de;
	size_t n = 0, u = 0;
	assert_non_null(d);
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		n++;
		u += strstr(de->d_name, ",U=") != NULL;
	}
	closedir(d);
	free(p);
	if (with_uid_r)
		*with_uid_r = u;
	return n;
}

static size_t local_count(struct fx *fx, size_t *with_uid_r)
{
	size_t a, b;
	size_t n = count_files(fx, "cur", &a) + count_files(fx, "new", &b);
	if (with_uid_r)
		*with_uid_r = a + b;
	return n;
}

static void add_local(struct fx *fx, int n, const char *name)
{
	char *p = xasprintf("%s/new/%s", fx->inbox, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text(n), f);
	fclose(f);
	free(p);
}

static size_t status_records(struct fx *fx)
{
	struct status *st;
	struct oim_err err = OIM_ERR_INIT;
	assert_int_equal(status_open(fx->account_dir, "INBOX",
				     STATUS_BACKEND_SQLITE,
				     STATUS_OPEN_READONLY, &st, &err),
			 0);
	size_t n = status_count(st);
	status_close(st);
	return n;
}

static size_t journal_pending(struct fx *fx)
{
	struct status_journal *j;
	struct oim_err err = OIM_ERR_INIT;
	size_t n = 0;
	assert_int_equal(status_journal_open(fx->account_dir, "INBOX",
					     STATUS_OPEN_READONLY, &j, &err),
			 0);
	status_journal_pending(j, &n);
	status_journal_close(j);
	return n;
}

static void assert_idle(struct fx *fx)
{
	assert_int_equal(run(fx), 0);
	assert_int_equal(fx->res.sum.copy[0] + fx->res.sum.copy[1] +
			     fx->res.sum.del[0] + fx->res.sum.del[1] +
			     fx->res.sum.flags[0] + fx->res.sum.flags[1] +
			     fx->res.sum.link + fx->res.sum.forget,
			 0);
}

/* ---- tests ---- */

static void test_both_ways(void **state)
{
	struct fx *fx = *state;
	size_t u;
	ms_add(&fx->remote, text(1), SYNC_F_SEEN, 1700000000);
	ms_add(&fx->remote, text(2), 0, 1700000100);
	add_local(fx, 3, "1700000200.M1P1.host");
	assert_int_equal(run(fx), 0);
	assert_int_equal(fx->res.sum.copy[SYNC_LOCAL], 2);
	assert_int_equal(fx->res.sum.copy[SYNC_REMOTE], 1);
	assert_int_equal(local_count(fx, &u), 3);
	assert_int_equal(u, 3);
	assert_int_equal(ms_count(&fx->remote), 3);
	assert_int_equal(status_records(fx), 3);
	assert_int_equal(journal_pending(fx), 0);
	assert_int_equal(count_files(fx, "tmp", NULL), 0);
	assert_idle(fx);
}

static void test_no_uidplus_finds_the_upload(void **state)
{
	struct fx *fx = *state;
	size_t u;
	fx->remote.uidplus = false;
	ms_add(&fx->remote, text(1), 0, 1700000000);
	add_local(fx, 2, "1700000200.M1P1.host");
	add_local(fx, 3, "1700000300.M2P1.host");
	assert_int_equal(run(fx), 0);
	assert_int_equal(fx->res.sum.copy[SYNC_REMOTE], 2);
	assert_int_equal(local_count(fx, &u), 3);
	assert_int_equal(u, 3);
	assert_int_equal(status_records(fx), 3);
	assert_idle(fx);
	assert_int_equal(fx->remote.appends, 2);
}

static void test_refused_append_is_retried_once(void **state)
{
	struct fx *fx = *state;
	size_t u;
	add_local(fx, 1, "1700000200.M1P1.host");
	add_local(fx, 2, "1700000300.M2P1.host");
	fx->remote.fail_appends = 1;
	assert_int_equal(run(fx), -1);
	assert_int_equal(fx->err.sev, OIM_SEV_FOLDER);
	assert_non_null(strstr(fx->err.msg, "1 message failed"));
	assert_int_equal(fx->res.failed_messages, 1);
	assert_int_equal(fx->res.sum.copy[SYNC_REMOTE], 1);
	/* the refused one stays journaled: it might have arrived */
	assert_int_equal(journal_pending(fx), 1);
	assert_int_equal(run(fx), 0);
	assert_int_equal(fx->res.sum.copy[SYNC_REMOTE], 1);
	assert_int_equal(fx->remote.appends, 2);
	assert_int_equal(local_count(fx, &u), 2);
	assert_int_equal(u, 2);
	assert_int_equal(journal_pending(fx), 0);
	assert_idle(fx);
}

static void test_journaled_upload_found_on_server(void **state)
{
	struct fx *fx = *state;
	struct status_journal *j;
	struct oim_err err = OIM_ERR_INIT;
	uint64_t id;
	size_t u;

	/* a run died after APPEND: the server has it, the name has no UID */
	add_local(fx, 1, "1700000200.M1P1.host");
	uint32_t uid = ms_add(&fx->remote, text(1), 0, 1700000200);
	struct strbuf sb = STRBUF_INIT;
	crlf(&sb, text(1), strlen(text(1)));
	assert_int_equal(
	    status_journal_open(fx->account_dir, "INBOX", 0, &j, &err), 0);
	assert_int_equal(status_journal_add(j, "new/1700000200.M1P1.host",
					    "<m1@test>", sb.len, 1700000200,
					    &id, &err),
			 0);
	status_journal_close(j);
	strbuf_release(&sb);
	/* and a mail reader has marked it seen meanwhile */
	char *from = xasprintf("%s/new/1700000200.M1P1.host", fx->inbox);
	char *to = xasprintf("%s/cur/1700000200.M1P1.host:2,S", fx->inbox);
	assert_int_equal(rename(from, to), 0);
	free(from);
	free(to);

	assert_int_equal(run(fx), 0);
	assert_int_equal(fx->remote.appends, 0); /* not uploaded again */
	assert_int_equal(ms_count(&fx->remote), 1);
	assert_int_equal(local_count(fx, &u), 1);
	assert_int_equal(u, 1);
	assert_int_equal(journal_pending(fx), 0);
	/* the local S went to the server */
	assert_true(ms_get(&fx->remote, uid)->flags & SYNC_F_SEEN);
	assert_idle(fx);
}

static void test_vanished_during_fetch(void **state)
{
	struct fx *fx = *state;
	ms_add(&fx->remote, text(1), 0, 1700000000);
	uint32_t gone = ms_add(&fx->remote, text(2), 0, 1700000000);
	fx->remote.vanish_uid = gone;
	assert_int_equal(run(fx), 0);
	assert_int_equal(fx->res.failed_messages, 0);
	assert_int_equal(fx->res.sum.copy[SYNC_LOCAL], 1);
	assert_int_equal(local_count(fx, NULL), 1);
	assert_int_equal(status_records(fx), 1);
	fx->remote.vanish_uid = 0;
	assert_int_equal(run(fx), 0);
	assert_int_equal(fx->res.sum.copy[SYNC_LOCAL], 1);
	assert_int_equal(local_count(fx, NULL), 2);
}

static void test_connection_dies_inside_a_body(void **state)
{
	struct fx *fx = *state;
	ms_add(&fx->remote, text(1), 0, 1700000000);
	uint32_t bad = ms_add(&fx->remote, text(2), 0, 1700000000);
	ms_add(&fx->remote, text(3), 0, 1700000000);
	fx->remote.die_uid = bad;
	assert_int_equal(run(fx), -1);
	assert_int_equal(fx->err.sev, OIM_SEV_ACCOUNT);
	/* the first is kept and recorded, the half one is gone from tmp/ */
	assert_int_equal(local_count(fx, NULL), 1);
	assert_int_equal(count_files(fx, "tmp", NULL), 0);
	assert_int_equal(status_records(fx), 1);
	fx->remote.die_uid = 0;
	assert_int_equal(run(fx), 0);
	assert_int_equal(fx->res.sum.copy[SYNC_LOCAL], 2);
	assert_idle(fx);
}

static void test_flag_batch_with_one_refusal(void **state)
{
	struct fx *fx = *state;
	uint32_t uids[3];
	for (int i = 0; i < 3; i++)
		uids[i] = ms_add(&fx->remote, text(i), 0, 1700000000);
	assert_int_equal(run(fx), 0);
	/* mark all three seen locally: one batch +S on the server */
	for (int sub = 0; sub < 2; sub++) {
		char *p = xasprintf("%s/%s", fx->inbox, sub ? "cur" : "new");
		DIR *d = opendir(p);
		struct dirent *de;
		while ((de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			char *from = xasprintf("%s/%s", p, de->d_name);
			char *base =
			    xstrndup(de->d_name, strcspn(de->d_name, ":"));
			char *to = xasprintf("%s/cur/%s:2,S", fx->inbox, base);
			assert_int_equal(rename(from, to), 0);
			free(from);
			free(base);
			free(to);
		}
		closedir(d);
		free(p);
	}
	fx->remote.flag_fail_uid = uids[1];
	assert_int_equal(run(fx), -1);
	assert_int_equal(fx->res.failed_messages, 1);
	assert_int_equal(fx->res.sum.flags[SYNC_REMOTE], 2);
	assert_true(ms_get(&fx->remote, uids[0])->flags & SYNC_F_SEEN);
	assert_false(ms_get(&fx->remote, uids[1])->flags & SYNC_F_SEEN);
	assert_true(ms_get(&fx->remote, uids[2])->flags & SYNC_F_SEEN);
	fx->remote.flag_fail_uid = 0;
	assert_int_equal(run(fx), 0);
	assert_int_equal(fx->res.sum.flags[SYNC_REMOTE], 1);
	assert_idle(fx);
}

static void test_uidvalidity_change(void **state)
{
	struct fx *fx = *state;
	ms_add(&fx->remote, text(1), 0, 1700000000);
	assert_int_equal(run(fx), 0);
	fx->remote.uidvalidity = 8;
	ms_add(&fx->remote, text(2), 0, 1700000000);
	add_local(fx, 3, "1700000200.M1P1.host");
	assert_int_equal(run(fx), -1);
	assert_int_equal(fx->err.kind, OIM_E_UIDVALIDITY);
	assert_int_equal(fx->err.sev, OIM_SEV_FOLDER);
	assert_non_null(strstr(fx->err.msg, "saved 7, now 8"));
	assert_non_null(strstr(fx->err.msg, "FolderValidity/INBOX"));
	assert_int_equal(local_count(fx, NULL), 2);
	assert_int_equal(fx->remote.appends, 0);
	assert_int_equal(status_records(fx), 1);
}

static void test_remote_delete_recorded_after_expunge(void **state)
{
	struct fx *fx = *state;
	ms_add(&fx->remote, text(1), 0, 1700000000);
	ms_add(&fx->remote, text(2), 0, 1700000000);
	assert_int_equal(run(fx), 0);
	/* delete one locally */
	char *p = xasprintf("%s/new", fx->inbox);
	DIR *d = opendir(p);
	struct dirent *de;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			break;
	char *f = xasprintf("%s/%s", p, de->d_name);
	assert_int_equal(unlink(f), 0);
	free(f);
	closedir(d);
	free(p);
	/* without expunge the record goes at once (OfflineIMAP) */
	fx->job.expunge = false;
	assert_int_equal(run(fx), 0);
	assert_int_equal(fx->res.sum.del[SYNC_REMOTE], 1);
	assert_int_equal(ms_count(&fx->remote), 1);
	assert_int_equal(fx->remote.nr, 2); /* marked, not expunged */
	assert_int_equal(status_records(fx), 1);
}

static void test_dry_run(void **state)
{
	struct fx *fx = *state;
	ms_add(&fx->remote, text(1), 0, 1700000000);
	add_local(fx, 2, "1700000200.M1P1.host");
	fx->job.dry_run = true;
	assert_int_equal(run(fx), 0);
	assert_int_equal(fx->res.sum.copy[SYNC_LOCAL], 1);
	assert_int_equal(fx->res.sum.copy[SYNC_REMOTE], 1);
	assert_int_equal(local_count(fx, NULL), 1);
	assert_int_equal(fx->remote.appends, 0);
	char *p = xasprintf("%s/Repository-Remote", fx->metadata);
	assert_int_equal(access(p, F_OK), -1);
	free(p);
}

static void add_locals(struct fx *fx, int first, int n)
{
	for (int i = first; i < first + n; i++) {
		char name[64];
		snprintf(name, sizeof(name), "17000%05d.M%dP1.host", i, i);
		add_local(fx, i, name);
	}
}

static void test_pipelined_uploads(void **state)
{
	struct fx *fx = *state;
	size_t u;
	fx->remote.pipelined = true;
	ms_add(&fx->remote, text(1000), 0, 1700000000);
	add_locals(fx, 1, 40);
	assert_int_equal(run(fx), 0);
	assert_int_equal(fx->res.sum.copy[SYNC_REMOTE], 40);
	assert_true(fx->remote.max_inflight > 1);
	assert_true(fx->remote.max_inflight <= STORE_SAVE_INFLIGHT_MAX);
	assert_int_equal(fx->remote.qn, 0);
	assert_int_equal(ms_count(&fx->remote), 41);
	assert_int_equal(local_count(fx, &u), 41);
	assert_int_equal(u, 41);
	assert_int_equal(status_records(fx), 41);
	assert_int_equal(journal_pending(fx), 0);
	assert_idle(fx);
	assert_int_equal(fx->remote.appends, 40);
}

/* Without APPENDUID the UIDs are searched for, with nothing in flight
 * (the mock's find_uid checks), and each message gets its own. */
static void test_pipelined_uploads_without_uidplus(void **state)
{
	struct fx *fx = *state;
	size_t u;
	fx->remote.pipelined = true;
	fx->remote.uidplus = false;
	add_locals(fx, 1, 20);
	assert_int_equal(run(fx), 0);
	assert_int_equal(fx->res.sum.copy[SYNC_REMOTE], 20);
	assert_int_equal(ms_count(&fx->remote), 20);
	assert_int_equal(local_count(fx, &u), 20);
	assert_int_equal(u, 20);
	assert_int_equal(status_records(fx), 20);
	assert_idle(fx);
	assert_int_equal(fx->remote.appends, 20);
}

/* One APPEND of a pipeline refused: only that one fails, stays
 * journaled, and the next run uploads it once. */
static void test_pipelined_upload_refused(void **state)
{
	struct fx *fx = *state;
	size_t u;
	fx->remote.pipelined = true;
	fx->remote.fail_appends = 1;
	add_locals(fx, 1, 10);
	assert_int_equal(run(fx), -1);
	assert_int_equal(fx->res.failed_messages, 1);
	assert_int_equal(fx->res.sum.copy[SYNC_REMOTE], 9);
	assert_int_equal(journal_pending(fx), 1);
	assert_int_equal(run(fx), 0);
	assert_int_equal(fx->res.sum.copy[SYNC_REMOTE], 1);
	assert_int_equal(ms_count(&fx->remote), 10);
	assert_int_equal(local_count(fx, &u), 10);
	assert_int_equal(u, 10);
	assert_int_equal(journal_pending(fx), 0);
	assert_idle(fx);
}

static size_t connects;

static int m_connect(void *ctx, struct store **remote_r, struct oim_err *err)
{
	struct fx *fx = ctx;
	connects++;
	*remote_r = &fx->remote.base;
	return 0;
}

/* The job as sync/account.c makes it with a listed state: no store
 * until the folder needs one. */
static void hinted(struct fx *fx, struct store_folder_state *h)
{
	*h = (struct store_folder_state){
	    .uidvalidity = fx->remote.uidvalidity,
	    .uidnext = fx->remote.uidnext,
	    .highestmodseq = fx->remote.modseq,
	    .exists = (uint32_t)ms_count(&fx->remote),
	};
	fx->job.remote = NULL;
	fx->job.remote_repo = "Remote";
	fx->job.remote_connect = m_connect;
	fx->job.remote_connect_ctx = fx;
	fx->job.remote_hint = h;
	connects = 0;
	fx->remote.opens = 0;
}

static void test_hint_skips_without_opening(void **state)
{
	struct fx *fx = *state;
	struct store_folder_state h;
	fx->remote.modseq = 5;
	ms_add(&fx->remote, text(1), SYNC_F_SEEN, 1700000000);
	ms_add(&fx->remote, text(2), 0, 1700000000);
	assert_int_equal(run(fx), 0); /* downloads, saves the state */
	assert_int_equal(fx->res.sum.copy[SYNC_LOCAL], 2);

	hinted(fx, &h);
	assert_int_equal(run(fx), 0);
	assert_true(fx->res.unchanged_skipped);
	assert_int_equal(connects, 0);
	assert_int_equal(fx->remote.opens, 0);

	/* the server changed (flags: HIGHESTMODSEQ): connected, synced */
	ms_get(&fx->remote, 2)->flags |= SYNC_F_FLAGGED;
	fx->remote.modseq = 6;
	hinted(fx, &h);
	assert_int_equal(run(fx), 0);
	assert_false(fx->res.unchanged_skipped);
	assert_int_equal(connects, 1);
	assert_int_equal(fx->res.sum.flags[SYNC_LOCAL], 1);
	/* and skipped again from then on */
	hinted(fx, &h);
	assert_int_equal(run(fx), 0);
	assert_true(fx->res.unchanged_skipped);
	assert_int_equal(connects, 0);

	/* a new local message: not skipped, uploaded */
	add_local(fx, 3, "1700000300.M3P1.host");
	hinted(fx, &h);
	assert_int_equal(run(fx), 0);
	assert_int_equal(connects, 1);
	assert_int_equal(fx->res.sum.copy[SYNC_REMOTE], 1);
	assert_int_equal(ms_count(&fx->remote), 3);
}

static void test_hint_not_trusted_after_another_writer(void **state)
{
	struct fx *fx = *state;
	struct store_folder_state h;
	struct status *st;
	struct oim_err err = OIM_ERR_INIT;
	fx->remote.modseq = 9;
	ms_add(&fx->remote, text(1), 0, 1700000000);
	ms_add(&fx->remote, text(2), 0, 1700000000);
	assert_int_equal(run(fx), 0);
	/* someone else (OfflineIMAP) changes the status cache */
	assert_int_equal(status_open(fx->account_dir, "INBOX",
				     STATUS_BACKEND_SQLITE, 0, &st, &err),
			 0);
	assert_int_equal(status_set_flags(st, 1, "S", &err), 0);
	status_close(st);
	hinted(fx, &h);
	assert_int_equal(run(fx), 0);
	assert_false(fx->res.unchanged_skipped);
	assert_int_equal(connects, 1);
	/* no modseq (CONDSTORE off): never skipped */
	fx->remote.modseq = 0;
	assert_int_equal(run(fx), 0);
	hinted(fx, &h);
	assert_int_equal(run(fx), 0);
	assert_false(fx->res.unchanged_skipped);
	assert_int_equal(connects, 1);
}

/* After a run that changed the server, the state it left is kept when
 * the server says the changes since SELECT were all this run's. */
static void test_state_kept_after_own_changes(void **state)
{
	struct fx *fx = *state;
	struct store_folder_state h;
	fx->remote.pipelined = true;
	fx->remote.qresync = true;
	fx->remote.modseq = 3;
	ms_add(&fx->remote, text(1), 0, 1700000000);
	assert_int_equal(run(fx), 0);
	add_locals(fx, 2, 5);
	assert_int_equal(run(fx), 0);
	assert_int_equal(fx->res.sum.copy[SYNC_REMOTE], 5);
	hinted(fx, &h);
	assert_int_equal(run(fx), 0);
	assert_true(fx->res.unchanged_skipped);
	assert_int_equal(connects, 0);
}

/* Another client changed a flag after this run's last command and
 * before the check: not kept, the next run looks (and gets the flag). */
static void test_state_not_kept_after_foreign_change(void **state)
{
	struct fx *fx = *state;
	struct store_folder_state h;
	fx->remote.pipelined = true;
	fx->remote.qresync = true;
	fx->remote.modseq = 3;
	uint32_t uid = ms_add(&fx->remote, text(1), 0, 1700000000);
	assert_int_equal(run(fx), 0);
	add_locals(fx, 2, 2);
	fx->remote.foreign_flag_uid = uid;
	assert_int_equal(run(fx), 0);
	assert_int_equal(fx->res.sum.copy[SYNC_REMOTE], 2);
	hinted(fx, &h);
	assert_int_equal(run(fx), 0);
	assert_false(fx->res.unchanged_skipped);
	assert_int_equal(connects, 1);
	assert_int_equal(fx->res.sum.flags[SYNC_LOCAL], 1);
}

/* Deleting on the server raises HIGHESTMODSEQ past every message: the
 * state kept is lower, so the next run looks once; never skips wrongly. */
static void test_state_after_own_expunge(void **state)
{
	struct fx *fx = *state;
	struct store_folder_state h;
	fx->remote.pipelined = true;
	fx->remote.qresync = true;
	fx->remote.modseq = 3;
	ms_add(&fx->remote, text(1), 0, 1700000000);
	ms_add(&fx->remote, text(2), 0, 1700000000);
	assert_int_equal(run(fx), 0);
	/* delete one locally */
	char *p = xasprintf("%s/new", fx->inbox);
	DIR *d = opendir(p);
	struct dirent *de;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			break;
	char *f = xasprintf("%s/%s", p, de->d_name);
	assert_int_equal(unlink(f), 0);
	free(f);
	closedir(d);
	free(p);
	assert_int_equal(run(fx), 0);
	assert_int_equal(fx->res.sum.del[SYNC_REMOTE], 1);
	hinted(fx, &h);
	assert_int_equal(run(fx), 0);
	assert_int_equal(connects, 1);
	assert_idle(fx);
	hinted(fx, &h);
	assert_int_equal(run(fx), 0);
	assert_true(fx->res.unchanged_skipped);
	assert_int_equal(connects, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_both_ways, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_uidplus_finds_the_upload,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refused_append_is_retried_once,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_journaled_upload_found_on_server, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_vanished_during_fetch, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_connection_dies_inside_a_body,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_flag_batch_with_one_refusal,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_uidvalidity_change, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(
		test_remote_delete_recorded_after_expunge, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dry_run, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pipelined_uploads, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(
		test_pipelined_uploads_without_uidplus, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pipelined_upload_refused,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hint_skips_without_opening,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_hint_not_trusted_after_another_writer, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_state_kept_after_own_changes,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_state_not_kept_after_foreign_change, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_state_after_own_expunge, setup,
					    teardown),
	};
	log_set_level(OIM_LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
