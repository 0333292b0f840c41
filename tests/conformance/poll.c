// SPDX-License-Identifier: GPL-2.0-only
/*
 * E40-E47: readiness.  poll masks from the count alone, select's three
 * sets, level- and edge-triggered epoll (every write is an EPOLLIN edge,
 * every read an EPOLLOUT edge), the readiness EPOLL_CTL_ADD reports, and
 * sleepers in poll/epoll_wait woken by another thread.
 *
 * Each case watches a descriptor with ONE poller: on the mount, pollers of
 * one open file share a single wake-up (a FUSE limitation, shown in
 * differences.c).
 */
#include <poll.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "backend.h"

#define TOP 0xfffffffffffffffeull
#define ALL_POLL_BITS \
	(POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM | POLLPRI | POLLRDHUP)

/*
 * E40, E41: the mask at 0, 5 and the top; RDNORM/WRNORM/PRI never
 * reported.
 */
CONFORM(poll_masks)
{
	int fd = b->open_counter(0, EFD_NONBLOCK);

	rec_poll(t, "count 0 all", fd, ALL_POLL_BITS);
	rec_poll(t, "count 0 IN", fd, POLLIN);
	rec_poll(t, "count 0 OUT", fd, POLLOUT);
	rec_poll(t, "count 0 none", fd, 0);
	rec_write(t, "write 5", fd, 5);
	rec_poll(t, "count 5 all", fd, ALL_POLL_BITS);
	rec_poll(t, "count 5 RDNORM|WRNORM", fd, POLLRDNORM | POLLWRNORM);
	rec_poll(t, "count 5 IN", fd, POLLIN);
	b->set_count(fd, TOP);
	rec_poll(t, "top all", fd, ALL_POLL_BITS);
	rec_poll(t, "top OUT", fd, POLLOUT);
	b->set_count(fd, TOP - 1);
	rec_poll(t, "top-1 all", fd, ALL_POLL_BITS);
	/* E41: POLLOUT promises room for a write of 1, not for more. */
	rec_write(t, "write 2 at top-1", fd, 2);
	rec_write(t, "write 1 at top-1", fd, 1);
	close(fd);
}

/* E42: readable iff IN, writable iff OUT, never exceptional. */
CONFORM(select_sets)
{
	int fd = b->open_counter(0, EFD_NONBLOCK);

	rec_select(t, "count 0", fd);
	rec_write(t, "write 5", fd, 5);
	rec_select(t, "count 5", fd);
	b->set_count(fd, TOP);
	rec_select(t, "top", fd);
	rec_read(t, "read", fd);
	rec_select(t, "after read", fd);
	close(fd);
}

/* E43, E47: level-triggered epoll reports for as long as it holds. */
CONFORM(epoll_level_triggered)
{
	int fd = b->open_counter(0, EFD_NONBLOCK);
	int ep = epoll_on(fd, EPOLLIN | EPOLLOUT);

	rec_epoll(t, "count 0", ep);
	rec_epoll(t, "count 0 again", ep);
	rec_write(t, "write 2", fd, 2);
	rec_epoll(t, "count 2", ep);
	rec_epoll(t, "count 2 again", ep);
	b->set_count(fd, TOP);
	rec_epoll(t, "top", ep);
	rec_epoll(t, "top again", ep);
	rec_read(t, "read", fd);
	rec_epoll(t, "after read", ep);
	close(ep);
	close(fd);
}

/* E43: level-triggered EPOLLIN alone at count 0 and after a write. */
CONFORM(epoll_level_triggered_in)
{
	int fd = b->open_counter(0, EFD_NONBLOCK);
	int ep = epoll_on(fd, EPOLLIN);

	rec_epoll(t, "count 0", ep);
	rec_write(t, "write 0", fd, 0);
	rec_epoll(t, "after write 0", ep);
	rec_write(t, "write 1", fd, 1);
	rec_epoll(t, "count 1", ep);
	rec_epoll(t, "count 1 again", ep);
	rec_read(t, "read", fd);
	rec_epoll(t, "after read", ep);
	close(ep);
	close(fd);
}

/*
 * E44: EPOLLIN|EPOLLET: every successful write is a new edge, even at
 * count > 0 and even of 0; a write of 0 at count 0 is not; reads are not.
 */
CONFORM(epoll_edge_in)
{
	int fd = b->open_counter(0, EFD_NONBLOCK);
	int ep = epoll_on(fd, EPOLLIN | EPOLLET);

	rec_epoll(t, "after add at 0", ep);
	rec_write(t, "write 0 at 0", fd, 0);
	rec_epoll(t, "after write 0 at 0", ep);
	rec_write(t, "write 1", fd, 1);
	rec_epoll(t, "after write 1", ep);
	rec_epoll(t, "again", ep);
	rec_write(t, "write 1 at 1", fd, 1);
	rec_epoll(t, "after write 1 at 1", ep);
	rec_write(t, "write 0 at 2", fd, 0);
	rec_epoll(t, "after write 0 at 2", ep);
	rec_write(t, "write 1 twice a", fd, 1);
	rec_write(t, "write 1 twice b", fd, 1);
	rec_epoll(t, "after two writes", ep);
	rec_epoll(t, "again", ep);
	rec_read(t, "read", fd);
	rec_epoll(t, "after read", ep);
	rec_write(t, "write all-ones (fails)", fd, UINT64_MAX);
	rec_epoll(t, "after failed write", ep);
	close(ep);
	close(fd);
}

/*
 * E45: EPOLLOUT|EPOLLET: writes never make an event (their wake-up is
 * EPOLLIN), every successful read does, a failed read does not.
 */
