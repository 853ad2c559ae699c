/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * validate.c - config_validate() and the account API.
 *
 * OfflineIMAP checks most values only when it reads them, in the middle of
 * a sync; we check them all before anything is touched, so a typo never
 * leaves one account synced and the next one broken.  Things OfflineIMAP
 * would accept silently (unknown options, duplicates) are warnings.
 */
#include "config-int.h"

/* ---- helpers --------------------------------------------------------------- */

#define vwarn cfg_warnf

/* "file:line: option 'x' in [S]" or, for a [DEFAULT] value read through
 * S, "file:line: option 'x' in [DEFAULT] (inherited by [S])". */
static void where_opt(struct strbuf *sb, const struct config *cfg,
		      const struct cfg_section *s, const struct cfg_value *v)
{
	cfg_where(sb, v);
	bool inherited = s != &cfg->defaults &&
			 !(v >= s->opts && v < s->opts + s->n_opts);
	if (inherited)
		strbuf_addf(sb, ": option '%s' in [DEFAULT] (inherited by [%s])",
			    v->name, s->name);
	else
		strbuf_addf(sb, ": option '%s' in [%s]", v->name, s->name);
}

static int opt_error(struct config *cfg, const struct cfg_section *s,
		     const struct cfg_value *v, struct oim_err *err,
		     const char *fmt, ...) OIM_PRINTF(5, 6);
static int opt_error(struct config *cfg, const struct cfg_section *s,
		     const struct cfg_value *v, struct oim_err *err,
		     const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	where_opt(&sb, cfg, s, v);
	strbuf_addstr(&sb, ": ");
	va_list ap;
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	oim_error(err, OIM_SEV_FATAL, OIM_E_CONFIG, "%s", sb.buf);
	strbuf_release(&sb);
	return -1;
}

/* Optimal string alignment distance (a transposition costs 1). */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 64 || lb > 64)
		return 99;
	size_t d[65][65];
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1];
			size_t m = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < m)
				m = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + cost < m)
				m = d[i - 1][j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < m)
				m = d[i - 2][j - 2] + 1;
			d[i][j] = m;
		}
	return d[la][lb];
}

static const char *closest_option(unsigned kind, const char *name)
{
	size_t n;
	const struct config_option *tab = config_schema(&n);
	const char *best = NULL;
	size_t bestd = 99;
	for (size_t i = 0; i < n; i++) {
		if (!(tab[i].kinds & kind) || strchr(tab[i].name, '*') ||
		    (tab[i].flags & CONFIG_F_INTERNAL))
			continue;
		size_t d = edit_distance(name, tab[i].name);
		if (d < bestd) {
			bestd = d;
			best = tab[i].name;
		}
	}
	size_t len = strlen(name);
	if (best && bestd <= 2 && bestd * 3 <= len)
		return best;
	return NULL;
}

/* The first kind other than 'kind' that knows the option. */
static unsigned other_kind(unsigned kind, const char *name)
{
	static const unsigned kinds[] = {
		CONFIG_K_GENERAL, CONFIG_K_MBNAMES,	CONFIG_K_ACCOUNT,
		CONFIG_K_IMAP,	  CONFIG_K_MAILDIR,	CONFIG_K_GMAIL,
		CONFIG_K_GMAILMAILDIR,
	};
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++)
		if (kinds[i] != kind && config_schema_find(kinds[i], name))
			return kinds[i];
	return 0;
}

/* Names used as %(name)s anywhere: user variables, not typos. */
struct refs {
	char **names;
	size_t n, alloc;
};

static void collect_refs(struct refs *r, const char *s)
{
	while ((s = strstr(s, "%(")) != NULL) {
		const char *c = strchr(s + 2, ')');
		if (!c)
			return;
		if (c > s + 2 && c[1] == 's') {
			ALLOC_GROW(r->names, r->n, r->alloc);
			char *name = xstrndup(s + 2, (size_t)(c - s - 2));
			oim_str_tolower(name);
			r->names[r->n++] = name;
		}
		s = c;
	}
}

static bool is_ref(const struct refs *r, const char *name)
{
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->names[i], name))
			return true;
	return false;
}

static bool in_choices(const struct config_option *o, const char *s,
		       size_t n, const char **hint_r)
{
	*hint_r = NULL;
	for (size_t i = 0; o->choices[i]; i++) {
		if (strlen(o->choices[i]) == n &&
		    !memcmp(o->choices[i], s, n))
			return true;
		if (strlen(o->choices[i]) == n &&
		    !oim_strncasecmp(o->choices[i], s, n))
			*hint_r = o->choices[i];
	}
	return false;
}

