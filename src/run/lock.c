/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "lock.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../util/log.h"
#include "../util/strbuf.h"

int oim_mkdir_p(const char *path, unsigned mode, struct oim_err *err)
{
	struct strbuf sb = STRBUF_INIT;
	const char *p = path;
	int rc = 0;
	do {
		const char *slash = strchr(p + (*p == '/'), '/');
		size_t n = slash ? (size_t)(slash - path) : strlen(path);
		strbuf_reset(&sb);
		strbuf_add(&sb, path, n);
		if (sb.len && mkdir(sb.buf, mode) && errno != EEXIST) {
			rc = oim_error(err, OIM_SEV_ACCOUNT, OIM_E_IO,
				       "cannot create directory '%s': %s",
				       sb.buf, strerror(errno));
			break;
		}
		p = slash ? slash + 1 : NULL;
		if (p && !*p)
			p = NULL;
	} while (p);
	strbuf_release(&sb);
	return rc;
}

int account_lock_take(struct account_lock *lk, const char *metadata_dir,
		      const char *account, struct oim_err *err)
{
	lk->fd = -1;
	lk->path = NULL;
	if (oim_mkdir_p(metadata_dir, 0700, err))
		return -1;
	char *path = xasprintf("%s/%s.lock", metadata_dir, account);
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		oim_error(err, OIM_SEV_ACCOUNT, OIM_E_IO,
			  "cannot open lock file '%s': %s", path,
			  strerror(errno));
		free(path);
		return -1;
	}
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	if (fcntl(fd, F_SETLK, &fl) || flock(fd, LOCK_EX | LOCK_NB)) {
		int e = errno;
		close(fd);
		if (e == EAGAIN || e == EACCES || e == EWOULDBLOCK)
			oim_error(err, OIM_SEV_ACCOUNT, OIM_E_LOCKED,
				  "could not lock account %s: another instance "
				  "(oimap or OfflineIMAP) is syncing it (lock "
				  "file '%s')",
				  account, path);
		else
			oim_error(err, OIM_SEV_ACCOUNT, OIM_E_IO,
				  "cannot lock '%s': %s", path, strerror(e));
		free(path);
		return -1;
	}
	/* The holder before us unlinks the file while holding it: if we
	 * opened that old inode just before, our lock is on a file nobody
	 * else will ever open.  Make sure the path still names our inode. */
	struct stat st_fd, st_path;
	if (fstat(fd, &st_fd) || stat(path, &st_path) ||
	    st_fd.st_ino != st_path.st_ino || st_fd.st_dev != st_path.st_dev) {
		close(fd);
		oim_error(err, OIM_SEV_ACCOUNT, OIM_E_LOCKED,
			  "could not lock account %s: another instance just "
			  "released '%s'; try again",
			  account, path);
		free(path);
		return -1;
	}
	log_debug(OIM_DBG_THREAD, "locked account %s (%s)", account, path);
	lk->fd = fd;
	lk->path = path;
	return 0;
}

void account_lock_release(struct account_lock *lk)
{
	if (lk->fd < 0)
		return;
	/* Unlink while still holding the lock, as OfflineIMAP does; a
	 * process that opened the old inode notices in account_lock_take. */
	if (lk->path)
		unlink(lk->path);
	close(lk->fd);
	free(lk->path);
	lk->fd = -1;
	lk->path = NULL;
}
