// SPDX-License-Identifier: GPL-2.0-only
/*
 * The AIO record decoder and validator alone (fused/wire.c), no FUSE: the
 * framing rules of include/evfdfs/wire.h and the kernel's check order.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "../../fused/wire_i.h"

static unsigned char rec[EVFDFS_WIRE_MAX_RECORD + 64];

/* A SUBMIT record in rec[]: @nsegs segments of @seglen, @datalen bytes. */
static uint32_t mk_submit(uint16_t op, uint64_t nbytes, uint32_t nsegs,
			  uint64_t seglen, uint32_t datalen, uint32_t flags)
{
	struct evfdfs_wire_submit s;
	uint32_t len, i;

	memset(&s, 0, sizeof(s));
	s.hdr.version = EVFDFS_WIRE_VERSION;
	s.hdr.type = EVFDFS_WIRE_SUBMIT;
	s.flags = flags;
	s.nsegs = nsegs;
	s.iocb.aio_lio_opcode = op;
	s.iocb.aio_nbytes = nbytes;
	len = EVFDFS_WIRE_ALIGN((uint32_t)sizeof(s) + 8 * nsegs + datalen);
	s.hdr.len = len;
	memset(rec, 0xab, len);
	memcpy(rec, &s, sizeof(s));
	for (i = 0; i < nsegs; i++)
		memcpy(rec + sizeof(s) + 8 * i, &seglen, 8);
	return len;
}

static struct evfdfs_wire_submit *sub_of(void)
{
	return (struct evfdfs_wire_submit *)rec;
}

Test(wire, frame_accepts_a_whole_record)
{
	struct evfdfs_wire_hdr h;
	uint32_t len = mk_submit(IOCB_CMD_FSYNC, 0, 0, 0, 0, 0);

	cr_expect_eq(wire_frame(rec, len, &h), 0);
	cr_expect_eq(h.len, 88);
	cr_expect_eq(h.type, EVFDFS_WIRE_SUBMIT);
	cr_expect_eq(wire_frame(rec + 1, len, &h), -EINVAL, "misframed");
}

Test(wire, frame_rejects_bad_headers)
{
	struct evfdfs_wire_hdr h;
	uint32_t len = mk_submit(IOCB_CMD_FSYNC, 0, 0, 0, 0, 0);

	cr_expect_eq(wire_frame(rec, 7, &h), -EINVAL, "shorter than a header");
	cr_expect_eq(wire_frame(rec, len - 8, &h), -EINVAL, "cut short");
	sub_of()->hdr.version = 0;
	cr_expect_eq(wire_frame(rec, len, &h), -EINVAL, "version");
	sub_of()->hdr.version = EVFDFS_WIRE_VERSION;
	sub_of()->hdr.type = EVFDFS_WIRE_EVENT;
	cr_expect_eq(wire_frame(rec, len, &h), -EINVAL, "EVENT is read-only");
	sub_of()->hdr.type = 0;
	cr_expect_eq(wire_frame(rec, len, &h), -EINVAL, "type 0");
	sub_of()->hdr.type = EVFDFS_WIRE_NTYPES;
	cr_expect_eq(wire_frame(rec, len, &h), -EINVAL, "unknown type");
	sub_of()->hdr.type = EVFDFS_WIRE_SUBMIT;
	sub_of()->hdr.len = 84;
	cr_expect_eq(wire_frame(rec, len, &h), -EINVAL, "not a multiple of 8");
	sub_of()->hdr.len = 80;
	cr_expect_eq(wire_frame(rec, len, &h), -EINVAL, "below the fixed part");
	sub_of()->hdr.len = EVFDFS_WIRE_MAX_RECORD + 8;
	cr_expect_eq(wire_frame(rec, sizeof(rec), &h), -EINVAL, "too large");
}

