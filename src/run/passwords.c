/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * passwords.c - IMAP credentials from the config, the *eval expressions,
 * a password file and netrc, in OfflineIMAP's order (see passwords.h).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../config/config.h"
#include "../ui/ui.h"
#include "../pyeval/pyeval.h"
#include "../util/netrc.h"
#include "../util/strbuf.h"
#include "../util/util.h"
#include "oauth2.h"
#include "passwords.h"

/*
 * remotepasseval results, per repository section, for the life of the
 * process: OfflineIMAP evaluates it once per repository (a password
 * manager prompt or a gpg decryption must not come back at every
 * autorefresh).  Dropped after an authentication failure.
 */
struct pass_cache_entry {
	char *section;
	char *password; /* secret */
};
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
/* held while a remotepasseval is evaluated (never with cache_lock) */
static pthread_mutex_t eval_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pass_cache_entry *cache;
static size_t cache_nr, cache_alloc;

static char *cache_get(const char *section)
{
	char *p = NULL;
	pthread_mutex_lock(&cache_lock);
	for (size_t i = 0; i < cache_nr && !p; i++)
		if (!strcmp(cache[i].section, section))
			p = xstrdup(cache[i].password);
	pthread_mutex_unlock(&cache_lock);
	return p;
}

static void cache_put(const char *section, const char *password)
{
	pthread_mutex_lock(&cache_lock);
	for (size_t i = 0; i < cache_nr; i++)
		if (!strcmp(cache[i].section, section)) {
			oim_free_secret(cache[i].password);
			cache[i].password = xstrdup(password);
			pthread_mutex_unlock(&cache_lock);
			return;
		}
	ALLOC_GROW(cache, cache_nr, cache_alloc);
	cache[cache_nr].section = xstrdup(section);
	cache[cache_nr].password = xstrdup(password);
	cache_nr++;
	pthread_mutex_unlock(&cache_lock);
}

void imap_creds_forget(const char *section)
{
	oauth2_forget(oim_starts_with(section, "Repository ")
			  ? section + strlen("Repository ")
			  : section);
	pthread_mutex_lock(&cache_lock);
	for (size_t i = 0; i < cache_nr; i++)
		if (!strcmp(cache[i].section, section)) {
			free(cache[i].section);
			oim_free_secret(cache[i].password);
			cache[i] = cache[--cache_nr];
			break;
		}
	pthread_mutex_unlock(&cache_lock);
}

void imap_creds_cache_clear(void)
{
	oauth2_cache_clear();
	pthread_mutex_lock(&cache_lock);
	for (size_t i = 0; i < cache_nr; i++) {
		free(cache[i].section);
		oim_free_secret(cache[i].password);
	}
	free(cache);
	cache = NULL;
	cache_nr = cache_alloc = 0;
	pthread_mutex_unlock(&cache_lock);
}

void imap_creds_release(struct imap_creds *c)
{
	free(c->host);
	free(c->user);
	oim_free_secret(c->password);
	oim_free_secret(c->oauth2_token);
	memset(c, 0, sizeof(*c));
}

/* Compile an *eval option: 1 and *e_r when it is set, 0 when it is not,
 * -1 on error. */
static int compile_opt(struct config *cfg, const char *section,
		       const char *option, struct pyeval_expr **e_r,
		       struct oim_err *err)
{
	const char *text = NULL;
	*e_r = NULL;
	if (!config_has_option(cfg, section, option))
		return 0;
	if (config_get_str(cfg, section, option, NULL, &text, err))
		return -1;
	if (!text)
		return 0;
	if (pyeval_compile(text, option, config_origin(cfg, section, option),
			   pyeval_option_flags(option), e_r, err))
		return -1;
	return 1;
}

/* Compile and evaluate an *eval option as a string; *out_r NULL when the
 * option is unset.  Secret results must be freed with oim_free_secret. */
static int eval_str(struct config *cfg, const char *section, const char *option,
		    char **out_r, struct oim_err *err)
{
	struct pyeval_expr *e;
	*out_r = NULL;
	int rc = compile_opt(cfg, section, option, &e, err);
	if (rc <= 0)
		return rc;
	rc = pyeval_eval_str(e, out_r, err);
	pyeval_expr_free(e);
	return rc;
}

