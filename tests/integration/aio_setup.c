// SPDX-License-Identifier: GPL-2.0-only
/*
 * The AIO control file's framing: SETUP (A10-A12), capacity, the
 * io_submit return rule (A21), malformed records, and how reads and poll
 * of the control file behave.  Raw records, no client library.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "aio_lib.h"

static int open_aio(const char *mnt, int oflags)
{
	char path[PATH_MAX];
	int fd;

	evt_path(path, sizeof(path), mnt, "aio");
	fd = open(path, O_RDWR | O_CLOEXEC | oflags);
	cr_assert(fd >= 0, "open %s: %s", path, strerror(errno));
	return fd;
}

static ssize_t setup_on(int fd, uint32_t nr, uint32_t flags)
{
	struct at_rec r = { 0 };
	ssize_t ret;

	at_rec_setup(&r, nr, flags);
	ret = at_write(fd, &r);
	at_rec_free(&r);
	return ret;
}

/*
 * A10, A11, A12: the errno of io_setup for each nr_events, kernel and mount
 * alike (the mount's default aio_max is aio-max-nr's default, 65536).
 * Exactly 65536 is left out: the kernel's answer depends on what other
 * processes (this daemon among them) hold of aio-nr at that moment.
 */
Test(aio_setup, nr_events_rules_match_io_setup, .timeout = 30)
{
	static const uint32_t nrs[] = { 0,	     1,		 128,
					65537,	     4194304,	 4194305,
					0x80000000u, 0xffffffffu };
	const char *mnt = evt_shared_mnt();
	char kb[64], mb[64];
	size_t i;

	for (i = 0; i < sizeof(nrs) / sizeof(nrs[0]); i++) {
		int fd = open_aio(mnt, 0);
		int kernel = at_ksetup_err(nrs[i]);
		ssize_t mount = setup_on(fd, nrs[i], 0);

		close(fd);
		cr_expect_str_eq(at_res(mount < 0 ? mount : 0, mb, sizeof(mb)),
				 at_res(kernel, kb, sizeof(kb)),
				 "nr_events %#x: kernel %s, mount %s", nrs[i],
				 kb, mb);
	}
}

Test(aio_setup, second_setup_and_bad_setups_are_einval, .timeout = 30)
{
	const char *mnt = evt_shared_mnt();
	struct at_rec r = { 0 };
	int fd = open_aio(mnt, 0);

	cr_expect_eq(setup_on(fd, 4, 1), -EINVAL, "flags must be 0");
	/* SETUP must come alone. */
	at_rec_setup(&r, 4, 0);
	at_rec_setup(&r, 4, 0);
	cr_expect_eq(at_write(fd, &r), -EINVAL);
	at_rec_free(&r);
	cr_expect_eq(setup_on(fd, 4, 0), 16);
	cr_expect_eq(setup_on(fd, 4, 0), -EINVAL, "ctx must be 0 (A10)");
	close(fd);
}

/* io_submit and io_getevents on no context: EINVAL (A16, A18). */
Test(aio_setup, submit_and_read_before_setup_are_einval, .timeout = 30)
{
	const char *mnt = evt_shared_mnt();
	struct at_rec r = { 0 };
	char buf[256];
	struct iocb cb;
	int fd = open_aio(mnt, O_NONBLOCK);

	at_prep_fsync(&cb, 0, false);
	at_rec_submit(&r, &cb, 0);
	cr_expect_eq(at_write(fd, &r), -EINVAL);
	errno = 0;
	cr_expect_eq(read(fd, buf, sizeof(buf)), -1);
	cr_expect_eq(errno, EINVAL);
	at_rec_free(&r);
	close(fd);
}

/* -o aio_max: the sum of live contexts' nr_events is bounded (EAGAIN),
 * and a closed context gives its share back at once (A12). */
Test(aio_setup, daemon_wide_limit_and_refund, .timeout = 60)
{
	static const char *const argv[] = { "-o", "aio_max=100", NULL };
	struct evt_mount m;
	int a, b, c;

	evt_mount_or_skip(&m, argv);
	a = open_aio(m.dir, 0);
	b = open_aio(m.dir, 0);
	cr_expect_eq(setup_on(a, 101, 0), -EAGAIN, "above aio_max alone");
	cr_expect_eq(setup_on(a, 60, 0), 16);
	cr_expect_eq(setup_on(b, 41, 0), -EAGAIN, "60 + 41 > 100");
	cr_expect_eq(setup_on(b, 40, 0), 16);
	close(a);
	c = open_aio(m.dir, 0);
	cr_expect_eq(setup_on(c, 60, 0), 16, "the closed context's share");
	close(b);
	close(c);
	evt_unmount_or_fail(&m);
}

