/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * config.h - the offlineimaprc reader.
 *
 * Python ConfigParser semantics (what OfflineIMAP's CustomConfigParser
 * inherits): [sections], "key = value" and "key: value", indented
 * continuation lines, full-line '#'/';' comments, [DEFAULT], %(name)s
 * interpolation, case-insensitive option names, Python booleans.  Values
 * keep what ConfigParser keeps: an inline "# ..." is part of the value.
 *
 * Calling sequence:
 *   cfg = config_new();
 *   config_read_file(cfg, path, &err);           errors name file:line
 *   config_apply_override(cfg, "-k spec", &err); per -k, in order
 *   config_validate(cfg, &err);                  types, references, repo types
 *   ... getters ...
 *   config_free(cfg);
 *
 * Warnings (unknown option, option given twice, retired option) are printed
 * with log_warn() while reading and validating, naming file and line.
 *
 * Strings returned by getters as 'const char *' are owned by cfg and live
 * until config_free().  Not thread-safe for writing; concurrent reads after
 * config_validate() are fine.
 */
#ifndef OIMAP_CONFIG_H
#define OIMAP_CONFIG_H

#include <stdbool.h>
#include <stdio.h>

#include "../util/err.h"

struct config;

struct config *config_new(void);
void config_free(struct config *cfg);

/* Read and parse a file; 'path' has '~' expanded by the caller. */
int config_read_file(struct config *cfg, const char *path,
		     struct oim_err *err) OIM_WUR;
/* Parse text as if it were the file 'name' (tests, fuzzing). */
int config_read_string(struct config *cfg, const char *name, const char *text,
		       size_t len, struct oim_err *err) OIM_WUR;
/*
 * Apply one -k "[section:]option=value": underscores in the section name
 * stand for spaces, the section defaults to "general".
 */
int config_apply_override(struct config *cfg, const char *spec,
			  struct oim_err *err) OIM_WUR;
/* Set a value as if it were in the file (used for --dry-run, -q, -f). */
void config_set(struct config *cfg, const char *section, const char *option,
		const char *value);
void config_remove(struct config *cfg, const char *section,
		   const char *option);

/*
 * Check every value against the option schema (types, retired options),
 * the accounts listed in [general] accounts, and the repositories they
 * reference and their types.  Errors name file, line and option.
 */
int config_validate(struct config *cfg, struct oim_err *err) OIM_WUR;

bool config_has_section(const struct config *cfg, const char *section);
/* True if set in the section or in [DEFAULT]. */
bool config_has_option(const struct config *cfg, const char *section,
		       const char *option);

/*
 * Typed getters.  When the option is not set, *out gets the schema's
 * default (or 'def' for the _def variants).  Values are interpolated.
 * Return 0, or -1 with err naming file, line and option on a bad value.
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


/* Print resolved accounts, repositories and options (--info). */
int config_print_info(struct config *cfg, FILE *out, struct oim_err *err);

#endif
