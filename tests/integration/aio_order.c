// SPDX-License-Identifier: GPL-2.0-only
/*
 * io_submit's checks, in Linux's order (table 2.5, A24-A26, A30-A35),
 * through the control file, every case run on the kernel and on the mount
 * and compared.  Faults of the caller's memory are real on the kernel side
 * (a kernel address, NULL, an iocb in a read-only page) and reported by
 * the record's flags on the mount side, as a client library would.  The
 * eventfd cases run on a kernel eventfd and on a counter of the mount.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "aio_lib.h"

#define KADDR 0xffff888000000000ull

enum fault { F_NONE, F_RANGE, F_IOV, F_BUF, F_KEY };

/* Submit @cb with the caller-memory fault @f made real (kernel) or
 * flagged (mount); record the result, and the event if there is one. */
static void sub(struct evt_transcript *t, const char *what, struct at_be *b,
		struct iocb *cb, enum fault f)
{
	static const uint32_t flags[] = {
		[F_RANGE] = EVFDFS_WIRE_SUB_BUF_RANGE,
		[F_IOV] = EVFDFS_WIRE_SUB_IOV_FAULT,
		[F_BUF] = EVFDFS_WIRE_SUB_BUF_FAULT,
		[F_KEY] = EVFDFS_WIRE_SUB_KEY_FAULT,
	};
	struct iocb *use = cb, *ro = NULL;
	struct io_event ev;
	uint32_t fl = flags[f];
	char rb[64], eb[64] = "";
	int ret;

	if (!b->mount) {
		if (f == F_RANGE || f == F_IOV)
			cb->aio_buf = KADDR;
		else if (f == F_BUF)
			cb->aio_buf = 0;
		if (f == F_KEY) {
			ro = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			cr_assert(ro != MAP_FAILED);
			*ro = *cb;
			cr_assert_eq(mprotect(ro, 4096, PROT_READ), 0);
			use = ro;
		}
	}
	ret = at_be_submit(b, &use, 1, &fl);
	if (ret == 1 && at_be_getevents(b, 1, 1, &ev, 5000) == 1)
		snprintf(eb, sizeof(eb), " event %s",
			 at_res(ev.res, rb, sizeof(rb)));
	evt_rec(t, "%s: %s%s", what, at_res(ret < 0 ? ret : 0, rb, sizeof(rb)),
		eb);
	if (ro)
		munmap(ro, 4096);
}

struct files {
	char path[PATH_MAX];
	int rw, ro, wo;
};

static void files_open(struct files *fl)
{
	at_make_file(fl->path, sizeof(fl->path), "/var/tmp", 4096);
	fl->rw = open(fl->path, O_RDWR | O_CLOEXEC);
	fl->ro = open(fl->path, O_RDONLY | O_CLOEXEC);
	fl->wo = open(fl->path, O_WRONLY | O_CLOEXEC);
	cr_assert(fl->rw >= 0 && fl->ro >= 0 && fl->wo >= 0);
}

static void files_close(struct files *fl)
{
	close(fl->rw);
	close(fl->ro);
	close(fl->wo);
	unlink(fl->path);
}

