// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The caller's memory, touched only through the kernel.
 *
 * io_submit(2) and friends never crash on a bad pointer: the kernel's
 * copy_from_user() turns it into EFAULT at the step where it happens
 * (A21, A22, table 2.5 step 1 and 7, A30.5, A60, A65, A70, A75).  The
 * library must do the same from user space, so it never dereferences a
 * pointer that came from the caller inside an iocb or as an argument the
 * kernel would copy: it copies through process_vm_readv(2) and
 * process_vm_writev(2) on its own pid, which fail with EFAULT (or stop
 * short) where the memory is not there.  Where those calls are refused
 * (a seccomp filter, a kernel without CONFIG_CROSS_MEMORY_ATTACH) the
 * same is done through a pipe: write(2) from the caller's memory faults
 * if it is unreadable, read(2) into it faults if it is unwritable.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include "libevfdfs_i.h"

/* 0: not known yet; 1: process_vm_* works; 2: use the pipe. */
static atomic_int umem_mode;

void umem_force_pipe(bool on)
{
	atomic_store(&umem_mode, on ? 2 : 1);
}

static bool use_pipe(void)
{
	return atomic_load(&umem_mode) == 2;
}

/* process_vm_* failed with @err: is that a refusal of the call itself? */
static bool vm_refused(int err)
{
	if (err != ENOSYS && err != EPERM)
		return false;
	atomic_store(&umem_mode, 2);
	return true;
}

/*
 * Copy @len bytes from @src to @dst through a pipe; the caller's memory is
 * @dst when @to_caller, else @src.  Chunks end at the caller's page
 * boundaries, so that a chunk either faults whole or not at all and the
 * count is exact.  Returns the bytes copied before a fault.
 */
static size_t pipe_copy(void *dst, const void *src, size_t len, bool to_caller)
{
	size_t done = 0, page = (size_t)sysconf(_SC_PAGESIZE);
	int p[2];

	if (len == 0 || pipe2(p, O_CLOEXEC) != 0)
		return 0;
	while (done < len) {
		uintptr_t u = (uintptr_t)(to_caller ? dst : src) + done;
		size_t chunk = page - (u & (page - 1));
		ssize_t w, r;

		if (chunk > len - done)
			chunk = len - done;
		w = write(p[1], (const char *)src + done, chunk);
		if (w <= 0)
			break;
		r = read(p[0], (char *)dst + done, (size_t)w);
		if (r <= 0)
			break;
		done += (size_t)r;
		if (r < w)
			break;
	}
	close(p[0]);
	close(p[1]);
	return done;
}

/* One process_vm_* transfer; -1 means "refused, use the pipe". */
static ssize_t vm_rw(bool write, const struct iovec *local, unsigned int nl,
		     const struct iovec *remote, unsigned int nr)
{
	ssize_t n;

	if (use_pipe())
		return -1;
	n = write ? process_vm_writev(getpid(), local, nl, remote, nr, 0)
		  : process_vm_readv(getpid(), local, nl, remote, nr, 0);
	if (n >= 0) {
		atomic_store(&umem_mode, 1);
		return n;
	}
	return vm_refused(errno) ? -1 : 0;
}

size_t umem_read_upto(void *dst, uint64_t src, size_t len)
{
	struct iovec l = { dst, len };
	struct iovec r = { (void *)(uintptr_t)src, len };
	ssize_t n;

	if (len == 0)
		return 0;
	n = vm_rw(false, &l, 1, &r, 1);
	if (n < 0)
		return pipe_copy(dst, (const void *)(uintptr_t)src, len, false);
	return (size_t)n;
}

int umem_read(void *dst, uint64_t src, size_t len)
{
	return umem_read_upto(dst, src, len) == len ? 0 : -EFAULT;
}

