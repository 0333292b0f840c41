// SPDX-License-Identifier: GPL-2.0-only
/*
 * IOCB_CMD_POLL (A40-A47) on counters, pipes and regular files, completed
 * at submission or by a wake-up, and RESFD signalling (A55-A58).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aio_backend.h"

static int one(const struct aio_backend *b, struct evt_transcript *t, void *ctx,
	       const char *label, struct iocb *cb)
{
	struct iocb *list[1] = { cb };
	int ret = b->submit(ctx, 1, list);

	aio_rec(t, label, ret);
	if (ret == 1)
		aio_collect(b, t, ctx, 1, list, 1, false);
	return ret;
}

/* Nothing completes within a zero-timeout look. */
static void rec_nothing_yet(const struct aio_backend *b,
			    struct evt_transcript *t, void *ctx)
{
	struct timespec zero = { 0, 0 };
	struct io_event ev[4];

	aio_rec(t, "  pending (zero-timeout getevents)",
		b->getevents(ctx, 1, 4, ev, &zero));
}

static void rec_mask(struct evt_transcript *t, const char *label, int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN | POLLOUT };

	poll(&pfd, 1, 0);
	evt_rec(t, "%s: poll %#x", label, pfd.revents);
}

/* A40: argument checks; IOPRIO and reqprio ignored. */
ACONFORM(poll_argument_checks)
{
	void *ctx = aio_ctx(b, 8);
	int efd = b->counter(1, EFD_NONBLOCK);
	struct iocb cb;

	io_prep_poll(&cb, efd, POLLIN);
	cb.u.c.buf = (void *)0x10001;
	one(b, t, ctx, "events > 0xffff", &cb);
	io_prep_poll(&cb, efd, POLLIN);
	cb.u.c.offset = 1;
	one(b, t, ctx, "offset", &cb);
	io_prep_poll(&cb, efd, POLLIN);
	cb.u.c.nbytes = 1;
	one(b, t, ctx, "nbytes", &cb);
	io_prep_poll(&cb, efd, POLLIN);
	cb.aio_rw_flags = 1;
	one(b, t, ctx, "rw_flags", &cb);
	io_prep_poll(&cb, efd, POLLIN);
	cb.u.c.flags = 2; /* IOCB_FLAG_IOPRIO */
	cb.aio_reqprio = 7 << 13;
	one(b, t, ctx, "bad ioprio ignored", &cb);
	io_prep_poll(&cb, efd, 0xffff);
	one(b, t, ctx, "events 0xffff", &cb);
	aio_rec(t, "destroy", b->destroy(ctx));
	close(efd);
}

/* A42, A43: completion at submission, with the masked result. */
ACONFORM(poll_immediate)
{
	void *ctx = aio_ctx(b, 8);
	int one_ = b->counter(1, EFD_NONBLOCK);
	int zero = b->counter(0, EFD_NONBLOCK);
	int fd = aio_tmpfile("/var/tmp", 16, O_RDWR);
	int p[2];
	struct iocb cb;

	cr_assert(pipe2(p, O_CLOEXEC) == 0);
	io_prep_poll(&cb, one_, POLLIN | POLLOUT);
	one(b, t, ctx, "counter 1, IN|OUT", &cb);
	io_prep_poll(&cb, one_, POLLIN);
	one(b, t, ctx, "counter 1, IN", &cb);
	io_prep_poll(&cb, zero, 0xffff);
	one(b, t, ctx, "counter 0, all bits", &cb);
	io_prep_poll(&cb, fd, POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM);
	one(b, t, ctx, "regular file, IN|OUT|RDNORM|WRNORM", &cb);
	io_prep_poll(&cb, fd, POLLPRI);
	one(b, t, ctx, "regular file, PRI", &cb);
	io_prep_poll(&cb, p[1], POLLOUT);
	one(b, t, ctx, "pipe write end, OUT", &cb);
	close(p[0]);
	io_prep_poll(&cb, p[1], POLLIN);
	one(b, t, ctx, "pipe write end, reader gone, IN", &cb);
	aio_rec(t, "destroy", b->destroy(ctx));
	close(p[1]);
	close(fd);
	close(zero);
	close(one_);
}

/*
 * A43, A42: a FIFO opened for reading and writing waits on two queues (its
 * readers' and its writers'): a POLL that would have to wait there is
 * EINVAL, one that is ready at once completes.
 */
