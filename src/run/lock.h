/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lock.h - the per-account lock that keeps two runs (two oimaps, or oimap
 * and OfflineIMAP) from syncing the same metadata at once.
 *
 * OfflineIMAP 8 opens <metadata>/<account>.lock for writing and takes
 * fcntl.lockf(LOCK_EX | LOCK_NB) on it (a POSIX record lock; portalocker,
 * when installed, uses flock()).  We take both kinds on the same file, so
 * either flavour of OfflineIMAP sees the account as busy and we see theirs.
 * On unlock OfflineIMAP deletes the file; so do we, while still holding it.
 *
 * POSIX record locks belong to the process: take each account's lock once,
 * from any thread, and release it from the same process.
 */
#ifndef OIMAP_LOCK_H
#define OIMAP_LOCK_H

#include "../util/err.h"

struct account_lock {
	int fd;
	char *path;
};

/* Lock <metadata_dir>/<account>.lock (creating metadata_dir if missing).
 * On contention: OIM_E_LOCKED naming the account and the file. */
int account_lock_take(struct account_lock *lk, const char *metadata_dir,
		      const char *account, struct oim_err *err) OIM_WUR;
/* Unlock and delete the file; safe on a lock that was never taken. */
void account_lock_release(struct account_lock *lk);

/* mkdir -p with the given mode for each created component. */
int oim_mkdir_p(const char *path, unsigned mode, struct oim_err *err) OIM_WUR;

#endif
