/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static OIM_NORETURN void oom(size_t n)
{
	fprintf(stderr, "oimap: out of memory (allocating %zu bytes)\n", n);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

void *xcalloc(size_t nmemb, size_t n)
{
	void *p = calloc(nmemb ? nmemb : 1, n ? n : 1);
	if (!p)
		oom(nmemb * n);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		oom(n);
	return q;
}

void *xreallocarray(void *p, size_t nmemb, size_t elem)
{
	if (elem && nmemb > SIZE_MAX / elem)
		oom(SIZE_MAX);
	return xrealloc(p, nmemb * elem);
}

char *xstrdup(const char *s)
{
	return xmemdup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	const char *end = memchr(s, '\0', n);
	return xmemdup(s, end ? (size_t)(end - s) : n);
}

char *xmemdup(const void *p, size_t n)
{
	char *q = xmalloc(n + 1);
	memcpy(q, p, n);
	q[n] = '\0';
	return q;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap, ap2;
	va_start(ap, fmt);
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		BUG("vsnprintf failed for format '%s'", fmt);
	char *s = xmalloc((size_t)n + 1);
	vsnprintf(s, (size_t)n + 1, fmt, ap2);
	va_end(ap2);
	return s;
}

void oim_bug(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "oimap: BUG at %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

void oim_wipe(void *p, size_t n)
{
	/* volatile so the compiler cannot drop the stores before free() */
	volatile unsigned char *v = p;
	while (n--)
		*v++ = 0;
}

void oim_free_secret(char *s)
{
	if (!s)
		return;
	oim_wipe(s, strlen(s));
	free(s);
}

static int lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

int oim_strcasecmp(const char *a, const char *b)
{
	for (;; a++, b++) {
		int d = lower((unsigned char)*a) - lower((unsigned char)*b);
		if (d || !*a)
			return d;
	}
}

int oim_strncasecmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		int d = lower((unsigned char)*a) - lower((unsigned char)*b);
		if (d || !*a)
			return d;
	}
	return 0;
}

void oim_str_tolower(char *s)
{
	for (; *s; s++)
		*s = (char)lower((unsigned char)*s);
}

bool oim_starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

int oim_parse_u64(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	if (!len)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (max - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int oim_parse_long(const char *s, long *out)
{
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	bool neg = false;
	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	size_t n = 0;
	while (s[n] >= '0' && s[n] <= '9')
		n++;
	const char *rest = s + n;
	while (*rest == ' ' || *rest == '\t' || *rest == '\n' || *rest == '\r')
		rest++;
	if (*rest)
		return -1;
	uint64_t v;
	if (oim_parse_u64(s, n, neg ? (uint64_t)LONG_MAX + 1 : LONG_MAX, &v))
		return -1;
	*out = neg ? (long)(0 - v) : (long)v;
	return 0;
}
