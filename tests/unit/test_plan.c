/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Tests of the sync planner (src/sync/plan.h).
 *
 * Every row states the three snapshots, the options, the plan expected and
 * the state of the three lists once the plan is carried out.  The expected
 * values come from reading OfflineIMAP 8 (accounts.py syncfolder(),
 * folder/Base.py syncmessagesto() and its passes), worked out by hand for
 * each row; the comments say which line of OfflineIMAP decides.
 *
 * Snapshot syntax: space-separated messages "<uid>:<flags>[/<size>][@<date>]",
 * uid "n" for new local mail without UID.
 * Plan syntax: steps joined by "; ", each "<kind>><side> <uid>" then
 * " =<flags>" (copy), " +<add>-<del>" (flags), " st=<flags>" (status put;
 * "st@new=" for the UID the server will assign) or " st-" (status delete).
 * Final syntax: "R <uid>:<flags>... | L ... | S ..."; uploaded messages get
 * UIDs 1000, 1001, ... in the order of the plan.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sync/plan.h"
#include "util/strbuf.h"

#define MAXM 64

struct snap_buf {
	struct sync_remote_msg r[MAXM];
	struct sync_local_msg l[MAXM];
	struct sync_status_rec s[MAXM];
	char ids[MAXM][16];
	struct sync_snapshot sn;
};

/* Parse "<uid>:<flags>[/size][@date]" lists. */
static void parse_list(const char *spec, int which, struct snap_buf *b)
{
	const char *p = spec ? spec : "";
	while (*p) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		uint32_t uid = 0;
		if (*p == 'n')
			p++;
		else
			while (*p >= '0' && *p <= '9')
				uid = uid * 10 + (uint32_t)(*p++ - '0');
		assert_int_equal(*p, ':');
		p++;
		const char *f = p;
		while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))
			p++;
		sync_flags_t flags = 0;
		assert_int_equal(sync_flags_parse(f, (size_t)(p - f), &flags),
				 0);
		uint64_t size = 10;
		int64_t date = 0;
		if (*p == '/') {
			size = strtoull(p + 1, (char **)&p, 10);
		}
		if (*p == '@') {
			date = strtoll(p + 1, (char **)&p, 10);
		}
		if (which == 0) {
			size_t i = b->sn.remote_nr++;
			b->r[i] =
			    (struct sync_remote_msg){uid, flags, size, date};
		} else if (which == 1) {
			size_t i = b->sn.local_nr++;
			snprintf(b->ids[i], sizeof(b->ids[i]), "file%zu", i);
			b->l[i] = (struct sync_local_msg){.uid = uid,
							  .flags = flags,
							  .size = size,
							  .date = date,
							  .id = b->ids[i]};
		} else {
			size_t i = b->sn.status_nr++;
			b->s[i] = (struct sync_status_rec){uid, flags, 0};
		}
	}
}

static void make_snap(struct snap_buf *b, const char *r, const char *l,
		      const char *s)
{
	memset(b, 0, sizeof(*b));
	b->sn.remote = b->r;
	b->sn.local = b->l;
	b->sn.status = b->s;
	parse_list(r, 0, b);
	parse_list(l, 1, b);
	parse_list(s, 2, b);
}

static const char *side_name(enum sync_side s)
{
	return s == SYNC_REMOTE ? "R" : "L";
}

static void render_plan(const struct sync_plan *p, struct strbuf *out)
{
	char f1[SYNC_FLAGS_STR_MAX], f2[SYNC_FLAGS_STR_MAX];
	for (size_t i = 0; i < p->nr; i++) {
		const struct sync_step *st = &p->steps[i];
		if (i)
			strbuf_addstr(out, "; ");
		strbuf_addf(out, "%s>%s %u", sync_step_kind_name(st->kind),
			    side_name(st->to), st->uid);
		if (st->kind == SYNC_STEP_COPY)
			strbuf_addf(out, " =%s",
				    sync_flags_format(st->flags, f1));
		if (st->kind == SYNC_STEP_FLAGS)
			strbuf_addf(out, " +%s-%s",
				    sync_flags_format(st->add, f1),
				    sync_flags_format(st->del, f2));
		if (st->st_op == SYNC_ST_PUT) {
			if (st->st.uid)
				assert_int_equal(st->st.uid, st->uid);
			strbuf_addf(out, " st%s=%s", st->st.uid ? "" : "@new",
				    sync_flags_format(st->st.flags, f1));
		} else if (st->st_op == SYNC_ST_DEL) {
			assert_int_equal(st->st.uid, st->uid);
			strbuf_addstr(out, " st-");
		}
	}
}

/* ---- a model executor: carries a plan out on the lists ------------------ */

struct mlist {
	uint32_t uid[MAXM * 2];
	sync_flags_t f[MAXM * 2];
	bool live[MAXM * 2];
	size_t nr;
};

static ptrdiff_t mfind(struct mlist *m, uint32_t uid)
{
	for (size_t i = 0; i < m->nr; i++)
		if (m->live[i] && m->uid[i] == uid)
			return (ptrdiff_t)i;
	return -1;
}

static size_t madd(struct mlist *m, uint32_t uid, sync_flags_t f)
{
	assert_true(m->nr < MAXM * 2);
	m->uid[m->nr] = uid;
	m->f[m->nr] = f;
	m->live[m->nr] = true;
	return m->nr++;
}

/* Messages sorted by UID, then flags (several new local ones have UID 0). */
static int cmp_msg(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;
	return x[0] < y[0]   ? -1
	       : x[0] > y[0] ? 1
	       : x[1] < y[1] ? -1
			     : x[1] > y[1];
}

static void mrender(struct mlist *m, const char *name, struct strbuf *out)
{
	uint64_t order[MAXM * 2][2];
	size_t n = 0;
	char f[SYNC_FLAGS_STR_MAX];
	for (size_t i = 0; i < m->nr; i++)
		if (m->live[i]) {
			order[n][0] = m->uid[i];
			order[n++][1] = m->f[i];
		}
	oim_qsort(order, n, sizeof(order[0]), cmp_msg);
	strbuf_addstr(out, name);
	for (size_t i = 0; i < n; i++)
		strbuf_addf(out, " %u:%s", (unsigned)order[i][0],
			    sync_flags_format(order[i][1], f));
}

static void execute(const struct snap_buf *b, const struct sync_plan *p,
		    struct strbuf *out)
{
	struct mlist R = {0}, L = {0}, S = {0};
	size_t lpos[MAXM]; /* local snapshot index -> L index */
	uint32_t next = 1000;

	for (size_t i = 0; i < b->sn.remote_nr; i++)
		madd(&R, b->r[i].uid, b->r[i].flags);
	for (size_t i = 0; i < b->sn.local_nr; i++)
		lpos[i] = madd(&L, b->l[i].uid, b->l[i].flags);
	for (size_t i = 0; i < b->sn.status_nr; i++)
		madd(&S, b->s[i].uid, b->s[i].flags);

	for (size_t i = 0; i < p->nr; i++) {
		const struct sync_step *st = &p->steps[i];
		struct mlist *side = st->to == SYNC_REMOTE ? &R : &L;
		uint32_t uid = st->uid;
		ptrdiff_t k;
		switch (st->kind) {
		case SYNC_STEP_COPY:
			if (st->to == SYNC_LOCAL) {
				assert_true(mfind(&L, uid) < 0);
				madd(&L, uid, st->flags);
			} else {
				assert_true(st->local_idx != SYNC_NO_IDX);
				uid = next++;
				madd(&R, uid, st->flags);
				L.uid[lpos[st->local_idx]] = uid;
			}
			break;
		case SYNC_STEP_LINK:
		case SYNC_STEP_FORGET:
			break;
		case SYNC_STEP_DELETE:
			k = mfind(side, uid);
			assert_true(k >= 0);
			side->live[k] = false;
			break;
		case SYNC_STEP_FLAGS:
			k = mfind(side, uid);
			assert_true(k >= 0);
			side->f[k] = (side->f[k] | st->add) & ~st->del;
			break;
		}
		if (st->st_op == SYNC_ST_PUT) {
			uint32_t su = st->st.uid ? st->st.uid : uid;
			k = mfind(&S, su);
			if (k >= 0)
				S.f[k] = st->st.flags;
			else
				madd(&S, su, st->st.flags);
		} else if (st->st_op == SYNC_ST_DEL) {
			k = mfind(&S, st->st.uid);
			assert_true(k >= 0);
			S.live[k] = false;
		}
	}
	mrender(&R, "R", out);
	mrender(&L, " | L", out);
	mrender(&S, " | S", out);
}

