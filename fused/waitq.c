// SPDX-License-Identifier: GPL-2.0-only
/*
 * Parked requests.  A read of an empty counter, a write that would overflow,
 * a read of an empty trace or AIO context: the handler does not reply, it
 * parks the fuse_req_t here and returns, so a blocked caller costs one small
 * struct and no thread.  Whoever changes the state runs the queue; each
 * waiter's try() re-checks its own condition, as the kernel's
 * non-exclusive wait does (E30), and replies exactly once.
 *
 * Interrupts: every parked request registers a FUSE interrupt callback.  The
 * kernel sends FUSE_INTERRUPT when the caller gets a signal (SIGKILL
 * included: without an answer the killed task would wait for us forever);
 * the callback unparks the request and answers EINTR, so nothing is consumed
 * or added (E33).  The callback can run inside waitq_park() itself when the
 * interrupt arrived before the request was parked, so parking must be the
 * last thing a handler does with the request.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>

#include "evfdfs_i.h"

void waitq_init(struct waitq *wq)
{
	list_init(&wq->list);
}

struct waiter *waiter_new(fuse_req_t req, struct handle *h,
			  enum waiter_kind kind, waiter_try_fn try, size_t size)
{
	struct waiter *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	list_init(&w->link);
	w->req = req;
	w->h = h;
	w->kind = kind;
	w->try = try;
	w->size = size;
	w->pid = fuse_req_ctx(req)->pid;
	return w;
}

void waiter_free(struct waiter *w)
{
	free(w->tbuf);
	free(w);
}

/* What a parked request was doing, as the trace says it. */
static const char *waiter_op(enum waiter_kind kind)
{
	switch (kind) {
	case W_READ:
	case W_TEXT_READ:
		return "read";
	case W_WRITE:
	case W_TEXT_WRITE:
		return "write";
	case W_TRACE_READ:
		return "trace-read";
	case W_AIO_READ:
		return "aio-read";
	}
	return "?";
}

static void waiter_interrupted(fuse_req_t req, void *data)
{
	struct waiter *w = data;
	struct evfdfs *fs = w->h->fs;

	(void)req;
	list_del_init(&w->link);
	if (w->h->cn)
		TRACE_CN(w->h->cn, "interrupt", w->pid, " op=%s",
			 waiter_op(w->kind));
	else if (w->kind != W_TRACE_READ && trace_on(fs))
		trace_emit(fs, handle_perm(w->h), "interrupt - pid=%d op=%s",
			   (int)w->pid, waiter_op(w->kind));
	if (w->on_interrupt)
		w->on_interrupt(w);
	else
		fuse_reply_err(w->req, EINTR);
	waiter_free(w);
}

void waitq_park(struct waitq *wq, struct waiter *w)
{
	w->wq = wq;
	list_add_tail(&w->link, &wq->list);
	/* May call waiter_interrupted() at once: w is gone after this. */
	fuse_req_interrupt_func(w->req, waiter_interrupted, w);
}

/**
 * waitq_read() - serve a read now if @try can, else fail it with EAGAIN
 * (O_NONBLOCK) or park it on @wq: the whole life of a blocking read of a
 * stream (trace, AIO completions).
 * Valid replies: whatever @try sends, fuse_reply_err (EAGAIN, ENOMEM; EINTR
 * later if interrupted); or parks.
 */
void waitq_read(struct waitq *wq, fuse_req_t req, struct handle *h,
		enum waiter_kind kind, waiter_try_fn try, size_t size,
		int flags)
{
	struct waiter *w = waiter_new(req, h, kind, try, size);

	if (!w) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if (try(w) == 0) {
		waiter_free(w);
		return;
	}
	if (flags & O_NONBLOCK) {
		waiter_free(w);
		fuse_reply_err(req, EAGAIN);
		return;
	}
	waitq_park(wq, w);
}

/*
 * Offer the new state to every waiter once, in queue order.  A waiter that
 * cannot proceed keeps its place.  Returns whether any waiter completed (the
 * caller loops while that is so: a completed read can release a writer).
 */
bool waitq_run(struct waitq *wq)
{
	struct list_head *pos, *tmp;
	bool progress = false;

	list_for_each_safe (pos, tmp, &wq->list) {
		struct waiter *w = list_entry(pos, struct waiter, link);

		/*
		 * try() replies to its own request only and never touches
		 * another waiter, so tmp stays valid.
		 */
		if (w->try(w) == 0) {
			list_del_init(&w->link);
			waiter_free(w);
			progress = true;
		}
	}
	return progress;
}

/*
 * Answer every parked request with @err; with 0, free them without a reply
 * (shutdown: the kernel fails them with ENOTCONN when the device closes).
 */
void waitq_abort(struct waitq *wq, int err)
{
	while (!list_empty(&wq->list)) {
		struct waiter *w =
			list_entry(wq->list.next, struct waiter, link);

		list_del_init(&w->link);
		if (err)
			fuse_reply_err(w->req, err);
		else
			fuse_reply_none(w->req);
		waiter_free(w);
	}
}

unsigned int waitq_count(const struct waitq *wq, enum waiter_kind kind)
{
	const struct list_head *pos;
	unsigned int n = 0;

	list_for_each (pos, &wq->list) {
		const struct waiter *w = list_entry(pos, struct waiter, link);

		n += w->kind == kind;
	}
	return n;
}
