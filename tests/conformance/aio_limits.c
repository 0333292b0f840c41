// SPDX-License-Identifier: GPL-2.0-only
/*
 * The submitter's limits on AIO writes: its RLIMIT_FSIZE, checked when
 * the write runs (at submit for buffered regular files), and SIGPIPE on a
 * pipe with no reader, sent to the submitter.  On the mount the daemon
 * does the writes and applies the submitter's limit and signals, so both
 * sides must match.
 *
 * The records are the submitter's own write(2)s of the control file,
 * which the limit caps too (from position 0 on a stream): the library
 * keeps them under it (client/aio_submit.c), so the writes here stay
 * small.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aio_backend.h"

#define LIM 65536

/* One PWRITE of @n bytes at @off (or appended with O_APPEND), recorded. */
static void pwrite_rec(const struct aio_backend *b, struct evt_transcript *t,
		       void *ctx, const char *label, int fd, size_t n,
		       long long off)
{
	static char data[8192];
	struct iocb cb, *list[1] = { &cb };
	int ret;

	memset(data, 'f', sizeof(data));
	io_prep_pwrite(&cb, fd, data, n, off);
	ret = b->submit(ctx, 1, list);
	aio_rec(t, label, ret);
	if (ret == 1)
		aio_collect(b, t, ctx, 1, list, 1, false);
	evt_rec(t, "%s: SIGXFSZ %d", label, (int)aio_sig_count);
	aio_sig_count = 0;
}

static void fsize_cases(const struct aio_backend *b, struct evt_transcript *t,
			const char *dir)
{
	struct rlimit old, lim;
	void *ctx = aio_ctx(b, 8);
	int fd = aio_tmpfile(dir, 0, O_RDWR), afd;
	struct stat st;

	evt_rec(t, "dir %s", dir);
	aio_handle_signal(SIGXFSZ, true);
	cr_assert_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = LIM;
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
	pwrite_rec(b, t, ctx, "below", fd, 4096, 0);
	pwrite_rec(b, t, ctx, "straddle", fd, 8192, LIM - 4096);
	pwrite_rec(b, t, ctx, "at the limit", fd, 4096, LIM);
	pwrite_rec(b, t, ctx, "past the limit", fd, 100, LIM + 5000);
	pwrite_rec(b, t, ctx, "0 bytes at the limit", fd, 0, LIM);
	pwrite_rec(b, t, ctx, "0 bytes past it", fd, 0, LIM + 4096);
	pwrite_rec(b, t, ctx, "ends at the limit", fd, 4096, LIM - 4096);
	afd = aio_reopen(fd, O_WRONLY | O_APPEND);
	pwrite_rec(b, t, ctx, "O_APPEND at the limit", afd, 10, 0);
	cr_assert_eq(ftruncate(fd, LIM - 10), 0);
	pwrite_rec(b, t, ctx, "O_APPEND straddle", afd, 100, 0);
	cr_assert_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
	aio_default_signal(SIGXFSZ);
	cr_assert_eq(fstat(fd, &st), 0);
	evt_rec(t, "size %lld", (long long)st.st_size);
	aio_rec(t, "destroy", b->destroy(ctx));
	close(afd);
	close(fd);
}

/*
 * Straddling the limit is a short write, at or past it -EFBIG with
 * SIGXFSZ to the submitter (a handler counts it), 0 bytes anywhere is 0
 * with no signal; O_APPEND is checked at the file's end.
 */
ACONFORM(rlimit_fsize_is_the_submitters)
{
	fsize_cases(b, t, "/var/tmp");
	fsize_cases(b, t, "/dev/shm");
}

/* A PWRITE to a pipe whose reader is gone: -EPIPE and SIGPIPE to the
 * submitter; with RWF_NOSIGNAL, no signal. */
ACONFORM(sigpipe_is_the_submitters)
{
	void *ctx = aio_ctx(b, 4);
	struct iocb cb, *list[1] = { &cb };
	static char abc[3] = "abc";
	int p[2], ret;

	aio_handle_signal(SIGPIPE, true);
	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	close(p[0]);
	io_prep_pwrite(&cb, p[1], abc, 3, 0);
	ret = b->submit(ctx, 1, list);
	aio_rec(t, "pipe without reader", ret);
	if (ret == 1)
		aio_collect(b, t, ctx, 1, list, 1, false);
	evt_rec(t, "SIGPIPE %d", (int)aio_sig_count);
	aio_sig_count = 0;
	io_prep_pwrite(&cb, p[1], abc, 3, 0);
	cb.aio_rw_flags = 0x100; /* RWF_NOSIGNAL */
	ret = b->submit(ctx, 1, list);
	aio_rec(t, "RWF_NOSIGNAL", ret);
	if (ret == 1)
		aio_collect(b, t, ctx, 1, list, 1, false);
	evt_rec(t, "SIGPIPE %d", (int)aio_sig_count);
	aio_default_signal(SIGPIPE);
	close(p[1]);
	aio_rec(t, "destroy", b->destroy(ctx));
}
