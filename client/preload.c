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
 * libaio's calls go to the mount's AIO control file too: preload_aio.c.
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
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "preload_i.h"

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

struct shim shim = { .once = PTHREAD_ONCE_INIT };

__thread int shim_in_lib __attribute__((tls_model("initial-exec")));

/* The inode of the counter the shim created at fd N, 0 if none. */
static _Atomic uint64_t fd_ino[FD_TABLE_SIZE];

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
	else if (mnt[0] != '/')
		/* A relative name means another mount, or none, to a program
		 * this one runs after a chdir(2): hand on the resolved one. */
		setenv("EVFDFS_MOUNT", shim.mnt, 1);
	shim.mntlen = strlen(shim.mnt);
	while (shim.mntlen > 1 && shim.mnt[shim.mntlen - 1] == '/')
		shim.mnt[--shim.mntlen] = '\0';
	shim.active = true;
	mnt = getenv("EVFDFS_PRELOAD_AIO");
	shim.aio = !mnt || strcmp(mnt, "0") != 0;
	pthread_atfork(shim_ctxs_lock, shim_ctxs_unlock, shim_ctxs_unlock);
}

/*
 * errno is left as it was: the first call resolves symbols and the mount
 * (dlsym, realpath, getenv) and some of that stores into errno, which the
 * program would otherwise find set when main() starts (the constructor).
 */
void shim_init(void)
{
	int saved_errno = errno;

	pthread_once(&shim.once, shim_init_once);
	errno = saved_errno;
}

/*
 * Resolve everything before the program's main(), so that a hook first
 * reached from a signal handler (close() or dup2() are async-signal-safe,
 * pthread_once() and dlsym() are not) finds the work done.  The lazy
 * shim_init() in every hook stays for calls made from other libraries'
 * constructors, which may run before this one.
 */
__attribute__((constructor)) static void shim_ctor(void)
{
	shim_init();
}

/* One line on stderr, written with write(2): no stdio lock, no malloc. */
void shim_say(const char *fmt, ...)
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
long shim_ret_errno(long ret)
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
 * shim_fd_is_emulated() - whether @fd is an anonymous counter of the mount
 * (made by this shim, here or before an exec).  The table answers for
 * descriptors the shim saw created; fstat confirms it (the fd may have been
 * closed and reused behind the shim's back); the path answers for
 * inherited ones.
 */
bool shim_fd_is_emulated(int fd)
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
 * make_counter() - eventfd2(initval, flags) on the mount.
 * Returns: the descriptor, or -EINVAL (a flag eventfd2 does not know), or
 * what open, fsetxattr or unlink failed with (ENOENT or ENOTCONN when
 * nothing is mounted there, EMFILE, ENFILE, ENOMEM).
 */
static int make_counter(unsigned int initval, int flags)
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

/*
 * emu_eventfd() - make_counter() as eventfd2 is: no cancellation point.
 * Its open(2) is one, and a thread with a cancellation pending would end
 * there instead of getting its descriptor.
 */
static int emu_eventfd(unsigned int initval, int flags)
{
	int ret, state;

	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &state);
	ret = make_counter(initval, flags);
	pthread_setcancelstate(state, NULL);
	return ret;
}

EXPORT int eventfd(unsigned int initval, int flags)
{
	if (!shim_on())
		return shim.eventfd(initval, flags);
	return (int)shim_ret_errno(emu_eventfd(initval, flags));
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
		if ((ret & ~EVENTFD_FL_MASK) && !shim_in_lib &&
		    shim_fd_is_emulated(fd))
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

		if (shim_syscall_aio(nr, a, &ret))
			return ret;
		switch (nr) {
#ifdef SYS_eventfd
		case SYS_eventfd:
			return shim_ret_errno(
				emu_eventfd((unsigned int)a[0], 0));
#endif
		case SYS_eventfd2:
			return shim_ret_errno(
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