static void list_choices(struct strbuf *sb, const struct config_option *o)
{
	for (size_t i = 0; o->choices[i]; i++)
		strbuf_addf(sb, "%s%s", i ? ", " : "", o->choices[i]);
}

/* Lower bounds OfflineIMAP would trip over (a zero-size semaphore hangs). */
static const struct {
	const char *name;
	long min, max;
} int_ranges[] = {
	{ "maxconnections", 1, 1000 },	{ "maxsyncaccounts", 1, 1000 },
	{ "remoteport", 1, 65535 },	{ "socktimeout", 0, 1L << 30 },
	{ "keepalive", 0, 1L << 30 },	{ "retrycount", 0, 1L << 20 },
	{ "maxsize", 0, (long)(~0UL >> 1) },
};

static bool is_hex_fingerprint(const char *s, size_t n)
{
	size_t digits = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == ':')
			continue;
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		      (c >= 'A' && c <= 'F')))
			return false;
		digits++;
	}
	/* sha1, sha224, sha256, sha384, sha512 */
	return digits == 40 || digits == 56 || digits == 64 || digits == 96 ||
	       digits == 128;
}

static int check_value(struct config *cfg, struct cfg_section *s,
		       const struct cfg_value *v,
		       const struct config_option *o, struct oim_err *err)
{
	const char *t;
	if (o->flags & CONFIG_F_RAW) {
		t = v->value.buf;
	} else {
		struct oim_err ierr = OIM_ERR_INIT;
		t = cfg_interpolated(cfg, s, v, &ierr);
		if (!t) {
			/* Name the section being read when the value is
			 * inherited from [DEFAULT]. */
			if (s != &cfg->defaults &&
			    !(v >= s->opts && v < s->opts + s->n_opts))
				oim_err_prefix(&ierr, "reading [%s]", s->name);
			*err = ierr;
			return -1;
		}
	}
	bool secret = (o->flags & CONFIG_F_SECRET) != 0;
	/* A value built with %(name)s is quoted as written: what it
	 * expands to may come from a password variable. */
	const char *shown = secret			       ? "the value"
			    : strstr(v->value.buf, "%(") ? v->value.buf
							 : t;
	const char *q = secret ? "" : "'";
	long l;
	double d;
	int y, m, day;
	const char *hint;
	struct strbuf sb = STRBUF_INIT;
	int rc = 0;

	switch (o->type) {
	case CONFIG_T_BOOL:
		if (config_parse_bool(t) < 0)
			rc = opt_error(cfg, s, v, err,
				       "%s%s%s is not a boolean (yes/no, "
				       "true/false, on/off, 1/0)",
				       q, shown, q);
		break;
	case CONFIG_T_INT:
		if (cfg_parse_int(t, &l)) {
			rc = opt_error(cfg, s, v, err,
				       "%s%s%s is not an integer", q, shown, q);
			break;
		}
		for (size_t i = 0; i < ARRAY_SIZE(int_ranges); i++)
			if (!strcmp(int_ranges[i].name, v->name) &&
			    (l < int_ranges[i].min || l > int_ranges[i].max))
				rc = opt_error(cfg, s, v, err,
					       "%ld is out of range (%ld to "
					       "%ld)",
					       l, int_ranges[i].min,
					       int_ranges[i].max);
		break;
	case CONFIG_T_FLOAT:
		if (cfg_parse_float(t, &d))
			rc = opt_error(cfg, s, v, err,
				       "%s%s%s is not a number", q, shown, q);
		else if (!strcmp(v->name, "autorefresh") && d < 0)
			vwarn(cfg,
			      "%s:%u: autorefresh in [%s] is negative; using 0 "
			      "(no refresh), as OfflineIMAP does",
			      v->file ? v->file : "command line", v->line,
			      s->name);
		break;
	case CONFIG_T_ENUM:
		if (!in_choices(o, t, strlen(t), &hint)) {
			list_choices(&sb, o);
			rc = opt_error(cfg, s, v, err,
				       "%s%s%s is not one of %s%s%s%s%s", q,
				       shown, q, sb.buf,
				       hint ? " (case matters; did you mean '"
					    : "",
				       hint ? hint : "", hint ? "'" : "",
				       hint ? ")" : "");
		}
		break;
	case CONFIG_T_ENUMLIST: {
		const char *p = t;
		for (;;) {
			const char *c = strchr(p, ',');
			size_t n = c ? (size_t)(c - p) : strlen(p);
			const char *it = p;
			while (n && (*it == ' ' || *it == '\t')) {
				it++;
				n--;
			}
			while (n && (it[n - 1] == ' ' || it[n - 1] == '\t'))
				n--;
			if (!in_choices(o, it, n, &hint)) {
				list_choices(&sb, o);
				rc = opt_error(cfg, s, v, err,
					       "'%.*s' is not one of %s%s%s%s",
					       (int)n, it, sb.buf,
					       hint ? " (case matters; did "
						      "you mean '"
						    : "",
					       hint ? hint : "",
					       hint ? "')" : "");
				break;
			}
			if (!c)
				break;
			p = c + 1;
		}
		break;
	}
	case CONFIG_T_DATE:
		if (cfg_parse_date(t, &y, &m, &day))
			rc = opt_error(cfg, s, v, err,
				       "'%s' is not a date yyyy-mm-dd (from "
				       "1900 on)",
				       t);
		break;
	case CONFIG_T_MAXAGE:
		if (!cfg_parse_int(t, &l)) {
			if (l < 1)
				rc = opt_error(cfg, s, v, err,
					       "%ld days: must be at least 1",
					       l);
		} else if (cfg_parse_date(t, &y, &m, &day)) {
			rc = opt_error(cfg, s, v, err,
				       "'%s' is neither a number of days nor "
				       "a date yyyy-mm-dd",
				       t);
		}
		break;
	case CONFIG_T_PROXY: {
		if (!*t)
			break; /* authproxy = '' : explicitly none */
		const char *c1 = strchr(t, ':');
		const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		bool ok = c1 && c2 && !strchr(c2 + 1, ':');
		if (ok) {
			size_t tn = (size_t)(c1 - t);
			ok = (tn == 6 && !memcmp(t, "SOCKS5", 6)) ||
			     (tn == 6 && !memcmp(t, "SOCKS4", 6)) ||
			     (tn == 4 && !memcmp(t, "HTTP", 4));
			ok = ok && !cfg_parse_int(c2 + 1, &l) && l > 0 &&
			     l < 65536;
		}
		if (!ok)
			rc = opt_error(cfg, s, v, err,
				       "'%s' is not TYPE:host:port with TYPE "
				       "SOCKS5, SOCKS4 or HTTP",
				       t);
		break;
	}
	case CONFIG_T_FINGERPRINTS: {
		const char *p = t;
		for (;;) {
			const char *c = strchr(p, ',');
			const char *it = p;
			size_t n = c ? (size_t)(c - p) : strlen(p);
			while (n && (*it == ' ' || *it == '\t')) {
				it++;
				n--;
			}
			while (n && (it[n - 1] == ' ' || it[n - 1] == '\t'))
				n--;
			if (n && !is_hex_fingerprint(it, n)) {
				rc = opt_error(cfg, s, v, err,
					       "'%.*s' is not a hexadecimal "
					       "SHA-1/224/256/384/512 "
					       "fingerprint",
					       (int)n, it);
				break;
			}
			if (!c)
				break;
			p = c + 1;
		}
		break;
	}
	default:
		break;
	}
	strbuf_release(&sb);
	return rc;
}

