// SPDX-License-Identifier: GPL-2.0-only
/*
 * Section 5, AIO: the same requests through the kernel (libaio's
 * io_submit and io_getevents) and through an evfdfs mount's control file
 * (libevfdfs's evfdfs_io_*, libaio's own iocbs).  The target is a 1 MiB
 * unlinked file on tmpfs (/dev/shm), read 4 KiB at a time at rotating
 * offsets, so every read is served from memory: what is measured is the
 * path of a request, not a disk.
 *
 *   one read      one 4 KiB read: submit, then getevents(1) blocks for it
 *   RESFD eventfd one 4 KiB read naming a kernel eventfd as its RESFD:
 *                 submit, epoll_wait() on the eventfd, read it, then
 *                 getevents() without blocking (the scenario of the RESFD
 *                 patch: one epoll loop serves AIO completions next to
 *                 everything else); evfdfs's daemon signals the eventfd
 *   RESFD counter the same with a counter of the mount as the RESFD (the
 *                 kernel's row is its eventfd again: kernel AIO takes no
 *                 other RESFD)
 *   batch         32 reads per submit, then getevents(32)
 *   PWRITE        one write of 64 MiB (quick: 4 MiB) to an empty unlinked
 *                 tmpfs file, submit to event, several per round: MiB/s
 *
 * The kernel completes a buffered read inside io_submit (A23).  evfdfs's
 * design (docs/aio-ring.md) is one FUSE write per submit, and reaping from
 * a ring mapped in the process, without FUSE when the events are there.
 * The read figures therefore have a floor, the least such a design can
 * cost: the kernel's figure plus the FUSE traffic the design needs,
 * measured on barefuse in the same interleave (floor_part()) and added
 * per round by the table (report.c).  The PWRITE compares with the
 * kernel only.
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

/* The read figures (measure_aio_read()'s variants). */
enum { V_ONE, V_RESFD_EFD, V_RESFD_CTR, V_BATCH, V_NR };

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

/* The RESFD: a kernel eventfd, or a counter of the mount (c2). */
static int resfd_open(const struct ctx *cx, int bk, int variant, struct chan *c)
{
	int ret;

	if (bk == BK_KERNEL || variant == V_RESFD_EFD)
		return chan_open(cx, BK_KERNEL, "resfd", 0, c);
	ret = chan_drain(cx, bk, "c2");
	return ret ? ret : chan_open(cx, bk, "c2", 0, c);
}

/*
 * The floor's FUSE part, on barefuse: what a design with one FUSE write
 * per submit and no FUSE to reap cannot do without.  For every variant
 * but V_RESFD_CTR, one write(8) of c3 (O_NONBLOCK, as section 2's: one
 * FUSE WRITE round trip), drained by an untimed read.  For V_RESFD_CTR,
 * the traffic of a completion signalled on a counter of the mount: the
 * write(8) (the submit), an epoll_wait() that finds the counter ready
 * (a FUSE POLL round trip: barefuse notifies the poll handle before it
 * answers the write, as evfdfs does) and the counter's read, timed as one.
 */
static long floor_part(const struct ctx *cx, int variant, long iters,
		       int64_t *lat, double *elapsed)
{
	struct epoll_event ev = { .events = EPOLLIN };
	bool ctr = variant == V_RESFD_CTR;
	const char *name = ctr ? "c2" : "c3";
	long warm = iters / 20 + 5, i;
	int ep = -1, ret;
	struct chan c;
	uint64_t v;

	*elapsed = 0;
	ret = chan_drain(cx, BK_BARE, name);
	if (ret)
		return ret;
	ret = chan_open(cx, BK_BARE, name, ctr ? 0 : O_NONBLOCK, &c);
	if (ret)
		return ret;
	if (ctr) {
		ep = epoll_create1(EPOLL_CLOEXEC);
		if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, c.rfd, &ev)) {
			ret = -errno;
			goto out_close;
		}
	}
	for (i = 0; i < warm + iters; i++) {
		int64_t t0 = now_ns(), t1;

		ret = write_u64(c.wfd, 1);
		if (!ret && ctr && epoll_wait(ep, &ev, 1, 10000) != 1)
			ret = -ETIMEDOUT;
		if (!ret && ctr)
			ret = read_u64(c.rfd, &v);
		t1 = now_ns();
		if (!ret && !ctr)
			ret = read_u64(c.rfd, &v);
		if (!ret && v != 1)
			ret = -EPROTO;
		if (ret)
			goto out_close;
		if (i >= warm) {
			lat[i - warm] = t1 - t0;
			*elapsed += (double)(t1 - t0) * 1e-9;
		}
	}
out_close:
	if (ep >= 0)
		close(ep);
	chan_close(&c);
	return ret ? ret : iters;
}

