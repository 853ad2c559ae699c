/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * store-imap.c - the IMAP driver behind store.h, on imap/client.h.
 *
 * One client connection per store, opened by store_imap_open().  Folder
 * names are the server's (modified UTF-7) unless utf8foldernames is set:
 * then they are decoded in list_folders and encoded again in open/create,
 * as OfflineIMAP's folder/IMAP.py does with IMAP_utf8 / utf8_IMAP.
 *
 * What OfflineIMAP's repository/IMAP.py does, and we do too:
 *  - getfolders(): LIST (LSUB with subscribedonly) <reference> "*"; names
 *    are the full names the server returns (the reference is not
 *    stripped); nothing special about INBOX.  OfflineIMAP drops \Noselect
 *    entries; we return them with noselect set and sync/account skips
 *    them.  \NonExistent entries (LSUB of a deleted folder) are dropped.
 *  - makefolder(): with a reference set, the reference and the separator
 *    are put in front of the name; then every level of the path is
 *    created in turn, a NO [ALREADYEXISTS] being fine.  No SUBSCRIBE.
 *
 * Fetching bodies: one UID FETCH (UID BODY.PEEK[]) per batch of at most
 * FETCH_BATCH UIDs, bodies streamed through the client's body sink to the
 * caller's store_body_cb.  The body sink is told the UID when the server
 * sent UID before the body (Dovecot does); when it did not, the body is
 * spooled to an unlinked temporary file and replayed once the FETCH
 * response (and with it the UID) is complete, so memory stays bounded.
 * A message asked for but never sent by the server (expunged meanwhile)
 * is simply not delivered: the caller sees no begin() for it.
 *
 * Callback rules for fetch (store.h leaves them to the driver): after
 * begin() succeeded, end() follows unless data() failed; a failing data()
 * or end() means the callback dropped the message itself.  When fetch()
 * returns -1 (connection lost, a spool file unreadable) a message begun
 * may never see end(): the caller drops whatever it had begun.
 *
 * A UID FETCH answered NO (Dovecot: some messages could not be read) is
 * logged as a warning; what did arrive is delivered, the rest is not.
 *
 * Uploads: save_begin spools to an unlinked temporary file ($TMPDIR), and
 * save_commit APPENDs it from there (LF made CRLF by the client) with the
 * flags and, from 1981 on, the date as INTERNALDATE in the local zone (as
 * OfflineIMAP).  The UID comes from APPENDUID (Dovecot sends it even
 * without announcing UIDPLUS), else 0 and the caller uses find_uid.
 * save_commit_start only queues the APPEND (imap_append_start); its bytes
 * go out, with those of every APPEND queued before, while the caller waits
 * in save_commit_finish for the oldest: several uploads in flight, one
 * spool file each.
 *
 * Folder states without SELECT: with store_imap_opts.list_states and a
 * server offering LIST-STATUS and CONDSTORE, list_folders is LIST "" "*"
 * RETURN (STATUS (UIDVALIDITY UIDNEXT MESSAGES HIGHESTMODSEQ)): the same
 * round trip tells every folder's state (an extended LIST, where Dovecot
 * calls a parent that exists only through its children \NonExistent: it
 * is listed as \Noselect, as a plain LIST says).  folder_states asks the
 * same of given folders with one STATUS each, all pipelined.  Without
 * CONDSTORE neither tells anything (no HIGHESTMODSEQ, nothing to trust).
 *
 * find_uid: candidates from UID SEARCH UID min:* HEADER Message-ID "<id>"
 * (every UID >= min_uid when the id is 8-bit and cannot be quoted), then
 * each checked by FETCH: RFC822.SIZE, INTERNALDATE and the Message-ID
 * header itself (SEARCH matches substrings).  size is the size on the
 * server (CRLF line ends, what save_commit sent); 0 skips the size check.
 * date <= 0 (or one we did not send, before 1981) skips the date check;
 * an empty message_id matches by size and date alone.  The lowest
 * matching UID wins.
 *
 * Deleting: UID STORE +FLAGS.SILENT (\Deleted).  With STORE_OPEN_EXPUNGE
 * the same UIDs are expunged at once, else at close_folder(expunge):
 * UID EXPUNGE of exactly the UIDs this store marked, so a \Deleted
 * message of the user's survives; without UIDPLUS a plain EXPUNGE, as
 * OfflineIMAP does.  The folder is then left with UNSELECT, never CLOSE
 * (which would expunge everything marked).
 *
 * Read-only: a read-only repository always EXAMINEs; on a read-only store
 * or folder every change (save, flags, delete, create) is an error
 * (OIM_SEV_FOLDER) naming the repository and folder.
 *
 * Errors: what the client reports keeps its severity (a lost connection
 * is OIM_SEV_ACCOUNT, a NO or BAD OIM_SEV_FOLDER), prefixed with the
 * repository and folder; an APPEND refused with NO costs only that
 * message (OIM_SEV_MESSAGE).
 */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../imap/client.h"
#include "../imap/utf7.h"
#include "../util/log.h"
#include "../util/strbuf.h"

/* UIDs per UID FETCH / STORE / EXPUNGE command, and bytes of the set. */
#define FETCH_BATCH 500
#define UID_SET_MAX 4000
/* Bytes per read when replaying a spooled body. */
#define SPOOL_CHUNK (64u * 1024)
/* OfflineIMAP sends no INTERNALDATE before 1981 (servers choke). */
#define MIN_APPEND_DATE 347155200 /* 1981-01-01 00:00:00 UTC */

struct imap_store {
	struct store base;
	struct imap_client *c;
	char *reference; /* NULL when unset */
	bool subscribed_only;
	bool utf8;
	char *keywords[26]; /* customflag_x: letter 'a' + i -> keyword */
	bool list_states; /* store_imap_opts.list_states */
};

struct imap_store_folder {
	struct store_folder base;
	struct imap_store *s;
	char *wire; /* the name as sent (modified UTF-7) */
	bool readonly;
	bool expunge_now; /* STORE_OPEN_EXPUNGE */
	/* UIDs this store marked \Deleted, for UID EXPUNGE */
	uint32_t *deleted;
	size_t ndeleted, deleted_alloc;
};

struct store_writer {
	struct imap_store_folder *f;
	int fd;
	sync_flags_t flags;
	int64_t date;
	struct imap_cmd *cmd; /* the APPEND in flight (save_commit_start) */
};

/* What the folder states are asked with (store_folder_state). */
#define STATE_ITEMS "(UIDVALIDITY UIDNEXT MESSAGES HIGHESTMODSEQ)"
#define STATE_HAS                                                              \
	(IMAP_STATUS_UIDVALIDITY | IMAP_STATUS_UIDNEXT |                       \
	 IMAP_STATUS_MESSAGES | IMAP_STATUS_HIGHESTMODSEQ)

static const struct store_ops imap_store_ops;
static const struct store_folder_ops imap_folder_ops;

/* ---- helpers ---- */

static unsigned flags_to_imap(sync_flags_t fl)
{
	unsigned r = 0;
	if (fl & SYNC_F_SEEN)
		r |= IMAP_FLAG_SEEN;
	if (fl & SYNC_F_REPLIED)
		r |= IMAP_FLAG_ANSWERED;
	if (fl & SYNC_F_FLAGGED)
		r |= IMAP_FLAG_FLAGGED;
	if (fl & SYNC_F_TRASHED)
		r |= IMAP_FLAG_DELETED;
	if (fl & SYNC_F_DRAFT)
		r |= IMAP_FLAG_DRAFT;
	return r;
}

