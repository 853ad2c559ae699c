/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * client.c - the IMAP client's engine: connection set-up, the writer that
 * turns queued commands into bytes (literals streamed from files, with
 * LITERAL+ or waiting for the server's '+'), the reader that feeds the
 * parser, and the routing of responses to commands.
 *
 * Pipelining model: commands are queued in order; the writer sends them in
 * that order as fast as the connection takes bytes, stopping only at a
 * synchronising literal (it must wait for '+') or an AUTHENTICATE/IDLE
 * exchange.  The reader runs at the same time (one poll() for both
 * directions), so a long APPEND never deadlocks against a server that
 * answers earlier commands meanwhile.
 */
#include "client-int.h"

#include <errno.h>
#include <unistd.h>

#include "../util/log.h"

/* ---- commands ---- */

struct imap_cmd *imap_cmd_new(struct imap_client *c)
{
	(void)c;
	struct imap_cmd *cmd = xcalloc(1, sizeof(*cmd));
	strbuf_init(&cmd->logline, 0);
	return cmd;
}

static struct cmd_seg *add_seg(struct imap_cmd *cmd, enum seg_kind kind)
{
	ALLOC_GROW(cmd->segs, cmd->nsegs, cmd->alloc_segs);
	struct cmd_seg *s = &cmd->segs[cmd->nsegs++];
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->fd = -1;
	strbuf_init(&s->data, 0);
	return s;
}

static struct cmd_seg *text_seg(struct imap_cmd *cmd)
{
	if (cmd->nsegs && cmd->segs[cmd->nsegs - 1].kind == SEG_TEXT &&
	    !cmd->segs[cmd->nsegs - 1].secret)
		return &cmd->segs[cmd->nsegs - 1];
	return add_seg(cmd, SEG_TEXT);
}

void imap_cmd_add_text(struct imap_cmd *cmd, const char *fmt, ...)
{
	struct cmd_seg *s = text_seg(cmd);
	size_t before = s->data.len;
	va_list ap;
	va_start(ap, fmt);
	strbuf_vaddf(&s->data, fmt, ap);
	va_end(ap);
	strbuf_add(&cmd->logline, s->data.buf + before, s->data.len - before);
}

static bool needs_literal(const char *s)
{
	for (; *s; s++)
		if (*s == '\r' || *s == '\n' || (unsigned char)*s >= 0x80)
			return true;
	return false;
}

char *imap_quote(const char *s)
{
	if (needs_literal(s))
		return NULL;
	struct strbuf sb = STRBUF_INIT;
	strbuf_addch(&sb, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			strbuf_addch(&sb, '\\');
		strbuf_addch(&sb, *s);
	}
	strbuf_addch(&sb, '"');
	return strbuf_detach(&sb, NULL);
}

void imap_cmd_add_string(struct imap_cmd *cmd, const char *s, bool secret)
{
	char *q = imap_quote(s);
	if (q && !secret) {
		imap_cmd_add_text(cmd, "%s", q);
		free(q);
		return;
	}
	if (q) {
		imap_cmd_add_secret_text(cmd, q);
		oim_free_secret(q);
		return;
	}
	struct cmd_seg *seg = add_seg(cmd, SEG_LIT_MEM);
	seg->secret = secret;
	strbuf_addstr(&seg->data, s);
	seg->size = seg->data.len;
	if (secret)
		strbuf_addstr(&cmd->logline, "<redacted>");
	else
		strbuf_addf(&cmd->logline, "{%zu}<literal>", seg->data.len);
}

void imap_cmd_add_secret_text(struct imap_cmd *cmd, const char *text)
{
	struct cmd_seg *seg = add_seg(cmd, SEG_TEXT);
	seg->secret = true;
	strbuf_addstr(&seg->data, text);
	strbuf_addstr(&cmd->logline, "<redacted>");
}

void imap_cmd_add_literal_fd(struct imap_cmd *cmd, int fd, uint64_t size)
{
	struct cmd_seg *seg = add_seg(cmd, SEG_LIT_FD);
	seg->fd = fd;
	seg->size = size;
	strbuf_addf(&cmd->logline, "{%llu}<message>",
		    (unsigned long long)size);
}

static void unlink_cmd(struct imap_client *c, struct imap_cmd *cmd);

void imap_cmd_free(struct imap_cmd *cmd)
{
	if (!cmd)
		return;
	if (cmd->linked && cmd->owner)
		unlink_cmd(cmd->owner, cmd);
	for (size_t i = 0; i < cmd->nsegs; i++) {
		if (cmd->segs[i].secret)
			strbuf_release_secret(&cmd->segs[i].data);
		else
			strbuf_release(&cmd->segs[i].data);
	}
	free(cmd->segs);
	strbuf_release(&cmd->logline);
	imap_code_info_release(&cmd->code);
	free(cmd->text);
	free(cmd);
}

/* ---- connection state ---- */

int imap_client_fail(struct imap_client *c, struct oim_err *err)
{
	if (!c->broken) {
		c->broken = true;
		c->dead = *err;
		if (c->dead.sev < OIM_SEV_ACCOUNT)
			c->dead.sev = OIM_SEV_ACCOUNT;
		log_debug(OIM_DBG_IMAP, "%s: connection dead: %s", c->name,
			  c->dead.msg);
	}
	*err = c->dead;
	return -1;
}

bool imap_client_broken(const struct imap_client *c)
{
	return c->broken;
}

const char *imap_client_peer(const struct imap_client *c)
{
	return c->conn ? net_conn_peer(c->conn) : c->host;
}

void imap_client_set_body_sink(struct imap_client *c,
			       const struct imap_body_sink *sink, void *ctx)
{
	imap_parser_set_body_sink(c->parser, sink, ctx);
}

void imap_client_set_caps(struct imap_client *c, const char *const *atoms,
			  size_t n)
{
	for (size_t i = 0; i < c->ncaps; i++)
		free(c->caps[i]);
	c->ncaps = 0;
	c->caps_gen++;
	for (size_t i = 0; i < n; i++) {
		ALLOC_GROW(c->caps, c->ncaps, c->alloc_caps);
		c->caps[c->ncaps++] = xstrdup(atoms[i]);
	}
}

bool imap_has_cap(const struct imap_client *c, const char *cap)
{
	return imap_atoms_have((const char *const *)c->caps, c->ncaps, cap);
}

static void settle_enable(struct imap_client *c)
{
	struct oim_err err = OIM_ERR_INIT;
	while (c->enable_cmd && !c->broken)
		if (imap_client_step(c, &err) && c->broken)
			break;
}

bool imap_qresync_enabled(struct imap_client *c)
{
	settle_enable(c);
	return c->qresync;
}

bool imap_condstore_enabled(struct imap_client *c)
{
	settle_enable(c);
	return c->condstore || c->qresync;
}

const char *imap_selected(const struct imap_client *c)
{
	return c->selected;
}

/* ---- the writer ---- */

/* The first command with bytes still to produce. */
static struct imap_cmd *writer_cmd(struct imap_client *c)
{
	for (struct imap_cmd *cmd = c->cmds; cmd; cmd = cmd->next)
		if (cmd->state == CMD_QUEUED)
			return cmd;
	return NULL;
}

/* Read up to 'room' bytes of the file, LF -> CRLF, into c->out. */
static int produce_fd(struct imap_client *c, struct imap_cmd *cmd,
		      struct cmd_seg *seg, struct oim_err *err)
{
	char buf[32 * 1024];
	uint64_t left = seg->size - cmd->cur_off;
	size_t want = sizeof(buf) / 2; /* worst case doubles */
	if (want > left)
		want = (size_t)left; /* each byte gives at least one */
	ssize_t n = read(seg->fd, buf, want);
	if (n < 0) {
		if (errno == EINTR)
			return 0;
		return oim_error(err, OIM_SEV_MESSAGE, OIM_E_IO,
				 "reading the message to upload: %s",
				 strerror(errno));
	}
	if (n == 0)
		return oim_error(err, OIM_SEV_MESSAGE, OIM_E_IO,
				 "the message to upload shrank while it was "
				 "being sent");
	size_t start = c->out.len;
	for (ssize_t i = 0; i < n; i++) {
		char ch = buf[i];
		if (ch == '\n' && !cmd->lf_pending_cr)
			strbuf_addch(&c->out, '\r');
		strbuf_addch(&c->out, ch);
		cmd->lf_pending_cr = ch == '\r';
	}
	uint64_t produced = c->out.len - start;
	if (produced > left) {
		/* The file grew or changed since its size was taken: the
		 * literal length we announced would be wrong. */
		return oim_error(err, OIM_SEV_MESSAGE, OIM_E_IO,
				 "the message to upload changed while it was "
				 "being sent");
	}
	cmd->cur_off += produced;
	return 0;
}

/*
 * Produce the next bytes of the writer command into c->out.  Returns 0
 * (maybe producing nothing when blocked on a '+'), -1 on error.
 */
static int produce(struct imap_client *c, struct oim_err *err)
{
	struct imap_cmd *cmd = writer_cmd(c);
	if (!cmd)
		return 0;
	if (cmd->idling || (cmd->cont && cmd->cur_seg >= cmd->nsegs))
		return 0;
	while (cmd->cur_seg < cmd->nsegs && c->out.len < IMAP_READ_CHUNK) {
		struct cmd_seg *seg = &cmd->segs[cmd->cur_seg];
		if (seg->kind == SEG_TEXT) {
			strbuf_add(&c->out, seg->data.buf, seg->data.len);
			cmd->cur_seg++;
			continue;
		}
		if (!cmd->lit_announced) {
			bool plus = imap_has_cap(c, "LITERAL+") ||
				    (imap_has_cap(c, "LITERAL-") &&
				     seg->size <= 4096);
			strbuf_addf(&c->out, "{%llu%s}\r\n",
				    (unsigned long long)seg->size,
				    plus ? "+" : "");
			cmd->lit_announced = true;
			cmd->lit_go = plus;
			cmd->cur_off = 0;
			cmd->lf_pending_cr = false;
		}
		if (!cmd->lit_go)
			return 0; /* wait for '+' */
		if (seg->kind == SEG_LIT_MEM) {
			strbuf_add(&c->out, seg->data.buf, seg->data.len);
			cmd->cur_off = seg->size;
		} else if (cmd->cur_off < seg->size) {
			if (produce_fd(c, cmd, seg, err))
				return -1;
		}
		if (cmd->cur_off >= seg->size) {
			cmd->cur_seg++;
			cmd->lit_announced = false;
			cmd->lit_go = false;
		}
	}
	if (cmd->cur_seg >= cmd->nsegs && !cmd->cont) {
		strbuf_addstr(&c->out, "\r\n");
		cmd->state = CMD_SENT;
	} else if (cmd->cur_seg >= cmd->nsegs && cmd->cont) {
		/* AUTHENTICATE/IDLE: the line ends here; the exchange goes
		 * on through continuations. */
		strbuf_addstr(&c->out, "\r\n");
		cmd->cur_seg = cmd->nsegs;
	}
	return 0;
}

static bool out_pending(struct imap_client *c)
{
	return c->out_off < c->out.len || net_conn_output_pending(c->conn);
}

static bool writer_has_work(struct imap_client *c)
{
	if (out_pending(c))
		return true;
	struct imap_cmd *cmd = writer_cmd(c);
	if (!cmd || cmd->idling)
		return false;
	if (cmd->cur_seg >= cmd->nsegs)
		return !cmd->cont;
	struct cmd_seg *seg = &cmd->segs[cmd->cur_seg];
	return seg->kind == SEG_TEXT || !cmd->lit_announced || cmd->lit_go;
}

static int do_write(struct imap_client *c, struct oim_err *err)
{
	for (int rounds = 0; rounds < 64; rounds++) {
		if (c->out_off >= c->out.len) {
			/* wiped: the buffer may have held a secret */
			oim_wipe(c->out.buf, c->out.len);
			strbuf_reset(&c->out);
			c->out_off = 0;
			if (produce(c, err))
				return -1;
			if (!c->out.len)
				break;
		}
		size_t n = 0;
		if (net_conn_send(c->conn, c->out.buf + c->out_off,
				  c->out.len - c->out_off, &n, err))
			return imap_client_fail(c, err);
		if (!n)
			return 0;
		c->out_off += n;
	}
	bool done;
	if (net_conn_flush_nb(c->conn, &done, err))
		return imap_client_fail(c, err);
	return 0;
}

/* ---- the reader ---- */

static struct imap_cmd *find_tag(struct imap_client *c, const char *tag)
{
	for (struct imap_cmd *cmd = c->cmds; cmd; cmd = cmd->next)
		if (!strcmp(cmd->tag, tag))
			return cmd;
	return NULL;
}

static void unlink_cmd(struct imap_client *c, struct imap_cmd *cmd)
{
	for (struct imap_cmd **pp = &c->cmds; *pp; pp = &(*pp)->next)
		if (*pp == cmd) {
			*pp = cmd->next;
			cmd->next = NULL;
			cmd->linked = false;
			c->ninflight--;
			return;
		}
}

/* Untagged data that changes the client's own state. */
static int track_untagged(struct imap_client *c, const struct imap_response *r,
			  struct oim_err *err)
{
	uint32_t n;
	if (r->status == IMAP_STATUS_BYE) {
		if (c->logging_out)
			return 0; /* the tagged OK to LOGOUT follows */
		return oim_error(err, OIM_SEV_ACCOUNT, OIM_E_IMAP_BYE,
				 "%s: server closed the connection: %s",
				 imap_client_peer(c), r->text);
	}
	if (r->status != IMAP_STATUS_NONE && r->code) {
		struct imap_code_info ci = { 0 };
		if (imap_code_decode(r, &ci, err))
			return -1;
		switch (ci.code) {
		case IMAP_CODE_ALERT:
			log_warn("%s: server alert: %s", imap_client_peer(c),
				 r->text);
			break;
		case IMAP_CODE_CAPABILITY:
			imap_client_set_caps(c, ci.atoms, ci.natoms);
			break;
		case IMAP_CODE_UIDVALIDITY:
			c->mbox.uidvalidity = ci.num;
			break;
		case IMAP_CODE_UIDNEXT:
			c->mbox.uidnext = ci.num;
			break;
		case IMAP_CODE_HIGHESTMODSEQ:
			c->mbox.highestmodseq = ci.modseq;
			break;
		case IMAP_CODE_NOMODSEQ:
			c->mbox.nomodseq = true;
			break;
		case IMAP_CODE_PERMANENTFLAGS:
			c->mbox.permanentflags = ci.flags;
			c->mbox.permanent_keywords = ci.flags_star;
			break;
		default:
			break;
		}
		imap_code_info_release(&ci);
		return 0;
	}
	if (r->status != IMAP_STATUS_NONE)
		return 0;
	if (imap_response_is(r, "CAPABILITY")) {
		const char **atoms;
		size_t na;
		if (imap_atoms_decode(r, &atoms, &na, err))
			return -1;
		imap_client_set_caps(c, atoms, na);
	} else if (imap_response_is(r, "ENABLED")) {
		const char **atoms;
		size_t na;
		if (imap_atoms_decode(r, &atoms, &na, err))
			return -1;
		if (imap_atoms_have(atoms, na, "QRESYNC"))
			c->qresync = true;
		if (imap_atoms_have(atoms, na, "CONDSTORE"))
			c->condstore = true;
	} else if (imap_response_numbered(r, "EXISTS", &n)) {
		c->mbox.exists = n;
		c->idle_changed = true;
	} else if (imap_response_numbered(r, "EXPUNGE", &n) ||
		   imap_response_is(r, "VANISHED") ||
		   imap_response_numbered(r, "FETCH", &n)) {
		c->idle_changed = true;
	} else if (imap_response_is(r, "FLAGS") && r->nargs >= 2) {
		unsigned flags;
		const char **kw;
		size_t nkw;
		if (imap_flags_decode(r, &r->args[1], &flags, &kw, &nkw, NULL,
				      err) == 0)
			c->mbox.flags = flags;
	}
	return 0;
}

static int handle_tagged(struct imap_client *c, const struct imap_response *r,
			 struct oim_err *err)
{
	struct imap_cmd *cmd = find_tag(c, r->tag);
	if (!cmd || cmd->state == CMD_DONE) {
		struct strbuf sb = STRBUF_INIT;
		imap_quote_for_log(&sb, r->tag, strlen(r->tag), 40);
		oim_error(err, OIM_SEV_ACCOUNT, OIM_E_PROTOCOL,
			  "%s: response with unknown tag %s",
			  imap_client_peer(c), sb.buf);
		strbuf_release(&sb);
		return -1;
	}
	cmd->status = r->status;
	if (cmd == c->enable_cmd)
		c->enable_cmd = NULL;
	free(cmd->text);
	cmd->text = xstrdup(r->text);
	if (r->code) {
		imap_code_info_release(&cmd->code);
		if (imap_code_decode(r, &cmd->code, err))
			return -1;
		if (cmd->code.code == IMAP_CODE_CAPABILITY)
			imap_client_set_caps(c, cmd->code.atoms,
					     cmd->code.natoms);
		if (cmd->code.code == IMAP_CODE_READ_ONLY)
			c->mbox.readonly = true;
	}
	cmd->state = CMD_DONE;
	cmd->idling = false;
	unlink_cmd(c, cmd);
	if (!cmd->owned_by_caller)
		imap_cmd_free(cmd);
	return 0;
}

static int handle_continuation(struct imap_client *c,
			       const struct imap_response *r,
			       struct oim_err *err)
{
	/* The oldest command that can take a continuation: one waiting for
	 * '+' to send a literal, or in an AUTHENTICATE/IDLE exchange. */
	struct imap_cmd *cmd;
	for (cmd = c->cmds; cmd; cmd = cmd->next)
		if (cmd->state == CMD_QUEUED &&
		    ((cmd->lit_announced && !cmd->lit_go) ||
		     (cmd->cont && cmd->cur_seg >= cmd->nsegs)))
			break;
	if (!cmd)
		return oim_error(err, OIM_SEV_ACCOUNT, OIM_E_PROTOCOL,
				 "%s: unexpected continuation request",
				 imap_client_peer(c));
	if (cmd->lit_announced && !cmd->lit_go) {
		cmd->lit_go = true;
		return 0;
	}
	if (cmd->idle) {
		cmd->idling = true;
		return 0;
	}
	struct strbuf reply = STRBUF_INIT;
	bool secret = false;
	if (cmd->cont(cmd->cont_ctx, r->text, &reply, &secret, err)) {
		/* abort the exchange; the tagged BAD/NO follows */
		strbuf_release_secret(&reply);
		log_debug(OIM_DBG_IMAP, "C: *");
		strbuf_addstr(&c->out, "*\r\n");
		cmd->cont = NULL;
		cmd->state = CMD_SENT;
		return 0;
	}
	log_debug(OIM_DBG_IMAP, "C: %s", secret ? "<redacted>" : reply.buf);
	strbuf_add(&c->out, reply.buf, reply.len);
	strbuf_addstr(&c->out, "\r\n");
	strbuf_release_secret(&reply);
	return 0;
}

static bool is_body_item(const struct imap_arg *a)
{
	const char *s = a->type == IMAP_ARG_ATOM ? a->u.str : NULL;
	if (!s)
		return false;
	return !oim_strncasecmp(s, "BODY[", 5) ||
	       !oim_strncasecmp(s, "BINARY[", 7) ||
	       (!oim_strncasecmp(s, "RFC822", 6) &&
		oim_strcasecmp(s, "RFC822.SIZE"));
}

/*
 * -d imap: log a response, message bodies as their size only (client.h's
 * promise: mail content is not debug output).  A FETCH's list is copied
 * into the response's arena with each body value replaced by an atom.
 */
static void log_response(const struct imap_response *r)
{
	struct strbuf sb = STRBUF_INIT;
	uint32_t n;
	struct imap_response copy = *r;
	if (imap_response_numbered(r, "FETCH", &n) && r->nargs >= 3 &&
	    r->args[2].type == IMAP_ARG_LIST) {
		const struct imap_arg *list = r->args[2].u.list;
		size_t len = r->args[2].len;
		struct imap_arg *nl = imap_response_alloc(r, (len + 1) *
								 sizeof(*nl));
		struct imap_arg *na = imap_response_alloc(r, r->nargs *
								 sizeof(*na));
		memcpy(na, r->args, r->nargs * sizeof(*na));
		memcpy(nl, list, len * sizeof(*nl));
		for (size_t i = 0; i + 1 < len; i += 2) {
			if (!is_body_item(&list[i]) ||
			    list[i + 1].type == IMAP_ARG_NIL)
				continue;
			char tmp[48];
			snprintf(tmp, sizeof(tmp), "<%u bytes>",
				 list[i + 1].len);
			char *atom = imap_response_alloc(r, strlen(tmp) + 1);
			memcpy(atom, tmp, strlen(tmp) + 1);
			nl[i + 1].type = IMAP_ARG_ATOM;
			nl[i + 1].flags = 0;
			nl[i + 1].len = (uint32_t)strlen(tmp);
			nl[i + 1].u.str = atom;
		}
		na[2].u.list = nl;
		copy.args = na;
	}
	imap_response_dump(&sb, &copy);
	log_debug(OIM_DBG_IMAP, "S: %s", sb.buf);
	strbuf_release(&sb);
}

static int dispatch(struct imap_client *c, const struct imap_response *r,
		    struct oim_err *err)
{
	if (log_debug_enabled(OIM_DBG_IMAP))
		log_response(r);
	switch (r->kind) {
	case IMAP_RESP_TAGGED:
		return handle_tagged(c, r, err);
	case IMAP_RESP_CONTINUATION:
		return handle_continuation(c, r, err);
	case IMAP_RESP_UNTAGGED:
		break;
	}
	if (track_untagged(c, r, err))
		return -1;
	/* The oldest command in flight that asked for untagged data. */
	for (struct imap_cmd *cmd = c->cmds; cmd; cmd = cmd->next)
		if (cmd->untagged && cmd->state != CMD_DONE)
			return cmd->untagged(cmd->ctx, r, err);
	return 0;
}

int imap_client_read(struct imap_client *c, struct oim_err *err)
{
	if (c->roff >= c->rlen) {
		size_t n = 0;
		if (net_conn_recv(c->conn, c->rbuf, IMAP_READ_CHUNK, &n, err))
			return imap_client_fail(c, err);
		c->rlen = n;
		c->roff = 0;
		if (!n)
			return 0;
	}
	while (c->roff < c->rlen) {
		size_t used = 0;
		int rc = imap_parser_feed(c->parser, c->rbuf + c->roff,
					  c->rlen - c->roff, &used, err);
		if (rc < 0) {
			oim_err_prefix(err, "%s", imap_client_peer(c));
			return imap_client_fail(c, err);
		}
		c->roff += used;
		if (rc == IMAP_PARSE_RESPONSE) {
			const struct imap_response *r =
				imap_parser_response(c->parser);
			if (dispatch(c, r, err)) {
				if (err->sev >= OIM_SEV_ACCOUNT)
					return imap_client_fail(c, err);
				return -1;
			}
			/* let the caller see completions promptly */
			if (r->kind == IMAP_RESP_TAGGED)
				return 0;
		}
	}
	return 0;
}

int imap_client_step(struct imap_client *c, struct oim_err *err)
{
	if (c->broken) {
		*err = c->dead;
		return -1;
	}
	/* parse what is buffered before waiting for more */
	if (c->roff < c->rlen)
		return imap_client_read(c, err);
	unsigned want = NET_WANT_READ;
	if (writer_has_work(c))
		want |= NET_WANT_WRITE;
	unsigned ready = 0;
	if (net_conn_poll(c->conn, want, NET_POLL_SOCKTIMEOUT, &ready, err)) {
		oim_err_prefix(err, "%s", c->name);
		return imap_client_fail(c, err);
	}
	if ((ready & NET_WANT_WRITE) && do_write(c, err))
		return -1;
	if (ready & NET_WANT_READ)
		return imap_client_read(c, err);
	return 0;
}

/* ---- running commands ---- */

int imap_cmd_submit(struct imap_client *c, struct imap_cmd *cmd,
		    struct oim_err *err)
{
	if (c->broken) {
		*err = c->dead;
		return -1;
	}
	/* bound the pipeline: wait for the oldest to finish */
	while (c->ninflight >= IMAP_MAX_INFLIGHT)
		if (imap_client_step(c, err) && c->broken)
			return -1;
	snprintf(cmd->tag, sizeof(cmd->tag), "o%u", ++c->next_tag);
	log_debug(OIM_DBG_IMAP, "C: %s %s", cmd->tag, cmd->logline.buf);
	/* the tag goes in front of the first text segment */
	if (!cmd->nsegs || cmd->segs[0].kind != SEG_TEXT)
		BUG("command without leading text");
	struct strbuf t = STRBUF_INIT;
	strbuf_addf(&t, "%s ", cmd->tag);
	strbuf_add(&t, cmd->segs[0].data.buf, cmd->segs[0].data.len);
	if (cmd->segs[0].secret)
		strbuf_release_secret(&cmd->segs[0].data);
	else
		strbuf_release(&cmd->segs[0].data);
	cmd->segs[0].data = t;
	cmd->state = CMD_QUEUED;
	struct imap_cmd **pp = &c->cmds;
	while (*pp)
		pp = &(*pp)->next;
	*pp = cmd;
	cmd->owner = c;
	cmd->linked = true;
	c->ninflight++;
	return 0;
}

static int cmd_result(struct imap_client *c, struct imap_cmd *cmd,
		      struct oim_err *err)
{
	if (cmd->status == IMAP_STATUS_OK)
		return 0;
	/* the command's verb for the message, without arguments (they may
	 * be secret) */
	char verb[64];
	size_t n = strcspn(cmd->logline.buf, " ");
	if (n >= sizeof(verb))
		n = sizeof(verb) - 1;
	memcpy(verb, cmd->logline.buf, n);
	verb[n] = '\0';
	if (!strcmp(verb, "UID")) {
		size_t m = strcspn(cmd->logline.buf + n + 1, " ");
		snprintf(verb, sizeof(verb), "UID %.*s", (int)m,
			 cmd->logline.buf + n + 1);
	}
	return oim_error(err, OIM_SEV_FOLDER,
			 cmd->status == IMAP_STATUS_NO ? OIM_E_IMAP_NO
						       : OIM_E_IMAP_BAD,
			 "%s: %s failed: %s %s%s%s", imap_client_peer(c), verb,
			 cmd->status == IMAP_STATUS_NO ? "NO" : "BAD",
			 cmd->code.name ? "[" : "",
			 cmd->code.name ? cmd->code.name : "",
			 cmd->code.name ? "] " : "");
}

int imap_cmd_wait(struct imap_client *c, struct imap_cmd *cmd,
		  struct oim_err *err)
{
	cmd->owned_by_caller = true;
	while (cmd->state != CMD_DONE) {
		if (imap_client_step(c, err)) {
			if (c->broken)
				return -1;
			/* a callback failed: keep the connection in sync
			 * by finishing the command, then report */
			struct oim_err first = *err;
			while (cmd->state != CMD_DONE && !c->broken)
				if (imap_client_step(c, err) && c->broken)
					return -1;
			*err = first;
			return -1;
		}
	}
	if (cmd_result(c, cmd, err)) {
		/* add the server's words */
		size_t len = strlen(err->msg);
		snprintf(err->msg + len, sizeof(err->msg) - len, "%s",
			 cmd->text ? cmd->text : "");
		return -1;
	}
	return 0;
}

int imap_cmd_run(struct imap_client *c, struct imap_cmd *cmd,
		 imap_untagged_cb cb, void *ctx, struct oim_err *err)
{
	cmd->untagged = cb;
	cmd->ctx = ctx;
	if (imap_cmd_submit(c, cmd, err)) {
		imap_cmd_free(cmd);
		return -1;
	}
	int rc = imap_cmd_wait(c, cmd, err);
	if (cmd->state == CMD_DONE || c->broken) {
		if (cmd->state != CMD_DONE)
			unlink_cmd(c, cmd);
		imap_cmd_free(cmd);
	} else {
		cmd->owned_by_caller = false; /* freed when it completes */
	}
	return rc;
}

int imap_client_capability(struct imap_client *c, struct oim_err *err)
{
	struct imap_cmd *cmd = imap_cmd_new(c);
	imap_cmd_add_text(cmd, "CAPABILITY");
	return imap_cmd_run(c, cmd, NULL, NULL, err);
}

/* ---- open / close ---- */

static bool host_is_loopback(const char *host)
{
	return !oim_strcasecmp(host, "localhost") ||
	       oim_starts_with(host, "127.") || !strcmp(host, "::1") ||
	       !strcmp(host, "[::1]");
}

/* Read the greeting: OK, PREAUTH or BYE. */
static int read_greeting(struct imap_client *c, struct oim_err *err)
{
	for (;;) {
		if (c->roff >= c->rlen) {
			unsigned ready;
			if (net_conn_poll(c->conn, NET_WANT_READ,
					  NET_POLL_SOCKTIMEOUT, &ready, err))
				return -1;
			size_t n = 0;
			if (net_conn_recv(c->conn, c->rbuf, IMAP_READ_CHUNK, &n,
					  err))
				return -1;
			c->rlen = n;
			c->roff = 0;
			continue;
		}
		size_t used = 0;
		int rc = imap_parser_feed(c->parser, c->rbuf + c->roff,
					  c->rlen - c->roff, &used, err);
		if (rc < 0)
			return -1;
		c->roff += used;
		if (rc != IMAP_PARSE_RESPONSE)
			continue;
		const struct imap_response *r = imap_parser_response(c->parser);
		if (log_debug_enabled(OIM_DBG_IMAP))
			log_response(r);
		if (r->kind != IMAP_RESP_UNTAGGED ||
		    (r->status != IMAP_STATUS_OK &&
		     r->status != IMAP_STATUS_PREAUTH &&
		     r->status != IMAP_STATUS_BYE)) {
			struct strbuf sb = STRBUF_INIT;
			imap_response_dump(&sb, r);
			oim_error(err, OIM_SEV_ACCOUNT, OIM_E_PROTOCOL,
				  "%s: not an IMAP greeting: %.200s",
				  imap_client_peer(c), sb.buf);
			strbuf_release(&sb);
			return -1;
		}
		if (r->status == IMAP_STATUS_BYE)
			return oim_error(err, OIM_SEV_ACCOUNT, OIM_E_IMAP_BYE,
					 "%s: server refused the connection: "
					 "%s",
					 imap_client_peer(c), r->text);
		c->preauth = r->status == IMAP_STATUS_PREAUTH;
		return track_untagged(c, r, err);
	}
}

/*
 * After the tagged OK to STARTTLS or COMPRESS the stream changes layer:
 * the server sends nothing more before it, so a byte already read after
 * that OK was injected in plaintext (the STARTTLS injection attack).
 */
static int no_bytes_after_ok(struct imap_client *c, const char *what,
			     struct oim_err *err)
{
	if (c->roff >= c->rlen)
		return 0;
	oim_error(err, OIM_SEV_ACCOUNT, OIM_E_PROTOCOL,
		  "%s: data after the %s OK (injection attempt?)",
		  imap_client_peer(c), what);
	return imap_client_fail(c, err);
}

static int starttls(struct imap_client *c, const struct imap_client_opts *o,
		    struct oim_err *err)
{
	if (!o->tls)
		return oim_error(err, OIM_SEV_ACCOUNT, OIM_E_TLS,
				 "%s: STARTTLS offered but no TLS settings",
				 imap_client_peer(c));
	if (imap_simple(c, "STARTTLS", NULL, NULL, err)) {
		/* Offered but refused: never fall back to plaintext. */
		err->sev = OIM_SEV_ACCOUNT;
		err->kind = OIM_E_TLS;
		oim_err_prefix(err, "STARTTLS was offered but failed; "
				    "refusing to continue without TLS");
		return imap_client_fail(c, err);
	}
	if (no_bytes_after_ok(c, "STARTTLS", err))
		return -1;
	if (net_conn_start_tls(c->conn, o->tls, err))
		return imap_client_fail(c, err);
	/* capabilities from before TLS must be forgotten (RFC 3501 6.2.1) */
	imap_client_set_caps(c, NULL, 0);
	return imap_client_capability(c, err);
}

static int compress(struct imap_client *c, struct oim_err *err)
{
	if (imap_simple(c, "COMPRESS DEFLATE", NULL, NULL, err)) {
		/* a refused COMPRESS is harmless: go on uncompressed */
		if (c->broken)
			return -1;
		log_debug(OIM_DBG_IMAP, "COMPRESS refused: %s", err->msg);
		return 0;
	}
	if (no_bytes_after_ok(c, "COMPRESS", err))
		return -1;
	if (net_conn_compress(c->conn, err))
		return imap_client_fail(c, err);
	return 0;
}

/* ID; with wait false only queued: its answer (which nothing needs) is
 * read while the next command is waited for, one round trip less. */
static int send_id(struct imap_client *c, bool wait, struct oim_err *err)
{
	struct imap_cmd *cmd = imap_cmd_new(c);
	imap_cmd_add_text(cmd, "ID (\"name\" \"oimap\" \"version\" \"%s\")",
			  "0.1.0");
	if (!wait) {
		if (imap_cmd_submit(c, cmd, err)) {
			imap_cmd_free(cmd);
			return -1;
		}
		return 0; /* not owned: freed when it completes */
	}
	if (imap_cmd_run(c, cmd, NULL, NULL, err) && c->broken)
		return -1;
	return 0;
}

static int enable(struct imap_client *c, const struct imap_client_opts *o,
		  struct oim_err *err)
{
	bool q = o->enable_qresync && imap_has_cap(c, "QRESYNC");
	bool cs = (o->enable_condstore || o->enable_qresync) &&
		  imap_has_cap(c, "CONDSTORE");
	if (!q && !cs)
		return 0;
	if (!imap_has_cap(c, "ENABLE")) {
		c->condstore = cs; /* CONDSTORE works without ENABLE */
		return 0;
	}
	/* Only queued, as ID: its answer is read while the next command is
	 * waited for, and the server has carried it out before that one
	 * (the "* ENABLED" response sets qresync/condstore). */
	struct imap_cmd *cmd = imap_cmd_new(c);
	imap_cmd_add_text(cmd, "ENABLE%s%s", q ? " QRESYNC" : "",
			  cs ? " CONDSTORE" : "");
	if (imap_cmd_submit(c, cmd, err)) {
		imap_cmd_free(cmd);
		return -1;
	}
	c->enable_cmd = cmd;
	return 0;
}

int imap_client_open(struct imap_client **c_r,
		     const struct imap_client_opts *o, struct oim_err *err)
{
	*c_r = NULL;
	struct imap_client *c = xcalloc(1, sizeof(*c));
	c->name = xstrdup(o->name ? o->name : o->host ? o->host : "imap");
	c->host = xstrdup(o->host ? o->host : "");
	c->parser = imap_parser_new(NULL);
	c->rbuf = xmalloc(IMAP_READ_CHUNK);
	strbuf_init(&c->out, 0);
	c->loopback = host_is_loopback(c->host);

	int rc;
	const char *tunnel = o->preauth_tunnel && *o->preauth_tunnel
				     ? o->preauth_tunnel
				     : o->transport_tunnel;
	if (tunnel && *tunnel) {
		c->tunnel = true;
		rc = net_tunnel_open(&c->conn, tunnel, o->timeout_s, err);
	} else {
		struct net_connect_opts co = {
			.host = o->host,
			.port = o->port ? o->port
				: o->ssl ? NET_PORT_IMAPS
					 : NET_PORT_IMAP,
			.family = o->family,
			.timeout_s = o->timeout_s,
		};
		rc = net_connect(&c->conn, &co, err);
		if (!rc && o->ssl) {
			if (!o->tls)
				BUG("ssl without a TLS context");
			rc = net_conn_start_tls(c->conn, o->tls, err);
		}
	}
	if (rc || read_greeting(c, err))
		goto fail;
	/* PREAUTH on a plain TCP connection makes STARTTLS impossible (it is
	 * only valid before authentication): a man in the middle can use
	 * it to keep the session in plaintext (mutt CVE-2020-14954,
	 * Thunderbird CVE-2020-12398).  Refuse unless TLS was not wanted. */
	if (c->preauth && !c->tunnel && !net_conn_is_tls(c->conn) &&
	    o->starttls && o->tls) {
		oim_error(err, OIM_SEV_ACCOUNT, OIM_E_TLS,
			  "%s: the server greeted with PREAUTH on an "
			  "unencrypted connection, which rules out STARTTLS; "
			  "refusing to continue in plaintext (set ssl = yes, "
			  "or starttls = no to accept an unencrypted session)",
			  imap_client_peer(c));
		goto fail;
	}
	if (!c->ncaps && imap_client_capability(c, err))
		goto fail;
	if (!c->preauth && !c->tunnel && !net_conn_is_tls(c->conn) &&
	    o->starttls && imap_has_cap(c, "STARTTLS")) {
		if (starttls(c, o, err))
			goto fail;
	}
	if (!c->preauth) {
		if (!c->tunnel && !net_conn_is_tls(c->conn) && !c->loopback &&
		    (o->password || o->oauth2_token))
			log_warn("%s: logging in to %s over an unencrypted "
				 "connection: the password can be read on the "
				 "network (set ssl = yes, or make the server "
				 "offer STARTTLS)",
				 c->name, c->host);
		unsigned gen = c->caps_gen;
		if (imap_client_authenticate(c, o, err))
			goto fail;
		/* capabilities change after login; ask unless the server
		 * already told us in its OK [CAPABILITY ...] */
		if (c->caps_gen == gen && imap_client_capability(c, err))
			goto fail;
	}
	bool zip = o->compress && imap_has_cap(c, "COMPRESS=DEFLATE") &&
		   !net_conn_is_compressed(c->conn);
	/* COMPRESS wants nothing in flight: then ID is waited for */
	if (o->send_id && imap_has_cap(c, "ID") && send_id(c, zip, err))
		goto fail;
	if (zip && compress(c, err))
		goto fail;
	if (enable(c, o, err))
		goto fail;
	*c_r = c;
	return 0;
fail:
	if (!err->msg[0])
		oim_error(err, OIM_SEV_ACCOUNT, OIM_E_NET, "%s: cannot connect",
			  c->name);
	if (err->sev < OIM_SEV_ACCOUNT && err->kind != OIM_E_IMAP_NO &&
	    err->kind != OIM_E_IMAP_BAD)
		err->sev = OIM_SEV_ACCOUNT;
	if (err->sev < OIM_SEV_ACCOUNT)
		err->sev = OIM_SEV_ACCOUNT;
	imap_client_free(c);
	return -1;
}

void imap_client_free(struct imap_client *c)
{
	if (!c)
		return;
	while (c->cmds) {
		struct imap_cmd *cmd = c->cmds;
		c->cmds = cmd->next;
		cmd->next = NULL;
		cmd->linked = false;
		cmd->owner = NULL; /* a caller's command outlives the client */
		if (!cmd->owned_by_caller)
			imap_cmd_free(cmd);
	}
	net_conn_free(c->conn);
	imap_parser_free(c->parser);
	imap_client_set_caps(c, NULL, 0);
	free(c->caps);
	strbuf_release_secret(&c->out);
	free(c->rbuf);
	free(c->selected);
	free(c->name);
	free(c->host);
	free(c);
}

void imap_logout(struct imap_client *c)
{
	if (!c)
		return;
	if (!c->broken) {
		struct oim_err err = OIM_ERR_INIT;
		struct imap_cmd *cmd = imap_cmd_new(c);
		net_conn_set_timeout(c->conn, IMAP_LOGOUT_TIMEOUT_S);
		c->logging_out = true;
		imap_cmd_add_text(cmd, "LOGOUT");
		/* Over TCP, sent and not waited for: its BYE and OK tell
		 * nothing (one round trip less at the end of every run).  A
		 * tunnel's program would write them into a closed pipe and
		 * complain: there, the answer is read. */
		if (imap_cmd_submit(c, cmd, &err) == 0) {
			cmd->owned_by_caller = true;
			while (cmd->state != CMD_DONE && !c->broken &&
			       (c->tunnel || cmd->state == CMD_QUEUED ||
				writer_has_work(c)))
				if (imap_client_step(c, &err) &&
				    err.kind == OIM_E_IMAP_BYE)
					break;
			if (cmd->state != CMD_DONE)
				unlink_cmd(c, cmd);
			imap_cmd_free(cmd);
		} else {
			imap_cmd_free(cmd);
		}
	}
	imap_client_free(c);
}
