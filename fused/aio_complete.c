// SPDX-License-Identifier: GPL-2.0-only
/*
 * Completions, the request engine's last step (fused/LAYERS): a request's
 * end, its trace lines, its RESFD signal, its memory.  The event goes into
 * the context's queue or ring (aio_event.c, aio_ring.c: below this file)
 * and the context's readers are woken here.
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
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "aiod_i.h"
#include "kaio.h"

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
	/* The dummy completed inside io_submit: a reap in progress takes
	 * its event before it returns (aiod_kernel_events()); otherwise
	 * nothing else may wake the reaper for the dummy's slot. */
	if (ad->reaping)
		ad->dummy_out = true;
	else
		eventfd_write(ad->ksrc.fd, 1);
}

/* Signals that waited for a slot, once the reaper gave some back. */
void ksignal_flush(struct aiod *ad)
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
		e = aevent_new(a, res);
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

/* What matches a request's aio-submit and aio-complete lines. */
const char *areq_key(const struct areq *a, char buf[AREQ_KEY_MAX])
{
	if (a->tag)
		return a->tag;
	snprintf(buf, AREQ_KEY_MAX, "%llu", (unsigned long long)a->data);
	return buf;
}

/*
 * The aio-submit line of @a, once: before anything it causes (its
 * completion, its RESFD's signal), whichever path tells it first.
 */
void areq_trace_submit(struct areq *a, int res)
{
	struct aiod_ctx *ctx = a->ctx;
	struct evfdfs *fs = ctx->ad->fs;
	char key[AREQ_KEY_MAX], resfd[40] = "";

	if (a->submit_traced)
		return;
	a->submit_traced = true;
	if (!trace_on(fs))
		return;
	if (a->rcn)
		snprintf(resfd, sizeof(resfd), " resfd=%llu",
			 (unsigned long long)a->rcn->id);
	trace_emit(
		fs, ctx->owner,
		"aio-submit aio:%llu ctx=%llu pid=%d op=%s key=%s res=%d%s%s",
		(unsigned long long)ctx->id, (unsigned long long)ctx->id,
		(int)a->pid, aiod_opname(a->op), areq_key(a, key), res, resfd,
		ctx->text ? " text" : "");
}

void areq_finish_kernel(struct areq *a, int64_t res)
{
	if (a->fsize_hit && res >= 0) {
		res = -EFBIG;
		areq_signal(a, SIGXFSZ);
	}
	if (a->holds_slot)
		auser_slot_put(a->ctx);
	a->holds_slot = false;
	areq_complete(a, res);
}

void slow_unwait(struct areq *a)
{
	if (a->wfd < 0)
		return;
	epoll_ctl(a->ctx->ad->wait_epfd, EPOLL_CTL_DEL, a->wfd, NULL);
	if (a->wfd_dup)
		close(a->wfd);
	a->wfd = -1;
	a->wfd_dup = false;
}
