// SPDX-License-Identifier: GPL-2.0-only
/*
 * The FUSE low-level handlers.  Each one answers its request exactly once,
 * from one place (`out:`), except where it documents that it parks the
 * request (cnode.c, trace.c, aiod.c).  Errors travel as -errno and
 * are turned into fuse_reply_err() at that single exit.
 *
 * The tree:  /            root: counters and the fixed files
 *            /text/       the same counters, text view
 *            /aio /aio.txt /status /trace
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "aiod.h"
#include "evfdfs_i.h"

/* Counters change behind the kernel's back (through the other view): let it
 * ask every time.  The fixed files never change. */
#define COUNTER_TIMEOUT 0.0
#define FIXED_TIMEOUT 86400.0

struct fixed {
	const char *name;
	fuse_ino_t ino;
	mode_t mode;
};

static const struct fixed fixed_files[] = {
	{ EVFDFS_TEXTDIR_NAME, INO_TEXTDIR, S_IFDIR | 0755 },
	{ EVFDFS_AIO_NAME, INO_AIO, S_IFREG | 0666 },
	{ EVFDFS_AIOTXT_NAME, INO_AIOTXT, S_IFREG | 0666 },
	{ EVFDFS_STATUS_NAME, INO_STATUS, S_IFREG | 0444 },
	{ EVFDFS_TRACE_NAME, INO_TRACE, S_IFREG | 0444 },
};

#define NFIXED (sizeof(fixed_files) / sizeof(fixed_files[0]))

/* The size a binary counter reports: one value (see COUNTER_OPEN_FLAGS). */
#define COUNTER_BIN_SIZE 8

static const struct fixed *fixed_by_name(const char *name)
{
	size_t i;

	for (i = 0; i < NFIXED; i++)
		if (strcmp(fixed_files[i].name, name) == 0)
			return &fixed_files[i];
	return NULL;
}

static const struct fixed *fixed_by_ino(fuse_ino_t ino)
{
	size_t i;

	for (i = 0; i < NFIXED; i++)
		if (fixed_files[i].ino == ino)
			return &fixed_files[i];
	return NULL;
}

static bool is_dir(fuse_ino_t ino)
{
	return ino == INO_ROOT || ino == INO_TEXTDIR;
}

/*
 * The trace grows (trace.c explains its size, for tail -f) and is modified
 * at each event: its attributes are never cached.
 */
static void fill_trace_stat(const struct evfdfs *fs, struct stat *st)
{
	struct timespec t = fs->start_real;

	st->st_size = trace_size(fs, NULL);
	if (fs->trace_last.tv_sec || fs->trace_last.tv_nsec) {
		t.tv_sec += fs->trace_last.tv_sec - fs->start.tv_sec;
		t.tv_nsec += fs->trace_last.tv_nsec - fs->start.tv_nsec;
		while (t.tv_nsec < 0) {
			t.tv_sec--;
			t.tv_nsec += 1000000000L;
		}
		while (t.tv_nsec >= 1000000000L) {
			t.tv_sec++;
			t.tv_nsec -= 1000000000L;
		}
		st->st_mtim = st->st_ctim = t;
	}
}

static double fixed_timeout(fuse_ino_t ino)
{
	return ino == INO_TRACE ? 0.0 : FIXED_TIMEOUT;
}

/*
 * The control files open with FOPEN_PARALLEL_DIRECT_WRITES (AIO_OPEN_FLAGS):
 * every open of `aio` (or `aio.txt`), every context, is the same inode, and
 * without the flag a write that the daemon had not answered yet kept every
 * other process's write to any context in state D in fuse_file_write_iter
 * (seen in /proc/PID/stack), SIGKILL or not.  The kernel takes the lock
 * shared only for a write that does not reach past the size: a write(2)
 * carries at most MAX_RW_COUNT bytes (INT_MAX rounded down to a page), at
 * position 0 (stream), so that is the size.  O_APPEND writes and an O_TRUNC
 * open (`echo ... > aio.txt`) still take the lock exclusively and wait for
 * the writes in progress, which the daemon answers without waiting on any
 * device (aio_wait.c).
 */
#define AIO_FILE_SIZE 0x7ffff000

