// SPDX-License-Identifier: GPL-2.0-only
/*
 * The client's wire codec (client/codec.c) and its safe access to the
 * caller's memory (client/umem.c), alone: no mount.  The records are
 * checked byte by byte against include/evfdfs/wire.h's layout, and the
 * memory helpers against real unmapped and read-only pages, in both of
 * their modes (process_vm_* and the pipe fallback).
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../client/libevfdfs_i.h"

#define USER_MAX UINT64_C(0x7ffffffff000)

static struct iocb prep(uint16_t op, uint64_t buf, uint64_t nbytes)
{
	struct iocb cb;

	memset(&cb, 0, sizeof(cb));
	cb.aio_lio_opcode = op;
	cb.aio_fildes = 7;
	cb.aio_buf = buf;
	cb.aio_nbytes = nbytes;
	cb.aio_data = 0x1122334455667788ull;
	return cb;
}

Test(wire_encode, setup_record_layout, .timeout = 10)
{
	struct evfdfs_wire_setup_ring r;
	unsigned char raw[32];

	memset(&r, 0xa5, sizeof(r));
	codec_setup_fill(&r, 128, 9, 3, 0x7f0000001000ull);
	memcpy(raw, &r, sizeof(raw));
	cr_assert_eq(r.s.hdr.version, EVFDFS_WIRE_VERSION);
	cr_assert_eq(r.s.hdr.type, EVFDFS_WIRE_SETUP);
	cr_assert_eq(r.s.hdr.len, 32);
	cr_assert_eq(r.s.nr_events, 128);
	cr_assert_eq(r.s.flags, EVFDFS_WIRE_SETUP_RING);
	cr_assert_eq(r.memfd, 9);
	cr_assert_eq(r.id, 3);
	cr_assert_eq(r.addr, 0x7f0000001000ull);
	cr_assert_eq(raw[8], 128);
	cr_assert_eq(raw[16], 9);
}

Test(wire_encode, destroy_record_layout, .timeout = 10)
{
	struct evfdfs_wire_destroy d;

	memset(&d, 0xa5, sizeof(d));
	codec_destroy_fill(&d);
	cr_assert_eq(d.hdr.type, EVFDFS_WIRE_DESTROY);
	cr_assert_eq(d.hdr.len, 16);
	cr_assert_eq(d.flags, 0);
	cr_assert_eq(d.pad, 0);
}

Test(wire_encode, cancel_record_layout, .timeout = 10)
{
	struct evfdfs_wire_cancel c;

	memset(&c, 0xa5, sizeof(c));
	codec_cancel_fill(&c, 0, 0xdeadbeef000ull);
	cr_assert_eq(c.hdr.type, EVFDFS_WIRE_CANCEL);
	cr_assert_eq(c.hdr.len, 24);
	cr_assert_eq(c.aio_key, 0);
	cr_assert_eq(c.flags, 0);
	cr_assert_eq(c.obj, 0xdeadbeef000ull);
}

Test(wire_encode, pread_record_is_the_iocb_alone, .timeout = 10)
{
	struct iocb cb = prep(IOCB_CMD_PREAD, 0x10000, 4096);
	struct submit_plan p;
	unsigned char rec[128];
	struct evfdfs_wire_submit *s = (void *)rec;

	codec_plan(&cb, NULL, USER_MAX, &p);
	cr_assert(p.is_read && !p.is_write && !p.vectored);
	cr_assert_eq(p.flags, 0);
	cr_assert_eq(p.nsegs, 0);
	cr_assert_eq(p.datalen, 0, "a read carries no data");
	cr_assert_eq(codec_submit_len(0, 0), 88);
	memset(rec, 0xa5, sizeof(rec));
	codec_submit_fill(rec, &cb, 0x7f0000001000ull, 0, NULL, 0, 0);
	cr_assert_eq(s->hdr.version, EVFDFS_WIRE_VERSION);
	cr_assert_eq(s->hdr.type, EVFDFS_WIRE_SUBMIT);
	cr_assert_eq(s->hdr.len, 88);
	cr_assert_eq(s->flags, 0);
	cr_assert_eq(s->nsegs, 0);
	cr_assert_eq(s->obj, 0x7f0000001000ull);
	cr_assert(memcmp(&s->iocb, &cb, sizeof(cb)) == 0);
	cr_assert_eq(rec[88], 0xa5, "nothing written past the record");
}

Test(wire_encode, pwrite_carries_its_data_padded, .timeout = 10)
{
	struct iocb cb = prep(IOCB_CMD_PWRITE, 0x10000, 5);
	struct submit_plan p;
	unsigned char rec[128];
	uint32_t len, i;

	codec_plan(&cb, NULL, USER_MAX, &p);
	cr_assert(p.is_write);
	cr_assert_eq(p.datalen, 5);
	len = codec_submit_len(0, 5);
	cr_assert_eq(len, 96, "88 + 5 rounded up to 8");
	memset(rec, 0xa5, sizeof(rec));
	memcpy(codec_submit_data(rec, 0), "hello", 5);
	codec_submit_fill(rec, &cb, 1, 0, NULL, 0, 5);
	cr_assert(memcmp(rec + 88, "hello", 5) == 0);
	for (i = 93; i < 96; i++)
		cr_assert_eq(rec[i], 0, "padding byte %u is 0", i);
	cr_assert_eq(((struct evfdfs_wire_submit *)rec)->hdr.len, 96);
}

Test(wire_encode, large_write_is_clamped_to_one_record, .timeout = 10)
{
	struct iocb cb = prep(IOCB_CMD_PWRITE, 0x10000, 64ull << 20);
	struct submit_plan p;

	codec_plan(&cb, NULL, USER_MAX, &p);
	cr_assert_eq(p.datalen, EVFDFS_WIRE_MAX_DATA);
	cr_assert_leq(codec_submit_len(0, p.datalen), EVFDFS_WIRE_MAX_RECORD);
	cr_assert_leq(codec_submit_len(KERNEL_MAX_IOV, p.datalen),
		      EVFDFS_WIRE_MAX_RECORD,
		      "the largest vectored record fits too");
}

Test(wire_encode, negative_nbytes_carries_nothing, .timeout = 10)
{
	struct iocb cb = prep(IOCB_CMD_PWRITE, 0x10000, (uint64_t)-1);
	struct submit_plan p;

	codec_plan(&cb, NULL, USER_MAX, &p);
	cr_assert_eq(p.datalen, 0);
	cr_assert_eq(p.flags, 0, "EINVAL is the daemon's (step 3)");
}

Test(wire_encode, range_check_follows_access_ok, .timeout = 10)
{
	/* As measured on the kernel: end <= TASK_SIZE_MAX passes, with the
	 * length cut at MAX_RW_COUNT first. */
	static const struct {
		uint64_t buf, nbytes;
		bool bad;
	} cases[] = {
		{ USER_MAX - 4096, 4096, false },
		{ USER_MAX - 1, 1, false },
		{ USER_MAX, 0, false },
		{ USER_MAX, 1, true },
		{ USER_MAX - 1, 2, true },
		{ 0xffff800000000000ull, 0, true },
		{ 0, USER_MAX + 1, false }, /* cut to 0x7ffff000 */
		{ USER_MAX - 0x7ffff000, 0x7fffffffffffull, false },
		{ USER_MAX - 0x7fffefff, 0x7fffffffffffull, true },
	};
	struct submit_plan p;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct iocb cb =
			prep(IOCB_CMD_PREAD, cases[i].buf, cases[i].nbytes);

		codec_plan(&cb, NULL, USER_MAX, &p);
		cr_expect_eq(!!(p.flags & EVFDFS_WIRE_SUB_BUF_RANGE),
			     cases[i].bad, "case %zu: buf %#llx len %#llx", i,
			     (unsigned long long)cases[i].buf,
			     (unsigned long long)cases[i].nbytes);
	}
	{
		struct iocb cb = prep(IOCB_CMD_PWRITE, USER_MAX, 1);

		codec_plan(&cb, NULL, USER_MAX, &p);
		cr_assert(p.flags & EVFDFS_WIRE_SUB_BUF_RANGE);
		cr_assert_eq(p.datalen, 0, "no data for a write that fails");
	}
}

