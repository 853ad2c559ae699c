/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * parser.c - byte-fed IMAP response parser.  See parser.h for the contract.
 *
 * One loop over the input with an explicit state; every state can stop at
 * any byte and resume on the next feed, so no input is ever buffered beyond
 * the token in progress (tok).  Finished tokens go into per-level argument
 * vectors (reused across responses); a closed list is copied into the
 * per-response arena as an array, so the finished tree is arrays all the
 * way down and costs 16 bytes per argument.
 */
#include "parser.h"

#include <stdalign.h>
#include <stddef.h>

#include "../util/strbuf.h"

/* Bytes of the response kept for error messages. */
#define HEAD_MAX 80

/* ---- arena ---- */

struct arena_chunk {
	struct arena_chunk *next;
	size_t size, used;
	alignas(max_align_t) unsigned char data[];
};

struct arena {
	struct arena_chunk *head;
};

#define ARENA_CHUNK (16u * 1024)

static void *arena_alloc(struct arena *a, size_t n)
{
	struct arena_chunk *c = a->head;
	n = (n + 15) & ~(size_t)15;
	if (!n)
		n = 16;
	if (!c || c->size - c->used < n) {
		size_t size = n > ARENA_CHUNK ? n : ARENA_CHUNK;
		c = xmalloc(sizeof(*c) + size);
		c->size = size;
		c->used = 0;
		/* Big one-off blocks go behind the current chunk so its free
		 * space stays usable. */
		if (a->head && size > ARENA_CHUNK) {
			c->next = a->head->next;
			a->head->next = c;
		} else {
			c->next = a->head;
			a->head = c;
		}
	}
	void *res = c->data + c->used;
	c->used += n;
	return res;
}

/* Free everything but one standard chunk. */
static void arena_reset(struct arena *a)
{
	struct arena_chunk *keep = NULL, *c = a->head, *next;
	for (; c; c = next) {
		next = c->next;
		if (!keep && c->size == ARENA_CHUNK) {
			keep = c;
			keep->used = 0;
			keep->next = NULL;
		} else {
			free(c);
		}
	}
	a->head = keep;
}

static void arena_release(struct arena *a)
{
	struct arena_chunk *c = a->head, *next;
	for (; c; c = next) {
		next = c->next;
		free(c);
	}
	a->head = NULL;
}

static char *arena_strdup(struct arena *a, const char *s, size_t len)
{
	char *d = arena_alloc(a, len + 1);
	if (len)
		memcpy(d, s, len);
	d[len] = '\0';
	return d;
}

/* ---- parser state ---- */

enum pstate {
	S_START,	/* before a response; empty lines skipped */
	S_TAG,		/* tag, "*" or "+" */
	S_ARGS,		/* between arguments */
	S_ATOM,
	S_QUOTED,
	S_QUOTED_ESC,
	S_LIT_SIZE,	/* after '{' */
	S_LIT_CLOSE,	/* after '+', expecting '}' */
	S_LIT_CR,	/* after '}' */
	S_LIT_LF,
	S_LIT_DATA,
	S_RESP_TEXT,	/* after a status atom: optional "[code]" */
	S_CODE,		/* inside "[...]" */
	S_CODE_END,	/* after ']' */
	S_TEXT,		/* human text up to the end of the line */
	S_EOL_LF,	/* after '\r' ending the response */
	S_DEAD,
};

static const char *const state_names[] = {
	[S_START] = "start", [S_TAG] = "tag", [S_ARGS] = "args",
	[S_ATOM] = "atom", [S_QUOTED] = "quoted", [S_QUOTED_ESC] = "quoted-esc",
	[S_LIT_SIZE] = "literal-size", [S_LIT_CLOSE] = "literal-close",
	[S_LIT_CR] = "literal-cr", [S_LIT_LF] = "literal-lf",
	[S_LIT_DATA] = "literal-data", [S_RESP_TEXT] = "resp-text",
	[S_CODE] = "code", [S_CODE_END] = "code-end", [S_TEXT] = "text",
	[S_EOL_LF] = "eol-lf", [S_DEAD] = "dead",
};
static_assert(ARRAY_SIZE(state_names) == S_DEAD + 1, "state names");

