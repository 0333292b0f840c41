// SPDX-License-Identifier: GPL-2.0-only
/*
 * The counter state machine alone (fused/counter.c), no FUSE: reads and
 * their undo, the write rules at the top of the range, the kernel-side
 * signal and its saturation, the poll mask, and the text codec of the shell
 * view.  Where the kernel has the same rule, the expected result is taken
 * from a real eventfd next to the model (kernel_* helpers below) instead of
 * being written down here; the text codec has no kernel twin and is checked
 * against the rules of shared/spec/emulation.md.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <libaio.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "../../fused/counter.h"

#define ALL_ONES UINT64_C(0xffffffffffffffff)
#define TOP UINT64_C(0xfffffffffffffffe)

/* ---- the kernel twin ----------------------------------------------- */

/* The count of a kernel eventfd, from fdinfo, without touching it. */
static uint64_t kernel_count(int efd)
{
	char path[64], line[128];
	unsigned long long v = 0;
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", efd);
	f = fopen(path, "r");
	cr_assert(f, "open %s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "eventfd-count: %llx", &v) == 1)
			found = true;
	fclose(f);
	cr_assert(found, "no eventfd-count in %s", path);
	return v;
}

/* 0 or -errno, as the model's functions answer. */
static int kernel_write(int efd, uint64_t v)
{
	ssize_t n = write(efd, &v, sizeof(v));

	if (n < 0)
		return -errno;
	cr_assert_eq(n, 8);
	return 0;
}

static int kernel_read(int efd, uint64_t *v)
{
	ssize_t n = read(efd, v, sizeof(*v));

	if (n < 0)
		return -errno;
	cr_assert_eq(n, 8);
	return 0;
}

static unsigned int kernel_poll(int efd)
{
	struct pollfd p = { .fd = efd, .events = POLLIN | POLLOUT };

	cr_assert_eq(poll(&p, 1, 0), p.revents ? 1 : 0);
	return (unsigned int)p.revents;
}

/*
 * The only way the kernel adds to an eventfd without a write: an AIO
 * completion with IOCB_FLAG_RESFD (E34, A55).  One pread of /dev/zero,
 * waited for.
 */
struct kernel_signaller {
	io_context_t ctx;
	int zero;
	char buf[8];
};

static void kernel_signaller_init(struct kernel_signaller *ks)
{
	memset(ks, 0, sizeof(*ks));
	cr_assert_eq(io_setup(4, &ks->ctx), 0);
	ks->zero = open("/dev/zero", O_RDONLY | O_CLOEXEC);
	cr_assert(ks->zero >= 0, "open /dev/zero: %s", strerror(errno));
}

static void kernel_signaller_fini(struct kernel_signaller *ks)
{
	io_destroy(ks->ctx);
	close(ks->zero);
}

static void kernel_signal(struct kernel_signaller *ks, int efd)
{
	struct iocb cb, *cbs[1] = { &cb };
	struct io_event ev;
	struct timespec ts = { 10, 0 };

	io_prep_pread(&cb, ks->zero, ks->buf, sizeof(ks->buf), 0);
	io_set_eventfd(&cb, efd);
	cr_assert_eq(io_submit(ks->ctx, 1, cbs), 1);
	cr_assert_eq(io_getevents(ks->ctx, 1, 1, &ev, &ts), 1);
	cr_assert_eq((long)ev.res, 8);
}

/* A kernel eventfd holding @count (steps of writes, then signals). */
static int kernel_at(struct kernel_signaller *ks, uint64_t count, int flags)
{
	int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC | flags);

	cr_assert(efd >= 0, "eventfd: %s", strerror(errno));
	if (count == ALL_ONES) {
		cr_assert_eq(kernel_write(efd, TOP), 0);
		kernel_signal(ks, efd);
	} else if (count) {
		cr_assert_eq(kernel_write(efd, count), 0);
	}
	cr_assert_eq(kernel_count(efd), count);
	return efd;
}

/* ---- reads ---------------------------------------------------------- */

Test(counter, normal_read_takes_everything, .timeout = 10)
{
	struct counter c = { .count = 7 };
	uint64_t v = 0;

	cr_assert_eq(counter_read(&c, &v), 0);
	cr_assert_eq(v, 7);
	cr_assert_eq(c.count, 0);
	cr_assert_eq(counter_read(&c, &v), -EAGAIN);
}

