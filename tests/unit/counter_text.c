// SPDX-License-Identifier: GPL-2.0-only
/*
 * The text view's stream codec (fused/counter.c): counter_text_next() and
 * counter_text_scan().  A text write is a piece of a stream of numbers, cut
 * wherever stdio's buffer filled: digits at the end of one write are carried
 * to the next (struct counter_text_num), so that a stream gives the same
 * numbers however it is cut.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../fused/counter.h"

#define TOP UINT64_C(0xfffffffffffffffe)

/* Every number @s completes, given the digits carried in @num. */
static int all(const char *s, struct counter_text_num *num, uint64_t *vals,
	       size_t *ends, int max)
{
	size_t pos = 0, len = strlen(s);
	int n = 0, ret;
	uint64_t v;

	while ((ret = counter_text_next(s, len, &pos, num, &v)) == 1) {
		cr_assert_lt(n, max);
		vals[n] = v;
		ends[n] = pos;
		n++;
	}
	return ret < 0 ? ret : n;
}

Test(counter_text, trailing_digits_are_carried_not_counted, .timeout = 10)
{
	struct counter_text_num num = { 0 };
	uint64_t v[4];
	size_t e[4];

	cr_assert_eq(all("1 2 3", &num, v, e, 4), 2);
	cr_assert_eq(v[0], 1);
	cr_assert_eq(v[1], 2);
	cr_assert_eq(e[1], 4, "the short write would end after \"1 2 \"");
	cr_assert(num.digits);
	cr_assert_eq(num.val, 3);
	/* The next write continues the 3. */
	cr_assert_eq(all("4\n5\n", &num, v, e, 4), 2);
	cr_assert_eq(v[0], 34);
	cr_assert_eq(v[1], 5);
	cr_assert_not(num.digits);
}

Test(counter_text, white_space_ends_carried_digits, .timeout = 10)
{
	struct counter_text_num num = { .val = 12, .digits = true };
	uint64_t v[2];
	size_t e[2];

	cr_assert_eq(all("\n", &num, v, e, 2), 1);
	cr_assert_eq(v[0], 12);
	cr_assert_eq(e[0], 1);
	cr_assert_not(num.digits);
	/* White space alone, with nothing carried: no number, no error. */
	cr_assert_eq(all(" \t\n", &num, v, e, 2), 0);
	cr_assert_not(num.digits);
}

Test(counter_text, digits_alone_complete_nothing, .timeout = 10)
{
	struct counter_text_num num = { 0 };

	cr_assert_eq(counter_text_scan("12", 2, &num), 0);
	cr_assert(num.digits);
	cr_assert_eq(num.val, 12);
	cr_assert_eq(counter_text_scan("34", 2, &num), 0);
	cr_assert_eq(num.val, 1234);
	cr_assert_eq(counter_text_scan(" ", 1, &num), 1);
	cr_assert_not(num.digits);
}

Test(counter_text, scan_is_all_or_nothing_and_keeps_num_on_error, .timeout = 10)
{
	struct counter_text_num num = { .val = 7, .digits = true };

	cr_assert_eq(counter_text_scan("1 2 x", 5, &num), -EINVAL);
	cr_assert_eq(num.val, 7, "a refused write leaves @num to the caller");
	cr_assert(num.digits);
	/* An invalid byte right after carried digits: "7x". */
	cr_assert_eq(counter_text_scan("x", 1, &num), -EINVAL);
	cr_assert_eq(counter_text_scan("-1", 2, &num), -EINVAL);
	num.digits = false;
	num.val = 0;
	cr_assert_eq(counter_text_scan("-1", 2, &num), -EINVAL);
	cr_assert_eq(counter_text_scan("1\0", 2, &num), -EINVAL);
}

Test(counter_text, overflow_across_writes_is_einval, .timeout = 10)
{
	struct counter_text_num num = { 0 };

	cr_assert_eq(counter_text_scan("1844674407370955161", 19, &num), 0);
	/* ...4 makes the top, which is valid; 5 is all ones (E22). */
	{
		struct counter_text_num n4 = num, n5 = num;
		uint64_t v = 0;
		size_t pos = 0;

		cr_assert_eq(counter_text_scan("4", 1, &n4), 0);
		cr_assert_eq(n4.val, TOP);
		cr_assert_eq(counter_text_next(" ", 1, &pos, &n4, &v), 1);
		cr_assert_eq(v, TOP);
		cr_assert_eq(counter_text_scan("5", 1, &n5), -EINVAL);
		cr_assert_eq(counter_text_scan("6", 1, &num), -EINVAL);
		cr_assert_eq(counter_text_scan("40", 2, &num), -EINVAL);
	}
}

/*
 * However a stream is cut, the numbers are the same: seq 1 1000 cut at
 * every size from 1 to 64 bytes, the sum exact (what `seq 1 100000 >
 * text/x` relies on).
 */
Test(counter_text, any_cut_of_a_stream_gives_the_same_numbers, .timeout = 30)
{
	char *s = malloc(8000);
	size_t len = 0, cut;
	int i;

	cr_assert(s);
	for (i = 1; i <= 1000; i++)
		len += (size_t)sprintf(s + len, "%d\n", i);
	for (cut = 1; cut <= 64; cut++) {
		struct counter_text_num num = { 0 };
		uint64_t sum = 0, count = 0, v;
		size_t off;

		for (off = 0; off < len; off += cut) {
			size_t n = len - off < cut ? len - off : cut;
			struct counter_text_num chk = num;
			long k = counter_text_scan(s + off, n, &chk);
			size_t pos = 0;
			long got = 0;

			cr_assert_geq(k, 0);
			while (counter_text_next(s + off, n, &pos, &num, &v) ==
			       1) {
				sum += v;
				count++;
				got++;
			}
			cr_assert_eq(got, k, "scan and next agree");
			cr_assert_eq(num.digits, chk.digits);
			cr_assert_eq(num.val, chk.val);
		}
		cr_assert_not(num.digits, "the stream ends with a newline");
		cr_assert_eq(count, 1000, "cut %zu", cut);
		cr_assert_eq(sum, 500500, "cut %zu", cut);
	}
	free(s);
}

Test(counter_text, no_limit_on_how_many_numbers, .timeout = 10)
{
	size_t len = 2 * 100000;
	char *s = malloc(len);
	struct counter_text_num num = { 0 };
	size_t i;

	cr_assert(s);
	for (i = 0; i < len; i += 2) {
		s[i] = '1';
		s[i + 1] = '\n';
	}
	cr_assert_eq(counter_text_scan(s, len, &num), 100000);
	free(s);
}