/* Check every option known in section s (its own and [DEFAULT]'s). */
static int check_section(struct config *cfg, struct cfg_section *s,
			 const struct refs *refs, struct oim_err *err)
{
	unsigned kind = cfg_section_kind(cfg, s);
	if (!kind) {
		vwarn(cfg,
		      "%s:%u: unknown section [%s]: OfflineIMAP reads "
		      "[general], [mbnames], [Account NAME], "
		      "[Repository NAME] and [DEFAULT]",
		      s->file ? s->file : "command line", s->line, s->name);
		return 0;
	}
	for (size_t i = 0; i < s->n_opts; i++) {
		const struct cfg_value *v = &s->opts[i];
		const struct config_option *o = config_schema_find(kind, v->name);
		struct strbuf w = STRBUF_INIT;
		cfg_where(&w, v);
		if (!o) {
			if (kind == CONFIG_K_REPO_UNKNOWN || is_ref(refs, v->name)) {
				strbuf_release(&w);
				continue;
			}
			unsigned ok = other_kind(kind, v->name);
			const char *near = closest_option(kind, v->name);
			if (ok)
				vwarn(cfg,
				      "%s: unknown option '%s' in [%s]: it is "
				      "not an option of %s (it belongs in %s)",
				      w.buf, v->name, s->name,
				      config_kind_name(kind),
				      config_kind_name(ok));
			else if (near)
				vwarn(cfg,
				      "%s: unknown option '%s' in [%s] (%s); "
				      "did you mean '%s'?",
				      w.buf, v->name, s->name,
				      config_kind_name(kind), near);
			else
				vwarn(cfg,
				      "%s: unknown option '%s' in [%s] (%s); "
				      "ignored",
				      w.buf, v->name, s->name,
				      config_kind_name(kind));
		} else if (o->flags & CONFIG_F_RETIRED) {
			vwarn(cfg,
			      "%s: option '%s' in [%s] is retired in "
			      "OfflineIMAP (which now refuses it); oimap "
			      "still reads it: 'sqlite' (the default) or "
			      "'plain' selects the status cache format",
			      w.buf, v->name, s->name);
		} else if (o->flags & CONFIG_F_IGNORED) {
			vwarn(cfg, "%s: option '%s' in [%s] is %s", w.buf,
			      v->name, s->name, o->doc);
		}
		strbuf_release(&w);
		/* A repository's type is checked where it is used: an
		 * unused repository may have any type (OfflineIMAP never
		 * reads it). */
		if (o && !(o->kinds & CONFIG_K_REPO_UNKNOWN &&
			   !strcmp(o->name, "type")) &&
		    check_value(cfg, s, v, o, err))
			return -1;
	}
	for (size_t i = 0; i < cfg->defaults.n_opts; i++) {
		const struct cfg_value *v = &cfg->defaults.opts[i];
		const struct config_option *o = config_schema_find(kind, v->name);
		bool shadowed = false;
		for (size_t k = 0; k < s->n_opts; k++)
			if (!strcmp(s->opts[k].name, v->name))
				shadowed = true;
		if (o && !shadowed && strcmp(v->name, "type") &&
		    check_value(cfg, s, v, o, err))
			return -1;
	}
	return 0;
}

