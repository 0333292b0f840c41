// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * AIO contexts over the mount's control file: setup, destroy, cancel,
 * libaio's io_queue_* helpers, and the registry of contexts.
 *
 * A context is one open of MNT/aio and a completion ring (A4): a memfd,
 * sealed, mapped shared here and in the daemon, whose address is the
 * handle.  The daemon publishes completions in it (a read's data already
 * in the caller's buffer), and io_getevents reaps them without a request
 * (aio_events.c); the caller, or libaio's peek (L4), may read it too.
 *
 * The caller may pass back a destroyed handle, or garbage, as it may with
 * a kernel context: so every call first looks the handle up in a registry
 * of live contexts (comparing addresses, never dereferencing an unknown
 * one) and takes a use count; then, as the kernel does (A15), it reads the
 * ring's id, which must be readable and unchanged, and checks that the
 * caller shares the setup task's memory (a thread, a CLONE_VM or vfork
 * child: kcmp), not a forked child's copy.  Destroy removes the context
 * from the registry, tells the daemon (DESTROY: it ends what would never
 * end and wakes the waiters), waits until no call is inside and the
 * daemon's requests are done, and only then tears it down.  The registry
 * is the library's one piece of process-wide state, as the kernel's
 * per-mm table of contexts is.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <linux/kcmp.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "libevfdfs_i.h"
#include "ring_cpus_i.h"

#define FUSE_SUPER_MAGIC 0x65735546

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct evfdfs_io_ctx **reg; /* protected by reg_lock */
static size_t reg_len, reg_cap;	   /* protected by reg_lock */

/* Index of the context of handle @h in the registry, or -1; reg_lock held. */
static long reg_find(const void *h)
{
	size_t i;

	for (i = 0; i < reg_len; i++)
		if ((const void *)reg[i]->handle == h)
			return (long)i;
	return -1;
}

/* ring->id of a new context: the lowest free index (A13); reg_lock held. */
static uint32_t reg_free_id(void)
{
	uint32_t id;
	size_t i;

	for (id = 0;; id++) {
		for (i = 0; i < reg_len; i++)
			if (reg[i]->id == id)
				break;
		if (i == reg_len)
			return id;
	}
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
		reg[i]->fd = -1;
	}
	pthread_mutex_unlock(&reg_lock);
}

static void reg_atfork(void)
{
	pthread_atfork(reg_lock_take, reg_lock_give, reg_fork_child);
}

static int reg_add(struct evfdfs_io_ctx *ctx, uint32_t *id)
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
	*id = reg_free_id();
	ctx->id = *id;
	reg[reg_len++] = ctx;
out:
	pthread_mutex_unlock(&reg_lock);
	return ret;
}

/* Does the caller share the memory of the task that set @ctx up (A15)? */
static bool same_mm(const struct evfdfs_io_ctx *ctx)
{
	pid_t me = getpid();

	return me == ctx->pid ||
	       syscall(SYS_kcmp, me, ctx->pid, KCMP_VM, 0, 0) == 0;
}

/* Is the ring still at the handle, with its id (A15)? */
static bool ring_intact(const struct evfdfs_io_ctx *ctx)
{
	uint32_t id;

	return umem_read(&id, (uintptr_t)&ctx->handle->id, sizeof(id)) == 0 &&
	       id == ctx->id;
}

/*
 * ctx_get() - the context of handle @h if it is a live context of this
 * address space whose ring is intact, with its use count taken; NULL
 * otherwise (the caller's -EINVAL).
 */
struct evfdfs_io_ctx *ctx_get(const void *h)
{
	struct evfdfs_io_ctx *ctx = NULL;
	long i;

	if (!h)
		return NULL;
	pthread_mutex_lock(&reg_lock);
	i = reg_find(h);
	if (i >= 0 && !reg[i]->dead && reg[i]->fd >= 0) {
		ctx = reg[i];
		ctx->users++;
	}
	pthread_mutex_unlock(&reg_lock);
	if (ctx && (!same_mm(ctx) || !ring_intact(ctx))) {
		ctx_put(ctx);
		ctx = NULL;
	}
	return ctx;
}

/*
 * ctx_ring_moved() - the program moved the ring at handle @old to @new
 * (mremap): the context follows, as Linux's aio_ring_mremap() moves its
 * user address.  Returns 0, or -EINVAL when @old is no context here.
 */
