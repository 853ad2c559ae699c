/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * main.c - OfflineIMAP's command line, wiring and exit codes.
 *
 * Exit codes: 0 everything synced; 1 something failed (config, a folder,
 * an account); 2 bad command line (as Python's optparse).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "main.h"
#include "util/err.h"
#include "util/log.h"
#include "util/strbuf.h"
#include "util/util.h"
#include "version.h"

#define EXIT_USAGE 2

static const char usage_line[] =
	"usage: oimap [-1] [-P DIR] [-a ACCOUNTS] [-c FILE] [-d TYPES] "
	"[-f FOLDERS] [-k [SECTION:]OPTION=VALUE] [-l FILE] [-s] [-o] [-q] "
	"[-u UI] [--dry-run] [--info] [-V] [--version] [-h]";

static const char help_text[] =
	"oimap: OfflineIMAP rebuilt in C -- two-way IMAP/Maildir sync.\n"
	"\n"
	"Options:\n"
	"  --version             show the version number and exit\n"
	"  -h, --help            show this help message and exit\n"
	"  -V                    show full version information\n"
	"  --dry-run             dry run mode: change nothing, say what would be done\n"
	"  --info                print the configured accounts and repositories\n"
	"                        (connects nowhere)\n"
	"  -1                    (the number one) one connection, no threads\n"
	"  -P DIR                profile mode: write timing data into DIR\n"
	"  -a ACCOUNT[,ACCOUNT...]\n"
	"                        sync only these accounts\n"
	"  -c FILE               configuration file (default ~/.offlineimaprc, or\n"
	"                        $XDG_CONFIG_HOME/offlineimap/config)\n"
	"  -d TYPE[,TYPE...]     debug output: imap, maildir, thread, net, sync,\n"
	"                        config, status, all (forces -1 unless 'thread')\n"
	"  -l FILE               also log to FILE\n"
	"  -s                    also log to syslog\n"
	"  -f FOLDER[,FOLDER...] sync only these folders\n"
	"  -k [SECTION:]OPTION=VALUE\n"
	"                        override a configuration option (repeatable; '_'\n"
	"                        in SECTION stands for a space; default [general])\n"
	"  -o                    run only once (ignore autorefresh)\n"
	"  -q                    quick sync: new mail only, do not update flags\n"
	"  -u UI                 user interface: quiet, basic, syslog, ttyui,\n"
	"                        blinkenlights, machineui\n"
	"  --delete-folder=FOLDER\n"
	"                        delete a folder on the remote repository\n"
	"  --migrate-fmd5-using-nametrans\n"
	"                        migrate FMD5 hashes from versions prior to 6.3.5\n"
	"  --mbnames-prune       remove mbnames entries of accounts not in accounts\n"
	"\n"
	"See oimap(1) and oimaprc(5).\n";

static const char *const ui_names[] = {
	"quiet", "basic", "syslog", "ttyui", "blinkenlights", "machineui",
};

enum {
	OPT_DRY_RUN = 256,
	OPT_INFO,
	OPT_VERSION,
	OPT_DELETE_FOLDER,
	OPT_MIGRATE_FMD5,
	OPT_MBNAMES_PRUNE,
	OPT_DEBUG_STOP_AFTER_STEP,
};

static const struct option long_opts[] = {
	{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
	{ "info", no_argument, NULL, OPT_INFO },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "help", no_argument, NULL, 'h' },
	{ "delete-folder", required_argument, NULL, OPT_DELETE_FOLDER },
	{ "migrate-fmd5-using-nametrans", no_argument, NULL, OPT_MIGRATE_FMD5 },
	{ "mbnames-prune", no_argument, NULL, OPT_MBNAMES_PRUNE },
	/* hidden, for the crash-resume tests: not in --help */
	{ "debug-stop-after-step", required_argument, NULL,
	  OPT_DEBUG_STOP_AFTER_STEP },
	{ NULL, 0, NULL, 0 },
};

void oim_options_release(struct oim_options *o)
{
	free(o->overrides);
	memset(o, 0, sizeof(*o));
}

int oim_parse_args(int argc, char **argv, struct oim_options *o)
{
	int c;
	memset(o, 0, sizeof(*o));
	opterr = 0;
	optind = 1;
	/* '+': stop at the first non-option, as optparse keeps order; ':'
	 * first so a missing argument is reported as such. */
	while ((c = getopt_long(argc, argv, "+:1P:a:c:d:f:k:l:soqu:Vh",
				long_opts, NULL)) != -1) {
		switch (c) {
		case '1':
			o->single_thread = true;
			break;
		case 'P':
			o->profile_dir = optarg;
			break;
		case 'a':
			o->accounts = optarg;
			break;
		case 'c':
			o->config_file = optarg;
			break;
		case 'd':
			o->debug_types = optarg;
			break;
		case 'f':
			o->folders = optarg;
			break;
		case 'k':
			ALLOC_GROW(o->overrides, o->n_overrides,
				   o->alloc_overrides);
			o->overrides[o->n_overrides++] = optarg;
			break;
		case 'l':
			o->log_file = optarg;
			break;
		case 's':
			o->syslog = true;
			break;
		case 'o':
			o->run_once = true;
			break;
		case 'q':
			o->quick = true;
			break;
		case 'u':
			o->ui = optarg;
			break;
		case 'V':
			o->full_version = true;
			break;
		case 'h':
			o->help = true;
			break;
		case OPT_DRY_RUN:
			o->dry_run = true;
			break;
		case OPT_INFO:
			o->info = true;
			break;
		case OPT_VERSION:
			o->version = true;
			break;
		case OPT_DELETE_FOLDER:
			o->delete_folder = optarg;
			break;
		case OPT_MIGRATE_FMD5:
			o->migrate_fmd5 = true;
			break;
		case OPT_MBNAMES_PRUNE:
			o->mbnames_prune = true;
			break;
		case OPT_DEBUG_STOP_AFTER_STEP: {
			uint64_t n = 0;
			if (oim_parse_u64(optarg, strlen(optarg), ULONG_MAX,
					  &n)) {
				fprintf(stderr,
					"%s\noimap: error: "
					"--debug-stop-after-step wants a "
					"number, not '%s'\n",
					usage_line, optarg);
				return -1;
			}
			o->debug_stop_after_step = (unsigned long)n;
			break;
		}
		case ':':
			if (optopt)
				fprintf(stderr,
					"%s\noimap: error: -%c option requires "
					"an argument\n",
					usage_line, optopt);
			else
				fprintf(stderr,
					"%s\noimap: error: %s option requires "
					"an argument\n",
					usage_line, argv[optind - 1]);
			return -1;
		default:
			if (optopt && optopt < 256)
				fprintf(stderr,
					"%s\noimap: error: no such option: -%c\n",
					usage_line, optopt);
			else
				fprintf(stderr,
					"%s\noimap: error: no such option: %s\n",
					usage_line, argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s\noimap: error: unexpected argument '%s'\n",
			usage_line, argv[optind]);
		return -1;
	}
	return 0;
}

/* os.path.expanduser(): "~" and "~/x" from $HOME, "~user/x" from passwd. */
static char *expand_user(const char *p, const char *home)
{
	if (p[0] != '~')
		return xstrdup(p);
	size_t n = strcspn(p + 1, "/");
	if (n == 0)
		return xasprintf("%s%s", home, p + 1);
	char *user = xstrndup(p + 1, n);
	struct passwd *pw = getpwnam(user);
	free(user);
	if (!pw)
		return xstrdup(p);
	return xasprintf("%s%s", pw->pw_dir, p + 1 + n);
}

/* The config file OfflineIMAP would read (init.py): -c FILE ('~'
 * expanded), else $XDG_CONFIG_HOME/offlineimap/config (XDG_CONFIG_HOME
 * defaulting to ~/.config) if it exists, else ~/.offlineimaprc. */
char *oim_config_path(const char *opt)
{
	const char *home = getenv("HOME");
	if (!home || !*home)
		home = "/";
	if (opt)
		return expand_user(opt, home);
	const char *xdg = getenv("XDG_CONFIG_HOME");
	char *path = (xdg && *xdg)
			     ? xasprintf("%s/offlineimap/config", xdg)
			     : xasprintf("%s/.config/offlineimap/config", home);
	if (access(path, F_OK) == 0)
		return path;
	free(path);
	return xasprintf("%s/.offlineimaprc", home);
}

static bool ui_known(const char *ui, const char **canon_r)
{
	/* Old names such as Curses.Blinkenlights: keep what follows the dot,
	 * as OfflineIMAP does. */
	const char *dot = strrchr(ui, '.');
	if (dot)
		ui = dot + 1;
	for (size_t i = 0; i < ARRAY_SIZE(ui_names); i++)
		if (!oim_strcasecmp(ui, ui_names[i])) {
			*canon_r = ui_names[i];
			return true;
		}
	return false;
}

/* 'thread' among the -d types, as Python's "'thread' in d.split(',')"
 * ('all' stands for imap,maildir,thread). */
static bool debug_has_thread(const char *types)
{
	if (!oim_strcasecmp(types, "all"))
		return true;
	const char *p = types;
	for (;;) {
		const char *c = strchr(p, ',');
		size_t n = c ? (size_t)(c - p) : strlen(p);
		if (n == 6 && !memcmp(p, "thread", 6))
			return true;
		if (!c)
			return false;
		p = c + 1;
	}
}

/* The command line's changes to the config, in OfflineIMAP's order:
 * -k, --dry-run, -o, -q, -f, then the -a selection. */
static int apply_options(struct config *cfg, const struct oim_options *o,
			 struct oim_err *err)
{
	for (size_t i = 0; i < o->n_overrides; i++)
		if (config_apply_override(cfg, o->overrides[i], err))
			return -1;
	if (o->dry_run)
		config_set_dry_run(cfg);
	if (o->run_once)
		config_set_run_once(cfg);
	if (o->quick)
		config_set_quick(cfg);
	/* An empty -f or -a is ignored, as optparse's "" is false. */
	if (o->folders && *o->folders)
		config_set_folders(cfg, o->folders);
	if (o->accounts && *o->accounts)
		config_select_accounts(cfg, o->accounts);
	return 0;
}

static int run(struct oim_options *o)
{
	struct oim_err err = OIM_ERR_INIT;
	struct config_cmdline cl;
	int rc = 1;

	memset(&cl, 0, sizeof(cl));
	if (o->single_thread)
		cl.single_thread_why = "-1";
	if (o->debug_types) {
		unsigned mask = 0;
		if (log_parse_debug_types(o->debug_types, &mask, &err))
			log_warn("%s", err.msg);
		log_set_debug(mask);
		/* OfflineIMAP: debugging forces single-threading unless
		 * 'thread' is among the types. */
		if (!o->single_thread && !debug_has_thread(o->debug_types)) {
			o->single_thread = true;
			cl.single_thread_why = "forced by -d without 'thread'";
		}
	}
	if (o->log_file && log_open_file(o->log_file, &err)) {
		log_err(&err);
		return 1;
	}
	if (o->profile_dir && !o->single_thread) {
		log_warn("profile mode: forcing single-threaded");
		o->single_thread = true;
		cl.single_thread_why = "forced by -P";
	}

	char *path = oim_config_path(o->config_file);
	struct config *cfg = config_new();
	if (access(path, F_OK) != 0) {
		log_error("config file '%s' does not exist; aborting", path);
		goto out;
	}
	if (config_read_file(cfg, path, &err) || apply_options(cfg, o, &err)) {
		log_err(&err);
		goto out;
	}

	const char *ui = NULL, *canon = NULL;
	if (config_get_str(cfg, "general", "ui", "ttyui", &ui, &err)) {
		log_err(&err);
		goto out;
	}
	cl.ui_from = config_has_option(cfg, "general", "ui")
			     ? "[general] ui"
			     : "default";
	if (o->ui) {
		ui = o->ui;
		cl.ui_from = "-u";
	}
	if (!ui_known(ui, &canon)) {
		log_error("UI '%s' does not exist, choose one of: quiet, basic, "
			  "syslog, ttyui, blinkenlights, machineui",
			  ui);
		goto out;
	}
	if (strchr(ui, '.'))
		log_warn("using the old interface name '%s'; consider '%s'", ui,
			 canon);
	if (!strcmp(canon, "quiet"))
		log_set_level(OIM_LOG_ERROR);
	/* Noninteractive.Syslog: basic's lines to syslog instead of the
	 * terminal (and -s is not needed then); -s: to syslog as well */
	if (!strcmp(canon, "syslog"))
		log_set_syslog(true, true);
	else if (o->syslog)
		log_set_syslog(true, false);
	o->ui_name = canon;

	if (config_validate(cfg, &err)) {
		log_err(&err);
		goto out;
	}

	/* Only once the config is known good: a broken one touches
	 * nothing. */
	if (o->profile_dir) {
		if (mkdir(o->profile_dir, 0700) == 0) {
			log_warn("profile mode: timing data goes to '%s'",
				 o->profile_dir);
		} else if (errno == EEXIST) {
			log_warn("profile mode: directory '%s' already exists",
				 o->profile_dir);
		} else {
			log_error("cannot create profile directory '%s': %s",
				  o->profile_dir, strerror(errno));
			goto out;
		}
	}

	if (o->info) {
		cl.accounts = (o->accounts && *o->accounts) ? o->accounts : NULL;
		cl.folders = (o->folders && *o->folders) ? o->folders : NULL;
		cl.quick = o->quick;
		cl.run_once = o->run_once;
		cl.dry_run = o->dry_run;
		cl.syslog = o->syslog;
		cl.single_thread = o->single_thread;
		cl.debug_types = o->debug_types;
		cl.log_file = o->log_file;
		cl.profile_dir = o->profile_dir;
		cl.ui = canon;
		cl.overrides = o->overrides;
		cl.n_overrides = o->n_overrides;
		if (config_print_info(cfg, &cl, stdout, &err)) {
			log_err(&err);
			goto out;
		}
		fflush(stdout);
		rc = 0;
		goto out;
	}

	rc = oim_sync_main(cfg, o);
out:
	config_free(cfg);
	free(path);
	log_close_file();
	return rc;
}

int main(int argc, char **argv)
{
	struct oim_options o;
	if (oim_parse_args(argc, argv, &o)) {
		oim_options_release(&o);
		return EXIT_USAGE;
	}
	if (o.help) {
		fputs(usage_line, stdout);
		fputs("\n\n", stdout);
		fputs(help_text, stdout);
		oim_options_release(&o);
		return 0;
	}
	if (o.version) {
		printf("%s\n", OIMAP_VERSION);
		oim_options_release(&o);
		return 0;
	}
	if (o.full_version) {
		printf("oimap v%s (OfflineIMAP-compatible, C), %s\n",
		       OIMAP_VERSION, oim_build_info());
		oim_options_release(&o);
		return 0;
	}
	int rc = run(&o);
	oim_options_release(&o);
	return rc;
}
