/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * folder-labels.c - Gmail label sync of one folder (folder-labels.h).
 */
#include "folder-labels.h"

#include <inttypes.h>

#include "../util/log.h"

static const struct labelset *ignored(const struct sync_labels_run *r)
{
	return &r->job->labels->ignore;
}

static char *format(const struct labelset *s)
{
	struct strbuf sb = STRBUF_INIT;
	labelset_format(s, ", ", &sb);
	return strbuf_detach(&sb, NULL);
}

/* The status spelling s minus ignorelabels. */
static void parse_minus_ignored(const struct sync_labels_run *r, const char *s,
				struct labelset *out)
{
	struct labelset all = LABELSET_INIT;
	labelset_parse(&all, s, ',');
	labelset_minus(&all, ignored(r), out);
	labelset_release(&all);
}

static void msg_failed(struct sync_labels_run *r, const char *what,
		       uint32_t uid, const struct oim_err *e)
{
	log_error("%s: folder %s: %s labels of UID %" PRIu32 " failed: %s",
		  r->job->account, r->job->remote_name, what, uid, e->msg);
	r->failed++;
}

/*
 * Make local message lm's labels R (plus the ignored labels its header
 * has), unless the header says R already (GmailMaildir.savemessagelabels).
 */
static int write_local(struct sync_labels_run *r, struct store_msg *lm,
		       const struct labelset *want, bool *written_r,
		       struct oim_err *err)
{
	struct store_folder *lf = r->f[SYNC_LOCAL];
	struct labelset old = LABELSET_INIT, keep = LABELSET_INIT,
			oldv = LABELSET_INIT, next = LABELSET_INIT;
	int rc;

	*written_r = false;
	rc = lf->ops->labels_read(lf, lm, &old, err);
	if (!rc) {
		labelset_and(&old, ignored(r), &keep);
		labelset_minus(&old, ignored(r), &oldv);
		if (!labelset_equal(&oldv, want)) {
			labelset_union(&next, want);
			labelset_union(&next, &keep);
			rc = lf->ops->labels_write(lf, lm, &next, err);
			*written_r = rc == 0;
		}
	}
	labelset_release(&old);
	labelset_release(&keep);
	labelset_release(&oldv);
	labelset_release(&next);
	return rc;
}

int sync_labels_download_begin(struct sync_labels_run *r,
			       const struct store_msg *rm,
			       struct store_writer *w, struct oim_err *err)
{
	struct store_folder *lf = r->f[SYNC_LOCAL];
	struct labelset want = LABELSET_INIT;
	int rc;

	if (!rm->labels || !lf->ops->save_labels)
		return 0;
	parse_minus_ignored(r, rm->labels, &want);
	rc = lf->ops->save_labels(w, &want, err);
	labelset_release(&want);
	return rc;
}

int sync_labels_downloaded(struct sync_labels_run *r,
			   const struct store_msg *rm, const char *id,
			   struct oim_err *err)
{
	struct store_folder *lf = r->f[SYNC_LOCAL];
	struct store_msg lm = {0};
	struct labelset want = LABELSET_INIT;
	char *s = NULL;
	int rc;

	/* not known: the label pass of a later run writes them */
	if (!rm->labels)
		return 0;
	/* Gmail.py getmessage(): the header always, even with no label */
	parse_minus_ignored(r, rm->labels, &want);
	lm.uid = rm->uid;
	lm.id = (char *)id;
	{
		/* written with the message (save_labels)?  Then this only
		 * reads the header back for the mtime */
		struct labelset now = LABELSET_INIT, nowv = LABELSET_INIT;
		bool done = false;
		if (lf->ops->save_labels &&
		    !lf->ops->labels_read(lf, &lm, &now, err)) {
			labelset_minus(&now, ignored(r), &nowv);
			done = labelset_equal(&nowv, &want);
		}
		labelset_release(&now);
		labelset_release(&nowv);
		oim_err_clear(err);
		rc = done ? 0 : lf->ops->labels_write(lf, &lm, &want, err);
	}
	if (!rc) {
		s = format(&want);
		rc = status_set_labels(r->st, rm->uid, s, lm.mtime, err);
		if (rc < 0 && err->sev < OIM_SEV_FOLDER)
			err->sev = OIM_SEV_FOLDER; /* the status broke */
	} else if (err->sev <= OIM_SEV_MESSAGE) {
		/* the message is stored; the label pass of the next run
		 * writes the header */
		msg_failed(r, "writing the", rm->uid, err);
		rc = 0;
	}
	free(s);
	labelset_release(&want);
	return rc;
}

