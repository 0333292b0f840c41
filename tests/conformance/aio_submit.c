// SPDX-License-Identifier: GPL-2.0-only
/*
 * io_setup and io_submit as a whole: A10, A20-A26 and every row of table
 * 2.5 (each with its aio_key side effect, A24), capacity (A80, emulation.md:
 * at least nr_events unreaped submissions succeed), and libaio's queue
 * helpers (L2, L3).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <evfdfs.h>

#include "aio_backend.h"

#define KEY_MARK 0x5a5a5a5au

/* io_setup's argument checks (A10) and libaio's io_queue_init (L2). */
ACONFORM(setup_argument_checks)
{
	void *ctx = (void *)0x1234, *ro;
	int ret;

	aio_rec(t, "setup nr 0", b->setup(0, &ctx));
	ctx = (void *)0x1234;
	aio_rec(t, "setup ctx not 0", b->setup(4, &ctx));
	aio_rec(t, "setup ctxp unreadable", b->setup(4, (void **)8));
	ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert(ro != MAP_FAILED);
	aio_rec(t, "setup ctxp read-only", b->setup(4, ro));
	munmap(ro, 4096);
	ctx = NULL;
	aio_rec(t, "setup nr 0xffffffff", b->setup(0xffffffffu, &ctx));
	aio_rec(t, "queue_init 0", b->queue_init(0, &ctx));
	aio_rec(t, "queue_init -1", b->queue_init(-1, &ctx));
	ctx = (void *)0x1234; /* io_queue_init clears it first */
	ret = b->queue_init(4, &ctx);
	aio_rec(t, "queue_init 4 with garbage", ret);
	if (ret == 0)
		aio_rec(t, "destroy", b->destroy(ctx));
}

/* A20: nr < 0 is checked before the context; nr 0 returns 0. */
ACONFORM(submit_nr_and_context)
{
	void *ctx = aio_ctx(b, 4);
	struct iocb cb, *list[1] = { &cb };
	int fd = aio_tmpfile("/var/tmp", 64, O_RDONLY);
	char buf[8];

	io_prep_pread(&cb, fd, buf, sizeof(buf), 0);
	aio_rec(t, "nr -1", b->submit(ctx, -1, list));
	aio_rec(t, "nr -1 bad ctx", b->submit(aio_bad_ctx(), -1, list));
	aio_rec(t, "nr 0 bad ctx", b->submit(aio_bad_ctx(), 0, list));
	aio_rec(t, "nr 1 bad ctx", b->submit(aio_bad_ctx(), 1, list));
	aio_rec(t, "nr 0", b->submit(ctx, 0, NULL));
	aio_rec(t, "nr 1", b->submit(ctx, 1, list));
	aio_collect(b, t, ctx, 1, list, 1, false);
	aio_rec(t, "destroy", b->destroy(ctx));
	close(fd);
}

/* A21, A22: processing stops at the first failure, whose errno is lost
 * unless it is the first iocb. */
