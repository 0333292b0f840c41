// SPDX-License-Identifier: GPL-2.0-only
/*
 * The AIO control file over the daemon's life: a submitter that exits with
 * I/O in flight, the event loop kept free while big buffered writes run,
 * the /proc fallback for descriptors, the status and trace files, and the
 * security rules (allow_other: nobody acts through the daemon on what it
 * could not touch itself).
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "aio_lib.h"

static int count_fds(pid_t pid)
{
	char path[64];
	struct dirent *e;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	cr_assert(d, "%s: %s", path, strerror(errno));
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Wait (bounded) until the daemon's status has no "aio ctx=" line. */
static bool wait_no_contexts(const char *mnt)
{
	long long deadline = evt_now_ms() + 10000;
	char path[PATH_MAX], buf[16384];

	evt_path(path, sizeof(path), mnt, "status");
	for (;;) {
		at_slurp(path, buf, sizeof(buf));
		if (!strstr(buf, "\naio ctx="))
			return true;
		if (evt_now_ms() > deadline)
			return false;
		usleep(5000);
	}
}

/* A counter round trip: write 1, read it back. */
static void round_trip(int c)
{
	struct pollfd pfd = { .fd = c, .events = POLLIN };
	uint64_t v = 1;

	cr_assert_eq(write(c, &v, 8), 8);
	cr_assert_eq(poll(&pfd, 1, 10000), 1, "counter never readable");
	cr_assert_eq(read(c, &v, 8), 8);
}

/*
 * A process submits and exits without reading or closing: pending POLLs
 * and a parked counter read are cancelled, buffered I/O completes, the
 * context goes away, the daemon keeps every descriptor it took back.
 */
Test(aio_life, submitter_exits_with_io_in_flight, .timeout = 60)
{
	struct evt_mount m;
	char name[64], path[PATH_MAX];
	int before, c, c2, status, p[2];
	pid_t child;

	evt_mount_or_skip(&m, NULL);
	c = evt_create_counter(m.dir, evt_unique(name, sizeof(name), "ale"), 0,
			       false, 0);
	c2 = evt_create_counter(m.dir, evt_unique(name, sizeof(name), "ale"), 0,
				false, O_NONBLOCK);
	cr_assert_eq(pipe(p), 0);
	round_trip(c);
	before = count_fds(m.pid);
	at_make_file(path, sizeof(path), "/var/tmp", 1 << 20);
	child = fork();
	if (child == 0) {
		static char buf[1 << 20];
		struct at_be b;
		struct iocb cb[4];
		int f = open(path, O_RDWR);

		at_be_setup(&b, m.dir, 16);
		if (f < 0)
			_exit(2);
		at_prep_poll(&cb[0], p[0], POLLIN); /* the parent keeps p[1] */
		at_set_resfd(&cb[0], c2);
		at_prep_pread(&cb[1], c, buf, 8, 0); /* empty: waits */
		at_prep_pread(&cb[2], f, buf, sizeof(buf), 0);
		at_prep_pwrite(&cb[3], f, buf, 4096, 0);
		for (int i = 0; i < 4; i++)
			if (at_be_submit1(&b, &cb[i]) != 1)
				_exit(3);
		_exit(0); /* nothing closed, nothing read */
	}
	cr_assert(child > 0);
	cr_assert_eq(waitpid(child, &status, 0), child);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "child status %#x", status);
	cr_expect(wait_no_contexts(m.dir), "the context stayed");
	cr_expect_eq(count_fds(m.pid), before, "the daemon kept descriptors");
	cr_expect_eq(at_peek(c2), 1, "the cancelled POLL signalled its RESFD");
	cr_expect_eq(at_peek(c), 0);
	round_trip(c);
	close(c);
	close(c2);
	close(p[0]);
	close(p[1]);
	unlink(path);
	evt_unmount_or_fail(&m);
}

/*
 * The loop never blocks on file I/O: while a thread pushes 256 MiB of
 * buffered writes through the control file, counter round trips (which
 * only the loop serves) go on.
 */
struct bigwriter {
	const char *mnt;
	const char *path;
	volatile int done_writes;
	volatile int finished;
	int err;
};

#define BIG_CHUNK ((size_t)EVFDFS_WIRE_MAX_DATA)
#define BIG_TOTAL ((size_t)256 << 20)

