/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * client-cmd.c - the IMAP commands the sync uses, on top of the engine in
 * client.c.  Each builds its command, routes the untagged responses it
 * asked for to the caller's callback (decoded with resp.h), and returns 0
 * or -1 with err.
 */
#include "client-int.h"

#include <errno.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../util/log.h"

static void add_mailbox(struct imap_cmd *cmd, const char *mailbox)
{
	imap_cmd_add_string(cmd, mailbox, false);
}

int imap_simple(struct imap_client *c, const char *command,
		imap_untagged_cb cb, void *ctx, struct oim_err *err)
{
	struct imap_cmd *cmd = imap_cmd_new(c);
	imap_cmd_add_text(cmd, "%s", command);
	return imap_cmd_run(c, cmd, cb, ctx, err);
}

int imap_noop(struct imap_client *c, struct oim_err *err)
{
	return imap_simple(c, "NOOP", NULL, NULL, err);
}

/* ---- NAMESPACE / separator ---- */

static int sep_cb(void *ctx, const struct imap_response *r,
		  struct oim_err *err)
{
	struct imap_client *c = ctx;
	if (imap_response_is(r, "NAMESPACE")) {
		struct imap_namespaces ns;
		if (imap_namespace_decode(r, &ns, err))
			return -1;
		if (ns.n[0]) {
			c->sep = ns.ns[0][0].sep;
			c->sep_known = true;
		}
	} else if (imap_response_is(r, "LIST") && !c->sep_known) {
		struct imap_list_entry e;
		if (imap_list_decode(r, &e, err))
			return -1;
		c->sep = e.sep;
		c->sep_known = true;
	}
	return 0;
}

int imap_separator(struct imap_client *c, char *sep_r, struct oim_err *err)
{
	if (!c->sep_known) {
		if (imap_has_cap(c, "NAMESPACE") &&
		    imap_simple(c, "NAMESPACE", sep_cb, c, err) && c->broken)
			return -1;
		if (!c->sep_known &&
		    imap_simple(c, "LIST \"\" \"\"", sep_cb, c, err))
			return -1;
		c->sep_known = true;
	}
	*sep_r = c->sep;
	return 0;
}

/* ---- LIST / LSUB / STATUS ---- */

struct list_ctx {
	imap_list_cb list_cb;
	imap_status_cb status_cb;
	void *ctx;
	/* for the STATUS fallback: selectable mailboxes seen */
	char **names;
	size_t n, alloc;
	bool collect;
};

static int list_untagged(void *vctx, const struct imap_response *r,
			 struct oim_err *err)
{
	struct list_ctx *l = vctx;
	if (imap_response_is(r, "LIST") || imap_response_is(r, "LSUB")) {
		struct imap_list_entry e;
		if (imap_list_decode(r, &e, err))
			return -1;
		if (l->collect && !(e.flags & (IMAP_LIST_NOSELECT |
					       IMAP_LIST_NONEXISTENT))) {
			ALLOC_GROW(l->names, l->n, l->alloc);
			l->names[l->n++] = xmemdup(e.name, e.name_len);
		}
		return l->list_cb ? l->list_cb(l->ctx, &e, err) : 0;
	}
	if (imap_response_is(r, "STATUS") && l->status_cb) {
		struct imap_status_info st;
		if (imap_status_decode(r, &st, err))
			return -1;
		return l->status_cb(l->ctx, &st, err);
	}
	return 0;
}

int imap_list(struct imap_client *c, bool lsub, const char *reference,
	      const char *pattern, imap_list_cb cb, void *ctx,
	      struct oim_err *err)
{
	struct list_ctx l = { cb, NULL, ctx, NULL, 0, 0, false };
	struct imap_cmd *cmd = imap_cmd_new(c);
	imap_cmd_add_text(cmd, "%s ", lsub ? "LSUB" : "LIST");
	add_mailbox(cmd, reference ? reference : "");
	imap_cmd_add_text(cmd, " ");
	add_mailbox(cmd, pattern);
	return imap_cmd_run(c, cmd, list_untagged, &l, err);
}

