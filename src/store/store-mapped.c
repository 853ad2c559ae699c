/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * store-mapped.c - an IMAP local repository behind OfflineIMAP's UID
 * mapping (store.h store_mapped_open(), folder/UIDMaps.py).
 *
 * The wrapper keeps the inner IMAP store's folder open and translates
 * UIDs at every call: the sync engine only ever sees remote UIDs (or 0 for
 * local mail not mapped yet), exactly as with a Maildir whose file names
 * carry the remote UID.  The map file plays the part of the Maildir name:
 * it is written after the message is on the local server and before the
 * status cache records it.
 *
 * OfflineIMAP's differences avoided here ("oimap:"): it appends to the
 * local server without a journal (a crash between APPEND and saving the
 * map uploads the message back to the remote as new mail), and it leaves
 * deleted messages \Deleted when the local repository does not expunge.
 */
#include <inttypes.h>

#include "../status/status.h"
#include "../util/log.h"
#include "store.h"

/* Bytes of a message's head kept to find its Message-ID. */
#define MAPPED_HEAD_MAX (64u * 1024)

struct mapped_store {
	struct store base;
	struct store *in;
	char *metadata;
	bool fsync;
};

struct mapped_folder {
	struct store_folder base;
	struct mapped_store *s;
	struct store_folder *in;
	struct status_uidmap *map;
	struct status_journal *jr; /* downloads to the local server */
	bool readonly;
	/* lowest local UID a message appended now can get */
	uint32_t min_luid;
};

struct store_writer {
	struct mapped_folder *f;
	struct store_writer *in;
	uint32_t ruid;
	int64_t date;
	uint64_t crlf_size; /* bytes as the IMAP writer sends them */
	bool prev_cr;
	struct strbuf head; /* up to the blank line, at most MAPPED_HEAD_MAX */
	bool head_done;
};

static const struct store_ops mapped_store_ops;
static const struct store_folder_ops mapped_folder_ops;

static struct mapped_folder *mf_of(struct store_folder *f)
{
	return (struct mapped_folder *)f;
}

static char *local_id(uint32_t luid)
{
	return xasprintf("local UID %" PRIu32, luid);
}

/* An inner message for an outer one (the inner store only reads uid). */
static struct store_msg inner_msg(const struct store_msg *m)
{
	struct store_msg x = *m;
	x.uid = m->native_uid;
	x.native_uid = 0;
	x.id = NULL;
	return x;
}

/* ---- the journal of appends to the local server ---- */

/* local_name field of a journal entry: "<remote uid>@<min local uid>" */
static int pending_parse(const char *s, uint32_t *ruid_r, uint32_t *min_r)
{
	const char *at = strchr(s, '@');
	uint64_t a, b;
	if (!at || oim_parse_u64(s, (size_t)(at - s), UINT32_MAX, &a) ||
	    oim_parse_u64(at + 1, strlen(at + 1), UINT32_MAX, &b) || !a)
		return -1;
	*ruid_r = (uint32_t)a;
	*min_r = (uint32_t)b;
	return 0;
}

/*
 * Appends journaled by a run that did not see them through: each is
 * looked for on the local server; when found its pair is recorded, else
 * the message never arrived and the sync copies it again.
 */
static int recover(struct mapped_folder *f, struct oim_err *err)
{
	size_t n = 0;
	struct status_journal_entry *v = status_journal_pending_copy(f->jr, &n);
	int ret = 0;

	if (!n)
		return 0;
	for (size_t i = 0; i < n && !ret; i++) {
		uint32_t ruid, min, luid = 0;
		if (pending_parse(v[i].local_name, &ruid, &min)) {
			ret = oim_error(err, OIM_SEV_FOLDER, OIM_E_STATUS,
					"folder %s: journal entry '%s' is not "
					"an append to the local server",
					f->base.name, v[i].local_name);
			break;
		}
		if (!status_uidmap_local(f->map, ruid)) {
			if (f->in->ops->find_uid(f->in, v[i].message_id,
						 v[i].size, v[i].internal_date,
						 min, &luid, err) < 0) {
				oim_err_prefix(err,
					       "looking for an interrupted "
					       "copy of remote UID %" PRIu32,
					       ruid);
				ret = -1;
				break;
			}
			if (luid && status_uidmap_remote(f->map, luid))
				luid = 0; /* that one is another message */
			log_info("folder %s: interrupted copy of remote UID "
				 "%" PRIu32 " to the local server: %s",
				 f->base.name, ruid,
				 luid ? "found, recording it"
				      : "not there, copying it again");
			if (luid &&
			    status_uidmap_set(f->map, luid, ruid, err) < 0) {
				ret = -1;
				break;
			}
		}
		if (status_journal_done(f->jr, v[i].id, luid, err) < 0)
			ret = -1;
	}
	status_journal_entries_free(v, n);
	if (ret == 0)
		ret = status_journal_clear(f->jr, err);
	if (ret < 0 && err->sev < OIM_SEV_FOLDER)
		err->sev = OIM_SEV_FOLDER;
	return ret;
}

