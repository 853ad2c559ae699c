/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * account-names.c - which folders an account syncs, and which it creates:
 * OfflineIMAP's folderfilter / folderincludes / nametrans rules and its
 * round-trip check, as pure functions over the two folder lists (see
 * account.h).
 */
#include <locale.h>
#include <pthread.h>
#include <wctype.h>

#include "../imap/utf7.h"
#include "../pyeval/pyeval.h"
#include "../util/log.h"
#include "../util/strbuf.h"
#include "../util/util.h"
#include "account.h"

char *acct_sep_translate(const char *name, char from, char to)
{
	char *s = xstrdup(name);
	if (from == to)
		return s;
	for (char *p = s; *p; p++)
		if (*p == from)
			*p = to;
	return s;
}

int acct_visible_name(const struct acct_repo_rules *r, const char *name,
		      char **out_r, struct oim_err *err)
{
	char *v = NULL;
	*out_r = NULL;
	if (r->nametrans) {
		if (pyeval_call_str(r->nametrans, name, &v, err)) {
			oim_err_prefix(err, "repository %s: nametrans of '%s'",
				       r->repo, name);
			return -1;
		}
	} else {
		v = xstrdup(name);
	}
	/* folder/Base.py: a visible name that is the separator is the
	 * top-level folder, which Maildir scanning calls "". */
	if (v[0] == r->sep && v[1] == '\0')
		v[0] = '\0';
	/*
	 * folder/IMAP.py, after Base.__init__: decodefoldernames decodes
	 * the visible name (nametrans's output) from modified UTF-7, and
	 * keeps it as it was when it cannot be decoded
	 * (imaputil.decode_mailbox_name).  oimap: OfflineIMAP 8 fails here
	 * on every name (str has no decode() in Python 3); this is what
	 * OfflineIMAP 7 did, but "&-" is '&' as RFC 3501 says, where
	 * OfflineIMAP 7's UTF-7 detour gave '+'.
	 */
	if (r->decode && strchr(v, '&')) {
		struct strbuf sb = STRBUF_INIT;
		struct oim_err e = OIM_ERR_INIT;
		if (!imap_utf7_decode(v, strlen(v), &sb, &e)) {
			free(v);
			v = strbuf_detach(&sb, NULL);
		} else {
			log_debug(OIM_DBG_SYNC,
				  "decodefoldernames: keeping '%s' as it is "
				  "(%s)",
				  v, e.msg);
			strbuf_release(&sb);
		}
	}
	*out_r = v;
	return 0;
}

int acct_create_name(const struct acct_repo_rules *r, const char *name,
		     char **out_r, struct oim_err *err)
{
	struct strbuf sb = STRBUF_INIT;
	*out_r = NULL;
	if (!r->decode) {
		*out_r = xstrdup(name);
		return 0;
	}
	if (imap_utf7_encode(name, strlen(name), &sb, err)) {
		strbuf_release(&sb);
		oim_err_prefix(err,
			       "repository %s: folder '%s' cannot be encoded "
			       "for decodefoldernames",
			       r->repo, name);
		return -1;
	}
	*out_r = strbuf_detach(&sb, NULL);
	return 0;
}

static bool in_strv(const char *const *v, const char *s)
{
	for (; v && *v; v++)
		if (!strcmp(*v, s))
			return true;
	return false;
}

int acct_should_sync(const struct acct_repo_rules *r, const char *name,
		     bool *out_r, struct oim_err *err)
{
	*out_r = true;
	if (in_strv(r->includes, name))
		return 0;
	if (r->only) {
		*out_r = in_strv(r->only, name);
		return 0;
	}
	if (!r->folderfilter)
		return 0;
	if (pyeval_call_bool(r->folderfilter, &name, 1, out_r, err)) {
		oim_err_prefix(err, "repository %s: folderfilter of '%s'",
			       r->repo, name);
		return -1;
	}
	return 0;
}

void acct_folder_plan_release(struct acct_folder_plan *p)
{
	for (size_t i = 0; i < p->n_create_local; i++)
		free(p->create_local[i]);
	for (size_t i = 0; i < p->n_create_remote; i++)
		free(p->create_remote[i]);
	for (size_t i = 0; i < p->n_pairs; i++) {
		free(p->pairs[i].remote_name);
		free(p->pairs[i].remote_visible);
		free(p->pairs[i].local_name);
		free(p->pairs[i].local_visible);
	}
	for (size_t i = 0; i < p->n_missing; i++) {
		free(p->missing[i].remote_name);
		free(p->missing[i].remote_visible);
		free(p->missing[i].local_name);
		free(p->missing[i].clash);
	}
	free(p->create_local);
	free(p->create_remote);
	free(p->pairs);
	free(p->missing);
	memset(p, 0, sizeof(*p));
}

