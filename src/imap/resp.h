/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * resp.h - typed views of IMAP responses for the sync, on top of the
 * generic tree of parser.h; plus the value types they use: sequence sets,
 * message flags, INTERNALDATE.
 *
 * Decoders take a response from imap_parser_response() and fill a struct.
 * Ownership: strings and arrays in the filled structs point into the
 * response (or are allocated with imap_response_alloc()): they are valid
 * until the next imap_parser_feed() on that parser, and the caller copies
 * what it keeps.  The exception is struct imap_seqset, which owns heap
 * memory: a struct holding one must be released with its _release
 * function, even after a failed decode.
 *
 * Return convention: 0, or -1 with err filled (OIM_E_PROTOCOL, OIM_SEV_ACCOUNT,
 * naming the response) when the response is malformed.  Unknown items are
 * skipped, not errors: servers add things.
 *
 * Thread-safety: none needed; everything works on caller-owned data.
 */
#ifndef OIMAP_IMAP_RESP_H
#define OIMAP_IMAP_RESP_H

#include <time.h>

#include "parser.h"

struct strbuf;

/* ---- response dispatch helpers ---- */

/*
 * The response's name: for "* 12 FETCH ..." "FETCH", for "* LIST ..."
 * "LIST", for status responses the status atom ("OK"); "" for
 * continuations or empty responses.  Compare with oim_strcasecmp().
 */
const char *imap_response_name(const struct imap_response *r);
/* True for an untagged response of that name (case-insensitive). */
bool imap_response_is(const struct imap_response *r, const char *name);
/*
 * "* n NAME" (EXISTS, RECENT, EXPUNGE, FETCH): returns true and sets *n_r if r
 * is an untagged response with that name and a valid number before it.
 */
bool imap_response_numbered(const struct imap_response *r, const char *name,
			    uint32_t *n_r);

/* ---- sequence sets (RFC 3501 sequence-set, RFC 9051) ---- */

/* '*' is stored as IMAP_SEQ_STAR, so a range n:* is [n, UINT32_MAX]. */
#define IMAP_SEQ_STAR UINT32_MAX

struct imap_seq_range {
	uint32_t lo, hi; /* lo <= hi */
};

struct imap_seqset {
	struct imap_seq_range *r;
	size_t nr, alloc;
};
#define IMAP_SEQSET_INIT { NULL, 0, 0 }

void imap_seqset_release(struct imap_seqset *s);
/* Append [lo, hi] (swapped if lo > hi); merged with the last range when
 * adjacent or overlapping. */
void imap_seqset_add(struct imap_seqset *s, uint32_t lo, uint32_t hi);
/*
 * Parse "1:5,7,9:*" and append its ranges.  Numbers must be 1..2^32-1
 * ("*" allowed), ranges "a:b" in any order.  -1 on any malformation.
 */
int imap_seqset_parse(struct imap_seqset *s, const char *str, size_t len,
		      struct oim_err *err) OIM_WUR;
/* Sort and merge overlapping or adjacent ranges. */
void imap_seqset_normalize(struct imap_seqset *s);
/* Number of members (ranges counted as written; '*' as 2^32-1). */
uint64_t imap_seqset_count(const struct imap_seqset *s);
bool imap_seqset_contains(const struct imap_seqset *s, uint32_t n);
/* "1:5,7,9:*" */
void imap_seqset_format(struct strbuf *sb, const struct imap_seqset *s);
/*
 * Expand a normalized set into a sorted array of at most max members
 * (malloc'ed, caller frees).  -1 (OIM_E_LIMIT) if it has more or holds '*'.
 */
int imap_seqset_to_array(const struct imap_seqset *s, size_t max,
			 uint32_t **out_r, size_t *n_r,
			 struct oim_err *err) OIM_WUR;
