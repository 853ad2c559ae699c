/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * status_journal.c - oimap's upload journal (see status.h).
 *
 * Crash reasoning: an intent line is appended and fsynced before the
 * APPEND starts, so after any crash every upload that may have reached the
 * server has a complete "I" line.  A line without its '\n' was being
 * written when the process died; its APPEND had not started, so it is
 * dropped (and cut off the file before the next append).  "D" lines are
 * fsynced too, but losing one is harmless: the next run searches the
 * server, finds the message and does not append it again.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <unistd.h>

#include "status-int.h"

#define JOURNAL_MAGIC "OIMAP-JOURNAL 1"

struct status_journal {
	char *path;
	unsigned flags;
	int fd; /* -1 until the file is opened for appending */
	uint64_t next_id;
	struct status_journal_entry *ents; /* pending, oldest first */
	size_t nr, alloc;
};

static void entry_release(struct status_journal_entry *e)
{
	free(e->local_name);
	free(e->message_id);
}

static void escape(struct strbuf *sb, const char *s)
{
	if (!*s) {
		strbuf_addch(sb, '-');
		return;
	}
	if (!strcmp(s, "-")) {
		strbuf_addstr(sb, "%2D");
		return;
	}
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p <= ' ' || *p == '%' || *p == 0x7f)
			strbuf_addf(sb, "%%%02X", *p);
		else
			strbuf_addch(sb, (char)*p);
	}
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static char *unescape(const char *s, size_t len)
{
	struct strbuf sb = STRBUF_INIT;

	if (len == 1 && *s == '-')
		return xstrdup("");
	for (size_t i = 0; i < len; i++) {
		if (s[i] != '%') {
			strbuf_addch(&sb, s[i]);
			continue;
		}
		if (i + 2 >= len)
			goto bad;
		int h = hexval(s[i + 1]), l = hexval(s[i + 2]);

		if (h < 0 || l < 0 || (h == 0 && l == 0))
			goto bad;
		strbuf_addch(&sb, (char)(h * 16 + l));
		i += 2;
	}
	return strbuf_detach(&sb, NULL);
bad:
	strbuf_release(&sb);
	return NULL;
}

static int corrupt(struct status_journal *j, unsigned lineno,
		   struct oim_err *err)
{
	return oim_error(err, OIM_SEV_FOLDER, OIM_E_STATUS,
			 "upload journal '%s': corrupt line %u. Nothing was "
			 "changed; if you move the file away, uploads that "
			 "were interrupted may be appended to the server a "
			 "second time",
			 j->path, lineno);
}

/* Split a line into at most 'max' space-separated fields. */
static size_t split(const char *s, size_t len, const char **f, size_t *fl,
		    size_t max)
{
	size_t n = 0, i = 0;

	while (i <= len && n < max + 1) {
		size_t k = i;

		while (k < len && s[k] != ' ')
			k++;
		if (n == max)
			return max + 1;
		f[n] = s + i;
		fl[n] = k - i;
		n++;
		i = k + 1;
	}
	return n;
}

static int parse(struct status_journal *j, const char *buf, size_t len,
		 size_t *good_len_r, struct oim_err *err)
{
	size_t pos = 0;
	unsigned lineno = 0;

	*good_len_r = 0;
	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		const char *s = buf + pos;
		const char *f[7];
		size_t fl[7], n, ll;
		uint64_t id, size, uid;
		int64_t date;

		if (!nl)
			break; /* torn tail: its APPEND never started */
		ll = (size_t)(nl - s);
		lineno++;
		pos += ll + 1;
		if (lineno == 1) {
			if (ll != strlen(JOURNAL_MAGIC) ||
			    memcmp(s, JOURNAL_MAGIC, ll))
				return oim_error(err, OIM_SEV_FOLDER,
						 OIM_E_STATUS,
						 "upload journal '%s': unknown "
						 "format (first line)",
						 j->path);
			*good_len_r = pos;
			continue;
		}
		if (memchr(s, '\0', ll))
			return corrupt(j, lineno, err);
		n = split(s, ll, f, fl, 6);
		if (n == 6 && fl[0] == 1 && *f[0] == 'I') {
			long long d;
			char num[32];
			char *end;

			if (oim_parse_u64(f[1], fl[1], UINT64_MAX - 1, &id) <
				0 ||
			    oim_parse_u64(f[2], fl[2], UINT64_MAX, &size) < 0 ||
			    fl[3] == 0 || fl[3] >= sizeof(num))
				return corrupt(j, lineno, err);
			memcpy(num, f[3], fl[3]);
			num[fl[3]] = '\0';
			errno = 0;
			d = strtoll(num, &end, 10);
			if (errno || *end || end == num)
				return corrupt(j, lineno, err);
			date = d;
			char *ln = unescape(f[4], fl[4]);
			char *mid = unescape(f[5], fl[5]);

			if (!ln || !mid || !*ln) {
				free(ln);
				free(mid);
				return corrupt(j, lineno, err);
			}
			ALLOC_GROW(j->ents, j->nr, j->alloc);
			j->ents[j->nr++] = (struct status_journal_entry){
			    .id = id,
			    .local_name = ln,
			    .message_id = mid,
			    .size = size,
			    .internal_date = date,
			};
			if (id >= j->next_id)
				j->next_id = id + 1;
		} else if (n == 3 && fl[0] == 1 && *f[0] == 'D') {
			if (oim_parse_u64(f[1], fl[1], UINT64_MAX, &id) < 0 ||
			    oim_parse_u64(f[2], fl[2], UINT32_MAX, &uid) < 0)
				return corrupt(j, lineno, err);
			for (size_t i = 0; i < j->nr; i++) {
				if (j->ents[i].id != id)
					continue;
				entry_release(&j->ents[i]);
				memmove(&j->ents[i], &j->ents[i + 1],
					(j->nr - i - 1) * sizeof(*j->ents));
				j->nr--;
				break;
			}
		} else {
			return corrupt(j, lineno, err);
		}
		*good_len_r = pos;
	}
	return 0;
}

