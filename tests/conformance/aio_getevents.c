// SPDX-License-Identifier: GPL-2.0-only
/*
 * io_getevents (A60-A65) and io_pgetevents (A70-A72): the order of
 * checks, min_nr and timeout rules, signals, and the temporary mask.
 *
 * Waits that must end by a signal are ended by a thread that sends the
 * signal again and again until the waiter is back, so that a signal that
 * lands before the wait starts cannot leave it hanging.  The only time
 * asserted is a lower bound: a call given 1.5 s must not return before
 * one second.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <evfdfs.h>

#include "aio_backend.h"

/* Submit a poll on a fresh counter @e that completes when @e is written. */
static void pending_poll(const struct aio_backend *b, void *ctx,
			 struct iocb *cb, int e)
{
	struct iocb *list[1] = { cb };

	io_prep_poll(cb, e, POLLIN);
	cr_assert_eq(b->submit(ctx, 1, list), 1);
}

/* Submit @n reads that complete at once. */
static void ready_reads(const struct aio_backend *b, void *ctx, struct iocb *cb,
			int n, int fd, char (*buf)[8])
{
	int i;

	for (i = 0; i < n; i++) {
		struct iocb *list[1] = { &cb[i] };

		io_prep_pread(&cb[i], fd, buf[i], 8, 8 * i);
		cr_assert_eq(b->submit(ctx, 1, list), 1);
	}
}

/* A60: the order of the argument checks. */
ACONFORM(getevents_argument_checks)
{
	void *ctx = aio_ctx(b, 4);
	struct timespec zero = { 0, 0 };
	struct io_event ev[2];

	aio_rec(t, "bad timeout, bad ctx",
		b->getevents(aio_bad_ctx(), 1, 1, ev, (void *)8));
	aio_rec(t, "bad timeout, min_nr -1",
		b->getevents(ctx, -1, 1, ev, (void *)8));
	aio_rec(t, "bad ctx", b->getevents(aio_bad_ctx(), 0, 1, ev, &zero));
	aio_rec(t, "bad ctx, min_nr -1",
		b->getevents(aio_bad_ctx(), -1, 1, ev, &zero));
	aio_rec(t, "min_nr -1", b->getevents(ctx, -1, 1, ev, &zero));
	aio_rec(t, "nr < min_nr", b->getevents(ctx, 2, 1, ev, &zero));
	aio_rec(t, "nr -1", b->getevents(ctx, 0, -1, ev, &zero));
	aio_rec(t, "0, 0", b->getevents(ctx, 0, 0, ev, NULL));
	aio_rec(t, "0, 0, NULL events", b->getevents(ctx, 0, 0, NULL, NULL));
	aio_rec(t, "0, 1, nothing, no timeout",
		b->getevents(ctx, 0, 1, ev, NULL));
	aio_rec(t, "1, 1, nothing, zero timeout",
		b->getevents(ctx, 1, 1, ev, &zero));
	aio_rec(t, "destroy", b->destroy(ctx));
}

/* A61, A63: min_nr 0 takes what is there; a timeout returns a count. */
ACONFORM(getevents_min_nr_and_expiry)
{
	void *ctx = aio_ctx(b, 8);
	int fd = aio_tmpfile("/dev/shm", 64, O_RDONLY);
	struct iocb cb[3], *list[3] = { &cb[0], &cb[1], &cb[2] };
	struct timespec ts = { 1, 0 };
	struct io_event ev[8];
	char buf[3][8];
	long long deadline;
	int n, total;

	ready_reads(b, ctx, cb, 3, fd, buf);
	/* All three are ready well before the timeout ends. */
	total = b->getevents(ctx, 5, 8, ev, &ts);
	aio_rec(t, "min_nr 5 with 3 ready, 1 s", total);
	aio_rec_events(t, "event", ev, total > 0 ? total : 0, list, 3);
	ready_reads(b, ctx, cb, 2, fd, buf);
	total = 0;
	deadline = evt_now_ms() + 5000;
	while (total < 2 && evt_now_ms() < deadline) {
		n = b->getevents(ctx, 0, 8, ev + total, NULL);
		if (n < 0)
			break;
		total += n;
		if (total < 2)
			poll(NULL, 0, 5);
	}
	evt_rec(t, "min_nr 0 collects %d", total);
	aio_rec(t, "min_nr 0, none left", b->getevents(ctx, 0, 8, ev, NULL));
	aio_rec(t, "destroy", b->destroy(ctx));
	close(fd);
}