static void fill_fixed_stat(struct evfdfs *fs, fuse_ino_t ino, mode_t mode,
			    struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_mode = mode;
	st->st_nlink = S_ISDIR(mode) ? 2 : 1;
	if (ino == INO_ROOT)
		st->st_nlink = 3;
	st->st_uid = fs->uid;
	st->st_gid = fs->gid;
	st->st_blksize = 4096;
	st->st_atim = st->st_mtim = st->st_ctim = fs->start_real;
	if (ino == INO_TRACE)
		fill_trace_stat(fs, st);
	/* See AIO_OPEN_FLAGS: no write(2) may reach past the size. */
	if (ino == INO_AIO || ino == INO_AIOTXT)
		st->st_size = AIO_FILE_SIZE;
}

static void fill_counter_stat(const struct cnode *cn, bool text,
			      struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = cnode_ino(cn, text);
	st->st_mode = S_IFREG | cn->mode;
	/* See COUNTER_OPEN_FLAGS: 8-byte writes must not pass the size. */
	st->st_size = text ? 0 : COUNTER_BIN_SIZE;
	st->st_nlink = cn->name ? 1 : 0;
	st->st_uid = cn->uid;
	st->st_gid = cn->gid;
	st->st_blksize = 4096;
	st->st_atim = cn->atime;
	st->st_mtim = cn->mtime;
	st->st_ctim = cn->ctime;
}

/* Fill @st for any inode; returns 0 or -ENOENT. */
static int stat_ino(struct evfdfs *fs, fuse_ino_t ino, struct stat *st)
{
	const struct fixed *f;
	struct cnode *cn;
	bool text = false;

	if (ino == INO_ROOT) {
		fill_fixed_stat(fs, ino, S_IFDIR | 0755, st);
		return 0;
	}
	f = fixed_by_ino(ino);
	if (f) {
		fill_fixed_stat(fs, ino, f->mode, st);
		return 0;
	}
	cn = fs_lookup_ino(fs, ino, &text);
	if (!cn)
		return -ENOENT;
	fill_counter_stat(cn, text, st);
	return 0;
}

static void counter_entry(struct cnode *cn, bool text,
			  struct fuse_entry_param *e)
{
	memset(e, 0, sizeof(*e));
	e->ino = cnode_ino(cn, text);
	e->generation = 1;
	e->attr_timeout = COUNTER_TIMEOUT;
	e->entry_timeout = COUNTER_TIMEOUT;
	fill_counter_stat(cn, text, &e->attr);
}

/* Reply an entry for a counter, counting the lookup only if it went out. */
static int reply_counter_entry(fuse_req_t req, struct cnode *cn, bool text)
{
	struct fuse_entry_param e;

	counter_entry(cn, text, &e);
	if (fuse_reply_entry(req, &e) == 0)
		cn->nlookup++;
	return 0;
}

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	struct evfdfs *fs = userdata;

	(void)fs;
	/*
	 * No FUSE_CAP_ATOMIC_O_TRUNC: with it the kernel sets the cached size
	 * of a file opened with O_TRUNC to 0, and a binary write past that
	 * size takes the inode lock exclusively, so a first write through such
	 * a descriptor that parks at the top held up every other write of the
	 * counter (see COUNTER_OPEN_FLAGS).  Without it, O_TRUNC comes as a
	 * SETATTR of size 0 that op_setattr() ignores, and the size in the
	 * reply is the one the kernel keeps.
	 */
	conn->want &= ~FUSE_CAP_ATOMIC_O_TRUNC;
	/* Replies are a few bytes: splice buys nothing. */
	conn->want &= ~(FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_WRITE |
			FUSE_CAP_SPLICE_MOVE);
}

/**
 * op_lookup - Valid replies: fuse_reply_entry, fuse_reply_err (ENOENT,
 * ENOTDIR).
 */
static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct evfdfs *fs = evfdfs_from_req(req);
	struct fuse_entry_param e;
	const struct fixed *f;
	struct cnode *cn;
	int ret;

	if (!is_dir(parent)) {
		ret = -ENOTDIR;
		goto out;
	}
	if (parent == INO_ROOT && (f = fixed_by_name(name))) {
		memset(&e, 0, sizeof(e));
		e.ino = f->ino;
		e.attr_timeout = fixed_timeout(f->ino);
		e.entry_timeout = FIXED_TIMEOUT;
		fill_fixed_stat(fs, f->ino, f->mode, &e.attr);
		fuse_reply_entry(req, &e);
		return;
	}
	cn = fs_lookup_name(fs, name);
	if (!cn) {
		ret = -ENOENT;
		goto out;
	}
	reply_counter_entry(req, cn, parent == INO_TEXTDIR);
	return;
