// SPDX-License-Identifier: GPL-2.0-only
/*
 * Where the daemon cannot reach a submitter's memory (process_vm_readv
 * refused: another user's process without privilege, a Yama scope), the
 * library sends the data inline in the records, as before whole
 * transfers, and the README's differences for that case hold: one
 * request moves at most EVFDFS_IO_MAX_BYTES, a partly readable buffer
 * gives -EFAULT, and the records fit under the submitter's RLIMIT_FSIZE.
 * The daemon says so once in its log.  The refusal is forced with
 * EVFDFS_AIOD_NO_DIRECT=1 on a mount of its own (the test runs as the
 * daemon's user, whom the kernel would let in).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <evfdfs.h>

#include "aio_lib.h"
#include "integ.h"

static void inline_mount(struct evt_mount *m)
{
	setenv("EVFDFS_AIOD_NO_DIRECT", "1", 1);
	evt_mount_or_skip(m, NULL);
	unsetenv("EVFDFS_AIOD_NO_DIRECT");
}

static int64_t one(struct evfdfs_io_ctx *ctx, struct iocb *cb)
{
	struct timespec tmo = { 10, 0 };
	struct iocb *list[1] = { cb };
	struct io_event ev;

	cr_assert_eq(evfdfs_io_submit(ctx, 1, list), 1);
	cr_assert_eq(evfdfs_io_getevents(ctx, 1, 1, &ev, &tmo), 1);
	return (int64_t)ev.res;
}

/* How many lines of @path contain @what. */
static int log_count(const char *path, const char *what)
{
	char line[1024];
	FILE *f = fopen(path, "re");
	int n = 0;

	cr_assert(f, "%s", path);
	while (fgets(line, sizeof(line), f))
		n += strstr(line, what) != NULL;
	fclose(f);
	return n;
}

/*
 * Inline: a 3 MiB PWRITE and PREAD stop at EVFDFS_IO_MAX_BYTES, a PWRITE
 * from a buffer whose second page is PROT_NONE is -EFAULT; two contexts,
 * one line in the log.
 */
INTEG_TEST(aio_inline, transfers_are_capped_and_logged_once, 60)
{
	const size_t len = 3u << 20;
	struct evfdfs_io_ctx *ctx[2] = { NULL, NULL };
	char path[PATH_MAX];
	unsigned char *p = malloc(len);
	struct evt_mount m;
	struct iocb cb;
	char *q;
	int fd, i;

	cr_assert(p);
	memset(p, 'a', len);
	inline_mount(&m);
	at_make_file(path, sizeof(path), "/dev/shm", 0);
	fd = open(path, O_RDWR | O_CLOEXEC);
	cr_assert(fd >= 0);
	for (i = 0; i < 2; i++) {
		cr_assert_eq(evfdfs_io_setup(m.dir, 4, &ctx[i]), 0);
		at_prep_pwrite(&cb, fd, p, len, 0);
		cr_expect_eq(one(ctx[i], &cb), (int64_t)EVFDFS_IO_MAX_BYTES);
		at_prep_pread(&cb, fd, p, len, 0);
		cr_expect_eq(one(ctx[i], &cb), (int64_t)EVFDFS_IO_MAX_BYTES);
	}
	q = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert(q != MAP_FAILED);
	memset(q, 'x', 4096);
	cr_assert_eq(mprotect(q + 4096, 4096, PROT_NONE), 0);
	at_prep_pwrite(&cb, fd, q, 8192, 0);
	cr_expect_eq(one(ctx[0], &cb), -EFAULT);
	for (i = 0; i < 2; i++)
		cr_expect_eq(evfdfs_io_destroy(ctx[i]), 0);
	cr_expect_eq(log_count(m.log, "out of reach"), 1,
		     "the daemon says it once");
	munmap(q, 8192);
	free(p);
	close(fd);
	unlink(path);
	evt_unmount_or_fail(&m);
}

