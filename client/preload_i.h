/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The preload shim's private interface between client/preload.c (state,
 * descriptors, eventfd, syscall()) and client/preload_aio.c (libaio).
 */
#ifndef EVFDFS_PRELOAD_I_H
#define EVFDFS_PRELOAD_I_H

#include <libaio.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/eventfd.h>

#define EXPORT __attribute__((visibility("default")))

/* <linux/aio_abi.h>'s IOCB_FLAG_RESFD (that header and <libaio.h> both
 * define struct iocb, so only one can be included). */
#define IOCB_FLAG_RESFD (1u << 0)

struct shim {
	pthread_once_t once;
	bool active;	    /* EVFDFS_MOUNT is set */
	bool aio;	    /* and EVFDFS_PRELOAD_AIO is not "0" */
	char mnt[PATH_MAX]; /* its real path */
	size_t mntlen;
	_Atomic unsigned long long dev; /* the mount's st_dev; 0: unknown */
	_Atomic unsigned int seq;	/* for unique counter names */
	_Atomic bool warned_create;
	_Atomic bool warned_resfd;

	int (*eventfd)(unsigned int, int);
	int (*eventfd_read)(int, eventfd_t *);
	int (*eventfd_write)(int, eventfd_t);
	long (*syscall)(long, ...);
	int (*fcntl)(int, int, ...);
	int (*fcntl64)(int, int, ...);
	int (*close)(int);
	int (*dup)(int);
	int (*dup2)(int, int);
	int (*dup3)(int, int, int);
	int (*close_range)(unsigned int, unsigned int, int);
	void (*closefrom)(int);

	/* libaio's, for contexts that are not the shim's; NULL when the
	 * program does not use libaio (then the raw syscalls stand in). */
	int (*io_setup)(int, io_context_t *);
	int (*io_destroy)(io_context_t);
	int (*io_submit)(io_context_t, long, struct iocb **);
	int (*io_getevents)(io_context_t, long, long, struct io_event *,
			    struct timespec *);
	int (*io_pgetevents)(io_context_t, long, long, struct io_event *,
			     struct timespec *, sigset_t *);
	int (*io_cancel)(io_context_t, struct iocb *, struct io_event *);
	int (*io_queue_init)(int, io_context_t *);
	int (*io_queue_release)(io_context_t);
	int (*io_queue_run)(io_context_t);
};

extern struct shim shim;

/*
 * Set while this thread is inside libevfdfs (linked into the shim): the
 * library's own eventfd() and fcntl() calls must reach the kernel, not the
 * emulation.  initial-exec: the shim is preloaded, so its TLS is static,
 * and reading it never allocates.
 */
extern __thread int shim_in_lib __attribute__((tls_model("initial-exec")));

#define LIB_CALL(expr)                              \
	({                                          \
		shim_in_lib++;                      \
		__typeof__(expr) lib_ret_ = (expr); \
		shim_in_lib--;                      \
		lib_ret_;                           \
	})

void shim_init(void);

/* Whether to emulate: a mount is set and the caller is not libevfdfs. */
static inline bool shim_on(void)
{
	shim_init();
	return shim.active && !shim_in_lib;
}

/* One line on stderr, "libevfdfs-preload: ..." (write(2), no stdio). */
void shim_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Set errno from a -errno result: the libc-shaped edge of the shim. */
long shim_ret_errno(long ret);

/* Whether @fd is an anonymous counter of the mount (preload.c). */
bool shim_fd_is_emulated(int fd);

/* aio.c (libevfdfs, linked in): the ring at handle @old is now at @new. */
int ctx_ring_moved(const void *old, void *new);

/* preload_aio.c: the lock of the context set, taken around fork(). */
void shim_ctxs_lock(void);
void shim_ctxs_unlock(void);

/*
 * shim_syscall_aio() - syscall(SYS_io_*) on the mount's contexts,
 * libc-shaped.  Returns true and sets *@ret when the call was the shim's
 * to make; false to pass it to the kernel.
 */
bool shim_syscall_aio(long nr, const long *a, long *ret);

#endif /* EVFDFS_PRELOAD_I_H */