static void *bigwriter_main(void *arg)
{
	struct bigwriter *bw = arg;
	char *buf = malloc(BIG_CHUNK);
	struct at_be b;
	struct io_event ev;
	struct iocb cb;
	size_t off;
	int f = open(bw->path, O_WRONLY);

	memset(buf, 'w', BIG_CHUNK);
	at_be_setup(&b, bw->mnt, 4);
	for (off = 0; off < BIG_TOTAL && !bw->err; off += BIG_CHUNK) {
		at_prep_pwrite(&cb, f, buf, BIG_CHUNK, (int64_t)off);
		if (at_be_submit1(&b, &cb) != 1 ||
		    at_be_getevents(&b, 1, 1, &ev, 60000) != 1 ||
		    ev.res != (int64_t)BIG_CHUNK)
			bw->err = 1;
		bw->done_writes++;
	}
	at_be_destroy(&b);
	close(f);
	free(buf);
	bw->finished = 1;
	return NULL;
}

Test(aio_life, loop_not_blocked_by_big_buffered_writes, .timeout = 300)
{
	struct evt_mount m;
	struct bigwriter bw = { 0 };
	char name[64], path[PATH_MAX];
	int c, during = 0, trips = 0;
	pthread_t th;

	evt_mount_or_skip(&m, NULL);
	c = evt_create_counter(m.dir, evt_unique(name, sizeof(name), "alb"), 0,
			       false, 0);
	at_make_file(path, sizeof(path), "/var/tmp", 0);
	bw.mnt = m.dir;
	bw.path = path;
	cr_assert_eq(pthread_create(&th, NULL, bigwriter_main, &bw), 0);
	while (!bw.finished) {
		int before = bw.done_writes;

		round_trip(c); /* each bounded by its own deadline */
		trips++;
		if (before > 0 && !bw.finished)
			during++;
	}
	pthread_join(th, NULL);
	cr_expect_eq(bw.err, 0, "a big write failed");
	cr_expect(during > 0,
		  "no round trip completed while the writes were in flight "
		  "(%d trips)",
		  trips);
	close(c);
	unlink(path);
	evt_unmount_or_fail(&m);
}

/*
 * Without pidfd_getfd (EVFDFS_AIOD_NO_PIDFD=1) descriptors are reopened
 * through /proc with the access mode fdinfo shows: never a wider one.
 */
Test(aio_life, proc_fallback_never_widens, .timeout = 60)
{
	struct evt_mount m;
	char path[PATH_MAX], name[64], buf[16];
	struct at_be b;
	struct io_event ev;
	struct iocb cb;
	int ro, efd, c, op;

	setenv("EVFDFS_AIOD_NO_PIDFD", "1", 1);
	evt_mount_or_skip(&m, NULL);
	unsetenv("EVFDFS_AIOD_NO_PIDFD");
	at_make_file(path, sizeof(path), "/dev/shm", 64);
	ro = open(path, O_RDONLY | O_CLOEXEC);
	efd = eventfd(0, EFD_CLOEXEC);
	c = evt_create_counter(m.dir, evt_unique(name, sizeof(name), "alp"), 0,
			       false, O_NONBLOCK);
	at_be_setup(&b, m.dir, 8);
	at_prep_pread(&cb, ro, buf, 4, 10);
	at_set_resfd(&cb, c);
	cr_expect_eq(at_be_submit1(&b, &cb), 1);
	cr_assert_eq(at_be_getevents(&b, 1, 1, &ev, 10000), 1);
	cr_expect_eq(ev.res, 4);
	cr_expect_eq(buf[0], 10);
	cr_expect_eq(at_peek(c), 1, "a counter RESFD works through /proc");
	at_prep_pwrite(&cb, ro, "abcd", 4, 0);
	cr_expect_eq(at_be_submit1(&b, &cb), -EBADF, "O_RDONLY stays so");
	op = open(path, O_PATH | O_CLOEXEC);
	at_prep_pread(&cb, op, buf, 4, 0);
	cr_expect_eq(at_be_submit1(&b, &cb), -EBADF);
	close(op);
	at_prep_pread(&cb, ro, buf, 4, 0);
	at_set_resfd(&cb, efd);
	cr_expect_eq(at_be_submit1(&b, &cb), -EINVAL,
		     "a kernel eventfd cannot be reopened through /proc");
	at_be_destroy(&b);
	close(c);
	close(efd);
	close(ro);
	unlink(path);
	evt_unmount_or_fail(&m);
}

