// SPDX-License-Identifier: GPL-2.0-only
/*
 * IOCB_FLAG_RESFD (A55-A58, table 2.5 step 6) through the control file:
 * +1 per completion (errors included, rejected submissions not), the
 * saturation at 0xffffffffffffffff, the reference held from submit to
 * completion, a PREAD of the RESFD itself, and the order of A56: once the
 * count has gone up, the event is there to read.  Kernel eventfd against
 * mount counter where both exist; the mount also takes kernel eventfds.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "aio_lib.h"

static int be_counter(const struct at_be *b, uint64_t init, int oflags)
{
	char name[64], path[PATH_MAX];
	int fd;

	if (!b->mount) {
		fd = eventfd(0,
			     EFD_CLOEXEC | ((oflags & O_NONBLOCK) ? EFD_NONBLOCK
								  : 0));
		cr_assert(fd >= 0);
	} else {
		fd = evt_create_counter(evt_shared_mnt(),
					evt_unique(name, sizeof(name), "arc"),
					0, false, oflags);
		evt_path(path, sizeof(path), evt_shared_mnt(), name);
		cr_assert_eq(unlink(path), 0);
	}
	while (init) {
		uint64_t step = init > 0xfffffffffffffffeull
					? 0xfffffffffffffffeull
					: init;

		cr_assert_eq(write(fd, &step, 8), 8);
		init -= step;
	}
	return fd;
}

static void rec_sub(struct evt_transcript *t, const char *what, struct at_be *b,
		    struct iocb *cb, uint32_t flags)
{
	char rb[64];
	int ret = at_be_submit(b, &cb, 1, &flags);

	evt_rec(t, "%s: submit %s", what,
		at_res(ret < 0 ? ret : 0, rb, sizeof(rb)));
}

static void rec_ev(struct evt_transcript *t, const char *what, struct at_be *b)
{
	struct io_event ev;
	char rb[64];

	if (at_be_getevents(b, 1, 1, &ev, 5000) == 1)
		evt_rec(t, "%s: %s", what, at_res(ev.res, rb, sizeof(rb)));
	else
		evt_rec(t, "%s: no event", what);
}

static void signal_case(struct at_be *b, struct evt_transcript *t, void *arg)
{
	char path[PATH_MAX], buf[16];
	struct iocb cb;
	uint64_t v;
	int f, c, efd, dup1, p[2], opath;

	(void)arg;
	at_make_file(path, sizeof(path), "/dev/shm", 64);
	f = open(path, O_RDONLY | O_CLOEXEC);
	c = be_counter(b, 0, O_NONBLOCK);
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	at_prep_pread(&cb, f, buf, 8, 0);
	at_set_resfd(&cb, c);
	rec_sub(t, "pread, RESFD counter", b, &cb, 0);
	rec_ev(t, "event", b);
	evt_rec(t, "counter %llu (+1, not +res: A55)",
		(unsigned long long)at_peek(c));
	at_set_resfd(&cb, efd);
	rec_sub(t, "pread, RESFD kernel eventfd", b, &cb, 0);
	rec_ev(t, "event", b);
	evt_rec(t, "eventfd %llu", (unsigned long long)at_peek(efd));

	/* An error in res signals too; a refused submission does not. */
	at_prep_pread(&cb, f, NULL, 8, 0);
	at_set_resfd(&cb, c);
	rec_sub(t, "pread into NULL", b, &cb, EVFDFS_WIRE_SUB_BUF_FAULT);
	rec_ev(t, "event (A31)", b);
	evt_rec(t, "counter %llu (A57)", (unsigned long long)at_peek(c));
	at_prep_pread(&cb, 9999, buf, 8, 0);
	at_set_resfd(&cb, c);
	rec_sub(t, "pread of a closed fd", b, &cb, 0);
	evt_rec(t, "counter %llu", (unsigned long long)at_peek(c));

	/* Step 6: not open, O_PATH, not an eventfd. */
	at_prep_pread(&cb, f, buf, 8, 0);
	at_set_resfd(&cb, 9999);
	rec_sub(t, "RESFD not open", b, &cb, 0);
	at_set_resfd(&cb, -1);
	rec_sub(t, "RESFD -1", b, &cb, 0);
	opath = open("/", O_PATH | O_CLOEXEC);
	at_set_resfd(&cb, opath);
	rec_sub(t, "RESFD O_PATH", b, &cb, 0);
	close(opath);
	cr_assert_eq(pipe(p), 0);
	at_set_resfd(&cb, p[0]);
	rec_sub(t, "RESFD a pipe", b, &cb, 0);
	at_set_resfd(&cb, f);
	rec_sub(t, "RESFD a regular file", b, &cb, 0);
	cb.aio_lio_opcode = 77;
	at_set_resfd(&cb, p[0]);
	rec_sub(t, "RESFD a pipe, bad opcode (step 6 first)", b, &cb, 0);
	cb.aio_lio_opcode = IOCB_CMD_PREAD;
	cb.aio_flags = 0;
	cb.aio_resfd = 9999;
	rec_sub(t, "aio_resfd without the flag (A25)", b, &cb, 0);
	rec_ev(t, "event", b);

	/* A58: the reference is held from submit to completion. */
	dup1 = dup(c);
	at_prep_poll(&cb, p[0], POLLIN);
	at_set_resfd(&cb, dup1);
	rec_sub(t, "POLL, RESFD a dup", b, &cb, 0);
	close(dup1);
	cr_assert_eq(write(p[1], "a", 1), 1);
	rec_ev(t, "event after the dup was closed", b);
	evt_rec(t, "counter %llu", (unsigned long long)at_peek(c));

	/* A58: a PREAD of the RESFD itself returns the value, then +1. */
	v = 0;
	cr_assert_eq(read(c, &v, 8), 8);
	v = 41;
	cr_assert_eq(write(c, &v, 8), 8);
	at_prep_pread(&cb, c, buf, 8, 0);
	at_set_resfd(&cb, c);
	rec_sub(t, "pread of the counter with RESFD = itself", b, &cb, 0);
	rec_ev(t, "event", b);
	memcpy(&v, buf, 8);
	evt_rec(t, "read %llu, count now %llu", (unsigned long long)v,
		(unsigned long long)at_peek(c));

	close(p[0]);
	close(p[1]);
	close(efd);
	close(c);
	close(f);
	unlink(path);
}

