/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * OfflineIMAP's UIDMapping files (status_uidmap.c): parsing, appends,
 * rewrites, and the file a crash can leave.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"

#include "status/status.h"
#include "util/err.h"
#include "util/util.h"

static char *tmpdir;

static int setup(void **state)
{
	char tmpl[] = "/tmp/oimap-uidmap-XXXXXX";
	assert_non_null(mkdtemp(tmpl));
	tmpdir = xstrdup(tmpl);
	return 0;
}

static int teardown(void **state)
{
	char *cmd = xasprintf("rm -rf '%s'", tmpdir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(tmpdir);
	return 0;
}

static char *map_file(const char *folder)
{
	char *path;
	struct oim_err err = OIM_ERR_INIT;
	assert_int_equal(
	    status_uidmap_path(tmpdir, "Near", folder, &path, &err), 0);
	return path;
}

static void test_path(void **state)
{
	char *p = map_file("Archive/2024");
	char *want = xasprintf("%s/Repository-Near/UIDMapping/Archive.2024",
			       tmpdir);
	assert_string_equal(p, want);
	free(p);
	free(want);
}

static void test_parse_offlineimap(void **state)
{
	struct oim_err err = OIM_ERR_INIT;
	struct status_uidmap *m;
	const char *text = "1:1\n2:2\n3:7\n 12 : 40\r\n3:7\n";
	assert_int_equal(
	    status_uidmap_parse(text, strlen(text), "f", &m, &err), 0);
	assert_int_equal(status_uidmap_count(m), 4);
	assert_int_equal(status_uidmap_remote(m, 3), 7);
	assert_int_equal(status_uidmap_local(m, 7), 3);
	assert_int_equal(status_uidmap_remote(m, 12), 40);
	assert_int_equal(status_uidmap_remote(m, 4), 0);
	assert_int_equal(status_uidmap_local(m, 3), 0);
	status_uidmap_close(m);
}

static void test_parse_errors(void **state)
{
	static const struct {
		const char *text;
		const char *want;
	} rows[] = {
	    {"1:1\nx\n", "f:2: not a UID mapping line"},
	    {"1:1\n1:2\n", "f:2: local UID 1 is already mapped"},
	    {"1:1\n2:1\n", "f:2: remote UID 1 is already mapped"},
	    {"0:1\n", "f:1: not a UID"},
	    {"1:4294967296\n", "f:1: not a UID"},
	    {"-1:5\n", "f:1: not a UID"},
	    {"1:2:3\n", "f:1: not a UID"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct oim_err err = OIM_ERR_INIT;
		struct status_uidmap *m = NULL;
		assert_int_equal(status_uidmap_parse(rows[i].text,
						     strlen(rows[i].text), "f",
						     &m, &err),
				 -1);
		assert_null(m);
		assert_int_equal(err.kind, OIM_E_STATUS);
		if (!strstr(err.msg, rows[i].want))
			fail_msg("row %zu: '%s' lacks '%s'", i, err.msg,
				 rows[i].want);
	}
}

static void test_torn_line_dropped_then_rewritten(void **state)
{
	struct oim_err err = OIM_ERR_INIT;
	struct status_uidmap *m;
	char *path = map_file("INBOX");
	char *dir = xasprintf("%s/Repository-Near/UIDMapping", tmpdir);
	char *cmd = xasprintf("mkdir -p '%s'", dir);
	assert_int_equal(system(cmd), 0);
	test_write_file(path, "1:1\n2:5\n3:");
	assert_int_equal(
	    status_uidmap_open(tmpdir, "Near", "INBOX", 0, &m, &err), 0);
	assert_int_equal(status_uidmap_count(m), 2);
	assert_int_equal(status_uidmap_set(m, 3, 9, &err), 0);
	status_uidmap_close(m);
	char *got = test_read_file(path);
	assert_string_equal(got, "1:1\n2:5\n3:9\n");
	free(got);
	free(cmd);
	free(dir);
	free(path);
}

static void test_set_appends_drop_rewrites(void **state)
{
	struct oim_err err = OIM_ERR_INIT;
	struct status_uidmap *m;
	char *path = map_file("INBOX");
	char *tmp = xasprintf("%s.tmp", path);

	assert_int_equal(
	    status_uidmap_open(tmpdir, "Near", "INBOX", 0, &m, &err), 0);
	assert_int_equal(status_uidmap_count(m), 0);
	assert_int_equal(status_uidmap_set(m, 5, 2, &err), 0);
	assert_int_equal(status_uidmap_set(m, 4, 1, &err), 0);
	assert_int_equal(status_uidmap_set(m, 4, 1, &err), 0); /* again */
	char *got = test_read_file(path);
	assert_string_equal(got, "5:2\n4:1\n"); /* appended, in call order */
	free(got);
	/* a remote UID held by another local one is refused */
	assert_int_equal(status_uidmap_set(m, 6, 2, &err), -1);
	assert_int_equal(err.kind, OIM_E_STATUS);
	oim_err_clear(&err);
	/* a new partner rewrites: no stale line */
	assert_int_equal(status_uidmap_set(m, 5, 3, &err), 0);
	got = test_read_file(path);
	assert_string_equal(got, "4:1\n5:3\n");
	free(got);
	assert_int_equal(status_uidmap_local(m, 2), 0);
	uint32_t present[] = {4, 99};
	assert_int_equal(status_uidmap_keep_only(m, present, 2, &err), 0);
	got = test_read_file(path);
	assert_string_equal(got, "4:1\n");
	free(got);
	uint32_t gone[] = {4};
	assert_int_equal(status_uidmap_drop(m, gone, 1, &err), 0);
	got = test_read_file(path);
	assert_string_equal(got, "");
	free(got);
	status_uidmap_close(m);
	/* a leftover .tmp is removed at open; the file stays */
	test_write_file(tmp, "9:9\n");
	assert_int_equal(
	    status_uidmap_open(tmpdir, "Near", "INBOX", 0, &m, &err), 0);
	assert_int_equal(status_uidmap_count(m), 0);
	assert_int_equal(access(tmp, F_OK), -1);
	status_uidmap_close(m);
	free(tmp);
	free(path);
}

static void test_readonly_creates_nothing(void **state)
{
	struct oim_err err = OIM_ERR_INIT;
	struct status_uidmap *m;
	char *dir = xasprintf("%s/Repository-Near", tmpdir);
	assert_int_equal(status_uidmap_open(tmpdir, "Near", "INBOX",
					    STATUS_OPEN_READONLY, &m, &err),
			 0);
	assert_int_equal(status_uidmap_count(m), 0);
	status_uidmap_close(m);
	assert_int_equal(access(dir, F_OK), -1);
	free(dir);
}

static void test_startuid(void **state)
{
	struct oim_err err = OIM_ERR_INIT;
	bool present = true;
	uint32_t uid = 1;
	assert_int_equal(status_startuid_read(tmpdir, "Far", "Archive/2024",
					      &present, &uid, &err),
			 0);
	assert_false(present);
	assert_int_equal(status_startuid_write(tmpdir, "Far", "Archive/2024",
					       17, true, &err),
			 0);
	char *path =
	    xasprintf("%s/Repository-Far/StartUID/Archive.2024", tmpdir);
	char *got = test_read_file(path);
	assert_string_equal(got, "17\n");
	free(got);
	assert_int_equal(status_startuid_read(tmpdir, "Far", "Archive/2024",
					      &present, &uid, &err),
			 0);
	assert_true(present);
	assert_int_equal(uid, 17);
	test_write_file(path, "zero\n");
	assert_int_equal(status_startuid_read(tmpdir, "Far", "Archive/2024",
					      &present, &uid, &err),
			 -1);
	assert_non_null(strstr(err.msg, path));
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_path, setup, teardown),
	    cmocka_unit_test(test_parse_offlineimap),
	    cmocka_unit_test(test_parse_errors),
	    cmocka_unit_test_setup_teardown(
		test_torn_line_dropped_then_rewritten, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_set_appends_drop_rewrites,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_readonly_creates_nothing,
					    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_startuid, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
