/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * labels.h - Gmail label sets (OfflineIMAP's synclabels) as OfflineIMAP
 * keeps them: a set of strings, written sorted.
 *
 * Three spellings of one set:
 *  - the status cache's labels column and struct store_msg.labels:
 *    ", ".join(sorted(set)), read back by splitting on ',' and stripping
 *    blanks (LocalStatusSQLite.py);
 *  - the Maildir header (labelsheader, default X-Keywords): labels joined
 *    with ',' (no blank), or with ' ' when the header is "X-Label" or
 *    "Keywords" (imaputil.py format_labels_string / parse_labels_string;
 *    the header name compared case-sensitively, as OfflineIMAP does);
 *  - IMAP X-GM-LABELS: one astring per label, kept as the server sends it
 *    (modified UTF-7, system labels with their backslash: "\Inbox").
 *
 * A label holding the separator (',' everywhere but the IMAP side) does
 * not survive the trip through the status or the header; OfflineIMAP has
 * the same limit.
 *
 * Ownership: a labelset owns its strings.  Not thread-safe per object;
 * objects are independent.
 */
#ifndef OIMAP_STORE_LABELS_H
#define OIMAP_STORE_LABELS_H

#include "../util/strbuf.h"
#include "../util/util.h"

/* Labels per message and bytes per label we accept from any source; more
 * is cut off (a broken header or server, not a real mailbox). */
#define LABELS_MAX_COUNT 1024
#define LABELS_MAX_LEN	 1024

struct labelset {
	char **v; /* sorted by strcmp (Python's sorted() on str), unique */
	size_t nr, alloc;
};

#define LABELSET_INIT                                                          \
	{                                                                      \
		NULL, 0, 0                                                     \
	}

void labelset_release(struct labelset *s);
/* Add s[0..len) with blanks stripped (Python's strip()); an empty label is
 * ignored. */
void labelset_add(struct labelset *s, const char *p, size_t len);
/* Add every sep-separated item of str. */
void labelset_parse(struct labelset *s, const char *str, char sep);
/* The status spelling "a, b" of s appended to out ("" when empty). */
void labelset_format(const struct labelset *s, const char *sep,
		     struct strbuf *out);
bool labelset_has(const struct labelset *s, const char *label);
bool labelset_equal(const struct labelset *a, const struct labelset *b);
/* out = a - b (out is emptied first; must not be a or b). */
void labelset_minus(const struct labelset *a, const struct labelset *b,
		    struct labelset *out);
/* out = a & b */
void labelset_and(const struct labelset *a, const struct labelset *b,
		  struct labelset *out);
/* a |= b */
void labelset_union(struct labelset *a, const struct labelset *b);

/* The separator OfflineIMAP uses in header 'name': ' ' or ','. */
char labels_header_sep(const char *name);

#endif
