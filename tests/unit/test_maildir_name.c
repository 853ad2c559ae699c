/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Maildir names, flags, FMD5 and Date: parsing, against what OfflineIMAP 8
 * itself computes (data/maildir/offlineimap-names.tsv, made by
 * gen_offlineimap_names.py from offlineimap3's own code) and tables.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "store/maildir.h"
#include "util/strbuf.h"
#include "util/util.h"

#define MAX_FIELDS 10

struct tsv_line {
	char *buf;
	char *f[MAX_FIELDS];
	int n;
};

/* Calls fn for each line of the data file whose first field is kind. */
static int each_line(const char *kind, void (*fn)(struct tsv_line *))
{
	const char *dir = getenv("OIMAP_TESTDATA");
	char path[4096];
	char line[8192];
	FILE *fp;
	int count = 0;

	assert_non_null(dir);
	snprintf(path, sizeof(path), "%s/maildir/offlineimap-names.tsv", dir);
	fp = fopen(path, "r");
	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp)) {
		struct tsv_line l = {.buf = line};
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
		fn(&l);
		count++;
	}
	fclose(fp);
	return count;
}

static const char *flagstr(maildir_flags_t f, char buf[MAILDIR_FLAGS_STR_MAX])
{
	return maildir_flags_str(f, buf);
}

/* ---- FMD5 ---- */

static void check_fmd5(struct tsv_line *l)
{
	char md[MAILDIR_FMD5_LEN + 1];
	maildir_fmd5(l->f[1], md);
	assert_string_equal(md, l->f[2]);
}

static void test_fmd5_offlineimap(void **state)
{
	assert_true(each_line("fmd5", check_fmd5) >= 9);
}

/* ---- names OfflineIMAP writes ---- */

static void check_gen(struct tsv_line *l)
{
	/* gen infosep fmd5 time pid host uid flags name */
	const char *name = l->f[8];
	struct strbuf sb = STRBUF_INIT;
	struct maildir_name mn;
	const char *why = NULL;
	char fb[MAILDIR_FLAGS_STR_MAX];
	uint64_t t, pid, uid, seq;
	const char *us = strchr(name, '_');
	size_t seqlen;

	assert_int_equal(
	    oim_parse_u64(l->f[3], strlen(l->f[3]), UINT64_MAX, &t), 0);
	assert_int_equal(
	    oim_parse_u64(l->f[4], strlen(l->f[4]), UINT64_MAX, &pid), 0);
	assert_int_equal(
	    oim_parse_u64(l->f[6], strlen(l->f[6]), UINT32_MAX, &uid), 0);
	assert_non_null(us);
	seqlen = strcspn(us + 1, ".");
	assert_int_equal(oim_parse_u64(us + 1, seqlen, UINT64_MAX, &seq), 0);

	maildir_name_format(&sb, (int64_t)t, (unsigned long)seq, (long)pid,
			    l->f[5], (uint32_t)uid, l->f[2], l->f[1][0],
			    maildir_flags_parse(l->f[7], strlen(l->f[7])));
	assert_string_equal(sb.buf, name);

	assert_int_equal(
	    maildir_name_parse(name, strlen(name), l->f[1][0], &mn, &why), 0);
	assert_true(mn.has_uid);
	assert_int_equal(mn.uid, uid);
	assert_true(mn.has_fmd5);
	assert_string_equal(mn.fmd5, l->f[2]);
	assert_true(mn.has_info);
	assert_int_equal(mn.info_end, strlen(name));
	assert_string_equal(flagstr(mn.flags, fb), l->f[7]);
	assert_true(mn.has_time);
	assert_int_equal(mn.time, t);
	assert_true(maildir_name_has_fmd5(name, strlen(name), l->f[2]));
	strbuf_release(&sb);
}

static void test_gen_offlineimap(void **state)
{
	assert_true(each_line("gen", check_gen) >= 100);
}

/* ---- names OfflineIMAP reads ---- */

