// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * AIO contexts over the mount's control file: setup, destroy, cancel,
 * libaio's io_queue_* helpers, and the context's bookkeeping.
 *
 * A context is one open of MNT/aio.  The handle the caller holds is a
 * pointer to struct evfdfs_io_ctx, which the caller may pass back after
 * destroying it, or pass in garbage, as it may with a kernel context: so
 * every call first looks the pointer up in a registry of live contexts
 * (comparing addresses, never dereferencing an unknown one) and takes a
 * use count.  Destroy removes the context from the registry, wakes the
 * calls blocked on it (killfd), waits until none is inside, and only then
 * tears it down.  The registry is the library's one piece of process-wide
 * state, as the kernel's per-mm table of contexts is.
 *
 * Bookkeeping: every accepted submission is kept (struct sub) until its
 * event is read from the control file, keyed by the iocb address (obj).
 * The event of a read carries the data; the submission says where it
 * goes.  The wire identifies a request by obj alone, so when one iocb
 * address has several submissions in flight, an event is matched to the
 * oldest with the same obj and aio_data (a read's to the oldest read):
 * exact unless the caller resubmits one iocb, while a read on it is
 * still in flight, with a different buffer.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "libevfdfs_i.h"

#define FUSE_SUPER_MAGIC 0x65735546
#define RBUF_MIN (64u * 1024)
#define MAX_BUCKETS 4096u

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct evfdfs_io_ctx **reg; /* protected by reg_lock */
static size_t reg_len, reg_cap;	   /* protected by reg_lock */

/* Index of @ctx in the registry, or -1; reg_lock held. */
static long reg_find(const struct evfdfs_io_ctx *ctx)
{
	size_t i;

	for (i = 0; i < reg_len; i++)
		if (reg[i] == ctx)
			return (long)i;
	return -1;
}

/*
 * fork() copies reg_lock as it is: held, if another thread was in
 * ctx_get() or ctx_put() at that moment, and then the child's first call
 * on any context would wait for ever instead of failing with EINVAL
 * (A15).  Hold it across fork, from the first context on.
 */
static void reg_lock_take(void)
{
	pthread_mutex_lock(&reg_lock);
}

static void reg_lock_give(void)
{
	pthread_mutex_unlock(&reg_lock);
}

/*
 * In the child: the parent's contexts are not the child's (A15), so it
 * must not hold their descriptors either.  A kernel context leaves the
 * child nothing; an inherited control file would keep the parent's
 * context open in the daemon (its capacity counted against aio_max) for
 * as long as the child lives, and show in the child's descriptor table.
 */
static void reg_fork_child(void)
{
	size_t i;

	for (i = 0; i < reg_len; i++) {
		if (reg[i]->fd >= 0)
			close(reg[i]->fd);
		if (reg[i]->killfd >= 0)
			close(reg[i]->killfd);
		reg[i]->fd = reg[i]->killfd = -1;
	}
	pthread_mutex_unlock(&reg_lock);
}

static void reg_atfork(void)
{
	pthread_atfork(reg_lock_take, reg_lock_give, reg_fork_child);
}

static int reg_add(struct evfdfs_io_ctx *ctx)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct evfdfs_io_ctx **n;
	int ret = 0;

	pthread_once(&once, reg_atfork);
	pthread_mutex_lock(&reg_lock);
	if (reg_len == reg_cap) {
		size_t cap = reg_cap ? reg_cap * 2 : 8;

		n = realloc(reg, cap * sizeof(*n));
		if (!n) {
			ret = -ENOMEM;
			goto out;
		}
		reg = n;
		reg_cap = cap;
	}
	reg[reg_len++] = ctx;
out:
	pthread_mutex_unlock(&reg_lock);
	return ret;
}

/*
 * ctx_get() - @ctx if it is a live context of this process, with its use
 * count taken; NULL otherwise (the caller's -EINVAL).
 */
struct evfdfs_io_ctx *ctx_get(struct evfdfs_io_ctx *ctx)
{
	struct evfdfs_io_ctx *ret = NULL;

