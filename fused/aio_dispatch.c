// SPDX-License-Identifier: GPL-2.0-only
/*
 * The AIO control files (issue 3): each open of `aio` or `aio.txt` is one
 * context (struct aiod_ctx), io_setup's object; a write submits (aio_submit.c),
 * a read returns completions, poll reports POLLIN while some wait, and the
 * last close is io_destroy.  This file owns contexts, completions and the
 * daemon-wide machinery: the one kernel AIO context, whose completions
 * reach the loop through an eventfd (every kernel iocb has IOCB_FLAG_RESFD
 * set to it), and the worker pool's hand-back eventfd.
 *
 * A completion, in the kernel's order (A56):
 *
 *   areq_complete()
 *     1. the event is queued on its context   (a read finds it from now on)
 *     2. RESFD +1: a counter of this mount (cnode_signal), or a kernel
 *        eventfd, signalled by the kernel itself (see ksignal())
 *     3. parked reads of the context run, its pollers are notified
 *
 * so a program that sees its counter go up and then reads the control file
 * with O_NONBLOCK always finds the event.  Errors, cancelled POLLs and the
 * completions of a closed context signal too (A57, A17); only the event of
 * a closed context is dropped, as io_destroy drops its ring.
 *
 * Reads return whole EVENT records (wire.h), as many as fit, at least one;
 * a buffer too small for the first is EINVAL and nothing is consumed.  An
 * event leaves its queue only once the reply carrying it was accepted.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "aiod_i.h"
#include "ring_cpus_i.h"
#include "kaio.h"

#define REAP_BATCH 64

const char *aiod_opname(uint16_t op)
{
	if (op < 9 && evfdfs_wire_opnames[op])
		return evfdfs_wire_opnames[op];
	return "?";
}

void aevent_free(struct aiod *ad, struct aevent *e)
{
	if (e->mem)
		auser_buf_release(ad, e->user, e->memsize);
	free(e->mem);
	free(e->tag);
	free(e);
}

void areq_free(struct areq *a)
{
	struct aiod *ad = a->ctx->ad;

	slow_unwait(a);
	afile_put(&a->file);
	if (a->rcn)
		cnode_put(a->rcn);
	if (a->rfd >= 0)
		close(a->rfd);
	if (a->mem) {
		auser_buf_release(ad, a->ctx->user, a->memsize);
		free(a->mem);
	}
	free(a->iov);
	free(a->uiov);
	xpid_put(a->xpid);
	free(a->tag);
	free(a->path);
	free(a);
}

void actx_maybe_free(struct aiod_ctx *ctx)
{
	if (ctx->h || ctx->inflight)
		return;
	ctx_pidfds_close(ctx);
	ring_detach(ctx);
	opener_drop(&ctx->opener);
	list_del_init(&ctx->link);
	auser_detach(ctx);
	free(ctx);
}

bool ctx_full(const struct aiod_ctx *ctx)
{
	if (ctx->ring.on)
		return ring_full(ctx);
	return ctx->inflight + ctx->nevents >= ctx->nr_events;
}

/*
 * io_setup's rules for @nr_events (A10-A12): 0 or too many for a ring is
 * EINVAL; beyond the daemon-wide limit (-o aio_max, by default the value
 * of aio-max-nr when the daemon started) is EAGAIN.  Returns 0 or -errno.
 */
int ctx_setup(struct aiod_ctx *ctx, uint32_t nr_events, pid_t pid,
	      const struct wire_ring_setup *rs)
{
	struct aiod *ad = ctx->ad;
	uint64_t max = ad->fs->opts.aio_max;
	int ret;

	if (ctx->setup || ctx->ring.destroyed || (rs && rs->on && ctx->text))
		return -EINVAL; /* "ctx must be 0" */
	ret = wire_setup_check(nr_events, ad->ncpus);
	if (ret)
		return ret;
	if (nr_events > max || ad->total_nr + nr_events > max)
		return -EAGAIN;
	if (rs && rs->on) {
		ret = ring_attach(ctx, rs, nr_events, pid);
		if (ret)
			return ret;
	}
	ad->total_nr += nr_events;
	ctx->nr_events = nr_events;
	ctx->setup = true;
	ctx->pid = pid;
	if (trace_on(ad->fs))
		trace_emit(ad->fs, ctx->owner,
			   "aio-setup aio:%llu ctx=%llu pid=%d nr=%u",
			   (unsigned long long)ctx->id,
			   (unsigned long long)ctx->id, (int)pid, nr_events);
	return 0;
}

