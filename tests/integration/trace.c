// SPDX-License-Identifier: GPL-2.0-only
/*
 * The trace file: what a reader of `trace` sees of a counter's life
 * (create, write, read, park, wake, interrupt, unlink), each line naming
 * the counter and the calling process, in order; and a reader that never
 * reads costs the counters nothing: its buffer overflows, events are
 * dropped and counted, and the stream says "dropped N" where they went
 * missing.  Each test has a private mount so that no other test's events
 * fill its buffer.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "integ.h"

struct trace_text {
	char *buf;
	size_t len, cap;
};

/* Append whatever the trace has now (non-blocking descriptor). */
static void trace_drain(int tfd, struct trace_text *t)
{
	for (;;) {
		ssize_t n;

		if (t->cap - t->len < 4096) {
			t->cap = t->cap * 2 + 65536;
			t->buf = realloc(t->buf, t->cap);
			cr_assert(t->buf);
		}
		n = read(tfd, t->buf + t->len, t->cap - t->len - 1);
		if (n < 0 && errno == EAGAIN)
			break;
		cr_assert(n > 0, "trace read: %zd %s", n, strerror(errno));
		t->len += (size_t)n;
		t->buf[t->len] = '\0';
	}
}

/* Wait (poll, bounded) until the trace holds every one of @want. */
static bool trace_wait_all(int tfd, struct trace_text *t,
			   const char *const *want, size_t nwant)
{
	long long deadline = evt_now_ms() + INTEG_WAIT_MS;
	size_t i;

	for (;;) {
		trace_drain(tfd, t);
		for (i = 0; i < nwant && t->buf && strstr(t->buf, want[i]); i++)
			;
		if (i == nwant)
			return true;
		if (evt_now_ms() > deadline)
			return false;
		{
			struct pollfd p = { .fd = tfd, .events = POLLIN };

			poll(&p, 1, 200);
		}
	}
}

static void on_usr1(int sig)
{
	(void)sig;
}

/* A child that reads @name once; with @handler, SIGUSR1 interrupts it. */
static pid_t reader(const char *mnt, const char *name, bool handler)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	char path[PATH_MAX];
	uint64_t v;
	pid_t pid = integ_fork();
	int fd, ret;

	if (pid)
		return pid;
	if (handler)
		sigaction(SIGUSR1, &sa, NULL);
	fd = open(evt_path(path, sizeof(path), mnt, name), O_RDWR);
	if (fd < 0)
		_exit(5);
	ret = integ_read_u64(fd, &v);
	_exit(ret == 0 ? 0 : ret == -EINTR ? 4 : 2);
}

INTEG_TEST(trace, lifecycle_events_name_counter_and_caller, 90)
{
	struct evt_mount *m = integ_mount(NULL);
	struct trace_text t = { 0 };
	char path[PATH_MAX], want[9][128];
	const char *wantp[9];
	const char *name = "life";
	pid_t me = getpid(), r1, r2;
	long long id, t0 = evt_now_ms();
	double first;
	uint64_t v;
	size_t i;
	int tfd, fd, st;
	const char *at, *prev;

	tfd = open(evt_path(path, sizeof(path), m->dir, "trace"),
		   O_RDONLY | O_NONBLOCK);
	cr_assert(tfd >= 0, "open trace: %s", strerror(errno));
	fd = evt_create_counter(m->dir, name, 0, false, O_NONBLOCK);
	cr_assert_eq(integ_write_u64(fd, 2), 0);
	cr_assert_eq(integ_read_u64(fd, &v), 0);
	id = integ_field(m->dir, name, "id");
	cr_assert_gt(id, 0);

	r1 = reader(m->dir, name, false);
	cr_assert(integ_wait_field(m->dir, name, "readers", 1, INTEG_WAIT_MS));
	cr_assert_eq(integ_write_u64(fd, 1), 0);
	cr_assert_eq(integ_reap(r1, &st, INTEG_WAIT_MS), 0);
	cr_assert_eq(integ_exit_code(st), 0);

	r2 = reader(m->dir, name, true);
	cr_assert(integ_wait_field(m->dir, name, "readers", 1, INTEG_WAIT_MS));
	cr_assert_eq(kill(r2, SIGUSR1), 0);
	cr_assert_eq(integ_reap(r2, &st, INTEG_WAIT_MS), 0);
	cr_assert_eq(integ_exit_code(st), 4, "the reader was not interrupted");

	close(fd);
	cr_assert_eq(unlink(evt_path(path, sizeof(path), m->dir, name)), 0);

	/* In the order they happened: a wake before the read it lets go. */
	snprintf(want[0], 128, " create %s id=%lld pid=%d\n", name, id,
		 (int)me);
	snprintf(want[1], 128, " write %s id=%lld pid=%d val=2 ", name, id,
		 (int)me);
	snprintf(want[2], 128, " read %s id=%lld pid=%d val=2 ", name, id,
		 (int)me);
	snprintf(want[3], 128, " park %s id=%lld pid=%d op=read\n", name, id,
		 (int)r1);
	snprintf(want[4], 128, " wake %s id=%lld pid=%d op=read\n", name, id,
		 (int)r1);
	snprintf(want[5], 128, " read %s id=%lld pid=%d val=1 ", name, id,
		 (int)r1);
	snprintf(want[6], 128, " park %s id=%lld pid=%d op=read\n", name, id,
		 (int)r2);
	snprintf(want[7], 128, " interrupt %s id=%lld pid=%d op=read\n", name,
		 id, (int)r2);
	snprintf(want[8], 128, " unlink %s id=%lld pid=%d\n", name, id,
		 (int)me);
	for (i = 0; i < 9; i++)
		wantp[i] = want[i];
	cr_assert(trace_wait_all(tfd, &t, wantp, 9), "trace lacks events:\n%s",
		  t.buf ? t.buf : "");
	prev = t.buf;
	for (i = 0; i < 9; i++) {
		at = strstr(prev, want[i]);
		cr_assert(at, "'%s' out of order in:\n%s", want[i], t.buf);
		prev = at + 1;
	}

	/* SECONDS count from the mount, which this test made: the first
	 * event is no later than the time the test has taken so far. */
	cr_assert_eq(sscanf(t.buf, "%*u %lf ", &first), 1, "%s", t.buf);
	cr_assert_leq(first, (double)(evt_now_ms() - t0) / 1000.0 + 0.001,
		      "seconds since the mount? %s", t.buf);

	/* Every line: SEQ SECONDS.MICROS EVENT ..., SEQ counting up by 1
	 * (nothing was dropped: the buffer is far from full). */
	{
		unsigned long long seq, last = 0;
		char *line = t.buf;
		long sec, usec;

		while (line && *line) {
			cr_assert_eq(sscanf(line, "%llu %ld.%6ld ", &seq, &sec,
					    &usec),
				     3, "malformed: %.80s", line);
			if (last)
				cr_assert_eq(seq, last + 1, "gap before %.80s",
					     line);
			last = seq;
			line = strchr(line, '\n');
			line = line ? line + 1 : NULL;
		}
	}
	free(t.buf);
	close(tfd);
	integ_unmount();
}

