// SPDX-License-Identifier: GPL-2.0-only
/*
 * io_cancel (A75-A78) and io_destroy (A16-A18): EINPROGRESS, the res-0
 * event and its RESFD signal, the order of checks, and what is left of a
 * context after destroy.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "aio_backend.h"

/* A77, A78: cancel a pending POLL. */
ACONFORM(cancel_pending_poll)
{
	void *ctx = aio_ctx(b, 8);
	int e = b->counter(0, EFD_NONBLOCK);
	int r = b->counter(0, EFD_NONBLOCK);
	struct iocb cb, *list[1] = { &cb };
	struct io_event res;

	io_prep_poll(&cb, e, POLLIN);
	io_set_eventfd(&cb, r);
	cb.data = (void *)0x5151;
	aio_rec(t, "submit", b->submit(ctx, 1, list));
	memset(&res, 0xaa, sizeof(res));
	aio_rec(t, "cancel", b->cancel(ctx, &cb, &res));
	evt_rec(t, "  result %s",
		((unsigned char *)&res)[0] == 0xaa ? "untouched" : "written");
	aio_collect(b, t, ctx, 1, list, 1, false);
	aio_rec_resfd(t, r, 1);
	aio_rec(t, "cancel again", b->cancel(ctx, &cb, NULL));
	cr_assert_eq(write(e, &(uint64_t){ 1 }, 8), 8);
	{
		struct timespec zero = { 0, 0 };
		struct io_event ev[2];

		aio_rec(t, "nothing more", b->getevents(ctx, 1, 2, ev, &zero));
	}
	aio_rec(t, "destroy", b->destroy(ctx));
	close(r);
	close(e);
}

/* A78: several pending submissions of one iocb, one cancel each. */
ACONFORM(cancel_one_submission_at_a_time)
{
	void *ctx = aio_ctx(b, 8);
	int e = b->counter(0, EFD_NONBLOCK);
	struct iocb cb, *list[2] = { &cb, &cb };

	io_prep_poll(&cb, e, POLLIN);
	aio_rec(t, "submit twice", b->submit(ctx, 2, list));
	aio_rec(t, "cancel", b->cancel(ctx, &cb, NULL));
	aio_rec(t, "cancel", b->cancel(ctx, &cb, NULL));
	aio_rec(t, "cancel", b->cancel(ctx, &cb, NULL));
	aio_collect(b, t, ctx, 2, list, 1, false);
	aio_rec(t, "destroy", b->destroy(ctx));
	close(e);
}

/* A75, A76: the order of checks, and what cannot be cancelled. */
ACONFORM(cancel_checks)
{
	void *ctx = aio_ctx(b, 8);
	int fd = aio_tmpfile("/var/tmp", 64, O_RDONLY);
	int e = b->counter(0, EFD_NONBLOCK);
	struct iocb cb, never, *list[1] = { &cb }, *ro;
	char buf[8];

	aio_rec(t, "unreadable iocb", b->cancel(ctx, (struct iocb *)8, NULL));
	aio_rec(t, "unreadable iocb, bad ctx",
		b->cancel(aio_bad_ctx(), (struct iocb *)8, NULL));
	io_prep_poll(&cb, e, POLLIN);
	aio_rec(t, "bad ctx", b->cancel(aio_bad_ctx(), &cb, NULL));
	memset(&never, 0, sizeof(never));
	aio_rec(t, "never submitted", b->cancel(ctx, &never, NULL));
	never.key = 1;
	aio_rec(t, "aio_key 1", b->cancel(ctx, &never, NULL));
	aio_rec(t, "aio_key 1, bad ctx",
		b->cancel(aio_bad_ctx(), &never, NULL));

	io_prep_pread(&cb, fd, buf, 8, 0);
	aio_rec(t, "submit pread", b->submit(ctx, 1, list));
	aio_collect(b, t, ctx, 1, list, 1, false);
	aio_rec(t, "cancel completed pread", b->cancel(ctx, &cb, NULL));

	/* A pending poll whose iocb is now read-only: the key is read, not
	 * written, so the cancel works. */
	ro = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert(ro != MAP_FAILED);
	io_prep_poll(ro, e, POLLIN);
	list[0] = ro;
	aio_rec(t, "submit poll", b->submit(ctx, 1, list));
	mprotect(ro, 4096, PROT_READ);
	aio_rec(t, "cancel read-only iocb", b->cancel(ctx, ro, NULL));
	aio_collect(b, t, ctx, 1, list, 1, false);
	munmap(ro, 4096);
	aio_rec(t, "destroy", b->destroy(ctx));
	close(e);
	close(fd);
}

