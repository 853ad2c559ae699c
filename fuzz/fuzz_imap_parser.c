/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz the IMAP response parser and the typed decoders.
 *
 * Invariant: feeding the input whole and in chunks of pseudo-random sizes
 * (seeded by the first input byte) gives the same transcript of responses,
 * body-sink events and errors.  The first byte also picks small limits so
 * the limit paths are reached.  Every response goes through every decoder
 * that applies; no crash, no leak, no sanitizer report.
 */
#include <stddef.h>
#include <stdint.h>

#include "imap/parser.h"
#include "imap/resp.h"
#include "imap/utf7.h"
#include "util/strbuf.h"
#include "util/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct rec {
	struct strbuf *out;
	size_t body_len;
};

static int f_begin(void *ctx, const struct imap_body_info *info,
		   struct oim_err *err)
{
	struct rec *r = ctx;
	strbuf_addf(r->out, "BEGIN %u %u %s %llu\n", info->seq, info->uid,
		    info->item, (unsigned long long)info->size);
	r->body_len = 0;
	if (info->size == 13)
		return oim_error(err, OIM_SEV_MESSAGE, OIM_E_IO, "refused");
	return strchr(info->item, 'H') ? IMAP_BODY_INMEM : IMAP_BODY_STREAM;
}

static int f_data(void *ctx, const void *data, size_t len, struct oim_err *err)
{
	struct rec *r = ctx;
	if (!len)
		abort(); /* never called empty */
	/* hash the data so chunking differences would show */
	for (size_t i = 0; i < len; i++)
		strbuf_addf(r->out, "%02x", ((const unsigned char *)data)[i]);
	r->body_len += len;
	return 0;
}

static int f_end(void *ctx, struct oim_err *err)
{
	struct rec *r = ctx;
	strbuf_addf(r->out, "\nEND %zu\n", r->body_len);
	return 0;
}

static const struct imap_body_sink sink = {f_begin, f_data, f_end};

static void decode_all(const struct imap_response *resp, struct strbuf *out)
{
	struct oim_err err = OIM_ERR_INIT;
	uint32_t n;
	int ret = 0;

	if (resp->status != IMAP_STATUS_NONE) {
		struct imap_code_info c;
		ret = imap_code_decode(resp, &c, &err);
		imap_code_info_release(&c);
	} else if (imap_response_numbered(resp, "FETCH", &n)) {
		struct imap_fetch f;
		ret = imap_fetch_decode(resp, &f, &err);
	} else if (imap_response_is(resp, "LIST") ||
		   imap_response_is(resp, "LSUB")) {
		struct imap_list_entry e;
		ret = imap_list_decode(resp, &e, &err);
		if (!ret) {
			struct strbuf sb = STRBUF_INIT;
			if (!imap_utf7_decode(e.name, e.name_len, &sb, &err))
				strbuf_addf(out, "NAME %s\n", sb.buf);
			strbuf_release(&sb);
		}
	} else if (imap_response_is(resp, "STATUS")) {
		struct imap_status_info st;
		ret = imap_status_decode(resp, &st, &err);
	} else if (imap_response_is(resp, "SEARCH")) {
		struct imap_seqset s = IMAP_SEQSET_INIT;
		uint64_t modseq;
		ret = imap_search_decode(resp, &s, &modseq, &err);
		imap_seqset_release(&s);
	} else if (imap_response_is(resp, "ESEARCH")) {
		struct imap_esearch es;
		ret = imap_esearch_decode(resp, &es, &err);
		imap_esearch_release(&es);
	} else if (imap_response_is(resp, "VANISHED")) {
		struct imap_seqset s = IMAP_SEQSET_INIT;
		bool earlier;
		ret = imap_vanished_decode(resp, &earlier, &s, &err);
		if (!ret) {
			imap_seqset_normalize(&s);
			imap_seqset_format(out, &s);
		}
		imap_seqset_release(&s);
	} else if (imap_response_is(resp, "CAPABILITY") ||
		   imap_response_is(resp, "ENABLED")) {
		const char **atoms;
		size_t na;
		ret = imap_atoms_decode(resp, &atoms, &na, &err);
	} else if (imap_response_is(resp, "NAMESPACE")) {
		struct imap_namespaces ns;
		ret = imap_namespace_decode(resp, &ns, &err);
	}
	strbuf_addf(out, "DECODE %d %s\n", ret, ret ? err.msg : "");
}

static void run(const uint8_t *data, size_t size, uint32_t seed,
		const struct imap_parser_limits *lim, struct strbuf *out)
{
	struct imap_parser *p = imap_parser_new(lim);
	struct rec r = {out, 0};
	struct oim_err err = OIM_ERR_INIT;
	size_t pos = 0;

	imap_parser_set_body_sink(p, &sink, &r);
	while (pos < size) {
		size_t chunk = size - pos;
		if (seed) {
			seed = seed * 1103515245u + 12345u;
			chunk = 1 + (seed >> 16) % 17;
			if (chunk > size - pos)
				chunk = size - pos;
		}
		const uint8_t *buf = data + pos;
		size_t left = chunk;
		pos += chunk;
		while (left) {
			size_t used;
			int ret = imap_parser_feed(p, buf, left, &used, &err);
			if (ret < 0) {
				strbuf_addf(out, "ERROR %d %s\n", err.kind,
					    err.msg);
				goto done;
			}
			buf += used;
			left -= used;
			if (ret == IMAP_PARSE_RESPONSE) {
				const struct imap_response *resp =
				    imap_parser_response(p);
				imap_response_dump(out, resp);
				strbuf_addch(out, '\n');
				decode_all(resp, out);
			}
		}
	}
	if (imap_parser_in_response(p))
		strbuf_addstr(out, "INCOMPLETE\n");
done:
	imap_parser_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imap_parser_limits lim;
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;

	if (!size)
		return 0;
	imap_parser_default_limits(&lim);
	if (data[0] & 0x80) {
		lim.max_line = 64 + (data[0] & 0x3f) * 8;
		lim.max_inmem_literal = 16;
		lim.max_literal = 200;
		lim.max_depth = 1 + (data[0] & 7);
		lim.max_args = 10 + (data[0] & 0x1f);
	}
	run(data + 1, size - 1, 0, &lim, &a);
	run(data + 1, size - 1, data[0] | 1u, &lim, &b);
	if (a.len != b.len || memcmp(a.buf, b.buf, a.len)) {
		fprintf(stderr, "whole:\n%s\nchunked:\n%s\n", a.buf, b.buf);
		abort();
	}
	strbuf_release(&a);
	strbuf_release(&b);
	return 0;
}
