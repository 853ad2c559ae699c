/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * imap-cli - drive the IMAP client (src/imap/client.h) from the command
 * line for the integration tests (tests/integration/test_imap_client.py,
 * test_imap_redaction.py).
 *
 *   imap-cli [options] COMMAND...
 *
 * Options (connection set-up, struct imap_client_opts):
 *   --host H --port P --ssl --no-starttls --ipv4 --ipv6 --timeout S
 *   --cafile F --fingerprint LIST --tls-level L --ssl-version V
 *   --preauth-tunnel CMD --transport-tunnel CMD
 *   --user U --password-file F --oauth2-token-file F (secrets only ever
 *   come from files) --auth-mechanisms LIST
 *   --compress --qresync --condstore --no-id --name NAME
 *   --debug TYPES (imap, net, all...: log_parse_debug_types)
 *   --keep-going (go on after a NO/BAD)
 *
 * Each later argument is one command, its words separated by spaces
 * (split at the first spaces only where the last word may hold spaces):
 *   caps | has CAP | enabled | noop | sep | selected | peer
 *   list REF PATTERN | lsub REF PATTERN | list-status PATTERN [ITEMS]
 *   status MBOX [ITEMS]
 *   select MBOX | examine MBOX | select-condstore MBOX
 *   select-qresync MBOX UIDVALIDITY MODSEQ [KNOWN-UIDS]
 *   fetch SET ITEMS... [changedsince=N]   (ITEMS is the rest of the line)
 *   fetch-bodies SET DIR                  (BODY.PEEK[] to DIR/<uid>.eml)
 *   search CRITERIA...
 *   store SET +|-|= FLAGS [UNCHANGEDSINCE]   (FLAGS comma separated, or -)
 *   append MBOX FILE [FLAGS [DATE]]       (DATE: epoch or "dd-Mon-yyyy
 *                                          hh:mm:ss +zzzz"; FLAGS or -)
 *   append-many MBOX FILE1,FILE2,...      (pipelined)
 *   expunge [SET] | create MBOX | delete MBOX | subscribe MBOX
 *   move SET MBOX | close | unselect | idle SECONDS | raw COMMAND...
 *
 * Output: one line per result on stdout, e.g.
 *   CAPABILITY IMAP4rev1 ...        LIST flags=\HasNoChildren sep=/ name=X
 *   STATUS X messages=3 uidnext=4 uidvalidity=... (name last if spaces)
 *   SELECT exists=.. uidvalidity=.. uidnext=.. highestmodseq=.. ...
 *   FETCH seq=1 uid=3 flags=S size=123 modseq=7 ...
 *   APPENDUID 17 5                  SEARCH 1:3,7      IDLE changed=1
 * and "OK <command word>" after each command that succeeded.  On error:
 *   ERROR kind=<oim_err_kind_name> sev=N msg=<message, one line>
 * Exit codes: 0 all ok, 2 usage, 3 NO/BAD (the connection is usable: with
 * --keep-going the next command runs and the exit code is 3 at the end),
 * 4 connection-level error (open failed, connection dead), 5 local error
 * (a file could not be read or written).
 */
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "imap/client.h"
#include "imap/parser.h"
#include "imap/resp.h"
#include "net/net.h"
#include "util/err.h"
#include "util/log.h"
#include "util/strbuf.h"
#include "util/util.h"

#define MAX_WORDS    8
#define MAX_KEYWORDS 32
#define MAX_SECRET   (64u * 1024)

enum {
	RC_OK = 0,
	RC_USAGE = 2,
	RC_NO = 3,
	RC_CONN = 4,
	RC_LOCAL = 5,
};

static OIM_NORETURN void usage(const char *why)
{
	fprintf(stderr,
		"imap-cli: %s\nusage: imap-cli [options] COMMAND... "
		"(see tests/tools/imap-cli.c)\n",
		why);
	exit(RC_USAGE);
}

/* Print s on one line: control bytes escaped so one result is one line. */
static void put_oneline(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '\n')
			fputs("\\n", stdout);
		else if (ch == '\r')
			fputs("\\r", stdout);
		else if (ch < 0x20 || ch == 0x7f)
			printf("\\x%02x", ch);
		else
			putchar(ch);
	}
}

static void print_err(const struct oim_err *err)
{
	printf("ERROR kind=%s sev=%d msg=", oim_err_kind_name(err->kind),
	       (int)err->sev);
	put_oneline(err->msg, strlen(err->msg));
	putchar('\n');
	fflush(stdout);
}