	pthread_mutex_lock(&reg_lock);
	if (ctx && reg_find(ctx) >= 0 && !ctx->dead && ctx->pid == getpid()) {
		ctx->users++;
		ret = ctx;
	}
	pthread_mutex_unlock(&reg_lock);
	return ret;
}

void ctx_put(struct evfdfs_io_ctx *ctx)
{
	pthread_mutex_lock(&reg_lock);
	if (--ctx->users == 0 && ctx->dead)
		pthread_cond_broadcast(&ctx->idle);
	pthread_mutex_unlock(&reg_lock);
}

/* ---- submissions in flight ------------------------------------------ */

static unsigned int bucket_of(const struct evfdfs_io_ctx *ctx, uint64_t obj)
{
	/* iocbs are 64 bytes apart at best: drop the low bits, mix. */
	uint64_t h = (obj >> 6) * UINT64_C(0x9e3779b97f4a7c15);

	return (unsigned int)(h >> 40) & (ctx->nbuckets - 1);
}

/* ctx->lock held.  Appends, so that each chain is oldest first. */
int ctx_sub_add(struct evfdfs_io_ctx *ctx, struct sub *s)
{
	struct sub **pp = &ctx->buckets[bucket_of(ctx, s->obj)];

	while (*pp)
		pp = &(*pp)->next;
	s->next = NULL;
	s->seq = ctx->next_seq++;
	*pp = s;
	ctx->nsubs++;
	ctx->nparks += s->parks;
	ctx->evbytes += s->evsize;
	return 0;
}

void sub_free(struct sub *s)
{
	if (!s)
		return;
	free(s->iov);
	free(s);
}

/* ctx->lock held.  Drop the submission @seq of @obj if it is still there. */
void ctx_sub_drop_seq(struct evfdfs_io_ctx *ctx, uint64_t obj, uint64_t seq)
{
	struct sub **pp = &ctx->buckets[bucket_of(ctx, obj)];
	struct sub *s;

	for (; *pp; pp = &(*pp)->next) {
		if ((*pp)->seq != seq)
			continue;
		s = *pp;
		*pp = s->next;
		ctx->nsubs--;
		ctx->nparks -= s->parks;
		ctx->evbytes -= s->evsize;
		sub_free(s);
		return;
	}
}

/*
 * ctx->lock held.  Unlink and return the submission an event of @obj with
 * aio_data @data completes (see the file comment), or NULL.
 */
struct sub *ctx_sub_take(struct evfdfs_io_ctx *ctx, uint64_t obj, uint64_t data,
			 bool wants_data)
{
	struct sub **pp, **first = NULL, **best = NULL;
	struct sub *s;

	for (pp = &ctx->buckets[bucket_of(ctx, obj)]; *pp; pp = &(*pp)->next) {
		s = *pp;
		if (s->obj != obj)
			continue;
		if (!first)
			first = pp;
		if (s->data != data)
			continue;
		if (!wants_data || s->opcode == IOCB_CMD_PREAD ||
		    s->opcode == IOCB_CMD_PREADV) {
			best = pp;
			break;
		}
		if (!best)
			best = pp;
	}
	if (!best)
		best = first;
	if (!best)
		return NULL;
	s = *best;
	*best = s->next;
	ctx->nsubs--;
	ctx->nparks -= s->parks;
	ctx->evbytes -= s->evsize;
	return s;
}

/* ---- events --------------------------------------------------------- */

static int backlog_push(struct evfdfs_io_ctx *ctx, const struct io_event *ev)
{
	if (ctx->bl_len == ctx->bl_cap) {
		unsigned int cap = ctx->bl_cap ? ctx->bl_cap * 2 : 64;
		struct io_event *n = malloc(cap * sizeof(*n));
		unsigned int i;

		if (!n)
			return -ENOMEM;
		for (i = 0; i < ctx->bl_len; i++)
			n[i] = ctx->backlog[(ctx->bl_head + i) % ctx->bl_cap];
		free(ctx->backlog);
		ctx->backlog = n;
		ctx->bl_head = 0;
		ctx->bl_cap = cap;
	}
	ctx->backlog[(ctx->bl_head + ctx->bl_len) % ctx->bl_cap] = *ev;
	ctx->bl_len++;
	return 0;
}

