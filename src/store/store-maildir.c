/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * store-maildir.c - the Maildir driver behind store.h, a thin layer over
 * maildir.h (which holds OfflineIMAP's formats and the crash-safety
 * reasoning).  What this file adds: the vtables, flag letters translated
 * between maildir.h's bit layout and plan.h's, sizes and dates for the
 * scan, the readonly checks, and per-message error handling in fetch.
 *
 * Semantics from OfflineIMAP's folder/Maildir.py:
 *  - get_uidvalidity() is always 42;
 *  - a message's date for maxage is the leading number of its file name
 *    (_iswithintime uses re_timestampmatch), unknown (0) without one;
 *  - the INTERNALDATE given to a Maildir save (rtime) is ignored: the file
 *    name's time is now, or the Date header with
 *    filename_use_mail_timestamp (maildir.h).
 */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../util/log.h"
#include "maildir.h"

/* Bytes handed to a fetch callback at a time. */
#define STORE_MAILDIR_CHUNK (64u * 1024)

struct mstore {
	struct store base; /* first: the engine sees a struct store */
	struct maildir_repo *repo;
	char infosep; /* ':' or '!' (maildir-windows-compatible) */
};

struct mfolder {
	struct store_folder base; /* first */
	struct maildir_folder *md;
	int dfd; /* the folder's directory, for the sizes in scan */
	bool readonly;
	bool opened_readonly; /* STORE_OPEN_READONLY (--dry-run) */
};

/* This driver's store_writer (store.h keeps the type opaque; each driver
 * casts its own). */
struct md_writer {
	struct mfolder *f;
	struct maildir_delivery *d;
	uint32_t uid;
};

static const struct store_ops mstore_ops;
static const struct store_folder_ops mfolder_ops;

static struct mstore *to_mstore(struct store *s)
{
	return (struct mstore *)s;
}

static struct mfolder *to_mfolder(struct store_folder *f)
{
	return (struct mfolder *)f;
}

/* ---- flags: maildir.h numbers '0'-'9','A'-'Z','_','a'-'z'; plan.h only
 * letters.  Digits and '_' (which no IMAP flag maps to) are kept in the
 * file name by set_flags, which edits the name's own flags. ---- */

static sync_flags_t flags_from_md(maildir_flags_t m)
{
	sync_flags_t s = 0;

	for (int c = 'A'; c <= 'Z'; c++)
		if (m & MAILDIR_FLAG_UC(c))
			s |= SYNC_FLAG(c);
	for (int c = 'a'; c <= 'z'; c++)
		if (m & MAILDIR_FLAG_LC(c))
			s |= SYNC_FLAG(c);
	return s;
}

static maildir_flags_t flags_to_md(sync_flags_t s)
{
	maildir_flags_t m = 0;

	for (int c = 'A'; c <= 'Z'; c++)
		if (s & SYNC_FLAG(c))
			m |= MAILDIR_FLAG_UC(c);
	for (int c = 'a'; c <= 'z'; c++)
		if (s & SYNC_FLAG(c))
			m |= MAILDIR_FLAG_LC(c);
	return m;
}

static int refuse_readonly(const struct store *s, const char *what,
			   const char *folder, struct oim_err *err)
{
	return oim_error(err, OIM_SEV_FOLDER, OIM_E_CONFIG,
			 "Maildir repository %s is read-only: not %s%s%s",
			 s->repo, what, folder ? " in folder " : "",
			 folder ? folder : "");
}

static int check_writable(struct mfolder *f, const char *what,
			  struct oim_err *err)
{
	if (!f->readonly)
		return 0;
	if (f->base.store->readonly)
		return refuse_readonly(f->base.store, what, f->base.name, err);
	return oim_error(err, OIM_SEV_FOLDER, OIM_E_USAGE,
			 "Maildir folder %s was opened read-only: not %s",
			 f->base.name, what);
}

/* ---- repository ---- */

static int mstore_list_folders(struct store *s, struct store_folder_list *out,
			       struct oim_err *err)
{
	struct mstore *ms = to_mstore(s);
	struct maildir_folder_names names = {0};

