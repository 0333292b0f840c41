// SPDX-License-Identifier: GPL-2.0-only
/*
 * Two users, root and 65534, drive the AIO control files at once with
 * random lines and records, each also writing to the contexts the other
 * opened (root hands its descriptors to the child before it drops to
 * 65534; the child sends its own back over a socket).  The files are
 * owned by either user, with varied modes.
 *
 * The rule checked: a request acts as the context's opener, whoever
 * writes it.  For each aio.txt line, the write's result is what the
 * kernel's open(2) of the same file (and, for resfd=, of a regular file
 * with the counter's owner and mode) gives the OPENER, computed by the
 * opener itself; for each aio record, which names a descriptor of the
 * writer's (opened by the writer, so that the kernel checked it for
 * the writer), the record is let through only when the opener could have
 * taken that descriptor itself (the same user, or root as the opener),
 * else EPERM.  Every request let through completes with its full length,
 * a pread returns the right file's bytes, and a file that no request
 * let through could write is byte-for-byte what it was.
 *
 * Bounded: NOPS requests per user; EVFDFS_FUZZ_SEED picks another seed.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aio_lib.h"
#include "integ.h"

#define NOBODY 65534
#define NOPS 150
#define NF 32
#define NC 4
#define FLEN 16 /* each file: "Fnn-" and 12 bytes; pwrites land at 8 */

static const mode_t fmodes[8] = {
	0600, 0644, 0640, 0606, 0460, 0020, 0004, 0000
};
static const struct {
	uid_t uid;
	gid_t gid;
} fowners[4] = { { 0, 0 }, { NOBODY, NOBODY }, { 0, NOBODY }, { NOBODY, 0 } };
static const struct {
	uid_t uid;
	gid_t gid;
	mode_t mode;
} cspec[NC] = { { 0, 0, 0600 },
		{ NOBODY, NOBODY, 0600 },
		{ 0, 0, 0666 },
		{ 0, NOBODY, 0620 } };

struct fz_op {
	int state; /* 0 not yet, 1 submitted */
	bool text;
	bool write;
	int opener; /* 0 root, 1 nobody: whose context */
	int file;
	int ctr;    /* resfd counter, or -1 */
	int expect; /* 0 or errno */
	int err;    /* what the write gave: 0 or errno */
	bool got;   /* its completion was read */
	long long res;
	char data[FLEN + 1];
};

struct fz_shared {
	int done[2];
	/* the kernel's open(2) as user u: 0 or errno */
	int may[2][NF][2]; /* [u][file][0 read, 1 write] */
	int may_ctr[2][NC];
	int ready; /* the child has filled may[1] */
	struct fz_op ops[2][NOPS];
};

struct fz {
	struct evt_mount *m;
	char dir[64];
	char file[NF][PATH_MAX];
	char twin[NC][PATH_MAX];
	char ctr[NC][64];
	char init[NF][FLEN + 1];
	unsigned long long seed;
};

static struct fz z;
static struct fz_shared *sh;

