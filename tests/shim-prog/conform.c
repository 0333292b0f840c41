// SPDX-License-Identifier: GPL-2.0-only
/*
 * shim-conform: a program written against glibc and libaio only, as any
 * program that uses eventfd and Linux AIO would be.  It exercises eventfd
 * creation and flags, read and write, poll, select and epoll, semaphore
 * mode, O_NONBLOCK, fcntl(F_GETFL), fork and exec, and libaio (its calls,
 * the ring behind the handle, whole transfers of up to 256 MiB, the
 * submitter's RLIMIT_FSIZE and SIGPIPE), and prints what it observes, one
 * line per step.
 *
 * tests/shim runs it twice, natively and under libevfdfs-preload.so with
 * EVFDFS_MOUNT set, and requires the two transcripts to be equal: the shim
 * is right when a program cannot tell the difference.  Nothing printed may
 * depend on descriptor numbers or timing.
 *
 * Usage: shim-conform [SECTION...]   (default: the eventfd sections)
 * Sections: start create fcntl rw poll epoll block fork exec syscall,
 * and the AIO ones, run only when named: aio ring xfer big limits ringx
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
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/uio.h>
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

/* An unlinked file in @dir, empty. */
static int tmpfile_in(const char *dir)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "%s/shim-conform-XXXXXX", dir);
	fd = mkstemp(path);
	if (fd < 0)
		die("mkstemp");
	unlink(path);
	return fd;
}

/* An unlinked file in @dir holding the @len bytes of @text. */
static int tmpfile_with(const char *dir, const char *text, size_t len)
{
	int fd = tmpfile_in(dir);

	if (write(fd, text, len) != (ssize_t)len)
		die("write");
	return fd;
}

static void sec_aio(void)
{
	char buf[64], wbuf[16];
	struct timespec zero = { 0, 0 }, wait = { 5, 0 };
	struct iocb cb[4], *cbs[4] = { &cb[0], &cb[1], &cb[2], &cb[3] };
	struct epoll_event e = { .events = EPOLLIN }, got;
	io_context_t ctx = 0, q = 0;
	struct io_event ev[8];
	int file, efd, ep, n;
	eventfd_t v;

	file = tmpfile_with("/tmp", "hello, aio world", 16);
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
	char buf[4][8];
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

	file = tmpfile_with("/tmp", "0123456789abcdefghijklmnopqrstuv", 32);
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

/* ------------------------------------------------------------------ */
/* Whole transfers (issue 10): lengths past one FUSE request, vectors, */
/* buffers the kernel's copy stops in.                                 */

#define MIB (1u << 20)

/* The data pattern: period 251, so a block of 251 * 4096 bytes starting
 * at a multiple of 251 is every such block. */
static unsigned char pat(size_t i)
{
	return (unsigned char)(i * 7 % 251);
}

static unsigned char pat_block[251 * 4096];

static void fill(unsigned char *p, size_t len, size_t base)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = pat(base + i);
}

/* Does @p hold the pattern from @base on (a multiple of 251)? */
static int mem_ok(const unsigned char *p, size_t len, size_t base)
{
	size_t done = 0, n;

	if (!pat_block[1])
		fill(pat_block, sizeof(pat_block), 0);
	if (base % 251) {
		for (n = 0; n < len; n++)
			if (p[n] != pat(base + n))
				return 0;
		return 1;
	}
	while (done < len) {
		n = len - done < sizeof(pat_block) ? len - done
						   : sizeof(pat_block);
		if (memcmp(p + done, pat_block, n))
			return 0;
		done += n;
	}
	return 1;
}

/* Does @fd hold the pattern over [@off, @off + @len)? */
static int file_ok(int fd, size_t off, size_t len)
{
	static unsigned char buf[251 * 1024];
	size_t done = 0, n;

	while (done < len) {
		n = len - done < sizeof(buf) ? len - done : sizeof(buf);
		if (pread(fd, buf, n, (off_t)(off + done)) != (ssize_t)n ||
		    !mem_ok(buf, n, off + done))
			return 0;
		done += n;
	}
	return 1;
}

/* Does @fd hold @len bytes of @mem at @off? */
static int file_has(int fd, size_t off, const unsigned char *mem, size_t len)
{
	unsigned char *buf = malloc(len ? len : 1);
	int ok;

	if (!buf)
		die("malloc");
	ok = pread(fd, buf, len, (off_t)off) == (ssize_t)len &&
	     !memcmp(buf, mem, len);
	free(buf);
	return ok;
}

