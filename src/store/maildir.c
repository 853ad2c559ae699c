/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * maildir.c - Maildir repository and folders: listing, creation, scanning,
 * renames for flags and UIDs, deletion.  Semantics from OfflineIMAP's
 * repository/Maildir.py and folder/Maildir.py; see maildir.h.
 */
#include "maildir-int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../util/log.h"

/* ---- helpers ---- */

int maildir_io_error(struct maildir_folder *f, struct oim_err *err,
		     const char *what, const char *rel)
{
	int e = errno;
	return oim_error(err, OIM_SEV_FOLDER, OIM_E_IO, "%s %s/%s: %s", what,
			 f->path, rel, strerror(e));
}

int maildir_rename_noreplace(int ofd, const char *old, int nfd,
			     const char *new_name)
{
	if (!renameat2(ofd, old, nfd, new_name, RENAME_NOREPLACE))
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	/* File systems without RENAME_NOREPLACE: link() refuses to replace
	 * too.  A crash between the two calls leaves the message twice,
	 * under names with the same UID, never zero times. */
	if (linkat(ofd, old, nfd, new_name, 0) < 0)
		return -1;
	if (unlinkat(ofd, old, 0) < 0) {
		int e = errno;
		unlinkat(nfd, new_name, 0);
		errno = e;
		return -1;
	}
	return 0;
}

int maildir_split_name(struct maildir_folder *f, const char *name, int *dfd_r,
		       const char **base_r, struct oim_err *err)
{
	const char *base;

	if (!strncmp(name, "cur/", 4))
		*dfd_r = f->curfd;
	else if (!strncmp(name, "new/", 4))
		*dfd_r = f->newfd;
	else
		goto bad;
	base = name + 4;
	if (!*base || strchr(base, '/') || !strcmp(base, ".") ||
	    !strcmp(base, ".."))
		goto bad;
	*base_r = base;
	return 0;
bad:
	return oim_error(err, OIM_SEV_MESSAGE, OIM_E_GENERIC,
			 "%s: '%s' is not a message name (cur/... or new/...)",
			 f->path, name);
}

/* os.path.expanduser() then os.path.expandvars(), as OfflineIMAP's
 * getlocalroot(). */
static char *expand_path(const char *in)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;

	if (in[0] == '~') {
		const char *rest = in + 1 + strcspn(in + 1, "/");
		const char *home = NULL;
		if (rest == in + 1) {
			home = getenv("HOME");
			if (!home) {
				struct passwd *pw = getpwuid(getuid());
				home = pw ? pw->pw_dir : NULL;
			}
		} else {
			char *user = xstrndup(in + 1, (size_t)(rest - in - 1));
			struct passwd *pw = getpwnam(user);
			free(user);
			home = pw ? pw->pw_dir : NULL;
		}
		if (home) {
			strbuf_addstr(&a, home);
			/* Python strips a trailing '/' of $HOME */
			while (a.len > 1 && a.buf[a.len - 1] == '/')
				strbuf_setlen(&a, a.len - 1);
			strbuf_addstr(&a, rest);
		} else {
			strbuf_addstr(&a, in);
		}
	} else {
		strbuf_addstr(&a, in);
	}

	/* $name and ${name}; unknown variables stay as written. */
	for (size_t i = 0; i < a.len;) {
		if (a.buf[i] != '$') {
			strbuf_addch(&b, a.buf[i++]);
			continue;
		}
		size_t st = i + 1, en;
		bool brace = st < a.len && a.buf[st] == '{';
		if (brace)
			st++;
		en = st;
		while (en < a.len &&
		       (maildir_flag_bit((unsigned char)a.buf[en])))
			en++;
		if (en == st || (brace && (en >= a.len || a.buf[en] != '}'))) {
			strbuf_addch(&b, a.buf[i++]);
			continue;
		}
		char *var = xstrndup(a.buf + st, en - st);
		const char *val = getenv(var);
		free(var);
		size_t end = brace ? en + 1 : en;
		if (val)
			strbuf_addstr(&b, val);
		else
			strbuf_add(&b, a.buf + i, end - i);
		i = end;
	}
	strbuf_release(&a);
	return strbuf_detach(&b, NULL);
}