out:
	fuse_reply_err(req, -ret);
}

static void forget_one(struct evfdfs *fs, fuse_ino_t ino, uint64_t nlookup)
{
	struct cnode *cn = fs_lookup_ino(fs, ino, NULL);

	if (cn)
		cnode_forget(cn, nlookup);
}

/** op_forget - Valid replies: fuse_reply_none. */
static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	forget_one(evfdfs_from_req(req), ino, nlookup);
	fuse_reply_none(req);
}

static void op_forget_multi(fuse_req_t req, size_t count,
			    struct fuse_forget_data *forgets)
{
	struct evfdfs *fs = evfdfs_from_req(req);
	size_t i;

	for (i = 0; i < count; i++)
		forget_one(fs, forgets[i].ino, forgets[i].nlookup);
	fuse_reply_none(req);
}

/** op_getattr - Valid replies: fuse_reply_attr, fuse_reply_err (ENOENT). */
static void op_getattr(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct evfdfs *fs = evfdfs_from_req(req);
	struct stat st;
	int ret;

	ret = stat_ino(fs, ino, &st);
	if (ret) {
		fuse_reply_err(req, -ret);
		return;
	}
	if (ino == INO_TRACE && fi) /* lseek(SEEK_END) of an open trace */
		st.st_size = trace_size(fs, handle_of(fi));
	fuse_reply_attr(req, &st,
			fixed_by_ino(ino) || ino == INO_ROOT
				? fixed_timeout(ino)
				: COUNTER_TIMEOUT);
}

/**
 * op_setattr - chmod, chown and times on counters; a size (ftruncate,
 * truncate) is EINVAL as on an eventfd (E55), except a size of 0 without a
 * file handle, which is what open(O_TRUNC) sends (ftruncate sends its
 * handle): ignored, a counter has no length.
 * Valid replies: fuse_reply_attr, fuse_reply_err (EINVAL, EPERM, ENOENT).
 */
static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
		       int to_set, struct fuse_file_info *fi)
{
	struct evfdfs *fs = evfdfs_from_req(req);
	struct timespec now;
	struct cnode *cn;
	struct stat st;
	bool text = false;
	int ret;

	if ((to_set & FUSE_SET_ATTR_SIZE) && (fi || attr->st_size != 0)) {
		ret = -EINVAL;
		goto out;
	}
	cn = fs_lookup_ino(fs, ino, &text);
	if (!cn) {
		ret = is_dir(ino) || fixed_by_ino(ino) ? -EPERM : -ENOENT;
		goto out;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	if (to_set & FUSE_SET_ATTR_MODE)
		cn->mode = attr->st_mode & 07777;
	if (to_set & FUSE_SET_ATTR_UID)
		cn->uid = attr->st_uid;
	if (to_set & FUSE_SET_ATTR_GID)
		cn->gid = attr->st_gid;
	if (to_set & FUSE_SET_ATTR_ATIME)
		cn->atime = attr->st_atim;
	if (to_set & FUSE_SET_ATTR_ATIME_NOW)
		cn->atime = now;
	if (to_set & FUSE_SET_ATTR_MTIME)
		cn->mtime = attr->st_mtim;
	if (to_set & FUSE_SET_ATTR_MTIME_NOW)
		cn->mtime = now;
	cn->ctime = now;
	fill_counter_stat(cn, text, &st);
	fuse_reply_attr(req, &st, COUNTER_TIMEOUT);
	return;
out:
	fuse_reply_err(req, -ret);
}

/**
 * op_mknod - create a counter (touch, open(O_CREAT) and mknod all end here:
 * evfdfs has no CREATE handler, so the kernel falls back to MKNOD + OPEN).
 * Valid replies: fuse_reply_entry, fuse_reply_err (EEXIST, EINVAL, EPERM,
 * ENOMEM, ENOTDIR).
 */
static void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode, dev_t rdev)
{
	struct evfdfs *fs = evfdfs_from_req(req);
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct cnode *cn;
	int ret;

	(void)rdev;
	if (!is_dir(parent)) {
		ret = -ENOTDIR;
		goto out;
	}
	if (!S_ISREG(mode)) {
		ret = -EPERM; /* only counters live here */
		goto out;
	}
	ret = fs_create(fs, name, mode, ctx->uid, ctx->gid, &cn);
	if (ret) {
		if (ret == -EINVAL)
			evfdfs_log("notice",
				   "rejected counter name from pid %d",
				   (int)ctx->pid);
		goto out;
	}
	cn->creator = ctx->pid;
	TRACE_CN(cn, "create", ctx->pid, "");
	reply_counter_entry(req, cn, parent == INO_TEXTDIR);
	return;
out:
	fuse_reply_err(req, -ret);
}