/*
 * status: one line per context; trace: submissions and completions.  On a
 * mount of its own: the shared mount's trace is busy with the other tests
 * and drops what a slow reader cannot keep, and its status has their
 * contexts too.
 */
Test(aio_life, status_and_trace_show_contexts, .timeout = 60)
{
	struct evt_mount m;
	char path[PATH_MAX], buf[65536], line[256], *ours, *eol;
	struct at_be b;
	struct io_event ev;
	struct iocb cb[2];
	long long deadline;
	int p[2], tr;
	size_t len = 0;
	ssize_t n;

	evt_mount_or_skip(&m, NULL);
	tr = open(evt_path(path, sizeof(path), m.dir, "trace"),
		  O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	cr_assert(tr >= 0);
	at_be_setup(&b, m.dir, 7);
	cr_assert_eq(pipe(p), 0);
	at_prep_poll(&cb[0], p[0], POLLIN);
	at_prep_poll(&cb[1], p[1], POLLOUT);
	cr_assert_eq(at_be_submit1(&b, &cb[0]), 1);
	cr_assert_eq(at_be_submit1(&b, &cb[1]), 1);
	at_slurp(evt_path(path, sizeof(path), m.dir, "status"), buf,
		 sizeof(buf));
	snprintf(line, sizeof(line),
		 "pid=%d form=binary open=1 nr_events=7 "
		 "inflight=1 ",
		 (int)getpid());
	ours = strstr(buf, line);
	cr_assert(ours, "no '%s' in:\n%s", line, buf);
	eol = strchr(ours, '\n');
	cr_assert(eol, "%s", buf);
	eol[1] = '\0';
	cr_expect(strstr(ours, " poll=1 ") && strstr(ours, " events=1 "), "%s",
		  ours);
	cr_assert_eq(at_be_getevents(&b, 1, 1, &ev, 5000), 1);
	at_be_destroy(&b);
	snprintf(line, sizeof(line), "pid=%d op=poll key=0 res=4",
		 (int)getpid());
	deadline = evt_now_ms() + 5000;
	buf[0] = '\0';
	while (!strstr(buf, line) && evt_now_ms() < deadline) {
		n = read(tr, buf + len, sizeof(buf) - 1 - len);
		if (n > 0)
			len += (size_t)n;
		buf[len] = '\0';
		if (n <= 0)
			usleep(5000);
	}
	cr_expect(strstr(buf, "aio-submit aio:"), "%s", buf);
	cr_expect(strstr(buf, "aio-complete aio:"), "%s", buf);
	cr_expect(strstr(buf, line), "no '%s' in the trace:\n%s", line, buf);
	close(tr);
	close(p[0]);
	close(p[1]);
	evt_unmount_or_fail(&m);
}

/*
 * Security with allow_other: a user acts only on its own descriptors, with
 * their access modes; aio.txt opens with the user's own credentials.
 */
Test(aio_life, other_users_get_no_more_than_they_have, .timeout = 60)
{
	static const char *const argv[] = { "-o", "allow_other", NULL };
	char secret[PATH_MAX], pub[PATH_MAX], name[64], cpath[PATH_MAX];
	struct evt_mount m;
	int status, c, s;
	pid_t child;

	evt_mount_or_skip(&m, argv);
	at_make_file(secret, sizeof(secret), "/var/tmp", 64); /* 0600 root */
	at_make_file(pub, sizeof(pub), "/var/tmp", 64);
	cr_assert_eq(chmod(pub, 0644), 0);
	c = evt_create_counter(m.dir, evt_unique(name, sizeof(name), "als"), 0,
			       false, O_NONBLOCK);
	evt_path(cpath, sizeof(cpath), m.dir, name);
	cr_assert_eq(chmod(cpath, 0600), 0);
	child = fork();
	if (child == 0) {
		char buf[64], txt[PATH_MAX + 64], rd[256];
		struct at_be b;
		struct iocb cb;
		int ro, t, ok = 0, step = 0;
		ssize_t n;

		/* The parent's fd 900 (the secret) does not exist here. */
		s = 900;
		if (setgid(65534) || setuid(65534))
			_exit(10);
		at_be_setup(&b, m.dir, 8);
		at_prep_pread(&cb, s, buf, 8, 0);
		/* exit status: the number of the first step that failed */
		step++;
		ok = at_be_submit1(&b, &cb) == -EBADF;
		ro = open(pub, O_RDONLY);
		at_prep_pwrite(&cb, ro, "EVIL", 4, 0);
		if (ok && ++step)
			ok = at_be_submit1(&b, &cb) == -EBADF;
		at_prep_pread(&cb, ro, buf, 8, 0);
		if (ok && ++step)
			ok = at_be_submit1(&b, &cb) == 1;
		t = open(evt_path(txt, sizeof(txt), m.dir, "aio.txt"), O_RDWR);
		snprintf(txt, sizeof(txt), "pread %s 0 8\n", secret);
		if (ok && ++step)
			ok = t >= 0 && write(t, txt, strlen(txt)) < 0 &&
			     errno == EACCES;
		snprintf(txt, sizeof(txt), "pwrite %s 0 EVIL\n", pub);
		if (ok && ++step)
			ok = write(t, txt, strlen(txt)) < 0 && errno == EACCES;
		snprintf(txt, sizeof(txt), "pread %.200s 0 4 resfd=%.60s\n",
			 pub, name);
		if (ok && ++step)
			ok = write(t, txt, strlen(txt)) < 0 && errno == EACCES;
		snprintf(txt, sizeof(txt), "pread %s 0 4 data=mine\n", pub);
		if (ok && ++step)
			ok = write(t, txt, strlen(txt)) == (ssize_t)strlen(txt);
		if (ok && ++step) {
			n = read(t, rd, sizeof(rd) - 1);
			ok = n > 0 && strncmp(rd, "mine pread 4 ", 13) == 0;
		}
		_exit(ok ? 0 : step);
	}
	cr_assert(child > 0);
	s = open(secret, O_RDWR | O_CLOEXEC);
	cr_assert_eq(dup2(s, 900), 900);
	close(s);
	s = 900;
	cr_assert_eq(waitpid(child, &status, 0), child);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "child status %#x (the step that failed)", status);
	{
		char buf[8];

		cr_assert_eq(pread(s, buf, 4, 0), 4);
		cr_expect_neq(memcmp(buf, "EVIL", 4), 0);
		cr_expect_eq(at_peek(c), 0, "the counter was not signalled");
	}
	close(s);
	close(c);
	unlink(secret);
	unlink(pub);
	evt_unmount_or_fail(&m);
}

