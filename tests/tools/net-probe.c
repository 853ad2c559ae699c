/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * net-probe - drive the net module from the command line for the
 * integration tests (tests/integration/test_net.py).
 *
 *   net-probe [--host H] [--port P] [--ipv6 yes|no] [--timeout S]
 *             [--tunnel CMD] [--ssl | --starttls]
 *             [--cafile F] [--fingerprint LIST] [--tls-level L]
 *             [--ssl-version V] [--client-cert F] [--client-key F]
 *             [--login USER PASS] [--compress] [--append-size N]
 *             [--command 'IMAP COMMAND']... [--wait-read]
 *
 * Prints the greeting and every response line to stdout.  Exit codes:
 * 0 ok, 2 usage, 3 unexpected server response, and for a net error
 * 10 + the kind: 10 OIM_E_NET, 11 OIM_E_CONN_LOST, 12 OIM_E_TIMEOUT,
 * 13 OIM_E_TLS, 14 OIM_E_CONFIG, 15 anything else; the message goes to
 * stderr as "error: <kind>: <message>".
 *
 * The IMAP here is the minimum a test needs (it is not the client):
 * lines are read one byte at a time so nothing after a STARTTLS or
 * COMPRESS OK is ever consumed early.
 */
#include <poll.h>

#include "net/net.h"
#include "util/err.h"
#include "util/log.h"
#include "util/strbuf.h"
#include "util/util.h"

#define MAX_COMMANDS 32

static int exit_for(const struct oim_err *err)
{
	fprintf(stderr, "error: %s: %s\n", oim_err_kind_name(err->kind),
		err->msg);
	switch (err->kind) {
	case OIM_E_NET:
		return 10;
	case OIM_E_CONN_LOST:
		return 11;
	case OIM_E_TIMEOUT:
		return 12;
	case OIM_E_TLS:
		return 13;
	case OIM_E_CONFIG:
		return 14;
	default:
		return 15;
	}
}

static int read_line(struct net_conn *c, struct strbuf *line,
		     struct oim_err *err)
{
	strbuf_reset(line);
	for (;;) {
		char ch;
		size_t n;
		if (net_conn_read(c, &ch, 1, &n, err) < 0)
			return -1;
		strbuf_addch(line, ch);
		if (ch == '\n')
			return 0;
		if (line->len > 1024 * 1024)
			return oim_error(err, OIM_SEV_ACCOUNT, OIM_E_PROTOCOL,
					 "line too long");
	}
}

static void print_line(const struct strbuf *line)
{
	fwrite(line->buf, 1, line->len, stdout);
	fflush(stdout);
}

/* Send "tag cmd", print lines up to the tagged one; 1 if it is not OK. */
static int command(struct net_conn *c, const char *tag, const char *cmd,
		   struct oim_err *err)
{
	struct strbuf line = STRBUF_INIT;
	char *out = xasprintf("%s %s\r\n", tag, cmd);
	size_t tlen = strlen(tag);
	int ret = -1;

	if (net_conn_write_all(c, out, strlen(out), err) < 0)
		goto out;
	for (;;) {
		if (read_line(c, &line, err) < 0)
			goto out;
		print_line(&line);
		if (line.len > tlen && !strncmp(line.buf, tag, tlen) &&
		    line.buf[tlen] == ' ') {
			ret =
			    oim_starts_with(line.buf + tlen + 1, "OK") ? 0 : 1;
			break;
		}
	}
out:
	free(out);
	strbuf_release(&line);
	return ret;
}

/*
 * APPEND a message of 'size' bytes with LITERAL+, written through the
 * non-blocking API while reading whatever the server says: the pattern
 * the IMAP client uses for pipelined uploads.
 */
