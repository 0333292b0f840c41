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
 * loop takes it from there (the job's resume step, its front end's).  Workers touch nothing but
 * the job they hold, the kernel context and the pool's lists.
 *
 * A worker also takes single requests (rqueued, rdone): the transfers of
 * aio_wait.c, submitted alone once their file was ready.
 *
 * Kicks.  SIGUSR1 (with a handler that does nothing, without SA_RESTART)
 * ends a worker's interruptible sleep: a tty read returns -ERESTARTSYS,
 * which kernel AIO completes as -EINTR (fs/aio.c, aio_rw_done()), and
 * io_submit returns with the iocb accepted; a read of another FUSE file
 * sends that daemon an INTERRUPT.  The loop blocks SIGUSR1 and the
 * workers unblock it.  It is sent at shutdown, and to the worker whose
 * current system call is for a job whose write got a FUSE INTERRUPT or
 * for a request whose context is being destroyed (pool_interrupt_job(),
 * pool_cancel_req()).  A worker publishes what it is about to run (cur)
 * under the lock, and the loop signals only a worker whose cur is the
 * target, under the same lock; once a worker has cleared cur it makes one
 * system call (sigpending) whose return delivers a kick that came too
 * late, so that it cannot interrupt the next request.  A kick that lands
 * just before the system call starts is lost: the loop sends it again
 * (pool_rekick(), from a timer in aio_wait.c) until the worker is back.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
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

/*
 * Say what the worker runs next (@target) or that it is done (NULL).  A
 * worker leaving a kickable call takes any late kick now (see above).
 * Returns false when @target was interrupted before it started.
 */
static bool worker_set(struct aio_worker *w, void *target, bool *interrupted)
{
	struct aio_pool *p = w->p;
	sigset_t pend;
	bool go = true;

	pthread_mutex_lock(&p->lock);
	if (target && (p->stop || (interrupted && *interrupted)))
		go = false;
	w->cur = go ? target : NULL;
	w->kick = false;
	pthread_mutex_unlock(&p->lock);
	if (!target)
		sigpending(&pend); /* delivers a late SIGUSR1 here */
	return go;
}

static void run_job(struct aio_worker *w, struct sjob *job)
{
	struct aio_pool *p = w->p;
	unsigned int i, end;
	int ret;

	for (i = 0; i < job->nrun;) {
		struct areq *a = job->run[i];

		if (!worker_set(w, job, &job->interrupted)) {
			for (; i < job->nrun; i++)
				job->run[i]->wres = -EINTR;
			break;
		}
		if (a->wop == W_OPEN) {
			ret = opener_open(&job->ctx->opener, a->path,
					  a->oflags);
			worker_set(w, NULL, NULL);
			a->file.fd = ret >= 0 ? ret : -1;
			a->wres = ret >= 0 ? 0 : ret;
			i++;
			continue;
		}
		if (a->whole) {
			xfer_run(a); /* a regular file: a kick is retried */
			worker_set(w, NULL, NULL);
			if (a->wres < 0)
				break; /* the rest is never submitted */
			i++;
			continue;
		}
		for (end = i + 1; end < job->nrun; end++)
			if (job->run[end]->wop != W_SUBMIT ||
			    job->run[end]->whole)
				break;
		ret = submit_span(p, job, i, end);
		worker_set(w, NULL, NULL);
		if (!ret)
			break; /* the rest is never submitted */
		i = end;
	}
}

/* A slow transfer (aio_wait.c): its one io_submit. */
static void run_req(struct aio_worker *w, struct areq *a)
{
	int ret;

	if (!worker_set(w, a, &a->wcancel)) {
		a->wres = -EINTR; /* never submitted */
		return;
	}
	ret = kaio_submit(w->p->kctx, &a->kiocb);
	worker_set(w, NULL, NULL);
	a->wres = ret < 0 ? ret : 0;
}

static void *worker_main(void *arg)
{
	struct aio_worker *w = arg;
	struct aio_pool *p = w->p;
	struct sjob *job;
	struct areq *a;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	for (;;) {
		pthread_mutex_lock(&p->lock);
		while (!p->stop && list_empty(&p->queued) &&
		       list_empty(&p->rqueued))
			pthread_cond_wait(&p->cond, &p->lock);
		if (p->stop) {
			pthread_mutex_unlock(&p->lock);
			break;
		}
		if (!list_empty(&p->rqueued)) {
			a = list_entry(p->rqueued.next, struct areq, wlink);
			list_del_init(&a->wlink);
			a->wstate = WS_RUNNING;
			pthread_mutex_unlock(&p->lock);

			run_req(w, a);

			pthread_mutex_lock(&p->lock);
			a->wstate = WS_LOOP;
			list_add_tail(&a->wlink, &p->rdone);
			pthread_mutex_unlock(&p->lock);
			eventfd_write(p->done_fd, 1);
			continue;
		}
		job = list_entry(p->queued.next, struct sjob, wlink);
		list_del_init(&job->wlink);
		job->wstate = WS_RUNNING;
		pthread_mutex_unlock(&p->lock);

		run_job(w, job);

		pthread_mutex_lock(&p->lock);
		job->wstate = WS_LOOP;
		list_add_tail(&job->wlink, &p->done);
		pthread_mutex_unlock(&p->lock);
		eventfd_write(p->done_fd, 1);
	}
	xfer_worker_fini();
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
	list_init(&p->rqueued);
	list_init(&p->rdone);
	p->kctx = kctx;
	p->done_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (p->done_fd < 0)
		return -errno;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	p->started = true;
	p->workers = calloc(n, sizeof(*p->workers));
	if (!p->workers)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		p->workers[i].p = p;
		ret = pthread_create(&p->workers[i].thread, NULL, worker_main,
				     &p->workers[i]);
		if (ret)
			return -ret;
		p->nthreads++;
	}
	return 0;
}

