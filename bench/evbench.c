// SPDX-License-Identifier: GPL-2.0-only
/*
 * evbench: evfdfs side by side with a kernel eventfd, a pipe and a bare
 * FUSE filesystem (barefuse.c), in one run.  bench/run.sh mounts barefuse
 * and evfdfs in temporary directories and runs this program on them; it
 * can also run alone, on the kernel and pipe rows only.
 *
 * These machines are noisy from one run to the next, so every figure is
 * taken in the same round as its references, round after round, and what
 * is reported is the median over the rounds of each figure and of each
 * per-round ratio.  A ratio is a speed: the reference's p50 over this
 * p50, above 1 is faster than the reference (the evfdfs rows also give
 * their ops/s over barefuse's in the notes: a mean, which the machine's
 * other tenants move more).
 *
 * Figures (the sections of issue 5):
 *   pingpong    blocking ping-pong over two counters (ping, pong): two
 *               threads with their own descriptors, two processes, and
 *               two threads sharing one descriptor per counter (one thread
 *               parked in read while the other writes the same open file)
 *   nonblock    O_NONBLOCK write(8) and read of a nonzero counter, one
 *               thread
 *   poll        wake-up latency: one process in poll() or epoll_wait(), the
 *               other writes; from just before write() to the return
 *   waiters     N readers blocked at once on one semaphore counter, one
 *               write of N releases them all: release time, daemon memory
 *               per waiter (VmRSS and Pss), daemon thread count
 *   aio         4 KiB reads through kernel AIO and through the mount's
 *               control file: one at a time, one at a time with the
 *               completion seen through epoll on the RESFD (a kernel
 *               eventfd, then a counter of the mount), and 32 per submit,
 *               each against its floor (the kernel's figure plus the FUSE
 *               traffic of one submit, measured on barefuse alongside);
 *               and one 64 MiB PWRITE to tmpfs, in MiB/s
 *   load        ping-pong round trip next to a buffered writer in /var/tmp,
 *               then next to the same writes submitted as AIO through
 *               evfdfs
 *
 * Usage: evbench [-q] [-r RUNS] [-o FILE] [-s SECTIONS] [-n ITERS]
 *                [--bare MNT --bare-pid PID] [--evfdfs MNT --evfdfs-pid PID]
 *                [--load-dir DIR] [--aio-dir DIR]
 * -q: quick sizes; -n: the same iteration count for every figure (for
 * profiling).  Exit status: 0 when every figure was measured and is
 * positive and finite.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "evbench.h"

#define STOP_VALUE 2 /* ping-pong: the last ping */

/* ---- 1. blocking ping-pong ------------------------------------------- */

static const char *const pp_what[] = {
	"ping-pong, 2 threads (own fds)",
	"ping-pong, 2 processes",
	"ping-pong, 2 threads, shared fd",
};

/* The echo side: read a ping, answer a pong, until the last ping. */
static int pp_echo(int ping_r, int pong_w)
{
	uint64_t v;
	int ret;

	for (;;) {
		ret = read_u64(ping_r, &v);
		if (ret) {
			write_u64(pong_w, 3); /* tell the other side */
			return ret;
		}
		ret = write_u64(pong_w, 1);
		if (ret || v == STOP_VALUE)
			return ret;
	}
}

struct pp_thread {
	const struct ctx *cx;
	int bk;
	bool reopen;
	struct chan *ping, *pong;
	int ret;
};

static void *pp_echo_thread(void *arg)
{
	struct pp_thread *t = arg;
	struct chan ping, pong;

	if (t->reopen) {
		t->ret = chan_reopen(t->cx, t->bk, "ping", t->ping, &ping);
		if (t->ret)
			return NULL;
		t->ret = chan_reopen(t->cx, t->bk, "pong", t->pong, &pong);
		if (t->ret) {
			chan_close(&ping);
			return NULL;
		}
	} else {
		ping = *t->ping;
		pong = *t->pong;
		ping.own = pong.own = false;
	}
	t->ret = pp_echo(ping.rfd, pong.wfd);
	chan_close(&ping);
	chan_close(&pong);
	return NULL;
}

