// SPDX-License-Identifier: GPL-2.0-only
/*
 * evfdfs-top, the live view, as the room sees it: run on a pseudo-terminal
 * against a private mount, its screen is read back through a small
 * terminal emulator (vt.c) while counters are made, a reader blocks and a
 * write releases it; the screen must show each counter with its value and
 * mode, the blocked pid, and the events.  It redraws on a resize, leaves
 * colour out under NO_COLOR, gives the terminal back when q is pressed,
 * and prints text frames when its output is not a terminal.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "integ.h"
#include "toolrun.h"
#include "vt.h"

#define WAIT_MS INTEG_WAIT_MS

struct tty {
	pid_t pid;
	int fd;
	struct vt vt;
	char *log; /* everything it wrote */
	size_t loglen, logcap;
};

/* Run evfdfs-top @args... @mnt on a new pseudo-terminal of @rows x @cols. */
static void tty_start(struct tty *t, const char *mnt, int rows, int cols,
		      const char *arg, bool no_color)
{
	struct winsize ws = { .ws_row = (unsigned short)rows,
			      .ws_col = (unsigned short)cols };
	char path[PATH_MAX];
	pid_t parent = getpid();

	tool_path("evfdfs-top", path, sizeof(path));
	memset(t, 0, sizeof(*t));
	fflush(NULL);
	t->pid = forkpty(&t->fd, NULL, NULL, &ws);
	cr_assert(t->pid >= 0, "forkpty: %s", strerror(errno));
	if (t->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(99);
		setenv("TERM", "xterm-256color", 1);
		setenv("LC_ALL", "C.UTF-8", 1);
		if (no_color)
			setenv("NO_COLOR", "1", 1);
		else
			unsetenv("NO_COLOR");
		if (arg)
			execl(path, path, arg, mnt, (char *)NULL);
		else
			execl(path, path, mnt, (char *)NULL);
		_exit(127);
	}
	integ_adopt(t->pid);
	fcntl(t->fd, F_SETFL, fcntl(t->fd, F_GETFL) | O_NONBLOCK);
	vt_init(&t->vt, rows, cols);
}

/* Take what it wrote (waiting at most @ms for something); false at EOF. */
static bool tty_pump(struct tty *t, int ms)
{
	struct pollfd p = { .fd = t->fd, .events = POLLIN };
	char buf[8192];
	ssize_t n;

	if (poll(&p, 1, ms) <= 0)
		return true;
	while ((n = read(t->fd, buf, sizeof(buf))) > 0) {
		vt_feed(&t->vt, buf, (size_t)n);
		if (t->loglen + (size_t)n + 1 > t->logcap) {
			t->logcap = (t->loglen + (size_t)n + 1) * 2;
			t->log = realloc(t->log, t->logcap);
			cr_assert(t->log);
		}
		memcpy(t->log + t->loglen, buf, (size_t)n);
		t->loglen += (size_t)n;
		t->log[t->loglen] = '\0';
	}
	return !(n == 0 || (n < 0 && errno == EIO));
}

/* Wait until one row of the screen holds every string of @all. */
static int tty_wait(struct tty *t, const char *const *all)
{
	long long deadline = evt_now_ms() + WAIT_MS;
	int r;

	while ((r = vt_find(&t->vt, all)) < 0 && evt_now_ms() < deadline)
		if (!tty_pump(t, 200))
			break;
	if (r < 0) {
		static char screen[65536];
		char want[512] = "";

		for (int i = 0; all[i]; i++)
			snprintf(want + strlen(want),
				 sizeof(want) - strlen(want), "[%s] ", all[i]);
		cr_assert(r >= 0, "no row with %s on the screen:\n%s", want,
			  vt_dump(&t->vt, screen, sizeof(screen)));
	}
	return r;
}

#define ROW(t, ...) tty_wait((t), (const char *const[]){ __VA_ARGS__, NULL })

/* Press @keys, then wait for it to exit; returns its exit code. */
static int tty_quit(struct tty *t, const char *keys)
{
	long long deadline = evt_now_ms() + WAIT_MS;
	int status = 0;

	cr_assert_eq(write(t->fd, keys, strlen(keys)), (ssize_t)strlen(keys));
	while (tty_pump(t, 200) && evt_now_ms() < deadline)
		if (waitpid(t->pid, &status, WNOHANG) == t->pid)
			break;
	cr_assert_eq(integ_reap(t->pid, &status, WAIT_MS), 0,
		     "evfdfs-top did not quit on '%s'", keys);
	return integ_exit_code(status);
}

