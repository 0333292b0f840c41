/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The possible CPUs, counted the same way by the library and the daemon:
 * the kernel sizes an AIO ring from them (A11), and both sides must agree
 * on the size of a ring they share.  Private to the build (not installed).
 */
#ifndef EVFDFS_RING_CPUS_I_H
#define EVFDFS_RING_CPUS_I_H

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* /sys/devices/system/cpu/possible ("0-3,8"), else the configured CPUs. */
static inline unsigned int evfdfs_possible_cpus(void)
{
	unsigned int a, b, n = 0;
	char buf[256], *p = buf;
	FILE *f = fopen("/sys/devices/system/cpu/possible", "re");

	if (!f || !fgets(buf, sizeof(buf), f)) {
		if (f)
			fclose(f);
		n = (unsigned int)sysconf(_SC_NPROCESSORS_CONF);
		return n ? n : 1;
	}
	fclose(f);
	while (*p) {
		if (sscanf(p, "%u-%u", &a, &b) == 2)
			n += b - a + 1;
		else if (sscanf(p, "%u", &a) == 1)
			n++;
		p = strchr(p, ',');
		if (!p)
			break;
		p++;
	}
	return n ? n : 1;
}

#endif /* EVFDFS_RING_CPUS_I_H */
