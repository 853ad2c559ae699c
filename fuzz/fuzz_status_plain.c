/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_status_plain.c - the plain LocalStatus parser never crashes, and
 * what it accepts survives a format/parse round trip unchanged.
 */
#include "status/status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct oim_err err = OIM_ERR_INIT;
	struct status *st, *st2;
	struct strbuf out = STRBUF_INIT, out2 = STRBUF_INIT;

	if (status_plain_parse((const char *)data, size, "fuzz", &st, &err) <
	    0) {
		if (err.kind == OIM_E_NONE || !strstr(err.msg, "fuzz"))
			abort(); /* an error must say which file */
		return 0;
	}
	status_plain_format(st, &out);
	if (status_plain_parse(out.buf, out.len, "fuzz2", &st2, &err) < 0)
		abort();
	if (status_count(st) != status_count(st2))
		abort();
	size_t it = 0;
	const struct status_rec *r;

	while ((r = status_next(st, &it))) {
		const struct status_rec *r2 = status_get(st2, r->uid);

		if (!r2 || strcmp(r->flags, r2->flags) ||
		    r->mtime != r2->mtime || (!r->labels != !r2->labels) ||
		    (r->labels && strcmp(r->labels, r2->labels)))
			abort();
	}
	status_plain_format(st2, &out2);
	if (out.len != out2.len || memcmp(out.buf, out2.buf, out.len))
		abort();
	strbuf_release(&out);
	strbuf_release(&out2);
	status_close(st);
	status_close(st2);
	return 0;
}