static unsigned long long rnd(unsigned long long *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void put(const char *path, const char *text, uid_t uid, gid_t gid,
		mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	cr_assert(fd >= 0, "%s: %s", path, strerror(errno));
	cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	cr_assert_eq(fchown(fd, uid, gid), 0);
	cr_assert_eq(fchmod(fd, mode), 0);
	close(fd);
}

static void fz_setup(void)
{
	static const char *const argv[] = { "-o", "allow_other", NULL };
	const char *env = getenv("EVFDFS_FUZZ_SEED");
	int i, fd;

	if (geteuid() != 0)
		cr_skip_test("needs root: the second user is uid 65534");
	z.seed = env && *env ? strtoull(env, NULL, 0) : 0x5eed0f0e5ull;
	if (!z.seed)
		z.seed = 1;
	z.m = integ_mount(argv);
	snprintf(z.dir, sizeof(z.dir), "/var/tmp/evfdfs-ofz-XXXXXX");
	cr_assert(mkdtemp(z.dir));
	cr_assert_eq(chmod(z.dir, 0755), 0);
	for (i = 0; i < NF; i++) {
		snprintf(z.file[i], sizeof(z.file[i]), "%s/f%02d", z.dir, i);
		snprintf(z.init[i], sizeof(z.init[i]), "F%02d-initial.....", i);
		put(z.file[i], z.init[i], fowners[i / 8].uid,
		    fowners[i / 8].gid, fmodes[i % 8]);
	}
	for (i = 0; i < NC; i++) {
		evt_unique(z.ctr[i], sizeof(z.ctr[i]), "ofz");
		fd = evt_create_counter(z.m->dir, z.ctr[i], 0, false, 0);
		cr_assert_eq(fchown(fd, cspec[i].uid, cspec[i].gid), 0);
		cr_assert_eq(fchmod(fd, cspec[i].mode), 0);
		close(fd);
		snprintf(z.twin[i], sizeof(z.twin[i]), "%s/c%d", z.dir, i);
		put(z.twin[i], "", cspec[i].uid, cspec[i].gid, cspec[i].mode);
	}
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	cr_assert(sh != MAP_FAILED);
	memset(sh, 0, sizeof(*sh));
}

static void fz_cleanup(void)
{
	int i;

	for (i = 0; i < NF; i++)
		unlink(z.file[i]);
	for (i = 0; i < NC; i++)
		unlink(z.twin[i]);
	rmdir(z.dir);
	munmap(sh, sizeof(*sh));
	integ_unmount();
}

static int kopen(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

/* The kernel's verdicts for this process's user (@u). */
static void fill_may(int u)
{
	int i;

	for (i = 0; i < NF; i++) {
		sh->may[u][i][0] = kopen(z.file[i], O_RDONLY);
		sh->may[u][i][1] = kopen(z.file[i], O_WRONLY);
	}
	for (i = 0; i < NC; i++)
		sh->may_ctr[u][i] = kopen(z.twin[i], O_WRONLY);
}

static int send_fds(int sock, const int *fds, int n)
{
	char cbuf[CMSG_SPACE(4 * sizeof(int))], b = 'f';
	struct iovec iov = { &b, 1 };
	struct msghdr mh = { .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = cbuf,
			     .msg_controllen = CMSG_SPACE(n * sizeof(int)) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);

	memset(cbuf, 0, sizeof(cbuf));
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(n * sizeof(int));
	memcpy(CMSG_DATA(c), fds, n * sizeof(int));
	return sendmsg(sock, &mh, 0) == 1 ? 0 : -1;
}

static int recv_fds(int sock, int *fds, int n)
{
	char cbuf[CMSG_SPACE(4 * sizeof(int))], b;
	struct iovec iov = { &b, 1 };
	struct msghdr mh = { .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c;

	if (recvmsg(sock, &mh, MSG_CMSG_CLOEXEC) != 1)
		return -1;
	c = CMSG_FIRSTHDR(&mh);
	if (!c || c->cmsg_type != SCM_RIGHTS ||
	    c->cmsg_len != CMSG_LEN(n * sizeof(int)))
		return -1;
	memcpy(fds, CMSG_DATA(c), n * sizeof(int));
	return 0;
}

/* Open the two contexts of this user: [0] aio.txt, [1] aio. */
static int open_ctxs(int ctx[2])
{
	struct at_rec rec = { 0 };
	char path[PATH_MAX];
	static const char setup[] = "setup 512\n";
	ssize_t n;

	ctx[0] = open(evt_path(path, sizeof(path), z.m->dir, "aio.txt"),
		      O_RDWR | O_NONBLOCK);
	ctx[1] = open(evt_path(path, sizeof(path), z.m->dir, "aio"),
		      O_RDWR | O_NONBLOCK);
	if (ctx[0] < 0 || ctx[1] < 0)
		return -1;
	if (write(ctx[0], setup, strlen(setup)) != (ssize_t)strlen(setup))
		return -1;
	at_rec_setup(&rec, 512, 0);
	n = at_write(ctx[1], &rec) == (ssize_t)rec.len ? 0 : -1;
	at_rec_free(&rec);
	return (int)n;
}

static struct fz_op *op_of(unsigned int p, unsigned int i)
{
	return p < 2 && i < NOPS ? &sh->ops[p][i] : NULL;
}

/* Completion lines of aio.txt: "oP_I OP RES [DETAIL]". */
static void take_text(char *buf, size_t *len)
{
	char *line = buf, *nl;
	unsigned int p, i;
	long long res;
	char detail[64];
	struct fz_op *o;

	while ((nl = memchr(line, '\n', *len - (size_t)(line - buf)))) {
		*nl = '\0';
		detail[0] = '\0';
		if (sscanf(line, "o%u_%u %*s %lld %63s", &p, &i, &res,
			   detail) >= 3 &&
		    (o = op_of(p, i))) {
			o->got = true;
			o->res = res;
			snprintf(o->data, sizeof(o->data), "%s", detail);
		}
		line = nl + 1;
	}
	*len -= (size_t)(line - buf);
	memmove(buf, line, *len);
}

/* EVENT records of aio: aio_data is (P << 16) | I. */
static void take_bin(const unsigned char *buf, size_t len)
{
	struct evfdfs_wire_event ev;
	size_t off = 0;
	struct fz_op *o;

	while (off + sizeof(ev) <= len) {
		memcpy(&ev, buf + off, sizeof(ev));
		if (ev.hdr.len < sizeof(ev) || off + ev.hdr.len > len)
			break;
		o = op_of((unsigned int)(ev.ev.data >> 16),
			  (unsigned int)(ev.ev.data & 0xffff));
		if (o) {
			o->got = true;
			o->res = ev.ev.res;
			memcpy(o->data, buf + off + sizeof(ev),
			       ev.datalen < FLEN ? ev.datalen : FLEN);
		}
		off += ev.hdr.len;
	}
}

/* Read what the user's own contexts have; @tb keeps a partial line. */
static void drain(const int ctx[2], char *tb, size_t *tlen, int ms)
{
	static unsigned char bb[1 << 16];
	struct pollfd p[2] = { { .fd = ctx[0], .events = POLLIN },
			       { .fd = ctx[1], .events = POLLIN } };
	ssize_t n;

	if (poll(p, 2, ms) <= 0)
		return;
	if (p[0].revents & POLLIN) {
		n = read(ctx[0], tb + *tlen, 8191 - *tlen);
		if (n > 0) {
			*tlen += (size_t)n;
			take_text(tb, tlen);
		}
	}
	if (p[1].revents & POLLIN) {
		n = read(ctx[1], bb, sizeof(bb));
		if (n > 0)
			take_bin(bb, (size_t)n);
	}
}

/* One random request by user @p into all[opener][kind]. */
static void one_op(int p, int i, int all[2][2], unsigned long long *s)
{
	struct fz_op *o = &sh->ops[p][i];
	char line[PATH_MAX + 128], path[PATH_MAX], buf[FLEN];
	struct iocb cb;
	struct at_be b = { .name = "mount", .mount = true };
	int fd, ret;

	o->text = rnd(s) & 1;
	o->write = rnd(s) % 3 == 0;
	o->opener = (int)(rnd(s) & 1);
	o->file = (int)(rnd(s) % NF);
	o->ctr = rnd(s) % 4 == 0 ? (int)(rnd(s) % NC) : -1;
	if (o->text) {
		int n = snprintf(line, sizeof(line), "%s data=o%d_%d",
				 o->write ? "pwrite" : "pread", p, i);

		if (o->ctr >= 0)
			n += snprintf(line + n, sizeof(line) - (size_t)n,
				      " resfd=%s", z.ctr[o->ctr]);
		if (o->write)
			snprintf(line + n, sizeof(line) - (size_t)n,
				 " %s 8 W%d_%05d\n", z.file[o->file], p, i);
		else
			snprintf(line + n, sizeof(line) - (size_t)n,
				 " %s 0 %d\n", z.file[o->file], FLEN);
		o->expect = o->ctr >= 0 && sh->may_ctr[o->opener][o->ctr]
				    ? sh->may_ctr[o->opener][o->ctr]
				    : sh->may[o->opener][o->file][o->write];
		ret = (int)write(all[o->opener][0], line, strlen(line));
		o->err = ret == (int)strlen(line) ? 0 : ret < 0 ? errno : -1;
	} else {
		/* The writer names a descriptor of its own: one the kernel
		 * let it open. */
		fd = open(z.file[o->file],
			  (o->write ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
		if (fd < 0) {
			o->text = true; /* nothing to name: count it as a
					 * refused line of no one's */
			o->expect = o->err = errno;
			o->ctr = -1;
			o->opener = -1;
			__atomic_store_n(&o->state, 1, __ATOMIC_RELEASE);
			return;
		}
		if (o->write)
			at_prep_pwrite(&cb, fd, "B-WRITE!", 8, 8);
		else
			at_prep_pread(&cb, fd, buf, FLEN, 0);
		cb.aio_data = ((uint64_t)p << 16) | (uint64_t)i;
		o->ctr = -1;
		o->expect = o->opener == 0 || p == o->opener ? 0 : EPERM;
		b.fd = all[o->opener][1];
		ret = at_be_submit1(&b, &cb);
		o->err = ret == 1 ? 0 : ret < 0 ? -ret : -1;
		close(fd);
		(void)path;
	}
	__atomic_store_n(&o->state, 1, __ATOMIC_RELEASE);
}

/* Expected completions in user @u's contexts, once both are done. */
static int expected_for(int u)
{
	int p, i, n = 0;

	for (p = 0; p < 2; p++)
		for (i = 0; i < NOPS; i++)
			n += sh->ops[p][i].opener == u &&
			     sh->ops[p][i].err == 0;
	return n;
}

static int got_for(int u)
{
	int p, i, n = 0;

	for (p = 0; p < 2; p++)
		for (i = 0; i < NOPS; i++)
			n += sh->ops[p][i].opener == u && sh->ops[p][i].got;
	return n;
}

/* User @u's part: its requests, then its contexts' completions. */
static void run_user(int u, int all[2][2])
{
	static char tb[8192];
	unsigned long long s = z.seed * (u + 1) + 0x9e37;
	size_t tlen = 0;
	long long deadline;
	int i;

	for (i = 0; i < NOPS; i++) {
		one_op(u, i, all, &s);
		drain(all[u], tb, &tlen, 0);
	}
	__atomic_store_n(&sh->done[u], 1, __ATOMIC_RELEASE);
	deadline = evt_now_ms() + INTEG_WAIT_MS;
	while (evt_now_ms() < deadline) {
		if (__atomic_load_n(&sh->done[!u], __ATOMIC_ACQUIRE) &&
		    got_for(u) >= expected_for(u))
			break;
		drain(all[u], tb, &tlen, 50);
	}
}

INTEG_TEST(opener_creds, fuzz_two_users_act_as_their_openers, 180)
{
	int all[2][2], sp[2], st, p, i, f, bad = 0, accepted = 0, refused = 0;
	int cross = 0;
	bool written[NF] = { false };
	char buf[FLEN + 1], want[8];
	pid_t child;

	fz_setup();
	fill_may(0);
	cr_assert_eq(open_ctxs(all[0]), 0);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
	child = integ_fork();
	cr_assert(child >= 0);
	if (child == 0) {
		close(sp[0]);
		if (setgroups(0, NULL) || setgid(NOBODY) || setuid(NOBODY))
			_exit(90);
		fill_may(1);
		if (open_ctxs(all[1]))
			_exit(91);
		__atomic_store_n(&sh->ready, 1, __ATOMIC_RELEASE);
		if (send_fds(sp[1], all[1], 2))
			_exit(92);
		run_user(1, all);
		_exit(0);
	}
	close(sp[1]);
	cr_assert_eq(recv_fds(sp[0], all[1], 2), 0);
	close(sp[0]);
	cr_assert(__atomic_load_n(&sh->ready, __ATOMIC_ACQUIRE));
	run_user(0, all);
	cr_assert_eq(integ_reap(child, &st, INTEG_WAIT_MS), 0);
	cr_assert_eq(integ_exit_code(st), 0);

	for (p = 0; p < 2; p++) {
		for (i = 0; i < NOPS; i++) {
			struct fz_op *o = &sh->ops[p][i];
			long long len = o->write ? 8 : FLEN;

			cr_assert_eq(o->state, 1);
			if (o->opener < 0)
				continue;
			if (o->err != o->expect && bad++ < 10)
				cr_expect_eq(
					o->err, o->expect,
					"seed %#llx: user %d's %s %s of "
					"f%02d (%04o) in user %d's "
					"context, resfd %d: %d, the "
					"kernel says %d",
					z.seed, p, o->text ? "line" : "record",
					o->write ? "pwrite" : "pread", o->file,
					fmodes[o->file % 8], o->opener, o->ctr,
					o->err, o->expect);
			cross += o->opener != p;
			if (o->err) {
				refused += o->err == o->expect;
				continue;
			}
			accepted++;
			written[o->file] |= o->write;
			cr_expect(o->got,
				  "seed %#llx: op %d/%d never completed",
				  z.seed, p, i);
			cr_expect_eq(o->res, len,
				     "seed %#llx: op %d/%d res %lld", z.seed, p,
				     i, o->res);
			snprintf(want, sizeof(want), "F%02d-", o->file);
			if (!o->write && o->got)
				cr_expect_eq(strncmp(o->data, want, 4), 0,
					     "op %d/%d read '%s' from f%02d", p,
					     i, o->data, o->file);
		}
	}
	cr_log_info("seed %#llx: %d requests through, %d refused by the "
		    "opener's rights, %d cross-user",
		    z.seed, accepted, refused, cross);
	cr_expect(accepted > NOPS / 4, "only %d requests went through",
		  accepted);
	cr_expect(refused > NOPS / 8, "only %d requests were refused", refused);
	for (f = 0; f < NF; f++) {
		if (written[f])
			continue;
		at_slurp(z.file[f], buf, sizeof(buf));
		cr_expect_str_eq(buf, z.init[f], "f%02d (%04o) was written", f,
				 fmodes[f % 8]);
	}
	for (p = 0; p < 2; p++) {
		close(all[p][0]);
		close(all[p][1]);
	}
	fz_cleanup();
}
