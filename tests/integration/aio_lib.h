/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Test support for the AIO control files: records written and read by
 * hand (include/evfdfs/wire.h), and one interface, struct at_be, over two
 * AIO contexts: the kernel's (libaio, aio_kref.c) and a mount's control
 * file, so that a test runs the same iocbs on both and compares.  The
 * mount side does what a client library would: a write's payload and a
 * vectored request's segment lengths are copied into the record, and a
 * read's data is copied back into the iocb's buffer when its event is
 * read (obj is the iocb's address, as io_submit reports it).
 */
#ifndef EVFDFS_AIO_LIB_H
#define EVFDFS_AIO_LIB_H

#include <evfdfs/wire.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "../lib/evtest.h"

/* A growing buffer of records. */
struct at_rec {
	unsigned char *buf;
	size_t len, cap;
};

void at_rec_setup(struct at_rec *r, uint32_t nr_events, uint32_t flags);
/* A SUBMIT record for @cb with the payload and segments taken from the
 * memory @cb names (as a client library would), and @flags. */
void at_rec_submit(struct at_rec *r, const struct iocb *cb, uint32_t flags);
void at_rec_cancel(struct at_rec *r, uint64_t obj, uint32_t key,
		   uint32_t flags);
/* Raw bytes, for malformed records. */
void at_rec_raw(struct at_rec *r, const void *p, size_t n);
void at_rec_free(struct at_rec *r);

/* write(2) of the records: bytes written, or -errno. */
ssize_t at_write(int fd, const struct at_rec *r);

/* iocb builders, in libaio's shape (L6, L7). */
void at_prep_pread(struct iocb *cb, int fd, void *buf, uint64_t n, int64_t off);
void at_prep_pwrite(struct iocb *cb, int fd, const void *buf, uint64_t n,
		    int64_t off);
void at_prep_preadv(struct iocb *cb, int fd, const struct iovec *iov, int cnt,
		    int64_t off);
void at_prep_pwritev(struct iocb *cb, int fd, const struct iovec *iov, int cnt,
		     int64_t off);
void at_prep_poll(struct iocb *cb, int fd, unsigned int events);
void at_prep_fsync(struct iocb *cb, int fd, bool data_only);
void at_set_resfd(struct iocb *cb, int efd);

/* Open `aio` (O_RDWR | @oflags) and set it up with @nr_events; asserts. */
int at_ctx(const char *mnt, uint32_t nr_events, int oflags);

/* The kernel's AIO through libaio (aio_kref.c). */
void *at_kctx(unsigned int nr_events);
int at_ksubmit(void *kctx, void **cbs, int n);
int at_kgetevents(void *kctx, int min, int max, void *evs, int timeout_ms);
int at_kcancel(void *kctx, void *cb);
void at_kdestroy(void *kctx);
int at_ksetup_err(unsigned int nr_events);

/* One AIO context, kernel or mount. */
struct at_be {
	const char *name; /* "kernel" or "mount" */
	bool mount;
	void *kctx;
	int fd;
	/* mount: events read but not yet returned */
	struct io_event pend[256];
	int npend;
};

/* Set up @b on the kernel (@mnt NULL) or on the mount @mnt; asserts. */
void at_be_setup(struct at_be *b, const char *mnt, unsigned int nr_events);
/* io_submit: the number accepted, or -errno of the first.  @flags, if not
 * NULL, gives each record's EVFDFS_WIRE_SUB_* (ignored by the kernel). */
int at_be_submit(struct at_be *b, struct iocb **cbs, int n,
		 const uint32_t *flags);
int at_be_submit1(struct at_be *b, struct iocb *cb);
/* io_getevents with a timeout in ms (-1: wait forever). */
int at_be_getevents(struct at_be *b, int min, int max, struct io_event *evs,
		    int timeout_ms);
/* io_cancel: -EINPROGRESS or -errno. */
int at_be_cancel(struct at_be *b, struct iocb *cb);
/* io_destroy. */
void at_be_destroy(struct at_be *b);

/* The kernel and the mount side by side, for a test body run on each;
 * with AT_SHOW set in the environment, the kernel's transcript is printed
 * (to see what a case observes). */
typedef void (*at_case_fn)(struct at_be *b, struct evt_transcript *t,
			   void *arg);
void at_compare(const char *mnt, at_case_fn fn, void *arg);

/*
 * A counter for @b's side: a kernel eventfd for the kernel, an unlinked
 * counter of the shared mount for the mount; @init written to it (at most
 * 0xfffffffffffffffe), O_NONBLOCK if @nonblock.
 */
int at_counter(const struct at_be *b, uint64_t init, bool nonblock);

/* "res=N" or "res=-ENAME". */
const char *at_res(int64_t res, char *buf, size_t len);

/* A file of @size bytes (pattern i % 251) in @dir; returns its path. */
void at_make_file(char *path, size_t len, const char *dir, size_t size);

/* The count of an eventfd or counter, read without consuming (fdinfo for
 * a kernel eventfd, the value xattr for a counter). */
uint64_t at_peek(int fd);

/*
 * Wait (10 s at most) until @fd's count is at least @want: closing a
 * context is a FUSE RELEASE, which the kernel sends after close(2) has
 * returned.  Returns the count.
 */
uint64_t at_wait_count(int fd, uint64_t want);

/* Text of @path (e.g. MNT/status) into @buf. */
void at_slurp(const char *path, char *buf, size_t len);
/* A field ("kernel_slots=", "buffered=") of the status file's aiod line. */
long long at_aiod_field(const char *mnt, const char *key);

#endif /* EVFDFS_AIO_LIB_H */
