// SPDX-License-Identifier: GPL-2.0-only
/*
 * The I/O opcodes through the control file, each case run on the kernel's
 * AIO and on the mount and compared (A30-A36): PREAD, PWRITE, PREADV,
 * PWRITEV, FSYNC, FDSYNC on a tmpfs file and on a disk file, O_DIRECT,
 * and thousands of iocbs in one write.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "aio_lib.h"

/* Submit one iocb, wait for its event, record res and the data read. */
static void one(struct at_be *b, struct evt_transcript *t, const char *what,
		struct iocb *cb, const void *buf, size_t show)
{
	struct io_event ev;
	char rb[64], hex[80];
	int ret = at_be_submit1(b, cb), n = 0;
	size_t i;

	if (ret == 1)
		n = at_be_getevents(b, 1, 1, &ev, 10000);
	hex[0] = '\0';
	if (n == 1 && ev.res > 0 && buf)
		for (i = 0; i < show && i < (size_t)ev.res && i < 32; i++)
			snprintf(hex + 2 * i, 3, "%02x",
				 ((const unsigned char *)buf)[i]);
	evt_rec(t, "%s: submit %d events %d %s data %s", what, ret, n,
		n == 1 ? at_res(ev.res, rb, sizeof(rb)) : "-", hex);
	if (n == 1) {
		cr_expect_eq(ev.res2, 0, "res2 is always 0 (A53)");
		cr_expect_eq(ev.obj, (uintptr_t)cb, "obj is the iocb (A51)");
	}
}

static void io_case(struct at_be *b, struct evt_transcript *t, void *arg)
{
	const char *dir = arg;
	char path[PATH_MAX], buf[256], seg1[3], seg2[7], w1[] = "AB",
							 w2[] = "cdef";
	struct iovec rv[3] = { { seg1, 3 }, { buf, 0 }, { seg2, 7 } };
	struct iovec wv[2] = { { w1, 2 }, { w2, 4 } };
	struct iocb cb;
	int fd;

	at_make_file(path, sizeof(path), dir, 8192);
	fd = open(path, O_RDWR | O_CLOEXEC);
	cr_assert(fd >= 0);

	at_prep_pread(&cb, fd, buf, 100, 10);
	cb.aio_data = 0x1122334455667788ull;
	one(b, t, "pread 100@10", &cb, buf, 16);
	at_prep_pread(&cb, fd, buf, 100, 8150);
	one(b, t, "pread at EOF (A32)", &cb, buf, 16);
	at_prep_pread(&cb, fd, buf, 100, 100000);
	one(b, t, "pread past EOF", &cb, buf, 16);
	at_prep_pwrite(&cb, fd, "hello", 5, 4);
	one(b, t, "pwrite 5@4", &cb, NULL, 0);
	at_prep_pread(&cb, fd, buf, 16, 0);
	one(b, t, "pread after pwrite", &cb, buf, 16);
	memset(seg1, 0, sizeof(seg1));
	memset(seg2, 0, sizeof(seg2));
	at_prep_preadv(&cb, fd, rv, 3, 2);
	one(b, t, "preadv 3+0+7@2", &cb, seg2, 7);
	evt_rec(t, "seg1 %.3s", seg1);
	at_prep_pwritev(&cb, fd, wv, 2, 20);
	one(b, t, "pwritev 2+4@20", &cb, NULL, 0);
	at_prep_pread(&cb, fd, buf, 8, 20);
	one(b, t, "pread after pwritev", &cb, buf, 8);
	at_prep_preadv(&cb, fd, rv, 0, 0);
	one(b, t, "preadv of 0 iovecs", &cb, NULL, 0);
	at_prep_fsync(&cb, fd, false);
	one(b, t, "fsync (A36)", &cb, NULL, 0);
	at_prep_fsync(&cb, fd, true);
	one(b, t, "fdsync", &cb, NULL, 0);
	at_prep_pwrite(&cb, fd, "xyz", 3, 10000);
	one(b, t, "pwrite extends", &cb, NULL, 0);
	at_prep_pread(&cb, fd, buf, 8, 9998);
	one(b, t, "pread the hole's end", &cb, buf, 8);
	close(fd);
	unlink(path);
}

