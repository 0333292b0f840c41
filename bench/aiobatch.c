// SPDX-License-Identifier: GPL-2.0-only
/*
 * aiobatch: section 5's third AIO figure alone, for profiling: batches
 * of K 4 KiB reads of a 1 MiB unlinked tmpfs file through an evfdfs
 * mount's control file (libevfdfs), each submitted at once and collected
 * with getevents(K).  bench/aio-syscalls.sh counts the system calls of
 * the daemon and of this program around it.
 *
 * Usage: aiobatch MNT [BATCHES [K]]   (defaults: 200 batches of 32)
 * Prints the batches timed and their p50 and p90 in us; the first 10
 * batches are a warm-up, not timed.  Exit status 0 when every read
 * returned its 4 KiB.
 */
#include <evfdfs.h>
#include <fcntl.h>
#include <libaio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "evbench.h"

#define BLOCK 4096
#define FILE_LEN (1 << 20)
#define KMAX 256
#define WARM 10

static int data_file(void)
{
	static char block[BLOCK];
	int fd = open("/dev/shm", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600), i;

	if (fd < 0)
		return -1;
	memset(block, 0x5a, sizeof(block));
	for (i = 0; i < FILE_LEN / BLOCK; i++)
		if (write(fd, block, sizeof(block)) != (ssize_t)sizeof(block))
			return -1;
	return fd;
}

int main(int argc, char **argv)
{
	static char bufs[KMAX][BLOCK] __attribute__((aligned(4096)));
	struct iocb cb[KMAX], *cbs[KMAX];
	struct io_event ev[KMAX];
	struct evfdfs_io_ctx *ctx = NULL;
	int iters, k, fd, i, j, got, n;
	long long off = 0;
	struct sample smp;
	int64_t *lat;

	if (argc < 2) {
		fprintf(stderr, "usage: aiobatch MNT [BATCHES [K]]\n");
		return 2;
	}
	iters = argc > 2 ? atoi(argv[2]) : 200;
	k = argc > 3 ? atoi(argv[3]) : 32;
	if (iters < 1 || k < 1 || k > KMAX) {
		fprintf(stderr, "aiobatch: 1 <= K <= %d, BATCHES >= 1\n", KMAX);
		return 2;
	}
	lat = calloc((size_t)iters, sizeof(*lat));
	fd = data_file();
	if (!lat || fd < 0 || evfdfs_io_setup(argv[1], 2u * k, &ctx)) {
		fprintf(stderr, "aiobatch: setup failed\n");
		return 1;
	}
	for (i = 0; i < WARM + iters; i++) {
		int64_t t0;

		for (j = 0; j < k; j++) {
			io_prep_pread(&cb[j], fd, bufs[j], BLOCK, off);
			cbs[j] = &cb[j];
			off = (off + BLOCK) % FILE_LEN;
		}
		t0 = now_ns();
		if (evfdfs_io_submit(ctx, k, cbs) != k) {
			fprintf(stderr, "aiobatch: submit failed\n");
			return 1;
		}
		for (got = 0; got < k; got += n) {
			n = evfdfs_io_getevents(ctx, k - got, k - got, ev,
						NULL);
			if (n <= 0) {
				fprintf(stderr, "aiobatch: getevents: %d\n", n);
				return 1;
			}
			for (j = 0; j < n; j++)
				if (ev[j].res != BLOCK) {
					fprintf(stderr, "aiobatch: res %lld\n",
						(long long)ev[j].res);
					return 1;
				}
		}
		if (i >= WARM)
			lat[i - WARM] = now_ns() - t0;
	}
	summarize(lat, iters, 0, &smp); /* sorts lat */
	printf("%d batches of %d: p50 %.1f us, p90 %.1f us\n", iters, k,
	       smp.p50, (double)lat[iters * 9 / 10] / 1000.0);
	evfdfs_io_destroy(ctx);
	free(lat);
	close(fd);
	return 0;
}
