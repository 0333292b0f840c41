// SPDX-License-Identifier: GPL-2.0-only
/*
 * Counter operations as the mount sees them: the FUSE side of counter.c.
 * A read or write either completes now, fails (EAGAIN when O_NONBLOCK), or
 * parks on the counter's wait queue.  Every change runs the queue and then
 * wakes pollers with the kernel's wake key: EPOLLIN after a write or a
 * signal, EPOLLOUT after a read (E17, E27).  A poller is notified only when
 * the key meets its interest, which is what makes edge-triggered epoll see
 * the kernel's edges (E44-E46).  The notification goes out *before* the
 * reply: the kernel wakes an eventfd's wait queue inside the read or write,
 * so when the call returns, an epoll set watching the counter already holds
 * the event, and an epoll_wait(0) right after the write must see it:
 *
 *   writer                 daemon                        kernel / poller
 *   write(8) ------------> counter_write, key EPOLLIN
 *                          handle wants IN? notify(ph) -> wake (ready list)
 *            <------------ reply 8
 *   epoll_wait(0) ---------------------------------------> re-POLL
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

/*
 * A poller (pid @pid) waits on @h.  The trace tells of a counter's poller
 * when it starts to wait: a first poll handle, or one after a notification
 * took the last, or new interest; not at every poll(2) of the same waiter.
 */
void handle_set_poll(struct handle *h, struct fuse_pollhandle *ph,
		     unsigned int events, pid_t pid)
{
	/* A kernel older than 7.21 sends no events: assume every bit. */
	unsigned int want = events ? events : ~0u;
	bool fresh = !h->ph || (want & ~h->poll_events);

	if (h->ph)
		fuse_pollhandle_destroy(h->ph);
	h->ph = ph;
	h->poll_events |= want;
	h->poll_pid = pid;
	if (fresh && h->cn)
		TRACE_CN(h->cn, "poll", pid, " events=%s",
			 key_name(h->poll_events));
}

/*
 * The poll handle is taken off the handle before anything else: tracing the
 * notification is itself an event, and every event notifies the pollers of
 * the trace file, which can be this very handle.  A notification of a trace
 * reader is not traced at all: it would add a line per event to the stream
 * it is about.
 */
void handle_notify(struct handle *h, unsigned int key)
{
	struct fuse_pollhandle *ph = h->ph;

	if (!ph || !(key & h->poll_events))
		return;
	h->ph = NULL;
	h->poll_events = 0;
	if (h->kind != H_TRACE && trace_on(h->fs)) {
		if (h->cn)
			trace_emit(h->fs, handle_perm(h),
				   "notify %s id=%llu key=%s handle=%llu",
				   cnode_label(h->cn),
				   (unsigned long long)h->cn->id, key_name(key),
				   (unsigned long long)h->id);
		else
			trace_emit(h->fs, handle_perm(h),
				   "notify - key=%s handle=%llu", key_name(key),
				   (unsigned long long)h->id);
	}
	fuse_lowlevel_notify_poll(ph);
	fuse_pollhandle_destroy(ph);
}

/*
 * Notify the pollers of @cn whose interest meets @key, now, ahead of the
 * reply to the request that changed the counter (see the top of the file).
 * cnode_changed() notifies again with every key gathered; a handle notified
 * here has no poll handle until the kernel polls again, which cannot happen
 * before this single-threaded daemon reads its next request, so that second
 * pass does not repeat the event.
 */