Test(wire_encode, preadv_sends_segment_lengths, .timeout = 10)
{
	char a[3], b[5];
	struct iovec iov[2] = { { a, 3 }, { b, 5 } };
	struct iocb cb = prep(IOCB_CMD_PREADV, 0x10000, 2);
	struct submit_plan p;
	unsigned char rec[128];
	uint64_t seg[2];

	codec_plan(&cb, iov, USER_MAX, &p);
	cr_assert(p.is_read && p.vectored);
	cr_assert_eq(p.nsegs, 2);
	cr_assert_eq(p.datalen, 0);
	cr_assert_eq(codec_submit_len(2, 0), 104);
	codec_submit_fill(rec, &cb, 1, 0, iov, 2, 0);
	memcpy(seg, rec + 88, sizeof(seg));
	cr_assert_eq(seg[0], 3);
	cr_assert_eq(seg[1], 5);
	cr_assert_eq(((struct evfdfs_wire_submit *)rec)->nsegs, 2);
}

Test(wire_encode, pwritev_data_is_the_sum_of_segments, .timeout = 10)
{
	char a[3], b[5];
	struct iovec iov[3] = { { a, 3 }, { NULL, 0 }, { b, 5 } };
	struct iocb cb = prep(IOCB_CMD_PWRITEV, 0x10000, 3);
	struct submit_plan p;

	codec_plan(&cb, iov, USER_MAX, &p);
	cr_assert_eq(p.nsegs, 3);
	cr_assert_eq(p.datalen, 8);
	cr_assert_eq(codec_submit_len(3, 8), 88 + 24 + 8);
}

