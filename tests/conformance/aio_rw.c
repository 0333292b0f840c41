// SPDX-License-Identifier: GPL-2.0-only
/*
 * PREAD, PWRITE, PREADV, PWRITEV, FSYNC and FDSYNC: A30's checks in their
 * order, A31-A33 and A35, with results on regular files in /var/tmp and
 * /dev/shm (the data read is checked in the caller's buffers, the data
 * written in the file) and on a counter (eventfd on the kernel, a counter
 * of the mount on the mount).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "aio_backend.h"

#define IOPRIO_VALUE(class, data) (((class) << 13) | (data))
#define IOCB_FLAG_RESFD_ (1u << 0)
#define IOCB_FLAG_IOPRIO_ (1u << 1)

static const char *const dirs[] = { "/var/tmp", "/dev/shm" };

/* Submit @cb alone; record the result and, if accepted, its event. */
static int one(const struct aio_backend *b, struct evt_transcript *t, void *ctx,
	       const char *label, struct iocb *cb)
{
	struct iocb *list[1] = { cb };
	int ret = b->submit(ctx, 1, list);

	aio_rec(t, label, ret);
	if (ret == 1)
		aio_collect(b, t, ctx, 1, list, 1, false);
	return ret;
}

/* A30.1, A30.2 and their order: IOPRIO, then aio_rw_flags. */
ACONFORM(ioprio_then_rw_flags)
{
	static const struct {
		const char *label;
		unsigned int ioprio; /* 0: no IOCB_FLAG_IOPRIO */
		int rw;
	} cases[] = {
		{ "ioprio class 7", IOPRIO_VALUE(7, 0), 0 },
		{ "ioprio none level 3", IOPRIO_VALUE(0, 3) | 0x10000, 0 },
		{ "ioprio be 4", IOPRIO_VALUE(2, 4) | 0x10000, 0 },
		{ "ioprio idle", IOPRIO_VALUE(3, 0) | 0x10000, 0 },
		{ "ioprio rt 1 (root)", IOPRIO_VALUE(1, 1) | 0x10000, 0 },
		{ "ioprio class 7 + rw 0x200", IOPRIO_VALUE(7, 0), 0x200 },
		{ "rw 0x200", 0, 0x200 },
		{ "rw 0x80000000", 0, (int)0x80000000u },
		{ "rw APPEND|NOAPPEND", 0, 0x30 },
		{ "rw ATOMIC on a read", 0, 0x40 },
		{ "rw HIPRI", 0, 0x1 },
		{ "rw DSYNC on a read", 0, 0x2 },
	};
	void *ctx = aio_ctx(b, 4);
	int fd = aio_tmpfile("/var/tmp", 4096, O_RDWR);
	char buf[64];
	struct iocb cb;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		io_prep_pread(&cb, fd, buf, sizeof(buf), 0);
		if (cases[i].ioprio) {
			cb.u.c.flags |= IOCB_FLAG_IOPRIO_;
			cb.aio_reqprio = (short)(cases[i].ioprio & 0xffff);
		}
		cb.aio_rw_flags = cases[i].rw;
		one(b, t, ctx, cases[i].label, &cb);
	}
	aio_rec(t, "destroy", b->destroy(ctx));
	close(fd);
}

/*
 * Drop CAP_SYS_ADMIN and CAP_SYS_NICE from this thread's effective set
 * (root stays root for everything else, the mount included).
 */
static void drop_rt_caps(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3,
						0 };
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		_exit(100);
	data[0].effective &= ~((1u << CAP_SYS_ADMIN) | (1u << CAP_SYS_NICE));
	if (syscall(SYS_capset, &hdr, data))
		_exit(101);
}

/*
 * A30.1: CLASS_RT without CAP_SYS_ADMIN or CAP_SYS_NICE is EPERM, checked
 * before aio_rw_flags; BE still works.  In a child that gave up both
 * capabilities, on a file and on a counter; the child writes its
 * results to a pipe, one line per submit, and the parent records them.
 */
