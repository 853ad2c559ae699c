/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * maildir.h - the local Maildir repository, byte-compatible with OfflineIMAP.
 *
 * Users switch from OfflineIMAP keeping their Maildir, so every name this
 * module reads or writes follows OfflineIMAP 8 (folder/Maildir.py,
 * repository/Maildir.py):
 *
 *   <time>_<seq>.<pid>.<host>,U=<uid>,FMD5=<md5>:2,<flags>
 *
 *   time   seconds since the epoch (now, or the message's Date header with
 *          filename_use_mail_timestamp); seq counts names made for the same
 *          time value in this process, from 0; pid getpid(); host
 *          gethostname() with '/' replaced by '-' (OfflineIMAP) and also
 *          ':', ',' and '!' replaced by '-' (they would make the name
 *          unparsable; OfflineIMAP leaves them, real hostnames have none).
 *   md5    md5 hex of the folder's *visible* name (after the local
 *          repository's nametrans; without nametrans the folder name
 *          relative to localfolders, e.g. "Archive.2023" with sep '.',
 *          "Archive/2023" with sep '/', "" for the root folder).
 *   ':'    '!' with maildir-windows-compatible (the "infosep").
 *   flags  the flag letters sorted by code point: D F R S T, P (mutt's
 *          "passed"), a-z keyword letters, any ASCII word character
 *          OfflineIMAP would keep.  Unseen messages live in new/, seen
 *          ones (S) in cur/ -- OfflineIMAP's rule, with ":2," even in new/.
 *
 * Reading: a name carries a UID for this folder only when it holds
 * ",FMD5=<this folder's md5>" and a ",U=<n>" (OfflineIMAP's re_uidmatch,
 * first match).  mbsync (",U=" without FMD5), mutt, notmuch, Dovecot names,
 * mail moved in from another folder (foreign FMD5) and fresh deliveries in
 * new/ all have no UID here: new local mail, uploaded by the sync.  Names
 * starting with '.' are ignored, as OfflineIMAP does.  Names that cannot be
 * trusted (control characters, ",U=" with a zero or out-of-range number,
 * directories inside cur/ or new/) are reported with log_warn() naming the
 * file and skipped: never renamed, never deleted, never uploaded; their
 * count is in maildir_msglist.skipped so the run can end non-zero.
 * Two files with the same UID (a copy made by hand) are both listed.
 *
 * Calling sequence:
 *   repo = maildir_repo_new(&opts, err);        creates localfolders
 *   maildir_repo_list(repo, &names, err);       folder names
 *   maildir_repo_create_folder(repo, "a.b", err);
 *   f = maildir_folder_open(repo, "a.b", NULL, err);
 *   maildir_folder_stamp(f, &stamp, err);       unchanged? skip the scan
 *   maildir_folder_scan(f, NULL, &list, err);   UIDs, flags, names
 *   maildir_msglist_sort(&list); maildir_msglist_find(&list, uid);
 *   maildir_delivery_begin/_write/_commit       download into tmp/ -> cur/
 *   maildir_msg_set_flags / _set_uid / _delete / _info, maildir_reader_*
 *   maildir_folder_restore_atime(f, err);      with restoreatime
 *   maildir_folder_free(f); maildir_repo_free(repo);
 *
 * Message names passed to and returned from the folder functions are
 * relative to the folder: "cur/<file>" or "new/<file>".
 *
 * Threads: a repo may be shared read-only once made; a folder and
 * everything opened from it belongs to one thread at a time (DESIGN.md:
 * one worker owns a folder while syncing it).  The name generator (time,
 * seq) is process-wide and locked, so names stay unique across threads.
 *
 * Errors: -1 with OIM_E_IO naming the path and strerror(errno); bad
 * arguments from config (sep, folder names) are OIM_E_CONFIG / OIM_E_USAGE.
 */
