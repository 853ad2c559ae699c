/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * config.h - the offlineimaprc reader.
 *
 * Python 3 ConfigParser semantics (what OfflineIMAP's CustomConfigParser
 * inherits), byte for byte where it matters:
 *   - [section] headers, names case-sensitive; "[DEFAULT]" supplies values
 *     to every section;
 *   - "key = value" and "key: value" (the first '=' or ':' splits), option
 *     names lowercased and stripped, values stripped;
 *   - a line indented deeper than its option line continues the value
 *     (joined with "\n"); blank lines inside a value are kept, trailing ones
 *     dropped; comment lines inside a value are skipped;
 *   - full-line '#' / ';' comments (also indented); NO inline comments:
 *     "x = 1 # one" has the value "1 # one";
 *   - %(name)s interpolation (names case-insensitive, looked up in the
 *     section then [DEFAULT], "%%" is "%", depth limit 10);
 *   - booleans 1/yes/true/on and 0/no/false/off, case-insensitive.
 * Where Python's strict mode would refuse (an option or section given
 * twice) we warn and go on: last option wins, sections are merged.
 *
 * Calling sequence:
 *   cfg = config_new();
 *   config_read_file(cfg, path, &err);            errors name file:line
 *   config_apply_override(cfg, "-k spec", &err);  per -k, in order
 *   config_set_dry_run / _run_once / _quick / _folders(cfg, ...)
 *   config_select_accounts(cfg, "-a list", &err);  optional
 *   config_validate(cfg, &err);                   types, references
 *   ... getters, account iteration ...
 *   config_free(cfg);
 *
 * Warnings (unknown option, option given twice, retired option) go to
 * log_warn() unless config_set_warn_fn() redirects them; they name the
 * file and line.  Error messages and warnings never contain the value of
 * a secret option (passwords, tokens, *passeval).
 *
 * Strings returned as 'const char *' are owned by cfg and live until
 * config_free().  Reading the file, overrides, config_set*() and
 * config_validate() must happen on one thread before anything else uses
 * cfg; after that, getters and the account API may be called from any
 * thread concurrently (an internal mutex guards the interpolation cache).
 *
 * Limits: OIM_CONFIG_MAX_FILE bytes per file, OIM_CONFIG_MAX_LINE bytes
 * per line, OIM_CONFIG_MAX_INTERP_DEPTH levels of %(...)s (util/limits.h).
 */
#ifndef OIMAP_CONFIG_H
#define OIMAP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "../util/err.h"

struct config;

/* ---- the option schema ------------------------------------------------ */

/* Section kinds; a schema entry says in which kinds its option is known. */
enum config_kind {
	CONFIG_K_GENERAL = 1 << 0,	/* [general] */
	CONFIG_K_MBNAMES = 1 << 1,	/* [mbnames] */
	CONFIG_K_ACCOUNT = 1 << 2,	/* [Account X] */
	CONFIG_K_IMAP = 1 << 3,		/* [Repository X] type = IMAP */
	CONFIG_K_MAILDIR = 1 << 4,	/* type = Maildir */
	CONFIG_K_GMAIL = 1 << 5,	/* type = Gmail */
	CONFIG_K_GMAILMAILDIR = 1 << 6, /* type = GmailMaildir */
	CONFIG_K_REPO_UNKNOWN = 1 << 7, /* [Repository X] of unknown type */
};
#define CONFIG_K_IMAPS (CONFIG_K_IMAP | CONFIG_K_GMAIL)
#define CONFIG_K_MAILDIRS (CONFIG_K_MAILDIR | CONFIG_K_GMAILMAILDIR)
#define CONFIG_K_REPO (CONFIG_K_IMAPS | CONFIG_K_MAILDIRS | CONFIG_K_REPO_UNKNOWN)

enum config_type {
	CONFIG_T_STRING,
	CONFIG_T_BOOL,
	CONFIG_T_INT,
	CONFIG_T_FLOAT,
	CONFIG_T_PYEXPR,   /* Python expression, kept as text */
	CONFIG_T_LIST,	   /* comma-separated, blanks around items ignored */
	CONFIG_T_PATH,	   /* '~' and $VAR expanded by config_get_path() */
	CONFIG_T_PASSWORD, /* a secret string: never printed */
	CONFIG_T_ENUM,	   /* one of option->choices (case-sensitive) */
	CONFIG_T_ENUMLIST, /* comma list, each one of option->choices */
	CONFIG_T_DATE,	   /* yyyy-mm-dd */
	CONFIG_T_MAXAGE,   /* integer >= 1 (days) or yyyy-mm-dd */
	CONFIG_T_COMMAND,  /* shell command line */
	CONFIG_T_PROXY,	   /* TYPE:host:port (SOCKS5, SOCKS4, HTTP) or '' */
	CONFIG_T_FINGERPRINTS, /* comma list of hex digests, ':' allowed */
};