static int append(struct net_conn *c, size_t size, struct oim_err *err)
{
	struct strbuf out = STRBUF_INIT, in = STRBUF_INIT;
	size_t sent = 0, body = 0;
	const char *hdr = "Subject: net-probe\r\n\r\n";
	int ret = -1;

	if (size < strlen(hdr) + 2)
		size = strlen(hdr) + 2;
	strbuf_addf(&out, "ap APPEND INBOX {%zu+}\r\n%s", size, hdr);
	body = size - strlen(hdr);
	/* body: lines of 'x', CRLF-terminated, fitting exactly */
	while (body > 0) {
		size_t l = body > 78 ? 78 : body;
		if (l >= 2) {
			for (size_t i = 0; i + 2 < l; i++)
				strbuf_addch(&out, 'x' + (char)(i % 3));
			strbuf_addstr(&out,
				      l == 2 && body > 2 ? "\r\n" : "\r\n");
		} else {
			strbuf_addch(&out, 'x');
		}
		body -= l;
	}
	strbuf_addstr(&out, "\r\n");

	for (;;) {
		unsigned want = NET_WANT_READ, ready;
		bool done = true;
		char buf[4096];
		size_t n;

		if (sent < out.len || net_conn_output_pending(c))
			want |= NET_WANT_WRITE;
		if (net_conn_poll(c, want, NET_POLL_SOCKTIMEOUT, &ready, err))
			goto out;
		if (ready & NET_WANT_WRITE) {
			if (sent < out.len) {
				if (net_conn_send(c, out.buf + sent,
						  out.len - sent, &n, err))
					goto out;
				sent += n;
			}
			if (sent == out.len && net_conn_flush_nb(c, &done, err))
				goto out;
		}
		if (ready & NET_WANT_READ) {
			if (net_conn_recv(c, buf, sizeof(buf), &n, err))
				goto out;
			strbuf_add(&in, buf, n);
			if (strstr(in.buf, "ap OK")) {
				ret = 0;
				break;
			}
			if (strstr(in.buf, "ap NO") ||
			    strstr(in.buf, "ap BAD")) {
				ret = 1;
				break;
			}
		}
	}
	fwrite(in.buf, 1, in.len, stdout);
	printf("appended %zu bytes\n", size);
out:
	strbuf_release(&out);
	strbuf_release(&in);
	return ret;
}

