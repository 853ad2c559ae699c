/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * utf7.c - modified UTF-7 (RFC 3501 5.1.3) in both directions.  See utf7.h.
 */
#include "utf7.h"

#include "../util/strbuf.h"
#include "parser.h"

static const char b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == ',')
		return 63;
	return -1;
}

/*
 * Decode one UTF-8 sequence at s[*i..len); strict (RFC 3629).  Returns the
 * code point or -1.
 */
static int32_t utf8_next(const unsigned char *s, size_t len, size_t *i)
{
	unsigned char c = s[*i];
	uint32_t cp, min;
	size_t n;

	if (c < 0x80) {
		(*i)++;
		return c;
	} else if ((c & 0xe0) == 0xc0) {
		n = 1, cp = c & 0x1f, min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		n = 2, cp = c & 0x0f, min = 0x800;
	} else if ((c & 0xf8) == 0xf0) {
		n = 3, cp = c & 0x07, min = 0x10000;
	} else {
		return -1;
	}
	if (len - *i <= n)
		return -1;
	for (size_t k = 1; k <= n; k++) {
		if ((s[*i + k] & 0xc0) != 0x80)
			return -1;
		cp = cp << 6 | (s[*i + k] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*i += n + 1;
	return (int32_t)cp;
}

static void utf8_put(struct strbuf *out, uint32_t cp)
{
	char b[4];
	size_t n;
	if (cp < 0x80) {
		b[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xc0 | cp >> 6);
		b[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xe0 | cp >> 12);
		b[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		b[0] = (char)(0xf0 | cp >> 18);
		b[1] = (char)(0x80 | (cp >> 12 & 0x3f));
		b[2] = (char)(0x80 | (cp >> 6 & 0x3f));
		b[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	strbuf_add(out, b, n);
}

/* Emit whole 6-bit groups from the bit buffer. */
static void b64_drain(struct strbuf *out, uint32_t *bits, unsigned *nbits)
{
	while (*nbits >= 6) {
		*nbits -= 6;
		strbuf_addch(out, b64[(*bits >> *nbits) & 0x3f]);
	}
	*bits &= (1u << *nbits) - 1;
}

static void b64_close(struct strbuf *out, uint32_t *bits, unsigned *nbits)
{
	if (*nbits) /* pad with zero bits to a whole character */
		strbuf_addch(out, b64[(*bits << (6 - *nbits)) & 0x3f]);
	*bits = 0;
	*nbits = 0;
	strbuf_addch(out, '-');
}

int imap_utf7_encode(const char *utf8, size_t len, struct strbuf *out,
		     struct oim_err *err)
{
	const unsigned char *s = (const unsigned char *)utf8;
	size_t i = 0, start_len = out->len;
	bool shifted = false;
	uint32_t bits = 0;
	unsigned nbits = 0;

	while (i < len) {
		size_t at = i;
		int32_t cp = utf8_next(s, len, &i);
		if (cp <= 0) {
			strbuf_setlen(out, start_len);
			return oim_error(err, OIM_SEV_FOLDER, OIM_E_GENERIC,
					 "mailbox name has %s at byte %zu",
					 cp ? "invalid UTF-8" : "a NUL byte",
					 at);
		}
		if (cp >= 0x20 && cp <= 0x7e) {
			if (shifted) {
				b64_close(out, &bits, &nbits);
				shifted = false;
			}
			if (cp == '&')
				strbuf_addstr(out, "&-");
			else
				strbuf_addch(out, (char)cp);
			continue;
		}
		if (!shifted) {
			strbuf_addch(out, '&');
			shifted = true;
		}
		if (cp >= 0x10000) {
			uint32_t v = (uint32_t)cp - 0x10000;
			bits = bits << 16 | (0xd800 | v >> 10);
			nbits += 16;
			b64_drain(out, &bits, &nbits);
			cp = (int32_t)(0xdc00 | (v & 0x3ff));
		}
		bits = bits << 16 | (uint32_t)cp;
		nbits += 16;
		b64_drain(out, &bits, &nbits);
	}
	if (shifted)
		b64_close(out, &bits, &nbits);
	return 0;
}

static int bad(struct strbuf *out, size_t start_len, const char *in,
	       size_t len, const char *what, struct oim_err *err)
{
	struct strbuf q = STRBUF_INIT;
	strbuf_setlen(out, start_len);
	imap_quote_for_log(&q, in, len, 80);
	oim_error(err, OIM_SEV_FOLDER, OIM_E_PROTOCOL,
		  "bad modified UTF-7 mailbox name \"%s\": %s", q.buf, what);
	strbuf_release(&q);
	return -1;
}

int imap_utf7_decode(const char *mutf7, size_t len, struct strbuf *out,
		     struct oim_err *err)
{
	const unsigned char *s = (const unsigned char *)mutf7;
	size_t i = 0, start_len = out->len;

	while (i < len) {
		unsigned char c = s[i++];
		if (c < 0x20 || c > 0x7e)
			return bad(out, start_len, mutf7, len,
				   "byte outside printable ASCII", err);
		if (c != '&') {
			strbuf_addch(out, (char)c);
			continue;
		}
		if (i < len && s[i] == '-') {
			strbuf_addch(out, '&');
			i++;
			continue;
		}
		/* a base64 run up to '-' */
		uint32_t bits = 0, high = 0;
		unsigned nbits = 0, nchars = 0;
		for (;;) {
			if (i >= len)
				return bad(out, start_len, mutf7, len,
					   "unterminated '&' shift", err);
			c = s[i++];
			if (c == '-')
				break;
			int v = b64_value(c);
			if (v < 0)
				return bad(out, start_len, mutf7, len,
					   "bad base64 character", err);
			nchars++;
			bits = (bits << 6 | (uint32_t)v) & 0x3fffff;
			nbits += 6;
			if (nbits < 16)
				continue;
			nbits -= 16;
			uint32_t u = (bits >> nbits) & 0xffff;
			if (high) {
				if (u < 0xdc00 || u > 0xdfff)
					return bad(out, start_len, mutf7, len,
						   "unpaired UTF-16 surrogate",
						   err);
				utf8_put(out, 0x10000 + ((high - 0xd800) << 10) +
						      (u - 0xdc00));
				high = 0;
			} else if (u >= 0xd800 && u <= 0xdbff) {
				high = u;
			} else if (u >= 0xdc00 && u <= 0xdfff) {
				return bad(out, start_len, mutf7, len,
					   "unpaired UTF-16 surrogate", err);
			} else if (u < 0x20 ? u == 0 : u <= 0x7e) {
				return bad(out, start_len, mutf7, len,
					   u ? "printable ASCII in a shift"
					     : "NUL in a shift",
					   err);
			} else {
				utf8_put(out, u);
			}
		}
		if (!nchars)
			BUG("empty shift handled above");
		if (high)
			return bad(out, start_len, mutf7, len,
				   "unpaired UTF-16 surrogate", err);
		/* leftover bits: fewer than 6 and all zero, as an encoder
		 * writes them */
		if (nbits >= 6 || (bits & ((1u << nbits) - 1)))
			return bad(out, start_len, mutf7, len,
				   "bad padding bits", err);
		if (nchars * 6 < 16)
			return bad(out, start_len, mutf7, len,
				   "shift without a character", err);
	}
	return 0;
}
