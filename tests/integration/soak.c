// SPDX-License-Identifier: GPL-2.0-only
/*
 * A short soak: writer and reader processes hammer two shared counters
 * (one normal, one semaphore) for a fixed few seconds with every kind of
 * call mixed (binary and text, blocking and O_NONBLOCK, poll then read).
 * Readers are stopped by signals, so blocked reads end in EINTR as well.
 * Afterwards the books must balance for each counter: everything written
 * = everything read + what is left in the counter.  Nothing lost, nothing
 * invented, whatever the interleaving.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "integ.h"

#define SOAK_MS 3000
#define NWRITERS 2
#define NREADERS 3

enum { NORMAL, SEMAPHORE, NCOUNTERS };

struct tally {
	uint64_t written[NCOUNTERS];
	uint64_t read[NCOUNTERS];
	uint64_t ops, eintr, eagain;
	uint64_t bad; /* anything the rules do not allow */
	int first_bad_errno;
	int role;
};

struct fds {
	int block[NCOUNTERS], nonblock[NCOUNTERS];
	int tblock[NCOUNTERS], tnonblock[NCOUNTERS];
};

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

static void child_open_all(const char *mnt, char names[][128], struct fds *f)
{
	char path[PATH_MAX];
	int k;

	for (k = 0; k < NCOUNTERS; k++) {
		evt_path(path, sizeof(path), mnt, names[k]);
		f->block[k] = open(path, O_RDWR);
		f->nonblock[k] = open(path, O_RDWR | O_NONBLOCK);
		snprintf(path, sizeof(path), "%s/text/%s", mnt, names[k]);
		f->tblock[k] = open(path, O_RDWR);
		f->tnonblock[k] = open(path, O_RDWR | O_NONBLOCK);
		if (f->block[k] < 0 || f->nonblock[k] < 0 || f->tblock[k] < 0 ||
		    f->tnonblock[k] < 0)
			_exit(5);
	}
}

static void note_bad(struct tally *t, int err)
{
	if (!t->bad++)
		t->first_bad_errno = err;
}

static void writer(struct tally *t, struct fds *f, unsigned int seed)
{
	long long end = evt_now_ms() + SOAK_MS;

	while (evt_now_ms() < end) {
		int k = rand_r(&seed) % NCOUNTERS;
		int mode = rand_r(&seed) % 4;
		uint64_t max = k == SEMAPHORE ? 3 : 1000;
		uint64_t v[3];
		char text[96];
		size_t ends[3], len = 0;
		int i, nv = 1 + rand_r(&seed) % 3;
		ssize_t n;

		for (i = 0; i < 3; i++)
			v[i] = (uint64_t)(rand_r(&seed) % max);
		t->ops++;
		if (mode < 2) {
			n = write(mode ? f->nonblock[k] : f->block[k], &v[0],
				  8);
			if (n == 8)
				t->written[k] += v[0];
			else if (n < 0 && errno == EAGAIN && mode)
				t->eagain++;
			else
				note_bad(t, n < 0 ? errno : 0);
			continue;
		}
		for (i = 0; i < nv; i++) {
			len += (size_t)snprintf(text + len, sizeof(text) - len,
						"%llu%s",
						(unsigned long long)v[i],
						i + 1 < nv ? " " : "\n");
			ends[i] = len;
		}
		n = write(mode == 3 ? f->tnonblock[k] : f->tblock[k], text,
			  len);
		if (n < 0) {
			if (errno == EAGAIN && mode == 3)
				t->eagain++;
			else
				note_bad(t, errno);
			continue;
		}
		/* A short write applied exactly the numbers it covers. */
		for (i = 0; i < nv && ends[i] <= (size_t)n; i++)
			t->written[k] += v[i];
		if (i < nv && (size_t)n != (i ? ends[i - 1] : 0))
			note_bad(t, 0);
	}
}

/* Until told to stop: past the writers' end, to drain and then block. */
static void reader(struct tally *t, struct fds *f, unsigned int seed)
{
	while (!stop) {
		int k = rand_r(&seed) % NCOUNTERS;
		int mode = rand_r(&seed) % 5;
		uint64_t v = 0;
		char text[64];
		ssize_t n;
		int fd;

		t->ops++;
		if (mode == 4) {
			struct pollfd p = { .fd = f->nonblock[k],
					    .events = POLLIN };

			if (poll(&p, 1, 50) < 0 && errno != EINTR)
				note_bad(t, errno);
			mode = 1;
		}
		if (mode < 2) {
			fd = mode ? f->nonblock[k] : f->block[k];
			n = read(fd, &v, sizeof(v));
		} else {
			fd = mode == 3 ? f->tnonblock[k] : f->tblock[k];
			n = read(fd, text, sizeof(text) - 1);
			if (n > 0) {
				char *endp;

				text[n] = '\0';
				v = strtoull(text, &endp, 10);
				if (endp == text || strcmp(endp, "\n") != 0)
					note_bad(t, 0);
			}
		}
		if (n < 0) {
			if (errno == EINTR)
				t->eintr++;
			else if (errno == EAGAIN && fd != f->block[k] &&
				 fd != f->tblock[k])
				t->eagain++;
			else
				note_bad(t, errno);
			continue;
		}
		if ((mode < 2 && n != 8) || (k == SEMAPHORE && v != 1) ||
		    (k == NORMAL && v == 0))
			note_bad(t, 0);
		t->read[k] += v;
	}
}