Test(aio_resfd, signals_match_kernel, .timeout = 60)
{
	at_compare(evt_shared_mnt(), signal_case, NULL);
}

/* A55: the add saturates at 0xffffffffffffffff (POLLIN|POLLERR). */
static void saturate_case(struct at_be *b, struct evt_transcript *t, void *arg)
{
	struct pollfd pfd;
	struct iocb cb;
	int c, efd, p[2], i;

	(void)arg;
	cr_assert_eq(pipe(p), 0);
	c = be_counter(b, 0xfffffffffffffffeull, O_NONBLOCK);
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	{
		uint64_t top = 0xfffffffffffffffeull;

		cr_assert_eq(write(efd, &top, 8), 8);
	}
	for (i = 0; i < 3; i++) {
		at_prep_poll(&cb, p[1], POLLOUT);
		at_set_resfd(&cb, i == 2 ? efd : c);
		rec_sub(t, "POLLOUT", b, &cb, 0);
		rec_ev(t, "event", b);
	}
	evt_rec(t, "counter %llx", (unsigned long long)at_peek(c));
	evt_rec(t, "eventfd %llx", (unsigned long long)at_peek(efd));
	pfd = (struct pollfd){ .fd = c, .events = POLLIN | POLLOUT };
	poll(&pfd, 1, 0);
	evt_rec(t, "counter poll %#x", pfd.revents);
	close(c);
	close(efd);
	close(p[0]);
	close(p[1]);
}

Test(aio_resfd, saturates_like_kernel, .timeout = 60)
{
	at_compare(evt_shared_mnt(), saturate_case, NULL);
}

/* A counter opened read-only cannot be a RESFD (mount only: a kernel
 * eventfd is always O_RDWR, so Linux never meets the case). */
