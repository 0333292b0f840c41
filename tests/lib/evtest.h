/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Test support shared by every suite: the mount fixture, the shared mount
 * each test binary gets, unique names, an fd-leak check, and the
 * transcript that conformance tests compare between the kernel and a mount.
 */
#ifndef EVFDFS_EVTEST_H
#define EVFDFS_EVTEST_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A running evfdfs: its mount point, its pid and its log file. */
struct evt_mount {
	char dir[PATH_MAX];
	char log[PATH_MAX];
	pid_t pid;
};

/*
 * evt_fuse_missing() - why this machine cannot mount FUSE (no /dev/fuse,
 * no fusermount3, no daemon binary), or NULL when it can.
 */
const char *evt_fuse_missing(void);

/*
 * evt_mount_start() - mount a private evfdfs (foreground, log to a file)
 * with the extra arguments @argv (NULL-terminated, may be NULL) and wait
 * until it answers.  Returns 0, or -1 with a reason in @why.
 */
int evt_mount_start(struct evt_mount *m, const char *const *argv, char *why,
		    size_t whylen);

/*
 * evt_mount_stop() - fusermount3 -u, then wait (bounded) for the daemon to
 * exit.  Returns 0 if it exited 0 within the bound and its log is clean
 * (no error, warning, leak or Sanitizer line); otherwise -1 with a reason,
 * after a lazy unmount and SIGKILL so nothing is left behind.
 */
int evt_mount_stop(struct evt_mount *m, char *why, size_t whylen);

/* Criterion wrappers: skip when FUSE is missing, fail on any other error. */
void evt_mount_or_skip(struct evt_mount *m, const char *const *argv);
void evt_unmount_or_fail(struct evt_mount *m);

/*
 * evt_shared_mnt() - the mount point that the test binary's runner mounted
 * once (tests/lib/shared.c) for every test in it; skips the test, with the
 * reason, when there is none.
 */
const char *evt_shared_mnt(void);

/* evt_path() - "@dir/@name" into a static-per-call buffer the caller owns. */
char *evt_path(char *buf, size_t len, const char *dir, const char *name);

/* evt_unique() - a name no other test (or parallel run) uses. */
char *evt_unique(char *buf, size_t len, const char *prefix);

/* Counter helpers on the mount (files), failing the test on error. */
int evt_create_counter(const char *mnt, const char *name, uint64_t initval,
		       bool semaphore, int oflags);
uint64_t evt_xattr_value(const char *path);

/* Count of open descriptors of this process (fd-leak check). */
int evt_count_fds(void);

/* Run a shell command with a timeout; returns its exit status (or -1). */
int evt_sh(const char *cmd, char *out, size_t outlen);

/* Monotonic milliseconds. */
long long evt_now_ms(void);

/*
 * Transcript: what a conformance case observed, one line per step, so the
 * same case run on the kernel and on the mount can be compared as strings.
 */
struct evt_transcript {
	char *buf;
	size_t len, cap;
};

void evt_rec(struct evt_transcript *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void evt_transcript_free(struct evt_transcript *t);

/* "ret=N" or "err=ENAME" for a syscall result, for transcripts. */
const char *evt_res(long ret, int err, char *buf, size_t len);
const char *evt_errname(int err);

#endif /* EVFDFS_EVTEST_H */
