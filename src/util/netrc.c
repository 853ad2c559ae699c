/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "netrc.h"

#include <errno.h>

#include "strbuf.h"

struct lexer {
	const char *p, *end;
	int line;
};

/* Next token into sb; returns 0 at the end of the file. */
static int next_token(struct lexer *lx, struct strbuf *sb)
{
	strbuf_reset(sb);
	for (;;) {
		while (lx->p < lx->end && (*lx->p == ' ' || *lx->p == '\t' ||
					   *lx->p == '\n' || *lx->p == '\r')) {
			if (*lx->p == '\n')
				lx->line++;
			lx->p++;
		}
		if (lx->p >= lx->end)
			return 0;
		if (*lx->p != '#')
			break;
		while (lx->p < lx->end && *lx->p != '\n')
			lx->p++;
	}
	if (*lx->p == '"') {
		lx->p++;
		while (lx->p < lx->end && *lx->p != '"') {
			if (*lx->p == '\\' && lx->p + 1 < lx->end)
				lx->p++;
			if (*lx->p == '\n')
				lx->line++;
			strbuf_addch(sb, *lx->p++);
		}
		if (lx->p < lx->end)
			lx->p++;
		return 1;
	}
	while (lx->p < lx->end && *lx->p != ' ' && *lx->p != '\t' &&
	       *lx->p != '\n' && *lx->p != '\r') {
		if (*lx->p == '\\' && lx->p + 1 < lx->end)
			lx->p++;
		strbuf_addch(sb, *lx->p++);
	}
	return 1;
}

static void skip_macdef(struct lexer *lx)
{
	/* the macro body runs from the next line up to an empty line */
	while (lx->p < lx->end && *lx->p != '\n')
		lx->p++;
	while (lx->p < lx->end) {
		lx->p++; /* the '\n' */
		lx->line++;
		if (lx->p < lx->end && *lx->p == '\n')
			return;
		while (lx->p < lx->end && *lx->p != '\n')
			lx->p++;
	}
}

int netrc_lookup(const char *path, const char *host, char **login_r,
		 char **password_r, struct oim_err *err)
{
	*login_r = *password_r = NULL;
	FILE *f = fopen(path, "r");
	if (!f) {
		if (errno == ENOENT)
			return 0;
		return oim_error(err, OIM_SEV_ACCOUNT, OIM_E_IO,
				 "cannot read '%s': %s", path, strerror(errno));
	}
	struct strbuf text = STRBUF_INIT, tok = STRBUF_INIT;
	char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		strbuf_add(&text, buf, n);
	bool rerr = ferror(f);
	fclose(f);
	if (rerr) {
		strbuf_release_secret(&text);
		return oim_error(err, OIM_SEV_ACCOUNT, OIM_E_IO,
				 "cannot read '%s'", path);
	}

	struct lexer lx = { text.buf, text.buf + text.len, 1 };
	/* entry being read: 0 none, 1 matching machine, 2 other, 3 default */
	int cur = 0, rc = 0;
	char *login = NULL, *pass = NULL, *dlogin = NULL, *dpass = NULL;
	bool found = false, have_default = false;
	/* The whole file is read, as Python's netrc does: a machine named
	 * again starts a new entry that replaces the earlier one. */
	while (next_token(&lx, &tok)) {
		if (!strcmp(tok.buf, "machine")) {
			if (cur == 1)
				found = true;
			if (!next_token(&lx, &tok)) {
				rc = oim_error(err, OIM_SEV_ACCOUNT, OIM_E_CONFIG,
					       "%s:%d: 'machine' without a "
					       "name",
					       path, lx.line);
				break;
			}
			cur = !strcmp(tok.buf, host) ? 1 : 2;
			if (cur == 1) {
				free(login);
				oim_free_secret(pass);
				login = pass = NULL;
			}
		} else if (!strcmp(tok.buf, "default")) {
			if (cur == 1)
				found = true;
			cur = 3;
			have_default = true;
		} else if (!strcmp(tok.buf, "macdef")) {
			if (cur == 1)
				found = true;
			next_token(&lx, &tok);
			skip_macdef(&lx);
			cur = 0;
		} else if (!strcmp(tok.buf, "login") ||
			   !strcmp(tok.buf, "user") ||
			   !strcmp(tok.buf, "password") ||
			   !strcmp(tok.buf, "account")) {
			bool is_login = tok.buf[0] == 'l' || tok.buf[0] == 'u';
			bool is_pass = tok.buf[0] == 'p';
			int line = lx.line;
			char key[16];
			snprintf(key, sizeof(key), "%s", tok.buf);
			if (!next_token(&lx, &tok)) {
				rc = oim_error(err, OIM_SEV_ACCOUNT, OIM_E_CONFIG,
					       "%s:%d: '%s' without a value",
					       path, line, key);
				break;
			}
			if (cur == 0) {
				rc = oim_error(err, OIM_SEV_ACCOUNT, OIM_E_CONFIG,
					       "%s:%d: '%s' outside a machine "
					       "entry",
					       path, line, key);
				break;
			}
			char **slot = NULL;
			if (cur == 1)
				slot = is_login ? &login : is_pass ? &pass : NULL;
			else if (cur == 3)
				slot = is_login ? &dlogin : is_pass ? &dpass : NULL;
			if (slot) {
				oim_free_secret(*slot);
				*slot = xmemdup(tok.buf, tok.len);
			}
		} else {
			rc = oim_error(err, OIM_SEV_ACCOUNT, OIM_E_CONFIG,
				       "%s:%d: unexpected token in netrc file",
				       path, lx.line);
			break;
		}
	}
	if (!rc && cur == 1)
		found = true;
	if (!rc && found) {
		*login_r = login;
		*password_r = pass;
		login = pass = NULL;
		rc = 1;
	} else if (!rc && have_default) {
		*login_r = dlogin;
		*password_r = dpass;
		dlogin = dpass = NULL;
		rc = 1;
	}
	free(login);
	oim_free_secret(pass);
	free(dlogin);
	oim_free_secret(dpass);
	strbuf_release_secret(&tok);
	strbuf_release_secret(&text);
	return rc;
}
