/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * account.c - sync one account: read both repositories' options from the
 * config, open the stores, list and match folders (account-names.c),
 * create missing ones, then sync every folder pair with sync_folder() over
 * at most maxconnections workers, each with its own connections.
 *
 * OfflineIMAP 8's accounts.py (__sync, syncfolder) and repository/ (Base, IMAP,
 * Maildir) are the model; differences are marked "oimap:".
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <time.h>

#include "../config/config.h"
#include "../main.h"
#include "../net/net.h"
#include "../pyeval/pyeval.h"
#include "../run/passwords.h"
#include "../ui/ui.h"
#include "../util/log.h"
#include "../util/util.h"
#include "account.h"
#include "sync.h"

static volatile sig_atomic_t stop_requested;

void sync_account_request_stop(void)
{
	stop_requested = 1;
}

bool sync_account_stop_requested(void)
{
	return stop_requested != 0;
}

/* One repository of the account, as its stores will be opened. */
struct side {
	const struct config_repo *repo;
	bool is_imap;
	struct store_imap_opts imap;
	struct store_maildir_opts md;
	struct imap_creds creds;
	struct net_tls *tls;
	struct acct_repo_rules rules;
	char **includes; /* folderincludes (pyeval strlist) */
	struct pyeval_expr *copy_ignore;
	long maxconn;
	bool readonly, sync_deletes;
};

/* One local folder's sync_folder_precheck(), keyed by its local name. */
struct precheck_item {
	char *local_name, *local_visible, *status_name;
	struct sync_folder_precheck pc;
};

struct precheck {
	struct account *ac;
	struct store *local; /* the thread's own */
	struct precheck_item *v;
	size_t nr, alloc;
	pthread_t tid;
	bool running;
	atomic_bool cancel;
};

struct account {
	struct config *cfg;
	const struct oim_options *o;
	const struct config_account *a;
	const char *metadata;
	char *account_dir;
	struct side side[2]; /* SYNC_REMOTE, SYNC_LOCAL */
	enum status_backend backend;
	struct sync_plan_opts plan;
	bool dry_run, fsync, expunge;
	const char *const *only_folders; /* sync_account_opts */
	/* synclabels: labels_init(); job.labels points here when on */
	struct sync_labels_opts labels;
	bool synclabels;

	/* remote folder states from the listing, per pair (NULL: none
	 * asked), for sync_folder's remote_hint */
	bool want_hints;
	struct store_folder_state *hint;
	bool *has_hint;

	/* the local folders checked while the remote side connects */
	struct precheck *pre;

	/* the folder queue, shared by the workers */
	pthread_mutex_t mu;
	struct acct_folder_plan fp;
	size_t next;
	size_t ok, failed, skipped;
	struct oim_err first; /* first failure */
};

static const char *side_kind(const struct side *s)
{
	return s->is_imap ? "IMAP" : "Maildir";
}

static void note_failure(struct account *ac, const struct oim_err *err)
{
	pthread_mutex_lock(&ac->mu);
	ac->failed++;
	if (ac->first.sev == OIM_SEV_NONE)
		ac->first = *err;
	pthread_mutex_unlock(&ac->mu);
}

/* ---- reading the configuration ---- */

static int compile_opt(struct account *ac, const char *section,
		       const char *option, struct pyeval_expr **e_r,
		       struct oim_err *err)
{
	const char *text = NULL;
	*e_r = NULL;
	if (!config_has_option(ac->cfg, section, option))
		return 0;
	if (config_get_str(ac->cfg, section, option, NULL, &text, err))
		return -1;
	if (!text || !*text)
		return 0;
	return pyeval_compile(text, option,
			      config_origin(ac->cfg, section, option),
			      pyeval_option_flags(option), e_r, err);
}

static int side_rules(struct account *ac, struct side *s, bool remote,
		      struct oim_err *err)
{
	const char *sec = s->repo->section;
	const char *const *only =
	    !remote ? NULL
	    : ac->only_folders ? ac->only_folders
			       : config_folders(ac->cfg);
	bool create = true;
	struct pyeval_expr *inc = NULL;

	s->rules.repo = s->repo->name;
	if (compile_opt(ac, sec, "nametrans", &s->rules.nametrans, err) ||
	    compile_opt(ac, sec, "foldersort", &s->rules.foldersort, err))
		return -1;
	if (only) {
		/* -f: OfflineIMAP replaced folderfilter with a membership
		 * lambda and folderincludes with []; test the list itself. */
		s->rules.only = only;
	} else {
		if (compile_opt(ac, sec, "folderfilter", &s->rules.folderfilter,
				err) ||
		    compile_opt(ac, sec, "folderincludes", &inc, err))
			return -1;
		if (inc) {
			int rc =
			    pyeval_eval_strlist(inc, &s->includes, NULL, err);
			pyeval_expr_free(inc);
			if (rc)
				return -1;
			s->rules.includes = (const char *const *)s->includes;
		}
	}
	if (config_get_bool(ac->cfg, sec, "createfolders", true, &create, err))
		return -1;
	s->rules.create = create && !s->readonly;
	s->rules.readonly = s->readonly;
	if (s->is_imap && config_get_bool(ac->cfg, sec, "decodefoldernames",
					  false, &s->rules.decode, err))
		return -1;
	return 0;
}

