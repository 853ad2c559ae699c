/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * oauth2-http.c - the OAuth2 token request (oauth2-http.h): libcurl for
 * HTTP, json-c for the answer.  Built into oimap-oauth2.so.
 */
#include <curl/curl.h>
#include <limits.h>
#include <json-c/json.h>
#include <pthread.h>

#include "../util/log.h"
#include "../util/module.h"
#include "../util/strbuf.h"
#include "../util/util.h"
#include "oauth2-http.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct body {
	struct strbuf sb;
	bool too_big;
};

static size_t body_write(char *p, size_t size, size_t n, void *ctx)
{
	struct body *b = ctx;
	size_t len = size * n;
	if (b->sb.len + len > OAUTH2_MAX_RESPONSE) {
		b->too_big = true;
		return 0; /* curl stops with CURLE_WRITE_ERROR */
	}
	strbuf_add(&b->sb, p, len);
	return len;
}

static void form_add(struct strbuf *form, CURL *c, const char *name,
		     const char *value)
{
	char *esc;
	if (!value)
		return;
	esc = curl_easy_escape(c, value, 0);
	if (!esc)
		BUG("curl_easy_escape: out of memory");
	if (form->len)
		strbuf_addch(form, '&');
	strbuf_addf(form, "%s=%s", name, esc);
	oim_wipe(esc, strlen(esc));
	curl_free(esc);
}

/* The endpoint's JSON answer: a token, or its error as a message. */
static int parse_answer(const struct oauth2_request *rq, const char *text,
			long http, char **token_r, long *expires_r,
			struct oim_err *err)
{
	struct json_object *o = json_tokener_parse(text), *v;
	int rc = -1;

	if (!o || !json_object_is_type(o, json_type_object)) {
		oim_error(err, OIM_SEV_ACCOUNT, OIM_E_PROTOCOL,
			  "repository %s: the OAuth2 token endpoint %s "
			  "answered (HTTP %ld) with something that is not a "
			  "JSON object",
			  rq->section, rq->url, http);
		goto out;
	}
	if (json_object_object_get_ex(o, "error", &v)) {
		struct json_object *d = NULL;
		const char *desc = NULL;
		if (json_object_object_get_ex(o, "error_description", &d))
			desc = json_object_get_string(d);
		oim_error(err, OIM_SEV_ACCOUNT, OIM_E_AUTH,
			  "repository %s: the OAuth2 token endpoint %s "
			  "refused the refresh token: %s%s%s",
			  rq->section, rq->url, json_object_get_string(v),
			  desc ? ": " : "", desc ? desc : "");
		goto out;
	}
	if (!json_object_object_get_ex(o, "access_token", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    !json_object_get_string_len(v)) {
		oim_error(err, OIM_SEV_ACCOUNT, OIM_E_PROTOCOL,
			  "repository %s: the OAuth2 token endpoint %s "
			  "answered (HTTP %ld) without an access_token",
			  rq->section, rq->url, http);
		goto out;
	}
	*token_r = xstrdup(json_object_get_string(v));
	/* no expires_in: good until refused; 0, negative or not a number:
	 * already expired (-1), as OfflineIMAP's now + expires_in / 2 */
	*expires_r = 0;
	if (json_object_object_get_ex(o, "expires_in", &v)) {
		int64_t e = json_object_get_int64(v);
		*expires_r = e > 0 && e <= LONG_MAX ? (long)e : -1;
	}
	rc = 0;
out:
	if (o)
		json_object_put(o);
	return rc;
}

static int refresh(const struct oauth2_request *rq, char **token_r,
		   long *expires_r, struct oim_err *err)
{
	struct body b = {STRBUF_INIT, false};
	struct strbuf form = STRBUF_INIT;
	char cerr[CURL_ERROR_SIZE] = "";
	CURL *c;
	CURLcode cc;
	long http = 0;
	int rc = -1;

	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK)
		return oim_error(err, OIM_SEV_ACCOUNT, OIM_E_GENERIC,
				 "libcurl cannot start: %s",
				 curl_easy_strerror(curl_init_rc));
	c = curl_easy_init();
	if (!c)
		return oim_error(err, OIM_SEV_ACCOUNT, OIM_E_GENERIC,
				 "libcurl cannot start");
	form_add(&form, c, "client_id", rq->client_id);
	form_add(&form, c, "client_secret", rq->client_secret);
	form_add(&form, c, "refresh_token", rq->refresh_token);
	form_add(&form, c, "grant_type", "refresh_token");
	curl_easy_setopt(c, CURLOPT_URL, rq->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https,http");
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, form.buf);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)form.len);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, body_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, OAUTH2_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (rq->cafile)
		curl_easy_setopt(c, CURLOPT_CAINFO, rq->cafile);
	log_debug(OIM_DBG_IMAP, "%s: asking %s for an OAuth2 access token",
		  rq->section, rq->url);
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &http);
	if (b.too_big) {
		oim_error(err, OIM_SEV_ACCOUNT, OIM_E_LIMIT,
			  "repository %s: the OAuth2 token endpoint %s "
			  "answered with more than %u bytes",
			  rq->section, rq->url, OAUTH2_MAX_RESPONSE);
	} else if (cc != CURLE_OK) {
		oim_error(err, OIM_SEV_ACCOUNT, OIM_E_CONN_LOST,
			  "repository %s: cannot get an OAuth2 access token "
			  "from %s: %s",
			  rq->section, rq->url,
			  cerr[0] ? cerr : curl_easy_strerror(cc));
	} else {
		rc = parse_answer(rq, b.sb.buf ? b.sb.buf : "", http, token_r,
				  expires_r, err);
	}
	curl_easy_cleanup(c);
	oim_wipe(form.buf, form.len);
	strbuf_release(&form);
	if (b.sb.buf)
		oim_wipe(b.sb.buf, b.sb.len);
	strbuf_release(&b.sb);
	return rc;
}

__attribute__((visibility("default"))) const struct oauth2_http_ops *
oimap_oauth2_ops(const struct oim_module_host *h);

const struct oauth2_http_ops *oimap_oauth2_ops(const struct oim_module_host *h)
{
	static const struct oauth2_http_ops ops = {OAUTH2_HTTP_VERSION,
						   refresh};
	if (!h || h->version != OIM_MODULE_HOST_VERSION)
		return NULL;
	oim_module_set_host(h);
	return &ops;
}
