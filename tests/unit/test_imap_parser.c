/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Tests of the IMAP response parser.  Every input is parsed whole, byte by
 * byte and split in two at every position; the transcripts (responses,
 * body-sink events, errors) must be identical, and equal to the expected
 * one.  Recorded sessions live in data/imap/NAME.txt with the expected
 * transcript in NAME.expected (OIMAP_REGEN=1 rewrites those; review the
 * diff before committing).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "imap/parser.h"
#include "imap/resp.h"
#include "util/err.h"
#include "util/strbuf.h"
#include "util/util.h"

/* ---- harness ---- */

struct rec {
	struct strbuf *out;
	struct strbuf body;
	int fail_at; /* make the sink fail: 1 begin, 2 data, 3 end */
};

static int sink_begin(void *ctx, const struct imap_body_info *info,
		      struct oim_err *err)
{
	struct rec *r = ctx;
	bool inmem = strstr(info->item, "HEADER.FIELDS") != NULL;
	strbuf_addf(r->out, "BODY seq=%u uid=%u item=%s size=%llu%s%s\n",
		    info->seq, info->uid, info->item,
		    (unsigned long long)info->size, info->binary ? " binary" : "",
		    inmem ? " inmem" : "");
	strbuf_reset(&r->body);
	if (r->fail_at == 1)
		return oim_error(err, OIM_SEV_MESSAGE, OIM_E_IO, "sink begin");
	return inmem ? IMAP_BODY_INMEM : IMAP_BODY_STREAM;
}

static int sink_data(void *ctx, const void *data, size_t len,
		     struct oim_err *err)
{
	struct rec *r = ctx;
	assert_true(len > 0);
	strbuf_add(&r->body, data, len);
	if (r->fail_at == 2)
		return oim_error(err, OIM_SEV_MESSAGE, OIM_E_IO, "sink data");
	return 0;
}

static int sink_end(void *ctx, struct oim_err *err)
{
	struct rec *r = ctx;
	strbuf_addstr(r->out, "  data=\"");
	imap_quote_for_log(r->out, r->body.buf, r->body.len, SIZE_MAX);
	strbuf_addstr(r->out, "\"\n");
	if (r->fail_at == 3)
		return oim_error(err, OIM_SEV_MESSAGE, OIM_E_IO, "sink end");
	return 0;
}

static const struct imap_body_sink test_sink = {
	sink_begin,
	sink_data,
	sink_end,
};

struct opts {
	const struct imap_parser_limits *lim;
	bool no_sink;
	int fail_at;
};

/*
 * Parse in[0..len) fed in pieces ending at cuts[0..ncuts) and then len;
 * write the transcript to out.
 */
static void run(const char *in, size_t len, const size_t *cuts, size_t ncuts,
		const struct opts *o, struct strbuf *out)
{
	struct imap_parser *p = imap_parser_new(o ? o->lim : NULL);
	struct rec r = { out, STRBUF_INIT, o ? o->fail_at : 0 };
	struct oim_err err = OIM_ERR_INIT;
	size_t start = 0;
	bool dead = false;

	if (!o || !o->no_sink)
		imap_parser_set_body_sink(p, &test_sink, &r);
	for (size_t c = 0; c <= ncuts && !dead; c++) {
		size_t end = c < ncuts ? cuts[c] : len;
		const char *buf = in + start;
		size_t left = end - start;
		start = end;
		do {
			size_t used = 0;
			int ret = imap_parser_feed(p, buf, left, &used, &err);
			if (ret < 0) {
				strbuf_addf(out, "ERROR %s: %s\n",
					    oim_err_kind_name(err.kind),
					    err.msg);
				assert_int_equal(err.sev, OIM_SEV_ACCOUNT);
				/* dead: the same error again */
				struct oim_err err2 = OIM_ERR_INIT;
				assert_int_equal(imap_parser_feed(p, "x", 1,
								  &used, &err2),
						 -1);
				assert_string_equal(err.msg, err2.msg);
				assert_null(imap_parser_response(p));
				dead = true;
				break;
			}
			assert_true(used <= left);
			buf += used;
			left -= used;
			if (ret == IMAP_PARSE_RESPONSE) {
				const struct imap_response *resp =
					imap_parser_response(p);
				assert_non_null(resp);
				assert_false(imap_parser_in_response(p));
				imap_response_dump(out, resp);
				strbuf_addch(out, '\n');
			} else {
				assert_int_equal(left, 0);
				assert_null(imap_parser_response(p));
			}
		} while (left > 0);
	}
	if (!dead && imap_parser_in_response(p))
		strbuf_addstr(out, "INCOMPLETE\n");
	strbuf_release(&r.body);
	imap_parser_free(p);
}

/* Whole, byte by byte, and split at every position: all the same.  Returns
 * the transcript of the whole parse (caller releases). */
static void check_splits(const char *in, size_t len, const struct opts *o,
			 struct strbuf *whole)
{
	struct strbuf t = STRBUF_INIT;
	size_t *cuts = xcalloc(len + 1, sizeof(*cuts));

	run(in, len, NULL, 0, o, whole);
	for (size_t i = 1; i < len; i++)
		cuts[i - 1] = i;
	run(in, len, cuts, len ? len - 1 : 0, o, &t);
	assert_string_equal(t.buf, whole->buf);
	for (size_t i = 0; i <= len; i++) {
		strbuf_reset(&t);
		cuts[0] = i;
		run(in, len, cuts, 1, o, &t);
		if (strcmp(t.buf, whole->buf))
			fail_msg("split at %zu differs:\n%s\nvs whole:\n%s", i,
				 t.buf, whole->buf);
	}
	free(cuts);
	strbuf_release(&t);
}

static void check(const char *in, size_t len, const struct opts *o,
		  const char *expected)
{
	struct strbuf whole = STRBUF_INIT;
	check_splits(in, len, o, &whole);
	if (strcmp(whole.buf, expected)) {
		fprintf(stderr, "input:    ");
		struct strbuf q = STRBUF_INIT;
		imap_quote_for_log(&q, in, len, 400);
		fprintf(stderr, "%s\nexpected: %sgot:      %s", q.buf, expected,
			whole.buf);
		strbuf_release(&q);
	}
	assert_string_equal(whole.buf, expected);
	strbuf_release(&whole);
}

#define CHECK(in, exp) check((in), sizeof(in) - 1, NULL, (exp))
#define CHECK_O(in, o, exp) check((in), sizeof(in) - 1, (o), (exp))

/* ---- table of small cases ---- */

struct tcase {
	const char *in;
	const char *exp;
};

