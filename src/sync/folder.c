/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * folder.c - sync_folder(): the executor of one folder's plan (sync.h).
 *
 * Order of work, and why:
 *
 *  1. Open the status cache, the upload journal and both folders.
 *  2. Scan the local folder (cheap: readdir), then check UID validity as
 *     accounts.py check_uid_validity() does: when the local folder or the
 *     status has messages, a saved value that differs stops the folder
 *     before anything is touched; a missing one is saved; when both are
 *     empty the current values are saved.
 *  3. Recover journaled uploads of a run that died between APPEND and
 *     recording the UID (DESIGN.md "never lose mail"): each is looked for
 *     on the server before the planner sees the local message as new mail
 *     again, so it is never uploaded twice.
 *  4. -q: skip when nothing changed (plan.h).  Else scan the remote folder,
 *     build the plan and carry it out phase by phase.
 *
 * Every step is recorded in the status only after it succeeded, in
 * transactions of SYNC_STATUS_BATCH records and at each phase end; a crash
 * loses at most the uncommitted records, which the next run re-links
 * because the downloaded file carries its UID (plan.h lists the crash
 * points).  Uploads: journal entry before the APPEND (the IMAP writer makes
 * nothing visible before save_commit, store.h), then the server's UID into
 * the local name, then the status, then the journal entry is marked done.
 */
#include "sync.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <unistd.h>

#include "../util/log.h"

/* Status records per transaction (one sqlite commit / plain rewrite). */
#define SYNC_STATUS_BATCH 100
/* Messages per remote fetch call (pipelined by the driver). */
#define SYNC_FETCH_BATCH 200
/* Messages per delete / set_flags call. */
#define SYNC_CHANGE_BATCH 500

struct exec {
	const struct sync_folder_job *job;
	struct sync_folder_result *res;
	struct store_folder *f[2];
	struct status *st;
	struct status_journal *jr;
	struct store_msglist list[2];
	struct sync_plan_opts opts;
	struct sync_plan plan;
	bool have_plan;

	bool in_tx;
	unsigned tx_pending;
	unsigned long steps_done;
	/* first error that ends the folder (or account); sev NONE: none */
	struct oim_err stop;
	/* lowest UID an upload of this run can get */
	uint32_t upload_min_uid;
	/*
	 * Remote deletions are recorded only after close_folder() returned:
	 * a message marked \Deleted but still on the server, whose record
	 * was already dropped, would look like new remote mail to the next
	 * run and come back (with T).  Until the EXPUNGE, the record makes
	 * the next run delete it again instead.  (The IMAP driver expunges
	 * in delete() already with STORE_OPEN_EXPUNGE; waiting for the
	 * close keeps this safe with a driver that does not.)
	 */
	bool expunge;
	size_t *deferred, ndeferred, adeferred; /* step indexes */
	/* files the scans left alone (already warned about) */
	size_t skipped;
};

static const char *side_name(enum sync_side side)
{
	return side == SYNC_REMOTE ? "remote" : "local";
}

static bool stopped(const struct exec *ex)
{
	return ex->stop.sev != OIM_SEV_NONE;
}

/* Remember the first error that ends the folder. */
static void set_stop(struct exec *ex, const struct oim_err *e)
{
	if (stopped(ex))
		return;
	ex->stop = *e;
	if (ex->stop.sev < OIM_SEV_FOLDER)
		ex->stop.sev = OIM_SEV_FOLDER;
}

static const char *msg_label(const struct store_msg *m, char *buf, size_t cap)
{
	if (m && m->id)
		return m->id;
	snprintf(buf, cap, "UID %" PRIu32, m ? m->uid : 0);
	return buf;
}

/*
 * A store call failed for one message.  MESSAGE severity: logged, counted,
 * the folder goes on.  Anything worse stops the folder (or the account).
 */
static void step_failed(struct exec *ex, const char *what,
			const struct store_msg *m, uint32_t uid,
			const struct oim_err *e)
{
	char buf[32];
	const char *label = buf;
	if (e->sev >= OIM_SEV_FOLDER) {
		set_stop(ex, e);
		return;
	}
	if (m)
		label = msg_label(m, buf, sizeof(buf));
	else
		snprintf(buf, sizeof(buf), "UID %" PRIu32, uid);
	log_error("%s: folder %s: %s message %s failed: %s", ex->job->account,
		  ex->job->remote_name, what, label, e->msg);
	ex->res->failed_messages++;
}

/* ---- status transactions ------------------------------------------------
 */

static int tx_begin(struct exec *ex)
{
	struct oim_err e = OIM_ERR_INIT;
	if (ex->in_tx)
		return 0;
	if (status_begin(ex->st, &e) < 0) {
		set_stop(ex, &e);
		return -1;
	}
	ex->in_tx = true;
	ex->tx_pending = 0;
	return 0;
}

static int tx_commit(struct exec *ex)
{
	struct oim_err e = OIM_ERR_INIT;
	if (!ex->in_tx)
		return 0;
	ex->in_tx = false;
	if (status_commit(ex->st, &e) < 0) {
		set_stop(ex, &e);
		return -1;
	}
	log_debug(OIM_DBG_SYNC, "folder %s: status committed (%u records)",
		  ex->job->remote_name, ex->tx_pending);
	ex->tx_pending = 0;
	return 0;
}

/* Keep only the letters the planner knows (status flags are letters). */
static sync_flags_t letters(const char *s)
{
	sync_flags_t f = 0;
	for (; *s; s++)
		f |= SYNC_FLAG(*s);
	return f;
}

/*
 * Apply a finished step's status change.  uid: the UID for a PUT whose
 * st.uid is 0 (an upload).  Labels of an existing record are kept.
 */
static int record(struct exec *ex, const struct sync_step *s, uint32_t uid)
{
	struct oim_err e = OIM_ERR_INIT;
	int ret = 0;

	if (s->st_op == SYNC_ST_NONE)
		return 0;
	if (tx_begin(ex) < 0)
		return -1;
	if (s->st_op == SYNC_ST_PUT) {
		char fl[SYNC_FLAGS_STR_MAX];
		uint32_t u = s->st.uid ? s->st.uid : uid;
		const struct status_rec *old = status_get(ex->st, u);
		char *labels = old && old->labels ? xstrdup(old->labels) : NULL;
		if (!u)
			BUG("status PUT without a UID");
		ret = status_set(ex->st, u, sync_flags_format(s->st.flags, fl),
				 s->st.mtime, labels, &e);
		free(labels);
	} else {
		ret = status_delete(ex->st, s->st.uid, &e);
	}
	if (ret < 0) {
		set_stop(ex, &e);
		return -1;
	}
	if (++ex->tx_pending >= SYNC_STATUS_BATCH)
		return tx_commit(ex);
	return 0;
}