enum config_opt_flags {
	CONFIG_F_SECRET = 1 << 0,	/* value never printed (--info, errors) */
	CONFIG_F_RAW = 1 << 1,		/* read without interpolation (peritem) */
	CONFIG_F_SHOW_DEFAULT = 1 << 2, /* --info prints the default if unset */
	CONFIG_F_RETIRED = 1 << 3,	/* accepted with a warning */
	CONFIG_F_IGNORED = 1 << 4,	/* accepted, has no effect (warned) */
	CONFIG_F_REQUIRED = 1 << 5,	/* must be set (validated) */
	CONFIG_F_INTERNAL = 1 << 6,	/* set by OfflineIMAP itself */
};

struct config_option {
	const char *name;      /* lowercase; "customflag_*" matches a-z */
	enum config_type type;
	unsigned kinds;	       /* enum config_kind bits */
	const char *def;       /* default as text; NULL: none (unset) */
	unsigned flags;	       /* enum config_opt_flags */
	const char *const *choices; /* NULL-terminated, for ENUM / ENUMLIST */
	const char *doc;       /* one line, shown by --info for defaults */
};

/* The schema entry for 'name' (any case) in a section of 'kind' (one
 * enum config_kind bit), or NULL if OfflineIMAP does not know it there. */
const struct config_option *config_schema_find(unsigned kind,
					       const char *name);
/* The whole table, for documentation and tests. */
const struct config_option *config_schema(size_t *n_r);
const char *config_type_name(enum config_type t);
const char *config_kind_name(unsigned kind);

/* ---- reading ---------------------------------------------------------- */

struct config *config_new(void);
void config_free(struct config *cfg);

/*
 * Warnings go to fn(ctx, message) instead of log_warn(); fn == NULL
 * silences them.  The message has no trailing newline.
 */
typedef void config_warn_fn(void *ctx, const char *msg);
void config_set_warn_fn(struct config *cfg, config_warn_fn *fn, void *ctx);

/* Read and parse a file; 'path' has '~' expanded by the caller.  A missing
 * or unreadable file is an error naming it. */
int config_read_file(struct config *cfg, const char *path,
		     struct oim_err *err) OIM_WUR;
/* Parse text as if it were the file 'name' (tests, fuzzing).  'text' may
 * hold any bytes; a NUL byte is an error. */
int config_read_string(struct config *cfg, const char *name, const char *text,
		       size_t len, struct oim_err *err) OIM_WUR;

/* ---- command-line changes, in OfflineIMAP's order ---------------------- */

/*
 * Apply one -k "[section:]option=value": underscores in the section name
 * stand for spaces, the section defaults to "general" and must exist
 * (DEFAULT is allowed).  A spec without '=' is an error.
 */
int config_apply_override(struct config *cfg, const char *spec,
			  struct oim_err *err) OIM_WUR;
/* Set a value as if it were in the file; 'origin' says where it came from
 * ("-q", "--dry-run"...; NULL: "command line").  Creates the section if
 * needed. */
void config_set(struct config *cfg, const char *section, const char *option,
		const char *value);
void config_set_from(struct config *cfg, const char *section,
		     const char *option, const char *value,
		     const char *origin);
void config_remove(struct config *cfg, const char *section,
		   const char *option);
/* --dry-run: [general] dry-run = True. */
void config_set_dry_run(struct config *cfg);
/* -o: remove autorefresh from [DEFAULT] and every [Account X]. */
void config_set_run_once(struct config *cfg);
/* -q: quick = -1 in every [Account X]. */
void config_set_quick(struct config *cfg);
/*
 * -f "a,b": in the remote repository of every [Account X], folderfilter =
 * "lambda f: f in ['a', 'b']" and folderincludes = "[]", as OfflineIMAP
 * does.  The list is also kept: config_folders().
 */
void config_set_folders(struct config *cfg, const char *list);
/* -a "A,B": the accounts to sync instead of [general] accounts.  Names are
 * checked by config_validate(). */
void config_select_accounts(struct config *cfg, const char *list);

/*
 * Check every value the schema knows against its type, the accounts to
 * sync (each needs an [Account X] with localrepository and
 * remoterepository naming existing [Repository Y] sections of a type that
 * side accepts), and what OfflineIMAP would refuse at sync time (both
 * tunnels, tls_level without ssl_version, ...).  Errors name file, line
 * and option; unknown options and retired ones are warnings.
 */
int config_validate(struct config *cfg, struct oim_err *err) OIM_WUR;

/* ---- getters ---------------------------------------------------------- */

bool config_has_section(const struct config *cfg, const char *section);
/* True if set in the section or in [DEFAULT]. */
bool config_has_option(const struct config *cfg, const char *section,
		       const char *option);

