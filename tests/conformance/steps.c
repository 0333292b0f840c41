// SPDX-License-Identifier: GPL-2.0-only
/*
 * Steps of conformance cases that either backend runs the same way: one-line
 * reads, writes and readiness checks that record what they saw, a counting
 * signal handler, and blocking calls run in a background thread or child
 * (struct bg).  A background call is observed only through deadlines:
 * "it sleeps in its system call" (read from /proc: its state is S and
 * /proc/.../syscall names the call), "it finished within N ms"; no
 * wall-clock duration is ever asserted.
 *
 * Workers never call Criterion: they report through a pipe, and only the
 * test's main thread asserts.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend.h"

void rec_read(struct evt_transcript *t, const char *label, int fd)
{
	uint64_t v = 0;
	ssize_t n;

	errno = 0;
	n = read(fd, &v, sizeof(v));
	if (n < 0)
		evt_rec(t, "%s: err=%s", label, evt_errname(errno));
	else
		evt_rec(t, "%s: ret=%zd val=%llu", label, n,
			(unsigned long long)v);
}

void rec_write(struct evt_transcript *t, const char *label, int fd,
	       uint64_t val)
{
	REC(t, label, write(fd, &val, sizeof(val)));
}

void rec_count(struct evt_transcript *t, const char *label,
	       const struct backend *b, int fd)
{
	evt_rec(t, "%s: count=%llu", label, (unsigned long long)b->peek(fd));
}

void rec_poll(struct evt_transcript *t, const char *label, int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };
	int n;

	errno = 0;
	n = poll(&p, 1, 0);
	if (n < 0)
		evt_rec(t, "%s: err=%s", label, evt_errname(errno));
	else
		evt_rec(t, "%s: ret=%d revents=%#x", label, n,
			(unsigned int)p.revents);
}

void rec_select(struct evt_transcript *t, const char *label, int fd)
{
	struct timeval tv = { 0, 0 };
	fd_set r, w, x;
	int n;

	cr_assert(fd < FD_SETSIZE);
	FD_ZERO(&r);
	FD_ZERO(&w);
	FD_ZERO(&x);
	FD_SET(fd, &r);
	FD_SET(fd, &w);
	FD_SET(fd, &x);
	errno = 0;
	n = select(fd + 1, &r, &w, &x, &tv);
	if (n < 0)
		evt_rec(t, "%s: err=%s", label, evt_errname(errno));
	else
		evt_rec(t, "%s: ret=%d r=%d w=%d x=%d", label, n,
			FD_ISSET(fd, &r) != 0, FD_ISSET(fd, &w) != 0,
			FD_ISSET(fd, &x) != 0);
}

int epoll_on(int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };
	int epfd = epoll_create1(EPOLL_CLOEXEC);

	cr_assert(epfd >= 0, "epoll_create1: %s", strerror(errno));
	cr_assert(epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) == 0,
		  "EPOLL_CTL_ADD: %s", strerror(errno));
	return epfd;
}

void rec_epoll(struct evt_transcript *t, const char *label, int epfd)
{
	struct epoll_event ev[4];
	int n;

	errno = 0;
	n = epoll_wait(epfd, ev, 4, 0);
	if (n < 0)
		evt_rec(t, "%s: err=%s", label, evt_errname(errno));
	else if (n == 0)
		evt_rec(t, "%s: n=0", label);
	else
		evt_rec(t, "%s: n=%d events=%#x", label, n,
			(unsigned int)ev[0].events);
}

void set_nonblock(int fd, bool on)
{
	int fl = fcntl(fd, F_GETFL);

	cr_assert(fl >= 0, "F_GETFL: %s", strerror(errno));
	fl = on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK;
	cr_assert(fcntl(fd, F_SETFL, fl) == 0, "F_SETFL: %s", strerror(errno));
}

/* ---- signals ---------------------------------------------------------- */

static volatile sig_atomic_t delivered;

static void count_signal(int sig)
{
	(void)sig;
	delivered++;
}

void sig_install(int sig, bool restart)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = count_signal;
	sa.sa_flags = restart ? SA_RESTART : 0;
	sigemptyset(&sa.sa_mask);
	cr_assert(sigaction(sig, &sa, NULL) == 0, "sigaction: %s",
		  strerror(errno));
}

unsigned int sig_delivered(void)
{
	return (unsigned int)delivered;
}

/* ---- background calls ------------------------------------------------- */

struct bg_result {
	long ret;
	int err;
	uint64_t out;
};

static long bg_sysno(enum bg_op op)
{
	switch (op) {
	case BG_READ:
		return SYS_read;
	case BG_WRITE:
		return SYS_write;
	case BG_POLL:
		return SYS_ppoll;
	case BG_EPOLL:
		return SYS_epoll_pwait;
	}
	return -1;
}

/*
 * The call itself, through syscall() so that /proc/.../syscall shows
 * exactly the number bg_asleep() looks for.
 */
static void bg_do(struct bg *bg)
{
	struct bg_result r = { 0 };
	struct pollfd p = { .fd = bg->fd, .events = (short)bg->arg };
	struct epoll_event ev = { 0 };
	uint64_t v = bg->arg;
	ssize_t n;

	errno = 0;
	switch (bg->op) {
	case BG_READ:
		v = 0;
		r.ret = syscall(SYS_read, bg->fd, &v,
				bg->arg ? (size_t)bg->arg : sizeof(v));
		r.out = v;
		break;
	case BG_WRITE:
		r.ret = syscall(SYS_write, bg->fd, &v, sizeof(v));
		break;
	case BG_POLL:
		r.ret = syscall(SYS_ppoll, &p, 1, NULL, NULL, 8);
		r.out = (uint64_t)(unsigned short)p.revents;
		break;
	case BG_EPOLL:
		r.ret = syscall(SYS_epoll_pwait, bg->fd, &ev, 1, -1, NULL, 8);
		r.out = ev.events;
		break;
	}
	r.err = r.ret < 0 ? errno : 0;
	n = write(bg->pipe[1], &r, sizeof(r));
	(void)n;
}

