// SPDX-License-Identifier: GPL-2.0-only
/*
 * The trace as a story (issue 11): causes before their effects (an AIO
 * submission before its synchronous completion and the signal of its
 * RESFD), a poller's registration as an event, one label for a counter
 * without a name in trace and status alike, who created a counter and who
 * waits on it in status, and every event the daemon emits documented in
 * evfdfs(7).  Issue 9: a cap on the trace readers' buffers, an event that
 * nobody may see or keep is not even formatted, and `tail -f trace` works.
 * Each test has a private mount: the shared one's trace is busy.
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "aio_lib.h"
#include "integ.h"

#define NOBODY 65534

/* Read @fd (non-blocking) into @buf until it holds @want, or time out. */
static bool slurp_until(int fd, char *buf, size_t cap, size_t *len,
			const char *want)
{
	long long deadline = evt_now_ms() + INTEG_WAIT_MS;
	ssize_t n;

	for (;;) {
		buf[*len] = '\0';
		if (strstr(buf, want))
			return true;
		if (evt_now_ms() > deadline || *len + 1 >= cap)
			return false;
		n = read(fd, buf + *len, cap - 1 - *len);
		if (n > 0) {
			*len += (size_t)n;
		} else {
			struct pollfd p = { .fd = fd, .events = POLLIN };

			poll(&p, 1, 100);
		}
	}
}

/* A key=value field of the status line that starts with @prefix. */
static long long status_key(const char *mnt, const char *prefix,
			    const char *key)
{
	static char st[1 << 16];
	char pat[64], *line, *f, *eol;

	if (integ_status(mnt, st, sizeof(st)) <= 0)
		return -1;
	line = strstr(st, prefix);
	if (!line)
		return -1;
	eol = strchr(line, '\n');
	if (eol)
		*eol = '\0';
	snprintf(pat, sizeof(pat), " %s=", key);
	f = strstr(line, pat);
	return f ? strtoll(f + strlen(pat), NULL, 10) : -1;
}

static int open_trace(const char *mnt, int flags)
{
	char path[PATH_MAX];

	return open(evt_path(path, sizeof(path), mnt, "trace"),
		    O_RDONLY | O_CLOEXEC | flags);
}

/*
 * A pread of a regular file through aio.txt completes inside the worker's
 * io_submit; its completion, and its RESFD's signal, were traced before
 * its submission (the submission waited for the worker to be back, after
 * the loop had reaped the ring).  Submission, completion, signal now, in
 * that order, matched by key= and resfd=.
 */
INTEG_TEST(trace_story, sync_aio_completion_comes_after_its_submit, 60)
{
	struct evt_mount *m = integ_mount(NULL);
	char path[PATH_MAX], file[] = "/var/tmp/evfdfs-story-XXXXXX";
	char line[PATH_MAX + 128], want[128], key[32];
	static char buf[1 << 16];
	const char *sub, *comp, *sig;
	size_t len = 0;
	long long id;
	int tr, f, c, t, i;

	tr = open_trace(m->dir, O_NONBLOCK);
	cr_assert(tr >= 0, "%s", strerror(errno));
	f = mkstemp(file);
	cr_assert(f >= 0);
	cr_assert_eq(write(f, "hello\n", 6), 6);
	close(f);
	c = evt_create_counter(m->dir, "done", 0, false, O_NONBLOCK);
	id = integ_field(m->dir, "done", "id");
	t = open(evt_path(path, sizeof(path), m->dir, "aio.txt"),
		 O_RDWR | O_CLOEXEC);
	cr_assert(t >= 0, "%s", strerror(errno));
	for (i = 0; i < 5; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		snprintf(line, sizeof(line),
			 "pread data=%s resfd=done %s 0 6\n", key, file);
		cr_assert_eq(write(t, line, strlen(line)),
			     (ssize_t)strlen(line), "%s", strerror(errno));
	}
	for (i = 0; i < 5; i++) {
		snprintf(want, sizeof(want), " key=k%d res=6\n", i);
		cr_assert(slurp_until(tr, buf, sizeof(buf), &len, want),
			  "no completion of k%d:\n%s", i, buf);
		snprintf(want, sizeof(want),
			 " aio-submit aio:1 ctx=1 pid=%d op=pread key=k%d "
			 "res=0 resfd=%lld",
			 (int)getpid(), i, id);
		sub = strstr(buf, want);
		snprintf(want, sizeof(want),
			 " aio-complete aio:1 ctx=1 pid=%d op=pread key=k%d "
			 "res=6\n",
			 (int)getpid(), i);
		comp = strstr(buf, want);
		cr_assert(sub && comp, "k%d: no submit or completion:\n%s", i,
			  buf);
		cr_assert_lt(sub, comp, "k%d completed before its submit:\n%s",
			     i, buf);
		snprintf(want, sizeof(want), " signal done id=%lld pid=%d ", id,
			 (int)getpid());
		sig = strstr(comp, want);
		cr_assert(sig, "no signal after k%d's completion:\n%s", i, buf);
		cr_assert_lt(sig, strstr(comp + 1, " aio-") ?: sig + 1,
			     "k%d: its signal does not follow it:\n%s", i, buf);
	}
	close(t);
	close(c);
	close(tr);
	unlink(file);
	integ_unmount();
}

