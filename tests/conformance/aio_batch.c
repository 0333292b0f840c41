// SPDX-License-Identifier: GPL-2.0-only
/*
 * Batches: many iocbs in one io_submit, naming few descriptors many times
 * and many descriptors in one call, with a RESFD, vectored reads, a write,
 * a buffer that faults half-way and a descriptor that fails, against the
 * kernel.  The mount resolves a descriptor once per write and stores the
 * data of a whole read of events at once (BENCHMARKS.md, "AIO"): what
 * these cases see must not change with that.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "aio_backend.h"

#define FILE_LEN (64 << 10)
#define NB 40

/*
 * 40 iocbs in one submit: three descriptors of two files, each named many
 * times, every fourth with a RESFD, a PREADV, a PWRITE, and a read whose
 * buffer's second page is not mapped (a short count) in the middle.  Then
 * the same with a descriptor that is not open at index 20: 20 accepted,
 * and a submit that starts there fails with EBADF; and with a RESFD that
 * is not an eventfd at index 10.
 */
ACONFORM(batch_mixed_descriptors)
{
	static char bufs[NB][1024];
	static char v0[100], v1[300], v2[624];
	struct iovec iov[3] = { { v0, sizeof(v0) },
				{ v1, sizeof(v1) },
				{ v2, sizeof(v2) } };
	void *ctx = aio_ctx(b, 128);
	int f1 = aio_tmpfile("/dev/shm", FILE_LEN, O_RDWR);
	int f2 = aio_tmpfile("/var/tmp", FILE_LEN, O_RDWR);
	int f3 = aio_reopen(f1, O_RDONLY);
	int wf = aio_tmpfile("/dev/shm", FILE_LEN, O_RDWR);
	int efd = b->counter(0, 0);
	int bad = aio_closed_fd(), p[2];
	struct iocb cb[NB], *list[NB];
	char label[64], *pages, wbuf[100];
	ssize_t wlen;
	size_t off;
	int i, fds[3] = { f1, f2, f3 }, nres = 0;

	cr_assert(pipe(p) == 0);
	pages = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert(pages != MAP_FAILED);
	cr_assert(munmap(pages + 4096, 4096) == 0);
	memset(wbuf, 'w', sizeof(wbuf));
	for (i = 0; i < NB; i++) {
		io_prep_pread(&cb[i], fds[i % 3], bufs[i], sizeof(bufs[i]),
			      (long long)i * 1024);
		if (i % 4 == 0) {
			io_set_eventfd(&cb[i], efd);
			nres++;
		}
		list[i] = &cb[i];
	}
	io_prep_preadv(&cb[17], f2, iov, 3, 5000);
	io_prep_pread(&cb[25], f1, pages, 8192, 0);
	io_prep_pwrite(&cb[33], wf, wbuf, sizeof(wbuf), 0);
	aio_rec(t, "submit 40", b->submit(ctx, NB, list));
	aio_collect(b, t, ctx, NB, list, NB, true);
	for (i = 0; i < NB; i++) {
		if (i == 17 || i == 25 || i == 33)
			continue;
		snprintf(label, sizeof(label), "read %d", i);
		aio_rec_data(t, label, bufs[i], sizeof(bufs[i]),
			     (size_t)i * 1024);
	}
	aio_rec_data(t, "preadv seg 0", v0, sizeof(v0), 5000);
	aio_rec_data(t, "preadv seg 1", v1, sizeof(v1), 5100);
	aio_rec_data(t, "preadv seg 2", v2, sizeof(v2), 5400);
	aio_rec_data(t, "faulting read", pages, 4096, 0);
	memset(v0, 0, sizeof(v0));
	wlen = pread(wf, v0, sizeof(v0), 0);
	evt_rec(t, "written: %zd %s", wlen,
		memcmp(v0, wbuf, sizeof(wbuf)) ? "differs" : "same");
	aio_rec_resfd(t, efd, (uint64_t)nres);

	/* A descriptor that is not open at index 20. */
	memset(bufs, 0, sizeof(bufs));
	for (i = 0; i < NB; i++) {
		io_prep_pread(&cb[i], fds[i % 2], bufs[i], sizeof(bufs[i]),
			      (long long)i * 1024);
		io_set_eventfd(&cb[i], efd);
	}
	cb[20].aio_fildes = (unsigned int)bad;
	aio_rec(t, "submit, 20 not open", b->submit(ctx, NB, list));
	aio_collect(b, t, ctx, 20, list, NB, true);
	for (i = 0, off = 0; i < 20; i++)
		off += bufs[i][0] == aio_pattern((size_t)i * 1024);
	evt_rec(t, "reads with data: %zu", off);
	aio_rec(t, "submit from 20", b->submit(ctx, NB - 20, list + 20));
	aio_rec_resfd(t, efd, 20);

	/* A RESFD that is no eventfd at index 10. */
	for (i = 0; i < NB; i++) {
		io_prep_pread(&cb[i], f3, bufs[i], sizeof(bufs[i]),
			      (long long)i * 1024);
		io_set_eventfd(&cb[i], efd);
	}
	io_set_eventfd(&cb[10], p[0]);
	aio_rec(t, "submit, resfd 10 a pipe", b->submit(ctx, NB, list));
	aio_collect(b, t, ctx, 10, list, NB, true);
	aio_rec(t, "submit from 10", b->submit(ctx, NB - 10, list + 10));
	aio_rec_resfd(t, efd, 10);

	aio_rec(t, "destroy", b->destroy(ctx));
	munmap(pages, 4096);
	close(p[0]);
	close(p[1]);
	close(efd);
	close(wf);
	close(f3);
	close(f2);
	close(f1);
}

