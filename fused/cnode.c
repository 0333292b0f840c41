// SPDX-License-Identifier: GPL-2.0-only
/*
 * Counter operations as the mount sees them: the FUSE side of counter.c.
 * A read or write either completes now, fails (EAGAIN when O_NONBLOCK), or
 * parks on the counter's wait queue.  Every change runs the queue and then
 * wakes pollers with the kernel's wake key: EPOLLIN after a write or a
 * signal, EPOLLOUT after a read (E17, E27).  A poller is notified only when
 * the key meets its interest, which is what makes edge-triggered epoll see
 * the kernel's edges (E44-E46):
 *
 *   writer                 daemon                        kernel / poller
 *   write(8) ------------> counter_write, reply 8
 *                          cnode_changed: key EPOLLIN
 *                          handle wants IN? notify(ph) -> wake, re-POLL
 *                                                   <--- POLL (new ph)
 *                          reply mask from the count --> edge reported
 *
 * A value is consumed only by a reply the kernel accepted: if
 * fuse_reply_buf() fails (the caller is gone), the value goes back.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "evfdfs_i.h"

#define MAX_TEXT_VALUES 4096

static const char *label(const struct cnode *cn)
{
	return cn->name ? cn->name : "(unlinked)";
}

static const char *key_name(unsigned int key)
{
	switch (key & (POLLIN | POLLOUT)) {
	case POLLIN:
		return "IN";
	case POLLOUT:
		return "OUT";
	case POLLIN | POLLOUT:
		return "IN|OUT";
	default:
		return "-";
	}
}

void handle_set_poll(struct handle *h, struct fuse_pollhandle *ph,
		     unsigned int events)
{
	if (h->ph)
		fuse_pollhandle_destroy(h->ph);
	h->ph = ph;
	/* A kernel older than 7.21 sends no events: assume every bit. */
	h->poll_events |= events ? events : ~0u;
}

/*
 * The poll handle is taken off @h before anything is traced: tracing
 * notifies the trace file's own pollers, and a poller of the trace would
 * otherwise be notified again from inside its own notification, for ever
 * (the daemon died of that recursion as soon as anyone polled `trace`).
 * Notifications of the trace file itself are not traced: each would be an
 * event about the previous event.
 */
void handle_notify(struct handle *h, unsigned int key)
{
	struct fuse_pollhandle *ph = h->ph;

	if (!ph || !(key & h->poll_events))
		return;
	h->ph = NULL;
	h->poll_events = 0;
	if (h->kind != H_TRACE && trace_on(h->fs))
		trace_emit(h->fs, "notify %s handle=%llu key=%s",
			   h->cn ? label(h->cn) : "-",
			   (unsigned long long)h->id, key_name(key));
	fuse_lowlevel_notify_poll(ph);
	fuse_pollhandle_destroy(ph);
}

unsigned int cnode_pollers(const struct cnode *cn)
{
	const struct list_head *pos;
	unsigned int n = 0;

	list_for_each (pos, &cn->handles)
		n += list_entry(pos, struct handle, link)->ph != NULL;
	return n;
}

/*
 * Tell the pollers of @cn about @key now, before the reply that makes the
 * change visible to its caller.  On Linux the wake-up happens inside
 * eventfd_write()/eventfd_read(), so a program that writes and then calls
 * epoll_wait(..., 0) finds the event.  Over FUSE the notification is a
 * separate message: sent after the reply, it races with the caller's next
 * epoll_wait (which then misses the edge about half the time).  Sent
 * before, the kernel has queued the epoll item before write() returns; the
 * item's re-poll is a POLL request that this single-threaded daemon only
 * reads after the reply, so it sees the new count.  If the reply then fails
 * (the caller was interrupted) and the change is undone, the pollers have
 * seen a spurious wake-up, which they must tolerate anyway.
 *
 *   caller               daemon                      kernel epoll
 *   write(8) ----------> count += v
 *                        notify_poll(ph) ----------> item queued
 *            <---------- reply 8
 *   epoll_wait(0) -----------------------------------> re-poll: POLL req
 *                        POLL: mask(count) <-------
 *
 * cnode_changed() notifies again with the gathered key; by then the poll
 * handles used here are gone, so nobody is woken twice.
 */
