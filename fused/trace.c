// SPDX-License-Identifier: GPL-2.0-only
/*
 * The trace file: a live, line-per-event stream of what the daemon does.
 * Each open of `trace` is a subscriber with a bounded buffer of its own;
 * events are formatted once and appended to every subscriber.  A subscriber
 * that falls behind loses events, never slows the counters: what does not
 * fit is dropped and counted, and the reader sees a "dropped N" line where
 * the gap is.  With no subscriber, trace_on() is false and callers skip the
 * formatting altogether.
 *
 * Each event is about something with an owner and permission bits (a
 * counter, an AIO context); a subscriber gets it only if the user who
 * opened the trace could read that thing (cred.c), so that with allow_other
 * nobody learns through the trace what a counter they may not read holds.
 *
 * Line format: SEQ SECONDS.MICROS EVENT [NAME] key=value...
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evfdfs_i.h"

#define TRACE_LINE_MAX 512

struct trace_sub {
	struct list_head link; /* fs->trace_subs */
	struct handle *h;
	struct cred reader; /* who opened it */
	char *buf;	    /* ring of cap bytes */
	size_t cap, head, len;
	uint64_t dropped; /* events lost since the last read */
	bool got;	  /* trace_emit(): this event is for this reader */
};

bool trace_on(const struct evfdfs *fs)
{
	return !list_empty(&fs->trace_subs);
}

static void ring_put(struct trace_sub *s, const char *p, size_t n)
{
	size_t tail = (s->head + s->len) % s->cap;
	size_t first = n < s->cap - tail ? n : s->cap - tail;

	memcpy(s->buf + tail, p, first);
	memcpy(s->buf, p + first, n - first);
	s->len += n;
}

static size_t ring_get(struct trace_sub *s, char *p, size_t n)
{
	size_t first;

	if (n > s->len)
		n = s->len;
	first = n < s->cap - s->head ? n : s->cap - s->head;
	memcpy(p, s->buf + s->head, first);
	memcpy(p + first, s->buf, n - first);
	s->head = (s->head + n) % s->cap;
	s->len -= n;
	return n;
}

/*
 * Queue the "- dropped N" note if it fits.  Its place is the gap: after
 * everything buffered, before whatever comes next.  Returns false while
 * drops remain unreported (then no new line may go in before the note).
 */
static bool sub_note_dropped(struct trace_sub *s)
{
	char note[64];
	int m;

	if (!s->dropped)
		return true;
	m = snprintf(note, sizeof(note), "- dropped %llu\n",
		     (unsigned long long)s->dropped);
	if (s->len + (size_t)m > s->cap)
		return false;
	ring_put(s, note, (size_t)m);
	s->dropped = 0;
	return true;
}

static void sub_append(struct trace_sub *s, const char *line, size_t n)
{
	if (!sub_note_dropped(s) || s->len + n > s->cap) {
		s->dropped++;
		return;
	}
	ring_put(s, line, n);
}

static int trace_try(struct waiter *w)
{
	struct trace_sub *s = w->h->u.trace;
	char *out;
	size_t n;

	/*
	 * A reader that drained the buffer learns of a gap now, not at the
	 * next event, which may never come.
	 */
	sub_note_dropped(s);
	if (s->len == 0)
		return -EAGAIN;
	n = w->size < s->len ? w->size : s->len;
	out = malloc(n);
	if (!out) {
		fuse_reply_err(w->req, ENOMEM);
		return 0;
	}
	ring_get(s, out, n);
	fuse_reply_buf(w->req, out, n);
	free(out);
	return 0;
}

void trace_emit(struct evfdfs *fs, struct perm about, const char *fmt, ...)
{
	char line[TRACE_LINE_MAX];
	struct list_head *pos;
	struct timespec now;
	va_list ap;
	int n, m;

	if (!trace_on(fs))
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	now.tv_sec -= fs->start.tv_sec;
	now.tv_nsec -= fs->start.tv_nsec;
	if (now.tv_nsec < 0) {
		now.tv_sec--;
		now.tv_nsec += 1000000000L;
	}
	n = snprintf(line, sizeof(line), "%llu %lld.%06ld ",
		     (unsigned long long)++fs->trace_seq, (long long)now.tv_sec,
		     now.tv_nsec / 1000);
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	n += m < (int)(sizeof(line) - (size_t)n - 1)
		     ? m
		     : (int)(sizeof(line) - (size_t)n - 2);
	line[n++] = '\n';

	list_for_each (pos, &fs->trace_subs) {
		struct trace_sub *s = list_entry(pos, struct trace_sub, link);

		s->got = cred_may(&s->reader, about, MAY_READ);
		if (s->got)
			sub_append(s, line, (size_t)n);
	}
	waitq_run(&fs->trace_wq);
	list_for_each (pos, &fs->trace_subs) {
		struct trace_sub *s = list_entry(pos, struct trace_sub, link);

		if (s->got)
			handle_notify(s->h, POLLIN);
	}
}

/* Takes over @reader's groups. */
int trace_open(struct evfdfs *fs, struct handle *h, struct cred *reader)
{
	struct trace_sub *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->cap = fs->opts.trace_buf;
	s->buf = malloc(s->cap);
	if (!s->buf) {
		free(s);
		return -ENOMEM;
	}
	s->reader = *reader;
	reader->groups = NULL;
	reader->ngroups = 0;
	s->h = h;
	h->u.trace = s;
	list_add_tail(&s->link, &fs->trace_subs);
	return 0;
}

void trace_release(struct handle *h)
{
	struct trace_sub *s = h->u.trace;

	list_del_init(&s->link);
	cred_free(&s->reader);
	free(s->buf);
	free(s);
	h->u.trace = NULL;
}

/**
 * trace_read() - read what has been traced since the last read.
 * Valid replies: fuse_reply_buf (1..size bytes), fuse_reply_err (EAGAIN,
 * ENOMEM; EINTR later if interrupted); or parks until an event.
 */
void trace_read(fuse_req_t req, struct handle *h, size_t size, int flags)
{
	waitq_read(&h->fs->trace_wq, req, h, W_TRACE_READ, trace_try, size,
		   flags);
}

unsigned int trace_poll(struct handle *h)
{
	struct trace_sub *s = h->u.trace;

	return s->len || s->dropped ? POLLIN | POLLRDNORM : 0;
}
