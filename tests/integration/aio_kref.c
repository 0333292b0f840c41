// SPDX-License-Identifier: GPL-2.0-only
/*
 * The kernel reference for the AIO tests: libaio on a real io_setup
 * context.  Kept apart from aio_lib.c because libaio.h and
 * <linux/aio_abi.h> both define struct iocb (same layout, A1), so this
 * file sees only libaio's and hands out untyped pointers.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <libaio.h>
#include <string.h>
#include <time.h>

void *at_kctx(unsigned int nr_events);
int at_ksubmit(void *kctx, void **cbs, int n);
int at_kgetevents(void *kctx, int min, int max, void *evs, int timeout_ms);
int at_kcancel(void *kctx, void *cb);
void at_kdestroy(void *kctx);

void *at_kctx(unsigned int nr_events)
{
	io_context_t ctx = NULL;
	int ret = io_setup((int)nr_events, &ctx);

	cr_assert_eq(ret, 0, "io_setup(%u): %s", nr_events, strerror(-ret));
	return ctx;
}

int at_ksubmit(void *kctx, void **cbs, int n)
{
	return io_submit(kctx, n, (struct iocb **)cbs);
}

int at_kgetevents(void *kctx, int min, int max, void *evs, int timeout_ms)
{
	struct timespec ts = { timeout_ms / 1000,
			       (long)(timeout_ms % 1000) * 1000000 };

	return io_getevents(kctx, min, max, evs, timeout_ms < 0 ? NULL : &ts);
}

int at_kcancel(void *kctx, void *cb)
{
	struct io_event ev;

	return io_cancel(kctx, cb, &ev);
}

void at_kdestroy(void *kctx)
{
	io_destroy(kctx);
}

/* io_setup(@nr_events) and at once io_destroy: 0 or -errno. */
int at_ksetup_err(unsigned int nr_events);

int at_ksetup_err(unsigned int nr_events)
{
	io_context_t ctx = NULL;
	int ret = io_setup((int)nr_events, &ctx);

	if (ret == 0)
		io_destroy(ctx);
	return ret;
}
