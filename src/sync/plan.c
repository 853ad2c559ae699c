/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * plan.c - OfflineIMAP's folder sync as a pure function (see plan.h).
 *
 * The planner replays what OfflineIMAP 8 does in accounts.syncfolder() and
 * BaseFolder.syncmessagesto() on an in-memory model of the three lists:
 * pass remote->local (copy, delete, flags), then pass local->remote (copy,
 * delete, flags), each phase seeing the changes of the previous ones, as the
 * Python code mutates its message lists while it goes.  Replaying instead of
 * deriving a closed formula keeps the odd corners (copy_ignore, one side
 * read-only, sync_deletes = no) exactly OfflineIMAP's.
 *
 * Where oimap deliberately differs from OfflineIMAP, always towards deleting
 * and forgetting less:
 *
 *  - maxsize, maxage and startdate: OfflineIMAP filters each side's list on
 *    its own, so a message excluded on one side only (the remote counts
 *    CRLF bytes, the Maildir LF bytes; SMALLER is strict, the Maildir test
 *    is not) looks deleted there and gets deleted on the other side, and
 *    status records outside the window are dropped.  Here a UID whose copy
 *    on either side is not considered is left out of the plan entirely:
 *    no copy, no deletion, no flag change, and its status record is kept.
 *  - Deletion order: OfflineIMAP drops the status record before deleting
 *    the message.  A crash in between makes the next run upload the
 *    message again.  Here the record is dropped after the deletion (step
 *    st_op); a crash in between leaves a record of a message gone from both
 *    sides, which the next run simply forgets.  Nothing is lost either way;
 *    this way nothing comes back either.
 *  - The empty-side safety valve (plan.h) does not exist in OfflineIMAP.
 *  - copy_ignore only stops copies.  OfflineIMAP also skips the status
 *    record of an ignored UID that both sides already have: the first
 *    run merges the flags without recording them, the next run undoes
 *    part of that (the sync is not idempotent).  Here it is linked like
 *    any message both sides have.
 *  - Duplicate UIDs: OfflineIMAP's dicts keep the last one silently; here
 *    they are an error naming the files, so the user can sort them out.
 */
#include "plan.h"

#include <limits.h>

#define NO_IDX SYNC_NO_IDX
#define DAY    86400

int sync_flags_parse(const char *s, size_t len, sync_flags_t *flags_r)
{
	sync_flags_t f = 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) {
			*flags_r = f;
			return -1;
		}
		f |= SYNC_FLAG(c);
	}
	*flags_r = f;
	return 0;
}

char *sync_flags_format(sync_flags_t flags, char buf[SYNC_FLAGS_STR_MAX])
{
	size_t n = 0;
	for (int i = 0; i < 52; i++)
		if (flags & ((sync_flags_t)1 << i))
			buf[n++] = (char)(i < 26 ? 'A' + i : 'a' + (i - 26));
	buf[n] = '\0';
	return buf;
}

static const char *const step_kind_names[SYNC_STEP_KIND_NR] = {
    [SYNC_STEP_COPY] = "copy",	   [SYNC_STEP_LINK] = "link",
    [SYNC_STEP_DELETE] = "delete", [SYNC_STEP_FORGET] = "forget",
    [SYNC_STEP_FLAGS] = "flags",
};

const char *sync_step_kind_name(enum sync_step_kind kind)
{
	if ((unsigned)kind >= SYNC_STEP_KIND_NR)
		return "?";
	return step_kind_names[kind];
}

void sync_plan_maxage_cutoff(int64_t cutoff, struct sync_plan_opts *opts)
{
	/*
	 * accounts.py cachemessagelists_upto_date(): the remote list is
	 * SEARCH SINCE <day of cutoff + 1 day> (IMAP SINCE is day-granular);
	 * Maildir messages are kept when their name's timestamp is not
	 * earlier than the cutoff itself (Maildir._iswithintime).
	 */
	int64_t next = cutoff + DAY;
	int64_t since = next - ((next % DAY) + DAY) % DAY;
	opts->maxage_cutoff = cutoff;
	opts->maxage_since = since > 0 ? since : 1;
}

