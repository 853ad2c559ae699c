/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * status.h - the LocalStatus cache, UID validity files and oimap's upload
 * journal, in OfflineIMAP's on-disk formats.
 *
 * The status cache remembers, per folder, every message that was present on
 * both sides after the last sync: UID, flags, mtime and (Gmail) labels.  The
 * sync engine compares it with both sides to tell new mail from deleted mail.
 * Users switch from OfflineIMAP with their ~/.offlineimap, so the files are
 * read and written exactly as OfflineIMAP 7/8 does:
 *
 *   <metadata>/Account-<account>/LocalStatus-sqlite/<basename>   (sqlite)
 *   <metadata>/Account-<account>/LocalStatus/<basename>          (plain)
 *   <metadata>/Repository-<repo>/FolderValidity/<basename>       (validity)
 *   <metadata>/Account-<account>/oimap-journal/<basename>        (oimap only)
 *   <metadata>/Account-<account>/oimap-meta/<basename>   (oimap, plain only)
 *
 * <basename> is status_folder_basename() of the folder name: '/' becomes
 * '.', and a name that ends up as "" or "." becomes "dot" (OfflineIMAP's
 * BaseFolder.getfolderbasename()).  The status folder's name is the remote
 * folder's visible (nametrans'd) name with the remote separator replaced
 * by '.' (status_name_from_remote()); validity files use each side's own
 * folder name.
 *
 * SQLite file: tables exactly as OfflineIMAP's __create_db makes them
 * (STATUS_SQL_CREATE), metadata db_version '2'; version 1 databases (no
 * mtime/labels columns) are upgraded with OfflineIMAP's ALTER TABLEs.  The
 * journal mode is left as it is (OfflineIMAP uses SQLite's default,
 * rollback journal "delete"); busy timeout 5 s as Python's sqlite3.
 *
 * Plain file: first line STATUS_PLAIN_MAGIC followed by the format number,
 * then one "uid|flags|mtime|labels" line per message (format 2), or
 * "uid:flags" (format 1, read and rewritten as format 2 when opened
 * writable).  Written to "<file>.tmp", fsynced, renamed over, directory
 * fsynced.
 *
 * Flags are stored as OfflineIMAP stores them: the Maildir flag letters
 * sorted and without duplicates ("DFRST").  Labels are stored as
 * ", ".join(sorted(set)): status_labels_normalize().
 *
 * Migration between backends: OfflineIMAP 8 no longer reads a plain cache
 * left by older versions (so upgraded users got deleted mail back).  oimap,
 * when the chosen backend's file is missing (for sqlite: or holds no tables
 * at all) and the other backend's file exists, reads the other file and
 * creates its own from it (sqlite: in one transaction; plain: by the
 * atomic write).  The other file is left untouched in place, as
 * OfflineIMAP's own import_other_backend() did: going back to an
 * OfflineIMAP that reads it keeps working, and it is never read again
 * while our own file exists.  A crash during the conversion leaves no
 * file or a database without tables, which the next run converts again.
 * With STATUS_OPEN_READONLY the other file is read and nothing written.
 *
 * Errors: a corrupt cache (not a database, missing tables, a bad line, an
 * unknown format or db_version, an empty plain file) is an OIM_E_STATUS
 * error at OIM_SEV_FOLDER naming the file and how to recover.  Nothing is
 * ever deleted or recreated over a broken file.
 *
 * Calling sequence for one folder sync:
 *
 *	status_open(account_dir, name, backend, flags, &st, err);
 *	status_get()/status_next()/status_uids()   read the loaded records
 *	status_begin(st, err);
 *	    status_set()/status_set_flags()/status_set_labels()/status_delete()
 *	    status_meta_set()
 *	status_commit(st, err);                     one write per batch
 *	status_close(st);                           uncommitted changes lost
 *
 * Changes made outside begin/commit are committed one by one (slow: for the
 * plain backend each one rewrites the file).  begin/commit nest; only the
 * outermost commit writes.  After a change or a commit fails, close the
 * object without further changes (memory and file may then differ; the
 * file holds the last commit).
 *
 * Thread-safety: a struct status or struct status_journal is used by one
 * thread at a time (the worker syncing that folder); different folders'
 * objects are independent.  The path and validity functions are reentrant.
 * The status module logs an info line when it upgrades or migrates a
 * cache and a warning when it ignores a broken oimap-meta sidecar; errors
 * are only returned, never logged.
 *
 * status_backend: OfflineIMAP 8 refuses this option (it only has sqlite);
 * OfflineIMAP 7 and oimap accept "sqlite" (default) and "plain".
 */
