/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * run.h - account scheduling (run.c: oim_sync_main(), declared in
 * main.h) and the hook runner it uses.
 */
#ifndef OIMAP_RUN_H
#define OIMAP_RUN_H

#include <stdbool.h>

#include "../util/err.h"

/* Bytes of a hook's standard output we keep to show (the rest is read
 * and dropped). */
#define RUN_HOOK_MAX_OUTPUT (64u * 1024)
/* With autorefresh, an account that failed as a whole this many times in
 * a row is not synced again (OfflineIMAP's syncrunner). */
#define RUN_MAX_ACCOUNT_FAILURES 3u
/* IDLE (idlefolders): renewed this often (RFC 2177 asks for less than 30
 * minutes, as imaplib2's 29); after a failure, tried again this much
 * later. */
#define RUN_IDLE_RENEW_S (29u * 60)
#define RUN_IDLE_RETRY_S 60u

/*
 * Run a pre/postsynchook as OfflineIMAP does: /bin/sh -c cmd, stdin from
 * /dev/null, stdout collected and shown through the UI, stderr ours.
 * dry_run only says "Calling hook".  *status_r: the exit code (128 + signal
 * when killed).  -1 only when it could not be started.
 */
int run_hook(const char *account, const char *cmd, bool dry_run, int *status_r,
	     struct oim_err *err) OIM_WUR;

#endif
