/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * util.h - allocation that aborts on OOM, BUG(), attributes shared by all
 * modules.  Every .c file includes this first (after its own header).
 *
 * Out of memory is not an error we recover from: xmalloc() and friends
 * print a message and abort(), as OpenSMTPD and git do.  Broken invariants
 * are BUG(), which also aborts: they are programming errors, never input
 * errors.  Input errors go through struct oim_err (err.h).
 */
#ifndef OIMAP_UTIL_H
#define OIMAP_UTIL_H

#include <assert.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OIM_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define OIM_NORETURN __attribute__((noreturn))
#define OIM_WUR __attribute__((warn_unused_result))
#define OIM_UNUSED __attribute__((unused))

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t n);
void *xrealloc(void *p, size_t n);
/* Grow an array to hold at least 'want' elements of size 'elem'. */
void *xreallocarray(void *p, size_t nmemb, size_t elem);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xmemdup(const void *p, size_t n);
char *xasprintf(const char *fmt, ...) OIM_PRINTF(1, 2);

/*
 * ALLOC_GROW(array, count, alloc): make room for array[count], growing
 * 'alloc' geometrically.  As in git.
 */
#define ALLOC_GROW(x, nr, alloc)                                               \
	do {                                                                   \
		if ((size_t)(nr) >= (size_t)(alloc)) {                         \
			size_t alloc_grow_n_ = (alloc) < 8 ? 8 : (alloc) * 2;  \
			if (alloc_grow_n_ <= (size_t)(nr))                     \
				alloc_grow_n_ = (size_t)(nr) + 1;              \
			(x) = xreallocarray((x), alloc_grow_n_, sizeof(*(x))); \
			(alloc) = alloc_grow_n_;                               \
		}                                                              \
	} while (0)

OIM_NORETURN void oim_bug(const char *file, int line, const char *fmt, ...)
	OIM_PRINTF(3, 4);
#define BUG(...) oim_bug(__FILE__, __LINE__, __VA_ARGS__)

/* Overwrite a secret so it does not linger in freed memory. */
void oim_wipe(void *p, size_t n);
/* Wipe and free a NUL-terminated secret; NULL is fine. */
void oim_free_secret(char *s);

/* Case-insensitive ASCII comparison, independent of the locale. */
int oim_strcasecmp(const char *a, const char *b);
int oim_strncasecmp(const char *a, const char *b, size_t n);
void oim_str_tolower(char *s);
bool oim_starts_with(const char *s, const char *prefix);

/*
 * Parse a decimal unsigned number occupying all of s[0..len) with overflow
 * check.  Returns 0 and sets *out, or -1 on empty input, a non-digit or
 * overflow past 'max'.
 */
int oim_parse_u64(const char *s, size_t len, uint64_t max, uint64_t *out)
	OIM_WUR;
/* Same for a signed C string with optional leading '-' and surrounding
 * blanks, as Python's int() accepts them. */
int oim_parse_long(const char *s, long *out) OIM_WUR;

/*
 * qsort() that accepts an empty array: glibc declares qsort's base
 * nonnull, and an empty vector's base is often NULL (UBSan reports it).
 * qsort itself is banned (banned.h) so every caller gets this.
 */
static inline void oim_qsort(void *base, size_t nmemb, size_t size,
			     int (*cmp)(const void *, const void *))
{
	if (nmemb > 1)
		qsort(base, nmemb, size, cmp);
}

#include "banned.h"

#endif