#ifndef OIMAP_STORE_MAILDIR_H
#define OIMAP_STORE_MAILDIR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../util/err.h"
#include "../util/limits.h"
#include "../util/strbuf.h"
#include "../util/util.h"

/* Limits (see limits.h for OIM_MAILDIR_MAX_NAME). */
/* Bytes of header read to find Date / Message-ID; beyond this we give up. */
#define MAILDIR_MAX_HEADER (256u * 1024)
/* Nesting of folders scanned with sep '/' (symlink loops end here). */
#define MAILDIR_MAX_DEPTH 64

/*
 * Flags: one bit per ASCII word character, numbered in code-point order
 * ('0'-'9', 'A'-'Z', '_', 'a'-'z'), so walking the bits upwards yields the
 * sorted flag string OfflineIMAP writes (''.join(sorted(flags))).
 */
typedef uint64_t maildir_flags_t;

/* Bit of flag character c, 0 if c is not an ASCII word character. */
maildir_flags_t maildir_flag_bit(int c);
/* Constant bits of 'A'-'Z' and 'a'-'z' (keyword letters). */
#define MAILDIR_FLAG_UC(c)   ((maildir_flags_t)1 << (10 + ((c) - 'A')))
#define MAILDIR_FLAG_LC(c)   ((maildir_flags_t)1 << (37 + ((c) - 'a')))
#define MAILDIR_FLAG_DRAFT   MAILDIR_FLAG_UC('D')
#define MAILDIR_FLAG_FLAGGED MAILDIR_FLAG_UC('F')
#define MAILDIR_FLAG_PASSED  MAILDIR_FLAG_UC('P')
#define MAILDIR_FLAG_REPLIED MAILDIR_FLAG_UC('R')
#define MAILDIR_FLAG_SEEN    MAILDIR_FLAG_UC('S')
#define MAILDIR_FLAG_TRASHED MAILDIR_FLAG_UC('T')
/* At most 63 flag characters + NUL. */
#define MAILDIR_FLAGS_STR_MAX 64
/* Sorted flag string of 'flags' into buf; returns buf. */
char *maildir_flags_str(maildir_flags_t flags, char buf[MAILDIR_FLAGS_STR_MAX]);
/* Flags of the characters in s[0..len) (non-word characters ignored). */
maildir_flags_t maildir_flags_parse(const char *s, size_t len);

/* md5 hex (lower case) of a folder's visible name: the FMD5 field. */
#define MAILDIR_FMD5_LEN 32
void maildir_fmd5(const char *visible_name, char out[MAILDIR_FMD5_LEN + 1]);

/*
 * A message file name taken apart.  Offsets index the name given to
 * maildir_name_parse(); nothing is allocated.
 */
struct maildir_name {
	size_t prefix_len; /* up to the first ',' or infosep (re_prefixmatch) */
	bool has_uid;	   /* a ",U=<digits>" field */
	uint32_t uid;	   /* its value, 1..UINT32_MAX */
	bool has_fmd5;	   /* first ",FMD5=" followed by 32 hex digits */
	char fmd5[MAILDIR_FMD5_LEN + 1];
	bool has_info;	 /* "<infosep>2," found (re_flagmatch) */
	size_t info_off; /* offset of the infosep (== name length if none) */
	size_t info_end; /* end of the flag characters after "2," */
	maildir_flags_t flags;
	bool has_time; /* a digit run (re_timestampmatch, used by maxage) */
	int64_t time;
};

/*
 * Parse a file name (not a path) of 'len' bytes.  infosep is ':' or '!'.
 * Returns 0, or -1 for a name that must be left alone, with *why_r (may be
 * NULL) set to a static reason.  Never reads past name[len - 1].
 */
int maildir_name_parse(const char *name, size_t len, char infosep,
		       struct maildir_name *out, const char **why_r) OIM_WUR;

/* True when 'name' holds ",FMD5=<fmd5>" anywhere (OfflineIMAP's test). */
bool maildir_name_has_fmd5(const char *name, size_t len, const char *fmd5);