/* ---- folders ---- */

static int m_list_folders(struct store *st, struct store_folder_list *out,
			  struct oim_err *err)
{
	struct mapped_store *s = (struct mapped_store *)st;
	return s->in->ops->list_folders(s->in, out, err);
}

static int m_create_folder(struct store *st, const char *name,
			   struct oim_err *err)
{
	struct mapped_store *s = (struct mapped_store *)st;
	return s->in->ops->create_folder(s->in, name, err);
}

static void folder_free(struct mapped_folder *f)
{
	status_uidmap_close(f->map);
	status_journal_close(f->jr);
	free(f->base.name);
	free(f);
}

static int m_open_folder(struct store *st, const char *name,
			 const char *visible_name, unsigned flags,
			 struct store_folder **f_r, struct oim_err *err)
{
	struct mapped_store *s = (struct mapped_store *)st;
	struct mapped_folder *f = xcalloc(1, sizeof(*f));
	unsigned sflags = 0;
	char *jdir = NULL;

	*f_r = NULL;
	f->base.ops = &mapped_folder_ops;
	f->base.store = st;
	f->base.name = xstrdup(name);
	f->s = s;
	f->readonly = s->base.readonly || (flags & STORE_OPEN_READONLY);
	if (f->readonly)
		sflags |= STATUS_OPEN_READONLY;
	if (!s->fsync)
		sflags |= STATUS_OPEN_NOFSYNC;
	/* Load the map before touching the server: a broken map stops the
	 * folder with nothing done. */
	if (status_uidmap_open(s->metadata, st->repo, name, sflags, &f->map,
			       err) < 0)
		goto fail;
	jdir = xasprintf("%s/Repository-%s", s->metadata, st->repo);
	if (status_journal_open(jdir, name, sflags, &f->jr, err) < 0)
		goto fail;
	/* oimap: deletions are expunged at once (see store.h) */
	if (!f->readonly)
		flags |= STORE_OPEN_EXPUNGE;
	if (s->in->ops->open_folder(s->in, name, visible_name, flags, &f->in,
				    err) < 0) {
		f->in = NULL;
		goto fail;
	}
	f->base.state = f->in->state;
	f->min_luid = f->in->state.uidnext ? f->in->state.uidnext : 1;
	if (!f->readonly && recover(f, err) < 0) {
		struct oim_err e2 = OIM_ERR_INIT;
		s->in->ops->close_folder(f->in, false, &e2);
		goto fail;
	}
	free(jdir);
	*f_r = &f->base;
	return 0;
fail:
	free(jdir);
	folder_free(f);
	if (err->sev < OIM_SEV_FOLDER)
		err->sev = OIM_SEV_FOLDER;
	return -1;
}

static int m_close_folder(struct store_folder *bf, bool expunge,
			  struct oim_err *err)
{
	struct mapped_folder *f = mf_of(bf);
	struct oim_err e2 = OIM_ERR_INIT;
	int rc = f->s->in->ops->close_folder(f->in, expunge, err);
	/* a journal with nothing pending is removed */
	if (!f->readonly && status_journal_clear(f->jr, &e2) < 0 && !rc) {
		*err = e2;
		rc = -1;
	}
	folder_free(f);
	return rc;
}

/* ---- scan ---- */

static int m_scan(struct store_folder *bf, const struct store_scan_opts *o,
		  struct store_msglist *out, struct oim_err *err)
{
	struct mapped_folder *f = mf_of(bf);
	struct store_msglist in = {0};
	uint32_t *present;
	int rc = 0;

