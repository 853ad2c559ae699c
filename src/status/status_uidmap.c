/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * status_uidmap.c - OfflineIMAP's UIDMapping files (see status.h).
 *
 * Crash reasoning: a new pair is one appended line, fdatasync'ed before
 * the call returns, so a pair the caller was told about survives; a line
 * torn by a crash has no '\n' and is dropped (its call never returned).
 * Dropping pairs rewrites the file through "<file>.tmp" and rename(), so
 * the file is always either the old or the new map.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <unistd.h>

#include "../util/log.h"
#include "status-int.h"

struct pair {
	uint32_t l, r;
};

struct status_uidmap {
	char *path;
	unsigned flags;
	int fd; /* append descriptor, -1 until the first append */
	/* the same pairs sorted by local UID and by remote UID */
	struct pair *byl, *byr;
	size_t nr, alloc_l, alloc_r;
	bool torn; /* the file ends in a torn line: rewrite before appending */
};

/* Index of the first pair whose key >= k in v sorted by that key. */
static size_t lower(const struct pair *v, size_t n, uint32_t k, bool by_r)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint32_t x = by_r ? v[mid].r : v[mid].l;
		if (x < k)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

uint32_t status_uidmap_remote(const struct status_uidmap *m, uint32_t luid)
{
	size_t i = lower(m->byl, m->nr, luid, false);
	return i < m->nr && m->byl[i].l == luid ? m->byl[i].r : 0;
}

uint32_t status_uidmap_local(const struct status_uidmap *m, uint32_t ruid)
{
	size_t i = lower(m->byr, m->nr, ruid, true);
	return i < m->nr && m->byr[i].r == ruid ? m->byr[i].l : 0;
}

size_t status_uidmap_count(const struct status_uidmap *m)
{
	return m->nr;
}

static void insert_at(struct pair **v, size_t *alloc, size_t nr, size_t i,
		      struct pair p)
{
	ALLOC_GROW(*v, nr + 1, *alloc);
	memmove(*v + i + 1, *v + i, (nr - i) * sizeof(**v));
	(*v)[i] = p;
}

static void remove_at(struct pair *v, size_t nr, size_t i)
{
	memmove(v + i, v + i + 1, (nr - i - 1) * sizeof(*v));
}

/* In memory only; the caller checked that neither UID is taken. */
static void put(struct status_uidmap *m, uint32_t l, uint32_t r)
{
	struct pair p = {l, r};
	insert_at(&m->byl, &m->alloc_l, m->nr, lower(m->byl, m->nr, l, false),
		  p);
	insert_at(&m->byr, &m->alloc_r, m->nr, lower(m->byr, m->nr, r, true),
		  p);
	m->nr++;
}

static void del(struct status_uidmap *m, uint32_t l)
{
	size_t i = lower(m->byl, m->nr, l, false);
	if (i >= m->nr || m->byl[i].l != l)
		return;
	uint32_t r = m->byl[i].r;
	remove_at(m->byl, m->nr, i);
	i = lower(m->byr, m->nr, r, true);
	if (i >= m->nr || m->byr[i].r != r)
		BUG("uid map %s: pair %u:%u indexed once", m->path, l, r);
	remove_at(m->byr, m->nr, i);
	m->nr--;
}

static struct status_uidmap *uidmap_alloc(const char *path, unsigned flags)
{
	struct status_uidmap *m = xcalloc(1, sizeof(*m));
	m->path = xstrdup(path);
	m->flags = flags;
	m->fd = -1;
	return m;
}

void status_uidmap_close(struct status_uidmap *m)
{
	if (!m)
		return;
	if (m->fd >= 0)
		close(m->fd);
	free(m->byl);
	free(m->byr);
	free(m->path);
	free(m);
}

static int parse_uid(const char *s, size_t len, uint32_t *uid_r)
{
	uint64_t v;
	/* int() of the stripped text: blanks around a field are fine */
	while (len && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' ||
		       s[len - 1] == '\r'))
		len--;
	if (!len || oim_parse_u64(s, len, UINT32_MAX, &v) < 0 || !v)
		return -1;
	*uid_r = (uint32_t)v;
	return 0;
}

