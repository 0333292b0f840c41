// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The client side of the wire format (include/evfdfs/wire.h): building
 * SETUP, SUBMIT and CANCEL records and parsing EVENT records.  Pure: no
 * system call, no allocation, so tests/unit/wire_encode.c drives it alone.
 *
 * What a SUBMIT record carries after its fixed part is decided here, by
 * one rule the daemon applies in reverse to check the record's length:
 *
 *   PREADV/PWRITEV  nsegs = aio_nbytes (the iovec count) when it is at
 *                   most 1024 and the array could be read; else 0 and
 *                   EVFDFS_WIRE_SUB_IOV_FAULT when it could not be read.
 *   PWRITE          data = min(aio_nbytes, EVFDFS_WIRE_MAX_DATA) bytes.
 *   PWRITEV         data = min(sum of the segment lengths, each cut as
 *                   the kernel cuts them at MAX_RW_COUNT,
 *                   EVFDFS_WIRE_MAX_DATA) bytes.
 *   no data         when the request fails at submission whatever its
 *                   data: negative aio_nbytes, a negative segment length,
 *                   EVFDFS_WIRE_SUB_BUF_RANGE, EVFDFS_WIRE_SUB_IOV_FAULT;
 *                   or when the buffer proves unreadable
 *                   (EVFDFS_WIRE_SUB_BUF_FAULT).
 *
 * EVFDFS_WIRE_SUB_BUF_RANGE follows the kernel's access_ok() on the ranges
 * import_ubuf()/import_iovec() check (A30.5): [aio_buf, aio_buf + len)
 * with len cut at MAX_RW_COUNT, must end at or below the top of user
 * space; for vectored requests every segment, after the negative-length
 * check of all of them (the kernel's EINVAL comes first).
 */
#include <errno.h>
#include <string.h>

#include "libevfdfs_i.h"

_Static_assert(EVFDFS_IO_MAX_BYTES == EVFDFS_WIRE_MAX_DATA,
	       "evfdfs.h's EVFDFS_IO_MAX_BYTES follows the wire format");

static bool range_bad(uint64_t addr, uint64_t len, uint64_t user_max)
{
	if (len > KERNEL_MAX_RW)
		len = KERNEL_MAX_RW;
	return addr + len < addr || addr + len > user_max;
}

static void plan_vector(const struct iocb *cb, const struct iovec *iov,
			uint64_t user_max, struct submit_plan *p)
{
	uint64_t total = 0;
	unsigned int i, n;

	p->vectored = true;
	if (cb->aio_nbytes > KERNEL_MAX_IOV)
		return; /* EINVAL at submission: no segments, no data */
	n = (unsigned int)cb->aio_nbytes;
	if (n && !iov) {
		p->flags |= EVFDFS_WIRE_SUB_IOV_FAULT;
		return;
	}
	p->nsegs = n;
	for (i = 0; i < n; i++)
		if ((int64_t)iov[i].iov_len < 0)
			return; /* EINVAL at submission */
	for (i = 0; i < n; i++) {
		uint64_t len = iov[i].iov_len;

		if (len > KERNEL_MAX_RW - total)
			len = KERNEL_MAX_RW - total;
		if (range_bad((uintptr_t)iov[i].iov_base, len, user_max)) {
			p->flags |= EVFDFS_WIRE_SUB_BUF_RANGE;
			return;
		}
		total += len;
	}
	if (p->is_write)
		p->datalen = total < EVFDFS_WIRE_MAX_DATA
				     ? (uint32_t)total
				     : (uint32_t)EVFDFS_WIRE_MAX_DATA;
}

void codec_plan(const struct iocb *cb, const struct iovec *iov,
		uint64_t user_max, struct submit_plan *p)
{
	memset(p, 0, sizeof(*p));
	switch (cb->aio_lio_opcode) {
	case IOCB_CMD_PREAD:
	case IOCB_CMD_PREADV:
		p->is_read = true;
		break;
	case IOCB_CMD_PWRITE:
	case IOCB_CMD_PWRITEV:
		p->is_write = true;
		break;
	default:
		return; /* the iocb alone */
	}
	if ((int64_t)cb->aio_nbytes < 0)
		return; /* EINVAL at submission (table 2.5 step 3) */
	if (cb->aio_lio_opcode == IOCB_CMD_PREADV ||
	    cb->aio_lio_opcode == IOCB_CMD_PWRITEV) {
		plan_vector(cb, iov, user_max, p);
		return;
	}
	if (range_bad(cb->aio_buf, cb->aio_nbytes, user_max)) {
		p->flags |= EVFDFS_WIRE_SUB_BUF_RANGE;
		return;
	}
	if (p->is_write)
		p->datalen = cb->aio_nbytes < EVFDFS_WIRE_MAX_DATA
				     ? (uint32_t)cb->aio_nbytes
				     : (uint32_t)EVFDFS_WIRE_MAX_DATA;
}

uint32_t codec_submit_len(uint32_t nsegs, uint32_t datalen)
{
	return EVFDFS_WIRE_ALIGN((uint32_t)sizeof(struct evfdfs_wire_submit) +
				 nsegs * (uint32_t)sizeof(__u64) + datalen);
}

void *codec_submit_data(void *rec, uint32_t nsegs)
{
	return (char *)rec + sizeof(struct evfdfs_wire_submit) +
	       nsegs * sizeof(__u64);
}

void codec_submit_fill(void *rec, const struct iocb *cb, uint64_t obj,
		       uint32_t flags, const struct iovec *iov, uint32_t nsegs,
		       uint32_t datalen)
{
	struct evfdfs_wire_submit *s = rec;
	uint32_t len = codec_submit_len(nsegs, datalen);
	char *data = codec_submit_data(rec, nsegs);
	__u64 seg;
	uint32_t i;

	memset(s, 0, sizeof(*s));
	s->hdr.version = EVFDFS_WIRE_VERSION;
	s->hdr.type = EVFDFS_WIRE_SUBMIT;
	s->hdr.len = len;
	s->flags = flags;
	s->nsegs = nsegs;
	s->obj = obj;
	s->iocb = *cb;
	for (i = 0; i < nsegs; i++) {
		seg = iov[i].iov_len;
		memcpy((char *)(s + 1) + i * sizeof(seg), &seg, sizeof(seg));
	}
	memset(data + datalen, 0,
	       len - (uint32_t)(data - (char *)rec) - datalen);
}

void codec_setup_fill(struct evfdfs_wire_setup_ring *r, uint32_t nr_events,
		      int memfd, uint32_t id, uint64_t addr)
{
	memset(r, 0, sizeof(*r));
	r->s.hdr.version = EVFDFS_WIRE_VERSION;
	r->s.hdr.type = EVFDFS_WIRE_SETUP;
	r->s.hdr.len = sizeof(*r);
	r->s.nr_events = nr_events;
	r->s.flags = EVFDFS_WIRE_SETUP_RING;
	r->memfd = (uint32_t)memfd;
	r->id = id;
	r->addr = addr;
}

void codec_destroy_fill(struct evfdfs_wire_destroy *d)
{
	memset(d, 0, sizeof(*d));
	d->hdr.version = EVFDFS_WIRE_VERSION;
	d->hdr.type = EVFDFS_WIRE_DESTROY;
	d->hdr.len = sizeof(*d);
}

void codec_cancel_fill(struct evfdfs_wire_cancel *c, uint32_t aio_key,
		       uint64_t obj)
{
	memset(c, 0, sizeof(*c));
	c->hdr.version = EVFDFS_WIRE_VERSION;
	c->hdr.type = EVFDFS_WIRE_CANCEL;
	c->hdr.len = sizeof(*c);
	c->aio_key = aio_key;
	c->obj = obj;
}

int codec_event_parse(const void *buf, size_t len, struct io_event *ev,
		      const void **data, uint32_t *datalen)
{
	struct evfdfs_wire_event e;

	if (len < sizeof(e))
		return -EINVAL;
	memcpy(&e, buf, sizeof(e));
	if (e.hdr.version != EVFDFS_WIRE_VERSION ||
	    e.hdr.type != EVFDFS_WIRE_EVENT || e.hdr.len > len ||
	    e.hdr.len % 8 || e.datalen > e.hdr.len - sizeof(e) ||
	    e.hdr.len != EVFDFS_WIRE_ALIGN(sizeof(e) + e.datalen))
		return -EINVAL;
	*ev = e.ev;
	*data = (const char *)buf + sizeof(e);
	*datalen = e.datalen;
	return (int)e.hdr.len;
}

size_t codec_records_in(const void *buf, size_t bytes)
{
	size_t off = 0, n = 0;
	struct evfdfs_wire_hdr h;

	while (bytes - off >= sizeof(h)) {
		memcpy(&h, (const char *)buf + off, sizeof(h));
		if (h.len < sizeof(h) || h.len > bytes - off)
			break;
		off += h.len;
		n++;
	}
	return n;
}
