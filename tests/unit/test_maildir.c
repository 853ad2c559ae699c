/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Maildir repository on a real file system (a scratch dir under $TMPDIR):
 * listing, creation, scanning, delivery, renames, deletion, reading.
 * Expected names and listings come from OfflineIMAP's own code
 * (data/maildir/offlineimap-names.tsv) where OfflineIMAP defines them.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"

#include "store/maildir.h"
#include "util/log.h"
#include "util/strbuf.h"
#include "util/util.h"

#define FMD5_INBOX "7e33429f656f1e6e9d79b29c3f82c57e"

struct fx {
	char root[1024];
	struct maildir_repo *repo;
	struct maildir_folder *f;
};

static void run(const char *fmt, ...) OIM_PRINTF(1, 2);
static void run(const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	assert_int_equal(system(sb.buf), 0);
	strbuf_release(&sb);
}

static void mkdirs(const char *root, const char *rel)
{
	run("mkdir -p '%s/%s'", root, rel);
}

static size_t count_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;
	assert_non_null(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static struct maildir_repo *repo_at_fsync(const char *root, const char *sep,
					  bool win, bool fsync)
{
	struct oim_err err = OIM_ERR_INIT;
	struct maildir_repo_opts o = {
	    .localfolders = root,
	    .sep = sep,
	    .fsync = fsync,
	    .windows_compatible = win,
	};
	struct maildir_repo *r = maildir_repo_new(&o, &err);
	if (!r)
		fail_msg("%s", err.msg);
	return r;
}

/* fsync off, except where a test turns it on: the suite stays fast */
static struct maildir_repo *repo_at(const char *root, const char *sep, bool win)
{
	return repo_at_fsync(root, sep, win, false);
}

static int setup(void **state)
{
	struct fx *fx = xcalloc(1, sizeof(*fx));
	struct oim_err err = OIM_ERR_INIT;
	const char *tmp = getenv("TMPDIR");
	snprintf(fx->root, sizeof(fx->root), "%s/oimap-maildir-XXXXXX",
		 tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(fx->root));
	fx->repo = repo_at(fx->root, ".", false);
	assert_int_equal(maildir_repo_create_folder(fx->repo, "INBOX", &err),
			 0);
	fx->f = maildir_folder_open(fx->repo, "INBOX", NULL, &err);
	assert_non_null(fx->f);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	maildir_folder_free(fx->f);
	maildir_repo_free(fx->repo);
	run("rm -rf '%s'", fx->root);
	free(fx);
	return 0;
}

/* ---- data file ---- */

#define MAX_FIELDS 10
struct tsv_line {
	char *f[MAX_FIELDS];
	int n;
};

static int each_line(const char *kind, void (*fn)(struct tsv_line *, void *),
		     void *arg)
{
	const char *dir = getenv("OIMAP_TESTDATA");
	char path[4096], line[8192];
	FILE *fp;
	int count = 0;

	assert_non_null(dir);
	snprintf(path, sizeof(path), "%s/maildir/offlineimap-names.tsv", dir);
	fp = fopen(path, "r");
	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp)) {
		struct tsv_line l = {.n = 0};
		char *p = line;
		size_t len = strlen(line);
		if (len && line[len - 1] == '\n')
			line[len - 1] = '\0';
		for (;;) {
			assert_true(l.n < MAX_FIELDS);
			l.f[l.n++] = p;
			p = strchr(p, '\t');
			if (!p)
				break;
			*p++ = '\0';
		}
		if (strcmp(l.f[0], kind))
			continue;
		fn(&l, arg);
		count++;
	}
	fclose(fp);
	return count;
}

/* ---- listing ---- */

static void check_tree(struct tsv_line *l, void *arg)
{
	const char *base = arg;
	char root[PATH_MAX];
	struct maildir_folder_names names = {0};
	struct oim_err err = OIM_ERR_INIT;
	struct strbuf got = STRBUF_INIT;
	static int n;
	char *dirs = xstrdup(l->f[2]);

	snprintf(root, sizeof(root), "%s/tree%d", base, n++);
	mkdirs(root, "");
	/* made as the generator made them */
	for (char *d = dirs, *e; d; d = e) {
		e = strchr(d, '|');
		if (e)
			*e++ = '\0';
		if ((strlen(d) >= 4 && !strcmp(d + strlen(d) - 4, "/cur")) ||
		    oim_starts_with(d, "notmail") ||
		    oim_starts_with(d, "NoMail") || strstr(d, "/cur/")) {
			mkdirs(root, d);
			continue;
		}
		run("mkdir -p '%s/%s/cur' '%s/%s/new' '%s/%s/tmp'", root, d,
		    root, d, root, d);
	}
	free(dirs);
	struct maildir_repo *r = repo_at(root, l->f[1], false);
	assert_int_equal(maildir_repo_list(r, &names, &err), 0);
	for (size_t i = 0; i < names.nr; i++)
		strbuf_addf(&got, "%s%s", i ? "|" : "", names.names[i]);
	if (strcmp(got.buf, l->f[3]))
		fail_msg("sep '%s', dirs %s: listed '%s', OfflineIMAP '%s'",
			 l->f[1], l->f[2], got.buf, l->f[3]);
	strbuf_release(&got);
	maildir_folder_names_release(&names);
	maildir_repo_free(r);
}

