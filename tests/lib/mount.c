// SPDX-License-Identifier: GPL-2.0-only
/*
 * The mount fixture (after libfuse's test helpers): start `evfdfs -f` on a
 * private temporary mount point with its log in a file, wait for the mount
 * with a deadline (failing at once if the daemon dies), and at the end
 * unmount with fusermount3 and insist that the daemon exits 0 within a
 * bound with a clean log.  Any failure falls back to a lazy unmount and a
 * kill, so a failing test leaves nothing mounted.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

#include "evtest.h"

#define FUSE_SUPER_MAGIC 0x65735546
#define MOUNT_DEADLINE_MS 10000
#define EXIT_DEADLINE_MS 10000

long long evt_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *build_dir(void)
{
	const char *b = getenv("B");

	return b && *b ? b : "build";
}

const char *evt_fuse_missing(void)
{
	static char why[PATH_MAX + 64];
	char daemon[PATH_MAX];

	if (access("/dev/fuse", R_OK | W_OK) != 0)
		return "no usable /dev/fuse on this machine";
	if (system("command -v fusermount3 >/dev/null 2>&1") != 0)
		return "fusermount3 is not installed";
	snprintf(daemon, sizeof(daemon), "%s/evfdfs", build_dir());
	if (access(daemon, X_OK) != 0) {
		snprintf(why, sizeof(why), "daemon %s not built", daemon);
		return why;
	}
	return NULL;
}

static bool is_fuse_mount(const char *dir)
{
	struct statfs sfs;

	return statfs(dir, &sfs) == 0 && sfs.f_type == FUSE_SUPER_MAGIC;
}

int evt_mount_start(struct evt_mount *m, const char *const *argv, char *why,
		    size_t whylen)
{
	const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	const char *args[64];
	char daemon[PATH_MAX];
	long long deadline;
	int n = 0, logfd, status;

	memset(m, 0, sizeof(*m));
	snprintf(m->dir, sizeof(m->dir), "%s/evfdfs-test-XXXXXX", tmp);
	if (!mkdtemp(m->dir)) {
		snprintf(why, whylen, "mkdtemp: %s", strerror(errno));
		return -1;
	}
	if (snprintf(m->log, sizeof(m->log), "%s.log", m->dir) >=
	    (int)sizeof(m->log)) {
		snprintf(why, whylen, "TMPDIR too long");
		rmdir(m->dir);
		return -1;
	}
	snprintf(daemon, sizeof(daemon), "%s/evfdfs", build_dir());
	args[n++] = daemon;
	args[n++] = "-f";
	while (argv && *argv && n < 60)
		args[n++] = *argv++;
	args[n++] = m->dir;
	args[n] = NULL;

	logfd = open(m->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (logfd < 0) {
		snprintf(why, whylen, "open %s: %s", m->log, strerror(errno));
		rmdir(m->dir);
		return -1;
	}
	m->pid = fork();
	if (m->pid == 0) {
		/* A test that crashes never reaches evt_mount_stop(): its
		 * daemon then gets SIGTERM, on which it unmounts and exits,
		 * rather than outlive it with its mount. */
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) || getppid() == 1)
			_exit(127);
		dup2(logfd, 2);
		dup2(logfd, 1);
		execv(daemon, (char *const *)args);
		_exit(127);
	}
	close(logfd);
	if (m->pid < 0) {
		snprintf(why, whylen, "fork: %s", strerror(errno));
		rmdir(m->dir);
		return -1;
	}
	deadline = evt_now_ms() + MOUNT_DEADLINE_MS;
	while (!is_fuse_mount(m->dir)) {
		if (waitpid(m->pid, &status, WNOHANG) == m->pid) {
			snprintf(why, whylen,
				 "evfdfs exited (status 0x%x) before mounting; "
				 "log %s",
				 status, m->log);
			m->pid = 0;
			rmdir(m->dir);
			return -1;
		}
		if (evt_now_ms() > deadline) {
			snprintf(why, whylen, "mount did not appear in %d ms",
				 MOUNT_DEADLINE_MS);
			kill(m->pid, SIGKILL);
			waitpid(m->pid, NULL, 0);
			m->pid = 0;
			rmdir(m->dir);
			return -1;
		}
		usleep(5000);
	}
	return 0;
}

/* Lines that must never appear in a daemon log after a clean run. */
static int log_problem(const char *log, char *why, size_t whylen)
{
	static const char *const bad[] = { "error", "warning", "leak",
					   "Sanitizer", "runtime error" };
	char line[1024];
	FILE *f = fopen(log, "r");
	int ret = 0;
	size_t i;

	if (!f)
		return 0;
	while (!ret && fgets(line, sizeof(line), f))
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			if (strcasestr(line, bad[i])) {
				snprintf(why, whylen, "daemon log %s: %s", log,
					 line);
				ret = -1;
				break;
			}
	fclose(f);
	return ret;
}

