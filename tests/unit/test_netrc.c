/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <unistd.h>

#include "util/netrc.h"
#include "util/util.h"

static char *write_tmp(const char *text)
{
	char tmpl[] = "/tmp/oimap-netrc-XXXXXX";
	int fd = mkstemp(tmpl);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return xstrdup(tmpl);
}

struct row {
	const char *text, *host, *login, *pass;
	int rc;
};

static const struct row rows[] = {
	{ "machine imap.example.org login alice password s3cret\n",
	  "imap.example.org", "alice", "s3cret", 1 },
	{ "machine other login bob password x\n", "imap.example.org", NULL,
	  NULL, 0 },
	{ "machine other login bob password x\ndefault login dflt password d\n",
	  "imap.example.org", "dflt", "d", 1 },
	/* multi-line, comments, and the matching entry after another */
	{ "# my netrc\nmachine a\n  login A\n  password PA\n"
	  "machine b\n  login B\n  password PB # trailing\n",
	  "b", "B", "PB", 1 },
	/* quoted password with a space and an escaped quote */
	{ "machine h login u password \"p w\\\"d\"\n", "h", "u", "p w\"d", 1 },
	/* macdef body skipped up to the blank line */
	{ "macdef init\ncd /pub\nls\n\nmachine h login u password p\n", "h",
	  "u", "p", 1 },
	/* 'user' is a synonym of login; account ignored */
	{ "machine h user u account acc password p\n", "h", "u", "p", 1 },
	{ "machine h login u\n", "h", "u", NULL, 1 },
	{ "machine\n", "h", NULL, NULL, -1 },
	{ "login u password p\n", "h", NULL, NULL, -1 },
	{ "machine h bogus\n", "h", NULL, NULL, -1 },
	{ "", "h", NULL, NULL, 0 },
};

static void test_rows(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		char *path = write_tmp(rows[i].text);
		char *login = NULL, *pass = NULL;
		struct oim_err err = OIM_ERR_INIT;
		int rc = netrc_lookup(path, rows[i].host, &login, &pass, &err);
		print_message("row %zu rc %d %s\n", i, rc, err.msg);
		assert_int_equal(rc, rows[i].rc);
		if (rows[i].login)
			assert_string_equal(login, rows[i].login);
		else
			assert_null(login);
		if (rows[i].pass)
			assert_string_equal(pass, rows[i].pass);
		else
			assert_null(pass);
		if (rc < 0) {
			assert_non_null(strstr(err.msg, path));
			/* a syntax error never echoes a password */
			assert_null(strstr(err.msg, "password p"));
		}
		free(login);
		oim_free_secret(pass);
		unlink(path);
		free(path);
	}
}

static void test_missing_file_is_not_an_error(void **state)
{
	char *login, *pass;
	struct oim_err err = OIM_ERR_INIT;
	assert_int_equal(netrc_lookup("/nonexistent/netrc", "h", &login, &pass,
				      &err),
			 0);
	assert_null(login);
	assert_null(pass);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_missing_file_is_not_an_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