#ifndef OIMAP_STATUS_H
#define OIMAP_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../util/err.h"
#include "../util/strbuf.h"
#include "../util/util.h"

/* Formats, as OfflineIMAP writes them. */
#define STATUS_PLAIN_MAGIC                                                     \
	"OFFLINEIMAP LocalStatus CACHE DATA - DO NOT MODIFY - FORMAT "
#define STATUS_PLAIN_VERSION 2
#define STATUS_DB_VERSION    2
#define STATUS_SQL_CREATE                                                      \
	"CREATE TABLE metadata (key VARCHAR(50) PRIMARY KEY, "                 \
	"value VARCHAR(128));\n"                                               \
	"INSERT INTO metadata VALUES('db_version', '2');\n"                    \
	"CREATE TABLE status (id INTEGER PRIMARY KEY, flags VARCHAR(50), "     \
	"mtime INTEGER, labels VARCHAR(256));\n"
#define STATUS_SQL_UPGRADE_1_2                                                 \
	"ALTER TABLE status ADD mtime INTEGER DEFAULT 0;\n"                    \
	"ALTER TABLE status ADD labels VARCHAR(256) DEFAULT '';\n"             \
	"UPDATE metadata SET value='2' WHERE key='db_version';\n"

/* Directory names under <metadata>/Account-<name>/ */
#define STATUS_DIR_SQLITE   "LocalStatus-sqlite"
#define STATUS_DIR_PLAIN    "LocalStatus"
#define STATUS_DIR_JOURNAL  "oimap-journal"
#define STATUS_DIR_META	    "oimap-meta"
#define STATUS_DIR_VALIDITY "FolderValidity"
#define STATUS_DIR_STARTUID "StartUID"

/* Limits */
#define STATUS_MAX_FLAGS	 64 /* distinct flag letters per record */
#define STATUS_MAX_LABELS	 (64u * 1024) /* bytes of one record's labels */
#define STATUS_MAX_FILE		 (1024ull * 1024 * 1024) /* bytes of a plain cache */
#define STATUS_MAX_VALIDITY_FILE 4096 /* bytes of a validity file */
#define STATUS_JOURNAL_MAX_FIELD 4096 /* bytes of a journaled name/id */
#define STATUS_JOURNAL_MAX_FILE	 (64u * 1024 * 1024)
#define STATUS_BUSY_TIMEOUT_MS	 5000 /* as Python sqlite3's default */

enum status_backend {
	STATUS_BACKEND_SQLITE = 0, /* default */
	STATUS_BACKEND_PLAIN,
};

/* "sqlite" or "plain" (case-insensitive), the status_backend option. */
int status_backend_parse(const char *name, enum status_backend *backend_r,
			 struct oim_err *err) OIM_WUR;
const char *status_backend_name(enum status_backend backend);

/* ---- Paths.  Every returned string is newly allocated; caller frees. ---- */

/*
 * OfflineIMAP's getfolderbasename(): '/' -> '.', and "" or "." -> "dot".
 * Fails (OIM_E_STATUS) for names that cannot be a file name in a directory:
 * ".." (OfflineIMAP would use the parent directory) and names longer than
 * NAME_MAX.
 */
int status_folder_basename(const char *name, char **basename_r,
			   struct oim_err *err) OIM_WUR;
/* The status folder name for a remote folder: visible name with every
 * 'remote_sep' replaced by '.' (accounts.py syncfolder()). */
char *status_name_from_remote(const char *visible_name, char remote_sep);
/* <metadata>/Account-<account> */
char *status_account_dir(const char *metadata_dir, const char *account);
/* <account_dir>/LocalStatus-sqlite/<basename> or .../LocalStatus/<basename> */
int status_cache_path(const char *account_dir, const char *folder,
		      enum status_backend backend, char **path_r,
		      struct oim_err *err) OIM_WUR;
/* <metadata>/Repository-<repository>/FolderValidity/<basename> */
int status_validity_path(const char *metadata_dir, const char *repository,
			 const char *folder, char **path_r,
			 struct oim_err *err) OIM_WUR;
/* <account_dir>/oimap-journal/<basename> */
int status_journal_path(const char *account_dir, const char *folder,
			char **path_r, struct oim_err *err) OIM_WUR;