/*
 * Append an OfflineIMAP name to sb:
 * "<time>_<seq>.<pid>.<host>,U=<uid>,FMD5=<fmd5><infosep>2,<flags>".
 * host is sanitised as described above.
 */
void maildir_name_format(struct strbuf *sb, int64_t time, unsigned long seq,
			 long pid, const char *host, uint32_t uid,
			 const char *fmd5, char infosep, maildir_flags_t flags);

/*
 * Append to sb 'name' with its flags replaced by 'flags': the first
 * "<infosep>2,<flags>" is rewritten in place (the rest of the name is
 * kept), or "<infosep>2,<flags>" appended when there is none.
 */
void maildir_name_with_flags(struct strbuf *sb, const char *name, size_t len,
			     char infosep, maildir_flags_t flags);

/*
 * Next (time, seq) pair as OfflineIMAP's _gettimeseq(): time is 'when'
 * (or now when when < 0); seq counts earlier calls with the same time in
 * this process.  Thread-safe.
 */
void maildir_timeseq(int64_t when, int64_t *time_r, unsigned long *seq_r);

/*
 * Parse an RFC 2822 date as Python's email.utils.parsedate_tz() +
 * mktime_tz() do (a missing zone is UTC).  Returns 0 and the Unix time, or
 * -1 when Python would return None or raise.
 */
int maildir_parse_date(const char *s, size_t len, int64_t *time_r) OIM_WUR;

/* ---- repository ---- */

struct maildir_repo_opts {
	const char *localfolders;	  /* raw value; ~ and $VAR expanded */
	const char *sep;		  /* NULL = "."; one character */
	bool fsync;			  /* [general] fsync, default true */
	bool windows_compatible;	  /* maildir-windows-compatible */
	bool filename_use_mail_timestamp; /* time in names from Date: */
	bool utime_from_header;		  /* file mtime from Date: */
	bool restoreatime;		  /* see maildir_folder_restore_atime */
};

struct maildir_repo;

/* Make a repository; creates localfolders (mode 0700, with parents) if it
 * does not exist, as OfflineIMAP does.  opts strings are copied. */
struct maildir_repo *maildir_repo_new(const struct maildir_repo_opts *opts,
				      struct oim_err *err);
void maildir_repo_free(struct maildir_repo *repo);
/* Absolute-or-as-given root after expansion; owned by repo. */
const char *maildir_repo_root(const struct maildir_repo *repo);
char maildir_repo_sep(const struct maildir_repo *repo);

struct maildir_folder_names {
	char **names; /* sorted; each owned by the list */
	size_t nr, alloc;
};
void maildir_folder_names_release(struct maildir_folder_names *l);

/*
 * List folders as OfflineIMAP's _getfolders_scandir(): every directory
 * (symlinks followed) holding cur, new and tmp directories is a folder
 * named by its path relative to the root ("" for the root itself); names
 * are taken verbatim (".Archive" stays ".Archive"); cur/new/tmp are never
 * folders; with sep '/' directories are searched recursively, with any
 * other sep only the root's children are.  l must be zeroed or released.
 */
int maildir_repo_list(struct maildir_repo *repo, struct maildir_folder_names *l,
		      struct oim_err *err) OIM_WUR;

/*
 * Create folder 'name' (relative to the root) with cur, new, tmp, mode
 * 0700 (parents with sep '/' get the default mode, as Python's
 * os.makedirs), succeeding if it exists.  Refuses absolute names, "..",
 * and with sep '/' components named cur, new or tmp (OfflineIMAP's
 * asserts).
 */
int maildir_repo_create_folder(struct maildir_repo *repo, const char *name,
			       struct oim_err *err) OIM_WUR;

/* ---- folder ---- */

struct maildir_folder;