void acct_missing_error(const struct acct_repo_rules *remote,
			const struct acct_repo_rules *local,
			const struct acct_folder_missing *m,
			struct oim_err *err)
{
	const char *why =
	    local->readonly ? "readonly = yes" : "createfolders = no";
	if (m->clash) {
		oim_error(err, OIM_SEV_FOLDER, OIM_E_CONFIG,
			  "folders '%s' and '%s' [%s] would both be synced "
			  "with the local folder '%s' and one status cache, "
			  "mixing up their messages; neither is synced.  Give "
			  "them different names with nametrans, or leave one "
			  "out with folderfilter on repository %s",
			  m->remote_name, m->clash, remote->repo, m->local_name,
			  remote->repo);
		return;
	}
	oim_error(err, OIM_SEV_FOLDER, OIM_E_CONFIG,
		  "folder '%s' [%s] not synced: its local folder '%s' does not "
		  "exist in repository %s, which has %s; create it there, or "
		  "leave the folder out with folderfilter on repository %s",
		  m->remote_name, remote->repo, m->local_name, local->repo, why,
		  remote->repo);
}

/* Any entry, \Noselect ones included: they exist, they cannot be made. */
static bool in_list(const struct store_folder_list *l, const char *name,
		    bool selectable_only)
{
	for (size_t i = 0; i < l->nr; i++)
		if (!strcmp(l->v[i].name, name))
			return !selectable_only || !l->v[i].noselect;
	return false;
}

static bool in_names(char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i], s))
			return true;
	return false;
}

/*
 * accounts.py: a remote name holding the local separator cannot come back
 * from the local name, unless that separator is '/' (a directory) or the
 * remote's own.
 */
static bool sep_clash(const struct acct_repo_rules *remote,
		      const struct acct_repo_rules *local, const char *name)
{
	return local->sep != '/' && local->sep != remote->sep &&
	       strchr(name, local->sep);
}

static void push_remote(struct acct_folder_plan *p,
			const struct store_folder_list *rl, const char *name,
			char sep)
{
	/* IMAP.py makefolder: every parent first, each one created only if
	 * missing (oimap asks only for those not listed). */
	for (const char *s = strchr(name, sep); s && sep;
	     s = strchr(s + 1, sep)) {
		char *parent = xstrndup(name, (size_t)(s - name));
		if (*parent && !in_list(rl, parent, false) &&
		    !in_names(p->create_remote, p->n_create_remote, parent)) {
			ALLOC_GROW(p->create_remote, p->n_create_remote,
				   p->alloc_cr);
			p->create_remote[p->n_create_remote++] = parent;
		} else {
			free(parent);
		}
	}
	ALLOC_GROW(p->create_remote, p->n_create_remote, p->alloc_cr);
	p->create_remote[p->n_create_remote++] = xstrdup(name);
}

static int plan_create_local(const struct acct_repo_rules *remote,
			     const struct store_folder_list *rl,
			     const struct acct_repo_rules *local,
			     const struct store_folder_list *ll,
			     struct acct_folder_plan *p, struct oim_err *err)
{
	for (size_t i = 0; i < rl->nr; i++) {
		const char *name = rl->v[i].name;
		bool sync_this;
		char *vis, *lname;
		if (rl->v[i].noselect || !*name)
			continue;
		if (acct_should_sync(remote, name, &sync_this, err))
			return -1;
		if (!sync_this || sep_clash(remote, local, name))
			continue;
		if (acct_visible_name(remote, name, &vis, err))
			return -1;
		lname = acct_sep_translate(vis, remote->sep, local->sep);
		free(vis);
		if (!*lname || in_list(ll, lname, false) ||
		    in_names(p->create_local, p->n_create_local, lname)) {
			free(lname);
			continue;
		}
		ALLOC_GROW(p->create_local, p->n_create_local, p->alloc_cl);
		p->create_local[p->n_create_local++] = lname;
	}
	return 0;
}