Test(wire, submit_layout_exact)
{
	struct wire_sub s;
	uint32_t len;

	len = mk_submit(IOCB_CMD_PREAD, 100, 0, 0, 0, 0);
	cr_expect_eq(wire_decode_submit(rec, len, &s), 0);
	cr_expect_eq(s.total, 100);
	cr_expect_eq(wire_decode_submit(rec, len + 8, &s), -EINVAL,
		     "a read carries no data");
	len = mk_submit(IOCB_CMD_PWRITE, 5, 0, 0, 5, 0);
	cr_expect_eq(len, 96);
	cr_expect_eq(wire_decode_submit(rec, len, &s), 0);
	cr_expect_eq(s.datalen, 5);
	cr_expect(s.write);
	cr_expect_eq(wire_decode_submit(rec, 88, &s), -EINVAL, "missing data");
	len = mk_submit(IOCB_CMD_PWRITE, 9, 0, 0, 8, 0);
	cr_expect_eq(wire_decode_submit(rec, len, &s), -EINVAL, "8 of 9 bytes");
	len = mk_submit(IOCB_CMD_PREADV, 3, 3, 10, 0, 0);
	cr_expect_eq(wire_decode_submit(rec, len, &s), 0);
	cr_expect(s.vectored && s.have_segs);
	cr_expect_eq(s.total, 30);
	cr_expect_eq(wire_seg(&s, 2), 10);
	len = mk_submit(IOCB_CMD_PREADV, 3, 2, 10, 0, 0);
	cr_expect_eq(wire_decode_submit(rec, len, &s), -EINVAL, "nsegs != 3");
	len = mk_submit(IOCB_CMD_PWRITEV, 2, 2, 4, 8, 0);
	cr_expect_eq(wire_decode_submit(rec, len, &s), 0);
	cr_expect_eq(s.datalen, 8);
	len = mk_submit(IOCB_CMD_PREAD, 8, 1, 8, 0, 0);
	cr_expect_eq(wire_decode_submit(rec, len, &s), -EINVAL,
		     "segments on a non-vectored opcode");
	len = mk_submit(IOCB_CMD_PREAD, 8, 0, 0, 0, 0x40);
	cr_expect_eq(wire_decode_submit(rec, len, &s), -EINVAL, "flags 0x40");
}

Test(wire, submit_layout_without_data)
{
	struct wire_sub s;
	uint32_t len;

	/* the library could not read the buffer: no payload */
	len = mk_submit(IOCB_CMD_PWRITE, 64, 0, 0, 0,
			EVFDFS_WIRE_SUB_BUF_FAULT);
	cr_expect_eq(wire_decode_submit(rec, len, &s), 0);
	cr_expect_eq(s.datalen, 0);
	/* a vectored count above 1024 or an unreadable array: no segments */
	len = mk_submit(IOCB_CMD_PWRITEV, 1025, 0, 0, 0, 0);
	cr_expect_eq(wire_decode_submit(rec, len, &s), 0);
	cr_expect(!s.have_segs);
	len = mk_submit(IOCB_CMD_PREADV, 2, 0, 0, 0, EVFDFS_WIRE_SUB_IOV_FAULT);
	cr_expect_eq(wire_decode_submit(rec, len, &s), 0);
	len = mk_submit(IOCB_CMD_PREADV, 2, 2, 8, 0, EVFDFS_WIRE_SUB_IOV_FAULT);
	cr_expect_eq(wire_decode_submit(rec, len, &s), -EINVAL);
	/* a negative aio_nbytes: nothing to carry */
	len = mk_submit(IOCB_CMD_PWRITE, (uint64_t)-1, 0, 0, 0, 0);
	cr_expect_eq(wire_decode_submit(rec, len, &s), 0);
	/* a negative segment */
	len = mk_submit(IOCB_CMD_PWRITEV, 1, 1, (uint64_t)-3, 0, 0);
	cr_expect_eq(wire_decode_submit(rec, len, &s), 0);
	cr_expect(s.bad_seg);
}

