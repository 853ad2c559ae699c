/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * maildir_io.c - message content: streamed delivery through tmp/, streamed
 * reading with LF -> CRLF, header lookups.  Memory is bounded by
 * MAILDIR_IO_BUF and MAILDIR_MAX_HEADER whatever the message size.
 *
 * Crash safety (DESIGN.md "Never lose mail"): the file is complete (and
 * fsynced with fsync on) before it is renamed into cur/ or new/ under a
 * name that already holds its UID, and the rename never replaces an
 * existing file.  A crash before the rename leaves only a tmp/ file, which
 * no scan reads; a crash after it leaves a file the next scan knows by UID.
 */
#include "maildir-int.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../util/log.h"
#include "maildir-labels.h"

#define MAILDIR_IO_BUF (64u * 1024)

/* ---- headers ---- */

bool maildir_header_get(const char *hdr, size_t len, const char *field,
			struct strbuf *val)
{
	size_t flen = strlen(field);
	size_t i = 0;

	strbuf_reset(val);
	while (i < len) {
		size_t eol = i;
		while (eol < len && hdr[eol] != '\n')
			eol++;
		size_t ll = eol - i;
		if (ll == 0 || (ll == 1 && hdr[i] == '\r'))
			return false; /* end of the header section */
		if (ll > flen && hdr[i] != ' ' && hdr[i] != '\t' &&
		    !oim_strncasecmp(hdr + i, field, flen)) {
			/* "Name:" possibly with blanks before the colon */
			size_t k = i + flen;
			while (k < eol && (hdr[k] == ' ' || hdr[k] == '\t'))
				k++;
			if (k < eol && hdr[k] == ':') {
				k++;
				for (;;) {
					/* unfold: drop the line ends */
					for (; k < eol; k++)
						if (hdr[k] != '\r')
							strbuf_addch(val,
								     hdr[k]);
					if (eol + 1 >= len ||
					    (hdr[eol + 1] != ' ' &&
					     hdr[eol + 1] != '\t'))
						break;
					k = eol + 1;
					eol = k;
					while (eol < len && hdr[eol] != '\n')
						eol++;
				}
				strbuf_trim(val);
				return true;
			}
		}
		i = eol + 1;
	}
	return false;
}

/* Date (else Delivery-date, as savemessage) of a header block. */
static bool header_date(const char *hdr, size_t len, bool delivery_too,
			int64_t *t_r)
{
	struct strbuf v = STRBUF_INIT;
	bool ok = false;

	if (maildir_header_get(hdr, len, "Date", &v) &&
	    !maildir_parse_date(v.buf, v.len, t_r))
		ok = true;
	if (!ok && delivery_too &&
	    maildir_header_get(hdr, len, "Delivery-date", &v) &&
	    !maildir_parse_date(v.buf, v.len, t_r))
		ok = true;
	strbuf_release(&v);
	return ok;
}

/* ---- delivery ---- */

struct maildir_delivery {
	struct maildir_folder *f;
	uint32_t uid;
	maildir_flags_t flags;
	int fd;
	struct strbuf tmpname; /* base name in tmp/ */
	bool pending_cr;       /* a CR ended the last chunk */
	bool want_hdr;	       /* Date: needed at commit */
	bool hdr_done;
	struct strbuf hdr; /* the header section, up to MAILDIR_MAX_HEADER */
	/* synclabels (maildir_delivery_labels): the labels header replaced
	 * in the header section, which is held back in rw until complete */
	char *rw_header;
	struct labelset rw_labels;
	bool rw_done;
	struct strbuf rw;
	size_t outlen;
	char out[MAILDIR_IO_BUF];
};

int maildir_delivery_begin(struct maildir_folder *f, uint32_t uid,
			   maildir_flags_t flags, struct maildir_delivery **d_r,
			   struct oim_err *err)
{
	struct maildir_delivery *d;

