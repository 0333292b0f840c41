// SPDX-License-Identifier: GPL-2.0-only
/*
 * shim-probe: small checks that tests/shim runs natively and under
 * libevfdfs-preload.so, each a mode of one glibc+libaio program.  Each mode
 * prints what it sees and exits 0 when every step ran; the test compares
 * or inspects the output.
 *
 *   kind         where eventfd() puts the counter: "kernel" or "mount"
 *   threads      threads hammering one counter descriptor: the sum adds up
 *   aio-threads  a thread blocked in io_getevents while another submits
 *   resfd-kernel an eventfd as IOCB_FLAG_RESFD of a kernel AIO context
 *   fd-reuse     counter numbers closed by a raw syscall and reused
 *   chdir-exec   eventfd() before and after chdir("/") and an exec
 *   eventfd-cancel  eventfd() in a thread with a cancellation pending
 *   aio-cancel   pthread_cancel of a thread waiting in io_getevents
 *   aio-fork     a child forked while the parent has an AIO context
 *   mixed        a kernel AIO context (made with a raw syscall instruction,
 *                which no shim sees) next to an io_setup() one
 *   syscall-aio  AIO through syscall(SYS_io_*), as libaio-less programs
 *                (and libaio itself) reach the kernel
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libaio.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void die(const char *what, int err)
{
	fprintf(stderr, "shim-probe: %s: %s\n", what, strerror(err));
	exit(2);
}

static const char *fd_kind(int fd)
{
	char link[64], path[4096];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n < 0)
		return "closed";
	path[n] = '\0';
	return strcmp(path, "anon_inode:[eventfd]") == 0 ? "kernel" : "mount";
}

static int mode_kind(void)
{
	int fd = eventfd(0, 0);

	if (fd < 0)
		die("eventfd", errno);
	printf("eventfd: %s\n", fd_kind(fd));
	close(fd);
	fd = (int)syscall(SYS_eventfd2, 0, 0);
	if (fd < 0)
		die("syscall eventfd2", errno);
	printf("syscall eventfd2: %s\n", fd_kind(fd));
	close(fd);
	return 0;
}

/* ---- threads sharing one descriptor -------------------------------- */

#define NWRITERS 4
#define NREADERS 4
#define PER_WRITER 500

struct shared {
	int fd;
	pthread_mutex_t lock;
	uint64_t consumed; /* protected by lock */
	int failed;	   /* protected by lock */
};

static void *writer(void *arg)
{
	struct shared *s = arg;
	int i;

	for (i = 0; i < PER_WRITER; i++)
		if (eventfd_write(s->fd, 1) != 0) {
			pthread_mutex_lock(&s->lock);
			s->failed = errno;
			pthread_mutex_unlock(&s->lock);
			break;
		}
	return NULL;
}

/* Semaphore mode: each blocking read takes exactly one. */
static void *reader(void *arg)
{
	struct shared *s = arg;
	eventfd_t v;
	int i;

	for (i = 0; i < NWRITERS * PER_WRITER / NREADERS; i++) {
		if (eventfd_read(s->fd, &v) != 0) {
			pthread_mutex_lock(&s->lock);
			s->failed = errno;
			pthread_mutex_unlock(&s->lock);
			break;
		}
		pthread_mutex_lock(&s->lock);
		s->consumed += v;
		pthread_mutex_unlock(&s->lock);
	}
	return NULL;
}

static int mode_threads(void)
{
	struct shared s = { .lock = PTHREAD_MUTEX_INITIALIZER };
	pthread_t w[NWRITERS], r[NREADERS];
	struct pollfd p;
	int i;

	s.fd = eventfd(0, EFD_SEMAPHORE);
	if (s.fd < 0)
		die("eventfd", errno);
	/* Readers first, so that most of them block on the empty counter. */
	for (i = 0; i < NREADERS; i++)
		pthread_create(&r[i], NULL, reader, &s);
	for (i = 0; i < NWRITERS; i++)
		pthread_create(&w[i], NULL, writer, &s);
	for (i = 0; i < NWRITERS; i++)
		pthread_join(w[i], NULL);
	for (i = 0; i < NREADERS; i++)
		pthread_join(r[i], NULL);
	p.fd = s.fd;
	p.events = POLLIN;
	printf("consumed: %llu of %d\n", (unsigned long long)s.consumed,
	       NWRITERS * PER_WRITER);
	printf("errors: %s\n", s.failed ? strerror(s.failed) : "none");
	printf("left readable: %d\n", poll(&p, 1, 0));
	close(s.fd);
	return 0;
}