/*
 * Format the ascending UIDs uids[0..n) as a compact set ("3:7,9,12:13"),
 * appending to sb.  Stops before the added text would exceed max_len bytes
 * (0: no limit), but always formats at least one UID when n > 0.  Returns
 * how many UIDs were formatted, so long lists split into several commands.
 * Duplicates are fine; unsorted input is a BUG().
 */
size_t imap_uids_format(struct strbuf *sb, const uint32_t *uids, size_t n,
			size_t max_len);

/* ---- flags ---- */

enum imap_flag {
	IMAP_FLAG_SEEN = 1 << 0,
	IMAP_FLAG_ANSWERED = 1 << 1,
	IMAP_FLAG_FLAGGED = 1 << 2,
	IMAP_FLAG_DELETED = 1 << 3,
	IMAP_FLAG_DRAFT = 1 << 4,
	IMAP_FLAG_RECENT = 1 << 5, /* read-only, never stored anywhere */
};
/* The flags a Maildir can hold (OfflineIMAP's flagmap). */
#define IMAP_FLAGS_MAILDIR                                                   \
	(IMAP_FLAG_SEEN | IMAP_FLAG_ANSWERED | IMAP_FLAG_FLAGGED |            \
	 IMAP_FLAG_DELETED | IMAP_FLAG_DRAFT)

/* "\Seen" (case-insensitive) -> IMAP_FLAG_SEEN; 0 for keywords/others. */
unsigned imap_flag_from_name(const char *name);
/* Maildir info letters for flags, sorted as OfflineIMAP writes them
 * ("DFRST" order): D draft, F flagged, R answered, S seen, T deleted.
 * buf must hold 6 bytes; returns the length. */
size_t imap_flags_to_maildir(unsigned flags, char *buf);
/* Letters to flags; letters that are not D F R S T are ignored. */
unsigned imap_flags_from_maildir(const char *letters);
/* "\Answered \Seen" for STORE/APPEND (RECENT never), in a fixed order. */
void imap_flags_format(struct strbuf *sb, unsigned flags);

/*
 * Decode a flag list "(\Seen $Label foo)": system flags into *flags_r,
 * the rest (keywords, unknown \X flags) into keywords_r[0..nkeywords_r).
 * star_r (may be NULL) is set when "\*" is in the list (PERMANENTFLAGS).
 */
int imap_flags_decode(const struct imap_response *r,
		      const struct imap_arg *list, unsigned *flags_r,
		      const char ***keywords_r, size_t *nkeywords_r,
		      bool *star_r, struct oim_err *err) OIM_WUR;

/* ---- INTERNALDATE ---- */

/*
 * Parse "17-Jul-1996 02:44:25 -0700" (day may be " 1", "1" or "01") to
 * seconds since the epoch (UTC); *tz_minutes_r (may be NULL) gets the
 * zone (-420 here).  -1 if malformed.
 */
int imap_internaldate_parse(const char *s, time_t *t_r, int *tz_minutes_r)
	OIM_WUR;
/* Format t in the zone tz_minutes as "07-Feb-1994 21:52:25 -0800" (no
 * quotes), for APPEND. */
void imap_internaldate_format(struct strbuf *sb, time_t t, int tz_minutes);

/* ---- response codes ---- */

enum imap_code {
	IMAP_CODE_NONE = 0, /* no [code] */
	IMAP_CODE_OTHER,    /* unknown; name and args kept */
	IMAP_CODE_ALERT,
	IMAP_CODE_TRYCREATE,
	IMAP_CODE_READ_ONLY,
	IMAP_CODE_READ_WRITE,
	IMAP_CODE_CLOSED,
	IMAP_CODE_NOMODSEQ,
	IMAP_CODE_UIDNOTSTICKY,
	IMAP_CODE_UIDVALIDITY,	  /* num */
	IMAP_CODE_UIDNEXT,	  /* num */
	IMAP_CODE_UNSEEN,	  /* num */
	IMAP_CODE_HIGHESTMODSEQ,  /* modseq */
	IMAP_CODE_APPENDUID,	  /* num = uidvalidity, dst = uid(s) */
	IMAP_CODE_COPYUID,	  /* num = uidvalidity, src, dst */
	IMAP_CODE_MODIFIED,	  /* src */
	IMAP_CODE_CAPABILITY,	  /* atoms */
	IMAP_CODE_PERMANENTFLAGS, /* flags, keywords, flags_star */
};

