// SPDX-License-Identifier: GPL-2.0-only
/*
 * shim-conform: a program written against glibc and libaio only, as any
 * program that uses eventfd and Linux AIO would be.  It exercises eventfd
 * creation and flags, read and write, poll, select and epoll, semaphore
 * mode, O_NONBLOCK, fcntl(F_GETFL), fork and exec, and libaio, and prints
 * what it observes, one line per step.
 *
 * tests/shim runs it twice, natively and under libevfdfs-preload.so with
 * EVFDFS_MOUNT set, and requires the two transcripts to be equal: the shim
 * is right when a program cannot tell the difference.  Nothing printed may
 * depend on descriptor numbers or timing.
 *
 * Usage: shim-conform [SECTION...]   (default: every section but aio)
 * Sections: start create fcntl rw poll epoll block fork exec syscall aio
 * Exit status: 0 when every step ran (the transcript says what happened),
 * 2 on a usage error or when a step could not run at all.
 */
#include <errno.h>
#include <fcntl.h>
#include <libaio.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *self_path;

/* "ret=N" or "err=ENAME": how a call ended. */
static void rec(const char *label, long ret, int err)
{
	if (ret < 0) {
		const char *name = strerrorname_np(err);

		printf("%s: err=%s\n", label, name ? name : "?");
	} else {
		printf("%s: ret=%ld\n", label, ret);
	}
}

#define REC(label, expr)                       \
	do {                                   \
		errno = 0;                     \
		long rec_ret_ = (long)(expr);  \
		rec((label), rec_ret_, errno); \
	} while (0)

/* For libaio calls, which return -errno and leave errno alone (L1): a
 * marker in errno must survive the call. */
#define ERRNO_MARK 77
#define REC_AIO(label, expr)                                         \
	do {                                                         \
		errno = ERRNO_MARK;                                  \
		long rec_ret_ = (long)(expr);                        \
		int rec_errno_ = errno;                              \
		if (rec_ret_ < 0)                                    \
			rec((label), -1, (int)-rec_ret_);            \
		else                                                 \
			rec((label), rec_ret_, 0);                   \
		if (rec_errno_ != ERRNO_MARK)                        \
			printf("%s: errno changed to %s\n", (label), \
			       strerrorname_np(rec_errno_) ?: "?");  \
	} while (0)

static void die(const char *what)
{
	fprintf(stderr, "shim-conform: %s: %s\n", what, strerror(errno));
	exit(2);
}

static int must_eventfd(unsigned int initval, int flags)
{
	int fd = eventfd(initval, flags);

	if (fd < 0)
		die("eventfd");
	return fd;
}

static void print_value(const char *label, int fd)
{
	uint64_t v = 0;
	long n = read(fd, &v, sizeof(v));

	if (n < 0)
		rec(label, n, errno);
	else
		printf("%s: ret=%ld value=%llu\n", label, n,
		       (unsigned long long)v);
}

static void sec_create(void)
{
	static const int bad[] = { 0x10, O_RDWR, O_APPEND, 0x80000000 };
	unsigned int i;
	int fd;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char label[64];

		snprintf(label, sizeof(label), "eventfd flags %#x", bad[i]);
		errno = 0;
		fd = eventfd(0, bad[i]);
		rec(label, fd < 0 ? -1 : 0, errno);
		if (fd >= 0)
			close(fd);
	}
	fd = must_eventfd(0xffffffffu, EFD_NONBLOCK);
	print_value("initval 0xffffffff read", fd);
	print_value("read again", fd);
	close(fd);
	fd = must_eventfd(0, 0);
	REC("eventfd_write 7", eventfd_write(fd, 7));
	{
		eventfd_t v = 0;

		REC("eventfd_read", eventfd_read(fd, &v));
		printf("eventfd_read value=%llu\n", (unsigned long long)v);
	}
	close(fd);
}

