/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * store-probe - drive the IMAP store driver (store.h, store-imap.c) from
 * the command line for tests/integration/test_store_imap.py.
 *
 *   store-probe --host H --port P --user U --pass W
 *               [--reference R] [--subscribed] [--readonly] [--utf8]
 *               [--examine] [--create] [--expunge-now] [--debug]
 *               COMMAND ARGS...
 *
 *   list                              "sep C", then "name<TAB>0|1" (noselect)
 *   create NAME
 *   scan FOLDER [MIN_UID]             "state UIDVALIDITY UIDNEXT MODSEQ EXISTS"
 *                                     then "UID FLAGS SIZE DATE" per message
 *   fetch FOLDER OUTDIR UID...        bodies to OUTDIR/UID, "fetched UID SIZE"
 *   save FOLDER FILE FLAGS DATE       "uid N" (0 without APPENDUID), then
 *                                     "scan N": messages a scan sees now
 *   find-uid FOLDER MSGID SIZE DATE MIN_UID   "uid N"
 *   flags FOLDER +LETTERS|-LETTERS UID...
 *   delete FOLDER expunge|keep UID...
 *   open FOLDER                       just open and close (with --create)
 *
 * --debug logs the IMAP transcript (-d imap) to stderr.
 * FLAGS "-" means none.  Exit codes: 0 ok, 2 usage, 1 error, printed as
 * "error: SEV KIND: message" on stderr (SEV: message/folder/account).
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "store/store.h"
#include "util/err.h"
#include "util/log.h"
#include "util/strbuf.h"
#include "util/util.h"

static int fail(const struct oim_err *err)
{
	static const char *const sev[] = {"none", "message", "folder",
					  "account", "fatal"};
	fprintf(stderr, "error: %s %s: %s\n",
		err->sev < ARRAY_SIZE(sev) ? sev[err->sev] : "?",
		oim_err_kind_name(err->kind), err->msg);
	return 1;
}

static int usage(void)
{
	fprintf(stderr, "usage: store-probe --host H --port P --user U "
			"--pass W [options] COMMAND ARGS...\n");
	return 2;
}

static int parse_u64(const char *s, uint64_t *v)
{
	return oim_parse_u64(s, strlen(s), UINT64_MAX, v);
}

static int parse_flags(const char *s, sync_flags_t *f)
{
	*f = 0;
	if (!strcmp(s, "-"))
		return 0;
	return sync_flags_parse(s, strlen(s), f);
}

/* ---- fetch: bodies into files ---- */

struct fetch_out {
	const char *dir;
	int fd;
	uint32_t uid;
	uint64_t size;
};

static int fo_begin(void *ctx, const struct store_msg *msg, struct oim_err *err)
{
	struct fetch_out *fo = ctx;
	char *path = xasprintf("%s/%u", fo->dir, msg->uid);
	fo->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	free(path);
	if (fo->fd < 0)
		return oim_error(err, OIM_SEV_MESSAGE, OIM_E_IO, "open: %s",
				 strerror(errno));
	fo->uid = msg->uid;
	fo->size = 0;
	return 0;
}

static int fo_data(void *ctx, const void *data, size_t len, struct oim_err *err)
{
	struct fetch_out *fo = ctx;
	const char *p = data;
	while (len) {
		ssize_t n = write(fo->fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			close(fo->fd);
			return oim_error(err, OIM_SEV_MESSAGE, OIM_E_IO,
					 "write: %s", strerror(errno));
		}
		p += n;
		len -= (size_t)n;
		fo->size += (uint64_t)n;
	}
	return 0;
}

static int fo_end(void *ctx, struct oim_err *err)
{
	struct fetch_out *fo = ctx;
	close(fo->fd);
	printf("fetched %u %llu\n", fo->uid, (unsigned long long)fo->size);
	return 0;
}

static const struct store_body_cb fo_cb = {fo_begin, fo_data, fo_end};

/* ---- folder commands ---- */