	*d_r = NULL;
	if (!uid)
		BUG("maildir_delivery_begin with UID 0");
	d = xcalloc(1, sizeof(*d));
	d->f = f;
	d->uid = uid;
	d->flags = flags;
	d->fd = -1;
	strbuf_init(&d->tmpname, 128);
	strbuf_init(&d->hdr, 0);
	d->want_hdr =
	    f->repo->filename_use_mail_timestamp || f->repo->utime_from_header;
	for (int tries = 0; tries < 100; tries++) {
		strbuf_reset(&d->tmpname);
		maildir_folder_new_name(f, -1, uid, flags, &d->tmpname);
		/* mode 0666 & ~umask, O_EXCL: as save_to_tmp_file() */
		d->fd = openat(f->tmpfd, d->tmpname.buf,
			       O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (d->fd >= 0 || errno != EEXIST)
			break;
	}
	if (d->fd < 0) {
		struct strbuf rel = STRBUF_INIT;
		strbuf_addf(&rel, "tmp/%s", d->tmpname.buf);
		maildir_io_error(f, err, "cannot create", rel.buf);
		strbuf_release(&rel);
		strbuf_release(&d->tmpname);
		strbuf_release(&d->hdr);
		free(d);
		return -1;
	}
	log_debug(OIM_DBG_MAILDIR, "maildir: writing UID %lu to %s/tmp/%s",
		  (unsigned long)uid, f->path, d->tmpname.buf);
	*d_r = d;
	return 0;
}

static int tmp_error(struct maildir_delivery *d, struct oim_err *err,
		     const char *what)
{
	struct strbuf rel = STRBUF_INIT;
	strbuf_addf(&rel, "tmp/%s", d->tmpname.buf);
	maildir_io_error(d->f, err, what, rel.buf);
	strbuf_release(&rel);
	return -1;
}

static int flush_out(struct maildir_delivery *d, struct oim_err *err)
{
	size_t off = 0;
	while (off < d->outlen) {
		ssize_t n = write(d->fd, d->out + off, d->outlen - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return tmp_error(d, err, "cannot write");
		}
		off += (size_t)n;
	}
	d->outlen = 0;
	return 0;
}

static void capture(struct maildir_delivery *d, const char *p, size_t n)
{
	for (size_t i = 0; i < n && !d->hdr_done; i++) {
		strbuf_addch(&d->hdr, p[i]);
		if (p[i] == '\n' &&
		    (d->hdr.len == 1 || d->hdr.buf[d->hdr.len - 2] == '\n'))
			d->hdr_done = true;
		else if (d->hdr.len >= MAILDIR_MAX_HEADER)
			d->hdr_done = true; /* use what we have */
	}
}

static int emit_raw(struct maildir_delivery *d, const char *p, size_t n,
		    struct oim_err *err)
{
	if (d->want_hdr && !d->hdr_done)
		capture(d, p, n);
	while (n) {
		size_t room = sizeof(d->out) - d->outlen;
		size_t k = n < room ? n : room;
		memcpy(d->out + d->outlen, p, k);
		d->outlen += k;
		p += k;
		n -= k;
		if (d->outlen == sizeof(d->out) && flush_out(d, err) < 0)
			return -1;
	}
	return 0;
}

void maildir_delivery_labels(struct maildir_delivery *d, const char *header,
			     const struct labelset *labels)
{
	free(d->rw_header);
	labelset_release(&d->rw_labels);
	d->rw_header = xstrdup(header);
	labelset_union(&d->rw_labels, labels);
	d->rw_done = false;
	strbuf_init(&d->rw, 0);
}

/* The held-back header section rewritten (complete: up to hdr_end),
 * then what followed it. */
static int rw_flush(struct maildir_delivery *d, size_t hdr_end,
		    struct oim_err *err)
{
	struct strbuf out = STRBUF_INIT;
	int rc;

