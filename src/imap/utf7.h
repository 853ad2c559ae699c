/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * utf7.h - IMAP modified UTF-7 mailbox names (RFC 3501 section 5.1.3).
 *
 * Printable US-ASCII except '&' stands for itself, '&' is "&-", anything
 * else is UTF-16 in modified base64 ("A-Za-z0-9+," alphabet, no padding)
 * between '&' and '-'.
 *
 * Both functions append to out; on error out is restored to its length
 * on entry and err is filled.  Pure functions, safe from any thread.
 */
#ifndef OIMAP_IMAP_UTF7_H
#define OIMAP_IMAP_UTF7_H

#include "../util/err.h"
#include "../util/util.h"

struct strbuf;

/*
 * UTF-8 -> modified UTF-7.  Refuses invalid UTF-8 (overlong forms,
 * surrogates, code points above U+10FFFF, truncated sequences) and NUL.
 * Error: OIM_E_GENERIC, OIM_SEV_FOLDER, naming the byte offset.
 */
int imap_utf7_encode(const char *utf8, size_t len, struct strbuf *out,
		     struct oim_err *err) OIM_WUR;

/*
 * Modified UTF-7 -> UTF-8.  Refuses what RFC 3501 forbids and what an
 * encoder never produces: bytes outside printable ASCII, bad base64
 * characters, non-zero or overlong padding bits, a shift never closed by
 * '-', printable ASCII (or NUL) inside a shift, and unpaired UTF-16
 * surrogates.  Error: OIM_E_PROTOCOL, OIM_SEV_FOLDER, quoting the name.
 */
int imap_utf7_decode(const char *mutf7, size_t len, struct strbuf *out,
		     struct oim_err *err) OIM_WUR;

#endif