/* ---- RESFD of a kernel eventfd -------------------------------------- */

/*
 * Signal a kernel eventfd exactly as kernel AIO does (+1, saturating at
 * 0xffffffffffffffff, never blocking, an EPOLLIN wake-up: A55): by letting
 * the kernel do it.  A POLL iocb on an eventfd that is always readable
 * completes inside io_submit(), and its completion signals its RESFD.  A
 * write(2) of 1 could block the loop (or fail) near the top of the count.
 * The dummy's event is reaped and dropped (aio_data 0).  Takes @rfd.
 */
static void ksignal(struct aiod *ad, int rfd)
{
	struct iocb cb;
	int *q;

	if (!ad->ksig) {
		if (ad->nsigq == ad->sigq_cap) {
			q = realloc(ad->sigq,
				    (ad->sigq_cap * 2 + 16) * sizeof(*q));
			if (!q) {
				evfdfs_log("error", "aio: RESFD signal lost: "
						    "out of memory");
				close(rfd);
				return;
			}
			ad->sigq = q;
			ad->sigq_cap = ad->sigq_cap * 2 + 16;
		}
		ad->sigq[ad->nsigq++] = rfd; /* after the next reap */
		return;
	}
	memset(&cb, 0, sizeof(cb));
	cb.aio_lio_opcode = IOCB_CMD_POLL;
	cb.aio_fildes = (uint32_t)ad->ready_fd;
	cb.aio_buf = POLLIN;
	cb.aio_flags = IOCB_FLAG_RESFD;
	cb.aio_resfd = (uint32_t)rfd;
	if (kaio_submit(ad->kctx, &cb) == 1)
		ad->ksig--;
	else
		evfdfs_log("error", "aio: RESFD signal failed");
	close(rfd);
	/* Nothing else may wake the reaper for the dummy's slot. */
	eventfd_write(ad->ksrc.fd, 1);
}

static void flush_sigq(struct aiod *ad)
{
	unsigned int i = 0;

	while (i < ad->nsigq && ad->ksig)
		ksignal(ad, ad->sigq[i++]);
	if (i == 0)
		return; /* sigq may be NULL: memmove(NULL, ...) is undefined */
	memmove(ad->sigq, ad->sigq + i, (ad->nsigq - i) * sizeof(*ad->sigq));
	ad->nsigq -= i;
}

/* ---- completions ---------------------------------------------------- */

static struct aevent *event_new(struct areq *a, int64_t res)
{
	struct aevent *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->ev.data = a->data;
	e->ev.obj = a->obj;
	e->ev.res = res;
	e->op = a->op;
	e->counter_data = a->file.kind == AF_COUNTER;
	e->tag = a->tag;
	a->tag = NULL;
	if ((a->op == IOCB_CMD_PREAD || a->op == IOCB_CMD_PREADV) && res > 0 &&
	    a->buf && !a->whole) {
		e->datalen = (uint64_t)res < a->buflen ? (uint32_t)res
						       : (uint32_t)a->buflen;
		if (a->spread)
			aiod_gather(a, e->datalen);
		if (a->direct) { /* put in place: the event carries none */
			e->ev.res = xfer_complete_read(a, res);
			e->datalen = 0;
			return e;
		}
		e->data = a->buf;
		e->mem = a->mem;
		e->memsize = a->memsize;
		e->user = a->ctx->user;
		a->mem = a->buf = NULL;
		a->buflen = a->memsize = 0;
	}
	return e;
}

/**
 * areq_complete() - the request is done with @res (bytes, a poll mask, 0
 * or -errno): queue its event, signal its RESFD, wake its readers, in that
 * order (A56).  Frees @a unless a submitting job still refers to it.
 */
