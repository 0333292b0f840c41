// SPDX-License-Identifier: GPL-2.0-only
/*
 * Nothing one caller asks for may hold a FUSE request, a worker or the
 * control files' inode lock for long (issue 9): a PREAD of a pty slave
 * nobody types into, of a FIFO nobody writes to, or of a socket, is
 * accepted at once and waits for readiness in the daemon (on Linux it
 * would sleep inside io_submit).  Meanwhile another user's writes to `aio`
 * and `aio.txt` are answered, the submitter can be killed, the read
 * completes with the data once some is typed, and destroying the context
 * ends it (-EINTR) and signals its RESFD.  A write that does wait for a
 * worker (a read of a file of another FUSE mount) is answered when its
 * caller is killed (FUSE INTERRUPT).
 *
 * Every submission that could hang runs in a child, so that a daemon
 * that fails these tests leaves the test process free to report it; the
 * .fini types into the device (and closes it) before it reaps, which ends
 * what a failed run left asleep.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libaio.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <evfdfs.h>

#include "integ.h"

#define NOBODY 65534

enum tkind { T_PTY, T_FIFO, T_SOCK };

/* What a reader waits on, and where the test types to end the wait. */
struct target {
	enum tkind kind;
	int rfd;		/* the reader's descriptor */
	int wfd;		/* the other end */
	char path[PATH_MAX];	/* for aio.txt lines, or "" (a socket) */
	char dir[64];		/* the FIFO's directory */
	char unstick[PATH_MAX]; /* a counter to read at the end, or "" */
	char file[64];		/* a regular file to unlink at the end */
	int pipes[8];		/* the test's ends, closed at the end */
	int npipes;
};

static struct target tg = { .rfd = -1, .wfd = -1 };

/* Type into the device and close it (and read the counter), so that
 * whatever a failed run left asleep wakes up; then the usual clean-up. */
static void wait_fini(void)
{
	uint64_t v;
	int fd, i;

	if (tg.wfd >= 0) {
		if (write(tg.wfd, "bye\nbye\nbye\n", 12) < 0) {
			/* nothing more to do */
		}
		close(tg.wfd);
	}
	if (tg.rfd >= 0)
		close(tg.rfd);
	if (tg.unstick[0]) {
		fd = open(tg.unstick, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd >= 0) {
			if (read(fd, &v, sizeof(v)) < 0) {
				/* nothing more to do */
			}
			close(fd);
		}
	}
	for (i = 0; i < tg.npipes; i++)
		close(tg.pipes[i]);
	if (tg.file[0])
		unlink(tg.file);
	integ_fini();
	if (tg.kind == T_FIFO && tg.path[0]) {
		unlink(tg.path);
		rmdir(tg.dir);
	}
	memset(&tg, 0, sizeof(tg));
	tg.rfd = tg.wfd = -1;
}

/* A regular file of "abcd" that wait_fini() removes; its path. */
static const char *abcd_file(void)
{
	int fd;

	snprintf(tg.file, sizeof(tg.file), "/var/tmp/evfdfs-wait-XXXXXX");
	fd = mkstemp(tg.file);
	cr_assert(fd >= 0, "mkstemp: %s", strerror(errno));
	cr_assert_eq(write(fd, "abcd", 4), 4);
	close(fd);
	return tg.file;
}

/* A pipe whose ends wait_fini() closes (the child closes its own). */
static void tpipe(int p[2])
{
	cr_assert(tg.npipes + 2 <= 8);
	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	tg.pipes[tg.npipes++] = p[0];
	tg.pipes[tg.npipes++] = p[1];
}

#define WAIT_TEST(name)                                             \
	Test(aio_wait, name, .init = integ_init, .fini = wait_fini, \
	     .timeout = 150)

