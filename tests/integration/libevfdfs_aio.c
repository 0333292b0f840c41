// SPDX-License-Identifier: GPL-2.0-only
/*
 * libevfdfs's AIO calls on the shared mount, where they have no kernel
 * twin to compare with or differ from it by design: the ring in status,
 * contexts after fork, transfers larger than one record, batches larger
 * than one write, several threads collecting events, destroy with a
 * request that waits in the daemon, and the documented differences.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <libaio.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <evfdfs.h>

#include "../lib/evtest.h"

#define TMO 10

static struct evfdfs_io_ctx *ctx_new(unsigned int nr)
{
	struct evfdfs_io_ctx *ctx = NULL;
	int ret = evfdfs_io_setup(evt_shared_mnt(), nr, &ctx);

	cr_assert_eq(ret, 0, "io_setup: %s", strerror(-ret));
	return ctx;
}

/* A file in /var/tmp of @len bytes, byte i = i * 7 mod 251; unlinked. */
static int pattern_file(size_t len)
{
	char path[] = "/var/tmp/evfdfs-lib-XXXXXX";
	unsigned char *buf = malloc(len ? len : 1);
	int fd = mkstemp(path);
	size_t i;

	cr_assert(fd >= 0 && buf);
	for (i = 0; i < len; i++)
		buf[i] = (unsigned char)(i * 7 % 251);
	cr_assert_eq(write(fd, buf, len), (ssize_t)len);
	unlink(path);
	free(buf);
	return fd;
}

static bool pattern_ok(const unsigned char *buf, size_t len, size_t off)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (buf[i] != (unsigned char)((off + i) * 7 % 251))
			return false;
	return true;
}

static int collect(struct evfdfs_io_ctx *ctx, struct io_event *ev, int n)
{
	struct timespec ts = { 5, 0 };
	int got = 0, r;

	while (got < n) {
		r = evfdfs_io_getevents(ctx, n - got, n - got, ev + got, &ts);
		cr_assert(r > 0, "getevents: %d after %d of %d", r, got, n);
		got += r;
	}
	return got;
}

/* The status line of the context whose ring is @nr entries, its ring keys
 * from " ring_nr=" on; false if none within a few seconds shows @want. */
static bool status_ring_shows(const char *want, char *line, size_t len)
{
	char path[4096], buf[16384], *p, *eol;
	long long deadline = evt_now_ms() + 5000;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/status", evt_shared_mnt());
	do {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		cr_assert(fd >= 0);
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		cr_assert(n > 0);
		buf[n] = '\0';
		for (p = buf; (p = strstr(p, "aio ctx=")); p++) {
			char pid[32];

			eol = strchr(p, '\n');
			if (eol)
				*eol = '\0';
			snprintf(pid, sizeof(pid), " pid=%d ", (int)getpid());
			if (strstr(p, pid) && strstr(p, want)) {
				snprintf(line, len, "%s", p);
				return true;
			}
			if (strstr(p, pid))
				snprintf(line, len, "%s", p);
			if (!eol)
				break;
			p = eol;
		}
		usleep(10000);
	} while (evt_now_ms() < deadline);
	return false;
}

/* status shows each context's ring: nr, head, tail, events waiting. */
Test(libevfdfs_aio, status_shows_the_ring, .timeout = TMO)
{
	struct evfdfs_io_ctx *ctx = ctx_new(4);
	unsigned int nr = ((unsigned int *)ctx)[1];
	int fd = pattern_file(64);
	struct iocb cb[3], *list[3];
	struct io_event ev[3];
	struct timespec zero = { 0, 0 };
	char buf[3][8], want[128], line[1024] = "";
	int i;

	for (i = 0; i < 3; i++) {
		io_prep_pread(&cb[i], fd, buf[i], 8, 0);
		list[i] = &cb[i];
	}
	cr_assert_eq(evfdfs_io_submit(ctx, 3, list), 3);
	snprintf(want, sizeof(want),
		 " ring_nr=%u ring_head=0 ring_tail=3 ring_waiting=3", nr);
	cr_expect(status_ring_shows(want, line, sizeof(line)),
		  "want '%s', last: %s", want, line);
	cr_assert_eq(evfdfs_io_getevents(ctx, 2, 2, ev, &zero), 2);
	snprintf(want, sizeof(want),
		 " ring_nr=%u ring_head=2 ring_tail=3 ring_waiting=1", nr);
	cr_expect(status_ring_shows(want, line, sizeof(line)),
		  "want '%s', last: %s", want, line);
	cr_assert_eq(evfdfs_io_destroy(ctx), 0);
	close(fd);
}