/*
 * One write naming 12 descriptors many times each (more than the daemon
 * remembers per write), every third with a kernel eventfd as RESFD, and a
 * descriptor that is not open at index 50: 50 requests accepted, each
 * read whole, the RESFD signalled once for each of them that asked, and
 * once they are done and the context closed, the daemon holds exactly
 * the descriptors it held before (the duplicates it shares between the
 * requests of a write are all closed).
 */
Test(aio_life, batch_shares_and_closes_descriptors, .timeout = 60)
{
	enum { NFD = 12, N = 60, BAD = 50, LEN = 512 };
	static char bufs[N][LEN];
	struct io_event ev[N];
	struct iocb cb[N], *list[N];
	struct evt_mount m;
	char path[PATH_MAX];
	int fds[NFD], efd, before, i, got = 0, n, nres = 0;
	struct at_be b;

	evt_mount_or_skip(&m, NULL);
	at_make_file(path, sizeof(path), "/dev/shm", N * LEN);
	for (i = 0; i < NFD; i++) {
		fds[i] = open(path, O_RDONLY | O_CLOEXEC);
		cr_assert(fds[i] >= 0);
	}
	efd = eventfd(0, EFD_CLOEXEC);
	cr_assert(efd >= 0);
	before = count_fds(m.pid);
	at_be_setup(&b, m.dir, 2 * N);
	for (i = 0; i < N; i++) {
		at_prep_pread(&cb[i], fds[(i * 5) % NFD], bufs[i], LEN,
			      (int64_t)i * LEN);
		if (i % 3 == 0) {
			at_set_resfd(&cb[i], efd);
			nres += i < BAD;
		}
		list[i] = &cb[i];
	}
	cb[BAD].aio_fildes = 999;
	cr_assert(fcntl(999, F_GETFD) < 0);
	cr_assert_eq(at_be_submit(&b, list, N, NULL), BAD);
	while (got < BAD) {
		n = at_be_getevents(&b, BAD - got, BAD - got, ev + got, 10000);
		cr_assert(n > 0, "getevents: %d after %d", n, got);
		got += n;
	}
	for (i = 0; i < BAD; i++)
		cr_expect_eq((long long)ev[i].res, LEN, "event %d: res %lld", i,
			     (long long)ev[i].res);
	cr_expect_eq(at_wait_count(efd, (uint64_t)nres), (uint64_t)nres);
	at_be_destroy(&b);
	cr_expect(wait_no_contexts(m.dir), "the context stayed");
	cr_expect_eq(count_fds(m.pid), before, "the daemon kept descriptors");
	for (i = 0; i < NFD; i++)
		close(fds[i]);
	close(efd);
	unlink(path);
	evt_unmount_or_fail(&m);
}