static void test_list_offlineimap(void **state)
{
	struct fx *fx = *state;
	assert_int_equal(each_line("tree", check_tree, fx->root), 6);
}

static void test_create_folder(void **state)
{
	struct fx *fx = *state;
	struct oim_err err = OIM_ERR_INIT;
	char root[PATH_MAX], p[PATH_MAX + 64];
	struct stat st;
	struct maildir_folder_names names = {0};

	snprintf(root, sizeof(root), "%s/nested", fx->root);
	struct maildir_repo *r = repo_at(root, "/", false);
	/* the root was created, 0700 */
	assert_int_equal(stat(root, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(maildir_repo_create_folder(r, "Archive/2023", &err),
			 0);
	assert_int_equal(maildir_repo_create_folder(r, "Archive/2023", &err),
			 0);
	snprintf(p, sizeof(p), "%s/Archive/2023/tmp", root);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	snprintf(p, sizeof(p), "%s/Archive/2023", root);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	/* Archive itself is only a parent: listed? no cur/new/tmp */
	assert_int_equal(maildir_repo_list(r, &names, &err), 0);
	assert_int_equal(names.nr, 1);
	assert_string_equal(names.names[0], "Archive/2023");
	maildir_folder_names_release(&names);

	static const char *const bad[] = {"../x", "a/../../b", "/abs", "a/cur",
					  "tmp",  "a//b",      "a/"};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		oim_err_clear(&err);
		if (maildir_repo_create_folder(r, bad[i], &err) != -1)
			fail_msg("created '%s'", bad[i]);
		assert_true(strstr(err.msg, bad[i]) != NULL);
	}
	maildir_repo_free(r);

	/* sep '.': "cur" is a fine folder name at the top?  OfflineIMAP
	 * asserts only with '/'; the listing would skip it, though. */
	r = repo_at(root, ".", false);
	assert_int_equal(maildir_repo_create_folder(r, "a.b", &err), 0);
	maildir_repo_free(r);
}

static void test_repo_expand(void **state)
{
	struct fx *fx = *state;
	struct oim_err err = OIM_ERR_INIT;
	char *old = getenv("HOME") ? xstrdup(getenv("HOME")) : NULL;
	char want[PATH_MAX + 32];

	setenv("HOME", fx->root, 1);
	setenv("OIMAP_TEST_MD", "Mail", 1);
	struct maildir_repo_opts o = {.localfolders = "~/$OIMAP_TEST_MD/"
						      "${OIMAP_TEST_MD}x/$NOPE_"
						      "OIMAP"};
	struct maildir_repo *r = maildir_repo_new(&o, &err);
	assert_non_null(r);
	snprintf(want, sizeof(want), "%s/Mail/Mailx/$NOPE_OIMAP", fx->root);
	assert_string_equal(maildir_repo_root(r), want);
	assert_int_equal(maildir_repo_sep(r), '.');
	struct stat st;
	assert_int_equal(stat(want, &st), 0);
	maildir_repo_free(r);

	o.sep = " / ";
	r = maildir_repo_new(&o, &err);
	assert_non_null(r);
	assert_int_equal(maildir_repo_sep(r), '/');
	maildir_repo_free(r);
	o.sep = "::";
	assert_null(maildir_repo_new(&o, &err));
	assert_int_equal(err.kind, OIM_E_CONFIG);

	if (old) {
		setenv("HOME", old, 1);
		free(old);
	}
}

static void test_root_folder_fmd5(void **state)
{
	struct fx *fx = *state;
	struct oim_err err = OIM_ERR_INIT;
	struct maildir_folder *f;

	mkdirs(fx->root, "cur");
	mkdirs(fx->root, "new");
	mkdirs(fx->root, "tmp");
	/* name == sep is the root, FMD5 of "" */
	f = maildir_folder_open(fx->repo, ".", NULL, &err);
	assert_non_null(f);
	assert_string_equal(maildir_folder_fmd5(f),
			    "d41d8cd98f00b204e9800998ecf8427e");
	assert_string_equal(maildir_folder_path(f), fx->root);
	maildir_folder_free(f);
	/* nametrans: the visible name is hashed, not the directory name */
	f = maildir_folder_open(fx->repo, "INBOX", "Archive.2023", &err);
	assert_non_null(f);
	assert_string_equal(maildir_folder_fmd5(f),
			    "7c1a17cbc0c2df1d6e79f1d929b3eadb");
	maildir_folder_free(f);
	assert_null(maildir_folder_open(fx->repo, "Nope", NULL, &err));
	assert_int_equal(err.kind, OIM_E_IO);
	assert_true(strstr(err.msg, "Nope") != NULL);
}

/* ---- scanning ---- */

struct scan_ctx {
	struct fx *fx;
	struct maildir_msglist *l;
	int matched;
};

static void place_scan(struct tsv_line *l, void *arg)
{
	struct fx *fx = arg;
	char p[PATH_MAX * 2];
	snprintf(p, sizeof(p), "%s/INBOX/%s", fx->root, l->f[3]);
	test_write_file(p, "x");
}

static void check_scan(struct tsv_line *l, void *arg)
{
	struct scan_ctx *c = arg;
	char fb[MAILDIR_FLAGS_STR_MAX];
	for (size_t i = 0; i < c->l->nr; i++) {
		struct maildir_msg *m = &c->l->msgs[i];
		if (strcmp(m->name, l->f[3]))
			continue;
		if (!strcmp(l->f[4], "-"))
			assert_int_equal(m->uid, 0);
		else
			assert_int_equal(m->uid, strtoul(l->f[4], NULL, 10));
		assert_string_equal(maildir_flags_str(m->flags, fb), l->f[5]);
		c->matched++;
		return;
	}
	fail_msg("%s not listed", l->f[3]);
}

static void test_scan_offlineimap(void **state)
{
	struct fx *fx = *state;
	struct oim_err err = OIM_ERR_INIT;
	struct maildir_msglist l = {0};
	char p[PATH_MAX * 2];
	int n = each_line("scan", place_scan, fx);

	/* what OfflineIMAP also skips, and garbage we leave alone */
	snprintf(p, sizeof(p), "%s/INBOX/cur/.hidden", fx->root);
	test_write_file(p, "x");
	snprintf(p, sizeof(p), "%s/INBOX/tmp/ignored", fx->root);
	test_write_file(p, "x");
	snprintf(p, sizeof(p), "%s/INBOX/cur/bad\nname:2,S", fx->root);
	test_write_file(p, "x");
	snprintf(p, sizeof(p), "%s/INBOX/cur/1.2.h,U=0,FMD5=%s:2,S", fx->root,
		 FMD5_INBOX);
	test_write_file(p, "x");
	snprintf(p, sizeof(p), "%s/INBOX/new/subdir", fx->root);
	assert_int_equal(mkdir(p, 0700), 0);

	assert_int_equal(maildir_folder_scan(fx->f, NULL, &l, &err), 0);
	assert_int_equal(l.nr, n);
	assert_int_equal(l.skipped, 3);
	struct scan_ctx c = {fx, &l, 0};
	assert_int_equal(each_line("scan", check_scan, &c), n);
	assert_int_equal(c.matched, n);
	maildir_msglist_release(&l);

	/* garbage still there after a scan */
	snprintf(p, sizeof(p), "%s/INBOX/cur/bad\nname:2,S", fx->root);
	assert_int_equal(access(p, F_OK), 0);
}

static void test_scan_windows(void **state)
{
	struct fx *fx = *state;
	struct oim_err err = OIM_ERR_INIT;
	struct maildir_msglist l = {0};
	char p[PATH_MAX * 2];
	struct maildir_repo *r = repo_at_fsync(fx->root, ".", true, true);
	struct maildir_folder *f = maildir_folder_open(r, "INBOX", NULL, &err);
	char *name = NULL;
	assert_non_null(f);

	snprintf(p, sizeof(p), "%s/INBOX/cur/1_0.1.h,U=9,FMD5=%s!2,FS",
		 fx->root, FMD5_INBOX);
	test_write_file(p, "x");
	assert_int_equal(maildir_folder_scan(f, NULL, &l, &err), 0);
	assert_int_equal(l.nr, 1);
	assert_int_equal(l.msgs[0].uid, 9);
	assert_true(l.msgs[0].flags ==
		    (MAILDIR_FLAG_FLAGGED | MAILDIR_FLAG_SEEN));
	assert_int_equal(maildir_msg_set_flags(f, l.msgs[0].name,
					       MAILDIR_FLAG_SEEN, &name, &err),
			 0);
	assert_string_equal(name, "cur/1_0.1.h,U=9,FMD5=" FMD5_INBOX "!2,S");
	free(name);
	maildir_msglist_release(&l);

	/* new deliveries get '!' too */
	struct maildir_delivery *d;
	assert_int_equal(maildir_delivery_begin(f, 10, 0, &d, &err), 0);
	assert_int_equal(maildir_delivery_write(d, "a\r\n", 3, &err), 0);
	assert_int_equal(maildir_delivery_commit(d, &name, &err), 0);
	assert_true(oim_starts_with(name, "new/"));
	assert_non_null(strstr(name, ",U=10,FMD5=" FMD5_INBOX "!2,"));
	assert_null(strchr(name, ':'));
	free(name);
	maildir_folder_free(f);
	maildir_repo_free(r);
}

static void test_scan_maxage_maxsize(void **state)
{
	struct fx *fx = *state;
	struct oim_err err = OIM_ERR_INIT;
	struct maildir_msglist l = {0};
	char p[PATH_MAX * 2];
	static const struct {
		const char *name;
		const char *content;
	} files[] = {
	    {"cur/1000_0.1.h,U=5,FMD5=" FMD5_INBOX ":2,S", "x"},
	    {"cur/3000_0.1.h,U=3,FMD5=" FMD5_INBOX ":2,S", "x"},
	    /* old name but UID above the smallest kept: back in */
	    {"cur/1000_1.1.h,U=4,FMD5=" FMD5_INBOX ":2,S", "x"},
	    /* old, UID below: out */
	    {"cur/1000_2.1.h,U=2,FMD5=" FMD5_INBOX ":2,S", "x"},
	    /* old, no UID: out */
	    {"cur/1000.mutt.h:2,S", "x"},
	    /* no digit at all: no timestamp, in ("...:2,S" would count
	     * as time 2 for OfflineIMAP's re_timestampmatch) */
	    {"new/mutt.h", "xxxxxxxxxxxxxxxxxxxxxxxxxx"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		snprintf(p, sizeof(p), "%s/INBOX/%s", fx->root, files[i].name);
		test_write_file(p, files[i].content);
	}
	struct maildir_scan_opts o = {.min_date = 2000};
	assert_int_equal(maildir_folder_scan(fx->f, &o, &l, &err), 0);
	assert_int_equal(l.nr, 4);
	uint32_t seen = 0;
	for (size_t i = 0; i < l.nr; i++)
		seen |= 1u << l.msgs[i].uid;
	assert_int_equal(seen, (1u << 3) | (1u << 4) | (1u << 5) | 1u);
	maildir_msglist_release(&l);

	struct maildir_scan_opts o2 = {.maxsize = 5, .min_uid = 4};
	assert_int_equal(maildir_folder_scan(fx->f, &o2, &l, &err), 0);
	/* U=5, U=4, 1000.mutt (no UID) */
	assert_int_equal(l.nr, 3);
	maildir_msglist_release(&l);
}

/* ---- flags ---- */

static void check_flags(struct tsv_line *l, void *arg)
{
	struct fx *fx = arg;
	struct oim_err err = OIM_ERR_INIT;
	char p[PATH_MAX * 2];
	char *name = NULL;

	snprintf(p, sizeof(p), "%s/INBOX/%s", fx->root, l->f[3]);
	test_write_file(p, "x");
	if (maildir_msg_set_flags(fx->f, l->f[3],
				  maildir_flags_parse(l->f[4], strlen(l->f[4])),
				  &name, &err) < 0)
		fail_msg("%s", err.msg);
	assert_string_equal(name, l->f[5]);
	snprintf(p, sizeof(p), "%s/INBOX/%s", fx->root, name);
	assert_int_equal(access(p, F_OK), 0);
	assert_int_equal(unlink(p), 0);
	free(name);
}

static void test_flags_offlineimap(void **state)
{
	struct fx *fx = *state;
	assert_int_equal(each_line("flags", check_flags, fx), 9);
}

static void test_flags_follow_reader_rename(void **state)
{
	struct fx *fx = *state;
	struct oim_err err = OIM_ERR_INIT;
	char p[PATH_MAX * 2], q[PATH_MAX * 2];
	char *name = NULL;

	snprintf(p, sizeof(p), "%s/INBOX/new/1_0.1.h,U=8,FMD5=%s:2,", fx->root,
		 FMD5_INBOX);
	test_write_file(p, "x");
	/* mutt marks it read behind our back */
	snprintf(q, sizeof(q), "%s/INBOX/cur/1_0.1.h,U=8,FMD5=%s:2,S", fx->root,
		 FMD5_INBOX);
	assert_int_equal(rename(p, q), 0);
	assert_int_equal(maildir_msg_set_flags(
			     fx->f, "new/1_0.1.h,U=8,FMD5=" FMD5_INBOX ":2,",
			     MAILDIR_FLAG_SEEN | MAILDIR_FLAG_REPLIED, &name,
			     &err),
			 0);
	assert_string_equal(name, "cur/1_0.1.h,U=8,FMD5=" FMD5_INBOX ":2,RS");
	free(name);
	/* gone for good: an error naming the file */
	assert_int_equal(
	    maildir_msg_set_flags(fx->f, "cur/nothere:2,S", 0, &name, &err),
	    -1);
	assert_int_equal(err.kind, OIM_E_IO);
	assert_non_null(strstr(err.msg, "nothere"));
	/* garbage is never renamed */
	assert_int_equal(
	    maildir_msg_set_flags(fx->f, "cur/../../etc", 0, &name, &err), -1);
}

/* ---- delivery ---- */

static const char msg_crlf[] = "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"
			       "Message-ID:\r\n <abc@example.org>\r\n"
			       "Subject: hi\r\n"
			       "\r\n"
			       "body\r\nlone\rcr\r\n\r\nend\r";
static const char msg_lf[] = "Date: Tue, 14 Nov 2023 22:13:20 +0000\n"
			     "Message-ID:\n <abc@example.org>\n"
			     "Subject: hi\n"
			     "\n"
			     "body\nlone\rcr\n\nend\r";

static char *deliver(struct maildir_folder *f, uint32_t uid,
		     maildir_flags_t flags, const char *data, size_t len,
		     size_t chunk)
{
	struct oim_err err = OIM_ERR_INIT;
	struct maildir_delivery *d;
	char *name = NULL;
	assert_int_equal(maildir_delivery_begin(f, uid, flags, &d, &err), 0);
	for (size_t off = 0; off < len; off += chunk) {
		size_t n = len - off < chunk ? len - off : chunk;
		assert_int_equal(maildir_delivery_write(d, data + off, n, &err),
				 0);
	}
	if (maildir_delivery_commit(d, &name, &err) < 0)
		fail_msg("%s", err.msg);
	return name;
}

static void test_delivery_chunks(void **state)
{
	struct fx *fx = *state;
	char p[PATH_MAX * 2], tmpdir[PATH_MAX + 16];
	size_t len = strlen(msg_crlf);

	snprintf(tmpdir, sizeof(tmpdir), "%s/INBOX/tmp", fx->root);
	/* every chunk size, so a CR ends a chunk at every CRLF */
	for (size_t chunk = 1; chunk <= len; chunk++) {
		maildir_flags_t fl = chunk % 2 ? MAILDIR_FLAG_SEEN : 0;
		char *name =
		    deliver(fx->f, (uint32_t)chunk, fl, msg_crlf, len, chunk);
		struct maildir_name mn;
		const char *base = name + 4;
		assert_true(oim_starts_with(name, fl ? "cur/" : "new/"));
		assert_int_equal(
		    maildir_name_parse(base, strlen(base), ':', &mn, NULL), 0);
		assert_int_equal(mn.uid, chunk);
		assert_true(mn.has_info);
		assert_true(mn.flags == fl);
		assert_true(
		    maildir_name_has_fmd5(base, strlen(base), FMD5_INBOX));
		snprintf(p, sizeof(p), "%s/INBOX/%s", fx->root, name);
		char *got = test_read_file(p);
		assert_string_equal(got, msg_lf);
		free(got);
		free(name);
		assert_int_equal(count_files(tmpdir), 0);
	}
	/* split at every position into two chunks */
	for (size_t cut = 0; cut <= len; cut++) {
		struct oim_err err = OIM_ERR_INIT;
		struct maildir_delivery *d;
		char *name;
		assert_int_equal(
		    maildir_delivery_begin(fx->f, 1000, 0, &d, &err), 0);
		assert_int_equal(maildir_delivery_write(d, msg_crlf, cut, &err),
				 0);
		assert_int_equal(
		    maildir_delivery_write(d, msg_crlf + cut, len - cut, &err),
		    0);
		assert_int_equal(maildir_delivery_commit(d, &name, &err), 0);
		snprintf(p, sizeof(p), "%s/INBOX/%s", fx->root, name);
		char *got = test_read_file(p);
		assert_string_equal(got, msg_lf);
		free(got);
		unlink(p);
		free(name);
	}
	assert_int_equal(count_files(tmpdir), 0);
}

static void test_delivery_abort_and_unique(void **state)
{
	struct fx *fx = *state;
	struct oim_err err = OIM_ERR_INIT;
	struct maildir_delivery *d;
	char tmpdir[PATH_MAX + 16];
	char *a, *b;

	snprintf(tmpdir, sizeof(tmpdir), "%s/INBOX/tmp", fx->root);
	assert_int_equal(maildir_delivery_begin(fx->f, 1, 0, &d, &err), 0);
	assert_int_equal(maildir_delivery_write(d, "x", 1, &err), 0);
	assert_int_equal(count_files(tmpdir), 1);
	maildir_delivery_abort(d);
	assert_int_equal(count_files(tmpdir), 0);

	/* same UID twice (a re-download): two files, nothing replaced */
	a = deliver(fx->f, 7, MAILDIR_FLAG_SEEN, "a\n", 2, 2);
	b = deliver(fx->f, 7, MAILDIR_FLAG_SEEN, "b\n", 2, 2);
	assert_string_not_equal(a, b);
	free(a);
	free(b);
	/* empty message */
	a = deliver(fx->f, 8, 0, "", 0, 1);
	free(a);
}

static void test_delivery_mail_timestamp(void **state)
{
	struct fx *fx = *state;
	struct oim_err err = OIM_ERR_INIT;
	struct maildir_repo_opts o = {
	    .localfolders = fx->root,
	    .filename_use_mail_timestamp = true,
	    .utime_from_header = true,
	};
	struct maildir_repo *r = maildir_repo_new(&o, &err);
	struct maildir_folder *f = maildir_folder_open(r, "INBOX", NULL, &err);
	char p[PATH_MAX * 2];
	struct stat st;
	char *name;

	assert_non_null(f);
	name = deliver(f, 3, MAILDIR_FLAG_SEEN, msg_crlf, strlen(msg_crlf), 5);
	assert_true(oim_starts_with(name, "cur/1700000000_"));
	snprintf(p, sizeof(p), "%s/INBOX/%s", fx->root, name);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mtime, 1700000000);
	free(name);

	/* Delivery-date is the fallback for the name (not for mtime) */
	static const char m2[] =
	    "Delivery-date: Tue, 14 Nov 2023 22:13:21 +0000\n\nx\n";
	name = deliver(f, 4, MAILDIR_FLAG_SEEN, m2, strlen(m2), 100);
	assert_true(oim_starts_with(name, "cur/1700000001_"));
	free(name);

	/* no date: now */
	name = deliver(f, 5, MAILDIR_FLAG_SEEN, "\nbody", 5, 100);
	assert_false(oim_starts_with(name, "cur/17000000"));
	free(name);
	maildir_folder_free(f);
	maildir_repo_free(r);
}

/* ---- UID assignment, deletion, reading ---- */

static void test_set_uid(void **state)
{
	struct fx *fx = *state;
	struct oim_err err = OIM_ERR_INIT;
	char p[PATH_MAX * 2];
	char *name = NULL;
	struct maildir_name mn;

	snprintf(p, sizeof(p), "%s/INBOX/cur/1699999999.P1Q2.laptop:2,FS",
		 fx->root);
	test_write_file(p, "local mail\n");
	assert_int_equal(maildir_msg_set_uid(fx->f,
					     "cur/1699999999.P1Q2.laptop:2,FS",
					     77, &name, &err),
			 0);
	assert_true(oim_starts_with(name, "cur/"));
	assert_non_null(strstr(name, ",U=77,FMD5=" FMD5_INBOX ":2,FS"));
	assert_int_equal(
	    maildir_name_parse(name + 4, strlen(name + 4), ':', &mn, NULL), 0);
	assert_int_equal(mn.uid, 77);
	assert_int_equal(access(p, F_OK), -1);
	snprintf(p, sizeof(p), "%s/INBOX/%s", fx->root, name);
	char *c = test_read_file(p);
	assert_string_equal(c, "local mail\n");
	free(c);

	/* the scan now sees the UID */
	struct maildir_msglist l = {0};
	assert_int_equal(maildir_folder_scan(fx->f, NULL, &l, &err), 0);
	assert_int_equal(l.nr, 1);
	assert_int_equal(l.msgs[0].uid, 77);
	maildir_msglist_release(&l);

	/* and can be found again after a reader renamed it */
	char *found = NULL;
	assert_int_equal(maildir_folder_find_uid(fx->f, 77, &found, &err), 0);
	assert_string_equal(found, name);
	free(found);
	assert_int_equal(maildir_folder_find_uid(fx->f, 78, &found, &err), 0);
	assert_null(found);
	free(name);
}

static void test_delete(void **state)
{
	struct fx *fx = *state;
	struct oim_err err = OIM_ERR_INIT;
	char p[PATH_MAX * 2], q[PATH_MAX * 2];

	snprintf(p, sizeof(p), "%s/INBOX/cur/1_0.1.h,U=3,FMD5=%s:2,S", fx->root,
		 FMD5_INBOX);
	test_write_file(p, "x");
	assert_int_equal(
	    maildir_msg_delete(fx->f, "cur/1_0.1.h,U=3,FMD5=" FMD5_INBOX ":2,S",
			       &err),
	    0);
	assert_int_equal(access(p, F_OK), -1);
	/* already gone: fine */
	assert_int_equal(
	    maildir_msg_delete(fx->f, "cur/1_0.1.h,U=3,FMD5=" FMD5_INBOX ":2,S",
			       &err),
	    0);
	/* renamed by a reader: the file with the UID goes */
	test_write_file(p, "x");
	snprintf(q, sizeof(q), "%s/INBOX/cur/1_0.1.h,U=3,FMD5=%s:2,RS",
		 fx->root, FMD5_INBOX);
	assert_int_equal(rename(p, q), 0);
	assert_int_equal(
	    maildir_msg_delete(fx->f, "cur/1_0.1.h,U=3,FMD5=" FMD5_INBOX ":2,S",
			       &err),
	    0);
	assert_int_equal(access(q, F_OK), -1);
	/* path tricks refused */
	assert_int_equal(maildir_msg_delete(fx->f, "tmp/x", &err), -1);
	assert_int_equal(maildir_msg_delete(fx->f, "cur/..", &err), -1);
	assert_int_equal(maildir_msg_delete(fx->f, "cur/a/b", &err), -1);
}

static void test_read_crlf_and_info(void **state)
{
	struct fx *fx = *state;
	struct oim_err err = OIM_ERR_INIT;
	char *name =
	    deliver(fx->f, 9, MAILDIR_FLAG_SEEN, msg_crlf, strlen(msg_crlf), 7);
	struct maildir_reader *r;
	struct strbuf got = STRBUF_INIT;
	uint64_t size;

	/* LF -> CRLF, every output buffer size down to 2 */
	for (size_t cap = 2; cap < 40; cap++) {
		char buf[64];
		size_t n;
		strbuf_reset(&got);
		assert_int_equal(
		    maildir_reader_open(fx->f, name, true, &r, &err), 0);
		do {
			assert_int_equal(
			    maildir_reader_read(r, buf, cap, &n, &err), 0);
			strbuf_add(&got, buf, n);
		} while (n);
		maildir_reader_free(r);
		assert_string_equal(got.buf, msg_crlf);
	}
	assert_int_equal(maildir_msg_crlf_size(fx->f, name, &size, &err), 0);
	assert_int_equal(size, strlen(msg_crlf));

	/* raw */
	char buf[4096];
	size_t n;
	assert_int_equal(maildir_reader_open(fx->f, name, false, &r, &err), 0);
	assert_int_equal(maildir_reader_read(r, buf, sizeof(buf), &n, &err), 0);
	assert_int_equal(n, strlen(msg_lf));
	assert_memory_equal(buf, msg_lf, n);
	maildir_reader_free(r);

	struct maildir_msg_info info;
	assert_int_equal(maildir_msg_info(fx->f, name, &info, &err), 0);
	assert_int_equal(info.size, strlen(msg_lf));
	assert_true(info.has_date);
	assert_int_equal(info.date, 1700000000);
	assert_string_equal(info.message_id, "<abc@example.org>");
	maildir_msg_info_release(&info);

	/* a file that is not there: a message-level error naming it */
	assert_int_equal(maildir_msg_info(fx->f, "cur/gone", &info, &err), -1);
	assert_int_equal(err.kind, OIM_E_IO);
	assert_non_null(strstr(err.msg, "cur/gone"));
	assert_int_equal(err.sev, OIM_SEV_MESSAGE);
	strbuf_release(&got);
	free(name);
}

static void test_sort_find_stamp(void **state)
{
	struct fx *fx = *state;
	struct oim_err err = OIM_ERR_INIT;
	struct maildir_msglist l = {0};
	struct maildir_stamp s1, s2;
	char p[PATH_MAX * 2];
	static const char *const files[] = {
	    "cur/9_0.1.h,U=9,FMD5=" FMD5_INBOX ":2,S",
	    "cur/3_0.1.h,U=3,FMD5=" FMD5_INBOX ":2,S",
	    /* a copy made by a user: same UID twice, both listed */
	    "cur/3_1.1.h,U=3,FMD5=" FMD5_INBOX ":2,S",
	    "new/1.mutt.h",
	};

	/* old directory times first, so the change cannot fall into the
	 * same clock tick */
	struct timespec old[2] = {{.tv_sec = 1000000000},
				  {.tv_sec = 1000000000}};
	snprintf(p, sizeof(p), "%s/INBOX/cur", fx->root);
	assert_int_equal(utimensat(AT_FDCWD, p, old, 0), 0);
	snprintf(p, sizeof(p), "%s/INBOX/new", fx->root);
	assert_int_equal(utimensat(AT_FDCWD, p, old, 0), 0);
	assert_int_equal(maildir_folder_stamp(fx->f, &s1, &err), 0);
	assert_true(s1.cur_ns == 1000000000ll * 1000000000ll);
	assert_int_equal(maildir_folder_stamp(fx->f, &s2, &err), 0);
	assert_memory_equal(&s1, &s2, sizeof(s1));
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		snprintf(p, sizeof(p), "%s/INBOX/%s", fx->root, files[i]);
		test_write_file(p, "x");
	}
	assert_int_equal(maildir_folder_stamp(fx->f, &s2, &err), 0);
	assert_true(s1.cur_ns != s2.cur_ns);
	assert_true(s1.new_ns != s2.new_ns);
	assert_int_equal(maildir_folder_scan(fx->f, NULL, &l, &err), 0);
	maildir_msglist_sort(&l);
	assert_int_equal(l.nr, 4);
	assert_int_equal(l.msgs[0].uid, 0);
	assert_int_equal(l.msgs[1].uid, 3);
	assert_int_equal(l.msgs[2].uid, 3);
	assert_int_equal(l.msgs[3].uid, 9);
	assert_ptr_equal(maildir_msglist_find(&l, 3), &l.msgs[1]);
	assert_ptr_equal(maildir_msglist_find(&l, 9), &l.msgs[3]);
	assert_null(maildir_msglist_find(&l, 4));
	assert_null(maildir_msglist_find(&l, 10));
	assert_null(maildir_msglist_find(&l, 0));
	maildir_msglist_release(&l);
	/* an empty list */
	assert_null(maildir_msglist_find(&l, 1));
	maildir_msglist_sort(&l);
}