ACONFORM(poll_of_a_file_with_two_wait_queues)
{
	void *ctx = aio_ctx(b, 8);
	char path[] = "/var/tmp/evfdfs-fifo-XXXXXX";
	struct iocb cb;
	int fd, dirfd;

	cr_assert(mkdtemp(path));
	dirfd = open(path, O_DIRECTORY | O_CLOEXEC);
	cr_assert(dirfd >= 0);
	cr_assert_eq(mkfifoat(dirfd, "f", 0600), 0);
	fd = openat(dirfd, "f", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	cr_assert(fd >= 0);
	unlinkat(dirfd, "f", 0);
	rmdir(path);
	close(dirfd);
	io_prep_poll(&cb, fd, POLLIN);
	one(b, t, ctx, "fifo O_RDWR, empty, IN", &cb);
	io_prep_poll(&cb, fd, POLLIN | POLLOUT);
	one(b, t, ctx, "fifo O_RDWR, empty, IN|OUT", &cb);
	cr_assert_eq(write(fd, "x", 1), 1);
	io_prep_poll(&cb, fd, POLLIN);
	one(b, t, ctx, "fifo O_RDWR, one byte, IN", &cb);
	aio_rec(t, "destroy", b->destroy(ctx));
	close(fd);
}

/* A45, A44, A47: completion by a wake-up on a pipe, once. */
ACONFORM(poll_wakeup_on_pipe)
{
	void *ctx = aio_ctx(b, 8);
	int efd = b->counter(0, EFD_NONBLOCK);
	int p[2], q[2];
	struct iocb cb[2], *list[2] = { &cb[0], &cb[1] };
	char c;

	cr_assert(pipe2(p, O_CLOEXEC) == 0);
	cr_assert(pipe2(q, O_CLOEXEC) == 0);
	io_prep_poll(&cb[0], p[0], POLLIN);
	io_set_eventfd(&cb[0], efd);
	io_prep_poll(&cb[1], q[0], 0);
	aio_rec(t, "submit IN on p, nothing on q", b->submit(ctx, 2, list));
	rec_nothing_yet(b, t, ctx);
	cr_assert_eq(write(p[1], "x", 1), 1);
	aio_collect(b, t, ctx, 1, list, 2, false);
	aio_rec_resfd(t, efd, 1);
	cr_assert_eq(write(p[1], "y", 1), 1);
	rec_nothing_yet(b, t, ctx);
	/* q: asked for nothing, so only ERR/HUP complete it */
	cr_assert_eq(write(q[1], "z", 1), 1);
	rec_nothing_yet(b, t, ctx);
	close(q[1]);
	aio_collect(b, t, ctx, 1, list, 2, false);
	cr_assert_eq(read(p[0], &c, 1), 1);
	aio_rec(t, "destroy", b->destroy(ctx));
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(efd);
}

static void write_five(void *arg)
{
	cr_assert_eq(write(*(int *)arg, &(uint64_t){ 5 }, 8), 8);
}

/* A45, A47: completion by a counter's wake-up, with the wake key. */
ACONFORM(poll_wakeup_on_counter)
{
	void *ctx = aio_ctx(b, 8);
	int e = b->counter(0, EFD_NONBLOCK);
	int f = b->counter(0, EFD_NONBLOCK);
	int r = b->counter(0, EFD_NONBLOCK);
	struct iocb cb[3], *list[3] = { &cb[0], &cb[1], &cb[2] };
	struct aio_later later;
	uint64_t v;

	/* POLLIN on e with RESFD r, from another thread's write */
	io_prep_poll(&cb[0], e, POLLIN);
	io_set_eventfd(&cb[0], r);
	aio_rec(t, "submit IN on e", b->submit(ctx, 1, list));
	rec_nothing_yet(b, t, ctx);
	aio_later_start(&later, 100, write_five, &e);
	aio_collect(b, t, ctx, 1, list, 3, false);
	aio_later_join(&later);
	aio_rec_resfd(t, r, 1);

	/* POLLOUT on f at 0xfffffffffffffffe: pending until a read */
	b->set_count(f, 0xfffffffffffffffeull);
	io_prep_poll(&cb[1], f, POLLOUT);
	aio_rec(t, "submit OUT on full f", b->submit(ctx, 1, list + 1));
	rec_nothing_yet(b, t, ctx);
	cr_assert_eq(read(f, &v, 8), 8);
	aio_collect(b, t, ctx, 1, list, 3, false);

	/* POLLIN on e with RESFD e: the completion adds 1 (A47) */
	cr_assert_eq(read(e, &v, 8), 8);
	io_prep_poll(&cb[2], e, POLLIN);
	io_set_eventfd(&cb[2], e);
	aio_rec(t, "submit IN on e, resfd e", b->submit(ctx, 1, list + 2));
	cr_assert_eq(write(e, &(uint64_t){ 5 }, 8), 8);
	aio_collect(b, t, ctx, 1, list, 3, false);
	aio_rec_resfd(t, e, 6);
	aio_rec(t, "destroy", b->destroy(ctx));
	close(r);
	close(f);
	close(e);
}

/* A54, A78: one iocb address pending twice completes twice. */
ACONFORM(poll_same_iocb_twice)
{
	void *ctx = aio_ctx(b, 8);
	int e = b->counter(0, EFD_NONBLOCK);
	struct iocb cb, *list[2] = { &cb, &cb };

	io_prep_poll(&cb, e, POLLIN);
	aio_rec(t, "submit the same iocb twice", b->submit(ctx, 2, list));
	cr_assert_eq(write(e, &(uint64_t){ 1 }, 8), 8);
	aio_collect(b, t, ctx, 2, list, 1, true);
	aio_rec(t, "destroy", b->destroy(ctx));
	close(e);
}

/* A55: RESFD saturates at 0xffffffffffffffff: POLLIN|POLLERR. */
ACONFORM(resfd_saturates)
{
	void *ctx = aio_ctx(b, 8);
	int fd = aio_tmpfile("/dev/shm", 64, O_RDONLY);
	int n = b->counter(0, EFD_NONBLOCK);
	int s = b->counter(0, EFD_NONBLOCK | EFD_SEMAPHORE);
	struct iocb cb[2], *list[2] = { &cb[0], &cb[1] };
	char buf[2][8];
	uint64_t v;

	b->set_count(n, 0xfffffffffffffffeull);
	b->set_count(s, 0xfffffffffffffffeull);
	io_prep_pread(&cb[0], fd, buf[0], 8, 0);
	io_set_eventfd(&cb[0], n);
	io_prep_pread(&cb[1], fd, buf[1], 8, 0);
	io_set_eventfd(&cb[1], s);
	aio_rec(t, "submit two", b->submit(ctx, 2, list));
	aio_collect(b, t, ctx, 2, list, 2, true);
	/* The signal follows the event (A56): wait for it to land. */
	for (int i = 0; i < 300; i++) {
		struct pollfd p[2] = { { .fd = n, .events = POLLERR },
				       { .fd = s, .events = POLLERR } };

		if (poll(p, 2, 10) == 2)
			break;
	}
	rec_mask(t, "normal", n);
	rec_mask(t, "semaphore", s);
	REC(t, "write 0 at saturation", write(n, &(uint64_t){ 0 }, 8));
	v = 0;
	REC(t, "read normal", read(n, &v, 8));
	evt_rec(t, "  value %#llx", (unsigned long long)v);
	v = 0;
	REC(t, "read semaphore", read(s, &v, 8));
	evt_rec(t, "  value %#llx", (unsigned long long)v);
	rec_mask(t, "semaphore after", s);
	aio_rec(t, "destroy", b->destroy(ctx));
	close(s);
	close(n);
	close(fd);
}

/* A57: errors signal RESFD; a rejected iocb never does. */
ACONFORM(resfd_on_errors_not_on_rejection)
{
	void *ctx = aio_ctx(b, 8);
	int fd = aio_tmpfile("/var/tmp", 64, O_RDONLY);
	int r = b->counter(0, EFD_NONBLOCK);
	struct iocb cb;

	io_prep_pread(&cb, fd, NULL, 8, 0);
	io_set_eventfd(&cb, r);
	one(b, t, ctx, "pread NULL, resfd", &cb);
	aio_rec_resfd(t, r, 1);
	io_prep_pread(&cb, fd, NULL, 8, 0);
	io_set_eventfd(&cb, r);
	cb.aio_lio_opcode = 9;
	one(b, t, ctx, "rejected, resfd", &cb);
	aio_rec_resfd(t, r, 0);
	aio_rec(t, "destroy", b->destroy(ctx));
	close(r);
	close(fd);
}

/* A58: the RESFD reference is taken at submission. */
ACONFORM(resfd_survives_close)
{
	void *ctx = aio_ctx(b, 8);
	int e = b->counter(0, EFD_NONBLOCK);
	int r = b->counter(0, EFD_NONBLOCK);
	int r2 = dup(r);
	struct iocb cb, *list[1] = { &cb };

	cr_assert(r2 >= 0);
	io_prep_poll(&cb, e, POLLIN);
	io_set_eventfd(&cb, r);
	aio_rec(t, "submit", b->submit(ctx, 1, list));
	close(r);
	cr_assert_eq(write(e, &(uint64_t){ 1 }, 8), 8);
	aio_collect(b, t, ctx, 1, list, 1, false);
	aio_rec_resfd(t, r2, 1);
	aio_rec(t, "destroy", b->destroy(ctx));
	close(r2);
	close(e);
}

/* Wait (bounded) for an event on @ep, then record it as rec_epoll does. */
static void rec_edge(struct evt_transcript *t, const char *label, int ep)
{
	struct epoll_event ev[4];
	int n = epoll_wait(ep, ev, 4, 3000);

	if (n <= 0)
		evt_rec(t, "%s: n=%d", label, n);
	else
		evt_rec(t, "%s: n=%d events=%#x", label, n,
			(unsigned int)ev[0].events);
}

/* Drain an edge-triggered epoll instance without recording. */
static void drain(int ep)
{
	struct epoll_event ev[4];

	while (epoll_wait(ep, ev, 4, 0) > 0)
		;
}

/*
 * E34: a RESFD signal wakes with EPOLLIN, so edge-triggered epoll sees a
 * new edge for every completion, also while the count is above 0, and
 * only one.
 */
ACONFORM(resfd_signal_is_an_epollin_edge)
{
	void *ctx = aio_ctx(b, 8);
	int fd = aio_tmpfile("/dev/shm", 64, O_RDONLY);
	int c = b->counter(0, EFD_NONBLOCK);
	int ep = epoll_on(c, EPOLLIN | EPOLLET);
	struct iocb cb, *list[1] = { &cb };
	char buf[8];
	int i;

	rec_epoll(t, "after add at 0", ep);
	for (i = 0; i < 3; i++) {
		io_prep_pread(&cb, fd, buf, 8, 0);
		io_set_eventfd(&cb, c);
		aio_rec(t, "submit, resfd c", b->submit(ctx, 1, list));
		aio_collect(b, t, ctx, 1, list, 1, false);
		rec_edge(t, "  edge", ep);
		rec_epoll(t, "  again", ep);
	}
	aio_rec_resfd(t, c, 3);
	aio_rec(t, "destroy", b->destroy(ctx));
	close(ep);
	close(c);
	close(fd);
}

/*
 * E34, E40, E42: the completion that saturates a RESFD is an edge with
 * POLLIN|POLLERR; select() then reports the counter readable and writable
 * (POLLERR counts for both), level-triggered epoll reports 0x9, and a read
 * brings it back to count 0.
 */
ACONFORM(resfd_saturation_seen_by_select_and_epoll)
{
	void *ctx = aio_ctx(b, 8);
	int fd = aio_tmpfile("/dev/shm", 64, O_RDONLY);
	int c = b->counter(0, EFD_NONBLOCK);
	int et = epoll_on(c, EPOLLIN | EPOLLET);
	int lt = epoll_on(c, EPOLLIN | EPOLLOUT);
	struct iocb cb, *list[1] = { &cb };
	uint64_t v = 0;
	char buf[8];

	b->set_count(c, 0xfffffffffffffffeull);
	drain(et);
	rec_select(t, "top", c);
	rec_epoll(t, "top, level-triggered", lt);
	io_prep_pread(&cb, fd, buf, 8, 0);
	io_set_eventfd(&cb, c);
	aio_rec(t, "submit, resfd c", b->submit(ctx, 1, list));
	aio_collect(b, t, ctx, 1, list, 1, false);
	rec_edge(t, "saturating edge", et);
	rec_select(t, "saturated", c);
	rec_epoll(t, "saturated, level-triggered", lt);
	REC(t, "read", read(c, &v, 8));
	evt_rec(t, "  value %#llx", (unsigned long long)v);
	rec_select(t, "after read", c);
	rec_epoll(t, "after read, level-triggered", lt);
	aio_rec(t, "destroy", b->destroy(ctx));
	close(lt);
	close(et);
	close(c);
	close(fd);
}
