// SPDX-License-Identifier: GPL-2.0-only
/*
 * Whole transfers: PREAD, PWRITE, PREADV and PWRITEV of any length the
 * kernel accepts complete with the length it reports, with the data where
 * it belongs, and buffers that are only partly readable or writable, or
 * writable only, behave as the kernel's copy makes them behave.  On the
 * mount the daemon moves the data between the file and the submitter's
 * memory itself (aio_xfer.c); nothing is cut at one FUSE request.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <sys/uio.h>
#include <unistd.h>

#include "aio_backend.h"

#define MIB (1u << 20)

static unsigned char pat(size_t i)
{
	return (unsigned char)(i * 7 % 251);
}

/* The pattern repeats every 251 bytes: fill a period, then copy it over,
 * doubling (what is copied starts at a multiple of 251). */
static void fill(unsigned char *p, size_t len, size_t base)
{
	size_t have = len < 251 ? len : 251, i, n;

	for (i = 0; i < have; i++)
		p[i] = pat(base + i);
	while (have < len) {
		n = have < len - have ? have : len - have;
		memcpy(p + have, p, n);
		have += n;
	}
}

/* Does @fd hold the pattern over [@off, @off + @len)? */
static bool file_ok(int fd, size_t off, size_t len)
{
	static unsigned char buf[1 << 16];
	size_t done = 0, i, n;
	ssize_t got;

	while (done < len) {
		n = len - done < sizeof(buf) ? len - done : sizeof(buf);
		got = pread(fd, buf, n, (off_t)(off + done));
		if (got != (ssize_t)n)
			return false;
		for (i = 0; i < n; i++)
			if (buf[i] != pat(off + done + i))
				return false;
		done += n;
	}
	return true;
}

static bool mem_ok(const unsigned char *p, size_t len, size_t base)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != pat(base + i))
			return false;
	return true;
}

/* Does @fd hold @len bytes of @mem at @off? */
static bool file_has(int fd, size_t off, const unsigned char *mem, size_t len)
{
	unsigned char *buf = malloc(len ? len : 1);
	bool ok;

	cr_assert(buf);
	ok = pread(fd, buf, len, (off_t)off) == (ssize_t)len &&
	     !memcmp(buf, mem, len);
	free(buf);
	return ok;
}

static unsigned char *map(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	cr_assert(p != MAP_FAILED);
	return p;
}

/* A 10 MB PWRITE with RESFD to tmpfs and to ext4, read back. */
ACONFORM(ten_mb_pwrite_with_resfd)
{
	const size_t len = 10u * 1000 * 1000;
	void *ctx = aio_ctx(b, 4);
	unsigned char *w = map(len);
	int r = b->counter(0, EFD_NONBLOCK), d, fd;
	struct iocb cb, *list[1] = { &cb };
	static const char *const dirs[] = { "/dev/shm", "/var/tmp" };

	fill(w, len, 0);
	for (d = 0; d < 2; d++) {
		fd = aio_tmpfile(dirs[d], 0, O_RDWR);
		io_prep_pwrite(&cb, fd, w, len, 0);
		io_set_eventfd(&cb, r);
		aio_rec(t, dirs[d], b->submit(ctx, 1, list));
		aio_collect(b, t, ctx, 1, list, 1, false);
		aio_rec_resfd(t, r, 1);
		evt_rec(t, "data %s", file_ok(fd, 0, len) ? "ok" : "wrong");
		close(fd);
	}
	aio_rec(t, "destroy", b->destroy(ctx));
	munmap(w, len);
	close(r);
}

/* Eight 1 MiB PWRITEs in one submit, then eight 1 MiB PREADs. */
ACONFORM(eight_mib_writes_in_one_submit)
{
	enum { N = 8 };
	void *ctx = aio_ctx(b, N);
	unsigned char *w = map((size_t)N * MIB), *rd = map((size_t)N * MIB);
	int fd = aio_tmpfile("/dev/shm", 0, O_RDWR), i;
	struct iocb cb[N], *list[N];

	fill(w, (size_t)N * MIB, 0);
	for (i = 0; i < N; i++) {
		io_prep_pwrite(&cb[i], fd, w + (size_t)i * MIB, MIB,
			       (long long)i * MIB);
		list[i] = &cb[i];
	}
	aio_rec(t, "writes", b->submit(ctx, N, list));
	aio_collect(b, t, ctx, N, list, N, true);
	evt_rec(t, "file %s", file_ok(fd, 0, (size_t)N * MIB) ? "ok" : "wrong");
	for (i = 0; i < N; i++)
		io_prep_pread(&cb[i], fd, rd + (size_t)i * MIB, MIB,
			      (long long)i * MIB);
	aio_rec(t, "reads", b->submit(ctx, N, list));
	aio_collect(b, t, ctx, N, list, N, true);
	evt_rec(t, "read %s", mem_ok(rd, (size_t)N * MIB, 0) ? "ok" : "wrong");
	aio_rec(t, "destroy", b->destroy(ctx));
	munmap(w, (size_t)N * MIB);
	munmap(rd, (size_t)N * MIB);
	close(fd);
}