static void sec_fcntl(void)
{
	static const int flags[] = { 0, EFD_NONBLOCK, EFD_CLOEXEC,
				     EFD_NONBLOCK | EFD_CLOEXEC,
				     EFD_SEMAPHORE };
	unsigned int i;
	int fd, d;

	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		fd = must_eventfd(1, flags[i]);
		printf("flags %#x: F_GETFL=%#x F_GETFD=%#x\n", flags[i],
		       fcntl(fd, F_GETFL), fcntl(fd, F_GETFD));
		close(fd);
	}
	fd = must_eventfd(0, 0);
	REC("F_SETFL O_NONBLOCK", fcntl(fd, F_SETFL, O_NONBLOCK));
	printf("after F_SETFL: F_GETFL=%#x\n", fcntl(fd, F_GETFL));
	print_value("read now nonblocking", fd);
	d = dup(fd);
	printf("dup: F_GETFL=%#x\n", fcntl(d, F_GETFL));
	close(d);
	d = fcntl(fd, F_DUPFD_CLOEXEC, 100);
	printf("F_DUPFD_CLOEXEC: F_GETFL=%#x F_GETFD=%#x\n", fcntl(d, F_GETFL),
	       fcntl(d, F_GETFD));
	close(d);
	d = dup2(fd, 90);
	printf("dup2: F_GETFL=%#x\n", fcntl(d, F_GETFL));
	close(d);
	d = dup3(fd, 91, O_CLOEXEC);
	printf("dup3: F_GETFL=%#x F_GETFD=%#x\n", fcntl(d, F_GETFL),
	       fcntl(d, F_GETFD));
	close(d);
	REC("F_SETFL 0", fcntl(fd, F_SETFL, 0));
	printf("after F_SETFL 0: F_GETFL=%#x\n", fcntl(fd, F_GETFL));
	close(fd);
	/* A plain pipe next to them is untouched. */
	{
		int p[2];

		if (pipe(p))
			die("pipe");
		printf("pipe: F_GETFL=%#x\n", fcntl(p[0], F_GETFL));
		close(p[0]);
		close(p[1]);
	}
}

static void sec_rw(void)
{
	uint64_t v, max = 0xfffffffffffffffeull, all = UINT64_MAX;
	char big[16];
	int fd = must_eventfd(5, EFD_NONBLOCK), i;

	REC("read 7", read(fd, &v, 7));
	REC("read 16", read(fd, big, 16));
	memcpy(&v, big, sizeof(v));
	printf("value %llu\n", (unsigned long long)v);
	print_value("read empty", fd);
	REC("write 0xffffffffffffffff", write(fd, &all, 8));
	REC("write max", write(fd, &max, 8));
	v = 1;
	REC("write overflow", write(fd, &v, 8));
	print_value("read max", fd);
	v = 0;
	REC("write 0", write(fd, &v, 8));
	print_value("read after 0", fd);
	close(fd);

	fd = must_eventfd(3, EFD_NONBLOCK | EFD_SEMAPHORE);
	for (i = 0; i < 4; i++)
		print_value("semaphore read", fd);
	v = 2;
	REC("semaphore write 2", write(fd, &v, 8));
	print_value("semaphore read", fd);
	close(fd);
}

static void show_poll(const char *label, int fd)
{
	struct pollfd p = { .fd = fd,
			    .events = POLLIN | POLLOUT | POLLRDNORM |
				      POLLWRNORM | POLLPRI };
	int n = poll(&p, 1, 0);

	printf("%s: poll=%d revents=%#x\n", label, n, p.revents);
}

static void show_select(const char *label, int fd)
{
	fd_set r, w, x;
	struct timeval tv = { 0, 0 };
	int n;

	FD_ZERO(&r);
	FD_ZERO(&w);
	FD_ZERO(&x);
	FD_SET(fd, &r);
	FD_SET(fd, &w);
	FD_SET(fd, &x);
	n = select(fd + 1, &r, &w, &x, &tv);
	printf("%s: select=%d r=%d w=%d x=%d\n", label, n, FD_ISSET(fd, &r),
	       FD_ISSET(fd, &w), FD_ISSET(fd, &x));
}

static void sec_poll(void)
{
	uint64_t v = 5, max = 0xfffffffffffffffeull;
	int fd = must_eventfd(0, EFD_NONBLOCK);

	show_poll("count 0", fd);
	show_select("count 0", fd);
	if (write(fd, &v, 8) != 8)
		die("write");
	show_poll("count 5", fd);
	show_select("count 5", fd);
	if (read(fd, &v, 8) != 8)
		die("read");
	if (write(fd, &max, 8) != 8)
		die("write");
	show_poll("count max", fd);
	show_select("count max", fd);
	close(fd);
}

