// SPDX-License-Identifier: GPL-2.0-only
/*
 * Section 5, AIO: the same requests through the kernel (libaio's
 * io_submit and io_getevents) and through an evfdfs mount's control file
 * (libevfdfs's evfdfs_io_*, libaio's own iocbs).  The target is a 1 MiB
 * unlinked file on tmpfs (/dev/shm), read 4 KiB at a time at rotating
 * offsets, so every read is served from memory: what is measured is the
 * path of a request, not a disk.
 *
 *   variant 0  one 4 KiB read: submit, then getevents(1) blocks for it
 *   variant 1  one 4 KiB read naming a counter as its RESFD: submit,
 *              epoll_wait() on the counter, read it, then getevents()
 *              without blocking (the scenario of the RESFD patch: one
 *              epoll loop serves AIO completions next to everything else)
 *   variant 2  32 reads per submit, then getevents(32)
 *
 * The kernel completes a buffered read inside io_submit (A23); evfdfs
 * hands a regular file's request to a worker thread, which submits it to
 * the daemon's own kernel context, and the loop collects the completion
 * and answers the control file.  There is no bare-FUSE reference: these
 * rows compare with the kernel only.
 *
 * load_aio_writer() is the AIO form of section 6's background writer.
 */
#include <errno.h>
#include <evfdfs.h>
#include <fcntl.h>
#include <libaio.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "../evbench.h"

#define AIO_BLOCK 4096
#define AIO_FILE (1 << 20)
#define AIO_BATCH 32

/* One backend's AIO: a kernel context or an evfdfs one. */
struct actx {
	int bk;
	io_context_t kctx;
	struct evfdfs_io_ctx *ectx;
};

static int actx_setup(const struct ctx *cx, int bk, unsigned int nr,
		      struct actx *a)
{
	memset(a, 0, sizeof(*a));
	a->bk = bk;
	if (bk == BK_KERNEL)
		return io_setup((int)nr, &a->kctx);
	return evfdfs_io_setup(cx->mnt[BK_EVFDFS], nr, &a->ectx);
}

static void actx_destroy(struct actx *a)
{
	if (a->bk == BK_KERNEL)
		io_destroy(a->kctx);
	else
		evfdfs_io_destroy(a->ectx);
}

static int actx_submit(struct actx *a, long nr, struct iocb **cbs)
{
	if (a->bk == BK_KERNEL)
		return io_submit(a->kctx, nr, cbs);
	return evfdfs_io_submit(a->ectx, nr, cbs);
}

static int actx_getevents(struct actx *a, long min, long nr,
			  struct io_event *evs, struct timespec *ts)
{
	if (a->bk == BK_KERNEL)
		return io_getevents(a->kctx, min, nr, evs, ts);
	return evfdfs_io_getevents(a->ectx, min, nr, evs, ts);
}

/* Submit all of @cbs (a short submit is an error here: nothing fails). */
static int submit_all(struct actx *a, long nr, struct iocb **cbs)
{
	int ret = actx_submit(a, nr, cbs);

	if (ret == nr)
		return 0;
	return ret < 0 ? ret : -EIO;
}

/* Collect exactly @nr events, each a whole read (or write) of @len. */
static int reap(struct actx *a, long nr, long long len, bool wait)
{
	struct io_event evs[AIO_BATCH];
	struct timespec zero = { 0, 0 };
	long got = 0;
	int n, i;

	while (got < nr) {
		n = actx_getevents(a, wait ? nr - got : 0, nr - got, evs,
				   wait ? NULL : &zero);
		if (n < 0)
			return n;
		if (n == 0 && !wait)
			return -EPROTO; /* the RESFD said it was there */
		for (i = 0; i < n; i++)
			if ((long long)evs[i].res != len)
				return (long)evs[i].res < 0 ? (int)evs[i].res
							    : -EIO;
		got += n;
	}
	return 0;
}

static int data_file(const char *dir)
{
	static char block[AIO_BLOCK];
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600), i;

	if (fd < 0)
		return -errno;
	memset(block, 0x5a, sizeof(block));
	for (i = 0; i < AIO_FILE / AIO_BLOCK; i++)
		if (write(fd, block, sizeof(block)) != (ssize_t)sizeof(block)) {
			close(fd);
			return -EIO;
		}
	return fd;
}

/* The RESFD of variant 1: a kernel eventfd, or a counter of the mount. */
static int resfd_open(const struct ctx *cx, int bk, struct chan *c)
{
	int ret;

	if (bk == BK_KERNEL)
		return chan_open(cx, bk, "resfd", 0, c);
	ret = chan_drain(cx, bk, "c2");
	return ret ? ret : chan_open(cx, bk, "c2", 0, c);
}

