/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * config.c - the offlineimaprc parser, interpolation and typed getters.
 *
 * The parser follows RawConfigParser._read() of Python 3.11 line by line
 * (see config.h for the rules); comments below point at the places where
 * the obvious C would differ from Python.
 */
#include "config-int.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../util/limits.h"
#include "../util/log.h"

/* ---- small helpers ------------------------------------------------------ */

/* Python's str.isspace() for ASCII: what strip() and \s remove. */
static bool py_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	       c == '\f' || (c >= 0x1c && c <= 0x1f);
}

static void strip_span(const char **s, size_t *n)
{
	while (*n && py_space((unsigned char)**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n && py_space((unsigned char)(*s)[*n - 1]))
		(*n)--;
}

static void rstrip_sb(struct strbuf *sb)
{
	size_t n = sb->len;
	while (n && py_space((unsigned char)sb->buf[n - 1]))
		n--;
	strbuf_setlen(sb, n);
}

static char *lower_dup(const char *s, size_t n)
{
	char *r = xstrndup(s, n);
	oim_str_tolower(r);
	return r;
}

static const char *keep(struct config *cfg, char *s)
{
	ALLOC_GROW(cfg->strings, cfg->n_strings, cfg->alloc_strings);
	cfg->strings[cfg->n_strings++] = s;
	return s;
}

void cfg_warnf(struct config *cfg, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	if (!cfg->warn_set)
		log_warn("%s", sb.buf);
	else if (cfg->warn_fn)
		cfg->warn_fn(cfg->warn_ctx, sb.buf);
	strbuf_release(&sb);
}

/* ---- life cycle --------------------------------------------------------- */

static void section_init(struct cfg_section *s, const char *name)
{
	memset(s, 0, sizeof(*s));
	s->name = xstrdup(name);
}

static void drop_cache(struct config *cfg, struct cfg_section *s)
{
	/* Callers may still hold pointers into the cache: keep the strings
	 * alive until config_free(). */
	for (size_t i = 0; i < s->n_cache; i++) {
		keep(cfg, s->cache[i].value);
		free(s->cache[i].name);
	}
	s->n_cache = 0;
}

static void section_release(struct cfg_section *s)
{
	for (size_t i = 0; i < s->n_opts; i++) {
		free(s->opts[i].name);
		strbuf_release_secret(&s->opts[i].value);
	}
	free(s->opts);
	for (size_t i = 0; i < s->n_cache; i++) {
		free(s->cache[i].name);
		oim_free_secret(s->cache[i].value);
	}
	free(s->cache);
	free(s->name);
}

struct config *config_new(void)
{
	struct config *cfg = xcalloc(1, sizeof(*cfg));
	section_init(&cfg->defaults, "DEFAULT");
	pthread_mutex_init(&cfg->lock, NULL);
	return cfg;
}

void config_free(struct config *cfg)
{
	if (!cfg)
		return;
	section_release(&cfg->defaults);
	for (size_t i = 0; i < cfg->n_sects; i++) {
		section_release(cfg->sects[i]);
		free(cfg->sects[i]);
	}
	free(cfg->sects);
	for (size_t i = 0; i < cfg->n_strings; i++)
		oim_free_secret(cfg->strings[i]);
	free(cfg->strings);
	free(cfg->select);
	if (cfg->folders)
		for (size_t i = 0; cfg->folders[i]; i++)
			free(cfg->folders[i]);
	free(cfg->folders);
	free(cfg->accounts);
	pthread_mutex_destroy(&cfg->lock);
	free(cfg);
}

void config_set_warn_fn(struct config *cfg, config_warn_fn *fn, void *ctx)
{
	cfg->warn_fn = fn;
	cfg->warn_ctx = ctx;
	cfg->warn_set = true;
}

/* ---- sections and values ------------------------------------------------ */

struct cfg_section *cfg_find_section(const struct config *cfg,
				     const char *name)
{
	if (!strcmp(name, "DEFAULT"))
		return (struct cfg_section *)&cfg->defaults;
	for (size_t i = 0; i < cfg->n_sects; i++)
		if (!strcmp(cfg->sects[i]->name, name))
			return cfg->sects[i];
	return NULL;
}

static struct cfg_section *add_section(struct config *cfg, const char *name)
{
	struct cfg_section *s = xmalloc(sizeof(*s));
	section_init(s, name);
	ALLOC_GROW(cfg->sects, cfg->n_sects, cfg->alloc_sects);
	cfg->sects[cfg->n_sects++] = s;
	return s;
}

static struct cfg_value *own_value(const struct cfg_section *s,
				   const char *lname)
{
	for (size_t i = 0; i < s->n_opts; i++)
		if (!strcmp(s->opts[i].name, lname))
			return &s->opts[i];
	return NULL;
}

const struct cfg_value *cfg_own_value(const struct cfg_section *s,
				      const char *name)
{
	return own_value(s, name);
}

const struct cfg_value *cfg_lookup(const struct config *cfg,
				   const struct cfg_section *sect,
				   const char *name)
{
	if (!sect)
		return NULL;
	const struct cfg_value *v = own_value(sect, name);
	if (!v && sect != &cfg->defaults)
		v = own_value(&cfg->defaults, name);
	return v;
}

/* Set (or replace, keeping its place as a Python dict does) a value. */
static struct cfg_value *set_value(struct config *cfg, struct cfg_section *s,
				   const char *lname, const char *val,
				   size_t len)
{
	struct cfg_value *v = own_value(s, lname);
	if (!v) {
		ALLOC_GROW(s->opts, s->n_opts, s->alloc_opts);
		v = &s->opts[s->n_opts++];
		memset(v, 0, sizeof(*v));
		v->name = xstrdup(lname);
		strbuf_init(&v->value, 0);
	}
	strbuf_reset(&v->value);
	strbuf_add(&v->value, val, len);
	v->file = NULL;
	v->line = 0;
	v->origin = NULL;
	v->gen = 0;
	/* A change anywhere can change any interpolation. */
	drop_cache(cfg, &cfg->defaults);
	for (size_t i = 0; i < cfg->n_sects; i++)
		drop_cache(cfg, cfg->sects[i]);
	return v;
}

void cfg_where(struct strbuf *sb, const struct cfg_value *v)
{
	if (v->file)
		strbuf_addf(sb, "%s:%u", v->file, v->line);
	else
		strbuf_addf(sb, "command line (%s)",
			    v->origin ? v->origin : "set");
}

/* keep() for getters, which may run on several threads at once. */
static const char *keep_locked(struct config *cfg, char *s)
{
	pthread_mutex_lock(&cfg->lock);
	keep(cfg, s);
	pthread_mutex_unlock(&cfg->lock);
	return s;
}

static const char *where(struct config *cfg, const struct cfg_value *v)
{
	struct strbuf sb = STRBUF_INIT;
	cfg_where(&sb, v);
	return keep_locked(cfg, strbuf_detach(&sb, NULL));
}

/* ---- the parser ----------------------------------------------------------- */

struct parse {
	struct config *cfg;
	const char *file;
	struct cfg_section *cur; /* cursect */
	struct cfg_value *opt;	 /* optname: value being continued */
	size_t indent_level;
};

static int parse_line(struct parse *ps, const char *line, size_t len,
		      unsigned lineno, struct oim_err *err)
{
	struct config *cfg = ps->cfg;
	const char *val = line;
	size_t n = len;
	strip_span(&val, &n);

	/* Full-line comments, also indented; they do not end a value and are
	 * not part of it.  No inline comments (inline_comment_prefixes is
	 * None in OfflineIMAP). */
	bool comment = n && (val[0] == '#' || val[0] == ';');
	if (comment || !n) {
		/* empty_lines_in_values: a blank line joins the value being
		 * read; the final rstrip() drops trailing ones. */
		if (!comment && ps->cur && ps->opt)
			strbuf_addch(&ps->opt->value, '\n');
		return 0;
	}

	size_t indent = 0;
	while (indent < len && py_space((unsigned char)line[indent]))
		indent++;
	if (ps->cur && ps->opt && indent > ps->indent_level) {
		strbuf_addch(&ps->opt->value, '\n');
		strbuf_add(&ps->opt->value, val, n);
		return 0;
	}
	ps->indent_level = indent;

	if (val[0] == '[') {
		/* SECTCRE is \[(?P<header>.+)\] matched, not fullmatched: the
		 * header runs to the last ']' and anything after it is
		 * ignored. */
		size_t close = n;
		while (close > 0 && val[close - 1] != ']')
			close--;
		if (close < 3) {
			if (close == 2)
				return oim_error(err, OIM_SEV_FATAL,
						 OIM_E_CONFIG,
						 "%s:%u: empty section name '[]'",
						 ps->file, lineno);
			return oim_error(err, OIM_SEV_FATAL, OIM_E_CONFIG,
					 "%s:%u: unterminated section header "
					 "(no closing ']')",
					 ps->file, lineno);
		}
		close--; /* index of the last ']' */
		char *name = xstrndup(val + 1, close - 1);
		if (close + 1 < n)
			cfg_warnf(cfg,
			      "%s:%u: text after the section header [%s] is "
			      "ignored",
			      ps->file, lineno, name);
		struct cfg_section *s = cfg_find_section(cfg, name);
		if (s && s != &cfg->defaults && s->gen == cfg->gen)
			cfg_warnf(cfg,
			      "%s:%u: section [%s] given twice (first at line "
			      "%u); merging them",
			      ps->file, lineno, name, s->line);
		if (!s) {
			s = add_section(cfg, name);
			s->file = ps->file;
			s->line = lineno;
		} else if (s->gen != cfg->gen || !s->file) {
			s->file = ps->file;
			s->line = lineno;
		}
		s->gen = cfg->gen;
		free(name);
		ps->cur = s;
		ps->opt = NULL;
		return 0;
	}
	if (!ps->cur)
		return oim_error(err, OIM_SEV_FATAL, OIM_E_CONFIG,
				 "%s:%u: text before the first [section] header",
				 ps->file, lineno);

	/* OPTCRE: (?P<option>.*?)\s*(?P<vi>=|:)\s*(?P<value>.*)$ - the first
	 * '=' or ':' splits.  The line is not quoted: it may be a secret. */
	size_t d = 0;
	while (d < n && val[d] != '=' && val[d] != ':')
		d++;
	if (d == n)
		return oim_error(err, OIM_SEV_FATAL, OIM_E_CONFIG,
				 "%s:%u: not a [section] header, an 'option = "
				 "value' line or a comment (no '=' or ':')",
				 ps->file, lineno);
	const char *oname = val;
	size_t on = d;
	strip_span(&oname, &on);
	if (!on)
		return oim_error(err, OIM_SEV_FATAL, OIM_E_CONFIG,
				 "%s:%u: option name missing before '%c'",
				 ps->file, lineno, val[d]);
	const char *ov = val + d + 1;
	size_t ovn = n - d - 1;
	strip_span(&ov, &ovn);

	char *lname = lower_dup(oname, on);
	struct cfg_value *old = own_value(ps->cur, lname);
	if (old && old->file && old->gen == cfg->gen)
		cfg_warnf(cfg,
		      "%s:%u: option '%s' given twice in [%s] (first at line "
		      "%u); the last one wins",
		      ps->file, lineno, lname, ps->cur->name, old->line);
	struct cfg_value *v = set_value(cfg, ps->cur, lname, ov, ovn);
	v->file = ps->file;
	v->line = lineno;
	v->gen = cfg->gen;
	free(lname);
	ps->opt = v;
	return 0;
}

int config_read_string(struct config *cfg, const char *name, const char *text,
		       size_t len, struct oim_err *err)
{
	if (len > OIM_CONFIG_MAX_FILE)
		return oim_error(err, OIM_SEV_FATAL, OIM_E_LIMIT,
				 "%s: larger than %u bytes", name,
				 OIM_CONFIG_MAX_FILE);
	cfg->gen++;
	cfg->validated = false;
	struct parse ps = { cfg, keep(cfg, xstrdup(name)), NULL, NULL, 0 };
	if (!cfg->path)
		cfg->path = ps.file;
	size_t pos = 0;
	unsigned lineno = 0;
	int rc = 0;
	/* A UTF-8 byte order mark is not text (Python's utf-8-sig would
	 * drop it; plain utf-8 would make the first line garbage). */
	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
		pos = 3;
	while (pos < len) {
		/* Universal newlines: \n, \r\n and \r end a line. */
		size_t end = pos;
		while (end < len && text[end] != '\n' && text[end] != '\r')
			end++;
		lineno++;
		if (end - pos > OIM_CONFIG_MAX_LINE) {
			rc = oim_error(err, OIM_SEV_FATAL, OIM_E_LIMIT,
				       "%s:%u: line longer than %u bytes",
				       name, lineno, OIM_CONFIG_MAX_LINE);
			break;
		}
		if (memchr(text + pos, '\0', end - pos)) {
			rc = oim_error(err, OIM_SEV_FATAL, OIM_E_CONFIG,
				       "%s:%u: NUL byte in the file", name,
				       lineno);
			break;
		}
		if (parse_line(&ps, text + pos, end - pos, lineno, err)) {
			rc = -1;
			break;
		}
		if (end < len && text[end] == '\r' && end + 1 < len &&
		    text[end + 1] == '\n')
			end++;
		pos = end + 1;
	}
	/* _join_multiline_values(): '\n'.join(lines).rstrip() */
	for (size_t i = 0; i < cfg->defaults.n_opts; i++)
		rstrip_sb(&cfg->defaults.opts[i].value);
	for (size_t s = 0; s < cfg->n_sects; s++)
		for (size_t i = 0; i < cfg->sects[s]->n_opts; i++)
			rstrip_sb(&cfg->sects[s]->opts[i].value);
	return rc;
}

int config_read_file(struct config *cfg, const char *path,
		     struct oim_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return oim_error(err, OIM_SEV_FATAL, OIM_E_CONFIG,
				 "cannot read config file '%s': %s", path,
				 strerror(errno));
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		return oim_error(err, OIM_SEV_FATAL, OIM_E_CONFIG,
				 "cannot read config file '%s': it is a "
				 "directory",
				 path);
	}
	struct strbuf sb = STRBUF_INIT;
	char buf[65536];
	for (;;) {
		ssize_t r = read(fd, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			close(fd);
			strbuf_release(&sb);
			return oim_error(err, OIM_SEV_FATAL, OIM_E_CONFIG,
					 "cannot read config file '%s': %s",
					 path, strerror(e));
		}
		if (r == 0)
			break;
		if (sb.len + (size_t)r > OIM_CONFIG_MAX_FILE) {
			close(fd);
			strbuf_release(&sb);
			return oim_error(err, OIM_SEV_FATAL, OIM_E_LIMIT,
					 "%s: larger than %u bytes", path,
					 OIM_CONFIG_MAX_FILE);
		}
		strbuf_add(&sb, buf, (size_t)r);
	}
	close(fd);
	int rc = config_read_string(cfg, path, sb.buf, sb.len, err);
	if (!rc)
		log_debug(OIM_DBG_CONFIG, "read %s: %zu bytes, %zu sections",
			  path, sb.len, cfg->n_sects);
	strbuf_release_secret(&sb);
	return rc;
}