/* 256 MiB written to tmpfs and read back in one request each. */
ACONFORM(quarter_gib_write_and_read)
{
	const size_t len = 256u * MIB;
	struct sysinfo si;
	void *ctx;
	unsigned char *p;
	struct iocb cb, *list[1] = { &cb };
	int fd;

	cr_assert_eq(sysinfo(&si), 0);
	if ((uint64_t)si.freeram * si.mem_unit < 3ull * len) {
		/* recorded the same on both sides: the case is then empty */
		evt_rec(t, "skipped: less than 768 MiB free");
		return;
	}
	ctx = aio_ctx(b, 4);
	p = map(len);
	fd = aio_tmpfile("/dev/shm", 0, O_RDWR);
	fill(p, len, 0);
	io_prep_pwrite(&cb, fd, p, len, 0);
	aio_rec(t, "write", b->submit(ctx, 1, list));
	aio_collect(b, t, ctx, 1, list, 1, false);
	memset(p, 0, len);
	io_prep_pread(&cb, fd, p, len, 0);
	aio_rec(t, "read", b->submit(ctx, 1, list));
	aio_collect(b, t, ctx, 1, list, 1, false);
	evt_rec(t, "data %s", mem_ok(p, len, 0) ? "ok" : "wrong");
	aio_rec(t, "destroy", b->destroy(ctx));
	munmap(p, len);
	close(fd);
}

/* PWRITEV and PREADV over segments of 700 KiB, 1.5 MiB, 0 and 300 KiB. */
ACONFORM(vectored_over_one_mib)
{
	static const size_t segs[] = { 700u << 10, 3u * MIB / 2, 0,
				       300u << 10 };
	enum { NS = 4 };
	void *ctx = aio_ctx(b, 4);
	size_t total = 0, off = 0;
	unsigned char *w, *rd;
	struct iovec iov[NS];
	struct iocb cb, *list[1] = { &cb };
	int fd = aio_tmpfile("/dev/shm", 0, O_RDWR), i;

	for (i = 0; i < NS; i++)
		total += segs[i];
	w = map(total + 4 * 4096);
	rd = map(total + 4 * 4096);
	fill(w, total + 4 * 4096, 0);
	for (i = 0; i < NS; i++) { /* segments 4096 bytes apart */
		iov[i].iov_base = w + off + (size_t)i * 4096;
		iov[i].iov_len = segs[i];
		off += segs[i];
	}
	io_prep_pwritev(&cb, fd, iov, NS, 4096);
	aio_rec(t, "pwritev", b->submit(ctx, 1, list));
	aio_collect(b, t, ctx, 1, list, 1, false);
	for (off = 0, i = 0; i < NS; i++) {
		evt_rec(t, "segment %d %s", i,
			file_has(fd, 4096 + off, w + off + (size_t)i * 4096,
				 segs[i])
				? "in the file"
				: "wrong");
		off += segs[i];
	}
	for (off = 0, i = 0; i < NS; i++) {
		iov[i].iov_base = rd + off + (size_t)i * 4096;
		off += segs[i];
	}
	io_prep_preadv(&cb, fd, iov, NS, 4096);
	aio_rec(t, "preadv", b->submit(ctx, 1, list));
	aio_collect(b, t, ctx, 1, list, 1, false);
	for (off = 0, i = 0; i < NS; i++) {
		evt_rec(t, "segment %d back %s", i,
			memcmp(rd + off + (size_t)i * 4096,
			       w + off + (size_t)i * 4096, segs[i])
				? "wrong"
				: "ok");
		off += segs[i];
	}
	aio_rec(t, "destroy", b->destroy(ctx));
	munmap(w, total + 4 * 4096);
	munmap(rd, total + 4 * 4096);
	close(fd);
}