static const struct tcase good_cases[] = {
	/* status responses, codes, text */
	{ "a1 OK\r\n", "a1 OK \"\"\n" },
	{ "a1 OK done\r\n", "a1 OK \"done\"\n" },
	{ "a1 ok [read-write] x\r\n", "a1 ok [read-write|] \"x\"\n" },
	{ "* OK [UIDNEXT 5] Predicted\r\n", "* OK [UIDNEXT|5] \"Predicted\"\n" },
	{ "* NO [ALERT] it's (weird\" [text\r\n",
	  "* NO [ALERT|] \"it's (weird\\\" [text\"\n" },
	{ "* OK [XYZ a (b \"c]\" d\r\n", "* OK [XYZ|a (b \\\"c] \"\\\" d\"\n" },
	{ "* BYE\r\n", "* BYE \"\"\n" },
	{ "* PREAUTH [CAPABILITY IMAP4rev1] hi\r\n",
	  "* PREAUTH [CAPABILITY|IMAP4rev1] \"hi\"\n" },
	{ "tag.1-x OK [COPYUID 1 1:2 3:4]\r\n",
	  "tag.1-x OK [COPYUID|1 1:2 3:4] \"\"\n" },
	/* continuations */
	{ "+\r\n", "+ \"\"\n" },
	{ "+ \r\n", "+ \"\"\n" },
	{ "+ idling\r\n", "+ \"idling\"\n" },
	{ "+ [ALERT] x\r\n", "+ \"[ALERT] x\"\n" },
	/* empty lines and bare LF */
	{ "\r\n\r\n* 1 EXISTS\n\n* 2 EXISTS\r\n", "* 1 EXISTS\n* 2 EXISTS\n" },
	{ "* SEARCH\r\n", "* SEARCH\n" },
	{ "* SEARCH  1   2 \r\n", "* SEARCH 1 2\n" },
	/* strings */
	{ "* X \"a\\\"b\\\\c\" \"\" \"\\d\"\r\n",
	  "* X \"a\\\"b\\\\c\" \"\" \"d\"\n" },
	{ "* X \"\xc3\xa9t\xc3\xa9\"\r\n", "* X \"\\xc3\\xa9t\\xc3\\xa9\"\n" },
	{ "* X {3}\r\na\"b {0}\r\n nil NIL Nil\r\n",
	  "* X {3}\"a\\\"b\" {0}\"\" NIL NIL NIL\n" },
	{ "* X {2+}\r\nab\r\n", "* X {2}\"ab\"\n" },
	{ "* X {2}\nab\n", "* X {2}\"ab\"\n" },
	{ "* X ~foo ~\r\n", "* X ~foo ~\n" },
	/* lists */
	{ "* X () (()) ((a) (b c)) (\"d\"(e))\r\n",
	  "* X () (()) ((a) (b c)) (\"d\" (e))\n" },
	{ "* LIST (\\Noselect) NIL \"\"\r\n",
	  "* LIST (\\\\Noselect) NIL \"\"\n" },
	{ "* 5 FETCH (FLAGS (\\Seen \\*) UID 7)\r\n",
	  "* 5 FETCH (FLAGS (\\\\Seen \\\\*) UID 7)\n" },
	/* atoms with brackets */
	{ "* 1 FETCH (BODY[HEADER.FIELDS (MESSAGE-ID)]<0> NIL)\r\n",
	  "* 1 FETCH (BODY[HEADER.FIELDS (MESSAGE-ID)]<0> NIL)\n" },
	{ "* 1 FETCH (BODY[1.2] \"x\" BODY[] NIL)\r\n",
	  "* 1 FETCH (BODY[1.2] \"x\" BODY[] NIL)\n" },
	/* bodies: streamed, UID before or after, in-memory header */
	{ "* 3 FETCH (UID 9 BODY[] {5}\r\nhello)\r\n",
	  "BODY seq=3 uid=9 item=BODY[] size=5\n  data=\"hello\"\n"
	  "* 3 FETCH (UID 9 BODY[] <streamed 5>)\n" },
	{ "* 3 FETCH (BODY[]<0> {5}\r\nhello UID 9)\r\n",
	  "BODY seq=3 uid=0 item=BODY[]<0> size=5\n  data=\"hello\"\n"
	  "* 3 FETCH (BODY[]<0> <streamed 5> UID 9)\n" },
	{ "* 3 FETCH (RFC822 {0}\r\n)\r\n",
	  "BODY seq=3 uid=0 item=RFC822 size=0\n  data=\"\"\n"
	  "* 3 FETCH (RFC822 <streamed 0>)\n" },
	{ "* 3 FETCH (UID 1 BODY[HEADER.FIELDS (MESSAGE-ID)] {4}\r\nab\r\n)\r\n",
	  "BODY seq=3 uid=1 item=BODY[HEADER.FIELDS (MESSAGE-ID)] size=4 "
	  "inmem\n"
	  "* 3 FETCH (UID 1 BODY[HEADER.FIELDS (MESSAGE-ID)] {4}\"ab\\r\\n\")\n" },
	/* not body positions: kept in memory */
	{ "* 3 FETCH ({3}\r\nabc BODY[] {1}\r\nx)\r\n",
	  "* 3 FETCH ({3}\"abc\" BODY[] {1}\"x\")\n" },
	{ "* 3 FETCH (X (BODY[] {1}\r\nx))\r\n",
	  "* 3 FETCH (X (BODY[] {1}\"x\"))\n" },
	{ "* x FETCH (BODY[] {1}\r\nx)\r\n", "* x FETCH (BODY[] {1}\"x\")\n" },
	{ "a1 FETCH (BODY[] {1}\r\nx)\r\n", "a1 FETCH (BODY[] {1}\"x\")\n" },
	{ "* 3 FETCH (BODY[] \"quoted body\" RFC822 NIL)\r\n",
	  "* 3 FETCH (BODY[] \"quoted body\" RFC822 NIL)\n" },
	/* several bodies in one FETCH */
	{ "* 4 FETCH (BODY[1] {1}\r\na BODY[2] {2}\r\nbc UID 4)\r\n",
	  "BODY seq=4 uid=0 item=BODY[1] size=1\n  data=\"a\"\n"
	  "BODY seq=4 uid=0 item=BODY[2] size=2\n  data=\"bc\"\n"
	  "* 4 FETCH (BODY[1] <streamed 1> BODY[2] <streamed 2> UID 4)\n" },
	/* incomplete input is not an error */
	{ "* 1 FETCH (BODY[] {10}\r\nabc",
	  "BODY seq=1 uid=0 item=BODY[] size=10\nINCOMPLETE\n" },
	{ "a1 OK", "INCOMPLETE\n" },
	{ "\r\n\r\n", "" },
};

static void test_good_cases(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(good_cases); i++)
		check(good_cases[i].in, strlen(good_cases[i].in), NULL,
		      good_cases[i].exp);
}

/* Cases with NUL bytes need explicit lengths. */
static void test_nul_in_literals(void **state)
{
	CHECK("* X ~{2}\r\na\0\r\n", "* X ~{2}\"a\\x00\"\n");
	CHECK("* 3 FETCH (BINARY[] ~{3}\r\na\0b)\r\n",
	      "BODY seq=3 uid=0 item=BINARY[] size=3 binary\n"
	      "  data=\"a\\x00b\"\n"
	      "* 3 FETCH (BINARY[] <~streamed 3>)\n");
	CHECK("* X \"a\0\"\r\n",
	      "ERROR protocol: IMAP server response: NUL byte in "
	      "\"* X \\\"a\\x00\"\n");
}

static const struct tcase bad_cases[] = {
	{ " a1 OK\r\n", "response without a tag" },
	{ "a1\r\n", "nothing after the tag" },
	{ "a(1 OK\r\n", "bad character 0x28 in tag" },
	{ "* X )\r\n", "unexpected ')'" },
	{ "* X (a\r\n", "unterminated list" },
	{ "* X (a\n", "unterminated list" },
	{ "* X \"abc\r\n", "unterminated quoted string" },
	{ "* X \"abc\\\r\n", "unterminated quoted string" },
	{ "* X {12a}\r\n", "bad literal size" },
	{ "* X {}\r\n", "bad literal size" },
	{ "* X {+}\r\n", "bad literal size" },
	{ "* X {1+1}\r\n", "bad literal size" },
	{ "* X {1} \r\n", "literal size not followed by end of line" },
	{ "* X {1}\rx", "literal size not followed by end of line" },
	{ "* X a\rb\r\n", "CR not followed by LF" },
	{ "* X a\x01\r\n", "control character 0x01" },
	{ "* X \x7f\r\n", "control character 0x7f" },
	{ "* X a\"b\"\r\n", "'\"' inside an atom" },
	{ "* X BODY[HEADER\r\n", "unterminated '[' in atom" },
	{ "* OK [UIDNEXT 5\r\n", "unterminated response code" },
	{ "* OK [] x\r\n", "empty response code" },
	{ "* X {99999999999999999999}\r\n", "literal larger than" },
};

