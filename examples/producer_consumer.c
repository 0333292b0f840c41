// SPDX-License-Identifier: GPL-2.0-only
/*
 * producer_consumer: two processes share one counter by name.
 *
 * The producer makes ITEMS items and, for each, adds 1 to the counter
 * "jobs-PID" in the mount.  The consumer, another process that opens the
 * same counter by its name, blocks in evfdfs_read() until there is work,
 * and each read takes *everything* that has accumulated (a normal eventfd
 * counter, not a semaphore): so it may see 1, 1, 1... or 3, 2, 5, depending
 * on who runs when.  The two never lose or double-count an item.
 *
 * While it runs, `cat MNT/status` shows the counter with a blocked reader,
 * and `cat MNT/trace` shows every write, read, park and wake.
 *
 *     build/examples/producer_consumer MNT     (or EVFDFS_MOUNT=MNT)
 *
 * Exits 0 when the consumer got exactly ITEMS items.
 */
#include <errno.h>
#include <evfdfs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ITEMS 10

static int consumer(const char *mnt, const char *name)
{
	uint64_t total = 0, got;
	int fd;

	/* Open the counter the producer made: same name, same counter.
	 * Flags 0: blocking reads, like eventfd(0, 0). */
	fd = evfdfs_counter_open(mnt, name, 0, 0);
	if (fd < 0) {
		perror("consumer: evfdfs_counter_open");
		return 1;
	}
	while (total < ITEMS) {
		/* Blocks while the counter is 0; then takes all of it and
		 * leaves 0 behind (eventfd's normal mode). */
		if (evfdfs_read(fd, &got) != 0) {
			perror("consumer: evfdfs_read");
			return 1;
		}
		total += got;
		printf("consumer: read %llu (%llu of %d)\n",
		       (unsigned long long)got, (unsigned long long)total,
		       ITEMS);
	}
	close(fd);
	return total == ITEMS ? 0 : 1;
}

static int producer(int fd)
{
	const struct timespec pause = { 0, 20 * 1000 * 1000 }; /* 20 ms */
	int i;

	for (i = 1; i <= ITEMS; i++) {
		/* One item: add 1.  The write wakes the blocked consumer. */
		if (evfdfs_write(fd, 1) != 0) {
			perror("producer: evfdfs_write");
			return 1;
		}
		printf("producer: item %d\n", i);
		/* Now and then, pause so the consumer catches up. */
		if (i % 3 == 0)
			nanosleep(&pause, NULL);
	}
	return 0;
}

int main(int argc, char **argv)
{
	/* NULL makes the library use $EVFDFS_MOUNT. */
	const char *mnt = argc > 1 ? argv[1] : NULL;
	char name[64], path[4096];
	int fd, status, ret;
	pid_t pid;

	setvbuf(stdout, NULL, _IOLBF, 0);
	alarm(30); /* a teaching example must never hang */
	snprintf(name, sizeof(name), "jobs-%d", (int)getpid());

	/* Create the counter (like touch MNT/jobs-PID), failing if the name
	 * is taken: O_CREAT|O_EXCL semantics. */
	fd = evfdfs_counter_create(mnt, name, 0, 0);
	if (fd < 0) {
		perror("evfdfs_counter_create");
		return 1;
	}
	printf("counter %s created\n", name);

	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0)
		_exit(consumer(mnt, name));

	ret = producer(fd);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		ret = 1;

	/* Remove the name (rm MNT/jobs-PID); our descriptor still works. */
	snprintf(path, sizeof(path), "%s/%s",
		 mnt ? mnt : getenv(EVFDFS_MOUNT_ENV), name);
	if (unlink(path) != 0) {
		perror("unlink");
		ret = 1;
	}
	close(fd);
	printf("%s: the consumer got all %d items\n", ret ? "FAILED" : "ok",
	       ITEMS);
	return ret;
}