INTEG_TEST(soak, mixed_traffic_loses_and_invents_nothing, 180)
{
	const char *mnt = evt_shared_mnt();
	struct sigaction sa = { .sa_handler = on_stop };
	char names[NCOUNTERS][128], path[PATH_MAX];
	struct tally sum = { 0 }, t;
	pid_t readers[NREADERS];
	int p[2], fd[NCOUNTERS], i, k, st, nrep = 0;
	long long deadline;

	evt_unique(names[NORMAL], sizeof(names[0]), "soakn");
	evt_unique(names[SEMAPHORE], sizeof(names[0]), "soaks");
	fd[NORMAL] = evt_create_counter(mnt, names[NORMAL], 0, false, 0);
	fd[SEMAPHORE] = evt_create_counter(mnt, names[SEMAPHORE], 0, true, 0);
	cr_assert_eq(pipe(p), 0);

	for (i = 0; i < NWRITERS + NREADERS; i++) {
		pid_t pid = integ_fork();

		if (pid == 0) {
			struct fds f;

			memset(&t, 0, sizeof(t));
			close(p[0]);
			t.role = i;
			sigaction(SIGUSR1, &sa, NULL); /* no SA_RESTART */
			child_open_all(mnt, names, &f);
			if (i < NWRITERS)
				writer(&t, &f, 1234u + (unsigned int)i);
			else
				reader(&t, &f, 4321u + (unsigned int)i);
			_exit(write(p[1], &t, sizeof(t)) == sizeof(t) ? 0 : 7);
		}
		if (i >= NWRITERS)
			readers[i - NWRITERS] = pid;
	}
	close(p[1]);

	/* Writers stop on their own; readers drain what is left, then sit
	 * in blocking reads of empty counters: interrupt them until they
	 * leave (EINTR must consume nothing). */
	usleep((SOAK_MS + 1000) * 1000);
	deadline = evt_now_ms() + 60000;
	for (;;) {
		int alive = 0;

		for (i = 0; i < NREADERS; i++)
			if (readers[i] && kill(readers[i], SIGUSR1) == 0)
				alive++;
		if (!alive || evt_now_ms() > deadline)
			break;
		for (i = 0; i < NREADERS; i++)
			if (readers[i] &&
			    integ_reap(readers[i], &st, 20) == 0) {
				cr_expect_eq(integ_exit_code(st), 0);
				readers[i] = 0;
			}
	}
	{
		int others = 0, left = 0;

		integ_reap_all(60000, &others, &left);
		cr_assert_eq(left, 0, "soak processes still running");
		cr_assert_eq(others, 0, "a soak process failed");
	}
	for (i = 0; i < NREADERS; i++)
		cr_assert_eq(readers[i], 0, "reader %d never stopped", i);

	while (read(p[0], &t, sizeof(t)) == sizeof(t)) {
		nrep++;
		cr_expect_eq(t.bad, 0,
			     "process %d: %llu bad results (first %s)", t.role,
			     (unsigned long long)t.bad,
			     t.first_bad_errno ? strerror(t.first_bad_errno)
					       : "a wrong value");
		for (k = 0; k < NCOUNTERS; k++) {
			sum.written[k] += t.written[k];
			sum.read[k] += t.read[k];
		}
		sum.ops += t.ops;
		sum.eintr += t.eintr;
		sum.eagain += t.eagain;
	}
	close(p[0]);
	cr_assert_eq(nrep, NWRITERS + NREADERS, "missing reports");
	cr_log_info("soak: %llu ops, %llu EINTR, %llu EAGAIN; normal w=%llu "
		    "r=%llu, semaphore w=%llu r=%llu",
		    (unsigned long long)sum.ops, (unsigned long long)sum.eintr,
		    (unsigned long long)sum.eagain,
		    (unsigned long long)sum.written[NORMAL],
		    (unsigned long long)sum.read[NORMAL],
		    (unsigned long long)sum.written[SEMAPHORE],
		    (unsigned long long)sum.read[SEMAPHORE]);
	cr_assert_gt(sum.read[NORMAL], 0, "no traffic");
	cr_assert_gt(sum.read[SEMAPHORE], 0, "no traffic");

	for (k = 0; k < NCOUNTERS; k++) {
		uint64_t left = evt_xattr_value(
			evt_path(path, sizeof(path), mnt, names[k]));

		cr_assert_eq(sum.written[k], sum.read[k] + left,
			     "%s: written %llu != read %llu + left %llu",
			     names[k], (unsigned long long)sum.written[k],
			     (unsigned long long)sum.read[k],
			     (unsigned long long)left);
		cr_assert_eq(integ_field(mnt, names[k], "readers"), 0);
		cr_assert_eq(integ_field(mnt, names[k], "writers"), 0);
		close(fd[k]);
		cr_assert_eq(unlink(path), 0);
	}
}