static void test_bad_cases(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(bad_cases); i++) {
		struct strbuf out = STRBUF_INIT;
		const char *in = bad_cases[i].in;
		check_splits(in, strlen(in), NULL, &out);
		if (!strstr(out.buf, bad_cases[i].exp) ||
		    !oim_starts_with(out.buf, "ERROR "))
			fail_msg("case %zu %s: got %s", i, in, out.buf);
		/* the error quotes the response */
		assert_non_null(strstr(out.buf, " in \""));
		strbuf_release(&out);
	}
}

static void test_error_quotes_line(void **state)
{
	CHECK("* X \x1b[31m\r\n",
	      "ERROR protocol: IMAP server response: control "
	      "character 0x1b in \"* X \\x1b\"\n");
	/* long lines are cut in the message */
	CHECK("* X aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	      "aaaaaaaaaaaaaaaaaaaaaaaaaa\x02",
	      "ERROR protocol: IMAP server response: control "
	      "character 0x02 in \"* X aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\"\n");
	/* responses before the bad one come out first */
	CHECK("* 1 EXISTS\r\n* X )\r\n",
	      "* 1 EXISTS\n"
	      "ERROR protocol: IMAP server response: unexpected ')' in "
	      "\"* X )\"\n");
}

static void test_limits(void **state)
{
	struct imap_parser_limits lim;
	struct opts o = { .lim = &lim };

	imap_parser_default_limits(&lim);
	lim.max_line = 20;
	lim.max_inmem_literal = 8;
	lim.max_literal = 100;
	lim.max_depth = 3;
	lim.max_args = 10;

	CHECK_O("* 1234567890123456\r\n", &o, "* 1234567890123456\n");
	CHECK_O("* 12345678901234567\r\n", &o,
		"ERROR limit: IMAP server response: response longer "
		"than 20 bytes in \"* 12345678901234567\\r\\n\"\n");
	CHECK_O("* X {8}\r\n12345678\r\n", &o, "* X {8}\"12345678\"\n");
	CHECK_O("* X {9}\r\n123456789\r\n", &o,
		"ERROR limit: IMAP server response: literal of 9 "
		"bytes is larger than the 8 bytes kept in memory in "
		"\"* X {9}\\r\\n\"\n");
	/* in-memory literals count towards the response size */
	CHECK_O("* {8}\r\n12345678{4}\r\n", &o,
		"ERROR limit: IMAP server response: response larger "
		"than 20 bytes in \"* {8}\\r\\n{4}\\r\\n\"\n");
	/* streamed bodies do not, up to max_literal */
	lim.max_line = 30;
	CHECK_O("* 1 FETCH (BODY[] {100}\r\n"
		"0123456789012345678901234567890123456789012345678901234567890"
		"123456789012345678901234567890123456789)\r\n",
		&o,
		"BODY seq=1 uid=0 item=BODY[] size=100\n"
		"  data=\"0123456789012345678901234567890123456789012345678901"
		"234567890123456789012345678901234567890123456789\"\n"
		"* 1 FETCH (BODY[] <streamed 100>)\n");
	CHECK_O("* 1 FETCH (BODY[] {101}\r\n", &o,
		"ERROR limit: IMAP server response: literal larger "
		"than 100 bytes in \"* 1 FETCH (BODY[] {101\"\n");
	/* without a sink a body is an ordinary literal */
	struct opts o2 = { .lim = &lim, .no_sink = true };
	CHECK_O("* 1 FETCH (BODY[] {9}\r\n", &o2,
		"ERROR limit: IMAP server response: literal of 9 "
		"bytes is larger than the 8 bytes kept in memory in "
		"\"* 1 FETCH (BODY[] {9}\\r\\n\"\n");
	CHECK_O("* 1 FETCH (BODY[] {2}\r\nab)\r\n", &o2,
		"* 1 FETCH (BODY[] {2}\"ab\")\n");
	lim.max_line = 40;
	/* nesting */
	CHECK_O("* X (((a)))\r\n", &o, "* X (((a)))\n");
	CHECK_O("* X ((((a))))\r\n", &o,
		"ERROR limit: IMAP server response: lists nested "
		"deeper than 3 in \"* X ((((\"\n");
	/* argument count: lists count too */
	CHECK_O("* 1 2 3 4 5 6 7 8 9\r\n", &o, "* 1 2 3 4 5 6 7 8 9\n");
	CHECK_O("* 1 2 3 4 5 6 7 8 9 a\r\n", &o, "* 1 2 3 4 5 6 7 8 9 a\n");
	CHECK_O("* 1 2 3 4 5 6 7 8 9 a b\r\n", &o,
		"ERROR limit: IMAP server response: more than 10 "
		"arguments in one response in "
		"\"* 1 2 3 4 5 6 7 8 9 a b\\r\"\n");
	CHECK_O("* () () () () () () () () () ()\r\n", &o,
		"* () () () () () () () () () ()\n");
	CHECK_O("* () () () () () () () () () () ()\r\n", &o,
		"ERROR limit: IMAP server response: more than 10 "
		"arguments in one response in "
		"\"* () () () () () () () () () () (\"\n");
	/* the limit counts per response, not per connection */
	CHECK_O("* 1 2 3 4 5 6 7 8 9 a\r\n* 1 2 3 4 5 6 7 8 9 a\r\n", &o,
		"* 1 2 3 4 5 6 7 8 9 a\n* 1 2 3 4 5 6 7 8 9 a\n");
}

static void test_sink_failure(void **state)
{
	struct opts o = { .fail_at = 1 };
	CHECK_O("* 1 FETCH (BODY[] {2}\r\nab)\r\n", &o,
		"BODY seq=1 uid=0 item=BODY[] size=2\n"
		"ERROR io: sink begin\n");
	o.fail_at = 3;
	CHECK_O("* 1 FETCH (BODY[] {2}\r\nab)\r\n", &o,
		"BODY seq=1 uid=0 item=BODY[] size=2\n  data=\"ab\"\n"
		"ERROR io: sink end\n");
}

static void test_stops_after_each_response(void **state)
{
	static const char in[] = "a1 OK [COMPRESSACTIVE] x\r\n\x78\x9c\x01";
	struct imap_parser *p = imap_parser_new(NULL);
	struct oim_err err = OIM_ERR_INIT;
	size_t used = 0;

	assert_int_equal(imap_parser_feed(p, in, sizeof(in) - 1, &used, &err),
			 IMAP_PARSE_RESPONSE);
	assert_int_equal(used, strlen("a1 OK [COMPRESSACTIVE] x\r\n"));
	const struct imap_response *r = imap_parser_response(p);
	assert_int_equal(r->kind, IMAP_RESP_TAGGED);
	assert_int_equal(r->status, IMAP_STATUS_OK);
	assert_string_equal(r->tag, "a1");
	assert_string_equal(r->code, "COMPRESSACTIVE");
	assert_string_equal(r->code_args, "");
	assert_string_equal(r->text, "x");
	assert_int_equal(r->nargs, 1);
	assert_true(imap_arg_atom_is(&r->args[0], "ok"));
	/* a zero-length feed invalidates the response */
	assert_int_equal(imap_parser_feed(p, "", 0, &used, &err),
			 IMAP_PARSE_MORE);
	assert_int_equal(used, 0);
	assert_null(imap_parser_response(p));
	assert_false(imap_parser_in_response(p));
	assert_int_equal(imap_parser_feed(p, "* 2", 3, &used, &err),
			 IMAP_PARSE_MORE);
	assert_true(imap_parser_in_response(p));
	imap_parser_free(p);
}