/* ---- a blocked io_getevents and a submitter ------------------------ */

struct waiter_arg {
	io_context_t ctx;
	struct io_event ev;
	int ret;
};

static void *aio_waiter(void *arg)
{
	struct waiter_arg *w = arg;
	struct timespec ts = { 20, 0 };

	w->ret = io_getevents(w->ctx, 1, 1, &w->ev, &ts);
	return NULL;
}

static int mode_aio_threads(void)
{
	char tmpl[] = "/tmp/shim-probe-XXXXXX", buf[8];
	struct waiter_arg w = { 0 };
	struct iocb cb, *cbs[1] = { &cb };
	pthread_t t;
	int file, efd, ret;
	eventfd_t v;

	file = mkstemp(tmpl);
	if (file < 0)
		die("mkstemp", errno);
	unlink(tmpl);
	if (write(file, "abcdefgh", 8) != 8)
		die("write", errno);
	efd = eventfd(0, 0);
	if (efd < 0)
		die("eventfd", errno);
	ret = io_setup(4, &w.ctx);
	if (ret < 0)
		die("io_setup", -ret);
	pthread_create(&t, NULL, aio_waiter, &w);
	usleep(100000); /* let it block */
	io_prep_pread(&cb, file, buf, 8, 0);
	io_set_eventfd(&cb, efd);
	ret = io_submit(w.ctx, 1, cbs);
	printf("io_submit: %d\n", ret);
	pthread_join(t, NULL);
	printf("waiter: ret=%d res=%ld obj-is-iocb=%d data=%.8s\n", w.ret,
	       (long)w.ev.res, w.ev.obj == &cb, buf);
	/* The counter was signalled once (blocking read: it must be). */
	ret = eventfd_read(efd, &v);
	printf("counter: ret=%d value=%llu\n", ret, (unsigned long long)v);
	printf("io_destroy: %d\n", io_destroy(w.ctx));
	close(efd);
	close(file);
	return 0;
}

/* ---- fork with an AIO context --------------------------------------- */

/* Open descriptors of this process (the directory's own left out). */
static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		die("opendir", errno);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1;
}

/*
 * A child forked while the parent has an AIO context: the context is not
 * the child's (its calls fail with EINVAL), and the child holds nothing of
 * it, not a descriptor more than the parent had before io_setup.
 */
