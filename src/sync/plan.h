/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * plan.h - the sync planner of one folder: OfflineIMAP's message sync
 * semantics as a pure function.
 *
 * Inputs are three snapshots taken before anything is changed: the remote
 * folder's messages, the local folder's messages and the status cache
 * (LocalStatus) records of that folder, plus the options that restrict or
 * forbid work.  The output is a list of steps for the executor, in the order
 * it must run them, each with the status-cache change it produces once it
 * is done.  No I/O, no globals, no clock: the same input always gives the
 * same plan, which is what lets tests/unit/test_plan.c and fuzz/fuzz_plan.c
 * check it exhaustively.
 *
 * Calling sequence (sync/folder):
 *
 *	struct sync_plan_opts opts = SYNC_PLAN_OPTS_INIT;
 *	... fill opts from the account/repository configuration ...
 *	if (opts.quick && sync_plan_quick_unchanged(&snap, &opts))
 *		skip the folder (do not even fetch the remote message list);
 *	if (sync_plan_build(&snap, &opts, &plan, &err) < 0)
 *		report err, abandon the folder;
 *	for each plan.steps[i]: carry it out, then apply step->st_op/st to the
 *		status cache;
 *	sync_plan_release(&plan);
 *
 * The semantics are those of OfflineIMAP 8 (folder/Base.py syncmessagesto
 * and accounts.py syncfolder); the places where oimap deliberately differs
 * (always in the direction of never deleting or forgetting more) are listed
 * in plan.c's top comment and marked "oimap:" below.
 *
 * 1. Two passes, as OfflineIMAP runs them: first remote -> local (skipped
 *    when the local side is read-only), then local -> remote (skipped when
 *    the remote side is read-only).  Each pass has three phases: copy
 *    (messages of the source side unknown to the status), delete (status
 *    records gone from the source side), flags (source flags compared with
 *    the status).  The second pass sees the result of the first.
 * 2. Copy: a source message whose UID the status does not know is copied to
 *    the other side, unless the other side already has that UID; then only
 *    a status record is written (SYNC_STEP_LINK) with the source's flags.
 *    Local messages without a UID (new mail) are uploaded; the server
 *    assigns their UID.  Local messages with a UID that neither the status
 *    nor the remote knows are uploaded too (as OfflineIMAP does: never lose).
 * 3. Delete: a status record whose message is gone from the source side is
 *    deleted on the other side; if it is gone from both it is only
 *    forgotten.  A message the status did not know is never deleted.  With
 *    sync_deletes = no on the source's repository the deletion is not
 *    propagated and the record stays.
 * 4. Flags: for messages on both sides, add = source - status and
 *    del = status - source are applied to the other side and the status,
 *    remote pass first.  Changes from both sides are thus merged per flag
 *    (relative to the status a flag can only change one way, so the sides
 *    cannot disagree).  For a message on both sides but not in the status
 *    (status lost), the record is made from the remote flags and the local
 *    pass then makes the remote equal to the local: the local flags win
 *    (OfflineIMAP).
 *
 * These rules were checked against OfflineIMAP's own syncmessagesto() run
 * on fake folders: every row of test_plan.c without maxsize/valve, and
 * 20000 random snapshots with read-only, sync_deletes and copy_ignore
 * options, give the same final remote, local and status lists (apart from
 * the copy_ignore deviation in plan.c).
 *
 * Executing (sync/folder's job, documented here because the plan's status
 * updates assume it):
 *  - Run steps in array order.  Steps of one phase touch different UIDs and
 *    may be pipelined or batched (OfflineIMAP groups flag changes by flag);
 *    a phase must be finished before the next one starts, because the
 *    later phases were planned on its results.
 *  - Write st (st_op) to the status cache only after the step succeeded;
 *    a failed step leaves its record as it was (OfflineIMAP: the message
 *    is skipped, the folder goes on).  Every crash point is then safe:
 *    COPY to local: the file carries its UID, so a rerun finds it on both
 *    sides and only LINKs it; DELETE: a rerun finds it on neither side and
 *    FORGETs the record; FLAGS: a rerun sees the change again and repeats
 *    it (adding or removing a flag twice is harmless).  COPY to remote is
 *    covered by the upload journal (DESIGN.md), not by the plan.
 *  - DELETE on the remote is STORE +FLAGS.SILENT (\Deleted); EXPUNGE
 *    follows at the end of the folder when plan.expunge is set.
 *  - dry-run: report the steps, execute none.
 *  - The summary (plan.sum) is for the one-line per-folder report.
 *
 * Ownership: the snapshot arrays are borrowed by sync_plan_build() only for
 * the call; nothing in the plan points into them except the indexes
 * remote_idx/local_idx, which refer to the arrays the caller passed.  The
 * plan owns its steps array; release it with sync_plan_release().
 *
 * Threads: no shared state; call from any thread.
 */
