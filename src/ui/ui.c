/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ui.c - the quiet and basic UIs (see ui.h).  Lines follow OfflineIMAP's
 * basic UI where it has one ("*** Processing account X", "Creating folder
 * F[R]", "*** Finished account 'X' in m:ss").
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <termios.h>
#include <unistd.h>

#include "../util/log.h"
#include "../util/strbuf.h"
#include "../util/util.h"
#include "ui.h"

static enum ui_kind kind = UI_BASIC;

void ui_set(const char *name)
{
	if (name && !oim_strcasecmp(name, "quiet"))
		kind = UI_QUIET;
	else if (name && !oim_strcasecmp(name, "ttyui"))
		kind = UI_TTY;
	else
		kind = UI_BASIC;
}

/* ---- the password prompt ---- */

static pthread_mutex_t prompt_lock = PTHREAD_MUTEX_INITIALIZER;

static void tty_write(int fd, const char *s)
{
	size_t len = strlen(s);
	while (len) {
		ssize_t n = write(fd, s, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		s += n;
		len -= (size_t)n;
	}
}

int ui_getpass(const char *repo, const char *user, const char *errmsg,
	       char **pw_r, struct oim_err *err)
{
	struct termios old, noecho;
	char buf[UI_GETPASS_MAX + 1];
	size_t len = 0;
	bool restore = false, ok = false;
	int fd;

	*pw_r = NULL;
	/* TTYUI.isusable(): standard input and output are the terminal */
	if (kind != UI_TTY || !isatty(STDIN_FILENO) ||
	    !(isatty(STDOUT_FILENO) || isatty(STDERR_FILENO)))
		return 1;
	fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return 1; /* cron, a systemd unit: nobody to ask */
	pthread_mutex_lock(&prompt_lock);
	if (tcgetattr(fd, &old) == 0) {
		noecho = old;
		noecho.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		noecho.c_lflag |= ICANON;
		restore = tcsetattr(fd, TCSAFLUSH, &noecho) == 0;
	}
	if (errmsg) {
		tty_write(fd, user ? user : "");
		tty_write(fd, ": ");
		tty_write(fd, errmsg);
		tty_write(fd, "\n");
	}
	tty_write(fd, "Enter password for user '");
	tty_write(fd, user ? user : "");
	tty_write(fd, "': ");
	for (;;) {
		char ch;
		ssize_t n = read(fd, &ch, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* end of input: nothing typed */
		if (ch == '\n' || ch == '\r') {
			ok = true;
			break;
		}
		if (len < UI_GETPASS_MAX)
			buf[len++] = ch;
	}
	if (restore)
		tcsetattr(fd, TCSAFLUSH, &old);
	tty_write(fd, "\n");
	pthread_mutex_unlock(&prompt_lock);
	close(fd);
	buf[len] = '\0';
	if (!ok) {
		oim_wipe(buf, sizeof(buf));
		return oim_error(err, OIM_SEV_ACCOUNT, OIM_E_AUTH,
				 "repository %s: no password was entered",
				 repo);
	}
	*pw_r = xstrdup(buf);
	oim_wipe(buf, sizeof(buf));
	return 0;
}

enum ui_kind ui_get(void)
{
	return kind;
}

static bool chatty(void)
{
	return kind != UI_QUIET;
}

void ui_info(const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	if (!chatty())
		return;
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	log_info("%s", sb.buf);
	strbuf_release(&sb);
}

void ui_account_start(const char *account, bool dry_run)
{
	ui_info("*** Processing account %s%s", account,
		dry_run ? " (dry run: nothing is changed)" : "");
}

void ui_account_done(const char *account, bool ok, double secs)
{
	unsigned long s = secs > 0 ? (unsigned long)(secs + 0.5) : 0;
	ui_info("*** Finished account '%s' in %lu:%02lu%s", account, s / 60,
		s % 60, ok ? "" : " (with errors)");
}

void ui_account_error(const char *account, const struct oim_err *err)
{
	log_error("Account %s: %s", account, err->msg);
}

void ui_folder_start(const char *account, const char *folder,
		     const char *from_kind, const char *to_kind)
{
	(void)account;
	ui_info("Syncing %s: %s -> %s", folder, from_kind, to_kind);
}

char *ui_counts_text(const struct ui_folder_counts *c, char *buf, size_t n)
{
	struct strbuf sb = STRBUF_INIT;
	if (c->skipped) {
		strbuf_addstr(&sb, "unchanged, skipped");
	} else {
		strbuf_addf(&sb,
			    "%zu new, %zu uploaded, %zu flags changed, "
			    "%zu deleted",
			    c->new_local, c->uploaded, c->flags, c->deleted);
		if (c->failed)
			strbuf_addf(&sb, ", %zu failed", c->failed);
	}
	if (c->dry_run)
		strbuf_addstr(&sb, " (dry run)");
	snprintf(buf, n, "%s", sb.buf);
	strbuf_release(&sb);
	return buf;
}

void ui_folder_done(const char *account, const char *folder,
		    const struct ui_folder_counts *c)
{
	char buf[256];
	ui_info("Account %s: folder %s: %s", account, folder,
		ui_counts_text(c, buf, sizeof(buf)));
}

void ui_folder_error(const char *account, const char *folder,
		     const struct oim_err *err)
{
	log_error("Account %s: folder %s: %s", account, folder, err->msg);
}

void ui_make_folder(const char *account, const char *repo, const char *folder,
		    bool dry_run)
{
	(void)account;
	ui_info("%sCreating folder %s[%s]", dry_run ? "[DRYRUN] " : "", folder,
		repo);
}

void ui_hook(const char *account, const char *what, const char *text)
{
	ui_info("Account %s: %s%s", account, what, text ? text : "");
}

void ui_sleep(const char *account, double secs)
{
	unsigned long s = secs > 0 ? (unsigned long)(secs + 0.5) : 0;
	ui_info("Account %s: next refresh in %lu:%02lu", account, s / 60,
		s % 60);
}