static sync_flags_t flags_from_imap(unsigned fl)
{
	sync_flags_t r = 0;
	if (fl & IMAP_FLAG_SEEN)
		r |= SYNC_F_SEEN;
	if (fl & IMAP_FLAG_ANSWERED)
		r |= SYNC_F_REPLIED;
	if (fl & IMAP_FLAG_FLAGGED)
		r |= SYNC_F_FLAGGED;
	if (fl & IMAP_FLAG_DELETED)
		r |= SYNC_F_TRASHED;
	if (fl & IMAP_FLAG_DRAFT)
		r |= SYNC_F_DRAFT;
	return r;
}

/* The keyword letters of an IMAP keyword list (customflag_x); others are
 * not synced (OfflineIMAP skips them too). */
static sync_flags_t letters_from_keywords(const struct imap_store *s,
					  const char *const *kw, size_t n)
{
	sync_flags_t r = 0;
	for (size_t k = 0; k < n; k++)
		for (int i = 0; i < 26; i++)
			if (s->keywords[i] &&
			    !oim_strcasecmp(s->keywords[i], kw[k]))
				r |= SYNC_FLAG('a' + i);
	return r;
}

/* The keywords of the lower-case letters of fl; *n_r of them, pointers
 * borrowed from s (the array is malloc'd). */
