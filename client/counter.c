// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Counters: named and anonymous eventfds of an evfdfs mount, and glibc's
 * eventfd_read()/eventfd_write() for them.
 *
 * A counter's creation-time settings live in two extended attributes,
 * user.evfdfs.semaphore and user.evfdfs.value.  Nobody may see a counter
 * before they are set, or a reader could take a value of 0 from a
 * semaphore counter that is not one yet.  So a counter with settings is
 * made under a private name with O_EXCL, set up (semaphore first: a value
 * set before would be read in the wrong mode), and only then renamed to
 * its name with RENAME_NOREPLACE, which fails rather than replace a
 * counter someone else made meanwhile.  A counter with the default
 * settings (0, not semaphore) needs none of it: open(O_CREAT|O_EXCL) makes
 * it ready.  An anonymous counter is unlinked right after creation and set
 * up through its descriptor, so nobody else ever holds it.
 *
 * These calls are libc-shaped: -1 and errno, set once at the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "libevfdfs_i.h"

#define FUSE_SUPER_MAGIC 0x65735546
#define COUNTER_MAX UINT64_C(0xfffffffffffffffe)
#define EFD_ALL (EFD_SEMAPHORE | EFD_NONBLOCK | EFD_CLOEXEC)
/* Attempts at open-or-create while others create and unlink the name. */
#define OPEN_TRIES 64

/* Returns an O_PATH descriptor of the mount's root, or -errno. */
static int mount_dir(const char *mnt)
{
	struct statfs sfs;
	int dfd, ret;

	if (!mnt)
		mnt = getenv(EVFDFS_MOUNT_ENV);
	if (!mnt || !*mnt)
		return -ENOENT;
	dfd = open(mnt, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	if (fstatfs(dfd, &sfs) != 0) {
		ret = -errno;
		goto err_close;
	}
	if (sfs.f_type != FUSE_SUPER_MAGIC) {
		ret = -ENODEV;
		goto err_close;
	}
	return dfd;
err_close:
	close(dfd);
	return ret;
}

static bool name_ok(const char *name)
{
	return name && *name && strcmp(name, ".") && strcmp(name, "..") &&
	       !strchr(name, '/');
}

static int oflags_of(int flags)
{
	return O_RDWR | ((flags & EFD_NONBLOCK) ? O_NONBLOCK : 0) |
	       ((flags & EFD_CLOEXEC) ? O_CLOEXEC : 0);
}

/* Semaphore first, then the value: returns 0 or -errno. */
static int configure(int fd, uint64_t initval, bool semaphore)
{
	char val[24];
	int n;

	if (semaphore && fsetxattr(fd, EVFDFS_XATTR_SEMAPHORE, "1", 1, 0) != 0)
		return -errno;
	if (initval) {
		n = snprintf(val, sizeof(val), "%" PRIu64, initval);
		if (fsetxattr(fd, EVFDFS_XATTR_VALUE, val, (size_t)n, 0) != 0)
			return -errno;
	}
	return 0;
}

/* A name nobody else uses: ".evfdfs-new-PID-SEQ-NSEC". */
static void private_name(char *buf, size_t len)
{
	static atomic_uint seq;
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(buf, len, ".evfdfs-new-%d-%u-%ld", (int)getpid(),
		 atomic_fetch_add(&seq, 1), (long)ts.tv_nsec);
}

/*
 * Create @name set up with @initval and @semaphore; returns a descriptor,
 * -EEXIST if the name is taken (by a counter or a file of the mount), or
 * -errno.
 */
static int create_ready(int dfd, const char *name, uint64_t initval,
			bool semaphore, int oflags)
{
	char tmp[64];
	int fd, ret;

	if (!initval && !semaphore) {
		fd = openat(dfd, name, oflags | O_CREAT | O_EXCL, 0600);
		return fd >= 0 ? fd : -errno;
	}
	private_name(tmp, sizeof(tmp));
	fd = openat(dfd, tmp, oflags | O_CREAT | O_EXCL, 0600);
	if (fd < 0)
		return -errno;
	ret = configure(fd, initval, semaphore);
	if (ret)
		goto err_unlink;
	if (renameat2(dfd, tmp, dfd, name, RENAME_NOREPLACE) != 0) {
		ret = -errno;
		/* The daemon refuses a reserved name as a rename target with
		 * EPERM; for the caller that name exists. */
		if (ret == -EPERM)
			ret = -EEXIST;
		goto err_unlink;
	}
	return fd;
err_unlink:
	unlinkat(dfd, tmp, 0);
	close(fd);
	return ret;
}

/* Open an existing @name, checking it is a counter: fd, -ENOENT or -errno. */
static int open_existing(int dfd, const char *name, int oflags)
{
	char v[4];
	int fd = openat(dfd, name, oflags);

	if (fd < 0)
		return -errno;
	/* Only counters have the settings; status, trace, aio do not. */
	if (fgetxattr(fd, EVFDFS_XATTR_SEMAPHORE, v, sizeof(v)) < 0) {
		close(fd);
		return -EINVAL;
	}
	return fd;
}

static int check_args(const char *name, uint64_t initval, int flags)
{
	if ((flags & ~EFD_ALL) || !name_ok(name) || initval > COUNTER_MAX)
		return -EINVAL;
	return 0;
}

/*
 * eventfd2 is no cancellation point, and a cancellation acted on between
 * the calls below (openat, close) would leave descriptors open.  So the
 * counter calls run with cancellation off.
 */
static int cancel_off(void)
{
	int state;

	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &state);
	return state;
}

