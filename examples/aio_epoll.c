// SPDX-License-Identifier: GPL-2.0-only
/*
 * aio_epoll: one epoll loop that serves asynchronous I/O completions next
 * to other descriptors -- the scenario the kernel's eventfd and
 * IOCB_FLAG_RESFD patches were written for, run on an evfdfs mount.
 *
 * Without the eventfd, a program doing AIO must block in io_getevents(),
 * and so cannot also wait for its sockets and pipes.  With it, every
 * completion adds 1 to a counter; the counter is a descriptor; epoll waits
 * for it with everything else; when it is readable, its value says how
 * many completions are ready to collect, without blocking.
 *
 * Here: BLOCKS reads of a file are submitted through the mount's AIO
 * control file, each naming the counter as its RESFD (io_set_eventfd()),
 * while a child process writes lines into a pipe.  The loop serves both.
 *
 *     build/examples/aio_epoll MNT     (or EVFDFS_MOUNT=MNT)
 *
 * Exits 0 when every read completed with the right data and every line
 * arrived.  `cat MNT/trace` meanwhile shows aio-submit, aio-complete and
 * signal events.
 */
#include <errno.h>
#include <fcntl.h>
#include <evfdfs.h>
#include <libaio.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BLOCKS 4
#define BLOCK 4096
#define LINES 3

/* The child: a few lines into the pipe, then close it. */
static int talker(int wfd)
{
	const struct timespec pause = { 0, 15 * 1000 * 1000 }; /* 15 ms */
	char line[32];
	int i, n;

	for (i = 1; i <= LINES; i++) {
		n = snprintf(line, sizeof(line), "line %d\n", i);
		if (write(wfd, line, (size_t)n) != n)
			return 1;
		nanosleep(&pause, NULL);
	}
	close(wfd);
	return 0;
}

/* A file of BLOCKS blocks, block k filled with the letter 'a' + k. */
static int make_file(void)
{
	char tmpl[] = "/tmp/aio_epoll-XXXXXX", block[BLOCK];
	int fd = mkstemp(tmpl), k;

	if (fd < 0)
		return -1;
	unlink(tmpl); /* it lives while open */
	for (k = 0; k < BLOCKS; k++) {
		memset(block, 'a' + k, sizeof(block));
		if (write(fd, block, sizeof(block)) != (ssize_t)sizeof(block))
			return -1;
	}
	return fd;
}

int main(int argc, char **argv)
{
	const char *mnt = argc > 1 ? argv[1] : NULL;
	static char bufs[BLOCKS][BLOCK];
	struct iocb cbs[BLOCKS], *cbp[BLOCKS];
	struct epoll_event ev, got[4];
	struct evfdfs_io_ctx *ctx = NULL;
	struct io_event events[BLOCKS];
	int file, counter, pfd[2], ep, i, n, k, ret, status;
	int done = 0, lines = 0, bad = 0;
	bool pipe_open = true;
	uint64_t ready;
	pid_t pid;

	setvbuf(stdout, NULL, _IOLBF, 0);
	alarm(30);

	file = make_file();
	/* The counter the completions signal: anonymous, non-blocking. */
	counter = evfdfs_eventfd(mnt, 0, EFD_NONBLOCK);
	if (file < 0 || counter < 0) {
		perror("setup");
		return 1;
	}
	/* An AIO context on the mount (libaio-shaped: -errno). */
	ret = evfdfs_io_setup(mnt, BLOCKS, &ctx);
	if (ret < 0) {
		fprintf(stderr, "evfdfs_io_setup: %s\n", strerror(-ret));
		return 1;
	}

	if (pipe2(pfd, O_CLOEXEC) != 0) {
		perror("pipe2");
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {
		close(pfd[0]);
		_exit(talker(pfd[1]));
	}
	close(pfd[1]);

	/* Submit every read at once.  io_set_eventfd() must come after
	 * io_prep_pread(), which clears the iocb first. */
	for (k = 0; k < BLOCKS; k++) {
		io_prep_pread(&cbs[k], file, bufs[k], BLOCK,
			      (long long)k * BLOCK);
		io_set_eventfd(&cbs[k], counter);
		cbs[k].data = (void *)(uintptr_t)k; /* which block */
		cbp[k] = &cbs[k];
	}
	ret = evfdfs_io_submit(ctx, BLOCKS, cbp);
	if (ret != BLOCKS) {
		fprintf(stderr, "evfdfs_io_submit: %d\n", ret);
		return 1;
	}
	printf("submitted %d reads\n", BLOCKS);

	/* The counter and the pipe, in one epoll set. */
	ep = epoll_create1(EPOLL_CLOEXEC);
	ev.events = EPOLLIN;
	ev.data.fd = counter;
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, counter, &ev) != 0) {
		perror("epoll counter");
		return 1;
	}
	ev.data.fd = pfd[0];
	if (epoll_ctl(ep, EPOLL_CTL_ADD, pfd[0], &ev) != 0) {
		perror("epoll pipe");
		return 1;
	}

	while (done < BLOCKS || pipe_open) {
		n = epoll_wait(ep, got, 4, 5000);
		if (n <= 0) {
			fprintf(stderr, "epoll_wait: %s\n",
				n ? strerror(errno) : "nothing for 5 s");
			return 1;
		}
		for (i = 0; i < n; i++) {
			if (got[i].data.fd == pfd[0]) {
				char buf[128];
				ssize_t len =
					read(pfd[0], buf, sizeof(buf) - 1);

				if (len <= 0) {
					printf("pipe: closed\n");
					epoll_ctl(ep, EPOLL_CTL_DEL, pfd[0],
						  NULL);
					pipe_open = false;
					continue;
				}
				buf[len] = '\0';
				/* Lines written apart may arrive together. */
				for (char *p = buf, *nl; (nl = strchr(p, '\n'));
				     p = nl + 1) {
					printf("pipe: %.*s\n", (int)(nl - p),
					       p);
					lines++;
				}
				continue;
			}
			/* The counter: its value is how many completions
			 * were signalled since the last read.  Each event is
			 * queued before its signal, so collecting that many
			 * never waits. */
			if (evfdfs_read(counter, &ready) != 0)
				continue; /* EAGAIN: another wake-up took it */
			ret = evfdfs_io_getevents(ctx, (long)ready, (long)ready,
						  events, NULL);
			if (ret < 0) {
				fprintf(stderr, "evfdfs_io_getevents: %s\n",
					strerror(-ret));
				return 1;
			}
			for (k = 0; k < ret; k++) {
				int b = (int)(uintptr_t)events[k].data;
				long res = (long)events[k].res;

				printf("aio: block %d read %ld bytes of '%c'\n",
				       b, res, bufs[b][0]);
				if (res != BLOCK || bufs[b][0] != 'a' + b ||
				    bufs[b][BLOCK - 1] != 'a' + b)
					bad++;
			}
			done += ret;
			printf("counter: %llu completions ready (%d of %d)\n",
			       (unsigned long long)ready, done, BLOCKS);
		}
	}

	waitpid(pid, &status, 0);
	evfdfs_io_destroy(ctx);
	close(ep);
	close(pfd[0]);
	close(counter);
	close(file);
	if (bad || lines != LINES || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		printf("FAILED: %d bad blocks, %d lines\n", bad, lines);
		return 1;
	}
	printf("ok: one epoll loop served %d AIO completions and %d lines\n",
	       BLOCKS, LINES);
	return 0;
}