/*
 * The measuring side: iters timed round trips after warm untimed ones, at
 * most cap seconds.  Always ends with STOP_VALUE, so both counters are 0
 * again.  Returns how many round trips went into @lat, or -errno.
 */
static long pp_drive(int ping_w, int pong_r, long warm, long iters, double cap,
		     int64_t *lat, double *elapsed)
{
	double start = now_s(), t_begin = 0;
	long i, n = 0;
	uint64_t v;
	int ret = 0;

	for (i = 0; i < warm + iters; i++) {
		int64_t t0;

		if (i == warm)
			t_begin = now_s();
		t0 = now_ns();
		ret = write_u64(ping_w, 1);
		if (!ret)
			ret = read_u64(pong_r, &v);
		if (!ret && v != 1)
			ret = -EPROTO;
		if (ret)
			break;
		if (i >= warm)
			lat[n++] = now_ns() - t0;
		if ((i & 63) == 0 && now_s() - start > cap)
			break;
	}
	if (ret) {
		write_u64(ping_w, STOP_VALUE); /* release the echo side */
		return ret;
	}
	*elapsed = now_s() - t_begin;
	ret = write_u64(ping_w, STOP_VALUE);
	if (!ret)
		ret = read_u64(pong_r, &v);
	return ret ? ret : n;
}

