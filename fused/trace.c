// SPDX-License-Identifier: GPL-2.0-only
/*
 * The trace file: a live, line-per-event stream of what the daemon does.
 * Each open of `trace` is a subscriber with a bounded buffer of its own;
 * events are formatted once and appended to every subscriber that may see
 * them.  A subscriber that falls behind loses events, never slows the
 * counters: what does not fit is dropped and counted, and the reader sees
 * a "SEQ - dropped N" line where the gap is.
 *
 * Each event is about something with an owner and permission bits (a
 * counter, an AIO context); a subscriber gets it only if the user who
 * opened the trace could read that thing (cred.c), so that with allow_other
 * nobody learns through the trace what a counter they may not read holds.
 *
 * What an event costs a counter operation (issue 9): with no subscriber,
 * trace_on() is false and callers skip the call.  With subscribers, the
 * permission of each is checked *before* anything is formatted, and so is
 * the room in its buffer: an event that no subscriber may see, or that
 * every subscriber allowed to see it would have to drop, is never
 * formatted (fs->trace_formatted counts those that were; status shows it).
 * Subscribers are grouped by their reader's credentials (a class): the
 * permission is checked once per class, and a subscriber whose buffer is
 * full leaves its class's list of active ones; what it drops meanwhile is
 * counted, when it reads again, from its class's count of the events it
 * may see.  So idle readers, however many, cost an event one check per
 * reading user, not one each.
 *
 * Memory: a subscriber's buffer is allocated on its first event and grows
 * by doubling up to -o trace_buf; the buffers of all subscribers together
 * stay within -o trace_max.  Each open reserves TRACE_RING_MIN of it, and
 * an open beyond the cap fails with ENFILE; a buffer that cannot grow
 * because of the cap drops what does not fit, as a full one does.  A
 * reader that has read everything gives its larger buffer back.
 *
 * `tail -f`: tail looks at the end of a regular file (lseek SEEK_END, then
 * reads backwards from there) before it follows it, and on a file of size
 * 0, or one it cannot seek, it reads to end of file first, which a stream
 * never reaches.  So the trace is seekable and reports a size of
 * TRACE_SIZE_BASE (2^62) plus the bytes traced so far, which only grows;
 * a blocking read at an offset of TRACE_TAIL_OFFSET (2^61) or beyond,
 * where only a look at the end reads (cat would need exabytes to get
 * there), returns end of file at once; a non-blocking one, which is how
 * tail then follows, returns what is buffered, or EAGAIN.  Everywhere
 * else the offset means nothing: a read returns the next events.
 *
 * Line format (TRACE-FORMAT.md, evfdfs(7)):
 *   SEQ SECONDS EVENT OBJECT key=value ... [flag ...]
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
#define TRACE_NOTE_MAX 64

/* The subscribers of one reader's credentials. */
struct trace_class {
	struct list_head link; /* fs->trace_subs */
	struct cred reader;
	struct list_head active; /* subscribers that may take a line */
	struct list_head full;	 /* subscribers that drop everything */
	unsigned int nsubs;
	uint64_t seen; /* events this class may see */
	bool got;      /* trace_emit(): this event is for this class */
};

struct trace_sub {
	struct list_head link; /* cls->active or cls->full */
	struct trace_class *cls;
	struct handle *h;
	char *buf; /* ring of cap bytes, or NULL */
	size_t cap, head, len;
	size_t held;	   /* counted in fs->trace_held: max(cap, MIN) */
	uint64_t dropped;  /* events lost since the last note */
	uint64_t drop_seq; /* the first of them */
	uint64_t full_at;  /* on cls->full: cls->seen when it got there */
	bool is_full;
	bool got; /* trace_emit(): this event went into its buffer */
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
	if (!n)
		return 0;
	first = n < s->cap - s->head ? n : s->cap - s->head;
	memcpy(p, s->buf + s->head, first);
	memcpy(p + first, s->buf, n - first);
	s->head = (s->head + n) % s->cap;
	s->len -= n;
	return n;
}

