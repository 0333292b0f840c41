// SPDX-License-Identifier: GPL-2.0-only
/*
 * IOCB_CMD_POLL (A40-A48) and cancellation (A75-A78) through the control
 * file, each case run on the kernel and on the mount and compared: pipes,
 * regular files, and an eventfd (kernel) against a counter of the mount;
 * closing a context with a POLL pending (A17).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "aio_lib.h"

static void rec_submit(struct evt_transcript *t, const char *what,
		       struct at_be *b, struct iocb *cb)
{
	char rb[64];
	int ret = at_be_submit1(b, cb);

	evt_rec(t, "%s: submit %s", what,
		at_res(ret < 0 ? ret : 0, rb, sizeof(rb)));
}

/* Wait up to @ms for one event; record it (or "none"). */
static void rec_event(struct evt_transcript *t, const char *what,
		      struct at_be *b, int ms)
{
	struct io_event ev;
	char rb[64];

	if (at_be_getevents(b, 1, 1, &ev, ms) == 1)
		evt_rec(t, "%s: event data=%llu %s", what,
			(unsigned long long)ev.data,
			at_res(ev.res, rb, sizeof(rb)));
	else
		evt_rec(t, "%s: no event", what);
}

static void pipe_case(struct at_be *b, struct evt_transcript *t, void *arg)
{
	char path[PATH_MAX];
	struct iocb cb;
	int p[2], f;

	(void)arg;
	cr_assert_eq(pipe(p), 0);
	cr_assert_eq(write(p[1], "ab", 2), 2);
	at_prep_poll(&cb, p[0], POLLIN | POLLOUT);
	rec_submit(t, "data waiting, IN|OUT (A42: masked)", b, &cb);
	rec_event(t, "immediate", b, 5000);
	cr_assert_eq(read(p[0], path, 2), 2);

	at_prep_poll(&cb, p[0], POLLIN);
	cb.aio_data = 7;
	rec_submit(t, "empty, IN", b, &cb);
	rec_event(t, "before a write", b, 50);
	cr_assert_eq(write(p[1], "x", 1), 1);
	rec_event(t, "woken (A45: the full key)", b, 5000);
	cr_assert_eq(read(p[0], path, 1), 1);

	at_prep_poll(&cb, p[0], 0);
	rec_submit(t, "events 0", b, &cb);
	cr_assert_eq(write(p[1], "y", 1), 1);
	rec_event(t, "a write does not complete it", b, 50);
	close(p[1]);
	rec_event(t, "writer closed (A47: HUP)", b, 5000);
	close(p[0]);

	cr_assert_eq(pipe(p), 0);
	close(p[0]);
	at_prep_poll(&cb, p[1], POLLIN);
	rec_submit(t, "write end, reader gone (A47: ERR)", b, &cb);
	rec_event(t, "immediate", b, 5000);
	close(p[1]);

	at_make_file(path, sizeof(path), "/dev/shm", 10);
	f = open(path, O_RDONLY | O_CLOEXEC);
	at_prep_poll(&cb, f, POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM);
	rec_submit(t, "regular file, all four (A43)", b, &cb);
	rec_event(t, "immediate", b, 5000);
	at_prep_poll(&cb, f, POLLPRI);
	rec_submit(t, "regular file, PRI only (A43)", b, &cb);
	at_prep_poll(&cb, f, 0x10000);
	rec_submit(t, "events above 0xffff (A40)", b, &cb);
	at_prep_poll(&cb, f, POLLIN);
	cb.aio_nbytes = 1;
	rec_submit(t, "nbytes set (A40)", b, &cb);
	at_prep_poll(&cb, f, POLLIN);
	cb.aio_rw_flags = 1;
	rec_submit(t, "rw_flags set (A40)", b, &cb);
	close(f);
	unlink(path);
}

Test(aio_poll, pipes_and_files_match_kernel, .timeout = 60)
{
	at_compare(evt_shared_mnt(), pipe_case, NULL);
}

static void counter_case(struct at_be *b, struct evt_transcript *t, void *arg)
{
	uint64_t v = 0;
	struct iocb cb;
	int c;

	(void)arg;
	c = at_counter(b, 1, true);
	at_prep_poll(&cb, c, POLLIN | POLLOUT);
	rec_submit(t, "count 1, IN|OUT (A42)", b, &cb);
	rec_event(t, "immediate", b, 5000);
	cr_assert_eq(read(c, &v, 8), 8);
	at_prep_poll(&cb, c, 0xffff);
	rec_submit(t, "count 0, every bit", b, &cb);
	rec_event(t, "immediate", b, 5000);

	at_prep_poll(&cb, c, POLLIN);
	rec_submit(t, "count 0, IN", b, &cb);
	rec_event(t, "pending", b, 50);
	v = 3;
	cr_assert_eq(write(c, &v, 8), 8);
	rec_event(t, "after write 3 (A45)", b, 5000);

	at_prep_poll(&cb, c, POLLOUT);
	cr_assert_eq(read(c, &v, 8), 8);
	v = 0xfffffffffffffffeull;
	cr_assert_eq(write(c, &v, 8), 8);
	rec_submit(t, "at the top, OUT", b, &cb);
	rec_event(t, "pending", b, 50);
	cr_assert_eq(read(c, &v, 8), 8);
	rec_event(t, "after a read (A47)", b, 5000);

	at_prep_poll(&cb, c, POLLIN);
	at_set_resfd(&cb, c);
	rec_submit(t, "IN with RESFD = itself", b, &cb);
	v = 5;
	cr_assert_eq(write(c, &v, 8), 8);
	rec_event(t, "after write 5 (A47)", b, 5000);
	evt_rec(t, "count %llu", (unsigned long long)at_peek(c));
	close(c);
}