static int side_imap(struct account *ac, struct side *s, struct oim_err *err)
{
	struct config *cfg = ac->cfg;
	const char *sec = s->repo->section;
	struct store_imap_opts *io = &s->imap;
	const char *ipv6 = NULL, *ref = NULL;
	long timeout = 0;

	io->repo = s->repo->name;
	if (config_get_str(cfg, sec, "preauthtunnel", NULL, &io->preauth_tunnel,
			   err) ||
	    config_get_str(cfg, sec, "transporttunnel", NULL,
			   &io->transport_tunnel, err))
		return -1;
	if (imap_creds_get(cfg, sec, NULL, !io->preauth_tunnel, &s->creds, err))
		return -1;
	io->host = s->creds.host;
	io->port = (unsigned)s->creds.port;
	io->user = s->creds.user;
	io->password = s->creds.password;
	io->oauth2_token = s->creds.oauth2_token;
	if (!io->host && !io->preauth_tunnel && !io->transport_tunnel)
		return oim_error(err, OIM_SEV_ACCOUNT, OIM_E_CONFIG,
				 "[%s]: remotehost is not set", sec);
	if (config_get_bool(cfg, sec, "ssl", true, &io->ssl, err) ||
	    config_get_bool(cfg, sec, "starttls", true, &io->starttls, err) ||
	    config_get_str(cfg, sec, "ipv6", NULL, &ipv6, err) ||
	    config_get_int(cfg, "general", "socktimeout", 0, &timeout, err) ||
	    config_get_str(cfg, sec, "auth_mechanisms", NULL,
			   &io->auth_mechanisms, err) ||
	    config_get_bool(cfg, sec, "usecompression", false, &io->compress,
			    err) ||
	    config_get_str(cfg, sec, "reference", "\"\"", &ref, err) ||
	    config_get_bool(cfg, sec, "subscribedonly", false,
			    &io->subscribed_only, err) ||
	    config_get_bool(cfg, ac->a->section, "utf8foldernames", false,
			    &io->utf8foldernames, err) ||
	    config_get_int(cfg, sec, "maxconnections", 1, &s->maxconn, err))
		return -1;
	enum net_family fam = NET_FAMILY_ANY;
	if (net_family_parse(ipv6, &fam))
		return oim_error(err, OIM_SEV_ACCOUNT, OIM_E_CONFIG,
				 "[%s] ipv6: '%s' is not a boolean", sec, ipv6);
	io->family = (int)fam;
	io->timeout_s = timeout > 0 ? (unsigned)timeout : 0;
	/* OfflineIMAP's default reference is the two characters "" */
	io->reference = (!ref || !strcmp(ref, "\"\"")) ? "" : ref;
	io->readonly = s->readonly;

	/* TLS: one context per repository, shared by every connection. */
	if ((io->ssl || io->starttls) && !io->preauth_tunnel) {
		struct net_tls_opts t = {0};
		const char *ca = NULL;
		if (config_get_str(cfg, sec, "sslcacertfile", NULL, &ca, err))
			return -1;
		if (ca && strcmp(ca, "OS-DEFAULT") &&
		    config_get_path(cfg, sec, "sslcacertfile", NULL, &ca, err))
			return -1;
		t.cafile = ca;
		if (config_get_str(cfg, sec, "cert_fingerprint", NULL,
				   &t.fingerprints, err) ||
		    config_get_path(cfg, sec, "sslclientcert", NULL,
				    &t.client_cert, err) ||
		    config_get_path(cfg, sec, "sslclientkey", NULL,
				    &t.client_key, err) ||
		    config_get_str(cfg, sec, "ssl_version", NULL,
				   &t.ssl_version, err))
			return -1;
		if (config_has_option(cfg, sec, "tls_level") &&
		    config_get_str(cfg, sec, "tls_level", NULL, &t.tls_level,
				   err))
			return -1;
		if (net_tls_new(&s->tls, &t, err)) {
			oim_err_prefix(err, "repository %s", s->repo->name);
			err->sev = OIM_SEV_ACCOUNT;
			return -1;
		}
		io->tls = s->tls;
	}
	return compile_opt(ac, sec, "copy_ignore_eval", &s->copy_ignore, err);
}

static int side_maildir(struct account *ac, struct side *s, struct oim_err *err)
{
	struct config *cfg = ac->cfg;
	const char *sec = s->repo->section;
	struct store_maildir_opts *mo = &s->md;
	const char *sep = NULL;
	bool gen_ts = false, gen_utime = false;

	mo->repo = s->repo->name;
	if (config_get_path(cfg, sec, "localfolders", NULL, &mo->root, err))
		return -1;
	if (!mo->root)
		return oim_error(err, OIM_SEV_ACCOUNT, OIM_E_CONFIG,
				 "[%s]: localfolders is not set", sec);
	if (config_get_str(cfg, sec, "sep", ".", &sep, err))
		return -1;
	if (!sep || strlen(sep) != 1)
		return oim_error(err, OIM_SEV_ACCOUNT, OIM_E_CONFIG,
				 "[%s] sep: '%s' must be one character", sec,
				 sep ? sep : "");
	mo->sep = sep[0];
	mo->fsync = ac->fsync;
	if (config_get_bool(cfg, ac->a->section, "maildir-windows-compatible",
			    false, &mo->windows_compatible, err) ||
	    config_get_bool(cfg, "general", "filename_use_mail_timestamp",
			    false, &gen_ts, err) ||
	    config_get_bool(cfg, sec, "filename_use_mail_timestamp", gen_ts,
			    &mo->filename_use_mail_timestamp, err) ||
	    config_get_bool(cfg, "general", "utime_from_header", false,
			    &gen_utime, err) ||
	    config_get_bool(cfg, sec, "utime_from_header", gen_utime,
			    &mo->utime_from_header, err) ||
	    config_get_bool(cfg, sec, "restoreatime", false, &mo->restoreatime,
			    err))
		return -1;
	/* A repository option unset falls back to [general] (folder/Base.py);
	 * the schema has a default for the repository, so ask explicitly. */
	if (!config_has_option(cfg, sec, "filename_use_mail_timestamp"))
		mo->filename_use_mail_timestamp = gen_ts;
	if (!config_has_option(cfg, sec, "utime_from_header"))
		mo->utime_from_header = gen_utime;
	/*
	 * readonly on a Maildir is enforced by the plan (no remote -> local
	 * pass) and by folder creation (rules.create), not by the store:
	 * OfflineIMAP still renames an uploaded message to carry its new UID
	 * in a read-only Maildir (offlineimap.conf, 'readonly'), which the
	 * store would refuse.
	 */
	mo->readonly = false;
	s->maxconn = -1; /* no limit from a Maildir */
	return 0;
}

static int side_init(struct account *ac, struct side *s,
		     const struct config_repo *repo, bool remote,
		     struct oim_err *err)
{
	const char *sec = repo->section;
	s->repo = repo;
	s->is_imap =
	    repo->type == CONFIG_REPO_IMAP || repo->type == CONFIG_REPO_GMAIL;
	if (config_get_bool(ac->cfg, sec, "readonly", false, &s->readonly,
			    err) ||
	    config_get_bool(ac->cfg, sec, "sync_deletes", true,
			    &s->sync_deletes, err))
		goto fail;
	if (s->is_imap ? side_imap(ac, s, err) : side_maildir(ac, s, err))
		goto fail;
	if (side_rules(ac, s, remote, err))
		goto fail;
	return 0;
fail:
	if (err->sev < OIM_SEV_ACCOUNT)
		err->sev = OIM_SEV_ACCOUNT;
	return -1;
}

static void side_release(struct side *s)
{
	imap_creds_release(&s->creds);
	net_tls_free(s->tls);
	pyeval_expr_free(s->rules.nametrans);
	pyeval_expr_free(s->rules.folderfilter);
	pyeval_expr_free(s->rules.foldersort);
	pyeval_expr_free(s->copy_ignore);
	if (s->includes)
		pyeval_strlist_free(s->includes);
	memset(s, 0, sizeof(*s));
}