static void cnode_notify_now(struct cnode *cn, unsigned int key)
{
	struct list_head *pos;

	list_for_each (pos, &cn->handles)
		handle_notify(list_entry(pos, struct handle, link), key);
}

/*
 * Run the wait queue until nothing more completes, then tell pollers and
 * watchers.  Watchers may change the counter again (an AIO POLL whose RESFD
 * is this counter), so loop until no key is left; a nested call only adds
 * to wake_key and lets the outer loop finish the work.
 */
void cnode_changed(struct cnode *cn)
{
	struct list_head *pos, *tmp;
	unsigned int key;

	if (cn->busy)
		return;
	cn->busy = true;
	cnode_get(cn);
	for (;;) {
		while (waitq_run(&cn->wq))
			;
		key = cn->wake_key;
		if (!key)
			break;
		cn->wake_key = 0;
		list_for_each (pos, &cn->handles)
			handle_notify(list_entry(pos, struct handle, link),
				      key);
		list_for_each_safe (pos, tmp, &cn->watchers)
			list_entry(pos, struct watcher, link)
				->wake(list_entry(pos, struct watcher, link),
				       key);
	}
	cn->busy = false;
	cnode_put(cn);
}

void cnode_watch(struct cnode *cn, struct watcher *wt)
{
	list_add_tail(&wt->link, &cn->watchers);
}

void cnode_unwatch(struct watcher *wt)
{
	list_del_init(&wt->link);
}

void cnode_signal(struct cnode *cn, pid_t pid)
{
	counter_signal(&cn->c);
	cn->wake_key |= POLLIN;
	if (trace_on(cn->fs))
		trace_emit(cn->fs, "signal %s pid=%d count=%llu", label(cn),
			   (int)pid, (unsigned long long)cn->c.count);
	cnode_changed(cn);
}

int cnode_set_value(struct cnode *cn, uint64_t val, pid_t pid)
{
	if (val > COUNTER_MAX)
		return -EINVAL;
	cn->c.count = val;
	cn->wake_key |= POLLIN | POLLOUT;
	if (trace_on(cn->fs))
		trace_emit(cn->fs, "set %s pid=%d count=%llu", label(cn),
			   (int)pid, (unsigned long long)val);
	cnode_changed(cn);
	return 0;
}

void cnode_set_semaphore(struct cnode *cn, bool on, pid_t pid)
{
	cn->c.semaphore = on;
	if (trace_on(cn->fs))
		trace_emit(cn->fs, "set %s pid=%d semaphore=%d", label(cn),
			   (int)pid, on);
}

/* ---- reads ---------------------------------------------------------- */

/*
 * Serve one read now if the counter can.  Returns 0 once the request has
 * been answered (with data, or EINVAL for a text buffer too small for the
 * line), -EAGAIN if the counter is empty.
 */