	d->rw_done = true;
	maildir_labels_header(d->rw.buf, hdr_end, d->rw_header, &d->rw_labels,
			      "\n", &out);
	rc = emit_raw(d, out.buf, out.len, err);
	if (!rc)
		rc = emit_raw(d, d->rw.buf + hdr_end, d->rw.len - hdr_end, err);
	strbuf_release(&out);
	strbuf_release(&d->rw);
	return rc;
}

/* LF text after the CRLF conversion; the header section ends at the
 * first empty line. */
static int emit(struct maildir_delivery *d, const char *p, size_t n,
		struct oim_err *err)
{
	size_t from;

	if (!d->rw_header || d->rw_done)
		return emit_raw(d, p, n, err);
	from = d->rw.len ? d->rw.len - 1 : 0;
	strbuf_add(&d->rw, p, n);
	if (d->rw.len && d->rw.buf[0] == '\n')
		return rw_flush(d, 0, err);
	for (size_t i = from; i + 1 < d->rw.len; i++)
		if (d->rw.buf[i] == '\n' && d->rw.buf[i + 1] == '\n')
			return rw_flush(d, i + 1, err);
	if (d->rw.len > MAILDIR_MAX_HEADER) {
		/* too long to be a header we can edit: as it came */
		d->rw_done = true;
		int rc = emit_raw(d, d->rw.buf, d->rw.len, err);
		strbuf_release(&d->rw);
		return rc;
	}
	return 0;
}

int maildir_delivery_write(struct maildir_delivery *d, const void *buf,
			   size_t len, struct oim_err *err)
{
	const char *p = buf, *end = p + len;

	/* CRLF -> LF.  A CR that ends a chunk waits for the next one. */
	if (d->pending_cr && len) {
		d->pending_cr = false;
		if (*p != '\n' && emit(d, "\r", 1, err) < 0)
			return -1;
	}
	while (p < end) {
		const char *cr = memchr(p, '\r', (size_t)(end - p));
		if (!cr)
			return emit(d, p, (size_t)(end - p), err);
		if (emit(d, p, (size_t)(cr - p), err) < 0)
			return -1;
		p = cr + 1;
		if (p == end) {
			d->pending_cr = true;
			break;
		}
		if (*p != '\n' && emit(d, "\r", 1, err) < 0)
			return -1; /* lone CR: kept */
	}
	return 0;
}

static void delivery_free(struct maildir_delivery *d, bool unlink_tmp)
{
	if (d->fd >= 0)
		close(d->fd);
	if (unlink_tmp)
		unlinkat(d->f->tmpfd, d->tmpname.buf, 0);
	strbuf_release(&d->tmpname);
	strbuf_release(&d->hdr);
	free(d->rw_header);
	labelset_release(&d->rw_labels);
	strbuf_release(&d->rw);
	free(d);
}

void maildir_delivery_abort(struct maildir_delivery *d)
{
	if (!d)
		return;
	log_debug(OIM_DBG_MAILDIR, "maildir: aborted tmp/%s", d->tmpname.buf);
	delivery_free(d, true);
}

int maildir_delivery_commit(struct maildir_delivery *d, char **name_r,
			    struct oim_err *err)
{
	struct maildir_folder *f = d->f;
	struct strbuf final = STRBUF_INIT;
	bool seen = d->flags & MAILDIR_FLAG_SEEN;
	int dfd = seen ? f->curfd : f->newfd;
	int64_t date = -1, name_time = -1;
	int fd;

	*name_r = NULL;
	if (d->pending_cr) {
		d->pending_cr = false;
		if (emit(d, "\r", 1, err) < 0)
			goto fail;
	}
	/* a message that is all header: the field goes at its end */
	if (d->rw_header && !d->rw_done && rw_flush(d, d->rw.len, err) < 0)
		goto fail;
	if (flush_out(d, err) < 0)
		goto fail;

