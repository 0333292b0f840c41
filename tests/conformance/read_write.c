// SPDX-License-Identifier: GPL-2.0-only
/*
 * E10-E14, E20-E26, E54-E56: what one read or write does, without anyone
 * blocking: sizes, values, errnos, the overflow rule, the positional and
 * vectored variants, and the file operations an eventfd refuses.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "backend.h"

#define TOP 0xfffffffffffffffeull /* the largest count a write can reach */

/* E10, E11, E12, E14: sizes of reads, and a normal-mode read takes it all. */
CONFORM(read_sizes_and_normal_mode)
{
	int fd = b->open_counter(5, EFD_NONBLOCK);
	uint64_t v = 0;
	char big[16];

	REC(t, "read 7", read(fd, &v, 7));
	rec_count(t, "after read 7", b, fd);
	REC(t, "read 16", read(fd, big, 16));
	evt_rec(t, "value %llu", (unsigned long long)*(uint64_t *)big);
	REC(t, "read 8 empty", read(fd, &v, 8));
	rec_write(t, "write 9", fd, 9);
	rec_read(t, "read 8", fd);
	rec_read(t, "read 8 empty again", fd);
	close(fd);
}

/* E10: the size check comes before blocking (blocking fd, count 0). */
CONFORM(short_read_fails_before_blocking)
{
	int fd = b->open_counter(0, 0);
	struct bg r;

	bg_start(&r, BG_READ, fd, 7, false);
	bg_rec(t, "read 7 on empty blocking", &r, BG_DEADLINE_MS);
	bg_end(&r);
	close(fd);
}

/* E13: semaphore mode returns 1 per read. */
CONFORM(semaphore_reads_one_at_a_time)
{
	int fd = b->open_counter(3, EFD_NONBLOCK | EFD_SEMAPHORE);
	uint64_t v;
	int i;

	for (i = 0; i < 4; i++) {
		v = 0;
		REC(t, "read", read(fd, &v, 8));
		evt_rec(t, "value %llu", (unsigned long long)v);
	}
	rec_write(t, "write 2", fd, 2);
	rec_read(t, "read", fd);
	rec_count(t, "left", b, fd);
	close(fd);
}

/* E56: readv uses the total length; 3+3+2 gets the 8 bytes spread. */
CONFORM(readv_total_length)
{
	int fd = b->open_counter(0x0102030405060708u & 0xffffffffu,
				 EFD_NONBLOCK);
	unsigned char a[3], c[3], d[2], e[8], f[8];
	struct iovec iov[3] = { { a, 3 }, { c, 3 }, { d, 2 } };
	struct iovec two[2] = { { e, 8 }, { f, 8 } };
	struct iovec short_iov[2] = { { a, 3 }, { c, 4 } };
	uint64_t v = 0;

	REC(t, "readv 3+4", readv(fd, short_iov, 2));
	rec_count(t, "after 3+4", b, fd);
	REC(t, "readv 3+3+2", readv(fd, iov, 3));
	memcpy((char *)&v, a, 3);
	memcpy((char *)&v + 3, c, 3);
	memcpy((char *)&v + 6, d, 2);
	evt_rec(t, "value %#llx", (unsigned long long)v);
	rec_write(t, "write 7", fd, 7);
	memset(f, 0xaa, sizeof(f));
	REC(t, "readv 8+8", readv(fd, two, 2));
	memcpy(&v, e, 8);
	evt_rec(t, "value %llu second untouched %d", (unsigned long long)v,
		f[0] == 0xaa);
	REC(t, "readv 3+3+2 empty", readv(fd, iov, 3));
	close(fd);
}

/* E20, E21: a write is exactly 8 bytes from a readable buffer. */
CONFORM(write_sizes)
{
	int fd = b->open_counter(1, EFD_NONBLOCK);
	uint64_t v[2] = { 5, 6 };
	void *volatile unmapped = NULL; /* hide it from -Wnonnull */

	REC(t, "write 7", write(fd, v, 7));
	REC(t, "write 9", write(fd, v, 9));
	REC(t, "write 16", write(fd, v, 16));
	REC(t, "write NULL 8", write(fd, unmapped, 8));
	rec_count(t, "unchanged", b, fd);
	REC(t, "write 8", write(fd, v, 8));
	rec_count(t, "added", b, fd);
	close(fd);
}

/* E22, E23, E24 (O_NONBLOCK), E25: the overflow rule at the top. */
CONFORM(write_overflow_rule)
{
	int fd = b->open_counter(0, EFD_NONBLOCK);

	rec_write(t, "write all-ones", fd, UINT64_MAX);
	rec_count(t, "after all-ones", b, fd);
	rec_write(t, "write top", fd, TOP);
	rec_count(t, "at top", b, fd);
	rec_write(t, "write 1 at top", fd, 1);
	rec_write(t, "write 0 at top", fd, 0);
	rec_write(t, "write all-ones at top", fd, UINT64_MAX);
	rec_count(t, "still top", b, fd);
	rec_read(t, "read", fd);
	b->set_count(fd, TOP - 2);
	rec_write(t, "write 3 at top-2", fd, 3);
	rec_write(t, "write 2 at top-2", fd, 2);
	rec_count(t, "top again", b, fd);
	b->set_count(fd, 1);
	rec_write(t, "write top at 1", fd, TOP);
	rec_write(t, "write top-1 at 1", fd, TOP - 1);
	rec_count(t, "top by two writes", b, fd);
	close(fd);
}

