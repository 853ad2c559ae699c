/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_uidmap.c - the UIDMapping parser never crashes, errors name the
 * file, and what it accepts is a one-to-one map that survives a
 * format/parse round trip.
 */
#include "status/status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct oim_err err = OIM_ERR_INIT;
	struct status_uidmap *m, *m2;
	struct strbuf out = STRBUF_INIT, out2 = STRBUF_INIT;

	if (status_uidmap_parse((const char *)data, size, "fuzz", &m, &err) <
	    0) {
		if (err.kind == OIM_E_NONE || !strstr(err.msg, "fuzz"))
			abort(); /* an error must say which file */
		return 0;
	}
	status_uidmap_format(m, &out);
	if (status_uidmap_parse(out.buf ? out.buf : "", out.len, "fuzz2", &m2,
				&err) < 0)
		abort();
	if (status_uidmap_count(m) != status_uidmap_count(m2))
		abort();
	status_uidmap_format(m2, &out2);
	if (out.len != out2.len || (out.len && memcmp(out.buf, out2.buf,
						      out.len)))
		abort();
	/* one-to-one: every pair found both ways */
	for (size_t i = 0; i < out.len;) {
		unsigned long l, r;
		if (sscanf(out.buf + i, "%lu:%lu", &l, &r) != 2)
			abort();
		if (status_uidmap_remote(m, (uint32_t)l) != r ||
		    status_uidmap_local(m, (uint32_t)r) != l)
			abort();
		const char *nl = memchr(out.buf + i, '\n', out.len - i);
		if (!nl)
			abort();
		i = (size_t)(nl - out.buf) + 1;
	}
	strbuf_release(&out);
	strbuf_release(&out2);
	status_uidmap_close(m);
	status_uidmap_close(m2);
	return 0;
}