/* ---- accounts -------------------------------------------------------------- */

static struct cfg_section *account_section(const struct config *cfg,
					   const char *name)
{
	for (size_t i = 0; i < cfg->n_sects; i++) {
		const char *n = cfg->sects[i]->name;
		if (oim_starts_with(n, "Account ") && !strcmp(n + 8, name))
			return cfg->sects[i];
	}
	/* getaccountlist() lstrips what follows "Account ". */
	for (size_t i = 0; i < cfg->n_sects; i++) {
		const char *n = cfg->sects[i]->name;
		if (!oim_starts_with(n, "Account "))
			continue;
		n += 8;
		while (*n == ' ' || *n == '\t')
			n++;
		if (!strcmp(n, name))
			return cfg->sects[i];
	}
	return NULL;
}

static void known_accounts(const struct config *cfg, struct strbuf *sb)
{
	bool any = false;
	for (size_t i = 0; i < cfg->n_sects; i++) {
		const char *n = cfg->sects[i]->name;
		if (!oim_starts_with(n, "Account "))
			continue;
		n += 8;
		while (*n == ' ' || *n == '\t')
			n++;
		strbuf_addf(sb, "%s%s", any ? ", " : "", n);
		any = true;
	}
	if (!any)
		strbuf_addstr(sb, "none");
}

static const char *keep_str(struct config *cfg, const char *s)
{
	char *d = xstrdup(s);
	ALLOC_GROW(cfg->strings, cfg->n_strings, cfg->alloc_strings);
	cfg->strings[cfg->n_strings++] = d;
	return d;
}

static int section_error(const struct cfg_section *s, struct oim_err *err,
			 const char *fmt, ...) OIM_PRINTF(3, 4);
static int section_error(const struct cfg_section *s, struct oim_err *err,
			 const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	if (s->file)
		strbuf_addf(&sb, "%s:%u: ", s->file, s->line);
	va_list ap;
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	oim_error(err, OIM_SEV_FATAL, OIM_E_CONFIG, "%s", sb.buf);
	strbuf_release(&sb);
	return -1;
}