/* ---- UID validity files ---- */

/*
 * OfflineIMAP keeps one validity per folder per repository: the remote
 * folder's UIDVALIDITY in Repository-<remote>/FolderValidity/<remote
 * folder>, and the local one in Repository-<local>/FolderValidity/<local
 * folder> (a Maildir always saves 42).  Content: the decimal number and
 * "\n".  Read as Python's int(readline().strip()).
 *
 * status_validity_read: *present_r = false if the file does not exist;
 * an unparsable file is OIM_E_STATUS naming it.
 */
int status_validity_read(const char *metadata_dir, const char *repository,
			 const char *folder, bool *present_r, uint64_t *value_r,
			 struct oim_err *err) OIM_WUR;
/* Write "<value>\n" via "<file>.tmp" + rename, creating
 * Repository-<repository>/{FolderValidity,UIDMapping} (mode 0700) as
 * OfflineIMAP does.  fsyncs unless 'nofsync'. */
int status_validity_write(const char *metadata_dir, const char *repository,
			  const char *folder, uint64_t value, bool nofsync,
			  struct oim_err *err) OIM_WUR;

/*
 * startdate (accounts.py cachemessagelists_startdate, folder/Base.py
 * save_min_uid): the lowest UID of the startdate side's folder that takes
 * part, fixed at the first sync, in
 * <metadata>/Repository-<repository>/StartUID/<basename>, "<uid>\n".
 * *present_r = false when the file does not exist (the first sync).
 */
int status_startuid_read(const char *metadata_dir, const char *repository,
			 const char *folder, bool *present_r, uint32_t *uid_r,
			 struct oim_err *err) OIM_WUR;
int status_startuid_write(const char *metadata_dir, const char *repository,
			  const char *folder, uint32_t uid, bool nofsync,
			  struct oim_err *err) OIM_WUR;

/* ---- The status cache ---- */

struct status_rec {
	uint32_t uid;			  /* 1 .. 2^32-1 */
	char flags[STATUS_MAX_FLAGS + 1]; /* sorted, unique, NUL-terminated */
	int64_t mtime;			  /* 0 unless the folder uses it */
	char *labels; /* normalized "a, b"; NULL for none; owned by status */
};

enum status_open_flags {
	/* Create nothing, change nothing (dry run, status-dump): a version-1
	 * or plain cache is read as is; writes are a BUG(). */
	STATUS_OPEN_READONLY = 1 << 0,
	/* general.fsync = no: plain files are not fsynced, sqlite runs with
	 * PRAGMA synchronous=OFF. */
	STATUS_OPEN_NOFSYNC = 1 << 1,
};

struct status;

/*
 * Open the cache of status folder 'folder' (see status_name_from_remote())
 * under account_dir (status_account_dir()) and load all its records.
 * Creates the directories (mode 0700) and an empty cache if none exists,
 * upgrades old formats and migrates plain -> sqlite as described above.
 * On success *st_r is owned by the caller until status_close().
 */
int status_open(const char *account_dir, const char *folder,
		enum status_backend backend, unsigned flags,
		struct status **st_r, struct oim_err *err) OIM_WUR;
/* Discard uncommitted changes (rollback), close and free.  NULL is fine. */
void status_close(struct status *st);

/* True if no cache existed (and none was migrated) when it was opened. */
bool status_is_new(const struct status *st);
/* The file backing the cache (borrowed, valid until status_close()). */
const char *status_path(const struct status *st);
size_t status_count(const struct status *st);
/* The record for uid or NULL.  Borrowed until the next change or close. */
const struct status_rec *status_get(const struct status *st, uint32_t uid);
/* Iterate in unspecified order: start with *iter = 0; NULL at the end.
 * Do not change the cache while iterating. */
const struct status_rec *status_next(const struct status *st, size_t *iter);
/* All UIDs ascending, newly allocated (caller frees; NULL if none). */
uint32_t *status_uids(const struct status *st, size_t *n_r);

int status_begin(struct status *st, struct oim_err *err) OIM_WUR;
int status_commit(struct status *st, struct oim_err *err) OIM_WUR;

/*
 * Insert or replace a record.  'flags' in any order (duplicates dropped;
 * printable ASCII except '|'), 'labels' as a comma list or NULL.  Invalid
 * flags are OIM_E_STATUS (a caller bug or a broken Maildir name).
 */
