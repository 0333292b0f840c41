// SPDX-License-Identifier: GPL-2.0-only
/*
 * Direct transfers (EVFDFS_WIRE_SUB_DIRECT): the data of a PREAD, PWRITE,
 * PREADV or PWRITEV does not travel in the records; the daemon moves it
 * between the file and the submitter's own memory with process_vm_readv
 * and process_vm_writev, as the kernel's copy_from_user/copy_to_user do.
 *
 * Who may.  The daemon acts for a writer only when the context's opener
 * could have taken its descriptors (aio_cred.c: checked before any record
 * of a write is taken), and process_vm_* asks ptrace's access of the
 * daemon too.  Where the kernel refuses (EPERM: another user's process,
 * a Yama scope), the write fails with EXDEV before any of its records is
 * accepted, and the library sends the data inline instead (wire.h); the
 * daemon says so once in its log.
 *
 * Which task.  FUSE names the submitter by its thread id; the requests of
 * one write share a duplicate of the context's pidfd for that thread
 * (struct xpid: one dup per write, not per request), and every
 * process_vm_* call is bracketed by a check that the pidfd's task is
 * still alive: while it is, no other task has its id, so the memory
 * touched is the submitter's.
 *
 * Two ways, by the file:
 *
 *   whole      regular files and block devices, not O_DIRECT: a worker
 *              runs the transfer in chunks of at most XFER_CHUNK bytes
 *              through one buffer (what the daemon's buffer accounting
 *              charges), each chunk a kernel AIO request on the worker's
 *              own context, up to the kernel's MAX_RW_COUNT.  It stops at
 *              a short chunk (end of file) or the first fault, as the
 *              kernel's copy does: a partly readable buffer writes its
 *              readable part, a partly writable one reads what fits.
 *   mirror     everything else (counters of the mount, streams, character
 *              devices, O_DIRECT): the data of a write is taken at submit
 *              into the request's buffer, at most EVFDFS_WIRE_MAX_DATA as
 *              inline, and a read's is put in place when it completes.
 *              Pipes, FIFOs, stream sockets and character devices go on
 *              past that buffer chunk by chunk (aio_wait.c's chunk_next():
 *              the next chunk pulled or the last stored at offset
 *              a->done); O_DIRECT files and counters keep one buffer.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "aiod_i.h"
#include "kaio.h"

/* Remote segments per process_vm_* call (the kernel's UIO_MAXIOV). */
#define XFER_SEGS 1024u

static bool task_alive(int pidfd)
{
	return syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) == 0;
}

/*
 * Can the daemon reach @job's writer's memory?  A read of one byte at
 * address 0: EFAULT once access was granted, EPERM when it is refused.
 * Asked once per write.
 */
static int mem_reachable(struct aiod *ad, struct sjob *job)
{
	struct iovec l, r;
	char c;

	if (job->mem_ok)
		return job->mem_ok;
	l.iov_base = &c;
	l.iov_len = 1;
	r.iov_base = NULL;
	r.iov_len = 1;
	job->mem_ok = 1;
	if (ad->no_direct)
		errno = EPERM;
	else if (process_vm_readv(job->pid, &l, 1, &r, 1, 0) >= 0)
		return job->mem_ok;
	if (errno != EPERM && errno != EACCES && errno != ENOSYS)
		return job->mem_ok; /* EFAULT: reachable */
	job->mem_ok = -EXDEV;
	if (!ad->said_inline) {
		ad->said_inline = true;
		evfdfs_log("info",
			   "aio: pid %d's memory is out of reach (%s%s): "
			   "transfers of such processes travel inline, at "
			   "most %u bytes each",
			   (int)job->pid, strerror(errno),
			   ad->no_direct ? ", EVFDFS_AIOD_NO_DIRECT" : "",
			   (unsigned int)EVFDFS_WIRE_MAX_DATA);
	}
	return job->mem_ok;
}

/*
 * The submitter's side of a direct request: its pidfd, its segments
 * (the iovec array read from its memory, with the lengths the record
 * carried), the bytes to move.  Returns 0, -EXDEV (inline instead),
 * -EFAULT (the iovec array is gone) or -ENOMEM.
 */
