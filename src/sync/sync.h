/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sync.h - syncing one folder pair (sync/folder.c, the executor) and one
 * account (sync/account.c).
 *
 * sync_folder(): read the three snapshots (remote scan, local scan, status
 * cache), check UID validity, build the plan (plan.h), carry it out through
 * the two stores (store.h), recording each finished step in the status
 * cache, batched in transactions.  DESIGN.md's "never lose mail" rules live
 * here: downloads land in tmp/ and are renamed with their UID before the
 * status records them; uploads are journaled before APPEND, and a journaled
 * upload found on the next run is looked for on the server before it is
 * appended again.
 *
 * sync_account(): list both repositories, apply folderfilter /
 * folderincludes / nametrans, create missing folders, and run sync_folder()
 * for each folder pair over at most maxconnections workers.  The remote
 * listing also tells each folder's state where the server can (LIST-STATUS,
 * else one pipelined STATUS per folder synced; CONDSTORE needed), passed
 * as the job's remote_hint; a worker opens its remote connection only for
 * the first folder that is not skipped with it.  While the first
 * connection logs in, a thread of the account checks the local half of
 * that skip for every local folder (sync_folder_precheck(), the job's
 * precheck), so that an unchanged folder then costs no file access at all.
 *
 * Threads: sync_folder() runs in a worker thread, owning the two folders,
 * the status cache and journal of its folder exclusively.  The precheck
 * thread only reads, and is joined before the first worker starts.
 */
#ifndef OIMAP_SYNC_H
#define OIMAP_SYNC_H

#include "../status/status.h"
#include "../store/store.h"
#include "../util/err.h"
#include "plan.h"

/* synclabels (OfflineIMAP: Gmail remote, GmailMaildir local); the header
 * name is the local store's (store_maildir_opts.labelsheader). */
struct sync_labels_opts {
	struct labelset ignore; /* ignorelabels */
};

/*
 * What a folder's sync can know before the server answers: the local half
 * of the skip a remote_hint allows (sync_folder_precheck()), found while the
 * account connects and logs in, and handed to the folder's job.
 */
struct sync_folder_precheck {
	/* the status is as the last sync that left the server alone saved
	 * it (fingerprint), the local folder equals the status, and its
	 * UIDVALIDITY is the saved one */
	bool usable;
	char state[STATUS_META_MAX_VALUE]; /* the remote state saved then */
};

/* Everything sync_folder needs; strings borrowed for the call. */
struct sync_folder_job {
	const char *account;	  /* account name, for messages */
	const char *metadata_dir; /* [general] metadata, expanded */
	const char *account_dir;  /* <metadata>/Account-<name> */
	/* opened by the caller (a connection); may be NULL when
	 * remote_connect is set */
	struct store *remote;
	struct store *local;
	/* the remote repository's name (its FolderValidity files); may be
	 * NULL when remote is set (remote->repo) */
	const char *remote_repo;
	const char *remote_name;  /* folder in the remote store's names */
	const char *local_name;	  /* folder in the local store's names */
	const char *local_visible; /* local name after nametrans (FMD5) */
	/* the status cache's folder name: the remote visible name with the
	 * remote separator replaced by '.' (status_name_from_remote()) */
	const char *status_name;
	enum status_backend backend;
	struct sync_plan_opts plan; /* readonly, quick, maxage, maxsize... */
	bool expunge;		    /* remote repository 'expunge' */
	bool dry_run;		    /* plan and report, change nothing */
	bool fsync;		    /* fsync status and journal writes */
	/* hidden test hook (--debug-stop-after-step=N): stop the process
	 * with _exit(77) right after the N-th step was carried out (before
	 * it is recorded in the status); steps are counted across all
	 * sync_folder() calls of the process; 0 = off */
	unsigned long stop_after_step;
	/*
	 * Optional (NULL: unknown): the remote folder's state as the
	 * account's folder listing told it (LIST-STATUS or pipelined
	 * STATUS), borrowed for the call.  When it equals the state saved
	 * after the last sync that left the server as it was, the status
	 * cache is as that sync left it (fingerprint) and the local folder
	 * equals the status, the folder is skipped without opening the
	 * remote folder (res->unchanged_skipped); with the plan's quick, a
	 * message count equal to the status is enough, as -q does with
	 * SELECT.  Used only when the remote state has HIGHESTMODSEQ and
	 * the local side is not IMAP, without maxage / startdate.
	 */
	const struct store_folder_state *remote_hint;
	/*
	 * Optional: with remote NULL, called once when the folder needs the
	 * remote store (a connection opened only for folders that are not
	 * skipped).  *remote_r stays the caller's, like remote.  Its error
	 * (severity ACCOUNT) is sync_folder's.
	 */
	int (*remote_connect)(void *ctx, struct store **remote_r,
			      struct oim_err *err);
	void *remote_connect_ctx;
	/* Gmail labels (folder-labels.h); NULL: off */
	const struct sync_labels_opts *labels;
	/*
	 * Optional: sync_folder_precheck()'s finding for this folder, made
	 * with the same local store, names, status and plan options.  With
	 * remote_hint equal to its saved state and the remote FolderValidity
	 * file equal to the listed UIDVALIDITY, the folder is skipped without
	 * opening anything; otherwise it is synced as without.
	 */
	const struct sync_folder_precheck *precheck;
};

struct sync_folder_result {
	struct sync_plan_summary sum; /* what was done */
	bool quick_skipped;	      /* -q: nothing changed, not scanned */
	bool unchanged_skipped;	      /* fast path: nothing changed */
	size_t failed_messages;	      /* messages skipped on errors */
};

/*
 * Sync one folder pair.  Returns 0, or -1 with err: OIM_SEV_FOLDER for
 * this folder (UIDVALIDITY changed, a folder error, the safety valve,
 * or messages that failed one by one: then res->failed_messages > 0, each
 * was logged with log_error(), the rest of the folder was synced and
 * res->sum counts what was done), OIM_SEV_ACCOUNT when a connection died.
 * Partial progress is recorded in the status cache, so the next run
 * completes it.  res is always filled.
 */
int sync_folder(const struct sync_folder_job *job,
		struct sync_folder_result *res, struct oim_err *err) OIM_WUR;

/*
 * The local half of remote_hint's skip, ahead of time: read the status
 * (read-only) and scan the local folder (opened read-only, never created)
 * of job, which needs account_dir, metadata_dir, local, local_name,
 * local_visible, status_name, backend and plan (remote and remote_hint are
 * not used).  Fills pc (pc->usable false when the folder must be synced
 * the usual way, or anything failed: that sync reports it).  Changes
 * nothing on disk; safe in a thread of its own with its own local store.
 */
void sync_folder_precheck(const struct sync_folder_job *job,
			  struct sync_folder_precheck *pc);

struct config;
struct oim_options;

/*
 * Sync one account (its section name in cfg).  Returns 0 when every
 * folder synced; -1 when something failed (err holds the first failure;
 * each failure was already reported through log_error()).
 */
int sync_account(struct config *cfg, const struct oim_options *o,
		 const char *account, struct oim_err *err) OIM_WUR;

#endif
