/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ui.h - what the user hears about a sync: one event function per thing
 * that happens.  The sync calls these; the UI calls nothing back.
 *
 * Two UIs for now, chosen by name (main.c's canonical -u / [general] ui):
 *   quiet   errors only;
 *   basic   OfflineIMAP-like lines: account start and end, folders
 *           created, hooks, and one summary line per folder, e.g.
 *             Account Personal: folder INBOX: 3 new, 1 uploaded,
 *             2 flags changed, 1 deleted
 *   syslog  basic's lines to syslog(3) instead of stderr (log.h does it;
 *           main.c sets it up, with -s for "as well");
 *   (every other name -- ttyui, machineui, blinkenlights -- falls back to
 *   basic until it exists).
 *
 * Lines go through log.h (stderr and the -l file), which is thread-safe:
 * events from parallel folders and accounts never interleave within a
 * line.  Errors always go out, whatever the UI.
 *
 * Threads: ui_set() once before any sync thread starts; every other
 * function from any thread.
 */
#ifndef OIMAP_UI_H
#define OIMAP_UI_H

#include <stdbool.h>
#include <stddef.h>

#include "../util/err.h"

enum ui_kind {
	UI_BASIC = 0,
	UI_QUIET,
	UI_TTY, /* ttyui, the default: basic's lines, and it asks passwords */
};

/* Pick the UI by name (NULL: basic). */
void ui_set(const char *name);
enum ui_kind ui_get(void);

/* What one folder's sync did. */
struct ui_folder_counts {
	size_t new_local; /* copied to the local side ("new") */
	size_t uploaded;  /* copied to the remote side */
	size_t flags;	  /* messages whose flags changed, either side */
	size_t deleted;	  /* messages deleted, either side */
	size_t failed;	  /* messages skipped on errors */
	bool skipped;	  /* quick / unchanged: not scanned */
	bool dry_run;	  /* counts are what would happen */
};

void ui_account_start(const char *account, bool dry_run);
/* secs: wall time; ok: everything synced. */
void ui_account_done(const char *account, bool ok, double secs);
void ui_account_error(const char *account, const struct oim_err *err);
void ui_folder_start(const char *account, const char *folder,
		     const char *from_kind, const char *to_kind);
void ui_folder_done(const char *account, const char *folder,
		    const struct ui_folder_counts *c);
void ui_folder_error(const char *account, const char *folder,
		     const struct oim_err *err);
void ui_make_folder(const char *account, const char *repo, const char *folder,
		    bool dry_run);
void ui_hook(const char *account, const char *what, const char *text);
/* autorefresh: sleeping secs before the next sync. */
void ui_sleep(const char *account, double secs);
/*
 * Ask for a password on the terminal, as OfflineIMAP's ttyui (the default
 * UI) does when a repository has no password: "Enter password for user
 * 'USER': " on /dev/tty, echo off.  errmsg (may be NULL): why it is asked
 * again.  *pw_r is a secret (oim_free_secret).  Returns 0 with a
 * password, 1 when it cannot ask (another UI, or no terminal: cron, a
 * systemd unit; the login then fails saying no password is configured),
 * -1 (OIM_E_AUTH) when nothing was entered.  One prompt at a time,
 * whatever the threads.
 */
#define UI_GETPASS_MAX 1024
int ui_getpass(const char *repo, const char *user, const char *errmsg,
	       char **pw_r, struct oim_err *err) OIM_WUR;

/* A free-form informational line (hidden by quiet). */
void ui_info(const char *fmt, ...) OIM_PRINTF(1, 2);

/* "3 new, 1 uploaded, 2 flags changed, 1 deleted" or "no changes" into
 * buf (size n); returns buf.  For tests and the summary line. */
char *ui_counts_text(const struct ui_folder_counts *c, char *buf, size_t n);

#endif