/*
 * Put a completed read's data where the submission asked.  The kernel
 * copies as the read runs, so a buffer that faults gives a short count, or
 * -EFAULT when nothing could be stored (A31): the same is done here.
 */
static void deliver_data(const struct sub *s, struct io_event *ev,
			 const void *data, uint32_t datalen)
{
	size_t want, done;

	if (!s || !datalen || (int64_t)ev->res <= 0)
		return;
	want = datalen < (uint64_t)ev->res ? datalen : (size_t)ev->res;
	if (s->opcode == IOCB_CMD_PREAD) {
		struct iovec one = { (void *)(uintptr_t)s->buf, s->len };

		done = umem_scatter(&one, 1, data, want);
	} else {
		done = umem_scatter(s->iov, s->iovcnt, data, want);
	}
	if (done < (size_t)ev->res)
		ev->res = done ? (__s64)done : -EFAULT;
}

/*
 * Events of one read whose data is stored in the caller's memory in one
 * process_vm_writev (each read's own call cost a system call per event,
 * two with the getpid behind it).
 */
#define DLV_EVENTS 64u
#define DLV_SEGS 1024u /* the kernel's UIO_MAXIOV */

struct dlv_ev {
	struct io_event ev;
	struct sub *s;
	const void *data;
	uint32_t datalen;
	size_t want; /* bytes to store; 0: none */
};

struct dlv {
	struct dlv_ev e[DLV_EVENTS];
	struct iovec loc[DLV_EVENTS], rem[DLV_SEGS];
	unsigned int n, nloc, nrem;
};

/*
 * Add the caller's segments for d->want bytes of @d to the gather list,
 * cutting d->want to what they hold.  Returns 1 when added, 0 when they
 * do not fit (nothing added), -1 when they hold nothing (deliver_data()
 * makes that -EFAULT).
 */
static int dlv_segs(struct dlv *b, struct dlv_ev *d)
{
	const struct sub *s = d->s;
	unsigned int i, k = b->nrem;
	size_t left = d->want, l;

	if (s->opcode == IOCB_CMD_PREAD) {
		if (k == DLV_SEGS)
			return 0;
		l = s->len < left ? (size_t)s->len : left;
		b->rem[k].iov_base = (void *)(uintptr_t)s->buf;
		b->rem[k++].iov_len = l;
		left -= l;
	} else {
		for (i = 0; i < s->iovcnt && left; i++) {
			l = s->iov[i].iov_len < left ? s->iov[i].iov_len : left;
			if (!l)
				continue;
			if (k == DLV_SEGS)
				return 0;
			b->rem[k].iov_base = s->iov[i].iov_base;
			b->rem[k++].iov_len = l;
			left -= l;
		}
	}
	if (left == d->want)
		return -1;
	d->want -= left;
	b->nrem = k;
	b->loc[b->nloc].iov_base = (void *)d->data;
	b->loc[b->nloc++].iov_len = d->want;
	return 1;
}

/*
 * Store the data of the gathered events, then queue them all in order.
 * Where the one call stops short (a fault, or a refusal), each event from
 * the first not stored whole on is stored alone, as deliver_data() does.
 */
static int dlv_flush(struct evfdfs_io_ctx *ctx, struct dlv *b)
{
	ssize_t got = umem_scatter_vec(b->loc, b->nloc, b->rem, b->nrem);
	size_t stored = got > 0 ? (size_t)got : 0;
	unsigned int i;
	int ret = 0;

	for (i = 0; i < b->n; i++) {
		struct dlv_ev *d = &b->e[i];

		if (d->want && stored >= d->want) {
			stored -= d->want;
			if (d->want < (size_t)d->ev.res)
				d->ev.res = (__s64)d->want;
		} else if (d->want) {
			stored = 0;
			deliver_data(d->s, &d->ev, d->data, d->datalen);
		}
		sub_free(d->s);
		if (!ret)
			ret = backlog_push(ctx, &d->ev);
	}
	b->n = b->nloc = b->nrem = 0;
	return ret;
}

/*
 * One record read from the control file: bookkeeping now, data and
 * backlog with the others of its read (dlv_flush()).
 */