/* ---- interpolation -------------------------------------------------------- */

bool cfg_is_secret(const struct config *cfg, const struct cfg_section *sect,
		   const char *name)
{
	unsigned kind = sect ? cfg_section_kind(cfg, sect) : 0;
	const struct config_option *o = config_schema_find(kind, name);
	if (o)
		return (o->flags & CONFIG_F_SECRET) != 0;
	/* An option no schema knows in this section may still be a secret:
	 * a variable a password is built from, or an IMAP option in a
	 * repository whose type is wrong. */
	if (config_schema_find(CONFIG_K_IMAPS, name) &&
	    (config_schema_find(CONFIG_K_IMAPS, name)->flags & CONFIG_F_SECRET))
		return true;
	return strstr(name, "pass") || strstr(name, "secret") ||
	       strstr(name, "token");
}

static int interp_some(struct config *cfg, struct cfg_section *sect,
		       const struct cfg_value *top, const char *rest,
		       struct strbuf *acc, int depth, struct oim_err *err)
{
	struct strbuf w = STRBUF_INIT;
	bool secret = cfg_is_secret(cfg, sect, top->name);
	if (depth > OIM_CONFIG_MAX_INTERP_DEPTH) {
		cfg_where(&w, top);
		oim_error(err, OIM_SEV_FATAL, OIM_E_CONFIG,
			  "%s: option '%s' in [%s]: %%(...)s references nested "
			  "more than %d deep (do they refer to each other?)",
			  w.buf, top->name, sect->name,
			  OIM_CONFIG_MAX_INTERP_DEPTH);
		strbuf_release(&w);
		return -1;
	}
	while (*rest) {
		const char *p = strchr(rest, '%');
		if (!p) {
			strbuf_addstr(acc, rest);
			return 0;
		}
		strbuf_add(acc, rest, (size_t)(p - rest));
		if (p[1] == '%') {
			strbuf_addch(acc, '%');
			rest = p + 2;
			continue;
		}
		if (p[1] == '(') {
			/* _KEYCRE: %\(([^)]+)\)s */
			const char *close = strchr(p + 2, ')');
			if (!close || close == p + 2 || close[1] != 's') {
				cfg_where(&w, top);
				oim_error(err, OIM_SEV_FATAL, OIM_E_CONFIG,
					  "%s: option '%s' in [%s]: bad "
					  "%%(name)s reference%s%.40s%s",
					  w.buf, top->name, sect->name,
					  secret ? "" : " at '",
					  secret ? "" : p, secret ? "" : "'");
				strbuf_release(&w);
				return -1;
			}
			char *key = lower_dup(p + 2, (size_t)(close - p - 2));
			const struct cfg_value *v = cfg_lookup(cfg, sect, key);
			if (!v) {
				cfg_where(&w, top);
				oim_error(err, OIM_SEV_FATAL, OIM_E_CONFIG,
					  "%s: option '%s' in [%s] refers to "
					  "%%(%s)s, but there is no option '%s' "
					  "in [%s] or [DEFAULT]",
					  w.buf, top->name, sect->name, key,
					  key, sect->name);
				free(key);
				strbuf_release(&w);
				return -1;
			}
			free(key);
			rest = close + 2;
			if (strchr(v->value.buf, '%')) {
				if (interp_some(cfg, sect, top, v->value.buf,
						acc, depth + 1, err))
					return -1;
			} else {
				strbuf_add(acc, v->value.buf, v->value.len);
			}
			continue;
		}
		cfg_where(&w, top);
		oim_error(err, OIM_SEV_FATAL, OIM_E_CONFIG,
			  "%s: option '%s' in [%s]: '%%' must be followed by "
			  "'%%' or '(' (write '%%%%' for a percent sign)%s%.40s%s",
			  w.buf, top->name, sect->name,
			  secret ? "" : ", found '", secret ? "" : p,
			  secret ? "" : "'");
		strbuf_release(&w);
		return -1;
	}
	return 0;
}

