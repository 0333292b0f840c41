/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libaio's calls are raw system calls: they return -errno and leave errno
 * as they found it (L1), and none is a cancellation point.  Ours make
 * ordinary calls (write, poll, malloc...) that store into errno, and some
 * of them (ppoll, read, write, pthread_cond_wait) are cancellation points:
 * a thread cancelled there would leave a context's use count or lock
 * taken, and io_destroy would wait for ever.  So each io_* entry point
 * declares KEEP_ERRNO first: cancellation is off inside, and on the way
 * out, whatever the path, the cancel state and errno are put back.
 */
#ifndef EVFDFS_KEEP_ERRNO_H
#define EVFDFS_KEEP_ERRNO_H

#include <errno.h>
#include <pthread.h>

struct keep_errno {
	int err;
	int cancel_state;
};

static inline struct keep_errno keep_errno_begin(void)
{
	struct keep_errno k = { .err = errno };

	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &k.cancel_state);
	return k;
}

static inline void keep_errno_restore(const struct keep_errno *k)
{
	pthread_setcancelstate(k->cancel_state, NULL);
	errno = k->err;
}

#define KEEP_ERRNO                                                     \
	const struct keep_errno keep_errno_saved_                      \
		__attribute__((cleanup(keep_errno_restore), unused)) = \
			keep_errno_begin()

#endif