ACONFORM(ioprio_rt_without_the_capability)
{
	static const struct {
		const char *label;
		unsigned int ioprio;
		int rw;
		bool counter;
	} cases[] = {
		{ "rt 1, file", IOPRIO_VALUE(1, 1) | 0x10000, 0, false },
		{ "rt 1 + rw 0x200, file", IOPRIO_VALUE(1, 1) | 0x10000, 0x200,
		  false },
		{ "be 4, file", IOPRIO_VALUE(2, 4) | 0x10000, 0, false },
		{ "rt 1, counter", IOPRIO_VALUE(1, 1) | 0x10000, 0, true },
	};
	int fd = aio_tmpfile("/var/tmp", 4096, O_RDWR);
	int c = b->counter(3, EFD_NONBLOCK);
	char line[256];
	int p[2], status;
	FILE *in;
	pid_t pid;

	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		char buf[64];
		struct iocb cb, *list[1] = { &cb };
		void *ctx = NULL;
		size_t i;
		int ret;

		drop_rt_caps();
		if (b->setup(4, &ctx))
			_exit(102);
		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			io_prep_pread(&cb, cases[i].counter ? c : fd, buf,
				      cases[i].counter ? 8 : sizeof(buf), 0);
			cb.u.c.flags |= IOCB_FLAG_IOPRIO_;
			cb.aio_reqprio = (short)(cases[i].ioprio & 0xffff);
			cb.aio_rw_flags = cases[i].rw;
			ret = b->submit(ctx, 1, list);
			if (ret == 1) {
				struct timespec ts = { 5, 0 };
				struct io_event ev;

				ret = b->getevents(ctx, 1, 1, &ev, &ts) == 1
					      ? (int)ev.res
					      : -ETIMEDOUT;
				dprintf(p[1], "%s: submitted, res %d\n",
					cases[i].label, ret);
			} else {
				dprintf(p[1], "%s: %s\n", cases[i].label,
					ret < 0 ? evt_errname(-ret) : "?");
			}
		}
		b->destroy(ctx);
		_exit(0);
	}
	close(p[1]);
	in = fdopen(p[0], "r");
	cr_assert(in);
	while (fgets(line, sizeof(line), in)) {
		line[strcspn(line, "\n")] = 0;
		evt_rec(t, "%s", line);
	}
	fclose(in);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	evt_rec(t, "child exit %d",
		WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	close(c);
	close(fd);
}

/* A30.2 DONTCACHE on /dev/zero; A30.3 access mode, after rw_flags. */
ACONFORM(rw_flags_then_access_mode)
{
	void *ctx = aio_ctx(b, 4);
	int fd = aio_tmpfile("/dev/shm", 4096, O_RDWR);
	int rfd = aio_reopen(fd, O_RDONLY), wfd = aio_reopen(fd, O_WRONLY);
	int zero = open("/dev/zero", O_RDONLY | O_CLOEXEC);
	char buf[64];
	struct iocb cb;

	cr_assert(zero >= 0);
	io_prep_pread(&cb, zero, buf, sizeof(buf), 0);
	cb.aio_rw_flags = 0x80; /* RWF_DONTCACHE */
	one(b, t, ctx, "dontcache on /dev/zero", &cb);
	io_prep_pread(&cb, zero, buf, sizeof(buf), 0);
	one(b, t, ctx, "pread /dev/zero", &cb);
	io_prep_pwrite(&cb, rfd, buf, sizeof(buf), 0);
	one(b, t, ctx, "pwrite on O_RDONLY", &cb);
	io_prep_pread(&cb, wfd, buf, sizeof(buf), 0);
	one(b, t, ctx, "pread on O_WRONLY", &cb);
	io_prep_pwrite(&cb, rfd, buf, sizeof(buf), 0);
	cb.aio_rw_flags = 0x200;
	one(b, t, ctx, "pwrite on O_RDONLY, rw 0x200", &cb);
	aio_rec(t, "destroy", b->destroy(ctx));
	close(zero);
	close(wfd);
	close(rfd);
	close(fd);
}

/*
 * A30.2: RWF_NOAPPEND on an append-only inode opened O_APPEND is EPERM at
 * submission; without it the write appends whatever the offset.  Where
 * the file system has no append-only flag, both sides record that.
 */
