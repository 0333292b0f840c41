/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The pure half of the AIO control files: framing and validation of the
 * binary records of include/evfdfs/wire.h, and the parser and formatter of
 * the text form (aio.txt).  Nothing here touches libfuse, a descriptor or
 * the daemon's state, so the unit tests and the fuzz target drive it alone
 * (fused/wire.c, fused/wire_text.c).
 *
 * The checks are the kernel's (fs/aio.c, as shared/spec/linux-semantics.md
 * describes it: table 2.5 and A30-A43), split at the points where the
 * daemon has to look something up in between:
 *
 *   wire_frame()           record header (no kernel step: protocol)
 *   wire_decode_submit()   record layout (protocol)
 *   wire_check_early()     table 2.5 steps 2-3
 *     ... the daemon: step 4 (capacity), 5 (aio_fildes), 6 (aio_resfd)
 *   wire_check_opcode()    steps 7-8
 *   wire_check_ioprio()    A30.1
 *   wire_check_rw()        A30.1-A30.6 for a file the daemon serves itself
 *   wire_check_fsync()     A35
 *   wire_check_poll()      A40
 */
#ifndef EVFDFS_WIRE_I_H
#define EVFDFS_WIRE_I_H

#include <evfdfs/wire.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The kernel's limits (A11, A30.5, MAX_RW_COUNT). */
#define WIRE_MAX_NR_EVENTS 4194304u /* with 2 CPUs; see wire_setup_check() */
#define WIRE_UIO_MAXIOV 1024u
#define WIRE_MAX_RW_COUNT 0x7ffff000ull

/* RWF_* bits of aio_rw_flags known to Linux 6.18 (A30.2). */
#define WIRE_RWF_HIPRI 0x01
#define WIRE_RWF_DSYNC 0x02
#define WIRE_RWF_SYNC 0x04
#define WIRE_RWF_NOWAIT 0x08
#define WIRE_RWF_APPEND 0x10
#define WIRE_RWF_NOAPPEND 0x20
#define WIRE_RWF_ATOMIC 0x40
#define WIRE_RWF_DONTCACHE 0x80
#define WIRE_RWF_NOSIGNAL 0x100
#define WIRE_RWF_SUPPORTED 0x1ff

/* IOCB_FLAG_IOPRIO (aio_abi.h has it only on newer headers). */
#define WIRE_IOCB_FLAG_IOPRIO 0x2

/**
 * wire_frame() - check the record at the start of @buf.
 * @buf, @len: what is left of a write (may be unaligned)
 * @hdr: the record's header, copied out
 *
 * Returns: 0 when a whole, well-formed record starts at @buf: right
 * version, a known type that may be written, a length that is a multiple
 * of 8, at least the type's fixed size, at most EVFDFS_WIRE_MAX_RECORD and
 * at most @len; -EINVAL otherwise.
 */
int wire_frame(const void *buf, size_t len, struct evfdfs_wire_hdr *hdr);

/* A decoded SUBMIT record: the fixed part copied, the rest by reference. */
struct wire_sub {
	struct evfdfs_wire_submit s;
	const unsigned char *segs; /* s.nsegs __u64 lengths (unaligned) */
	const unsigned char *data; /* the payload of a write */
	uint32_t datalen;
	uint64_t total; /* bytes named: aio_nbytes, or the sum of segs */
	bool vectored;	/* PREADV, PWRITEV */
	bool write;	/* PWRITE, PWRITEV */
	bool bad_seg;	/* a segment length is negative as ssize_t */
	bool have_segs; /* the segment lengths travelled */
	bool direct;	/* EVFDFS_WIRE_SUB_DIRECT: no data, addresses */
};

/**
 * wire_decode_submit() - decode the SUBMIT record at @rec (framed).
 *
 * The layout rule: PREADV/PWRITEV carry nsegs = aio_nbytes segment lengths
 * when aio_nbytes <= 1024 and EVFDFS_WIRE_SUB_IOV_FAULT is clear, else
 * nsegs = 0; every other opcode has nsegs = 0.  A write carries
 * min(total, EVFDFS_WIRE_MAX_DATA) bytes of data; when total is larger,
 * anything from EVFDFS_WIRE_MAX_DATA up to what fits in one record is
 * accepted (a short write, as the kernel's clamp at MAX_RW_COUNT).  A write
 * whose buffer the library could not read (a fault flag, a negative
 * aio_nbytes or segment, an absurd count) may carry no data at all.
 *
 * Returns: 0, or -EINVAL when the record's length is not what its fields
 * add up to or it sets unknown flags.
 */
