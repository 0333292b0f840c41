// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fair limits between users, and memory after a burst (issue 9).  The
 * daemon has 768 kernel slots and 256 MiB of buffers for everyone; a user
 * (the uid that opened a context) may hold at most aio_user_share percent
 * (50 by default) of what the other users' requests leave, so that one
 * user cannot leave another with nothing but EAGAIN.  The greedy user
 * here is uid 65534 in a child process; the other is root, the test.
 *
 * The expected figures follow the rule in fused/aio_user.c, computed
 * here from the same sentence: share_of(total, others).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aio_lib.h"
#include "integ.h"

#define NOBODY 65534
#define KSLOTS 768			      /* the daemon's kernel slots */
#define BUF_MAX ((uint64_t)256 << 20)	      /* the daemon's buffers */
#define SHARE 50			      /* -o aio_user_share's default */
#define EACH ((uint64_t)EVFDFS_WIRE_MAX_DATA) /* one read's buffer */
#define MIB(n) ((long long)(n) << 20)

/* What one user may hold: SHARE percent of what the others leave. */
static uint64_t share_of(uint64_t total, uint64_t others)
{
	return (total - others) * SHARE / 100;
}

/* A field of the status line of user @uid, or -1 without such a line. */
static long long user_field(const char *mnt, unsigned int uid, const char *key)
{
	char path[PATH_MAX], buf[65536], line[64], *p, *end;

	at_slurp(evt_path(path, sizeof(path), mnt, "status"), buf, sizeof(buf));
	snprintf(line, sizeof(line), "aio-user uid=%u ", uid);
	p = strstr(buf, line);
	if (!p)
		return -1;
	end = strchrnul(p, '\n');
	p = strstr(p, key);
	if (!p || p > end)
		return -1;
	return strtoll(p + strlen(key), NULL, 10);
}

/* Wait (bounded) until the aiod line's @key is @want. */
static bool wait_aiod_field(const char *mnt, const char *key, long long want)
{
	long long deadline = evt_now_ms() + INTEG_WAIT_MS;

	while (at_aiod_field(mnt, key) != want) {
		if (evt_now_ms() > deadline)
			return false;
		usleep(5000);
	}
	return true;
}

/*
 * Submit requests made by @prep for @cbs[0..max) in batches of 64 until
 * one is refused.  Returns how many were accepted; *@err gets the refused
 * one's errno (0 if all @max went in).  No Criterion asserts: this also
 * runs in the unprivileged child.
 */
static int submit_until_refused(struct at_be *b, struct iocb *cbs, int max,
				int *err)
{
	struct iocb *ptrs[64];
	int n = 0, k, i, ret;

	*err = 0;
	while (n < max) {
		k = max - n < 64 ? max - n : 64;
		for (i = 0; i < k; i++)
			ptrs[i] = &cbs[n + i];
		ret = at_be_submit(b, ptrs, k, NULL);
		if (ret < 0) {
			*err = ret;
			break;
		}
		n += ret;
		if (ret < k) {
			/* learn the refused one's errno: it alone */
			ret = at_be_submit1(b, &cbs[n]);
			if (ret == 1) {
				n++;
				continue;
			}
			*err = ret;
			break;
		}
	}
	return n;
}

/* Fill @cbs: POLLs of @fd, or reads of EACH bytes of it into @buf. */
static void prep_many(struct iocb *cbs, int n, bool reads, int fd, void *buf)
{
	int i;

	for (i = 0; i < n; i++) {
		if (reads)
			at_prep_pread(&cbs[i], fd, buf, EACH, 0);
		else
			at_prep_poll(&cbs[i], fd, POLLIN);
		cbs[i].aio_data = (uint64_t)i;
	}
}

/* ---- the greedy user: uid 65534 in a child -------------------------- */

struct hog {
	pid_t pid;
	int from; /* the child's reports */
	int to;	  /* orders to the child; closing it ends the child */
};

struct hog_report {
	int accepted, err;
	int saw_own, saw_root; /* its status: its own line, root's */
};

