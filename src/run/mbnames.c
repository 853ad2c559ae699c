/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mbnames.c - the [mbnames] mailbox list, as OfflineIMAP's mbnames.py
 * (see mbnames.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../config/config.h"
#include "../pyeval/pyeval.h"
#include "../ui/ui.h"
#include "../util/log.h"
#include "../util/strbuf.h"
#include "../util/util.h"
#include "lock.h"
#include "mbnames.h"

static const char *const keys[3] = {"accountname", "foldername",
				    "localfolders"};

struct mb_account {
	char *name;
	char *root;
	char **folders;
	size_t nr, alloc;
};

struct mbnames {
	struct config *cfg;
	bool dry_run, incremental;
	char *dir;	      /* <metadata>/mbnames */
	const char *filename; /* expanded */
	const char *peritem;  /* raw */
	char *header, *sep, *footer;
	struct pyeval_expr *filter, *sortkey;
	pthread_mutex_t mu;
	struct mb_account *acc;
	size_t nacc, alloc_acc;
};

static int eval_opt(struct config *cfg, const char *opt, char **out_r,
		    struct oim_err *err)
{
	const char *text = NULL;
	struct pyeval_expr *e = NULL;
	int rc;
	*out_r = NULL;
	if (config_get_str(cfg, "mbnames", opt, NULL, &text, err))
		return -1;
	if (!text) {
		*out_r = xstrdup("");
		return 0;
	}
	if (pyeval_compile(text, opt, config_origin(cfg, "mbnames", opt),
			   pyeval_option_flags(opt), &e, err))
		return -1;
	rc = pyeval_eval_str(e, out_r, err);
	pyeval_expr_free(e);
	return rc;
}

static int compile_opt(struct config *cfg, const char *opt,
		       struct pyeval_expr **e_r, struct oim_err *err)
{
	const char *text = NULL;
	*e_r = NULL;
	if (!config_has_option(cfg, "mbnames", opt))
		return 0;
	if (config_get_str(cfg, "mbnames", opt, NULL, &text, err))
		return -1;
	if (!text || !*text)
		return 0;
	/* PYEVAL_F_RE as OfflineIMAP gives these 're' */
	return pyeval_compile(text, opt, config_origin(cfg, "mbnames", opt),
			      PYEVAL_F_RE | pyeval_option_flags(opt), e_r, err);
}

int mbnames_new(struct config *cfg, const char *metadata, bool dry_run,
		struct mbnames **mb_r, struct oim_err *err)
{
	bool enabled = false;
	struct mbnames *mb;
	*mb_r = NULL;
	if (!config_has_section(cfg, "mbnames"))
		return 0;
	if (config_get_bool(cfg, "mbnames", "enabled", false, &enabled, err))
		return -1;
	if (!enabled)
		return 0;
	mb = xcalloc(1, sizeof(*mb));
	pthread_mutex_init(&mb->mu, NULL);
	mb->cfg = cfg;
	mb->dry_run = dry_run;
	mb->dir = xasprintf("%s/mbnames", metadata);
	mb->peritem = config_get_raw(cfg, "mbnames", "peritem");
	if (config_get_bool(cfg, "mbnames", "incremental", false,
			    &mb->incremental, err) ||
	    config_get_path(cfg, "mbnames", "filename", NULL, &mb->filename,
			    err) ||
	    eval_opt(cfg, "header", &mb->header, err) ||
	    eval_opt(cfg, "sep", &mb->sep, err) ||
	    eval_opt(cfg, "footer", &mb->footer, err) ||
	    compile_opt(cfg, "folderfilter", &mb->filter, err) ||
	    compile_opt(cfg, "sort_keyfunc", &mb->sortkey, err))
		goto fail;
	if (!mb->filename || !mb->peritem) {
		oim_error(err, OIM_SEV_FATAL, OIM_E_CONFIG,
			  "[mbnames] enabled needs filename and peritem");
		goto fail;
	}
	if (!dry_run && oim_mkdir_p(mb->dir, 0700, err))
		goto fail;
	*mb_r = mb;
	return 0;
fail:
	if (err->sev < OIM_SEV_FATAL)
		err->sev = OIM_SEV_FATAL;
	oim_err_prefix(err, "mbnames");
	mbnames_free(mb);
	return -1;
}

void mbnames_free(struct mbnames *mb)
{
	if (!mb)
		return;
	for (size_t i = 0; i < mb->nacc; i++) {
		for (size_t j = 0; j < mb->acc[i].nr; j++)
			free(mb->acc[i].folders[j]);
		free(mb->acc[i].folders);
		free(mb->acc[i].name);
		free(mb->acc[i].root);
	}
	free(mb->acc);
	free(mb->dir);
	free(mb->header);
	free(mb->sep);
	free(mb->footer);
	pyeval_expr_free(mb->filter);
	pyeval_expr_free(mb->sortkey);
	pthread_mutex_destroy(&mb->mu);
	free(mb);
}

void mbnames_add(struct mbnames *mb, const char *account,
		 const char *folder_root, const char *folder)
{
	struct mb_account *a = NULL;
	if (!mb)
		return;
	pthread_mutex_lock(&mb->mu);
	for (size_t i = 0; i < mb->nacc && !a; i++)
		if (!strcmp(mb->acc[i].name, account))
			a = &mb->acc[i];
	if (!a) {
		ALLOC_GROW(mb->acc, mb->nacc, mb->alloc_acc);
		a = &mb->acc[mb->nacc++];
		memset(a, 0, sizeof(*a));
		a->name = xstrdup(account);
		a->root = folder_root ? xstrdup(folder_root) : NULL;
	}
	bool have = false;
	for (size_t i = 0; i < a->nr && !have; i++)
		have = !strcmp(a->folders[i], folder);
	if (!have) {
		ALLOC_GROW(a->folders, a->nr, a->alloc);
		a->folders[a->nr++] = xstrdup(folder);
	}
	pthread_mutex_unlock(&mb->mu);
}

/* ---- JSON, as Python's json.dump (ensure_ascii) writes and reads it ---- */

static void json_str(struct strbuf *sb, const char *s)
{
	strbuf_addch(sb, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		unsigned c = *p;
		if (c == '"' || c == '\\') {
			strbuf_addch(sb, '\\');
			strbuf_addch(sb, (int)c);
			p++;
			continue;
		}
		if (c == '\n' || c == '\r' || c == '\t' || c == '\b' ||
		    c == '\f') {
			strbuf_addch(sb, '\\');
			strbuf_addch(sb, c == '\n'   ? 'n'
					 : c == '\r' ? 'r'
					 : c == '\t' ? 't'
					 : c == '\b' ? 'b'
						     : 'f');
			p++;
			continue;
		}
		if (c >= 0x20 && c < 0x80) {
			strbuf_addch(sb, (int)c);
			p++;
			continue;
		}
		/* decode UTF-8 (invalid bytes pass as U+FFFD) */
		unsigned cp = 0xfffd;
		int n = 1;
		if (c < 0x20) {
			cp = c;
		} else if ((c & 0xe0) == 0xc0 && (p[1] & 0xc0) == 0x80) {
			cp = ((c & 0x1fu) << 6) | (p[1] & 0x3fu);
			n = 2;
		} else if ((c & 0xf0) == 0xe0 && (p[1] & 0xc0) == 0x80 &&
			   (p[2] & 0xc0) == 0x80) {
			cp = ((c & 0x0fu) << 12) | ((p[1] & 0x3fu) << 6) |
			     (p[2] & 0x3fu);
			n = 3;
		} else if ((c & 0xf8) == 0xf0 && (p[1] & 0xc0) == 0x80 &&
			   (p[2] & 0xc0) == 0x80 && (p[3] & 0xc0) == 0x80) {
			cp = ((c & 0x07u) << 18) | ((p[1] & 0x3fu) << 12) |
			     ((p[2] & 0x3fu) << 6) | (p[3] & 0x3fu);
			n = 4;
		}
		if (cp >= 0x10000) {
			cp -= 0x10000;
			strbuf_addf(sb, "\\u%04x\\u%04x", 0xd800 + (cp >> 10),
				    0xdc00 + (cp & 0x3ff));
		} else {
			strbuf_addf(sb, "\\u%04x", cp);
		}
		p += n;
	}
	strbuf_addch(sb, '"');
}

struct jp {
	const char *p, *end;
};

static void jp_ws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' ||
				 *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static int jp_hex4(struct jp *j, unsigned *v)
{
	*v = 0;
	if (j->end - j->p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		char c = *j->p++;
		unsigned d;
		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return -1;
		*v = *v * 16 + d;
	}
	return 0;
}

static void utf8_put(struct strbuf *sb, unsigned cp)
{
	if (cp < 0x80) {
		strbuf_addch(sb, (int)cp);
	} else if (cp < 0x800) {
		strbuf_addch(sb, (int)(0xc0 | (cp >> 6)));
		strbuf_addch(sb, (int)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		strbuf_addch(sb, (int)(0xe0 | (cp >> 12)));
		strbuf_addch(sb, (int)(0x80 | ((cp >> 6) & 0x3f)));
		strbuf_addch(sb, (int)(0x80 | (cp & 0x3f)));
	} else {
		strbuf_addch(sb, (int)(0xf0 | (cp >> 18)));
		strbuf_addch(sb, (int)(0x80 | ((cp >> 12) & 0x3f)));
		strbuf_addch(sb, (int)(0x80 | ((cp >> 6) & 0x3f)));
		strbuf_addch(sb, (int)(0x80 | (cp & 0x3f)));
	}
}

static int jp_string(struct jp *j, char **out_r)
{
	struct strbuf sb = STRBUF_INIT;
	*out_r = NULL;
	if (j->p >= j->end || *j->p != '"')
		return -1;
	j->p++;
	while (j->p < j->end && *j->p != '"') {
		char c = *j->p++;
		unsigned cp, lo;
		if (c != '\\') {
			if ((unsigned char)c < 0x20 || !c)
				goto bad;
			strbuf_addch(&sb, c);
			continue;
		}
		if (j->p >= j->end)
			goto bad;
		c = *j->p++;
		switch (c) {
		case '"':
		case '\\':
		case '/':
			strbuf_addch(&sb, c);
			break;
		case 'n':
			strbuf_addch(&sb, '\n');
			break;
		case 'r':
			strbuf_addch(&sb, '\r');
			break;
		case 't':
			strbuf_addch(&sb, '\t');
			break;
		case 'b':
			strbuf_addch(&sb, '\b');
			break;
		case 'f':
			strbuf_addch(&sb, '\f');
			break;
		case 'u':
			if (jp_hex4(j, &cp))
				goto bad;
			if (cp >= 0xd800 && cp < 0xdc00 && j->end - j->p >= 6 &&
			    j->p[0] == '\\' && j->p[1] == 'u') {
				j->p += 2;
				if (jp_hex4(j, &lo) || lo < 0xdc00 ||
				    lo >= 0xe000)
					goto bad;
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				     (lo - 0xdc00);
			}
			if (!cp)
				goto bad; /* no NUL in C strings */
			utf8_put(&sb, cp);
			break;
		default:
			goto bad;
		}
	}
	if (j->p >= j->end)
		goto bad;
	j->p++;
	*out_r = strbuf_detach(&sb, NULL);
	return 0;
bad:
	strbuf_release(&sb);
	return -1;
}

static void items_free(char **items, size_t n)
{
	for (size_t i = 0; i < 3 * n; i++)
		free(items[i]);
	free(items);
}

int mbnames_parse_json(const char *text, size_t len, char ***items_r,
		       size_t *n_r, struct oim_err *err)
{
	struct jp j = {text, text + len};
	char **items = NULL;
	size_t n = 0, alloc = 0;

	*items_r = NULL;
	*n_r = 0;
	jp_ws(&j);
	if (j.p >= j.end || *j.p++ != '[')
		goto bad;
	jp_ws(&j);
	if (j.p < j.end && *j.p == ']') {
		j.p++;
		goto done;
	}
	for (;;) {
		jp_ws(&j);
		if (j.p >= j.end || *j.p++ != '{')
			goto bad;
		ALLOC_GROW(items, 3 * n + 3, alloc);
		items[3 * n] = items[3 * n + 1] = items[3 * n + 2] = NULL;
		n++;
		jp_ws(&j);
		if (j.p < j.end && *j.p == '}') {
			j.p++;
		} else {
			for (;;) {
				char *k = NULL, *v = NULL;
				jp_ws(&j);
				if (jp_string(&j, &k))
					goto bad;
				jp_ws(&j);
				if (j.p >= j.end || *j.p++ != ':') {
					free(k);
					goto bad;
				}
				jp_ws(&j);
				/* OfflineIMAP writes null for the
				 * localfolders of an IMAP local side;
				 * Python's % prints it as None */
				if (j.end - j.p >= 4 &&
				    !memcmp(j.p, "null", 4)) {
					j.p += 4;
					v = xstrdup("None");
				} else if (jp_string(&j, &v)) {
					free(k);
					goto bad;
				}
				for (int i = 0; i < 3 && k; i++)
					if (!strcmp(k, keys[i])) {
						free(items[3 * (n - 1) + i]);
						items[3 * (n - 1) + i] = v;
						v = NULL;
					}
				free(k);
				free(v);
				jp_ws(&j);
				if (j.p < j.end && *j.p == ',') {
					j.p++;
					continue;
				}
				if (j.p < j.end && *j.p == '}') {
					j.p++;
					break;
				}
				goto bad;
			}
		}
		for (int i = 0; i < 3; i++)
			if (!items[3 * (n - 1) + i])
				items[3 * (n - 1) + i] = xstrdup("");
		jp_ws(&j);
		if (j.p < j.end && *j.p == ',') {
			j.p++;
			continue;
		}
		if (j.p < j.end && *j.p == ']') {
			j.p++;
			break;
		}
		goto bad;
	}
done:
	jp_ws(&j);
	if (j.p != j.end)
		goto bad;
	*items_r = items;
	*n_r = n;
	return 0;
bad:
	items_free(items, n);
	return oim_error(err, OIM_SEV_FOLDER, OIM_E_PROTOCOL,
			 "not a list of mbnames items (at byte %zu)",
			 (size_t)(j.p - text));
}

int mbnames_format_item(const char *peritem, const char *const *item,
			char **out_r, struct oim_err *err)
{
	struct strbuf sb = STRBUF_INIT;
	*out_r = NULL;
	for (const char *p = peritem; *p; p++) {
		if (*p != '%') {
			strbuf_addch(&sb, *p);
			continue;
		}
		if (p[1] == '%') {
			strbuf_addch(&sb, '%');
			p++;
			continue;
		}
		const char *close = p[1] == '(' ? strchr(p + 2, ')') : NULL;
		if (!close || close[1] != 's') {
			strbuf_release(&sb);
			return oim_error(err, OIM_SEV_FATAL, OIM_E_CONFIG,
					 "[mbnames] peritem: only %%(name)s "
					 "and %%%% are supported: '%s'",
					 peritem);
		}
		size_t klen = (size_t)(close - (p + 2));
		int k = -1;
		for (int i = 0; i < 3; i++)
			if (strlen(keys[i]) == klen &&
			    !memcmp(keys[i], p + 2, klen))
				k = i;
		if (k < 0) {
			strbuf_release(&sb);
			return oim_error(err, OIM_SEV_FATAL, OIM_E_CONFIG,
					 "[mbnames] peritem: unknown key "
					 "'%.*s' (accountname, foldername, "
					 "localfolders)",
					 (int)klen, p + 2);
		}
		strbuf_addstr(&sb, item[k]);
		p = close + 1;
	}
	*out_r = strbuf_detach(&sb, NULL);
	return 0;
}

/* ---- files ---- */

static int write_file(const char *path, const char *data, size_t len,
		      struct oim_err *err)
{
	char *tmp = xasprintf("%s.oimap-tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int rc = -1;
	if (fd < 0) {
		oim_error(err, OIM_SEV_ACCOUNT, OIM_E_IO,
			  "cannot write '%s': %s", tmp, strerror(errno));
		goto out;
	}
	for (size_t off = 0; off < len;) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			oim_error(err, OIM_SEV_ACCOUNT, OIM_E_IO,
				  "cannot write '%s': %s", tmp,
				  strerror(errno));
			close(fd);
			unlink(tmp);
			goto out;
		}
		off += (size_t)w;
	}
	if (close(fd) || rename(tmp, path)) {
		oim_error(err, OIM_SEV_ACCOUNT, OIM_E_IO,
			  "cannot write '%s': %s", path, strerror(errno));
		unlink(tmp);
		goto out;
	}
	rc = 0;
out:
	free(tmp);
	return rc;
}

static int read_file(const char *path, struct strbuf *sb, struct oim_err *err)
{
	char buf[4096];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return oim_error(err, OIM_SEV_FOLDER, OIM_E_IO,
				 "cannot read '%s': %s", path, strerror(errno));
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			close(fd);
			return oim_error(err, OIM_SEV_FOLDER, OIM_E_IO,
					 "cannot read '%s': %s", path,
					 strerror(e));
		}
		if (n == 0)
			break;
		if (sb->len + (size_t)n > MBNAMES_MAX_FILE) {
			close(fd);
			return oim_error(err, OIM_SEV_FOLDER, OIM_E_LIMIT,
					 "'%s' is larger than %u bytes", path,
					 MBNAMES_MAX_FILE);
		}
		strbuf_add(sb, buf, (size_t)n);
	}
	close(fd);
	return 0;
}

