/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * oauth2.c - access tokens from refresh tokens (see oauth2.h).
 */
#include <limits.h>
#include <pthread.h>
#include <time.h>

#include "../util/log.h"
#include "../util/module.h"
#include "../util/strbuf.h"
#include "../util/util.h"
#include "oauth2-http.h"
#include "oauth2.h"

struct token_entry {
	char *section;
	char *token; /* secret */
	time_t expires; /* CLOCK_MONOTONIC seconds; 0: never */
};

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct token_entry *cache;
static size_t cache_nr, cache_alloc;

static time_t now_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static void entry_drop(size_t i)
{
	free(cache[i].section);
	oim_free_secret(cache[i].token);
	cache[i] = cache[--cache_nr];
}

static char *cache_get(const char *section)
{
	char *t = NULL;
	pthread_mutex_lock(&cache_lock);
	for (size_t i = 0; i < cache_nr; i++) {
		if (strcmp(cache[i].section, section))
			continue;
		if (cache[i].expires && cache[i].expires <= now_mono()) {
			log_debug(OIM_DBG_IMAP,
				  "%s: the OAuth2 access token expired",
				  section);
			entry_drop(i);
		} else {
			t = xstrdup(cache[i].token);
		}
		break;
	}
	pthread_mutex_unlock(&cache_lock);
	return t;
}

static void cache_put(const char *section, const char *token, long expires_in)
{
	pthread_mutex_lock(&cache_lock);
	for (size_t i = 0; i < cache_nr; i++)
		if (!strcmp(cache[i].section, section)) {
			entry_drop(i);
			break;
		}
	ALLOC_GROW(cache, cache_nr + 1, cache_alloc);
	cache[cache_nr].section = xstrdup(section);
	cache[cache_nr].token = xstrdup(token);
	/* OfflineIMAP renews after half the lifetime */
	cache[cache_nr].expires =
	    expires_in > 0 ? now_mono() + expires_in / 2 : 0;
	cache_nr++;
	pthread_mutex_unlock(&cache_lock);
}

void oauth2_forget(const char *section)
{
	pthread_mutex_lock(&cache_lock);
	for (size_t i = 0; i < cache_nr; i++)
		if (!strcmp(cache[i].section, section)) {
			entry_drop(i);
			break;
		}
	pthread_mutex_unlock(&cache_lock);
}

void oauth2_cache_clear(void)
{
	pthread_mutex_lock(&cache_lock);
	while (cache_nr)
		entry_drop(cache_nr - 1);
	free(cache);
	cache = NULL;
	cache_alloc = 0;
	pthread_mutex_unlock(&cache_lock);
}

/* ---- the request, in oimap-oauth2.so (oauth2-http.c) ---- */

static pthread_once_t http_once = PTHREAD_ONCE_INIT;
static const struct oauth2_http_ops *http;
static char http_error[512];

static void http_load(void)
{
	http = oim_module_load(OAUTH2_MODULE_NAME, OAUTH2_MODULE_SYMBOL,
			       OAUTH2_HTTP_VERSION, http_error,
			       sizeof(http_error));
}

static int refresh(const struct oauth2_request *rq, char **token_r,
		   long *expires_r, struct oim_err *err)
{
	pthread_once(&http_once, http_load);
	if (!http)
		return oim_error(err, OIM_SEV_ACCOUNT, OIM_E_GENERIC,
				 "repository %s: cannot ask for an OAuth2 "
				 "access token: %s",
				 rq->section, http_error);
	return http->refresh(rq, token_r, expires_r, err);
}

/* Held while a token is asked for (never with cache_lock held): the
 * connections that log in at the same time (IDLE threads, folder workers)
 * wait for that answer instead of each asking the endpoint. */
static pthread_mutex_t refresh_lock = PTHREAD_MUTEX_INITIALIZER;

int oauth2_access_token(const struct oauth2_request *rq, char **token_r,
			struct oim_err *err)
{
	long expires = 0;
	int rc = -1;

	*token_r = cache_get(rq->section);
	if (*token_r)
		return 0;
	if (!rq->url || !*rq->url)
		return oim_error(err, OIM_SEV_ACCOUNT, OIM_E_CONFIG,
				 "repository %s: no oauth2_request_url to "
				 "turn the refresh token into an access token",
				 rq->section);
	pthread_mutex_lock(&refresh_lock);
	*token_r = cache_get(rq->section);
	if (*token_r) {
		rc = 0;
		goto out;
	}
	if (refresh(rq, token_r, &expires, err) < 0)
		goto out;
	log_debug(OIM_DBG_IMAP,
		  "%s: got an OAuth2 access token (valid for %ld s)",
		  rq->section, expires);
	if (expires >= 0)
		cache_put(rq->section, *token_r, expires);
	rc = 0;
out:
	pthread_mutex_unlock(&refresh_lock);
	return rc;
}