static int parse_day(const char *s, int64_t *t_r)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	const char *end = strptime(s, "%Y-%m-%d", &tm);
	if (!end || *end)
		return -1;
	*t_r = (int64_t)timegm(&tm);
	return 0;
}

static int plan_opts(struct account *ac, int quick, struct oim_err *err)
{
	struct config *cfg = ac->cfg;
	const char *sec = ac->a->section;
	struct sync_plan_opts *p = &ac->plan;
	long q = 0, maxsize = 0;
	const char *maxage = NULL;

	*p = (struct sync_plan_opts)SYNC_PLAN_OPTS_INIT;
	for (int i = 0; i < 2; i++) {
		p->readonly[i] = ac->side[i].readonly;
		p->no_sync_deletes[i] = !ac->side[i].sync_deletes;
	}
	if (config_get_int(cfg, sec, "quick", 0, &q, err) ||
	    config_get_int(cfg, sec, "maxsize", 0, &maxsize, err) ||
	    config_get_str(cfg, sec, "maxage", NULL, &maxage, err))
		return -1;
	p->quick = quick < 0 ? q < 0 : quick > 0;
	p->maxsize = maxsize > 0 ? (uint64_t)maxsize : 0;
	p->local_is_imap = ac->side[SYNC_LOCAL].is_imap;
	if (maxage && *maxage) {
		long days;
		int64_t day;
		if (!oim_parse_long(maxage, &days) && days >= 1)
			sync_plan_maxage_window((int64_t)time(NULL),
						(unsigned)days, p);
		else if (!parse_day(maxage, &day))
			sync_plan_maxage_cutoff(day, p);
		else
			return oim_error(err, OIM_SEV_ACCOUNT, OIM_E_CONFIG,
					 "[%s] maxage: invalid value '%s'", sec,
					 maxage);
	}
	for (int i = 0; i < 2; i++) {
		const char *sd = NULL;
		int64_t day;
		if (config_get_str(cfg, ac->side[i].repo->section, "startdate",
				   NULL, &sd, err))
			return -1;
		if (!sd || !*sd)
			continue;
		if (parse_day(sd, &day))
			return oim_error(err, OIM_SEV_ACCOUNT, OIM_E_CONFIG,
					 "[%s] startdate: invalid value '%s'",
					 ac->side[i].repo->section, sd);
		if (p->startdate_side != SYNC_STARTDATE_NONE ||
		    p->maxage_cutoff)
			return oim_error(err, OIM_SEV_ACCOUNT, OIM_E_CONFIG,
					 "use at most one of maxage, startdate "
					 "(local), startdate (remote)");
		p->startdate_side = i == SYNC_REMOTE ? SYNC_STARTDATE_REMOTE
						     : SYNC_STARTDATE_LOCAL;
		p->startdate = day;
	}
	if (p->quick && (p->maxage_since || p->maxage_cutoff ||
			 p->startdate_side != SYNC_STARTDATE_NONE))
		/* accounts.py says it per folder; once per account is enough */
		log_warn("Account %s: Quick syncs (-q) not supported in "
			 "conjunction with maxage or startdate; ignoring -q.",
			 ac->a->name);
	p->expunge = ac->expunge;
	return 0;
}

/* An IMAP keyword is an atom (RFC 3501): no specials, no '\\'. */
static bool is_keyword(const char *k)
{
	if (!*k)
		return false;
	for (const unsigned char *p = (const unsigned char *)k; *p; p++)
		if (*p <= ' ' || *p >= 0x7f || strchr("(){%*\"\\]", *p))
			return false;
	return true;
}

/* customflag_a .. customflag_z of the local Maildir repository
 * (repository/Maildir.py keyword2char) into the remote store's options. */
static int keyword_map(struct account *ac, struct oim_err *err)
{
	const char *sec = ac->side[SYNC_LOCAL].repo->section;
	for (int i = 0; i < 26; i++) {
		char opt[16];
		const char *kw = NULL;
		snprintf(opt, sizeof(opt), "customflag_%c", 'a' + i);
		if (config_get_str(ac->cfg, sec, opt, NULL, &kw, err))
			return -1;
		if (kw && !is_keyword(kw))
			return oim_error(err, OIM_SEV_ACCOUNT, OIM_E_CONFIG,
					 "%s: [%s] %s: '%s' is not an IMAP "
					 "keyword (letters, digits, '$' and "
					 "the like; no spaces or brackets)",
					 config_origin(ac->cfg, sec, opt), sec,
					 opt, kw);
		ac->side[SYNC_REMOTE].imap.keywords[i] = kw;
		if (!kw)
			ac->plan.ignored_letters |= SYNC_FLAG('a' + i);
	}
	return 0;
}

static int account_init(struct account *ac, int quick, struct oim_err *err)
{
	struct config *cfg = ac->cfg;
	const char *backend = NULL;
	bool dry = false;

	if (config_get_path(cfg, "general", "metadata", "~/.offlineimap",
			    &ac->metadata, err) ||
	    config_get_bool(cfg, "general", "fsync", true, &ac->fsync, err) ||
	    config_get_bool(cfg, "general", "dry-run", false, &dry, err) ||
	    config_get_str(cfg, ac->a->section, "status_backend", "sqlite",
			   &backend, err))
		return -1;
	ac->dry_run = dry || ac->o->dry_run;
	if (status_backend_parse(backend ? backend : "sqlite", &ac->backend,
				 err))
		return -1;
	ac->account_dir = status_account_dir(ac->metadata, ac->a->name);
	if (side_init(ac, &ac->side[SYNC_REMOTE], &ac->a->remote, true, err) ||
	    side_init(ac, &ac->side[SYNC_LOCAL], &ac->a->local, false, err))
		return -1;
	if (ac->side[SYNC_REMOTE].is_imap &&
	    config_get_bool(cfg, ac->a->remote.section, "expunge", true,
			    &ac->expunge, err))
		return -1;
	/* after plan_opts, which starts ac->plan afresh */
	if (plan_opts(ac, quick, err))
		return -1;
	if (ac->side[SYNC_REMOTE].is_imap && !ac->side[SYNC_LOCAL].is_imap &&
	    keyword_map(ac, err))
		return -1;
	/*
	 * Every folder's state with the listing (LIST-STATUS, else a
	 * pipelined STATUS per folder synced), so that sync_folder can skip
	 * an unchanged folder without selecting it (sync.h remote_hint).
	 * Not when the folder sync could not use it.
	 */
	ac->want_hints = ac->side[SYNC_REMOTE].is_imap &&
			 !ac->side[SYNC_LOCAL].is_imap &&
			 !ac->plan.maxage_since && !ac->plan.maxage_cutoff &&
			 ac->plan.startdate_side == SYNC_STARTDATE_NONE;
	ac->side[SYNC_REMOTE].imap.list_states = ac->want_hints;
	return 0;
}

