/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * resp.c - typed decoders for IMAP responses, sequence sets, flags and
 * INTERNALDATE.  See resp.h.
 */
#include "resp.h"

#include <inttypes.h>

#include "../util/strbuf.h"

/* How much of a response an error message shows. */
#define RESP_QUOTE_MAX 120

static int rerr(const struct imap_response *r, struct oim_err *err,
		const char *fmt, ...) OIM_PRINTF(3, 4);

static int rerr(const struct imap_response *r, struct oim_err *err,
		const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT, dump = STRBUF_INIT;
	va_list ap;

	strbuf_addstr(&sb, "IMAP server response: ");
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	if (r) {
		imap_response_dump(&dump, r);
		if (dump.len > RESP_QUOTE_MAX) {
			strbuf_setlen(&dump, RESP_QUOTE_MAX);
			strbuf_addstr(&dump, "...");
		}
		strbuf_addf(&sb, " in %s", dump.buf);
	}
	oim_error(err, OIM_SEV_ACCOUNT, OIM_E_PROTOCOL, "%s", sb.buf);
	strbuf_release(&sb);
	strbuf_release(&dump);
	return -1;
}

/*
 * An astring where NIL cannot mean "no value" (a mailbox name, a label, a
 * keyword): the parser turned the atom NIL into IMAP_ARG_NIL, so give the
 * text back.  RFC 3501 lets a server send such a name as an atom.
 */
static const char *astring_nil(const struct imap_arg *a)
{
	return a->type == IMAP_ARG_NIL ? "NIL" : imap_arg_string(a);
}

/* ---- dispatch helpers ---- */

const char *imap_response_name(const struct imap_response *r)
{
	uint32_t n;
	if (r->kind == IMAP_RESP_CONTINUATION || !r->nargs)
		return "";
	if (r->nargs >= 2 && !imap_arg_u32(&r->args[0], &n) &&
	    r->args[1].type == IMAP_ARG_ATOM)
		return r->args[1].u.str;
	if (r->args[0].type == IMAP_ARG_ATOM)
		return r->args[0].u.str;
	return "";
}

bool imap_response_is(const struct imap_response *r, const char *name)
{
	return r->kind == IMAP_RESP_UNTAGGED &&
	       !oim_strcasecmp(imap_response_name(r), name);
}

bool imap_response_numbered(const struct imap_response *r, const char *name,
			    uint32_t *n_r)
{
	return r->kind == IMAP_RESP_UNTAGGED && r->nargs >= 2 &&
	       imap_arg_atom_is(&r->args[1], name) &&
	       !imap_arg_u32(&r->args[0], n_r);
}

/* ---- sequence sets ---- */

void imap_seqset_release(struct imap_seqset *s)
{
	free(s->r);
	s->r = NULL;
	s->nr = s->alloc = 0;
}

void imap_seqset_add(struct imap_seqset *s, uint32_t lo, uint32_t hi)
{
	if (lo > hi) {
		uint32_t t = lo;
		lo = hi;
		hi = t;
	}
	if (s->nr) {
		struct imap_seq_range *last = &s->r[s->nr - 1];
		/* merge with the last range when they touch: cheap, and
		 * keeps "SEARCH 1 2 3 ... 1000000" one range */
		if (lo <= last->hi + (uint64_t)1 &&
		    hi + (uint64_t)1 >= last->lo) {
			if (lo < last->lo)
				last->lo = lo;
			if (hi > last->hi)
				last->hi = hi;
			return;
		}
	}
	ALLOC_GROW(s->r, s->nr, s->alloc);
	s->r[s->nr].lo = lo;
	s->r[s->nr].hi = hi;
	s->nr++;
}

static int parse_seq_number(const char *s, size_t len, uint32_t *out)
{
	uint64_t v;
	if (len == 1 && s[0] == '*') {
		*out = IMAP_SEQ_STAR;
		return 0;
	}
	if (!len || s[0] == '0' || oim_parse_u64(s, len, UINT32_MAX, &v))
		return -1;
	*out = (uint32_t)v;
	return 0;
}

int imap_seqset_parse(struct imap_seqset *s, const char *str, size_t len,
		      struct oim_err *err)
{
	size_t i = 0;
	if (!len)
		return rerr(NULL, err, "empty sequence set");
	while (i <= len) {
		size_t start = i, colon = SIZE_MAX;
		uint32_t lo, hi;
		while (i < len && str[i] != ',') {
			if (str[i] == ':') {
				if (colon != SIZE_MAX)
					goto bad;
				colon = i;
			}
			i++;
		}
		if (colon == SIZE_MAX) {
			if (parse_seq_number(str + start, i - start, &lo))
				goto bad;
			hi = lo;
		} else if (parse_seq_number(str + start, colon - start, &lo) ||
			   parse_seq_number(str + colon + 1, i - colon - 1,
					    &hi)) {
			goto bad;
		}
		imap_seqset_add(s, lo, hi);
		i++; /* skip ',' (or step past the end) */
	}
	return 0;
bad : {
	struct strbuf q = STRBUF_INIT;
	imap_quote_for_log(&q, str, len, 80);
	rerr(NULL, err, "bad sequence set \"%s\"", q.buf);
	strbuf_release(&q);
	return -1;
}
}

