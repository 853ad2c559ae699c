/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * net.h - oimap's connection layer: socket or tunnel, then optionally TLS,
 * then optionally COMPRESS=DEFLATE, behind one byte-stream interface.
 *
 * The layers are filters stacked on one struct net_conn (curl's connection
 * filters are the model):
 *
 *     caller  <->  [deflate]  <->  [TLS]  <->  socket | tunnel pipes
 *
 * Calling sequence (IMAP client):
 *
 *     net_connect(&c, &opts, err)            TCP, or
 *     net_tunnel_open(&c, cmd, timeout, err) preauthtunnel/transporttunnel
 *     net_conn_start_tls(c, tls, err)        ssl = yes: right after connect;
 *                                            STARTTLS: after the tagged OK
 *     ... read greeting / LOGIN / CAPABILITY ...
 *     net_conn_compress(c, err)              after OK to COMPRESS DEFLATE
 *     ... net_conn_send / net_conn_recv / net_conn_poll ...
 *     net_conn_free(c)
 *
 * STARTTLS and COMPRESS: the server sends nothing between its OK and the
 * start of the new layer, so the caller must have consumed exactly up to
 * the CRLF of that OK line and must treat any further byte it already
 * read as a protocol error (bytes after a STARTTLS OK are the classic
 * plaintext injection attack).
 *
 * I/O model.  Every fd is non-blocking.  Two families of calls:
 *
 *  - non-blocking: net_conn_recv(), net_conn_send(), net_conn_flush_nb()
 *    never wait; "*n_r == 0" means "would block": call net_conn_poll()
 *    with the matching NET_WANT_* and retry.  This is what a pipelining
 *    client uses to keep writing APPEND data while it reads responses:
 *
 *        for (;;) {
 *            want = NET_WANT_READ;
 *            if (more_to_send || net_conn_output_pending(c))
 *                want |= NET_WANT_WRITE;
 *            if (net_conn_poll(c, want, NET_POLL_SOCKTIMEOUT, &ready, err))
 *                return -1;                       (timeout / error)
 *            if (ready & NET_WANT_READ)  net_conn_recv(...) -> parser
 *            if (ready & NET_WANT_WRITE) net_conn_send(...) or flush_nb
 *        }
 *
 *    TLS may need the opposite direction (a read that must write during a
 *    renegotiation / key update, or the reverse); net_conn_poll() knows
 *    and polls for what each direction really needs, so the caller only
 *    ever says what IT wants.
 *
 *  - blocking with socktimeout: net_conn_read(), net_conn_write_all(),
 *    net_conn_flush().  They wait with poll(); no progress for socktimeout
 *    seconds is an OIM_E_TIMEOUT error.  socktimeout 0 waits forever.
 *
 * Writes may be buffered by the layers (at most NET_BUF_SIZE bytes per
 * layer); nothing is guaranteed to reach the kernel before net_conn_flush()
 * (or net_conn_flush_nb() reporting done).  With COMPRESS, each flush
 * ends the deflate block with Z_SYNC_FLUSH, so send a batch, then flush.
 *
 * End of stream is always an error here (OIM_E_CONN_LOST): an IMAP client
 * never expects the server to close first except after LOGOUT, when it
 * stops reading.
 *
 * Errors: OIM_E_NET (resolve, connect, refused -- names host:port),
 * OIM_E_TIMEOUT, OIM_E_CONN_LOST (reset, EOF, dead tunnel), OIM_E_TLS
 * (handshake, verification -- names the host, OpenSSL's reason, the
 * certificate subject and its SHA-256/SHA-512 fingerprints in the form
 * cert_fingerprint accepts), OIM_E_CONFIG (bad TLS options, unreadable CA
 * or client certificate files).  Severity is OIM_SEV_ACCOUNT throughout.
 *
 * Logging: connect and TLS events go to log_debug(OIM_DBG_NET, ...); data
 * is never logged here (the IMAP layer logs the protocol, redacted).
 *
 * Threads: a struct net_conn is used by one thread at a time.  A struct
 * net_tls is immutable after net_tls_new() and may be shared by any number
 * of connections in any threads (one per repository is the intent).
 * OpenSSL is initialised once, internally.  Writing to a dead tunnel does
 * not raise SIGPIPE in the process (it is blocked for the write only).
 */
#ifndef OIMAP_NET_H
#define OIMAP_NET_H

#include <stdbool.h>
#include <poll.h>
#include <stddef.h>

#include "../util/err.h"
#include "../util/util.h"

/* Default ports: the caller picks one when remoteport is unset. */
#define NET_PORT_IMAP  143
#define NET_PORT_IMAPS 993

