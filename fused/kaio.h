/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The daemon's one kernel AIO context, through libaio.  It lives in its own
 * file because libaio.h and <linux/aio_abi.h> (which the wire format uses)
 * both define struct iocb and struct io_event; their layouts are the same
 * (A1, A2, L8), so the rest of the daemon fills aio_abi.h structures and
 * hands them here as untyped pointers.
 *
 * Every function is safe to call from any thread (the kernel serializes).
 */
#ifndef EVFDFS_KAIO_H
#define EVFDFS_KAIO_H

/* io_setup(@nr): Returns 0 and *@ctx, or -errno. */
int kaio_setup(unsigned int nr, void **ctx);

/* io_destroy(): cancels pending POLLs, waits for the rest. */
void kaio_destroy(void *ctx);

/* io_submit(ctx, 1, &iocb): Returns 1, or -errno from the kernel's checks. */
int kaio_submit(void *ctx, void *iocb);

/* io_submit(ctx, @nr, @iocbs): the kernel takes them in order and stops
 * at the first it refuses.  Returns how many it took, or -errno of the
 * first when it took none. */
int kaio_submit_many(void *ctx, int nr, void **iocbs);

/* io_cancel(): Returns -EINPROGRESS when a pending POLL was cancelled (its
 * res-0 event follows), -EINVAL when there is nothing to cancel. */
int kaio_cancel(void *ctx, void *iocb);

/* io_getevents(ctx, 0, @max, @events, {0, 0}): never blocks.
 * Returns: the number of events stored at @events (struct io_event). */
int kaio_reap(void *ctx, void *events, int max);

/* io_getevents(ctx, 1, 1, @event, NULL), again after a signal.
 * Returns: 1, or -errno. */
int kaio_wait1(void *ctx, void *event);

#endif /* EVFDFS_KAIO_H */