static void test_restoreatime(void **state)
{
	struct fx *fx = *state;
	struct oim_err err = OIM_ERR_INIT;
	struct maildir_repo_opts o = {.localfolders = fx->root,
				      .restoreatime = true};
	struct maildir_repo *r = maildir_repo_new(&o, &err);
	char p[PATH_MAX * 2];
	struct timespec old[2] = {{.tv_sec = 1000000000},
				  {.tv_nsec = UTIME_OMIT}};
	struct stat st;

	snprintf(p, sizeof(p), "%s/INBOX/cur", fx->root);
	assert_int_equal(utimensat(AT_FDCWD, p, old, 0), 0);
	struct maildir_folder *f = maildir_folder_open(r, "INBOX", NULL, &err);
	assert_non_null(f);
	struct timespec now[2] = {{.tv_sec = 2000000000},
				  {.tv_nsec = UTIME_OMIT}};
	assert_int_equal(utimensat(AT_FDCWD, p, now, 0), 0);
	assert_int_equal(maildir_folder_restore_atime(f, &err), 0);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_atim.tv_sec, 1000000000);
	maildir_folder_free(f);
	maildir_repo_free(r);
	/* without the option: a no-op */
	assert_int_equal(maildir_folder_restore_atime(fx->f, &err), 0);
}

