// SPDX-License-Identifier: GPL-2.0-only
/*
 * The submitter's descriptors.  aio_fildes and aio_resfd are numbers in
 * the descriptor table of the process that wrote the record
 * (fuse_req_ctx()->pid, which is blocked in that write while we look): the
 * daemon acts on that process's own open file description, obtained with
 * pidfd_getfd(2), so the access mode, O_NONBLOCK, O_APPEND and O_DIRECT
 * are the caller's, never more.  Where pidfd_getfd is refused, the
 * fallback reopens /proc/PID/fd/N with the access mode that
 * /proc/PID/fdinfo/N shows (never a wider one); that fallback cannot reach
 * sockets or anonymous files (eventfds among them) and gets a description
 * of its own (its own O_NONBLOCK), which is why it is only a fallback.
 *
 * Nothing here may block the loop on a file system, least of all on this
 * mount: statx() uses AT_STATX_DONT_SYNC (no FUSE GETATTR), fcntl and
 * /proc reads do not reach the file system, and a descriptor that turns
 * out to be of this mount is closed at once (the mount opens files with
 * FOPEN_NOFLUSH, so that close sends nothing to this daemon) and served
 * from the daemon's own state.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

#define CAP_SYS_ADMIN_BIT 21
#define CAP_SYS_NICE_BIT 23

/* Read a small /proc file into @buf (NUL-terminated). */
static ssize_t read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0)
		n = -errno;
	else
		buf[n] = '\0';
	close(fd);
	return n;
}

/* The value after "@key" at the start of a line of @text, or NULL. */
static const char *field(const char *text, const char *key)
{
	size_t klen = strlen(key);
	const char *p = text;

	while (p && *p) {
		if (strncmp(p, key, klen) == 0)
			return p + klen;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return NULL;
}

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

bool caller_rt_ok(pid_t pid)
{
	char path[64], buf[4096];
	unsigned long long caps;
	const char *v;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (read_small(path, buf, sizeof(buf)) <= 0)
		return false;
	v = field(buf, "CapEff:");
	if (!v || sscanf(v, "%llx", &caps) != 1)
		return false;
	return caps &
	       ((1ull << CAP_SYS_ADMIN_BIT) | (1ull << CAP_SYS_NICE_BIT));
}

/*
 * What an anonymous-inode file is, by its fdinfo: a kernel eventfd, a
 * signalfd (whose readiness is the pending signals of the task that
 * polls it: here the daemon's, never the caller's), or something else.
 */
static enum afile_kind anon_kind(int fd)
{
	char path[64], buf[1024];

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	if (read_small(path, buf, sizeof(buf)) <= 0)
		return AF_ANON;
	if (field(buf, "eventfd-count:"))
		return AF_EVENTFD;
	if (field(buf, "sigmask:"))
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

/* Takes @fd (ours to close) and says what it is. */
int afile_classify(struct aiod *ad, int fd, struct afile *f)
{
	struct statx stx;
	int fl;

	f->fd = -1;
	f->cn = NULL;
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || (fl & O_PATH) ||
	    statx(fd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC,
		  STATX_TYPE | STATX_INO, &stx)) {
		close(fd);
		return -EBADF; /* O_PATH counts as not open (table 2.5) */
	}
	f->flags = fl;
	if (makedev(stx.stx_dev_major, stx.stx_dev_minor) == ad->mnt_dev) {
		close(fd); /* FOPEN_NOFLUSH: no request to ourselves */
		classify_ours(ad, stx.stx_ino, f);
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
	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%u", (int)pid, fdnum);
	if (read_small(path, info, sizeof(info)) <= 0)
		return -EBADF;
	v = field(info, "flags:");
	if (!v || sscanf(v, "%o", &flags) != 1 || (flags & O_PATH))
		return -EBADF;
	v = field(info, "mnt_id:");
	if (v)
		sscanf(v, "%llu", &mnt_id);
	v = field(info, "ino:");
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

static int job_pidfd(struct sjob *job)
{
	if (!job->pidfd_tried) {
		job->pidfd_tried = true;
		job->pidfd =
			(int)syscall(SYS_pidfd_open, job->pid, PIDFD_THREAD);
		if (job->pidfd < 0)
			job->pidfd = (int)syscall(SYS_pidfd_open, job->pid, 0);
	}
	return job->pidfd;
}

/**
 * afile_get() - table 2.5 step 5: the caller's descriptor @fdnum.
 * Returns: 0, or -EBADF when it is not open (or is O_PATH).
 */
int afile_get(struct aiod *ad, struct sjob *job, uint32_t fdnum,
	      struct afile *f)
{
	int fd;

	if (!ad->no_pidfd && job_pidfd(job) >= 0) {
		fd = (int)syscall(SYS_pidfd_getfd, job->pidfd, (int)fdnum, 0);
		if (fd >= 0)
			return afile_classify(ad, fd, f);
		if (errno == EBADF)
			return -EBADF;
	}
	return proc_get(ad, job->pid, fdnum, f);
}

void afile_put(struct afile *f)
{
	if (f->fd >= 0)
		close(f->fd);
	if (f->cn)
		cnode_put(f->cn);
	f->fd = -1;
	f->cn = NULL;
}

/**
 * resfd_get() - table 2.5 step 6: aio_resfd must be a kernel eventfd or a
 * counter of this mount.  A counter must be open for writing: a signal
 * adds to it, which a read-only opener could not do itself (a kernel
 * eventfd is always O_RDWR, so Linux never meets the case).
 * Returns: 0; -EBADF (not open, O_PATH, a read-only counter); -EINVAL (not
 * an eventfd, or one the /proc fallback cannot reach).
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
		a->rfd = f.fd;
		return 0;
	default:
		afile_put(&f);
		return -EINVAL;
	}
}