long pingpong(const struct ctx *cx, int bk, int mode, long iters, int64_t *lat,
	      double *elapsed)
{
	struct chan ping, pong;
	struct pp_thread t = {
		.cx = cx, .bk = bk, .ping = &ping, .pong = &pong
	};
	long warm = iters / 20 + 10;
	double cap = cx->quick ? 3 : 20;
	pthread_t th;
	pid_t child;
	long ret;
	int status;

	/* A failed earlier run may have left a value behind. */
	ret = chan_drain(cx, bk, "ping");
	if (!ret)
		ret = chan_drain(cx, bk, "pong");
	if (ret)
		return ret;
	ret = chan_open(cx, bk, "ping", 0, &ping);
	if (ret)
		return ret;
	ret = chan_open(cx, bk, "pong", 0, &pong);
	if (ret)
		goto out_close_ping;
	if (mode == PP_PROCS) {
		child = fork();
		if (child < 0) {
			ret = -errno;
			goto out_close_pong;
		}
		if (child == 0) {
			struct chan p2, q2;

			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (chan_reopen(cx, bk, "ping", &ping, &p2) ||
			    chan_reopen(cx, bk, "pong", &pong, &q2)) {
				write_u64(pong.wfd, 3);
				_exit(1);
			}
			_exit(pp_echo(p2.rfd, q2.wfd) ? 1 : 0);
		}
		ret = pp_drive(ping.wfd, pong.rfd, warm, iters, cap, lat,
			       elapsed);
		if (waitpid(child, &status, 0) == child && ret >= 0 &&
		    !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
			ret = -ECHILD;
		goto out_close_pong;
	}
	t.reopen = mode == PP_THREADS;
	ret = -(long)pthread_create(&th, NULL, pp_echo_thread, &t);
	if (ret)
		goto out_close_pong;
	ret = pp_drive(ping.wfd, pong.rfd, warm, iters, cap, lat, elapsed);
	pthread_join(th, NULL);
	if (ret >= 0 && t.ret)
		ret = t.ret;
out_close_pong:
	chan_close(&pong);
out_close_ping:
	chan_close(&ping);
	return ret;
}

static void run_pingpong(struct ctx *cx)
{
	int m;

	for (m = PP_THREADS; m <= PP_SHARED; m++)
		interleave(cx, pp_what[m], M_OPS, all_bks, NBK, pingpong, m,
			   cx->pp_iters);
}

/* ---- 2. non-blocking write and read, one thread --------------------- */

/* @variant 0: the latencies of the writes; 1: of the reads. */
static long nonblock(const struct ctx *cx, int bk, int variant, long iters,
		     int64_t *lat, double *elapsed)
{
	long warm = iters / 20 + 10, i;
	struct chan c;
	uint64_t v;
	int ret;

	*elapsed = 0;
	ret = chan_drain(cx, bk, "c0");
	if (ret)
		return ret;
	ret = chan_open(cx, bk, "c0", O_NONBLOCK, &c);
	if (ret)
		return ret;
	/* The counter must be empty to begin with: a read of one that is
	 * must fail with EAGAIN, not block. */
	if (read_u64(c.rfd, &v) != -EAGAIN) {
		ret = -EPROTO;
		goto out_close;
	}
	for (i = 0; i < warm + iters; i++) {
		int64_t t0 = now_ns(), t1, t2;

		ret = write_u64(c.wfd, 1);
		t1 = now_ns();
		if (!ret)
			ret = read_u64(c.rfd, &v);
		t2 = now_ns();
		if (!ret && v != 1)
			ret = -EPROTO;
		if (ret)
			goto out_close;
		if (i >= warm) {
			int64_t d = variant ? t2 - t1 : t1 - t0;

			lat[i - warm] = d;
			*elapsed += (double)d * 1e-9;
		}
	}
out_close:
	chan_close(&c);
	return ret ? ret : iters;
}

static void run_nonblock(struct ctx *cx)
{
	interleave(cx, "non-blocking write(8), 1 thread", M_OPS, all_bks, NBK,
		   nonblock, 0, cx->nb_iters);
	interleave(cx, "non-blocking read (count > 0)", M_OPS, all_bks, NBK,
		   nonblock, 1, cx->nb_iters);
}

/* ---- 3. poll wake-up latency ---------------------------------------- */

struct poll_shm {
	_Atomic int64_t t0; /* set by the writer just before write() */
	int64_t lat[];
};

/* Is the task sleeping in poll() or epoll_wait()? */
static bool in_poll(pid_t pid)
{
	char path[64], buf[128];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/wchan", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	return strstr(buf, "poll") != NULL;
}

/* The poller: announce readiness, wait, note the time, drain, again. */
static int poller(int fd, bool use_epoll, int readyfd, struct poll_shm *shm,
		  long iters)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct epoll_event ev = { .events = EPOLLIN };
	int ep = -1, n;
	long i;
	uint64_t v;

	if (use_epoll) {
		ep = epoll_create1(EPOLL_CLOEXEC);
		if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev))
			return 1;
	}
	for (i = 0; i < iters; i++) {
		if (write_u64(readyfd, 1))
			return 1;
		n = use_epoll ? epoll_wait(ep, &ev, 1, 10000)
			      : poll(&pfd, 1, 10000);
		if (n != 1)
			return 1;
		shm->lat[i] = now_ns() - atomic_load(&shm->t0);
		if (read_u64(fd, &v))
			return 1;
	}
	return 0;
}