/*
 * STATUS of names[0..n), every command in flight at once.  With
 * tolerate_no, a NO or BAD for one mailbox only costs its answer; else the
 * first failure is returned (after every command completed, so the
 * connection stays in step).
 */
static int status_pipelined(struct imap_client *c, const char *const *names,
			    size_t n, const char *items, struct list_ctx *l,
			    bool tolerate_no, struct oim_err *err)
{
	struct imap_cmd **cmds = xcalloc(n ? n : 1, sizeof(*cmds));
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		cmds[i] = imap_cmd_new(c);
		imap_cmd_add_text(cmds[i], "STATUS ");
		add_mailbox(cmds[i], names[i]);
		imap_cmd_add_text(cmds[i], " %s", items);
		cmds[i]->untagged = list_untagged;
		cmds[i]->ctx = l;
		cmds[i]->owned_by_caller = true;
		if (imap_cmd_submit(c, cmds[i], err)) {
			imap_cmd_free(cmds[i]);
			cmds[i] = NULL;
			rc = -1;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (!cmds[i])
			continue;
		struct oim_err e2 = OIM_ERR_INIT;
		if (imap_cmd_wait(c, cmds[i], &e2) && rc == 0 &&
		    (!tolerate_no || c->broken ||
		     (e2.kind != OIM_E_IMAP_NO && e2.kind != OIM_E_IMAP_BAD))) {
			*err = e2;
			rc = -1;
		} else if (e2.sev != OIM_SEV_NONE) {
			log_debug(OIM_DBG_IMAP, "%s", e2.msg);
		}
		if (cmds[i]->state == CMD_DONE)
			imap_cmd_free(cmds[i]);
	}
	free(cmds);
	return rc;
}

int imap_list_status(struct imap_client *c, const char *reference,
		     const char *pattern, const char *items, imap_list_cb cb,
		     imap_status_cb status_cb, void *ctx, struct oim_err *err)
{
	struct list_ctx l = { cb, status_cb, ctx, NULL, 0, 0, false };
	struct imap_cmd *cmd = imap_cmd_new(c);
	bool ls = imap_has_cap(c, "LIST-STATUS") && status_cb;
	imap_cmd_add_text(cmd, "LIST ");
	add_mailbox(cmd, reference ? reference : "");
	imap_cmd_add_text(cmd, " ");
	add_mailbox(cmd, pattern);
	if (ls)
		imap_cmd_add_text(cmd, " RETURN (STATUS %s)", items);
	else
		l.collect = status_cb != NULL;
	int rc = imap_cmd_run(c, cmd, list_untagged, &l, err);
	if (rc == 0 && l.collect && l.n)
		/* one STATUS per mailbox, all in flight at once */
		rc = status_pipelined(c, (const char *const *)l.names, l.n,
				      items, &l, false, err);
	for (size_t i = 0; i < l.n; i++)
		free(l.names[i]);
	free(l.names);
	return rc;
}

int imap_status_many(struct imap_client *c, const char *const *mailboxes,
		     size_t n, const char *items, imap_status_cb status_cb,
		     void *ctx, struct oim_err *err)
{
	struct list_ctx l = { NULL, status_cb, ctx, NULL, 0, 0, false };
	if (c->broken) {
		*err = c->dead;
		return -1;
	}
	return status_pipelined(c, mailboxes, n, items, &l, true, err);
}

struct status_ctx {
	struct imap_status_info *st;
	const char *mailbox;
	bool seen;
};

static int status_untagged(void *vctx, const struct imap_response *r,
			   struct oim_err *err)
{
	struct status_ctx *s = vctx;
	if (!imap_response_is(r, "STATUS"))
		return 0;
	struct imap_status_info st;
	if (imap_status_decode(r, &st, err))
		return -1;
	*s->st = st;
	s->st->mailbox = s->mailbox; /* the response's copy dies with it */
	s->st->mailbox_len = strlen(s->mailbox);
	s->seen = true;
	return 0;
}

