/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <pthread.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <zlib.h>

#include "net/net-int.h"
#include "net/net.h"
#include "util/err.h"
#include "util/strbuf.h"

/* ---- cert_fingerprint ---- */

static void test_fingerprint_parse(void **state)
{
	struct net_fingerprint fps[4];
	struct oim_err err = OIM_ERR_INIT;

	/* OfflineIMAP's documented examples: plain and with colons */
	assert_int_equal(
	    net_fingerprints_parse("bbfe29cf97acb204591edbafe0aa8c8f914287c9",
				   fps, 4, &err),
	    1);
	assert_int_equal(fps[0].len, 20);
	assert_int_equal(fps[0].md[0], 0xbb);
	assert_int_equal(fps[0].md[19], 0xc9);
	assert_int_equal(
	    net_fingerprints_parse("BB:FE:29:CF:97:AC:B2:04:59:1E:DB:AF:E0:AA:"
				   "8C:8F:91:42:87:C9",
				   fps + 1, 3, &err),
	    1);
	assert_memory_equal(fps[0].md, fps[1].md, 20);

	/* several, with blanks and empty items; each length recognised */
	assert_int_equal(
	    net_fingerprints_parse(
		" bbfe29cf97acb204591edbafe0aa8c8f914287c9 ,, "
		"00112233445566778899aabbccddeeff00112233445566778899a"
		"abbccddeeff,\t",
		fps, 4, &err),
	    2);
	assert_int_equal(fps[1].len, 32);
	assert_int_equal(fps[1].md[31], 0xff);
	assert_int_equal(net_fingerprints_parse("", fps, 4, &err), 0);
	assert_int_equal(net_fingerprints_parse(NULL, fps, 4, &err), 0);
	assert_int_equal(net_fingerprints_parse(" , ", fps, 4, &err), 0);

	static const unsigned lens[] = {20, 28, 32, 48, 64};
	for (size_t i = 0; i < ARRAY_SIZE(lens); i++) {
		struct strbuf sb = STRBUF_INIT;
		for (unsigned j = 0; j < lens[i]; j++)
			strbuf_addstr(&sb, "a5");
		assert_int_equal(net_fingerprints_parse(sb.buf, fps, 4, &err),
				 1);
		assert_int_equal(fps[0].len, lens[i]);
		strbuf_release(&sb);
	}

	/* wrong length, not hex, odd, too long, too many */
	oim_err_clear(&err);
	assert_int_equal(net_fingerprints_parse("abcd", fps, 4, &err), -1);
	assert_int_equal(err.kind, OIM_E_CONFIG);
	assert_non_null(strstr(err.msg, "'abcd'"));
	assert_int_equal(
	    net_fingerprints_parse("zbfe29cf97acb204591edbafe0aa8c8f914287c9",
				   fps, 4, &err),
	    -1);
	assert_int_equal(
	    net_fingerprints_parse("bbfe29cf97acb204591edbafe0aa8c8f914287c",
				   fps, 4, &err),
	    -1);
	assert_int_equal(
	    net_fingerprints_parse("bb fe29cf97acb204591edbafe0aa8c8f914287c9",
				   fps, 4, &err),
	    -1);
	{
		struct strbuf sb = STRBUF_INIT;
		for (int j = 0; j < 65; j++)
			strbuf_addstr(&sb, "a5");
		assert_int_equal(net_fingerprints_parse(sb.buf, fps, 4, &err),
				 -1);
		strbuf_release(&sb);
	}
	assert_int_equal(
	    net_fingerprints_parse("bbfe29cf97acb204591edbafe0aa8c8f914287c9,"
				   "bbfe29cf97acb204591edbafe0aa8c8f914287c9",
				   fps, 1, &err),
	    -1);
}

/* A throwaway self-signed certificate and its key. */
static X509 *make_cert_obj(EVP_PKEY **key_r)
{
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *x = X509_new();
	X509_NAME *name;

	assert_non_null(key);
	assert_non_null(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
				   (const unsigned char *)"unit.test", -1, -1,
				   0);
	X509_set_issuer_name(x, name);
	X509_set_pubkey(x, key);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	*key_r = key;
	return x;
}

