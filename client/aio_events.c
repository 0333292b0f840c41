// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * evfdfs_io_getevents() and evfdfs_io_pgetevents(): completions from the
 * control file, with io_getevents(2)'s rules (A60-A65, A70-A72).
 *
 * Events are read from the control file without blocking (it is open
 * O_NONBLOCK), a read's data is stored in the caller's buffer at once (the
 * kernel's read has done so before its event exists), and the events wait
 * in the context's backlog until a call returns them.  Waiting is a
 * ppoll(2) on the control file and the context's kill eventfd, with the
 * remaining timeout and, for pgetevents, the caller's mask: ppoll installs
 * the mask only for the wait and is never restarted after a handler, which
 * are io_pgetevents's rules (A64, A71, A72).
 *
 * The timeout, as the kernel reads it (A62): tv_sec < 0, or a negative
 * total tv_sec * 1e9 + tv_nsec, waits for ever; a total of 0 does not
 * wait; tv_nsec is not normalised or checked, so {0, 1500000000} waits
 * 1.5 s and {1, -1} a nanosecond less than a second.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
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
 * Move up to @room events from the backlog to the caller's @events.
 * Returns how many, or -EFAULT (nothing moved: the events stay, A65).
 * ctx->lock held.
 */
static int hand_over(struct evfdfs_io_ctx *ctx, struct io_event *events,
		     long room)
{
	unsigned int k, first;
	size_t len0;

	k = ctx->bl_len < room ? ctx->bl_len : (unsigned int)room;
	if (!k)
		return 0;
	/* The backlog is a ring: at most two runs. */
	first = ctx->bl_cap - ctx->bl_head;
	if (first > k)
		first = k;
	len0 = first * sizeof(*events);
	if (umem_write((uintptr_t)events, &ctx->backlog[ctx->bl_head], len0) ||
	    (k > first && umem_write((uintptr_t)events + len0, ctx->backlog,
				     (k - first) * sizeof(*events))))
		return -EFAULT;
	ctx->bl_head = (ctx->bl_head + k) % ctx->bl_cap;
	ctx->bl_len -= k;
	ctx->unreaped -= k;
	return (int)k;
}

static int getevents(struct evfdfs_io_ctx *ctx, long min_nr, long nr,
		     struct io_event *events, const struct timespec *ts,
		     const sigset_t *mask)
{
	struct pollfd pfd[2] = {
		{ .fd = ctx->fd, .events = POLLIN },
		{ .fd = ctx->killfd, .events = POLLIN },
	};
	struct timespec left;
	struct wait_plan w;
	bool woke = false;
	long got = 0;
	int ret;

	plan_wait(ts, min_nr, &w);
	for (;;) {
		pthread_mutex_lock(&ctx->lock);
		ret = hand_over(ctx, events + got, nr - got);
		/* Completions the daemon may have (or says it has): fetch. */
		if (ret >= 0 && got + ret < nr &&
		    (woke || ctx->unreaped > ctx->bl_len)) {
			int r = ctx_read_events(ctx);

			if (r > 0) {
				int more = hand_over(ctx, events + got + ret,
						     nr - got - ret);

				if (more > 0)
					ret += more;
				else if (more < 0 && ret == 0)
					ret = more; /* EFAULT (A65) */
			} else if (r < 0 && r != -EAGAIN && r != -EINTR &&
				   ret == 0) {
				ret = r;
			}
		}
		pthread_mutex_unlock(&ctx->lock);
		if (ret < 0)
			return got ? (int)got : ret;
		got += ret;
		if (got >= min_nr || !w.block)
			return (int)got;
		if (!w.forever && !time_left(&w, &left))
			return (int)got;
		ret = ppoll(pfd, 2, w.forever ? NULL : &left, mask);
		if (ret < 0) {
			ret = -errno;
			return got ? (int)got : ret; /* EINTR (A64) */
		}
		if (pfd[1].revents)
			return got ? (int)got : -EINVAL; /* destroyed (A18) */
		woke = ret > 0;
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

static int getevents_entry(struct evfdfs_io_ctx *ctx, long min_nr, long nr,
			   struct io_event *events,
			   const struct timespec *timeout, bool masked,
			   const sigset_t *sigmask)
{
	const struct timespec *tsp;
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
	ctx = ctx_get(ctx);
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
