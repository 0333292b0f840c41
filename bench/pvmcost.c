// SPDX-License-Identifier: GPL-2.0-only
/*
 * pvmcost: what the daemon's store of a batch's read data into the
 * submitter's memory costs, next to a plain copy (BENCHMARKS.md, "Where
 * the AIO batch's time goes").  A child process plays the submitter with
 * K 4 KiB buffers; this process stores K x 4 KiB into them with one
 * process_vm_writev, as ring_deliver_batch() does, and copies the same
 * bytes locally with memcpy.  Also: the library's gather of K 64-byte
 * iocbs as K segments and as their one span (client/umem.c).
 *
 * Usage: pvmcost [ITERS [K]]   (defaults: 20000 and 32)
 * Prints the median of each, in us.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "evbench.h"

#define BLOCK 4096
#define KMAX 256

/* The median of @n latencies in ns, in us (bench/lib's summarize()). */
static double median_us(int64_t *v, int n)
{
	struct sample smp;

	summarize(v, n, 0, &smp);
	return smp.p50;
}

int main(int argc, char **argv)
{
	int iters = argc > 1 ? atoi(argv[1]) : 20000;
	int k = argc > 2 ? atoi(argv[2]) : 32, i;
	struct iovec loc, rem[KMAX], seg[KMAX], span;
	char *child_mem, *src, *dst;
	int64_t *lat;
	pid_t child;
	int p[2];

	if (iters < 1 || k < 1 || k > KMAX) {
		fprintf(stderr, "usage: pvmcost [ITERS [K]]  (1 <= K <= %d)\n",
			KMAX);
		return 2;
	}
	/* Mapped before the fork, so that the child's buffers (its own
	 * pages once it writes them) are at addresses this process knows. */
	child_mem = mmap(NULL, (size_t)k * BLOCK, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	src = malloc((size_t)k * BLOCK);
	dst = malloc((size_t)k * BLOCK);
	lat = calloc((size_t)iters, sizeof(*lat));
	if (child_mem == MAP_FAILED || !src || !dst || !lat || pipe(p))
		return 1;
	memset(src, 0x5a, (size_t)k * BLOCK);
	child = fork();
	if (child == 0) {
		char c;

		memset(child_mem, 1, (size_t)k * BLOCK); /* its own pages */
		close(p[1]);
		if (read(p[0], &c, 1) < 0) { /* until the parent is done */
		}
		_exit(0);
	}
	close(p[0]);
	usleep(100000); /* the child has touched its pages */
	for (i = 0; i < k; i++) {
		rem[i].iov_base = child_mem + (size_t)i * BLOCK;
		rem[i].iov_len = BLOCK;
	}
	loc.iov_base = src;
	loc.iov_len = (size_t)k * BLOCK;
	for (i = 0; i < iters; i++) {
		int64_t t0 = now_ns();

		if (process_vm_writev(child, &loc, 1, rem, (unsigned long)k,
				      0) != (ssize_t)loc.iov_len) {
			perror("pvmcost: process_vm_writev");
			return 1;
		}
		lat[i] = now_ns() - t0;
	}
	printf("process_vm_writev of %d x 4 KiB to another process: %.2f us\n",
	       k, median_us(lat, iters));
	for (i = 0; i < iters; i++) {
		int64_t t0 = now_ns();

		memcpy(dst, src, (size_t)k * BLOCK);
		__asm__ volatile("" : : "r"(dst) : "memory");
		lat[i] = now_ns() - t0;
	}
	printf("memcpy of the same %d x 4 KiB: %.2f us\n", k,
	       median_us(lat, iters));
	for (i = 0; i < k; i++) {
		seg[i].iov_base = src + (size_t)i * 64;
		seg[i].iov_len = 64;
	}
	loc.iov_base = dst;
	loc.iov_len = (size_t)k * 64;
	for (i = 0; i < iters; i++) {
		int64_t t0 = now_ns();

		process_vm_readv(getpid(), &loc, 1, seg, (unsigned long)k, 0);
		lat[i] = now_ns() - t0;
	}
	printf("process_vm_readv of %d iocbs as %d segments: %.2f us\n", k, k,
	       median_us(lat, iters));
	span.iov_base = src;
	span.iov_len = (size_t)k * 64;
	for (i = 0; i < iters; i++) {
		int64_t t0 = now_ns();

		process_vm_readv(getpid(), &loc, 1, &span, 1, 0);
		lat[i] = now_ns() - t0;
	}
	printf("process_vm_readv of %d iocbs as one span: %.2f us\n", k,
	       median_us(lat, iters));
	close(p[1]);
	waitpid(child, NULL, 0);
	return 0;
}