#ifndef OIMAP_SYNC_PLAN_H
#define OIMAP_SYNC_PLAN_H

#include "../util/err.h"
#include "../util/util.h"

/*
 * More messages than this in one folder snapshot is refused as bad input
 * (OIM_E_LIMIT) rather than planned: the plan arrays are sized from it.
 */
#define SYNC_PLAN_MAX_MESSAGES (64u * 1024 * 1024)

/*
 * The empty-side safety valve (see struct sync_plan_opts.valve_min): a
 * folder whose one side lost every message the status knew is refused when
 * propagating that would delete at least this many messages.
 */
#define SYNC_PLAN_VALVE_MIN_DEFAULT 5u

/* Sides; arrays of per-side values are indexed by these. */
enum sync_side {
	SYNC_REMOTE = 0,
	SYNC_LOCAL = 1,
};

/*
 * Flags are Maildir letters as OfflineIMAP keeps them: D F R S T, plus
 * lower-case letters for keywords mapped by a keywordmap.  One bit per
 * letter: 'A'..'Z' are bits 0..25, 'a'..'z' bits 26..51, so numeric order
 * is OfflineIMAP's sorted order.  Keywords without a letter do not take
 * part in the sync, as in OfflineIMAP.
 */
typedef uint64_t sync_flags_t;
#define SYNC_FLAG(c)                                                           \
	((c) >= 'A' && (c) <= 'Z'   ? (sync_flags_t)1 << ((c) - 'A')           \
	 : (c) >= 'a' && (c) <= 'z' ? (sync_flags_t)1 << ((c) - 'a' + 26)      \
				    : (sync_flags_t)0)
#define SYNC_F_DRAFT   SYNC_FLAG('D')
#define SYNC_F_FLAGGED SYNC_FLAG('F')
#define SYNC_F_REPLIED SYNC_FLAG('R')
#define SYNC_F_SEEN    SYNC_FLAG('S')
#define SYNC_F_TRASHED SYNC_FLAG('T') /* IMAP \Deleted */
#define SYNC_FLAGS_ALL (((sync_flags_t)1 << 52) - 1)
/* Room for every letter plus NUL. */
#define SYNC_FLAGS_STR_MAX 53

/*
 * Parse Maildir flag letters ("FS", "RSa").  Returns 0, or -1 if a byte is
 * not an ASCII letter (*flags_r then holds the letters before it).
 * Duplicates are fine.
 */
int sync_flags_parse(const char *s, size_t len, sync_flags_t *flags_r) OIM_WUR;
/* Write the letters of 'flags' sorted, NUL-terminated, into buf; returns buf.
 */
char *sync_flags_format(sync_flags_t flags, char buf[SYNC_FLAGS_STR_MAX]);

/* One message of the remote folder (FETCH UID FLAGS INTERNALDATE RFC822.SIZE).
 */
struct sync_remote_msg {
	uint32_t uid;	    /* > 0, unique in the array */
	sync_flags_t flags; /* IMAP flags mapped to letters */
	uint64_t size;	    /* RFC822.SIZE (CRLF line ends) */
	int64_t date;	    /* INTERNALDATE, seconds since the epoch */
};

/*
 * One message of the local folder.  For IMAP-to-IMAP, 'uid' is the local
 * message's UID mapped into the remote's UID space (UIDMaps.py), and
 * 'native_uid' its own UID.
 */
struct sync_local_msg {
	uint32_t uid;	     /* 0: new local mail, no UID yet; else unique */
	uint32_t native_uid; /* own UID space, for startdate; 0: same as uid */
	sync_flags_t flags;
	uint64_t size;	/* file size (LF line ends) */
	int64_t date;	/* Maildir name's leading timestamp, IMAP
			 * INTERNALDATE; <= 0: unknown (always inside a
			 * maxage window, as OfflineIMAP) */
	const char *id; /* borrowed, opaque (file name); only used in
			 * error messages; may be NULL */
};

/* One status cache record (LocalStatus: uid|flags|mtime|labels). */
struct sync_status_rec {
	uint32_t uid; /* > 0, unique */
	sync_flags_t flags;
	int64_t mtime; /* kept as is; 0 when the plan creates the record */
};

/*
 * The three snapshots; all arrays borrowed for the sync_plan_build() call.
 * Pass the folders' complete lists, in any order: the planner applies
 * maxsize, maxage and startdate itself (it needs the messages outside the
 * window to know that their absence elsewhere is not a deletion).
 */
