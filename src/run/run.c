/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * run.c - account scheduling: one thread per account, at most
 * maxsyncaccounts syncing at a time; for each sync the account lock,
 * presynchook, sync_account, postsynchook; with autorefresh, sleep and
 * sync again until SIGINT / SIGTERM (OfflineIMAP's accounts.py
 * syncrunner, simplified: quick syncs between full ones as 'quick = N').
 *
 * Signals: SIGINT, SIGTERM, SIGUSR2 and SIGHUP are blocked in every
 * thread and taken by one signal thread with sigwait(), so no system
 * call anywhere is interrupted: the first one asks everything to stop
 * after the folders in progress; a second SIGINT or SIGTERM kills the
 * process at once (the sync is crash-safe by design).  SIGUSR1 ends the
 * autorefresh sleeps early (OfflineIMAP: "sync now").
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/opensslv.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "../config/config.h"
#include "../main.h"
#include "../pyeval/pyeval.h"
#include "../sync/account.h"
#include "../sync/sync.h"
#include "../ui/ui.h"
#include "../util/log.h"
#include "../util/strbuf.h"
#include "../util/util.h"
#include "lock.h"
#include "mbnames.h"
#include "passwords.h"
#include "run.h"

extern char **environ;

struct runner {
	struct config *cfg;
	const struct oim_options *o;
	const char *metadata;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned slots; /* accounts that may start syncing now */
	bool stop;
	unsigned wake_gen;  /* SIGUSR1s so far: end (or skip) the sleeps */
	bool exiting;	    /* tells the signal thread to return */
	struct mbnames *mb; /* NULL unless [mbnames] enabled */
	bool failed;
};

struct acct_thread {
	struct runner *r;
	const struct config_account *a;
	pthread_t tid;
	unsigned quicknum;
	unsigned fails; /* account-level failures in a row */
	unsigned wake_seen; /* r->wake_gen this account's sleeps consumed */
	/* IDLE (idle_dirty, idle_ready, idle_stop under r->mu) */
	char **idle_folders; /* NULL-terminated; NULL: none */
	bool *idle_dirty;    /* per folder: the server reported a change */
	bool *idle_ready;    /* per folder: EXAMINEd (or failed) once */
	bool idle_stop;
	struct idler *idlers;
	size_t nidlers;
	int idle_pipe[2];
};

/* ---- hooks ---- */

int run_hook(const char *account, const char *cmd, bool dry_run, int *status_r,
	     struct oim_err *err)
{
	int fds[2];
	pid_t pid;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none;
	char *argv[] = {(char *)"/bin/sh", (char *)"-c", (char *)cmd, NULL};
	struct strbuf out = STRBUF_INIT;
	char buf[4096];
	int st = 0, rc;