static int cancel_restore(int state, int ret)
{
	pthread_setcancelstate(state, NULL);
	return ret;
}

static int counter_open_common(const char *mnt, const char *name,
			       uint64_t initval, int flags, bool excl)
{
	int dfd, fd, tries, oflags = oflags_of(flags);

	fd = check_args(name, initval, flags);
	if (fd)
		goto out;
	dfd = mount_dir(mnt);
	if (dfd < 0) {
		fd = dfd;
		goto out;
	}
	for (tries = 0; tries < OPEN_TRIES; tries++) {
		fd = create_ready(dfd, name, initval, flags & EFD_SEMAPHORE,
				  oflags);
		if (fd != -EEXIST || excl)
			break;
		fd = open_existing(dfd, name, oflags);
		if (fd != -ENOENT)
			break; /* opened, or a real error */
			       /* unlinked between the two: try again */
	}
	close(dfd);
out:
	if (fd < 0) {
		errno = -fd;
		return -1;
	}
	return fd;
}

EXPORT int evfdfs_counter_open(const char *mnt, const char *name,
			       uint64_t initval, int flags)
{
	int state = cancel_off();

	return cancel_restore(
		state, counter_open_common(mnt, name, initval, flags, false));
}

EXPORT int evfdfs_counter_create(const char *mnt, const char *name,
				 uint64_t initval, int flags)
{
	int state = cancel_off();

	return cancel_restore(
		state, counter_open_common(mnt, name, initval, flags, true));
}

static int make_anonymous(const char *mnt, unsigned int initval, int flags);

EXPORT int evfdfs_eventfd(const char *mnt, unsigned int initval, int flags)
{
	int state = cancel_off();

	return cancel_restore(state, make_anonymous(mnt, initval, flags));
}

static int make_anonymous(const char *mnt, unsigned int initval, int flags)
{
	char tmp[64];
	int dfd, fd, ret, tries;

	if (flags & ~EFD_ALL) {
		ret = -EINVAL;
		goto out;
	}
	dfd = mount_dir(mnt);
	if (dfd < 0) {
		ret = dfd;
		goto out;
	}
	for (tries = 0; tries < OPEN_TRIES; tries++) {
		private_name(tmp, sizeof(tmp));
		fd = openat(dfd, tmp, oflags_of(flags) | O_CREAT | O_EXCL,
			    0600);
		if (fd >= 0 || errno != EEXIST)
			break;
	}
	if (fd < 0) {
		ret = -errno;
		goto err_close_dir;
	}
	if (unlinkat(dfd, tmp, 0) != 0) {
		ret = -errno;
		goto err_close_fd;
	}
	ret = configure(fd, initval, flags & EFD_SEMAPHORE);
	if (ret)
		goto err_close_fd;
	close(dfd);
	return fd;
err_close_fd:
	close(fd);
err_close_dir:
	close(dfd);
out:
	errno = -ret;
	return -1;
}

EXPORT int evfdfs_read(int fd, uint64_t *value)
{
	return read(fd, value, sizeof(*value)) == sizeof(*value) ? 0 : -1;
}

EXPORT int evfdfs_write(int fd, uint64_t value)
{
	return write(fd, &value, sizeof(value)) == sizeof(value) ? 0 : -1;
}
