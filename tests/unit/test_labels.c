/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Gmail label sets (store/labels.h) and the labels header of Maildir
 * messages (store/maildir-labels.h) in a scratch Maildir under $TMPDIR.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/labels.h"
#include "store/maildir-labels.h"
#include "util/strbuf.h"
#include "util/util.h"

static char *fmt(const struct labelset *s, const char *sep)
{
	struct strbuf sb = STRBUF_INIT;
	labelset_format(s, sep, &sb);
	return strbuf_detach(&sb, NULL);
}

static void test_set(void **state)
{
	struct labelset a = LABELSET_INIT, b = LABELSET_INIT, c = LABELSET_INIT;
	char *s;
	(void)state;

	/* status spelling: split on ',', stripped, sorted, unique */
	labelset_parse(&a, " Work ,\\Inbox,, b ,Work", ',');
	s = fmt(&a, ", ");
	assert_string_equal(s, "Work, \\Inbox, b");
	free(s);
	labelset_parse(&b, "b c", ' ');
	labelset_minus(&a, &b, &c);
	s = fmt(&c, ",");
	assert_string_equal(s, "Work,\\Inbox");
	free(s);
	labelset_and(&a, &b, &c);
	s = fmt(&c, ",");
	assert_string_equal(s, "b");
	free(s);
	assert_false(labelset_equal(&a, &b));
	labelset_union(&c, &a);
	assert_true(labelset_equal(&a, &c));
	assert_true(labelset_has(&a, "\\Inbox"));
	assert_false(labelset_has(&a, "Inbox"));
	assert_int_equal(labels_header_sep("X-Keywords"), ',');
	assert_int_equal(labels_header_sep("X-Label"), ' ');
	assert_int_equal(labels_header_sep("Keywords"), ' ');
	assert_int_equal(labels_header_sep("keywords"), ',');
	labelset_release(&a);
	labelset_release(&b);
	labelset_release(&c);
}

static char root[512];