int mbnames_account_done(struct mbnames *mb, const char *account,
			 struct oim_err *err)
{
	struct strbuf sb = STRBUF_INIT;
	struct mb_account *a = NULL;
	int rc = 0;
	if (!mb)
		return 0;
	pthread_mutex_lock(&mb->mu);
	for (size_t i = 0; i < mb->nacc && !a; i++)
		if (!strcmp(mb->acc[i].name, account))
			a = &mb->acc[i];
	strbuf_addch(&sb, '[');
	bool first = true;
	for (size_t i = 0; a && i < a->nr; i++) {
		const char *argv[2] = {account, a->folders[i]};
		bool keep = true;
		if (mb->filter &&
		    pyeval_call_bool(mb->filter, argv, 2, &keep, err)) {
			rc = -1;
			break;
		}
		if (!keep)
			continue;
		if (!first)
			strbuf_addstr(&sb, ", ");
		first = false;
		strbuf_addstr(&sb, "{\"accountname\": ");
		json_str(&sb, account);
		strbuf_addstr(&sb, ", \"foldername\": ");
		json_str(&sb, a->folders[i]);
		strbuf_addstr(&sb, ", \"localfolders\": ");
		if (a->root)
			json_str(&sb, a->root);
		else
			strbuf_addstr(&sb, "null");
		strbuf_addch(&sb, '}');
	}
	strbuf_addch(&sb, ']');
	pthread_mutex_unlock(&mb->mu);
	if (!rc) {
		char *path = xasprintf("%s/%s.json", mb->dir, account);
		if (mb->dry_run)
			ui_info("mbnames would write %s", path);
		else
			rc = write_file(path, sb.buf, sb.len, err);
		free(path);
	}
	strbuf_release(&sb);
	if (!rc && mb->incremental)
		rc = mbnames_write(mb, err);
	return rc;
}

