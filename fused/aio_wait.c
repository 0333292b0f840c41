// SPDX-License-Identifier: GPL-2.0-only
/*
 * Transfers that may sleep: streams (RWF_NOWAIT, retried after a kernel
 * POLL), character devices (below), and the kicks that end a worker's
 * sleep.  Nothing that one caller asks for may hold a FUSE request, a
 * worker or the control file's inode lock for an unbounded time: waits go
 * to readiness, not threads.
 *
 * Pipes, FIFOs, sockets and eventfds take RWF_NOWAIT (FMODE_NOWAIT), so
 * aio_submit.c retries them after a kernel POLL.  A character device
 * mostly does not: on Linux 6.18 /dev/null, /dev/zero, /dev/random,
 * /dev/urandom and /dev/net/tun do, ttys (pty master and slave, ptmx),
 * /dev/full, /dev/kmsg and /dev/fuse answer EOPNOTSUPP (measured with
 * io_submit of an RWF_NOWAIT read and write).  A tty cannot be waited for
 * with a kernel POLL either: n_tty_poll() waits on two queues, which
 * fs/aio.c's aio_poll_queue_proc() refuses (EINVAL).  And a blocking read
 * of a tty through kernel AIO runs inside io_submit() and sleeps there
 * (drivers/tty/n_tty.c, interruptibly).  So a transfer of a character
 * device is first tried as a stream's is (RWF_NOWAIT on the loop: the
 * devices above complete there, inside the write, as in io_submit); when
 * that is EOPNOTSUPP, or a kernel POLL refuses the file, it becomes a
 * "slow" request:
 *
 *   1. probe, on the loop: the same iocb as PREADV/PWRITEV of one iovec
 *      at a kernel address.  io_submit applies every check that comes
 *      before the data (fs/aio.c: aio_prep_rw(), FMODE_READ/WRITE,
 *      read_iter/write_iter) and stops at the iovec with EFAULT: any
 *      other errno is the one io_submit would give the caller (A21).
 *   2. wait, on the loop: the file in wait_epfd (an epoll set inside the
 *      loop's), EPOLLIN or EPOLLOUT, one-shot.  No thread.
 *      The write(2) to the control file is answered now.  A file that
 *      cannot be polled (EPERM) goes straight to 3.
 *   3. transfer, on a worker: io_submit of the iocb alone.  The data is
 *      there, so it returns at once, unless another reader took it
 *      first; then the worker sleeps until data comes or the context is
 *      destroyed, which kicks it (aio_work.c): the read completes -EINTR.
 *   4. a short write waits again (2) for the rest, as a blocking write
 *      would have gone on.
 *
 * What Linux does instead: io_submit() sleeps in the device until the
 * transfer is done (or the submitter gets a signal: -EINTR in the event).
 *
 * Kicks are sent again every KICK_MS while a kicked worker is not back
 * (a kick may land just before the system call it was meant for).
 */
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "aiod_i.h"
#include "kaio.h"

#define KICK_MS 20

static bool slow_is_read(const struct areq *a)
{
	return a->op == IOCB_CMD_PREAD || a->op == IOCB_CMD_PREADV;
}

/* Will io_submit fail this transfer before its data (a bad offset, a
 * buffer or iovec the daemon mirrors as a fault, too many segments)? */
bool slow_fails_early(const struct wire_sub *s)
{
	return wire_offset_bad(s) ||
	       (s->s.flags &
		(EVFDFS_WIRE_SUB_BUF_RANGE | EVFDFS_WIRE_SUB_IOV_FAULT)) ||
	       (s->vectored && !s->have_segs);
}

/*
 * Should @a be a slow request?  A read or write of a character device
 * that would block: not RWF_NOWAIT, not O_NONBLOCK, and not failing in
 * io_submit before its data anyway (slow_fails_early()), which a worker
 * submits as before.  A stream without FMODE_NOWAIT becomes one later
 * (areq_start()).
 */
bool slow_route(const struct areq *a, const struct wire_sub *s)
{
	if (a->file.kind != AF_CHR)
		return false;
	if (a->op != IOCB_CMD_PREAD && a->op != IOCB_CMD_PWRITE &&
	    a->op != IOCB_CMD_PREADV && a->op != IOCB_CMD_PWRITEV)
		return false;
	if ((a->rwf & WIRE_RWF_NOWAIT) || (a->file.flags & O_NONBLOCK))
		return false;
	return !slow_fails_early(s);
}

static void slow_to_worker(struct areq *a)
{
	a->kphase = KP_IO;
	a->at_worker = true;
	pool_push_req(&a->ctx->ad->pool, a);
}

