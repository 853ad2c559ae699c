/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * account.h - syncing one account (sync/account.c) and the pure folder
 * structure rules it is built on (sync/account-names.c).
 *
 * The rules are OfflineIMAP 8's (repository/Base.py sync_folder_structure,
 * should_sync_folder, getfolders; folder/Base.py getvisiblename;
 * accounts.py __sync, get_local_folder):
 *
 *   visible name   nametrans(name) of the folder's own repository (identity
 *                  without nametrans); a visible name equal to the
 *                  separator becomes "".  With decodefoldernames (an IMAP
 *                  repository option) that name is then decoded from
 *                  modified UTF-7 to UTF-8 (folder/IMAP.py; a name that is
 *                  not valid modified UTF-7 is kept as it is).  Filters and
 *                  nametrans still see the server's (encoded) names.
 *   sync_this      name in folderincludes, or folderfilter(name) (true
 *                  without folderfilter); with -f the remote repository's
 *                  filter is "name is in the -f list" (OfflineIMAP writes
 *                  that lambda into the config; we test the list directly so
 *                  that a config without expressions needs no Python).
 *   remote -> local   a remote folder that syncs is looked for locally as
 *                  its visible name with the remote separator replaced by
 *                  the local one; missing there, it is created (local
 *                  createfolders and not readonly).
 *   local -> remote   a local folder that syncs and whose visible name,
 *                  separators translated, is not on the server is created
 *                  there (remote createfolders and not readonly) with its
 *                  missing parents (with decodefoldernames: under that
 *                  name encoded in modified UTF-7), unless the remote
 *                  folderfilter would
 *                  drop that name, and only if the remote nametrans of the
 *                  new name leads back to the local name (else the
 *                  account stops: "infinite folder creation").
 *   pairs          every remote folder that syncs (not \Noselect, no local
 *                  separator inside its name unless that is '/' or the
 *                  remote's), whose local counterpart exists and syncs,
 *                  sorted by lower-cased remote visible name (or foldersort).
 *   missing        a remote folder that syncs but has no local folder
 *                  (local createfolders = no or readonly): not synced, and
 *                  reported as a failed folder (plan->missing).  OfflineIMAP
 *                  stops the whole account there (getfolder() of a
 *                  nonexisting folder, an error of folder severity raised
 *                  outside the per-folder handler); oimap syncs the others.
 *
 * Expressions (nametrans, folderfilter, foldersort) are called through
 * pyeval; every function here works without Python when a repository has
 * none of them.
 *
 * Threads: the acct_* functions are pure over their arguments (pyeval
 * takes the GIL itself).  sync_account*() may run in several threads for
 * different accounts at once.
 */
#ifndef OIMAP_SYNC_ACCOUNT_H
#define OIMAP_SYNC_ACCOUNT_H

#include <stdbool.h>
#include <stddef.h>

#include "../store/store.h"
#include "../util/err.h"

struct pyeval_expr;
struct config;
struct oim_options;

/* The folder rules of one repository.  Everything borrowed. */
struct acct_repo_rules {
	const char *repo;		  /* repository name, for messages */
	char sep;			  /* the store's separator */
	struct pyeval_expr *nametrans;	  /* NULL: identity */
	struct pyeval_expr *folderfilter; /* NULL: every folder */
	struct pyeval_expr *foldersort;	  /* NULL: by lower-cased name */
	const char *const *only;	  /* -f list replacing folderfilter */
	const char *const *includes;	  /* folderincludes, NULL-terminated */
	bool create;			  /* createfolders and not readonly */
	bool readonly;			  /* for messages only */
	bool decode;			  /* decodefoldernames (IMAP only) */
};

/* nametrans(name); "" when it gives the separator; then decoded with
 * r->decode.  *out_r malloc'd. */
int acct_visible_name(const struct acct_repo_rules *r, const char *name,
		      char **out_r, struct oim_err *err) OIM_WUR;
/* folderincludes or folderfilter (or the -f list). */
int acct_should_sync(const struct acct_repo_rules *r, const char *name,
		     bool *out_r, struct oim_err *err) OIM_WUR;
/* name with every 'from' replaced by 'to' (malloc'd). */
char *acct_sep_translate(const char *name, char from, char to);
/*
 * The name a folder of repository r gets when it is created there from a
 * visible name of the other side (separators already translated): the
 * name itself, or with r->decode its modified UTF-7 encoding (the
 * inverse of the decoding above).  *out_r malloc'd.  Fails (OIM_SEV_FOLDER)
 * on a name that is not valid UTF-8.
 */
int acct_create_name(const struct acct_repo_rules *r, const char *name,
		     char **out_r, struct oim_err *err) OIM_WUR;

/* A remote folder that syncs but has no local folder to sync with, or
 * (clash set) shares its local folder or status cache with another remote
 * folder, clash. */
struct acct_folder_missing {
	char *remote_name, *remote_visible, *local_name;
	char *clash; /* the other remote folder's name; NULL: missing */
};

/* One folder pair to sync. */
struct acct_folder_pair {
	char *remote_name, *remote_visible;
	char *local_name, *local_visible;
	bool local_missing; /* only in dry-run: would have been created */
};

struct acct_folder_plan {
	char **create_local; /* local names to create, in order */
	size_t n_create_local;
	char **create_remote; /* remote names to create, parents first */
	size_t n_create_remote;
	struct acct_folder_pair *pairs;
	size_t n_pairs;
	struct acct_folder_missing *missing; /* not synced: failures */
	size_t n_missing;
	size_t alloc_cl, alloc_cr, alloc_pairs, alloc_missing;
};

void acct_folder_plan_release(struct acct_folder_plan *p);

/* The error for plan->missing[i] (OIM_SEV_FOLDER, OIM_E_CONFIG), naming
 * the folder, the local repository and the option (or the other folder of
 * a clash). */
void acct_missing_error(const struct acct_repo_rules *remote,
			const struct acct_repo_rules *local,
			const struct acct_folder_missing *m,
			struct oim_err *err);

/*
 * The folders to create on each side (create_local / create_remote).
 * Fails with OIM_SEV_ACCOUNT on the round-trip check or an expression
 * error.  Warnings (skipped names) go to log_warn().
 */
int acct_plan_create(const struct acct_repo_rules *remote,
		     const struct store_folder_list *rl,
		     const struct acct_repo_rules *local,
		     const struct store_folder_list *ll,
		     struct acct_folder_plan *plan,
		     struct oim_err *err) OIM_WUR;
/*
 * The pairs (plan->pairs), from the lists as they are after creation.  A
 * remote folder without local counterpart goes to plan->missing, or, with
 * dry_run and local->create (it would have been created), is kept with
 * local_missing set.
 */
int acct_plan_pairs(const struct acct_repo_rules *remote,
		    const struct store_folder_list *rl,
		    const struct acct_repo_rules *local,
		    const struct store_folder_list *ll, bool dry_run,
		    struct acct_folder_plan *plan, struct oim_err *err) OIM_WUR;

/* ---- syncing an account (sync/account.c) ---- */

struct sync_account_opts {
	/* -1: from the config (Account quick < 0 or -q); 0: full; 1: quick.
	 * run.c decides for 'quick = N' (N quick syncs between full ones). */
	int quick;
	/* Only these remote folders (server names, NULL-terminated), as -f
	 * does; NULL: -f's list or every folder.  For IDLE (run.c). */
	const char *const *only_folders;
};

/* What an account's sync did, for the UI and the exit code. */
struct sync_account_stats {
	size_t folders_ok, folders_failed, folders_skipped;
	/* local names of the folders handed to sync_folder() (for
	 * [mbnames]), and the local Maildir root (NULL for IMAP); owned,
	 * sync_account_stats_release() */
	char **local_folders;
	size_t n_local_folders;
	char *local_root;
};

void sync_account_stats_release(struct sync_account_stats *st);

/*
 * sync_account() with explicit options (sync.h's sync_account() is this
 * with quick = -1).  stats_r may be NULL.
 */
int sync_account_run(struct config *cfg, const struct oim_options *o,
		     const char *account, const struct sync_account_opts *ao,
		     struct sync_account_stats *stats_r,
		     struct oim_err *err) OIM_WUR;

/*
 * IDLE (OfflineIMAP's idlefolders, imapserver.py IdleThread).
 *
 * sync_account_idlefolders: the remote repository's idlefolders list
 * (server folder names; *list_r NULL-terminated, pyeval_strlist_free(),
 * NULL when the option is not set or empty).
 *
 * sync_idle_open: connect to the remote repository and EXAMINE folder
 * (a server name).  sync_idle_wait: IDLE until the server reports a change
 * in the folder since the EXAMINE or the last wait (*changed_r), timeout_s
 * passes, or wake_fd becomes readable; 1 (err filled) when the server
 * has no IDLE at all.  Blocking: one thread per folder.
 */
struct sync_idle;

int sync_account_idlefolders(struct config *cfg, const char *account,
			     char ***list_r, struct oim_err *err) OIM_WUR;
int sync_idle_open(struct config *cfg, const struct oim_options *o,
		   const char *account, const char *folder,
		   struct sync_idle **i_r, struct oim_err *err) OIM_WUR;
int sync_idle_wait(struct sync_idle *i, unsigned timeout_s, int wake_fd,
		   bool *changed_r, struct oim_err *err) OIM_WUR;
/* NULL is fine. */
void sync_idle_close(struct sync_idle *i);

/*
 * Ask every running account sync to stop after the folders in progress.
 * Async-signal-safe (sets a flag).
 */
void sync_account_request_stop(void);
bool sync_account_stop_requested(void);

#endif