Test(aio_resfd, read_only_counter_is_ebadf, .timeout = 30)
{
	const char *mnt = evt_shared_mnt();
	char name[64], path[PATH_MAX], path2[PATH_MAX], buf[8];
	struct at_be b;
	struct iocb cb;
	int c, ro, f;

	at_be_setup(&b, mnt, 8);
	c = evt_create_counter(mnt, evt_unique(name, sizeof(name), "aro"), 0,
			       false, 0);
	ro = open(evt_path(path, sizeof(path), mnt, name),
		  O_RDONLY | O_CLOEXEC);
	cr_assert(ro >= 0);
	at_make_file(path2, sizeof(path2), "/dev/shm", 16);
	f = open(path2, O_RDONLY | O_CLOEXEC);
	at_prep_pread(&cb, f, buf, 8, 0);
	at_set_resfd(&cb, ro);
	cr_expect_eq(at_be_submit1(&b, &cb), -EBADF);
	at_set_resfd(&cb, c);
	cr_expect_eq(at_be_submit1(&b, &cb), 1);
	at_be_destroy(&b);
	close(f);
	close(ro);
	close(c);
	unlink(path);
	unlink(path2);
}

/*
 * A56, the scenario of the seed patch: a thread completes requests; the
 * main thread waits for the RESFD count to go up and then reads the
 * control file without blocking.  The event must always be there.
 */
#define ROUNDS 300

struct pinger {
	int go;	 /* a token per round */
	int wfd; /* the watched pipe */
};

static void *pinger_main(void *arg)
{
	struct pinger *pg = arg;
	char tok;

	while (read(pg->go, &tok, 1) == 1)
		if (write(pg->wfd, "p", 1) != 1)
			break;
	return NULL;
}

static void order_case(struct at_be *b, struct evt_transcript *t, void *arg)
{
	bool kernel_efd = arg != NULL;
	static struct iocb cbs[ROUNDS];
	struct pinger pg;
	struct io_event ev;
	pthread_t th;
	uint64_t seen = 0, v;
	int p[2], go[2], c, i, missed = 0, lost = 0;
	char sink[16];

	cr_assert_eq(pipe(p), 0);
	cr_assert_eq(pipe(go), 0);
	pg = (struct pinger){ .go = go[0], .wfd = p[1] };
	cr_assert_eq(pthread_create(&th, NULL, pinger_main, &pg), 0);
	c = kernel_efd ? eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)
		       : be_counter(b, 0, O_NONBLOCK);
	for (i = 0; i < ROUNDS; i++) {
		/* One pending POLL at a time; each ping completes it. */
		at_prep_poll(&cbs[i], p[0], POLLIN);
		at_set_resfd(&cbs[i], c);
		cr_assert_eq(at_be_submit1(b, &cbs[i]), 1);
		cr_assert_eq(write(go[1], "g", 1), 1);
		{
			struct pollfd pfd = { .fd = c, .events = POLLIN };
			long long deadline = evt_now_ms() + 10000;

			while ((v = at_peek(c)) == seen &&
			       evt_now_ms() < deadline)
				poll(&pfd, 1, 100);
		}
		if (v == seen) {
			lost++;
			break;
		}
		seen = v;
		if (at_be_getevents(b, 1, 1, &ev, 0) != 1)
			missed++;
		else if (ev.res < 0)
			lost++;
		/* Drain the pipe so the next POLL waits for the next ping. */
		while (read(p[0], sink, 1) < 0 && errno == EINTR)
			;
		if (i + 1 < ROUNDS && at_be_getevents(b, 0, 1, &ev, 0))
			missed++; /* an unexpected extra event */
	}
	close(go[1]);
	pthread_join(th, NULL);
	close(go[0]);
	evt_rec(t, "rounds %d missed %d lost %d", ROUNDS, missed, lost);
	close(c);
	close(p[0]);
	close(p[1]);
}

Test(aio_resfd, event_is_readable_once_counter_moved, .timeout = 120)
{
	at_compare(evt_shared_mnt(), order_case, NULL);
}

Test(aio_resfd, event_is_readable_once_kernel_eventfd_moved, .timeout = 120)
{
	at_compare(evt_shared_mnt(), order_case, (void *)1);
}