Test(counter, semaphore_read_returns_one, .timeout = 10)
{
	struct counter c = { .count = 2, .semaphore = true };
	uint64_t v = 0;

	cr_assert_eq(counter_read(&c, &v), 0);
	cr_assert_eq(v, 1);
	cr_assert_eq(c.count, 1);
	cr_assert_eq(counter_read(&c, &v), 0);
	cr_assert_eq(v, 1);
	cr_assert_eq(c.count, 0);
	cr_assert_eq(counter_read(&c, &v), -EAGAIN);
}

Test(counter, empty_read_leaves_value_untouched, .timeout = 10)
{
	struct counter c = { 0 };
	uint64_t v = 12345;

	cr_assert_eq(counter_read(&c, &v), -EAGAIN);
	cr_assert_eq(v, 12345, "a failed read must not write *val");
	c.semaphore = true;
	cr_assert_eq(counter_read(&c, &v), -EAGAIN);
	cr_assert_eq(v, 12345);
	cr_assert_eq(c.count, 0);
}

/* A saturated counter (only a signal gets there) reads like any other. */
Test(counter, saturated_reads_match_kernel, .timeout = 10)
{
	struct kernel_signaller ks;
	struct counter n = { .count = ALL_ONES };
	struct counter s = { .count = ALL_ONES, .semaphore = true };
	uint64_t kv = 0, mv = 0;
	int efd, sfd;

	kernel_signaller_init(&ks);
	efd = kernel_at(&ks, ALL_ONES, 0);
	sfd = kernel_at(&ks, ALL_ONES, EFD_SEMAPHORE);

	cr_assert_eq(counter_read(&n, &mv), kernel_read(efd, &kv));
	cr_assert_eq(mv, kv);
	cr_assert_eq(n.count, kernel_count(efd));

	cr_assert_eq(counter_read(&s, &mv), kernel_read(sfd, &kv));
	cr_assert_eq(mv, kv);
	cr_assert_eq(s.count, kernel_count(sfd));

	close(efd);
	close(sfd);
	kernel_signaller_fini(&ks);
}

Test(counter, unread_restores_normal_read, .timeout = 10)
{
	struct counter c = { .count = 42 };
	uint64_t v;

	cr_assert_eq(counter_read(&c, &v), 0);
	counter_unread(&c, v);
	cr_assert_eq(c.count, 42);
	/* Unread on top of a write that came in between adds both. */
	cr_assert_eq(counter_read(&c, &v), 0);
	cr_assert_eq(counter_write(&c, 3), 0);
	counter_unread(&c, v);
	cr_assert_eq(c.count, 45);
}

Test(counter, unread_restores_semaphore_read, .timeout = 10)
{
	struct counter c = { .count = 3, .semaphore = true };
	uint64_t v;

	cr_assert_eq(counter_read(&c, &v), 0);
	cr_assert_eq(c.count, 2);
	counter_unread(&c, v);
	cr_assert_eq(c.count, 3);
}

Test(counter, unread_restores_saturated_read, .timeout = 10)
{
	struct counter c = { .count = ALL_ONES };
	uint64_t v;

	cr_assert_eq(counter_read(&c, &v), 0);
	cr_assert_eq(v, ALL_ONES);
	counter_unread(&c, v);
	cr_assert_eq(c.count, ALL_ONES);
	cr_assert_eq(counter_poll(&c), COUNTER_POLLIN | COUNTER_POLLERR);
}

/* ---- writes --------------------------------------------------------- */

/*
 * Every write case near the top of the range, on the model and on a
 * kernel eventfd holding the same count: same verdict, same count after.
 */
Test(counter, write_boundaries_match_kernel, .timeout = 20)
{
	static const uint64_t counts[] = { 0, 1, 5, TOP - 1, TOP, ALL_ONES };
	static const uint64_t vals[] = { 0,
					 1,
					 2,
					 7,
					 TOP - 6,
					 TOP - 5,
					 TOP - 4,
					 TOP - 2,
					 TOP - 1,
					 TOP,
					 ALL_ONES,
					 1ull << 63,
					 ALL_ONES >> 1 };
	struct kernel_signaller ks;
	size_t i, j;

	kernel_signaller_init(&ks);
	for (i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		for (j = 0; j < sizeof(vals) / sizeof(vals[0]); j++) {
			struct counter c = { .count = counts[i] };
			int efd = kernel_at(&ks, counts[i], 0);
			int kret = kernel_write(efd, vals[j]);
			int chk = counter_write_check(&c, vals[j]);
			int mret;

			cr_assert_eq(c.count, counts[i],
				     "write_check must not change the count");
			mret = counter_write(&c, vals[j]);
			cr_assert_eq(chk, mret,
				     "check and write disagree: count %#llx "
				     "val %#llx",
				     (unsigned long long)counts[i],
				     (unsigned long long)vals[j]);
			cr_assert_eq(mret, kret,
				     "count %#llx + val %#llx: model %d, "
				     "kernel %d",
				     (unsigned long long)counts[i],
				     (unsigned long long)vals[j], mret, kret);
			cr_assert_eq(c.count, kernel_count(efd),
				     "count %#llx + val %#llx: model %#llx",
				     (unsigned long long)counts[i],
				     (unsigned long long)vals[j],
				     (unsigned long long)c.count);
			close(efd);
		}
	}
	kernel_signaller_fini(&ks);
}

