// SPDX-License-Identifier: GPL-2.0-only
/*
 * libevfdfs's counter calls on the shared mount: what they add to plain
 * files of the mount (flags checked like eventfd2's, counters that appear
 * already set up, open-or-create, names, the mount argument).  Where the
 * kernel has the same call (eventfd2 against evfdfs_eventfd) both run and
 * are compared.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <evfdfs.h>

#include "../lib/evtest.h"

#define TMO 10

static char *xattr(int fd, const char *name, char *buf, size_t len)
{
	ssize_t n = fgetxattr(fd, name, buf, len - 1);

	cr_assert(n >= 0, "fgetxattr %s: %s", name, strerror(errno));
	buf[n] = '\0';
	return buf;
}

/*
 * None of this process's private creation names is left in the directory.
 * The library names them ".evfdfs-new-PID-..."; only our own PID counts,
 * since the tests beside this one in the shared mount (Criterion runs them
 * in parallel, each in its own process) may be halfway through a creation
 * of their own while we look.
 */
static void assert_no_leftovers(const char *mnt)
{
	DIR *d = opendir(mnt);
	struct dirent *e;
	char mine[64];
	size_t n;

	n = (size_t)snprintf(mine, sizeof(mine), ".evfdfs-new-%d-",
			     (int)getpid());
	cr_assert(d);
	while ((e = readdir(d)))
		cr_expect(strncmp(e->d_name, mine, n) != 0, "left behind: %s",
			  e->d_name);
	closedir(d);
}

/* E1-E4 against eventfd2: flags, initval, semaphore, descriptor flags. */
Test(libevfdfs, eventfd_flags_as_eventfd2, .timeout = TMO)
{
	static const int flags[] = { 0,
				     EFD_SEMAPHORE,
				     EFD_NONBLOCK,
				     EFD_CLOEXEC,
				     EFD_SEMAPHORE | EFD_NONBLOCK | EFD_CLOEXEC,
				     O_RDWR,
				     0x10,
				     EFD_SEMAPHORE | 0x10 };
	const char *mnt = evt_shared_mnt();
	size_t i;

	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		int k = eventfd(3, flags[i]), ke = errno;
		int m = evfdfs_eventfd(mnt, 3, flags[i]), me = errno;
		uint64_t kv = 0, mv = 0;

		cr_expect_eq(m >= 0, k >= 0, "flags %#x: kernel %d mount %d",
			     flags[i], k, m);
		if (k < 0 || m < 0) {
			cr_expect_eq(me, ke, "flags %#x: errno %s vs %s",
				     flags[i], evt_errname(me),
				     evt_errname(ke));
			if (k >= 0)
				close(k);
			if (m >= 0)
				close(m);
			continue;
		}
		cr_expect_eq(fcntl(m, F_GETFD) & FD_CLOEXEC,
			     fcntl(k, F_GETFD) & FD_CLOEXEC, "flags %#x",
			     flags[i]);
		cr_expect_eq(fcntl(m, F_GETFL) & (O_NONBLOCK | O_ACCMODE),
			     fcntl(k, F_GETFL) & (O_NONBLOCK | O_ACCMODE),
			     "flags %#x", flags[i]);
		cr_expect_eq(evfdfs_read(m, &mv), evfdfs_read(k, &kv));
		cr_expect_eq(mv, kv, "flags %#x: first read %llu vs %llu",
			     flags[i], (unsigned long long)mv,
			     (unsigned long long)kv);
		close(k);
		close(m);
	}
	assert_no_leftovers(mnt);
}

/* E2: initval is 32 bits, all of them. */
static int pending_fd = -1;

static void *eventfd_cancel_pending(void *arg)
{
	(void)arg;
	pthread_cancel(pthread_self()); /* deferred: pending from now on */
	pending_fd = evfdfs_eventfd(evt_shared_mnt(), 0, 0);
	pthread_testcancel();
	return NULL;
}

/* As eventfd2, no cancellation point: with a cancellation pending the
 * call still returns its descriptor (and leaves none half-made). */
Test(libevfdfs, eventfd_is_no_cancellation_point, .timeout = TMO)
{
	pthread_t t;
	void *ret;

	cr_assert_eq(pthread_create(&t, NULL, eventfd_cancel_pending, NULL), 0);
	cr_assert_eq(pthread_join(t, &ret), 0);
	cr_assert_eq(ret, PTHREAD_CANCELED);
	cr_assert_geq(pending_fd, 0, "the thread ended inside evfdfs_eventfd");
	close(pending_fd);
}

Test(libevfdfs, eventfd_initval_max, .timeout = TMO)
{
	int fd = evfdfs_eventfd(evt_shared_mnt(), 0xffffffffu, EFD_NONBLOCK);
	uint64_t v = 0;

	cr_assert(fd >= 0, "%s", strerror(errno));
	cr_assert_eq(evfdfs_read(fd, &v), 0);
	cr_assert_eq(v, 0xffffffffull);
	errno = 0;
	cr_assert_eq(evfdfs_read(fd, &v), -1);
	cr_assert_eq(errno, EAGAIN);
	close(fd);
}