int sync_labels_uploaded(struct sync_labels_run *r, struct store_msg *lm,
			 struct oim_err *err)
{
	struct store_folder *lf = r->f[SYNC_LOCAL], *rf = r->f[SYNC_REMOTE];
	struct labelset all = LABELSET_INIT, send = LABELSET_INIT;
	struct store_msg one = {0}, *msgs = &one;
	int rc;

	rc = lf->ops->labels_read(lf, lm, &all, err);
	if (!rc) {
		labelset_minus(&all, ignored(r), &send);
		one.uid = lm->uid;
		rc = rf->ops->labels_change(rf, &msgs, 1, &send, true, err);
	}
	if (!rc) {
		char *s = format(&send);
		rc = status_set_labels(r->st, lm->uid, s, lm->mtime, err);
		free(s);
		if (rc < 0 && err->sev < OIM_SEV_FOLDER)
			err->sev = OIM_SEV_FOLDER;
	} else if (err->sev <= OIM_SEV_MESSAGE) {
		msg_failed(r, "uploading the", lm->uid, err);
		rc = 0;
	}
	labelset_release(&all);
	labelset_release(&send);
	return rc;
}

/* ---- the passes ---- */

static int cmp_msgp(const void *a, const void *b)
{
	const struct store_msg *x = *(const struct store_msg *const *)a;
	const struct store_msg *y = *(const struct store_msg *const *)b;
	return x->uid < y->uid ? -1 : x->uid > y->uid;
}

/* Messages of a list with a UID, sorted by UID. */
static struct store_msg **by_uid(struct store_msglist *l, size_t *n_r)
{
	struct store_msg **v = xcalloc(l->nr + 1, sizeof(*v));
	size_t n = 0;
	for (size_t i = 0; i < l->nr; i++)
		if (l->v[i].uid)
			v[n++] = &l->v[i];
	oim_qsort(v, n, sizeof(*v), cmp_msgp);
	*n_r = n;
	return v;
}