static void hog_child(const char *mnt, bool reads, int out, int in)
{
	static struct iocb cbs[KSLOTS];
	struct hog_report rep = { 0 };
	struct at_rec r = { 0 };
	struct pollfd pfd = { .fd = in, .events = POLLIN };
	char path[PATH_MAX], status[65536], c;
	struct at_be b;
	void *buf = NULL;
	int p[2];

	if (setgroups(0, NULL) || setgid(NOBODY) || setuid(NOBODY))
		_exit(90);
	memset(&b, 0, sizeof(b));
	b.name = "mount";
	b.mount = true;
	b.fd = open(evt_path(path, sizeof(path), mnt, "aio"),
		    O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (b.fd < 0)
		_exit(91);
	at_rec_setup(&r, 2 * KSLOTS, 0);
	if (at_write(b.fd, &r) != (ssize_t)r.len)
		_exit(92);
	at_rec_free(&r);
	if (pipe2(p, O_CLOEXEC))
		_exit(93);
	if (reads && !(buf = malloc(EACH)))
		_exit(94);
	prep_many(cbs, KSLOTS, reads, p[0], buf);
	rep.accepted = submit_until_refused(&b, cbs, KSLOTS, &rep.err);
	if (write(out, &rep, sizeof(rep)) != sizeof(rep))
		_exit(95);
	/* Orders: 's' reads the status; end of file (or a minute) exits. */
	while (poll(&pfd, 1, 60000) == 1 && read(in, &c, 1) == 1) {
		if (integ_status(mnt, status, sizeof(status)) <= 0)
			_exit(96);
		snprintf(path, sizeof(path), "aio-user uid=%u ", NOBODY);
		rep.saw_own = strstr(status, path) != NULL;
		rep.saw_root = strstr(status, "aio-user uid=0 ") != NULL;
		if (write(out, &rep, sizeof(rep)) != sizeof(rep))
			_exit(97);
	}
	_exit(0);
}

/* Start the child, and wait for its report of what it took. */
static void hog_start(struct hog *h, const char *mnt, bool reads,
		      struct hog_report *rep)
{
	int c2p[2], p2c[2];

	cr_assert_eq(pipe2(c2p, O_CLOEXEC), 0);
	cr_assert_eq(pipe2(p2c, O_CLOEXEC), 0);
	h->pid = integ_fork();
	cr_assert(h->pid >= 0);
	if (h->pid == 0) {
		close(c2p[0]);
		close(p2c[1]);
		hog_child(mnt, reads, c2p[1], p2c[0]);
	}
	close(c2p[1]);
	close(p2c[0]);
	h->from = c2p[0];
	h->to = p2c[1];
	cr_assert_eq(read(h->from, rep, sizeof(*rep)), (ssize_t)sizeof(*rep),
		     "the unprivileged user never reported");
}

/* What the child's status shows it. */
static void hog_status(struct hog *h, struct hog_report *rep)
{
	cr_assert_eq(write(h->to, "s", 1), 1);
	cr_assert_eq(read(h->from, rep, sizeof(*rep)), (ssize_t)sizeof(*rep));
}

/* End the child (its context is released: its requests end) and reap. */
static void hog_stop(struct hog *h)
{
	int st;

	close(h->to);
	cr_assert_eq(integ_reap(h->pid, &st, INTEG_WAIT_MS), 0);
	cr_expect_eq(integ_exit_code(st), 0, "the child failed at step %d",
		     integ_exit_code(st));
	close(h->from);
}

static struct evt_mount *mount_shared_with_others(void)
{
	static const char *const argv[] = { "-o", "allow_other", NULL };

	return integ_mount(argv);
}

/*
 * Slots: uid 65534 submits POLLs of an empty pipe (each holds a kernel
 * slot until it completes) until refused.  It gets EAGAIN at its share,
 * not at the daemon's last slot; root then still submits, up to its share
 * of what is left, and slots stay free for a third user.  Each user's
 * status shows its own line (root sees every line), and the slots all
 * come back when the contexts close.
 */
INTEG_TEST(aio_limits, one_user_cannot_take_every_kernel_slot, 120)
{
	static struct iocb cbs[KSLOTS];
	struct evt_mount *m = mount_shared_with_others();
	struct hog_report rep;
	struct hog h;
	struct at_be b;
	uint64_t want;
	int p[2], n, err;

	cr_assert_eq(at_aiod_field(m->dir, "kernel_slots="), KSLOTS);
	hog_start(&h, m->dir, false, &rep);
	want = share_of(KSLOTS, 0);
	cr_expect_eq(rep.err, -EAGAIN, "uid %d: refused with %d", NOBODY,
		     rep.err);
	cr_expect_eq(rep.accepted, (int)want,
		     "uid %d alone took %d of %d slots, its share is %d",
		     NOBODY, rep.accepted, KSLOTS, (int)want);
	cr_expect_eq(user_field(m->dir, NOBODY, "kernel_slots="), rep.accepted);
	cr_expect_eq(user_field(m->dir, NOBODY, "kernel_slots_max="),
		     (long long)want);

	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	at_be_setup(&b, m->dir, 2 * KSLOTS);
	prep_many(cbs, KSLOTS, false, p[0], NULL);
	n = submit_until_refused(&b, cbs, KSLOTS, &err);
	cr_expect_gt(n, 0, "root's POLL: %d, after uid %d took %d slots", err,
		     NOBODY, rep.accepted);
	want = share_of(KSLOTS, (uint64_t)rep.accepted);
	cr_expect_eq(n, (int)want, "root took %d, its share is %d", n,
		     (int)want);
	cr_expect_eq(err, -EAGAIN);
	cr_expect_eq(user_field(m->dir, 0, "kernel_slots="), n);
	cr_expect_gt(at_aiod_field(m->dir, "kernel_slots="), 0,
		     "nothing left for a third user");

	hog_status(&h, &rep);
	cr_expect(rep.saw_own, "uid %d does not see its own use", NOBODY);
	cr_expect_not(rep.saw_root, "uid %d sees root's use", NOBODY);

	at_be_destroy(&b);
	close(p[0]);
	close(p[1]);
	hog_stop(&h);
	cr_expect(wait_aiod_field(m->dir, "kernel_slots=", KSLOTS),
		  "the slots did not come back");
	cr_expect_eq(user_field(m->dir, NOBODY, "kernel_slots="), -1,
		     "a user without contexts still has a line");
	integ_unmount();
}

/*
 * Buffers: uid 65534 submits reads of an empty pipe of EVFDFS_WIRE_MAX_DATA
 * bytes each (each holds its buffer while it waits) until refused: it
 * stops at its share of the 256 MiB, and root's read of the same size is
 * still accepted, up to root's share of the rest.  The buffers are never
 * touched, so this costs address space, not memory.
 */
INTEG_TEST(aio_limits, one_user_cannot_take_every_buffer, 120)
{
	static struct iocb cbs[KSLOTS];
	struct evt_mount *m = mount_shared_with_others();
	struct hog_report rep;
	struct hog h;
	struct at_be b;
	uint64_t held, room;
	void *buf;
	int p[2], n, err;

	cr_assert_eq(at_aiod_field(m->dir, "buffered="), 0);
	hog_start(&h, m->dir, true, &rep);
	held = (uint64_t)rep.accepted * EACH;
	room = share_of(BUF_MAX, 0);
	cr_expect_eq(rep.err, -EAGAIN, "uid %d: refused with %d", NOBODY,
		     rep.err);
	cr_expect(held <= room && held + EACH > room,
		  "uid %d alone holds %llu bytes in %d reads, its share is "
		  "%llu",
		  NOBODY, (unsigned long long)held, rep.accepted,
		  (unsigned long long)room);
	cr_expect_eq(user_field(m->dir, NOBODY, "buffered="), (long long)held);

	buf = malloc(EACH);
	cr_assert(buf);
	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	at_be_setup(&b, m->dir, 2 * KSLOTS);
	prep_many(cbs, KSLOTS, true, p[0], buf);
	n = submit_until_refused(&b, cbs, KSLOTS, &err);
	cr_expect_gt(n, 0, "root's read: %d, after uid %d took %llu bytes", err,
		     NOBODY, (unsigned long long)held);
	room = share_of(BUF_MAX, held);
	cr_expect((uint64_t)n * EACH <= room && (n + 1) * EACH > room,
		  "root holds %d reads, its share is %llu bytes", n,
		  (unsigned long long)room);
	cr_expect_eq(err, -EAGAIN);
	cr_expect_lt(at_aiod_field(m->dir, "buffered="),
		     (long long)(BUF_MAX - EACH),
		     "no room for a third user's read");

	at_be_destroy(&b);
	close(p[0]);
	close(p[1]);
	hog_stop(&h);
	cr_expect(wait_aiod_field(m->dir, "buffered=", 0),
		  "the buffers did not come back");
	free(buf);
	integ_unmount();
}

/* -o aio_user_share=100: no share, the daemon-wide limit alone. */
INTEG_TEST(aio_limits, share_of_100_leaves_the_daemon_wide_limit, 60)
{
	static const char *const argv[] = { "-o", "aio_user_share=100", NULL };
	static struct iocb cbs[KSLOTS + 1];
	struct evt_mount *m = integ_mount(argv);
	struct at_be b;
	int p[2], n, err;

	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	at_be_setup(&b, m->dir, 2 * KSLOTS);
	prep_many(cbs, KSLOTS + 1, false, p[0], NULL);
	n = submit_until_refused(&b, cbs, KSLOTS + 1, &err);
	cr_expect_eq(n, KSLOTS);
	cr_expect_eq(err, -EAGAIN);
	cr_expect_eq(user_field(m->dir, 0, "kernel_slots_max="), KSLOTS);
	at_be_destroy(&b);
	close(p[0]);
	close(p[1]);
	cr_expect(wait_aiod_field(m->dir, "kernel_slots=", KSLOTS));
	integ_unmount();
}

/* Bad shares are refused at start, with a message that says why. */
INTEG_TEST(aio_limits, bad_share_is_a_usage_error, 30)
{
	static const char *const bad[] = { "aio_user_share=0",
					   "aio_user_share=101",
					   "aio_user_share=-5" };
	const char *b = getenv("B") && *getenv("B") ? getenv("B") : "build";
	char cmd[PATH_MAX + 128], out[4096];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(cmd, sizeof(cmd),
			 "%s/evfdfs -f -o %s /tmp/evfdfs-never", b, bad[i]);
		cr_expect_neq(evt_sh(cmd, out, sizeof(out)), 0, "%s", bad[i]);
		cr_expect(strstr(out, bad[i]) && strstr(out, "from 1 to 100"),
			  "%s: %s", bad[i], out);
	}
}