	if (maildir_repo_list(ms->repo, &names, err) < 0)
		return -1;
	out->sep = maildir_repo_sep(ms->repo);
	for (size_t i = 0; i < names.nr; i++) {
		ALLOC_GROW(out->v, out->nr + 1, out->alloc);
		/* The library lists only directories with cur, new and tmp
		 * (OfflineIMAP's _getfolders_scandir): none is a mere
		 * parent, so noselect stays false. */
		memset(&out->v[out->nr], 0, sizeof(out->v[out->nr]));
		out->v[out->nr].name = names.names[i];
		out->v[out->nr].noselect = false;
		out->nr++;
		names.names[i] = NULL;
	}
	maildir_folder_names_release(&names);
	return 0;
}

static int mstore_create_folder(struct store *s, const char *name,
				struct oim_err *err)
{
	struct mstore *ms = to_mstore(s);

	if (s->readonly)
		return refuse_readonly(s, "creating folder", name, err);
	return maildir_repo_create_folder(ms->repo, name, err);
}

static int mstore_open_folder(struct store *s, const char *name,
			      const char *visible_name, unsigned flags,
			      struct store_folder **f_r, struct oim_err *err)
{
	struct mstore *ms = to_mstore(s);
	struct maildir_folder *md;
	struct mfolder *f;
	bool ro;
	int dfd;

	*f_r = NULL;
	/* A read-only store or folder (readonly, --dry-run) creates
	 * nothing. */
	ro = s->readonly || (flags & STORE_OPEN_READONLY);
	if ((flags & STORE_OPEN_CREATE) && !ro &&
	    maildir_repo_create_folder(ms->repo, name, err) < 0)
		return -1;
	md = maildir_folder_open(ms->repo, name, visible_name, err);
	if (!md) {
		if ((flags & STORE_OPEN_CREATE) && ro)
			oim_err_prefix(err,
				       "Maildir folder opened read-only in "
				       "repository %s, so not created",
				       s->repo);
		return -1;
	}
	dfd = open(maildir_folder_path(md), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		int e = errno;
		oim_error(err, OIM_SEV_FOLDER, OIM_E_IO,
			  "cannot open Maildir folder %s: %s",
			  maildir_folder_path(md), strerror(e));
		maildir_folder_free(md);
		return -1;
	}
	f = xcalloc(1, sizeof(*f));
	f->base.ops = &mfolder_ops;
	f->base.store = s;
	f->base.name = xstrdup(name);
	/* folder/Maildir.py get_uidvalidity(): "Maildirs have no notion of
	 * uidvalidity, so we just return a magic token" */
	f->base.state.uidvalidity = 42;
	f->md = md;
	f->dfd = dfd;
	f->readonly = ro;
	f->opened_readonly = (flags & STORE_OPEN_READONLY) != 0;
	*f_r = &f->base;
	return 0;
}

static int mstore_close_folder(struct store_folder *sf, bool expunge,
			       struct oim_err *err)
{
	struct mfolder *f = to_mfolder(sf);
	int ret = 0;

	(void)expunge; /* deletions in a Maildir are immediate */
	/* restoreatime: put back the atimes seen at open (a no-op
	 * otherwise), as OfflineIMAP does after syncing a folder. */
	ret = maildir_folder_restore_atime(f->md, err);
	maildir_folder_free(f->md);
	close(f->dfd);
	free(sf->name);
	free(f);
	return ret;
}

static void mstore_free(struct store *s)
{
	struct mstore *ms = to_mstore(s);

	maildir_repo_free(ms->repo);
	free(s->repo);
	free(ms);
}

static const struct store_ops mstore_ops = {
    .kind = "Maildir",
    .list_folders = mstore_list_folders,
    .create_folder = mstore_create_folder,
    .open_folder = mstore_open_folder,
    .close_folder = mstore_close_folder,
    .free = mstore_free,
};

int store_maildir_open(struct store **s_r, const struct store_maildir_opts *o,
		       struct oim_err *err)
{
	char sep[2] = {o->sep ? o->sep : '.', '\0'};
	struct maildir_repo_opts ro = {
	    .localfolders = o->root,
	    .sep = sep,
	    .fsync = o->fsync,
	    .windows_compatible = o->windows_compatible,
	    .filename_use_mail_timestamp = o->filename_use_mail_timestamp,
	    .utime_from_header = o->utime_from_header,
	    .restoreatime = o->restoreatime,
	};
	struct maildir_repo *repo;
	struct mstore *ms;