/* Table 2.5 steps 2-8 and A24-A26. */
static void steps_case(struct at_be *b, struct evt_transcript *t, void *arg)
{
	static const uint16_t bad_ops[] = { 4, IOCB_CMD_NOOP, 9, 200, 0xffff };
	struct files fl;
	char buf[64], name[32];
	struct iocb cb;
	int p[2];
	size_t i;

	(void)arg;
	files_open(&fl);
	cr_assert_eq(pipe(p), 0);

	at_prep_pread(&cb, 9999, buf, 8, 0);
	cb.aio_reserved2 = 1;
	cb.aio_nbytes = (uint64_t)-1;
	sub(t, "reserved2 and negative nbytes, bad fd (2)", b, &cb, F_NONE);
	at_prep_pread(&cb, 9999, buf, 8, 0);
	cb.aio_nbytes = (uint64_t)-5;
	sub(t, "negative nbytes, bad fd (3 before 5)", b, &cb, F_NONE);
	at_prep_pread(&cb, 9999, buf, 8, 0);
	cb.aio_lio_opcode = 4;
	sub(t, "bad fd, bad opcode (5 before 8)", b, &cb, F_NONE);
	at_prep_pread(&cb, -1, buf, 8, 0);
	sub(t, "fd -1", b, &cb, F_NONE);
	{
		int op = open("/", O_PATH | O_CLOEXEC);

		at_prep_pread(&cb, op, buf, 8, 0);
		sub(t, "O_PATH fd", b, &cb, F_NONE);
		close(op);
	}
	at_prep_pread(&cb, fl.rw, buf, 8, 0);
	cb.aio_lio_opcode = 4;
	sub(t, "key not writable, bad opcode (7 before 8)", b, &cb, F_KEY);
	at_prep_pread(&cb, fl.rw, buf, 8, 0);
	sub(t, "key not writable", b, &cb, F_KEY);
	for (i = 0; i < sizeof(bad_ops) / sizeof(bad_ops[0]); i++) {
		at_prep_pread(&cb, fl.rw, buf, 8, 0);
		cb.aio_lio_opcode = bad_ops[i];
		snprintf(name, sizeof(name), "opcode %u (A26)", bad_ops[i]);
		sub(t, name, b, &cb, F_NONE);
	}
	at_prep_pread(&cb, fl.rw, buf, 8, 0);
	cb.aio_flags = 0xfffffffcu;
	sub(t, "unknown aio_flags bits (A25)", b, &cb, F_NONE);
	at_prep_pread(&cb, fl.rw, buf, 8, 0);
	cb.aio_flags = 1u << 2;
	sub(t, "aio_flags 1<<2 (A25)", b, &cb, F_NONE);
	at_prep_pread(&cb, fl.rw, buf, 8, 0);
	cb.aio_reqprio = 0x7fff;
	sub(t, "reqprio without IOPRIO (A25)", b, &cb, F_NONE);
	close(p[0]);
	close(p[1]);
	files_close(&fl);
}

Test(aio_order, table_2_5_matches_kernel, .timeout = 60)
{
	at_compare(evt_shared_mnt(), steps_case, NULL);
}

