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
 *   4  no capacity left                         library: EAGAIN, nothing sent
 *   5, 6  aio_fildes, aio_resfd                 daemon, in our fd table
 *   7  aio_key not writable                     library probes: SUB_KEY_FAULT
 *   8, 9  opcode, A30                           daemon; the library probes
 *                                               ranges and the iovec array
 *                                               (SUB_BUF_RANGE, SUB_IOV_FAULT)
 *                                               and copies a write's data
 *                                               (SUB_BUF_FAULT if it cannot)
 *
 * Capacity is the library's: it alone knows how many completions the
 * caller has not collected yet (events read from the control file may
 * wait in the context's backlog), and a submit that would leave more than
 * nr_events of them fails with EAGAIN, as emulation.md asks.  The check
 * is skipped for an iocb that fails step 2 or 3, which come first.
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
	uint64_t seq;
	uint32_t flags;
};

/* Descriptors whose may_park() answer one call has looked up. */
#define PARK_CACHE 8u

struct batch {
	char *buf;
	size_t len, cap;
	struct rec_info *info;
	unsigned int n, info_cap;
	int pk_fd[PARK_CACHE];
	bool pk_val[PARK_CACHE];
	unsigned int pk_n;
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

/*
 * Could this transfer wait in the daemon until the context is closed?  On
 * Linux only regular files and block devices run I/O that completes by
 * itself; a stream (pipe, socket, eventfd) blocks io_submit instead, and
 * so does a counter of the mount, which is a regular file to stat(2).
 * AT_STATX_DONT_SYNC: no FUSE round trip for a file of the mount.  Asked
 * once per descriptor in one call (@b remembers): a batch of reads of one
 * file costs one statx, not one per iocb.  The answer only decides
 * whether destroy waits for the request (drain()).
 */
static bool may_park(const struct evfdfs_io_ctx *ctx, struct batch *b,
		     const struct iocb *cb)
{
	int fd = (int)cb->aio_fildes;
	struct statx stx;
	unsigned int i;
	bool v;

	switch (cb->aio_lio_opcode) {
	case IOCB_CMD_PREAD:
	case IOCB_CMD_PREADV:
	case IOCB_CMD_PWRITE:
	case IOCB_CMD_PWRITEV:
		break;
	default:
		return false;
	}
	for (i = 0; i < b->pk_n; i++)
		if (b->pk_fd[i] == fd)
			return b->pk_val[i];
	if (statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_TYPE,
		  &stx) != 0)
		v = true;
	else if (makedev(stx.stx_dev_major, stx.stx_dev_minor) == ctx->dev)
		v = true;
	else
		v = !S_ISREG(stx.stx_mode) && !S_ISBLK(stx.stx_mode);
	if (b->pk_n < PARK_CACHE) {
		b->pk_fd[b->pk_n] = fd;
		b->pk_val[b->pk_n++] = v;
	}
	return v;
}

/*
 * The most the EVENT record of @cb can take: a read's carries up to
 * min(length, EVFDFS_WIRE_MAX_DATA) bytes.  Sizes the reads of events
 * (ctx_read_events()); too much only costs buffer room.
 */
static uint32_t event_room(const struct iocb *cb, const struct iovec *iov)
{
	uint64_t len = 0;
	unsigned int i;

	if (cb->aio_lio_opcode == IOCB_CMD_PREAD) {
		len = cb->aio_nbytes;
	} else if (cb->aio_lio_opcode == IOCB_CMD_PREADV && iov) {
		for (i = 0; i < cb->aio_nbytes && len < EVFDFS_WIRE_MAX_DATA;
		     i++)
			len += iov[i].iov_len < EVFDFS_WIRE_MAX_DATA
				       ? iov[i].iov_len
				       : EVFDFS_WIRE_MAX_DATA;
	}
	if (len > EVFDFS_WIRE_MAX_DATA)
		len = EVFDFS_WIRE_MAX_DATA;
	return EVFDFS_WIRE_ALIGN(
		(uint32_t)(sizeof(struct evfdfs_wire_event) + len));
}