/* ---- the table ---------------------------------------------------------- */

struct row {
	const char *name;
	const char *remote, *local, *status;
	bool ro_r, ro_l, nodel_r, nodel_l, valve_off;
	uint64_t maxsize;
	uint32_t ignore; /* a remote UID in copy_ignore */
	const char *plan;
	const char *final;
};

static void check_row(const struct row *row, struct sync_plan_opts *o)
{
	struct snap_buf b;
	struct sync_plan p;
	struct oim_err err = OIM_ERR_INIT;
	struct strbuf got = STRBUF_INIT, fin = STRBUF_INIT;

	make_snap(&b, row->remote, row->local, row->status);
	if (sync_plan_build(&b.sn, o, &p, &err) < 0)
		fail_msg("%s: %s", row->name, err.msg);
	render_plan(&p, &got);
	if (strcmp(got.buf, row->plan))
		fail_msg("%s: plan\n  got  '%s'\n  want '%s'", row->name,
			 got.buf, row->plan);
	execute(&b, &p, &fin);
	if (row->final && strcmp(fin.buf, row->final))
		fail_msg("%s: final\n  got  '%s'\n  want '%s'", row->name,
			 fin.buf, row->final);
	sync_plan_release(&p);
	strbuf_release(&got);
	strbuf_release(&fin);
}

static void run_rows(const struct row *rows, size_t nr)
{
	for (size_t i = 0; i < nr; i++) {
		const struct row *row = &rows[i];
		struct sync_plan_opts o = SYNC_PLAN_OPTS_INIT;
		o.readonly[SYNC_REMOTE] = row->ro_r;
		o.readonly[SYNC_LOCAL] = row->ro_l;
		o.no_sync_deletes[SYNC_REMOTE] = row->nodel_r;
		o.no_sync_deletes[SYNC_LOCAL] = row->nodel_l;
		o.valve_off = row->valve_off;
		o.maxsize = row->maxsize;
		if (row->ignore) {
			o.copy_ignore[SYNC_REMOTE] = &row->ignore;
			o.copy_ignore_nr[SYNC_REMOTE] = 1;
		}
		check_row(row, &o);
	}
}

/*
 * The eight combinations of present/absent on remote (R), local (L) and
 * status (S), with flags changed or not on each side where present.  The
 * status holds what both sides had at the last sync ("S" unless said).
 */
static const struct row combos[] = {
    /* R L S: A3 (remote vs status -> local), then B3 (local vs status
     * -> remote); the status ends as the result. */
    {"RLS unchanged", "10:S", "10:S", "10:S", .plan = "",
     .final = "R 10:S | L 10:S | S 10:S"},
    {"RLS remote +F", "10:FS", "10:S", "10:S", .plan = "flags>L 10 +F- st=FS",
     .final = "R 10:FS | L 10:FS | S 10:FS"},
    {"RLS remote -S", "10:", "10:S", "10:S",
     .plan = "flags>L 10 +-S st=", .final = "R 10: | L 10: | S 10:"},
    {"RLS local +F", "10:S", "10:FS", "10:S", .plan = "flags>R 10 +F- st=FS",
     .final = "R 10:FS | L 10:FS | S 10:FS"},
    {"RLS local -S", "10:S", "10:", "10:S",
     .plan = "flags>R 10 +-S st=", .final = "R 10: | L 10: | S 10:"},
    /* different flags changed on each side: merged */
    {"RLS remote +F local +R", "10:FS", "10:RS", "10:S",
     .plan = "flags>L 10 +F- st=FS; flags>R 10 +R- st=FRS",
     .final = "R 10:FRS | L 10:FRS | S 10:FRS"},
    {"RLS remote -S local +F", "10:", "10:FS", "10:S",
     .plan = "flags>L 10 +-S st=; flags>R 10 +F- st=F",
     .final = "R 10:F | L 10:F | S 10:F"},
    {"RLS remote +F local -S", "10:FS", "10:", "10:S",
     .plan = "flags>L 10 +F- st=FS; flags>R 10 +-S st=F",
     .final = "R 10:F | L 10:F | S 10:F"},
    /* same change on both sides: the remote pass applies it (a no-op on
     * the local message) and records it; nothing left for pass 2 */
    {"RLS both +F", "10:FS", "10:FS", "10:S", .plan = "flags>L 10 +F- st=FS",
     .final = "R 10:FS | L 10:FS | S 10:FS"},
    {"RLS both -S", "10:", "10:", "10:S",
     .plan = "flags>L 10 +-S st=", .final = "R 10: | L 10: | S 10:"},
    /* R L -: status lost.  A1 records the remote flags (copymessageto
     * is not called: dstfolder.uidexists), B3 then pushes the local
     * flags: the local side wins. */
    {"RL- same flags", "10:S", "10:S", "", .plan = "link>L 10 st=S",
     .final = "R 10:S | L 10:S | S 10:S"},
    {"RL- local has more", "10:S", "10:FS", "",
     .plan = "link>L 10 st=S; flags>R 10 +F- st=FS",
     .final = "R 10:FS | L 10:FS | S 10:FS"},
    {"RL- remote has more", "10:FS", "10:S", "",
     .plan = "link>L 10 st=FS; flags>R 10 +-F st=S",
     .final = "R 10:S | L 10:S | S 10:S"},
    /* R - S: deleted locally -> deleted on the remote (B2) */
    {"R-S", "10:S", "", "10:S", .plan = "delete>R 10 st-",
     .final = "R | L | S"},
    {"R-S remote flags changed", "10:FS", "", "10:S", .plan = "delete>R 10 st-",
     .final = "R | L | S"},
    /* R - -: new remote mail -> copied (A1) with its flags */
    {"R--", "10:S", "", "", .plan = "copy>L 10 =S st=S",
     .final = "R 10:S | L 10:S | S 10:S"},
    {"R-- unseen", "10:", "", "",
     .plan = "copy>L 10 = st=", .final = "R 10: | L 10: | S 10:"},
    /* - L S: deleted on the remote -> deleted locally (A2) */
    {"-LS", "", "10:S", "10:S", .plan = "delete>L 10 st-",
     .final = "R | L | S"},
    {"-LS local flags changed", "", "10:FS", "10:S", .plan = "delete>L 10 st-",
     .final = "R | L | S"},
    /* - L -: a local message with a UID nobody knows is uploaded (B1),
     * and so is new local mail */
    {"-L- with uid", "", "10:S", "", .plan = "copy>R 10 =S st@new=S",
     .final = "R 1000:S | L 1000:S | S 1000:S"},
    {"-L- new mail", "", "n:FS", "", .plan = "copy>R 0 =FS st@new=FS",
     .final = "R 1000:FS | L 1000:FS | S 1000:FS"},
    /* - - S: gone from both: the record is dropped (A2) */
    {"--S", "", "", "10:S", .plan = "forget>L 10 st-", .final = "R | L | S"},
    /* - - -: nothing at all */
    {"---", "", "", "", .plan = "", .final = "R | L | S"},
};

static void test_combinations(void **state)
{
	run_rows(combos, ARRAY_SIZE(combos));
}