static void check_parse(struct tsv_line *l)
{
	/* parse infosep fmd5 name uid flags */
	const char *name = l->f[3];
	struct maildir_name mn;
	char fb[MAILDIR_FLAGS_STR_MAX];
	uint32_t uid = 0;

	assert_int_equal(
	    maildir_name_parse(name, strlen(name), l->f[1][0], &mn, NULL), 0);
	if (mn.has_uid && maildir_name_has_fmd5(name, strlen(name), l->f[2]))
		uid = mn.uid;
	if (!strcmp(l->f[4], "-")) {
		assert_int_equal(uid, 0);
	} else {
		uint64_t want;
		assert_int_equal(
		    oim_parse_u64(l->f[4], strlen(l->f[4]), UINT32_MAX, &want),
		    0);
		assert_int_equal(uid, want);
	}
	assert_string_equal(flagstr(mn.flags, fb), l->f[5]);
}

static void test_parse_offlineimap(void **state)
{
	assert_true(each_line("parse", check_parse) >= 20);
}

/* ---- Date: ---- */

static void check_date(struct tsv_line *l)
{
	int64_t t = 0;
	int r = maildir_parse_date(l->f[1], strlen(l->f[1]), &t);
	if (!strcmp(l->f[2], "-")) {
		if (r == 0)
			fail_msg("'%s' parsed as %lld, Python says None",
				 l->f[1], (long long)t);
	} else {
		long want;
		assert_int_equal(oim_parse_long(l->f[2], &want), 0);
		if (r != 0 || t != want)
			fail_msg("'%s': got %d/%lld, Python %ld", l->f[1], r,
				 (long long)t, want);
	}
}

static void test_date_offlineimap(void **state)
{
	assert_true(each_line("date", check_date) >= 20);
}

static void test_date_bounds(void **state)
{
	static const char *const bad[] = {
	    "Tue, 14 Nov 10000 22:13:20 +0000", /* datetime: year */
	    "Tue, 14 Nov 2023 22:13:20:11 +0000",
	    "Tue, 14 Nov 2023 99999999999:13:20 +0000",
	    "14 Nov",
	    "Tue, 14 Nov 2023 "
	    "2222222222222222222222222222222222222222222222222222222222222222"
	    "22:13:20 +0000",
	};
	int64_t t;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(maildir_parse_date(bad[i], strlen(bad[i]), &t),
				 -1);
	/* not NUL-terminated input is bounded by len */
	const char s[] = "Tue, 14 Nov 2023 22:13:20 +0000XXXXX";
	assert_int_equal(maildir_parse_date(s, strlen(s) - 5, &t), 0);
	assert_int_equal(t, 1700000000);
}

/* ---- flags ---- */

static void test_flags_all_subsets(void **state)
{
	static const char letters[] = "DFRST";
	char fb[MAILDIR_FLAGS_STR_MAX];

	for (unsigned mask = 0; mask < 32; mask++) {
		char sorted[8], reversed[8], dup[16];
		size_t n = 0, d = 0;
		maildir_flags_t want = 0;

		for (unsigned i = 0; i < 5; i++)
			if (mask & (1u << i)) {
				sorted[n++] = letters[i];
				want |= maildir_flag_bit(letters[i]);
			}
		sorted[n] = '\0';
		for (size_t i = 0; i < n; i++) {
			reversed[i] = sorted[n - 1 - i];
			dup[d++] = sorted[n - 1 - i];
			dup[d++] = sorted[n - 1 - i];
		}
		reversed[n] = '\0';
		dup[d] = '\0';

		assert_true(maildir_flags_parse(sorted, n) == want);
		assert_true(maildir_flags_parse(reversed, n) == want);
		assert_true(maildir_flags_parse(dup, d) == want);
		assert_string_equal(maildir_flags_str(want, fb), sorted);

		/* name with unsorted, duplicated flags: parsed to the set,
		 * rewritten sorted */
		struct strbuf name = STRBUF_INIT, out = STRBUF_INIT;
		struct maildir_name mn;
		strbuf_addf(&name,
			    "1_0.1.h,U=5,FMD5=7e33429f656f1e6e9d79b29c3f82c57e"
			    ":2,%s",
			    dup);
		assert_int_equal(
		    maildir_name_parse(name.buf, name.len, ':', &mn, NULL), 0);
		assert_true(mn.flags == want);
		assert_int_equal(mn.uid, 5);
		maildir_name_with_flags(&out, name.buf, name.len, ':',
					mn.flags);
		assert_int_equal(
		    maildir_name_parse(out.buf, out.len, ':', &mn, NULL), 0);
		assert_true(mn.flags == want);
		assert_int_equal(mn.uid, 5);
		assert_string_equal(out.buf + mn.info_off + 3, sorted);

		/* each subset -> each other subset */
		for (unsigned m2 = 0; m2 < 32; m2++) {
			maildir_flags_t f2 = 0;
			for (unsigned i = 0; i < 5; i++)
				if (m2 & (1u << i))
					f2 |= maildir_flag_bit(letters[i]);
			strbuf_reset(&out);
			maildir_name_with_flags(&out, name.buf, name.len, ':',
						f2);
			assert_int_equal(maildir_name_parse(out.buf, out.len,
							    ':', &mn, NULL),
					 0);
			assert_true(mn.flags == f2);
			assert_int_equal(mn.uid, 5);
		}
		strbuf_release(&name);
		strbuf_release(&out);
	}
}