static int cmd_folder(struct store *s, const char *cmd, char **argv, int argc,
		      unsigned oflags, struct oim_err *err)
{
	struct store_folder *f;
	bool expunge = false;
	if (argc < 1)
		return usage();
	if (s->ops->open_folder(s, argv[0], NULL, oflags, &f, err))
		return fail(err);
	argv++;
	argc--;
	int rc = 0;
	struct store_msglist ml = {0};
	if (!strcmp(cmd, "open")) {
		printf("state %u %u %llu %u\n", f->state.uidvalidity,
		       f->state.uidnext,
		       (unsigned long long)f->state.highestmodseq,
		       f->state.exists);
	} else if (!strcmp(cmd, "scan")) {
		struct store_scan_opts so = {0};
		uint64_t v;
		if (argc > 0 && !parse_u64(argv[0], &v))
			so.min_uid = (uint32_t)v;
		printf("state %u %u %llu %u\n", f->state.uidvalidity,
		       f->state.uidnext,
		       (unsigned long long)f->state.highestmodseq,
		       f->state.exists);
		if (f->ops->scan(f, &so, &ml, err)) {
			rc = fail(err);
		} else {
			for (size_t i = 0; i < ml.nr; i++) {
				char buf[SYNC_FLAGS_STR_MAX];
				sync_flags_format(ml.v[i].flags, buf);
				printf("%u %s %llu %lld\n", ml.v[i].uid,
				       *buf ? buf : "-",
				       (unsigned long long)ml.v[i].size,
				       (long long)ml.v[i].date);
			}
		}
	} else if (!strcmp(cmd, "fetch")) {
		if (argc < 1) {
			rc = usage();
			goto out;
		}
		struct store_scan_opts so = {0};
		if (f->ops->scan(f, &so, &ml, err)) {
			rc = fail(err);
			goto out;
		}
		size_t n = (size_t)argc - 1;
		const struct store_msg **msgs = xcalloc(n + 1, sizeof(*msgs));
		struct store_msg *extra = xcalloc(n + 1, sizeof(*extra));
		for (size_t i = 0; i < n; i++) {
			uint64_t v = 0;
			if (parse_u64(argv[i + 1], &v))
				v = 0;
			msgs[i] = NULL;
			for (size_t j = 0; j < ml.nr; j++)
				if (ml.v[j].uid == v)
					msgs[i] = &ml.v[j];
			if (!msgs[i]) { /* not in the scan: ask anyway */
				extra[i].uid = (uint32_t)v;
				msgs[i] = &extra[i];
			}
		}
		struct fetch_out fo = {argv[0], -1, 0, 0};
		if (f->ops->fetch(f, msgs, n, &fo_cb, &fo, err))
			rc = fail(err);
		free(msgs);
		free(extra);
	} else if (!strcmp(cmd, "save")) {
		sync_flags_t fl;
		uint64_t date;
		if (argc < 3 || parse_flags(argv[1], &fl) ||
		    parse_u64(argv[2], &date)) {
			rc = usage();
			goto out;
		}
		int fd = open(argv[0], O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			perror(argv[0]);
			rc = 1;
			goto out;
		}
		struct store_writer *w;
		if (f->ops->save_begin(f, 0, fl, (int64_t)date, 0, &w, err)) {
			close(fd);
			rc = fail(err);
			goto out;
		}
		char buf[8192];
		ssize_t r;
		/* write in odd-sized pieces, as a fetch callback would */
		while ((r = read(fd, buf, 1000)) > 0)
			if (f->ops->save_write(w, buf, (size_t)r, err)) {
				f->ops->save_abort(w);
				close(fd);
				rc = fail(err);
				goto out;
			}
		close(fd);
		uint32_t uid;
		char *id = NULL;
		if (f->ops->save_commit(w, &uid, &id, err)) {
			rc = fail(err);
			goto out;
		}
		printf("uid %u\n", uid);
		free(id);
		/* the folder as this session sees it after the upload */
		if (f->ops->scan(f, NULL, &ml, err)) {
			rc = fail(err);
			goto out;
		}
		printf("scan %zu\n", ml.nr);
	} else if (!strcmp(cmd, "find-uid")) {
		uint64_t size, date, min;
		if (argc < 4 || parse_u64(argv[1], &size) ||
		    parse_u64(argv[2], &date) || parse_u64(argv[3], &min)) {
			rc = usage();
			goto out;
		}
		uint32_t uid;
		if (f->ops->find_uid(f, *argv[0] ? argv[0] : NULL, size,
				     (int64_t)date, (uint32_t)min, &uid, err))
			rc = fail(err);
		else
			printf("uid %u\n", uid);
	} else if (!strcmp(cmd, "flags") || !strcmp(cmd, "delete")) {
		bool isflags = !strcmp(cmd, "flags");
		sync_flags_t fl = 0;
		if (argc < 1 ||
		    (isflags && ((argv[0][0] != '+' && argv[0][0] != '-') ||
				 parse_flags(argv[0] + 1, &fl)))) {
			rc = usage();
			goto out;
		}
		if (!isflags)
			expunge = !strcmp(argv[0], "expunge");
		if (f->ops->scan(f, NULL, &ml, err)) {
			rc = fail(err);
			goto out;
		}
		size_t n = (size_t)argc - 1;
		struct store_msg **msgs = xcalloc(n + 1, sizeof(*msgs));
		size_t k = 0;
		for (size_t i = 0; i < n; i++) {
			uint64_t v = 0;
			if (parse_u64(argv[i + 1], &v))
				v = 0;
			for (size_t j = 0; j < ml.nr; j++)
				if (ml.v[j].uid == v)
					msgs[k++] = &ml.v[j];
		}
		int r2;
		if (isflags)
			r2 = f->ops->set_flags(f, msgs, k,
					       argv[0][0] == '+' ? fl : 0,
					       argv[0][0] == '-' ? fl : 0, err);
		else
			r2 = f->ops->delete (f, msgs, k, err);
		if (r2)
			rc = fail(err);
		for (size_t i = 0; i < k && !r2; i++) {
			char buf[SYNC_FLAGS_STR_MAX];
			sync_flags_format(msgs[i]->flags, buf);
			printf("%u %s\n", msgs[i]->uid, *buf ? buf : "-");
		}
		free(msgs);
	} else {
		rc = usage();
	}
out:
	store_msglist_release(&ml);
	{
		struct oim_err e2 = OIM_ERR_INIT;
		if (s->ops->close_folder(f, expunge, &e2) && !rc)
			rc = fail(&e2);
	}
	return rc;
}

