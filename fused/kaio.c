// SPDX-License-Identifier: GPL-2.0-only
/*
 * libaio glue for the daemon's kernel AIO context (see kaio.h).  Only this
 * file includes libaio.h.
 */
#include <errno.h>
#include <libaio.h>
#include <time.h>

#include "kaio.h"

int kaio_setup(unsigned int nr, void **ctx)
{
	io_context_t c = NULL;
	int ret = io_setup((int)nr, &c); /* libaio returns -errno (L1) */

	if (ret < 0)
		return ret;
	*ctx = c;
	return 0;
}

void kaio_destroy(void *ctx)
{
	io_destroy(ctx);
}

int kaio_submit(void *ctx, void *iocb)
{
	struct iocb *one[1] = { iocb };

	return io_submit(ctx, 1, one);
}

int kaio_submit_many(void *ctx, int nr, void **iocbs)
{
	return io_submit(ctx, nr, (struct iocb **)iocbs);
}

int kaio_cancel(void *ctx, void *iocb)
{
	struct io_event ignored;

	return io_cancel(ctx, iocb, &ignored);
}

int kaio_reap(void *ctx, void *events, int max)
{
	struct timespec zero = { 0, 0 };
	int n = io_getevents(ctx, 0, max, events, &zero);

	return n < 0 ? 0 : n;
}

int kaio_wait1(void *ctx, void *event)
{
	int n;

	do
		n = io_getevents(ctx, 1, 1, event, NULL);
	while (n == -EINTR);
	return n;
}