Test(aio_io, opcodes_on_tmpfs_match_kernel, .timeout = 60)
{
	at_compare(evt_shared_mnt(), io_case, (void *)"/dev/shm");
}

Test(aio_io, opcodes_on_disk_match_kernel, .timeout = 60)
{
	at_compare(evt_shared_mnt(), io_case, (void *)"/var/tmp");
}

/* O_DIRECT: aligned transfers work, a misaligned one fails in res (A31). */
static void direct_case(struct at_be *b, struct evt_transcript *t, void *arg)
{
	char path[PATH_MAX];
	void *buf = NULL;
	struct iocb cb;
	int fd;

	(void)arg;
	at_make_file(path, sizeof(path), "/var/tmp", 16384);
	fd = open(path, O_RDWR | O_DIRECT | O_CLOEXEC);
	if (fd < 0) {
		evt_rec(t, "no O_DIRECT on /var/tmp");
		unlink(path);
		return;
	}
	cr_assert_eq(posix_memalign(&buf, 4096, 8192), 0);
	memset(buf, 0x5a, 8192);
	at_prep_pread(&cb, fd, buf, 4096, 4096);
	one(b, t, "direct pread 4096@4096", &cb, buf, 8);
	at_prep_pread(&cb, fd, buf, 100, 3);
	one(b, t, "direct pread misaligned", &cb, buf, 8);
	at_prep_pwrite(&cb, fd, buf, 4096, 8192);
	one(b, t, "direct pwrite 4096@8192", &cb, NULL, 0);
	free(buf);
	close(fd);
	unlink(path);
}

Test(aio_io, o_direct_matches_kernel, .timeout = 60)
{
	at_compare(evt_shared_mnt(), direct_case, NULL);
}

/* Thousands of iocbs in one write: all accepted, every event right. */
#define MANY 4000

static void many_case(struct at_be *b, struct evt_transcript *t, void *arg)
{
	static struct iocb cbs[MANY];
	static struct iocb *ptrs[MANY];
	static char bufs[MANY][16];
	static struct io_event evs[MANY];
	char path[PATH_MAX];
	int fd, i, n = 0, got, bad = 0;

	(void)arg;
	at_make_file(path, sizeof(path), "/dev/shm", MANY * 16);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	for (i = 0; i < MANY; i++) {
		at_prep_pread(&cbs[i], fd, bufs[i], 16, (int64_t)i * 16);
		cbs[i].aio_data = (uint64_t)i;
		ptrs[i] = &cbs[i];
	}
	evt_rec(t, "submitted %d", at_be_submit(b, ptrs, MANY, NULL));
	while (n < MANY &&
	       (got = at_be_getevents(b, 1, MANY - n, evs + n, 20000)) > 0)
		n += got;
	evt_rec(t, "events %d", n);
	for (i = 0; i < n; i++) {
		size_t k, idx = evs[i].data;

		if (evs[i].res != 16 || idx >= MANY) {
			bad++;
			continue;
		}
		for (k = 0; k < 16; k++)
			if ((unsigned char)bufs[idx][k] !=
			    (unsigned char)((idx * 16 + k) % 251))
				bad++;
	}
	evt_rec(t, "bad %d", bad);
	close(fd);
	unlink(path);
}

Test(aio_io, thousands_of_iocbs_in_one_write, .timeout = 120)
{
	struct evt_transcript tk = { 0 }, tm = { 0 };
	struct at_be b;

	b = (struct at_be){ 0 };
	at_be_setup(&b, NULL, MANY);
	many_case(&b, &tk, NULL);
	at_be_destroy(&b);
	at_be_setup(&b, evt_shared_mnt(), MANY);
	many_case(&b, &tm, NULL);
	at_be_destroy(&b);
	cr_expect_str_eq(tm.buf, tk.buf, "kernel:\n%s\nmount:\n%s", tk.buf,
			 tm.buf);
	cr_expect(strstr(tm.buf, "submitted 4000"), "%s", tm.buf);
	evt_transcript_free(&tk);
	evt_transcript_free(&tm);
}

