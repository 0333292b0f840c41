/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The AIO control file's interface to the rest of the daemon (aiod.c
 * implements it, with aio_dispatch.c for open and release; the layers
 * below are in aiod_i.h and fused/LAYERS).  Each open of `aio` or
 * `aio.txt` is one context; the daemon-wide part (the libaio context, its completion eventfd,
 * the worker pool) is struct aiod, made once by aiod_init().
 */
#ifndef EVFDFS_AIOD_H
#define EVFDFS_AIOD_H

#include "evfdfs_i.h"

/**
 * aiod_init() - set up the daemon-wide AIO machinery and register its
 * descriptors with the event loop (loop_add()).
 * Returns: 0 or -errno.
 */
int aiod_init(struct evfdfs *fs);
void aiod_fini(struct evfdfs *fs);

/* An open of `aio` (@text false) or `aio.txt` (@text true) by @req's
 * caller: a new context, acting with that caller's credentials. */
int aiod_open(fuse_req_t req, struct handle *h, bool text);
/* The last close: io_destroy semantics (POLLs cancelled, I/O drained). */
void aiod_release(struct handle *h);

/* Valid replies as documented in aiod.c; may park reads. */
void aiod_read(fuse_req_t req, struct handle *h, size_t size, int flags);
void aiod_write(fuse_req_t req, struct handle *h, const char *buf, size_t size,
		int flags);
unsigned int aiod_poll(struct handle *h);

/* status file lines for every context */
void aiod_status(struct evfdfs *fs, const struct cred *reader, struct sbuf *sb);

#endif /* EVFDFS_AIOD_H */