	if (f->repo->filename_use_mail_timestamp &&
	    header_date(d->hdr.buf, d->hdr.len, true, &date) && date >= 0)
		name_time = date;
	if (f->repo->utime_from_header &&
	    header_date(d->hdr.buf, d->hdr.len, false, &date) && date >= 0) {
		struct timespec ts[2] = {{.tv_sec = (time_t)date},
					 {.tv_sec = (time_t)date}};
		if (futimens(d->fd, ts) < 0)
			log_warn("maildir: UID %lu: cannot set the file time "
				 "from Date: %s",
				 (unsigned long)d->uid, strerror(errno));
	}
	if (f->repo->fsync && fsync(d->fd) < 0) {
		tmp_error(d, err, "cannot fsync");
		goto fail;
	}
	fd = d->fd;
	d->fd = -1;
	if (close(fd) < 0) {
		tmp_error(d, err, "cannot close");
		goto fail;
	}

	for (int tries = 0;; tries++) {
		strbuf_reset(&final);
		strbuf_addstr(&final, seen ? "cur/" : "new/");
		if (tries == 0 && name_time < 0)
			strbuf_add(&final, d->tmpname.buf, d->tmpname.len);
		else
			maildir_folder_new_name(f, name_time, d->uid, d->flags,
						&final);
		if (!maildir_rename_noreplace(f->tmpfd, d->tmpname.buf, dfd,
					      final.buf + 4))
			break;
		if (errno != EEXIST || tries >= 100) {
			int e = errno;
			oim_error(err, OIM_SEV_FOLDER, OIM_E_IO,
				  "cannot rename %s/tmp/%s to %s: %s", f->path,
				  d->tmpname.buf, final.buf, strerror(e));
			goto fail;
		}
	}
	if (f->repo->fsync && fsync(dfd) < 0 && errno != EINVAL) {
		/* The file is in place; only its durability is in doubt.
		 * Report it so the status cache is not updated. */
		maildir_io_error(f, err, "cannot fsync", seen ? "cur" : "new");
		strbuf_release(&final);
		delivery_free(d, false);
		return -1;
	}
	log_debug(OIM_DBG_MAILDIR, "maildir: delivered UID %lu as %s/%s",
		  (unsigned long)d->uid, f->path, final.buf);
	*name_r = strbuf_detach(&final, NULL);
	delivery_free(d, false);
	return 0;
fail:
	strbuf_release(&final);
	delivery_free(d, true);
	return -1;
}

/* ---- reading ---- */

struct maildir_reader {
	int fd;
	bool crlf;
	bool prev_cr;
	bool pending_lf;
	bool eof;
	char *rel;
	struct maildir_folder *f;
	size_t in_off, in_len;
	char in[MAILDIR_IO_BUF];
};

static int open_msg(struct maildir_folder *f, const char *name,
		    struct oim_err *err)
{
	const char *base;
	int dfd, fd;

	if (maildir_split_name(f, name, &dfd, &base, err) < 0)
		return -1;
	fd = openat(dfd, base, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		maildir_io_error(f, err, "cannot open", name);
		if (errno == ENOENT)
			err->sev = OIM_SEV_MESSAGE;
	}
	return fd;
}

int maildir_reader_open(struct maildir_folder *f, const char *name, bool crlf,
			struct maildir_reader **r_r, struct oim_err *err)
{
	struct maildir_reader *r;
	int fd = open_msg(f, name, err);

