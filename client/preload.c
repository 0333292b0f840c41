// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libevfdfs-preload.so: run an unmodified, dynamically linked program's
 * eventfd counters on an evfdfs mount.
 *
 *     EVFDFS_MOUNT=/mnt/ev LD_PRELOAD=libevfdfs-preload.so ./program
 *
 * With EVFDFS_MOUNT set, eventfd() (and syscall(SYS_eventfd / SYS_eventfd2),
 * which libaio and many test programs use instead) creates an anonymous
 * counter in the mount: a uniquely named file created O_EXCL, given its
 * EFD_SEMAPHORE flag and initial value through the counter's extended
 * attributes, and unlinked at once.  The descriptor the program gets is that
 * file; read, write, poll, select, epoll, dup, fork and SCM_RIGHTS work on it
 * unchanged, because the counter file already has eventfd semantics.  What
 * the kernel shows differently for a file, the shim corrects where it can:
 * fcntl(F_GETFL) reports exactly what an eventfd reports (no O_LARGEFILE).
 *
 * Without EVFDFS_MOUNT every hook passes straight to the next definition
 * (dlsym(RTLD_NEXT)): the shim changes nothing.
 *
 * Which descriptors are emulated: a table indexed by fd holds the inode of
 * the counter the shim created there, kept right across close, dup, dup2,
 * dup3, fcntl(F_DUPFD*) and close_range; fork copies it.  The table is only
 * a cache: every answer is checked against fstat (same device as the mount,
 * same inode), so a descriptor closed behind the shim's back (a raw syscall)
 * is never mistaken for a counter.  After exec the table is empty; then a
 * descriptor is recognised by its path, which names an anonymous counter of
 * the mount ("MNT/.evfdfs-anon-... (deleted)"), so inherited counters keep
 * their eventfd face.
 *
 * The hooks on hot paths (close, dup*, fcntl) use atomics only: no lock, no
 * allocation, async-signal-safe as the calls they wrap.
 */
/* The shim defines fcntl and fcntl64 itself: without this, <fcntl.h> would
 * rename its fcntl to fcntl64 (the build asks for 64-bit offsets, which
 * 64-bit targets have anyway). */
#undef _FILE_OFFSET_BITS
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <libaio.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "evfdfs.h"

#define EXPORT __attribute__((visibility("default")))

/* <linux/aio_abi.h>'s IOCB_FLAG_RESFD (that header and <libaio.h> both
 * define struct iocb, so only one can be included). */
#define IOCB_FLAG_RESFD (1u << 0)

/* The name every anonymous counter starts with, inside the mount. */
#define ANON_PREFIX ".evfdfs-anon-"

/* What fcntl(F_GETFL) may show on an eventfd: the access mode and the
 * flags F_SETFL can change.  Everything else a file shows (O_LARGEFILE,
 * forced on every open of a 64-bit kernel) is not there on an eventfd. */
#define EVENTFD_FL_MASK \
	(O_ACCMODE | O_APPEND | O_NONBLOCK | O_ASYNC | O_DIRECT | O_NOATIME)

/* Descriptors below this are cached in fd_ino[]; higher ones always take
 * the slow path, which is as correct, only slower. */
#define FD_TABLE_SIZE 65536

static struct shim {
	pthread_once_t once;
	bool active;	    /* EVFDFS_MOUNT is set */
	bool aio;	    /* and EVFDFS_PRELOAD_AIO is not "0" */
	char mnt[PATH_MAX]; /* its real path */
	size_t mntlen;
	_Atomic unsigned long long dev; /* the mount's st_dev; 0: unknown */
	_Atomic unsigned int seq;	/* for unique counter names */
	_Atomic bool warned_create;
	_Atomic bool warned_resfd;

	int (*eventfd)(unsigned int, int);
	int (*eventfd_read)(int, eventfd_t *);
	int (*eventfd_write)(int, eventfd_t);
	long (*syscall)(long, ...);
	int (*fcntl)(int, int, ...);
	int (*fcntl64)(int, int, ...);
	int (*close)(int);
	int (*dup)(int);
	int (*dup2)(int, int);
	int (*dup3)(int, int, int);
	int (*close_range)(unsigned int, unsigned int, int);
	void (*closefrom)(int);

