/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pyeval-module.c - the entry point of oimap-python.so (pyeval-ops.h),
 * and the log functions pyeval.c calls, forwarded to oimap's log.
 * Everything in the module is hidden (-fvisibility=hidden) but
 * oimap_pyeval_ops(), so the module's pyeval_* never stand in for
 * oimap's own.
 */
#include <stdarg.h>

#include "../util/log.h"
#include "../util/strbuf.h"
#include "../util/util.h"
#include "pyeval-ops.h"

static const struct pyeval_host *host;

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

__attribute__((visibility("default"))) const struct pyeval_ops *
oimap_pyeval_ops(const struct pyeval_host *h);

const struct pyeval_ops *oimap_pyeval_ops(const struct pyeval_host *h)
{
	static const struct pyeval_ops ops = {
	    .version = PYEVAL_OPS_VERSION,
	    .init = pyeval_init,
	    .initialized = pyeval_initialized,
	    .shutdown = pyeval_shutdown,
	    .compile = pyeval_compile,
	    .expr_free = pyeval_expr_free,
	    .eval_str = pyeval_eval_str,
	    .eval_long = pyeval_eval_long,
	    .eval_strlist = pyeval_eval_strlist,
	    .call_bool = pyeval_call_bool,
	    .call_str = pyeval_call_str,
	    .call_uids = pyeval_call_uids,
	    .call_void = pyeval_call_void,
	    .sort_cmp = pyeval_sort_cmp,
	    .sort_key = pyeval_sort_key,
	};
	if (!h || h->version != PYEVAL_OPS_VERSION)
		return NULL;
	host = h;
	return &ops;
}
