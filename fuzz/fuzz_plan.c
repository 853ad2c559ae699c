/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for the sync planner (src/sync/plan.h).
 *
 * The input bytes describe options and three small snapshots (UIDs 1..63 so
 * that remote, local and status collide often).  The plan is checked
 * against invariants that hold whatever OfflineIMAP's details are:
 *
 *  - steps come in phase order; a read-only side is never changed;
 *  - a message is deleted only on one side, only if the status knew its
 *    UID and the other side did not have it any more (never lose mail);
 *    no UID is both deleted and copied; nothing is copied onto a UID the
 *    destination already has;
 *  - status puts/deletes name the step's UID; flag steps touch messages
 *    present on the side;
 *  - carried out by a model executor, the plan leaves every message that
 *    existed somewhere still somewhere unless it was legitimately deleted;
 *  - with both sides writable and no filter, copy_ignore or valve, the
 *    sides converge (same UIDs and flags on remote, local and status) and
 *    planning again gives nothing to do.
 */
#include <stddef.h>
#include <stdint.h>

#include "sync/plan.h"

#define NU   256 /* UID space of the model: 1..63 given, 100.. assigned */
#define MAXN 64
#ifndef IDEMPOTENCE_ALWAYS
#define IDEMPOTENCE_ALWAYS 1
#endif

struct model {
	bool r[NU], l[NU], s[NU];
	sync_flags_t rf[NU], lf[NU], sf[NU];
};

struct input {
	/* decode() fills at most MAXN of each; to_input() up to NU */
	struct sync_remote_msg r[NU];
	struct sync_local_msg l[NU];
	struct sync_status_rec s[NU];
	struct sync_snapshot sn;
	uint32_t ignore[2];
	struct sync_plan_opts o;
	bool dupes;
};

static const char flag_letters[] = "DFRSTa";

static sync_flags_t flags_from(unsigned bits)
{
	sync_flags_t f = 0;
	for (int i = 0; i < 6; i++)
		if (bits & (1u << i))
			f |= SYNC_FLAG(flag_letters[i]);
	return f;
}

static void decode(const uint8_t *d, size_t n, struct input *in)
{
	memset(in, 0, sizeof(*in));
	in->sn.remote = in->r;
	in->sn.local = in->l;
	in->sn.status = in->s;
	struct sync_plan_opts *o = &in->o;
	uint8_t h0 = n > 0 ? d[0] : 0, h1 = n > 1 ? d[1] : 0;
	uint8_t h2 = n > 2 ? d[2] : 0, h3 = n > 3 ? d[3] : 0;
	o->readonly[SYNC_REMOTE] = h0 & 1;
	o->readonly[SYNC_LOCAL] = h0 & 2;
	o->no_sync_deletes[SYNC_REMOTE] = h0 & 4;
	o->no_sync_deletes[SYNC_LOCAL] = h0 & 8;
	o->valve_off = h0 & 16;
	o->quick = h0 & 32;
	in->dupes = (h0 & 0xc0) == 0xc0;
	if (h1 & 1)
		o->maxsize = 40u * (h2 & 7);
	if (h1 & 2) {
		o->maxage_since = 100 * (h2 >> 5);
		o->maxage_cutoff = o->maxage_since - 50 * ((h2 >> 3) & 3);
	} else if (h1 & 4) {
		o->startdate_side =
		    (h1 & 8) ? SYNC_STARTDATE_LOCAL : SYNC_STARTDATE_REMOTE;
		o->startdate = 100 * (h2 >> 5);
		o->startdate_min_uid = (h3 >> 2) & 15;
	}
	if (h1 & 16) {
		in->ignore[0] = h3 & 63;
		o->copy_ignore[SYNC_REMOTE] = in->ignore;
		o->copy_ignore_nr[SYNC_REMOTE] = 1;
	}
	if (h1 & 32) {
		in->ignore[1] = (h3 * 7u) & 63;
		o->copy_ignore[SYNC_LOCAL] = &in->ignore[1];
		o->copy_ignore_nr[SYNC_LOCAL] = 1;
	}
	o->expunge = h1 & 64;
	o->valve_min = (h1 & 128) ? 1 + (h3 & 3) : 0;
	o->remote_exists = h3 >> 4;

	bool used[3][64] = {{false}};
	for (size_t i = 4; i + 4 <= n; i += 4) {
		uint32_t uid = d[i] & 63;
		uint8_t pres = d[i + 1];
		unsigned rfl = (pres >> 2) & 63;
		unsigned lfl = d[i + 2] & 63, sfl = d[i + 3] & 63;
		uint64_t size = 40u * (d[i + 2] >> 6) + (d[i + 3] >> 6);
		int64_t date = 100 * ((d[i] >> 6) + (pres & 3));
		bool inr = (d[i + 3] & 0x40) && uid, inl = d[i + 3] & 0x80,
		     ins = (pres & 1) && uid;
		if (!uid)
			ins = inr = false;
		/* at most MAXN of each */
		if (inr && (in->dupes || !used[0][uid]) &&
		    in->sn.remote_nr < MAXN) {
			used[0][uid] = true;
			in->r[in->sn.remote_nr++] = (struct sync_remote_msg){
			    uid, flags_from(rfl), size + (d[i] >> 7), date};
		}
		if (inl && (!uid || in->dupes || !used[1][uid]) &&
		    in->sn.local_nr < MAXN) {
			if (uid)
				used[1][uid] = true;
			in->l[in->sn.local_nr++] = (struct sync_local_msg){
			    .uid = uid,
			    .native_uid = (pres & 2) ? uid + 3 : 0,
			    .flags = flags_from(lfl),
			    .size = size,
			    .date = (pres & 2) ? 0 : date,
			    .id = "f",
			};
		}
		if (ins && (in->dupes || !used[2][uid]) &&
		    in->sn.status_nr < MAXN) {
			used[2][uid] = true;
			in->s[in->sn.status_nr++] =
			    (struct sync_status_rec){uid, flags_from(sfl), 0};
		}
	}
}