/*
 * The capacity @s needs for @n more bytes: its own if they fit, a doubled
 * one (up to trace_buf) if the daemon-wide cap allows, else 0.
 */
static size_t sub_cap_for(const struct evfdfs *fs, const struct trace_sub *s,
			  size_t n)
{
	size_t want = s->len + n, cap = s->cap ? s->cap : TRACE_RING_MIN;
	size_t held;

	if (want <= s->cap)
		return s->cap;
	if (want > fs->opts.trace_buf)
		return 0;
	while (cap < want)
		cap *= 2;
	if (cap > fs->opts.trace_buf)
		cap = fs->opts.trace_buf;
	held = cap > TRACE_RING_MIN ? cap : TRACE_RING_MIN;
	if (fs->trace_held - s->held + held > fs->opts.trace_max)
		return 0;
	return cap;
}

/* Make room for @n more bytes, growing the ring.  Returns whether they fit. */
static bool sub_room(struct evfdfs *fs, struct trace_sub *s, size_t n)
{
	size_t cap = sub_cap_for(fs, s, n), held;
	char *nb;

	if (!cap)
		return false;
	if (cap == s->cap)
		return true;
	held = cap > TRACE_RING_MIN ? cap : TRACE_RING_MIN;
	nb = malloc(cap);
	if (!nb)
		return false;
	s->len = ring_get(s, nb, s->len);
	free(s->buf);
	s->buf = nb;
	s->cap = cap;
	s->head = 0;
	fs->trace_held += held - s->held;
	s->held = held;
	return true;
}

/* A reader that has read everything gives a grown buffer back. */
static void sub_shrink(struct evfdfs *fs, struct trace_sub *s)
{
	if (s->len || s->cap <= TRACE_RING_MIN)
		return;
	free(s->buf);
	s->buf = NULL;
	s->cap = s->head = 0;
	fs->trace_held -= s->held - TRACE_RING_MIN;
	s->held = TRACE_RING_MIN;
}

/*
 * Queue the "SEQ - dropped N" note if it fits.  Its place is the gap:
 * after everything buffered, before whatever comes next.  Returns false
 * while drops remain unreported (then no new line may go in before the
 * note).
 */
static bool sub_note_dropped(struct evfdfs *fs, struct trace_sub *s)
{
	char note[TRACE_NOTE_MAX];
	int m;

	if (!s->dropped)
		return true;
	m = snprintf(note, sizeof(note), "%llu - dropped %llu\n",
		     (unsigned long long)s->drop_seq,
		     (unsigned long long)s->dropped);
	if (!sub_room(fs, s, (size_t)m))
		return false;
	ring_put(s, note, (size_t)m);
	s->dropped = 0;
	return true;
}

static void sub_drop(struct trace_sub *s, uint64_t seq)
{
	if (!s->dropped++)
		s->drop_seq = seq;
}

static void sub_append(struct evfdfs *fs, struct trace_sub *s, const char *line,
		       size_t n, uint64_t seq)
{
	s->got = sub_note_dropped(fs, s) && sub_room(fs, s, n);
	if (s->got)
		ring_put(s, line, n);
	else
		sub_drop(s, seq);
}

/*
 * @s has no room for event @seq, which its class has just counted: it
 * leaves the active list and drops all its class sees until it reads.
 */
static void sub_set_full(struct trace_sub *s, uint64_t seq)
{
	if (!s->dropped)
		s->drop_seq = seq;
	s->full_at = s->cls->seen - 1;
	s->is_full = true;
	s->got = false;
	list_del_init(&s->link);
	list_add_tail(&s->link, &s->cls->full);
}

/* A full subscriber about to read: count what it missed; active again. */
static void sub_wake_full(struct trace_sub *s)
{
	if (!s->is_full)
		return;
	s->dropped += s->cls->seen - s->full_at;
	s->is_full = false;
	list_del_init(&s->link);
	list_add_tail(&s->link, &s->cls->active);
}