/* A30 on a regular file: IOPRIO, rw_flags, access, buffer, offset. */
static void a30_file_case(struct at_be *b, struct evt_transcript *t, void *arg)
{
	static const int classes[] = { 0, 1, 2, 3, 4, 7 };
	struct files fl;
	char buf[64], name[64];
	struct iovec iov[2] = { { buf, 8 }, { buf + 8, 8 } };
	struct iocb cb;
	unsigned int bit;
	size_t i;
	int lvl;

	(void)arg;
	files_open(&fl);
	for (i = 0; i < sizeof(classes) / sizeof(classes[0]); i++)
		for (lvl = 0; lvl < 2; lvl++) {
			at_prep_pread(&cb, fl.rw, buf, 8, 0);
			cb.aio_flags = 2; /* IOCB_FLAG_IOPRIO */
			cb.aio_reqprio = (int16_t)(classes[i] << 13 | lvl);
			snprintf(name, sizeof(name), "ioprio class %d level %d",
				 classes[i], lvl);
			sub(t, name, b, &cb, F_NONE);
		}
	for (bit = 1; bit <= 0x400; bit <<= 1) {
		at_prep_pread(&cb, fl.rw, buf, 8, 0);
		cb.aio_rw_flags = (int)bit;
		snprintf(name, sizeof(name), "pread rw_flags %#x", bit);
		sub(t, name, b, &cb, F_NONE);
		at_prep_pwrite(&cb, fl.rw, "abcdefgh", 8, 0);
		cb.aio_rw_flags = (int)bit;
		snprintf(name, sizeof(name), "pwrite rw_flags %#x", bit);
		sub(t, name, b, &cb, F_NONE);
	}
	at_prep_pwrite(&cb, fl.rw, "abcdefgh", 8, 0);
	cb.aio_rw_flags = 0x30;
	sub(t, "APPEND|NOAPPEND", b, &cb, F_NONE);
	at_prep_pwrite(&cb, fl.ro, "abcdefgh", 8, 0);
	sub(t, "pwrite through O_RDONLY (A30.3)", b, &cb, F_NONE);
	at_prep_pwrite(&cb, fl.ro, "abcdefgh", 8, 0);
	cb.aio_rw_flags = 0x400;
	sub(t, "pwrite O_RDONLY, bad flags (flags first)", b, &cb, F_NONE);
	at_prep_pread(&cb, fl.wo, buf, 8, 0);
	sub(t, "pread through O_WRONLY", b, &cb, F_NONE);
	at_prep_pwritev(&cb, fl.ro, iov, 2, 0);
	sub(t, "pwritev through O_RDONLY", b, &cb, F_NONE);
	at_prep_pread(&cb, fl.rw, buf, 8, 0);
	sub(t, "pread into a kernel address (A30.5)", b, &cb, F_RANGE);
	at_prep_pread(&cb, fl.ro, buf, 8, 0);
	cb.aio_rw_flags = 0x400;
	sub(t, "kernel address, bad flags (flags first)", b, &cb, F_RANGE);
	at_prep_pread(&cb, fl.rw, buf, 8, 0);
	sub(t, "pread into NULL (A31)", b, &cb, F_BUF);
	at_prep_pwrite(&cb, fl.rw, buf, 8, 0);
	sub(t, "pwrite from NULL (A31)", b, &cb, F_BUF);
	at_prep_preadv(&cb, fl.rw, iov, 1025, 0);
	sub(t, "preadv of 1025 (A30.5)", b, &cb, F_NONE);
	at_prep_preadv(&cb, fl.rw, iov, 2, 0);
	sub(t, "preadv, array unreadable", b, &cb, F_IOV);
	at_prep_preadv(&cb, fl.rw, iov, 2, 0);
	sub(t, "preadv, a segment in the kernel", b, &cb, F_RANGE);
	{
		struct iovec neg[2] = { { buf, 8 }, { buf, (size_t)-3 } };

		at_prep_preadv(&cb, fl.rw, neg, 2, 0);
		sub(t, "preadv, negative segment", b, &cb, F_NONE);
	}
	at_prep_pread(&cb, fl.rw, buf, 8, -1);
	sub(t, "offset -1 (A30.6)", b, &cb, F_NONE);
	at_prep_pread(&cb, fl.rw, buf, 100, INT64_MAX - 50);
	sub(t, "offset + length overflows", b, &cb, F_NONE);
	at_prep_pread(&cb, fl.rw, buf, 50, INT64_MAX - 50);
	sub(t, "offset + length at the limit", b, &cb, F_NONE);
	at_prep_pread(&cb, fl.rw, buf, 8, -1);
	cb.aio_rw_flags = 0x400;
	sub(t, "offset -1, bad flags", b, &cb, F_NONE);
	at_prep_pwrite(&cb, fl.rw, "abcdefgh", 8, 0);
	cb.aio_rw_flags = 8; /* NOWAIT on a buffered write (A31) */
	sub(t, "pwrite NOWAIT", b, &cb, F_NONE);
	files_close(&fl);
}

Test(aio_order, a30_on_a_file_matches_kernel, .timeout = 60)
{
	at_compare(evt_shared_mnt(), a30_file_case, NULL);
}

/* A30, A35 on a pipe: the offset is checked even where it means nothing. */
static void stream_case(struct at_be *b, struct evt_transcript *t, void *arg)
{
	char buf[16];
	struct iocb cb;
	int p[2];

	(void)arg;
	cr_assert_eq(pipe(p), 0);
	at_prep_pread(&cb, p[0], buf, 8, -1);
	sub(t, "pipe pread offset -1", b, &cb, F_NONE);
	at_prep_pread(&cb, p[0], buf, 8, 0);
	cb.aio_rw_flags = 8;
	sub(t, "pread NOWAIT, pipe empty", b, &cb, F_NONE);
	at_prep_pwrite(&cb, p[1], "abc", 3, 12345);
	sub(t, "pipe pwrite at an offset", b, &cb, F_NONE);
	at_prep_pread(&cb, p[0], buf, 8, 0);
	cb.aio_rw_flags = 0x80;
	sub(t, "pipe pread DONTCACHE", b, &cb, F_NONE);
	at_prep_pwrite(&cb, p[1], "abc", 3, 0);
	cb.aio_rw_flags = 0x40;
	sub(t, "pipe pwrite ATOMIC", b, &cb, F_NONE);
	at_prep_pread(&cb, p[1], buf, 8, 0);
	sub(t, "pread of the write end", b, &cb, F_NONE);
	at_prep_pread(&cb, p[0], buf, 16, 0);
	sub(t, "pread of 3 waiting bytes", b, &cb, F_NONE);
	at_prep_fsync(&cb, p[0], false);
	sub(t, "fsync of a pipe", b, &cb, F_NONE);
	close(p[0]);
	at_prep_pwrite(&cb, p[1], "abc", 3, 0);
	sub(t, "pwrite, reader gone", b, &cb, F_NONE);
	close(p[1]);
}

