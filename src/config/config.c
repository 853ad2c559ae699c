/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Placeholder until the config reader lands: refuses every file. */
#include "config.h"

#include "../util/util.h"

struct config {
	int unused;
};

struct config *config_new(void)
{
	return xcalloc(1, sizeof(struct config));
}

void config_free(struct config *cfg)
{
	free(cfg);
}

int config_read_file(struct config *cfg, const char *path, struct oim_err *err)
{
	return oim_error(err, OIM_SEV_FATAL, OIM_E_CONFIG,
			 "%s: the config reader is not implemented yet", path);
}

int config_read_string(struct config *cfg, const char *name, const char *text,
		       size_t len, struct oim_err *err)
{
	return oim_error(err, OIM_SEV_FATAL, OIM_E_CONFIG,
			 "%s: the config reader is not implemented yet", name);
}

int config_apply_override(struct config *cfg, const char *spec,
			  struct oim_err *err)
{
	return 0;
}

void config_set(struct config *cfg, const char *section, const char *option,
		const char *value)
{
}

void config_remove(struct config *cfg, const char *section, const char *option)
{
}

int config_validate(struct config *cfg, struct oim_err *err)
{
	return 0;
}

bool config_has_section(const struct config *cfg, const char *section)
{
	return false;
}

bool config_has_option(const struct config *cfg, const char *section,
		       const char *option)
{
	return false;
}

int config_get_str(struct config *cfg, const char *section, const char *option,
		   const char *def, const char **out, struct oim_err *err)
{
	*out = def;
	return 0;
}

int config_get_bool(struct config *cfg, const char *section,
		    const char *option, bool def, bool *out, struct oim_err *err)
{
	*out = def;
	return 0;
}

int config_get_int(struct config *cfg, const char *section, const char *option,
		   long def, long *out, struct oim_err *err)
{
	*out = def;
	return 0;
}

int config_get_float(struct config *cfg, const char *section,
		     const char *option, double def, double *out,
		     struct oim_err *err)
{
	*out = def;
	return 0;
}

int config_print_info(struct config *cfg, FILE *out, struct oim_err *err)
{
	return 0;
}
