/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * config-int.h - the config reader's insides, shared by config.c and
 * info.c only.  Nothing outside src/config/ includes this.
 */
#ifndef OIMAP_CONFIG_INT_H
#define OIMAP_CONFIG_INT_H

#include <pthread.h>

#include "../util/strbuf.h"
#include "../util/util.h"
#include "config.h"

/* One "name = value" in a section. */
struct cfg_value {
	char *name;	     /* lowercased, stripped */
	struct strbuf value; /* raw text, continuation lines joined by \n */
	const char *file;    /* interned in cfg->strings; NULL: command line */
	unsigned line;	     /* of the "name =" line; 0: command line */
	const char *origin;  /* command-line origin ("-k ...", "-q") */
	unsigned gen;	     /* read that set it (duplicate warnings) */
};

/* An interpolated value, computed once per (section, option). */
struct cfg_cached {
	char *name;
	char *value;
};

struct cfg_section {
	char *name;
	const char *file; /* of the first header */
	unsigned line;
	struct cfg_value *opts;
	size_t n_opts, alloc_opts;
	struct cfg_cached *cache;
	size_t n_cache, alloc_cache;
	unsigned gen; /* last read that had its header */
};

struct config {
	struct cfg_section defaults; /* [DEFAULT] */
	struct cfg_section **sects;  /* in file order */
	size_t n_sects, alloc_sects;

	/* Strings owned by cfg for its whole life: file names, origins,
	 * interpolated values dropped from a cache. */
	char **strings;
	size_t n_strings, alloc_strings;

	config_warn_fn *warn_fn;
	void *warn_ctx;
	bool warn_set;

	char *select;	  /* -a list, or NULL */
	char **folders;	  /* -f list, NULL-terminated */
	const char *path; /* the file read (for --info) */

	struct config_account *accounts; /* after config_validate() */
	size_t n_accounts;
	bool validated;
	unsigned gen; /* count of reads, for duplicate detection */

	pthread_mutex_t lock; /* guards the interpolation caches */
};

struct cfg_section *cfg_find_section(const struct config *cfg,
				     const char *name);
/* The section's own value (not [DEFAULT]'s); NULL if unset. */
const struct cfg_value *cfg_own_value(const struct cfg_section *s,
				      const char *name);
/* The value of option in section, or in [DEFAULT]; NULL if unset. */
const struct cfg_value *cfg_lookup(const struct config *cfg,
				   const struct cfg_section *sect,
				   const char *name);
/* Interpolated value (owned by cfg), or NULL with err. */
const char *cfg_interpolated(struct config *cfg, struct cfg_section *sect,
			     const struct cfg_value *v, struct oim_err *err);
/* "file:line" or the command-line origin, into sb. */
void cfg_where(struct strbuf *sb, const struct cfg_value *v);
/* True if the option's value must never be shown. */
bool cfg_is_secret(const struct config *cfg, const struct cfg_section *sect,
		   const char *name);
unsigned cfg_section_kind(const struct config *cfg,
			  const struct cfg_section *sect);
enum config_repo_type cfg_repo_type(const struct config *cfg,
				    const struct cfg_section *sect);

/* A warning, to the warn_fn or log_warn(). */
void cfg_warnf(struct config *cfg, const char *fmt, ...) OIM_PRINTF(2, 3);

/* Python's int() / float() / strptime("%Y-%m-%d") (plus OfflineIMAP's
 * year >= 1900); 0 or -1. */
int cfg_parse_int(const char *s, long *out);
int cfg_parse_float(const char *s, double *out);
int cfg_parse_date(const char *s, int *y_r, int *m_r, int *d_r);
/* expanduser + expandvars; malloc'd. */
char *cfg_expand_path(const char *p);

#endif
