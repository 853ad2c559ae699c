/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * client.h - the IMAP client: connection set-up (greeting, STARTTLS,
 * authentication, COMPRESS, ENABLE), the commands the sync needs, and
 * pipelining.  It sits on net.h (bytes) and parser.h/resp.h (responses) and
 * knows nothing about syncing.
 *
 * Calling sequence:
 *
 *	struct imap_client *c;
 *	imap_client_open(&c, &opts, &err);   connect, TLS, greeting,
 *	                                     STARTTLS, login, COMPRESS
 *	imap_select(c, "INBOX", 0, &mbox, &err);
 *	imap_uid_fetch(c, "1:*", "(UID FLAGS RFC822.SIZE)", 0, cb, ctx, &err);
 *	...
 *	imap_logout(c);                      LOGOUT, close, free
 *
 * Simple commands block until their tagged response.  Pipelining: the
 * *_start() functions queue a command and return its handle at once; any
 * number may be in flight (at most IMAP_MAX_INFLIGHT; queuing one more
 * waits for the oldest); imap_wait() runs the connection until the given
 * command (and every command sent before it) completed.  Untagged responses
 * are routed to the callbacks of the command that asked for them (FETCH,
 * LIST, STATUS, SEARCH...): with several such commands in flight at once,
 * their callbacks see the union, which is why FETCH callbacks are told the
 * UID and decide by it.
 *
 * Message bodies: set a body sink (parser.h) with imap_client_set_body_sink()
 * before a FETCH of BODY.PEEK[]; bodies then stream to it as they arrive.
 * APPEND streams its message from a file descriptor, converting LF to CRLF,
 * so memory never grows with message size.
 *
 * Errors: every call returns 0 or -1 with err filled, kinds from err.h:
 * OIM_E_IMAP_NO / OIM_E_IMAP_BAD with the server's text (the connection is
 * still usable, severity FOLDER), OIM_E_IMAP_BYE, OIM_E_CONN_LOST,
 * OIM_E_TIMEOUT, OIM_E_TLS, OIM_E_NET, OIM_E_AUTH, OIM_E_PROTOCOL (severity
 * ACCOUNT: the connection is dead; every later call fails the same way).
 *
 * Debugging: with -d imap every line sent and received is logged (C: / S:);
 * LOGIN arguments, AUTHENTICATE payloads and tokens are logged as
 * <redacted>, as are message bodies (logged as their size only).
 *
 * Threads: one client is used by one thread at a time.
 */
#ifndef OIMAP_IMAP_CLIENT_H
#define OIMAP_IMAP_CLIENT_H

#include <time.h>

#include "../net/net.h"
#include "../util/err.h"
#include "../util/util.h"
#include "parser.h"
#include "resp.h"

/* Commands in flight on one connection. */
#define IMAP_MAX_INFLIGHT 64
/* LOGOUT is best effort: wait at most this long for the answer, whatever
 * socktimeout is. */
#define IMAP_LOGOUT_TIMEOUT_S 5
/* Bytes read from the connection per recv. */
#define IMAP_READ_CHUNK (64u * 1024)

struct imap_client_opts {
	/* Borrowed for the duration of imap_client_open() unless noted. */
	const char *name;     /* repository name, for messages */
	const char *host;     /* remotehost */
	unsigned port;	      /* 0: 993 with ssl, else 143 */
	bool ssl;	      /* implicit TLS */
	bool starttls;	      /* use STARTTLS when offered (default yes) */
	enum net_family family;
	unsigned timeout_s;	     /* socktimeout, 0 = none */
	const char *preauth_tunnel;  /* command; server says PREAUTH */
	const char *transport_tunnel; /* command; then log in */
	/* TLS context; borrowed for the life of the client.  Required for
	 * ssl and STARTTLS; NULL refuses STARTTLS (plaintext only). */
	const struct net_tls *tls;
	const char *user;
	const char *password;	  /* secret; not kept after open */
	const char *oauth2_token; /* XOAUTH2 access token; secret */
	/* OfflineIMAP's auth_mechanisms, comma separated, in order of
	 * preference; NULL = "GSSAPI, XOAUTH2, CRAM-MD5, PLAIN, LOGIN".
	 * LOGIN means the LOGIN command (or AUTHENTICATE LOGIN). */
	const char *auth_mechanisms;
	bool compress;	     /* COMPRESS=DEFLATE when offered */
	bool enable_qresync; /* ENABLE QRESYNC (implies CONDSTORE) if offered */
	bool enable_condstore;
	bool send_id;	     /* ID ("name" "oimap" ...) when offered */
};

struct imap_client;

int imap_client_open(struct imap_client **c_r,
		     const struct imap_client_opts *opts,
		     struct oim_err *err) OIM_WUR;
/* LOGOUT (best effort, not waited for long), close and free.  NULL ok. */
void imap_logout(struct imap_client *c);
/* Close and free without LOGOUT (after an error).  NULL ok. */
void imap_client_free(struct imap_client *c);

