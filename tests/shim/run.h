/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Running the shim's test programs (tests/shim-prog) natively and under
 * libevfdfs-preload.so, with their output captured and a deadline.
 */
#ifndef EVFDFS_SHIM_RUN_H
#define EVFDFS_SHIM_RUN_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/types.h>

struct run {
	char *out;  /* stdout, NUL-terminated */
	char *err;  /* stderr */
	int status; /* exit status, or 128+signal, or -1 (deadline) */
	pid_t pid;
};

/* How to run: natively, or under the shim with or without a mount. */
enum run_mode {
	RUN_NATIVE,
	RUN_SHIM,	   /* LD_PRELOAD and EVFDFS_MOUNT=@mnt */
	RUN_SHIM_NO_MOUNT, /* LD_PRELOAD only */
};

/*
 * run_prog() - run $B/@prog with @args (NULL-terminated, may be NULL) in
 * @mode, with @extra_env ("NAME=value" strings, NULL-terminated, may be
 * NULL) added, and wait at most @deadline_ms for it to exit; a program
 * still running then is killed and its status is -1.  Fails the test on
 * a setup error.
 */
void run_prog(struct run *r, enum run_mode mode, const char *mnt,
	      const char *prog, const char *const *args,
	      const char *const *extra_env, int deadline_ms);
void run_free(struct run *r);

/* $B/@name into @buf. */
const char *build_path(char *buf, size_t len, const char *name);

/* How many times @needle occurs in @text. */
int count_str(const char *text, const char *needle);

/*
 * A reader of MNT/trace in a thread of its own, so that the trace buffer
 * never overflows while a program runs: tracer_start() subscribes before
 * returning; tracer_stop() returns everything read (freed by
 * tracer_free()).
 */
struct tracer {
	int fd;
	pthread_t thread;
	atomic_bool stop;
	char *text;
	size_t len;
};

void tracer_start(struct tracer *t, const char *mnt);
const char *tracer_stop(struct tracer *t);
void tracer_free(struct tracer *t);

#endif
