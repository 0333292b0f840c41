// SPDX-License-Identifier: GPL-2.0-only
/*
 * The AIO control files act with the credentials of the process that
 * opened them, taken at open, whoever writes (Linux's rule for its own
 * files that act on write: f_cred).  The attack they stop: an
 * unprivileged user opens aio.txt or aio, then has a set-user-ID root
 * program write to that descriptor (a program that prints its argv[0] in
 * an error message to an inherited stderr is enough).
 *
 * The writer is tests/helper-prog/suid-writer.c, copied into a directory
 * of a filesystem mounted without nosuid, owned by root and made
 * set-user-ID; the unprivileged user is uid and gid 65534.  What the
 * kernel lets that user do is asked of the kernel each time: its open(2)
 * of the same file for aio.txt's lines, and its pidfd_getfd(2) of the
 * writer's descriptor for aio's records (the daemon takes descriptors from
 * a writer only as the opener could have).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "aio_lib.h"
#include "integ.h"

#define NOBODY 65534

struct oc {
	struct evt_mount *m;
	char dir[64];
	char suid[PATH_MAX];  /* the writer, set-user-ID root */
	char plain[PATH_MAX]; /* the same program, not set-user-ID */
	char secret[PATH_MAX], target[PATH_MAX], pub[PATH_MAX];
	char counter[64]; /* a counter of root's, 0600 */
};

static void put_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	cr_assert(fd >= 0, "%s: %s", path, strerror(errno));
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	cr_assert_eq(fchmod(fd, mode), 0);
	close(fd);
}

static void copy_prog(const char *to, mode_t mode)
{
	static char buf[1 << 20];
	const char *b = getenv("B") && *getenv("B") ? getenv("B") : "build";
	char from[PATH_MAX];
	ssize_t n;
	int in, out;

	snprintf(from, sizeof(from), "%s/helper-suid-writer", b);
	in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		cr_skip_test("%s not built (make tests)", from);
	out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0700);
	cr_assert(out >= 0, "%s: %s", to, strerror(errno));
	while ((n = read(in, buf, sizeof(buf))) > 0)
		cr_assert_eq(write(out, buf, (size_t)n), n);
	cr_assert_eq(n, 0);
	cr_assert_eq(fchown(out, 0, 0), 0);
	cr_assert_eq(fchmod(out, mode), 0);
	close(out);
	close(in);
}

static void oc_setup(struct oc *o)
{
	static const char *const argv[] = { "-o", "allow_other", NULL };
	struct statvfs sv;
	int fd;

	if (geteuid() != 0)
		cr_skip_test("needs root: it makes a set-user-ID root program");
	o->m = integ_mount(argv);
	snprintf(o->dir, sizeof(o->dir), "/var/tmp/evfdfs-oc-XXXXXX");
	cr_assert(mkdtemp(o->dir), "mkdtemp: %s", strerror(errno));
	cr_assert_eq(chmod(o->dir, 0755), 0);
	cr_assert_eq(statvfs(o->dir, &sv), 0);
	snprintf(o->suid, sizeof(o->suid), "%s/suid-writer", o->dir);
	snprintf(o->plain, sizeof(o->plain), "%s/plain-writer", o->dir);
	snprintf(o->secret, sizeof(o->secret), "%s/secret", o->dir);
	snprintf(o->target, sizeof(o->target), "%s/target", o->dir);
	snprintf(o->pub, sizeof(o->pub), "%s/pub", o->dir);
	if (sv.f_flag & ST_NOSUID) {
		rmdir(o->dir);
		cr_skip_test("%s is mounted nosuid: no set-user-ID program",
			     o->dir);
	}
	copy_prog(o->suid, 04755);
	copy_prog(o->plain, 0755);
	put_file(o->secret, "SECRET!!", 0600);
	put_file(o->target, "ORIGINAL", 0600);
	put_file(o->pub, "PUBLIC!!", 0644);
	evt_unique(o->counter, sizeof(o->counter), "oc");
	fd = evt_create_counter(o->m->dir, o->counter, 0, false, 0);
	cr_assert_eq(fchmod(fd, 0600), 0);
	close(fd);
}

static void oc_cleanup(struct oc *o)
{
	unlink(o->suid);
	unlink(o->plain);
	unlink(o->secret);
	unlink(o->target);
	unlink(o->pub);
	rmdir(o->dir);
	integ_unmount();
}

static void become_nobody(void)
{
	if (setgroups(0, NULL) || setgid(NOBODY) || setuid(NOBODY))
		_exit(90);
}

