/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * status.c - the status cache object (records in memory, change API,
 * begin/commit), path helpers and UID validity files.  The backends are in
 * status_plain.c and status_sqlite.c.
 */
#include <errno.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "status-int.h"

#include "../util/log.h"

int status_backend_parse(const char *name, enum status_backend *backend_r,
			 struct oim_err *err)
{
	if (!oim_strcasecmp(name, "sqlite")) {
		*backend_r = STATUS_BACKEND_SQLITE;
		return 0;
	}
	if (!oim_strcasecmp(name, "plain")) {
		*backend_r = STATUS_BACKEND_PLAIN;
		return 0;
	}
	return oim_error(err, OIM_SEV_ACCOUNT, OIM_E_CONFIG,
			 "status_backend = %s: expected 'sqlite' or 'plain'",
			 name);
}

const char *status_backend_name(enum status_backend backend)
{
	return backend == STATUS_BACKEND_PLAIN ? "plain" : "sqlite";
}

int status_corrupt(struct oim_err *err, const char *path, const char *fmt, ...)
{
	char what[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return oim_error(
	    err, OIM_SEV_FOLDER, OIM_E_STATUS,
	    "status cache '%s': %s. Nothing was changed. To recover, move "
	    "the file away and sync again: messages present on both sides "
	    "are matched again by UID, but changes made since the last "
	    "sync cannot be told from new mail (mail deleted on one side "
	    "may be copied back)",
	    path, what);
}

/* ---- paths ---- */

int status_folder_basename(const char *name, char **basename_r,
			   struct oim_err *err)
{
	char *b;

	*basename_r = NULL;
	if (!*name || !strcmp(name, ".") || !strcmp(name, "/")) {
		*basename_r = xstrdup("dot");
		return 0;
	}
	b = xstrdup(name);
	for (char *p = b; *p; p++)
		if (*p == '/')
			*p = '.';
	/* re.sub('(^|/)\.$', '\1dot') after the replacement: only "." */
	if (!strcmp(b, ".")) {
		free(b);
		b = xstrdup("dot");
	}
	if (!strcmp(b, "..") || strlen(b) > NAME_MAX) {
		oim_error(err, OIM_SEV_FOLDER, OIM_E_STATUS,
			  "folder name '%s' cannot be used as a status file "
			  "name",
			  name);
		free(b);
		return -1;
	}
	*basename_r = b;
	return 0;
}

char *status_name_from_remote(const char *visible_name, char remote_sep)
{
	char *s = xstrdup(visible_name);

	for (char *p = s; *p; p++)
		if (*p == remote_sep)
			*p = '.';
	return s;
}

char *status_account_dir(const char *metadata_dir, const char *account)
{
	return xasprintf("%s/Account-%s", metadata_dir, account);
}

static int join_path(const char *dir, const char *sub, const char *folder,
		     char **path_r, struct oim_err *err)
{
	char *base;

	*path_r = NULL;
	if (status_folder_basename(folder, &base, err) < 0)
		return -1;
	*path_r = xasprintf("%s/%s/%s", dir, sub, base);
	free(base);
	return 0;
}

int status_cache_path(const char *account_dir, const char *folder,
		      enum status_backend backend, char **path_r,
		      struct oim_err *err)
{
	return join_path(account_dir,
			 backend == STATUS_BACKEND_PLAIN ? STATUS_DIR_PLAIN
							 : STATUS_DIR_SQLITE,
			 folder, path_r, err);
}

int status_validity_path(const char *metadata_dir, const char *repository,
			 const char *folder, char **path_r, struct oim_err *err)
{
	char *repo = xasprintf("%s/Repository-%s", metadata_dir, repository);
	int ret = join_path(repo, STATUS_DIR_VALIDITY, folder, path_r, err);

	free(repo);
	return ret;
}

int status_journal_path(const char *account_dir, const char *folder,
			char **path_r, struct oim_err *err)
{
	return join_path(account_dir, STATUS_DIR_JOURNAL, folder, path_r, err);
}

/* ---- validity ---- */

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	       c == '\v';
}