struct argvec {
	struct imap_arg *v;
	size_t nr, alloc;
};

struct imap_parser {
	struct imap_parser_limits lim;
	enum pstate state;
	struct oim_err dead_err;

	struct arena arena;
	struct argvec *stack; /* stack[0]: top level; stack[depth]: open list */
	unsigned depth;
	size_t stack_alloc;
	size_t nargs_total;

	struct strbuf tok;  /* token in progress */
	struct strbuf head; /* start of the response, for error messages */
	size_t line_bytes;  /* memory accounting, see max_line */
	unsigned bracket;   /* [] nesting inside an atom */

	/* literal in progress */
	uint64_t lit_size, lit_left;
	bool lit_binary, lit_stream, lit_digits;

	/* response in progress */
	struct imap_response resp;
	bool have_resp; /* resp is complete and handed out */

	const struct imap_body_sink *sink;
	void *sink_ctx;
};

static void reset_response(struct imap_parser *p);

void imap_parser_default_limits(struct imap_parser_limits *lim)
{
	lim->max_line = OIM_IMAP_MAX_LINE;
	lim->max_literal = OIM_IMAP_MAX_LITERAL;
	lim->max_inmem_literal = OIM_IMAP_MAX_INMEM_LITERAL;
	lim->max_depth = OIM_IMAP_MAX_DEPTH;
	lim->max_args = OIM_IMAP_MAX_ARGS;
}

struct imap_parser *imap_parser_new(const struct imap_parser_limits *limits)
{
	struct imap_parser *p = xcalloc(1, sizeof(*p));
	if (limits)
		p->lim = *limits;
	else
		imap_parser_default_limits(&p->lim);
	/* imap_arg.len is 32 bits */
	if (p->lim.max_literal > UINT32_MAX || p->lim.max_line > UINT32_MAX ||
	    p->lim.max_inmem_literal > p->lim.max_line)
		BUG("imap parser limits out of range");
	strbuf_init(&p->tok, 0);
	strbuf_init(&p->head, 0);
	p->stack_alloc = 4;
	p->stack = xcalloc(p->stack_alloc, sizeof(*p->stack));
	p->state = S_START;
	reset_response(p);
	return p;
}

void imap_parser_free(struct imap_parser *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->stack_alloc; i++)
		free(p->stack[i].v);
	free(p->stack);
	arena_release(&p->arena);
	strbuf_release(&p->tok);
	strbuf_release(&p->head);
	free(p);
}

void imap_parser_set_body_sink(struct imap_parser *p,
			       const struct imap_body_sink *sink, void *ctx)
{
	p->sink = sink;
	p->sink_ctx = ctx;
}

const struct imap_response *imap_parser_response(const struct imap_parser *p)
{
	return p->have_resp ? &p->resp : NULL;
}

bool imap_parser_in_response(const struct imap_parser *p)
{
	return p->state != S_START && p->state != S_DEAD;
}

void *imap_response_alloc(const struct imap_response *r, size_t n)
{
	return arena_alloc(&r->parser->arena, n);
}

/* ---- error reporting ---- */

void imap_quote_for_log(struct strbuf *out, const void *data, size_t len,
			size_t max)
{
	const unsigned char *s = data;
	size_t n = len < max ? len : max;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];
		if (c == '\\' || c == '"')
			strbuf_addf(out, "\\%c", c);
		else if (c == '\r')
			strbuf_addstr(out, "\\r");
		else if (c == '\n')
			strbuf_addstr(out, "\\n");
		else if (c < 0x20 || c >= 0x7f)
			strbuf_addf(out, "\\x%02x", c);
		else
			strbuf_addch(out, c);
	}
	if (len > max)
		strbuf_addstr(out, "...");
}

static int perr(struct imap_parser *p, struct oim_err *err,
		enum oim_err_kind kind, const char *fmt, ...) OIM_PRINTF(4, 5);