int imap_status(struct imap_client *c, const char *mailbox, const char *items,
		struct imap_status_info *st_r, struct oim_err *err)
{
	memset(st_r, 0, sizeof(*st_r));
	struct status_ctx s = { st_r, mailbox, false };
	struct imap_cmd *cmd = imap_cmd_new(c);
	imap_cmd_add_text(cmd, "STATUS ");
	add_mailbox(cmd, mailbox);
	imap_cmd_add_text(cmd, " %s", items);
	if (imap_cmd_run(c, cmd, status_untagged, &s, err))
		return -1;
	if (!s.seen)
		return oim_error(err, OIM_SEV_FOLDER, OIM_E_PROTOCOL,
				 "%s: STATUS %s: the server sent no STATUS "
				 "data",
				 imap_client_peer(c), mailbox);
	return 0;
}

/* ---- SELECT / EXAMINE ---- */

struct select_ctx {
	imap_fetch_cb fetch_cb;
	imap_vanished_cb vanished_cb;
	void *ctx;
};

static int fetch_untagged(void *vctx, const struct imap_response *r,
			  struct oim_err *err)
{
	struct select_ctx *s = vctx;
	uint32_t n;
	if (imap_response_numbered(r, "FETCH", &n)) {
		if (!s->fetch_cb)
			return 0;
		struct imap_fetch f;
		if (imap_fetch_decode(r, &f, err))
			return -1;
		return s->fetch_cb(s->ctx, &f, err);
	}
	if (imap_response_is(r, "VANISHED") && s->vanished_cb) {
		struct imap_seqset set = IMAP_SEQSET_INIT;
		bool earlier;
		int rc = imap_vanished_decode(r, &earlier, &set, err);
		if (!rc)
			rc = s->vanished_cb(s->ctx, &set, earlier, err);
		imap_seqset_release(&set);
		return rc;
	}
	return 0;
}

static int do_select(struct imap_client *c, const char *mailbox,
		     unsigned flags, const char *params, struct select_ctx *s,
		     struct imap_mailbox *mbox_r, struct oim_err *err)
{
	free(c->selected);
	c->selected = NULL;
	memset(&c->mbox, 0, sizeof(c->mbox));
	struct imap_cmd *cmd = imap_cmd_new(c);
	imap_cmd_add_text(cmd, "%s ",
			  flags & IMAP_SELECT_EXAMINE ? "EXAMINE" : "SELECT");
	add_mailbox(cmd, mailbox);
	if (params)
		imap_cmd_add_text(cmd, " %s", params);
	else if ((flags & IMAP_SELECT_CONDSTORE) &&
		 imap_has_cap(c, "CONDSTORE") && !imap_condstore_enabled(c))
		imap_cmd_add_text(cmd, " (CONDSTORE)");
	if (imap_cmd_run(c, cmd, fetch_untagged, s, err))
		return -1;
	if (flags & IMAP_SELECT_EXAMINE)
		c->mbox.readonly = true;
	c->selected = xstrdup(mailbox);
	*mbox_r = c->mbox;
	return 0;
}

int imap_select(struct imap_client *c, const char *mailbox, unsigned flags,
		struct imap_mailbox *mbox_r, struct oim_err *err)
{
	struct select_ctx s = { NULL, NULL, NULL };
	return do_select(c, mailbox, flags, NULL, &s, mbox_r, err);
}

