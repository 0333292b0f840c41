// SPDX-License-Identifier: GPL-2.0-only
/*
 * Framing and validation of the binary AIO records (include/evfdfs/wire.h),
 * as pure functions: see wire_i.h for the contract and the order in which
 * the daemon calls them.  Item numbers (A30, table 2.5) are those of
 * shared/spec/linux-semantics.md.  Records may sit at any address (the
 * fuzz target feeds unaligned ones), so fixed parts are copied out.
 */
#include <errno.h>
#include <string.h>

#include "wire_i.h"

#define SUB_FIXED ((uint32_t)sizeof(struct evfdfs_wire_submit))
#define SUB_FAULTS                                               \
	(EVFDFS_WIRE_SUB_BUF_FAULT | EVFDFS_WIRE_SUB_BUF_RANGE | \
	 EVFDFS_WIRE_SUB_IOV_FAULT)

int wire_frame(const void *buf, size_t len, struct evfdfs_wire_hdr *hdr)
{
	if (len < sizeof(*hdr))
		return -EINVAL;
	memcpy(hdr, buf, sizeof(*hdr));
	if (hdr->version != EVFDFS_WIRE_VERSION)
		return -EINVAL;
	switch (hdr->type) {
	case EVFDFS_WIRE_SETUP:
	case EVFDFS_WIRE_SUBMIT:
	case EVFDFS_WIRE_CANCEL:
	case EVFDFS_WIRE_DESTROY:
		break;
	default:
		return -EINVAL; /* EVENT is read, never written */
	}
	if (hdr->len % 8 || hdr->len < evfdfs_wire_sizes[hdr->type] ||
	    hdr->len > EVFDFS_WIRE_MAX_RECORD || hdr->len > len)
		return -EINVAL;
	return 0;
}

uint64_t wire_seg(const struct wire_sub *s, uint32_t i)
{
	uint64_t v;

	memcpy(&v, s->segs + (size_t)i * sizeof(v), sizeof(v));
	return v;
}

static bool is_vectored(uint16_t op)
{
	return op == IOCB_CMD_PREADV || op == IOCB_CMD_PWRITEV;
}

static bool is_rw(uint16_t op)
{
	return op == IOCB_CMD_PREAD || op == IOCB_CMD_PWRITE ||
	       op == IOCB_CMD_PREADV || op == IOCB_CMD_PWRITEV;
}

static bool is_write(uint16_t op)
{
	return op == IOCB_CMD_PWRITE || op == IOCB_CMD_PWRITEV;
}

/* How much data a write record carries; see wire_decode_submit(). */
static int decode_data(struct wire_sub *out, uint32_t segs_end, uint32_t len)
{
	uint32_t avail = len - segs_end;
	uint64_t fits, dmax;
	bool nodata;

	nodata = (out->s.flags & SUB_FAULTS) || out->bad_seg ||
		 (out->vectored ? !out->have_segs
				: (int64_t)out->s.iocb.aio_nbytes < 0);
	if (out->s.flags & EVFDFS_WIRE_SUB_DATA_CUT) {
		/* Cut by the submitter: 8-byte steps, short of the whole. */
		if (nodata || avail == 0 || avail % 8 ||
		    avail > EVFDFS_WIRE_MAX_DATA || avail >= out->total)
			return -EINVAL;
		out->datalen = avail;
	} else if (nodata && avail == 0) {
		return 0;
	} else if (out->total <= EVFDFS_WIRE_MAX_DATA) {
		if (EVFDFS_WIRE_ALIGN(segs_end + (uint32_t)out->total) != len)
			return -EINVAL;
		out->datalen = (uint32_t)out->total;
	} else {
		/* Clamped: MAX_DATA, or all that fits in one record. */
		fits = EVFDFS_WIRE_MAX_RECORD - segs_end;
		dmax = out->total < fits ? out->total : fits;
		if (len == EVFDFS_WIRE_ALIGN(segs_end + (uint32_t)dmax))
			out->datalen = (uint32_t)dmax;
		else if (avail >= EVFDFS_WIRE_MAX_DATA && avail <= dmax)
			out->datalen = avail;
		else
			return -EINVAL;
	}
	out->data = out->segs + (size_t)out->s.nsegs * sizeof(uint64_t);
	return 0;
}