const char *cfg_interpolated(struct config *cfg, struct cfg_section *sect,
			     const struct cfg_value *v, struct oim_err *err)
{
	const char *res = NULL;
	pthread_mutex_lock(&cfg->lock);
	for (size_t i = 0; i < sect->n_cache; i++)
		if (!strcmp(sect->cache[i].name, v->name)) {
			res = sect->cache[i].value;
			goto out;
		}
	struct strbuf acc = STRBUF_INIT;
	if (interp_some(cfg, sect, v, v->value.buf, &acc, 1, err)) {
		strbuf_release_secret(&acc);
		goto out;
	}
	ALLOC_GROW(sect->cache, sect->n_cache, sect->alloc_cache);
	sect->cache[sect->n_cache].name = xstrdup(v->name);
	res = sect->cache[sect->n_cache].value = strbuf_detach(&acc, NULL);
	sect->n_cache++;
out:
	pthread_mutex_unlock(&cfg->lock);
	return res;
}

/* ---- section kinds ---------------------------------------------------------- */

static enum config_repo_type repo_type_of(const char *t)
{
	/* Exact names: OfflineIMAP's typemap lookup is case-sensitive. */
	if (!strcmp(t, "IMAP"))
		return CONFIG_REPO_IMAP;
	if (!strcmp(t, "Maildir"))
		return CONFIG_REPO_MAILDIR;
	if (!strcmp(t, "Gmail"))
		return CONFIG_REPO_GMAIL;
	if (!strcmp(t, "GmailMaildir"))
		return CONFIG_REPO_GMAILMAILDIR;
	return CONFIG_REPO_NONE;
}