/* A process killed in the middle of a download leaves only a tmp/ file:
 * no scan lists it, and the message can be downloaded again. */
static void test_crash_mid_delivery(void **state)
{
	struct fx *fx = *state;
	struct oim_err err = OIM_ERR_INIT;
	struct maildir_msglist l = {0};
	char tmpdir[PATH_MAX + 16];
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		struct maildir_delivery *d;
		if (maildir_delivery_begin(fx->f, 5, MAILDIR_FLAG_SEEN, &d,
					   &err) < 0 ||
		    maildir_delivery_write(d, "Subject: x\r\n\r\nhal", 17,
					   &err) < 0)
			_exit(1);
		_exit(0); /* killed: no commit, no abort */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	snprintf(tmpdir, sizeof(tmpdir), "%s/INBOX/tmp", fx->root);
	assert_int_equal(count_files(tmpdir), 1);
	assert_int_equal(maildir_folder_scan(fx->f, NULL, &l, &err), 0);
	assert_int_equal(l.nr, 0);
	maildir_msglist_release(&l);

	char *name = deliver(fx->f, 5, MAILDIR_FLAG_SEEN, "a\r\n", 3, 3);
	assert_int_equal(maildir_folder_scan(fx->f, NULL, &l, &err), 0);
	assert_int_equal(l.nr, 1);
	assert_int_equal(l.msgs[0].uid, 5);
	assert_string_equal(l.msgs[0].name, name);
	maildir_msglist_release(&l);
	free(name);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_list_offlineimap, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_create_folder, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_repo_expand, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_root_folder_fmd5, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_scan_offlineimap, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_scan_windows, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_scan_maxage_maxsize, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_flags_offlineimap, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_flags_follow_reader_rename,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_delivery_chunks, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_delivery_abort_and_unique,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_delivery_mail_timestamp, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_set_uid, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_delete, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_crlf_and_info, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_sort_find_stamp, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_restoreatime, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_crash_mid_delivery, setup,
					    teardown),
	};
	log_set_level(OIM_LOG_ERROR); /* the garbage warnings are expected */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