static unsigned char *make_cert(int *len_r)
{
	EVP_PKEY *key;
	X509 *x = make_cert_obj(&key);
	unsigned char *der = NULL;

	*len_r = i2d_X509(x, &der);
	assert_true(*len_r > 0);
	X509_free(x);
	EVP_PKEY_free(key);
	return der;
}

static void test_fingerprint_match(void **state)
{
	struct net_fingerprint fps[4];
	struct oim_err err = OIM_ERR_INIT;
	char sha1[41], sha256[65], sha512[129], list[512];
	int der_len;
	unsigned char *der = make_cert(&der_len);

	net_cert_fingerprint_hex("SHA1", der, (size_t)der_len, sha1,
				 sizeof(sha1));
	net_cert_fingerprint_hex("SHA256", der, (size_t)der_len, sha256,
				 sizeof(sha256));
	net_cert_fingerprint_hex("SHA512", der, (size_t)der_len, sha512,
				 sizeof(sha512));
	assert_int_equal(strlen(sha1), 40);
	assert_int_equal(strlen(sha256), 64);
	assert_int_equal(strlen(sha512), 128);

	/* each form matches; upper case with colons too */
	const char *forms[] = {sha1, sha256, sha512};
	for (size_t i = 0; i < ARRAY_SIZE(forms); i++) {
		assert_int_equal(net_fingerprints_parse(forms[i], fps, 4, &err),
				 1);
		assert_true(
		    net_fingerprints_match(fps, 1, der, (size_t)der_len));
	}
	{
		struct strbuf sb = STRBUF_INIT;
		for (size_t i = 0; sha256[i]; i += 2)
			strbuf_addf(&sb, "%s%c%c", i ? ":" : "",
				    sha256[i] - 32 * (sha256[i] >= 'a'),
				    sha256[i + 1] -
					32 * (sha256[i + 1] >= 'a'));
		assert_int_equal(net_fingerprints_parse(sb.buf, fps, 4, &err),
				 1);
		assert_true(
		    net_fingerprints_match(fps, 1, der, (size_t)der_len));
		strbuf_release(&sb);
	}

	/* a different digest does not match; one good one in a list does */
	char wrong[65];
	memcpy(wrong, sha256, sizeof(wrong));
	wrong[0] = wrong[0] == '0' ? '1' : '0';
	assert_int_equal(net_fingerprints_parse(wrong, fps, 4, &err), 1);
	assert_false(net_fingerprints_match(fps, 1, der, (size_t)der_len));
	snprintf(list, sizeof(list), "%s, %s", wrong, sha1);
	assert_int_equal(net_fingerprints_parse(list, fps, 4, &err), 2);
	assert_true(net_fingerprints_match(fps, 2, der, (size_t)der_len));
	/* a SHA-1 value must not match as a prefix of the SHA-256 one */
	memcpy(wrong, sha256, 40);
	wrong[40] = '\0';
	assert_int_equal(net_fingerprints_parse(wrong, fps, 4, &err), 1);
	assert_false(net_fingerprints_match(fps, 1, der, (size_t)der_len));
	OPENSSL_free(der);
}

/* ---- tls_level x ssl_version ---- */

static void test_tls_version_range(void **state)
{
	static const struct {
		const char *level, *version;
		int ret, min, max;
	} cases[] = {
	    {NULL, NULL, 0, 0, 0},
	    {"tls_compat", NULL, 0, 0, 0},
	    {"tls_compat", "ssl23", 0, 0, 0},
	    {"tls_compat", "tls1", 0, TLS1_VERSION, TLS1_VERSION},
	    {"tls_compat", "tls1_1", 0, TLS1_1_VERSION, TLS1_1_VERSION},
	    {"tls_compat", "tls1_2", 0, TLS1_2_VERSION, TLS1_2_VERSION},
	    {"tls_compat", "ssl3", -1, 0, 0},
	    {"tls_no_ssl", "tls1", 0, TLS1_VERSION, TLS1_VERSION},
	    {"tls_no_ssl", "tls1_2", 0, TLS1_2_VERSION, TLS1_2_VERSION},
	    {"tls_no_ssl", "ssl23", -1, 0, 0},
	    {"tls_no_ssl", NULL, -1, 0, 0},
	    {"tls_secure", "tls1_1", 0, TLS1_1_VERSION, TLS1_1_VERSION},
	    {"tls_secure", "tls1_2", 0, TLS1_2_VERSION, TLS1_2_VERSION},
	    {"tls_secure", "tls1", -1, 0, 0},
	    {"tls_secure", "ssl23", -1, 0, 0},
	    {"tls_secure", NULL, -1, 0, 0},
	    {"tls_paranoid", "tls1_2", -1, 0, 0},
	    {"tls_compat", "tls9", -1, 0, 0},
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct oim_err err = OIM_ERR_INIT;
		int min = -1, max = -1;
		int r = net_tls_version_range(cases[i].level, cases[i].version,
					      &min, &max, &err);
		assert_int_equal(r, cases[i].ret);
		if (r == 0) {
			assert_int_equal(min, cases[i].min);
			assert_int_equal(max, cases[i].max);
		} else {
			assert_int_equal(err.kind, OIM_E_CONFIG);
		}
	}
}

