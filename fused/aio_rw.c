// SPDX-License-Identifier: GPL-2.0-only
/*
 * The daemon's side of a kernel-routed read or write: the memory its
 * data goes through and the kernel iocb that names it (areq_build_rw()).
 *
 *   inline     the record carries a write's data; a read's comes back in
 *              its event (at most EVFDFS_WIRE_MAX_DATA either way)
 *   mirror     EVFDFS_WIRE_SUB_DIRECT for a file that is not run whole:
 *              a write's data is taken from the submitter's memory at
 *              submit, a read's put back at completion (aio_xfer.c)
 *   whole      EVFDFS_WIRE_SUB_DIRECT for a regular file or block device:
 *              one chunk buffer, the transfer run by a worker (xfer_run())
 *   more       a mirror of a stream or character device longer than its
 *              buffer: the buffer is the first chunk, and the engine goes
 *              on with the next ones (areq_next_chunk(), aio_wait.c)
 *
 * and the submitter's RLIMIT_FSIZE applied to writes (fsize_cut()).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "aiod_i.h"

#define SUB_DATA_FAULTS                                          \
	(EVFDFS_WIRE_SUB_BUF_FAULT | EVFDFS_WIRE_SUB_BUF_RANGE | \
	 EVFDFS_WIRE_SUB_IOV_FAULT)

static bool op_is_read(uint16_t op)
{
	return op == IOCB_CMD_PREAD || op == IOCB_CMD_PREADV;
}

#define PAGE 4096u
#define PAGE_UP(n) (((n) + PAGE - 1) & ~(uint64_t)(PAGE - 1))

/*
 * Daemon memory for @want bytes of data.  O_DIRECT cares where a buffer
 * sits, so for an O_DIRECT file the data starts at the caller's aio_buf
 * modulo the page size (a misaligned caller gets the kernel's EINVAL, an
 * aligned one works), and vectored segments each start a page (the record
 * carries their lengths, not their addresses: a misaligned segment is not
 * reproduced).  Anything else is one contiguous block.
 */
static int alloc_data(struct areq *a, const struct wire_sub *s, uint64_t want)
{
	bool direct = a->file.flags & O_DIRECT;
	uint64_t size = want, off = 0, len;
	uint32_t i;
	void *mem;

	if (direct && !s->vectored)
		size = want + PAGE;
	else if (direct)
		for (i = 0, size = 0; i < s->s.nsegs && off < want; i++) {
			len = wire_seg(s, i);
			len = len < want - off ? len : want - off;
			size += PAGE_UP(len);
			off += len;
		}
	/*
	 * Only O_DIRECT needs the alignment.  glibc's posix_memalign() of a
	 * block above the mmap threshold maps and unmaps it every time (its
	 * dynamic threshold never catches up with the alignment slack),
	 * where malloc() raises the threshold after the first such block and
	 * reuses the heap: a 256 KiB PWRITE cost the loop an mmap, 66 page
	 * faults and a munmap with a TLB shootdown, about 1.7 ms of its time
	 * against 0.14 ms (bench/, BENCHMARKS.md).
	 */
	if (!direct)
		mem = malloc(size ? size : 1);
	else if (posix_memalign(&mem, PAGE, size ? size : 1))
		mem = NULL;
	if (!mem)
		return -ENOMEM;
	a->mem = mem;
	a->memsize = size;
	a->buf = a->mem;
	a->buflen = want;
	a->spread = direct && s->vectored;
	if (direct && !s->vectored)
		a->buf += s->s.iocb.aio_buf % PAGE;
	auser_buf_charge(a->ctx, size);
	return 0;
}

/*
 * A direct write's data, taken from the submitter's memory into a->buf
 * (each O_DIRECT segment on its own pages).  Returns the bytes taken:
 * fewer than @want at the first page that faults, 0 if none could be.
 */
static uint64_t pull_mirror(struct areq *a, const struct wire_sub *s,
			    uint64_t want)
{
	uint64_t off = 0, pos = 0, len;
	ssize_t got;
	uint32_t i;

	if (!a->spread) {
		got = xfer_pull(a, a->buf, 0, want);
		return got > 0 ? (uint64_t)got : 0;
	}
	for (i = 0; i < s->s.nsegs && off < want; i++) {
		len = wire_seg(s, i);
		len = len < want - off ? len : want - off;
		got = xfer_pull(a, a->buf + pos, off, len);
		if (got > 0)
			off += (uint64_t)got;
		if (got < (ssize_t)len)
			break;
		pos += PAGE_UP(len);
	}
	return off;
}