/*
 * Open an existing folder.  visible_name is the name after nametrans
 * (NULL: same as name); its md5 is the FMD5 of this folder.  A name equal
 * to sep means the root, as in OfflineIMAP.
 */
struct maildir_folder *maildir_folder_open(struct maildir_repo *repo,
					   const char *name,
					   const char *visible_name,
					   struct oim_err *err);
void maildir_folder_free(struct maildir_folder *f);
const char *maildir_folder_path(const struct maildir_folder *f);
const char *maildir_folder_fmd5(const struct maildir_folder *f);

struct maildir_msg {
	char *name;	       /* "cur/<file>" or "new/<file>", owned by list */
	uint32_t uid;	       /* 0: no UID for this folder (new local mail) */
	maildir_flags_t flags; /* from the name */
};

struct maildir_msglist {
	struct maildir_msg *msgs;
	size_t nr, alloc;
	size_t skipped; /* names warned about and left alone */
};
void maildir_msglist_release(struct maildir_msglist *l);

struct maildir_scan_opts {
	int64_t min_date; /* maxage: > 0 drops names whose time is older */
	uint32_t min_uid; /* > 0 drops UIDs below it (startdate/maxage) */
	uint64_t maxsize; /* > 0 drops files larger (costs a stat each) */
};

/*
 * List new/ and cur/ with readdir only (plus one fstatat per file when
 * maxsize is set), as OfflineIMAP's _scanfolder(), including its rule that
 * messages excluded by min_date come back when their UID is above the
 * smallest UID kept.  opts may be NULL.  l must be zeroed or released.
 * Two files claiming the same UID are both listed; the sync decides.
 */
int maildir_folder_scan(struct maildir_folder *f,
			const struct maildir_scan_opts *opts,
			struct maildir_msglist *l, struct oim_err *err) OIM_WUR;

/*
 * Find the file holding 'uid' now (a mail reader may have renamed it).
 * *name_r is malloc'd ("cur/..."), NULL when there is none.
 */
int maildir_folder_find_uid(struct maildir_folder *f, uint32_t uid,
			    char **name_r, struct oim_err *err) OIM_WUR;

/* Sort by UID (0 first), then name; then maildir_msglist_find() works. */
void maildir_msglist_sort(struct maildir_msglist *l);
/* First message with 'uid' (> 0) in a sorted list, or NULL. */
struct maildir_msg *maildir_msglist_find(const struct maildir_msglist *l,
					 uint32_t uid);

/*
 * Modification times of cur/ and new/ (nanoseconds): any delivery,
 * rename or deletion in the folder changes one of them, so a sync that
 * finds the stamp it stored last time may skip scanning.  (A change in
 * the same clock tick as the stored stamp is not seen: compare only
 * stamps older than a second or two.)
 */
struct maildir_stamp {
	int64_t cur_ns, new_ns;
};
int maildir_folder_stamp(struct maildir_folder *f, struct maildir_stamp *s_r,
			 struct oim_err *err) OIM_WUR;

/*
 * With opts.restoreatime, maildir_folder_open() remembers the access
 * times of cur/ and new/ and this puts them back (OfflineIMAP's
 * restore_atime(), for mail readers that check atime for new mail).
 * Without it, does nothing.
 */
int maildir_folder_restore_atime(struct maildir_folder *f,
				 struct oim_err *err) OIM_WUR;

/*
 * Make a fresh OfflineIMAP name for this folder into sb (file name only).
 * when < 0: now.
 */
void maildir_folder_new_name(struct maildir_folder *f, int64_t when,
			     uint32_t uid, maildir_flags_t flags,
			     struct strbuf *sb);

/* ---- delivery: a message arriving from the server ---- */

struct maildir_delivery;

