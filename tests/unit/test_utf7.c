/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Modified UTF-7 (RFC 3501 5.1.3): examples, rejections, round trips. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "imap/utf7.h"
#include "util/err.h"
#include "util/strbuf.h"
#include "util/util.h"

struct pair {
	const char *utf8;
	const char *mutf7;
};

static const struct pair pairs[] = {
	{ "", "" },
	{ "INBOX", "INBOX" },
	/* RFC 3501 5.1.3 */
	{ "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac"
	  "\xe8\xaa\x9e",
	  "~peter/mail/&U,BTFw-/&ZeVnLIqe-" },
	{ "&", "&-" },
	{ "a&b&&", "a&-b&-&-" },
	{ "Entw\xc3\xbcrfe", "Entw&APw-rfe" },
	{ "\xc3\x89t\xc3\xa9", "&AMk-t&AOk-" },
	{ "\xc3\x89\xc3\xa9", "&AMkA6Q-" },
	/* outside the BMP: a surrogate pair */
	{ "\xf0\x9f\x98\x80", "&2D3eAA-" },
	{ "x\xf0\x9f\x98\x80y", "x&2D3eAA-y" },
	/* controls and DEL are shifted */
	{ "a\x01" "b", "a&AAE-b" },
	{ "\x7f", "&AH8-" },
	{ "[Gmail]/All Mail", "[Gmail]/All Mail" },
	{ "-&-", "-&--" },
};

static void test_examples(void **state)
{
	struct oim_err err = OIM_ERR_INIT;
	for (size_t i = 0; i < ARRAY_SIZE(pairs); i++) {
		struct strbuf sb = STRBUF_INIT;
		assert_int_equal(imap_utf7_encode(pairs[i].utf8,
						  strlen(pairs[i].utf8), &sb,
						  &err),
				 0);
		assert_string_equal(sb.buf, pairs[i].mutf7);
		strbuf_reset(&sb);
		assert_int_equal(imap_utf7_decode(pairs[i].mutf7,
						  strlen(pairs[i].mutf7), &sb,
						  &err),
				 0);
		assert_string_equal(sb.buf, pairs[i].utf8);
		strbuf_release(&sb);
	}
}

static void test_appends(void **state)
{
	struct oim_err err = OIM_ERR_INIT;
	struct strbuf sb = STRBUF_INIT;
	strbuf_addstr(&sb, "pre/");
	assert_int_equal(imap_utf7_decode("&APw-", 5, &sb, &err), 0);
	assert_string_equal(sb.buf, "pre/\xc3\xbc");
	/* on error the buffer is restored */
	assert_int_equal(imap_utf7_decode("ok&APw", 6, &sb, &err), -1);
	assert_string_equal(sb.buf, "pre/\xc3\xbc");
	assert_int_equal(imap_utf7_encode("ok\xff", 3, &sb, &err), -1);
	assert_string_equal(sb.buf, "pre/\xc3\xbc");
	strbuf_release(&sb);
}

struct bad {
	const char *in;
	size_t len;
	const char *why;
};
#define BAD(s, why) { s, sizeof(s) - 1, why }

static const struct bad bad_decode[] = {
	BAD("&", "unterminated '&' shift"),
	BAD("a&Jjo", "unterminated '&' shift"),
	BAD("&AOk", "unterminated '&' shift"),
	BAD("&Jjo!-", "bad base64 character"),
	BAD("&AO/-", "bad base64 character"), /* '/' is ',' here */
	BAD("&AO=-", "bad base64 character"), /* no padding */
	BAD("&AGE-", "printable ASCII in a shift"), /* "a" */
	BAD("&ACY-", "printable ASCII in a shift"), /* "&" */
	BAD("&AAA-", "NUL in a shift"),
	BAD("&2D0-", "unpaired UTF-16 surrogate"),	 /* high alone */
	BAD("&2D0AYQ-", "unpaired UTF-16 surrogate"), /* high + 'a' */
	BAD("&3gA-", "unpaired UTF-16 surrogate"),	 /* low alone */
	BAD("&AOl-", "bad padding bits"),		 /* non-zero */
	BAD("&AOkA-", "bad padding bits"),		 /* extra char */
	BAD("&A-", "bad padding bits"),
	BAD("&AA-", "bad padding bits"),
	BAD("\xc3\xa9", "byte outside printable ASCII"),
	BAD("a\tb", "byte outside printable ASCII"),
	BAD("a\0b", "byte outside printable ASCII"),
	BAD("\x7f", "byte outside printable ASCII"),
};

static void test_bad_decode(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(bad_decode); i++) {
		struct oim_err err = OIM_ERR_INIT;
		struct strbuf sb = STRBUF_INIT;
		if (imap_utf7_decode(bad_decode[i].in, bad_decode[i].len, &sb,
				     &err) != -1)
			fail_msg("accepted %s", bad_decode[i].in);
		if (!strstr(err.msg, bad_decode[i].why))
			fail_msg("%s: %s", bad_decode[i].in, err.msg);
		assert_int_equal(err.kind, OIM_E_PROTOCOL);
		assert_int_equal(sb.len, 0);
		strbuf_release(&sb);
	}
}