static int take_event(struct evfdfs_io_ctx *ctx, struct dlv *b, const void *rec,
		      size_t len, size_t *used)
{
	struct dlv_ev *d;
	int n, ret;

	if (b->n == DLV_EVENTS) {
		ret = dlv_flush(ctx, b);
		if (ret)
			return ret;
	}
	d = &b->e[b->n];
	n = codec_event_parse(rec, len, &d->ev, &d->data, &d->datalen);
	if (n < 0)
		return n;
	*used = (size_t)n;
	d->s = ctx_sub_take(ctx, d->ev.obj, d->ev.data, d->datalen > 0);
	d->want = 0;
	if (!d->s || !d->datalen || (int64_t)d->ev.res <= 0) {
		b->n++;
		return 0;
	}
	d->want = d->datalen < (uint64_t)d->ev.res ? d->datalen
						   : (size_t)d->ev.res;
	ret = dlv_segs(b, d);
	if (ret == 0) {
		/* The list is full: store what it has, start anew. */
		ret = dlv_flush(ctx, b);
		if (ret) {
			sub_free(d->s);
			return ret;
		}
		b->e[0] = *d;
		d = &b->e[0];
		ret = dlv_segs(b, d); /* alone, it fits (KERNEL_MAX_IOV) */
	}
	if (ret < 0) {
		d->want = 0;
		deliver_data(d->s, &d->ev, d->data, d->datalen);
	}
	b->n++;
	return 0;
}

/*
 * Make the read buffer big enough for every event in flight (at least
 * RBUF_MIN, at most one record's worth), so that one read collects a whole
 * batch: each further read is another FUSE round trip, and a poll before
 * it one more.  It only grows.  Returns 0 or -ENOMEM.
 */
static int rbuf_fit(struct evfdfs_io_ctx *ctx)
{
	size_t want = ctx->evbytes;
	void *p;

	if (want < RBUF_MIN)
		want = RBUF_MIN;
	if (want > EVFDFS_WIRE_MAX_RECORD)
		want = EVFDFS_WIRE_MAX_RECORD;
	want = (want + 4095) & ~(size_t)4095;
	if (ctx->rbuf && want <= ctx->rbuf_size)
		return 0;
	if (want < ctx->rbuf_size)
		want = ctx->rbuf_size;
	if (posix_memalign(&p, 4096, want))
		return ctx->rbuf ? 0 : -ENOMEM; /* the old one still works */
	free(ctx->rbuf);
	ctx->rbuf = p;
	ctx->rbuf_size = want;
	return 0;
}

/*
 * ctx_read_events() - one non-blocking read of the control file into the
 * backlog; ctx->lock held.  Returns the number of events read, or -errno
 * (-EAGAIN: none ready).
 *
 * A read returns whole records, at least one; a buffer too small for the
 * first fails with EINVAL, and then the largest record fits.  The buffer
 * is page-aligned so that one read(2) stays one FUSE request.
 */
int ctx_read_events(struct evfdfs_io_ctx *ctx)
{
	size_t off = 0, used;
	ssize_t n;
	int ret = 0, flush, count = 0;

	if (!ctx->dlv) {
		ctx->dlv = calloc(1, sizeof(*ctx->dlv));
		if (!ctx->dlv)
			return -ENOMEM;
	}
	for (;;) {
		ret = rbuf_fit(ctx);
		if (ret)
			return ret;
		n = read(ctx->fd, ctx->rbuf, ctx->rbuf_size);
		if (n >= 0)
			break;
		if (errno != EINVAL || ctx->rbuf_size >= EVFDFS_WIRE_MAX_RECORD)
			return -errno;
		free(ctx->rbuf);
		ctx->rbuf = NULL;
		ctx->rbuf_size = EVFDFS_WIRE_MAX_RECORD;
	}
	while (off < (size_t)n) {
		ret = take_event(ctx, ctx->dlv, ctx->rbuf + off,
				 (size_t)n - off, &used);
		if (ret)
			break;
		off += used;
		count++;
	}
	flush = dlv_flush(ctx, ctx->dlv);
	if (!ret)
		ret = flush;
	if (ret && !count)
		return ret;
	return count;
}