/* Bytes buffered per layer and direction (deflate in/out, TLS out). */
#define NET_BUF_SIZE (16u * 1024)
/* Longest tunnel command, host name, fingerprint list we accept. */
#define NET_MAX_HOST	     1024
#define NET_MAX_TUNNEL_CMD   (64u * 1024)
#define NET_MAX_FINGERPRINTS 64
/* After closing a tunnel's pipes, wait this long for it to exit before
 * sending SIGTERM (then SIGKILL after the same again). */
#define NET_TUNNEL_REAP_MS 2000

/* OfflineIMAP's ipv6 option: unset = any family, yes = v6 only, no = v4. */
enum net_family {
	NET_FAMILY_ANY = 0,
	NET_FAMILY_V6,
	NET_FAMILY_V4,
};

struct net_connect_opts {
	const char *host; /* borrowed for the call; name or IP literal */
	unsigned port;	  /* 1..65535 */
	enum net_family family;
	unsigned timeout_s; /* socktimeout; 0 = wait forever */
};

struct net_conn;

/*
 * Resolve host and connect to each address in turn (socktimeout applies to
 * each attempt).  On success *conn_r is a new plaintext connection owned
 * by the caller.  Errors: OIM_E_NET (resolve failed, refused, unreachable;
 * the message names host:port), OIM_E_TIMEOUT.
 */
int net_connect(struct net_conn **conn_r, const struct net_connect_opts *opts,
		struct oim_err *err) OIM_WUR;

/*
 * Run cmd with /bin/sh -c, its stdin and stdout connected to the
 * connection; its stderr is ours.  For preauthtunnel and transporttunnel
 * alike (the difference is whether the caller logs in).  The child is
 * reaped by net_conn_free().  A tunnel that exits is OIM_E_CONN_LOST on the
 * next read or write, with its exit status when known.
 */
int net_tunnel_open(struct net_conn **conn_r, const char *cmd,
		    unsigned timeout_s, struct oim_err *err) OIM_WUR;

/*
 * Wrap existing fds (non-blocking mode is set here).  The connection owns
 * them and closes them (once if rfd == wfd).  'peer' names the other end
 * in messages (copied).  For tests and for callers that made their own
 * socket; host is what TLS verifies (NULL: no host name check possible,
 * net_conn_start_tls() then requires a pinned fingerprint).
 */
struct net_conn *net_conn_from_fds(int rfd, int wfd, const char *peer,
				   const char *host, unsigned timeout_s);

/* Close everything (TLS close_notify is not waited for), reap a tunnel.
 * NULL is fine. */
void net_conn_free(struct net_conn *conn);

/* "host:port" or "tunnel 'cmd'": for messages.  Borrowed, lives as long as
 * conn. */
const char *net_conn_peer(const struct net_conn *conn);
bool net_conn_is_tls(const struct net_conn *conn);
bool net_conn_is_compressed(const struct net_conn *conn);
/* Change socktimeout of an open connection (e.g. for IDLE callers). */
void net_conn_set_timeout(struct net_conn *conn, unsigned timeout_s);

/* ---- TLS ---- */

/* OfflineIMAP's repository options, as strings from the config. */
struct net_tls_opts {
	/* sslcacertfile: NULL/"" (unset) or "OS-DEFAULT" = the system
	 * store (OfflineIMAP refuses to run with neither a CA file nor a
	 * fingerprint; we default to the system store instead); else a PEM
	 * file or a hashed directory, already ~-expanded by the caller.
	 * With a cert_fingerprint and sslcacertfile unset, only the
	 * fingerprint is checked; with both set, both are. */
	const char *cafile;
	const char *fingerprints; /* cert_fingerprint, NULL or "" = none */
	const char *client_cert;  /* sslclientcert, PEM, may hold the key */
	const char *client_key;	  /* sslclientkey; NULL = in client_cert */
	const char *tls_level;	  /* NULL = "tls_compat" */
	const char *ssl_version;  /* NULL = negotiate */
};

struct net_tls;

/*
 * Check the options and load CA and client files into a context that any
 * number of connections share.  Errors: OIM_E_CONFIG naming the option.
 * OfflineIMAP's rule applies: tls_level other than tls_compat needs an
 * explicit ssl_version allowed at that level.
 */
int net_tls_new(struct net_tls **tls_r, const struct net_tls_opts *opts,
		struct oim_err *err) OIM_WUR;
void net_tls_free(struct net_tls *tls);

/*
 * Put TLS on top of conn and run the handshake (blocking, socktimeout per
 * wait).  tls is borrowed and must outlive conn.  The certificate is
 * accepted when:
 *   - a cert_fingerprint matches (and, if sslcacertfile was given
 *     explicitly, the chain and host name verify too: OfflineIMAP checks
 *     both), or
 *   - no fingerprint is configured and the chain verifies against the CA
 *     store and the host name (DNS SAN, or IP SAN for an IP literal)
 *     matches.
 * SNI is sent for host names.  Fails on an already-TLS or compressed conn.
 */