static int mode_aio_fork(void)
{
	char tmpl[] = "/tmp/shim-probe-XXXXXX", buf[8];
	struct iocb cb, *cbs[1] = { &cb };
	io_context_t ctx = 0;
	struct io_event ev;
	int file, before, ret, status;
	pid_t pid;

	file = mkstemp(tmpl);
	if (file < 0)
		die("mkstemp", errno);
	unlink(tmpl);
	if (write(file, "abcdefgh", 8) != 8)
		die("write", errno);
	before = count_fds();
	ret = io_setup(4, &ctx);
	if (ret < 0)
		die("io_setup", -ret);
	io_prep_pread(&cb, file, buf, 8, 0);
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		die("fork", errno);
	if (pid == 0) {
		printf("child: descriptors since io_setup: %d\n",
		       count_fds() - before);
		ret = io_submit(ctx, 1, cbs);
		printf("child: io_submit: %s\n",
		       ret < 0 ? strerrorname_np(-ret) : "ok");
		ret = io_destroy(ctx);
		printf("child: io_destroy: %s\n",
		       ret < 0 ? strerrorname_np(-ret) : "ok");
		fflush(stdout);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	printf("child: status=%d\n",
	       WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	ret = io_submit(ctx, 1, cbs);
	printf("io_submit: %d\n", ret);
	ret = io_getevents(ctx, 1, 1, &ev, NULL);
	printf("io_getevents: %d res=%ld data=%.8s\n", ret, (long)ev.res, buf);
	printf("io_destroy: %d\n", io_destroy(ctx));
	printf("descriptors after io_destroy: %d\n", count_fds() - before);
	close(file);
	return 0;
}

/* ---- pthread_cancel of a thread waiting for completions ------------ */

static void *aio_cancelled_waiter(void *arg)
{
	struct waiter_arg *w = arg;

	w->ret = io_getevents(w->ctx, 1, 1, &w->ev, NULL);
	return NULL;
}

/*
 * libaio's io_getevents is no cancellation point: a thread waiting in it
 * stays there after pthread_cancel, io_destroy wakes it (EINVAL), and the
 * program can join it.  Nothing of the context may be left held.
 */
static int mode_aio_cancel(void)
{
	struct waiter_arg w = { 0 };
	pthread_t t;
	int ret;

	alarm(10); /* a hang fails quickly */
	ret = io_setup(4, &w.ctx);
	if (ret < 0)
		die("io_setup", -ret);
	pthread_create(&t, NULL, aio_cancelled_waiter, &w);
	usleep(100000); /* let it block */
	printf("pthread_cancel: %d\n", pthread_cancel(t));
	usleep(100000);
	printf("io_destroy: %d\n", io_destroy(w.ctx));
	pthread_join(t, NULL);
	printf("joined\n");
	return 0;
}

/* ---- chdir, then exec ---------------------------------------------- */

/*
 * Where eventfd() puts the counter here, and in a program this one runs
 * after chdir("/"): the same place, whatever EVFDFS_MOUNT's spelling.
 */
static int mode_chdir_exec(const char *self)
{
	int fd = eventfd(0, 0);

	if (fd < 0)
		die("eventfd", errno);
	printf("before chdir: %s\n", fd_kind(fd));
	fflush(stdout);
	if (chdir("/"))
		die("chdir", errno);
	execl(self, self, "chdir-exec-child", (char *)NULL);
	die("execl", errno);
	return 2;
}

static int mode_chdir_exec_child(void)
{
	int fd = eventfd(0, 0);

	if (fd < 0)
		die("eventfd after chdir and exec", errno);
	printf("after chdir and exec: %s\n", fd_kind(fd));
	return 0;
}

/* ---- eventfd with a cancellation pending -------------------------- */

static int cancel_pending_reached;

static void *eventfd_with_cancel_pending(void *arg)
{
	(void)arg;
	pthread_cancel(pthread_self()); /* deferred: pending from now on */
	if (eventfd(0, 0) >= 0)
		cancel_pending_reached++;
	if (syscall(SYS_eventfd2, 0, EFD_CLOEXEC) >= 0)
		cancel_pending_reached++;
	pthread_testcancel(); /* ends here: nothing before was a point */
	return NULL;
}

/*
 * eventfd() and syscall() are no cancellation points: a thread with a
 * cancellation pending gets its descriptors and is cancelled only at the
 * next point.  (The descriptors are left open: the process ends.)
 */
static int mode_eventfd_cancel(void)
{
	pthread_t t;
	void *ret;

	pthread_create(&t, NULL, eventfd_with_cancel_pending, NULL);
	pthread_join(t, &ret);
	printf("cancelled: %d, calls returned: %d\n", ret == PTHREAD_CANCELED,
	       cancel_pending_reached);
	return 0;
}

/* ---- kernel AIO next to the shim ----------------------------------- */

static int mode_resfd_kernel(void)
{
	char tmpl[] = "/tmp/shim-probe-XXXXXX", buf[8];
	struct iocb cb, *cbs[1] = { &cb };
	io_context_t ctx = 0;
	struct io_event ev;
	int file, efd, ret, submitted = 0, i;

	file = mkstemp(tmpl);
	if (file < 0)
		die("mkstemp", errno);
	unlink(tmpl);
	if (write(file, "abcdefgh", 8) != 8)
		die("write", errno);
	efd = eventfd(0, EFD_NONBLOCK);
	if (efd < 0)
		die("eventfd", errno);
	ret = io_setup(4, &ctx);
	if (ret < 0)
		die("io_setup", -ret);
	io_prep_pread(&cb, file, buf, 8, 0);
	io_set_eventfd(&cb, efd);
	for (i = 0; i < 3; i++) {
		/* The third without RESFD; the explanation comes once. */
		if (i == 2)
			cb.u.c.flags = 0;
		ret = io_submit(ctx, 1, cbs);
		printf("io_submit %s resfd: %s\n", i < 2 ? "with" : "without",
		       ret < 0 ? strerrorname_np(-ret) : "ok");
		submitted += ret == 1;
	}
	for (i = 0; i < submitted; i++) {
		ret = io_getevents(ctx, 1, 1, &ev, NULL);
		printf("event: %d res=%ld\n", ret, (long)ev.res);
	}
	io_destroy(ctx);
	close(efd);
	close(file);
	return 0;
}

/* What a program that reaches the kernel without libc looks like. */
static long raw_syscall(long nr, long a, long b, long c, long d, long e)
{
#if defined(__x86_64__)
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8)
			 : "rcx", "r11", "memory");
	return ret;
#else
	(void)nr, (void)a, (void)b, (void)c, (void)d, (void)e;
	return -ENOSYS;
#endif
}

