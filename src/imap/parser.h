/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * parser.h - streaming parser for IMAP server responses (RFC 3501, 9051 and
 * the extensions the sync uses).
 *
 * The parser never reads a socket.  The caller feeds it whatever bytes have
 * arrived, in pieces of any size split anywhere; it is a state machine
 * resumable at any byte, after Dovecot's lib-imap/imap-parser.c.  Complete
 * responses are pulled one at a time; message bodies are pushed to a sink as
 * they arrive so a large message is never held in memory whole.
 *
 * Calling sequence (one parser per connection, one thread at a time):
 *
 *	struct imap_parser *p = imap_parser_new(NULL);
 *	imap_parser_set_body_sink(p, &my_sink, my_ctx);	   // optional
 *	for each chunk (buf, len) read from the connection:
 *		while (len > 0) {
 *			size_t used;
 *			int r = imap_parser_feed(p, buf, len, &used, &err);
 *			if (r < 0)
 *				drop the connection (err says why);
 *			buf += used, len -= used;
 *			if (r == IMAP_PARSE_RESPONSE)
 *				handle(imap_parser_response(p));
 *		}
 *	imap_parser_free(p);
 *
 * imap_parser_feed() stops right after each complete response, so the
 * caller can switch layers between responses (the bytes after a tagged OK to
 * STARTTLS or COMPRESS are not IMAP; after STARTTLS any such byte is an
 * attack and must be refused).
 *
 * Message bodies.  A literal (or binary literal ~{n}) that is the value of
 * BODY[...], BINARY[...] or RFC822 (also RFC822.TEXT/.HEADER, BODY.PEEK[...])
 * directly inside an untagged "* n FETCH (...)" is offered to the body sink:
 * begin() is told the sequence number, the item name as sent
 * ("BODY[]", "BODY[]<0>", "BINARY[1]"...), the size, and the UID if a UID
 * item came earlier in the same FETCH (0 if not yet: servers may send the
 * UID after the body, so the caller must associate what the sink received
 * with the UID when the FETCH response completes, see struct imap_fetch in
 * resp.h).  If begin() returns IMAP_BODY_STREAM, data() receives the bytes in
 * chunks as they arrive (pointers into the caller's buffer, valid during the
 * call only), then end(); the response tree gets an IMAP_ARG_STREAMED
 * placeholder with the size.  If begin() returns IMAP_BODY_INMEM (e.g. for a
 * small BODY[HEADER.FIELDS (MESSAGE-ID)]) or no sink is set, the literal is
 * kept in memory like any other, subject to the in-memory cap.  A body sent
 * as a quoted string or NIL is always in the tree.
 *
 * A sink callback returning -1 (with err filled) makes imap_parser_feed()
 * fail with that error: the parser is then dead and the connection must be
 * dropped.  A sink that wants to keep the connection after a local failure
 * (disk full) remembers the failure itself and returns 0, discarding data.
 *
 * Errors.  Malformed input is OIM_E_PROTOCOL, an exceeded limit is
 * OIM_E_LIMIT; both with OIM_SEV_ACCOUNT, a message naming the problem and
 * the start of the offending response (escaped, so control bytes and quotes
 * cannot garble a log).  After an error the parser is dead: every further
 * feed returns -1 with the same error.  There is no resync: the caller
 * drops the connection.  No input can make the parser crash or read out of
 * bounds.
 *
 * Leniency (servers in the wild): bare LF ends a line like CRLF; empty lines
 * between responses are ignored; several spaces between arguments are one;
 * atoms may contain '\' (flags), '*', '%', and brackets with anything inside
 * ("BODY[HEADER.FIELDS (MESSAGE-ID)]<0>"); "{n+}" is accepted from servers;
 * a quoted string's "\c" is taken as c for any c; 8-bit bytes are accepted
 * in quoted strings and atoms (UTF8=ACCEPT servers).
 *
 * Limits (defaults from limits.h, changeable per parser for tests):
 * - max_line: bytes of one response held in memory: the response's own
 *   bytes plus its in-memory literals (streamed bodies excluded);
 * - max_literal: size of one streamed literal;
 * - max_inmem_literal: size of one literal kept in memory;
 * - max_depth: list nesting;
 * - max_args: arguments (atoms, strings, lists...) in one response, which
 *   bounds the tree's memory to about 16 bytes per argument.
 */
#ifndef OIMAP_IMAP_PARSER_H
#define OIMAP_IMAP_PARSER_H

#include "../util/err.h"
#include "../util/limits.h"
#include "../util/util.h"

/* Arguments in one response ("* SEARCH" of a million UIDs fits). */
#define OIM_IMAP_MAX_ARGS (8u * 1024 * 1024)

enum imap_arg_type {
	IMAP_ARG_NIL = 0,
	IMAP_ARG_ATOM,	   /* also numbers, flags, BODY[...]<n> */
	IMAP_ARG_STRING,   /* quoted string, unescaped */
	IMAP_ARG_LITERAL,  /* {n} or ~{n} kept in memory */
	IMAP_ARG_LIST,	   /* ( ... ) */
	IMAP_ARG_STREAMED, /* literal handed to the body sink; len = size */
};

enum imap_arg_flags {
	IMAP_ARG_F_BINARY = 1 << 0, /* literal was ~{n} */
};

/*
 * One node of a response tree.  For ATOM, STRING and LITERAL, str holds len
 * bytes followed by a NUL (a literal may also hold NULs: len is the truth).
 * For LIST, list holds len children.  For NIL and STREAMED, str/list are
 * NULL.  All memory belongs to the parser and is valid until the next
 * imap_parser_feed() or imap_parser_free().
 */