static unsigned char *map(size_t len, int prot)
{
	void *p = mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("mmap");
	return p;
}

/*
 * Wait (at most 30 s) for @n events of @ctx and print them by iocb, in
 * the order of @cbs (completions of one submit may come in any order).
 */
static void collect(const char *label, io_context_t ctx, int n,
		    struct iocb **cbs, int ncbs)
{
	struct timespec wait = { 30, 0 };
	struct io_event ev[16], sorted[16];
	int got = 0, r, i, j, k = 0;

	while (got < n && got < 16) {
		r = io_getevents(ctx, n - got, 16 - got, ev + got, &wait);
		if (r <= 0) {
			REC_AIO("io_getevents", r);
			break;
		}
		got += r;
	}
	for (j = 0; j < ncbs; j++)
		for (i = 0; i < got; i++)
			if (ev[i].obj == cbs[j])
				sorted[k++] = ev[i];
	for (i = 0; i < got; i++) {
		for (j = 0; j < ncbs && ev[i].obj != cbs[j]; j++)
			;
		if (j == ncbs)
			sorted[k++] = ev[i];
	}
	show_events(label, got, sorted, cbs, ncbs);
}

/* Submit @cbs[0..@n) and collect their events. */
static void submit_collect(const char *label, io_context_t ctx, int n,
			   struct iocb **cbs)
{
	char l[128];
	long ret;

	errno = ERRNO_MARK;
	ret = io_submit(ctx, n, cbs);
	snprintf(l, sizeof(l), "%s: io_submit", label);
	rec(l, ret < 0 ? -1 : ret, ret < 0 ? (int)-ret : 0);
	if (ret > 0) {
		snprintf(l, sizeof(l), "%s: events", label);
		collect(l, ctx, (int)ret, cbs, n);
	}
}

static void xfer_ten_mb(io_context_t ctx)
{
	static const char *const dirs[] = { "/dev/shm", "/var/tmp" };
	const size_t len = 10u * 1000 * 1000;
	unsigned char *w = map(len, PROT_READ | PROT_WRITE);
	int efd = must_eventfd(0, EFD_NONBLOCK), d, fd;
	struct iocb cb, *cbs[1] = { &cb };
	char label[64];

	fill(w, len, 0);
	for (d = 0; d < 2; d++) {
		fd = tmpfile_in(dirs[d]);
		io_prep_pwrite(&cb, fd, w, len, 0);
		io_set_eventfd(&cb, efd);
		snprintf(label, sizeof(label), "10 MB pwrite+resfd %s",
			 dirs[d]);
		submit_collect(label, ctx, 1, cbs);
		printf("signalled: %llu\n", await_count(efd, 1));
		printf("file: %s\n", file_ok(fd, 0, len) ? "data ok" : "wrong");
		close(fd);
	}
	munmap(w, len);
	close(efd);
}

static void xfer_eight_mib(io_context_t ctx)
{
	enum { N = 8 };
	unsigned char *w = map(N * MIB, PROT_READ | PROT_WRITE);
	unsigned char *r = map(N * MIB, PROT_READ | PROT_WRITE);
	int fd = tmpfile_in("/dev/shm"), i;
	struct iocb cb[N], *cbs[N];

	fill(w, N * MIB, 0);
	for (i = 0; i < N; i++) {
		io_prep_pwrite(&cb[i], fd, w + (size_t)i * MIB, MIB,
			       (long long)i * MIB);
		cb[i].data = (void *)(uintptr_t)(30 + i);
		cbs[i] = &cb[i];
	}
	submit_collect("8 x 1 MiB pwrite", ctx, N, cbs);
	printf("file: %s\n", file_ok(fd, 0, N * MIB) ? "data ok" : "wrong");
	for (i = 0; i < N; i++)
		io_prep_pread(&cb[i], fd, r + (size_t)i * MIB, MIB,
			      (long long)i * MIB);
	submit_collect("8 x 1 MiB pread", ctx, N, cbs);
	printf("read: %s\n", mem_ok(r, N * MIB, 0) ? "data ok" : "wrong");
	munmap(w, N * MIB);
	munmap(r, N * MIB);
	close(fd);
}

