// SPDX-License-Identifier: GPL-2.0-only
/*
 * The daemon's own life: SIGTERM and SIGINT unmount and exit 0 with a
 * clean log, also while readers are parked (they get an error, never a
 * hang); a daemon killed outright under load leaves its clients with an
 * error (ENOTCONN/ECONNABORTED, bounded), and a lazy unmount cleans up
 * the dead mount; mount(8) through mount.fuse3; and mount-helper.sh's
 * start, status, stale recovery and stop.  Each test has a private mount.
 */
#include <dirent.h>
#include <errno.h>
#include <evfdfs.h>
#include <fcntl.h>
#include <libaio.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "integ.h"

/*
 * A child that reads @name once and exits with the read's errno (0 means
 * the read succeeded, which no test here expects).
 */
static pid_t blocked_reader(const char *mnt, const char *name)
{
	char path[PATH_MAX];
	uint64_t v;
	pid_t pid = integ_fork();
	int fd, ret;

	if (pid)
		return pid;
	fd = open(evt_path(path, sizeof(path), mnt, name), O_RDWR);
	if (fd < 0)
		_exit(200);
	ret = integ_read_u64(fd, &v);
	_exit(-ret);
}

/* Wait for the daemon to exit on its own; returns its wait status. */
static int daemon_exit_status(struct evt_mount *m)
{
	int st = 0;

	cr_assert_eq(integ_reap(m->pid, &st, INTEG_WAIT_MS), 0,
		     "evfdfs did not exit");
	m->pid = 0; /* reaped: integ_fini() only cleans up after it */
	return st;
}

/* After the daemon is gone: no mount left, clean up its directory. */
static void after_daemon(struct evt_mount *m, bool want_clean_log)
{
	char why[1024] = "";

	cr_assert_not(integ_is_mounted(m->dir), "%s is still mounted", m->dir);
	if (want_clean_log)
		cr_assert(integ_log_clean(m->log, why, sizeof(why)),
			  "daemon log: %s", why);
	cr_assert_eq(rmdir(m->dir), 0, "rmdir %s: %s", m->dir, strerror(errno));
	unlink(m->log);
	integ_forget_mount();
}

static void signal_unmounts_and_exits_zero(int sig, int nreaders)
{
	struct evt_mount *m = integ_mount(NULL);
	pid_t *readers = calloc((size_t)nreaders + 1, sizeof(*readers));
	int fd, st, i, code;

	cr_assert(readers);
	fd = evt_create_counter(m->dir, "c", 0, false, 0);
	close(fd);
	for (i = 0; i < nreaders; i++)
		readers[i] = blocked_reader(m->dir, "c");
	if (nreaders)
		cr_assert(integ_wait_field(m->dir, "c", "readers", nreaders,
					   INTEG_WAIT_MS));
	cr_assert_eq(kill(m->pid, sig), 0);
	st = daemon_exit_status(m);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		  "evfdfs after %s: status %#x", strsignal(sig), st);
	for (i = 0; i < nreaders; i++) {
		cr_assert_eq(integ_reap(readers[i], &st, INTEG_WAIT_MS), 0,
			     "a parked reader hangs after the daemon exited");
		code = integ_exit_code(st);
		cr_assert(code > 0 && code < 200,
			  "parked reader: exit %d (0 = it read a value)", code);
	}
	free(readers);
	after_daemon(m, true);
}

INTEG_TEST(daemon, sigterm_unmounts_and_exits_zero, 60)
{
	signal_unmounts_and_exits_zero(SIGTERM, 0);
}

INTEG_TEST(daemon, sigint_unmounts_and_exits_zero, 60)
{
	signal_unmounts_and_exits_zero(SIGINT, 0);
}

INTEG_TEST(daemon, sigterm_with_parked_readers_fails_them_and_exits_zero, 90)
{
	signal_unmounts_and_exits_zero(SIGTERM, 5);
}