int imap_select_qresync(struct imap_client *c, const char *mailbox,
			unsigned flags, uint32_t uidvalidity, uint64_t modseq,
			const char *known_uids, imap_fetch_cb fetch_cb,
			imap_vanished_cb vanished_cb, void *ctx,
			struct imap_mailbox *mbox_r, struct oim_err *err)
{
	if (!imap_qresync_enabled(c))
		return imap_select(c, mailbox, flags | IMAP_SELECT_CONDSTORE,
				   mbox_r, err);
	struct select_ctx s = { fetch_cb, vanished_cb, ctx };
	char params[128];
	if (known_uids && *known_uids) {
		struct strbuf sb = STRBUF_INIT;
		strbuf_addf(&sb, "(QRESYNC (%u %llu %s))", uidvalidity,
			    (unsigned long long)modseq, known_uids);
		int rc = do_select(c, mailbox, flags, sb.buf, &s, mbox_r, err);
		strbuf_release(&sb);
		return rc;
	}
	snprintf(params, sizeof(params), "(QRESYNC (%u %llu))", uidvalidity,
		 (unsigned long long)modseq);
	return do_select(c, mailbox, flags, params, &s, mbox_r, err);
}

void imap_deselect(struct imap_client *c)
{
	free(c->selected);
	c->selected = NULL;
}

int imap_close(struct imap_client *c, bool expunge, struct oim_err *err)
{
	int rc;
	if (expunge)
		rc = imap_simple(c, "CLOSE", NULL, NULL, err);
	else if (imap_has_cap(c, "UNSELECT"))
		rc = imap_simple(c, "UNSELECT", NULL, NULL, err);
	else {
		/* RFC 3501 6.3.1: a failed SELECT deselects without
		 * expunging */
		struct oim_err e2 = OIM_ERR_INIT;
		rc = imap_simple(c, "EXAMINE \"oimap-nonexistent-mailbox\"",
				 NULL, NULL, &e2);
		if (rc && !c->broken)
			rc = 0;
		else if (rc)
			*err = e2;
	}
	free(c->selected);
	c->selected = NULL;
	return rc;
}

/* ---- FETCH / SEARCH / STORE ---- */

int imap_uid_fetch(struct imap_client *c, const char *set, const char *items,
		   uint64_t changedsince, imap_fetch_cb cb,
		   imap_vanished_cb vanished_cb, void *ctx,
		   struct oim_err *err)
{
	struct select_ctx s = { cb, vanished_cb, ctx };
	bool vanished = changedsince && vanished_cb && imap_qresync_enabled(c);
	struct imap_cmd *cmd = imap_cmd_new(c);
	imap_cmd_add_text(cmd, "UID FETCH %s %s", set, items);
	if (changedsince)
		imap_cmd_add_text(cmd, " (CHANGEDSINCE %llu%s)",
				  (unsigned long long)changedsince,
				  vanished ? " VANISHED" : "");
	return imap_cmd_run(c, cmd, fetch_untagged, &s, err);
}

struct search_ctx {
	struct imap_seqset *uids;
	const char *tag;
};

static int search_untagged(void *vctx, const struct imap_response *r,
			   struct oim_err *err)
{
	struct search_ctx *s = vctx;
	if (imap_response_is(r, "SEARCH")) {
		uint64_t modseq;
		return imap_search_decode(r, s->uids, &modseq, err);
	}
	if (imap_response_is(r, "ESEARCH")) {
		struct imap_esearch es;
		if (imap_esearch_decode(r, &es, err))
			return -1;
		if (es.has & IMAP_ESEARCH_ALL)
			for (size_t i = 0; i < es.all.nr; i++)
				imap_seqset_add(s->uids, es.all.r[i].lo,
						es.all.r[i].hi);
		imap_esearch_release(&es);
	}
	return 0;
}

int imap_uid_search(struct imap_client *c, const char *criteria,
		    struct imap_seqset *uids_r, struct oim_err *err)
{
	struct search_ctx s = { uids_r, NULL };
	struct imap_cmd *cmd = imap_cmd_new(c);
	if (imap_has_cap(c, "ESEARCH"))
		imap_cmd_add_text(cmd, "UID SEARCH RETURN (ALL) %s", criteria);
	else
		imap_cmd_add_text(cmd, "UID SEARCH %s", criteria);
	return imap_cmd_run(c, cmd, search_untagged, &s, err);
}