/* PWRITEV and PREADV over segments of 700 KiB, 1.5 MiB, 0 and 300 KiB,
 * 4 KiB apart in memory. */
static void xfer_vectored(io_context_t ctx)
{
	static const size_t segs[] = { 700u << 10, 3u * MIB / 2, 0,
				       300u << 10 };
	enum { NS = 4 };
	size_t total = 0, off, room;
	unsigned char *w, *r;
	struct iovec iov[NS];
	struct iocb cb, *cbs[1] = { &cb };
	int fd = tmpfile_in("/dev/shm"), i;

	for (i = 0; i < NS; i++)
		total += segs[i];
	room = total + NS * 4096;
	w = map(room, PROT_READ | PROT_WRITE);
	r = map(room, PROT_READ | PROT_WRITE);
	fill(w, room, 0);
	for (off = 0, i = 0; i < NS; i++) {
		iov[i].iov_base = w + off + (size_t)i * 4096;
		iov[i].iov_len = segs[i];
		off += segs[i];
	}
	io_prep_pwritev(&cb, fd, iov, NS, 4096);
	submit_collect("pwritev 2.5 MiB in 4", ctx, 1, cbs);
	for (off = 0, i = 0; i < NS; i++) {
		printf("segment %d: %s\n", i,
		       file_has(fd, 4096 + off, w + off + (size_t)i * 4096,
				segs[i])
			       ? "in the file"
			       : "wrong");
		iov[i].iov_base = r + off + (size_t)i * 4096;
		off += segs[i];
	}
	io_prep_preadv(&cb, fd, iov, NS, 4096);
	submit_collect("preadv 2.5 MiB in 4", ctx, 1, cbs);
	for (off = 0, i = 0; i < NS; i++) {
		printf("segment %d back: %s\n", i,
		       memcmp(r + off + (size_t)i * 4096,
			      w + off + (size_t)i * 4096, segs[i])
			       ? "wrong"
			       : "data ok");
		off += segs[i];
	}
	munmap(w, room);
	munmap(r, room);
	close(fd);
}

static void print_file(const char *label, int fd)
{
	struct stat st;

	if (fstat(fd, &st))
		die("fstat");
	printf("%s: size %lld, %s\n", label, (long long)st.st_size,
	       file_ok(fd, 0, (size_t)st.st_size) ? "data ok" : "wrong");
}

/*
 * Buffers the kernel's copy stops in (Linux writes the readable part):
 * a PWRITE of two parts whose second is PROT_NONE or unmapped; whose
 * only part is PROT_NONE; a PWRITEV whose second segment is unreadable;
 * a PREAD into a buffer whose second part is read-only.  Parts of 4 KiB
 * and of 1.5 MiB.
 */
static void xfer_partial(io_context_t ctx)
{
	static const size_t parts[] = { 4096, 1536u * 1024 };
	struct iocb cb, *cbs[1] = { &cb };
	int fd = tmpfile_in("/dev/shm"), s;
	struct iovec iov[2];
	unsigned char *p;
	char label[96];
	size_t pg;

	for (s = 0; s < 2; s++) {
		pg = parts[s];
		p = map(2 * pg, PROT_READ | PROT_WRITE);
		fill(p, 2 * pg, 0);

		if (ftruncate(fd, 0) || mprotect(p + pg, pg, PROT_NONE))
			die("ftruncate, mprotect");
		io_prep_pwrite(&cb, fd, p, 2 * pg, 0);
		snprintf(label, sizeof(label), "%zu+%zu, 2nd PROT_NONE", pg,
			 pg);
		submit_collect(label, ctx, 1, cbs);
		print_file(label, fd);

		if (ftruncate(fd, 0))
			die("ftruncate");
		io_prep_pwrite(&cb, fd, p + pg, pg, 0);
		snprintf(label, sizeof(label), "%zu, all PROT_NONE", pg);
		submit_collect(label, ctx, 1, cbs);
		print_file(label, fd);

		iov[0].iov_base = p;
		iov[0].iov_len = pg;
		iov[1].iov_base = p + pg;
		iov[1].iov_len = pg;
		io_prep_pwritev(&cb, fd, iov, 2, 0);
		snprintf(label, sizeof(label), "pwritev %zu+%zu, 2nd PROT_NONE",
			 pg, pg);
		submit_collect(label, ctx, 1, cbs);
		print_file(label, fd);

		if (ftruncate(fd, 0) || munmap(p + pg, pg))
			die("ftruncate, munmap");
		io_prep_pwrite(&cb, fd, p, 2 * pg, 0);
		snprintf(label, sizeof(label), "%zu+%zu, 2nd unmapped", pg, pg);
		submit_collect(label, ctx, 1, cbs);
		print_file(label, fd);

		/* A read stops where the buffer is no longer writable. */
		p[0] = p[pg - 1] = 1;
		if (mmap(p + pg, pg, PROT_READ,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1,
			 0) == MAP_FAILED)
			die("mmap");
		if (ftruncate(fd, 0) || ftruncate(fd, (off_t)(2 * pg)))
			die("ftruncate");
		io_prep_pread(&cb, fd, p, 2 * pg, 0);
		snprintf(label, sizeof(label), "pread %zu+%zu, 2nd read-only",
			 pg, pg);
		submit_collect(label, ctx, 1, cbs);
		printf("%s: first part zeroed %d\n", label,
		       p[0] == 0 && p[pg - 1] == 0);
		munmap(p, 2 * pg);
	}
	close(fd);
}