/* The kernel's answer to this process opening @path: 0 or errno. */
static int kernel_open(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

/* Run @prog FD text LINE; its exit status (the write's errno), or 250+. */
static int run_text(const char *prog, int fd, const char *line)
{
	char num[16];
	pid_t pid;
	int st;

	snprintf(num, sizeof(num), "%d", fd);
	pid = fork();
	if (pid < 0)
		return 250;
	if (pid == 0) {
		execl(prog, prog, num, "text", line, (char *)NULL);
		_exit(251);
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return 252;
	return WEXITSTATUS(st);
}

/*
 * Run @prog FD MODE PATH: the writer opens PATH, changes credentials as
 * MODE says and waits; this process (the opener) asks the kernel whether
 * it may take that descriptor with pidfd_getfd (*@kernel: 0 or errno),
 * then lets the writer write its record.  Returns the writer's status.
 */
static int run_bin(const char *prog, int fd, const char *mode, const char *path,
		   int *kernel)
{
	int in[2], out[2], st, n, wfd, wpid, pfd, got;
	char num[16], line[64];
	pid_t pid;
	FILE *f;

	*kernel = -1;
	if (pipe(in) || pipe(out))
		return 250;
	snprintf(num, sizeof(num), "%d", fd);
	pid = fork();
	if (pid < 0)
		return 250;
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		execl(prog, prog, num, mode, path, (char *)NULL);
		_exit(251);
	}
	close(in[0]);
	close(out[1]);
	f = fdopen(out[0], "r");
	n = f && fgets(line, sizeof(line), f)
		    ? sscanf(line, "%d %d", &wfd, &wpid)
		    : 0;
	if (n == 2 && wpid == pid) {
		pfd = (int)syscall(SYS_pidfd_open, pid, 0);
		got = pfd < 0 ? -1 : (int)syscall(SYS_pidfd_getfd, pfd, wfd, 0);
		*kernel = got < 0 ? errno : 0;
		if (got >= 0)
			close(got);
		if (pfd >= 0)
			close(pfd);
	}
	if (write(in[1], "g", 1) != 1)
		*kernel = -2;
	close(in[1]);
	if (f)
		fclose(f);
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return 252;
	return WEXITSTATUS(st);
}

/* Read aio.txt (O_NONBLOCK) into @buf until @want shows or 30 s pass. */
static bool text_until(int fd, char *buf, size_t cap, const char *want)
{
	long long deadline = evt_now_ms() + INTEG_WAIT_MS;
	size_t len = strlen(buf);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;

	while (!strstr(buf, want) && evt_now_ms() < deadline && len + 1 < cap) {
		n = read(fd, buf + len, cap - 1 - len);
		if (n > 0)
			len += (size_t)n;
		buf[len] = '\0';
		if (n <= 0)
			poll(&p, 1, 100);
	}
	return strstr(buf, want) != NULL;
}

/* What the unprivileged child reports about aio.txt. */
struct text_report {
	int k_read, w_read;   /* secret: kernel open(2), writer's line */
	int k_write, w_write; /* target */
	int k_resfd, w_resfd; /* the root counter as resfd */
	int w_mine;	      /* a line the opener may run, by the writer */
	int w_end;	      /* the opener's own sentinel line */
	bool end_seen;
	char lines[4096];
};

/*
 * aio.txt opened by 65534, lines written by a set-user-ID root program
 * that inherited the descriptor: each acts as 65534.  A pread of a root
 * 0600 file, a pwrite of another, and a resfd naming a root 0600 counter
 * are refused with the errno the kernel gives 65534 for the same file
 * (EACCES), nothing of them completes, the files and the counter are
 * untouched; a line 65534 may run does run, whoever writes it.
 */
INTEG_TEST(opener_creds, text_setuid_writer_acts_as_opener, 120)
{
	static struct oc o;
	static struct text_report r;
	char line[PATH_MAX + 128], path[PATH_MAX], buf[16];
	int rep[2], st, cfd;
	pid_t child;
	ssize_t n;

	oc_setup(&o);
	cr_assert_eq(pipe(rep), 0);
	child = integ_fork();
	cr_assert(child >= 0);
	if (child == 0) {
		struct text_report *c = &r;
		int t;

		close(rep[0]);
		become_nobody();
		t = open(evt_path(path, sizeof(path), o.m->dir, "aio.txt"),
			 O_RDWR | O_NONBLOCK);
		if (t < 0)
			_exit(91);
		c->k_read = kernel_open(o.secret, O_RDONLY);
		snprintf(line, sizeof(line), "pread data=steal %s 0 8",
			 o.secret);
		c->w_read = run_text(o.suid, t, line);
		c->k_write = kernel_open(o.target, O_WRONLY);
		snprintf(line, sizeof(line), "pwrite data=clob %s 0 EVIL",
			 o.target);
		c->w_write = run_text(o.suid, t, line);
		c->k_resfd = kernel_open(
			evt_path(path, sizeof(path), o.m->dir, o.counter),
			O_WRONLY);
		snprintf(line, sizeof(line), "pread data=sig resfd=%s %s 0 8",
			 o.counter, o.pub);
		c->w_resfd = run_text(o.suid, t, line);
		snprintf(line, sizeof(line), "pread data=mine %s 0 8", o.pub);
		c->w_mine = run_text(o.suid, t, line);
		snprintf(line, sizeof(line), "pread data=end %s 0 8\n", o.pub);
		n = write(t, line, strlen(line));
		c->w_end = n == (ssize_t)strlen(line) ? 0 : errno;
		c->lines[0] = '\0';
		c->end_seen = text_until(t, c->lines, sizeof(c->lines),
					 "end pread 8 PUBLIC!!\n") &&
			      text_until(t, c->lines, sizeof(c->lines),
					 "mine pread 8 PUBLIC!!\n");
		_exit(write(rep[1], c, sizeof(*c)) == sizeof(*c) ? 0 : 92);
	}
	close(rep[1]);
	cr_assert_eq(read(rep[0], &r, sizeof(r)), (ssize_t)sizeof(r));
	close(rep[0]);
	cr_assert_eq(integ_reap(child, &st, INTEG_WAIT_MS), 0);
	cr_assert_eq(integ_exit_code(st), 0);

	cr_expect_eq(r.k_read, EACCES, "kernel: 65534 reads the secret? %d",
		     r.k_read);
	cr_expect_eq(r.w_read, r.k_read, "pread line: %d, kernel %d", r.w_read,
		     r.k_read);
	cr_expect_eq(r.k_write, EACCES);
	cr_expect_eq(r.w_write, r.k_write, "pwrite line: %d, kernel %d",
		     r.w_write, r.k_write);
	cr_expect_eq(r.k_resfd, EACCES);
	cr_expect_eq(r.w_resfd, r.k_resfd, "resfd line: %d, kernel %d",
		     r.w_resfd, r.k_resfd);
	cr_expect_eq(r.w_mine, 0, "the writer's allowed line: %d", r.w_mine);
	cr_expect_eq(r.w_end, 0);
	cr_expect(r.end_seen, "completions:\n%s", r.lines);
	cr_expect_null(strstr(r.lines, "steal"), "%s", r.lines);
	cr_expect_null(strstr(r.lines, "clob"), "%s", r.lines);
	cr_expect_null(strstr(r.lines, "sig "), "%s", r.lines);
	cr_expect_null(strstr(r.lines, "SECRET"), "%s", r.lines);

	at_slurp(o.target, buf, sizeof(buf));
	cr_expect_str_eq(buf, "ORIGINAL");
	cfd = open(evt_path(path, sizeof(path), o.m->dir, o.counter),
		   O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	cr_assert(cfd >= 0);
	cr_expect_eq(at_peek(cfd), 0, "the root counter was signalled");
	close(cfd);
	oc_cleanup(&o);
}

/* What the unprivileged child reports about aio. */
struct bin_report {
	int kernel[4], writer[4];
	long long plain_res;
};

static const char *const bin_modes[4] = { "keep", "drop", "dropall", "keep" };

/* The first event of a binary context, waiting at most 30 s: its res. */
static long long first_event(int fd, uint64_t data)
{
	unsigned char buf[4096];
	struct evfdfs_wire_event ev;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;

	if (poll(&p, 1, INTEG_WAIT_MS) != 1)
		return -1000;
	n = read(fd, buf, sizeof(buf));
	if (n < (ssize_t)sizeof(ev))
		return -1001;
	memcpy(&ev, buf, sizeof(ev));
	if (ev.hdr.type != EVFDFS_WIRE_EVENT || ev.ev.data != data)
		return -1002;
	return ev.ev.res;
}

/*
 * aio opened by 65534; a set-user-ID root program (that inherited the
 * descriptor) opens a root 0600 file and submits a PREAD of it: as is
 * (effective uid root), after seteuid back to 65534 (the saved uid stays
 * root) and after dropping every id to 65534 (not dumpable).  The kernel
 * would not let 65534 take that descriptor with pidfd_getfd (EPERM), and
 * the record is refused with the same errno.  The same program without
 * the set-user-ID bit, reading a file 65534 may read, is let through by
 * both, and its read completes.
 */
INTEG_TEST(opener_creds, binary_setuid_writer_lends_no_descriptors, 120)
{
	static struct oc o;
	static struct bin_report r;
	char path[PATH_MAX];
	int rep[2], st, i;
	pid_t child;

	oc_setup(&o);
	cr_assert_eq(pipe(rep), 0);
	child = integ_fork();
	cr_assert(child >= 0);
	if (child == 0) {
		struct at_rec rec = { 0 };
		int b;

		close(rep[0]);
		become_nobody();
		b = open(evt_path(path, sizeof(path), o.m->dir, "aio"),
			 O_RDWR | O_NONBLOCK);
		if (b < 0)
			_exit(91);
		at_rec_setup(&rec, 8, 0);
		if (at_write(b, &rec) != (ssize_t)rec.len)
			_exit(92);
		at_rec_free(&rec);
		for (i = 0; i < 4; i++)
			r.writer[i] = run_bin(
				i < 3 ? o.suid : o.plain, b, bin_modes[i],
				i < 3 ? o.secret : o.pub, &r.kernel[i]);
		r.plain_res = first_event(b, 0x5e);
		_exit(write(rep[1], &r, sizeof(r)) == sizeof(r) ? 0 : 93);
	}
	close(rep[1]);
	cr_assert_eq(read(rep[0], &r, sizeof(r)), (ssize_t)sizeof(r));
	close(rep[0]);
	cr_assert_eq(integ_reap(child, &st, INTEG_WAIT_MS), 0);
	cr_assert_eq(integ_exit_code(st), 0);
	for (i = 0; i < 3; i++) {
		cr_expect_eq(r.kernel[i], EPERM, "%s: kernel pidfd_getfd %d",
			     bin_modes[i], r.kernel[i]);
		cr_expect_eq(r.writer[i], r.kernel[i],
			     "%s: the record got %d, the kernel %d",
			     bin_modes[i], r.writer[i], r.kernel[i]);
	}
	cr_expect_eq(r.kernel[3], 0, "plain writer: kernel %d", r.kernel[3]);
	cr_expect_eq(r.writer[3], 0, "plain writer: %d", r.writer[3]);
	cr_expect_eq(r.plain_res, 8, "the plain writer's pread: %lld",
		     r.plain_res);
	oc_cleanup(&o);
}

/*
 * A relative PATH is resolved from the opener's working directory as it
 * was at open (the kernel's openat(2) of a directory descriptor taken
 * then): neither a later chdir of the opener nor a writer elsewhere moves
 * it.
 */
INTEG_TEST(opener_creds, relative_path_from_openers_cwd, 60)
{
	static char lines[4096];
	struct evt_mount *m;
	char dir[64], a[128], b[128], path[PATH_MAX];
	int rep[2], st;
	pid_t child;
	bool ok;

	m = integ_mount(NULL);
	snprintf(dir, sizeof(dir), "/var/tmp/evfdfs-cwd-XXXXXX");
	cr_assert(mkdtemp(dir));
	snprintf(a, sizeof(a), "%s/a", dir);
	snprintf(b, sizeof(b), "%s/b", dir);
	cr_assert_eq(mkdir(a, 0755), 0);
	cr_assert_eq(mkdir(b, 0755), 0);
	snprintf(path, sizeof(path), "%s/rel", a);
	put_file(path, "AAAA", 0644);
	snprintf(path, sizeof(path), "%s/rel", b);
	put_file(path, "BBBB", 0644);
	cr_assert_eq(pipe(rep), 0);
	child = integ_fork();
	cr_assert(child >= 0);
	if (child == 0) {
		static const char self[] = "pread data=self rel 0 4\n";
		static const char kid[] = "pread data=kid rel 0 4\n";
		pid_t k;
		int t;

		close(rep[0]);
		if (chdir(a))
			_exit(91);
		t = open(evt_path(path, sizeof(path), m->dir, "aio.txt"),
			 O_RDWR | O_NONBLOCK);
		if (t < 0 || chdir(b))
			_exit(92);
		if (write(t, self, strlen(self)) != (ssize_t)strlen(self))
			_exit(93);
		k = fork();
		if (k == 0) {
			if (chdir("/") ||
			    write(t, kid, strlen(kid)) != (ssize_t)strlen(kid))
				_exit(1);
			_exit(0);
		}
		if (k < 0 || waitpid(k, &st, 0) != k || st != 0)
			_exit(94);
		lines[0] = '\0';
		ok = text_until(t, lines, sizeof(lines), "self pread") &&
		     text_until(t, lines, sizeof(lines), "kid pread");
		if (write(rep[1], lines, sizeof(lines)) != sizeof(lines))
			_exit(95);
		_exit(ok ? 0 : 96);
	}
	close(rep[1]);
	cr_assert_eq(read(rep[0], lines, sizeof(lines)),
		     (ssize_t)sizeof(lines));
	close(rep[0]);
	cr_assert_eq(integ_reap(child, &st, INTEG_WAIT_MS), 0);
	cr_expect_eq(integ_exit_code(st), 0, "%s", lines);
	cr_expect(strstr(lines, "self pread 4 AAAA\n"), "%s", lines);
	cr_expect(strstr(lines, "kid pread 4 AAAA\n"), "%s", lines);
	snprintf(path, sizeof(path), "%s/rel", a);
	unlink(path);
	snprintf(path, sizeof(path), "%s/rel", b);
	unlink(path);
	rmdir(a);
	rmdir(b);
	rmdir(dir);
	integ_unmount();
}

/*
 * The opener's own process may use its context even when it is not
 * dumpable (a process that dropped root with setuid(2) is not: ptrace
 * lets a thread group reach itself), but only until it executes another
 * program: the same process, after executing a set-user-ID root program
 * that opens a root 0600 file and drops every id back to 65534, is
 * refused (EPERM).  On Linux the context itself would not survive the
 * execve.
 */
INTEG_TEST(opener_creds, binary_opener_process_keeps_its_rights_until_exec, 120)
{
	static struct oc o;
	char path[PATH_MAX], line[64], num[16];
	int in[2], out[2], st, wfd, wpid;
	long long own_res = -1;
	pid_t child;
	ssize_t n;

	oc_setup(&o);
	cr_assert_eq(pipe(in), 0);
	cr_assert_eq(pipe(out), 0);
	child = integ_fork();
	cr_assert(child >= 0);
	if (child == 0) {
		struct at_rec rec = { 0 };
		struct at_be b = { .name = "mount", .mount = true };
		struct iocb cb;
		char buf[8];
		int pub;

		become_nobody(); /* not dumpable from here on */
		b.fd = open(evt_path(path, sizeof(path), o.m->dir, "aio"),
			    O_RDWR | O_NONBLOCK);
		if (b.fd < 0)
			_exit(91);
		at_rec_setup(&rec, 8, 0);
		if (at_write(b.fd, &rec) != (ssize_t)rec.len)
			_exit(92);
		at_rec_free(&rec);
		pub = open(o.pub, O_RDONLY);
		at_prep_pread(&cb, pub, buf, 8, 0);
		cb.aio_data = 0x5e;
		if (pub < 0 || at_be_submit1(&b, &cb) != 1)
			_exit(93);
		own_res = first_event(b.fd, 0x5e);
		close(pub);
		snprintf(line, sizeof(line), "%lld\n", own_res);
		if (write(out[1], line, strlen(line)) != (ssize_t)strlen(line))
			_exit(94);
		dup2(in[0], 0);
		dup2(out[1], 1);
		snprintf(num, sizeof(num), "%d", b.fd);
		execl(o.suid, o.suid, num, "dropall", o.secret, (char *)NULL);
		_exit(95);
	}
	close(in[0]);
	close(out[1]);
	n = 0;
	while ((size_t)n < sizeof(line) - 1 && read(out[0], line + n, 1) == 1 &&
	       line[n] != '\n')
		n++;
	line[n] = '\0';
	cr_assert_eq(sscanf(line, "%lld", &own_res), 1, "child: '%s'", line);
	n = 0;
	while ((size_t)n < sizeof(line) - 1 && read(out[0], line + n, 1) == 1 &&
	       line[n] != '\n')
		n++;
	line[n] = '\0';
	cr_assert_eq(sscanf(line, "%d %d", &wfd, &wpid), 2, "writer: '%s'",
		     line);
	cr_expect_eq(wpid, child, "the writer is the opener's process");
	cr_assert_eq(write(in[1], "g", 1), 1);
	close(in[1]);
	close(out[0]);
	cr_assert_eq(integ_reap(child, &st, INTEG_WAIT_MS), 0);
	cr_expect_eq(own_res, 8, "the opener's own pread: %lld", own_res);
	cr_expect_eq(integ_exit_code(st), EPERM,
		     "after execve of a set-user-ID program: %d",
		     integ_exit_code(st));
	oc_cleanup(&o);
}