	/* libaio's, for contexts that are not the shim's; NULL when the
	 * program does not use libaio (then the raw syscalls stand in). */
	int (*io_setup)(int, io_context_t *);
	int (*io_destroy)(io_context_t);
	int (*io_submit)(io_context_t, long, struct iocb **);
	int (*io_getevents)(io_context_t, long, long, struct io_event *,
			    struct timespec *);
	int (*io_pgetevents)(io_context_t, long, long, struct io_event *,
			     struct timespec *, sigset_t *);
	int (*io_cancel)(io_context_t, struct iocb *, struct io_event *);
	int (*io_queue_init)(int, io_context_t *);
	int (*io_queue_release)(io_context_t);
	int (*io_queue_run)(io_context_t);
} shim = { .once = PTHREAD_ONCE_INIT };

/*
 * Set while this thread is inside libevfdfs (linked into the shim): the
 * library's own eventfd() and fcntl() calls must reach the kernel, not the
 * emulation.  initial-exec: the shim is preloaded, so its TLS is static,
 * and reading it never allocates.
 */
static __thread int in_lib __attribute__((tls_model("initial-exec")));

#define LIB_CALL(expr)                              \
	({                                          \
		in_lib++;                           \
		__typeof__(expr) lib_ret_ = (expr); \
		in_lib--;                           \
		lib_ret_;                           \
	})

/* The inode of the counter the shim created at fd N, 0 if none. */
static _Atomic uint64_t fd_ino[FD_TABLE_SIZE];

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
static void ctxs_lock(void)
{
	pthread_mutex_lock(&ctxs.lock);
}

static void ctxs_unlock(void)
{
	pthread_mutex_unlock(&ctxs.lock);
}

static void *next_sym(const char *name)
{
	return dlsym(RTLD_NEXT, name);
}

static void shim_init_once(void)
{
	const char *mnt = getenv("EVFDFS_MOUNT");

	shim.eventfd = next_sym("eventfd");
	shim.eventfd_read = next_sym("eventfd_read");
	shim.eventfd_write = next_sym("eventfd_write");
	shim.syscall = next_sym("syscall");
	shim.fcntl = next_sym("fcntl");
	shim.fcntl64 = next_sym("fcntl64");
	shim.close = next_sym("close");
	shim.dup = next_sym("dup");
	shim.dup2 = next_sym("dup2");
	shim.dup3 = next_sym("dup3");
	shim.close_range = next_sym("close_range");
	shim.closefrom = next_sym("closefrom");
	if (!shim.fcntl64)
		shim.fcntl64 = shim.fcntl;
	shim.io_setup = next_sym("io_setup");
	shim.io_destroy = next_sym("io_destroy");
	shim.io_submit = next_sym("io_submit");
	shim.io_getevents = next_sym("io_getevents");
	shim.io_pgetevents = next_sym("io_pgetevents");
	shim.io_cancel = next_sym("io_cancel");
	shim.io_queue_init = next_sym("io_queue_init");
	shim.io_queue_release = next_sym("io_queue_release");
	shim.io_queue_run = next_sym("io_queue_run");

	if (!mnt || !*mnt)
		return;
	/* The canonical path is what /proc/self/fd shows; if the mount
	 * point does not resolve yet, keep the name as given. */
	if (!realpath(mnt, shim.mnt))
		snprintf(shim.mnt, sizeof(shim.mnt), "%s", mnt);
	shim.mntlen = strlen(shim.mnt);
	while (shim.mntlen > 1 && shim.mnt[shim.mntlen - 1] == '/')
		shim.mnt[--shim.mntlen] = '\0';
	shim.active = true;
	mnt = getenv("EVFDFS_PRELOAD_AIO");
	shim.aio = !mnt || strcmp(mnt, "0") != 0;
	pthread_atfork(ctxs_lock, ctxs_unlock, ctxs_unlock);
}