/*
 * Mirror a read/write onto daemon memory: a->buf for the data (what the
 * record carries for a write; room for a read), a->iov for the caller's
 * segment lengths, a kernel address or NULL where the caller's memory
 * faults.  The offset is forced negative when the caller's own length
 * would overflow it, so the kernel fails it at its step (A30.6) whatever
 * the daemon's (clamped) length is.
 */
static int build_rw(struct aiod *ad, struct areq *a, const struct wire_sub *s)
{
	const struct iocb *ucb = &s->s.iocb;
	struct iocb *k = &a->kiocb;
	bool fault = s->s.flags & EVFDFS_WIRE_SUB_BUF_FAULT;
	bool range = s->s.flags & EVFDFS_WIRE_SUB_BUF_RANGE;
	uint64_t want, off = 0, pos = 0, len;
	const unsigned char *src = s->data;
	uint32_t i;
	int ret;

	if (s->write && s->direct)
		want = wire_rw_len(s) < EVFDFS_WIRE_MAX_DATA
			       ? wire_rw_len(s)
			       : EVFDFS_WIRE_MAX_DATA;
	else if (s->write)
		want = s->datalen;
	else
		want = s->total < EVFDFS_WIRE_MAX_DATA ? s->total
						       : EVFDFS_WIRE_MAX_DATA;
	/* O_DIRECT moves whole blocks: a length cut at the buffer is cut at
	 * a page (EVFDFS_WIRE_MAX_DATA is not one: it was EINVAL). */
	if ((a->file.flags & O_DIRECT) && (!s->write || s->direct) &&
	    want == EVFDFS_WIRE_MAX_DATA && wire_rw_len(s) > want)
		want = XFER_CHUNK;
	if (!(s->s.flags & SUB_DATA_FAULTS) && !s->bad_seg && want) {
		ret = alloc_data(a, s, want);
		if (ret)
			return ret;
		if (s->write && s->direct) {
			want = pull_mirror(a, s, want);
			a->buflen = want;
			if (!want) { /* nothing readable: res -EFAULT */
				auser_buf_release(ad, a->ctx->user, a->memsize);
				free(a->mem);
				a->mem = a->buf = NULL;
				a->memsize = 0;
				fault = true;
			}
		} else if (s->write && !a->spread) {
			memcpy(a->buf, s->data, want);
		}
	}
	if (!s->vectored) {
		if (range || fault) {
			k->aio_buf = range ? AIOD_KADDR : 0;
			k->aio_nbytes = wire_rw_len(s);
		} else {
			k->aio_buf = (uintptr_t)a->buf;
			k->aio_nbytes = want;
		}
	} else if (s->s.flags & EVFDFS_WIRE_SUB_IOV_FAULT) {
		k->aio_buf = AIOD_KADDR; /* the iovec array itself */
		k->aio_nbytes = ucb->aio_nbytes;
	} else if (!s->have_segs) {
		k->aio_buf = (uintptr_t)k; /* count > 1024: EINVAL first */
		k->aio_nbytes = ucb->aio_nbytes;
	} else {
		a->niov = s->s.nsegs;
		a->iov = calloc(a->niov ? a->niov : 1, sizeof(*a->iov));
		if (!a->iov)
			return -ENOMEM;
		for (i = 0; i < a->niov; i++) {
			len = wire_seg(s, i);
			if (s->bad_seg || range || fault) {
				a->iov[i].iov_base =
					range ? (void *)(uintptr_t)AIOD_KADDR
					      : NULL;
				a->iov[i].iov_len = len;
				continue;
			}
			if (len > want - off)
				len = want - off;
			a->iov[i].iov_base = a->buf ? a->buf + pos : NULL;
			a->iov[i].iov_len = len;
			if (a->spread && s->write && !s->direct)
				memcpy(a->buf + pos, src + off, len);
			off += len;
			pos += a->spread ? PAGE_UP(len) : len;
		}
		k->aio_buf = (uintptr_t)a->iov;
		k->aio_nbytes = a->niov;
	}
	k->aio_offset = wire_offset_bad(s) ? -1 : ucb->aio_offset;
	return 0;
}