int imap_uid_store(struct imap_client *c, const char *set,
		   enum imap_store_op op, unsigned flags,
		   const char *const *keywords, size_t nkeywords,
		   uint64_t unchangedsince, struct imap_seqset *modified_r,
		   struct oim_err *err)
{
	struct strbuf fl = STRBUF_INIT;
	imap_flags_format(&fl, flags & ~IMAP_FLAG_RECENT);
	for (size_t i = 0; i < nkeywords; i++)
		strbuf_addf(&fl, "%s%s", fl.len ? " " : "", keywords[i]);
	struct imap_cmd *cmd = imap_cmd_new(c);
	imap_cmd_add_text(cmd, "UID STORE %s ", set);
	if (unchangedsince)
		imap_cmd_add_text(cmd, "(UNCHANGEDSINCE %llu) ",
				  (unsigned long long)unchangedsince);
	imap_cmd_add_text(cmd, "%sFLAGS.SILENT (%s)",
			  op == IMAP_STORE_ADD	    ? "+"
			  : op == IMAP_STORE_REMOVE ? "-"
						    : "",
			  fl.buf);
	strbuf_release(&fl);
	if (imap_cmd_submit(c, cmd, err)) {
		imap_cmd_free(cmd);
		return -1;
	}
	int rc = imap_cmd_wait(c, cmd, err);
	if (rc == 0 && modified_r && cmd->code.code == IMAP_CODE_MODIFIED)
		for (size_t i = 0; i < cmd->code.src.nr; i++)
			imap_seqset_add(modified_r, cmd->code.src.r[i].lo,
					cmd->code.src.r[i].hi);
	imap_cmd_free(cmd);
	return rc;
}

/* ---- APPEND ---- */

/* Size of the file from its current offset once LF became CRLF. */
static int crlf_size(int fd, uint64_t *size_r, struct oim_err *err)
{
	off_t start = lseek(fd, 0, SEEK_CUR);
	if (start < 0)
		return oim_error(err, OIM_SEV_MESSAGE, OIM_E_IO,
				 "cannot seek in the message to upload: %s",
				 strerror(errno));
	char buf[64 * 1024];
	uint64_t size = 0;
	bool prev_cr = false;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return oim_error(err, OIM_SEV_MESSAGE, OIM_E_IO,
					 "cannot read the message to upload: "
					 "%s",
					 strerror(errno));
		if (n == 0)
			break;
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == '\n' && !prev_cr)
				size++;
			prev_cr = buf[i] == '\r';
		}
		size += (uint64_t)n;
	}
	if (lseek(fd, start, SEEK_SET) < 0)
		return oim_error(err, OIM_SEV_MESSAGE, OIM_E_IO,
				 "cannot seek in the message to upload: %s",
				 strerror(errno));
	*size_r = size;
	return 0;
}

int imap_append_start(struct imap_client *c, const struct imap_append *a,
		      struct imap_cmd **cmd_r, struct oim_err *err)
{
	*cmd_r = NULL;
	uint64_t size;
	if (crlf_size(a->fd, &size, err))
		return -1;
	struct imap_cmd *cmd = imap_cmd_new(c);
	imap_cmd_add_text(cmd, "APPEND ");
	add_mailbox(cmd, a->mailbox);
	struct strbuf fl = STRBUF_INIT;
	imap_flags_format(&fl, a->flags & ~IMAP_FLAG_RECENT);
	for (size_t i = 0; i < a->nkeywords; i++)
		strbuf_addf(&fl, "%s%s", fl.len ? " " : "", a->keywords[i]);
	imap_cmd_add_text(cmd, " (%s)", fl.buf);
	strbuf_release(&fl);
	if (a->date) {
		struct strbuf d = STRBUF_INIT;
		imap_internaldate_format(&d, a->date, a->date_tz);
		imap_cmd_add_text(cmd, " \"%s\"", d.buf);
		strbuf_release(&d);
	}
	imap_cmd_add_text(cmd, " ");
	imap_cmd_add_literal_fd(cmd, a->fd, size);
	cmd->owned_by_caller = true;
	if (imap_cmd_submit(c, cmd, err)) {
		imap_cmd_free(cmd);
		return -1;
	}
	*cmd_r = cmd;
	return 0;
}

