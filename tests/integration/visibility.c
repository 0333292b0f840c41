// SPDX-License-Identifier: GPL-2.0-only
/*
 * What status and trace show a caller, with allow_other (design.md,
 * Security: nobody learns through the daemon what it could not read
 * itself).  A counter's line and its trace events reach a reader only if
 * that reader could read the counter; an AIO context is its opener's.
 *
 * The rule is not written down here: for each counter a twin regular file
 * with the same owner, group and mode sits in a directory of the kernel's
 * filesystem, and the kernel's access(R_OK) on the twin, made by the same
 * unprivileged process, says what the status and the trace must show.
 * The same process's getxattr on the counter (which the kernel checks from
 * the counter's own mode) must agree too.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "integ.h"

#define NOBODY 65534 /* the reader's uid and primary gid */
#define GROUP 4242   /* one supplementary group of the reader */

static const mode_t modes[] = {
	0600, 0640, 0604, 0644, 0460, 0406, 0060, 0006,
	0000, 0400, 0040, 0004, 0200, 0020, 0002, 0666
};
static const struct {
	uid_t uid;
	gid_t gid;
} owners[] = {
	{ 0, 0 }, { NOBODY, 0 }, { 0, GROUP }, { NOBODY, GROUP }, { 0, NOBODY }
};

#define NMODES (sizeof(modes) / sizeof(modes[0]))
#define NOWNERS (sizeof(owners) / sizeof(owners[0]))
#define NCASES (NMODES * NOWNERS)

struct vis {
	struct evt_mount *m;
	char twins[64];
	char name[NCASES][64];
	char twin[NCASES][PATH_MAX];
	char marker[64];
};

static void vis_setup(struct vis *v)
{
	static const char *const argv[] = { "-o", "allow_other", NULL };
	size_t i;
	int fd;

	v->m = integ_mount(argv);
	snprintf(v->twins, sizeof(v->twins), "/var/tmp/evfdfs-vis-XXXXXX");
	cr_assert(mkdtemp(v->twins), "mkdtemp: %s", strerror(errno));
	cr_assert_eq(chmod(v->twins, 0755), 0);
	for (i = 0; i < NCASES; i++) {
		mode_t mode = modes[i % NMODES];
		uid_t uid = owners[i / NMODES].uid;
		gid_t gid = owners[i / NMODES].gid;

		evt_unique(v->name[i], sizeof(v->name[i]), "vis");
		fd = evt_create_counter(v->m->dir, v->name[i], 1, false, 0);
		cr_assert_eq(fchown(fd, uid, gid), 0, "%s", strerror(errno));
		cr_assert_eq(fchmod(fd, mode), 0, "%s", strerror(errno));
		close(fd);
		snprintf(v->twin[i], sizeof(v->twin[i]), "%s/%zu", v->twins, i);
		fd = open(v->twin[i], O_WRONLY | O_CREAT | O_EXCL, 0600);
		cr_assert(fd >= 0, "%s: %s", v->twin[i], strerror(errno));
		cr_assert_eq(fchown(fd, uid, gid), 0);
		cr_assert_eq(fchmod(fd, mode), 0);
		close(fd);
	}
	evt_unique(v->marker, sizeof(v->marker), "vis-marker");
	fd = evt_create_counter(v->m->dir, v->marker, 0, false, 0);
	cr_assert_eq(fchmod(fd, 0644), 0);
	close(fd);
}

static void vis_cleanup(struct vis *v)
{
	size_t i;

	for (i = 0; i < NCASES; i++)
		unlink(v->twin[i]);
	rmdir(v->twins);
	integ_unmount();
}

static void become_reader(void)
{
	gid_t groups[] = { GROUP };

	if (setgroups(1, groups) || setgid(NOBODY) || setuid(NOBODY))
		_exit(90);
}

/* Write 1 to counter @name of @mnt, as root. */
static void poke(const char *mnt, const char *name)
{
	char path[PATH_MAX];
	uint64_t one = 1;
	int fd = open(evt_path(path, sizeof(path), mnt, name),
		      O_WRONLY | O_CLOEXEC);

	cr_assert(fd >= 0, "%s: %s", path, strerror(errno));
	cr_assert_eq(write(fd, &one, 8), 8);
	close(fd);
}

/* Read @fd (non-blocking) until @want is in @buf or a deadline passes. */
static bool read_until(int fd, char *buf, size_t cap, const char *want)
{
	long long deadline = evt_now_ms() + INTEG_WAIT_MS;
	size_t len = strlen(buf);
	ssize_t n;

	while (!strstr(buf, want) && evt_now_ms() < deadline) {
		n = read(fd, buf + len, cap - 1 - len);
		if (n > 0)
			len += (size_t)n;
		buf[len] = '\0';
		if (n <= 0)
			usleep(2000);
		if (len + 1 >= cap)
			return false;
	}
	return strstr(buf, want) != NULL;
}