void areq_complete(struct areq *a, int64_t res)
{
	struct aiod_ctx *ctx = a->ctx;
	struct aiod *ad = ctx->ad;
	struct evfdfs *fs = ad->fs;
	struct aevent *e;

	if (a->watching) {
		cnode_unwatch(&a->wt);
		a->watching = false;
	}
	/* A worker's synchronous completion can be reaped before the worker
	 * is back: the submission is told first all the same. */
	areq_trace_submit(a, 0);
	if (trace_on(fs)) {
		char key[AREQ_KEY_MAX];

		trace_emit(fs, ctx->owner,
			   "aio-complete aio:%llu ctx=%llu pid=%d op=%s key=%s "
			   "res=%lld",
			   (unsigned long long)ctx->id,
			   (unsigned long long)ctx->id, (int)a->pid,
			   aiod_opname(a->op), areq_key(a, key),
			   (long long)res);
	}
	list_del_init(&a->link);
	e = NULL;
	if (ctx->ring.on) {
		struct io_event ev = { .data = a->data, .obj = a->obj };

		if (!a->direct)
			res = ring_deliver(a, res);
		else if (!a->whole &&
			 (a->op == IOCB_CMD_PREAD || a->op == IOCB_CMD_PREADV))
			res = xfer_complete_read(a, res); /* put in place */
		ev.res = res;
		if (ctx->h && !ctx->ring.destroyed)
			ring_publish(ctx, &ev);
	} else {
		e = event_new(a, res);
		if (!e)
			evfdfs_log("error",
				   "aio: ctx %llu: event lost: out of memory",
				   (unsigned long long)ctx->id);
	}
	if (e && ctx->h) {
		list_add_tail(&e->link, &ctx->events);
		ctx->nevents++;
	} else if (e) {
		aevent_free(ad, e); /* its context is closed */
	}
	if (a->rcn) {
		cnode_signal(a->rcn, a->pid, ctx->id);
		cnode_put(a->rcn);
		a->rcn = NULL;
	} else if (a->rfd >= 0) {
		ksignal(ad, a->rfd);
		a->rfd = -1;
	}
	if (ctx->h) {
		waitq_run(&ctx->rq);
		handle_notify(ctx->h, POLLIN);
	}
	afile_put(&a->file);
	ctx->inflight--;
	if (a->op < 9)
		ctx->by_op[a->op]--;
	if (ctx->ring.destroyed)
		ring_ctl_update(ctx); /* the library's io_destroy waits */
	if (a->job)
		a->completed = true;
	else
		areq_free(a);
	actx_maybe_free(ctx);
}

/* Reap the daemon's kernel context; never blocks. */
void aiod_kernel_events(struct aiod *ad)
{
	struct io_event evs[REAP_BATCH];
	int n, i;

	do {
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
	} while (n == REAP_BATCH);
	flush_sigq(ad);
}

static void kernel_ready(struct loop_source *src, uint32_t events)
{
	uint64_t v;

	(void)events;
	if (read(src->fd, &v, sizeof(v)) < 0) {
		/* EAGAIN: a reap already emptied it */
	}
	aiod_kernel_events(src->data);
}

static void pool_ready(struct loop_source *src, uint32_t events)
{
	struct aiod *ad = src->data;
	struct sjob *job;
	struct areq *a;
	uint64_t v;

	(void)events;
	if (read(src->fd, &v, sizeof(v)) < 0) {
		/* EAGAIN: nothing new */
	}
	while ((job = pool_pop_done(&ad->pool)))
		job_worker_done(job);
	while ((a = pool_pop_rdone(&ad->pool)))
		slow_worker_done(a); /* aio_wait.c */
}

/**
 * aiod_cancel() - io_cancel (A75-A78): the oldest pending POLL of @ctx
 * whose obj is @obj (binary form) or whose tag is @tag (aio.txt).
 * Returns: -EINPROGRESS when it was cancelled (its res-0 event follows,
 * signalling RESFD); -EINVAL when there is no such pending POLL.
 */