/*
 * Start writing message 'uid' (> 0) with 'flags' into tmp/.  Feed the
 * body with _write() in chunks of any size (CRLF becomes LF, also when CR
 * and LF arrive in different chunks; a lone CR is kept); memory stays
 * bounded by MAILDIR_MAX_HEADER whatever the message size.  _commit()
 * fsyncs the file (opts.fsync), sets its mtime from Date:
 * (utime_from_header), renames it into cur/ (S in flags) or new/ under
 * its final name with the UID -- never replacing an existing file -- and
 * fsyncs that directory (opts.fsync).  *name_r (malloc'd) is the final
 * "cur/..." name.  _commit() and _abort() free d; a failed _commit()
 * removes the tmp/ file (unless the rename was done and only the directory
 * fsync failed: then the message is in place under its UID, and the error
 * says the caller must not record it as safely stored).  After a failed
 * _write(), call _abort().
 */
int maildir_delivery_begin(struct maildir_folder *f, uint32_t uid,
			   maildir_flags_t flags, struct maildir_delivery **d_r,
			   struct oim_err *err) OIM_WUR;
int maildir_delivery_write(struct maildir_delivery *d, const void *buf,
			   size_t len, struct oim_err *err) OIM_WUR;
int maildir_delivery_commit(struct maildir_delivery *d, char **name_r,
			    struct oim_err *err) OIM_WUR;
void maildir_delivery_abort(struct maildir_delivery *d);

/* ---- existing messages ---- */

/*
 * Set a message's flags by renaming it (OfflineIMAP's savemessageflags):
 * to cur/ when S is set, else new/, flags rewritten in the name.  If the
 * file is gone and the name held a UID, the file now holding that UID is
 * used.  *name_r (malloc'd) is the new name.
 */
int maildir_msg_set_flags(struct maildir_folder *f, const char *name,
			  maildir_flags_t flags, char **name_r,
			  struct oim_err *err) OIM_WUR;

/*
 * Give a local message its server UID after upload (OfflineIMAP's
 * change_message_uid): renamed, in the same directory, to a fresh
 * OfflineIMAP name with ",U=<uid>,FMD5=<md5>" and the flags it had.
 */
int maildir_msg_set_uid(struct maildir_folder *f, const char *name,
			uint32_t uid, char **name_r,
			struct oim_err *err) OIM_WUR;

/*
 * Delete a message.  If the file is gone, the file now holding the same
 * UID (when the name had one for this folder) is deleted instead; if
 * there is none it is already deleted and that is success.
 */
int maildir_msg_delete(struct maildir_folder *f, const char *name,
		       struct oim_err *err) OIM_WUR;

struct maildir_msg_info {
	uint64_t size;	  /* bytes on disk (LF line ends) */
	int64_t mtime;	  /* file mtime (OfflineIMAP's getmessagetime) */
	bool has_date;	  /* Date: parsed */
	int64_t date;	  /* its Unix time */
	char *message_id; /* Message-ID value trimmed, malloc'd, or NULL */
};
void maildir_msg_info_release(struct maildir_msg_info *info);

/* Size, mtime, Date and Message-ID, reading only the header section. */
int maildir_msg_info(struct maildir_folder *f, const char *name,
		     struct maildir_msg_info *info_r,
		     struct oim_err *err) OIM_WUR;

/* Size the message will have on the wire with CRLF line ends. */
int maildir_msg_crlf_size(struct maildir_folder *f, const char *name,
			  uint64_t *size_r, struct oim_err *err) OIM_WUR;

/* Streamed reading of a message (for APPEND). */
struct maildir_reader;
/* crlf: turn every LF not preceded by CR into CRLF. */
int maildir_reader_open(struct maildir_folder *f, const char *name, bool crlf,
			struct maildir_reader **r_r,
			struct oim_err *err) OIM_WUR;
/* Fill up to cap (>= 2) bytes; *len_r == 0 at the end. */
int maildir_reader_read(struct maildir_reader *r, void *buf, size_t cap,
			size_t *len_r, struct oim_err *err) OIM_WUR;
void maildir_reader_free(struct maildir_reader *r);

#endif