/*
 * Can a direct request be run whole by a worker (aio_xfer.c)?  Regular
 * files and block devices without O_DIRECT (whose alignment rules a
 * bounce buffer would not keep), when the kernel would not refuse the
 * buffer or the vector at submit anyway.  Any length: direct requests
 * are over 64 KiB (the library's DIRECT_MIN), and a mirrored one has its
 * data moved by the loop (process_vm_readv at submit, process_vm_writev
 * at completion): with an AIO writer of 256 KiB PWRITEs that was 14 % of
 * the loop's time, which every counter request waited behind.  A whole
 * one is submitted and waited for alone by a worker, which costs a batch
 * of small direct reads more (32 of 4 KiB took 0.7 ms whole, 0.15 ms
 * mirrored, when those were direct), but small ones are inline now.
 */
static bool whole_ok(const struct areq *a, const struct wire_sub *s)
{
	return s->direct && a->file.kind == AF_REG &&
	       !(a->file.flags & O_DIRECT) && !(s->s.flags & SUB_DATA_FAULTS) &&
	       !s->bad_seg && (!s->vectored || s->have_segs) &&
	       !wire_offset_bad(s);
}

/* The kernel iocb of a whole transfer: one chunk buffer, one segment. */
static int build_whole(struct areq *a, const struct wire_sub *s)
{
	struct iocb *k = &a->kiocb;
	uint64_t chunk;
	int ret;

	a->whole = true;
	a->xlen = wire_rw_len(s);
	chunk = a->xlen < XFER_CHUNK ? a->xlen : XFER_CHUNK;
	ret = alloc_data(a, s, chunk);
	if (ret)
		return ret;
	if (s->vectored) {
		a->niov = 1;
		a->iov = calloc(1, sizeof(*a->iov));
		if (!a->iov)
			return -ENOMEM;
		a->iov[0].iov_base = a->buf;
		a->iov[0].iov_len = chunk;
		k->aio_buf = (uintptr_t)a->iov;
		k->aio_nbytes = 1;
	} else {
		k->aio_buf = (uintptr_t)a->buf;
		k->aio_nbytes = chunk;
	}
	k->aio_offset = s->s.iocb.aio_offset;
	return 0;
}

/*
 * A file whose transfer may go on past one buffer: a pipe, FIFO or stream
 * socket (a datagram socket's message would be cut in two), or a
 * character device.
 */
static bool file_goes_on(const struct afile *f)
{
	int type;
	socklen_t len = sizeof(type);

	if (f->kind == AF_CHR)
		return true;
	if (f->kind != AF_STREAM)
		return false;
	if (getsockopt(f->fd, SOL_SOCKET, SO_TYPE, &type, &len))
		return errno == ENOTSOCK; /* a pipe or FIFO */
	return type == SOCK_STREAM;
}

/*
 * Does @f fill any length asked of it, whatever it was asked before: the
 * memory devices /dev/zero, /dev/full, /dev/random and /dev/urandom
 * (drivers/char/mem.c, random.c; not /dev/kmsg, their neighbour, which
 * reads one record).  Under RWF_NOWAIT /dev/zero stops short whenever the
 * scheduler wants the CPU back (read_iter_zero() yields once a page), so
 * for them a short chunk is no end of the data.
 */
static bool file_fills(const struct afile *f)
{
	struct stat st;
	unsigned int mi;

	if (f->kind != AF_CHR || fstat(f->fd, &st) || !S_ISCHR(st.st_mode) ||
	    major(st.st_rdev) != 1)
		return false;
	mi = minor(st.st_rdev);
	return mi == 5 || mi == 7 || mi == 8 || mi == 9;
}

/*
 * Does a mirrored direct request go on past its buffer (a->more)?  When
 * the caller asked for more than it holds, of a file that allows it,
 * and the kernel will not refuse the buffer, the vector or the offset at
 * submit anyway.  O_DIRECT keeps one buffer (its segments are spread on
 * pages of their own).
 */
static void more_prepare(struct areq *a, const struct wire_sub *s)
{
	bool fills;

	if (!s->direct || !a->buf || a->spread || (a->file.flags & O_DIRECT) ||
	    (s->s.flags & SUB_DATA_FAULTS) || s->bad_seg ||
	    (s->vectored && !s->have_segs) || wire_offset_bad(s) ||
	    !file_goes_on(&a->file))
		return;
	/* A memory device's read that one buffer holds goes on too: under
	 * RWF_NOWAIT its first chunk may stop short (one read of 500,000
	 * bytes of /dev/zero in 2,000 did, with two CPU hogs running). */
	fills = file_fills(&a->file);
	if (wire_rw_len(s) <= a->memsize && !(fills && !s->write))
		return;
	a->more = true;
	a->fills = fills;
	a->xlen = wire_rw_len(s);
	a->xoff = s->s.iocb.aio_offset;
}