static void test_flags_order_and_keywords(void **state)
{
	char fb[MAILDIR_FLAGS_STR_MAX];
	/* Python's sorted(): digits < upper case < '_' < lower case */
	assert_string_equal(
	    maildir_flags_str(maildir_flags_parse("zaS_0DT", 7), fb),
	    "0DST_az");
	assert_true(maildir_flags_parse("S-+ ", 4) == MAILDIR_FLAG_SEEN);
	assert_true(MAILDIR_FLAG_LC('a') == maildir_flag_bit('a'));
	assert_true(maildir_flag_bit(':') == 0);
	assert_true(maildir_flag_bit(0xe9) == 0);
	/* all 63 */
	assert_int_equal(
	    strlen(maildir_flags_str(~(maildir_flags_t)0 >> 1, fb)), 63);
}

/* ---- odd names ---- */

struct odd {
	const char *name;
	char infosep;
	int ret;
	bool has_uid;
	uint32_t uid;
	const char *flags;
};

static void test_odd_names(void **state)
{
	static const struct odd odd[] = {
	    {"", ':', -1, false, 0, ""},
	    {".nfs000001", ':', -1, false, 0, ""},
	    {"a\nb:2,S", ':', -1, false, 0, ""},
	    {"a\tb", ':', -1, false, 0, ""},
	    {"a\x7f", ':', -1, false, 0, ""},
	    {"1.2.h,U=0,FMD5=x:2,S", ':', -1, false, 0, ""},
	    {"1.2.h,U=4294967296:2,S", ':', -1, false, 0, ""},
	    {"1.2.h,U=99999999999999999999999:2,S", ':', -1, false, 0, ""},
	    {"1.2.h,U=4294967295:2,S", ':', 0, true, 4294967295u, "S"},
	    {"1.2.h,U=007:2,S", ':', 0, true, 7, "S"},
	    {"1.2.h,U=:2,S", ':', 0, false, 0, "S"},
	    {"1.2.h,U=x,U=3", ':', 0, true, 3, ""},
	    {"1.2.h:2,FS", '!', 0, false, 0, ""},
	    {"1.2.h!2,FS", '!', 0, false, 0, "FS"},
	    {"1.2.h!2,FS", ':', 0, false, 0, ""},
	    {"1.2.h:2,S:2,F", ':', 0, false, 0, "S"},
	    {"1.2.h:2,S\xc3\xa9", ':', 0, false, 0, "S"},
	    {"\xff\xfe:2,T", ':', 0, false, 0, "T"},
	    {"plain", ':', 0, false, 0, ""},
	    {":2,", ':', 0, false, 0, ""},
	    {":2", ':', 0, false, 0, ""},
	};
	char fb[MAILDIR_FLAGS_STR_MAX];

	for (size_t i = 0; i < ARRAY_SIZE(odd); i++) {
		struct maildir_name mn;
		const char *why = NULL;
		int r = maildir_name_parse(odd[i].name, strlen(odd[i].name),
					   odd[i].infosep, &mn, &why);
		if (r != odd[i].ret)
			fail_msg("'%s': %d, want %d", odd[i].name, r,
				 odd[i].ret);
		if (r < 0) {
			assert_non_null(why);
			continue;
		}
		assert_int_equal(mn.has_uid, odd[i].has_uid);
		assert_int_equal(mn.uid, odd[i].uid);
		assert_string_equal(flagstr(mn.flags, fb), odd[i].flags);
	}
	/* too long */
	char *big = xmalloc(OIM_MAILDIR_MAX_NAME + 2);
	struct maildir_name mn;
	memset(big, 'a', OIM_MAILDIR_MAX_NAME + 1);
	big[OIM_MAILDIR_MAX_NAME + 1] = '\0';
	assert_int_equal(maildir_name_parse(big, strlen(big), ':', &mn, NULL),
			 -1);
	free(big);
}