int status_journal_open(const char *account_dir, const char *folder,
			unsigned flags, struct status_journal **j_r,
			struct oim_err *err)
{
	struct status_journal *j = xcalloc(1, sizeof(*j));
	char *buf, *dir;
	size_t len, good;
	bool exists;

	*j_r = NULL;
	j->fd = -1;
	j->flags = flags;
	j->next_id = 1;
	if (status_journal_path(account_dir, folder, &j->path, err) < 0)
		goto fail;
	if (status_read_file(j->path, STATUS_JOURNAL_MAX_FILE, &buf, &len,
			     &exists, err) < 0)
		goto fail;
	if (exists) {
		if (parse(j, buf, len, &good, err) < 0) {
			free(buf);
			goto fail;
		}
		free(buf);
		/* Cut a torn tail so the next line does not join it. */
		if (good < len && !(flags & STATUS_OPEN_READONLY) &&
		    truncate(j->path, (off_t)good) < 0) {
			oim_error(err, OIM_SEV_FOLDER, OIM_E_IO,
				  "cannot truncate '%s': %s", j->path,
				  strerror(errno));
			goto fail;
		}
	}
	if (!(flags & STATUS_OPEN_READONLY)) {
		dir = status_dirname(j->path);
		int ret = status_mkdir_p(dir, err);

		free(dir);
		if (ret < 0)
			goto fail;
	}
	*j_r = j;
	return 0;
fail:
	status_journal_close(j);
	return -1;
}

void status_journal_close(struct status_journal *j)
{
	if (!j)
		return;
	if (j->fd >= 0)
		close(j->fd);
	for (size_t i = 0; i < j->nr; i++)
		entry_release(&j->ents[i]);
	free(j->ents);
	free(j->path);
	free(j);
}

static int io_err(struct status_journal *j, const char *what,
		  struct oim_err *err)
{
	return oim_error(err, OIM_SEV_FOLDER, OIM_E_IO,
			 "upload journal '%s': cannot %s: %s", j->path, what,
			 strerror(errno));
}

/* Append one line durably, creating the file with its header if needed. */
static int append_line(struct status_journal *j, const struct strbuf *line,
		       struct oim_err *err)
{
	bool nofsync = j->flags & STATUS_OPEN_NOFSYNC;

	if (j->flags & STATUS_OPEN_READONLY)
		BUG("journal %s: write in read-only mode", j->path);
	if (j->fd < 0) {
		j->fd = open(j->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
			     0600);
		if (j->fd < 0)
			return io_err(j, "open", err);
		off_t end = lseek(j->fd, 0, SEEK_END);

		if (end < 0)
			return io_err(j, "seek", err);
		if (end == 0) {
			static const char hdr[] = JOURNAL_MAGIC "\n";

			if (write(j->fd, hdr, sizeof(hdr) - 1) !=
			    (ssize_t)(sizeof(hdr) - 1))
				return io_err(j, "write", err);
			if (!nofsync && (fsync(j->fd) < 0 ||
					 status_fsync_dir_of(j->path, err) < 0))
				return io_err(j, "fsync", err);
		}
	}
	/* One write() per line: O_APPEND keeps it in one piece on Linux
	 * local file systems; a crash can only tear the tail, see parse(). */
	ssize_t n = write(j->fd, line->buf, line->len);

	if (n != (ssize_t)line->len) {
		if (n >= 0)
			errno = ENOSPC;
		return io_err(j, "write", err);
	}
	if (!nofsync && fdatasync(j->fd) < 0)
		return io_err(j, "fsync", err);
	return 0;
}