int ctx_ring_moved(const void *old, void *new)
{
	long i;

	pthread_mutex_lock(&reg_lock);
	i = reg_find(old);
	if (i >= 0)
		reg[i]->handle = new;
	pthread_mutex_unlock(&reg_lock);
	return i >= 0 ? 0 : -EINVAL;
}

void ctx_put(struct evfdfs_io_ctx *ctx)
{
	pthread_mutex_lock(&reg_lock);
	if (--ctx->users == 0 && ctx->dead)
		pthread_cond_broadcast(&ctx->idle);
	pthread_mutex_unlock(&reg_lock);
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

/*
 * The ring of io_setup(@nr_events), the kernel's size (A11, A13), in a
 * sealed memfd (so that the daemon's mapping cannot shrink under it), with
 * the control page after it; mapped shared.  Returns the memfd or -errno.
 */
static int ring_make(struct evfdfs_io_ctx *ctx, unsigned int nr_events)
{
	long page = sysconf(_SC_PAGESIZE);
	__u64 bytes;
	void *map;
	int fd, ret;

	if (page <= 0)
		page = 4096;
	ret = evfdfs_wire_ring_size(nr_events, evfdfs_possible_cpus(),
				    (uint32_t)page, &ctx->nr, &bytes);
	if (ret)
		return ret;
	if (bytes > SIZE_MAX / 2)
		return -ENOMEM;
	fd = memfd_create("[aio]", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	ctx->map_len = (size_t)bytes + (size_t)page;
	if (ftruncate(fd, (off_t)ctx->map_len) ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)) {
		ret = errno == EFBIG || errno == ENOSPC ? -ENOMEM : -errno;
		goto err_close;
	}
	map = mmap(NULL, ctx->map_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		   0);
	if (map == MAP_FAILED) {
		ret = -ENOMEM;
		goto err_close;
	}
	ctx->ring = map;
	ctx->ctl = (struct evfdfs_wire_ring_ctl *)((char *)map + bytes);
	ctx->ring_bytes = (size_t)bytes;
	map = mmap(NULL, ctx->ring_bytes, PROT_READ | PROT_WRITE, MAP_SHARED,
		   fd, 0);
	if (map == MAP_FAILED) {
		ret = -ENOMEM;
		goto err_close;
	}
	ctx->handle = map;
	return fd;
err_close:
	close(fd);
	return ret;
}

static void ctx_free(struct evfdfs_io_ctx *ctx)
{
	if (ctx->fd >= 0)
		close(ctx->fd);
	if (ctx->ring)
		munmap(ctx->ring, ctx->map_len);
	if (ctx->handle)
		munmap(ctx->handle, ctx->ring_bytes);
	pthread_mutex_destroy(&ctx->lock);
	pthread_cond_destroy(&ctx->idle);
	free(ctx);
}

EXPORT int evfdfs_io_setup(const char *mnt, unsigned int nr_events,
			   struct evfdfs_io_ctx **ctxp)
{
	KEEP_ERRNO;
	struct evfdfs_wire_setup_ring rec;
	struct evfdfs_io_ctx *ctx, *cur;
	struct evfdfs_wire_ring *r;
	int ret, memfd;
	uint32_t id;

	/* io_setup's order: the pointer, then *ctxp, then nr_events (A10). */
	if (umem_read(&cur, (uintptr_t)ctxp, sizeof(cur)) ||
	    umem_write((uintptr_t)ctxp, &cur, sizeof(cur)))
		return -EFAULT;
	if (cur || nr_events == 0)
		return -EINVAL;
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	ctx->fd = -1;
	pthread_mutex_init(&ctx->lock, NULL);
	pthread_cond_init(&ctx->idle, NULL);
	ctx->pid = getpid();
	ctx->nr_events = nr_events;
	memfd = ring_make(ctx, nr_events);
	if (memfd < 0) {
		ret = memfd;
		goto err_free;
	}
	ret = open_control(mnt, &ctx->dev);
	if (ret < 0)
		goto err_memfd;
	ctx->fd = ret;
	ctx->dead = true; /* in the registry for its id, not usable yet */
	ret = reg_add(ctx, &id);
	if (ret)
		goto err_memfd;
	r = ctx->ring;
	r->id = id;
	r->nr = ctx->nr;
	r->head = r->tail = 0;
	r->magic = EVFDFS_RING_MAGIC;
	r->compat_features = 1;
	r->incompat_features = 0;
	r->header_length = EVFDFS_RING_HEADER;
	codec_setup_fill(&rec, nr_events, memfd, id, (uintptr_t)ctx->handle);
	errno = 0;
	if (write(ctx->fd, &rec, sizeof(rec)) != (ssize_t)sizeof(rec)) {
		ret = errno ? -errno : -EIO;
		goto err_unreg;
	}
	close(memfd); /* the mappings keep the pages */
	pthread_mutex_lock(&reg_lock);
	ctx->dead = false;
	pthread_mutex_unlock(&reg_lock);
	*ctxp = (struct evfdfs_io_ctx *)ctx->handle;
	return 0;
err_unreg:
	pthread_mutex_lock(&reg_lock);
	reg[reg_find(ctx->handle)] = reg[--reg_len];
	pthread_mutex_unlock(&reg_lock);
err_memfd:
	close(memfd);
err_free:
	ctx_free(ctx);
	return ret;
}

/*
 * Wait, uninterruptibly, until the daemon has completed every request of
 * the context, so that their RESFD counters have been signalled when
 * destroy returns (A17); their events are dropped with the ring.  The
 * daemon has ended (DESTROY) what would never end by itself: pending
 * POLLs, and the transfers that would have held the submitter inside
 * io_submit on Linux.  If the daemon goes away, nothing will come: a
 * DESTROY written again then fails with other than EINVAL.
 */
static void drain(struct evfdfs_io_ctx *ctx)
{
	_Atomic uint32_t *w = (_Atomic uint32_t *)&ctx->ctl->inflight;
	struct timespec ts = { 0, 200 * 1000 * 1000 };
	struct evfdfs_wire_destroy rec;
	uint32_t v;

	codec_destroy_fill(&rec);
	while ((v = atomic_load_explicit(w, memory_order_acquire)) != 0) {
		if (syscall(SYS_futex, w, FUTEX_WAIT, v, &ts, NULL, 0) == 0 ||
		    errno != ETIMEDOUT)
			continue;
		if (write(ctx->fd, &rec, sizeof(rec)) < 0 && errno != EINVAL)
			return;
	}
}

EXPORT int evfdfs_io_destroy(struct evfdfs_io_ctx *h)
{
	KEEP_ERRNO;
	struct evfdfs_wire_destroy rec;
	struct evfdfs_io_ctx *ctx;
	bool told;
	long i;

	ctx = ctx_get(h); /* A15's checks, as every call */
	if (!ctx)
		return -EINVAL;
	pthread_mutex_lock(&reg_lock);
	i = reg_find(h);
	if (i < 0 || ctx->dead) {
		/* another thread's destroy came first: it may wait for us */
		if (--ctx->users == 0 && ctx->dead)
			pthread_cond_broadcast(&ctx->idle);
		pthread_mutex_unlock(&reg_lock);
		return -EINVAL;
	}
	reg[i] = reg[--reg_len];
	ctx->dead = true;
	ctx->users--;
	pthread_mutex_unlock(&reg_lock);

	/* The daemon wakes the waiters (POLLHUP) and ends the endless. */
	codec_destroy_fill(&rec);
	told = write(ctx->fd, &rec, sizeof(rec)) == (ssize_t)sizeof(rec);
	pthread_mutex_lock(&reg_lock);
	while (ctx->users)
		pthread_cond_wait(&ctx->idle, &reg_lock);
	pthread_mutex_unlock(&reg_lock);

	/* Nobody else can reach ctx now. */
	if (told)
		drain(ctx);
	ctx_free(ctx);
	return 0;
}

EXPORT int evfdfs_io_cancel(struct evfdfs_io_ctx *h, struct iocb *iocb,
			    struct io_event *result)
{
	KEEP_ERRNO;
	struct evfdfs_wire_cancel rec;
	struct evfdfs_io_ctx *ctx;
	uint32_t key;
	int ret = 0;

	(void)result; /* never written (A77) */
	/* A75: the key is read first, then checked, then the context. */
	if (umem_read(&key, (uintptr_t)iocb + offsetof(struct iocb, aio_key),
		      sizeof(key)))
		return -EFAULT;
	if (key)
		return -EINVAL;
	ctx = ctx_get(h);
	if (!ctx)
		return -EINVAL;
	codec_cancel_fill(&rec, key, (uintptr_t)iocb);
	if (write(ctx->fd, &rec, sizeof(rec)) < 0) {
		ret = -errno;
		ctx_note_loss(ctx, -ret);
	}
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