#define AIO_MAX_NR "/proc/sys/fs/aio-max-nr"

static unsigned long long read_aio_max_nr(void)
{
	char buf[64] = "";
	FILE *f = fopen(AIO_MAX_NR, "re");

	cr_assert(f, "%s: %s", AIO_MAX_NR, strerror(errno));
	cr_assert(fgets(buf, sizeof(buf), f));
	fclose(f);
	return strtoull(buf, NULL, 10);
}

/* The status file's "capacity=USED/MAX" limit. */
static unsigned long long status_aio_max(const char *mnt)
{
	char path[PATH_MAX], buf[65536], *p;

	at_slurp(evt_path(path, sizeof(path), mnt, "status"), buf, sizeof(buf));
	p = strstr(buf, "aiod capacity=");
	cr_assert(p, "no aiod line in:\n%s", buf);
	p = strchr(p, '/');
	cr_assert(p);
	return strtoull(p + 1, NULL, 10);
}

/* Without -o aio_max, the daemon-wide capacity is aio-max-nr's value. */
Test(aio_setup, default_aio_max_is_aio_max_nr, .timeout = 60)
{
	struct evt_mount m;

	evt_mount_or_skip(&m, NULL);
	cr_expect_eq(status_aio_max(m.dir), read_aio_max_nr());
	evt_unmount_or_fail(&m);
}

/*
 * ... read when the daemon starts: in a mount namespace of this test's
 * own, a file bind-mounted over aio-max-nr gives it another value (the
 * system's is left alone), and the daemon takes that one, refusing a
 * SETUP beyond it; -o aio_max still overrides it.
 */
Test(aio_setup, default_aio_max_is_read_at_start, .timeout = 60)
{
	static const char *const over[] = { "-o", "aio_max=100", NULL };
	char tmp[] = "/tmp/evfdfs-aio-max-nr-XXXXXX", val[32];
	unsigned long long want;
	struct evt_mount m;
	int fd, a;

	if (geteuid() != 0)
		cr_skip_test("needs root for a mount namespace of its own");
	if (unshare(CLONE_NEWNS) != 0)
		cr_skip_test("unshare(CLONE_NEWNS): %s", strerror(errno));
	cr_assert_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0, "%s",
		     strerror(errno));
	want = read_aio_max_nr() / 2 + 7; /* not the system's, not 65536 */
	fd = mkstemp(tmp);
	cr_assert(fd >= 0);
	snprintf(val, sizeof(val), "%llu\n", want);
	cr_assert_eq(write(fd, val, strlen(val)), (ssize_t)strlen(val));
	close(fd);
	if (mount(tmp, AIO_MAX_NR, NULL, MS_BIND, NULL) != 0) {
		unlink(tmp);
		cr_skip_test("bind mount over %s: %s", AIO_MAX_NR,
			     strerror(errno));
	}
	cr_assert_eq(read_aio_max_nr(), want);

	evt_mount_or_skip(&m, NULL);
	cr_expect_eq(status_aio_max(m.dir), want);
	a = open_aio(m.dir, 0);
	cr_expect_eq(setup_on(a, (uint32_t)want + 1, 0), -EAGAIN,
		     "beyond aio-max-nr (%llu)", want);
	cr_expect_eq(setup_on(a, (uint32_t)want, 0), 16);
	close(a);
	evt_unmount_or_fail(&m);

	evt_mount_or_skip(&m, over);
	cr_expect_eq(status_aio_max(m.dir), 100, "-o aio_max overrides it");
	evt_unmount_or_fail(&m);
	umount2(AIO_MAX_NR, MNT_DETACH);
	unlink(tmp);
}

/* Capacity: a submit that would leave more than nr_events completions in
 * flight or unread fails with EAGAIN; reading one frees one. */