/*
 * The same through `aio`, binary records: PREADs of a regular file go to a
 * worker, whose io_submit completes them; aio_data is the key.
 */
INTEG_TEST(trace_story, binary_sync_completion_comes_after_its_submit, 60)
{
	struct evt_mount *m = integ_mount(NULL);
	char file[] = "/var/tmp/evfdfs-story-XXXXXX", want[160], data[5][8];
	static char buf[1 << 16];
	const char *sub, *comp, *sig;
	struct io_event ev[5];
	struct iocb cb[5];
	struct at_be b;
	size_t len = 0;
	long long id;
	int tr, f, c, i;

	tr = open_trace(m->dir, O_NONBLOCK);
	cr_assert(tr >= 0);
	f = mkstemp(file);
	cr_assert(f >= 0);
	cr_assert_eq(write(f, "hello\n", 6), 6);
	c = evt_create_counter(m->dir, "bdone", 0, false, O_NONBLOCK);
	id = integ_field(m->dir, "bdone", "id");
	at_be_setup(&b, m->dir, 8);
	for (i = 0; i < 5; i++) {
		at_prep_pread(&cb[i], f, data[i], 6, 0);
		at_set_resfd(&cb[i], c);
		cb[i].aio_data = 1000 + (uint64_t)i;
		cr_assert_eq(at_be_submit1(&b, &cb[i]), 1);
	}
	cr_assert_eq(at_be_getevents(&b, 5, 5, ev, INTEG_WAIT_MS), 5);
	for (i = 0; i < 5; i++) {
		snprintf(want, sizeof(want), " key=%d res=6\n", 1000 + i);
		cr_assert(slurp_until(tr, buf, sizeof(buf), &len, want),
			  "no completion of %d:\n%s", 1000 + i, buf);
		snprintf(want, sizeof(want),
			 " aio-submit aio:1 ctx=1 pid=%d op=pread key=%d "
			 "res=0 resfd=%lld\n",
			 (int)getpid(), 1000 + i, id);
		sub = strstr(buf, want);
		snprintf(want, sizeof(want),
			 " aio-complete aio:1 ctx=1 pid=%d op=pread key=%d "
			 "res=6\n",
			 (int)getpid(), 1000 + i);
		comp = strstr(buf, want);
		cr_assert(sub && comp, "%d: no submit or completion:\n%s",
			  1000 + i, buf);
		cr_assert_lt(sub, comp, "%d completed before its submit:\n%s",
			     1000 + i, buf);
		snprintf(want, sizeof(want), " signal bdone id=%lld pid=%d ",
			 id, (int)getpid());
		sig = strstr(comp, want);
		cr_assert(sig, "no signal after %d's completion:\n%s", 1000 + i,
			  buf);
	}
	at_be_destroy(&b);
	close(f);
	unlink(file);
	close(c);
	close(tr);
	integ_unmount();
}

/*
 * A process that starts to wait in poll(2) on a counter is a `poll` event
 * (nothing told of it before), and status names it in pollpids=.
 */
