// SPDX-License-Identifier: GPL-2.0-only
/*
 * The text view as a stream of numbers (README, "The text view"): stdio
 * cuts its buffer wherever it fills, so a number may come in two write(2)
 * calls.  Digits that end a write wait on the open file and the next
 * write continues them; the writer's close(2) ends the number before it
 * returns.  So `seq 1 100000 > text/x` adds exactly 5000050000, and a
 * write may hold any number of numbers.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "integ.h"

#define TOP UINT64_C(0xfffffffffffffffe)

struct tctr {
	char name[128];
	char path[PATH_MAX];
	int tfd; /* text view */
};

static void tctr_open(struct tctr *c, const char *prefix, uint64_t initval,
		      int oflags)
{
	const char *mnt = evt_shared_mnt();
	int fd;

	evt_unique(c->name, sizeof(c->name), prefix);
	fd = evt_create_counter(mnt, c->name, initval, false, 0);
	close(fd);
	c->tfd = integ_open(mnt, c->name, true, O_RDWR | oflags);
	evt_path(c->path, sizeof(c->path), mnt, c->name);
}

static void tctr_close(struct tctr *c)
{
	if (c->tfd >= 0)
		close(c->tfd);
	cr_assert_eq(unlink(c->path), 0);
}

static long twrite(int fd, const char *s, size_t len)
{
	ssize_t n = write(fd, s, len);

	return n < 0 ? -errno : n;
}

#define TW(fd, s) twrite(fd, s, strlen(s))

/* seq 1 100000 through a shell redirection: the sum, exactly. */
static void seq_case(const char *fmt)
{
	const char *mnt = evt_shared_mnt();
	char name[128], path[PATH_MAX], cmd[PATH_MAX * 2], out[256];
	int fd;

	evt_unique(name, sizeof(name), "seq");
	fd = evt_create_counter(mnt, name, 0, false, 0);
	close(fd);
	evt_path(path, sizeof(path), mnt, name);
	snprintf(cmd, sizeof(cmd), fmt, mnt, name);
	cr_assert_eq(evt_sh(cmd, out, sizeof(out)), 0, "%s: %s", cmd, out);
	cr_assert_eq(evt_xattr_value(path), UINT64_C(5000050000), "%s: %llu",
		     cmd, (unsigned long long)evt_xattr_value(path));
	cr_assert_eq(unlink(path), 0);
}

INTEG_TEST(text_stream, seq_redirected_adds_exactly, 120)
{
	seq_case("seq 1 100000 > %s/text/%s");
}

INTEG_TEST(text_stream, seq_appended_adds_exactly, 120)
{
	seq_case("seq 1 100000 >> %s/text/%s");
}

INTEG_TEST(text_stream, seq_piped_into_cat_adds_exactly, 120)
{
	seq_case("seq 1 100000 | cat > %s/text/%s");
}

INTEG_TEST(text_stream, number_split_across_two_writes_counts_once, 60)
{
	struct tctr c;

	tctr_open(&c, "split", 5, O_NONBLOCK);
	cr_assert_eq(TW(c.tfd, "12"), 2, "digits alone are taken whole");
	cr_assert_eq(evt_xattr_value(c.path), 5, "no number yet");
	cr_assert_eq(TW(c.tfd, "34\n7"), 4);
	cr_assert_eq(evt_xattr_value(c.path), 5 + 1234);
	/* Leading white space ends the carried 7. */
	cr_assert_eq(TW(c.tfd, " 1 "), 3);
	cr_assert_eq(evt_xattr_value(c.path), 5 + 1234 + 7 + 1);
	tctr_close(&c);
}

INTEG_TEST(text_stream, pending_digits_are_applied_at_close, 60)
{
	struct tctr c;

	tctr_open(&c, "close", 0, 0);
	cr_assert_eq(TW(c.tfd, "4 77"), 4);
	cr_assert_eq(evt_xattr_value(c.path), 4);
	cr_assert_eq(close(c.tfd), 0);
	c.tfd = -1;
	/* Before close(2) returned, not some time after. */
	cr_assert_eq(evt_xattr_value(c.path), 81);
	tctr_close(&c);
}

