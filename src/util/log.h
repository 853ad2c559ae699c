/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * log.h - messages to the user and debug output.
 *
 * Every message goes to stderr (unless the quiet level hides it) and, after
 * log_open_file(), to the -l log file as well.  Debug messages are enabled
 * per type (-d imap,maildir,thread,...).  Thread-safe: one mutex around
 * each write, so lines from parallel folders never interleave.
 *
 * Nothing that reaches these functions may contain a credential: the IMAP
 * layer redacts LOGIN/AUTHENTICATE payloads before logging them.
 */
#ifndef OIMAP_LOG_H
#define OIMAP_LOG_H

#include <stdbool.h>
#include <stdio.h>

#include "err.h"
#include "util.h"

enum oim_dbg {
	OIM_DBG_IMAP = 1 << 0,
	OIM_DBG_MAILDIR = 1 << 1,
	OIM_DBG_THREAD = 1 << 2,
	OIM_DBG_NET = 1 << 3,
	OIM_DBG_SYNC = 1 << 4,
	OIM_DBG_CONFIG = 1 << 5,
	OIM_DBG_STATUS = 1 << 6,
	OIM_DBG_ALL = (1 << 7) - 1,
};

enum oim_log_level {
	OIM_LOG_ERROR = 0, /* always shown */
	OIM_LOG_WARN,
	OIM_LOG_INFO,
};

/* Parse "-d" types: a comma list of imap, maildir, thread, net, sync,
 * config, status, or "all".  Unknown types are an error naming them. */
int log_parse_debug_types(const char *list, unsigned *mask_r,
			  struct oim_err *err) OIM_WUR;
void log_set_debug(unsigned mask);
unsigned log_get_debug(void);
bool log_debug_enabled(unsigned type);
/* Messages above this level are not written to stderr (still to -l). */
void log_set_level(enum oim_log_level level);
/*
 * Send every message that passes the level to syslog(3) too (-s), or
 * instead of stderr (the syslog UI): ident "oimap", facility LOG_USER,
 * as OfflineIMAP's SysLogHandler; errors LOG_ERR, warnings LOG_WARNING,
 * the rest LOG_INFO, debug LOG_DEBUG.  Call before any thread starts.
 */
void log_set_syslog(bool on, bool instead_of_stderr);
/* Append every message to 'path' too (the -l option). */
int log_open_file(const char *path, struct oim_err *err) OIM_WUR;
void log_close_file(void);

/*
 * Drop every message of the calling thread (on) or no longer (off): for
 * work done ahead of time whose findings are reported, if at all, by the
 * code that uses them (the account's precheck of local folders).
 */
void log_thread_mute(bool on);

void log_debug(unsigned type, const char *fmt, ...) OIM_PRINTF(2, 3);
void log_info(const char *fmt, ...) OIM_PRINTF(1, 2);
void log_warn(const char *fmt, ...) OIM_PRINTF(1, 2);
void log_error(const char *fmt, ...) OIM_PRINTF(1, 2);
/* Print err->msg as an error. */
void log_err(const struct oim_err *err);

#endif
