// SPDX-License-Identifier: GPL-2.0-only
/*
 * epoll_ready: wait with epoll until a file is readable, without reading
 * it, at most SECONDS.
 *
 *     build/examples/epoll_ready FILE [SECONDS]     (default 10)
 *
 * On a counter of the mount (or its text view) this is readiness as a
 * program sees it: EPOLLIN once the count is above 0, and the count left
 * as it was, for whoever reads it.  The guided demo (examples/demo.sh)
 * shows it in the live view as a poller of the counter.
 *
 * Prints "FILE: readable" and exits 0, or "FILE: not readable after N s"
 * and exits 1; 2 on an error.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct epoll_event ev = { .events = EPOLLIN }, got;
	int secs = argc > 2 ? atoi(argv[2]) : 10;
	int fd, ep, n;

	if (argc < 2 || argc > 3 || secs < 0) {
		fprintf(stderr, "usage: %s FILE [SECONDS]\n", argv[0]);
		return 2;
	}
	/* O_NONBLOCK: opening must not wait either (a FIFO would). */
	fd = open(argv[1], O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		perror(argv[1]);
		return 2;
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		perror("epoll");
		return 2;
	}
	n = epoll_wait(ep, &got, 1, secs * 1000);
	if (n < 0) {
		perror("epoll_wait");
		return 2;
	}
	if (n == 0) {
		printf("%s: not readable after %d s\n", argv[1], secs);
		return 1;
	}
	printf("%s: readable\n", argv[1]);
	close(ep);
	close(fd);
	return 0;
}
