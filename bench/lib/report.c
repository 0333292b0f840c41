// SPDX-License-Identifier: GPL-2.0-only
/*
 * evbench results: every figure is kept per round, and the table shows the
 * median over the rounds of each figure and of each ratio.  A ratio is
 * taken inside one round (the backends took turns in it, see interleave())
 * and only then reduced to its median: the machine's weather cancels out
 * of the ratio even when it does not cancel out of the figures.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "../evbench.h"

/* The group headed @what, made on first use (in the order of the table). */
struct group *group_get(struct ctx *cx, const char *what, enum merit merit)
{
	int i;

	for (i = 0; i < cx->ngroups; i++)
		if (strcmp(cx->groups[i].what, what) == 0)
			return &cx->groups[i];
	if (cx->ngroups == MAXGROUPS)
		abort(); /* a programming error: raise MAXGROUPS */
	cx->groups[cx->ngroups].what = what;
	cx->groups[cx->ngroups].section = cx->section;
	cx->groups[cx->ngroups].merit = merit;
	return &cx->groups[cx->ngroups++];
}

void record(struct ctx *cx, const char *what, enum merit merit, int bk,
	    const struct sample *s)
{
	struct group *g = group_get(cx, what, merit);
	struct row *r = &g->rows[bk];

	g->used[bk] = true;
	if (r->n < MAXRUNS)
		r->s[r->n++] = *s;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double median(double *v, int n)
{
	if (n == 0)
		return NAN;
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* Latencies in ns to p50/p99 in us; elapsed seconds to ops/s. */
void summarize(int64_t *lat, long n, double elapsed, struct sample *s)
{
	qsort(lat, (size_t)n, sizeof(*lat), cmp_i64);
	s->p50 = (double)lat[n / 2] / 1000.0;
	s->p99 = (double)lat[(n * 99) / 100] / 1000.0;
	s->ops = elapsed > 0 ? (double)n / elapsed : 0;
}

static double merit_of(enum merit m, const struct sample *s)
{
	return m == M_OPS ? s->ops : (s->p50 > 0 ? 1.0 / s->p50 : 0);
}

/*
 * Median over rounds of (this row / reference row), same round each, as
 * speeds by @m: ops/s, or 1/p50.  The table compares p50s: the typical
 * operation is what the other tenants of a shared machine move least (the
 * mean behind ops/s carries every preemption by them).
 */
static double ratio(const struct group *g, enum merit m, int bk, int ref)
{
	const struct row *a = &g->rows[bk], *b = &g->rows[ref];
	double v[MAXRUNS];
	int i, n = 0;

	if (!g->used[bk] || !g->used[ref])
		return NAN;
	for (i = 0; i < a->n && i < b->n; i++) {
		double x = merit_of(m, &a->s[i]), y = merit_of(m, &b->s[i]);

		if (x > 0 && y > 0)
			v[n++] = x / y;
	}
	return median(v, n);
}

static void fmt_ratio(char *buf, size_t len, double r)
{
	if (isnan(r))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.2fx", r);
}

static void fmt_num(char *buf, size_t len, double v, const char *f)
{
	if (isnan(v) || v <= 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, f, v);
}

/*
 * A floor group's floor, round by round: the kernel's p50 plus barefuse's
 * (its FUSE part), into @fl; evfdfs's p50 speed against it (floor over
 * evfdfs, above 1 is faster than the floor) into @vs, and evfdfs's p50
 * over the floor into @over, as issue 10 states its targets.  Returns
 * how many rounds have all three rows.
 */
static int floor_rounds(const struct group *g, double *fl, double *vs,
			double *over)
{
	const struct row *k = &g->rows[BK_KERNEL], *b = &g->rows[BK_BARE],
			 *e = &g->rows[BK_EVFDFS];
	int i, n = 0;

	if (!g->used[BK_KERNEL] || !g->used[BK_BARE] || !g->used[BK_EVFDFS])
		return 0;
	for (i = 0; i < k->n && i < b->n && i < e->n; i++) {
		double f = k->s[i].p50 + b->s[i].p50;

		if (!(f > 0) || !(e->s[i].p50 > 0))
			continue;
		fl[n] = f;
		vs[n] = f / e->s[i].p50;
		over[n++] = e->s[i].p50 / f;
	}
	return n;
}

/* The floor's line of a floor group, and evfdfs's note against it;
 * returns how many of the two figures are not positive and finite. */
static int print_floor(const struct group *g, FILE *f, char *note, size_t len)
{
	double fl[MAXRUNS], vs[MAXRUNS], over[MAXRUNS];
	int n = floor_rounds(g, fl, vs, over);
	double mf = median(fl, n), mv = median(vs, n), mo = median(over, n);
	char b[32], rv[32], ro[32];

	fmt_num(b, sizeof(b), mf, mf < 100 ? "%.2f" : "%.0f");
	fprintf(f, "%-38s %-9s %11s %9s %9s %8s %8s  %s\n", "", "floor", "-", b,
		"-", "-", "-", "kernel + barefuse, per round");
	fmt_ratio(rv, sizeof(rv), mv);
	fmt_ratio(ro, sizeof(ro), mo);
	snprintf(note, len, "vs floor %s (p50 %s floor's)", rv, ro);
	return (mf > 0 && isfinite(mf) ? 0 : 1) +
	       (mv > 0 && isfinite(mv) ? 0 : 1);
}

/* Print the table; returns how many figures are not positive and finite. */
int print_table(const struct ctx *cx, FILE *f)
{
	struct utsname u;
	char model[128] = "?", line[256];
	FILE *ci = fopen("/proc/cpuinfo", "re");
	bool floors = false;
	int gi, bk, bad = 0;

	if (ci) {
		while (fgets(line, sizeof(line), ci))
			if (strncmp(line, "model name", 10) == 0) {
				char *p = strchr(line, ':');

				snprintf(model, sizeof(model), "%.120s",
					 p ? p + 2 : line);
				model[strcspn(model, "\n")] = 0;
				break;
			}
		fclose(ci);
	}
	uname(&u);
	fprintf(f,
		"evfdfs benchmark (%s): %d rounds, median of rounds; "
		"ratios per round, then median (speed: >1 is faster)\n"
		"machine: %ld CPUs, %s, Linux %s; "
		"load average %s at start, %s at end\n\n",
		cx->quick ? "quick" : "full", cx->runs,
		sysconf(_SC_NPROCESSORS_ONLN), model, u.release, cx->load_start,
		cx->load_end);
	fprintf(f, "%-38s %-9s %11s %9s %9s %8s %8s  %s\n", "what", "backend",
		"ops/s", "p50 us", "p99 us", "vs bare", "vs kern", "notes");
	for (gi = 0; gi < cx->ngroups * 8; gi++) {
		/* Section by section, each in the order its groups came. */
		const struct group *g = &cx->groups[gi % cx->ngroups];

		if (g->section != gi / cx->ngroups)
			continue;
		bool first = true;
		char fnote[96] = "";

		for (bk = 0; bk < NBK; bk++) {
			const struct row *r = &g->rows[bk];
			double ops[MAXRUNS], p50[MAXRUNS], p99[MAXRUNS];
			char a[32], b[32], c[32], rb[32], rk[32], ob[112];
			int i;

			if (!g->used[bk] || !r->n)
				continue;
			for (i = 0; i < r->n; i++) {
				ops[i] = r->s[i].ops;
				p50[i] = r->s[i].p50;
				p99[i] = r->s[i].p99;
			}
			double mo = median(ops, r->n), m5 = median(p50, r->n),
			       m9 = median(p99, r->n);

			if (!(m5 > 0 && isfinite(m5)) ||
			    !(m9 > 0 && isfinite(m9)) || !isfinite(mo) ||
			    (g->merit == M_OPS && !(mo > 0)))
				bad++;
			if (g->floor && bk == BK_EVFDFS) {
				/* The floor goes just above evfdfs. */
				bad += print_floor(g, f, fnote, sizeof(fnote));
				floors = true;
			}
			if (g->merit == M_OPS)
				fmt_num(a, sizeof(a), mo, "%.0f");
			else
				snprintf(a, sizeof(a), "-");
			fmt_num(b, sizeof(b), m5, m5 < 100 ? "%.2f" : "%.0f");
			fmt_num(c, sizeof(c), m9, m9 < 100 ? "%.2f" : "%.0f");
			/* A floor group's barefuse row is no AIO: it is
			 * compared with nothing, and nothing with it. */
			fmt_ratio(rb, sizeof(rb),
				  bk == BK_BARE || g->floor
					  ? NAN
					  : ratio(g, M_LAT, bk, BK_BARE));
			fmt_ratio(rk, sizeof(rk),
				  bk == BK_KERNEL || (g->floor && bk == BK_BARE)
					  ? NAN
					  : ratio(g, M_LAT, bk, BK_KERNEL));
			ob[0] = 0;
			if (g->floor && bk == BK_EVFDFS)
				snprintf(ob, sizeof(ob), "%s%s", fnote,
					 r->note[0] ? "; " : "");
			else if (g->merit == M_OPS && bk == BK_EVFDFS &&
				 g->used[BK_BARE])
				snprintf(ob, sizeof(ob), "ops/s %.2fx bare%s",
					 ratio(g, M_OPS, bk, BK_BARE),
					 r->note[0] ? "; " : "");
			else if (g->bytes && g->merit == M_OPS) {
				double mib = mo * (double)g->bytes / 1048576.0,
				       rm = ratio(g, M_OPS, bk, BK_KERNEL);

				if (bk == BK_KERNEL)
					snprintf(ob, sizeof(ob), "MiB/s %.0f%s",
						 mib, r->note[0] ? "; " : "");
				else {
					snprintf(ob, sizeof(ob),
						 "MiB/s %.0f, %.2fx kern%s",
						 mib, rm,
						 r->note[0] ? "; " : "");
					if (g->used[BK_KERNEL] &&
					    !(rm > 0 && isfinite(rm)))
						bad++;
				}
			}
			fprintf(f, "%-38s %-9s %11s %9s %9s %8s %8s  %s%s\n",
				first ? g->what : "", bk_name[bk], a, b, c, rb,
				rk, ob, r->note);
			first = false;
		}
	}
	fprintf(f,
		"\nops/s: round trips, calls, batches or readers released per "
		"second; p50/p99: one of\n"
		"them, in us (release rows: the whole release).  vs bare / vs "
		"kern: p50 speed relative\n"
		"to barefuse / the kernel (its eventfd; for the AIO rows, "
		"io_submit and io_getevents)\n"
		"in the same round, median over the rounds; above 1 is "
		"faster.\n");
	if (floors)
		fprintf(f,
			"floor (AIO rows): the least a design with one FUSE "
			"write per submit and reaping\n"
			"from a mapped ring costs, per round: the kernel's p50 "
			"plus barefuse's p50 in\n"
			"the same group, which is one O_NONBLOCK write(8) (one "
			"FUSE WRITE round trip) or,\n"
			"for the RESFD counter, a write(8), an epoll_wait() "
			"that finds the counter ready\n"
			"(a FUSE POLL round trip) and its read, timed as one.  "
			"vs floor: the floor over\n"
			"evfdfs's p50 per round, median (issue 10's targets "
			"are p50 at most 1.3x the\n"
			"floor's: 0.77x or more).  MiB/s: ops/s times the "
			"write's size; its ratio per round.\n");
	return bad;
}