void sync_plan_maxage_window(int64_t now, unsigned days,
			     struct sync_plan_opts *opts)
{
	if (!days) {
		opts->maxage_since = opts->maxage_cutoff = 0;
		return;
	}
	/* Folder.getmaxage(): gmtime(now - maxage days) */
	sync_plan_maxage_cutoff(now - (int64_t)days * DAY, opts);
}

void sync_plan_release(struct sync_plan *plan)
{
	free(plan->steps);
	memset(plan, 0, sizeof(*plan));
}

/* ---- sorted views of the inputs ---------------------------------------- */

struct uid_idx {
	uint32_t uid;
	size_t idx;
};

static int cmp_uid_idx(const void *a, const void *b)
{
	const struct uid_idx *x = a, *y = b;
	if (x->uid != y->uid)
		return x->uid < y->uid ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static bool in_sorted(const uint32_t *v, size_t nr, uint32_t uid)
{
	return v && bsearch(&uid, v, nr, sizeof(*v), cmp_u32) != NULL;
}

/* One UID across the three lists, with its state as the passes go. */
struct entry {
	uint32_t uid;
	size_t r, l, s; /* indexes into the snapshot, NO_IDX if absent */
	bool ok;	/* considered (filters) */
	bool rp, lp, sp;
	sync_flags_t rf, lf, sf;
	int64_t smtime;
};

struct planner {
	const struct sync_snapshot *snap;
	const struct sync_plan_opts *o;
	struct sync_plan *p;
	struct entry *e;
	size_t nr;
	size_t *newloc; /* local messages without UID, considered */
	size_t newloc_nr;
	uint32_t *ignore[2];
};

static bool remote_size_ok(const struct sync_plan_opts *o,
			   const struct sync_remote_msg *m)
{
	/* IMAP.py: SEARCH SMALLER maxsize, strictly smaller */
	return !o->maxsize || m->size < o->maxsize;
}

static bool local_size_ok(const struct sync_plan_opts *o,
			  const struct sync_local_msg *m)
{
	/* Maildir.py: skipped when getsize() > maxsize */
	return !o->maxsize || m->size <= o->maxsize;
}

static uint32_t local_native(const struct sync_local_msg *m)
{
	return m->native_uid ? m->native_uid : m->uid;
}

static int sort_unique(struct uid_idx **v_r, size_t nr, const char *what,
		       const struct sync_snapshot *snap, struct oim_err *err)
{
	struct uid_idx *v = *v_r;
	oim_qsort(v, nr, sizeof(*v), cmp_uid_idx);
	for (size_t i = 1; i < nr; i++) {
		if (v[i].uid != v[i - 1].uid)
			continue;
		if (snap && what[0] == 'l') {
			const char *a = snap->local[v[i - 1].idx].id;
			const char *b = snap->local[v[i].idx].id;
			return oim_error(err, OIM_SEV_FOLDER, OIM_E_GENERIC,
					 "two local messages have UID %u: "
					 "'%s' and '%s'; remove or rename one",
					 v[i].uid, a ? a : "?", b ? b : "?");
		}
		return oim_error(err, OIM_SEV_FOLDER,
				 what[0] == 'r' ? OIM_E_PROTOCOL : OIM_E_STATUS,
				 "%s lists UID %u twice", what, v[i].uid);
	}
	return 0;
}

/* Collect, check and merge the three lists into p->e sorted by UID. */
static int merge_inputs(struct planner *pl, struct oim_err *err)
{
	const struct sync_snapshot *sn = pl->snap;
	struct uid_idx *r = xcalloc(sn->remote_nr + 1, sizeof(*r));
	struct uid_idx *l = xcalloc(sn->local_nr + 1, sizeof(*l));
	struct uid_idx *s = xcalloc(sn->status_nr + 1, sizeof(*s));
	size_t rn = 0, ln = 0, sn_ = 0;
	int ret = -1;

	for (size_t i = 0; i < sn->remote_nr; i++) {
		if (!sn->remote[i].uid) {
			oim_error(err, OIM_SEV_FOLDER, OIM_E_PROTOCOL,
				  "remote folder lists a message with UID 0");
			goto out;
		}
		r[rn++] = (struct uid_idx){sn->remote[i].uid, i};
	}
	for (size_t i = 0; i < sn->local_nr; i++)
		if (sn->local[i].uid)
			l[ln++] = (struct uid_idx){sn->local[i].uid, i};
	for (size_t i = 0; i < sn->status_nr; i++) {
		if (!sn->status[i].uid) {
			oim_error(err, OIM_SEV_FOLDER, OIM_E_STATUS,
				  "status cache has a record with UID 0");
			goto out;
		}
		s[sn_++] = (struct uid_idx){sn->status[i].uid, i};
	}
	if (sort_unique(&r, rn, "remote folder", NULL, err) < 0 ||
	    sort_unique(&l, ln, "local folder", sn, err) < 0 ||
	    sort_unique(&s, sn_, "status cache", NULL, err) < 0)
		goto out;

	pl->e = xcalloc(rn + ln + sn_ + 1, sizeof(*pl->e));
	size_t i = 0, j = 0, k = 0;
	while (i < rn || j < ln || k < sn_) {
		uint32_t u = UINT32_MAX;
		if (i < rn && r[i].uid < u)
			u = r[i].uid;
		if (j < ln && l[j].uid < u)
			u = l[j].uid;
		if (k < sn_ && s[k].uid < u)
			u = s[k].uid;
		struct entry *e = &pl->e[pl->nr++];
		e->uid = u;
		e->r = e->l = e->s = NO_IDX;
		if (i < rn && r[i].uid == u) {
			e->r = r[i++].idx;
			e->rp = true;
			e->rf = sn->remote[e->r].flags & SYNC_FLAGS_ALL;
		}
		if (j < ln && l[j].uid == u) {
			e->l = l[j++].idx;
			e->lp = true;
			e->lf = sn->local[e->l].flags & SYNC_FLAGS_ALL;
		}
		if (k < sn_ && s[k].uid == u) {
			e->s = s[k++].idx;
			e->sp = true;
			e->sf = sn->status[e->s].flags & SYNC_FLAGS_ALL;
			e->smtime = sn->status[e->s].mtime;
		}
	}
	ret = 0;
out:
	free(r);
	free(l);
	free(s);
	return ret;
}

/* ---- filters: maxsize, maxage, startdate -------------------------------- */

static bool window_active(const struct sync_plan_opts *o)
{
	return o->maxage_since || o->startdate_side != SYNC_STARTDATE_NONE;
}

static int apply_filters(struct planner *pl, struct oim_err *err)
{
	const struct sync_snapshot *sn = pl->snap;
	const struct sync_plan_opts *o = pl->o;
	struct sync_plan_summary *sum = &pl->p->sum;
	/* Entries with uid < floor are out of the window altogether. */
	uint64_t floor = 0;
	/* Window test for local messages (LW_DATE: by date; for maxage only
	 * those without UID, the floor covers the others). */
	enum { LW_ALL, LW_DATE, LW_NATIVE_MIN } lw = LW_ALL;
	int64_t ldate = 0;
	uint32_t lnative = 0;
	/* startdate on the remote, first run: remote considered by date. */
	bool rdate = false;

	if (o->maxage_since) {
		/* accounts.py cachemessagelists_upto_date() */
		uint64_t w = UINT64_MAX;
		for (size_t i = 0; i < sn->remote_nr; i++) {
			const struct sync_remote_msg *m = &sn->remote[i];
			if (remote_size_ok(o, m) &&
			    m->date >= o->maxage_since && m->uid < w)
				w = m->uid;
		}
		if (w != UINT64_MAX) {
			floor = w;
		} else {
			/* No recent remote mail: the local dates decide, and
			 * new local mail is only uploaded if recent too. */
			lw = LW_DATE;
			ldate = o->maxage_cutoff;
			for (size_t i = 0; i < sn->local_nr; i++) {
				const struct sync_local_msg *m = &sn->local[i];
				if (m->uid && local_size_ok(o, m) &&
				    (m->date <= 0 || m->date >= ldate) &&
				    m->uid < w)
					w = m->uid;
			}
			floor = w != UINT64_MAX ? w : (uint64_t)UINT32_MAX + 1;
		}
	} else if (o->startdate_side != SYNC_STARTDATE_NONE) {
		/* accounts.py cachemessagelists_startdate() */
		bool premote = o->startdate_side == SYNC_STARTDATE_REMOTE;
		uint32_t min_uid = o->startdate_min_uid;
		if (!min_uid) {
			size_t other = 0;
			if (premote) {
				for (size_t i = 0; i < sn->local_nr; i++)
					other +=
					    local_size_ok(o, &sn->local[i]);
			} else {
				for (size_t i = 0; i < sn->remote_nr; i++)
					other +=
					    remote_size_ok(o, &sn->remote[i]);
			}
			if (other)
				return oim_error(
				    err, OIM_SEV_FOLDER, OIM_E_CONFIG,
				    "to use startdate on the %s repository, "
				    "the %s folder must be empty on the "
				    "first sync (it has %zu messages)",
				    premote ? "remote" : "local",
				    premote ? "local" : "remote", other);
			uint64_t m = UINT64_MAX;
			if (premote) {
				rdate = true;
				for (size_t i = 0; i < sn->remote_nr; i++)
					if (remote_size_ok(o, &sn->remote[i]) &&
					    sn->remote[i].date >=
						o->startdate &&
					    sn->remote[i].uid < m)
						m = sn->remote[i].uid;
			} else {
				lw = LW_DATE;
				ldate = o->startdate;
				for (size_t i = 0; i < sn->local_nr; i++) {
					const struct sync_local_msg *x =
					    &sn->local[i];
					uint32_t nu = local_native(x);
					if (nu && local_size_ok(o, x) &&
					    (x->date <= 0 ||
					     x->date >= ldate) &&
					    nu < m)
						m = nu;
				}
			}
			pl->p->startdate_min_uid_save =
			    m != UINT64_MAX ? (uint32_t)m : 1;
		} else if (premote) {
			floor = min_uid;
		} else {
			lw = LW_NATIVE_MIN;
			lnative = min_uid;
		}
	}

	for (size_t i = 0; i < pl->nr; i++) {
		struct entry *e = &pl->e[i];
		bool size_ok = true, win_ok = e->uid >= floor;
		if (e->rp) {
			const struct sync_remote_msg *m = &sn->remote[e->r];
			size_ok &= remote_size_ok(o, m);
			if (rdate)
				win_ok &= m->date >= o->startdate;
		}
		if (e->lp) {
			const struct sync_local_msg *m = &sn->local[e->l];
			size_ok &= local_size_ok(o, m);
			if (lw == LW_DATE &&
			    o->startdate_side != SYNC_STARTDATE_NONE)
				win_ok &= m->date <= 0 || m->date >= ldate;
			else if (lw == LW_NATIVE_MIN)
				win_ok &= local_native(m) >= lnative;
		}
		e->ok = size_ok && win_ok;
		if (!size_ok)
			sum->held_maxsize++;
		else if (!win_ok && (e->rp || e->lp))
			sum->held_window++;
	}

	/* Local messages without a UID. */
	pl->newloc = xcalloc(sn->local_nr + 1, sizeof(*pl->newloc));
	for (size_t i = 0; i < sn->local_nr; i++) {
		const struct sync_local_msg *m = &sn->local[i];
		if (m->uid)
			continue;
		if (!local_size_ok(o, m)) {
			sum->held_maxsize++;
			continue;
		}
		if (lw == LW_DATE && !(m->date <= 0 || m->date >= ldate)) {
			sum->held_window++;
			continue;
		}
		pl->newloc[pl->newloc_nr++] = i;
	}
	return 0;
}

/* ---- steps -------------------------------------------------------------- */

static struct sync_step *add_step(struct planner *pl, enum sync_step_kind kind,
				  enum sync_phase ph, enum sync_side to,
				  uint32_t uid)
{
	struct sync_plan *p = pl->p;
	ALLOC_GROW(p->steps, p->nr, p->alloc);
	struct sync_step *st = &p->steps[p->nr++];
	memset(st, 0, sizeof(*st));
	st->kind = kind;
	st->phase = ph;
	st->to = to;
	st->uid = uid;
	st->remote_idx = st->local_idx = NO_IDX;
	st->st_op = SYNC_ST_NONE;
	return st;
}

static void put_status(struct sync_step *st, struct entry *e, uint32_t uid,
		       sync_flags_t flags, int64_t mtime)
{
	st->st_op = SYNC_ST_PUT;
	st->st = (struct sync_status_rec){uid, flags, mtime};
	if (e) {
		e->sp = true;
		e->sf = flags;
		e->smtime = mtime;
	}
}

static void del_status(struct sync_step *st, struct entry *e)
{
	st->st_op = SYNC_ST_DEL;
	st->st = (struct sync_status_rec){e->uid, e->sf, e->smtime};
	e->sp = false;
	e->sf = 0;
}

/*
 * Pass 1 of syncmessagesto(): copy source messages unknown to the status.
 * 'src' is the source side; remote->local copies never start from a
 * message without a UID.
 */
static void phase_copy(struct planner *pl, enum sync_side src)
{
	const struct sync_snapshot *sn = pl->snap;
	enum sync_side dst = src == SYNC_REMOTE ? SYNC_LOCAL : SYNC_REMOTE;
	enum sync_phase ph =
	    src == SYNC_REMOTE ? SYNC_PH_R2L_COPY : SYNC_PH_L2R_COPY;
	struct sync_plan_summary *sum = &pl->p->sum;

	if (src == SYNC_LOCAL) {
		/* New local mail: OfflineIMAP gives it negative UIDs, which
		 * sort first. */
		for (size_t i = 0; i < pl->newloc_nr; i++) {
			const struct sync_local_msg *m =
			    &sn->local[pl->newloc[i]];
			struct sync_step *st =
			    add_step(pl, SYNC_STEP_COPY, ph, SYNC_REMOTE, 0);
			st->local_idx = pl->newloc[i];
			st->flags = m->flags & SYNC_FLAGS_ALL;
			st->size = m->size;
			st->date = m->date;
			put_status(st, NULL, 0, st->flags, 0);
			sum->copy[SYNC_REMOTE]++;
		}
	}
	for (size_t i = 0; i < pl->nr; i++) {
		struct entry *e = &pl->e[i];
		bool present = src == SYNC_REMOTE ? e->rp : e->lp;
		if (!e->ok || !present || e->sp)
			continue;
		sync_flags_t f = src == SYNC_REMOTE ? e->rf : e->lf;
		bool dst_has = dst == SYNC_LOCAL ? e->lp : e->rp;
		/* oimap: copy_ignore stops the download only; OfflineIMAP
		 * also skips recording a message both sides already have,
		 * and its flags then change again on the next run. */
		if (!dst_has && in_sorted(pl->ignore[src],
					  pl->o->copy_ignore_nr[src], e->uid)) {
			sum->held_ignore++;
			continue;
		}
		struct sync_step *st;
		if (dst_has) {
			st = add_step(pl, SYNC_STEP_LINK, ph, dst, e->uid);
			put_status(st, e, e->uid, f, 0);
			sum->link++;
		} else if (src == SYNC_REMOTE) {
			st = add_step(pl, SYNC_STEP_COPY, ph, dst, e->uid);
			st->size = sn->remote[e->r].size;
			st->date = sn->remote[e->r].date;
			st->flags = f;
			put_status(st, e, e->uid, f, 0);
			e->lp = true;
			e->lf = f;
			sum->copy[dst]++;
		} else {
			/* A local message with a UID nobody else knows (the
			 * status was lost, or the file came from elsewhere):
			 * upload it, it gets a new UID. */
			st = add_step(pl, SYNC_STEP_COPY, ph, dst, e->uid);
			st->size = sn->local[e->l].size;
			st->date = sn->local[e->l].date;
			st->flags = f;
			put_status(st, NULL, 0, f, 0);
			sum->copy[dst]++;
		}
		st->remote_idx = e->r;
		st->local_idx = e->l;
	}
}

/* Pass 2: status records whose message is gone from the source side. */
static void phase_delete(struct planner *pl, enum sync_side src)
{
	enum sync_side dst = src == SYNC_REMOTE ? SYNC_LOCAL : SYNC_REMOTE;
	enum sync_phase ph =
	    src == SYNC_REMOTE ? SYNC_PH_R2L_DELETE : SYNC_PH_L2R_DELETE;
	struct sync_plan_summary *sum = &pl->p->sum;

	for (size_t i = 0; i < pl->nr; i++) {
		struct entry *e = &pl->e[i];
		bool src_has = src == SYNC_REMOTE ? e->rp : e->lp;
		bool dst_has = dst == SYNC_LOCAL ? e->lp : e->rp;
		if (!e->ok || !e->sp || src_has)
			continue;
		if (dst_has && pl->o->no_sync_deletes[src])
			continue;
		struct sync_step *st;
		if (!dst_has) {
			st = add_step(pl, SYNC_STEP_FORGET, ph, dst, e->uid);
			sum->forget++;
		} else {
			st = add_step(pl, SYNC_STEP_DELETE, ph, dst, e->uid);
			if (dst == SYNC_LOCAL)
				e->lp = false;
			else
				e->rp = false;
			sum->del[dst]++;
		}
		st->remote_idx = e->r;
		st->local_idx = e->l;
		del_status(st, e);
	}
}

/* Pass 3: source flags against the status, applied to the other side. */
static void phase_flags(struct planner *pl, enum sync_side src)
{
	enum sync_side dst = src == SYNC_REMOTE ? SYNC_LOCAL : SYNC_REMOTE;
	enum sync_phase ph =
	    src == SYNC_REMOTE ? SYNC_PH_R2L_FLAGS : SYNC_PH_L2R_FLAGS;
	struct sync_plan_summary *sum = &pl->p->sum;

	for (size_t i = 0; i < pl->nr; i++) {
		struct entry *e = &pl->e[i];
		if (!e->ok || !e->rp || !e->lp)
			continue;
		sync_flags_t self = src == SYNC_REMOTE ? e->rf : e->lf;
		sync_flags_t stf = e->sp ? e->sf : 0;
		sync_flags_t add = self & ~stf, del = stf & ~self;
		if (!add && !del)
			continue;
		struct sync_step *st =
		    add_step(pl, SYNC_STEP_FLAGS, ph, dst, e->uid);
		st->remote_idx = e->r;
		st->local_idx = e->l;
		st->add = add;
		st->del = del;
		sync_flags_t *df = dst == SYNC_LOCAL ? &e->lf : &e->rf;
		sync_flags_t nf = (*df | add) & ~del;
		if (nf != *df)
			sum->flags[dst]++;
		*df = nf;
		/* addmessagesflags() on the status skips unknown UIDs */
		if (e->sp)
			put_status(st, e, e->uid, (e->sf | add) & ~del,
				   e->smtime);
	}
}

/* ---- valve, quick ------------------------------------------------------- */

/*
 * The empty-side safety valve.  Returns true when the folder must not be
 * synced, with plan->valve[] and sum.held_valve filled.
 *
 * Holding back only the deletions is not enough: the same run would copy
 * new mail onto the emptied side and record it, so on the next run that
 * side no longer looks empty and the deletions would go through.  The
 * whole folder is refused instead, which leaves the three lists as they
 * were, so every run refuses again until the user acts.
 */
static bool compute_valve(struct planner *pl)
{
	const struct sync_plan_opts *o = pl->o;
	size_t on[2] = {0, 0};
	unsigned min =
	    o->valve_min ? o->valve_min : SYNC_PLAN_VALVE_MIN_DEFAULT;
	bool refuse = false;

	if (o->valve_off)
		return false;
	for (size_t i = 0; i < pl->nr; i++) {
		const struct entry *e = &pl->e[i];
		if (!e->ok || !e->sp)
			continue;
		on[SYNC_REMOTE] += e->rp;
		on[SYNC_LOCAL] += e->lp;
	}
	/*
	 * 'side' has none of what the status knew, and the other side has at
	 * least 'min' of those, which would all go.  The count is of would-be
	 * deletions, not of records, so forgetting records of messages gone
	 * from both sides cannot change the verdict.  Only where the pass
	 * would really delete: not towards a read-only side, not with
	 * sync_deletes = no.
	 */
	for (int side = 0; side < 2; side++) {
		int other = !side;
		if (on[side] || on[other] < min || o->readonly[other] ||
		    o->no_sync_deletes[side])
			continue;
		pl->p->valve[side] = true;
		pl->p->sum.held_valve += on[other];
		refuse = true;
	}
	return refuse;
}

bool sync_plan_quick_unchanged(const struct sync_snapshot *snap,
			       const struct sync_plan_opts *o)
{
	/* IMAP.quickchanged(): EXISTS against the number of records */
	if (o->remote_exists != snap->status_nr)
		return false;
	if (o->local_is_imap)
		return o->local_exists == snap->status_nr;

	/* Maildir.quickchanged(): same UIDs and flags as the status.  New
	 * local mail has (negative) UIDs the status cannot have. */
	size_t n = 0;
	for (size_t i = 0; i < snap->local_nr; i++) {
		if (!local_size_ok(o, &snap->local[i]))
			continue;
		if (!snap->local[i].uid)
			return false;
		n++;
	}
	if (n != snap->status_nr)
		return false;
	struct uid_idx *s = xcalloc(snap->status_nr + 1, sizeof(*s));
	for (size_t i = 0; i < snap->status_nr; i++)
		s[i] = (struct uid_idx){snap->status[i].uid, i};
	oim_qsort(s, snap->status_nr, sizeof(*s), cmp_uid_idx);
	bool same = true;
	for (size_t i = 0; same && i < snap->local_nr; i++) {
		const struct sync_local_msg *m = &snap->local[i];
		if (!local_size_ok(o, m))
			continue;
		struct uid_idx key = {m->uid, 0};
		/* first record with this uid */
		size_t lo = 0, hi = snap->status_nr;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (s[mid].uid < key.uid)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo == snap->status_nr || s[lo].uid != m->uid ||
		    (snap->status[s[lo].idx].flags & SYNC_FLAGS_ALL) !=
			(m->flags & SYNC_FLAGS_ALL))
			same = false;
	}
	/* Equal counts and every local UID found: unless local UIDs repeat
	 * (an error sync_plan_build() reports), the sets are equal. */
	free(s);
	return same;
}

