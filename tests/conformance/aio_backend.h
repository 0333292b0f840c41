/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * AIO conformance harness: a case is written once against struct
 * aio_backend and runs twice, on the kernel (libaio's calls, kernel
 * eventfds) and on the shared mount (libevfdfs's calls on its control
 * file, counters of the mount from evfdfs_eventfd()).  Both runs record
 * what they observe in a transcript (io_submit results and errnos, events
 * with data, obj, res and res2, RESFD counts), and the transcripts must be
 * equal, as in backend.h.
 *
 * Regular files are the same on both sides: files in /var/tmp and
 * /dev/shm that the case creates.
 */
#ifndef EVFDFS_CONFORMANCE_AIO_BACKEND_H
#define EVFDFS_CONFORMANCE_AIO_BACKEND_H

#include <libaio.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>

#include "backend.h"

struct aio_backend {
	const char *name;
	bool mount;
	/* io_setup(nr, ctxp): 0 or -errno; @ctxp is passed through as
	 * given, so that bad pointers reach the implementation. */
	int (*setup)(unsigned int nr, void **ctxp);
	int (*destroy)(void *ctx);
	int (*submit)(void *ctx, long nr, struct iocb **iocbs);
	int (*getevents)(void *ctx, long min_nr, long nr,
			 struct io_event *events, struct timespec *ts);
	/* io_pgetevents with libaio's signature (sigmask may be NULL) */
	int (*pgetevents)(void *ctx, long min_nr, long nr,
			  struct io_event *events, struct timespec *ts,
			  const sigset_t *sigmask);
	int (*cancel)(void *ctx, struct iocb *iocb, struct io_event *ev);
	int (*queue_init)(int maxevents, void **ctxp);
	int (*queue_run)(void *ctx);
	/* A counter, like eventfd2(initval, flags): the RESFD and the
	 * counter target of a case.  Fails the test on error. */
	int (*counter)(unsigned int initval, int flags);
	/* Bring a counter to @val (values near the top). */
	void (*set_count)(int fd, uint64_t val);
};

extern const struct aio_backend aio_backend_kernel;
extern const struct aio_backend aio_backend_mount;

typedef void (*aio_conform_fn)(const struct aio_backend *b,
			       struct evt_transcript *t);

/* Run @fn on both backends and compare the transcripts. */
void aio_conform_run(aio_conform_fn fn);

/*
 * ACONFORM(name, criterion options...) { body using b and t }
 * defines Test(aio, name) running the body on both backends.  The timeout
 * is CONFORM's: Criterion 2.4.1's runner leaks a timer entry when the
 * tests of one binary have different timeouts, which fails SANITIZE=1.
 */
#define ACONFORM(name, ...)                                  \
	static void name##_body(const struct aio_backend *b, \
				struct evt_transcript *t);   \
	Test(aio, name, .timeout = 30, ##__VA_ARGS__)        \
	{                                                    \
		aio_conform_run(name##_body);                \
	}                                                    \
	static void name##_body(const struct aio_backend *b, \
				struct evt_transcript *t)

/* A context value that nobody set up (readable memory, all zero). */
void *aio_bad_ctx(void);

/* Set up a context of @nr events, failing the test on error. */
void *aio_ctx(const struct aio_backend *b, unsigned int nr);

/* Record "label: ret=N" or "label: err=ENAME" for a -errno result. */
void aio_rec(struct evt_transcript *t, const char *label, long ret);

/*
 * Record @n events, naming each obj by its index in @iocbs (or "?"), res
 * as a number or an errno name, in the order given.
 */
void aio_rec_events(struct evt_transcript *t, const char *label,
		    const struct io_event *ev, int n, struct iocb *const *iocbs,
		    int niocbs);

/*
 * Collect exactly @n events (waiting at most a few seconds for the last),
 * sort them by iocb index and record them; returns how many arrived.
 */
int aio_collect(const struct aio_backend *b, struct evt_transcript *t,
		void *ctx, int n, struct iocb *const *iocbs, int niocbs,
		bool sorted);

/*
 * Record how much a RESFD counter was signalled: wait (bounded) until it
 * reaches @expect, then take what else is there too.
 */
void aio_rec_resfd(struct evt_transcript *t, int fd, uint64_t expect);

/* A regular file in @dir (/var/tmp or /dev/shm) holding @len bytes of a
 * known pattern, opened with @oflags, already unlinked. */
int aio_tmpfile(const char *dir, size_t len, int oflags);
/* The pattern byte at offset @off of aio_tmpfile's files. */
static inline char aio_pattern(size_t off)
{
	return (char)('a' + off % 23);
}
/* "@label: data ok", or where @buf first differs from the pattern at @off. */
void aio_rec_data(struct evt_transcript *t, const char *label, const char *buf,
		  size_t len, size_t off);
/* A descriptor number that is not open (far above what tests open, so
 * that no later open takes it). */
int aio_closed_fd(void);
/* Reopen @fd's file with @oflags (a new open file description). */
int aio_reopen(int fd, int oflags);

/* Repeating signal sender: every @period_ms to @thread until stopped. */
struct aio_pinger {
	pthread_t thread, target;
	int sig;
	int period_ms;
	int delay_ms;
	volatile bool stop;
};
void aio_pinger_start(struct aio_pinger *p, pthread_t target, int sig,
		      int delay_ms, int period_ms);
void aio_pinger_stop(struct aio_pinger *p);

/* Run @fn(@arg) in a thread after @delay_ms. */
struct aio_later {
	pthread_t thread;
	int delay_ms;
	void (*fn)(void *);
	void *arg;
};
void aio_later_start(struct aio_later *l, int delay_ms, void (*fn)(void *),
		     void *arg);
void aio_later_join(struct aio_later *l);

/* A signal handler that counts (installed with or without SA_RESTART). */
extern volatile sig_atomic_t aio_sig_count;
void aio_handle_signal(int sig, bool restart);
void aio_default_signal(int sig);

#endif