static const struct row option_rows[] = {
    /* readonly remote: only pass remote->local runs */
    {"ro remote, flags both", "10:FS", "10:RS", "10:S", .ro_r = true,
     .plan = "flags>L 10 +F- st=FS", .final = "R 10:FS | L 10:FRS | S 10:FS"},
    {"ro remote, local deletion kept", "10:S", "", "10:S", .ro_r = true,
     .plan = "", .final = "R 10:S | L | S 10:S"},
    {"ro remote, remote deletion applied", "", "10:S", "10:S", .ro_r = true,
     .plan = "delete>L 10 st-", .final = "R | L | S"},
    {"ro remote, new local not uploaded", "", "n:S 11:S", "", .ro_r = true,
     .plan = "", .final = "R | L 0:S 11:S | S"},
    {"ro remote, new remote copied", "10:S", "", "", .ro_r = true,
     .plan = "copy>L 10 =S st=S", .final = "R 10:S | L 10:S | S 10:S"},
    /* readonly local: only pass local->remote runs */
    {"ro local, flags both", "10:FS", "10:RS", "10:S", .ro_l = true,
     .plan = "flags>R 10 +R- st=RS", .final = "R 10:FRS | L 10:RS | S 10:RS"},
    {"ro local, new remote not copied", "10:S", "", "", .ro_l = true,
     .plan = "", .final = "R 10:S | L | S"},
    {"ro local, remote deletion kept", "", "10:S", "10:S", .ro_l = true,
     .plan = "", .final = "R | L 10:S | S 10:S"},
    {"ro local, local deletion applied", "10:S", "", "10:S", .ro_l = true,
     .plan = "delete>R 10 st-", .final = "R | L | S"},
    {"ro local, gone from both", "", "", "10:S", .ro_l = true,
     .plan = "forget>R 10 st-", .final = "R | L | S"},
    {"ro local, status lost: local flags recorded", "10:FS", "10:S", "",
     .ro_l = true, .plan = "link>R 10 st=S",
     .final = "R 10:FS | L 10:S | S 10:S"},
    {"ro both", "10:FS 11:S", "10:S n:S", "10:S 12:S", .ro_r = true,
     .ro_l = true, .plan = "",
     .final = "R 10:FS 11:S | L 0:S 10:S | S 10:S 12:S"},
    /* sync_deletes = no on the side where the message disappeared */
    {"sync_deletes no remote", "", "10:S", "10:S", .nodel_r = true, .plan = "",
     .final = "R | L 10:S | S 10:S"},
    {"sync_deletes no local", "10:S", "", "10:S", .nodel_l = true, .plan = "",
     .final = "R 10:S | L | S 10:S"},
    {"sync_deletes no still forgets", "", "", "10:S", .nodel_r = true,
     .nodel_l = true, .plan = "forget>L 10 st-", .final = "R | L | S"},
    /* maxsize: SMALLER is strict on the remote, the Maildir test is
     * "size > maxsize skipped" */
    {"maxsize remote at limit", "10:S/100", "", "", .maxsize = 100, .plan = "",
     .final = "R 10:S | L | S"},
    {"maxsize remote below", "10:S/99", "", "", .maxsize = 100,
     .plan = "copy>L 10 =S st=S", .final = "R 10:S | L 10:S | S 10:S"},
    {"maxsize local at limit", "", "n:S/100", "", .maxsize = 100,
     .plan = "copy>R 0 =S st@new=S", .final = "R 1000:S | L 1000:S | S 1000:S"},
    {"maxsize local above", "", "n:S/101", "", .maxsize = 100, .plan = "",
     .final = "R | L 0:S | S"},
    /* oimap: excluded on one side only (CRLF vs LF sizes): not a
     * deletion, flags left alone, record kept */
    {"maxsize one side only", "10:FS/100", "10:S/98", "10:S", .maxsize = 100,
     .plan = "", .final = "R 10:FS | L 10:S | S 10:S"},
    {"maxsize gone locally", "10:S/200", "", "10:S", .maxsize = 100, .plan = "",
     .final = "R 10:S | L | S 10:S"},
    /* copy_ignore: never downloaded, even when the status lost it */
    {"copy_ignore", "10:S 11:S", "", "", .ignore = 10,
     .plan = "copy>L 11 =S st=S", .final = "R 10:S 11:S | L 11:S | S 11:S"},
    /* oimap: a UID already on both sides is recorded (OfflineIMAP skips
     * it; the flags then change again on the next run) */
    {"copy_ignore on both sides", "10:FS", "10:S", "", .ignore = 10,
     .plan = "link>L 10 st=FS; flags>R 10 +-F st=S",
     .final = "R 10:S | L 10:S | S 10:S"},
    /* the valve refuses the whole folder, forgetting included, so the
     * next run sees the same state and refuses again */
    {"valve refuses everything", "", "1:S 2:S 3:S 4:S 5:S",
     "1:S 2:S 3:S 4:S 5:S 6:S", .plan = "",
     .final = "R | L 1:S 2:S 3:S 4:S 5:S | S 1:S 2:S 3:S 4:S 5:S 6:S"},
    {"copy_ignore does not stop deletion", "10:S", "", "10:S", .ignore = 10,
     .plan = "delete>R 10 st-", .final = "R | L | S"},
    /* safety valve: remote lost all 5 known messages */
    {"valve remote emptied", "",
     "1:S 2:S 3:S 4:S 5:S n:", "1:S 2:S 3:S 4:S 5:S", .plan = "",
     .final = "R | L 0: 1:S 2:S 3:S 4:S 5:S | S 1:S 2:S 3:S 4:S 5:S"},
    {"valve local emptied", "1:S 2:S 3:S 4:S 5:S 6:", "", "1:S 2:S 3:S 4:S 5:S",
     .plan = "",
     .final = "R 1:S 2:S 3:S 4:S 5:S 6: | L | S 1:S 2:S 3:S 4:S 5:S"},
    {"valve below threshold", "", "1:S 2:S 3:S 4:S", "1:S 2:S 3:S 4:S",
     .plan = "delete>L 1 st-; delete>L 2 st-; delete>L 3 st-; "
	     "delete>L 4 st-",
     .final = "R | L | S"},
    {"valve off", "", "1:S 2:S 3:S 4:S 5:S", "1:S 2:S 3:S 4:S 5:S",
     .valve_off = true,
     .plan = "delete>L 1 st-; delete>L 2 st-; delete>L 3 st-; "
	     "delete>L 4 st-; delete>L 5 st-",
     .final = "R | L | S"},
    {"valve: one left is not empty", "5:S", "1:S 2:S 3:S 4:S 5:S",
     "1:S 2:S 3:S 4:S 5:S",
     .plan = "delete>L 1 st-; delete>L 2 st-; delete>L 3 st-; "
	     "delete>L 4 st-",
     .final = "R 5:S | L 5:S | S 5:S"},
    {"valve: both emptied just forgets", "", "", "1:S 2:S 3:S 4:S 5:S",
     .plan = "forget>L 1 st-; forget>L 2 st-; forget>L 3 st-; "
	     "forget>L 4 st-; forget>L 5 st-",
     .final = "R | L | S"},
    /* first sync, empty status */
    {"first sync", "1:S 2:FS 3:", "2:S 7:R n:", "",
     .plan = "copy>L 1 =S st=S; link>L 2 st=FS; copy>L 3 = st=; "
	     "copy>R 0 = st@new=; copy>R 7 =R st@new=R; "
	     "flags>R 2 +-F st=S",
     .final = "R 1:S 2:S 3: 1000: 1001:R | L 1:S 2:S 3: 1000: 1001:R | "
	      "S 1:S 2:S 3: 1000: 1001:R"},
    /* order of phases: R2L copy, delete, flags; L2R copy, delete, flags */
    {"phase order", "1:S 2:FS 4:S 5:S 6:S",
     "2:S 3:S 5:RS 6:S n:", "2:S 3:S 5:S 6:S 4:S",
     .plan = "copy>L 1 =S st=S; delete>L 3 st-; flags>L 2 +F- st=FS; "
	     "copy>R 0 = st@new=; delete>R 4 st-; flags>R 5 +R- st=RS",
     .final = "R 1:S 2:FS 5:RS 6:S 1000: | L 1:S 2:FS 5:RS 6:S 1000: | "
	      "S 1:S 2:FS 5:RS 6:S 1000:"},
    /* keywords mapped to lower-case letters travel like flags */
    {"keyword letters", "10:Sa", "10:Sb", "10:S",
     .plan = "flags>L 10 +a- st=Sa; flags>R 10 +b- st=Sab",
     .final = "R 10:Sab | L 10:Sab | S 10:Sab"},
};

static void test_options(void **state)
{
	run_rows(option_rows, ARRAY_SIZE(option_rows));
}

/*
 * Final states computed by OfflineIMAP itself: random snapshots run through
 * offlineimap3's BaseFolder.syncmessagesto() (remote pass, then local pass,
 * as accounts.syncfolder() does) on fake folders.  opts: 1 read-only
 * remote, 2 read-only local, 4 sync_deletes = no remote, 8 the same local;
 * ign: a remote copy_ignore UID.  Generated once; the UIDs the fake server
 * assigned start at 1000 like the model executor's.  Cases hitting the
 * copy_ignore deviation (plan.c) were left out.
 */
