// SPDX-License-Identifier: GPL-2.0-only
/*
 * barefuse: the least a FUSE filesystem can do and still behave like an
 * eventfd counter in the benchmarks, so that evfdfs can be measured against
 * the cost of the FUSE round trip itself rather than against an idea.
 *
 * libfuse3 low-level API, one thread, libfuse's own blocking loop
 * (fuse_session_loop): no epoll, no trace, no status, no interrupt
 * callbacks, no allocation per request.  The root holds a fixed set of
 * counter-like files (ping, pong, sem, c0..c3; sem is in semaphore mode).
 * A read of 8 bytes or more takes the count (or 1 for sem), an empty
 * counter parks the request in a ring and answers EAGAIN to O_NONBLOCK, a
 * write of exactly 8 bytes adds and answers the parked reads in order, and
 * poll keeps one handle per file and notifies it on every write (before the
 * write's reply, as evfdfs does).  Files are
 * opened as evfdfs opens its counters, with FOPEN_DIRECT_IO |
 * FOPEN_NONSEEKABLE | FOPEN_STREAM (and FOPEN_PARALLEL_DIRECT_WRITES)
 * through a hand-built fuse_open_out: a read parked on a descriptor must
 * not hold the position lock that another thread's write on the same
 * descriptor would wait for, and the kernel must do the same work for
 * both daemons.
 *
 * What it leaves out on purpose: overflow blocking (a write that would pass
 * 0xfffffffffffffffe fails with EAGAIN), interrupts (a signalled reader
 * waits until a write or the unmount), creation and removal.  The benchmark
 * never needs them.
 *
 * Usage: barefuse [-f] [FUSE options] MOUNTPOINT
 */
#define FUSE_USE_VERSION 314

#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <linux/fuse.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BARE_MAX UINT64_C(0xfffffffffffffffe)

#ifndef FOPEN_PARALLEL_DIRECT_WRITES
#define FOPEN_PARALLEL_DIRECT_WRITES (1 << 6) /* kernel 6.2 */
#endif

/* What evfdfs answers for a counter (fused/ops.c COUNTER_OPEN_FLAGS), so
 * that the kernel takes the same paths (and locks) for both. */
#define OPEN_FLAGS                                            \
	(FOPEN_DIRECT_IO | FOPEN_NONSEEKABLE | FOPEN_STREAM | \
	 FOPEN_PARALLEL_DIRECT_WRITES)

struct bfile {
	const char *name;
	bool semaphore;
	uint64_t count;
	fuse_req_t *ring; /* parked reads, FIFO */
	size_t head, len, cap;
	struct fuse_pollhandle *ph;
};

#define NFILES 7
#define FIRST_INO 2

struct bare {
	struct bfile files[NFILES];
};

static struct bfile *file_of(struct bare *b, fuse_ino_t ino)
{
	if (ino < FIRST_INO || ino >= FIRST_INO + NFILES)
		return NULL;
	return &b->files[ino - FIRST_INO];
}

static void fill_stat(fuse_ino_t ino, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_mode = ino == FUSE_ROOT_ID ? S_IFDIR | 0755 : S_IFREG | 0666;
	st->st_nlink = ino == FUSE_ROOT_ID ? 2 : 1;
	/* As evfdfs: an 8-byte write at position 0 stays within the size,
	 * which is what lets FOPEN_PARALLEL_DIRECT_WRITES take the inode
	 * lock shared. */
	st->st_size = ino == FUSE_ROOT_ID ? 0 : 8;
	st->st_uid = getuid();
	st->st_gid = getgid();
}

static int park(struct bfile *f, fuse_req_t req)
{
	if (f->len == f->cap) {
		size_t ncap = f->cap ? f->cap * 2 : 64, i;
		fuse_req_t *n = malloc(ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		for (i = 0; i < f->len; i++)
			n[i] = f->ring[(f->head + i) % f->cap];
		free(f->ring);
		f->ring = n;
		f->head = 0;
		f->cap = ncap;
	}
	f->ring[(f->head + f->len) % f->cap] = req;
	f->len++;
	return 0;
}

/* Take one value off a nonzero counter and send it; give it back if the
 * reader is gone. */
static void take(struct bfile *f, fuse_req_t req)
{
	uint64_t v = f->semaphore ? 1 : f->count;

	f->count -= v;
	if (fuse_reply_buf(req, (const char *)&v, sizeof(v)))
		f->count += v;
}

static void bare_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	conn->want &= ~(FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_WRITE |
			FUSE_CAP_SPLICE_MOVE);
}

static void bare_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct bare *b = fuse_req_userdata(req);
	struct fuse_entry_param e;
	size_t i;

	if (parent != FUSE_ROOT_ID) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	for (i = 0; i < NFILES; i++) {
		if (strcmp(b->files[i].name, name) == 0) {
			memset(&e, 0, sizeof(e));
			e.ino = FIRST_INO + i;
			e.generation = 1;
			e.attr_timeout = 86400.0;
			e.entry_timeout = 86400.0;
			fill_stat(e.ino, &e.attr);
			fuse_reply_entry(req, &e);
			return;
		}
	}
	fuse_reply_err(req, ENOENT);
}