int status_uidmap_parse(const char *data, size_t len, const char *path,
			struct status_uidmap **m_r, struct oim_err *err)
{
	struct status_uidmap *m = uidmap_alloc(path, STATUS_OPEN_READONLY);
	size_t lineno = 0;

	*m_r = NULL;
	for (size_t pos = 0; pos < len;) {
		const char *line = data + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - line) : len - pos;
		uint32_t l, r;

		lineno++;
		pos += ll + (nl ? 1 : 0);
		if (!nl) {
			/* a torn append: its call never returned */
			m->torn = true;
			break;
		}
		const char *colon = memchr(line, ':', ll);
		if (!colon || parse_uid(line, (size_t)(colon - line), &l) ||
		    parse_uid(colon + 1, ll - (size_t)(colon + 1 - line), &r)) {
			status_uidmap_close(m);
			return oim_error(err, OIM_SEV_FOLDER, OIM_E_STATUS,
					 "%s:%zu: not a UID mapping line "
					 "(\"local-uid:remote-uid\")",
					 path, lineno);
		}
		uint32_t had_r = status_uidmap_remote(m, l);
		uint32_t had_l = status_uidmap_local(m, r);
		if (had_r == r)
			continue; /* the same pair again */
		if (had_r || had_l) {
			status_uidmap_close(m);
			return oim_error(
			    err, OIM_SEV_FOLDER, OIM_E_STATUS,
			    "%s:%zu: %s UID %" PRIu32 " is already mapped "
			    "(to %" PRIu32 "); the UID mapping is "
			    "inconsistent and oimap will not guess which "
			    "message is which",
			    path, lineno, had_r ? "local" : "remote",
			    had_r ? l : r, had_r ? had_r : had_l);
		}
		put(m, l, r);
	}
	*m_r = m;
	return 0;
}

int status_uidmap_path(const char *metadata_dir, const char *repository,
		       const char *folder, char **path_r, struct oim_err *err)
{
	char *base;
	*path_r = NULL;
	if (status_folder_basename(folder, &base, err) < 0)
		return -1;
	*path_r = xasprintf("%s/Repository-%s/" STATUS_DIR_UIDMAP "/%s",
			    metadata_dir, repository, base);
	free(base);
	return 0;
}

int status_uidmap_open(const char *metadata_dir, const char *repository,
		       const char *folder, unsigned flags,
		       struct status_uidmap **m_r, struct oim_err *err)
{
	char *path, *tmp, *buf = NULL;
	size_t len = 0;
	bool exists = false;
	int ret;

	*m_r = NULL;
	if (status_uidmap_path(metadata_dir, repository, folder, &path, err) <
	    0)
		return -1;
	tmp = xasprintf("%s.tmp", path);
	if (!(flags & STATUS_OPEN_READONLY)) {
		char *dir = status_dirname(path);
		ret = status_mkdir_p(dir, err);
		free(dir);
		if (ret < 0)
			goto out;
		if (unlink(tmp) == 0)
			log_debug(OIM_DBG_SYNC,
				  "%s: removed an unfinished rewrite", tmp);
	}
	ret = status_read_file(path, STATUS_MAX_UIDMAP_FILE, &buf, &len,
			       &exists, err);
	if (ret == 0)
		ret = status_uidmap_parse(buf ? buf : "", len, path, m_r, err);
	if (ret == 0)
		(*m_r)->flags = flags;
out:
	free(buf);
	free(tmp);
	free(path);
	return ret;
}

void status_uidmap_format(const struct status_uidmap *m, struct strbuf *out)
{
	for (size_t i = 0; i < m->nr; i++)
		strbuf_addf(out, "%" PRIu32 ":%" PRIu32 "\n", m->byl[i].l,
			    m->byl[i].r);
}

static int io_err(struct status_uidmap *m, const char *what,
		  struct oim_err *err)
{
	return oim_error(err, OIM_SEV_FOLDER, OIM_E_IO,
			 "UID mapping '%s': cannot %s: %s", m->path, what,
			 strerror(errno));
}

