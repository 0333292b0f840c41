// SPDX-License-Identifier: GPL-2.0-only
/* The counter state machine alone (fused/counter.c), no FUSE. */
#include <criterion/criterion.h>
#include <errno.h>

#include "../../fused/counter.h"

Test(counter, normal_read_takes_everything)
{
	struct counter c = { .count = 7 };
	uint64_t v = 0;

	cr_assert_eq(counter_read(&c, &v), 0);
	cr_assert_eq(v, 7);
	cr_assert_eq(c.count, 0);
	cr_assert_eq(counter_read(&c, &v), -EAGAIN);
}

Test(counter, semaphore_read_returns_one)
{
	struct counter c = { .count = 2, .semaphore = true };
	uint64_t v = 0;

	cr_assert_eq(counter_read(&c, &v), 0);
	cr_assert_eq(v, 1);
	cr_assert_eq(c.count, 1);
}
