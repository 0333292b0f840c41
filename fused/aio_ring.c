// SPDX-License-Identifier: GPL-2.0-only
/*
 * The mapped completion ring of a binary context (issue 10, docs/aio-ring.md):
 * the kernel's `struct aio_ring` (A4) in a memfd that the library made,
 * mapped by the process (its address is the context handle) and here.
 *
 * The process may write anything into the ring at any time.  So the daemon
 * keeps nr, id, the size and its own tail in struct aring, never reads
 * them back, and reads only head, once per use, taken modulo its own nr
 * (wire_ring_index()).  The memfd is sealed against shrinking (checked at
 * attach), so the mapping cannot turn into SIGBUS under the loop.
 *
 * Publishing (ring_publish()) is the first step of A56: the event in its
 * slot, then tail with a release store; areq_complete() then signals the
 * RESFD and wakes the waiters: the control file's pollers (the library
 * waits in ppoll on it, see client/aio_events.c; no futex wake on tail,
 * which the kernel does not do either and which cost a system call per
 * completion).  The control page's count is kept only once DESTROY has
 * come, when the library waits on it.  A read's data is stored in the submitter's
 * memory before (ring_deliver()), with process_vm_writev, as the kernel's
 * read has filled the buffer before its event exists.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <linux/kcmp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "aiod_i.h"

#ifndef F_SEAL_SEAL
#define F_SEAL_SEAL 0x0001
#define F_SEAL_SHRINK 0x0002
#define F_SEAL_GROW 0x0004
#endif

#define RING_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW)

static long page_size(void)
{
	long p = sysconf(_SC_PAGESIZE);

	return p > 0 ? p : 4096;
}

static pid_t tgid_of(pid_t pid)
{
	char path[64], buf[2048];
	const char *v;
	int tgid;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (aiod_proc_read(path, buf, sizeof(buf)) <= 0)
		return pid;
	v = aiod_proc_field(buf, "Tgid:");
	if (!v || sscanf(v, "%d", &tgid) != 1)
		return pid;
	return (pid_t)tgid;
}

/**
 * ring_attach() - take the ring of a SETUP record (@rs) from the writer
 * @pid: its memfd, sealed, of exactly the size the kernel would give
 * @nr_events (A11, A13) plus the control page; map it.
 * Returns: 0, or -EINVAL (not such a memfd), -EBADF, -EPERM, -ENOMEM.
 */
int ring_attach(struct aiod_ctx *ctx, const struct wire_ring_setup *rs,
		uint32_t nr_events, pid_t pid)
{
	struct aring *r = &ctx->ring;
	long page = page_size();
	__u64 bytes;
	struct stat st;
	uint32_t nr;
	void *map;
	int fd, ret, seals;

	ret = evfdfs_wire_ring_size(nr_events, ctx->ad->ncpus, (uint32_t)page,
				    &nr, &bytes);
	if (ret)
		return ret;
	ret = writer_may_lend(&ctx->opener, pid);
	if (ret < 0)
		return ret;
	fd = aiod_take_fd(ctx, pid, rs->memfd);
	if (fd < 0)
		return fd;
	seals = fcntl(fd, F_GET_SEALS);
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || seals < 0 ||
	    (seals & RING_SEALS) != RING_SEALS ||
	    (uint64_t)st.st_size != bytes + (uint64_t)page) {
		close(fd);
		return -EINVAL;
	}
	map = mmap(NULL, (size_t)bytes + (size_t)page, PROT_READ | PROT_WRITE,
		   MAP_SHARED, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return -ENOMEM;
	r->map = map;
	r->bytes = (size_t)bytes;
	r->map_len = (size_t)bytes + (size_t)page;
	r->ctl = (struct evfdfs_wire_ring_ctl *)((char *)map + bytes);
	r->nr = nr;
	r->id = rs->id;
	r->addr = rs->addr;
	r->tail = 0;
	r->tgid = tgid_of(pid);
	r->on = true;
	return 0;
}