Test(wire_encode, vectored_failures_at_submission, .timeout = 10)
{
	char a[8];
	struct iovec neg[2] = { { (void *)0xffff800000000000ull, 5 },
				{ a, (size_t)-1 } };
	struct iovec far[2] = { { a, 8 }, { (void *)USER_MAX, 1 } };
	struct submit_plan p;
	struct iocb cb;

	cb = prep(IOCB_CMD_PWRITEV, 0x10000, 2);
	codec_plan(&cb, NULL, USER_MAX, &p);
	cr_assert_eq(p.flags, EVFDFS_WIRE_SUB_IOV_FAULT, "array unreadable");
	cr_assert_eq(p.nsegs, 0);
	cr_assert_eq(p.datalen, 0);

	cb = prep(IOCB_CMD_PWRITEV, 0x10000, 1025);
	codec_plan(&cb, NULL, USER_MAX, &p);
	cr_assert_eq(p.flags, 0, "count > 1024 is the daemon's EINVAL");
	cr_assert_eq(p.nsegs, 0);

	cb = prep(IOCB_CMD_PWRITEV, 0x10000, 2);
	codec_plan(&cb, neg, USER_MAX, &p);
	cr_assert_eq(p.flags, 0, "a negative length comes before the range");
	cr_assert_eq(p.nsegs, 2, "the daemon sees the negative length");
	cr_assert_eq(p.datalen, 0);

	cb = prep(IOCB_CMD_PWRITEV, 0x10000, 2);
	codec_plan(&cb, far, USER_MAX, &p);
	cr_assert_eq(p.flags, EVFDFS_WIRE_SUB_BUF_RANGE);
	cr_assert_eq(p.nsegs, 2);
	cr_assert_eq(p.datalen, 0);

	cb = prep(IOCB_CMD_PREADV, 0, 0);
	codec_plan(&cb, NULL, USER_MAX, &p);
	cr_assert_eq(p.flags, 0, "count 0 reads no array (res 0)");
	cr_assert_eq(p.nsegs, 0);
}