int wire_decode_submit(const void *rec, uint32_t len, struct wire_sub *out);

/* Segment @i of a decoded submission. */
uint64_t wire_seg(const struct wire_sub *s, uint32_t i);

/** wire_check_early() - table 2.5 steps 2-3. Returns: 0 or -EINVAL. */
int wire_check_early(const struct wire_sub *s);

/**
 * wire_check_opcode() - table 2.5 steps 7-8.
 * Returns: 0; -EFAULT when the library found aio_key unwritable;
 * -EINVAL for an opcode outside {0,1,2,3,5,7,8} (A26).
 */
int wire_check_opcode(const struct wire_sub *s);

/**
 * wire_check_ioprio() - A30.1: the IOPRIO class and level checks of
 * ioprio_check_cap(), with @rt_ok saying whether the caller holds
 * CAP_SYS_ADMIN or CAP_SYS_NICE.
 * Returns: 0; -EINVAL (bad class, NONE with a level); -EPERM (RT without
 * the capability).
 */
int wire_check_ioprio(int16_t prio, bool rt_ok);

/* What step 9 needs to know about a file the daemon serves itself. */
struct wire_file {
	bool readable, writable; /* FMODE_READ, FMODE_WRITE */
	bool read_iter, write_iter;
	bool nowait;	   /* FMODE_NOWAIT */
	bool atomic_write; /* FMODE_CAN_ATOMIC_WRITE */
	bool dontcache;	   /* FOP_DONTCACHE */
	bool append_only;  /* O_APPEND on an append-only inode */
	bool fsync;	   /* has an fsync method */
	bool rt_ok;	   /* the caller may use IOPRIO_CLASS_RT */
};

/**
 * wire_check_rw() - A30 for PREAD/PWRITE/PREADV/PWRITEV: IOPRIO, rw_flags,
 * access mode, read_iter/write_iter, buffer, offset, in the kernel's order.
 * Returns: 0 or the errno of the first failing check (-EINVAL, -EPERM,
 * -EOPNOTSUPP, -EBADF, -EFAULT).
 */
int wire_check_rw(const struct wire_sub *s, const struct wire_file *f);

/** wire_check_fsync() - A35. Returns: 0 or -EINVAL. */
int wire_check_fsync(const struct wire_sub *s, const struct wire_file *f);

/** wire_check_poll() - A40. Returns: 0 or -EINVAL. */
int wire_check_poll(const struct wire_sub *s);

/**
 * wire_rw_len() - the length the kernel would transfer for a valid
 * read/write: total clamped at MAX_RW_COUNT.
 */
uint64_t wire_rw_len(const struct wire_sub *s);

/**
 * wire_offset_bad() - A30.6: aio_offset < 0, or offset + length past
 * INT64_MAX (with the kernel's length, wire_rw_len()).
 */
bool wire_offset_bad(const struct wire_sub *s);

/* What a SETUP record with EVFDFS_WIRE_SETUP_RING adds. */
struct wire_ring_setup {
	bool on;
	uint32_t memfd;
	uint32_t id;
	uint64_t addr;
};

/**
 * wire_decode_setup() - a SETUP record: 16 bytes with flags 0, or a
 * struct evfdfs_wire_setup_ring with EVFDFS_WIRE_SETUP_RING (@ring->on).
 * Returns: 0, or -EINVAL (length, unknown flags).
 */
int wire_decode_setup(const void *rec, uint32_t len, uint32_t *nr_events,
		      struct wire_ring_setup *ring);

/** wire_decode_destroy() - a DESTROY record. Returns: 0 or -EINVAL. */
int wire_decode_destroy(const void *rec, uint32_t len);

/*
 * Ring arithmetic on values read back from a process's ring, which it may
 * have written anything into: an index taken modulo the daemon's own @nr
 * (wire_ring_index); the events waiting between head and the daemon's
 * tail (< nr); whether a submit finds no slot (A80, A81: requests in
 * flight and events waiting leave fewer than one free entry).
 */