Test(aio_poll, counter_matches_eventfd, .timeout = 60)
{
	at_compare(evt_shared_mnt(), counter_case, NULL);
}

static void cancel_case(struct at_be *b, struct evt_transcript *t, void *arg)
{
	struct iocb cb, cb2, never, rd;
	char rb[64], buf[8];
	int p[2], efd, c;

	(void)arg;
	cr_assert_eq(pipe(p), 0);
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	at_prep_poll(&cb, p[0], POLLIN);
	cb.aio_data = 1;
	at_set_resfd(&cb, efd);
	rec_submit(t, "pending POLL with RESFD", b, &cb);
	cb.aio_key = 1;
	evt_rec(t, "cancel, aio_key 1 (A75): %s",
		at_res(at_be_cancel(b, &cb), rb, sizeof(rb)));
	cb.aio_key = 0;
	evt_rec(t, "cancel (A77): %s",
		at_res(at_be_cancel(b, &cb), rb, sizeof(rb)));
	rec_event(t, "cancelled", b, 5000);
	evt_rec(t, "resfd %llu", (unsigned long long)at_peek(efd));
	evt_rec(t, "cancel again (A78): %s",
		at_res(at_be_cancel(b, &cb), rb, sizeof(rb)));
	memset(&never, 0, sizeof(never));
	evt_rec(t, "cancel never submitted (A76): %s",
		at_res(at_be_cancel(b, &never), rb, sizeof(rb)));

	/* One iocb pending twice: each cancel takes one (A78). */
	at_prep_poll(&cb2, p[0], POLLIN);
	cb2.aio_data = 2;
	rec_submit(t, "twice, first", b, &cb2);
	rec_submit(t, "twice, second", b, &cb2);
	evt_rec(t, "cancel 1: %s",
		at_res(at_be_cancel(b, &cb2), rb, sizeof(rb)));
	evt_rec(t, "cancel 2: %s",
		at_res(at_be_cancel(b, &cb2), rb, sizeof(rb)));
	evt_rec(t, "cancel 3: %s",
		at_res(at_be_cancel(b, &cb2), rb, sizeof(rb)));
	rec_event(t, "first", b, 5000);
	rec_event(t, "second", b, 5000);

	/* Only POLL can be cancelled (A76). */
	cr_assert_eq(write(p[1], "z", 1), 1);
	at_prep_pread(&rd, p[0], buf, 1, 0);
	rec_submit(t, "pread", b, &rd);
	rec_event(t, "pread done", b, 5000);
	evt_rec(t, "cancel a completed pread: %s",
		at_res(at_be_cancel(b, &rd), rb, sizeof(rb)));

	/* A POLL on an eventfd (kernel) or counter (mount). */
	c = at_counter(b, 0, true);
	at_prep_poll(&cb, c, POLLIN);
	cb.aio_data = 3;
	rec_submit(t, "POLL on a counter", b, &cb);
	evt_rec(t, "cancel: %s", at_res(at_be_cancel(b, &cb), rb, sizeof(rb)));
	rec_event(t, "cancelled", b, 5000);
	close(c);
	close(efd);
	close(p[0]);
	close(p[1]);
}

Test(aio_poll, cancel_matches_kernel, .timeout = 60)
{
	at_compare(evt_shared_mnt(), cancel_case, NULL);
}

/*
 * A17: destroying a context cancels its pending POLLs, and their RESFD is
 * signalled.  The mount's RELEASE arrives after close(2) returns (FUSE
 * sends it in the background), so the count is awaited with a deadline.
 */
static void destroy_case(struct at_be *b, struct evt_transcript *t, void *arg)
{
	struct iocb cb, cb2;
	int p[2], efd, c;

	(void)arg;
	cr_assert_eq(pipe(p), 0);
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	c = at_counter(b, 0, true);
	at_prep_poll(&cb, p[0], POLLIN);
	at_set_resfd(&cb, efd);
	rec_submit(t, "POLL on a pipe, RESFD eventfd", b, &cb);
	at_prep_poll(&cb2, c, POLLIN);
	at_set_resfd(&cb2, c == efd ? efd : efd);
	rec_submit(t, "POLL on a counter, RESFD eventfd", b, &cb2);
	at_be_destroy(b);
	evt_rec(t, "resfd after destroy: %llu",
		(unsigned long long)at_wait_count(efd, 2));
	close(c);
	close(efd);
	close(p[0]);
	close(p[1]);
	at_be_setup(b, b->mount ? evt_shared_mnt() : NULL, 128);
}

Test(aio_poll, destroy_cancels_and_signals_like_kernel, .timeout = 60)
{
	at_compare(evt_shared_mnt(), destroy_case, NULL);
}

/* The same with RESFD a counter of the mount (mount only). */
Test(aio_poll, close_signals_a_counter_resfd, .timeout = 30)
{
	const char *mnt = evt_shared_mnt();
	struct at_be b;
	struct iocb cb;
	char name[64];
	int p[2], c;

	at_be_setup(&b, mnt, 8);
	c = evt_create_counter(mnt, evt_unique(name, sizeof(name), "apr"), 0,
			       false, O_NONBLOCK);
	cr_assert_eq(pipe(p), 0);
	at_prep_poll(&cb, p[0], POLLIN);
	at_set_resfd(&cb, c);
	cr_assert_eq(at_be_submit1(&b, &cb), 1);
	cr_expect_eq(at_peek(c), 0);
	at_be_destroy(&b);
	cr_expect_eq(at_wait_count(c, 1), 1);
	close(c);
	close(p[0]);
	close(p[1]);
}