ACONFORM(submit_stops_at_first_failure)
{
	void *ctx = aio_ctx(b, 16);
	int fd = aio_tmpfile("/var/tmp", 64, O_RDONLY);
	struct iocb cb[3], *list[3] = { &cb[0], &cb[1], &cb[2] };
	struct iocb **tail;
	char buf[3][8], *pages;

	io_prep_pread(&cb[0], fd, buf[0], 8, 0);
	io_prep_pread(&cb[1], aio_closed_fd(), buf[1], 8, 0);
	io_prep_pread(&cb[2], fd, buf[2], 8, 8);
	aio_rec(t, "[ok, bad, ok]", b->submit(ctx, 3, list));
	aio_rec(t, "[bad, ok]", b->submit(ctx, 2, list + 1));
	aio_collect(b, t, ctx, 1, list, 3, false);

	list[1] = (struct iocb *)8;
	aio_rec(t, "[ok, unreadable iocb]", b->submit(ctx, 2, list));
	aio_rec(t, "[unreadable iocb]", b->submit(ctx, 1, list + 1));
	aio_rec(t, "iocbpp unreadable", b->submit(ctx, 1, (struct iocb **)8));
	/* The array runs into an inaccessible page after one entry. */
	pages = mmap(NULL, 8192, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert(pages != MAP_FAILED);
	mprotect(pages + 4096, 4096, PROT_NONE);
	tail = (struct iocb **)(pages + 4096) - 1;
	tail[0] = &cb[2];
	aio_rec(t, "[ok | unmapped]", b->submit(ctx, 2, tail));
	munmap(pages, 8192);
	aio_collect(b, t, ctx, 2, list, 3, true);
	aio_rec(t, "destroy", b->destroy(ctx));
	close(fd);
}

/*
 * One row of table 2.5: submit @cb alone with aio_key marked and record
 * the result and what became of aio_key (A24).
 */
static void row(const struct aio_backend *b, struct evt_transcript *t,
		void *ctx, const char *label, struct iocb *cb)
{
	struct iocb *list[1] = { cb };
	char l[128];
	int ret;

	cb->key = KEY_MARK;
	ret = b->submit(ctx, 1, list);
	snprintf(l, sizeof(l), "%s", label);
	aio_rec(t, l, ret);
	evt_rec(t, "  aio_key %s",
		cb->key == KEY_MARK ? "kept"
		: cb->key	    ? "changed"
				    : "zeroed");
	if (ret == 1)
		aio_collect(b, t, ctx, 1, list, 1, false);
}

/* Steps 2, 3, 5, 6, 8 and a failure at step 9, each alone, and the
 * orders the kernel shows between them. */
ACONFORM(table_2_5_rows_and_aio_key)
{
	void *ctx = aio_ctx(b, 16);
	int fd = aio_tmpfile("/var/tmp", 64, O_RDWR);
	int wfd = aio_reopen(fd, O_WRONLY);
	int opath = open("/var/tmp", O_PATH | O_CLOEXEC);
	int efd = b->counter(0, EFD_NONBLOCK);
	int p[2], bad = aio_closed_fd();
	struct iocb cb;
	char buf[8];

	cr_assert(pipe2(p, O_CLOEXEC) == 0);
	io_prep_pread(&cb, fd, buf, 8, 0);
	row(b, t, ctx, "valid", &cb);

	io_prep_pread(&cb, fd, buf, 8, 0);
	cb.u.c.__pad3 = 1; /* aio_reserved2 */
	row(b, t, ctx, "2 reserved2", &cb);

	io_prep_pread(&cb, fd, buf, 8, 0);
	cb.u.c.nbytes = (unsigned long)-1;
	row(b, t, ctx, "3 negative nbytes", &cb);
	io_prep_pread(&cb, bad, buf, 8, 0);
	cb.u.c.nbytes = (unsigned long)-8;
	row(b, t, ctx, "3 negative nbytes, bad fd", &cb);

	io_prep_pread(&cb, bad, buf, 8, 0);
	row(b, t, ctx, "5 fd not open", &cb);
	io_prep_pread(&cb, -1, buf, 8, 0);
	row(b, t, ctx, "5 fd -1", &cb);
	io_prep_pread(&cb, opath, buf, 8, 0);
	row(b, t, ctx, "5 fd O_PATH", &cb);
	io_prep_pread(&cb, bad, buf, 8, 0);
	cb.aio_lio_opcode = 6;
	row(b, t, ctx, "5 bad fd, bad opcode", &cb);

	io_prep_pread(&cb, fd, buf, 8, 0);
	io_set_eventfd(&cb, bad);
	row(b, t, ctx, "6 resfd not open", &cb);
	io_prep_pread(&cb, fd, buf, 8, 0);
	io_set_eventfd(&cb, opath);
	row(b, t, ctx, "6 resfd O_PATH", &cb);
	io_prep_pread(&cb, fd, buf, 8, 0);
	io_set_eventfd(&cb, fd);
	row(b, t, ctx, "6 resfd regular file", &cb);
	io_prep_pread(&cb, fd, buf, 8, 0);
	io_set_eventfd(&cb, p[0]);
	row(b, t, ctx, "6 resfd pipe", &cb);
	io_prep_pread(&cb, fd, buf, 8, 0);
	io_set_eventfd(&cb, p[0]);
	cb.aio_lio_opcode = 4;
	row(b, t, ctx, "6 resfd pipe, bad opcode", &cb);
	io_prep_pread(&cb, fd, buf, 8, 0);
	io_set_eventfd(&cb, efd);
	row(b, t, ctx, "6 resfd counter", &cb);
	aio_rec_resfd(t, efd, 1);

	io_prep_pread(&cb, fd, buf, 8, 0);
	cb.aio_lio_opcode = 4;
	row(b, t, ctx, "8 opcode 4", &cb);
	io_prep_pread(&cb, fd, buf, 8, 0);
	cb.aio_lio_opcode = IO_CMD_NOOP;
	row(b, t, ctx, "8 opcode NOOP", &cb);
	io_prep_pread(&cb, fd, buf, 8, 0);
	cb.aio_lio_opcode = 9;
	row(b, t, ctx, "8 opcode 9", &cb);
	io_prep_pread(&cb, fd, buf, 8, 0);
	cb.aio_lio_opcode = -1;
	row(b, t, ctx, "8 opcode 0xffff", &cb);
	io_prep_pread(&cb, fd, buf, 8, 0);
	io_set_eventfd(&cb, efd);
	cb.aio_lio_opcode = 9;
	row(b, t, ctx, "8 opcode 9 with resfd", &cb);
	aio_rec_resfd(t, efd, 0);

	io_prep_pread(&cb, wfd, buf, 8, 0);
	row(b, t, ctx, "9 pread on O_WRONLY", &cb);
	io_prep_pread(&cb, fd, buf, 8, -1);
	row(b, t, ctx, "9 negative offset", &cb);

	aio_rec(t, "destroy", b->destroy(ctx));
	close(p[0]);
	close(p[1]);
	close(efd);
	close(opath);
	close(wfd);
	close(fd);
}

/* Step 7: an iocb in read-only memory, after steps 5 and 6. */
ACONFORM(table_2_5_key_not_writable)
{
	void *ctx = aio_ctx(b, 4);
	int fd = aio_tmpfile("/var/tmp", 64, O_RDONLY);
	struct iocb *ro, *list[1];
	char buf[8];

	ro = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	cr_assert(ro != MAP_FAILED);
	list[0] = ro;
	io_prep_pread(ro, fd, buf, 8, 0);
	mprotect(ro, 4096, PROT_READ);
	aio_rec(t, "7 read-only iocb", b->submit(ctx, 1, list));
	mprotect(ro, 4096, PROT_READ | PROT_WRITE);
	io_prep_pread(ro, aio_closed_fd(), buf, 8, 0);
	mprotect(ro, 4096, PROT_READ);
	aio_rec(t, "5 before 7", b->submit(ctx, 1, list));
	mprotect(ro, 4096, PROT_READ | PROT_WRITE);
	io_prep_pread(ro, fd, buf, 8, 0);
	ro->aio_lio_opcode = 6;
	mprotect(ro, 4096, PROT_READ);
	aio_rec(t, "7 before 8", b->submit(ctx, 1, list));
	munmap(ro, 4096);
	aio_rec(t, "destroy", b->destroy(ctx));
	close(fd);
}

/* A25, A26: unknown aio_flags bits, aio_resfd and aio_reqprio without
 * their flags are ignored; NOOP, 4 and >= 9 are EINVAL. */
ACONFORM(ignored_fields_and_bad_opcodes)
{
	static const int ops[] = { 4, IO_CMD_NOOP, 9, 10, 100, 0x7fff };
	void *ctx = aio_ctx(b, 16);
	int fd = aio_tmpfile("/dev/shm", 64, O_RDONLY);
	struct iocb cb[4], *list[4] = { &cb[0], &cb[1], &cb[2], &cb[3] };
	char buf[4][8], l[32];
	size_t i;

	io_prep_pread(&cb[0], fd, buf[0], 8, 0);
	cb[0].u.c.flags = 1u << 2;
	io_prep_pread(&cb[1], fd, buf[1], 8, 8);
	cb[1].u.c.flags = 0xfffffffcu;
	io_prep_pread(&cb[2], fd, buf[2], 8, 16);
	cb[2].u.c.resfd = 12345;
	io_prep_pread(&cb[3], fd, buf[3], 8, 24);
	cb[3].aio_reqprio = 0x7fff;
	aio_rec(t, "four with ignored fields", b->submit(ctx, 4, list));
	aio_collect(b, t, ctx, 4, list, 4, true);
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		io_prep_pread(&cb[0], fd, buf[0], 8, 0);
		cb[0].aio_lio_opcode = (short)ops[i];
		snprintf(l, sizeof(l), "opcode %d", ops[i]);
		aio_rec(t, l, b->submit(ctx, 1, list));
	}
	aio_rec(t, "destroy", b->destroy(ctx));
	close(fd);
}

