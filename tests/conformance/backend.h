/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Conformance harness: a case is written once against a backend and run
 * twice, on the kernel's eventfd(2) and on a counter of the shared mount;
 * each run records what it observes in a transcript, and the two
 * transcripts must be equal.  Nothing is hard-coded that the kernel can
 * show: where the kernel and the mount differ, the test fails.
 *
 * Where FUSE forces a difference (shared/spec/emulation.md), DIFFERENCE()
 * runs the body on both backends too, but compares each transcript with
 * the behaviour written down for it: the kernel's as observed on the
 * reference machine (so that a kernel change is noticed) and the mount's as
 * documented.
 *
 * Steps that block run in a background thread or child process (struct bg)
 * and are observed with deadlines: "asleep in its system call", "finished
 * within N ms", never a wall-clock duration.
 */
#ifndef EVFDFS_CONFORMANCE_BACKEND_H
#define EVFDFS_CONFORMANCE_BACKEND_H

#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../lib/evtest.h"

struct backend {
	const char *name;
	/* Like eventfd2(initval, flags) with EFD_SEMAPHORE/EFD_NONBLOCK/
	 * EFD_CLOEXEC; returns a descriptor or fails the test. */
	int (*open_counter)(unsigned int initval, int flags);
	/* Bring the counter to @val without a write (for values near the
	 * top): kernel: write() in steps; mount: the value xattr. */
	void (*set_count)(int fd, uint64_t val);
	/* The count, without consuming it: kernel: fdinfo's eventfd-count;
	 * mount: the value xattr. */
	uint64_t (*peek)(int fd);
};

extern const struct backend evt_backend_kernel;
extern const struct backend evt_backend_mount;

typedef void (*conform_fn)(const struct backend *b, struct evt_transcript *t);

/* Run @fn on both backends and compare the transcripts. */
void conform_run(conform_fn fn);

/*
 * Run @fn on both backends; the kernel's transcript must be @want_kernel
 * and the mount's @want_mount.
 */
void differ_run(conform_fn fn, const char *want_kernel, const char *want_mount);

/*
 * CONFORM(name, criterion options...) { body using b and t }
 * defines Test(conformance, name) running the body on both backends.
 */
#define CONFORM(name, ...)                                    \
	static void name##_body(const struct backend *b,      \
				struct evt_transcript *t);    \
	Test(conformance, name, .timeout = 30, ##__VA_ARGS__) \
	{                                                     \
		conform_run(name##_body);                     \
	}                                                     \
	static void name##_body(const struct backend *b,      \
				struct evt_transcript *t)

/*
 * DIFFERENCE(name, kernel transcript, mount transcript, options...)
 * { body } defines Test(difference, name).
 */
#define DIFFERENCE(name, want_kernel, want_mount, ...)                \
	static void name##_body(const struct backend *b,              \
				struct evt_transcript *t);            \
	Test(difference, name, .timeout = 30, ##__VA_ARGS__)          \
	{                                                             \
		differ_run(name##_body, (want_kernel), (want_mount)); \
	}                                                             \
	static void name##_body(const struct backend *b,              \
				struct evt_transcript *t)

/* Record "label: ret=N" or "label: err=EXXX" for a syscall's result. */
#define REC(t, label, expr)                                   \
	do {                                                  \
		errno = 0;                                    \
		long rec_ret_ = (long)(expr);                 \
		int rec_err_ = errno;                         \
		char rec_buf_[64];                            \
		evt_rec((t), "%s: %s", (label),               \
			evt_res(rec_ret_, rec_err_, rec_buf_, \
				sizeof(rec_buf_)));           \
	} while (0)

/* ---- one-line steps (steps.c) ---------------------------------------- */

/* read(fd, 8 bytes): "label: ret=8 val=N" or "label: err=EAGAIN". */
void rec_read(struct evt_transcript *t, const char *label, int fd);
/* write(fd, &val, 8): "label: ret=8" or "label: err=EINVAL". */
void rec_write(struct evt_transcript *t, const char *label, int fd,
	       uint64_t val);
/* The count as b->peek() shows it: "label: count=N". */
void rec_count(struct evt_transcript *t, const char *label,
	       const struct backend *b, int fd);
/* poll(fd, events, 0): "label: ret=1 revents=0x5". */
void rec_poll(struct evt_transcript *t, const char *label, int fd,
	      short events);
/* select() with a zero timeout: "label: ret=N r=1 w=1 x=0". */
void rec_select(struct evt_transcript *t, const char *label, int fd);
/* A new epoll instance watching @fd with @events; fails the test on error. */
int epoll_on(int fd, uint32_t events);
/* epoll_wait(epfd, 0): "label: n=1 events=0x5" or "label: n=0". */
void rec_epoll(struct evt_transcript *t, const char *label, int epfd);
/* fcntl(F_SETFL) O_NONBLOCK on or off; fails the test on error. */
void set_nonblock(int fd, bool on);

/* ---- signals ---------------------------------------------------------- */

/*
 * Install a handler for @sig that only counts deliveries, with or without
 * SA_RESTART; sig_delivered() is that count (all signals, this process).
 */
void sig_install(int sig, bool restart);
unsigned int sig_delivered(void);

/* ---- steps that may block (steps.c) ----------------------------------- */

enum bg_op {
	BG_READ,  /* read(fd, arg bytes (8 if 0), at most 8) */
	BG_WRITE, /* write(fd, &arg, 8) */
	BG_POLL,  /* ppoll(fd, arg events, no timeout) */
	BG_EPOLL, /* epoll_pwait(fd is an epoll fd, 1 event, no timeout) */
};

/* One blocking call, run in a thread of this process or in a child. */
struct bg {
	enum bg_op op;
	int fd;
	uint64_t arg;
	bool child;
	pthread_t thr;
	pid_t id;    /* the thread's tid or the child's pid, 0 until known */
	int pipe[2]; /* the worker writes its result here */
	bool finished;
	bool reaped; /* the child has been waited for */
	int killed;  /* the signal that killed the child, or 0 */
	long ret;
	int err;
	uint64_t out; /* the value read, revents, or epoll events */
};

/* Deadlines: for what must happen, and for what must not. */
#define BG_DEADLINE_MS 5000
#define BG_GRACE_MS 200

/* Start @op on @fd in a new thread, or in a child process if @child. */
void bg_start(struct bg *bg, enum bg_op op, int fd, uint64_t arg, bool child);
/*
 * Wait until the worker sleeps in its system call (returns true) or has
 * finished (false); fails the test if neither happens by the deadline.
 */
bool bg_asleep(struct bg *bg);
/* Whether the worker finished within @ms (collects its result). */
bool bg_wait(struct bg *bg, int ms);
/* Send @sig to the worker (the thread, or the child). */
void bg_signal(struct bg *bg, int sig);
/*
 * Wait up to @ms, then record "label: ret=8 val=N" (read), "label: ret=8"
 * (write), "label: ret=1 out=0x1" (poll, epoll), "label: err=EINTR",
 * "label: killed by KILL" (a child), or "label: blocked" if it has not
 * finished.
 */
void bg_rec(struct evt_transcript *t, const char *label, struct bg *bg, int ms);
/*
 * Reap the worker and close what it used.  It must have finished (the test
 * fails if it does not within the deadline: release every worker first).
 */
void bg_end(struct bg *bg);

#endif