static const struct oracle_row {
	const char *remote, *local, *status;
	unsigned opts;
	uint32_t ign;
	const char *final;
} oracle_rows[] = {
    {"1:", "1:", "1:DFRS", 1, 0,
     "R 1: | "
     "L 1: | "
     "S 1:"},
    {"3:D", "2:DFS 3:D n:DS", "3:Ta", 2, 0,
     "R 3:D 1000:DS 1001:DFS | "
     "L 3:D 1000:DS 1001:DFS | "
     "S 3:D 1000:DS 1001:DFS"},
    {"", "1: n:D", "1:a", 0, 0,
     "R 1000:D | "
     "L 1000:D | "
     "S 1000:D"},
    {"1: 3:DFT 4:T 6:DSa", "1:F 3:a 5:STa 6:DFa n:F", "2:DFS 3:a 6:FT", 0, 3,
     "R 1:F 3:DFT 4:T 6:DSa 1000:F 1001:STa | "
     "L 1:F 3:DFT 4:T 6:DSa 1000:F 1001:STa | "
     "S 1:F 3:DFT 4:T 6:DSa 1000:F 1001:STa"},
    {"2:RS 4:RT", "1:FT 2:FRSTa 3:RT 4:DTa 5:FRST 6:S n:DRa",
     "1:DTa 2:DTa 4:DRST 6:R", 0, 0,
     "R 2:FRS 4:Ta 1000:DRa 1001:RT 1002:FRST | "
     "L 2:FRS 4:Ta 1000:DRa 1001:RT 1002:FRST | "
     "S 2:FRS 4:Ta 1000:DRa 1001:RT 1002:FRST"},
    {"3:a 6:RTa", "2:FR 3:DFST 6:a n:", "1:FT 2:Sa 3:a 4:F", 8, 0,
     "R 3:DFST 6:a 1000: | "
     "L 3:DFST 6:a 1000: | "
     "S 3:DFST 6:a 1000:"},
    {"1:FS", "", "", 0, 2,
     "R 1:FS | "
     "L 1:FS | "
     "S 1:FS"},
    {"1:Ta 3:DFR 4:FRST", "1:FT 4:Fa", "1:DF 2:a 3:DSTa 4:Sa", 3, 1,
     "R 1:Ta 3:DFR 4:FRST | "
     "L 1:FT 4:Fa | "
     "S 1:DF 2:a 3:DSTa 4:Sa"},
    {"2:DRT 3:RS", "2:Ra 3:R", "2:FT", 8, 0,
     "R 2:DRa 3:R | "
     "L 2:DRa 3:R | "
     "S 2:DRa 3:R"},
    {"1:DSa 2:DRa 3:a 4:DFS", "1:a 2:DFTa 3:FT n:FTa", "1:DFSTa 2:ST 3:FST", 0,
     1,
     "R 1:a 2:DFRa 3:a 4:DFS 1000:FTa | "
     "L 1:a 2:DFRa 3:a 4:DFS 1000:FTa | "
     "S 1:a 2:DFRa 3:a 4:DFS 1000:FTa"},
    {"1:", "", "2:DST", 12, 3,
     "R 1: | "
     "L 1: | "
     "S 1:"},
    {"1:F 2:RSTa", "1:S", "1:FTa 2:FR", 0, 1,
     "R 1:S | "
     "L 1:S | "
     "S 1:S"},
    {"2:Da", "1:DFa 2:FR", "", 0, 3,
     "R 2:FR 1000:DFa | "
     "L 2:FR 1000:DFa | "
     "S 2:FR 1000:DFa"},
    {"5:DFRT", "1:RS 3:F 5:a n:DFS", "1:DRa 3: 4:DS", 0, 0,
     "R 5:a 1000:DFS | "
     "L 5:a 1000:DFS | "
     "S 5:a 1000:DFS"},
    {"2:F 3:DSa 4:DFTa", "3:FT 4:ST 6:", "2: 3:FSTa 4:a 6:DRSa", 0, 0,
     "R 3:D 4:DFST | "
     "L 3:D 4:DFST | "
     "S 3:D 4:DFST"},
    {"2:a 3:FSa", "1:DSa 2:T 4:FSTa 5:RTa n:FT", "1:Ta", 8, 3,
     "R 2:T 3:FSa 1000:FT 1001:FSTa 1002:RTa | "
     "L 2:T 1000:FT 1001:FSTa 1002:RTa | "
     "S 2:T 1000:FT 1001:FSTa 1002:RTa"},
    {"1:DRT", "", "1:RST", 0, 3,
     "R | "
     "L | "
     "S"},
    {"2:D 3:Sa 4:D", "3:DRS n:", "1:RST 2:D 3:RST 4:", 3, 2,
     "R 2:D 3:Sa 4:D | "
     "L 0: 3:DRS | "
     "S 1:RST 2:D 3:RST 4:"},
    {"2:DFRST", "3:DRSTa n:D", "1:DF", 0, 0,
     "R 2:DFRST 1000:D 1001:DRSTa | "
     "L 2:DFRST 1000:D 1001:DRSTa | "
     "S 2:DFRST 1000:D 1001:DRSTa"},
    {"1: 2:DFRT 3:DFSa", "2:DRSa", "1:DS 3:S", 0, 0,
     "R 2:DRSa | "
     "L 2:DRSa | "
     "S 2:DRSa"},
    {"3:F 5:ST", "1:DS 3:a 4:DFRa 5:S", "1:Sa 2:D 3:T 4:DF 5:DSa", 3, 3,
     "R 3:F 5:ST | "
     "L 1:DS 3:a 4:DFRa 5:S | "
     "S 1:Sa 2:D 3:T 4:DF 5:DSa"},
    {"", "1:DSa", "1:a 2:DST", 0, 0,
     "R | "
     "L | "
     "S"},
    {"1:DR 2:DRS", "1:DFRT 2:R", "", 4, 0,
     "R 1:DFRT 2:R | "
     "L 1:DFRT 2:R | "
     "S 1:DFRT 2:R"},
    {"1:RSa 3:DR", "1:DTa 2:DRST 4:Ra", "1:ST 2:DFS 3:Ra 4:RS 5:DFTa", 0, 0,
     "R 1:DRa | "
     "L 1:DRa | "
     "S 1:DRa"},
    {"", "1:", "1:Da", 0, 0,
     "R | "
     "L | "
     "S"},
    {"1:ST 5:DRSa", "2:DFRST 3:DFT 4:RTa", "2:DST", 0, 3,
     "R 1:ST 5:DRSa 1000:DFT 1001:RTa | "
     "L 1:ST 5:DRSa 1000:DFT 1001:RTa | "
     "S 1:ST 5:DRSa 1000:DFT 1001:RTa"},
    {"1:T 2:DFT 3:R", "1:Da 2:RTa n:DRSTa", "1:DSTa 3:DFRS", 2, 0,
     "R 1: 2:DFT 1000:DRSTa | "
     "L 1:Da 2:RTa 1000:DRSTa | "
     "S 1:Da 2:RTa 1000:DRSTa"},
    {"1:DST 2:STa 3:DFS 4:FR", "1:RS 2:RT 3:FTa", "1:Sa 3:RT 4:DT", 8, 0,
     "R 1:DRST 2:RT 3:DFSa 4:FR | "
     "L 1:DRST 2:RT 3:DFSa | "
     "S 1:DRST 2:RT 3:DFSa 4:DT"},
    {"1:Sa", "1:T", "", 0, 0,
     "R 1:T | "
     "L 1:T | "
     "S 1:T"},
    {"1:Fa 2:T 4:R", "1:DRST 2:RSa 3:DFRTa", "1:D 2:DFR 3:Ra 4:RTa", 4, 2,
     "R 1:FRSTa 2:STa | "
     "L 1:FRSTa 2:STa 3:DFRTa | "
     "S 1:FRSTa 2:STa 3:Ra"},
    {"1:DFRST 2:DF 3:DFS 5:FT", "1:DFRT 4:T", "1:DST 4:FTa", 12, 3,
     "R 1:DFRT 2:DF 3:DFS 5:FT | "
     "L 1:DFRT 2:DF 4:T 5:FT | "
     "S 1:DFRT 2:DF 4:FTa 5:FT"},
    {"1:DS 3:DR 4:S", "1:F 2:Ra 3:S n:FTa", "1:R 2:Fa 3:FS 4:Da", 1, 0,
     "R 1:DS 3:DR 4:S | "
     "L 0:FTa 1:DFS 3:DR | "
     "S 1:DS 3:DR 4:Da"},
    {"1:DS 2:DS 4:FS", "1:FT 2: 3:FT 5:FRS n:RTa", "1:DR 2:ST 5:ST", 4, 0,
     "R 1:FST 2:D 4:FS 1000:RTa 1001:FT | "
     "L 1:FST 2:D 4:FS 5:FRS 1000:RTa 1001:FT | "
     "S 1:FST 2:D 4:FS 5:ST 1000:RTa 1001:FT"},
    {"1:T 2:FT", "2: 3:FR", "1:R 4:DFa", 0, 0,
     "R 2: 1000:FR | "
     "L 2: 1000:FR | "
     "S 2: 1000:FR"},
    {"", "1:", "", 3, 0,
     "R | "
     "L 1: | "
     "S"},
    {"1:DSa 3:", "2:FTa 3:D", "2:RSa 3:DFRa", 0, 0,
     "R 1:DSa 3: | "
     "L 1:DSa 3: | "
     "S 1:DSa 3:"},
    {"3:Fa", "2:DF 4:D n:DFT", "1:DFRS 2:S 3:RT 4:FT", 3, 1,
     "R 3:Fa | "
     "L 0:DFT 2:DF 4:D | "
     "S 1:DFRS 2:S 3:RT 4:FT"},
    {"2:", "1: 2:a", "2:a", 8, 2,
     "R 2: 1000: | "
     "L 2: 1000: | "
     "S 2: 1000:"},
    {"1:RSa 2:R 3:Fa 4:RSa", "1:F 2:FRTa 3:Ra 4:D", "1:FRSTa 3:DFR", 0, 0,
     "R 1: 2:FRTa 3:a 4:D | "
     "L 1: 2:FRTa 3:a 4:D | "
     "S 1: 2:FRTa 3:a 4:D"},
    {"2:DFT", "1:R", "1:DSTa", 2, 0,
     "R 2:DFT | "
     "L 1:R | "
     "S 1:DSTa"},
    {"2:FSa 3:FRTa", "1:DFa 2:FS", "2:Ra", 12, 1,
     "R 2:FS 3:FRTa 1000:DFa | "
     "L 2:FS 3:FRTa 1000:DFa | "
     "S 2:FS 3:FRTa 1000:DFa"},
    {"2:T 3:DFa 5:Ta", "3:FS 5:FSTa n:Sa", "3:ST 5:DFTa", 0, 1,
     "R 2:T 3:DFa 5:STa 1000:Sa | "
     "L 2:T 3:DFa 5:STa 1000:Sa | "
     "S 2:T 3:DFa 5:STa 1000:Sa"},
    {"2:R", "1: 2:DFRT", "2:FRST", 0, 2,
     "R 2:DR 1000: | "
     "L 2:DR 1000: | "
     "S 2:DR 1000:"},
    {"1: 2:DF 4:FR 5:DFTa", "1:S 2:DRT 3:Sa 4:DS 5:RS n:DF", "2:STa 3:FTa 4:F",
     2, 0,
     "R 1: 2:DFR 4:DRS 5:DFTa 1000:DF | "
     "L 1:S 2:DRT 3:Sa 4:DS 5:RS 1000:DF | "
     "S 1:S 2:DRT 3:FTa 4:DS 5:RS 1000:DF"},
    {"1:S", "2: 3:RST", "1:DRT 3:RT", 4, 3,
     "R 1000: | "
     "L 3:RST 1000: | "
     "S 3:RT 1000:"},
    {"1:FR", "1:FRT 2:a", "1:a 2:DR 3:", 0, 1,
     "R 1:FRT | "
     "L 1:FRT | "
     "S 1:FRT"},
    {"1:FRSTa", "2:a", "1:FRST", 0, 0,
     "R 1000:a | "
     "L 1000:a | "
     "S 1000:a"},
    {"1:DFRS", "1:DF", "", 0, 3,
     "R 1:DF | "
     "L 1:DF | "
     "S 1:DF"},
    {"1:FSTa", "1:DR 3:S n:RT", "1:F 3:DRS", 1, 0,
     "R 1:FSTa | "
     "L 0:RT 1:DRSTa | "
     "S 1:FSTa"},
    {"", "", "", 3, 0,
     "R | "
     "L | "
     "S"},
    {"2:FRa", "1:Ra", "3:DR", 2, 0,
     "R 2:FRa 1000:Ra | "
     "L 1000:Ra | "
     "S 1000:Ra"},
    {"4:a", "2:DFRSTa 3:DSa 4:Ta", "1:FRST 4:ST", 2, 0,
     "R 4:a 1000:DFRSTa 1001:DSa | "
     "L 4:Ta 1000:DFRSTa 1001:DSa | "
     "S 4:Ta 1000:DFRSTa 1001:DSa"},
    {"", "", "1:", 0, 1,
     "R | "
     "L | "
     "S"},
    {"1: 2:DFa", "1:R 3:Fa", "1:F 2:Da 3:DFSa", 1, 0,
     "R 1: 2:DFa | "
     "L 1:R | "
     "S 1: 2:Da"},
    {"1:DSTa", "1:RT n:T", "1:DRT", 2, 0,
     "R 1:STa 1000:T | "
     "L 1:RT 1000:T | "
     "S 1:RT 1000:T"},
    {"1:DF 2:", "1:DT 2:DF 4:S n:DST", "1:T 3:FTa", 4, 0,
     "R 1:DF 2:DF 1000:DST 1001:S | "
     "L 1:DF 2:DF 1000:DST 1001:S | "
     "S 1:DF 2:DF 1000:DST 1001:S"},
    {"1:R 2:DT 3:Ra", "1:RST 3:FTa", "1:FRS 3:a", 0, 2,
     "R 1:RT 2:DT 3:FRTa | "
     "L 1:RT 3:FRTa | "
     "S 1:RT 3:FRTa"},
    {"2:F 3:DTa", "2:R 3:FRSTa", "1:Da 2:a 3:", 3, 1,
     "R 2:F 3:DTa | "
     "L 2:R 3:FRSTa | "
     "S 1:Da 2:a 3:"},
    {"2:FSa", "1:S 2:DRT", "1:DFa", 4, 1,
     "R 2:DRT | "
     "L 1:S 2:DRT | "
     "S 1:DFa 2:DRT"},
    {"1:DFS 2:DR 4:DFSa 5:FRTa", "2:FRa 3:RS 5:DFST",
     "1:DT 2:Fa 3:R 4:DFTa 5:DRT 6:Ta", 0, 1,
     "R 2:DR 5:FSTa | "
     "L 2:DR 5:FSTa | "
     "S 2:DR 5:FSTa"},
    {"1:FRT 2:", "1:FRST", "1:FST 2:", 0, 2,
     "R 1:FRT | "
     "L 1:FRT | "
     "S 1:FRT"},
    {"2:DFTa 3:a 6:R", "1:DS 2:STa 3:FTa 4:RST 5:RST", "2: 3:DRa 4:DFRS", 0, 0,
     "R 2:DFSTa 3:FTa 6:R 1000:DS 1001:RST | "
     "L 2:DFSTa 3:FTa 6:R 1000:DS 1001:RST | "
     "S 2:DFSTa 3:FTa 6:R 1000:DS 1001:RST"},
    {"4:FT", "1:F 3:DFS 4:FT 5:FS n:RSTa", "2:FSTa 4:S", 4, 0,
     "R 4:FT 1000:RSTa 1001:F 1002:DFS 1003:FS | "
     "L 4:FT 1000:RSTa 1001:F 1002:DFS 1003:FS | "
     "S 4:FT 1000:RSTa 1001:F 1002:DFS 1003:FS"},
    {"1:Ra 3:FR", "1:DRT 2:R 3:DST 5:DTa n:RSa", "2:DT 4:DRa 5:a", 0, 2,
     "R 1:DRT 3:DST 1000:RSa | "
     "L 1:DRT 3:DST 1000:RSa | "
     "S 1:DRT 3:DST 1000:RSa"},
    {"3:D", "1:DFa 2:ST 3:DS n:DF", "1:RST", 0, 0,
     "R 3:DS 1000:DF 1001:ST | "
     "L 3:DS 1000:DF 1001:ST | "
     "S 3:DS 1000:DF 1001:ST"},
    {"1:DFRS 2:FS 4:D 5:", "2:FSa 5:D 6:DFRa", "1:FTa 2:DFRS 3:T 6:T", 8, 0,
     "R 1:DFRS 2:FSa 4:D 5:D | "
     "L 2:FSa 4:D 5:D | "
     "S 1:FTa 2:FSa 4:D 5:D"},
    {"", "1:F", "2:FST", 0, 0,
     "R 1000:F | "
     "L 1000:F | "
     "S 1000:F"},
    {"1:RT 2:DR 3:S", "5:DSa", "1: 2:FS 3:FT 5:DFSa", 8, 0,
     "R 1:RT 2:DR 3:S | "
     "L | "
     "S 1: 2:FS 3:FT"},
    {"1:F 3:F 4:DT", "1:Ta 2:T 5:DFTa n:DRS", "1:ST 2:FT 4:DST 5:FRS", 0, 0,
     "R 1:Fa 3:F 1000:DRS | "
     "L 1:Fa 3:F 1000:DRS | "
     "S 1:Fa 3:F 1000:DRS"},
    {"1:FR 2:FR", "1:R", "1:FT 2:DRS", 2, 0,
     "R 1:R | "
     "L 1:R | "
     "S 1:R"},
    {"1:DFRa 3:DRSa", "", "1:D 2:DS 3:RT", 8, 2,
     "R 1:DFRa 3:DRSa | "
     "L | "
     "S 1:D 3:RT"},
    {"2:Ta 3:DR 5:R", "1:F 4:DR n:S", "4:DT 5:DR", 0, 0,
     "R 2:Ta 3:DR 1000:S 1001:F | "
     "L 2:Ta 3:DR 1000:S 1001:F | "
     "S 2:Ta 3:DR 1000:S 1001:F"},
    {"1:FR 2:DFRT 3:T", "3:F 4:FT n:FS", "2:D 3:DRSa 4:RT 5:ST", 2, 2,
     "R 1:FR 3:FT 1000:FS | "
     "L 3:F 4:FT 1000:FS | "
     "S 3:F 4:RT 1000:FS"},
    {"2:STa", "2:Fa 3:FRSa", "1:DRTa 2: 3:D", 12, 3,
     "R 2:FSTa | "
     "L 2:FSTa 3:FRSa | "
     "S 2:FSTa 3:D"},
    {"", "1:Ta", "1:D", 4, 0,
     "R | "
     "L 1:Ta | "
     "S 1:D"},
    {"1:FST 2:F 3:FTa", "1:DTa 2:FT n:F", "1:S 2:FRa 3:FT", 0, 0,
     "R 1:DFTa 2:FT 1000:F | "
     "L 1:DFTa 2:FT 1000:F | "
     "S 1:DFTa 2:FT 1000:F"},
    {"2:Fa 4:D", "1:Da 2:DFRS 3:DS n:a", "1:a 2: 4:T", 0, 2,
     "R 2:DFRSa 1000:a 1001:DS | "
     "L 2:DFRSa 1000:a 1001:DS | "
     "S 2:DFRSa 1000:a 1001:DS"},
    {"1:DFRST", "1:FT 2:DFS", "2:T", 0, 3,
     "R 1:FT | "
     "L 1:FT | "
     "S 1:FT"},
    {"", "1:DFTa 3:DFR 4:RS", "2: 3:FT 4:RT 5:RTa", 0, 2,
     "R 1000:DFTa | "
     "L 1000:DFTa | "
     "S 1000:DFTa"},
    {"1:DF 2:a 3:F", "1:FS 2:", "1:S 4:FTa", 1, 0,
     "R 1:DF 2:a 3:F | "
     "L 1:DF 2: 3:F | "
     "S 1:DF 2:a 3:F"},
    {"", "1: 2:DRSTa 3:Ra 4:FRa", "1:R 2:Sa 4:DS", 4, 3,
     "R 1000:Ra | "
     "L 1: 2:DRSTa 4:FRa 1000:Ra | "
     "S 1:R 2:Sa 4:DS 1000:Ra"},
    {"1:Fa 2:DRS", "1:FRS 2:DRT", "1:DT 2:FT", 12, 0,
     "R 1:FRSa 2:DRS | "
     "L 1:FRSa 2:DRS | "
     "S 1:FRSa 2:DRS"},
    {"1:D 2:DR 3:DF 4:RSa 5:FT", "3:DSa 4:FS", "1:a 2:FR 3: 4:FRa 5:S 6:RTa", 0,
     0,
     "R 3:DFSa 4:S | "
     "L 3:DFSa 4:S | "
     "S 3:DFSa 4:S"},
    {"1:RS", "1:DRST 2:T n:DF", "2:DSa", 0, 0,
     "R 1:DRST 1000:DF | "
     "L 1:DRST 1000:DF | "
     "S 1:DRST 1000:DF"},
    {"1:FTa 2:FRT 3: 5:Fa 6:FTa", "1:T 3:RS 4:S", "4:DFSa 5:DF 6:Fa", 0, 0,
     "R 1:T 2:FRT 3:RS | "
     "L 1:T 2:FRT 3:RS | "
     "S 1:T 2:FRT 3:RS"},
    {"1:DST 2:", "2:DRST", "2:DFT", 4, 2,
     "R 1:DST 2:RS | "
     "L 1:DST 2:RS | "
     "S 1:DST 2:RS"},
    {"1:F", "1:RST", "1:ST", 12, 2,
     "R 1:FR | "
     "L 1:FR | "
     "S 1:FR"},
    {"1:Ra 2:FSTa 3:RTa", "2: 3:DF n:FR", "2:R 3:Da", 4, 0,
     "R 1:Ra 2:FSTa 3:FRT 1000:FR | "
     "L 1:Ra 2:FSTa 3:FRT 1000:FR | "
     "S 1:Ra 2:FSTa 3:FRT 1000:FR"},
    {"", "1:S n:DT", "", 3, 0,
     "R | "
     "L 0:DT 1:S | "
     "S"},
    {"2:FS 3:R 4:Sa 5:RTa", "1:Fa 2:RT 3:F 4:", "1:FRS 2:T 3:FSa 4:DS 5:a", 2,
     1,
     "R 2:FRS 3:R 4:a | "
     "L 1:Fa 2:RT 3:F 4: | "
     "S 1:FRS 2:RT 3:F 4:"},
    {"", "", "1:RS", 1, 0,
     "R | "
     "L | "
     "S"},
    {"1:R 2:T 3:DSa", "1:DR", "3:DF", 0, 0,
     "R 1:DR 2:T | "
     "L 1:DR 2:T | "
     "S 1:DR 2:T"},
    {"1:Da 2:RS 3:FRST 5:Sa", "1:DFRSa 2:D 3:DFS", "1:FT 3:ST 4:ST", 0, 3,
     "R 1:DRSa 2:D 3:DFRS 5:Sa | "
     "L 1:DRSa 2:D 3:DFRS 5:Sa | "
     "S 1:DRSa 2:D 3:DFRS 5:Sa"},
    {"2:DFTa 3:DR 4:a 5:FRS", "4:Da n:R", "1:DFRSTa 2:Fa 3:DFS 4:DRa 5:F", 1, 2,
     "R 2:DFTa 3:DR 4:a 5:FRS | "
     "L 0:R 4:a | "
     "S 2:Fa 3:DFS 4:a 5:F"},
    {"1: 3:D", "2:Da 3: 4:Fa n:FTa", "2:Da 3:T", 0, 1,
     "R 1: 3:D 1000:FTa 1001:Fa | "
     "L 3:D 1000:FTa 1001:Fa | "
     "S 3:D 1000:FTa 1001:Fa"},
    {"1:a 2:FRa 4:Fa 6:Fa", "1:FSa 2:FRa 3:DSa", "1:DRTa 2:T 4:DFS 6:RS", 0, 0,
     "R 1:FSa 2:FRa 1000:DSa | "
     "L 1:FSa 2:FRa 1000:DSa | "
     "S 1:FSa 2:FRa 1000:DSa"},
    {"1:DR", "", "1:FRT", 8, 3,
     "R 1:DR | "
     "L | "
     "S 1:FRT"},
    {"1:DF 2:STa 3:FRS 4:D 5:a", "2:D 3:DFST 4:FT 5:DFa n:FRT", "3:DS 4:Sa 6:S",
     3, 0,
     "R 1:DF 2:STa 3:FRS 4:D 5:a | "
     "L 0:FRT 2:D 3:DFST 4:FT 5:DFa | "
     "S 3:DS 4:Sa 6:S"},
    {"1:FRST 2:T 4:S", "1:Sa 2:Ra 4:DFRSTa", "4:RS", 0, 3,
     "R 1:Sa 2:Ra 4:DFSTa | "
     "L 1:Sa 2:Ra 4:DFSTa | "
     "S 1:Sa 2:Ra 4:DFSTa"},
    {"1:ST 2:R 3:RT 5:ST", "1:DFT 2:F 3:DRSTa 4:DRT 5:FRSTa", "2:R 3:S 4:a 5:S",
     0, 0,
     "R 1:DFT 2:F 3:DRTa 5:FRSTa | "
     "L 1:DFT 2:F 3:DRTa 5:FRSTa | "
     "S 1:DFT 2:F 3:DRTa 5:FRSTa"},

};

