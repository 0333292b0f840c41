// SPDX-License-Identifier: GPL-2.0-only
/*
 * The mapped completion ring (A4, A13, A15, A80-A82, L4): the handle is
 * the ring's address, on the kernel and on the mount, and a program may
 * read it, reap from it, peek at it through libaio, overwrite or unmap
 * it, and use it from a task that shares its memory.
 *
 * Events are awaited through their RESFD counter: the event is in the
 * ring before the counter moves (A56), so a case never needs a call that
 * would reap to know that the ring holds what it submitted.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <evfdfs.h>

#include "aio_backend.h"

/* The kernel's struct aio_ring (A4). */
struct ring {
	unsigned int id, nr, head, tail;
	unsigned int magic, compat_features, incompat_features, header_length;
	struct io_event io_events[];
};

static struct ring *ring_of(void *ctx)
{
	return ctx;
}

/* Wait (bounded) until counter @fd has been signalled @n times in all. */
static void await_resfd(int fd, uint64_t n)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	long long deadline = evt_now_ms() + 5000;
	uint64_t total = 0, v;

	while (total < n && evt_now_ms() < deadline) {
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		if (read(fd, &v, sizeof(v)) == sizeof(v))
			total += v;
	}
	cr_assert_eq(total, n, "RESFD signalled %llu of %llu",
		     (unsigned long long)total, (unsigned long long)n);
}

/* Submit @n reads of 8 bytes of @fd, each with RESFD @efd. */
static int submit_reads(const struct aio_backend *b, void *ctx, struct iocb *cb,
			int n, int fd, int efd, char (*buf)[8])
{
	int i, ret;

	for (i = 0; i < n; i++) {
		struct iocb *list[1] = { &cb[i] };

		io_prep_pread(&cb[i], fd, buf[i], 8, 8 * (i % 64));
		io_set_eventfd(&cb[i], efd);
		ret = b->submit(ctx, 1, list);
		if (ret != 1)
			return ret < 0 ? ret : -EIO;
	}
	return 0;
}

/* A4, A13: the header, and nr from the page-aligned size. */
ACONFORM(ring_header_and_size)
{
	static const unsigned int sizes[] = { 1, 128, 1000 };
	void *ctx[3];
	unsigned int i;

	for (i = 0; i < 3; i++) {
		struct ring *r;

		ctx[i] = aio_ctx(b, sizes[i]);
		r = ring_of(ctx[i]);
		evt_rec(t,
			"io_setup(%u): id=%u nr=%u head=%u tail=%u magic=%#x "
			"compat=%u incompat=%u header_length=%u",
			sizes[i], r->id, r->nr, r->head, r->tail, r->magic,
			r->compat_features, r->incompat_features,
			r->header_length);
	}
	for (i = 0; i < 3; i++)
		aio_rec(t, "destroy", b->destroy(ctx[i]));
}

/* L4: libaio's own io_getevents peeks at an empty ring with {0,0}. */
ACONFORM(libaio_peek_at_an_empty_ring)
{
	void *ctx = aio_ctx(b, 4);
	struct timespec zero = { 0, 0 };
	struct io_event ev[2];

	aio_rec(t, "libaio getevents(2, 1, {0,0}) on an empty ring",
		io_getevents(ctx, 2, 1, ev, &zero));
	aio_rec(t, "libaio getevents(1, 1, {0,0}) on an empty ring",
		io_getevents(ctx, 1, 1, ev, &zero));
	aio_rec(t, "destroy", b->destroy(ctx));
}

/*
 * A80, A81: every submit takes a slot until its event is consumed; the
 * usable capacity lies between nr_events and nr - 1; consuming one event
 * gives one slot back (A66).
 */