Test(counter, write_reaches_top_then_refuses_one, .timeout = 10)
{
	struct counter c = { 0 };

	cr_assert_eq(counter_write(&c, TOP), 0); /* E23 */
	cr_assert_eq(c.count, TOP);
	cr_assert_eq(counter_write(&c, 1), -EAGAIN);
	cr_assert_eq(c.count, TOP);
	cr_assert_eq(counter_write(&c, 0), 0); /* E25 */
	cr_assert_eq(c.count, TOP);
}

Test(counter, write_all_ones_is_einval_even_at_zero, .timeout = 10)
{
	struct counter c = { 0 };

	cr_assert_eq(counter_write_check(&c, ALL_ONES), -EINVAL);
	cr_assert_eq(counter_write(&c, ALL_ONES), -EINVAL);
	cr_assert_eq(c.count, 0);
	c.count = TOP;
	/* EINVAL wins over EAGAIN: the value is wrong, not the timing. */
	cr_assert_eq(counter_write(&c, ALL_ONES), -EINVAL);
	c.count = ALL_ONES;
	cr_assert_eq(counter_write(&c, ALL_ONES), -EINVAL);
}

Test(counter, write_overflow_does_not_wrap, .timeout = 10)
{
	struct counter c = { .count = 3 };

	/* 3 + (2^64 - 3) would wrap to 0 in 64 bits; it must be EAGAIN. */
	cr_assert_eq(counter_write(&c, (uint64_t)0 - 3), -EAGAIN);
	cr_assert_eq(c.count, 3);
	cr_assert_eq(counter_write(&c, TOP - 2), -EAGAIN);
	cr_assert_eq(counter_write(&c, TOP - 3), 0);
	cr_assert_eq(c.count, TOP);
}

Test(counter, write_of_zero_blocks_only_at_saturation, .timeout = 10)
{
	struct counter c = { .count = ALL_ONES };

	cr_assert_eq(counter_write_check(&c, 0), -EAGAIN);
	cr_assert_eq(counter_write(&c, 0), -EAGAIN);
	cr_assert_eq(c.count, ALL_ONES);
	c.count = TOP;
	cr_assert_eq(counter_write(&c, 0), 0);
}

Test(counter, semaphore_mode_does_not_change_write_rules, .timeout = 10)
{
	struct counter c = { .count = TOP - 1, .semaphore = true };

	cr_assert_eq(counter_write(&c, 2), -EAGAIN);
	cr_assert_eq(counter_write(&c, 1), 0);
	cr_assert_eq(c.count, TOP);
}

/* ---- kernel-side signal --------------------------------------------- */

Test(counter, signal_adds_one_and_saturates_like_kernel, .timeout = 10)
{
	static const uint64_t counts[] = { 0, 1, TOP - 1, TOP, ALL_ONES };
	struct kernel_signaller ks;
	size_t i;

	kernel_signaller_init(&ks);
	for (i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		struct counter c = { .count = counts[i] };
		int efd = kernel_at(&ks, counts[i], 0);

		counter_signal(&c);
		kernel_signal(&ks, efd);
		cr_assert_eq(c.count, kernel_count(efd),
			     "signal at %#llx: model %#llx",
			     (unsigned long long)counts[i],
			     (unsigned long long)c.count);
		close(efd);
	}
	kernel_signaller_fini(&ks);
}

Test(counter, signal_saturation_is_sticky, .timeout = 10)
{
	struct counter c = { .count = TOP };
	int i;

	for (i = 0; i < 3; i++)
		counter_signal(&c);
	cr_assert_eq(c.count, ALL_ONES);
	c.semaphore = true;
	counter_signal(&c);
	cr_assert_eq(c.count, ALL_ONES);
}

