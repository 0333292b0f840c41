// SPDX-License-Identifier: GPL-2.0-only
/*
 * A daemon in the background (started from fstab, say) has /dev/null for
 * stderr, so its messages go to syslog.  syslog(3) writes to /dev/log,
 * which this test provides itself: in a private mount namespace, a tmpfs
 * /dev holding the device nodes the daemon needs (bind-mounted from the
 * real /dev) and a datagram socket of ours at /dev/log.  The daemon is
 * started without -f, goes to the background, and its SIGTERM message must
 * arrive on that socket; in the foreground the same message goes to
 * stderr (the rest of the suite reads those logs).  Root only.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "integ.h"

/* Gone, or a zombie waiting for the subreaper (this test's parent). */
static bool gone(pid_t pid)
{
	char path[64], buf[512], *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (integ_read_file(path, buf, sizeof(buf)) < 0)
		return true;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] == 'Z';
}

/* Replace /dev with a tmpfs holding @nodes bound from the real one. */
static int private_dev(void)
{
	static const char *const nodes[] = { "null", "zero", "fuse", "urandom",
					     "random" };
	char tmp[] = "/tmp/evfdfs-dev-XXXXXX", path[PATH_MAX], real[64];
	size_t i;
	int fd;

	if (!mkdtemp(tmp) || mount("tmpfs", tmp, "tmpfs", 0, "mode=755"))
		return 10;
	for (i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", tmp, nodes[i]);
		snprintf(real, sizeof(real), "/dev/%s", nodes[i]);
		fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
		if (fd < 0)
			return 11;
		close(fd);
		if (mount(real, path, NULL, MS_BIND, NULL))
			return 12;
	}
	if (mount(tmp, "/dev", NULL, MS_MOVE, NULL))
		return 13;
	rmdir(tmp);
	return 0;
}

/*
 * The child: namespace, /dev/log, the daemon in the background, SIGTERM,
 * and what arrived at /dev/log, written to @out.  Exit 0, or a step's
 * number (see the parent's messages).
 */
static int child(const char *daemon, const char *mnt, int out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct pollfd pfd = { .events = POLLIN };
	char msg[2048], want[64];
	long long deadline;
	pid_t pid, d;
	int st, ret;

	if (unshare(CLONE_NEWNS) ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		return 1;
	ret = private_dev();
	if (ret)
		return ret;
	pfd.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	strcpy(sa.sun_path, "/dev/log");
	if (pfd.fd < 0 || bind(pfd.fd, (struct sockaddr *)&sa, sizeof(sa)))
		return 2;

	/* No -f: fuse_daemonize(); the first process exits once mounted. */
	pid = fork();
	if (pid == 0) {
		execl(daemon, daemon, mnt, (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 0)
		return 3;
	d = integ_find_daemon(mnt);
	if (d <= 0)
		return 4;
	if (kill(d, SIGTERM))
		return 5;
	snprintf(want, sizeof(want), "evfdfs[%d]: ", (int)d);
	deadline = evt_now_ms() + INTEG_WAIT_MS;
	for (;;) {
		ssize_t n;

		if (evt_now_ms() > deadline)
			return 6;
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		n = recv(pfd.fd, msg, sizeof(msg) - 1, 0);
		if (n <= 0)
			continue;
		msg[n] = '\0';
		if (write(out, msg, (size_t)n + 1) < 0)
			return 7;
		if (strstr(msg, want) && strstr(msg, "signal 15"))
			break;
	}
	deadline = evt_now_ms() + INTEG_WAIT_MS;
	while (!gone(d))
		if (evt_now_ms() > deadline || usleep(5000))
			return 8;
	return 0;
}

INTEG_TEST(daemon, background_daemon_logs_to_syslog, 90)
{
	static const char *const step[] = {
		[1] = "unshare(CLONE_NEWNS)",
		[2] = "binding /dev/log",
		[3] = "starting the daemon in the background",
		[4] = "finding the daemon",
		[5] = "SIGTERM",
		[6] = "waiting for its message at /dev/log",
		[7] = "write",
		[8] = "waiting for the daemon to exit",
		[10] = "a tmpfs for /dev",
		[11] = "a node in it",
		[12] = "binding a node from /dev",
		[13] = "moving it to /dev",
	};
	const char *b = getenv("B") && *getenv("B") ? getenv("B") : "build";
	char rel[PATH_MAX], daemon[PATH_MAX];
	char mnt[] = "/tmp/evfdfs-syslog-XXXXXX";
	char got[16384] = "";
	size_t len = 0;
	int p[2], st = 0, code;
	ssize_t n;
	pid_t pid;

	if (geteuid() != 0)
		cr_skip_test("needs root: a mount namespace with a /dev/log "
			     "of its own");
	if (evt_fuse_missing())
		cr_skip_test("%s", evt_fuse_missing());
	snprintf(rel, sizeof(rel), "%s/evfdfs", b);
	cr_assert(realpath(rel, daemon), "%s: %s", rel, strerror(errno));
	cr_assert(mkdtemp(mnt));
	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	pid = integ_fork();
	if (pid == 0) {
		close(p[0]);
		_exit(child(daemon, mnt, p[1]));
	}
	close(p[1]);
	while (len < sizeof(got) - 1 &&
	       (n = read(p[0], got + len, sizeof(got) - 1 - len)) > 0)
		len += (size_t)n;
	close(p[0]);
	for (size_t i = 0; i < len; i++)
		if (!got[i])
			got[i] = '\n'; /* one message a line */
	got[len] = '\0';
	cr_assert_eq(integ_reap(pid, &st, INTEG_WAIT_MS), 0);
	rmdir(mnt);
	code = integ_exit_code(st);
	if (code == 1 || (code >= 10 && code <= 13))
		cr_skip_test("cannot set up a private /dev: %s failed",
			     step[code]);
	cr_assert_eq(code, 0, "%s failed (exit %d); at /dev/log:\n%s",
		     code > 0 && code <= 8 ? step[code] : "?", code, got);
	/* LOG_DAEMON | LOG_INFO = 30, the ident and pid, our level. */
	cr_assert(strstr(got, "<30>") && strstr(got, "]: info: signal 15"),
		  "at /dev/log:\n%s", got);
}

/* The same message in the foreground goes to stderr, with pid and level. */
INTEG_TEST(daemon, foreground_daemon_logs_to_stderr, 60)
{
	struct evt_mount *m = integ_mount(NULL);
	char log[8192];
	int st = 0;

	cr_assert_eq(kill(m->pid, SIGTERM), 0);
	cr_assert_eq(integ_reap(m->pid, &st, INTEG_WAIT_MS), 0);
	m->pid = 0;
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %#x", st);
	cr_assert_gt(integ_read_file(m->log, log, sizeof(log)), 0);
	cr_assert(strstr(log, "evfdfs[") &&
			  strstr(log, "]: info: signal 15: unmounting\n"),
		  "log:\n%s", log);
	cr_assert_not(integ_is_mounted(m->dir));
	rmdir(m->dir);
	unlink(m->log);
	integ_forget_mount();
}
