// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * evfdfs_io_submit(): libaio's struct iocb, in the caller's memory, into
 * SUBMIT records written to the control file.
 *
 * The kernel checks each iocb in the order of table 2.5; the library takes
 * the steps that only the caller's process can take, and the daemon the
 * rest:
 *
 *   1  reading iocbpp[i] and the iocb faults    library: EFAULT, nothing sent
 *   2  aio_reserved2, 3 negative aio_nbytes     daemon (EINVAL)
 *   4  no slot left in the ring (A80, A81)      daemon: EAGAIN
 *   5, 6  aio_fildes, aio_resfd                 daemon, in our fd table
 *   7  aio_key not writable                     library probes: SUB_KEY_FAULT
 *   8, 9  opcode, A30                           daemon; the library probes
 *                                               ranges and the iovec array
 *                                               (SUB_BUF_RANGE, SUB_IOV_FAULT)
 *                                               and copies a write's data
 *                                               (SUB_BUF_FAULT if it cannot)
 *
 * Capacity is the ring's, and the daemon's to check: it sees the events
 * waiting in the ring (the caller may reap them itself, A82) and the
 * requests in flight.
 *
 * Records are sent in batches (one write(2), at most one FUSE request of
 * EVFDFS_WIRE_MAX_RECORD bytes, from a page-aligned buffer so that the
 * kernel does not split it).  The daemon accepts records in order and
 * stops at the first it rejects: the write returns the bytes accepted, or
 * fails with the errno of its first record.  After a short count the rest
 * is written again, so that the rejected record comes first and its errno
 * is known (or, things having changed, it is accepted; either outcome is
 * one the kernel could give).
 *
 * aio_key (A24): the kernel writes 0 into aio_key of every iocb that gets
 * past step 6, even if it then fails.  The library writes it for every
 * accepted iocb, and for the rejected one when its errno shows a step
 * after 6: EFAULT (steps 7 and 9: with SUB_KEY_FAULT there is nothing to
 * write), EOPNOTSUPP and EPERM (step 9); EBADF and EINVAL when the
 * library's own look at aio_fildes and aio_resfd shows that steps 5 and 6
 * pass (then the EBADF is A30.3's access mode, the EINVAL step 8 or 9).
 * EAGAIN and every other errno leave the key alone.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "libevfdfs_i.h"

/* iocbs read from the caller per round of system calls. */
#define CHUNK 32u

/* What is remembered of each record in the batch until its verdict. */
struct rec_info {
	struct iocb cb; /* as read */
	uint64_t obj;
	uint32_t flags;
};

struct batch {
	char *buf;
	size_t len, cap;
	struct rec_info *info;
	unsigned int n, info_cap;
	size_t wmax; /* the longest write(2) that arrives whole; 0: not known */
};

/*
 * The kernel cuts every write(2) of a FUSE file at the writer's
 * RLIMIT_FSIZE (generic_write_checks; a stream writes at position 0), and
 * a cut record is a malformed one: records are sized and batched to fit
 * under it.  Read once per submit call.
 */
static size_t write_max(struct batch *b)
{
	struct rlimit rl;

	if (!b->wmax) {
		b->wmax = EVFDFS_WIRE_MAX_RECORD;
		if (getrlimit(RLIMIT_FSIZE, &rl) == 0 &&
		    rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < b->wmax)
			b->wmax =
				rl.rlim_cur > 8 ? rl.rlim_cur & ~(rlim_t)7 : 8;
	}
	return b->wmax;
}

static int batch_room(struct batch *b, size_t more)
{
	size_t cap;
	void *p;

	if (b->n == b->info_cap) {
		unsigned int c = b->info_cap ? b->info_cap * 2 : 8;
		struct rec_info *ni = realloc(b->info, c * sizeof(*ni));

		if (!ni)
			return -ENOMEM;
		b->info = ni;
		b->info_cap = c;
	}
	if (b->len + more <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 4096;
	while (cap < b->len + more)
		cap *= 2;
	if (posix_memalign(&p, 4096, cap))
		return -ENOMEM;
	if (b->len)
		memcpy(p, b->buf, b->len);
	free(b->buf);
	b->buf = p;
	b->cap = cap;
	return 0;
}

/* Is @fd open in this process, and not O_PATH (table 2.5 steps 5, 6)? */
static bool fd_usable(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl >= 0 && !(fl & O_PATH);
}

/* Would the daemon take @fd as a RESFD: a kernel eventfd or a counter of
 * this mount? */
static bool resfd_ok(const struct evfdfs_io_ctx *ctx, int fd)
{
	char path[64], link[64];
	struct stat st;
	ssize_t n;
	char v[4];

	if (!fd_usable(fd))
		return false;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n > 0) {
		link[n] = '\0';
		if (strcmp(link, "anon_inode:[eventfd]") == 0)
			return true;
	}
	return fstat(fd, &st) == 0 && st.st_dev == ctx->dev &&
	       S_ISREG(st.st_mode) &&
	       fgetxattr(fd, EVFDFS_XATTR_SEMAPHORE, v, sizeof(v)) >= 0;
}

/* Did the iocb rejected with @err get past step 6 (see the file comment)? */
static bool past_step6(const struct evfdfs_io_ctx *ctx, const struct iocb *cb,
		       uint32_t flags, int err)
{
	bool resfd = cb->aio_flags & IOCB_FLAG_RESFD;

	if (flags & EVFDFS_WIRE_SUB_KEY_FAULT)
		return false;
	if (cb->aio_reserved2 || (int64_t)cb->aio_nbytes < 0)
		return false;
	switch (err) {
	case EFAULT:
	case EOPNOTSUPP:
	case EPERM:
		return true;
	case EBADF:
		return fd_usable((int)cb->aio_fildes) &&
		       (!resfd || fd_usable((int)cb->aio_resfd));
	case EINVAL:
		return fd_usable((int)cb->aio_fildes) &&
		       (!resfd || resfd_ok(ctx, (int)cb->aio_resfd));
	default:
		return false;
	}
}

/* Zero aio_key of records [from, to) whose key is not 0 already. */
static void zero_keys(struct batch *b, unsigned int from, unsigned int to)
{
	uint64_t addrs[CHUNK];
	unsigned int i, n = 0;

	for (i = from; i < to; i++) {
		if (!b->info[i].cb.aio_key ||
		    (b->info[i].flags & EVFDFS_WIRE_SUB_KEY_FAULT))
			continue;
		addrs[n++] = b->info[i].obj + offsetof(struct iocb, aio_key);
		if (n == CHUNK) {
			umem_zero_words(addrs, n);
			n = 0;
		}
	}
	umem_zero_words(addrs, n);
}

/*
 * Write the batch.  Adds the records accepted to *@done; returns 0 when all
 * were, else -errno of the first rejected one (the batch is then spent).
 */
static int flush(struct evfdfs_io_ctx *ctx, struct batch *b, long *done)
{
	unsigned int k = 0, m;
	size_t off = 0;
	ssize_t n;
	int err = 0;

	while (k < b->n) {
		n = write(ctx->fd, b->buf + off, b->len - off);
		if (n < 0) {
			err = errno;
			ctx_note_loss(ctx, err);
			break;
		}
		m = (unsigned int)codec_records_in(b->buf + off, (size_t)n);
		if (m == 0) {
			err = EIO; /* a daemon that breaks the protocol */
			break;
		}
		zero_keys(b, k, k + m);
		*done += m;
		k += m;
		off += (size_t)n;
	}
	if (k < b->n && err == EXDEV &&
	    (b->info[k].flags & EVFDFS_WIRE_SUB_DIRECT)) {
		/* The daemon cannot reach our memory: inline from now on,
		 * and this record and the rest are sent again. */
		__atomic_store_n(&ctx->inline_only, 1, __ATOMIC_RELAXED);
	} else if (k < b->n &&
		   past_step6(ctx, &b->info[k].cb, b->info[k].flags, err)) {
		zero_keys(b, k, k + 1);
	}
	b->n = 0;
	b->len = 0;
	return -err;
}

/* Read the caller's iovec array of a vectored iocb; NULL if unreadable. */
static struct iovec *read_iovs(const struct iocb *cb, int *err)
{
	size_t n = (size_t)cb->aio_nbytes;
	struct iovec *iov;

	*err = 0;
	if (cb->aio_lio_opcode != IOCB_CMD_PREADV &&
	    cb->aio_lio_opcode != IOCB_CMD_PWRITEV)
		return NULL;
	if (n == 0 || n > KERNEL_MAX_IOV)
		return NULL;
	iov = malloc(n * sizeof(*iov));
	if (!iov) {
		*err = -ENOMEM;
		return NULL;
	}
	if (umem_read(iov, cb->aio_buf, n * sizeof(*iov))) {
		free(iov);
		return NULL;
	}
	return iov;
}

/*
 * Transfers longer than this go as EVFDFS_WIRE_SUB_DIRECT records: the
 * daemon moves the data between the file and our memory, whole.  Shorter
 * ones travel inline, which costs less than the daemon's process_vm_*
 * calls (32 reads of 4 KiB: 0.15 ms inline, 0.4 ms direct), unless the
 * buffer of a write cannot be read whole here.
 */
#define DIRECT_MIN (64u << 10)

/* The bytes a read or write names: aio_nbytes, or its segments' sum. */
static uint64_t rw_total(const struct iocb *cb, const struct iovec *iov)
{
	uint64_t total = 0;
	unsigned int i;

	if (cb->aio_lio_opcode != IOCB_CMD_PREADV &&
	    cb->aio_lio_opcode != IOCB_CMD_PWRITEV)
		return cb->aio_nbytes;
	if (!iov)
		return 0;
	for (i = 0; i < cb->aio_nbytes; i++)
		total += iov[i].iov_len;
	return total;
}

/*
 * Add the iocb @cb, at @obj in the caller's memory, to the batch, writing
 * the batch first if the record does not fit.  Returns 0, or -errno to
 * stop: of a local step (EAGAIN, ENOMEM) or of the flush.
 */
static int add_iocb(struct evfdfs_io_ctx *ctx, struct batch *b,
		    const struct iocb *cb, uint64_t obj, uint32_t flags,
		    long *done)
{
	bool direct_ok;
	struct submit_plan p;
	struct rec_info *ri;
	struct iovec *iov;
	uint32_t len;
	size_t got;
	char *rec;
	int ret;

	iov = read_iovs(cb, &ret);
	if (ret)
		return ret;
	codec_plan(cb, iov, umem_user_max(), &p);
	flags |= p.flags;
	direct_ok = (p.is_read || p.is_write) &&
		    !(p.flags & (EVFDFS_WIRE_SUB_BUF_RANGE |
				 EVFDFS_WIRE_SUB_IOV_FAULT)) &&
		    (int64_t)cb->aio_nbytes >= 0 &&
		    !__atomic_load_n(&ctx->inline_only, __ATOMIC_RELAXED);
	if (direct_ok && rw_total(cb, iov) > DIRECT_MIN) {
		flags |= EVFDFS_WIRE_SUB_DIRECT; /* the daemon moves the data */
		p.datalen = 0;
	}
	len = codec_submit_len(p.nsegs, p.datalen);
	if (p.datalen && len > write_max(b)) {
		/* A short write, cut to fit (EVFDFS_WIRE_SUB_DATA_CUT). */
		uint32_t head = codec_submit_len(p.nsegs, 0);

		if (write_max(b) >= head + 8) {
			p.datalen = (uint32_t)(write_max(b) - head) & ~7u;
			flags |= EVFDFS_WIRE_SUB_DATA_CUT;
			len = head + p.datalen;
		}
	}
	if (b->len + len > write_max(b) && b->n) {
		ret = flush(ctx, b, done);
		if (ret)
			goto err_free_iov;
	}
	ret = batch_room(b, len);
	if (ret)
		goto err_free_iov;
	rec = b->buf + b->len;
	if (p.datalen) {
		void *dst = codec_submit_data(rec, p.nsegs);

		got = p.vectored ? umem_gather(dst, iov, p.nsegs, p.datalen)
				 : umem_read_upto(dst, cb->aio_buf, p.datalen);
		if (got < p.datalen) {
			/* Partly readable, or PROT_WRITE only: the daemon
			 * takes what the kernel's copy would. */
			flags &= ~EVFDFS_WIRE_SUB_DATA_CUT;
			flags |= direct_ok ? EVFDFS_WIRE_SUB_DIRECT
					   : EVFDFS_WIRE_SUB_BUF_FAULT;
			p.datalen = 0;
			len = codec_submit_len(p.nsegs, 0);
		}
	}
	codec_submit_fill(rec, cb, obj, flags, iov, p.nsegs, p.datalen);
	ri = &b->info[b->n];
	ri->cb = *cb;
	ri->obj = obj;
	ri->flags = flags;
	free(iov);
	b->len += len;
	b->n++;
	return 0;
err_free_iov:
	free(iov);
	return ret;
}

/* Submit @nr iocbs; adds those accepted to *@done, returns 0 or -errno. */
static int submit_body(struct evfdfs_io_ctx *ctx, long nr, struct iocb **iocbpp,
		       long *pdone)
{
	uint64_t ptrs[CHUNK], kaddr[CHUNK];
	struct iocb cbs[CHUNK];
	struct iovec rio[CHUNK];
	struct batch b = { 0 };
	long i = 0, done = 0;
	unsigned int k, n, nptr, ncb, nkey;
	uint32_t keys[CHUNK];
	int ret = 0;

	while (i < nr && !ret) {
		n = nr - i < CHUNK ? (unsigned int)(nr - i) : CHUNK;
		/* iocbpp[i..i+n) as far as readable (A22) */
		nptr = (unsigned int)(umem_read_upto(ptrs,
						     (uintptr_t)(iocbpp + i),
						     n * sizeof(ptrs[0])) /
				      sizeof(ptrs[0]));
		/* the iocbs, as far as readable (step 1) */
		for (k = 0; k < nptr; k++) {
			rio[k].iov_base = (void *)(uintptr_t)ptrs[k];
			rio[k].iov_len = sizeof(struct iocb);
		}
		ncb = (unsigned int)(umem_gather(cbs, rio, nptr,
						 nptr * sizeof(cbs[0])) /
				     sizeof(cbs[0]));
		/* aio_key writable?  Write back what was read (step 7). */
		for (k = 0; k < ncb; k++) {
			keys[k] = cbs[k].aio_key;
			kaddr[k] = ptrs[k] + offsetof(struct iocb, aio_key);
		}
		nkey = umem_words_writable(kaddr, keys, ncb);
		for (k = 0; k < ncb && !ret; k++, i++) {
			uint32_t flags = 0;

			if (k >= nkey &&
			    !umem_word_writable(
				    ptrs[k] + offsetof(struct iocb, aio_key),
				    keys[k]))
				flags |= EVFDFS_WIRE_SUB_KEY_FAULT;
			ret = add_iocb(ctx, &b, &cbs[k], ptrs[k], flags, &done);
		}
		if (!ret && ncb < n)
			ret = -EFAULT; /* iocbpp[i] or *iocbpp[i] unreadable */
	}
	if (b.n) {
		int fret = flush(ctx, &b, &done);

		/* A failure in the batch comes before a local one after it. */
		if (fret)
			ret = fret;
	}
	free(b.buf);
	free(b.info);
	*pdone += done;
	return ret;
}

EXPORT int evfdfs_io_submit(struct evfdfs_io_ctx *h, long nr,
			    struct iocb **iocbpp)
{
	KEEP_ERRNO;
	struct evfdfs_io_ctx *ctx;
	long done = 0;
	int ret;

	if (nr < 0)
		return -EINVAL; /* before the context (A20) */
	ctx = ctx_get(h);
	if (!ctx)
		return -EINVAL;
	ret = submit_body(ctx, nr, iocbpp, &done);
	if (ret == -EXDEV && done < nr) /* inline now: the rest again */
		ret = submit_body(ctx, nr - done, iocbpp + done, &done);
	ctx_put(ctx);
	return done > 0 ? (int)done : ret;
}
