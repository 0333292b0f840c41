// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The preload shim's libaio half: io_setup, io_queue_init and
 * syscall(SYS_io_setup) make contexts on the mount through libevfdfs, and
 * the other io_* calls act on them there; every handle the shim did not
 * make (a kernel context made where the shim cannot see) goes to the real
 * libaio, or to the kernel when the program has no libaio.  The shim
 * keeps the set of handles it returned to tell them apart.
 *
 * A kernel io_submit that fails with EINVAL because an iocb names an
 * emulated counter as IOCB_FLAG_RESFD gets an explanation on stderr,
 * once: the kernel signals only its own eventfds.
 */
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "evfdfs.h"
#include "keep_errno.h"
#include "preload_i.h"

/*
 * The AIO contexts the shim made, so that every other handle (a kernel
 * context the program made where the shim cannot see, e.g. with a raw
 * syscall) goes to the kernel.  A handful per program: a locked array.
 */
static struct {
	pthread_mutex_t lock;
	io_context_t *v; /* protected by lock */
	size_t n, cap;	 /* protected by lock */
	/* The last contexts destroyed: calls on them go to the kernel,
	 * which refuses them (EINVAL) as it refuses any stale handle, but
	 * they are no reason to explain kernel AIO (explain_kernel_submit). */
	io_context_t retired[64];  /* protected by lock */
	unsigned int next_retired; /* protected by lock */
} ctxs = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* fork() must not copy the lock held by another thread. */
void shim_ctxs_lock(void)
{
	pthread_mutex_lock(&ctxs.lock);
}

void shim_ctxs_unlock(void)
{
	pthread_mutex_unlock(&ctxs.lock);
}

static bool ctx_is_ours(io_context_t ctx)
{
	bool ours = false;
	size_t i;

	if (!ctx)
		return false;
	pthread_mutex_lock(&ctxs.lock);
	for (i = 0; i < ctxs.n && !ours; i++)
		ours = ctxs.v[i] == ctx;
	pthread_mutex_unlock(&ctxs.lock);
	return ours;
}

#define RETIRED (sizeof(ctxs.retired) / sizeof(ctxs.retired[0]))

static int ctx_add(io_context_t ctx)
{
	io_context_t *v;
	size_t i;
	int ret = 0;

	pthread_mutex_lock(&ctxs.lock);
	if (ctxs.n == ctxs.cap) {
		size_t cap = ctxs.cap ? ctxs.cap * 2 : 8;

		v = realloc(ctxs.v, cap * sizeof(*v));
		if (!v) {
			ret = -ENOMEM;
			goto out;
		}
		ctxs.v = v;
		ctxs.cap = cap;
	}
	ctxs.v[ctxs.n++] = ctx;
	for (i = 0; i < RETIRED; i++)
		if (ctxs.retired[i] == ctx)
			ctxs.retired[i] = NULL; /* the address lives again */
out:
	pthread_mutex_unlock(&ctxs.lock);
	return ret;
}

/* Forget @ctx; false if it was not the shim's. */
static bool ctx_remove(io_context_t ctx)
{
	bool found = false;
	size_t i;

	pthread_mutex_lock(&ctxs.lock);
	for (i = 0; i < ctxs.n; i++)
		if (ctxs.v[i] == ctx) {
			ctxs.v[i] = ctxs.v[--ctxs.n];
			ctxs.retired[ctxs.next_retired++ % RETIRED] = ctx;
			found = true;
			break;
		}
	pthread_mutex_unlock(&ctxs.lock);
	return found;
}

/* The ring of @old was moved to @new (mremap). */
static void ctx_rename(io_context_t old, void *new)
{
	size_t i;

	pthread_mutex_lock(&ctxs.lock);
	for (i = 0; i < ctxs.n; i++)
		if (ctxs.v[i] == old)
			ctxs.v[i] = new;
	ctxs.retired[ctxs.next_retired++ % RETIRED] = old;
	pthread_mutex_unlock(&ctxs.lock);
}

static bool ctx_is_retired(io_context_t ctx)
{
	bool retired = false;
	size_t i;

	pthread_mutex_lock(&ctxs.lock);
	for (i = 0; i < RETIRED && !retired; i++)
		retired = ctx && ctxs.retired[i] == ctx;
	pthread_mutex_unlock(&ctxs.lock);
	return retired;
}

/* Whether calls on @ctx go to libevfdfs. */
static bool emulated_ctx(io_context_t ctx)
{
	return shim_on() && ctx_is_ours(ctx);
}

/*
 * A new context on the mount, published in the set only once it exists.
 * @queue: libaio's io_queue_init() rules (L2) rather than io_setup()'s.
 */