int status_set(struct status *st, uint32_t uid, const char *flags,
	       int64_t mtime, const char *labels, struct oim_err *err) OIM_WUR;
/* Change the flags of an existing record (missing: OIM_E_STATUS). */
int status_set_flags(struct status *st, uint32_t uid, const char *flags,
		     struct oim_err *err) OIM_WUR;
/* Change labels, and mtime unless it is 0 (OfflineIMAP's
 * savemessagelabels()). */
int status_set_labels(struct status *st, uint32_t uid, const char *labels,
		      int64_t mtime, struct oim_err *err) OIM_WUR;
/* Forget a record; a missing uid is not an error. */
int status_delete(struct status *st, uint32_t uid, struct oim_err *err) OIM_WUR;

/*
 * oimap's own per-folder values (e.g. UIDNEXT and HIGHESTMODSEQ for the
 * no-change check), kept with the cache.  sqlite: rows "oimap:<key>" in
 * the metadata table, written with the batch (OfflineIMAP reads only the
 * db_version row); plain: <account>/oimap-meta/<basename>, written after
 * the plain file at commit (a crash in between leaves older values, never
 * newer ones).  OfflineIMAP does not update them when it syncs: store a
 * fingerprint of the cache with them (e.g. count and highest UID) and
 * trust them only while it matches.
 * Keys: 1..STATUS_META_MAX_KEY of [a-z0-9_.-]; values: printable ASCII,
 * at most STATUS_META_MAX_VALUE bytes.  status_meta_get returns NULL when
 * unset; the string is borrowed until the next status_meta_set or close.
 */
#define STATUS_META_MAX_KEY   40
#define STATUS_META_MAX_VALUE 128
const char *status_meta_get(const struct status *st, const char *key);
int status_meta_set(struct status *st, const char *key, const char *value,
		    struct oim_err *err) OIM_WUR;

/* Sort flag letters and drop duplicates.  -1 on an invalid byte or more
 * than STATUS_MAX_FLAGS distinct letters. */
int status_flags_normalize(const char *in, char out[STATUS_MAX_FLAGS + 1]);
/* Split on ',', strip blanks, drop empties and duplicates, sort, join with
 * ", " -- OfflineIMAP's label set as it stores it.  Appends to 'out'. */
void status_labels_normalize(const char *in, size_t len, struct strbuf *out);

/*
 * Plain format in memory (the fuzz target and the tests use these).
 * status_plain_parse: parse a whole plain cache file's content into a
 * read-only status object (path names the file in errors).
 * status_plain_format: the format-2 file content, records by ascending UID.
 */
int status_plain_parse(const char *data, size_t len, const char *path,
		       struct status **st_r, struct oim_err *err) OIM_WUR;
void status_plain_format(const struct status *st, struct strbuf *out);

/* ---- oimap's upload journal ---- */

/*
 * Before an APPEND the sync journals its intent; after the server gave a
 * UID (and the status/Maildir name were updated) it marks it done.  A run
 * that finds pending entries looks for those messages on the server before
 * appending again.  File: STATUS_DIR_JOURNAL/<basename>, one line per
 * event, each fsynced before the call returns:
 *
 *	OIMAP-JOURNAL 1
 *	I <id> <size> <internal_date> <local_name> <message_id>
 *	D <id> <uid>
 *
 * with local_name and message_id %-escaped (bytes <= ' ', '%', 0x7f) and
 * "-" for an empty message-id.  A torn last line (crash while appending)
 * is ignored: its APPEND never started.  OfflineIMAP ignores the file.
 */
struct status_journal_entry {
	uint64_t id;	       /* increasing within the file */
	char *local_name;      /* Maildir file name, owned by the journal */
	char *message_id;      /* "" if the message has none */
	uint64_t size;	       /* bytes as sent (CRLF) */
	int64_t internal_date; /* seconds since the epoch, as sent */
};

struct status_journal;

/* Open (creating the directory, not the file, until the first add). */
int status_journal_open(const char *account_dir, const char *folder,
			unsigned flags, struct status_journal **j_r,
			struct oim_err *err) OIM_WUR;
void status_journal_close(struct status_journal *j);
/* Durably record an intent; *id_r names it for status_journal_done(). */
int status_journal_add(struct status_journal *j, const char *local_name,
		       const char *message_id, uint64_t size,
		       int64_t internal_date, uint64_t *id_r,
		       struct oim_err *err) OIM_WUR;