int main(int argc, char **argv)
{
	struct store_imap_opts o = {0};
	unsigned oflags = 0;
	uint64_t port = 0;
	int i;
	o.repo = "probe";
	o.reference = "";
	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1] == '-'; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--host") && v)
			o.host = argv[++i];
		else if (!strcmp(a, "--port") && v && !parse_u64(v, &port))
			i++;
		else if (!strcmp(a, "--user") && v)
			o.user = argv[++i];
		else if (!strcmp(a, "--pass") && v)
			o.password = argv[++i];
		else if (!strcmp(a, "--reference") && v)
			o.reference = argv[++i];
		else if (!strcmp(a, "--subscribed"))
			o.subscribed_only = true;
		else if (!strcmp(a, "--readonly"))
			o.readonly = true;
		else if (!strcmp(a, "--utf8"))
			o.utf8foldernames = true;
		else if (!strcmp(a, "--examine"))
			oflags |= STORE_OPEN_READONLY;
		else if (!strcmp(a, "--create"))
			oflags |= STORE_OPEN_CREATE;
		else if (!strcmp(a, "--expunge-now"))
			oflags |= STORE_OPEN_EXPUNGE;
		else if (!strcmp(a, "--debug"))
			log_set_debug(OIM_DBG_IMAP);
		else
			return usage();
	}
	if (i >= argc || !o.host)
		return usage();
	o.port = (unsigned)port;
	o.auth_mechanisms = "PLAIN, LOGIN";
	o.timeout_s = 60;
	const char *cmd = argv[i++];
	struct oim_err err = OIM_ERR_INIT;
	struct store *s;
	if (store_imap_open(&s, &o, &err))
		return fail(&err);
	int rc = 0;
	if (!strcmp(cmd, "list")) {
		struct store_folder_list l = {0};
		if (s->ops->list_folders(s, &l, &err)) {
			rc = fail(&err);
		} else {
			printf("sep %c\n", l.sep ? l.sep : '-');
			for (size_t k = 0; k < l.nr; k++)
				printf("%s\t%d\n", l.v[k].name,
				       l.v[k].noselect);
		}
		store_folder_list_release(&l);
	} else if (!strcmp(cmd, "create")) {
		if (i >= argc)
			rc = usage();
		else if (s->ops->create_folder(s, argv[i], &err))
			rc = fail(&err);
	} else {
		rc = cmd_folder(s, cmd, argv + i, argc - i, oflags, &err);
	}
	store_close(s);
	return rc;
}
