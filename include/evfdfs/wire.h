/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The wire format of the evfdfs AIO control file (`aio` in the mount): the
 * one definition shared by the daemon and libevfdfs, in the manner of
 * fuse_kernel.h and aio_abi.h.
 *
 * Changelog:
 *   1 (evfdfs 0.1.0): SETUP, SUBMIT, CANCEL records written; EVENT records
 *     read.  EVFDFS_WIRE_SUB_DATA_CUT added after 0.1.0 (a daemon without
 *     it refuses the flag with EINVAL).  EVFDFS_WIRE_SUB_DIRECT likewise.
 *   1, ring (issue 10): SETUP with EVFDFS_WIRE_SETUP_RING names the
 *     context's completion ring (struct evfdfs_wire_setup_ring); DESTROY.
 *     A daemon without them refuses both with EINVAL; a SETUP without the
 *     flag still makes a context whose events are read from the file.
 *
 * Everything a record carries is in the record: the daemon never
 * dereferences a pointer of the submitting process, except the buffers
 * of an EVFDFS_WIRE_SUB_DIRECT record, which it reaches with
 * process_vm_readv/process_vm_writev.  `struct iocb` and
 * `struct io_event` are <linux/aio_abi.h>'s, reused as they are: the
 * iocb's aio_buf is carried for the record of it (and is the event mask of
 * IOCB_CMD_POLL), never followed; io_event.obj is the submitter's iocb
 * address, which it sent in evfdfs_wire_submit.obj.
 *
 * Every record starts with struct evfdfs_wire_hdr and is a multiple of 8
 * bytes long; hdr.len counts the whole record (header, payload, padding).
 * Records are native-endian, like the structures they carry.
 *
 * Writes: one write(2) carries one or more whole records.
 *   - SETUP must be the first record on a new open file description, alone:
 *     it sets the context's capacity (io_setup's nr_events).  The write
 *     returns the record's length, or fails with io_setup's errno
 *     (EINVAL: nr_events 0 or too large; EAGAIN: the daemon-wide limit).
 *   - SUBMIT records: the write returns the bytes of the records accepted,
 *     counted from the first, stopping at the first rejected one; if the
 *     first is rejected the write fails with its errno (io_submit's rule,
 *     A21, in bytes).  Before SETUP: EINVAL.
 *   - CANCEL, alone: fails with EINPROGRESS when a pending request was
 *     cancelled (its res-0 event follows, A77), EINVAL otherwise.
 *   - DESTROY, alone, on a context with a ring: io_destroy's first half.
 *     Pending POLLs are cancelled, parked transfers end with -EINTR, later
 *     submits fail with EINVAL and pollers see POLLIN|POLLHUP; the library
 *     then waits for ctl.inflight to reach 0 (the RESFD signals are sent)
 *     and closes the file.
 *
 * The ring (EVFDFS_WIRE_SETUP_RING): a memfd of evfdfs_wire_ring_bytes()
 * plus one page, sealed against shrinking, growing and resealing, that the
 * library maps and whose first part is a kernel `struct aio_ring` (A4):
 * the context handle is its address.  The daemon takes the memfd
 * (pidfd_getfd) and maps it too; it writes the events and tail, and reads
 * head, which the process may write (user-space reaping, A82) and which
 * the daemon takes modulo its own nr.  Completions are published in the
 * kernel's order (A56): event, tail (release), RESFD, then the pollers of
 * the control file, which is readable while the ring holds events.  A read's data is stored in the
 * submitter's memory (process_vm_writev) before its event.  The page
 * after the ring is struct evfdfs_wire_ring_ctl, written by the daemon.
 * A SUBMIT then fails with EAGAIN when the ring has no slot left (A80,
 * A81: requests in flight plus events in the ring reach nr - 1), and only
 * a task that shares the setup task's memory may submit (A15, EINVAL).
 *
 * Reads: whole EVENT records, as many as fit, at least one; a read blocks
 * until one is ready unless O_NONBLOCK (EAGAIN).  A buffer too small for
 * the first record fails with EINVAL and consumes nothing.  POLLIN is set
 * while events are waiting.
 */
#ifndef EVFDFS_WIRE_H
#define EVFDFS_WIRE_H

#include <linux/aio_abi.h>
#include <linux/types.h>

#define EVFDFS_WIRE_VERSION 1

/* Record types; retired numbers stay retired. */
#define EVFDFS_WIRE_SETUP 1   /* write: create the context */
#define EVFDFS_WIRE_SUBMIT 2  /* write: one iocb */
#define EVFDFS_WIRE_CANCEL 3  /* write: io_cancel */
#define EVFDFS_WIRE_EVENT 4   /* read: one completion */
#define EVFDFS_WIRE_DESTROY 5 /* write: io_destroy, ring contexts */
#define EVFDFS_WIRE_NTYPES 6

/*
 * The largest record either way: one FUSE request (the daemon negotiates
 * 1 MiB writes and reads).  Larger transfers are clamped (see
 * EVFDFS_WIRE_MAX_DATA), as the kernel clamps at 0x7ffff000.
 */