/**
 * areq_next_chunk() - point the kernel iocb of a request that goes on
 * (a->more) at its next chunk: the submitter's bytes from a->done, at
 * most one buffer.  A write's data is pulled now, as much of it as is
 * readable (the kernel's copy stops at the first page that faults); a
 * vector becomes one segment, the buffer.  A character device's offset
 * moves on with the bytes, as one read(2) of it would; a stream's stays
 * the caller's (a socket refuses any but 0: ESPIPE).
 *
 * Returns: the bytes of the chunk, 0 when there is none (all moved, or
 * nothing more of a write's buffer is readable).
 */
uint64_t areq_next_chunk(struct areq *a)
{
	struct iocb *k = &a->kiocb;
	uint64_t n = a->xlen - a->done;
	ssize_t got;

	if (a->done >= a->xlen)
		return 0;
	if (n > a->memsize)
		n = a->memsize;
	if (a->op == IOCB_CMD_PWRITE || a->op == IOCB_CMD_PWRITEV) {
		got = xfer_pull(a, a->buf, a->done, n);
		if (got <= 0)
			return 0;
		n = (uint64_t)got;
	}
	a->buflen = n;
	if (a->iov) {
		a->iov[0].iov_base = a->buf;
		a->iov[0].iov_len = n;
		a->niov = 1;
		a->iov_skip = 0;
		k->aio_buf = (uintptr_t)a->iov;
		k->aio_nbytes = 1;
	} else {
		k->aio_buf = (uintptr_t)a->buf;
		k->aio_nbytes = n;
	}
	if (a->file.kind == AF_CHR)
		k->aio_offset = a->xoff + (int64_t)a->done;
	return n;
}

/*
 * The submitter's RLIMIT_FSIZE on a write to a regular file, as
 * generic_write_checks() applies it when the kernel runs the write at
 * submit: nothing for 0 bytes; at or past the limit the write fails
 * -EFBIG and SIGXFSZ goes to the submitter; across it, the write is cut
 * there (short).  The daemon's own limit is infinite (evfdfs.c), so only
 * the submitter's counts.  A write the kernel refuses at submit anyway
 * (bad buffer range, iovec array, offset) is left to the kernel, whose
 * checks come first.  At the limit the kernel still gets the request,
 * with no bytes, so that its own submit-time checks run in its order;
 * its result becomes -EFBIG (finish_kernel()).
 */
static void fsize_cut(struct areq *a, const struct wire_sub *s)
{
	struct iocb *k = &a->kiocb;
	uint64_t lim, pos, count = 0, room;
	struct stat st;
	uint32_t i;

	if (op_is_read(a->op) || a->file.kind != AF_REG ||
	    (s->s.flags &
	     (EVFDFS_WIRE_SUB_BUF_RANGE | EVFDFS_WIRE_SUB_IOV_FAULT)) ||
	    s->bad_seg || (s->vectored && !a->iov) || wire_offset_bad(s))
		return;
	if (fstat(a->file.fd, &st) || !S_ISREG(st.st_mode))
		return;
	if (caller_fsize(a->pid, &lim) || lim == RLIM_INFINITY)
		return;
	if (a->whole)
		count = a->xlen;
	else if (a->iov)
		for (i = 0; i < a->niov; i++)
			count += a->iov[i].iov_len;
	else
		count = k->aio_nbytes;
	if (!count)
		return;
	pos = ((a->file.flags & O_APPEND) && !(a->rwf & WIRE_RWF_NOAPPEND)) ||
			      (a->rwf & WIRE_RWF_APPEND)
		      ? (uint64_t)st.st_size
		      : (uint64_t)s->s.iocb.aio_offset;
	if (pos >= lim) {
		a->fsize_hit = true;
		room = 0;
	} else if (count > lim - pos) {
		room = lim - pos;
	} else {
		return;
	}
	if (a->whole) {
		a->xlen = room;
		return;
	}
	if (!a->iov) {
		k->aio_nbytes = room;
		return;
	}
	for (i = 0; i < a->niov; i++) {
		if (a->iov[i].iov_len > room)
			a->iov[i].iov_len = room;
		room -= a->iov[i].iov_len;
	}
}

/* The kernel iocb of a read or write, and the memory it goes through. */
int areq_build_rw(struct aiod *ad, struct areq *a, const struct wire_sub *s)
{
	int ret = whole_ok(a, s) ? build_whole(a, s) : build_rw(ad, a, s);

	if (!ret)
		fsize_cut(a, s);
	if (!ret && !a->whole)
		more_prepare(a, s);
	return ret;
}