/* ---- poll ----------------------------------------------------------- */

Test(counter, poll_mask_matches_kernel, .timeout = 10)
{
	static const uint64_t counts[] = { 0,	    1,	 5,	  TOP - 2,
					   TOP - 1, TOP, ALL_ONES };
	struct kernel_signaller ks;
	size_t i;

	kernel_signaller_init(&ks);
	for (i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		struct counter c = { .count = counts[i] };
		int efd = kernel_at(&ks, counts[i], 0);

		cr_assert_eq(counter_poll(&c), kernel_poll(efd),
			     "count %#llx: model %#x kernel %#x",
			     (unsigned long long)counts[i], counter_poll(&c),
			     kernel_poll(efd));
		close(efd);
	}
	kernel_signaller_fini(&ks);
}

/* The four counts of E40, spelled out as the spec lists them. */
Test(counter, poll_mask_at_spec_points, .timeout = 10)
{
	struct counter c = { 0 };

	cr_assert_eq(counter_poll(&c), COUNTER_POLLOUT);
	c.count = 5;
	cr_assert_eq(counter_poll(&c), COUNTER_POLLIN | COUNTER_POLLOUT);
	c.count = TOP;
	cr_assert_eq(counter_poll(&c), COUNTER_POLLIN);
	c.count = ALL_ONES;
	cr_assert_eq(counter_poll(&c), COUNTER_POLLIN | COUNTER_POLLERR);
	cr_assert_eq(COUNTER_POLLIN, POLLIN);
	cr_assert_eq(COUNTER_POLLOUT, POLLOUT);
	cr_assert_eq(COUNTER_POLLERR, POLLERR);
}

/* ---- the model against the kernel, op by op ------------------------- */

static uint64_t rnd64(unsigned int *seed)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 4; i++)
		v = (v << 16) ^ (uint64_t)(rand_r(seed) & 0xffff);
	return v;
}

/* A value that makes the interesting cases likely. */
static uint64_t pick_val(unsigned int *seed, uint64_t count)
{
	switch (rand_r(seed) % 8) {
	case 0:
		return 0;
	case 1:
		return (uint64_t)(rand_r(seed) % 10);
	case 2:
		return ALL_ONES;
	case 3:
		return count <= TOP ? TOP - count : 0;
	case 4:
		return count < TOP ? TOP - count + 1 : 1;
	case 5:
		return TOP - (uint64_t)(rand_r(seed) % 4);
	case 6:
		return rnd64(seed);
	default:
		return (uint64_t)rand_r(seed);
	}
}

static void differential_run(unsigned int seed, bool semaphore)
{
	struct kernel_signaller ks;
	struct counter c = { .semaphore = semaphore };
	int efd, step;

	kernel_signaller_init(&ks);
	efd = kernel_at(&ks, 0, semaphore ? EFD_SEMAPHORE : 0);
	for (step = 0; step < 600; step++) {
		int op = rand_r(&seed) % 10;
		uint64_t mv = 0, kv = 0, val;
		int mret, kret;

		if (op < 4) {
			val = pick_val(&seed, c.count);
			mret = counter_write(&c, val);
			kret = kernel_write(efd, val);
			cr_assert_eq(mret, kret,
				     "step %d write %#llx: model %d kernel %d",
				     step, (unsigned long long)val, mret, kret);
		} else if (op < 8) {
			mret = counter_read(&c, &mv);
			kret = kernel_read(efd, &kv);
			cr_assert_eq(mret, kret, "step %d read", step);
			if (mret == 0)
				cr_assert_eq(mv, kv, "step %d read value",
					     step);
		} else if (op == 8) {
			counter_signal(&c);
			kernel_signal(&ks, efd);
		} else {
			cr_assert_eq(counter_poll(&c), kernel_poll(efd),
				     "step %d poll", step);
		}
		cr_assert_eq(c.count, kernel_count(efd),
			     "step %d (op %d): model %#llx", step, op,
			     (unsigned long long)c.count);
	}
	close(efd);
	kernel_signaller_fini(&ks);
}

Test(counter, random_ops_match_kernel_normal_mode, .timeout = 30)
{
	differential_run(20240601u, false);
}

Test(counter, random_ops_match_kernel_semaphore_mode, .timeout = 30)
{
	differential_run(77u, true);
}

/* ---- sizes ---------------------------------------------------------- */

