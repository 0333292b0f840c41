// SPDX-License-Identifier: GPL-2.0-only
/*
 * Bad input changes nothing: binary writes of the wrong size or of the
 * all-ones value, and text writes that are not unsigned decimal numbers,
 * fail with EINVAL and leave the counter as it was (checked through the
 * value xattr).  (Digits at the end of a text write wait for the next
 * write: tests/integration/text_stream.c.)  Good text input with several numbers applies each of
 * them; a text read whose buffer cannot hold the line consumes nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "integ.h"

#define TOP UINT64_C(0xfffffffffffffffe)

struct ctr {
	char name[128];
	char path[PATH_MAX];
	int fd;	 /* binary view */
	int tfd; /* text view */
};

static void ctr_open(struct ctr *c, const char *prefix, uint64_t initval,
		     bool semaphore, int oflags)
{
	const char *mnt = evt_shared_mnt();

	evt_unique(c->name, sizeof(c->name), prefix);
	c->fd = evt_create_counter(mnt, c->name, initval, semaphore, oflags);
	c->tfd = integ_open(mnt, c->name, true, O_RDWR | oflags);
	evt_path(c->path, sizeof(c->path), mnt, c->name);
}

static void ctr_close(struct ctr *c)
{
	close(c->fd);
	close(c->tfd);
	cr_assert_eq(unlink(c->path), 0);
}

/* A text write of @s: bytes accepted, or -errno. */
static long text_write(struct ctr *c, const char *s)
{
	ssize_t n = write(c->tfd, s, strlen(s));

	return n < 0 ? -errno : n;
}

INTEG_TEST(input, binary_writes_of_wrong_size_are_einval, 60)
{
	static const size_t sizes[] = { 1, 4, 7, 9, 12, 16, 64 };
	struct ctr c;
	char buf[64];
	size_t i;

	ctr_open(&c, "size", 5, false, 0);
	memset(buf, 1, sizeof(buf));
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		errno = 0;
		cr_assert_eq(write(c.fd, buf, sizes[i]), -1, "write of %zu",
			     sizes[i]);
		cr_assert_eq(errno, EINVAL, "write of %zu: %s", sizes[i],
			     strerror(errno));
	}
	cr_assert_eq(evt_xattr_value(c.path), 5);
	ctr_close(&c);
}

INTEG_TEST(input, all_ones_write_is_einval_and_does_not_block, 60)
{
	struct ctr c;

	/* A blocking descriptor at the top: the value is checked before
	 * any thought of blocking. */
	ctr_open(&c, "ones", TOP, false, 0);
	cr_assert_eq(integ_write_u64(c.fd, UINT64_MAX), -EINVAL);
	cr_assert_eq(evt_xattr_value(c.path), TOP);
	cr_assert_eq(integ_field(evt_shared_mnt(), c.name, "writers"), 0);
	cr_assert_eq(evt_xattr_value(c.path), TOP);
	ctr_close(&c);
}

INTEG_TEST(input, text_that_is_not_a_number_is_einval, 60)
{
	static const char *const bad[] = {
		"abc",	"1 x",	   "-3",  "99999999999999999999",
		"+1",	"12abc\n", "1-",  "18446744073709551615",
		"0x10", "1.5",	   "x\n", "1 2 -3",
	};
	struct ctr c;
	size_t i;

	ctr_open(&c, "txt", 5, false, O_NONBLOCK);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(text_write(&c, bad[i]), -EINVAL, "'%s'", bad[i]);
		cr_assert_eq(evt_xattr_value(c.path), 5, "'%s' changed it",
			     bad[i]);
	}
	/* A binary write to the text view is text, and not a number. */
	cr_assert_eq(integ_write_u64(c.tfd, 1), -EINVAL);
	cr_assert_eq(evt_xattr_value(c.path), 5);
	ctr_close(&c);
}

INTEG_TEST(input, text_with_several_numbers_adds_each, 60)
{
	struct ctr c;
	uint64_t v = 0;

	ctr_open(&c, "sum", 5, false, O_NONBLOCK);
	cr_assert_eq(text_write(&c, "1 2 3"), 5);
	cr_assert_eq(evt_xattr_value(c.path), 8, "the 3 may go on: pending");
	cr_assert_eq(text_write(&c, "\t10\n20  \n"), 9);
	cr_assert_eq(evt_xattr_value(c.path), 41);
	cr_assert_eq(text_write(&c, "0\n"), 2);
	cr_assert_eq(evt_xattr_value(c.path), 41);
	cr_assert_eq(integ_read_u64(c.fd, &v), 0);
	cr_assert_eq(v, 41);
	ctr_close(&c);
}