/* int(file.readline().strip()) of a one-number file; what/hint for the
 * error message. */
static int number_file_read(const char *path, const char *what,
			    const char *hint, bool *present_r,
			    uint64_t *value_r, struct oim_err *err)
{
	char *buf;
	size_t len, start = 0, end;
	bool exists;

	*present_r = false;
	*value_r = 0;
	if (status_read_file(path, STATUS_MAX_VALIDITY_FILE, &buf, &len,
			     &exists, err) < 0)
		return -1;
	if (!exists)
		return 0;
	/* the first line only */
	end = 0;
	while (end < len && buf[end] != '\n')
		end++;
	while (start < end && is_blank(buf[start]))
		start++;
	while (end > start && is_blank(buf[end - 1]))
		end--;
	if (start < end && buf[start] == '+')
		start++;
	if (oim_parse_u64(buf + start, end - start, UINT64_MAX, value_r) < 0) {
		oim_error(err, OIM_SEV_FOLDER, OIM_E_STATUS,
			  "%s '%s' does not hold a number. Nothing was "
			  "changed; %s",
			  what, path, hint);
		free(buf);
		return -1;
	}
	*present_r = true;
	free(buf);
	return 0;
}

int status_validity_read(const char *metadata_dir, const char *repository,
			 const char *folder, bool *present_r, uint64_t *value_r,
			 struct oim_err *err)
{
	char *path;
	int ret;

	*present_r = false;
	*value_r = 0;
	if (status_validity_path(metadata_dir, repository, folder, &path, err) <
	    0)
		return -1;
	ret = number_file_read(path, "UID validity file",
			       "move the file away to accept the folder's "
			       "current UIDVALIDITY",
			       present_r, value_r, err);
	free(path);
	return ret;
}

static int startuid_path(const char *metadata_dir, const char *repository,
			 const char *folder, char **path_r, struct oim_err *err)
{
	char *repo = xasprintf("%s/Repository-%s", metadata_dir, repository);
	int ret = join_path(repo, STATUS_DIR_STARTUID, folder, path_r, err);

	free(repo);
	return ret;
}

int status_startuid_read(const char *metadata_dir, const char *repository,
			 const char *folder, bool *present_r, uint32_t *uid_r,
			 struct oim_err *err)
{
	char *path;
	uint64_t v = 0;
	int ret;

	*uid_r = 0;
	if (startuid_path(metadata_dir, repository, folder, &path, err) < 0)
		return -1;
	ret = number_file_read(path, "startdate file",
			       "fix it or move it away (the folder must then "
			       "be empty on the other side)",
			       present_r, &v, err);
	if (ret == 0 && *present_r && (v == 0 || v > UINT32_MAX))
		ret = oim_error(err, OIM_SEV_FOLDER, OIM_E_STATUS,
				"startdate file '%s': %llu is not a UID", path,
				(unsigned long long)v);
	if (ret == 0)
		*uid_r = (uint32_t)v;
	free(path);
	return ret;
}

int status_startuid_write(const char *metadata_dir, const char *repository,
			  const char *folder, uint32_t uid, bool nofsync,
			  struct oim_err *err)
{
	char *path, *dir, *content;
	int ret;

	if (startuid_path(metadata_dir, repository, folder, &path, err) < 0)
		return -1;
	dir = status_dirname(path);
	ret = status_mkdir_p(dir, err);
	free(dir);
	if (ret == 0) {
		content = xasprintf("%u\n", uid);
		ret = status_write_file_atomic(path, content, strlen(content),
					       nofsync, err);
		free(content);
	}
	free(path);
	return ret;
}

int status_validity_write(const char *metadata_dir, const char *repository,
			  const char *folder, uint64_t value, bool nofsync,
			  struct oim_err *err)
{
	char *path, *dir, *content;
	int ret;

