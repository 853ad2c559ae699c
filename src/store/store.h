/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * store.h - the repository interface: one vtable that the sync engine uses
 * for both sides, with a driver for IMAP (store-imap.c, on imap/client.h)
 * and one for Maildir (store-maildir.c, on maildir.h).  mbsync's driver.h
 * is the model: the engine is written once for both sides.
 *
 * Nothing here knows about the other side of a sync or about accounts:
 * folder names are the store's own (IMAP: the server's name, modified
 * UTF-7, its separator; Maildir: the local name with the repository's
 * sep).  Translating names between sides is sync/account.c's job.
 *
 * Calling sequence (one worker thread):
 *
 *	store_open(&s, &repo_opts, &err)          a connection for IMAP
 *	s->ops->list_folders(s, &folders, &err)   (IMAP: with states)
 *	s->ops->folder_states(s, names, n, ...)   optional, no SELECT
 *	s->ops->open_folder(s, name, visible, flags, &f, &err)
 *	f->ops... scan, fetch, save, set_flags, delete, set_uid
 *	    (saves pipelined: save_commit_start ... save_commit_finish)
 *	s->ops->close_folder(f, expunge, &err)
 *	store_close(s)
 *
 * Message content crosses this interface as the source stores it: CRLF
 * from IMAP, LF from Maildir.  Writers normalise: a Maildir writer stores
 * LF, an IMAP writer sends CRLF.  Memory never holds a whole message: bodies
 * move in chunks from the source's fetch callback to the destination's
 * writer (an IMAP writer spools to a temporary file, since APPEND needs the
 * size first).
 *
 * Errors: 0 / -1 with struct oim_err; the severity says what is lost:
 * OIM_SEV_MESSAGE (this message only: go on with the folder),
 * OIM_SEV_FOLDER (this folder), OIM_SEV_ACCOUNT (the connection: every
 * later call on this store fails too; open a new one).
 *
 * Threads: a store and its folders are used by one thread at a time.  For
 * folders in parallel, each worker opens its own store (for IMAP, its own
 * connection).  At most one folder of a store is open at a time.
 */
#ifndef OIMAP_STORE_H
#define OIMAP_STORE_H

#include <time.h>

#include "../sync/plan.h"
#include "labels.h"
#include "../util/err.h"
#include "../util/util.h"

struct config;
struct net_tls;

/* ---- folders of a repository ---- */

/* What open_folder tells about the folder (and, where a store can say it
 * without opening the folder, list_folders / folder_states). */
struct store_folder_state {
	uint32_t uidvalidity; /* IMAP: UIDVALIDITY; Maildir: 42 (as OfflineIMAP) */
	uint32_t uidnext;     /* 0 if unknown */
	uint64_t highestmodseq;
	uint32_t exists;      /* messages in the folder (IMAP EXISTS) */
};

struct store_folder_info {
	char *name;    /* the store's own name (owned) */
	bool noselect; /* exists only as a parent (\Noselect) */
	/* The folder's state, told by the listing itself (IMAP with
	 * store_imap_opts.list_states: LIST-STATUS): has_state says it is
	 * filled, which needs UIDVALIDITY, UIDNEXT, MESSAGES and
	 * HIGHESTMODSEQ (so never without CONDSTORE). */
	bool has_state;
	struct store_folder_state state;
};

struct store_folder_list {
	struct store_folder_info *v;
	size_t nr, alloc;
	char sep; /* the store's hierarchy separator ('/' IMAP, '.' Maildir) */
};

void store_folder_list_release(struct store_folder_list *l);

/* ---- messages ---- */

