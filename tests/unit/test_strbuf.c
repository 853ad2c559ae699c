/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "util/strbuf.h"

static void test_init_is_empty_string(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	assert_int_equal(sb.len, 0);
	assert_string_equal(sb.buf, "");
	strbuf_release(&sb);
}

static void test_add_and_format(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addstr(&sb, "UID ");
	strbuf_addf(&sb, "%d:%s", 42, "*");
	strbuf_addch(&sb, '!');
	assert_string_equal(sb.buf, "UID 42:*!");
	assert_int_equal(sb.len, 9);
	strbuf_release(&sb);
}

static void test_binary_content_keeps_len(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_add(&sb, "a\0b", 3);
	assert_int_equal(sb.len, 3);
	assert_int_equal(sb.buf[1], '\0');
	assert_int_equal(sb.buf[3], '\0');
	strbuf_release(&sb);
}

static void test_grow_many(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	for (int i = 0; i < 10000; i++)
		strbuf_addch(&sb, 'x');
	assert_int_equal(sb.len, 10000);
	assert_int_equal(sb.buf[9999], 'x');
	assert_int_equal(sb.buf[10000], '\0');
	strbuf_release(&sb);
}

static void test_trim(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	strbuf_addstr(&sb, " \t value \r\n");
	strbuf_trim(&sb);
	assert_string_equal(sb.buf, "value");
	strbuf_reset(&sb);
	strbuf_trim(&sb);
	assert_string_equal(sb.buf, "");
	strbuf_addstr(&sb, "   ");
	strbuf_trim(&sb);
	assert_int_equal(sb.len, 0);
	strbuf_release(&sb);
}

static void test_detach(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	size_t len;
	char *s = strbuf_detach(&sb, &len);
	assert_string_equal(s, "");
	assert_int_equal(len, 0);
	free(s);
	strbuf_addstr(&sb, "abc");
	s = strbuf_detach(&sb, &len);
	assert_string_equal(s, "abc");
	assert_int_equal(len, 3);
	assert_int_equal(sb.len, 0);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_is_empty_string),
		cmocka_unit_test(test_add_and_format),
		cmocka_unit_test(test_binary_content_keeps_len),
		cmocka_unit_test(test_grow_many),
		cmocka_unit_test(test_trim),
		cmocka_unit_test(test_detach),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
