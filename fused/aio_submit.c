// SPDX-License-Identifier: GPL-2.0-only
/*
 * Writes to the AIO control file: records become requests, each validated
 * in Linux's order (shared/spec/linux-semantics.md, table 2.5 and A30-A43)
 * and sent where its I/O can be done without ever blocking the event loop.
 * The front ends (aio_bin.c, aio_text.c) read the records or lines and
 * call this file, the request engine's top (fused/LAYERS), for the rest.
 *
 * Who checks what.  Steps 2-8 are the daemon's (wire.c, aio_fd.c).  Step 9
 * depends on the file: for a file of this mount the daemon serves the
 * request itself and applies A30/A35/A40 as an eventfd would (wire.c);
 * for any other file the daemon submits the request to its own kernel AIO
 * context with the caller's iocb mirrored onto daemon memory, so the
 * kernel applies its own step 9 to the very same open file description
 * (IOPRIO, rw_flags, FMODE_NOWAIT, access mode, read_iter, offsets) and
 * answers with Linux's errno.  The caller's buffer faults, which the
 * library reports in the record's flags, are mirrored with a kernel
 * address (EFAULT at the kernel's step) or NULL (res -EFAULT later).
 *
 * Where the I/O runs.  Measured on this machine (Linux 6.18): io_submit()
 * of one 256 MiB buffered write returned after 0.89 s on tmpfs and 1.38 s
 * on ext4, with the event already in the ring (A23: the whole transfer
 * runs inside the call); a blocking read of a pipe or an eventfd sleeps in
 * io_submit() until data comes (A33).  So:
 *
 *   file of this mount     served by the daemon (never kernel AIO on our
 *                          own mount: that would wait on ourselves)
 *   pipe, FIFO, socket,    submitted on the loop with RWF_NOWAIT added;
 *   kernel eventfd         -EAGAIN (or a short write) is retried after a
 *                          kernel POLL for readiness, so a "blocking"
 *                          transfer waits without holding any thread
 *                          (a FIFO without FMODE_NOWAIT: as below)
 *   character device       probed on the loop, then its readiness waited
 *   read or write          for on the loop, then the transfer alone on a
 *                          worker (aio_wait.c): a tty nobody types into
 *                          holds no thread and no write(2)
 *   FSYNC, FDSYNC          submitted on the loop (the kernel queues them)
 *   POLL of a non-regular  submitted on the loop (vfs_poll never blocks)
 *   everything else        submitted by a worker thread: regular files
 *                          (buffered I/O is synchronous; POLL of a file
 *                          of another FUSE mount asks that daemon and
 *                          waits), block devices, O_NONBLOCK or
 *                          RWF_NOWAIT character device transfers
 *   other anonymous files  (signalfd, timerfd, inotify...): POLL only;
 *                          a read here would act on the daemon's signals
 *                          or timers, not the caller's, so EINVAL
 *
 * A write whose records go to a worker is answered when the worker is
 * back, so the submitter's write(2) returns after its buffered I/O, as
 * io_submit does (A23), and the records after a failing one are never
 * submitted (A21); if the write is interrupted (FUSE INTERRUPT) it is
 * answered at once while queued, or its worker is kicked (aio_wait.c).  Synchronous completions are queued in submission order
 * (A54): the loop reaps the kernel's ring before it goes on.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aiod_i.h"
#include "kaio.h"

#define SUB_DATA_FAULTS                                          \
	(EVFDFS_WIRE_SUB_BUF_FAULT | EVFDFS_WIRE_SUB_BUF_RANGE | \
	 EVFDFS_WIRE_SUB_IOV_FAULT)

static bool op_is_rw(uint16_t op)
{
	return op == IOCB_CMD_PREAD || op == IOCB_CMD_PWRITE ||
	       op == IOCB_CMD_PREADV || op == IOCB_CMD_PWRITEV;
}

/*
 * The trace's aio-submit line of a record or line refused before it became
 * a request; @key: its aio_data or tag if known, else NULL ("-").
 */