struct store_msg {
	uint32_t uid;	    /* 0: no UID yet (new local Maildir mail) */
	sync_flags_t flags; /* letters as in plan.h */
	uint64_t size;	    /* as stored: CRLF (IMAP), LF (Maildir) */
	int64_t date;	    /* INTERNALDATE / Maildir time; <= 0 unknown */
	char *id;	    /* driver's handle (Maildir: "cur/<file>"); owned,
			     * NULL for IMAP */
	/* IMAP-to-IMAP (store_mapped_open): the message's UID on the local
	 * server, while uid is the remote UID it is mapped to (0: not
	 * mapped yet, new local mail).  0 for every other driver. */
	uint32_t native_uid;
	/* Gmail labels (synclabels), only when the scan was asked for them
	 * (store_scan_opts.labels): IMAP: X-GM-LABELS in the status spelling
	 * "a, b" (labels.h), "" for none, NULL when not known (the server
	 * did not send them: the label sync leaves such a message alone);
	 * owned.  Maildir: NULL (read per message with labels_read, only
	 * when mtime says it changed); mtime is the file's mtime in seconds
	 * (0 for IMAP). */
	char *labels;
	int64_t mtime;
};

struct store_msglist {
	struct store_msg *v;
	size_t nr, alloc;
	/* Files the scan left alone and did not list (Maildir: names that
	 * cannot be trusted, each already logged with log_warn): the run
	 * should end non-zero when this is not 0.  Always 0 for IMAP. */
	size_t skipped;
};

void store_msglist_release(struct store_msglist *l);

/* What a scan is limited to (OfflineIMAP's maxage / maxsize are applied
 * by the planner; drivers may use them to fetch less). */
struct store_scan_opts {
	uint32_t min_uid; /* IMAP: UID FETCH min_uid:* (0 = all) */
	/* The caller needs no sizes (no maxsize): a driver for which each
	 * costs a system call (Maildir: a stat per message) leaves size 0. */
	bool no_size;
	bool labels;	  /* Gmail labels too (store_msg.labels, .mtime) */
};

enum store_open_flags {
	STORE_OPEN_READONLY = 1 << 0, /* EXAMINE; no changes will be made */
	STORE_OPEN_CREATE = 1 << 1,   /* create the folder if missing */
	/* IMAP: delete() expunges at once, as OfflineIMAP does with expunge
	 * = yes (UID EXPUNGE of exactly those UIDs with UIDPLUS, else
	 * EXPUNGE), so a run killed after delete() returned cannot leave a
	 * \Deleted message the status cache no longer knows (the next run
	 * would download it again).  Without it, deleted messages stay
	 * \Deleted until close_folder(expunge = true).  Maildir ignores it. */
	STORE_OPEN_EXPUNGE = 1 << 2,
};

/* ---- copying messages: fetch from one side, save on the other ---- */

/*
 * Receives bodies from fetch(): begin() for each message (msg is the
 * caller's entry from the list passed to fetch), data() in chunks, end().
 * A callback returning -1 with a severity below ACCOUNT skips that message
 * (the driver goes on with the next); ACCOUNT stops the fetch.
 */
struct store_body_cb {
	int (*begin)(void *ctx, const struct store_msg *msg,
		     struct oim_err *err);
	int (*data)(void *ctx, const void *data, size_t len,
		    struct oim_err *err);
	int (*end)(void *ctx, struct oim_err *err);
};

struct store_writer;

struct store_folder;

/* Saves in flight at once through save_commit_start (see there). */
#define STORE_SAVE_INFLIGHT_MAX 16