static int range_cmp(const void *a, const void *b)
{
	const struct imap_seq_range *x = a, *y = b;
	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return x->hi < y->hi ? -1 : x->hi > y->hi;
}

void imap_seqset_normalize(struct imap_seqset *s)
{
	size_t out = 0;
	if (s->nr < 2)
		return;
	oim_qsort(s->r, s->nr, sizeof(*s->r), range_cmp);
	for (size_t i = 1; i < s->nr; i++) {
		struct imap_seq_range *last = &s->r[out];
		if (s->r[i].lo <= last->hi + (uint64_t)1) {
			if (s->r[i].hi > last->hi)
				last->hi = s->r[i].hi;
		} else {
			s->r[++out] = s->r[i];
		}
	}
	s->nr = out + 1;
}

uint64_t imap_seqset_count(const struct imap_seqset *s)
{
	uint64_t n = 0;
	for (size_t i = 0; i < s->nr; i++)
		n += (uint64_t)s->r[i].hi - s->r[i].lo + 1;
	return n;
}

bool imap_seqset_contains(const struct imap_seqset *s, uint32_t n)
{
	for (size_t i = 0; i < s->nr; i++)
		if (n >= s->r[i].lo && n <= s->r[i].hi)
			return true;
	return false;
}

static void add_seq_number(struct strbuf *sb, uint32_t n)
{
	if (n == IMAP_SEQ_STAR)
		strbuf_addch(sb, '*');
	else
		strbuf_addf(sb, "%" PRIu32, n);
}

void imap_seqset_format(struct strbuf *sb, const struct imap_seqset *s)
{
	for (size_t i = 0; i < s->nr; i++) {
		if (i)
			strbuf_addch(sb, ',');
		add_seq_number(sb, s->r[i].lo);
		if (s->r[i].hi != s->r[i].lo) {
			strbuf_addch(sb, ':');
			add_seq_number(sb, s->r[i].hi);
		}
	}
}

int imap_seqset_to_array(const struct imap_seqset *s, size_t max,
			 uint32_t **out_r, size_t *n_r, struct oim_err *err)
{
	uint64_t count = imap_seqset_count(s);
	uint32_t *out;
	size_t n = 0;

	*out_r = NULL;
	*n_r = 0;
	for (size_t i = 0; i < s->nr; i++)
		if (s->r[i].hi == IMAP_SEQ_STAR)
			return oim_error(err, OIM_SEV_ACCOUNT, OIM_E_PROTOCOL,
					 "IMAP server sent '*' in a set of "
					 "UIDs");
	if (count > max)
		return oim_error(err, OIM_SEV_ACCOUNT, OIM_E_LIMIT,
				 "IMAP server sent a set of %llu UIDs, more "
				 "than the %zu accepted",
				 (unsigned long long)count, max);
	out = xreallocarray(NULL, count ? (size_t)count : 1, sizeof(*out));
	for (size_t i = 0; i < s->nr; i++)
		for (uint64_t v = s->r[i].lo; v <= s->r[i].hi; v++)
			out[n++] = (uint32_t)v;
	*out_r = out;
	*n_r = n;
	return 0;
}

size_t imap_uids_format(struct strbuf *sb, const uint32_t *uids, size_t n,
			size_t max_len)
{
	size_t i = 0, added = 0;
	char piece[32];

	while (i < n) {
		size_t j = i;
		while (j + 1 < n && uids[j + 1] <= uids[j] + (uint64_t)1) {
			if (uids[j + 1] < uids[j])
				BUG("imap_uids_format: UIDs not sorted");
			j++;
		}
		int len;
		if (uids[j] == uids[i])
			len = snprintf(piece, sizeof(piece), "%s%" PRIu32,
				       i ? "," : "", uids[i]);
		else
			len = snprintf(piece, sizeof(piece),
				       "%s%" PRIu32 ":%" PRIu32, i ? "," : "",
				       uids[i], uids[j]);
		if (i && max_len && added + (size_t)len > max_len)
			break;
		strbuf_add(sb, piece, (size_t)len);
		added += (size_t)len;
		i = j + 1;
		if (i < n && uids[i] < uids[i - 1])
			BUG("imap_uids_format: UIDs not sorted");
	}
	return i;
}

/* ---- flags ---- */

static const struct {
	const char *name;
	unsigned flag;
	char letter;
} flag_tab[] = {
    /* in Maildir letter order, which is also the format order */
    {"\\Draft", IMAP_FLAG_DRAFT, 'D'},
    {"\\Flagged", IMAP_FLAG_FLAGGED, 'F'},
    {"\\Answered", IMAP_FLAG_ANSWERED, 'R'},
    {"\\Seen", IMAP_FLAG_SEEN, 'S'},
    {"\\Deleted", IMAP_FLAG_DELETED, 'T'},
    {"\\Recent", IMAP_FLAG_RECENT, 0},
};

