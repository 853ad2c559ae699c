/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * oimap-status-dump - print a status cache or a UID validity file as oimap
 * reads it, for the interoperability tests.
 *
 *   oimap-status-dump [--plain] [--write] ACCOUNT_DIR FOLDER
 *	"backend <sqlite|plain> new <0|1> count <n>", then one line per
 *	record by ascending UID: "<uid> <flags or -> <mtime> <labels or ->".
 *	Opened read-only unless --write (which upgrades/migrates as a sync
 *	would).  --set-meta KEY=VALUE (repeatable, implies --write) stores
 *	oimap's own values in one batch and prints "meta KEY VALUE" lines
 *	after the records.
 *   oimap-status-dump --validity METADATA_DIR REPOSITORY FOLDER
 *	the saved UIDVALIDITY, or "none".
 * Errors go to stderr with exit status 1.
 */
#include <inttypes.h>

#include "status/status.h"

static int die_err(const struct oim_err *err)
{
	fprintf(stderr, "oimap-status-dump: %s\n", err->msg);
	return 1;
}

int main(int argc, char **argv)
{
	struct oim_err err = OIM_ERR_INIT;
	enum status_backend backend = STATUS_BACKEND_SQLITE;
	unsigned flags = STATUS_OPEN_READONLY;
	struct status *st;
	int i = 1;
	const char *metas[16];
	int nmetas = 0;

	if (argc == 5 && !strcmp(argv[1], "--validity")) {
		bool present;
		uint64_t v;

		if (status_validity_read(argv[2], argv[3], argv[4], &present,
					 &v, &err) < 0)
			return die_err(&err);
		if (present)
			printf("%" PRIu64 "\n", v);
		else
			printf("none\n");
		return 0;
	}
	for (; i < argc && argv[i][0] == '-' && argv[i][1] == '-'; i++) {
		if (!strcmp(argv[i], "--plain"))
			backend = STATUS_BACKEND_PLAIN;
		else if (!strcmp(argv[i], "--write"))
			flags = 0;
		else if (!strcmp(argv[i], "--set-meta") && i + 1 < argc &&
			 nmetas < 16 && strchr(argv[i + 1], '=')) {
			metas[nmetas++] = argv[++i];
			flags = 0;
		} else
			break;
	}
	if (argc - i != 2) {
		fprintf(stderr,
			"usage: oimap-status-dump [--plain] [--write] "
			"ACCOUNT_DIR FOLDER\n"
			"       oimap-status-dump --validity METADATA_DIR "
			"REPOSITORY FOLDER\n");
		return 2;
	}
	if (status_open(argv[i], argv[i + 1], backend, flags, &st, &err) < 0)
		return die_err(&err);

	if (nmetas) {
		if (status_begin(st, &err) < 0)
			return die_err(&err);
		for (int m = 0; m < nmetas; m++) {
			char *k = xstrdup(metas[m]), *eq = strchr(k, '=');

			*eq = '\0';
			if (status_meta_set(st, k, eq + 1, &err) < 0)
				return die_err(&err);
			free(k);
		}
		if (status_commit(st, &err) < 0)
			return die_err(&err);
	}

	size_t n;
	uint32_t *uids = status_uids(st, &n);

	printf("backend %s new %d count %zu\n", status_backend_name(backend),
	       status_is_new(st) ? 1 : 0, n);
	for (size_t k = 0; k < n; k++) {
		const struct status_rec *r = status_get(st, uids[k]);

		printf("%" PRIu32 " %s %" PRId64 " %s\n", r->uid,
		       *r->flags ? r->flags : "-", r->mtime,
		       r->labels ? r->labels : "-");
	}
	free(uids);
	for (int m = 0; m < nmetas; m++) {
		char *k = xstrndup(metas[m], strcspn(metas[m], "="));
		const char *v = status_meta_get(st, k);

		printf("meta %s %s\n", k, v ? v : "-");
		free(k);
	}
	status_close(st);
	return 0;
}