Test(wire, big_writes_are_clamped)
{
	struct wire_sub s;
	uint32_t len;

	len = mk_submit(IOCB_CMD_PWRITE, 10u << 20, 0, 0,
			(uint32_t)EVFDFS_WIRE_MAX_DATA, 0);
	cr_expect_eq(wire_decode_submit(rec, len, &s), 0);
	cr_expect_eq(s.datalen, EVFDFS_WIRE_MAX_DATA);
	len = mk_submit(IOCB_CMD_PWRITE, 10u << 20, 0, 0,
			EVFDFS_WIRE_MAX_RECORD - 88, 0);
	cr_expect_eq(wire_decode_submit(rec, len, &s), 0, "all that fits");
	cr_expect_eq(s.datalen, EVFDFS_WIRE_MAX_RECORD - 88);
	len = mk_submit(IOCB_CMD_PWRITE, 10u << 20, 0, 0, 4096, 0);
	cr_expect_eq(wire_decode_submit(rec, len, &s), -EINVAL, "too little");
}

/* EVFDFS_WIRE_SUB_DATA_CUT: a write the submitter cut to fit its
 * RLIMIT_FSIZE carries 8-byte steps of data, short of the whole. */
Test(wire, data_cut_by_the_submitter)
{
	const uint32_t cut = EVFDFS_WIRE_SUB_DATA_CUT;
	struct wire_sub s;
	uint32_t len;

	len = mk_submit(IOCB_CMD_PWRITE, 8192, 0, 0, 4000, cut);
	cr_expect_eq(wire_decode_submit(rec, len, &s), 0);
	cr_expect_eq(s.datalen, 4000);
	cr_expect_eq(s.total, 8192);
	len = mk_submit(IOCB_CMD_PWRITEV, 2, 2, 4096, 1000, cut);
	cr_expect_eq(wire_decode_submit(rec, len, &s), 0);
	cr_expect_eq(s.datalen, 1000);
	len = mk_submit(IOCB_CMD_PWRITE, 4000, 0, 0, 4000, cut);
	cr_expect_eq(wire_decode_submit(rec, len, &s), -EINVAL,
		     "not short of the whole");
	len = mk_submit(IOCB_CMD_PWRITE, 8192, 0, 0, 0, cut);
	cr_expect_eq(wire_decode_submit(rec, len, &s), -EINVAL, "no data");
	len = mk_submit(IOCB_CMD_PWRITE, 8192, 0, 0, 4000,
			cut | EVFDFS_WIRE_SUB_BUF_FAULT);
	cr_expect_eq(wire_decode_submit(rec, len, &s), -EINVAL,
		     "data with a fault");
	len = mk_submit(IOCB_CMD_PREAD, 8192, 0, 0, 0, cut);
	cr_expect_eq(wire_decode_submit(rec, len, &s), -EINVAL, "a read");
	len = mk_submit(IOCB_CMD_PWRITE, 10u << 20, 0, 0,
			(uint32_t)EVFDFS_WIRE_MAX_DATA + 8, cut);
	cr_expect_eq(wire_decode_submit(rec, len, &s), -EINVAL,
		     "above EVFDFS_WIRE_MAX_DATA");
}

/* EVFDFS_WIRE_SUB_DIRECT: reads and writes of any length, no data. */
Test(wire, direct_records_carry_no_data)
{
	const uint32_t d = EVFDFS_WIRE_SUB_DIRECT;
	struct wire_sub s;
	uint32_t len;

	len = mk_submit(IOCB_CMD_PWRITE, 256u << 20, 0, 0, 0, d);
	cr_expect_eq(wire_decode_submit(rec, len, &s), 0);
	cr_expect(s.direct);
	cr_expect_eq(s.datalen, 0);
	cr_expect_eq(s.total, 256u << 20);
	len = mk_submit(IOCB_CMD_PREADV, 2, 2, 4u << 20, 0, d);
	cr_expect_eq(wire_decode_submit(rec, len, &s), 0);
	cr_expect_eq(s.total, 8u << 20);
	len = mk_submit(IOCB_CMD_PWRITE, 64, 0, 0, 64, d);
	cr_expect_eq(wire_decode_submit(rec, len, &s), -EINVAL, "with data");
	len = mk_submit(IOCB_CMD_PWRITE, 8192, 0, 0, 0,
			d | EVFDFS_WIRE_SUB_DATA_CUT);
	cr_expect_eq(wire_decode_submit(rec, len, &s), -EINVAL, "cut");
	len = mk_submit(IOCB_CMD_PWRITE, 64, 0, 0, 0,
			d | EVFDFS_WIRE_SUB_BUF_FAULT);
	cr_expect_eq(wire_decode_submit(rec, len, &s), -EINVAL, "a fault");
	len = mk_submit(IOCB_CMD_FSYNC, 0, 0, 0, 0, d);
	cr_expect_eq(wire_decode_submit(rec, len, &s), -EINVAL, "an fsync");
	len = mk_submit(IOCB_CMD_POLL, 1, 0, 0, 0, d);
	cr_expect_eq(wire_decode_submit(rec, len, &s), -EINVAL, "a poll");
}