static void test_arg_helpers(void **state)
{
	static const char in[] =
		"* 4294967295 FETCH (UID 4294967296 MODSEQ (18446744073709551615)"
		" X \"12\" Y NIL Z -1)\r\n";
	struct imap_parser *p = imap_parser_new(NULL);
	struct oim_err err = OIM_ERR_INIT;
	size_t used;
	uint32_t u32;
	uint64_t u64;

	assert_int_equal(imap_parser_feed(p, in, sizeof(in) - 1, &used, &err),
			 IMAP_PARSE_RESPONSE);
	const struct imap_response *r = imap_parser_response(p);
	assert_int_equal(r->status, IMAP_STATUS_NONE);
	assert_int_equal(r->nargs, 3);
	assert_int_equal(imap_arg_u32(&r->args[0], &u32), 0);
	assert_true(u32 == UINT32_MAX);
	const struct imap_arg *l = r->args[2].u.list;
	assert_int_equal(r->args[2].type, IMAP_ARG_LIST);
	assert_int_equal(r->args[2].len, 10);
	assert_int_equal(imap_arg_u32(&l[1], &u32), -1);
	assert_int_equal(imap_arg_u64(&l[1], &u64), 0);
	assert_true(u64 == 4294967296ull);
	assert_int_equal(imap_arg_u64(&l[3].u.list[0], &u64), 0);
	assert_true(u64 == UINT64_MAX);
	assert_int_equal(imap_arg_u32(&l[5], &u32), -1); /* quoted */
	assert_string_equal(imap_arg_string(&l[5]), "12");
	assert_null(imap_arg_string(&l[7]));
	assert_string_equal(imap_arg_nstring(&l[7]), "");
	assert_null(imap_arg_nstring(&l[3]));
	assert_int_equal(imap_arg_u32(&l[9], &u32), -1);
	assert_string_equal(imap_arg_type_name(IMAP_ARG_STREAMED), "streamed");
	imap_parser_free(p);
}

/* ---- recorded sessions ---- */

static char *read_file(const char *path, size_t *len_r)
{
	FILE *f = fopen(path, "rb");
	struct strbuf sb = STRBUF_INIT;
	char buf[4096];
	size_t n;
	if (!f)
		fail_msg("cannot open %s", path);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		strbuf_add(&sb, buf, n);
	fclose(f);
	return strbuf_detach(&sb, len_r);
}

static void check_recorded(const char *name)
{
	const char *dir = getenv("OIMAP_TESTDATA");
	char *in_path, *exp_path, *in, *exp;
	size_t len, exp_len;
	struct strbuf out = STRBUF_INIT;

	assert_non_null(dir);
	in_path = xasprintf("%s/imap/%s.txt", dir, name);
	exp_path = xasprintf("%s/imap/%s.expected", dir, name);
	in = read_file(in_path, &len);
	check_splits(in, len, NULL, &out);
	if (getenv("OIMAP_REGEN")) {
		FILE *f = fopen(exp_path, "wb");
		assert_non_null(f);
		fwrite(out.buf, 1, out.len, f);
		fclose(f);
	}
	exp = read_file(exp_path, &exp_len);
	assert_string_equal(out.buf, exp);
	/* recorded sessions are complete and error-free */
	assert_null(strstr(out.buf, "ERROR"));
	assert_null(strstr(out.buf, "INCOMPLETE"));
	free(in);
	free(exp);
	free(in_path);
	free(exp_path);
	strbuf_release(&out);
}

static void test_dovecot_session(void **state)
{
	check_recorded("dovecot-session");
}

static void test_dovecot_qresync(void **state)
{
	check_recorded("dovecot-qresync");
}

static void test_rfc3501(void **state)
{
	check_recorded("rfc3501");
}

static void test_rfc_extensions(void **state)
{
	check_recorded("rfc-extensions");
}

static void test_gmail(void **state)
{
	check_recorded("gmail");
}

static void test_exchange(void **state)
{
	check_recorded("exchange");
}

/* A body larger than any in-memory cap streams through in pieces. */
static void test_large_body(void **state)
{
	struct imap_parser_limits lim;
	imap_parser_default_limits(&lim);
	lim.max_line = 4096;
	lim.max_inmem_literal = 1024;
	struct imap_parser *p = imap_parser_new(&lim);
	struct strbuf out = STRBUF_INIT;
	struct rec r = { &out, STRBUF_INIT, 0 };
	struct oim_err err = OIM_ERR_INIT;
	char chunk[1000];
	size_t used, total = 5u * 1000 * 1000;
	const char *head = "* 7 FETCH (UID 70 BODY[] {5000000}\r\n";

	imap_parser_set_body_sink(p, &test_sink, &r);
	memset(chunk, 'm', sizeof(chunk));
	assert_int_equal(imap_parser_feed(p, head, strlen(head), &used, &err),
			 IMAP_PARSE_MORE);
	for (size_t i = 0; i < total / sizeof(chunk); i++) {
		assert_int_equal(imap_parser_feed(p, chunk, sizeof(chunk),
						  &used, &err),
				 IMAP_PARSE_MORE);
		assert_int_equal(used, sizeof(chunk));
	}
	assert_int_equal(r.body.len, total);
	assert_int_equal(imap_parser_feed(p, ")\r\n", 3, &used, &err),
			 IMAP_PARSE_RESPONSE);
	strbuf_release(&r.body);
	strbuf_release(&out);
	imap_parser_free(p);
}

/* ---- typed decoders ---- */

/* Parse one response (no sink, whole); the parser stays alive for it. */
static const struct imap_response *parse1(struct imap_parser **pp,
					  const char *in)
{
	struct oim_err err = OIM_ERR_INIT;
	size_t used;
	if (!*pp)
		*pp = imap_parser_new(NULL);
	int r = imap_parser_feed(*pp, in, strlen(in), &used, &err);
	if (r != IMAP_PARSE_RESPONSE)
		fail_msg("no response from %s: %s", in, err.msg);
	assert_int_equal(used, strlen(in));
	return imap_parser_response(*pp);
}

static void test_dispatch(void **state)
{
	struct imap_parser *p = NULL;
	uint32_t n;
	const struct imap_response *r = parse1(&p, "* 23 EXISTS\r\n");
	assert_string_equal(imap_response_name(r), "EXISTS");
	assert_true(imap_response_is(r, "exists"));
	assert_true(imap_response_numbered(r, "EXISTS", &n));
	assert_int_equal(n, 23);
	assert_false(imap_response_numbered(r, "EXPUNGE", &n));
	r = parse1(&p, "* LIST () \"/\" x\r\n");
	assert_string_equal(imap_response_name(r), "LIST");
	assert_false(imap_response_numbered(r, "LIST", &n));
	r = parse1(&p, "a1 OK done\r\n");
	assert_string_equal(imap_response_name(r), "OK");
	assert_false(imap_response_is(r, "OK")); /* tagged */
	r = parse1(&p, "+ go\r\n");
	assert_string_equal(imap_response_name(r), "");
	r = parse1(&p, "* (x)\r\n");
	assert_string_equal(imap_response_name(r), "");
	imap_parser_free(p);
}