/*
 * Stop and join the workers; jobs and requests they did not take stay
 * queued.  A worker asleep in a device is kicked, again every 20 ms in
 * case a kick came just before its system call (see above).
 */
void pool_stop(struct aio_pool *p)
{
	struct timespec ts;
	unsigned int i;

	if (!p->started)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	for (i = 0; i < p->nthreads; i++) {
		for (;;) {
			pthread_kill(p->workers[i].thread, SIGUSR1);
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 20 * 1000 * 1000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			if (pthread_timedjoin_np(p->workers[i].thread, NULL,
						 &ts) == 0)
				break;
		}
	}
	free(p->workers);
	p->workers = NULL;
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
	job->wstate = WS_QUEUED;
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

void pool_push_req(struct aio_pool *p, struct areq *a)
{
	pthread_mutex_lock(&p->lock);
	a->wstate = WS_QUEUED;
	a->wcancel = false;
	list_add_tail(&a->wlink, &p->rqueued);
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

/* The next request a worker handed back (after pool_stop(), or queued). */
struct areq *pool_pop_rdone(struct aio_pool *p)
{
	struct areq *a = NULL;

	if (!p->started) {
		if (!list_empty(&p->rdone))
			a = list_entry(p->rdone.next, struct areq, wlink);
		else if (!list_empty(&p->rqueued))
			a = list_entry(p->rqueued.next, struct areq, wlink);
		if (a)
			list_del_init(&a->wlink);
		return a;
	}
	pthread_mutex_lock(&p->lock);
	if (!list_empty(&p->rdone)) {
		a = list_entry(p->rdone.next, struct areq, wlink);
		list_del_init(&a->wlink);
	}
	pthread_mutex_unlock(&p->lock);
	return a;
}

/* Signal the worker running @target; call with the lock held. */
static bool kick_locked(struct aio_pool *p, void *target)
{
	unsigned int i;

	for (i = 0; i < p->nthreads; i++) {
		if (p->workers[i].cur != target)
			continue;
		p->workers[i].kick = true;
		pthread_kill(p->workers[i].thread, SIGUSR1);
		return true;
	}
	return false;
}

/*
 * pool_interrupt_job() - the write of @job got a FUSE INTERRUPT.  A job
 * still queued is handed back at once with every request of its run
 * failed -EINTR (none was submitted); a running one has its worker
 * kicked, and what it has not started yet fails -EINTR.
 * Returns: true when a worker was kicked (the caller keeps kicking:
 * pool_rekick()).
 */
bool pool_interrupt_job(struct aio_pool *p, struct sjob *job)
{
	bool kicked = false;
	unsigned int i;

	if (!p->started)
		return false;
	pthread_mutex_lock(&p->lock);
	job->interrupted = true;
	if (job->wstate == WS_QUEUED) {
		list_del_init(&job->wlink);
		for (i = 0; i < job->nrun; i++)
			job->run[i]->wres = -EINTR;
		job->wstate = WS_LOOP;
		list_add_tail(&job->wlink, &p->done);
		eventfd_write(p->done_fd, 1);
	} else if (job->wstate == WS_RUNNING) {
		kicked = kick_locked(p, job);
	}
	pthread_mutex_unlock(&p->lock);
	return kicked;
}

/*
 * pool_cancel_req() - @a's context is being destroyed: a request still
 * queued comes back -EINTR, never submitted; a running one has its
 * worker kicked.  Returns: true when a worker was kicked.
 */
bool pool_cancel_req(struct aio_pool *p, struct areq *a)
{
	bool kicked = false;

	if (!p->started)
		return false;
	pthread_mutex_lock(&p->lock);
	a->wcancel = true;
	if (a->wstate == WS_QUEUED) {
		list_del_init(&a->wlink);
		a->wres = -EINTR;
		a->wstate = WS_LOOP;
		list_add_tail(&a->wlink, &p->rdone);
		eventfd_write(p->done_fd, 1);
	} else if (a->wstate == WS_RUNNING) {
		kicked = kick_locked(p, a);
	}
	pthread_mutex_unlock(&p->lock);
	return kicked;
}

/* Kick again every worker that was kicked and is not back; how many. */
unsigned int pool_rekick(struct aio_pool *p)
{
	unsigned int i, n = 0;

	if (!p->started)
		return 0;
	pthread_mutex_lock(&p->lock);
	for (i = 0; i < p->nthreads; i++) {
		if (!p->workers[i].kick || !p->workers[i].cur)
			continue;
		pthread_kill(p->workers[i].thread, SIGUSR1);
		n++;
	}
	pthread_mutex_unlock(&p->lock);
	return n;
}