static const char **keywords_of(const struct imap_store *s, sync_flags_t fl,
				size_t *n_r)
{
	const char **v = xcalloc(27, sizeof(*v));
	size_t n = 0;
	for (int i = 0; i < 26; i++)
		if ((fl & SYNC_FLAG('a' + i)) && s->keywords[i])
			v[n++] = s->keywords[i];
	*n_r = n;
	return v;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* Sort and drop duplicates; returns the new count. */
static size_t sort_uids(uint32_t *v, size_t n)
{
	if (!n)
		return 0;
	oim_qsort(v, n, sizeof(*v), cmp_u32);
	size_t k = 1;
	for (size_t i = 1; i < n; i++)
		if (v[i] != v[k - 1])
			v[k++] = v[i];
	return k;
}

/* An unlinked temporary file for spooling a message. */
static int spool_open(struct oim_err *err)
{
	const char *dir = getenv("TMPDIR");
	if (!dir || !*dir)
		dir = "/tmp";
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
	/* no O_TMPFILE on this file system: mkstemp and unlink at once */
	char *path = xasprintf("%s/oimap-spool-XXXXXX", dir);
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0) {
		oim_error(err, OIM_SEV_MESSAGE, OIM_E_IO,
			  "cannot create a temporary file in %s: %s", dir,
			  strerror(errno));
		free(path);
		return -1;
	}
	unlink(path);
	free(path);
	return fd;
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Name the repository and folder in an error from below. */
static int folder_fail(struct imap_store_folder *f, struct oim_err *err)
{
	oim_err_prefix(err, "repository %s, folder %s", f->s->base.repo,
		       f->base.name);
	return -1;
}

static int readonly_fail(struct imap_store_folder *f, const char *what,
			 struct oim_err *err)
{
	return oim_error(err, OIM_SEV_FOLDER, OIM_E_GENERIC,
			 "repository %s, folder %s: cannot %s: the %s is "
			 "read-only",
			 f->s->base.repo, f->base.name, what,
			 f->s->base.readonly ? "repository" : "folder");
}

/* The name on the wire for a store name. */
static int wire_name(struct imap_store *s, const char *name, struct strbuf *out,
		     struct oim_err *err)
{
	if (!s->utf8) {
		strbuf_addstr(out, name);
		return 0;
	}
	if (imap_utf7_encode(name, strlen(name), out, err))
		return oim_error(err, OIM_SEV_FOLDER, OIM_E_GENERIC,
				 "repository %s: folder name '%s' is not valid "
				 "UTF-8",
				 s->base.repo, name);
	return 0;
}

static bool err_has_code(const struct oim_err *err, const char *code)
{
	return err->kind == OIM_E_IMAP_NO && strstr(err->msg, code);
}

/* ---- folders of the repository ---- */

struct list_ctx {
	struct imap_store *s;
	struct store_folder_list *out;
	bool sep_seen;
	/* LIST with RETURN options is an extended LIST (RFC 5258), where
	 * Dovecot calls the parent that only exists through its children
	 * \NonExistent instead of \Noselect: the same folder */
	bool extended;
};

static int list_cb(void *vctx, const struct imap_list_entry *e,
		   struct oim_err *err)
{
	struct list_ctx *l = vctx;
	unsigned flags = e->flags;
	if ((flags & IMAP_LIST_NONEXISTENT) && l->extended)
		flags |= IMAP_LIST_NOSELECT;
	else if (flags & IMAP_LIST_NONEXISTENT)
		return 0;
	if (!l->sep_seen && e->sep) {
		l->out->sep = e->sep;
		l->sep_seen = true;
	}
	struct strbuf name = STRBUF_INIT;
	if (l->s->utf8) {
		if (imap_utf7_decode(e->name, e->name_len, &name, err)) {
			strbuf_release(&name);
			oim_err_prefix(err, "repository %s", l->s->base.repo);
			return -1;
		}
	} else {
		strbuf_add(&name, e->name, e->name_len);
	}
	/* the same name twice (a LIST that repeats itself) is listed once */
	for (size_t i = 0; i < l->out->nr; i++) {
		if (!strcmp(l->out->v[i].name, name.buf)) {
			l->out->v[i].noselect &= !!(flags & IMAP_LIST_NOSELECT);
			strbuf_release(&name);
			return 0;
		}
	}
	ALLOC_GROW(l->out->v, l->out->nr + 1, l->out->alloc);
	struct store_folder_info *fi = &l->out->v[l->out->nr++];
	memset(fi, 0, sizeof(*fi));
	fi->name = strbuf_detach(&name, NULL);
	fi->noselect = !!(flags & IMAP_LIST_NOSELECT);
	return 0;
}

/* STATUS HIGHESTMODSEQ needs CONDSTORE (RFC 7162 3.1.3). */
static bool has_condstore(struct imap_client *c)
{
	return imap_has_cap(c, "CONDSTORE") || imap_has_cap(c, "QRESYNC");
}

static void state_from_status(const struct imap_status_info *st,
			      struct store_folder_state *fs)
{
	fs->uidvalidity = st->uidvalidity;
	fs->uidnext = st->uidnext;
	fs->exists = st->messages;
	fs->highestmodseq = st->highestmodseq;
}

/* LIST-STATUS: the STATUS of a folder LIST just named. */
static int list_state_cb(void *vctx, const struct imap_status_info *st,
			 struct oim_err *err)
{
	struct list_ctx *l = vctx;
	struct strbuf name = STRBUF_INIT;
	if ((st->has & STATE_HAS) != STATE_HAS)
		return 0;
	if (l->s->utf8) {
		struct oim_err e2 = OIM_ERR_INIT;
		if (imap_utf7_decode(st->mailbox, st->mailbox_len, &name,
				     &e2)) {
			strbuf_release(&name);
			return 0; /* list_cb says what is wrong with it */
		}
	} else {
		strbuf_add(&name, st->mailbox, st->mailbox_len);
	}
	for (size_t i = 0; i < l->out->nr; i++) {
		struct store_folder_info *fi = &l->out->v[i];
		if (strcmp(fi->name, name.buf))
			continue;
		state_from_status(st, &fi->state);
		fi->has_state = !fi->noselect;
		break;
	}
	strbuf_release(&name);
	(void)err;
	return 0;
}

static int imap_list_folders(struct store *st, struct store_folder_list *out,
			     struct oim_err *err)
{
	struct imap_store *s = (struct imap_store *)st;
	struct list_ctx l = {s, out, false, false};
	const char *ref = s->reference ? s->reference : "";
	int rc;
	memset(out, 0, sizeof(*out));
	out->sep = '/';
	/* The folders' states in the same round trip, when the server can
	 * (without LIST-STATUS the account asks folder_states for the
	 * folders it syncs only, rather than a STATUS for every folder) */
	l.extended = s->list_states && !s->subscribed_only &&
		     imap_has_cap(s->c, "LIST-STATUS") && has_condstore(s->c);
	if (l.extended)
		rc = imap_list_status(s->c, ref, "*", STATE_ITEMS, list_cb,
				      list_state_cb, &l, err);
	else
		rc = imap_list(s->c, s->subscribed_only, ref, "*", list_cb, &l,
			       err);
	if (rc) {
		store_folder_list_release(out);
		oim_err_prefix(err, "repository %s: cannot list the folders",
			       s->base.repo);
		return -1;
	}
	if (!l.sep_seen) {
		char sep;
		if (imap_separator(s->c, &sep, err)) {
			store_folder_list_release(out);
			oim_err_prefix(err, "repository %s", s->base.repo);
			return -1;
		}
		out->sep = sep ? sep : '/';
	}
	return 0;
}

struct states_ctx {
	char **wire; /* names as sent */
	size_t n;
	struct store_folder_state *states;
	bool *known;
};

static int states_cb(void *vctx, const struct imap_status_info *st,
		     struct oim_err *err)
{
	struct states_ctx *x = vctx;
	(void)err;
	if ((st->has & STATE_HAS) != STATE_HAS)
		return 0;
	for (size_t i = 0; i < x->n; i++) {
		if (!x->wire[i] || strlen(x->wire[i]) != st->mailbox_len ||
		    memcmp(x->wire[i], st->mailbox, st->mailbox_len))
			continue;
		state_from_status(st, &x->states[i]);
		x->known[i] = true;
	}
	return 0;
}

static int imap_folder_states(struct store *st, const char *const *names,
			      size_t n, struct store_folder_state *states,
			      bool *known, struct oim_err *err)
{
	struct imap_store *s = (struct imap_store *)st;
	struct states_ctx x = {NULL, n, states, known};
	const char **ask;
	size_t nask = 0;
	int rc;

	for (size_t i = 0; i < n; i++)
		known[i] = false;
	memset(states, 0, n * sizeof(*states));
	if (!n || !has_condstore(s->c))
		return 0;
	x.wire = xcalloc(n, sizeof(*x.wire));
	ask = xcalloc(n, sizeof(*ask));
	for (size_t i = 0; i < n; i++) {
		struct strbuf w = STRBUF_INIT;
		struct oim_err e2 = OIM_ERR_INIT;
		if (wire_name(s, names[i], &w, &e2)) {
			strbuf_release(&w);
			continue; /* opening it will say why */
		}
		x.wire[i] = strbuf_detach(&w, NULL);
		ask[nask++] = x.wire[i];
	}
	rc = imap_status_many(s->c, ask, nask, STATE_ITEMS, states_cb, &x, err);
	if (rc)
		oim_err_prefix(err, "repository %s", s->base.repo);
	for (size_t i = 0; i < n; i++)
		free(x.wire[i]);
	free(x.wire);
	free(ask);
	return rc;
}

static int get_sep(struct imap_store *s, char *sep_r, struct oim_err *err)
{
	if (imap_separator(s->c, sep_r, err)) {
		oim_err_prefix(err, "repository %s", s->base.repo);
		return -1;
	}
	return 0;
}

/* CREATE every level of wire (a/b/c: a, a/b, a/b/c), ALREADYEXISTS ok. */
static int create_path(struct imap_store *s, const char *wire, char sep,
		       struct oim_err *err)
{
	size_t len = strlen(wire);
	for (size_t i = 1; i <= len; i++) {
		if (i < len && (!sep || wire[i] != sep))
			continue;
		char *part = xstrndup(wire, i);
		struct oim_err e2 = OIM_ERR_INIT;
		int rc = imap_create(s->c, part, &e2);
		free(part);
		if (rc && !err_has_code(&e2, "[ALREADYEXISTS]")) {
			*err = e2;
			return -1;
		}
	}
	return 0;
}

static int imap_create_folder(struct store *st, const char *name,
			      struct oim_err *err)
{
	struct imap_store *s = (struct imap_store *)st;
	if (s->base.readonly)
		return oim_error(err, OIM_SEV_FOLDER, OIM_E_GENERIC,
				 "repository %s: cannot create folder %s: the "
				 "repository is read-only",
				 s->base.repo, name);
	if (!*name)
		return 0;
	char sep;
	if (get_sep(s, &sep, err))
		return -1;
	struct strbuf full = STRBUF_INIT, wire = STRBUF_INIT;
	if (s->reference) {
		/* OfflineIMAP's makefolder: reference + sep + name */
		strbuf_addstr(&full, s->reference);
		if (sep)
			strbuf_addch(&full, sep);
	}
	strbuf_addstr(&full, name);
	int rc = wire_name(s, full.buf, &wire, err);
	if (!rc && create_path(s, wire.buf, sep, err)) {
		oim_err_prefix(err, "repository %s: cannot create folder %s",
			       s->base.repo, full.buf);
		rc = -1;
	}
	strbuf_release(&full);
	strbuf_release(&wire);
	return rc;
}

static int imap_open_folder(struct store *st, const char *name,
			    const char *visible_name, unsigned flags,
			    struct store_folder **f_r, struct oim_err *err)
{
	struct imap_store *s = (struct imap_store *)st;
	*f_r = NULL;
	struct strbuf wire = STRBUF_INIT;
	if (wire_name(s, name, &wire, err)) {
		strbuf_release(&wire);
		return -1;
	}
	struct imap_store_folder *f = xcalloc(1, sizeof(*f));
	f->base.ops = &imap_folder_ops;
	f->base.store = st;
	f->base.name = xstrdup(name);
	f->s = s;
	f->wire = strbuf_detach(&wire, NULL);
	f->readonly = s->base.readonly || (flags & STORE_OPEN_READONLY);
	f->expunge_now = !!(flags & STORE_OPEN_EXPUNGE);

	unsigned sf = IMAP_SELECT_CONDSTORE;
	if (f->readonly)
		sf |= IMAP_SELECT_EXAMINE;
	struct imap_mailbox mb;
	int rc = imap_select(s->c, f->wire, sf, &mb, err);
	if (rc && (flags & STORE_OPEN_CREATE) && !f->readonly &&
	    err->kind == OIM_E_IMAP_NO && !imap_client_broken(s->c)) {
		/* NO [TRYCREATE] / [NONEXISTENT], or any NO: try CREATE;
		 * if that fails too, the SELECT's error is the one to tell */
		struct oim_err e2 = OIM_ERR_INIT;
		char sep = 0;
		if (get_sep(s, &sep, &e2) == 0 &&
		    create_path(s, f->wire, sep, &e2) == 0) {
			log_debug(OIM_DBG_IMAP, "repository %s: created %s",
				  s->base.repo, name);
			rc = imap_select(s->c, f->wire, sf, &mb, err);
		} else if (imap_client_broken(s->c)) {
			*err = e2;
		}
	}
	if (rc) {
		folder_fail(f, err);
		free(f->wire);
		free(f->base.name);
		free(f);
		return -1;
	}
	(void)visible_name;
	f->base.state.uidvalidity = mb.uidvalidity;
	f->base.state.uidnext = mb.uidnext;
	f->base.state.highestmodseq = mb.nomodseq ? 0 : mb.highestmodseq;
	f->base.state.exists = mb.exists;
	*f_r = &f->base;
	return 0;
}

static void folder_free(struct imap_store_folder *f)
{
	free(f->deleted);
	free(f->wire);
	free(f->base.name);
	free(f);
}

/* UID EXPUNGE uids[0..n) (sorted, unique) with UIDPLUS, else EXPUNGE. */
static int expunge_uids(struct imap_client *c, const uint32_t *uids, size_t n,
			struct oim_err *err)
{
	if (!imap_has_cap(c, "UIDPLUS"))
		/* as OfflineIMAP: a plain EXPUNGE (which also removes other
		 * messages marked \Deleted) */
		return imap_expunge(c, NULL, err);
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < n;) {
		strbuf_reset(&sb);
		size_t left = n - i;
		i += imap_uids_format(&sb, uids + i,
				      left < FETCH_BATCH ? left : FETCH_BATCH,
				      UID_SET_MAX);
		if (imap_expunge(c, sb.buf, err)) {
			strbuf_release(&sb);
			return -1;
		}
	}
	strbuf_release(&sb);
	return 0;
}