/*
 * One descriptor number, a different file from one submit to the next:
 * nothing of the first file is used for the second (the number is looked
 * up again), and once it is closed the submit fails with EBADF.
 */
ACONFORM(batch_same_number_other_file)
{
	static char bufs[16][512];
	static const char z[512] = { 'Z' };
	void *ctx = aio_ctx(b, 32);
	int f1 = aio_tmpfile("/dev/shm", FILE_LEN, O_RDWR);
	int f2 = aio_tmpfile("/dev/shm", FILE_LEN, O_RDWR);
	int num = aio_closed_fd();
	struct iocb cb[16], *list[16];
	char label[64];
	int i, same;

	for (i = 0; i < 16; i++)
		cr_assert(pwrite(f2, z, 1, (off_t)i * 512) == 1);
	cr_assert(dup2(f1, num) == num);
	for (i = 0; i < 16; i++) {
		io_prep_pread(&cb[i], num, bufs[i], sizeof(bufs[i]),
			      (long long)i * 512);
		list[i] = &cb[i];
	}
	aio_rec(t, "submit on the first file", b->submit(ctx, 16, list));
	aio_collect(b, t, ctx, 16, list, 16, true);
	for (i = 0; i < 16; i++) {
		snprintf(label, sizeof(label), "first %d", i);
		aio_rec_data(t, label, bufs[i], sizeof(bufs[i]),
			     (size_t)i * 512);
	}
	cr_assert(dup2(f2, num) == num);
	memset(bufs, 0, sizeof(bufs));
	aio_rec(t, "submit on the second file", b->submit(ctx, 16, list));
	aio_collect(b, t, ctx, 16, list, 16, true);
	for (i = 0, same = 0; i < 16; i++)
		same += bufs[i][0] == 'Z';
	evt_rec(t, "reads of the second file: %d", same);
	close(num);
	aio_rec(t, "submit after close", b->submit(ctx, 16, list));
	aio_rec(t, "destroy", b->destroy(ctx));
	close(f2);
	close(f1);
}

/*
 * 100 small reads and a PREADV of 20 segments in one submit: more events
 * than one store of the library gathers (64), all collected by one call.
 */
ACONFORM(batch_of_100_reads)
{
	static char bufs[100][300], segs[20][50];
	struct iovec iov[20];
	void *ctx = aio_ctx(b, 128);
	int f = aio_tmpfile("/var/tmp", FILE_LEN, O_RDWR);
	struct iocb cb[101], *list[101];
	int i, ok = 0, segok = 0;

	for (i = 0; i < 100; i++) {
		io_prep_pread(&cb[i], f, bufs[i], sizeof(bufs[i]),
			      (long long)i * 300);
		list[i] = &cb[i];
	}
	for (i = 0; i < 20; i++) {
		iov[i].iov_base = segs[i];
		iov[i].iov_len = sizeof(segs[i]);
	}
	io_prep_preadv(&cb[100], f, iov, 20, 40000);
	list[100] = &cb[100];
	aio_rec(t, "submit 101", b->submit(ctx, 101, list));
	aio_collect(b, t, ctx, 101, list, 101, true);
	for (i = 0; i < 100; i++) {
		size_t k;

		for (k = 0; k < sizeof(bufs[i]); k++)
			if (bufs[i][k] != aio_pattern((size_t)i * 300 + k))
				break;
		ok += k == sizeof(bufs[i]);
	}
	for (i = 0; i < 20; i++) {
		size_t k;

		for (k = 0; k < sizeof(segs[i]); k++)
			if (segs[i][k] !=
			    aio_pattern(40000 + (size_t)i * 50 + k))
				break;
		segok += k == sizeof(segs[i]);
	}
	evt_rec(t, "reads with the right data: %d, segments: %d", ok, segok);
	aio_rec(t, "destroy", b->destroy(ctx));
	close(f);
}