	*s_r = NULL;
	repo = maildir_repo_new(&ro, err);
	if (!repo) {
		oim_err_prefix(err, "Repository %s",
			       o->repo ? o->repo : "(unnamed)");
		return -1;
	}
	ms = xcalloc(1, sizeof(*ms));
	ms->base.ops = &mstore_ops;
	ms->base.repo = xstrdup(o->repo ? o->repo : "");
	ms->base.readonly = o->readonly;
	ms->repo = repo;
	ms->infosep = o->windows_compatible ? '!' : ':';
	*s_r = &ms->base;
	return 0;
}

/* ---- scan ---- */

static int mfolder_scan(struct store_folder *sf,
			const struct store_scan_opts *o,
			struct store_msglist *out, struct oim_err *err)
{
	struct mfolder *f = to_mfolder(sf);
	struct mstore *ms = to_mstore(sf->store);
	struct maildir_scan_opts mo = {.min_uid = o ? o->min_uid : 0};
	struct maildir_msglist l = {0};

	if (maildir_folder_scan(f->md, &mo, &l, err) < 0)
		return -1;
	/* each already named by log_warn() in the library */
	out->skipped += l.skipped;
	ALLOC_GROW(out->v, out->nr + l.nr, out->alloc);
	for (size_t i = 0; i < l.nr; i++) {
		struct maildir_msg *m = &l.msgs[i];
		struct store_msg *sm = &out->v[out->nr++];
		const char *base = m->name + 4; /* after "cur/" or "new/" */
		struct maildir_name mn;
		struct stat st;

		memset(sm, 0, sizeof(*sm));
		sm->uid = m->uid;
		sm->flags = flags_from_md(m->flags);
		/* The scan parsed this name already, so this cannot fail;
		 * _iswithintime() takes the name's first digit run. */
		if (!maildir_name_parse(base, strlen(base), ms->infosep, &mn,
					NULL) &&
		    mn.has_time && mn.time > 0)
			sm->date = mn.time;
		/* One stat per message for its size (maxsize), unless the
		 * caller needs none.  A file a mail reader renamed or
		 * removed since readdir keeps size 0 rather than vanishing
		 * from the list: a missing message would read as a local
		 * deletion. */
		if (o && o->no_size)
			;
		else if (!fstatat(f->dfd, m->name, &st, 0))
			sm->size = (uint64_t)st.st_size;
		else if (errno != ENOENT) {
			int e = errno;
			oim_error(err, OIM_SEV_FOLDER, OIM_E_IO,
				  "cannot stat %s/%s: %s",
				  maildir_folder_path(f->md), m->name,
				  strerror(e));
			sm->id = m->name;
			m->name = NULL;
			maildir_msglist_release(&l);
			return -1;
		}
		sm->id = m->name;
		m->name = NULL;
	}
	maildir_msglist_release(&l);
	return 0;
}

/* ---- fetch ---- */

/* Stream one message to cb.  Returns 0 (delivered, or skipped by the
 * callback or because the file is gone: *err then says why with
 * OIM_SEV_MESSAGE), or -1 when the fetch must stop. */
static int fetch_one(struct mfolder *f, const struct store_msg *msg,
		     const struct store_body_cb *cb, void *ctx, char *buf,
		     struct oim_err *merr, struct oim_err *err)
{
	struct maildir_reader *r;
	int ret = 0;

	if (!msg->id)
		BUG("store-maildir: fetch of a message without id");
	if (maildir_reader_open(f->md, msg->id, false, &r, merr) < 0) {
		if (merr->sev <= OIM_SEV_MESSAGE)
			return 0; /* vanished: this message only */
		*err = *merr;
		return -1;
	}
	if (cb->begin(ctx, msg, err) < 0) {
		ret = err->sev >= OIM_SEV_ACCOUNT ? -1 : 0;
		goto out;
	}
	for (;;) {
		size_t len;
		/* The file is open: a rename or unlink by a mail reader
		 * does not disturb this read, so a failure here is the
		 * disk's, and the half-written message cannot be taken
		 * back from the callback (it has no abort): stop. */
		if (maildir_reader_read(r, buf, STORE_MAILDIR_CHUNK, &len,
					err) < 0) {
			if (err->sev < OIM_SEV_FOLDER)
				err->sev = OIM_SEV_FOLDER;
			ret = -1;
			goto out;
		}
		if (!len)
			break;
		if (cb->data(ctx, buf, len, err) < 0) {
			ret = err->sev >= OIM_SEV_ACCOUNT ? -1 : 0;
			goto out;
		}
	}
	if (cb->end(ctx, err) < 0 && err->sev >= OIM_SEV_ACCOUNT)
		ret = -1;
out:
	maildir_reader_free(r);
	return ret;
}

