/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * net.c - the connection object, the fd layer at the bottom of every
 * chain, TCP connect, tunnels, poll and the blocking helpers.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../util/log.h"
#include "net-int.h"

extern char **environ;

/* ---- the fd layer ---- */

struct fd_filter {
	struct net_filter base;
	bool is_socket; /* send(MSG_NOSIGNAL) instead of write() */
};

static int lost_error(struct net_conn *conn, const char *verb, int e,
		      struct oim_err *err)
{
	if (conn->child > 0 && e == EPIPE)
		return net_conn_eof_error(conn, err);
	return oim_error(err, OIM_SEV_ACCOUNT, OIM_E_CONN_LOST,
			 "connection to %s lost while %s: %s", conn->peer, verb,
			 strerror(e));
}

static ssize_t fd_recv(struct net_filter *f, void *buf, size_t len,
		       struct oim_err *err)
{
	struct net_conn *conn = f->conn;

	for (;;) {
		ssize_t n = read(conn->rfd, buf, len);
		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			conn->rd_need = NET_IO_IN;
			return NET_AGAIN;
		}
		return lost_error(conn, "reading", errno, err);
	}
}

/*
 * write() to a pipe whose reader died raises SIGPIPE, which would kill the
 * whole process.  We must not change the process-wide disposition from a
 * library, so block SIGPIPE in this thread for the write and swallow the
 * one it generated (the technique of "SIGPIPE and how to ignore it" used
 * by several libraries): sigtimedwait with a zero timeout, only if it was
 * not already pending before we started.
 */
static ssize_t write_nosigpipe(int fd, const void *buf, size_t len)
{
	sigset_t pipe_set, old, pending;
	bool was_pending;
	ssize_t n;
	int e;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigpending(&pending);
	was_pending = sigismember(&pending, SIGPIPE) == 1;
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	n = write(fd, buf, len);
	e = errno;
	if (n < 0 && e == EPIPE && !was_pending) {
		struct timespec zero = {0, 0};
		while (sigtimedwait(&pipe_set, NULL, &zero) < 0 &&
		       errno == EINTR)
			;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = e;
	return n;
}

static ssize_t fd_send(struct net_filter *f, const void *buf, size_t len,
		       struct oim_err *err)
{
	struct fd_filter *ff = (struct fd_filter *)f;
	struct net_conn *conn = f->conn;

	for (;;) {
		ssize_t n;
		if (ff->is_socket)
			n = send(conn->wfd, buf, len, MSG_NOSIGNAL);
		else
			n = write_nosigpipe(conn->wfd, buf, len);
		if (n > 0)
			return n;
		if (n == 0)
			return NET_AGAIN; /* cannot happen for len > 0 */
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			conn->wr_need = NET_IO_OUT;
			return NET_AGAIN;
		}
		return lost_error(conn, "writing", errno, err);
	}
}

static int fd_flush(struct net_filter *f, struct oim_err *err)
{
	return 0;
}

static bool fd_pending(const struct net_filter *f)
{
	return false;
}

static void fd_destroy(struct net_filter *f)
{
	free(f);
}

static const struct net_filter_ops fd_ops = {
    .name = "fd",
    .recv = fd_recv,
    .send = fd_send,
    .flush = fd_flush,
    .input_pending = fd_pending,
    .output_pending = fd_pending,
    .destroy = fd_destroy,
};

/* ---- the connection ---- */

static int timeout_ms_of(unsigned timeout_s)
{
	if (timeout_s == 0)
		return -1;
	if (timeout_s > INT32_MAX / 1000)
		return INT32_MAX;
	return (int)(timeout_s * 1000);
}

static void set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0 && !(fl & O_NONBLOCK))
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