/* ---- setup and destroy ---------------------------------------------- */

static int open_control(const char *mnt, dev_t *dev)
{
	char path[PATH_MAX];
	struct statfs sfs;
	struct stat st;
	int fd, ret;

	if (!mnt)
		mnt = getenv(EVFDFS_MOUNT_ENV);
	if (!mnt || !*mnt)
		return -ENOENT;
	if ((size_t)snprintf(path, sizeof(path), "%s/aio", mnt) >= sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstatfs(fd, &sfs) != 0 || fstat(fd, &st) != 0) {
		ret = -errno;
		goto err_close;
	}
	if (sfs.f_type != FUSE_SUPER_MAGIC) {
		ret = -ENODEV;
		goto err_close;
	}
	*dev = st.st_dev;
	return fd;
err_close:
	close(fd);
	return ret;
}

static void ctx_free(struct evfdfs_io_ctx *ctx)
{
	unsigned int i;
	struct sub *s;

	for (i = 0; i < ctx->nbuckets; i++)
		while ((s = ctx->buckets[i])) {
			ctx->buckets[i] = s->next;
			sub_free(s);
		}
	if (ctx->fd >= 0)
		close(ctx->fd);
	if (ctx->killfd >= 0)
		close(ctx->killfd);
	pthread_mutex_destroy(&ctx->lock);
	pthread_cond_destroy(&ctx->idle);
	free(ctx->buckets);
	free(ctx->backlog);
	free(ctx->rbuf);
	free(ctx->dlv);
	free(ctx);
}

EXPORT int evfdfs_io_setup(const char *mnt, unsigned int nr_events,
			   struct evfdfs_io_ctx **ctxp)
{
	KEEP_ERRNO;
	struct evfdfs_wire_setup rec;
	struct evfdfs_io_ctx *ctx, *cur;
	int ret;

	/* io_setup's order: the pointer, then *ctxp, then nr_events (A10). */
	if (umem_read(&cur, (uintptr_t)ctxp, sizeof(cur)) ||
	    umem_write((uintptr_t)ctxp, &cur, sizeof(cur)))
		return -EFAULT;
	if (cur || nr_events == 0)
		return -EINVAL;
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	ctx->fd = ctx->killfd = -1;
	pthread_mutex_init(&ctx->lock, NULL);
	pthread_cond_init(&ctx->idle, NULL);
	ctx->pid = getpid();
	ctx->nr_events = nr_events;
	ctx->rbuf_size = RBUF_MIN;
	ctx->nbuckets = 16;
	while (ctx->nbuckets < nr_events && ctx->nbuckets < MAX_BUCKETS)
		ctx->nbuckets *= 2;
	ctx->buckets = calloc(ctx->nbuckets, sizeof(*ctx->buckets));
	if (!ctx->buckets) {
		ret = -ENOMEM;
		goto err_free;
	}
	ret = open_control(mnt, &ctx->dev);
	if (ret < 0)
		goto err_free;
	ctx->fd = ret;
	ctx->killfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (ctx->killfd < 0) {
		ret = -errno;
		goto err_free;
	}
	codec_setup_fill(&rec, nr_events);
	errno = 0;
	if (write(ctx->fd, &rec, sizeof(rec)) != (ssize_t)sizeof(rec)) {
		ret = errno ? -errno : -EIO;
		goto err_free;
	}
	ret = reg_add(ctx);
	if (ret)
		goto err_free;
	*ctxp = ctx;
	return 0;
err_free:
	ctx_free(ctx);
	return ret;
}

/* Pending polls would never complete by themselves: cancel them (A17). */
static void cancel_polls(struct evfdfs_io_ctx *ctx)
{
	struct evfdfs_wire_cancel rec;
	unsigned int i;
	struct sub *s;

	for (i = 0; i < ctx->nbuckets; i++)
		for (s = ctx->buckets[i]; s; s = s->next) {
			if (s->opcode != IOCB_CMD_POLL)
				continue;
			codec_cancel_fill(&rec, 0, s->obj);
			if (write(ctx->fd, &rec, sizeof(rec)) < 0 &&
			    errno != EINPROGRESS && errno != EINVAL)
				return; /* the daemon is gone */
		}
}

