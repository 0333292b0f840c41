/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libevfdfs internals shared by its files: safe access to the caller's
 * memory (umem.c), the wire codec (codec.c, pure, unit-tested alone), and
 * the AIO context (aio.c, aio_submit.c, aio_events.c).  Nothing here is
 * exported (-fvisibility=hidden; only libevfdfs.map's names are).
 *
 * The library includes <linux/aio_abi.h> (through wire.h), whose struct
 * iocb and struct io_event are byte-for-byte libaio's (L8); the public
 * header only declares the tags, so callers use <libaio.h>'s.
 */
#ifndef LIBEVFDFS_I_H
#define LIBEVFDFS_I_H

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <evfdfs/wire.h>

#include "evfdfs.h"
#include "keep_errno.h"

#define EXPORT __attribute__((visibility("default")))

/* The kernel's clamp on one transfer (MAX_RW_COUNT, A30.5). */
#define KERNEL_MAX_RW 0x7ffff000ull
/* The kernel's limit on an iovec count (UIO_MAXIOV, A30.5). */
#define KERNEL_MAX_IOV 1024u

/* ---- umem.c: the caller's memory, never dereferenced directly ------- */

/*
 * Every pointer the caller hands over inside an iocb or as an argument
 * that the kernel would copy_from_user() is read and written through
 * these: process_vm_readv/process_vm_writev on our own pid, or, where
 * those are refused (seccomp, no CONFIG_CROSS_MEMORY_ATTACH), a pipe.
 * A bad address is an error return, never a crash.
 */
int umem_read(void *dst, uint64_t src, size_t len);	    /* 0 or -EFAULT */
size_t umem_read_upto(void *dst, uint64_t src, size_t len); /* bytes */
int umem_write(uint64_t dst, const void *src, size_t len);  /* 0 or -EFAULT */
/* Scatter @len bytes of @src over the caller's @iov; returns the bytes
 * stored before the first fault. */
size_t umem_scatter(const struct iovec *iov, unsigned int n, const void *src,
		    size_t len);
/* Gather @len bytes from the caller's @iov into @dst; bytes gathered. */
size_t umem_gather(void *dst, const struct iovec *iov, unsigned int n,
		   size_t len);
/* One process_vm_writev of @nl local segments over the caller's @nr
 * segments: the bytes stored before the first fault, or -1 when that call
 * is refused here (then store piece by piece with umem_scatter). */
ssize_t umem_scatter_vec(const struct iovec *local, unsigned int nl,
			 const struct iovec *remote, unsigned int nr);
/* Write 0 into the 4-byte words at @addrs; how many were written. */
unsigned int umem_zero_words(const uint64_t *addrs, unsigned int n);
/* How many of the 4-byte words at @addrs, from the first, can be written?
 * (Writes back @vals, what is there, one word per page.) */
unsigned int umem_words_writable(const uint64_t *addrs, const uint32_t *vals,
				 unsigned int n);
/* Can the 4 bytes at @addr be written?  (Writes back what is there.) */
bool umem_word_writable(uint64_t addr, uint32_t current);
/* The highest end of a user range the kernel's access_ok() allows (A30.5);
 * UINT64_MAX where unknown. */
uint64_t umem_user_max(void);
/* Tests: force the pipe fallback (true) or process_vm_* (false). */
void umem_force_pipe(bool on);

/* ---- codec.c: records of include/evfdfs/wire.h ---------------------- */

/*
 * What one SUBMIT record carries besides the iocb, decided from the iocb
 * and (for vectored opcodes) the caller's iovec array as read:
 *   - nsegs: the segment lengths sent (PREADV/PWRITEV with a readable
 *     array of at most 1024 entries; else 0);
 *   - datalen: the bytes of a write's data that follow: the (clamped)
 *     length, at most EVFDFS_WIRE_MAX_DATA; 0 when the request fails at
 *     submission anyway (negative nbytes or segment length, a range
 *     outside user space, an unreadable iovec array) or when its buffer
 *     proves unreadable (EVFDFS_WIRE_SUB_BUF_FAULT, set by the caller of
 *     codec_plan() after the copy);
 *   - flags: EVFDFS_WIRE_SUB_BUF_RANGE and EVFDFS_WIRE_SUB_IOV_FAULT.
 */
struct submit_plan {
	uint32_t flags;
	uint32_t nsegs;
	uint32_t datalen;
	bool is_read;  /* PREAD/PREADV: data comes back in the event */
	bool is_write; /* PWRITE/PWRITEV: data goes in the record */
	bool vectored; /* the data is gathered from / scattered over iov */
};

/*
 * codec_plan() - the shape of @cb's record.  @iov is the caller's iovec
 * array as read (NULL if it could not be read, or for other opcodes);
 * @user_max as umem_user_max().
 */
void codec_plan(const struct iocb *cb, const struct iovec *iov,
		uint64_t user_max, struct submit_plan *p);
/* The length of a SUBMIT record with @nsegs lengths and @datalen bytes. */
uint32_t codec_submit_len(uint32_t nsegs, uint32_t datalen);
/* Where the data of a SUBMIT record with @nsegs lengths starts. */
void *codec_submit_data(void *rec, uint32_t nsegs);
/*
 * codec_submit_fill() - everything of a SUBMIT record but its data: the
 * header, flags, obj, the iocb, the segment lengths of @iov and the
 * padding after @datalen bytes of data.
 */
void codec_submit_fill(void *rec, const struct iocb *cb, uint64_t obj,
		       uint32_t flags, const struct iovec *iov, uint32_t nsegs,
		       uint32_t datalen);
void codec_setup_fill(struct evfdfs_wire_setup_ring *r, uint32_t nr_events,
		      int memfd, uint32_t id, uint64_t addr);
void codec_destroy_fill(struct evfdfs_wire_destroy *d);
void codec_cancel_fill(struct evfdfs_wire_cancel *c, uint32_t aio_key,
		       uint64_t obj);
/*
 * codec_event_parse() - the EVENT record at the start of @buf (@len bytes
 * available): its io_event and data.  Returns the record's length, or
 * -EINVAL if it is malformed (version, type, length, datalen).
 */
int codec_event_parse(const void *buf, size_t len, struct io_event *ev,
		      const void **data, uint32_t *datalen);
/* How many whole records the first @bytes of @buf hold (a write's count). */
size_t codec_records_in(const void *buf, size_t bytes);

/* ---- the AIO context ------------------------------------------------ */

/*
 * The context behind a handle.  The handle is the address of the ring
 * (struct evfdfs_wire_ring, the kernel's struct aio_ring, A4) in a memfd
 * mapping shared with the daemon.  The library maps the memfd a second
 * time for itself (ring, then the daemon's control page), as the kernel
 * works on its own mapping of the ring's pages: what the program does to
 * the handle's mapping (munmap, mprotect, mremap) never faults the
 * library, which reads the handle only to check the id (A15).  The
 * process may write anything into the ring: the library keeps its own nr
 * and id and reads head and tail modulo nr.
 */
struct evfdfs_io_ctx {
	/* Registry state; protected by the registry lock (aio.c). */
	unsigned int users; /* calls inside the library on this context */
	bool dead;	    /* being destroyed */
	int lost; /* the daemon is gone: ENOTCONN (or ECONNABORTED) seen on
		   * the control file; atomic.  Every later call fails. */
	pthread_cond_t idle;

	/* Fixed from setup to destroy. */
	int fd;	   /* the control file, O_NONBLOCK */
	pid_t pid; /* the process that set it up */
	dev_t dev; /* the mount's device (RESFD classification) */
	unsigned int nr_events;
	struct evfdfs_wire_ring *handle; /* the program's mapping */
	struct evfdfs_wire_ring *ring;	 /* the library's own */
	struct evfdfs_wire_ring_ctl *ctl;
	size_t map_len, ring_bytes;
	uint32_t nr, id;
	/* Set once the daemon answered EXDEV: it cannot reach this process's
	 * memory, so transfers travel inline (aio_submit.c).  Atomic. */
	int inline_only;

	pthread_mutex_t lock; /* reaping: head */
};

/* The daemon is gone if @err says so: latch it on @ctx (ctx->lost). */
static inline void ctx_note_loss(struct evfdfs_io_ctx *ctx, int err)
{
	if (err == ENOTCONN || err == ECONNABORTED)
		__atomic_store_n(&ctx->lost, err, __ATOMIC_RELAXED);
}

/* aio.c: the context of the handle @h, its use count taken; or NULL (the
 * caller's -EINVAL: not a live context of this address space, A15). */
struct evfdfs_io_ctx *ctx_get(const void *h);
void ctx_put(struct evfdfs_io_ctx *ctx);
int ctx_ring_moved(const void *old, void *new);

#endif /* LIBEVFDFS_I_H */