/*
 * A step was carried out.  The hidden test hook stops the process here,
 * before the step is recorded: the crash tests check that the next run
 * finishes the job without losing or duplicating anything.
 */
static atomic_ulong steps_in_process;

static void step_done(struct exec *ex, const struct sync_step *s)
{
	/* Counted across the folders of the process (folders may run in
	 * parallel), so N = 1, 2, ... walks every crash point of a whole
	 * account sync, not only those of the first folder. */
	unsigned long n = atomic_fetch_add(&steps_in_process, 1) + 1;

	ex->steps_done++;
	log_debug(OIM_DBG_SYNC, "folder %s: step %lu done: %s %s UID %" PRIu32,
		  ex->job->remote_name, n, sync_step_kind_name(s->kind),
		  side_name(s->to), s->uid);
	if (ex->job->stop_after_step && n == ex->job->stop_after_step) {
		log_debug(OIM_DBG_SYNC, "stopping after step %lu (test hook)",
			  n);
		_exit(77);
	}
}

/* ---- downloads (COPY to the local side) ---------------------------------
 */

struct dl {
	struct exec *ex;
	const struct sync_step *steps;
	/* remote index -> index into steps, SIZE_MAX when not in the batch */
	size_t *step_of;
	bool *handled; /* per step of the phase */
	size_t phase_start;
	const struct sync_step *cur;
	struct store_writer *w;
};

static const struct sync_step *dl_step(struct dl *d, const struct store_msg *m)
{
	const struct store_msglist *l = &d->ex->list[SYNC_REMOTE];
	size_t ri;
	if (m < l->v || m >= l->v + l->nr)
		return NULL;
	ri = (size_t)(m - l->v);
	if (d->step_of[ri] == SIZE_MAX)
		return NULL;
	return &d->steps[d->step_of[ri]];
}

static int dl_begin(void *ctx, const struct store_msg *m, struct oim_err *err)
{
	struct dl *d = ctx;
	struct exec *ex = d->ex;
	const struct sync_step *s = dl_step(d, m);
	struct oim_err e = OIM_ERR_INIT;

	if (d->w)
		BUG("body callback begin() inside a message");
	if (!s)
		return oim_error(err, OIM_SEV_MESSAGE, OIM_E_PROTOCOL,
				 "message not asked for");
	d->handled[(size_t)(s - d->steps) - d->phase_start] = true;
	if (stopped(ex))
		return oim_error(err, OIM_SEV_MESSAGE, OIM_E_GENERIC,
				 "folder stopped");
	if (ex->f[SYNC_LOCAL]->ops->save_begin(ex->f[SYNC_LOCAL], s->uid,
					       s->flags, s->date, s->size,
					       &d->w, &e) < 0) {
		d->w = NULL;
		step_failed(ex, "saving", NULL, s->uid, &e);
		*err = e;
		if (err->sev > OIM_SEV_FOLDER)
			err->sev = OIM_SEV_FOLDER; /* skip; we stop after */
		return -1;
	}
	d->cur = s;
	return 0;
}

static int dl_data(void *ctx, const void *data, size_t len, struct oim_err *err)
{
	struct dl *d = ctx;
	struct oim_err e = OIM_ERR_INIT;

	if (!d->w)
		return 0;
	if (d->ex->f[SYNC_LOCAL]->ops->save_write(d->w, data, len, &e) < 0) {
		d->ex->f[SYNC_LOCAL]->ops->save_abort(d->w);
		d->w = NULL;
		step_failed(d->ex, "writing", NULL, d->cur->uid, &e);
		*err = e;
		if (err->sev > OIM_SEV_FOLDER)
			err->sev = OIM_SEV_FOLDER;
		return -1;
	}
	return 0;
}

static int dl_end(void *ctx, struct oim_err *err)
{
	struct dl *d = ctx;
	struct exec *ex = d->ex;
	struct oim_err e = OIM_ERR_INIT;
	uint32_t uid = 0;
	char *id = NULL;
	const struct sync_step *s = d->cur;

	if (!d->w)
		return 0;
	d->cur = NULL;
	if (ex->f[SYNC_LOCAL]->ops->save_commit(d->w, &uid, &id, &e) < 0) {
		d->w = NULL;
		step_failed(ex, "storing", NULL, s->uid, &e);
		*err = e;
		if (err->sev > OIM_SEV_FOLDER)
			err->sev = OIM_SEV_FOLDER;
		return -1;
	}
	d->w = NULL;
	log_debug(OIM_DBG_SYNC, "folder %s: UID %" PRIu32 " stored as %s",
		  ex->job->remote_name, s->uid, id ? id : "?");
	free(id);
	step_done(ex, s);
	ex->res->sum.copy[SYNC_LOCAL]++;
	if (record(ex, s, s->uid) < 0)
		return oim_error(err, OIM_SEV_FOLDER, OIM_E_STATUS,
				 "status cache failed");
	return 0;
}

static void run_downloads(struct exec *ex, size_t a, size_t b)
{
	const struct sync_step *steps = ex->plan.steps;
	struct dl d = {.ex = ex, .steps = steps, .phase_start = a};
	struct store_body_cb cb = {dl_begin, dl_data, dl_end};
	const struct store_msglist *rl = &ex->list[SYNC_REMOTE];
	const struct store_msg **batch = NULL;
	size_t *batch_steps = NULL;

	d.step_of = xmalloc((rl->nr + 1) * sizeof(*d.step_of));
	for (size_t i = 0; i < rl->nr; i++)
		d.step_of[i] = SIZE_MAX;
	d.handled = xcalloc(b - a + 1, sizeof(*d.handled));
	batch = xcalloc(SYNC_FETCH_BATCH, sizeof(*batch));
	batch_steps = xcalloc(SYNC_FETCH_BATCH, sizeof(*batch_steps));

	for (size_t i = a; i < b && !stopped(ex);) {
		size_t n = 0;
		struct oim_err e = OIM_ERR_INIT;

		for (; i < b && n < SYNC_FETCH_BATCH; i++) {
			const struct sync_step *s = &steps[i];
			if (s->kind != SYNC_STEP_COPY)
				continue;
			if (s->remote_idx >= rl->nr)
				BUG("download step without a remote message");
			d.step_of[s->remote_idx] = i;
			batch[n] = &rl->v[s->remote_idx];
			batch_steps[n++] = i;
		}
		if (!n)
			break;
		log_debug(OIM_DBG_SYNC, "folder %s: fetching %zu messages",
			  ex->job->remote_name, n);
		int r = ex->f[SYNC_REMOTE]->ops->fetch(ex->f[SYNC_REMOTE],
						       batch, n, &cb, &d, &e);
		if (d.w) {
			/* the fetch died inside a message */
			ex->f[SYNC_LOCAL]->ops->save_abort(d.w);
			d.w = NULL;
		}
		if (r < 0 && e.sev >= OIM_SEV_FOLDER) {
			set_stop(ex, &e);
			break;
		}
		if (r < 0)
			log_warn("%s: folder %s: %s", ex->job->account,
				 ex->job->remote_name, e.msg);
		for (size_t k = 0; k < n; k++) {
			size_t si = batch_steps[k];
			d.step_of[steps[si].remote_idx] = SIZE_MAX;
			if (!d.handled[si - a])
				/* expunged by another client meanwhile: the
				 * next run sees it gone; nothing to do */
				log_warn("%s: folder %s: message UID %" PRIu32
					 " vanished from the server before it "
					 "was downloaded",
					 ex->job->account, ex->job->remote_name,
					 steps[si].uid);
		}
	}
	free(batch);
	free(batch_steps);
	free(d.handled);
	free(d.step_of);
}