ACONFORM(ring_overfill_is_eagain)
{
	void *ctx = aio_ctx(b, 1);
	int fd = aio_tmpfile("/dev/shm", 512, O_RDONLY);
	unsigned int nr = ring_of(ctx)->nr;
	static struct iocb cb[512];
	static char buf[512][8];
	struct io_event ev[1];
	struct timespec ts = { 5, 0 };
	int n = 0, ret = 0;

	while (n < 512) {
		struct iocb *list[1] = { &cb[n] };

		io_prep_pread(&cb[n], fd, buf[n], 8, 0);
		ret = b->submit(ctx, 1, list);
		if (ret != 1)
			break;
		n++;
	}
	aio_rec(t, "the submit that found no slot", ret);
	evt_rec(t, "accepted at least nr_events: %d, at most nr - 1: %d",
		n >= 1, n <= (int)nr - 1);
	aio_rec(t, "getevents 1", b->getevents(ctx, 1, 1, ev, &ts));
	{
		struct iocb *list[1] = { &cb[n] };

		io_prep_pread(&cb[n], fd, buf[n], 8, 0);
		aio_rec(t, "a slot came back", b->submit(ctx, 1, list));
	}
	aio_rec(t, "destroy", b->destroy(ctx));
	close(fd);
}

/* Reap @k events from the ring as a program may (A82). */
static int user_reap(struct ring *r, struct io_event *out, int k)
{
	unsigned int head = r->head % r->nr, tail, i = 0;

	tail = atomic_load_explicit((_Atomic unsigned int *)&r->tail,
				    memory_order_acquire) %
	       r->nr;
	while (head != tail && (int)i < k) {
		out[i++] = r->io_events[head];
		head = (head + 1) % r->nr;
	}
	atomic_store_explicit((_Atomic unsigned int *)&r->head, head,
			      memory_order_release);
	return (int)i;
}

/*
 * A82: events read from the ring by the program, head stored: the data
 * is there, io_getevents then finds nothing, and the slots come back, so
 * that io_setup(1) takes far more than its ring holds.
 */
ACONFORM(user_space_reaping)
{
	void *ctx = aio_ctx(b, 1);
	struct ring *r = ring_of(ctx);
	int fd = aio_tmpfile("/dev/shm", 512, O_RDONLY);
	int efd = b->counter(0, 0);
	static struct iocb cb[32];
	static char buf[32][8];
	struct iocb *list[32];
	struct io_event ev[32];
	struct timespec zero = { 0, 0 };
	int i, round, got, total = 0, bad = 0;

	for (i = 0; i < 32; i++)
		list[i] = &cb[i];
	aio_rec(t, "submit 8", submit_reads(b, ctx, cb, 8, fd, efd, buf));
	await_resfd(efd, 8);
	evt_rec(t, "waiting in the ring: %u",
		(r->tail + r->nr - r->head) % r->nr);
	got = user_reap(r, ev, 32);
	aio_rec_events(t, "reaped", ev, got, list, 32);
	for (i = 0; i < 8; i++)
		aio_rec_data(t, "data", buf[i], 8, (size_t)(8 * i));
	aio_rec(t, "getevents after reaping",
		b->getevents(ctx, 0, 32, ev, &zero));
	/* 40 rounds of 32 reads: 1280 submissions on io_setup(1). */
	for (round = 0; round < 40; round++) {
		if (submit_reads(b, ctx, cb, 32, fd, efd, buf))
			break;
		await_resfd(efd, 32);
		got = user_reap(r, ev, 32);
		total += got;
		for (i = 0; i < got; i++)
			bad += ev[i].res != 8;
	}
	evt_rec(t, "rounds %d, reaped %d, failed %d", round, total, bad);
	aio_rec(t, "destroy", b->destroy(ctx));
	close(efd);
	close(fd);
}

/* What is left of a context whose ring is gone leaks until exit (A15);
 * on the mount that is its control file, closed here by hand. */