/* os.makedirs(path, mode): parents with 0777, the leaf with 'mode'. */
static int make_dirs(const char *path, mode_t mode)
{
	char *p = xstrdup(path);
	size_t n = strlen(p);
	int ret = 0;

	for (size_t i = 1; i < n; i++) {
		if (p[i] != '/')
			continue;
		p[i] = '\0';
		if (mkdir(p, 0777) < 0 && errno != EEXIST) {
			ret = -1;
			break;
		}
		p[i] = '/';
	}
	if (!ret && mkdir(p, mode) < 0)
		ret = -1;
	free(p);
	return ret;
}

static bool is_dir_at(int dfd, const char *name)
{
	struct stat st;
	return !fstatat(dfd, name, &st, 0) && S_ISDIR(st.st_mode);
}

/* ---- repository ---- */

struct maildir_repo *maildir_repo_new(const struct maildir_repo_opts *opts,
				      struct oim_err *err)
{
	struct maildir_repo *repo;
	struct stat st;
	const char *sep = opts->sep ? opts->sep : ".";
	char *s = xstrdup(sep);
	char *b = s, *e;

	/* getsep(): getconf('sep', '.').strip() */
	while (*b == ' ' || *b == '\t')
		b++;
	e = b + strlen(b);
	while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	if (strlen(b) != 1) {
		oim_error(err, OIM_SEV_ACCOUNT, OIM_E_CONFIG,
			  "sep = '%s': a Maildir separator is one character",
			  sep);
		free(s);
		return NULL;
	}
	if (!opts->localfolders || !*opts->localfolders) {
		free(s);
		oim_error(err, OIM_SEV_ACCOUNT, OIM_E_CONFIG,
			  "localfolders is not set");
		return NULL;
	}
	repo = xcalloc(1, sizeof(*repo));
	repo->sep = b[0];
	free(s);
	repo->root = expand_path(opts->localfolders);
	repo->infosep = opts->windows_compatible ? '!' : ':';
	repo->fsync = opts->fsync;
	repo->filename_use_mail_timestamp = opts->filename_use_mail_timestamp;
	repo->utime_from_header = opts->utime_from_header;
	repo->restoreatime = opts->restoreatime;

	if (stat(repo->root, &st) < 0 || !S_ISDIR(st.st_mode)) {
		log_debug(OIM_DBG_MAILDIR, "maildir: creating root %s",
			  repo->root);
		if (make_dirs(repo->root, 0700) < 0 &&
		    !(errno == EEXIST && !stat(repo->root, &st) &&
		      S_ISDIR(st.st_mode))) {
			oim_error(err, OIM_SEV_ACCOUNT, OIM_E_IO,
				  "cannot create Maildir root %s: %s",
				  repo->root, strerror(errno));
			maildir_repo_free(repo);
			return NULL;
		}
	}
	log_debug(OIM_DBG_MAILDIR, "maildir: repository %s, sep '%c'",
		  repo->root, repo->sep);
	return repo;
}

void maildir_repo_free(struct maildir_repo *repo)
{
	if (!repo)
		return;
	free(repo->root);
	free(repo);
}

const char *maildir_repo_root(const struct maildir_repo *repo)
{
	return repo->root;
}

char maildir_repo_sep(const struct maildir_repo *repo)
{
	return repo->sep;
}

void maildir_folder_names_release(struct maildir_folder_names *l)
{
	for (size_t i = 0; i < l->nr; i++)
		free(l->names[i]);
	free(l->names);
	memset(l, 0, sizeof(*l));
}

static void add_folder(struct maildir_folder_names *l, const char *name)
{
	ALLOC_GROW(l->names, l->nr + 1, l->alloc);
	l->names[l->nr++] = xstrdup(name);
}

static bool is_special(const char *n)
{
	return !strcmp(n, "cur") || !strcmp(n, "new") || !strcmp(n, "tmp");
}