Test(aio_order, pipes_match_kernel, .timeout = 60)
{
	signal(SIGPIPE, SIG_IGN);
	at_compare(evt_shared_mnt(), stream_case, NULL);
}

/* A35: FSYNC's fields, and files without fsync. */
static void fsync_case(struct at_be *b, struct evt_transcript *t, void *arg)
{
	struct files fl;
	struct iocb cb;
	int e;

	(void)arg;
	files_open(&fl);
	at_prep_fsync(&cb, fl.ro, false);
	sub(t, "fsync O_RDONLY", b, &cb, F_NONE);
	at_prep_fsync(&cb, fl.rw, true);
	cb.aio_buf = 1;
	sub(t, "fdsync with aio_buf", b, &cb, F_NONE);
	at_prep_fsync(&cb, fl.rw, false);
	cb.aio_offset = 1;
	sub(t, "fsync with offset", b, &cb, F_NONE);
	at_prep_fsync(&cb, fl.rw, false);
	cb.aio_nbytes = 1;
	sub(t, "fsync with nbytes", b, &cb, F_NONE);
	at_prep_fsync(&cb, fl.rw, false);
	cb.aio_rw_flags = 1;
	sub(t, "fsync with rw_flags", b, &cb, F_NONE);
	at_prep_fsync(&cb, fl.rw, false);
	cb.aio_flags = 2;
	cb.aio_reqprio = (int16_t)(7 << 13);
	sub(t, "fsync ignores IOPRIO", b, &cb, F_NONE);
	e = open("/dev/zero", O_RDONLY | O_CLOEXEC);
	at_prep_fsync(&cb, e, false);
	sub(t, "fsync /dev/zero", b, &cb, F_NONE);
	close(e);
	files_close(&fl);
}

Test(aio_order, a35_matches_kernel, .timeout = 60)
{
	at_compare(evt_shared_mnt(), fsync_case, NULL);
}