/* A76: FSYNC cannot be cancelled, in flight or done: EINVAL; its event
 * still comes. */
ACONFORM(cancel_fsync_is_einval)
{
	void *ctx = aio_ctx(b, 4);
	int fd = aio_tmpfile("/var/tmp", 64, O_RDWR);
	struct iocb cb, *list[1] = { &cb };

	io_prep_fsync(&cb, fd);
	aio_rec(t, "submit fsync", b->submit(ctx, 1, list));
	aio_rec(t, "cancel fsync", b->cancel(ctx, &cb, NULL));
	aio_collect(b, t, ctx, 1, list, 1, false);
	aio_rec(t, "destroy", b->destroy(ctx));
	close(fd);
}

/* A17: destroy cancels pending polls, whose RESFD is signalled by the
 * time it returns; A16, A18: the context is gone afterwards. */
ACONFORM(destroy_cancels_and_invalidates)
{
	void *ctx = aio_ctx(b, 8);
	int e = b->counter(0, EFD_NONBLOCK);
	int r = b->counter(0, EFD_NONBLOCK);
	int fd = aio_tmpfile("/dev/shm", 64, O_RDONLY);
	struct iocb cb[2], *list[2] = { &cb[0], &cb[1] };
	struct timespec zero = { 0, 0 };
	struct io_event ev[2];
	uint64_t v = 0;
	char buf[8];

	io_prep_poll(&cb[0], e, POLLIN);
	io_set_eventfd(&cb[0], r);
	io_prep_pread(&cb[1], fd, buf, 8, 0);
	io_set_eventfd(&cb[1], r);
	aio_rec(t, "submit poll and pread", b->submit(ctx, 2, list));
	aio_rec(t, "destroy", b->destroy(ctx));
	/* Right after destroy, no waiting (A17). */
	REC(t, "resfd at once", read(r, &v, 8));
	evt_rec(t, "  value %llu", (unsigned long long)v);
	aio_rec(t, "submit after", b->submit(ctx, 1, list));
	aio_rec(t, "getevents after", b->getevents(ctx, 0, 2, ev, &zero));
	aio_rec(t, "cancel after", b->cancel(ctx, &cb[0], NULL));
	aio_rec(t, "destroy again", b->destroy(ctx));
	aio_rec(t, "destroy bad ctx", b->destroy(aio_bad_ctx()));
	close(fd);
	close(r);
	close(e);
}

struct blocked_get {
	const struct aio_backend *b;
	void *ctx;
	int ret;
};

static void *blocked_get_main(void *arg)
{
	struct blocked_get *g = arg;
	struct io_event ev[1];

	g->ret = g->b->getevents(g->ctx, 1, 1, ev, NULL);
	return NULL;
}

/* A18: a getevents blocked in another thread ends with EINVAL. */
ACONFORM(destroy_ends_a_blocked_getevents)
{
	struct blocked_get g = { b, aio_ctx(b, 4), 1 };
	pthread_t th;

	cr_assert_eq(pthread_create(&th, NULL, blocked_get_main, &g), 0);
	poll(NULL, 0, 300);
	aio_rec(t, "destroy", b->destroy(g.ctx));
	pthread_join(th, NULL);
	aio_rec(t, "blocked getevents", g.ret);
}

struct collecting_get {
	const struct aio_backend *b;
	void *ctx;
	int ret;
};

static void *collecting_get_main(void *arg)
{
	struct collecting_get *g = arg;
	struct io_event ev[2];

	g->ret = g->b->getevents(g->ctx, 2, 2, ev, NULL);
	return NULL;
}

/* A18: a getevents that has collected some when destroy ends its wait
 * returns their count, not EINVAL. */
ACONFORM(destroy_ends_a_blocked_getevents_with_its_count)
{
	struct collecting_get g = { b, aio_ctx(b, 4), 1 };
	int fd = aio_tmpfile("/dev/shm", 64, O_RDONLY);
	int r = b->counter(0, EFD_NONBLOCK);
	struct iocb cb, *list[1] = { &cb };
	pthread_t th;
	char buf[8];

	io_prep_pread(&cb, fd, buf, 8, 0);
	io_set_eventfd(&cb, r);
	aio_rec(t, "submit", b->submit(g.ctx, 1, list));
	/* The event is queued before RESFD moves (A56). */
	aio_rec_resfd(t, r, 1);
	cr_assert_eq(pthread_create(&th, NULL, collecting_get_main, &g), 0);
	poll(NULL, 0, 300);
	aio_rec(t, "destroy", b->destroy(g.ctx));
	pthread_join(th, NULL);
	aio_rec(t, "blocked getevents, min_nr 2", g.ret);
	close(r);
	close(fd);
}