/* A62: tv_nsec is not validated: {0, 1.5e9} waits 1.5 s. */
ACONFORM(getevents_unnormalised_timeout_waits)
{
	void *ctx = aio_ctx(b, 4);
	struct timespec ts = { 0, 1500000000 };
	struct io_event ev[1];
	long long t0 = evt_now_ms();
	int ret;

	ret = b->getevents(ctx, 1, 1, ev, &ts);
	aio_rec(t, "{0, 1.5e9}", ret);
	evt_rec(t, "  waited at least 1 s: %s",
		evt_now_ms() - t0 >= 1000 ? "yes" : "no");
	aio_rec(t, "destroy", b->destroy(ctx));
}

static void write_one(void *arg)
{
	cr_assert_eq(write(*(int *)arg, &(uint64_t){ 1 }, 8), 8);
}

/* A62: a negative timeout waits for ever: until an event or a signal. */
ACONFORM(getevents_negative_timeout_waits)
{
	static const struct timespec neg[] = { { -1, 0 }, { 0, -1 } };
	void *ctx = aio_ctx(b, 4);
	int e = b->counter(0, EFD_NONBLOCK);
	struct iocb cb;
	struct io_event ev[1];
	struct aio_pinger ping;
	struct aio_later later;
	size_t i;

	aio_handle_signal(SIGUSR1, false);
	for (i = 0; i < 2; i++) {
		struct timespec ts = neg[i];

		evt_rec(t, "timeout {%ld, %ld}", (long)ts.tv_sec, ts.tv_nsec);
		aio_pinger_start(&ping, pthread_self(), SIGUSR1, 300, 100);
		aio_rec(t, "  ended by a signal",
			b->getevents(ctx, 1, 1, ev, &ts));
		aio_pinger_stop(&ping);
		pending_poll(b, ctx, &cb, e);
		aio_later_start(&later, 300, write_one, &e);
		ts = neg[i];
		aio_rec(t, "  ended by an event",
			b->getevents(ctx, 1, 1, ev, &ts));
		aio_later_join(&later);
		cr_assert_eq(read(e, &(uint64_t){ 0 }, 8), 8);
	}
	aio_default_signal(SIGUSR1);
	aio_rec(t, "destroy", b->destroy(ctx));
	close(e);
}

/* A64: EINTR even under SA_RESTART; the count if some were collected. */
ACONFORM(getevents_signal_with_sa_restart)
{
	void *ctx = aio_ctx(b, 4);
	int fd = aio_tmpfile("/dev/shm", 64, O_RDONLY);
	struct iocb cb[1];
	struct io_event ev[2];
	struct aio_pinger ping;
	char buf[1][8];
	long long deadline;
	int ret;

	aio_handle_signal(SIGUSR1, true);
	aio_pinger_start(&ping, pthread_self(), SIGUSR1, 300, 100);
	aio_rec(t, "nothing collected", b->getevents(ctx, 1, 1, ev, NULL));
	aio_pinger_stop(&ping);
	ready_reads(b, ctx, cb, 1, fd, buf);
	/* Let the completion be there before the wait starts. */
	deadline = evt_now_ms() + 5000;
	aio_pinger_start(&ping, pthread_self(), SIGUSR1, 300, 100);
	do {
		ret = b->getevents(ctx, 2, 2, ev, NULL);
	} while (ret == -EINTR && evt_now_ms() < deadline);
	aio_pinger_stop(&ping);
	aio_rec(t, "one collected, min_nr 2", ret);
	evt_rec(t, "handler ran: %s", aio_sig_count ? "yes" : "no");
	aio_default_signal(SIGUSR1);
	aio_rec(t, "destroy", b->destroy(ctx));
	close(fd);
}