static int read_now(struct cnode *cn, fuse_req_t req, size_t size, bool text,
		    pid_t pid)
{
	char line[COUNTER_TEXT_LINE_MAX + 1];
	uint64_t val;
	size_t len = 0;
	int ret;

	if (cn->c.count == 0)
		return -EAGAIN;
	if (text) {
		/* Check the line fits before consuming anything. */
		len = counter_text_format(line,
					  cn->c.semaphore ? 1 : cn->c.count);
		if (size < len) {
			fuse_reply_err(req, EINVAL);
			return 0;
		}
	}
	ret = counter_read(&cn->c, &val);
	if (ret)
		return ret;
	cnode_notify_now(cn, POLLOUT);
	if (text)
		ret = fuse_reply_buf(req, line, len);
	else
		ret = fuse_reply_buf(req, (const char *)&val, sizeof(val));
	if (ret) {
		/* The kernel no longer waits for this reply: nothing lost. */
		counter_unread(&cn->c, val);
		if (trace_on(cn->fs))
			trace_emit(cn->fs, "refused %s pid=%d val=%llu",
				   label(cn), (int)pid,
				   (unsigned long long)val);
		return 0;
	}
	cn->wake_key |= POLLOUT;
	if (trace_on(cn->fs))
		trace_emit(cn->fs, "read %s pid=%d val=%llu count=%llu%s",
			   label(cn), (int)pid, (unsigned long long)val,
			   (unsigned long long)cn->c.count,
			   text ? " text" : "");
	return 0;
}

static int read_try(struct waiter *w)
{
	int ret = read_now(w->h->cn, w->req, w->size, w->kind == W_TEXT_READ,
			   w->pid);

	if (ret == 0 && trace_on(w->h->fs))
		trace_emit(w->h->fs, "wake %s pid=%d", label(w->h->cn),
			   (int)w->pid);
	return ret;
}

static void park(struct cnode *cn, fuse_req_t req, struct waiter *w,
		 const char *what)
{
	if (trace_on(cn->fs))
		trace_emit(cn->fs, "park %s pid=%d op=%s", label(cn),
			   (int)w->pid, what);
	waitq_park(&cn->wq, w);
	(void)req;
}

/**
 * cnode_read() - a read(2) of NAME or text/NAME.
 * Valid replies: fuse_reply_buf (8 bytes, or one text line), fuse_reply_err
 * (EINVAL, EAGAIN, ENOMEM; EINTR later if interrupted); or parks.
 */
void cnode_read(fuse_req_t req, struct handle *h, size_t size, int flags)
{
	struct cnode *cn = h->cn;
	bool text = h->kind == H_TEXT;
	struct waiter *w;

	if (!text && !counter_read_size_ok(size)) {
		fuse_reply_err(req, EINVAL); /* E10 */
		return;
	}
	if (read_now(cn, req, size, text, fuse_req_ctx(req)->pid) == 0) {
		cnode_changed(cn);
		return;
	}
	if (flags & O_NONBLOCK) {
		fuse_reply_err(req, EAGAIN); /* E14 */
		return;
	}
	w = waiter_new(req, h, text ? W_TEXT_READ : W_READ, read_try, size);
	if (!w) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	park(cn, req, w, "read");
}

/* ---- binary writes -------------------------------------------------- */

static int write_now(struct cnode *cn, fuse_req_t req, uint64_t val, pid_t pid)
{
	int ret = counter_write_check(&cn->c, val);

	if (ret == -EINVAL) {
		fuse_reply_err(req, EINVAL); /* E22 */
		return 0;
	}
	if (ret)
		return ret;
	counter_write(&cn->c, val);
	cnode_notify_now(cn, POLLIN);
	if (fuse_reply_write(req, sizeof(val))) {
		cn->c.count -= val; /* the caller never saw it succeed */
		return 0;
	}
	cn->wake_key |= POLLIN; /* even for 0 (E25, E27) */
	if (trace_on(cn->fs))
		trace_emit(cn->fs, "write %s pid=%d val=%llu count=%llu",
			   label(cn), (int)pid, (unsigned long long)val,
			   (unsigned long long)cn->c.count);
	return 0;
}

static int write_try(struct waiter *w)
{
	int ret = write_now(w->h->cn, w->req, w->val, w->pid);

	if (ret == 0 && trace_on(w->h->fs))
		trace_emit(w->h->fs, "wake %s pid=%d", label(w->h->cn),
			   (int)w->pid);
	return ret;
}

/**
 * cnode_write() - a write(2) of NAME: exactly 8 bytes (E20).
 * Valid replies: fuse_reply_write (8), fuse_reply_err (EINVAL, EAGAIN,
 * ENOMEM; EINTR later if interrupted); or parks.
 */
