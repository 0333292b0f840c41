// SPDX-License-Identifier: GPL-2.0-only
/*
 * The event loop's sources: what main (the FUSE device, a signalfd) and
 * the AIO side (its completion and hand-back eventfds, readiness waits)
 * put in the loop's epoll set.  The loop itself runs in evfdfs.c; this
 * part is in the base layer (fused/LAYERS), so that the AIO side
 * registers its sources without calling up into main.
 */
#include <errno.h>
#include <sys/epoll.h>

#include "evfdfs_i.h"

int loop_add(struct evfdfs *fs, struct loop_source *src, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = src };

	if (epoll_ctl(fs->epfd, EPOLL_CTL_ADD, src->fd, &ev))
		return -errno;
	return 0;
}

void loop_del(struct evfdfs *fs, struct loop_source *src)
{
	epoll_ctl(fs->epfd, EPOLL_CTL_DEL, src->fd, NULL);
}