static int emu_setup(int maxevents, io_context_t *ctxp, bool queue)
{
	struct evfdfs_io_ctx **cp = (struct evfdfs_io_ctx **)ctxp;
	int ret;

	if (queue)
		ret = LIB_CALL(evfdfs_io_queue_init(shim.mnt, maxevents, cp));
	else
		ret = LIB_CALL(
			evfdfs_io_setup(shim.mnt, (unsigned int)maxevents, cp));
	if (ret)
		return ret;
	ret = ctx_add(*ctxp);
	if (ret) {
		LIB_CALL(evfdfs_io_destroy(*cp));
		*ctxp = NULL;
	}
	return ret;
}

static int emu_destroy(io_context_t ctx)
{
	ctx_remove(ctx);
	return LIB_CALL(evfdfs_io_destroy((struct evfdfs_io_ctx *)ctx));
}

/* libaio's io_queue_run (L3), with the callbacks run outside libevfdfs:
 * they are the program's code and may call anything the shim catches. */
static int emu_queue_run(io_context_t ctx)
{
	static const struct timespec zero;
	struct io_event ev;
	int ret;

	while ((ret = LIB_CALL(evfdfs_io_getevents((struct evfdfs_io_ctx *)ctx,
						   0, 1, &ev, &zero))) > 0) {
		io_callback_t cb = (io_callback_t)(uintptr_t)ev.data;

		cb(ctx, (struct iocb *)(uintptr_t)ev.obj, (long)ev.res,
		   (long)ev.res2);
	}
	return ret;
}

/* Copy @len bytes at @addr, or fail without faulting: the pointers are
 * the program's, and the kernel may have refused them already. */
static bool peek_mem(void *dst, const void *addr, size_t len)
{
	struct iovec local = { dst, len }, remote = { (void *)addr, len };

	return process_vm_readv(getpid(), &local, 1, &remote, 1, 0) ==
	       (ssize_t)len;
}

/*
 * After a kernel io_submit(2) failed with EINVAL: if the first iocb names
 * an emulated counter as its IOCB_FLAG_RESFD, say why (once).  The kernel
 * signals only its own eventfds, and it decided the errno itself; the shim
 * only explains it.
 */
static void explain_submit_einval(io_context_t ctx, long nr,
				  struct iocb **iocbpp, long ret)
{
	struct iocb *p, cb;

	if (ret != -EINVAL || nr <= 0 || !shim.active || shim_in_lib ||
	    atomic_load(&shim.warned_resfd) || ctx_is_retired(ctx))
		return;
	if (!peek_mem(&p, iocbpp, sizeof(p)) || !peek_mem(&cb, p, sizeof(cb)))
		return;
	if (!(cb.u.c.flags & IOCB_FLAG_RESFD) ||
	    !shim_fd_is_emulated((int)cb.u.c.resfd))
		return;
	if (!atomic_exchange(&shim.warned_resfd, true))
		shim_say("io_submit: descriptor %d, the IOCB_FLAG_RESFD of a "
			 "kernel AIO context, is an evfdfs counter (eventfd() "
			 "runs on %s); the kernel signals only its own "
			 "eventfds, so it fails with EINVAL.  Let the shim "
			 "run AIO too (unset EVFDFS_PRELOAD_AIO), or see "
			 "libevfdfs(3).",
			 (int)cb.u.c.resfd, shim.mnt);
}

/*
 * Leaves errno as the kernel set it: the look at the iocbs makes system
 * calls of its own (process_vm_readv, fstat) that fail with EFAULT or
 * EBADF on what a bad submit holds, and libaio (whose io_submit is a
 * syscall() call, which the shim interposes) and syscall() callers read
 * errno after this.
 */
static void explain_kernel_submit(io_context_t ctx, long nr,
				  struct iocb **iocbpp, long ret)
{
	int saved_errno = errno;

	explain_submit_einval(ctx, nr, iocbpp, ret);
	errno = saved_errno;
}

/* Raw syscalls in libaio's shape (-errno), for a program without libaio. */
static long sys_aio(long nr, long a, long b, long c, long d, long e, long f)
{
	long ret = shim.syscall(nr, a, b, c, d, e, f);

	return ret < 0 ? -errno : ret;
}

EXPORT int io_setup(int maxevents, io_context_t *ctxp)
{
	KEEP_ERRNO;

	if (shim_on() && shim.aio)
		return emu_setup(maxevents, ctxp, false);
	if (shim.io_setup)
		return shim.io_setup(maxevents, ctxp);
	return (int)sys_aio(SYS_io_setup, maxevents, (long)ctxp, 0, 0, 0, 0);
}