static int mfolder_fetch(struct store_folder *sf,
			 const struct store_msg *const *msgs, size_t n,
			 const struct store_body_cb *cb, void *ctx,
			 struct oim_err *err)
{
	struct mfolder *f = to_mfolder(sf);
	char *buf = xmalloc(STORE_MAILDIR_CHUNK);
	struct oim_err first = OIM_ERR_INIT;
	size_t failed = 0;
	int ret = 0;

	for (size_t i = 0; i < n; i++) {
		struct oim_err merr = OIM_ERR_INIT;
		if (fetch_one(f, msgs[i], cb, ctx, buf, &merr, err) < 0) {
			ret = -1;
			break;
		}
		if (merr.sev != OIM_SEV_NONE) {
			if (!failed++)
				first = merr;
			else
				log_warn("maildir: %s", merr.msg);
		}
	}
	free(buf);
	if (!ret && failed) {
		/* Every other message went through; tell the caller which
		 * could not be read (they were never begun). */
		*err = first;
		if (failed > 1)
			oim_err_prefix(err, "%zu messages could not be read",
				       failed);
		err->sev = OIM_SEV_MESSAGE;
		ret = -1;
	}
	return ret;
}

/* ---- save ---- */

static int mfolder_save_begin(struct store_folder *sf, uint32_t uid,
			      sync_flags_t flags, int64_t date,
			      uint64_t size_hint, struct store_writer **w_r,
			      struct oim_err *err)
{
	struct mfolder *f = to_mfolder(sf);
	struct maildir_delivery *d;
	struct md_writer *w;

	(void)date;	 /* OfflineIMAP's Maildir ignores rtime */
	(void)size_hint; /* streamed to tmp/ */
	*w_r = NULL;
	if (check_writable(f, "saving a message", err) < 0)
		return -1;
	if (!uid)
		return oim_error(err, OIM_SEV_MESSAGE, OIM_E_GENERIC,
				 "Maildir folder %s: a message is saved with "
				 "the UID it has on the other side, not 0",
				 sf->name);
	if (maildir_delivery_begin(f->md, uid, flags_to_md(flags), &d, err) < 0)
		return -1;
	w = xcalloc(1, sizeof(*w));
	w->f = f;
	w->d = d;
	w->uid = uid;
	*w_r = (struct store_writer *)w;
	return 0;
}

static int mfolder_save_write(struct store_writer *sw, const void *data,
			      size_t len, struct oim_err *err)
{
	struct md_writer *w = (struct md_writer *)sw;

	return maildir_delivery_write(w->d, data, len, err);
}

/* Frees w whatever happens (as maildir_delivery_commit frees d). */
static int mfolder_save_commit(struct store_writer *sw, uint32_t *uid_r,
			       char **id_r, struct oim_err *err)
{
	struct md_writer *w = (struct md_writer *)sw;
	uint32_t uid = w->uid;
	int ret;

	*uid_r = 0;
	*id_r = NULL;
	ret = maildir_delivery_commit(w->d, id_r, err);
	free(w);
	if (ret < 0)
		return -1;
	*uid_r = uid;
	return 0;
}

static void mfolder_save_abort(struct store_writer *sw)
{
	struct md_writer *w = (struct md_writer *)sw;

	if (!w)
		return;
	maildir_delivery_abort(w->d);
	free(w);
}

/* ---- changes to existing messages ---- */

static int mfolder_set_flags(struct store_folder *sf,
			     struct store_msg *const *msgs, size_t n,
			     sync_flags_t add, sync_flags_t del,
			     struct oim_err *err)
{
	struct mfolder *f = to_mfolder(sf);
	struct mstore *ms = to_mstore(sf->store);
	maildir_flags_t madd = flags_to_md(add), mdel = flags_to_md(del);
	struct oim_err first = OIM_ERR_INIT;
	size_t failed = 0;