static void usage(void)
{
	fprintf(stderr, "usage: net-probe [--host H] [--port P] [--ssl | "
			"--starttls] [--tunnel CMD] ... (see the source)\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct net_connect_opts copts = {.host = "127.0.0.1", .port = 0};
	struct net_tls_opts topts = {0};
	struct oim_err err = OIM_ERR_INIT;
	struct net_conn *c = NULL;
	struct net_tls *tls = NULL;
	struct strbuf line = STRBUF_INIT;
	const char *tunnel = NULL, *commands[MAX_COMMANDS];
	const char *user = NULL, *pass = NULL;
	bool ssl = false, starttls = false, compress = false, wait_read = false;
	size_t append_size = 0;
	int ncommands = 0, rc = 0, r;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		long num;
#define NEEDV()                                                                \
	do {                                                                   \
		if (!v)                                                        \
			usage();                                               \
		i++;                                                           \
	} while (0)
		if (!strcmp(a, "--host")) {
			NEEDV();
			copts.host = v;
		} else if (!strcmp(a, "--port")) {
			NEEDV();
			if (oim_parse_long(v, &num) || num <= 0 || num > 65535)
				usage();
			copts.port = (unsigned)num;
		} else if (!strcmp(a, "--timeout")) {
			NEEDV();
			if (oim_parse_long(v, &num) || num < 0)
				usage();
			copts.timeout_s = (unsigned)num;
		} else if (!strcmp(a, "--ipv6")) {
			NEEDV();
			if (net_family_parse(v, &copts.family))
				usage();
		} else if (!strcmp(a, "--tunnel")) {
			NEEDV();
			tunnel = v;
		} else if (!strcmp(a, "--ssl")) {
			ssl = true;
		} else if (!strcmp(a, "--starttls")) {
			starttls = true;
		} else if (!strcmp(a, "--cafile")) {
			NEEDV();
			topts.cafile = v;
		} else if (!strcmp(a, "--fingerprint")) {
			NEEDV();
			topts.fingerprints = v;
		} else if (!strcmp(a, "--tls-level")) {
			NEEDV();
			topts.tls_level = v;
		} else if (!strcmp(a, "--ssl-version")) {
			NEEDV();
			topts.ssl_version = v;
		} else if (!strcmp(a, "--client-cert")) {
			NEEDV();
			topts.client_cert = v;
		} else if (!strcmp(a, "--client-key")) {
			NEEDV();
			topts.client_key = v;
		} else if (!strcmp(a, "--login")) {
			if (i + 2 >= argc)
				usage();
			user = argv[++i];
			pass = argv[++i];
		} else if (!strcmp(a, "--compress")) {
			compress = true;
		} else if (!strcmp(a, "--append-size")) {
			NEEDV();
			if (oim_parse_long(v, &num) || num < 0)
				usage();
			append_size = (size_t)num;
		} else if (!strcmp(a, "--command")) {
			NEEDV();
			if (ncommands == MAX_COMMANDS)
				usage();
			commands[ncommands++] = v;
		} else if (!strcmp(a, "--wait-read")) {
			wait_read = true;
		} else if (!strcmp(a, "--debug")) {
			log_set_debug(OIM_DBG_NET);
		} else {
			usage();
		}
	}
	if (!copts.port)
		copts.port = ssl ? NET_PORT_IMAPS : NET_PORT_IMAP;

	if ((ssl || starttls) && net_tls_new(&tls, &topts, &err) < 0)
		return exit_for(&err);
	if (tunnel)
		r = net_tunnel_open(&c, tunnel, copts.timeout_s, &err);
	else
		r = net_connect(&c, &copts, &err);
	if (r < 0) {
		rc = exit_for(&err);
		goto out;
	}
	if (ssl && net_conn_start_tls(c, tls, &err) < 0)
		goto fail;
	if (wait_read) {
		/* read the greeting and then wait for more: the timeout test */
		if (read_line(c, &line, &err) < 0)
			goto fail;
		print_line(&line);
		if (read_line(c, &line, &err) < 0)
			goto fail;
		goto out;
	}
	if (read_line(c, &line, &err) < 0)
		goto fail;
	print_line(&line);
	if (starttls) {
		r = command(c, "st", "STARTTLS", &err);
		if (r < 0)
			goto fail;
		if (r > 0) {
			rc = 3;
			goto out;
		}
		if (net_conn_start_tls(c, tls, &err) < 0)
			goto fail;
		printf("TLS started\n");
	}
	if (user) {
		char *cmd = xasprintf("LOGIN \"%s\" \"%s\"", user, pass);
		r = command(c, "li", cmd, &err);
		free(cmd);
		if (r < 0)
			goto fail;
		if (r > 0) {
			rc = 3;
			goto out;
		}
	}
	if (compress) {
		r = command(c, "z", "COMPRESS DEFLATE", &err);
		if (r < 0)
			goto fail;
		if (r > 0) {
			rc = 3;
			goto out;
		}
		if (net_conn_compress(c, &err) < 0)
			goto fail;
		printf("COMPRESS active\n");
	}
	if (append_size) {
		r = append(c, append_size, &err);
		if (r < 0)
			goto fail;
		if (r > 0) {
			rc = 3;
			goto out;
		}
	}
	for (int i = 0; i < ncommands; i++) {
		char tag[16];
		snprintf(tag, sizeof(tag), "c%d", i);
		r = command(c, tag, commands[i], &err);
		if (r < 0)
			goto fail;
		if (r > 0) {
			rc = 3;
			goto out;
		}
	}
	goto out;
fail:
	rc = exit_for(&err);
out:
	net_conn_free(c);
	net_tls_free(tls);
	strbuf_release(&line);
	return rc;
}