/* Capabilities (after login; refreshed as the server announces them). */
bool imap_has_cap(const struct imap_client *c, const char *cap);
/* Was CONDSTORE / QRESYNC enabled by ENABLE?  The ENABLE sent at login
 * is not waited for; these read its answer first when it is still in
 * flight (false when the connection dies meanwhile). */
bool imap_qresync_enabled(struct imap_client *c);
bool imap_condstore_enabled(struct imap_client *c);
/* The hierarchy separator of the personal namespace (from NAMESPACE or
 * LIST "" ""), '\0' when flat.  Asks the server on first use. */
int imap_separator(struct imap_client *c, char *sep_r, struct oim_err *err)
	OIM_WUR;
/* True once the connection is dead (after an ACCOUNT-severity error). */
bool imap_client_broken(const struct imap_client *c);
const char *imap_client_peer(const struct imap_client *c);

/* The body sink for FETCH BODY[] (see parser.h); NULL removes it. */
void imap_client_set_body_sink(struct imap_client *c,
			       const struct imap_body_sink *sink, void *ctx);

/* ---- commands ---- */

/* Mailbox names are passed as sent on the wire (modified UTF-7 already
 * applied by the caller, see utf7.h); they are quoted or sent as literals
 * as needed. */

int imap_noop(struct imap_client *c, struct oim_err *err) OIM_WUR;

/* LIST or LSUB: cb gets each entry (valid during the call). */
typedef int (*imap_list_cb)(void *ctx, const struct imap_list_entry *e,
			    struct oim_err *err);
int imap_list(struct imap_client *c, bool lsub, const char *reference,
	      const char *pattern, imap_list_cb cb, void *ctx,
	      struct oim_err *err) OIM_WUR;
/* LIST with RETURN (STATUS (...)) when LIST-STATUS is offered, else LIST
 * followed by one pipelined STATUS per selectable mailbox.  status_cb gets
 * each mailbox's status (may be NULL). */
typedef int (*imap_status_cb)(void *ctx, const struct imap_status_info *st,
			      struct oim_err *err);
int imap_list_status(struct imap_client *c, const char *reference,
		     const char *pattern, const char *items, imap_list_cb cb,
		     imap_status_cb status_cb, void *ctx,
		     struct oim_err *err) OIM_WUR;
/* STATUS of mailboxes[0..n), all in flight at once (one round trip);
 * status_cb gets each answer.  A mailbox answered with NO or BAD gets no
 * callback and is not an error (logged with -d imap); -1 only when the
 * connection failed or a callback did. */
int imap_status_many(struct imap_client *c, const char *const *mailboxes,
		     size_t n, const char *items, imap_status_cb status_cb,
		     void *ctx, struct oim_err *err) OIM_WUR;
/* STATUS mailbox (items), e.g. "(MESSAGES UIDNEXT UIDVALIDITY)". */
int imap_status(struct imap_client *c, const char *mailbox, const char *items,
		struct imap_status_info *st_r, struct oim_err *err) OIM_WUR;

/* What SELECT/EXAMINE tell about a mailbox. */
struct imap_mailbox {
	uint32_t exists;
	uint32_t uidvalidity;
	uint32_t uidnext; /* 0 when the server did not say */
	uint64_t highestmodseq;
	bool nomodseq;
	bool readonly;
	unsigned flags;		/* FLAGS */
	unsigned permanentflags;
	bool permanent_keywords; /* \* in PERMANENTFLAGS */
};

enum imap_select_flags {
	IMAP_SELECT_EXAMINE = 1 << 0,	/* read-only */
	IMAP_SELECT_CONDSTORE = 1 << 1, /* (CONDSTORE) */
};
/* QRESYNC: pass the known uidvalidity and modseq (and optionally known
 * UIDs); VANISHED (EARLIER) and FETCH responses go to the callbacks of
 * imap_select_qresync(). */
int imap_select(struct imap_client *c, const char *mailbox, unsigned flags,
		struct imap_mailbox *mbox_r, struct oim_err *err) OIM_WUR;

typedef int (*imap_fetch_cb)(void *ctx, const struct imap_fetch *f,
			     struct oim_err *err);
typedef int (*imap_vanished_cb)(void *ctx, const struct imap_seqset *uids,
				bool earlier, struct oim_err *err);
int imap_select_qresync(struct imap_client *c, const char *mailbox,
			unsigned flags, uint32_t uidvalidity, uint64_t modseq,
			const char *known_uids, imap_fetch_cb fetch_cb,
			imap_vanished_cb vanished_cb, void *ctx,
			struct imap_mailbox *mbox_r, struct oim_err *err) OIM_WUR;
/* The mailbox selected now, NULL if none. */
const char *imap_selected(const struct imap_client *c);

/*
 * UID FETCH set items [(CHANGEDSINCE modseq [VANISHED])].  set is a UID
 * set string ("1:*", "4,7:9"); items e.g. "(UID FLAGS RFC822.SIZE)".
 * changedsince 0 = none.  vanished_cb (QRESYNC, with changedsince) may be
 * NULL.
 */