#define EVFDFS_WIRE_MAX_RECORD (1u << 20)

/* Padding: every record length is a multiple of 8. */
#define EVFDFS_WIRE_ALIGN(n) (((n) + 7u) & ~7u)

struct evfdfs_wire_hdr {
	__u16 version; /* EVFDFS_WIRE_VERSION */
	__u16 type;    /* EVFDFS_WIRE_* */
	__u32 len;     /* bytes of the whole record */
};		       /* 8 bytes */

struct evfdfs_wire_setup {
	struct evfdfs_wire_hdr hdr;
	__u32 nr_events; /* io_setup's nr_events */
	__u32 flags;	 /* 0 or EVFDFS_WIRE_SETUP_RING */
};			 /* 16 bytes */

/* evfdfs_wire_setup.flags: the record is a struct evfdfs_wire_setup_ring. */
#define EVFDFS_WIRE_SETUP_RING 0x1

struct evfdfs_wire_setup_ring {
	struct evfdfs_wire_setup s;
	__u32 memfd; /* the ring's memfd in the writer's descriptor table */
	__u32 id;    /* ring->id as the library wrote it */
	__u64 addr;  /* where the writer mapped the ring (the handle) */
};		     /* 32 bytes */

struct evfdfs_wire_destroy {
	struct evfdfs_wire_hdr hdr;
	__u32 flags; /* must be 0 */
	__u32 pad;   /* must be 0 */
};		     /* 16 bytes */

/* The kernel's ring header (A4), at the start of the ring. */
#define EVFDFS_RING_MAGIC 0xa10a10a1u
#define EVFDFS_RING_HEADER 32u

struct evfdfs_wire_ring {
	__u32 id, nr, head, tail;
	__u32 magic, compat_features, incompat_features, header_length;
	struct io_event io_events[];
};

/* The page after the ring: the daemon's word for the library. */
struct evfdfs_wire_ring_ctl {
	__u32 inflight; /* after DESTROY: requests not completed (futex-woken) */
	__u32 pad;
};

/*
 * The ring's size for io_setup(@nr_events) on a machine with @ncpus
 * possible CPUs, the kernel's way (A11, A13): its entries in *@nr and its
 * bytes (page-aligned) in *@bytes.  0, or -EINVAL / -EAGAIN as A11 says.
 */
static inline int evfdfs_wire_ring_size(__u32 nr_events, __u32 ncpus,
					__u32 page, __u32 *nr, __u64 *bytes)
{
	__u32 n;
	__u64 b;

	if (nr_events == 0)
		return -22; /* EINVAL, A10 */
	n = nr_events > 4 * ncpus ? nr_events : 4 * ncpus;
	n *= 2; /* may wrap, as in ioctx_alloc() */
	if (n > 0x10000000u / 32)
		return -22; /* EINVAL, A11 */
	if (n == 0)
		return -11; /* EAGAIN: the wrapped case of A11 */
	b = EVFDFS_RING_HEADER + 32ull * (n + 2);
	b = (b + page - 1) / page * page;
	*nr = (__u32)((b - EVFDFS_RING_HEADER) / 32);
	*bytes = b;
	return 0;
}
/* evfdfs_wire_submit.flags: what the library found about the caller's
 * memory, so that the daemon can fail at the kernel's step for it. */
#define EVFDFS_WIRE_SUB_BUF_FAULT \
	0x1 /* aio_buf (or a segment) unreadable
					 * or unwritable: res -EFAULT (A31) */
#define EVFDFS_WIRE_SUB_BUF_RANGE \
	0x2 /* aio_buf outside user space:
					 * EFAULT at submit (A30.5) */
#define EVFDFS_WIRE_SUB_IOV_FAULT \
	0x4 /* the iovec array is unreadable:
					 * EFAULT at submit (A30.5) */
#define EVFDFS_WIRE_SUB_KEY_FAULT \
	0x8 /* aio_key is not writable: EFAULT at
					 * step 7 of table 2.5 */
/*
 * The data of a PWRITE/PWRITEV stops short of aio_nbytes (or the segments'
 * sum) by the submitter's choice: its RLIMIT_FSIZE caps every write(2) of
 * this file (a FUSE write goes through the kernel's generic_write_checks,
 * at position 0 on a stream), so a record must fit under it.  The data is
 * then a multiple of 8 bytes and the whole rest of the record, and the
 * write is short, as a write beyond EVFDFS_WIRE_MAX_DATA is.
 */
#define EVFDFS_WIRE_SUB_DATA_CUT 0x10
/*
 * A PREAD/PWRITE/PREADV/PWRITEV whose data does not travel: the daemon
 * moves it between the file and the submitter's memory itself (aio_buf,
 * or the iovec array at aio_buf, which it reads), whole, up to the
 * kernel's 0x7ffff000 bytes, and a read's EVENT carries no data.  The
 * record is then its fixed part and segment lengths only.  A daemon that
 * cannot reach the submitter's memory fails the write with EXDEV before
 * accepting any record of it (never an io_submit errno): the library then
 * sends the data inline.  A daemon without the flag refuses it (EINVAL).
 */