void cnode_write(fuse_req_t req, struct handle *h, const char *buf, size_t size,
		 int flags)
{
	struct cnode *cn = h->cn;
	struct waiter *w;
	uint64_t val;

	if (!counter_write_size_ok(size)) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	memcpy(&val, buf, sizeof(val));
	if (write_now(cn, req, val, fuse_req_ctx(req)->pid) == 0) {
		cnode_changed(cn);
		return;
	}
	if (flags & O_NONBLOCK) {
		fuse_reply_err(req, EAGAIN); /* E24 */
		return;
	}
	w = waiter_new(req, h, W_WRITE, write_try, size);
	if (!w) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	w->val = val;
	park(cn, req, w, "write");
}

/* ---- text writes ---------------------------------------------------- */

/*
 * Apply the values still pending, one binary write each.  Returns 0 when all
 * are applied (and the whole write is acknowledged), -EAGAIN when the next
 * one would overflow.
 */
static int text_write_try(struct waiter *w)
{
	struct cnode *cn = w->h->cn;

	while (w->next < w->nvals) {
		uint64_t val = w->vals[w->next];

		if (counter_write(&cn->c, val))
			return -EAGAIN;
		cn->wake_key |= POLLIN;
		w->next++;
		if (trace_on(cn->fs))
			trace_emit(cn->fs,
				   "write %s pid=%d val=%llu count=%llu text",
				   label(cn), (int)w->pid,
				   (unsigned long long)val,
				   (unsigned long long)cn->c.count);
	}
	if (w->nvals)
		cnode_notify_now(cn, POLLIN);
	fuse_reply_write(w->req, w->size);
	return 0;
}

/* Interrupted or would block: report the values applied so far, if any. */
static void text_write_partial(struct waiter *w, int err)
{
	if (w->next > 0) {
		cnode_notify_now(w->h->cn, POLLIN);
		fuse_reply_write(w->req, w->ends[w->next - 1]);
	} else
		fuse_reply_err(w->req, err);
}

static void text_write_interrupted(struct waiter *w)
{
	text_write_partial(w, EINTR);
}

/**
 * cnode_text_write() - a write(2) of text/NAME: decimal numbers separated
 * by white space, all valid or none applied (EINVAL).
 * Valid replies: fuse_reply_write (all bytes, or the bytes of the numbers
 * applied before O_NONBLOCK or a signal stopped it), fuse_reply_err (EINVAL,
 * EAGAIN, ENOMEM, EINTR); or parks.
 */
void cnode_text_write(fuse_req_t req, struct handle *h, const char *buf,
		      size_t size, int flags)
{
	struct cnode *cn = h->cn;
	struct waiter *w;
	int n;

	n = counter_text_parse(buf, size, NULL, NULL, MAX_TEXT_VALUES);
	if (n < 0) {
		fuse_reply_err(req, -n);
		return;
	}
	w = waiter_new(req, h, W_TEXT_WRITE, text_write_try, size);
	if (w) {
		w->vals = malloc((size_t)n * sizeof(*w->vals));
		w->ends = malloc((size_t)n * sizeof(*w->ends));
	}
	if (!w || !w->vals || !w->ends) {
		if (w)
			waiter_free(w);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	w->nvals = (size_t)counter_text_parse(buf, size, w->vals, w->ends,
					      (size_t)n);
	w->on_interrupt = text_write_interrupted;
	if (text_write_try(w) == 0 || (flags & O_NONBLOCK)) {
		if (w->next < w->nvals)
			text_write_partial(w, EAGAIN);
		cnode_changed(cn);
		waiter_free(w);
		return;
	}
	/*
	 * Park first, then let the readers of the values already applied run:
	 * what they free may let this writer finish at once.
	 */
	park(cn, req, w, "write");
	cnode_changed(cn);
}