static int local_error(struct oim_err *err, const char *what, const char *path)
{
	return oim_error(err, OIM_SEV_FATAL, OIM_E_IO, "%s %s: %s", what, path,
			 strerror(errno));
}

/* ---- secrets ---- */

/* Read a secret from a file: the whole file minus one trailing newline. */
static char *read_secret(const char *path)
{
	struct strbuf sb = STRBUF_INIT;
	char buf[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		fprintf(stderr, "imap-cli: cannot open %s: %s\n", path,
			strerror(errno));
		exit(RC_USAGE);
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		strbuf_add(&sb, buf, (size_t)n);
		if (sb.len > MAX_SECRET)
			usage("secret file too long");
	}
	oim_wipe(buf, sizeof(buf));
	close(fd);
	if (n < 0)
		usage("cannot read secret file");
	if (sb.len && sb.buf[sb.len - 1] == '\n')
		strbuf_setlen(&sb, sb.len - 1);
	if (sb.len && sb.buf[sb.len - 1] == '\r')
		strbuf_setlen(&sb, sb.len - 1);
	return strbuf_detach(&sb, NULL);
}

/* ---- formatting ---- */

static const struct {
	unsigned bit;
	const char *name;
} list_flag_names[] = {
    {IMAP_LIST_NOSELECT, "\\Noselect"},
    {IMAP_LIST_NOINFERIORS, "\\Noinferiors"},
    {IMAP_LIST_HASCHILDREN, "\\HasChildren"},
    {IMAP_LIST_HASNOCHILDREN, "\\HasNoChildren"},
    {IMAP_LIST_MARKED, "\\Marked"},
    {IMAP_LIST_UNMARKED, "\\Unmarked"},
    {IMAP_LIST_NONEXISTENT, "\\NonExistent"},
    {IMAP_LIST_SUBSCRIBED, "\\Subscribed"},
    {IMAP_LIST_REMOTE, "\\Remote"},
    {IMAP_LIST_ALL, "\\All"},
    {IMAP_LIST_ARCHIVE, "\\Archive"},
    {IMAP_LIST_DRAFTS, "\\Drafts"},
    {IMAP_LIST_FLAGGED, "\\Flagged"},
    {IMAP_LIST_JUNK, "\\Junk"},
    {IMAP_LIST_SENT, "\\Sent"},
    {IMAP_LIST_TRASH, "\\Trash"},
    {IMAP_LIST_IMPORTANT, "\\Important"},
};

/* Maildir letters of the system flags, "" when none. */
static void put_flags(const char *name, unsigned flags)
{
	char letters[8];
	size_t n = imap_flags_to_maildir(flags, letters);
	printf(" %s=%.*s", name, (int)n, letters);
	if (flags & IMAP_FLAG_RECENT)
		printf(" recent=1");
}

static void put_keywords(const char *const *kw, size_t n)
{
	if (!n)
		return;
	printf(" keywords=");
	for (size_t i = 0; i < n; i++)
		printf("%s%s", i ? "," : "", kw[i]);
}

static int list_cb(void *ctx, const struct imap_list_entry *e,
		   struct oim_err *err)
{
	bool first = true;
	printf("%s flags=", e->lsub ? "LSUB" : "LIST");
	for (size_t i = 0; i < ARRAY_SIZE(list_flag_names); i++) {
		if (!(e->flags & list_flag_names[i].bit))
			continue;
		printf("%s%s", first ? "" : ",", list_flag_names[i].name);
		first = false;
	}
	if (e->sep)
		printf(" sep=%c", e->sep);
	else
		printf(" sep=NIL");
	printf(" name=");
	put_oneline(e->name, e->name_len);
	putchar('\n');
	return 0;
}

static int status_cb(void *ctx, const struct imap_status_info *st,
		     struct oim_err *err)
{
	printf("STATUS ");
	put_oneline(st->mailbox, st->mailbox_len);
	if (st->has & IMAP_STATUS_MESSAGES)
		printf(" messages=%" PRIu32, st->messages);
	if (st->has & IMAP_STATUS_RECENT)
		printf(" recent=%" PRIu32, st->recent);
	if (st->has & IMAP_STATUS_UIDNEXT)
		printf(" uidnext=%" PRIu32, st->uidnext);
	if (st->has & IMAP_STATUS_UIDVALIDITY)
		printf(" uidvalidity=%" PRIu32, st->uidvalidity);
	if (st->has & IMAP_STATUS_UNSEEN)
		printf(" unseen=%" PRIu32, st->unseen);
	if (st->has & IMAP_STATUS_HIGHESTMODSEQ)
		printf(" highestmodseq=%" PRIu64, st->highestmodseq);
	putchar('\n');
	return 0;
}