unsigned imap_flag_from_name(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(flag_tab); i++)
		if (!oim_strcasecmp(name, flag_tab[i].name))
			return flag_tab[i].flag;
	return 0;
}

size_t imap_flags_to_maildir(unsigned flags, char *buf)
{
	size_t n = 0;
	for (size_t i = 0; i < ARRAY_SIZE(flag_tab); i++)
		if (flag_tab[i].letter && (flags & flag_tab[i].flag))
			buf[n++] = flag_tab[i].letter;
	buf[n] = '\0';
	return n;
}

unsigned imap_flags_from_maildir(const char *letters)
{
	unsigned flags = 0;
	for (; *letters; letters++)
		for (size_t i = 0; i < ARRAY_SIZE(flag_tab); i++)
			if (flag_tab[i].letter == *letters)
				flags |= flag_tab[i].flag;
	return flags;
}

void imap_flags_format(struct strbuf *sb, unsigned flags)
{
	bool first = true;
	for (size_t i = 0; i < ARRAY_SIZE(flag_tab); i++) {
		if (!flag_tab[i].letter || !(flags & flag_tab[i].flag))
			continue;
		if (!first)
			strbuf_addch(sb, ' ');
		strbuf_addstr(sb, flag_tab[i].name);
		first = false;
	}
}

int imap_flags_decode(const struct imap_response *r,
		      const struct imap_arg *list, unsigned *flags_r,
		      const char ***keywords_r, size_t *nkeywords_r,
		      bool *star_r, struct oim_err *err)
{
	const char **kw;
	size_t nkw = 0;

	*flags_r = 0;
	*keywords_r = NULL;
	*nkeywords_r = 0;
	if (star_r)
		*star_r = false;
	if (list->type != IMAP_ARG_LIST)
		return rerr(r, err, "flags are not a list");
	kw = imap_response_alloc(r, (list->len ? list->len : 1) * sizeof(*kw));
	for (size_t i = 0; i < list->len; i++) {
		const struct imap_arg *a = &list->u.list[i];
		unsigned f;
		if (a->type == IMAP_ARG_NIL) {
			kw[nkw++] = "NIL"; /* a keyword, see astring_nil() */
			continue;
		}
		if (a->type != IMAP_ARG_ATOM)
			return rerr(r, err, "flag is not an atom");
		if (!strcmp(a->u.str, "\\*")) {
			if (star_r)
				*star_r = true;
		} else if ((f = imap_flag_from_name(a->u.str))) {
			*flags_r |= f;
		} else {
			kw[nkw++] = a->u.str;
		}
	}
	*keywords_r = kw;
	*nkeywords_r = nkw;
	return 0;
}

/* ---- INTERNALDATE ---- */

static const char months[12][4] = {
    "Jan", "Feb", "Mar", "Apr", "May", "Jun",
    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y_r, unsigned *m_r,
			    unsigned *d_r)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t y = (int64_t)yoe + era * 400;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d_r = doy - (153 * mp + 2) / 5 + 1;
	*m_r = mp < 10 ? mp + 3 : mp - 9;
	*y_r = y + (*m_r <= 2);
}

static bool is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int digits(const char *s, size_t n, unsigned *out)
{
	unsigned v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*out = v;
	return 0;
}

int imap_internaldate_parse(const char *s, time_t *t_r, int *tz_minutes_r)
{
	static const unsigned mdays[12] = {31, 28, 31, 30, 31, 30,
					   31, 31, 30, 31, 30, 31};
	unsigned day, mon, year, hh, mm, ss, zh, zm;
	size_t dlen;

	if (s[0] == ' ')
		s++;
	dlen = s[0] && s[1] == '-' ? 1 : 2;
	if (digits(s, dlen, &day) || s[dlen] != '-')
		return -1;
	s += dlen + 1;
	for (mon = 0; mon < 12; mon++)
		if (!oim_strncasecmp(s, months[mon], 3))
			break;
	if (mon == 12 || s[3] != '-')
		return -1;
	s += 4;
	/* "yyyy hh:mm:ss +zzzz" */
	if (strlen(s) != 19 || digits(s, 4, &year) || s[4] != ' ' ||
	    digits(s + 5, 2, &hh) || s[7] != ':' || digits(s + 8, 2, &mm) ||
	    s[10] != ':' || digits(s + 11, 2, &ss) || s[13] != ' ' ||
	    (s[14] != '+' && s[14] != '-') || digits(s + 15, 2, &zh) ||
	    digits(s + 17, 2, &zm))
		return -1;
	unsigned dmax = mdays[mon] + (mon == 1 && is_leap(year));
	if (!day || day > dmax || hh > 23 || mm > 59 || ss > 60 || zm > 59)
		return -1;
	int tz = (int)(zh * 60 + zm) * (s[14] == '-' ? -1 : 1);
	int64_t t = days_from_civil(year, mon + 1, day) * 86400 +
		    (int64_t)hh * 3600 + mm * 60 + ss - (int64_t)tz * 60;
	*t_r = (time_t)t;
	if (tz_minutes_r)
		*tz_minutes_r = tz;
	return 0;
}