static int perr(struct imap_parser *p, struct oim_err *err,
		enum oim_err_kind kind, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	strbuf_addstr(&sb, "IMAP server response: ");
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	strbuf_addstr(&sb, " in \"");
	imap_quote_for_log(&sb, p->head.buf, p->head.len, HEAD_MAX);
	if (p->head.len >= HEAD_MAX)
		strbuf_addstr(&sb, "...");
	strbuf_addch(&sb, '"');
	oim_error(&p->dead_err, OIM_SEV_ACCOUNT, kind, "%s", sb.buf);
	strbuf_release(&sb);
	p->state = S_DEAD;
	if (err)
		*err = p->dead_err;
	return -1;
}

/* A sink callback failed and filled err: the parser is dead with it. */
static int sink_failed(struct imap_parser *p, struct oim_err *err)
{
	if (err)
		p->dead_err = *err;
	else
		oim_error(&p->dead_err, OIM_SEV_ACCOUNT, OIM_E_GENERIC,
			  "IMAP body sink failed");
	if (p->dead_err.kind == OIM_E_NONE)
		oim_error(&p->dead_err, OIM_SEV_ACCOUNT, OIM_E_GENERIC,
			  "IMAP body sink failed without saying why");
	/* whatever the sink meant, the connection is now unusable */
	p->dead_err.sev = OIM_SEV_ACCOUNT;
	p->state = S_DEAD;
	if (err)
		*err = p->dead_err;
	return -1;
}

/* ---- building the tree ---- */

static void reset_response(struct imap_parser *p)
{
	arena_reset(&p->arena);
	p->depth = 0;
	p->stack[0].nr = 0;
	p->nargs_total = 0;
	strbuf_reset(&p->tok);
	strbuf_reset(&p->head);
	p->line_bytes = 0;
	p->bracket = 0;
	memset(&p->resp, 0, sizeof(p->resp));
	p->resp.parser = p;
	p->resp.text = "";
	p->have_resp = false;
}

static int push_arg(struct imap_parser *p, const struct imap_arg *a,
		    struct oim_err *err)
{
	struct argvec *v = &p->stack[p->depth];
	if (++p->nargs_total > p->lim.max_args)
		return perr(p, err, OIM_E_LIMIT,
			    "more than %zu arguments in one response",
			    p->lim.max_args);
	ALLOC_GROW(v->v, v->nr, v->alloc);
	v->v[v->nr++] = *a;
	return 0;
}

static struct imap_arg *vec_to_arena(struct imap_parser *p,
				     const struct argvec *v)
{
	if (!v->nr)
		return NULL;
	struct imap_arg *a = arena_alloc(&p->arena, v->nr * sizeof(*a));
	memcpy(a, v->v, v->nr * sizeof(*a));
	return a;
}

static int open_list(struct imap_parser *p, struct oim_err *err)
{
	if (p->depth + 1 > p->lim.max_depth)
		return perr(p, err, OIM_E_LIMIT,
			    "lists nested deeper than %u", p->lim.max_depth);
	if (p->depth + 1 >= p->stack_alloc) {
		size_t old = p->stack_alloc;
		p->stack_alloc *= 2;
		p->stack = xreallocarray(p->stack, p->stack_alloc,
					 sizeof(*p->stack));
		memset(p->stack + old, 0,
		       (p->stack_alloc - old) * sizeof(*p->stack));
	}
	p->depth++;
	p->stack[p->depth].nr = 0;
	return 0;
}

static int close_list(struct imap_parser *p, struct oim_err *err)
{
	if (!p->depth)
		return perr(p, err, OIM_E_PROTOCOL, "unexpected ')'");
	struct imap_arg a = { .type = IMAP_ARG_LIST };
	struct argvec *v = &p->stack[p->depth];
	a.len = (uint32_t)v->nr;
	a.u.list = vec_to_arena(p, v);
	p->depth--;
	/* the list itself was counted when opened */
	p->nargs_total--;
	return push_arg(p, &a, err);
}