static int expunge_ours(struct imap_store_folder *f, struct oim_err *err)
{
	size_t n = sort_uids(f->deleted, f->ndeleted);
	f->ndeleted = n;
	return expunge_uids(f->s->c, f->deleted, n, err);
}

static int imap_close_folder(struct store_folder *bf, bool expunge,
			     struct oim_err *err)
{
	struct imap_store_folder *f = (struct imap_store_folder *)bf;
	struct imap_client *c = f->s->c;
	int rc = 0;
	if (imap_client_broken(c)) {
		/* nothing to say to a dead connection; report it once */
		oim_error(err, OIM_SEV_ACCOUNT, OIM_E_CONN_LOST,
			  "the connection is lost");
		rc = folder_fail(f, err);
		folder_free(f);
		return rc;
	}
	if (expunge && f->ndeleted && !f->readonly && expunge_ours(f, err))
		rc = folder_fail(f, err);
	/* Never CLOSE: it would expunge the user's other \Deleted
	 * messages.  No UNSELECT either: the next SELECT (or LOGOUT) closes
	 * the mailbox without expunging, one round trip less per folder. */
	imap_deselect(c);
	folder_free(f);
	return rc;
}

static void imap_store_free(struct store *st)
{
	struct imap_store *s = (struct imap_store *)st;
	imap_logout(s->c);
	for (int i = 0; i < 26; i++)
		free(s->keywords[i]);
	free(s->reference);
	free(s->base.repo);
	free(s);
}

/* ---- scan ---- */

struct scan_ctx {
	struct store_msglist *out;
	uint32_t min_uid;
	const struct imap_store *s;
	bool labels; /* store_scan_opts.labels */
};

/* synclabels: X-GM-LABELS in the status spelling (labels.h). */
static char *labels_of(const struct imap_fetch *fe)
{
	struct labelset ls = LABELSET_INIT;
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < fe->ngm_labels; i++)
		labelset_add(&ls, fe->gm_labels[i], strlen(fe->gm_labels[i]));
	labelset_format(&ls, ", ", &sb);
	labelset_release(&ls);
	/* "" when there are none: NULL means not known (store.h) */
	return strbuf_detach(&sb, NULL);
}

static int scan_cb(void *vctx, const struct imap_fetch *fe, struct oim_err *err)
{
	struct scan_ctx *sc = vctx;
	/* unsolicited FETCH (a flag change by another client) without
	 * UID: not ours to list */
	if (!(fe->has & IMAP_FETCH_UID) || fe->uid < sc->min_uid)
		return 0;
	ALLOC_GROW(sc->out->v, sc->out->nr + 1, sc->out->alloc);
	struct store_msg *m = &sc->out->v[sc->out->nr++];
	memset(m, 0, sizeof(*m));
	m->uid = fe->uid;
	m->flags = flags_from_imap(fe->flags) |
		   letters_from_keywords(sc->s, fe->keywords, fe->nkeywords);
	m->size = fe->size;
	m->date = (fe->has & IMAP_FETCH_INTERNALDATE) ? fe->internaldate : 0;
	if (sc->labels && (fe->has & IMAP_FETCH_GM_LABELS))
		m->labels = labels_of(fe);
	return 0;
}

static int cmp_msg_uid(const void *a, const void *b)
{
	const struct store_msg *x = a, *y = b;
	return x->uid < y->uid ? -1 : x->uid > y->uid;
}

static int imap_scan(struct store_folder *bf, const struct store_scan_opts *o,
		     struct store_msglist *out, struct oim_err *err)
{
	struct imap_store_folder *f = (struct imap_store_folder *)bf;
	memset(out, 0, sizeof(*out));
	if (!f->base.state.exists)
		return 0;
	uint32_t min = o && o->min_uid ? o->min_uid : 1;
	char set[32];
	snprintf(set, sizeof(set), "%u:*", min);
	struct scan_ctx sc = {out, min, f->s, o && o->labels};
	if (imap_uid_fetch(
		f->s->c, set,
		sc.labels ? "(UID FLAGS X-GM-LABELS RFC822.SIZE INTERNALDATE)"
			  : "(UID FLAGS RFC822.SIZE INTERNALDATE)",
		0, scan_cb, NULL, &sc, err)) {
		store_msglist_release(out);
		return folder_fail(f, err);
	}
	/* sorted by UID, a UID reported twice listed once (the last) */
	if (out->nr > 1)
		oim_qsort(out->v, out->nr, sizeof(*out->v), cmp_msg_uid);
	size_t k = 0;
	for (size_t i = 0; i < out->nr; i++) {
		if (k && out->v[k - 1].uid == out->v[i].uid) {
			k--;
			free(out->v[k].labels);
		}
		out->v[k++] = out->v[i];
	}
	out->nr = k;
	return 0;
}

/* ---- fetch ---- */

struct want {
	uint32_t uid;
	bool done;
	const struct store_msg *msg;
};

enum body_mode { BODY_NONE, BODY_DIRECT, BODY_DISCARD, BODY_SPOOL };

struct fetch_ctx {
	struct imap_store_folder *f;
	const struct store_body_cb *cb;
	void *cbctx;
	struct want *w;
	size_t nw;
	enum body_mode mode;
	struct want *cur;
	/* spool for a body whose UID is not known yet */
	int spool_fd;
	uint32_t spool_seq;
	bool spool_ready;
	/* a callback said stop (ACCOUNT), or a local failure */
	bool stopped;
	struct oim_err stop;
};

static int cmp_want(const void *a, const void *b)
{
	const struct want *x = a, *y = b;
	return x->uid < y->uid ? -1 : x->uid > y->uid;
}

static struct want *want_find(struct fetch_ctx *fc, uint32_t uid)
{
	struct want key = {uid, false, NULL};
	return bsearch(&key, fc->w, fc->nw, sizeof(key), cmp_want);
}

/* A callback failed: skip the message, or stop for ACCOUNT. */
static void cb_failed(struct fetch_ctx *fc, struct want *w,
		      const struct oim_err *e)
{
	w->done = true; /* skipped: not offered again in this fetch */
	if (e->sev >= OIM_SEV_ACCOUNT && !fc->stopped) {
		fc->stopped = true;
		fc->stop = *e;
	} else {
		log_debug(OIM_DBG_IMAP,
			  "repository %s, folder %s: UID %u "
			  "skipped: %s",
			  fc->f->s->base.repo, fc->f->base.name, w->uid,
			  e->msg);
	}
}

static void local_failed(struct fetch_ctx *fc, const char *what)
{
	if (fc->stopped)
		return;
	fc->stopped = true;
	oim_error(&fc->stop, OIM_SEV_FOLDER, OIM_E_IO,
		  "repository %s, folder %s: %s: %s", fc->f->s->base.repo,
		  fc->f->base.name, what, strerror(errno));
}