static const struct bad bad_encode[] = {
	BAD("\xff", "invalid UTF-8 at byte 0"),
	BAD("ab\x80", "invalid UTF-8 at byte 2"),
	BAD("\xc0\x80", "invalid UTF-8"),	  /* overlong NUL */
	BAD("\xe0\x80\xaf", "invalid UTF-8"),	  /* overlong '/' */
	BAD("\xed\xa0\x80", "invalid UTF-8"),	  /* surrogate */
	BAD("\xf4\x90\x80\x80", "invalid UTF-8"), /* > U+10FFFF */
	BAD("\xe6\x97", "invalid UTF-8"),	  /* truncated */
	BAD("\xe6\x97x", "invalid UTF-8"),
	BAD("\xf8\x88\x80\x80\x80", "invalid UTF-8"),
	BAD("a\0", "a NUL byte at byte 1"),
};

static void test_bad_encode(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(bad_encode); i++) {
		struct oim_err err = OIM_ERR_INIT;
		struct strbuf sb = STRBUF_INIT;
		assert_int_equal(imap_utf7_encode(bad_encode[i].in,
						  bad_encode[i].len, &sb, &err),
				 -1);
		if (!strstr(err.msg, bad_encode[i].why))
			fail_msg("%zu: %s", i, err.msg);
		assert_int_equal(sb.len, 0);
		strbuf_release(&sb);
	}
}

static size_t put_utf8(char *b, uint32_t cp)
{
	if (cp < 0x80) {
		b[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		b[0] = (char)(0xc0 | cp >> 6);
		b[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		b[0] = (char)(0xe0 | cp >> 12);
		b[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	b[0] = (char)(0xf0 | cp >> 18);
	b[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	b[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	b[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

static void roundtrip(const char *s, size_t len)
{
	struct oim_err err = OIM_ERR_INIT;
	struct strbuf enc = STRBUF_INIT, dec = STRBUF_INIT, enc2 = STRBUF_INIT;
	assert_int_equal(imap_utf7_encode(s, len, &enc, &err), 0);
	for (size_t i = 0; i < enc.len; i++)
		assert_true(enc.buf[i] >= 0x20 && enc.buf[i] <= 0x7e);
	assert_int_equal(imap_utf7_decode(enc.buf, enc.len, &dec, &err), 0);
	assert_int_equal(dec.len, len);
	assert_memory_equal(dec.buf, s, len);
	/* and the encoding is canonical: re-encoding gives the same */
	assert_int_equal(imap_utf7_encode(dec.buf, dec.len, &enc2, &err), 0);
	assert_string_equal(enc.buf, enc2.buf);
	strbuf_release(&enc);
	strbuf_release(&dec);
	strbuf_release(&enc2);
}

/* Every code point alone and between ASCII. */
static void test_roundtrip_all_code_points(void **state)
{
	for (uint32_t cp = 1; cp <= 0x10ffff; cp++) {
		char b[8];
		size_t n;
		if (cp >= 0xd800 && cp <= 0xdfff)
			continue;
		if (cp > 0x3000 && cp < 0xf000 && cp % 7)
			continue; /* keep the test quick; edges all covered */
		if (cp > 0x10000 && cp % 61)
			continue;
		b[0] = 'x';
		n = 1 + put_utf8(b + 1, cp);
		b[n++] = 'y';
		roundtrip(b + 1, n - 2);
		roundtrip(b, n);
	}
}

/* Random mixtures (fixed seed): runs of 1..4 shifted characters give every
 * bit alignment at the end of a shift. */
static void test_roundtrip_random(void **state)
{
	uint32_t seed = 12345;
	static const uint32_t pool[] = {
		'a', '&', '-', '/', ' ', 0x01, 0x7f, 0xe9, 0xfc, 0x53f0,
		0x8a9e, 0xffff, 0x10000, 0x1f600, 0x10ffff, '~',
	};
	for (int t = 0; t < 5000; t++) {
		char buf[256];
		size_t n = 0;
		seed = seed * 1103515245 + 12345;
		int len = (int)(seed >> 16) % 30;
		for (int k = 0; k < len; k++) {
			seed = seed * 1103515245 + 12345;
			n += put_utf8(buf + n,
				      pool[(seed >> 16) % ARRAY_SIZE(pool)]);
		}
		roundtrip(buf, n);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_examples),
		cmocka_unit_test(test_appends),
		cmocka_unit_test(test_bad_decode),
		cmocka_unit_test(test_bad_encode),
		cmocka_unit_test(test_roundtrip_all_code_points),
		cmocka_unit_test(test_roundtrip_random),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