ACONFORM(noappend_on_append_only_file)
{
	void *ctx = aio_ctx(b, 4);
	int fd = aio_tmpfile("/var/tmp", 64, O_RDWR);
	int flags = 0, afd;
	char out[8] = "";
	struct iocb cb;

	if (ioctl(fd, FS_IOC_GETFLAGS, &flags) != 0 ||
	    (flags |= FS_APPEND_FL, ioctl(fd, FS_IOC_SETFLAGS, &flags)) != 0) {
		evt_rec(t, "no append-only flag here");
		goto out;
	}
	afd = aio_reopen(fd, O_WRONLY | O_APPEND);
	io_prep_pwrite(&cb, afd, (void *)"WXYZ", 4, 0);
	cb.aio_rw_flags = 0x20; /* RWF_NOAPPEND */
	one(b, t, ctx, "pwrite NOAPPEND, append-only", &cb);
	io_prep_pwrite(&cb, afd, (void *)"WXYZ", 4, 0);
	one(b, t, ctx, "pwrite at 0, append-only", &cb);
	evt_rec(t, "  file at 64: %zd %.4s", pread(fd, out, 8, 64), out);
	close(afd);
	flags &= ~FS_APPEND_FL;
	cr_assert_eq(ioctl(fd, FS_IOC_SETFLAGS, &flags), 0);
out:
	aio_rec(t, "destroy", b->destroy(ctx));
	close(fd);
}

/* A30.4: a write to a counter has no write_iter: EINVAL at submission. */
ACONFORM(pwrite_to_counter_is_einval)
{
	void *ctx = aio_ctx(b, 4);
	int efd = b->counter(0, EFD_NONBLOCK);
	uint64_t v = 1;
	struct iovec iov = { &v, 8 };
	struct iocb cb;

	io_prep_pwrite(&cb, efd, &v, 8, 0);
	one(b, t, ctx, "pwrite counter", &cb);
	io_prep_pwritev(&cb, efd, &iov, 1, 0);
	one(b, t, ctx, "pwritev counter", &cb);
	aio_rec_resfd(t, efd, 0);
	aio_rec(t, "destroy", b->destroy(ctx));
	close(efd);
}

/* A30.5, A31: buffers; A30.6: offsets, also on stream files. */
ACONFORM(buffer_and_offset_checks)
{
	void *ctx = aio_ctx(b, 4);
	int fd = aio_tmpfile("/var/tmp", 4096, O_RDWR);
	int efd = b->counter(3, EFD_NONBLOCK);
	int p[2];
	struct iovec iov[2];
	char buf[64], *ro;
	struct iocb cb;

	cr_assert(pipe2(p, O_CLOEXEC) == 0);
	io_prep_pread(&cb, fd, (void *)0xffff800000000000ull, 8, 0);
	one(b, t, ctx, "pread kernel address", &cb);
	io_prep_pread(&cb, fd, (void *)0x7ffffffff000ull, 1, 0);
	one(b, t, ctx, "pread past the top", &cb);
	io_prep_pread(&cb, fd, NULL, 8, 0);
	one(b, t, ctx, "pread NULL", &cb);
	io_prep_pwrite(&cb, fd, NULL, 8, 0);
	one(b, t, ctx, "pwrite NULL", &cb);
	io_prep_pwrite(&cb, fd, NULL, 0, 0);
	one(b, t, ctx, "pwrite NULL 0 bytes", &cb);
	io_prep_pread(&cb, fd, NULL, 8, 8192);
	one(b, t, ctx, "pread NULL past EOF", &cb);
	ro = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert(ro != MAP_FAILED);
	mprotect(ro + 4096, 4096, PROT_READ);
	io_prep_pread(&cb, fd, ro + 4096, 8, 0);
	one(b, t, ctx, "pread into read-only memory", &cb);
	io_prep_pread(&cb, fd, ro + 4000, 200, 0);
	one(b, t, ctx, "pread running into read-only memory", &cb);
	evt_rec(t, "  stored: %s", ro[4095] == aio_pattern(95) ? "yes" : "no");
	munmap(ro, 8192);
	io_prep_preadv(&cb, fd, iov, 1025, 0);
	one(b, t, ctx, "preadv 1025", &cb);
	io_prep_preadv(&cb, fd, (void *)8, 2, 0);
	one(b, t, ctx, "preadv unreadable array", &cb);
	io_prep_preadv(&cb, fd, (void *)8, 0, 0);
	one(b, t, ctx, "preadv 0 segments", &cb);
	iov[0].iov_base = buf;
	iov[0].iov_len = 8;
	iov[1].iov_base = buf;
	iov[1].iov_len = (size_t)-1;
	io_prep_preadv(&cb, fd, iov, 2, 0);
	one(b, t, ctx, "preadv negative segment", &cb);
	iov[1].iov_base = (void *)0xffff800000000000ull;
	iov[1].iov_len = 8;
	io_prep_preadv(&cb, fd, iov, 2, 0);
	one(b, t, ctx, "preadv kernel segment", &cb);
	iov[1].iov_base = NULL;
	io_prep_preadv(&cb, fd, iov, 2, 0);
	one(b, t, ctx, "preadv NULL second segment", &cb);
	io_prep_pread(&cb, fd, buf, 8, -1);
	one(b, t, ctx, "offset -1", &cb);
	io_prep_pread(&cb, fd, buf, 100, INT64_MAX - 10);
	one(b, t, ctx, "offset + len overflows", &cb);
	io_prep_pread(&cb, p[0], buf, 8, -1);
	one(b, t, ctx, "pipe offset -1", &cb);
	io_prep_pread(&cb, efd, buf, 8, -1);
	one(b, t, ctx, "counter offset -1", &cb);
	io_prep_pread(&cb, efd, buf, 8, 12345);
	one(b, t, ctx, "counter offset ignored", &cb);
	aio_rec(t, "destroy", b->destroy(ctx));
	close(p[0]);
	close(p[1]);
	close(efd);
	close(fd);
}