/* E25: a write of 0 returns 8 and changes nothing. */
CONFORM(write_of_zero)
{
	int fd = b->open_counter(0, EFD_NONBLOCK);

	rec_write(t, "write 0 at 0", fd, 0);
	rec_count(t, "count", b, fd);
	rec_read(t, "read", fd);
	rec_write(t, "write 4", fd, 4);
	rec_write(t, "write 0 at 4", fd, 0);
	rec_read(t, "read", fd);
	close(fd);
}

/* E26: pwritev2(-1) takes RWF_HIPRI but not RWF_NOWAIT. */
CONFORM(pwritev2_flags)
{
	int fd = b->open_counter(0, 0);
	uint64_t v = 3;
	struct iovec iov = { &v, 8 };

	REC(t, "pwritev2 NOWAIT", pwritev2(fd, &iov, 1, -1, RWF_NOWAIT));
	REC(t, "pwritev2 HIPRI", pwritev2(fd, &iov, 1, -1, RWF_HIPRI));
	REC(t, "pwritev2 none", pwritev2(fd, &iov, 1, -1, 0));
	rec_count(t, "count", b, fd);
	close(fd);
}

/* E54: positional I/O is ESPIPE; preadv2/pwritev2 at -1 are readv/writev. */
CONFORM(positional_io)
{
	int fd = b->open_counter(2, EFD_NONBLOCK);
	uint64_t v = 4, r = 0;
	struct iovec wiov = { &v, 8 }, riov = { &r, 8 };

	REC(t, "pread 0", pread(fd, &r, 8, 0));
	REC(t, "pread 8", pread(fd, &r, 8, 8));
	REC(t, "pwrite 0", pwrite(fd, &v, 8, 0));
	REC(t, "preadv 0", preadv(fd, &riov, 1, 0));
	REC(t, "pwritev 0", pwritev(fd, &wiov, 1, 0));
	REC(t, "preadv2 0", preadv2(fd, &riov, 1, 0, 0));
	REC(t, "pwritev2 0", pwritev2(fd, &wiov, 1, 0, 0));
	rec_count(t, "unchanged", b, fd);
	REC(t, "pwritev2 -1", pwritev2(fd, &wiov, 1, -1, 0));
	REC(t, "preadv2 -1", preadv2(fd, &riov, 1, -1, 0));
	evt_rec(t, "value %llu", (unsigned long long)r);
	REC(t, "preadv2 -1 empty", preadv2(fd, &riov, 1, -1, 0));
	close(fd);
}

/* E55: no fsync, fdatasync, ftruncate, and no shared mapping. */
CONFORM(refused_file_operations)
{
	int fd = b->open_counter(1, 0);
	void *p;

	REC(t, "fsync", fsync(fd));
	REC(t, "fdatasync", fdatasync(fd));
	REC(t, "ftruncate 0", ftruncate(fd, 0));
	REC(t, "ftruncate 8", ftruncate(fd, 8));
	errno = 0;
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	evt_rec(t, "mmap shared: %s",
		p == MAP_FAILED ? evt_errname(errno) : "mapped");
	if (p != MAP_FAILED)
		munmap(p, 4096);
	rec_count(t, "unchanged", b, fd);
	close(fd);
}

/* E57, where FUSE keeps it: the writev cases that fail or do nothing. */
CONFORM(writev_failing_cases)
{
	int fd = b->open_counter(0, EFD_NONBLOCK);
	uint64_t v[2] = { 1, 2 };
	struct iovec four_eight[2] = { { v, 4 }, { &v[1], 8 } };
	struct iovec sixteen = { v, 16 };
	struct iovec one = { v, 8 };

	REC(t, "writev [4,8]", writev(fd, four_eight, 2));
	REC(t, "writev [16]", writev(fd, &sixteen, 1));
	rec_count(t, "unchanged", b, fd);
	REC(t, "writev [8]", writev(fd, &one, 1));
	rec_count(t, "added", b, fd);
	close(fd);
}

/* E56, E57: vectors of total length 0 transfer nothing and return 0. */
CONFORM(empty_vectors)
{
	int fd = b->open_counter(2, EFD_NONBLOCK);
	uint64_t v = 1;
	struct iovec empty = { &v, 0 };

	REC(t, "readv [0]", readv(fd, &empty, 1));
	REC(t, "readv none", readv(fd, &empty, 0));
	REC(t, "writev [0]", writev(fd, &empty, 1));
	REC(t, "writev none", writev(fd, &empty, 0));
	rec_count(t, "unchanged", b, fd);
	close(fd);
}
