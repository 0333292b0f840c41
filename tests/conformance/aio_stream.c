// SPDX-License-Identifier: GPL-2.0-only
/*
 * Whole transfers of pipes, sockets and character devices: a PREAD of
 * /dev/zero returns all it asked for, one of a pipe or socket what is
 * there (it never waits for more), and a PWRITE to a blocking pipe or
 * socket writes all of it while a reader drains it (Linux waits inside
 * io_submit; the mount answers at once and completes later, and the
 * events are what is compared).  On the mount the daemon goes on past its
 * buffer chunk by chunk (aio_wait.c's chunk_next()).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "aio_backend.h"

#define MIB (1u << 20)

static unsigned char pat(size_t i)
{
	return (unsigned char)(i * 7 % 251);
}

static void fill(unsigned char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = pat(i);
}

static unsigned char *map(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	cr_assert(p != MAP_FAILED);
	return p;
}

/* Are @p's @len bytes all @c? */
static bool all(const unsigned char *p, size_t len, unsigned char c)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != c)
			return false;
	return true;
}

/* A PREAD of @len bytes of @name (zeros) into a buffer full of 0xff. */
static void zero_read(const struct aio_backend *b, struct evt_transcript *t,
		      void *ctx, const char *name, size_t len)
{
	int z = open(name, O_RDONLY | O_CLOEXEC);
	unsigned char *p = map(len + 4096);
	struct iocb cb, *list[1] = { &cb };
	char label[64];

	memset(p, 0xff, len + 4096);
	io_prep_pread(&cb, z, p, len, 0);
	cr_assert(z >= 0, "%s: %s", name, strerror(errno));
	snprintf(label, sizeof(label), "pread %zu of %s", len, name);
	aio_rec(t, label, b->submit(ctx, 1, list));
	aio_collect(b, t, ctx, 1, list, 1, false);
	evt_rec(t, "zeros %s, past them %s", all(p, len, 0) ? "ok" : "wrong",
		all(p + len, 4096, 0xff) ? "untouched" : "written");
	munmap(p, len + 4096);
	close(z);
}

/*
 * 3 MiB and 10 MB of /dev/zero, 500,000 bytes of it (one buffer holds
 * them: the read goes on past a short chunk all the same, fused/aio_rw.c
 * more_prepare()), 3 MiB of /dev/full (no RWF_NOWAIT: a worker's), 3 MiB
 * written to /dev/null.
 */
ACONFORM(dev_zero_and_null_whole)
{
	void *ctx = aio_ctx(b, 4);
	int n = open("/dev/null", O_WRONLY | O_CLOEXEC);
	struct iocb cb, *list[1] = { &cb };
	unsigned char *p = map(3 * MIB);

	cr_assert(n >= 0);
	zero_read(b, t, ctx, "/dev/zero", 3 * MIB);
	zero_read(b, t, ctx, "/dev/zero", 10u * 1000 * 1000);
	zero_read(b, t, ctx, "/dev/zero", 500000);
	zero_read(b, t, ctx, "/dev/full", 3 * MIB);
	fill(p, 3 * MIB);
	io_prep_pwrite(&cb, n, p, 3 * MIB, 0);
	aio_rec(t, "pwrite 3 MiB to /dev/null", b->submit(ctx, 1, list));
	aio_collect(b, t, ctx, 1, list, 1, false);
	aio_rec(t, "destroy", b->destroy(ctx));
	munmap(p, 3 * MIB);
	close(n);
}

/* PREADV of /dev/zero over 700 KiB, 1.5 MiB, 0 and 300 KiB, 4 KiB apart. */
ACONFORM(dev_zero_preadv_over_segments)
{
	static const size_t segs[] = { 700u << 10, 3u * MIB / 2, 0,
				       300u << 10 };
	enum { NS = 4 };
	void *ctx = aio_ctx(b, 4);
	int z = open("/dev/zero", O_RDONLY | O_CLOEXEC), i;
	size_t total = 0, off = 0;
	struct iocb cb, *list[1] = { &cb };
	struct iovec iov[NS];
	unsigned char *p;

	cr_assert(z >= 0);
	for (i = 0; i < NS; i++)
		total += segs[i];
	p = map(total + NS * 4096);
	memset(p, 0xff, total + NS * 4096);
	for (i = 0; i < NS; i++) {
		iov[i].iov_base = p + off + (size_t)i * 4096;
		iov[i].iov_len = segs[i];
		off += segs[i];
	}
	io_prep_preadv(&cb, z, iov, NS, 0);
	aio_rec(t, "preadv 2.5 MiB of /dev/zero", b->submit(ctx, 1, list));
	aio_collect(b, t, ctx, 1, list, 1, false);
	for (off = 0, i = 0; i < NS; i++) {
		evt_rec(t, "segment %d %s, gap after it %s", i,
			all(p + off + (size_t)i * 4096, segs[i], 0) ? "zeros"
								    : "wrong",
			all(p + off + segs[i] + (size_t)i * 4096, 4096, 0xff)
				? "untouched"
				: "written");
		off += segs[i];
	}
	aio_rec(t, "destroy", b->destroy(ctx));
	munmap(p, total + NS * 4096);
	close(z);
}

/* A reader that drains a pipe or socket slowly until end of file, and
 * checks that what came is the pattern, in order. */
struct drain {
	pthread_t thread;
	int fd;
	size_t got;
	bool in_order;
};

