/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * status_file.c - small file helpers for the status module: mkdir -p,
 * whole-file read with a cap, atomic replace (tmp + fsync + rename + fsync
 * of the directory).
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "status-int.h"

char *status_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

int status_mkdir_p(const char *dir, struct oim_err *err)
{
	char *p = xstrdup(dir);
	size_t len = strlen(p);

	/* Walk the components; OfflineIMAP makes its directories 0700. */
	for (size_t i = 1; i <= len; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		char save = p[i];

		p[i] = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST) {
			int e = errno;

			oim_error(err, OIM_SEV_FOLDER, OIM_E_IO,
				  "cannot create directory '%s': %s", p,
				  strerror(e));
			free(p);
			return -1;
		}
		p[i] = save;
	}
	struct stat sb;

	if (stat(dir, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
		free(p);
		return oim_error(err, OIM_SEV_FOLDER, OIM_E_IO,
				 "'%s' is not a directory", dir);
	}
	free(p);
	return 0;
}

int status_read_file(const char *path, size_t max, char **buf_r, size_t *len_r,
		     bool *exists_r, struct oim_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat sb;

	*buf_r = NULL;
	*len_r = 0;
	*exists_r = false;
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return oim_error(err, OIM_SEV_FOLDER, OIM_E_IO,
				 "cannot open '%s': %s", path, strerror(errno));
	}
	*exists_r = true;
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return oim_error(err, OIM_SEV_FOLDER, OIM_E_STATUS,
				 "'%s' is not a regular file", path);
	}
	if ((uint64_t)sb.st_size > max) {
		close(fd);
		return oim_error(err, OIM_SEV_FOLDER, OIM_E_LIMIT,
				 "'%s' is larger than %zu bytes", path, max);
	}

	struct strbuf sbuf = STRBUF_INIT;

	strbuf_grow(&sbuf, (size_t)sb.st_size + 1);
	for (;;) {
		strbuf_grow(&sbuf, 65536);
		ssize_t n = read(fd, sbuf.buf + sbuf.len, 65536);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			close(fd);
			strbuf_release(&sbuf);
			return oim_error(err, OIM_SEV_FOLDER, OIM_E_IO,
					 "cannot read '%s': %s", path,
					 strerror(e));
		}
		if (n == 0)
			break;
		strbuf_setlen(&sbuf, sbuf.len + (size_t)n);
		if (sbuf.len > max) {
			close(fd);
			strbuf_release(&sbuf);
			return oim_error(err, OIM_SEV_FOLDER, OIM_E_LIMIT,
					 "'%s' is larger than %zu bytes", path,
					 max);
		}
	}
	close(fd);
	*buf_r = strbuf_detach(&sbuf, len_r);
	return 0;
}

int status_fsync_dir_of(const char *path, struct oim_err *err)
{
	char *dir = status_dirname(path);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || fsync(fd) < 0) {
		int e = errno;

		if (fd >= 0)
			close(fd);
		oim_error(err, OIM_SEV_FOLDER, OIM_E_IO,
			  "cannot fsync directory '%s': %s", dir, strerror(e));
		free(dir);
		return -1;
	}
	close(fd);
	free(dir);
	return 0;
}

static int write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

int status_write_file_atomic(const char *path, const char *data, size_t len,
			     bool nofsync, struct oim_err *err)
{
	/* "<file>.tmp" is the name OfflineIMAP uses for the same purpose. */
	char *tmp = xasprintf("%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int e;

	if (fd < 0) {
		e = errno;
		oim_error(err, OIM_SEV_FOLDER, OIM_E_IO,
			  "cannot create '%s': %s", tmp, strerror(e));
		free(tmp);
		return -1;
	}
	if (write_all(fd, data, len) < 0 || (!nofsync && fsync(fd) < 0)) {
		e = errno;
		close(fd);
		unlink(tmp);
		oim_error(err, OIM_SEV_FOLDER, OIM_E_IO,
			  "cannot write '%s': %s", tmp, strerror(e));
		free(tmp);
		return -1;
	}
	if (close(fd) < 0) {
		e = errno;
		unlink(tmp);
		oim_error(err, OIM_SEV_FOLDER, OIM_E_IO,
			  "cannot write '%s': %s", tmp, strerror(e));
		free(tmp);
		return -1;
	}
	if (rename(tmp, path) < 0) {
		e = errno;
		unlink(tmp);
		oim_error(err, OIM_SEV_FOLDER, OIM_E_IO,
			  "cannot rename '%s' to '%s': %s", tmp, path,
			  strerror(e));
		free(tmp);
		return -1;
	}
	free(tmp);
	/* The rename is durable only once the directory is. */
	if (!nofsync)
		return status_fsync_dir_of(path, err);
	return 0;
}