/* ---- uploads (COPY to the remote side) ----------------------------------
 */

struct ul {
	struct exec *ex;
	struct store_writer *w;
	uint64_t crlf_size; /* bytes as the IMAP writer sends them */
	bool prev_cr;
	bool began, ended, failed;
};

static int ul_begin(void *ctx, const struct store_msg *m, struct oim_err *err)
{
	struct ul *u = ctx;
	u->began = true;
	return 0;
}

static int ul_data(void *ctx, const void *data, size_t len, struct oim_err *err)
{
	struct ul *u = ctx;
	const unsigned char *p = data;

	/* The size on the wire: every LF not preceded by CR becomes CRLF
	 * (store.h: the IMAP writer normalises; maildir_reader's rule). */
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '\n' && !u->prev_cr)
			u->crlf_size++;
		u->prev_cr = p[i] == '\r';
	}
	u->crlf_size += len;
	if (u->ex->f[SYNC_REMOTE]->ops->save_write(u->w, data, len, err) < 0) {
		u->failed = true;
		return -1;
	}
	return 0;
}

static int ul_end(void *ctx, struct oim_err *err)
{
	struct ul *u = ctx;
	u->ended = true;
	return 0;
}

static void upload_one(struct exec *ex, const struct sync_step *s)
{
	struct store_folder *rf = ex->f[SYNC_REMOTE], *lf = ex->f[SYNC_LOCAL];
	struct store_msglist *ll = &ex->list[SYNC_LOCAL];
	struct store_msg *m;
	struct store_body_cb cb = {ul_begin, ul_data, ul_end};
	struct ul u = {.ex = ex};
	struct oim_err e = OIM_ERR_INIT;
	char *mid = NULL, *newid = NULL;
	uint64_t jid = 0;
	uint32_t uid = 0;

	if (s->local_idx >= ll->nr)
		BUG("upload step without a local message");
	m = &ll->v[s->local_idx];

	if (lf->ops->msg_info && lf->ops->msg_info(lf, m, &mid, &e) < 0) {
		step_failed(ex, "reading", m, 0, &e);
		return;
	}
	if (rf->ops->save_begin(rf, 0, s->flags, s->date, s->size, &u.w, &e) <
	    0) {
		step_failed(ex, "uploading", m, 0, &e);
		goto out;
	}
	{
		const struct store_msg *one = m;
		int r = lf->ops->fetch(lf, &one, 1, &cb, &u, &e);
		if (r < 0 || u.failed || !u.began || !u.ended) {
			rf->ops->save_abort(u.w);
			if (r == 0 && !u.failed)
				oim_error(&e, OIM_SEV_MESSAGE, OIM_E_IO,
					  "the message could not be read");
			step_failed(ex, "uploading", m, 0, &e);
			goto out;
		}
	}
	/* The intent, durably, before the APPEND (which save_commit sends). */
	if (status_journal_add(ex->jr, m->id ? m->id : "", mid ? mid : "",
			       u.crlf_size, s->date, &jid, &e) < 0) {
		rf->ops->save_abort(u.w);
		set_stop(ex, &e);
		goto out;
	}
	if (rf->ops->save_commit(u.w, &uid, &newid, &e) < 0) {
		/* The journal entry stays: if the APPEND went through after
		 * all, the next run finds it instead of uploading again. */
		step_failed(ex, "uploading", m, 0, &e);
		goto out;
	}
	free(newid);
	if (!uid) {
		if (rf->ops->find_uid(rf, mid ? mid : "", u.crlf_size, s->date,
				      ex->upload_min_uid, &uid, &e) < 0) {
			step_failed(ex, "finding the uploaded", m, 0, &e);
			goto out;
		}
		if (!uid) {
			e = (struct oim_err)OIM_ERR_INIT;
			oim_error(&e, OIM_SEV_MESSAGE, OIM_E_PROTOCOL,
				  "uploaded, but the server did not say "
				  "which UID it got and it was not found; "
				  "the next run looks for it again");
			step_failed(ex, "uploading", m, 0, &e);
			goto out;
		}
	}
	log_debug(OIM_DBG_SYNC, "folder %s: %s uploaded as UID %" PRIu32,
		  ex->job->remote_name, m->id ? m->id : "?", uid);
	step_done(ex, s);
	ex->res->sum.copy[SYNC_REMOTE]++;
	if (uid >= ex->upload_min_uid && uid < UINT32_MAX)
		ex->upload_min_uid = uid + 1;
	/* The UID into the local name before the status knows it: a status
	 * record whose UID no local file carries would look like a local
	 * deletion next time and delete the message on the server. */
	if (lf->ops->set_uid) {
		if (lf->ops->set_uid(lf, m, uid, &e) < 0) {
			step_failed(ex, "renaming the uploaded", m, 0, &e);
			goto out;
		}
	}
	m->uid = uid;
	if (record(ex, s, uid) < 0)
		goto out;
	if (status_journal_done(ex->jr, jid, uid, &e) < 0)
		set_stop(ex, &e);
out:
	free(mid);
}

/* ---- deletions and flags ------------------------------------------------
 */

static struct store_msg *step_msg(struct exec *ex, const struct sync_step *s)
{
	size_t idx = s->to == SYNC_REMOTE ? s->remote_idx : s->local_idx;
	if (idx >= ex->list[s->to].nr)
		BUG("step %s UID %" PRIu32 " without its %s message",
		    sync_step_kind_name(s->kind), s->uid, side_name(s->to));
	return &ex->list[s->to].v[idx];
}

/*
 * Carry out DELETE or FLAGS steps idx[0..n) (same kind, side and change)
 * with one store call; on a message-level failure of a batch, retry one by
 * one to find the culprit.
 */