static int plan_create_remote(const struct acct_repo_rules *remote,
			      const struct store_folder_list *rl,
			      const struct acct_repo_rules *local,
			      const struct store_folder_list *ll,
			      struct acct_folder_plan *p, struct oim_err *err)
{
	for (size_t i = 0; i < ll->nr; i++) {
		const char *name = ll->v[i].name;
		bool sync_this;
		char *vis, *rname, *back, *loop;
		if (ll->v[i].noselect || !*name)
			continue;
		if (acct_should_sync(local, name, &sync_this, err))
			return -1;
		if (!sync_this)
			continue;
		if (acct_visible_name(local, name, &vis, err))
			return -1;
		back = acct_sep_translate(vis, local->sep, remote->sep);
		free(vis);
		if (acct_create_name(remote, back, &rname, err)) {
			/* a Maildir name that is not UTF-8: warn, go on */
			log_warn(
			    "not creating folder '%s' on repository %s: %s",
			    back, remote->repo, err->msg);
			oim_err_clear(err);
			free(back);
			continue;
		}
		free(back);
		if (!*rname || in_list(rl, rname, false) ||
		    in_names(p->create_remote, p->n_create_remote, rname)) {
			free(rname);
			continue;
		}
		if (acct_should_sync(remote, rname, &sync_this, err)) {
			free(rname);
			return -1;
		}
		if (!sync_this) {
			log_debug(OIM_DBG_SYNC,
				  "not creating folder '%s' (repository '%s') "
				  "as it would be filtered out on that "
				  "repository",
				  rname, remote->repo);
			free(rname);
			continue;
		}
		/* The round trip: the remote nametrans of the new name must
		 * give the local name back, or the next run would create
		 * yet another folder (repository/Base.py). */
		if (acct_visible_name(remote, rname, &back, err)) {
			free(rname);
			return -1;
		}
		loop = acct_sep_translate(back, remote->sep, local->sep);
		free(back);
		if (strcmp(loop, name)) {
			oim_error(
			    err, OIM_SEV_ACCOUNT, OIM_E_CONFIG,
			    "infinite folder creation detected: folder "
			    "'%s' (repository '%s') would be created as "
			    "folder '%s' (repository '%s'), which becomes "
			    "'%s' in return; set nametrans on both "
			    "repositories so that they are each other's "
			    "inverse, or use folderfilter to keep such "
			    "folders from being created",
			    name, local->repo, rname, remote->repo, loop);
			free(loop);
			free(rname);
			return -1;
		}
		free(loop);
		push_remote(p, rl, rname, remote->sep);
		free(rname);
	}
	return 0;
}

int acct_plan_create(const struct acct_repo_rules *remote,
		     const struct store_folder_list *rl,
		     const struct acct_repo_rules *local,
		     const struct store_folder_list *ll,
		     struct acct_folder_plan *plan, struct oim_err *err)
{
	if (local->create &&
	    plan_create_local(remote, rl, local, ll, plan, err))
		return -1;
	if (remote->create &&
	    plan_create_remote(remote, rl, local, ll, plan, err))
		return -1;
	return 0;
}

/*
 * The default order (repository/IMAP.py getfolders): Python's sort, which
 * is stable, with key str.lower(visible name), compared code point by
 * code point.  str.lower() is Unicode's: towlower() in a UTF-8 locale
 * (glibc's C.UTF-8) gives the same simple mappings; Python's few
 * context-dependent ones (final sigma, U+0130) are not reproduced.
 * Without that locale only ASCII is lower-cased.
 */
static pthread_once_t utf8_once = PTHREAD_ONCE_INIT;
static locale_t utf8_loc;

static void utf8_init(void)
{
	utf8_loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

/* Next code point of *s (advanced); a byte that is not valid UTF-8 is
 * itself plus 0xDC00, as Python's surrogateescape reads it. */
static uint32_t next_cp(const unsigned char **s)
{
	const unsigned char *p = *s;
	uint32_t c = p[0];
	size_t n = c < 0x80		   ? 1
		   : c >= 0xC2 && c < 0xE0 ? 2
		   : c >= 0xE0 && c < 0xF0 ? 3
		   : c >= 0xF0 && c < 0xF5 ? 4
					   : 0;
	if (n == 1 || n == 0) {
		*s = p + 1;
		return n ? c : 0xDC00 + c;
	}
	uint32_t cp = c & (0x7Fu >> n);
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80) {
			*s = p + 1;
			return 0xDC00 + c;
		}
		cp = cp << 6 | (p[i] & 0x3Fu);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp < 0xE000))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10FFFF))) {
		*s = p + 1;
		return 0xDC00 + c;
	}
	*s = p + n;
	return cp;
}