static void *drain_run(void *arg)
{
	struct drain *d = arg;
	unsigned char buf[16384];
	ssize_t n, i;

	d->in_order = true;
	for (;;) {
		n = read(d->fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (i = 0; i < n; i++)
			if (buf[i] != pat(d->got + (size_t)i))
				d->in_order = false;
		d->got += (size_t)n;
		if (d->got % (256u << 10) < sizeof(buf))
			usleep(2000); /* slowly: the writer waits for room */
	}
	return NULL;
}

/*
 * Write @iov (@n segments, @total bytes) to @wfd with a reader draining
 * @rfd; the writer's end is closed after the event, the reader then sees
 * end of file.
 */
static void write_drained(const struct aio_backend *b, struct evt_transcript *t,
			  const char *what, int rfd, int wfd,
			  const struct iovec *iov, int n)
{
	void *ctx = aio_ctx(b, 4);
	struct iocb cb, *list[1] = { &cb };
	struct drain d = { .fd = rfd };
	char label[96];

	cr_assert_eq(pthread_create(&d.thread, NULL, drain_run, &d), 0);
	if (n == 1)
		io_prep_pwrite(&cb, wfd, iov[0].iov_base, iov[0].iov_len, 0);
	else
		io_prep_pwritev(&cb, wfd, iov, n, 0);
	snprintf(label, sizeof(label), "%s to %s",
		 n == 1 ? "pwrite" : "pwritev", what);
	aio_rec(t, label, b->submit(ctx, 1, list));
	aio_collect(b, t, ctx, 1, list, 1, false);
	close(wfd);
	pthread_join(d.thread, NULL);
	evt_rec(t, "%s: the reader got %zu bytes, %s", what, d.got,
		d.in_order ? "in order" : "out of order");
	aio_rec(t, "destroy", b->destroy(ctx));
	close(rfd);
}

/* 4 MiB to a pipe and to a stream socketpair, drained slowly. */
ACONFORM(stream_write_whole_while_drained)
{
	const size_t len = 4 * MIB;
	unsigned char *p = map(len);
	struct iovec iov = { p, len };
	int fds[2];

	fill(p, len);
	cr_assert_eq(pipe2(fds, O_CLOEXEC), 0);
	write_drained(b, t, "a pipe", fds[0], fds[1], &iov, 1);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds),
		     0);
	write_drained(b, t, "a socket", fds[0], fds[1], &iov, 1);
	munmap(p, len);
}

/* PWRITEV of 2.5 MiB to a pipe over segments, drained slowly. */
ACONFORM(pipe_pwritev_whole_while_drained)
{
	static const size_t segs[] = { 700u << 10, 3u * MIB / 2, 0,
				       300u << 10 };
	enum { NS = 4 };
	size_t total = 0, off = 0;
	struct iovec iov[NS];
	unsigned char *p;
	int fds[2], i;

	for (i = 0; i < NS; i++)
		total += segs[i];
	p = map(total);
	fill(p, total);
	for (i = 0; i < NS; i++) { /* consecutive: the reader sees the
				    * pattern in order */
		iov[i].iov_base = p + off;
		iov[i].iov_len = segs[i];
		off += segs[i];
	}
	cr_assert_eq(pipe2(fds, O_CLOEXEC), 0);
	write_drained(b, t, "a pipe", fds[0], fds[1], iov, NS);
	munmap(p, total);
}

/*
 * A PWRITE of 3 MiB to a pipe whose last MiB is unreadable (PROT_NONE):
 * the readable 2 MiB are written, and that is the result.
 */
ACONFORM(pipe_write_of_a_partly_readable_buffer)
{
	unsigned char *p = map(3 * MIB);
	struct iovec iov = { p, 3 * MIB };
	int fds[2];

	fill(p, 3 * MIB);
	cr_assert_eq(mprotect(p + 2 * MIB, MIB, PROT_NONE), 0);
	cr_assert_eq(pipe2(fds, O_CLOEXEC), 0);
	write_drained(b, t, "a pipe", fds[0], fds[1], &iov, 1);
	munmap(p, 3 * MIB);
}

/*
 * A PREAD of 3 MiB from a pipe holding 100 KiB, then from one holding
 * 1 MiB (more than one of the daemon's buffers): what is there, no wait
 * for more.
 */
ACONFORM(pipe_read_takes_what_is_there)
{
	static const size_t held[] = { 100u << 10, MIB };
	void *ctx = aio_ctx(b, 4);
	unsigned char *w = map(MIB), *r = map(3 * MIB);
	struct iocb cb, *list[1] = { &cb };
	char label[64];
	int fds[2], i, left;
	size_t off;

	fill(w, MIB);
	for (i = 0; i < 2; i++) {
		cr_assert_eq(pipe2(fds, O_CLOEXEC), 0);
		cr_assert(fcntl(fds[1], F_SETPIPE_SZ, (int)MIB) >= (int)MIB);
		for (off = 0; off < held[i];)
			off += (size_t)write(fds[1], w + off, held[i] - off);
		memset(r, 0xff, 3 * MIB);
		io_prep_pread(&cb, fds[0], r, 3 * MIB, 0);
		snprintf(label, sizeof(label), "pread 3 MiB, %zu held",
			 held[i]);
		aio_rec(t, label, b->submit(ctx, 1, list));
		aio_collect(b, t, ctx, 1, list, 1, false);
		evt_rec(t, "data %s, past it %s",
			!memcmp(r, w, held[i]) ? "ok" : "wrong",
			all(r + held[i], 4096, 0xff) ? "untouched" : "written");
		cr_assert_eq(ioctl(fds[0], FIONREAD, &left), 0);
		evt_rec(t, "left in the pipe: %d", left);
		close(fds[0]);
		close(fds[1]);
	}
	aio_rec(t, "destroy", b->destroy(ctx));
	munmap(w, MIB);
	munmap(r, 3 * MIB);
}