static int trace_try(struct waiter *w)
{
	struct trace_sub *s = w->h->u.trace;
	struct evfdfs *fs = w->h->fs;
	char *out;
	size_t n;

	/*
	 * A reader that drained the buffer learns of a gap now, not at the
	 * next event, which may never come.
	 */
	sub_wake_full(s);
	sub_note_dropped(fs, s);
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
	sub_shrink(fs, s);
	return 0;
}

/* Can @s take one more line (and a note) within its limits? */
static bool sub_may_take(const struct evfdfs *fs, const struct trace_sub *s)
{
	return sub_cap_for(fs, s, TRACE_NOTE_MAX + TRACE_LINE_MAX) != 0;
}

/*
 * Count the event for the classes that may see it and move the readers
 * that could not keep it to their class's full list.  Returns 0 when no
 * class may see it, 1 when only full readers could, 2 when some reader
 * will take it.
 */
static int trace_audience(struct evfdfs *fs, struct perm about, uint64_t *seq)
{
	struct list_head *pos, *sp, *tmp;
	bool any = false, room = false;

	list_for_each (pos, &fs->trace_subs) {
		struct trace_class *c =
			list_entry(pos, struct trace_class, link);

		c->got = cred_may(&c->reader, about, MAY_READ);
		any |= c->got;
	}
	if (!any)
		return 0;
	*seq = ++fs->trace_seq;
	list_for_each (pos, &fs->trace_subs) {
		struct trace_class *c =
			list_entry(pos, struct trace_class, link);

		if (!c->got)
			continue;
		c->seen++;
		list_for_each_safe (sp, tmp, &c->active) {
			struct trace_sub *s =
				list_entry(sp, struct trace_sub, link);

			if (sub_may_take(fs, s))
				room = true;
			else
				sub_set_full(s, *seq);
		}
	}
	return room ? 2 : 1;
}

void trace_emit(struct evfdfs *fs, struct perm about, const char *fmt, ...)
{
	char line[TRACE_LINE_MAX];
	struct list_head *pos, *sp;
	struct timespec now;
	uint64_t seq = 0;
	va_list ap;
	int n, m;

	if (!trace_on(fs) || trace_audience(fs, about, &seq) < 2)
		return; /* nobody may see it, or nobody can keep it */
	clock_gettime(CLOCK_MONOTONIC, &now);
	fs->trace_last = now;
	now.tv_sec -= fs->start.tv_sec;
	now.tv_nsec -= fs->start.tv_nsec;
	if (now.tv_nsec < 0) {
		now.tv_sec--;
		now.tv_nsec += 1000000000L;
	}
	n = snprintf(line, sizeof(line), "%llu %lld.%06ld ",
		     (unsigned long long)seq, (long long)now.tv_sec,
		     now.tv_nsec / 1000);
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	n += m < (int)(sizeof(line) - (size_t)n - 1)
		     ? m
		     : (int)(sizeof(line) - (size_t)n - 2);
	line[n++] = '\n';
	fs->trace_formatted++;
	fs->trace_bytes += (uint64_t)n;

	list_for_each (pos, &fs->trace_subs) {
		struct trace_class *c =
			list_entry(pos, struct trace_class, link);

		if (c->got)
			list_for_each (sp, &c->active)
				sub_append(
					fs,
					list_entry(sp, struct trace_sub, link),
					line, (size_t)n, seq);
	}
	waitq_run(&fs->trace_wq);
	list_for_each (pos, &fs->trace_subs) {
		struct trace_class *c =
			list_entry(pos, struct trace_class, link);

		if (!c->got)
			continue;
		list_for_each (sp, &c->active) {
			struct trace_sub *s =
				list_entry(sp, struct trace_sub, link);

			if (s->got)
				handle_notify(s->h, POLLIN);
		}
	}
}

static bool cred_same(const struct cred *a, const struct cred *b)
{
	return a->uid == b->uid && a->gid == b->gid &&
	       a->ngroups == b->ngroups &&
	       (!a->ngroups ||
		!memcmp(a->groups, b->groups,
			(size_t)a->ngroups * sizeof(*a->groups)));
}