Test(wire, early_steps_in_order)
{
	struct wire_sub s;
	uint32_t len = mk_submit(IOCB_CMD_PREAD, 8, 0, 0, 0, 0);

	sub_of()->iocb.aio_reserved2 = 1;
	cr_assert_eq(wire_decode_submit(rec, len, &s), 0);
	cr_expect_eq(wire_check_early(&s), -EINVAL, "step 2");
	len = mk_submit(IOCB_CMD_PREAD, (uint64_t)-1, 0, 0, 0, 0);
	cr_assert_eq(wire_decode_submit(rec, len, &s), 0);
	cr_expect_eq(wire_check_early(&s), -EINVAL, "step 3");
	len = mk_submit(IOCB_CMD_PREAD, 8, 0, 0, 0, 0);
	cr_assert_eq(wire_decode_submit(rec, len, &s), 0);
	cr_expect_eq(wire_check_early(&s), 0);
}

Test(wire, opcode_step_after_key)
{
	static const uint16_t ok[] = { 0, 1, 2, 3, 5, 7, 8 };
	static const uint16_t bad[] = { 4, 6, 9, 100, 0xffff };
	struct wire_sub s;
	size_t i;

	memset(&s, 0, sizeof(s));
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		s.s.iocb.aio_lio_opcode = ok[i];
		cr_expect_eq(wire_check_opcode(&s), 0, "op %u", ok[i]);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s.s.iocb.aio_lio_opcode = bad[i];
		cr_expect_eq(wire_check_opcode(&s), -EINVAL, "op %u", bad[i]);
	}
	s.s.flags = EVFDFS_WIRE_SUB_KEY_FAULT;
	cr_expect_eq(wire_check_opcode(&s), -EFAULT, "step 7 before 8");
}

Test(wire, ioprio_classes)
{
	cr_expect_eq(wire_check_ioprio(0, false), 0);
	cr_expect_eq(wire_check_ioprio(1, false), -EINVAL, "NONE, level 1");
	cr_expect_eq(wire_check_ioprio(1 << 13, false), -EPERM, "RT, no cap");
	cr_expect_eq(wire_check_ioprio(1 << 13 | 7, true), 0);
	cr_expect_eq(wire_check_ioprio(2 << 13 | 7, false), 0, "BE");
	cr_expect_eq(wire_check_ioprio(3 << 13, false), 0, "IDLE");
	cr_expect_eq(wire_check_ioprio(4 << 13, true), -EINVAL);
	cr_expect_eq(wire_check_ioprio((int16_t)(7 << 13), true), -EINVAL);
}

static const struct wire_file efd = {
	.readable = true,
	.writable = true,
	.read_iter = true,
	.nowait = true,
};