static uint32_t lower_cp(uint32_t c)
{
	if (c < 0x80)
		return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
	if (!utf8_loc || (c >= 0xDC80 && c < 0xDD00))
		return c;
	return (uint32_t)towlower_l((wint_t)c, utf8_loc);
}

static int cmp_lower(const char *a, const char *b)
{
	const unsigned char *p = (const unsigned char *)a;
	const unsigned char *q = (const unsigned char *)b;
	pthread_once(&utf8_once, utf8_init);
	while (*p && *q) {
		uint32_t x = lower_cp(next_cp(&p)), y = lower_cp(next_cp(&q));
		if (x != y)
			return x < y ? -1 : 1;
	}
	return (int)(*p != 0) - (int)(*q != 0);
}

/* Stable merge sort of the pairs by cmp_lower of the visible names. */
static void merge_sort(struct acct_folder_pair *v, struct acct_folder_pair *tmp,
		       size_t n)
{
	if (n < 2)
		return;
	size_t h = n / 2, i = 0, j = h, k = 0;
	merge_sort(v, tmp, h);
	merge_sort(v + h, tmp, n - h);
	while (i < h && j < n)
		tmp[k++] =
		    cmp_lower(v[j].remote_visible, v[i].remote_visible) < 0
			? v[j++]
			: v[i++];
	while (i < h)
		tmp[k++] = v[i++];
	while (j < n)
		tmp[k++] = v[j++];
	memcpy(v, tmp, n * sizeof(*v));
}

static int sort_pairs(const struct acct_repo_rules *remote,
		      struct acct_folder_plan *p, struct oim_err *err)
{
	if (!p->n_pairs)
		return 0;
	if (!remote->foldersort) {
		struct acct_folder_pair *tmp =
		    xcalloc(p->n_pairs, sizeof(*tmp));
		merge_sort(p->pairs, tmp, p->n_pairs);
		free(tmp);
		return 0;
	}
	const char **names = xcalloc(p->n_pairs, sizeof(*names));
	size_t *order = xcalloc(p->n_pairs, sizeof(*order));
	struct acct_folder_pair *sorted = xcalloc(p->n_pairs, sizeof(*sorted));
	int rc = 0;
	for (size_t i = 0; i < p->n_pairs; i++)
		names[i] = p->pairs[i].remote_visible;
	if (pyeval_sort_cmp(remote->foldersort, names, p->n_pairs, order,
			    err)) {
		oim_err_prefix(err, "repository %s", remote->repo);
		rc = -1;
	} else {
		for (size_t i = 0; i < p->n_pairs; i++)
			sorted[i] = p->pairs[order[i]];
		memcpy(p->pairs, sorted, p->n_pairs * sizeof(*sorted));
	}
	free(sorted);
	free(order);
	free(names);
	return rc;
}

static int add_pair(const struct acct_repo_rules *remote,
		    const struct acct_repo_rules *local,
		    const struct store_folder_list *ll, const char *name,
		    bool dry_run, struct acct_folder_plan *p,
		    struct oim_err *err)
{
	bool sync_this;
	char *rvis = NULL, *lname = NULL, *lvis = NULL;
	bool missing;