void job_trace(const struct sjob *job, uint16_t op, const char *key, int res)
{
	struct evfdfs *fs = job->ctx->ad->fs;

	if (trace_on(fs))
		trace_emit(fs, job->ctx->owner,
			   "aio-submit aio:%llu ctx=%llu pid=%d op=%s key=%s "
			   "res=%d%s",
			   (unsigned long long)job->ctx->id,
			   (unsigned long long)job->ctx->id, (int)job->pid,
			   aiod_opname(op), key ? key : "-", res,
			   job->ctx->text ? " text" : "");
}

/*
 * A write of @size bytes at @buf to @ctx, by @req's caller; @resume is its
 * front end's next step once a worker is back with it (struct sjob).
 */
struct sjob *job_new(fuse_req_t req, struct aiod_ctx *ctx, const char *buf,
		     size_t size, void (*resume)(struct sjob *job))
{
	const struct fuse_ctx *fc = fuse_req_ctx(req);
	struct sjob *job = calloc(1, sizeof(*job));

	if (!job)
		return NULL;
	job->buf = buf; /* copied if the job has to wait (job_dispatch()) */
	job->len = size;
	job->req = req;
	job->ctx = ctx;
	job->resume = resume;
	job->pid = fc->pid;
	job->who.uid = fc->uid;
	job->who.gid = fc->gid;
	list_init(&job->wlink);
	return job;
}

/*
 * Answer the write: the bytes of the records accepted, or, when none was,
 * the first one's errno (A21).
 */
void job_finish(struct sjob *job, int err)
{
	job_fcache_drop(job);
	xpid_put(job->xpid);
	if (job->accepted)
		fuse_reply_write(job->req, job->accepted);
	else
		fuse_reply_err(job->req, err ? -err : EINVAL);
	cred_free(&job->who);
	free(job->scratch);
	free(job->own);
	free(job);
}

struct areq *areq_new(struct sjob *job, const struct wire_sub *s)
{
	struct aiod_ctx *ctx = job->ctx;
	struct areq *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->ctx = ctx;
	a->pid = job->pid;
	a->op = s->s.iocb.aio_lio_opcode;
	a->data = s->s.iocb.aio_data;
	a->obj = s->s.obj;
	a->rfd = -1;
	a->file.fd = -1;
	a->wfd = -1;
	a->wres = 1;
	list_init(&a->wlink);
	ring_capture(a, s);
	list_add_tail(&a->link, &ctx->reqs);
	ctx->inflight++;
	if (a->op < 9)
		ctx->by_op[a->op]++;
	return a;
}

/* Undo a preparation whose submission did not happen. */
void areq_unprepare(struct areq *a)
{
	struct aiod_ctx *ctx = a->ctx;

	if (a->seq && a->seq == ctx->tseq)
		ctx->tseq--; /* aio.txt: its default tag is free again */
	if (a->holds_slot)
		auser_slot_put(ctx);
	a->holds_slot = false;
	list_del_init(&a->link);
	ctx->inflight--;
	if (a->op < 9)
		ctx->by_op[a->op]--;
	areq_free(a);
}

/* ---- requests the daemon serves itself: counters of this mount ------- */

static void self_read(struct areq *a);

static void self_read_wake(struct watcher *wt, unsigned int key)
{
	struct areq *a = container_of(wt, struct areq, wt);

	if (!(key & POLLIN) || a->file.cn->c.count == 0)
		return;
	cnode_unwatch(&a->wt);
	a->watching = false;
	TRACE_CN(a->file.cn, "wake", a->pid, " op=aio-read");
	self_read(a);
}

/*
 * A33: PREAD of an eventfd through AIO.  A blocking read of an empty
 * counter blocks inside io_submit() on Linux; here the request is accepted
 * and completes when the counter becomes readable (or with -EINTR if its
 * context is closed first).  Like eventfd_read(), the value is consumed
 * before the copy-out, so a faulting buffer loses it (res -EFAULT).
 */