static void futex_wake(uint32_t *word)
{
	syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

/* The control page's count of requests not completed; wakes destroy. */
void ring_ctl_update(struct aiod_ctx *ctx)
{
	struct aring *r = &ctx->ring;

	if (!r->on)
		return;
	atomic_store_explicit((_Atomic uint32_t *)&r->ctl->inflight,
			      ctx->inflight, memory_order_release);
	futex_wake(&r->ctl->inflight);
}

void ring_detach(struct aiod_ctx *ctx)
{
	struct aring *r = &ctx->ring;

	if (!r->on)
		return;
	ring_ctl_update(ctx);
	munmap(r->map, r->map_len);
	r->map = NULL;
	r->on = false;
}

static struct evfdfs_wire_ring *ring_hdr(const struct aring *r)
{
	return (struct evfdfs_wire_ring *)r->map;
}

/* head as the process left it: any value, read once. */
uint32_t ring_head(const struct aiod_ctx *ctx)
{
	const struct aring *r = &ctx->ring;

	return wire_ring_index(
		atomic_load_explicit((_Atomic uint32_t *)&ring_hdr(r)->head,
				     memory_order_acquire),
		r->nr);
}

uint32_t ring_waiting(const struct aiod_ctx *ctx)
{
	if (!ctx->ring.on)
		return 0;
	return wire_ring_waiting(ctx->ring.tail, ring_head(ctx), ctx->ring.nr);
}

/* A80, A81: no slot for one more request. */
bool ring_full(const struct aiod_ctx *ctx)
{
	return wire_ring_full(ctx->inflight, ring_waiting(ctx), ctx->ring.nr);
}

/* A56 step 1: the event in its slot, then tail (release), then a wake. */
void ring_publish(struct aiod_ctx *ctx, const struct io_event *ev)
{
	struct aring *r = &ctx->ring;
	struct evfdfs_wire_ring *h = ring_hdr(r);

	memcpy(&h->io_events[r->tail], ev, sizeof(*ev));
	r->tail = (r->tail + 1) % r->nr;
	atomic_store_explicit((_Atomic uint32_t *)&h->tail, r->tail,
			      memory_order_release);
}

/*
 * A15: may @pid act on the context?  Only a task that shares the setup
 * task's memory (its threads, a CLONE_VM or vfork child): kcmp(KCMP_VM).
 */
bool ring_may_submit(struct aiod_ctx *ctx, pid_t pid)
{
	struct aring *r = &ctx->ring;
	long ret;

	if (!r->on || pid == ctx->pid || pid == r->tgid || pid == r->ok_pid)
		return true;
	ret = syscall(SYS_kcmp, r->tgid, pid, KCMP_VM, 0, 0);
	if (ret < 0 && (errno == ENOSYS || errno == EPERM))
		ret = tgid_of(pid) == r->tgid ? 0 : 1;
	if (ret != 0)
		return false;
	r->ok_pid = pid;
	return true;
}

/*
 * Where a read of @s lands in the submitter's memory: its buffer, or its
 * iovec array as it is at submit (the kernel reads it then, A30.5).
 */
void ring_capture(struct areq *a, const struct wire_sub *s)
{
	const struct iocb *cb = &s->s.iocb;
	struct iovec remote, local;
	uint32_t i, n;

	if (!a->ctx->ring.on)
		return;
	if (a->op == IOCB_CMD_PREAD) {
		a->uiov = malloc(sizeof(*a->uiov));
		if (!a->uiov)
			return;
		a->uiov->iov_base = (void *)(uintptr_t)cb->aio_buf;
		a->uiov->iov_len = (size_t)cb->aio_nbytes;
		a->nuiov = 1;
		return;
	}
	if (a->op != IOCB_CMD_PREADV || !s->have_segs || !s->s.nsegs)
		return;
	n = s->s.nsegs;
	a->uiov = calloc(n, sizeof(*a->uiov));
	if (!a->uiov)
		return;
	remote.iov_base = (void *)(uintptr_t)cb->aio_buf;
	remote.iov_len = n * sizeof(*a->uiov);
	local.iov_base = a->uiov;
	local.iov_len = remote.iov_len;

	if (process_vm_readv(a->pid, &local, 1, &remote, 1, 0) !=
	    (ssize_t)remote.iov_len) {
		free(a->uiov);
		a->uiov = NULL;
		return;
	}
	for (i = 0; i < n; i++) /* the lengths the library sent */
		a->uiov[i].iov_len = (size_t)wire_seg(s, i);
	a->nuiov = n;
}

/*
 * Store a completed read's data in the submitter's memory before its
 * event is published; a fault stops it short, or makes it -EFAULT when
 * nothing was stored (A31).  Returns the event's res.
 */
int64_t ring_deliver(struct areq *a, int64_t res)
{
	struct aring *r = &a->ctx->ring;
	struct iovec local;
	size_t want;
	ssize_t n;

	if (a->pre_done)
		return a->pre_res;
	if ((a->op != IOCB_CMD_PREAD && a->op != IOCB_CMD_PREADV) || res <= 0 ||
	    !a->buf)
		return res;
	if (a->nowait_try && (uint64_t)res < a->buflen)
		return false; /* a worker reads it again */
	want = (uint64_t)res < a->buflen ? (size_t)res : a->buflen;
	if (a->spread)
		aiod_gather(a, (uint32_t)want);
	if (!a->uiov)
		return -EFAULT;
	local.iov_base = a->buf;
	local.iov_len = want;
	n = process_vm_writev(a->pid, &local, 1, a->uiov, a->nuiov, 0);
	if (n < 0 && errno == ESRCH && a->pid != r->tgid)
		n = process_vm_writev(r->tgid, &local, 1, a->uiov, a->nuiov, 0);
	if (n <= 0)
		return -EFAULT;
	return n < res ? (int64_t)n : res;
}

#define BATCH_SEGS 1024u /* UIO_MAXIOV */
#define BATCH_REQS 64u

struct dbatch {
	pid_t pid;
	struct areq *a[BATCH_REQS];
	size_t want[BATCH_REQS];
	unsigned int n, nrem;
	struct iovec loc[BATCH_REQS], rem[BATCH_SEGS];
};

/* The requests of @b in one process_vm_writev; each gets its res. */
static void dbatch_flush(struct dbatch *b)
{
	ssize_t got;
	size_t left, d;
	unsigned int i;

	if (!b->n)
		return;
	got = process_vm_writev(b->pid, b->loc, b->n, b->rem, b->nrem, 0);
	left = got > 0 ? (size_t)got : 0;
	/*
	 * The call stops at the first fault: the request it stopped in gets
	 * what was stored (or -EFAULT), the ones after it are left to
	 * ring_deliver(), alone.
	 */
	for (i = 0; got >= 0 && i < b->n; i++) {
		d = left < b->want[i] ? left : b->want[i];
		left -= d;
		b->a[i]->pre_done = true;
		b->a[i]->pre_res = d ? (int64_t)d : -EFAULT;
		if (d < b->want[i])
			break;
	}
	b->n = b->nrem = 0;
}

/* Add @a, completed with @res, to @b; false if it does not qualify. */
static bool dbatch_add(struct dbatch *b, struct areq *a, int64_t res)
{
	size_t want, l, s;
	uint32_t k;

	if (!a || !a->ctx->ring.on || a->direct || a->kphase != KP_IO ||
	    a->nowait_added || a->done || a->spread || !a->uiov || !a->buf ||
	    res <= 0 || a->nuiov > BATCH_SEGS ||
	    (a->op != IOCB_CMD_PREAD && a->op != IOCB_CMD_PREADV))
		return false;
	if (b->n && (b->pid != a->pid || b->n == BATCH_REQS ||
		     b->nrem + a->nuiov > BATCH_SEGS))
		dbatch_flush(b);
	if (a->nowait_try && (uint64_t)res < a->buflen)
		return false; /* a worker reads it again */
	want = (uint64_t)res < a->buflen ? (size_t)res : a->buflen;
	for (k = 0, l = want; k < a->nuiov && l; k++) {
		s = a->uiov[k].iov_len < l ? a->uiov[k].iov_len : l;
		if (!s)
			continue;
		b->rem[b->nrem].iov_base = a->uiov[k].iov_base;
		b->rem[b->nrem++].iov_len = s;
		l -= s;
	}
	want -= l; /* the segments hold less */
	b->pid = a->pid;
	b->a[b->n] = a;
	b->loc[b->n].iov_base = a->buf;
	b->loc[b->n].iov_len = want;
	b->want[b->n++] = want;
	return true;
}

/*
 * The completions of one reap of the daemon's kernel context: the data of
 * every final read of a ring context is stored with one process_vm_writev
 * per submitter (one call per read cost most of a batch's time), before
 * any of them is published.  Only reads whose kernel result is their
 * event's (no stream retry, no gathering); the rest, and any read left
 * unmarked by a refused call, are stored alone by ring_deliver().
 */
void ring_deliver_batch(const struct io_event *evs, int n)
{
	static struct dbatch b; /* the loop's alone */
	int i;

	b.n = b.nrem = 0;
	for (i = 0; i < n; i++)
		dbatch_add(&b, (struct areq *)(uintptr_t)evs[i].data,
			   evs[i].res);
	dbatch_flush(&b);
}