static void test_fetch_decode(void **state)
{
	struct imap_parser *p = NULL;
	struct oim_err err = OIM_ERR_INIT;
	struct imap_fetch f;
	const struct imap_response *r;

	r = parse1(&p, "* 1 FETCH (UID 1 FLAGS (\\Seen \\Recent $Label1 "
		       "\\Flagged) RFC822.SIZE 117 INTERNALDATE \"17-Jul-1996 "
		       "02:44:25 -0700\" MODSEQ (3) BODY[] {3}\r\nabc "
		       "ENVELOPE (NIL NIL) BODY[HEADER.FIELDS (MESSAGE-ID)] "
		       "NIL)\r\n");
	assert_int_equal(imap_fetch_decode(r, &f, &err), 0);
	assert_int_equal(f.seq, 1);
	assert_int_equal(f.uid, 1);
	assert_int_equal(f.has, IMAP_FETCH_UID | IMAP_FETCH_FLAGS |
					IMAP_FETCH_SIZE |
					IMAP_FETCH_INTERNALDATE |
					IMAP_FETCH_MODSEQ);
	assert_int_equal(f.flags, IMAP_FLAG_SEEN | IMAP_FLAG_RECENT |
					  IMAP_FLAG_FLAGGED);
	assert_int_equal(f.nkeywords, 1);
	assert_string_equal(f.keywords[0], "$Label1");
	assert_int_equal(f.size, 117);
	assert_int_equal(f.internaldate, 837596665);
	assert_int_equal(f.internaldate_tz, -420);
	assert_int_equal(f.modseq, 3);
	assert_int_equal(f.nbodies, 2);
	assert_string_equal(f.bodies[0].item, "BODY[]");
	assert_int_equal(f.bodies[0].value->type, IMAP_ARG_LITERAL);
	assert_string_equal(f.bodies[0].value->u.str, "abc");
	assert_string_equal(f.bodies[1].item,
			    "BODY[HEADER.FIELDS (MESSAGE-ID)]");
	assert_int_equal(f.bodies[1].value->type, IMAP_ARG_NIL);

	/* Gmail: labels quoted, escaped, system labels, mUTF-7 */
	r = parse1(&p, "* 1 FETCH (X-GM-THRID 1278455344230334865 X-GM-MSGID "
		       "1278455344230334866 X-GM-LABELS (\"\\\\Important\" "
		       "\"\\\\Sent\" \"foo bar\" Inbox \"quo\\\"te\" "
		       "&AMk-t&AOk- {3}\r\nl\"t) UID 4 FLAGS ())\r\n");
	assert_int_equal(imap_fetch_decode(r, &f, &err), 0);
	assert_true(f.gm_thrid == 1278455344230334865ull);
	assert_true(f.gm_msgid == 1278455344230334866ull);
	assert_int_equal(f.ngm_labels, 7);
	assert_string_equal(f.gm_labels[0], "\\Important");
	assert_string_equal(f.gm_labels[1], "\\Sent");
	assert_string_equal(f.gm_labels[2], "foo bar");
	assert_string_equal(f.gm_labels[3], "Inbox");
	assert_string_equal(f.gm_labels[4], "quo\"te");
	assert_string_equal(f.gm_labels[5], "&AMk-t&AOk-");
	assert_string_equal(f.gm_labels[6], "l\"t");
	assert_int_equal(f.uid, 4);
	assert_int_equal(f.flags, 0);
	assert_true(f.has & IMAP_FETCH_GM_LABELS);

	/* errors name the response */
	static const char *const bad[] = {
		"* 1 FETCH (UID 0)\r\n",
		"* 1 FETCH (UID x)\r\n",
		"* 1 FETCH (UID 4294967296)\r\n",
		"* 1 FETCH (UID)\r\n",
		"* 1 FETCH UID 1\r\n",
		"* 1 FETCH (FLAGS \\Seen)\r\n",
		"* 1 FETCH (FLAGS (\"x\"))\r\n",
		"* 1 FETCH (MODSEQ 3)\r\n",
		"* 1 FETCH (INTERNALDATE \"yesterday\")\r\n",
		"* 1 FETCH (X-GM-LABELS x)\r\n",
		"* 1 FETCH (X-GM-MSGID -1)\r\n",
		"* 1 FETCH (BODY[] (a))\r\n",
		"* 1 FETCH (\"UID\" 1)\r\n",
		"* 0x FETCH (UID 1)\r\n",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		r = parse1(&p, bad[i]);
		if (imap_fetch_decode(r, &f, &err) != -1)
			fail_msg("accepted %s", bad[i]);
		assert_int_equal(err.kind, OIM_E_PROTOCOL);
		assert_non_null(strstr(err.msg, "FETCH"));
	}
	imap_parser_free(p);
}

static void test_list_decode(void **state)
{
	struct imap_parser *p = NULL;
	struct oim_err err = OIM_ERR_INIT;
	struct imap_list_entry e;
	const struct imap_response *r;

	r = parse1(&p, "* LIST (\\HasNoChildren \\Sent \\X-Foo) \"/\" "
		       "\"Sent Items\"\r\n");
	assert_int_equal(imap_list_decode(r, &e, &err), 0);
	assert_false(e.lsub);
	assert_int_equal(e.flags, IMAP_LIST_HASNOCHILDREN | IMAP_LIST_SENT);
	assert_int_equal(e.sep, '/');
	assert_string_equal(e.name, "Sent Items");
	assert_null(e.extended);
	r = parse1(&p, "* LSUB (\\Noselect) NIL {5}\r\nIN\"OX\r\n");
	assert_int_equal(imap_list_decode(r, &e, &err), 0);
	assert_true(e.lsub);
	assert_int_equal(e.flags, IMAP_LIST_NOSELECT);
	assert_int_equal(e.sep, 0);
	assert_string_equal(e.name, "IN\"OX");
	assert_int_equal(e.name_len, 5);
	r = parse1(&p, "* LIST () \"\\\\\" Entw&APw-rfe (\"CHILDINFO\" "
		       "(\"SUBSCRIBED\"))\r\n");
	assert_int_equal(imap_list_decode(r, &e, &err), 0);
	assert_int_equal(e.sep, '\\');
	assert_string_equal(e.name, "Entw&APw-rfe");
	assert_non_null(e.extended);
	r = parse1(&p, "* LIST (\\All \\HasNoChildren \\Important) \"/\" "
		       "\"[Gmail]/All Mail\"\r\n");
	assert_int_equal(imap_list_decode(r, &e, &err), 0);
	assert_int_equal(e.flags, IMAP_LIST_ALL | IMAP_LIST_HASNOCHILDREN |
					  IMAP_LIST_IMPORTANT);
	static const char *const bad[] = {
		"* LIST () \"//\" x\r\n",
		"* LIST () \"\" x\r\n",
		"* LIST () \"/\"\r\n",
		"* LIST x \"/\" x\r\n",
		"* LIST () \"/\" NIL\r\n",
		"* LIST () \"/\" (x)\r\n",
		"* LIST () \"/\" {3}\r\na\0b\r\n",
		"* LIST (\"x\") \"/\" x\r\n",
		"* LIST () \"/\" x y\r\n",
		"* STATUS x ()\r\n",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct oim_err e2 = OIM_ERR_INIT;
		size_t used;
		struct imap_parser *q = imap_parser_new(NULL);
		size_t len = strlen(bad[i]);
		if (strstr(bad[i], "{3}"))
			len += 4; /* the NUL case: "\0b\r\n" */
		assert_int_equal(imap_parser_feed(q, bad[i], len, &used, &e2),
				 IMAP_PARSE_RESPONSE);
		r = imap_parser_response(q);
		if (imap_list_decode(r, &e, &err) != -1)
			fail_msg("accepted %s", bad[i]);
		imap_parser_free(q);
	}
	imap_parser_free(p);
}

