/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * status-int.h - internals shared by the status module's .c files.
 * Nothing outside src/status/ includes this.
 */
#ifndef OIMAP_STATUS_INT_H
#define OIMAP_STATUS_INT_H

#include <sqlite3.h>

#include "status.h"

struct status {
	enum status_backend backend;
	unsigned flags;
	char *path; /* the cache file */
	bool is_new;
	bool readonly; /* STATUS_OPEN_READONLY or parsed from memory */
	int depth;     /* begin/commit nesting */
	bool dirty;    /* plain: changed since the file was written */

	/* Records, dense, in no order; 'slots' is an open-addressing hash
	 * from uid to index + 1 (0 = empty), power-of-two sized. */
	struct status_rec *recs;
	size_t nr, alloc;
	uint32_t *slots;
	size_t nslots;

	/* oimap's own values (status_meta_get/set), unprefixed keys */
	struct status_meta {
		char *key, *value;
	} * meta;
	size_t nmeta, ameta;
	bool meta_dirty; /* plain: sidecar to be written */
	char *meta_path; /* plain: <account>/oimap-meta/<basename> */

	/* sqlite backend */
	sqlite3 *db;
	sqlite3_stmt *put, *del, *mput;
	bool in_txn;
};

/* Meta table in memory (status.c); takes copies. */
void status_meta_put(struct status *st, const char *key, const char *value);

/* Record table (status.c). */
struct status *status_alloc(enum status_backend backend, const char *path,
			    unsigned flags);
/* Insert or replace; takes ownership of labels (NULL ok). */
struct status_rec *status_table_put(struct status *st, uint32_t uid,
				    const char *flags, int64_t mtime,
				    char *labels);
void status_table_del(struct status *st, uint32_t uid);
/* Free records and hash; the object stays usable and empty. */
void status_table_clear(struct status *st);

/* The message for a corrupt cache, with the recovery hint. */
int status_corrupt(struct oim_err *err, const char *path, const char *fmt, ...)
    OIM_PRINTF(3, 4);

/* Files (status_file.c). */
int status_mkdir_p(const char *dir, struct oim_err *err) OIM_WUR;
/* Read a whole file: *exists_r false (and 0 returned) if it is missing. */
int status_read_file(const char *path, size_t max, char **buf_r, size_t *len_r,
		     bool *exists_r, struct oim_err *err) OIM_WUR;
/* Write via "<path>.tmp", fsync (unless nofsync), rename, fsync dir. */
int status_write_file_atomic(const char *path, const char *data, size_t len,
			     bool nofsync, struct oim_err *err) OIM_WUR;
int status_fsync_dir_of(const char *path, struct oim_err *err) OIM_WUR;
/* dirname of path, newly allocated. */
char *status_dirname(const char *path);

/* Plain backend (status_plain.c). */
int status_plain_load(struct status *st, const char *data, size_t len,
		      int *version_r, struct oim_err *err) OIM_WUR;
/* sqlite_path: imported (read-only) when the plain file is missing. */
int status_plain_open(struct status *st, const char *sqlite_path,
		      struct oim_err *err) OIM_WUR;
int status_plain_write(struct status *st, struct oim_err *err) OIM_WUR;
/* The plain backend's meta sidecar: a missing or unreadable one is
 * ignored (with a warning) -- its values are only hints. */
void status_plain_meta_load(struct status *st);
int status_plain_meta_write(struct status *st, struct oim_err *err) OIM_WUR;

/* SQLite backend (status_sqlite.c). */
int status_sqlite_open(struct status *st, const char *plain_path,
		       struct oim_err *err) OIM_WUR;
int status_sqlite_begin(struct status *st, struct oim_err *err) OIM_WUR;
int status_sqlite_commit(struct status *st, struct oim_err *err) OIM_WUR;
int status_sqlite_put(struct status *st, const struct status_rec *rec,
		      struct oim_err *err) OIM_WUR;
int status_sqlite_del(struct status *st, uint32_t uid,
		      struct oim_err *err) OIM_WUR;
int status_sqlite_meta_put(struct status *st, const char *key,
			   const char *value, struct oim_err *err) OIM_WUR;
void status_sqlite_close(struct status *st);

#endif