static bool repo_bool(struct config *cfg, const char *section,
		      const char *opt)
{
	bool b = false;
	struct oim_err e = OIM_ERR_INIT;
	if (config_get_bool(cfg, section, opt, false, &b, &e))
		return false;
	return b;
}

static bool has(struct config *cfg, const char *section, const char *opt)
{
	return config_has_option(cfg, section, opt);
}

/* What OfflineIMAP's IMAPServer refuses when it starts. */
static int check_imap_repo(struct config *cfg, struct cfg_section *rs,
			   enum config_repo_type t, struct oim_err *err)
{
	const char *sec = rs->name;
	if (t == CONFIG_REPO_IMAP && !has(cfg, sec, "remotehost") &&
	    !has(cfg, sec, "remotehosteval") &&
	    !has(cfg, sec, "transporttunnel") &&
	    !has(cfg, sec, "preauthtunnel"))
		return section_error(rs, err,
				     "[%s] has no remotehost (nor "
				     "remotehosteval or a tunnel): no server "
				     "to connect to",
				     sec);
	if (t == CONFIG_REPO_IMAP && has(cfg, sec, "transporttunnel") &&
	    has(cfg, sec, "preauthtunnel"))
		return section_error(rs, err,
				     "[%s] sets both preauthtunnel and "
				     "transporttunnel; choose one",
				     sec);
	const char *level = NULL, *version = NULL;
	if (config_get_str(cfg, sec, "tls_level", "tls_compat", &level, err) ||
	    config_get_str(cfg, sec, "ssl_version", NULL, &version, err))
		return -1;
	bool ssl = true;
	if (config_get_bool(cfg, sec, "ssl", true, &ssl, err))
		return -1;
	if (ssl && strcmp(level, "tls_compat") && !version)
		return section_error(rs, err,
				     "[%s]: tls_level '%s' needs ssl_version "
				     "set explicitly (as OfflineIMAP requires)",
				     sec, level);
	if (version) {
		static const char *const secure[] = { "tls1_2", "tls1_1", NULL };
		static const char *const nossl[] = { "tls1_2", "tls1_1", "tls1",
						     NULL };
		const char *const *ok = !strcmp(level, "tls_secure") ? secure
					: !strcmp(level, "tls_no_ssl") ? nossl
								       : NULL;
		bool found = !ok;
		for (size_t i = 0; ok && ok[i]; i++)
			if (!strcmp(ok[i], version))
				found = true;
		if (!found)
			return section_error(rs, err,
					     "[%s]: ssl_version '%s' is not "
					     "allowed by tls_level '%s'",
					     sec, version, level);
	}
	return 0;
}

static int resolve_repo(struct config *cfg, struct cfg_section *as,
			const char *acct, bool remote,
			struct config_repo *r, struct oim_err *err)
{
	const char *opt = remote ? "remoterepository" : "localrepository";
	const struct cfg_value *v = cfg_lookup(cfg, as, opt);
	if (!v)
		return section_error(as, err,
				     "account '%s': [%s] has no %s", acct,
				     as->name, opt);
	const char *name = cfg_interpolated(cfg, as, v, err);
	if (!name)
		return -1;
	char *secname = xasprintf("Repository %s", name);
	struct cfg_section *rs = cfg_find_section(cfg, secname);
	free(secname);
	if (!rs || rs == &cfg->defaults)
		return opt_error(cfg, as, v, err,
				 "account '%s' uses repository '%s', but there "
				 "is no [Repository %s] section",
				 acct, name, name);
	const struct cfg_value *tv = cfg_lookup(cfg, rs, "type");
	if (!tv)
		return section_error(rs, err,
				     "[%s] has no 'type' (IMAP, Maildir, Gmail "
				     "or GmailMaildir)",
				     rs->name);
	enum config_repo_type t = cfg_repo_type(cfg, rs);
	if (t == CONFIG_REPO_NONE) {
		if (!check_value(cfg, rs, tv,
				 config_schema_find(CONFIG_K_REPO_UNKNOWN,
						    "type"),
				 err))
			/* Valid only once interpolated: oimap decides the
			 * section kind from the literal text. */
			opt_error(cfg, rs, tv, err,
				  "write the repository type literally "
				  "(without %%(...)s)");
		return -1;
	}
	bool ok = remote ? (t == CONFIG_REPO_IMAP || t == CONFIG_REPO_GMAIL)
			 : (t == CONFIG_REPO_IMAP || t == CONFIG_REPO_MAILDIR ||
			    t == CONFIG_REPO_GMAILMAILDIR);
	if (!ok)
		return opt_error(cfg, as, v, err,
				 "account '%s': [%s] is of type %s, which "
				 "cannot be a %s repository (%s)",
				 acct, rs->name, config_repo_type_name(t),
				 remote ? "remote" : "local",
				 remote ? "use IMAP or Gmail"
					: "use Maildir, GmailMaildir or IMAP");
	if ((t == CONFIG_REPO_MAILDIR || t == CONFIG_REPO_GMAILMAILDIR) &&
	    !has(cfg, rs->name, "localfolders"))
		return section_error(rs, err,
				     "[%s] has no localfolders (the Maildir "
				     "root directory)",
				     rs->name);
	if ((t == CONFIG_REPO_IMAP || t == CONFIG_REPO_GMAIL) &&
	    check_imap_repo(cfg, rs, t, err))
		return -1;
	r->name = keep_str(cfg, name);
	r->section = keep_str(cfg, rs->name);
	r->type = t;
	switch (t) {
	case CONFIG_REPO_IMAP:
		r->kind = CONFIG_K_IMAP;
		break;
	case CONFIG_REPO_MAILDIR:
		r->kind = CONFIG_K_MAILDIR;
		break;
	case CONFIG_REPO_GMAIL:
		r->kind = CONFIG_K_GMAIL;
		break;
	default:
		r->kind = CONFIG_K_GMAILMAILDIR;
		break;
	}
	return 0;
}

