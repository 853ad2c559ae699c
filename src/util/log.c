/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "strbuf.h"

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned debug_mask;
static enum oim_log_level level = OIM_LOG_INFO;
static FILE *log_file;
static bool to_syslog, syslog_only;
/* log_thread_mute(): this thread's messages are dropped */
static _Thread_local bool muted;

static const struct {
	const char *name;
	unsigned bit;
} dbg_names[] = {
	{ "imap", OIM_DBG_IMAP },     { "maildir", OIM_DBG_MAILDIR },
	{ "thread", OIM_DBG_THREAD }, { "net", OIM_DBG_NET },
	{ "sync", OIM_DBG_SYNC },     { "config", OIM_DBG_CONFIG },
	{ "status", OIM_DBG_STATUS }, { "all", OIM_DBG_ALL },
};

int log_parse_debug_types(const char *list, unsigned *mask_r,
			  struct oim_err *err)
{
	unsigned mask = 0;
	const char *p = list;
	while (*p) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		while (n && (*p == ' ' || *p == '\t')) {
			p++;
			n--;
		}
		while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n) {
			size_t i;
			for (i = 0; i < ARRAY_SIZE(dbg_names); i++)
				if (strlen(dbg_names[i].name) == n &&
				    !oim_strncasecmp(dbg_names[i].name, p, n))
					break;
			if (i == ARRAY_SIZE(dbg_names))
				return oim_error(err, OIM_SEV_FATAL, OIM_E_USAGE,
						 "unknown debug type '%.*s' (known: "
						 "imap, maildir, thread, net, "
						 "sync, config, status, all)",
						 (int)n, p);
			mask |= dbg_names[i].bit;
		}
		if (!end)
			break;
		p = end + 1;
	}
	*mask_r = mask;
	return 0;
}

void log_set_debug(unsigned mask)
{
	debug_mask = mask;
}

unsigned log_get_debug(void)
{
	return debug_mask;
}

bool log_debug_enabled(unsigned type)
{
	return (debug_mask & type) != 0;
}

void log_set_level(enum oim_log_level l)
{
	level = l;
}

int log_open_file(const char *path, struct oim_err *err)
{
	FILE *f = fopen(path, "a");
	if (!f)
		return oim_error(err, OIM_SEV_FATAL, OIM_E_IO,
				 "cannot open log file '%s': %s", path,
				 strerror(errno));
	pthread_mutex_lock(&log_lock);
	if (log_file)
		fclose(log_file);
	log_file = f;
	pthread_mutex_unlock(&log_lock);
	return 0;
}

void log_close_file(void)
{
	pthread_mutex_lock(&log_lock);
	if (log_file)
		fclose(log_file);
	log_file = NULL;
	pthread_mutex_unlock(&log_lock);
}

void log_set_syslog(bool on, bool instead_of_stderr)
{
	to_syslog = on;
	syslog_only = on && instead_of_stderr;
	if (on)
		openlog("oimap", LOG_PID, LOG_USER);
}

void log_thread_mute(bool on)
{
	muted = on;
}

static OIM_PRINTF(4, 0) void emit(bool to_stderr, int prio, const char *prefix,
				  const char *fmt, va_list ap)
{
	struct strbuf sb = STRBUF_INIT;
	if (muted)
		return;
	strbuf_addstr(&sb, prefix);
	strbuf_vaddf(&sb, fmt, ap);
	strbuf_addch(&sb, '\n');
	pthread_mutex_lock(&log_lock);
	if (to_stderr && to_syslog)
		syslog(prio, "%.*s", (int)(sb.len - 1), sb.buf);
	if (to_stderr && !syslog_only) {
		fwrite(sb.buf, 1, sb.len, stderr);
		fflush(stderr);
	}
	if (log_file) {
		char stamp[32];
		time_t now = time(NULL);
		struct tm tm;
		localtime_r(&now, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S ", &tm);
		fputs(stamp, log_file);
		fwrite(sb.buf, 1, sb.len, log_file);
		fflush(log_file);
	}
	pthread_mutex_unlock(&log_lock);
	strbuf_release(&sb);
}

void log_debug(unsigned type, const char *fmt, ...)
{
	if (!(debug_mask & type))
		return;
	const char *name = "debug";
	for (size_t i = 0; i < ARRAY_SIZE(dbg_names); i++)
		if (dbg_names[i].bit == type)
			name = dbg_names[i].name;
	char prefix[32];
	snprintf(prefix, sizeof(prefix), "%s: ", name);
	va_list ap;
	va_start(ap, fmt);
	emit(true, LOG_DEBUG, prefix, fmt, ap);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	emit(level >= OIM_LOG_INFO, LOG_INFO, "", fmt, ap);
	va_end(ap);
}

void log_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	emit(level >= OIM_LOG_WARN, LOG_WARNING, "oimap: warning: ", fmt,
	     ap);
	va_end(ap);
}

void log_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	emit(true, LOG_ERR, "oimap: error: ", fmt, ap);
	va_end(ap);
}

void log_err(const struct oim_err *err)
{
	log_error("%s", err->msg[0] ? err->msg : "unknown error");
}