/* A32: each opcode's result on regular files, data included. */
ACONFORM(regular_file_results)
{
	void *ctx = aio_ctx(b, 8);
	size_t d;

	for (d = 0; d < 2; d++) {
		const size_t flen = 1000;
		int fd = aio_tmpfile(dirs[d], flen, O_RDWR);
		int rfd = aio_reopen(fd, O_RDONLY);
		char buf[256], a[16], c[16], out[16];
		struct iovec iov[3];
		struct iocb cb;

		evt_rec(t, "in %s", d ? "shm" : "var");
		memset(buf, '#', sizeof(buf));
		io_prep_pread(&cb, fd, buf, 100, 10);
		one(b, t, ctx, "pread 100 at 10", &cb);
		aio_rec_data(t, "  buf", buf, 100, 10);
		evt_rec(t, "  after: %c", buf[100]);

		memset(buf, '#', sizeof(buf));
		io_prep_pread(&cb, fd, buf, 100, flen - 30);
		one(b, t, ctx, "pread short at EOF", &cb);
		aio_rec_data(t, "  buf", buf, 30, flen - 30);
		evt_rec(t, "  after: %c", buf[30]);

		io_prep_pread(&cb, fd, buf, 100, flen + 10);
		one(b, t, ctx, "pread past EOF", &cb);
		io_prep_pread(&cb, fd, buf, 0, 0);
		one(b, t, ctx, "pread 0 bytes", &cb);

		memset(a, '#', sizeof(a));
		memset(c, '#', sizeof(c));
		iov[0].iov_base = a;
		iov[0].iov_len = 3;
		iov[1].iov_base = NULL;
		iov[1].iov_len = 0;
		iov[2].iov_base = c;
		iov[2].iov_len = 7;
		io_prep_preadv(&cb, fd, iov, 3, 5);
		one(b, t, ctx, "preadv [3,0,7] at 5", &cb);
		aio_rec_data(t, "  seg0", a, 3, 5);
		aio_rec_data(t, "  seg2", c, 7, 8);
		evt_rec(t, "  after: %c %c", a[3], c[7]);

		io_prep_pwrite(&cb, fd, (void *)"WXYZ", 4, 20);
		one(b, t, ctx, "pwrite 4 at 20", &cb);
		iov[0].iov_base = (void *)"ab";
		iov[0].iov_len = 2;
		iov[1].iov_base = (void *)"cde";
		iov[1].iov_len = 3;
		io_prep_pwritev(&cb, fd, iov, 2, flen - 1);
		one(b, t, ctx, "pwritev [2,3] at EOF-1", &cb);
		memset(out, 0, sizeof(out));
		cr_assert_eq(pread(fd, out, 4, 20), 4);
		evt_rec(t, "  file at 20: %.4s", out);
		memset(out, 0, sizeof(out));
		evt_rec(t, "  file at EOF-1: %zd %.5s",
			pread(fd, out, 16, flen - 1), out);

		io_prep_fsync(&cb, fd);
		one(b, t, ctx, "fsync", &cb);
		io_prep_fdsync(&cb, fd);
		one(b, t, ctx, "fdsync", &cb);
		io_prep_fsync(&cb, rfd);
		one(b, t, ctx, "fsync O_RDONLY", &cb);
		close(rfd);
		close(fd);
	}
	aio_rec(t, "destroy", b->destroy(ctx));
}

