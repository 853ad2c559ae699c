/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * client-int.h - internals of the IMAP client shared by client.c (the
 * connection engine), client-auth.c and client-cmd.c.  Nothing outside
 * src/imap/ includes this.
 */
#ifndef OIMAP_IMAP_CLIENT_INT_H
#define OIMAP_IMAP_CLIENT_INT_H

#include "../util/strbuf.h"
#include "client.h"

/* A command is a list of segments: text, or a literal (from memory or from
 * a file descriptor, the latter converted LF -> CRLF on the fly). */
enum seg_kind {
	SEG_TEXT,
	SEG_LIT_MEM,
	SEG_LIT_FD,
};

struct cmd_seg {
	enum seg_kind kind;
	struct strbuf data; /* TEXT and LIT_MEM */
	int fd;		    /* LIT_FD */
	uint64_t size;	    /* literal size as sent (CRLF) */
	bool secret;	    /* wipe after use, never log */
};

enum cmd_state {
	CMD_QUEUED = 0, /* not all bytes handed to the connection */
	CMD_SENT,	/* waiting for the tagged response */
	CMD_DONE,
};

/* Continuation handler (AUTHENTICATE): given the server's "+ text", fill
 * *reply (sent followed by CRLF; set *secret if it must not be logged).
 * Return 0, or -1 with err filled to abort (the client then sends "*"). */
typedef int (*cont_cb)(void *ctx, const char *text, struct strbuf *reply,
		       bool *secret, struct oim_err *err);

struct imap_cmd {
	char tag[16];
	enum cmd_state state;
	struct cmd_seg *segs;
	size_t nsegs, alloc_segs;
	size_t cur_seg;	    /* writer position */
	uint64_t cur_off;   /* bytes of cur_seg already produced */
	bool lit_announced; /* "{n}" of cur_seg sent, waiting for '+' */
	bool lit_go;	    /* '+' received for cur_seg */
	bool lf_pending_cr; /* LIT_FD: last byte read was CR */
	bool idle;	    /* IDLE: '+' means idling started */
	bool idling;

	struct strbuf logline; /* what -d imap shows (redacted) */

	imap_untagged_cb untagged;
	void *ctx;
	cont_cb cont;
	void *cont_ctx;

	/* result */
	enum imap_status status;
	struct imap_code_info code; /* decoded tagged response code */
	char *text;		    /* the tagged response's text */
	bool owned_by_caller;	    /* freed by the caller (pipelined) */
	/* while queued or in flight the command is on owner->cmds;
	 * imap_cmd_free() unlinks it, so a caller may free a command whose
	 * connection broke mid-flight */
	struct imap_client *owner;
	bool linked;
	struct imap_cmd *next; /* in c->cmds, oldest first */
};

struct imap_client {
	char *name; /* repository, for messages */
	char *host;
	struct net_conn *conn;
	struct imap_parser *parser;
	bool preauth;
	bool loopback;
	bool tunnel;

	/* capabilities */
	char **caps;
	size_t ncaps, alloc_caps;
	unsigned caps_gen; /* bumped on every change */
	bool qresync, condstore;
	/* the ENABLE in flight (NULL: none; compared, never dereferenced),
	 * which the getters of qresync/condstore wait for */
	const struct imap_cmd *enable_cmd;
	char sep;
	bool sep_known;

	/* commands in flight, oldest first; the writer works on the first
	 * command still CMD_QUEUED */
	struct imap_cmd *cmds;
	size_t ninflight;
	unsigned next_tag;
	struct strbuf out; /* bytes produced, not yet taken by the conn */
	size_t out_off;


	/* selected mailbox */
	char *selected;
	struct imap_mailbox mbox;
	bool idle_changed;

	/* read buffer */
	char *rbuf;
	size_t rlen, roff;

	/* a dead connection keeps its error */
	bool logging_out; /* BYE is the expected answer now */
	bool broken;
	struct oim_err dead;
};

/* Build a command: imap_cmd_new() then add segments. */
struct imap_cmd *imap_cmd_new(struct imap_client *c);
void imap_cmd_add_text(struct imap_cmd *cmd, const char *fmt, ...)
	OIM_PRINTF(2, 3);
/* A string argument: quoted, or a literal when it must be.  secret: never
 * logged, wiped. */
void imap_cmd_add_string(struct imap_cmd *cmd, const char *s, bool secret);
/* Text sent as is but logged as <redacted> and wiped after use. */
void imap_cmd_add_secret_text(struct imap_cmd *cmd, const char *text);
void imap_cmd_add_literal_fd(struct imap_cmd *cmd, int fd, uint64_t size);
void imap_cmd_free(struct imap_cmd *cmd);

/* Queue cmd (it gets its tag now) and return at once. */
int imap_cmd_submit(struct imap_client *c, struct imap_cmd *cmd,
		    struct oim_err *err) OIM_WUR;
/* Run the connection until cmd is done.  Returns 0 for OK, -1 for NO/BAD
 * (severity FOLDER, kind IMAP_NO/IMAP_BAD, server text) or a dead
 * connection.  cmd stays allocated (caller frees). */
int imap_cmd_wait(struct imap_client *c, struct imap_cmd *cmd,
		  struct oim_err *err) OIM_WUR;
/* submit + wait + free; untagged responses go to cb. */
int imap_cmd_run(struct imap_client *c, struct imap_cmd *cmd,
		 imap_untagged_cb cb, void *ctx, struct oim_err *err) OIM_WUR;

/* Mark the connection dead with err (kept and returned from then on). */
int imap_client_fail(struct imap_client *c, struct oim_err *err);
/* Run the connection once (read/write what is possible, waiting up to
 * socktimeout for progress). */
int imap_client_step(struct imap_client *c, struct oim_err *err) OIM_WUR;

/* Read what the connection has (without waiting) and dispatch complete
 * responses; stops after a tagged one. */
int imap_client_read(struct imap_client *c, struct oim_err *err) OIM_WUR;

/* The capability list handling. */
void imap_client_set_caps(struct imap_client *c, const char *const *atoms,
			  size_t n);
int imap_client_capability(struct imap_client *c, struct oim_err *err) OIM_WUR;

/* Authentication (client-auth.c). */
int imap_client_authenticate(struct imap_client *c,
			     const struct imap_client_opts *opts,
			     struct oim_err *err) OIM_WUR;

#endif