struct net_conn *net_conn_from_fds(int rfd, int wfd, const char *peer,
				   const char *host, unsigned timeout_s)
{
	struct net_conn *conn = xcalloc(1, sizeof(*conn));
	struct fd_filter *ff = xcalloc(1, sizeof(*ff));
	struct stat st;

	set_nonblock(rfd);
	if (wfd != rfd)
		set_nonblock(wfd);
	conn->rfd = rfd;
	conn->wfd = wfd;
	conn->timeout_ms = timeout_ms_of(timeout_s);
	conn->peer = xstrdup(peer ? peer : "(unnamed)");
	conn->host = host ? xstrdup(host) : NULL;
	conn->child = -1;
	conn->rd_need = NET_IO_IN;
	conn->wr_need = NET_IO_OUT;
	ff->is_socket = fstat(wfd, &st) == 0 && S_ISSOCK(st.st_mode);
	ff->base.ops = &fd_ops;
	net_conn_push(conn, &ff->base);
	return conn;
}

void net_conn_push(struct net_conn *conn, struct net_filter *f)
{
	f->lower = conn->top;
	f->conn = conn;
	conn->top = f;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* waitpid() for up to 'ms' milliseconds; true if reaped. */
static bool reap_within(pid_t pid, long ms, int *status_r)
{
	for (long waited = 0;; waited += 10) {
		pid_t r = waitpid(pid, status_r, WNOHANG);
		if (r == pid || (r < 0 && errno != EINTR))
			return true;
		if (waited >= ms)
			return false;
		sleep_ms(10);
	}
}

static void reap_child(struct net_conn *conn)
{
	int status;

	if (conn->child <= 0)
		return;
	/* The pipes are closed: a well-behaved tunnel (ssh, imapd) exits on
	 * EOF.  One that does not is asked, then told. */
	if (!reap_within(conn->child, NET_TUNNEL_REAP_MS, &status)) {
		log_debug(OIM_DBG_NET, "%s: still running, sending SIGTERM",
			  conn->peer);
		kill(conn->child, SIGTERM);
		if (!reap_within(conn->child, NET_TUNNEL_REAP_MS, &status)) {
			kill(conn->child, SIGKILL);
			while (waitpid(conn->child, &status, 0) < 0 &&
			       errno == EINTR)
				;
		}
	}
	conn->child = -1;
}

void net_conn_free(struct net_conn *conn)
{
	struct net_filter *f, *next;

	if (!conn)
		return;
	for (f = conn->top; f; f = next) {
		next = f->lower;
		f->ops->destroy(f);
	}
	if (conn->rfd >= 0)
		close(conn->rfd);
	if (conn->wfd >= 0 && conn->wfd != conn->rfd)
		close(conn->wfd);
	reap_child(conn);
	free(conn->peer);
	free(conn->host);
	free(conn);
}

const char *net_conn_peer(const struct net_conn *conn)
{
	return conn->peer;
}

bool net_conn_is_tls(const struct net_conn *conn)
{
	return conn->tls;
}

bool net_conn_is_compressed(const struct net_conn *conn)
{
	return conn->compressed;
}

void net_conn_set_timeout(struct net_conn *conn, unsigned timeout_s)
{
	conn->timeout_ms = timeout_ms_of(timeout_s);
}

int net_conn_eof_error(struct net_conn *conn, struct oim_err *err)
{
	int status;

	if (conn->child > 0) {
		/* The tunnel closed its stdout or stdin: it is most likely
		 * exiting; give it a moment so the status can be shown. */
		if (reap_within(conn->child, 200, &status)) {
			conn->child = -1;
			if (WIFEXITED(status))
				return oim_error(
				    err, OIM_SEV_ACCOUNT, OIM_E_CONN_LOST,
				    "%s exited with status %d", conn->peer,
				    WEXITSTATUS(status));
			if (WIFSIGNALED(status))
				return oim_error(err, OIM_SEV_ACCOUNT,
						 OIM_E_CONN_LOST,
						 "%s killed by signal %d",
						 conn->peer, WTERMSIG(status));
		}
		return oim_error(err, OIM_SEV_ACCOUNT, OIM_E_CONN_LOST,
				 "%s closed the connection", conn->peer);
	}
	return oim_error(err, OIM_SEV_ACCOUNT, OIM_E_CONN_LOST,
			 "connection closed by %s", conn->peer);
}

/* ---- I/O ---- */

bool net_conn_output_pending(const struct net_conn *conn)
{
	for (const struct net_filter *f = conn->top; f; f = f->lower)
		if (f->ops->output_pending(f))
			return true;
	return false;
}

bool net_conn_input_pending(const struct net_conn *conn)
{
	for (const struct net_filter *f = conn->top; f; f = f->lower)
		if (f->ops->input_pending(f))
			return true;
	return false;
}

int net_conn_recv(struct net_conn *conn, void *buf, size_t len, size_t *n_r,
		  struct oim_err *err)
{
	ssize_t n;

	*n_r = 0;
	if (len == 0)
		return 0;
	n = conn->top->ops->recv(conn->top, buf, len, err);
	if (n == NET_AGAIN)
		return 0;
	if (n < 0)
		return -1;
	if (n == 0)
		return net_conn_eof_error(conn, err);
	*n_r = (size_t)n;
	return 0;
}

int net_conn_send(struct net_conn *conn, const void *buf, size_t len,
		  size_t *n_r, struct oim_err *err)
{
	ssize_t n;

	*n_r = 0;
	if (len == 0)
		return 0;
	n = conn->top->ops->send(conn->top, buf, len, err);
	if (n == NET_AGAIN)
		return 0;
	if (n < 0)
		return -1;
	*n_r = (size_t)n;
	return 0;
}

int net_conn_flush_nb(struct net_conn *conn, bool *done_r, struct oim_err *err)
{
	int r = conn->top->ops->flush(conn->top, err);

	*done_r = r == 0;
	return r == NET_AGAIN ? 0 : r;
}

/* Add (fd, events) to fds, merging with an entry for the same fd. */
static int add_pollfd(struct pollfd fds[2], int n, int fd, short events)
{
	for (int i = 0; i < n; i++) {
		if (fds[i].fd == fd) {
			fds[i].events |= events;
			return n;
		}
	}
	fds[n].fd = fd;
	fds[n].events = events;
	fds[n].revents = 0;
	return n + 1;
}

static int add_need(const struct net_conn *conn, struct pollfd fds[2], int n,
		    unsigned need)
{
	if (need == NET_IO_OUT)
		return add_pollfd(fds, n, conn->wfd, POLLOUT);
	return add_pollfd(fds, n, conn->rfd, POLLIN);
}

int net_conn_pollfds(const struct net_conn *conn, unsigned want,
		     struct pollfd *fds)
{
	int n = 0;

	if ((want & NET_WANT_READ) && net_conn_input_pending(conn))
		return 0;
	if (want & NET_WANT_READ)
		n = add_need(conn, fds, n, conn->rd_need);
	if (want & NET_WANT_WRITE)
		n = add_need(conn, fds, n, conn->wr_need);
	return n;
}

/* Did poll() report progress for the direction whose fd need is 'need'? */
static bool need_ready(const struct net_conn *conn, const struct pollfd *fds,
		       int n, unsigned need)
{
	int fd = need == NET_IO_OUT ? conn->wfd : conn->rfd;
	short ev = need == NET_IO_OUT ? POLLOUT : POLLIN;

	for (int i = 0; i < n; i++)
		if (fds[i].fd == fd &&
		    (fds[i].revents & (ev | POLLHUP | POLLERR | POLLNVAL)))
			return true;
	return false;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int poll_conn(struct net_conn *conn, unsigned want, int timeout_ms,
		     unsigned *ready_r, const char *what, struct oim_err *err)
{
	struct pollfd fds[2];
	bool sock_timeout = timeout_ms == NET_POLL_SOCKTIMEOUT;
	int64_t deadline;
	int n;

	*ready_r = 0;
	if (sock_timeout)
		timeout_ms = conn->timeout_ms;
	n = net_conn_pollfds(conn, want, fds);
	if (n == 0 && want) {
		/* decoded input waits in a layer */
		*ready_r = NET_WANT_READ;
		if (!(want & NET_WANT_WRITE))
			return 0;
		n = add_need(conn, fds, 0, conn->wr_need);
		timeout_ms = 0;
	}
	if (n == 0)
		return 0;
	deadline = timeout_ms >= 0 ? now_ms() + timeout_ms : 0;
	for (;;) {
		int wait_ms = timeout_ms;
		int r;

		if (timeout_ms > 0) {
			int64_t left = deadline - now_ms();
			wait_ms = left > 0 ? (int)left : 0;
		}
		r = poll(fds, (nfds_t)n, wait_ms);
		if (r > 0)
			break;
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return oim_error(err, OIM_SEV_ACCOUNT, OIM_E_CONN_LOST,
					 "poll on connection to %s: %s",
					 conn->peer, strerror(errno));
		if (*ready_r)
			return 0; /* input was pending anyway */
		if (sock_timeout)
			return oim_error(err, OIM_SEV_ACCOUNT, OIM_E_TIMEOUT,
					 "%s: no progress %s for %d seconds "
					 "(socktimeout)",
					 conn->peer, what,
					 conn->timeout_ms / 1000);
		return 0;
	}
	if ((want & NET_WANT_READ) && need_ready(conn, fds, n, conn->rd_need))
		*ready_r |= NET_WANT_READ;
	if ((want & NET_WANT_WRITE) && need_ready(conn, fds, n, conn->wr_need))
		*ready_r |= NET_WANT_WRITE;
	return 0;
}

int net_conn_poll(struct net_conn *conn, unsigned want, int timeout_ms,
		  unsigned *ready_r, struct oim_err *err)
{
	const char *what =
	    (want & NET_WANT_WRITE) ? "reading or writing" : "reading";
	if (!(want & NET_WANT_READ))
		what = "writing";
	return poll_conn(conn, want, timeout_ms, ready_r, what, err);
}

int net_conn_wait(struct net_conn *conn, unsigned want, const char *what,
		  struct oim_err *err)
{
	unsigned ready;
	return poll_conn(conn, want, NET_POLL_SOCKTIMEOUT, &ready, what, err);
}

int net_conn_read(struct net_conn *conn, void *buf, size_t len, size_t *n_r,
		  struct oim_err *err)
{
	for (;;) {
		if (net_conn_recv(conn, buf, len, n_r, err) < 0)
			return -1;
		if (*n_r > 0 || len == 0)
			return 0;
		if (net_conn_wait(conn, NET_WANT_READ, "reading", err) < 0)
			return -1;
	}
}

int net_conn_flush(struct net_conn *conn, struct oim_err *err)
{
	for (;;) {
		bool done;
		if (net_conn_flush_nb(conn, &done, err) < 0)
			return -1;
		if (done)
			return 0;
		if (net_conn_wait(conn, NET_WANT_WRITE, "writing", err) < 0)
			return -1;
	}
}

int net_conn_write_all(struct net_conn *conn, const void *buf, size_t len,
		       struct oim_err *err)
{
	const char *p = buf;

	while (len > 0) {
		size_t n;
		if (net_conn_send(conn, p, len, &n, err) < 0)
			return -1;
		if (n == 0 &&
		    net_conn_wait(conn, NET_WANT_WRITE, "writing", err) < 0)
			return -1;
		p += n;
		len -= n;
	}
	return net_conn_flush(conn, err);
}

/* ---- TCP ---- */

int net_family_parse(const char *value, enum net_family *family_r)
{
	static const char *const yes[] = {"1", "yes", "true", "on"};
	static const char *const no[] = {"0", "no", "false", "off"};

	if (!value || !*value) {
		*family_r = NET_FAMILY_ANY;
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (!oim_strcasecmp(value, yes[i])) {
			*family_r = NET_FAMILY_V6;
			return 0;
		}
		if (!oim_strcasecmp(value, no[i])) {
			*family_r = NET_FAMILY_V4;
			return 0;
		}
	}
	return -1;
}

static void numeric_addr(const struct addrinfo *ai, char *buf, size_t len)
{
	if (getnameinfo(ai->ai_addr, ai->ai_addrlen, buf, (socklen_t)len, NULL,
			0, NI_NUMERICHOST))
		snprintf(buf, len, "?");
}

/* One non-blocking connect with timeout; fd or -1 with *errno_r. */
static int connect_one(const struct addrinfo *ai, int timeout_ms, int *errno_r)
{
	int fd = socket(ai->ai_family,
			ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			ai->ai_protocol);
	struct pollfd pfd;
	int soerr = 0;
	socklen_t sl = sizeof(soerr);
	int64_t deadline;

	if (fd < 0) {
		*errno_r = errno;
		return -1;
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return fd;
	if (errno != EINPROGRESS && errno != EINTR) {
		*errno_r = errno;
		close(fd);
		return -1;
	}
	pfd.fd = fd;
	pfd.events = POLLOUT;
	deadline = timeout_ms >= 0 ? now_ms() + timeout_ms : 0;
	for (;;) {
		int wait_ms = timeout_ms;
		int r;
		if (timeout_ms > 0) {
			int64_t left = deadline - now_ms();
			wait_ms = left > 0 ? (int)left : 0;
		}
		r = poll(&pfd, 1, wait_ms);
		if (r > 0)
			break;
		if (r < 0 && errno == EINTR)
			continue;
		*errno_r = r == 0 ? ETIMEDOUT : errno;
		close(fd);
		return -1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
		soerr = errno;
	if (soerr) {
		*errno_r = soerr;
		close(fd);
		return -1;
	}
	return fd;
}

static char *peer_name(const char *host, unsigned port)
{
	if (strchr(host, ':'))
		return xasprintf("[%s]:%u", host, port);
	return xasprintf("%s:%u", host, port);
}

int net_connect(struct net_conn **conn_r, const struct net_connect_opts *opts,
		struct oim_err *err)
{
	struct addrinfo hints, *res = NULL, *ai;
	char service[16], addr[NI_MAXHOST] = "";
	char *peer;
	int r, fd = -1, last_errno = 0, tried = 0;
	int timeout_ms = timeout_ms_of(opts->timeout_s);
	const int one = 1;

	*conn_r = NULL;
	if (!opts->host || !*opts->host ||
	    strnlen(opts->host, NET_MAX_HOST + 1) > NET_MAX_HOST)
		return oim_error(err, OIM_SEV_ACCOUNT, OIM_E_CONFIG,
				 "remote host name missing or too long");
	if (opts->port == 0 || opts->port > 65535)
		return oim_error(err, OIM_SEV_ACCOUNT, OIM_E_CONFIG,
				 "port %u of host '%s' out of range",
				 opts->port, opts->host);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = opts->family == NET_FAMILY_V6	  ? AF_INET6
			  : opts->family == NET_FAMILY_V4 ? AF_INET
							  : AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(service, sizeof(service), "%u", opts->port);
	peer = peer_name(opts->host, opts->port);

	log_debug(OIM_DBG_NET, "resolving %s", peer);
	r = getaddrinfo(opts->host, service, &hints, &res);
	if (r) {
		oim_error(err, OIM_SEV_ACCOUNT, OIM_E_NET,
			  "cannot resolve host name '%s'%s: %s", opts->host,
			  opts->family == NET_FAMILY_V6	  ? " (ipv6 = yes)"
			  : opts->family == NET_FAMILY_V4 ? " (ipv6 = no)"
							  : "",
			  r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r));
		free(peer);
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		numeric_addr(ai, addr, sizeof(addr));
		log_debug(OIM_DBG_NET, "connecting to %s (%s)", peer, addr);
		tried++;
		fd = connect_one(ai, timeout_ms, &last_errno);
		if (fd >= 0)
			break;
		log_debug(OIM_DBG_NET, "connect to %s (%s): %s", peer, addr,
			  strerror(last_errno));
	}
	freeaddrinfo(res);
	if (fd < 0) {
		enum oim_err_kind kind =
		    last_errno == ETIMEDOUT ? OIM_E_TIMEOUT : OIM_E_NET;
		if (last_errno == ECONNREFUSED)
			oim_error(err, OIM_SEV_ACCOUNT, kind,
				  "connection to %s refused (%s%s)", peer,
				  tried > 1 ? "last address tried: " : "",
				  addr);
		else if (last_errno == ETIMEDOUT)
			oim_error(err, OIM_SEV_ACCOUNT, kind,
				  "cannot connect to %s (%s): no answer within "
				  "%u seconds (socktimeout)",
				  peer, addr, opts->timeout_s);
		else
			oim_error(err, OIM_SEV_ACCOUNT, kind,
				  "cannot connect to %s (%s): %s", peer, addr,
				  strerror(last_errno));
		free(peer);
		return -1;
	}
	/* We batch our own writes and flush at command boundaries, so
	 * Nagle only adds latency to pipelined commands.  Keep-alive as
	 * imaplib2 does, so a silent NAT drop is noticed in IDLE. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	log_debug(OIM_DBG_NET, "connected to %s (%s)", peer, addr);
	*conn_r = net_conn_from_fds(fd, fd, peer, opts->host, opts->timeout_s);
	free(peer);
	return 0;
}

/* ---- tunnels ---- */

int net_tunnel_open(struct net_conn **conn_r, const char *cmd,
		    unsigned timeout_s, struct oim_err *err)
{
	int to_child[2], from_child[2];
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t empty, dfl;
	char *argv[4];
	char *peer;
	pid_t pid;
	int r;

	*conn_r = NULL;
	if (!cmd || !*cmd ||
	    strnlen(cmd, NET_MAX_TUNNEL_CMD + 1) > NET_MAX_TUNNEL_CMD)
		return oim_error(err, OIM_SEV_ACCOUNT, OIM_E_CONFIG,
				 "tunnel command empty or too long");
	if (pipe2(to_child, O_CLOEXEC) < 0)
		return oim_error(err, OIM_SEV_ACCOUNT, OIM_E_NET,
				 "cannot create pipe for tunnel: %s",
				 strerror(errno));
	if (pipe2(from_child, O_CLOEXEC) < 0) {
		int e = errno;
		close(to_child[0]);
		close(to_child[1]);
		return oim_error(err, OIM_SEV_ACCOUNT, OIM_E_NET,
				 "cannot create pipe for tunnel: %s",
				 strerror(e));
	}

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, to_child[0], 0);
	posix_spawn_file_actions_adddup2(&fa, from_child[1], 1);
#ifdef OIMAP_HAVE_CLOSEFROM_NP
	/* As OfflineIMAP's Popen(close_fds=True): the tunnel sees only
	 * stdin, stdout and stderr, whatever another module left open. */
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
#endif
	/* The child starts with default signal handling and no blocked
	 * signals, whatever this thread had. */
	posix_spawnattr_init(&attr);
	sigemptyset(&empty);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	sigaddset(&dfl, SIGCHLD);
	posix_spawnattr_setsigmask(&attr, &empty);
	posix_spawnattr_setsigdefault(&attr, &dfl);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK |
					    POSIX_SPAWN_SETSIGDEF);

	argv[0] = (char *)"sh";
	argv[1] = (char *)"-c";
	argv[2] = (char *)cmd;
	argv[3] = NULL;
	r = posix_spawn(&pid, "/bin/sh", &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(to_child[0]);
	close(from_child[1]);
	if (r != 0) {
		close(to_child[1]);
		close(from_child[0]);
		return oim_error(err, OIM_SEV_ACCOUNT, OIM_E_NET,
				 "cannot run tunnel '%s': %s", cmd,
				 strerror(r));
	}
	peer = xasprintf("tunnel '%s'", cmd);
	log_debug(OIM_DBG_NET, "started %s, pid %ld", peer, (long)pid);
	*conn_r = net_conn_from_fds(from_child[0], to_child[1], peer, NULL,
				    timeout_s);
	(*conn_r)->child = pid;
	free(peer);
	return 0;
}
