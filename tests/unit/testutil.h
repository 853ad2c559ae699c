/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * testutil.h - small file helpers shared by the cmocka unit tests.
 * Include after <cmocka.h>.
 */
#ifndef OIMAP_TESTUTIL_H
#define OIMAP_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "util/strbuf.h"

/* Write text to path (created or truncated); the test fails if it cannot. */
static inline void test_write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* The whole file (malloc'd, NUL-terminated; *len_r may be NULL), or NULL
 * when it cannot be opened. */
static inline char *test_slurp(const char *path, size_t *len_r)
{
	FILE *f = fopen(path, "rb");
	struct strbuf sb = STRBUF_INIT;
	char buf[4096];
	size_t n;

	if (!f)
		return NULL;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		strbuf_add(&sb, buf, n);
	fclose(f);
	return strbuf_detach(&sb, len_r);
}

/* Same, but the file must exist: the test fails otherwise. */
static inline char *test_read_file(const char *path)
{
	char *s = test_slurp(path, NULL);
	assert_non_null(s);
	return s;
}

#endif