INTEG_TEST(daemon, fusermount_unmount_exits_zero_with_clean_log, 60)
{
	struct evt_mount *m = integ_mount(NULL);
	char path[PATH_MAX];
	uint64_t v;
	int fd;

	/* Some traffic first, so that shutdown has state to free. */
	fd = evt_create_counter(m->dir, "c", 3, true, 0);
	cr_assert_eq(integ_read_u64(fd, &v), 0);
	close(fd);
	fd = open(evt_path(path, sizeof(path), m->dir, "trace"), O_RDONLY);
	cr_assert(fd >= 0);
	close(fd);
	integ_unmount(); /* asserts exit 0 and a clean log */
	cr_assert_not(integ_is_mounted(path));
}

INTEG_TEST(daemon, killed_daemon_fails_clients_and_lazy_unmount_cleans_up, 90)
{
	struct evt_mount *m = integ_mount(NULL);
	char path[PATH_MAX], cmd[PATH_MAX + 64], out[256];
	pid_t readers[4];
	int fd, st, i, code;
	uint64_t v = 1;

	fd = evt_create_counter(m->dir, "c", 0, false, 0);
	for (i = 0; i < 4; i++)
		readers[i] = blocked_reader(m->dir, "c");
	cr_assert(integ_wait_field(m->dir, "c", "readers", 4, INTEG_WAIT_MS));

	cr_assert_eq(kill(m->pid, SIGKILL), 0);
	st = daemon_exit_status(m);
	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);

	/* Parked readers: an error, promptly. */
	for (i = 0; i < 4; i++) {
		cr_assert_eq(integ_reap(readers[i], &st, INTEG_WAIT_MS), 0,
			     "a reader hangs on the dead mount");
		code = integ_exit_code(st);
		cr_assert(code == ENOTCONN || code == ECONNABORTED,
			  "parked reader: %s (exit %d)",
			  code < 200 ? strerror(code) : "?", code);
	}
	/* Old descriptors and new calls alike. */
	cr_assert_eq(integ_write_u64(fd, v), -ENOTCONN);
	cr_assert_eq(integ_read_u64(fd, &v), -ENOTCONN);
	errno = 0;
	cr_assert_eq(open(evt_path(path, sizeof(path), m->dir, "c"), O_RDWR),
		     -1);
	cr_assert_eq(errno, ENOTCONN, "open: %s", strerror(errno));
	close(fd);

	/* The dead mount is still there until someone takes it down. */
	cr_assert(integ_is_mounted(m->dir));
	snprintf(cmd, sizeof(cmd), "fusermount3 -uz %s", m->dir);
	cr_assert_eq(evt_sh(cmd, out, sizeof(out)), 0, "%s", out);
	after_daemon(m, false);
}

struct lib_waiter {
	struct evfdfs_io_ctx *ctx;
	int ret;
};

static void *lib_waiter_main(void *arg)
{
	struct lib_waiter *w = arg;
	struct io_event ev;

	w->ret = evfdfs_io_getevents(w->ctx, 1, 1, &ev, NULL);
	return NULL;
}

/* ENOTCONN as a dead mount answers it (ECONNABORTED while aborting). */
static bool dead_mount_errno(int err)
{
	return err == ENOTCONN || err == ECONNABORTED;
}

/*
 * libevfdfs on a mount whose daemon was killed (libevfdfs(3), ERRORS):
 * a call waiting for completions returns the error rather than wait for
 * ever, submit fails with it, destroy still returns, and new counters and
 * contexts fail with ENOTCONN.
 */
