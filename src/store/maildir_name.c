/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * maildir_name.c - Maildir file names, FMD5, flags and Date: parsing, as
 * OfflineIMAP 8 (folder/Maildir.py, email.utils) does them.  Pure
 * functions except the process-wide (time, seq) counter.
 */
#include "maildir.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <time.h>

/* ---- flags ---- */

maildir_flags_t maildir_flag_bit(int c)
{
	/* Bits in code-point order: '0'-'9' 0..9, 'A'-'Z' 10..35, '_' 36,
	 * 'a'-'z' 37..62.  Sorting a set is then walking its bits. */
	if (c >= '0' && c <= '9')
		return (maildir_flags_t)1 << (c - '0');
	if (c >= 'A' && c <= 'Z')
		return (maildir_flags_t)1 << (10 + (c - 'A'));
	if (c == '_')
		return (maildir_flags_t)1 << 36;
	if (c >= 'a' && c <= 'z')
		return (maildir_flags_t)1 << (37 + (c - 'a'));
	return 0;
}

static_assert(MAILDIR_FLAG_LC('z') == (maildir_flags_t)1 << 62,
	      "flag bits fit in 63 bits");

static int flag_char(unsigned bit)
{
	if (bit < 10)
		return '0' + (int)bit;
	if (bit < 36)
		return 'A' + (int)(bit - 10);
	if (bit == 36)
		return '_';
	return 'a' + (int)(bit - 37);
}

char *maildir_flags_str(maildir_flags_t flags, char buf[MAILDIR_FLAGS_STR_MAX])
{
	size_t n = 0;
	for (unsigned bit = 0; bit < 63; bit++)
		if (flags & ((maildir_flags_t)1 << bit))
			buf[n++] = (char)flag_char(bit);
	buf[n] = '\0';
	return buf;
}

maildir_flags_t maildir_flags_parse(const char *s, size_t len)
{
	maildir_flags_t f = 0;
	for (size_t i = 0; i < len; i++)
		f |= maildir_flag_bit((unsigned char)s[i]);
	return f;
}

/* ---- FMD5 ---- */

