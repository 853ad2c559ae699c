/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_config.c - bytes into the config reader, validation and --info.
 *
 * Invariants checked: nothing crashes or leaks; a failing call leaves an
 * error message; --info output never contains the remotepass of an
 * account's remote repository (checked when the value is distinctive: 10+
 * capitals or digits found only once in the input, so it cannot have
 * reached the output any other way).
 */
#include <stdint.h>

#include "config/config.h"
#include "util/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool distinctive(const char *pw, const uint8_t *data, size_t size)
{
	if (!pw || strlen(pw) < 10)
		return false;
	for (const char *c = pw; *c; c++)
		if (!((*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')))
			return false;
	const uint8_t *hit = memmem(data, size, pw, strlen(pw));
	if (!hit)
		return false;
	size_t off = (size_t)(hit - data) + 1;
	return !memmem(data + off, size - off, pw, strlen(pw));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct oim_err err = OIM_ERR_INIT;
	struct config *cfg = config_new();
	config_set_warn_fn(cfg, NULL, NULL);
	if (config_read_string(cfg, "fuzz.conf", (const char *)data, size,
			       &err)) {
		if (!err.msg[0])
			abort();
		config_free(cfg);
		return 0;
	}
	/* Exercise the getters on whatever sections exist. */
	const char *s = NULL;
	bool b;
	long l;
	double d;
	(void)config_get_str(cfg, "general", "accounts", NULL, &s, &err);
	(void)config_get_bool(cfg, "general", "fsync", true, &b, &err);
	(void)config_get_int(cfg, "general", "maxsyncaccounts", 1, &l, &err);
	(void)config_get_float(cfg, "general", "socktimeout", 0, &d, &err);
	(void)config_get_path(cfg, "general", "metadata", NULL, &s, &err);

	(void)config_apply_override(cfg, "Repository_R:folderfilter=x", &err);
	config_set_quick(cfg);
	config_set_folders(cfg, "INBOX,a'b\"c%d");
	if (config_validate(cfg, &err) == 0) {
		char *buf = NULL;
		size_t len = 0;
		FILE *out = open_memstream(&buf, &len);
		if (!out)
			abort();
		if (config_print_info(cfg, NULL, out, &err))
			abort();
		fclose(out);
		for (size_t i = 0; i < config_account_count(cfg); i++) {
			const char *pw = config_get_raw(
				cfg, config_account_at(cfg, i)->remote.section,
				"remotepass");
			if (distinctive(pw, data, size) &&
			    memmem(buf, len, pw, strlen(pw)))
				abort();
		}
		free(buf);
	} else if (!err.msg[0]) {
		abort();
	}
	config_free(cfg);
	return 0;
}
