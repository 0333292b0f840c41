// SPDX-License-Identifier: GPL-2.0-only
/*
 * Integration-suite support (integ.h): the child registry, the private
 * mount, status-file parsing and small file helpers.  Criterion runs each
 * test in its own process, so the registry is per test; integ_fini() runs
 * after a failed assertion too, which is what keeps a failing test from
 * leaving children blocked in the mount or a mount behind.  Children also
 * get PR_SET_PDEATHSIG, for the one case .fini cannot cover: a test
 * killed by its timeout.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "integ.h"

#define MAX_KIDS 2048

static pid_t kids[MAX_KIDS];
static int nkids;
static struct evt_mount priv;
static bool priv_on;
static int fds_at_init = -1;

static void kid_forget(pid_t pid)
{
	int i;

	for (i = 0; i < nkids; i++)
		if (kids[i] == pid) {
			kids[i] = kids[--nkids];
			return;
		}
}

static void close_fds_under(const char *dir)
{
	char link[64], target[PATH_MAX];
	size_t n = strlen(dir);
	ssize_t len;
	int fd;

	for (fd = 3; fd < 1024; fd++) {
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		len = readlink(link, target, sizeof(target) - 1);
		if (len <= 0)
			continue;
		target[len] = '\0';
		if (strncmp(target, dir, n) == 0 &&
		    (target[n] == '/' || target[n] == '\0'))
			close(fd);
	}
}

void integ_init(void)
{
	nkids = 0;
	priv_on = false;
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	fds_at_init = evt_count_fds();
}

void integ_fini(void)
{
	int fds, i, st;

	for (i = 0; i < nkids; i++)
		kill(kids[i], SIGKILL);
	/* SIGKILL ends a read parked in a live daemon (FUSE interrupt) and
	 * one on a dead connection alike: these waits are short. */
	while (nkids > 0) {
		pid_t pid = kids[0];

		if (integ_reap(pid, &st, INTEG_WAIT_MS) != 0) {
			cr_expect_fail("child %d did not die", (int)pid);
			kid_forget(pid);
		}
	}
	if (priv_on) {
		/* A failed test may still hold files of its mount, which
		 * would keep the daemon from seeing the unmount. */
		close_fds_under(priv.dir);
		integ_unmount();
	}
	fds = evt_count_fds();
	if (fds_at_init >= 0)
		cr_expect_eq(
			fds, fds_at_init,
			"the test leaked descriptors (%d before, %d after)",
			fds_at_init, fds);
}

pid_t integ_fork(void)
{
	pid_t parent = getpid();
	pid_t pid;

	cr_assert(nkids < MAX_KIDS, "too many children");
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(99);
		return 0;
	}
	cr_assert(pid > 0, "fork: %s", strerror(errno));
	kids[nkids++] = pid;
	return pid;
}

void integ_adopt(pid_t pid)
{
	cr_assert(nkids < MAX_KIDS, "too many children");
	kids[nkids++] = pid;
}

int integ_reap(pid_t pid, int *status, int ms)
{
	long long deadline = evt_now_ms() + ms;
	pid_t r;

	for (;;) {
		r = waitpid(pid, status, WNOHANG);
		if (r == pid || (r < 0 && errno == ECHILD)) {
			kid_forget(pid);
			return r == pid ? 0 : -1;
		}
		if (evt_now_ms() > deadline)
			return -1;
		usleep(2000);
	}
}

int integ_reap_all(int ms, int *others, int *left)
{
	long long deadline = evt_now_ms() + ms;
	int ok = 0, bad = 0, st;

	while (nkids > 0 && evt_now_ms() <= deadline) {
		pid_t r = waitpid(-1, &st, WNOHANG);

		if (r > 0) {
			int i, known = 0;

			for (i = 0; i < nkids; i++)
				known |= kids[i] == r;
			if (!known)
				continue; /* a shell's orphan we never knew */
			kid_forget(r);
			if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
				ok++;
			else
				bad++;
		} else if (r < 0 && errno == ECHILD) {
			nkids = 0;
		} else {
			usleep(2000);
		}
	}
	if (others)
		*others = bad;
	if (left)
		*left = nkids;
	return ok;
}

int integ_exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 1000 + WTERMSIG(status);
	return -1;
}

struct evt_mount *integ_mount(const char *const *argv)
{
	cr_assert_not(priv_on, "one private mount per test");
	evt_mount_or_skip(&priv, argv);
	priv_on = true;
	return &priv;
}

void integ_unmount(void)
{
	char cmd[PATH_MAX + 64];

	if (!priv_on)
		return;
	priv_on = false;
	if (priv.pid) {
		evt_unmount_or_fail(&priv);
		return;
	}
	/* The test reaped the daemon itself and failed before cleaning. */
	snprintf(cmd, sizeof(cmd), "fusermount3 -uz '%s' 2>/dev/null",
		 priv.dir);
	if (integ_is_mounted(priv.dir) && system(cmd) != 0)
		cr_expect_fail("could not unmount %s", priv.dir);
	rmdir(priv.dir);
	unlink(priv.log);
}

void integ_forget_mount(void)
{
	priv_on = false;
}

ssize_t integ_read_file(const char *path, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	while (got + 1 < len && (n = read(fd, buf + got, len - 1 - got)) > 0)
		got += (size_t)n;
	close(fd);
	buf[got] = '\0';
	return (ssize_t)got;
}

ssize_t integ_status(const char *mnt, char *buf, size_t len)
{
	char path[PATH_MAX];

	return integ_read_file(evt_path(path, sizeof(path), mnt, "status"), buf,
			       len);
}