static bool status_atom(const char *s, enum imap_status *st)
{
	static const struct {
		const char *name;
		enum imap_status st;
	} tab[] = {
		{ "OK", IMAP_STATUS_OK },   { "NO", IMAP_STATUS_NO },
		{ "BAD", IMAP_STATUS_BAD }, { "BYE", IMAP_STATUS_BYE },
		{ "PREAUTH", IMAP_STATUS_PREAUTH },
	};
	for (size_t i = 0; i < ARRAY_SIZE(tab); i++)
		if (!oim_strcasecmp(s, tab[i].name)) {
			*st = tab[i].st;
			return true;
		}
	return false;
}

static int finish_atom(struct imap_parser *p, struct oim_err *err)
{
	struct imap_arg a = { .type = IMAP_ARG_ATOM };
	if (p->bracket)
		return perr(p, err, OIM_E_PROTOCOL, "unterminated '[' in atom");
	if (p->tok.len == 3 && !oim_strcasecmp(p->tok.buf, "NIL")) {
		a.type = IMAP_ARG_NIL;
	} else {
		a.len = (uint32_t)p->tok.len;
		a.u.str = arena_strdup(&p->arena, p->tok.buf, p->tok.len);
	}
	strbuf_reset(&p->tok);
	if (push_arg(p, &a, err))
		return -1;
	p->state = S_ARGS;
	/* "tag OK ..." / "* BYE ...": the rest is resp-text, not arguments */
	if (!p->depth && p->stack[0].nr == 1 && a.type == IMAP_ARG_ATOM &&
	    p->resp.kind != IMAP_RESP_CONTINUATION &&
	    status_atom(a.u.str, &p->resp.status))
		p->state = S_RESP_TEXT;
	return 0;
}

static int finish_string(struct imap_parser *p, enum imap_arg_type type,
			 struct oim_err *err)
{
	struct imap_arg a = { .type = (uint8_t)type };
	a.len = (uint32_t)p->tok.len;
	a.u.str = arena_strdup(&p->arena, p->tok.buf, p->tok.len);
	if (p->lit_binary && type == IMAP_ARG_LITERAL)
		a.flags |= IMAP_ARG_F_BINARY;
	strbuf_reset(&p->tok);
	p->state = S_ARGS;
	return push_arg(p, &a, err);
}

static bool is_body_item(const char *s)
{
	static const char *const prefixes[] = {
		"BODY[", "BODY.PEEK[", "BINARY[", "BINARY.PEEK[",
	};
	for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++)
		if (!oim_strncasecmp(s, prefixes[i], strlen(prefixes[i])))
			return true;
	return !oim_strcasecmp(s, "RFC822") ||
	       !oim_strcasecmp(s, "RFC822.TEXT") ||
	       !oim_strcasecmp(s, "RFC822.HEADER");
}

/*
 * Is the literal starting now the value of a body item directly inside
 * "* n FETCH (...)"?  Fills info if so.
 */
static bool body_context(struct imap_parser *p, struct imap_body_info *info)
{
	const struct argvec *top = &p->stack[0], *l = &p->stack[1];
	if (p->resp.kind != IMAP_RESP_UNTAGGED || p->depth != 1 ||
	    top->nr != 2 || !imap_arg_atom_is(&top->v[1], "FETCH") ||
	    imap_arg_u32(&top->v[0], &info->seq) || l->nr % 2 != 1 ||
	    l->v[l->nr - 1].type != IMAP_ARG_ATOM ||
	    !is_body_item(l->v[l->nr - 1].u.str))
		return false;
	info->item = l->v[l->nr - 1].u.str;
	info->uid = 0;
	for (size_t i = 0; i + 1 < l->nr; i += 2)
		if (imap_arg_atom_is(&l->v[i], "UID") &&
		    imap_arg_u32(&l->v[i + 1], &info->uid))
			info->uid = 0;
	return true;
}

static int finish_literal(struct imap_parser *p, struct oim_err *err)
{
	if (!p->lit_stream)
		return finish_string(p, IMAP_ARG_LITERAL, err);
	if (p->sink->end(p->sink_ctx, err))
		return sink_failed(p, err);
	struct imap_arg a = { .type = IMAP_ARG_STREAMED };
	a.len = (uint32_t)p->lit_size;
	if (p->lit_binary)
		a.flags |= IMAP_ARG_F_BINARY;
	p->state = S_ARGS;
	return push_arg(p, &a, err);
}

