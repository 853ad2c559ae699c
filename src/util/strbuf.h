/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * strbuf.h - growable byte strings, after git's strbuf.
 *
 * Invariants: buf is never NULL and always NUL-terminated at buf[len]; the
 * content may hold NUL bytes (len is the truth).  A strbuf initialised with
 * STRBUF_INIT owns no memory until something is added.  Growth aborts on
 * OOM; callers that take input from outside enforce their own caps (see
 * limits.h) before adding.
 */
#ifndef OIMAP_STRBUF_H
#define OIMAP_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

#include "util.h"

struct strbuf {
	size_t alloc;
	size_t len;
	char *buf;
};

extern char strbuf_slopbuf[];
#define STRBUF_INIT { 0, 0, strbuf_slopbuf }

void strbuf_init(struct strbuf *sb, size_t hint);
/* Free the memory; the strbuf is empty and reusable afterwards. */
void strbuf_release(struct strbuf *sb);
/* Same, wiping the content first (secrets). */
void strbuf_release_secret(struct strbuf *sb);
/* Hand the buffer to the caller (who frees it); sb is reset. */
char *strbuf_detach(struct strbuf *sb, size_t *len_r);
void strbuf_grow(struct strbuf *sb, size_t extra);
void strbuf_setlen(struct strbuf *sb, size_t len);
#define strbuf_reset(sb) strbuf_setlen((sb), 0)

void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, int c);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...) OIM_PRINTF(2, 3);
void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
	OIM_PRINTF(2, 0);
/* Remove leading/trailing ASCII whitespace. */
void strbuf_trim(struct strbuf *sb);
void strbuf_rtrim(struct strbuf *sb);

#endif