static int eval_long(struct config *cfg, const char *section,
		     const char *option, bool *set_r, long *out_r,
		     struct oim_err *err)
{
	struct pyeval_expr *e;
	*set_r = false;
	int rc = compile_opt(cfg, section, option, &e, err);
	if (rc <= 0)
		return rc;
	rc = pyeval_eval_long(e, out_r, err);
	pyeval_expr_free(e);
	if (!rc)
		*set_r = true;
	return rc;
}

/* The first line of the file, stripped as Python's str.strip(). */
static int read_passfile(const char *path, char **out_r, struct oim_err *err)
{
	struct strbuf sb = STRBUF_INIT;
	FILE *f = fopen(path, "r");
	int c;
	*out_r = NULL;
	if (!f)
		return oim_error(err, OIM_SEV_ACCOUNT, OIM_E_IO,
				 "remotepassfile '%s': %s", path,
				 strerror(errno));
	while ((c = getc(f)) != EOF && c != '\n') {
		if (sb.len >= OIM_PASSFILE_MAX) {
			fclose(f);
			strbuf_release_secret(&sb);
			return oim_error(err, OIM_SEV_ACCOUNT, OIM_E_LIMIT,
					 "remotepassfile '%s': first line "
					 "longer than %u bytes",
					 path, OIM_PASSFILE_MAX);
		}
		strbuf_addch(&sb, c);
	}
	if (ferror(f)) {
		int e = errno;
		fclose(f);
		strbuf_release_secret(&sb);
		return oim_error(err, OIM_SEV_ACCOUNT, OIM_E_IO,
				 "remotepassfile '%s': %s", path, strerror(e));
	}
	fclose(f);
	strbuf_trim(&sb);
	*out_r = strbuf_detach(&sb, NULL);
	return 0;
}

/*
 * Python's netrc module, so OfflineIMAP, refuses the default ~/.netrc
 * (not /etc/netrc, not a file named explicitly) when another user owns it
 * or group or others have any access to it, as soon as it has an entry
 * whose login is not "anonymous" (netrc._security_check).  Python checks
 * every entry of the file; we check the entry we would use, which is the
 * one that matters: a password others can read is not sent.
 */
static int netrc_security_check(const char *path, const char *login,
				struct oim_err *err)
{
	struct stat st;
	if (login && !strcmp(login, "anonymous"))
		return 0;
	if (stat(path, &st))
		return oim_error(err, OIM_SEV_ACCOUNT, OIM_E_IO, "'%s': %s",
				 path, strerror(errno));
	if (st.st_uid != getuid())
		return oim_error(err, OIM_SEV_ACCOUNT, OIM_E_CONFIG,
				 "~/.netrc ('%s') is owned by uid %ld, not by "
				 "the current user (uid %ld); not using it",
				 path, (long)st.st_uid, (long)getuid());
	if (st.st_mode & (S_IRWXG | S_IRWXO))
		return oim_error(err, OIM_SEV_ACCOUNT, OIM_E_CONFIG,
				 "~/.netrc ('%s') access too permissive "
				 "(mode %04o): access permissions must "
				 "restrict access to only the owner "
				 "(chmod 600)",
				 path, (unsigned)(st.st_mode & 07777));
	return 0;
}

/*
 * A netrc entry for host: 1 with *login_r / *password_r, 0 when none.
 * A file we may not read counts as absent for /etc/netrc (OfflineIMAP
 * ignores EACCES there).  check: the file is the default ~/.netrc, which
 * must pass netrc_security_check.
 */
static int netrc_get(const char *path, const char *host, bool etc, bool check,
		     char **login_r, char **password_r, struct oim_err *err)
{
	int rc;
	*login_r = *password_r = NULL;
	if (!path || !host)
		return 0;
	if (etc && access(path, R_OK) != 0)
		return 0;
	rc = netrc_lookup(path, host, login_r, password_r, err);
	if (rc > 0 && check && netrc_security_check(path, *login_r, err)) {
		free(*login_r);
		oim_free_secret(*password_r);
		*login_r = *password_r = NULL;
		rc = -1;
	}
	if (rc < 0)
		err->sev = OIM_SEV_ACCOUNT;
	return rc;
}

