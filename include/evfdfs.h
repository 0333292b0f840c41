/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libevfdfs: eventfd counters and Linux AIO, served by an evfdfs mount.
 *
 * Two families of calls, each shaped like the interface it stands in for:
 *
 *   - Counters (libc-shaped: 0 or a descriptor on success, -1 with errno
 *     on failure).  evfdfs_counter_open(), evfdfs_counter_create() and
 *     evfdfs_eventfd() return an ordinary file descriptor of the mount,
 *     which read(2), write(2), poll(2), epoll and close(2) use directly;
 *     evfdfs_read() and evfdfs_write() are glibc's eventfd_read() and
 *     eventfd_write().
 *
 *   - AIO (libaio-shaped: a count or 0 on success, -errno on failure, and
 *     errno is left alone, as libaio does).  The iocbs are libaio's own
 *     `struct iocb`, filled by io_prep_*() and io_set_eventfd() from
 *     <libaio.h>; events are libaio's `struct io_event`.  A context is one
 *     open of the mount's `aio` control file and a completion ring shared
 *     with the daemon; the handle (struct evfdfs_io_ctx *) is the ring's
 *     address, a kernel `struct aio_ring` as a kernel context's handle
 *     is, so a program may peek at it or reap from it (A4, A82).
 *
 * Every call takes the mount point; NULL means the value of the
 * environment variable EVFDFS_MOUNT.
 *
 * Thread safety: every call may be made from any thread; AIO calls on one
 * context may run concurrently (several threads in evfdfs_io_getevents()
 * each get different events).  A context belongs to the memory of the
 * task that set it up (its threads, a CLONE_VM or vfork child): after
 * fork(2) the child's calls on it fail with -EINVAL, as they do on the
 * kernel's contexts, and the child does not hold its descriptor.  Like eventfd2(2) and libaio's calls, no call here is a
 * cancellation point (pthread_cancel(3)) but evfdfs_read() and
 * evfdfs_write(), which are read(2) and write(2) as glibc's
 * eventfd_read() and eventfd_write() are.
 */
#ifndef EVFDFS_H
#define EVFDFS_H

#include <signal.h>
#include <stdint.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

/* libaio's types (<libaio.h>); the layouts are <linux/aio_abi.h>'s. */
struct iocb;
struct io_event;

/* The environment variable read when a call's mount argument is NULL. */
#define EVFDFS_MOUNT_ENV "EVFDFS_MOUNT"

/* Extended attributes that hold a counter's settings. */
#define EVFDFS_XATTR_SEMAPHORE "user.evfdfs.semaphore"
#define EVFDFS_XATTR_VALUE "user.evfdfs.value"

/* ------------------------------------------------------------------ */
/* Counters                                                            */
/* ------------------------------------------------------------------ */

/**
 * evfdfs_counter_open() - open the counter @name of a mount, creating it
 * if it does not exist.
 * @mnt: the mount point, or NULL for $EVFDFS_MOUNT
 * @name: the counter's name in the mount (one path component)
 * @initval: the value of a counter this call creates (at most
 *	0xfffffffffffffffe)
 * @flags: eventfd2's flags: EFD_SEMAPHORE, EFD_NONBLOCK, EFD_CLOEXEC
 *
 * A counter this call creates appears under @name already in semaphore
 * mode if asked and already holding @initval: it is made under a private
 * name, set up through its extended attributes, and then renamed into
 * place without replacing anything.  Like open(2)'s mode argument, @initval
 * and EFD_SEMAPHORE apply only to a counter that this call creates; an
 * existing counter keeps its value and mode.  EFD_NONBLOCK and EFD_CLOEXEC
 * apply to the descriptor returned, as O_NONBLOCK and O_CLOEXEC.
 *
 * Returns: a file descriptor, or -1 with errno set:
 * EINVAL (a flag other than the three above; @name empty, ".", "..",
 * containing '/' or refused by the mount; @initval too large; @name is one
 * of the mount's own files, not a counter), ENOENT (@mnt is NULL and
 * EVFDFS_MOUNT is unset, or the mount point does not exist), ENODEV (@mnt
 * is not a FUSE mount), or any errno of open(2), renameat2(2) and
 * fsetxattr(2) on the mount (EACCES, EMFILE, ENFILE, ENOMEM, ENOTCONN...).
 */
int evfdfs_counter_open(const char *mnt, const char *name, uint64_t initval,
			int flags);

/**
 * evfdfs_counter_create() - create the counter @name, failing if the name
 * exists (open(2)'s O_CREAT|O_EXCL).
 * @mnt: the mount point, or NULL for $EVFDFS_MOUNT
 * @name: the counter's name
 * @initval: its initial value (at most 0xfffffffffffffffe)
 * @flags: EFD_SEMAPHORE, EFD_NONBLOCK, EFD_CLOEXEC
 *
 * The counter appears fully set up, as for evfdfs_counter_open().
 *
 * Returns: a file descriptor, or -1 with errno set: EEXIST (@name exists,
 * as a counter or as one of the mount's own files), and the errors of
 * evfdfs_counter_open().
 */