	if (status_validity_path(metadata_dir, repository, folder, &path, err) <
	    0)
		return -1;
	/* Repository.__init__ creates both subdirectories. */
	dir =
	    xasprintf("%s/Repository-%s/UIDMapping", metadata_dir, repository);
	ret = status_mkdir_p(dir, err);
	free(dir);
	if (ret == 0) {
		dir = status_dirname(path);
		ret = status_mkdir_p(dir, err);
		free(dir);
	}
	if (ret == 0) {
		content = xasprintf("%llu\n", (unsigned long long)value);
		ret = status_write_file_atomic(path, content, strlen(content),
					       nofsync, err);
		free(content);
	}
	free(path);
	return ret;
}

/* ---- flags and labels ---- */

int status_flags_normalize(const char *in, char out[STATUS_MAX_FLAGS + 1])
{
	bool seen[128] = {false};
	size_t n = 0;

	out[0] = '\0';
	for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
		if (*p < 0x21 || *p > 0x7e || *p == '|')
			return -1;
		seen[*p] = true;
	}
	for (int c = 0x21; c <= 0x7e; c++) {
		if (!seen[c])
			continue;
		if (n == STATUS_MAX_FLAGS)
			return -1;
		out[n++] = (char)c;
	}
	out[n] = '\0';
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void status_labels_normalize(const char *in, size_t len, struct strbuf *out)
{
	char **v = NULL;
	size_t nv = 0, alloc = 0, i = 0;

	while (i <= len) {
		size_t j = i;

		while (j < len && in[j] != ',')
			j++;
		size_t s = i, e = j;

		while (s < e && is_blank(in[s]))
			s++;
		while (e > s && is_blank(in[e - 1]))
			e--;
		if (e > s) {
			ALLOC_GROW(v, nv, alloc);
			v[nv++] = xstrndup(in + s, e - s);
		}
		i = j + 1;
	}
	/* Python sorts str by code point; for UTF-8 that is byte order. */
	if (nv > 1)
		oim_qsort(v, nv, sizeof(*v), cmp_str);
	for (i = 0; i < nv; i++) {
		if (i > 0 && !strcmp(v[i], v[i - 1]))
			continue;
		if (i > 0)
			strbuf_addstr(out, ", ");
		strbuf_addstr(out, v[i]);
	}
	for (i = 0; i < nv; i++)
		free(v[i]);
	free(v);
}

/* ---- the record table ---- */

static size_t slot_of(const struct status *st, uint32_t uid)
{
	return (size_t)((uid * 2654435761u) & (uint32_t)(st->nslots - 1));
}

/* Slot holding uid, or the empty slot where it would go. */
static size_t find_slot(const struct status *st, uint32_t uid)
{
	size_t i = slot_of(st, uid);

	while (st->slots[i] && st->recs[st->slots[i] - 1].uid != uid)
		i = (i + 1) & (st->nslots - 1);
	return i;
}

static void rehash(struct status *st, size_t nslots)
{
	free(st->slots);
	st->nslots = nslots;
	st->slots = xcalloc(nslots, sizeof(*st->slots));
	for (size_t r = 0; r < st->nr; r++)
		st->slots[find_slot(st, st->recs[r].uid)] = (uint32_t)(r + 1);
}

struct status *status_alloc(enum status_backend backend, const char *path,
			    unsigned flags)
{
	struct status *st = xcalloc(1, sizeof(*st));

	st->backend = backend;
	st->flags = flags;
	st->path = xstrdup(path);
	st->readonly = flags & STATUS_OPEN_READONLY;
	rehash(st, 64);
	return st;
}

