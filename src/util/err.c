/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "strbuf.h"

int oim_error(struct oim_err *err, enum oim_sev sev, enum oim_err_kind kind,
	      const char *fmt, ...)
{
	if (!err)
		return -1;
	va_list ap;
	err->sev = sev;
	err->kind = kind;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

void oim_err_prefix(struct oim_err *err, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	if (!err)
		return;
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	strbuf_addstr(&sb, ": ");
	strbuf_addstr(&sb, err->msg);
	/* truncation is fine: the message is for people */
	size_t n = sb.len < sizeof(err->msg) ? sb.len : sizeof(err->msg) - 1;
	memcpy(err->msg, sb.buf, n);
	err->msg[n] = '\0';
	strbuf_release(&sb);
}

void oim_err_clear(struct oim_err *err)
{
	err->sev = OIM_SEV_NONE;
	err->kind = OIM_E_NONE;
	err->msg[0] = '\0';
}

static const char *const kind_names[] = {
	[OIM_E_NONE] = "none",
	[OIM_E_GENERIC] = "error",
	[OIM_E_USAGE] = "usage",
	[OIM_E_CONFIG] = "config",
	[OIM_E_IO] = "io",
	[OIM_E_NET] = "network",
	[OIM_E_CONN_LOST] = "connection lost",
	[OIM_E_TIMEOUT] = "timeout",
	[OIM_E_TLS] = "tls",
	[OIM_E_AUTH] = "authentication",
	[OIM_E_IMAP_NO] = "imap NO",
	[OIM_E_IMAP_BAD] = "imap BAD",
	[OIM_E_IMAP_BYE] = "imap BYE",
	[OIM_E_PROTOCOL] = "protocol",
	[OIM_E_LIMIT] = "limit",
	[OIM_E_UIDVALIDITY] = "uidvalidity",
	[OIM_E_STATUS] = "status cache",
	[OIM_E_PYTHON] = "python",
	[OIM_E_LOCKED] = "locked",
};
static_assert(ARRAY_SIZE(kind_names) == OIM_E_LOCKED + 1,
	      "kind_names must name every oim_err_kind");

const char *oim_err_kind_name(enum oim_err_kind kind)
{
	if ((size_t)kind >= ARRAY_SIZE(kind_names) || !kind_names[kind])
		return "?";
	return kind_names[kind];
}
