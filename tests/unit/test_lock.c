/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "run/lock.h"
#include "util/util.h"

static char *tmpdir(void)
{
	char tmpl[] = "/tmp/oimap-lock-XXXXXX";
	char *d = mkdtemp(tmpl);
	assert_non_null(d);
	return xstrdup(d);
}

/* POSIX locks do not conflict within one process: test from a child. */
static int child_try_lock(const char *dir, const char *account)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct account_lock lk;
		struct oim_err err = OIM_ERR_INIT;
		if (account_lock_take(&lk, dir, account, &err))
			_exit(err.kind == OIM_E_LOCKED ? 3 : 4);
		account_lock_release(&lk);
		_exit(0);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static void test_lock_excludes_second_process(void **state)
{
	char *dir = tmpdir();
	char *meta = xasprintf("%s/meta/sub", dir);
	struct account_lock lk;
	struct oim_err err = OIM_ERR_INIT;
	assert_int_equal(account_lock_take(&lk, meta, "Personal", &err), 0);
	char *path = xasprintf("%s/Personal.lock", meta);
	assert_int_equal(access(path, F_OK), 0);
	assert_int_equal(child_try_lock(meta, "Personal"), 3);
	/* another account is independent */
	assert_int_equal(child_try_lock(meta, "Work"), 0);
	account_lock_release(&lk);
	/* released: the file is gone and the lock can be taken again */
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(child_try_lock(meta, "Personal"), 0);
	free(path);
	free(meta);
	free(dir);
}

/* OfflineIMAP holds the lock with fcntl.lockf (POSIX record lock) only. */
static void test_lock_sees_posix_lock_of_offlineimap(void **state)
{
	char *dir = tmpdir();
	char *path = xasprintf("%s/acct.lock", dir);
	int fd = open(path, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	assert_int_equal(fcntl(fd, F_SETLK, &fl), 0);
	assert_int_equal(child_try_lock(dir, "acct"), 3);
	close(fd);
	assert_int_equal(child_try_lock(dir, "acct"), 0);
	free(path);
	free(dir);
}

static void test_lock_error_names_account_and_file(void **state)
{
	char *dir = tmpdir();
	int pfd[2];
	assert_int_equal(pipe(pfd), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct account_lock lk;
		struct oim_err err = OIM_ERR_INIT;
		close(pfd[0]);
		char ok = account_lock_take(&lk, dir, "A", &err) ? 'n' : 'y';
		if (write(pfd[1], &ok, 1) != 1)
			_exit(2);
		pause(); /* killed by the parent */
		_exit(0);
	}
	close(pfd[1]);
	/* the child says when it holds the lock: no sleeping, no timing */
	char ok = 0;
	assert_int_equal(read(pfd[0], &ok, 1), 1);
	close(pfd[0]);
	assert_int_equal(ok, 'y');
	char *path = xasprintf("%s/A.lock", dir);
	struct account_lock lk;
	struct oim_err err = OIM_ERR_INIT;
	int rc = account_lock_take(&lk, dir, "A", &err);
	if (rc == 0)
		account_lock_release(&lk);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	/* POSIX locks are per process, but flock() is per open file: the
	 * parent must still be refused */
	assert_int_equal(rc, -1);
	assert_int_equal(err.kind, OIM_E_LOCKED);
	assert_non_null(strstr(err.msg, "account A"));
	assert_non_null(strstr(err.msg, path));
	free(path);
	free(dir);
}

static void test_mkdir_p(void **state)
{
	char *dir = tmpdir();
	char *deep = xasprintf("%s/a/b/c/", dir);
	struct oim_err err = OIM_ERR_INIT;
	assert_int_equal(oim_mkdir_p(deep, 0700, &err), 0);
	struct stat st;
	assert_int_equal(stat(deep, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	/* a file in the way is an error naming it */
	char *file = xasprintf("%s/f", dir);
	int fd = open(file, O_WRONLY | O_CREAT, 0600);
	close(fd);
	char *under = xasprintf("%s/x", file);
	assert_int_equal(oim_mkdir_p(under, 0700, &err), -1);
	assert_non_null(strstr(err.msg, file));
	free(under);
	free(file);
	free(deep);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lock_excludes_second_process),
		cmocka_unit_test(test_lock_sees_posix_lock_of_offlineimap),
		cmocka_unit_test(test_lock_error_names_account_and_file),
		cmocka_unit_test(test_mkdir_p),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