INTEG_TEST(daemon, killed_daemon_fails_library_calls, 90)
{
	struct evt_mount *m = integ_mount(NULL);
	struct lib_waiter w = { 0 };
	struct evfdfs_io_ctx *ctx2 = NULL;
	struct iocb cb, *list[1] = { &cb };
	char cmd[PATH_MAX + 64], out[256];
	pthread_t t;
	int c, st, ret;

	cr_assert_eq(evfdfs_io_setup(m->dir, 4, &w.ctx), 0);
	c = evfdfs_eventfd(m->dir, 0, 0);
	cr_assert(c >= 0, "evfdfs_eventfd: %s", strerror(errno));
	io_prep_poll(&cb, c, POLLIN); /* pending: the counter stays 0 */
	cr_assert_eq(evfdfs_io_submit(w.ctx, 1, list), 1);
	cr_assert_eq(pthread_create(&t, NULL, lib_waiter_main, &w), 0);

	cr_assert_eq(kill(m->pid, SIGKILL), 0);
	st = daemon_exit_status(m);
	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);

	cr_assert_eq(pthread_join(t, NULL), 0);
	cr_assert(w.ret < 0 && dead_mount_errno(-w.ret),
		  "getevents on the dead mount: %d", w.ret);
	ret = evfdfs_io_submit(w.ctx, 1, list);
	cr_assert(ret < 0 && dead_mount_errno(-ret), "submit: %d", ret);
	cr_assert_eq(evfdfs_io_destroy(w.ctx), 0);
	errno = 0;
	cr_assert_eq(evfdfs_eventfd(m->dir, 0, 0), -1);
	cr_assert(dead_mount_errno(errno), "eventfd: %s", strerror(errno));
	ret = evfdfs_io_setup(m->dir, 4, &ctx2);
	cr_assert(ret < 0 && dead_mount_errno(-ret), "setup: %d", ret);
	close(c);

	snprintf(cmd, sizeof(cmd), "fusermount3 -uz %s", m->dir);
	cr_assert_eq(evt_sh(cmd, out, sizeof(out)), 0, "%s", out);
	after_daemon(m, false);
}

struct lib_waiter3 {
	struct evfdfs_io_ctx *ctx;
	struct io_event ev[3];
	_Atomic pid_t tid;
	int ret;
};

static void *lib_waiter3_main(void *arg)
{
	struct lib_waiter3 *w = arg;

	w->tid = gettid();
	w->ret = evfdfs_io_getevents(w->ctx, 3, 3, w->ev, NULL);
	return NULL;
}

/*
 * io_getevents(ctx, 3, 3, ..., NULL) holding one event when the daemon
 * dies (issue 9): the two requests still pending will never complete.  A
 * short count is allowed only as the last word: the call returns the
 * event it holds (or fails at once), and from then on every call on the
 * context fails with ENOTCONN, a zero-timeout one included, so the loss
 * is never taken for success (libevfdfs(3), ERRORS).  Before, the next
 * calls returned 0 as if the two requests were still to come.
 */