int evfdfs_counter_create(const char *mnt, const char *name, uint64_t initval,
			  int flags);

/**
 * evfdfs_eventfd() - an anonymous counter, as eventfd2(2) makes one.
 * @mnt: the mount point, or NULL for $EVFDFS_MOUNT
 * @initval: the initial value (unsigned int, as eventfd2's)
 * @flags: EFD_SEMAPHORE, EFD_NONBLOCK, EFD_CLOEXEC
 *
 * The counter is created under a unique name and unlinked at once, before
 * it is set up; it lives as long as a descriptor refers to it, like an
 * eventfd.
 *
 * Returns: a file descriptor, or -1 with errno set: EINVAL (unknown flag
 * bits, E1), and the other errors of evfdfs_counter_open().
 */
int evfdfs_eventfd(const char *mnt, unsigned int initval, int flags);

/**
 * evfdfs_read() - read a counter's value, as glibc's eventfd_read().
 * @fd: a counter's descriptor (of the mount, or a kernel eventfd)
 * @value: where the value read goes
 *
 * Returns: 0, or -1 with errno set by read(2): EAGAIN (zero and
 * non-blocking), EINTR, EFAULT, EBADF, EINVAL.
 */
int evfdfs_read(int fd, uint64_t *value);

/**
 * evfdfs_write() - add @value to a counter, as glibc's eventfd_write().
 * @fd: a counter's descriptor
 * @value: what to add (0xffffffffffffffff is EINVAL, E22)
 *
 * Returns: 0, or -1 with errno set by write(2): EAGAIN (would overflow and
 * non-blocking), EINVAL, EINTR, EBADF.
 */
int evfdfs_write(int fd, uint64_t value);

/* ------------------------------------------------------------------ */
/* AIO over the control file                                           */
/* ------------------------------------------------------------------ */

/* An AIO context: one open of the mount's `aio` control file. */
struct evfdfs_io_ctx;

/*
 * The most one read or write request transfers when its data travels in
 * one record of the control file: where the daemon cannot reach the
 * submitter's memory.  A longer request completes short, with this many
 * bytes.  Otherwise transfers are whole, up to Linux's 0x7ffff000 bytes
 * (pipes, stream sockets and character devices this many bytes at a
 * time), except those of O_DIRECT files and datagram sockets, which move
 * at most one such buffer (O_DIRECT: cut at a page).
 */
#define EVFDFS_IO_MAX_BYTES 1040296u

/**
 * evfdfs_io_setup() - create an AIO context, as io_setup(2).
 * @mnt: the mount point, or NULL for $EVFDFS_MOUNT
 * @nr_events: the capacity: completions that may be left unreaped
 * @ctxp: where the context goes; *@ctxp must be NULL
 *
 * Returns: 0, or -errno: EFAULT (@ctxp unreadable or unwritable), EINVAL
 * (*@ctxp not NULL, @nr_events 0 or larger than the daemon allows),
 * EAGAIN (the daemon-wide limit, aio-max-nr by default), ENOENT (no mount
 * given and EVFDFS_MOUNT unset, or no control file at @mnt), ENODEV (@mnt
 * is not a FUSE mount), ENOMEM, EMFILE, ENFILE, or the errors of open(2)
 * on the control file.
 */
int evfdfs_io_setup(const char *mnt, unsigned int nr_events,
		    struct evfdfs_io_ctx **ctxp);

/**
 * evfdfs_io_destroy() - destroy a context, as io_destroy(2).
 * @ctx: the context
 *
 * Pending IOCB_CMD_POLL requests are cancelled (their RESFD counters are
 * still signalled, A17) and every request in flight is waited for,
 * uninterruptibly; their events are discarded.  Calls blocked on @ctx in
 * other threads return -EINVAL (or the count they already collected).
 *
 * Returns: 0, or -EINVAL (@ctx is not a live context of this process).
 */
int evfdfs_io_destroy(struct evfdfs_io_ctx *ctx);

/**
 * evfdfs_io_submit() - submit @nr iocbs, as io_submit(2).
 * @ctx: the context
 * @nr: how many
 * @iocbpp: the iocbs, libaio's struct iocb filled by io_prep_*()
 *
 * The iocbs are processed in order, and processing stops at the first one
 * that fails (A21).  Everything an iocb needs is copied at submission: the
 * data of a write, the iovec array of a vectored request.  The data of a
 * read is copied into the caller's buffer (or scattered over its iovecs)
 * when evfdfs_io_getevents() collects the completion, so the buffer must
 * stay valid until then, as with the kernel.  As the kernel does (A24),
 * the library writes 0 into aio_key of every iocb that got past the
 * descriptor checks, accepted or not.
 *
 * Returns: the number of iocbs submitted if it is positive; otherwise
 * -errno of the first iocb: EINVAL (@nr < 0; @ctx not a live context;
 * aio_reserved2 not 0; negative aio_nbytes; RESFD not a counter or
 * eventfd; bad opcode or opcode arguments), EFAULT (an unreadable
 * iocbpp[i] or iocb, an aio_key that cannot be written, a buffer outside
 * user space, an unreadable iovec array), EAGAIN (no capacity left),
 * EBADF (aio_fildes or aio_resfd not open, or not open for the access),
 * EOPNOTSUPP (aio_rw_flags), EPERM, ENOMEM, or an errno of the control
 * file's write(2) (ENOTCONN when the daemon is gone).
 */
