/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "util/err.h"
#include "util/log.h"
#include "util/util.h"

static void test_parse_u64(void **state)
{
	uint64_t v = 0;
	assert_int_equal(oim_parse_u64("0", 1, UINT64_MAX, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(oim_parse_u64("4294967295", 10, UINT32_MAX, &v), 0);
	assert_int_equal(v, 4294967295u);
	/* one past the cap */
	assert_int_equal(oim_parse_u64("4294967296", 10, UINT32_MAX, &v), -1);
	assert_int_equal(oim_parse_u64("18446744073709551615", 20, UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(oim_parse_u64("18446744073709551616", 20, UINT64_MAX, &v), -1);
	assert_int_equal(oim_parse_u64("", 0, UINT64_MAX, &v), -1);
	assert_int_equal(oim_parse_u64("12a", 3, UINT64_MAX, &v), -1);
	assert_int_equal(oim_parse_u64("-1", 2, UINT64_MAX, &v), -1);
}

static void test_parse_long(void **state)
{
	long v = 0;
	assert_int_equal(oim_parse_long(" 42 ", &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(oim_parse_long("-7", &v), 0);
	assert_int_equal(v, -7);
	assert_int_equal(oim_parse_long("+3", &v), 0);
	assert_int_equal(v, 3);
	assert_int_equal(oim_parse_long("many", &v), -1);
	assert_int_equal(oim_parse_long("", &v), -1);
	assert_int_equal(oim_parse_long("1 2", &v), -1);
	assert_int_equal(oim_parse_long("99999999999999999999", &v), -1);
	assert_int_equal(oim_parse_long("-9223372036854775808", &v), 0);
	assert_true(v == LONG_MIN);
}

static void test_strcasecmp(void **state)
{
	assert_int_equal(oim_strcasecmp("RemoteHost", "remotehost"), 0);
	assert_true(oim_strcasecmp("a", "b") < 0);
	assert_int_equal(oim_strncasecmp("INBOX.x", "inbox.y", 5), 0);
	assert_true(oim_starts_with("Account Foo", "Account "));
	assert_false(oim_starts_with("Acc", "Account "));
}

static void test_err_prefix_and_kind(void **state)
{
	struct oim_err err = OIM_ERR_INIT;
	assert_int_equal(oim_error(&err, OIM_SEV_FOLDER, OIM_E_IMAP_NO,
				   "SELECT failed: %s", "no such mailbox"),
			 -1);
	oim_err_prefix(&err, "folder %s", "INBOX");
	assert_string_equal(err.msg, "folder INBOX: SELECT failed: no such mailbox");
	assert_int_equal(err.sev, OIM_SEV_FOLDER);
	assert_string_equal(oim_err_kind_name(err.kind), "imap NO");
	assert_int_equal(oim_error(NULL, OIM_SEV_FATAL, OIM_E_IO, "x"), -1);
}

static void test_debug_types(void **state)
{
	struct oim_err err = OIM_ERR_INIT;
	unsigned mask = 0;
	assert_int_equal(log_parse_debug_types("imap,maildir", &mask, &err), 0);
	assert_int_equal(mask, OIM_DBG_IMAP | OIM_DBG_MAILDIR);
	assert_int_equal(log_parse_debug_types("ALL", &mask, &err), 0);
	assert_int_equal(mask, OIM_DBG_ALL);
	assert_int_equal(log_parse_debug_types("imap,bogus", &mask, &err), -1);
	assert_non_null(strstr(err.msg, "bogus"));
}

static void test_xasprintf(void **state)
{
	char *s = xasprintf("%s-%d", "a", 1);
	assert_string_equal(s, "a-1");
	free(s);
	s = xstrndup("abcdef", 3);
	assert_string_equal(s, "abc");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_u64),
		cmocka_unit_test(test_parse_long),
		cmocka_unit_test(test_strcasecmp),
		cmocka_unit_test(test_err_prefix_and_kind),
		cmocka_unit_test(test_debug_types),
		cmocka_unit_test(test_xasprintf),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