INTEG_TEST(daemon, killed_daemon_ends_a_short_getevents_with_an_error, 90)
{
	struct evt_mount *m = integ_mount(NULL);
	struct lib_waiter3 w = { 0 };
	struct timespec zero = { 0, 0 };
	struct iocb cb[3], *list[3] = { &cb[0], &cb[1], &cb[2] };
	char tmpl[] = "/tmp/evfdfs-dead-XXXXXX", buf[8];
	char cmd[PATH_MAX + 64], out[256];
	struct io_event ev[3];
	int c, done, file, st, ret;
	pthread_t t;
	uint64_t v;

	file = mkstemp(tmpl);
	cr_assert(file >= 0);
	unlink(tmpl);
	cr_assert_eq(write(file, "abcdefgh", 8), 8);
	cr_assert_eq(evfdfs_io_setup(m->dir, 4, &w.ctx), 0);
	c = evfdfs_eventfd(m->dir, 0, 0);    /* stays 0: the POLLs pend */
	done = evfdfs_eventfd(m->dir, 0, 0); /* the PREAD's RESFD */
	cr_assert(c >= 0 && done >= 0, "evfdfs_eventfd: %s", strerror(errno));
	io_prep_pread(&cb[0], file, buf, 8, 0);
	io_set_eventfd(&cb[0], done);
	io_prep_poll(&cb[1], c, POLLIN);
	io_prep_poll(&cb[2], c, POLLIN);
	cr_assert_eq(evfdfs_io_submit(w.ctx, 3, list), 3);
	cr_assert_eq(evfdfs_read(done, &v), 0, "the PREAD completed");
	cr_assert_eq(pthread_create(&t, NULL, lib_waiter3_main, &w), 0);
	while (!w.tid)
		sched_yield();
	cr_assert(integ_wait_wchan(w.tid, "poll", INTEG_WAIT_MS),
		  "the waiter never slept");

	cr_assert_eq(kill(m->pid, SIGKILL), 0);
	st = daemon_exit_status(m);
	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);

	cr_assert_eq(pthread_join(t, NULL), 0);
	if (w.ret >= 0) {
		cr_assert_eq(w.ret, 1, "getevents on the dead mount: %d",
			     w.ret);
		cr_assert_eq(w.ev[0].obj, (uintptr_t)&cb[0]);
		cr_assert_eq((long)w.ev[0].res, 8);
	} else {
		cr_assert(dead_mount_errno(-w.ret), "getevents: %d", w.ret);
	}
	/* From now on, the loss: whatever the wait asked for. */
	ret = evfdfs_io_getevents(w.ctx, 0, 3, ev, &zero);
	cr_assert(ret < 0 && dead_mount_errno(-ret), "min_nr 0: %d", ret);
	ret = evfdfs_io_getevents(w.ctx, 1, 3, ev, NULL);
	cr_assert(ret < 0 && dead_mount_errno(-ret), "min_nr 1: %d", ret);
	ret = evfdfs_io_submit(w.ctx, 1, list);
	cr_assert(ret < 0 && dead_mount_errno(-ret), "submit: %d", ret);
	cr_assert_eq(evfdfs_io_destroy(w.ctx), 0);
	close(c);
	close(done);
	close(file);

	snprintf(cmd, sizeof(cmd), "fusermount3 -uz %s", m->dir);
	cr_assert_eq(evt_sh(cmd, out, sizeof(out)), 0, "%s", out);
	after_daemon(m, false);
}

/*
 * Mounted the way /etc/fstab and mount(8) do it: mount(8) runs
 * mount.fuse3, which starts the daemon with a source argument, the mount
 * point and "-o" options of its own, and the daemon goes to the
 * background.  The type here is "fuse" with the program's path before the
 * '#', because mount(8) runs its helper with a PATH of its own, where a
 * "fuse.evfdfs" type would look for "evfdfs" (README: after make install).
 */
INTEG_TEST(daemon, mounts_through_mount_fuse3, 60)
{
	char dir[] = "/tmp/evfdfs-mount8-XXXXXX";
	char daemon[PATH_MAX], abs[PATH_MAX], cmd[3 * PATH_MAX], out[4096];
	const char *b = getenv("B") && *getenv("B") ? getenv("B") : "build";
	long long deadline;
	bool mounted, gone = false;
	uint64_t v = 0;
	pid_t pid;
	int fd, rc, st = 0;

	if (evt_sh("command -v mount.fuse3 || test -x /sbin/mount.fuse3", out,
		   sizeof(out)) != 0)
		cr_skip_test("mount.fuse3 is not installed (package fuse3)");
	snprintf(daemon, sizeof(daemon), "%s/evfdfs", b);
	cr_assert(realpath(daemon, abs), "%s: %s", daemon, strerror(errno));
	cr_assert(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd),
		 "mount -t fuse '%s#evfdfs' %s -o allow_other", abs, dir);
	rc = evt_sh(cmd, out, sizeof(out));
	mounted = integ_is_mounted(dir);
	cr_expect_eq(rc, 0, "%s: %s", cmd, out);
	cr_expect(mounted, "%s did not mount: %s", cmd, out);
	pid = mounted ? integ_find_daemon(dir) : 0;
	cr_expect_gt(pid, 0, "no daemon with %s in its command line", dir);
	if (mounted) {
		fd = evt_create_counter(dir, "fstab", 5, false, 0);
		cr_expect_eq(integ_read_u64(fd, &v), 0);
		cr_expect_eq(v, 5);
		close(fd);
		snprintf(cmd, sizeof(cmd), "fusermount3 -u %s", dir);
		cr_expect_eq(evt_sh(cmd, out, sizeof(out)), 0, "%s", out);
		/*
		 * The daemon went to the background, and this test process
		 * is the subreaper (integ_init), so it is our child now.
		 */
		deadline = evt_now_ms() + INTEG_WAIT_MS;
		while (pid > 0 && !gone && evt_now_ms() < deadline) {
			gone = waitpid(pid, &st, WNOHANG) == pid;
			if (!gone)
				usleep(5000);
		}
		cr_expect(gone, "the daemon stayed after the unmount");
		cr_expect(gone && WIFEXITED(st) && WEXITSTATUS(st) == 0,
			  "the daemon ended with status %#x", st);
		if (integ_is_mounted(dir)) {
			snprintf(cmd, sizeof(cmd), "fusermount3 -uz %s", dir);
			evt_sh(cmd, out, sizeof(out));
		}
	}
	rmdir(dir);
}