static void slow_finish(struct areq *a, int64_t res)
{
	if (a->done)
		res = res < 0 ? (int64_t)a->done : (int64_t)a->done + res;
	areq_finish_kernel(a, res);
}

/*
 * Step 2: wait for the file to be ready.  Returns 0, or -errno when it
 * could not (the caller fails the request).
 */
static int slow_wait(struct areq *a)
{
	struct epoll_event ev = {
		.events = (slow_is_read(a) ? EPOLLIN : EPOLLOUT) | EPOLLONESHOT,
		.data.ptr = a,
	};
	int epfd = a->ctx->ad->wait_epfd;
	int fd = a->file.fd, err = 0;

	a->kphase = KP_WAIT;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) == 0) {
		a->wfd = fd; /* the request's own descriptor: not closed */
		return 0;
	}
	/* Another request waits on the same descriptor (they share one
	 * duplicate, struct afd), and epoll knows an entry by file and
	 * number: this one gets a number of its own. */
	if (errno == EEXIST) {
		fd = fcntl(a->file.fd, F_DUPFD_CLOEXEC, 3);
		if (fd < 0)
			err = errno;
		else if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) == 0)
			err = 0;
		else
			err = errno;
		if (fd >= 0 && err)
			close(fd);
		if (!err) {
			a->wfd = fd;
			a->wfd_dup = true;
			return 0;
		}
	} else {
		err = errno;
	}
	if (err == EPERM) {
		slow_to_worker(a); /* cannot be polled: always "ready" */
		return 0;
	}
	return err == ENOMEM || err == EMFILE || err == ENFILE ? -EAGAIN : -err;
}

/* Steps 1 and 2.  Returns 0, or the errno io_submit would give. */
int slow_start(struct areq *a)
{
	struct iocb probe = a->kiocb;
	static const char marker;
	int ret;

	probe.aio_lio_opcode =
		slow_is_read(a) ? IOCB_CMD_PREADV : IOCB_CMD_PWRITEV;
	probe.aio_buf = AIOD_KADDR;
	probe.aio_nbytes = 1;
	probe.aio_data = (uintptr_t)&marker;
	ret = kaio_submit(a->ctx->ad->kctx, &probe);
	if (ret == 1) {
		/* Cannot happen: an iovec at a kernel address faults. */
		evfdfs_log("error", "aio: ctx %llu: a probe was accepted",
			   (unsigned long long)a->ctx->id);
		return -EIO;
	}
	if (ret != -EFAULT)
		return ret;
	return slow_wait(a);
}

/* The loop's wait_epfd is readable: serve one ready file at a time, so
 * that no event refers to a request freed by an earlier one. */
static void wait_ready(struct loop_source *src, uint32_t events)
{
	struct aiod *ad = src->data;
	struct epoll_event ev;
	struct areq *a;

	(void)events;
	while (epoll_wait(ad->wait_epfd, &ev, 1, 0) == 1) {
		a = ev.data.ptr;
		slow_unwait(a);
		if (a->cancelling) {
			slow_finish(a, -EINTR);
			continue;
		}
		if (trace_on(ad->fs)) {
			char key[AREQ_KEY_MAX];

			trace_emit(ad->fs, a->ctx->owner,
				   "aio-ready aio:%llu ctx=%llu pid=%d op=%s "
				   "key=%s",
				   (unsigned long long)a->ctx->id,
				   (unsigned long long)a->ctx->id, (int)a->pid,
				   aiod_opname(a->op), areq_key(a, key));
		}
		slow_to_worker(a);
	}
}

static bool chunk_next(struct areq *a, int64_t res);

/* The kernel's event for @a's transfer (steps 3, 4). */
void slow_kernel_done(struct areq *a, int64_t res)
{
	int ret;

	if (a->at_worker) {
		/* reaped before the worker was back: see slow_worker_done() */
		a->kres = res;
		a->kres_pending = true;
		return;
	}
	if (chunk_next(a, res))
		return;
	if (!slow_is_read(a) && res > 0 && (uint64_t)res < areq_write_left(a)) {
		areq_write_advance(a, (uint64_t)res);
		if (a->cancelling) {
			slow_finish(a, 0);
			return;
		}
		ret = slow_wait(a);
		if (ret)
			slow_finish(a, ret);
		return;
	}
	slow_finish(a, res);
}

