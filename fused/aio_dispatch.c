// SPDX-License-Identifier: GPL-2.0-only
/*
 * Contexts: io_setup, io_cancel and io_destroy.  An open of `aio` or
 * `aio.txt` makes a context that acts as its opener (aio_cred.c); SETUP
 * (aio.txt: `setup N`) gives it its capacity and, for the binary form, its
 * mapped ring (aio_ring.c); DESTROY and the last close cancel what would
 * never end and let in-flight I/O finish, the context kept until its last
 * completion.  Above the request engine, below the two front ends
 * (fused/LAYERS).
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
#include "kaio.h"

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
int ctx_destroy(struct aiod_ctx *ctx, pid_t pid)
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

/* The status file's line of @ctx, if @reader may see it. */
void ctx_status(struct sbuf *sb, const struct cred *reader,
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