/* Issue 10 item 6: a context holds one descriptor (the control file);
 * its ring's memfd is closed after setup. */
Test(libevfdfs_aio, context_holds_one_descriptor, .timeout = TMO)
{
	struct evfdfs_io_ctx *ctx[4];
	int before = evt_count_fds(), i;

	for (i = 0; i < 4; i++)
		ctx[i] = ctx_new(8);
	cr_expect_eq(evt_count_fds(), before + 4, "%d descriptors for 4",
		     evt_count_fds() - before);
	for (i = 0; i < 4; i++)
		cr_assert_eq(evfdfs_io_destroy(ctx[i]), 0);
	cr_expect_eq(evt_count_fds(), before);
}

/* A15: a context belongs to its process; the child's calls fail. */
Test(libevfdfs_aio, context_after_fork, .timeout = TMO)
{
	struct evfdfs_io_ctx *ctx = ctx_new(4);
	int fd = pattern_file(64), status;
	struct iocb cb, *list[1] = { &cb };
	struct io_event ev[1];
	struct timespec zero = { 0, 0 };
	char buf[8];
	pid_t pid;

	io_prep_pread(&cb, fd, buf, 8, 0);
	pid = fork();
	if (pid == 0) {
		int bad = 0;

		bad |= evfdfs_io_submit(ctx, 1, list) != -EINVAL;
		bad |= evfdfs_io_getevents(ctx, 0, 1, ev, &zero) != -EINVAL;
		bad |= evfdfs_io_cancel(ctx, &cb, NULL) != -EINVAL;
		bad |= evfdfs_io_destroy(ctx) != -EINVAL;
		_exit(bad);
	}
	cr_assert(pid > 0);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "the child could use the parent's context");
	cr_assert_eq(evfdfs_io_submit(ctx, 1, list), 1);
	cr_assert_eq(collect(ctx, ev, 1), 1);
	cr_assert_eq(evfdfs_io_destroy(ctx), 0);
	close(fd);
}

struct spinner {
	struct evfdfs_io_ctx *ctx;
	atomic_bool stop;
};

/* Calls on the context without pause: the library's locks are taken and
 * released all the time, as in any program with an AIO thread. */
static void *spin_main(void *arg)
{
	struct spinner *s = arg;
	struct timespec zero = { 0, 0 };
	struct io_event ev[1];

	while (!atomic_load(&s->stop))
		evfdfs_io_getevents(s->ctx, 0, 1, ev, &zero);
	return NULL;
}

/*
 * A15 with other threads inside the library at the moment of fork: the
 * child's calls still fail with EINVAL, and do not hang on a lock that a
 * thread of the parent held when the process was copied.
 */
