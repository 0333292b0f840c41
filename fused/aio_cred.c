// SPDX-License-Identifier: GPL-2.0-only
/*
 * Who an AIO context acts as.  The control files act on write, and a
 * descriptor can be written by a process other than the one that opened
 * it: a child, a process it was passed to, or the opener itself after it
 * has executed a set-user-ID program (whose error message to stderr is
 * enough to write a line).  Linux's rule for its own files that act on
 * write is the opener's credentials, kept on the open file (f_cred):
 * the daemon does the same.  An open of `aio` or `aio.txt` takes the
 * opener's uid, gid and supplementary groups, and for `aio.txt` its
 * working directory and root; every line and record written to that open
 * file acts with them, whoever writes:
 *
 *   aio.txt  PATH is opened with the opener's uid, gid and groups,
 *            relative to the opener's working directory or root as they
 *            were at open (opener_open()); resfd=NAME needs the opener's
 *            write permission on the counter (text_resfd()).
 *   aio      the records name descriptors of the WRITER's table, which the
 *            daemon takes with pidfd_getfd (aio_fd.c).  It takes them only
 *            from a writer that the opener could have taken them from
 *            itself: pidfd_getfd's own rule (ptrace's
 *            PTRACE_MODE_ATTACH_REALCREDS, without Yama or other security
 *            modules), applied with the opener as the caller.  That is:
 *            the opener is root, or the writer's real, effective, saved and
 *            filesystem uids all are the opener's uid, its gids all the
 *            opener's gid, and the writer is dumpable (a set-user-ID
 *            program that dropped back to the caller's uid is not) or is
 *            the opener's own process, not executed since (ptrace lets a
 *            thread group reach itself).  Else the record fails with
 *            EPERM, pidfd_getfd's errno for it (an io_submit of Linux
 *            never meets the case: a kernel AIO context does not survive
 *            execve and cannot be handed over).
 *            A RESFD descriptor is checked by its access mode, as the
 *            kernel does, once it is known to be one the opener could
 *            have taken.  An IOPRIO_CLASS_RT request needs CAP_SYS_ADMIN
 *            or CAP_SYS_NICE in both the opener (at open) and the writer.
 *
 * The status and trace files already filter by the credentials taken at
 * their open (cred.c), and a context's lines there belong to its opener.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "aiod_i.h"

/* An O_PATH descriptor of /proc/@pid/@what (cwd, root), or -errno. */
static int proc_dir(pid_t pid, const char *what)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, what);
	fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/*
 * Which process thread @tid belongs to, and whether it has executed
 * another program since: its thread group, that group's start time (a
 * later process with the same pid starts later) and its executable.
 * statx with AT_STATX_DONT_SYNC sends nothing to a FUSE file system, this
 * one included.  @id->valid says whether all of it was read.
 */
static void proc_ident(pid_t tid, struct aproc *id)
{
	char path[64], buf[1024];
	const char *v, *p;
	struct statx stx;
	int tgid;

	id->valid = false;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	if (aiod_proc_read(path, buf, sizeof(buf)) <= 0)
		return;
	v = aiod_proc_field(buf, "Tgid:");
	if (!v || sscanf(v, "%d", &tgid) != 1)
		return;
	snprintf(path, sizeof(path), "/proc/%d/stat", tgid);
	if (aiod_proc_read(path, buf, sizeof(buf)) <= 0)
		return;
	p = strrchr(buf, ')'); /* the command name may hold anything */
	if (!p || sscanf(p + 1,
			 " %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s"
			 " %*s %*s %*s %*s %*s %*s %*s %llu",
			 &id->start) != 1)
		return;
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)tid);
	if (statx(AT_FDCWD, path, AT_STATX_DONT_SYNC, STATX_INO, &stx))
		return;
	id->tgid = tgid;
	id->exe_dev = makedev(stx.stx_dev_major, stx.stx_dev_minor);
	id->exe_ino = stx.stx_ino;
	id->valid = true;
}

/**
 * opener_take() - the credentials of @req's caller, for the context it
 * opens.  The working directory and root are taken only for aio.txt (the
 * binary form has no paths); if /proc does not give them (no /proc, or a
 * daemon that may not look at that process), they are kept as -errno and
 * each line fails with it, as it would have at each line before.  Neither
 * reaches a file system: /proc's magic links are followed without a
 * lookup, and O_PATH opens nothing, so a directory of this very mount is
 * safe to take on the loop.
 * Returns: 0 or -ENOMEM.
 */
int opener_take(struct aopener *o, fuse_req_t req, bool text)
{
	pid_t pid = fuse_req_ctx(req)->pid;
	int ret;

	o->cwd = o->root = -ENOENT;
	ret = cred_from_req(req, &o->cred);
	if (ret)
		return ret;
	o->rt_ok = caller_rt_ok(pid);
	if (text) {
		o->cwd = proc_dir(pid, "cwd");
		o->root = proc_dir(pid, "root");
	} else {
		proc_ident(pid, &o->self);
	}
	return 0;
}