static int sink_begin(void *vctx, const struct imap_body_info *info,
		      struct oim_err *err)
{
	struct fetch_ctx *fc = vctx;
	fc->mode = BODY_DISCARD;
	fc->cur = NULL;
	if (fc->stopped)
		return IMAP_BODY_STREAM;
	if (!info->uid) {
		if (fc->spool_fd < 0) {
			struct oim_err e2 = OIM_ERR_INIT;
			fc->spool_fd = spool_open(&e2);
			if (fc->spool_fd < 0) {
				local_failed(fc, "cannot spool a message");
				return IMAP_BODY_STREAM;
			}
		}
		if (ftruncate(fc->spool_fd, 0) ||
		    lseek(fc->spool_fd, 0, SEEK_SET) < 0) {
			local_failed(fc, "cannot spool a message");
			return IMAP_BODY_STREAM;
		}
		fc->mode = BODY_SPOOL;
		fc->spool_seq = info->seq;
		fc->spool_ready = false;
		return IMAP_BODY_STREAM;
	}
	struct want *w = want_find(fc, info->uid);
	if (!w || w->done)
		return IMAP_BODY_STREAM;
	struct oim_err e2 = OIM_ERR_INIT;
	if (fc->cb->begin(fc->cbctx, w->msg, &e2)) {
		cb_failed(fc, w, &e2);
		return IMAP_BODY_STREAM;
	}
	fc->mode = BODY_DIRECT;
	fc->cur = w;
	return IMAP_BODY_STREAM;
}

static int sink_data(void *vctx, const void *data, size_t len,
		     struct oim_err *err)
{
	struct fetch_ctx *fc = vctx;
	struct oim_err e2 = OIM_ERR_INIT;
	switch (fc->mode) {
	case BODY_DIRECT:
		if (fc->cb->data(fc->cbctx, data, len, &e2)) {
			cb_failed(fc, fc->cur, &e2);
			fc->mode = BODY_DISCARD;
		}
		break;
	case BODY_SPOOL:
		if (write_all(fc->spool_fd, data, len)) {
			local_failed(fc, "cannot spool a message");
			fc->mode = BODY_DISCARD;
		}
		break;
	default:
		break;
	}
	return 0;
}

static int sink_end(void *vctx, struct oim_err *err)
{
	struct fetch_ctx *fc = vctx;
	struct oim_err e2 = OIM_ERR_INIT;
	if (fc->mode == BODY_DIRECT) {
		fc->cur->done = true;
		if (fc->cb->end(fc->cbctx, &e2))
			cb_failed(fc, fc->cur, &e2);
	} else if (fc->mode == BODY_SPOOL) {
		fc->spool_ready = true;
	}
	fc->mode = BODY_NONE;
	fc->cur = NULL;
	return 0;
}

static const struct imap_body_sink fetch_sink = {
    sink_begin,
    sink_data,
    sink_end,
};

/* Deliver a body held in memory or in the spool file. */
static void deliver(struct fetch_ctx *fc, struct want *w, const char *mem,
		    size_t memlen, bool from_spool)
{
	struct oim_err e2 = OIM_ERR_INIT;
	if (fc->cb->begin(fc->cbctx, w->msg, &e2)) {
		cb_failed(fc, w, &e2);
		return;
	}
	w->done = true;
	if (!from_spool) {
		if (memlen && fc->cb->data(fc->cbctx, mem, memlen, &e2)) {
			cb_failed(fc, w, &e2);
			return;
		}
	} else {
		if (lseek(fc->spool_fd, 0, SEEK_SET) < 0) {
			local_failed(fc, "cannot read a spooled message");
			return;
		}
		char *buf = xmalloc(SPOOL_CHUNK);
		for (;;) {
			ssize_t n = read(fc->spool_fd, buf, SPOOL_CHUNK);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				free(buf);
				local_failed(fc,
					     "cannot read a spooled message");
				return;
			}
			if (n == 0)
				break;
			if (fc->cb->data(fc->cbctx, buf, (size_t)n, &e2)) {
				free(buf);
				cb_failed(fc, w, &e2);
				return;
			}
		}
		free(buf);
	}
	if (fc->cb->end(fc->cbctx, &e2))
		cb_failed(fc, w, &e2);
}

static int fetch_cb(void *vctx, const struct imap_fetch *fe,
		    struct oim_err *err)
{
	struct fetch_ctx *fc = vctx;
	bool spooled = fc->spool_ready && fc->spool_seq == fe->seq;
	fc->spool_ready = false;
	if (!(fe->has & IMAP_FETCH_UID) || fc->stopped)
		return 0;
	struct want *w = want_find(fc, fe->uid);
	if (!w || w->done)
		return 0;
	if (spooled) {
		deliver(fc, w, NULL, 0, true);
		return 0;
	}
	for (size_t i = 0; i < fe->nbodies; i++) {
		const struct imap_arg *v = fe->bodies[i].value;
		if (v && (v->type == IMAP_ARG_STRING ||
			  v->type == IMAP_ARG_LITERAL)) {
			deliver(fc, w, v->u.str, v->len, false);
			break;
		}
	}
	return 0;
}

static int imap_fetch(struct store_folder *bf,
		      const struct store_msg *const *msgs, size_t n,
		      const struct store_body_cb *cb, void *ctx,
		      struct oim_err *err)
{
	struct imap_store_folder *f = (struct imap_store_folder *)bf;
	struct imap_client *c = f->s->c;
	if (!n)
		return 0;
	struct fetch_ctx fc = {0};
	fc.f = f;
	fc.cb = cb;
	fc.cbctx = ctx;
	fc.spool_fd = -1;
	fc.w = xcalloc(n, sizeof(*fc.w));
	for (size_t i = 0; i < n; i++) {
		if (!msgs[i]->uid)
			continue;
		fc.w[fc.nw].uid = msgs[i]->uid;
		fc.w[fc.nw].msg = msgs[i];
		fc.nw++;
	}
	oim_qsort(fc.w, fc.nw, sizeof(*fc.w), cmp_want);
	/* the same UID twice is fetched (and delivered) once */
	size_t k = 0;
	for (size_t i = 0; i < fc.nw; i++)
		if (!k || fc.w[k - 1].uid != fc.w[i].uid)
			fc.w[k++] = fc.w[i];
	fc.nw = k;
	uint32_t *uids = xcalloc(fc.nw ? fc.nw : 1, sizeof(*uids));
	for (size_t i = 0; i < fc.nw; i++)
		uids[i] = fc.w[i].uid;

	int rc = 0;
	struct strbuf set = STRBUF_INIT;
	imap_client_set_body_sink(c, &fetch_sink, &fc);
	for (size_t i = 0; i < fc.nw && !fc.stopped;) {
		strbuf_reset(&set);
		size_t left = fc.nw - i;
		size_t k2 = imap_uids_format(
		    &set, uids + i, left < FETCH_BATCH ? left : FETCH_BATCH,
		    UID_SET_MAX);
		i += k2;
		if (imap_uid_fetch(c, set.buf, "(UID BODY.PEEK[])", 0, fetch_cb,
				   NULL, &fc, err)) {
			if (err->kind == OIM_E_IMAP_NO &&
			    !imap_client_broken(c)) {
				/* some messages could not be fetched (gone):
				 * they are not delivered; go on */
				log_warn("repository %s, folder %s: %s",
					 f->s->base.repo, f->base.name,
					 err->msg);
				oim_err_clear(err);
				continue;
			}
			rc = folder_fail(f, err);
			break;
		}
	}
	imap_client_set_body_sink(c, NULL, NULL);
	if (rc == 0 && fc.stopped) {
		*err = fc.stop;
		rc = -1;
	}
	if (fc.spool_fd >= 0)
		close(fc.spool_fd);
	strbuf_release(&set);
	free(uids);
	free(fc.w);
	return rc;
}

/* ---- save ---- */

static int imap_save_begin(struct store_folder *bf, uint32_t uid,
			   sync_flags_t flags, int64_t date, uint64_t size_hint,
			   struct store_writer **w_r, struct oim_err *err)
{
	struct imap_store_folder *f = (struct imap_store_folder *)bf;
	*w_r = NULL;
	if (f->readonly)
		return readonly_fail(f, "upload a message", err);
	int fd = spool_open(err);
	if (fd < 0)
		return folder_fail(f, err);
	struct store_writer *w = xcalloc(1, sizeof(*w));
	w->f = f;
	w->fd = fd;
	w->flags = flags;
	w->date = date;
	*w_r = w;
	return 0;
}

