// SPDX-License-Identifier: GPL-2.0-only
/*
 * Blocking on a real mount: a read parked in the daemon is released by a
 * write from another thread on the same descriptor (FOPEN_STREAM), from
 * another process with its own descriptor, and by signals (SIGKILL, a
 * handler) without losing or inventing a value; a thousand parked readers
 * cost the daemon no thread.  Every wait has a deadline, and the status
 * file tells when a request is really parked, so nothing sleeps and hopes.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "integ.h"

#define TOP UINT64_C(0xfffffffffffffffe)

/* ---- threads sharing one descriptor --------------------------------- */

struct io_thread {
	pthread_t tid;
	int fd;
	bool write; /* else read */
	uint64_t val;
	int ret; /* 0 or -errno */
};

static void *io_thread_main(void *arg)
{
	struct io_thread *t = arg;

	t->ret = t->write ? integ_write_u64(t->fd, t->val)
			  : integ_read_u64(t->fd, &t->val);
	return NULL;
}

static void io_thread_start(struct io_thread *t)
{
	cr_assert_eq(pthread_create(&t->tid, NULL, io_thread_main, t), 0);
}

static bool io_thread_join(struct io_thread *t, int ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	return pthread_timedjoin_np(t->tid, NULL, &ts) == 0;
}

INTEG_TEST(blocking, same_fd_write_from_other_thread_wakes_reader, 60)
{
	const char *mnt = evt_shared_mnt();
	struct io_thread rd = { 0 }, wr = { 0 };
	char name[128];
	int fd;

	evt_unique(name, sizeof(name), "thr");
	fd = evt_create_counter(mnt, name, 0, false, 0);
	rd.fd = wr.fd = fd;
	io_thread_start(&rd);
	cr_assert(integ_wait_field(mnt, name, "readers", 1, INTEG_WAIT_MS),
		  "the reader never parked");
	wr.write = true;
	wr.val = 7;
	io_thread_start(&wr);
	/* Without FOPEN_STREAM the write waits for the read's position
	 * lock and neither thread ever returns. */
	cr_assert(io_thread_join(&wr, INTEG_WAIT_MS),
		  "write on the reader's descriptor did not complete");
	cr_assert(io_thread_join(&rd, INTEG_WAIT_MS), "the reader never woke");
	cr_assert_eq(wr.ret, 0, "write: %s", strerror(-wr.ret));
	cr_assert_eq(rd.ret, 0, "read: %s", strerror(-rd.ret));
	cr_assert_eq(rd.val, 7);
	close(fd);
}

INTEG_TEST(blocking, same_fd_read_from_other_thread_wakes_writer, 60)
{
	const char *mnt = evt_shared_mnt();
	struct io_thread rd = { 0 }, wr = { 0 };
	char name[128], path[PATH_MAX];
	int fd;

	evt_unique(name, sizeof(name), "thw");
	fd = evt_create_counter(mnt, name, TOP, false, 0);
	wr.fd = rd.fd = fd;
	wr.write = true;
	wr.val = 5;
	io_thread_start(&wr);
	cr_assert(integ_wait_field(mnt, name, "writers", 1, INTEG_WAIT_MS),
		  "the writer never parked");
	io_thread_start(&rd);
	cr_assert(io_thread_join(&rd, INTEG_WAIT_MS),
		  "read on the writer's descriptor did not complete");
	cr_assert(io_thread_join(&wr, INTEG_WAIT_MS), "the writer never woke");
	cr_assert_eq(rd.ret, 0, "read: %s", strerror(-rd.ret));
	cr_assert_eq(rd.val, TOP);
	cr_assert_eq(wr.ret, 0, "write: %s", strerror(-wr.ret));
	cr_assert_eq(evt_xattr_value(evt_path(path, sizeof(path), mnt, name)),
		     5);
	close(fd);
}

/*
 * E32: another thread closing the descriptor does not end a read blocked
 * on it; a write through a second descriptor still completes it.
 */