static unsigned kind_of_repo_type(enum config_repo_type t)
{
	switch (t) {
	case CONFIG_REPO_IMAP:
		return CONFIG_K_IMAP;
	case CONFIG_REPO_MAILDIR:
		return CONFIG_K_MAILDIR;
	case CONFIG_REPO_GMAIL:
		return CONFIG_K_GMAIL;
	case CONFIG_REPO_GMAILMAILDIR:
		return CONFIG_K_GMAILMAILDIR;
	default:
		return CONFIG_K_REPO_UNKNOWN;
	}
}

const char *config_repo_type_name(enum config_repo_type t)
{
	switch (t) {
	case CONFIG_REPO_IMAP:
		return "IMAP";
	case CONFIG_REPO_MAILDIR:
		return "Maildir";
	case CONFIG_REPO_GMAIL:
		return "Gmail";
	case CONFIG_REPO_GMAILMAILDIR:
		return "GmailMaildir";
	default:
		return "unknown";
	}
}

/* The type of a repository section, from its raw 'type' value (stripped,
 * as repository/__init__.py does); no interpolation, so this never fails
 * and needs no lock. */
enum config_repo_type cfg_repo_type(const struct config *cfg,
				    const struct cfg_section *sect)
{
	const struct cfg_value *v = cfg_lookup(cfg, sect, "type");
	if (!v)
		return CONFIG_REPO_NONE;
	return repo_type_of(v->value.buf);
}