INTEG_TEST(text_stream, write_of_100000_numbers_adds_each, 60)
{
	size_t len = 2 * 100000, i;
	char *buf = malloc(len);
	struct tctr c;

	cr_assert(buf);
	for (i = 0; i < len; i += 2)
		memcpy(buf + i, "1\n", 2);
	tctr_open(&c, "many", 0, 0);
	cr_assert_eq(twrite(c.tfd, buf, len), (long)len);
	cr_assert_eq(evt_xattr_value(c.path), 100000);
	tctr_close(&c);
	free(buf);
}

/*
 * A write longer than one FUSE request (the kernel cuts it, maybe inside a
 * number): seq 1 200000 in one write(2), 1.3 MB.
 */
INTEG_TEST(text_stream, write_longer_than_a_request_adds_exactly, 60)
{
	size_t cap = 1400000, len = 0;
	char *buf = malloc(cap);
	struct tctr c;
	int i;

	cr_assert(buf);
	for (i = 1; i <= 200000; i++)
		len += (size_t)snprintf(buf + len, cap - len, "%d\n", i);
	tctr_open(&c, "long", 0, 0);
	cr_assert_eq(twrite(c.tfd, buf, len), (long)len);
	cr_assert_eq(evt_xattr_value(c.path), UINT64_C(20000100000));
	tctr_close(&c);
	free(buf);
}

/* EINVAL applies nothing and drops the digits it would have continued. */
INTEG_TEST(text_stream, invalid_write_drops_pending_digits, 60)
{
	struct tctr c;

	tctr_open(&c, "inval", 3, O_NONBLOCK);
	cr_assert_eq(TW(c.tfd, "12"), 2);
	cr_assert_eq(TW(c.tfd, "x"), -EINVAL);
	cr_assert_eq(TW(c.tfd, "\n"), 1, "white space alone is no error");
	cr_assert_eq(evt_xattr_value(c.path), 3, "the 12 is gone");
	cr_assert_eq(TW(c.tfd, "45"), 2);
	cr_assert_eq(TW(c.tfd, " 6 y"), -EINVAL, "all or none");
	cr_assert_eq(close(c.tfd), 0);
	c.tfd = -1;
	cr_assert_eq(evt_xattr_value(c.path), 3);
	tctr_close(&c);
}

/*
 * Only the writer's own close ends its number: a child that inherited the
 * descriptor and exits (as `{ printf 12; /bin/true; printf 34; }` runs
 * one) does not; a close of a duplicate in the writer's process does.
 */
INTEG_TEST(text_stream, close_by_another_process_keeps_the_number, 60)
{
	struct tctr c;
	int st, dup_fd;
	pid_t pid;

	tctr_open(&c, "owner", 0, 0);
	cr_assert_eq(TW(c.tfd, "12"), 2);
	pid = integ_fork();
	if (pid == 0) {
		close(c.tfd);
		_exit(0);
	}
	cr_assert_eq(integ_reap(pid, &st, INTEG_WAIT_MS), 0);
	cr_assert_eq(evt_xattr_value(c.path), 0);
	cr_assert_eq(TW(c.tfd, "34\n5"), 4);
	cr_assert_eq(evt_xattr_value(c.path), 1234);
	dup_fd = dup(c.tfd);
	cr_assert_geq(dup_fd, 0);
	cr_assert_eq(close(dup_fd), 0);
	cr_assert_eq(evt_xattr_value(c.path), 1239,
		     "the writer closed a descriptor of the open file");
	tctr_close(&c);
}

/*
 * The number that carried digits begin is the write's first: at the top
 * with O_NONBLOCK the write is short after the numbers applied, or EAGAIN
 * with the digits still pending.
 */
INTEG_TEST(text_stream, short_write_with_carried_digits, 60)
{
	struct tctr c;

	tctr_open(&c, "top", TOP - 13, O_NONBLOCK);
	cr_assert_eq(TW(c.tfd, "1"), 1);
	cr_assert_eq(TW(c.tfd, "2 5 "), 2, "12 fits, 5 does not");
	cr_assert_eq(evt_xattr_value(c.path), TOP - 1);
	cr_assert_eq(TW(c.tfd, "5 "), -EAGAIN);
	cr_assert_eq(TW(c.tfd, "1"), 1);
	cr_assert_eq(TW(c.tfd, "0 "), -EAGAIN, "10 does not fit");
	cr_assert_eq(evt_xattr_value(c.path), TOP - 1);
	cr_assert_eq(TW(c.tfd, " "), 1, "the carried 1 fits");
	cr_assert_eq(evt_xattr_value(c.path), TOP);
	tctr_close(&c);
}