static void show_epoll(const char *label, int ep)
{
	struct epoll_event ev[4];
	int n = epoll_wait(ep, ev, 4, 0), i;

	printf("%s: epoll_wait=%d", label, n);
	for (i = 0; i < n; i++)
		printf(" [%llu %#x]", (unsigned long long)ev[i].data.u64,
		       ev[i].events);
	printf("\n");
}

static void sec_epoll(void)
{
	struct epoll_event e = { .events = EPOLLIN };
	int ep = epoll_create1(EPOLL_CLOEXEC);
	int lt = must_eventfd(0, EFD_NONBLOCK);
	int et = must_eventfd(0, EFD_NONBLOCK);
	uint64_t v = 1;

	if (ep < 0)
		die("epoll_create1");
	e.data.u64 = 1;
	REC("add lt", epoll_ctl(ep, EPOLL_CTL_ADD, lt, &e));
	e.events = EPOLLIN | EPOLLOUT | EPOLLET;
	e.data.u64 = 2;
	REC("add et", epoll_ctl(ep, EPOLL_CTL_ADD, et, &e));
	show_epoll("initial", ep);
	show_epoll("nothing new", ep);
	REC("write lt", write(lt, &v, 8));
	REC("write et", write(et, &v, 8));
	show_epoll("after writes", ep);
	show_epoll("level stays", ep);
	REC("write et again", write(et, &v, 8));
	show_epoll("new edge", ep);
	print_value("read et", et);
	show_epoll("read edge", ep);
	print_value("read lt", lt);
	show_epoll("drained", ep);
	close(lt);
	close(et);
	close(ep);
}

struct blocked {
	int fd;
	uint64_t value;
	long ret;
	int err;
};

static void *blocked_reader(void *arg)
{
	struct blocked *b = arg;

	b->ret = read(b->fd, &b->value, 8);
	b->err = errno;
	return NULL;
}

/* Wait until @fd's counter has a reader parked on it: nothing portable
 * shows that, so give the reader time and then check it did not finish. */
static void sec_block(void)
{
	struct blocked b = { .fd = must_eventfd(0, 0) };
	uint64_t v = 42;
	pthread_t t;

	if (pthread_create(&t, NULL, blocked_reader, &b))
		die("pthread_create");
	usleep(100000);
	REC("write 42 (shared fd)", write(b.fd, &v, 8));
	pthread_join(t, NULL);
	rec("blocked read", b.ret, b.err);
	printf("blocked read value=%llu\n", (unsigned long long)b.value);
	close(b.fd);
}