int xfer_prepare(struct sjob *job, struct areq *a, const struct wire_sub *s)
{
	struct aiod *ad = job->ctx->ad;
	struct iovec l, r;
	uint32_t i, n;
	ssize_t got;
	int ret, pfd;

	/* The opener's rule first: afile_get() has asked it of this writer
	 * (aio_cred.c); memory is reached only for a writer that passed. */
	if (job->writer_ok != 1)
		return job->writer_ok < 0 ? job->writer_ok : -EPERM;
	ret = mem_reachable(ad, job);
	if (ret < 0)
		return ret;
	if (!job->xpid) { /* once per write */
		pfd = ctx_pidfd_get(job->ctx, job->pid, false);
		if (pfd >= 0 && !task_alive(pfd)) /* a task that is gone */
			pfd = ctx_pidfd_get(job->ctx, job->pid, true);
		if (pfd < 0)
			return -EXDEV;
		job->xpid = calloc(1, sizeof(*job->xpid));
		if (!job->xpid)
			return -ENOMEM;
		job->xpid->refs = 1;
		job->xpid->fd = fcntl(pfd, F_DUPFD_CLOEXEC, 3);
		if (job->xpid->fd < 0) {
			free(job->xpid);
			job->xpid = NULL;
			return -ENOMEM;
		}
	}
	job->xpid->refs++;
	a->xpid = job->xpid;
	a->direct = true;
	n = s->vectored ? s->s.nsegs : 1;
	free(a->uiov); /* ring_capture()'s: this one is checked as sent */
	a->uiov = calloc(n ? n : 1, sizeof(*a->uiov));
	if (!a->uiov)
		return -ENOMEM;
	a->nuiov = n;
	if (!s->vectored) {
		a->uiov[0].iov_base = (void *)(uintptr_t)s->s.iocb.aio_buf;
		a->uiov[0].iov_len = s->s.iocb.aio_nbytes;
		return 0;
	}
	if (!n || !s->have_segs || s->bad_seg)
		return 0;
	l.iov_base = a->uiov;
	l.iov_len = n * sizeof(*a->uiov);
	r.iov_base = (void *)(uintptr_t)s->s.iocb.aio_buf;
	r.iov_len = l.iov_len;
	got = process_vm_readv(job->pid, &l, 1, &r, 1, 0);
	if (got != (ssize_t)l.iov_len)
		return -EFAULT;
	for (i = 0; i < n; i++)
		a->uiov[i].iov_len = wire_seg(s, i); /* as checked */
	return 0;
}

/* The submitter's segments covering [@off, @off + @len) into @out. */
static unsigned int span(const struct areq *a, uint64_t off, uint64_t len,
			 struct iovec *out)
{
	unsigned int i, k = 0;
	uint64_t l;

	for (i = 0; i < a->nuiov && len && k < XFER_SEGS; i++) {
		l = a->uiov[i].iov_len;
		if (off >= l) {
			off -= l;
			continue;
		}
		l -= off;
		if (l > len)
			l = len;
		out[k].iov_base = (char *)a->uiov[i].iov_base + off;
		out[k++].iov_len = l;
		len -= l;
		off = 0;
	}
	return k;
}

/*
 * The end of the submitter's mapping at @addr if it is writable but not
 * readable (PROT_WRITE alone), else 0.  The kernel's own copy reads such
 * pages on x86, where writable implies readable; process_vm_readv does
 * not (it asks for VM_READ), /proc/PID/mem does (it forces access).
 */
static uint64_t write_only_end(pid_t pid, uint64_t addr)
{
	unsigned long long start, end;
	char path[64], line[512], perms[8];
	uint64_t ret = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llx-%llx %7s", &start, &end, perms) != 3)
			continue;
		if (addr < start || addr >= end)
			continue;
		if (perms[0] == '-' && perms[1] == 'w')
			ret = end;
		break;
	}
	fclose(f);
	return ret;
}

/* Read what of [@off, @off + @len) lies in write-only mappings, in order,
 * through /proc/PID/mem.  Returns the bytes read (0: none). */
static size_t pull_write_only(struct areq *a, char *buf, uint64_t off,
			      size_t len)
{
	struct iovec r[XFER_SEGS];
	char path[64];
	size_t done = 0;
	uint64_t addr, end, n;
	unsigned int k, i;
	ssize_t got;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/mem", (int)a->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	k = span(a, off, len, r);
	for (i = 0; i < k; i++) {
		addr = (uintptr_t)r[i].iov_base;
		while (r[i].iov_len) {
			end = write_only_end(a->pid, addr);
			if (!end)
				goto out;
			n = end - addr < r[i].iov_len ? end - addr
						      : r[i].iov_len;
			got = pread(fd, buf + done, n, (off_t)addr);
			if (got <= 0)
				goto out;
			done += (size_t)got;
			if ((uint64_t)got < n)
				goto out;
			addr += n;
			r[i].iov_len -= n;
		}
	}
out:
	close(fd);
	return done;
}

/*
 * Move @len bytes between @buf and the submitter's bytes [@off, @off +
 * @len).  Returns the bytes moved (short at the first page that faults),
 * or -EFAULT when none was.
 */
static ssize_t xfer_move(struct areq *a, void *buf, uint64_t off, size_t len,
			 bool to_user)
{
	struct iovec r[XFER_SEGS], l;
	size_t done = 0, more;
	unsigned int n;
	ssize_t got;

	if (!len)
		return 0;
	if (!task_alive(a->xpid->fd))
		return -EFAULT;
	while (done < len) {
		n = span(a, off + done, len - done, r);
		if (!n)
			break;
		l.iov_base = (char *)buf + done;
		l.iov_len = len - done;
		got = to_user ? process_vm_writev(a->pid, &l, 1, r, n, 0)
			      : process_vm_readv(a->pid, &l, 1, r, n, 0);
		if (got > 0)
			done += (size_t)got;
		if (got == (ssize_t)l.iov_len || to_user)
			break;
		more = pull_write_only(a, (char *)buf + done, off + done,
				       len - done);
		if (!more)
			break;
		done += more;
	}
	if (!task_alive(a->xpid->fd))
		return -EFAULT; /* gone meanwhile: the id may be another's */
	return done ? (ssize_t)done : -EFAULT;
}