struct imap_code_info {
	enum imap_code code;
	const char *name; /* as sent, NULL without a code */
	const char *args; /* raw text after the name, "" if none */
	uint32_t num;
	uint64_t modseq;
	struct imap_seqset src, dst; /* owned: imap_code_info_release() */
	unsigned flags;
	const char **atoms; /* keywords (PERMANENTFLAGS) or capabilities */
	size_t natoms;
	bool flags_star;
};

/* Decode r's response code.  A known code with bad arguments is an error;
 * an unknown code is IMAP_CODE_OTHER. */
int imap_code_decode(const struct imap_response *r, struct imap_code_info *c,
		     struct oim_err *err) OIM_WUR;
void imap_code_info_release(struct imap_code_info *c);

/* ---- FETCH ---- */

enum imap_fetch_has {
	IMAP_FETCH_UID = 1 << 0,
	IMAP_FETCH_FLAGS = 1 << 1,
	IMAP_FETCH_SIZE = 1 << 2,
	IMAP_FETCH_INTERNALDATE = 1 << 3,
	IMAP_FETCH_MODSEQ = 1 << 4,
	IMAP_FETCH_GM_MSGID = 1 << 5,
	IMAP_FETCH_GM_THRID = 1 << 6,
	IMAP_FETCH_GM_LABELS = 1 << 7,
};

/* A body-like item: value is IMAP_ARG_STREAMED (the data went to the
 * sink), STRING, LITERAL or NIL. */
struct imap_fetch_body {
	const char *item; /* "BODY[]", "BODY[HEADER.FIELDS (MESSAGE-ID)]"... */
	const struct imap_arg *value;
};

struct imap_fetch {
	uint32_t seq;
	uint32_t uid;
	unsigned has; /* enum imap_fetch_has */
	unsigned flags;
	const char **keywords;
	size_t nkeywords;
	uint64_t size; /* RFC822.SIZE */
	time_t internaldate;
	int internaldate_tz; /* minutes east of UTC */
	uint64_t modseq;
	uint64_t gm_msgid, gm_thrid;
	/* X-GM-LABELS as Gmail sends them: unescaped, still modified UTF-7;
	 * system labels keep their backslash ("\Important", "\Inbox"). */
	const char **gm_labels;
	size_t ngm_labels;
	struct imap_fetch_body *bodies;
	size_t nbodies;
};

/* r must be "* n FETCH (...)" (check with imap_response_numbered()). */
int imap_fetch_decode(const struct imap_response *r, struct imap_fetch *f,
		      struct oim_err *err) OIM_WUR;

/* ---- LIST / LSUB ---- */

enum imap_list_flag {
	IMAP_LIST_NOSELECT = 1 << 0,
	IMAP_LIST_NOINFERIORS = 1 << 1,
	IMAP_LIST_HASCHILDREN = 1 << 2,
	IMAP_LIST_HASNOCHILDREN = 1 << 3,
	IMAP_LIST_MARKED = 1 << 4,
	IMAP_LIST_UNMARKED = 1 << 5,
	IMAP_LIST_NONEXISTENT = 1 << 6,
	IMAP_LIST_SUBSCRIBED = 1 << 7,
	IMAP_LIST_REMOTE = 1 << 8,
	/* RFC 6154 special use, and Gmail's \Important */
	IMAP_LIST_ALL = 1 << 9,
	IMAP_LIST_ARCHIVE = 1 << 10,
	IMAP_LIST_DRAFTS = 1 << 11,
	IMAP_LIST_FLAGGED = 1 << 12,
	IMAP_LIST_JUNK = 1 << 13,
	IMAP_LIST_SENT = 1 << 14,
	IMAP_LIST_TRASH = 1 << 15,
	IMAP_LIST_IMPORTANT = 1 << 16,
};

