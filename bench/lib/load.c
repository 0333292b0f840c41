// SPDX-License-Identifier: GPL-2.0-only
/*
 * Section 6, the counter round trip while buffered I/O is in flight: the
 * same ping-pong (two threads) on the kernel, barefuse and evfdfs, first on
 * an idle machine, then next to a process that keeps writing 1 GiB
 * (quick: 64 MiB) to an unlinked file in /var/tmp with plain buffered
 * writes, then fdatasync()s it and starts again.  Without the sync a
 * machine with this much memory would never write the data back while we
 * measure (the dirty thresholds are gigabytes, the expiry 30 s), and the
 * "load" would be a memcpy; with it, the kernel's writeback, the block
 * layer and the disk's interrupts run next to the round trips, and the
 * writer takes a CPU while it copies: what a loaded machine does to a FUSE
 * round trip.  Then the same writes (and syncs) submitted as AIO through
 * evfdfs's control file (load_aio_writer() in aio.c): the daemon's workers
 * do the buffered writes while its loop keeps serving the counters.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../evbench.h"

struct load_shm {
	_Atomic long long written;
};

/* Write @bytes to an unlinked file with buffered writes, sync, truncate,
 * again, until killed. */
static void load_writer(const char *dir, long long bytes, struct load_shm *shm)
{
	size_t chunk = 1 << 20;
	char *buf = malloc(chunk);
	long long off;
	int fd;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	if (fd < 0 || !buf)
		_exit(1);
	memset(buf, 0xa5, chunk);
	for (;;) {
		for (off = 0; off < bytes; off += (long long)chunk) {
			if (write(fd, buf, chunk) != (ssize_t)chunk)
				_exit(1);
			atomic_fetch_add(&shm->written, (long long)chunk);
		}
		if (fdatasync(fd) || ftruncate(fd, 0) || lseek(fd, 0, SEEK_SET))
			_exit(1);
	}
}

void run_load(struct ctx *cx)
{
	static const char *const what[] = {
		"round trip, idle machine",
		"round trip, buffered writer running",
		"round trip, AIO writer through evfdfs",
	};
	static const int bks[] = { BK_KERNEL, BK_BARE, BK_EVFDFS };
	static double mbps[2][MAXRUNS];
	static int nmbps[2];
	struct load_shm *shm;
	int ph, status;

	shm = mmap(NULL, sizeof(*shm), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shm == MAP_FAILED) {
		bench_warn(cx, "mmap: %s", strerror(errno));
		return;
	}
	for (ph = 0; ph < 3; ph++) {
		pid_t writer = 0;
		double t0 = 0, dt;
		long long w0 = 0, dw;
		int k = ph - 1;

		if (ph == 2 && !cx->mnt[BK_EVFDFS])
			break;
		if (ph > 0) {
			writer = fork();
			if (writer < 0) {
				bench_warn(cx, "fork: %s", strerror(errno));
				break;
			}
			if (writer == 0 && ph == 1)
				load_writer(cx->load_dir, cx->load_bytes, shm);
			if (writer == 0)
				load_aio_writer(cx, cx->load_bytes,
						&shm->written);
			/* Let dirty pages pile up and writeback start. */
			usleep(cx->quick ? 100000 : 300000);
			t0 = now_s();
			w0 = atomic_load(&shm->written);
		}
		interleave(cx, what[ph], M_OPS, bks, 3, pingpong, PP_THREADS,
			   cx->load_iters);
		if (!writer)
			continue;
		dt = now_s() - t0;
		dw = atomic_load(&shm->written) - w0;
		if (waitpid(writer, &status, WNOHANG) == writer) {
			bench_warn(cx, "the load writer failed (%s)",
				   cx->load_dir);
		} else {
			kill(writer, SIGKILL);
			waitpid(writer, &status, 0);
		}
		if (nmbps[k] < MAXRUNS && dt > 0)
			mbps[k][nmbps[k]++] = (double)dw / dt / 1048576.0;
		snprintf(group_get(cx, what[ph], M_OPS)->rows[BK_KERNEL].note,
			 sizeof(cx->groups[0].rows[0].note),
			 "writer at %.0f MiB/s (median)",
			 median(mbps[k], nmbps[k]));
	}
	munmap(shm, sizeof(*shm));
}
