// SPDX-License-Identifier: GPL-2.0-only
/*
 * `aio`, the binary front end (fused/LAYERS): records in, EVENT records
 * out (wire.h).  A write is SETUP, DESTROY or CANCEL, each alone, or
 * SUBMIT records, each checked in Linux's order (table 2.5) and handed to
 * the request engine (aio_submit.c), in batches where the loop can submit
 * them together.
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
#include "kaio.h"

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

/*
 * A read of `aio` (aiod_read()): pack as many whole events as fit in @size;
 * reply; consume on success.  -EAGAIN: no event yet.
 */
int bin_read(struct aiod_ctx *ctx, fuse_req_t req, size_t size)
{
	struct list_head *pos;
	size_t total = 0, n = 0, i;
	char *out;

	if (list_empty(&ctx->events))
		return -EAGAIN;

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

/* Table 2.5 steps 2-8, then step 9's route. */
static int prepare(struct sjob *job, const struct wire_sub *s,
		   struct areq **out)
{
	struct aiod_ctx *ctx = job->ctx;
	struct aiod *ad = ctx->ad;
	const struct iocb *cb = &s->s.iocb;
	struct areq *a;
	int ret;

	ret = wire_check_early(s);
	if (ret)
		return ret;
	if (ctx_full(ctx) ||
	    auser_buf_room(ctx, s->total < EVFDFS_WIRE_MAX_DATA
					? s->total
					: EVFDFS_WIRE_MAX_DATA))
		return -EAGAIN; /* step 4; aio_user.c for the buffers */
	a = areq_new(job, s);
	if (!a)
		return -ENOMEM;
	ret = afile_get(ad, job, cb->aio_fildes, &a->file); /* step 5 */
	if (!ret && (cb->aio_flags & IOCB_FLAG_RESFD))
		ret = resfd_get(ad, job, cb->aio_resfd, a); /* step 6 */
	if (!ret)
		ret = wire_check_opcode(s); /* steps 7, 8 */
	if (!ret)
		ret = areq_route(job, a, s);
	if (ret) {
		areq_unprepare(a);
		return ret;
	}
	*out = a;
	return 0;
}

/* Can @a join the loop's batch (job_flush_batch())? */
static bool loop_batchable(const struct areq *a)
{
	return a->route == RT_LOOP && !a->slow;
}

static void bin_step(struct sjob *job)
{
	struct areq *lb[AIOD_RUN_MAX]; /* the loop's batch */
	struct evfdfs_wire_hdr hdr;
	unsigned int nlb = 0;
	struct wire_sub s;
	struct areq *a;
	int ret = 0;

	while (job->off < job->len) {
		const char *rec = job_rest(job);

		ret = wire_frame(rec, job->len - job->off, &hdr);
		if (!ret && hdr.type != EVFDFS_WIRE_SUBMIT)
			ret = -EINVAL; /* SETUP and CANCEL come alone */
		if (!ret)
			ret = wire_decode_submit(rec, hdr.len, &s);
		if (!ret)
			ret = prepare(job, &s, &a);
		if (ret && nlb) {
			/* What came before this record is submitted first;
			 * if the kernel refuses some of it, that is the
			 * write's answer. */
			int flushed = job_flush_batch(job, lb, nlb);

			nlb = 0;
			if (flushed) {
				ret = flushed;
				break;
			}
		}
		if (ret) {
			if (!job->nrun) {
				char key[AREQ_KEY_MAX];
				bool sub = hdr.type == EVFDFS_WIRE_SUBMIT;

				snprintf(key, sizeof(key), "%llu",
					 (unsigned long long)s.s.iocb.aio_data);
				job_trace(job,
					  sub ? s.s.iocb.aio_lio_opcode
					      : 0xffff,
					  sub ? key : NULL, ret);
			}
			break;
		}
		a->rec_end = job->off + hdr.len;
		job_loop_share(job, a);
		if (!job->nrun && loop_batchable(a)) {
			if (nlb == AIOD_RUN_MAX) {
				ret = job_flush_batch(job, lb, nlb);
				nlb = 0;
				if (ret) {
					areq_unprepare(a);
					break;
				}
			}
			if (a->loop_copy)
				job->loop_bytes += a->buflen;
			lb[nlb++] = a;
			job->off = a->rec_end;
			continue;
		}
		if (nlb) {
			ret = job_flush_batch(job, lb, nlb);
			nlb = 0;
			if (ret) {
				areq_unprepare(a);
				break;
			}
		}
		if (a->route == RT_WORKER && job->nrun < AIOD_RUN_MAX) {
			job->run[job->nrun++] = a;
			job->off = a->rec_end;
			continue;
		}
		if (job->nrun) {
			/* The run goes first; this one is prepared again. */
			areq_unprepare(a);
			break;
		}
		ret = job_start(job, a);
		if (ret)
			break;
	}
	if (nlb)
		ret = job_flush_batch(job, lb, nlb);
	if (job->nrun) {
		job_dispatch(job);
		return;
	}
	job_finish(job, ret);
}

/*
 * A worker is back with @job.  Its synchronous completions are in the
 * kernel's ring already: queue them before anything that follows.
 */
static void bin_worker_done(struct sjob *job)
{
	unsigned int i, n = job->nrun;
	int err = 0;

	/* The submissions are told before the completions they caused. */
	for (i = 0; i < n; i++) {
		areq_trace_submit(job->run[i], job->run[i]->wres);
		if (job->run[i]->wres < 0)
			break; /* the rest are never sent */
	}
	aiod_kernel_events(job->ctx->ad);
	job->nrun = 0;
	for (i = 0; i < n; i++) {
		struct areq *a = job->run[i];

		a->job = NULL;
		if (err) {
			areq_unprepare(a); /* after a failure: never sent */
			continue;
		}
		if (a->wres < 0) {
			err = a->wres;
			areq_unprepare(a);
			continue;
		}
		job->accepted = a->rec_end;
		if (a->whole)
			areq_finish_kernel(a, a->xres); /* in the worker */
		else if (a->completed)
			areq_free(a);
	}
	if (err) {
		job_finish(job, err);
		return;
	}
	bin_step(job);
}

/*
 * A write to `aio` (aiod_write()): SETUP, DESTROY or CANCEL alone, or
 * SUBMIT records, stepped through by bin_step().
 */
void bin_write(fuse_req_t req, struct aiod_ctx *ctx, const char *buf,
	       size_t size)
{
	pid_t pid = fuse_req_ctx(req)->pid;
	struct evfdfs_wire_hdr hdr;
	struct wire_ring_setup rs;
	struct sjob *job;
	uint32_t nr;
	uint64_t obj;
	int ret;

	ret = wire_frame(buf, size, &hdr);
	if (ret)
		goto out;
	if (hdr.type == EVFDFS_WIRE_SETUP) {
		ret = hdr.len == size
			      ? wire_decode_setup(buf, hdr.len, &nr, &rs)
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
		ret = hdr.len == size ? wire_decode_destroy(buf, hdr.len)
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
		ret = hdr.len == size ? wire_decode_cancel(buf, hdr.len, &obj)
				      : -EINVAL;
		if (!ret)
			ret = aiod_cancel(ctx, obj, NULL, pid);
		goto out;
	}
	job = job_new(req, ctx, buf, size, bin_worker_done);
	if (!job) {
		ret = -ENOMEM;
		goto out;
	}
	bin_step(job);
	return;
out:
	fuse_reply_err(req, -ret);
}
