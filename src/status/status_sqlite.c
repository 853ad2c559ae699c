/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * status_sqlite.c - OfflineIMAP's SQLite status cache
 * (folder/LocalStatusSQLite.py), through SQLite's C API.
 *
 * Differences from OfflineIMAP, all on the side of not losing state:
 * - a file that is not a database, or a database without the metadata and
 *   status tables, is an error (OfflineIMAP tries to create the tables in
 *   it); only a database with no tables at all (e.g. the 0-byte file a
 *   crash can leave) is treated as new;
 * - a db_version above 2 is an error (OfflineIMAP carries on);
 * - a missing cache is created from LocalStatus/<folder> when that exists
 *   (see status.h), which OfflineIMAP 8 no longer does;
 * - changes are batched between status_begin() and status_commit() in one
 *   SQLite transaction whatever general.fsync says.
 */
#include <errno.h>
#include <sys/stat.h>

#include "status-int.h"

#include "../util/log.h"

static int db_error(struct status *st, struct oim_err *err, const char *what)
{
	int rc = st->db ? sqlite3_extended_errcode(st->db) : SQLITE_ERROR;
	const char *msg = st->db ? sqlite3_errmsg(st->db) : "out of memory";

	if ((rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB)
		return status_corrupt(err, st->path, "%s: %s", what, msg);
	return oim_error(err, OIM_SEV_FOLDER, OIM_E_IO,
			 "status cache '%s': %s: %s", st->path, what, msg);
}

static int exec(struct status *st, const char *sql, const char *what,
		struct oim_err *err)
{
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_error(st, err, what);
	return 0;
}

/* Which of our tables exist; *ntables_r counts all tables. */
static int read_schema(struct status *st, bool *meta_r, bool *status_r,
		       int *ntables_r, struct oim_err *err)
{
	sqlite3_stmt *q;
	int rc;

	*meta_r = *status_r = false;
	*ntables_r = 0;
	if (sqlite3_prepare_v2(st->db,
			       "SELECT name FROM sqlite_master WHERE "
			       "type='table'",
			       -1, &q, NULL) != SQLITE_OK)
		goto fail;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(q, 0);

		(*ntables_r)++;
		if (name && !strcmp(name, "metadata"))
			*meta_r = true;
		if (name && !strcmp(name, "status"))
			*status_r = true;
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE)
		goto fail;
	return 0;
fail:
	if ((sqlite3_errcode(st->db) & 0xff) == SQLITE_NOTADB)
		return status_corrupt(err, st->path,
				      "not an SQLite database (%s)",
				      sqlite3_errmsg(st->db));
	return db_error(st, err, "cannot read the schema");
}

static int read_version(struct status *st, int *version_r, struct oim_err *err)
{
	sqlite3_stmt *q;
	int rc;
	uint64_t v;

	if (sqlite3_prepare_v2(st->db,
			       "SELECT value FROM metadata WHERE "
			       "key='db_version'",
			       -1, &q, NULL) != SQLITE_OK)
		return db_error(st, err, "cannot read db_version");
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		const char *s = (const char *)sqlite3_column_text(q, 0);
		char buf[32];

		snprintf(buf, sizeof(buf), "%s", s ? s : "");
		sqlite3_finalize(q);
		if (oim_parse_u64(buf, strlen(buf), 1000000, &v) < 0)
			return status_corrupt(err, st->path,
					      "db_version '%s' is not a number",
					      buf);
		if (v < 1 || v > STATUS_DB_VERSION)
			return status_corrupt(err, st->path,
					      "unknown db_version %s (this "
					      "oimap reads versions 1 and 2)",
					      buf);
		*version_r = (int)v;
		return 0;
	}
	sqlite3_finalize(q);
	if (rc == SQLITE_DONE)
		return status_corrupt(err, st->path,
				      "no db_version in table metadata");
	return db_error(st, err, "cannot read db_version");
}

static int load(struct status *st, int version, struct oim_err *err)
{
	sqlite3_stmt *q;
	int rc;
	const char *sql = version >= 2
			      ? "SELECT id,flags,mtime,labels FROM status"
			      : "SELECT id,flags,0,NULL FROM status";

	if (sqlite3_prepare_v2(st->db, sql, -1, &q, NULL) != SQLITE_OK)
		return db_error(st, err, "cannot read table status");
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		sqlite3_int64 id = sqlite3_column_int64(q, 0);
		const char *f = (const char *)sqlite3_column_text(q, 1);
		const char *l = (const char *)sqlite3_column_text(q, 3);
		int llen = sqlite3_column_bytes(q, 3);
		char flags[STATUS_MAX_FLAGS + 1];
		char *labels = NULL;

		if (id < 1 || id > UINT32_MAX) {
			sqlite3_finalize(q);
			return status_corrupt(err, st->path,
					      "UID %lld out of range",
					      (long long)id);
		}
		/* OfflineIMAP stores '' for no flags; NULL means the same. */
		if (status_flags_normalize(f ? f : "", flags) < 0) {
			sqlite3_finalize(q);
			return status_corrupt(err, st->path,
					      "invalid flags for UID %lld",
					      (long long)id);
		}
		if (l && llen > 0) {
			struct strbuf sb = STRBUF_INIT;

			if ((size_t)llen > STATUS_MAX_LABELS) {
				sqlite3_finalize(q);
				return status_corrupt(
				    err, st->path,
				    "labels of UID %lld too long",
				    (long long)id);
			}
			status_labels_normalize(l, (size_t)llen, &sb);
			if (sb.len)
				labels = strbuf_detach(&sb, NULL);
			strbuf_release(&sb);
		}
		status_table_put(st, (uint32_t)id, flags,
				 sqlite3_column_int64(q, 2), labels);
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE)
		return db_error(st, err, "cannot read table status");
	return 0;
}