static long measure_aio_read(const struct ctx *cx, int bk, int variant,
			     long iters, int64_t *lat, double *elapsed)
{
	static char bufs[AIO_BATCH][AIO_BLOCK] __attribute__((aligned(4096)));
	long warm = iters / 20 + 5, i, per = variant == V_BATCH ? AIO_BATCH : 1;
	bool resfd = variant == V_RESFD_EFD || variant == V_RESFD_CTR;
	struct epoll_event ev = { .events = EPOLLIN };
	struct iocb cb[AIO_BATCH], *cbs[AIO_BATCH];
	struct chan res = { .rfd = -1, .wfd = -1 };
	double t_begin = 0;
	struct actx a;
	int fd, ep = -1, ret;
	long long off = 0;
	uint64_t v;
	long j;

	if (bk == BK_BARE)
		return floor_part(cx, variant, iters, lat, elapsed);
	fd = data_file(cx->aio_dir);
	if (fd < 0)
		return fd;
	ret = actx_setup(cx, bk, AIO_BATCH * 2, &a);
	if (ret)
		goto out_close_file;
	if (resfd) {
		ret = resfd_open(cx, bk, variant, &res);
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
			if (resfd)
				io_set_eventfd(&cb[j], res.wfd);
			cbs[j] = &cb[j];
			off = (off + AIO_BLOCK) % AIO_FILE;
		}
		t0 = now_ns();
		ret = submit_all(&a, per, cbs);
		if (!ret && resfd) {
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

/*
 * One PWRITE of cx->aio_write_bytes to an empty unlinked file in
 * cx->aio_dir (tmpfs), submit to its event, @iters times (after one
 * untimed); the file is truncated between them, untimed.  *@elapsed is
 * the sum of the writes' times, so ops/s times the size is MiB/s.
 */
static long measure_aio_write(const struct ctx *cx, int bk, int variant,
			      long iters, int64_t *lat, double *elapsed)
{
	long long len = cx->aio_write_bytes;
	struct iocb cb, *cbs[1] = { &cb };
	struct actx a;
	int fd, ret;
	char *buf;
	long i;

	(void)variant;
	*elapsed = 0;
	buf = malloc((size_t)len);
	if (!buf)
		return -ENOMEM;
	memset(buf, 0xc3, (size_t)len); /* no page faults in the timing */
	fd = open(cx->aio_dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = -errno;
		goto out_free;
	}
	ret = actx_setup(cx, bk, 2, &a);
	if (ret)
		goto out_close_file;
	for (i = -1; i < iters; i++) {
		int64_t t0, t1;

		if (ftruncate(fd, 0)) {
			ret = -errno;
			break;
		}
		io_prep_pwrite(&cb, fd, buf, (size_t)len, 0);
		t0 = now_ns();
		ret = submit_all(&a, 1, cbs);
		if (!ret)
			ret = reap(&a, 1, len, true);
		t1 = now_ns();
		if (ret)
			break;
		if (i >= 0) {
			lat[i] = t1 - t0;
			*elapsed += (double)(t1 - t0) * 1e-9;
		}
	}
	actx_destroy(&a);
out_close_file:
	close(fd);
out_free:
	free(buf);
	return ret ? ret : iters;
}

void run_aio(struct ctx *cx)
{
	static const char *const what[] = {
		[V_ONE] = "AIO 4 KiB read: submit + getevents",
		[V_RESFD_EFD] = "AIO 4 KiB: RESFD eventfd + epoll_wait",
		[V_RESFD_CTR] = "AIO 4 KiB: RESFD counter + epoll_wait",
		[V_BATCH] = "AIO 32 x 4 KiB reads per submit",
	};
	static const int bks[] = { BK_KERNEL, BK_BARE, BK_EVFDFS };
	static const int wbks[] = { BK_KERNEL, BK_EVFDFS };
	static char write_what[40];
	struct group *g;
	int v;

	for (v = 0; v < V_NR; v++) {
		interleave(cx, what[v], M_OPS, bks, 3, measure_aio_read, v,
			   v == V_BATCH ? cx->aio_iters / 8 : cx->aio_iters);
		g = group_get(cx, what[v], M_OPS);
		g->floor = true;
		snprintf(g->rows[BK_BARE].note, sizeof(g->rows[BK_BARE].note),
			 "%s",
			 v == V_RESFD_CTR ? "floor's FUSE part: write(8), "
					    "epoll_wait (POLL), read"
					  : "floor's FUSE part: one write(8)");
	}
	snprintf(write_what, sizeof(write_what), "AIO %lld MiB PWRITE, tmpfs",
		 cx->aio_write_bytes >> 20);
	interleave(cx, write_what, M_OPS, wbks, 2, measure_aio_write, 0,
		   cx->aio_write_iters);
	group_get(cx, write_what, M_OPS)->bytes = cx->aio_write_bytes;
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