static int imap_save_write(struct store_writer *w, const void *data, size_t len,
			   struct oim_err *err)
{
	if (write_all(w->fd, data, len)) {
		oim_error(err, OIM_SEV_MESSAGE, OIM_E_IO,
			  "cannot spool the message to upload: %s",
			  strerror(errno));
		return folder_fail(w->f, err);
	}
	return 0;
}

static void imap_save_abort(struct store_writer *w)
{
	if (!w)
		return;
	if (w->cmd)
		BUG("save_abort of a save in flight");
	close(w->fd);
	free(w);
}

static int imap_save_commit_start(struct store_writer *w, struct oim_err *err)
{
	struct imap_store_folder *f = w->f;
	if (lseek(w->fd, 0, SEEK_SET) < 0) {
		oim_error(err, OIM_SEV_MESSAGE, OIM_E_IO,
			  "cannot read the message to upload: %s",
			  strerror(errno));
		imap_save_abort(w);
		return folder_fail(f, err);
	}
	struct imap_append a = {0};
	a.mailbox = f->wire;
	a.flags = flags_to_imap(w->flags);
	const char **kw = keywords_of(f->s, w->flags, &a.nkeywords);
	a.keywords = kw;
	a.fd = w->fd;
	if (w->date >= MIN_APPEND_DATE) {
		/* in the local zone, as OfflineIMAP sends it */
		time_t t = (time_t)w->date;
		struct tm tm;
		if (localtime_r(&t, &tm)) {
			a.date = t;
			a.date_tz = (int)(tm.tm_gmtoff / 60);
		}
	}
	/* queued only: the bytes go out while the caller waits for this or
	 * an earlier save (imap_append_start) */
	int rc = imap_append_start(f->s->c, &a, &w->cmd, err);
	free(kw); /* the command holds its own text */
	if (rc) {
		imap_save_abort(w);
		return folder_fail(f, err);
	}
	return 0;
}

static int imap_save_commit_finish(struct store_writer *w, uint32_t *uid_r,
				   char **id_r, struct oim_err *err)
{
	struct imap_store_folder *f = w->f;
	uint32_t uid = 0, uidvalidity = 0;
	*uid_r = 0;
	if (id_r)
		*id_r = NULL;
	if (!w->cmd)
		BUG("save_commit_finish without save_commit_start");
	int rc = imap_append_wait(f->s->c, w->cmd, &uid, &uidvalidity, err);
	w->cmd = NULL; /* freed by imap_append_wait */
	imap_save_abort(w);
	if (rc) {
		/* a NO about this message (too big, refused content) costs
		 * the message; a missing folder or a dead link more */
		if (err->kind == OIM_E_IMAP_NO &&
		    !strstr(err->msg, "[TRYCREATE]"))
			err->sev = OIM_SEV_MESSAGE;
		return folder_fail(f, err);
	}
	if (uid && uidvalidity != f->base.state.uidvalidity) {
		oim_error(err, OIM_SEV_FOLDER, OIM_E_UIDVALIDITY,
			  "APPENDUID gave UIDVALIDITY %u, the folder had %u",
			  uidvalidity, f->base.state.uidvalidity);
		return folder_fail(f, err);
	}
	/* scan skips the FETCH of a folder that was empty when opened:
	 * it is not empty any more */
	f->base.state.exists++;
	*uid_r = uid;
	return 0;
}

static int imap_save_commit(struct store_writer *w, uint32_t *uid_r,
			    char **id_r, struct oim_err *err)
{
	*uid_r = 0;
	if (id_r)
		*id_r = NULL;
	if (imap_save_commit_start(w, err))
		return -1;
	return imap_save_commit_finish(w, uid_r, id_r, err);
}

/* ---- find_uid ---- */

struct find_ctx {
	const char *msgid; /* trimmed, NULL: no Message-ID check */
	size_t msgid_len;
	uint64_t size;
	int64_t date;
	uint32_t min_uid;
	uint32_t found;
};

/* The value of the one header field in h ("Message-ID: <x>\r\n\r\n",
 * folded lines joined), trimmed, into v. */
static void header_value(const char *h, size_t len, struct strbuf *v)
{
	const char *colon = memchr(h, ':', len);
	if (!colon)
		return;
	const char *p = colon + 1, *end = h + len;
	for (; p < end; p++) {
		if (*p == '\r' || *p == '\n') {
			if (*p == '\r' && p + 1 < end && p[1] == '\n')
				p++;
			/* a continuation line starts with blank space */
			if (p + 1 < end && (p[1] == ' ' || p[1] == '\t'))
				continue;
			break; /* the next header or the blank line */
		}
		strbuf_addch(v, *p);
	}
	strbuf_trim(v);
}

static bool header_msgid_is(const char *h, size_t len, const char *id,
			    size_t idlen)
{
	struct strbuf v = STRBUF_INIT;
	header_value(h, len, &v);
	bool eq = v.len == idlen && !memcmp(v.buf, id, idlen);
	strbuf_release(&v);
	return eq;
}

static int find_cb(void *vctx, const struct imap_fetch *fe, struct oim_err *err)
{
	struct find_ctx *fx = vctx;
	if (!(fe->has & IMAP_FETCH_UID) || fe->uid < fx->min_uid ||
	    (fx->found && fx->found < fe->uid))
		return 0;
	if (fx->size && (!(fe->has & IMAP_FETCH_SIZE) || fe->size != fx->size))
		return 0;
	if (fx->date > 0 && (!(fe->has & IMAP_FETCH_INTERNALDATE) ||
			     fe->internaldate != (time_t)fx->date))
		return 0;
	if (fx->msgid) {
		bool ok = false;
		for (size_t i = 0; i < fe->nbodies && !ok; i++) {
			const struct imap_arg *v = fe->bodies[i].value;
			if (v && (v->type == IMAP_ARG_STRING ||
				  v->type == IMAP_ARG_LITERAL))
				ok = header_msgid_is(v->u.str, v->len,
						     fx->msgid, fx->msgid_len);
		}
		if (!ok)
			return 0;
	}
	fx->found = fe->uid;
	return 0;
}

static int imap_find_uid(struct store_folder *bf, const char *message_id,
			 uint64_t size, int64_t date, uint32_t min_uid,
			 uint32_t *uid_r, struct oim_err *err)
{
	struct imap_store_folder *f = (struct imap_store_folder *)bf;
	struct imap_client *c = f->s->c;
	*uid_r = 0;
	if (!min_uid)
		min_uid = 1;
	struct find_ctx fx = {0};
	fx.size = size;
	fx.date = date >= MIN_APPEND_DATE ? date : 0;
	fx.min_uid = min_uid;
	if (message_id) {
		while (*message_id == ' ' || *message_id == '\t')
			message_id++;
		size_t l = strlen(message_id);
		while (l &&
		       (message_id[l - 1] == ' ' || message_id[l - 1] == '\t'))
			l--;
		if (l) {
			fx.msgid = message_id;
			fx.msgid_len = l;
		}
	}

	/* candidates: a server-side search when the Message-ID can be
	 * quoted, else every UID >= min_uid (checked one by one below) */
	struct strbuf crit = STRBUF_INIT, set = STRBUF_INIT;
	struct imap_seqset found = IMAP_SEQSET_INIT;
	char *id = fx.msgid ? xstrndup(fx.msgid, fx.msgid_len) : NULL;
	char *q = id ? imap_quote(id) : NULL;
	int rc = 0;
	if (q) {
		strbuf_addf(&crit, "UID %u:* HEADER Message-ID %s", min_uid, q);
		if (imap_uid_search(c, crit.buf, &found, err)) {
			rc = folder_fail(f, err);
			goto out;
		}
		imap_seqset_normalize(&found);
		if (!found.nr)
			goto out;
		imap_seqset_format(&set, &found);
	} else {
		strbuf_addf(&set, "%u:*", min_uid);
	}
	if (imap_uid_fetch(c, set.buf,
			   fx.msgid ? "(UID RFC822.SIZE INTERNALDATE "
				      "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])"
				    : "(UID RFC822.SIZE INTERNALDATE)",
			   0, find_cb, NULL, &fx, err)) {
		rc = folder_fail(f, err);
		goto out;
	}
	*uid_r = fx.found;
out:
	free(q);
	free(id);
	imap_seqset_release(&found);
	strbuf_release(&crit);
	strbuf_release(&set);
	return rc;
}

