// SPDX-License-Identifier: GPL-2.0-only
/*
 * epoll_counter_socket: one epoll loop serving a counter and a socket.
 *
 * The point of eventfd is that a "something happened" signal becomes a
 * file descriptor, so one epoll_wait() can wait for it next to sockets,
 * pipes and timers.  A counter of the mount is such a descriptor: its
 * readiness comes from the FUSE daemon, through the kernel's poll
 * machinery, exactly where epoll looks for it.
 *
 * A child process talks to the loop two ways: lines over a socketpair, and
 * "work units" added to an anonymous counter (like eventfd(0, EFD_NONBLOCK)
 * but in the mount).  The loop reacts to whichever is ready, and stops
 * when the socket is closed and every unit has arrived.
 *
 *     build/examples/epoll_counter_socket MNT     (or EVFDFS_MOUNT=MNT)
 *
 * Exits 0 when every line and every unit arrived.
 */
#include <errno.h>
#include <evfdfs.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ROUNDS 5
/* The child adds 1, 2, ... ROUNDS units: this many in all. */
#define UNITS (ROUNDS * (ROUNDS + 1) / 2)

static int child(int counter, int sock)
{
	const struct timespec pause = { 0, 10 * 1000 * 1000 }; /* 10 ms */
	char line[64];
	int i, n;

	for (i = 1; i <= ROUNDS; i++) {
		n = snprintf(line, sizeof(line), "round %d\n", i);
		if (write(sock, line, (size_t)n) != n)
			return 1;
		if (evfdfs_write(counter, (uint64_t)i) != 0)
			return 1;
		nanosleep(&pause, NULL);
	}
	/* Closing the socket is the last event: the loop sees EOF. */
	close(sock);
	return 0;
}

int main(int argc, char **argv)
{
	const char *mnt = argc > 1 ? argv[1] : NULL;
	struct epoll_event ev, got[4];
	uint64_t units = 0, v;
	int counter, sv[2], ep, n, i, status;
	bool sock_open = true;
	pid_t pid;

	setvbuf(stdout, NULL, _IOLBF, 0);
	alarm(30);

	/* An anonymous counter: created, then unlinked at once, so it lives
	 * only as long as our descriptors, like an eventfd. */
	counter = evfdfs_eventfd(mnt, 0, EFD_NONBLOCK);
	if (counter < 0) {
		perror("evfdfs_eventfd");
		return 1;
	}
	/* SOCK_SEQPACKET: each line is one message and one read (a stream
	 * socket may hand two lines to one read). */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
		perror("socketpair");
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {
		close(sv[0]);
		_exit(child(counter, sv[1]));
	}
	close(sv[1]);

	/* Both descriptors in one epoll set; data.fd says which woke us. */
	ep = epoll_create1(EPOLL_CLOEXEC);
	ev.events = EPOLLIN;
	ev.data.fd = counter;
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, counter, &ev) != 0) {
		perror("epoll counter");
		return 1;
	}
	ev.data.fd = sv[0];
	if (epoll_ctl(ep, EPOLL_CTL_ADD, sv[0], &ev) != 0) {
		perror("epoll socket");
		return 1;
	}

	while (sock_open || units < UNITS) {
		/* Wait for either; give up after 5 s of silence. */
		n = epoll_wait(ep, got, 4, 5000);
		if (n <= 0) {
			fprintf(stderr, "epoll_wait: %s\n",
				n ? strerror(errno) : "nothing for 5 s");
			return 1;
		}
		for (i = 0; i < n; i++) {
			if (got[i].data.fd == counter) {
				/* Readable: the count is > 0.  One read takes
				 * all of it (the child may have added twice). */
				if (evfdfs_read(counter, &v) != 0) {
					if (errno == EAGAIN)
						continue;
					perror("evfdfs_read");
					return 1;
				}
				units += v;
				printf("counter: +%llu units (%llu of %d)\n",
				       (unsigned long long)v,
				       (unsigned long long)units, UNITS);
			} else {
				char buf[256];
				ssize_t len = read(sv[0], buf, sizeof(buf) - 1);

				if (len <= 0) {
					printf("socket: closed\n");
					epoll_ctl(ep, EPOLL_CTL_DEL, sv[0],
						  NULL);
					sock_open = false;
					continue;
				}
				buf[len] = '\0';
				printf("socket: %s", buf);
			}
		}
	}
	waitpid(pid, &status, 0);
	close(ep);
	close(sv[0]);
	close(counter);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || units != UNITS) {
		printf("FAILED: %llu units, child status %d\n",
		       (unsigned long long)units, status);
		return 1;
	}
	printf("ok: one epoll loop served the socket and all %d units\n",
	       UNITS);
	return 0;
}
