/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * client-auth.c - authentication in OfflineIMAP's auth_mechanisms order:
 * XOAUTH2, CRAM-MD5, PLAIN (RFC 4616), LOGIN; SASL-IR (RFC 4959) where
 * offered.  GSSAPI is not built in: it is skipped with a debug note.
 *
 * Every secret (password, token, the SASL payloads that contain them) is
 * marked secret in the command segments, so it is never logged and is
 * wiped after sending.  Error messages never contain it.
 *
 * A mechanism the server rejects with NO stops the search (OfflineIMAP
 * tries the next one, but each refused attempt costs the server's auth
 * delay and the answer will not change); BAD (mechanism not understood)
 * goes on to the next.
 */
#include "client-int.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "../util/log.h"

static char *b64_encode(const void *data, size_t len)
{
	char *out = xmalloc(4 * ((len + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	return out;
}

/* Decode base64 into sb; -1 if malformed. */
static int b64_decode(const char *in, struct strbuf *sb)
{
	size_t len = strlen(in);
	if (len % 4)
		return -1;
	strbuf_grow(sb, len);
	int n = EVP_DecodeBlock((unsigned char *)sb->buf + sb->len,
				(const unsigned char *)in, (int)len);
	if (n < 0)
		return -1;
	/* EVP_DecodeBlock counts padding as zero bytes */
	if (len >= 1 && in[len - 1] == '=')
		n--;
	if (len >= 2 && in[len - 2] == '=')
		n--;
	strbuf_setlen(sb, sb->len + (size_t)n);
	return 0;
}

struct auth_ctx {
	const char *user;
	const char *secret;
	const char *mech;
	int step;
};

/* AUTHENTICATE LOGIN: "Username:" then "Password:" (base64 prompts). */
static int cont_login(void *vctx, const char *text, struct strbuf *reply,
		      bool *secret, struct oim_err *err)
{
	struct auth_ctx *a = vctx;
	const char *v = a->step++ == 0 ? a->user : a->secret;
	if (a->step > 2)
		return oim_error(err, OIM_SEV_ACCOUNT, OIM_E_AUTH,
				 "unexpected third AUTHENTICATE LOGIN "
				 "challenge");
	char *b = b64_encode(v, strlen(v));
	strbuf_addstr(reply, b);
	*secret = a->step == 2;
	oim_free_secret(b);
	return 0;
}

/* PLAIN without SASL-IR: the server sends an empty challenge. */
static void plain_payload(struct strbuf *sb, const char *user,
			  const char *pass)
{
	struct strbuf raw = STRBUF_INIT;
	strbuf_addch(&raw, '\0');
	strbuf_addstr(&raw, user);
	strbuf_addch(&raw, '\0');
	strbuf_addstr(&raw, pass);
	char *b = b64_encode(raw.buf, raw.len);
	strbuf_addstr(sb, b);
	oim_free_secret(b);
	strbuf_release_secret(&raw);
}

static void xoauth2_payload(struct strbuf *sb, const char *user,
			    const char *token)
{
	struct strbuf raw = STRBUF_INIT;
	strbuf_addf(&raw, "user=%s\001auth=Bearer %s\001\001", user, token);
	char *b = b64_encode(raw.buf, raw.len);
	strbuf_addstr(sb, b);
	oim_free_secret(b);
	strbuf_release_secret(&raw);
}

static int cont_payload(void *vctx, const char *text, struct strbuf *reply,
			bool *secret, struct oim_err *err)
{
	struct auth_ctx *a = vctx;
	if (a->step++ == 0) {
		if (!strcmp(a->mech, "PLAIN"))
			plain_payload(reply, a->user, a->secret);
		else
			xoauth2_payload(reply, a->user, a->secret);
		*secret = true;
		return 0;
	}
	/* XOAUTH2 failure: the server sends a JSON error as a challenge
	 * and wants an empty line before its NO. */
	*secret = false;
	return 0;
}

static int cont_cram(void *vctx, const char *text, struct strbuf *reply,
		     bool *secret, struct oim_err *err)
{
	struct auth_ctx *a = vctx;
	if (a->step++)
		return oim_error(err, OIM_SEV_ACCOUNT, OIM_E_AUTH,
				 "unexpected second CRAM-MD5 challenge");
	struct strbuf chal = STRBUF_INIT;
	if (b64_decode(text, &chal)) {
		strbuf_release(&chal);
		return oim_error(err, OIM_SEV_ACCOUNT, OIM_E_PROTOCOL,
				 "malformed CRAM-MD5 challenge");
	}
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	HMAC(EVP_md5(), a->secret, (int)strlen(a->secret),
	     (const unsigned char *)chal.buf, chal.len, mac, &maclen);
	strbuf_release(&chal);
	struct strbuf raw = STRBUF_INIT;
	strbuf_addf(&raw, "%s ", a->user);
	for (unsigned i = 0; i < maclen; i++)
		strbuf_addf(&raw, "%02x", mac[i]);
	oim_wipe(mac, sizeof(mac));
	char *b = b64_encode(raw.buf, raw.len);
	strbuf_addstr(reply, b);
	oim_free_secret(b);
	strbuf_release_secret(&raw);
	*secret = true;
	return 0;
}

static int run_auth(struct imap_client *c, struct imap_cmd *cmd,
		    struct oim_err *err)
{
	return imap_cmd_run(c, cmd, NULL, NULL, err);
}

static int try_mech(struct imap_client *c, const char *mech,
		    const struct imap_client_opts *o, struct oim_err *err)
{
	const char *user = o->user ? o->user : "";
	bool ir = imap_has_cap(c, "SASL-IR");
	struct auth_ctx a = { user, o->password, mech, 0 };
	struct imap_cmd *cmd = imap_cmd_new(c);

	if (!strcmp(mech, "LOGIN") && !imap_has_cap(c, "AUTH=LOGIN")) {
		/* the LOGIN command */
		imap_cmd_add_text(cmd, "LOGIN ");
		imap_cmd_add_string(cmd, user, false);
		imap_cmd_add_text(cmd, " ");
		imap_cmd_add_string(cmd, o->password, true);
		return run_auth(c, cmd, err);
	}
	if (!strcmp(mech, "LOGIN")) {
		imap_cmd_add_text(cmd, "AUTHENTICATE LOGIN");
		cmd->cont = cont_login;
	} else if (!strcmp(mech, "CRAM-MD5")) {
		imap_cmd_add_text(cmd, "AUTHENTICATE CRAM-MD5");
		cmd->cont = cont_cram;
	} else { /* PLAIN, XOAUTH2 */
		if (!strcmp(mech, "XOAUTH2"))
			a.secret = o->oauth2_token;
		imap_cmd_add_text(cmd, "AUTHENTICATE %s", mech);
		if (ir) {
			struct strbuf p = STRBUF_INIT;
			if (!strcmp(mech, "PLAIN"))
				plain_payload(&p, user, a.secret);
			else
				xoauth2_payload(&p, user, a.secret);
			imap_cmd_add_text(cmd, " ");
			imap_cmd_add_secret_text(cmd, p.buf);
			strbuf_release_secret(&p);
			a.step = 1; /* payload sent; a challenge means error */
		}
		cmd->cont = cont_payload;
	}
	cmd->cont_ctx = &a;
	return run_auth(c, cmd, err);
}

int imap_client_authenticate(struct imap_client *c,
			     const struct imap_client_opts *o,
			     struct oim_err *err)
{
	const char *list = o->auth_mechanisms
				   ? o->auth_mechanisms
				   : "GSSAPI, XOAUTH2, CRAM-MD5, PLAIN, LOGIN";
	struct strbuf tried = STRBUF_INIT;
	const char *p = list;
	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		size_t n = strcspn(p, ", \t");
		if (!n)
			break;
		char mech[32];
		snprintf(mech, sizeof(mech), "%.*s", (int)n, p);
		for (char *m = mech; *m; m++)
			if (*m >= 'a' && *m <= 'z')
				*m -= 'a' - 'A';
		p += n;

		char cap[40];
		snprintf(cap, sizeof(cap), "AUTH=%s", mech);
		bool usable;
		if (!strcmp(mech, "LOGIN"))
			usable = o->password &&
				 (!imap_has_cap(c, "LOGINDISABLED") ||
				  imap_has_cap(c, "AUTH=LOGIN"));
		else if (!strcmp(mech, "XOAUTH2"))
			usable = o->oauth2_token && imap_has_cap(c, cap);
		else if (!strcmp(mech, "PLAIN") || !strcmp(mech, "CRAM-MD5"))
			usable = o->password && imap_has_cap(c, cap);
		else {
			log_debug(OIM_DBG_IMAP,
				  "%s: authentication mechanism %s is not "
				  "supported by oimap; skipped",
				  c->name, mech);
			usable = false;
		}
		if (!usable)
			continue;
		strbuf_addf(&tried, "%s%s", tried.len ? ", " : "", mech);
		log_debug(OIM_DBG_IMAP, "%s: authenticating with %s", c->name,
			  mech);
		if (try_mech(c, mech, o, err) == 0) {
			strbuf_release(&tried);
			return 0;
		}
		if (c->broken || err->kind == OIM_E_IMAP_NO) {
			if (err->kind == OIM_E_IMAP_NO ||
			    err->kind == OIM_E_IMAP_BAD) {
				err->kind = OIM_E_AUTH;
				err->sev = OIM_SEV_ACCOUNT;
				oim_err_prefix(err,
					       "%s: authentication as '%s' "
					       "failed",
					       c->name, o->user ? o->user : "");
			}
			strbuf_release(&tried);
			return -1;
		}
	}
	if (tried.len) {
		err->kind = OIM_E_AUTH;
		err->sev = OIM_SEV_ACCOUNT;
		oim_err_prefix(err, "%s: authentication failed (tried %s)",
			       c->name, tried.buf);
	} else {
		oim_error(err, OIM_SEV_ACCOUNT, OIM_E_AUTH,
			  "%s: no usable authentication mechanism: wanted "
			  "'%s'%s; the server offers what its capabilities "
			  "list",
			  c->name, list,
			  o->password || o->oauth2_token
				  ? ""
				  : " and no password or token is configured");
	}
	strbuf_release(&tried);
	return -1;
}