INTEG_TEST(trace_story, a_poller_registering_is_an_event, 60)
{
	struct evt_mount *m = integ_mount(NULL);
	static char buf[1 << 16];
	char path[PATH_MAX], want[160], st[4096];
	size_t len = 0;
	long long id;
	pid_t child;
	int tr, c, s;

	tr = open_trace(m->dir, O_NONBLOCK);
	cr_assert(tr >= 0);
	c = evt_create_counter(m->dir, "polled", 0, false, O_NONBLOCK);
	id = integ_field(m->dir, "polled", "id");
	child = integ_fork();
	if (child == 0) {
		int fd = open(evt_path(path, sizeof(path), m->dir, "polled"),
			      O_RDONLY);
		struct pollfd p = { .fd = fd, .events = POLLIN };

		_exit(fd >= 0 && poll(&p, 1, INTEG_WAIT_MS) == 1 ? 0 : 2);
	}
	cr_assert(integ_wait_field(m->dir, "polled", "pollers", 1,
				   INTEG_WAIT_MS));
	snprintf(want, sizeof(want), " poll polled id=%lld pid=%d events=IN\n",
		 id, (int)child);
	cr_assert(slurp_until(tr, buf, sizeof(buf), &len, want),
		  "no '%s' in:\n%s", want, buf);
	cr_assert_gt(integ_status(m->dir, st, sizeof(st)), 0);
	snprintf(want, sizeof(want), " pollpids=%d\n", (int)child);
	cr_assert(strstr(st, want), "no '%s' in:\n%s", want, st);
	cr_assert_eq(integ_write_u64(c, 1), 0);
	cr_assert_eq(integ_reap(child, &s, INTEG_WAIT_MS), 0);
	cr_assert_eq(integ_exit_code(s), 0);
	snprintf(want, sizeof(want), " notify polled id=%lld key=IN ", id);
	cr_assert(slurp_until(tr, buf, sizeof(buf), &len, want),
		  "no '%s' in:\n%s", want, buf);
	close(c);
	close(tr);
	integ_unmount();
}

/*
 * A counter without a name is "(unlinked)" in the trace and in status
 * alike (status said "-"), with its id; status names its creator and the
 * process parked reading it.
 */
INTEG_TEST(trace_story, unlinked_label_and_waiters_in_trace_and_status, 60)
{
	struct evt_mount *m = integ_mount(NULL);
	static char buf[1 << 16];
	char path[PATH_MAX], want[200], st[4096];
	size_t len = 0;
	long long id;
	uint64_t v;
	pid_t child;
	int tr, c, s;

	tr = open_trace(m->dir, O_NONBLOCK);
	cr_assert(tr >= 0);
	c = evt_create_counter(m->dir, "gone", 0, false, 0);
	id = integ_field(m->dir, "gone", "id");
	cr_assert_eq(unlink(evt_path(path, sizeof(path), m->dir, "gone")), 0);
	child = integ_fork();
	if (child == 0)
		_exit(integ_read_u64(c, &v) == 0 && v == 3 ? 0 : 2);
	cr_assert(integ_wait_field_by_id(m->dir, (uint64_t)id, "readers", 1,
					 INTEG_WAIT_MS));
	cr_assert_gt(integ_status(m->dir, st, sizeof(st)), 0);
	snprintf(want, sizeof(want),
		 "counter (unlinked) id=%lld count=0 semaphore=0 linked=0 ",
		 id);
	cr_assert(strstr(st, want), "no '%s' in:\n%s", want, st);
	snprintf(want, sizeof(want),
		 " creator=%d readpids=%d writepids=- pollpids=-\n",
		 (int)getpid(), (int)child);
	cr_assert(strstr(st, want), "no '%s' in:\n%s", want, st);
	cr_assert_eq(integ_write_u64(c, 3), 0);
	cr_assert_eq(integ_reap(child, &s, INTEG_WAIT_MS), 0);
	cr_assert_eq(integ_exit_code(s), 0);
	snprintf(want, sizeof(want), " read (unlinked) id=%lld pid=%d val=3 ",
		 id, (int)child);
	cr_assert(slurp_until(tr, buf, sizeof(buf), &len, want),
		  "no '%s' in:\n%s", want, buf);
	snprintf(want, sizeof(want), " write (unlinked) id=%lld pid=%d val=3 ",
		 id, (int)getpid());
	cr_assert(strstr(buf, want), "no '%s' in:\n%s", want, buf);
	close(c);
	close(tr);
	integ_unmount();
}

/*
 * -o trace_max caps the readers' buffers together: each open reserves
 * 2 KiB of it, and the open past the cap fails with ENFILE; a close makes
 * room again.
 */