CONFORM(epoll_edge_out)
{
	int fd = b->open_counter(0, EFD_NONBLOCK);
	int ep = epoll_on(fd, EPOLLOUT | EPOLLET);

	rec_epoll(t, "after add", ep);
	rec_epoll(t, "again", ep);
	rec_write(t, "write 1", fd, 1);
	rec_epoll(t, "after write 1", ep);
	rec_write(t, "write 0", fd, 0);
	rec_epoll(t, "after write 0", ep);
	rec_read(t, "read", fd);
	rec_epoll(t, "after read", ep);
	rec_epoll(t, "again", ep);
	rec_read(t, "read empty", fd);
	rec_epoll(t, "after failed read", ep);
	rec_write(t, "write 3", fd, 3);
	rec_epoll(t, "after write 3", ep);
	rec_read(t, "read", fd);
	rec_epoll(t, "after read", ep);
	close(ep);
	close(fd);
}

/* E45: in semaphore mode every read is an EPOLLOUT edge too. */
CONFORM(epoll_edge_out_semaphore)
{
	int fd = b->open_counter(3, EFD_NONBLOCK | EFD_SEMAPHORE);
	int ep = epoll_on(fd, EPOLLOUT | EPOLLET);

	rec_epoll(t, "after add", ep);
	rec_read(t, "read 1", fd);
	rec_epoll(t, "after read 1", ep);
	rec_read(t, "read 2", fd);
	rec_epoll(t, "after read 2", ep);
	rec_epoll(t, "again", ep);
	close(ep);
	close(fd);
}

/*
 * E46: EPOLLIN|EPOLLOUT|EPOLLET: every write (even of 0 at count 0) and
 * every read is an event carrying the current mask.
 */
CONFORM(epoll_edge_in_out)
{
	int fd = b->open_counter(0, EFD_NONBLOCK);
	int ep = epoll_on(fd, EPOLLIN | EPOLLOUT | EPOLLET);

	rec_epoll(t, "after add", ep);
	rec_epoll(t, "again", ep);
	rec_write(t, "write 0 at 0", fd, 0);
	rec_epoll(t, "after write 0 at 0", ep);
	rec_write(t, "write 2", fd, 2);
	rec_epoll(t, "after write 2", ep);
	rec_epoll(t, "again", ep);
	rec_read(t, "read", fd);
	rec_epoll(t, "after read", ep);
	rec_read(t, "read empty", fd);
	rec_epoll(t, "after failed read", ep);
	close(ep);
	close(fd);
}

/* E47: EPOLL_CTL_ADD reports the current readiness once in ET mode. */
CONFORM(epoll_add_reports_current_readiness)
{
	int fd = b->open_counter(3, EFD_NONBLOCK);
	int in = epoll_on(fd, EPOLLIN | EPOLLET);
	int ep;

	rec_epoll(t, "IN|ET at 3", in);
	rec_epoll(t, "IN|ET again", in);
	close(in);
	b->set_count(fd, TOP);
	ep = epoll_on(fd, EPOLLOUT | EPOLLET);
	rec_epoll(t, "OUT|ET at top", ep);
	close(ep);
	ep = epoll_on(fd, EPOLLIN | EPOLLOUT | EPOLLET);
	rec_epoll(t, "IN|OUT|ET at top", ep);
	rec_epoll(t, "again", ep);
	close(ep);
	close(fd);
}

/* E40, E15: a poll(POLLIN) sleeper is woken by another thread's write. */
CONFORM(poll_sleeper_woken_by_write)
{
	int fd = b->open_counter(0, 0);
	struct bg p;

	bg_start(&p, BG_POLL, fd, POLLIN, false);
	evt_rec(t, "poller asleep: %d", bg_asleep(&p));
	rec_write(t, "write 0", fd, 0);
	bg_rec(t, "poller after write 0", &p, BG_GRACE_MS);
	rec_write(t, "write 1", fd, 1);
	bg_rec(t, "poller", &p, BG_DEADLINE_MS);
	bg_end(&p);
	close(fd);
}

/* E40, E24: a poll(POLLOUT) sleeper at the top is woken by a read. */
CONFORM(poll_out_sleeper_woken_by_read)
{
	int fd = b->open_counter(0, 0);
	struct bg p;

	b->set_count(fd, TOP);
	bg_start(&p, BG_POLL, fd, POLLOUT, false);
	evt_rec(t, "poller asleep: %d", bg_asleep(&p));
	rec_write(t, "write 0", fd, 0);
	bg_rec(t, "poller after write 0", &p, BG_GRACE_MS);
	rec_read(t, "read", fd);
	bg_rec(t, "poller", &p, BG_DEADLINE_MS);
	bg_end(&p);
	close(fd);
}

/* E44: an epoll_wait(EPOLLIN|EPOLLET) sleeper is woken by each write. */
CONFORM(epoll_sleeper_woken_by_each_write)
{
	int fd = b->open_counter(1, 0);
	int ep = epoll_on(fd, EPOLLIN | EPOLLET);
	struct bg p;
	int i;

	rec_epoll(t, "the add's event", ep);
	for (i = 0; i < 3; i++) {
		bg_start(&p, BG_EPOLL, ep, 0, false);
		evt_rec(t, "waiter asleep: %d", bg_asleep(&p));
		rec_write(t, "write 1", fd, 1);
		bg_rec(t, "waiter", &p, BG_DEADLINE_MS);
		bg_end(&p);
	}
	rec_read(t, "read", fd);
	close(ep);
	close(fd);
}