/* @variant 0: poll(); 1: epoll_wait().  Latency only: *elapsed is 0. */
static long pollwake(const struct ctx *cx, int bk, int variant, long iters,
		     int64_t *lat, double *elapsed)
{
	bool use_epoll = variant;
	size_t shm_len =
		sizeof(struct poll_shm) + (size_t)iters * sizeof(int64_t);
	long warm = iters / 10 + 5, i;
	int readyfd, ret = 0, status;
	struct poll_shm *shm;
	struct chan c;
	pid_t child;
	uint64_t v;

	shm = mmap(NULL, shm_len + (size_t)warm * sizeof(int64_t),
		   PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shm == MAP_FAILED)
		return -errno;
	readyfd = eventfd(0, EFD_CLOEXEC);
	if (readyfd < 0) {
		ret = -errno;
		goto out_unmap;
	}
	ret = chan_drain(cx, bk, "c1");
	if (ret)
		goto out_close_ready;
	ret = chan_open(cx, bk, "c1", 0, &c);
	if (ret)
		goto out_close_ready;
	child = fork();
	if (child < 0) {
		ret = -errno;
		goto out_close_chan;
	}
	if (child == 0) {
		struct chan own;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (chan_reopen(cx, bk, "c1", &c, &own))
			_exit(1);
		_exit(poller(own.rfd, use_epoll, readyfd, shm, warm + iters));
	}
	prctl(PR_SET_TIMERSLACK, 1000UL);
	for (i = 0; i < warm + iters; i++) {
		struct pollfd pr = { .fd = readyfd, .events = POLLIN };
		double deadline;

		/* The poller may be gone: never wait for it unbounded. */
		if (poll(&pr, 1, 10000) != 1 || read_u64(readyfd, &v)) {
			ret = -ETIMEDOUT;
			break;
		}
		/* Write only once it sleeps in poll, so the figure is a
		 * wake-up and not a poll that finds the counter ready. */
		deadline = now_s() + 0.05;
		while (!in_poll(child) && now_s() < deadline) {
			struct timespec ts = { 0, 20000 };

			nanosleep(&ts, NULL);
		}
		atomic_store(&shm->t0, now_ns());
		ret = write_u64(c.wfd, 1);
		if (ret)
			break;
	}
	if (ret)
		kill(child, SIGKILL);
	if (waitpid(child, &status, 0) == child && !ret &&
	    !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
		ret = -ECHILD;
	if (!ret) {
		memcpy(lat, shm->lat + warm, (size_t)iters * sizeof(*lat));
		*elapsed = 0;
	}
out_close_chan:
	chan_close(&c);
out_close_ready:
	close(readyfd);
out_unmap:
	munmap(shm, shm_len + (size_t)warm * sizeof(int64_t));
	return ret ? ret : iters;
}

static void run_poll(struct ctx *cx)
{
	static const char *const what[] = { "poll() wake-up latency",
					    "epoll_wait() wake-up latency" };
	int e;

	for (e = 0; e < 2; e++)
		interleave(cx, what[e], M_LAT, all_bks, NBK, pollwake, e,
			   cx->poll_iters);
}

static void usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [-q] [-r RUNS] [-o FILE] [-s SECTIONS] "
		"[--bare MNT --bare-pid PID] [--evfdfs MNT --evfdfs-pid PID] "
		"[--load-dir DIR] [--aio-dir DIR] [-n ITERS]\n"
		"  SECTIONS: comma-separated of pingpong,nonblock,poll,"
		"waiters,aio,load,tracers (default: all)\n",
		prog);
}