INTEG_TEST(trace_story, open_beyond_trace_max_is_enfile, 60)
{
	static const char *const args[] = { "-o", "trace_max=8192", NULL };
	struct evt_mount *m = integ_mount(args);
	int fds[4], fd, i;

	for (i = 0; i < 4; i++) {
		fds[i] = open_trace(m->dir, 0);
		cr_assert(fds[i] >= 0, "open %d: %s", i, strerror(errno));
	}
	fd = open_trace(m->dir, 0);
	cr_assert_lt(fd, 0, "a fifth reader fit in 8 KiB");
	cr_assert_eq(errno, ENFILE, "%s", strerror(errno));
	close(fds[0]);
	fds[0] = open_trace(m->dir, 0);
	cr_assert(fds[0] >= 0, "no room after a close: %s", strerror(errno));
	for (i = 0; i < 4; i++)
		close(fds[i]);
	integ_unmount();
}

static long rss_kb(pid_t pid)
{
	char path[64], buf[4096], *p;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (integ_read_file(path, buf, sizeof(buf)) <= 0)
		return -1;
	p = strstr(buf, "VmRSS:");
	return p ? strtol(p + 6, NULL, 10) : -1;
}

/*
 * 4,000 trace readers that never read, and enough events to fill 64 KiB
 * buffers: the daemon's RSS grows by the cap (8 MiB) and bookkeeping, not
 * by 4,000 x 64 KiB (it grew by 250 MB).  The bound is generous.
 */
INTEG_TEST(trace_story, idle_readers_leave_rss_bounded, 180)
{
	enum { READERS = 4000, EVENTS = 1500 };
	struct evt_mount *m = integ_mount(NULL);
	static int fds[READERS];
	struct rlimit rl;
	long before, after;
	int c, i;

	cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_cur < READERS + 64) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
		if (rl.rlim_cur < READERS + 64)
			cr_skip_test("RLIMIT_NOFILE %llu: no room for %d "
				     "descriptors",
				     (unsigned long long)rl.rlim_cur, READERS);
	}
	c = evt_create_counter(m->dir, "busy", 0, false, O_NONBLOCK);
	before = rss_kb(m->pid);
	cr_assert_gt(before, 0);
	for (i = 0; i < READERS; i++) {
		fds[i] = open_trace(m->dir, 0);
		cr_assert(fds[i] >= 0, "open %d: %s", i, strerror(errno));
	}
	for (i = 0; i < EVENTS; i++)
		cr_assert_eq(integ_write_u64(c, 1), 0);
	after = rss_kb(m->pid);
	cr_assert_lt(after - before, 48 * 1024, "RSS grew from %ld to %ld KiB",
		     before, after);
	for (i = 0; i < READERS; i++)
		close(fds[i]);
	close(c);
	integ_unmount();
}

static void as_nobody_open_trace(const char *mnt, pid_t *child, int p2c[2],
				 int c2p[2])
{
	char c;

	cr_assert_eq(pipe(p2c), 0);
	cr_assert_eq(pipe(c2p), 0);
	*child = integ_fork();
	if (*child == 0) {
		int fd;

		close(p2c[1]);
		close(c2p[0]);
		if (setgroups(0, NULL) || setgid(NOBODY) || setuid(NOBODY))
			_exit(90);
		fd = open_trace(mnt, O_NONBLOCK);
		if (fd < 0 || write(c2p[1], "o", 1) != 1)
			_exit(91);
		(void)!read(p2c[0], &c, 1); /* until the parent is done */
		_exit(0);
	}
	close(p2c[0]);
	close(c2p[1]);
	cr_assert_eq(read(c2p[0], &c, 1), 1, "nobody could not open trace");
}

/*
 * An event that no reader may see is not formatted at all: with one
 * reader (uid 65534) who may not read a 0600 counter, a thousand writes
 * of that counter leave the count of formatted events (status's trace
 * line) where it was; a write of a counter it may read moves it.
 */