Test(libevfdfs_aio, fork_while_threads_use_the_context, .timeout = 30)
{
	enum { THREADS = 4, FORKS = 200 };
	struct spinner sp = { .ctx = ctx_new(4) };
	struct io_event ev[1];
	struct timespec zero = { 0, 0 };
	pthread_t th[THREADS];
	int i, status, bad = 0;
	pid_t pid;

	for (i = 0; i < THREADS; i++)
		cr_assert_eq(pthread_create(&th[i], NULL, spin_main, &sp), 0);
	for (i = 0; i < FORKS && !bad; i++) {
		pid = fork();
		if (pid == 0) {
			alarm(5); /* a child stuck on a lock dies of it */
			_exit(evfdfs_io_getevents(sp.ctx, 0, 1, ev, &zero) !=
			      -EINVAL);
		}
		cr_assert(pid > 0);
		cr_assert_eq(waitpid(pid, &status, 0), pid);
		bad = !WIFEXITED(status) || WEXITSTATUS(status) != 0;
	}
	atomic_store(&sp.stop, true);
	for (i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	cr_assert(!bad, "fork %d: the child %s", i,
		  WIFSIGNALED(status) ? "hung (killed by its alarm)"
				      : "could use the parent's context");
	cr_assert_eq(evfdfs_io_destroy(sp.ctx), 0);
}

/* Reads longer than one FUSE request come back whole: the daemon puts the
 * data in place itself (EVFDFS_WIRE_SUB_DIRECT). */
Test(libevfdfs_aio, large_reads, .timeout = TMO)
{
	const size_t flen = 3 << 20;
	struct evfdfs_io_ctx *ctx = ctx_new(4);
	int fd = pattern_file(flen);
	unsigned char *a = malloc(512 << 10), *b = malloc(flen);
	struct iocb cb[2], *list[2] = { &cb[0], &cb[1] };
	struct io_event ev[2];
	long res;

	io_prep_pread(&cb[0], fd, a, 512 << 10, 100);
	io_prep_pread(&cb[1], fd, b, flen, 0);
	cr_assert_eq(evfdfs_io_submit(ctx, 2, list), 2);
	cr_assert_eq(collect(ctx, ev, 2), 2);
	if ((void *)ev[0].obj != (void *)&cb[0]) {
		struct io_event t = ev[0];

		ev[0] = ev[1];
		ev[1] = t;
	}
	cr_assert_eq((long)ev[0].res, 512 << 10);
	cr_assert(pattern_ok(a, 512 << 10, 100), "512 KiB read's data");
	res = (long)ev[1].res;
	cr_assert_eq(res, (long)flen, "3 MiB read: %ld", res);
	cr_assert(pattern_ok(b, (size_t)res, 0), "3 MiB read's data");
	cr_assert_eq(evfdfs_io_destroy(ctx), 0);
	free(a);
	free(b);
	close(fd);
}

/* A longer write is whole too. */
Test(libevfdfs_aio, large_write_is_whole, .timeout = TMO)
{
	const size_t len = 3 << 20;
	struct evfdfs_io_ctx *ctx = ctx_new(4);
	int fd = pattern_file(0);
	unsigned char *w = malloc(len), *r = malloc(len);
	struct iocb cb, *list[1] = { &cb };
	struct io_event ev[1];
	size_t i;

	for (i = 0; i < len; i++)
		w[i] = (unsigned char)(i * 7 % 251);
	io_prep_pwrite(&cb, fd, w, len, 0);
	cr_assert_eq(evfdfs_io_submit(ctx, 1, list), 1);
	cr_assert_eq(collect(ctx, ev, 1), 1);
	cr_assert_eq((long)ev[0].res, (long)len);
	cr_assert_eq(pread(fd, r, len, 0), (ssize_t)len);
	cr_assert(pattern_ok(r, len, 0));
	cr_assert_eq(evfdfs_io_destroy(ctx), 0);
	free(w);
	free(r);
	close(fd);
}

/* One submit of more data than one write carries: several batches. */
Test(libevfdfs_aio, submit_spans_several_writes, .timeout = TMO)
{
	enum { N = 48, SZ = 64 << 10 };
	struct evfdfs_io_ctx *ctx = ctx_new(N);
	int fd = pattern_file(0);
	unsigned char *w = malloc((size_t)N * SZ), *r = malloc((size_t)N * SZ);
	struct iocb cb[N], *list[N];
	struct io_event ev[N];
	int i;

	for (i = 0; i < N * SZ; i++)
		w[i] = (unsigned char)((size_t)i * 7 % 251);
	for (i = 0; i < N; i++) {
		io_prep_pwrite(&cb[i], fd, w + (size_t)i * SZ, SZ,
			       (long long)i * SZ);
		list[i] = &cb[i];
	}
	cr_assert_eq(evfdfs_io_submit(ctx, N, list), N);
	cr_assert_eq(collect(ctx, ev, N), N);
	for (i = 0; i < N; i++)
		cr_expect_eq((long)ev[i].res, SZ);
	cr_assert_eq(pread(fd, r, (size_t)N * SZ, 0), (ssize_t)N * SZ);
	cr_assert(pattern_ok(r, (size_t)N * SZ, 0));
	cr_assert_eq(evfdfs_io_destroy(ctx), 0);
	free(w);
	free(r);
	close(fd);
}

struct collector {
	struct evfdfs_io_ctx *ctx;
	struct io_event ev[200];
	int got;
	int *left;
	pthread_mutex_t *lock;
};

static void *collect_main(void *arg)
{
	struct collector *c = arg;
	struct timespec ts = { 0, 50000000 };
	long long deadline = evt_now_ms() + 8000;
	int r;

	while (evt_now_ms() < deadline) {
		pthread_mutex_lock(c->lock);
		r = *c->left;
		pthread_mutex_unlock(c->lock);
		if (!r)
			break;
		r = evfdfs_io_getevents(c->ctx, 1, 7, c->ev + c->got, &ts);
		if (r > 0) {
			c->got += r;
			pthread_mutex_lock(c->lock);
			*c->left -= r;
			pthread_mutex_unlock(c->lock);
		}
	}
	return NULL;
}

/* Threads collecting from one context each get different events. */
Test(libevfdfs_aio, concurrent_getevents, .timeout = TMO)
{
	enum { N = 200 };
	struct evfdfs_io_ctx *ctx = ctx_new(N);
	int fd = pattern_file(4096), left = N, i, j;
	static struct iocb cb[N];
	static char buf[N][8];
	struct iocb *list[N];
	static struct collector c[2];
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	pthread_t th[2];
	bool seen[N] = { false };

	for (i = 0; i < 2; i++) {
		c[i].ctx = ctx;
		c[i].got = 0;
		c[i].left = &left;
		c[i].lock = &lock;
		pthread_create(&th[i], NULL, collect_main, &c[i]);
	}
	for (i = 0; i < N; i++) {
		io_prep_pread(&cb[i], fd, buf[i], 8, 8 * (i % 512));
		list[i] = &cb[i];
	}
	cr_assert_eq(evfdfs_io_submit(ctx, N, list), N);
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	cr_assert_eq(c[0].got + c[1].got, N);
	for (i = 0; i < 2; i++)
		for (j = 0; j < c[i].got; j++) {
			int k = (int)((struct iocb *)c[i].ev[j].obj - cb);

			cr_assert(k >= 0 && k < N);
			cr_assert(!seen[k], "iocb %d collected twice", k);
			seen[k] = true;
		}
	cr_assert_eq(evfdfs_io_destroy(ctx), 0);
	close(fd);
}

/* A read waiting in the daemon does not hold destroy; it completes with
 * -EINTR when the context closes and still signals its RESFD. */
Test(libevfdfs_aio, destroy_with_a_waiting_read, .timeout = TMO)
{
	struct evfdfs_io_ctx *ctx = ctx_new(4);
	int blk = evfdfs_eventfd(evt_shared_mnt(), 0, 0);
	int r = evfdfs_eventfd(evt_shared_mnt(), 0, 0);
	struct pollfd pfd = { .fd = r, .events = POLLIN };
	struct iocb cb, *list[1] = { &cb };
	uint64_t v = 0;

	cr_assert(blk >= 0 && r >= 0);
	io_prep_pread(&cb, blk, &v, 8, 0);
	io_set_eventfd(&cb, r);
	cr_assert_eq(evfdfs_io_submit(ctx, 1, list), 1);
	cr_assert_eq(evfdfs_io_destroy(ctx), 0);
	cr_assert_eq(poll(&pfd, 1, 5000), 1, "RESFD not signalled");
	cr_assert_eq(evfdfs_read(r, &v), 0);
	cr_assert_eq(v, 1);
	close(r);
	close(blk);
}

/*
 * A write whose buffer is partly unreadable writes the readable part, on
 * the mount as on Linux (aio_inline: not so where the daemon cannot reach
 * the submitter's memory).
 */
Test(libevfdfs_aio, write_from_partly_unreadable_buffer, .timeout = TMO)
{
	struct evfdfs_io_ctx *ctx = ctx_new(4);
	int fd = pattern_file(0);
	char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct iocb cb, *list[1] = { &cb };
	struct io_event ev[1];
	io_context_t k = 0;

	cr_assert(p != MAP_FAILED);
	memset(p, 'x', 4096);
	mprotect(p + 4096, 4096, PROT_NONE);
	io_prep_pwrite(&cb, fd, p, 8192, 0);
	cr_assert_eq(evfdfs_io_submit(ctx, 1, list), 1);
	cr_assert_eq(collect(ctx, ev, 1), 1);
	cr_assert_eq((long)ev[0].res, 4096, "mount: %ld", (long)ev[0].res);
	cr_assert_eq(io_setup(4, &k), 0);
	io_prep_pwrite(&cb, fd, p, 8192, 0);
	cr_assert_eq(io_submit(k, 1, list), 1);
	cr_assert_eq(io_getevents(k, 1, 1, ev, NULL), 1);
	cr_assert_eq((long)ev[0].res, 4096, "kernel: %ld", (long)ev[0].res);
	io_destroy(k);
	cr_assert_eq(evfdfs_io_destroy(ctx), 0);
	munmap(p, 8192);
	close(fd);
}
