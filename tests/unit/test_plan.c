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
	qsort(order, n, sizeof(order[0]), cmp_msg);
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