Test(wire_encode, other_opcodes_send_the_iocb_alone, .timeout = 10)
{
	static const uint16_t ops[] = { IOCB_CMD_FSYNC,
					IOCB_CMD_FDSYNC,
					IOCB_CMD_POLL,
					IOCB_CMD_NOOP,
					4,
					9,
					0xffff };
	struct submit_plan p;
	size_t i;

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		struct iocb cb = prep(ops[i], USER_MAX + 1, 100);

		codec_plan(&cb, NULL, USER_MAX, &p);
		cr_expect(p.flags == 0 && p.nsegs == 0 && p.datalen == 0 &&
				  !p.is_read && !p.is_write,
			  "opcode %u", ops[i]);
	}
}

static size_t event_rec(unsigned char *buf, uint64_t obj, int64_t res,
			const char *data, uint32_t datalen)
{
	struct evfdfs_wire_event e;

	memset(&e, 0, sizeof(e));
	e.hdr.version = EVFDFS_WIRE_VERSION;
	e.hdr.type = EVFDFS_WIRE_EVENT;
	e.hdr.len = EVFDFS_WIRE_ALIGN(sizeof(e) + datalen);
	e.datalen = datalen;
	e.ev.data = 42;
	e.ev.obj = obj;
	e.ev.res = res;
	memcpy(buf, &e, sizeof(e));
	memset(buf + sizeof(e), 0, e.hdr.len - sizeof(e));
	if (datalen)
		memcpy(buf + sizeof(e), data, datalen);
	return e.hdr.len;
}

Test(wire_encode, event_records_parse, .timeout = 10)
{
	unsigned char buf[256];
	struct io_event ev;
	const void *data;
	uint32_t datalen;
	size_t l1, l2;

	l1 = event_rec(buf, 0x1000, 3, "abc", 3);
	l2 = event_rec(buf + l1, 0x2000, -EFAULT, NULL, 0);
	cr_assert_eq(l1, 56);
	cr_assert_eq(l2, 48);
	cr_assert_eq(codec_event_parse(buf, l1 + l2, &ev, &data, &datalen), 56);
	cr_assert_eq(ev.obj, 0x1000);
	cr_assert_eq(ev.data, 42);
	cr_assert_eq(ev.res, 3);
	cr_assert_eq(datalen, 3);
	cr_assert(memcmp(data, "abc", 3) == 0);
	cr_assert_eq(codec_event_parse(buf + l1, l2, &ev, &data, &datalen), 48);
	cr_assert_eq(ev.res, -EFAULT);
	cr_assert_eq(datalen, 0);
	cr_assert_eq(codec_records_in(buf, l1 + l2), 2);
	cr_assert_eq(codec_records_in(buf, l1 + l2 - 1), 1);
	cr_assert_eq(codec_records_in(buf, 7), 0);
}

Test(wire_encode, malformed_events_are_einval, .timeout = 10)
{
	unsigned char buf[256];
	struct evfdfs_wire_event *e = (void *)buf;
	struct io_event ev;
	const void *data;
	uint32_t datalen;
	size_t l;

	l = event_rec(buf, 1, 3, "abc", 3);
	cr_assert_eq(codec_event_parse(buf, l - 8, &ev, &data, &datalen),
		     -EINVAL, "truncated");
	e->hdr.version = 99;
	cr_assert_eq(codec_event_parse(buf, l, &ev, &data, &datalen), -EINVAL,
		     "version");
	l = event_rec(buf, 1, 3, "abc", 3);
	e->hdr.type = EVFDFS_WIRE_SUBMIT;
	cr_assert_eq(codec_event_parse(buf, l, &ev, &data, &datalen), -EINVAL,
		     "type");
	l = event_rec(buf, 1, 3, "abc", 3);
	e->datalen = 9;
	cr_assert_eq(codec_event_parse(buf, l, &ev, &data, &datalen), -EINVAL,
		     "datalen past the record");
	l = event_rec(buf, 1, 3, "abc", 3);
	e->hdr.len = 52;
	cr_assert_eq(codec_event_parse(buf, l, &ev, &data, &datalen), -EINVAL,
		     "length not a multiple of 8");
}

