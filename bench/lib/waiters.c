// SPDX-License-Identifier: GPL-2.0-only
/*
 * Section 4, waiters at scale: N readers blocked at once on one semaphore
 * counter through one shared descriptor (FOPEN_STREAM makes that possible
 * on a FUSE file), then one write of N releases them all.  Measured: the
 * time from that write until the last reader returns; for a daemon, its
 * memory per blocked reader (VmRSS and smaps_rollup Pss, while blocked
 * minus before) and its thread count, which must not grow: a FUSE read
 * blocks a thread in the kernel, here in this program, not in the daemon.
 * The readers are threads with small stacks; RLIMIT_NPROC is raised when
 * it is below what they need.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include "../evbench.h"

struct proc_mem {
	long rss_kb, pss_kb, threads;
};

static long field_kb(const char *path, const char *key)
{
	char line[256];
	size_t n = strlen(key);
	long v = -1;
	FILE *f = fopen(path, "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, n) == 0) {
			v = strtol(line + n, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

static int proc_mem(pid_t pid, struct proc_mem *m)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	m->rss_kb = field_kb(path, "VmRSS:");
	m->threads = field_kb(path, "Threads:");
	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
	m->pss_kb = field_kb(path, "Pss:");
	return m->rss_kb < 0 || m->threads < 0 ? -ESRCH : 0;
}

struct waitset {
	int fd, donefd;
	unsigned int n;
	_Atomic unsigned int started, done, errors;
	_Atomic pid_t *tids;
};

struct waiter_arg {
	struct waitset *ws;
	unsigned int idx;
};

static void *waiter_main(void *p)
{
	struct waiter_arg *a = p;
	struct waitset *ws = a->ws;
	uint64_t v;

	atomic_store(&ws->tids[a->idx], gettid());
	atomic_fetch_add(&ws->started, 1);
	if (read_u64(ws->fd, &v) || v != 1)
		atomic_fetch_add(&ws->errors, 1);
	if (atomic_fetch_add(&ws->done, 1) + 1 == ws->n)
		write_u64(ws->donefd, 1);
	return NULL;
}

/* evfdfs only: how many reads its status file says are parked on sem. */
static long evfdfs_readers(const struct ctx *cx)
{
	char path[PATH_MAX], line[512], *p;
	long v = -1;
	FILE *f;

	path_of(cx, BK_EVFDFS, "status", path, sizeof(path));
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "counter sem ", 12) == 0 &&
		    (p = strstr(line, " readers=")))
			v = strtol(p + 9, NULL, 10);
	fclose(f);
	return v;
}

/*
 * Wait until all n readers sleep and, for a daemon, until it sleeps too
 * (so it has taken every request off the device and parked it).
 */
static int wait_parked(const struct ctx *cx, int bk, struct waitset *ws)
{
	double deadline = now_s() + (cx->quick ? 20 : 90);
	pid_t self = getpid();
	unsigned int i;
	int calm = 0;

	while (atomic_load(&ws->started) < ws->n)
		if (now_s() > deadline)
			return -ETIMEDOUT;
		else
			usleep(1000);
	while (calm < 2) {
		bool all = true;

		if (now_s() > deadline)
			return -ETIMEDOUT;
		for (i = 0; i < ws->n && all; i++)
			all = task_state(self, atomic_load(&ws->tids[i])) ==
			      'S';
		if (all && cx->dpid[bk])
			all = task_state(cx->dpid[bk], cx->dpid[bk]) == 'S';
		if (all && bk == BK_EVFDFS)
			all = evfdfs_readers(cx) == (long)ws->n;
		calm = all ? calm + 1 : 0;
		usleep(all ? 20000 : 5000);
	}
	return 0;
}

struct wait_result {
	double release_s;
	struct proc_mem before, during;
};

static int waiters(const struct ctx *cx, int bk, unsigned int n,
		   struct wait_result *res)
{
	struct waitset ws = { .n = n };
	struct waiter_arg *args;
	pthread_t *th;
	pthread_attr_t attr;
	struct pollfd pd;
	unsigned int i, made = 0;
	struct chan c;
	uint64_t v;
	double t0;
	int ret;

