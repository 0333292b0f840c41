// SPDX-License-Identifier: GPL-2.0-only
/*
 * E15, E24, E30-E33: calls that sleep.  Blocked readers released by a
 * write from another thread or process, blocked writers released by reads,
 * several sleepers on one counter (served in any order: the cases count
 * and sort, never assert an order), signals that interrupt a sleeper, and
 * a close of the descriptor a sleeper uses.
 */
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "backend.h"

#define TOP 0xfffffffffffffffeull

/*
 * How many of @n workers finish once @want should have: wait for @want (up
 * to the deadline), then a grace period for any more.
 */
static int finished_after(struct bg *bgs, int n, int want)
{
	long long deadline = evt_now_ms() + BG_DEADLINE_MS;
	int i, done;

	for (;;) {
		done = 0;
		for (i = 0; i < n; i++)
			done += bg_wait(&bgs[i], 0);
		if (done >= want || evt_now_ms() >= deadline)
			break;
		usleep(1000);
	}
	usleep(BG_GRACE_MS * 1000);
	for (done = 0, i = 0; i < n; i++)
		done += bg_wait(&bgs[i], 0);
	return done;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The values the finished readers got, sorted: "label: 5 6 7". */
static void rec_values(struct evt_transcript *t, const char *label,
		       struct bg *bgs, int n)
{
	uint64_t vals[16];
	char line[512];
	int i, k = 0, len;

	cr_assert(n <= 16);
	for (i = 0; i < n; i++)
		if (bg_wait(&bgs[i], 0))
			vals[k++] = bgs[i].ret == 8 ? bgs[i].out : UINT64_MAX;
	qsort(vals, (size_t)k, sizeof(vals[0]), cmp_u64);
	len = snprintf(line, sizeof(line), "%s:", label);
	for (i = 0; i < k; i++)
		len += snprintf(line + len, sizeof(line) - (size_t)len, " %llu",
				(unsigned long long)vals[i]);
	evt_rec(t, "%s", line);
}

/* E15: a read of an empty counter sleeps until another thread writes. */
CONFORM(blocked_read_released_by_thread)
{
	int fd = b->open_counter(0, 0);
	struct bg r;

	bg_start(&r, BG_READ, fd, 0, false);
	evt_rec(t, "reader asleep: %d", bg_asleep(&r));
	bg_rec(t, "reader before the write", &r, BG_GRACE_MS);
	rec_write(t, "write 3", fd, 3);
	bg_rec(t, "reader", &r, BG_DEADLINE_MS);
	rec_count(t, "left", b, fd);
	bg_end(&r);
	close(fd);
}

/* E15, E58: the sleeper is another process sharing the descriptor. */
CONFORM(blocked_read_released_by_other_process)
{
	int fd = b->open_counter(0, 0);
	struct bg r;

	bg_start(&r, BG_READ, fd, 0, true);
	evt_rec(t, "child asleep: %d", bg_asleep(&r));
	rec_write(t, "write 11", fd, 11);
	bg_rec(t, "child read", &r, BG_DEADLINE_MS);
	rec_count(t, "left", b, fd);
	bg_end(&r);
	close(fd);
}

/* E13, E15: a semaphore sleeper takes 1 and leaves the rest. */
CONFORM(blocked_semaphore_read)
{
	int fd = b->open_counter(0, EFD_SEMAPHORE);
	struct bg r;

	bg_start(&r, BG_READ, fd, 0, false);
	evt_rec(t, "reader asleep: %d", bg_asleep(&r));
	rec_write(t, "write 3", fd, 3);
	bg_rec(t, "reader", &r, BG_DEADLINE_MS);
	rec_count(t, "left", b, fd);
	bg_end(&r);
	close(fd);
}

/* E24: a write that would pass the top sleeps until a read makes room. */
CONFORM(blocked_write_released_by_read)
{
	int fd = b->open_counter(0, 0);
	struct bg w;

	b->set_count(fd, TOP);
	bg_start(&w, BG_WRITE, fd, 1, false);
	evt_rec(t, "writer asleep: %d", bg_asleep(&w));
	bg_rec(t, "writer before the read", &w, BG_GRACE_MS);
	rec_read(t, "read", fd);
	bg_rec(t, "writer", &w, BG_DEADLINE_MS);
	rec_count(t, "left", b, fd);
	bg_end(&w);
	close(fd);
}

/* E24: the writer sleeps until the count is low enough for all of it. */
CONFORM(blocked_write_needs_enough_room)
{
	int fd = b->open_counter(0, EFD_SEMAPHORE);
	struct bg w;

	b->set_count(fd, TOP);
	bg_start(&w, BG_WRITE, fd, 3, false);
	evt_rec(t, "writer asleep: %d", bg_asleep(&w));
	rec_read(t, "read 1", fd);
	bg_rec(t, "writer after one read", &w, BG_GRACE_MS);
	rec_read(t, "read 2", fd);
	bg_rec(t, "writer after two reads", &w, BG_GRACE_MS);
	rec_read(t, "read 3", fd);
	bg_rec(t, "writer after three reads", &w, BG_DEADLINE_MS);
	rec_count(t, "left", b, fd);
	bg_end(&w);
	close(fd);
}

/* E30, E31: one write(4) releases four semaphore sleepers, in any order. */
CONFORM(semaphore_write_releases_that_many)
{
	int fd = b->open_counter(0, EFD_SEMAPHORE);
	struct bg r[4];
	int i;

	for (i = 0; i < 4; i++) {
		bg_start(&r[i], BG_READ, fd, 0, false);
		cr_assert(bg_asleep(&r[i]));
	}
	rec_write(t, "write 2", fd, 2);
	evt_rec(t, "released by write 2: %d", finished_after(r, 4, 2));
	rec_write(t, "write 2", fd, 2);
	evt_rec(t, "released by both: %d", finished_after(r, 4, 4));
	rec_values(t, "values", r, 4);
	rec_count(t, "left", b, fd);
	for (i = 0; i < 4; i++)
		bg_end(&r[i]);
	rec_write(t, "write 4", fd, 4); /* and no sleeper is left to eat it */
	rec_count(t, "count", b, fd);
	close(fd);
}

/* E31: normal mode, several sleepers: one write releases exactly one. */
CONFORM(normal_write_releases_one_reader)
{
	int fd = b->open_counter(0, 0);
	struct bg r[3];
	int i;

	for (i = 0; i < 3; i++) {
		bg_start(&r[i], BG_READ, fd, 0, false);
		cr_assert(bg_asleep(&r[i]));
	}
	rec_write(t, "write 5", fd, 5);
	evt_rec(t, "released by write 5: %d", finished_after(r, 3, 1));
	rec_write(t, "write 6", fd, 6);
	evt_rec(t, "released by write 6: %d", finished_after(r, 3, 2));
	rec_write(t, "write 7", fd, 7);
	evt_rec(t, "released by write 7: %d", finished_after(r, 3, 3));
	rec_values(t, "values", r, 3);
	rec_count(t, "left", b, fd);
	for (i = 0; i < 3; i++)
		bg_end(&r[i]);
	close(fd);
}

/* E30: blocked writers: each read lets the writers that now fit in. */
CONFORM(several_blocked_writers)
{
	int fd = b->open_counter(0, 0);
	struct bg w[2];
	int i;

	b->set_count(fd, TOP);
	for (i = 0; i < 2; i++) {
		bg_start(&w[i], BG_WRITE, fd, 1, false);
		evt_rec(t, "writer %d asleep: %d", i, bg_asleep(&w[i]));
	}
	rec_read(t, "read", fd);
	evt_rec(t, "writers done: %d", finished_after(w, 2, 2));
	rec_count(t, "count", b, fd);
	for (i = 0; i < 2; i++) {
		bg_rec(t, "writer", &w[i], 0);
		bg_end(&w[i]);
	}
	close(fd);
}

/* E33: a signal without SA_RESTART: the read fails EINTR, eats nothing. */
CONFORM(signal_interrupts_blocked_read)
{
	int fd = b->open_counter(0, 0);
	unsigned int before;
	struct bg r;

	sig_install(SIGUSR1, false);
	before = sig_delivered();
	bg_start(&r, BG_READ, fd, 0, false);
	evt_rec(t, "reader asleep: %d", bg_asleep(&r));
	bg_signal(&r, SIGUSR1);
	bg_rec(t, "reader", &r, BG_DEADLINE_MS);
	evt_rec(t, "handler ran: %d", sig_delivered() > before);
	bg_end(&r);
	rec_write(t, "write 5", fd, 5);
	usleep(BG_GRACE_MS * 1000); /* a lost reader would eat it now */
	rec_count(t, "count", b, fd);
	close(fd);
}

/* E33: a signal interrupts a blocked write, which adds nothing. */
CONFORM(signal_interrupts_blocked_write)
{
	int fd = b->open_counter(0, 0);
	struct bg w;

	sig_install(SIGUSR1, false);
	b->set_count(fd, TOP);
	bg_start(&w, BG_WRITE, fd, 2, false);
	evt_rec(t, "writer asleep: %d", bg_asleep(&w));
	bg_signal(&w, SIGUSR1);
	bg_rec(t, "writer", &w, BG_DEADLINE_MS);
	bg_end(&w);
	rec_read(t, "read", fd);
	usleep(BG_GRACE_MS * 1000); /* a lost writer would add now */
	rec_count(t, "count", b, fd);
	close(fd);
}

/* E33: the same in a child process, interrupted by a signal to it. */
CONFORM(signal_interrupts_blocked_read_in_child)
{
	int fd = b->open_counter(0, 0);
	struct bg r;

	sig_install(SIGUSR1, false);
	bg_start(&r, BG_READ, fd, 0, true);
	evt_rec(t, "child asleep: %d", bg_asleep(&r));
	bg_signal(&r, SIGUSR1);
	bg_rec(t, "child read", &r, BG_DEADLINE_MS);
	bg_end(&r);
	rec_write(t, "write 5", fd, 5);
	rec_count(t, "count", b, fd);
	close(fd);
}

/*
 * E32: closing the descriptor a sleeper uses does not disturb it; a write
 * through a dup releases it.
 */
CONFORM(close_does_not_disturb_blocked_read)
{
	int fd = b->open_counter(0, 0);
	int dupfd = dup(fd);
	struct bg r;

	cr_assert(dupfd >= 0);
	bg_start(&r, BG_READ, fd, 0, false);
	evt_rec(t, "reader asleep: %d", bg_asleep(&r));
	REC(t, "close", close(fd));
	bg_rec(t, "reader after close", &r, BG_GRACE_MS);
	rec_write(t, "write 8 via dup", dupfd, 8);
	bg_rec(t, "reader", &r, BG_DEADLINE_MS);
	rec_count(t, "left", b, dupfd);
	bg_end(&r);
	close(dupfd);
}

/*
 * E24, E30: a nonblocking write is not held up by a writer asleep on the
 * same counter: it succeeds or fails with EAGAIN at once.
 */
CONFORM(nonblocking_write_beside_sleeping_writer)
{
	int fd = b->open_counter(0, 0);
	struct bg w, nb;

	b->set_count(fd, TOP);
	bg_start(&w, BG_WRITE, fd, 1, false);
	evt_rec(t, "writer asleep: %d", bg_asleep(&w));
	set_nonblock(fd, true);
	bg_start(&nb, BG_WRITE, fd, 0, false);
	bg_rec(t, "nonblocking write 0", &nb, BG_DEADLINE_MS);
	bg_end(&nb);
	bg_start(&nb, BG_WRITE, fd, 1, false);
	bg_rec(t, "nonblocking write 1", &nb, BG_DEADLINE_MS);
	bg_end(&nb);
	rec_read(t, "read", fd);
	bg_rec(t, "writer", &w, BG_DEADLINE_MS);
	bg_end(&w);
	rec_count(t, "count", b, fd);
	close(fd);
}

/* E33: a signal interrupts any one of several blocked writers. */
CONFORM(signal_interrupts_second_blocked_writer)
{
	int fd = b->open_counter(0, 0);
	struct bg w1, w2;

	sig_install(SIGUSR1, false);
	b->set_count(fd, TOP);
	bg_start(&w1, BG_WRITE, fd, 1, false);
	evt_rec(t, "writer 1 asleep: %d", bg_asleep(&w1));
	bg_start(&w2, BG_WRITE, fd, 2, false);
	evt_rec(t, "writer 2 asleep: %d", bg_asleep(&w2));
	bg_signal(&w2, SIGUSR1);
	bg_rec(t, "writer 2", &w2, BG_DEADLINE_MS);
	bg_end(&w2);
	bg_rec(t, "writer 1 still", &w1, BG_GRACE_MS);
	rec_read(t, "read", fd);
	bg_rec(t, "writer 1", &w1, BG_DEADLINE_MS);
	bg_end(&w1);
	rec_count(t, "count", b, fd);
	close(fd);
}

/* E33: SIGKILL ends a process asleep in read; nothing is consumed. */
CONFORM(sigkill_ends_blocked_reader)
{
	int fd = b->open_counter(0, 0);
	struct bg r;

	bg_start(&r, BG_READ, fd, 0, true);
	evt_rec(t, "child asleep: %d", bg_asleep(&r));
	bg_signal(&r, SIGKILL);
	bg_rec(t, "child", &r, BG_DEADLINE_MS);
	bg_end(&r);
	rec_write(t, "write 4", fd, 4);
	rec_count(t, "count", b, fd);
	close(fd);
}

/* E33: SIGKILL ends a process asleep in write; nothing is added. */
CONFORM(sigkill_ends_blocked_writer)
{
	int fd = b->open_counter(0, 0);
	struct bg w;

	b->set_count(fd, TOP);
	bg_start(&w, BG_WRITE, fd, 5, true);
	evt_rec(t, "child asleep: %d", bg_asleep(&w));
	bg_signal(&w, SIGKILL);
	bg_rec(t, "child", &w, BG_DEADLINE_MS);
	bg_end(&w);
	rec_read(t, "read", fd);
	usleep(BG_GRACE_MS * 1000); /* a lost writer would add now */
	rec_count(t, "count", b, fd);
	close(fd);
}