/*
 * PWRITEs to a regular file (a worker's) and to a pipe (the loop's)
 * alternating in one submit: the daemon hands each run of file writes to
 * a worker and goes on with the rest of the write afterwards, so the data
 * of the later records must come through intact and in order.
 */
ACONFORM(batch_files_and_pipe_interleaved)
{
	enum { N = 16, FLEN = 8192, PLEN = 100 };
	static char fdata[N][FLEN], pdata[N][PLEN];
	char got[N * PLEN], back[FLEN];
	void *ctx = aio_ctx(b, 2 * N);
	int f = aio_tmpfile("/var/tmp", N * FLEN, O_RDWR);
	struct iocb cb[N], *list[N];
	int i, p[2], fok = 0, pok;
	ssize_t n, total = 0;

	cr_assert(pipe(p) == 0);
	for (i = 0; i < N; i++) {
		if (i % 2 == 0) {
			memset(fdata[i], 'A' + i, FLEN);
			io_prep_pwrite(&cb[i], f, fdata[i], FLEN,
				       (long long)i * FLEN);
		} else {
			memset(pdata[i], 'a' + i, PLEN);
			io_prep_pwrite(&cb[i], p[1], pdata[i], PLEN, 0);
		}
		list[i] = &cb[i];
	}
	aio_rec(t, "submit 16", b->submit(ctx, N, list));
	aio_collect(b, t, ctx, N, list, N, true);
	while (total < (ssize_t)sizeof(got) / 2 &&
	       (n = read(p[0], got + total, sizeof(got) - (size_t)total)) > 0)
		total += n;
	for (i = 1, pok = 0; i < N; i += 2)
		pok += memcmp(got + (i / 2) * PLEN, pdata[i], PLEN) == 0;
	for (i = 0; i < N; i += 2)
		fok += pread(f, back, FLEN, (off_t)i * FLEN) == FLEN &&
		       memcmp(back, fdata[i], FLEN) == 0;
	evt_rec(t, "pipe: %zd bytes, %d records in order; file: %d records",
		total, pok, fok);
	aio_rec(t, "destroy", b->destroy(ctx));
	close(p[0]);
	close(p[1]);
	close(f);
}

/*
 * Reads of a file whose pages are not in memory: the daemon tries a read
 * of a regular file with RWF_NOWAIT on its loop first, and a read that
 * would wait (-EAGAIN), or comes back short of its buffer, is done again
 * by a worker as the caller asked it.  So: 16 reads of an ext4 file just
 * dropped from the page cache, a read across its end (short), one at its
 * end (0), and a read of a /proc file, which has no FMODE_NOWAIT (the
 * try is refused in io_submit).  Each result and its data as the
 * kernel's.
 */
ACONFORM(reads_that_would_wait)
{
	enum { N = 16, BLK = 4096, FLEN = N * BLK + 1000 };
	static char bufs[N + 2][BLK], pv[2][BLK];
	void *ctx = aio_ctx(b, 64);
	int f = aio_tmpfile("/var/tmp", FLEN, O_RDWR);
	int pf = open("/proc/version", O_RDONLY | O_CLOEXEC);
	struct iocb cb[N + 3], *list[N + 3];
	char label[32];
	ssize_t plen;
	int i;

	cr_assert(pf >= 0);
	memset(bufs, 0, sizeof(bufs));
	cr_assert(fdatasync(f) == 0);
	cr_assert(posix_fadvise(f, 0, 0, POSIX_FADV_DONTNEED) == 0);
	for (i = 0; i < N + 2; i++) {
		io_prep_pread(&cb[i], f, bufs[i], BLK, (long long)i * BLK);
		list[i] = &cb[i];
	}
	io_prep_pread(&cb[N + 2], pf, pv[0], BLK, 0);
	list[N + 2] = &cb[N + 2];
	aio_rec(t, "submit 19", b->submit(ctx, N + 3, list));
	aio_collect(b, t, ctx, N + 3, list, N + 3, true);
	for (i = 0; i < N; i++) {
		snprintf(label, sizeof(label), "read %d", i);
		aio_rec_data(t, label, bufs[i], BLK, (size_t)i * BLK);
	}
	aio_rec_data(t, "across the end", bufs[N], 1000, (size_t)N * BLK);
	plen = pread(pf, pv[1], BLK, 0);
	evt_rec(t, "/proc/version: %s",
		plen > 0 && memcmp(pv[0], pv[1], (size_t)plen) == 0
			? "same"
			: "differs");
	aio_rec(t, "destroy", b->destroy(ctx));
	close(pf);
	close(f);
}

