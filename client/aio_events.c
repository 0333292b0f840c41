// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * evfdfs_io_getevents() and evfdfs_io_pgetevents(): completions from the
 * context's ring, with io_getevents(2)'s rules (A60-A65, A70-A72).
 *
 * Events are taken from the ring, io_events[head..tail) modulo the
 * library's own nr, as the kernel's aio_read_events_ring() takes them
 * (the caller may have reaped some itself, A82), and head is stored
 * after them: no request reaches the daemon while events are there.
 * Waiting is a ppoll(2) on the control file, which is readable while the
 * ring holds events (the daemon notifies its pollers after publishing),
 * and hangs up once the context is destroyed: with the remaining timeout
 * and, for pgetevents, the caller's mask.  ppoll installs the mask only
 * for the wait and is never restarted after a handler, which are
 * io_pgetevents's rules (A64, A71, A72); a futex wait on tail would be
 * restarted under SA_RESTART, where Linux fails with EINTR.
 *
 * The timeout, as the kernel reads it (A62): tv_sec < 0, or a negative
 * total tv_sec * 1e9 + tv_nsec, waits for ever; a total of 0 does not
 * wait; tv_nsec is not normalised or checked, so {0, 1500000000} waits
 * 1.5 s and {1, -1} a nanosecond less than a second.
 */
#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <signal.h>
#include <string.h>
#include <sys/vfs.h>
#include <time.h>

#include "libevfdfs_i.h"

#define NSEC 1000000000LL
/* Beyond this many seconds the kernel's ktime saturates: for ever. */
#define KTIME_SEC_MAX (INT64_MAX / NSEC)

struct wait_plan {
	bool block;   /* wait at all */
	bool forever; /* without a deadline */
	struct timespec deadline;
};

static void plan_wait(const struct timespec *ts, long min_nr,
		      struct wait_plan *w)
{
	int64_t total;

	memset(w, 0, sizeof(*w));
	if (min_nr == 0)
		return; /* A61: never blocks */
	w->block = true;
	if (!ts || ts->tv_sec < 0 || ts->tv_sec >= KTIME_SEC_MAX) {
		w->forever = true;
		return;
	}
	total = (int64_t)ts->tv_sec * NSEC;
	if (__builtin_add_overflow(total, (int64_t)ts->tv_nsec, &total) ||
	    total < 0) {
		w->forever = true;
		return;
	}
	if (total == 0) {
		w->block = false;
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &w->deadline);
	total += w->deadline.tv_nsec;
	w->deadline.tv_sec += total / NSEC;
	w->deadline.tv_nsec = total % NSEC;
}

/* Time left until the deadline; false once it has passed. */
static bool time_left(const struct wait_plan *w, struct timespec *left)
{
	struct timespec now;
	int64_t ns;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ns = (int64_t)(w->deadline.tv_sec - now.tv_sec) * NSEC +
	     (w->deadline.tv_nsec - now.tv_nsec);
	if (ns <= 0)
		return false;
	left->tv_sec = ns / NSEC;
	left->tv_nsec = ns % NSEC;
	return true;
}

/*
 * Move up to @room events from the ring to the caller's @events and store
 * head past them.  Returns how many, or -EFAULT (nothing moved: the events
 * stay, A65).
 */
static int reap(struct evfdfs_io_ctx *ctx, struct io_event *events, long room)
{
	struct evfdfs_wire_ring *r = ctx->ring;
	uint32_t nr = ctx->nr, head, tail, k, first;
	int ret;

	pthread_mutex_lock(&ctx->lock);
	head = atomic_load_explicit((_Atomic uint32_t *)&r->head,
				    memory_order_relaxed) %
	       nr;
	tail = atomic_load_explicit((_Atomic uint32_t *)&r->tail,
				    memory_order_acquire) %
	       nr;
	k = tail >= head ? tail - head : nr - head + tail;
	if ((long)k > room)
		k = (uint32_t)room;
	ret = (int)k;
	if (!k)
		goto out;
	/* The ring wraps: at most two runs. */
	first = nr - head < k ? nr - head : k;
	if (umem_write((uintptr_t)events, &r->io_events[head],
		       first * sizeof(*events)) ||
	    (k > first &&
	     umem_write((uintptr_t)(events + first), &r->io_events[0],
			(k - first) * sizeof(*events)))) {
		ret = -EFAULT;
		goto out;
	}
	atomic_store_explicit((_Atomic uint32_t *)&r->head, (head + k) % nr,
			      memory_order_release);
out:
	pthread_mutex_unlock(&ctx->lock);
	return ret;
}