unsigned cfg_section_kind(const struct config *cfg,
			  const struct cfg_section *sect)
{
	const char *n = sect->name;
	if (!strcmp(n, "general"))
		return CONFIG_K_GENERAL;
	if (!strcmp(n, "mbnames"))
		return CONFIG_K_MBNAMES;
	if (oim_starts_with(n, "Account "))
		return CONFIG_K_ACCOUNT;
	if (oim_starts_with(n, "Repository "))
		return kind_of_repo_type(cfg_repo_type(cfg, sect));
	return 0;
}

unsigned config_section_kind(const struct config *cfg, const char *section)
{
	const struct cfg_section *s = cfg_find_section(cfg, section);
	if (s)
		return cfg_section_kind(cfg, s);
	if (!strcmp(section, "general"))
		return CONFIG_K_GENERAL;
	if (!strcmp(section, "mbnames"))
		return CONFIG_K_MBNAMES;
	if (oim_starts_with(section, "Account "))
		return CONFIG_K_ACCOUNT;
	if (oim_starts_with(section, "Repository "))
		return CONFIG_K_REPO_UNKNOWN;
	return 0;
}

/* ---- value syntax, as Python's int(), float(), getboolean() ------------------ */

int config_parse_bool(const char *s)
{
	static const char *const yes[] = { "1", "yes", "true", "on" };
	static const char *const no[] = { "0", "no", "false", "off" };
	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (!oim_strcasecmp(s, yes[i]))
			return 1;
		if (!oim_strcasecmp(s, no[i]))
			return 0;
	}
	return -1;
}

/* Digits with single '_' between them (PEP 515), copied without them. */
static size_t scan_digits(const char *s, struct strbuf *out)
{
	size_t i = 0;
	if (!(s[0] >= '0' && s[0] <= '9'))
		return 0;
	for (;;) {
		while (s[i] >= '0' && s[i] <= '9')
			strbuf_addch(out, s[i++]);
		if (s[i] == '_' && s[i + 1] >= '0' && s[i + 1] <= '9') {
			i++;
			continue;
		}
		return i;
	}
}

int cfg_parse_int(const char *s, long *out)
{
	size_t n = strlen(s);
	strip_span(&s, &n);
	struct strbuf b = STRBUF_INIT;
	size_t i = 0;
	if (i < n && (s[i] == '+' || s[i] == '-'))
		strbuf_addch(&b, s[i++]);
	char *tmp = xstrndup(s + i, n - i);
	size_t d = scan_digits(tmp, &b);
	int rc = (d && d == n - i) ? oim_parse_long(b.buf, out) : -1;
	free(tmp);
	strbuf_release(&b);
	return rc;
}

int cfg_parse_float(const char *s, double *out)
{
	size_t n = strlen(s);
	strip_span(&s, &n);
	char *t = xstrndup(s, n);
	struct strbuf b = STRBUF_INIT;
	const char *p = t;
	int rc = -1;
	if (*p == '+' || *p == '-')
		strbuf_addch(&b, *p++);
	if (!oim_strcasecmp(p, "inf") || !oim_strcasecmp(p, "infinity") ||
	    !oim_strcasecmp(p, "nan")) {
		strbuf_addstr(&b, p);
	} else {
		size_t ip = scan_digits(p, &b);
		p += ip;
		size_t fp = 0;
		if (*p == '.') {
			strbuf_addch(&b, *p++);
			fp = scan_digits(p, &b);
			p += fp;
		}
		if (!ip && !fp)
			goto out;
		if (*p == 'e' || *p == 'E') {
			strbuf_addch(&b, *p++);
			if (*p == '+' || *p == '-')
				strbuf_addch(&b, *p++);
			size_t ep = scan_digits(p, &b);
			if (!ep)
				goto out;
			p += ep;
		}
		if (*p)
			goto out;
	}
	char *end;
	errno = 0;
	*out = strtod(b.buf, &end);
	rc = *end ? -1 : 0;
out:
	free(t);
	strbuf_release(&b);
	return rc;
}

/* time.strptime(s, "%Y-%m-%d"): 4-digit year, 1-2 digit month and day,
 * a real calendar date; OfflineIMAP then refuses years before 1900. */
int cfg_parse_date(const char *s, int *y_r, int *m_r, int *d_r)
{
	int v[3] = { 0, 0, 0 };
	const int maxd[3] = { 4, 2, 2 };
	for (int f = 0; f < 3; f++) {
		int nd = 0;
		while (*s >= '0' && *s <= '9' && nd < maxd[f]) {
			v[f] = v[f] * 10 + (*s++ - '0');
			nd++;
		}
		if (!nd || (f == 0 && nd != 4))
			return -1;
		if (f < 2 && *s++ != '-')
			return -1;
	}
	if (*s)
		return -1;
	static const int mdays[] = { 31, 29, 31, 30, 31, 30,
				     31, 31, 30, 31, 30, 31 };
	if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > mdays[v[1] - 1])
		return -1;
	bool leap = (v[0] % 4 == 0 && v[0] % 100 != 0) || v[0] % 400 == 0;
	if (v[1] == 2 && v[2] == 29 && !leap)
		return -1;
	if (v[0] < 1900)
		return -1;
	*y_r = v[0];
	*m_r = v[1];
	*d_r = v[2];
	return 0;
}

/* ---- getters ------------------------------------------------------------------ */

