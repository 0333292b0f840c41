// SPDX-License-Identifier: GPL-2.0-only
/*
 * The submitter's descriptors.  aio_fildes and aio_resfd are numbers in
 * the descriptor table of the process that wrote the record
 * (fuse_req_ctx()->pid, which is blocked in that write while we look): the
 * daemon acts on that process's own open file description, obtained with
 * pidfd_getfd(2), so the access mode, O_NONBLOCK, O_APPEND and O_DIRECT
 * are the caller's, never more.  It does so only for a writer whose
 * descriptors the context's opener could have taken itself (aio_cred.c):
 * the control file acts with its opener's credentials.  Where pidfd_getfd
 * is refused, the fallback reopens /proc/PID/fd/N with the access mode that
 * /proc/PID/fdinfo/N shows (never a wider one); that fallback cannot reach
 * sockets or anonymous files (eventfds among them) and gets a description
 * of its own (its own O_NONBLOCK), which is why it is only a fallback.
 *
 * Nothing here may block the loop on a file system, least of all on this
 * mount: statx() uses AT_STATX_DONT_SYNC (no FUSE GETATTR), fcntl and
 * /proc reads do not reach the file system, and a descriptor that turns
 * out to be of this mount is closed at once (the mount opens files with
 * FOPEN_NOFLUSH, so that close sends nothing to this daemon; a text view,
 * whose close sends a FLUSH, is closed by a thread of its own) and served
 * from the daemon's own state.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "aiod_i.h"

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif
#ifndef STATX_MNT_ID
#define STATX_MNT_ID 0x00001000U
#endif

int aiod_mount_ids(const char *mountpoint, dev_t *dev, uint64_t *mnt_id)
{
	struct statx stx;

	if (!mountpoint)
		return -EINVAL;
	if (statx(AT_FDCWD, mountpoint, AT_STATX_DONT_SYNC | AT_NO_AUTOMOUNT,
		  STATX_INO | STATX_MNT_ID, &stx))
		return -errno;
	*dev = makedev(stx.stx_dev_major, stx.stx_dev_minor);
	*mnt_id = (stx.stx_mask & STATX_MNT_ID) ? stx.stx_mnt_id : 0;
	return 0;
}

/*
 * What an anonymous-inode file is, by the name the kernel gave it
 * (anon_inode_getfile()'s, as /proc/self/fd shows it: one readlink, where
 * its fdinfo took an open, a read and a close): a kernel eventfd, a
 * signalfd (whose readiness is the pending signals of the task that
 * polls it: here the daemon's, never the caller's), or something else.
 */
static enum afile_kind anon_kind(int fd)
{
	char path[64], link[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return AF_ANON;
	link[n] = '\0';
	if (strcmp(link, "anon_inode:[eventfd]") == 0)
		return AF_EVENTFD;
	if (strcmp(link, "anon_inode:[signalfd]") == 0)
		return AF_SIGNALFD;
	return AF_ANON;
}

/* A file of this mount by inode number: a counter, or something else. */
static void classify_ours(struct aiod *ad, uint64_t ino, struct afile *f)
{
	bool text = false;
	struct cnode *cn = fs_lookup_ino(ad->fs, (fuse_ino_t)ino, &text);

	if (!cn) {
		f->kind = AF_OURS;
		return;
	}
	cnode_get(cn);
	f->cn = cn;
	f->kind = text ? AF_TEXTVIEW : AF_COUNTER;
}

static void *closer_main(void *arg)
{
	close((int)(intptr_t)arg); /* waits for the loop to answer FLUSH */
	return NULL;
}

/*
 * A text view asks for FLUSH at every close(2) (op_flush), and the loop
 * thread that would wait for the answer is the one that gives it: a
 * short-lived thread closes it instead.  The daemon's FLUSH comes from its
 * own file table, so it ends no number a client left pending.  Should no
 * thread start, the descriptor is kept (a leak, never a hang).
 */
static void close_textview(int fd)
{
	pthread_attr_t attr;
	pthread_t t;
	int ret;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	ret = pthread_create(&t, &attr, closer_main, (void *)(intptr_t)fd);
	pthread_attr_destroy(&attr);
	if (ret)
		evfdfs_log("error",
			   "aio: no thread to close a text view (%s): "
			   "descriptor %d kept",
			   strerror(ret), fd);
}

/* Is @fd a file of tmpfs (shmem, memfd) or ramfs?  Magic numbers of
 * linux/magic.h. */
static bool on_memfs(int fd)
{
	struct statfs sf;

	if (fstatfs(fd, &sf))
		return false;
	return sf.f_type == 0x01021994 /* TMPFS_MAGIC */ ||
	       sf.f_type == (__typeof__(sf.f_type))0x858458f6 /* RAMFS */;
}

/* Takes @fd (ours to close) and says what it is. */
int afile_classify(struct aiod *ad, int fd, struct afile *f)
{
	struct statx stx;
	int fl;

	f->fd = -1;
	f->cn = NULL;
	f->shared = NULL;
	f->memfs = false;
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || (fl & O_PATH) ||
	    statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC,
		  STATX_TYPE | STATX_INO, &stx)) {
		close(fd);
		return -EBADF; /* O_PATH counts as not open (table 2.5) */
	}
	f->flags = fl;
	if (makedev(stx.stx_dev_major, stx.stx_dev_minor) == ad->mnt_dev) {
		classify_ours(ad, stx.stx_ino, f);
		if (f->kind == AF_TEXTVIEW)
			close_textview(fd);
		else
			close(fd); /* FOPEN_NOFLUSH: no request to ourselves */
		return 0;
	}
	f->fd = fd;
	switch (stx.stx_mode & S_IFMT) {
	case 0: /* an anonymous inode */
		f->kind = anon_kind(fd);
		break;
	case S_IFIFO:
	case S_IFSOCK:
		f->kind = AF_STREAM;
		break;
	case S_IFCHR:
		f->kind = AF_CHR;
		break;
	case S_IFREG:
		f->kind = AF_REG;
		f->memfs = on_memfs(fd);
		break;
	default:
		f->kind = AF_REG;
		break;
	}
	return 0;
}