EXPORT int io_queue_init(int maxevents, io_context_t *ctxp)
{
	KEEP_ERRNO;

	if (shim_on() && shim.aio)
		return emu_setup(maxevents, ctxp, true);
	if (shim.io_queue_init)
		return shim.io_queue_init(maxevents, ctxp);
	if (maxevents <= 0)
		return -EINVAL;
	*ctxp = NULL;
	return io_setup(maxevents, ctxp);
}

EXPORT int io_destroy(io_context_t ctx)
{
	KEEP_ERRNO;

	if (emulated_ctx(ctx))
		return emu_destroy(ctx);
	if (shim.io_destroy)
		return shim.io_destroy(ctx);
	return (int)sys_aio(SYS_io_destroy, (long)ctx, 0, 0, 0, 0, 0);
}

EXPORT int io_queue_release(io_context_t ctx)
{
	KEEP_ERRNO;

	if (emulated_ctx(ctx))
		return emu_destroy(ctx);
	if (shim.io_queue_release)
		return shim.io_queue_release(ctx);
	return io_destroy(ctx);
}

EXPORT int io_submit(io_context_t ctx, long nr, struct iocb **iocbpp)
{
	KEEP_ERRNO;
	int ret;

	if (emulated_ctx(ctx))
		return LIB_CALL(evfdfs_io_submit((struct evfdfs_io_ctx *)ctx,
						 nr, iocbpp));
	if (shim.io_submit)
		ret = shim.io_submit(ctx, nr, iocbpp);
	else
		ret = (int)sys_aio(SYS_io_submit, (long)ctx, nr, (long)iocbpp,
				   0, 0, 0);
	explain_kernel_submit(ctx, nr, iocbpp, ret);
	return ret;
}

/*
 * L4: libaio's io_getevents and io_pgetevents answer a {0, 0} timeout on
 * an empty ring (magic right, head == tail) with 0 before any system call,
 * whatever min_nr says.  The shim stands in for them on the rings it made.
 */
static bool libaio_empty_peek(io_context_t ctx, const struct timespec *timeout)
{
	struct {
		unsigned int id, nr, head, tail, magic;
	} r;
	struct timespec ts;

	if (!timeout || !peek_mem(&ts, timeout, sizeof(ts)) || ts.tv_sec ||
	    ts.tv_nsec)
		return false;
	return peek_mem(&r, ctx, sizeof(r)) && r.magic == 0xa10a10a1u &&
	       r.head == r.tail;
}

EXPORT int io_getevents(io_context_t ctx, long min_nr, long nr,
			struct io_event *events, struct timespec *timeout)
{
	KEEP_ERRNO;

	if (emulated_ctx(ctx) && libaio_empty_peek(ctx, timeout))
		return 0;
	if (emulated_ctx(ctx))
		return LIB_CALL(evfdfs_io_getevents((struct evfdfs_io_ctx *)ctx,
						    min_nr, nr, events,
						    timeout));
	if (shim.io_getevents)
		return shim.io_getevents(ctx, min_nr, nr, events, timeout);
	return (int)sys_aio(SYS_io_getevents, (long)ctx, min_nr, nr,
			    (long)events, (long)timeout, 0);
}

EXPORT int io_pgetevents(io_context_t ctx, long min_nr, long nr,
			 struct io_event *events, struct timespec *timeout,
			 sigset_t *sigmask)
{
	KEEP_ERRNO;
	struct {
		const sigset_t *sigmask;
		size_t sigsetsize;
	} usig = { sigmask, _NSIG / 8 };

	if (emulated_ctx(ctx) && libaio_empty_peek(ctx, timeout))
		return 0;
	if (emulated_ctx(ctx))
		return LIB_CALL(evfdfs_io_pgetevents(
			(struct evfdfs_io_ctx *)ctx, min_nr, nr, events,
			timeout, sigmask));
	if (shim.io_pgetevents)
		return shim.io_pgetevents(ctx, min_nr, nr, events, timeout,
					  sigmask);
	return (int)sys_aio(SYS_io_pgetevents, (long)ctx, min_nr, nr,
			    (long)events, (long)timeout, (long)&usig);
}

EXPORT int io_cancel(io_context_t ctx, struct iocb *iocb,
		     struct io_event *result)
{
	KEEP_ERRNO;

	if (emulated_ctx(ctx))
		return LIB_CALL(evfdfs_io_cancel((struct evfdfs_io_ctx *)ctx,
						 iocb, result));
	if (shim.io_cancel)
		return shim.io_cancel(ctx, iocb, result);
	return (int)sys_aio(SYS_io_cancel, (long)ctx, (long)iocb, (long)result,
			    0, 0, 0);
}