bool config_has_section(const struct config *cfg, const char *section)
{
	return strcmp(section, "DEFAULT") && cfg_find_section(cfg, section);
}

static const struct cfg_value *find_value(const struct config *cfg,
					  const char *section,
					  const char *option,
					  struct cfg_section **sect_r)
{
	const char *secname = (!section || !*section) ? "DEFAULT" : section;
	struct cfg_section *s = cfg_find_section(cfg, secname);
	*sect_r = s;
	if (!s)
		return NULL;
	char *l = xstrdup(option);
	oim_str_tolower(l);
	const struct cfg_value *v = cfg_lookup(cfg, s, l);
	free(l);
	return v;
}

bool config_has_option(const struct config *cfg, const char *section,
		       const char *option)
{
	struct cfg_section *s;
	return find_value(cfg, section, option, &s) != NULL;
}

const char *config_get_raw(const struct config *cfg, const char *section,
			   const char *option)
{
	struct cfg_section *s;
	const struct cfg_value *v = find_value(cfg, section, option, &s);
	return v ? v->value.buf : NULL;
}

const char *config_origin(struct config *cfg, const char *section,
			  const char *option)
{
	struct cfg_section *s;
	const struct cfg_value *v = find_value(cfg, section, option, &s);
	if (!v)
		return NULL;
	if (s != &cfg->defaults && own_value(s, v->name) != v) {
		struct strbuf sb = STRBUF_INIT;
		strbuf_addstr(&sb, "[DEFAULT] ");
		cfg_where(&sb, v);
		return keep_locked(cfg, strbuf_detach(&sb, NULL));
	}
	return where(cfg, v);
}

/*
 * The text of an option: the value if set (interpolated unless the schema
 * says raw), else the schema default.  *set_r tells which.  Returns -1
 * with err on an interpolation error; *out NULL if unset with no default.
 */
static int get_text(struct config *cfg, const char *section,
		    const char *option, const char **out, bool *set_r,
		    const struct config_option **opt_r,
		    const struct cfg_value **v_r, struct oim_err *err)
{
	struct cfg_section *s;
	const struct cfg_value *v = find_value(cfg, section, option, &s);
	unsigned kind = config_section_kind(cfg, section ? section : "");
	const struct config_option *o = config_schema_find(kind, option);
	*opt_r = o;
	*v_r = v;
	*set_r = v != NULL;
	if (!v) {
		*out = o ? o->def : NULL;
		return 0;
	}
	if (o && (o->flags & CONFIG_F_RAW)) {
		*out = v->value.buf;
		return 0;
	}
	*out = cfg_interpolated(cfg, s, v, err);
	return *out ? 0 : -1;
}

static int bad_value(struct config *cfg, const char *section,
		     const struct cfg_value *v, const char *text,
		     const char *expect, struct oim_err *err)
{
	struct strbuf w = STRBUF_INIT;
	cfg_where(&w, v);
	struct cfg_section *s = cfg_find_section(cfg, section);
	bool secret = cfg_is_secret(cfg, s, v->name);
	oim_error(err, OIM_SEV_FATAL, OIM_E_CONFIG,
		  "%s: option '%s' in [%s]: %s%s%s is not %s", w.buf, v->name,
		  section, secret ? "" : "'",
		  secret			 ? "the value"
		  : strstr(v->value.buf, "%(") ? v->value.buf
					       : text,
		  secret ? "" : "'", expect);
	strbuf_release(&w);
	return -1;
}

int config_get_str(struct config *cfg, const char *section, const char *option,
		   const char *def, const char **out, struct oim_err *err)
{
	const struct config_option *o;
	const struct cfg_value *v;
	bool set;
	const char *t;
	if (get_text(cfg, section, option, &t, &set, &o, &v, err))
		return -1;
	*out = (set || (o && o->def)) ? t : def;
	return 0;
}

int config_get_bool(struct config *cfg, const char *section,
		    const char *option, bool def, bool *out,
		    struct oim_err *err)
{
	const struct config_option *o;
	const struct cfg_value *v;
	bool set;
	const char *t;
	if (get_text(cfg, section, option, &t, &set, &o, &v, err))
		return -1;
	if (!t) {
		*out = def;
		return 0;
	}
	int b = config_parse_bool(t);
	if (b < 0) {
		if (!set)
			BUG("schema default '%s' of %s is not a boolean", t,
			    option);
		return bad_value(cfg, section, v, t,
				 "a boolean (yes/no, true/false, on/off, 1/0)",
				 err);
	}
	*out = b;
	return 0;
}

int config_get_int(struct config *cfg, const char *section, const char *option,
		   long def, long *out, struct oim_err *err)
{
	const struct config_option *o;
	const struct cfg_value *v;
	bool set;
	const char *t;
	if (get_text(cfg, section, option, &t, &set, &o, &v, err))
		return -1;
	if (!t) {
		*out = def;
		return 0;
	}
	if (cfg_parse_int(t, out)) {
		if (!set)
			BUG("schema default '%s' of %s is not an int", t,
			    option);
		return bad_value(cfg, section, v, t, "an integer", err);
	}
	return 0;
}

int config_get_float(struct config *cfg, const char *section,
		     const char *option, double def, double *out,
		     struct oim_err *err)
{
	const struct config_option *o;
	const struct cfg_value *v;
	bool set;
	const char *t;
	if (get_text(cfg, section, option, &t, &set, &o, &v, err))
		return -1;
	if (!t) {
		*out = def;
		return 0;
	}
	if (cfg_parse_float(t, out)) {
		if (!set)
			BUG("schema default '%s' of %s is not a number", t,
			    option);
		return bad_value(cfg, section, v, t, "a number", err);
	}
	return 0;
}