struct own_fd {
	struct at_be *b;
	int num;
	char want; /* the first byte the read must find */
	int ok;
};

/* Submit a read of the descriptor o->num at 0, collect it, check it. */
static int read_own(struct own_fd *o)
{
	static __thread char buf[256];
	struct io_event ev;
	struct iocb cb;

	memset(buf, 0, sizeof(buf));
	at_prep_pread(&cb, o->num, buf, sizeof(buf), 0);
	if (at_be_submit1(o->b, &cb) != 1)
		return 0;
	if (at_be_getevents(o->b, 1, 1, &ev, 10000) != 1)
		return 0;
	return ev.res == (long long)sizeof(buf) && buf[0] == o->want;
}

static void *read_own_main(void *arg)
{
	struct own_fd *o = arg;

	o->ok = read_own(o);
	return NULL;
}

/*
 * One context, one descriptor number, several submitters in turn: the
 * parent, a child that made the number name another file, the parent
 * again, six threads one after the other (more than the daemon keeps
 * pidfds for), then the parent once the number is closed.  Each one's
 * read is of its own file, the last one fails with EBADF, and once the
 * context is closed the daemon holds the descriptors it held before.
 */
Test(aio_life, each_submitter_reads_its_own_descriptor, .timeout = 60)
{
	static const char z[256] = { 'Z' };
	struct evt_mount m;
	struct own_fd o;
	struct at_be b;
	struct iocb cb;
	char path[PATH_MAX], buf[16];
	int f1, f2, num = 950, before, status, i;
	pthread_t th;
	pid_t child;

	evt_mount_or_skip(&m, NULL);
	at_make_file(path, sizeof(path), "/dev/shm", 4096);
	f1 = open(path, O_RDONLY | O_CLOEXEC);
	unlink(path);
	at_make_file(path, sizeof(path), "/dev/shm", 4096);
	f2 = open(path, O_RDWR | O_CLOEXEC);
	unlink(path);
	cr_assert(f1 >= 0 && f2 >= 0);
	cr_assert_eq(pwrite(f2, z, sizeof(z), 0), (ssize_t)sizeof(z));
	while (fcntl(num, F_GETFD) >= 0)
		num++;
	cr_assert_eq(dup2(f1, num), num);
	before = count_fds(m.pid);
	at_be_setup(&b, m.dir, 16);
	o = (struct own_fd){ .b = &b, .num = num, .want = 0 };
	cr_expect(read_own(&o), "the parent's first read");
	child = fork();
	if (child == 0) {
		o.want = 'Z';
		_exit(dup2(f2, num) == num && read_own(&o) ? 0 : 1);
	}
	cr_assert(child > 0);
	cr_assert_eq(waitpid(child, &status, 0), child);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		  "the child did not read its own file: %#x", status);
	o.want = 0;
	cr_expect(read_own(&o), "the parent's read after the child's");
	for (i = 0; i < 6; i++) {
		o.ok = 0;
		cr_assert_eq(pthread_create(&th, NULL, read_own_main, &o), 0);
		cr_assert_eq(pthread_join(th, NULL), 0);
		cr_expect(o.ok, "thread %d", i);
	}
	close(num);
	at_prep_pread(&cb, num, buf, sizeof(buf), 0);
	cr_expect_eq(at_be_submit1(&b, &cb), -EBADF);
	at_be_destroy(&b);
	cr_expect(wait_no_contexts(m.dir), "the context stayed");
	cr_expect_eq(count_fds(m.pid), before, "the daemon kept descriptors");
	close(f1);
	close(f2);
	evt_unmount_or_fail(&m);
}

/*
 * A write whose records go to a worker run by run must keep what the
 * daemon has not read of it yet: while a worker has the job, the daemon
 * reads other requests into the same buffer.  Here thread A submits
 * batches alternating PWRITEs to a regular file (a worker's) and to a
 * pipe (the loop's), while thread B writes, over and over, a decoy of the
 * same layout to a counter, which refuses it: records that name B's
 * pipe.  Nothing may reach B's pipe, and A's data must arrive whole.
 */