/* A buffer mapped PROT_WRITE alone: x86's kernel copy reads it. */
static void xfer_write_only(io_context_t ctx)
{
	const size_t len = 3 * 4096;
	unsigned char *p = map(len, PROT_WRITE);
	struct iocb cb, *cbs[1] = { &cb };
	int fd = tmpfile_in("/dev/shm");

	fill(p, len, 0);
	io_prep_pwrite(&cb, fd, p, len, 0);
	submit_collect("pwrite from PROT_WRITE", ctx, 1, cbs);
	print_file("pwrite from PROT_WRITE", fd);
	memset(p, 0, len);
	io_prep_pread(&cb, fd, p, len, 0);
	submit_collect("pread into PROT_WRITE", ctx, 1, cbs);
	printf("pread into PROT_WRITE: %s\n",
	       mem_ok(p, len, 0) ? "data ok" : "wrong");
	munmap(p, len);
	close(fd);
}

static void sec_xfer(void)
{
	io_context_t ctx = 0;

	REC_AIO("io_setup 16", io_setup(16, &ctx));
	xfer_ten_mb(ctx);
	xfer_eight_mib(ctx);
	xfer_vectored(ctx);
	xfer_partial(ctx);
	xfer_write_only(ctx);
	REC_AIO("io_destroy", io_destroy(ctx));
}

/* 256 MiB to tmpfs and back, one request each way. */
static void sec_big(void)
{
	const size_t len = 256u * MIB;
	struct iocb cb, *cbs[1] = { &cb };
	io_context_t ctx = 0;
	struct sysinfo si;
	unsigned char *p;
	int fd;

	/* The buffer, the file, and room for the daemon's copy. */
	if (sysinfo(&si) || (uint64_t)si.freeram * si.mem_unit < 3ull * len) {
		printf("skipped: less than 768 MiB free\n");
		return;
	}
	REC_AIO("io_setup 4", io_setup(4, &ctx));
	p = map(len, PROT_READ | PROT_WRITE);
	fd = tmpfile_in("/dev/shm");
	fill(p, len, 0);
	io_prep_pwrite(&cb, fd, p, len, 0);
	submit_collect("256 MiB pwrite", ctx, 1, cbs);
	memset(p, 0, len);
	io_prep_pread(&cb, fd, p, len, 0);
	submit_collect("256 MiB pread", ctx, 1, cbs);
	printf("read: %s\n", mem_ok(p, len, 0) ? "data ok" : "wrong");
	munmap(p, len);
	close(fd);
	REC_AIO("io_destroy", io_destroy(ctx));
}

/* ------------------------------------------------------------------ */
/* The submitter's limits (issue 10): RLIMIT_FSIZE and SIGPIPE, with    */
/* their signals delivered to the submitter.                           */

#ifndef RWF_NOSIGNAL
#define RWF_NOSIGNAL 0x00000100
#endif

static volatile sig_atomic_t sig_seen;

static void count_signal(int sig)
{
	(void)sig;
	sig_seen++;
}