struct drainer {
	int fd;
	size_t want, got;
};

static void *drainer_main(void *arg)
{
	struct drainer *d = arg;
	char buf[8192];
	ssize_t n;

	while (d->got < d->want && (n = read(d->fd, buf, sizeof(buf))) > 0)
		d->got += (size_t)n;
	return NULL;
}

/*
 * Blocking transfers on pipes and sockets.  Linux runs them inside
 * io_submit, holding the submitter there until they can complete; the
 * mount accepts them at once and completes them when the kernel reports
 * readiness (no thread waits): a read of an empty pipe completes when data
 * comes, a write larger than the pipe completes, whole, once a reader has
 * drained it, and O_NONBLOCK still means EAGAIN.
 */
Test(aio_io, streams_wait_without_holding_the_submitter, .timeout = 60)
{
	const char *mnt = evt_shared_mnt();
	static char big[200 * 1024];
	struct drainer d;
	struct at_be b;
	struct io_event ev;
	struct iocb cb;
	char buf[64];
	pthread_t th;
	int p[2], s[2], efd;

	at_be_setup(&b, mnt, 8);
	cr_assert_eq(pipe(p), 0);
	at_prep_pread(&cb, p[0], buf, sizeof(buf), 0);
	cr_assert_eq(at_be_submit1(&b, &cb), 1, "accepted, not blocked");
	cr_expect_eq(at_be_getevents(&b, 1, 1, &ev, 100), 0);
	cr_assert_eq(write(p[1], "later", 5), 5);
	cr_assert_eq(at_be_getevents(&b, 1, 1, &ev, 10000), 1);
	cr_expect_eq(ev.res, 5);
	cr_expect_eq(memcmp(buf, "later", 5), 0);

	memset(big, 'b', sizeof(big));
	at_prep_pwrite(&cb, p[1], big, sizeof(big), 0);
	cr_assert_eq(at_be_submit1(&b, &cb), 1);
	d = (struct drainer){ .fd = p[0], .want = sizeof(big) };
	cr_assert_eq(pthread_create(&th, NULL, drainer_main, &d), 0);
	cr_assert_eq(at_be_getevents(&b, 1, 1, &ev, 20000), 1);
	cr_expect_eq(ev.res, (int64_t)sizeof(big), "a whole blocking write");
	pthread_join(th, NULL);
	cr_expect_eq(d.got, sizeof(big));

	cr_assert_eq(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
	at_prep_pread(&cb, p[0], buf, sizeof(buf), 0);
	cr_assert_eq(at_be_submit1(&b, &cb), 1);
	cr_assert_eq(at_be_getevents(&b, 1, 1, &ev, 10000), 1);
	cr_expect_eq(ev.res, -EAGAIN, "O_NONBLOCK");

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, s), 0);
	at_prep_pread(&cb, s[0], buf, sizeof(buf), 0);
	cr_assert_eq(at_be_submit1(&b, &cb), 1);
	cr_assert_eq(write(s[1], "sock", 4), 4);
	cr_assert_eq(at_be_getevents(&b, 1, 1, &ev, 10000), 1);
	cr_expect_eq(ev.res, 4);

	/* Closed while waiting: -EINTR, its RESFD signalled. */
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	at_prep_pread(&cb, s[0], buf, sizeof(buf), 0);
	at_set_resfd(&cb, efd);
	cr_assert_eq(at_be_submit1(&b, &cb), 1);
	at_be_destroy(&b);
	cr_expect_eq(at_wait_count(efd, 1), 1);
	cr_assert_eq(write(s[1], "kept", 4), 4);
	cr_expect_eq(read(s[0], buf, sizeof(buf)), 4, "nothing was consumed");
	close(efd);
	close(s[0]);
	close(s[1]);
	close(p[0]);
	close(p[1]);
}