/* Forget records [from, b->n) of the batch: they were not accepted. */
static void release(struct evfdfs_io_ctx *ctx, struct batch *b,
		    unsigned int from)
{
	unsigned int i;

	pthread_mutex_lock(&ctx->lock);
	for (i = from; i < b->n; i++) {
		ctx_sub_drop_seq(ctx, b->info[i].obj, b->info[i].seq);
		ctx->unreaped--;
	}
	pthread_mutex_unlock(&ctx->lock);
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
	if (k < b->n) {
		if (past_step6(ctx, &b->info[k].cb, b->info[k].flags, err))
			zero_keys(b, k, k + 1);
		release(ctx, b, k);
	}
	b->n = 0;
	b->len = 0;
	b->pk_n = 0; /* looked up again for the next write */
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
 * Reserve a slot and record the submission (step 4 and the bookkeeping).
 * Takes @iov.  Returns 0, -EAGAIN or -ENOMEM.
 */
static int track(struct evfdfs_io_ctx *ctx, const struct iocb *cb, uint64_t obj,
		 struct iovec *iov, bool early_einval, bool parks,
		 uint64_t *seq)
{
	struct sub *s = calloc(1, sizeof(*s));
	int ret = 0;

	if (!s) {
		free(iov);
		return -ENOMEM;
	}
	s->obj = obj;
	s->data = cb->aio_data;
	s->opcode = cb->aio_lio_opcode;
	if (s->opcode == IOCB_CMD_PREAD) {
		s->buf = cb->aio_buf;
		s->len = cb->aio_nbytes;
	} else if (s->opcode == IOCB_CMD_PREADV && iov) {
		s->iov = iov;
		s->iovcnt = (unsigned int)cb->aio_nbytes;
		iov = NULL;
	}
	free(iov);
	s->evsize = event_room(cb, s->iov);
	s->parks = parks;
	pthread_mutex_lock(&ctx->lock);
	if (!early_einval && ctx->unreaped >= ctx->nr_events) {
		ret = -EAGAIN;
	} else {
		ctx->unreaped++;
		ctx_sub_add(ctx, s);
		*seq = s->seq;
		s = NULL;
	}
	pthread_mutex_unlock(&ctx->lock);
	sub_free(s);
	return ret;
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
	bool early = cb->aio_reserved2 || (int64_t)cb->aio_nbytes < 0;
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
			flags &= ~EVFDFS_WIRE_SUB_DATA_CUT;
			flags |= EVFDFS_WIRE_SUB_BUF_FAULT;
			p.datalen = 0;
			len = codec_submit_len(p.nsegs, 0);
		}
	}
	codec_submit_fill(rec, cb, obj, flags, iov, p.nsegs, p.datalen);
	ri = &b->info[b->n];
	ri->cb = *cb;
	ri->obj = obj;
	ri->flags = flags;
	ret = track(ctx, cb, obj, iov, early, may_park(ctx, b, cb), &ri->seq);
	if (ret)
		return ret;
	b->len += len;
	b->n++;
	return 0;
err_free_iov:
	free(iov);
	return ret;
}

EXPORT int evfdfs_io_submit(struct evfdfs_io_ctx *ctx, long nr,
			    struct iocb **iocbpp)
{
	KEEP_ERRNO;
	uint64_t ptrs[CHUNK];
	struct iocb cbs[CHUNK];
	struct iovec rio[CHUNK], lio;
	struct batch b = { 0 };
	long i = 0, done = 0;
	unsigned int k, n, nptr, ncb, nkey;
	uint32_t keys[CHUNK];
	int ret = 0;

	if (nr < 0)
		return -EINVAL; /* before the context (A20) */
	ctx = ctx_get(ctx);
	if (!ctx)
		return -EINVAL;
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
			rio[k].iov_base = (char *)(uintptr_t)ptrs[k] +
					  offsetof(struct iocb, aio_key);
			rio[k].iov_len = sizeof(keys[k]);
		}
		lio.iov_base = keys;
		lio.iov_len = ncb * sizeof(keys[0]);
		nkey = ncb ? (unsigned int)(umem_scatter(rio, ncb, keys,
							 lio.iov_len) /
					    sizeof(keys[0]))
			   : 0;
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
	ctx_put(ctx);
	free(b.buf);
	free(b.info);
	return done > 0 ? (int)done : ret;
}
