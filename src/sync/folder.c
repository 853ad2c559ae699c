/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * folder.c - sync_folder(): the executor of one folder's plan (sync.h).
 *
 * Order of work, and why:
 *
 *  0. With the state the account's listing told for the remote folder
 *     (job->remote_hint): open the status cache and the local folder, and
 *     when nothing can have changed, stop there, the remote folder never
 *     opened (hint_skip()).
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
 *     build the plan and carry it out phase by phase; uploads with several
 *     APPENDs in flight (run_uploads()).
 *
 * Every step is recorded in the status only after it succeeded, in
 * transactions of SYNC_STATUS_BATCH records and at the folder's end; a crash
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
#include "folder-labels.h"

/* Status records per transaction (one sqlite commit / plain rewrite). */
#define SYNC_STATUS_BATCH 100
/* Messages per remote fetch call (pipelined by the driver). */
#define SYNC_FETCH_BATCH 200
/* Messages per delete / set_flags call. */
#define SYNC_CHANGE_BATCH 500

struct exec {
	const struct sync_folder_job *job;
	struct sync_folder_result *res;
	struct store *remote; /* job->remote, or job->remote_connect's */
	struct store_folder *f[2];
	bool local_scanned; /* list[SYNC_LOCAL] is filled */
	/* the remote UIDVALIDITY check_validity() passed with (0: none) */
	uint64_t validity_checked;
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
	/* after a sync that changed the server: its state as it must be
	 * now, checked by verify_changes(), saved once the status is final */
	bool post_ok;
	struct store_folder_state post_state;
	/* the remote folder's state when opened (drivers update theirs) */
	struct store_folder_state s0;
	/* files the scans left alone (already warned about) */
	size_t skipped;
	/* synclabels (job->labels): folder-labels.h */
	struct sync_labels_run lr;
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
	/* synclabels: the labels header written with the message */
	if (ex->job->labels &&
	    sync_labels_download_begin(&ex->lr, m, d->w, &e) < 0) {
		ex->f[SYNC_LOCAL]->ops->save_abort(d->w);
		d->w = NULL;
		step_failed(ex, "saving", NULL, s->uid, &e);
		*err = e;
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
	step_done(ex, s);
	ex->res->sum.copy[SYNC_LOCAL]++;
	if (record(ex, s, s->uid) < 0) {
		free(id);
		return oim_error(err, OIM_SEV_FOLDER, OIM_E_STATUS,
				 "status cache failed");
	}
	/* synclabels: the server's labels into the new file's header */
	if (ex->job->labels && id &&
	    sync_labels_downloaded(
		&ex->lr, &ex->list[SYNC_REMOTE].v[s->remote_idx], id, &e) < 0) {
		set_stop(ex, &e);
		*err = e;
		free(id);
		return -1;
	}
	free(id);
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

/*
 * One upload in the pipeline: the local message spooled into the remote
 * writer and journaled, the save started (or, without pipelining, ready
 * to commit), then finished.
 */
struct ul_slot {
	const struct sync_step *s;
	struct store_msg *m;
	struct store_writer *w; /* until the save is finished */
	char *mid;		/* Message-ID (malloc'd) or NULL */
	uint64_t jid;		/* the journal entry */
	uint64_t size;		/* bytes as sent (CRLF) */
	/* the save's outcome, once finished */
	bool finished;
	int rc;
	uint32_t uid;
	struct oim_err e;
};

/*
 * Read the local message into a remote writer, journal the intent
 * durably, and (pipelined) start the save.  false: the step failed and
 * was reported, nothing is in flight.
 */
static bool upload_start(struct exec *ex, const struct sync_step *s, bool pipe,
			 struct ul_slot *u)
{
	struct store_folder *rf = ex->f[SYNC_REMOTE], *lf = ex->f[SYNC_LOCAL];
	struct store_msglist *ll = &ex->list[SYNC_LOCAL];
	struct store_body_cb cb = {ul_begin, ul_data, ul_end};
	struct ul ud = {.ex = ex};
	struct oim_err e = OIM_ERR_INIT;
	struct store_msg *m;

	if (s->local_idx >= ll->nr)
		BUG("upload step without a local message");
	m = &ll->v[s->local_idx];
	memset(u, 0, sizeof(*u));
	u->s = s;
	u->m = m;

	if (lf->ops->msg_info && lf->ops->msg_info(lf, m, &u->mid, &e) < 0) {
		step_failed(ex, "reading", m, 0, &e);
		return false;
	}
	if (rf->ops->save_begin(rf, 0, s->flags, s->date, s->size, &ud.w, &e) <
	    0) {
		step_failed(ex, "uploading", m, 0, &e);
		goto fail;
	}
	{
		const struct store_msg *one = m;
		int r = lf->ops->fetch(lf, &one, 1, &cb, &ud, &e);
		if (r < 0 || ud.failed || !ud.began || !ud.ended) {
			rf->ops->save_abort(ud.w);
			if (r == 0 && !ud.failed)
				oim_error(&e, OIM_SEV_MESSAGE, OIM_E_IO,
					  "the message could not be read");
			step_failed(ex, "uploading", m, 0, &e);
			goto fail;
		}
	}
	/* The intent, durably, before the APPEND (which the save sends). */
	if (status_journal_add(ex->jr, m->id ? m->id : "", u->mid ? u->mid : "",
			       ud.crlf_size, s->date, &u->jid, &e) < 0) {
		rf->ops->save_abort(ud.w);
		set_stop(ex, &e);
		goto fail;
	}
	u->size = ud.crlf_size;
	u->w = ud.w;
	if (pipe && rf->ops->save_commit_start(u->w, &e) < 0) {
		/* The writer is gone; the journal entry stays, in case the
		 * APPEND went out after all: the next run looks for it. */
		u->w = NULL;
		step_failed(ex, "uploading", m, 0, &e);
		goto fail;
	}
	return true;
fail:
	free(u->mid);
	u->mid = NULL;
	return false;
}

/* Wait for the save (pipelined) or commit it; the outcome goes to u. */
static void upload_commit(struct exec *ex, struct ul_slot *u, bool pipe)
{
	struct store_folder *rf = ex->f[SYNC_REMOTE];
	char *newid = NULL;

	if (u->finished)
		return;
	u->finished = true;
	oim_err_clear(&u->e);
	if (pipe)
		u->rc =
		    rf->ops->save_commit_finish(u->w, &u->uid, &newid, &u->e);
	else
		u->rc = rf->ops->save_commit(u->w, &u->uid, &newid, &u->e);
	u->w = NULL;
	free(newid);
}

/*
 * A save finished: find its UID if the server did not say, give the
 * local message that UID in its name, record it in the status, and mark
 * the journal entry done.
 */
static void upload_done(struct exec *ex, struct ul_slot *u)
{
	struct store_folder *rf = ex->f[SYNC_REMOTE], *lf = ex->f[SYNC_LOCAL];
	const struct sync_step *s = u->s;
	struct store_msg *m = u->m;
	struct oim_err e = OIM_ERR_INIT;
	uint32_t uid = u->uid;

	if (u->rc < 0) {
		/* The journal entry stays: if the APPEND went through after
		 * all, the next run finds it instead of uploading again. */
		step_failed(ex, "uploading", m, 0, &u->e);
		goto out;
	}
	if (!uid) {
		if (rf->ops->find_uid(rf, u->mid ? u->mid : "", u->size,
				      s->date, ex->upload_min_uid, &uid,
				      &e) < 0) {
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
	if (status_journal_done(ex->jr, u->jid, uid, &e) < 0)
		set_stop(ex, &e);
	/* synclabels: the header's labels onto the uploaded message */
	else if (ex->job->labels && sync_labels_uploaded(&ex->lr, m, &e) < 0)
		set_stop(ex, &e);
out:
	free(u->mid);
	u->mid = NULL;
}

/*
 * The uploads of steps[a..b), with up to STORE_SAVE_INFLIGHT_MAX APPENDs
 * in flight when the remote driver pipelines (save_commit_start).
 *
 * Crash safety is upload_one's of old, per message: each is journaled
 * before its save starts and marked done after its UID is in the local
 * name and the status.  A run killed with saves in flight leaves them
 * journaled; the next run looks for each on the server (recover_uploads)
 * above the highest UID the status knows.  That stays right with several
 * in flight: one connection's APPENDs get increasing UIDs in the order
 * sent, and they are recorded in that order, so the status never knows a
 * UID above a pending one's.
 */
static void run_uploads(struct exec *ex, size_t a, size_t b)
{
	const struct sync_step *steps = ex->plan.steps;
	struct store_folder *rf = ex->f[SYNC_REMOTE];
	bool pipe = rf->ops->save_commit_start && rf->ops->save_commit_finish;
	size_t window = pipe ? STORE_SAVE_INFLIGHT_MAX : 1;
	struct ul_slot ring[STORE_SAVE_INFLIGHT_MAX];
	size_t head = 0, n = 0;

	for (size_t i = a; i <= b; i++) {
		bool more = i < b && !stopped(ex);
		/* the oldest when the window is full; all at the end */
		while (n && (n >= window || !more)) {
			struct ul_slot *u = &ring[head];
			upload_commit(ex, u, pipe);
			if (u->rc == 0 && !u->uid && n > 1) {
				/* No APPENDUID: find_uid needs the folder
				 * to itself.  Finish the saves in flight
				 * first, and start one at a time from now
				 * on. */
				for (size_t k = 1; k < n; k++)
					upload_commit(
					    ex,
					    &ring[(head + k) %
						  STORE_SAVE_INFLIGHT_MAX],
					    pipe);
				window = 1;
			}
			upload_done(ex, u);
			head = (head + 1) % STORE_SAVE_INFLIGHT_MAX;
			n--;
		}
		if (!more)
			break;
		if (steps[i].kind != SYNC_STEP_COPY)
			continue;
		if (upload_start(ex, &steps[i], pipe,
				 &ring[(head + n) % STORE_SAVE_INFLIGHT_MAX]))
			n++;
	}
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
		if (!stopped(ex))
			run_uploads(ex, a, b);
		break;
	default:
		if (!stopped(ex))
			run_changes(ex, a, b);
		break;
	}
	/* No commit at the phase end: each step's effect is found again by
	 * the next run when its record is lost (the file carries its UID,
	 * the upload journal its APPEND, a flag or deletion is planned
	 * again and is a no-op), so the records wait for the batch or the
	 * folder's end -- a commit costs three or four fsyncs. */
}

/* ---- validity, journal recovery -----------------------------------------
 */

/* The repository name of a side, for its FolderValidity file. */
static const char *side_repo(const struct exec *ex, enum sync_side side)
{
	if (side == SYNC_LOCAL)
		return ex->job->local->repo;
	if (ex->remote)
		return ex->remote->repo;
	return ex->job->remote_repo;
}

static int validity_error(struct exec *ex, enum sync_side side, uint64_t saved,
			  uint64_t now, struct oim_err *err)
{
	const struct sync_folder_job *job = ex->job;
	const char *folder =
	    side == SYNC_REMOTE ? job->remote_name : job->local_name;
	const char *repo = side_repo(ex, side);
	char *vpath = NULL, *spath = NULL;
	struct oim_err e = OIM_ERR_INIT;

	if (status_validity_path(job->metadata_dir, repo, folder, &vpath, &e) <
	    0)
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

/* now[side]: the UIDVALIDITY each side has now (0: the driver knows
 * none).  The local scan must be done. */
static int check_validity(struct exec *ex, const uint64_t now_v[2],
			  struct oim_err *err)
{
	const struct sync_folder_job *job = ex->job;
	bool known = ex->list[SYNC_LOCAL].nr > 0 || status_count(ex->st) > 0;

	/* checked already with the same value (the hint's, then SELECT's) */
	if (now_v[SYNC_REMOTE] && now_v[SYNC_REMOTE] == ex->validity_checked)
		return 0;
	for (int side = 0; side < 2; side++) {
		const char *repo = side_repo(ex, (enum sync_side)side);
		const char *folder =
		    side == SYNC_REMOTE ? job->remote_name : job->local_name;
		uint64_t now = now_v[side], saved = 0;
		bool present = false;

		if (!now)
			continue; /* the driver does not know one */
		if (!repo)
			BUG("no repository name for the %s side",
			    side_name((enum sync_side)side));
		if (status_validity_read(job->metadata_dir, repo, folder,
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
		if (status_validity_write(job->metadata_dir, repo, folder, now,
					  !job->fsync, err) < 0)
			return -1;
	}
	ex->validity_checked = now_v[SYNC_REMOTE];
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
	struct status_journal_entry *v = status_journal_pending_copy(ex->jr, &n);
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
	status_journal_entries_free(v, n);
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
	/* Local sizes serve maxsize only (an upload's size is measured as
	 * it is read): without maxsize, no stat per Maildir message. */
	so.no_size = side == SYNC_LOCAL && !ex->job->plan.maxsize;
	so.labels = ex->job->labels != NULL;
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

static void state_value(const struct store_folder_state *fs, char *state,
			size_t scap)
{
	snprintf(state, scap, "%" PRIu32 ":%" PRIu32 ":%" PRIu32 ":%" PRIu64,
		 fs->uidvalidity, fs->uidnext, fs->exists, fs->highestmodseq);
}

static void fpr_value(const struct exec *ex, char *fpr, size_t fcap)
{
	snprintf(fpr, fcap, "%zu:%016" PRIx64, status_count(ex->st),
		 status_fingerprint(ex->st));
}

static void fast_values(const struct exec *ex,
			const struct store_folder_state *fs, char *state,
			size_t scap, char *fpr, size_t fcap)
{
	state_value(fs, state, scap);
	fpr_value(ex, fpr, fcap);
}

/* options under which a saved state can stand for an empty plan */
static bool opts_allow_skip(const struct sync_plan_opts *o)
{
	return !o->local_is_imap && !o->maxage_since && !o->maxage_cutoff &&
	       o->startdate_side == SYNC_STARTDATE_NONE;
}

static bool state_usable(const struct store_folder_state *fs,
			 const struct sync_plan_opts *o)
{
	return fs->highestmodseq && fs->uidnext && opts_allow_skip(o);
}

static bool fast_path_usable(const struct exec *ex)
{
	/* synclabels: a header edit changes neither flags nor names */
	return !ex->job->labels && state_usable(&ex->s0, &ex->opts);
}

/* fs and the status are as the last sync that left the server alone
 * saved them. */
static bool saved_state_is(const struct exec *ex,
			   const struct store_folder_state *fs)
{
	char state[STATUS_META_MAX_VALUE], fpr[STATUS_META_MAX_VALUE];
	const char *sv = status_meta_get(ex->st, META_STATE);
	const char *fv = status_meta_get(ex->st, META_FPR);

	if (!sv || !fv)
		return false;
	fast_values(ex, fs, state, sizeof(state), fpr, sizeof(fpr));
	return !strcmp(sv, state) && !strcmp(fv, fpr);
}

/* The local folder (scanned) has the UIDs and flags of the status: the
 * Maildir half of -q. */
static bool local_is_status(struct exec *ex, const struct sync_plan_opts *po)
{
	struct snap_arrays sa;
	struct sync_plan_opts o = *po;
	bool same;

	snap_fill(ex, &sa, false);
	o.remote_exists = sa.snap.status_nr;
	same = sync_plan_quick_unchanged(&sa.snap, &o);
	snap_release(&sa);
	return same;
}

static bool fast_unchanged(struct exec *ex)
{
	return fast_path_usable(ex) && saved_state_is(ex, &ex->s0) &&
	       local_is_status(ex, &ex->opts);
}

static void save_state(struct exec *ex, const struct store_folder_state *fs)
{
	char state[STATUS_META_MAX_VALUE], fpr[STATUS_META_MAX_VALUE];
	struct oim_err e = OIM_ERR_INIT;

	fast_values(ex, fs, state, sizeof(state), fpr, sizeof(fpr));
	const char *sv = status_meta_get(ex->st, META_STATE);
	const char *fv = status_meta_get(ex->st, META_FPR);
	if (sv && fv && !strcmp(sv, state) && !strcmp(fv, fpr))
		return;
	if (tx_begin(ex) < 0)
		return;
	/* committed by the caller, with the records it describes */
	if (status_meta_set(ex->st, META_STATE, state, &e) < 0 ||
	    status_meta_set(ex->st, META_FPR, fpr, &e) < 0)
		set_stop(ex, &e);
}

static int cmp_uid32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/*
 * The status now describes every message the remote scan listed, with
 * the flags the server has (after this run's changes; deleted ones
 * aside).  A saved state stands for "the plan would be empty", which
 * holds only then: a message the plan held back (read-only local,
 * maxsize, copy_ignore) or a flag it did not carry is not in the status,
 * and must not be hidden from a later run with other options.
 */
static bool status_matches_remote(const struct exec *ex)
{
	const struct store_msglist *rl = &ex->list[SYNC_REMOTE];
	uint32_t *del = xcalloc(ex->ndeferred + 1, sizeof(*del));
	bool ok = true;

	for (size_t i = 0; i < ex->ndeferred; i++)
		del[i] = ex->plan.steps[ex->deferred[i]].uid;
	oim_qsort(del, ex->ndeferred, sizeof(*del), cmp_uid32);
	for (size_t i = 0; ok && i < rl->nr; i++) {
		const struct status_rec *rec;
		if (ex->ndeferred && bsearch(&rl->v[i].uid, del, ex->ndeferred,
					     sizeof(*del), cmp_uid32))
			continue; /* expunged by this run */
		rec = status_get(ex->st, rl->v[i].uid);
		ok = rec && letters(rec->flags) == rl->v[i].flags;
	}
	free(del);
	return ok;
}

static bool in_ranges(const uint32_t *v, size_t n, uint32_t uid)
{
	for (size_t i = 0; i < n; i++)
		if (uid >= v[2 * i] && uid <= v[2 * i + 1])
			return true;
	return false;
}

static bool deferred_uid(const struct exec *ex, uint32_t uid)
{
	for (size_t i = 0; i < ex->ndeferred; i++)
		if (ex->plan.steps[ex->deferred[i]].uid == uid)
			return true;
	return false;
}

/*
 * After a sync that changed the server (uploads, flags, deletions): ask
 * what changed since the state seen at SELECT (CHANGEDSINCE, with
 * QRESYNC's VANISHED) and, when that is exactly what this run did -- every
 * message added or changed since is in the status with those flags, no
 * message the status knows has gone but the ones this run deleted -- keep
 * the state the server must have now for the next run's no-change check
 * (saved in sync_folder() once the deletions are recorded).
 *
 * Why that is safe: HIGHESTMODSEQ only grows, with every change by anyone
 * (QRESYNC servers count expunges too).  The state kept has the highest
 * MODSEQ seen in the answer, never more than the server's; any change by
 * someone else before the answer is in the answer (and fails the check),
 * any change after it leaves the server with a higher HIGHESTMODSEQ than
 * the one kept.  A value kept too low (our own expunges raise
 * HIGHESTMODSEQ past every message's MODSEQ) only costs one full sync.
 */
static void verify_changes(struct exec *ex)
{
	const struct sync_plan_summary *sum = &ex->res->sum;
	struct store_folder *rf = ex->f[SYNC_REMOTE];
	const struct store_folder_state *s0 = &ex->s0;
	struct store_msglist ch = {0};
	uint32_t *van = NULL;
	size_t nvan = 0, nnew = 0;
	uint64_t modseq = 0;
	uint32_t uidnext = s0->uidnext;
	uint32_t *uids = NULL;
	size_t nu = 0;
	struct oim_err e = OIM_ERR_INIT;
	bool ok = true;

	if (!state_usable(s0, &ex->opts) || !rf->ops->changes_since ||
	    ex->res->failed_messages || stopped(ex) ||
	    !(sum->copy[SYNC_REMOTE] || sum->del[SYNC_REMOTE] ||
	      sum->flags[SYNC_REMOTE]) ||
	    !status_matches_remote(ex))
		return;
	if (rf->ops->changes_since(rf, s0->highestmodseq, &ch, &modseq, &van,
				   &nvan, &e) < 0) {
		log_debug(OIM_DBG_SYNC, "folder %s: changes not checked: %s",
			  ex->job->remote_name, e.msg);
		return;
	}
	for (size_t i = 0; ok && i < ch.nr; i++) {
		const struct status_rec *rec = status_get(ex->st, ch.v[i].uid);
		ok = rec && letters(rec->flags) == ch.v[i].flags &&
		     !deferred_uid(ex, ch.v[i].uid);
		if (ch.v[i].uid >= s0->uidnext) {
			nnew++;
			if (ch.v[i].uid >= uidnext && ch.v[i].uid < UINT32_MAX)
				uidnext = ch.v[i].uid + 1;
		}
	}
	if (ok && nvan) {
		uids = status_uids(ex->st, &nu);
		for (size_t i = 0; ok && i < nu; i++)
			ok = !in_ranges(van, nvan, uids[i]) ||
			     deferred_uid(ex, uids[i]);
		free(uids);
	}
	if (ok && ex->ndeferred > (size_t)s0->exists + nnew)
		ok = false;
	log_debug(OIM_DBG_SYNC,
		  "folder %s: %zu messages changed, %zu UID ranges gone since "
		  "SELECT: %s",
		  ex->job->remote_name, ch.nr, nvan,
		  ok ? "all by this run" : "not only by this run");
	if (ok) {
		ex->post_state = *s0;
		ex->post_state.uidnext = uidnext;
		ex->post_state.exists =
		    (uint32_t)(s0->exists + nnew - ex->ndeferred);
		if (modseq > ex->post_state.highestmodseq)
			ex->post_state.highestmodseq = modseq;
		ex->post_ok = true;
	}
	store_msglist_release(&ch);
	free(van);
}

/* After a complete sync that changed nothing on the server. */
static void fast_save(struct exec *ex)
{
	const struct sync_plan_summary *sum = &ex->res->sum;

	if (!fast_path_usable(ex) || ex->res->failed_messages ||
	    sum->copy[SYNC_REMOTE] || sum->del[SYNC_REMOTE] ||
	    sum->flags[SYNC_REMOTE] || stopped(ex) ||
	    !status_matches_remote(ex))
		return;
	save_state(ex, &ex->s0);
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

static int open_status(struct exec *ex, struct oim_err *err)
{
	const struct sync_folder_job *job = ex->job;
	unsigned sflags = 0;

	if (job->dry_run)
		sflags |= STATUS_OPEN_READONLY;
	if (!job->fsync)
		sflags |= STATUS_OPEN_NOFSYNC;
	return status_open(job->account_dir, job->status_name, job->backend,
			   sflags, &ex->st, err);
}

static int open_local(struct exec *ex, struct oim_err *err)
{
	const struct sync_folder_job *job = ex->job;
	struct store *ls = job->local;
	unsigned lflags = STORE_OPEN_CREATE;

	if (ex->f[SYNC_LOCAL])
		return 0;
	/* Read-only local: the plan changes nothing there, but an uploaded
	 * message still gets its UID in its name (OfflineIMAP's
	 * change_message_uid() does that in a read-only repository too),
	 * so the folder is not opened read-only; it is not created either. */
	if (job->dry_run)
		lflags = STORE_OPEN_READONLY; /* create nothing */
	else if (job->plan.readonly[SYNC_LOCAL])
		lflags = 0;
	/* The folder is there on every run but the first: open it as it
	 * is, without the mkdir calls of creating what exists. */
	if ((lflags & STORE_OPEN_CREATE) &&
	    ls->ops->open_folder(ls, job->local_name, job->local_visible,
				 lflags & ~(unsigned)STORE_OPEN_CREATE,
				 &ex->f[SYNC_LOCAL], err) == 0)
		return 0;
	oim_err_clear(err);
	if (ls->ops->open_folder(ls, job->local_name, job->local_visible,
				 lflags, &ex->f[SYNC_LOCAL], err) < 0) {
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
static const char *side_repo(const struct exec *ex, enum sync_side side);

static int startdate_side(const struct exec *ex, const char **repo_r,
			  const char **folder_r)
{
	const struct sync_folder_job *job = ex->job;
	switch (ex->opts.startdate_side) {
	case SYNC_STARTDATE_REMOTE:
		*repo_r = side_repo(ex, SYNC_REMOTE);
		*folder_r = job->remote_name;
		return 1;
	case SYNC_STARTDATE_LOCAL:
		*repo_r = side_repo(ex, SYNC_LOCAL);
		*folder_r = job->local_name;
		return 1;
	default:
		return 0;
	}
}

static int startdate_load(struct exec *ex, struct oim_err *err)
{
	const char *repo, *folder;
	bool present;
	if (!startdate_side(ex, &repo, &folder))
		return 0;
	return status_startuid_read(ex->job->metadata_dir, repo, folder,
				    &present, &ex->opts.startdate_min_uid, err);
}

static int startdate_save(struct exec *ex, struct oim_err *err)
{
	const char *repo, *folder;
	uint32_t uid = ex->plan.startdate_min_uid_save;
	if (!uid || ex->job->dry_run || !startdate_side(ex, &repo, &folder))
		return 0;
	log_debug(OIM_DBG_SYNC, "folder %s: startdate: from UID %" PRIu32,
		  folder, uid);
	return status_startuid_write(ex->job->metadata_dir, repo, folder,
				     uid, !ex->job->fsync, err);
}

/* The remote store, connected now if the caller left that to us. */
static int need_remote(struct exec *ex, struct oim_err *err)
{
	const struct sync_folder_job *job = ex->job;

	if (ex->remote)
		return 0;
	if (!job->remote_connect)
		BUG("sync_folder without a remote store");
	if (job->remote_connect(job->remote_connect_ctx, &ex->remote, err) <
	    0) {
		ex->remote = NULL;
		if (err->sev < OIM_SEV_ACCOUNT)
			err->sev = OIM_SEV_ACCOUNT;
		return -1;
	}
	return 0;
}

static int open_all(struct exec *ex, struct oim_err *err)
{
	const struct sync_folder_job *job = ex->job;
	unsigned sflags = 0, rflags = 0;

	if (job->dry_run)
		sflags |= STATUS_OPEN_READONLY;
	if (!job->fsync)
		sflags |= STATUS_OPEN_NOFSYNC;
	if (status_journal_open(job->account_dir, job->status_name, sflags,
				&ex->jr, err) < 0)
		return -1;
	if (job->plan.readonly[SYNC_REMOTE] || job->dry_run)
		rflags |= STORE_OPEN_READONLY;
	else if (ex->expunge)
		rflags |= STORE_OPEN_EXPUNGE;
	if (need_remote(ex, err) < 0)
		return -1;
	if (ex->remote->ops->open_folder(ex->remote, job->remote_name, NULL,
					 rflags, &ex->f[SYNC_REMOTE],
					 err) < 0) {
		ex->f[SYNC_REMOTE] = NULL;
		return -1;
	}
	return open_local(ex, err);
}

/*
 * The account's listing told the remote folder's state (job->remote_hint,
 * sync.h): decide without opening the remote folder.  Returns 1 when the
 * folder was skipped, 0 to go on with the full sync (the local folder may
 * then be open and scanned already), -1 on error.
 *
 * Skipped when the state equals the one saved after the last sync that
 * left the server alone, with the status as that sync left it
 * (fingerprint), and the local folder equals the status: as the fast path
 * after SELECT, one round trip less.  The upload journal is not read: a
 * pending upload leaves a local message without UID (the status then
 * differs from the folder), or one the status learnt after that sync
 * (the fingerprint differs), and its APPEND changed UIDNEXT.  The
 * FolderValidity files are checked with the listed UIDVALIDITY, as the
 * full sync does with SELECT's.
 */
static int hint_skip(struct exec *ex, struct oim_err *err)
{
	const struct sync_folder_job *job = ex->job;
	const struct store_folder_state *h = job->remote_hint;
	const struct sync_plan_opts *o = &job->plan;
	bool fast, quick;

	if (!h || job->labels || o->local_is_imap || o->maxage_since ||
	    o->maxage_cutoff || o->startdate_side != SYNC_STARTDATE_NONE)
		return 0;
	fast = state_usable(h, o) && saved_state_is(ex, h);
	/* -q: the message count is enough (IMAP.quickchanged()) */
	quick = o->quick && h->exists == status_count(ex->st);
	if (!fast && !quick)
		return 0;
	if (open_local(ex, err) < 0)
		return -1;
	if (ex->f[SYNC_LOCAL]->store->ops->kind &&
	    !strcmp(ex->f[SYNC_LOCAL]->store->ops->kind, "IMAP"))
		return 0; /* an IMAP local side: the full path decides */
	if (scan(ex, SYNC_LOCAL, err) < 0)
		return -1;
	ex->local_scanned = true;
	{
		uint64_t now[2];
		now[SYNC_REMOTE] = h->uidvalidity;
		now[SYNC_LOCAL] = ex->f[SYNC_LOCAL]->state.uidvalidity;
		if (check_validity(ex, now, err) < 0)
			return -1;
	}
	if (!local_is_status(ex, o))
		return 0;
	if (fast) {
		log_debug(OIM_DBG_SYNC,
			  "folder %s: listed server state and local folder as "
			  "after the last sync: nothing to do, not selected",
			  job->remote_name);
		ex->res->unchanged_skipped = true;
	} else {
		log_debug(OIM_DBG_SYNC,
			  "folder %s: -q: unchanged (listed state), not "
			  "selected",
			  job->remote_name);
		ex->res->quick_skipped = true;
	}
	return 1;
}

void sync_folder_precheck(const struct sync_folder_job *job,
			  struct sync_folder_precheck *pc)
{
	struct sync_folder_result res;
	struct exec ex = {.job = job, .res = &res};
	struct store *ls = job->local;
	struct oim_err e = OIM_ERR_INIT;
	char fpr[STATUS_META_MAX_VALUE];
	const char *sv, *fv;
	bool present = false;
	uint64_t saved = 0, now;

	memset(pc, 0, sizeof(*pc));
	memset(&res, 0, sizeof(res));
	if (job->labels || !opts_allow_skip(&job->plan))
		return;
	if (status_open(job->account_dir, job->status_name, job->backend,
			STATUS_OPEN_READONLY, &ex.st, &e) < 0) {
		ex.st = NULL;
		goto out;
	}
	sv = status_meta_get(ex.st, META_STATE);
	fv = status_meta_get(ex.st, META_FPR);
	if (!sv || !fv || strlen(sv) >= sizeof(pc->state))
		goto out;
	fpr_value(&ex, fpr, sizeof(fpr));
	if (strcmp(fv, fpr))
		goto out;
	if (ls->ops->kind && !strcmp(ls->ops->kind, "IMAP"))
		goto out;
	if (ls->ops->open_folder(ls, job->local_name, job->local_visible,
				 STORE_OPEN_READONLY, &ex.f[SYNC_LOCAL],
				 &e) < 0) {
		ex.f[SYNC_LOCAL] = NULL;
		goto out;
	}
	ex.opts = job->plan;
	if (scan(&ex, SYNC_LOCAL, &e) < 0 || ex.skipped ||
	    !local_is_status(&ex, &job->plan))
		goto out;
	now = ex.f[SYNC_LOCAL]->state.uidvalidity;
	if (now && (status_validity_read(job->metadata_dir, ls->repo,
					 job->local_name, &present, &saved,
					 &e) < 0 ||
		    !present || saved != now))
		goto out;
	snprintf(pc->state, sizeof(pc->state), "%s", sv);
	pc->usable = true;
out:
	if (ex.f[SYNC_LOCAL] &&
	    ls->ops->close_folder(ex.f[SYNC_LOCAL], false, &e) < 0)
		pc->usable = false;
	store_msglist_release(&ex.list[SYNC_LOCAL]);
	status_close(ex.st);
}

/*
 * The precheck (sync.h) and the listed remote state say that nothing
 * changed since the last sync: skip the folder before opening anything.
 * The remote FolderValidity file must hold the listed UIDVALIDITY (the
 * precheck checked the local one); anything else, or a mismatch, is left
 * to the usual path, which reports it.
 */
static bool precheck_skip(struct exec *ex)
{
	const struct sync_folder_job *job = ex->job;
	const struct store_folder_state *h = job->remote_hint;
	const struct sync_folder_precheck *pc = job->precheck;
	char state[STATUS_META_MAX_VALUE];
	struct oim_err e = OIM_ERR_INIT;
	bool present = false;
	uint64_t saved = 0;

	if (!h || !pc || !pc->usable || job->labels ||
	    !state_usable(h, &job->plan))
		return false;
	state_value(h, state, sizeof(state));
	if (strcmp(state, pc->state))
		return false;
	if (status_validity_read(job->metadata_dir, side_repo(ex, SYNC_REMOTE),
				 job->remote_name, &present, &saved, &e) < 0 ||
	    !present || saved != h->uidvalidity)
		return false;
	log_debug(OIM_DBG_SYNC,
		  "folder %s: listed server state and local folder (checked "
		  "while connecting) as after the last sync: nothing to do, "
		  "not selected",
		  job->remote_name);
	ex->res->unchanged_skipped = true;
	return true;
}

static int sync_body(struct exec *ex, struct oim_err *err)
{
	const struct sync_folder_job *job = ex->job;
	struct store_folder *rf, *lf;
	struct snap_arrays sa;
	size_t i, a;

	if (precheck_skip(ex))
		return 0;
	if (open_status(ex, err) < 0)
		return -1;
	if (job->remote_hint) {
		int r = hint_skip(ex, err);
		if (r)
			return r < 0 ? -1 : 0;
	}
	if (open_all(ex, err) < 0)
		return -1;
	rf = ex->f[SYNC_REMOTE];
	lf = ex->f[SYNC_LOCAL];
	ex->s0 = rf->state;
	ex->lr = (struct sync_labels_run){
	    .job = job,
	    .f = {rf, lf},
	    .list = {&ex->list[SYNC_REMOTE], &ex->list[SYNC_LOCAL]},
	    .st = ex->st};
	log_debug(OIM_DBG_SYNC,
		  "folder %s: remote UIDVALIDITY %" PRIu32 " UIDNEXT %" PRIu32
		  " EXISTS %" PRIu32 "; status %zu records%s",
		  job->remote_name, rf->state.uidvalidity, rf->state.uidnext,
		  rf->state.exists, status_count(ex->st),
		  status_is_new(ex->st) ? " (new)" : "");

	if (!ex->local_scanned && scan(ex, SYNC_LOCAL, err) < 0)
		return -1;
	ex->local_scanned = true;
	{
		uint64_t now[2];
		now[SYNC_REMOTE] = rf->state.uidvalidity;
		now[SYNC_LOCAL] = lf->state.uidvalidity;
		if (check_validity(ex, now, err) < 0)
			return -1;
	}
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
		/* GmailMaildir.quickchanged(): newer mtimes count too (and
		 * the planner must not skip the folder for -q either) */
		if (same && job->labels && sync_labels_local_changed(&ex->lr)) {
			same = false;
			ex->opts.quick = false;
		}
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
		if (job->labels && sync_labels_passes(&ex->lr, err) < 0)
			return -1;
		return 0;
	}

	for (a = 0; a < ex->plan.nr && !stopped(ex); a = i) {
		for (i = a; i < ex->plan.nr &&
			    ex->plan.steps[i].phase == ex->plan.steps[a].phase;
		     i++)
			;
		run_phase(ex, a, i);
	}
	if (job->labels && !stopped(ex)) {
		struct oim_err e = OIM_ERR_INIT;
		if (sync_labels_passes(&ex->lr, &e) < 0)
			set_stop(ex, &e);
	}
	fast_save(ex);
	verify_changes(ex);
	if (stopped(ex)) {
		*err = ex->stop;
		return -1;
	}
	return 0;
}

int sync_folder(const struct sync_folder_job *job,
		struct sync_folder_result *res, struct oim_err *err)
{
	struct exec ex = {.job = job, .res = res, .remote = job->remote};
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
	/* Even after an account error: the recorded steps did succeed.
	 * With the remote folder open, in one commit after its close. */
	if (ex.in_tx && !ex.f[SYNC_REMOTE] && tx_commit(&ex) < 0 && ret == 0) {
		*err = ex.stop;
		ret = -1;
	}
	if (ex.f[SYNC_REMOTE]) {
		bool dead = ret < 0 && err->sev >= OIM_SEV_ACCOUNT;
		int rc = ex.remote->ops->close_folder(ex.f[SYNC_REMOTE],
						      ex.expunge && !dead, &e);
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
		/* the status is final: the server state this run left */
		if (rc == 0 && ret == 0 && ex.post_ok && !stopped(&ex))
			save_state(&ex, &ex.post_state);
		if (ex.in_tx && tx_commit(&ex) < 0 && ret == 0) {
			*err = ex.stop;
			ret = -1;
		}
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
	res->failed_messages += ex.lr.failed;

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