/* os.path.expanduser() then os.path.expandvars(). */
char *cfg_expand_path(const char *p)
{
	struct strbuf sb = STRBUF_INIT;
	if (p[0] == '~') {
		size_t n = strcspn(p + 1, "/");
		const char *home = NULL;
		if (n == 0) {
			home = getenv("HOME");
			if (!home) {
				struct passwd *pw = getpwuid(getuid());
				home = pw ? pw->pw_dir : NULL;
			}
		} else {
			char *user = xstrndup(p + 1, n);
			struct passwd *pw = getpwnam(user);
			free(user);
			home = pw ? pw->pw_dir : NULL;
		}
		if (home) {
			strbuf_addstr(&sb, home);
			/* Python strips a trailing '/' of HOME ('/' stays
			 * '/' only when nothing follows). */
			if (sb.len > 1 && sb.buf[sb.len - 1] == '/')
				strbuf_setlen(&sb, sb.len - 1);
			p += 1 + n;
			if (!sb.len || (sb.len == 1 && sb.buf[0] == '/' && *p))
				strbuf_reset(&sb);
		}
	}
	while (*p) {
		if (*p == '$') {
			const char *q = p + 1;
			size_t n = 0;
			bool brace = *q == '{';
			if (brace) {
				const char *c = strchr(q + 1, '}');
				if (c) {
					n = (size_t)(c - q - 1);
					char *name = xstrndup(q + 1, n);
					const char *val = getenv(name);
					free(name);
					if (val) {
						strbuf_addstr(&sb, val);
						p = c + 1;
						continue;
					}
				}
			} else {
				while ((q[n] >= 'a' && q[n] <= 'z') ||
				       (q[n] >= 'A' && q[n] <= 'Z') ||
				       (q[n] >= '0' && q[n] <= '9') || q[n] == '_')
					n++;
				if (n) {
					char *name = xstrndup(q, n);
					const char *val = getenv(name);
					free(name);
					if (val) {
						strbuf_addstr(&sb, val);
						p = q + n;
						continue;
					}
				}
			}
		}
		strbuf_addch(&sb, *p++);
	}
	return strbuf_detach(&sb, NULL);
}

int config_get_path(struct config *cfg, const char *section,
		    const char *option, const char *def, const char **out,
		    struct oim_err *err)
{
	const char *t;
	if (config_get_str(cfg, section, option, def, &t, err))
		return -1;
	*out = t ? keep_locked(cfg, cfg_expand_path(t)) : NULL;
	return 0;
}

int config_get_list(struct config *cfg, const char *section,
		    const char *option, const char *const **out, size_t *n_r,
		    struct oim_err *err)
{
	const char *t;
	if (config_get_str(cfg, section, option, NULL, &t, err))
		return -1;
	char **items = NULL;
	size_t n = 0, alloc = 0;
	for (const char *p = t; p;) {
		const char *c = strchr(p, ',');
		const char *it = p;
		size_t len = c ? (size_t)(c - p) : strlen(p);
		strip_span(&it, &len);
		if (len) {
			ALLOC_GROW(items, n + 1, alloc);
			items[n++] = (char *)keep_locked(cfg, xstrndup(it, len));
		}
		p = c ? c + 1 : NULL;
	}
	ALLOC_GROW(items, n + 1, alloc);
	items[n] = NULL;
	/* Kept with the strings: config_free() wipes up to the first zero
	 * byte, which the NULL terminator guarantees inside the block. */
	*out = (const char *const *)keep_locked(cfg, (char *)items);
	*n_r = n;
	return 0;
}

/* ---- command-line changes ------------------------------------------------------ */

void config_set_from(struct config *cfg, const char *section,
		     const char *option, const char *value, const char *origin)
{
	struct cfg_section *s = cfg_find_section(cfg, section);
	if (!s)
		s = add_section(cfg, section);
	char *l = xstrdup(option);
	oim_str_tolower(l);
	struct cfg_value *v = set_value(cfg, s, l, value, strlen(value));
	v->origin = origin ? keep(cfg, xstrdup(origin)) : NULL;
	free(l);
	cfg->validated = false;
}

void config_set(struct config *cfg, const char *section, const char *option,
		const char *value)
{
	config_set_from(cfg, section, option, value, NULL);
}

void config_remove(struct config *cfg, const char *section, const char *option)
{
	struct cfg_section *s = cfg_find_section(cfg, section);
	if (!s)
		return;
	char *l = xstrdup(option);
	oim_str_tolower(l);
	struct cfg_value *v = own_value(s, l);
	free(l);
	if (!v)
		return;
	size_t i = (size_t)(v - s->opts);
	free(v->name);
	strbuf_release_secret(&v->value);
	memmove(&s->opts[i], &s->opts[i + 1],
		(s->n_opts - i - 1) * sizeof(*s->opts));
	s->n_opts--;
	drop_cache(cfg, &cfg->defaults);
	for (size_t k = 0; k < cfg->n_sects; k++)
		drop_cache(cfg, cfg->sects[k]);
	cfg->validated = false;
}