static void test_status_decode(void **state)
{
	struct imap_parser *p = NULL;
	struct oim_err err = OIM_ERR_INIT;
	struct imap_status_info st;
	const struct imap_response *r;

	r = parse1(&p, "* STATUS INBOX (MESSAGES 2 RECENT 1 UIDNEXT 3 "
		       "UIDVALIDITY 1795441432 UNSEEN 1 HIGHESTMODSEQ "
		       "18446744073709551615 SIZE 5)\r\n");
	assert_int_equal(imap_status_decode(r, &st, &err), 0);
	assert_string_equal(st.mailbox, "INBOX");
	assert_int_equal(st.has, IMAP_STATUS_MESSAGES | IMAP_STATUS_RECENT |
					 IMAP_STATUS_UIDNEXT |
					 IMAP_STATUS_UIDVALIDITY |
					 IMAP_STATUS_UNSEEN |
					 IMAP_STATUS_HIGHESTMODSEQ);
	assert_int_equal(st.messages, 2);
	assert_int_equal(st.recent, 1);
	assert_int_equal(st.uidnext, 3);
	assert_int_equal(st.uidvalidity, 1795441432);
	assert_int_equal(st.unseen, 1);
	assert_true(st.highestmodseq == UINT64_MAX);
	r = parse1(&p, "* STATUS \"sp ace\" ()\r\n");
	assert_int_equal(imap_status_decode(r, &st, &err), 0);
	assert_string_equal(st.mailbox, "sp ace");
	assert_int_equal(st.has, 0);
	r = parse1(&p, "* STATUS x (MESSAGES)\r\n");
	assert_int_equal(imap_status_decode(r, &st, &err), -1);
	r = parse1(&p, "* STATUS x (UIDNEXT 4294967296)\r\n");
	assert_int_equal(imap_status_decode(r, &st, &err), -1);
	assert_non_null(strstr(err.msg, "bad UIDNEXT"));
	imap_parser_free(p);
}

static void test_search_decode(void **state)
{
	struct imap_parser *p = NULL;
	struct oim_err err = OIM_ERR_INIT;
	struct imap_seqset set = IMAP_SEQSET_INIT;
	struct strbuf sb = STRBUF_INIT;
	uint64_t modseq;
	const struct imap_response *r;

	r = parse1(&p, "* SEARCH 2 5 6 7 11 12 18 19 20 23 3 (MODSEQ "
		       "917162500)\r\n");
	assert_int_equal(imap_search_decode(r, &set, &modseq, &err), 0);
	assert_int_equal(modseq, 917162500);
	imap_seqset_format(&sb, &set);
	assert_string_equal(sb.buf, "2:3,5:7,11:12,18:20,23");
	imap_seqset_release(&set);
	r = parse1(&p, "* SEARCH\r\n");
	assert_int_equal(imap_search_decode(r, &set, &modseq, &err), 0);
	assert_int_equal(set.nr, 0);
	assert_int_equal(modseq, 0);
	r = parse1(&p, "* SEARCH 1 x\r\n");
	assert_int_equal(imap_search_decode(r, &set, &modseq, &err), -1);
	r = parse1(&p, "* SEARCH 0\r\n");
	assert_int_equal(imap_search_decode(r, &set, &modseq, &err), -1);
	r = parse1(&p, "* SEARCH (MODSEQ 1) 2\r\n");
	assert_int_equal(imap_search_decode(r, &set, &modseq, &err), -1);
	imap_seqset_release(&set);

	struct imap_esearch es;
	r = parse1(&p, "* ESEARCH (TAG \"b7\") UID MIN 1 MAX 2 ALL 1:2,7 "
		       "COUNT 3 MODSEQ 9 PARTIAL (1:2 3)\r\n");
	assert_int_equal(imap_esearch_decode(r, &es, &err), 0);
	assert_string_equal(es.tag, "b7");
	assert_true(es.uid);
	assert_int_equal(es.has, IMAP_ESEARCH_MIN | IMAP_ESEARCH_MAX |
					 IMAP_ESEARCH_ALL | IMAP_ESEARCH_COUNT |
					 IMAP_ESEARCH_MODSEQ);
	assert_int_equal(es.min, 1);
	assert_int_equal(es.max, 2);
	assert_int_equal(es.count, 3);
	assert_int_equal(es.modseq, 9);
	assert_int_equal(imap_seqset_count(&es.all), 3);
	imap_esearch_release(&es);
	r = parse1(&p, "* ESEARCH (TAG \"C01\") UID\r\n");
	assert_int_equal(imap_esearch_decode(r, &es, &err), 0);
	assert_int_equal(es.has, 0);
	imap_esearch_release(&es);
	r = parse1(&p, "* ESEARCH COUNT 15\r\n");
	assert_int_equal(imap_esearch_decode(r, &es, &err), 0);
	assert_null(es.tag);
	assert_false(es.uid);
	assert_int_equal(es.count, 15);
	imap_esearch_release(&es);
	static const char *const bad[] = {
		"* ESEARCH (TAG) UID\r\n",
		"* ESEARCH MIN\r\n",
		"* ESEARCH ALL 1:x\r\n",
		"* ESEARCH ALL \"1\"\r\n",
		"* ESEARCH MIN 1 (x) 2\r\n",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		r = parse1(&p, bad[i]);
		if (imap_esearch_decode(r, &es, &err) != -1)
			fail_msg("accepted %s", bad[i]);
		imap_esearch_release(&es);
	}

	bool earlier;
	r = parse1(&p, "* VANISHED (EARLIER) 41,43:116,118\r\n");
	assert_int_equal(imap_vanished_decode(r, &earlier, &set, &err), 0);
	assert_true(earlier);
	assert_int_equal(imap_seqset_count(&set), 76);
	imap_seqset_release(&set);
	r = parse1(&p, "* VANISHED 405\r\n");
	assert_int_equal(imap_vanished_decode(r, &earlier, &set, &err), 0);
	assert_false(earlier);
	assert_true(imap_seqset_contains(&set, 405));
	imap_seqset_release(&set);
	r = parse1(&p, "* VANISHED (LATER) 1\r\n");
	assert_int_equal(imap_vanished_decode(r, &earlier, &set, &err), -1);
	r = parse1(&p, "* VANISHED\r\n");
	assert_int_equal(imap_vanished_decode(r, &earlier, &set, &err), -1);
	imap_seqset_release(&set);
	strbuf_release(&sb);
	imap_parser_free(p);
}