/* The field @key of the first counter line for which @match() holds. */
static long long field_where(const char *mnt, const char *key,
			     bool (*match)(const char *line, const void *arg),
			     const void *arg)
{
	static char buf[1 << 20];
	char pat[64];
	char *line, *eol, *f;

	if (integ_status(mnt, buf, sizeof(buf)) < 0)
		return -1;
	snprintf(pat, sizeof(pat), " %s=", key);
	for (line = buf; line && *line; line = eol ? eol + 1 : NULL) {
		eol = strchr(line, '\n');
		if (eol)
			*eol = '\0';
		if (strncmp(line, "counter ", 8) != 0 || !match(line, arg))
			continue;
		f = strstr(line, pat);
		return f ? strtoll(f + strlen(pat), NULL, 10) : -1;
	}
	return -1;
}

static bool match_name(const char *line, const void *arg)
{
	const char *name = arg;
	size_t n = strlen(name);

	return strncmp(line + 8, name, n) == 0 && line[8 + n] == ' ';
}

static bool match_id(const char *line, const void *arg)
{
	char pat[40];

	snprintf(pat, sizeof(pat), " id=%llu ",
		 (unsigned long long)*(const uint64_t *)arg);
	return strstr(line, pat) != NULL;
}

long long integ_field(const char *mnt, const char *name, const char *key)
{
	return field_where(mnt, key, match_name, name);
}

long long integ_field_by_id(const char *mnt, uint64_t id, const char *key)
{
	return field_where(mnt, key, match_id, &id);
}

static bool wait_where(const char *mnt, const char *key, long long want, int ms,
		       bool (*match)(const char *line, const void *arg),
		       const void *arg)
{
	long long deadline = evt_now_ms() + ms;
	useconds_t nap = 1000;

	for (;;) {
		if (field_where(mnt, key, match, arg) == want)
			return true;
		if (evt_now_ms() > deadline)
			return false;
		usleep(nap);
		if (nap < 20000)
			nap *= 2;
	}
}

bool integ_wait_field(const char *mnt, const char *name, const char *key,
		      long long want, int ms)
{
	return wait_where(mnt, key, want, ms, match_name, name);
}

bool integ_wait_field_by_id(const char *mnt, uint64_t id, const char *key,
			    long long want, int ms)
{
	return wait_where(mnt, key, want, ms, match_id, &id);
}

int integ_threads(pid_t pid)
{
	char path[64], buf[4096], *p;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (integ_read_file(path, buf, sizeof(buf)) < 0)
		return -1;
	p = strstr(buf, "\nThreads:");
	return p ? atoi(p + strlen("\nThreads:")) : -1;
}

bool integ_wait_wchan(pid_t pid, const char *what, int ms)
{
	long long deadline = evt_now_ms() + ms;
	char path[64], wchan[128];

	snprintf(path, sizeof(path), "/proc/%d/wchan", (int)pid);
	for (;;) {
		if (integ_read_file(path, wchan, sizeof(wchan)) > 0 &&
		    strstr(wchan, what))
			return true;
		if (evt_now_ms() > deadline)
			return false;
		usleep(1000);
	}
}

bool integ_is_mounted(const char *dir)
{
	char line[PATH_MAX * 2], mp[PATH_MAX];
	bool found = false;
	FILE *f = fopen("/proc/self/mounts", "r");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		if (sscanf(line, "%*s %4095s", mp) == 1 && strcmp(mp, dir) == 0)
			found = true;
	fclose(f);
	return found;
}

bool integ_log_clean(const char *log, char *why, size_t whylen)
{
	static const char *const bad[] = { "error", "warning", "leak",
					   "Sanitizer", "runtime error" };
	char line[1024];
	bool clean = true;
	size_t i;
	FILE *f = fopen(log, "r");

	if (!f)
		return true;
	while (clean && fgets(line, sizeof(line), f))
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			if (strcasestr(line, bad[i])) {
				snprintf(why, whylen, "%s", line);
				clean = false;
				break;
			}
	fclose(f);
	return clean;
}

int integ_open(const char *mnt, const char *name, bool text, int flags)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s%s", mnt, text ? "text/" : "", name);
	fd = open(path, flags | O_CLOEXEC);
	cr_assert(fd >= 0, "open %s: %s", path, strerror(errno));
	return fd;
}

int integ_write_u64(int fd, uint64_t v)
{
	ssize_t n = write(fd, &v, sizeof(v));

	if (n < 0)
		return -errno;
	return n == 8 ? 0 : -EIO;
}

int integ_read_u64(int fd, uint64_t *v)
{
	ssize_t n = read(fd, v, sizeof(*v));

	if (n < 0)
		return -errno;
	return n == 8 ? 0 : -EIO;
}

/* The pid of an evfdfs process with @dir among its arguments, or 0. */
pid_t integ_find_daemon(const char *dir)
{
	char path[300], cmd[PATH_MAX * 2];
	struct dirent *e;
	pid_t pid = 0;
	DIR *d = opendir("/proc");

	while (d && !pid && (e = readdir(d))) {
		ssize_t n;
		int fd;

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/cmdline", e->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, cmd, sizeof(cmd) - 1);
		close(fd);
		if (n <= 0)
			continue;
		cmd[n] = '\0';
		/* argv[0] is the daemon; one of the others is @dir */
		for (char *a = cmd + strlen(cmd) + 1; a < cmd + n;
		     a += strlen(a) + 1)
			if (strstr(cmd, "evfdfs") && strcmp(a, dir) == 0)
				pid = atoi(e->d_name);
	}
	if (d)
		closedir(d);
	return pid;
}