static void self_read(struct areq *a)
{
	struct cnode *cn = a->file.cn;
	uint64_t val;

	if (a->buflen < sizeof(val)) {
		areq_complete(a, -EINVAL); /* before anything, faults too */
		return;
	}
	if (cn->c.count == 0) {
		if ((a->file.flags & O_NONBLOCK) ||
		    (a->rwf & WIRE_RWF_NOWAIT)) {
			areq_complete(a, -EAGAIN);
			return;
		}
		a->wt.wake = self_read_wake;
		cnode_watch(cn, &a->wt);
		a->watching = true;
		TRACE_CN(cn, "park", a->pid, " op=aio-read");
		return;
	}
	counter_read(&cn->c, &val);
	cn->wake_key |= POLLOUT;
	TRACE_CN(cn, "read", a->pid, " val=%llu count=%llu aio",
		 (unsigned long long)val, (unsigned long long)cn->c.count);
	if (!a->sub_fault)
		memcpy(a->buf, &val, sizeof(val));
	cnode_changed(cn);
	areq_complete(a, a->sub_fault ? -EFAULT : (int64_t)sizeof(val));
}

static void self_poll_wake(struct watcher *wt, unsigned int key)
{
	struct areq *a = container_of(wt, struct areq, wt);

	if (!(key & a->pmask))
		return; /* A45: ignored, still pending */
	cnode_unwatch(&a->wt);
	a->watching = false;
	areq_complete(a, key); /* the full wake key */
}

/* A42-A45 on a counter: now if ready (masked), else on a matching wake. */
static void self_poll(struct areq *a)
{
	struct cnode *cn = a->file.cn;
	unsigned int ready = counter_poll(&cn->c) & a->pmask;

	if (ready) {
		areq_complete(a, ready);
		return;
	}
	a->wt.wake = self_poll_wake;
	cnode_watch(cn, &a->wt);
	a->watching = true;
}

/* Step 9 for a file of this mount, as Linux does it for an eventfd. */
static int route_self(struct areq *a, const struct wire_sub *s)
{
	const struct iocb *cb = &s->s.iocb;
	int acc = a->file.flags & O_ACCMODE;
	struct wire_file f = {
		.readable = acc != O_WRONLY,
		.writable = acc != O_RDONLY,
		.read_iter = true,
		.nowait = true,
	};
	int ret;

	a->route = RT_SELF;
	switch (a->op) {
	case IOCB_CMD_FSYNC:
	case IOCB_CMD_FDSYNC:
		ret = wire_check_fsync(s, &f);
		return ret ? ret : -EINVAL; /* an eventfd has no fsync (A35) */
	case IOCB_CMD_POLL:
		if (a->file.kind == AF_OURS)
			return -EINVAL;
		ret = wire_check_poll(s);
		a->pmask = (uint32_t)cb->aio_buf | POLLERR | POLLHUP; /* A41 */
		return ret;
	default:
		break;
	}
	if (a->file.kind != AF_COUNTER)
		return -EINVAL; /* text view, status, trace, aio: no AIO I/O */
	if ((cb->aio_flags & WIRE_IOCB_FLAG_IOPRIO) &&
	    ((cb->aio_reqprio >> 13) & 7) == 1)
		f.rt_ok = a->ctx->opener.rt_ok && caller_rt_ok(a->pid);
	ret = wire_check_rw(s, &f); /* PWRITE: EINVAL, no write_iter */
	if (ret)
		return ret;
	if (s->total >= sizeof(uint64_t) && !a->sub_fault) {
		a->mem = a->buf = malloc(sizeof(uint64_t));
		if (!a->buf)
			return -ENOMEM;
		a->memsize = a->buflen = sizeof(uint64_t);
		auser_buf_charge(a->ctx, a->memsize);
	} else if (s->total >= sizeof(uint64_t)) {
		a->buflen = sizeof(uint64_t); /* the NULL buffer of a fault */
	}
	return 0;
}