int imap_append_wait(struct imap_client *c, struct imap_cmd *cmd,
		     uint32_t *uid_r, uint32_t *uidvalidity_r,
		     struct oim_err *err)
{
	*uid_r = *uidvalidity_r = 0;
	int rc = imap_cmd_wait(c, cmd, err);
	if (rc == 0 && cmd->code.code == IMAP_CODE_APPENDUID &&
	    cmd->code.dst.nr == 1 &&
	    cmd->code.dst.r[0].lo == cmd->code.dst.r[0].hi) {
		*uidvalidity_r = cmd->code.num;
		*uid_r = cmd->code.dst.r[0].lo;
	}
	if (rc && err->kind == OIM_E_IMAP_NO && cmd->code.code ==
	    IMAP_CODE_TRYCREATE)
		oim_err_prefix(err, "mailbox does not exist");
	if (cmd->state == CMD_DONE || c->broken) {
		imap_cmd_free(cmd);
	} else {
		cmd->owned_by_caller = false;
	}
	return rc;
}

int imap_append(struct imap_client *c, const struct imap_append *a,
		uint32_t *uid_r, uint32_t *uidvalidity_r, struct oim_err *err)
{
	struct imap_cmd *cmd;
	*uid_r = *uidvalidity_r = 0;
	if (imap_append_start(c, a, &cmd, err))
		return -1;
	return imap_append_wait(c, cmd, uid_r, uidvalidity_r, err);
}

/* ---- EXPUNGE, CREATE, DELETE, SUBSCRIBE, MOVE ---- */

int imap_expunge(struct imap_client *c, const char *uid_set,
		 struct oim_err *err)
{
	struct imap_cmd *cmd = imap_cmd_new(c);
	if (uid_set && imap_has_cap(c, "UIDPLUS"))
		imap_cmd_add_text(cmd, "UID EXPUNGE %s", uid_set);
	else
		imap_cmd_add_text(cmd, "EXPUNGE");
	return imap_cmd_run(c, cmd, NULL, NULL, err);
}

static int mailbox_cmd(struct imap_client *c, const char *verb,
		       const char *mailbox, struct oim_err *err)
{
	struct imap_cmd *cmd = imap_cmd_new(c);
	imap_cmd_add_text(cmd, "%s ", verb);
	add_mailbox(cmd, mailbox);
	return imap_cmd_run(c, cmd, NULL, NULL, err);
}

int imap_create(struct imap_client *c, const char *mailbox,
		struct oim_err *err)
{
	return mailbox_cmd(c, "CREATE", mailbox, err);
}

int imap_delete(struct imap_client *c, const char *mailbox,
		struct oim_err *err)
{
	return mailbox_cmd(c, "DELETE", mailbox, err);
}

int imap_subscribe(struct imap_client *c, const char *mailbox,
		   struct oim_err *err)
{
	return mailbox_cmd(c, "SUBSCRIBE", mailbox, err);
}

int imap_uid_move(struct imap_client *c, const char *set, const char *mailbox,
		  struct oim_err *err)
{
	struct imap_cmd *cmd = imap_cmd_new(c);
	if (imap_has_cap(c, "MOVE")) {
		imap_cmd_add_text(cmd, "UID MOVE %s ", set);
		add_mailbox(cmd, mailbox);
		return imap_cmd_run(c, cmd, NULL, NULL, err);
	}
	imap_cmd_add_text(cmd, "UID COPY %s ", set);
	add_mailbox(cmd, mailbox);
	if (imap_cmd_run(c, cmd, NULL, NULL, err))
		return -1;
	if (imap_uid_store(c, set, IMAP_STORE_ADD, IMAP_FLAG_DELETED, NULL, 0,
			   0, NULL, err))
		return -1;
	/* without UIDPLUS a plain EXPUNGE would also remove other messages
	 * marked \Deleted: leave them for the user's next expunge then */
	if (!imap_has_cap(c, "UIDPLUS"))
		return 0;
	return imap_expunge(c, set, err);
}

