// SPDX-License-Identifier: GPL-2.0-only
/*
 * The two AIO backends and the helpers the AIO cases share.
 *
 * Kernel: libaio's io_setup, io_submit, io_cancel, io_destroy and
 * io_queue_*, which are plain system calls (L1, L2).  io_getevents and
 * io_pgetevents go through the system call directly: libaio's versions
 * first peek into the completion ring through ctx (L4), which crashes on
 * a destroyed or made-up context, and the peek is the one part the mount
 * does not emulate (emulation.md).  The raw calls take the same arguments
 * libaio passes (L5: pgetevents always with {sigmask, 8}).
 *
 * Mount: libevfdfs on the shared mount; counters from evfdfs_eventfd().
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include <evfdfs.h>

#include "aio_backend.h"

/* ---- kernel ----------------------------------------------------------- */

static int k_setup(unsigned int nr, void **ctxp)
{
	return io_setup((int)nr, (io_context_t *)ctxp);
}

static int k_destroy(void *ctx)
{
	return io_destroy(ctx);
}

static int k_submit(void *ctx, long nr, struct iocb **iocbs)
{
	return io_submit(ctx, nr, iocbs);
}

static int k_getevents(void *ctx, long min_nr, long nr, struct io_event *events,
		       struct timespec *ts)
{
	long r = syscall(SYS_io_getevents, ctx, min_nr, nr, events, ts);

	return r < 0 ? -errno : (int)r;
}

static int k_pgetevents(void *ctx, long min_nr, long nr,
			struct io_event *events, struct timespec *ts,
			const sigset_t *sigmask)
{
	struct {
		const sigset_t *mask;
		size_t size;
	} usig = { sigmask, 8 };
	long r = syscall(SYS_io_pgetevents, ctx, min_nr, nr, events, ts, &usig);

	return r < 0 ? -errno : (int)r;
}

static int k_cancel(void *ctx, struct iocb *iocb, struct io_event *ev)
{
	return io_cancel(ctx, iocb, ev);
}

static int k_queue_init(int maxevents, void **ctxp)
{
	return io_queue_init(maxevents, (io_context_t *)ctxp);
}

static int k_queue_run(void *ctx)
{
	return io_queue_run(ctx);
}

static int k_counter(unsigned int initval, int flags)
{
	int fd = eventfd(initval, flags);

	cr_assert(fd >= 0, "eventfd: %s", strerror(errno));
	return fd;
}

static void k_set_count(int fd, uint64_t val)
{
	evt_backend_kernel.set_count(fd, val);
}

const struct aio_backend aio_backend_kernel = {
	.name = "kernel",
	.mount = false,
	.setup = k_setup,
	.destroy = k_destroy,
	.submit = k_submit,
	.getevents = k_getevents,
	.pgetevents = k_pgetevents,
	.cancel = k_cancel,
	.queue_init = k_queue_init,
	.queue_run = k_queue_run,
	.counter = k_counter,
	.set_count = k_set_count,
};

/* ---- mount ------------------------------------------------------------ */

static int m_setup(unsigned int nr, void **ctxp)
{
	return evfdfs_io_setup(evt_shared_mnt(), nr,
			       (struct evfdfs_io_ctx **)ctxp);
}

static int m_destroy(void *ctx)
{
	return evfdfs_io_destroy(ctx);
}

static int m_submit(void *ctx, long nr, struct iocb **iocbs)
{
	return evfdfs_io_submit(ctx, nr, iocbs);
}

static int m_getevents(void *ctx, long min_nr, long nr, struct io_event *events,
		       struct timespec *ts)
{
	return evfdfs_io_getevents(ctx, min_nr, nr, events, ts);
}

static int m_pgetevents(void *ctx, long min_nr, long nr,
			struct io_event *events, struct timespec *ts,
			const sigset_t *sigmask)
{
	return evfdfs_io_pgetevents(ctx, min_nr, nr, events, ts, sigmask);
}

static int m_cancel(void *ctx, struct iocb *iocb, struct io_event *ev)
{
	return evfdfs_io_cancel(ctx, iocb, ev);
}

static int m_queue_init(int maxevents, void **ctxp)
{
	return evfdfs_io_queue_init(evt_shared_mnt(), maxevents,
				    (struct evfdfs_io_ctx **)ctxp);
}

static int m_queue_run(void *ctx)
{
	return evfdfs_io_queue_run(ctx);
}

static int m_counter(unsigned int initval, int flags)
{
	int fd = evfdfs_eventfd(evt_shared_mnt(), initval, flags);

	cr_assert(fd >= 0, "evfdfs_eventfd: %s", strerror(errno));
	return fd;
}

static void m_set_count(int fd, uint64_t val)
{
	evt_backend_mount.set_count(fd, val);
}

