/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sync-folder-probe - run sync_folder() on one folder pair, for
 * tests/integration/test_sync_folder.py (before and beside the CLI).
 *
 *   sync-folder-probe [options] METADATA_DIR MAILDIR_ROOT FOLDER
 *
 * The remote side is IMAP: --tunnel CMD (a PREAUTH command), or --host H
 * --port P --user U with the password in $OIMAP_PROBE_PASSWORD (never on
 * the command line).  The local side is the Maildir MAILDIR_ROOT; the
 * local folder has the same name as the remote one ('/' kept: use
 * --sep / for nested names).  Account "Test", repositories "Remote" and
 * "Local" unless --account / --remote-repo / --local-repo.
 *
 * Options: --readonly-remote --readonly-local --no-deletes-remote
 * --no-deletes-local --quick --dry-run --expunge --no-fsync --plain
 * (status backend) --valve-off --stop-after N --debug.
 *
 * Prints one line "rc=<0|1> copy_remote=.. copy_local=.. del_remote=..
 * del_local=.. flags_remote=.. flags_local=.. link=.. forget=..
 * held_valve=.. failed=.. quick_skipped=<0|1> unchanged_skipped=<0|1>" and, on
 * failure, "error kind=<kind> sev=<n>: <message>".  Exit status 0, 1 on a sync
 * error, 2 on bad usage, 77 from --stop-after.
 */
#include <getopt.h>
#include <limits.h>

#include "status/status.h"
#include "store/store.h"
#include "sync/sync.h"
#include "util/log.h"

static int usage(void)
{
	fprintf(stderr, "usage: sync-folder-probe [options] METADATA_DIR "
			"MAILDIR_ROOT FOLDER\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct oim_err err = OIM_ERR_INIT;
	struct store_imap_opts io = {0};
	struct store_maildir_opts mo = {0};
	struct sync_folder_job job = {0};
	struct sync_folder_result res;
	struct sync_plan_opts popts = SYNC_PLAN_OPTS_INIT;
	struct store *remote = NULL, *local = NULL;
	const char *account = "Test", *rrepo = "Remote", *lrepo = "Local";
	char sep = '.';
	bool fsync_on = true;
	enum status_backend backend = STATUS_BACKEND_SQLITE;
	unsigned long stop_after = 0;
	int ret = 1;

	static const struct option lo[] = {
	    {"tunnel", required_argument, NULL, 't'},
	    {"host", required_argument, NULL, 'h'},
	    {"port", required_argument, NULL, 'p'},
	    {"user", required_argument, NULL, 'u'},
	    {"account", required_argument, NULL, 'a'},
	    {"remote-repo", required_argument, NULL, 'R'},
	    {"local-repo", required_argument, NULL, 'L'},
	    {"sep", required_argument, NULL, 's'},
	    {"readonly-remote", no_argument, NULL, 1},
	    {"readonly-local", no_argument, NULL, 2},
	    {"no-deletes-remote", no_argument, NULL, 3},
	    {"no-deletes-local", no_argument, NULL, 4},
	    {"quick", no_argument, NULL, 5},
	    {"dry-run", no_argument, NULL, 6},
	    {"expunge", no_argument, NULL, 7},
	    {"no-fsync", no_argument, NULL, 8},
	    {"plain", no_argument, NULL, 9},
	    {"valve-off", no_argument, NULL, 10},
	    {"stop-after", required_argument, NULL, 11},
	    {"debug", no_argument, NULL, 12},
	    {NULL, 0, NULL, 0},
	};
	int c;
	uint64_t v;

	io.timeout_s = 30;
	io.reference = "";
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 't':
			io.preauth_tunnel = optarg;
			break;
		case 'h':
			io.host = optarg;
			break;
		case 'p':
			if (oim_parse_u64(optarg, strlen(optarg), 65535, &v) <
			    0)
				return usage();
			io.port = (unsigned)v;
			break;
		case 'u':
			io.user = optarg;
			break;
		case 'a':
			account = optarg;
			break;
		case 'R':
			rrepo = optarg;
			break;
		case 'L':
			lrepo = optarg;
			break;
		case 's':
			sep = optarg[0];
			break;
		case 1:
			popts.readonly[SYNC_REMOTE] = true;
			break;
		case 2:
			popts.readonly[SYNC_LOCAL] = true;
			break;
		case 3:
			popts.no_sync_deletes[SYNC_REMOTE] = true;
			break;
		case 4:
			popts.no_sync_deletes[SYNC_LOCAL] = true;
			break;
		case 5:
			popts.quick = true;
			break;
		case 6:
			job.dry_run = true;
			break;
		case 7:
			job.expunge = true;
			break;
		case 8:
			fsync_on = false;
			break;
		case 9:
			backend = STATUS_BACKEND_PLAIN;
			break;
		case 10:
			popts.valve_off = true;
			break;
		case 11:
			if (oim_parse_u64(optarg, strlen(optarg), ULONG_MAX,
					  &v) < 0)
				return usage();
			stop_after = (unsigned long)v;
			break;
		case 12:
			log_set_debug(OIM_DBG_ALL);
			break;
		default:
			return usage();
		}
	}
	if (argc - optind != 3)
		return usage();
	const char *metadata = argv[optind], *root = argv[optind + 1];
	const char *folder = argv[optind + 2];

	io.repo = rrepo;
	io.password = getenv("OIMAP_PROBE_PASSWORD");
	io.readonly = popts.readonly[SYNC_REMOTE];
	mo.repo = lrepo;
	mo.root = root;
	mo.sep = sep;
	mo.fsync = fsync_on;
	mo.readonly = popts.readonly[SYNC_LOCAL];

	if (store_imap_open(&remote, &io, &err) < 0 ||
	    store_maildir_open(&local, &mo, &err) < 0)
		goto out;

	char *account_dir = status_account_dir(metadata, account);
	char *status_name = status_name_from_remote(folder, '/');
	job.account = account;
	job.metadata_dir = metadata;
	job.account_dir = account_dir;
	job.remote = remote;
	job.local = local;
	job.remote_name = folder;
	job.local_name = folder;
	job.local_visible = folder;
	job.status_name = status_name;
	job.backend = backend;
	popts.expunge = job.expunge;
	job.plan = popts;
	job.fsync = fsync_on;
	job.stop_after_step = stop_after;

	int r = sync_folder(&job, &res, &err);
	printf("rc=%d copy_remote=%zu copy_local=%zu del_remote=%zu "
	       "del_local=%zu flags_remote=%zu flags_local=%zu link=%zu "
	       "forget=%zu held_valve=%zu failed=%zu quick_skipped=%d "
	       "unchanged_skipped=%d\n",
	       r < 0, res.sum.copy[SYNC_REMOTE], res.sum.copy[SYNC_LOCAL],
	       res.sum.del[SYNC_REMOTE], res.sum.del[SYNC_LOCAL],
	       res.sum.flags[SYNC_REMOTE], res.sum.flags[SYNC_LOCAL],
	       res.sum.link, res.sum.forget, res.sum.held_valve,
	       res.failed_messages, res.quick_skipped, res.unchanged_skipped);
	free(account_dir);
	free(status_name);
	if (r == 0)
		ret = 0;
out:
	if (ret)
		printf("error kind=%s sev=%d: %s\n",
		       oim_err_kind_name(err.kind), (int)err.sev, err.msg);
	fflush(stdout);
	store_close(local);
	store_close(remote);
	return ret;
}