#define EVFDFS_WIRE_SUB_DIRECT 0x20
#define EVFDFS_WIRE_SUB_FLAGS 0x3f

/*
 * A submission.  After the fixed part:
 *   - PREADV/PWRITEV: nsegs __u64 segment lengths (nsegs is the iovec
 *     count, aio_nbytes, when it is at most 1024 and the array was
 *     readable; 0 otherwise, and the daemon applies the kernel's checks to
 *     aio_nbytes);
 *   - PWRITE/PWRITEV: the data to write (aio_nbytes bytes, or the sum of
 *     the segments), at most what fits in EVFDFS_WIRE_MAX_RECORD, or less
 *     with EVFDFS_WIRE_SUB_DATA_CUT;
 *   - padding to a multiple of 8.
 * The daemon checks that len is exactly what these add up to (EINVAL).
 */
struct evfdfs_wire_submit {
	struct evfdfs_wire_hdr hdr;
	__u32 flags; /* EVFDFS_WIRE_SUB_* */
	__u32 nsegs;
	__u64 obj;	  /* the iocb's address, echoed in io_event.obj */
	struct iocb iocb; /* as the caller filled it */
};			  /* 88 bytes */

struct evfdfs_wire_cancel {
	struct evfdfs_wire_hdr hdr;
	__u32 aio_key; /* the iocb's aio_key as the caller sees it */
	__u32 flags;   /* must be 0 */
	__u64 obj;     /* the iocb's address */
};		       /* 24 bytes */

/*
 * A completion.  For a successful PREAD/PREADV (res > 0) the res bytes
 * read follow, then padding; the library copies them into the caller's
 * buffer or scatters them over its iovecs.
 */
struct evfdfs_wire_event {
	struct evfdfs_wire_hdr hdr;
	__u32 datalen; /* bytes of data that follow */
	__u32 flags;   /* 0 */
	struct io_event ev;
}; /* 48 bytes */

/* The data a single record may carry. */
#define EVFDFS_WIRE_MAX_DATA                                          \
	(EVFDFS_WIRE_MAX_RECORD - sizeof(struct evfdfs_wire_submit) - \
	 1024 * sizeof(__u64))

_Static_assert(sizeof(struct iocb) == 64, "struct iocb is 64 bytes (A1)");
_Static_assert(sizeof(struct io_event) == 32, "io_event is 32 bytes (A2)");
_Static_assert(sizeof(struct evfdfs_wire_hdr) == 8, "wire header");
_Static_assert(sizeof(struct evfdfs_wire_setup) == 16, "wire setup");
_Static_assert(sizeof(struct evfdfs_wire_submit) == 88, "wire submit");
_Static_assert(sizeof(struct evfdfs_wire_cancel) == 24, "wire cancel");
_Static_assert(sizeof(struct evfdfs_wire_setup_ring) == 32, "wire ring");
_Static_assert(sizeof(struct evfdfs_wire_destroy) == 16, "wire destroy");
_Static_assert(sizeof(struct evfdfs_wire_ring) == 32, "ring header (A4)");
_Static_assert(sizeof(struct evfdfs_wire_event) == 48, "wire event");

/* Fixed part of each record type, indexed by type (0: none). */
static const __u32 evfdfs_wire_sizes[EVFDFS_WIRE_NTYPES] = {
	[EVFDFS_WIRE_SETUP] = sizeof(struct evfdfs_wire_setup),
	[EVFDFS_WIRE_SUBMIT] = sizeof(struct evfdfs_wire_submit),
	[EVFDFS_WIRE_CANCEL] = sizeof(struct evfdfs_wire_cancel),
	[EVFDFS_WIRE_EVENT] = sizeof(struct evfdfs_wire_event),
	[EVFDFS_WIRE_DESTROY] = sizeof(struct evfdfs_wire_destroy),
};

/* Names of record types and of IOCB_CMD_* opcodes, for logs and traces. */
static const char *const evfdfs_wire_names[EVFDFS_WIRE_NTYPES] = {
	[EVFDFS_WIRE_SETUP] = "setup",	   [EVFDFS_WIRE_SUBMIT] = "submit",
	[EVFDFS_WIRE_CANCEL] = "cancel",   [EVFDFS_WIRE_EVENT] = "event",
	[EVFDFS_WIRE_DESTROY] = "destroy",
};

static const char *const evfdfs_wire_opnames[9] = {
	[IOCB_CMD_PREAD] = "pread",   [IOCB_CMD_PWRITE] = "pwrite",
	[IOCB_CMD_FSYNC] = "fsync",   [IOCB_CMD_FDSYNC] = "fdsync",
	[IOCB_CMD_POLL] = "poll",     [IOCB_CMD_NOOP] = "noop",
	[IOCB_CMD_PREADV] = "preadv", [IOCB_CMD_PWRITEV] = "pwritev",
};

#endif /* EVFDFS_WIRE_H */