/* glibc's eventfd_read/eventfd_write shape: 0, or -1 and errno. */
Test(libevfdfs, read_write_are_libc_shaped, .timeout = TMO)
{
	int fd = evfdfs_eventfd(evt_shared_mnt(), 0, EFD_NONBLOCK);
	uint64_t v = 0;

	cr_assert(fd >= 0);
	cr_assert_eq(evfdfs_write(fd, 5), 0);
	cr_assert_eq(evfdfs_write(fd, 0xffffffffffffffffull), -1);
	cr_assert_eq(errno, EINVAL);
	cr_assert_eq(evfdfs_write(fd, 0xfffffffffffffffeull), -1);
	cr_assert_eq(errno, EAGAIN);
	cr_assert_eq(evfdfs_read(fd, &v), 0);
	cr_assert_eq(v, 5);
	cr_assert_eq(evfdfs_read(-1, &v), -1);
	cr_assert_eq(errno, EBADF);
	close(fd);
}

/* An anonymous counter has no name from the start of its life. */
Test(libevfdfs, eventfd_is_anonymous, .timeout = TMO)
{
	const char *mnt = evt_shared_mnt();
	int fd = evfdfs_eventfd(mnt, 1, 0);
	char buf[32];

	cr_assert(fd >= 0);
	cr_assert_str_eq(xattr(fd, EVFDFS_XATTR_VALUE, buf, sizeof(buf)), "1");
	assert_no_leftovers(mnt);
	close(fd);
}

/* A created counter has its settings; a second open keeps them. */
Test(libevfdfs, counter_open_creates_then_opens, .timeout = TMO)
{
	const char *mnt = evt_shared_mnt();
	char name[64], path[4096], buf[32];
	int a, b, c;
	uint64_t v;

	evt_unique(name, sizeof(name), "lib");
	a = evfdfs_counter_open(mnt, name, 5, EFD_SEMAPHORE | EFD_NONBLOCK);
	cr_assert(a >= 0, "%s", strerror(errno));
	cr_assert_str_eq(xattr(a, EVFDFS_XATTR_SEMAPHORE, buf, sizeof(buf)),
			 "1");
	cr_assert_str_eq(xattr(a, EVFDFS_XATTR_VALUE, buf, sizeof(buf)), "5");
	/* Settings of a later open are ignored, like open(2)'s mode. */
	b = evfdfs_counter_open(mnt, name, 9, EFD_NONBLOCK);
	cr_assert(b >= 0, "%s", strerror(errno));
	cr_assert_str_eq(xattr(b, EVFDFS_XATTR_VALUE, buf, sizeof(buf)), "5");
	cr_assert_eq(evfdfs_read(b, &v), 0);
	cr_assert_eq(v, 1, "the same semaphore counter");
	cr_assert_str_eq(xattr(a, EVFDFS_XATTR_VALUE, buf, sizeof(buf)), "4");
	c = evfdfs_counter_create(mnt, name, 0, 0);
	cr_assert_eq(c, -1);
	cr_assert_eq(errno, EEXIST);
	assert_no_leftovers(mnt);
	close(a);
	close(b);
	cr_assert_eq(unlink(evt_path(path, sizeof(path), mnt, name)), 0);
}

/* Default settings: a plain O_CREAT|O_EXCL create, ready as it is. */
Test(libevfdfs, counter_create_default_settings, .timeout = TMO)
{
	const char *mnt = evt_shared_mnt();
	char name[64], path[4096], buf[32];
	int fd;

	evt_unique(name, sizeof(name), "lib");
	fd = evfdfs_counter_create(mnt, name, 0, EFD_CLOEXEC);
	cr_assert(fd >= 0, "%s", strerror(errno));
	cr_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	cr_assert_str_eq(xattr(fd, EVFDFS_XATTR_SEMAPHORE, buf, sizeof(buf)),
			 "0");
	cr_assert_str_eq(xattr(fd, EVFDFS_XATTR_VALUE, buf, sizeof(buf)), "0");
	close(fd);
	cr_assert_eq(unlink(evt_path(path, sizeof(path), mnt, name)), 0);
}

/* Bad arguments: EINVAL, before anything is created. */
Test(libevfdfs, counter_argument_checks, .timeout = TMO)
{
	static const char *const bad[] = { "",	  ".",	       "..",
					   "a/b", "has space", "tab\there" };
	const char *mnt = evt_shared_mnt();
	char name[64];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		cr_expect_eq(evfdfs_counter_open(mnt, bad[i], 1, 0), -1,
			     "name '%s'", bad[i]);
		cr_expect_eq(errno, EINVAL, "name '%s': %s", bad[i],
			     evt_errname(errno));
	}
	errno = 0;
	cr_expect_eq(evfdfs_counter_open(mnt, NULL, 0, 0), -1);
	cr_expect_eq(errno, EINVAL);
	evt_unique(name, sizeof(name), "lib");
	cr_expect_eq(evfdfs_counter_open(mnt, name, 0, 0x10), -1);
	cr_expect_eq(errno, EINVAL);
	cr_expect_eq(evfdfs_counter_create(mnt, name, 0xffffffffffffffffull, 0),
		     -1);
	cr_expect_eq(errno, EINVAL);
	cr_expect_eq(evfdfs_eventfd(mnt, 0, O_RDWR), -1);
	cr_expect_eq(errno, EINVAL);
	assert_no_leftovers(mnt);
}