uint32_t wire_ring_index(uint32_t raw, uint32_t nr);
uint32_t wire_ring_waiting(uint32_t tail, uint32_t head_raw, uint32_t nr);
bool wire_ring_full(uint32_t inflight, uint32_t waiting, uint32_t nr);

/**
 * wire_setup_check() - io_setup's nr_events rules (A10, A11): 0 is EINVAL;
 * the kernel doubles max(nr_events, 4 * @ncpus) in 32-bit arithmetic and
 * refuses more than 8388608 ring entries with EINVAL (so 0x80000000 wraps
 * to 0 and reaches the limit check instead, as on Linux).
 * Returns: 0 or -EINVAL.
 */
int wire_setup_check(uint32_t nr_events, unsigned int ncpus);

/**
 * wire_decode_cancel() - a CANCEL record, A75's order for what the record
 * itself carries: aio_key != 0 and unknown flags are EINVAL.
 */
int wire_decode_cancel(const void *rec, uint32_t len, uint64_t *obj);

/* Size of an EVENT record carrying @datalen bytes of data. */
static inline uint32_t wire_event_size(uint32_t datalen)
{
	return EVFDFS_WIRE_ALIGN((uint32_t)sizeof(struct evfdfs_wire_event) +
				 datalen);
}

/* Write one EVENT record at @dst (wire_event_size(datalen) bytes). */
void wire_event_pack(void *dst, const struct io_event *ev, const void *data,
		     uint32_t datalen);

/* ---- the text form (wire_text.c) ----------------------------------- */

enum wire_text_op {
	WT_NONE,   /* blank line or comment */
	WT_SETUP,  /* setup N */
	WT_PREAD,  /* pread PATH OFFSET LEN */
	WT_PWRITE, /* pwrite PATH OFFSET DATA */
	WT_FSYNC,  /* fsync PATH */
	WT_FDSYNC, /* fdsync PATH */
	WT_POLL,   /* poll PATH EVENTS */
	WT_CANCEL, /* cancel TAG */
};

/* Longest tag and counter name a line may give. */
#define WIRE_TEXT_WORD_MAX 255
/* Largest LEN of a text pread (its line is printed escaped). */
#define WIRE_TEXT_READ_MAX 65536u

struct wire_text_req {
	enum wire_text_op op;
	char *path; /* decoded, NUL-terminated, in the scratch buffer */
	int64_t offset;
	uint64_t len;	 /* pread: bytes to read */
	char *data;	 /* pwrite: decoded bytes (may contain NULs) */
	size_t datalen;	 /* pwrite */
	uint32_t events; /* poll: POLL* mask; setup: nr_events */
	char *tag;	 /* data=TAG or cancel's TAG, or NULL */
	char *resfd;	 /* resfd=NAME, or NULL */
};

/**
 * wire_text_parse() - parse one request line (without its newline).
 * @line, @len: the line, not NUL-terminated
 * @scratch: at least wire_text_scratch(len) bytes; the strings of @out
 *           point into it
 *
 * Returns: 0, or -EINVAL for anything malformed (unknown verb, missing or
 * extra argument, bad number, bad escape, unknown option, a NUL byte, an
 * empty or over-long word, a pread longer than WIRE_TEXT_READ_MAX).
 */
int wire_text_parse(const char *line, size_t len, char *scratch,
		    struct wire_text_req *out);

static inline size_t wire_text_scratch(size_t len)
{
	return len + 8;
}

/**
 * wire_text_escape() - @src as the text form prints data: printable ASCII
 * and spaces as they are, backslash as \\, newline \n, tab \t, carriage
 * return \r, anything else \xHH.  Writes at most @cap bytes to @dst (NUL
 * terminated when @cap > 0).
 * Returns: the length of the whole escaped form (which may exceed @cap).
 */
size_t wire_text_escape(char *dst, size_t cap, const void *src, size_t len);

/**
 * wire_text_poll_names() - "IN|OUT|..." for a poll mask, or "0".
 * Returns: as wire_text_escape().
 */
size_t wire_text_poll_names(char *dst, size_t cap, uint32_t mask);

#endif /* EVFDFS_WIRE_I_H */