/* ---- msg_info ---- */

struct info_ctx {
	uint32_t uid;
	struct strbuf v;
	bool seen;
};

static int info_cb(void *vctx, const struct imap_fetch *fe, struct oim_err *err)
{
	struct info_ctx *ic = vctx;
	if (!(fe->has & IMAP_FETCH_UID) || fe->uid != ic->uid || ic->seen)
		return 0;
	for (size_t i = 0; i < fe->nbodies && !ic->seen; i++) {
		const struct imap_arg *v = fe->bodies[i].value;
		if (v && (v->type == IMAP_ARG_STRING ||
			  v->type == IMAP_ARG_LITERAL)) {
			header_value(v->u.str, v->len, &ic->v);
			ic->seen = true;
		}
	}
	return 0;
}

/* ---- changes since a MODSEQ ---- */

struct changes_ctx {
	struct store_msglist *out;
	uint64_t modseq;
	uint32_t *van;
	size_t nvan, avan; /* pairs */
	const struct imap_store *s;
};

static int changes_cb(void *vctx, const struct imap_fetch *fe,
		      struct oim_err *err)
{
	struct changes_ctx *x = vctx;
	(void)err;
	if (!(fe->has & IMAP_FETCH_UID) || !(fe->has & IMAP_FETCH_FLAGS))
		return 0;
	ALLOC_GROW(x->out->v, x->out->nr + 1, x->out->alloc);
	struct store_msg *m = &x->out->v[x->out->nr++];
	memset(m, 0, sizeof(*m));
	m->uid = fe->uid;
	m->flags = flags_from_imap(fe->flags) |
		   letters_from_keywords(x->s, fe->keywords, fe->nkeywords);
	if ((fe->has & IMAP_FETCH_MODSEQ) && fe->modseq > x->modseq)
		x->modseq = fe->modseq;
	return 0;
}

static int vanished_cb(void *vctx, const struct imap_seqset *uids, bool earlier,
		       struct oim_err *err)
{
	struct changes_ctx *x = vctx;
	(void)earlier;
	(void)err;
	for (size_t i = 0; i < uids->nr; i++) {
		ALLOC_GROW(x->van, 2 * (x->nvan + 1), x->avan);
		x->van[2 * x->nvan] = uids->r[i].lo;
		x->van[2 * x->nvan + 1] = uids->r[i].hi;
		x->nvan++;
	}
	return 0;
}

static int imap_msg_info(struct store_folder *bf, const struct store_msg *msg,
			 char **message_id_r, struct oim_err *err)
{
	struct imap_store_folder *f = (struct imap_store_folder *)bf;
	struct info_ctx ic = {.uid = msg->uid, .v = STRBUF_INIT};
	char set[16];
	*message_id_r = NULL;
	if (!msg->uid)
		BUG("store-imap: msg_info without a UID");
	snprintf(set, sizeof(set), "%u", msg->uid);
	if (imap_uid_fetch(f->s->c, set,
			   "(UID BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])", 0,
			   info_cb, NULL, &ic, err)) {
		strbuf_release(&ic.v);
		return folder_fail(f, err);
	}
	if (!ic.seen) {
		strbuf_release(&ic.v);
		return oim_error(err, OIM_SEV_MESSAGE, OIM_E_PROTOCOL,
				 "repository %s, folder %s: UID %u is gone",
				 f->s->base.repo, f->base.name, msg->uid);
	}
	if (ic.v.len)
		*message_id_r = strbuf_detach(&ic.v, NULL);
	strbuf_release(&ic.v);
	return 0;
}

/* UID FETCH 1:* (UID FLAGS MODSEQ) (CHANGEDSINCE m VANISHED): RFC 7162
 * 3.2.6; without QRESYNC expunges would go unseen, so not offered. */
static int imap_changes_since(struct store_folder *bf, uint64_t modseq,
			      struct store_msglist *changed, uint64_t *modseq_r,
			      uint32_t **vanished_r, size_t *nvanished_r,
			      struct oim_err *err)
{
	struct imap_store_folder *f = (struct imap_store_folder *)bf;
	struct changes_ctx x = {changed, 0, NULL, 0, 0, f->s};
	memset(changed, 0, sizeof(*changed));
	*modseq_r = 0;
	*vanished_r = NULL;
	*nvanished_r = 0;
	if (!modseq || !imap_qresync_enabled(f->s->c))
		return oim_error(err, OIM_SEV_MESSAGE, OIM_E_GENERIC,
				 "repository %s: no QRESYNC", f->s->base.repo);
	if (imap_uid_fetch(f->s->c, "1:*", "(UID FLAGS MODSEQ)", modseq,
			   changes_cb, vanished_cb, &x, err)) {
		store_msglist_release(changed);
		free(x.van);
		return folder_fail(f, err);
	}
	*modseq_r = x.modseq;
	*vanished_r = x.van;
	*nvanished_r = x.nvan;
	return 0;
}

/* ---- flags and deletion ---- */

static uint32_t *sorted_uids(struct store_msg *const *msgs, size_t n,
			     size_t *nr_r)
{
	uint32_t *v = xcalloc(n ? n : 1, sizeof(*v));
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (msgs[i]->uid)
			v[k++] = msgs[i]->uid;
	*nr_r = sort_uids(v, k);
	return v;
}

static int store_uids(struct imap_store_folder *f, const uint32_t *uids,
		      size_t n, enum imap_store_op op, unsigned flags,
		      const char *const *kw, size_t nkw, struct oim_err *err)
{
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < n;) {
		strbuf_reset(&sb);
		i += imap_uids_format(&sb, uids + i, n - i, UID_SET_MAX);
		if (imap_uid_store(f->s->c, sb.buf, op, flags, kw, nkw, 0, NULL,
				   err)) {
			strbuf_release(&sb);
			return folder_fail(f, err);
		}
	}
	strbuf_release(&sb);
	return 0;
}

static int imap_set_flags(struct store_folder *bf,
			  struct store_msg *const *msgs, size_t n,
			  sync_flags_t add, sync_flags_t del,
			  struct oim_err *err)
{
	struct imap_store_folder *f = (struct imap_store_folder *)bf;
	if (f->readonly)
		return readonly_fail(f, "change flags", err);
	unsigned iadd = flags_to_imap(add), idel = flags_to_imap(del);
	size_t nu, nka, nkd;
	const char **ka = keywords_of(f->s, add, &nka);
	const char **kd = keywords_of(f->s, del, &nkd);
	uint32_t *uids = sorted_uids(msgs, n, &nu);
	int rc = 0;
	if (nu && (iadd || nka))
		rc = store_uids(f, uids, nu, IMAP_STORE_ADD, iadd, ka, nka,
				err);
	if (!rc && nu && (idel || nkd))
		rc = store_uids(f, uids, nu, IMAP_STORE_REMOVE, idel, kd, nkd,
				err);
	free(uids);
	free(ka);
	free(kd);
	if (rc)
		return -1;
	for (size_t i = 0; i < n; i++)
		msgs[i]->flags = (msgs[i]->flags | add) & ~del;
	return 0;
}