/* The class of @reader's credentials, made if new (taking its groups). */
static struct trace_class *class_get(struct evfdfs *fs, struct cred *reader)
{
	struct list_head *pos;
	struct trace_class *c;

	list_for_each (pos, &fs->trace_subs) {
		c = list_entry(pos, struct trace_class, link);
		if (cred_same(&c->reader, reader))
			return c;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->reader = *reader;
	reader->groups = NULL;
	reader->ngroups = 0;
	list_init(&c->active);
	list_init(&c->full);
	list_add_tail(&c->link, &fs->trace_subs);
	return c;
}

static void class_put(struct trace_class *c)
{
	if (--c->nsubs)
		return;
	list_del_init(&c->link);
	cred_free(&c->reader);
	free(c);
}

/*
 * Takes over @reader's groups.  -ENFILE when the buffers of the readers
 * already there leave no room for one more under -o trace_max.
 */
int trace_open(struct evfdfs *fs, struct handle *h, struct cred *reader)
{
	struct trace_sub *s;

	if (fs->trace_held + TRACE_RING_MIN > fs->opts.trace_max) {
		if (!fs->trace_refusing)
			evfdfs_log("notice",
				   "trace: open by uid %u refused (ENFILE): "
				   "the readers' buffers hold %zu of "
				   "trace_max=%zu bytes",
				   (unsigned int)reader->uid, fs->trace_held,
				   fs->opts.trace_max);
		fs->trace_refusing = true;
		return -ENFILE;
	}
	fs->trace_refusing = false;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->cls = class_get(fs, reader);
	if (!s->cls) {
		free(s);
		return -ENOMEM;
	}
	s->cls->nsubs++;
	list_add_tail(&s->link, &s->cls->active);
	s->h = h;
	s->held = TRACE_RING_MIN;
	fs->trace_held += s->held;
	fs->trace_nsubs++;
	h->u.trace = s;
	return 0;
}

void trace_release(struct handle *h)
{
	struct trace_sub *s = h->u.trace;

	h->fs->trace_held -= s->held;
	h->fs->trace_nsubs--;
	list_del_init(&s->link);
	class_put(s->cls);
	free(s->buf);
	free(s);
	h->u.trace = NULL;
}

/**
 * trace_read() - read what has been traced since the last read.
 * Valid replies: fuse_reply_buf (1..size bytes; 0 bytes, end of file, for
 * a blocking read at TRACE_TAIL_OFFSET or beyond), fuse_reply_err (EAGAIN,
 * ENOMEM; EINTR later if interrupted); or parks until an event.
 */
void trace_read(fuse_req_t req, struct handle *h, size_t size, off_t off,
		int flags)
{
	if (off >= TRACE_TAIL_OFFSET && !(flags & O_NONBLOCK)) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	waitq_read(&h->fs->trace_wq, req, h, W_TRACE_READ, trace_try, size,
		   flags);
}

unsigned int trace_poll(struct handle *h)
{
	struct trace_sub *s = h->u.trace;

	return s->len || s->dropped || s->is_full ? POLLIN | POLLRDNORM : 0;
}

/*
 * The size the trace reports (see the top of the file): it only grows,
 * and what any reader has read since it opened stays below it.  Asked
 * through an open file (lseek SEEK_END), the bytes that reader still has
 * to read are left out, so that where it starts plus what it reads later
 * stays below the size too.
 */
off_t trace_size(const struct evfdfs *fs, const struct handle *h)
{
	uint64_t size = TRACE_SIZE_BASE + fs->trace_bytes;

	if (h && h->kind == H_TRACE && h->u.trace)
		size -= h->u.trace->len;
	return (off_t)size;
}

void trace_status(const struct evfdfs *fs, struct sbuf *sb)
{
	sbuf_printf(sb,
		    "trace readers=%u buffered=%zu/%zu formatted=%llu "
		    "bytes=%llu\n",
		    fs->trace_nsubs, fs->trace_held, fs->opts.trace_max,
		    (unsigned long long)fs->trace_formatted,
		    (unsigned long long)fs->trace_bytes);
}
