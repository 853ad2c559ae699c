/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * status_plain.c - OfflineIMAP's plain text status cache
 * (folder/LocalStatus.py): a magic first line, then format 2
 * "uid|flags|mtime|labels" or format 1 "uid:flags" lines.
 *
 * Reading follows Python's: each line is strip()ped, split on '|' into
 * exactly four fields, uid and mtime go through int(), flags through set()
 * and labels through split(',') + strip().  We are stricter in one place:
 * flags must be printable ASCII (OfflineIMAP only ever writes Maildir flag
 * letters), and laxer in another: blank lines are skipped instead of being
 * an error.
 */
#include <inttypes.h>
#include <sys/stat.h>

#include "status-int.h"

#include "../util/log.h"

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	       c == '\v';
}

static void trim(const char **s, size_t *len)
{
	while (*len && blank(**s)) {
		(*s)++;
		(*len)--;
	}
	while (*len && blank((*s)[*len - 1]))
		(*len)--;
}

/* Python int() on an unsigned field. */
static int parse_uid(const char *s, size_t len, uint32_t *uid_r)
{
	uint64_t v;

	trim(&s, &len);
	if (len && *s == '+') {
		s++;
		len--;
	}
	if (oim_parse_u64(s, len, UINT32_MAX, &v) < 0 || v == 0)
		return -1;
	*uid_r = (uint32_t)v;
	return 0;
}