Test(counter, read_and_write_sizes, .timeout = 10)
{
	size_t n;

	for (n = 0; n < 8; n++)
		cr_assert_not(counter_read_size_ok(n), "read of %zu", n);
	cr_assert(counter_read_size_ok(8));
	cr_assert(counter_read_size_ok(16));
	cr_assert(counter_read_size_ok(4096));
	for (n = 0; n < 20; n++)
		cr_assert_eq(counter_write_size_ok(n), n == 8, "write of %zu",
			     n);
}

/* ---- text format ---------------------------------------------------- */

Test(counter, text_format_zero, .timeout = 10)
{
	char buf[COUNTER_TEXT_LINE_MAX + 1];

	memset(buf, 'x', sizeof(buf));
	cr_assert_eq(counter_text_format(buf, 0), 2);
	cr_assert_str_eq(buf, "0\n");
}

Test(counter, text_format_top_and_all_ones, .timeout = 10)
{
	char buf[COUNTER_TEXT_LINE_MAX + 1];

	cr_assert_eq(counter_text_format(buf, TOP), 21);
	cr_assert_str_eq(buf, "18446744073709551614\n");
	cr_assert_eq(counter_text_format(buf, ALL_ONES), COUNTER_TEXT_LINE_MAX);
	cr_assert_str_eq(buf, "18446744073709551615\n");
}

Test(counter, text_format_matches_printf, .timeout = 10)
{
	unsigned int seed = 5;
	char buf[COUNTER_TEXT_LINE_MAX + 1], want[32];
	int i;

	for (i = 0; i < 2000; i++) {
		uint64_t v =
			i < 30 ? (uint64_t)i * 7 : rnd64(&seed) >> (i % 64);
		size_t n = counter_text_format(buf, v);

		snprintf(want, sizeof(want), "%llu\n", (unsigned long long)v);
		cr_assert_str_eq(buf, want);
		cr_assert_eq(n, strlen(want));
	}
}

/* ---- text parse ----------------------------------------------------- */

static int parse(const char *s, uint64_t *vals, size_t *ends, size_t max)
{
	return counter_text_parse(s, strlen(s), vals, ends, max);
}

Test(counter, parse_one_number, .timeout = 10)
{
	uint64_t v[4] = { 0 };
	size_t e[4] = { 0 };

	cr_assert_eq(parse("42", v, e, 4), 1);
	cr_assert_eq(v[0], 42);
	cr_assert_eq(e[0], 2);
	cr_assert_eq(parse("42\n", v, e, 4), 1);
	cr_assert_eq(v[0], 42);
	cr_assert_eq(e[0], 3, "the trailing newline belongs to the number");
	cr_assert_eq(parse("0", v, e, 4), 1);
	cr_assert_eq(v[0], 0);
	cr_assert_eq(parse("007", v, e, 4), 1);
	cr_assert_eq(v[0], 7);
}

Test(counter, parse_several_numbers_and_ends, .timeout = 10)
{
	const char *s = "1 22\t333\n";
	uint64_t v[4] = { 0 };
	size_t e[4] = { 0 };

	cr_assert_eq(parse(s, v, e, 4), 3);
	cr_assert_eq(v[0], 1);
	cr_assert_eq(v[1], 22);
	cr_assert_eq(v[2], 333);
	cr_assert_eq(e[0], 2);
	cr_assert_eq(e[1], 5);
	cr_assert_eq(e[2], strlen(s));
}

Test(counter, parse_leading_and_trailing_whitespace, .timeout = 10)
{
	const char *s = " \t\n 5  \r\n\v\f";
	uint64_t v[2] = { 0 };
	size_t e[2] = { 0 };

	cr_assert_eq(parse(s, v, e, 2), 1);
	cr_assert_eq(v[0], 5);
	cr_assert_eq(e[0], strlen(s), "all trailing space is consumed");
}

Test(counter, parse_tabs_between_numbers, .timeout = 10)
{
	uint64_t v[3] = { 0 };
	size_t e[3] = { 0 };

	cr_assert_eq(parse("\t7\t\t8\t", v, e, 3), 2);
	cr_assert_eq(v[0], 7);
	cr_assert_eq(v[1], 8);
	cr_assert_eq(e[0], 4);
	cr_assert_eq(e[1], 6);
}

Test(counter, parse_counts_without_vals_or_ends, .timeout = 10)
{
	cr_assert_eq(parse("1 2 3", NULL, NULL, 8), 3);
	cr_assert_eq(parse("1 2 x", NULL, NULL, 8), -EINVAL);
}