static void sec_fork(void)
{
	int fd = must_eventfd(0, 0), status;
	pid_t pid = fork();
	uint64_t v = 7;

	if (pid < 0)
		die("fork");
	if (pid == 0) {
		_exit(write(fd, &v, 8) == 8 && fcntl(fd, F_GETFL) == O_RDWR
			      ? 0
			      : 1);
	}
	waitpid(pid, &status, 0);
	printf("fork child: status=%d\n",
	       WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	print_value("parent reads", fd);
	close(fd);
}

/* The exec'ed half: report on the inherited descriptor and use it. */
static int exec_child(int fd)
{
	uint64_t v = 0;

	printf("child: F_GETFL=%#x\n", fcntl(fd, F_GETFL));
	if (read(fd, &v, 8) != 8)
		return 1;
	printf("child: read %llu\n", (unsigned long long)v);
	v = 9;
	if (write(fd, &v, 8) != 8)
		return 1;
	fflush(stdout);
	return 0;
}

static void sec_exec(void)
{
	int fd = must_eventfd(3, EFD_NONBLOCK), status;
	int cloexec = must_eventfd(0, EFD_CLOEXEC);
	char arg[16], arg2[16];
	pid_t pid;

	snprintf(arg, sizeof(arg), "%d", fd);
	snprintf(arg2, sizeof(arg2), "%d", cloexec);
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		execl(self_path, self_path, "--exec-child", arg, arg2,
		      (char *)NULL);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	printf("exec child: status=%d\n",
	       WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	print_value("parent reads", fd);
	close(fd);
	close(cloexec);
}

static void sec_syscall(void)
{
	long fd;

	errno = 0;
	fd = syscall(SYS_eventfd2, 4, EFD_NONBLOCK | EFD_SEMAPHORE);
	rec("syscall eventfd2", fd < 0 ? -1 : 0, errno);
	if (fd >= 0) {
		printf("F_GETFL=%#lx\n", (long)fcntl((int)fd, F_GETFL));
		print_value("semaphore read", (int)fd);
		close((int)fd);
	}
	errno = 0;
	fd = syscall(SYS_eventfd2, 0, 0x10);
	rec("syscall eventfd2 bad flags", fd < 0 ? -1 : 0, errno);
#ifdef SYS_eventfd
	errno = 0;
	fd = syscall(SYS_eventfd, 6);
	rec("syscall eventfd", fd < 0 ? -1 : 0, errno);
	if (fd >= 0) {
		printf("F_GETFL=%#lx\n", (long)fcntl((int)fd, F_GETFL));
		print_value("read", (int)fd);
		close((int)fd);
	}
#endif
	errno = 0;
	fd = syscall(SYS_eventfd2, 0, 0);
	if (fd < 0)
		die("syscall eventfd2");
	REC("syscall fcntl F_GETFL", syscall(SYS_fcntl, fd, F_GETFL));
	REC("syscall close", syscall(SYS_close, fd));
}

/* ------------------------------------------------------------------ */
/* libaio: an eventfd signalled by completions, served by epoll.       */

static void show_events(const char *label, int n, struct io_event *ev,
			struct iocb **cbs, int ncbs)
{
	int i, j;

	printf("%s: %d", label, n);
	for (i = 0; i < n; i++) {
		int which = -1;

		for (j = 0; j < ncbs; j++)
			if (ev[i].obj == cbs[j])
				which = j;
		printf(" [iocb%d data=%llu res=%ld res2=%ld]", which,
		       (unsigned long long)(uintptr_t)ev[i].data,
		       (long)ev[i].res, (long)ev[i].res2);
	}
	printf("\n");
}

static int callbacks_seen;

static void aio_callback(io_context_t ctx, struct iocb *iocb, long res,
			 long res2)
{
	(void)ctx;
	printf("callback: opcode=%d res=%ld res2=%ld\n", iocb->aio_lio_opcode,
	       res, res2);
	callbacks_seen++;
}

static void sec_aio(void)
{
	char tmpl[] = "/tmp/shim-conform-XXXXXX", buf[64], wbuf[16];
	struct timespec zero = { 0, 0 }, wait = { 5, 0 };
	struct iocb cb[4], *cbs[4] = { &cb[0], &cb[1], &cb[2], &cb[3] };
	struct epoll_event e = { .events = EPOLLIN }, got;
	io_context_t ctx = 0, q = 0;
	struct io_event ev[8];
	int file, efd, ep, n;
	eventfd_t v;

	file = mkstemp(tmpl);
	if (file < 0)
		die("mkstemp");
	unlink(tmpl);
	if (write(file, "hello, aio world", 16) != 16)
		die("write");
	efd = must_eventfd(0, EFD_NONBLOCK);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, efd, &e))
		die("epoll");

	REC_AIO("io_setup 0", io_setup(0, &ctx));
	REC_AIO("io_setup 8", io_setup(8, &ctx));
	REC_AIO("io_submit bad ctx", io_submit(NULL, 0, cbs));
	/*
	 * A context that is no context is EINVAL before the kernel looks at
	 * the iocbs (A20), whatever they hold: a NULL iocb pointer, an iocb
	 * whose RESFD is no descriptor.  Through libaio and through
	 * syscall(), errno-shaped.
	 */
	{
		io_context_t bogus = (io_context_t)(uintptr_t)0x1000;
		struct iocb *nulls[1] = { NULL };

		REC_AIO("io_submit bad ctx, NULL iocb",
			io_submit(bogus, 1, nulls));
		REC("syscall io_submit bad ctx, NULL iocb",
		    syscall(SYS_io_submit, bogus, 1L, nulls));
		io_prep_pread(&cb[0], file, buf, 5, 0);
		io_set_eventfd(&cb[0], 1000);
		REC_AIO("io_submit bad ctx, RESFD not open",
			io_submit(bogus, 1, cbs));
		REC("syscall io_submit bad ctx, RESFD not open",
		    syscall(SYS_io_submit, bogus, 1L, cbs));
	}

	/* A read whose completion signals the counter, seen by epoll. */
	io_prep_pread(&cb[0], file, buf, 5, 7);
	io_set_eventfd(&cb[0], efd);
	cb[0].data = (void *)(uintptr_t)11;
	REC_AIO("io_submit pread+resfd", io_submit(ctx, 1, cbs));
	n = epoll_wait(ep, &got, 1, 5000);
	printf("epoll_wait: %d\n", n);
	REC("eventfd_read", eventfd_read(efd, &v));
	printf("counter: %llu\n", (unsigned long long)v);
	n = io_getevents(ctx, 1, 8, ev, &wait);
	show_events("io_getevents", n, ev, cbs, 4);
	printf("data: %.5s\n", buf);

	/* A write, then an fsync, reaped together. */
	memcpy(wbuf, "HELLO", 5);
	io_prep_pwrite(&cb[1], file, wbuf, 5, 0);
	cb[1].data = (void *)(uintptr_t)12;
	io_prep_fsync(&cb[2], file);
	cb[2].data = (void *)(uintptr_t)13;
	REC_AIO("io_submit pwrite+fsync", io_submit(ctx, 2, &cbs[1]));
	n = io_getevents(ctx, 2, 8, ev, &wait);
	show_events("io_getevents", n, ev, cbs, 4);

	/* A poll on the counter, pending until a write; then cancelled. */
	io_prep_poll(&cb[3], efd, POLLIN);
	cb[3].data = (void *)(uintptr_t)14;
	REC_AIO("io_submit poll", io_submit(ctx, 1, &cbs[3]));
	REC_AIO("io_getevents none", io_getevents(ctx, 0, 8, ev, &zero));
	REC("eventfd_write", eventfd_write(efd, 2));
	n = io_getevents(ctx, 1, 8, ev, &wait);
	show_events("poll completed", n, ev, cbs, 4);
	REC("eventfd_read", eventfd_read(efd, &v));
	printf("counter: %llu\n", (unsigned long long)v);
	io_prep_poll(&cb[3], efd, POLLIN);
	io_set_eventfd(&cb[3], efd);
	REC_AIO("io_submit poll+resfd", io_submit(ctx, 1, &cbs[3]));
	REC_AIO("io_cancel poll", io_cancel(ctx, &cb[3], &ev[7]));
	REC_AIO("io_cancel again", io_cancel(ctx, &cb[3], &ev[7]));
	n = io_getevents(ctx, 1, 8, ev, &wait);
	show_events("cancelled", n, ev, cbs, 4);
	n = epoll_wait(ep, &got, 1, 5000);
	printf("epoll_wait: %d\n", n);
	REC("eventfd_read", eventfd_read(efd, &v));
	printf("counter: %llu\n", (unsigned long long)v);

	/* Errors at submit. */
	io_prep_pread(&cb[0], -1, buf, 5, 0);
	REC_AIO("io_submit bad fd", io_submit(ctx, 1, cbs));
	io_prep_pread(&cb[0], file, buf, 5, -1);
	REC_AIO("io_submit bad offset", io_submit(ctx, 1, cbs));
	io_prep_pread(&cb[0], file, buf, 5, 0);
	REC_AIO("io_submit nr -1", io_submit(ctx, -1, cbs));
	/* A timeout of {0, 0} on an empty ring would return 0 in libaio
	 * without asking the kernel (L4): a real timeout makes it check. */
	REC_AIO("io_getevents min>nr", io_getevents(ctx, 2, 1, ev, &wait));

	/* io_pgetevents with a signal mask. */
	{
		sigset_t mask;

		sigemptyset(&mask);
		sigaddset(&mask, SIGUSR1);
		io_prep_pread(&cb[0], file, buf, 16, 0);
		REC_AIO("io_submit pread", io_submit(ctx, 1, cbs));
		n = io_pgetevents(ctx, 1, 8, ev, &wait, &mask);
		show_events("io_pgetevents", n, ev, cbs, 4);
		printf("data: %.16s\n", buf);
	}
	REC_AIO("io_destroy", io_destroy(ctx));
	REC_AIO("io_submit after destroy", io_submit(ctx, 1, cbs));
	REC_AIO("io_destroy again", io_destroy(ctx));

	/* The queue helpers: callbacks run by io_queue_run. */
	REC_AIO("io_queue_init 0", io_queue_init(0, &q));
	REC_AIO("io_queue_init 4", io_queue_init(4, &q));
	io_prep_pread(&cb[0], file, buf, 4, 0);
	io_set_callback(&cb[0], aio_callback);
	io_prep_fsync(&cb[1], file);
	io_set_callback(&cb[1], aio_callback);
	REC_AIO("io_submit 2", io_submit(q, 2, cbs));
	/* FSYNC completes asynchronously: run the queue until both ran. */
	for (n = 0; callbacks_seen < 2 && n < 500; n++) {
		if (io_queue_run(q) < 0)
			break;
		if (callbacks_seen < 2)
			usleep(10000);
	}
	printf("callbacks: %d\n", callbacks_seen);
	REC_AIO("io_queue_release", io_queue_release(q));

	close(ep);
	close(efd);
	close(file);
}