	if (check_writable(f, "changing flags", err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct store_msg *m = msgs[i];
		struct oim_err merr = OIM_ERR_INIT;
		maildir_flags_t cur;
		struct maildir_name mn;
		const char *base;
		char *name = NULL;

		if (!m->id)
			BUG("store-maildir: set_flags without id");
		/* Start from the name's own flags, so letters plan.h cannot
		 * express (digits, '_') survive the rename. */
		base = strchr(m->id, '/');
		base = base ? base + 1 : m->id;
		if (!maildir_name_parse(base, strlen(base), ms->infosep, &mn,
					NULL))
			cur = mn.flags;
		else
			cur = flags_to_md(m->flags);
		cur = (cur | madd) & ~mdel;
		if (maildir_msg_set_flags(f->md, m->id, cur, &name, &merr) <
		    0) {
			struct stat st;
			/* Gone (a mail reader deleted it, and no file holds
			 * its UID): this message only; the next scan sees
			 * the deletion. */
			if (merr.sev > OIM_SEV_MESSAGE &&
			    fstatat(f->dfd, m->id, &st, 0) < 0 &&
			    errno == ENOENT)
				merr.sev = OIM_SEV_MESSAGE;
			if (merr.sev > OIM_SEV_MESSAGE) {
				*err = merr;
				return -1;
			}
			if (!failed++)
				first = merr;
			else
				log_warn("maildir: %s", merr.msg);
			continue;
		}
		free(m->id);
		m->id = name;
		m->flags = flags_from_md(cur);
	}
	if (failed) {
		/* The others were changed: their flags and ids say so. */
		*err = first;
		return -1;
	}
	return 0;
}

static int mfolder_delete(struct store_folder *sf,
			  struct store_msg *const *msgs, size_t n,
			  struct oim_err *err)
{
	struct mfolder *f = to_mfolder(sf);

	if (check_writable(f, "deleting messages", err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!msgs[i]->id)
			BUG("store-maildir: delete without id");
		/* deletemessage(): a file already gone is deleted */
		if (maildir_msg_delete(f->md, msgs[i]->id, err) < 0)
			return -1;
	}
	return 0;
}

static int mfolder_set_uid(struct store_folder *sf, struct store_msg *msg,
			   uint32_t uid, struct oim_err *err)
{
	struct mfolder *f = to_mfolder(sf);
	char *name = NULL;

	/* A read-only repository still gets the UID of a message it
	 * uploaded written into the file name, as OfflineIMAP does
	 * (change_message_uid): without it the next run would upload the
	 * message again.  Only a folder opened read-only (--dry-run)
	 * refuses. */
	if (f->opened_readonly)
		return check_writable(f, "renaming a message", err);
	if (!msg->id)
		BUG("store-maildir: set_uid without id");
	if (!uid)
		BUG("store-maildir: set_uid with UID 0");
	if (maildir_msg_set_uid(f->md, msg->id, uid, &name, err) < 0)
		return -1;
	free(msg->id);
	msg->id = name;
	msg->uid = uid;
	return 0;
}

static int mfolder_msg_info(struct store_folder *sf,
			    const struct store_msg *msg, char **message_id_r,
			    struct oim_err *err)
{
	struct mfolder *f = to_mfolder(sf);
	struct maildir_msg_info info;

	*message_id_r = NULL;
	if (!msg->id)
		BUG("store-maildir: msg_info without id");
	if (maildir_msg_info(f->md, msg->id, &info, err) < 0)
		return -1;
	*message_id_r = info.message_id;
	info.message_id = NULL;
	maildir_msg_info_release(&info);
	return 0;
}

static const struct store_folder_ops mfolder_ops = {
    .scan = mfolder_scan,
    .fetch = mfolder_fetch,
    .save_begin = mfolder_save_begin,
    .save_write = mfolder_save_write,
    .save_commit = mfolder_save_commit,
    .save_abort = mfolder_save_abort,
    .find_uid = NULL, /* only IMAP servers assign UIDs */
    .set_flags = mfolder_set_flags,
    .delete = mfolder_delete,
    .set_uid = mfolder_set_uid,
    .msg_info = mfolder_msg_info,
};