static bool is_json(const char *name)
{
	size_t n = strlen(name);
	return n > 5 && !strcmp(name + n - 5, ".json");
}

int mbnames_write(struct mbnames *mb, struct oim_err *err)
{
	char **items = NULL;
	size_t n = 0, alloc = 0;
	struct strbuf out = STRBUF_INIT;
	size_t *order = NULL;
	int rc = -1;
	DIR *d;
	struct dirent *de;

	if (!mb)
		return 0;
	d = opendir(mb->dir);
	while (d && (de = readdir(d))) {
		struct strbuf sb = STRBUF_INIT;
		struct oim_err e = OIM_ERR_INIT;
		char **its = NULL;
		size_t nits = 0;
		if (!is_json(de->d_name))
			continue;
		char *path = xasprintf("%s/%s", mb->dir, de->d_name);
		if (read_file(path, &sb, &e) ||
		    mbnames_parse_json(sb.buf, sb.len, &its, &nits, &e)) {
			/* OfflineIMAP reports a broken file and goes on */
			log_error("mbnames: intermediate file '%s': %s", path,
				  e.msg);
		} else {
			for (size_t i = 0; i < 3 * nits; i++) {
				ALLOC_GROW(items, n * 3 + i, alloc);
				items[n * 3 + i] = its[i];
			}
			n += nits;
			free(its);
		}
		strbuf_release(&sb);
		free(path);
	}
	if (d)
		closedir(d);

	order = xcalloc(n ? n : 1, sizeof(*order));
	if (mb->sortkey) {
		if (pyeval_sort_key(mb->sortkey, keys, 3,
				    (const char *const *)items, n, order, err))
			goto out;
	} else {
		/* (accountname, foldername): code point order is UTF-8
		 * byte order; insertion sort keeps it stable */
		for (size_t i = 0; i < n; i++) {
			size_t k = i;
			while (k > 0) {
				const char *const *a =
				    (const char *const
					 *)&items[3 * order[k - 1]];
				const char *const *b =
				    (const char *const *)&items[3 * i];
				int c = strcmp(a[0], b[0]);
				if (!c)
					c = strcmp(a[1], b[1]);
				if (c <= 0)
					break;
				order[k] = order[k - 1];
				k--;
			}
			order[k] = i;
		}
	}
	strbuf_addstr(&out, mb->header);
	for (size_t i = 0; i < n; i++) {
		char *line = NULL;
		if (mbnames_format_item(
			mb->peritem, (const char *const *)&items[3 * order[i]],
			&line, err))
			goto out;
		if (i)
			strbuf_addstr(&out, mb->sep);
		strbuf_addstr(&out, line);
		free(line);
	}
	strbuf_addstr(&out, mb->footer);
	if (mb->dry_run) {
		ui_info("mbnames would write %s", mb->filename);
		rc = 0;
	} else {
		rc = write_file(mb->filename, out.buf, out.len, err);
	}
out:
	if (rc)
		oim_err_prefix(err, "mbnames");
	strbuf_release(&out);
	free(order);
	items_free(items, n);
	return rc;
}