static void test_tls_new_errors(void **state)
{
	struct oim_err err = OIM_ERR_INIT;
	struct net_tls *tls = NULL;
	struct net_tls_opts o = {0};

	assert_int_equal(net_tls_new(&tls, &o, &err), 0);
	net_tls_free(tls);
	o.cafile = "/nonexistent/ca.pem";
	assert_int_equal(net_tls_new(&tls, &o, &err), -1);
	assert_int_equal(err.kind, OIM_E_CONFIG);
	assert_non_null(strstr(err.msg, "/nonexistent/ca.pem"));
	o.cafile = "OS-DEFAULT";
	o.fingerprints = "nothex";
	assert_int_equal(net_tls_new(&tls, &o, &err), -1);
	assert_int_equal(err.kind, OIM_E_CONFIG);
	o.fingerprints = NULL;
	o.client_key = "/nonexistent/key.pem";
	assert_int_equal(net_tls_new(&tls, &o, &err), -1);
	assert_non_null(strstr(err.msg, "sslclientcert"));
}

static void test_family_parse(void **state)
{
	enum net_family f;
	assert_int_equal(net_family_parse(NULL, &f), 0);
	assert_int_equal(f, NET_FAMILY_ANY);
	assert_int_equal(net_family_parse("YES", &f), 0);
	assert_int_equal(f, NET_FAMILY_V6);
	assert_int_equal(net_family_parse("off", &f), 0);
	assert_int_equal(f, NET_FAMILY_V4);
	assert_int_equal(net_family_parse("maybe", &f), -1);
}

/* ---- stream layers over a socketpair ---- */

static void pair(struct net_conn **a, struct net_conn **b, unsigned timeout)
{
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	*a = net_conn_from_fds(sv[0], sv[0], "side-a", NULL, timeout);
	*b = net_conn_from_fds(sv[1], sv[1], "side-b", NULL, timeout);
}

/* Deterministic data: compressible runs and incompressible noise. */
static unsigned char *make_data(size_t len)
{
	unsigned char *d = xmalloc(len);
	uint32_t x = 2463534242u;
	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		d[i] = (i / 4096) % 2 ? (unsigned char)x
				      : (unsigned char)("IMAP"[i % 4]);
	}
	return d;
}

/*
 * Move data from a to b in 'chunk'-sized sends through the non-blocking
 * API, one thread, reading b as we go (the pattern of a pipelining
 * client), flushing after every send or only at the end.
 */