struct imap_list_entry {
	bool lsub;
	unsigned flags; /* enum imap_list_flag; unknown flags ignored */
	char sep;	/* hierarchy separator, 0 for NIL */
	/* As sent (modified UTF-7 unless UTF8=ACCEPT is enabled); may hold
	 * any byte but NUL is refused.  "INBOX" is case-insensitive. */
	const char *name;
	size_t name_len;
	const struct imap_arg *extended; /* LIST-EXTENDED data or NULL */
};

int imap_list_decode(const struct imap_response *r,
		     struct imap_list_entry *e, struct oim_err *err) OIM_WUR;

/* ---- STATUS ---- */

enum imap_status_has {
	IMAP_STATUS_MESSAGES = 1 << 0,
	IMAP_STATUS_UIDNEXT = 1 << 1,
	IMAP_STATUS_UIDVALIDITY = 1 << 2,
	IMAP_STATUS_UNSEEN = 1 << 3,
	IMAP_STATUS_HIGHESTMODSEQ = 1 << 4,
	IMAP_STATUS_RECENT = 1 << 5,
};

struct imap_status_info {
	const char *mailbox; /* as sent */
	size_t mailbox_len;
	unsigned has; /* enum imap_status_has */
	uint32_t messages, uidnext, uidvalidity, unseen, recent;
	uint64_t highestmodseq;
};

int imap_status_decode(const struct imap_response *r,
		       struct imap_status_info *st, struct oim_err *err)
	OIM_WUR;

/* ---- SEARCH, ESEARCH, VANISHED ---- */

/* "* SEARCH 2 3 6 (MODSEQ 917162500)": numbers appended to *set (which
 * the caller initialised), *modseq_r = 0 without MODSEQ. */
int imap_search_decode(const struct imap_response *r, struct imap_seqset *set,
		       uint64_t *modseq_r, struct oim_err *err) OIM_WUR;

enum imap_esearch_has {
	IMAP_ESEARCH_MIN = 1 << 0,
	IMAP_ESEARCH_MAX = 1 << 1,
	IMAP_ESEARCH_COUNT = 1 << 2,
	IMAP_ESEARCH_ALL = 1 << 3,
	IMAP_ESEARCH_MODSEQ = 1 << 4,
};

struct imap_esearch {
	const char *tag; /* the command's tag, NULL if absent */
	bool uid;
	unsigned has;
	uint32_t min, max, count;
	uint64_t modseq;
	struct imap_seqset all; /* owned: imap_esearch_release() */
};

int imap_esearch_decode(const struct imap_response *r, struct imap_esearch *es,
			struct oim_err *err) OIM_WUR;
void imap_esearch_release(struct imap_esearch *es);

/* "* VANISHED (EARLIER) 1:5,7": UIDs appended to *set. */
int imap_vanished_decode(const struct imap_response *r, bool *earlier_r,
			 struct imap_seqset *set, struct oim_err *err) OIM_WUR;

/* ---- CAPABILITY, ENABLED, NAMESPACE ---- */

/* "* CAPABILITY a b c" or "* ENABLED a b": the atoms after the name. */
int imap_atoms_decode(const struct imap_response *r, const char ***atoms_r,
		      size_t *n_r, struct oim_err *err) OIM_WUR;
/* Is name in atoms[0..n) (case-insensitive)? */
bool imap_atoms_have(const char *const *atoms, size_t n, const char *name);

struct imap_namespace {
	const char *prefix;
	char sep; /* 0 for NIL */
};

/* "* NAMESPACE personal other shared": each array may be empty. */
struct imap_namespaces {
	struct imap_namespace *ns[3];
	size_t n[3];
};

int imap_namespace_decode(const struct imap_response *r,
			  struct imap_namespaces *ns, struct oim_err *err)
	OIM_WUR;

#endif