/* A worker is back with @a: refused by io_submit, or its event is due. */
void slow_worker_done(struct areq *a)
{
	a->at_worker = false;
	if (a->wres < 0) {
		slow_finish(a, a->wres);
		return;
	}
	if (a->kres_pending) {
		a->kres_pending = false;
		slow_kernel_done(a, a->kres);
	}
}

/*
 * @a's context is being destroyed (a->cancelling is set): a wait ends now
 * with -EINTR (or the bytes a write had written); a transfer on a worker
 * is kicked and ends the same way when the worker is back.
 */
void slow_cancel(struct areq *a)
{
	struct aiod *ad = a->ctx->ad;

	if (a->wfd >= 0) {
		slow_unwait(a);
		slow_finish(a, -EINTR);
		return;
	}
	if (a->at_worker && pool_cancel_req(&ad->pool, a))
		kick_timer_arm(ad);
}

/* ---- streams: RWF_NOWAIT and a kernel POLL ------------------------- */

uint64_t areq_write_left(const struct areq *a)
{
	uint64_t left = 0;
	uint32_t i;

	if (!a->iov)
		return a->kiocb.aio_nbytes;
	for (i = a->iov_skip; i < a->niov; i++)
		left += a->iov[i].iov_len;
	return left;
}

/* Move the kernel iocb of a stream write past @n bytes written. */
void areq_write_advance(struct areq *a, uint64_t n)
{
	a->done += n;
	if (!a->iov) {
		a->kiocb.aio_buf += n;
		a->kiocb.aio_nbytes -= n;
		return;
	}
	while (n && a->iov_skip < a->niov) {
		struct iovec *v = &a->iov[a->iov_skip];

		if (n < v->iov_len) {
			v->iov_base = (char *)v->iov_base + n;
			v->iov_len -= n;
			n = 0;
		} else {
			n -= v->iov_len;
			a->iov_skip++;
		}
	}
	a->kiocb.aio_buf = (uintptr_t)(a->iov + a->iov_skip);
	a->kiocb.aio_nbytes = a->niov - a->iov_skip;
}

/*
 * A transfer longer than its buffer (a->more, aio_rw.c) moved a whole
 * chunk (@res bytes): go on with the next one, as the kernel's blocking
 * transfer would have gone on.
 *
 *   write   the next chunk is pulled from the submitter's memory and
 *           written the way the first was: RWF_NOWAIT on the loop, a
 *           readiness wait between short writes (stream_retry()), or the
 *           slow way (a worker, after readiness) for a device without
 *           FMODE_NOWAIT.  It ends when all is written, at an error (the
 *           bytes written, if any, as Linux), at the first unreadable
 *           byte, or when the context is destroyed (the bytes written).
 *   read    the chunk is stored in the submitter's memory now, and the
 *           next one is tried with RWF_NOWAIT only: a pipe's or socket's
 *           read returns what is there, it never waits for more.  It ends
 *           at a short chunk, -EAGAIN, or any error, with the total.  A
 *           slow read (no FMODE_NOWAIT: a tty) does not go on.  The
 *           memory devices (/dev/zero...) fill any length: a short chunk
 *           goes on too, and a slow one (/dev/full) chunk by chunk on a
 *           worker, as a write does.
 *
 * Each chunk is one buffer (EVFDFS_WIRE_MAX_DATA), and the next is
 * submitted from the reaper, so the loop serves others between chunks.
 * Returns whether @a went on (or was finished here).
 */
static bool chunk_next(struct areq *a, int64_t res)
{
	bool read = slow_is_read(a);
	ssize_t got;
	int ret;

	if (!a->more || res <= 0)
		return false;
	/* short or slow, a memory device's read goes on (file_fills()) */
	if (!(read && a->fills) &&
	    ((uint64_t)res < areq_write_left(a) || (read && a->slow)))
		return false;
	if (read) {
		got = xfer_push(a, a->buf, a->done, (size_t)res);
		if (got != (ssize_t)res) { /* the rest faults: stop there */
			a->done += got > 0 ? (uint64_t)got : 0;
			areq_finish_kernel(a, a->done ? (int64_t)a->done
						      : -EFAULT);
			return true;
		}
	}
	a->done += (uint64_t)res;
	if (a->cancelling || !areq_next_chunk(a)) {
		areq_finish_kernel(a, (int64_t)a->done);
		return true;
	}
	a->kphase = KP_IO;
	if (a->slow) {
		ret = slow_wait(a);
		if (ret)
			areq_finish_kernel(a, (int64_t)a->done);
		return true;
	}
	/* On the loop, a chunk never blocks: a blocking stream's has the
	 * daemon's RWF_NOWAIT already (a write's wait goes to readiness),
	 * and a file of the caller's own O_NONBLOCK gets it too, so that a
	 * device without FMODE_NOWAIT ends here (EOPNOTSUPP: the total). */
	a->kiocb.aio_rw_flags |= WIRE_RWF_NOWAIT;
	ret = kaio_submit(a->ctx->ad->kctx, &a->kiocb);
	if (ret < 0)
		areq_finish_kernel(a, (int64_t)a->done);
	return true;
}

