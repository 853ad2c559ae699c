/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * module-log.c - log.h inside a module (module.h): lines go to oimap's
 * log through the host table, so -d and -l see them.
 */
#include <stdarg.h>

#include "log.h"
#include "module.h"
#include "strbuf.h"
#include "util.h"

static const struct oim_module_host *host;

void oim_module_set_host(const struct oim_module_host *h)
{
	host = h;
}

bool log_debug_enabled(unsigned type)
{
	return host && host->debug_enabled(type);
}

static OIM_PRINTF(3, 0) void forward(int level, unsigned type,
				     const char *fmt, va_list ap)
{
	struct strbuf sb = STRBUF_INIT;
	if (!host)
		return;
	strbuf_vaddf(&sb, fmt, ap);
	host->message(level, type, sb.buf ? sb.buf : "");
	strbuf_release(&sb);
}

void log_debug(unsigned type, const char *fmt, ...)
{
	va_list ap;
	if (!log_debug_enabled(type))
		return;
	va_start(ap, fmt);
	forward(0, type, fmt, ap);
	va_end(ap);
}

void log_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	forward(1, 0, fmt, ap);
	va_end(ap);
}