/* ---- IDLE ---- */

static int idle_cont(void *ctx, const char *text, struct strbuf *reply,
		     bool *secret, struct oim_err *err)
{
	BUG("IDLE continuation routed to the callback");
}

int imap_idle(struct imap_client *c, unsigned timeout_s, int wake_fd,
	      bool *changed_r, struct oim_err *err)
{
	*changed_r = false;
	if (!imap_has_cap(c, "IDLE"))
		return oim_error(err, OIM_SEV_FOLDER, OIM_E_PROTOCOL,
				 "%s: the server does not support IDLE",
				 imap_client_peer(c));
	struct imap_cmd *cmd = imap_cmd_new(c);
	imap_cmd_add_text(cmd, "IDLE");
	cmd->idle = true;
	cmd->cont = idle_cont;
	if (imap_cmd_submit(c, cmd, err)) {
		imap_cmd_free(cmd);
		return -1;
	}
	cmd->owned_by_caller = true;
	c->idle_changed = false;
	/* wait for '+' */
	while (!cmd->idling && cmd->state != CMD_DONE)
		if (imap_client_step(c, err))
			goto out;
	/* idling: wait for data, the wake fd, or the timeout */
	time_t end = time(NULL) + (time_t)timeout_s;
	while (!c->idle_changed && cmd->state != CMD_DONE) {
		struct pollfd pfd[3];
		int n = c->roff < c->rlen
				? 0
				: net_conn_pollfds(c->conn, NET_WANT_READ, pfd);
		if (n > 0) {
			int nfds = n;
			if (wake_fd >= 0) {
				pfd[nfds].fd = wake_fd;
				pfd[nfds].events = POLLIN;
				pfd[nfds].revents = 0;
				nfds++;
			}
			time_t now = time(NULL);
			if (now >= end)
				break;
			long ms = (long)(end - now) * 1000;
			int pr = poll(pfd, (nfds_t)nfds, (int)ms);
			if (pr < 0 && errno != EINTR) {
				oim_error(err, OIM_SEV_ACCOUNT, OIM_E_CONN_LOST,
					  "poll: %s", strerror(errno));
				imap_client_fail(c, err);
				goto out;
			}
			if (pr <= 0)
				continue;
			if (wake_fd >= 0 && pfd[n].revents)
				break;
		}
		if (imap_client_read(c, err))
			goto out;
	}
	if (cmd->state == CMD_DONE) {
		int rc = imap_cmd_wait(c, cmd, err);
		imap_cmd_free(cmd);
		return rc ? -1
			  : oim_error(err, OIM_SEV_FOLDER, OIM_E_PROTOCOL,
				      "%s: the server ended IDLE on its own",
				      imap_client_peer(c));
	}
	/* DONE ends the IDLE; the tagged OK follows */
	log_debug(OIM_DBG_IMAP, "C: DONE");
	strbuf_addstr(&c->out, "DONE\r\n");
	cmd->idling = false;
	cmd->state = CMD_SENT;
	{
		int rc = imap_cmd_wait(c, cmd, err);
		imap_cmd_free(cmd);
		/* untagged EXISTS etc. between DONE and the OK count too: the
		 * server will not report them again */
		*changed_r = c->idle_changed;
		return rc;
	}
out:
	if (cmd->state == CMD_DONE || c->broken)
		imap_cmd_free(cmd);
	else
		cmd->owned_by_caller = false;
	return -1;
}