static void notify_pollers(struct cnode *cn, unsigned int key)
{
	struct list_head *pos;

	list_for_each (pos, &cn->handles)
		handle_notify(list_entry(pos, struct handle, link), key);
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
		notify_pollers(cn, key);
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

void cnode_signal(struct cnode *cn, pid_t pid, uint64_t ctx_id)
{
	counter_signal(&cn->c);
	cn->wake_key |= POLLIN;
	TRACE_CN(cn, "signal", pid, " count=%llu ctx=%llu",
		 (unsigned long long)cn->c.count, (unsigned long long)ctx_id);
	cnode_changed(cn);
}

int cnode_set_value(struct cnode *cn, uint64_t val, pid_t pid)
{
	if (val > COUNTER_MAX)
		return -EINVAL;
	cn->c.count = val;
	cn->wake_key |= POLLIN | POLLOUT;
	TRACE_CN(cn, "set", pid, " count=%llu", (unsigned long long)val);
	cnode_changed(cn);
	return 0;
}

void cnode_set_semaphore(struct cnode *cn, bool on, pid_t pid)
{
	cn->c.semaphore = on;
	TRACE_CN(cn, "set", pid, " semaphore=%d", on);
}

/* ---- reads ---------------------------------------------------------- */

/*
 * A text read may be shorter than its line (a shell's `read` takes one byte
 * at a time): the value is consumed by the first read and the rest of its
 * line waits on the handle for the next reads, which take nothing from the
 * counter until it is gone.  If the handle is closed mid-line, the value
 * goes back to the counter (cnode_text_release()): a value counts as
 * consumed only once its whole line has been delivered.
 */
static int text_rest_read(struct handle *h, fuse_req_t req, size_t size)
{
	size_t n = size < h->u.text.len ? size : h->u.text.len;

	if (fuse_reply_buf(req, h->u.text.rest, n))
		return 0; /* refused: the rest stays */
	memmove(h->u.text.rest, h->u.text.rest + n, h->u.text.len - n);
	h->u.text.len -= (uint8_t)n;
	return 0;
}

/*
 * Serve one read now if the counter can.  Returns 0 once the request has
 * been answered, -EAGAIN if the counter is empty.  @woken: the reader was
 * parked; its wake is traced before its read, as the cause before the
 * effect.
 */
static int read_now(struct handle *h, fuse_req_t req, size_t size, pid_t pid,
		    bool woken)
{
	struct cnode *cn = h->cn;
	bool text = h->kind == H_TEXT;
	char line[COUNTER_TEXT_LINE_MAX + 1];
	uint64_t val;
	size_t len = 0;
	int ret;

	if (text && h->u.text.len) {
		if (woken)
			TRACE_CN(cn, "wake", pid, " op=read");
		return text_rest_read(h, req, size);
	}
	if (cn->c.count == 0)
		return -EAGAIN;
	ret = counter_read(&cn->c, &val);
	if (ret)
		return ret;
	if (woken)
		TRACE_CN(cn, "wake", pid, " op=read");
	if (text) {
		len = counter_text_format(line, val);
		if (len > size)
			len = size;
	}
	TRACE_CN(cn, "read", pid, " val=%llu count=%llu%s",
		 (unsigned long long)val, (unsigned long long)cn->c.count,
		 text ? " text" : "");
	notify_pollers(cn, POLLOUT); /* E17, before the reply */
	if (text)
		ret = fuse_reply_buf(req, line, len);
	else
		ret = fuse_reply_buf(req, (const char *)&val, sizeof(val));
	if (ret) {
		/*
		 * The kernel no longer waits for this reply: nothing lost.
		 * The pollers had a wake-up for nothing; that is all.
		 */
		counter_unread(&cn->c, val);
		TRACE_CN(cn, "refused", pid, " val=%llu",
			 (unsigned long long)val);
		return 0;
	}
	if (text && line[len - 1] != '\n') {
		h->u.text.len =
			(uint8_t)counter_text_format(h->u.text.rest, val);
		h->u.text.len -= (uint8_t)len;
		memmove(h->u.text.rest, h->u.text.rest + len, h->u.text.len);
		h->u.text.val = val;
	}
	cn->wake_key |= POLLOUT;
	return 0;
}

static void text_pend_release(struct handle *h);

void cnode_text_release(struct handle *h)
{
	struct cnode *cn = h->cn;
	uint64_t room;

	text_pend_release(h);
	if (!h->u.text.len)
		return;
	/* Give the unfinished line's value back, saturating below the top. */
	room = cn->c.count >= COUNTER_MAX ? 0 : COUNTER_MAX - cn->c.count;
	cn->c.count += h->u.text.val < room ? h->u.text.val : room;
	h->u.text.len = 0;
	cn->wake_key |= POLLIN;
	if (trace_on(cn->fs))
		trace_emit(cn->fs, cnode_perm(cn),
			   "unread %s id=%llu val=%llu count=%llu",
			   cnode_label(cn), (unsigned long long)cn->id,
			   (unsigned long long)h->u.text.val,
			   (unsigned long long)cn->c.count);
	cnode_changed(cn);
}

/* The poll mask of a counter handle: E40, plus a text line waiting. */
unsigned int cnode_poll(const struct handle *h)
{
	unsigned int mask = counter_poll(&h->cn->c);

	if (h->kind == H_TEXT && h->u.text.len)
		mask |= POLLIN;
	return mask;
}

static int read_try(struct waiter *w)
{
	return read_now(w->h, w->req, w->size, w->pid, true);
}

static void park(struct cnode *cn, fuse_req_t req, struct waiter *w,
		 const char *what)
{
	TRACE_CN(cn, "park", w->pid, " op=%s", what);
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
	if (read_now(h, req, size, fuse_req_ctx(req)->pid, false) == 0) {
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

static int write_now(struct cnode *cn, fuse_req_t req, uint64_t val, pid_t pid,
		     bool woken)
{
	int ret = counter_write_check(&cn->c, val);

	if (ret == -EINVAL) {
		fuse_reply_err(req, EINVAL); /* E22 */
		return 0;
	}
	if (ret)
		return ret;
	counter_write(&cn->c, val);
	if (woken)
		TRACE_CN(cn, "wake", pid, " op=write");
	TRACE_CN(cn, "write", pid, " val=%llu count=%llu",
		 (unsigned long long)val, (unsigned long long)cn->c.count);
	/* Even for 0 (E25, E27); before the reply. */
	notify_pollers(cn, POLLIN);
	if (fuse_reply_write(req, sizeof(val))) {
		cn->c.count -= val; /* the caller never saw it succeed */
		TRACE_CN(cn, "refused", pid, " val=%llu",
			 (unsigned long long)val);
		return 0;
	}
	cn->wake_key |= POLLIN;
	return 0;
}

static int write_try(struct waiter *w)
{
	return write_now(w->h->cn, w->req, w->val, w->pid, true);
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
	if (write_now(cn, req, val, fuse_req_ctx(req)->pid, false) == 0) {
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
 * A text write is a piece of a stream of numbers: stdio cuts its buffer
 * wherever it fills, so "1234\n" may come as "12" and "34\n".  Digits that
 * end a write are not a number yet: they wait on the handle (the open
 * file), and the next write continues them.  The number they begin ends
 * at the next white space written, at a close(2) by the file table that
 * wrote them (FLUSH, before close returns), or when the open file is
 * released.  Within one write, the numbers it completes are applied all or
 * none (EINVAL), or in order up to the one that would block (O_NONBLOCK,
 * a signal: the write is short, and ends just after the last number
 * applied, as a pipe's would).
 *
 *   write "12"    -> 2, nothing applied, "12" pending
 *   write "34 5"  -> 4, 1234 applied, "5" pending
 *   close         -> 5 applied (FLUSH)
 */

static void text_pend_clear(struct handle *h)
{
	h->u.text.pend.val = 0;
	h->u.text.pend.digits = false;
}

static void trace_text_write(struct cnode *cn, pid_t pid, uint64_t val,
			     const char *how)
{
	TRACE_CN(cn, "write", pid, " val=%llu count=%llu %s",
		 (unsigned long long)val, (unsigned long long)cn->c.count, how);
}

/*
 * Apply the numbers still pending, one binary write each.  Returns 0 when
 * all are applied (and the whole write is acknowledged), -EAGAIN when the
 * next one would overflow.
 */
static int text_write_try(struct waiter *w)
{
	struct handle *h = w->h;
	struct cnode *cn = h->cn;
	bool woke = false;

	while (w->next < w->nvals) {
		struct counter_text_num num = w->num;
		size_t pos = w->pos;
		uint64_t val = 0;

		/* Checked by counter_text_scan(): a number is there. */
		if (counter_text_next(w->tbuf, w->size, &pos, &num, &val) != 1)
			break;
		if (counter_write(&cn->c, val)) {
			/* Some went in, the rest waits again. */
			if (woke)
				TRACE_CN(cn, "park", w->pid, " op=write");
			return -EAGAIN;
		}
		cn->wake_key |= POLLIN;
		w->pos = pos;
		w->num = num;
		w->next++;
		if (w->wq && !woke) { /* it was parked */
			woke = true;
			TRACE_CN(cn, "wake", w->pid, " op=write");
		}
		trace_text_write(cn, w->pid, val, "text");
	}
	notify_pollers(cn, cn->wake_key); /* before the reply */
	if (fuse_reply_write(w->req, w->size) == 0) {
		h->u.text.pend = w->tail;
		h->u.text.pend_owner = w->owner;
	}
	return 0;
}

/*
 * Interrupted or would block: report the numbers applied so far, if any.
 * A short write hands the rest back to the caller, trailing digits
 * included; a failed one leaves the digits it was to continue pending.
 */
static void text_write_partial(struct waiter *w, int err)
{
	notify_pollers(w->h->cn, w->h->cn->wake_key); /* before the reply */
	if (w->next > 0) {
		fuse_reply_write(w->req, w->pos);
	} else {
		w->h->u.text.pend = w->num;
		fuse_reply_err(w->req, err);
	}
}

static void text_write_interrupted(struct waiter *w)
{
	text_write_partial(w, EINTR);
}

/*
 * Digits alone (or white space alone): nothing to apply, the whole write is
 * taken.  A refused reply leaves the digits as they were.
 */
static void text_write_digits(fuse_req_t req, struct handle *h, size_t size,
			      const struct counter_text_num *tail,
			      uint64_t owner)
{
	if (fuse_reply_write(req, size))
		return;
	h->u.text.pend = *tail;
	h->u.text.pend_owner = owner;
}

/**
 * cnode_text_write() - a write(2) of text/NAME: decimal numbers separated
 * by white space, continuing the digits the last write ended with; the
 * numbers it completes all valid or none applied (EINVAL, which also drops
 * the digits pending from earlier writes).
 * @owner: the writer's FUSE lock owner (its file table)
 * Valid replies: fuse_reply_write (all bytes, or the bytes of the numbers
 * applied before O_NONBLOCK or a signal stopped it), fuse_reply_err (EINVAL,
 * EAGAIN, ENOMEM, EINTR); or parks.
 */
void cnode_text_write(fuse_req_t req, struct handle *h, const char *buf,
		      size_t size, int flags, uint64_t owner)
{
	struct counter_text_num tail = h->u.text.pend;
	struct cnode *cn = h->cn;
	pid_t pid = fuse_req_ctx(req)->pid;
	struct waiter *w;
	long n;

	n = counter_text_scan(buf, size, &tail);
	if (n < 0) {
		if (h->u.text.pend.digits)
			TRACE_CN(cn, "drop", pid, " digits=%llu",
				 (unsigned long long)h->u.text.pend.val);
		text_pend_clear(h);
		fuse_reply_err(req, EINVAL);
		return;
	}
	if (n == 0) {
		text_write_digits(req, h, size, &tail, owner);
		return;
	}
	w = waiter_new(req, h, W_TEXT_WRITE, text_write_try, size);
	if (w)
		w->tbuf = malloc(size);
	if (!w || !w->tbuf) {
		if (w)
			waiter_free(w);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	memcpy(w->tbuf, buf, size);
	w->nvals = (size_t)n;
	w->num = h->u.text.pend; /* the first number continues them */
	w->tail = tail;
	w->owner = owner;
	text_pend_clear(h); /* the write holds them now */
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

/*
 * Apply the digits pending on @h as a number.  Returns 0 (applied, or
 * nothing pending) or -EAGAIN (no room: they stay pending).
 */
static int text_pend_apply(struct handle *h, pid_t pid, const char *how)
{
	struct cnode *cn = h->cn;
	uint64_t val = h->u.text.pend.val;

	if (!h->u.text.pend.digits)
		return 0;
	if (counter_write(&cn->c, val))
		return -EAGAIN;
	text_pend_clear(h);
	cn->wake_key |= POLLIN;
	trace_text_write(cn, pid, val, how);
	cnode_changed(cn);
	return 0;
}

/**
 * cnode_text_flush() - a close(2) of a descriptor of text/NAME.  The digits
 * pending are applied as a number if the file table closing it is the one
 * that wrote them (the writer's own close, or its exit); another process's
 * close (a child that inherited the descriptor and exits) leaves them for
 * the writer.
 *
 * Returns: 0, or -EAGAIN when the number does not fit under the top (the
 * digits stay pending, for a later close or the release).
 */
int cnode_text_flush(struct handle *h, uint64_t owner, pid_t pid)
{
	if (!h->u.text.pend.digits || owner != h->u.text.pend_owner)
		return 0;
	return text_pend_apply(h, pid, "text close");
}

/*
 * The open file is gone: digits still pending are applied as a number, or
 * dropped (traced) if the counter has no room for them.
 */
static void text_pend_release(struct handle *h)
{
	struct cnode *cn = h->cn;

	if (text_pend_apply(h, 0, "text release") == 0)
		return;
	TRACE_CN(cn, "drop", 0, " digits=%llu",
		 (unsigned long long)h->u.text.pend.val);
	text_pend_clear(h);
}
