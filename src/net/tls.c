/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tls.c - the TLS layer (OpenSSL 3) and its shared configuration.
 *
 * The SSL object talks to the layer below through a custom BIO, so TLS
 * runs over anything the chain has at the bottom (a socket, a tunnel's
 * pipes) and every fd stays non-blocking.
 *
 * Verification is done after the handshake, not inside it: the verify
 * callback records the first problem and lets the handshake finish, so we
 * hold the server's certificate and can (a) accept it by a pinned
 * cert_fingerprint, which is OfflineIMAP's way of trusting a self-signed
 * server, and (b) tell the user its fingerprints when we refuse it.  No
 * application data is sent before the decision.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <sys/stat.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "../util/log.h"
#include "../util/strbuf.h"
#include "net-int.h"

struct net_tls {
	SSL_CTX *ctx;
	bool explicit_ca; /* sslcacertfile was configured */
	int nfps;
	struct net_fingerprint fps[NET_MAX_FINGERPRINTS];
};

/* ---- pure helpers ---- */

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool blank(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int net_fingerprints_parse(const char *value, struct net_fingerprint *fps,
			   int max, struct oim_err *err)
{
	const char *p = value ? value : "";
	int n = 0;

	while (*p) {
		const char *end = strchr(p, ',');
		const char *b = p, *e;
		unsigned char md[64];
		unsigned nib = 0;
		bool bad = false;

		if (!end)
			end = p + strlen(p);
		e = end;
		while (b < e && blank(*b))
			b++;
		while (e > b && blank(e[-1]))
			e--;
		for (const char *q = b; q < e && !bad; q++) {
			int v;
			if (*q == ':')
				continue;
			v = hexval(*q);
			if (v < 0 || nib >= 2 * sizeof(md)) {
				bad = true;
				break;
			}
			if (nib % 2 == 0)
				md[nib / 2] = (unsigned char)(v << 4);
			else
				md[nib / 2] |= (unsigned char)v;
			nib++;
		}
		if (!bad && nib > 0 && nib != 40 && nib != 56 && nib != 64 &&
		    nib != 96 && nib != 128)
			bad = true;
		if (bad)
			return oim_error(err, OIM_SEV_ACCOUNT, OIM_E_CONFIG,
					 "cert_fingerprint: '%.*s' is not the "
					 "hex form of a SHA-1, SHA-224, "
					 "SHA-256, SHA-384 or SHA-512 digest",
					 (int)(e - b > 200 ? 200 : e - b), b);
		if (nib > 0) {
			if (n >= max)
				return oim_error(err, OIM_SEV_ACCOUNT,
						 OIM_E_CONFIG,
						 "cert_fingerprint: more than "
						 "%d fingerprints",
						 max);
			fps[n].len = nib / 2;
			memcpy(fps[n].md, md, nib / 2);
			n++;
		}
		p = *end ? end + 1 : end;
	}
	return n;
}

static const EVP_MD *md_of_len(unsigned len)
{
	switch (len) {
	case 20:
		return EVP_sha1();
	case 28:
		return EVP_sha224();
	case 32:
		return EVP_sha256();
	case 48:
		return EVP_sha384();
	case 64:
		return EVP_sha512();
	}
	return NULL;
}

bool net_fingerprints_match(const struct net_fingerprint *fps, int n,
			    const unsigned char *der, size_t der_len)
{
	for (int i = 0; i < n; i++) {
		const EVP_MD *md = md_of_len(fps[i].len);
		unsigned char out[EVP_MAX_MD_SIZE];
		unsigned out_len = 0;

		if (!md || !EVP_Digest(der, der_len, out, &out_len, md, NULL))
			continue;
		if (out_len == fps[i].len && !memcmp(out, fps[i].md, out_len))
			return true;
	}
	return false;
}

void net_cert_fingerprint_hex(const char *mdname, const unsigned char *der,
			      size_t der_len, char *out, size_t out_len)
{
	const EVP_MD *md = EVP_get_digestbyname(mdname);
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned dl = 0;

	if (out_len)
		out[0] = '\0';
	if (!md || !EVP_Digest(der, der_len, d, &dl, md, NULL) ||
	    out_len < 2 * (size_t)dl + 1)
		return;
	for (unsigned i = 0; i < dl; i++) {
		static const char hex[] = "0123456789abcdef";
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[2 * dl] = '\0';
}

enum tls_level {
	LEVEL_SECURE,
	LEVEL_NO_SSL,
	LEVEL_COMPAT,
};

int net_tls_version_range(const char *tls_level, const char *ssl_version,
			  int *min_r, int *max_r, struct oim_err *err)
{
	/* imaplib2's TLS_MAP, which OfflineIMAP uses */
	static const struct {
		const char *name;
		int version;
		enum tls_level level; /* lowest level that allows it */
	} versions[] = {
	    {"tls1_2", TLS1_2_VERSION, LEVEL_SECURE},
	    {"tls1_1", TLS1_1_VERSION, LEVEL_SECURE},
	    {"tls1", TLS1_VERSION, LEVEL_NO_SSL},
	    {"ssl23", 0, LEVEL_COMPAT},
	    {"ssl3", SSL3_VERSION, LEVEL_COMPAT},
	};
	enum tls_level level;
	size_t i;

	*min_r = *max_r = 0;
	if (!tls_level || !*tls_level ||
	    !oim_strcasecmp(tls_level, "tls_compat"))
		level = LEVEL_COMPAT;
	else if (!oim_strcasecmp(tls_level, "tls_no_ssl"))
		level = LEVEL_NO_SSL;
	else if (!oim_strcasecmp(tls_level, "tls_secure"))
		level = LEVEL_SECURE;
	else
		return oim_error(err, OIM_SEV_ACCOUNT, OIM_E_CONFIG,
				 "unknown tls_level '%s' (known: tls_compat, "
				 "tls_no_ssl, tls_secure)",
				 tls_level);
	if (!ssl_version || !*ssl_version) {
		if (level != LEVEL_COMPAT)
			return oim_error(err, OIM_SEV_ACCOUNT, OIM_E_CONFIG,
					 "when tls_level is not tls_compat, "
					 "ssl_version must be set explicitly");
		return 0;
	}
	for (i = 0; i < ARRAY_SIZE(versions); i++)
		if (!oim_strcasecmp(ssl_version, versions[i].name))
			break;
	if (i == ARRAY_SIZE(versions))
		return oim_error(err, OIM_SEV_ACCOUNT, OIM_E_CONFIG,
				 "unknown ssl_version '%s' (known: tls1, "
				 "tls1_1, tls1_2, ssl23)",
				 ssl_version);
	if (level < versions[i].level)
		return oim_error(err, OIM_SEV_ACCOUNT, OIM_E_CONFIG,
				 "ssl_version '%s' is not allowed with "
				 "tls_level '%s'",
				 ssl_version, tls_level);
	if (versions[i].version == SSL3_VERSION)
		return oim_error(err, OIM_SEV_ACCOUNT, OIM_E_CONFIG,
				 "ssl_version 'ssl3': SSLv3 is not supported "
				 "(insecure and removed from OpenSSL)");
	*min_r = *max_r = versions[i].version;
	return 0;
}

/* ---- OpenSSL glue ---- */

static pthread_once_t tls_once = PTHREAD_ONCE_INIT;
static BIO_METHOD *chain_bio_method;

static int chain_bio_write(BIO *bio, const char *buf, int len);
static int chain_bio_read(BIO *bio, char *buf, int len);
static long chain_bio_ctrl(BIO *bio, int cmd, long num, void *ptr);

static void tls_init_once(void)
{
	OPENSSL_init_ssl(OPENSSL_INIT_LOAD_SSL_STRINGS |
			     OPENSSL_INIT_LOAD_CRYPTO_STRINGS,
			 NULL);
	chain_bio_method = BIO_meth_new(
	    BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "oimap net chain");
	if (!chain_bio_method ||
	    !BIO_meth_set_write(chain_bio_method, chain_bio_write) ||
	    !BIO_meth_set_read(chain_bio_method, chain_bio_read) ||
	    !BIO_meth_set_ctrl(chain_bio_method, chain_bio_ctrl))
		BUG("cannot create OpenSSL BIO method");
}

/* Reason strings of OpenSSL's error queue (this thread), then cleared. */
static void ssl_errors(char *buf, size_t len)
{
	unsigned long e;
	size_t used = 0;

	buf[0] = '\0';
	while ((e = ERR_get_error()) != 0) {
		const char *r = ERR_reason_error_string(e);
		char tmp[256];
		if (!r) {
			ERR_error_string_n(e, tmp, sizeof(tmp));
			r = tmp;
		}
		if (used < len) {
			int w = snprintf(buf + used, len - used, "%s%s",
					 used ? "; " : "", r);
			if (w > 0)
				used += (size_t)w;
		}
	}
	if (!buf[0])
		snprintf(buf, len, "unknown error");
}

static char *name_string(const X509_NAME *name)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data = NULL, *s;
	long n;

	if (!b)
		return xstrdup("?");
	X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
	n = BIO_get_mem_data(b, &data);
	s = n > 0 ? xstrndup(data, (size_t)(n > 512 ? 512 : n)) : xstrdup("");
	BIO_free(b);
	return s;
}

static bool is_ip_literal(const char *host)
{
	unsigned char a[16];
	return inet_pton(AF_INET, host, a) == 1 ||
	       inet_pton(AF_INET6, host, a) == 1;
}

/* ---- shared configuration ---- */

int net_tls_new(struct net_tls **tls_r, const struct net_tls_opts *opts,
		struct oim_err *err)
{
	struct net_tls *tls;
	char ebuf[512];
	int min, max;
	const char *ca = opts->cafile;

	*tls_r = NULL;
	pthread_once(&tls_once, tls_init_once);
	if (net_tls_version_range(opts->tls_level, opts->ssl_version, &min,
				  &max, err) < 0)
		return -1;
	tls = xcalloc(1, sizeof(*tls));
	tls->nfps = net_fingerprints_parse(opts->fingerprints, tls->fps,
					   NET_MAX_FINGERPRINTS, err);
	if (tls->nfps < 0)
		goto fail_nofree_ctx;
	ERR_clear_error();
	tls->ctx = SSL_CTX_new(TLS_client_method());
	if (!tls->ctx) {
		ssl_errors(ebuf, sizeof(ebuf));
		oim_error(err, OIM_SEV_ACCOUNT, OIM_E_TLS,
			  "cannot create TLS context: %s", ebuf);
		goto fail;
	}
	if ((min && !SSL_CTX_set_min_proto_version(tls->ctx, min)) ||
	    (max && !SSL_CTX_set_max_proto_version(tls->ctx, max))) {
		ssl_errors(ebuf, sizeof(ebuf));
		oim_error(err, OIM_SEV_ACCOUNT, OIM_E_CONFIG,
			  "ssl_version '%s' not supported: %s",
			  opts->ssl_version, ebuf);
		goto fail;
	}
	SSL_CTX_set_mode(tls->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
				       SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_clear_mode(tls->ctx, SSL_MODE_AUTO_RETRY);

	if (ca && *ca && strcmp(ca, "OS-DEFAULT") != 0) {
		struct stat st;
		int ok;
		if (stat(ca, &st) < 0) {
			oim_error(err, OIM_SEV_ACCOUNT, OIM_E_CONFIG,
				  "sslcacertfile '%s': %s", ca,
				  strerror(errno));
			goto fail;
		}
		if (S_ISDIR(st.st_mode))
			ok = SSL_CTX_load_verify_locations(tls->ctx, NULL, ca);
		else
			ok = SSL_CTX_load_verify_locations(tls->ctx, ca, NULL);
		if (!ok) {
			ssl_errors(ebuf, sizeof(ebuf));
			oim_error(err, OIM_SEV_ACCOUNT, OIM_E_CONFIG,
				  "sslcacertfile '%s': cannot load: %s", ca,
				  ebuf);
			goto fail;
		}
		tls->explicit_ca = true;
	} else {
		if (!SSL_CTX_set_default_verify_paths(tls->ctx)) {
			ssl_errors(ebuf, sizeof(ebuf));
			oim_error(err, OIM_SEV_ACCOUNT, OIM_E_CONFIG,
				  "cannot load the system CA store: %s", ebuf);
			goto fail;
		}
		tls->explicit_ca = ca && *ca;
	}

	if (opts->client_key && *opts->client_key &&
	    !(opts->client_cert && *opts->client_cert)) {
		oim_error(err, OIM_SEV_ACCOUNT, OIM_E_CONFIG,
			  "sslclientkey is set but sslclientcert is not");
		goto fail;
	}
	if (opts->client_cert && *opts->client_cert) {
		const char *key = opts->client_key && *opts->client_key
				      ? opts->client_key
				      : opts->client_cert;
		if (!SSL_CTX_use_certificate_chain_file(tls->ctx,
							opts->client_cert)) {
			ssl_errors(ebuf, sizeof(ebuf));
			oim_error(err, OIM_SEV_ACCOUNT, OIM_E_CONFIG,
				  "sslclientcert '%s': cannot load: %s",
				  opts->client_cert, ebuf);
			goto fail;
		}
		if (!SSL_CTX_use_PrivateKey_file(tls->ctx, key,
						 SSL_FILETYPE_PEM) ||
		    !SSL_CTX_check_private_key(tls->ctx)) {
			ssl_errors(ebuf, sizeof(ebuf));
			oim_error(err, OIM_SEV_ACCOUNT, OIM_E_CONFIG,
				  "sslclientkey '%s': cannot load or does not "
				  "match the certificate: %s",
				  key, ebuf);
			goto fail;
		}
	}
	*tls_r = tls;
	return 0;
fail:
	SSL_CTX_free(tls->ctx);
fail_nofree_ctx:
	free(tls);
	return -1;
}

void net_tls_free(struct net_tls *tls)
{
	if (!tls)
		return;
	SSL_CTX_free(tls->ctx);
	free(tls);
}

/* ---- the filter ---- */

struct tls_filter {
	struct net_filter base;
	SSL *ssl;
	struct oim_err lower_err; /* an error of the layer below, via BIO */
	bool lower_failed;
	int verify_err; /* first verification problem, X509_V_OK if none */
	int verify_depth;
	size_t wpend; /* bytes of obuf in an SSL_write to be retried */
	unsigned char obuf[NET_BUF_SIZE];
};

static int chain_bio_read(BIO *bio, char *buf, int len)
{
	struct tls_filter *t = BIO_get_data(bio);
	ssize_t n;

	BIO_clear_retry_flags(bio);
	if (len <= 0)
		return 0;
	n = net_lower_recv(&t->base, buf, (size_t)len, &t->lower_err);
	if (n == NET_AGAIN) {
		BIO_set_retry_read(bio);
		return -1;
	}
	if (n < 0) {
		t->lower_failed = true;
		return -1;
	}
	return (int)n; /* 0: end of stream */
}

static int chain_bio_write(BIO *bio, const char *buf, int len)
{
	struct tls_filter *t = BIO_get_data(bio);
	ssize_t n;

	BIO_clear_retry_flags(bio);
	if (len <= 0)
		return 0;
	n = net_lower_send(&t->base, buf, (size_t)len, &t->lower_err);
	if (n == NET_AGAIN) {
		BIO_set_retry_write(bio);
		return -1;
	}
	if (n < 0) {
		t->lower_failed = true;
		return -1;
	}
	return (int)n;
}

static long chain_bio_ctrl(BIO *bio, int cmd, long num, void *ptr)
{
	/* Flushing is the chain's business (net_conn_flush). */
	return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int verify_cb(int ok, X509_STORE_CTX *xctx)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(
	    xctx, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct tls_filter *t = ssl ? SSL_get_app_data(ssl) : NULL;

	if (!ok && t && t->verify_err == X509_V_OK) {
		t->verify_err = X509_STORE_CTX_get_error(xctx);
		t->verify_depth = X509_STORE_CTX_get_error_depth(xctx);
	}
	return 1; /* decided after the handshake, see the top of the file */
}

/*
 * Map a failed SSL_* call: NET_AGAIN (with the fd need set in *need_r),
 * 0 for end of stream, -1 with err filled.
 */
static int ssl_fail(struct tls_filter *t, int r, const char *what,
		    unsigned *need_r, struct oim_err *err)
{
	struct net_conn *conn = t->base.conn;
	int e = SSL_get_error(t->ssl, r);
	char ebuf[512];

	switch (e) {
	case SSL_ERROR_WANT_READ:
		*need_r = NET_IO_IN;
		ERR_clear_error();
		return NET_AGAIN;
	case SSL_ERROR_WANT_WRITE:
		*need_r = NET_IO_OUT;
		ERR_clear_error();
		return NET_AGAIN;
	case SSL_ERROR_ZERO_RETURN:
		ERR_clear_error();
		return 0;
	case SSL_ERROR_SYSCALL:
		if (t->lower_failed) {
			ERR_clear_error();
			t->lower_failed = false;
			if (err)
				*err = t->lower_err;
			return -1;
		}
		if (ERR_peek_error() == 0)
			return 0; /* EOF without close_notify */
		break;
	case SSL_ERROR_SSL:
		if (ERR_GET_REASON(ERR_peek_error()) ==
		    SSL_R_UNEXPECTED_EOF_WHILE_READING) {
			ERR_clear_error();
			return 0;
		}
		break;
	}
	ssl_errors(ebuf, sizeof(ebuf));
	return oim_error(err, OIM_SEV_ACCOUNT, OIM_E_TLS, "TLS %s with %s: %s",
			 what, conn->peer, ebuf);
}

static ssize_t tls_recv(struct net_filter *f, void *buf, size_t len,
			struct oim_err *err)
{
	struct tls_filter *t = (struct tls_filter *)f;
	size_t n = 0;
	int r;

	ERR_clear_error();
	r = SSL_read_ex(t->ssl, buf, len, &n);
	if (r > 0)
		return (ssize_t)n;
	return ssl_fail(t, r, "read", &f->conn->rd_need, err);
}

/* Retry the pending SSL_write until obuf is empty: 0, NET_AGAIN, -1. */
static int tls_retry_write(struct tls_filter *t, struct oim_err *err)
{
	while (t->wpend > 0) {
		size_t n = 0;
		int r;
		ERR_clear_error();
		r = SSL_write_ex(t->ssl, t->obuf, t->wpend, &n);
		if (r <= 0) {
			r = ssl_fail(t, r, "write", &t->base.conn->wr_need,
				     err);
			if (r == 0)
				return net_conn_eof_error(t->base.conn, err);
			return r;
		}
		/* partial writes are on: the rest is a new write */
		memmove(t->obuf, t->obuf + n, t->wpend - n);
		t->wpend -= n;
	}
	return 0;
}

static ssize_t tls_send(struct net_filter *f, const void *buf, size_t len,
			struct oim_err *err)
{
	struct tls_filter *t = (struct tls_filter *)f;
	size_t chunk = len < sizeof(t->obuf) ? len : sizeof(t->obuf);
	size_t n = 0;
	int r;

	if (t->wpend > 0) {
		r = tls_retry_write(t, err);
		if (r < 0)
			return r;
	}
	/*
	 * OpenSSL wants a write that would block repeated with the same
	 * bytes; the caller will not hand them again, so they are copied
	 * into obuf first and retried from there by flush or the next send.
	 */
	memcpy(t->obuf, buf, chunk);
	ERR_clear_error();
	r = SSL_write_ex(t->ssl, t->obuf, chunk, &n);
	if (r > 0)
		return (ssize_t)n;
	r = ssl_fail(t, r, "write", &f->conn->wr_need, err);
	if (r == NET_AGAIN) {
		t->wpend = chunk;
		return (ssize_t)chunk;
	}
	if (r == 0)
		return net_conn_eof_error(f->conn, err);
	return r;
}

static int tls_flush(struct net_filter *f, struct oim_err *err)
{
	struct tls_filter *t = (struct tls_filter *)f;
	int r = tls_retry_write(t, err);
	if (r < 0)
		return r;
	return net_lower_flush(f, err);
}

static bool tls_input_pending(const struct net_filter *f)
{
	const struct tls_filter *t = (const struct tls_filter *)f;
	return SSL_pending(t->ssl) > 0;
}

static bool tls_output_pending(const struct net_filter *f)
{
	const struct tls_filter *t = (const struct tls_filter *)f;
	return t->wpend > 0;
}

static void tls_destroy(struct net_filter *f)
{
	struct tls_filter *t = (struct tls_filter *)f;

	if (t->ssl) {
		/* Best effort close_notify; never waits. */
		if (SSL_is_init_finished(t->ssl) && !t->lower_failed)
			SSL_shutdown(t->ssl);
		ERR_clear_error();
		SSL_free(t->ssl); /* frees the BIO too */
	}
	free(t);
}

static const struct net_filter_ops tls_ops = {
    .name = "tls",
    .recv = tls_recv,
    .send = tls_send,
    .flush = tls_flush,
    .input_pending = tls_input_pending,
    .output_pending = tls_output_pending,
    .destroy = tls_destroy,
};

/* Build the refusal message the user can act on. */
static int cert_error(struct net_conn *conn, X509 *cert, const char *why,
		      struct oim_err *err)
{
	unsigned char *der = NULL;
	int der_len = i2d_X509(cert, &der);
	char sha256[2 * 32 + 1] = "", sha512[2 * 64 + 1] = "";
	char *subject = name_string(X509_get_subject_name(cert));
	char *issuer = name_string(X509_get_issuer_name(cert));

	if (der_len > 0) {
		net_cert_fingerprint_hex("SHA256", der, (size_t)der_len, sha256,
					 sizeof(sha256));
		net_cert_fingerprint_hex("SHA512", der, (size_t)der_len, sha512,
					 sizeof(sha512));
	}
	oim_error(err, OIM_SEV_ACCOUNT, OIM_E_TLS,
		  "TLS certificate of %s (host '%s') refused: %s; "
		  "subject: %s; issuer: %s; SHA-256 fingerprint: %s; "
		  "SHA-512 fingerprint: %s.  If you trust this certificate, "
		  "set cert_fingerprint = %s",
		  conn->peer, conn->host ? conn->host : "-", why, subject,
		  issuer, sha256, sha512, sha256);
	OPENSSL_free(der);
	free(subject);
	free(issuer);
	return -1;
}

static int check_peer(struct tls_filter *t, const struct net_tls *tls,
		      struct oim_err *err)
{
	struct net_conn *conn = t->base.conn;
	X509 *cert = SSL_get1_peer_certificate(t->ssl);
	unsigned char *der = NULL;
	int der_len;
	bool need_chain = tls->nfps == 0 || tls->explicit_ca;
	long vr = SSL_get_verify_result(t->ssl);
	char why[512];
	int ret = 0;

	if (!cert)
		return oim_error(err, OIM_SEV_ACCOUNT, OIM_E_TLS,
				 "TLS: %s sent no certificate", conn->peer);
	if (t->verify_err == X509_V_OK && vr != X509_V_OK) {
		t->verify_err = (int)vr;
		t->verify_depth = 0;
	}
	der_len = i2d_X509(cert, &der);
	if (der_len <= 0) {
		X509_free(cert);
		return oim_error(err, OIM_SEV_ACCOUNT, OIM_E_TLS,
				 "TLS: cannot encode the certificate of %s",
				 conn->peer);
	}
	if (tls->nfps > 0 && !net_fingerprints_match(tls->fps, tls->nfps, der,
						     (size_t)der_len)) {
		ret = cert_error(conn, cert,
				 "its fingerprint matches none of "
				 "cert_fingerprint",
				 err);
	} else if (need_chain && t->verify_err != X509_V_OK) {
		snprintf(why, sizeof(why), "%s (at chain depth %d)",
			 X509_verify_cert_error_string(t->verify_err),
			 t->verify_depth);
		ret = cert_error(conn, cert, why, err);
	}
	if (ret == 0 && log_debug_enabled(OIM_DBG_NET)) {
		char sha256[65];
		char *subject = name_string(X509_get_subject_name(cert));
		net_cert_fingerprint_hex("SHA256", der, (size_t)der_len, sha256,
					 sizeof(sha256));
		log_debug(OIM_DBG_NET,
			  "%s: TLS %s, cipher %s; certificate %s, SHA-256 %s, "
			  "accepted by %s",
			  conn->peer, SSL_get_version(t->ssl),
			  SSL_get_cipher_name(t->ssl), subject, sha256,
			  tls->nfps > 0 ? (need_chain ? "fingerprint and CA"
						      : "fingerprint")
					: "CA and host name");
		free(subject);
	}
	OPENSSL_free(der);
	X509_free(cert);
	return ret;
}

static void pop_filter(struct net_conn *conn, struct net_filter *f)
{
	conn->top = f->lower;
	f->ops->destroy(f);
	conn->rd_need = NET_IO_IN;
	conn->wr_need = NET_IO_OUT;
}

int net_conn_start_tls(struct net_conn *conn, const struct net_tls *tls,
		       struct oim_err *err)
{
	struct tls_filter *t;
	BIO *bio;
	char ebuf[512];

	pthread_once(&tls_once, tls_init_once);
	if (conn->tls || conn->compressed)
		return oim_error(err, OIM_SEV_ACCOUNT, OIM_E_TLS,
				 "%s: cannot start TLS on a %s connection",
				 conn->peer, conn->tls ? "TLS" : "compressed");
	if (!conn->host && tls->nfps == 0)
		return oim_error(err, OIM_SEV_ACCOUNT, OIM_E_TLS,
				 "%s: TLS without a host name to verify needs "
				 "cert_fingerprint",
				 conn->peer);
	if (net_conn_output_pending(conn))
		BUG("net_conn_start_tls with unflushed output");

	t = xcalloc(1, sizeof(*t));
	t->base.ops = &tls_ops;
	t->verify_err = X509_V_OK;
	net_conn_push(conn, &t->base);
	ERR_clear_error();
	t->ssl = SSL_new(tls->ctx);
	bio = t->ssl ? BIO_new(chain_bio_method) : NULL;
	if (!bio) {
		ssl_errors(ebuf, sizeof(ebuf));
		pop_filter(conn, &t->base);
		return oim_error(err, OIM_SEV_ACCOUNT, OIM_E_TLS,
				 "cannot create TLS session: %s", ebuf);
	}
	BIO_set_data(bio, t);
	BIO_set_init(bio, 1);
	SSL_set_bio(t->ssl, bio, bio);
	SSL_set_app_data(t->ssl, t);
	SSL_set_verify(t->ssl, SSL_VERIFY_PEER, verify_cb);
	if (conn->host) {
		int ok;
		if (is_ip_literal(conn->host)) {
			ok = X509_VERIFY_PARAM_set1_ip_asc(
			    SSL_get0_param(t->ssl), conn->host);
		} else {
			/* SNI only for names (RFC 6066 section 3) */
			SSL_set_hostflags(t->ssl,
					  X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
			ok = SSL_set_tlsext_host_name(t->ssl, conn->host) &&
			     SSL_set1_host(t->ssl, conn->host);
		}
		if (!ok) {
			ssl_errors(ebuf, sizeof(ebuf));
			pop_filter(conn, &t->base);
			return oim_error(err, OIM_SEV_ACCOUNT, OIM_E_TLS,
					 "TLS: cannot use host name '%s': %s",
					 conn->host, ebuf);
		}
	}
	log_debug(OIM_DBG_NET, "%s: starting TLS handshake", conn->peer);

	for (;;) {
		unsigned need = NET_IO_IN;
		int r;

		ERR_clear_error();
		r = SSL_connect(t->ssl);
		if (r == 1)
			break;
		r = ssl_fail(t, r, "handshake", &need, err);
		if (r == 0) {
			pop_filter(conn, &t->base);
			return oim_error(err, OIM_SEV_ACCOUNT, OIM_E_TLS,
					 "TLS handshake with %s: connection "
					 "closed by the server",
					 conn->peer);
		}
		if (r != NET_AGAIN) {
			pop_filter(conn, &t->base);
			return -1;
		}
		/* wait on the fd event OpenSSL needs, via the read path */
		conn->rd_need = need;
		if (net_conn_wait(conn, NET_WANT_READ, "in the TLS handshake",
				  err) < 0) {
			pop_filter(conn, &t->base);
			return -1;
		}
	}
	conn->rd_need = NET_IO_IN;
	conn->wr_need = NET_IO_OUT;
	if (check_peer(t, tls, err) < 0) {
		pop_filter(conn, &t->base);
		return -1;
	}
	conn->tls = true;
	return 0;
}