static int rewrite(struct status_uidmap *m, struct oim_err *err)
{
	struct strbuf sb = STRBUF_INIT;
	int ret;

	if (m->flags & STATUS_OPEN_READONLY)
		BUG("uid map %s: write in read-only mode", m->path);
	if (m->fd >= 0) {
		close(m->fd);
		m->fd = -1;
	}
	status_uidmap_format(m, &sb);
	ret = status_write_file_atomic(m->path, sb.buf ? sb.buf : "", sb.len,
				       m->flags & STATUS_OPEN_NOFSYNC, err);
	strbuf_release(&sb);
	if (ret == 0)
		m->torn = false;
	return ret;
}

static int append(struct status_uidmap *m, uint32_t l, uint32_t r,
		  struct oim_err *err)
{
	char line[32];
	int n;

	if (m->flags & STATUS_OPEN_READONLY)
		BUG("uid map %s: write in read-only mode", m->path);
	if (m->torn)
		return rewrite(m, err); /* the pair is in memory already */
	if (m->fd < 0) {
		m->fd = open(m->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
			     0600);
		if (m->fd < 0)
			return io_err(m, "open", err);
		if (!(m->flags & STATUS_OPEN_NOFSYNC) &&
		    status_fsync_dir_of(m->path, err) < 0)
			return -1;
	}
	n = snprintf(line, sizeof(line), "%" PRIu32 ":%" PRIu32 "\n", l, r);
	/* one write(): O_APPEND keeps the line in one piece */
	ssize_t w = write(m->fd, line, (size_t)n);
	if (w != n) {
		if (w >= 0)
			errno = ENOSPC;
		return io_err(m, "write", err);
	}
	if (!(m->flags & STATUS_OPEN_NOFSYNC) && fdatasync(m->fd) < 0)
		return io_err(m, "fsync", err);
	return 0;
}

int status_uidmap_set(struct status_uidmap *m, uint32_t luid, uint32_t ruid,
		      struct oim_err *err)
{
	uint32_t had_r = status_uidmap_remote(m, luid);
	uint32_t had_l = status_uidmap_local(m, ruid);

	if (!luid || !ruid)
		BUG("uid map %s: pair %u:%u", m->path, luid, ruid);
	if (had_r == ruid)
		return 0;
	if (had_l)
		return oim_error(err, OIM_SEV_FOLDER, OIM_E_STATUS,
				 "UID mapping '%s': remote UID %" PRIu32
				 " is already held by local UID %" PRIu32,
				 m->path, ruid, had_l);
	if (had_r) {
		/* a new partner: rewrite so no stale line remains */
		del(m, luid);
		put(m, luid, ruid);
		return rewrite(m, err);
	}
	put(m, luid, ruid);
	return append(m, luid, ruid, err);
}

int status_uidmap_drop(struct status_uidmap *m, const uint32_t *luids,
		       size_t n, struct oim_err *err)
{
	size_t before = m->nr;
	for (size_t i = 0; i < n; i++)
		del(m, luids[i]);
	if (m->nr == before)
		return 0;
	return rewrite(m, err);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

int status_uidmap_keep_only(struct status_uidmap *m, const uint32_t *present,
			    size_t n, struct oim_err *err)
{
	uint32_t *v = xcalloc(n + 1, sizeof(*v));
	uint32_t *gone = xcalloc(m->nr + 1, sizeof(*gone));
	size_t ng = 0;
	int ret;

	memcpy(v, present, n * sizeof(*v));
	oim_qsort(v, n, sizeof(*v), cmp_u32);
	for (size_t i = 0, j = 0; i < m->nr; i++) {
		while (j < n && v[j] < m->byl[i].l)
			j++;
		if (j >= n || v[j] != m->byl[i].l)
			gone[ng++] = m->byl[i].l;
	}
	ret = status_uidmap_drop(m, gone, ng, err);
	free(gone);
	free(v);
	return ret;
}