static void *bg_thread(void *arg)
{
	struct bg *bg = arg;

	__atomic_store_n(&bg->id, (pid_t)syscall(SYS_gettid), __ATOMIC_RELEASE);
	bg_do(bg);
	return NULL;
}

void bg_start(struct bg *bg, enum bg_op op, int fd, uint64_t arg, bool child)
{
	pid_t pid;

	cr_assert(op != BG_READ || arg <= sizeof(uint64_t));
	memset(bg, 0, sizeof(*bg));
	bg->op = op;
	bg->fd = fd;
	bg->arg = arg;
	bg->child = child;
	cr_assert(pipe2(bg->pipe, O_CLOEXEC) == 0, "pipe: %s", strerror(errno));
	if (!child) {
		cr_assert(pthread_create(&bg->thr, NULL, bg_thread, bg) == 0);
		return;
	}
	pid = fork();
	cr_assert(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		close(bg->pipe[0]);
		bg_do(bg);
		_exit(0);
	}
	bg->id = pid;
	/* Only the child writes: a child that dies unheard gives EOF. */
	close(bg->pipe[1]);
	bg->pipe[1] = -1;
}

/* Read a small /proc file of the worker into @buf; false if it is gone. */
static bool bg_proc(const struct bg *bg, pid_t id, const char *what, char *buf,
		    size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	if (bg->child)
		snprintf(path, sizeof(path), "/proc/%d/%s", (int)id, what);
	else
		snprintf(path, sizeof(path), "/proc/self/task/%d/%s", (int)id,
			 what);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return true;
}

static bool bg_in_call(const struct bg *bg, pid_t id)
{
	char stat[512], sc[256];
	const char *p;
	long nr;

	if (!bg_proc(bg, id, "stat", stat, sizeof(stat)) ||
	    !bg_proc(bg, id, "syscall", sc, sizeof(sc)))
		return false;
	p = strrchr(stat, ')');
	if (!p || p[1] != ' ' || p[2] != 'S')
		return false;
	if (sscanf(sc, "%ld", &nr) != 1) /* "running" */
		return false;
	return nr == bg_sysno(bg->op);
}

bool bg_wait(struct bg *bg, int ms)
{
	struct pollfd p = { .events = POLLIN };
	long long deadline = evt_now_ms() + ms;
	struct bg_result r;
	ssize_t n;
	int left;

	if (bg->finished)
		return true;
	p.fd = bg->pipe[0];
	for (;;) {
		left = (int)(deadline - evt_now_ms());
		if (poll(&p, 1, left > 0 ? left : 0) == 1)
			break;
		if (left <= 0)
			return false;
	}
	n = read(bg->pipe[0], &r, sizeof(r));
	if (n == 0 && bg->child) {
		int status;

		/* Killed before it could report. */
		cr_assert(waitpid(bg->id, &status, 0) == bg->id);
		bg->reaped = true;
		bg->finished = true;
		bg->killed = WIFSIGNALED(status) ? WTERMSIG(status) : -1;
		return true;
	}
	cr_assert(n == sizeof(r), "background %s reported nothing (%zd)",
		  bg->child ? "child" : "thread", n);
	bg->finished = true;
	bg->ret = r.ret;
	bg->err = r.err;
	bg->out = r.out;
	return true;
}

bool bg_asleep(struct bg *bg)
{
	long long deadline = evt_now_ms() + BG_DEADLINE_MS;
	pid_t id;

	while (evt_now_ms() < deadline) {
		if (bg_wait(bg, 0))
			return false;
		id = __atomic_load_n(&bg->id, __ATOMIC_ACQUIRE);
		if (id && bg_in_call(bg, id))
			return true;
		usleep(1000);
	}
	cr_assert_fail("background call neither slept nor finished in %d ms",
		       BG_DEADLINE_MS);
	return false;
}

void bg_signal(struct bg *bg, int sig)
{
	if (bg->child)
		cr_assert(kill(bg->id, sig) == 0, "kill: %s", strerror(errno));
	else
		cr_assert(pthread_kill(bg->thr, sig) == 0);
}

void bg_rec(struct evt_transcript *t, const char *label, struct bg *bg, int ms)
{
	if (!bg_wait(bg, ms))
		evt_rec(t, "%s: blocked", label);
	else if (bg->killed)
		evt_rec(t, "%s: killed by %s", label,
			bg->killed > 0 ? sigabbrev_np(bg->killed) : "?");
	else if (bg->ret < 0)
		evt_rec(t, "%s: err=%s", label, evt_errname(bg->err));
	else if (bg->op == BG_READ)
		evt_rec(t, "%s: ret=%ld val=%llu", label, bg->ret,
			(unsigned long long)bg->out);
	else if (bg->op == BG_WRITE)
		evt_rec(t, "%s: ret=%ld", label, bg->ret);
	else
		evt_rec(t, "%s: ret=%ld out=%#llx", label, bg->ret,
			(unsigned long long)bg->out);
}

void bg_end(struct bg *bg)
{
	int status;

	cr_assert(bg_wait(bg, BG_DEADLINE_MS),
		  "background call still blocked at the end of the case");
	if (bg->child) {
		if (!bg->reaped)
			cr_assert(waitpid(bg->id, &status, 0) == bg->id);
	} else {
		cr_assert(pthread_join(bg->thr, NULL) == 0);
		close(bg->pipe[1]);
	}
	close(bg->pipe[0]);
}
