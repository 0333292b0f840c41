// SPDX-License-Identifier: GPL-2.0-only
/*
 * Section 7, what idle trace readers cost the counters: the same ping-pong
 * (two threads) on barefuse and evfdfs, first with no reader of `trace`,
 * then while a child process holds many opens of `trace` (4,000; quick:
 * 400) and never reads them, so that every counter event is one that all
 * of them may see and none of them takes.  barefuse has no trace: its rows
 * show how much the round itself moved.  The evfdfs row of the second
 * figure notes its p50 against the first's (issue 9 asks for at most
 * 1.2x), how many opens the daemon granted (a global cap on trace buffers
 * may refuse some: the errno is noted), and the daemon's RSS before the
 * readers opened and after the round with them (the last round's).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../evbench.h"

static long rss_kb(pid_t pid)
{
	char path[64], line[256];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "VmRSS:", 6) == 0) {
			v = strtol(line + 6, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

/*
 * The child: open @path @n times (read-only, never read), report how many
 * opens worked and the errno that stopped it (two ints on @wfd), then wait
 * to be killed.
 */
static void __attribute__((noreturn))
hold_readers(const char *path, unsigned int n, int wfd)
{
	struct rlimit rl;
	int got[2] = { 0, 0 };

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < n + 64) {
		rl.rlim_cur = rl.rlim_max < n + 64 ? rl.rlim_max : n + 64;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	while ((unsigned int)got[0] < n) {
		if (open(path, O_RDONLY | O_CLOEXEC) < 0) {
			got[1] = errno;
			break;
		}
		got[0]++;
	}
	if (write(wfd, got, sizeof(got)) != (ssize_t)sizeof(got))
		_exit(1);
	for (;;)
		pause();
}

void run_tracers(struct ctx *cx)
{
	static const int bks[] = { BK_BARE, BK_EVFDFS };
	static char what1[64]; /* the table keeps the pointer */
	char path[4096];
	unsigned int n = cx->quick ? 400 : 4000;
	long rss0, rss1 = -1;
	int p[2], got[2] = { -1, 0 }, status;
	struct group *g0, *g1;
	pid_t child;

	if (!cx->mnt[BK_EVFDFS])
		return;
	interleave(cx, "round trip, no trace reader", M_OPS, bks, 2, pingpong,
		   PP_THREADS, cx->pp_iters);
	snprintf(what1, sizeof(what1), "round trip, %u idle trace readers", n);
	snprintf(path, sizeof(path), "%s/trace", cx->mnt[BK_EVFDFS]);
	rss0 = cx->dpid[BK_EVFDFS] ? rss_kb(cx->dpid[BK_EVFDFS]) : -1;
	if (pipe2(p, O_CLOEXEC)) {
		bench_warn(cx, "pipe: %s", strerror(errno));
		return;
	}
	child = fork();
	if (child < 0) {
		bench_warn(cx, "fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return;
	}
	if (child == 0)
		hold_readers(path, n, p[1]);
	close(p[1]);
	if (read(p[0], got, sizeof(got)) != (ssize_t)sizeof(got))
		bench_warn(cx, "the trace reader child failed");
	close(p[0]);
	if (got[0] > 0)
		interleave(cx, what1, M_OPS, bks, 2, pingpong, PP_THREADS,
			   cx->pp_iters);
	if (cx->dpid[BK_EVFDFS])
		rss1 = rss_kb(cx->dpid[BK_EVFDFS]);
	kill(child, SIGKILL);
	waitpid(child, &status, 0);

	/* The note: this round's evfdfs p50 against the no-reader one. */
	g0 = group_get(cx, "round trip, no trace reader", M_OPS);
	g1 = group_get(cx, what1, M_OPS);
	if (g0 && g1) {
		struct row *r0 = &g0->rows[BK_EVFDFS],
			   *r1 = &g1->rows[BK_EVFDFS];
		double a[MAXRUNS], b[MAXRUNS];
		int i;

		for (i = 0; i < r0->n; i++)
			a[i] = r0->s[i].p50;
		for (i = 0; i < r1->n; i++)
			b[i] = r1->s[i].p50;
		snprintf(r1->note, sizeof(r1->note),
			 "p50 %.2fx of none; %d opened%s%s; RSS %ld->%ld MiB",
			 r1->n && r0->n ? median(b, r1->n) / median(a, r0->n)
					: 0.0,
			 got[0], got[1] ? ", then " : "",
			 got[1] ? strerror(got[1]) : "", rss0 / 1024,
			 rss1 / 1024);
	}
}