static void load(struct model *m, const struct sync_snapshot *sn)
{
	memset(m, 0, sizeof(*m));
	for (size_t i = 0; i < sn->remote_nr; i++) {
		m->r[sn->remote[i].uid] = true;
		m->rf[sn->remote[i].uid] = sn->remote[i].flags;
	}
	for (size_t i = 0; i < sn->local_nr; i++) {
		uint32_t u = sn->local[i].uid;
		if (u) {
			m->l[u] = true;
			m->lf[u] = sn->local[i].flags;
		}
	}
	for (size_t i = 0; i < sn->status_nr; i++) {
		m->s[sn->status[i].uid] = true;
		m->sf[sn->status[i].uid] = sn->status[i].flags;
	}
}

/*
 * The safety valve must hold when, with no filter, a side has none of the
 * UIDs the status knows and the other side at least valve_min of them.
 */
static bool valve_due(const struct input *in, enum sync_side side)
{
	const struct sync_plan_opts *o = &in->o;
	size_t on = 0, other = 0;
	unsigned min =
	    o->valve_min ? o->valve_min : SYNC_PLAN_VALVE_MIN_DEFAULT;

	if (o->valve_off || o->maxsize || o->maxage_since ||
	    o->startdate_side != SYNC_STARTDATE_NONE ||
	    o->readonly[side == SYNC_REMOTE ? SYNC_LOCAL : SYNC_REMOTE] ||
	    o->no_sync_deletes[side])
		return false;
	for (size_t i = 0; i < in->sn.status_nr; i++) {
		uint32_t u = in->sn.status[i].uid;
		bool onr = false, onl = false;
		for (size_t j = 0; j < in->sn.remote_nr; j++)
			onr |= in->sn.remote[j].uid == u;
		for (size_t j = 0; j < in->sn.local_nr; j++)
			onl |= in->sn.local[j].uid == u;
		on += side == SYNC_REMOTE ? onr : onl;
		other += side == SYNC_REMOTE ? onl : onr;
	}
	return on == 0 && other >= min;
}

/* Check the static invariants and carry the plan out on 'm'. */
static void check_and_apply(const struct input *in, const struct sync_plan *p,
			    struct model *m, uint32_t *next_uid)
{
	const struct sync_plan_opts *o = &in->o;
	bool deleted[NU] = {false}, copied[NU] = {false};
	/* which snapshot local messages got uploaded (no double upload) */
	bool uploaded[MAXN] = {false};
	struct model in0;
	load(&in0, &in->sn);