int wire_decode_submit(const void *rec, uint32_t len, struct wire_sub *out)
{
	const unsigned char *p = rec;
	uint32_t expect_segs = 0, segs_end, i;
	uint64_t nbytes, seg;

	memset(out, 0, sizeof(*out));
	if (len < SUB_FIXED || len % 8)
		return -EINVAL;
	memcpy(&out->s, p, sizeof(out->s));
	if (out->s.flags & ~EVFDFS_WIRE_SUB_FLAGS)
		return -EINVAL;
	out->vectored = is_vectored(out->s.iocb.aio_lio_opcode);
	out->write = is_write(out->s.iocb.aio_lio_opcode);
	nbytes = out->s.iocb.aio_nbytes;
	if (out->vectored && !(out->s.flags & EVFDFS_WIRE_SUB_IOV_FAULT) &&
	    nbytes <= WIRE_UIO_MAXIOV) {
		expect_segs = (uint32_t)nbytes;
		out->have_segs = true;
	}
	if (out->s.nsegs != expect_segs)
		return -EINVAL;
	segs_end = SUB_FIXED + expect_segs * (uint32_t)sizeof(uint64_t);
	if (segs_end > len)
		return -EINVAL;
	out->segs = p + SUB_FIXED;
	if (out->vectored) {
		for (i = 0; i < expect_segs; i++) {
			seg = wire_seg(out, i);
			if ((int64_t)seg < 0)
				out->bad_seg = true;
			else if (out->total + seg < out->total)
				out->total = UINT64_MAX;
			else
				out->total += seg;
		}
	} else {
		out->total = nbytes;
	}
	if (out->s.flags & EVFDFS_WIRE_SUB_DIRECT) {
		/* The data stays in the submitter's memory. */
		if (!is_rw(out->s.iocb.aio_lio_opcode) || len != segs_end ||
		    (out->s.flags &
		     (EVFDFS_WIRE_SUB_DATA_CUT | EVFDFS_WIRE_SUB_BUF_FAULT)))
			return -EINVAL;
		out->direct = true;
		return 0;
	}
	if (!out->write) {
		if (len != segs_end ||
		    (out->s.flags & EVFDFS_WIRE_SUB_DATA_CUT))
			return -EINVAL;
		return 0;
	}
	return decode_data(out, segs_end, len);
}

int wire_check_early(const struct wire_sub *s)
{
	if (s->s.iocb.aio_reserved2)
		return -EINVAL; /* step 2 */
	if ((int64_t)s->s.iocb.aio_nbytes < 0)
		return -EINVAL; /* step 3 */
	return 0;
}

int wire_check_opcode(const struct wire_sub *s)
{
	if (s->s.flags & EVFDFS_WIRE_SUB_KEY_FAULT)
		return -EFAULT; /* step 7 */
	switch (s->s.iocb.aio_lio_opcode) {
	case IOCB_CMD_PREAD:
	case IOCB_CMD_PWRITE:
	case IOCB_CMD_FSYNC:
	case IOCB_CMD_FDSYNC:
	case IOCB_CMD_POLL:
	case IOCB_CMD_PREADV:
	case IOCB_CMD_PWRITEV:
		return 0;
	default:
		return -EINVAL; /* step 8, A26 */
	}
}

int wire_check_ioprio(int16_t prio, bool rt_ok)
{
	int ioprio = prio; /* the kernel passes the s16 as an int */
	int class = (ioprio >> 13) & 7;
	int level = ioprio & 7;

	switch (class) {
	case 1: /* RT */
		if (!rt_ok)
			return -EPERM;
		return 0; /* its level has 3 bits: always below 8 */
	case 2:		  /* BE */
	case 3:		  /* IDLE */
		return 0;
	case 0: /* NONE */
		return level ? -EINVAL : 0;
	default:
		return -EINVAL;
	}
}

uint64_t wire_rw_len(const struct wire_sub *s)
{
	return s->total < WIRE_MAX_RW_COUNT ? s->total : WIRE_MAX_RW_COUNT;
}

bool wire_offset_bad(const struct wire_sub *s)
{
	int64_t off = s->s.iocb.aio_offset;

	return off < 0 || (uint64_t)off + wire_rw_len(s) > (uint64_t)INT64_MAX;
}

/* A30.2: kiocb_set_rw_flags(). */
static int check_rw_flags(const struct wire_sub *s, const struct wire_file *f)
{
	uint32_t rwf = (uint32_t)s->s.iocb.aio_rw_flags;

	if (!rwf)
		return 0;
	if (rwf & ~WIRE_RWF_SUPPORTED)
		return -EOPNOTSUPP;
	if ((rwf & WIRE_RWF_APPEND) && (rwf & WIRE_RWF_NOAPPEND))
		return -EINVAL;
	if ((rwf & WIRE_RWF_NOWAIT) && !f->nowait)
		return -EOPNOTSUPP;
	if ((rwf & WIRE_RWF_ATOMIC) && (!s->write || !f->atomic_write))
		return -EOPNOTSUPP;
	if ((rwf & WIRE_RWF_DONTCACHE) && !f->dontcache)
		return -EOPNOTSUPP;
	if ((rwf & WIRE_RWF_NOAPPEND) && f->append_only)
		return -EPERM;
	return 0;
}

/* A30.5: import_ubuf() / import_iovec() on the caller's memory. */
static int check_buffer(const struct wire_sub *s)
{
	if (!s->vectored)
		return (s->s.flags & EVFDFS_WIRE_SUB_BUF_RANGE) ? -EFAULT : 0;
	if (s->s.iocb.aio_nbytes > WIRE_UIO_MAXIOV)
		return -EINVAL;
	if (s->s.flags & EVFDFS_WIRE_SUB_IOV_FAULT)
		return -EFAULT;
	if (s->bad_seg)
		return -EINVAL;
	if (s->s.flags & EVFDFS_WIRE_SUB_BUF_RANGE)
		return -EFAULT;
	return 0;
}