INTEG_TEST(blocking, close_by_other_thread_does_not_end_blocked_read, 60)
{
	const char *mnt = evt_shared_mnt();
	struct io_thread rd = { 0 };
	char name[128];
	int fd, fd2;

	evt_unique(name, sizeof(name), "thc");
	fd = evt_create_counter(mnt, name, 0, false, 0);
	fd2 = integ_open(mnt, name, false, O_RDWR);
	rd.fd = fd;
	io_thread_start(&rd);
	cr_assert(integ_wait_field(mnt, name, "readers", 1, INTEG_WAIT_MS));
	cr_assert_eq(close(fd), 0);
	cr_assert_eq(integ_field(mnt, name, "readers"), 1,
		     "close ended the parked read");
	cr_assert_eq(integ_write_u64(fd2, 11), 0);
	cr_assert(io_thread_join(&rd, INTEG_WAIT_MS), "the reader never woke");
	cr_assert_eq(rd.ret, 0, "read: %s", strerror(-rd.ret));
	cr_assert_eq(rd.val, 11);
	/* The reader's open file is released once its read is done. */
	cr_assert(integ_wait_field(mnt, name, "opens", 1, INTEG_WAIT_MS));
	close(fd2);
}

/* ---- two processes, two descriptors ---------------------------------- */

/* open(2) for a child: no Criterion assertion may run there. */
static int child_open(const char *mnt, const char *name)
{
	char path[PATH_MAX];
	int fd = open(evt_path(path, sizeof(path), mnt, name), O_RDWR);

	if (fd < 0)
		_exit(5);
	return fd;
}

/* Child: open @name, read once (blocking), exit 0 iff it got @want. */
static pid_t reader_child(const char *mnt, const char *name, uint64_t want)
{
	pid_t pid = integ_fork();
	uint64_t v = 0;
	int fd;

	if (pid)
		return pid;
	fd = child_open(mnt, name);
	if (integ_read_u64(fd, &v) != 0)
		_exit(2);
	_exit(v == want ? 0 : 3);
}

INTEG_TEST(blocking, writer_process_releases_reader_process, 60)
{
	const char *mnt = evt_shared_mnt();
	char name[128];
	pid_t rd, wr;
	int fd, st;

	evt_unique(name, sizeof(name), "proc");
	fd = evt_create_counter(mnt, name, 0, false, 0);
	close(fd);
	rd = reader_child(mnt, name, 9);
	cr_assert(integ_wait_field(mnt, name, "readers", 1, INTEG_WAIT_MS),
		  "the reader never parked");
	wr = integ_fork();
	if (wr == 0) {
		int wfd = child_open(mnt, name);

		_exit(integ_write_u64(wfd, 9) == 0 ? 0 : 4);
	}
	cr_assert_eq(integ_reap(wr, &st, INTEG_WAIT_MS), 0, "writer hangs");
	cr_assert_eq(integ_exit_code(st), 0, "writer: %d", integ_exit_code(st));
	cr_assert_eq(integ_reap(rd, &st, INTEG_WAIT_MS), 0, "reader hangs");
	cr_assert_eq(integ_exit_code(st), 0, "reader: %d", integ_exit_code(st));
	cr_assert(integ_wait_field(mnt, name, "opens", 0, INTEG_WAIT_MS));
}

/* ---- signals ---------------------------------------------------------- */