static void test_offlineimap_oracle(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(oracle_rows); i++) {
		const struct oracle_row *x = &oracle_rows[i];
		char name[32];
		snprintf(name, sizeof(name), "oracle row %zu", i);
		struct sync_plan_opts o = SYNC_PLAN_OPTS_INIT;
		o.readonly[SYNC_REMOTE] = x->opts & 1;
		o.readonly[SYNC_LOCAL] = x->opts & 2;
		o.no_sync_deletes[SYNC_REMOTE] = x->opts & 4;
		o.no_sync_deletes[SYNC_LOCAL] = x->opts & 8;
		/* OfflineIMAP has no valve */
		o.valve_off = true;
		if (x->ign) {
			o.copy_ignore[SYNC_REMOTE] = &x->ign;
			o.copy_ignore_nr[SYNC_REMOTE] = 1;
		}
		struct snap_buf b;
		struct sync_plan p;
		struct oim_err err = OIM_ERR_INIT;
		struct strbuf fin = STRBUF_INIT;
		make_snap(&b, x->remote, x->local, x->status);
		if (sync_plan_build(&b.sn, &o, &p, &err) < 0)
			fail_msg("%s: %s", name, err.msg);
		execute(&b, &p, &fin);
		if (strcmp(fin.buf, x->final))
			fail_msg("%s: final\n  got  '%s'\n  want '%s'", name,
				 fin.buf, x->final);
		sync_plan_release(&p);
		strbuf_release(&fin);
	}
}