static void print_mailbox(const char *what, const struct imap_mailbox *m)
{
	printf("%s exists=%" PRIu32 " uidvalidity=%" PRIu32 " uidnext=%" PRIu32
	       " highestmodseq=%" PRIu64 " nomodseq=%d readonly=%d",
	       what, m->exists, m->uidvalidity, m->uidnext, m->highestmodseq,
	       m->nomodseq, m->readonly);
	put_flags("flags", m->flags);
	put_flags("permanentflags", m->permanentflags);
	printf(" keywords_ok=%d\n", m->permanent_keywords);
}

static int fetch_cb(void *ctx, const struct imap_fetch *f, struct oim_err *err)
{
	printf("FETCH seq=%" PRIu32, f->seq);
	if (f->has & IMAP_FETCH_UID)
		printf(" uid=%" PRIu32, f->uid);
	if (f->has & IMAP_FETCH_FLAGS) {
		put_flags("flags", f->flags);
		put_keywords(f->keywords, f->nkeywords);
	}
	if (f->has & IMAP_FETCH_SIZE)
		printf(" size=%" PRIu64, f->size);
	if (f->has & IMAP_FETCH_MODSEQ)
		printf(" modseq=%" PRIu64, f->modseq);
	if (f->has & IMAP_FETCH_INTERNALDATE)
		printf(" internaldate=%lld tz=%d", (long long)f->internaldate,
		       f->internaldate_tz);
	for (size_t i = 0; i < f->nbodies; i++) {
		const struct imap_arg *v = f->bodies[i].value;
		printf(" body=%s:", f->bodies[i].item);
		if (!v || v->type == IMAP_ARG_NIL) {
			printf("NIL");
		} else if (v->type == IMAP_ARG_STREAMED) {
			printf("streamed:%" PRIu32, v->len);
		} else {
			struct strbuf q = STRBUF_INIT;
			imap_quote_for_log(&q, v->u.str, v->len, 4096);
			printf("%" PRIu32 ":", v->len);
			put_oneline(q.buf, q.len);
			strbuf_release(&q);
		}
	}
	putchar('\n');
	return 0;
}

static int vanished_cb(void *ctx, const struct imap_seqset *uids, bool earlier,
		       struct oim_err *err)
{
	struct strbuf sb = STRBUF_INIT;
	imap_seqset_format(&sb, uids);
	printf("VANISHED earlier=%d uids=%s\n", earlier, sb.buf);
	strbuf_release(&sb);
	return 0;
}

static int raw_cb(void *ctx, const struct imap_response *r, struct oim_err *err)
{
	struct strbuf sb = STRBUF_INIT;
	imap_response_dump(&sb, r);
	printf("RAW ");
	put_oneline(sb.buf, sb.len);
	putchar('\n');
	strbuf_release(&sb);
	return 0;
}

static int caps_cb(void *ctx, const struct imap_response *r,
		   struct oim_err *err)
{
	const char **atoms;
	size_t n;

	if (!imap_response_is(r, "CAPABILITY"))
		return raw_cb(ctx, r, err);
	if (imap_atoms_decode(r, &atoms, &n, err) < 0)
		return -1;
	printf("CAPABILITY");
	for (size_t i = 0; i < n; i++)
		printf(" %s", atoms[i]);
	putchar('\n');
	return 0;
}

/* ---- fetch-bodies: a body sink writing DIR/<uid>.eml ---- */

struct body_files {
	const char *dir;
	int fd;	       /* the body being received, -1 between bodies */
	uint32_t seq;  /* its sequence number */
	uint64_t size; /* bytes written */
	bool failed;   /* a local write failed: reported at the end */
	struct oim_err local;
};

static char *part_path(const struct body_files *bf, uint32_t seq)
{
	return xasprintf("%s/.seq-%" PRIu32 ".part", bf->dir, seq);
}

static int sink_begin(void *ctx, const struct imap_body_info *info,
		      struct oim_err *err)
{
	struct body_files *bf = ctx;
	char *path;