EXPORT int io_queue_run(io_context_t ctx)
{
	if (emulated_ctx(ctx))
		return emu_queue_run(ctx);
	if (shim.io_queue_run)
		return shim.io_queue_run(ctx);
	return -ENOSYS; /* needs libaio's callbacks: only libaio has them */
}

/* The io_* system calls through syscall(): see preload_i.h. */
bool shim_syscall_aio(long nr, const long *a, long *ret)
{
	io_context_t ctx = (io_context_t)a[0];
	long r;

	switch (nr) {
	case SYS_io_setup:
		if (!shim.aio)
			return false;
		/* The kernel's nr_events is unsigned; io_setup()'s int. */
		r = emu_setup((int)(unsigned int)a[0], (io_context_t *)a[1],
			      false);
		break;
	case SYS_io_destroy:
		if (!ctx_is_ours(ctx))
			return false;
		r = emu_destroy(ctx);
		break;
	case SYS_io_submit:
		if (!ctx_is_ours(ctx)) {
			r = shim.syscall(nr, a[0], a[1], a[2]);
			explain_kernel_submit(ctx, a[1], (struct iocb **)a[2],
					      r < 0 ? -errno : r);
			*ret = r;
			return true;
		}
		r = LIB_CALL(evfdfs_io_submit((struct evfdfs_io_ctx *)ctx, a[1],
					      (struct iocb **)a[2]));
		break;
	case SYS_io_getevents:
		if (!ctx_is_ours(ctx))
			return false;
		r = LIB_CALL(
			evfdfs_io_getevents((struct evfdfs_io_ctx *)ctx, a[1],
					    a[2], (struct io_event *)a[3],
					    (const struct timespec *)a[4]));
		break;
#ifdef SYS_io_pgetevents
	case SYS_io_pgetevents: {
		/* struct __aio_sigset, read without faulting, after the
		 * timeout, as the kernel reads them (A70). */
		struct {
			const sigset_t *sigmask;
			size_t sigsetsize;
		} usig = { NULL, 0 };
		struct timespec ts;

		if (!ctx_is_ours(ctx))
			return false;
		if (a[4] && !peek_mem(&ts, (const void *)a[4], sizeof(ts)))
			r = -EFAULT;
		else if (a[5] &&
			 !peek_mem(&usig, (const void *)a[5], sizeof(usig)))
			r = -EFAULT;
		else if (usig.sigmask && usig.sigsetsize != _NSIG / 8)
			r = -EINVAL;
		else
			r = LIB_CALL(evfdfs_io_pgetevents(
				(struct evfdfs_io_ctx *)ctx, a[1], a[2],
				(struct io_event *)a[3],
				(const struct timespec *)a[4], usig.sigmask));
		break;
	}
#endif
	case SYS_io_cancel:
		if (!ctx_is_ours(ctx))
			return false;
		r = LIB_CALL(evfdfs_io_cancel((struct evfdfs_io_ctx *)ctx,
					      (struct iocb *)a[1],
					      (struct io_event *)a[2]));
		break;
	default:
		return false;
	}
	*ret = shim_ret_errno(r);
	return true;
}

/*
 * mremap(2) of a ring the shim made.  Linux's ring mapping cannot grow
 * (VM_DONTEXPAND: EFAULT), and moving it moves the context
 * (aio_ring_mremap): the handle the program holds afterwards is the new
 * address, and the old one is no context any more (A15).  The library
 * works on a mapping of its own, so it only has to learn the new handle.
 */
EXPORT void *mremap(void *old, size_t old_len, size_t new_len, int flags, ...)
{
	static void *(*real)(void *, size_t, size_t, int, ...);
	void *new_addr = NULL, *ret;
	bool ours = shim_on() && ctx_is_ours(old);
	va_list ap;

	if (flags & MREMAP_FIXED) {
		va_start(ap, flags);
		new_addr = va_arg(ap, void *);
		va_end(ap);
	}
	if (ours && new_len > old_len) {
		errno = EFAULT;
		return MAP_FAILED;
	}
	if (!real)
		real = (void *(*)(void *, size_t, size_t, int, ...))dlsym(
			RTLD_NEXT, "mremap");
	if (real)
		ret = real(old, old_len, new_len, flags, new_addr);
	else
		ret = (void *)shim_ret_errno((long)syscall(
			SYS_mremap, old, old_len, new_len, flags, new_addr));
	if (ours && ret != MAP_FAILED && ret != old) {
		KEEP_ERRNO;

		LIB_CALL(ctx_ring_moved(old, ret));
		ctx_rename(old, ret);
	}
	return ret;
}