static int mode_mixed(void)
{
	char tmpl[] = "/tmp/shim-probe-XXXXXX", kbuf[4], ebuf[4];
	struct iocb kcb, ecb, *kcbs[1] = { &kcb }, *ecbs[1] = { &ecb };
	io_context_t kctx = 0, ectx = 0;
	struct timespec ts = { 10, 0 };
	struct io_event ev;
	int file, kefd, ret;
	eventfd_t v;

	file = mkstemp(tmpl);
	if (file < 0)
		die("mkstemp", errno);
	unlink(tmpl);
	if (write(file, "kernemul", 8) != 8)
		die("write", errno);
	ret = (int)raw_syscall(SYS_io_setup, 4, (long)&kctx, 0, 0, 0);
	if (ret == -ENOSYS) {
		printf("raw syscalls: unsupported here\n");
		return 0;
	}
	if (ret < 0)
		die("raw io_setup", -ret);
	/* A kernel eventfd, made where no shim can see it. */
	kefd = (int)raw_syscall(SYS_eventfd2, 0, EFD_NONBLOCK, 0, 0, 0);
	if (kefd < 0)
		die("raw eventfd2", -kefd);
	ret = io_setup(4, &ectx);
	if (ret < 0)
		die("io_setup", -ret);

	io_prep_pread(&kcb, file, kbuf, 4, 0);
	io_set_eventfd(&kcb, kefd);
	io_prep_pread(&ecb, file, ebuf, 4, 4);
	printf("kernel io_submit: %d\n", io_submit(kctx, 1, kcbs));
	printf("io_setup io_submit: %d\n", io_submit(ectx, 1, ecbs));
	ret = io_getevents(kctx, 1, 1, &ev, &ts);
	printf("kernel io_getevents: %d res=%ld data=%.4s\n", ret, (long)ev.res,
	       kbuf);
	ret = io_getevents(ectx, 1, 1, &ev, &ts);
	printf("io_setup io_getevents: %d res=%ld data=%.4s\n", ret,
	       (long)ev.res, ebuf);
	ret = eventfd_read(kefd, &v);
	printf("kernel eventfd: ret=%d value=%llu\n", ret,
	       (unsigned long long)v);
	printf("kernel io_destroy: %d\n", io_destroy(kctx));
	printf("io_setup io_destroy: %d\n", io_destroy(ectx));
	close(kefd);
	close(file);
	return 0;
}

/*
 * Counter numbers closed where the shim cannot see (a raw close), then
 * reused by a regular file, a directory and a dup2(): none of them may
 * take a counter's face (F_GETFL keeps O_LARGEFILE); nor may a counter
 * lose its own after close_range() and a reuse.
 */
static int mode_fd_reuse(void)
{
	int fd = eventfd(0, 0), f, d;

	if (fd < 0)
		die("eventfd", errno);
	printf("counter: F_GETFL=%#x\n", fcntl(fd, F_GETFL));
	if (raw_syscall(SYS_close, fd, 0, 0, 0, 0) == -ENOSYS) {
		printf("raw syscalls: unsupported here\n");
		return 0;
	}
	f = open("/proc/self/exe", O_RDONLY);
	printf("file at its number: %d F_GETFL=%#x\n", f == fd,
	       fcntl(f, F_GETFL));
	d = dup2(f, 100);
	printf("dup2 of it: F_GETFL=%#x\n", fcntl(d, F_GETFL));
	close(d);
	fd = eventfd(0, 0);
	raw_syscall(SYS_close, fd, 0, 0, 0, 0);
	d = open("/", O_RDONLY | O_DIRECTORY);
	printf("directory at its number: %d F_GETFL=%#x\n", d == fd,
	       fcntl(d, F_GETFL));
	close(d);
	close_range((unsigned int)f, (unsigned int)f, 0);
	fd = eventfd(0, EFD_NONBLOCK);
	printf("counter after close_range: %d F_GETFL=%#x\n", fd == f,
	       fcntl(fd, F_GETFL));
	close(fd);
	return 0;
}

/* ---- AIO through syscall() --------------------------------------- */

static void rec_sys(const char *label, long ret)
{
	if (ret < 0)
		printf("%s: err=%s\n", label, strerrorname_np(errno));
	else
		printf("%s: ret=%ld\n", label, ret);
}

