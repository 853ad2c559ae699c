/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ui.c - the quiet and basic UIs (see ui.h).  Lines follow OfflineIMAP's
 * basic UI where it has one ("*** Processing account X", "Creating folder
 * F[R]", "*** Finished account 'X' in m:ss").
 */
#include <stdarg.h>
#include <stdio.h>

#include "../util/log.h"
#include "../util/strbuf.h"
#include "../util/util.h"
#include "ui.h"

static enum ui_kind kind = UI_BASIC;

void ui_set(const char *name)
{
	kind = name && !oim_strcasecmp(name, "quiet") ? UI_QUIET : UI_BASIC;
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