/* A35: FSYNC/FDSYNC argument rules. */
ACONFORM(fsync_checks)
{
	void *ctx = aio_ctx(b, 4);
	int fd = aio_tmpfile("/var/tmp", 64, O_RDWR);
	int efd = b->counter(0, EFD_NONBLOCK);
	int zero = open("/dev/zero", O_RDONLY | O_CLOEXEC);
	struct iocb cb;

	io_prep_fsync(&cb, fd);
	cb.u.c.buf = (void *)1;
	one(b, t, ctx, "fsync buf", &cb);
	io_prep_fsync(&cb, fd);
	cb.u.c.nbytes = 1;
	one(b, t, ctx, "fsync nbytes", &cb);
	io_prep_fsync(&cb, fd);
	cb.u.c.offset = 1;
	one(b, t, ctx, "fsync offset", &cb);
	io_prep_fdsync(&cb, fd);
	cb.aio_rw_flags = 1;
	one(b, t, ctx, "fdsync rw_flags", &cb);
	io_prep_fsync(&cb, fd);
	cb.u.c.flags = IOCB_FLAG_IOPRIO_;
	cb.aio_reqprio = IOPRIO_VALUE(7, 0);
	one(b, t, ctx, "fsync bad ioprio is not checked", &cb);
	io_prep_fsync(&cb, efd);
	one(b, t, ctx, "fsync counter", &cb);
	io_prep_fdsync(&cb, zero);
	one(b, t, ctx, "fdsync /dev/zero", &cb);
	aio_rec(t, "destroy", b->destroy(ctx));
	close(zero);
	close(efd);
	close(fd);
}

/* A33: PREAD of a counter. */
ACONFORM(pread_of_a_counter)
{
	void *ctx = aio_ctx(b, 8);
	int efd = b->counter(5, EFD_NONBLOCK);
	int sem = b->counter(2, EFD_NONBLOCK | EFD_SEMAPHORE);
	int blk = b->counter(0, 0);
	uint64_t v;
	struct iocb cb;

	v = 0;
	io_prep_pread(&cb, efd, &v, 8, 0);
	one(b, t, ctx, "pread counter 5", &cb);
	evt_rec(t, "  value %llu", (unsigned long long)v);
	v = 0;
	io_prep_pread(&cb, sem, &v, 16, 0);
	one(b, t, ctx, "pread semaphore, 16 bytes", &cb);
	evt_rec(t, "  value %llu", (unsigned long long)v);
	io_prep_pread(&cb, sem, &v, 7, 0);
	one(b, t, ctx, "pread 7 bytes", &cb);
	io_prep_pread(&cb, efd, &v, 8, 0);
	one(b, t, ctx, "pread nonblocking at 0", &cb);
	io_prep_pread(&cb, blk, &v, 8, 0);
	cb.aio_rw_flags = 0x8; /* RWF_NOWAIT */
	one(b, t, ctx, "pread RWF_NOWAIT at 0", &cb);
	cr_assert_eq(write(efd, &(uint64_t){ 4 }, 8), 8);
	io_prep_pread(&cb, efd, NULL, 8, 0);
	one(b, t, ctx, "pread into NULL (consumes, E16)", &cb);
	io_prep_pread(&cb, efd, &v, 8, 0);
	one(b, t, ctx, "  then", &cb);
	/* A58: the counter is its own RESFD. */
	cr_assert_eq(write(efd, &(uint64_t){ 4 }, 8), 8);
	v = 0;
	io_prep_pread(&cb, efd, &v, 8, 0);
	io_set_eventfd(&cb, efd);
	one(b, t, ctx, "pread with resfd = itself", &cb);
	evt_rec(t, "  value %llu", (unsigned long long)v);
	aio_rec_resfd(t, efd, 1);
	aio_rec(t, "destroy", b->destroy(ctx));
	close(blk);
	close(sem);
	close(efd);
}