Test(aio_setup, capacity_counts_unread_events, .timeout = 30)
{
	const char *mnt = evt_shared_mnt();
	char path[PATH_MAX], buf[16];
	struct io_event ev[4];
	struct at_be b;
	struct iocb cb[3];
	int f, i;

	at_make_file(path, sizeof(path), "/dev/shm", 64);
	f = open(path, O_RDONLY | O_CLOEXEC);
	at_be_setup(&b, mnt, 2);
	for (i = 0; i < 3; i++)
		at_prep_pread(&cb[i], f, buf, 8, 0);
	cr_expect_eq(at_be_submit1(&b, &cb[0]), 1);
	cr_expect_eq(at_be_submit1(&b, &cb[1]), 1);
	cr_expect_eq(at_be_submit1(&b, &cb[2]), -EAGAIN);
	cr_assert_eq(at_be_getevents(&b, 1, 1, ev, 5000), 1);
	cr_expect_eq(at_be_submit1(&b, &cb[2]), 1, "a read freed a slot");
	cr_expect_eq(at_be_getevents(&b, 2, 4, ev, 5000), 2);
	at_be_destroy(&b);
	close(f);
	unlink(path);
}

/*
 * A21: records are taken in order and the first failure stops the write;
 * it returns the accepted ones, or the first one's errno when none was.
 */
struct submit_rule_arg {
	int good_fd;
};

static void submit_rule_case(struct at_be *b, struct evt_transcript *t,
			     void *arg)
{
	struct submit_rule_arg *sa = arg;
	struct iocb cb[3], *cbs[3] = { &cb[0], &cb[1], &cb[2] };
	struct io_event ev[4];
	char buf[3][8], rb[64];
	int n;

	at_prep_pread(&cb[0], sa->good_fd, buf[0], 4, 0);
	at_prep_pread(&cb[1], 9999, buf[1], 4, 0); /* not open: EBADF */
	at_prep_pread(&cb[2], sa->good_fd, buf[2], 4, 0);
	evt_rec(t, "[ok bad ok] -> %d", at_be_submit(b, cbs, 3, NULL));
	n = at_be_getevents(b, 1, 4, ev, 5000);
	evt_rec(t, "events %d %s", n,
		at_res(n ? ev[0].res : 0, rb, sizeof(rb)));
	evt_rec(t, "[bad ok] -> %d", at_be_submit(b, cbs + 1, 2, NULL));
	evt_rec(t, "events after %d", at_be_getevents(b, 0, 4, ev, 100));
}

Test(aio_setup, submit_return_rule_matches_kernel, .timeout = 30)
{
	char path[PATH_MAX];
	struct submit_rule_arg sa;

	at_make_file(path, sizeof(path), "/dev/shm", 64);
	sa.good_fd = open(path, O_RDONLY | O_CLOEXEC);
	at_compare(evt_shared_mnt(), submit_rule_case, &sa);
	close(sa.good_fd);
	unlink(path);
}

