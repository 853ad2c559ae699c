/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * mbnames.h - the [mbnames] mailbox list (OfflineIMAP's mbnames.py): after
 * each account's sync its local folder names go to an intermediate file
 * <metadata>/mbnames/<account>.json (a JSON list of {"accountname",
 * "foldername", "localfolders"}, the same files OfflineIMAP writes and
 * reads, so either program may write them); at the end (or after each
 * account with 'incremental') every intermediate file is read, the items
 * sorted (sort_keyfunc, default by account then folder name), formatted
 * with 'peritem' (Python %-format: %(accountname)s, %(foldername)s,
 * %(localfolders)s, %%), joined with 'sep' between 'header' and 'footer'
 * (Python expressions) and written to 'filename' (atomically, by rename).
 * [mbnames] folderfilter(accountname, foldername) drops items.
 *
 * Threads: mbnames_add() and mbnames_account_done() from any thread; the
 * rest from the main thread.  Needs pyeval_init() (the options are Python
 * expressions); run.c starts Python when [mbnames] enabled is set.
 */
#ifndef OIMAP_RUN_MBNAMES_H
#define OIMAP_RUN_MBNAMES_H

#include <stdbool.h>
#include <stddef.h>

#include "../util/err.h"

struct config;
struct mbnames;

/* Limit on one intermediate file we read. */
#define MBNAMES_MAX_FILE (16u * 1024 * 1024)

/* *mb_r = NULL when [mbnames] is not enabled. */
int mbnames_new(struct config *cfg, const char *metadata, bool dry_run,
		struct mbnames **mb_r, struct oim_err *err) OIM_WUR;
void mbnames_free(struct mbnames *mb);
/* A local folder of an account that was synced (NULL mb is fine). */
void mbnames_add(struct mbnames *mb, const char *account,
		 const char *folder_root, const char *folder);
/* The account finished a sync that started folders: write its
 * intermediate file (and the list with 'incremental'). */
int mbnames_account_done(struct mbnames *mb, const char *account,
			 struct oim_err *err) OIM_WUR;
/* Write the list from every intermediate file. */
int mbnames_write(struct mbnames *mb, struct oim_err *err) OIM_WUR;
/* --mbnames-prune: remove the intermediate files of accounts not in
 * 'accounts' (all of them when mbnames is disabled: mb NULL). */
int mbnames_prune(struct mbnames *mb, struct config *cfg, const char *metadata,
		  const char *const *accounts, size_t n,
		  struct oim_err *err) OIM_WUR;

/* JSON helpers, for tests: parse an intermediate file's text into items
 * (3 strings per item: accountname, foldername, localfolders), and format
 * one peritem. */
int mbnames_parse_json(const char *text, size_t len, char ***items_r,
		       size_t *n_r, struct oim_err *err) OIM_WUR;
int mbnames_format_item(const char *peritem, const char *const *item,
			char **out_r, struct oim_err *err) OIM_WUR;

#endif