static struct store_msg *lookup(struct store_msg **v, size_t n, uint32_t uid)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid]->uid == uid)
			return v[mid];
		if (v[mid]->uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int pass_r2l(struct sync_labels_run *r, struct store_msg **lv, size_t ln,
		    struct oim_err *err)
{
	struct store_msglist *rl = r->list[SYNC_REMOTE];
	int rc = 0;

	for (size_t i = 0; i < rl->nr && !rc; i++) {
		struct store_msg *rm = &rl->v[i], *lm;
		const struct status_rec *rec = status_get(r->st, rm->uid);
		struct labelset want = LABELSET_INIT, had = LABELSET_INIT;
		struct oim_err e = OIM_ERR_INIT;
		bool written;

		/* labels not known (a list without X-GM-LABELS): they
		 * are not "none" */
		if (!rm->labels || !rec || !(lm = lookup(lv, ln, rm->uid)))
			continue;
		parse_minus_ignored(r, rm->labels, &want);
		parse_minus_ignored(r, rec->labels, &had);
		if (!labelset_equal(&want, &had)) {
			struct strbuf sb = STRBUF_INIT;
			labelset_format(&want, ", ", &sb);
			/* OfflineIMAP's ui.settinglabels() */
			log_info(
			    "%s%s: folder %s: setting labels of UID %" PRIu32
			    " on local: %s",
			    r->job->dry_run ? "[DRYRUN] " : "", r->job->account,
			    r->job->remote_name, rm->uid,
			    sb.len ? sb.buf : "(none)");
			strbuf_release(&sb);
			if (r->job->dry_run) {
				/* reported only */
			} else if (write_local(r, lm, &want, &written, &e) <
				   0) {
				if (e.sev > OIM_SEV_MESSAGE) {
					*err = e;
					rc = -1;
				} else {
					msg_failed(r, "writing the", rm->uid,
						   &e);
				}
			} else {
				char *s = format(&want);
				if (written)
					r->changed[SYNC_LOCAL]++;
				rc = status_set_labels(r->st, rm->uid, s,
						       lm->mtime, err);
				free(s);
			}
		}
		labelset_release(&want);
		labelset_release(&had);
	}
	return rc;
}

struct cand {
	struct store_msg *lm;
	struct labelset now;
	bool failed;
};

/* Send label 'lab' (add or remove) for the candidates whose delta holds
 * it. */
static int send_label(struct sync_labels_run *r, struct cand *c, size_t nc,
		      const char *lab, bool add, struct oim_err *err)
{
	struct store_folder *rf = r->f[SYNC_REMOTE];
	struct store_msg **msgs = xcalloc(nc + 1, sizeof(*msgs));
	size_t *who = xcalloc(nc + 1, sizeof(*who));
	struct labelset one = LABELSET_INIT;
	size_t n = 0;
	int rc = 0;

	for (size_t i = 0; i < nc; i++) {
		const struct status_rec *rec = status_get(r->st, c[i].lm->uid);
		struct labelset had = LABELSET_INIT;
		bool now, before;
		labelset_parse(&had, rec ? rec->labels : NULL, ',');
		now = labelset_has(&c[i].now, lab);
		before = labelset_has(&had, lab);
		labelset_release(&had);
		if (add ? now && !before : before && !now) {
			who[n] = i;
			msgs[n++] = c[i].lm;
		}
	}
	labelset_add(&one, lab, strlen(lab));
	if (n && !labelset_has(ignored(r), lab)) {
		struct oim_err e = OIM_ERR_INIT;
		/* OfflineIMAP's ui.addinglabels() / deletinglabels() */
		log_info("%s%s: folder %s: %s label %s %s %zu message%s on "
			 "remote",
			 r->job->dry_run ? "[DRYRUN] " : "", r->job->account,
			 r->job->remote_name, add ? "adding" : "deleting", lab,
			 add ? "to" : "from", n, n == 1 ? "" : "s");
		if (r->job->dry_run) {
			/* reported only */
		} else if (rf->ops->labels_change(rf, msgs, n, &one, add, &e) <
			   0) {
			if (e.sev > OIM_SEV_MESSAGE) {
				*err = e;
				rc = -1;
			} else {
				for (size_t k = 0; k < n; k++) {
					if (!c[who[k]].failed)
						msg_failed(r, "changing the",
							   msgs[k]->uid, &e);
					c[who[k]].failed = true;
				}
			}
		}
	}
	labelset_release(&one);
	free(msgs);
	free(who);
	return rc;
}

static int pass_l2r(struct sync_labels_run *r, struct store_msg **rv, size_t rn,
		    struct oim_err *err)
{
	struct store_folder *lf = r->f[SYNC_LOCAL];
	struct store_msglist *ll = r->list[SYNC_LOCAL];
	struct cand *c = xcalloc(ll->nr + 1, sizeof(*c));
	struct labelset delta = LABELSET_INIT;
	size_t nc = 0;
	int rc = 0;

	for (size_t i = 0; i < ll->nr; i++) {
		struct store_msg *lm = &ll->v[i];
		const struct status_rec *rec;
		struct oim_err e = OIM_ERR_INIT;

		if (!lm->uid || !lookup(rv, rn, lm->uid))
			continue;
		rec = status_get(r->st, lm->uid);
		if (!rec || lm->mtime <= rec->mtime)
			continue;
		c[nc].lm = lm;
		if (lf->ops->labels_read(lf, lm, &c[nc].now, &e) < 0) {
			labelset_release(&c[nc].now);
			if (e.sev > OIM_SEV_MESSAGE) {
				*err = e;
				rc = -1;
				goto out;
			}
			msg_failed(r, "reading the", lm->uid, &e);
			continue;
		}
		nc++;
	}
	/* every label that changed anywhere, each side of the change */
	for (size_t i = 0; i < nc; i++) {
		const struct status_rec *rec = status_get(r->st, c[i].lm->uid);
		struct labelset had = LABELSET_INIT, d = LABELSET_INIT;
		labelset_parse(&had, rec->labels, ',');
		labelset_minus(&c[i].now, &had, &d);
		labelset_union(&delta, &d);
		labelset_minus(&had, &c[i].now, &d);
		labelset_union(&delta, &d);
		labelset_release(&had);
		labelset_release(&d);
	}
	for (size_t k = 0; k < delta.nr && !rc; k++)
		if (send_label(r, c, nc, delta.v[k], true, err) < 0 ||
		    send_label(r, c, nc, delta.v[k], false, err) < 0)
			rc = -1;
	/* the status last: a failure above is seen again next time */
	for (size_t i = 0; i < nc && !rc && !r->job->dry_run; i++) {
		const struct status_rec *rec;
		struct labelset had = LABELSET_INIT;
		char *s;
		if (c[i].failed)
			continue;
		rec = status_get(r->st, c[i].lm->uid);
		labelset_parse(&had, rec->labels, ',');
		if (!labelset_equal(&had, &c[i].now))
			r->changed[SYNC_REMOTE]++;
		labelset_release(&had);
		s = format(&c[i].now);
		rc = status_set_labels(r->st, c[i].lm->uid, s, c[i].lm->mtime,
				       err);
		free(s);
	}
out:
	for (size_t i = 0; i < nc; i++)
		labelset_release(&c[i].now);
	free(c);
	labelset_release(&delta);
	return rc;
}

int sync_labels_passes(struct sync_labels_run *r, struct oim_err *err)
{
	const struct sync_plan_opts *o = &r->job->plan;
	size_t ln, rn;
	struct store_msg **lv = by_uid(r->list[SYNC_LOCAL], &ln);
	struct store_msg **rv = by_uid(r->list[SYNC_REMOTE], &rn);
	int rc = 0;

	if (r->job->dry_run) {
		/* what would change, reported; nothing written */
		if (!o->readonly[SYNC_LOCAL])
			rc = pass_r2l(r, lv, ln, err);
		if (!rc && !o->readonly[SYNC_REMOTE])
			rc = pass_l2r(r, rv, rn, err);
		goto out;
	}
	if (status_begin(r->st, err) < 0) {
		rc = -1;
		goto out;
	}
	if (!o->readonly[SYNC_LOCAL])
		rc = pass_r2l(r, lv, ln, err);
	/* the server's changes are recorded before ours are sent */
	if (status_commit(r->st, err) < 0)
		rc = -1;
	if (rc || o->readonly[SYNC_REMOTE])
		goto out;
	if (status_begin(r->st, err) < 0) {
		rc = -1;
		goto out;
	}
	rc = pass_l2r(r, rv, rn, err);
	if (status_commit(r->st, err) < 0)
		rc = -1;
out:
	free(lv);
	free(rv);
	if (rc < 0 && err->sev < OIM_SEV_FOLDER)
		err->sev = OIM_SEV_FOLDER;
	return rc;
}

bool sync_labels_local_changed(const struct sync_labels_run *r)
{
	const struct store_msglist *ll = r->list[SYNC_LOCAL];
	for (size_t i = 0; i < ll->nr; i++) {
		const struct status_rec *rec;
		if (!ll->v[i].uid)
			continue;
		rec = status_get(r->st, ll->v[i].uid);
		if (rec && ll->v[i].mtime > rec->mtime)
			return true;
	}
	return false;
}