void imap_internaldate_format(struct strbuf *sb, time_t t, int tz_minutes)
{
	int64_t local = (int64_t)t + (int64_t)tz_minutes * 60;
	int64_t days = local >= 0 ? local / 86400 : -((-local + 86399) / 86400);
	int64_t secs = local - days * 86400;
	int64_t y;
	unsigned m, d;
	unsigned az = (unsigned)(tz_minutes < 0 ? -tz_minutes : tz_minutes);

	civil_from_days(days, &y, &m, &d);
	strbuf_addf(sb, "%02u-%s-%04lld %02u:%02u:%02u %c%02u%02u", d,
		    months[m - 1], (long long)y, (unsigned)(secs / 3600),
		    (unsigned)(secs / 60 % 60), (unsigned)(secs % 60),
		    tz_minutes < 0 ? '-' : '+', az / 60, az % 60);
}

/* ---- response codes ---- */

/* Split code args on spaces into NUL-terminated words in the arena. */
static size_t split_words(const struct imap_response *r, const char *s,
			  const char ***words_r)
{
	size_t len = strlen(s), n = 0;
	char *copy = imap_response_alloc(r, len + 1);
	const char **w = imap_response_alloc(r, (len / 2 + 1) * sizeof(*w));
	memcpy(copy, s, len + 1);
	for (char *p = copy; *p;) {
		while (*p == ' ')
			*p++ = '\0';
		if (!*p)
			break;
		w[n++] = p;
		while (*p && *p != ' ')
			p++;
	}
	*words_r = w;
	return n;
}