const struct aio_backend aio_backend_mount = {
	.name = "mount",
	.mount = true,
	.setup = m_setup,
	.destroy = m_destroy,
	.submit = m_submit,
	.getevents = m_getevents,
	.pgetevents = m_pgetevents,
	.cancel = m_cancel,
	.queue_init = m_queue_init,
	.queue_run = m_queue_run,
	.counter = m_counter,
	.set_count = m_set_count,
};

void aio_conform_run(aio_conform_fn fn)
{
	struct evt_transcript k = { 0 }, m = { 0 };
	int fds_before = evt_count_fds();

	evt_shared_mnt(); /* skip, with the reason, before anything runs */
	fn(&aio_backend_kernel, &k);
	cr_assert(k.len > 0, "the case recorded nothing");
	/* EVFDFS_AIO_DUMP=1: print both transcripts (debugging). */
	if (getenv("EVFDFS_AIO_DUMP"))
		fprintf(stderr, "--- kernel:\n%s", k.buf);
	fn(&aio_backend_mount, &m);
	if (getenv("EVFDFS_AIO_DUMP"))
		fprintf(stderr, "--- mount:\n%s", m.buf ? m.buf : "");
	cr_expect_str_eq(m.buf ? m.buf : "", k.buf,
			 "mount differs from the kernel\n"
			 "--- kernel:\n%s--- mount:\n%s",
			 k.buf, m.buf ? m.buf : "");
	cr_expect_eq(evt_count_fds(), fds_before,
		     "the case leaked descriptors");
	evt_transcript_free(&k);
	evt_transcript_free(&m);
}

/* ---- helpers ---------------------------------------------------------- */

void *aio_bad_ctx(void)
{
	static char zeros[4096] __attribute__((aligned(4096)));

	return zeros;
}

void *aio_ctx(const struct aio_backend *b, unsigned int nr)
{
	void *ctx = NULL;
	int ret = b->setup(nr, &ctx);

	cr_assert_eq(ret, 0, "%s io_setup(%u): %s", b->name, nr,
		     strerror(-ret));
	return ctx;
}

void aio_rec(struct evt_transcript *t, const char *label, long ret)
{
	if (ret < 0)
		evt_rec(t, "%s: err=%s", label, evt_errname((int)-ret));
	else
		evt_rec(t, "%s: ret=%ld", label, ret);
}

static int iocb_index(const struct io_event *ev, struct iocb *const *iocbs,
		      int n)
{
	int i;

	for (i = 0; i < n; i++)
		if ((void *)ev->obj == (void *)iocbs[i])
			return i;
	return -1;
}

void aio_rec_events(struct evt_transcript *t, const char *label,
		    const struct io_event *ev, int n, struct iocb *const *iocbs,
		    int niocbs)
{
	char res[48];
	int i, k;

	for (i = 0; i < n; i++) {
		long r = (long)ev[i].res;

		if (r < 0)
			snprintf(res, sizeof(res), "%s", evt_errname((int)-r));
		else
			snprintf(res, sizeof(res), "%#lx", r);
		k = iocb_index(&ev[i], iocbs, niocbs);
		evt_rec(t, "%s: obj=%s%d data=%#llx res=%s res2=%ld", label,
			k < 0 ? "?" : "iocb", k,
			(unsigned long long)(uintptr_t)ev[i].data, res,
			(long)ev[i].res2);
	}
}

struct sort_ctx {
	struct iocb *const *iocbs;
	int n;
};

static __thread struct sort_ctx sort_by;

static int ev_cmp(const void *a, const void *b)
{
	const struct io_event *x = a, *y = b;
	int i = iocb_index(x, sort_by.iocbs, sort_by.n);
	int j = iocb_index(y, sort_by.iocbs, sort_by.n);

	if (i != j)
		return i < j ? -1 : 1;
	if (x->data != y->data)
		return (uintptr_t)x->data < (uintptr_t)y->data ? -1 : 1;
	return x->res < y->res ? -1 : x->res > y->res;
}

#define COLLECT_MS 5000

int aio_collect(const struct aio_backend *b, struct evt_transcript *t,
		void *ctx, int n, struct iocb *const *iocbs, int niocbs,
		bool sorted)
{
	struct io_event ev[256];
	long long deadline = evt_now_ms() + COLLECT_MS;
	int got = 0, r;

	cr_assert_leq(n, 256);
	while (got < n) {
		long long left = deadline - evt_now_ms();
		struct timespec ts = { 0, 0 };

		if (left > 0) {
			ts.tv_sec = left / 1000;
			ts.tv_nsec = (left % 1000) * 1000000;
		}
		r = b->getevents(ctx, n - got, n - got, ev + got, &ts);
		if (r == -EINTR)
			continue;
		if (r < 0) {
			aio_rec(t, "getevents", r);
			break;
		}
		got += r;
		if (left <= 0)
			break;
	}
	if (sorted) {
		sort_by.iocbs = iocbs;
		sort_by.n = niocbs;
		qsort(ev, (size_t)got, sizeof(ev[0]), ev_cmp);
	}
	evt_rec(t, "collected %d of %d", got, n);
	aio_rec_events(t, "event", ev, got, iocbs, niocbs);
	return got;
}

