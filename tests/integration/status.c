// SPDX-License-Identifier: GPL-2.0-only
/*
 * The status file as a snapshot of the daemon's state: one line per
 * counter with its count, mode, link state, open handles, parked readers
 * and writers and pending pollers, each taken while that state really
 * exists (a reader parked in a child, a writer parked at the top, a
 * thread inside poll(2)).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "integ.h"

#define TOP UINT64_C(0xfffffffffffffffe)

struct poller {
	pthread_t tid;
	int fd;
	int ret;
	short revents;
};

static void *poller_main(void *arg)
{
	struct poller *p = arg;
	struct pollfd pfd = { .fd = p->fd, .events = POLLIN };

	p->ret = poll(&pfd, 1, 60000);
	p->revents = pfd.revents;
	return NULL;
}

/* A child that opens @name and does one blocking 8-byte @op. */
static pid_t op_child(const char *mnt, const char *name, bool write_op)
{
	char path[PATH_MAX];
	uint64_t v = 1;
	pid_t pid = integ_fork();
	int fd;

	if (pid)
		return pid;
	fd = open(evt_path(path, sizeof(path), mnt, name), O_RDWR);
	if (fd < 0)
		_exit(5);
	if (write_op)
		_exit(integ_write_u64(fd, v) == 0 ? 0 : 2);
	_exit(integ_read_u64(fd, &v) == 0 ? 0 : 2);
}

