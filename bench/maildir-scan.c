/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * maildir-scan: how long maildir_folder_scan() takes on a big folder.
 *
 *   bench/maildir-scan [N [DIR]]      (the script builds this program)
 *
 * Makes DIR (default: a fresh directory under $TMPDIR) a Maildir folder
 * holding N (default 100000) empty messages named as OfflineIMAP names
 * them (90% in cur/ with a UID and flags, 10% in new/ without a UID, like
 * fresh deliveries), then scans it 10 times and prints the fastest and
 * the median wall time.  The page cache is warm after the first scan; a
 * cold scan needs `echo 3 > /proc/sys/vm/drop_caches` as root between
 * runs.  Nothing is asserted: it is a measurement.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/maildir.h"
#include "util/strbuf.h"
#include "util/util.h"

static double clock_s(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 100000;
	char dir[4096];
	struct oim_err err = OIM_ERR_INIT;
	struct maildir_repo *repo;
	struct maildir_folder *f;
	double t[10], cpu[10];
	size_t found = 0;

	if (argc > 2) {
		snprintf(dir, sizeof(dir), "%s", argv[2]);
	} else {
		const char *tmp = getenv("TMPDIR");
		snprintf(dir, sizeof(dir), "%s/oimap-bench-XXXXXX",
			 tmp ? tmp : "/tmp");
		if (!mkdtemp(dir)) {
			perror("mkdtemp");
			return 1;
		}
	}
	struct maildir_repo_opts o = {.localfolders = dir};
	repo = maildir_repo_new(&o, &err);
	if (!repo || maildir_repo_create_folder(repo, "INBOX", &err) < 0 ||
	    !(f = maildir_folder_open(repo, "INBOX", NULL, &err))) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}

	struct maildir_msglist l = {0};
	if (maildir_folder_scan(f, NULL, &l, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	if ((long)l.nr < n) {
		double t0 = now();
		struct strbuf path = STRBUF_INIT, name = STRBUF_INIT;
		for (long i = (long)l.nr; i < n; i++) {
			bool fresh = i % 10 == 9;
			strbuf_reset(&name);
			if (fresh)
				strbuf_addf(&name, "%ld.P%ldQ1.bench",
					    1700000000 + i, i);
			else
				maildir_folder_new_name(
				    f, 1700000000 + i / 3, (uint32_t)i + 1,
				    maildir_flag_bit('S') |
					(i % 7 ? 0 : maildir_flag_bit('F')),
				    &name);
			strbuf_reset(&path);
			strbuf_addf(&path, "%s/INBOX/%s/%s", dir,
				    fresh ? "new" : "cur", name.buf);
			int fd =
			    open(path.buf, O_WRONLY | O_CREAT | O_EXCL, 0600);
			if (fd < 0 && errno != EEXIST) {
				perror(path.buf);
				return 1;
			}
			if (fd >= 0)
				close(fd);
		}
		strbuf_release(&path);
		strbuf_release(&name);
		fprintf(stderr, "created %ld files in %.2fs\n", n - (long)l.nr,
			now() - t0);
	}
	maildir_msglist_release(&l);

	for (size_t r = 0; r < ARRAY_SIZE(t); r++) {
		double t0 = now(), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
		if (maildir_folder_scan(f, NULL, &l, &err) < 0) {
			fprintf(stderr, "%s\n", err.msg);
			return 1;
		}
		t[r] = now() - t0;
		cpu[r] = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
		found = l.nr;
		maildir_msglist_release(&l);
	}
	oim_qsort(t, ARRAY_SIZE(t), sizeof(t[0]), cmp_double);
	oim_qsort(cpu, ARRAY_SIZE(cpu), sizeof(cpu[0]), cmp_double);
	printf("maildir-scan: %zu messages in %s/INBOX: fastest %.1f ms, "
	       "median %.1f ms; CPU fastest %.1f ms (10 scans, warm cache)\n",
	       found, dir, t[0] * 1e3, t[ARRAY_SIZE(t) / 2] * 1e3,
	       cpu[0] * 1e3);
	maildir_folder_free(f);
	maildir_repo_free(repo);
	return 0;
}