/*
 * A trace reader that never reads: thousands of writes all complete, and
 * when the reader does read, what it missed is accounted for exactly:
 * lines seen + "dropped N" notes = events emitted.
 */
INTEG_TEST(trace, stalled_reader_drops_and_reports_never_blocks, 120)
{
	static const char *const args[] = { "-o", "trace_buf=4096", NULL };
	struct evt_mount *m = integ_mount(args);
	struct trace_text t = { 0 };
	unsigned long long lines = 0, dropped = 0, notes = 0, n;
	char path[PATH_MAX], *line;
	const int writes = 3000;
	uint64_t v;
	int tfd, fd, i;

	tfd = open(evt_path(path, sizeof(path), m->dir, "trace"),
		   O_RDONLY | O_NONBLOCK);
	cr_assert(tfd >= 0, "open trace: %s", strerror(errno));
	fd = evt_create_counter(m->dir, "flood", 0, false, O_NONBLOCK);
	/* "create" is 1 event; then one per write. */
	for (i = 0; i < writes; i++)
		cr_assert_eq(integ_write_u64(fd, 1), 0, "write %d", i);
	cr_assert_eq(
		evt_xattr_value(evt_path(path, sizeof(path), m->dir, "flood")),
		(uint64_t)writes);

	trace_drain(tfd, &t);
	cr_assert(t.buf, "nothing traced");
	for (line = t.buf; line && *line;) {
		if (sscanf(line, "%*u - dropped %llu", &n) == 1) {
			dropped += n;
			notes++;
		} else {
			lines++;
		}
		line = strchr(line, '\n');
		line = line ? line + 1 : NULL;
	}
	cr_assert_gt(notes, 0, "the reader was never told of the drops");
	cr_assert_gt(dropped, 0);
	cr_assert_eq(lines + dropped, (unsigned long long)writes + 1,
		     "%llu lines + %llu dropped != %d events", lines, dropped,
		     writes + 1);

	/* After the gap the stream goes on normally. */
	cr_assert_eq(integ_read_u64(fd, &v), 0);
	free(t.buf);
	t = (struct trace_text){ 0 };
	{
		const char *const want[] = { " read flood " };

		cr_assert(trace_wait_all(tfd, &t, want, 1), "%s",
			  t.buf ? t.buf : "");
	}
	cr_assert_null(strstr(t.buf, "dropped"), "%s", t.buf);
	free(t.buf);
	close(fd);
	close(tfd);
	integ_unmount();
}

/*
 * A process asleep in poll(2) on the trace file is woken by the next
 * event, reads it, and the daemon lives on (its poll notification must
 * not itself become a traced event that notifies again).
 */
INTEG_TEST(trace, poller_is_woken_by_next_event, 60)
{
	struct evt_mount *m = integ_mount(NULL);
	char path[PATH_MAX], buf[256];
	pid_t child;
	int fd, st;

	evt_path(path, sizeof(path), m->dir, "trace");
	child = integ_fork();
	if (child == 0) {
		int tfd = open(path, O_RDONLY | O_NONBLOCK);
		struct pollfd p = { .fd = tfd, .events = POLLIN };
		char line[4096];
		ssize_t n;

		if (tfd < 0)
			_exit(5);
		if (poll(&p, 1, INTEG_WAIT_MS) != 1)
			_exit(2);
		if (!(p.revents & POLLIN) || (p.revents & POLLERR))
			_exit(3);
		n = read(tfd, line, sizeof(line) - 1);
		if (n <= 0)
			_exit(4);
		line[n] = '\0';
		_exit(strstr(line, " create poked ") ? 0 : 6);
	}
	cr_assert(
		integ_wait_wchan(child, "poll_schedule_timeout", INTEG_WAIT_MS),
		"the child never slept in poll");
	fd = evt_create_counter(m->dir, "poked", 0, false, 0);
	cr_assert_eq(integ_reap(child, &st, INTEG_WAIT_MS), 0);
	cr_assert_eq(integ_exit_code(st), 0, "poller exit %d",
		     integ_exit_code(st));
	cr_assert_gt(integ_status(m->dir, buf, sizeof(buf)), 0,
		     "the daemon died");
	close(fd);
	integ_unmount();
}