/* ---- requests for the kernel ---------------------------------------- */

/*
 * A read of a regular file that the daemon may try with RWF_NOWAIT first:
 * one that fits its buffer (not a whole transfer, not O_DIRECT's spread
 * segments), that io_submit will not refuse before its data (an
 * EOPNOTSUPP must mean "no FMODE_NOWAIT", never a flag of the caller's,
 * and a bad offset must fail the submit, not a worker's event), and whose
 * flags are only those a read may take (HIPRI, DSYNC, SYNC: not
 * RWF_NOWAIT itself).
 */
static bool nowait_first(const struct areq *a, enum afile_kind kind)
{
	return kind == AF_REG && !a->whole && !a->spread && a->buf &&
	       a->buflen && a->buflen <= AIOD_LOOP_MAX && !a->early_fail &&
	       !(a->rwf & ~(uint32_t)(WIRE_RWF_HIPRI | WIRE_RWF_DSYNC |
				      WIRE_RWF_SYNC)) &&
	       (a->op == IOCB_CMD_PREAD || a->op == IOCB_CMD_PREADV);
}

/* Step 9's route, and the kernel's iocb for what goes to the kernel. */
int areq_route(struct sjob *job, struct areq *a, const struct wire_sub *s)
{
	struct aiod *ad = job->ctx->ad;
	const struct iocb *ucb = &s->s.iocb;
	struct iocb *k = &a->kiocb;
	enum afile_kind kind = a->file.kind;
	bool stream;
	int ret;

	a->rwf = (uint32_t)ucb->aio_rw_flags;
	a->sub_fault = s->s.flags & EVFDFS_WIRE_SUB_BUF_FAULT;
	if (s->direct) {
		ret = xfer_prepare(job, a, s);
		if (ret)
			return ret;
	}
	if (kind == AF_COUNTER || kind == AF_TEXTVIEW || kind == AF_OURS)
		return route_self(a, s);
	if (a->file.fd < 0)
		return -EINVAL; /* reached only through /proc: not reopenable */
	if (kind == AF_SIGNALFD)
		return -EINVAL; /* polled or read here, it is the daemon's */
	if (op_is_rw(a->op)) {
		/* Other anonymous files (timerfd, inotify, pidfd...) take
		 * POLL only (the README's differences). */
		if (kind == AF_ANON)
			return -EINVAL;
		/* The kernel checks the daemon's capabilities: A30.1's EPERM
		 * has to be the caller's (the opener's and the writer's). */
		if ((ucb->aio_flags & WIRE_IOCB_FLAG_IOPRIO) &&
		    ((ucb->aio_reqprio >> 13) & 7) == 1 &&
		    !(a->ctx->opener.rt_ok && caller_rt_ok(a->pid)))
			return -EPERM;
		ret = areq_build_rw(ad, a, s);
		if (ret)
			return ret;
		k->aio_rw_flags = ucb->aio_rw_flags;
		/* A character device that would block is tried the way a
		 * stream is; without FMODE_NOWAIT it goes to aio_wait.c's
		 * slow path (areq_start()). */
		stream = kind == AF_STREAM || kind == AF_EVENTFD ||
			 slow_route(a, s);
		if (stream && !(a->rwf & WIRE_RWF_NOWAIT)) {
			k->aio_rw_flags |= WIRE_RWF_NOWAIT;
			a->nowait_added = true;
		}
		a->route = stream ? RT_LOOP : RT_WORKER;
		a->early_fail = slow_fails_early(s);
		if (!stream && a->file.memfs && !a->whole &&
		    a->buflen <= AIOD_LOOP_MAX) {
			/* tmpfs and ramfs have no FMODE_NOWAIT, and need
			 * none: their pages are the file, a transfer of
			 * one small buffer copies memory and is done. */
			a->route = RT_LOOP;
			a->loop_copy = true;
		} else if (!stream && nowait_first(a, kind)) {
			/* Page-cache hits complete inside io_submit on the
			 * loop, without two hand-offs to a worker and back;
			 * what would wait goes to a worker after all
			 * (areq_kernel_done()). */
			k->aio_rw_flags |= WIRE_RWF_NOWAIT;
			a->nowait_try = true;
			a->loop_copy = true;
			a->route = RT_LOOP;
		}
	} else {
		/* FSYNC, FDSYNC, POLL: the kernel checks the caller's fields
		 * as they are (A35, A40); nothing is dereferenced. */
		k->aio_buf = ucb->aio_buf;
		k->aio_nbytes = ucb->aio_nbytes;
		k->aio_offset = ucb->aio_offset;
		k->aio_rw_flags = ucb->aio_rw_flags;
		a->route = (a->op == IOCB_CMD_POLL && kind == AF_REG)
				   ? RT_WORKER
				   : RT_LOOP;
	}
	k->aio_data = (uintptr_t)a;
	k->aio_lio_opcode = a->op;
	k->aio_reqprio = ucb->aio_reqprio;
	k->aio_fildes = (uint32_t)a->file.fd;
	k->aio_flags =
		IOCB_FLAG_RESFD | (ucb->aio_flags & WIRE_IOCB_FLAG_IOPRIO);
	k->aio_resfd = (uint32_t)ad->ksrc.fd;
	a->kphase = KP_IO;
	ret = auser_slot_get(a->ctx); /* the kernel context, the user's share */
	if (ret)
		return ret;
	a->holds_slot = true;
	return 0;
}