	*r_r = NULL;
	if (fd < 0)
		return -1;
	r = xcalloc(1, sizeof(*r));
	r->fd = fd;
	r->crlf = crlf;
	r->f = f;
	r->rel = xstrdup(name);
	*r_r = r;
	return 0;
}

static int fill(struct maildir_reader *r, struct oim_err *err)
{
	ssize_t n;
	do
		n = read(r->fd, r->in, sizeof(r->in));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return maildir_io_error(r->f, err, "cannot read", r->rel);
	r->in_off = 0;
	r->in_len = (size_t)n;
	if (!n)
		r->eof = true;
	return 0;
}

int maildir_reader_read(struct maildir_reader *r, void *buf, size_t cap,
			size_t *len_r, struct oim_err *err)
{
	char *out = buf;
	size_t o = 0;

	*len_r = 0;
	while (o < cap) {
		if (r->pending_lf) {
			out[o++] = '\n';
			r->pending_lf = false;
			continue;
		}
		if (r->in_off == r->in_len) {
			if (r->eof)
				break;
			if (fill(r, err) < 0)
				return -1;
			if (r->eof)
				break;
		}
		if (!r->crlf) {
			size_t k = r->in_len - r->in_off;
			if (k > cap - o)
				k = cap - o;
			memcpy(out + o, r->in + r->in_off, k);
			o += k;
			r->in_off += k;
			continue;
		}
		char c = r->in[r->in_off++];
		if (c == '\n' && !r->prev_cr) {
			out[o++] = '\r';
			r->pending_lf = true;
		} else {
			out[o++] = c;
		}
		r->prev_cr = c == '\r';
	}
	*len_r = o;
	return 0;
}

void maildir_reader_free(struct maildir_reader *r)
{
	if (!r)
		return;
	close(r->fd);
	free(r->rel);
	free(r);
}

int maildir_msg_crlf_size(struct maildir_folder *f, const char *name,
			  uint64_t *size_r, struct oim_err *err)
{
	struct maildir_reader *r;
	uint64_t size = 0;
	bool prev_cr = false;

	if (maildir_reader_open(f, name, false, &r, err) < 0)
		return -1;
	for (;;) {
		if (fill(r, err) < 0) {
			maildir_reader_free(r);
			return -1;
		}
		if (r->eof)
			break;
		size += r->in_len;
		for (size_t i = 0; i < r->in_len; i++) {
			char c = r->in[i];
			if (c == '\n' && !prev_cr)
				size++;
			prev_cr = c == '\r';
		}
	}
	maildir_reader_free(r);
	*size_r = size;
	return 0;
}

/* ---- info ---- */

void maildir_msg_info_release(struct maildir_msg_info *info)
{
	free(info->message_id);
	memset(info, 0, sizeof(*info));
}

int maildir_msg_info(struct maildir_folder *f, const char *name,
		     struct maildir_msg_info *info, struct oim_err *err)
{
	struct strbuf hdr = STRBUF_INIT, v = STRBUF_INIT;
	struct stat st;
	char buf[8192];
	int fd = open_msg(f, name, err);

	memset(info, 0, sizeof(*info));
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0) {
		maildir_io_error(f, err, "cannot stat", name);
		close(fd);
		return -1;
	}
	info->size = (uint64_t)st.st_size;
	info->mtime = (int64_t)st.st_mtime;
	/* Read until the blank line that ends the header, never the body
	 * beyond the buffer that holds it. */
	while (hdr.len < MAILDIR_MAX_HEADER) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			maildir_io_error(f, err, "cannot read", name);
			close(fd);
			strbuf_release(&hdr);
			return -1;
		}
		if (n == 0)
			break;
		size_t old = hdr.len;
		strbuf_add(&hdr, buf, (size_t)n);
		size_t from = old > 2 ? old - 2 : 0;
		if ((hdr.len && hdr.buf[0] == '\n') ||
		    memmem(hdr.buf + from, hdr.len - from, "\n\n", 2) ||
		    memmem(hdr.buf + (old > 3 ? old - 3 : 0),
			   hdr.len - (old > 3 ? old - 3 : 0), "\n\r\n", 3))
			break;
	}
	close(fd);
	int64_t t;
	if (header_date(hdr.buf, hdr.len, false, &t)) {
		info->has_date = true;
		info->date = t;
	}
	if (maildir_header_get(hdr.buf, hdr.len, "Message-ID", &v) && v.len)
		info->message_id = strbuf_detach(&v, NULL);
	strbuf_release(&v);
	strbuf_release(&hdr);
	return 0;
}
