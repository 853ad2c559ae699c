/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * maildir-labels.c - the labels header of Maildir messages
 * (maildir-labels.h).
 */
#include "maildir-labels.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "maildir-int.h"

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

#define LABELS_CHUNK (64u * 1024)

static int read_all(int fd, void *buf, size_t cap, size_t *len_r)
{
	for (;;) {
		ssize_t n = read(fd, buf, cap);
		if (n >= 0) {
			*len_r = (size_t)n;
			return 0;
		}
		if (errno != EINTR)
			return -1;
	}
}

/*
 * Read the header section of fd into buf (with whatever of the body came
 * along).  *end_r: offset of the blank line ending it (buf->len when the
 * file has none); *crlf_r: that line is "\r\n".
 */
static int read_head(struct maildir_folder *f, const char *name, int fd,
		     struct strbuf *buf, size_t *end_r, bool *crlf_r,
		     struct oim_err *err)
{
	size_t scan = 0; /* start of the first line not yet looked at */
	bool eof = false;

	*crlf_r = false;
	for (;;) {
		/* whole lines only, unless the file ended */
		while (scan < buf->len) {
			const char *nl =
			    memchr(buf->buf + scan, '\n', buf->len - scan);
			size_t ll;
			if (!nl && !eof)
				break;
			ll = nl ? (size_t)(nl - (buf->buf + scan))
				: buf->len - scan;
			if (nl &&
			    (ll == 0 || (ll == 1 && buf->buf[scan] == '\r'))) {
				*end_r = scan;
				*crlf_r = ll == 1;
				return 0;
			}
			scan += nl ? ll + 1 : ll;
		}
		if (eof) {
			*end_r = buf->len;
			return 0;
		}
		if (buf->len > MAILDIR_MAX_HEADER)
			return oim_error(err, OIM_SEV_MESSAGE, OIM_E_LIMIT,
					 "%s/%s: header section longer than "
					 "%u bytes: labels not read",
					 f->path, name, MAILDIR_MAX_HEADER);
		size_t n;
		strbuf_grow(buf, LABELS_CHUNK);
		if (read_all(fd, buf->buf + buf->len, LABELS_CHUNK, &n) < 0)
			return maildir_io_error(f, err, "cannot read", name);
		strbuf_setlen(buf, buf->len + n);
		eof = n == 0;
	}
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/*
 * One RFC 2047 encoded word "=?charset?q|b?text?=" at p[0..len): its
 * decoded bytes (UTF-8; ISO-8859-1 converted) appended to out.  Returns
 * its length, 0 when p does not start one we can decode.
 */
static size_t encoded_word(const char *p, size_t len, struct strbuf *out)
{
	const char *cs, *q1, *q2, *end;
	size_t cslen, start = out->len;
	bool latin1;
	char enc;

	if (len < 8 || p[0] != '=' || p[1] != '?')
		return 0;
	cs = p + 2;
	q1 = memchr(cs, '?', len - 2);
	if (!q1 || (size_t)(q1 - p) + 4 > len || q1[2] != '?')
		return 0;
	cslen = (size_t)(q1 - cs);
	/* RFC 2231 language suffix: utf-8*en */
	for (size_t i = 0; i < cslen; i++)
		if (cs[i] == '*')
			cslen = i;
	enc = q1[1];
	q2 = q1 + 3;
	end = NULL;
	for (const char *x = q2; x + 1 < p + len; x++)
		if (x[0] == '?' && x[1] == '=') {
			end = x;
			break;
		}
	if (!end)
		return 0;
	if ((cslen == 5 && !oim_strncasecmp(cs, "utf-8", 5)) ||
	    (cslen == 8 && !oim_strncasecmp(cs, "us-ascii", 8)))
		latin1 = false;
	else if ((cslen == 10 && !oim_strncasecmp(cs, "iso-8859-1", 10)) ||
		 (cslen == 7 && !oim_strncasecmp(cs, "latin-1", 7)))
		latin1 = true;
	else
		return 0;
	if (enc == 'q' || enc == 'Q') {
		for (const char *x = q2; x < end; x++) {
			int c = (unsigned char)*x;
			if (c == '_') {
				c = ' ';
			} else if (c == '=' && x + 2 < end &&
				   hexval(x[1]) >= 0 && hexval(x[2]) >= 0) {
				c = hexval(x[1]) * 16 + hexval(x[2]);
				x += 2;
			}
			if (latin1 && c >= 0x80) {
				strbuf_addch(out, 0xc0 | (c >> 6));
				strbuf_addch(out, 0x80 | (c & 0x3f));
			} else {
				strbuf_addch(out, c);
			}
		}
	} else if (enc == 'b' || enc == 'B') {
		unsigned acc = 0;
		int bits = 0;
		for (const char *x = q2; x < end && *x != '='; x++) {
			int v = b64val((unsigned char)*x);
			if (v < 0) {
				strbuf_setlen(out, start);
				return 0;
			}
			acc = (acc << 6) | (unsigned)v;
			bits += 6;
			if (bits >= 8) {
				int c = (int)((acc >> (bits - 8)) & 0xff);
				bits -= 8;
				if (latin1 && c >= 0x80) {
					strbuf_addch(out, 0xc0 | (c >> 6));
					strbuf_addch(out, 0x80 | (c & 0x3f));
				} else {
					strbuf_addch(out, c);
				}
			}
		}
	} else {
		return 0;
	}
	return (size_t)(end + 2 - p);
}

/*
 * Decode the encoded words of an unfolded value, as Python's email
 * package does when it reads a header OfflineIMAP folded: blanks between
 * two encoded words go, everything else stays.
 */
static void decode_words(const char *v, size_t len, struct strbuf *out)
{
	bool after_word = false;
	size_t i = 0;

	while (i < len) {
		size_t j = i, n, mark;
		while (j < len && (v[j] == ' ' || v[j] == '\t'))
			j++;
		mark = out->len;
		if (!after_word)
			strbuf_add(out, v + i, j - i);
		n = j < len ? encoded_word(v + j, len - j, out) : 0;
		if (n) {
			i = j + n;
			after_word = true;
			continue;
		}
		if (after_word) {
			strbuf_setlen(out, mark);
			strbuf_add(out, v + i, j - i);
		}
		after_word = false;
		if (j < len)
			strbuf_addch(out, v[j]);
		i = j + 1;
	}
}

/* Is the field starting at line p (len bytes up to its line end) named
 * 'header'?  *value_r: where its value starts. */
static bool field_is(const char *p, size_t len, const char *header,
		     size_t *value_r)
{
	size_t hl = strlen(header), k;
	if (len <= hl || oim_strncasecmp(p, header, hl))
		return false;
	k = hl;
	while (k < len && (p[k] == ' ' || p[k] == '\t'))
		k++;
	if (k >= len || p[k] != ':')
		return false;
	*value_r = k + 1;
	return true;
}

/*
 * Walk the fields of hdr[0..end): for each line, cb(is_ours, line,
 * line_len_with_eol, value_off) where is_ours tells whether the line
 * belongs to a 'header' field (first or continuation line).
 */
struct walk {
	const char *header;
	struct labelset *labels; /* read: parse values into this */
	struct strbuf *out;	 /* write: keep the other lines */
	char sep;
};

static void add_value(struct walk *w, const struct strbuf *val)
{
	struct strbuf d = STRBUF_INIT;
	decode_words(val->buf, val->len, &d);
	labelset_parse(w->labels, d.buf, w->sep);
	strbuf_release(&d);
}

static void walk_fields(const char *hdr, size_t end, struct walk *w)
{
	size_t i = 0;
	bool ours = false;
	struct strbuf val = STRBUF_INIT;

	while (i < end) {
		const char *nl = memchr(hdr + i, '\n', end - i);
		size_t ll = nl ? (size_t)(nl - (hdr + i)) + 1 : end - i;
		size_t voff = 0;
		bool cont = hdr[i] == ' ' || hdr[i] == '\t';

		if (!cont) {
			if (ours && w->labels)
				add_value(w, &val);
			strbuf_reset(&val);
			ours = field_is(hdr + i, ll, w->header, &voff);
		}
		if (ours && w->labels) {
			/* unfolded: line ends dropped (Python splitlines) */
			for (size_t k = i + voff; k < i + ll; k++)
				if (hdr[k] != '\r' && hdr[k] != '\n')
					strbuf_addch(&val, hdr[k]);
		}
		if (!ours && w->out)
			strbuf_add(w->out, hdr + i, ll);
		i += ll;
	}
	if (ours && w->labels)
		add_value(w, &val);
	strbuf_release(&val);
}

static int open_msg(struct maildir_folder *f, const char *name, int *dfd_r,
		    const char **base_r, struct stat *st, struct oim_err *err)
{
	int fd;
	if (maildir_split_name(f, name, dfd_r, base_r, err) < 0)
		return -1;
	fd = openat(*dfd_r, *base_r, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		maildir_io_error(f, err, "cannot open", name);
		if (errno == ENOENT)
			err->sev = OIM_SEV_MESSAGE;
		return -1;
	}
	if (fstat(fd, st) < 0) {
		maildir_io_error(f, err, "cannot stat", name);
		close(fd);
		return -1;
	}
	return fd;
}

void maildir_labels_header(const char *hdr, size_t end, const char *header,
			   const struct labelset *labels, const char *nl,
			   struct strbuf *out)
{
	struct walk w = {header, NULL, out, 0};
	size_t start = out->len;