int sync_plan_build(const struct sync_snapshot *snap,
		    const struct sync_plan_opts *opts, struct sync_plan *plan_r,
		    struct oim_err *err)
{
	struct planner pl = {.snap = snap, .o = opts, .p = plan_r};
	int ret = -1;

	memset(plan_r, 0, sizeof(*plan_r));
	plan_r->expunge = opts->expunge;
	if (snap->remote_nr > SYNC_PLAN_MAX_MESSAGES ||
	    snap->local_nr > SYNC_PLAN_MAX_MESSAGES ||
	    snap->status_nr > SYNC_PLAN_MAX_MESSAGES)
		return oim_error(err, OIM_SEV_FOLDER, OIM_E_LIMIT,
				 "folder has more than %u messages",
				 SYNC_PLAN_MAX_MESSAGES);

	if (opts->quick) {
		if (window_active(opts)) {
			/* accounts.py: "Quick syncs (-q) not supported in
			 * conjunction with maxage or startdate; ignoring -q."
			 */
			plan_r->quick_ignored = true;
		} else if (sync_plan_quick_unchanged(snap, opts)) {
			plan_r->quick_skipped = true;
			return 0;
		}
	}

	if (merge_inputs(&pl, err) < 0 || apply_filters(&pl, err) < 0)
		goto out;
	for (int side = 0; side < 2; side++) {
		size_t n = opts->copy_ignore_nr[side];
		if (!n || !opts->copy_ignore[side])
			continue;
		pl.ignore[side] = (uint32_t *)xmemdup(opts->copy_ignore[side],
						      n * sizeof(uint32_t));
		oim_qsort(pl.ignore[side], n, sizeof(uint32_t), cmp_u32);
	}
	if (compute_valve(&pl)) {
		ret = 0;
		goto out;
	}

	/* accounts.py syncfolder(): remote changes first, then local ones;
	 * a read-only side's incoming pass is skipped whole. */
	if (!opts->readonly[SYNC_LOCAL]) {
		phase_copy(&pl, SYNC_REMOTE);
		phase_delete(&pl, SYNC_REMOTE);
		phase_flags(&pl, SYNC_REMOTE);
	}
	if (!opts->readonly[SYNC_REMOTE]) {
		phase_copy(&pl, SYNC_LOCAL);
		phase_delete(&pl, SYNC_LOCAL);
		phase_flags(&pl, SYNC_LOCAL);
	}
	ret = 0;
out:
	free(pl.e);
	free(pl.newloc);
	free(pl.ignore[0]);
	free(pl.ignore[1]);
	if (ret < 0)
		sync_plan_release(plan_r);
	return ret;
}