static bool take_pending(int sig)
{
	sigset_t pend, one;
	int got;

	cr_assert_eq(sigpending(&pend), 0);
	if (!sigismember(&pend, sig))
		return false;
	sigemptyset(&one);
	sigaddset(&one, sig);
	cr_assert_eq(sigwait(&one, &got), 0);
	return true;
}

/*
 * Inline, the records are the submitter's own write(2) of the control file, which
 * the kernel cuts at the submitter's RLIMIT_FSIZE (position 0 on a
 * stream).  The library sizes them to fit: with the limit at 4 KiB, one
 * PWRITE of 8 KiB is a short write (the part that fits in a record under
 * the limit, as a write beyond EVFDFS_IO_MAX_BYTES is short), and eight
 * PWRITEs of 400 bytes below the limit, 3.9 KiB of records, are all
 * accepted and written whole.  Linux cuts the 8 KiB write at 4096, so the
 * kernel side is not compared here; the limit on the I/O itself is the
 * submitter's on both (conformance: rlimit_fsize_is_the_submitters).
 */
INTEG_TEST(aio_inline, records_fit_under_the_submitters_fsize_limit, 60)
{
	enum { LIM = 4096, N = 8, SZ = 400 };
	static char data[8192], back[8192];
	struct evt_mount m;
	struct evfdfs_io_ctx *ctx = NULL;
	struct timespec tmo = { 10, 0 };
	struct iocb cbs[N], *list[N];
	struct io_event ev[N];
	struct rlimit old_lim, lim;
	char path[PATH_MAX];
	sigset_t set, old;
	struct stat st;
	int64_t res;
	int f, i, got;

	for (i = 0; i < (int)sizeof(data); i++)
		data[i] = (char)('A' + i % 26);
	sigemptyset(&set);
	sigaddset(&set, SIGXFSZ);
	cr_assert_eq(sigprocmask(SIG_BLOCK, &set, &old), 0);
	inline_mount(&m);
	cr_assert_eq(evfdfs_io_setup(m.dir, N, &ctx), 0);
	at_make_file(path, sizeof(path), "/var/tmp", 0);
	f = open(path, O_RDWR | O_CLOEXEC);
	cr_assert(f >= 0);
	cr_assert_eq(getrlimit(RLIMIT_FSIZE, &old_lim), 0);
	lim = old_lim;
	lim.rlim_cur = LIM;
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);

	at_prep_pwrite(&cbs[0], f, data, sizeof(data), 0);
	list[0] = &cbs[0];
	cr_expect_eq(evfdfs_io_submit(ctx, 1, list), 1, "the 8 KiB PWRITE");
	cr_assert_eq(evfdfs_io_getevents(ctx, 1, 1, ev, &tmo), 1);
	res = (int64_t)ev[0].res;
	cr_expect(res > 0 && res <= LIM - 88, "res %lld", (long long)res);

	for (i = 0; i < N; i++) {
		at_prep_pwrite(&cbs[i], f, data + i * SZ, SZ, i * SZ);
		list[i] = &cbs[i];
	}
	cr_expect_eq(evfdfs_io_submit(ctx, N, list), N, "8 x 400 bytes");
	for (got = 0; got < N;) {
		i = evfdfs_io_getevents(ctx, 1, N - got, ev + got, &tmo);
		cr_assert(i > 0, "%d of %d events", got, N);
		got += i;
	}
	for (i = 0; i < N; i++)
		cr_expect_eq((int64_t)ev[i].res, SZ, "res %lld",
			     (long long)ev[i].res);
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &old_lim), 0);
	cr_assert_eq(fstat(f, &st), 0);
	cr_expect_eq(st.st_size, (res > N * SZ ? res : N * SZ));
	cr_assert_eq(pread(f, back, N * SZ, 0), N * SZ);
	cr_expect_eq(memcmp(back, data, N * SZ), 0, "the file's data");
	close(f);
	unlink(path);
	cr_expect_eq(evfdfs_io_destroy(ctx), 0);
	cr_expect_not(take_pending(SIGXFSZ), "SIGXFSZ sent to the submitter");
	cr_assert_eq(sigprocmask(SIG_SETMASK, &old, NULL), 0);
	evt_unmount_or_fail(&m);
}