static void pump(struct net_conn *a, struct net_conn *b,
		 const unsigned char *data, size_t len, size_t chunk,
		 bool flush_each)
{
	struct oim_err err = OIM_ERR_INIT;
	unsigned char buf[7000];
	size_t sent = 0, got = 0;
	bool flushed = false;

	while (got < len) {
		size_t n;
		unsigned ready;

		if (sent < len) {
			size_t c = len - sent < chunk ? len - sent : chunk;
			assert_int_equal(
			    net_conn_send(a, data + sent, c, &n, &err), 0);
			sent += n;
			if (flush_each && n) {
				bool done;
				assert_int_equal(
				    net_conn_flush_nb(a, &done, &err), 0);
			}
		} else if (!flushed) {
			assert_int_equal(net_conn_flush_nb(a, &flushed, &err),
					 0);
		}
		assert_int_equal(net_conn_recv(b, buf, sizeof(buf), &n, &err),
				 0);
		if (n) {
			assert_true(got + n <= len);
			assert_memory_equal(buf, data + got, n);
			got += n;
			continue;
		}
		/* no input: wait for either side, never forever */
		assert_int_equal(
		    net_conn_poll(b, NET_WANT_READ, 0, &ready, &err), 0);
		if (!ready && (sent == len && flushed))
			assert_int_equal(
			    net_conn_poll(b, NET_WANT_READ, 5000, &ready, &err),
			    0);
	}
	assert_false(net_conn_output_pending(a));
}

static void test_plain_pair(void **state)
{
	struct net_conn *a, *b;
	size_t len = 1 << 20;
	unsigned char *data = make_data(len);

	pair(&a, &b, 5);
	pump(a, b, data, len, 65536, false);
	pump(b, a, data, 1000, 1, true);
	net_conn_free(a);
	net_conn_free(b);
	free(data);
}

static void test_deflate_roundtrip(void **state)
{
	struct oim_err err = OIM_ERR_INIT;
	struct net_conn *a, *b;
	size_t len = 4 << 20;
	unsigned char *data = make_data(len);

	pair(&a, &b, 5);
	assert_int_equal(net_conn_compress(a, &err), 0);
	assert_int_equal(net_conn_compress(b, &err), 0);
	assert_true(net_conn_is_compressed(a));
	assert_int_equal(net_conn_compress(a, &err), -1);
	/* big data, large writes, one flush at the end */
	pump(a, b, data, len, 1 << 20, false);
	/* the other way, many small writes each flushed */
	pump(b, a, data, 20000, 7, true);
	/* many small writes, one flush */
	pump(a, b, data + 5, 50000, 3, false);
	net_conn_free(a);
	net_conn_free(b);
	free(data);
}

/*
 * What we send must be plain raw deflate that a peer can decode up to the
 * last byte after each flush (Z_SYNC_FLUSH, RFC 4978 section 4).  The
 * "server" here is zlib itself on the raw socket.
 */
static void test_deflate_sync_flush(void **state)
{
	struct oim_err err = OIM_ERR_INIT;
	struct net_conn *a;
	int sv[2];
	z_stream zs;
	unsigned char in[4096], out[4096];
	const char *cmds[] = {"a1 NOOP\r\n", "a2 CAPABILITY\r\n",
			      "a3 LOGOUT\r\n"};

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	a = net_conn_from_fds(sv[0], sv[0], "client", NULL, 5);
	assert_int_equal(net_conn_compress(a, &err), 0);
	memset(&zs, 0, sizeof(zs));
	assert_int_equal(inflateInit2(&zs, -15), Z_OK);
	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++) {
		ssize_t n;
		assert_int_equal(
		    net_conn_write_all(a, cmds[i], strlen(cmds[i]), &err), 0);
		n = read(sv[1], in, sizeof(in));
		assert_true(n > 0);
		/* a sync flush ends with the empty stored block 00 00 ff ff */
		assert_memory_equal(in + n - 4, "\0\0\xff\xff", 4);
		zs.next_in = in;
		zs.avail_in = (uInt)n;
		zs.next_out = out;
		zs.avail_out = sizeof(out);
		assert_int_equal(inflate(&zs, Z_SYNC_FLUSH), Z_OK);
		assert_int_equal(sizeof(out) - zs.avail_out, strlen(cmds[i]));
		assert_memory_equal(out, cmds[i], strlen(cmds[i]));
	}
	inflateEnd(&zs);
	net_conn_free(a);
	close(sv[1]);
}

static void test_deflate_garbage(void **state)
{
	struct oim_err err = OIM_ERR_INIT;
	struct net_conn *a;
	int sv[2];
	char buf[64];
	size_t n;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	a = net_conn_from_fds(sv[0], sv[0], "client", NULL, 5);
	assert_int_equal(net_conn_compress(a, &err), 0);
	/* 0xff: block type 3 is invalid in deflate */
	assert_int_equal(write(sv[1], "\xff\xff\xff\xff", 4), 4);
	assert_int_equal(net_conn_read(a, buf, sizeof(buf), &n, &err), -1);
	assert_int_equal(err.kind, OIM_E_PROTOCOL);
	net_conn_free(a);
	close(sv[1]);
}