static bool has_maildir_dirs(const char *path)
{
	int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	bool ok;
	if (dfd < 0)
		return false;
	ok = is_dir_at(dfd, "cur") && is_dir_at(dfd, "new") &&
	     is_dir_at(dfd, "tmp");
	close(dfd);
	return ok;
}

/* _getfolders_scandir(root, extension) */
static int scan_folders(struct maildir_repo *repo, const char *ext, int depth,
			struct maildir_folder_names *l, struct oim_err *err)
{
	char *top =
	    ext ? xasprintf("%s/%s", repo->root, ext) : xstrdup(repo->root);
	DIR *dir = opendir(top);
	struct dirent *de;
	char **names = NULL;
	size_t nr = 0, alloc = 0;
	int ret = 0;

	if (!dir) {
		ret = oim_error(err, OIM_SEV_ACCOUNT, OIM_E_IO,
				"cannot list Maildir folders in %s: %s", top,
				strerror(errno));
		free(top);
		return ret;
	}
	while ((errno = 0, de = readdir(dir))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		ALLOC_GROW(names, nr + 1, alloc);
		names[nr++] = xstrdup(de->d_name);
	}
	if (errno)
		ret = oim_error(err, OIM_SEV_ACCOUNT, OIM_E_IO,
				"cannot list Maildir folders in %s: %s", top,
				strerror(errno));
	closedir(dir);

	/* The root itself ('' in OfflineIMAP's list) may be a folder. */
	if (!ret && !ext && has_maildir_dirs(top))
		add_folder(l, "");

	for (size_t i = 0; !ret && i < nr; i++) {
		const char *dn = names[i];
		char *full, *fname;
		struct stat st;

		if (is_special(dn))
			continue;
		full = xasprintf("%s/%s", top, dn);
		if (stat(full, &st) < 0 || !S_ISDIR(st.st_mode)) {
			free(full);
			continue;
		}
		fname = ext ? xasprintf("%s/%s", ext, dn) : xstrdup(dn);
		if (has_maildir_dirs(full)) {
			log_debug(OIM_DBG_MAILDIR, "maildir: folder '%s'",
				  fname);
			add_folder(l, fname);
		}
		if (repo->sep == '/') {
			if (depth + 1 >= MAILDIR_MAX_DEPTH)
				log_warn("maildir: not descending into %s: "
					 "more than %d levels deep (symlink "
					 "loop?)",
					 full, MAILDIR_MAX_DEPTH);
			else
				ret = scan_folders(repo, fname, depth + 1, l,
						   err);
		}
		free(fname);
		free(full);
	}
	for (size_t i = 0; i < nr; i++)
		free(names[i]);
	free(names);
	free(top);
	return ret;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int maildir_repo_list(struct maildir_repo *repo, struct maildir_folder_names *l,
		      struct oim_err *err)
{
	if (scan_folders(repo, NULL, 0, l, err) < 0) {
		maildir_folder_names_release(l);
		return -1;
	}
	oim_qsort(l->names, l->nr, sizeof(*l->names), cmp_str);
	return 0;
}

/* Folder names come from the server via nametrans: refuse what would
 * escape the root.  OfflineIMAP asserts the same (no '../', no leading
 * '/', and with sep '/' no cur/new/tmp component). */
static int check_folder_name(struct maildir_repo *repo, const char *name,
			     struct oim_err *err)
{
	const char *p = name;