static void close_leaked_control(const struct aio_backend *b)
{
	char path[64], link[4096];
	ssize_t n;
	int fd;

	if (!b->mount)
		return;
	for (fd = 3; fd < 1024; fd++) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		n = readlink(path, link, sizeof(link) - 1);
		if (n <= 4)
			continue;
		link[n] = '\0';
		if (strcmp(link + n - 4, "/aio") == 0 &&
		    strncmp(link, evt_shared_mnt(), strlen(evt_shared_mnt())) ==
			    0)
			close(fd);
	}
}

/* A15: an overwritten id, then an unmapped ring: every call is EINVAL. */
ACONFORM(ring_overwritten_id_and_munmap)
{
	void *ctx = aio_ctx(b, 4);
	struct ring *r = ring_of(ctx);
	int fd = aio_tmpfile("/dev/shm", 64, O_RDONLY);
	size_t len = 32 + 32 * (size_t)r->nr;
	struct timespec zero = { 0, 0 };
	unsigned int id = r->id;
	struct iocb cb, *list[1] = { &cb };
	struct io_event ev[1];
	char buf[8];

	io_prep_pread(&cb, fd, buf, 8, 0);
	r->id = id + 100;
	aio_rec(t, "submit, id overwritten", b->submit(ctx, 1, list));
	aio_rec(t, "getevents, id overwritten",
		b->getevents(ctx, 0, 1, ev, &zero));
	aio_rec(t, "destroy, id overwritten", b->destroy(ctx));
	r->id = id;
	aio_rec(t, "submit, id back", b->submit(ctx, 1, list));
	aio_rec(t, "getevents, id back", b->getevents(ctx, 1, 1, ev, NULL));
	cr_assert_eq(munmap(ctx, len), 0);
	aio_rec(t, "submit, unmapped", b->submit(ctx, 1, list));
	aio_rec(t, "getevents, unmapped", b->getevents(ctx, 0, 1, ev, &zero));
	aio_rec(t, "cancel, unmapped", b->cancel(ctx, &cb, ev));
	aio_rec(t, "destroy, unmapped", b->destroy(ctx));
	close_leaked_control(b);
	close(fd);
}

/* A shared record of what a child did with its parent's context. */
struct child_res {
	const struct aio_backend *b;
	void *ctx;
	int fd;
	char buf[8];
	int submit, getevents;
	long long res;
};

static void child_body(struct child_res *c)
{
	struct iocb cb, *list[1] = { &cb };
	struct timespec ts = { 5, 0 };
	struct io_event ev[1];

	io_prep_pread(&cb, c->fd, c->buf, 8, 8);
	c->submit = c->b->submit(c->ctx, 1, list);
	c->getevents = c->b->getevents(c->ctx, 1, 1, ev, &ts);
	c->res = c->getevents == 1 ? (long long)ev[0].res : 0;
}

static int clone_child_main(void *arg)
{
	child_body(arg);
	return 0;
}

static void rec_child(struct evt_transcript *t, const char *who,
		      struct child_res *c)
{
	char label[64];

	snprintf(label, sizeof(label), "%s: submit", who);
	aio_rec(t, label, c->submit);
	snprintf(label, sizeof(label), "%s: getevents", who);
	aio_rec(t, label, c->getevents);
	evt_rec(t, "%s: res %lld", who, c->res);
	if (c->res == 8)
		aio_rec_data(t, who, c->buf, 8, 8);
}

/* A15 by address space: a CLONE_VM child and a vfork child use the
 * parent's context. */
ACONFORM(clone_vm_and_vfork_children_share_the_context)
{
	static char stack[256 * 1024] __attribute__((aligned(16)));
	struct child_res c = { .b = b };
	int status;
	pid_t pid;

	c.ctx = aio_ctx(b, 4);
	c.fd = aio_tmpfile("/dev/shm", 64, O_RDONLY);
	pid = clone(clone_child_main, stack + sizeof(stack), CLONE_VM | SIGCHLD,
		    &c);
	cr_assert(pid > 0);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	rec_child(t, "clone(CLONE_VM) child", &c);

	memset(c.buf, 0, sizeof(c.buf));
	c.submit = c.getevents = 0;
	c.res = 0;
	pid = vfork();
	if (pid == 0) {
		child_body(&c);
		_exit(0);
	}
	cr_assert(pid > 0);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	rec_child(t, "vfork child", &c);
	aio_rec(t, "destroy", b->destroy(c.ctx));
	close(c.fd);
}