static void bare_getattr(fuse_req_t req, fuse_ino_t ino,
			 struct fuse_file_info *fi)
{
	struct stat st;

	(void)fi;
	if (ino != FUSE_ROOT_ID && !file_of(fuse_req_userdata(req), ino)) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	fill_stat(ino, &st);
	fuse_reply_attr(req, &st, 86400.0);
}

static void bare_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fuse_open_out out;

	(void)fi;
	if (!file_of(fuse_req_userdata(req), ino)) {
		fuse_reply_err(req, EISDIR);
		return;
	}
	memset(&out, 0, sizeof(out));
	out.open_flags = OPEN_FLAGS;
	fuse_reply_buf(req, (const char *)&out, sizeof(out));
}

static void bare_release(fuse_req_t req, fuse_ino_t ino,
			 struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	fuse_reply_err(req, 0);
}

static void bare_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		      struct fuse_file_info *fi)
{
	struct bfile *f = file_of(fuse_req_userdata(req), ino);

	(void)off;
	if (size < sizeof(uint64_t)) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	if (f->count) {
		take(f, req);
		return;
	}
	if (fi->flags & O_NONBLOCK) {
		fuse_reply_err(req, EAGAIN);
		return;
	}
	if (park(f, req))
		fuse_reply_err(req, ENOMEM);
}

static void bare_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
		       size_t size, off_t off, struct fuse_file_info *fi)
{
	struct bfile *f = file_of(fuse_req_userdata(req), ino);
	uint64_t v;

	(void)off;
	(void)fi;
	if (size != sizeof(v)) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	memcpy(&v, buf, sizeof(v));
	if (v > BARE_MAX || f->count > BARE_MAX - v) {
		fuse_reply_err(req, v > BARE_MAX ? EINVAL : EAGAIN);
		return;
	}
	f->count += v;
	/* Pollers first, as evfdfs does (and as the kernel wakes them inside
	 * the write): when write() returns, the event is already there. */
	if (f->ph) {
		fuse_lowlevel_notify_poll(f->ph);
		fuse_pollhandle_destroy(f->ph);
		f->ph = NULL;
	}
	fuse_reply_write(req, sizeof(v));
	while (f->count && f->len) {
		fuse_req_t r = f->ring[f->head];

		f->head = (f->head + 1) % f->cap;
		f->len--;
		take(f, r);
	}
}

static void bare_poll(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
		      struct fuse_pollhandle *ph)
{
	struct bfile *f = file_of(fuse_req_userdata(req), ino);

	(void)fi;
	if (ph) {
		if (f->ph)
			fuse_pollhandle_destroy(f->ph);
		f->ph = ph;
	}
	fuse_reply_poll(req, (f->count ? POLLIN : 0) |
				     (f->count < BARE_MAX ? POLLOUT : 0));
}

static const struct fuse_lowlevel_ops bare_ops = {
	.init = bare_init,
	.lookup = bare_lookup,
	.getattr = bare_getattr,
	.open = bare_open,
	.release = bare_release,
	.read = bare_read,
	.write = bare_write,
	.poll = bare_poll,
};

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct bare b = { .files = {
				  { .name = "ping" },
				  { .name = "pong" },
				  { .name = "sem", .semaphore = true },
				  { .name = "c0" },
				  { .name = "c1" },
				  { .name = "c2" },
				  { .name = "c3" },
			  } };
	struct fuse_cmdline_opts opts;
	struct fuse_session *se;
	int ret = 1;
	size_t i;

	if (fuse_parse_cmdline(&args, &opts) != 0)
		return 1;
	if (opts.show_help || !opts.mountpoint) {
		printf("usage: %s [-f] [options] MOUNTPOINT\n", argv[0]);
		fuse_cmdline_help();
		ret = opts.show_help ? 0 : 1;
		goto err_free_args;
	}
	if (fuse_opt_add_arg(&args, "-ofsname=barefuse") ||
	    fuse_opt_add_arg(&args, "-osubtype=barefuse"))
		goto err_free_args;
	se = fuse_session_new(&args, &bare_ops, sizeof(bare_ops), &b);
	if (!se)
		goto err_free_args;
	if (fuse_set_signal_handlers(se) != 0)
		goto err_destroy;
	if (fuse_session_mount(se, opts.mountpoint) != 0)
		goto err_remove_handlers;
	if (fuse_daemonize(opts.foreground) != 0)
		goto err_unmount;
	ret = fuse_session_loop(se) < 0 ? 1 : 0;
err_unmount:
	fuse_session_unmount(se);
err_remove_handlers:
	fuse_remove_signal_handlers(se);
err_destroy:
	fuse_session_destroy(se);
	for (i = 0; i < NFILES; i++) {
		if (b.files[i].ph)
			fuse_pollhandle_destroy(b.files[i].ph);
		free(b.files[i].ring);
	}
err_free_args:
	free(opts.mountpoint);
	fuse_opt_free_args(&args);
	return ret;
}