static void tty_close(struct tty *t)
{
	close(t->fd);
	vt_free(&t->vt);
	free(t->log);
}

/* Is there an SGR with a colour (30-37, 38, 90-97) in @s? */
static bool has_colour(const char *s)
{
	while ((s = strstr(s, "\033["))) {
		const char *p = s + 2;
		size_t n = strspn(p, "0123456789;");

		if (p[n] == 'm') {
			for (const char *q = p; q < p + n;) {
				int v = atoi(q);

				if ((v >= 30 && v <= 38) ||
				    (v >= 90 && v <= 97))
					return true;
				q += strcspn(q, ";");
				if (*q == ';')
					q++;
				else
					break;
			}
		}
		s = p;
	}
	return false;
}

/* A child that reads @name of @mnt once (8 bytes) and exits 0 on @want. */
static pid_t blocked_reader(const char *mnt, const char *name, uint64_t want)
{
	pid_t pid = integ_fork();

	if (pid == 0) {
		int fd = integ_open(mnt, name, false, O_RDONLY);
		uint64_t v = 0;

		_exit(read(fd, &v, 8) == 8 && v == want ? 0 : 1);
	}
	return pid;
}

INTEG_TEST(top, screen_shows_counters_blocked_pid_and_events, 120)
{
	struct evt_mount *m = integ_mount(NULL);
	struct tty t;
	char pid[32], pidkv[48], me[48];
	struct termios tio;
	int fd, done, status, r;
	pid_t rd;

	fd = evt_create_counter(m->dir, "jobs", 0, false, 0);
	tty_start(&t, m->dir, 40, 110, NULL, false);
	ROW(&t, "evfdfs-top", m->dir);
	ROW(&t, "jobs");
	ROW(&t, "count 0", "normal");

	rd = blocked_reader(m->dir, "jobs", 5);
	snprintf(pid, sizeof(pid), "%d", (int)rd);
	snprintf(pidkv, sizeof(pidkv), "pid=%d", (int)rd);
	r = ROW(&t, "reading", pid);
	cr_assert_eq(r, ROW(&t, "reading"),
		     "the blocked pid is not on the "
		     "first counter's reading row");
	ROW(&t, "park", "jobs", pidkv, "op=read");

	cr_assert_eq(integ_write_u64(fd, 5), 0);
	cr_assert_eq(integ_reap(rd, &status, WAIT_MS), 0);
	cr_assert_eq(integ_exit_code(status), 0);
	snprintf(me, sizeof(me), "pid=%d", (int)getpid());
	ROW(&t, "write", "jobs", me, "val=5");
	ROW(&t, "read", "jobs", pidkv, "val=5");

	/* A second counter: its value in big digits too, and its mode. */
	done = evt_create_counter(m->dir, "done", 42, true, 0);
	ROW(&t, "done");
	ROW(&t, "count 42", "semaphore");
	ROW(&t, "█ █ ▀▀█"); /* the top row of a big "42" */
	cr_assert(has_colour(t.log), "no colour on an xterm");

	cr_assert_eq(tty_quit(&t, "q"), 0);
	/* The terminal is given back: main screen, cursor, line mode. */
	cr_assert(strstr(t.log, "\033[?1049l"), "the alternate screen is "
						"still on");
	cr_assert(!t.vt.alt && !t.vt.cursor_hidden);
	cr_assert_eq(tcgetattr(t.fd, &tio), 0);
	cr_assert(tio.c_lflag & ICANON, "left the terminal without ICANON");
	cr_assert(tio.c_lflag & ECHO, "left the terminal without ECHO");
	tty_close(&t);
	close(fd);
	close(done);
}

INTEG_TEST(top, redraws_on_resize_without_colour_under_no_color, 120)
{
	struct evt_mount *m = integ_mount(NULL);
	struct winsize ws = { .ws_row = 16, .ws_col = 60 };
	struct tty t;
	int fd;

	fd = evt_create_counter(m->dir, "jobs", 7, false, 0);
	tty_start(&t, m->dir, 40, 110, NULL, true);
	ROW(&t, "jobs");
	ROW(&t, "#1"); /* big layout: the id under the name */
	cr_assert_lt(vt_find(&t.vt,
			     (const char *const[]){ "jobs", "reading", NULL }),
		     0, "one line per counter on a large screen");

	/* Narrower: one line per counter, redrawn with no event at all. */
	cr_assert_eq(ioctl(t.fd, TIOCSWINSZ, &ws), 0);
	vt_resize(&t.vt, 16, 60);
	ROW(&t, "jobs", "7", "reading");
	ROW(&t, "evfdfs-top");
	cr_assert(!has_colour(t.log), "colour despite NO_COLOR");
	cr_assert(strstr(t.log, "\033[0;1m"), "not even bold under NO_COLOR");

	/* Ctrl-C quits as q does. */
	cr_assert_eq(tty_quit(&t, "\003"), 0);
	cr_assert(!t.vt.alt);
	tty_close(&t);
	close(fd);
}