struct store_folder_ops {
	/* List the folder's messages (UID, flags, size, date; no content). */
	int (*scan)(struct store_folder *f, const struct store_scan_opts *o,
		    struct store_msglist *out, struct oim_err *err);
	/*
	 * Stream the bodies of msgs[0..n) (entries from this folder's scan)
	 * to cb, in any order, pipelined where the driver can.  Returns -1
	 * only when the fetch as a whole failed; per-message failures are
	 * reported through cb's return values.
	 */
	int (*fetch)(struct store_folder *f, const struct store_msg *const *msgs,
		     size_t n, const struct store_body_cb *cb, void *ctx,
		     struct oim_err *err);
	/*
	 * Save a new message: begin (uid: the UID it must carry, for a
	 * Maildir receiving a message from IMAP; 0 for IMAP, which assigns
	 * one), write chunks, then commit, which returns the UID the message
	 * got (*uid_r; 0 if the server did not say, see find_uid) and the new
	 * message's id (*id_r, malloc'd, NULL for IMAP).  abort drops it.
	 * Crash safety: nothing is visible in the folder before commit
	 * (Maildir: tmp/ then rename), and commit is durable when it returns
	 * if the repository has fsync on.
	 */
	int (*save_begin)(struct store_folder *f, uint32_t uid,
			  sync_flags_t flags, int64_t date, uint64_t size_hint,
			  struct store_writer **w_r, struct oim_err *err);
	int (*save_write)(struct store_writer *w, const void *data, size_t len,
			  struct oim_err *err);
	int (*save_commit)(struct store_writer *w, uint32_t *uid_r,
			   char **id_r, struct oim_err *err);
	void (*save_abort)(struct store_writer *w);
	/*
	 * Optional (both NULL or both set): save_commit in two halves, so
	 * that several saves can be in flight (IMAP: pipelined APPENDs).
	 * save_commit_start sends the message and returns at once; the
	 * writer then belongs to the driver until save_commit_finish, which
	 * waits for that save and returns what save_commit returns, and
	 * frees the writer whatever the outcome.  A failing start frees the
	 * writer too.  Rules: finish writers in the order they were
	 * started; at most STORE_SAVE_INFLIGHT_MAX started and not finished
	 * at a time; while any is, the only calls allowed on the folder are
	 * save_begin, save_write, save_abort (of writers not started) and
	 * save_commit_start / save_commit_finish; every started writer is
	 * finished before close_folder.  Crash safety as save_commit: the
	 * message may be in the folder as soon as start returned, so
	 * whatever must precede the save (the upload journal) precedes
	 * start.  A start error or a finish error of severity ACCOUNT means
	 * the connection is gone; the writers still started must still be
	 * finished (they fail the same way).
	 */
	int (*save_commit_start)(struct store_writer *w, struct oim_err *err);
	int (*save_commit_finish)(struct store_writer *w, uint32_t *uid_r,
				  char **id_r, struct oim_err *err);
	/*
	 * After an upload whose UID the server did not report (no UIDPLUS),
	 * or after a crash between APPEND and recording it: find the message
	 * by Message-ID, size and date among UIDs >= min_uid (DESIGN.md:
	 * never by inserting a header).  *uid_r = 0 when not found.
	 */
	int (*find_uid)(struct store_folder *f, const char *message_id,
			uint64_t size, int64_t date, uint32_t min_uid,
			uint32_t *uid_r, struct oim_err *err);
	/* Add and remove flags of msgs[0..n) (batched: IMAP sends one UID
	 * STORE per distinct change).  Updates msgs[i]->flags and, for
	 * Maildir, msgs[i]->id. */
	int (*set_flags)(struct store_folder *f, struct store_msg *const *msgs,
			 size_t n, sync_flags_t add, sync_flags_t del,
			 struct oim_err *err);
	/* Delete msgs[0..n) (IMAP: \Deleted; expunged at close_folder when
	 * asked).  A message already gone is not an error. */
	int (*delete)(struct store_folder *f, struct store_msg *const *msgs,
		      size_t n, struct oim_err *err);
	/* Maildir: give a message without UID its UID (rename to
	 * OfflineIMAP's name with ,U=uid,FMD5=...).  Updates msg->id.  IMAP:
	 * NULL. */
	int (*set_uid)(struct store_folder *f, struct store_msg *msg,
		       uint32_t uid, struct oim_err *err);
	/*
	 * Optional (NULL, or -1 when the server cannot: IMAP without
	 * QRESYNC): what changed in the open folder since 'modseq' (a
	 * HIGHESTMODSEQ it had): *changed gets UID and flags of every
	 * message added or changed since (size and date 0), *modseq_r the
	 * highest MODSEQ among them (0: none), *vanished_r (malloc'd) the
	 * UIDs expunged since as *nvanished_r ranges, pairs lo, hi (it may
	 * hold more: UIDs that never existed or went earlier).
	 */
	int (*changes_since)(struct store_folder *f, uint64_t modseq,
			     struct store_msglist *changed, uint64_t *modseq_r,
			     uint32_t **vanished_r, size_t *nvanished_r,
			     struct oim_err *err);
	/* The Message-ID of a message (for the upload journal): Maildir
	 * reads the file's headers, IMAP fetches the header field;
	 * *message_id_r malloc'd, NULL when the message has none. */
	int (*msg_info)(struct store_folder *f, const struct store_msg *msg,
			char **message_id_r, struct oim_err *err);