/* Build with custom options and compare plan and final state. */
static void check_custom(const char *name, const char *r, const char *l,
			 const char *s, struct sync_plan_opts *o,
			 const char *plan, const char *final)
{
	struct row row = {name, r, l, s, .plan = plan, .final = final};
	check_row(&row, o);
}

static void test_quick(void **state)
{
	struct sync_plan_opts o = SYNC_PLAN_OPTS_INIT;
	struct snap_buf b;
	struct sync_plan p;
	struct oim_err err = OIM_ERR_INIT;

	o.quick = true;
	o.remote_exists = 2;
	/* Nothing changed locally, same count remotely: skipped, even though
	 * the remote changed a flag (not seen by -q, as documented). */
	make_snap(&b, "1:FS 2:S", "1:S 2:S", "1:S 2:S");
	assert_true(sync_plan_quick_unchanged(&b.sn, &o));
	assert_int_equal(sync_plan_build(&b.sn, &o, &p, &err), 0);
	assert_true(p.quick_skipped);
	assert_int_equal(p.nr, 0);
	sync_plan_release(&p);

	/* A local flag change makes the folder changed: full sync, which
	 * then sees the remote change too. */
	make_snap(&b, "1:FS 2:S", "1:S 2:RS", "1:S 2:S");
	assert_false(sync_plan_quick_unchanged(&b.sn, &o));
	check_custom("quick local changed", "1:FS 2:S", "1:S 2:RS", "1:S 2:S",
		     &o, "flags>L 1 +F- st=FS; flags>R 2 +R- st=RS",
		     "R 1:FS 2:RS | L 1:FS 2:RS | S 1:FS 2:RS");
	/* new local mail */
	make_snap(&b, "", "1:S 2:S n:", "1:S 2:S");
	assert_false(sync_plan_quick_unchanged(&b.sn, &o));
	/* a local deletion */
	make_snap(&b, "", "1:S", "1:S 2:S");
	assert_false(sync_plan_quick_unchanged(&b.sn, &o));
	/* remote count differs */
	o.remote_exists = 3;
	make_snap(&b, "", "1:S 2:S", "1:S 2:S");
	assert_false(sync_plan_quick_unchanged(&b.sn, &o));
	check_custom("quick remote count", "1:S 2:S 3:", "1:S 2:S", "1:S 2:S",
		     &o, "copy>L 3 = st=",
		     "R 1:S 2:S 3: | L 1:S 2:S 3: | "
		     "S 1:S 2:S 3:");
	/* IMAP local side: counts only */
	o.remote_exists = 2;
	o.local_is_imap = true;
	o.local_exists = 2;
	make_snap(&b, "", "1:F 2:S", "1:S 2:S");
	assert_true(sync_plan_quick_unchanged(&b.sn, &o));
	o.local_exists = 1;
	assert_false(sync_plan_quick_unchanged(&b.sn, &o));

	/* quick with maxage: ignored, full plan */
	o = (struct sync_plan_opts)SYNC_PLAN_OPTS_INIT;
	o.quick = true;
	o.remote_exists = 1;
	o.maxage_since = 100;
	o.maxage_cutoff = 50;
	make_snap(&b, "1:FS@200", "1:S@200", "1:S");
	assert_int_equal(sync_plan_build(&b.sn, &o, &p, &err), 0);
	assert_true(p.quick_ignored);
	assert_false(p.quick_skipped);
	assert_int_equal(p.nr, 1);
	sync_plan_release(&p);
}