static inline void shim_init(void)
{
	pthread_once(&shim.once, shim_init_once);
}

/* Whether to emulate: a mount is set and the caller is not libevfdfs. */
static inline bool shim_on(void)
{
	shim_init();
	return shim.active && !in_lib;
}

/* One line on stderr, written with write(2): no stdio lock, no malloc. */
__attribute__((format(printf, 1, 2))) static void shim_say(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	n = snprintf(buf, sizeof(buf), "libevfdfs-preload: ");
	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	if (write(STDERR_FILENO, buf, (size_t)n) < 0) {
		/* nowhere left to say it */
	}
}

/* Set errno from a -errno result: the libc-shaped edge of the shim. */
static long ret_errno(long ret)
{
	if (ret < 0) {
		errno = (int)-ret;
		return -1;
	}
	return ret;
}

/* ------------------------------------------------------------------ */
/* Which descriptors are emulated counters                             */

static void fd_set_ino(int fd, uint64_t ino)
{
	if (fd >= 0 && fd < FD_TABLE_SIZE)
		atomic_store_explicit(&fd_ino[fd], ino, memory_order_relaxed);
}

static uint64_t fd_get_ino(int fd)
{
	if (fd >= 0 && fd < FD_TABLE_SIZE)
		return atomic_load_explicit(&fd_ino[fd], memory_order_relaxed);
	return 0;
}

/* After a successful dup of @oldfd to @newfd: @newfd is what @oldfd is. */
static void fd_copy(int oldfd, int newfd)
{
	if (newfd >= 0 && newfd != oldfd)
		fd_set_ino(newfd, fd_get_ino(oldfd));
}

static unsigned long long mount_dev(void)
{
	unsigned long long dev = atomic_load(&shim.dev);
	struct stat st;

	if (dev == 0 && stat(shim.mnt, &st) == 0) {
		dev = st.st_dev;
		atomic_store(&shim.dev, dev);
	}
	return dev;
}

/* "/proc/self/fd/N" without stdio, so the slow path stays signal-safe. */
static void proc_fd_path(char *buf, int fd)
{
	static const char pre[] = "/proc/self/fd/";
	char digits[16];
	int n = 0;

	memcpy(buf, pre, sizeof(pre) - 1);
	buf += sizeof(pre) - 1;
	do {
		digits[n++] = (char)('0' + fd % 10);
		fd /= 10;
	} while (fd);
	while (n)
		*buf++ = digits[--n];
	*buf = '\0';
}

/*
 * fd_is_emulated() - whether @fd is an anonymous counter of the mount
 * (made by this shim, here or before an exec).  The table answers for
 * descriptors the shim saw created; fstat confirms it (the fd may have been
 * closed and reused behind the shim's back); the path answers for
 * inherited ones.
 */
static bool fd_is_emulated(int fd)
{
	char link[32], path[PATH_MAX + 32];
	unsigned long long dev;
	struct stat st;
	ssize_t n;

	if (!shim.active || fd < 0 || fstat(fd, &st) != 0 ||
	    !S_ISREG(st.st_mode))
		return false;
	dev = mount_dev();
	if (dev == 0 || st.st_dev != dev)
		return false;
	if (fd_get_ino(fd) == st.st_ino)
		return true;
	proc_fd_path(link, fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n <= 0)
		return false;
	path[n] = '\0';
	if ((size_t)n <= shim.mntlen + 1 + sizeof(ANON_PREFIX) - 1 ||
	    memcmp(path, shim.mnt, shim.mntlen) != 0 ||
	    path[shim.mntlen] != '/' ||
	    memcmp(path + shim.mntlen + 1, ANON_PREFIX,
		   sizeof(ANON_PREFIX) - 1) != 0 ||
	    strchr(path + shim.mntlen + 1, '/'))
		return false;
	fd_set_ino(fd, st.st_ino);
	return true;
}

/* ------------------------------------------------------------------ */
/* eventfd                                                             */