static int start_literal(struct imap_parser *p, struct oim_err *err)
{
	struct imap_body_info info;

	p->lit_stream = false;
	if (p->sink && body_context(p, &info)) {
		info.size = p->lit_size;
		info.binary = p->lit_binary;
		int r = p->sink->begin(p->sink_ctx, &info, err);
		if (r < 0)
			return sink_failed(p, err);
		p->lit_stream = r == IMAP_BODY_STREAM;
	}
	if (!p->lit_stream) {
		if (p->lit_size > p->lim.max_inmem_literal)
			return perr(p, err, OIM_E_LIMIT,
				    "literal of %llu bytes is larger than the "
				    "%zu bytes kept in memory",
				    (unsigned long long)p->lit_size,
				    p->lim.max_inmem_literal);
		if (p->line_bytes + p->lit_size > p->lim.max_line)
			return perr(p, err, OIM_E_LIMIT,
				    "response larger than %zu bytes",
				    p->lim.max_line);
		p->line_bytes += (size_t)p->lit_size;
		strbuf_reset(&p->tok);
		strbuf_grow(&p->tok, (size_t)p->lit_size);
	}
	p->lit_left = p->lit_size;
	if (!p->lit_left)
		return finish_literal(p, err);
	p->state = S_LIT_DATA;
	return 0;
}

static void finish_text(struct imap_parser *p)
{
	p->resp.text = arena_strdup(&p->arena, p->tok.buf, p->tok.len);
	strbuf_reset(&p->tok);
}

static int finish_code(struct imap_parser *p, struct oim_err *err)
{
	const char *sp = memchr(p->tok.buf, ' ', p->tok.len);
	size_t namelen = sp ? (size_t)(sp - p->tok.buf) : p->tok.len;
	if (!namelen)
		return perr(p, err, OIM_E_PROTOCOL, "empty response code");
	p->resp.code = arena_strdup(&p->arena, p->tok.buf, namelen);
	if (sp)
		p->resp.code_args = arena_strdup(&p->arena, sp + 1,
						 p->tok.len - namelen - 1);
	else
		p->resp.code_args = "";
	strbuf_reset(&p->tok);
	p->state = S_CODE_END;
	return 0;
}

static int finish_response(struct imap_parser *p, struct oim_err *err)
{
	if (p->depth)
		return perr(p, err, OIM_E_PROTOCOL, "unterminated list");
	p->resp.args = vec_to_arena(p, &p->stack[0]);
	p->resp.nargs = p->stack[0].nr;
	p->have_resp = true;
	p->state = S_START;
	return 1;
}

static bool is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/*
 * Process one byte outside literal data.  Returns 0 to go on, 1 when a
 * response is complete, -1 on error.  A byte that ends a token is processed
 * again in the next state ("goto again").
 */