struct sync_snapshot {
	const struct sync_remote_msg *remote;
	size_t remote_nr;
	const struct sync_local_msg *local;
	size_t local_nr;
	const struct sync_status_rec *status;
	size_t status_nr;
};

enum sync_startdate_side {
	SYNC_STARTDATE_NONE = 0,
	SYNC_STARTDATE_REMOTE, /* startdate in the remote's Repository */
	SYNC_STARTDATE_LOCAL,  /* startdate in the local's Repository */
};

struct sync_plan_opts {
	/* Repository 'readonly': no step changes that side (its pass is
	 * skipped, as accounts.py does). */
	bool readonly[2];
	/* Repository 'sync_deletes = no' of the side whose deletions would be
	 * propagated (zero = OfflineIMAP's default yes). */
	bool no_sync_deletes[2];

	/*
	 * -q / Account 'quick': skip the folder when the local folder equals
	 * the status (UIDs and flags; Maildir.quickchanged) and the remote's
	 * EXISTS equals the number of status records (IMAP.quickchanged).
	 * Remote-only flag changes are then not seen, as documented for -q.
	 * Ignored when maxage or startdate is set (plan.quick_ignored).
	 * For an IMAP local side set local_is_imap and local_exists.
	 */
	bool quick;
	uint64_t remote_exists;
	bool local_is_imap;
	uint64_t local_exists;

	/* Account 'maxsize' in bytes, 0 = off: remote messages of size >=
	 * maxsize (IMAP SEARCH SMALLER) and local files larger than maxsize
	 * (Maildir.py) are not considered. */
	uint64_t maxsize;

	/*
	 * Account 'maxage', 0 = off; set both with sync_plan_maxage_window().
	 * maxage_since: remote messages with INTERNALDATE >= this are "recent"
	 * (OfflineIMAP searches SINCE the day after the cutoff); the smallest
	 * recent UID is the UID floor.  maxage_cutoff: local messages whose
	 * date is >= this are inside the window (Maildir._iswithintime).
	 */
	int64_t maxage_since;
	int64_t maxage_cutoff;

	/*
	 * Repository 'startdate' (IMAP-to-IMAP): the side that has it is only
	 * considered from startdate_min_uid on (its own UID space; the
	 * StartUID/<folder> file).  When that file does not exist yet
	 * (startdate_min_uid == 0) the other side must be empty, messages of
	 * the startdate side dated >= startdate are considered, and
	 * plan.startdate_min_uid_save says what to write into the file.
	 */
	enum sync_startdate_side startdate_side;
	int64_t startdate;
	uint32_t startdate_min_uid;

	/* copy_ignore_eval of the side's IMAP repository: UIDs of that side
	 * never copied to the other one (borrowed, any order). */
	const uint32_t *copy_ignore[2];
	size_t copy_ignore_nr[2];

	/* Maildir letters no side syncs (lower-case letters without a
	 * customflag_x when the remote is IMAP): not used by the planner; the
	 * executor hides them from it (snapshot and status), so they stay in
	 * the local file names untouched, as OfflineIMAP leaves them. */
	sync_flags_t ignored_letters;

	/* IMAP 'expunge': not used by the planner, copied to plan.expunge for
	 * the executor (a remote DELETE step is STORE +FLAGS \Deleted, then
	 * EXPUNGE at the end of the folder when this is set). */
	bool expunge;

	/*
	 * Empty-side safety valve (oimap, DESIGN.md; mbsync-like: refuse when
	 * a whole side vanished).  When one side has none of the considered
	 * messages the status knows, and propagating that would delete at
	 * least valve_min (0 = SYNC_PLAN_VALVE_MIN_DEFAULT) messages on the
	 * other side, the folder is not synced at all: the plan has no steps,
	 * plan.valve[side] names the side that looks emptied, sum.held_valve
	 * the deletions refused, and the executor reports the folder as
	 * failed.  (Planning the rest would copy new mail onto the emptied
	 * side; the next run would then no longer see it empty and delete.)
	 * Not checked towards a read-only side or with sync_deletes = no,
	 * which delete nothing anyway.  Ways out for the user: restore the
	 * side; remove the folder's status cache (the next run then re-links
	 * or re-copies, deleting nothing); or valve_off, the explicit consent
	 * to propagate (a command-line flag).
	 */
	unsigned valve_min;
	bool valve_off;
};

#define SYNC_PLAN_OPTS_INIT                                                    \
	{                                                                      \
		.readonly = { false, false }                                   \
	}

/*
 * Compute opts->maxage_since/maxage_cutoff for 'maxage = days' at time
 * 'now' as OfflineIMAP does, in UTC: cutoff = now - days * 86400;
 * since = start of the UTC day after the cutoff's day.  days == 0 turns
 * maxage off.  (OfflineIMAP passes a UTC struct tm through mktime(), which
 * shifts both by the local UTC offset; oimap does not copy that.)
 */