/* The peer may finish its deflate stream (Dovecot does on close): the
 * data that came with the end is delivered, then end of stream. */
static void test_deflate_stream_end(void **state)
{
	struct oim_err err = OIM_ERR_INIT;
	struct net_conn *a;
	int sv[2];
	z_stream zs;
	unsigned char out[256];
	char buf[64];
	const char *bye = "* BYE Logging out\r\na1 OK Logout completed\r\n";
	struct strbuf got = STRBUF_INIT;
	size_t n;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	a = net_conn_from_fds(sv[0], sv[0], "server", NULL, 5);
	assert_int_equal(net_conn_compress(a, &err), 0);
	memset(&zs, 0, sizeof(zs));
	assert_int_equal(
	    deflateInit2(&zs, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
	zs.next_in = (Bytef *)bye;
	zs.avail_in = (uInt)strlen(bye);
	zs.next_out = out;
	zs.avail_out = sizeof(out);
	assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
	assert_int_equal(write(sv[1], out, sizeof(out) - zs.avail_out),
			 (ssize_t)(sizeof(out) - zs.avail_out));
	deflateEnd(&zs);
	/* small reads, so the end arrives with data still to deliver */
	while (net_conn_read(a, buf, 5, &n, &err) == 0)
		strbuf_add(&got, buf, n);
	assert_string_equal(got.buf, bye);
	assert_int_equal(err.kind, OIM_E_CONN_LOST);
	strbuf_release(&got);
	net_conn_free(a);
	close(sv[1]);
}

/* ---- TLS through an in-process echo server ---- */

struct echo_server {
	int fd;
	X509 *cert;
	EVP_PKEY *key;
	size_t echoed;
};

static void *echo_main(void *arg)
{
	struct echo_server *es = arg;
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	SSL *ssl;
	char buf[8192];

	SSL_CTX_use_certificate(ctx, es->cert);
	SSL_CTX_use_PrivateKey(ctx, es->key);
	ssl = SSL_new(ctx);
	SSL_set_fd(ssl, es->fd);
	if (SSL_accept(ssl) == 1) {
		/* let the client fill the socket buffers first, so its
		 * writes would block inside TLS */
		usleep(200 * 1000);
		for (;;) {
			int n = SSL_read(ssl, buf, sizeof(buf));
			if (n <= 0)
				break;
			if (SSL_write(ssl, buf, n) != n)
				break;
			es->echoed += (size_t)n;
		}
	}
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(es->fd);
	return NULL;
}

static void test_tls_echo(void **state)
{
	struct oim_err err = OIM_ERR_INIT;
	struct echo_server es = {0};
	struct net_tls_opts o = {0};
	struct net_tls *tls;
	struct net_conn *c;
	pthread_t th;
	int sv[2];
	unsigned char *der = NULL;
	int der_len;
	char fp[65];
	size_t len = 3 << 20;
	unsigned char *data = make_data(len);

	es.cert = make_cert_obj(&es.key);
	der_len = i2d_X509(es.cert, &der);
	net_cert_fingerprint_hex("SHA256", der, (size_t)der_len, fp,
				 sizeof(fp));
	OPENSSL_free(der);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	es.fd = sv[1];
	assert_int_equal(pthread_create(&th, NULL, echo_main, &es), 0);

	/* no host name: only a pinned fingerprint can authenticate */
	c = net_conn_from_fds(sv[0], sv[0], "echo", NULL, 10);
	assert_int_equal(net_tls_new(&tls, &o, &err), 0);
	assert_int_equal(net_conn_start_tls(c, tls, &err), -1);
	assert_int_equal(err.kind, OIM_E_TLS);
	assert_non_null(strstr(err.msg, "cert_fingerprint"));
	net_tls_free(tls);

	o.fingerprints = fp;
	assert_int_equal(net_tls_new(&tls, &o, &err), 0);
	assert_int_equal(net_conn_start_tls(c, tls, &err), 0);
	assert_true(net_conn_is_tls(c));
	assert_int_equal(net_conn_start_tls(c, tls, &err), -1);
	/* megabytes both ways through TLS, writes blocking half-way */
	pump(c, c, data, len, 100000, false);
	/* and deflate on top of TLS */
	assert_int_equal(net_conn_compress(c, &err), 0);
	pump(c, c, data, len, 33333, true);
	net_conn_free(c);
	pthread_join(th, NULL);
	assert_true(es.echoed > len);
	X509_free(es.cert);
	EVP_PKEY_free(es.key);
	net_tls_free(tls);
	free(data);
}

static void test_ipv6_loopback(void **state)
{
	struct oim_err err = OIM_ERR_INIT;
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6};
	socklen_t sl = sizeof(sin6);
	struct net_connect_opts o = {.host = "::1", .timeout_s = 5};
	struct net_conn *c = NULL;
	int fd = socket(AF_INET6, SOCK_STREAM, 0);

	sin6.sin6_addr = in6addr_loopback;
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) < 0) {
		if (fd >= 0)
			close(fd);
		skip(); /* no IPv6 here */
	}
	assert_int_equal(listen(fd, 1), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin6, &sl), 0);
	o.port = ntohs(sin6.sin6_port);
	o.family = NET_FAMILY_V6;
	assert_int_equal(net_connect(&c, &o, &err), 0);
	assert_non_null(strstr(net_conn_peer(c), "[::1]:"));
	net_conn_free(c);
	/* ipv6 = no: "::1" cannot be resolved as IPv4 */
	o.family = NET_FAMILY_V4;
	assert_int_equal(net_connect(&c, &o, &err), -1);
	assert_int_equal(err.kind, OIM_E_NET);
	close(fd);
}