static int step(struct imap_parser *p, unsigned char c, struct oim_err *err)
{
again:
	switch (p->state) {
	case S_START:
		p->state = S_TAG;
		goto again;
	case S_TAG:
		if (c == ' ' || c == '\r' || c == '\n') {
			if (!p->tok.len)
				return perr(p, err, OIM_E_PROTOCOL,
					    "response without a tag");
			if (!strcmp(p->tok.buf, "+")) {
				p->resp.kind = IMAP_RESP_CONTINUATION;
				p->state = S_TEXT;
			} else if (!strcmp(p->tok.buf, "*")) {
				p->resp.kind = IMAP_RESP_UNTAGGED;
				p->state = S_ARGS;
			} else {
				p->resp.kind = IMAP_RESP_TAGGED;
				p->resp.tag = arena_strdup(&p->arena,
							   p->tok.buf,
							   p->tok.len);
				p->state = S_ARGS;
			}
			strbuf_reset(&p->tok);
			if (c == ' ')
				return 0;
			if (p->resp.kind != IMAP_RESP_CONTINUATION)
				return perr(p, err, OIM_E_PROTOCOL,
					    "nothing after the tag");
			goto again;
		}
		if (is_ctl(c) || c >= 0x80 || strchr("(){\"%]\\", c))
			return perr(p, err, OIM_E_PROTOCOL,
				    "bad character 0x%02x in tag", c);
		strbuf_addch(&p->tok, c);
		return 0;
	case S_ARGS:
		switch (c) {
		case ' ':
			return 0;
		case '\r':
		case '\n':
			if (p->depth)
				return perr(p, err, OIM_E_PROTOCOL,
					    "unterminated list");
			if (c == '\n')
				return finish_response(p, err);
			p->state = S_EOL_LF;
			return 0;
		case '(':
			/* count the list now, close_list() uncounts it */
			if (++p->nargs_total > p->lim.max_args)
				return perr(p, err, OIM_E_LIMIT,
					    "more than %zu arguments in one "
					    "response",
					    p->lim.max_args);
			return open_list(p, err);
		case ')':
			return close_list(p, err);
		case '"':
			strbuf_reset(&p->tok);
			p->state = S_QUOTED;
			return 0;
		case '{':
			p->lit_binary = false;
			p->lit_size = 0;
			p->lit_digits = false;
			p->state = S_LIT_SIZE;
			return 0;
		default:
			if (is_ctl(c))
				return perr(p, err, OIM_E_PROTOCOL,
					    "control character 0x%02x", c);
			strbuf_reset(&p->tok);
			p->bracket = 0;
			p->state = S_ATOM;
			goto again;
		}
	case S_ATOM:
		if (p->bracket) {
			if (c == '\r' || c == '\n')
				return perr(p, err, OIM_E_PROTOCOL,
					    "unterminated '[' in atom");
			if (c == '[')
				p->bracket++;
			else if (c == ']')
				p->bracket--;
			strbuf_addch(&p->tok, c);
			return 0;
		}
		switch (c) {
		case ' ':
		case '(':
		case ')':
		case '\r':
		case '\n':
			if (finish_atom(p, err))
				return -1;
			if (p->state == S_RESP_TEXT && c == ' ')
				return 0;
			goto again;
		case '"':
			return perr(p, err, OIM_E_PROTOCOL,
				    "'\"' inside an atom");
		case '{':
			if (p->tok.len == 1 && p->tok.buf[0] == '~') {
				strbuf_reset(&p->tok);
				p->lit_binary = true;
				p->lit_size = 0;
				p->lit_digits = false;
				p->state = S_LIT_SIZE;
				return 0;
			}
			break;
		case '[':
			p->bracket++;
			break;
		default:
			if (is_ctl(c))
				return perr(p, err, OIM_E_PROTOCOL,
					    "control character 0x%02x", c);
			break;
		}
		strbuf_addch(&p->tok, c);
		return 0;
	case S_QUOTED:
		if (c == '"')
			return finish_string(p, IMAP_ARG_STRING, err);
		if (c == '\\') {
			p->state = S_QUOTED_ESC;
			return 0;
		}
		if (c == '\r' || c == '\n')
			return perr(p, err, OIM_E_PROTOCOL,
				    "unterminated quoted string");
		strbuf_addch(&p->tok, c);
		return 0;
	case S_QUOTED_ESC:
		if (c == '\r' || c == '\n')
			return perr(p, err, OIM_E_PROTOCOL,
				    "unterminated quoted string");
		strbuf_addch(&p->tok, c);
		p->state = S_QUOTED;
		return 0;
	case S_LIT_SIZE:
		if (c >= '0' && c <= '9') {
			/* max_literal <= UINT32_MAX, so this cannot wrap */
			p->lit_size = p->lit_size * 10 + (uint64_t)(c - '0');
			p->lit_digits = true;
			if (p->lit_size > p->lim.max_literal)
				return perr(p, err, OIM_E_LIMIT,
					    "literal larger than %llu bytes",
					    (unsigned long long)
						    p->lim.max_literal);
			return 0;
		}
		if (p->lit_digits && c == '+') {
			p->state = S_LIT_CLOSE;
			return 0;
		}
		if (p->lit_digits && c == '}') {
			p->state = S_LIT_CR;
			return 0;
		}
		return perr(p, err, OIM_E_PROTOCOL, "bad literal size");
	case S_LIT_CLOSE:
		if (c != '}')
			return perr(p, err, OIM_E_PROTOCOL, "bad literal size");
		p->state = S_LIT_CR;
		return 0;
	case S_LIT_CR:
		if (c == '\r') {
			p->state = S_LIT_LF;
			return 0;
		}
		if (c == '\n')
			return start_literal(p, err);
		return perr(p, err, OIM_E_PROTOCOL,
			    "literal size not followed by end of line");
	case S_LIT_LF:
		if (c == '\n')
			return start_literal(p, err);
		return perr(p, err, OIM_E_PROTOCOL,
			    "literal size not followed by end of line");
	case S_LIT_DATA:
		BUG("literal data in step()");
	case S_RESP_TEXT:
		if (c == '[') {
			strbuf_reset(&p->tok);
			p->state = S_CODE;
			return 0;
		}
		strbuf_reset(&p->tok);
		p->state = S_TEXT;
		goto again;
	case S_CODE:
		if (c == ']')
			return finish_code(p, err);
		if (c == '\r' || c == '\n')
			return perr(p, err, OIM_E_PROTOCOL,
				    "unterminated response code");
		strbuf_addch(&p->tok, c);
		return 0;
	case S_CODE_END:
		p->state = S_TEXT;
		if (c == ' ')
			return 0;
		goto again;
	case S_TEXT:
		if (c == '\r' || c == '\n') {
			finish_text(p);
			if (c == '\n')
				return finish_response(p, err);
			p->state = S_EOL_LF;
			return 0;
		}
		strbuf_addch(&p->tok, c);
		return 0;
	case S_EOL_LF:
		if (c == '\n')
			return finish_response(p, err);
		return perr(p, err, OIM_E_PROTOCOL, "CR not followed by LF");
	case S_DEAD:
		break;
	}
	BUG("imap parser in state %s", state_names[p->state]);
}

