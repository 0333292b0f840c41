/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The eventfd counter state machine, with no libfuse in it: what a read, a
 * write, a kernel-style signal and a poll do to one 64-bit counter, and the
 * text codec of the shell view.  Every function here is pure (no I/O, no
 * allocation) so that the unit tests can drive it alone, as epoll-shim's
 * eventfd_ctx.c is driven.
 */
#ifndef EVFDFS_COUNTER_H
#define EVFDFS_COUNTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define COUNTER_MAX \
	UINT64_C(0xfffffffffffffffe) /* largest value a write can reach */
#define COUNTER_SATURATED UINT64_MAX /* only counter_signal() gets here */

/* Poll bits, numerically equal to POLLIN/POLLOUT/POLLERR on Linux. */
#define COUNTER_POLLIN 0x001u
#define COUNTER_POLLOUT 0x004u
#define COUNTER_POLLERR 0x008u

/* Longest text line: "18446744073709551615\n". */
#define COUNTER_TEXT_LINE_MAX 21

struct counter {
	uint64_t count;
	bool semaphore;
};

/**
 * counter_read() - consume what one read(2) of the counter returns.
 * @c: the counter
 * @val: where the consumed value goes
 *
 * Returns: 0 and *@val = the whole count (normal mode) or 1 (semaphore mode);
 * -EAGAIN when the count is 0 (the caller parks or fails, E14/E15).
 */
int counter_read(struct counter *c, uint64_t *val);

/**
 * counter_unread() - give back what counter_read() took, because the reply
 * that carried it was refused.  Exact as long as nothing ran in between.
 */
void counter_unread(struct counter *c, uint64_t val);

/**
 * counter_write_check() - would a write of @val be accepted now?
 *
 * Returns: 0 if it would; -EINVAL for 0xffffffffffffffff (E22); -EAGAIN if
 * count + val would pass 0xfffffffffffffffe (E23, E24).
 */
int counter_write_check(const struct counter *c, uint64_t val);

/**
 * counter_write() - apply a write of @val (E23, E25).
 *
 * Returns: as counter_write_check(); on 0 the value has been added.
 */
int counter_write(struct counter *c, uint64_t val);

/**
 * counter_signal() - the kernel-side add of an AIO completion (E34, A55):
 * +1, saturating at 0xffffffffffffffff; never fails.
 */
void counter_signal(struct counter *c);

/** counter_poll() - the poll mask, from the count alone (E40). */
unsigned int counter_poll(const struct counter *c);

/**
 * counter_read_size_ok() - E10: a read of fewer than 8 bytes is EINVAL.
 * counter_write_size_ok() - E20: a write must be exactly 8 bytes.
 */
static inline bool counter_read_size_ok(size_t size)
{
	return size >= sizeof(uint64_t);
}

static inline bool counter_write_size_ok(size_t size)
{
	return size == sizeof(uint64_t);
}

/**
 * counter_text_format() - format @val as the text view prints it.
 * @buf: at least COUNTER_TEXT_LINE_MAX + 1 bytes
 *
 * Returns: the length of the line, newline included, NUL excluded.
 */
size_t counter_text_format(char *buf, uint64_t val);

/**
 * counter_text_parse() - parse one text write: unsigned decimal numbers
 * separated by white space.  All or nothing.
 * @buf: the bytes written (not NUL-terminated)
 * @len: their length
 * @vals: where the numbers go; may be NULL to count only
 * @ends: for each number, the offset just past it and the white space that
 *        follows it (what a partial write reports); may be NULL
 * @max: capacity of @vals and @ends
 *
 * Returns: how many numbers (>= 1); -EINVAL for anything that is not a
 * number, a number above 0xfffffffffffffffe (a write of the all-ones value is
 * EINVAL on an eventfd too), no number at all, or more than @max numbers.
 */
int counter_text_parse(const char *buf, size_t len, uint64_t *vals,
		       size_t *ends, size_t max);

/**
 * struct counter_text_num - the digits of a text-view number that no white
 * space has ended yet: the end of one write, carried to the next (a number
 * that stdio split across two write(2) calls is one number).
 * @val: the value of the digits so far
 * @digits: true once there is at least one digit
 */
struct counter_text_num {
	uint64_t val;
	bool digits;
};

/**
 * counter_text_next() - the next number that a text write completes.
 * @buf: the bytes written (not NUL-terminated)
 * @len: their length
 * @pos: in: where to look; out: just past the number and the white space
 *       after it (unchanged when 0 or an error is returned)
 * @num: in: the digits carried to @pos (the first number continues them);
 *       out: emptied once a number completes, or, when 0 is returned, the
 *       digits that end the write (none if it ends with white space)
 * @val: the completed number
 *
 * A number is complete when white space follows its digits.  Digits at the
 * very end of the write are not a number yet: they wait in @num.
 *
 * Returns: 1 and *@val; 0 when the write holds no further complete number;
 * -EINVAL for a byte that is neither a digit nor white space, or a number
 * above 0xfffffffffffffffe (which no further digit can make valid).
 */
int counter_text_next(const char *buf, size_t len, size_t *pos,
		      struct counter_text_num *num, uint64_t *val);

/**
 * counter_text_scan() - check a whole text write before any of it is
 * applied (all or nothing).
 * @num: in: the digits carried from earlier writes; out: the digits that
 *       end this write (what the next write continues)
 *
 * Returns: how many numbers the write completes (0 for a write of digits or
 * white space alone), or -EINVAL as counter_text_next().
 */
long counter_text_scan(const char *buf, size_t len,
		       struct counter_text_num *num);

#endif /* EVFDFS_COUNTER_H */
