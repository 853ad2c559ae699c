/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * oauth2.h - an OAuth2 access token from a refresh token, as OfflineIMAP's
 * imapserver.py __xoauth2handler gets one: a POST of grant_type=
 * refresh_token, client_id, client_secret and refresh_token
 * (application/x-www-form-urlencoded) to oauth2_request_url, whose JSON
 * answer holds access_token and maybe expires_in, or error (and
 * error_description).
 *
 * HTTP goes through libcurl (TLS verified against the system CAs), the
 * answer through json-c.  Secrets (the refresh token, the client secret,
 * the access token) never appear in messages or debug logs.
 *
 * Tokens are cached per repository section for the life of the process,
 * until half their lifetime has passed (as OfflineIMAP does) or the
 * server refused one (oauth2_forget()).  A token whose expires_in is 0,
 * negative or not a number is used once and not cached.
 *
 * Threads: any thread.  Callers that miss the cache together wait for one
 * request to the endpoint.
 */
#ifndef OIMAP_RUN_OAUTH2_H
#define OIMAP_RUN_OAUTH2_H

#include "../util/err.h"

/* Bytes of a token endpoint's answer we accept. */
#define OAUTH2_MAX_RESPONSE (64u * 1024)
/* Seconds a token request may take. */
#define OAUTH2_TIMEOUT_S 60L

struct oauth2_request {
	const char *section;	   /* cache key, and for messages */
	const char *url;	   /* oauth2_request_url */
	const char *client_id;	   /* may be NULL */
	const char *client_secret; /* secret; may be NULL */
	const char *refresh_token; /* secret */
	const char *cafile;	   /* NULL: the system's CAs */
};

/*
 * A valid access token for rq->section: the cached one, or a new one from
 * the endpoint.  *token_r: secret, free with oim_free_secret().  Errors
 * (OIM_SEV_ACCOUNT, OIM_E_AUTH for an answer with "error") name the
 * repository, the URL and the endpoint's error, never a secret.
 */
int oauth2_access_token(const struct oauth2_request *rq, char **token_r,
			struct oim_err *err) OIM_WUR;
/* Drop the cached token of a section (the server refused it). */
void oauth2_forget(const char *section);
/* Drop every cached token (wiped); at exit. */
void oauth2_cache_clear(void);

#endif