/* Each malformed record is EINVAL and disturbs nothing. */
Test(aio_setup, malformed_records_are_einval_and_harmless, .timeout = 30)
{
	const char *mnt = evt_shared_mnt();
	int fd = at_ctx(mnt, 8, O_NONBLOCK);
	struct evfdfs_wire_submit sub;
	struct evfdfs_wire_hdr h;
	struct at_rec r = { 0 };
	unsigned char garbage[200];
	struct iocb cb;
	char buf[64];
	uint64_t seg = 8;
	int i;

	at_prep_fsync(&cb, 0, false);
	/* short: half a header */
	h = (struct evfdfs_wire_hdr){ EVFDFS_WIRE_VERSION, EVFDFS_WIRE_SUBMIT,
				      88 };
	at_rec_raw(&r, &h, 4);
	cr_expect_eq(at_write(fd, &r), -EINVAL, "short");
	at_rec_free(&r);
	/* wrong version, read-only type, unknown type */
	for (i = 0; i < 3; i++) {
		at_rec_submit(&r, &cb, 0);
		if (i == 0)
			((struct evfdfs_wire_hdr *)r.buf)->version = 2;
		else
			((struct evfdfs_wire_hdr *)r.buf)->type =
				i == 1 ? EVFDFS_WIRE_EVENT : 9;
		cr_expect_eq(at_write(fd, &r), -EINVAL, "variant %d", i);
		at_rec_free(&r);
	}
	/* lengths: not a multiple of 8, below the fixed part, beyond the
	 * write, absurd */
	{
		static const uint32_t lens[] = { 92, 16, 96, 0xffffffffu, 0 };

		for (i = 0; i < 5; i++) {
			at_rec_submit(&r, &cb, 0);
			((struct evfdfs_wire_hdr *)r.buf)->len = lens[i];
			cr_expect_eq(at_write(fd, &r), -EINVAL, "len %u",
				     lens[i]);
			at_rec_free(&r);
		}
	}
	/* nsegs that is not aio_nbytes; a payload on a read; unknown flags */
	memset(&sub, 0, sizeof(sub));
	sub.hdr = (struct evfdfs_wire_hdr){ EVFDFS_WIRE_VERSION,
					    EVFDFS_WIRE_SUBMIT, 96 };
	sub.nsegs = 1;
	sub.iocb.aio_lio_opcode = IOCB_CMD_PREADV;
	sub.iocb.aio_nbytes = 2;
	at_rec_raw(&r, &sub, sizeof(sub));
	at_rec_raw(&r, &seg, sizeof(seg));
	cr_expect_eq(at_write(fd, &r), -EINVAL, "nsegs 1 for 2 iovecs");
	at_rec_free(&r);
	sub.nsegs = 0;
	sub.iocb.aio_lio_opcode = IOCB_CMD_PREAD;
	sub.iocb.aio_nbytes = 8;
	at_rec_raw(&r, &sub, sizeof(sub));
	at_rec_raw(&r, &seg, sizeof(seg));
	cr_expect_eq(at_write(fd, &r), -EINVAL, "data after a PREAD");
	at_rec_free(&r);
	sub.hdr.len = 88;
	sub.flags = 0x100;
	at_rec_raw(&r, &sub, sizeof(sub));
	cr_expect_eq(at_write(fd, &r), -EINVAL, "unknown record flags");
	at_rec_free(&r);
	/* a PWRITE whose payload is shorter than aio_nbytes */
	at_prep_pwrite(&cb, 0, "abcdefgh", 8, 0);
	at_rec_submit(&r, &cb, 0);
	((struct evfdfs_wire_hdr *)r.buf)->len = 88;
	cr_expect_eq(at_write(fd, &r), -EINVAL, "payload too short");
	at_rec_free(&r);
	/* garbage */
	for (i = 0; i < (int)sizeof(garbage); i++)
		garbage[i] = (unsigned char)(i * 37 + 11);
	at_rec_raw(&r, garbage, sizeof(garbage));
	cr_expect_eq(at_write(fd, &r), -EINVAL, "garbage");
	at_rec_free(&r);

	/* Nothing was queued, and the context still works. */
	errno = 0;
	cr_expect_eq(read(fd, buf, sizeof(buf)), -1);
	cr_expect_eq(errno, EAGAIN);
	{
		struct at_be b = { .mount = true, .fd = fd };
		struct io_event ev;
		int p[2];

		cr_assert_eq(pipe(p), 0);
		at_prep_poll(&cb, p[1], POLLOUT);
		cr_expect_eq(at_be_submit1(&b, &cb), 1);
		cr_expect_eq(at_be_getevents(&b, 1, 1, &ev, 5000), 1);
		cr_expect_eq(ev.res, POLLOUT);
		close(p[0]);
		close(p[1]);
	}
	close(fd);
}

/* Several immediate completions: POLLOUT on a pipe's write end. */
static void queue_events(int fd, int n, int *p)
{
	struct at_be b = { .mount = true, .fd = fd };
	static struct iocb cb[8];
	int i;

	cr_assert_eq(pipe(p), 0);
	for (i = 0; i < n; i++) {
		at_prep_poll(&cb[i], p[1], POLLOUT);
		cb[i].aio_data = (uint64_t)i + 1;
		cr_assert_eq(at_be_submit1(&b, &cb[i]), 1);
	}
}