/* Durably record that upload 'id' is on the server with 'uid' (0 unknown). */
int status_journal_done(struct status_journal *j, uint64_t id, uint32_t uid,
			struct oim_err *err) OIM_WUR;
/* Pending (added, not done) entries, oldest first.  Borrowed until the
 * next call on j. */
const struct status_journal_entry *
status_journal_pending(const struct status_journal *j, size_t *n_r);
/* An owned copy of the pending entries (*n_r of them; NULL when none),
 * for a loop that calls status_journal_done() on them, which the borrowed
 * ones would not survive.  Free with status_journal_entries_free(). */
struct status_journal_entry *
status_journal_pending_copy(const struct status_journal *j, size_t *n_r);
void status_journal_entries_free(struct status_journal_entry *v, size_t n);
/* Rewrite the file keeping only pending entries (atomically); remove it
 * when none is pending. */
int status_journal_clear(struct status_journal *j, struct oim_err *err) OIM_WUR;

/* ---- OfflineIMAP's UID mapping (IMAP-to-IMAP) ---- */

/*
 * An IMAP local repository has its own UID space; OfflineIMAP
 * (folder/UIDMaps.py) keeps, per folder, which local UID holds which
 * remote UID in
 *
 *	<metadata>/Repository-<local repository>/UIDMapping/<basename>
 *
 * one "<local uid>:<remote uid>\n" line per message (Python's
 * int(a), int(b) of line.strip().split(':')).  OfflineIMAP rewrites the
 * whole file through "<file>.tmp" after every change; oimap appends a line
 * for each new pair (OfflineIMAP reads the result the same way) and
 * rewrites only to drop pairs.  A leftover "<file>.tmp" is from a rewrite
 * that never reached its rename: the file itself is the consistent state,
 * and the tmp file is removed (as OfflineIMAP does).
 *
 * Bad input: a line that is not two UIDs, a local UID or a remote UID
 * given twice with different partners, is an error naming file:line
 * (OIM_E_STATUS, OIM_SEV_FOLDER); nothing is guessed.  A torn last line
 * (no '\n': a crash while appending) is dropped.
 *
 * Threads: one object per folder, used by one thread.
 */
#define STATUS_DIR_UIDMAP "UIDMapping"
#define STATUS_MAX_UIDMAP_FILE (256u * 1024 * 1024)

struct status_uidmap;

/* <metadata>/Repository-<repository>/UIDMapping/<basename> */
int status_uidmap_path(const char *metadata_dir, const char *repository,
		       const char *folder, char **path_r,
		       struct oim_err *err) OIM_WUR;
/* Parse a map file's content (path names it in errors). */
int status_uidmap_parse(const char *data, size_t len, const char *path,
			struct status_uidmap **m_r, struct oim_err *err) OIM_WUR;
/* Load (a missing file is an empty map; flags: STATUS_OPEN_READONLY,
 * STATUS_OPEN_NOFSYNC). */
int status_uidmap_open(const char *metadata_dir, const char *repository,
		       const char *folder, unsigned flags,
		       struct status_uidmap **m_r, struct oim_err *err) OIM_WUR;
void status_uidmap_close(struct status_uidmap *m);
size_t status_uidmap_count(const struct status_uidmap *m);
/* The remote UID of local UID luid, 0 if none. */
uint32_t status_uidmap_remote(const struct status_uidmap *m, uint32_t luid);
/* The local UID holding remote UID ruid, 0 if none. */
uint32_t status_uidmap_local(const struct status_uidmap *m, uint32_t ruid);
/* Durably record luid <-> ruid (replacing luid's old partner).  ruid
 * held by another local UID is an error (OIM_E_STATUS). */
int status_uidmap_set(struct status_uidmap *m, uint32_t luid, uint32_t ruid,
		      struct oim_err *err) OIM_WUR;
/* Durably drop the pairs of luids[0..n) (unknown ones are ignored). */
int status_uidmap_drop(struct status_uidmap *m, const uint32_t *luids,
		       size_t n, struct oim_err *err) OIM_WUR;
/* Durably drop every pair whose local UID is not in present[0..n) (any
 * order): the messages the local server no longer has. */
int status_uidmap_keep_only(struct status_uidmap *m, const uint32_t *present,
			    size_t n, struct oim_err *err) OIM_WUR;
/* The file's content as oimap would write it (pairs by local UID). */
void status_uidmap_format(const struct status_uidmap *m, struct strbuf *out);

#endif