/* Run "./mount-helper.sh ARGS" with its state in @state; its exit code. */
static int helper(const char *state, const char *args, char *out, size_t len)
{
	char cmd[3 * PATH_MAX];
	int st;

	snprintf(cmd, sizeof(cmd),
		 "EVFDFS_STATE_DIR=%s EVFDFS_DEADLINE=15 ./mount-helper.sh %s",
		 state, args);
	st = evt_sh(cmd, out, len);
	return st;
}

/* The pid in "... pid N ..." of the helper's output, or 0. */
static pid_t pid_in(const char *out)
{
	const char *p = strstr(out, "pid ");

	return p ? (pid_t)atoi(p + 4) : 0;
}

/*
 * The README's first command, and the helper's promises: start mounts at
 * the mount point it is given and returns once the mount answers; status
 * says mounted and by which pid (exit 0), stale once the daemon was
 * killed (2), not mounted (3); start recovers the stale mount ("Transport
 * endpoint is not connected") instead of failing; stop unmounts and
 * waits for the daemon, which exits 0.  The daemon is started by setsid
 * from the script, so it becomes this subreaper's child once the script
 * is gone.
 */
INTEG_TEST(daemon, mount_helper_starts_recovers_and_stops, 180)
{
	char mnt[] = "/tmp/evfdfs-helper-XXXXXX";
	char state[] = "/tmp/evfdfs-helper-state-XXXXXX";
	char out[4096], args[PATH_MAX + 16], path[PATH_MAX], cmd[2 * PATH_MAX];
	pid_t first, second;
	uint64_t v = 0;
	int fd, st;

	if (access("mount-helper.sh", X_OK) != 0)
		cr_skip_test("no ./mount-helper.sh here (tests run from the "
			     "source tree)");
	cr_assert(mkdtemp(mnt) && mkdtemp(state));
	snprintf(args, sizeof(args), "status %s", mnt);
	cr_expect_eq(helper(state, args, out, sizeof(out)), 3, "%s", out);

	snprintf(args, sizeof(args), "start %s", mnt);
	cr_assert_eq(helper(state, args, out, sizeof(out)), 0, "%s", out);
	first = pid_in(out);
	cr_assert_gt(first, 0, "no pid in: %s", out);
	integ_adopt(first);
	fd = evt_create_counter(mnt, "h", 3, false, 0);
	cr_expect_eq(integ_read_u64(fd, &v), 0, "the mount answers");
	cr_expect_eq(v, 3);
	close(fd);
	snprintf(args, sizeof(args), "status %s", mnt);
	cr_expect_eq(helper(state, args, out, sizeof(out)), 0, "%s", out);
	cr_expect_eq(pid_in(out), first, "%s", out);

	/* Killed: a stale mount, which status reports and start recovers. */
	cr_assert_eq(kill(first, SIGKILL), 0);
	cr_assert_eq(integ_reap(first, &st, INTEG_WAIT_MS), 0);
	errno = 0;
	cr_expect_lt(open(evt_path(path, sizeof(path), mnt, "h"), O_RDWR), 0);
	cr_expect_eq(errno, ENOTCONN, "open: %s", strerror(errno));
	snprintf(args, sizeof(args), "status %s", mnt);
	cr_expect_eq(helper(state, args, out, sizeof(out)), 2, "%s", out);
	snprintf(args, sizeof(args), "start %s", mnt);
	cr_assert_eq(helper(state, args, out, sizeof(out)), 0, "%s", out);
	cr_expect(strstr(out, "recovering a stale mount"), "%s", out);
	second = pid_in(strstr(out, "mounted at") ? strstr(out, "mounted at")
						  : out);
	cr_assert_gt(second, 0, "no pid in: %s", out);
	cr_expect_neq(second, first);
	integ_adopt(second);
	fd = evt_create_counter(mnt, "h2", 4, false, 0);
	cr_expect_eq(integ_read_u64(fd, &v), 0, "the new mount answers");
	cr_expect_eq(v, 4);
	close(fd);

	snprintf(args, sizeof(args), "stop %s", mnt);
	cr_expect_eq(helper(state, args, out, sizeof(out)), 0, "%s", out);
	cr_expect(!integ_is_mounted(mnt), "still mounted after stop");
	cr_assert_eq(integ_reap(second, &st, INTEG_WAIT_MS), 0,
		     "the daemon is still running after stop");
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0,
		  "the daemon ended with status %#x", st);
	snprintf(args, sizeof(args), "status %s", mnt);
	cr_expect_eq(helper(state, args, out, sizeof(out)), 3, "%s", out);

	if (integ_is_mounted(mnt)) {
		snprintf(cmd, sizeof(cmd), "fusermount3 -uz %s", mnt);
		evt_sh(cmd, out, sizeof(out));
	}
	rmdir(mnt);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", state);
	evt_sh(cmd, out, sizeof(out));
}

