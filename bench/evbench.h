/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the parts of evbench share: the backends under comparison, the
 * run's context (sizes, mounts, results), the results table, channels
 * (one direction of counter traffic on any backend) and the measurement
 * interface that lets every backend take its turn in the same round.
 */
#ifndef EVBENCH_H
#define EVBENCH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define MAXRUNS 15
#define MAXGROUPS 24

enum bk { BK_KERNEL, BK_PIPE, BK_BARE, BK_EVFDFS, NBK };

extern const char *const bk_name[NBK];
extern const int all_bks[NBK];

/* What makes a figure better: more ops/s, or a lower p50. */
enum merit { M_OPS, M_LAT };

/* One measurement: ops/s (0 when not meaningful), latencies in us. */
struct sample {
	double ops, p50, p99;
};

/* One backend's figure: a sample per round, and a free-form note. */
struct row {
	struct sample s[MAXRUNS];
	int n;
	char note[96];
};

/*
 * One line of the table per backend, under one heading.  An AIO group with
 * a floor (section 5) uses barefuse's row for the FUSE traffic its design
 * needs at the least; the table adds a "floor" line, per round the
 * kernel's p50 plus that row's, and gives evfdfs's p50 against it.
 */
struct group {
	const char *what;
	int section; /* the table is in section order */
	enum merit merit;
	bool floor;	 /* barefuse's row is the floor's FUSE part */
	long long bytes; /* per operation, for MiB/s in the notes; 0: none */
	struct row rows[NBK];
	bool used[NBK];
};

struct ctx {
	bool quick;
	int runs;
	const char *mnt[NBK]; /* FUSE mount points, NULL if absent */
	pid_t dpid[NBK];      /* their daemons, 0 if unknown */
	const char *sections; /* NULL: all */
	const char *out;
	const char *load_dir; /* section 6's writer: a disk */
	const char *aio_dir;  /* section 5's file: tmpfs */
	/* sizes, per round */
	long pp_iters, nb_iters, poll_iters, load_iters, aio_iters;
	long aio_write_iters; /* section 5's big PWRITE */
	long long load_bytes, aio_write_bytes;
	unsigned int wait_n[2];
	int wait_runs;
	int section;			   /* the section running (1-7) */
	char load_start[64], load_end[64]; /* /proc/loadavg */
	/* results */
	struct group groups[MAXGROUPS];
	int ngroups;
	int failures;
};

/* util.c */
double now_s(void);
int64_t now_ns(void);
void bench_warn(struct ctx *cx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
bool have(const struct ctx *cx, int bk);
bool section_on(const struct ctx *cx, const char *name);
int write_u64(int fd, uint64_t v);
int read_u64(int fd, uint64_t *v);
void path_of(const struct ctx *cx, int bk, const char *name, char *buf,
	     size_t len);
char task_state(pid_t pid, pid_t tid);
void loadavg(char *buf, size_t len);

/*
 * A channel: one direction of traffic.  Kernel eventfd: one descriptor
 * for both ends.  Pipe: the two ends.  FUSE: one open file, O_RDWR.
 */
struct chan {
	int rfd, wfd;
	bool own; /* this struct opened them */
};

int chan_open(const struct ctx *cx, int bk, const char *name, int flags,
	      struct chan *c);
int chan_reopen(const struct ctx *cx, int bk, const char *name,
		const struct chan *base, struct chan *c);
int chan_drain(const struct ctx *cx, int bk, const char *name);
void chan_close(struct chan *c);

/*
 * A measurement: up to @iters latencies (ns) into @lat, and in *@elapsed
 * the time they took (0 where ops/s means nothing).  Returns how many
 * latencies, or -errno.
 */
typedef long (*measure_fn)(const struct ctx *cx, int bk, int variant,
			   long iters, int64_t *lat, double *elapsed);

void interleave(struct ctx *cx, const char *what, enum merit merit,
		const int *bks, int nbks, measure_fn fn, int variant,
		long iters);

/* report.c */
struct group *group_get(struct ctx *cx, const char *what, enum merit merit);
void record(struct ctx *cx, const char *what, enum merit merit, int bk,
	    const struct sample *s);
double median(double *v, int n);
void summarize(int64_t *lat, long n, double elapsed, struct sample *s);
int print_table(const struct ctx *cx, FILE *f);

/* The sections: evbench.c (1-3), waiters.c (4), aio.c (5), load.c (6),
 * tracers.c (7). */
enum pp_mode { PP_THREADS, PP_PROCS, PP_SHARED };
long pingpong(const struct ctx *cx, int bk, int mode, long iters, int64_t *lat,
	      double *elapsed);
void run_waiters(struct ctx *cx);
void run_aio(struct ctx *cx);
void run_load(struct ctx *cx);
void run_tracers(struct ctx *cx);
void load_aio_writer(const struct ctx *cx, long long bytes,
		     _Atomic long long *written) __attribute__((noreturn));

#endif /* EVBENCH_H */