/*
 * The library reads a batch's iocbs as the span that covers them and
 * checks aio_key once per page (client/umem.c): what the kernel sees
 * iocb by iocb must not change.  Eight iocbs on three pages: four in a
 * writable page, an unmapped page, then four in a page that is made
 * read-only (step 7 fails on the fifth: 4 accepted, then EFAULT); with
 * every page writable, all 8 across the hole; and with the fifth pointer
 * aimed at the hole (4 accepted, then EFAULT at step 1).
 */
ACONFORM(batch_iocbs_across_pages)
{
	enum { N = 8 };
	static char bufs[N][64];
	void *ctx = aio_ctx(b, 32);
	int f = aio_tmpfile("/dev/shm", 4096, O_RDONLY);
	struct iocb *cb[N], *list[N];
	char *pages;
	int i;

	pages = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert(pages != MAP_FAILED);
	cr_assert(munmap(pages + 4096, 4096) == 0);
	for (i = 0; i < N; i++) {
		cb[i] = (struct iocb *)(pages + (i < 4 ? 0 : 2 * 4096) +
					(size_t)(i % 4) * 2 * sizeof(**cb));
		list[i] = cb[i];
	}
	for (i = 0; i < N; i++)
		io_prep_pread(cb[i], f, bufs[i], sizeof(bufs[i]),
			      (long long)i * 64);
	cr_assert(mprotect(pages + 2 * 4096, 4096, PROT_READ) == 0);
	aio_rec(t, "submit, 4 in a read-only page", b->submit(ctx, N, list));
	aio_collect(b, t, ctx, 4, list, N, true);
	aio_rec(t, "submit from 4", b->submit(ctx, N - 4, list + 4));

	cr_assert(mprotect(pages + 2 * 4096, 4096, PROT_READ | PROT_WRITE) ==
		  0);
	memset(bufs, 0, sizeof(bufs));
	aio_rec(t, "submit across a hole", b->submit(ctx, N, list));
	aio_collect(b, t, ctx, N, list, N, true);
	for (i = 0; i < N; i++)
		aio_rec_data(t, "read", bufs[i], sizeof(bufs[i]),
			     (size_t)i * 64);

	list[4] = (struct iocb *)(pages + 4096 + 128);
	aio_rec(t, "submit, 5th in the hole", b->submit(ctx, N, list));
	aio_collect(b, t, ctx, 4, list, N, true);

	aio_rec(t, "destroy", b->destroy(ctx));
	munmap(pages, 4096);
	munmap(pages + 2 * 4096, 4096);
	close(f);
}

/*
 * 48 reads of 64 KiB of a tmpfs file and as many of an ext4 file in one
 * submit each: the daemon's loop copies at most 1 MiB of one write's
 * regular-file data itself (fused/aiod_i.h, AIOD_LOOP_JOB_MAX) and hands
 * the rest to a worker; every read still gets its data, in order.
 */
ACONFORM(batch_larger_than_the_loops_share)
{
	enum { N = 48, BLK = 64 << 10 };
	static char bufs[N][BLK];
	static const char *const dirs[] = { "/dev/shm", "/var/tmp" };
	void *ctx = aio_ctx(b, 2 * N);
	struct iocb cb[N], *list[N];
	int i, d, f, ok;

	for (d = 0; d < 2; d++) {
		f = aio_tmpfile(dirs[d], (size_t)N * BLK, O_RDONLY);
		memset(bufs, 0, sizeof(bufs));
		for (i = 0; i < N; i++) {
			io_prep_pread(&cb[i], f, bufs[i], BLK,
				      (long long)i * BLK);
			list[i] = &cb[i];
		}
		aio_rec(t, dirs[d], b->submit(ctx, N, list));
		aio_collect(b, t, ctx, N, list, N, true);
		for (i = 0, ok = 0; i < N; i++) {
			size_t k;

			for (k = 0; k < BLK; k++)
				if (bufs[i][k] !=
				    aio_pattern((size_t)i * BLK + k))
					break;
			ok += k == BLK;
		}
		evt_rec(t, "%s: reads with the right data: %d", dirs[d], ok);
		close(f);
	}
	aio_rec(t, "destroy", b->destroy(ctx));
}