static void change_batch(struct exec *ex, const size_t *idx, size_t n)
{
	const struct sync_step *steps = ex->plan.steps;
	const struct sync_step *s0 = &steps[idx[0]];
	struct store_folder *f = ex->f[s0->to];
	struct store_msg **msgs = xcalloc(n, sizeof(*msgs));
	sync_flags_t *before = xcalloc(n, sizeof(*before));
	struct oim_err e = OIM_ERR_INIT;
	int r;

	for (size_t i = 0; i < n; i++) {
		msgs[i] = step_msg(ex, &steps[idx[i]]);
		before[i] = msgs[i]->flags;
	}
	if (s0->kind == SYNC_STEP_DELETE)
		r = f->ops->delete (f, msgs, n, &e);
	else
		r = f->ops->set_flags(f, msgs, n, s0->add, s0->del, &e);
	if (r < 0) {
		if (e.sev >= OIM_SEV_FOLDER || n == 1) {
			step_failed(ex,
				    s0->kind == SYNC_STEP_DELETE
					? "deleting"
					: "changing flags of",
				    msgs[0], s0->uid, &e);
		} else {
			for (size_t i = 0; i < n && !stopped(ex); i++)
				change_batch(ex, &idx[i], 1);
		}
		goto out;
	}
	for (size_t i = 0; i < n && !stopped(ex); i++) {
		const struct sync_step *s = &steps[idx[i]];
		step_done(ex, s);
		if (s->kind == SYNC_STEP_DELETE)
			ex->res->sum.del[s->to]++;
		else if (((before[i] | s->add) & ~s->del) != before[i])
			ex->res->sum.flags[s->to]++;
		if (s->kind == SYNC_STEP_DELETE && s->to == SYNC_REMOTE &&
		    ex->expunge) {
			ALLOC_GROW(ex->deferred, ex->ndeferred, ex->adeferred);
			ex->deferred[ex->ndeferred++] = idx[i];
			continue;
		}
		if (record(ex, s, s->uid) < 0)
			break;
	}
out:
	free(before);
	free(msgs);
}

struct change_key {
	enum sync_step_kind kind;
	enum sync_side to;
	sync_flags_t add, del;
	size_t idx;
};