static void test_code_decode(void **state)
{
	struct imap_parser *p = NULL;
	struct oim_err err = OIM_ERR_INIT;
	struct imap_code_info c;
	struct strbuf sb = STRBUF_INIT;
	const struct imap_response *r;

	r = parse1(&p, "* OK [UIDNEXT 4392] x\r\n");
	assert_int_equal(imap_code_decode(r, &c, &err), 0);
	assert_int_equal(c.code, IMAP_CODE_UIDNEXT);
	assert_int_equal(c.num, 4392);
	imap_code_info_release(&c);
	r = parse1(&p, "* OK [uidvalidity 3857529045]\r\n");
	assert_int_equal(imap_code_decode(r, &c, &err), 0);
	assert_int_equal(c.code, IMAP_CODE_UIDVALIDITY);
	assert_int_equal(c.num, 3857529045u);
	imap_code_info_release(&c);
	r = parse1(&p, "* OK [HIGHESTMODSEQ 715194045007] x\r\n");
	assert_int_equal(imap_code_decode(r, &c, &err), 0);
	assert_true(c.modseq == 715194045007ull);
	imap_code_info_release(&c);
	r = parse1(&p, "A3 OK [APPENDUID 38505 3955] APPEND completed\r\n");
	assert_int_equal(imap_code_decode(r, &c, &err), 0);
	assert_int_equal(c.code, IMAP_CODE_APPENDUID);
	assert_int_equal(c.num, 38505);
	imap_seqset_format(&sb, &c.dst);
	assert_string_equal(sb.buf, "3955");
	imap_code_info_release(&c);
	r = parse1(&p, "A4 OK [COPYUID 38505 304,319:320 3956:3958] Done\r\n");
	assert_int_equal(imap_code_decode(r, &c, &err), 0);
	assert_int_equal(c.code, IMAP_CODE_COPYUID);
	strbuf_reset(&sb);
	imap_seqset_format(&sb, &c.src);
	strbuf_addch(&sb, ' ');
	imap_seqset_format(&sb, &c.dst);
	assert_string_equal(sb.buf, "304,319:320 3956:3958");
	imap_code_info_release(&c);
	r = parse1(&p, "* OK [PERMANENTFLAGS (\\Deleted \\Seen $Fwd \\*)] L\r\n");
	assert_int_equal(imap_code_decode(r, &c, &err), 0);
	assert_int_equal(c.code, IMAP_CODE_PERMANENTFLAGS);
	assert_int_equal(c.flags, IMAP_FLAG_DELETED | IMAP_FLAG_SEEN);
	assert_true(c.flags_star);
	assert_int_equal(c.natoms, 1);
	assert_string_equal(c.atoms[0], "$Fwd");
	imap_code_info_release(&c);
	r = parse1(&p, "* OK [PERMANENTFLAGS ()] none\r\n");
	assert_int_equal(imap_code_decode(r, &c, &err), 0);
	assert_int_equal(c.flags, 0);
	assert_int_equal(c.natoms, 0);
	assert_false(c.flags_star);
	imap_code_info_release(&c);
	r = parse1(&p, "a1 OK [CAPABILITY IMAP4rev1 LITERAL+  IDLE] hi\r\n");
	assert_int_equal(imap_code_decode(r, &c, &err), 0);
	assert_int_equal(c.code, IMAP_CODE_CAPABILITY);
	assert_int_equal(c.natoms, 3);
	assert_true(imap_atoms_have(c.atoms, c.natoms, "idle"));
	assert_false(imap_atoms_have(c.atoms, c.natoms, "IMAP4"));
	imap_code_info_release(&c);
	r = parse1(&p, "d105 OK [MODIFIED 7,9] x\r\n");
	assert_int_equal(imap_code_decode(r, &c, &err), 0);
	assert_int_equal(imap_seqset_count(&c.src), 2);
	imap_code_info_release(&c);
	r = parse1(&p, "a1 NO [TRYCREATE] x\r\n");
	assert_int_equal(imap_code_decode(r, &c, &err), 0);
	assert_int_equal(c.code, IMAP_CODE_TRYCREATE);
	imap_code_info_release(&c);
	r = parse1(&p, "* OK [WEBALERT https://x/y?z] x\r\n");
	assert_int_equal(imap_code_decode(r, &c, &err), 0);
	assert_int_equal(c.code, IMAP_CODE_OTHER);
	assert_string_equal(c.name, "WEBALERT");
	assert_string_equal(c.args, "https://x/y?z");
	imap_code_info_release(&c);
	r = parse1(&p, "* OK no code\r\n");
	assert_int_equal(imap_code_decode(r, &c, &err), 0);
	assert_int_equal(c.code, IMAP_CODE_NONE);
	imap_code_info_release(&c);

	static const char *const bad[] = {
		"* OK [UIDNEXT] x\r\n",
		"* OK [UIDNEXT x] x\r\n",
		"* OK [UIDNEXT 1 2] x\r\n",
		"* OK [UIDVALIDITY 4294967296] x\r\n",
		"* OK [HIGHESTMODSEQ -1] x\r\n",
		"a OK [APPENDUID 1] x\r\n",
		"a OK [APPENDUID 1 0] x\r\n",
		"a OK [COPYUID 1 1:3 4:5] x\r\n",
		"a OK [COPYUID 1 1:3] x\r\n",
		"* OK [PERMANENTFLAGS \\Seen] x\r\n",
		"* OK [PERMANENTFLAGS (\\Seen] x\r\n",
		"* OK [PERMANENTFLAGS] x\r\n",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		r = parse1(&p, bad[i]);
		if (imap_code_decode(r, &c, &err) != -1)
			fail_msg("accepted %s", bad[i]);
		assert_non_null(strstr(err.msg, "bad arguments to response "
						"code"));
		imap_code_info_release(&c);
	}
	strbuf_release(&sb);
	imap_parser_free(p);
}