int aiod_cancel(struct aiod_ctx *ctx, uint64_t obj, const char *tag, pid_t pid)
{
	struct aiod *ad = ctx->ad;
	struct list_head *pos;
	int ret;

	aiod_kernel_events(ad); /* what already completed is not pending */
	list_for_each (pos, &ctx->reqs) {
		struct areq *a = list_entry(pos, struct areq, link);

		if (a->op != IOCB_CMD_POLL || a->cancelling || a->job)
			continue;
		if (tag ? !a->tag || strcmp(a->tag, tag) : a->obj != obj)
			continue;
		if (trace_on(ad->fs)) {
			char key[AREQ_KEY_MAX];

			trace_emit(ad->fs, ctx->owner,
				   "aio-cancel aio:%llu ctx=%llu pid=%d key=%s "
				   "op=poll",
				   (unsigned long long)ctx->id,
				   (unsigned long long)ctx->id, (int)pid,
				   areq_key(a, key));
		}
		if (a->route == RT_SELF) {
			if (!a->watching)
				continue;
			areq_complete(a, 0);
			return -EINPROGRESS;
		}
		ret = kaio_cancel(ad->kctx, &a->kiocb);
		if (ret == -EINPROGRESS) {
			a->cancelling = true;
			return ret;
		}
	}
	return -EINVAL;
}

/* ---- the daemon-wide part ------------------------------------------- */

int aiod_init(struct evfdfs *fs)
{
	struct aiod *ad = calloc(1, sizeof(*ad));
	const char *knob = getenv("EVFDFS_AIOD_NO_PIDFD");
	int ret;

	if (!ad)
		return -ENOMEM;
	ad->fs = fs;
	ad->ksrc.fd = -1;
	ad->ready_fd = -1;
	ad->pool.done_fd = -1;
	ad->wait_epfd = -1;
	ad->tsrc.fd = -1;
	ad->next_ctx_id = 1;
	list_init(&ad->ctxs);
	list_init(&ad->dying);
	list_init(&ad->users);
	ad->ncpus = evfdfs_possible_cpus();
	ad->no_pidfd = knob && *knob && strcmp(knob, "0");
	knob = getenv("EVFDFS_AIOD_NO_DIRECT");
	ad->no_direct = knob && *knob && strcmp(knob, "0");
	fs->aio = ad; /* aiod_fini() undoes a partial init */

	ret = aiod_mount_ids(fs->mountpoint, &ad->mnt_dev, &ad->mnt_id);
	if (ret) {
		evfdfs_log("error", "aio: cannot stat the mount point: %s",
			   strerror(-ret));
		return ret;
	}
	ret = kaio_setup(AIOD_KAIO_NR, &ad->kctx);
	if (ret) {
		evfdfs_log("error", "aio: io_setup(%u): %s", AIOD_KAIO_NR,
			   strerror(-ret));
		ad->kctx = NULL;
		return ret;
	}
	ad->kslots = AIOD_KSLOTS;
	ad->ksig = AIOD_KAIO_SIGNAL;
	ad->ksrc.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ad->ready_fd = eventfd(1, EFD_NONBLOCK | EFD_CLOEXEC);
	if (ad->ksrc.fd < 0 || ad->ready_fd < 0)
		return -errno;
	ad->ksrc.ready = kernel_ready;
	ad->ksrc.data = ad;
	ret = pool_start(&ad->pool, (unsigned int)fs->opts.aio_workers,
			 ad->kctx);
	if (ret)
		return ret;
	ad->wsrc.fd = ad->pool.done_fd;
	ad->wsrc.ready = pool_ready;
	ad->wsrc.data = ad;
	ret = loop_add(fs, &ad->ksrc, EPOLLIN);
	if (!ret)
		ret = loop_add(fs, &ad->wsrc, EPOLLIN);
	if (!ret)
		ret = wait_init(ad);
	return ret;
}

static void actx_destroy(struct aiod_ctx *ctx)
{
	struct aiod *ad = ctx->ad;

	while (!list_empty(&ctx->events)) {
		struct aevent *e =
			list_entry(ctx->events.next, struct aevent, link);

		list_del_init(&e->link);
		aevent_free(ad, e);
	}
	while (!list_empty(&ctx->reqs)) {
		struct areq *a = list_entry(ctx->reqs.next, struct areq, link);

		if (a->watching)
			cnode_unwatch(&a->wt);
		list_del_init(&a->link);
		if (a->holds_slot)
			auser_slot_put(ctx);
		a->holds_slot = false;
		areq_free(a);
	}
	free(ctx->tout);
	ctx_pidfds_close(ctx);
	opener_drop(&ctx->opener);
	list_del_init(&ctx->link);
	auser_detach(ctx);
	free(ctx);
}

/*
 * At exit: the connection is gone, so jobs are dropped without a reply
 * (the kernel fails their callers with ENOTCONN), then io_destroy waits
 * for the kernel's in-flight I/O, and everything is freed.
 */