	for (size_t i = 0; i < p->nr; i++) {
		const struct sync_step *st = &p->steps[i];
		uint32_t u = st->uid;
		if (i && st->phase < p->steps[i - 1].phase)
			BUG("steps out of phase order");
		if (u >= 64)
			BUG("step on an unknown UID %u", u);
		bool changes = st->kind == SYNC_STEP_COPY ||
			       st->kind == SYNC_STEP_DELETE ||
			       st->kind == SYNC_STEP_FLAGS;
		if (changes && o->readonly[st->to])
			BUG("read-only side changed");
		if (st->st_op != SYNC_ST_NONE && st->st.uid && st->st.uid != u)
			BUG("status record of another UID");
		bool *has = st->to == SYNC_REMOTE ? m->r : m->l;
		sync_flags_t *fl = st->to == SYNC_REMOTE ? m->rf : m->lf;
		switch (st->kind) {
		case SYNC_STEP_COPY:
			if (copied[u] && u)
				BUG("UID %u copied twice", u);
			copied[u] = true;
			if (u && deleted[u])
				BUG("UID %u deleted and copied", u);
			if (st->to == SYNC_LOCAL) {
				if (!u || m->l[u] || !in0.r[u])
					BUG("bad download of %u", u);
				m->l[u] = true;
				m->lf[u] = st->flags;
			} else {
				if (st->local_idx >= in->sn.local_nr ||
				    uploaded[st->local_idx])
					BUG("bad upload");
				uploaded[st->local_idx] = true;
				if (u && m->r[u])
					BUG("upload over existing remote %u",
					    u);
				uint32_t nu = (*next_uid)++;
				if (nu >= NU)
					BUG("model UID space");
				m->r[nu] = m->l[nu] = true;
				m->rf[nu] = m->lf[nu] = st->flags;
				if (u)
					m->l[u] = false; /* renamed */
				if (st->st_op != SYNC_ST_PUT || st->st.uid)
					BUG("upload without status put");
				m->s[nu] = true;
				m->sf[nu] = st->st.flags;
				continue;
			}
			break;
		case SYNC_STEP_DELETE:
			if (deleted[u] || copied[u])
				BUG("UID %u deleted twice or after copy", u);
			deleted[u] = true;
			/* never lose: the status knew it, the other side
			 * had lost it before the sync began */
			if (!in0.s[u])
				BUG("deletion of %u unknown to status", u);
			if (st->to == SYNC_LOCAL ? in0.r[u] : in0.l[u])
				BUG("deletion of %u still on the other side",
				    u);
			if (!has[u])
				BUG("deletion of absent %u", u);
			/* sync_deletes = no on the side that lost it */
			if (o->no_sync_deletes[st->to == SYNC_LOCAL
						   ? SYNC_REMOTE
						   : SYNC_LOCAL])
				BUG("deletion of %u despite sync_deletes", u);
			if (p->valve[st->to == SYNC_LOCAL ? SYNC_REMOTE
							  : SYNC_LOCAL])
				BUG("deletion of %u despite the valve", u);
			if (valve_due(in, st->to == SYNC_LOCAL ? SYNC_REMOTE
							       : SYNC_LOCAL))
				BUG("emptied side propagated (%u)", u);
			has[u] = false;
			break;
		case SYNC_STEP_FLAGS:
			if (!has[u])
				BUG("flags on absent %u", u);
			fl[u] = (fl[u] | st->add) & ~st->del;
			break;
		case SYNC_STEP_LINK:
			if (!m->r[u] || !m->l[u])
				BUG("link of %u not on both sides", u);
			break;
		case SYNC_STEP_FORGET:
			if (m->r[u] || m->l[u] || !in0.s[u])
				BUG("forget of %u still present", u);
			break;
		}
		if (st->st_op == SYNC_ST_PUT) {
			m->s[u] = true;
			m->sf[u] = st->st.flags;
		} else if (st->st_op == SYNC_ST_DEL) {
			if (!m->s[u])
				BUG("status delete of unknown %u", u);
			m->s[u] = false;
		}
	}
	/* never lose: every message that was somewhere still is, unless
	 * deleted as checked above */
	for (uint32_t u = 1; u < 64; u++)
		if ((in0.r[u] || in0.l[u]) && !deleted[u] &&
		    !(m->r[u] || m->l[u]) && !copied[u])
			BUG("message %u lost", u);
}

/* Snapshot of the model, for planning again. */
static void to_input(const struct model *m, const struct input *orig,
		     struct input *in)
{
	memset(in, 0, sizeof(*in));
	in->o = orig->o;
	in->sn.remote = in->r;
	in->sn.local = in->l;
	in->sn.status = in->s;
	for (uint32_t u = 1; u < NU; u++) {
		if (m->r[u])
			in->r[in->sn.remote_nr++] =
			    (struct sync_remote_msg){u, m->rf[u], 10, 0};
		if (m->l[u])
			in->l[in->sn.local_nr++] = (struct sync_local_msg){
			    .uid = u, .flags = m->lf[u], .size = 10};
		if (m->s[u])
			in->s[in->sn.status_nr++] =
			    (struct sync_status_rec){u, m->sf[u], 0};
	}
}