/*
 * Capacity: nr_events unreaped submissions succeed on both (the kernel
 * allows more, A81: only what both must do is compared); once full, step
 * 4's EAGAIN comes after steps 2 and 3 and before 5 and 8; reaping frees a
 * slot (A66).
 */
ACONFORM(capacity_and_step_4)
{
	const unsigned int nr = 4;
	void *ctx = aio_ctx(b, nr);
	int fd = aio_tmpfile("/dev/shm", 64, O_RDONLY);
	struct iocb cb, *list[1] = { &cb };
	struct io_event ev[1];
	struct timespec zero = { 0, 0 };
	unsigned int i, n = 0;
	char buf[8];
	int ret = 0;

	for (i = 0; i < nr; i++) {
		io_prep_pread(&cb, fd, buf, 8, 0);
		aio_rec(t, "submit within nr_events", b->submit(ctx, 1, list));
	}
	/* Fill the rest, however much the implementation allows. */
	for (i = 0; i < 10000; i++) {
		io_prep_pread(&cb, fd, buf, 8, 0);
		ret = b->submit(ctx, 1, list);
		if (ret != 1)
			break;
		n++;
	}
	aio_rec(t, "filled until", ret);
	io_prep_pread(&cb, aio_closed_fd(), buf, 8, 0);
	aio_rec(t, "full: bad fd", b->submit(ctx, 1, list));
	io_prep_pread(&cb, fd, buf, 8, 0);
	cb.aio_lio_opcode = 9;
	aio_rec(t, "full: bad opcode", b->submit(ctx, 1, list));
	io_prep_pread(&cb, fd, buf, 8, 0);
	cb.u.c.__pad3 = 1;
	aio_rec(t, "full: reserved2", b->submit(ctx, 1, list));
	io_prep_pread(&cb, fd, buf, 8, 0);
	cb.u.c.nbytes = (unsigned long)-1;
	aio_rec(t, "full: negative nbytes", b->submit(ctx, 1, list));
	aio_rec(t, "reap one", b->getevents(ctx, 1, 1, ev, &zero));
	io_prep_pread(&cb, fd, buf, 8, 0);
	aio_rec(t, "submit after reaping", b->submit(ctx, 1, list));
	aio_rec(t, "destroy", b->destroy(ctx));
	close(fd);
}