void aiod_fini(struct evfdfs *fs)
{
	struct aiod *ad = fs->aio;
	struct sjob *job;
	struct areq *a;
	unsigned int i;

	if (!ad)
		return;
	if (ad->ksrc.fd >= 0)
		loop_del(fs, &ad->ksrc);
	if (ad->pool.done_fd >= 0)
		loop_del(fs, &ad->wsrc);
	pool_stop(&ad->pool);
	while ((job = pool_pop_done(&ad->pool))) {
		for (i = 0; i < job->nrun; i++)
			job->run[i]->job = NULL;
		if (job->ctx->text && job->cur)
			job->cur->job = NULL;
		fuse_reply_none(job->req);
		job->accepted = 0;
		job_fcache_drop(job);
		cred_free(&job->who);
		free(job->scratch);
		free(job->own);
		free(job);
	}
	while ((a = pool_pop_rdone(&ad->pool)))
		a->at_worker = false; /* freed with its context below */
	if (ad->kctx)
		kaio_destroy(ad->kctx);
	while (!list_empty(&ad->ctxs))
		actx_destroy(list_entry(ad->ctxs.next, struct aiod_ctx, link));
	while (!list_empty(&ad->dying))
		actx_destroy(list_entry(ad->dying.next, struct aiod_ctx, link));
	wait_fini(ad);
	for (i = 0; i < ad->nsigq; i++)
		close(ad->sigq[i]);
	free(ad->sigq);
	auser_free_all(ad);
	if (ad->ksrc.fd >= 0)
		close(ad->ksrc.fd);
	if (ad->ready_fd >= 0)
		close(ad->ready_fd);
	free(ad->rbuf);
	free(ad);
	fs->aio = NULL;
}

/* ---- one context ---------------------------------------------------- */

/*
 * The context acts with @req's caller's credentials from now on, whoever
 * writes to it (aio_cred.c); they are let go of when the context is freed,
 * not at release: a worker may still be opening a line's path with them.
 */
int aiod_open(fuse_req_t req, struct handle *h, bool text)
{
	struct aiod *ad = h->fs->aio;
	struct aiod_ctx *ctx;
	int ret;

	if (!ad)
		return -EOPNOTSUPP; /* never ENOSYS: see op_open() */
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	ret = opener_take(&ctx->opener, req, text);
	if (ret) {
		opener_drop(&ctx->opener);
		free(ctx);
		return ret;
	}
	ctx->ad = ad;
	ctx->h = h;
	ctx->owner = h->owner;
	if (auser_attach(ctx)) {
		opener_drop(&ctx->opener);
		free(ctx);
		return -ENOMEM;
	}
	ctx->id = ad->next_ctx_id++;
	ctx->text = text;
	list_init(&ctx->events);
	list_init(&ctx->reqs);
	waitq_init(&ctx->rq);
	list_add_tail(&ctx->link, &ad->ctxs);
	h->u.aio = ctx;
	if (trace_on(h->fs))
		trace_emit(
			h->fs, ctx->owner,
			"aio-open aio:%llu ctx=%llu pid=%d form=%s handle=%llu",
			(unsigned long long)ctx->id,
			(unsigned long long)ctx->id, (int)h->pid,
			text ? "text" : "binary", (unsigned long long)h->id);
	return 0;
}

/* The first pending request that closing must cancel, or NULL. */
static struct areq *next_to_cancel(struct aiod_ctx *ctx)
{
	struct list_head *pos;

	list_for_each (pos, &ctx->reqs) {
		struct areq *a = list_entry(pos, struct areq, link);

		if (!a->cancelling)
			return a;
	}
	return NULL;
}

/*
 * End what would never end by itself (see aiod_release()): io_destroy's
 * cancellations, at DESTROY or at the last close.
 */