int imap_uid_fetch(struct imap_client *c, const char *set, const char *items,
		   uint64_t changedsince, imap_fetch_cb cb,
		   imap_vanished_cb vanished_cb, void *ctx,
		   struct oim_err *err) OIM_WUR;

/* UID SEARCH criteria: matching UIDs appended to *uids_r (initialised by
 * the caller).  Uses ESEARCH (RETURN (ALL)) when offered. */
int imap_uid_search(struct imap_client *c, const char *criteria,
		    struct imap_seqset *uids_r, struct oim_err *err) OIM_WUR;

enum imap_store_op {
	IMAP_STORE_ADD,	   /* +FLAGS */
	IMAP_STORE_REMOVE, /* -FLAGS */
	IMAP_STORE_SET,	   /* FLAGS */
};
/* UID STORE set [+-]FLAGS.SILENT (flags) [(UNCHANGEDSINCE n)]; UIDs the
 * server refused because of UNCHANGEDSINCE go to *modified_r (may be
 * NULL). */
int imap_uid_store(struct imap_client *c, const char *set,
		   enum imap_store_op op, unsigned flags,
		   const char *const *keywords, size_t nkeywords,
		   uint64_t unchangedsince, struct imap_seqset *modified_r,
		   struct oim_err *err) OIM_WUR;

/*
 * APPEND mailbox (flags) "date" {size}: the message is read from fd (size
 * bytes as stored, LF line ends; sent with CRLF), streamed, never held in
 * memory.  With UIDPLUS, *uid_r and *uidvalidity_r get APPENDUID's values,
 * else 0.  date 0 = no internal date.  Uses LITERAL+ when offered.
 */
struct imap_append {
	const char *mailbox;
	unsigned flags;
	const char *const *keywords; /* atoms, e.g. "$Label1"; may be NULL */
	size_t nkeywords;
	time_t date;
	int date_tz; /* minutes east of UTC */
	int fd;	     /* read from its current offset to EOF */
};
int imap_append(struct imap_client *c, const struct imap_append *a,
		uint32_t *uid_r, uint32_t *uidvalidity_r,
		struct oim_err *err) OIM_WUR;

/* Pipelined APPEND: queue several, then wait for each.  The fd must stay
 * open until imap_append_wait() returns for it. */
struct imap_cmd;
int imap_append_start(struct imap_client *c, const struct imap_append *a,
		      struct imap_cmd **cmd_r, struct oim_err *err) OIM_WUR;
int imap_append_wait(struct imap_client *c, struct imap_cmd *cmd,
		     uint32_t *uid_r, uint32_t *uidvalidity_r,
		     struct oim_err *err) OIM_WUR;

/* UID EXPUNGE set when UIDPLUS is offered, else EXPUNGE. */
int imap_expunge(struct imap_client *c, const char *uid_set,
		 struct oim_err *err) OIM_WUR;
int imap_create(struct imap_client *c, const char *mailbox,
		struct oim_err *err) OIM_WUR;
int imap_delete(struct imap_client *c, const char *mailbox,
		struct oim_err *err) OIM_WUR;
int imap_subscribe(struct imap_client *c, const char *mailbox,
		   struct oim_err *err) OIM_WUR;
/* UID MOVE set mailbox (MOVE), else UID COPY + STORE \Deleted + expunge. */
int imap_uid_move(struct imap_client *c, const char *set, const char *mailbox,
		  struct oim_err *err) OIM_WUR;
/*
 * Forget the selected mailbox without a round trip: the next SELECT or
 * EXAMINE closes it on the server without expunging (RFC 3501 6.3.1), and
 * so does LOGOUT.  Saves one round trip per folder on a no-change resync.
 * Untagged data the server still sends for it is tracked and dropped.
 */
void imap_deselect(struct imap_client *c);
/* CLOSE the selected mailbox (expunging \Deleted) or UNSELECT. */
int imap_close(struct imap_client *c, bool expunge, struct oim_err *err)
	OIM_WUR;

/*
 * IDLE until the server reports a change (EXISTS, EXPUNGE, FETCH), the
 * timeout passes, or wake_fd (may be -1) becomes readable; then DONE.
 * *changed_r tells whether the server reported something.
 */
int imap_idle(struct imap_client *c, unsigned timeout_s, int wake_fd,
	      bool *changed_r, struct oim_err *err) OIM_WUR;

/* Send a raw command (for tests and rare commands): "NAMESPACE".  Untagged
 * responses go to cb (may be NULL). */
typedef int (*imap_untagged_cb)(void *ctx, const struct imap_response *r,
				struct oim_err *err);
int imap_simple(struct imap_client *c, const char *command,
		imap_untagged_cb cb, void *ctx, struct oim_err *err) OIM_WUR;

/* Quote a mailbox name or string for a command: "..." with escapes, or
 * NULL if it needs a literal (CR, LF, NUL or 8-bit). */
char *imap_quote(const char *s);

#endif
