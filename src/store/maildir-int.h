/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * maildir-int.h - private to src/store/maildir*.c.
 */
#ifndef OIMAP_STORE_MAILDIR_INT_H
#define OIMAP_STORE_MAILDIR_INT_H

#include "maildir.h"

#include <time.h>

struct maildir_repo {
	char *root;
	char sep;
	char infosep; /* ':' or '!' */
	bool fsync;
	bool filename_use_mail_timestamp;
	bool utime_from_header;
	bool restoreatime;
};

struct maildir_folder {
	struct maildir_repo *repo; /* borrowed */
	char *name;
	char *path; /* root/name, for messages */
	char fmd5[MAILDIR_FMD5_LEN + 1];
	char fmd5_field[6 + MAILDIR_FMD5_LEN + 1]; /* ",FMD5=<md5>" */
	int dfd, curfd, newfd, tmpfd;
	bool have_atimes;
	struct timespec cur_atime, new_atime;
};

/* "cur/x" or "new/x" -> directory fd and base name; -1 if malformed. */
int maildir_split_name(struct maildir_folder *f, const char *name, int *dfd_r,
		       const char **base_r, struct oim_err *err);

/* renameat2(RENAME_NOREPLACE), with link+unlink where the file system
 * lacks it.  errno EEXIST when the target exists. */
int maildir_rename_noreplace(int ofd, const char *old, int nfd,
			     const char *new_name);

/* Fill err with OIM_E_IO "<what> <folder path>/<rel>: strerror(errno)". */
int maildir_io_error(struct maildir_folder *f, struct oim_err *err,
		     const char *what, const char *rel);

/* Value of the first header 'field' in the header block hdr[0..len),
 * unfolded, into val.  Returns false if absent. */
bool maildir_header_get(const char *hdr, size_t len, const char *field,
			struct strbuf *val);

/* maildir-labels.c: the header section hdr[0..end) (without its blank
 * line) with every field named 'header' dropped and "<header>: <labels>"
 * appended, lines ending in nl, appended to out. */
struct labelset;
void maildir_labels_header(const char *hdr, size_t end, const char *header,
			   const struct labelset *labels, const char *nl,
			   struct strbuf *out);

#endif