INTEG_TEST(trace_story, events_nobody_may_see_are_not_formatted, 90)
{
	static const char *const args[] = { "-o", "allow_other", NULL };
	struct evt_mount *m = integ_mount(args);
	long long f0, f1, f2;
	int c, pub, p2c[2], c2p[2], s, i;
	pid_t child;

	if (geteuid() != 0)
		cr_skip_test("needs root to run a reader as uid 65534");
	c = evt_create_counter(m->dir, "private", 0, false, O_NONBLOCK);
	cr_assert_eq(fchmod(c, 0600), 0);
	pub = evt_create_counter(m->dir, "public", 0, false, O_NONBLOCK);
	cr_assert_eq(fchmod(pub, 0644), 0);
	as_nobody_open_trace(m->dir, &child, p2c, c2p);
	f0 = status_key(m->dir, "trace ", "formatted");
	cr_assert_geq(f0, 0, "no trace line in status");
	cr_assert_eq(status_key(m->dir, "trace ", "readers"), 1);
	for (i = 0; i < 1000; i++)
		cr_assert_eq(integ_write_u64(c, 1), 0);
	f1 = status_key(m->dir, "trace ", "formatted");
	cr_assert_eq(f1, f0, "%lld events formatted for nobody", f1 - f0);
	cr_assert_eq(integ_write_u64(pub, 1), 0);
	f2 = status_key(m->dir, "trace ", "formatted");
	cr_assert_eq(f2, f1 + 1);
	cr_assert_eq(write(p2c[1], "x", 1), 1);
	cr_assert_eq(integ_reap(child, &s, INTEG_WAIT_MS), 0);
	cr_assert_eq(integ_exit_code(s), 0);
	close(p2c[1]);
	close(c2p[0]);
	close(c);
	close(pub);
	integ_unmount();
}

/*
 * A reader whose buffer is full costs nothing either: events are counted
 * as dropped, not formatted; what it finally reads accounts for every
 * event (lines + dropped).
 */
INTEG_TEST(trace_story, a_full_reader_gets_nothing_formatted, 60)
{
	static const char *const args[] = { "-o", "trace_buf=1024", NULL };
	struct evt_mount *m = integ_mount(args);
	static char buf[1 << 16];
	unsigned long long n, lines = 0, dropped = 0;
	long long f0, f1;
	char *line;
	ssize_t got;
	int c, tr, i;

	tr = open_trace(m->dir, O_NONBLOCK);
	cr_assert(tr >= 0);
	c = evt_create_counter(m->dir, "flood", 0, false, O_NONBLOCK);
	f0 = status_key(m->dir, "trace ", "formatted");
	for (i = 0; i < 1000; i++)
		cr_assert_eq(integ_write_u64(c, 1), 0);
	f1 = status_key(m->dir, "trace ", "formatted");
	cr_assert_lt(f1 - f0, 100,
		     "%lld of 1000 events formatted for a full "
		     "reader",
		     f1 - f0);
	got = read(tr, buf, sizeof(buf) - 1);
	cr_assert_gt(got, 0);
	buf[got] = '\0';
	for (line = buf; *line;) {
		if (sscanf(line, "%*u - dropped %llu", &n) == 1)
			dropped += n;
		else
			lines++;
		line = strchr(line, '\n');
		cr_assert(line);
		line++;
	}
	cr_assert_eq(lines + dropped, 1001ull, "%llu lines, %llu dropped:\n%s",
		     lines, dropped, buf);
	close(c);
	close(tr);
	integ_unmount();
}

/*
 * `tail -f trace` follows the stream: it printed nothing, reading to an
 * end of file that a stream never reaches.  Its output shows the events
 * that come after it started, and its stderr stays empty (no "file
 * truncated").
 */
