// SPDX-License-Identifier: GPL-2.0-only
/*
 * Where the mount cannot behave like an eventfd because of FUSE
 * (shared/spec/emulation.md, "Differences FUSE forces", and what these
 * cases found besides).  Each case runs on both backends, like a
 * conformance case, but compares each transcript with a recorded one: the
 * kernel's as observed on Linux 6.18 (so that a kernel change is noticed)
 * and the mount's as documented.  A mount that starts to behave like the
 * kernel fails here too: then the difference is gone and the case belongs
 * in the conformance suite.
 */
#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/fsuid.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "backend.h"

#define TOP 0xfffffffffffffffeull

/*
 * E16: a read into an unmapped buffer fails with EFAULT.  The kernel has
 * consumed the value by then; the mount has not (the kernel pins the
 * caller's pages before the request reaches the daemon, so the daemon never
 * sees the read).
 */
DIFFERENCE(read_into_unmapped_buffer,
	   "read NULL: err=EFAULT\n"
	   "after: err=EAGAIN\n",
	   "read NULL: err=EFAULT\n"
	   "after: ret=8 val=5\n")
{
	int fd = b->open_counter(5, EFD_NONBLOCK);
	void *volatile unmapped = NULL; /* hide it from -Wnonnull */

	REC(t, "read NULL", read(fd, unmapped, 8));
	rec_read(t, "after", fd);
	close(fd);
}

/*
 * E50: fdinfo.  The kernel adds eventfd-count, eventfd-id and
 * eventfd-semaphore; a file of the mount has only the generic lines (the
 * status file carries what they would say), and its flags show O_LARGEFILE
 * (0100000), which open(2) adds on 64-bit kernels.
 */
DIFFERENCE(fdinfo_has_no_eventfd_lines,
	   "keys: pos flags mnt_id ino eventfd-count eventfd-id "
	   "eventfd-semaphore\n"
	   "flags: 02\n"
	   "eventfd-count: 5\n",
	   "keys: pos flags mnt_id ino\n"
	   "flags: 0100002\n")
{
	int fd = b->open_counter(5, 0);
	char path[64], line[256], keys[512] = "keys:", *colon;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	cr_assert(f != NULL);
	while (fgets(line, sizeof(line), f)) {
		colon = strchr(line, ':');
		if (!colon)
			continue;
		*colon = '\0';
		snprintf(keys + strlen(keys), sizeof(keys) - strlen(keys),
			 " %s", line);
	}
	evt_rec(t, "%s", keys);
	rewind(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned long long v;
		unsigned int fl;

		if (sscanf(line, "flags: %o", &fl) == 1)
			evt_rec(t, "flags: 0%o", fl);
		if (sscanf(line, "eventfd-count: %llx", &v) == 1)
			evt_rec(t, "eventfd-count: %llu", v);
	}
	fclose(f);
	close(fd);
}

/*
 * E51: /proc/self/fd/N.  The kernel shows anon_inode:[eventfd] and refuses
 * to reopen it (ENXIO); the mount shows the file's path (here " (deleted)",
 * the backend unlinks its counters) and reopening it gives a new open file
 * of the same counter.
 */
DIFFERENCE(proc_fd_link,
	   "readlink: anon_inode:[eventfd]\n"
	   "reopen: err=ENXIO\n",
	   "readlink: a path in the mount (deleted)\n"
	   "reopen: ok\n"
	   "write 1 through the reopened file: ret=8\n"
	   "count seen through the first: count=3\n")
{
	const char *mnt = evt_shared_mnt();
	int fd = b->open_counter(2, 0), fd2;
	char path[64], target[4096];
	size_t ml = strlen(mnt);
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, target, sizeof(target) - 1);
	cr_assert(n > 0);
	target[n] = '\0';
	if (strncmp(target, mnt, ml) == 0 && target[ml] == '/')
		evt_rec(t, "readlink: a path in the mount%s",
			strstr(target, " (deleted)") ? " (deleted)" : "");
	else
		evt_rec(t, "readlink: %s", target);
	errno = 0;
	fd2 = open(path, O_RDWR | O_CLOEXEC);
	if (fd2 < 0) {
		evt_rec(t, "reopen: err=%s", evt_errname(errno));
	} else {
		evt_rec(t, "reopen: ok");
		rec_write(t, "write 1 through the reopened file", fd2, 1);
		rec_count(t, "count seen through the first", b, fd);
		close(fd2);
	}
	close(fd);
}