INTEG_TEST(blocking, sigkill_ends_blocked_reader_and_loses_nothing, 60)
{
	const char *mnt = evt_shared_mnt();
	char name[128], path[PATH_MAX];
	uint64_t v = 0;
	pid_t rd;
	int fd, st;

	evt_unique(name, sizeof(name), "kill");
	fd = evt_create_counter(mnt, name, 0, false, O_NONBLOCK);
	evt_path(path, sizeof(path), mnt, name);
	rd = reader_child(mnt, name, 0);
	cr_assert(integ_wait_field(mnt, name, "readers", 1, INTEG_WAIT_MS));
	cr_assert_eq(kill(rd, SIGKILL), 0);
	/* Without an answer to FUSE_INTERRUPT the child would never die. */
	cr_assert_eq(integ_reap(rd, &st, INTEG_WAIT_MS), 0,
		     "SIGKILLed reader did not exit");
	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	cr_assert(integ_wait_field(mnt, name, "readers", 0, INTEG_WAIT_MS),
		  "the killed reader is still parked in the daemon");
	cr_assert(integ_wait_field(mnt, name, "opens", 1, INTEG_WAIT_MS));

	/* The next value goes to the next reader, whole. */
	cr_assert_eq(integ_write_u64(fd, 5), 0);
	cr_assert_eq(evt_xattr_value(path), 5);
	rd = reader_child(mnt, name, 5);
	cr_assert_eq(integ_reap(rd, &st, INTEG_WAIT_MS), 0);
	cr_assert_eq(integ_exit_code(st), 0, "reader: %d", integ_exit_code(st));
	cr_assert_eq(integ_read_u64(fd, &v), -EAGAIN);
	close(fd);
}

static void on_usr1(int sig)
{
	(void)sig;
}

/*
 * Child: with a SIGUSR1 handler (@restart: SA_RESTART), read @name once.
 * Exit 0 if the read failed with EINTR; 10 + errno for another error; 50
 * if it returned a value (then the value is the low bits: 50 + v, capped).
 */
static pid_t handler_reader_child(const char *mnt, const char *name,
				  bool restart)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	pid_t pid = integ_fork();
	uint64_t v = 0;
	int fd, ret;

	if (pid)
		return pid;
	sa.sa_flags = restart ? SA_RESTART : 0;
	sigaction(SIGUSR1, &sa, NULL);
	fd = child_open(mnt, name);
	ret = integ_read_u64(fd, &v);
	if (ret == -EINTR)
		_exit(0);
	if (ret)
		_exit(10 + (-ret % 40));
	_exit(50 + (v < 100 ? (int)v : 100));
}

INTEG_TEST(blocking, handled_signal_gives_eintr_and_consumes_nothing, 60)
{
	const char *mnt = evt_shared_mnt();
	char name[128], path[PATH_MAX];
	uint64_t v = 0;
	pid_t rd;
	int fd, st;

	evt_unique(name, sizeof(name), "intr");
	fd = evt_create_counter(mnt, name, 0, false, O_NONBLOCK);
	evt_path(path, sizeof(path), mnt, name);
	rd = handler_reader_child(mnt, name, false);
	cr_assert(integ_wait_field(mnt, name, "readers", 1, INTEG_WAIT_MS));
	cr_assert_eq(kill(rd, SIGUSR1), 0);
	cr_assert_eq(integ_reap(rd, &st, INTEG_WAIT_MS), 0,
		     "interrupted reader did not return");
	cr_assert_eq(integ_exit_code(st), 0,
		     "expected EINTR, child exit %d (see handler_reader_child)",
		     integ_exit_code(st));
	cr_assert_eq(integ_field(mnt, name, "readers"), 0);
	cr_assert_eq(evt_xattr_value(path), 0, "an interrupted read added");
	cr_assert_eq(integ_read_u64(fd, &v), -EAGAIN);

	/* Interrupted with a value waiting elsewhere: a second reader
	 * parked and interrupted, then a write; the write is all there. */
	rd = handler_reader_child(mnt, name, false);
	cr_assert(integ_wait_field(mnt, name, "readers", 1, INTEG_WAIT_MS));
	cr_assert_eq(kill(rd, SIGUSR1), 0);
	cr_assert_eq(integ_reap(rd, &st, INTEG_WAIT_MS), 0);
	cr_assert_eq(integ_exit_code(st), 0);
	cr_assert_eq(integ_write_u64(fd, 6), 0);
	cr_assert_eq(evt_xattr_value(path), 6);
	cr_assert_eq(integ_read_u64(fd, &v), 0);
	cr_assert_eq(v, 6);
	close(fd);
}