static int imap_delete_msgs(struct store_folder *bf,
			    struct store_msg *const *msgs, size_t n,
			    struct oim_err *err)
{
	struct imap_store_folder *f = (struct imap_store_folder *)bf;
	if (f->readonly)
		return readonly_fail(f, "delete messages", err);
	size_t nu;
	uint32_t *uids = sorted_uids(msgs, n, &nu);
	/* a UID already expunged is not an error: STORE on a UID set
	 * skips UIDs that do not exist */
	int rc =
	    nu ? store_uids(f, uids, nu, IMAP_STORE_ADD, IMAP_FLAG_DELETED,
			    NULL, 0, err)
	       : 0;
	if (rc == 0 && nu && f->expunge_now) {
		/* gone before delete() returns: see STORE_OPEN_EXPUNGE */
		if (expunge_uids(f->s->c, uids, nu, err)) {
			free(uids);
			return folder_fail(f, err);
		}
		nu = 0; /* nothing left for close_folder */
	}
	if (rc == 0) {
		for (size_t i = 0; i < nu; i++) {
			ALLOC_GROW(f->deleted, f->ndeleted + 1,
				   f->deleted_alloc);
			f->deleted[f->ndeleted++] = uids[i];
		}
		for (size_t i = 0; i < n; i++)
			msgs[i]->flags |= SYNC_F_TRASHED;
	}
	free(uids);
	return rc;
}

/* ---- Gmail labels (synclabels) ---- */

/*
 * UID STORE <uids> +X-GM-LABELS ("a" "\\Inbox") as OfflineIMAP's Gmail
 * folder sends it (every label quoted, imaputil.quote), not .SILENT: the
 * FETCH answers are dropped.
 */
static int imap_labels_change(struct store_folder *bf,
			      struct store_msg *const *msgs, size_t n,
			      const struct labelset *labels, bool add,
			      struct oim_err *err)
{
	struct imap_store_folder *f = (struct imap_store_folder *)bf;
	struct strbuf list = STRBUF_INIT, cmd = STRBUF_INIT;
	size_t nu;
	uint32_t *uids;
	int rc = 0;

	if (f->readonly)
		return readonly_fail(f, "change labels", err);
	if (!labels->nr)
		return 0;
	for (size_t i = 0; i < labels->nr; i++) {
		char *q = imap_quote(labels->v[i]);
		if (!q) {
			strbuf_release(&list);
			return oim_error(err, OIM_SEV_MESSAGE, OIM_E_USAGE,
					 "label '%s' cannot be sent quoted",
					 labels->v[i]);
		}
		if (i)
			strbuf_addch(&list, ' ');
		strbuf_addstr(&list, q);
		free(q);
	}
	uids = sorted_uids(msgs, n, &nu);
	for (size_t i = 0; i < nu && !rc;) {
		strbuf_reset(&cmd);
		strbuf_addstr(&cmd, "UID STORE ");
		i += imap_uids_format(&cmd, uids + i, nu - i, UID_SET_MAX);
		strbuf_addf(&cmd, " %cX-GM-LABELS (%s)", add ? '+' : '-',
			    list.buf);
		rc = imap_simple(f->s->c, cmd.buf, NULL, NULL, err);
	}
	free(uids);
	strbuf_release(&list);
	strbuf_release(&cmd);
	return rc ? folder_fail(f, err) : 0;
}

/* ---- open ---- */

static const struct store_folder_ops imap_folder_ops = {
    .scan = imap_scan,
    .fetch = imap_fetch,
    .save_begin = imap_save_begin,
    .save_write = imap_save_write,
    .save_commit = imap_save_commit,
    .save_abort = imap_save_abort,
    .save_commit_start = imap_save_commit_start,
    .save_commit_finish = imap_save_commit_finish,
    .find_uid = imap_find_uid,
    .changes_since = imap_changes_since,
    .set_flags = imap_set_flags,
    .delete = imap_delete_msgs,
    .set_uid = NULL,
    .msg_info = imap_msg_info,
    .labels_change = imap_labels_change,
};

static const struct store_ops imap_store_ops = {
    .kind = "IMAP",
    .list_folders = imap_list_folders,
    .create_folder = imap_create_folder,
    .open_folder = imap_open_folder,
    .close_folder = imap_close_folder,
    .folder_states = imap_folder_states,
    .free = imap_store_free,
};

int store_imap_open(struct store **s_r, const struct store_imap_opts *o,
		    struct oim_err *err)
{
	*s_r = NULL;
	struct imap_client_opts co = {0};
	co.name = o->repo;
	co.host = o->host;
	co.port = o->port;
	co.ssl = o->ssl;
	co.starttls = o->starttls;
	co.family = (enum net_family)o->family;
	co.timeout_s = o->timeout_s;
	co.preauth_tunnel = o->preauth_tunnel;
	co.transport_tunnel = o->transport_tunnel;
	co.tls = o->tls;
	co.user = o->user;
	co.password = o->password;
	co.oauth2_token = o->oauth2_token;
	co.auth_mechanisms = o->auth_mechanisms;
	co.compress = o->compress;
	co.enable_qresync = true;
	co.enable_condstore = true;
	co.send_id = true;
	struct imap_client *c;
	if (imap_client_open(&c, &co, err)) {
		/* the client names the repository in some messages only */
		if (o->repo && !strstr(err->msg, o->repo))
			oim_err_prefix(err, "repository %s", o->repo);
		return -1;
	}
	struct imap_store *s = xcalloc(1, sizeof(*s));
	s->base.ops = &imap_store_ops;
	s->base.repo = xstrdup(o->repo ? o->repo : "");
	s->base.readonly = o->readonly;
	s->c = c;
	/* OfflineIMAP's default reference is the two characters "" */
	if (o->reference && *o->reference && strcmp(o->reference, "\"\""))
		s->reference = xstrdup(o->reference);
	s->subscribed_only = o->subscribed_only;
	s->utf8 = o->utf8foldernames;
	for (int i = 0; i < 26; i++)
		if (o->keywords[i])
			s->keywords[i] = xstrdup(o->keywords[i]);
	s->list_states = o->list_states;
	*s_r = &s->base;
	return 0;
}

int store_imap_examine(struct store *st, const char *folder,
		       struct oim_err *err)
{
	struct imap_store *s = (struct imap_store *)st;
	struct strbuf wire = STRBUF_INIT;
	struct imap_mailbox mb;
	int rc;

	if (st->ops != &imap_store_ops)
		BUG("store_imap_examine on a %s store", st->ops->kind);
	rc = wire_name(s, folder, &wire, err);
	if (!rc)
		rc = imap_select(s->c, wire.buf, IMAP_SELECT_EXAMINE, &mb, err);
	if (rc)
		oim_err_prefix(err, "repository %s, folder %s", st->repo,
			       folder);
	strbuf_release(&wire);
	return rc;
}

int store_imap_idle(struct store *st, unsigned timeout_s, int wake_fd,
		    bool *changed_r, struct oim_err *err)
{
	struct imap_store *s = (struct imap_store *)st;
	if (st->ops != &imap_store_ops)
		BUG("store_imap_idle on a %s store", st->ops->kind);
	*changed_r = false;
	if (!imap_has_cap(s->c, "IDLE")) {
		oim_error(err, OIM_SEV_FOLDER, OIM_E_PROTOCOL,
			  "repository %s: the server does not support IDLE",
			  st->repo);
		return 1;
	}
	int rc = imap_idle(s->c, timeout_s, wake_fd, changed_r, err);
	if (rc)
		oim_err_prefix(err, "repository %s", st->repo);
	return rc;
}