struct late_write {
	int fd;
	volatile bool done;
};

static void write_three(void *arg)
{
	struct late_write *w = arg;
	uint64_t v = 3;

	w->done = true;
	cr_assert_eq(write(w->fd, &v, 8), 8);
}

/* A33: a read of an empty blocking counter completes on the next write. */
ACONFORM(pread_of_empty_counter_completes_on_write)
{
	void *ctx = aio_ctx(b, 4);
	struct late_write w = { b->counter(0, 0), false };
	struct aio_later later;
	uint64_t v = 0;
	struct iocb cb, *list[1] = { &cb };

	io_prep_pread(&cb, w.fd, &v, 8, 0);
	aio_later_start(&later, 300, write_three, &w);
	aio_rec(t, "submit", b->submit(ctx, 1, list));
	aio_later_join(&later);
	aio_collect(b, t, ctx, 1, list, 1, false);
	evt_rec(t, "  value %llu", (unsigned long long)v);
	aio_rec(t, "destroy", b->destroy(ctx));
	close(w.fd);
}

/*
 * A33, a documented difference: on Linux, a read of an empty blocking
 * eventfd holds io_submit until the write; a signal ends that submit and
 * the iocb completes -EINTR.  On the mount the daemon accepts the request
 * at once and parks it (fused/aio_submit.c): io_submit returns 1 before the
 * write, and the read completes when the counter becomes readable.  Each
 * backend runs its own half, and each half is checked as documented.
 */
static void blocks_submit_body(const struct aio_backend *b,
			       struct evt_transcript *t)
{
	void *ctx = aio_ctx(b, 4);
	struct late_write w = { b->counter(0, 0), false };
	struct aio_later later;
	uint64_t v = 0;
	struct iocb cb, *list[1] = { &cb };

	io_prep_pread(&cb, w.fd, &v, 8, 0);
	aio_later_start(&later, 300, write_three, &w);
	aio_rec(t, "submit", b->submit(ctx, 1, list));
	evt_rec(t, "returned after the write: %s", w.done ? "yes" : "no");
	aio_later_join(&later);
	aio_collect(b, t, ctx, 1, list, 1, false);
	evt_rec(t, "value %llu", (unsigned long long)v);
	aio_rec(t, "destroy", b->destroy(ctx));
	close(w.fd);
}

Test(aio_difference, pread_of_empty_counter_does_not_block_submit,
     .timeout = 30)
{
	struct evt_transcript k = { 0 }, m = { 0 };

	evt_shared_mnt();
	blocks_submit_body(&aio_backend_kernel, &k);
	blocks_submit_body(&aio_backend_mount, &m);
	cr_expect(
		strstr(k.buf, "submit: ret=1\nreturned after the write: yes\n"),
		"kernel (A33) changed:\n%s", k.buf);
	cr_expect(
		strstr(m.buf, "submit: ret=1\nreturned after the write: no\n"),
		"mount, documented: submit returns at once:\n%s", m.buf);
	cr_expect(strstr(k.buf, "value 3\n") && strstr(m.buf, "value 3\n"),
		  "both read the written value:\n%s---\n%s", k.buf, m.buf);
	evt_transcript_free(&k);
	evt_transcript_free(&m);
}

/* The kernel's half of the signal case: the blocked submit is ended. */
static void interrupted_kernel(struct evt_transcript *t)
{
	const struct aio_backend *b = &aio_backend_kernel;
	void *ctx = aio_ctx(b, 4);
	int blk = b->counter(0, 0);
	struct aio_pinger ping;
	uint64_t v = 0;
	struct iocb cb, *list[1] = { &cb };

	aio_handle_signal(SIGUSR1, true);
	io_prep_pread(&cb, blk, &v, 8, 0);
	aio_pinger_start(&ping, pthread_self(), SIGUSR1, 300, 200);
	aio_rec(t, "submit interrupted", b->submit(ctx, 1, list));
	aio_pinger_stop(&ping);
	aio_collect(b, t, ctx, 1, list, 1, false);
	aio_default_signal(SIGUSR1);
	aio_rec(t, "destroy", b->destroy(ctx));
	close(blk);
}