/* ---- umem ------------------------------------------------------------ */

/* Two pages: the first read-write, the second inaccessible (PROT_NONE
 * rather than unmapped, so that no later mmap lands there). */
static char *half_mapped(void)
{
	char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	cr_assert(p != MAP_FAILED);
	cr_assert(mprotect(p + 4096, 4096, PROT_NONE) == 0);
	return p;
}

ParameterizedTestParameters(umem, modes)
{
	static bool modes[] = { false, true };

	return cr_make_param_array(bool, modes, 2);
}

ParameterizedTest(bool *pipe_mode, umem, modes, .timeout = 10)
{
	char *p = half_mapped();
	char *ro;
	char buf[8192];
	struct iovec iov[2];
	uint64_t addr;
	uint32_t word = 0x12345678;

	umem_force_pipe(*pipe_mode);
	memset(p, 'x', 4096);
	/* reads */
	cr_assert_eq(umem_read(buf, (uintptr_t)p, 4096), 0);
	cr_assert_eq(umem_read(buf, (uintptr_t)p + 4000, 200), -EFAULT);
	cr_assert_eq(umem_read(buf, 0, 8), -EFAULT);
	cr_assert_eq(umem_read_upto(buf, (uintptr_t)p + 4000, 200), 96);
	cr_assert_eq(umem_read(buf, 0, 0), 0, "nothing to read is fine");
	/* writes */
	cr_assert_eq(umem_write((uintptr_t)p + 10, "abc", 3), 0);
	cr_assert(memcmp(p + 10, "abc", 3) == 0);
	cr_assert_eq(umem_write((uintptr_t)p + 4090, buf, 10), -EFAULT);
	ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert(ro != MAP_FAILED);
	cr_assert_eq(umem_write((uintptr_t)ro, "a", 1), -EFAULT);
	cr_assert(!umem_word_writable((uintptr_t)ro, 0));
	cr_assert(umem_word_writable((uintptr_t)&word, word));
	cr_assert_eq(word, 0x12345678, "the probe writes back what is there");
	addr = (uintptr_t)&word;
	cr_assert_eq(umem_zero_words(&addr, 1), 1);
	cr_assert_eq(word, 0);
	/* scatter and gather stop at the first fault */
	memset(buf, 'y', sizeof(buf));
	iov[0].iov_base = p + 4000;
	iov[0].iov_len = 50;
	iov[1].iov_base = p + 4090;
	iov[1].iov_len = 100;
	cr_assert_eq(umem_scatter(iov, 2, buf, 150), 56);
	cr_assert_eq(p[4095], 'y');
	cr_assert_eq(umem_scatter(iov, 2, buf, 20), 20, "only len bytes");
	{
		size_t g = umem_gather(buf, iov, 2, 150);

		cr_assert_eq(g, 56, "gather %zu", g);
	}
	iov[1].iov_base = NULL;
	cr_assert_eq(umem_gather(buf, iov, 2, 60), 50);
	munmap(ro, 4096);
	munmap(p, 8192);
	umem_force_pipe(false);
}

Test(umem, user_max_is_the_top_of_user_space, .timeout = 10)
{
	uint64_t m = umem_user_max();

#if defined(__x86_64__)
	cr_assert(m == UINT64_C(0x7ffffffff000) ||
		  m == (UINT64_C(1) << 56) - 4096);
	cr_assert_gt(m, (uintptr_t)&m, "the stack is below it");
#else
	cr_assert_eq(m, UINT64_MAX);
#endif
}
