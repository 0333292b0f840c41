// SPDX-License-Identifier: GPL-2.0-only
/*
 * semaphore_pool: a semaphore counter as a pool of TOKENS tokens shared by
 * WORKERS processes.
 *
 * A counter in semaphore mode (EFD_SEMAPHORE) hands out 1 per read and
 * blocks at 0, so it is a counting semaphore: a read takes a token, a write
 * of 1 gives it back.  Here WORKERS processes each take a token, work for a
 * moment, and give it back; never more than TOKENS of them work at once.
 * Each worker opens the pool by name, as unrelated programs would.
 *
 * To check that, the workers keep a count of who is working in a bit of
 * shared memory (only for the check: the counter alone does the job).
 *
 *     build/examples/semaphore_pool MNT     (or EVFDFS_MOUNT=MNT)
 *
 * Exits 0 when at most TOKENS workers ever worked at once and all the
 * tokens are back in the pool at the end.
 */
#include <errno.h>
#include <evfdfs.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#define TOKENS 3
#define WORKERS 8

/* Shared by all workers, only to check the pool's promise. */
struct watch {
	atomic_int working;
	atomic_int most;
};

static int worker(const char *mnt, const char *name, int id, struct watch *w)
{
	const struct timespec work = { 0, 30 * 1000 * 1000 }; /* 30 ms */
	uint64_t token;
	int fd, now, most;

	/* Open the pool by name: the flags and value given here apply only
	 * to a counter this call would create; the pool exists already. */
	fd = evfdfs_counter_open(mnt, name, 0, 0);
	if (fd < 0) {
		perror("worker: evfdfs_counter_open");
		return 1;
	}
	/* Take a token: a semaphore read returns 1 and subtracts 1; at 0 it
	 * blocks until another worker gives one back. */
	if (evfdfs_read(fd, &token) != 0 || token != 1) {
		perror("worker: evfdfs_read");
		return 1;
	}
	now = atomic_fetch_add(&w->working, 1) + 1;
	most = atomic_load(&w->most);
	while (now > most &&
	       !atomic_compare_exchange_weak(&w->most, &most, now))
		;
	printf("worker %d: got a token (%d working)\n", id, now);
	nanosleep(&work, NULL);
	atomic_fetch_sub(&w->working, 1);
	/* Give the token back: add 1, which wakes one blocked worker. */
	if (evfdfs_write(fd, 1) != 0) {
		perror("worker: evfdfs_write");
		return 1;
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	const char *mnt = argc > 1 ? argv[1] : NULL;
	char name[64], path[4096], val[32];
	int fd, i, status, ret = 0;
	struct watch *w;
	ssize_t n;

	setvbuf(stdout, NULL, _IOLBF, 0);
	alarm(30);
	snprintf(name, sizeof(name), "pool-%d", (int)getpid());
	w = mmap(NULL, sizeof(*w), PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (w == MAP_FAILED) {
		perror("mmap");
		return 1;
	}

	/* The pool: a semaphore counter holding TOKENS.  It appears in the
	 * mount already set up: no worker can see it half made. */
	fd = evfdfs_counter_create(mnt, name, TOKENS, EFD_SEMAPHORE);
	if (fd < 0) {
		perror("evfdfs_counter_create");
		return 1;
	}
	printf("pool %s: %d tokens for %d workers\n", name, TOKENS, WORKERS);

	for (i = 0; i < WORKERS; i++) {
		pid_t pid = fork();

		if (pid < 0) {
			perror("fork");
			return 1;
		}
		if (pid == 0)
			_exit(worker(mnt, name, i, w));
	}
	for (i = 0; i < WORKERS; i++)
		if (wait(&status) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			ret = 1;

	/* Peek at the count without taking anything: the value attribute
	 * (what `getfattr -n user.evfdfs.value` shows). */
	n = fgetxattr(fd, EVFDFS_XATTR_VALUE, val, sizeof(val) - 1);
	val[n > 0 ? n : 0] = '\0';
	printf("at most %d worked at once; tokens back in the pool: %s\n",
	       atomic_load(&w->most), val);
	if (atomic_load(&w->most) > TOKENS || atomic_load(&w->most) < 1 ||
	    strtoull(val, NULL, 10) != TOKENS)
		ret = 1;

	snprintf(path, sizeof(path), "%s/%s",
		 mnt ? mnt : getenv(EVFDFS_MOUNT_ENV), name);
	unlink(path);
	close(fd);
	printf("%s: the pool never gave out more than %d tokens\n",
	       ret ? "FAILED" : "ok", TOKENS);
	return ret;
}