/*
 * Per counter, what an unprivileged reader is shown and what the kernel
 * lets it do: the reader opens the trace, the test writes 1 to every
 * counter as root, the reader reads the status and the trace and checks
 * the kernel.  Its answers come back as four characters per counter:
 * status line, trace line, getxattr, access() of the twin ('1' or '0').
 */
INTEG_TEST(visibility, status_and_trace_show_what_the_reader_could_read, 120)
{
	static struct vis v;
	static char answers[NCASES * 4 + 1];
	size_t i, seen = 0, hidden = 0;
	int c2p[2], p2c[2], st;
	char c;
	pid_t child;

	vis_setup(&v);
	cr_assert_eq(pipe(c2p), 0);
	cr_assert_eq(pipe(p2c), 0);
	child = integ_fork();
	cr_assert(child >= 0);
	if (child == 0) {
		static char status[1 << 20], trace[1 << 20];
		char path[PATH_MAX], want[128], line[128], val[32];
		long long shown = 0, header = -1;
		int tfd, ok;

		close(c2p[0]);
		close(p2c[1]);
		become_reader();
		tfd = open(evt_path(path, sizeof(path), v.m->dir, "trace"),
			   O_RDONLY | O_NONBLOCK);
		if (tfd < 0)
			_exit(91);
		if (write(c2p[1], "r", 1) != 1 || read(p2c[0], &c, 1) != 1)
			_exit(92);
		if (integ_status(v.m->dir, status, sizeof(status)) <= 0)
			_exit(93);
		snprintf(want, sizeof(want), "write %s id=", v.marker);
		trace[0] = '\0';
		if (!read_until(tfd, trace, sizeof(trace), want))
			_exit(94);
		for (i = 0; i < NCASES; i++) {
			snprintf(line, sizeof(line),
				 "counter %s id=", v.name[i]);
			answers[4 * i] = strstr(status, line) ? '1' : '0';
			shown += answers[4 * i] == '1';
			snprintf(line, sizeof(line), " %s id=", v.name[i]);
			answers[4 * i + 1] = strstr(trace, line) ? '1' : '0';
			ok = getxattr(evt_path(path, sizeof(path), v.m->dir,
					       v.name[i]),
				      "user.evfdfs.value", val,
				      sizeof(val)) >= 0;
			answers[4 * i + 2] = ok ? '1' : '0';
			answers[4 * i + 3] =
				access(v.twin[i], R_OK) == 0 ? '1' : '0';
		}
		/* the header counts what the lines show (and the marker) */
		if (sscanf(status, "evfdfs %*s counters=%lld", &header) != 1 ||
		    header != shown + 1)
			_exit(95);
		if (write(c2p[1], answers, NCASES * 4) != NCASES * 4)
			_exit(96);
		_exit(0);
	}
	close(c2p[1]);
	close(p2c[0]);
	cr_assert_eq(read(c2p[0], &c, 1), 1, "the reader did not start");
	for (i = 0; i < NCASES; i++)
		poke(v.m->dir, v.name[i]);
	poke(v.m->dir, v.marker);
	cr_assert_eq(write(p2c[1], "w", 1), 1);
	cr_assert_eq(read(c2p[0], answers, NCASES * 4), NCASES * 4);
	cr_assert_eq(integ_reap(child, &st, INTEG_WAIT_MS), 0);
	cr_assert_eq(integ_exit_code(st), 0, "the reader failed at step %d",
		     integ_exit_code(st));
	for (i = 0; i < NCASES; i++) {
		const char *a = answers + 4 * i;

		cr_expect_eq(a[0], a[3],
			     "mode %04o owner %d:%d: status %c, kernel %c",
			     modes[i % NMODES], (int)owners[i / NMODES].uid,
			     (int)owners[i / NMODES].gid, a[0], a[3]);
		cr_expect_eq(a[1], a[3],
			     "mode %04o owner %d:%d: trace %c, kernel %c",
			     modes[i % NMODES], (int)owners[i / NMODES].uid,
			     (int)owners[i / NMODES].gid, a[1], a[3]);
		cr_expect_eq(a[2], a[3],
			     "mode %04o owner %d:%d: getxattr %c, kernel %c",
			     modes[i % NMODES], (int)owners[i / NMODES].uid,
			     (int)owners[i / NMODES].gid, a[2], a[3]);
		seen += a[3] == '1';
		hidden += a[3] == '0';
	}
	/* the cases cover both answers, so the comparison means something */
	cr_expect(seen > 0 && hidden > 0, "seen %zu hidden %zu", seen, hidden);
	close(c2p[0]);
	close(p2c[1]);
	vis_cleanup(&v);
}