/* The command line: --version and --help exit 0 and say what they
 * should; no mount point, or an option nobody knows, fail with a message. */
INTEG_TEST(daemon, command_line_version_help_and_errors, 30)
{
	const char *b = getenv("B") && *getenv("B") ? getenv("B") : "build";
	char cmd[PATH_MAX + 64], out[8192];

	snprintf(cmd, sizeof(cmd), "%s/evfdfs --version", b);
	cr_expect_eq(evt_sh(cmd, out, sizeof(out)), 0, "%s", out);
	cr_expect(strstr(out, "evfdfs version 0.1.0"), "%s", out);
	cr_expect(strstr(out, "FUSE kernel interface"), "%s", out);
	snprintf(cmd, sizeof(cmd), "%s/evfdfs -V", b);
	cr_expect_eq(evt_sh(cmd, out, sizeof(out)), 0, "%s", out);
	snprintf(cmd, sizeof(cmd), "%s/evfdfs --help", b);
	cr_expect_eq(evt_sh(cmd, out, sizeof(out)), 0, "%s", out);
	cr_expect(strstr(out, "MOUNTPOINT") && strstr(out, "-o aio_max=N") &&
			  strstr(out, "allow_other"),
		  "%s", out);
	snprintf(cmd, sizeof(cmd), "%s/evfdfs", b);
	cr_expect_neq(evt_sh(cmd, out, sizeof(out)), 0, "%s", out);
	cr_expect(strstr(out, "usage:"), "%s", out);
	snprintf(cmd, sizeof(cmd), "%s/evfdfs --bogus /tmp/evfdfs-never", b);
	cr_expect_neq(evt_sh(cmd, out, sizeof(out)), 0, "%s", out);
	cr_expect(strstr(out, "unknown option"), "%s", out);
}