static int parse_i64(const char *s, size_t len, int64_t *v_r)
{
	bool neg = false;
	uint64_t v;

	trim(&s, &len);
	if (len && (*s == '+' || *s == '-')) {
		neg = *s == '-';
		s++;
		len--;
	}
	if (oim_parse_u64(s, len, neg ? (uint64_t)INT64_MAX + 1 : INT64_MAX,
			  &v) < 0)
		return -1;
	*v_r = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

static int parse_flags(const char *s, size_t len,
		       char out[STATUS_MAX_FLAGS + 1])
{
	char tmp[STATUS_MAX_FLAGS * 4 + 1];

	/* Duplicates are allowed in input, so allow some slack first. */
	if (len >= sizeof(tmp) || memchr(s, '\0', len))
		return -1;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	return status_flags_normalize(tmp, out);
}

static int parse_line(struct status *st, int version, const char *line,
		      size_t len, unsigned lineno, struct oim_err *err)
{
	const char *f[4];
	size_t fl[4], nf = 0;
	const char *p = line, *end = line + len;
	char sep = version == 1 ? ':' : '|';
	size_t want = version == 1 ? 2 : 4;
	uint32_t uid;
	int64_t mtime = 0;
	char flags[STATUS_MAX_FLAGS + 1];
	char *labels = NULL;

	for (;;) {
		const char *q = memchr(p, sep, (size_t)(end - p));

		if (nf == want)
			goto bad;
		f[nf] = p;
		fl[nf] = q ? (size_t)(q - p) : (size_t)(end - p);
		nf++;
		if (!q)
			break;
		p = q + 1;
	}
	if (nf != want)
		goto bad;
	if (parse_uid(f[0], fl[0], &uid) < 0)
		goto bad;
	if (parse_flags(f[1], fl[1], flags) < 0)
		goto bad;
	if (version >= 2) {
		if (parse_i64(f[2], fl[2], &mtime) < 0)
			goto bad;
		if (fl[3] > STATUS_MAX_LABELS)
			goto bad;
		if (memchr(f[3], '\0', fl[3]))
			goto bad;
		struct strbuf sb = STRBUF_INIT;

		status_labels_normalize(f[3], fl[3], &sb);
		if (sb.len)
			labels = strbuf_detach(&sb, NULL);
		strbuf_release(&sb);
	}
	status_table_put(st, uid, flags, mtime, labels);
	return 0;
bad:
	return status_corrupt(err, st->path, "corrupt line %u '%.80s'", lineno,
			      line);
}

int status_plain_load(struct status *st, const char *data, size_t len,
		      int *version_r, struct oim_err *err)
{
	const char *p = data, *end = data + len;
	unsigned lineno = 0;
	int version = 0;
	char *line = NULL;

	*version_r = 0;
	while (p < end) {
		const char *eol = p;
		size_t ll;

		/* Python's universal newlines: \n, \r\n and \r end a line. */
		while (eol < end && *eol != '\n' && *eol != '\r')
			eol++;
		ll = (size_t)(eol - p);
		free(line);
		line = xmalloc(ll + 1);
		memcpy(line, p, ll);
		line[ll] = '\0';
		if (eol < end && *eol == '\r' && eol + 1 < end &&
		    eol[1] == '\n')
			eol++;
		p = eol < end ? eol + 1 : end;
		lineno++;

		const char *s = line;

		trim(&s, &ll);
		if (lineno == 1) {
			size_t ml = strlen(STATUS_PLAIN_MAGIC);

			if (ll == ml + 1 &&
			    !memcmp(s, STATUS_PLAIN_MAGIC, ml) &&
			    (s[ml] == '1' || s[ml] == '2')) {
				version = s[ml] - '0';
				continue;
			}
			if (ll > ml && !memcmp(s, STATUS_PLAIN_MAGIC, ml))
				status_corrupt(err, st->path,
					       "unknown format '%.20s' (this "
					       "oimap reads formats 1 and 2)",
					       s + ml);
			else
				status_corrupt(err, st->path,
					       "first line is not the "
					       "OfflineIMAP LocalStatus magic "
					       "line");
			free(line);
			return -1;
		}
		if (!ll)
			continue;
		if (memchr(s, '\0', ll) ||
		    ll > STATUS_MAX_LABELS + 3 * STATUS_MAX_FLAGS + 64) {
			free(line);
			return status_corrupt(err, st->path, "corrupt line %u",
					      lineno);
		}
		if (parse_line(st, version, s, ll, lineno, err) < 0) {
			free(line);
			return -1;
		}
	}
	free(line);
	if (!version)
		/* OfflineIMAP: "Unrecognized cache magicline" on an empty file.
		 * An empty file after a crash means the cache is lost. */
		return status_corrupt(err, st->path, "the file is empty");
	*version_r = version;
	return 0;
}

static int cmp_rec_ptr(const void *a, const void *b)
{
	uint32_t x = (*(const struct status_rec *const *)a)->uid;
	uint32_t y = (*(const struct status_rec *const *)b)->uid;

	return x < y ? -1 : x > y;
}

void status_plain_format(const struct status *st, struct strbuf *out)
{
	const struct status_rec **v = NULL;

	strbuf_addf(out, "%s%d\n", STATUS_PLAIN_MAGIC, STATUS_PLAIN_VERSION);
	if (!st->nr)
		return;
	v = xreallocarray(NULL, st->nr, sizeof(*v));
	for (size_t i = 0; i < st->nr; i++)
		v[i] = &st->recs[i];
	oim_qsort(v, st->nr, sizeof(*v), cmp_rec_ptr);
	for (size_t i = 0; i < st->nr; i++)
		strbuf_addf(out, "%" PRIu32 "|%s|%" PRId64 "|%s\n", v[i]->uid,
			    v[i]->flags, v[i]->mtime,
			    v[i]->labels ? v[i]->labels : "");
	free(v);
}

int status_plain_write(struct status *st, struct oim_err *err)
{
	struct strbuf sb = STRBUF_INIT;
	int ret;

	status_plain_format(st, &sb);
	ret = status_write_file_atomic(st->path, sb.buf, sb.len,
				       st->flags & STATUS_OPEN_NOFSYNC, err);
	strbuf_release(&sb);
	return ret;
}

/*
 * The plain file is missing: take the records of an existing sqlite cache
 * (OfflineIMAP's import_other_backend() does the same in both directions),
 * so a user who sets status_backend = plain after OfflineIMAP 8 does not
 * get deleted mail back.  The sqlite file is only read.
 */
static int import_sqlite(struct status *st, const char *sqlite_path,
			 struct oim_err *err)
{
	struct status *o;
	struct stat sb;

	st->is_new = true;
	if (!sqlite_path || stat(sqlite_path, &sb) < 0 || sb.st_size == 0)
		return 0;
	o = status_alloc(STATUS_BACKEND_SQLITE, sqlite_path,
			 STATUS_OPEN_READONLY);
	if (status_sqlite_open(o, NULL, err) < 0) {
		status_close(o);
		return -1;
	}
	if (!o->is_new) {
		for (size_t i = 0; i < o->nr; i++) {
			struct status_rec *r = &o->recs[i];

			status_table_put(st, r->uid, r->flags, r->mtime,
					 r->labels ? xstrdup(r->labels) : NULL);
		}
		st->is_new = false;
	}
	status_close(o);
	if (st->is_new || st->readonly)
		return 0;
	if (status_plain_write(st, err) < 0)
		return -1;
	log_info("Migrated LocalStatus cache from sqlite to plain: %s -> %s "
		 "(%zu messages; the sqlite file is kept)",
		 sqlite_path, st->path, st->nr);
	return 0;
}

int status_plain_open(struct status *st, const char *sqlite_path,
		      struct oim_err *err)
{
	char *buf;
	size_t len;
	bool exists;
	int version;

	if (status_read_file(st->path, STATUS_MAX_FILE, &buf, &len, &exists,
			     err) < 0)
		return -1;
	if (!exists)
		return import_sqlite(st, sqlite_path, err);
	status_plain_meta_load(st);
	if (status_plain_load(st, buf, len, &version, err) < 0) {
		free(buf);
		return -1;
	}
	free(buf);
	if (version < STATUS_PLAIN_VERSION && !st->readonly) {
		log_info("Upgrading LocalStatus cache from version %d to "
			 "version %d: %s",
			 version, STATUS_PLAIN_VERSION, st->path);
		if (status_plain_write(st, err) < 0)
			return -1;
	}
	return 0;
}

int status_plain_parse(const char *data, size_t len, const char *path,
		       struct status **st_r, struct oim_err *err)
{
	struct status *st =
	    status_alloc(STATUS_BACKEND_PLAIN, path, STATUS_OPEN_READONLY);
	int version;

	*st_r = NULL;
	if (status_plain_load(st, data, len, &version, err) < 0) {
		status_close(st);
		return -1;
	}
	*st_r = st;
	return 0;
}

/* ---- oimap's values for the plain backend: a sidecar file ---- */

#define META_MAGIC "OIMAP-META 1"

void status_plain_meta_load(struct status *st)
{
	struct oim_err err = OIM_ERR_INIT;
	char *buf;
	size_t len, pos, ml = strlen(META_MAGIC);
	bool exists;

	if (!st->meta_path)
		return;
	if (status_read_file(st->meta_path, 64 * 1024, &buf, &len, &exists,
			     &err) < 0) {
		log_warn("%s (ignored)", err.msg);
		return;
	}
	if (!exists)
		return;
	if (len < ml + 1 || memcmp(buf, META_MAGIC "\n", ml + 1)) {
		log_warn("'%s': not an oimap meta file (ignored)",
			 st->meta_path);
		free(buf);
		return;
	}
	for (pos = ml + 1; pos < len;) {
		char *nl = memchr(buf + pos, '\n', len - pos);
		char *sp;

		if (!nl)
			break;
		*nl = '\0';
		sp = strchr(buf + pos, ' ');
		if (sp && sp > buf + pos &&
		    (size_t)(sp - (buf + pos)) <= STATUS_META_MAX_KEY &&
		    strlen(sp + 1) <= STATUS_META_MAX_VALUE &&
		    !memchr(buf + pos, '\0', (size_t)(nl - (buf + pos)))) {
			*sp = '\0';
			status_meta_put(st, buf + pos, sp + 1);
		}
		pos = (size_t)(nl - buf) + 1;
	}
	free(buf);
}

int status_plain_meta_write(struct status *st, struct oim_err *err)
{
	struct strbuf sb = STRBUF_INIT;
	char *dir = status_dirname(st->meta_path);
	int ret = status_mkdir_p(dir, err);

	free(dir);
	if (ret < 0)
		return -1;
	strbuf_addstr(&sb, META_MAGIC "\n");
	for (size_t m = 0; m < st->nmeta; m++)
		strbuf_addf(&sb, "%s %s\n", st->meta[m].key, st->meta[m].value);
	ret = status_write_file_atomic(st->meta_path, sb.buf, sb.len,
				       st->flags & STATUS_OPEN_NOFSYNC, err);
	strbuf_release(&sb);
	return ret;
}