/*
 * synclabels (OfflineIMAP: account options synclabels, labelsheader,
 * ignorelabels).  Labels are synced only between a Gmail remote and a
 * GmailMaildir local repository; with any other pair OfflineIMAP warns
 * that it cannot sync labels, and so does oimap (once per account).
 */
static int labels_init(struct account *ac, struct oim_err *err)
{
	const char *sec = ac->a->section, *header = NULL;
	const char *const *ign = NULL;
	size_t nign = 0;
	bool on = false;

	if (config_get_bool(ac->cfg, sec, "synclabels", false, &on, err))
		return -1;
	if (!on)
		return 0;
	if (ac->a->remote.type != CONFIG_REPO_GMAIL ||
	    ac->a->local.type != CONFIG_REPO_GMAILMAILDIR) {
		log_warn(
		    "Account %s: synclabels: can't sync labels; the remote "
		    "repository must be of type Gmail and the local one "
		    "of type GmailMaildir",
		    ac->a->name);
		return 0;
	}
	if (config_get_str(ac->cfg, sec, "labelsheader", "X-Keywords", &header,
			   err) ||
	    config_get_list(ac->cfg, sec, "ignorelabels", &ign, &nign, err))
		return -1;
	for (size_t i = 0; i < nign; i++)
		labelset_add(&ac->labels.ignore, ign[i], strlen(ign[i]));
	ac->side[SYNC_LOCAL].md.labelsheader =
	    header && *header ? header : "X-Keywords";
	ac->synclabels = true;
	/* a header edit changes no folder state: no skipping on those */
	ac->want_hints = false;
	ac->side[SYNC_REMOTE].imap.list_states = false;
	return 0;
}

/* ---- stores ---- */

static int side_open(struct account *ac, struct side *s, struct store **st_r,
		     struct oim_err *err)
{
	int rc = s->is_imap ? store_imap_open(st_r, &s->imap, err)
			    : store_maildir_open(st_r, &s->md, err);
	/* IMAP-to-IMAP: the local server through OfflineIMAP's UID map */
	if (!rc && s->is_imap && s == &ac->side[SYNC_LOCAL]) {
		struct store_mapped_opts mo = {ac->metadata, ac->fsync};
		rc = store_mapped_open(st_r, *st_r, &mo, err);
	}
	if (rc) {
		*st_r = NULL;
		if (err->sev < OIM_SEV_ACCOUNT)
			err->sev = OIM_SEV_ACCOUNT;
	}
	return rc;
}

static int open_pair(struct account *ac, struct store **st, struct oim_err *err)
{
	st[0] = st[1] = NULL;
	if (side_open(ac, &ac->side[SYNC_REMOTE], &st[SYNC_REMOTE], err))
		return -1;
	if (side_open(ac, &ac->side[SYNC_LOCAL], &st[SYNC_LOCAL], err)) {
		store_close(st[SYNC_REMOTE]);
		st[SYNC_REMOTE] = NULL;
		return -1;
	}
	return 0;
}

static void close_pair(struct store **st)
{
	store_close(st[SYNC_REMOTE]);
	store_close(st[SYNC_LOCAL]);
	st[0] = st[1] = NULL;
}

/* The remote list plus folderincludes (repository/IMAP.py getfolders
 * appends them after an EXAMINE of each that is not listed; one the server
 * refuses is left out with a warning, "Invalid folderinclude"). */
static void add_includes(const struct account *ac, const struct side *s,
			 struct store *st, struct store_folder_list *l)
{
	for (const char *const *p = s->rules.includes; p && *p; p++) {
		bool found = false;
		for (size_t i = 0; i < l->nr && !found; i++)
			found = !strcmp(l->v[i].name, *p);
		if (found)
			continue;
		if (s->is_imap) {
			struct store_folder *f = NULL;
			struct oim_err e = OIM_ERR_INIT;
			if (st->ops->open_folder(st, *p, NULL,
						 STORE_OPEN_READONLY, &f, &e)) {
				log_warn("Account %s: invalid folderinclude "
					 "'%s' of repository %s, left out: %s",
					 ac->a->name, *p, s->repo->name, e.msg);
				continue;
			}
			if (st->ops->close_folder(f, false, &e))
				log_debug(OIM_DBG_SYNC, "%s", e.msg);
		}
		ALLOC_GROW(l->v, l->nr, l->alloc);
		memset(&l->v[l->nr], 0, sizeof(l->v[l->nr]));
		l->v[l->nr].name = xstrdup(*p);
		l->v[l->nr].noselect = false;
		l->nr++;
	}
}

static int list_both(struct account *ac, struct store **st,
		     struct store_folder_list *l, struct oim_err *err)
{
	memset(l, 0, 2 * sizeof(*l));
	for (int i = 0; i < 2; i++) {
		if (st[i]->ops->list_folders(st[i], &l[i], err)) {
			oim_err_prefix(err, "listing folders of %s",
				       ac->side[i].repo->name);
			if (err->sev < OIM_SEV_ACCOUNT)
				err->sev = OIM_SEV_ACCOUNT;
			return -1;
		}
		ac->side[i].rules.sep = l[i].sep;
	}
	add_includes(ac, &ac->side[SYNC_REMOTE], st[SYNC_REMOTE],
		     &l[SYNC_REMOTE]);
	add_includes(ac, &ac->side[SYNC_LOCAL], st[SYNC_LOCAL],
		     &l[SYNC_LOCAL]);
	return 0;
}

static int create_folders(struct account *ac, struct store **st,
			  struct acct_folder_plan *cp, struct oim_err *err)
{
	static const int order[2] = {SYNC_LOCAL, SYNC_REMOTE};
	for (int k = 0; k < 2; k++) {
		int i = order[k];
		char **names =
		    i == SYNC_LOCAL ? cp->create_local : cp->create_remote;
		size_t n =
		    i == SYNC_LOCAL ? cp->n_create_local : cp->n_create_remote;
		for (size_t j = 0; j < n; j++) {
			ui_make_folder(ac->a->name, ac->side[i].repo->name,
				       names[j], ac->dry_run);
			if (ac->dry_run)
				continue;
			if (st[i]->ops->create_folder(st[i], names[j], err)) {
				oim_err_prefix(err,
					       "creating folder %s on "
					       "repository %s",
					       names[j],
					       ac->side[i].repo->name);
				if (err->sev < OIM_SEV_ACCOUNT)
					err->sev = OIM_SEV_ACCOUNT;
				return -1;
			}
		}
	}
	return 0;
}