/*
 * emu_eventfd() - eventfd2(initval, flags) on the mount.
 * Returns: the descriptor, or -EINVAL (a flag eventfd2 does not know), or
 * what open, fsetxattr or unlink failed with (ENOENT or ENOTCONN when
 * nothing is mounted there, EMFILE, ENFILE, ENOMEM).
 */
static int emu_eventfd(unsigned int initval, int flags)
{
	char path[PATH_MAX + 64], val[16];
	int oflags, fd, ret, tries;
	struct stat st;

	if (flags & ~(EFD_SEMAPHORE | EFD_NONBLOCK | EFD_CLOEXEC))
		return -EINVAL;
	oflags = O_RDWR | O_CREAT | O_EXCL | (flags & EFD_NONBLOCK) |
		 (flags & EFD_CLOEXEC);
	for (tries = 0;; tries++) {
		snprintf(path, sizeof(path), "%s/" ANON_PREFIX "%d-%u",
			 shim.mnt, (int)getpid(),
			 atomic_fetch_add(&shim.seq, 1));
		fd = open(path, oflags, 0600);
		if (fd >= 0)
			break;
		ret = -errno;
		if (ret != -EEXIST || tries > 1000)
			goto err_report;
	}
	if ((flags & EFD_SEMAPHORE) &&
	    fsetxattr(fd, "user.evfdfs.semaphore", "1", 1, 0) != 0) {
		ret = -errno;
		goto err_unlink;
	}
	if (initval) {
		snprintf(val, sizeof(val), "%u", initval);
		if (fsetxattr(fd, "user.evfdfs.value", val, strlen(val), 0) !=
		    0) {
			ret = -errno;
			goto err_unlink;
		}
	}
	if (unlink(path) != 0) {
		ret = -errno;
		goto err_unlink;
	}
	if (fstat(fd, &st) == 0) {
		atomic_store(&shim.dev, (unsigned long long)st.st_dev);
		fd_set_ino(fd, st.st_ino);
	}
	return fd;

err_unlink:
	unlink(path);
	shim.close(fd);
err_report:
	if (!atomic_exchange(&shim.warned_create, true))
		shim_say("eventfd: cannot make a counter in %s: %s", shim.mnt,
			 strerror(-ret));
	return ret;
}

EXPORT int eventfd(unsigned int initval, int flags)
{
	if (!shim_on())
		return shim.eventfd(initval, flags);
	return (int)ret_errno(emu_eventfd(initval, flags));
}

/*
 * glibc's eventfd_read and eventfd_write are one 8-byte read or write; on
 * an emulated descriptor that read or write reaches the counter through the
 * kernel like any other.  The hooks do the same here so that the path is
 * the shim's own and does not depend on how a libc implements them.
 */
EXPORT int eventfd_read(int fd, eventfd_t *value)
{
	if (!shim_on())
		return shim.eventfd_read(fd, value);
	return read(fd, value, sizeof(*value)) == sizeof(*value) ? 0 : -1;
}

EXPORT int eventfd_write(int fd, eventfd_t value)
{
	if (!shim_on())
		return shim.eventfd_write(fd, value);
	return write(fd, &value, sizeof(value)) == sizeof(value) ? 0 : -1;
}

/* ------------------------------------------------------------------ */
/* Descriptor bookkeeping: close, dup*, fcntl                          */

EXPORT int close(int fd)
{
	shim_init();
	/* Forget first: once closed, the number may be reused at once. */
	if (shim.active)
		fd_set_ino(fd, 0);
	return shim.close(fd);
}

EXPORT int dup(int oldfd)
{
	int fd;

	shim_init();
	fd = shim.dup(oldfd);
	if (shim.active)
		fd_copy(oldfd, fd);
	return fd;
}

EXPORT int dup2(int oldfd, int newfd)
{
	int fd;

	shim_init();
	fd = shim.dup2(oldfd, newfd);
	if (shim.active)
		fd_copy(oldfd, fd);
	return fd;
}

EXPORT int dup3(int oldfd, int newfd, int flags)
{
	int fd;

	shim_init();
	fd = shim.dup3(oldfd, newfd, flags);
	if (shim.active)
		fd_copy(oldfd, fd);
	return fd;
}