/* A23, A54: synchronous completions come back in submission order. */
ACONFORM(events_in_submission_order)
{
	void *ctx = aio_ctx(b, 8);
	int fd = aio_tmpfile("/dev/shm", 4096, O_RDONLY);
	struct iocb cb[4], *list[4] = { &cb[0], &cb[1], &cb[2], &cb[3] };
	char buf[4][64];
	int i;

	for (i = 0; i < 4; i++) {
		io_prep_pread(&cb[i], fd, buf[i], 64, 64 * (3 - i));
		cb[i].data = (void *)(uintptr_t)(0x100 + i);
	}
	aio_rec(t, "submit 4", b->submit(ctx, 4, list));
	aio_collect(b, t, ctx, 4, list, 4, false);
	aio_rec(t, "destroy", b->destroy(ctx));
	close(fd);
}

static struct evt_transcript *cb_transcript;
static struct iocb *cb_iocbs[2];

static void queue_cb(io_context_t ctx, struct iocb *iocb, long res, long res2)
{
	(void)ctx;
	evt_rec(cb_transcript, "callback iocb%d res=%ld res2=%ld",
		iocb == cb_iocbs[0]   ? 0
		: iocb == cb_iocbs[1] ? 1
				      : -1,
		res, res2);
}

/* L3: io_queue_run calls each completion's callback, then returns 0. */
ACONFORM(queue_run_calls_callbacks)
{
	void *ctx = NULL;
	int fd = aio_tmpfile("/dev/shm", 64, O_RDONLY);
	struct iocb cb[2];
	long long deadline;
	char buf[2][8];
	int ret;

	cb_transcript = t;
	cb_iocbs[0] = &cb[0];
	cb_iocbs[1] = &cb[1];
	cr_assert_eq(b->queue_init(4, &ctx), 0);
	io_prep_pread(&cb[0], fd, buf[0], 8, 0);
	io_set_callback(&cb[0], queue_cb);
	io_prep_pread(&cb[1], fd, buf[1], 8, 60);
	io_set_callback(&cb[1], queue_cb);
	aio_rec(t, "submit", b->submit(ctx, 2, cb_iocbs));
	/* io_queue_run never blocks: run it until both callbacks came. */
	deadline = evt_now_ms() + 5000;
	do {
		ret = b->queue_run(ctx);
		if (ret != 0 || (strstr(t->buf, "callback iocb0") &&
				 strstr(t->buf, "callback iocb1")))
			break;
		poll(NULL, 0, 5);
	} while (evt_now_ms() < deadline);
	aio_rec(t, "queue_run", ret);
	aio_rec(t, "queue_run empty", b->queue_run(ctx));
	aio_rec(t, "destroy", b->destroy(ctx));
	close(fd);
}