	if (name[0] == '/')
		return oim_error(err, OIM_SEV_FOLDER, OIM_E_USAGE,
				 "folder name '%s' begins with '/'", name);
	while (*p) {
		size_t n = strcspn(p, "/");
		if ((n == 2 && !strncmp(p, "..", 2)) ||
		    (n == 1 && p[0] == '.') || (n == 0 && p != name))
			return oim_error(
			    err, OIM_SEV_FOLDER, OIM_E_USAGE,
			    "folder name '%s' has an empty, '.' or "
			    "'..' component",
			    name);
		if (repo->sep == '/' && n == 3 &&
		    (!strncmp(p, "cur", 3) || !strncmp(p, "new", 3) ||
		     !strncmp(p, "tmp", 3)))
			return oim_error(err, OIM_SEV_FOLDER, OIM_E_USAGE,
					 "folder name '%s': with sep '/' no "
					 "component may be cur, new or tmp",
					 name);
		p += n;
		if (*p == '/') {
			p++;
			if (!*p)
				return oim_error(err, OIM_SEV_FOLDER,
						 OIM_E_USAGE,
						 "folder name '%s' ends with "
						 "'/'",
						 name);
		}
	}
	return 0;
}

static char *folder_path(struct maildir_repo *repo, const char *name)
{
	if (!*name)
		return xstrdup(repo->root);
	return xasprintf("%s/%s", repo->root, name);
}

int maildir_repo_create_folder(struct maildir_repo *repo, const char *name,
			       struct oim_err *err)
{
	static const char *const sub[] = {"cur", "new", "tmp"};
	char *path;
	struct stat st;
	int ret = 0;

	if (!strcmp(name, (char[]){repo->sep, '\0'}))
		name = "";
	if (check_folder_name(repo, name, err) < 0)
		return -1;
	path = folder_path(repo, name);
	log_debug(OIM_DBG_MAILDIR, "maildir: makefolder %s", path);
	if (make_dirs(path, 0700) < 0 &&
	    !(errno == EEXIST && !stat(path, &st) && S_ISDIR(st.st_mode))) {
		ret = oim_error(err, OIM_SEV_FOLDER, OIM_E_IO,
				"cannot create folder %s: %s", path,
				strerror(errno));
		goto out;
	}
	for (size_t i = 0; i < ARRAY_SIZE(sub); i++) {
		char *p = xasprintf("%s/%s", path, sub[i]);
		if (mkdir(p, 0700) < 0 &&
		    !(errno == EEXIST && !stat(p, &st) && S_ISDIR(st.st_mode)))
			ret = oim_error(err, OIM_SEV_FOLDER, OIM_E_IO,
					"cannot create %s: %s", p,
					strerror(errno));
		free(p);
		if (ret)
			break;
	}
out:
	free(path);
	return ret;
}

/* ---- folder ---- */

struct maildir_folder *maildir_folder_open(struct maildir_repo *repo,
					   const char *name,
					   const char *visible_name,
					   struct oim_err *err)
{
	struct maildir_folder *f;
	const char sepstr[2] = {repo->sep, '\0'};

	/* BaseFolder: name == sep means the top-level folder ''. */
	if (!strcmp(name, sepstr))
		name = "";
	if (!visible_name)
		visible_name = name;
	if (!strcmp(visible_name, sepstr))
		visible_name = "";
	if (check_folder_name(repo, name, err) < 0)
		return NULL;