static void forget_range(unsigned int first, unsigned int last)
{
	unsigned int fd;

	if (last >= FD_TABLE_SIZE)
		last = FD_TABLE_SIZE - 1;
	for (fd = first; fd <= last; fd++)
		fd_set_ino((int)fd, 0);
}

EXPORT int close_range(unsigned int first, unsigned int last, int flags)
{
	shim_init();
	if (!shim.close_range) {
		errno = ENOSYS;
		return -1;
	}
	if (shim.active && first <= last && !(flags & CLOSE_RANGE_CLOEXEC))
		forget_range(first, last);
	return shim.close_range(first, last, flags);
}

EXPORT void closefrom(int lowfd)
{
	shim_init();
	if (shim.active && lowfd >= 0)
		forget_range((unsigned int)lowfd, UINT_MAX);
	if (shim.closefrom)
		shim.closefrom(lowfd);
}

/*
 * The fcntl commands the shim looks at: F_DUPFD and F_DUPFD_CLOEXEC copy
 * the table entry; F_GETFL on an emulated counter reports what an eventfd
 * reports.  The third argument is passed on as a pointer-sized value,
 * which carries an int or a pointer alike (glibc does the same).
 */
static long fcntl_after(int fd, int cmd, long ret)
{
	if (!shim.active || ret < 0)
		return ret;
	switch (cmd) {
	case F_DUPFD:
	case F_DUPFD_CLOEXEC:
		fd_copy(fd, (int)ret);
		break;
	case F_GETFL:
		/* Only a file shows bits an eventfd does not: check then. */
		if ((ret & ~EVENTFD_FL_MASK) && !in_lib && fd_is_emulated(fd))
			ret &= EVENTFD_FL_MASK;
		break;
	}
	return ret;
}

EXPORT int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	shim_init();
	return (int)fcntl_after(fd, cmd, shim.fcntl(fd, cmd, arg));
}

EXPORT int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	shim_init();
	return (int)fcntl_after(fd, cmd, shim.fcntl64(fd, cmd, arg));
}

/* ------------------------------------------------------------------ */
/* libaio                                                              */

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
static void explain_kernel_submit(io_context_t ctx, long nr,
				  struct iocb **iocbpp, long ret)
{
	struct iocb *p, cb;

