/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fuzz modified UTF-7.  Invariants:
 * - decode never crashes; what it accepts is valid UTF-8, and encoding
 *   that decodes back to the same;
 * - for input that encode accepts (valid UTF-8 without NUL), the encoding
 *   is printable ASCII and decode(encode(x)) == x.
 */
#include <stddef.h>
#include <stdint.h>

#include "imap/utf7.h"
#include "util/strbuf.h"
#include "util/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_eq(const struct strbuf *a, const void *b, size_t len)
{
	if (a->len != len || memcmp(a->buf, b, len))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	struct oim_err err = OIM_ERR_INIT;
	struct strbuf dec = STRBUF_INIT, enc = STRBUF_INIT, dec2 = STRBUF_INIT;

	if (!imap_utf7_decode(in, size, &dec, &err)) {
		if (imap_utf7_encode(dec.buf, dec.len, &enc, &err))
			abort(); /* decode produced something encode refuses */
		if (imap_utf7_decode(enc.buf, enc.len, &dec2, &err))
			abort();
		check_eq(&dec2, dec.buf, dec.len);
	}
	strbuf_reset(&enc);
	strbuf_reset(&dec2);
	if (!imap_utf7_encode(in, size, &enc, &err)) {
		for (size_t i = 0; i < enc.len; i++)
			if (enc.buf[i] < 0x20 || enc.buf[i] > 0x7e)
				abort();
		if (imap_utf7_decode(enc.buf, enc.len, &dec2, &err))
			abort();
		check_eq(&dec2, in, size);
	}
	strbuf_release(&dec);
	strbuf_release(&enc);
	strbuf_release(&dec2);
	return 0;
}