/* ------------------------------------------------------------------ */
/* The ring behind the handle (A4, A13, A80-A82, L4).                  */

struct ring {
	unsigned int id, nr, head, tail;
	unsigned int magic, compat_features, incompat_features, header_length;
	struct io_event io_events[];
};

/* Wait (at most 5 s) until counter @efd has been signalled @n times. */
static unsigned long long await_count(int efd, unsigned long long n)
{
	struct pollfd pfd = { .fd = efd, .events = POLLIN };
	unsigned long long total = 0;
	int i;
	eventfd_t v;

	for (i = 0; i < 50 && total < n; i++)
		if (poll(&pfd, 1, 100) > 0 && eventfd_read(efd, &v) == 0)
			total += v;
	return total;
}

static void sec_ring(void)
{
	char tmpl[] = "/tmp/shim-ring-XXXXXX", buf[4][8];
	struct timespec zero = { 0, 0 };
	static struct iocb cb[600];
	struct iocb *cbs[600];
	io_context_t ctx = 0;
	struct io_event ev[8];
	struct ring *r;
	unsigned int head, tail;
	int file, efd, i, n;
	void *to, *moved;
	size_t len;

	file = mkstemp(tmpl);
	if (file < 0)
		die("mkstemp");
	unlink(tmpl);
	if (write(file, "0123456789abcdefghijklmnopqrstuv", 32) != 32)
		die("write");
	efd = must_eventfd(0, EFD_NONBLOCK);
	for (i = 0; i < 600; i++)
		cbs[i] = &cb[i];

	REC_AIO("io_setup 1", io_setup(1, &ctx));
	r = (struct ring *)ctx;
	printf("ring: id=%u nr=%u head=%u tail=%u magic=%#x compat=%u "
	       "incompat=%u header_length=%u\n",
	       r->id, r->nr, r->head, r->tail, r->magic, r->compat_features,
	       r->incompat_features, r->header_length);
	/* L4: libaio answers a {0,0} timeout on an empty ring with 0. */
	REC_AIO("io_getevents min>nr, {0,0}, empty",
		io_getevents(ctx, 2, 1, ev, &zero));

	/* Four reads, reaped from the ring by the program itself (A82). */
	for (i = 0; i < 4; i++) {
		io_prep_pread(&cb[i], file, buf[i], 8, 8 * i);
		io_set_eventfd(&cb[i], efd);
		cb[i].data = (void *)(uintptr_t)(20 + i);
	}
	REC_AIO("io_submit 4 reads", io_submit(ctx, 4, cbs));
	printf("signalled: %llu\n", await_count(efd, 4));
	head = r->head;
	tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
	for (n = 0; head != tail && n < 8; n++) {
		ev[n] = r->io_events[head];
		head = (head + 1) % r->nr;
	}
	__atomic_store_n(&r->head, head, __ATOMIC_RELEASE);
	show_events("reaped from the ring", n, ev, cbs, 4);
	printf("data: %.8s %.8s %.8s %.8s\n", buf[0], buf[1], buf[2], buf[3]);
	REC_AIO("io_getevents after reaping",
		io_getevents(ctx, 0, 8, ev, &zero));

	/* A80, A81: a slot per unreaped event, then EAGAIN. */
	for (n = 0; n < 600; n++) {
		io_prep_pread(&cb[n], file, buf[0], 8, 0);
		if (io_submit(ctx, 1, &cbs[n]) != 1)
			break;
	}
	printf("accepted before EAGAIN: at least 1: %d, at most nr - 1: %d\n",
	       n >= 1, n <= (int)r->nr - 1);
	REC_AIO("io_submit on a full ring", io_submit(ctx, 1, &cbs[n]));
	REC_AIO("io_getevents 1", io_getevents(ctx, 1, 1, ev, &zero));
	REC_AIO("io_submit after one reaped", io_submit(ctx, 1, &cbs[n]));

	/* mprotect(PROT_READ): the calls still work, as the kernel's do. */
	len = 32 + 32 * (size_t)r->nr;
	REC("mprotect PROT_READ", mprotect(ctx, len, PROT_READ));
	REC_AIO("io_getevents, read-only ring",
		io_getevents(ctx, 1, 1, ev, &zero));
	REC("mprotect back", mprotect(ctx, len, PROT_READ | PROT_WRITE));

	/* mremap: growing is refused; a move moves the context (A15). */
	to = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (to == MAP_FAILED)
		die("mmap");
	REC("mremap growing",
	    mremap(ctx, len, len + 4096, MREMAP_MAYMOVE) == MAP_FAILED ? -1L
								       : 0L);
	moved = mremap(ctx, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, to);
	printf("mremap moved: %d\n", moved == to);
	REC("syscall io_getevents, old address",
	    syscall(SYS_io_getevents, ctx, 0, 1, ev, &zero));
	ctx = moved;
	r = moved;
	printf("moved ring: nr=%u magic=%#x\n", r->nr, r->magic);
	REC_AIO("io_getevents, new address",
		io_getevents(ctx, 1, 1, ev, &zero));
	REC_AIO("io_destroy", io_destroy(ctx));
	close(efd);
	close(file);
}