static int cmp_change(const void *pa, const void *pb)
{
	const struct change_key *a = pa, *b = pb;
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	if (a->to != b->to)
		return a->to < b->to ? -1 : 1;
	if (a->add != b->add)
		return a->add < b->add ? -1 : 1;
	if (a->del != b->del)
		return a->del < b->del ? -1 : 1;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* DELETE and FLAGS steps of steps[a..b), grouped by (side, add, del). */
static void run_changes(struct exec *ex, size_t a, size_t b)
{
	const struct sync_step *steps = ex->plan.steps;
	struct change_key *k = xcalloc(b - a + 1, sizeof(*k));
	size_t *idx = xcalloc(SYNC_CHANGE_BATCH, sizeof(*idx));
	size_t nk = 0;

	for (size_t i = a; i < b; i++) {
		const struct sync_step *s = &steps[i];
		if (s->kind != SYNC_STEP_DELETE && s->kind != SYNC_STEP_FLAGS)
			continue;
		k[nk++] = (struct change_key){
		    s->kind, s->to, s->kind == SYNC_STEP_FLAGS ? s->add : 0,
		    s->kind == SYNC_STEP_FLAGS ? s->del : 0, i};
	}
	oim_qsort(k, nk, sizeof(*k), cmp_change);
	for (size_t i = 0; i < nk && !stopped(ex);) {
		size_t n = 0;
		size_t j = i;
		for (; j < nk && n < SYNC_CHANGE_BATCH; j++) {
			if (k[j].kind != k[i].kind || k[j].to != k[i].to ||
			    k[j].add != k[i].add || k[j].del != k[i].del)
				break;
			idx[n++] = k[j].idx;
		}
		change_batch(ex, idx, n);
		i = j;
	}
	free(idx);
	free(k);
}

/* LINK and FORGET: status only. */
static void run_status_only(struct exec *ex, size_t a, size_t b)
{
	const struct sync_step *steps = ex->plan.steps;
	for (size_t i = a; i < b && !stopped(ex); i++) {
		const struct sync_step *s = &steps[i];
		if (s->kind != SYNC_STEP_LINK && s->kind != SYNC_STEP_FORGET)
			continue;
		step_done(ex, s);
		if (s->kind == SYNC_STEP_LINK)
			ex->res->sum.link++;
		else
			ex->res->sum.forget++;
		if (record(ex, s, s->uid) < 0)
			break;
	}
}

static void run_phase(struct exec *ex, size_t a, size_t b)
{
	const struct sync_step *steps = ex->plan.steps;
	enum sync_phase ph = steps[a].phase;

	static const char *const names[] = {
	    "copy remote->local", "delete remote->local", "flags remote->local",
	    "copy local->remote", "delete local->remote", "flags local->remote",
	};
	log_debug(OIM_DBG_SYNC, "folder %s: phase %s, %zu steps",
		  ex->job->remote_name,
		  (size_t)ph < ARRAY_SIZE(names) ? names[ph] : "?", b - a);
	run_status_only(ex, a, b);
	switch (ph) {
	case SYNC_PH_R2L_COPY:
		if (!stopped(ex))
			run_downloads(ex, a, b);
		break;
	case SYNC_PH_L2R_COPY:
		for (size_t i = a; i < b && !stopped(ex); i++)
			if (steps[i].kind == SYNC_STEP_COPY)
				upload_one(ex, &steps[i]);
		break;
	default:
		if (!stopped(ex))
			run_changes(ex, a, b);
		break;
	}
	/* later phases were planned on this one's results: record it */
	tx_commit(ex);
}

/* ---- validity, journal recovery -----------------------------------------
 */

static int validity_error(struct exec *ex, enum sync_side side, uint64_t saved,
			  uint64_t now, struct oim_err *err)
{
	const struct sync_folder_job *job = ex->job;
	const char *folder =
	    side == SYNC_REMOTE ? job->remote_name : job->local_name;
	struct store *s = side == SYNC_REMOTE ? job->remote : job->local;
	char *vpath = NULL, *spath = NULL;
	struct oim_err e = OIM_ERR_INIT;

	if (status_validity_path(job->metadata_dir, s->repo, folder, &vpath,
				 &e) < 0)
		vpath = xstrdup("(validity file)");
	spath = xstrdup(status_path(ex->st));
	oim_error(
	    err, OIM_SEV_FOLDER, OIM_E_UIDVALIDITY,
	    "UIDVALIDITY of folder %s changed on the %s side (saved %" PRIu64
	    ", now %" PRIu64 "): the %s renumbered its messages and oimap "
	    "will not guess which is which, so this folder was not "
	    "synced and nothing was changed.  To resync it: move the "
	    "local folder %s away as a backup, move away %s and %s, "
	    "and run again; the folder is then downloaded anew (mail "
	    "that only the backup has can be moved into the new "
	    "folder's new/ directory to be uploaded)",
	    folder, side_name(side), saved, now,
	    side == SYNC_REMOTE ? "server" : "local repository",
	    job->local_name, spath, vpath);
	free(vpath);
	free(spath);
	return -1;
}

static int check_validity(struct exec *ex, struct oim_err *err)
{
	const struct sync_folder_job *job = ex->job;
	bool known = ex->list[SYNC_LOCAL].nr > 0 || status_count(ex->st) > 0;

	for (int side = 0; side < 2; side++) {
		struct store *s =
		    side == SYNC_REMOTE ? job->remote : job->local;
		const char *folder =
		    side == SYNC_REMOTE ? job->remote_name : job->local_name;
		uint64_t now = ex->f[side]->state.uidvalidity, saved = 0;
		bool present = false;

		if (!now)
			continue; /* the driver does not know one */
		if (status_validity_read(job->metadata_dir, s->repo, folder,
					 &present, &saved, err) < 0)
			return -1;
		if (known && present && saved != now)
			return validity_error(ex, side, saved, now, err);
		/* unchanged: no write (a no-change run writes nothing) */
		if (present && saved == now)
			continue;
		/* Nothing to mismatch yet (accounts.py saves it then). */
		if (job->dry_run)
			continue;
		log_debug(OIM_DBG_SYNC,
			  "folder %s: saving %s UIDVALIDITY %" PRIu64, folder,
			  side_name(side), now);
		if (status_validity_write(job->metadata_dir, s->repo, folder,
					  now, !job->fsync, err) < 0)
			return -1;
	}
	return 0;
}

/* The part of a Maildir id that survives flag changes and new/ -> cur/. */
static void id_base(const char *id, const char **p_r, size_t *len_r)
{
	const char *slash = strrchr(id, '/');
	const char *p = slash ? slash + 1 : id;
	size_t len = strlen(p);
	for (size_t i = 0; i + 2 < len; i++) {
		if ((p[i] == ':' || p[i] == '!') && p[i + 1] == '2' &&
		    p[i + 2] == ',') {
			len = i;
			break;
		}
	}
	*p_r = p;
	*len_r = len;
}

static struct store_msg *find_local(struct exec *ex, const char *name)
{
	struct store_msglist *l = &ex->list[SYNC_LOCAL];
	const char *p, *q;
	size_t n, m;
	struct store_msg *hit = NULL;

	if (!*name)
		return NULL;
	id_base(name, &p, &n);
	for (size_t i = 0; i < l->nr; i++) {
		if (!l->v[i].id)
			continue;
		id_base(l->v[i].id, &q, &m);
		if (m != n || memcmp(p, q, n))
			continue;
		if (!l->v[i].uid)
			return &l->v[i];
		if (!hit)
			hit = &l->v[i];
	}
	return hit;
}

/*
 * Uploads journaled by a run that did not finish them.  For each: is it
 * on the server?  Then the local message gets that UID in its name;
 * else it stays new local mail and is uploaded by this run.
 *
 * Where to look: the journal does not record the UIDNEXT seen before the
 * APPEND, but that was above every UID the status knew then, and the
 * status cannot have learnt a higher UID since (a pending entry stops the
 * folder before anything else is recorded), so UIDs above the highest
 * status UID are searched.
 */
static int recover_uploads(struct exec *ex, struct oim_err *err)
{
	struct store_folder *rf = ex->f[SYNC_REMOTE], *lf = ex->f[SYNC_LOCAL];
	size_t n = 0, nu = 0;
	const struct status_journal_entry *pend =
	    status_journal_pending(ex->jr, &n);
	uint32_t *uids;
	uint32_t min_uid = 1;

	if (!n)
		return 0;
	uids = status_uids(ex->st, &nu);
	if (nu)
		min_uid = uids[nu - 1] + 1;
	free(uids);
	if (!min_uid) /* the status knows UID 2^32-1 */
		min_uid = UINT32_MAX;

	/* entries are borrowed until the next call on the journal: copy */
	struct status_journal_entry *v = xcalloc(n, sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		v[i] = pend[i];
		v[i].local_name = xstrdup(pend[i].local_name);
		v[i].message_id = xstrdup(pend[i].message_id);
	}
	int ret = 0;
	for (size_t i = 0; i < n && !ret; i++) {
		uint32_t uid = 0;
		struct store_msg *m;

		if (rf->ops->find_uid(rf, v[i].message_id, v[i].size,
				      v[i].internal_date, min_uid, &uid,
				      err) < 0) {
			/* without the answer the message could be uploaded
			 * twice: stop the folder */
			oim_err_prefix(
			    err, "looking for an interrupted upload of %s",
			    v[i].local_name);
			if (err->sev < OIM_SEV_FOLDER)
				err->sev = OIM_SEV_FOLDER;
			ret = -1;
			break;
		}
		m = find_local(ex, v[i].local_name);
		log_info("%s: folder %s: interrupted upload of %s: %s%s",
			 ex->job->account, ex->job->remote_name,
			 v[i].local_name,
			 uid ? "found on the server"
			     : "not on the server, uploading it again",
			 uid && !m ? " (local file gone or renamed)" : "");
		/* Only the name gets the UID: with both sides holding it
		 * and no status record, the plan links the two and the
		 * local flags win (plan.h), so a flag the user changed
		 * since the upload is not undone. */
		if (uid && m && m->uid != uid) {
			if (lf->ops->set_uid &&
			    lf->ops->set_uid(lf, m, uid, err) < 0) {
				ret = -1;
				break;
			}
			m->uid = uid;
		}
		if (status_journal_done(ex->jr, v[i].id, uid, err) < 0)
			ret = -1;
	}
	for (size_t i = 0; i < n; i++) {
		free(v[i].local_name);
		free(v[i].message_id);
	}
	free(v);
	if (ret < 0 && err->sev < OIM_SEV_FOLDER)
		err->sev = OIM_SEV_FOLDER;
	return ret;
}

/* ---- the folder ---------------------------------------------------------
 */

static int scan(struct exec *ex, enum sync_side side, struct oim_err *err)
{
	struct store_scan_opts so = {0};
	struct store_folder *f = ex->f[side];
	if (f->ops->scan(f, &so, &ex->list[side], err) < 0)
		return -1;
	ex->skipped += ex->list[side].skipped;
	log_debug(OIM_DBG_SYNC, "folder %s: %s has %zu messages",
		  ex->job->remote_name, side_name(side), ex->list[side].nr);
	return 0;
}

struct snap_arrays {
	struct sync_remote_msg *r;
	struct sync_local_msg *l;
	struct sync_status_rec *s;
	struct sync_snapshot snap;
};

static void snap_fill(struct exec *ex, struct snap_arrays *a, bool with_remote)
{
	const struct store_msglist *rl = &ex->list[SYNC_REMOTE];
	const struct store_msglist *ll = &ex->list[SYNC_LOCAL];
	size_t ns = status_count(ex->st), iter = 0, k = 0;
	const struct status_rec *rec;
	/* letters no side syncs: the planner never sees them (plan.h) */
	sync_flags_t hide = ex->opts.ignored_letters;

	memset(a, 0, sizeof(*a));
	if (with_remote) {
		a->r = xcalloc(rl->nr + 1, sizeof(*a->r));
		for (size_t i = 0; i < rl->nr; i++)
			a->r[i] = (struct sync_remote_msg){
			    rl->v[i].uid, rl->v[i].flags & ~hide, rl->v[i].size,
			    rl->v[i].date};
		a->snap.remote = a->r;
		a->snap.remote_nr = rl->nr;
	}
	a->l = xcalloc(ll->nr + 1, sizeof(*a->l));
	for (size_t i = 0; i < ll->nr; i++)
		a->l[i] = (struct sync_local_msg){
		    .uid = ll->v[i].uid,
		    .native_uid = ll->v[i].native_uid,
		    .flags = ll->v[i].flags & ~hide,
		    .size = ll->v[i].size,
		    .date = ll->v[i].date,
		    .id = ll->v[i].id,
		};
	a->snap.local = a->l;
	a->snap.local_nr = ll->nr;
	a->s = xcalloc(ns + 1, sizeof(*a->s));
	while ((rec = status_next(ex->st, &iter)) && k < ns)
		a->s[k++] = (struct sync_status_rec){
		    rec->uid, letters(rec->flags) & ~hide, rec->mtime};
	a->snap.status = a->s;
	a->snap.status_nr = k;
}

static void snap_release(struct snap_arrays *a)
{
	free(a->r);
	free(a->l);
	free(a->s);
}

/* ---- the no-change fast path ---------------------------------------------
 *
 * DESIGN.md "fast by design": with CONDSTORE the server's folder state
 * (UIDVALIDITY, UIDNEXT, EXISTS, HIGHESTMODSEQ) changes whenever a message
 * is added, removed or has its flags changed.  After a sync that left the
 * remote as it found it, that state is saved with the status cache; a
 * later run that finds the same state and a local folder equal to the
 * status knows the plan would be empty and skips the remote scan.
 *
 * OfflineIMAP shares the status cache and does not update our values, so
 * they carry a fingerprint of the records they were saved with (count and
 * an order-independent hash of UID and flags); any other writer's change
 * makes it differ.
 */
#define META_STATE "oimap.remote-state"
#define META_FPR   "oimap.status-fpr"

static uint64_t status_fingerprint(const struct status *st)
{
	size_t iter = 0;
	uint64_t sum = 0;
	const struct status_rec *rec;

	while ((rec = status_next(st, &iter))) {
		uint64_t h = 14695981039346656037ull; /* FNV-1a */
		unsigned char b[4] = {(unsigned char)rec->uid,
				      (unsigned char)(rec->uid >> 8),
				      (unsigned char)(rec->uid >> 16),
				      (unsigned char)(rec->uid >> 24)};
		for (size_t i = 0; i < 4; i++)
			h = (h ^ b[i]) * 1099511628211ull;
		for (const char *p = rec->flags; *p; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211ull;
		sum += h;
	}
	return sum;
}

static void fast_values(const struct exec *ex, char *state, size_t scap,
			char *fpr, size_t fcap)
{
	const struct store_folder_state *fs = &ex->f[SYNC_REMOTE]->state;
	snprintf(state, scap, "%" PRIu32 ":%" PRIu32 ":%" PRIu32 ":%" PRIu64,
		 fs->uidvalidity, fs->uidnext, fs->exists, fs->highestmodseq);
	snprintf(fpr, fcap, "%zu:%016" PRIx64, status_count(ex->st),
		 status_fingerprint(ex->st));
}

static bool fast_path_usable(const struct exec *ex)
{
	const struct sync_plan_opts *o = &ex->opts;
	const struct store_folder_state *fs = &ex->f[SYNC_REMOTE]->state;
	return fs->highestmodseq && fs->uidnext && !o->local_is_imap &&
	       !o->maxage_since && !o->maxage_cutoff &&
	       o->startdate_side == SYNC_STARTDATE_NONE;
}

static bool fast_unchanged(struct exec *ex)
{
	char state[STATUS_META_MAX_VALUE], fpr[STATUS_META_MAX_VALUE];
	const char *sv, *fv;
	struct snap_arrays sa;
	struct sync_plan_opts o;
	bool same;

	if (!fast_path_usable(ex))
		return false;
	sv = status_meta_get(ex->st, META_STATE);
	fv = status_meta_get(ex->st, META_FPR);
	if (!sv || !fv)
		return false;
	fast_values(ex, state, sizeof(state), fpr, sizeof(fpr));
	if (strcmp(sv, state) || strcmp(fv, fpr))
		return false;
	/* the local side equals the status: the Maildir half of -q */
	snap_fill(ex, &sa, false);
	o = ex->opts;
	o.remote_exists = sa.snap.status_nr;
	same = sync_plan_quick_unchanged(&sa.snap, &o);
	snap_release(&sa);
	return same;
}

/* After a complete sync that changed nothing on the server. */
static void fast_save(struct exec *ex)
{
	char state[STATUS_META_MAX_VALUE], fpr[STATUS_META_MAX_VALUE];
	struct oim_err e = OIM_ERR_INIT;
	const struct sync_plan_summary *sum = &ex->res->sum;

	if (!fast_path_usable(ex) || ex->res->failed_messages ||
	    sum->copy[SYNC_REMOTE] || sum->del[SYNC_REMOTE] ||
	    sum->flags[SYNC_REMOTE] || stopped(ex))
		return;
	fast_values(ex, state, sizeof(state), fpr, sizeof(fpr));
	const char *sv = status_meta_get(ex->st, META_STATE);
	const char *fv = status_meta_get(ex->st, META_FPR);
	if (sv && fv && !strcmp(sv, state) && !strcmp(fv, fpr))
		return;
	if (tx_begin(ex) < 0)
		return;
	if (status_meta_set(ex->st, META_STATE, state, &e) < 0 ||
	    status_meta_set(ex->st, META_FPR, fpr, &e) < 0) {
		set_stop(ex, &e);
		return;
	}
	tx_commit(ex);
}

static void dry_run_report(struct exec *ex)
{
	const struct sync_plan *p = &ex->plan;
	for (size_t i = 0; i < p->nr; i++) {
		const struct sync_step *s = &p->steps[i];
		char a[SYNC_FLAGS_STR_MAX], d[SYNC_FLAGS_STR_MAX];
		if (s->kind == SYNC_STEP_FLAGS)
			log_info("[DRYRUN] %s: folder %s: flags of UID %" PRIu32
				 " on %s: +%s -%s",
				 ex->job->account, ex->job->remote_name, s->uid,
				 side_name(s->to), sync_flags_format(s->add, a),
				 sync_flags_format(s->del, d));
		else
			log_info("[DRYRUN] %s: folder %s: %s UID %" PRIu32
				 " %s %s",
				 ex->job->account, ex->job->remote_name,
				 sync_step_kind_name(s->kind), s->uid,
				 s->kind == SYNC_STEP_COPY ? "to" : "on",
				 side_name(s->to));
	}
}

static int valve_error(struct exec *ex, struct oim_err *err)
{
	const struct sync_plan *p = &ex->plan;
	enum sync_side empty = p->valve[SYNC_REMOTE] ? SYNC_REMOTE : SYNC_LOCAL;
	enum sync_side other = empty == SYNC_REMOTE ? SYNC_LOCAL : SYNC_REMOTE;
	return oim_error(
	    err, OIM_SEV_FOLDER, OIM_E_LIMIT,
	    "folder %s: the %s side has none of the messages the status "
	    "cache knows; syncing would delete %zu messages on the %s side, "
	    "so the folder was not synced and nothing was changed.  If this "
	    "is a mistake, restore the %s folder.  To keep both sides' mail, "
	    "move away the status cache %s and run again (nothing is "
	    "deleted then).  To really delete them, run again with the "
	    "safety valve turned off",
	    ex->job->remote_name, side_name(empty), p->sum.held_valve,
	    side_name(other), side_name(empty), status_path(ex->st));
}

static int open_all(struct exec *ex, struct oim_err *err)
{
	const struct sync_folder_job *job = ex->job;
	unsigned sflags = 0, rflags = 0, lflags = STORE_OPEN_CREATE;

	if (job->dry_run)
		sflags |= STATUS_OPEN_READONLY;
	if (!job->fsync)
		sflags |= STATUS_OPEN_NOFSYNC;
	if (status_open(job->account_dir, job->status_name, job->backend,
			sflags, &ex->st, err) < 0)
		return -1;
	if (status_journal_open(job->account_dir, job->status_name, sflags,
				&ex->jr, err) < 0)
		return -1;
	if (job->plan.readonly[SYNC_REMOTE] || job->dry_run)
		rflags |= STORE_OPEN_READONLY;
	else if (ex->expunge)
		rflags |= STORE_OPEN_EXPUNGE;
	if (job->remote->ops->open_folder(job->remote, job->remote_name, NULL,
					  rflags, &ex->f[SYNC_REMOTE],
					  err) < 0) {
		ex->f[SYNC_REMOTE] = NULL;
		return -1;
	}
	/* Read-only local: the plan changes nothing there, but an uploaded
	 * message still gets its UID in its name (OfflineIMAP's
	 * change_message_uid() does that in a read-only repository too),
	 * so the folder is not opened read-only; it is not created either. */
	if (job->dry_run)
		lflags = STORE_OPEN_READONLY; /* create nothing */
	else if (job->plan.readonly[SYNC_LOCAL])
		lflags = 0;
	if (job->local->ops->open_folder(job->local, job->local_name,
					 job->local_visible, lflags,
					 &ex->f[SYNC_LOCAL], err) < 0) {
		ex->f[SYNC_LOCAL] = NULL;
		return -1;
	}
	return 0;
}

/*
 * startdate: the StartUID file of the startdate side's folder (status.h)
 * gives the plan its UID floor; on the first sync the plan says what to
 * write there.
 */
static int startdate_side(const struct exec *ex, struct store **s_r,
			  const char **folder_r)
{
	const struct sync_folder_job *job = ex->job;
	switch (ex->opts.startdate_side) {
	case SYNC_STARTDATE_REMOTE:
		*s_r = job->remote;
		*folder_r = job->remote_name;
		return 1;
	case SYNC_STARTDATE_LOCAL:
		*s_r = job->local;
		*folder_r = job->local_name;
		return 1;
	default:
		return 0;
	}
}

static int startdate_load(struct exec *ex, struct oim_err *err)
{
	struct store *s;
	const char *folder;
	bool present;
	if (!startdate_side(ex, &s, &folder))
		return 0;
	return status_startuid_read(ex->job->metadata_dir, s->repo, folder,
				    &present, &ex->opts.startdate_min_uid, err);
}

static int startdate_save(struct exec *ex, struct oim_err *err)
{
	struct store *s;
	const char *folder;
	uint32_t uid = ex->plan.startdate_min_uid_save;
	if (!uid || ex->job->dry_run || !startdate_side(ex, &s, &folder))
		return 0;
	log_debug(OIM_DBG_SYNC, "folder %s: startdate: from UID %" PRIu32,
		  folder, uid);
	return status_startuid_write(ex->job->metadata_dir, s->repo, folder,
				     uid, !ex->job->fsync, err);
}

static int sync_body(struct exec *ex, struct oim_err *err)
{
	const struct sync_folder_job *job = ex->job;
	struct store_folder *rf, *lf;
	struct snap_arrays sa;
	size_t i, a;

	if (open_all(ex, err) < 0)
		return -1;
	rf = ex->f[SYNC_REMOTE];
	lf = ex->f[SYNC_LOCAL];
	log_debug(OIM_DBG_SYNC,
		  "folder %s: remote UIDVALIDITY %" PRIu32 " UIDNEXT %" PRIu32
		  " EXISTS %" PRIu32 "; status %zu records%s",
		  job->remote_name, rf->state.uidvalidity, rf->state.uidnext,
		  rf->state.exists, status_count(ex->st),
		  status_is_new(ex->st) ? " (new)" : "");

	if (scan(ex, SYNC_LOCAL, err) < 0)
		return -1;
	if (check_validity(ex, err) < 0)
		return -1;
	if (!job->dry_run && recover_uploads(ex, err) < 0)
		return -1;

	ex->opts = job->plan;
	ex->opts.remote_exists = rf->state.exists;
	if (lf->store->ops->kind && !strcmp(lf->store->ops->kind, "IMAP")) {
		ex->opts.local_is_imap = true;
		ex->opts.local_exists = lf->state.exists;
	}
	if (ex->opts.quick && !ex->opts.maxage_since &&
	    !ex->opts.maxage_cutoff &&
	    ex->opts.startdate_side == SYNC_STARTDATE_NONE) {
		snap_fill(ex, &sa, false);
		bool same = sync_plan_quick_unchanged(&sa.snap, &ex->opts);
		snap_release(&sa);
		if (same) {
			log_debug(OIM_DBG_SYNC, "folder %s: -q: unchanged",
				  job->remote_name);
			ex->res->quick_skipped = true;
			return 0;
		}
	}
	if (fast_unchanged(ex)) {
		log_debug(OIM_DBG_SYNC,
			  "folder %s: server state and local folder as after "
			  "the last sync: nothing to do",
			  job->remote_name);
		ex->res->unchanged_skipped = true;
		return 0;
	}

	if (scan(ex, SYNC_REMOTE, err) < 0)
		return -1;
	ex->upload_min_uid = rf->state.uidnext ? rf->state.uidnext : 1;
	for (i = 0; i < ex->list[SYNC_REMOTE].nr; i++)
		if (ex->list[SYNC_REMOTE].v[i].uid >= ex->upload_min_uid &&
		    ex->list[SYNC_REMOTE].v[i].uid < UINT32_MAX)
			ex->upload_min_uid = ex->list[SYNC_REMOTE].v[i].uid + 1;

	if (startdate_load(ex, err) < 0)
		return -1;
	snap_fill(ex, &sa, true);
	int r = sync_plan_build(&sa.snap, &ex->opts, &ex->plan, err);
	snap_release(&sa);
	if (r < 0)
		return -1;
	if (startdate_save(ex, err) < 0)
		return -1;
	ex->have_plan = true;
	log_debug(OIM_DBG_SYNC, "folder %s: plan of %zu steps",
		  job->remote_name, ex->plan.nr);
	/* what was held back is reported as planned */
	ex->res->sum.held_valve = ex->plan.sum.held_valve;
	ex->res->sum.held_maxsize = ex->plan.sum.held_maxsize;
	ex->res->sum.held_window = ex->plan.sum.held_window;
	ex->res->sum.held_ignore = ex->plan.sum.held_ignore;
	if (ex->plan.valve[SYNC_REMOTE] || ex->plan.valve[SYNC_LOCAL])
		return valve_error(ex, err);
	if (ex->plan.quick_skipped) {
		ex->res->quick_skipped = true;
		return 0;
	}
	if (job->dry_run) {
		dry_run_report(ex);
		ex->res->sum = ex->plan.sum;
		return 0;
	}

	for (a = 0; a < ex->plan.nr && !stopped(ex); a = i) {
		for (i = a; i < ex->plan.nr &&
			    ex->plan.steps[i].phase == ex->plan.steps[a].phase;
		     i++)
			;
		run_phase(ex, a, i);
	}
	fast_save(ex);
	if (stopped(ex)) {
		*err = ex->stop;
		return -1;
	}
	return 0;
}

int sync_folder(const struct sync_folder_job *job,
		struct sync_folder_result *res, struct oim_err *err)
{
	struct exec ex = {.job = job, .res = res};
	struct oim_err e = OIM_ERR_INIT;
	int ret;

	memset(res, 0, sizeof(*res));
	ex.expunge =
	    job->expunge && !job->dry_run && !job->plan.readonly[SYNC_REMOTE];
	log_debug(OIM_DBG_SYNC, "%s: syncing folder %s <-> %s%s", job->account,
		  job->remote_name, job->local_name,
		  job->dry_run ? " (dry run)" : "");
	ret = sync_body(&ex, err);
	if (ret < 0 && stopped(&ex) && err->sev == OIM_SEV_NONE)
		*err = ex.stop;

	/* Record what was done even when the folder stopped part way. */
	/* Even after an account error: the recorded steps did succeed. */
	if (ex.in_tx && tx_commit(&ex) < 0 && ret == 0) {
		*err = ex.stop;
		ret = -1;
	}
	if (ex.f[SYNC_REMOTE]) {
		bool dead = ret < 0 && err->sev >= OIM_SEV_ACCOUNT;
		int rc = job->remote->ops->close_folder(
		    ex.f[SYNC_REMOTE], ex.expunge && !dead, &e);
		if (rc < 0 && ret == 0) {
			*err = e;
			if (err->sev < OIM_SEV_FOLDER)
				err->sev = OIM_SEV_FOLDER;
			ret = -1;
		}
		/* expunged: now the deletions can be recorded */
		for (size_t i = 0; rc == 0 && i < ex.ndeferred; i++)
			if (record(&ex, &ex.plan.steps[ex.deferred[i]], 0) < 0)
				break;
		tx_commit(&ex);
		if (stopped(&ex) && ret == 0) {
			*err = ex.stop;
			ret = -1;
		}
	}
	if (ex.f[SYNC_LOCAL]) {
		oim_err_clear(&e);
		if (job->local->ops->close_folder(ex.f[SYNC_LOCAL], false, &e) <
			0 &&
		    ret == 0) {
			*err = e;
			if (err->sev < OIM_SEV_FOLDER)
				err->sev = OIM_SEV_FOLDER;
			ret = -1;
		}
	}
	if (ex.jr && !job->dry_run) {
		oim_err_clear(&e);
		if (status_journal_clear(ex.jr, &e) < 0 && ret == 0) {
			*err = e;
			ret = -1;
		}
	}
	status_journal_close(ex.jr);
	status_close(ex.st);
	if (ex.have_plan)
		sync_plan_release(&ex.plan);
	store_msglist_release(&ex.list[SYNC_REMOTE]);
	store_msglist_release(&ex.list[SYNC_LOCAL]);
	free(ex.deferred);

	if (ret == 0 && res->failed_messages) {
		ret = oim_error(err, OIM_SEV_FOLDER, OIM_E_GENERIC,
				"folder %s: %zu message%s failed (see above)",
				job->remote_name, res->failed_messages,
				res->failed_messages == 1 ? "" : "s");
	} else if (ret == 0 && ex.skipped) {
		/* store.h: files a scan could not trust end the run non-zero */
		ret = oim_error(
		    err, OIM_SEV_FOLDER, OIM_E_GENERIC,
		    "folder %s: %zu file%s with names that cannot be "
		    "trusted left alone (see above)",
		    job->local_name, ex.skipped, ex.skipped == 1 ? "" : "s");
	}
	log_debug(OIM_DBG_SYNC, "%s: folder %s done: %s", job->account,
		  job->remote_name, ret ? err->msg : "ok");
	return ret;
}