int net_conn_start_tls(struct net_conn *conn, const struct net_tls *tls,
		       struct oim_err *err) OIM_WUR;

/* ---- COMPRESS=DEFLATE (RFC 4978) ---- */

/* Put raw deflate (both directions) on top.  Call after the server's OK to
 * COMPRESS DEFLATE, with nothing of the OK line left unread and nothing
 * unflushed.  Fails if already compressed. */
int net_conn_compress(struct net_conn *conn, struct oim_err *err) OIM_WUR;

/* ---- I/O ---- */

enum net_want {
	NET_WANT_READ = 1 << 0,
	NET_WANT_WRITE = 1 << 1,
};

/* Timeout argument of net_conn_poll(): use socktimeout, and turn its
 * expiry into an OIM_E_TIMEOUT error. */
#define NET_POLL_SOCKTIMEOUT (-2)

/*
 * Non-blocking.  recv: 0 and *n_r > 0 bytes read into buf, or *n_r == 0:
 * nothing now (poll for NET_WANT_READ).  send: 0 and *n_r bytes taken
 * (maybe fewer than len; 0 = poll for NET_WANT_WRITE); taken bytes may
 * still sit in a layer's buffer until a flush.  -1 on error (EOF included).
 */
int net_conn_recv(struct net_conn *conn, void *buf, size_t len, size_t *n_r,
		  struct oim_err *err) OIM_WUR;
int net_conn_send(struct net_conn *conn, const void *buf, size_t len,
		  size_t *n_r, struct oim_err *err) OIM_WUR;
/* Push buffered output towards the kernel.  *done_r true when nothing is
 * left in any layer; else poll for NET_WANT_WRITE and call again. */
int net_conn_flush_nb(struct net_conn *conn, bool *done_r,
		      struct oim_err *err) OIM_WUR;
/* Some layer holds output not yet handed to the kernel. */
bool net_conn_output_pending(const struct net_conn *conn);
/* Decoded input is buffered in a layer: a recv will return data without
 * touching the fd (net_conn_poll() reports this as readable at once). */
bool net_conn_input_pending(const struct net_conn *conn);

/*
 * Wait until what 'want' asks for may make progress: *ready_r gets the
 * NET_WANT_* bits that are ready (hang-up and errors count as ready, so
 * the next recv/send reports them).  timeout_ms: >= 0 milliseconds or -1
 * forever, then *ready_r == 0 on expiry and the return is 0; or
 * NET_POLL_SOCKTIMEOUT, then expiry is an OIM_E_TIMEOUT error (never waits
 * forever unless socktimeout is 0).  EINTR restarts the wait.
 */
int net_conn_poll(struct net_conn *conn, unsigned want, int timeout_ms,
		  unsigned *ready_r, struct oim_err *err) OIM_WUR;

/*
 * For callers running their own poll() over several fds (IDLE plus a
 * wake-up pipe): fill up to 2 pollfds (fds[2]) for 'want' and return how many.
 * A return of 0 means input is already pending: do not poll, read.  After
 * poll(), call the non-blocking functions; they cope with spurious
 * wake-ups.
 */
int net_conn_pollfds(const struct net_conn *conn, unsigned want,
		     struct pollfd *fds);

/* Blocking with socktimeout: read at least one byte (*n_r > 0 on 0). */
int net_conn_read(struct net_conn *conn, void *buf, size_t len, size_t *n_r,
		  struct oim_err *err) OIM_WUR;
/* Blocking: hand all of buf to the layers and flush. */
int net_conn_write_all(struct net_conn *conn, const void *buf, size_t len,
		       struct oim_err *err) OIM_WUR;
/* Blocking: flush every layer down to the kernel. */
int net_conn_flush(struct net_conn *conn, struct oim_err *err) OIM_WUR;

/* ---- pure helpers (exposed for tests and the config layer) ---- */

/*
 * OfflineIMAP's ipv6 value: NULL/"" = any; a boolean word (yes/no/true/
 * false/on/off/1/0, any case) = v6 only / v4 only.  -1 on anything else.
 */
int net_family_parse(const char *value, enum net_family *family_r) OIM_WUR;

/*
 * tls_level x ssl_version -> OpenSSL protocol range (0 = library default
 * bound).  ssl_version NULL or "ssl23" negotiates; tls1, tls1_1, tls1_2
 * pin that exact version (as Python's PROTOCOL_TLSv1_x did for
 * OfflineIMAP); ssl3 is refused (OpenSSL 3 has no SSLv3).  tls_secure
 * allows tls1_1 and tls1_2, tls_no_ssl adds tls1, tls_compat adds ssl23
 * and unset; tls_level other than tls_compat requires ssl_version.
 */
int net_tls_version_range(const char *tls_level, const char *ssl_version,
			  int *min_r, int *max_r, struct oim_err *err) OIM_WUR;

#endif