/* Read @fd into @buf until a line holds every string of @all (bounded). */
static void plain_wait(int fd, char *buf, size_t len, size_t *have,
		       const char *const *all)
{
	long long deadline = evt_now_ms() + WAIT_MS;
	char want[512] = "";

	while (!text_line_with(buf, all) && evt_now_ms() < deadline) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&pf, 1, 200) <= 0)
			continue;
		n = read(fd, buf + *have, len - 1 - *have);
		if (n <= 0)
			break;
		*have += (size_t)n;
		buf[*have] = '\0';
	}
	for (int i = 0; all[i]; i++)
		snprintf(want + strlen(want), sizeof(want) - strlen(want),
			 "[%s] ", all[i]);
	cr_assert(text_line_with(buf, all), "no line with %s in:\n%s", want,
		  buf);
}

#define PLAIN(...)                                \
	plain_wait(p[0], buf, sizeof(buf), &have, \
		   (const char *const[]){ __VA_ARGS__, NULL })

INTEG_TEST(top, plain_frames_when_not_a_terminal, 120)
{
	struct evt_mount *m = integ_mount(NULL);
	static char buf[1 << 18];
	char path[PATH_MAX], want[PATH_MAX + 64], pidkv[32], me[32];
	size_t have = 0;
	int p[2], fd, status;
	pid_t top, rd;

	tool_path("evfdfs-top", path, sizeof(path));
	fd = evt_create_counter(m->dir, "jobs", 0, true, 0);
	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	top = integ_fork();
	if (top == 0) {
		dup2(p[1], 1);
		execl(path, path, m->dir, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	buf[0] = '\0';
	snprintf(want, sizeof(want), "--- evfdfs-top %s frame 0: 1 counters",
		 m->dir);
	PLAIN(want);
	PLAIN("counter jobs id=1 count=0 mode=semaphore reading=- writing=- "
	      "polling=-");

	/* A reader blocks: its park, and a frame naming it as reading. */
	rd = blocked_reader(m->dir, "jobs", 1);
	snprintf(pidkv, sizeof(pidkv), " pid=%d ", (int)rd);
	PLAIN("event ", " park jobs ", pidkv, " op=read");
	snprintf(want, sizeof(want),
		 "counter jobs id=1 count=0 mode=semaphore reading=%d "
		 "writing=- polling=-",
		 (int)rd);
	PLAIN(want);

	/* A write releases it. */
	cr_assert_eq(integ_write_u64(fd, 1), 0);
	cr_assert_eq(integ_reap(rd, &status, WAIT_MS), 0);
	snprintf(me, sizeof(me), " pid=%d ", (int)getpid());
	PLAIN("event ", " write jobs ", me, " val=1 ");
	PLAIN("event ", " read jobs ", pidkv, " val=1 ");
	cr_assert(!strchr(buf, '\033'), "escapes in plain output:\n%s", buf);

	/* It ends on SIGTERM, exit 0. */
	kill(top, SIGTERM);
	cr_assert_eq(integ_reap(top, &status, WAIT_MS), 0);
	cr_assert_eq(integ_exit_code(status), 0);
	close(p[0]);
	close(fd);
}

INTEG_TEST(top, plain_option_on_a_terminal, 60)
{
	struct evt_mount *m = integ_mount(NULL);
	struct tty t;
	int fd = evt_create_counter(m->dir, "jobs", 3, false, 0);
	long long deadline = evt_now_ms() + WAIT_MS;

	tty_start(&t, m->dir, 24, 80, "--plain", false);
	while ((!t.log || !strstr(t.log, "counter jobs id=1 count=3 "
					 "mode=normal")) &&
	       evt_now_ms() < deadline)
		tty_pump(&t, 200);
	cr_assert(t.log && strstr(t.log, "counter jobs id=1 count=3"), "%s",
		  t.log ? t.log : "(nothing)");
	cr_assert(!strchr(t.log, '\033'), "escapes with --plain:\n%s", t.log);
	kill(t.pid, SIGTERM);
	cr_assert_eq(integ_reap(t.pid, &(int){ 0 }, WAIT_MS), 0);
	tty_close(&t);
	close(fd);
}