void opener_drop(struct aopener *o)
{
	if (o->cwd >= 0)
		close(o->cwd);
	if (o->root >= 0)
		close(o->root);
	o->cwd = o->root = -ENOENT;
	cred_free(&o->cred);
}

/* "Uid:" or "Gid:" of /proc/PID/status: all four equal to @want? */
static bool all_ids(const char *status, const char *key, unsigned int want)
{
	const char *v = aiod_proc_field(status, key);
	unsigned int id[4];

	if (!v || sscanf(v, "%u %u %u %u", &id[0], &id[1], &id[2], &id[3]) != 4)
		return false;
	return id[0] == want && id[1] == want && id[2] == want && id[3] == want;
}

/**
 * writer_may_lend() - may the daemon take descriptors from @pid (the
 * thread blocked in a write to the context, so its credentials stay as
 * they are while we look) on behalf of opener @o?  See the top of this
 * file for the rule.  Dumpability has no /proc field of its own, but it
 * decides who owns the files under /proc/PID (not the directory): the
 * task's effective uid and gid when it is dumpable, root otherwise (the
 * kernel's task_dump_owner()).  With every id of the writer equal to the
 * opener's, which is not root here, an owner of /proc/PID/status other
 * than the opener means not dumpable.  A process may always take its own
 * descriptors (ptrace's same-thread-group rule): a writer that is not
 * dumpable is let through if it is the opener's process itself and has
 * not executed another program since the open (a process that dropped
 * root with setuid(2) is not dumpable, and must still be able to use the
 * contexts it opens).  What cannot be read is refused.
 * Returns: 0 or -EPERM.
 */
int writer_may_lend(const struct aopener *o, pid_t pid)
{
	char path[64], status[4096];
	struct aproc w;
	struct stat st;
	ssize_t n;
	int fd;

	if (o->cred.uid == 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -EPERM;
	n = fstat(fd, &st) ? -1 : read(fd, status, sizeof(status) - 1);
	close(fd);
	if (n <= 0)
		return -EPERM;
	status[n] = '\0';
	if (!all_ids(status, "Uid:", o->cred.uid) ||
	    !all_ids(status, "Gid:", o->cred.gid))
		return -EPERM;
	if (st.st_uid == o->cred.uid && st.st_gid == o->cred.gid)
		return 0; /* dumpable */
	if (!o->self.valid)
		return -EPERM;
	proc_ident(pid, &w);
	if (!w.valid || w.tgid != o->self.tgid || w.start != o->self.start ||
	    w.exe_dev != o->self.exe_dev || w.exe_ino != o->self.exe_ino)
		return -EPERM;
	return 0;
}

/*
 * aio.txt: open @path with @oflags as the context's opener @o, whoever
 * wrote the line: on a worker thread (the path may lead into this very mount, whose
 * requests the loop must stay free to serve), with the thread's fsuid,
 * fsgid and groups switched to the opener's around the call
 * (setfsuid/setfsgid and the raw setgroups syscall act on the calling
 * thread only), relative to the opener's root or working directory as
 * they were when it opened aio.txt.  O_NONBLOCK keeps a FIFO's open from
 * waiting for a peer; it is cleared afterwards on the new (daemon-owned)
 * description.  Magic links (/proc/PID/fd/N and the like) are not
 * followed: resolved here they would name the daemon's own descriptors;
 * and /proc/self is the daemon.  A daemon that is not root can only open
 * as itself: a line of a context opened by another user is EACCES.
 * Returns: the descriptor, or -errno.
 */
int opener_open(const struct aopener *o, const char *path, int oflags)
{
	bool abs = path[0] == '/';
	struct open_how how = {
		.flags = (uint64_t)(oflags | O_NONBLOCK | O_NOCTTY | O_CLOEXEC),
		.resolve = RESOLVE_NO_MAGICLINKS | (abs ? RESOLVE_IN_ROOT : 0),
	};
	int dirfd = abs ? o->root : o->cwd;
	gid_t saved[256];
	int nsaved = 0, fd, err = 0, fl;
	bool root = geteuid() == 0;

	if (dirfd < 0)
		return dirfd;
	if (!root && o->cred.uid != geteuid())
		return -EACCES;
	if (root) {
		nsaved = getgroups(256, saved);
		if (nsaved < 0 ||
		    syscall(SYS_setgroups, (size_t)o->cred.ngroups,
			    o->cred.groups))
			return -EPERM;
		setfsgid(o->cred.gid);
		setfsuid(o->cred.uid);
		if ((uid_t)setfsuid((uid_t)-1) != o->cred.uid ||
		    (gid_t)setfsgid((gid_t)-1) != o->cred.gid)
			err = EPERM;
	}
	fd = err ? -1
		 : (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
	if (fd < 0 && !err)
		err = errno;
	if (root) {
		setfsuid(0);
		setfsgid(0);
		syscall(SYS_setgroups, (size_t)nsaved, saved);
	}
	if (fd < 0)
		return -err;
	fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	return fd;
}