void sync_plan_maxage_window(int64_t now, unsigned days,
			     struct sync_plan_opts *opts);
/* The same for 'maxage = YYYY-mm-dd': cutoff is that day's start. */
void sync_plan_maxage_cutoff(int64_t cutoff, struct sync_plan_opts *opts);

enum sync_step_kind {
	SYNC_STEP_COPY,	  /* copy the message to side 'to' */
	SYNC_STEP_LINK,	  /* on both sides, unknown to the status: record */
	SYNC_STEP_DELETE, /* delete the message on side 'to' */
	SYNC_STEP_FORGET, /* on neither side: drop the status record */
	SYNC_STEP_FLAGS,  /* add/remove flags of the message on side 'to' */
};
#define SYNC_STEP_KIND_NR 5
const char *sync_step_kind_name(enum sync_step_kind kind);

/* The phases, in execution order (pass remote->local, then local->remote). */
enum sync_phase {
	SYNC_PH_R2L_COPY,
	SYNC_PH_R2L_DELETE,
	SYNC_PH_R2L_FLAGS,
	SYNC_PH_L2R_COPY,
	SYNC_PH_L2R_DELETE,
	SYNC_PH_L2R_FLAGS,
};

/* What the executor does to the status cache once the step succeeded. */
enum sync_status_op {
	SYNC_ST_NONE,
	SYNC_ST_PUT, /* insert or replace record 'st' */
	SYNC_ST_DEL, /* delete record 'st.uid' */
};

#define SYNC_NO_IDX SIZE_MAX

struct sync_step {
	enum sync_step_kind kind;
	enum sync_phase phase;
	enum sync_side to;     /* the side changed (LINK/FORGET: the pass's
				* destination; nothing is changed) */
	uint32_t uid;	       /* 0 for the upload of new local mail */
	size_t remote_idx;     /* into snapshot->remote, or SYNC_NO_IDX */
	size_t local_idx;      /* into snapshot->local, or SYNC_NO_IDX */
	sync_flags_t flags;    /* COPY: flags of the new copy */
	sync_flags_t add, del; /* FLAGS: letters to add / remove */
	uint64_t size;	       /* COPY: size of the source message */
	int64_t date;	       /* COPY: date of the source message */
	enum sync_status_op st_op;
	/* PUT: the record to write.  For a COPY to the remote st.uid is 0:
	 * use the UID the server assigned (and rename the local file to it). */
	struct sync_status_rec st;
};

/* Counts for the one-line per-folder summary. */
struct sync_plan_summary {
	size_t copy[2];	   /* messages copied to the side */
	size_t del[2];	   /* messages deleted on the side */
	size_t flags[2];   /* messages whose flags change on the side */
	size_t link;	   /* status records made for messages on both sides */
	size_t forget;	   /* status records dropped, message on neither side */
	size_t held_valve; /* deletions held back by the safety valve */
	size_t held_maxsize; /* UIDs / new messages left out by maxsize */
	size_t held_window;  /* left out by maxage/startdate */
	size_t held_ignore;  /* copies suppressed by copy_ignore */
};

struct sync_plan {
	struct sync_step *steps; /* owned; in execution order */
	size_t nr, alloc;
	struct sync_plan_summary sum;
	bool quick_skipped; /* quick and nothing changed: no steps */
	bool quick_ignored; /* quick was asked with maxage/startdate */
	bool valve[2];	    /* side looked emptied: folder refused, no steps */
	bool expunge;	    /* copy of opts->expunge */
	/* startdate, first run: the value to save in StartUID (0 = none) */
	uint32_t startdate_min_uid_save;
};

/*
 * Quick-sync check (see opts->quick).  Only the local and status arrays of
 * 'snap' are read, so the remote list need not be fetched.  Returns true
 * when the folder may be skipped.
 */
bool sync_plan_quick_unchanged(const struct sync_snapshot *snap,
			       const struct sync_plan_opts *opts);

/*
 * Build the plan.  *plan_r is overwritten (need not be initialised) and
 * must be released with sync_plan_release() after success; on failure it
 * is left empty.  Fails (-1, err filled, OIM_SEV_FOLDER) on bad input: a
 * UID 0 or a duplicate UID in the remote or status array, two local
 * messages with the same UID (naming both ids), more than
 * SYNC_PLAN_MAX_MESSAGES, or startdate on a first run with a non-empty
 * other side.
 */
int sync_plan_build(const struct sync_snapshot *snap,
		    const struct sync_plan_opts *opts, struct sync_plan *plan_r,
		    struct oim_err *err) OIM_WUR;

void sync_plan_release(struct sync_plan *plan);

#endif