/* ---- errors: timeout, end of stream ---- */

static void test_timeout(void **state)
{
	struct oim_err err = OIM_ERR_INIT;
	struct net_conn *a, *b;
	char buf[16];
	size_t n;
	unsigned ready = 99;

	pair(&a, &b, 1);
	assert_int_equal(net_conn_read(a, buf, sizeof(buf), &n, &err), -1);
	assert_int_equal(err.kind, OIM_E_TIMEOUT);
	assert_int_equal(err.sev, OIM_SEV_ACCOUNT);
	assert_non_null(strstr(err.msg, "side-a"));
	/* an explicit poll timeout is not an error */
	assert_int_equal(net_conn_poll(a, NET_WANT_READ, 10, &ready, &err), 0);
	assert_int_equal(ready, 0);
	/* writable at once */
	assert_int_equal(net_conn_poll(a, NET_WANT_WRITE, 1000, &ready, &err),
			 0);
	assert_int_equal(ready, NET_WANT_WRITE);
	net_conn_free(a);
	net_conn_free(b);
}

static void test_eof(void **state)
{
	struct oim_err err = OIM_ERR_INIT;
	struct net_conn *a, *b;
	char buf[16];
	size_t n;

	pair(&a, &b, 5);
	assert_int_equal(net_conn_write_all(b, "bye\n", 4, &err), 0);
	net_conn_free(b);
	assert_int_equal(net_conn_read(a, buf, sizeof(buf), &n, &err), 0);
	assert_int_equal(n, 4);
	assert_int_equal(net_conn_read(a, buf, sizeof(buf), &n, &err), -1);
	assert_int_equal(err.kind, OIM_E_CONN_LOST);
	assert_non_null(strstr(err.msg, "side-a"));
	net_conn_free(a);
}

static void test_connect_refused(void **state)
{
	struct oim_err err = OIM_ERR_INIT;
	struct net_conn *c = NULL;
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sin);
	struct net_connect_opts o = {.host = "127.0.0.1", .timeout_s = 5};
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	char want[64];

	/* a port that was free a moment ago and has no listener */
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	close(fd);
	o.port = ntohs(sin.sin_port);
	assert_int_equal(net_connect(&c, &o, &err), -1);
	assert_null(c);
	assert_int_equal(err.kind, OIM_E_NET);
	snprintf(want, sizeof(want), "127.0.0.1:%u", o.port);
	assert_non_null(strstr(err.msg, want));
	assert_non_null(strstr(err.msg, "refused"));

	o.port = 0;
	assert_int_equal(net_connect(&c, &o, &err), -1);
	assert_int_equal(err.kind, OIM_E_CONFIG);
}