	walk_fields(hdr, end, &w);
	if (out->len > start && out->buf[out->len - 1] != '\n')
		strbuf_addstr(out, nl);
	strbuf_addf(out, "%s:", header);
	if (labels->nr) {
		char sep[2] = {labels_header_sep(header), '\0'};
		strbuf_addch(out, ' ');
		labelset_format(labels, sep, out);
	}
	strbuf_addstr(out, nl);
}

int maildir_msg_labels_read(struct maildir_folder *f, const char *name,
			    const char *header, struct labelset *out,
			    int64_t *mtime_r, struct oim_err *err)
{
	struct strbuf buf = STRBUF_INIT;
	struct stat st;
	const char *base;
	int dfd, fd, ret;
	size_t end;
	bool crlf;

	fd = open_msg(f, name, &dfd, &base, &st, err);
	if (fd < 0)
		return -1;
	if (mtime_r)
		*mtime_r = (int64_t)st.st_mtime;
	ret = read_head(f, name, fd, &buf, &end, &crlf, err);
	if (!ret) {
		struct walk w = {header, out, NULL, labels_header_sep(header)};
		walk_fields(buf.buf, end, &w);
	}
	close(fd);
	strbuf_release(&buf);
	return ret;
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int maildir_msg_labels_write(struct maildir_folder *f, const char *name,
			     const char *header, const struct labelset *labels,
			     int64_t *mtime_r, struct oim_err *err)
{
	struct strbuf buf = STRBUF_INIT, out = STRBUF_INIT, tmp = STRBUF_INIT,
		      rel = STRBUF_INIT;
	struct stat st;
	const char *base;
	int dfd, fd, tfd = -1, ret = -1;
	size_t end;
	bool crlf, tmp_made = false;
	char *chunk = NULL;

	fd = open_msg(f, name, &dfd, &base, &st, err);
	if (fd < 0)
		return -1;
	if (read_head(f, name, fd, &buf, &end, &crlf, err) < 0)
		goto out;

	maildir_labels_header(buf.buf, end, header, labels,
			      crlf ? "\r\n" : "\n", &out);

	for (int tries = 0; tries < 100; tries++) {
		strbuf_reset(&tmp);
		maildir_folder_new_name(f, -1, 0, 0, &tmp);
		strbuf_addstr(&tmp, ".labels");
		tfd = openat(f->tmpfd, tmp.buf,
			     O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (tfd >= 0 || errno != EEXIST)
			break;
	}
	strbuf_addf(&rel, "tmp/%s", tmp.buf);
	if (tfd < 0) {
		maildir_io_error(f, err, "cannot create", rel.buf);
		goto out;
	}
	tmp_made = true;
	/* the same permissions as the message */
	(void)fchmod(tfd, st.st_mode & 07777);
	if (write_all(tfd, out.buf, out.len) < 0 ||
	    write_all(tfd, buf.buf + end, buf.len - end) < 0) {
		maildir_io_error(f, err, "cannot write", rel.buf);
		goto out;
	}
	chunk = xmalloc(LABELS_CHUNK);
	for (;;) {
		size_t n;
		if (read_all(fd, chunk, LABELS_CHUNK, &n) < 0) {
			maildir_io_error(f, err, "cannot read", name);
			goto out;
		}
		if (!n)
			break;
		if (write_all(tfd, chunk, n) < 0) {
			maildir_io_error(f, err, "cannot write", rel.buf);
			goto out;
		}
	}
	if (f->repo->utime_from_header) {
		struct timespec ts[2] = {st.st_atim, st.st_mtim};
		if (futimens(tfd, ts) < 0) {
			maildir_io_error(f, err, "cannot set the time of",
					 rel.buf);
			goto out;
		}
	}
	if (f->repo->fsync && fsync(tfd) < 0) {
		maildir_io_error(f, err, "cannot fsync", rel.buf);
		goto out;
	}
	if (fstat(tfd, &st) < 0) {
		maildir_io_error(f, err, "cannot stat", rel.buf);
		goto out;
	}
	/* Swap: the name keeps pointing at a whole message throughout. */
	if (renameat2(f->tmpfd, tmp.buf, dfd, base, RENAME_EXCHANGE) < 0) {
		if (errno == ENOENT) {
			oim_error(err, OIM_SEV_MESSAGE, OIM_E_IO,
				  "%s/%s: renamed or removed while its labels "
				  "were written; not changed",
				  f->path, name);
			goto out;
		}
		if (errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP) {
			maildir_io_error(f, err, "cannot replace", name);
			goto out;
		}
		/* no RENAME_EXCHANGE here: OfflineIMAP's os.rename() */
		if (faccessat(dfd, base, F_OK, 0) < 0 ||
		    renameat(f->tmpfd, tmp.buf, dfd, base) < 0) {
			maildir_io_error(f, err, "cannot replace", name);
			goto out;
		}
		tmp_made = false;
	}
	if (f->repo->fsync && fsync(dfd) < 0 && errno != EINVAL) {
		maildir_io_error(f, err, "cannot fsync the directory of", name);
		goto out;
	}
	if (mtime_r)
		*mtime_r = (int64_t)st.st_mtime;
	ret = 0;
out:
	/* after the exchange this is the old content */
	if (tmp_made)
		unlinkat(f->tmpfd, tmp.buf, 0);
	if (tfd >= 0)
		close(tfd);
	close(fd);
	free(chunk);
	strbuf_release(&buf);
	strbuf_release(&out);
	strbuf_release(&tmp);
	strbuf_release(&rel);
	return ret;
}