/* Catch @sig with a counting handler; *@old gets what was there. */
static void catch_signal(int sig, struct sigaction *old)
{
	struct sigaction sa = { .sa_handler = count_signal };

	sigemptyset(&sa.sa_mask);
	if (sigaction(sig, &sa, old))
		die("sigaction");
	sig_seen = 0;
}

/* One PWRITE of @n bytes at @off, its event, and whether @signame came. */
static void limit_write(io_context_t ctx, const char *label,
			const char *signame, int fd, size_t n, long long off,
			int rw_flags)
{
	static char data[8192];
	struct iocb cb, *cbs[1] = { &cb };

	memset(data, 'f', sizeof(data));
	io_prep_pwrite(&cb, fd, data, n, off);
	cb.aio_rw_flags = rw_flags;
	submit_collect(label, ctx, 1, cbs);
	/* The signal is sent before the event is queued: a system call after
	 * the event was seen has taken delivery. */
	(void)getppid();
	printf("%s: %s %s\n", label, signame,
	       sig_seen ? "arrived" : "did not arrive");
	sig_seen = 0;
}

#define FSIZE_LIM 65536

static void fsize_in(io_context_t ctx, const char *dir)
{
	struct rlimit old, lim;
	struct sigaction old_sa;
	struct stat st;
	int fd = tmpfile_in(dir);

	printf("RLIMIT_FSIZE %d in %s\n", FSIZE_LIM, dir);
	catch_signal(SIGXFSZ, &old_sa);
	if (getrlimit(RLIMIT_FSIZE, &old))
		die("getrlimit");
	lim = old;
	lim.rlim_cur = FSIZE_LIM;
	if (setrlimit(RLIMIT_FSIZE, &lim))
		die("setrlimit");
	limit_write(ctx, "below", "SIGXFSZ", fd, 4096, 0, 0);
	limit_write(ctx, "straddling", "SIGXFSZ", fd, 8192, FSIZE_LIM - 4096,
		    0);
	limit_write(ctx, "at the limit", "SIGXFSZ", fd, 4096, FSIZE_LIM, 0);
	limit_write(ctx, "past the limit", "SIGXFSZ", fd, 100, FSIZE_LIM + 5000,
		    0);
	limit_write(ctx, "0 bytes at the limit", "SIGXFSZ", fd, 0, FSIZE_LIM,
		    0);
	limit_write(ctx, "ending at the limit", "SIGXFSZ", fd, 4096,
		    FSIZE_LIM - 4096, 0);
	if (setrlimit(RLIMIT_FSIZE, &old) || sigaction(SIGXFSZ, &old_sa, NULL))
		die("restoring RLIMIT_FSIZE, SIGXFSZ");
	if (fstat(fd, &st))
		die("fstat");
	printf("size %lld\n", (long long)st.st_size);
	close(fd);
}

static void sec_limits(void)
{
	struct sigaction old_sa;
	io_context_t ctx = 0;
	int p[2];

	REC_AIO("io_setup 8", io_setup(8, &ctx));
	fsize_in(ctx, "/var/tmp");
	fsize_in(ctx, "/dev/shm");

	catch_signal(SIGPIPE, &old_sa);
	if (pipe2(p, O_CLOEXEC))
		die("pipe2");
	close(p[0]);
	limit_write(ctx, "pipe without reader", "SIGPIPE", p[1], 3, 0, 0);
	limit_write(ctx, "pipe without reader, RWF_NOSIGNAL", "SIGPIPE", p[1],
		    3, 0, RWF_NOSIGNAL);
	close(p[1]);
	if (sigaction(SIGPIPE, &old_sa, NULL))
		die("restoring SIGPIPE");
	REC_AIO("io_destroy", io_destroy(ctx));
}

/* ------------------------------------------------------------------ */
/* The ring cases sec_ring lacks (issue 10): its size for several       */
/* nr_events, the {0,0} peek of a fresh ring, slots coming back after  */
/* many rounds reaped in user space, children sharing the context, a   */
/* bigger ring filled.                                                 */

/* Reap what the ring holds, as libaio-style programs do: copy the
 * events from head to tail, then store the new head. */
static int reap_ring(io_context_t ctx, struct io_event *ev, int max)
{
	struct ring *r = (struct ring *)ctx;
	unsigned int head = r->head, tail;
	int n = 0;

	tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
	while (head != tail && n < max) {
		ev[n++] = r->io_events[head];
		head = (head + 1) % r->nr;
	}
	__atomic_store_n(&r->head, head, __ATOMIC_RELEASE);
	return n;
}