/** op_unlink - Valid replies: fuse_reply_err (0, ENOENT, EPERM, ENOTDIR). */
static void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct evfdfs *fs = evfdfs_from_req(req);
	struct cnode *cn;
	int ret = 0;

	if (!is_dir(parent)) {
		ret = -ENOTDIR;
		goto out;
	}
	if (parent == INO_ROOT && fixed_by_name(name)) {
		ret = -EPERM;
		goto out;
	}
	cn = fs_lookup_name(fs, name);
	if (!cn) {
		ret = -ENOENT;
		goto out;
	}
	TRACE_CN(cn, "unlink", fuse_req_ctx(req)->pid, "");
	fs_unlink(fs, cn);
out:
	fuse_reply_err(req, -ret);
}

/**
 * op_rename - within the counter namespace (root and text/ share it).
 * Valid replies: fuse_reply_err (0, EEXIST, EINVAL, ENOENT, EPERM, ENOMEM).
 */
static void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		      fuse_ino_t newparent, const char *newname,
		      unsigned int flags)
{
	struct evfdfs *fs = evfdfs_from_req(req);
	struct cnode *cn, *victim;
	int ret;

	if (!is_dir(parent) || !is_dir(newparent)) {
		ret = -ENOTDIR;
		goto out;
	}
	if (flags & ~RENAME_NOREPLACE) {
		ret = -EINVAL; /* RENAME_EXCHANGE, RENAME_WHITEOUT */
		goto out;
	}
	if ((parent == INO_ROOT && fixed_by_name(name)) ||
	    fs_name_reserved(newname)) {
		ret = -EPERM;
		goto out;
	}
	cn = fs_lookup_name(fs, name);
	if (!cn) {
		ret = -ENOENT;
		goto out;
	}
	victim = fs_lookup_name(fs, newname);
	if (victim == cn) {
		ret = 0;
		goto out;
	}
	if (victim && (flags & RENAME_NOREPLACE)) {
		ret = -EEXIST;
		goto out;
	}
	if (!fs_name_valid(newname)) {
		ret = -EINVAL;
		goto out;
	}
	if (victim)
		fs_unlink(fs, victim);
	ret = fs_rename(fs, cn, newname);
	if (ret == 0 && trace_on(fs))
		trace_emit(fs, cnode_perm(cn), "rename %s id=%llu pid=%d to=%s",
			   name, (unsigned long long)cn->id,
			   (int)fuse_req_ctx(req)->pid, newname);
out:
	fuse_reply_err(req, -ret);
}

/** Directories, links and symlinks have no place here: EPERM. */
static void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode)
{
	(void)parent;
	(void)name;
	(void)mode;
	fuse_reply_err(req, EPERM);
}

static void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	(void)parent;
	(void)name;
	fuse_reply_err(req, EPERM);
}

static void op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
		       const char *name)
{
	(void)link;
	(void)parent;
	(void)name;
	fuse_reply_err(req, EPERM);
}

static void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
		    const char *newname)
{
	(void)ino;
	(void)newparent;
	(void)newname;
	fuse_reply_err(req, EPERM);
}

static struct handle *handle_new(fuse_req_t req, enum handle_kind kind,
				 int flags)
{
	struct evfdfs *fs = evfdfs_from_req(req);
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct handle *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->kind = kind;
	h->fs = fs;
	h->id = fs->next_handle_id++;
	h->open_flags = flags;
	h->pid = ctx->pid;
	h->owner =
		(struct perm){ .mode = 0400, .uid = ctx->uid, .gid = ctx->gid };
	list_init(&h->link);
	return h;
}