static int getevents(struct evfdfs_io_ctx *ctx, long min_nr, long nr,
		     struct io_event *events, const struct timespec *ts,
		     const sigset_t *mask)
{
	struct pollfd pfd = { .fd = ctx->fd, .events = POLLIN };
	struct timespec left;
	struct wait_plan w;
	long got = 0;
	int ret;

	plan_wait(ts, min_nr, &w);
	for (;;) {
		int lost;

		ret = reap(ctx, events + got, nr - got);
		if (ret < 0)
			return got ? (int)got : ret;
		got += ret;
		/* What the ring still held is returned; after it, the loss
		 * (never a short count or a 0 that looks like success). */
		lost = __atomic_load_n(&ctx->lost, __ATOMIC_RELAXED);
		if (lost && got < min_nr)
			return got ? (int)got : -lost;
		if (lost && !got)
			return -lost;
		if (got >= min_nr || !w.block)
			return (int)got;
		if (!w.forever && !time_left(&w, &left))
			return (int)got;
		if (__atomic_load_n(&ctx->dead, __ATOMIC_RELAXED))
			return got ? (int)got : -EINVAL; /* destroyed (A18) */
		ret = ppoll(&pfd, 1, w.forever ? NULL : &left, mask);
		if (ret < 0) {
			ret = -errno;
			return got ? (int)got : ret; /* EINTR (A64) */
		}
		if (pfd.revents & (POLLHUP | POLLERR | POLLNVAL)) {
			struct statfs sfs;

			ret = reap(ctx, events + got, nr - got);
			if (ret > 0)
				got += ret;
			/* The daemon gone (ENOTCONN), or destroyed (A18). */
			if (!__atomic_load_n(&ctx->dead, __ATOMIC_RELAXED) &&
			    fstatfs(ctx->fd, &sfs) != 0) {
				ret = errno;
				ctx_note_loss(ctx, ret);
				return got ? (int)got : -ret;
			}
			return got ? (int)got : -EINVAL;
		}
	}
}

/* Copy the caller's timeout (A60: EFAULT before anything else). */
static int read_timeout(const struct timespec *timeout, struct timespec *ts,
			const struct timespec **tsp)
{
	*tsp = NULL;
	if (!timeout)
		return 0;
	if (umem_read(ts, (uintptr_t)timeout, sizeof(*ts)))
		return -EFAULT;
	*tsp = ts;
	return 0;
}

static int getevents_entry(struct evfdfs_io_ctx *h, long min_nr, long nr,
			   struct io_event *events,
			   const struct timespec *timeout, bool masked,
			   const sigset_t *sigmask)
{
	const struct timespec *tsp;
	struct evfdfs_io_ctx *ctx;
	struct timespec ts;
	sigset_t mask;
	int ret;

	ret = read_timeout(timeout, &ts, &tsp);
	if (ret)
		return ret;
	if (masked && sigmask) {
		/* The kernel takes 8 bytes of sigset (A70). */
		sigemptyset(&mask);
		if (umem_read(&mask, (uintptr_t)sigmask, 8))
			return -EFAULT;
	}
	ctx = ctx_get(h);
	if (!ctx)
		return -EINVAL;
	if (min_nr < 0 || nr < min_nr)
		ret = -EINVAL;
	else if (nr == 0)
		ret = 0;
	else
		ret = getevents(ctx, min_nr, nr, events, tsp,
				masked && sigmask ? &mask : NULL);
	ctx_put(ctx);
	return ret;
}

EXPORT int evfdfs_io_getevents(struct evfdfs_io_ctx *ctx, long min_nr, long nr,
			       struct io_event *events,
			       const struct timespec *timeout)
{
	KEEP_ERRNO;

	return getevents_entry(ctx, min_nr, nr, events, timeout, false, NULL);
}

EXPORT int evfdfs_io_pgetevents(struct evfdfs_io_ctx *ctx, long min_nr, long nr,
				struct io_event *events,
				const struct timespec *timeout,
				const sigset_t *sigmask)
{
	KEEP_ERRNO;

	return getevents_entry(ctx, min_nr, nr, events, timeout, true, sigmask);
}
