// SPDX-License-Identifier: GPL-2.0-only
/*
 * The two backends of the conformance suite: the kernel's eventfd and a
 * counter file of the shared mount, created, configured through its
 * extended attributes and unlinked at once, so that it is as anonymous as
 * an eventfd.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "backend.h"

static int kernel_open(unsigned int initval, int flags)
{
	int fd = eventfd(initval, flags);

	cr_assert(fd >= 0, "eventfd: %s", strerror(errno));
	return fd;
}

static void kernel_set_count(int fd, uint64_t val)
{
	uint64_t cur = 0, step;
	ssize_t n;

	/* Empty it, then add in steps no write refuses. */
	int fl = fcntl(fd, F_GETFL);

	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	n = read(fd, &cur, sizeof(cur));
	(void)n;
	fcntl(fd, F_SETFL, fl);
	while (val) {
		step = val > 0xfffffffffffffffeull ? 0xfffffffffffffffeull
						   : val;
		cr_assert(write(fd, &step, sizeof(step)) == 8, "write: %s",
			  strerror(errno));
		val -= step;
	}
}

static uint64_t kernel_peek(int fd)
{
	char path[64], line[256];
	unsigned long long v;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	cr_assert(f != NULL, "%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "eventfd-count: %llx", &v) == 1) {
			fclose(f);
			return v;
		}
	fclose(f);
	cr_assert_fail("%s has no eventfd-count line", path);
	return 0;
}

static int mount_open(unsigned int initval, int flags)
{
	const char *mnt = evt_shared_mnt();
	char name[128], path[4096];
	int oflags = 0, fd;

	cr_assert((flags & ~(EFD_SEMAPHORE | EFD_NONBLOCK | EFD_CLOEXEC)) == 0,
		  "invalid eventfd flags are the client library's to check");
	if (flags & EFD_NONBLOCK)
		oflags |= O_NONBLOCK;
	if (flags & EFD_CLOEXEC)
		oflags |= O_CLOEXEC;
	evt_unique(name, sizeof(name), "conf");
	fd = evt_create_counter(mnt, name, initval, flags & EFD_SEMAPHORE,
				oflags);
	cr_assert(unlink(evt_path(path, sizeof(path), mnt, name)) == 0,
		  "unlink: %s", strerror(errno));
	return fd;
}

static void mount_set_count(int fd, uint64_t val)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)val);
	cr_assert(fsetxattr(fd, "user.evfdfs.value", buf, strlen(buf), 0) == 0,
		  "set value: %s", strerror(errno));
}

static uint64_t mount_peek(int fd)
{
	char buf[32];
	ssize_t n = fgetxattr(fd, "user.evfdfs.value", buf, sizeof(buf) - 1);

	cr_assert(n > 0, "get value: %s", strerror(errno));
	buf[n] = '\0';
	return strtoull(buf, NULL, 10);
}

const struct backend evt_backend_kernel = {
	.name = "kernel",
	.open_counter = kernel_open,
	.set_count = kernel_set_count,
	.peek = kernel_peek,
};

const struct backend evt_backend_mount = {
	.name = "mount",
	.open_counter = mount_open,
	.set_count = mount_set_count,
	.peek = mount_peek,
};

void conform_run(conform_fn fn)
{
	struct evt_transcript k = { 0 }, m = { 0 };
	int fds_before = evt_count_fds();

	evt_shared_mnt(); /* skip, with the reason, before anything runs */
	fn(&evt_backend_kernel, &k);
	fn(&evt_backend_mount, &m);
	cr_assert(k.len > 0, "the case recorded nothing");
	if (getenv("EVFDFS_CONFORM_SHOW"))
		fprintf(stderr, "--- kernel:\n%s--- mount:\n%s", k.buf, m.buf);
	cr_expect_str_eq(m.buf, k.buf,
			 "mount differs from the kernel\n"
			 "--- kernel:\n%s--- mount:\n%s",
			 k.buf, m.buf);
	cr_expect_eq(evt_count_fds(), fds_before,
		     "the case leaked descriptors");
	evt_transcript_free(&k);
	evt_transcript_free(&m);
}

void differ_run(conform_fn fn, const char *want_kernel, const char *want_mount)
{
	struct evt_transcript k = { 0 }, m = { 0 };
	int fds_before = evt_count_fds();

	evt_shared_mnt();
	fn(&evt_backend_kernel, &k);
	fn(&evt_backend_mount, &m);
	cr_assert(k.len > 0 && m.len > 0, "the case recorded nothing");
	if (getenv("EVFDFS_CONFORM_SHOW"))
		fprintf(stderr, "--- kernel:\n%s--- mount:\n%s", k.buf, m.buf);
	cr_expect_str_eq(k.buf, want_kernel,
			 "the kernel no longer behaves as recorded\n"
			 "--- recorded:\n%s--- kernel now:\n%s",
			 want_kernel, k.buf);
	cr_expect_str_eq(m.buf, want_mount,
			 "the mount does not behave as documented\n"
			 "--- documented:\n%s--- mount:\n%s",
			 want_mount, m.buf);
	cr_expect_eq(evt_count_fds(), fds_before,
		     "the case leaked descriptors");
	evt_transcript_free(&k);
	evt_transcript_free(&m);
}