/*
 * E52: fstat.  An eventfd: mode 0600 with no file type, size 0, one link,
 * and the one anonymous inode that every eventfd shares.  A counter of the
 * mount: a regular file (S_IFREG) with its own inode, its creation mode,
 * no link once unlinked (the backend unlinks it), and size 8 (one value:
 * needed so that writes of one counter reach the daemon in parallel, see
 * fused/ops.c COUNTER_OPEN_FLAGS).
 *
 * The owner: 0 for an eventfd whoever creates it, the creator's for a
 * counter.  As root both are 0, so a third one is created with fsuid and
 * fsgid 65534: that is the uid and gid the kernel puts in the FUSE request,
 * while the real and effective ids stay root's, which FUSE requires of a
 * caller of a mount without allow_other.  CAP_DAC_OVERRIDE, which a
 * non-zero fsuid drops, is raised again so that it may create in the
 * mount's root (0755, the mounter's).
 */
static void as_fsid(unsigned int id)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct caps[2];

	setfsgid(id);
	setfsuid(id);
	cr_assert_eq((unsigned int)setfsuid((uid_t)-1), id, "setfsuid");
	cr_assert_eq((unsigned int)setfsgid((gid_t)-1), id, "setfsgid");
	if (!id)
		return; /* back to 0: the kernel restores the capabilities */
	cr_assert_eq(syscall(SYS_capget, &hdr, caps), 0, "capget: %s",
		     strerror(errno));
	caps[0].effective |= 1u << CAP_DAC_OVERRIDE;
	cr_assert_eq(syscall(SYS_capset, &hdr, caps), 0, "capset: %s",
		     strerror(errno));
}

DIFFERENCE(fstat_shows_a_regular_file,
	   "mode=0600 size=0 nlink=1 blocks=0 blksize=4096 rdev=0\n"
	   "two counters share one inode: 1\n"
	   "created with fsuid 65534: uid=0 gid=0\n",
	   "mode=0100600 size=8 nlink=0 blocks=0 blksize=4096 rdev=0\n"
	   "two counters share one inode: 0\n"
	   "created with fsuid 65534: uid=65534 gid=65534\n")
{
	int fd = b->open_counter(1, 0), fd2 = b->open_counter(0, 0), fd3;
	struct stat st, st2;

	cr_assert(fstat(fd, &st) == 0 && fstat(fd2, &st2) == 0);
	evt_rec(t,
		"mode=0%o size=%lld nlink=%lu blocks=%lld blksize=%ld "
		"rdev=%lu",
		(unsigned int)st.st_mode, (long long)st.st_size,
		(unsigned long)st.st_nlink, (long long)st.st_blocks,
		(long)st.st_blksize, (unsigned long)st.st_rdev);
	evt_rec(t, "two counters share one inode: %d",
		st.st_dev == st2.st_dev && st.st_ino == st2.st_ino);
	as_fsid(65534);
	fd3 = b->open_counter(0, 0);
	as_fsid(0);
	cr_assert(fstat(fd3, &st) == 0);
	evt_rec(t, "created with fsuid 65534: uid=%u gid=%u",
		(unsigned int)st.st_uid, (unsigned int)st.st_gid);
	close(fd3);
	close(fd2);
	close(fd);
}

/*
 * E53: lseek.  An eventfd accepts every whence up to SEEK_HOLE and stays at
 * 0; a counter is a stream file (FOPEN_STREAM), so every lseek is ESPIPE.
 * A whence above SEEK_HOLE is EINVAL on both (the VFS checks it first).
 */