/* ---- the remote folders' states ---- */

static int cmp_info_name(const void *a, const void *b)
{
	const struct store_folder_info *const *x = a, *const *y = b;
	return strcmp((*x)->name, (*y)->name);
}

/*
 * The remote state of every pair, for sync_folder's remote_hint: as the
 * listing told it (LIST-STATUS), else from the store's folder_states (one
 * pipelined STATUS per folder still unknown: one round trip).  Best
 * effort: a folder left without is synced the full way.  -1 only when the
 * connection failed.
 */
static int collect_hints(struct account *ac, struct store *rs,
			 const struct store_folder_list *rl,
			 struct oim_err *err)
{
	size_t n = ac->fp.n_pairs, nask = 0, nhint = 0;
	const struct store_folder_info **sorted;
	const char **ask;
	size_t *idx;
	int rc = 0;

	if (!ac->want_hints || !n)
		return 0;
	ac->hint = xcalloc(n, sizeof(*ac->hint));
	ac->has_hint = xcalloc(n, sizeof(*ac->has_hint));
	sorted = xcalloc(rl->nr + 1, sizeof(*sorted));
	for (size_t j = 0; j < rl->nr; j++)
		sorted[j] = &rl->v[j];
	oim_qsort(sorted, rl->nr, sizeof(*sorted), cmp_info_name);
	ask = xcalloc(n, sizeof(*ask));
	idx = xcalloc(n, sizeof(*idx));
	for (size_t i = 0; i < n; i++) {
		const struct acct_folder_pair *fp = &ac->fp.pairs[i];
		struct store_folder_info key = {.name = fp->remote_name};
		const struct store_folder_info *kp = &key, **hit;

		if (fp->local_missing)
			continue;
		hit = rl->nr ? bsearch(&kp, sorted, rl->nr, sizeof(*sorted),
				       cmp_info_name)
			     : NULL;
		if (hit && (*hit)->has_state) {
			ac->hint[i] = (*hit)->state;
			ac->has_hint[i] = true;
			nhint++;
			continue;
		}
		ask[nask] = fp->remote_name;
		idx[nask++] = i;
	}
	if (nask && rs->ops->folder_states) {
		struct store_folder_state *st = xcalloc(nask, sizeof(*st));
		bool *known = xcalloc(nask, sizeof(*known));
		rc = rs->ops->folder_states(rs, ask, nask, st, known, err);
		for (size_t k = 0; rc == 0 && k < nask; k++) {
			if (!known[k])
				continue;
			ac->hint[idx[k]] = st[k];
			ac->has_hint[idx[k]] = true;
			nhint++;
		}
		free(st);
		free(known);
	}
	log_debug(OIM_DBG_SYNC,
		  "Account %s: the server told the state of %zu of %zu "
		  "folders with the listing",
		  ac->a->name, nhint, n);
	free(sorted);
	free(ask);
	free(idx);
	if (rc && err->sev < OIM_SEV_ACCOUNT)
		err->sev = OIM_SEV_ACCOUNT;
	return rc;
}

/* ---- the local half, while the remote side connects ---- */

/*
 * oimap: a no-change run is mostly waiting for the server (the greeting,
 * the login, the listing), and then mostly reading the status caches and
 * the Maildir folders to see that nothing changed locally either.  The
 * second part needs no server: a thread of its own does it while the
 * first goes on (sync_folder_precheck(), sync.h), for each local folder
 * the local folderfilter keeps.  A folder's sync uses the finding only
 * when its names, status and local visible name are the ones assumed here
 * (the status is named after the remote visible name, which for a pair is
 * the local name with its separator made '.'), and only with a listed
 * remote state equal to the saved one; anything else is synced as before.
 */
static void *precheck_main(void *arg)
{
	struct precheck *pre = arg;
	struct account *ac = pre->ac;

	log_thread_mute(true);
	for (size_t i = 0; i < pre->nr && !atomic_load(&pre->cancel) &&
			   !sync_account_stop_requested();
	     i++) {
		struct precheck_item *it = &pre->v[i];
		struct sync_folder_job job = {
		    .account = ac->a->name,
		    .metadata_dir = ac->metadata,
		    .account_dir = ac->account_dir,
		    .local = pre->local,
		    .remote_name = it->local_name,
		    .local_name = it->local_name,
		    .local_visible = it->local_visible,
		    .status_name = it->status_name,
		    .backend = ac->backend,
		    .plan = ac->plan,
		    .dry_run = ac->dry_run,
		    .fsync = ac->fsync,
		};
		sync_folder_precheck(&job, &it->pc);
	}
	store_close(pre->local);
	pre->local = NULL;
	log_thread_mute(false);
	return NULL;
}

static int cmp_item_name(const void *a, const void *b)
{
	const struct precheck_item *x = a, *y = b;
	return strcmp(x->local_name, y->local_name);
}

static void precheck_free(struct precheck *pre)
{
	if (!pre)
		return;
	for (size_t i = 0; i < pre->nr; i++) {
		free(pre->v[i].local_name);
		free(pre->v[i].local_visible);
		free(pre->v[i].status_name);
	}
	free(pre->v);
	store_close(pre->local);
	free(pre);
}

/* The local folders to check, named as a pair would name them. */
static void precheck_names(struct account *ac, struct precheck *pre,
			   const struct store_folder_list *l)
{
	struct acct_repo_rules lr = ac->side[SYNC_LOCAL].rules;

	lr.sep = l->sep;
	for (size_t i = 0; i < l->nr; i++) {
		const char *name = l->v[i].name;
		struct oim_err e = OIM_ERR_INIT;
		char *vis = NULL;
		bool keep = false;

		if (l->v[i].noselect || !*name)
			continue;
		/* an expression that fails here fails the usual way later */
		if (acct_should_sync(&lr, name, &keep, &e) || !keep ||
		    acct_visible_name(&lr, name, &vis, &e))
			continue;
		ALLOC_GROW(pre->v, pre->nr, pre->alloc);
		pre->v[pre->nr++] = (struct precheck_item){
		    .local_name = xstrdup(name),
		    .local_visible = vis,
		    .status_name = acct_sep_translate(name, l->sep, '.'),
		};
	}
	oim_qsort(pre->v, pre->nr, sizeof(*pre->v), cmp_item_name);
}