static int check_account(struct config *cfg, struct config_account *a,
			 struct cfg_section *as, struct oim_err *err)
{
	static const char *const need[] = { "localrepository",
					    "remoterepository" };
	for (size_t i = 0; i < ARRAY_SIZE(need); i++)
		if (!cfg_lookup(cfg, as, need[i]))
			return section_error(as, err,
					     "account '%s': [%s] has no %s",
					     a->name, as->name, need[i]);
	if (resolve_repo(cfg, as, a->name, false, &a->local, err) ||
	    resolve_repo(cfg, as, a->name, true, &a->remote, err))
		return -1;
	/* accounts.py __sync: "Configuration mismatch"; OfflineIMAP skips
	 * that account, oimap refuses the file before syncing any. */
	if (repo_bool(cfg, as->name, "utf8foldernames") &&
	    repo_bool(cfg, a->remote.section, "decodefoldernames")) {
		struct cfg_section *rs = cfg_find_section(cfg, a->remote.section);
		const struct cfg_value *v =
		    rs ? cfg_lookup(cfg, rs, "decodefoldernames") : NULL;
		if (v)
			return opt_error(cfg, rs, v, err,
					 "account '%s' sets utf8foldernames: "
					 "the account setting utf8foldernames "
					 "and the repository setting "
					 "decodefoldernames may not be used at "
					 "the same time (utf8foldernames "
					 "replaces decodefoldernames: remove "
					 "it)",
					 a->name);
		return section_error(as, err,
				     "account '%s': utf8foldernames and "
				     "decodefoldernames (in [%s]) may not be "
				     "used at the same time",
				     a->name, a->remote.section);
	}
	bool maxage = has(cfg, as->name, "maxage");
	int dates = maxage + has(cfg, a->local.section, "startdate") +
		    has(cfg, a->remote.section, "startdate");
	if (dates > 1)
		return section_error(as, err,
				     "account '%s': use only one of maxage "
				     "and startdate (local or remote)",
				     a->name);
	if (maxage && a->local.type == CONFIG_REPO_IMAP)
		return section_error(as, err,
				     "account '%s': maxage is not supported "
				     "for IMAP-to-IMAP sync (use startdate)",
				     a->name);
	return 0;
}

/*
 * mbnames.py _Mbnames.__init__ reads peritem, header, sep, footer and
 * filename (in that order) whenever there is an [mbnames] section, before
 * it looks at 'enabled': a missing one (NoOptionError) stops OfflineIMAP
 * before it syncs anything.  oimap refuses it too when the section is
 * enabled; a section that is not (OfflineIMAP's sample configuration has
 * an empty one) only gets a warning.
 */