int status_journal_add(struct status_journal *j, const char *local_name,
		       const char *message_id, uint64_t size,
		       int64_t internal_date, uint64_t *id_r,
		       struct oim_err *err)
{
	struct strbuf sb = STRBUF_INIT;
	uint64_t id = j->next_id;

	if (!*local_name || strlen(local_name) > STATUS_JOURNAL_MAX_FIELD ||
	    strlen(message_id) > STATUS_JOURNAL_MAX_FIELD)
		return oim_error(err, OIM_SEV_MESSAGE, OIM_E_LIMIT,
				 "upload journal '%s': name or Message-ID "
				 "empty or longer than %u bytes",
				 j->path, STATUS_JOURNAL_MAX_FIELD);
	strbuf_addf(&sb, "I %" PRIu64 " %" PRIu64 " %" PRId64 " ", id, size,
		    internal_date);
	escape(&sb, local_name);
	strbuf_addch(&sb, ' ');
	escape(&sb, message_id);
	strbuf_addch(&sb, '\n');
	if (append_line(j, &sb, err) < 0) {
		strbuf_release(&sb);
		return -1;
	}
	strbuf_release(&sb);
	ALLOC_GROW(j->ents, j->nr, j->alloc);
	j->ents[j->nr++] = (struct status_journal_entry){
	    .id = id,
	    .local_name = xstrdup(local_name),
	    .message_id = xstrdup(message_id),
	    .size = size,
	    .internal_date = internal_date,
	};
	j->next_id = id + 1;
	*id_r = id;
	return 0;
}

int status_journal_done(struct status_journal *j, uint64_t id, uint32_t uid,
			struct oim_err *err)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;

	for (i = 0; i < j->nr; i++)
		if (j->ents[i].id == id)
			break;
	if (i == j->nr)
		return oim_error(
		    err, OIM_SEV_FOLDER, OIM_E_STATUS,
		    "upload journal '%s': no pending upload %" PRIu64, j->path,
		    id);
	strbuf_addf(&sb, "D %" PRIu64 " %" PRIu32 "\n", id, uid);
	if (append_line(j, &sb, err) < 0) {
		strbuf_release(&sb);
		return -1;
	}
	strbuf_release(&sb);
	entry_release(&j->ents[i]);
	memmove(&j->ents[i], &j->ents[i + 1],
		(j->nr - i - 1) * sizeof(*j->ents));
	j->nr--;
	return 0;
}

const struct status_journal_entry *
status_journal_pending(const struct status_journal *j, size_t *n_r)
{
	*n_r = j->nr;
	return j->nr ? j->ents : NULL;
}

int status_journal_clear(struct status_journal *j, struct oim_err *err)
{
	bool nofsync = j->flags & STATUS_OPEN_NOFSYNC;
	struct strbuf sb = STRBUF_INIT;
	int ret;

	if (j->flags & STATUS_OPEN_READONLY)
		BUG("journal %s: clear in read-only mode", j->path);
	if (j->fd >= 0) {
		close(j->fd);
		j->fd = -1;
	}
	if (!j->nr) {
		if (unlink(j->path) < 0) {
			if (errno != ENOENT)
				return io_err(j, "remove", err);
			return 0; /* nothing was there: nothing to make durable */
		}
		return nofsync ? 0 : status_fsync_dir_of(j->path, err);
	}
	strbuf_addstr(&sb, JOURNAL_MAGIC "\n");
	for (size_t i = 0; i < j->nr; i++) {
		const struct status_journal_entry *e = &j->ents[i];

		strbuf_addf(&sb, "I %" PRIu64 " %" PRIu64 " %" PRId64 " ",
			    e->id, e->size, e->internal_date);
		escape(&sb, e->local_name);
		strbuf_addch(&sb, ' ');
		escape(&sb, e->message_id);
		strbuf_addch(&sb, '\n');
	}
	ret = status_write_file_atomic(j->path, sb.buf, sb.len, nofsync, err);
	strbuf_release(&sb);
	return ret;
}

struct status_journal_entry *
status_journal_pending_copy(const struct status_journal *j, size_t *n_r)
{
	size_t n = 0;
	const struct status_journal_entry *pend = status_journal_pending(j, &n);
	struct status_journal_entry *v;

	*n_r = n;
	if (!n)
		return NULL;
	v = xcalloc(n, sizeof(*v));
	for (size_t i = 0; i < n; i++) {
		v[i] = pend[i];
		v[i].local_name = xstrdup(pend[i].local_name);
		v[i].message_id = xstrdup(pend[i].message_id);
	}
	return v;
}

void status_journal_entries_free(struct status_journal_entry *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		entry_release(&v[i]);
	free(v);
}