/*
 * A stream transfer that the daemon made non-blocking came back short of
 * what a blocking one would have done: wait for readiness with a kernel
 * POLL and try again.  Returns whether it is waiting again.
 */
static bool stream_retry(struct areq *a, int64_t res)
{
	struct aiod *ad = a->ctx->ad;
	struct iocb *p = &a->kpoll;
	int fl, ret;

	if (res != -EAGAIN &&
	    !(a->op != IOCB_CMD_PREAD && a->op != IOCB_CMD_PREADV && res > 0 &&
	      (uint64_t)res < areq_write_left(a)))
		return false;
	if (slow_is_read(a) && a->done)
		return false; /* a read's later chunk: never waits for more */
	fl = fcntl(a->file.fd, F_GETFL);
	if (fl < 0 || (fl & O_NONBLOCK))
		return false; /* the caller's own O_NONBLOCK: EAGAIN stands */
	if (res > 0)
		areq_write_advance(a, (uint64_t)res);
	if (a->cancelling) {
		areq_finish_kernel(a, a->done ? (int64_t)a->done : -EINTR);
		return true;
	}
	memset(p, 0, sizeof(*p));
	p->aio_data = (uintptr_t)a;
	p->aio_lio_opcode = IOCB_CMD_POLL;
	p->aio_fildes = (uint32_t)a->file.fd;
	p->aio_buf = slow_is_read(a) ? POLLIN : POLLOUT;
	p->aio_flags = IOCB_FLAG_RESFD;
	p->aio_resfd = (uint32_t)ad->ksrc.fd;
	a->kphase = KP_WAIT;
	if (kaio_submit(ad->kctx, p) == 1)
		return true;
	/* A kernel POLL refuses a file that waits on two queues (a tty,
	 * for one): wait for it the slow way, without RWF_NOWAIT. */
	a->nowait_added = false;
	a->kiocb.aio_rw_flags &= ~(uint32_t)WIRE_RWF_NOWAIT;
	a->slow = true;
	ret = slow_wait(a);
	if (ret)
		areq_finish_kernel(a, a->done ? (int64_t)a->done : ret);
	return true;
}

/*
 * A regular file's read tried with RWF_NOWAIT (areq_route()) would have
 * waited: a worker does it as the caller asked it.  It goes the slow way
 * from here (slow_kernel_done() ends it, slow_cancel() interrupts it).
 */
void nowait_to_worker(struct areq *a)
{
	a->nowait_try = false;
	a->kiocb.aio_rw_flags &= ~(uint32_t)WIRE_RWF_NOWAIT;
	a->slow = true;
	slow_to_worker(a);
}

/* An event of the daemon's kernel context for request @a. */
void areq_kernel_done(struct areq *a, int64_t res)
{
	int ret;

	/* pipe_write() and the sockets' sendmsg send SIGPIPE to the writer
	 * with their -EPIPE, even after a part was written, unless
	 * RWF_NOSIGNAL. */
	if (res == -EPIPE && a->kphase == KP_IO &&
	    (a->op == IOCB_CMD_PWRITE || a->op == IOCB_CMD_PWRITEV) &&
	    !(a->rwf & WIRE_RWF_NOSIGNAL))
		areq_signal(a, SIGPIPE);
	if (a->nowait_try) {
		/* Short of the whole buffer: the rest was not cached, or this
		 * is the end of the file; a worker's read tells which. */
		if (res == -EAGAIN || (res >= 0 && (uint64_t)res < a->buflen)) {
			nowait_to_worker(a);
			return;
		}
		a->nowait_try = false;
	}
	if (a->slow) {
		slow_kernel_done(a, res);
		return;
	}
	if (a->kphase == KP_WAIT) {
		if (a->cancelling) {
			areq_finish_kernel(a,
					   a->done ? (int64_t)a->done : -EINTR);
			return;
		}
		a->kphase = KP_IO;
		ret = kaio_submit(a->ctx->ad->kctx, &a->kiocb);
		if (ret < 0)
			areq_finish_kernel(a, a->done ? (int64_t)a->done : ret);
		return;
	}
	if (a->nowait_added && stream_retry(a, res))
		return;
	if (chunk_next(a, res))
		return;
	if (a->done)
		res = res < 0 ? (int64_t)a->done : (int64_t)a->done + res;
	areq_finish_kernel(a, res);
}