int evfdfs_io_submit(struct evfdfs_io_ctx *ctx, long nr, struct iocb **iocbpp);

/**
 * evfdfs_io_getevents() - collect completions, as io_getevents(2).
 * @ctx: the context
 * @min_nr: return once at least this many were collected
 * @nr: collect at most this many
 * @events: where they go (data = aio_data, obj = the iocb's address, res,
 *	res2)
 * @timeout: a relative CLOCK_MONOTONIC timeout; NULL, or a negative one,
 *	waits for ever; {0, 0} does not block; tv_nsec is not validated
 *	(A62)
 *
 * With @min_nr 0 the call never blocks.  When the timeout expires the
 * call returns what it collected.  A signal that interrupts the wait ends
 * it (never restarted, even under SA_RESTART, A64).
 *
 * Returns: the number of events collected, or -errno: EFAULT (@timeout
 * unreadable; @events unwritable and nothing collected, the events stay
 * for the next call), EINVAL (@ctx not a live context, or destroyed while
 * the call waited; @min_nr < 0 or @nr < @min_nr), EINTR (a signal and
 * nothing collected), or an errno of the control file's read(2) (ENOTCONN
 * when the daemon is gone).
 */
int evfdfs_io_getevents(struct evfdfs_io_ctx *ctx, long min_nr, long nr,
			struct io_event *events,
			const struct timespec *timeout);

/**
 * evfdfs_io_pgetevents() - evfdfs_io_getevents() with a signal mask
 * installed for the wait only, as io_pgetevents(2) (libaio's signature).
 * @sigmask: the mask during the wait, or NULL for no change
 *
 * A signal that the temporary mask blocks stays pending and is delivered
 * after the call, under the caller's mask; one that it unblocks interrupts
 * the wait (A71).
 *
 * Returns: as evfdfs_io_getevents(), and EFAULT when @sigmask is
 * unreadable (checked after @timeout, before @ctx, A70).
 */
int evfdfs_io_pgetevents(struct evfdfs_io_ctx *ctx, long min_nr, long nr,
			 struct io_event *events,
			 const struct timespec *timeout,
			 const sigset_t *sigmask);

/**
 * evfdfs_io_cancel() - cancel a pending request, as io_cancel(2).
 * @ctx: the context
 * @iocb: the iocb, as submitted (its address identifies it)
 * @result: ignored (A77); may be NULL
 *
 * Only a pending IOCB_CMD_POLL can be cancelled.  Its completion (res 0)
 * still arrives through evfdfs_io_getevents() and still signals its RESFD
 * counter.  If one iocb address has several pending submissions, each
 * call cancels one of them.
 *
 * Returns: -EINPROGRESS when a request was cancelled (never 0, A77), or
 * -errno: EFAULT (@iocb's aio_key unreadable), EINVAL (aio_key not 0; @ctx
 * not a live context; nothing cancellable with this address), or an errno
 * of the control file's write(2).
 */
int evfdfs_io_cancel(struct evfdfs_io_ctx *ctx, struct iocb *iocb,
		     struct io_event *result);

/**
 * evfdfs_io_queue_init() - libaio's io_queue_init(): *@ctxp is set to NULL
 * first, then evfdfs_io_setup() runs (L2).
 *
 * Returns: as evfdfs_io_setup(), and -EINVAL when @maxevents <= 0.
 */
int evfdfs_io_queue_init(const char *mnt, int maxevents,
			 struct evfdfs_io_ctx **ctxp);

/**
 * evfdfs_io_queue_release() - libaio's io_queue_release(): evfdfs_io_destroy().
 *
 * Returns: as evfdfs_io_destroy().
 */
int evfdfs_io_queue_release(struct evfdfs_io_ctx *ctx);

/**
 * evfdfs_io_queue_run() - libaio's io_queue_run() (L3): collect every
 * completion that is ready, without blocking, and call the callback stored
 * in each one's aio_data (io_set_callback()) as
 * cb((struct evfdfs_io_ctx *)ctx, iocb, res, res2), with the context
 * passed where libaio passes its io_context_t.
 *
 * Returns: 0 once none is left, or -errno as evfdfs_io_getevents().
 */
int evfdfs_io_queue_run(struct evfdfs_io_ctx *ctx);

#ifdef __cplusplus
}
#endif

#endif /* EVFDFS_H */
