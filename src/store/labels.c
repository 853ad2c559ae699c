/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * labels.c - label sets (labels.h).  Sets are small (a message has a few
 * labels), so a sorted array with insertion is plenty.
 */
#include "labels.h"

void labelset_release(struct labelset *s)
{
	for (size_t i = 0; i < s->nr; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->nr = s->alloc = 0;
}

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	       c == '\f';
}

/* Index of label (p, len) or where it would go; *found_r. */
static size_t find(const struct labelset *s, const char *p, size_t len,
		   bool *found_r)
{
	size_t lo = 0, hi = s->nr;
	*found_r = false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *m = s->v[mid];
		size_t ml = strlen(m);
		int c = memcmp(m, p, ml < len ? ml : len);
		if (!c)
			c = ml < len ? -1 : ml > len;
		if (!c) {
			*found_r = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void labelset_add(struct labelset *s, const char *p, size_t len)
{
	bool found;
	size_t at;

	while (len && blank(*p)) {
		p++;
		len--;
	}
	while (len && blank(p[len - 1]))
		len--;
	if (!len || len > LABELS_MAX_LEN || memchr(p, '\0', len) ||
	    s->nr >= LABELS_MAX_COUNT)
		return;
	at = find(s, p, len, &found);
	if (found)
		return;
	ALLOC_GROW(s->v, s->nr + 1, s->alloc);
	memmove(s->v + at + 1, s->v + at, (s->nr - at) * sizeof(*s->v));
	s->v[at] = xstrndup(p, len);
	s->nr++;
}

void labelset_parse(struct labelset *s, const char *str, char sep)
{
	const char *p = str;
	if (!str)
		return;
	for (;;) {
		const char *e = strchr(p, sep);
		size_t len = e ? (size_t)(e - p) : strlen(p);
		labelset_add(s, p, len);
		if (!e)
			break;
		p = e + 1;
	}
}

void labelset_format(const struct labelset *s, const char *sep,
		     struct strbuf *out)
{
	for (size_t i = 0; i < s->nr; i++) {
		if (i)
			strbuf_addstr(out, sep);
		strbuf_addstr(out, s->v[i]);
	}
}

bool labelset_has(const struct labelset *s, const char *label)
{
	bool found;
	find(s, label, strlen(label), &found);
	return found;
}

bool labelset_equal(const struct labelset *a, const struct labelset *b)
{
	if (a->nr != b->nr)
		return false;
	for (size_t i = 0; i < a->nr; i++)
		if (strcmp(a->v[i], b->v[i]))
			return false;
	return true;
}

void labelset_minus(const struct labelset *a, const struct labelset *b,
		    struct labelset *out)
{
	labelset_release(out);
	for (size_t i = 0; i < a->nr; i++)
		if (!labelset_has(b, a->v[i]))
			labelset_add(out, a->v[i], strlen(a->v[i]));
}

void labelset_and(const struct labelset *a, const struct labelset *b,
		  struct labelset *out)
{
	labelset_release(out);
	for (size_t i = 0; i < a->nr; i++)
		if (labelset_has(b, a->v[i]))
			labelset_add(out, a->v[i], strlen(a->v[i]));
}

void labelset_union(struct labelset *a, const struct labelset *b)
{
	for (size_t i = 0; i < b->nr; i++)
		labelset_add(a, b->v[i], strlen(b->v[i]));
}

char labels_header_sep(const char *name)
{
	/* imaputil.SPACE_SEPARATED_LABEL_HEADERS, compared as Python's 'in' */
	return !strcmp(name, "X-Label") || !strcmp(name, "Keywords") ? ' '
								     : ',';
}
