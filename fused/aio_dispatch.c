// SPDX-License-Identifier: GPL-2.0-only
/*
 * PLACEHOLDER until the AIO control file lands (issue 3): opening `aio`
 * fails with ENOSYS.  Replaced wholesale by the real dispatcher.
 */
#include <errno.h>

#include "aiod.h"

int aiod_init(struct evfdfs *fs)
{
	(void)fs;
	return 0;
}

void aiod_fini(struct evfdfs *fs)
{
	(void)fs;
}

int aiod_open(struct handle *h, bool text)
{
	(void)h;
	(void)text;
	return -ENOSYS;
}

void aiod_release(struct handle *h)
{
	(void)h;
}

void aiod_read(fuse_req_t req, struct handle *h, size_t size, int flags)
{
	(void)h;
	(void)size;
	(void)flags;
	fuse_reply_err(req, ENOSYS);
}

void aiod_write(fuse_req_t req, struct handle *h, const char *buf, size_t size,
		int flags)
{
	(void)h;
	(void)buf;
	(void)size;
	(void)flags;
	fuse_reply_err(req, ENOSYS);
}

unsigned int aiod_poll(struct handle *h)
{
	(void)h;
	return 0;
}

void aiod_status(struct evfdfs *fs, struct sbuf *sb)
{
	(void)fs;
	(void)sb;
}
