// SPDX-License-Identifier: GPL-2.0-only
/*
 * The worker pool: fs->opts.aio_workers threads that run what may block
 * so that the event loop never does.  A worker takes a job (struct sjob)
 * off `queued`, submits its run of requests to the kernel in order, in
 * one io_submit where it can (the kernel's own batch: one system call, and
 * one wake-up of the loop for all the synchronous completions rather than
 * one per request), stopping at the first the kernel refuses (A21), or,
 * for aio.txt, opens a
 * path as the caller, and puts the job on `done` and writes done_fd; the
 * loop takes it from there (job_worker_done()).  Workers touch nothing but
 * the job they hold, the kernel context and the pool's lists.
 *
 * SIGUSR1 (with a handler that does nothing, without SA_RESTART) wakes a
 * worker out of an interruptible wait at shutdown: the loop blocks it and
 * the workers unblock it.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "aiod_i.h"
#include "kaio.h"

static void wake_handler(int sig)
{
	(void)sig;
}

/*
 * Submit run[@from, @to) (W_SUBMIT requests) with as few io_submit calls
 * as the kernel allows: it takes iocbs in order and stops at the first it
 * refuses, returning how many it took; the refused one's errno is what a
 * call that starts with it returns.  Returns false once one was refused
 * (the rest is never submitted).
 */
static bool submit_span(struct aio_pool *p, struct sjob *job, unsigned int from,
			unsigned int to)
{
	void *cbs[AIOD_RUN_MAX];
	unsigned int i, n = 0;
	int ret;

	for (i = from; i < to; i++)
		cbs[n++] = &job->run[i]->kiocb;
	i = 0;
	while (i < n) {
		ret = kaio_submit_many(p->kctx, (int)(n - i), cbs + i);
		if (ret < 0) {
			job->run[from + i]->wres = ret;
			return false;
		}
		if (ret == 0) { /* not expected: take them one at a time */
			ret = kaio_submit(p->kctx, cbs[i]);
			if (ret < 0) {
				job->run[from + i]->wres = ret;
				return false;
			}
		}
		for (; ret > 0; ret--, i++)
			job->run[from + i]->wres = 0;
	}
	return true;
}

static void run_job(struct aio_pool *p, struct sjob *job)
{
	unsigned int i, end;
	int ret;

	for (i = 0; i < job->nrun;) {
		struct areq *a = job->run[i];

		if (a->wop == W_OPEN) {
			ret = text_open(job, a);
			a->file.fd = ret >= 0 ? ret : -1;
			a->wres = ret >= 0 ? 0 : ret;
			i++;
			continue;
		}
		for (end = i + 1; end < job->nrun; end++)
			if (job->run[end]->wop != W_SUBMIT)
				break;
		if (!submit_span(p, job, i, end))
			break; /* the rest is never submitted */
		i = end;
	}
}

static void *worker_main(void *arg)
{
	struct aio_pool *p = arg;
	struct sjob *job;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	for (;;) {
		pthread_mutex_lock(&p->lock);
		while (!p->stop && list_empty(&p->queued))
			pthread_cond_wait(&p->cond, &p->lock);
		if (p->stop) {
			pthread_mutex_unlock(&p->lock);
			break;
		}
		job = list_entry(p->queued.next, struct sjob, wlink);
		list_del_init(&job->wlink);
		pthread_mutex_unlock(&p->lock);

		run_job(p, job);

		pthread_mutex_lock(&p->lock);
		list_add_tail(&job->wlink, &p->done);
		pthread_mutex_unlock(&p->lock);
		eventfd_write(p->done_fd, 1);
	}
	return NULL;
}

int pool_start(struct aio_pool *p, unsigned int n, void *kctx)
{
	struct sigaction sa;
	sigset_t set;
	unsigned int i;
	int ret;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = wake_handler; /* no SA_RESTART: interrupts */
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL))
		return -errno;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	list_init(&p->queued);
	list_init(&p->done);
	p->kctx = kctx;
	p->done_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (p->done_fd < 0)
		return -errno;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	p->started = true;
	p->threads = calloc(n, sizeof(*p->threads));
	if (!p->threads)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		ret = pthread_create(&p->threads[i], NULL, worker_main, p);
		if (ret)
			return -ret;
		p->nthreads++;
	}
	return 0;
}

/* Stop and join the workers; jobs they did not take stay on `queued`. */
void pool_stop(struct aio_pool *p)
{
	unsigned int i;

	if (!p->started)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	for (i = 0; i < p->nthreads; i++)
		pthread_kill(p->threads[i], SIGUSR1);
	for (i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	free(p->threads);
	p->threads = NULL;
	p->nthreads = 0;
	if (p->done_fd >= 0)
		close(p->done_fd);
	p->done_fd = -1;
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
	p->started = false;
}

void pool_push(struct aio_pool *p, struct sjob *job)
{
	pthread_mutex_lock(&p->lock);
	list_add_tail(&job->wlink, &p->queued);
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

/* The next job a worker handed back (or, after pool_stop(), never took). */
struct sjob *pool_pop_done(struct aio_pool *p)
{
	struct sjob *job = NULL;

	if (!p->started) {
		if (!list_empty(&p->done))
			job = list_entry(p->done.next, struct sjob, wlink);
		else if (!list_empty(&p->queued))
			job = list_entry(p->queued.next, struct sjob, wlink);
		if (job)
			list_del_init(&job->wlink);
		return job;
	}
	pthread_mutex_lock(&p->lock);
	if (!list_empty(&p->done)) {
		job = list_entry(p->done.next, struct sjob, wlink);
		list_del_init(&job->wlink);
	}
	pthread_mutex_unlock(&p->lock);
	return job;
}
