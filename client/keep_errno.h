/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libaio's calls return -errno and leave errno as they found it (L1): they
 * are raw system calls that never store into it.  Ours make ordinary calls
 * (write, poll, malloc...) that do, so each io_* entry point declares
 * KEEP_ERRNO first and errno is put back, whatever the path out.
 */
#ifndef EVFDFS_KEEP_ERRNO_H
#define EVFDFS_KEEP_ERRNO_H

#include <errno.h>

static inline void keep_errno_restore(const int *saved)
{
	errno = *saved;
}

#define KEEP_ERRNO                  \
	const int keep_errno_saved_ \
		__attribute__((cleanup(keep_errno_restore), unused)) = errno

#endif