static void test_with_flags_keeps_rest(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	const char *n = "1.abc.host:2,S.bak";
	maildir_name_with_flags(&sb, n, strlen(n), ':',
				MAILDIR_FLAG_SEEN | MAILDIR_FLAG_FLAGGED);
	assert_string_equal(sb.buf, "1.abc.host:2,FS.bak");
	strbuf_reset(&sb);
	n = "1.abc.host";
	maildir_name_with_flags(&sb, n, strlen(n), '!', 0);
	assert_string_equal(sb.buf, "1.abc.host!2,");
	strbuf_release(&sb);
}

static void test_host_sanitised(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	struct maildir_name mn;
	maildir_name_format(&sb, 5, 0, 9, "a/b:c,d!e", 3,
			    "7e33429f656f1e6e9d79b29c3f82c57e", ':',
			    MAILDIR_FLAG_SEEN);
	assert_string_equal(sb.buf, "5_0.9.a-b-c-d-e,U=3,FMD5="
				    "7e33429f656f1e6e9d79b29c3f82c57e:2,S");
	assert_int_equal(maildir_name_parse(sb.buf, sb.len, ':', &mn, NULL), 0);
	assert_int_equal(mn.prefix_len, strlen("5_0.9.a-b-c-d-e"));
	strbuf_release(&sb);
}

static void test_timeseq(void **state)
{
	int64_t t;
	unsigned long seq;
	/* times no other test uses: OfflineIMAP's per-time counter */
	maildir_timeseq(111, &t, &seq);
	assert_int_equal(t, 111);
	assert_int_equal(seq, 0);
	maildir_timeseq(111, &t, &seq);
	assert_int_equal(seq, 1);
	maildir_timeseq(112, &t, &seq);
	assert_int_equal(seq, 0);
	maildir_timeseq(111, &t, &seq);
	assert_int_equal(seq, 2);
	/* many distinct values: the table grows and keeps counting */
	for (int64_t i = 0; i < 1000; i++)
		maildir_timeseq(1000 + i, &t, &seq);
	maildir_timeseq(111, &t, &seq);
	assert_int_equal(seq, 3);
	maildir_timeseq(1500, &t, &seq);
	assert_int_equal(seq, 1);
	maildir_timeseq(-1, &t, &seq);
	assert_true(t > 1600000000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fmd5_offlineimap),
	    cmocka_unit_test(test_gen_offlineimap),
	    cmocka_unit_test(test_parse_offlineimap),
	    cmocka_unit_test(test_date_offlineimap),
	    cmocka_unit_test(test_date_bounds),
	    cmocka_unit_test(test_flags_all_subsets),
	    cmocka_unit_test(test_flags_order_and_keywords),
	    cmocka_unit_test(test_odd_names),
	    cmocka_unit_test(test_with_flags_keeps_rest),
	    cmocka_unit_test(test_host_sanitised),
	    cmocka_unit_test(test_timeseq),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
