// SPDX-License-Identifier: GPL-2.0-only
/* E10-E15, E20-E25: read and write sizes, values and errnos. */
#include <errno.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "backend.h"

/* E10, E11, E12: sizes of reads, and a normal-mode read takes it all. */
CONFORM(read_sizes_and_normal_mode)
{
	int fd = b->open_counter(5, EFD_NONBLOCK);
	uint64_t v = 0;
	char big[16];

	REC(t, "read 7", read(fd, &v, 7));
	REC(t, "read 16", read(fd, big, 16));
	evt_rec(t, "value %llu", (unsigned long long)*(uint64_t *)big);
	REC(t, "read 8 empty", read(fd, &v, 8));
	close(fd);
}

/* E13: semaphore mode returns 1 per read. */
CONFORM(semaphore_reads_one_at_a_time)
{
	int fd = b->open_counter(3, EFD_NONBLOCK | EFD_SEMAPHORE);
	uint64_t v;
	int i;

	for (i = 0; i < 4; i++) {
		v = 0;
		REC(t, "read", read(fd, &v, 8));
		evt_rec(t, "value %llu", (unsigned long long)v);
	}
	close(fd);
}