/*
 * Undo what open did; shared by release, a failed or refused open and exit.
 * Tolerates a handle whose kind-specific part was never set up.
 */
void handle_free(struct handle *h)
{
	if (h->ph)
		fuse_pollhandle_destroy(h->ph);
	list_del_init(&h->link);
	switch (h->kind) {
	case H_COUNTER:
		cnode_put(h->cn);
		break;
	case H_TEXT:
		cnode_text_release(h);
		cnode_put(h->cn);
		break;
	case H_STATUS:
		free(h->u.status.buf);
		break;
	case H_TRACE:
		if (h->u.trace)
			trace_release(h);
		break;
	case H_AIO:
	case H_AIOTXT:
		if (h->u.aio)
			aiod_release(h);
		break;
	}
	free(h);
}

/*
 * Answer OPEN with a hand-built fuse_open_out: libfuse 3.14's
 * fuse_file_info has no bit for FOPEN_STREAM, which is what keeps a read
 * parked in the daemon from holding the file position lock that another
 * thread's write on the same descriptor would wait for.
 */
static int reply_open(fuse_req_t req, struct handle *h, uint32_t open_flags)
{
	struct fuse_open_out out;

	memset(&out, 0, sizeof(out));
	out.fh = (uint64_t)(uintptr_t)h;
	out.open_flags = open_flags;
	return fuse_reply_buf(req, (const char *)&out, sizeof(out));
}

/*
 * FOPEN_NOFLUSH: close(2) sends no FLUSH.  Every file but the text views
 * takes it (op_flush has nothing to do for them).  The AIO side relies on
 * it: it closes its duplicates of callers' descriptors on the loop thread,
 * and a FLUSH to this very daemon would wait forever; a text view's
 * duplicate is closed by a thread of its own (afile_classify()).
 */
#define STREAM_FLAGS \
	(FOPEN_DIRECT_IO | FOPEN_NONSEEKABLE | FOPEN_STREAM | FOPEN_NOFLUSH)

#ifndef FOPEN_PARALLEL_DIRECT_WRITES
#define FOPEN_PARALLEL_DIRECT_WRITES (1 << 6) /* kernel 6.2 */
#endif

/*
 * Counters also take FOPEN_PARALLEL_DIRECT_WRITES.  Without it the kernel
 * holds the inode lock, uninterruptibly, across every direct write until
 * the daemon answers it: while one write of a counter is parked here (the
 * count is at the top), every other write of that counter, through any
 * descriptor, waits in state D in the kernel instead of reaching us.  A
 * nonblocking write then blocks, and a signal cannot interrupt it, where an
 * eventfd would answer EAGAIN or EINTR at once (E24, E33).  With the flag
 * the kernel takes the lock shared, but only for writes that do not reach
 * past the file's size: a stream file writes at position 0, so the binary
 * view reports a size of 8 (COUNTER_BIN_SIZE), one value.
 */
#define COUNTER_OPEN_FLAGS (STREAM_FLAGS | FOPEN_PARALLEL_DIRECT_WRITES)

#define AIO_OPEN_FLAGS (STREAM_FLAGS | FOPEN_PARALLEL_DIRECT_WRITES)

/**
 * op_open - Valid replies: fuse_reply_buf (fuse_open_out), fuse_reply_err
 * (EISDIR, ENOENT, ENOMEM, and what aiod_open() returns).
 */