/* A65: an unwritable events array: EFAULT, and the events stay. */
ACONFORM(getevents_efault_keeps_events)
{
	void *ctx = aio_ctx(b, 4);
	int fd = aio_tmpfile("/var/tmp", 64, O_RDONLY);
	struct iocb cb[1], *list[1] = { &cb[0] };
	struct timespec ts = { 5, 0 };
	struct io_event *ro;
	char buf[1][8];

	ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert(ro != MAP_FAILED);
	ready_reads(b, ctx, cb, 1, fd, buf);
	aio_rec(t, "read-only events", b->getevents(ctx, 1, 1, ro, &ts));
	aio_rec(t, "NULL events", b->getevents(ctx, 1, 1, NULL, &ts));
	aio_collect(b, t, ctx, 1, list, 1, false);
	munmap(ro, 4096);
	aio_rec(t, "destroy", b->destroy(ctx));
	close(fd);
}

/* A70: pgetevents's own checks, before the context. */
ACONFORM(pgetevents_argument_checks)
{
	void *ctx = aio_ctx(b, 4);
	struct timespec zero = { 0, 0 };
	struct io_event ev[1];
	sigset_t empty;

	sigemptyset(&empty);
	aio_rec(t, "bad sigmask",
		b->pgetevents(ctx, 1, 1, ev, &zero, (void *)8));
	aio_rec(t, "bad sigmask, bad ctx",
		b->pgetevents(aio_bad_ctx(), 1, 1, ev, &zero, (void *)8));
	aio_rec(t, "bad timeout, bad sigmask",
		b->pgetevents(ctx, 1, 1, ev, (void *)8, (void *)8));
	aio_rec(t, "NULL sigmask", b->pgetevents(ctx, 1, 1, ev, &zero, NULL));
	aio_rec(t, "empty sigmask, bad ctx",
		b->pgetevents(aio_bad_ctx(), 1, 1, ev, &zero, &empty));
	aio_rec(t, "empty sigmask",
		b->pgetevents(ctx, 1, 1, ev, &zero, &empty));
	aio_rec(t, "destroy", b->destroy(ctx));
}

/* A71: a signal the temporary mask blocks stays pending until after. */
ACONFORM(pgetevents_mask_blocks_for_the_wait)
{
	void *ctx = aio_ctx(b, 4);
	struct timespec ts = { 0, 500000000 };
	struct io_event ev[1];
	struct aio_pinger ping;
	sigset_t block;

	aio_handle_signal(SIGUSR1, false);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	aio_pinger_start(&ping, pthread_self(), SIGUSR1, 100, 50);
	aio_rec(t, "pgetevents blocking SIGUSR1, 0.5 s",
		b->pgetevents(ctx, 1, 1, ev, &ts, &block));
	aio_pinger_stop(&ping);
	evt_rec(t, "handler ran after: %s", aio_sig_count ? "yes" : "no");
	aio_default_signal(SIGUSR1);
	aio_rec(t, "destroy", b->destroy(ctx));
}

/* A71, A72: a signal the caller blocks but the temporary mask does not
 * interrupts the wait: EINTR. */
ACONFORM(pgetevents_mask_unblocks_for_the_wait)
{
	void *ctx = aio_ctx(b, 4);
	struct io_event ev[1];
	struct aio_pinger ping;
	sigset_t usr1, empty, old;

	aio_handle_signal(SIGUSR1, true);
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigemptyset(&empty);
	pthread_sigmask(SIG_BLOCK, &usr1, &old);
	aio_pinger_start(&ping, pthread_self(), SIGUSR1, 100, 50);
	aio_rec(t, "pgetevents unblocking SIGUSR1",
		b->pgetevents(ctx, 1, 1, ev, NULL, &empty));
	aio_pinger_stop(&ping);
	evt_rec(t, "handler ran: %s", aio_sig_count ? "yes" : "no");
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	{
		/* Drain whatever is still pending, under the old mask. */
		struct timespec zero = { 0, 0 };

		sigtimedwait(&usr1, NULL, &zero);
	}
	aio_default_signal(SIGUSR1);
	aio_rec(t, "destroy", b->destroy(ctx));
}