struct imap_arg {
	uint8_t type;  /* enum imap_arg_type */
	uint8_t flags; /* enum imap_arg_flags */
	uint32_t len;
	union {
		const char *str;
		const struct imap_arg *list;
	} u;
};

enum imap_resp_kind {
	IMAP_RESP_UNTAGGED = 0, /* "* ..." */
	IMAP_RESP_TAGGED,	/* "a1 ..." */
	IMAP_RESP_CONTINUATION, /* "+ ..." */
};

enum imap_status {
	IMAP_STATUS_NONE = 0, /* not a status response (FETCH, LIST...) */
	IMAP_STATUS_OK,
	IMAP_STATUS_NO,
	IMAP_STATUS_BAD,
	IMAP_STATUS_BYE,
	IMAP_STATUS_PREAUTH,
};

/*
 * A complete response.  Status responses (OK/NO/BAD/BYE/PREAUTH, tagged or
 * untagged) have status set, the response code's name and raw argument text
 * (code / code_args, NULL without a code; decode them with
 * imap_resp_code_decode() in resp.h) and the human text; their args hold
 * only the status atom.  Continuations have only text.  Other responses
 * have args: everything after "* " (e.g. "12", "FETCH", (list)).
 */
struct imap_response {
	enum imap_resp_kind kind;
	enum imap_status status;
	const char *tag;       /* tagged only, else NULL */
	const struct imap_arg *args;
	size_t nargs;
	const char *code;      /* "UIDNEXT", "COPYUID"... as sent, or NULL */
	const char *code_args; /* text after the code name, "" if none */
	const char *text;      /* human text / continuation data, never NULL */
	struct imap_parser *parser; /* for imap_response_alloc() */
};

/* Parser limits; imap_parser_new(NULL) uses the limits.h defaults. */
struct imap_parser_limits {
	size_t max_line;
	uint64_t max_literal;
	size_t max_inmem_literal;
	unsigned max_depth;
	size_t max_args;
};

enum imap_body_choice {
	IMAP_BODY_INMEM = 0,
	IMAP_BODY_STREAM = 1,
};

struct imap_body_info {
	uint32_t seq;	   /* message sequence number of the FETCH */
	uint32_t uid;	   /* UID if seen before the body in this FETCH, else 0 */
	const char *item;  /* item name as sent, NUL-terminated; borrowed */
	uint64_t size;	   /* literal size */
	bool binary;	   /* ~{n} */
};

/* The body sink: see the header comment.  All three are required. */
struct imap_body_sink {
	/* Returns IMAP_BODY_STREAM, IMAP_BODY_INMEM or -1 (err filled). */
	int (*begin)(void *ctx, const struct imap_body_info *info,
		     struct oim_err *err);
	int (*data)(void *ctx, const void *data, size_t len,
		    struct oim_err *err);
	int (*end)(void *ctx, struct oim_err *err);
};

/* Return values of imap_parser_feed(). */
#define IMAP_PARSE_MORE 0     /* all input consumed, response incomplete */
#define IMAP_PARSE_RESPONSE 1 /* a response is complete */

/* limits may be NULL (defaults); it is copied. */
struct imap_parser *imap_parser_new(const struct imap_parser_limits *limits);
void imap_parser_free(struct imap_parser *p);
void imap_parser_default_limits(struct imap_parser_limits *limits);

/* Set (or with sink == NULL remove) the body sink; sink and ctx are
 * borrowed until replaced or the parser is freed.  Change it only between
 * responses. */
void imap_parser_set_body_sink(struct imap_parser *p,
			       const struct imap_body_sink *sink, void *ctx);

/*
 * Feed len bytes (len may be 0).  Consumes bytes up to and including the end
 * of the first complete response, sets *used_r to the number consumed and
 * returns IMAP_PARSE_RESPONSE, or consumes all and returns IMAP_PARSE_MORE,
 * or returns -1 (err filled; *used_r is unspecified; the parser is dead).
 * The previous response (and everything decoded from it) is invalidated.
 */
int imap_parser_feed(struct imap_parser *p, const void *data, size_t len,
		     size_t *used_r, struct oim_err *err) OIM_WUR;

/* The response completed by the last feed that returned
 * IMAP_PARSE_RESPONSE; NULL otherwise. */
const struct imap_response *imap_parser_response(const struct imap_parser *p);

/* True while the parser is inside a response (bytes consumed but no
 * response completed): a connection closing now lost data. */
bool imap_parser_in_response(const struct imap_parser *p);

/* Memory with the lifetime of the current response (for decoders). */
void *imap_response_alloc(const struct imap_response *r, size_t n);

/* Helpers on arguments. */
const char *imap_arg_type_name(enum imap_arg_type t);
/* ATOM equal to name, ASCII case-insensitive. */
bool imap_arg_atom_is(const struct imap_arg *a, const char *name);
/* ATOM, STRING or LITERAL: its text; NIL, LIST, STREAMED: NULL. */
const char *imap_arg_string(const struct imap_arg *a);
/* Same, NIL gives "" (nstring), the others NULL. */
const char *imap_arg_nstring(const struct imap_arg *a);
/* Number atom (no sign, digits only) parsed with overflow check. */
int imap_arg_u32(const struct imap_arg *a, uint32_t *out) OIM_WUR;
int imap_arg_u64(const struct imap_arg *a, uint64_t *out) OIM_WUR;

/*
 * Write a printable, escaped rendering of data[0..len) (at most max input
 * bytes, "..." after) to out: for error messages and debug logs.
 */
struct strbuf;
void imap_quote_for_log(struct strbuf *out, const void *data, size_t len,
			size_t max);

/* Debug/test rendering of a response in a canonical one-line form. */
void imap_response_dump(struct strbuf *out, const struct imap_response *r);

#endif