enum { DK_N = 16, DK_FLEN = 8192, DK_PLEN = 100, DK_ROUNDS = 200 };

struct decoy {
	int counter, pipe_w;
	volatile int stop;
	volatile int refused, other;
};

static void *decoy_main(void *arg)
{
	static char data[DK_FLEN];
	struct decoy *d = arg;
	struct at_rec r = { 0 };
	struct iocb cb;
	int i;

	memset(data, 'X', sizeof(data));
	for (i = 0; i < DK_N; i++) {
		at_prep_pwrite(&cb, d->pipe_w, data,
			       i % 2 == 0 ? DK_FLEN : DK_PLEN, 0);
		at_rec_submit(&r, &cb, 0);
	}
	while (!d->stop) {
		if (at_write(d->counter, &r) == -EINVAL)
			d->refused++;
		else
			d->other++;
	}
	at_rec_free(&r);
	return NULL;
}

Test(aio_life, write_keeps_its_records_while_a_worker_has_it, .timeout = 60)
{
	static char fdata[DK_N][DK_FLEN], pdata[DK_N][DK_PLEN];
	char path[PATH_MAX], name[64], got[DK_PLEN], back[DK_FLEN];
	struct iocb cb[DK_N], *list[DK_N];
	struct io_event ev[DK_N];
	struct decoy d = { 0 };
	int f, p[2], q[2], r, i, n, k, bad = 0;
	long long deadline;
	struct at_be b;
	pthread_t th;
	ssize_t m;

	at_make_file(path, sizeof(path), "/var/tmp", DK_N * DK_FLEN);
	f = open(path, O_RDWR | O_CLOEXEC);
	unlink(path);
	cr_assert(f >= 0);
	cr_assert(pipe2(p, O_CLOEXEC) == 0 && pipe2(q, O_CLOEXEC) == 0);
	cr_assert(fcntl(q[0], F_SETFL, O_NONBLOCK) == 0);
	d.counter = evt_create_counter(evt_shared_mnt(),
				       evt_unique(name, sizeof(name), "dk"), 0,
				       false, 0);
	d.pipe_w = q[1];
	at_be_setup(&b, evt_shared_mnt(), 2 * DK_N);
	cr_assert_eq(pthread_create(&th, NULL, decoy_main, &d), 0);
	deadline = evt_now_ms() + 10000;
	while (!d.refused && !d.other && evt_now_ms() < deadline)
		usleep(100); /* the decoy runs from the first round on */
	for (r = 0; r < DK_ROUNDS && !bad; r++) {
		for (i = 0; i < DK_N; i++) {
			if (i % 2 == 0) {
				memset(fdata[i], 'a' + (r + i) % 26, DK_FLEN);
				at_prep_pwrite(&cb[i], f, fdata[i], DK_FLEN,
					       (int64_t)i * DK_FLEN);
			} else {
				memset(pdata[i], 'A' + (r + i) % 26, DK_PLEN);
				at_prep_pwrite(&cb[i], p[1], pdata[i], DK_PLEN,
					       0);
			}
			list[i] = &cb[i];
		}
		n = at_be_submit(&b, list, DK_N, NULL);
		cr_assert_eq(n, DK_N, "round %d: submit %d", r, n);
		for (i = 0; i < DK_N; i += k) {
			k = at_be_getevents(&b, DK_N - i, DK_N - i, ev, 10000);
			cr_assert(k > 0, "round %d: getevents %d", r, k);
		}
		for (i = 1; i < DK_N; i += 2) {
			m = read(p[0], got, sizeof(got));
			bad += m != DK_PLEN || memcmp(got, pdata[i], DK_PLEN);
		}
		for (i = 0; i < DK_N; i += 2)
			bad += pread(f, back, DK_FLEN, (off_t)i * DK_FLEN) !=
				       DK_FLEN ||
			       memcmp(back, fdata[i], DK_FLEN);
	}
	d.stop = 1;
	pthread_join(th, NULL);
	cr_expect_eq(bad, 0, "round %d: wrong data", r);
	cr_expect_eq(read(q[0], got, sizeof(got)), -1,
		     "the decoy's records were run");
	cr_expect_eq(d.other, 0, "the counter took a decoy");
	cr_expect_gt(d.refused, 0);
	at_be_destroy(&b);
	close(d.counter);
	close(f);
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
}