	/* ---- Gmail labels (synclabels); NULL where a driver has none ---- */
	/* Maildir: the labels in the message's labels header, added to
	 * *out; msg->mtime refreshed. */
	int (*labels_read)(struct store_folder *f, struct store_msg *msg,
			   struct labelset *out, struct oim_err *err);
	/* Maildir: make the labels header hold exactly 'labels' (atomic, the
	 * name kept: maildir-labels.h); msg->mtime updated. */
	int (*labels_write)(struct store_folder *f, struct store_msg *msg,
			    const struct labelset *labels, struct oim_err *err);
	/* Maildir: the message being saved (save_begin, before any
	 * save_write) gets the labels header holding exactly 'labels' as it
	 * is written (no second copy); labels_read tells afterwards what
	 * its header says (a header too long to edit stays as it came). */
	int (*save_labels)(struct store_writer *w,
			   const struct labelset *labels, struct oim_err *err);
	/* IMAP (Gmail): UID STORE +X-GM-LABELS (add) or -X-GM-LABELS of
	 * 'labels' on msgs[0..n).  msgs[i]->labels is not updated. */
	int (*labels_change)(struct store_folder *f,
			     struct store_msg *const *msgs, size_t n,
			     const struct labelset *labels, bool add,
			     struct oim_err *err);
};

/* A folder open in a store.  Drivers embed this as their first member. */
struct store_folder {
	const struct store_folder_ops *ops;
	struct store *store;
	char *name; /* the store's own name (owned) */
	struct store_folder_state state;
};

struct store_ops {
	const char *kind; /* "IMAP", "Maildir" */
	int (*list_folders)(struct store *s, struct store_folder_list *out,
			    struct oim_err *err);
	int (*create_folder)(struct store *s, const char *name,
			     struct oim_err *err);
	/* visible_name: the folder's name after the repository's nametrans,
	 * which OfflineIMAP's FMD5 in Maildir file names hashes (NULL: same
	 * as name; IMAP ignores it). */
	int (*open_folder)(struct store *s, const char *name,
			   const char *visible_name, unsigned flags,
			   struct store_folder **f_r, struct oim_err *err);
	/* Close (IMAP: EXPUNGE first when expunge is true); frees f. */
	int (*close_folder)(struct store_folder *f, bool expunge,
			    struct oim_err *err);
	/*
	 * Optional (NULL: the store cannot tell): the state of the folders
	 * names[0..n) without opening them (IMAP: one STATUS each, all
	 * pipelined: one round trip).  known[i] says states[i] was filled,
	 * as store_folder_info.has_state (all false without CONDSTORE).  A
	 * folder the server refuses to tell about is only not known; -1
	 * only when the connection failed (OIM_SEV_ACCOUNT).
	 */
	int (*folder_states)(struct store *s, const char *const *names,
			     size_t n, struct store_folder_state *states,
			     bool *known, struct oim_err *err);
	void (*free)(struct store *s);
};

/* A repository opened by one worker.  Drivers embed this first. */
struct store {
	const struct store_ops *ops;
	char *repo;    /* "Repository NAME" section's NAME (owned) */
	bool readonly; /* the repository's readonly option */
};

/*
 * Everything a driver needs, read from the config by sync/account.c (so
 * drivers do not know the config).  Strings are borrowed for the life of
 * the store.
 */