INTEG_TEST(trace_story, tail_f_follows_the_trace, 60)
{
	struct evt_mount *m = integ_mount(NULL);
	static char out[1 << 16];
	char path[PATH_MAX], err[4096], errpath[] = "/tmp/evfdfs-tail-XXXXXX";
	int p[2], c, e, i, s;
	size_t len = 0;
	pid_t child;

	e = mkstemp(errpath);
	cr_assert(e >= 0);
	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	child = integ_fork();
	if (child == 0) {
		dup2(p[1], 1);
		dup2(e, 2);
		execlp("tail", "tail", "-f",
		       evt_path(path, sizeof(path), m->dir, "trace"),
		       (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	/* tail has the trace open once status counts a reader */
	for (i = 0; i < 300 && status_key(m->dir, "trace ", "readers") != 1;
	     i++)
		usleep(20000);
	cr_assert_eq(status_key(m->dir, "trace ", "readers"), 1);
	c = evt_create_counter(m->dir, "tailed", 0, false, O_NONBLOCK);
	for (i = 0; i < 200; i++)
		cr_assert_eq(integ_write_u64(c, 1), 0);
	cr_assert(slurp_until(p[0], out, sizeof(out), &len,
			      " write tailed id=1 pid="),
		  "tail -f printed:\n%s", out);
	cr_assert(slurp_until(p[0], out, sizeof(out), &len, " count=200\n"),
		  "tail -f printed:\n%s", out);
	kill(child, SIGTERM);
	cr_assert_eq(integ_reap(child, &s, INTEG_WAIT_MS), 0);
	cr_assert_gt(integ_read_file(errpath, err, sizeof(err)), -1);
	cr_assert_str_empty(err, "tail said: %s", err);
	close(e);
	unlink(errpath);
	close(p[0]);
	close(c);
	integ_unmount();
}

static void on_usr1(int sig)
{
	(void)sig;
}

/* A child that reads counter @name once; SIGUSR1 only interrupts it. */
static pid_t reader_child(const char *mnt, const char *name)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	char path[PATH_MAX];
	uint64_t v;
	pid_t pid = integ_fork();
	int fd;

	if (pid)
		return pid;
	sigaction(SIGUSR1, &sa, NULL);
	fd = open(evt_path(path, sizeof(path), mnt, name), O_RDONLY);
	_exit(fd >= 0 && integ_read_u64(fd, &v) == 0 ? 0 : 4);
}

/* Is @event documented as an entry of evfdfs(7) (".B event" alone)? */
static bool in_man(const char *man, const char *event)
{
	char pat[64];

	/* Event names are short words; a longer one is no entry. */
	if (snprintf(pat, sizeof(pat), "\n.B %s\n", event) >= (int)sizeof(pat))
		return false;
	return strstr(man, pat) != NULL;
}

/* Add the event @name (up to a space or quote) to @list if new. */
static void add_event(char list[][32], size_t *n, const char *name)
{
	size_t len = strcspn(name, " \"\n"), i;

	if (!len || len >= 32 || *n >= 64)
		return;
	for (i = 0; i < *n; i++)
		if (strlen(list[i]) == len && !strncmp(list[i], name, len))
			return;
	memcpy(list[*n], name, len);
	list[(*n)++][len] = '\0';
}

/*
 * The event a call at @call (TRACE_CN( or trace_emit() names: the first
 * word of its first string, if that string comes before the call's end
 * (a definition or a comment has none).  Returns where to look next.
 */
static const char *call_event(char list[][32], size_t *n, const char *call)
{
	const char *q = strchr(call, '"'), *end = strchr(call, ';');

	if (q && (!end || q < end))
		add_event(list, n, q + 1);
	return call + 1;
}

/*
 * Every event the daemon emits is an entry of evfdfs(7), with an example.
 * Driven: a scenario that makes every event but `refused` (a caller that
 * dies between the daemon's answer and its reading of it) happen, and
 * each event name in its trace must be documented.  Read from the
 * sources (every .c file of fused/): the event names of every TRACE_CN()
 * and trace_emit() call, so that a new event cannot go undocumented.
 */
INTEG_TEST(trace_story, every_event_is_in_evfdfs_7, 90)
{
	struct evt_mount *m = integ_mount(NULL);
	static char buf[1 << 17], man[1 << 17], src[1 << 17];
	char path[PATH_MAX], line[PATH_MAX + 64],
		file[] = "/var/tmp/evfdfs-ev-XXXXXX";
	char seen[64][32], named[64][32];
	glob_t sources;
	size_t len = 0, nseen = 0, nnamed = 0, i;
	pid_t child;
	uint64_t v;
	int tr, c, t, f, s;
	char one;
	const char *p;

	tr = open_trace(m->dir, O_NONBLOCK);
	cr_assert(tr >= 0);
	f = mkstemp(file);
	cr_assert(f >= 0);
	cr_assert_eq(write(f, "data", 4), 4);
	close(f);
	c = evt_create_counter(m->dir, "ev", 0, false, 0);
	cr_assert_eq(integ_write_u64(c, 2), 0);
	cr_assert_eq(integ_read_u64(c, &v), 0);
	child = reader_child(m->dir, "ev"); /* park, wake */
	cr_assert(integ_wait_field(m->dir, "ev", "readers", 1, INTEG_WAIT_MS));
	cr_assert_eq(integ_write_u64(c, 1), 0);
	cr_assert_eq(integ_reap(child, &s, INTEG_WAIT_MS), 0);
	child = reader_child(m->dir, "ev"); /* interrupt */
	cr_assert(integ_wait_field(m->dir, "ev", "readers", 1, INTEG_WAIT_MS));
	cr_assert_eq(kill(child, SIGUSR1), 0);
	cr_assert_eq(integ_reap(child, &s, INTEG_WAIT_MS), 0);
	child = integ_fork(); /* poll, notify */
	if (child == 0) {
		struct pollfd pf = { .fd = c, .events = POLLIN };

		_exit(poll(&pf, 1, INTEG_WAIT_MS) == 1 ? 0 : 2);
	}
	cr_assert(integ_wait_field(m->dir, "ev", "pollers", 1, INTEG_WAIT_MS));
	cr_assert_eq(integ_write_u64(c, 3), 0);
	cr_assert_eq(integ_reap(child, &s, INTEG_WAIT_MS), 0);
	evt_path(path, sizeof(path), m->dir, "ev");
	cr_assert_eq(setxattr(path, "user.evfdfs.value", "3", 1, 0), 0);
	cr_assert_eq(setxattr(path, "user.evfdfs.semaphore", "1", 1, 0), 0);
	t = integ_open(m->dir, "ev", true, O_RDONLY); /* unread */
	cr_assert_eq(read(t, &one, 1), 1);
	close(t);
	t = open(evt_path(path, sizeof(path), m->dir, "aio.txt"),
		 O_RDWR | O_CLOEXEC); /* aio-open */
	cr_assert(t >= 0);
	snprintf(line, sizeof(line), "pread data=a resfd=ev %s 0 4\n", file);
	cr_assert_eq(write(t, line, strlen(line)), (ssize_t)strlen(line));
	close(evt_create_counter(m->dir, "empty", 0, false, 0));
	snprintf(line, sizeof(line), "poll data=p %s/empty in\ncancel p\n",
		 m->dir);
	cr_assert_eq(write(t, line, strlen(line)), (ssize_t)strlen(line));
	close(t); /* aio-release */
	cr_assert(slurp_until(tr, buf, sizeof(buf), &len, " aio-release "),
		  "%s", buf);
	evt_path(path, sizeof(path), m->dir, "ev");
	cr_assert_eq(rename(path, evt_path(line, sizeof(line), m->dir, "ev2")),
		     0);
	cr_assert_eq(unlink(line), 0);
	cr_assert(slurp_until(tr, buf, sizeof(buf), &len, " unlink ev2 "), "%s",
		  buf);
	close(c);
	unlink(file);

	cr_assert_gt(integ_read_file("man/evfdfs.7", man, sizeof(man)), 0);
	for (p = buf; *p;) {
		const char *e = p;
		int k;

		for (k = 0; k < 2 && e; k++) { /* skip SEQ and SECONDS */
			e = strchr(e, ' ');
			e = e ? e + 1 : NULL;
		}
		if (e && *p != '-')
			add_event(seen, &nseen, e);
		p = strchr(p, '\n');
		p = p ? p + 1 : "";
	}
	cr_assert_geq(nseen, 19u, "only %zu kinds of events driven:\n%s", nseen,
		      buf);
	for (i = 0; i < nseen; i++)
		cr_expect(in_man(man, seen[i]),
			  "event '%s' is not in evfdfs(7)", seen[i]);

	cr_assert_eq(glob("fused/*.c", 0, NULL, &sources), 0);
	for (i = 0; i < sources.gl_pathc; i++) {
		cr_assert_gt(
			integ_read_file(sources.gl_pathv[i], src, sizeof(src)),
			0, "%s", sources.gl_pathv[i]);
		for (p = src; (p = strstr(p, "TRACE_CN("));)
			p = call_event(named, &nnamed, p);
		for (p = src; (p = strstr(p, "trace_emit("));)
			p = call_event(named, &nnamed, p);
	}
	globfree(&sources);
	cr_assert_geq(nnamed, 20u, "the sources name %zu events", nnamed);
	for (i = 0; i < nnamed; i++)
		cr_expect(in_man(man, named[i]),
			  "event '%s' (in the sources) is not in evfdfs(7)",
			  named[i]);
	close(tr);
	integ_unmount();
}