Test(counter, parse_empty_and_blank_are_einval, .timeout = 10)
{
	uint64_t v = 99;

	cr_assert_eq(counter_text_parse("", 0, &v, NULL, 1), -EINVAL);
	cr_assert_eq(parse(" ", &v, NULL, 1), -EINVAL);
	cr_assert_eq(parse("\n", &v, NULL, 1), -EINVAL);
	cr_assert_eq(parse(" \t \n", &v, NULL, 1), -EINVAL);
}

Test(counter, parse_rejects_non_numbers, .timeout = 10)
{
	static const char *const bad[] = { "12abc",
					   "abc",
					   "-1",
					   "+1",
					   "1 x",
					   "x 1",
					   "1-2",
					   "0x10",
					   "1.5",
					   "1e3",
					   "1,2",
					   "-",
					   "+",
					   "1 2 -3",
					   "١",
					   "12 a",
					   "3\\n",
					   " -0 ",
					   "1\x01",
					   "\x7f"
					   "1" };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(parse(bad[i], NULL, NULL, 8), -EINVAL, "'%s'",
			     bad[i]);
}

Test(counter, parse_rejects_embedded_nul, .timeout = 10)
{
	cr_assert_eq(counter_text_parse("1\0", 2, NULL, NULL, 4), -EINVAL);
	cr_assert_eq(counter_text_parse("1\0 2", 4, NULL, NULL, 4), -EINVAL);
}

Test(counter, parse_respects_len_not_nul, .timeout = 10)
{
	uint64_t v = 0;
	size_t e = 0;

	/* The buffer is not NUL-terminated: only len bytes count. */
	cr_assert_eq(counter_text_parse("123456", 3, &v, &e, 1), 1);
	cr_assert_eq(v, 123);
	cr_assert_eq(e, 3);
	cr_assert_eq(counter_text_parse("12 abc", 3, &v, &e, 1), 1);
	cr_assert_eq(v, 12);
}

Test(counter, parse_largest_values, .timeout = 10)
{
	uint64_t v = 0;

	cr_assert_eq(parse("18446744073709551614", &v, NULL, 1), 1);
	cr_assert_eq(v, TOP);
	/* The all-ones value is an EINVAL write on an eventfd (E22). */
	cr_assert_eq(parse("18446744073709551615", &v, NULL, 1), -EINVAL);
	cr_assert_eq(parse("00018446744073709551614", &v, NULL, 1), 1);
	cr_assert_eq(v, TOP);
}

Test(counter, parse_rejects_64_bit_overflow, .timeout = 10)
{
	static const char *const big[] = {
		"18446744073709551616",	 "18446744073709551620",
		"18446744073709551625",	 "99999999999999999999",
		"184467440737095516150", "1 2 100000000000000000000",
	};
	size_t i;

	for (i = 0; i < sizeof(big) / sizeof(big[0]); i++)
		cr_assert_eq(parse(big[i], NULL, NULL, 8), -EINVAL, "%s",
			     big[i]);
}

Test(counter, parse_too_many_numbers, .timeout = 10)
{
	uint64_t v[2] = { 0 };
	size_t e[2] = { 0 };

	cr_assert_eq(parse("1 2", v, e, 2), 2);
	cr_assert_eq(parse("1 2 3", v, e, 2), -EINVAL);
	cr_assert_eq(parse("1", v, e, 0), -EINVAL);
}

Test(counter, parse_is_all_or_nothing, .timeout = 10)
{
	uint64_t v[3] = { 11, 22, 33 };

	/* The bad third number is found; what the caller applies is
	 * decided by the return value alone. */
	cr_assert_eq(parse("1 2 z", v, NULL, 3), -EINVAL);
	cr_assert_eq(parse("1 2 18446744073709551615", v, NULL, 3), -EINVAL);
}

Test(counter, parse_format_round_trip, .timeout = 10)
{
	unsigned int seed = 9;
	char buf[COUNTER_TEXT_LINE_MAX + 1];
	int i;

	for (i = 0; i < 2000; i++) {
		uint64_t v = rnd64(&seed) >> (i % 64), got = 0;
		size_t n, end = 0;

		if (v == ALL_ONES)
			v--;
		n = counter_text_format(buf, v);
		cr_assert_eq(counter_text_parse(buf, n, &got, &end, 1), 1);
		cr_assert_eq(got, v);
		cr_assert_eq(end, n);
	}
}