Test(wire, rw_checks_in_order_on_an_eventfd)
{
	struct wire_sub s;
	struct wire_file ro = efd;
	uint32_t len;

	len = mk_submit(IOCB_CMD_PREAD, 8, 0, 0, 0, 0);
	cr_assert_eq(wire_decode_submit(rec, len, &s), 0);
	cr_expect_eq(wire_check_rw(&s, &efd), 0);
	s.s.iocb.aio_rw_flags = 0x200;
	cr_expect_eq(wire_check_rw(&s, &efd), -EOPNOTSUPP, "unknown bit");
	s.s.iocb.aio_rw_flags = 0x30;
	cr_expect_eq(wire_check_rw(&s, &efd), -EINVAL, "APPEND|NOAPPEND");
	s.s.iocb.aio_rw_flags = 0x40;
	cr_expect_eq(wire_check_rw(&s, &efd), -EOPNOTSUPP, "ATOMIC read");
	s.s.iocb.aio_rw_flags = 0x80;
	cr_expect_eq(wire_check_rw(&s, &efd), -EOPNOTSUPP, "DONTCACHE");
	s.s.iocb.aio_rw_flags = 0x8 | 0x1 | 0x100;
	cr_expect_eq(wire_check_rw(&s, &efd), 0, "NOWAIT|HIPRI|NOSIGNAL");
	s.s.iocb.aio_flags = WIRE_IOCB_FLAG_IOPRIO;
	s.s.iocb.aio_reqprio = 1;
	cr_expect_eq(wire_check_rw(&s, &efd), -EINVAL, "IOPRIO first");
	s.s.iocb.aio_flags = 0;
	s.s.iocb.aio_rw_flags = 0;
	ro.readable = false;
	cr_expect_eq(wire_check_rw(&s, &ro), -EBADF);
	s.s.iocb.aio_rw_flags = 0x200;
	cr_expect_eq(wire_check_rw(&s, &ro), -EOPNOTSUPP,
		     "flags before access");
	s.s.iocb.aio_rw_flags = 0;
	s.s.iocb.aio_offset = -1;
	cr_expect_eq(wire_check_rw(&s, &efd), -EINVAL, "offset (A30.6)");
	s.s.iocb.aio_offset = INT64_MAX - 4;
	cr_expect_eq(wire_check_rw(&s, &efd), -EINVAL, "overflow");
	s.s.iocb.aio_offset = INT64_MAX - 8;
	cr_expect_eq(wire_check_rw(&s, &efd), 0, "at the limit");

	len = mk_submit(IOCB_CMD_PWRITE, 8, 0, 0, 8, 0);
	cr_assert_eq(wire_decode_submit(rec, len, &s), 0);
	cr_expect_eq(wire_check_rw(&s, &efd), -EINVAL, "no write_iter (A30.4)");
	ro = efd;
	ro.writable = false;
	cr_expect_eq(wire_check_rw(&s, &ro), -EBADF, "access before iter");
}

Test(wire, rw_buffer_checks)
{
	struct wire_sub s;
	uint32_t len;

	len = mk_submit(IOCB_CMD_PREAD, 8, 0, 0, 0, EVFDFS_WIRE_SUB_BUF_RANGE);
	cr_assert_eq(wire_decode_submit(rec, len, &s), 0);
	cr_expect_eq(wire_check_rw(&s, &efd), -EFAULT);
	len = mk_submit(IOCB_CMD_PREAD, 8, 0, 0, 0, EVFDFS_WIRE_SUB_BUF_FAULT);
	cr_assert_eq(wire_decode_submit(rec, len, &s), 0);
	cr_expect_eq(wire_check_rw(&s, &efd), 0, "a fault comes in res");
	len = mk_submit(IOCB_CMD_PREADV, 1025, 0, 0, 0, 0);
	cr_assert_eq(wire_decode_submit(rec, len, &s), 0);
	cr_expect_eq(wire_check_rw(&s, &efd), -EINVAL, "UIO_MAXIOV");
	len = mk_submit(IOCB_CMD_PREADV, 1025, 0, 0, 0,
			EVFDFS_WIRE_SUB_IOV_FAULT);
	cr_assert_eq(wire_decode_submit(rec, len, &s), 0);
	cr_expect_eq(wire_check_rw(&s, &efd), -EINVAL, "count before fault");
	len = mk_submit(IOCB_CMD_PREADV, 2, 0, 0, 0, EVFDFS_WIRE_SUB_IOV_FAULT);
	cr_assert_eq(wire_decode_submit(rec, len, &s), 0);
	cr_expect_eq(wire_check_rw(&s, &efd), -EFAULT);
	len = mk_submit(IOCB_CMD_PREADV, 2, 2, (uint64_t)-1, 0,
			EVFDFS_WIRE_SUB_BUF_RANGE);
	cr_assert_eq(wire_decode_submit(rec, len, &s), 0);
	cr_expect_eq(wire_check_rw(&s, &efd), -EINVAL, "negative before range");
	len = mk_submit(IOCB_CMD_PREADV, 0, 0, 0, 0, 0);
	cr_assert_eq(wire_decode_submit(rec, len, &s), 0);
	cr_expect_eq(wire_check_rw(&s, &efd), 0, "no iovecs at all");
}