static void test_maxage_window(void **state)
{
	struct sync_plan_opts o = SYNC_PLAN_OPTS_INIT;
	/* 2026-11-23 13:00:00 UTC */
	int64_t now = 1795438800;
	sync_plan_maxage_window(now, 3, &o);
	assert_true(o.maxage_cutoff == now - 3 * 86400);
	/* 2026-11-21 00:00:00 UTC: the day after 2026-11-20 */
	assert_true(o.maxage_since == 1795219200);
	/* maxage = 2026-11-20: the same window from that day's start */
	sync_plan_maxage_cutoff(1795132800, &o);
	assert_true(o.maxage_cutoff == 1795132800);
	assert_true(o.maxage_since == 1795219200);
	sync_plan_maxage_window(now, 0, &o);
	assert_true(o.maxage_since == 0 && o.maxage_cutoff == 0);

	o.maxage_since = 1000;
	o.maxage_cutoff = 900;
	/* floor = 6 (the smallest recent remote UID; date == since is
	 * recent).  UID 5 is below it: its absence locally is not a
	 * deletion, and the record of 4 (on neither side) is kept. */
	check_custom(
	    "maxage floor", "5:S@999 6:S@1000 7:@1200", "6:S", "4:S 5:S 6:S",
	    &o, "copy>L 7 = st=", "R 5:S 6:S 7: | L 6:S 7: | S 4:S 5:S 6:S 7:");
	/* inside the window things sync as usual, new local mail is
	 * uploaded whatever its date */
	check_custom(
	    "maxage inside", "5:S@999 6:S@1000 7:S@1200", "5:S 7:FS n:S@1",
	    "5:S 6:S 7:S", &o,
	    "copy>R 0 =S st@new=S; delete>R 6 st-; flags>R 7 +F- st=FS",
	    "R 5:S 7:FS 1000:S | L 5:S 7:FS 1000:S | "
	    "S 5:S 7:FS 1000:S");
	/* no recent remote mail: local dates (>= cutoff) decide the floor;
	 * new local mail older than the cutoff stays local */
	check_custom("maxage local floor", "5:S@10 6:S@20",
		     "5:S@10 6:FS@950 n:@899 n:R@900", "5:S 6:S", &o,
		     "copy>R 0 =R st@new=R; flags>R 6 +F- st=FS",
		     "R 5:S 6:FS 1000:R | L 0: 5:S 6:FS 1000:R | "
		     "S 5:S 6:FS 1000:R");
	/* nothing recent anywhere: nothing considered, nothing deleted */
	check_custom("maxage nothing recent", "5:S@10", "6:S@10", "5:S 6:S 7:S",
		     &o, "", "R 5:S | L 6:S | S 5:S 6:S 7:S");
}