/* A15: a forked child sees the ring but may not use the context. */
ACONFORM(forked_child_may_not_use_the_context)
{
	struct child_res *c = mmap(NULL, sizeof(*c), PROT_READ | PROT_WRITE,
				   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct timespec zero = { 0, 0 };
	struct io_event ev[1];
	int status, magic_seen;
	pid_t pid;

	cr_assert(c != MAP_FAILED);
	c->b = b;
	c->ctx = aio_ctx(b, 4);
	c->fd = aio_tmpfile("/dev/shm", 64, O_RDONLY);
	pid = fork();
	if (pid == 0) {
		struct iocb cb, *list[1] = { &cb };

		io_prep_pread(&cb, c->fd, c->buf, 8, 8);
		c->submit = b->submit(c->ctx, 1, list);
		c->getevents = b->getevents(c->ctx, 0, 1, ev, &zero);
		c->res = ring_of(c->ctx)->magic == 0xa10a10a1;
		_exit(0);
	}
	cr_assert(pid > 0);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	magic_seen = (int)c->res;
	aio_rec(t, "child: submit", c->submit);
	aio_rec(t, "child: getevents", c->getevents);
	evt_rec(t, "child sees the ring: %d", magic_seen);
	aio_rec(t, "parent: getevents", b->getevents(c->ctx, 0, 1, ev, &zero));
	aio_rec(t, "destroy", b->destroy(c->ctx));
	close(c->fd);
	munmap(c, sizeof(*c));
}

/*
 * A documented difference (README): mremap(2) moves a kernel context with
 * its ring (A15).  The library cannot see the move; the preload shim,
 * which interposes mremap, can (test-shim shim/ring_program_sees_no_
 * difference).  Called directly, the library loses the context: every
 * call at either address is EINVAL, as after munmap.  Growing the ring
 * is EFAULT on the kernel's ring (VM_DONTEXPAND); the library's mapping
 * is an ordinary one and may grow.
 */
Test(aio_difference, mremap_of_the_ring_needs_the_shim, .timeout = 30)
{
	struct timespec zero = { 0, 0 };
	struct io_event ev[1];
	io_context_t k = 0;
	void *m = NULL, *to, *moved;
	size_t len;

	evt_shared_mnt();
	cr_assert_eq(io_setup(4, &k), 0);
	len = 32 + 32 * (size_t)ring_of(k)->nr;
	to = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert(to != MAP_FAILED);
	cr_expect_eq(mremap(k, len, len + 4096, MREMAP_MAYMOVE), MAP_FAILED);
	cr_expect_eq(errno, EFAULT, "the kernel's ring cannot grow");
	moved = mremap(k, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, to);
	cr_assert_eq(moved, to);
	cr_expect_eq(syscall(SYS_io_getevents, moved, 0, 1, ev, &zero), 0,
		     "kernel: the context moved with its ring");
	cr_expect_eq(io_destroy((io_context_t)moved), 0);

	cr_assert_eq(evfdfs_io_setup(evt_shared_mnt(), 4,
				     (struct evfdfs_io_ctx **)&m),
		     0);
	to = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert(to != MAP_FAILED);
	moved = mremap(m, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, to);
	cr_assert_eq(moved, to);
	cr_expect_eq(evfdfs_io_getevents(moved, 0, 1, ev, &zero), -EINVAL,
		     "mount, documented: the library does not see the move");
	cr_expect_eq(evfdfs_io_getevents(m, 0, 1, ev, &zero), -EINVAL);
	cr_expect_eq(evfdfs_io_destroy(m), -EINVAL);
	munmap(moved, len);
	close_leaked_control(&aio_backend_mount);
}