int mbnames_prune(struct mbnames *mb, struct config *cfg, const char *metadata,
		  const char *const *accounts, size_t n, struct oim_err *err)
{
	char *dir = xasprintf("%s/mbnames", metadata);
	DIR *d = opendir(dir);
	struct dirent *de;
	bool removed = false;
	bool dry = mb ? mb->dry_run : false;
	(void)cfg;
	while (d && (de = readdir(d))) {
		if (!is_json(de->d_name))
			continue;
		size_t len = strlen(de->d_name) - 5;
		bool keep = false;
		for (size_t i = 0; mb && i < n && !keep; i++)
			keep = strlen(accounts[i]) == len &&
			       !memcmp(accounts[i], de->d_name, len);
		if (keep)
			continue;
		char *path = xasprintf("%s/%s", dir, de->d_name);
		if (dry) {
			ui_info("mbnames would remove %s", path);
		} else if (unlink(path)) {
			log_error("mbnames: cannot remove '%s': %s", path,
				  strerror(errno));
		} else {
			ui_info("removed %s", path);
		}
		removed = true;
		free(path);
	}
	if (d)
		closedir(d);
	free(dir);
	if (!removed && mb)
		ui_info("no cache file to remove");
	return mb ? mbnames_write(mb, err) : 0;
}