void maildir_fmd5(const char *visible_name, char out[MAILDIR_FMD5_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	/* OfflineIMAP: md5(self.getvisiblename().encode('utf-8')).  Our names
	 * are the bytes on disk, which is that encoding for UTF-8 names. */
	if (!EVP_Digest(visible_name, strlen(visible_name), md, &mdlen,
			EVP_md5(), NULL) ||
	    mdlen != 16)
		BUG("EVP_Digest(md5) failed");
	for (unsigned i = 0; i < 16; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[MAILDIR_FMD5_LEN] = '\0';
}

/* ---- names ---- */

static bool is_word(unsigned char c)
{
	return maildir_flag_bit(c) != 0;
}

static bool is_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

static void reason(const char **why_r, const char *why)
{
	if (why_r)
		*why_r = why;
}

int maildir_name_parse(const char *name, size_t len, char infosep,
		       struct maildir_name *out, const char **why_r)
{
	bool prefix_done = false, fmd5_seen = false;

	memset(out, 0, sizeof(*out));
	out->info_off = out->info_end = len;
	if (len == 0) {
		reason(why_r, "empty name");
		return -1;
	}
	if (len > OIM_MAILDIR_MAX_NAME) {
		reason(why_r, "name too long");
		return -1;
	}
	if (name[0] == '.') {
		reason(why_r, "dot file");
		return -1;
	}

	/* One pass doing what OfflineIMAP's regexes do, each the first
	 * match in the whole name:
	 *   re_prefixmatch     '([^:,]*)'  (infosep for ':')
	 *   re_uidmatch        ',U=(\d+)'  (a ",U=" without digits is no
	 *                      match; the search goes on)
	 *   ',FMD5=<md5>'      kept from the first ",FMD5="
	 *   re_flagmatch       '<infosep>2,(\w*)'  (ASCII word characters)
	 *   re_timestampmatch  '(\d+)'  (maxage) */
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		size_t rest = len - i - 1;

		if (c < 0x20 || c == 0x7f || c == '/') {
			reason(why_r, "control character or '/' in name");
			return -1;
		}
		if (!prefix_done && (c == ',' || c == (unsigned char)infosep)) {
			out->prefix_len = i;
			prefix_done = true;
		}
		if (c == ',' && !out->has_uid && rest >= 3 &&
		    name[i + 1] == 'U' && name[i + 2] == '=' &&
		    name[i + 3] >= '0' && name[i + 3] <= '9') {
			size_t off = i + 3, n = 0;
			uint64_t v;
			while (off + n < len && name[off + n] >= '0' &&
			       name[off + n] <= '9')
				n++;
			if (oim_parse_u64(name + off, n, UINT32_MAX, &v) < 0 ||
			    v == 0) {
				/* It claims a UID no IMAP server can have:
				 * not new mail, not ours.  Leave it alone. */
				reason(why_r, "U= holds no valid UID");
				return -1;
			}
			out->has_uid = true;
			out->uid = (uint32_t)v;
		}
		if (c == ',' && !fmd5_seen && rest >= 5 &&
		    !memcmp(name + i + 1, "FMD5=", 5)) {
			size_t off = i + 6, n = 0;
			fmd5_seen = true;
			while (n < MAILDIR_FMD5_LEN && off + n < len &&
			       is_hex((unsigned char)name[off + n]))
				n++;
			if (n == MAILDIR_FMD5_LEN) {
				out->has_fmd5 = true;
				memcpy(out->fmd5, name + off, MAILDIR_FMD5_LEN);
				out->fmd5[MAILDIR_FMD5_LEN] = '\0';
			}
		}
		if (c == (unsigned char)infosep && !out->has_info &&
		    rest >= 2 && name[i + 1] == '2' && name[i + 2] == ',') {
			size_t e = i + 3;
			while (e < len && is_word((unsigned char)name[e]))
				e++;
			out->has_info = true;
			out->info_off = i;
			out->info_end = e;
			out->flags =
			    maildir_flags_parse(name + i + 3, e - i - 3);
		}
		if (!out->has_time && c >= '0' && c <= '9') {
			int64_t t = 0;
			out->has_time = true;
			for (size_t k = i;
			     k < len && name[k] >= '0' && name[k] <= '9'; k++) {
				int d = name[k] - '0';
				if (t > (INT64_MAX - d) / 10)
					t = INT64_MAX; /* far future: kept */
				else
					t = t * 10 + d;
			}
			out->time = t;
		}
	}
	if (!prefix_done)
		out->prefix_len = len;
	return 0;
}

bool maildir_name_has_fmd5(const char *name, size_t len, const char *fmd5)
{
	char needle[6 + MAILDIR_FMD5_LEN + 1];
	snprintf(needle, sizeof(needle), ",FMD5=%s", fmd5);
	return memmem(name, len, needle, strlen(needle)) != NULL;
}

static void add_host(struct strbuf *sb, const char *host)
{
	for (; *host; host++) {
		char c = *host;
		/* '/' -> '-' is OfflineIMAP's own replace(os.path.sep, '-');
		 * the others would break parsing of the name. */
		if (c == '/' || c == ':' || c == ',' || c == '!' ||
		    (unsigned char)c < 0x20 || c == 0x7f)
			c = '-';
		strbuf_addch(sb, c);
	}
}

void maildir_name_format(struct strbuf *sb, int64_t time, unsigned long seq,
			 long pid, const char *host, uint32_t uid,
			 const char *fmd5, char infosep, maildir_flags_t flags)
{
	char fl[MAILDIR_FLAGS_STR_MAX];

	/* '%d_%d.%d.%s,U=%d,FMD5=%s%s2,%s' */
	strbuf_addf(sb, "%lld_%lu.%ld.", (long long)time, seq, pid);
	add_host(sb, host);
	strbuf_addf(sb, ",U=%lu,FMD5=%s%c2,%s", (unsigned long)uid, fmd5,
		    infosep, maildir_flags_str(flags, fl));
}

void maildir_name_with_flags(struct strbuf *sb, const char *name, size_t len,
			     char infosep, maildir_flags_t flags)
{
	char fl[MAILDIR_FLAGS_STR_MAX];
	size_t i;

	maildir_flags_str(flags, fl);
	for (i = 0; i + 2 < len; i++)
		if (name[i] == infosep && name[i + 1] == '2' &&
		    name[i + 2] == ',')
			break;
	if (i + 2 >= len) {
		strbuf_add(sb, name, len);
		strbuf_addf(sb, "%c2,%s", infosep, fl);
		return;
	}
	/* OfflineIMAP cuts len(match) bytes off the *end*, which is only
	 * right when the flags end the name; replacing the match itself is
	 * the same for its names and keeps anything that follows. */
	size_t e = i + 3;
	while (e < len && is_word((unsigned char)name[e]))
		e++;
	strbuf_add(sb, name, i + 3);
	strbuf_addstr(sb, fl);
	strbuf_add(sb, name + e, len - e);
}

/* ---- (time, seq), OfflineIMAP's _gettimeseq() ---- */

struct timeseq_slot {
	int64_t time;
	unsigned long seq; /* next seq to hand out; 0 = empty slot */
};

static pthread_mutex_t timeseq_lock = PTHREAD_MUTEX_INITIALIZER;
static struct timeseq_slot *timeseq_tab;
static size_t timeseq_cap, timeseq_used;

static struct timeseq_slot *timeseq_slot(struct timeseq_slot *tab, size_t cap,
					 int64_t t)
{
	size_t h = (size_t)((uint64_t)t * 0x9E3779B97F4A7C15ull) & (cap - 1);
	while (tab[h].seq && tab[h].time != t)
		h = (h + 1) & (cap - 1);
	return &tab[h];
}

void maildir_timeseq(int64_t when, int64_t *time_r, unsigned long *seq_r)
{
	struct timeseq_slot *s;

	if (when < 0)
		when = (int64_t)time(NULL);
	pthread_mutex_lock(&timeseq_lock);
	/* One entry per distinct time value, as OfflineIMAP's timehash;
	 * grows at half load. */
	if (2 * (timeseq_used + 1) > timeseq_cap) {
		size_t ncap = timeseq_cap ? 2 * timeseq_cap : 64;
		struct timeseq_slot *ntab = xcalloc(ncap, sizeof(*ntab));
		for (size_t i = 0; i < timeseq_cap; i++)
			if (timeseq_tab[i].seq)
				*timeseq_slot(ntab, ncap, timeseq_tab[i].time) =
				    timeseq_tab[i];
		free(timeseq_tab);
		timeseq_tab = ntab;
		timeseq_cap = ncap;
	}
	s = timeseq_slot(timeseq_tab, timeseq_cap, when);
	if (!s->seq) {
		s->time = when;
		timeseq_used++;
	}
	*seq_r = s->seq++;
	*time_r = when;
	pthread_mutex_unlock(&timeseq_lock);
}

/* ---- Date: as email.utils.parsedate_tz() + mktime_tz() ---- */

#define DATE_TOK_MAX 64
#define DATE_NTOK    6

struct date_tok {
	char s[DATE_TOK_MAX];
};

static const char *const monthnames[] = {
    "jan",     "feb",	   "mar",	"apr",	   "may",      "jun",
    "jul",     "aug",	   "sep",	"oct",	   "nov",      "dec",
    "january", "february", "march",	"april",   "may",      "june",
    "july",    "august",   "september", "october", "november", "december",
};
static const char *const daynames[] = {"mon", "tue", "wed", "thu",
				       "fri", "sat", "sun"};
static const struct {
	const char *name;
	int off;
} timezones[] = {
    {"UT", 0},	   {"UTC", 0},	  {"GMT", 0},	 {"Z", 0},	{"AST", -400},
    {"ADT", -300}, {"EST", -500}, {"EDT", -400}, {"CST", -600}, {"CDT", -500},
    {"MST", -700}, {"MDT", -600}, {"PST", -800}, {"PDT", -700},
};

static void tok_set(struct date_tok *t, const char *s, size_t n)
{
	if (n >= DATE_TOK_MAX)
		BUG("date token too long");
	memcpy(t->s, s, n);
	t->s[n] = '\0';
}

static void lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

static int month_index(const char *s)
{
	for (size_t i = 0; i < ARRAY_SIZE(monthnames); i++)
		if (!strcmp(s, monthnames[i]))
			return (int)i;
	return -1;
}

static void strip_last_comma(char *s)
{
	size_t n = strlen(s);
	if (n && s[n - 1] == ',')
		s[n - 1] = '\0';
}

/* Python int() for what can reach it here: sign and digits. */
static int py_int(const char *s, long *v)
{
	if (!*s)
		return -1;
	return oim_parse_long(s, v);
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int maildir_parse_date(const char *s, size_t len, int64_t *time_r)
{
	struct date_tok tok[DATE_NTOK + 2];
	size_t ntok = 0, i = 0;

	/* data.split(): tokens of non-blanks; only the first few matter,
	 * but the count does. */
	while (i < len) {
		while (i < len && strchr(" \t\r\n\v\f", s[i]) && s[i])
			i++;
		if (i >= len)
			break;
		size_t st = i;
		while (i < len && s[i] && !strchr(" \t\r\n\v\f", s[i]))
			i++;
		if (i - st >= DATE_TOK_MAX)
			return -1;
		if (ntok < DATE_NTOK)
			tok_set(&tok[ntok], s + st, i - st);
		ntok++;
		if (i < len && !s[i])
			return -1; /* NUL in a header: not Python's str */
	}
	if (ntok == 0)
		return -1;
	if (ntok > DATE_NTOK)
		ntok = DATE_NTOK; /* data[:5] is all that is used */

	/* A day name (or anything ending in ',') first is dropped;
	 * else text up to the last ',' of the first token is. */
	char low[DATE_TOK_MAX];
	memcpy(low, tok[0].s, sizeof(low));
	lower(low);
	size_t l0 = strlen(tok[0].s);
	bool dayname = false;
	for (size_t k = 0; k < ARRAY_SIZE(daynames); k++)
		if (!strcmp(low, daynames[k]))
			dayname = true;
	if ((l0 && tok[0].s[l0 - 1] == ',') || dayname) {
		memmove(tok, tok + 1, (ntok - 1) * sizeof(tok[0]));
		ntok--;
	} else {
		char *c = strrchr(tok[0].s, ',');
		if (c)
			memmove(tok[0].s, c + 1, strlen(c + 1) + 1);
	}
	if (ntok == 3) { /* RFC 850: dd-mon-yy */
		char *a = strchr(tok[0].s, '-');
		char *b = a ? strchr(a + 1, '-') : NULL;
		if (a && b && !strchr(b + 1, '-')) {
			struct date_tok parts[3];
			tok_set(&parts[0], tok[0].s, (size_t)(a - tok[0].s));
			tok_set(&parts[1], a + 1, (size_t)(b - a - 1));
			tok_set(&parts[2], b + 1, strlen(b + 1));
			tok[4] = tok[2];
			tok[3] = tok[1];
			tok[0] = parts[0];
			tok[1] = parts[1];
			tok[2] = parts[2];
			ntok = 5;
		}
	}
	if (ntok == 4) {
		char *t = tok[3].s;
		char *c = strchr(t, '+');
		if (!c)
			c = strchr(t, '-');
		if (c && c > t) {
			tok_set(&tok[4], c, strlen(c));
			*c = '\0';
		} else {
			tok[4].s[0] = '\0';
		}
		ntok = 5;
	}
	if (ntok < 5)
		return -1;

	char *dd = tok[0].s, *mm = tok[1].s, *yy = tok[2].s, *tm = tok[3].s,
	     *tz = tok[4].s;
	if (!*dd || !*mm || !*yy)
		return -1;
	lower(mm);
	int mon = month_index(mm);
	if (mon < 0) {
		char *t = dd;
		dd = mm;
		mm = t;
		lower(mm);
		mon = month_index(mm);
		if (mon < 0)
			return -1;
	}
	mon = mon + 1;
	if (mon > 12)
		mon -= 12;
	strip_last_comma(dd);
	char *colon = strchr(yy, ':');
	if (colon && colon > yy) {
		char *t = yy;
		yy = tm;
		tm = t;
	}
	if (!*yy)
		return -1; /* yy[-1] raises IndexError */
	if (yy[strlen(yy) - 1] == ',') {
		strip_last_comma(yy);
		if (!*yy)
			return -1;
	}
	if (!(yy[0] >= '0' && yy[0] <= '9')) {
		char *t = yy;
		yy = tz;
		tz = t;
	}
	if (!*tm)
		return -1;
	strip_last_comma(tm);

	/* time: hh:mm[:ss] or hh.mm[.ss] */
	char *hms[3] = {NULL, NULL, NULL};
	char zero[] = "0";
	size_t nf = 1;
	hms[0] = tm;
	char sepc = ':';
	if (!strchr(tm, ':') && strchr(tm, '.'))
		sepc = '.';
	for (char *c = tm; *c; c++) {
		if (*c == sepc) {
			if (nf == 3)
				return -1;
			*c = '\0';
			hms[nf++] = c + 1;
		}
	}
	if (nf == 1)
		return -1;
	if (nf == 2)
		hms[2] = zero;

	long y, d, hh, mi, ss;
	if (py_int(yy, &y) || py_int(dd, &d) || py_int(hms[0], &hh) ||
	    py_int(hms[1], &mi) || py_int(hms[2], &ss))
		return -1;
	if (y < 100)
		y += y > 68 ? 1900 : 2000;

	long tzoff = 0;
	bool known = false;
	for (char *c = tz; *c; c++)
		if (*c >= 'a' && *c <= 'z')
			*c = (char)(*c - 'a' + 'A');
	for (size_t k = 0; k < ARRAY_SIZE(timezones); k++)
		if (!strcmp(tz, timezones[k].name)) {
			tzoff = timezones[k].off;
			known = true;
		}
	if (!known && py_int(tz, &tzoff) < 0)
		tzoff = 0; /* unknown zone: None, then 0 */
	if (tzoff) {
		long sign = tzoff < 0 ? -1 : 1;
		long a = tzoff < 0 ? -tzoff : tzoff;
		if (a > 100000000L)
			return -1;
		tzoff = sign * ((a / 100) * 3600 + (a % 100) * 60);
	}

	/* calendar.timegm(): datetime.date(y, m, 1) must exist (1..9999);
	 * the rest is plain arithmetic, which we bound to stay in int64. */
	if (y < 1 || y > 9999)
		return -1;
	const long big = 1000000000L;
	if (d < -big || d > big || hh < -big || hh > big || mi < -big ||
	    mi > big || ss < -big || ss > big)
		return -1;
	int64_t days = days_from_civil(y, mon, 1) + d - 1;
	int64_t t = ((days * 24 + hh) * 60 + mi) * 60 + ss - tzoff;
	*time_r = t;
	return 0;
}