struct status_rec *status_table_put(struct status *st, uint32_t uid,
				    const char *flags, int64_t mtime,
				    char *labels)
{
	size_t i;
	struct status_rec *rec;

	if (!uid)
		BUG("status: uid 0");
	if ((st->nr + 1) * 2 > st->nslots) {
		if (st->nslots > SIZE_MAX / 4 || st->nr >= UINT32_MAX - 1)
			BUG("status: table too large");
		rehash(st, st->nslots * 2);
	}
	i = find_slot(st, uid);
	if (st->slots[i]) {
		rec = &st->recs[st->slots[i] - 1];
		free(rec->labels);
	} else {
		ALLOC_GROW(st->recs, st->nr, st->alloc);
		rec = &st->recs[st->nr++];
		st->slots[i] = (uint32_t)st->nr;
	}
	rec->uid = uid;
	if (strlen(flags) > STATUS_MAX_FLAGS)
		BUG("status: flags too long");
	memcpy(rec->flags, flags, strlen(flags) + 1);
	rec->mtime = mtime;
	rec->labels = labels;
	return rec;
}

void status_table_del(struct status *st, uint32_t uid)
{
	size_t i = find_slot(st, uid), j, idx, last;

	if (!st->slots[i])
		return;
	idx = st->slots[i] - 1;
	free(st->recs[idx].labels);

	/* Backward-shift deletion keeps probe chains without tombstones. */
	st->slots[i] = 0;
	j = i;
	for (;;) {
		j = (j + 1) & (st->nslots - 1);
		if (!st->slots[j])
			break;
		size_t home = slot_of(st, st->recs[st->slots[j] - 1].uid);

		/* Move j back to i unless its home lies cyclically in (i, j].
		 */
		if ((j > i && (home <= i || home > j)) ||
		    (j < i && (home <= i && home > j))) {
			st->slots[i] = st->slots[j];
			st->slots[j] = 0;
			i = j;
		}
	}

	/* Keep recs dense: move the last record into the hole. */
	last = st->nr - 1;
	if (idx != last) {
		st->recs[idx] = st->recs[last];
		st->slots[find_slot(st, st->recs[idx].uid)] =
		    (uint32_t)(idx + 1);
	}
	st->nr--;
}

void status_table_clear(struct status *st)
{
	for (size_t r = 0; r < st->nr; r++)
		free(st->recs[r].labels);
	st->nr = 0;
	rehash(st, 64);
}

/* ---- public object ---- */

int status_open(const char *account_dir, const char *folder,
		enum status_backend backend, unsigned flags,
		struct status **st_r, struct oim_err *err)
{
	char *path, *other_path = NULL;
	struct status *st;
	int ret;

	*st_r = NULL;
	if (status_cache_path(account_dir, folder, backend, &path, err) < 0)
		return -1;
	/* The other backend's file, imported when ours is missing. */
	if (status_cache_path(account_dir, folder,
			      backend == STATUS_BACKEND_SQLITE
				  ? STATUS_BACKEND_PLAIN
				  : STATUS_BACKEND_SQLITE,
			      &other_path, err) < 0) {
		free(path);
		return -1;
	}
	st = status_alloc(backend, path, flags);
	free(path);
	if (backend == STATUS_BACKEND_PLAIN &&
	    join_path(account_dir, STATUS_DIR_META, folder, &st->meta_path,
		      err) < 0)
		goto fail;
	if (!st->readonly) {
		char *dir = status_dirname(st->path);

		ret = status_mkdir_p(dir, err);
		free(dir);
		if (ret < 0)
			goto fail;
	}
	if (backend == STATUS_BACKEND_PLAIN)
		ret = status_plain_open(st, other_path, err);
	else
		ret = status_sqlite_open(st, other_path, err);
	if (ret < 0)
		goto fail;
	free(other_path);
	*st_r = st;
	return 0;
fail:
	free(other_path);
	status_close(st);
	return -1;
}

void status_close(struct status *st)
{
	if (!st)
		return;
	if (st->depth > 0)
		log_debug(OIM_DBG_STATUS,
			  "status %s: closed with uncommitted changes",
			  st->path);
	status_sqlite_close(st);
	for (size_t m = 0; m < st->nmeta; m++) {
		free(st->meta[m].key);
		free(st->meta[m].value);
	}
	free(st->meta);
	free(st->meta_path);
	for (size_t r = 0; r < st->nr; r++)
		free(st->recs[r].labels);
	free(st->recs);
	free(st->slots);
	free(st->path);
	free(st);
}