/*
 * On a semaphore counter, several numbers are several writes, and
 * readers still get 1 each: the sum is what can be read.
 */
INTEG_TEST(input, text_numbers_on_semaphore_counter, 60)
{
	struct ctr c;
	uint64_t v = 0;
	int i;

	ctr_open(&c, "semsum", 0, true, O_NONBLOCK);
	cr_assert_eq(text_write(&c, "1 2\n"), 4);
	for (i = 0; i < 3; i++) {
		cr_assert_eq(integ_read_u64(c.fd, &v), 0);
		cr_assert_eq(v, 1);
	}
	cr_assert_eq(integ_read_u64(c.fd, &v), -EAGAIN);
	ctr_close(&c);
}

/*
 * Numbers are applied one at a time with the binary rules: at the top
 * with O_NONBLOCK, those that fit are applied and the write reports the
 * bytes of the numbers applied (a short write), the rest is EAGAIN.
 */
INTEG_TEST(input, text_write_near_top_is_short_then_eagain, 60)
{
	struct ctr c;

	ctr_open(&c, "short", TOP - 3, false, O_NONBLOCK);
	cr_assert_eq(text_write(&c, "1 2 3 "), 4, "bytes of \"1 2 \"");
	cr_assert_eq(evt_xattr_value(c.path), TOP);
	cr_assert_eq(text_write(&c, "3 "), -EAGAIN);
	cr_assert_eq(text_write(&c, "0 "), 2);
	cr_assert_eq(evt_xattr_value(c.path), TOP);
	ctr_close(&c);
}

/*
 * A text read shorter than its line takes the value and keeps the rest of
 * the line for the next read on that descriptor; while the rest waits, the
 * counter is not read again (a new value would come after the newline).
 */
INTEG_TEST(input, short_text_read_keeps_the_rest_of_the_line, 60)
{
	struct ctr c;
	char buf[32];
	ssize_t n;

	ctr_open(&c, "small", 12345, false, O_NONBLOCK);
	n = read(c.tfd, buf, 3);
	cr_assert_eq(n, 3, "3-byte read of a 6-byte line: %zd %s", n,
		     strerror(errno));
	cr_assert_eq(memcmp(buf, "123", 3), 0);
	cr_assert_eq(evt_xattr_value(c.path), 0, "the value left the counter");
	cr_assert_eq(integ_write_u64(c.fd, 7), 0);
	n = read(c.tfd, buf, sizeof(buf));
	cr_assert_eq(n, 3, "the rest of the line only: %zd", n);
	cr_assert_eq(memcmp(buf, "45\n", 3), 0);
	n = read(c.tfd, buf, sizeof(buf));
	cr_assert_eq(n, 2);
	cr_assert_eq(memcmp(buf, "7\n", 2), 0);
	cr_assert_eq(evt_xattr_value(c.path), 0);
	ctr_close(&c);
}

INTEG_TEST(input, short_binary_read_is_einval_and_consumes_nothing, 60)
{
	struct ctr c;
	char buf[8];

	ctr_open(&c, "rd", 9, false, 0);
	errno = 0;
	cr_assert_eq(read(c.fd, buf, 4), -1);
	cr_assert_eq(errno, EINVAL);
	cr_assert_eq(evt_xattr_value(c.path), 9);
	ctr_close(&c);
}

INTEG_TEST(input, bad_xattrs_are_refused, 60)
{
	static const char *const bad[] = { "x", "-1", "1 2", "",
					   "18446744073709551615" };
	struct ctr c;
	size_t i;

	ctr_open(&c, "xa", 4, false, 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		cr_assert_eq(fsetxattr(c.fd, "user.evfdfs.value", bad[i],
				       strlen(bad[i]), 0),
			     -1, "value '%s'", bad[i]);
		cr_assert_eq(errno, EINVAL, "value '%s': %s", bad[i],
			     strerror(errno));
		errno = 0;
		cr_assert_eq(fsetxattr(c.fd, "user.evfdfs.semaphore", bad[i],
				       strlen(bad[i]), 0),
			     -1, "semaphore '%s'", bad[i]);
	}
	errno = 0;
	cr_assert_eq(fsetxattr(c.fd, "user.evfdfs.semaphore", "2", 1, 0), -1);
	cr_assert_eq(errno, EINVAL);
	errno = 0;
	cr_assert_eq(fsetxattr(c.fd, "user.evfdfs.other", "1", 1, 0), -1);
	cr_assert_eq(errno, ENOTSUP, "unknown name: %s", strerror(errno));
	cr_assert_eq(evt_xattr_value(c.path), 4);
	cr_assert_eq(integ_field(evt_shared_mnt(), c.name, "semaphore"), 0);
	ctr_close(&c);
}