/* Start the thread; nothing is started when it could not help. */
static void precheck_start(struct account *ac)
{
	struct precheck *pre;
	struct store_folder_list l;
	struct oim_err e = OIM_ERR_INIT;

	if (!ac->want_hints || ac->synclabels || ac->only_folders ||
	    ac->o->single_thread || ac->side[SYNC_LOCAL].is_imap)
		return;
	pre = xcalloc(1, sizeof(*pre));
	pre->ac = ac;
	atomic_init(&pre->cancel, false);
	memset(&l, 0, sizeof(l));
	if (side_open(ac, &ac->side[SYNC_LOCAL], &pre->local, &e) ||
	    pre->local->ops->list_folders(pre->local, &l, &e)) {
		store_folder_list_release(&l);
		precheck_free(pre);
		return;
	}
	precheck_names(ac, pre, &l);
	store_folder_list_release(&l);
	if (!pre->nr || pthread_create(&pre->tid, NULL, precheck_main, pre)) {
		precheck_free(pre);
		return;
	}
	pre->running = true;
	ac->pre = pre;
}

/* Wait for the thread (cancel: it may stop before the end). */
static void precheck_join(struct account *ac, bool cancel)
{
	struct precheck *pre = ac->pre;

	if (!pre || !pre->running)
		return;
	if (cancel)
		atomic_store(&pre->cancel, true);
	pthread_join(pre->tid, NULL);
	pre->running = false;
}

static const struct sync_folder_precheck *
precheck_find(const struct account *ac, const struct sync_folder_job *job)
{
	const struct precheck *pre = ac->pre;
	struct precheck_item key = {.local_name = (char *)job->local_name};
	const struct precheck_item *it;

	if (!pre || pre->running || !pre->nr)
		return NULL;
	it = bsearch(&key, pre->v, pre->nr, sizeof(*pre->v), cmp_item_name);
	if (!it || !it->pc.usable || strcmp(it->status_name, job->status_name) ||
	    strcmp(it->local_visible,
		   job->local_visible ? job->local_visible : job->local_name))
		return NULL;
	return &it->pc;
}

/* ---- folders ---- */

static void counts_from(const struct sync_folder_result *r, bool dry,
			struct ui_folder_counts *c)
{
	memset(c, 0, sizeof(*c));
	c->new_local = r->sum.copy[SYNC_LOCAL];
	c->uploaded = r->sum.copy[SYNC_REMOTE];
	c->flags = r->sum.flags[SYNC_LOCAL] + r->sum.flags[SYNC_REMOTE];
	c->deleted = r->sum.del[SYNC_LOCAL] + r->sum.del[SYNC_REMOTE];
	c->failed = r->failed_messages;
	c->skipped = r->quick_skipped || r->unchanged_skipped;
	c->dry_run = dry;
}

struct worker {
	struct account *ac;
	struct store *st[2]; /* given (worker 0) or opened here */
	bool connect_failed; /* the remote connection could not be opened */
	pthread_t tid;
};

/* sync_folder's remote_connect: the worker's remote connection is opened
 * only for a folder that needs it. */
static int worker_connect(void *ctx, struct store **remote_r,
			  struct oim_err *err)
{
	struct worker *w = ctx;
	if (!w->st[SYNC_REMOTE] &&
	    side_open(w->ac, &w->ac->side[SYNC_REMOTE],
		      &w->st[SYNC_REMOTE], err)) {
		w->connect_failed = true;
		return -1;
	}
	*remote_r = w->st[SYNC_REMOTE];
	return 0;
}

/* Sync one pair; -1 with err on failure (err->sev says how bad). */
static int run_folder(struct account *ac, struct worker *w,
		      const struct acct_folder_pair *fp, struct oim_err *err)
{
	struct store **st = w->st;
	size_t pi = (size_t)(fp - ac->fp.pairs);
	struct sync_folder_job job;
	struct sync_folder_result res;
	struct side *rs = &ac->side[SYNC_REMOTE], *ls = &ac->side[SYNC_LOCAL];
	uint32_t *ignore[2] = {NULL, NULL};
	int rc = -1;

	memset(&job, 0, sizeof(job));
	memset(&res, 0, sizeof(res));
	job.account = ac->a->name;
	job.metadata_dir = ac->metadata;
	job.account_dir = ac->account_dir;
	job.remote = st[SYNC_REMOTE]; /* NULL: connected when needed */
	job.remote_connect = worker_connect;
	job.remote_connect_ctx = w;
	job.remote_repo = rs->repo->name;
	job.local = st[SYNC_LOCAL];
	if (ac->has_hint && pi < ac->fp.n_pairs && ac->has_hint[pi])
		job.remote_hint = &ac->hint[pi];
	job.remote_name = fp->remote_name;
	job.local_name = fp->local_name;
	job.local_visible = fp->local_visible;
	job.status_name =
	    status_name_from_remote(fp->remote_visible, rs->rules.sep);
	job.backend = ac->backend;
	job.plan = ac->plan;
	job.expunge = ac->expunge;
	job.dry_run = ac->dry_run;
	job.fsync = ac->fsync;
	job.stop_after_step = ac->o->debug_stop_after_step;
	job.labels = ac->synclabels ? &ac->labels : NULL;
	job.precheck = precheck_find(ac, &job);

	/* copy_ignore_eval, called with the folder's visible name
	 * (folder/IMAP.py). */
	for (int i = 0; i < 2; i++) {
		struct side *s = &ac->side[i];
		const char *vis =
		    i == SYNC_REMOTE ? fp->remote_visible : fp->local_visible;
		if (!s->copy_ignore)
			continue;
		if (pyeval_call_uids(s->copy_ignore, vis, &ignore[i],
				     &job.plan.copy_ignore_nr[i], err)) {
			if (err->sev > OIM_SEV_FOLDER)
				err->sev = OIM_SEV_FOLDER;
			goto out;
		}
		job.plan.copy_ignore[i] = ignore[i];
	}

	ui_folder_start(ac->a->name, fp->remote_visible, side_kind(rs),
			side_kind(ls));
	rc = sync_folder(&job, &res, err);
	if (!rc) {
		struct ui_folder_counts c;
		counts_from(&res, ac->dry_run, &c);
		ui_folder_done(ac->a->name, fp->remote_visible, &c);
		if (res.failed_messages) {
			oim_error(err, OIM_SEV_MESSAGE, OIM_E_GENERIC,
				  "%zu message(s) could not be synced",
				  res.failed_messages);
			rc = -1;
		}
	}
out:
	free(ignore[0]);
	free(ignore[1]);
	free((char *)job.status_name);
	return rc;
}