/* Run "B/evfdfs ARGS" (through sh); its exit code, output in @out. */
static int run_daemon(const char *args, char *out, size_t len)
{
	const char *b = getenv("B") && *getenv("B") ? getenv("B") : "build";
	char cmd[PATH_MAX + 256];

	snprintf(cmd, sizeof(cmd), "%s/evfdfs %s", b, args);
	return evt_sh(cmd, out, len);
}

/*
 * --version on a pipe (fully buffered stdout): evfdfs's version, then
 * libfuse's, then the kernel interface's, in that order, whatever
 * fusermount3 (a child writing to the same pipe) prints after them.
 */
INTEG_TEST(daemon, version_order_is_fixed_on_a_pipe, 30)
{
	char out[4096], *l2, *l3;

	cr_assert_eq(run_daemon("--version | cat", out, sizeof(out)), 0, "%s",
		     out);
	l2 = strchr(out, '\n');
	l3 = l2 ? strchr(l2 + 1, '\n') : NULL;
	cr_assert(l2 && l3, "%s", out);
	cr_expect(strncmp(out, "evfdfs version " EVFDFS_VERSION "\n",
			  (size_t)(l2 - out + 1)) == 0,
		  "first line:\n%s", out);
	cr_expect(strncmp(l2 + 1, "FUSE library version 3.", 23) == 0,
		  "second line:\n%s", out);
	cr_expect(strncmp(l3 + 1, "using FUSE kernel interface version 7.",
			  38) == 0,
		  "third line:\n%s", out);
}

/* --help names what works here, and none of libfuse's thread options,
 * which do nothing in a daemon with one event-loop thread. */
INTEG_TEST(daemon, help_lists_only_what_works, 30)
{
	static const char *const works[] = {
		"-f ",
		"-d, -o debug",
		"-o allow_other",
		"-o allow_root",
		"-o auto_unmount",
		"-o trace_buf=BYTES",
		"-o trace_max=BYTES",
		"-o aio_max=N",
		"-o aio_workers=N",
		"--help",
		"--version",
		"syslog",
	};
	static const char *const not_here[] = { "max_threads", "clone_fd",
						"max_idle_threads",
						"multi-threaded" };
	char out[8192];
	size_t i;

	cr_assert_eq(run_daemon("--help", out, sizeof(out)), 0, "%s", out);
	for (i = 0; i < sizeof(works) / sizeof(works[0]); i++)
		cr_expect(strstr(out, works[i]), "no \"%s\" in:\n%s", works[i],
			  out);
	for (i = 0; i < sizeof(not_here) / sizeof(not_here[0]); i++)
		cr_expect(!strstr(out, not_here[i]), "\"%s\" in:\n%s",
			  not_here[i], out);
	/* Those options are refused, by name, rather than ignored. */
	cr_expect_neq(run_daemon("-o max_threads=4 /tmp/evfdfs-never", out,
				 sizeof(out)),
		      0, "%s", out);
	cr_expect(strstr(out, "max_threads=4"), "%s", out);
}

/* Every option error names the argument that caused it. */
INTEG_TEST(daemon, option_errors_name_the_option, 30)
{
	static const struct {
		const char *args, *named;
	} cases[] = {
		{ "-o trace_buf=10 /tmp/evfdfs-never", "trace_buf=10" },
		{ "-o trace_max=10 /tmp/evfdfs-never", "trace_max=10" },
		{ "-o aio_max=0 /tmp/evfdfs-never", "aio_max=0" },
		{ "-o aio_workers=x /tmp/evfdfs-never", "aio_workers=x" },
		{ "-o aio_workers=-1 /tmp/evfdfs-never", "aio_workers=-1" },
		{ "-o trace_buf=4294967296 /tmp/evfdfs-never",
		  "trace_buf=4294967296" },
		{ "-o clone_fd /tmp/evfdfs-never", "clone_fd" },
		{ "-o bogus /tmp/evfdfs-never", "bogus" },
		{ "--bogus /tmp/evfdfs-never", "--bogus" },
		{ "a b /tmp/evfdfs-never", "/tmp/evfdfs-never" },
	};
	char out[4096];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_expect_neq(run_daemon(cases[i].args, out, sizeof(out)), 0,
			      "%s: %s", cases[i].args, out);
		cr_expect(strstr(out, cases[i].named),
			  "evfdfs %s: the message does not name \"%s\":\n%s",
			  cases[i].args, cases[i].named, out);
	}
}