static char *home_netrc_path(void)
{
	const char *home = getenv("HOME");
	if (!home || !*home)
		return NULL;
	return xasprintf("%s/.netrc", home);
}

static bool has_oauth2(struct config *cfg, const char *section)
{
	static const char *const opts[] = {
	    "oauth2_access_token", "oauth2_access_token_eval",
	    "oauth2_refresh_token", "oauth2_refresh_token_eval"};
	for (size_t i = 0; i < ARRAY_SIZE(opts); i++)
		if (config_has_option(cfg, section, opts[i]))
			return true;
	return false;
}

static int get_password(struct config *cfg, const char *section,
			const struct creds_netrc_paths *paths,
			struct imap_creds *c, struct oim_err *err)
{
	const char *s = NULL;
	char *home = NULL, *login = NULL, *pass = NULL;
	int rc;

	/* 1. remotepasseval, evaluated once per process; connections made
	 * at the same time (IDLE threads, folder workers) wait for the one
	 * evaluating it instead of asking the password manager again */
	if (config_has_option(cfg, section, "remotepasseval")) {
		pthread_mutex_lock(&eval_lock);
		c->password = cache_get(section);
		if (!c->password) {
			rc = eval_str(cfg, section, "remotepasseval",
				      &c->password, err);
			if (rc == 0 && c->password)
				cache_put(section, c->password);
		} else {
			rc = 0;
		}
		pthread_mutex_unlock(&eval_lock);
	} else {
		rc = eval_str(cfg, section, "remotepasseval", &c->password,
			      err);
	}
	if (rc < 0)
		return -1;
	if (c->password)
		return 0;
	/* 2. remotepass */
	if (config_get_str(cfg, section, "remotepass", NULL, &s, err))
		return -1;
	if (s) {
		c->password = xstrdup(s);
		return 0;
	}
	/* 3. remotepassfile */
	if (config_get_path(cfg, section, "remotepassfile", NULL, &s, err))
		return -1;
	if (s)
		return read_passfile(s, &c->password, err);
	/* 4. ~/.netrc, 5. /etc/netrc */
	for (int i = 0; i < 2; i++) {
		const char *path;
		if (i == 0) {
			path = paths && paths->home
				   ? paths->home
				   : (home = home_netrc_path());
		} else {
			path = paths && paths->etc ? paths->etc : "/etc/netrc";
		}
		rc = netrc_get(path, c->host, i == 1,
			       i == 0 && !(paths && paths->home), &login, &pass,
			       err);
		if (rc < 0)
			goto out;
		if (rc > 0 && pass &&
		    (!c->user || (login && !strcmp(c->user, login)))) {
			c->password = pass;
			pass = NULL;
			rc = 0;
			goto out;
		}
		free(login);
		oim_free_secret(pass);
		login = pass = NULL;
	}
	/* 6. the terminal (ttyui, the default UI): asked once per process,
	 * unless an OAuth2 token will do instead */
	if (!has_oauth2(cfg, section)) {
		const char *name = oim_starts_with(section, "Repository ")
				       ? section + strlen("Repository ")
				       : section;
		c->password = cache_get(section);
		if (!c->password) {
			rc = ui_getpass(name, c->user, NULL, &c->password, err);
			if (rc < 0)
				goto out;
			if (c->password)
				cache_put(section, c->password);
		}
	}
	rc = 0;
out:
	free(login);
	oim_free_secret(pass);
	free(home);
	return rc;
}

static int get_user(struct config *cfg, const char *section,
		    const struct creds_netrc_paths *paths, struct imap_creds *c,
		    struct oim_err *err)
{
	const char *s = NULL;
	char *home = NULL, *login = NULL, *pass = NULL;
	int rc;

	if (eval_str(cfg, section, "remoteusereval", &c->user, err))
		return -1;
	if (c->user)
		return 0;
	if (config_get_str(cfg, section, "remoteuser", NULL, &s, err))
		return -1;
	if (s) {
		c->user = xstrdup(s);
		return 0;
	}
	/* OfflineIMAP's getuser() reads ~/.netrc only. */
	rc = netrc_get(
	    paths && paths->home ? paths->home : (home = home_netrc_path()),
	    c->host, false, !(paths && paths->home), &login, &pass, err);
	oim_free_secret(pass);
	free(home);
	if (rc > 0)
		c->user = login;
	else
		free(login);
	return rc < 0 ? -1 : 0;
}

