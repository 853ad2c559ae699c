/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * main.h - the parsed command line, shared by main.c and run/.
 */
#ifndef OIMAP_MAIN_H
#define OIMAP_MAIN_H

#include <stdbool.h>
#include <stddef.h>

struct config;

/*
 * Strings point into argv (borrowed for the life of the process).  main()
 * sets single_thread when -d (without 'thread') or -P force it, as
 * OfflineIMAP does, before calling oim_sync_main().
 */
struct oim_options {
	bool single_thread; /* -1 */
	const char *profile_dir; /* -P */
	const char *accounts;	 /* -a, comma list */
	const char *config_file; /* -c */
	const char *debug_types; /* -d */
	const char *folders;	 /* -f, comma list */
	const char **overrides;	 /* -k, in order */
	size_t n_overrides, alloc_overrides;
	const char *log_file; /* -l */
	bool syslog;	      /* -s */
	bool run_once;	      /* -o */
	bool quick;	      /* -q */
	const char *ui;	      /* -u */
	bool full_version;    /* -V */
	bool version;	      /* --version */
	bool help;	      /* -h */
	bool dry_run;
	bool info;
	const char *delete_folder;
	bool migrate_fmd5;
	bool mbnames_prune;
	/* hidden --debug-stop-after-step=N: the sync stops the process
	 * with _exit(77) after the N-th step (sync.h); 0 = off */
	unsigned long debug_stop_after_step;
	/* Filled by main() before oim_sync_main(), not by the parser: */
	const char *ui_name; /* canonical UI: -u, else [general] ui */
};

/* Parse argv; on a bad command line print the usage line and the problem
 * on stderr and return -1 (the caller exits 2). */
int oim_parse_args(int argc, char **argv, struct oim_options *o);
void oim_options_release(struct oim_options *o);
/* The configuration file path (malloc'd) for -c 'opt' (may be NULL). */
char *oim_config_path(const char *opt);

/* Sync everything the options ask for; returns the exit code. */
int oim_sync_main(struct config *cfg, const struct oim_options *o);
/* Library versions, for -V. */
const char *oim_build_info(void);

#endif
