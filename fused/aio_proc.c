// SPDX-License-Identifier: GPL-2.0-only
/*
 * What /proc (and prlimit) tell about a submitter: small reads of
 * /proc/PID files, its capabilities and its RLIMIT_FSIZE.  At the bottom
 * of the AIO side's access layer (fused/LAYERS): aio_cred.c, aio_fd.c and
 * aio_ring.c read the same files, and this one calls none of them.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "aiod_i.h"

#define CAP_SYS_ADMIN_BIT 21
#define CAP_SYS_NICE_BIT 23

/* Read a small /proc file into @buf (NUL-terminated). */
ssize_t aiod_proc_read(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0)
		n = -errno;
	else
		buf[n] = '\0';
	close(fd);
	return n;
}

/* The value after "@key" at the start of a line of @text, or NULL. */
const char *aiod_proc_field(const char *text, const char *key)
{
	size_t klen = strlen(key);
	const char *p = text;

	while (p && *p) {
		if (strncmp(p, key, klen) == 0)
			return p + klen;
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return NULL;
}

bool caller_rt_ok(pid_t pid)
{
	char path[64], buf[4096];
	unsigned long long caps;
	const char *v;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (aiod_proc_read(path, buf, sizeof(buf)) <= 0)
		return false;
	v = aiod_proc_field(buf, "CapEff:");
	if (!v || sscanf(v, "%llx", &caps) != 1)
		return false;
	return caps &
	       ((1ull << CAP_SYS_ADMIN_BIT) | (1ull << CAP_SYS_NICE_BIT));
}

/*
 * The submitter's RLIMIT_FSIZE soft limit, read now (the kernel reads it
 * when it checks a write: generic_write_checks() at submit): prlimit(2)
 * on its thread id, or /proc/PID/limits (readable by anyone) where
 * prlimit is refused (another user's process).  Returns 0 and @lim
 * (RLIM_INFINITY when there is none), or -errno.
 */
int caller_fsize(pid_t pid, uint64_t *lim)
{
	char path[64], buf[4096], word[32];
	struct rlimit rl;
	const char *v;

	if (prlimit(pid, RLIMIT_FSIZE, NULL, &rl) == 0) {
		*lim = rl.rlim_cur;
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/%d/limits", (int)pid);
	if (aiod_proc_read(path, buf, sizeof(buf)) <= 0)
		return -ESRCH;
	v = aiod_proc_field(buf, "Max file size");
	if (!v || sscanf(v, " %31s", word) != 1)
		return -EINVAL;
	if (!strcmp(word, "unlimited"))
		*lim = RLIM_INFINITY;
	else if (sscanf(word, "%" SCNu64, lim) != 1)
		return -EINVAL;
	return 0;
}