	th = calloc(n, sizeof(*th));
	args = calloc(n, sizeof(*args));
	ws.tids = calloc(n, sizeof(*ws.tids));
	if (!th || !args || !ws.tids) {
		ret = -ENOMEM;
		goto out_free;
	}
	ret = chan_drain(cx, bk, "sem");
	if (ret)
		goto out_free;
	ret = chan_open(cx, bk, "sem", 0, &c);
	if (ret)
		goto out_free;
	ws.fd = c.rfd;
	ws.donefd = eventfd(0, EFD_CLOEXEC);
	if (ws.donefd < 0) {
		ret = -errno;
		goto out_close;
	}
	/* One round trip first, so the daemon's buffers exist already. */
	ret = write_u64(c.wfd, 1);
	if (!ret)
		ret = read_u64(c.rfd, &v);
	if (ret)
		goto out_close_done;
	if (cx->dpid[bk] && !res->before.rss_kb) {
		ret = proc_mem(cx->dpid[bk], &res->before);
		if (ret)
			goto out_close_done;
	}
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	for (made = 0; made < n; made++) {
		args[made].ws = &ws;
		args[made].idx = made;
		ret = -pthread_create(&th[made], &attr, waiter_main,
				      &args[made]);
		if (ret)
			break;
	}
	pthread_attr_destroy(&attr);
	if (!ret)
		ret = wait_parked(cx, bk, &ws);
	if (!ret && cx->dpid[bk])
		ret = proc_mem(cx->dpid[bk], &res->during);
	/* Release them all with one write (also on failure: join them). */
	ws.n = made;
	t0 = now_s();
	if (made && write_u64(c.wfd, made) && !ret)
		ret = -EIO;
	pd.fd = ws.donefd;
	pd.events = POLLIN;
	if (made && poll(&pd, 1, 60000) != 1 && !ret)
		ret = -ETIMEDOUT;
	res->release_s = now_s() - t0;
	for (i = 0; i < made; i++)
		pthread_join(th[i], NULL);
	if (!ret && atomic_load(&ws.errors))
		ret = -EPROTO;
out_close_done:
	close(ws.donefd);
out_close:
	chan_close(&c);
out_free:
	free(th);
	free(args);
	free((void *)ws.tids);
	return ret;
}

static void raise_limits(struct ctx *cx, unsigned int n)
{
	struct rlimit rl;

	/* Each blocked reader is a thread here (a FUSE read blocks a thread
	 * in the kernel, not in the daemon). */
	if (getrlimit(RLIMIT_NPROC, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < n + 1000) {
		rl.rlim_cur =
			rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= n + 1000
				? n + 1000
				: rl.rlim_max;
		if (setrlimit(RLIMIT_NPROC, &rl))
			bench_warn(cx, "RLIMIT_NPROC stays at %llu",
				   (unsigned long long)rl.rlim_cur);
	}
}

/*
 * Memory is read from the first round only, 1,000 then 10,000: the
 * baseline is the daemon before its first waiter, and since freed heap
 * stays mapped and is reused, each later figure is the high-water mark of
 * the largest set so far, not of the set at hand.
 */
void run_waiters(struct ctx *cx)
{
	static char whats[2][64];
	struct proc_mem base[NBK] = { { 0 } };
	int bk, k, r, ret;

	raise_limits(cx, cx->wait_n[1]);
	for (k = 0; k < 2; k++)
		snprintf(whats[k], sizeof(whats[k]),
			 "release %u blocked readers", cx->wait_n[k]);
	for (r = 0; r < cx->wait_runs; r++) {
		for (bk = 0; bk < NBK; bk++) {
			if (bk == BK_PIPE || !have(cx, bk))
				continue;
			for (k = 0; k < 2; k++) {
				unsigned int n = cx->wait_n[k];
				struct wait_result res = { .before = base[bk] };
				struct sample s = { 0 };
				struct row *row;
				double rss, pss;

				ret = waiters(cx, bk, n, &res);
				if (ret) {
					bench_warn(cx, "%s on %s: %s", whats[k],
						   bk_name[bk], strerror(-ret));
					continue;
				}
				base[bk] = res.before;
				s.ops = n / res.release_s;
				/* The whole release as the "latency". */
				s.p50 = s.p99 = res.release_s * 1e6;
				record(cx, whats[k], M_OPS, bk, &s);
				if (!cx->dpid[bk] || r > 0)
					continue;
				row = &group_get(cx, whats[k], M_OPS)->rows[bk];
				rss = (double)(res.during.rss_kb -
					       res.before.rss_kb) *
				      1024.0 / n;
				pss = (double)(res.during.pss_kb -
					       res.before.pss_kb) *
				      1024.0 / n;
				snprintf(
					row->note, sizeof(row->note),
					"daemon +%.0f B/waiter RSS, +%.0f Pss; "
					"threads %ld->%ld",
					rss, pss, res.before.threads,
					res.during.threads);
			}
		}
	}
}