DIFFERENCE(lseek_is_espipe,
	   "SEEK_SET 0: ret=0\n"
	   "SEEK_SET 5: ret=0\n"
	   "SEEK_CUR -1: ret=0\n"
	   "SEEK_END 0: ret=0\n"
	   "SEEK_DATA 0: ret=0\n"
	   "SEEK_HOLE 0: ret=0\n"
	   "whence 5: err=EINVAL\n",
	   "SEEK_SET 0: err=ESPIPE\n"
	   "SEEK_SET 5: err=ESPIPE\n"
	   "SEEK_CUR -1: err=ESPIPE\n"
	   "SEEK_END 0: err=ESPIPE\n"
	   "SEEK_DATA 0: err=ESPIPE\n"
	   "SEEK_HOLE 0: err=ESPIPE\n"
	   "whence 5: err=EINVAL\n")
{
	int fd = b->open_counter(1, 0);

	REC(t, "SEEK_SET 0", lseek(fd, 0, SEEK_SET));
	REC(t, "SEEK_SET 5", lseek(fd, 5, SEEK_SET));
	REC(t, "SEEK_CUR -1", lseek(fd, -1, SEEK_CUR));
	REC(t, "SEEK_END 0", lseek(fd, 0, SEEK_END));
	REC(t, "SEEK_DATA 0", lseek(fd, 0, SEEK_DATA));
	REC(t, "SEEK_HOLE 0", lseek(fd, 0, SEEK_HOLE));
	REC(t, "whence 5", lseek(fd, 0, 5));
	close(fd);
}

/*
 * E57: writev.  An eventfd has no write_iter, so each segment is one
 * write(); the mount receives one WRITE of the total length, judged as a
 * whole: [8,8] and [8,4] are EINVAL like a write of 16 or 12, and [0,8] is
 * a valid 8-byte write.  (The cases that agree are in read_write.c.)
 */
DIFFERENCE(writev_is_one_write,
	   "writev [8,8]: ret=16\n"
	   "count: count=3\n"
	   "writev [8,4]: ret=8\n"
	   "count: count=7\n"
	   "writev [0,8]: err=EINVAL\n"
	   "count: count=7\n",
	   "writev [8,8]: err=EINVAL\n"
	   "count: count=0\n"
	   "writev [8,4]: err=EINVAL\n"
	   "count: count=0\n"
	   "writev [0,8]: ret=8\n"
	   "count: count=5\n")
{
	int fd = b->open_counter(0, EFD_NONBLOCK);
	uint64_t a = 1, c = 2, d = 4, e = 5;
	struct iovec two[2] = { { &a, 8 }, { &c, 8 } };
	struct iovec part[2] = { { &d, 8 }, { &a, 4 } };
	struct iovec empty[2] = { { &a, 0 }, { &e, 8 } };

	REC(t, "writev [8,8]", writev(fd, two, 2));
	rec_count(t, "count", b, fd);
	REC(t, "writev [8,4]", writev(fd, part, 2));
	rec_count(t, "count", b, fd);
	REC(t, "writev [0,8]", writev(fd, empty, 2));
	rec_count(t, "count", b, fd);
	close(fd);
}

/*
 * E10, E20: zero lengths.  An eventfd refuses a read or write of 0 bytes
 * (EINVAL); FUSE answers 0 without sending the daemon a request.  (A
 * vector of total length 0 is 0 on both: read_write.c.)
 */
DIFFERENCE(zero_length_read_write,
	   "read 0: err=EINVAL\n"
	   "write 0 bytes: err=EINVAL\n"
	   "count: count=3\n",
	   "read 0: ret=0\n"
	   "write 0 bytes: ret=0\n"
	   "count: count=3\n")
{
	int fd = b->open_counter(3, EFD_NONBLOCK);
	uint64_t v = 1;

	REC(t, "read 0", read(fd, &v, 0));
	REC(t, "write 0 bytes", write(fd, &v, 0));
	rec_count(t, "count", b, fd);
	close(fd);
}