Test(aio_setup, short_read_buffer_is_einval_and_consumes_nothing, .timeout = 30)
{
	int fd = at_ctx(evt_shared_mnt(), 8, O_NONBLOCK), p[2];
	struct evfdfs_wire_event ev;
	char buf[200];

	queue_events(fd, 1, p);
	errno = 0;
	cr_expect_eq(read(fd, buf, sizeof(ev) - 8), -1);
	cr_expect_eq(errno, EINVAL);
	cr_expect_eq(read(fd, &ev, sizeof(ev)), (ssize_t)sizeof(ev));
	cr_expect_eq(ev.hdr.type, EVFDFS_WIRE_EVENT);
	cr_expect_eq(ev.ev.data, 1);
	cr_expect_eq(ev.ev.res, POLLOUT);
	cr_expect_eq(ev.ev.res2, 0);
	errno = 0;
	cr_expect_eq(read(fd, buf, sizeof(buf)), -1);
	cr_expect_eq(errno, EAGAIN);
	close(fd);
	close(p[0]);
	close(p[1]);
}

Test(aio_setup, reads_return_whole_records_in_order, .timeout = 30)
{
	int fd = at_ctx(evt_shared_mnt(), 8, O_NONBLOCK), p[2];
	struct evfdfs_wire_event ev[3];

	queue_events(fd, 3, p);
	/* room for two and a half: two come */
	cr_expect_eq(read(fd, ev, sizeof(ev[0]) * 2 + 20),
		     (ssize_t)sizeof(ev[0]) * 2);
	cr_expect_eq(ev[0].ev.data, 1);
	cr_expect_eq(ev[1].ev.data, 2);
	cr_expect_eq(read(fd, ev, sizeof(ev)), (ssize_t)sizeof(ev[0]));
	cr_expect_eq(ev[0].ev.data, 3);
	close(fd);
	close(p[0]);
	close(p[1]);
}

struct reader {
	int fd;
	ssize_t got;
	int err;
	volatile int done;
};

static void *blocking_reader(void *arg)
{
	struct reader *rd = arg;
	struct evfdfs_wire_event ev;

	rd->got = read(rd->fd, &ev, sizeof(ev));
	rd->err = errno;
	rd->done = 1;
	return NULL;
}

/* A read blocks until a completion (unless O_NONBLOCK: EAGAIN). */
Test(aio_setup, read_blocks_until_a_completion, .timeout = 30)
{
	const char *mnt = evt_shared_mnt();
	int fd = at_ctx(mnt, 8, 0), p[2];
	struct reader rd = { .fd = fd };
	struct at_be b = { .mount = true, .fd = fd };
	struct pollfd pfd = { .fd = fd, .events = POLLIN | POLLOUT };
	long long deadline;
	struct iocb cb;
	pthread_t th;

	cr_assert_eq(pipe(p), 0);
	cr_expect_eq(poll(&pfd, 1, 0), 1);
	cr_expect_eq(pfd.revents, POLLOUT, "nothing to read yet");
	at_prep_poll(&cb, p[0], POLLIN);
	cr_assert_eq(at_be_submit1(&b, &cb), 1);
	cr_assert_eq(pthread_create(&th, NULL, blocking_reader, &rd), 0);
	usleep(100 * 1000);
	cr_expect_eq(rd.done, 0, "the read returned with nothing to read");
	cr_assert_eq(write(p[1], "x", 1), 1);
	deadline = evt_now_ms() + 10000;
	while (!rd.done && evt_now_ms() < deadline)
		usleep(1000);
	cr_assert(rd.done, "the read did not wake up");
	pthread_join(th, NULL);
	cr_expect_eq(rd.got, (ssize_t)sizeof(struct evfdfs_wire_event),
		     "read: %s", strerror(rd.err));
	close(fd);
	close(p[0]);
	close(p[1]);
}

Test(aio_setup, poll_reports_pollin_while_events_wait, .timeout = 30)
{
	int fd = at_ctx(evt_shared_mnt(), 8, O_NONBLOCK), p[2];
	struct pollfd pfd = {
		.fd = fd, .events = POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM
	};
	struct evfdfs_wire_event ev;

	cr_expect_eq(poll(&pfd, 1, 0), 1);
	cr_expect_eq(pfd.revents, POLLOUT | POLLWRNORM);
	queue_events(fd, 1, p);
	cr_expect_eq(poll(&pfd, 1, 1000), 1);
	cr_expect_eq(pfd.revents, POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM);
	cr_assert_eq(read(fd, &ev, sizeof(ev)), (ssize_t)sizeof(ev));
	cr_expect_eq(poll(&pfd, 1, 0), 1);
	cr_expect_eq(pfd.revents, POLLOUT | POLLWRNORM);
	close(fd);
	close(p[0]);
	close(p[1]);
}
