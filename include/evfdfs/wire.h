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
#define EVFDFS_WIRE_SETUP 1  /* write: create the context */
#define EVFDFS_WIRE_SUBMIT 2 /* write: one iocb */
#define EVFDFS_WIRE_CANCEL 3 /* write: io_cancel */
#define EVFDFS_WIRE_EVENT 4  /* read: one completion */
#define EVFDFS_WIRE_NTYPES 5

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
	__u32 flags;	 /* must be 0 */
};			 /* 16 bytes */

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
_Static_assert(sizeof(struct evfdfs_wire_event) == 48, "wire event");

/* Fixed part of each record type, indexed by type (0: none). */
static const __u32 evfdfs_wire_sizes[EVFDFS_WIRE_NTYPES] = {
	[EVFDFS_WIRE_SETUP] = sizeof(struct evfdfs_wire_setup),
	[EVFDFS_WIRE_SUBMIT] = sizeof(struct evfdfs_wire_submit),
	[EVFDFS_WIRE_CANCEL] = sizeof(struct evfdfs_wire_cancel),
	[EVFDFS_WIRE_EVENT] = sizeof(struct evfdfs_wire_event),
};

/* Names of record types and of IOCB_CMD_* opcodes, for logs and traces. */
static const char *const evfdfs_wire_names[EVFDFS_WIRE_NTYPES] = {
	[EVFDFS_WIRE_SETUP] = "setup",
	[EVFDFS_WIRE_SUBMIT] = "submit",
	[EVFDFS_WIRE_CANCEL] = "cancel",
	[EVFDFS_WIRE_EVENT] = "event",
};

static const char *const evfdfs_wire_opnames[9] = {
	[IOCB_CMD_PREAD] = "pread",   [IOCB_CMD_PWRITE] = "pwrite",
	[IOCB_CMD_FSYNC] = "fsync",   [IOCB_CMD_FDSYNC] = "fdsync",
	[IOCB_CMD_POLL] = "poll",     [IOCB_CMD_NOOP] = "noop",
	[IOCB_CMD_PREADV] = "preadv", [IOCB_CMD_PWRITEV] = "pwritev",
};

#endif /* EVFDFS_WIRE_H */