Test(wire, fsync_and_poll_fields)
{
	struct wire_file nofsync = efd, withfsync = efd;
	struct wire_sub s;

	withfsync.fsync = true;
	memset(&s, 0, sizeof(s));
	s.s.iocb.aio_lio_opcode = IOCB_CMD_FSYNC;
	cr_expect_eq(wire_check_fsync(&s, &withfsync), 0);
	cr_expect_eq(wire_check_fsync(&s, &nofsync), -EINVAL);
	s.s.iocb.aio_rw_flags = 1;
	cr_expect_eq(wire_check_fsync(&s, &withfsync), -EINVAL);
	memset(&s, 0, sizeof(s));
	s.s.iocb.aio_buf = 0xffff;
	cr_expect_eq(wire_check_poll(&s), 0);
	s.s.iocb.aio_buf = 0x10000;
	cr_expect_eq(wire_check_poll(&s), -EINVAL);
	s.s.iocb.aio_buf = 1;
	s.s.iocb.aio_offset = 1;
	cr_expect_eq(wire_check_poll(&s), -EINVAL);
}

Test(wire, setup_arithmetic_as_io_setup)
{
	uint32_t nr;
	struct wire_ring_setup rs;
	struct evfdfs_wire_setup st = {
		.hdr = { EVFDFS_WIRE_VERSION, EVFDFS_WIRE_SETUP, 16 },
		.nr_events = 5,
	};
	struct evfdfs_wire_setup_ring r = {
		.s = { { EVFDFS_WIRE_VERSION, EVFDFS_WIRE_SETUP, 32 },
		       7,
		       EVFDFS_WIRE_SETUP_RING },
		.memfd = 4,
		.id = 2,
		.addr = 0x1000,
	};

	cr_expect_eq(wire_setup_check(0, 2), -EINVAL);
	cr_expect_eq(wire_setup_check(1, 2), 0);
	cr_expect_eq(wire_setup_check(4194304, 2), 0);
	cr_expect_eq(wire_setup_check(4194305, 2), -EINVAL);
	cr_expect_eq(wire_setup_check(0x80000000u, 2), -EAGAIN, "wraps to 0");
	cr_expect_eq(wire_setup_check(0xffffffffu, 2), -EINVAL);
	cr_expect_eq(wire_decode_setup(&st, 16, &nr, &rs), 0);
	cr_expect_eq(nr, 5);
	cr_expect(!rs.on, "an old record: no ring");
	st.flags = 1;
	cr_expect_eq(wire_decode_setup(&st, 16, &nr, &rs), -EINVAL,
		     "the ring flag names a longer record");
	cr_expect_eq(wire_decode_setup(&st, 24, &nr, &rs), -EINVAL);
	cr_expect_eq(wire_decode_setup(&r, 32, &nr, &rs), 0);
	cr_expect(rs.on);
	cr_expect_eq(nr, 7);
	cr_expect_eq(rs.memfd, 4);
	cr_expect_eq(rs.id, 2);
	cr_expect_eq(rs.addr, 0x1000);
	r.s.flags = 3;
	cr_expect_eq(wire_decode_setup(&r, 32, &nr, &rs), -EINVAL);
	r.s.flags = 0;
	cr_expect_eq(wire_decode_setup(&r, 32, &nr, &rs), -EINVAL);
}