static size_t write_upto(uint64_t dst, const void *src, size_t len)
{
	struct iovec l = { (void *)src, len };
	struct iovec r = { (void *)(uintptr_t)dst, len };
	ssize_t n;

	if (len == 0)
		return 0;
	n = vm_rw(true, &l, 1, &r, 1);
	if (n < 0)
		return pipe_copy((void *)(uintptr_t)dst, src, len, true);
	return (size_t)n;
}

int umem_write(uint64_t dst, const void *src, size_t len)
{
	return write_upto(dst, src, len) == len ? 0 : -EFAULT;
}

/*
 * The iovecs that cover the first @len bytes of @iov (at most @n entries
 * into @out); returns how many.  Lengths are the caller's: an entry longer
 * than what is left is cut.
 */
static unsigned int iov_prefix(struct iovec *out, const struct iovec *iov,
			       unsigned int n, size_t len)
{
	unsigned int i, k = 0;

	for (i = 0; i < n && len; i++) {
		size_t l = iov[i].iov_len < len ? iov[i].iov_len : len;

		if (!l)
			continue;
		out[k].iov_base = iov[i].iov_base;
		out[k].iov_len = l;
		len -= l;
		k++;
	}
	return k;
}

static size_t vec_copy(bool to_caller, const struct iovec *iov, unsigned int n,
		       void *local, size_t len)
{
	struct iovec cut[KERNEL_MAX_IOV];
	struct iovec l = { local, 0 };
	unsigned int k, i;
	size_t done = 0;
	ssize_t r;

	if (n > KERNEL_MAX_IOV)
		n = KERNEL_MAX_IOV;
	k = iov_prefix(cut, iov, n, len);
	for (i = 0; i < k; i++)
		l.iov_len += cut[i].iov_len;
	if (!k)
		return 0;
	r = vm_rw(to_caller, &l, 1, cut, k);
	if (r >= 0)
		return (size_t)r;
	for (i = 0; i < k; i++) {
		char *p = (char *)local + done;
		size_t c = to_caller ? pipe_copy(cut[i].iov_base, p,
						 cut[i].iov_len, true)
				     : pipe_copy(p, cut[i].iov_base,
						 cut[i].iov_len, false);

		done += c;
		if (c < cut[i].iov_len)
			break;
	}
	return done;
}

size_t umem_scatter(const struct iovec *iov, unsigned int n, const void *src,
		    size_t len)
{
	return vec_copy(true, iov, n, (void *)src, len);
}

/*
 * process_vm_readv pins the pages of each remote segment on its own: 32
 * iocbs of one array cost 17 us as 32 segments, 2 us as the one span
 * that covers them.  Segments that lie close together (within SPAN_MAX
 * bytes, as an array of iocbs does) are read as that span, then copied
 * out.  Returns the bytes gathered, or 0 when the span does not apply or
 * is not readable whole (a hole between segments): the caller then
 * gathers segment by segment, which finds the first fault exactly.
 */
#define SPAN_MAX 65536u

static size_t gather_span(void *dst, const struct iovec *iov, unsigned int n,
			  size_t len)
{
	struct iovec cut[KERNEL_MAX_IOV], l, r;
	uintptr_t lo = UINTPTR_MAX, hi = 0, b;
	unsigned int k, i;
	size_t done = 0;
	char *span;

	if (n > KERNEL_MAX_IOV || use_pipe())
		return 0;
	k = iov_prefix(cut, iov, n, len);
	if (k < 4)
		return 0; /* as cheap segment by segment */
	for (i = 0; i < k; i++) {
		b = (uintptr_t)cut[i].iov_base;
		if (b + cut[i].iov_len < b)
			return 0; /* wraps: the kernel's EFAULT, exactly */
		lo = b < lo ? b : lo;
		hi = b + cut[i].iov_len > hi ? b + cut[i].iov_len : hi;
	}
	if (hi - lo > SPAN_MAX)
		return 0;
	span = malloc(hi - lo);
	if (!span)
		return 0;
	l.iov_base = span;
	l.iov_len = hi - lo;
	r.iov_base = (void *)lo;
	r.iov_len = hi - lo;
	if (vm_rw(false, &l, 1, &r, 1) == (ssize_t)(hi - lo)) {
		for (i = 0; i < k; i++) {
			memcpy((char *)dst + done,
			       span + ((uintptr_t)cut[i].iov_base - lo),
			       cut[i].iov_len);
			done += cut[i].iov_len;
		}
	}
	free(span);
	return done;
}