/*
 * mount-helper.sh start on a mount point served by another daemon binary
 * (a copy, as another build would be) says so, names both, and fails,
 * leaving that mount alone; on its own build's mount it says "already
 * mounted" and succeeds.
 */
INTEG_TEST(daemon, mount_helper_tells_another_build_from_its_own, 120)
{
	char mnt[] = "/tmp/evfdfs-other-XXXXXX";
	char state[] = "/tmp/evfdfs-other-state-XXXXXX";
	char bin[] = "/tmp/evfdfs-other-bin-XXXXXX";
	char other[PATH_MAX], cmd[3 * PATH_MAX], out[4096], args[PATH_MAX];
	const char *b = getenv("B") && *getenv("B") ? getenv("B") : "build";
	long long deadline;
	pid_t pid, mine;
	int st;

	if (access("mount-helper.sh", X_OK) != 0)
		cr_skip_test("no ./mount-helper.sh here (tests run from the "
			     "source tree)");
	if (evt_fuse_missing())
		cr_skip_test("%s", evt_fuse_missing());
	cr_assert(mkdtemp(mnt) && mkdtemp(state) && mkdtemp(bin));
	snprintf(other, sizeof(other), "%s/evfdfs", bin);
	snprintf(cmd, sizeof(cmd), "cp %s/evfdfs %s", b, other);
	cr_assert_eq(evt_sh(cmd, out, sizeof(out)), 0, "%s", out);

	pid = integ_fork();
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);

		dup2(fd, 1);
		dup2(fd, 2);
		execl(other, other, "-f", mnt, (char *)NULL);
		_exit(127);
	}
	deadline = evt_now_ms() + INTEG_WAIT_MS;
	while (!integ_is_mounted(mnt) && evt_now_ms() < deadline)
		usleep(5000);
	cr_assert(integ_is_mounted(mnt), "the copy did not mount");

	snprintf(args, sizeof(args), "start %s", mnt);
	cr_expect_neq(helper(state, args, out, sizeof(out)), 0, "%s", out);
	snprintf(cmd, sizeof(cmd), "pid %d", (int)pid);
	cr_expect(strstr(out, cmd) && strstr(out, other) && strstr(out, "stop"),
		  "expected pid %d, %s and what to do:\n%s", (int)pid, other,
		  out);
	cr_expect(integ_is_mounted(mnt) && kill(pid, 0) == 0,
		  "the other build's mount was touched");
	cr_assert_eq(kill(pid, SIGTERM), 0);
	cr_assert_eq(integ_reap(pid, &st, INTEG_WAIT_MS), 0);

	/* Its own: reused, and said so. */
	cr_assert_eq(helper(state, args, out, sizeof(out)), 0, "%s", out);
	mine = pid_in(out);
	cr_assert_gt(mine, 0, "no pid in: %s", out);
	integ_adopt(mine);
	cr_expect_eq(helper(state, args, out, sizeof(out)), 0, "%s", out);
	cr_expect(strstr(out, "already mounted"), "%s", out);
	snprintf(args, sizeof(args), "stop %s", mnt);
	cr_expect_eq(helper(state, args, out, sizeof(out)), 0, "%s", out);
	cr_expect_eq(integ_reap(mine, &st, INTEG_WAIT_MS), 0);

	if (integ_is_mounted(mnt)) {
		snprintf(cmd, sizeof(cmd), "fusermount3 -uz %s", mnt);
		evt_sh(cmd, out, sizeof(out));
	}
	rmdir(mnt);
	snprintf(cmd, sizeof(cmd), "rm -rf %s %s", state, bin);
	evt_sh(cmd, out, sizeof(out));
}