static bool take_next(struct account *ac, size_t *i_r)
{
	bool ok = false;
	pthread_mutex_lock(&ac->mu);
	if (!sync_account_stop_requested() && ac->next < ac->fp.n_pairs) {
		*i_r = ac->next++;
		ok = true;
	}
	pthread_mutex_unlock(&ac->mu);
	return ok;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct account *ac = w->ac;
	bool reopened = false;
	size_t i;

	while (take_next(ac, &i)) {
		const struct acct_folder_pair *fp = &ac->fp.pairs[i];
		struct oim_err err = OIM_ERR_INIT;

		if (fp->local_missing) {
			ui_info("[DRYRUN] Account %s: folder %s would be "
				"created locally as %s and synced",
				ac->a->name, fp->remote_visible,
				fp->local_name);
			pthread_mutex_lock(&ac->mu);
			ac->skipped++;
			pthread_mutex_unlock(&ac->mu);
			continue;
		}
		/* The local store now; the remote connection only when a
		 * folder needs it (sync_folder skips unchanged folders
		 * without, sync.h remote_hint). */
		if (!w->st[SYNC_LOCAL] &&
		    side_open(ac, &ac->side[SYNC_LOCAL], &w->st[SYNC_LOCAL],
			      &err)) {
			/* this worker cannot open its stores: give the
			 * folder back as failed and stop */
			ui_folder_error(ac->a->name, fp->remote_visible, &err);
			note_failure(ac, &err);
			break;
		}
		if (!run_folder(ac, w, fp, &err)) {
			pthread_mutex_lock(&ac->mu);
			ac->ok++;
			pthread_mutex_unlock(&ac->mu);
			continue;
		}
		ui_folder_error(ac->a->name, fp->remote_visible, &err);
		note_failure(ac, &err);
		if (err.sev >= OIM_SEV_ACCOUNT) {
			/* The connection is gone: a new one for the next
			 * folder, once; then this worker gives up.  One
			 * that could not connect at all gives up now. */
			close_pair(w->st);
			if (reopened || err.sev >= OIM_SEV_FATAL ||
			    w->connect_failed)
				break;
			reopened = true;
		}
	}
	close_pair(w->st);
	return NULL;
}

static unsigned worker_count(struct account *ac)
{
	long n = ac->side[SYNC_REMOTE].maxconn;
	long l = ac->side[SYNC_LOCAL].maxconn;
	if (l > 0 && (n <= 0 || l < n))
		n = l;
	if (n < 1 || ac->o->single_thread)
		n = 1;
	if ((size_t)n > ac->fp.n_pairs)
		n = (long)(ac->fp.n_pairs ? ac->fp.n_pairs : 1);
	return (unsigned)n;
}

static void run_workers(struct account *ac, struct store **st)
{
	unsigned n = worker_count(ac);
	struct worker *w = xcalloc(n, sizeof(*w));

	for (unsigned i = 0; i < n; i++)
		w[i].ac = ac;
	w[0].st[0] = st[0];
	w[0].st[1] = st[1];
	st[0] = st[1] = NULL;
	for (unsigned i = 1; i < n; i++) {
		if (pthread_create(&w[i].tid, NULL, worker_main, &w[i])) {
			log_warn("Account %s: cannot start a worker thread; "
				 "going on with %u",
				 ac->a->name, i);
			n = i;
			break;
		}
	}
	worker_main(&w[0]);
	for (unsigned i = 1; i < n; i++)
		pthread_join(w[i].tid, NULL);
	/* Folders no worker could take (every worker lost its connection). */
	if (!sync_account_stop_requested() && ac->next < ac->fp.n_pairs) {
		size_t left = ac->fp.n_pairs - ac->next;
		struct oim_err e = OIM_ERR_INIT;
		oim_error(&e, OIM_SEV_ACCOUNT, OIM_E_CONN_LOST,
			  "%zu folder(s) not synced: no connection left", left);
		ui_account_error(ac->a->name, &e);
		pthread_mutex_lock(&ac->mu);
		ac->failed += left;
		if (ac->first.sev == OIM_SEV_NONE)
			ac->first = e;
		pthread_mutex_unlock(&ac->mu);
	}
	free(w);
}

static int sync_structure(struct account *ac, struct store **st,
			  struct oim_err *err)
{
	struct store_folder_list l[2];
	struct acct_folder_plan cp;
	const struct acct_repo_rules *rr = &ac->side[SYNC_REMOTE].rules;
	const struct acct_repo_rules *lr = &ac->side[SYNC_LOCAL].rules;
	int rc = -1;

	memset(&cp, 0, sizeof(cp));
	if (list_both(ac, st, l, err))
		goto out;
	/*
	 * oimap: a second pass after creating folders on the server, so
	 * that the parents created with a new nested folder get their local
	 * folder in this run too (OfflineIMAP stops the account there: it
	 * finds a remote folder without local counterpart).
	 */
	for (int pass = 0; pass < 2; pass++) {
		if (acct_plan_create(rr, &l[SYNC_REMOTE], lr, &l[SYNC_LOCAL],
				     &cp, err))
			goto out;
		if (!cp.n_create_local && !cp.n_create_remote)
			break;
		if (create_folders(ac, st, &cp, err))
			goto out;
		bool again = cp.n_create_remote > 0;
		acct_folder_plan_release(&cp);
		if (ac->dry_run)
			break;
		/* forgetfolders(): list again after creating */
		store_folder_list_release(&l[0]);
		store_folder_list_release(&l[1]);
		if (list_both(ac, st, l, err))
			goto out;
		if (!again)
			break;
	}
	if (acct_plan_pairs(rr, &l[SYNC_REMOTE], lr, &l[SYNC_LOCAL],
			    ac->dry_run, &ac->fp, err))
		goto out;
	if (collect_hints(ac, st[SYNC_REMOTE], &l[SYNC_REMOTE], err))
		goto out;
	rc = 0;
out:
	if (rc && err->sev < OIM_SEV_ACCOUNT)
		err->sev = OIM_SEV_ACCOUNT;
	acct_folder_plan_release(&cp);
	store_folder_list_release(&l[0]);
	store_folder_list_release(&l[1]);
	return rc;
}

int sync_account_run(struct config *cfg, const struct oim_options *o,
		     const char *account, const struct sync_account_opts *ao,
		     struct sync_account_stats *stats_r, struct oim_err *err)
{
	struct account ac;
	struct store *st[2] = {NULL, NULL};
	int rc = -1;