	if (f->in->ops->scan(f->in, o, &in, err) < 0)
		return -1;
	present = xcalloc(in.nr + 1, sizeof(*present));
	for (size_t i = 0; i < in.nr; i++)
		present[i] = in.v[i].uid;
	/* Pairs of messages gone from the local server go (UIDMaps.py
	 * cachemessagelist); only from a complete list. */
	if (!f->readonly && !(o && o->min_uid > 1))
		rc = status_uidmap_keep_only(f->map, present, in.nr, err);
	free(present);
	for (size_t i = 0; i < in.nr && !rc; i++) {
		struct store_msg m = in.v[i];
		if (m.uid >= f->min_luid && m.uid < UINT32_MAX)
			f->min_luid = m.uid + 1;
		m.native_uid = m.uid;
		m.uid = status_uidmap_remote(f->map, m.native_uid);
		free(m.id);
		m.id = local_id(m.native_uid);
		ALLOC_GROW(out->v, out->nr + 1, out->alloc);
		out->v[out->nr++] = m;
		in.v[i].id = NULL;
		in.v[i].labels = NULL; /* moved with m */
	}
	f->base.state = f->in->state;
	store_msglist_release(&in);
	return rc;
}

/* ---- fetch ---- */

struct fetch_ctx {
	const struct store_msg *const *outer;
	const struct store_msg *inner; /* array parallel to outer */
	const struct store_body_cb *cb;
	void *ctx;
};

static int f_begin(void *vctx, const struct store_msg *msg,
		   struct oim_err *err)
{
	struct fetch_ctx *fc = vctx;
	size_t i = (size_t)(msg - fc->inner);
	return fc->cb->begin(fc->ctx, fc->outer[i], err);
}

static int f_data(void *vctx, const void *data, size_t len,
		  struct oim_err *err)
{
	struct fetch_ctx *fc = vctx;
	return fc->cb->data(fc->ctx, data, len, err);
}

static int f_end(void *vctx, struct oim_err *err)
{
	struct fetch_ctx *fc = vctx;
	return fc->cb->end(fc->ctx, err);
}

static int m_fetch(struct store_folder *bf, const struct store_msg *const *msgs,
		   size_t n, const struct store_body_cb *cb, void *ctx,
		   struct oim_err *err)
{
	struct mapped_folder *f = mf_of(bf);
	struct store_msg *in = xcalloc(n + 1, sizeof(*in));
	const struct store_msg **ptr = xcalloc(n + 1, sizeof(*ptr));
	static const struct store_body_cb wrap = {f_begin, f_data, f_end};
	struct fetch_ctx fc = {msgs, in, cb, ctx};
	int rc;

	for (size_t i = 0; i < n; i++) {
		in[i] = inner_msg(msgs[i]);
		ptr[i] = &in[i];
	}
	rc = f->in->ops->fetch(f->in, ptr, n, &wrap, &fc, err);
	free(ptr);
	free(in);
	return rc;
}

/* ---- save: a message from the remote, appended to the local server ---- */

static int m_save_begin(struct store_folder *bf, uint32_t uid,
			sync_flags_t flags, int64_t date, uint64_t size_hint,
			struct store_writer **w_r, struct oim_err *err)
{
	struct mapped_folder *f = mf_of(bf);
	struct store_writer *in = NULL;

	*w_r = NULL;
	if (!uid)
		BUG("store-mapped: save without the remote UID");
	if (f->in->ops->save_begin(f->in, 0, flags, date, size_hint, &in,
				   err) < 0)
		return -1;
	struct store_writer *w = xcalloc(1, sizeof(*w));
	w->f = f;
	w->in = in;
	w->ruid = uid;
	w->date = date;
	strbuf_init(&w->head, 0);
	*w_r = w;
	return 0;
}

/* Keep the head until its blank line (LF or CRLF line ends). */
static void keep_head(struct store_writer *w, const char *p, size_t len)
{
	for (size_t i = 0; i < len && !w->head_done; i++) {
		strbuf_addch(&w->head, p[i]);
		size_t hl = w->head.len;
		const char *h = w->head.buf;
		if ((hl >= 2 && h[hl - 1] == '\n' && h[hl - 2] == '\n') ||
		    (hl >= 3 && h[hl - 1] == '\n' && h[hl - 2] == '\r' &&
		     h[hl - 3] == '\n') ||
		    hl >= MAPPED_HEAD_MAX)
			w->head_done = true;
	}
}