int imap_parser_feed(struct imap_parser *p, const void *data, size_t len,
		     size_t *used_r, struct oim_err *err)
{
	const unsigned char *d = data;
	size_t i = 0;

	*used_r = 0;
	if (p->state == S_DEAD) {
		if (err)
			*err = p->dead_err;
		return -1;
	}
	if (p->have_resp)
		reset_response(p);
	while (i < len) {
		unsigned char c = d[i];
		if (p->state == S_LIT_DATA) {
			size_t n = len - i;
			if (n > p->lit_left)
				n = (size_t)p->lit_left;
			if (p->lit_stream) {
				if (p->sink->data(p->sink_ctx, d + i, n, err))
					return sink_failed(p, err);
			} else {
				strbuf_add(&p->tok, d + i, n);
			}
			i += n;
			p->lit_left -= n;
			if (!p->lit_left && finish_literal(p, err))
				return -1;
			continue;
		}
		if (p->state == S_START && (c == '\r' || c == '\n')) {
			i++; /* empty line between responses */
			continue;
		}
		if (p->head.len < HEAD_MAX)
			strbuf_addch(&p->head, c);
		i++;
		if (++p->line_bytes > p->lim.max_line)
			return perr(p, err, OIM_E_LIMIT,
				    "response longer than %zu bytes",
				    p->lim.max_line);
		if (!c)
			return perr(p, err, OIM_E_PROTOCOL, "NUL byte");
		int r = step(p, c, err);
		if (r < 0)
			return -1;
		if (r > 0) {
			*used_r = i;
			return IMAP_PARSE_RESPONSE;
		}
	}
	*used_r = i;
	return IMAP_PARSE_MORE;
}

/* ---- argument helpers ---- */