/* ---- tunnels ---- */

static void test_tunnel_cat(void **state)
{
	struct oim_err err = OIM_ERR_INIT;
	struct net_conn *c;
	size_t len = 300000;
	unsigned char *data = make_data(len);

	assert_int_equal(net_tunnel_open(&c, "cat", 5, &err), 0);
	assert_non_null(strstr(net_conn_peer(c), "cat"));
	/* more than a pipe holds: needs the interleaving to not deadlock */
	pump(c, c, data, len, 50000, false);
	net_conn_free(c);
	free(data);
}

static void test_tunnel_compressed(void **state)
{
	struct oim_err err = OIM_ERR_INIT;
	struct net_conn *c;
	size_t len = 200000;
	unsigned char *data = make_data(len);

	/* cat echoes our deflate stream, which our inflate then decodes */
	assert_int_equal(net_tunnel_open(&c, "exec cat", 5, &err), 0);
	assert_int_equal(net_conn_compress(c, &err), 0);
	pump(c, c, data, len, 10000, true);
	net_conn_free(c);
	free(data);
}

static void test_tunnel_exit(void **state)
{
	struct oim_err err = OIM_ERR_INIT;
	struct net_conn *c;
	char buf[64];
	size_t n;

	assert_int_equal(
	    net_tunnel_open(&c, "echo '* PREAUTH hi'; exit 3", 5, &err), 0);
	assert_int_equal(net_conn_read(c, buf, sizeof(buf), &n, &err), 0);
	assert_true(n >= 5);
	assert_memory_equal(buf, "* PRE", 5);
	while (net_conn_read(c, buf, sizeof(buf), &n, &err) == 0)
		;
	assert_int_equal(err.kind, OIM_E_CONN_LOST);
	assert_non_null(strstr(err.msg, "status 3"));
	net_conn_free(c);

	/* writing to a tunnel that is gone: an error, not SIGPIPE */
	assert_int_equal(net_tunnel_open(&c, "exec true", 5, &err), 0);
	usleep(100 * 1000);
	{
		int r = 0;
		for (int i = 0; i < 100 && r == 0; i++)
			r = net_conn_write_all(c, "a NOOP\r\n", 8, &err);
		assert_int_equal(r, -1);
	}
	assert_int_equal(err.kind, OIM_E_CONN_LOST);
	net_conn_free(c);
}

static void test_tunnel_timeout(void **state)
{
	struct oim_err err = OIM_ERR_INIT;
	struct net_conn *c;
	char buf[64];
	size_t n;

	/* says nothing; free must still reap it (SIGTERM after a wait) */
	assert_int_equal(net_tunnel_open(&c, "exec sleep 30", 1, &err), 0);
	assert_int_equal(net_conn_read(c, buf, sizeof(buf), &n, &err), -1);
	assert_int_equal(err.kind, OIM_E_TIMEOUT);
	net_conn_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fingerprint_parse),
	    cmocka_unit_test(test_fingerprint_match),
	    cmocka_unit_test(test_tls_version_range),
	    cmocka_unit_test(test_tls_new_errors),
	    cmocka_unit_test(test_family_parse),
	    cmocka_unit_test(test_plain_pair),
	    cmocka_unit_test(test_deflate_roundtrip),
	    cmocka_unit_test(test_deflate_sync_flush),
	    cmocka_unit_test(test_deflate_garbage),
	    cmocka_unit_test(test_deflate_stream_end),
	    cmocka_unit_test(test_tls_echo),
	    cmocka_unit_test(test_ipv6_loopback),
	    cmocka_unit_test(test_timeout),
	    cmocka_unit_test(test_eof),
	    cmocka_unit_test(test_connect_refused),
	    cmocka_unit_test(test_tunnel_cat),
	    cmocka_unit_test(test_tunnel_compressed),
	    cmocka_unit_test(test_tunnel_exit),
	    cmocka_unit_test(test_tunnel_timeout),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