/* Events that are ready come back whatever the mask. */
ACONFORM(pgetevents_returns_ready_events)
{
	void *ctx = aio_ctx(b, 4);
	int e = b->counter(0, EFD_NONBLOCK);
	struct iocb cb, *list[1] = { &cb };
	struct timespec ts = { 5, 0 };
	sigset_t all;

	sigfillset(&all);
	pending_poll(b, ctx, &cb, e);
	cr_assert_eq(write(e, &(uint64_t){ 1 }, 8), 8);
	{
		struct io_event ev[1];
		int ret = b->pgetevents(ctx, 1, 1, ev, &ts, &all);

		aio_rec(t, "pgetevents all blocked", ret);
		aio_rec_events(t, "event", ev, ret > 0 ? ret : 0, list, 1);
	}
	aio_rec(t, "destroy", b->destroy(ctx));
	close(e);
}

/* A72: interrupted after collecting some, pgetevents returns the count. */
ACONFORM(pgetevents_signal_after_some_collected)
{
	void *ctx = aio_ctx(b, 4);
	int fd = aio_tmpfile("/dev/shm", 64, O_RDONLY);
	struct iocb cb[1];
	struct io_event ev[2];
	struct aio_pinger ping;
	char buf[1][8];
	sigset_t empty;
	long long deadline;
	int ret;

	sigemptyset(&empty);
	aio_handle_signal(SIGUSR1, true);
	ready_reads(b, ctx, cb, 1, fd, buf);
	/* Until the completion was there before the wait started. */
	deadline = evt_now_ms() + 5000;
	aio_pinger_start(&ping, pthread_self(), SIGUSR1, 300, 100);
	do {
		ret = b->pgetevents(ctx, 2, 2, ev, NULL, &empty);
	} while (ret == -EINTR && evt_now_ms() < deadline);
	aio_pinger_stop(&ping);
	aio_rec(t, "one collected, min_nr 2", ret);
	evt_rec(t, "handler ran: %s", aio_sig_count ? "yes" : "no");
	aio_default_signal(SIGUSR1);
	aio_rec(t, "destroy", b->destroy(ctx));
	close(fd);
}

/*
 * L4's other half: evfdfs_io_getevents is the system call, not libaio's
 * wrapper, so it checks nr < min_nr as io_getevents(2) does (A60) even on
 * an empty ring with a {0, 0} timeout; libaio's own io_getevents peeks at
 * either ring first (aio/libaio_peek_at_an_empty_ring).
 */
Test(aio, library_getevents_checks_as_the_system_call, .timeout = 30)
{
	struct evfdfs_io_ctx *m = NULL;
	struct timespec zero = { 0, 0 };
	struct io_event ev[2];
	io_context_t k = 0;

	evt_shared_mnt();
	cr_assert_eq(io_setup(4, &k), 0);
	cr_assert_eq(evfdfs_io_setup(evt_shared_mnt(), 4, &m), 0);
	cr_expect_eq(syscall(SYS_io_getevents, k, 2, 1, ev, &zero), -1,
		     "the system call checks nr < min_nr (A60)");
	cr_expect_eq(evfdfs_io_getevents(m, 2, 1, ev, &zero), -EINVAL,
		     "and so does the library's call");
	cr_expect_eq(syscall(SYS_io_getevents, k, 1, 1, ev, &zero), 0);
	cr_expect_eq(evfdfs_io_getevents(m, 1, 1, ev, &zero), 0,
		     "an empty context answers 0 either way");
	cr_expect_eq(io_destroy(k), 0);
	cr_expect_eq(evfdfs_io_destroy(m), 0);
}