/*
 * Wait, uninterruptibly, until every submission has completed, so that
 * their RESFD counters have been signalled when destroy returns (A17);
 * their events are dropped with the context.
 *
 * Except the transfers that would have held the submitter inside
 * io_submit on Linux (a read of an empty counter or pipe, a write to a
 * full pipe: struct sub.parks): the daemon accepts those and lets them
 * wait, so nothing but the close of the context ends them (with -EINTR).
 * Waiting for them here would wait for ever.
 */
static void drain(struct evfdfs_io_ctx *ctx)
{
	struct pollfd pfd = { .fd = ctx->fd, .events = POLLIN };
	int ret;

	while (ctx->nsubs > ctx->nparks) {
		ret = ctx_read_events(ctx);
		if (ret == -EAGAIN || ret == -EINTR) {
			if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
				return;
			continue;
		}
		if (ret < 0)
			return; /* the daemon is gone: nothing will come */
	}
}

EXPORT int evfdfs_io_destroy(struct evfdfs_io_ctx *ctx)
{
	KEEP_ERRNO;
	static const uint64_t one = 1;
	long i;

	pthread_mutex_lock(&reg_lock);
	i = reg_find(ctx);
	if (i < 0 || ctx->dead || ctx->pid != getpid()) {
		pthread_mutex_unlock(&reg_lock);
		return -EINVAL;
	}
	reg[i] = reg[--reg_len];
	ctx->dead = true;
	if (write(ctx->killfd, &one, sizeof(one)) < 0) {
		/* cannot fail: a fresh eventfd far from overflow */
	}
	while (ctx->users)
		pthread_cond_wait(&ctx->idle, &reg_lock);
	pthread_mutex_unlock(&reg_lock);

	/* Nobody else can reach ctx now. */
	cancel_polls(ctx);
	drain(ctx);
	ctx_free(ctx);
	return 0;
}

EXPORT int evfdfs_io_cancel(struct evfdfs_io_ctx *ctx, struct iocb *iocb,
			    struct io_event *result)
{
	KEEP_ERRNO;
	struct evfdfs_wire_cancel rec;
	uint32_t key;
	int ret = 0;

	(void)result; /* never written (A77) */
	/* A75: the key is read first, then checked, then the context. */
	if (umem_read(&key, (uintptr_t)iocb + offsetof(struct iocb, aio_key),
		      sizeof(key)))
		return -EFAULT;
	if (key)
		return -EINVAL;
	ctx = ctx_get(ctx);
	if (!ctx)
		return -EINVAL;
	codec_cancel_fill(&rec, key, (uintptr_t)iocb);
	if (write(ctx->fd, &rec, sizeof(rec)) < 0)
		ret = -errno;
	ctx_put(ctx);
	return ret;
}

EXPORT int evfdfs_io_queue_init(const char *mnt, int maxevents,
				struct evfdfs_io_ctx **ctxp)
{
	KEEP_ERRNO;
	static struct evfdfs_io_ctx *const none;

	if (maxevents <= 0)
		return -EINVAL;
	if (umem_write((uintptr_t)ctxp, &none, sizeof(none)))
		return -EFAULT;
	return evfdfs_io_setup(mnt, (unsigned int)maxevents, ctxp);
}

EXPORT int evfdfs_io_queue_release(struct evfdfs_io_ctx *ctx)
{
	return evfdfs_io_destroy(ctx);
}

EXPORT int evfdfs_io_queue_run(struct evfdfs_io_ctx *ctx)
{
	static const struct timespec zero;
	struct io_event ev;
	void (*cb)(struct evfdfs_io_ctx *, struct iocb *, long, long);
	int ret;

	while ((ret = evfdfs_io_getevents(ctx, 0, 1, &ev, &zero)) > 0) {
		cb = (void (*)(struct evfdfs_io_ctx *, struct iocb *, long,
			       long))(uintptr_t)ev.data;
		cb(ctx, (struct iocb *)(uintptr_t)ev.obj, (long)ev.res,
		   (long)ev.res2);
	}
	return ret;
}
