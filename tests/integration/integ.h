/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Support for the integration suite: child processes that are always
 * reaped (and die with the test if it dies), a private mount that the
 * test's .fini always takes down, reading the status file to learn when a
 * request is really parked in the daemon (so no test sleeps and hopes),
 * and small file helpers.  Every integration Test names integ_init and
 * integ_fini as its .init and .fini (INTEG_TEST below).
 */
#ifndef EVFDFS_INTEG_H
#define EVFDFS_INTEG_H

#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../lib/evtest.h"

/* Deadlines: generous, because ASan slows the daemon several times. */
#define INTEG_WAIT_MS 30000

/*
 * .init: records the open descriptors and makes this test process the
 * subreaper of whatever its shells leave running in the background.
 * .fini: kills and reaps every child still registered, takes down the
 * private mount if there is one, and checks for leaked descriptors.
 */
void integ_init(void);
void integ_fini(void);

#define INTEG_TEST(suite, name, secs)                             \
	Test(suite, name, .init = integ_init, .fini = integ_fini, \
	     .timeout = (secs))

/*
 * integ_fork() - fork a child that dies with this test (PR_SET_PDEATHSIG)
 * and that integ_fini() kills and reaps if the test did not.  Returns as
 * fork() does.  The child must leave with _exit().
 */
pid_t integ_fork(void);

/* Register a process that became our child by reparenting (subreaper). */
void integ_adopt(pid_t pid);

/*
 * integ_reap() - wait for a registered child, at most @ms.  Returns 0 and
 * its wait status in *@status, or -1 if it is still running.
 */
int integ_reap(pid_t pid, int *status, int ms);

/*
 * integ_reap_all() - wait for every registered child, at most @ms in all.
 * Returns how many exited with status 0; *@others gets how many ended
 * otherwise, *@left how many are still running (both may be NULL).
 */
int integ_reap_all(int ms, int *others, int *left);

/* The child's exit code, or 1000 + signal, or -1 (for messages). */
int integ_exit_code(int status);

/*
 * A private mount, taken down by integ_fini() if the test does not call
 * integ_unmount() itself.  Skips the test when FUSE is missing.
 */
struct evt_mount *integ_mount(const char *const *argv);
void integ_unmount(void);
/* The daemon is gone and reaped, and the test cleaned up after it. */
void integ_forget_mount(void);

/* The status file, whole, NUL-terminated; returns its length or -1. */
ssize_t integ_status(const char *mnt, char *buf, size_t len);

/*
 * integ_field() - a key=value field of the status line of counter @name
 * ("readers", "count", ...).  Returns the value, or -1 when the counter
 * has no line or the line has no such field.
 */
long long integ_field(const char *mnt, const char *name, const char *key);
/* The same for the counter with id @id (unlinked ones have no name). */
long long integ_field_by_id(const char *mnt, uint64_t id, const char *key);

/*
 * integ_wait_field() - wait (at most @ms) until integ_field() equals
 * @want.  Returns true when it did.
 */
bool integ_wait_field(const char *mnt, const char *name, const char *key,
		      long long want, int ms);
bool integ_wait_field_by_id(const char *mnt, uint64_t id, const char *key,
			    long long want, int ms);

/* The "Threads:" count of a process, or -1. */
int integ_threads(pid_t pid);

/*
 * integ_wait_wchan() - wait (at most @ms) until process @pid sleeps in a
 * kernel function whose name contains @what (/proc/PID/wchan), e.g.
 * "poll_schedule_timeout" for a task asleep in poll(2).
 */
bool integ_wait_wchan(pid_t pid, const char *what, int ms);

/* The pid of an evfdfs process with @dir among its arguments, or 0. */
pid_t integ_find_daemon(const char *dir);

/* Is @dir listed as a mount point in /proc/self/mounts? */
bool integ_is_mounted(const char *dir);

/* Does the daemon log @log contain an error, warning or sanitizer line? */
bool integ_log_clean(const char *log, char *why, size_t whylen);

/* Read a whole small file into @buf (NUL-terminated); length or -1. */
ssize_t integ_read_file(const char *path, char *buf, size_t len);

/* Open @mnt/@name (or @mnt/text/@name) with @flags, failing the test. */
int integ_open(const char *mnt, const char *name, bool text, int flags);

/* 8-byte write/read returning 0 or -errno. */
int integ_write_u64(int fd, uint64_t v);
int integ_read_u64(int fd, uint64_t *v);

#endif /* EVFDFS_INTEG_H */