/* Root, who may read everything, is shown everything. */
INTEG_TEST(visibility, root_sees_every_counter, 60)
{
	static struct vis v;
	static char status[1 << 20];
	char line[128];
	size_t i;

	vis_setup(&v);
	cr_assert_gt(integ_status(v.m->dir, status, sizeof(status)), 0);
	for (i = 0; i < NCASES; i++) {
		snprintf(line, sizeof(line), "counter %s id=", v.name[i]);
		cr_expect(strstr(status, line), "no line for mode %04o",
			  modes[i % NMODES]);
	}
	vis_cleanup(&v);
}

/*
 * An AIO context is private to the user who opened it: another user's
 * status and trace do not show it; its opener and root see it.
 */
INTEG_TEST(visibility, aio_contexts_are_their_openers, 60)
{
	static const char *const argv[] = { "-o", "allow_other", NULL };
	static char status[1 << 20];
	struct evt_mount *m = integ_mount(argv);
	char path[PATH_MAX], mine[96], theirs[96];
	int c2p[2], p2c[2], st, t;
	pid_t child;
	char c;

	cr_assert_eq(pipe(c2p), 0);
	cr_assert_eq(pipe(p2c), 0);
	child = integ_fork();
	cr_assert(child >= 0);
	if (child == 0) {
		static char trace[1 << 16];
		int ct, tfd;

		close(c2p[0]);
		close(p2c[1]);
		become_reader();
		tfd = open(evt_path(path, sizeof(path), m->dir, "trace"),
			   O_RDONLY | O_NONBLOCK);
		ct = open(evt_path(path, sizeof(path), m->dir, "aio.txt"),
			  O_RDWR);
		if (tfd < 0 || ct < 0)
			_exit(91);
		if (write(ct, "setup 5\n", 8) != 8)
			_exit(92);
		/* the parent sets its own context up */
		if (write(c2p[1], "r", 1) != 1 || read(p2c[0], &c, 1) != 1)
			_exit(93);
		if (integ_status(m->dir, status, sizeof(status)) <= 0)
			_exit(94);
		snprintf(mine, sizeof(mine),
			 "pid=%d form=text open=1 "
			 "nr_events=5 ",
			 (int)getpid());
		snprintf(theirs, sizeof(theirs), "pid=%d form=text",
			 (int)getppid());
		if (!strstr(status, mine))
			_exit(95);
		if (strstr(status, theirs))
			_exit(96);
		snprintf(theirs, sizeof(theirs), "pid=%d nr=5", (int)getpid());
		trace[0] = '\0';
		if (!read_until(tfd, trace, sizeof(trace), theirs))
			_exit(97);
		snprintf(theirs, sizeof(theirs), "pid=%d nr=3", (int)getppid());
		if (strstr(trace, theirs))
			_exit(98);
		if (write(c2p[1], "d", 1) != 1 || read(p2c[0], &c, 1) != 1)
			_exit(99);
		_exit(0);
	}
	close(c2p[1]);
	close(p2c[0]);
	cr_assert_eq(read(c2p[0], &c, 1), 1, "the other user did not start");
	t = open(evt_path(path, sizeof(path), m->dir, "aio.txt"), O_RDWR);
	cr_assert(t >= 0);
	cr_assert_eq(write(t, "setup 3\n", 8), 8);
	cr_assert_eq(write(p2c[1], "g", 1), 1);
	cr_assert_eq(read(c2p[0], &c, 1), 1, "the other user failed");
	/* root sees both, while both are open */
	cr_assert_gt(integ_status(m->dir, status, sizeof(status)), 0);
	snprintf(mine, sizeof(mine), "pid=%d form=text open=1 nr_events=3 ",
		 (int)getpid());
	snprintf(theirs, sizeof(theirs), "pid=%d form=text open=1 nr_events=5 ",
		 (int)child);
	cr_expect(strstr(status, mine), "%s", status);
	cr_expect(strstr(status, theirs), "%s", status);
	cr_assert_eq(write(p2c[1], "e", 1), 1);
	cr_assert_eq(integ_reap(child, &st, INTEG_WAIT_MS), 0);
	cr_expect_eq(integ_exit_code(st), 0, "the other user failed at %d",
		     integ_exit_code(st));
	close(t);
	close(c2p[0]);
	close(p2c[1]);
	integ_unmount();
}