static int check_mbnames(struct config *cfg, struct oim_err *err)
{
	static const char *const need[] = {"peritem", "header", "sep",
					   "footer", "filename"};
	struct cfg_section *s = cfg_find_section(cfg, "mbnames");
	struct strbuf missing = STRBUF_INIT;
	const char *first = NULL;
	if (!s || s == &cfg->defaults)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(need); i++) {
		if (cfg_lookup(cfg, s, need[i]))
			continue;
		strbuf_addf(&missing, "%s%s", first ? ", " : "", need[i]);
		if (!first)
			first = need[i];
	}
	if (!first)
		return 0;
	if (repo_bool(cfg, "mbnames", "enabled")) {
		strbuf_release(&missing);
		return section_error(s, err,
				     "[mbnames] has no '%s' option: with "
				     "enabled = yes it needs peritem, header, "
				     "sep, footer and filename",
				     first);
	}
	vwarn(cfg,
	      "%s:%u: [mbnames] has no %s: OfflineIMAP refuses to sync with "
	      "such a section even when it is not enabled; oimap ignores it",
	      s->file ? s->file : "command line", s->line, missing.buf);
	strbuf_release(&missing);
	return 0;
}

int config_validate(struct config *cfg, struct oim_err *err)
{
	struct refs refs = { 0 };
	int rc = -1;
	struct config_account *accts = NULL;
	size_t n_accts = 0, alloc_accts = 0;
	char *list = NULL;

	free(cfg->accounts);
	cfg->accounts = NULL;
	cfg->n_accounts = 0;
	cfg->validated = false;

	for (size_t i = 0; i < cfg->defaults.n_opts; i++)
		collect_refs(&refs, cfg->defaults.opts[i].value.buf);
	for (size_t s = 0; s < cfg->n_sects; s++)
		for (size_t i = 0; i < cfg->sects[s]->n_opts; i++)
			collect_refs(&refs, cfg->sects[s]->opts[i].value.buf);

	for (size_t s = 0; s < cfg->n_sects; s++)
		if (check_section(cfg, cfg->sects[s], &refs, err))
			goto out;
	if (check_mbnames(cfg, err))
		goto out;

	/* The accounts to sync: -a, else [general] accounts. */
	struct cfg_section *gen = cfg_find_section(cfg, "general");
	const struct cfg_value *av = NULL;
	bool from_cmdline = cfg->select != NULL;
	if (from_cmdline) {
		list = xstrdup(cfg->select);
	} else {
		if (!gen || gen == &cfg->defaults) {
			oim_error(err, OIM_SEV_FATAL, OIM_E_CONFIG,
				  "%s: no [general] section",
				  cfg->path ? cfg->path : "config");
			goto out;
		}
		av = cfg_lookup(cfg, gen, "accounts");
		if (!av) {
			section_error(gen, err,
				      "[general] has no 'accounts' option "
				      "(the accounts to sync)");
			goto out;
		}
		const char *t = cfg_interpolated(cfg, gen, av, err);
		if (!t)
			goto out;
		list = xstrdup(t);
	}

	char *p = list;
	for (;;) {
		char *c = strchr(p, ',');
		if (c)
			*c = '\0';
		char *name = p;
		size_t n = strlen(name);
		while (n && (name[n - 1] == ' ' || name[n - 1] == '\t'))
			name[--n] = '\0';
		while (*name == ' ' || *name == '\t')
			name++;
		struct strbuf w = STRBUF_INIT;
		if (av)
			cfg_where(&w, av);
		if (!*name) {
			if (from_cmdline)
				oim_error(err, OIM_SEV_FATAL, OIM_E_USAGE,
					  "-a '%s': empty account name",
					  cfg->select);
			else
				oim_error(err, OIM_SEV_FATAL, OIM_E_CONFIG,
					  "%s: [general] accounts has an empty "
					  "account name (a stray comma?)",
					  w.buf);
			strbuf_release(&w);
			goto out;
		}
		bool dup = false;
		for (size_t i = 0; i < n_accts; i++)
			if (!strcmp(accts[i].name, name))
				dup = true;
		struct cfg_section *as = account_section(cfg, name);
		if (!as) {
			struct strbuf known = STRBUF_INIT;
			known_accounts(cfg, &known);
			if (from_cmdline)
				oim_error(err, OIM_SEV_FATAL, OIM_E_CONFIG,
					  "account '%s' given with -a does not "
					  "exist: no [Account %s] in %s (known "
					  "accounts: %s)",
					  name, name,
					  cfg->path ? cfg->path : "config",
					  known.buf);
			else
				oim_error(err, OIM_SEV_FATAL, OIM_E_CONFIG,
					  "%s: account '%s' listed in "
					  "[general] accounts has no "
					  "[Account %s] section (known "
					  "accounts: %s)",
					  w.buf, name, name, known.buf);
			strbuf_release(&known);
			strbuf_release(&w);
			goto out;
		}
		if (dup) {
			if (av)
				vwarn(cfg,
				      "%s: account '%s' listed twice; syncing "
				      "it once",
				      w.buf, name);
			else
				vwarn(cfg,
				      "-a: account '%s' given twice; syncing "
				      "it once",
				      name);
		} else {
			ALLOC_GROW(accts, n_accts, alloc_accts);
			struct config_account *a = &accts[n_accts++];
			memset(a, 0, sizeof(*a));
			a->name = keep_str(cfg, name);
			a->section = keep_str(cfg, as->name);
			if (check_account(cfg, a, as, err)) {
				strbuf_release(&w);
				goto out;
			}
		}
		strbuf_release(&w);
		if (!c)
			break;
		p = c + 1;
	}

	/* With -a, a broken [general] accounts does not stop the run (as in
	 * OfflineIMAP), but say so. */
	if (from_cmdline && gen && (av = cfg_lookup(cfg, gen, "accounts"))) {
		struct oim_err e = OIM_ERR_INIT;
		const char *t = cfg_interpolated(cfg, gen, av, &e);
		char *l2 = t ? xstrdup(t) : NULL;
		for (char *q = l2; q;) {
			char *c = strchr(q, ',');
			if (c)
				*c = '\0';
			char *nm = q;
			size_t n = strlen(nm);
			while (n && (nm[n - 1] == ' ' || nm[n - 1] == '\t'))
				nm[--n] = '\0';
			while (*nm == ' ' || *nm == '\t')
				nm++;
			if (*nm && !account_section(cfg, nm)) {
				struct strbuf w = STRBUF_INIT;
				cfg_where(&w, av);
				vwarn(cfg,
				      "%s: account '%s' listed in [general] "
				      "accounts has no [Account %s] section",
				      w.buf, nm, nm);
				strbuf_release(&w);
			}
			q = c ? c + 1 : NULL;
		}
		free(l2);
	}

	/* Repositories nobody syncs may have any type; tell about odd ones. */
	for (size_t s = 0; s < cfg->n_sects; s++) {
		struct cfg_section *rs = cfg->sects[s];
		if (!oim_starts_with(rs->name, "Repository ") ||
		    cfg_repo_type(cfg, rs) != CONFIG_REPO_NONE)
			continue;
		bool used = false;
		for (size_t i = 0; i < n_accts; i++)
			if (!strcmp(accts[i].local.section, rs->name) ||
			    !strcmp(accts[i].remote.section, rs->name))
				used = true;
		if (used)
			continue;
		const struct cfg_value *tv = cfg_lookup(cfg, rs, "type");
		if (!tv)
			vwarn(cfg,
			      "%s:%u: [%s] has no 'type' (not used by the "
			      "accounts to sync)",
			      rs->file ? rs->file : "command line", rs->line,
			      rs->name);
		else
			vwarn(cfg,
			      "%s:%u: [%s] has the unknown type '%s' (IMAP, "
			      "Maildir, Gmail, GmailMaildir; not used by the "
			      "accounts to sync)",
			      tv->file ? tv->file : "command line", tv->line,
			      rs->name, tv->value.buf);
	}

	cfg->accounts = accts;
	cfg->n_accounts = n_accts;
	accts = NULL;
	cfg->validated = true;
	rc = 0;
out:
	free(accts);
	free(list);
	for (size_t i = 0; i < refs.n; i++)
		free(refs.names[i]);
	free(refs.names);
	return rc;
}

size_t config_account_count(const struct config *cfg)
{
	return cfg->validated ? cfg->n_accounts : 0;
}

const struct config_account *config_account_at(const struct config *cfg,
					       size_t i)
{
	if (!cfg->validated || i >= cfg->n_accounts)
		return NULL;
	return &cfg->accounts[i];
}

const struct config_account *config_account_find(const struct config *cfg,
						 const char *name)
{
	for (size_t i = 0; i < config_account_count(cfg); i++)
		if (!strcmp(cfg->accounts[i].name, name))
			return &cfg->accounts[i];
	return NULL;
}