static int word_u32(const char *w, uint32_t *out)
{
	uint64_t v;
	if (oim_parse_u64(w, strlen(w), UINT32_MAX, &v))
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static const struct {
	const char *name;
	enum imap_code code;
} code_tab[] = {
    {"ALERT", IMAP_CODE_ALERT},
    {"TRYCREATE", IMAP_CODE_TRYCREATE},
    {"READ-ONLY", IMAP_CODE_READ_ONLY},
    {"READ-WRITE", IMAP_CODE_READ_WRITE},
    {"CLOSED", IMAP_CODE_CLOSED},
    {"NOMODSEQ", IMAP_CODE_NOMODSEQ},
    {"UIDNOTSTICKY", IMAP_CODE_UIDNOTSTICKY},
    {"UIDVALIDITY", IMAP_CODE_UIDVALIDITY},
    {"UIDNEXT", IMAP_CODE_UIDNEXT},
    {"UNSEEN", IMAP_CODE_UNSEEN},
    {"HIGHESTMODSEQ", IMAP_CODE_HIGHESTMODSEQ},
    {"APPENDUID", IMAP_CODE_APPENDUID},
    {"COPYUID", IMAP_CODE_COPYUID},
    {"MODIFIED", IMAP_CODE_MODIFIED},
    {"CAPABILITY", IMAP_CODE_CAPABILITY},
    {"PERMANENTFLAGS", IMAP_CODE_PERMANENTFLAGS},
};

int imap_code_decode(const struct imap_response *r, struct imap_code_info *c,
		     struct oim_err *err)
{
	const char **w;
	size_t nw;

	memset(c, 0, sizeof(*c));
	c->args = "";
	if (!r->code)
		return 0;
	c->name = r->code;
	c->args = r->code_args;
	c->code = IMAP_CODE_OTHER;
	for (size_t i = 0; i < ARRAY_SIZE(code_tab); i++)
		if (!oim_strcasecmp(r->code, code_tab[i].name))
			c->code = code_tab[i].code;
	nw = split_words(r, r->code_args, &w);

	switch (c->code) {
	case IMAP_CODE_UIDVALIDITY:
	case IMAP_CODE_UIDNEXT:
	case IMAP_CODE_UNSEEN:
		if (nw != 1 || word_u32(w[0], &c->num))
			goto bad;
		break;
	case IMAP_CODE_HIGHESTMODSEQ:
		if (nw != 1 ||
		    oim_parse_u64(w[0], strlen(w[0]), UINT64_MAX, &c->modseq))
			goto bad;
		break;
	case IMAP_CODE_APPENDUID:
		if (nw != 2 || word_u32(w[0], &c->num) ||
		    imap_seqset_parse(&c->dst, w[1], strlen(w[1]), NULL))
			goto bad;
		break;
	case IMAP_CODE_COPYUID:
		if (nw != 3 || word_u32(w[0], &c->num) ||
		    imap_seqset_parse(&c->src, w[1], strlen(w[1]), NULL) ||
		    imap_seqset_parse(&c->dst, w[2], strlen(w[2]), NULL) ||
		    imap_seqset_count(&c->src) != imap_seqset_count(&c->dst))
			goto bad;
		break;
	case IMAP_CODE_MODIFIED:
		if (nw != 1 ||
		    imap_seqset_parse(&c->src, w[0], strlen(w[0]), NULL))
			goto bad;
		break;
	case IMAP_CODE_CAPABILITY:
		c->atoms = w;
		c->natoms = nw;
		break;
	case IMAP_CODE_PERMANENTFLAGS: {
		const char **kw =
		    imap_response_alloc(r, (nw + 1) * sizeof(*kw));
		if (!nw || w[0][0] != '(')
			goto bad;
		w[0]++;
		size_t last = strlen(w[nw - 1]);
		if (!last || w[nw - 1][last - 1] != ')')
			goto bad;
		((char *)w[nw - 1])[last - 1] = '\0';
		for (size_t i = 0; i < nw; i++) {
			unsigned f;
			if (!*w[i])
				continue; /* "()" */
			if (!strcmp(w[i], "\\*"))
				c->flags_star = true;
			else if ((f = imap_flag_from_name(w[i])))
				c->flags |= f;
			else
				kw[c->natoms++] = w[i];
		}
		c->atoms = kw;
		break;
	}
	default:
		break;
	}
	return 0;
bad:
	imap_code_info_release(c);
	return rerr(r, err, "bad arguments to response code [%s]", r->code);
}

void imap_code_info_release(struct imap_code_info *c)
{
	imap_seqset_release(&c->src);
	imap_seqset_release(&c->dst);
}

/* ---- FETCH ---- */

static bool is_body_name(const char *s)
{
	return !oim_strncasecmp(s, "BODY[", 5) ||
	       !oim_strncasecmp(s, "BODY.PEEK[", 10) ||
	       !oim_strncasecmp(s, "BINARY[", 7) ||
	       !oim_strncasecmp(s, "BINARY.PEEK[", 12) ||
	       !oim_strcasecmp(s, "RFC822") ||
	       !oim_strcasecmp(s, "RFC822.HEADER") ||
	       !oim_strcasecmp(s, "RFC822.TEXT");
}

/* "(12345)" -> 12345 */
static int modseq_list(const struct imap_arg *a, uint64_t *out)
{
	if (a->type != IMAP_ARG_LIST || a->len != 1)
		return -1;
	return imap_arg_u64(&a->u.list[0], out);
}

static int decode_labels(const struct imap_response *r,
			 const struct imap_arg *a, struct imap_fetch *f,
			 struct oim_err *err)
{
	if (a->type != IMAP_ARG_LIST)
		return rerr(r, err, "X-GM-LABELS is not a list");
	f->gm_labels = imap_response_alloc(r, (a->len ? a->len : 1) *
						  sizeof(*f->gm_labels));
	for (size_t i = 0; i < a->len; i++) {
		const char *s = astring_nil(&a->u.list[i]);
		if (!s || memchr(s, '\0', a->u.list[i].len))
			return rerr(r, err, "bad label in X-GM-LABELS");
		f->gm_labels[f->ngm_labels++] = s;
	}
	return 0;
}

enum fetch_item {
	FI_OTHER,
	FI_UID,
	FI_FLAGS,
	FI_SIZE,
	FI_INTERNALDATE,
	FI_MODSEQ,
	FI_GM_MSGID,
	FI_GM_THRID,
	FI_GM_LABELS,
	FI_BODY,
};

/* Classify an item name; the first letter picks the candidates, since this
 * runs for every item of every FETCH of a large mailbox. */
static enum fetch_item fetch_item(const char *s)
{
	switch (s[0] | 0x20) {
	case 'u':
		return !oim_strcasecmp(s, "UID") ? FI_UID : FI_OTHER;
	case 'f':
		return !oim_strcasecmp(s, "FLAGS") ? FI_FLAGS : FI_OTHER;
	case 'r':
		if (!oim_strcasecmp(s, "RFC822.SIZE"))
			return FI_SIZE;
		break;
	case 'i':
		return !oim_strcasecmp(s, "INTERNALDATE") ? FI_INTERNALDATE
							  : FI_OTHER;
	case 'm':
		return !oim_strcasecmp(s, "MODSEQ") ? FI_MODSEQ : FI_OTHER;
	case 'x':
		if (!oim_strcasecmp(s, "X-GM-MSGID"))
			return FI_GM_MSGID;
		if (!oim_strcasecmp(s, "X-GM-THRID"))
			return FI_GM_THRID;
		if (!oim_strcasecmp(s, "X-GM-LABELS"))
			return FI_GM_LABELS;
		return FI_OTHER;
	case 'b':
		break;
	default:
		return FI_OTHER;
	}
	return is_body_name(s) ? FI_BODY : FI_OTHER;
}

int imap_fetch_decode(const struct imap_response *r, struct imap_fetch *f,
		      struct oim_err *err)
{
	const struct imap_arg *l;
	size_t nbodies = 0, n;

	memset(f, 0, sizeof(*f));
	if (!imap_response_numbered(r, "FETCH", &f->seq) || r->nargs != 3 ||
	    r->args[2].type != IMAP_ARG_LIST)
		return rerr(r, err, "malformed FETCH");
	l = r->args[2].u.list;
	n = r->args[2].len;
	if (n % 2)
		return rerr(r, err, "FETCH item without a value");
	for (size_t i = 0; i < n; i += 2)
		if (l[i].type == IMAP_ARG_ATOM &&
		    fetch_item(l[i].u.str) == FI_BODY)
			nbodies++;
	if (nbodies)
		f->bodies =
		    imap_response_alloc(r, nbodies * sizeof(*f->bodies));

	for (size_t i = 0; i < n; i += 2) {
		const struct imap_arg *name = &l[i], *v = &l[i + 1];
		if (name->type != IMAP_ARG_ATOM)
			return rerr(r, err, "FETCH item name is not an atom");
		switch (fetch_item(name->u.str)) {
		case FI_UID:
			if (imap_arg_u32(v, &f->uid) || !f->uid)
				return rerr(r, err, "bad UID");
			f->has |= IMAP_FETCH_UID;
			break;
		case FI_FLAGS:
			if (imap_flags_decode(r, v, &f->flags, &f->keywords,
					      &f->nkeywords, NULL, err))
				return -1;
			f->has |= IMAP_FETCH_FLAGS;
			break;
		case FI_SIZE:
			if (imap_arg_u64(v, &f->size))
				return rerr(r, err, "bad RFC822.SIZE");
			f->has |= IMAP_FETCH_SIZE;
			break;
		case FI_INTERNALDATE:
			if (v->type != IMAP_ARG_STRING ||
			    imap_internaldate_parse(v->u.str, &f->internaldate,
						    &f->internaldate_tz))
				return rerr(r, err, "bad INTERNALDATE");
			f->has |= IMAP_FETCH_INTERNALDATE;
			break;
		case FI_MODSEQ:
			if (modseq_list(v, &f->modseq))
				return rerr(r, err, "bad MODSEQ");
			f->has |= IMAP_FETCH_MODSEQ;
			break;
		case FI_GM_MSGID:
			if (imap_arg_u64(v, &f->gm_msgid))
				return rerr(r, err, "bad X-GM-MSGID");
			f->has |= IMAP_FETCH_GM_MSGID;
			break;
		case FI_GM_THRID:
			if (imap_arg_u64(v, &f->gm_thrid))
				return rerr(r, err, "bad X-GM-THRID");
			f->has |= IMAP_FETCH_GM_THRID;
			break;
		case FI_GM_LABELS:
			if (decode_labels(r, v, f, err))
				return -1;
			f->has |= IMAP_FETCH_GM_LABELS;
			break;
		case FI_BODY:
			if (v->type == IMAP_ARG_LIST)
				return rerr(r, err, "%s is a list",
					    name->u.str);
			f->bodies[f->nbodies].item = name->u.str;
			f->bodies[f->nbodies].value = v;
			f->nbodies++;
			break;
		case FI_OTHER:
			/* ENVELOPE, BODYSTRUCTURE... are skipped */
			break;
		}
	}
	return 0;
}

/* ---- LIST ---- */

static const struct {
	const char *name;
	unsigned flag;
} list_flag_tab[] = {
    {"\\Noselect", IMAP_LIST_NOSELECT},
    {"\\NoInferiors", IMAP_LIST_NOINFERIORS},
    {"\\HasChildren", IMAP_LIST_HASCHILDREN},
    {"\\HasNoChildren", IMAP_LIST_HASNOCHILDREN},
    {"\\Marked", IMAP_LIST_MARKED},
    {"\\Unmarked", IMAP_LIST_UNMARKED},
    {"\\NonExistent", IMAP_LIST_NONEXISTENT},
    {"\\Subscribed", IMAP_LIST_SUBSCRIBED},
    {"\\Remote", IMAP_LIST_REMOTE},
    {"\\All", IMAP_LIST_ALL},
    {"\\Archive", IMAP_LIST_ARCHIVE},
    {"\\Drafts", IMAP_LIST_DRAFTS},
    {"\\Flagged", IMAP_LIST_FLAGGED},
    {"\\Junk", IMAP_LIST_JUNK},
    {"\\Sent", IMAP_LIST_SENT},
    {"\\Trash", IMAP_LIST_TRASH},
    {"\\Important", IMAP_LIST_IMPORTANT},
};

/* A separator: a one-character string or NIL. */
static int decode_sep(const struct imap_arg *a, char *sep_r)
{
	if (a->type == IMAP_ARG_NIL) {
		*sep_r = 0;
		return 0;
	}
	if ((a->type != IMAP_ARG_STRING && a->type != IMAP_ARG_LITERAL) ||
	    a->len != 1 || !a->u.str[0])
		return -1;
	*sep_r = a->u.str[0];
	return 0;
}

/* A mailbox name: astring, no NULs. */
static const char *mailbox_name(const struct imap_arg *a, size_t *len_r)
{
	const char *s = astring_nil(a);
	if (!s || strlen(s) != (a->type == IMAP_ARG_NIL ? 3 : a->len))
		return NULL;
	*len_r = strlen(s);
	return s;
}

int imap_list_decode(const struct imap_response *r, struct imap_list_entry *e,
		     struct oim_err *err)
{
	memset(e, 0, sizeof(*e));
	if (imap_response_is(r, "LSUB"))
		e->lsub = true;
	else if (!imap_response_is(r, "LIST"))
		return rerr(r, err, "not a LIST response");
	if (r->nargs < 4 || r->nargs > 5 || r->args[1].type != IMAP_ARG_LIST)
		return rerr(r, err, "malformed %s", e->lsub ? "LSUB" : "LIST");
	for (size_t i = 0; i < r->args[1].len; i++) {
		const struct imap_arg *a = &r->args[1].u.list[i];
		if (a->type != IMAP_ARG_ATOM)
			return rerr(r, err, "mailbox flag is not an atom");
		for (size_t j = 0; j < ARRAY_SIZE(list_flag_tab); j++)
			if (!oim_strcasecmp(a->u.str, list_flag_tab[j].name))
				e->flags |= list_flag_tab[j].flag;
	}
	if (decode_sep(&r->args[2], &e->sep))
		return rerr(r, err, "bad hierarchy separator");
	e->name = mailbox_name(&r->args[3], &e->name_len);
	if (!e->name)
		return rerr(r, err, "bad mailbox name");
	if (r->nargs == 5) {
		if (r->args[4].type != IMAP_ARG_LIST)
			return rerr(r, err, "bad LIST extended data");
		e->extended = &r->args[4];
	}
	return 0;
}

/* ---- STATUS ---- */

int imap_status_decode(const struct imap_response *r,
		       struct imap_status_info *st, struct oim_err *err)
{
	const struct imap_arg *l;
	memset(st, 0, sizeof(*st));
	if (!imap_response_is(r, "STATUS") || r->nargs != 3 ||
	    r->args[2].type != IMAP_ARG_LIST || r->args[2].len % 2)
		return rerr(r, err, "malformed STATUS");
	st->mailbox = mailbox_name(&r->args[1], &st->mailbox_len);
	if (!st->mailbox)
		return rerr(r, err, "bad mailbox name");
	l = r->args[2].u.list;
	for (size_t i = 0; i < r->args[2].len; i += 2) {
		static const struct {
			const char *name;
			unsigned has;
			size_t off;
		} tab[] = {
		    {"MESSAGES", IMAP_STATUS_MESSAGES,
		     offsetof(struct imap_status_info, messages)},
		    {"UIDNEXT", IMAP_STATUS_UIDNEXT,
		     offsetof(struct imap_status_info, uidnext)},
		    {"UIDVALIDITY", IMAP_STATUS_UIDVALIDITY,
		     offsetof(struct imap_status_info, uidvalidity)},
		    {"UNSEEN", IMAP_STATUS_UNSEEN,
		     offsetof(struct imap_status_info, unseen)},
		    {"RECENT", IMAP_STATUS_RECENT,
		     offsetof(struct imap_status_info, recent)},
		};
		if (imap_arg_atom_is(&l[i], "HIGHESTMODSEQ")) {
			if (imap_arg_u64(&l[i + 1], &st->highestmodseq))
				return rerr(r, err, "bad HIGHESTMODSEQ");
			st->has |= IMAP_STATUS_HIGHESTMODSEQ;
			continue;
		}
		for (size_t j = 0; j < ARRAY_SIZE(tab); j++) {
			if (!imap_arg_atom_is(&l[i], tab[j].name))
				continue;
			uint32_t *p = (uint32_t *)((char *)st + tab[j].off);
			if (imap_arg_u32(&l[i + 1], p))
				return rerr(r, err, "bad %s", tab[j].name);
			st->has |= tab[j].has;
		}
	}
	return 0;
}

/* ---- SEARCH, ESEARCH, VANISHED ---- */

int imap_search_decode(const struct imap_response *r, struct imap_seqset *set,
		       uint64_t *modseq_r, struct oim_err *err)
{
	*modseq_r = 0;
	if (!imap_response_is(r, "SEARCH"))
		return rerr(r, err, "not a SEARCH response");
	for (size_t i = 1; i < r->nargs; i++) {
		const struct imap_arg *a = &r->args[i];
		uint32_t n;
		if (a->type == IMAP_ARG_LIST && i == r->nargs - 1) {
			if (a->len != 2 ||
			    !imap_arg_atom_is(&a->u.list[0], "MODSEQ") ||
			    imap_arg_u64(&a->u.list[1], modseq_r))
				return rerr(r, err, "bad SEARCH MODSEQ");
			break;
		}
		if (imap_arg_u32(a, &n) || !n)
			return rerr(r, err, "bad number in SEARCH");
		imap_seqset_add(set, n, n);
	}
	imap_seqset_normalize(set);
	return 0;
}

static int arg_seqset(const struct imap_arg *a, struct imap_seqset *set)
{
	if (a->type != IMAP_ARG_ATOM)
		return -1;
	return imap_seqset_parse(set, a->u.str, a->len, NULL);
}

int imap_esearch_decode(const struct imap_response *r, struct imap_esearch *es,
			struct oim_err *err)
{
	size_t i = 1;
	memset(es, 0, sizeof(*es));
	if (!imap_response_is(r, "ESEARCH"))
		return rerr(r, err, "not an ESEARCH response");
	/* search-correlator: (TAG "a1") */
	if (i < r->nargs && r->args[i].type == IMAP_ARG_LIST) {
		const struct imap_arg *c = &r->args[i];
		if (c->len != 2 || !imap_arg_atom_is(&c->u.list[0], "TAG") ||
		    !(es->tag = imap_arg_string(&c->u.list[1])))
			return rerr(r, err, "bad ESEARCH correlator");
		i++;
	}
	if (i < r->nargs && imap_arg_atom_is(&r->args[i], "UID")) {
		es->uid = true;
		i++;
	}
	for (; i < r->nargs; i += 2) {
		const struct imap_arg *name = &r->args[i];
		const struct imap_arg *v =
		    i + 1 < r->nargs ? &r->args[i + 1] : NULL;
		if (!v || name->type != IMAP_ARG_ATOM)
			goto bad;
		if (imap_arg_atom_is(name, "MIN")) {
			if (imap_arg_u32(v, &es->min))
				goto bad;
			es->has |= IMAP_ESEARCH_MIN;
		} else if (imap_arg_atom_is(name, "MAX")) {
			if (imap_arg_u32(v, &es->max))
				goto bad;
			es->has |= IMAP_ESEARCH_MAX;
		} else if (imap_arg_atom_is(name, "COUNT")) {
			if (imap_arg_u32(v, &es->count))
				goto bad;
			es->has |= IMAP_ESEARCH_COUNT;
		} else if (imap_arg_atom_is(name, "ALL")) {
			if (arg_seqset(v, &es->all))
				goto bad;
			es->has |= IMAP_ESEARCH_ALL;
		} else if (imap_arg_atom_is(name, "MODSEQ")) {
			if (imap_arg_u64(v, &es->modseq))
				goto bad;
			es->has |= IMAP_ESEARCH_MODSEQ;
		}
		/* other return data (PARTIAL, RELEVANCY...) skipped */
	}
	return 0;
bad:
	imap_esearch_release(es);
	return rerr(r, err, "malformed ESEARCH");
}

void imap_esearch_release(struct imap_esearch *es)
{
	imap_seqset_release(&es->all);
}

int imap_vanished_decode(const struct imap_response *r, bool *earlier_r,
			 struct imap_seqset *set, struct oim_err *err)
{
	size_t i = 1;
	*earlier_r = false;
	if (!imap_response_is(r, "VANISHED"))
		return rerr(r, err, "not a VANISHED response");
	if (i < r->nargs && r->args[i].type == IMAP_ARG_LIST) {
		if (r->args[i].len != 1 ||
		    !imap_arg_atom_is(&r->args[i].u.list[0], "EARLIER"))
			return rerr(r, err, "malformed VANISHED");
		*earlier_r = true;
		i++;
	}
	if (i + 1 != r->nargs || arg_seqset(&r->args[i], set))
		return rerr(r, err, "malformed VANISHED");
	return 0;
}

/* ---- CAPABILITY, ENABLED, NAMESPACE ---- */

int imap_atoms_decode(const struct imap_response *r, const char ***atoms_r,
		      size_t *n_r, struct oim_err *err)
{
	const char **a;
	*atoms_r = NULL;
	*n_r = 0;
	if (r->kind != IMAP_RESP_UNTAGGED || !r->nargs ||
	    r->args[0].type != IMAP_ARG_ATOM)
		return rerr(r, err, "not a list of atoms");
	a = imap_response_alloc(r, r->nargs * sizeof(*a));
	for (size_t i = 1; i < r->nargs; i++) {
		if (r->args[i].type != IMAP_ARG_ATOM)
			return rerr(r, err, "not an atom");
		a[i - 1] = r->args[i].u.str;
	}
	*atoms_r = a;
	*n_r = r->nargs - 1;
	return 0;
}

bool imap_atoms_have(const char *const *atoms, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!oim_strcasecmp(atoms[i], name))
			return true;
	return false;
}

int imap_namespace_decode(const struct imap_response *r,
			  struct imap_namespaces *ns, struct oim_err *err)
{
	memset(ns, 0, sizeof(*ns));
	if (!imap_response_is(r, "NAMESPACE") || r->nargs != 4)
		return rerr(r, err, "malformed NAMESPACE");
	for (size_t k = 0; k < 3; k++) {
		const struct imap_arg *l = &r->args[k + 1];
		if (l->type == IMAP_ARG_NIL)
			continue;
		if (l->type != IMAP_ARG_LIST || !l->len)
			return rerr(r, err, "malformed NAMESPACE");
		ns->ns[k] = imap_response_alloc(r, l->len * sizeof(*ns->ns[k]));
		for (size_t i = 0; i < l->len; i++) {
			const struct imap_arg *d = &l->u.list[i];
			/* ("prefix" "sep" extensions...) */
			if (d->type != IMAP_ARG_LIST || d->len < 2 ||
			    !(ns->ns[k][i].prefix =
				  imap_arg_string(&d->u.list[0])) ||
			    decode_sep(&d->u.list[1], &ns->ns[k][i].sep))
				return rerr(r, err, "malformed NAMESPACE");
		}
		ns->n[k] = l->len;
	}
	return 0;
}