ssize_t xfer_pull(struct areq *a, void *dst, uint64_t off, size_t len)
{
	return xfer_move(a, dst, off, len, false);
}

ssize_t xfer_push(struct areq *a, const void *src, uint64_t off, size_t len)
{
	return xfer_move(a, (void *)src, off, len, true);
}

void xpid_put(struct xpid *x)
{
	if (!x || --x->refs)
		return;
	close(x->fd);
	free(x);
}

/* Each worker's own kernel context for the chunks of whole transfers. */
static __thread void *worker_kctx;

void xfer_worker_fini(void)
{
	if (worker_kctx)
		kaio_destroy(worker_kctx);
	worker_kctx = NULL;
}

/* Point the kernel iocb at @buf for @n bytes at @pos. */
static void chunk_iocb(struct areq *a, void *buf, uint64_t n, uint64_t pos)
{
	struct iocb *k = &a->kiocb;

	if (a->iov) {
		a->iov[0].iov_base = buf;
		a->iov[0].iov_len = n;
	} else {
		k->aio_buf = (uintptr_t)buf;
		k->aio_nbytes = n;
	}
	k->aio_offset = (int64_t)pos;
	k->aio_flags &= ~IOCB_FLAG_RESFD;
}

/*
 * A whole transfer, in a worker.  The first chunk is submitted as the
 * request itself, so that the kernel's submit-time checks decide
 * a->wres (A21); its data faulting is the kernel's res -EFAULT after
 * them (a NULL buffer).  Leaves the result in a->xres.
 */
void xfer_run(struct areq *a)
{
	bool write = a->op == IOCB_CMD_PWRITE || a->op == IOCB_CMD_PWRITEV;
	uint64_t pos = (uint64_t)a->kiocb.aio_offset, done = 0, n;
	struct io_event ev;
	bool last = false;
	ssize_t got;
	int ret;

	if (!worker_kctx && kaio_setup(4, &worker_kctx) < 0) {
		worker_kctx = NULL;
		a->wres = -EAGAIN;
		return;
	}
	a->wres = 1;
	for (;;) {
		void *buf = a->mem;

		n = a->xlen - done < a->memsize ? a->xlen - done : a->memsize;
		if (write && n) {
			got = xfer_pull(a, a->mem, done, n);
			if (got < 0 && a->wres == 1)
				buf = NULL; /* the kernel's EFAULT, later */
			else if (got < 0)
				break;
			else if ((uint64_t)got < n)
				n = (uint64_t)got, last = true;
		}
		chunk_iocb(a, buf, n, pos + done);
		ret = kaio_submit(worker_kctx, &a->kiocb);
		if (ret < 0 && a->wres == 1) {
			a->wres = ret; /* refused at submit: never accepted */
			return;
		}
		if (ret < 0 || kaio_wait1(worker_kctx, &ev) != 1) {
			a->xres = done ? (int64_t)done : -EIO;
			return;
		}
		a->wres = 0;
		if ((int64_t)ev.res < 0) {
			a->xres = done ? (int64_t)done : (int64_t)ev.res;
			return;
		}
		if (!write && ev.res > 0) {
			got = xfer_push(a, a->mem, done, ev.res);
			if (got < (ssize_t)ev.res) {
				done += got > 0 ? (uint64_t)got : 0;
				a->xres = done ? (int64_t)done : -EFAULT;
				return;
			}
		}
		done += (uint64_t)ev.res;
		if (last || (uint64_t)ev.res < n || done >= a->xlen)
			break;
	}
	a->xres = (int64_t)done;
}

/*
 * A mirrored read is done with @res bytes: the first a->done of them are
 * in the submitter's memory already (a read that went on chunk by chunk,
 * aio_wait.c), the rest are in a->buf: put them after.  Returns the
 * result to report: @res, or fewer at a fault, or -EFAULT when nothing
 * could be put.
 */
int64_t xfer_complete_read(struct areq *a, int64_t res)
{
	uint64_t n;
	ssize_t got;

	if (res <= 0 || !a->buf || (uint64_t)res <= a->done)
		return res;
	n = (uint64_t)res - a->done;
	if (n > a->buflen)
		n = a->buflen;
	got = xfer_push(a, a->buf, a->done, (size_t)n);
	if (got < 0)
		return a->done ? (int64_t)a->done : -EFAULT;
	return (int64_t)a->done + got;
}

/* O_DIRECT segments sit on pages of their own: bring the data together. */
void aiod_gather(struct areq *a, uint32_t len)
{
	uint32_t i, pos = 0, take;

	for (i = 0; i < a->niov && pos < len; i++) {
		take = a->iov[i].iov_len < len - pos
			       ? (uint32_t)a->iov[i].iov_len
			       : len - pos;
		memmove(a->mem + pos, a->iov[i].iov_base, take);
		pos += take;
	}
	a->buf = a->mem;
}