#define REAP_BATCH 64

/* Reap the daemon's kernel context; never blocks. */
void aiod_kernel_events(struct aiod *ad)
{
	struct io_event evs[REAP_BATCH];
	bool again;
	int n, i;

	ad->reaping++;
	do {
		ad->dummy_out = false;
		n = kaio_reap(ad->kctx, evs, REAP_BATCH);
		ring_deliver_batch(evs, n);
		for (i = 0; i < n; i++) {
			if (!evs[i].data) {
				ad->ksig++; /* a RESFD signal's dummy */
				continue;
			}
			areq_kernel_done((struct areq *)(uintptr_t)evs[i].data,
					 evs[i].res);
		}
		/* A completion above signalled a kernel eventfd: its dummy's
		 * event is in the ring already, its slot is taken back now
		 * rather than after a wake-up of the loop. */
		again = n == REAP_BATCH || ad->dummy_out;
	} while (again);
	ad->reaping--;
	ksignal_flush(ad);
}

/* ---- kicks ---------------------------------------------------------- */

static void kick_timer_set(struct aiod *ad, bool on)
{
	struct itimerspec its;

	memset(&its, 0, sizeof(its));
	if (on) {
		its.it_value.tv_nsec = KICK_MS * 1000000L;
		its.it_interval.tv_nsec = KICK_MS * 1000000L;
	}
	timerfd_settime(ad->tsrc.fd, 0, &its, NULL);
	ad->kick_timer = on;
}

void kick_timer_arm(struct aiod *ad)
{
	if (!ad->kick_timer && ad->tsrc.fd >= 0)
		kick_timer_set(ad, true);
}

static void kick_tick(struct loop_source *src, uint32_t events)
{
	struct aiod *ad = src->data;
	uint64_t n;

	(void)events;
	if (read(src->fd, &n, sizeof(n)) < 0) {
		/* EAGAIN: nothing */
	}
	if (!pool_rekick(&ad->pool))
		kick_timer_set(ad, false);
}

/*
 * A write waiting for a worker (buffered I/O, an aio.txt open, a read of
 * a file of another FUSE mount) got a FUSE INTERRUPT: its caller has a
 * signal, perhaps SIGKILL, and the kernel waits for our answer.  The
 * worker is kicked: what it was doing ends as the signal would have ended
 * it in the submitter's io_submit, and the write is answered (the records
 * accepted, or EINTR) when the worker is back.  Runs on the loop, maybe
 * inside fuse_req_interrupt_func().
 */
static void job_interrupted(fuse_req_t req, void *data)
{
	struct sjob *job = data;
	struct aiod *ad = job->ctx->ad;

	(void)req;
	if (trace_on(ad->fs))
		trace_emit(ad->fs, job->ctx->owner,
			   "interrupt aio:%llu pid=%d op=aio-write",
			   (unsigned long long)job->ctx->id, (int)job->pid);
	if (pool_interrupt_job(&ad->pool, job))
		kick_timer_arm(ad);
}

void job_watch_interrupt(struct sjob *job)
{
	if (job->intr_func)
		return;
	job->intr_func = true;
	fuse_req_interrupt_func(job->req, job_interrupted, job);
}

/* ---- set-up --------------------------------------------------------- */

int wait_init(struct aiod *ad)
{
	int ret;

	ad->wait_epfd = epoll_create1(EPOLL_CLOEXEC);
	ad->tsrc.fd =
		timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (ad->wait_epfd < 0 || ad->tsrc.fd < 0)
		return -errno;
	ad->esrc.fd = ad->wait_epfd;
	ad->esrc.ready = wait_ready;
	ad->esrc.data = ad;
	ad->tsrc.ready = kick_tick;
	ad->tsrc.data = ad;
	ret = loop_add(ad->fs, &ad->esrc, EPOLLIN);
	if (!ret)
		ret = loop_add(ad->fs, &ad->tsrc, EPOLLIN);
	return ret;
}

void wait_fini(struct aiod *ad)
{
	if (ad->wait_epfd >= 0) {
		loop_del(ad->fs, &ad->esrc);
		close(ad->wait_epfd);
	}
	if (ad->tsrc.fd >= 0) {
		loop_del(ad->fs, &ad->tsrc);
		close(ad->tsrc.fd);
	}
	ad->wait_epfd = -1;
	ad->tsrc.fd = -1;
}