/*
 * The kernel refused @a's submission on the loop with @ret (or took it:
 * 0).  An RWF_NOWAIT the daemon added is not the caller's, so a file
 * without FMODE_NOWAIT goes another way.  Returns 0 when it did, or @ret.
 */
static int loop_refused(struct areq *a, int ret)
{
	if (ret != -EOPNOTSUPP)
		return ret;
	if (a->nowait_try) { /* a regular file: a worker reads it */
		nowait_to_worker(a);
		return 0;
	}
	if (!a->nowait_added)
		return ret;
	/* No FMODE_NOWAIT (a tty, a FIFO opened by name, on 6.18): the
	 * caller did not ask for RWF_NOWAIT, so wait for readiness without
	 * it (aio_wait.c). */
	a->nowait_added = false;
	a->kiocb.aio_rw_flags &= ~(uint32_t)WIRE_RWF_NOWAIT;
	if (a->early_fail) {
		ret = kaio_submit(a->ctx->ad->kctx, &a->kiocb);
		return ret < 0 ? ret : 0;
	}
	a->slow = true;
	return slow_start(a);
}

/*
 * Start a request routed to the daemon or the loop.  Returns 0 once it is
 * submitted (it may have completed already), or the kernel's errno.
 */
int areq_start(struct areq *a)
{
	int ret;

	switch (a->route) {
	case RT_SELF:
		if (a->op == IOCB_CMD_POLL)
			self_poll(a);
		else
			self_read(a);
		return 0;
	case RT_LOOP:
		if (a->slow)
			return slow_start(a);
		ret = kaio_submit(a->ctx->ad->kctx, &a->kiocb);
		return loop_refused(a, ret < 0 ? ret : 0);
	case RT_WORKER:
		break;
	}
	return -EINVAL;
}

/* ---- jobs: a write's requests started, handed over, batched --------- */

/*
 * Start a prepared request on the loop and account for its record.  It
 * may complete (and be freed) inside: nothing touches it afterwards.
 * Returns: 0, or the kernel's errno (the request is undone).
 */