/* The fallback: what /proc says about the caller's descriptor. */
static int proc_get(struct aiod *ad, pid_t pid, uint32_t fdnum, struct afile *f)
{
	char path[64], info[1024], link[64];
	unsigned long long mnt_id = 0, ino = 0;
	unsigned int flags;
	const char *v;
	ssize_t n;
	int fd, oflags;

	f->fd = -1;
	f->cn = NULL;
	f->memfs = false;
	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%u", (int)pid, fdnum);
	if (aiod_proc_read(path, info, sizeof(info)) <= 0)
		return -EBADF;
	v = aiod_proc_field(info, "flags:");
	if (!v || sscanf(v, "%o", &flags) != 1 || (flags & O_PATH))
		return -EBADF;
	v = aiod_proc_field(info, "mnt_id:");
	if (v)
		sscanf(v, "%llu", &mnt_id);
	v = aiod_proc_field(info, "ino:");
	if (v)
		sscanf(v, "%llu", &ino);
	f->flags = (int)flags;
	if (ad->mnt_id && mnt_id == ad->mnt_id) {
		classify_ours(ad, ino, f);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/%d/fd/%u", (int)pid, fdnum);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -EBADF;
	link[n] = '\0';
	if (strncmp(link, "anon_inode:", 11) == 0) {
		if (strcmp(link, "anon_inode:[eventfd]") == 0)
			f->kind = AF_EVENTFD;
		else if (strcmp(link, "anon_inode:[signalfd]") == 0)
			f->kind = AF_SIGNALFD;
		else
			f->kind = AF_ANON;
		return 0; /* known, but not reopenable: fd stays -1 */
	}
	oflags = (int)(flags & (O_ACCMODE | O_APPEND | O_DIRECT));
	fd = open(path, oflags | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -EBADF;
	if (!(flags & O_NONBLOCK))
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return afile_classify(ad, fd, f);
}

/*
 * The submitter's pidfd.  A context keeps those of the last AIOD_PIDFDS
 * threads that submitted to it (pidfd_open and close cost every write
 * two system calls otherwise), and closes them when it is closed.  A kept
 * pidfd refers to the task it was opened for, never to a later one that
 * got the same number: while that task lives, it is the only one with
 * the number, so it is the writer; once it is gone, pidfd_getfd fails
 * with ESRCH and the pidfd is opened again (afile_lookup()).  Access is
 * checked by pidfd_getfd at each call, with the writer's credentials as
 * they are then.  Returns the pidfd, or -1.
 */
static int ctx_pidfd(struct aiod_ctx *ctx, pid_t pid, bool fresh)
{
	struct apidfd *p = NULL;
	unsigned int i;
	int fd;

	for (i = 0; i < ctx->npidfds; i++) {
		if (ctx->pidfds[i].pid != pid)
			continue;
		p = &ctx->pidfds[i];
		if (!fresh && p->fd >= 0)
			return p->fd;
		if (p->fd >= 0)
			close(p->fd);
		p->fd = -1;
		break;
	}
	fd = (int)syscall(SYS_pidfd_open, pid, PIDFD_THREAD);
	if (fd < 0)
		fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (!p && fd >= 0) {
		if (ctx->npidfds < AIOD_PIDFDS) {
			p = &ctx->pidfds[ctx->npidfds++];
		} else {
			p = &ctx->pidfds[ctx->pidfd_next];
			ctx->pidfd_next = (ctx->pidfd_next + 1) % AIOD_PIDFDS;
			if (p->fd >= 0)
				close(p->fd);
		}
	}
	if (p) {
		p->pid = pid;
		p->fd = fd; /* -1 if the reopen failed: tried next time */
	}
	return fd;
}

int ctx_pidfd_get(struct aiod_ctx *ctx, pid_t pid, bool fresh)
{
	return ctx_pidfd(ctx, pid, fresh);
}

void ctx_pidfds_close(struct aiod_ctx *ctx)
{
	unsigned int i;

	for (i = 0; i < ctx->npidfds; i++)
		if (ctx->pidfds[i].fd >= 0)
			close(ctx->pidfds[i].fd);
	ctx->npidfds = 0;
	ctx->pidfd_next = 0;
}

/*
 * The uncached lookup: 0, -EBADF, or -EPERM when the context's opener could
 * not have taken the writer's descriptors itself (aio_cred.c), checked
 * once per write.
 */
static int afile_lookup(struct aiod *ad, struct sjob *job, uint32_t fdnum,
			struct afile *f)
{
	int fd = -1, pfd;

	f->shared = NULL;
	f->fd = -1;
	f->cn = NULL;
	if (!job->writer_ok) {
		job->writer_ok = writer_may_lend(&job->ctx->opener, job->pid);
		if (!job->writer_ok)
			job->writer_ok = 1;
	}
	if (job->writer_ok < 0)
		return job->writer_ok;
	if (!ad->no_pidfd) {
		pfd = ctx_pidfd(job->ctx, job->pid, false);
		if (pfd >= 0) {
			fd = (int)syscall(SYS_pidfd_getfd, pfd, (int)fdnum, 0);
			if (fd < 0 && errno == ESRCH) {
				/* kept for a task that is gone */
				pfd = ctx_pidfd(job->ctx, job->pid, true);
				if (pfd >= 0)
					fd = (int)syscall(SYS_pidfd_getfd, pfd,
							  (int)fdnum, 0);
			}
		}
		if (fd >= 0)
			return afile_classify(ad, fd, f);
		if (pfd >= 0 && errno == EBADF)
			return -EBADF;
	}
	return proc_get(ad, job->pid, fdnum, f);
}

/**
 * aiod_take_fd() - a duplicate of the writer @pid's descriptor @fdnum, for
 * the context itself (the ring's memfd): pidfd_getfd, or a reopen of
 * /proc/PID/fd/N read-write.  Returns the descriptor or -EBADF.
 */
int aiod_take_fd(struct aiod_ctx *ctx, pid_t pid, uint32_t fdnum)
{
	char path[64];
	int pfd, fd = -1;

	if (!ctx->ad->no_pidfd) {
		pfd = ctx_pidfd(ctx, pid, false);
		if (pfd >= 0)
			fd = (int)syscall(SYS_pidfd_getfd, pfd, (int)fdnum, 0);
		if (fd >= 0)
			return fd;
	}
	snprintf(path, sizeof(path), "/proc/%d/fd/%u", (int)pid, fdnum);
	fd = open(path, O_RDWR | O_CLOEXEC);
	return fd >= 0 ? fd : -EBADF;
}

/* A new reference to what @src refers to, in @dst. */
static void afile_copy(struct afile *dst, const struct afile *src)
{
	*dst = *src;
	if (dst->shared)
		dst->shared->refs++;
	if (dst->cn)
		cnode_get(dst->cn);
}

/* Drop the write's remembered descriptors (their requests keep theirs). */
void job_fcache_drop(struct sjob *job)
{
	unsigned int i;

	for (i = 0; i < job->nfcache; i++)
		afile_put(&job->fcache[i].f);
	job->nfcache = 0;
	job->fcache_next = 0;
}

/**
 * afile_get() - table 2.5 step 5: the caller's descriptor @fdnum.  A
 * descriptor this write has looked up already (and not let go of since:
 * see struct sjob) is not looked up again: the requests share one
 * duplicate of it.  A failed lookup is not remembered (the write stops
 * there, A21).
 * Returns: 0, -EBADF when it is not open (or is O_PATH), -EPERM when the
 * writer may not lend descriptors to this context (aio_cred.c).
 */
int afile_get(struct aiod *ad, struct sjob *job, uint32_t fdnum,
	      struct afile *f)
{
	struct fcache_ent *e;
	struct afd *sh;
	unsigned int i;
	int ret;

	for (i = 0; i < job->nfcache; i++) {
		if (job->fcache[i].fdnum == fdnum) {
			afile_copy(f, &job->fcache[i].f);
			return 0;
		}
	}
	ret = afile_lookup(ad, job, fdnum, f);
	if (ret)
		return ret;
	if (f->fd >= 0) {
		sh = malloc(sizeof(*sh));
		if (!sh)
			return 0; /* not shared, not remembered */
		sh->refs = 1;
		sh->fd = f->fd;
		f->shared = sh;
	}
	if (job->nfcache < AIOD_FCACHE) {
		e = &job->fcache[job->nfcache++];
	} else {
		e = &job->fcache[job->fcache_next];
		job->fcache_next = (job->fcache_next + 1) % AIOD_FCACHE;
		afile_put(&e->f);
	}
	e->fdnum = fdnum;
	afile_copy(&e->f, f);
	return 0;
}

void afile_put(struct afile *f)
{
	if (f->shared) {
		if (--f->shared->refs == 0) {
			close(f->shared->fd);
			free(f->shared);
		}
	} else if (f->fd >= 0) {
		close(f->fd);
	}
	if (f->cn)
		cnode_put(f->cn);
	f->fd = -1;
	f->cn = NULL;
	f->shared = NULL;
}

/**
 * resfd_get() - table 2.5 step 6: aio_resfd must be a kernel eventfd or a
 * counter of this mount.  A counter must be open for writing: a signal
 * adds to it, which a read-only opener could not do itself (a kernel
 * eventfd is always O_RDWR, so Linux never meets the case).
 * Returns: 0; -EBADF (not open, O_PATH, a read-only counter); -EINVAL (not
 * an eventfd, or one the /proc fallback cannot reach); -EPERM as
 * afile_get().
 */
int resfd_get(struct aiod *ad, struct sjob *job, uint32_t fdnum, struct areq *a)
{
	struct afile f;
	int ret = afile_get(ad, job, fdnum, &f);

	if (ret)
		return ret;
	switch (f.kind) {
	case AF_COUNTER:
	case AF_TEXTVIEW:
		if ((f.flags & O_ACCMODE) == O_RDONLY) {
			afile_put(&f);
			return -EBADF;
		}
		a->rcn = f.cn;
		return 0;
	case AF_EVENTFD:
		if (f.fd < 0)
			return -EINVAL;
		if (!f.shared) {
			a->rfd = f.fd;
			return 0;
		}
		/* A request owns its RESFD (ksignal() closes it). */
		a->rfd = fcntl(f.fd, F_DUPFD_CLOEXEC, 0);
		afile_put(&f);
		return a->rfd < 0 ? -ENOMEM : 0;
	default:
		afile_put(&f);
		return -EINVAL;
	}
}

/*
 * Send @sig to the task that submitted @a, as the kernel's
 * send_sig(sig, current) in the write path does (SIGXFSZ past
 * RLIMIT_FSIZE, SIGPIPE on a broken pipe or socket).  Through the pidfd the
 * context keeps for that thread (a thread pidfd: the signal is the
 * thread's), so a pid reused since then is not signalled; a fresh one
 * when none is kept.  Best effort: a submitter that is gone gets nothing.
 */
void areq_signal(struct areq *a, int sig)
{
	struct aiod_ctx *ctx = a->ctx;
	unsigned int i;
	int fd = -1, own = -1;

	for (i = 0; i < ctx->npidfds; i++)
		if (ctx->pidfds[i].pid == a->pid && ctx->pidfds[i].fd >= 0)
			fd = ctx->pidfds[i].fd;
	if (fd < 0) {
		own = (int)syscall(SYS_pidfd_open, a->pid, PIDFD_THREAD);
		if (own < 0)
			own = (int)syscall(SYS_pidfd_open, a->pid, 0);
		if (own < 0)
			return;
		fd = own;
	}
	syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0);
	if (own >= 0)
		close(own);
}
