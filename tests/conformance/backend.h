/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Conformance harness: a case is written once against a backend and run
 * twice, on the kernel's eventfd(2) and on a counter of the shared mount;
 * each run records what it observes in a transcript, and the two
 * transcripts must be equal.  Nothing is hard-coded that the kernel can
 * show: where the kernel and the mount differ, the test fails.
 */
#ifndef EVFDFS_CONFORMANCE_BACKEND_H
#define EVFDFS_CONFORMANCE_BACKEND_H

#include <criterion/criterion.h>
#include <stdint.h>

#include "../lib/evtest.h"

struct backend {
	const char *name;
	/* Like eventfd2(initval, flags) with EFD_SEMAPHORE/EFD_NONBLOCK/
	 * EFD_CLOEXEC; returns a descriptor or fails the test. */
	int (*open_counter)(unsigned int initval, int flags);
	/* Bring the counter to @val without a write (for values near the
	 * top): kernel: write() in steps; mount: the value xattr. */
	void (*set_count)(int fd, uint64_t val);
};

extern const struct backend evt_backend_kernel;
extern const struct backend evt_backend_mount;

typedef void (*conform_fn)(const struct backend *b, struct evt_transcript *t);

/* Run @fn on both backends and compare the transcripts. */
void conform_run(conform_fn fn);

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

#endif