/*
 * SA_RESTART: Linux restarts the read (E33) and the caller never sees the
 * signal; FUSE answers an interrupted request and does not restart it, so
 * on the mount the read fails with EINTR.  A documented difference
 * (emulation.md): the kernel's side is observed here, not assumed.
 */
INTEG_TEST(blocking, sa_restart_read_is_eintr_on_mount_restarted_on_kernel, 60)
{
	const char *mnt = evt_shared_mnt();
	struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = SA_RESTART };
	char name[128];
	pid_t rd;
	int fd, efd, st;

	/* The kernel: the child reads an eventfd it inherited. */
	efd = eventfd(0, EFD_CLOEXEC);
	cr_assert(efd >= 0);
	rd = integ_fork();
	if (rd == 0) {
		uint64_t v = 0;
		int ret;

		sigaction(SIGUSR1, &sa, NULL);
		ret = integ_read_u64(efd, &v);
		_exit(ret == -EINTR ? 0 : ret ? 10 : 50 + (int)(v % 50));
	}
	/* The kernel shows no "parked" state: wait until the child sleeps
	 * in read(2) (/proc/PID/syscall names the call it is blocked in). */
	{
		char path[64], sc[256] = "", want[32];
		long long deadline = evt_now_ms() + INTEG_WAIT_MS;

		snprintf(path, sizeof(path), "/proc/%d/syscall", (int)rd);
		snprintf(want, sizeof(want), "%d 0x%x ", SYS_read, efd);
		while (evt_now_ms() < deadline &&
		       (integ_read_file(path, sc, sizeof(sc)) <= 0 ||
			strncmp(sc, want, strlen(want)) != 0))
			usleep(1000);
		cr_assert(strncmp(sc, want, strlen(want)) == 0,
			  "child not blocked in read: %s", sc);
	}
	cr_assert_eq(kill(rd, SIGUSR1), 0);
	usleep(50000); /* let a (wrong) EINTR come out if it would */
	cr_assert_eq(integ_write_u64(efd, 3), 0);
	cr_assert_eq(integ_reap(rd, &st, INTEG_WAIT_MS), 0);
	cr_assert_eq(integ_exit_code(st), 53,
		     "kernel: the restarted read should return 3, got exit %d",
		     integ_exit_code(st));
	close(efd);

	/* The mount. */
	evt_unique(name, sizeof(name), "restart");
	fd = evt_create_counter(mnt, name, 0, false, O_NONBLOCK);
	rd = handler_reader_child(mnt, name, true);
	cr_assert(integ_wait_field(mnt, name, "readers", 1, INTEG_WAIT_MS));
	cr_assert_eq(kill(rd, SIGUSR1), 0);
	cr_assert_eq(integ_reap(rd, &st, INTEG_WAIT_MS), 0);
	cr_assert_eq(integ_exit_code(st), 0,
		     "mount: documented EINTR under SA_RESTART, got exit %d",
		     integ_exit_code(st));
	cr_assert_eq(integ_field(mnt, name, "count"), 0);
	close(fd);
}

/* ---- a thousand blocked readers --------------------------------------- */

#define NREADERS 1000