int evt_mount_stop(struct evt_mount *m, char *why, size_t whylen)
{
	char cmd[PATH_MAX + 64];
	long long deadline;
	int status = 0, ret = 0;
	pid_t r = 0;

	if (!m->pid)
		return 0;
	snprintf(cmd, sizeof(cmd), "fusermount3 -u '%s' 2>/dev/null", m->dir);
	if (system(cmd) != 0) {
		/* Busy (a test left a file open) or already gone: go lazy. */
		snprintf(cmd, sizeof(cmd), "fusermount3 -uz '%s' 2>/dev/null",
			 m->dir);
		if (system(cmd) != 0)
			kill(m->pid, SIGTERM);
	}
	deadline = evt_now_ms() + EXIT_DEADLINE_MS;
	while ((r = waitpid(m->pid, &status, WNOHANG)) == 0 &&
	       evt_now_ms() < deadline)
		usleep(5000);
	if (r != m->pid) {
		snprintf(why, whylen,
			 "evfdfs did not exit within %d ms of "
			 "the unmount",
			 EXIT_DEADLINE_MS);
		kill(m->pid, SIGKILL);
		waitpid(m->pid, NULL, 0);
		snprintf(cmd, sizeof(cmd), "fusermount3 -uz '%s' 2>/dev/null",
			 m->dir);
		if (system(cmd)) {
			/* nothing more to do */
		}
		ret = -1;
	} else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		snprintf(why, whylen, "evfdfs exited with status 0x%x; log %s",
			 status, m->log);
		ret = -1;
	} else {
		ret = log_problem(m->log, why, whylen);
	}
	m->pid = 0;
	rmdir(m->dir);
	if (ret == 0)
		unlink(m->log);
	return ret;
}

void evt_mount_or_skip(struct evt_mount *m, const char *const *argv)
{
	const char *missing = evt_fuse_missing();
	char why[PATH_MAX + 256];

	if (missing)
		cr_skip_test("%s", missing);
	if (evt_mount_start(m, argv, why, sizeof(why)) != 0)
		cr_assert_fail("mount failed: %s", why);
}

void evt_unmount_or_fail(struct evt_mount *m)
{
	char why[PATH_MAX + 1200];

	if (evt_mount_stop(m, why, sizeof(why)) != 0)
		cr_expect_fail("%s", why);
}

char *evt_path(char *buf, size_t len, const char *dir, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
	return buf;
}

char *evt_unique(char *buf, size_t len, const char *prefix)
{
	static unsigned int seq;
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(buf, len, "%s-%d-%u-%ld", prefix, (int)getpid(), ++seq,
		 ts.tv_nsec);
	return buf;
}

int evt_create_counter(const char *mnt, const char *name, uint64_t initval,
		       bool semaphore, int oflags)
{
	char path[PATH_MAX], val[32];
	int fd;

	evt_path(path, sizeof(path), mnt, name);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | oflags, 0600);
	cr_assert(fd >= 0, "create %s: %s", path, strerror(errno));
	if (semaphore)
		cr_assert(fsetxattr(fd, "user.evfdfs.semaphore", "1", 1, 0) ==
				  0,
			  "set semaphore: %s", strerror(errno));
	if (initval) {
		snprintf(val, sizeof(val), "%llu", (unsigned long long)initval);
		cr_assert(fsetxattr(fd, "user.evfdfs.value", val, strlen(val),
				    0) == 0,
			  "set value: %s", strerror(errno));
	}
	return fd;
}

uint64_t evt_xattr_value(const char *path)
{
	char val[32];
	ssize_t n = getxattr(path, "user.evfdfs.value", val, sizeof(val) - 1);

	cr_assert(n > 0, "getxattr %s: %s", path, strerror(errno));
	val[n] = '\0';
	return strtoull(val, NULL, 10);
}

int evt_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the DIR's own descriptor */
}

int evt_sh(const char *cmd, char *out, size_t outlen)
{
	char full[8192];
	FILE *p;
	size_t n = 0;
	int status;

	snprintf(full, sizeof(full), "timeout 20 sh -c '%s' 2>&1", cmd);
	p = popen(full, "r");
	if (!p)
		return -1;
	if (out && outlen) {
		n = fread(out, 1, outlen - 1, p);
		out[n] = '\0';
	} else {
		char sink[4096];

		while (fread(sink, 1, sizeof(sink), p) > 0)
			;
	}
	status = pclose(p);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void evt_rec(struct evt_transcript *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->buf ? t->buf + t->len : NULL,
			      t->buf ? t->cap - t->len : 0, fmt, ap);
		va_end(ap);
		if (t->buf && (size_t)n + 1 < t->cap - t->len) {
			t->len += (size_t)n;
			t->buf[t->len++] = '\n';
			t->buf[t->len] = '\0';
			return;
		}
		t->cap = t->cap * 2 + (size_t)n + 64;
		t->buf = realloc(t->buf, t->cap);
		cr_assert(t->buf != NULL);
	}
}

void evt_transcript_free(struct evt_transcript *t)
{
	free(t->buf);
	t->buf = NULL;
	t->len = t->cap = 0;
}

const char *evt_errname(int err)
{
	static char other[32];
	const char *name = strerrorname_np(err);

	if (name)
		return name;
	snprintf(other, sizeof(other), "E#%d", err);
	return other;
}

const char *evt_res(long ret, int err, char *buf, size_t len)
{
	if (ret < 0)
		snprintf(buf, len, "err=%s", evt_errname(err));
	else
		snprintf(buf, len, "ret=%ld", ret);
	return buf;
}
