// SPDX-License-Identifier: GPL-2.0-only
/*
 * The eventfd counter state machine (see counter.h).  The rules are the
 * kernel's fs/eventfd.c as written down in shared/spec/linux-semantics.md,
 * part 1; the item numbers (E12, E23, ...) refer to it.
 */
#include <errno.h>
#include <string.h>

#include "counter.h"

int counter_read(struct counter *c, uint64_t *val)
{
	if (c->count == 0)
		return -EAGAIN;
	if (c->semaphore) {
		*val = 1; /* E13 */
		c->count--;
	} else {
		*val = c->count; /* E12 */
		c->count = 0;
	}
	return 0;
}

void counter_unread(struct counter *c, uint64_t val)
{
	c->count += val;
}

int counter_write_check(const struct counter *c, uint64_t val)
{
	if (val == UINT64_MAX)
		return -EINVAL; /* E22 */
	/*
	 * E23: accepted iff count + val <= 0xfffffffffffffffe, written without
	 * overflow.  A saturated counter (only a signal gets it there) blocks
	 * every write, even of 0 (E25, A55).
	 */
	if (c->count > COUNTER_MAX || val > COUNTER_MAX - c->count)
		return -EAGAIN;
	return 0;
}

int counter_write(struct counter *c, uint64_t val)
{
	int ret = counter_write_check(c, val);

	if (ret == 0)
		c->count += val;
	return ret;
}

void counter_signal(struct counter *c)
{
	if (c->count != COUNTER_SATURATED)
		c->count++;
}

unsigned int counter_poll(const struct counter *c)
{
	unsigned int mask = 0;

	if (c->count > 0)
		mask |= COUNTER_POLLIN;
	if (c->count < COUNTER_MAX)
		mask |= COUNTER_POLLOUT;
	if (c->count == COUNTER_SATURATED)
		mask |= COUNTER_POLLERR;
	return mask;
}

size_t counter_text_format(char *buf, uint64_t val)
{
	char tmp[COUNTER_TEXT_LINE_MAX];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + val % 10);
		val /= 10;
	} while (val);
	for (i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	buf[n++] = '\n';
	buf[n] = '\0';
	return n;
}

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' ||
	       ch == '\v' || ch == '\f';
}

int counter_text_parse(const char *buf, size_t len, uint64_t *vals,
		       size_t *ends, size_t max)
{
	size_t i = 0, n = 0;

	while (i < len && is_space(buf[i]))
		i++;
	while (i < len) {
		uint64_t v = 0;
		size_t start = i;

		while (i < len && buf[i] >= '0' && buf[i] <= '9') {
			unsigned int d = (unsigned int)(buf[i] - '0');

			if (v > (UINT64_MAX - d) / 10)
				return -EINVAL; /* does not fit in 64 bits */
			v = v * 10 + d;
			i++;
		}
		if (i == start)
			return -EINVAL; /* not a digit */
		if (i < len && !is_space(buf[i]))
			return -EINVAL; /* "12abc" */
		if (v == UINT64_MAX)
			return -EINVAL; /* E22 */
		if (n == max)
			return -EINVAL;
		while (i < len && is_space(buf[i]))
			i++;
		if (vals)
			vals[n] = v;
		if (ends)
			ends[n] = i;
		n++;
	}
	return n ? (int)n : -EINVAL;
}

int counter_text_next(const char *buf, size_t len, size_t *pos,
		      struct counter_text_num *num, uint64_t *val)
{
	struct counter_text_num n = *num;
	size_t i = *pos;

	if (!n.digits)
		while (i < len && is_space(buf[i]))
			i++;
	while (i < len && buf[i] >= '0' && buf[i] <= '9') {
		unsigned int d = (unsigned int)(buf[i] - '0');

		if (n.val > (UINT64_MAX - d) / 10)
			return -EINVAL; /* does not fit in 64 bits */
		n.val = n.val * 10 + d;
		n.digits = true;
		i++;
		/* E22, and no further digit can make it valid. */
		if (n.val == UINT64_MAX)
			return -EINVAL;
	}
	if (i == len) {
		*num = n; /* digits (or nothing) at the end: not a number yet */
		return 0;
	}
	if (!is_space(buf[i]))
		return -EINVAL; /* "12abc", or no digit at all */
	while (i < len && is_space(buf[i]))
		i++;
	*val = n.val;
	num->val = 0;
	num->digits = false;
	*pos = i;
	return 1;
}

long counter_text_scan(const char *buf, size_t len,
		       struct counter_text_num *num)
{
	struct counter_text_num n = *num;
	size_t pos = 0;
	long count = 0;
	uint64_t val;
	int ret;

	while ((ret = counter_text_next(buf, len, &pos, &n, &val)) == 1)
		count++;
	if (ret < 0)
		return ret;
	*num = n;
	return count;
}