/* Wait (bounded) until the signal handler has run @n times in all. */
static bool handler_ran(unsigned int n)
{
	long long deadline = evt_now_ms() + BG_DEADLINE_MS;

	while (sig_delivered() < n && evt_now_ms() < deadline)
		usleep(1000);
	return sig_delivered() >= n;
}

/*
 * E33: a signal whose handler has SA_RESTART.  The kernel restarts the
 * read, which goes on sleeping and gets the next write; FUSE cannot restart
 * a request the daemon answered EINTR, so on the mount the read fails with
 * EINTR (and consumes nothing).
 */
DIFFERENCE(sa_restart_read_gets_eintr,
	   "reader asleep: 1\n"
	   "handler ran: 1\n"
	   "reader after the signal: blocked\n"
	   "write 2: ret=8\n"
	   "reader: ret=8 val=2\n"
	   "count: count=0\n",
	   "reader asleep: 1\n"
	   "handler ran: 1\n"
	   "reader after the signal: err=EINTR\n"
	   "write 2: ret=8\n"
	   "reader: err=EINTR\n"
	   "count: count=2\n")
{
	int fd = b->open_counter(0, 0);
	unsigned int before;
	struct bg r;

	sig_install(SIGUSR1, true);
	before = sig_delivered();
	bg_start(&r, BG_READ, fd, 0, false);
	evt_rec(t, "reader asleep: %d", bg_asleep(&r));
	bg_signal(&r, SIGUSR1);
	evt_rec(t, "handler ran: %d", handler_ran(before + 1));
	bg_rec(t, "reader after the signal", &r, BG_GRACE_MS);
	rec_write(t, "write 2", fd, 2);
	bg_rec(t, "reader", &r, BG_DEADLINE_MS);
	bg_end(&r);
	rec_count(t, "count", b, fd);
	close(fd);
}

/* E33: the same for a blocked write, under SA_RESTART. */
DIFFERENCE(sa_restart_write_gets_eintr,
	   "writer asleep: 1\n"
	   "handler ran: 1\n"
	   "writer after the signal: blocked\n"
	   "read: ret=8 val=18446744073709551614\n"
	   "writer: ret=8\n"
	   "count: count=3\n",
	   "writer asleep: 1\n"
	   "handler ran: 1\n"
	   "writer after the signal: err=EINTR\n"
	   "read: ret=8 val=18446744073709551614\n"
	   "writer: err=EINTR\n"
	   "count: count=0\n")
{
	int fd = b->open_counter(0, 0);
	unsigned int before;
	struct bg w;

	sig_install(SIGUSR1, true);
	b->set_count(fd, TOP);
	before = sig_delivered();
	bg_start(&w, BG_WRITE, fd, 3, false);
	evt_rec(t, "writer asleep: %d", bg_asleep(&w));
	bg_signal(&w, SIGUSR1);
	evt_rec(t, "handler ran: %d", handler_ran(before + 1));
	bg_rec(t, "writer after the signal", &w, BG_GRACE_MS);
	rec_read(t, "read", fd);
	bg_rec(t, "writer", &w, BG_DEADLINE_MS);
	bg_end(&w);
	rec_count(t, "count", b, fd);
	close(fd);
}

/*
 * E14, E26: preadv2(RWF_NOWAIT).  An eventfd supports it for reads (EAGAIN
 * on a blocking descriptor whose count is 0, the value otherwise); a FUSE
 * file does not offer non-blocking I/O (no FMODE_NOWAIT), so the VFS
 * refuses the flag with EOPNOTSUPP before the daemon sees anything.
 */