/* A string option or its *_eval twin (the eval wins, as OfflineIMAP's
 * getconf(..) or eval(getconf(.._eval)) order has it for oauth2_*). */
static int str_or_eval(struct config *cfg, const char *section,
		       const char *option, char **out_r, struct oim_err *err)
{
	const char *s = NULL;
	char *eopt = xasprintf("%s_eval", option);
	int rc;

	*out_r = NULL;
	if (config_get_str(cfg, section, option, NULL, &s, err)) {
		free(eopt);
		return -1;
	}
	if (s) {
		*out_r = xstrdup(s);
		free(eopt);
		return 0;
	}
	rc = eval_str(cfg, section, eopt, out_r, err);
	free(eopt);
	return rc;
}

/*
 * No access token configured: with oauth2_refresh_token(_eval), one from
 * the token endpoint (oauth2.h).  A Gmail repository has Google's endpoint
 * by default (repository/Gmail.py).
 */
static int get_oauth2(struct config *cfg, const char *section,
		      struct imap_creds *c, struct oim_err *err)
{
	char *refresh = NULL, *id = NULL, *secret = NULL;
	const char *url = NULL, *type = NULL;
	const char *name = section;
	int rc = -1;

	if (oim_starts_with(name, "Repository "))
		name += strlen("Repository ");
	if (str_or_eval(cfg, section, "oauth2_refresh_token", &refresh, err))
		return -1;
	if (!refresh)
		return 0;
	if (str_or_eval(cfg, section, "oauth2_client_id", &id, err) ||
	    str_or_eval(cfg, section, "oauth2_client_secret", &secret, err) ||
	    config_get_str(cfg, section, "type", NULL, &type, err) ||
	    config_get_str(cfg, section, "oauth2_request_url",
			   type && !oim_strcasecmp(type, "Gmail")
			       ? "https://accounts.google.com/o/oauth2/token"
			       : NULL,
			   &url, err))
		goto out;
	struct oauth2_request rq = {name, url, id, secret, refresh, NULL};
	rc = oauth2_access_token(&rq, &c->oauth2_token, err);
out:
	oim_free_secret(refresh);
	oim_free_secret(secret);
	free(id);
	return rc;
}

int imap_creds_get(struct config *cfg, const char *section,
		   const struct creds_netrc_paths *paths, bool need_password,
		   struct imap_creds *c, struct oim_err *err)
{
	const char *s = NULL;
	bool set = false;
	long port = 0;

	memset(c, 0, sizeof(*c));
	/* host */
	if (eval_str(cfg, section, "remotehosteval", &c->host, err))
		goto fail;
	if (!c->host) {
		if (config_get_str(cfg, section, "remotehost", NULL, &s, err))
			goto fail;
		if (s)
			c->host = xstrdup(s);
	}
	/* port */
	if (eval_long(cfg, section, "remoteporteval", &set, &port, err))
		goto fail;
	if (!set) {
		if (config_get_int(cfg, section, "remoteport", 0, &port, err))
			goto fail;
	}
	if (port < 0 || port > 65535) {
		oim_error(err, OIM_SEV_ACCOUNT, OIM_E_CONFIG,
			  "[%s] remoteport %ld is not a port number", section,
			  port);
		goto fail;
	}
	c->port = port;
	if (get_user(cfg, section, paths, c, err))
		goto fail;
	if (need_password && get_password(cfg, section, paths, c, err))
		goto fail;
	if (eval_str(cfg, section, "oauth2_access_token_eval", &c->oauth2_token,
		     err))
		goto fail;
	if (!c->oauth2_token) {
		if (config_get_str(cfg, section, "oauth2_access_token", NULL,
				   &s, err))
			goto fail;
		if (s)
			c->oauth2_token = xstrdup(s);
	}
	if (!c->oauth2_token && get_oauth2(cfg, section, c, err))
		goto fail;
	return 0;
fail:
	if (err->sev < OIM_SEV_ACCOUNT)
		err->sev = OIM_SEV_ACCOUNT;
	imap_creds_release(c);
	return -1;
}