	if (ret != -EINVAL || nr <= 0 || !shim.active || in_lib ||
	    atomic_load(&shim.warned_resfd) || ctx_is_retired(ctx))
		return;
	if (!peek_mem(&p, iocbpp, sizeof(p)) || !peek_mem(&cb, p, sizeof(cb)))
		return;
	if (!(cb.u.c.flags & IOCB_FLAG_RESFD) ||
	    !fd_is_emulated((int)cb.u.c.resfd))
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

/* Raw syscalls in libaio's shape (-errno), for a program without libaio. */
static long sys_aio(long nr, long a, long b, long c, long d, long e, long f)
{
	long ret = shim.syscall(nr, a, b, c, d, e, f);

	return ret < 0 ? -errno : ret;
}

EXPORT int io_setup(int maxevents, io_context_t *ctxp)
{
	if (shim_on() && shim.aio)
		return emu_setup(maxevents, ctxp, false);
	if (shim.io_setup)
		return shim.io_setup(maxevents, ctxp);
	return (int)sys_aio(SYS_io_setup, maxevents, (long)ctxp, 0, 0, 0, 0);
}

EXPORT int io_queue_init(int maxevents, io_context_t *ctxp)
{
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
	if (emulated_ctx(ctx))
		return emu_destroy(ctx);
	if (shim.io_destroy)
		return shim.io_destroy(ctx);
	return (int)sys_aio(SYS_io_destroy, (long)ctx, 0, 0, 0, 0, 0);
}

EXPORT int io_queue_release(io_context_t ctx)
{
	if (emulated_ctx(ctx))
		return emu_destroy(ctx);
	if (shim.io_queue_release)
		return shim.io_queue_release(ctx);
	return io_destroy(ctx);
}

EXPORT int io_submit(io_context_t ctx, long nr, struct iocb **iocbpp)
{
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

EXPORT int io_getevents(io_context_t ctx, long min_nr, long nr,
			struct io_event *events, struct timespec *timeout)
{
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
	struct {
		const sigset_t *sigmask;
		size_t sigsetsize;
	} usig = { sigmask, _NSIG / 8 };

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

/*
 * The io_* system calls through syscall(), libc-shaped (-1 and errno).
 * Returns 1 and sets *@ret when the call was the shim's to make.
 */
static int syscall_aio(long nr, const long *a, long *ret)
{
	io_context_t ctx = (io_context_t)a[0];
	long r;

	switch (nr) {
	case SYS_io_setup:
		if (!shim.aio)
			return 0;
		/* The kernel's nr_events is unsigned; io_setup()'s int. */
		r = emu_setup((int)(unsigned int)a[0], (io_context_t *)a[1],
			      false);
		break;
	case SYS_io_destroy:
		if (!ctx_is_ours(ctx))
			return 0;
		r = emu_destroy(ctx);
		break;
	case SYS_io_submit:
		if (!ctx_is_ours(ctx)) {
			r = shim.syscall(nr, a[0], a[1], a[2]);
			explain_kernel_submit(ctx, a[1], (struct iocb **)a[2],
					      r < 0 ? -errno : r);
			*ret = r;
			return 1;
		}
		r = LIB_CALL(evfdfs_io_submit((struct evfdfs_io_ctx *)ctx, a[1],
					      (struct iocb **)a[2]));
		break;
	case SYS_io_getevents:
		if (!ctx_is_ours(ctx))
			return 0;
		r = LIB_CALL(
			evfdfs_io_getevents((struct evfdfs_io_ctx *)ctx, a[1],
					    a[2], (struct io_event *)a[3],
					    (const struct timespec *)a[4]));
		break;
#ifdef SYS_io_pgetevents
	case SYS_io_pgetevents: {
		/* struct __aio_sigset, read without faulting (A70). */
		struct {
			const sigset_t *sigmask;
			size_t sigsetsize;
		} usig = { NULL, 0 };

		if (!ctx_is_ours(ctx))
			return 0;
		if (a[5] && !peek_mem(&usig, (const void *)a[5], sizeof(usig)))
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
			return 0;
		r = LIB_CALL(evfdfs_io_cancel((struct evfdfs_io_ctx *)ctx,
					      (struct iocb *)a[1],
					      (struct io_event *)a[2]));
		break;
	default:
		return 0;
	}
	*ret = ret_errno(r);
	return 1;
}

/* ------------------------------------------------------------------ */
/* syscall(): libaio and test programs reach eventfd and AIO this way  */

EXPORT long syscall(long nr, ...)
{
	long a[6];
	va_list ap;
	int i;

	va_start(ap, nr);
	for (i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (shim_on()) {
		long ret;

		if (syscall_aio(nr, a, &ret))
			return ret;
		switch (nr) {
#ifdef SYS_eventfd
		case SYS_eventfd:
			return ret_errno(emu_eventfd((unsigned int)a[0], 0));
#endif
		case SYS_eventfd2:
			return ret_errno(
				emu_eventfd((unsigned int)a[0], (int)a[1]));
		case SYS_close:
			fd_set_ino((int)a[0], 0);
			break;
		case SYS_dup: {
			long fd = shim.syscall(nr, a[0]);

			fd_copy((int)a[0], (int)fd);
			return fd;
		}
#ifdef SYS_dup2
		case SYS_dup2:
#endif
		case SYS_dup3: {
			long fd = shim.syscall(nr, a[0], a[1], a[2]);

			fd_copy((int)a[0], (int)fd);
			return fd;
		}
		case SYS_fcntl:
			return fcntl_after((int)a[0], (int)a[1],
					   shim.syscall(nr, a[0], a[1], a[2]));
		}
	}
	return shim.syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}