size_t umem_gather(void *dst, const struct iovec *iov, unsigned int n,
		   size_t len)
{
	size_t got = gather_span(dst, iov, n, len);

	return got ? got : vec_copy(false, iov, n, dst, len);
}

/*
 * Whether a page can be written is the same for every word in it: one
 * word is written back per page (the first of @addrs that lies in it),
 * in one call.  Returns how many of @addrs, from the first, lie in pages
 * found writable (at most WORDS_MAX); the rest are for
 * umem_word_writable(), one by one.
 */
#define WORDS_MAX 64u

unsigned int umem_words_writable(const uint64_t *addrs, const uint32_t *vals,
				 unsigned int n)
{
	struct iovec loc[WORDS_MAX], rem[WORDS_MAX];
	unsigned int rep[WORDS_MAX]; /* addrs[i]'s segment */
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE), pg;
	unsigned int i, j, nseg = 0, ok;
	ssize_t got;

	if (n > WORDS_MAX)
		n = WORDS_MAX;
	for (i = 0; i < n; i++) {
		pg = addrs[i] / page;
		for (j = 0; j < nseg; j++)
			if ((uintptr_t)rem[j].iov_base / page == pg)
				break;
		/* a word across two pages gets a segment of its own */
		if (j == nseg || (addrs[i] + 3) / page != pg) {
			j = nseg++;
			loc[j].iov_base = (void *)&vals[i];
			loc[j].iov_len = sizeof(vals[i]);
			rem[j].iov_base = (void *)(uintptr_t)addrs[i];
			rem[j].iov_len = sizeof(vals[i]);
		}
		rep[i] = j;
	}
	if (!nseg)
		return 0;
	got = vm_rw(true, loc, nseg, rem, nseg);
	if (got < 0)
		return 0; /* refused: word by word through the pipe */
	ok = (unsigned int)((size_t)got / sizeof(uint32_t));
	for (i = 0; i < n && rep[i] < ok; i++)
		;
	return i;
}

ssize_t umem_scatter_vec(const struct iovec *local, unsigned int nl,
			 const struct iovec *remote, unsigned int nr)
{
	if (!nl || !nr)
		return 0;
	return vm_rw(true, local, nl, remote, nr);
}

unsigned int umem_zero_words(const uint64_t *addrs, unsigned int n)
{
	static const uint32_t zero;
	unsigned int i, done = 0;

	for (i = 0; i < n; i++)
		done += umem_write(addrs[i], &zero, sizeof(zero)) == 0;
	return done;
}

bool umem_word_writable(uint64_t addr, uint32_t current)
{
	return umem_write(addr, &current, sizeof(current)) == 0;
}

uint64_t umem_user_max(void)
{
#if defined(__x86_64__)
	/*
	 * TASK_SIZE_MAX: the top of user space less a guard page, 2^47 or,
	 * with 5-level paging, 2^56.  Only with 5-level paging can anything
	 * be mapped at 2^47.
	 */
	static _Atomic uint64_t max;
	uint64_t m = atomic_load(&max);
	void *p;

	if (m)
		return m;
	m = (UINT64_C(1) << 47) - 4096;
	p = mmap((void *)(uintptr_t)(UINT64_C(1) << 47), 4096, PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (p != MAP_FAILED) {
		if (p == (void *)(uintptr_t)(UINT64_C(1) << 47))
			m = (UINT64_C(1) << 56) - 4096;
		munmap(p, 4096);
	}
	atomic_store(&max, m);
	return m;
#else
	return UINT64_MAX;
#endif
}
