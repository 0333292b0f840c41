// SPDX-License-Identifier: GPL-2.0-only
/*
 * The AIO control files (issue 3): each open of `aio` or `aio.txt` is one
 * context (struct aiod_ctx, aio_dispatch.c), io_setup's object; a write
 * submits, a read returns completions, poll reports POLLIN while some wait, and the
 * last close is io_destroy.  This file is the top of the AIO side (aiod.h,
 * what ops.c and status.c call; fused/LAYERS): it hands each read and write
 * to its form's front end (aio_bin.c, aio_text.c) and owns the daemon-wide
 * machinery: the one kernel AIO context, whose completions reach the loop
 * through an eventfd (every kernel iocb has IOCB_FLAG_RESFD set to it), and
 * the worker pool's hand-back eventfd.
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
#include "ring_cpus_i.h"

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
		job->resume(job); /* its front end's (aio_bin.c, aio_text.c) */
	while ((a = pool_pop_rdone(&ad->pool)))
		slow_worker_done(a); /* aio_wait.c */
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

static int read_try(struct waiter *w)
{
	struct aiod_ctx *ctx = w->h->u.aio;

	if (ctx->text)
		return text_read(ctx, w->req, w->size);
	return bin_read(ctx, w->req, w->size);
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
 * CANCEL); possibly later, when a worker is back (aio_bin.c, aio_text.c).
 */
void aiod_write(fuse_req_t req, struct handle *h, const char *buf, size_t size,
		int flags)
{
	struct aiod_ctx *ctx = h->u.aio;

	(void)flags;
	if (ctx->text)
		text_write(req, ctx, buf, size);
	else
		bin_write(req, ctx, buf, size);
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
		ctx_status(sb, reader, list_entry(pos, struct aiod_ctx, link));
	list_for_each (pos, &ad->dying)
		ctx_status(sb, reader, list_entry(pos, struct aiod_ctx, link));
}