/* A30-A35 on an eventfd: the mount's counters must say the same. */
static void eventfd_case(struct at_be *b, struct evt_transcript *t, void *arg)
{
	static const int classes[] = { 0, 1, 2, 3, 5, 7 };
	char buf[16], name[64];
	struct iovec iov[2] = { { buf, 3 }, { buf + 3, 9 } };
	struct iocb cb;
	uint64_t v;
	unsigned int bit;
	size_t i;
	int c, nb;

	(void)arg;
	c = at_counter(b, 0, false);
	nb = at_counter(b, 0, true);
	for (bit = 1; bit <= 0x400; bit <<= 1) {
		v = 1;
		cr_assert_eq(write(nb, &v, 8), 8);
		at_prep_pread(&cb, nb, buf, 8, 0);
		cb.aio_rw_flags = (int)bit;
		snprintf(name, sizeof(name), "pread rw_flags %#x", bit);
		sub(t, name, b, &cb, F_NONE);
		at_prep_pwrite(&cb, nb, "abcdefgh", 8, 0);
		cb.aio_rw_flags = (int)bit;
		snprintf(name, sizeof(name), "pwrite rw_flags %#x", bit);
		sub(t, name, b, &cb, F_NONE);
		read(nb, &v, 8);
	}
	at_prep_pread(&cb, nb, buf, 8, 0);
	cb.aio_rw_flags = 0x30;
	sub(t, "pread APPEND|NOAPPEND", b, &cb, F_NONE);
	for (i = 0; i < sizeof(classes) / sizeof(classes[0]); i++) {
		at_prep_pread(&cb, nb, buf, 8, 0);
		cb.aio_flags = 2;
		cb.aio_reqprio = (int16_t)(classes[i] << 13 | 1);
		snprintf(name, sizeof(name), "ioprio class %d level 1",
			 classes[i]);
		sub(t, name, b, &cb, F_NONE);
	}
	at_prep_pwrite(&cb, nb, "abcdefgh", 8, 0);
	sub(t, "pwrite (A30.4)", b, &cb, F_NONE);
	at_prep_pwritev(&cb, nb, iov, 2, 0);
	sub(t, "pwritev", b, &cb, F_NONE);
	v = 7;
	cr_assert_eq(write(nb, &v, 8), 8);
	at_prep_pread(&cb, nb, buf, 8, 0);
	sub(t, "pread, count 7 (A33)", b, &cb, F_NONE);
	memcpy(&v, buf, 8);
	evt_rec(t, "value %llu", (unsigned long long)v);
	v = 2;
	cr_assert_eq(write(nb, &v, 8), 8);
	at_prep_pread(&cb, nb, buf, 7, 0);
	sub(t, "pread of 7 bytes", b, &cb, F_NONE);
	at_prep_preadv(&cb, nb, iov, 2, 0);
	sub(t, "preadv 3+9", b, &cb, F_NONE);
	memcpy(&v, buf, 8);
	evt_rec(t, "value %llu", (unsigned long long)v);
	at_prep_pread(&cb, nb, buf, 8, 0);
	sub(t, "pread, empty, O_NONBLOCK", b, &cb, F_NONE);
	at_prep_pread(&cb, c, buf, 8, 0);
	cb.aio_rw_flags = 8;
	sub(t, "pread, empty, NOWAIT", b, &cb, F_NONE);
	at_prep_pread(&cb, nb, buf, 8, -1);
	sub(t, "pread offset -1 (A30.6)", b, &cb, F_NONE);
	v = 3;
	cr_assert_eq(write(nb, &v, 8), 8);
	at_prep_pread(&cb, nb, NULL, 8, 0);
	sub(t, "pread into NULL (E16: consumed)", b, &cb, F_BUF);
	evt_rec(t, "count after %llu", (unsigned long long)at_peek(nb));
	at_prep_fsync(&cb, nb, false);
	sub(t, "fsync (A35)", b, &cb, F_NONE);
	at_prep_fsync(&cb, nb, true);
	cb.aio_nbytes = 1;
	sub(t, "fdsync with nbytes", b, &cb, F_NONE);
	close(c);
	close(nb);
}

Test(aio_order, counter_matches_eventfd, .timeout = 60)
{
	at_compare(evt_shared_mnt(), eventfd_case, NULL);
}

/*
 * A33: on Linux a blocking eventfd read of an empty counter blocks inside
 * io_submit; the mount accepts it and completes it when the counter is
 * written (a documented difference; kernel eventfds given to the mount
 * behave the same way).
 */
Test(aio_order, blocking_empty_counter_read_completes_later, .timeout = 30)
{
	const char *mnt = evt_shared_mnt();
	struct at_be b, kb = { .mount = false };
	struct io_event ev;
	struct iocb cb;
	char buf[8];
	uint64_t v = 9;
	int c, efd, round;

	(void)kb;
	at_be_setup(&b, mnt, 8);
	for (round = 0; round < 2; round++) {
		c = round ? eventfd(0, EFD_CLOEXEC) : at_counter(&b, 0, false);
		at_prep_pread(&cb, c, buf, 8, 0);
		cr_assert_eq(at_be_submit1(&b, &cb), 1);
		cr_expect_eq(at_be_getevents(&b, 1, 1, &ev, 100), 0,
			     "completed with nothing to read");
		cr_assert_eq(write(c, &v, 8), 8);
		cr_assert_eq(at_be_getevents(&b, 1, 1, &ev, 10000), 1);
		cr_expect_eq(ev.res, 8);
		memcpy(&v, buf, 8);
		cr_expect_eq(v, 9);
		close(c);
	}
	/* Closed while waiting: -EINTR, as for a killed submitter. */
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	c = at_counter(&b, 0, false);
	at_prep_pread(&cb, c, buf, 8, 0);
	at_set_resfd(&cb, efd);
	cr_assert_eq(at_be_submit1(&b, &cb), 1);
	at_be_destroy(&b);
	cr_expect_eq(at_wait_count(efd, 1), 1,
		     "closing completed it (and signalled)");
	cr_expect_eq(at_peek(c), 0);
	close(c);
	close(efd);
}