/* The mount's own files are not counters. */
Test(libevfdfs, reserved_names, .timeout = TMO)
{
	static const char *const names[] = { "status", "trace", "aio",
					     "aio.txt" };
	const char *mnt = evt_shared_mnt();
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		errno = 0;
		cr_expect_eq(evfdfs_counter_create(mnt, names[i], 0, 0), -1);
		cr_expect_eq(errno, EEXIST, "create %s: %s", names[i],
			     evt_errname(errno));
		errno = 0;
		cr_expect_eq(
			evfdfs_counter_create(mnt, names[i], 3, EFD_SEMAPHORE),
			-1);
		cr_expect_eq(errno, EEXIST, "create %s with settings: %s",
			     names[i], evt_errname(errno));
		errno = 0;
		cr_expect_eq(evfdfs_counter_open(mnt, names[i], 0, 0), -1);
		cr_expect_eq(errno, EINVAL, "open %s: %s", names[i],
			     evt_errname(errno));
	}
	assert_no_leftovers(mnt);
}

/* NULL means $EVFDFS_MOUNT; no mount, or not a FUSE mount, fails. */
Test(libevfdfs, mount_argument, .timeout = TMO)
{
	const char *mnt = evt_shared_mnt();
	struct evfdfs_io_ctx *ctx = NULL;
	int fd;

	setenv(EVFDFS_MOUNT_ENV, mnt, 1);
	fd = evfdfs_eventfd(NULL, 0, 0);
	cr_assert(fd >= 0, "%s", strerror(errno));
	close(fd);
	cr_assert_eq(evfdfs_io_setup(NULL, 1, &ctx), 0);
	cr_assert_eq(evfdfs_io_destroy(ctx), 0);
	unsetenv(EVFDFS_MOUNT_ENV);
	cr_assert_eq(evfdfs_eventfd(NULL, 0, 0), -1);
	cr_assert_eq(errno, ENOENT);
	ctx = NULL;
	cr_assert_eq(evfdfs_io_setup(NULL, 1, &ctx), -ENOENT);
	cr_assert_eq(evfdfs_eventfd("/proc", 0, 0), -1);
	cr_assert_eq(errno, ENODEV);
	cr_assert_eq(evfdfs_counter_open("/nonexistent-evfdfs", "x", 0, 0), -1);
	cr_assert_eq(errno, ENOENT);
}

struct racer {
	const char *mnt, *name;
	pthread_barrier_t *start;
	int fd;
};

static void *race_open(void *arg)
{
	struct racer *r = arg;

	pthread_barrier_wait(r->start);
	r->fd = evfdfs_counter_open(r->mnt, r->name, 5,
				    EFD_SEMAPHORE | EFD_NONBLOCK);
	return NULL;
}

/*
 * Whoever opens the name first sees it set up: racing openers all get the
 * one counter, in semaphore mode with the value 5 (not 0, not 10), and a
 * plain open(2) that wins the race to the name sees the same.
 */
Test(libevfdfs, counter_appears_set_up, .timeout = TMO)
{
	const char *mnt = evt_shared_mnt();
	enum { N = 4 };
	struct racer r[N];
	pthread_barrier_t start;
	pthread_t th[N];
	char name[64], path[4096], buf[32];
	int round, i, fd;

	for (round = 0; round < 10; round++) {
		evt_unique(name, sizeof(name), "race");
		evt_path(path, sizeof(path), mnt, name);
		pthread_barrier_init(&start, NULL, N + 1);
		for (i = 0; i < N; i++) {
			r[i] = (struct racer){ mnt, name, &start, -1 };
			pthread_create(&th[i], NULL, race_open, &r[i]);
		}
		pthread_barrier_wait(&start);
		/* A reader that takes the name the moment it exists. */
		do
			fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		while (fd < 0 && errno == ENOENT);
		cr_assert(fd >= 0, "%s", strerror(errno));
		cr_expect_str_eq(
			xattr(fd, EVFDFS_XATTR_SEMAPHORE, buf, sizeof(buf)),
			"1");
		cr_expect_str_eq(
			xattr(fd, EVFDFS_XATTR_VALUE, buf, sizeof(buf)), "5");
		for (i = 0; i < N; i++) {
			pthread_join(th[i], NULL);
			cr_expect(r[i].fd >= 0, "racer %d: %s", i,
				  strerror(errno));
			if (r[i].fd >= 0)
				close(r[i].fd);
		}
		pthread_barrier_destroy(&start);
		close(fd);
		cr_assert_eq(unlink(path), 0);
	}
	assert_no_leftovers(mnt);
}