/*
 * Buffers the kernel's copy stops in: a PWRITE of 3 pages whose third is
 * PROT_NONE writes two; whose first is, -EFAULT; a PREAD into 3 pages
 * whose third is read-only reads two; a PWRITEV whose second segment is
 * unreadable writes the first.  Small ones and one across 2 MiB.
 */
ACONFORM(partly_readable_and_writable_buffers)
{
	static const size_t sizes[] = { 4096, 1536u * 1024 };
	void *ctx = aio_ctx(b, 4);
	int fd = aio_tmpfile("/dev/shm", 0, O_RDWR), s;
	struct iocb cb, *list[1] = { &cb };
	struct iovec iov[2];
	unsigned char *p;
	char label[64];
	size_t pg;
	struct stat st;

	for (s = 0; s < 2; s++) {
		pg = sizes[s];
		p = map(3 * pg);
		fill(p, 3 * pg, 0);
		cr_assert_eq(ftruncate(fd, 0), 0);
		cr_assert_eq(mprotect(p + 2 * pg, pg, PROT_NONE), 0);
		io_prep_pwrite(&cb, fd, p, 3 * pg, 0);
		snprintf(label, sizeof(label), "%zu: last part unreadable", pg);
		aio_rec(t, label, b->submit(ctx, 1, list));
		aio_collect(b, t, ctx, 1, list, 1, false);
		cr_assert_eq(fstat(fd, &st), 0);
		evt_rec(t, "size %lld, data %s", (long long)st.st_size,
			file_ok(fd, 0, (size_t)st.st_size) ? "ok" : "wrong");
		io_prep_pwrite(&cb, fd, p + 2 * pg, pg, 0);
		snprintf(label, sizeof(label), "%zu: all unreadable", pg);
		aio_rec(t, label, b->submit(ctx, 1, list));
		aio_collect(b, t, ctx, 1, list, 1, false);
		iov[0].iov_base = p;
		iov[0].iov_len = pg;
		iov[1].iov_base = p + 2 * pg;
		iov[1].iov_len = pg;
		io_prep_pwritev(&cb, fd, iov, 2, 0);
		snprintf(label, sizeof(label), "%zu: pwritev, 2nd unreadable",
			 pg);
		aio_rec(t, label, b->submit(ctx, 1, list));
		aio_collect(b, t, ctx, 1, list, 1, false);
		cr_assert_eq(mprotect(p + 2 * pg, pg, PROT_READ), 0);
		cr_assert_eq(ftruncate(fd, 0), 0);
		cr_assert_eq(ftruncate(fd, (off_t)(3 * pg)), 0);
		io_prep_pread(&cb, fd, p, 3 * pg, 0);
		snprintf(label, sizeof(label), "%zu: read, last part read-only",
			 pg);
		aio_rec(t, label, b->submit(ctx, 1, list));
		aio_collect(b, t, ctx, 1, list, 1, false);
		evt_rec(t, "zeros read %s",
			p[0] == 0 && p[2 * pg - 1] == 0 ? "ok" : "no");
		munmap(p, 3 * pg);
	}
	aio_rec(t, "destroy", b->destroy(ctx));
	close(fd);
}

/* A buffer mapped PROT_WRITE only (readable by the kernel on x86). */
ACONFORM(write_only_buffer)
{
	void *ctx = aio_ctx(b, 4);
	int fd = aio_tmpfile("/dev/shm", 0, O_RDWR);
	struct iocb cb, *list[1] = { &cb };
	unsigned char *p = mmap(NULL, 8192, PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	cr_assert(p != MAP_FAILED);
	memset(p, 'w', 8192);
	io_prep_pwrite(&cb, fd, p, 8192, 0);
	aio_rec(t, "pwrite from PROT_WRITE", b->submit(ctx, 1, list));
	aio_collect(b, t, ctx, 1, list, 1, false);
	io_prep_pread(&cb, fd, p, 8192, 0);
	aio_rec(t, "pread into PROT_WRITE", b->submit(ctx, 1, list));
	aio_collect(b, t, ctx, 1, list, 1, false);
	aio_rec(t, "destroy", b->destroy(ctx));
	munmap(p, 8192);
	close(fd);
}