Test(wire, ring_size_as_io_setup)
{
	uint32_t nr;
	__u64 bytes;

	/* A13 on a 2-CPU machine: 1 -> 127, 128 -> 383, 1000 -> 2047 */
	cr_expect_eq(evfdfs_wire_ring_size(1, 2, 4096, &nr, &bytes), 0);
	cr_expect_eq(nr, 127);
	cr_expect_eq(bytes, 4096);
	cr_expect_eq(evfdfs_wire_ring_size(128, 2, 4096, &nr, &bytes), 0);
	cr_expect_eq(nr, 383);
	cr_expect_eq(evfdfs_wire_ring_size(1000, 2, 4096, &nr, &bytes), 0);
	cr_expect_eq(nr, 2047);
	cr_expect_eq(evfdfs_wire_ring_size(0, 2, 4096, &nr, &bytes), -EINVAL);
	cr_expect_eq(evfdfs_wire_ring_size(4194305, 2, 4096, &nr, &bytes),
		     -EINVAL);
	cr_expect_eq(evfdfs_wire_ring_size(0x80000000u, 2, 4096, &nr, &bytes),
		     -EAGAIN);
}

Test(wire, ring_fields_read_back_are_hostile)
{
	cr_expect_eq(wire_ring_index(130, 127), 3);
	cr_expect_eq(wire_ring_index(5, 0), 0);
	cr_expect_eq(wire_ring_waiting(10, 4, 127), 6);
	cr_expect_eq(wire_ring_waiting(2, 120, 127), 9, "wrapped");
	cr_expect_eq(wire_ring_waiting(10, 0xffffffffu, 127),
		     (10 + 127 - 0xffffffffu % 127) % 127, "head modulo nr");
	cr_expect_lt(wire_ring_waiting(0, 0xfffffff0u, 127), 127);
	cr_expect(!wire_ring_full(0, 0, 127));
	cr_expect(!wire_ring_full(100, 25, 127));
	cr_expect(wire_ring_full(100, 26, 127), "nr - 1 entries at most");
	cr_expect(wire_ring_full(0, 0, 1));
}

Test(wire, destroy_record)
{
	struct evfdfs_wire_destroy d = {
		.hdr = { EVFDFS_WIRE_VERSION, EVFDFS_WIRE_DESTROY, 16 },
	};

	cr_expect_eq(wire_decode_destroy(&d, 16), 0);
	cr_expect_eq(wire_decode_destroy(&d, 24), -EINVAL);
	d.pad = 1;
	cr_expect_eq(wire_decode_destroy(&d, 16), -EINVAL);
}

Test(wire, cancel_record)
{
	struct evfdfs_wire_cancel c = {
		.hdr = { EVFDFS_WIRE_VERSION, EVFDFS_WIRE_CANCEL, 24 },
		.obj = 0x1234,
	};
	uint64_t obj = 0;

	cr_expect_eq(wire_decode_cancel(&c, 24, &obj), 0);
	cr_expect_eq(obj, 0x1234);
	c.aio_key = 1;
	cr_expect_eq(wire_decode_cancel(&c, 24, &obj), -EINVAL, "A75.2");
	c.aio_key = 0;
	c.flags = 2;
	cr_expect_eq(wire_decode_cancel(&c, 24, &obj), -EINVAL);
}

Test(wire, event_records_are_padded)
{
	struct io_event ev = { .data = 1, .obj = 2, .res = 3, .res2 = 0 };
	struct evfdfs_wire_event out;
	unsigned char buf[64];

	cr_expect_eq(wire_event_size(0), 48);
	cr_expect_eq(wire_event_size(3), 56);
	cr_expect_eq(wire_event_size(8), 56);
	memset(buf, 0xff, sizeof(buf));
	wire_event_pack(buf, &ev, "abc", 3);
	memcpy(&out, buf, sizeof(out));
	cr_expect_eq(out.hdr.version, EVFDFS_WIRE_VERSION);
	cr_expect_eq(out.hdr.type, EVFDFS_WIRE_EVENT);
	cr_expect_eq(out.hdr.len, 56);
	cr_expect_eq(out.datalen, 3);
	cr_expect_eq(out.ev.res, 3);
	cr_expect_eq(memcmp(buf + 48, "abc\0\0\0\0\0", 8), 0);
}