DIFFERENCE(preadv2_nowait,
	   "preadv2 NOWAIT at 0: err=EAGAIN\n"
	   "write 3: ret=8\n"
	   "preadv2 NOWAIT at 3: ret=8\n"
	   "value 3\n",
	   "preadv2 NOWAIT at 0: err=EOPNOTSUPP\n"
	   "write 3: ret=8\n"
	   "preadv2 NOWAIT at 3: err=EOPNOTSUPP\n"
	   "value 0\n")
{
	int fd = b->open_counter(0, 0);
	uint64_t v = 0;
	struct iovec iov = { &v, 8 };

	REC(t, "preadv2 NOWAIT at 0", preadv2(fd, &iov, 1, -1, RWF_NOWAIT));
	rec_write(t, "write 3", fd, 3);
	REC(t, "preadv2 NOWAIT at 3", preadv2(fd, &iov, 1, -1, RWF_NOWAIT));
	evt_rec(t, "value %llu", (unsigned long long)v);
	close(fd);
}

/*
 * E26: pwritev2 flags other than RWF_HIPRI.  An eventfd has no write_iter,
 * so the VFS refuses them all with EOPNOTSUPP.  A FUSE file has one and
 * takes them: the daemon sees RWF_DSYNC and RWF_SYNC only as O_DSYNC and
 * O_SYNC in the WRITE's flags (as if the file had been opened with them),
 * and RWF_APPEND not at all; each write is applied.
 */
DIFFERENCE(pwritev2_other_flags,
	   "pwritev2 DSYNC: err=EOPNOTSUPP\n"
	   "count: count=0\n"
	   "pwritev2 SYNC: err=EOPNOTSUPP\n"
	   "count: count=0\n"
	   "pwritev2 APPEND: err=EOPNOTSUPP\n"
	   "count: count=0\n",
	   "pwritev2 DSYNC: ret=8\n"
	   "count: count=1\n"
	   "pwritev2 SYNC: ret=8\n"
	   "count: count=2\n"
	   "pwritev2 APPEND: ret=8\n"
	   "count: count=3\n")
{
	int fd = b->open_counter(0, 0);
	uint64_t v = 1;
	struct iovec iov = { &v, 8 };

	REC(t, "pwritev2 DSYNC", pwritev2(fd, &iov, 1, -1, RWF_DSYNC));
	rec_count(t, "count", b, fd);
	REC(t, "pwritev2 SYNC", pwritev2(fd, &iov, 1, -1, RWF_SYNC));
	rec_count(t, "count", b, fd);
	REC(t, "pwritev2 APPEND", pwritev2(fd, &iov, 1, -1, RWF_APPEND));
	rec_count(t, "count", b, fd);
	close(fd);
}

/*
 * E55: FIONREAD.  An eventfd has no such ioctl (ENOTTY); for a regular
 * file the VFS answers it itself, with the size minus the position.
 */
DIFFERENCE(fionread, "FIONREAD: err=ENOTTY\n",
	   "FIONREAD: ret=0\n"
	   "bytes: 8\n")
{
	int fd = b->open_counter(3, 0), n = -1;

	REC(t, "FIONREAD", ioctl(fd, FIONREAD, &n));
	if (n >= 0)
		evt_rec(t, "bytes: %d", n);
	close(fd);
}

/*
 * E55: mmap.  An eventfd cannot be mapped at all (ENODEV).  The mount
 * refuses a shared mapping too (direct-io file, read_write.c checks it)
 * but the kernel grants a private one, which maps nothing useful.
 */
DIFFERENCE(mmap_private, "mmap private: ENODEV\n", "mmap private: mapped\n")
{
	int fd = b->open_counter(1, 0);
	void *p;

	errno = 0;
	p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
	evt_rec(t, "mmap private: %s",
		p == MAP_FAILED ? evt_errname(errno) : "mapped");
	if (p != MAP_FAILED)
		munmap(p, 4096);
	close(fd);
}

/*
 * E4: F_GETFL.  open(2) on a 64-bit kernel adds O_LARGEFILE (0100000) to
 * every file it opens; an eventfd is not opened that way and never has it.
 * The conformance cases mask it.
 */