int config_apply_override(struct config *cfg, const char *spec,
			  struct oim_err *err)
{
	const char *eq = strchr(spec, '=');
	if (!eq)
		return oim_error(err, OIM_SEV_FATAL, OIM_E_USAGE,
				 "-k '%s': expected [section:]option=value "
				 "(no '=')",
				 spec);
	/* The key is everything before the first '=' (Python's
	 * option.split('=', 1)); a section is what precedes its first ':'. */
	char *key = xstrndup(spec, (size_t)(eq - spec));
	char *colon = strchr(key, ':');
	char *section;
	const char *opt;
	if (colon) {
		section = xstrndup(key, (size_t)(colon - key));
		for (char *c = section; *c; c++)
			if (*c == '_')
				*c = ' ';
		opt = colon + 1;
	} else {
		section = xstrdup("general");
		opt = key;
	}
	/* Unlike Python, blanks around the option and value are dropped:
	 * "-k 'ssl = no'" means what it says. */
	size_t on = strlen(opt);
	strip_span(&opt, &on);
	const char *val = eq + 1;
	size_t vn = strlen(val);
	strip_span(&val, &vn);
	int rc = 0;
	if (!on) {
		rc = oim_error(err, OIM_SEV_FATAL, OIM_E_USAGE,
			       "-k: option name missing before '='");
	} else if (!cfg_find_section(cfg, section)) {
		rc = oim_error(err, OIM_SEV_FATAL, OIM_E_CONFIG,
			       "-k %s:%.*s: there is no section [%s] in %s "
			       "('_' in the section name stands for a space)",
			       section, (int)on, opt, section,
			       cfg->path ? cfg->path : "the config");
	} else {
		char *o = xstrndup(opt, on);
		char *v = xstrndup(val, vn);
		/* The origin names the option, never the value: it may be
		 * a password. */
		char *origin = xasprintf("-k %s:%s", section, o);
		config_set_from(cfg, section, o, v, origin);
		free(origin);
		oim_free_secret(v);
		free(o);
	}
	free(section);
	free(key);
	return rc;
}

void config_set_dry_run(struct config *cfg)
{
	config_set_from(cfg, "general", "dry-run", "True", "--dry-run");
}

void config_set_run_once(struct config *cfg)
{
	config_remove(cfg, "DEFAULT", "autorefresh");
	for (size_t i = 0; i < cfg->n_sects; i++)
		if (oim_starts_with(cfg->sects[i]->name, "Account "))
			config_remove(cfg, cfg->sects[i]->name, "autorefresh");
}

void config_set_quick(struct config *cfg)
{
	for (size_t i = 0; i < cfg->n_sects; i++)
		if (oim_starts_with(cfg->sects[i]->name, "Account "))
			config_set_from(cfg, cfg->sects[i]->name, "quick",
					"-1", "-q");
}

/* Python's repr() of a str, for the folderfilter OfflineIMAP builds. */
static void py_repr(struct strbuf *sb, const char *s)
{
	char q = '\'';
	if (strchr(s, '\'') && !strchr(s, '"'))
		q = '"';
	strbuf_addch(sb, q);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == (unsigned char)q || c == '\\') {
			strbuf_addch(sb, '\\');
			strbuf_addch(sb, (char)c);
		} else if (c == '\t') {
			strbuf_addstr(sb, "\\t");
		} else if (c == '\n') {
			strbuf_addstr(sb, "\\n");
		} else if (c == '\r') {
			strbuf_addstr(sb, "\\r");
		} else if (c < 0x20 || c == 0x7f) {
			strbuf_addf(sb, "\\x%02x", c);
		} else if (c == '%') {
			/* The value goes through interpolation: escape. */
			strbuf_addstr(sb, "%%");
		} else {
			strbuf_addch(sb, (char)c);
		}
	}
	strbuf_addch(sb, q);
}

void config_set_folders(struct config *cfg, const char *list)
{
	if (cfg->folders)
		for (size_t i = 0; cfg->folders[i]; i++)
			free(cfg->folders[i]);
	free(cfg->folders);
	cfg->folders = NULL;
	size_t n = 0, alloc = 0;
	/* options.folders.split(","): no stripping, empty items kept. */
	const char *p = list;
	for (;;) {
		const char *c = strchr(p, ',');
		size_t len = c ? (size_t)(c - p) : strlen(p);
		ALLOC_GROW(cfg->folders, n + 1, alloc);
		cfg->folders[n++] = xstrndup(p, len);
		if (!c)
			break;
		p = c + 1;
	}
	cfg->folders[n] = NULL;

	struct strbuf filter = STRBUF_INIT;
	strbuf_addstr(&filter, "lambda f: f in [");
	for (size_t i = 0; i < n; i++) {
		if (i)
			strbuf_addstr(&filter, ", ");
		py_repr(&filter, cfg->folders[i]);
	}
	strbuf_addch(&filter, ']');

	for (size_t i = 0; i < cfg->n_sects; i++) {
		struct cfg_section *s = cfg->sects[i];
		if (!oim_starts_with(s->name, "Account "))
			continue;
		const struct cfg_value *r =
			cfg_lookup(cfg, s, "remoterepository");
		if (!r)
			continue;
		struct oim_err err = OIM_ERR_INIT;
		const char *name = cfg_interpolated(cfg, s, r, &err);
		if (!name)
			continue; /* config_validate() reports it */
		char *rs = xasprintf("Repository %s", name);
		/* Python would raise NoSectionError; validation names the
		 * missing repository instead. */
		if (cfg_find_section(cfg, rs)) {
			config_set_from(cfg, rs, "folderfilter", filter.buf,
					"-f");
			config_set_from(cfg, rs, "folderincludes", "[]", "-f");
		}
		free(rs);
	}
	strbuf_release(&filter);
}

const char *const *config_folders(const struct config *cfg)
{
	return (const char *const *)cfg->folders;
}

void config_select_accounts(struct config *cfg, const char *list)
{
	free(cfg->select);
	cfg->select = xstrdup(list);
	cfg->validated = false;
}