/* FUZZ_PLAN_DEBUG=1 prints snapshots and plans, to study a crash. */
static void dump(const char *what, const struct input *in,
		 const struct sync_plan *p)
{
	char f[SYNC_FLAGS_STR_MAX];
	if (!getenv("FUZZ_PLAN_DEBUG"))
		return;
	fprintf(stderr, "== %s: ro %d%d nodel %d%d ign %zu:%u %zu:%u\n", what,
		in->o.readonly[0], in->o.readonly[1], in->o.no_sync_deletes[0],
		in->o.no_sync_deletes[1], in->o.copy_ignore_nr[0],
		in->ignore[0], in->o.copy_ignore_nr[1], in->ignore[1]);
	fprintf(stderr, "R:");
	for (size_t i = 0; i < in->sn.remote_nr; i++)
		fprintf(stderr, " %u:%s", in->r[i].uid,
			sync_flags_format(in->r[i].flags, f));
	fprintf(stderr, "\nL:");
	for (size_t i = 0; i < in->sn.local_nr; i++)
		fprintf(stderr, " %u:%s", in->l[i].uid,
			sync_flags_format(in->l[i].flags, f));
	fprintf(stderr, "\nS:");
	for (size_t i = 0; i < in->sn.status_nr; i++)
		fprintf(stderr, " %u:%s", in->s[i].uid,
			sync_flags_format(in->s[i].flags, f));
	fprintf(stderr, "\nplan: valve %d%d\n", p->valve[0], p->valve[1]);
	for (size_t i = 0; i < p->nr; i++)
		fprintf(stderr, "  %s>%c %u\n",
			sync_step_kind_name(p->steps[i].kind),
			p->steps[i].to == SYNC_REMOTE ? 'R' : 'L',
			p->steps[i].uid);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct input in, again;
	struct sync_plan p;
	struct oim_err err = OIM_ERR_INIT;
	struct model m;
	uint32_t next = 100;

	if (size > 4 + 4 * 3 * MAXN)
		return 0;
	decode(data, size, &in);
	if (sync_plan_build(&in.sn, &in.o, &p, &err) < 0) {
		if (p.steps || p.nr || err.sev == OIM_SEV_NONE)
			BUG("failed build left a plan or no error");
		return 0;
	}
	dump("first", &in, &p);
	if ((p.valve[0] || p.valve[1]) && p.nr)
		BUG("valve fired but the folder was not refused");
	if (!p.quick_skipped &&
	    (valve_due(&in, SYNC_REMOTE) || valve_due(&in, SYNC_LOCAL)) &&
	    !p.valve[0] && !p.valve[1])
		BUG("valve due but not fired");
	load(&m, &in.sn);
	check_and_apply(&in, &p, &m, &next);

	bool nofilter = !in.o.maxsize && !in.o.maxage_since &&
			in.o.startdate_side == SYNC_STARTDATE_NONE &&
			!p.quick_skipped;
	bool plain = nofilter && !in.o.readonly[0] && !in.o.readonly[1] &&
		     !in.o.no_sync_deletes[0] && !in.o.no_sync_deletes[1] &&
		     !in.o.copy_ignore_nr[0] && !in.o.copy_ignore_nr[1] &&
		     !p.valve[0] && !p.valve[1];
	if (plain) {
		for (uint32_t u = 1; u < NU; u++) {
			if (m.r[u] != m.l[u] || m.r[u] != m.s[u])
				BUG("UID %u not converged", u);
			if (m.r[u] &&
			    (m.rf[u] != m.lf[u] || m.rf[u] != m.sf[u]))
				BUG("flags of UID %u not converged", u);
		}
	}
	if (IDEMPOTENCE_ALWAYS ? nofilter : plain) {
		/* a second run has nothing left to do */
		struct sync_plan p2;
		to_input(&m, &in, &again);
		again.o.quick = false;
		if (sync_plan_build(&again.sn, &again.o, &p2, &err) < 0)
			BUG("second plan failed: %s", err.msg);
		dump("second", &again, &p2);
		if (p2.nr)
			BUG("second run not idempotent: %zu steps, first %s %u",
			    p2.nr, sync_step_kind_name(p2.steps[0].kind),
			    p2.steps[0].uid);
		sync_plan_release(&p2);
	}
	sync_plan_release(&p);
	return 0;
}