/*
 * Typed getters.  When the option is not set (in the section or
 * [DEFAULT]), *out gets the schema's default for the section's kind, or
 * 'def' when the schema has none (or does not know the option).  Values
 * are interpolated (except CONFIG_F_RAW options).  Return 0, or -1 with
 * err naming file, line and option on a bad value.
 */
int config_get_str(struct config *cfg, const char *section,
		   const char *option, const char *def, const char **out,
		   struct oim_err *err) OIM_WUR;
int config_get_bool(struct config *cfg, const char *section,
		    const char *option, bool def, bool *out,
		    struct oim_err *err) OIM_WUR;
int config_get_int(struct config *cfg, const char *section,
		   const char *option, long def, long *out,
		   struct oim_err *err) OIM_WUR;
int config_get_float(struct config *cfg, const char *section,
		     const char *option, double def, double *out,
		     struct oim_err *err) OIM_WUR;
/* A string with '~' then $VAR/${VAR} expanded (os.path.expanduser then
 * expandvars, as OfflineIMAP does for paths).  NULL if unset, no default.
 * Each call keeps a new string until config_free(): call it once per
 * sync, not per message. */
int config_get_path(struct config *cfg, const char *section,
		    const char *option, const char *def, const char **out,
		    struct oim_err *err) OIM_WUR;
/*
 * A comma-separated option (accounts, ignorelabels, filterheaders,
 * auth_mechanisms, cert_fingerprint...) split into items, blanks around
 * them stripped, empty ones dropped, as OfflineIMAP's re.split(r'\s*,\s*')
 * callers do.  *out is NULL-terminated and owned by cfg (allocates like
 * config_get_path()); an unset option with no default gives 0 items.
 */
int config_get_list(struct config *cfg, const char *section,
		    const char *option, const char *const **out, size_t *n_r,
		    struct oim_err *err) OIM_WUR;
/* The raw text, uninterpolated; NULL if unset. */
const char *config_get_raw(const struct config *cfg, const char *section,
			   const char *option);
/* Where the value comes from: "file:line", "[DEFAULT] file:line" or the
 * command-line origin ("-k ...", "-q").  NULL if unset.  Allocates like
 * config_get_path(). */
const char *config_origin(struct config *cfg, const char *section,
			  const char *option);

/* Python-style boolean text to bool; -1 if not a boolean. */
int config_parse_bool(const char *s);

/* ---- accounts and repositories, for the sync engine -------------------- */

enum config_repo_type {
	CONFIG_REPO_NONE = 0, /* unknown or missing type */
	CONFIG_REPO_IMAP,
	CONFIG_REPO_MAILDIR,
	CONFIG_REPO_GMAIL,
	CONFIG_REPO_GMAILMAILDIR,
};

struct config_repo {
	const char *name;    /* "Y" of [Repository Y] */
	const char *section; /* "Repository Y", for the getters */
	enum config_repo_type type;
	unsigned kind;	     /* the matching enum config_kind bit */
};

struct config_account {
	const char *name;    /* as listed in accounts / -a */
	const char *section; /* "Account X", for the getters */
	struct config_repo local, remote;
};

/*
 * The accounts that would sync, in order: the -a list if
 * config_select_accounts() was called, else [general] accounts.  Valid
 * after a successful config_validate(); the pointers live until
 * config_free().
 */
size_t config_account_count(const struct config *cfg);
const struct config_account *config_account_at(const struct config *cfg,
					       size_t i);
/* By name (as in the list); NULL if it is not one that would sync. */
const struct config_account *config_account_find(const struct config *cfg,
						 const char *name);
/* The -f folder list (NULL-terminated), or NULL without -f. */
const char *const *config_folders(const struct config *cfg);

const char *config_repo_type_name(enum config_repo_type t);
/* The section kind of a section name ("general", "Account X", ...). */
unsigned config_section_kind(const struct config *cfg, const char *section);

/* ---- --info ----------------------------------------------------------- */

/* What the command line did, for --info (main.c fills it). */
struct config_cmdline {
	const char *accounts;	   /* -a */
	const char *folders;	   /* -f */
	bool quick, run_once, dry_run, syslog;
	bool single_thread;
	const char *single_thread_why; /* "-1", "-d imap", "-P DIR"... */
	const char *debug_types;       /* -d */
	const char *log_file;	       /* -l */
	const char *profile_dir;       /* -P */
	const char *ui, *ui_from;      /* chosen UI and where from */
	const char **overrides;	       /* -k, n_overrides of them */
	size_t n_overrides;
};

/*
 * Print the config file name, [general], the accounts that would sync with
 * their repositories (type, every option set, interpolated, and the
 * defaults of interesting unset options), and what the command line
 * changed.  Secrets print as <redacted>.  Connects nowhere.
 */
int config_print_info(struct config *cfg, const struct config_cmdline *cl,
		      FILE *out, struct oim_err *err);

#endif