static void ctx_kill(struct aiod_ctx *ctx)
{
	struct aiod *ad = ctx->ad;
	struct areq *a;

	/*
	 * A completion may complete others of this context: rescan.  The
	 * loop holds one count of inflight itself, so that the completion
	 * of the last request (actx_maybe_free) cannot free ctx under it.
	 */
	ctx->inflight++;
	while (ctx->inflight > 1 && (a = next_to_cancel(ctx))) {
		a->cancelling = true;
		if (a->watching) {
			areq_complete(a, a->op == IOCB_CMD_POLL ? 0 : -EINTR);
			continue;
		}
		if (a->route == RT_SELF)
			continue;
		if (a->slow) {
			slow_cancel(a); /* aio_wait.c */
			continue;
		}
		if (a->kphase == KP_WAIT)
			kaio_cancel(ad->kctx, &a->kpoll);
		else if (a->op == IOCB_CMD_POLL)
			kaio_cancel(ad->kctx, &a->kiocb);
	}
	ctx->inflight--;
	ring_ctl_update(ctx);
	actx_maybe_free(ctx);
}

/*
 * DESTROY (a context with a ring): io_destroy's first half, while the
 * library still holds the file.  Capacity back (A12), no more submits,
 * cancellations; the library waits on the control page for the rest.
 */
static int ctx_destroy(struct aiod_ctx *ctx, pid_t pid)
{
	if (!ctx->ring.on || ctx->ring.destroyed)
		return -EINVAL;
	ctx->ring.destroyed = true;
	ctx->ad->total_nr -= ctx->nr_events;
	ctx->setup = false;
	if (trace_on(ctx->ad->fs))
		trace_emit(ctx->ad->fs, ctx->owner,
			   "aio-destroy aio:%llu ctx=%llu pid=%d inflight=%u",
			   (unsigned long long)ctx->id,
			   (unsigned long long)ctx->id, (int)pid,
			   ctx->inflight);
	ring_ctl_update(ctx);
	ctx_kill(ctx);
	waitq_abort(&ctx->rq, EINTR);
	if (ctx->h)
		handle_notify(ctx->h, POLLIN | POLLHUP);
	return 0;
}

/**
 * aiod_release() - io_destroy (A17): the capacity goes back to the
 * daemon-wide pool at once (A12); pending POLLs are cancelled and complete
 * with res 0, signalling their RESFD; a stream or character device
 * transfer waiting for readiness, or a read of an empty counter, completes
 * with -EINTR (on Linux it would hold its submitter inside io_submit, and
 * end that way if the submitter is killed), and a character device
 * transfer asleep on a worker has that worker kicked (aio_wait.c), ending
 * the same way; in-flight I/O is left to finish, with the context
 * kept on the dying list until its last completion, never blocking the
 * loop.
 */
void aiod_release(struct handle *h)
{
	struct aiod_ctx *ctx = h->u.aio;
	struct aiod *ad = ctx->ad;

	h->u.aio = NULL;
	ctx->h = NULL;
	if (trace_on(h->fs))
		trace_emit(
			h->fs, ctx->owner,
			"aio-release aio:%llu ctx=%llu inflight=%u events=%u",
			(unsigned long long)ctx->id,
			(unsigned long long)ctx->id, ctx->inflight,
			ctx->nevents);
	if (ctx->setup)
		ad->total_nr -= ctx->nr_events;
	waitq_abort(&ctx->rq, EINTR);
	while (!list_empty(&ctx->events)) {
		struct aevent *e =
			list_entry(ctx->events.next, struct aevent, link);

		list_del_init(&e->link);
		aevent_free(ad, e);
	}
	ctx->nevents = 0;
	ctx_pidfds_close(ctx); /* no write comes after the release */
	free(ctx->tout);
	ctx->tout = NULL;
	ctx->tout_len = ctx->tout_off = ctx->tout_cap = 0;
	list_del_init(&ctx->link);
	list_add_tail(&ctx->link, &ad->dying);
	ctx_kill(ctx);
}

static int read_try(struct waiter *w);

/*
 * Room for a reply of @len bytes: the daemon's kept buffer when it is
 * within AIOD_RBUF_KEEP (a batch's events every time: a fresh block of
 * 130 KiB cost the loop a brk, its page faults and a trim per read),
 * else a block of its own that the caller frees.
 */
static char *reply_buf(struct aiod *ad, size_t len)
{
	char *p;

	if (len > AIOD_RBUF_KEEP)
		return malloc(len);
	if (len <= ad->rbuf_size)
		return ad->rbuf;
	p = realloc(ad->rbuf, len);
	if (!p)
		return NULL;
	ad->rbuf = p;
	ad->rbuf_size = len;
	return p;
}