static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct evfdfs *fs = evfdfs_from_req(req);
	uint32_t open_flags = STREAM_FLAGS;
	struct handle *h = NULL;
	struct cred reader;
	struct cnode *cn;
	bool text = false;
	int ret = 0;

	switch (ino) {
	case INO_ROOT:
	case INO_TEXTDIR:
		ret = -EISDIR;
		goto out;
	case INO_STATUS:
		h = handle_new(req, H_STATUS, fi->flags);
		if (!h) {
			ret = -ENOMEM;
			goto out;
		}
		ret = cred_from_req(req, &reader);
		if (ret == 0)
			ret = status_snapshot(fs, &reader, &h->u.status.buf,
					      &h->u.status.len);
		cred_free(&reader);
		open_flags = FOPEN_DIRECT_IO | FOPEN_NOFLUSH; /* seekable */
		list_add_tail(&h->link, &fs->handles_other);
		break;
	case INO_TRACE:
		h = handle_new(req, H_TRACE, fi->flags);
		if (!h) {
			ret = -ENOMEM;
			goto out;
		}
		ret = cred_from_req(req, &reader);
		if (ret == 0)
			ret = trace_open(fs, h, &reader);
		cred_free(&reader);
		/* Seekable, for tail -f (trace.c). */
		open_flags = FOPEN_DIRECT_IO | FOPEN_NOFLUSH;
		list_add_tail(&h->link, &fs->handles_other);
		break;
	case INO_AIO:
	case INO_AIOTXT:
		h = handle_new(req, ino == INO_AIO ? H_AIO : H_AIOTXT,
			       fi->flags);
		if (!h) {
			ret = -ENOMEM;
			goto out;
		}
		ret = aiod_open(req, h, ino == INO_AIOTXT);
		list_add_tail(&h->link, &fs->handles_other);
		open_flags = AIO_OPEN_FLAGS;
		break;
	default:
		cn = fs_lookup_ino(fs, ino, &text);
		if (!cn) {
			ret = -ENOENT;
			goto out;
		}
		h = handle_new(req, text ? H_TEXT : H_COUNTER, fi->flags);
		if (!h) {
			ret = -ENOMEM;
			goto out;
		}
		h->cn = cn;
		cnode_get(cn);
		list_add_tail(&h->link, &cn->handles);
		open_flags = COUNTER_OPEN_FLAGS;
		if (text)
			open_flags &= ~(uint32_t)FOPEN_NOFLUSH; /* op_flush */
		break;
	}
	if (ret) {
		handle_free(h); /* undoes only what succeeded */
		goto out;
	}
	if (reply_open(req, h, open_flags))
		handle_free(h); /* the opener is gone: no RELEASE will come */
	return;
out:
	/*
	 * ENOSYS to an OPEN makes the kernel stop sending OPEN for the whole
	 * mount (fc->no_open): every later open of every file then succeeds
	 * with fh 0, and the next READ or WRITE dereferences a NULL handle.
	 */
	if (ret == -ENOSYS)
		ret = -EOPNOTSUPP;
	fuse_reply_err(req, -ret);
}

/** op_release - Valid replies: fuse_reply_err (0). */
static void op_release(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	(void)ino;
	handle_free(handle_of(fi));
	fuse_reply_err(req, 0);
}

/**
 * op_flush - close(2) of one descriptor.  Only text views ask for it (the
 * other files open with FOPEN_NOFLUSH): the digits a write left pending
 * become a number before close(2) returns (cnode_text_flush()).
 * Valid replies: fuse_reply_err (0, EAGAIN).
 */
static void op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct handle *h = handle_of(fi);
	int ret = 0;

	(void)ino;
	if (h && h->kind == H_TEXT)
		ret = cnode_text_flush(h, fi->lock_owner,
				       fuse_req_ctx(req)->pid);
	fuse_reply_err(req, -ret);
}

/** op_fsync - E55: an eventfd has no fsync. Valid replies: EINVAL. */
static void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
		     struct fuse_file_info *fi)
{
	(void)ino;
	(void)datasync;
	(void)fi;
	fuse_reply_err(req, EINVAL);
}

static void status_read(fuse_req_t req, struct handle *h, size_t size,
			off_t off)
{
	size_t len = h->u.status.len;

	if (off < 0 || (size_t)off >= len) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	if (size > len - (size_t)off)
		size = len - (size_t)off;
	fuse_reply_buf(req, h->u.status.buf + off, size);
}

/**
 * op_read - dispatches on the kind of file; see cnode_read(), trace_read(),
 * aiod_read() for the replies (they may park the request).
 */
static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct handle *h = handle_of(fi);

	(void)ino;
	switch (h->kind) {
	case H_COUNTER:
	case H_TEXT:
		cnode_read(req, h, size, fi->flags);
		break;
	case H_STATUS:
		status_read(req, h, size, off);
		break;
	case H_TRACE:
		trace_read(req, h, size, off, fi->flags);
		break;
	case H_AIO:
	case H_AIOTXT:
		aiod_read(req, h, size, fi->flags);
		break;
	}
}