/*
 * L1: libaio's calls return -errno and leave errno alone, on success and
 * on failure.  Each call runs with errno set to a marker, and the
 * transcript says whether the marker survived.  getevents and pgetevents
 * go through libaio here, not the backend's syscall() wrappers (which set
 * errno, as syscall() must); the failing calls have no timeout, as
 * libaio's zero timeout peeks at the ring instead (the L4 difference).
 */
#define ERRNO_MARK 77
#define KEPT(label, call)                                             \
	do {                                                          \
		long r_;                                              \
		int e_;                                               \
		errno = ERRNO_MARK;                                   \
		r_ = (call);                                          \
		e_ = errno;                                           \
		aio_rec(t, label, r_);                                \
		evt_rec(t, "  errno %s",                              \
			e_ == ERRNO_MARK ? "kept" : evt_errname(e_)); \
	} while (0)

static int l_getevents(const struct aio_backend *b, void *ctx, long min_nr,
		       long nr, struct io_event *ev, struct timespec *ts)
{
	if (b->mount)
		return evfdfs_io_getevents(ctx, min_nr, nr, ev, ts);
	return io_getevents(ctx, min_nr, nr, ev, ts);
}

static int l_pgetevents(const struct aio_backend *b, void *ctx, long min_nr,
			long nr, struct io_event *ev, struct timespec *ts,
			sigset_t *mask)
{
	if (b->mount)
		return evfdfs_io_pgetevents(ctx, min_nr, nr, ev, ts, mask);
	return io_pgetevents(ctx, min_nr, nr, ev, ts, mask);
}

ACONFORM(calls_leave_errno_alone)
{
	void *ctx = NULL, *qctx = NULL;
	int fd = aio_tmpfile("/var/tmp", 64, O_RDONLY);
	int e = b->counter(0, EFD_NONBLOCK);
	struct iocb cb, poll_cb, *list[1] = { &cb }, *plist[1] = { &poll_cb };
	struct timespec zero = { 0, 0 }, second = { 1, 0 };
	struct io_event ev[4];
	sigset_t mask;
	char buf[8];

	sigemptyset(&mask);
	KEPT("setup", b->setup(4, &ctx));
	KEPT("setup nr 0", b->setup(0, &qctx));
	KEPT("queue_init", b->queue_init(4, &qctx));
	KEPT("queue_init 0", b->queue_init(0, &qctx));
	io_prep_pread(&cb, fd, buf, sizeof(buf), 0);
	KEPT("submit", b->submit(ctx, 1, list));
	KEPT("submit nr -1", b->submit(ctx, -1, list));
	KEPT("getevents", l_getevents(b, ctx, 1, 4, ev, &second));
	KEPT("getevents empty", l_getevents(b, ctx, 0, 4, ev, &zero));
	KEPT("getevents min > nr", l_getevents(b, ctx, 2, 1, ev, NULL));
	KEPT("cancel done", b->cancel(ctx, &cb, ev));
	io_prep_pread(&cb, aio_closed_fd(), buf, sizeof(buf), 0);
	KEPT("submit bad fd", b->submit(ctx, 1, list));
	io_prep_poll(&poll_cb, e, POLLIN);
	KEPT("submit poll", b->submit(ctx, 1, plist));
	KEPT("cancel poll", b->cancel(ctx, &poll_cb, ev));
	KEPT("pgetevents", l_pgetevents(b, ctx, 1, 4, ev, &second, &mask));
	KEPT("pgetevents nr -1", l_pgetevents(b, ctx, 0, -1, ev, NULL, &mask));
	KEPT("destroy queue", b->destroy(qctx));
	KEPT("destroy", b->destroy(ctx));
	KEPT("destroy again", b->destroy(ctx));
	close(e);
	close(fd);
}