struct child_use {
	io_context_t ctx;
	int fd;
	char buf[8];
	long submit, getevents, res;
};

static void child_use_ctx(struct child_use *c)
{
	struct timespec wait = { 5, 0 };
	struct iocb cb, *cbs[1] = { &cb };
	struct io_event ev[1];

	io_prep_pread(&cb, c->fd, c->buf, 8, 8);
	c->submit = io_submit(c->ctx, 1, cbs);
	c->getevents = io_getevents(c->ctx, 1, 1, ev, &wait);
	c->res = c->getevents == 1 ? (long)ev[0].res : 0;
}

static int clone_main(void *arg)
{
	child_use_ctx(arg);
	return 0;
}

/* Submit and leave: the parent reaps. */
static int clone_submit_main(void *arg)
{
	struct child_use *c = arg;
	struct iocb cb, *cbs[1] = { &cb };

	io_prep_pread(&cb, c->fd, c->buf, 8, 16);
	c->submit = io_submit(c->ctx, 1, cbs);
	return 0;
}

static void show_child(const char *who, int status, struct child_use *c)
{
	char label[64];

	printf("%s: status=%d\n", who,
	       WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	snprintf(label, sizeof(label), "%s: io_submit", who);
	rec(label, c->submit < 0 ? -1 : c->submit,
	    c->submit < 0 ? (int)-c->submit : 0);
	snprintf(label, sizeof(label), "%s: io_getevents", who);
	rec(label, c->getevents < 0 ? -1 : c->getevents,
	    c->getevents < 0 ? (int)-c->getevents : 0);
	printf("%s: res=%ld data=%.8s\n", who, c->res,
	       c->res == 8 ? c->buf : "-");
}

static void sec_ringx(void)
{
	static const unsigned int sizes[] = { 1,   2,	8,   31,   32,
					      100, 128, 511, 1000, 4096 };
	char buf[8];
	static char stack[256 * 1024] __attribute__((aligned(16)));
	struct timespec zero = { 0, 0 };
	struct iocb cb[4], *cbs[4] = { &cb[0], &cb[1], &cb[2], &cb[3] };
	struct child_use c = { 0 };
	struct io_event ev[8];
	io_context_t ctx = 0;
	int file, efd, i, round, n, reaped, ok, status;
	unsigned int s;
	pid_t pid;

	/* The ring's size and header as io_setup makes them. */
	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		struct ring *r;
		char label[32];

		ctx = 0;
		snprintf(label, sizeof(label), "io_setup %u", sizes[s]);
		REC_AIO(label, io_setup((int)sizes[s], &ctx));
		if (!ctx)
			continue;
		r = (struct ring *)ctx;
		printf("ring: nr=%u head=%u tail=%u magic=%#x "
		       "header_length=%u\n",
		       r->nr, r->head, r->tail, r->magic, r->header_length);
		REC_AIO("io_destroy", io_destroy(ctx));
	}

	file = tmpfile_with("/dev/shm", "0123456789abcdefghijklmnopqrstuv", 32);
	efd = must_eventfd(0, EFD_NONBLOCK);
	ctx = 0;
	REC_AIO("io_setup 1", io_setup(1, &ctx));

	/* libaio's {0,0} peek of a ring nothing was submitted to. */
	REC_AIO("io_getevents 0, 8, {0,0}, fresh ring",
		io_getevents(ctx, 0, 8, ev, &zero));
	REC_AIO("io_getevents 1, 8, {0,0}, fresh ring",
		io_getevents(ctx, 1, 8, ev, &zero));
	REC("syscall io_getevents 0, 8, {0,0}, fresh ring",
	    syscall(SYS_io_getevents, ctx, 0L, 8L, ev, &zero));

	/* 400 rounds of four reads, reaped in user space: 1600 submissions
	 * on a ring of io_setup(1), the slots coming back each round. */
	for (reaped = 0, ok = 1, round = 0; round < 400; round++) {
		for (i = 0; i < 4; i++) {
			io_prep_pread(&cb[i], file, buf, 8, 8 * i);
			io_set_eventfd(&cb[i], efd);
		}
		if (io_submit(ctx, 4, cbs) != 4) {
			ok = 0;
			break;
		}
		if (await_count(efd, 4) != 4) {
			ok = 0;
			break;
		}
		for (n = 0; n < 4;) {
			int got = reap_ring(ctx, ev + n, 8 - n);

			for (i = n; i < n + got; i++)
				if (ev[i].res != 8)
					ok = 0;
			n += got;
			if (!got)
				break;
		}
		reaped += n;
		if (n != 4) {
			ok = 0;
			break;
		}
	}
	printf("rounds reaped in user space: %d, events %d, all res=8: %d\n",
	       round, reaped, ok);
	REC_AIO("io_getevents 0, 8, {0,0}, after",
		io_getevents(ctx, 0, 8, ev, &zero));

	/* A CLONE_VM child (an address space shared, no thread) and a vfork
	 * child use the parent's context (A15). */
	c.ctx = ctx;
	c.fd = file;
	fflush(stdout);
	pid = clone(clone_main, stack + sizeof(stack), CLONE_VM | SIGCHLD, &c);
	if (pid < 0)
		die("clone");
	if (waitpid(pid, &status, 0) != pid)
		die("waitpid");
	show_child("clone(CLONE_VM) child", status, &c);
	memset(&c, 0, sizeof(c));
	c.ctx = ctx;
	c.fd = file;
	pid = vfork();
	if (pid == 0) {
		child_use_ctx(&c);
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		die("vfork");
	show_child("vfork child", status, &c);

	/* What a CLONE_VM child submitted, its parent reaps. */
	{
		struct child_use sub = { .ctx = ctx, .fd = file };

		pid = clone(clone_submit_main, stack + sizeof(stack),
			    CLONE_VM | SIGCHLD, &sub);
		if (pid < 0 || waitpid(pid, &status, 0) != pid)
			die("clone");
		rec("clone(CLONE_VM) child submits: io_submit",
		    sub.submit < 0 ? -1 : sub.submit,
		    sub.submit < 0 ? (int)-sub.submit : 0);
		n = io_getevents(ctx, 1, 8, ev, &(struct timespec){ 5, 0 });
		printf("parent reaps: %d res=%ld data=%.8s\n", n,
		       n == 1 ? (long)ev[0].res : 0L,
		       n == 1 && ev[0].res == 8 ? sub.buf : "-");
	}
	REC_AIO("io_destroy", io_destroy(ctx));

	/* A bigger ring filled: at least nr_events submissions, at most
	 * nr - 1, then EAGAIN; one reaped makes room for one. */
	{
		static struct iocb many[400];
		struct iocb *one[1];
		struct ring *r;

		ctx = 0;
		REC_AIO("io_setup 100", io_setup(100, &ctx));
		r = (struct ring *)ctx;
		for (n = 0; n < 400; n++) {
			io_prep_pread(&many[n], file, buf, 8, 0);
			one[0] = &many[n];
			if (io_submit(ctx, 1, one) != 1)
				break;
		}
		printf("accepted before EAGAIN: at least 100: %d, at most nr - "
		       "1: %d\n",
		       n >= 100, n <= (int)r->nr - 1);
		one[0] = &many[399];
		io_prep_pread(one[0], file, buf, 8, 0);
		REC_AIO("io_submit on a full ring", io_submit(ctx, 1, one));
		REC_AIO("io_getevents 1", io_getevents(ctx, 1, 1, ev, &zero));
		REC_AIO("io_submit after one reaped", io_submit(ctx, 1, one));
		REC_AIO("io_destroy", io_destroy(ctx));
	}
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
	{ "start", sec_start, 1 },   { "create", sec_create, 1 },
	{ "fcntl", sec_fcntl, 1 },   { "rw", sec_rw, 1 },
	{ "poll", sec_poll, 1 },     { "epoll", sec_epoll, 1 },
	{ "block", sec_block, 1 },   { "fork", sec_fork, 1 },
	{ "exec", sec_exec, 1 },     { "syscall", sec_syscall, 1 },
	{ "aio", sec_aio, 0 },	     { "ring", sec_ring, 0 },
	{ "xfer", sec_xfer, 0 },     { "big", sec_big, 0 },
	{ "limits", sec_limits, 0 }, { "ringx", sec_ringx, 0 },
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