/* oimap's rows of the metadata table; odd ones are skipped, they are
 * only hints. */
static int load_meta(struct status *st, struct oim_err *err)
{
	sqlite3_stmt *q;
	int rc;

	if (sqlite3_prepare_v2(st->db,
			       "SELECT substr(key,7),value FROM metadata "
			       "WHERE substr(key,1,6)='oimap:'",
			       -1, &q, NULL) != SQLITE_OK)
		return db_error(st, err, "cannot read table metadata");
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *k = (const char *)sqlite3_column_text(q, 0);
		const char *v = (const char *)sqlite3_column_text(q, 1);

		if (k && v && *k && strlen(k) <= STATUS_META_MAX_KEY &&
		    strlen(v) <= STATUS_META_MAX_VALUE)
			status_meta_put(st, k, v);
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE)
		return db_error(st, err, "cannot read table metadata");
	return 0;
}

static int prepare(struct status *st, struct oim_err *err)
{
	if (sqlite3_prepare_v2(st->db,
			       "INSERT OR REPLACE INTO status "
			       "(id,flags,mtime,labels) VALUES (?,?,?,?)",
			       -1, &st->put, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(st->db, "DELETE FROM status WHERE id=?", -1,
			       &st->del, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(st->db,
			       "INSERT OR REPLACE INTO metadata (key,value) "
			       "VALUES ('oimap:' || ?, ?)",
			       -1, &st->mput, NULL) != SQLITE_OK)
		return db_error(st, err, "cannot prepare statements");
	return 0;
}

/* Read LocalStatus/<folder> into st (errors name the plain file). */
static int read_plain(struct status *st, const char *plain_path, bool *found_r,
		      struct oim_err *err)
{
	struct status *p;
	char *buf;
	size_t len;
	int version;

	*found_r = false;
	if (!plain_path)
		return 0;
	if (status_read_file(plain_path, STATUS_MAX_FILE, &buf, &len, found_r,
			     err) < 0)
		return -1;
	if (!*found_r)
		return 0;
	p = status_alloc(STATUS_BACKEND_PLAIN, plain_path,
			 STATUS_OPEN_READONLY);
	if (status_plain_load(p, buf, len, &version, err) < 0) {
		free(buf);
		status_close(p);
		return -1;
	}
	free(buf);
	for (size_t i = 0; i < p->nr; i++) {
		struct status_rec *r = &p->recs[i];

		status_table_put(st, r->uid, r->flags, r->mtime,
				 r->labels ? xstrdup(r->labels) : NULL);
	}
	status_close(p);
	return 0;
}

/* A database without tables: create ours, filled from the plain cache if
 * there is one, all in one transaction so a crash leaves no half state. */
static int create(struct status *st, const char *plain_path, bool plain,
		  struct oim_err *err)
{
	if (exec(st, "BEGIN IMMEDIATE", "cannot begin a transaction", err) < 0)
		return -1;
	st->in_txn = true;
	if (exec(st, STATUS_SQL_CREATE, "cannot create the tables", err) < 0 ||
	    prepare(st, err) < 0)
		return -1;
	for (size_t i = 0; i < st->nr; i++)
		if (status_sqlite_put(st, &st->recs[i], err) < 0)
			return -1;
	if (exec(st, "COMMIT", "cannot commit", err) < 0)
		return -1;
	st->in_txn = false;
	if (plain)
		log_info("Migrated LocalStatus cache from plain to sqlite: %s "
			 "-> %s (%zu messages; the plain file is kept)",
			 plain_path, st->path, st->nr);
	st->is_new = !plain;
	return 0;
}

int status_sqlite_open(struct status *st, const char *plain_path,
		       struct oim_err *err)
{
	struct stat sb;
	bool exists = stat(st->path, &sb) == 0, has_meta, has_status;
	bool plain = false, plain_read = false;
	int ntables, version = 0, oflags, rc;

	if (!exists && errno != ENOENT)
		return oim_error(err, OIM_SEV_FOLDER, OIM_E_IO,
				 "cannot stat '%s': %s", st->path,
				 strerror(errno));
	/* No database yet: read the plain cache first, so that a broken one
	 * stops us before we create anything. */
	if (!exists || sb.st_size == 0) {
		if (read_plain(st, plain_path, &plain, err) < 0)
			return -1;
		plain_read = true;
		if (st->readonly) {
			st->is_new = !plain;
			return 0;
		}
	}
	oflags = st->readonly ? SQLITE_OPEN_READONLY
			      : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	rc = sqlite3_open_v2(st->path, &st->db, oflags | SQLITE_OPEN_NOMUTEX,
			     NULL);
	if (rc != SQLITE_OK)
		return db_error(st, err, "cannot open");
	sqlite3_busy_timeout(st->db, STATUS_BUSY_TIMEOUT_MS);
	if (read_schema(st, &has_meta, &has_status, &ntables, err) < 0)
		return -1;
	if (ntables == 0) {
		if (!plain_read && read_plain(st, plain_path, &plain, err) < 0)
			return -1;
		if (st->readonly) {
			st->is_new = !plain;
			return 0;
		}
		if (create(st, plain_path, plain, err) < 0)
			return -1;
	} else {
		if (!has_meta || !has_status)
			return status_corrupt(err, st->path,
					      "table '%s' is missing",
					      has_meta ? "status" : "metadata");
		if (read_version(st, &version, err) < 0)
			return -1;
		if (version < STATUS_DB_VERSION && !st->readonly) {
			log_info("Upgrading LocalStatus cache from version %d "
				 "to version %d: %s",
				 version, STATUS_DB_VERSION, st->path);
			if (exec(st, "BEGIN IMMEDIATE",
				 "cannot begin a transaction", err) < 0)
				return -1;
			st->in_txn = true;
			if (exec(st, STATUS_SQL_UPGRADE_1_2, "cannot upgrade",
				 err) < 0 ||
			    exec(st, "COMMIT", "cannot commit", err) < 0)
				return -1;
			st->in_txn = false;
			version = STATUS_DB_VERSION;
		}
		if (load(st, version, err) < 0 || load_meta(st, err) < 0)
			return -1;
		if (!st->readonly && prepare(st, err) < 0)
			return -1;
	}
	/* general.fsync = no: trade durability for speed, as asked. */
	if (!st->readonly && (st->flags & STATUS_OPEN_NOFSYNC) &&
	    exec(st, "PRAGMA synchronous=OFF", "cannot set synchronous", err) <
		0)
		return -1;
	return 0;
}

int status_sqlite_begin(struct status *st, struct oim_err *err)
{
	if (exec(st, "BEGIN IMMEDIATE", "cannot begin a transaction", err) < 0)
		return -1;
	st->in_txn = true;
	return 0;
}

int status_sqlite_commit(struct status *st, struct oim_err *err)
{
	if (!st->in_txn)
		return 0; /* autocommit already wrote it */
	if (exec(st, "COMMIT", "cannot commit", err) < 0)
		return -1;
	st->in_txn = false;
	return 0;
}

int status_sqlite_put(struct status *st, const struct status_rec *rec,
		      struct oim_err *err)
{
	sqlite3_stmt *q = st->put;
	const char *labels = rec->labels ? rec->labels : "";
	int rc;

	sqlite3_reset(q);
	sqlite3_bind_int64(q, 1, rec->uid);
	sqlite3_bind_text(q, 2, rec->flags, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, rec->mtime);
	sqlite3_bind_text(q, 4, labels, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	if (rc != SQLITE_DONE)
		return db_error(st, err, "cannot write");
	return 0;
}

int status_sqlite_del(struct status *st, uint32_t uid, struct oim_err *err)
{
	sqlite3_stmt *q = st->del;
	int rc;

	sqlite3_reset(q);
	sqlite3_bind_int64(q, 1, uid);
	rc = sqlite3_step(q);
	sqlite3_reset(q);
	if (rc != SQLITE_DONE)
		return db_error(st, err, "cannot delete");
	return 0;
}

int status_sqlite_meta_put(struct status *st, const char *key,
			   const char *value, struct oim_err *err)
{
	sqlite3_stmt *q = st->mput;
	int rc;

	sqlite3_reset(q);
	sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, value, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	if (rc != SQLITE_DONE)
		return db_error(st, err, "cannot write metadata");
	return 0;
}

void status_sqlite_close(struct status *st)
{
	if (!st->db)
		return;
	sqlite3_finalize(st->put);
	sqlite3_finalize(st->del);
	sqlite3_finalize(st->mput);
	st->put = st->del = st->mput = NULL;
	if (st->in_txn)
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	st->in_txn = false;
	sqlite3_close_v2(st->db);
	st->db = NULL;
}