static int mode_syscall_aio(void)
{
	char tmpl[] = "/tmp/shim-probe-XXXXXX", buf[8];
	struct iocb cb, poll_cb, *cbs[1] = { &cb }, *pcbs[1] = { &poll_cb };
	struct timespec ts = { 5, 0 };
	struct io_event ev[2];
	unsigned long ctx = 0, bad = 1;
	struct {
		const sigset_t *sigmask;
		size_t sigsetsize;
	} usig;
	sigset_t mask;
	int file, efd;

	file = mkstemp(tmpl);
	if (file < 0)
		die("mkstemp", errno);
	unlink(tmpl);
	if (write(file, "syscalls", 8) != 8)
		die("write", errno);
	efd = eventfd(0, EFD_NONBLOCK);
	if (efd < 0)
		die("eventfd", errno);
	sigemptyset(&mask);
	usig.sigmask = &mask;

	rec_sys("io_setup 0", syscall(SYS_io_setup, 0, &ctx));
	rec_sys("io_setup ctx not 0", syscall(SYS_io_setup, 4, &bad));
	rec_sys("io_setup", syscall(SYS_io_setup, 4, &ctx));
	io_prep_pread(&cb, file, buf, 8, 0);
	io_set_eventfd(&cb, efd);
	rec_sys("io_submit", syscall(SYS_io_submit, ctx, 1, cbs));
	rec_sys("io_getevents", syscall(SYS_io_getevents, ctx, 1, 2, ev, &ts));
	printf("event res=%ld data=%.8s\n", (long)ev[0].res, buf);
	io_prep_poll(&poll_cb, efd, POLLIN);
	rec_sys("io_submit poll", syscall(SYS_io_submit, ctx, 1, pcbs));
	rec_sys("io_cancel", syscall(SYS_io_cancel, ctx, &poll_cb, &ev[1]));
	usig.sigsetsize = 4;
	rec_sys("io_pgetevents bad sigsetsize",
		syscall(SYS_io_pgetevents, ctx, 1, 2, ev, &ts, &usig));
	/* A70's order: the timeout is read before the usig. */
	rec_sys("io_pgetevents bad sigsetsize, unreadable timeout",
		syscall(SYS_io_pgetevents, ctx, 1, 2, ev, (void *)8, &usig));
	rec_sys("io_pgetevents unreadable usig",
		syscall(SYS_io_pgetevents, ctx, 1, 2, ev, &ts, (void *)8));
	usig.sigmask = NULL; /* no mask: the size is not looked at */
	rec_sys("io_pgetevents no mask, sigsetsize 4",
		syscall(SYS_io_pgetevents, ctx, 0, 0, ev, &ts, &usig));
	rec_sys("io_pgetevents no usig",
		syscall(SYS_io_pgetevents, ctx, 0, 0, ev, &ts, NULL));
	usig.sigmask = &mask;
	usig.sigsetsize = 8;
	rec_sys("io_pgetevents",
		syscall(SYS_io_pgetevents, ctx, 1, 2, ev, &ts, &usig));
	printf("event res=%ld\n", (long)ev[0].res);
	rec_sys("io_destroy", syscall(SYS_io_destroy, ctx));
	rec_sys("io_destroy again", syscall(SYS_io_destroy, ctx));
	rec_sys("io_submit after", syscall(SYS_io_submit, ctx, 1, cbs));
	close(efd);
	close(file);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	alarm(60);
	if (argc != 2) {
		fprintf(stderr, "usage: shim-probe MODE\n");
		return 2;
	}
	if (strcmp(argv[1], "kind") == 0)
		return mode_kind();
	if (strcmp(argv[1], "threads") == 0)
		return mode_threads();
	if (strcmp(argv[1], "aio-threads") == 0)
		return mode_aio_threads();
	if (strcmp(argv[1], "resfd-kernel") == 0)
		return mode_resfd_kernel();
	if (strcmp(argv[1], "fd-reuse") == 0)
		return mode_fd_reuse();
	if (strcmp(argv[1], "chdir-exec") == 0)
		return mode_chdir_exec("/proc/self/exe");
	if (strcmp(argv[1], "chdir-exec-child") == 0)
		return mode_chdir_exec_child();
	if (strcmp(argv[1], "eventfd-cancel") == 0)
		return mode_eventfd_cancel();
	if (strcmp(argv[1], "aio-cancel") == 0)
		return mode_aio_cancel();
	if (strcmp(argv[1], "aio-fork") == 0)
		return mode_aio_fork();
	if (strcmp(argv[1], "mixed") == 0)
		return mode_mixed();
	if (strcmp(argv[1], "syscall-aio") == 0)
		return mode_syscall_aio();
	fprintf(stderr, "shim-probe: no mode %s\n", argv[1]);
	return 2;
}