int job_start(struct sjob *job, struct areq *a)
{
	enum aroute route = a->route;
	size_t end = a->rec_end;
	int ret;

	if (route == RT_SELF)
		areq_trace_submit(a, 0); /* it may complete inside */
	ret = areq_start(a);
	if (route != RT_SELF)
		areq_trace_submit(a, ret); /* completions are reaped below */
	if (ret) {
		areq_unprepare(a);
		return ret;
	}
	/* What the kernel completed inside io_submit is queued before the
	 * write returns, as in the kernel's ring (A42, A54). */
	if (route == RT_LOOP)
		aiod_kernel_events(job->ctx->ad);
	job->off = job->accepted = end;
	return 0;
}

/*
 * Keep what the loop has not read of the write: libfuse reuses its buffer
 * for the next request while a worker has the job.  The records already
 * prepared have their data in their requests (build_rw()), so a write's
 * payload is copied once, not twice (it was, whole, into the job and
 * again into each request: 256 KiB PWRITEs cost the loop two copies).
 * Offsets stay those of the write (job->base).  Without memory, the rest is left
 * unread: the write is answered with the bytes accepted, a short count
 * that the library resubmits from.
 */
static void job_keep_rest(struct sjob *job)
{
	char *own;

	if (job->own || job->off >= job->len)
		return;
	own = malloc(job->len - job->off);
	if (!own) {
		job->len = job->off;
		return;
	}
	memcpy(own, job_rest(job), job->len - job->off);
	job->own = own;
	job->buf = own;
	job->base = job->off;
}

void job_dispatch(struct sjob *job)
{
	unsigned int i;

	job_keep_rest(job);

	for (i = 0; i < job->nrun; i++) {
		job->run[i]->job = job;
		job->run[i]->wres = 1;
	}
	job_fcache_drop(job);	  /* see struct sjob */
	job_watch_interrupt(job); /* aio_wait.c */
	pool_push(&job->ctx->ad->pool, job);
}

/*
 * A regular file's transfer the loop would copy itself counts against the
 * write's share of the loop (AIOD_LOOP_JOB_MAX): past it, @a goes to a
 * worker, as it would have without the loop.
 */
void job_loop_share(struct sjob *job, struct areq *a)
{
	if (a->route != RT_LOOP || !a->loop_copy ||
	    job->loop_bytes + a->buflen <= AIOD_LOOP_JOB_MAX)
		return;
	a->loop_copy = false;
	a->nowait_try = false;
	a->kiocb.aio_rw_flags &= ~(uint32_t)WIRE_RWF_NOWAIT;
	a->route = RT_WORKER;
}

/*
 * Submit the loop's batch @lb[0, @n), requests prepared in a row for the
 * loop, with as few io_submit calls as the kernel allows, then reap once
 * what it completed inside them (A42, A54): their reads' data goes back
 * in one call per submitter (ring_deliver_batch()), not one per request.
 * Like io_submit, it stops at the first request refused: that one and
 * those after it are undone, and its errno is returned.
 */
int job_flush_batch(struct sjob *job, struct areq **lb, unsigned int n)
{
	struct aiod *ad = job->ctx->ad;
	void *cbs[AIOD_RUN_MAX];
	unsigned int i = 0, k;
	int ret = 0;

	for (k = 0; k < n; k++)
		cbs[k] = &lb[k]->kiocb;
	while (i < n) {
		ret = kaio_submit_many(ad->kctx, (int)(n - i), cbs + i);
		if (ret > 0) {
			for (k = i; k < i + (unsigned int)ret; k++)
				areq_trace_submit(lb[k], 0);
			i += (unsigned int)ret;
			ret = 0;
			continue;
		}
		ret = loop_refused(lb[i], ret ? ret : -EAGAIN);
		areq_trace_submit(lb[i], ret);
		if (ret)
			break;
		i++;
	}
	for (k = i; k < n; k++)
		areq_unprepare(lb[k]);
	if (i) {
		job->accepted = lb[i - 1]->rec_end;
		aiod_kernel_events(ad);
	}
	return ret;
}