int main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "quick", no_argument, NULL, 'q' },
		{ "runs", required_argument, NULL, 'r' },
		{ "out", required_argument, NULL, 'o' },
		{ "sections", required_argument, NULL, 's' },
		{ "bare", required_argument, NULL, 'b' },
		{ "bare-pid", required_argument, NULL, 'B' },
		{ "evfdfs", required_argument, NULL, 'e' },
		{ "evfdfs-pid", required_argument, NULL, 'E' },
		{ "load-dir", required_argument, NULL, 'l' },
		{ "iters", required_argument, NULL, 'n' },
		{ "aio-dir", required_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 },
	};
	static struct ctx cx = { .load_dir = "/var/tmp",
				 .aio_dir = "/dev/shm" };
	const char *names[] = { "ping", "pong", "sem", "c0", "c1", "c2", "c3" };
	long iters = 0;
	int opt, r, bad;
	size_t i;
	FILE *f;

	while ((opt = getopt_long(argc, argv, "qr:o:s:n:", longopts, NULL)) !=
	       -1) {
		switch (opt) {
		case 'q':
			cx.quick = true;
			break;
		case 'r':
			cx.runs = atoi(optarg);
			break;
		case 'o':
			cx.out = optarg;
			break;
		case 's':
			cx.sections = optarg;
			break;
		case 'b':
			cx.mnt[BK_BARE] = optarg;
			break;
		case 'B':
			cx.dpid[BK_BARE] = atoi(optarg);
			break;
		case 'e':
			cx.mnt[BK_EVFDFS] = optarg;
			break;
		case 'E':
			cx.dpid[BK_EVFDFS] = atoi(optarg);
			break;
		case 'l':
			cx.load_dir = optarg;
			break;
		case 'n':
			iters = atol(optarg);
			break;
		case 'a':
			cx.aio_dir = optarg;
			break;
		default:
			usage(argv[0]);
			return 2;
		}
	}
	if (!cx.runs)
		cx.runs = cx.quick ? 3 : 7;
	if (cx.runs < 1 || cx.runs > MAXRUNS) {
		fprintf(stderr, "evbench: 1 <= runs <= %d\n", MAXRUNS);
		return 2;
	}
	if (cx.quick) {
		cx.pp_iters = 1000;
		cx.nb_iters = 2000;
		cx.poll_iters = 100;
		cx.load_iters = 600;
		cx.aio_iters = 240;
		cx.aio_write_iters = 10;
		cx.aio_write_bytes = 4LL << 20;
		cx.load_bytes = 64LL << 20;
		cx.wait_n[0] = 100;
		cx.wait_n[1] = 1000;
		cx.wait_runs = 1;
	} else {
		cx.pp_iters = 20000;
		cx.nb_iters = 50000;
		cx.poll_iters = 2000;
		cx.load_iters = 10000;
		cx.aio_iters = 5000;
		cx.aio_write_iters = 20;
		cx.aio_write_bytes = 64LL << 20;
		cx.load_bytes = 1LL << 30;
		cx.wait_n[0] = 1000;
		cx.wait_n[1] = 10000;
		cx.wait_runs = 5;
	}
	if (iters > 0) /* for profiling: the same count everywhere */
		cx.pp_iters = cx.nb_iters = cx.poll_iters = cx.load_iters =
			cx.aio_iters = iters;
	signal(SIGPIPE, SIG_IGN);

	/* evfdfs counters are made here (barefuse has its files fixed). */
	if (cx.mnt[BK_EVFDFS]) {
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			char path[PATH_MAX];
			int fd;

			path_of(&cx, BK_EVFDFS, names[i], path, sizeof(path));
			fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
			if (fd < 0 || (strcmp(names[i], "sem") == 0 &&
				       fsetxattr(fd, "user.evfdfs.semaphore",
						 "1", 1, 0))) {
				fprintf(stderr, "evbench: %s: %s\n", path,
					strerror(errno));
				return 1;
			}
			close(fd);
		}
	}

	loadavg(cx.load_start, sizeof(cx.load_start));
	/* Waiters first: the daemons' heaps are still fresh, so what they
	 * grow by is what the blocked readers cost (later, the free memory
	 * that the other sections leave behind would absorb it). */
	if (section_on(&cx, "waiters")) {
		fprintf(stderr, "evbench: waiters\n");
		cx.section = 4;
		run_waiters(&cx);
	}
	for (r = 0; r < cx.runs; r++) {
		fprintf(stderr, "evbench: round %d/%d\n", r + 1, cx.runs);
		cx.section = 1;
		if (section_on(&cx, "pingpong"))
			run_pingpong(&cx);
		cx.section = 2;
		if (section_on(&cx, "nonblock"))
			run_nonblock(&cx);
		cx.section = 3;
		if (section_on(&cx, "poll"))
			run_poll(&cx);
		cx.section = 5;
		if (section_on(&cx, "aio"))
			run_aio(&cx);
		cx.section = 6;
		if (section_on(&cx, "load"))
			run_load(&cx);
		cx.section = 7;
		if (section_on(&cx, "tracers"))
			run_tracers(&cx);
	}
	loadavg(cx.load_end, sizeof(cx.load_end));
	bad = print_table(&cx, stdout);
	if (cx.out) {
		f = fopen(cx.out, "we");
		if (f) {
			print_table(&cx, f);
			fclose(f);
		} else {
			fprintf(stderr, "evbench: %s: %s\n", cx.out,
				strerror(errno));
			cx.failures++;
		}
	}
	if (bad)
		fprintf(stderr, "evbench: %d figures are not positive\n", bad);
	return cx.failures || bad ? 1 : 0;
}