DIFFERENCE(fgetfl_shows_o_largefile,
	   "F_GETFL: 02\n"
	   "F_GETFL nonblock: 04002\n",
	   "F_GETFL: 0100002\n"
	   "F_GETFL nonblock: 0104002\n")
{
	int fd = b->open_counter(0, 0), nb = b->open_counter(0, EFD_NONBLOCK);

	evt_rec(t, "F_GETFL: 0%o", (unsigned int)fcntl(fd, F_GETFL));
	evt_rec(t, "F_GETFL nonblock: 0%o", (unsigned int)fcntl(nb, F_GETFL));
	close(nb);
	close(fd);
}

/*
 * E5: F_SETFL O_DIRECT.  The VFS lets a file take O_DIRECT only if its
 * filesystem can do direct I/O: an eventfd cannot (EINVAL), a FUSE file
 * can.  The daemon never hears of it; reads and writes go on as before.
 */
DIFFERENCE(fsetfl_o_direct,
	   "F_SETFL O_DIRECT: err=EINVAL\n"
	   "F_GETFL has O_DIRECT: 0\n"
	   "write 2: ret=8\n"
	   "read: ret=8 val=3\n",
	   "F_SETFL O_DIRECT: ret=0\n"
	   "F_GETFL has O_DIRECT: 1\n"
	   "write 2: ret=8\n"
	   "read: ret=8 val=3\n")
{
	int fd = b->open_counter(1, EFD_NONBLOCK);

	REC(t, "F_SETFL O_DIRECT", fcntl(fd, F_SETFL, O_NONBLOCK | O_DIRECT));
	evt_rec(t, "F_GETFL has O_DIRECT: %d",
		(fcntl(fd, F_GETFL) & O_DIRECT) != 0);
	rec_write(t, "write 2", fd, 2);
	rec_read(t, "read", fd);
	close(fd);
}

/*
 * E44, E45 with two pollers on one open file.  The kernel wakes each epoll
 * item with the key of the change and each filters by its own interest: a
 * write wakes only the EPOLLIN watcher.  FUSE keeps one poll wait queue per
 * open file and its notification carries no key, so the daemon wakes every
 * poller of the file when the key meets the interest of any of them: the
 * EPOLLOUT|EPOLLET watcher then re-polls, finds POLLOUT set and reports an
 * edge for a write.  Conformance cases use one poller per descriptor.
 */
DIFFERENCE(pollers_of_one_file_share_a_wakeup,
	   "IN watcher after add: n=0\n"
	   "OUT watcher after add: n=1 events=0x4\n"
	   "write 1: ret=8\n"
	   "IN watcher after write: n=1 events=0x1\n"
	   "OUT watcher after write: n=0\n"
	   "read: ret=8 val=1\n"
	   "IN watcher after read: n=0\n"
	   "OUT watcher after read: n=1 events=0x4\n",
	   "IN watcher after add: n=0\n"
	   "OUT watcher after add: n=1 events=0x4\n"
	   "write 1: ret=8\n"
	   "IN watcher after write: n=1 events=0x1\n"
	   "OUT watcher after write: n=1 events=0x4\n"
	   "read: ret=8 val=1\n"
	   "IN watcher after read: n=0\n"
	   "OUT watcher after read: n=1 events=0x4\n")
{
	int fd = b->open_counter(0, EFD_NONBLOCK);
	int in = epoll_on(fd, EPOLLIN | EPOLLET);
	int out = epoll_on(fd, EPOLLOUT | EPOLLET);

	rec_epoll(t, "IN watcher after add", in);
	rec_epoll(t, "OUT watcher after add", out);
	rec_write(t, "write 1", fd, 1);
	rec_epoll(t, "IN watcher after write", in);
	rec_epoll(t, "OUT watcher after write", out);
	rec_read(t, "read", fd);
	rec_epoll(t, "IN watcher after read", in);
	rec_epoll(t, "OUT watcher after read", out);
	close(out);
	close(in);
	close(fd);
}