/* ---- memory after a burst ------------------------------------------- */

/* The VmRSS of process @pid, in bytes. */
static long long rss_of(pid_t pid)
{
	char path[64], buf[4096], *p;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	cr_assert_gt(integ_read_file(path, buf, sizeof(buf)), 0);
	p = strstr(buf, "VmRSS:");
	cr_assert(p, "no VmRSS in %s", path);
	return strtoll(p + 6, NULL, 10) * 1024;
}

#define BURST 96 /* writes of EACH bytes held at once: about 95 MiB */

/*
 * After a burst of large transfers, the daemon gives the memory back.
 * First one write of EACH bytes goes through, as a daemon that has been
 * running does (glibc then keeps such blocks on its heap instead of
 * mapping each).  Then BURST writes of EACH bytes to a pipe nobody
 * reads: each holds its data while it waits, and the daemon's RSS grows
 * by about that.  Closing the pipe ends them all (EPIPE); once the
 * buffers are free, the RSS must be back within 24 MiB of where it was
 * before the burst (it stayed at its peak).  Under ASan the allocator is
 * ASan's, which keeps freed memory in quarantine on purpose.
 */
INTEG_TEST(aio_limits, memory_goes_back_after_a_burst, 120)
{
	static struct iocb cbs[BURST];
	static struct io_event evs[BURST];
	struct evt_mount *m;
	char path[PATH_MAX];
	long long before, peak, after;
	struct at_be b;
	char *data;
	int p[2], f, n, err, got, r;

#if defined(__SANITIZE_ADDRESS__)
	cr_skip_test("ASan's allocator quarantines freed memory: the RSS "
		     "after a burst is not the daemon's to give back");
#endif
	m = integ_mount(NULL);
	data = malloc(EACH);
	cr_assert(data);
	memset(data, 'x', EACH);
	at_be_setup(&b, m->dir, 2 * BURST);

	at_make_file(path, sizeof(path), "/tmp", 0);
	f = open(path, O_WRONLY | O_CLOEXEC);
	cr_assert(f >= 0);
	at_prep_pwrite(&cbs[0], f, data, EACH, 0);
	cr_assert_eq(at_be_submit1(&b, &cbs[0]), 1);
	cr_assert_eq(at_be_getevents(&b, 1, 1, evs, INTEG_WAIT_MS), 1);
	cr_assert_eq(evs[0].res, (long long)EACH);
	close(f);
	unlink(path);
	before = rss_of(m->pid);

	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	for (n = 0; n < BURST; n++) {
		at_prep_pwrite(&cbs[n], p[1], data, EACH, 0);
		cbs[n].aio_data = (uint64_t)n;
	}
	for (n = 0; n < BURST; n++) {
		err = at_be_submit1(&b, &cbs[n]); /* one FUSE write each */
		cr_assert_eq(err, 1, "write %d of %d: %d", n, BURST, err);
	}
	cr_expect_eq(at_aiod_field(m->dir, "buffered="),
		     (long long)(BURST * EACH));
	peak = rss_of(m->pid);
	cr_assert_gt(peak, before + MIB(64),
		     "the burst did not show in the RSS (%lld -> %lld kB): "
		     "the test measures nothing",
		     before >> 10, peak >> 10);

	/* The writes end with EPIPE, and SIGPIPE goes to the submitter, as
	 * Linux's AIO sends it: this test is not about that. */
	signal(SIGPIPE, SIG_IGN);
	close(p[0]);
	for (got = 0; got < BURST; got += r) {
		r = at_be_getevents(&b, 1, BURST - got, evs + got,
				    INTEG_WAIT_MS);
		if (r <= 0)
			break;
	}
	cr_assert_eq(got, BURST, "%d of %d writes completed", got, BURST);
	cr_expect(wait_aiod_field(m->dir, "buffered=", 0));
	after = rss_of(m->pid);
	cr_expect_lt(after, before + MIB(24),
		     "RSS before %lld kB, at the peak %lld kB, after %lld kB",
		     before >> 10, peak >> 10, after >> 10);
	cr_log_info("daemon RSS: before %lld kB, peak %lld kB, after %lld kB",
		    before >> 10, peak >> 10, after >> 10);
	at_be_destroy(&b);
	close(p[1]);
	free(data);
	integ_unmount();
}