int wire_check_rw(const struct wire_sub *s, const struct wire_file *f)
{
	int ret;

	if (s->s.iocb.aio_flags & WIRE_IOCB_FLAG_IOPRIO) {
		ret = wire_check_ioprio(s->s.iocb.aio_reqprio, f->rt_ok);
		if (ret)
			return ret; /* A30.1 */
	}
	ret = check_rw_flags(s, f);
	if (ret)
		return ret;
	if (s->write ? !f->writable : !f->readable)
		return -EBADF; /* A30.3 */
	if (s->write ? !f->write_iter : !f->read_iter)
		return -EINVAL; /* A30.4: PWRITE to an eventfd */
	ret = check_buffer(s);
	if (ret)
		return ret;
	if (wire_offset_bad(s))
		return -EINVAL; /* A30.6 */
	return 0;
}

int wire_check_fsync(const struct wire_sub *s, const struct wire_file *f)
{
	const struct iocb *cb = &s->s.iocb;

	if (cb->aio_buf || cb->aio_offset || cb->aio_nbytes || cb->aio_rw_flags)
		return -EINVAL;
	return f->fsync ? 0 : -EINVAL; /* A35 */
}

int wire_check_poll(const struct wire_sub *s)
{
	const struct iocb *cb = &s->s.iocb;

	if (cb->aio_buf > 0xffff)
		return -EINVAL;
	if (cb->aio_offset || cb->aio_nbytes || cb->aio_rw_flags)
		return -EINVAL; /* A40 */
	return 0;
}

int wire_decode_setup(const void *rec, uint32_t len, uint32_t *nr_events,
		      struct wire_ring_setup *ring)
{
	struct evfdfs_wire_setup_ring r;

	memset(ring, 0, sizeof(*ring));
	if (len != sizeof(r.s) && len != sizeof(r))
		return -EINVAL;
	memset(&r, 0, sizeof(r));
	memcpy(&r, rec, len);
	if (len == sizeof(r.s) ? r.s.flags != 0
			       : r.s.flags != EVFDFS_WIRE_SETUP_RING)
		return -EINVAL;
	*nr_events = r.s.nr_events;
	if (len == sizeof(r)) {
		ring->on = true;
		ring->memfd = r.memfd;
		ring->id = r.id;
		ring->addr = r.addr;
	}
	return 0;
}

int wire_decode_destroy(const void *rec, uint32_t len)
{
	struct evfdfs_wire_destroy d;

	if (len != sizeof(d))
		return -EINVAL;
	memcpy(&d, rec, sizeof(d));
	return d.flags || d.pad ? -EINVAL : 0;
}

uint32_t wire_ring_index(uint32_t raw, uint32_t nr)
{
	return nr ? raw % nr : 0;
}

uint32_t wire_ring_waiting(uint32_t tail, uint32_t head_raw, uint32_t nr)
{
	uint32_t head = wire_ring_index(head_raw, nr);

	if (!nr)
		return 0;
	tail %= nr;
	return tail >= head ? tail - head : nr - head + tail;
}

bool wire_ring_full(uint32_t inflight, uint32_t waiting, uint32_t nr)
{
	return nr < 2 || (uint64_t)inflight + waiting >= nr - 1u;
}

int wire_setup_check(uint32_t nr_events, unsigned int ncpus)
{
	uint32_t n;

	if (nr_events == 0)
		return -EINVAL; /* A10 */
	n = nr_events > 4 * ncpus ? nr_events : 4 * ncpus;
	n *= 2; /* may wrap, as in ioctx_alloc() */
	if (n > 0x10000000u / sizeof(struct io_event))
		return -EINVAL; /* A11 */
	if (n == 0)
		return -EAGAIN; /* the wrapped case of A11 */
	return 0;
}

int wire_decode_cancel(const void *rec, uint32_t len, uint64_t *obj)
{
	struct evfdfs_wire_cancel c;

	if (len != sizeof(c))
		return -EINVAL;
	memcpy(&c, rec, sizeof(c));
	if (c.aio_key || c.flags)
		return -EINVAL; /* A75.2 */
	*obj = c.obj;
	return 0;
}

void wire_event_pack(void *dst, const struct io_event *ev, const void *data,
		     uint32_t datalen)
{
	struct evfdfs_wire_event rec;
	uint32_t size = wire_event_size(datalen);
	unsigned char *p = dst;

	memset(&rec, 0, sizeof(rec));
	rec.hdr.version = EVFDFS_WIRE_VERSION;
	rec.hdr.type = EVFDFS_WIRE_EVENT;
	rec.hdr.len = size;
	rec.datalen = datalen;
	rec.ev = *ev;
	memcpy(p, &rec, sizeof(rec));
	if (datalen)
		memcpy(p + sizeof(rec), data, datalen);
	memset(p + sizeof(rec) + datalen, 0, size - sizeof(rec) - datalen);
}