/* The mount's half: signals do nothing to the parked read, a write ends it. */
static void interrupted_mount(struct evt_transcript *t)
{
	const struct aio_backend *b = &aio_backend_mount;
	void *ctx = aio_ctx(b, 4);
	struct late_write w = { b->counter(0, 0), false };
	struct aio_pinger ping;
	struct aio_later later;
	uint64_t v = 0;
	struct iocb cb, *list[1] = { &cb };

	aio_handle_signal(SIGUSR1, true);
	io_prep_pread(&cb, w.fd, &v, 8, 0);
	aio_pinger_start(&ping, pthread_self(), SIGUSR1, 100, 50);
	aio_rec(t, "submit", b->submit(ctx, 1, list));
	aio_pinger_stop(&ping);
	aio_default_signal(SIGUSR1);
	aio_later_start(&later, 100, write_three, &w);
	aio_later_join(&later);
	aio_collect(b, t, ctx, 1, list, 1, false);
	evt_rec(t, "value %llu", (unsigned long long)v);
	aio_rec(t, "destroy", b->destroy(ctx));
	close(w.fd);
}

Test(aio_difference, pread_of_empty_counter_is_not_interrupted_on_mount,
     .timeout = 30)
{
	struct evt_transcript k = { 0 }, m = { 0 };

	evt_shared_mnt();
	interrupted_kernel(&k);
	interrupted_mount(&m);
	cr_expect(strstr(k.buf, "submit interrupted: ret=1\n") &&
			  strstr(k.buf, "res=EINTR "),
		  "kernel (A33) changed:\n%s", k.buf);
	cr_expect(
		strstr(m.buf, "submit: ret=1\n") && strstr(m.buf, "value 3\n"),
		"mount, documented: the read waits for the write:\n%s", m.buf);
	evt_transcript_free(&k);
	evt_transcript_free(&m);
}

/*
 * A23: buffered regular-file I/O and /dev/zero run inside io_submit: when
 * it returns, the RESFD counter has been signalled and the event can be
 * collected without waiting.  Checked with no wait at all: a non-blocking
 * read of the counter and a zero-timeout getevents right after the
 * submit, many times over, on tmpfs, ext4 and /dev/zero, reads and
 * writes.
 */
ACONFORM(buffered_io_completes_inside_submit)
{
	enum { ROUNDS = 50 };
	void *ctx = aio_ctx(b, 4);
	int files[3], r = b->counter(0, EFD_NONBLOCK);
	static const char *const names[] = { "tmpfs", "ext4", "/dev/zero" };
	struct iocb cb, *list[1] = { &cb };
	struct timespec zero = { 0, 0 };
	struct io_event ev;
	char buf[4096];
	uint64_t v;
	int i, f, signalled, collected;

	files[0] = aio_tmpfile("/dev/shm", 65536, O_RDWR);
	files[1] = aio_tmpfile("/var/tmp", 65536, O_RDWR);
	files[2] = open("/dev/zero", O_RDONLY | O_CLOEXEC);
	cr_assert(files[2] >= 0);
	for (f = 0; f < 3; f++) {
		signalled = collected = 0;
		for (i = 0; i < ROUNDS; i++) {
			if (f < 2 && i % 2)
				io_prep_pwrite(&cb, files[f], buf, sizeof(buf),
					       (i % 16) * 4096);
			else
				io_prep_pread(&cb, files[f], buf, sizeof(buf),
					      (i % 16) * 4096);
			io_set_eventfd(&cb, r);
			cr_assert_eq(b->submit(ctx, 1, list), 1);
			if (read(r, &v, sizeof(v)) == sizeof(v) && v == 1)
				signalled++;
			if (b->getevents(ctx, 1, 1, &ev, &zero) == 1)
				collected++;
			else
				cr_assert_eq(b->getevents(ctx, 1, 1, &ev, NULL),
					     1);
			while (read(r, &v, sizeof(v)) == sizeof(v))
				;
		}
		evt_rec(t,
			"%s: signalled at once %d of %d, collected at once %d",
			names[f], signalled, ROUNDS, collected);
	}
	aio_rec(t, "destroy", b->destroy(ctx));
	for (f = 0; f < 3; f++)
		close(files[f]);
	close(r);
}