/* Make tg a @kind whose reader side @owner may use (open by path too). */
static void target_new(enum tkind kind, uid_t owner)
{
	char name[PATH_MAX];
	int sv[2];

	tg.kind = kind;
	switch (kind) {
	case T_PTY:
		cr_assert_eq(openpty(&tg.wfd, &tg.rfd, name, NULL, NULL), 0,
			     "openpty: %s", strerror(errno));
		cr_assert_eq(fchown(tg.rfd, owner, (gid_t)-1), 0);
		snprintf(tg.path, sizeof(tg.path), "%s", name);
		break;
	case T_FIFO:
		snprintf(tg.dir, sizeof(tg.dir), "/var/tmp/evfdfs-wait-XXXXXX");
		cr_assert(mkdtemp(tg.dir));
		cr_assert_eq(chmod(tg.dir, 0755), 0);
		snprintf(tg.path, sizeof(tg.path), "%s/fifo", tg.dir);
		cr_assert_eq(mkfifo(tg.path, 0600), 0);
		cr_assert_eq(chown(tg.path, owner, (gid_t)-1), 0);
		/* O_RDWR: a writer always exists, so a read waits */
		tg.rfd = open(tg.path, O_RDWR | O_CLOEXEC);
		tg.wfd = open(tg.path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
		cr_assert(tg.rfd >= 0 && tg.wfd >= 0);
		break;
	case T_SOCK:
		cr_assert_eq(
			socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
			0);
		tg.rfd = sv[0];
		tg.wfd = sv[1];
		tg.path[0] = '\0';
		break;
	}
}

static void become_nobody(void)
{
	gid_t groups[] = { NOBODY };

	if (setgroups(1, groups) || setgid(NOBODY) || setuid(NOBODY))
		_exit(90);
}

/* One byte from @fd within the deadline, or 0. */
static char wait_byte(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char c = 0;

	if (poll(&p, 1, ms) == 1 && read(fd, &c, 1) != 1)
		c = 0;
	return c;
}

static void say(int fd, char c)
{
	if (write(fd, &c, 1) != 1)
		_exit(80);
}

/* Read aio.txt until a whole line starting with "@tag " came; 0 or -1. */
static int text_line(int fd, const char *tag, char *line, size_t cap)
{
	size_t len = 0, tl = strlen(tag);
	char *nl;
	ssize_t n;

	for (;;) {
		n = read(fd, line + len, cap - 1 - len);
		if (n <= 0)
			return -1;
		len += (size_t)n;
		line[len] = '\0';
		while ((nl = strchr(line, '\n'))) {
			if (strncmp(line, tag, tl) == 0 && line[tl] == ' ')
				return 0;
			len -= (size_t)(nl + 1 - line);
			memmove(line, nl + 1, len + 1);
		}
		if (len + 1 >= cap)
			return -1;
	}
}

/* What a submitting child does after its write was answered. */
enum after {
	A_DATA,	 /* wait for the completion: "hello\n" */
	A_PAUSE, /* sleep until killed */
	A_CLOSE, /* close (io_destroy) when told, then exit */
};

/*
 * A child that submits a PREAD of 16 bytes of tg.rfd (binary, through
 * libevfdfs) or of tg.path (aio.txt, tag "t"), with RESFD @resfd (a
 * counter name of @mnt) if not NULL, and says 'w' on @out once its write
 * was answered.  Exits 0 when what @after asks went as expected.
 */
static void submitter(const char *mnt, bool text, const char *resfd,
		      enum after after, bool nobody, int out, int in)
{
	char path[PATH_MAX], line[512], buf[16];
	struct evfdfs_io_ctx *ctx = NULL;
	struct timespec ts = { INTEG_WAIT_MS / 1000, 0 };
	struct iocb cb, *cbs[1] = { &cb };
	struct io_event ev;
	int fd = -1, cfd = -1, n;

	if (nobody)
		become_nobody();
	if (text) {
		fd = open(evt_path(path, sizeof(path), mnt, "aio.txt"),
			  O_RDWR | O_CLOEXEC);
		if (fd < 0)
			_exit(10);
		n = snprintf(line, sizeof(line), "pread data=t%s%s %s 0 16\n",
			     resfd ? " resfd=" : "", resfd ? resfd : "",
			     tg.path);
		if (write(fd, line, (size_t)n) != n)
			_exit(11);
	} else {
		if (evfdfs_io_setup(mnt, 8, &ctx))
			_exit(12);
		io_prep_pread(&cb, tg.rfd, buf, sizeof(buf), 0);
		if (resfd) {
			cfd = open(evt_path(path, sizeof(path), mnt, resfd),
				   O_RDWR | O_CLOEXEC);
			if (cfd < 0)
				_exit(13);
			io_set_eventfd(&cb, cfd);
		}
		if (evfdfs_io_submit(ctx, 1, cbs) != 1)
			_exit(14);
	}
	say(out, 'w');
	switch (after) {
	case A_DATA:
		if (text) {
			if (text_line(fd, "t", line, sizeof(line)))
				_exit(20);
			if (strcmp(line, "t pread 6 hello\\n\n") != 0)
				_exit(21);
		} else {
			if (evfdfs_io_getevents(ctx, 1, 1, &ev, &ts) != 1)
				_exit(22);
			if (ev.res != 6 || memcmp(buf, "hello\n", 6) != 0)
				_exit(23);
		}
		break;
	case A_PAUSE:
		for (;;)
			pause();
	case A_CLOSE:
		if (wait_byte(in, INTEG_WAIT_MS) != 'c')
			_exit(30);
		if (text)
			close(fd);
		else if (evfdfs_io_destroy(ctx))
			_exit(31);
		fd = -1;
		ctx = NULL;
		say(out, 'd');
		break;
	}
	if (fd >= 0)
		close(fd);
	if (ctx)
		evfdfs_io_destroy(ctx);
	if (cfd >= 0)
		close(cfd);
	_exit(0);
}

static pid_t spawn(const char *mnt, bool text, const char *resfd,
		   enum after after, bool nobody, int *out, int *in)
{
	int o[2], i[2];
	pid_t pid;

	tpipe(o);
	tpipe(i);
	pid = integ_fork();
	if (pid == 0) {
		close(o[0]);
		close(i[1]);
		submitter(mnt, text, resfd, after, nobody, o[1], i[0]);
	}
	*out = o[0];
	*in = i[1];
	return pid;
}

static void expect_exit0(pid_t pid, const char *what)
{
	int st;

	cr_assert_eq(integ_reap(pid, &st, INTEG_WAIT_MS), 0,
		     "%s: still running (asleep in the kernel?)", what);
	cr_expect_eq(integ_exit_code(st), 0, "%s: exit %d", what,
		     integ_exit_code(st));
}

/* @c from @pid on @out, or fail with why (its exit code if it died). */
static void expect_byte(pid_t pid, int out, char c, const char *what)
{
	int st;

	if (wait_byte(out, INTEG_WAIT_MS) == c)
		return;
	if (integ_reap(pid, &st, 0) == 0)
		cr_assert_fail("%s: the child exited %d", what,
			       integ_exit_code(st));
	cr_assert_fail("%s", what);
}

/* ---- completion with the data ---------------------------------------- */

static void completes_with_data(enum tkind kind, bool text)
{
	const char *mnt = evt_shared_mnt();
	int out, in;
	pid_t pid;

	target_new(kind, 0);
	pid = spawn(mnt, text, NULL, A_DATA, false, &out, &in);
	expect_byte(pid, out, 'w', "the submitting write was not answered");
	cr_assert_eq(write(tg.wfd, "hello\n", 6), 6);
	expect_exit0(pid, "reader");
}

WAIT_TEST(pty_pread_text_completes_with_the_data_once_typed)
{
	completes_with_data(T_PTY, true);
}

WAIT_TEST(pty_pread_binary_completes_with_the_data_once_typed)
{
	completes_with_data(T_PTY, false);
}

WAIT_TEST(fifo_pread_text_completes_with_the_data_once_written)
{
	completes_with_data(T_FIFO, true);
}

WAIT_TEST(fifo_pread_binary_completes_with_the_data_once_written)
{
	completes_with_data(T_FIFO, false);
}

WAIT_TEST(socket_pread_binary_completes_with_the_data_once_sent)
{
	completes_with_data(T_SOCK, false);
}

/* ---- io_destroy with the read pending --------------------------------- */

/* Is there an aio-complete line in @buf with @want and then @res? */
static bool has_completion(const char *buf, const char *want, const char *res)
{
	const char *p, *nl;

	for (p = strstr(buf, " aio-complete "); p;
	     p = strstr(p + 1, " aio-complete ")) {
		nl = strchr(p, '\n');
		if (!nl)
			return false;
		p = strstr(p, want);
		if (p && p < nl && strstr(p, res) && strstr(p, res) < nl)
			return true;
		p = nl;
	}
	return false;
}

/* Read @fd (non-blocking) until has_completion() or the deadline. */
static bool read_until(int fd, char *buf, size_t cap, const char *want,
		       const char *res)
{
	long long deadline = evt_now_ms() + INTEG_WAIT_MS;
	size_t len = strlen(buf);
	ssize_t n;

	while (!has_completion(buf, want, res) && evt_now_ms() < deadline) {
		n = read(fd, buf + len, cap - 1 - len);
		if (n > 0)
			len += (size_t)n;
		buf[len] = '\0';
		if (n <= 0)
			usleep(2000);
		if (len + 1 >= cap)
			return false;
	}
	return has_completion(buf, want, res);
}

static void destroy_ends_it(enum tkind kind, bool text)
{
	const char *mnt = evt_shared_mnt();
	static char trace[1 << 20];
	char name[64], path[PATH_MAX], want[128];
	int out, in, tfd, cfd;
	uint64_t v = 0;
	pid_t pid;

	target_new(kind, 0);
	evt_unique(name, sizeof(name), "wait");
	cfd = evt_create_counter(mnt, name, 0, false, O_RDONLY | O_NONBLOCK);
	tfd = open(evt_path(path, sizeof(path), mnt, "trace"),
		   O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	cr_assert(tfd >= 0);
	pid = spawn(mnt, text, name, A_CLOSE, false, &out, &in);
	expect_byte(pid, out, 'w', "the submitting write was not answered");
	cr_assert_eq(write(in, "c", 1), 1);
	cr_assert_eq(wait_byte(out, INTEG_WAIT_MS), 'd',
		     "closing the context did not return");
	expect_exit0(pid, "reader");
	/* the read ended -EINTR, and signalled its counter */
	snprintf(want, sizeof(want), "pid=%d op=pread ", (int)pid);
	trace[0] = '\0';
	cr_expect(read_until(tfd, trace, sizeof(trace), want, "res=-4"),
		  "no aio-complete \"%s... res=-4\" in the trace:\n%s", want,
		  trace);
	cr_assert(integ_wait_field(mnt, name, "count", 1, INTEG_WAIT_MS),
		  "the RESFD counter was not signalled");
	cr_assert_eq(integ_read_u64(cfd, &v), 0);
	cr_expect_eq(v, 1);
	close(tfd);
	close(cfd);
	unlink(evt_path(path, sizeof(path), mnt, name));
}

WAIT_TEST(pty_pread_text_pending_at_close_ends_eintr_and_signals_resfd)
{
	destroy_ends_it(T_PTY, true);
}

WAIT_TEST(pty_pread_binary_pending_at_destroy_ends_eintr_and_signals_resfd)
{
	destroy_ends_it(T_PTY, false);
}

WAIT_TEST(fifo_pread_text_pending_at_close_ends_eintr_and_signals_resfd)
{
	destroy_ends_it(T_FIFO, true);
}

WAIT_TEST(socket_pread_binary_pending_at_destroy_ends_eintr_and_signals_resfd)
{
	destroy_ends_it(T_SOCK, false);
}

/* ---- another user ---------------------------------------------------- */

/* Wait until @mnt's status shows a context of @pid with @n in flight. */
static bool wait_ctx(const char *mnt, pid_t pid, int n)
{
	long long deadline = evt_now_ms() + INTEG_WAIT_MS;
	static char st[1 << 16];
	char key[64], fl[32], *p, *e;

	snprintf(key, sizeof(key), " pid=%d ", (int)pid);
	snprintf(fl, sizeof(fl), " inflight=%d ", n);
	while (evt_now_ms() < deadline) {
		integ_status(mnt, st, sizeof(st));
		for (p = strstr(st, "aio ctx="); p; p = strstr(e, "aio ctx=")) {
			e = strchr(p, '\n');
			if (!e)
				break;
			*e = '\0';
			if (strstr(p, key) && strstr(p, fl))
				return true;
			*e++ = '\n';
		}
		usleep(5000);
	}
	return false;
}

/* Root's writes to aio.txt and aio, each with a read of a regular file
 * that must complete: the child exits 0 when both did. */
static pid_t root_writes(const char *mnt, const char *file)
{
	char path[PATH_MAX], line[512], buf[8];
	struct evfdfs_io_ctx *ctx = NULL;
	struct timespec ts = { INTEG_WAIT_MS / 1000, 0 };
	struct iocb cb, *cbs[1] = { &cb };
	struct io_event ev;
	pid_t pid = integ_fork();
	int fd, ffd, n;

	if (pid)
		return pid;
	fd = open(evt_path(path, sizeof(path), mnt, "aio.txt"),
		  O_RDWR | O_CLOEXEC);
	if (fd < 0)
		_exit(40);
	n = snprintf(line, sizeof(line), "pread data=r %s 0 4\n", file);
	if (write(fd, line, (size_t)n) != n)
		_exit(41);
	if (text_line(fd, "r", line, sizeof(line)) ||
	    strcmp(line, "r pread 4 abcd\n") != 0)
		_exit(42);
	close(fd);
	ffd = open(file, O_RDONLY | O_CLOEXEC);
	if (ffd < 0 || evfdfs_io_setup(mnt, 4, &ctx))
		_exit(43);
	io_prep_pread(&cb, ffd, buf, 4, 0);
	if (evfdfs_io_submit(ctx, 1, cbs) != 1)
		_exit(44);
	if (evfdfs_io_getevents(ctx, 1, 1, &ev, &ts) != 1 || ev.res != 4 ||
	    memcmp(buf, "abcd", 4))
		_exit(45);
	evfdfs_io_destroy(ctx);
	close(ffd);
	_exit(0);
}

static void other_user(enum tkind kind, bool text)
{
	static const char *const argv[] = { "-o", "allow_other", NULL };
	struct evt_mount *m = integ_mount(argv);
	const char *file = abcd_file();
	int out, in, st;
	pid_t pid, root;

	target_new(kind, NOBODY);
	pid = spawn(m->dir, text, NULL, A_PAUSE, true, &out, &in);
	cr_assert(wait_ctx(m->dir, pid, 1),
		  "the read of user %d never reached the daemon", NOBODY);
	root = root_writes(m->dir, file);
	expect_exit0(root, "root's writes to aio.txt and aio");
	cr_expect_eq(wait_byte(out, INTEG_WAIT_MS), 'w',
		     "the submitting write was not answered");
	cr_assert_eq(kill(pid, SIGKILL), 0);
	cr_assert_eq(integ_reap(pid, &st, INTEG_WAIT_MS), 0,
		     "the submitter did not die of SIGKILL");
	cr_expect(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
}

WAIT_TEST(pty_pread_text_by_one_user_leaves_other_users_writes_answered)
{
	other_user(T_PTY, true);
}

WAIT_TEST(pty_pread_binary_by_one_user_leaves_other_users_writes_answered)
{
	other_user(T_PTY, false);
}

WAIT_TEST(fifo_pread_text_by_one_user_leaves_other_users_writes_answered)
{
	other_user(T_FIFO, true);
}

WAIT_TEST(socket_pread_binary_by_one_user_leaves_other_users_writes_answered)
{
	other_user(T_SOCK, false);
}

/* ---- two readers, one line ------------------------------------------- */

/*
 * Two reads of one pty, one line typed: one read gets it; the other
 * either waits again or, if the line went to the first while it was on
 * its way, sleeps in a worker's io_submit.  Closing the context ends it
 * either way (-EINTR, its RESFD signalled), and the worker is free again.
 */
WAIT_TEST(two_pty_readers_one_line_close_ends_the_other)
{
	const char *mnt = evt_shared_mnt();
	char name[64], path[PATH_MAX], line[512];
	const char *file = abcd_file();
	int o[2], i[2], st;
	pid_t pid, root;

	target_new(T_PTY, 0);
	evt_unique(name, sizeof(name), "wait2");
	close(evt_create_counter(mnt, name, 0, false, O_RDONLY));
	tpipe(o);
	tpipe(i);
	pid = integ_fork();
	if (pid == 0) {
		int fd = open(evt_path(path, sizeof(path), mnt, "aio.txt"),
			      O_RDWR | O_CLOEXEC);
		int n = snprintf(line, sizeof(line),
				 "pread data=a resfd=%s %s 0 16\n"
				 "pread data=a resfd=%s %s 0 16\n",
				 name, tg.path, name, tg.path);

		if (fd < 0 || write(fd, line, (size_t)n) != n)
			_exit(10);
		say(o[1], 'w');
		if (text_line(fd, "a", line, sizeof(line)) ||
		    strcmp(line, "a pread 4 one\\n\n") != 0)
			_exit(11);
		if (wait_byte(i[0], INTEG_WAIT_MS) != 'c')
			_exit(12);
		close(fd);
		say(o[1], 'd');
		_exit(0);
	}
	cr_assert_eq(wait_byte(o[0], INTEG_WAIT_MS), 'w',
		     "the submitting write was not answered");
	cr_assert_eq(write(tg.wfd, "one\n", 4), 4);
	cr_assert(integ_wait_field(mnt, name, "count", 1, INTEG_WAIT_MS));
	cr_assert_eq(write(i[1], "c", 1), 1);
	cr_assert_eq(wait_byte(o[0], INTEG_WAIT_MS), 'd');
	cr_assert_eq(integ_reap(pid, &st, INTEG_WAIT_MS), 0);
	cr_expect_eq(integ_exit_code(st), 0, "reader: exit %d",
		     integ_exit_code(st));
	cr_assert(integ_wait_field(mnt, name, "count", 2, INTEG_WAIT_MS),
		  "the second read did not end at close");
	/* the workers are free: a regular file's read still completes */
	root = root_writes(mnt, file);
	expect_exit0(root, "a read of a regular file after");
	unlink(evt_path(path, sizeof(path), mnt, name));
}

/* ---- a write waiting for a worker ------------------------------------ */

/*
 * With one worker, held by a write that the kernel cannot interrupt (a
 * PWRITE of a text view of another evfdfs mount whose counter is at the
 * top: FUSE waits for that daemon with wait_for_completion(), as Linux's
 * io_submit would), another process's line that needs the worker waits
 * in the queue.  SIGKILL reaches the daemon as a FUSE INTERRUPT of that
 * write: it is answered at once (EINTR, nothing was submitted), so the
 * process dies.  Then the counter is read, and the first write completes.
 */
WAIT_TEST(sigkill_ends_a_write_queued_for_a_worker)
{
	static const char *const argv[] = { "-o", "aio_workers=1", NULL };
	const char *far = evt_shared_mnt();
	struct evt_mount *m = integ_mount(argv);
	const char *file = abcd_file();
	char name[64], text[PATH_MAX];
	uint64_t top = 0xfffffffffffffffeull;
	int st, fd;
	pid_t first, second;

	evt_unique(name, sizeof(name), "far");
	close(evt_create_counter(far, name, top, false, 0));
	evt_path(tg.unstick, sizeof(tg.unstick), far, name);
	snprintf(text, sizeof(text), "%s/text/%s", far, name);
	first = integ_fork();
	if (first == 0) {
		char path[PATH_MAX], line[PATH_MAX + 64];
		int n;

		fd = open(evt_path(path, sizeof(path), m->dir, "aio.txt"),
			  O_RDWR | O_CLOEXEC);
		/* "5\n": a whole number (digits alone would wait on the
		 * open file for more, README "The text view"). */
		n = snprintf(line, sizeof(line), "pwrite data=f %s 0 5\\x0a\n",
			     text);
		if (fd < 0 || write(fd, line, (size_t)n) != n)
			_exit(10);
		_exit(0);
	}
	cr_assert(integ_wait_field(far, name, "writers", 1, INTEG_WAIT_MS),
		  "the write never parked in the other daemon");
	second = integ_fork();
	if (second == 0) {
		char path[PATH_MAX], line[PATH_MAX + 64];
		int n;

		fd = open(evt_path(path, sizeof(path), m->dir, "aio.txt"),
			  O_RDWR | O_CLOEXEC);
		n = snprintf(line, sizeof(line), "pread %s 0 4\n", file);
		if (fd < 0 || write(fd, line, (size_t)n) != n)
			_exit(10);
		_exit(0);
	}
	cr_assert(wait_ctx(m->dir, second, 1),
		  "the second line never reached the daemon");
	cr_assert_eq(kill(second, SIGKILL), 0);
	cr_assert_eq(integ_reap(second, &st, INTEG_WAIT_MS), 0,
		     "the queued submitter did not die of SIGKILL");
	cr_expect(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	/* the first one waits until the counter has room */
	fd = open(tg.unstick, O_RDONLY | O_CLOEXEC);
	cr_assert(fd >= 0);
	cr_assert_eq(integ_read_u64(fd, &top), 0);
	close(fd);
	tg.unstick[0] = '\0';
	expect_exit0(first, "the first writer");
	unlink(evt_path(text, sizeof(text), far, name));
}