static int m_save_write(struct store_writer *w, const void *data, size_t len,
			struct oim_err *err)
{
	const unsigned char *p = data;
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '\n' && !w->prev_cr)
			w->crlf_size++;
		w->prev_cr = p[i] == '\r';
	}
	w->crlf_size += len;
	keep_head(w, data, len);
	return w->f->in->ops->save_write(w->in, data, len, err);
}

static void m_save_abort(struct store_writer *w)
{
	if (!w)
		return;
	w->f->in->ops->save_abort(w->in);
	strbuf_release(&w->head);
	free(w);
}

/* The Message-ID in a message head ("" if none). */
static char *head_message_id(const struct strbuf *head)
{
	const char *h = head->buf ? head->buf : "";
	size_t len = head->len;
	struct strbuf v = STRBUF_INIT;
	for (size_t i = 0; i < len;) {
		const char *nl = memchr(h + i, '\n', len - i);
		size_t ll = nl ? (size_t)(nl - (h + i)) : len - i;
		if (ll == 0 || (ll == 1 && h[i] == '\r'))
			break; /* the blank line */
		if (ll > 11 && !oim_strncasecmp(h + i, "Message-ID:", 11)) {
			size_t j = i + 11;
			for (;;) {
				const char *e = memchr(h + j, '\n', len - j);
				size_t el = e ? (size_t)(e - (h + j)) : len - j;
				strbuf_add(&v, h + j, el);
				j += el + (e ? 1 : 0);
				/* folded: the next line starts blank */
				if (!e || j >= len ||
				    (h[j] != ' ' && h[j] != '\t'))
					break;
			}
			break;
		}
		i += ll + (nl ? 1 : 0);
	}
	for (size_t i = 0; i < v.len; i++)
		if (v.buf[i] == '\r' || v.buf[i] == '\t')
			v.buf[i] = ' ';
	strbuf_trim(&v);
	return strbuf_detach(&v, NULL);
}

static int m_save_commit(struct store_writer *w, uint32_t *uid_r, char **id_r,
			 struct oim_err *err)
{
	struct mapped_folder *f = w->f;
	char *mid = head_message_id(&w->head);
	char name[32];
	uint64_t jid = 0;
	uint32_t luid = 0;
	uint32_t min = f->min_luid;
	int rc = -1;

	*uid_r = 0;
	if (id_r)
		*id_r = NULL;
	snprintf(name, sizeof(name), "%" PRIu32 "@%" PRIu32, w->ruid, min);
	/* the intent, durably, before the APPEND */
	if (status_journal_add(f->jr, name, mid, w->crlf_size, w->date, &jid,
			       err) < 0) {
		f->in->ops->save_abort(w->in);
		if (err->sev < OIM_SEV_FOLDER)
			err->sev = OIM_SEV_FOLDER;
		goto out;
	}
	if (f->in->ops->save_commit(w->in, &luid, NULL, err) < 0)
		goto out; /* the entry stays: the next open looks for it */
	if (!luid && f->in->ops->find_uid(f->in, mid, w->crlf_size, w->date,
					  min, &luid, err) < 0)
		goto out;
	if (!luid) {
		oim_error(err, OIM_SEV_MESSAGE, OIM_E_PROTOCOL,
			  "folder %s: remote UID %" PRIu32 " was copied to "
			  "the local server, which did not say which UID it "
			  "got, and it was not found; the next run looks for "
			  "it again",
			  f->base.name, w->ruid);
		goto out;
	}
	if (luid >= f->min_luid && luid < UINT32_MAX)
		f->min_luid = luid + 1;
	if (status_uidmap_set(f->map, luid, w->ruid, err) < 0 ||
	    status_journal_done(f->jr, jid, luid, err) < 0)
		goto out;
	*uid_r = w->ruid;
	if (id_r)
		*id_r = local_id(luid);
	rc = 0;
out:
	free(mid);
	strbuf_release(&w->head);
	free(w);
	return rc;
}