	*status_r = 0;
	ui_hook(account, "Calling hook: ", cmd);
	if (dry_run)
		return 0;
	if (pipe(fds))
		return oim_error(err, OIM_SEV_ACCOUNT, OIM_E_IO,
				 "hook '%s': pipe: %s", cmd, strerror(errno));
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	posix_spawn_file_actions_addclose(&fa, fds[0]);
	posix_spawn_file_actions_addclose(&fa, fds[1]);
	/* The hook gets the default signal mask and dispositions, not the
	 * signal thread's blocked set. */
	posix_spawnattr_init(&at);
	sigemptyset(&none);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK);
	rc = posix_spawn(&pid, "/bin/sh", &fa, &at, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(fds[1]);
	if (rc) {
		close(fds[0]);
		return oim_error(err, OIM_SEV_ACCOUNT, OIM_E_IO,
				 "hook '%s': cannot run /bin/sh: %s", cmd,
				 strerror(rc));
	}
	for (;;) {
		ssize_t n = read(fds[0], buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		/* keep the first RUN_HOOK_MAX_OUTPUT bytes, drain the rest */
		if (out.len < RUN_HOOK_MAX_OUTPUT)
			strbuf_add(&out, buf, (size_t)n);
	}
	close(fds[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	strbuf_rtrim(&out);
	if (out.len)
		ui_hook(account, "Hook stdout: ", out.buf);
	strbuf_release(&out);
	*status_r = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	if (*status_r)
		log_warn("Account %s: hook '%s' returned %d", account, cmd,
			 *status_r);
	return 0;
}

static void call_hook(struct runner *r, const struct config_account *a,
		      const char *option, bool dry_run)
{
	struct oim_err err = OIM_ERR_INIT;
	const char *cmd = NULL;
	int st;
	if (config_get_str(r->cfg, a->section, option, NULL, &cmd, &err)) {
		ui_account_error(a->name, &err);
		return;
	}
	if (!cmd || !*cmd || sync_account_stop_requested())
		return;
	/* OfflineIMAP reports a failing hook and goes on. */
	if (run_hook(a->name, cmd, dry_run, &st, &err))
		ui_account_error(a->name, &err);
}

/* ---- one sync of one account ---- */

static bool dry_run_of(struct runner *r)
{
	bool dry = false;
	struct oim_err err = OIM_ERR_INIT;
	if (config_get_bool(r->cfg, "general", "dry-run", false, &dry, &err))
		dry = false;
	return dry || r->o->dry_run;
}

/* accounts.py: quick = N > 0 makes N quick syncs after each full one. */
static int next_quick(struct acct_thread *t)
{
	struct oim_err err = OIM_ERR_INIT;
	long q = 0;
	if (config_get_int(t->r->cfg, t->a->section, "quick", 0, &q, &err))
		q = 0;
	if (q < 0)
		return 1;
	if (q == 0)
		return 0;
	if (t->quicknum == 0 || t->quicknum > (unsigned long)q) {
		t->quicknum = 1;
		return 0;
	}
	t->quicknum++;
	return 1;
}

/* One sync (of the folders 'only', NULL: all); false on any failure,
 * *account_failed_r when the account as a whole failed (not only some
 * folders). */
static bool sync_once(struct acct_thread *t, const char *const *only,
		      bool *account_failed_r)
{
	struct runner *r = t->r;
	const struct config_account *a = t->a;
	struct account_lock lk = {.fd = -1, .path = NULL};
	struct oim_err err = OIM_ERR_INIT;
	/* IdleThread.__dosync: a full (not quick) sync of the folder */
	struct sync_account_opts ao = {.quick = only ? 0 : next_quick(t),
				       .only_folders = only};
	struct sync_account_stats stats;
	struct timespec t0, t1;
	bool dry = dry_run_of(r);
	bool ok;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	*account_failed_r = false;
	if (account_lock_take(&lk, r->metadata, a->name, &err)) {
		ui_account_error(a->name, &err);
		*account_failed_r = true;
		return false;
	}
	ui_account_start(a->name, dry);
	call_hook(r, a, "presynchook", dry);
	ok = sync_account_run(r->cfg, r->o, a->name, &ao, &stats, &err) == 0;
	*account_failed_r = !ok && err.sev >= OIM_SEV_ACCOUNT;
	/* accounts.py: the mailbox names of an account that started
	 * folders, written even when some failed */
	/* (an IDLE sync of some folders leaves the list as it is) */
	if (r->mb && stats.n_local_folders && !only) {
		struct oim_err e = OIM_ERR_INIT;
		for (size_t i = 0; i < stats.n_local_folders; i++)
			mbnames_add(r->mb, a->name, stats.local_root,
				    stats.local_folders[i]);
		if (mbnames_account_done(r->mb, a->name, &e)) {
			log_err(&e);
			ok = false;
		}
	}
	sync_account_stats_release(&stats);
	/* accounts.py: postsynchook only after a sync that went through */
	if (ok)
		call_hook(r, a, "postsynchook", dry);
	account_lock_release(&lk);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ui_account_done(a->name, ok,
			(double)(t1.tv_sec - t0.tv_sec) +
			    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	return ok;
}

/* autorefresh in minutes, or 0 for "sync once". */
static double refresh_minutes(struct runner *r, const struct config_account *a)
{
	struct oim_err err = OIM_ERR_INIT;
	double m = 0;
	if (r->o->run_once ||
	    !config_has_option(r->cfg, a->section, "autorefresh"))
		return 0;
	if (config_get_float(r->cfg, a->section, "autorefresh", 0, &m, &err)) {
		ui_account_error(a->name, &err);
		return 0;
	}
	return m > 0 ? m : 0;
}

/* ---- IDLE (idlefolders) ----
 *
 * With autorefresh, one thread per idle folder keeps a connection in IDLE
 * on it for as long as the account loops (imapserver.py IdleThread).
 * When the server reports a change the folder is marked, and the account
 * thread, in its autorefresh sleep, syncs the marked folders (with the
 * hooks, as IdleThread.__dosync does).  The idlers EXAMINE their folder
 * before the first sync starts and never leave it, so no change can fall
 * between a sync and the IDLE: a change during a sync marks the folder
 * again, and the next (possibly empty) sync takes it.  The idlers are
 * woken through a pipe when the account loop ends.
 *
 * oimap: OfflineIMAP only idles in the sleep and only with 'keepalive'
 * set, and can miss mail that arrives between a sync and its IDLE.
 */
struct idler {
	struct acct_thread *t;
	size_t idx;
	int wake_fd;
	pthread_t tid;
};

/* Wait (r->mu held) for secs seconds or until the idlers must stop. */
static void idle_pause(struct runner *r, struct acct_thread *t, unsigned secs)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += (time_t)secs;
	while (!t->idle_stop &&
	       pthread_cond_timedwait(&r->cv, &r->mu, &until) != ETIMEDOUT)
		;
}

static void idle_mark(struct acct_thread *t, size_t idx, bool dirty)
{
	struct runner *r = t->r;
	pthread_mutex_lock(&r->mu);
	if (dirty)
		t->idle_dirty[idx] = true;
	t->idle_ready[idx] = true;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

static bool idle_stopping(struct acct_thread *t)
{
	pthread_mutex_lock(&t->r->mu);
	bool stop = t->idle_stop;
	pthread_mutex_unlock(&t->r->mu);
	return stop;
}

static void *idler_main(void *arg)
{
	struct idler *id = arg;
	struct acct_thread *t = id->t;
	struct runner *r = t->r;
	const char *folder = t->idle_folders[id->idx];
	bool again = false; /* changes may have been missed: sync after */

	while (!idle_stopping(t)) {
		struct oim_err err = OIM_ERR_INIT;
		struct sync_idle *si = NULL;
		bool changed = false;

		int wrc = -1;

		if (sync_idle_open(r->cfg, r->o, t->a->name, folder, &si,
				   &err) == 0) {
			idle_mark(t, id->idx, again);
			while (!(wrc = sync_idle_wait(si, RUN_IDLE_RENEW_S,
						      id->wake_fd, &changed,
						      &err))) {
				if (idle_stopping(t))
					break;
				if (!changed)
					continue; /* renewed */
				log_debug(OIM_DBG_IMAP,
					  "Account %s: IDLE: folder %s changed",
					  t->a->name, folder);
				idle_mark(t, id->idx, true);
			}
			sync_idle_close(si);
			if (idle_stopping(t))
				break;
		}
		if (wrc > 0) {
			/* imapserver.py: said once, then the folder waits
			 * for the autorefresh (no reconnecting every minute) */
			log_warn("Account %s: no IDLE on folder %s: %s",
				 t->a->name, folder, err.msg);
			break;
		}
		log_warn("Account %s: IDLE on folder %s: %s; trying again in "
			 "%u seconds",
			 t->a->name, folder, err.msg, RUN_IDLE_RETRY_S);
		again = true;
		idle_mark(t, id->idx, false); /* do not hold up the sync */
		pthread_mutex_lock(&r->mu);
		idle_pause(r, t, RUN_IDLE_RETRY_S);
		pthread_mutex_unlock(&r->mu);
	}
	return NULL;
}

static size_t idle_count(const struct acct_thread *t)
{
	size_t n = 0;
	while (t->idle_folders && t->idle_folders[n])
		n++;
	return n;
}

/* Start the idlers (autorefresh with idlefolders) and wait until each
 * has EXAMINEd its folder or failed. */
static void idle_start(struct acct_thread *t)
{
	struct runner *r = t->r;
	struct oim_err err = OIM_ERR_INIT;
	size_t n;

	if (sync_account_idlefolders(r->cfg, t->a->name, &t->idle_folders,
				     &err)) {
		ui_account_error(t->a->name, &err);
		t->idle_folders = NULL;
	}
	n = idle_count(t);
	if (!n || pipe(t->idle_pipe) < 0) {
		if (n)
			log_warn("Account %s: no IDLE: cannot make a pipe: %s",
				 t->a->name, strerror(errno));
		/* nothing idles: no folder list without its marks */
		if (t->idle_folders)
			pyeval_strlist_free(t->idle_folders);
		t->idle_folders = NULL;
		t->idle_pipe[0] = t->idle_pipe[1] = -1;
		return;
	}
	t->idle_dirty = xcalloc(n, sizeof(*t->idle_dirty));
	t->idle_ready = xcalloc(n, sizeof(*t->idle_ready));
	t->idlers = xcalloc(n, sizeof(*t->idlers));
	for (size_t i = 0; i < n; i++) {
		struct idler *id = &t->idlers[t->nidlers];
		*id = (struct idler){t, i, t->idle_pipe[0], 0};
		if (pthread_create(&id->tid, NULL, idler_main, id)) {
			log_warn("Account %s: cannot start an IDLE thread for "
				 "folder %s",
				 t->a->name, t->idle_folders[i]);
			t->idle_ready[i] = true;
			continue;
		}
		t->nidlers++;
	}
	pthread_mutex_lock(&r->mu);
	for (size_t i = 0; i < n && !r->stop; i++)
		while (!t->idle_ready[i] && !r->stop)
			pthread_cond_wait(&r->cv, &r->mu);
	pthread_mutex_unlock(&r->mu);
}

static void idle_stop(struct acct_thread *t)
{
	struct runner *r = t->r;
	pthread_mutex_lock(&r->mu);
	t->idle_stop = true;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
	if (t->idle_pipe[1] >= 0) {
		/* every idler polls the read end: one byte wakes them all */
		while (write(t->idle_pipe[1], "x", 1) < 0 && errno == EINTR)
			;
	}
	for (size_t i = 0; i < t->nidlers; i++)
		pthread_join(t->idlers[i].tid, NULL);
	if (t->idle_pipe[0] >= 0) {
		close(t->idle_pipe[0]);
		close(t->idle_pipe[1]);
	}
	if (t->idle_folders)
		pyeval_strlist_free(t->idle_folders);
	free(t->idle_dirty);
	free(t->idle_ready);
	free(t->idlers);
}

/* A full sync covers every folder: changes seen before it are taken. */
static void idle_clear(struct acct_thread *t)
{
	pthread_mutex_lock(&t->r->mu);
	for (size_t i = 0; i < idle_count(t); i++)
		t->idle_dirty[i] = false;
	pthread_mutex_unlock(&t->r->mu);
}

/* Sync the folders the idlers marked (r->mu held; dropped meanwhile).
 * The marks are taken first: a change during the sync marks again. */
static void idle_sync_marked(struct acct_thread *t)
{
	struct runner *r = t->r;
	size_t n = idle_count(t), k = 0;
	const char **only = xcalloc(n + 1, sizeof(*only));
	bool acct_failed = false;

	for (size_t i = 0; i < n; i++)
		if (t->idle_dirty[i]) {
			only[k++] = t->idle_folders[i];
			t->idle_dirty[i] = false;
		}
	pthread_mutex_unlock(&r->mu);
	if (k && !sync_once(t, only, &acct_failed)) {
		pthread_mutex_lock(&r->mu);
		r->failed = true;
		pthread_mutex_unlock(&r->mu);
	}
	pthread_mutex_lock(&r->mu);
	free(only);
}

static bool idle_any_marked(const struct acct_thread *t)
{
	for (size_t i = 0; t->idle_folders && t->idle_folders[i]; i++)
		if (t->idle_dirty[i])
			return true;
	return false;
}

/* The autorefresh sleep, syncing what the idlers mark.  Returns true
 * when the program is stopping. */
static bool refresh_sleep(struct acct_thread *t, double secs)
{
	struct runner *r = t->r;
	struct timespec until;
	bool stop;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += (time_t)secs;
	until.tv_nsec += (long)((secs - (double)(time_t)secs) * 1e9);
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&r->mu);
	/* A SIGUSR1 during the sync skips this sleep (accounts.py
	 * skipsleep); each account consumes it for itself. */
	for (;;) {
		if (r->stop || r->wake_gen != t->wake_seen)
			break;
		if (idle_any_marked(t)) {
			idle_sync_marked(t);
			continue;
		}
		if (pthread_cond_timedwait(&r->cv, &r->mu, &until) ==
		    ETIMEDOUT)
			break;
	}
	t->wake_seen = r->wake_gen;
	stop = r->stop;
	pthread_mutex_unlock(&r->mu);
	return stop;
}

static void *account_main(void *arg)
{
	struct acct_thread *t = arg;
	struct runner *r = t->r;

	t->idle_pipe[0] = t->idle_pipe[1] = -1;
	if (refresh_minutes(r, t->a) > 0)
		idle_start(t);
	for (;;) {
		pthread_mutex_lock(&r->mu);
		while (!r->stop && r->slots == 0)
			pthread_cond_wait(&r->cv, &r->mu);
		if (r->stop) {
			pthread_mutex_unlock(&r->mu);
			break;
		}
		r->slots--;
		pthread_mutex_unlock(&r->mu);

		bool acct_failed = false;
		idle_clear(t);
		bool ok = sync_once(t, NULL, &acct_failed);
		/* accounts.py: an account failing as a whole three times in a
		 * row stops looping. */
		t->fails = acct_failed ? t->fails + 1 : 0;

		pthread_mutex_lock(&r->mu);
		r->slots++;
		if (!ok)
			r->failed = true;
		pthread_cond_broadcast(&r->cv);
		pthread_mutex_unlock(&r->mu);

		double m = refresh_minutes(r, t->a);
		if (m <= 0)
			break;
		if (t->fails >= RUN_MAX_ACCOUNT_FAILURES) {
			log_error("Account %s: failed %u times in a row; not "
				  "syncing it again",
				  t->a->name, t->fails);
			break;
		}
		ui_sleep(t->a->name, m * 60.0);
		if (refresh_sleep(t, m * 60.0))
			break;
	}
	idle_stop(t);
	return NULL;
}

/* ---- signals ---- */

static void signal_set(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGUSR1);
	sigaddset(set, SIGUSR2);
}

static void *signal_main(void *arg)
{
	struct runner *r = arg;
	sigset_t set;
	int sig, count = 0;

	signal_set(&set);
	for (;;) {
		if (sigwait(&set, &sig))
			continue;
		pthread_mutex_lock(&r->mu);
		if (r->exiting) {
			pthread_mutex_unlock(&r->mu);
			return NULL;
		}
		if (sig == SIGUSR1) {
			r->wake_gen++;
		} else {
			r->stop = true;
			count++;
		}
		pthread_cond_broadcast(&r->cv);
		pthread_mutex_unlock(&r->mu);
		if (sig == SIGUSR1)
			continue;
		sync_account_request_stop();
		if (count == 1) {
			log_warn("%s received: stopping after the folders in "
				 "progress (again to stop at once)",
				 strsignal(sig));
			continue;
		}
		/* The second one: die of it. */
		signal(sig, SIG_DFL);
		pthread_sigmask(SIG_UNBLOCK, &set, NULL);
		raise(sig);
		_exit(128 + sig);
	}
	return NULL;
}

/* ---- Python ---- */

static const char *const expr_opts[] = {
    "remotepasseval",	"remoteusereval",
    "remotehosteval",	"remoteporteval",
    "nametrans",	"foldersort",
    "copy_ignore_eval", "oauth2_access_token_eval",
    "oauth2_refresh_token_eval", "oauth2_client_id_eval",
    "oauth2_client_secret_eval",
    "idlefolders",
};

static bool repo_needs_python(struct config *cfg, const char *section,
			      bool remote)
{
	for (size_t i = 0; i < ARRAY_SIZE(expr_opts); i++)
		if (config_has_option(cfg, section, expr_opts[i]))
			return true;
	/* -f replaced the remote filter: it is tested without Python. */
	if (remote && config_folders(cfg))
		return false;
	return config_has_option(cfg, section, "folderfilter") ||
	       config_has_option(cfg, section, "folderincludes");
}

static int python_start(struct config *cfg, struct oim_err *err)
{
	const char *pythonfile = NULL;
	bool need = false;
	if (config_get_path(cfg, "general", "pythonfile", NULL, &pythonfile,
			    err))
		return -1;
	need = pythonfile != NULL;
	if (config_has_section(cfg, "mbnames")) {
		bool mb = false;
		if (config_get_bool(cfg, "mbnames", "enabled", false, &mb, err))
			return -1;
		need = need || mb;
	}
	for (size_t i = 0; i < config_account_count(cfg) && !need; i++) {
		const struct config_account *a = config_account_at(cfg, i);
		need = repo_needs_python(cfg, a->remote.section, true) ||
		       repo_needs_python(cfg, a->local.section, false);
	}
	if (!need)
		return 0;
	return pyeval_init(pythonfile, err);
}

/* ---- main ---- */

int oim_sync_main(struct config *cfg, const struct oim_options *o)
{
	struct oim_err err = OIM_ERR_INIT;
	struct runner r;
	struct acct_thread *t = NULL;
	sigset_t set, old;
	pthread_t sigtid;
	long maxsync = 1;
	size_t n = config_account_count(cfg);
	size_t started = 0;

	ui_set(o->ui_name);
	memset(&r, 0, sizeof(r));
	r.cfg = cfg;
	r.o = o;
	if (config_get_path(cfg, "general", "metadata", "~/.offlineimap",
			    &r.metadata, &err) ||
	    config_get_int(cfg, "general", "maxsyncaccounts", 1, &maxsync,
			   &err)) {
		log_err(&err);
		return 1;
	}
	if (!n) {
		log_error("no account to sync");
		return 1;
	}
	if (python_start(cfg, &err)) {
		log_err(&err);
		pyeval_shutdown();
		return 1;
	}
	if (mbnames_new(cfg, r.metadata, dry_run_of(&r), &r.mb, &err)) {
		log_err(&err);
		pyeval_shutdown();
		return 1;
	}
	if (o->mbnames_prune) {
		/* --mbnames-prune: drop other accounts' intermediate files,
		 * rewrite the list, sync nothing (OfflineIMAP's init.py) */
		/* init.py: the accounts of [general], not the -a ones */
		const char *const *names = NULL;
		size_t nn = 0;
		int prc = config_get_list(cfg, "general", "accounts", &names,
					  &nn, &err);
		if (!prc)
			prc = mbnames_prune(r.mb, cfg, r.metadata, names, nn,
					    &err);
		if (prc)
			log_err(&err);
		mbnames_free(r.mb);
		pyeval_shutdown();
		return prc ? 1 : 0;
	}
	r.slots = (maxsync < 1 || o->single_thread) ? 1 : (unsigned)maxsync;
	pthread_mutex_init(&r.mu, NULL);
	pthread_cond_init(&r.cv, NULL);

	signal_set(&set);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	if (pthread_create(&sigtid, NULL, signal_main, &r)) {
		log_error("cannot start the signal thread");
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		pyeval_shutdown();
		return 1;
	}

	t = xcalloc(n, sizeof(*t));
	for (size_t i = 0; i < n; i++) {
		t[i].r = &r;
		t[i].a = config_account_at(cfg, i);
	}
	bool refresh = false;
	for (size_t i = 0; i < n; i++)
		refresh = refresh || refresh_minutes(&r, t[i].a) > 0;
	if (n == 1 || (r.slots == 1 && !refresh)) {
		/* Nothing runs in parallel: stay on this thread and sync the
		 * accounts in the configured order (as OfflineIMAP with
		 * maxsyncaccounts = 1 does). */
		for (size_t i = 0; i < n && !sync_account_stop_requested(); i++)
			account_main(&t[i]);
	} else {
		/* One thread per account, each with its own autorefresh
		 * loop; the slots let maxsyncaccounts of them sync at a
		 * time. */
		for (size_t i = 0; i < n; i++) {
			if (pthread_create(&t[i].tid, NULL, account_main,
					   &t[i])) {
				log_error("cannot start a thread for account "
					  "%s",
					  t[i].a->name);
				r.failed = true;
				break;
			}
			started++;
		}
	}
	for (size_t i = 0; i < started; i++)
		pthread_join(t[i].tid, NULL);

	/* Not pthread_cancel(): the thread may be inside log_warn(), holding
	 * the log's lock at a cancellation point. */
	pthread_mutex_lock(&r.mu);
	r.exiting = true;
	pthread_mutex_unlock(&r.mu);
	pthread_kill(sigtid, SIGUSR1);
	pthread_join(sigtid, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_cond_destroy(&r.cv);
	pthread_mutex_destroy(&r.mu);
	free(t);
	/* init.py: the list once more at the end (every account) */
	if (r.mb && !sync_account_stop_requested() &&
	    mbnames_write(r.mb, &err)) {
		log_err(&err);
		r.failed = true;
	}
	mbnames_free(r.mb);
	imap_creds_cache_clear();
	pyeval_shutdown();
	return r.failed ? 1 : 0;
}

const char *oim_build_info(void)
{
	static char buf[256];
	snprintf(buf, sizeof(buf), "%s, SQLite %s, zlib %s",
		 OPENSSL_VERSION_TEXT, sqlite3_libversion(), zlibVersion());
	return buf;
}