/** op_write - as op_read; status and trace are not writable (EBADF). */
static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
		     size_t size, off_t off, struct fuse_file_info *fi)
{
	struct handle *h = handle_of(fi);

	(void)ino;
	(void)off;
	switch (h->kind) {
	case H_COUNTER:
		cnode_write(req, h, buf, size, fi->flags);
		break;
	case H_TEXT:
		cnode_text_write(req, h, buf, size, fi->flags, fi->lock_owner);
		break;
	case H_AIO:
	case H_AIOTXT:
		aiod_write(req, h, buf, size, fi->flags);
		break;
	default:
		fuse_reply_err(req, EBADF);
		break;
	}
}

/**
 * op_poll - keep the newest poll handle of this open file and answer the
 * current mask.  Counters: E40, from the count alone.
 * Valid replies: fuse_reply_poll.
 */
static void op_poll(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
		    struct fuse_pollhandle *ph)
{
	struct handle *h = handle_of(fi);
	unsigned int mask;

	(void)ino;
	if (ph)
		handle_set_poll(h, ph, fi->poll_events, fuse_req_ctx(req)->pid);
	switch (h->kind) {
	case H_COUNTER:
	case H_TEXT:
		mask = cnode_poll(h);
		break;
	case H_TRACE:
		mask = trace_poll(h);
		break;
	case H_AIO:
	case H_AIOTXT:
		mask = aiod_poll(h);
		break;
	default:
		mask = POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM;
		break;
	}
	fuse_reply_poll(req, mask);
}

static void op_opendir(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	if (!is_dir(ino)) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	fi->fh = 0;
	fuse_reply_open(req, fi);
}

static void op_releasedir(fuse_req_t req, fuse_ino_t ino,
			  struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	fuse_reply_err(req, 0);
}

/*
 * Directory offsets: 1 ".", 2 "..", 3.. the fixed files of the root, then
 * DIR_COUNTER_OFF + id for each counter, in id order (stable across
 * creations and removals, as telldir wants).
 */
#define DIR_COUNTER_OFF 16

static bool add_dirent(fuse_req_t req, char *buf, size_t size, size_t *pos,
		       const char *name, fuse_ino_t ino, mode_t mode,
		       off_t nextoff)
{
	struct stat st = { .st_ino = ino, .st_mode = mode };
	size_t need = fuse_add_direntry(req, buf + *pos, size - *pos, name, &st,
					nextoff);

	if (need > size - *pos)
		return false;
	*pos += need;
	return true;
}

/** op_readdir - Valid replies: fuse_reply_buf, fuse_reply_err (ENOMEM). */
static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	struct evfdfs *fs = evfdfs_from_req(req);
	bool text = ino == INO_TEXTDIR;
	struct list_head *p;
	size_t pos = 0, i;
	char *buf;

	(void)fi;
	buf = malloc(size);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if (off < 1 && !add_dirent(req, buf, size, &pos, ".", ino, S_IFDIR, 1))
		goto done;
	if (off < 2 &&
	    !add_dirent(req, buf, size, &pos, "..", INO_ROOT, S_IFDIR, 2))
		goto done;
	for (i = 0; !text && i < NFIXED; i++) {
		off_t next = 3 + (off_t)i;

		if (off < next &&
		    !add_dirent(req, buf, size, &pos, fixed_files[i].name,
				fixed_files[i].ino, fixed_files[i].mode, next))
			goto done;
	}
	list_for_each (p, &fs->counters) {
		struct cnode *cn = list_entry(p, struct cnode, all);
		off_t next = DIR_COUNTER_OFF + (off_t)cn->id;

		if (!cn->name || off >= next)
			continue;
		if (!add_dirent(req, buf, size, &pos, cn->name,
				cnode_ino(cn, text), S_IFREG, next))
			break;
	}
done:
	fuse_reply_buf(req, buf, pos);
	free(buf);
}

/** op_statfs - Valid replies: fuse_reply_statfs. */
static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct evfdfs *fs = evfdfs_from_req(req);
	struct statvfs st = {
		.f_bsize = 4096,
		.f_frsize = 4096,
		.f_files = fs->ncounters + NFIXED + 1,
		.f_ffree = 1000000,
		.f_favail = 1000000,
		.f_namemax = 255,
	};

	(void)ino;
	fuse_reply_statfs(req, &st);
}

/* ---- extended attributes: the counter's creation-time settings ------- */