#define RESFD_MS 3000

void aio_rec_resfd(struct evt_transcript *t, int fd, uint64_t expect)
{
	long long deadline = evt_now_ms() + RESFD_MS;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	uint64_t total = 0, v;
	int fl = fcntl(fd, F_GETFL);

	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	for (;;) {
		long long left = deadline - evt_now_ms();

		if (total >= expect || left <= 0)
			left = 0;
		if (poll(&pfd, 1, (int)left) <= 0)
			break;
		if (read(fd, &v, sizeof(v)) != sizeof(v))
			break;
		total += v;
	}
	fcntl(fd, F_SETFL, fl);
	evt_rec(t, "resfd signalled %llu", (unsigned long long)total);
}

int aio_tmpfile(const char *dir, size_t len, int oflags)
{
	char path[256], buf[4096];
	size_t off = 0, i;
	int fd, rfd;

	snprintf(path, sizeof(path), "%s/evfdfs-aio-XXXXXX", dir);
	fd = mkstemp(path);
	cr_assert(fd >= 0, "mkstemp %s: %s", path, strerror(errno));
	while (off < len) {
		size_t n = len - off < sizeof(buf) ? len - off : sizeof(buf);

		for (i = 0; i < n; i++)
			buf[i] = aio_pattern(off + i);
		cr_assert_eq(write(fd, buf, n), (ssize_t)n);
		off += n;
	}
	rfd = open(path, oflags | O_CLOEXEC);
	cr_assert(rfd >= 0, "open %s: %s", path, strerror(errno));
	unlink(path);
	close(fd);
	return rfd;
}

int aio_reopen(int fd, int oflags)
{
	char path[64];
	int nfd;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	nfd = open(path, oflags | O_CLOEXEC);
	cr_assert(nfd >= 0, "reopen: %s", strerror(errno));
	return nfd;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void *pinger_main(void *arg)
{
	struct aio_pinger *p = arg;

	sleep_ms(p->delay_ms);
	while (!p->stop) {
		pthread_kill(p->target, p->sig);
		sleep_ms(p->period_ms);
	}
	return NULL;
}

void aio_pinger_start(struct aio_pinger *p, pthread_t target, int sig,
		      int delay_ms, int period_ms)
{
	sigset_t all, old;

	memset(p, 0, sizeof(*p));
	p->target = target;
	p->sig = sig;
	p->delay_ms = delay_ms;
	p->period_ms = period_ms;
	/* The pinger itself never takes the signal. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	cr_assert_eq(pthread_create(&p->thread, NULL, pinger_main, p), 0);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

void aio_pinger_stop(struct aio_pinger *p)
{
	p->stop = true;
	pthread_join(p->thread, NULL);
}

static void *later_main(void *arg)
{
	struct aio_later *l = arg;

	sleep_ms(l->delay_ms);
	l->fn(l->arg);
	return NULL;
}

void aio_later_start(struct aio_later *l, int delay_ms, void (*fn)(void *),
		     void *arg)
{
	sigset_t all, old;

	l->delay_ms = delay_ms;
	l->fn = fn;
	l->arg = arg;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	cr_assert_eq(pthread_create(&l->thread, NULL, later_main, l), 0);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

void aio_later_join(struct aio_later *l)
{
	pthread_join(l->thread, NULL);
}

volatile sig_atomic_t aio_sig_count;

static void count_signal(int sig)
{
	(void)sig;
	aio_sig_count++;
}

void aio_handle_signal(int sig, bool restart)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = count_signal;
	sa.sa_flags = restart ? SA_RESTART : 0;
	sigemptyset(&sa.sa_mask);
	cr_assert_eq(sigaction(sig, &sa, NULL), 0);
	aio_sig_count = 0;
}

void aio_default_signal(int sig)
{
	signal(sig, SIG_DFL);
}

void aio_rec_data(struct evt_transcript *t, const char *label, const char *buf,
		  size_t len, size_t off)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (buf[i] != aio_pattern(off + i))
			break;
	if (i == len)
		evt_rec(t, "%s: data ok", label);
	else
		evt_rec(t, "%s: data differs at %zu", label, i);
}

int aio_closed_fd(void)
{
	int fd = 900;

	while (fcntl(fd, F_GETFD) >= 0)
		fd++;
	return fd;
}