INTEG_TEST(blocking, thousand_parked_readers_cost_no_thread, 300)
{
	struct evt_mount *m = integ_mount(NULL);
	int fd, i, threads_before, threads_during, others = 0, left = 0, ok;
	char name[] = "sem1000";

	fd = evt_create_counter(m->dir, name, 0, true, 0);
	threads_before = integ_threads(m->pid);
	cr_assert(threads_before > 0);
	for (i = 0; i < NREADERS; i++)
		reader_child(m->dir, name, 1);
	cr_assert(integ_wait_field(m->dir, name, "readers", NREADERS, 240000),
		  "only %lld of %d readers parked",
		  integ_field(m->dir, name, "readers"), NREADERS);
	threads_during = integ_threads(m->pid);
	cr_expect_eq(threads_during, threads_before,
		     "daemon threads: %d idle, %d with %d parked readers",
		     threads_before, threads_during, NREADERS);
	/* Release them in two writes: each reader takes exactly 1. */
	cr_assert_eq(integ_write_u64(fd, 400), 0);
	cr_assert_eq(integ_write_u64(fd, NREADERS - 400), 0);
	ok = integ_reap_all(240000, &others, &left);
	cr_assert_eq(left, 0, "%d readers still blocked", left);
	cr_assert_eq(ok, NREADERS, "%d readers failed", others);
	cr_assert_eq(integ_field(m->dir, name, "readers"), 0);
	cr_assert_eq(integ_field(m->dir, name, "count"), 0);
	cr_assert(integ_wait_field(m->dir, name, "opens", 1, INTEG_WAIT_MS));
	close(fd);
	integ_unmount();
}

/* ---- blocked writers ------------------------------------------------- */

/*
 * Child: with a SIGUSR1 handler (no SA_RESTART), write to @name (binary
 * value @v, or the text @text to text/@name).  Exit 0 on EINTR, 10 +
 * errno on another error, 100 + bytes written on success.
 */
static pid_t writer_child(const char *mnt, const char *name, uint64_t v,
			  const char *text)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	char path[PATH_MAX];
	pid_t pid = integ_fork();
	ssize_t n;
	int fd;

	if (pid)
		return pid;
	sigaction(SIGUSR1, &sa, NULL);
	snprintf(path, sizeof(path), "%s/%s%s", mnt, text ? "text/" : "", name);
	fd = open(path, O_RDWR);
	if (fd < 0)
		_exit(5);
	n = text ? write(fd, text, strlen(text)) : write(fd, &v, sizeof(v));
	if (n < 0)
		_exit(errno == EINTR ? 0 : 10 + errno % 40);
	_exit(100 + (int)n);
}

INTEG_TEST(blocking, interrupted_blocked_write_adds_nothing, 60)
{
	const char *mnt = evt_shared_mnt();
	char name[128], path[PATH_MAX];
	pid_t wr;
	int fd, st;

	evt_unique(name, sizeof(name), "wintr");
	fd = evt_create_counter(mnt, name, TOP, false, 0);
	evt_path(path, sizeof(path), mnt, name);
	wr = writer_child(mnt, name, 5, NULL);
	cr_assert(integ_wait_field(mnt, name, "writers", 1, INTEG_WAIT_MS));
	cr_assert_eq(kill(wr, SIGUSR1), 0);
	cr_assert_eq(integ_reap(wr, &st, INTEG_WAIT_MS), 0);
	cr_assert_eq(integ_exit_code(st), 0, "expected EINTR, exit %d",
		     integ_exit_code(st));
	cr_assert_eq(integ_field(mnt, name, "writers"), 0);
	cr_assert_eq(evt_xattr_value(path), TOP, "an interrupted write added");
	close(fd);
}

/*
 * A text write of several numbers at the top applies what fits, parks for
 * the rest, and finishes when a read makes room: the whole write is
 * acknowledged and every number is in the counter once.
 */
INTEG_TEST(blocking, blocked_text_write_finishes_after_read, 60)
{
	const char *mnt = evt_shared_mnt();
	char name[128], path[PATH_MAX];
	uint64_t v = 0;
	pid_t wr;
	int fd, st;

	evt_unique(name, sizeof(name), "tw");
	fd = evt_create_counter(mnt, name, TOP - 3, false, 0);
	evt_path(path, sizeof(path), mnt, name);
	wr = writer_child(mnt, name, 0, "1 2 3\n");
	cr_assert(integ_wait_field(mnt, name, "writers", 1, INTEG_WAIT_MS));
	cr_assert_eq(evt_xattr_value(path), TOP, "1 and 2 are applied");
	cr_assert_eq(integ_read_u64(fd, &v), 0);
	cr_assert_eq(v, TOP);
	cr_assert_eq(integ_reap(wr, &st, INTEG_WAIT_MS), 0);
	cr_assert_eq(integ_exit_code(st), 106, "exit %d", integ_exit_code(st));
	cr_assert_eq(evt_xattr_value(path), 3);
	close(fd);
}