struct store_imap_opts {
	const char *repo; /* repository name */
	const char *host;
	unsigned port; /* 0: default for ssl */
	bool ssl, starttls;
	int family; /* enum net_family */
	unsigned timeout_s;
	const char *preauth_tunnel, *transport_tunnel;
	const struct net_tls *tls; /* shared, owned by the caller */
	const char *user;
	const char *password; /* secret, borrowed */
	const char *oauth2_token;
	const char *auth_mechanisms;
	bool compress;
	const char *reference; /* LIST reference ("" if unset) */
	bool subscribed_only;  /* subscribedonly: LSUB */
	bool readonly;
	bool utf8foldernames;
	/* customflag_a .. customflag_z of the Maildir side: the IMAP keyword
	 * of each lower-case flag letter (NULL: none), so keywords travel as
	 * letters (OfflineIMAP's keywordmap).  Borrowed. */
	const char *keywords[26];
	/* list_folders also tells each folder's state (has_state) when
	 * the server can in the same round trip (LIST-STATUS and
	 * CONDSTORE); costs the server a STATUS per listed folder */
	bool list_states;
};

struct store_maildir_opts {
	const char *repo;
	const char *root; /* localfolders, already expanded */
	char sep;	  /* '.' default, or '/' */
	bool fsync;
	bool windows_compatible;	  /* maildir-windows-compatible */
	bool filename_use_mail_timestamp; /* */
	bool utime_from_header;
	bool restoreatime;
	bool readonly;
	/* synclabels: the header holding a message's Gmail labels
	 * (labelsheader; NULL: "X-Keywords").  Borrowed. */
	const char *labelsheader;
};

int store_imap_open(struct store **s_r, const struct store_imap_opts *o,
		    struct oim_err *err) OIM_WUR;
int store_maildir_open(struct store **s_r, const struct store_maildir_opts *o,
		       struct oim_err *err) OIM_WUR;
/*
 * IMAP-to-IMAP: the local IMAP repository seen through OfflineIMAP's UID
 * mapping (folder/UIDMaps.py, status.h "UID mapping"), so that the sync
 * engine sees local messages by their remote UIDs as it does a Maildir's.
 *
 * scan: local messages whose local UID is mapped carry the remote UID in
 * uid (and their own in native_uid); the others have uid 0 (new local
 * mail, uploaded by the sync, which then calls set_uid to map them).
 * Pairs whose local message is gone are dropped.  save_begin takes the
 * remote UID; the message is appended to the local server and the pair
 * recorded at commit.  delete expunges exactly those messages at once
 * (UID EXPUNGE with UIDPLUS) and drops their pairs: a message left
 * \Deleted with its pair gone would look like new local mail.
 *
 * Crash safety: before each APPEND to the local server an intent is
 * journaled (status_journal in <metadata>/Repository-<local>/oimap-journal/,
 * with the remote UID, size, date, Message-ID and the lowest local UID it
 * can get); a folder opened after a crash looks for each unfinished one
 * on the local server and records the pair, so no message is appended
 * twice and none is uploaded back as "new local mail".
 *
 * Takes ownership of inner (an IMAP store) in every case.
 */
struct store_mapped_opts {
	const char *metadata_dir; /* [general] metadata, expanded */
	bool fsync;		  /* fsync the map and the journal */
};

int store_mapped_open(struct store **s_r, struct store *inner,
		      const struct store_mapped_opts *o,
		      struct oim_err *err) OIM_WUR;

/*
 * IDLE on an IMAP store (not a mapped one): store_imap_examine() selects
 * folder (the store's own name) read-only; then each store_imap_idle()
 * IDLEs until the server reports a change in it (*changed_r), timeout_s
 * passes, or wake_fd (-1: none) becomes readable.  Changes made after the
 * EXAMINE are reported by the next IDLE even if they happened between two
 * calls.  A server without IDLE: 1, with err filled (OIM_SEV_FOLDER).
 */
int store_imap_examine(struct store *s, const char *folder,
		       struct oim_err *err) OIM_WUR;
int store_imap_idle(struct store *s, unsigned timeout_s, int wake_fd,
		    bool *changed_r, struct oim_err *err) OIM_WUR;

/* NULL is fine. */
void store_close(struct store *s);

#endif