	memset(&ac, 0, sizeof(ac));
	pthread_mutex_init(&ac.mu, NULL);
	ac.cfg = cfg;
	ac.o = o;
	ac.a = config_account_find(cfg, account);
	if (!ac.a) {
		oim_error(err, OIM_SEV_ACCOUNT, OIM_E_CONFIG, "not configured");
		goto out;
	}
	ac.only_folders = ao ? ao->only_folders : NULL;
	if (account_init(&ac, ao ? ao->quick : -1, err) ||
	    labels_init(&ac, err))
		goto out;
	precheck_start(&ac);
	if (open_pair(&ac, st, err) || sync_structure(&ac, st, err))
		goto out;
	precheck_join(&ac, false);
	/* Remote folders without a local folder: failed, named. */
	for (size_t i = 0; i < ac.fp.n_missing; i++) {
		struct oim_err e = OIM_ERR_INIT;
		acct_missing_error(&ac.side[SYNC_REMOTE].rules,
				   &ac.side[SYNC_LOCAL].rules,
				   &ac.fp.missing[i], &e);
		ui_folder_error(ac.a->name, ac.fp.missing[i].remote_visible,
				&e);
		note_failure(&ac, &e);
	}
	if (!ac.fp.n_pairs && !ac.fp.n_missing) {
		/* accounts.py: "no folder to sync (folderfilter issue?)" */
		oim_error(err, OIM_SEV_ACCOUNT, OIM_E_CONFIG,
			  "no folder to sync (folderfilter issue?)");
		goto out;
	}
	run_workers(&ac, st);
	if (ac.failed) {
		*err = ac.first;
		if (err->sev == OIM_SEV_NONE)
			oim_error(err, OIM_SEV_FOLDER, OIM_E_GENERIC,
				  "a folder failed");
		goto out;
	}
	rc = 0;
out:
	/* Folder failures were reported as they happened; anything else
	 * is reported here, once. */
	if (rc && !ac.failed)
		ui_account_error(account, err);
	/* A refused password is evaluated anew next time. */
	if (rc && err->kind == OIM_E_AUTH && ac.a) {
		imap_creds_forget(ac.a->remote.section);
		imap_creds_forget(ac.a->local.section);
	}
	precheck_join(&ac, true);
	close_pair(st);
	if (stats_r) {
		memset(stats_r, 0, sizeof(*stats_r));
		stats_r->folders_ok = ac.ok;
		stats_r->folders_failed = ac.failed;
		stats_r->folders_skipped = ac.skipped;
		size_t taken =
		    ac.next < ac.fp.n_pairs ? ac.next : ac.fp.n_pairs;
		stats_r->local_folders =
		    xcalloc(taken ? taken : 1, sizeof(char *));
		for (size_t i = 0; i < taken; i++)
			if (!ac.fp.pairs[i].local_missing)
				stats_r->local_folders
				    [stats_r->n_local_folders++] =
				    xstrdup(ac.fp.pairs[i].local_name);
		if (ac.side[SYNC_LOCAL].repo && !ac.side[SYNC_LOCAL].is_imap &&
		    ac.side[SYNC_LOCAL].md.root)
			stats_r->local_root =
			    xstrdup(ac.side[SYNC_LOCAL].md.root);
	}
	acct_folder_plan_release(&ac.fp);
	precheck_free(ac.pre);
	free(ac.hint);
	free(ac.has_hint);
	labelset_release(&ac.labels.ignore);
	side_release(&ac.side[0]);
	side_release(&ac.side[1]);
	free(ac.account_dir);
	pthread_mutex_destroy(&ac.mu);
	return rc;
}

void sync_account_stats_release(struct sync_account_stats *st)
{
	for (size_t i = 0; i < st->n_local_folders; i++)
		free(st->local_folders[i]);
	free(st->local_folders);
	free(st->local_root);
	memset(st, 0, sizeof(*st));
}

int sync_account(struct config *cfg, const struct oim_options *o,
		 const char *account, struct oim_err *err)
{
	struct sync_account_opts ao = {.quick = -1};
	return sync_account_run(cfg, o, account, &ao, NULL, err);
}

/* ---- IDLE ---- */

int sync_account_idlefolders(struct config *cfg, const char *account,
			     char ***list_r, struct oim_err *err)
{
	const struct config_account *a = config_account_find(cfg, account);
	struct account ac;
	struct pyeval_expr *e = NULL;
	int rc;

	*list_r = NULL;
	if (!a)
		return oim_error(err, OIM_SEV_ACCOUNT, OIM_E_CONFIG,
				 "account %s: not configured", account);
	memset(&ac, 0, sizeof(ac));
	ac.cfg = cfg;
	if (a->remote.type != CONFIG_REPO_IMAP &&
	    a->remote.type != CONFIG_REPO_GMAIL)
		return 0;
	if (compile_opt(&ac, a->remote.section, "idlefolders", &e, err))
		return -1;
	if (!e)
		return 0;
	rc = pyeval_eval_strlist(e, list_r, NULL, err);
	pyeval_expr_free(e);
	if (rc == 0 && *list_r && !**list_r) {
		pyeval_strlist_free(*list_r);
		*list_r = NULL;
	}
	return rc;
}

struct sync_idle {
	struct account ac;
	struct store *st;
};

void sync_idle_close(struct sync_idle *i)
{
	if (!i)
		return;
	store_close(i->st);
	side_release(&i->ac.side[0]);
	side_release(&i->ac.side[1]);
	free(i->ac.account_dir);
	pthread_mutex_destroy(&i->ac.mu);
	free(i);
}

int sync_idle_open(struct config *cfg, const struct oim_options *o,
		   const char *account, const char *folder,
		   struct sync_idle **i_r, struct oim_err *err)
{
	struct sync_idle *i = xcalloc(1, sizeof(*i));
	struct account *ac = &i->ac;

	*i_r = NULL;
	pthread_mutex_init(&ac->mu, NULL);
	ac->cfg = cfg;
	ac->o = o;
	ac->a = config_account_find(cfg, account);
	if (!ac->a) {
		oim_error(err, OIM_SEV_ACCOUNT, OIM_E_CONFIG, "not configured");
		goto fail;
	}
	if (account_init(ac, 0, err) ||
	    side_open(ac, &ac->side[SYNC_REMOTE], &i->st, err) ||
	    store_imap_examine(i->st, folder, err))
		goto fail;
	*i_r = i;
	return 0;
fail:
	/* A refused password is evaluated anew next time. */
	if (err->kind == OIM_E_AUTH && ac->a)
		imap_creds_forget(ac->a->remote.section);
	sync_idle_close(i);
	return -1;
}

int sync_idle_wait(struct sync_idle *i, unsigned timeout_s, int wake_fd,
		   bool *changed_r, struct oim_err *err)
{
	return store_imap_idle(i->st, timeout_s, wake_fd, changed_r, err);
}