/* errno as main() found it: 0, as glibc starts a program. */
static int start_errno;

static void sec_start(void)
{
	printf("errno at main: %s\n",
	       start_errno ? strerrorname_np(start_errno) ?: "?" : "0");
}

static const struct section {
	const char *name;
	void (*fn)(void);
	int by_default;
} sections[] = {
	{ "start", sec_start, 1 }, { "create", sec_create, 1 },
	{ "fcntl", sec_fcntl, 1 }, { "rw", sec_rw, 1 },
	{ "poll", sec_poll, 1 },   { "epoll", sec_epoll, 1 },
	{ "block", sec_block, 1 }, { "fork", sec_fork, 1 },
	{ "exec", sec_exec, 1 },   { "syscall", sec_syscall, 1 },
	{ "aio", sec_aio, 0 },	   { "ring", sec_ring, 0 },
};

#define NSECTIONS (sizeof(sections) / sizeof(sections[0]))

int main(int argc, char **argv)
{
	unsigned int i;
	int a;

	start_errno = errno; /* before anything can change it */
	self_path = "/proc/self/exe";
	if (argc == 4 && strcmp(argv[1], "--exec-child") == 0) {
		/* the close-on-exec one must be gone */
		printf("child: cloexec fd open=%d\n",
		       fcntl(atoi(argv[3]), F_GETFD) >= 0);
		return exec_child(atoi(argv[2]));
	}
	/* Unbuffered enough that fork and exec do not duplicate output. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	alarm(60); /* a hang is a failure, never a stuck test run */
	if (argc == 1) {
		for (i = 0; i < NSECTIONS; i++)
			if (sections[i].by_default) {
				printf("== %s\n", sections[i].name);
				sections[i].fn();
			}
		return 0;
	}
	for (a = 1; a < argc; a++) {
		for (i = 0; i < NSECTIONS; i++)
			if (strcmp(argv[a], sections[i].name) == 0)
				break;
		if (i == NSECTIONS) {
			fprintf(stderr, "shim-conform: no section %s\n",
				argv[a]);
			return 2;
		}
		printf("== %s\n", sections[i].name);
		sections[i].fn();
	}
	return 0;
}
