// SPDX-License-Identifier: GPL-2.0-only
/*
 * A context's completion queue: the events waiting to be read (struct
 * aevent), the room left for more (ctx_full()), and the context's memory
 * once it is closed and idle (actx_maybe_free()).  With aio_ring.c, a
 * binary context's mapped ring, it is the layer that the request engine
 * publishes completions into (fused/LAYERS): it calls nothing of the
 * engine, the contexts or the front ends.
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

/*
 * The event of @a, done with @res: a read's data moves into it (or, for a
 * direct read, to the submitter's memory).  NULL: out of memory.
 */
struct aevent *aevent_new(struct areq *a, int64_t res)
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