static void test_atoms_namespace(void **state)
{
	struct imap_parser *p = NULL;
	struct oim_err err = OIM_ERR_INIT;
	const struct imap_response *r;
	const char **atoms;
	size_t n;
	struct imap_namespaces ns;

	r = parse1(&p, "* CAPABILITY IMAP4rev1 UIDPLUS AUTH=PLAIN\r\n");
	assert_int_equal(imap_atoms_decode(r, &atoms, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_true(imap_atoms_have(atoms, n, "uidplus"));
	r = parse1(&p, "* ENABLED\r\n");
	assert_int_equal(imap_atoms_decode(r, &atoms, &n, &err), 0);
	assert_int_equal(n, 0);
	r = parse1(&p, "* CAPABILITY (x)\r\n");
	assert_int_equal(imap_atoms_decode(r, &atoms, &n, &err), -1);

	r = parse1(&p, "* NAMESPACE ((\"\" \"/\")) ((\"~\" \"/\")) "
		       "((\"#shared/\" \"/\")(\"#news.\" \".\" \"X\" (\"a\")))\r\n");
	assert_int_equal(imap_namespace_decode(r, &ns, &err), 0);
	assert_int_equal(ns.n[0], 1);
	assert_string_equal(ns.ns[0][0].prefix, "");
	assert_int_equal(ns.ns[0][0].sep, '/');
	assert_int_equal(ns.n[1], 1);
	assert_int_equal(ns.n[2], 2);
	assert_string_equal(ns.ns[2][1].prefix, "#news.");
	assert_int_equal(ns.ns[2][1].sep, '.');
	r = parse1(&p, "* NAMESPACE ((\"INBOX.\" NIL)) NIL NIL\r\n");
	assert_int_equal(imap_namespace_decode(r, &ns, &err), 0);
	assert_int_equal(ns.ns[0][0].sep, 0);
	assert_int_equal(ns.n[1], 0);
	r = parse1(&p, "* NAMESPACE ((\"\")) NIL NIL\r\n");
	assert_int_equal(imap_namespace_decode(r, &ns, &err), -1);
	r = parse1(&p, "* NAMESPACE NIL NIL\r\n");
	assert_int_equal(imap_namespace_decode(r, &ns, &err), -1);
	imap_parser_free(p);
}

static void test_seqset(void **state)
{
	struct oim_err err = OIM_ERR_INIT;
	struct imap_seqset s = IMAP_SEQSET_INIT;
	struct strbuf sb = STRBUF_INIT;
	uint32_t *arr;
	size_t n;

	assert_int_equal(imap_seqset_parse(&s, "1:5,7,9:*", 9, &err), 0);
	imap_seqset_format(&sb, &s);
	assert_string_equal(sb.buf, "1:5,7,9:*");
	assert_true(imap_seqset_contains(&s, 4294967295u));
	assert_true(imap_seqset_contains(&s, 7));
	assert_false(imap_seqset_contains(&s, 8));
	assert_int_equal(imap_seqset_to_array(&s, 100, &arr, &n, &err), -1);
	imap_seqset_release(&s);

	/* reversed ranges, overlaps, adjacency */
	assert_int_equal(imap_seqset_parse(&s, "10:8,3,1:2,9,20", 15, &err), 0);
	imap_seqset_normalize(&s);
	strbuf_reset(&sb);
	imap_seqset_format(&sb, &s);
	assert_string_equal(sb.buf, "1:3,8:10,20");
	assert_int_equal(imap_seqset_count(&s), 7);
	assert_int_equal(imap_seqset_to_array(&s, 7, &arr, &n, &err), 0);
	assert_int_equal(n, 7);
	assert_int_equal(arr[0], 1);
	assert_int_equal(arr[3], 8);
	assert_int_equal(arr[6], 20);
	free(arr);
	assert_int_equal(imap_seqset_to_array(&s, 6, &arr, &n, &err), -1);
	assert_int_equal(err.kind, OIM_E_LIMIT);
	imap_seqset_release(&s);

	static const char *const bad[] = {
		"", "0", "1:", ":1", ",", "1,", ",1", "1,,2", "1:2:3",
		"4294967296", "a", "1 2", "-1", "01", "*:0", "1:*x",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		if (imap_seqset_parse(&s, bad[i], strlen(bad[i]), &err) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_int_equal(err.kind, OIM_E_PROTOCOL);
	}
	imap_seqset_release(&s);
	assert_int_equal(imap_seqset_parse(&s, "4294967295,*", 12, &err), 0);
	assert_int_equal(s.nr, 1);
	imap_seqset_release(&s);

	/* formatting UID lists */
	static const uint32_t uids[] = { 1, 2, 3, 3, 5, 7, 8, 9, 10, 20,
					 4294967294u, 4294967295u };
	strbuf_reset(&sb);
	assert_int_equal(imap_uids_format(&sb, uids, ARRAY_SIZE(uids), 0),
			 ARRAY_SIZE(uids));
	assert_string_equal(sb.buf, "1:3,5,7:10,20,4294967294:4294967295");
	strbuf_reset(&sb);
	assert_int_equal(imap_uids_format(&sb, uids, ARRAY_SIZE(uids), 10), 9);
	assert_string_equal(sb.buf, "1:3,5,7:10");
	strbuf_reset(&sb);
	assert_int_equal(imap_uids_format(&sb, uids, ARRAY_SIZE(uids), 9), 5);
	assert_string_equal(sb.buf, "1:3,5");
	strbuf_reset(&sb);
	assert_int_equal(imap_uids_format(&sb, uids + 6, 6, 1), 3);
	assert_string_equal(sb.buf, "8:10"); /* at least one piece */
	strbuf_reset(&sb);
	assert_int_equal(imap_uids_format(&sb, uids, 0, 0), 0);
	assert_string_equal(sb.buf, "");
	strbuf_release(&sb);
}

static void test_flags(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	char buf[8];
	assert_int_equal(imap_flag_from_name("\\seen"), IMAP_FLAG_SEEN);
	assert_int_equal(imap_flag_from_name("\\Answered"), IMAP_FLAG_ANSWERED);
	assert_int_equal(imap_flag_from_name("\\Recent"), IMAP_FLAG_RECENT);
	assert_int_equal(imap_flag_from_name("$Forwarded"), 0);
	assert_int_equal(imap_flag_from_name("Seen"), 0);
	assert_int_equal(imap_flags_to_maildir(IMAP_FLAGS_MAILDIR |
						       IMAP_FLAG_RECENT,
					       buf),
			 5);
	assert_string_equal(buf, "DFRST");
	assert_int_equal(imap_flags_to_maildir(IMAP_FLAG_SEEN |
						       IMAP_FLAG_ANSWERED,
					       buf),
			 2);
	assert_string_equal(buf, "RS");
	assert_int_equal(imap_flags_to_maildir(0, buf), 0);
	assert_string_equal(buf, "");
	assert_int_equal(imap_flags_from_maildir("STaP"),
			 IMAP_FLAG_SEEN | IMAP_FLAG_DELETED);
	imap_flags_format(&sb, IMAP_FLAG_SEEN | IMAP_FLAG_DRAFT |
				       IMAP_FLAG_RECENT);
	assert_string_equal(sb.buf, "\\Draft \\Seen");
	strbuf_release(&sb);
}

static void test_internaldate(void **state)
{
	time_t t;
	int tz;
	struct strbuf sb = STRBUF_INIT;

	assert_int_equal(imap_internaldate_parse("17-Jul-1996 02:44:25 -0700",
						 &t, &tz),
			 0);
	assert_int_equal(t, 837596665);
	assert_int_equal(tz, -420);
	imap_internaldate_format(&sb, t, tz);
	assert_string_equal(sb.buf, "17-Jul-1996 02:44:25 -0700");
	assert_int_equal(imap_internaldate_parse(" 1-Feb-2020 03:04:05 +0100",
						 &t, &tz),
			 0);
	assert_int_equal(t, 1580522645);
	assert_int_equal(tz, 60);
	assert_int_equal(imap_internaldate_parse("1-feb-2020 03:04:05 +0100",
						 &t, NULL),
			 0);
	assert_int_equal(t, 1580522645);
	strbuf_reset(&sb);
	imap_internaldate_format(&sb, t, 0);
	assert_string_equal(sb.buf, "01-Feb-2020 02:04:05 +0000");
	assert_int_equal(imap_internaldate_parse("29-Feb-2020 00:00:00 +0000",
						 &t, NULL),
			 0);
	assert_int_equal(t, 1582934400);
	assert_int_equal(imap_internaldate_parse("01-Jan-1970 00:00:00 +0100",
						 &t, &tz),
			 0);
	assert_int_equal(t, -3600);
	strbuf_reset(&sb);
	imap_internaldate_format(&sb, t, tz);
	assert_string_equal(sb.buf, "01-Jan-1970 00:00:00 +0100");
	strbuf_reset(&sb);
	imap_internaldate_format(&sb, t, -90);
	assert_string_equal(sb.buf, "31-Dec-1969 21:30:00 -0130");
	/* every day of 2000..2001 round-trips through format and parse */
	for (time_t d = 946684800; d < 946684800 + 2 * 366 * 86400;
	     d += 86400 + 3607) {
		time_t back;
		strbuf_reset(&sb);
		imap_internaldate_format(&sb, d, -300);
		assert_int_equal(imap_internaldate_parse(sb.buf, &back, &tz), 0);
		assert_int_equal(back, d);
		assert_int_equal(tz, -300);
	}
	static const char *const bad[] = {
		"",
		"17-Jul-1996",
		"17-Jly-1996 02:44:25 -0700",
		"32-Jan-2020 00:00:00 +0000",
		"00-Jan-2020 00:00:00 +0000",
		"29-Feb-2021 00:00:00 +0000",
		"31-Apr-2021 00:00:00 +0000",
		"17-Jul-1996 24:00:00 -0700",
		"17-Jul-1996 02:60:25 -0700",
		"17-Jul-1996 02:44:25 0700",
		"17-Jul-1996 02:44:25 -0760",
		"17-Jul-1996 02:44:25 -0700 ",
		"17-Jul-96 02:44:25 -0700",
		"117-Jul-1996 02:44:25 -0700",
		"1x-Jul-1996 02:44:25 -0700",
		"17-Jul-1996 2:44:25 -0700",
		"17 Jul 1996 02:44:25 -0700",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		if (imap_internaldate_parse(bad[i], &t, &tz) != -1)
			fail_msg("accepted \"%s\"", bad[i]);
	strbuf_release(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_cases),
		cmocka_unit_test(test_nul_in_literals),
		cmocka_unit_test(test_bad_cases),
		cmocka_unit_test(test_error_quotes_line),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_sink_failure),
		cmocka_unit_test(test_stops_after_each_response),
		cmocka_unit_test(test_arg_helpers),
		cmocka_unit_test(test_large_body),
		cmocka_unit_test(test_dovecot_session),
		cmocka_unit_test(test_dovecot_qresync),
		cmocka_unit_test(test_rfc3501),
		cmocka_unit_test(test_rfc_extensions),
		cmocka_unit_test(test_gmail),
		cmocka_unit_test(test_exchange),
		cmocka_unit_test(test_dispatch),
		cmocka_unit_test(test_fetch_decode),
		cmocka_unit_test(test_list_decode),
		cmocka_unit_test(test_status_decode),
		cmocka_unit_test(test_search_decode),
		cmocka_unit_test(test_code_decode),
		cmocka_unit_test(test_atoms_namespace),
		cmocka_unit_test(test_seqset),
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_internaldate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