	if (acct_should_sync(remote, name, &sync_this, err))
		return -1;
	if (!sync_this) {
		log_debug(OIM_DBG_SYNC, "not syncing filtered folder '%s' [%s]",
			  name, remote->repo);
		return 0;
	}
	if (sep_clash(remote, local, name)) {
		log_warn("ignoring folder '%s' due to unsupported '%c' "
			 "character serving as local separator",
			 name, local->sep);
		return 0;
	}
	if (acct_visible_name(remote, name, &rvis, err))
		return -1;
	lname = acct_sep_translate(rvis, remote->sep, local->sep);
	missing = !in_list(ll, lname, true);
	if (acct_should_sync(local, lname, &sync_this, err))
		goto fail;
	if (!sync_this) {
		/* oimap: a missing folder the local folderfilter leaves out
		 * is not an error (OfflineIMAP looks the local folder up
		 * before it asks the filter) */
		log_debug(OIM_DBG_SYNC, "not syncing filtered folder '%s' [%s]",
			  lname, local->repo);
		goto skip;
	}
	if (missing && local->readonly) {
		/* oimap: a read-only local repository syncs the folders it
		 * has; one it does not have is what read-only asked for, not
		 * an error (OfflineIMAP stops the account) */
		log_info("folder '%s' [%s] not synced: the read-only "
			 "repository %s has no folder '%s'",
			 name, remote->repo, local->repo, lname);
		goto skip;
	}
	if (missing && (!dry_run || !local->create)) {
		/* accounts.py get_local_folder(): Maildir getfolder() of a
		 * folder that does not exist is an error */
		ALLOC_GROW(p->missing, p->n_missing, p->alloc_missing);
		p->missing[p->n_missing++] = (struct acct_folder_missing){
		    .remote_name = xstrdup(name),
		    .remote_visible = rvis,
		    .local_name = lname,
		};
		return 0;
	}
	if (acct_visible_name(local, lname, &lvis, err))
		goto fail;
	ALLOC_GROW(p->pairs, p->n_pairs, p->alloc_pairs);
	p->pairs[p->n_pairs++] = (struct acct_folder_pair){
	    .remote_name = xstrdup(name),
	    .remote_visible = rvis,
	    .local_name = lname,
	    .local_visible = lvis,
	    .local_missing = missing,
	};
	return 0;
skip:
	free(rvis);
	free(lname);
	return 0;
fail:
	free(rvis);
	free(lname);
	return -1;
}

/*
 * oimap: two remote folders synced with one local folder, or with one
 * status cache (the remote visible name with its separator made '.'),
 * would take each other's messages for their own (their UIDs collide) and
 * delete them.  OfflineIMAP syncs them anyway; oimap syncs neither and
 * reports both.
 */
static void refuse_clashes(const struct acct_repo_rules *remote,
			   struct acct_folder_plan *plan)
{
	size_t n = plan->n_pairs, k = 0;
	char **skey = xcalloc(n + 1, sizeof(*skey));
	size_t *other = xcalloc(n + 1, sizeof(*other));

	for (size_t i = 0; i < n; i++) {
		skey[i] = acct_sep_translate(plan->pairs[i].remote_visible,
					     remote->sep, '.');
		other[i] = SIZE_MAX;
	}
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++)
			if (i != j && other[i] == SIZE_MAX &&
			    (!strcmp(plan->pairs[i].local_name,
				     plan->pairs[j].local_name) ||
			     !strcmp(skey[i], skey[j])))
				other[i] = j;
	/* the other folder's name, before the pairs move */
	char **clash = xcalloc(n + 1, sizeof(*clash));
	for (size_t i = 0; i < n; i++)
		if (other[i] != SIZE_MAX)
			clash[i] = xstrdup(plan->pairs[other[i]].remote_name);
	for (size_t i = 0; i < n; i++) {
		struct acct_folder_pair fp = plan->pairs[i];
		if (!clash[i]) {
			plan->pairs[k++] = fp;
			continue;
		}
		ALLOC_GROW(plan->missing, plan->n_missing, plan->alloc_missing);
		plan->missing[plan->n_missing++] = (struct acct_folder_missing){
		    .remote_name = fp.remote_name,
		    .remote_visible = fp.remote_visible,
		    .local_name = fp.local_name,
		    .clash = clash[i],
		};
		free(fp.local_visible);
	}
	free(clash);
	plan->n_pairs = k;
	for (size_t i = 0; i < n; i++)
		free(skey[i]);
	free(skey);
	free(other);
}

int acct_plan_pairs(const struct acct_repo_rules *remote,
		    const struct store_folder_list *rl,
		    const struct acct_repo_rules *local,
		    const struct store_folder_list *ll, bool dry_run,
		    struct acct_folder_plan *plan, struct oim_err *err)
{
	for (size_t i = 0; i < rl->nr; i++) {
		if (rl->v[i].noselect || !*rl->v[i].name)
			continue;
		/* The same name listed twice (folderincludes naming a listed
		 * folder) is synced once. */
		bool dup = false;
		for (size_t j = 0; j < plan->n_pairs && !dup; j++)
			dup =
			    !strcmp(plan->pairs[j].remote_name, rl->v[i].name);
		for (size_t j = 0; j < plan->n_missing && !dup; j++)
			dup = !strcmp(plan->missing[j].remote_name,
				      rl->v[i].name);
		if (dup)
			continue;
		if (add_pair(remote, local, ll, rl->v[i].name, dry_run, plan,
			     err))
			return -1;
	}
	refuse_clashes(remote, plan);
	return sort_pairs(remote, plan, err);
}