const char *imap_arg_type_name(enum imap_arg_type t)
{
	static const char *const names[] = {
		[IMAP_ARG_NIL] = "NIL",	      [IMAP_ARG_ATOM] = "atom",
		[IMAP_ARG_STRING] = "string", [IMAP_ARG_LITERAL] = "literal",
		[IMAP_ARG_LIST] = "list",     [IMAP_ARG_STREAMED] = "streamed",
	};
	return (size_t)t < ARRAY_SIZE(names) ? names[t] : "?";
}

bool imap_arg_atom_is(const struct imap_arg *a, const char *name)
{
	return a->type == IMAP_ARG_ATOM && !oim_strcasecmp(a->u.str, name);
}

const char *imap_arg_string(const struct imap_arg *a)
{
	switch (a->type) {
	case IMAP_ARG_ATOM:
	case IMAP_ARG_STRING:
	case IMAP_ARG_LITERAL:
		return a->u.str;
	default:
		return NULL;
	}
}

const char *imap_arg_nstring(const struct imap_arg *a)
{
	return a->type == IMAP_ARG_NIL ? "" : imap_arg_string(a);
}

int imap_arg_u64(const struct imap_arg *a, uint64_t *out)
{
	if (a->type != IMAP_ARG_ATOM)
		return -1;
	return oim_parse_u64(a->u.str, a->len, UINT64_MAX, out);
}

int imap_arg_u32(const struct imap_arg *a, uint32_t *out)
{
	uint64_t v;
	if (a->type != IMAP_ARG_ATOM ||
	    oim_parse_u64(a->u.str, a->len, UINT32_MAX, &v))
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* ---- debug rendering ---- */

static void dump_arg(struct strbuf *sb, const struct imap_arg *a)
{
	switch (a->type) {
	case IMAP_ARG_NIL:
		strbuf_addstr(sb, "NIL");
		break;
	case IMAP_ARG_ATOM:
		imap_quote_for_log(sb, a->u.str, a->len, SIZE_MAX);
		break;
	case IMAP_ARG_LITERAL:
		strbuf_addf(sb, "%s{%u}", a->flags & IMAP_ARG_F_BINARY ? "~" : "",
			    (unsigned)a->len);
		/* fall through */
	case IMAP_ARG_STRING:
		strbuf_addch(sb, '"');
		imap_quote_for_log(sb, a->u.str, a->len, SIZE_MAX);
		strbuf_addch(sb, '"');
		break;
	case IMAP_ARG_LIST:
		strbuf_addch(sb, '(');
		for (size_t i = 0; i < a->len; i++) {
			if (i)
				strbuf_addch(sb, ' ');
			dump_arg(sb, &a->u.list[i]);
		}
		strbuf_addch(sb, ')');
		break;
	case IMAP_ARG_STREAMED:
		strbuf_addf(sb, "<%sstreamed %u>",
			    a->flags & IMAP_ARG_F_BINARY ? "~" : "",
			    (unsigned)a->len);
		break;
	default:
		BUG("bad arg type %d", a->type);
	}
}

void imap_response_dump(struct strbuf *sb, const struct imap_response *r)
{
	switch (r->kind) {
	case IMAP_RESP_CONTINUATION:
		strbuf_addstr(sb, "+");
		break;
	case IMAP_RESP_UNTAGGED:
		strbuf_addstr(sb, "*");
		break;
	case IMAP_RESP_TAGGED:
		strbuf_addstr(sb, r->tag);
		break;
	}
	for (size_t i = 0; i < r->nargs; i++) {
		strbuf_addch(sb, ' ');
		dump_arg(sb, &r->args[i]);
	}
	if (r->code) {
		strbuf_addf(sb, " [%s|", r->code);
		imap_quote_for_log(sb, r->code_args, strlen(r->code_args),
				   SIZE_MAX);
		strbuf_addch(sb, ']');
	}
	if (r->status != IMAP_STATUS_NONE ||
	    r->kind == IMAP_RESP_CONTINUATION) {
		strbuf_addstr(sb, " \"");
		imap_quote_for_log(sb, r->text, strlen(r->text), SIZE_MAX);
		strbuf_addch(sb, '"');
	}
}