static long measure_aio_read(const struct ctx *cx, int bk, int variant,
			     long iters, int64_t *lat, double *elapsed)
{
	static char bufs[AIO_BATCH][AIO_BLOCK] __attribute__((aligned(4096)));
	long warm = iters / 20 + 5, i, per = variant == 2 ? AIO_BATCH : 1;
	struct epoll_event ev = { .events = EPOLLIN };
	struct iocb cb[AIO_BATCH], *cbs[AIO_BATCH];
	struct chan res = { .rfd = -1, .wfd = -1 };
	double t_begin = 0;
	struct actx a;
	int fd, ep = -1, ret;
	long long off = 0;
	uint64_t v;
	long j;

	fd = data_file(cx->aio_dir);
	if (fd < 0)
		return fd;
	ret = actx_setup(cx, bk, AIO_BATCH * 2, &a);
	if (ret)
		goto out_close_file;
	if (variant == 1) {
		ret = resfd_open(cx, bk, &res);
		if (ret)
			goto out_destroy;
		ep = epoll_create1(EPOLL_CLOEXEC);
		if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, res.rfd, &ev)) {
			ret = -errno;
			goto out_close_res;
		}
	}
	for (i = 0; i < warm + iters; i++) {
		int64_t t0;

		if (i == warm)
			t_begin = now_s();
		for (j = 0; j < per; j++) {
			io_prep_pread(&cb[j], fd, bufs[j], AIO_BLOCK, off);
			if (variant == 1)
				io_set_eventfd(&cb[j], res.wfd);
			cbs[j] = &cb[j];
			off = (off + AIO_BLOCK) % AIO_FILE;
		}
		t0 = now_ns();
		ret = submit_all(&a, per, cbs);
		if (!ret && variant == 1) {
			if (epoll_wait(ep, &ev, 1, 10000) != 1)
				ret = -ETIMEDOUT;
			else
				ret = read_u64(res.rfd, &v);
			if (!ret)
				ret = reap(&a, per, AIO_BLOCK, false);
		} else if (!ret) {
			ret = reap(&a, per, AIO_BLOCK, true);
		}
		if (ret)
			break;
		if (i >= warm)
			lat[i - warm] = now_ns() - t0;
	}
	*elapsed = now_s() - t_begin;
out_close_res:
	if (ep >= 0)
		close(ep);
	chan_close(&res);
out_destroy:
	actx_destroy(&a);
out_close_file:
	close(fd);
	return ret ? ret : iters;
}

void run_aio(struct ctx *cx)
{
	static const char *const what[] = {
		"AIO 4 KiB read: submit + getevents",
		"AIO 4 KiB read: RESFD + epoll_wait",
		"AIO 32 x 4 KiB reads per submit",
	};
	static const int bks[] = { BK_KERNEL, BK_EVFDFS };
	int v;

	for (v = 0; v < 3; v++)
		interleave(cx, what[v], M_OPS, bks, 2, measure_aio_read, v,
			   v == 2 ? cx->aio_iters / 8 : cx->aio_iters);
}

/*
 * Section 6's writer, through the mount's control file: @bytes of 256 KiB
 * PWRITEs, 4 in flight, to an unlinked file in @dir, then an FDSYNC, a
 * truncate, and again, until killed.  The daemon's workers do the
 * buffered writes; what the figure shows is whether its loop, which also
 * serves the counters, keeps up meanwhile.
 */
void load_aio_writer(const struct ctx *cx, long long bytes,
		     _Atomic long long *written)
{
	enum { CHUNK = 256 * 1024, DEPTH = 4 };
	static char buf[CHUNK];
	struct iocb cb[DEPTH], *cbs[1];
	struct io_event evs[DEPTH];
	struct actx a;
	long long off;
	int fd, inflight = 0, slot, n, i;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	fd = open(cx->load_dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	if (fd < 0 || actx_setup(cx, BK_EVFDFS, DEPTH * 2, &a))
		_exit(1);
	memset(buf, 0xa5, sizeof(buf));
	for (;;) {
		for (off = 0; off < bytes || inflight; off += CHUNK) {
			if (inflight == DEPTH || off >= bytes) {
				n = actx_getevents(&a, 1, DEPTH, evs, NULL);
				if (n <= 0)
					_exit(1);
				for (i = 0; i < n; i++) {
					if ((long long)evs[i].res != CHUNK)
						_exit(1);
					atomic_fetch_add(written, CHUNK);
				}
				inflight -= n;
			}
			if (off >= bytes)
				continue;
			/* The iocb and its data are copied at submission
			 * (evfdfs_io_submit()), so any slot will do. */
			slot = (int)((off / CHUNK) % DEPTH);
			io_prep_pwrite(&cb[slot], fd, buf, CHUNK, off);
			cbs[0] = &cb[slot];
			if (submit_all(&a, 1, cbs))
				_exit(1);
			inflight++;
		}
		io_prep_fdsync(&cb[0], fd);
		cbs[0] = &cb[0];
		if (submit_all(&a, 1, cbs) ||
		    actx_getevents(&a, 1, 1, evs, NULL) != 1 || evs[0].res ||
		    ftruncate(fd, 0))
			_exit(1);
	}
}