static void put(const char *rel, const char *content)
{
	char p[1024];
	FILE *f;
	snprintf(p, sizeof(p), "%s/INBOX/%s", root, rel);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

static char *get(const char *rel)
{
	char p[1024];
	struct strbuf sb = STRBUF_INIT;
	char buf[4096];
	size_t n;
	FILE *f;
	snprintf(p, sizeof(p), "%s/INBOX/%s", root, rel);
	f = fopen(p, "r");
	assert_non_null(f);
	while ((n = fread(buf, 1, sizeof(buf), f)))
		strbuf_add(&sb, buf, n);
	fclose(f);
	return strbuf_detach(&sb, NULL);
}

static void test_header(void **state)
{
	struct maildir_repo_opts ro = {0};
	struct maildir_repo *repo;
	struct maildir_folder *f;
	struct oim_err err = OIM_ERR_INIT;
	struct labelset ls = LABELSET_INIT;
	int64_t mtime = 0;
	char *s;
	const char *name = "cur/1_0.1.h,U=5,FMD5=x:2,S";
	(void)state;

	snprintf(root, sizeof(root), "%s/oimap-labels-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(root));
	ro.localfolders = root;
	ro.fsync = false;
	repo = maildir_repo_new(&ro, &err);
	assert_non_null(repo);
	assert_int_equal(maildir_repo_create_folder(repo, "INBOX", &err), 0);
	f = maildir_folder_open(repo, "INBOX", NULL, &err);
	assert_non_null(f);

	/* two fields, one folded; case-insensitive name */
	put(name, "From: a@b\nX-Keywords: one,\n two\nSubject: s\n"
		  "x-keywords: three\n\nX-Keywords: body,not\n");
	assert_int_equal(
	    maildir_msg_labels_read(f, name, "X-Keywords", &ls, &mtime, &err),
	    0);
	s = fmt(&ls, ", ");
	assert_string_equal(s, "one, three, two");
	free(s);
	assert_true(mtime > 0);

	/* rewrite: old fields gone, one new at the end of the header */
	labelset_release(&ls);
	labelset_parse(&ls, "\\Inbox,Work", ',');
	assert_int_equal(
	    maildir_msg_labels_write(f, name, "X-Keywords", &ls, &mtime, &err),
	    0);
	s = get(name);
	assert_string_equal(s, "From: a@b\nSubject: s\n"
			       "X-Keywords: Work,\\Inbox\n\n"
			       "X-Keywords: body,not\n");
	free(s);

	/* empty set: the bare field, as Python writes it */
	labelset_release(&ls);
	assert_int_equal(
	    maildir_msg_labels_write(f, name, "X-Keywords", &ls, NULL, &err),
	    0);
	s = get(name);
	assert_string_equal(s, "From: a@b\nSubject: s\nX-Keywords:\n\n"
			       "X-Keywords: body,not\n");
	free(s);

	/* space-separated header, CRLF file, no body */
	put("new/2", "A: b\r\nX-Label: x y\r\n\r\n");
	assert_int_equal(
	    maildir_msg_labels_read(f, "new/2", "X-Label", &ls, NULL, &err), 0);
	s = fmt(&ls, ",");
	assert_string_equal(s, "x,y");
	free(s);
	labelset_add(&ls, "z", 1);
	assert_int_equal(
	    maildir_msg_labels_write(f, "new/2", "X-Label", &ls, NULL, &err),
	    0);
	s = get("new/2");
	assert_string_equal(s, "A: b\r\nX-Label: x y z\r\n\r\n");
	free(s);

	/* header only, no final newline */
	put("new/3", "A: b");
	assert_int_equal(
	    maildir_msg_labels_write(f, "new/3", "X-Keywords", &ls, NULL, &err),
	    0);
	s = get("new/3");
	assert_string_equal(s, "A: b\nX-Keywords: x,y,z\n");
	free(s);

	/* folded by Python's email package into encoded words (OfflineIMAP
	 * writes this for a long label list) */
	labelset_release(&ls);
	put("new/4", "A: b\nX-Keywords: "
		     "=?utf-8?q?Caf=C3=A9=2CFamily=2CNewsletters=2CPersonal="
		     "2CProjects?=\n"
		     " =?utf-8?q?/oimap=2CReceipts=2CTravel/"
		     "2026=2CWork=2C=5CImportant=2C="
		     "5CInbox?=\n\nbody\n");
	assert_int_equal(
	    maildir_msg_labels_read(f, "new/4", "X-Keywords", &ls, NULL, &err),
	    0);
	s = fmt(&ls, ",");
	assert_string_equal(s, "Caf\xc3\xa9,Family,Newsletters,Personal,"
			       "Projects/oimap,Receipts,Travel/2026,Work,"
			       "\\Important,\\Inbox");
	free(s);
	labelset_release(&ls);
	put("new/5", "X-Keywords: Work =?utf-8?q?stuff=2C=5CImportant?=\n"
		     " =?ISO-8859-1?B?6Q==?= =bad?= x\n\n");
	assert_int_equal(
	    maildir_msg_labels_read(f, "new/5", "X-Keywords", &ls, NULL, &err),
	    0);
	s = fmt(&ls, "|");
	assert_string_equal(s, "Work stuff|\\Important\xc3\xa9 =bad?= x");
	free(s);
	labelset_release(&ls);
	labelset_parse(&ls, "x", ',');

	/* a vanished message is not recreated */
	assert_int_equal(maildir_msg_labels_write(f, "new/gone", "X-Keywords",
						  &ls, NULL, &err),
			 -1);
	assert_int_equal(err.sev, OIM_SEV_MESSAGE);
	assert_int_equal(access("new/gone", F_OK), -1);

	/* delivery: the header rewritten on the way in, whatever the
	 * chunks; CRLF made LF as always */
	{
		static const char *const in[] = {
		    "From: a\r\nX-Keyw", "ords: stale\r\n", "Subject: s\r",
		    "\n\r\nX-Keywords: body\r\n"};
		struct maildir_delivery *d;
		char *got = NULL;
		labelset_release(&ls);
		labelset_parse(&ls, "b,a", ',');
		assert_int_equal(maildir_delivery_begin(f, 9, 0, &d, &err), 0);
		maildir_delivery_labels(d, "X-Keywords", &ls);
		for (size_t i = 0; i < ARRAY_SIZE(in); i++)
			assert_int_equal(maildir_delivery_write(
					     d, in[i], strlen(in[i]), &err),
					 0);
		assert_int_equal(maildir_delivery_commit(d, &got, &err), 0);
		s = get(got);
		assert_string_equal(s, "From: a\nSubject: s\nX-Keywords: a,b\n"
				       "\nX-Keywords: body\n");
		free(s);
		free(got);
		/* all header, no newline at the end */
		assert_int_equal(maildir_delivery_begin(f, 10, 0, &d, &err), 0);
		maildir_delivery_labels(d, "X-Keywords", &ls);
		assert_int_equal(maildir_delivery_write(d, "A: b", 4, &err), 0);
		assert_int_equal(maildir_delivery_commit(d, &got, &err), 0);
		s = get(got);
		assert_string_equal(s, "A: b\nX-Keywords: a,b\n");
		free(s);
		free(got);
		/* no header at all: the field alone, then the body */
		assert_int_equal(maildir_delivery_begin(f, 11, 0, &d, &err), 0);
		maildir_delivery_labels(d, "X-Keywords", &ls);
		assert_int_equal(maildir_delivery_write(d, "\nbody\n", 6, &err),
				 0);
		assert_int_equal(maildir_delivery_commit(d, &got, &err), 0);
		s = get(got);
		assert_string_equal(s, "X-Keywords: a,b\n\nbody\n");
		free(s);
		free(got);
		/* aborted: nothing left in tmp/ */
		assert_int_equal(maildir_delivery_begin(f, 12, 0, &d, &err), 0);
		maildir_delivery_labels(d, "X-Keywords", &ls);
		assert_int_equal(maildir_delivery_write(d, "A: b\n", 5, &err),
				 0);
		maildir_delivery_abort(d);
	}

	labelset_release(&ls);
	maildir_folder_free(f);
	maildir_repo_free(repo);
	{
		char cmd[1100];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
		assert_int_equal(system(cmd), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_set),
	    cmocka_unit_test(test_header),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