	if (strncmp(info->item, "BODY[]", 6) &&
	    strncmp(info->item, "RFC822", 6))
		return IMAP_BODY_INMEM;
	path = part_path(bf, info->seq);
	bf->seq = info->seq;
	bf->size = 0;
	bf->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (bf->fd < 0 && !bf->failed) {
		bf->failed = true;
		local_error(&bf->local, "cannot create", path);
	}
	free(path);
	return IMAP_BODY_STREAM;
}

static int sink_data(void *ctx, const void *data, size_t len,
		     struct oim_err *err)
{
	struct body_files *bf = ctx;
	const char *p = data;

	bf->size += len;
	while (bf->fd >= 0 && len > 0) {
		ssize_t n = write(bf->fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (!bf->failed) {
				bf->failed = true;
				local_error(&bf->local, "cannot write",
					    bf->dir);
			}
			break;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int sink_end(void *ctx, struct oim_err *err)
{
	struct body_files *bf = ctx;
	if (bf->fd >= 0 && close(bf->fd) < 0 && !bf->failed) {
		bf->failed = true;
		local_error(&bf->local, "cannot close a file in", bf->dir);
	}
	bf->fd = -1;
	return 0;
}

static const struct imap_body_sink body_sink = {
    .begin = sink_begin,
    .data = sink_data,
    .end = sink_end,
};

static int body_fetch_cb(void *ctx, const struct imap_fetch *f,
			 struct oim_err *err)
{
	struct body_files *bf = ctx;

	for (size_t i = 0; i < f->nbodies; i++) {
		const struct imap_arg *v = f->bodies[i].value;
		char *from, *to;

		if (!v || v->type != IMAP_ARG_STREAMED)
			continue;
		if (!(f->has & IMAP_FETCH_UID)) {
			printf("BODY seq=%" PRIu32 " without UID\n", f->seq);
			continue;
		}
		from = part_path(bf, f->seq);
		to = xasprintf("%s/%" PRIu32 ".eml", bf->dir, f->uid);
		if (rename(from, to) < 0 && !bf->failed) {
			bf->failed = true;
			local_error(&bf->local, "cannot rename", from);
		}
		printf("BODY uid=%" PRIu32 " size=%" PRIu32 "\n", f->uid,
		       v->len);
		free(from);
		free(to);
	}
	return fetch_cb(NULL, f, err);
}

/* ---- argument helpers ---- */

static uint64_t num_arg(const char *s, uint64_t max, const char *what)
{
	uint64_t v;
	if (oim_parse_u64(s, strlen(s), max, &v) < 0)
		usage(what);
	return v;
}

/*
 * Flags "\Seen,\Flagged,$Label" (commas or spaces, optional parentheses;
 * "-" or "" for none): system flags into *flags_r, the rest into kw[].
 * Returns the number of keywords; the strings point into buf.
 */
static size_t parse_flags(char *buf, unsigned *flags_r, const char **kw)
{
	size_t nkw = 0;
	char *p = buf;

	*flags_r = 0;
	if (!strcmp(buf, "-"))
		return 0;
	while (*p) {
		char *start;
		unsigned f;
		while (*p == ',' || *p == ' ' || *p == '(' || *p == ')')
			p++;
		if (!*p)
			break;
		start = p;
		while (*p && *p != ',' && *p != ' ' && *p != '(' && *p != ')')
			p++;
		if (*p)
			*p++ = '\0';
		f = imap_flag_from_name(start);
		if (f) {
			*flags_r |= f;
		} else {
			if (nkw == MAX_KEYWORDS)
				usage("too many keywords");
			kw[nkw++] = start;
		}
	}
	return nkw;
}

/* Split line into at most max words at spaces; the last word takes the
 * rest of the line.  Returns the number of words. */
static size_t split(char *line, char **w, size_t max)
{
	size_t n = 0;
	char *p = line;

	while (*p && n < max) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		w[n++] = p;
		if (n == max)
			break;
		while (*p && *p != ' ')
			p++;
		if (*p)
			*p++ = '\0';
	}
	return n;
}

static int open_file(const char *path, struct oim_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		local_error(err, "cannot open", path);
	return fd;
}

static int parse_date(const char *s, struct imap_append *a)
{
	uint64_t v;
	if (!oim_parse_u64(s, strlen(s), INT64_MAX, &v)) {
		a->date = (time_t)v;
		a->date_tz = 0;
		return 0;
	}
	return imap_internaldate_parse(s, &a->date, &a->date_tz);
}

/* ---- commands ---- */

struct cli {
	struct imap_client *c;
	struct oim_err local; /* set when a failure is ours, not the server's */
	bool local_failed;
};

#define NEED(n)                                                                \
	do {                                                                   \
		if (nw < (n))                                                  \
			usage("missing argument");                             \
	} while (0)

static int cmd_append(struct cli *cli, char **w, size_t nw, struct oim_err *err)
{
	struct imap_append a = {.mailbox = w[1], .fd = -1};
	const char *kw[MAX_KEYWORDS];
	uint32_t uid = 0, uv = 0;
	int r;

	NEED(3);
	if (nw >= 4)
		(void)parse_flags(w[3], &a.flags, kw);
	if (nw >= 5 && parse_date(w[4], &a) < 0)
		usage("bad date");
	a.fd = open_file(w[2], &cli->local);
	if (a.fd < 0) {
		cli->local_failed = true;
		return -1;
	}
	r = imap_append(cli->c, &a, &uid, &uv, err);
	close(a.fd);
	if (r < 0)
		return -1;
	printf("APPENDUID %" PRIu32 " %" PRIu32 "\n", uv, uid);
	return 0;
}

static int cmd_append_many(struct cli *cli, char **w, size_t nw,
			   struct oim_err *err)
{
	struct imap_append *a = NULL;
	struct imap_cmd **cmds = NULL;
	size_t n = 0, alloc = 0, started = 0;
	char *p;
	int ret = -1;

	NEED(3);
	for (p = w[2]; p && *p;) {
		char *comma = strchr(p, ',');
		if (comma)
			*comma = '\0';
		ALLOC_GROW(a, n, alloc);
		a[n] = (struct imap_append){.mailbox = w[1], .fd = -1};
		a[n].fd = open_file(p, &cli->local);
		n++;
		if (a[n - 1].fd < 0) {
			cli->local_failed = true;
			goto out;
		}
		p = comma ? comma + 1 : NULL;
	}
	cmds = xcalloc(n ? n : 1, sizeof(*cmds));
	for (started = 0; started < n; started++)
		if (imap_append_start(cli->c, &a[started], &cmds[started],
				      err) < 0)
			goto out;
	for (size_t i = 0; i < n; i++) {
		uint32_t uid = 0, uv = 0;
		if (imap_append_wait(cli->c, cmds[i], &uid, &uv, err) < 0)
			goto out;
		printf("APPENDUID %" PRIu32 " %" PRIu32 "\n", uv, uid);
	}
	ret = 0;
out:
	/* Commands queued but not waited for after an error: the client
	 * owns them; they are freed with the client. */
	for (size_t i = 0; i < n; i++)
		if (a[i].fd >= 0)
			close(a[i].fd);
	free(a);
	free(cmds);
	return ret;
}

static int cmd_store(struct cli *cli, char **w, size_t nw, struct oim_err *err)
{
	const char *kw[MAX_KEYWORDS];
	struct imap_seqset mod = IMAP_SEQSET_INIT;
	struct strbuf sb = STRBUF_INIT;
	enum imap_store_op op;
	unsigned flags;
	size_t nkw;
	uint64_t unchangedsince = 0;
	int r;

	NEED(4);
	if (!strcmp(w[2], "+"))
		op = IMAP_STORE_ADD;
	else if (!strcmp(w[2], "-"))
		op = IMAP_STORE_REMOVE;
	else if (!strcmp(w[2], "="))
		op = IMAP_STORE_SET;
	else
		usage("store: op is +, - or =");
	nkw = parse_flags(w[3], &flags, kw);
	if (nw >= 5)
		unchangedsince = num_arg(w[4], UINT64_MAX, "bad modseq");
	r = imap_uid_store(cli->c, w[1], op, flags, kw, nkw, unchangedsince,
			   &mod, err);
	if (r == 0) {
		imap_seqset_format(&sb, &mod);
		printf("STORE modified=%s\n", sb.buf);
	}
	strbuf_release(&sb);
	imap_seqset_release(&mod);
	return r;
}

static int cmd_fetch_bodies(struct cli *cli, char **w, size_t nw,
			    struct oim_err *err)
{
	struct body_files bf = {.fd = -1};
	int r;

	NEED(3);
	bf.dir = w[2];
	imap_client_set_body_sink(cli->c, &body_sink, &bf);
	r = imap_uid_fetch(cli->c, w[1], "(UID RFC822.SIZE BODY.PEEK[])", 0,
			   body_fetch_cb, NULL, &bf, err);
	imap_client_set_body_sink(cli->c, NULL, NULL);
	if (bf.fd >= 0)
		close(bf.fd);
	if (r == 0 && bf.failed) {
		cli->local = bf.local;
		cli->local_failed = true;
		return -1;
	}
	return r;
}

/* How many words each command has (its last word takes the rest). */
static size_t words_of(const char *cmd)
{
	static const struct {
		const char *name;
		size_t words;
	} t[] = {
	    {"has", 2},
	    {"list", 3},
	    {"lsub", 3},
	    {"list-status", 3},
	    {"status", 3},
	    {"select", 2},
	    {"examine", 2},
	    {"select-condstore", 2},
	    {"select-qresync", 5},
	    {"fetch", 3},
	    {"fetch-bodies", 3},
	    {"search", 2},
	    {"store", 5},
	    {"append", 5},
	    {"append-many", 3},
	    {"expunge", 2},
	    {"create", 2},
	    {"delete", 2},
	    {"subscribe", 2},
	    {"move", 3},
	    {"idle", 2},
	    {"raw", 2},
	};
	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		if (!strcmp(cmd, t[i].name))
			return t[i].words;
	return 1;
}

static int run_command(struct cli *cli, const char *arg, struct oim_err *err)
{
	char *line = xstrdup(arg);
	char *w[MAX_WORDS];
	size_t nw;
	struct imap_client *c = cli->c;
	const char *cmd;
	int r = 0;

	char name[32];
	size_t nlen = strcspn(line, " ");

	if (!nlen || nlen >= sizeof(name))
		usage("bad command");
	memcpy(name, line, nlen);
	name[nlen] = '\0';
	nw = split(line, w, words_of(name));
	cmd = w[0];

	if (!strcmp(cmd, "caps")) {
		r = imap_simple(c, "CAPABILITY", caps_cb, NULL, err);
	} else if (!strcmp(cmd, "has")) {
		NEED(2);
		printf("HAS %s=%d\n", w[1], imap_has_cap(c, w[1]));
	} else if (!strcmp(cmd, "enabled")) {
		printf("ENABLED condstore=%d qresync=%d\n",
		       imap_condstore_enabled(c), imap_qresync_enabled(c));
	} else if (!strcmp(cmd, "peer")) {
		printf("PEER %s\n", imap_client_peer(c));
	} else if (!strcmp(cmd, "noop")) {
		r = imap_noop(c, err);
	} else if (!strcmp(cmd, "sep")) {
		char sep = 0;
		r = imap_separator(c, &sep, err);
		if (!r) {
			if (sep)
				printf("SEP %c\n", sep);
			else
				printf("SEP NIL\n");
		}
	} else if (!strcmp(cmd, "selected")) {
		const char *s = imap_selected(c);
		printf("SELECTED %s\n", s ? s : "NONE");
	} else if (!strcmp(cmd, "list") || !strcmp(cmd, "lsub")) {
		NEED(3);
		/* "" stands for the empty reference */
		r = imap_list(c, cmd[1] == 's',
			      strcmp(w[1], "\"\"") ? w[1] : "", w[2], list_cb,
			      NULL, err);
	} else if (!strcmp(cmd, "list-status")) {
		NEED(2);
		r = imap_list_status(c, "", w[1],
				     nw >= 3 ? w[2]
					     : "(MESSAGES UIDNEXT UIDVALIDITY)",
				     list_cb, status_cb, NULL, err);
	} else if (!strcmp(cmd, "status")) {
		struct imap_status_info st;
		NEED(2);
		memset(&st, 0, sizeof(st));
		r = imap_status(
		    c, w[1],
		    nw >= 3 ? w[2] : "(MESSAGES UIDNEXT UIDVALIDITY UNSEEN)",
		    &st, err);
		if (!r) {
			if (!st.mailbox) {
				st.mailbox = w[1];
				st.mailbox_len = strlen(w[1]);
			}
			status_cb(NULL, &st, err);
		}
	} else if (!strcmp(cmd, "select") || !strcmp(cmd, "examine") ||
		   !strcmp(cmd, "select-condstore")) {
		struct imap_mailbox m;
		unsigned fl = 0;
		NEED(2);
		if (cmd[0] == 'e')
			fl |= IMAP_SELECT_EXAMINE;
		if (strchr(cmd, '-'))
			fl |= IMAP_SELECT_CONDSTORE;
		memset(&m, 0, sizeof(m));
		r = imap_select(c, w[1], fl, &m, err);
		if (!r)
			print_mailbox(cmd[0] == 'e' ? "EXAMINE" : "SELECT", &m);
	} else if (!strcmp(cmd, "select-qresync")) {
		struct imap_mailbox m;
		uint64_t uv, modseq;
		NEED(4);
		uv = num_arg(w[2], UINT32_MAX, "bad uidvalidity");
		modseq = num_arg(w[3], UINT64_MAX, "bad modseq");
		memset(&m, 0, sizeof(m));
		r = imap_select_qresync(c, w[1], 0, (uint32_t)uv, modseq,
					nw >= 5 ? w[4] : NULL, fetch_cb,
					vanished_cb, NULL, &m, err);
		if (!r)
			print_mailbox("SELECT", &m);
	} else if (!strcmp(cmd, "fetch")) {
		uint64_t since = 0;
		char *items, *cs;
		NEED(3);
		items = w[2];
		cs = strstr(items, " changedsince=");
		if (cs) {
			*cs = '\0';
			since =
			    num_arg(cs + 14, UINT64_MAX, "bad changedsince");
		}
		r = imap_uid_fetch(c, w[1], items, since, fetch_cb, vanished_cb,
				   NULL, err);
	} else if (!strcmp(cmd, "fetch-bodies")) {
		r = cmd_fetch_bodies(cli, w, nw, err);
	} else if (!strcmp(cmd, "search")) {
		struct imap_seqset uids = IMAP_SEQSET_INIT;
		struct strbuf sb = STRBUF_INIT;
		NEED(2);
		r = imap_uid_search(c, w[1], &uids, err);
		if (!r) {
			imap_seqset_normalize(&uids);
			imap_seqset_format(&sb, &uids);
			printf("SEARCH %s\n", sb.buf);
		}
		strbuf_release(&sb);
		imap_seqset_release(&uids);
	} else if (!strcmp(cmd, "store")) {
		r = cmd_store(cli, w, nw, err);
	} else if (!strcmp(cmd, "append")) {
		r = cmd_append(cli, w, nw, err);
	} else if (!strcmp(cmd, "append-many")) {
		r = cmd_append_many(cli, w, nw, err);
	} else if (!strcmp(cmd, "expunge")) {
		r = imap_expunge(c, nw >= 2 ? w[1] : NULL, err);
	} else if (!strcmp(cmd, "create") || !strcmp(cmd, "delete") ||
		   !strcmp(cmd, "subscribe")) {
		NEED(2);
		if (cmd[0] == 'c')
			r = imap_create(c, w[1], err);
		else if (cmd[0] == 'd')
			r = imap_delete(c, w[1], err);
		else
			r = imap_subscribe(c, w[1], err);
	} else if (!strcmp(cmd, "move")) {
		NEED(3);
		r = imap_uid_move(c, w[1], w[2], err);
	} else if (!strcmp(cmd, "close") || !strcmp(cmd, "unselect")) {
		r = imap_close(c, cmd[0] == 'c', err);
	} else if (!strcmp(cmd, "idle")) {
		bool changed = false;
		NEED(2);
		printf("IDLING\n");
		fflush(stdout);
		r = imap_idle(c, (unsigned)num_arg(w[1], 86400, "bad seconds"),
			      -1, &changed, err);
		if (!r)
			printf("IDLE changed=%d\n", changed);
	} else if (!strcmp(cmd, "raw")) {
		NEED(2);
		r = imap_simple(c, w[1], raw_cb, NULL, err);
	} else {
		usage("unknown command");
	}
	if (!r)
		printf("OK %s\n", cmd);
	fflush(stdout);
	free(line);
	return r;
}

int main(int argc, char **argv)
{
	struct imap_client_opts o = {.starttls = true, .send_id = true};
	struct net_tls_opts topts = {0};
	struct net_tls *tls = NULL;
	struct oim_err err = OIM_ERR_INIT;
	struct cli cli = {0};
	char *password = NULL, *token = NULL;
	bool keep_going = false;
	int i, rc = RC_OK;

	setvbuf(stdout, NULL, _IOLBF, 0);
	o.name = "imap-cli";
	o.host = "127.0.0.1";
	for (i = 1; i < argc && !strncmp(argv[i], "--", 2); i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NEEDV()                                                                \
	do {                                                                   \
		if (!v)                                                        \
			usage("option needs a value");                         \
		i++;                                                           \
	} while (0)
		if (!strcmp(a, "--")) {
			i++;
			break;
		} else if (!strcmp(a, "--host")) {
			NEEDV();
			o.host = v;
		} else if (!strcmp(a, "--port")) {
			NEEDV();
			o.port = (unsigned)num_arg(v, 65535, "bad port");
		} else if (!strcmp(a, "--ssl")) {
			o.ssl = true;
		} else if (!strcmp(a, "--no-starttls")) {
			o.starttls = false;
		} else if (!strcmp(a, "--ipv4")) {
			o.family = NET_FAMILY_V4;
		} else if (!strcmp(a, "--ipv6")) {
			o.family = NET_FAMILY_V6;
		} else if (!strcmp(a, "--timeout")) {
			NEEDV();
			o.timeout_s =
			    (unsigned)num_arg(v, 86400, "bad timeout");
		} else if (!strcmp(a, "--cafile")) {
			NEEDV();
			topts.cafile = v;
		} else if (!strcmp(a, "--fingerprint")) {
			NEEDV();
			topts.fingerprints = v;
		} else if (!strcmp(a, "--tls-level")) {
			NEEDV();
			topts.tls_level = v;
		} else if (!strcmp(a, "--ssl-version")) {
			NEEDV();
			topts.ssl_version = v;
		} else if (!strcmp(a, "--preauth-tunnel")) {
			NEEDV();
			o.preauth_tunnel = v;
		} else if (!strcmp(a, "--transport-tunnel")) {
			NEEDV();
			o.transport_tunnel = v;
		} else if (!strcmp(a, "--user")) {
			NEEDV();
			o.user = v;
		} else if (!strcmp(a, "--password-file")) {
			NEEDV();
			oim_free_secret(password);
			password = read_secret(v);
		} else if (!strcmp(a, "--oauth2-token-file")) {
			NEEDV();
			oim_free_secret(token);
			token = read_secret(v);
		} else if (!strcmp(a, "--auth-mechanisms")) {
			NEEDV();
			o.auth_mechanisms = v;
		} else if (!strcmp(a, "--compress")) {
			o.compress = true;
		} else if (!strcmp(a, "--qresync")) {
			o.enable_qresync = true;
		} else if (!strcmp(a, "--condstore")) {
			o.enable_condstore = true;
		} else if (!strcmp(a, "--no-id")) {
			o.send_id = false;
		} else if (!strcmp(a, "--name")) {
			NEEDV();
			o.name = v;
		} else if (!strcmp(a, "--keep-going")) {
			keep_going = true;
		} else if (!strcmp(a, "--debug")) {
			unsigned mask;
			NEEDV();
			if (log_parse_debug_types(v, &mask, &err) < 0)
				usage(err.msg);
			log_set_debug(mask);
		} else {
			usage("unknown option");
		}
	}
	o.password = password;
	o.oauth2_token = token;

	if ((o.ssl || o.starttls) && net_tls_new(&tls, &topts, &err) < 0) {
		print_err(&err);
		rc = RC_USAGE;
		goto out;
	}
	o.tls = tls;

	if (imap_client_open(&cli.c, &o, &err) < 0) {
		print_err(&err);
		rc = RC_CONN;
		goto out;
	}
	/* Secrets are not kept after open (client.h): wipe ours now. */
	oim_free_secret(password);
	oim_free_secret(token);
	password = token = NULL;
	printf("CONNECTED %s\n", imap_client_peer(cli.c));

	for (; i < argc; i++) {
		oim_err_clear(&err);
		cli.local_failed = false;
		if (run_command(&cli, argv[i], &err) == 0)
			continue;
		if (cli.local_failed) {
			print_err(&cli.local);
			rc = RC_LOCAL;
			break;
		}
		print_err(&err);
		if (imap_client_broken(cli.c) ||
		    (err.kind != OIM_E_IMAP_NO && err.kind != OIM_E_IMAP_BAD)) {
			rc = RC_CONN;
			break;
		}
		rc = RC_NO;
		if (!keep_going)
			break;
	}
	if (rc == RC_CONN || rc == RC_LOCAL)
		imap_client_free(cli.c);
	else
		imap_logout(cli.c);
	printf("EXIT %d\n", rc);
out:
	oim_free_secret(password);
	oim_free_secret(token);
	net_tls_free(tls);
	return rc;
}