	f = xcalloc(1, sizeof(*f));
	f->repo = repo;
	f->name = xstrdup(name);
	f->path = folder_path(repo, name);
	f->curfd = f->newfd = f->tmpfd = -1;
	maildir_fmd5(visible_name, f->fmd5);
	snprintf(f->fmd5_field, sizeof(f->fmd5_field), ",FMD5=%s", f->fmd5);
	f->dfd = open(f->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (f->dfd < 0) {
		oim_error(err, OIM_SEV_FOLDER, OIM_E_IO,
			  "cannot open Maildir folder %s: %s", f->path,
			  strerror(errno));
		goto fail;
	}
	f->curfd = openat(f->dfd, "cur", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (f->curfd < 0) {
		maildir_io_error(f, err, "cannot open", "cur");
		goto fail;
	}
	f->newfd = openat(f->dfd, "new", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (f->newfd < 0) {
		maildir_io_error(f, err, "cannot open", "new");
		goto fail;
	}
	f->tmpfd = openat(f->dfd, "tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (f->tmpfd < 0) {
		maildir_io_error(f, err, "cannot open", "tmp");
		goto fail;
	}
	if (repo->restoreatime) {
		struct stat cst, nst;
		if (fstat(f->curfd, &cst) < 0 || fstat(f->newfd, &nst) < 0) {
			maildir_io_error(f, err, "cannot stat", "cur");
			goto fail;
		}
		f->cur_atime = cst.st_atim;
		f->new_atime = nst.st_atim;
		f->have_atimes = true;
	}
	log_debug(OIM_DBG_MAILDIR, "maildir: opened '%s' (%s), FMD5 %s",
		  f->name, f->path, f->fmd5);
	return f;
fail:
	maildir_folder_free(f);
	return NULL;
}

void maildir_folder_free(struct maildir_folder *f)
{
	if (!f)
		return;
	if (f->tmpfd >= 0)
		close(f->tmpfd);
	if (f->newfd >= 0)
		close(f->newfd);
	if (f->curfd >= 0)
		close(f->curfd);
	if (f->dfd >= 0)
		close(f->dfd);
	free(f->name);
	free(f->path);
	free(f);
}

const char *maildir_folder_path(const struct maildir_folder *f)
{
	return f->path;
}

const char *maildir_folder_fmd5(const struct maildir_folder *f)
{
	return f->fmd5;
}

static char cached_host[256];
static pthread_once_t host_once = PTHREAD_ONCE_INIT;

static void init_host(void)
{
	if (gethostname(cached_host, sizeof(cached_host) - 1) < 0)
		snprintf(cached_host, sizeof(cached_host), "localhost");
	cached_host[sizeof(cached_host) - 1] = '\0';
}

void maildir_folder_new_name(struct maildir_folder *f, int64_t when,
			     uint32_t uid, maildir_flags_t flags,
			     struct strbuf *sb)
{
	int64_t t;
	unsigned long seq;

	pthread_once(&host_once, init_host);
	maildir_timeseq(when, &t, &seq);
	/* getpid() each time: a forked child must not reuse the parent's */
	maildir_name_format(sb, t, seq, (long)getpid(), cached_host, uid,
			    f->fmd5, f->repo->infosep, flags);
}

/* ---- scanning ---- */

void maildir_msglist_release(struct maildir_msglist *l)
{
	for (size_t i = 0; i < l->nr; i++)
		free(l->msgs[i].name);
	free(l->msgs);
	memset(l, 0, sizeof(*l));
}

struct excluded {
	struct maildir_msg *msgs;
	size_t nr, alloc;
};

static int scan_dir(struct maildir_folder *f, const char *sub, int subfd,
		    const struct maildir_scan_opts *o,
		    struct maildir_msglist *l, struct excluded *ex,
		    struct oim_err *err)
{
	int fd = openat(subfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *dir;
	struct dirent *de;
	int ret = 0;

	if (fd < 0)
		return maildir_io_error(f, err, "cannot open", sub);
	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return maildir_io_error(f, err, "cannot read", sub);
	}
	while ((errno = 0, de = readdir(dir))) {
		const char *n = de->d_name;
		size_t len = strlen(n);
		struct maildir_name mn;
		const char *why = NULL;
		uint32_t uid = 0;

		if (n[0] == '.')
			continue; /* dot files, as OfflineIMAP */
		bool is_dir = de->d_type == DT_DIR;
		if (de->d_type == DT_UNKNOWN) {
			/* file systems without d_type: the only stat */
			struct stat st;
			is_dir =
			    !fstatat(subfd, n, &st, 0) && S_ISDIR(st.st_mode);
		}
		if (is_dir) {
			log_warn("maildir: leaving %s/%s/%s alone: a directory "
				 "where messages belong",
				 f->path, sub, n);
			l->skipped++;
			continue;
		}
		if (maildir_name_parse(n, len, f->repo->infosep, &mn, &why) <
		    0) {
			log_warn("maildir: leaving %s/%s/%s alone: %s", f->path,
				 sub, n, why);
			l->skipped++;
			continue;
		}
		/* OfflineIMAP: ',FMD5=<ours>' anywhere in the name */
		if (mn.has_uid &&
		    memmem(n, len, f->fmd5_field, sizeof(f->fmd5_field) - 1))
			uid = mn.uid;
		if (o->maxsize) {
			struct stat st;
			if (fstatat(subfd, n, &st, 0) < 0) {
				if (errno == ENOENT)
					continue; /* renamed under us */
				ret =
				    maildir_io_error(f, err, "cannot stat", n);
				break;
			}
			if ((uint64_t)st.st_size > o->maxsize)
				continue;
		}
		if (o->min_uid && uid && uid < o->min_uid)
			continue;
		struct maildir_msg m = {
		    .name = xasprintf("%s/%s", sub, n),
		    .uid = uid,
		    .flags = mn.flags,
		};
		if (o->min_date > 0 && mn.has_time && mn.time < o->min_date) {
			ALLOC_GROW(ex->msgs, ex->nr + 1, ex->alloc);
			ex->msgs[ex->nr++] = m;
		} else {
			ALLOC_GROW(l->msgs, l->nr + 1, l->alloc);
			l->msgs[l->nr++] = m;
		}
	}
	if (!ret && errno)
		ret = maildir_io_error(f, err, "cannot read", sub);
	closedir(dir);
	return ret;
}

int maildir_folder_scan(struct maildir_folder *f,
			const struct maildir_scan_opts *opts,
			struct maildir_msglist *l, struct oim_err *err)
{
	static const struct maildir_scan_opts none;
	const struct maildir_scan_opts *o = opts ? opts : &none;
	struct excluded ex = {0};
	int ret;

	ret = scan_dir(f, "new", f->newfd, o, l, &ex, err);
	if (!ret)
		ret = scan_dir(f, "cur", f->curfd, o, l, &ex, err);
	if (!ret && ex.nr) {
		/* OfflineIMAP re-includes date-excluded messages whose UID
		 * is above the smallest UID kept (UIDs reassigned later). */
		uint32_t min = 0;
		for (size_t i = 0; i < l->nr; i++)
			if (l->msgs[i].uid && (!min || l->msgs[i].uid < min))
				min = l->msgs[i].uid;
		for (size_t i = 0; i < ex.nr; i++) {
			if (min && ex.msgs[i].uid > min) {
				ALLOC_GROW(l->msgs, l->nr + 1, l->alloc);
				l->msgs[l->nr++] = ex.msgs[i];
			} else {
				free(ex.msgs[i].name);
			}
		}
	} else {
		for (size_t i = 0; i < ex.nr; i++)
			free(ex.msgs[i].name);
	}
	free(ex.msgs);
	if (ret) {
		maildir_msglist_release(l);
		return -1;
	}
	log_debug(OIM_DBG_MAILDIR, "maildir: %s: %zu messages, %zu skipped",
		  f->path, l->nr, l->skipped);
	return 0;
}

int maildir_folder_find_uid(struct maildir_folder *f, uint32_t uid,
			    char **name_r, struct oim_err *err)
{
	struct maildir_msglist l = {0};

	*name_r = NULL;
	if (maildir_folder_scan(f, NULL, &l, err) < 0)
		return -1;
	for (size_t i = 0; i < l.nr; i++) {
		if (l.msgs[i].uid == uid) {
			*name_r = l.msgs[i].name;
			l.msgs[i].name = NULL;
			break;
		}
	}
	maildir_msglist_release(&l);
	return 0;
}

/* ---- renames and deletion ---- */

/* The UID 'name' holds for this folder, 0 if none or unparsable. */
static uint32_t name_uid(struct maildir_folder *f, const char *base)
{
	struct maildir_name mn;
	size_t len = strlen(base);
	if (maildir_name_parse(base, len, f->repo->infosep, &mn, NULL) < 0 ||
	    !mn.has_uid || !maildir_name_has_fmd5(base, len, f->fmd5))
		return 0;
	return mn.uid;
}

/* After ENOENT: the name a mail reader gave the same message, if any. */
static int refind(struct maildir_folder *f, const char *base, char **name_r,
		  struct oim_err *err)
{
	uint32_t uid = name_uid(f, base);
	*name_r = NULL;
	if (!uid)
		return 0;
	if (maildir_folder_find_uid(f, uid, name_r, err) < 0)
		return -1;
	if (*name_r)
		log_debug(OIM_DBG_MAILDIR, "maildir: UID %lu is now %s",
			  (unsigned long)uid, *name_r);
	return 0;
}

static int fsync_dir(struct maildir_folder *f, int dfd, const char *sub,
		     struct oim_err *err)
{
	if (!f->repo->fsync)
		return 0;
	if (fsync(dfd) < 0 && errno != EINVAL)
		return maildir_io_error(f, err, "cannot fsync", sub);
	return 0;
}

int maildir_msg_set_flags(struct maildir_folder *f, const char *name,
			  maildir_flags_t flags, char **name_r,
			  struct oim_err *err)
{
	char *found = NULL;
	int ret = -1;

	*name_r = NULL;
	for (int attempt = 0; attempt < 2; attempt++) {
		struct strbuf nb = STRBUF_INIT;
		struct maildir_name mn;
		const char *base, *why = NULL;
		int ofd, nfd;
		bool seen = flags & MAILDIR_FLAG_SEEN;

		if (maildir_split_name(f, name, &ofd, &base, err) < 0)
			break;
		if (maildir_name_parse(base, strlen(base), f->repo->infosep,
				       &mn, &why) < 0) {
			oim_error(err, OIM_SEV_MESSAGE, OIM_E_GENERIC,
				  "%s/%s: not renaming a file whose name "
				  "cannot be parsed: %s",
				  f->path, name, why);
			break;
		}
		/* savemessageflags(): seen mail in cur/, the rest in new/;
		 * the info part is rewritten only if the flags differ. */
		nfd = seen ? f->curfd : f->newfd;
		strbuf_addstr(&nb, seen ? "cur/" : "new/");
		if (mn.flags != flags)
			maildir_name_with_flags(&nb, base, strlen(base),
						f->repo->infosep, flags);
		else
			strbuf_addstr(&nb, base);
		if (!strcmp(nb.buf, name)) {
			*name_r = strbuf_detach(&nb, NULL);
			ret = 0;
			break;
		}
		if (!maildir_rename_noreplace(ofd, base, nfd, nb.buf + 4)) {
			log_debug(OIM_DBG_MAILDIR, "maildir: %s -> %s", name,
				  nb.buf);
			*name_r = strbuf_detach(&nb, NULL);
			ret = 0;
			break;
		}
		if (errno != ENOENT || attempt) {
			int e = errno;
			oim_error(err, OIM_SEV_FOLDER, OIM_E_IO,
				  "cannot rename %s/%s to %s: %s", f->path,
				  name, nb.buf, strerror(e));
			strbuf_release(&nb);
			break;
		}
		strbuf_release(&nb);
		/* A mail reader renamed it meanwhile: follow the UID. */
		if (refind(f, base, &found, err) < 0)
			break;
		if (!found) {
			errno = ENOENT;
			maildir_io_error(f, err, "cannot rename", name);
			break;
		}
		name = found;
	}
	free(found);
	return ret;
}

int maildir_msg_set_uid(struct maildir_folder *f, const char *name,
			uint32_t uid, char **name_r, struct oim_err *err)
{
	struct maildir_name mn;
	const char *base, *why = NULL;
	int dfd;

	*name_r = NULL;
	if (!uid)
		BUG("maildir_msg_set_uid with UID 0");
	if (maildir_split_name(f, name, &dfd, &base, err) < 0)
		return -1;
	if (maildir_name_parse(base, strlen(base), f->repo->infosep, &mn,
			       &why) < 0)
		return oim_error(err, OIM_SEV_MESSAGE, OIM_E_GENERIC,
				 "%s/%s: not renaming a file whose name cannot "
				 "be parsed: %s",
				 f->path, name, why);
	/* change_message_uid(): a fresh name, same directory and flags. */
	for (int tries = 0; tries < 100; tries++) {
		struct strbuf nb = STRBUF_INIT;
		strbuf_add(&nb, name, 4);
		maildir_folder_new_name(f, -1, uid, mn.flags, &nb);
		if (!maildir_rename_noreplace(dfd, base, dfd, nb.buf + 4)) {
			log_debug(OIM_DBG_MAILDIR, "maildir: UID %lu: %s -> %s",
				  (unsigned long)uid, name, nb.buf);
			if (fsync_dir(f, dfd, name, err) < 0) {
				strbuf_release(&nb);
				return -1;
			}
			*name_r = strbuf_detach(&nb, NULL);
			return 0;
		}
		if (errno != EEXIST) {
			int e = errno;
			oim_error(err, OIM_SEV_FOLDER, OIM_E_IO,
				  "cannot rename %s/%s to %s: %s", f->path,
				  name, nb.buf, strerror(e));
			strbuf_release(&nb);
			return -1;
		}
		strbuf_release(&nb);
	}
	errno = EEXIST;
	return maildir_io_error(f, err, "no free name to rename", name);
}

int maildir_msg_delete(struct maildir_folder *f, const char *name,
		       struct oim_err *err)
{
	const char *base;
	char *found = NULL;
	int dfd, ret = 0;

	if (maildir_split_name(f, name, &dfd, &base, err) < 0)
		return -1;
	if (!unlinkat(dfd, base, 0)) {
		log_debug(OIM_DBG_MAILDIR, "maildir: deleted %s/%s", f->path,
			  name);
		return 0;
	}
	if (errno != ENOENT)
		return maildir_io_error(f, err, "cannot delete", name);
	/* deletemessage(): maybe renamed by a mail reader; else gone. */
	if (refind(f, base, &found, err) < 0)
		return -1;
	if (found) {
		if (maildir_split_name(f, found, &dfd, &base, err) < 0 ||
		    (unlinkat(dfd, base, 0) < 0 && errno != ENOENT &&
		     maildir_io_error(f, err, "cannot delete", found)))
			ret = -1;
		free(found);
	}
	return ret;
}

/* ---- stamps, atimes, lookups ---- */

int maildir_folder_stamp(struct maildir_folder *f, struct maildir_stamp *s_r,
			 struct oim_err *err)
{
	struct stat cst, nst;
	if (fstat(f->curfd, &cst) < 0)
		return maildir_io_error(f, err, "cannot stat", "cur");
	if (fstat(f->newfd, &nst) < 0)
		return maildir_io_error(f, err, "cannot stat", "new");
	s_r->cur_ns =
	    (int64_t)cst.st_mtim.tv_sec * 1000000000 + cst.st_mtim.tv_nsec;
	s_r->new_ns =
	    (int64_t)nst.st_mtim.tv_sec * 1000000000 + nst.st_mtim.tv_nsec;
	return 0;
}

int maildir_folder_restore_atime(struct maildir_folder *f, struct oim_err *err)
{
	/* atime back, mtime untouched (OfflineIMAP passes the current
	 * mtime, which is the same) */
	struct timespec cur[2] = {f->cur_atime, {.tv_nsec = UTIME_OMIT}};
	struct timespec new[2] = {f->new_atime, {.tv_nsec = UTIME_OMIT}};

	if (!f->have_atimes)
		return 0;
	if (futimens(f->curfd, cur) < 0)
		return maildir_io_error(f, err, "cannot set the atime of",
					"cur");
	if (futimens(f->newfd, new) < 0)
		return maildir_io_error(f, err, "cannot set the atime of",
					"new");
	return 0;
}

static int cmp_msg(const void *a, const void *b)
{
	const struct maildir_msg *x = a, *y = b;
	if (x->uid != y->uid)
		return x->uid < y->uid ? -1 : 1;
	return strcmp(x->name, y->name);
}

void maildir_msglist_sort(struct maildir_msglist *l)
{
	if (l->nr)
		oim_qsort(l->msgs, l->nr, sizeof(*l->msgs), cmp_msg);
}

struct maildir_msg *maildir_msglist_find(const struct maildir_msglist *l,
					 uint32_t uid)
{
	size_t lo = 0, hi = l->nr;
	if (!uid)
		return NULL;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (l->msgs[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < l->nr && l->msgs[lo].uid == uid ? &l->msgs[lo] : NULL;
}