INTEG_TEST(status, counter_lines_show_state_and_waiters, 90)
{
	const char *mnt = evt_shared_mnt();
	static char buf[1 << 20];
	char sem[128], rd[128], wr[128], line[512];
	struct poller p = { 0 };
	struct timespec ts;
	pid_t reader, writer;
	int sfd, rfd, pfd, wfd, st;
	long long n;

	evt_unique(sem, sizeof(sem), "st-sem");
	evt_unique(rd, sizeof(rd), "st-rd");
	evt_unique(wr, sizeof(wr), "st-wr");
	sfd = evt_create_counter(mnt, sem, 7, true, 0);
	rfd = evt_create_counter(mnt, rd, 0, false, 0);
	wfd = evt_create_counter(mnt, wr, TOP, false, 0);

	/* The header, and a quiet counter's whole line. */
	cr_assert(integ_status(mnt, buf, sizeof(buf)) > 0);
	cr_assert(strncmp(buf, "evfdfs ", 7) == 0, "header: %.80s", buf);
	cr_assert(sscanf(strstr(buf, "counters="), "counters=%lld", &n) == 1);
	cr_assert_geq(n, 3);
	snprintf(line, sizeof(line), "counter %s id=", sem);
	cr_assert(strstr(buf, line), "no line for %s:\n%s", sem, buf);
	cr_assert_eq(integ_field(mnt, sem, "count"), 7);
	cr_assert_eq(integ_field(mnt, sem, "semaphore"), 1);
	cr_assert_eq(integ_field(mnt, sem, "linked"), 1);
	cr_assert_eq(integ_field(mnt, sem, "opens"), 1);
	cr_assert_eq(integ_field(mnt, sem, "readers"), 0);
	cr_assert_eq(integ_field(mnt, sem, "writers"), 0);
	cr_assert_eq(integ_field(mnt, sem, "pollers"), 0);
	cr_assert_eq(integ_field(mnt, rd, "semaphore"), 0);
	cr_assert_gt(integ_field(mnt, rd, "id"), integ_field(mnt, sem, "id"));

	/* A parked reader, a parked writer, a waiting poller. */
	reader = op_child(mnt, rd, false);
	writer = op_child(mnt, wr, true);
	pfd = integ_open(mnt, rd, false, O_RDWR);
	p.fd = pfd;
	cr_assert_eq(pthread_create(&p.tid, NULL, poller_main, &p), 0);
	cr_assert(integ_wait_field(mnt, rd, "readers", 1, INTEG_WAIT_MS));
	cr_assert(integ_wait_field(mnt, rd, "pollers", 1, INTEG_WAIT_MS));
	cr_assert(integ_wait_field(mnt, wr, "writers", 1, INTEG_WAIT_MS));
	cr_assert_eq(integ_field(mnt, rd, "opens"), 3);
	cr_assert_eq(integ_field(mnt, rd, "writers"), 0);
	cr_assert_eq(integ_field(mnt, wr, "opens"), 2);
	cr_assert_eq(integ_field(mnt, wr, "readers"), 0);
	cr_assert_eq(integ_field(mnt, sem, "readers"), 0);

	/* Release them: the reader by a write (which the poller may or may
	 * not see before the reader empties the counter, as on Linux), the
	 * poller by a second write, the writer by a read. */
	cr_assert_eq(integ_write_u64(rfd, 2), 0);
	cr_assert_eq(integ_reap(reader, &st, INTEG_WAIT_MS), 0);
	cr_assert_eq(integ_exit_code(st), 0);
	cr_assert_eq(integ_write_u64(rfd, 3), 0);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += INTEG_WAIT_MS / 1000;
	cr_assert_eq(pthread_timedjoin_np(p.tid, NULL, &ts), 0,
		     "poll did not wake");
	cr_assert_eq(p.ret, 1);
	cr_assert(p.revents & POLLIN);
	{
		uint64_t v;

		cr_assert_eq(integ_read_u64(wfd, &v), 0);
		cr_assert_eq(v, TOP);
	}
	cr_assert_eq(integ_reap(writer, &st, INTEG_WAIT_MS), 0);
	cr_assert_eq(integ_exit_code(st), 0);
	cr_assert_eq(integ_field(mnt, rd, "readers"), 0);
	cr_assert_eq(integ_field(mnt, wr, "writers"), 0);
	cr_assert_eq(integ_field(mnt, wr, "count"), 1);
	cr_assert_eq(integ_field(mnt, rd, "count"), 3);
	close(pfd);
	cr_assert(integ_wait_field(mnt, rd, "opens", 1, INTEG_WAIT_MS));
	cr_assert_eq(integ_field(mnt, rd, "pollers"), 0);

	close(sfd);
	close(rfd);
	close(wfd);
	cr_assert_eq(unlink(evt_path(buf, sizeof(buf), mnt, sem)), 0);
	cr_assert_eq(unlink(evt_path(buf, sizeof(buf), mnt, rd)), 0);
	cr_assert_eq(unlink(evt_path(buf, sizeof(buf), mnt, wr)), 0);
	cr_assert_eq(integ_field(mnt, sem, "count"), -1);
}

/* The status file is a snapshot taken at open: reading it later shows
 * the state of then, and a new open shows the new state. */
INTEG_TEST(status, snapshot_is_taken_at_open, 60)
{
	const char *mnt = evt_shared_mnt();
	/* the shared mount's status lists every other test's counters too */
	static char buf[1 << 20];
	char name[128], path[PATH_MAX], pat[256];
	ssize_t n;
	size_t len = 0;
	int fd, sfd;

	evt_unique(name, sizeof(name), "snap");
	fd = evt_create_counter(mnt, name, 1, false, 0);
	sfd = open(evt_path(path, sizeof(path), mnt, "status"), O_RDONLY);
	cr_assert(sfd >= 0);
	cr_assert_eq(integ_write_u64(fd, 2), 0);
	while (len < sizeof(buf) - 1 &&
	       (n = read(sfd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	cr_assert_gt(len, 0);
	buf[len] = '\0';
	snprintf(pat, sizeof(pat), "counter %s ", name);
	cr_assert(strstr(buf, pat));
	cr_assert(strstr(strstr(buf, pat), " count=1 "), "%s", buf);
	close(sfd);
	cr_assert_eq(integ_field(mnt, name, "count"), 3);
	close(fd);
	cr_assert_eq(unlink(evt_path(path, sizeof(path), mnt, name)), 0);
}