static void test_startdate(void **state)
{
	struct sync_plan_opts o = SYNC_PLAN_OPTS_INIT;
	struct snap_buf b;
	struct sync_plan p;
	struct oim_err err = OIM_ERR_INIT;

	o.startdate_side = SYNC_STARTDATE_REMOTE;
	o.startdate = 1000;
	/* first run: the local side must be empty */
	make_snap(&b, "3:S@999 4:S@1000", "n:S", "");
	assert_int_equal(sync_plan_build(&b.sn, &o, &p, &err), -1);
	assert_non_null(strstr(err.msg, "must be empty"));
	assert_int_equal(p.nr, 0);
	/* first run, empty local: clone from the date, save min UID */
	make_snap(&b, "3:S@999 4:S@1000 5:@2000", "", "");
	assert_int_equal(sync_plan_build(&b.sn, &o, &p, &err), 0);
	assert_int_equal(p.startdate_min_uid_save, 4);
	assert_int_equal(p.nr, 2);
	assert_int_equal(p.steps[0].uid, 4);
	sync_plan_release(&p);
	/* nothing dated: min UID 1 */
	make_snap(&b, "3:S@999", "", "");
	assert_int_equal(sync_plan_build(&b.sn, &o, &p, &err), 0);
	assert_int_equal(p.startdate_min_uid_save, 1);
	assert_int_equal(p.nr, 0);
	sync_plan_release(&p);
	/* later runs: from the saved UID on */
	o.startdate_min_uid = 4;
	check_custom("startdate later", "3:S 4:FS 5:", "4:S", "3:S 4:S 5:", &o,
		     "flags>L 4 +F- st=FS; delete>R 5 st-",
		     "R 3:S 4:FS | L 4:FS | S 3:S 4:FS");
	/* on the local side, with its own UIDs */
	o.startdate_side = SYNC_STARTDATE_LOCAL;
	o.startdate_min_uid = 20;
	make_snap(&b, "1:S 2:S", "", "1:S 2:S");
	b.l[0] = (struct sync_local_msg){
	    .uid = 1, .native_uid = 19, .flags = SYNC_F_SEEN};
	b.l[1] = (struct sync_local_msg){.uid = 2, .native_uid = 20};
	b.sn.local_nr = 2;
	assert_int_equal(sync_plan_build(&b.sn, &o, &p, &err), 0);
	/* UID 1 is out (native 19 < 20), 2 syncs its flags */
	assert_int_equal(p.nr, 1);
	assert_int_equal(p.steps[0].uid, 2);
	assert_int_equal(p.steps[0].kind, SYNC_STEP_FLAGS);
	assert_int_equal(p.steps[0].to, SYNC_REMOTE);
	assert_true(p.steps[0].del == SYNC_F_SEEN);
	assert_int_equal(p.sum.held_window, 1);
	sync_plan_release(&p);
}

static void test_valve_flags(void **state)
{
	struct sync_plan_opts o = SYNC_PLAN_OPTS_INIT;
	struct snap_buf b;
	struct sync_plan p;
	struct oim_err err = OIM_ERR_INIT;

	/* remote emptied: the local deletions are held, the flag says so */
	make_snap(&b, "", "1:S 2:S 3:S 4:S 5:S", "1:S 2:S 3:S 4:S 5:S");
	assert_int_equal(sync_plan_build(&b.sn, &o, &p, &err), 0);
	assert_true(p.valve[SYNC_REMOTE]);
	assert_false(p.valve[SYNC_LOCAL]);
	assert_int_equal(p.sum.held_valve, 5);
	assert_int_equal(p.nr, 0);
	sync_plan_release(&p);
	/* ... but with a read-only local side nothing would have been
	 * deleted anyway: no alarm */
	o.readonly[SYNC_LOCAL] = true;
	assert_int_equal(sync_plan_build(&b.sn, &o, &p, &err), 0);
	assert_false(p.valve[SYNC_REMOTE]);
	assert_int_equal(p.sum.held_valve, 0);
	sync_plan_release(&p);
	/* a custom threshold */
	o = (struct sync_plan_opts)SYNC_PLAN_OPTS_INIT;
	o.valve_min = 2;
	make_snap(&b, "1:S 2:S", "", "1:S 2:S");
	assert_int_equal(sync_plan_build(&b.sn, &o, &p, &err), 0);
	assert_true(p.valve[SYNC_LOCAL]);
	assert_int_equal(p.nr, 0);
	sync_plan_release(&p);
	o.valve_min = 3;
	assert_int_equal(sync_plan_build(&b.sn, &o, &p, &err), 0);
	assert_false(p.valve[SYNC_LOCAL]);
	assert_int_equal(p.sum.del[SYNC_REMOTE], 2);
	sync_plan_release(&p);
}

static void test_bad_input(void **state)
{
	struct sync_plan_opts o = SYNC_PLAN_OPTS_INIT;
	struct snap_buf b;
	struct sync_plan p;
	struct oim_err err = OIM_ERR_INIT;

	make_snap(&b, "", "3:S 3:F", "");
	assert_int_equal(sync_plan_build(&b.sn, &o, &p, &err), -1);
	assert_non_null(strstr(err.msg, "file0"));
	assert_non_null(strstr(err.msg, "file1"));
	assert_int_equal(err.sev, OIM_SEV_FOLDER);
	make_snap(&b, "3:S 3:F", "", "");
	assert_int_equal(sync_plan_build(&b.sn, &o, &p, &err), -1);
	assert_int_equal(err.kind, OIM_E_PROTOCOL);
	make_snap(&b, "", "", "4:S 4:S");
	assert_int_equal(sync_plan_build(&b.sn, &o, &p, &err), -1);
	assert_int_equal(err.kind, OIM_E_STATUS);
	make_snap(&b, "0:S", "", "");
	assert_int_equal(sync_plan_build(&b.sn, &o, &p, &err), -1);
	make_snap(&b, "", "", "0:S");
	assert_int_equal(sync_plan_build(&b.sn, &o, &p, &err), -1);
	assert_null(p.steps);
}

static void test_summary_and_expunge(void **state)
{
	struct sync_plan_opts o = SYNC_PLAN_OPTS_INIT;
	struct snap_buf b;
	struct sync_plan p;
	struct oim_err err = OIM_ERR_INIT;
	uint32_t ign = 9;

	o.expunge = true;
	o.maxsize = 1000;
	o.copy_ignore[SYNC_REMOTE] = &ign;
	o.copy_ignore_nr[SYNC_REMOTE] = 1;
	make_snap(&b, "1:S 2:FS 3:S 8:/5000 9:", "2:S 4:S 5:S n: n:/2000",
		  "2:S 3:S 4:S 6:");
	assert_int_equal(sync_plan_build(&b.sn, &o, &p, &err), 0);
	assert_true(p.expunge);
	assert_int_equal(p.sum.copy[SYNC_LOCAL], 1);  /* 1 */
	assert_int_equal(p.sum.copy[SYNC_REMOTE], 2); /* n:, 5 */
	assert_int_equal(p.sum.del[SYNC_LOCAL], 1);   /* 4 */
	assert_int_equal(p.sum.del[SYNC_REMOTE], 1);  /* 3 */
	assert_int_equal(p.sum.flags[SYNC_LOCAL], 1); /* 2 */
	assert_int_equal(p.sum.flags[SYNC_REMOTE], 0);
	assert_int_equal(p.sum.forget, 1);	 /* 6 */
	assert_int_equal(p.sum.held_maxsize, 2); /* 8, n:/2000 */
	assert_int_equal(p.sum.held_ignore, 1);	 /* 9 */
	assert_int_equal(p.sum.link, 0);
	sync_plan_release(&p);
	assert_string_equal(sync_step_kind_name(SYNC_STEP_FORGET), "forget");
	assert_string_equal(sync_step_kind_name((enum sync_step_kind)99), "?");
}

static void test_flags_text(void **state)
{
	sync_flags_t f = 0;
	char buf[SYNC_FLAGS_STR_MAX];
	assert_int_equal(sync_flags_parse("TSRFDzA", 7, &f), 0);
	assert_string_equal(sync_flags_format(f, buf), "ADFRSTz");
	assert_true(f & SYNC_F_SEEN);
	assert_int_equal(sync_flags_parse("S,F", 3, &f), -1);
	assert_true(f == SYNC_F_SEEN);
	assert_string_equal(sync_flags_format(0, buf), "");
	assert_true(SYNC_FLAG('!') == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_combinations),
	    cmocka_unit_test(test_options),
	    cmocka_unit_test(test_offlineimap_oracle),
	    cmocka_unit_test(test_quick),
	    cmocka_unit_test(test_maxage_window),
	    cmocka_unit_test(test_startdate),
	    cmocka_unit_test(test_valve_flags),
	    cmocka_unit_test(test_bad_input),
	    cmocka_unit_test(test_summary_and_expunge),
	    cmocka_unit_test(test_flags_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