static int parse_u64(const char *value, size_t size, uint64_t *out)
{
	int n = counter_text_parse(value, size, out, NULL, 1);

	return n == 1 ? 0 : -EINVAL;
}

/**
 * op_setxattr - user.evfdfs.semaphore ("0"/"1") and user.evfdfs.value
 * (decimal, at most 0xfffffffffffffffe) on a counter, from either view.
 * Valid replies: fuse_reply_err (0, EEXIST, EINVAL, ENOTSUP, ENOENT).
 */
static void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			const char *value, size_t size, int flags)
{
	struct evfdfs *fs = evfdfs_from_req(req);
	pid_t pid = fuse_req_ctx(req)->pid;
	struct cnode *cn = fs_lookup_ino(fs, ino, NULL);
	uint64_t v;
	int ret;

	if (!cn) {
		ret = -ENOTSUP;
		goto out;
	}
	if (strcmp(name, XATTR_SEMAPHORE) && strcmp(name, XATTR_VALUE)) {
		ret = -ENOTSUP;
		goto out;
	}
	if (flags & XATTR_CREATE) {
		ret = -EEXIST; /* both always exist */
		goto out;
	}
	ret = parse_u64(value, size, &v);
	if (ret)
		goto out;
	if (strcmp(name, XATTR_SEMAPHORE) == 0) {
		if (v > 1) {
			ret = -EINVAL;
			goto out;
		}
		cnode_set_semaphore(cn, v == 1, pid);
	} else {
		ret = cnode_set_value(cn, v, pid);
	}
out:
	fuse_reply_err(req, -ret);
}

/**
 * op_getxattr - Valid replies: fuse_reply_xattr (size probe), fuse_reply_buf,
 * fuse_reply_err (ENODATA, ERANGE).
 */
static void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			size_t size)
{
	struct cnode *cn = fs_lookup_ino(evfdfs_from_req(req), ino, NULL);
	char buf[COUNTER_TEXT_LINE_MAX + 1];
	size_t len;

	if (!cn) {
		fuse_reply_err(req, ENODATA);
		return;
	}
	if (strcmp(name, XATTR_SEMAPHORE) == 0)
		len = counter_text_format(buf, cn->c.semaphore);
	else if (strcmp(name, XATTR_VALUE) == 0)
		len = counter_text_format(buf, cn->c.count);
	else {
		fuse_reply_err(req, ENODATA);
		return;
	}
	len--; /* the value without its newline, as getfattr prints it */
	if (size == 0)
		fuse_reply_xattr(req, len);
	else if (size < len)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, buf, len);
}

/** op_listxattr - Valid replies: fuse_reply_xattr, fuse_reply_buf, ERANGE. */
static void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	static const char names[] = XATTR_SEMAPHORE "\0" XATTR_VALUE;
	size_t len = fs_lookup_ino(evfdfs_from_req(req), ino, NULL)
			     ? sizeof(names)
			     : 0;

	if (size == 0)
		fuse_reply_xattr(req, len);
	else if (size < len)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, names, len);
}

/** op_removexattr - the settings cannot be removed: EPERM, else ENODATA. */
static void op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	bool ours =
		fs_lookup_ino(evfdfs_from_req(req), ino, NULL) &&
		(!strcmp(name, XATTR_SEMAPHORE) || !strcmp(name, XATTR_VALUE));

	fuse_reply_err(req, ours ? EPERM : ENODATA);
}

const struct fuse_lowlevel_ops evfdfs_ops = {
	.init = op_init,
	.lookup = op_lookup,
	.forget = op_forget,
	.forget_multi = op_forget_multi,
	.getattr = op_getattr,
	.setattr = op_setattr,
	.mknod = op_mknod,
	.mkdir = op_mkdir,
	.unlink = op_unlink,
	.rmdir = op_rmdir,
	.symlink = op_symlink,
	.rename = op_rename,
	.link = op_link,
	.open = op_open,
	.read = op_read,
	.write = op_write,
	.flush = op_flush,
	.release = op_release,
	.fsync = op_fsync,
	.opendir = op_opendir,
	.readdir = op_readdir,
	.releasedir = op_releasedir,
	.statfs = op_statfs,
	.setxattr = op_setxattr,
	.getxattr = op_getxattr,
	.listxattr = op_listxattr,
	.removexattr = op_removexattr,
	.poll = op_poll,
};