/* ---- changes ---- */

/* Inner copies of msgs[0..n) and pointers to them. */
static struct store_msg **inner_ptrs(struct store_msg *const *msgs, size_t n,
				     struct store_msg **in_r)
{
	struct store_msg *in = xcalloc(n + 1, sizeof(*in));
	struct store_msg **ptr = xcalloc(n + 1, sizeof(*ptr));
	for (size_t i = 0; i < n; i++) {
		in[i] = inner_msg(msgs[i]);
		ptr[i] = &in[i];
	}
	*in_r = in;
	return ptr;
}

static int m_set_flags(struct store_folder *bf, struct store_msg *const *msgs,
		       size_t n, sync_flags_t add, sync_flags_t del,
		       struct oim_err *err)
{
	struct mapped_folder *f = mf_of(bf);
	struct store_msg *in;
	struct store_msg **ptr = inner_ptrs(msgs, n, &in);
	int rc = f->in->ops->set_flags(f->in, ptr, n, add, del, err);
	if (rc == 0)
		for (size_t i = 0; i < n; i++)
			msgs[i]->flags = in[i].flags;
	free(ptr);
	free(in);
	return rc;
}

static int m_delete(struct store_folder *bf, struct store_msg *const *msgs,
		    size_t n, struct oim_err *err)
{
	struct mapped_folder *f = mf_of(bf);
	struct store_msg *in;
	struct store_msg **ptr = inner_ptrs(msgs, n, &in);
	int rc = f->in->ops->delete(f->in, ptr, n, err);
	if (rc == 0) {
		/* expunged (STORE_OPEN_EXPUNGE): the pairs go too */
		uint32_t *l = xcalloc(n + 1, sizeof(*l));
		for (size_t i = 0; i < n; i++) {
			msgs[i]->flags = in[i].flags;
			l[i] = msgs[i]->native_uid;
		}
		rc = status_uidmap_drop(f->map, l, n, err);
		free(l);
	}
	free(ptr);
	free(in);
	return rc;
}

static int m_set_uid(struct store_folder *bf, struct store_msg *msg,
		     uint32_t uid, struct oim_err *err)
{
	struct mapped_folder *f = mf_of(bf);
	if (!msg->native_uid)
		BUG("store-mapped: set_uid on a message without local UID");
	if (status_uidmap_set(f->map, msg->native_uid, uid, err) < 0)
		return -1;
	msg->uid = uid;
	return 0;
}

static int m_msg_info(struct store_folder *bf, const struct store_msg *msg,
		      char **message_id_r, struct oim_err *err)
{
	struct mapped_folder *f = mf_of(bf);
	struct store_msg in = inner_msg(msg);
	return f->in->ops->msg_info(f->in, &in, message_id_r, err);
}

static void m_free(struct store *st)
{
	struct mapped_store *s = (struct mapped_store *)st;
	store_close(s->in);
	free(s->metadata);
	free(s->base.repo);
	free(s);
}

static const struct store_folder_ops mapped_folder_ops = {
    .scan = m_scan,
    .fetch = m_fetch,
    .save_begin = m_save_begin,
    .save_write = m_save_write,
    .save_commit = m_save_commit,
    .save_abort = m_save_abort,
    .find_uid = NULL, /* the engine looks for uploads on the remote only */
    .set_flags = m_set_flags,
    .delete = m_delete,
    .set_uid = m_set_uid,
    .msg_info = m_msg_info,
};

static const struct store_ops mapped_store_ops = {
    .kind = "IMAP",
    .list_folders = m_list_folders,
    .create_folder = m_create_folder,
    .open_folder = m_open_folder,
    .close_folder = m_close_folder,
    .free = m_free,
};

int store_mapped_open(struct store **s_r, struct store *inner,
		      const struct store_mapped_opts *o, struct oim_err *err)
{
	struct mapped_store *s = xcalloc(1, sizeof(*s));
	(void)err;
	s->base.ops = &mapped_store_ops;
	s->base.repo = xstrdup(inner->repo);
	s->base.readonly = inner->readonly;
	s->in = inner;
	s->metadata = xstrdup(o->metadata_dir);
	s->fsync = o->fsync;
	*s_r = &s->base;
	return 0;
}