/* Pack as many whole events as fit in @size; reply; consume on success. */
static int read_binary(struct aiod_ctx *ctx, fuse_req_t req, size_t size)
{
	struct list_head *pos;
	size_t total = 0, n = 0, i;
	char *out;

	list_for_each (pos, &ctx->events) {
		struct aevent *e = list_entry(pos, struct aevent, link);
		size_t rs = wire_event_size(e->datalen);

		if (total + rs > size)
			break;
		total += rs;
		n++;
	}
	if (!n) {
		fuse_reply_err(req, EINVAL); /* too small for the first */
		return 0;
	}
	out = reply_buf(ctx->ad, total);
	if (!out) {
		fuse_reply_err(req, ENOMEM);
		return 0;
	}
	total = 0;
	pos = ctx->events.next;
	for (i = 0; i < n; i++, pos = pos->next) {
		struct aevent *e = list_entry(pos, struct aevent, link);

		wire_event_pack(out + total, &e->ev, e->data, e->datalen);
		total += wire_event_size(e->datalen);
	}
	if (fuse_reply_buf(req, out, total) == 0) {
		for (i = 0; i < n; i++) {
			struct aevent *e = list_entry(ctx->events.next,
						      struct aevent, link);

			list_del_init(&e->link);
			aevent_free(ctx->ad, e);
			ctx->nevents--;
		}
	}
	if (out != ctx->ad->rbuf)
		free(out);
	return 0;
}

/* aio.txt: the formatted lines, in whatever pieces the reader asks for. */
static int read_text(struct aiod_ctx *ctx, fuse_req_t req, size_t size)
{
	size_t avail;

	text_format_events(ctx);
	avail = ctx->tout_len - ctx->tout_off;
	if (!avail)
		return -EAGAIN;
	if (size > avail)
		size = avail;
	if (fuse_reply_buf(req, ctx->tout + ctx->tout_off, size) == 0)
		ctx->tout_off += size;
	if (ctx->tout_off == ctx->tout_len)
		ctx->tout_off = ctx->tout_len = 0;
	return 0;
}

static int read_try(struct waiter *w)
{
	struct aiod_ctx *ctx = w->h->u.aio;

	if (ctx->text)
		return read_text(ctx, w->req, w->size);
	if (list_empty(&ctx->events))
		return -EAGAIN;
	return read_binary(ctx, w->req, w->size);
}

/**
 * aiod_read() - io_getevents over read(2).
 * Valid replies: fuse_reply_buf (whole EVENT records; aio.txt: text),
 * fuse_reply_err (EINVAL: before SETUP, or a buffer too small for the
 * first record; EAGAIN with O_NONBLOCK; ENOMEM; EINTR later if
 * interrupted); or parks until a completion.
 */
void aiod_read(fuse_req_t req, struct handle *h, size_t size, int flags)
{
	struct aiod_ctx *ctx = h->u.aio;

	if (!ctx->text && !ctx->setup) {
		fuse_reply_err(req, EINVAL); /* io_getevents on no context */
		return;
	}
	waitq_read(&ctx->rq, req, h, W_AIO_READ, read_try, size, flags);
}

/**
 * aiod_write() - SETUP, CANCEL (each alone in its write) or SUBMIT records
 * (aio.txt: request lines).
 * Valid replies: fuse_reply_write (the bytes of the records accepted),
 * fuse_reply_err (the first record's errno; EINPROGRESS for a successful
 * CANCEL); possibly later, when a worker is back (aio_submit.c).
 */