/*
 * Interrupted after some numbers were applied, a text write reports the
 * bytes of those numbers (a short write, as a pipe does), not EINTR: the
 * caller must learn what took effect.
 */
INTEG_TEST(blocking, interrupted_text_write_reports_bytes_applied, 60)
{
	const char *mnt = evt_shared_mnt();
	char name[128], path[PATH_MAX];
	pid_t wr;
	int fd, st;

	evt_unique(name, sizeof(name), "twi");
	fd = evt_create_counter(mnt, name, TOP - 3, false, 0);
	evt_path(path, sizeof(path), mnt, name);
	wr = writer_child(mnt, name, 0, "1 2 3\n");
	cr_assert(integ_wait_field(mnt, name, "writers", 1, INTEG_WAIT_MS));
	cr_assert_eq(kill(wr, SIGUSR1), 0);
	cr_assert_eq(integ_reap(wr, &st, INTEG_WAIT_MS), 0);
	cr_assert_eq(integ_exit_code(st), 104, "expected 4 bytes, exit %d",
		     integ_exit_code(st));
	cr_assert_eq(evt_xattr_value(path), TOP);
	cr_assert_eq(integ_field(mnt, name, "writers"), 0);
	close(fd);
}

/*
 * E24 after an open with O_TRUNC (a shell's `>`): the kernel sets the
 * file's cached size to 0 at such an open, and a direct write past the
 * cached size takes the inode lock exclusively (FOPEN_PARALLEL_DIRECT_WRITES
 * covers only writes inside it).  A write through that descriptor parked
 * at the top must not hold up a nonblocking write through another one: it
 * fails with EAGAIN at once, as on an eventfd.
 */
INTEG_TEST(blocking, o_trunc_writer_parked_at_top_holds_up_no_other_write, 60)
{
	const char *mnt = evt_shared_mnt();
	struct io_thread parked = { .write = true, .val = 1 };
	struct io_thread nb = { .write = true, .val = 1 };
	char name[128], path[PATH_MAX];
	uint64_t v = 0;
	bool nb_done;
	int fd;

	evt_unique(name, sizeof(name), "otrunc");
	fd = evt_create_counter(mnt, name, TOP, false, 0);
	evt_path(path, sizeof(path), mnt, name);
	parked.fd = integ_open(mnt, name, false, O_WRONLY | O_TRUNC);
	io_thread_start(&parked);
	cr_assert(integ_wait_field(mnt, name, "writers", 1, INTEG_WAIT_MS));
	nb.fd = integ_open(mnt, name, false, O_WRONLY | O_NONBLOCK);
	io_thread_start(&nb);
	nb_done = io_thread_join(&nb, INTEG_WAIT_MS);
	/* Release the parked writer (and the other one, if it is stuck). */
	cr_assert_eq(integ_read_u64(fd, &v), 0);
	cr_assert_eq(v, TOP);
	cr_assert(io_thread_join(&parked, INTEG_WAIT_MS));
	if (!nb_done)
		cr_assert(io_thread_join(&nb, INTEG_WAIT_MS));
	close(nb.fd);
	close(parked.fd);
	cr_assert(nb_done, "the nonblocking write waited for the parked one");
	cr_assert_eq(nb.ret, -EAGAIN, "nonblocking write: %d", nb.ret);
	cr_assert_eq(parked.ret, 0, "parked write: %d", parked.ret);
	cr_assert_eq(evt_xattr_value(path), 1);
	close(fd);
}