bool status_is_new(const struct status *st)
{
	return st->is_new;
}

const char *status_path(const struct status *st)
{
	return st->path;
}

size_t status_count(const struct status *st)
{
	return st->nr;
}

const struct status_rec *status_get(const struct status *st, uint32_t uid)
{
	size_t i;

	if (!uid)
		return NULL;
	i = find_slot(st, uid);
	return st->slots[i] ? &st->recs[st->slots[i] - 1] : NULL;
}

const struct status_rec *status_next(const struct status *st, size_t *iter)
{
	if (*iter >= st->nr)
		return NULL;
	return &st->recs[(*iter)++];
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

uint32_t *status_uids(const struct status *st, size_t *n_r)
{
	uint32_t *v;

	*n_r = st->nr;
	if (!st->nr)
		return NULL;
	v = xreallocarray(NULL, st->nr, sizeof(*v));
	for (size_t r = 0; r < st->nr; r++)
		v[r] = st->recs[r].uid;
	oim_qsort(v, st->nr, sizeof(*v), cmp_u32);
	return v;
}

static void check_writable(const struct status *st)
{
	if (st->readonly)
		BUG("status %s: change to a read-only cache", st->path);
}

int status_begin(struct status *st, struct oim_err *err)
{
	check_writable(st);
	if (st->depth++ == 0 && st->backend == STATUS_BACKEND_SQLITE &&
	    status_sqlite_begin(st, err) < 0) {
		st->depth--;
		return -1;
	}
	return 0;
}

static int flush(struct status *st, struct oim_err *err)
{
	if (st->backend == STATUS_BACKEND_SQLITE)
		return status_sqlite_commit(st, err);
	if (st->dirty) {
		if (status_plain_write(st, err) < 0)
			return -1;
		st->dirty = false;
	}
	/* After the cache: a crash in between leaves older hints only. */
	if (st->meta_dirty) {
		if (status_plain_meta_write(st, err) < 0)
			return -1;
		st->meta_dirty = false;
	}
	return 0;
}

int status_commit(struct status *st, struct oim_err *err)
{
	check_writable(st);
	if (st->depth <= 0)
		BUG("status %s: commit without begin", st->path);
	if (--st->depth > 0)
		return 0;
	return flush(st, err);
}

/* After a change: write it through (sqlite) and, outside a batch, commit. */
static int changed(struct status *st, const struct status_rec *rec,
		   uint32_t deleted_uid, struct oim_err *err)
{
	if (st->backend == STATUS_BACKEND_SQLITE) {
		if (rec ? status_sqlite_put(st, rec, err)
			: status_sqlite_del(st, deleted_uid, err))
			return -1;
	}
	st->dirty = true;
	if (st->depth == 0)
		return flush(st, err);
	return 0;
}

static int bad_flags(struct oim_err *err, const struct status *st, uint32_t uid,
		     const char *flags)
{
	return oim_error(err, OIM_SEV_FOLDER, OIM_E_STATUS,
			 "status %s: invalid flags '%.100s' for UID %u",
			 st->path, flags, uid);
}

int status_set(struct status *st, uint32_t uid, const char *flags,
	       int64_t mtime, const char *labels, struct oim_err *err)
{
	char nf[STATUS_MAX_FLAGS + 1];
	char *nl = NULL;
	const struct status_rec *rec;

	check_writable(st);
	if (!uid)
		return oim_error(err, OIM_SEV_FOLDER, OIM_E_STATUS,
				 "status %s: UID 0", st->path);
	if (status_flags_normalize(flags, nf) < 0)
		return bad_flags(err, st, uid, flags);
	if (labels && *labels) {
		struct strbuf sb = STRBUF_INIT;

		if (strlen(labels) > STATUS_MAX_LABELS)
			return oim_error(err, OIM_SEV_FOLDER, OIM_E_LIMIT,
					 "status %s: labels of UID %u longer "
					 "than %u bytes",
					 st->path, uid, STATUS_MAX_LABELS);
		/* They would break the plain format's lines and fields. */
		if (strpbrk(labels, "|\n\r"))
			return oim_error(err, OIM_SEV_FOLDER, OIM_E_STATUS,
					 "status %s: labels of UID %u contain "
					 "'|' or a line break",
					 st->path, uid);
		status_labels_normalize(labels, strlen(labels), &sb);
		if (sb.len)
			nl = strbuf_detach(&sb, NULL);
		strbuf_release(&sb);
	}
	rec = status_table_put(st, uid, nf, mtime, nl);
	return changed(st, rec, 0, err);
}

static const struct status_rec *must_get(const struct status *st, uint32_t uid,
					 struct oim_err *err)
{
	const struct status_rec *rec = status_get(st, uid);

	if (!rec)
		oim_error(err, OIM_SEV_FOLDER, OIM_E_STATUS,
			  "status %s: no record for UID %u", st->path, uid);
	return rec;
}

int status_set_flags(struct status *st, uint32_t uid, const char *flags,
		     struct oim_err *err)
{
	const struct status_rec *rec = must_get(st, uid, err);

	if (!rec)
		return -1;
	return status_set(st, uid, flags, rec->mtime, rec->labels, err);
}

int status_set_labels(struct status *st, uint32_t uid, const char *labels,
		      int64_t mtime, struct oim_err *err)
{
	const struct status_rec *rec = must_get(st, uid, err);
	char flags[STATUS_MAX_FLAGS + 1];

	if (!rec)
		return -1;
	memcpy(flags, rec->flags, sizeof(flags));
	return status_set(st, uid, flags, mtime ? mtime : rec->mtime, labels,
			  err);
}

int status_delete(struct status *st, uint32_t uid, struct oim_err *err)
{
	check_writable(st);
	if (!status_get(st, uid))
		return 0;
	status_table_del(st, uid);
	return changed(st, NULL, uid, err);
}

/* ---- oimap's own values ---- */

void status_meta_put(struct status *st, const char *key, const char *value)
{
	for (size_t m = 0; m < st->nmeta; m++) {
		if (!strcmp(st->meta[m].key, key)) {
			free(st->meta[m].value);
			st->meta[m].value = xstrdup(value);
			return;
		}
	}
	ALLOC_GROW(st->meta, st->nmeta, st->ameta);
	st->meta[st->nmeta].key = xstrdup(key);
	st->meta[st->nmeta].value = xstrdup(value);
	st->nmeta++;
}

const char *status_meta_get(const struct status *st, const char *key)
{
	for (size_t m = 0; m < st->nmeta; m++)
		if (!strcmp(st->meta[m].key, key))
			return st->meta[m].value;
	return NULL;
}

int status_meta_set(struct status *st, const char *key, const char *value,
		    struct oim_err *err)
{
	size_t kl = strlen(key), vl = strlen(value);
	const char *cur;

	check_writable(st);
	if (!kl || kl > STATUS_META_MAX_KEY ||
	    strspn(key, "abcdefghijklmnopqrstuvwxyz0123456789_.-") != kl)
		BUG("status: bad meta key '%s'", key);
	if (vl > STATUS_META_MAX_VALUE)
		return oim_error(err, OIM_SEV_FOLDER, OIM_E_LIMIT,
				 "status %s: value of '%s' longer than %d "
				 "bytes",
				 st->path, key, STATUS_META_MAX_VALUE);
	for (const char *p = value; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			return oim_error(err, OIM_SEV_FOLDER, OIM_E_STATUS,
					 "status %s: value of '%s' is not "
					 "printable ASCII",
					 st->path, key);
	cur = status_meta_get(st, key);
	if (cur && !strcmp(cur, value))
		return 0;
	status_meta_put(st, key, value);
	if (st->backend == STATUS_BACKEND_SQLITE) {
		if (status_sqlite_meta_put(st, key, value, err) < 0)
			return -1;
	} else {
		st->meta_dirty = true;
	}
	if (st->depth == 0)
		return flush(st, err);
	return 0;
}