void aiod_write(fuse_req_t req, struct handle *h, const char *buf, size_t size,
		int flags)
{
	struct aiod_ctx *ctx = h->u.aio;
	pid_t pid = fuse_req_ctx(req)->pid;
	struct evfdfs_wire_hdr hdr;
	struct wire_ring_setup rs;
	struct sjob *job;
	uint32_t nr;
	uint64_t obj;
	int ret;

	(void)flags;
	if (!ctx->text) {
		ret = wire_frame(buf, size, &hdr);
		if (ret)
			goto out;
		if (hdr.type == EVFDFS_WIRE_SETUP) {
			ret = hdr.len == size ? wire_decode_setup(buf, hdr.len,
								  &nr, &rs)
					      : -EINVAL;
			if (!ret)
				ret = ctx_setup(ctx, nr, pid, &rs);
			if (!ret) {
				fuse_reply_write(req, size);
				return;
			}
			goto out;
		}
		if (!ctx->setup) {
			ret = -EINVAL; /* io_submit on no context */
			goto out;
		}
		if (!ring_may_submit(ctx, pid)) {
			ret = -EINVAL; /* another process's context (A15) */
			goto out;
		}
		if (hdr.type == EVFDFS_WIRE_DESTROY) {
			ret = hdr.len == size
				      ? wire_decode_destroy(buf, hdr.len)
				      : -EINVAL;
			if (!ret)
				ret = ctx_destroy(ctx, pid);
			if (!ret) {
				fuse_reply_write(req, size);
				return;
			}
			goto out;
		}
		if (hdr.type == EVFDFS_WIRE_CANCEL) {
			ret = hdr.len == size
				      ? wire_decode_cancel(buf, hdr.len, &obj)
				      : -EINVAL;
			if (!ret)
				ret = aiod_cancel(ctx, obj, NULL, pid);
			goto out;
		}
	}
	job = job_new(req, ctx, buf, size);
	if (!job) {
		ret = -ENOMEM;
		goto out;
	}
	job_step(job);
	return;
out:
	fuse_reply_err(req, -ret);
}

/* POLLOUT always (a submit never waits for room: it fails with EAGAIN);
 * POLLIN while completions are waiting. */
unsigned int aiod_poll(struct handle *h)
{
	struct aiod_ctx *ctx = h->u.aio;
	unsigned int mask = POLLOUT | POLLWRNORM;

	if (ctx->nevents || ctx->tout_len > ctx->tout_off || ring_waiting(ctx))
		mask |= POLLIN | POLLRDNORM;
	if (ctx->ring.destroyed)
		mask |= POLLIN | POLLRDNORM | POLLHUP;
	return mask;
}

static void status_ctx(struct sbuf *sb, const struct cred *reader,
		       const struct aiod_ctx *ctx)
{
	if (!cred_may(reader, ctx->owner, MAY_READ))
		return;
	sbuf_printf(sb,
		    "aio ctx=%llu handle=%llu pid=%d form=%s open=%d "
		    "nr_events=%u inflight=%u pread=%u pwrite=%u fsync=%u "
		    "fdsync=%u poll=%u preadv=%u pwritev=%u events=%u "
		    "ring_nr=%u ring_head=%u ring_tail=%u ring_waiting=%u\n",
		    (unsigned long long)ctx->id,
		    ctx->h ? (unsigned long long)ctx->h->id : 0ull,
		    (int)ctx->pid, ctx->text ? "text" : "binary",
		    ctx->h != NULL, ctx->nr_events, ctx->inflight,
		    ctx->by_op[IOCB_CMD_PREAD], ctx->by_op[IOCB_CMD_PWRITE],
		    ctx->by_op[IOCB_CMD_FSYNC], ctx->by_op[IOCB_CMD_FDSYNC],
		    ctx->by_op[IOCB_CMD_POLL], ctx->by_op[IOCB_CMD_PREADV],
		    ctx->by_op[IOCB_CMD_PWRITEV], ctx->nevents, ctx->ring.nr,
		    ctx->ring.on ? ring_head(ctx) : 0, ctx->ring.tail,
		    ring_waiting(ctx));
}

void aiod_status(struct evfdfs *fs, const struct cred *reader, struct sbuf *sb)
{
	struct aiod *ad = fs->aio;
	struct list_head *pos;

	sbuf_printf(sb,
		    "aiod capacity=%llu/%llu kernel_slots=%u/%u workers=%u "
		    "buffered=%zu buffer_max=%u user_share=%u\n",
		    (unsigned long long)ad->total_nr,
		    (unsigned long long)fs->opts.aio_max, ad->kslots,
		    AIOD_KSLOTS, ad->pool.nthreads, ad->buf_bytes, AIOD_BUF_MAX,
		    fs->opts.aio_user_share);
	auser_status(ad, reader, sb);
	list_for_each (pos, &ad->ctxs)
		status_ctx(sb, reader, list_entry(pos, struct aiod_ctx, link));
	list_for_each (pos, &ad->dying)
		status_ctx(sb, reader, list_entry(pos, struct aiod_ctx, link));
}
