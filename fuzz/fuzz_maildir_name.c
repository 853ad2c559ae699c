/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Maildir file names: the parser never crashes or reads past the input;
 * for accepted names, rewriting the flags and formatting OfflineIMAP names
 * round-trip.  The first byte picks the infosep (':' or '!').
 */
#include <stddef.h>
#include <stdint.h>

#include "store/maildir.h"
#include "util/strbuf.h"
#include "util/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool canonical_flags(const char *name, const struct maildir_name *mn)
{
	char fb[MAILDIR_FLAGS_STR_MAX];
	size_t n = mn->info_end - mn->info_off - 3;
	maildir_flags_str(mn->flags, fb);
	return strlen(fb) == n && !memcmp(fb, name + mn->info_off + 3, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct maildir_name mn, mn2;
	struct strbuf sb = STRBUF_INIT;
	char infosep;
	char *name;
	int64_t t;

	if (size < 1)
		return 0;
	infosep = data[0] & 1 ? '!' : ':';
	data++;
	size--;
	/* an exact-size copy: ASan catches any read past the end */
	name = xmemdup(data, size);
	(void)!maildir_parse_date(name, size, &t);
	if (maildir_name_parse(name, size, infosep, &mn, NULL) < 0)
		goto out;
	if (mn.prefix_len > size || mn.info_off > size || mn.info_end > size ||
	    (mn.has_info && mn.info_end < mn.info_off + 3))
		__builtin_trap();

	/* Same flags, canonical already: the name must not change. */
	if (mn.has_info && canonical_flags(name, &mn)) {
		maildir_name_with_flags(&sb, name, size, infosep, mn.flags);
		if (sb.len != size || memcmp(sb.buf, name, size))
			__builtin_trap();
	}

	/* Any flags onto a name without info: they read back. */
	if (!mn.has_info && !memchr(name, '\0', size)) {
		maildir_flags_t fl = mn.time & ((1ull << 63) - 1);
		strbuf_reset(&sb);
		maildir_name_with_flags(&sb, name, size, infosep, fl);
		if (sb.len <= OIM_MAILDIR_MAX_NAME &&
		    (maildir_name_parse(sb.buf, sb.len, infosep, &mn2, NULL) <
			 0 ||
		     mn2.flags != fl || mn2.uid != mn.uid ||
		     mn2.has_uid != mn.has_uid))
			__builtin_trap();
	}

	/* An OfflineIMAP name built from what we parsed reads back. */
	if (mn.has_uid) {
		char md[MAILDIR_FMD5_LEN + 1];
		char *host = xstrndup(name, mn.prefix_len);
		maildir_fmd5(host, md);
		strbuf_reset(&sb);
		maildir_name_format(&sb, mn.time, mn.uid, (long)mn.prefix_len,
				    host, mn.uid, md, infosep, mn.flags);
		if (sb.len <= OIM_MAILDIR_MAX_NAME &&
		    (maildir_name_parse(sb.buf, sb.len, infosep, &mn2, NULL) <
			 0 ||
		     mn2.uid != mn.uid || mn2.flags != mn.flags ||
		     !mn2.has_fmd5 || strcmp(mn2.fmd5, md) ||
		     mn2.info_end != sb.len ||
		     !maildir_name_has_fmd5(sb.buf, sb.len, md)))
			__builtin_trap();
		free(host);
	}
out:
	strbuf_release(&sb);
	free(name);
	return 0;
}
