/*
 * The worker: one thread, a queue of jobs in submission order, and a pipe
 * that wakes the loop when a job is finished. Only the loop adds and
 * removes jobs; the thread only marks them finished, under the mutex.
 */
#include <sys/resource.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "slice.h"
#include "stall.h"
#include "worker.h"
#include "xmalloc.h"

/* Below the loop: on a busy machine the loop gets the CPU first. */
#define WORKER_NICE	10

struct worker_job {
	worker_run_cb		 run;
	worker_done_cb		 done;
	void			*arg;
	bool			 finished;
	struct worker_job	*next;
};

struct worker {
	bool			 threaded;
	worker_idle_cb		 idle;
	void			*idle_arg;
	struct worker_job	*head;		/* oldest not yet applied */
	struct worker_job	*tail;
	int			 pending;
	bool			 again;		/* worker_again in a done() */
	/* Time with a job outstanding: ingest waits that long. */
	uint64_t		 busy_ns;
	uint64_t		 busy_since;

	/* Threaded only. */
	pthread_t		 thread;
	pthread_mutex_t		 lock;
	pthread_cond_t		 work;		/* a job was queued, or stop */
	pthread_cond_t		 finished;	/* a job was finished */
	struct worker_job	*next_run;	/* first job not yet started */
	bool			 stop;
	int			 pipe[2];
	struct event		*ev;
};

static void
worker_wake(struct worker *w)
{
	char c = 0;

	/* A full pipe already holds a wake-up. */
	while (write(w->pipe[1], &c, 1) == -1 && errno == EINTR)
		;
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct worker_job *job;

	/* Linux: a thread's nice value is its own. */
	if (setpriority(PRIO_PROCESS, (id_t)gettid(), WORKER_NICE) == -1)
		log_debug("worker: setpriority: %s", strerror(errno));
	/* The loop's short slice is the loop's alone. */
	if (slice_request(0) == -1)
		log_debug("worker: scheduler slice: %s", strerror(errno));
	/* Named for top -H and /proc; the threads it starts inherit it. */
	(void)pthread_setname_np(pthread_self(), "stabild-worker");
	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (!w->stop && w->next_run == NULL)
			pthread_cond_wait(&w->work, &w->lock);
		if (w->stop)
			break;
		job = w->next_run;
		w->next_run = job->next;
		pthread_mutex_unlock(&w->lock);
		if (job->run != NULL)
			job->run(job->arg);
		pthread_mutex_lock(&w->lock);
		job->finished = true;
		pthread_cond_broadcast(&w->finished);
		worker_wake(w);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/* Take the finished jobs off the head, in order. */
static struct worker_job *
worker_take_finished(struct worker *w)
{
	struct worker_job *first = NULL, **last = &first, *job;

	pthread_mutex_lock(&w->lock);
	while ((job = w->head) != NULL && job->finished) {
		w->head = job->next;
		if (w->head == NULL)
			w->tail = NULL;
		job->next = NULL;
		*last = job;
		last = &job->next;
	}
	pthread_mutex_unlock(&w->lock);
	return first;
}

/* A job was applied: the last one ends a busy span. */
static void
worker_applied(struct worker *w)
{
	w->pending--;
	if (w->pending == 0)
		w->busy_ns += stall_now() - w->busy_since;
}

/* Apply job; true when it asked to be applied again (worker_again). */
static bool
worker_apply_one(struct worker *w, struct worker_job *job)
{
	worker_applied(w);
	w->again = false;
	job->done(job->arg, true);
	if (!w->again)
		return false;
	w->again = false;
	/* Still outstanding: ingest goes on waiting for it. */
	if (w->pending++ == 0)
		w->busy_since = stall_now();
	return true;
}

/*
 * Jobs first..(its last) back in front of the queue, in order (threaded:
 * a synchronous worker applies a job again in place, worker_run_here).
 */
static void
worker_requeue(struct worker *w, struct worker_job *first)
{
	struct worker_job *last = first;

	while (last->next != NULL)
		last = last->next;
	pthread_mutex_lock(&w->lock);
	last->next = w->head;
	if (w->head == NULL)
		w->tail = last;
	w->head = first;
	pthread_mutex_unlock(&w->lock);
}

/*
 * Apply the finished jobs in order. One that asks to be applied again
 * keeps its place, the rest behind it too, and the loop comes back for
 * them next turn: nothing is applied out of submission order.
 */
static int
worker_apply(struct worker *w, struct worker_job *list)
{
	struct worker_job *job;
	int n = 0;

	while ((job = list) != NULL) {
		list = job->next;
		if (worker_apply_one(w, job)) {
			job->next = list;
			worker_requeue(w, job);
			worker_wake(w);
			return n;
		}
		free(job);
		n++;
	}
	return n;
}

static void
worker_event_cb(evutil_socket_t fd, short events, void *arg)
{
	struct worker *w = arg;
	char buf[64];

	struct stall_mark t0;

	stall_start(&t0);
	(void)events;
	while (read(fd, buf, sizeof buf) > 0)
		;
	if (worker_apply(w, worker_take_finished(w)) > 0 && w->pending == 0 &&
	    w->idle != NULL)
		w->idle(w->idle_arg);
	stall_step("applying worker results", &t0);
}

struct worker *
worker_create(struct event_base *base, worker_idle_cb idle, void *idle_arg,
    char **cause)
{
	struct worker *w = xcalloc(1, sizeof *w);
	sigset_t all, old;
	int i, rc;

	w->idle = idle;
	w->idle_arg = idle_arg;
	if (base == NULL)
		return w;
	w->threaded = true;
	if (pipe2(w->pipe, O_NONBLOCK|O_CLOEXEC) == -1) {
		*cause = xasprintf("worker: pipe: %s", strerror(errno));
		free(w);
		return NULL;
	}
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->work, NULL);
	pthread_cond_init(&w->finished, NULL);
	w->ev = event_new(base, w->pipe[0], EV_READ|EV_PERSIST,
	    worker_event_cb, w);
	event_add(w->ev, NULL);
	/* Signals are the loop's: the thread starts with them blocked. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&w->thread, NULL, worker_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		*cause = xasprintf("worker: thread: %s", strerror(rc));
		event_free(w->ev);
		for (i = 0; i < 2; i++)
			close(w->pipe[i]);
		free(w);
		return NULL;
	}
	return w;
}

void
worker_free(struct worker *w)
{
	struct worker_job *job;
	int i;

	if (w == NULL)
		return;
	if (w->threaded) {
		pthread_mutex_lock(&w->lock);
		w->stop = true;
		pthread_cond_signal(&w->work);
		pthread_mutex_unlock(&w->lock);
		pthread_join(w->thread, NULL);
		event_free(w->ev);
		for (i = 0; i < 2; i++)
			close(w->pipe[i]);
		pthread_cond_destroy(&w->work);
		pthread_cond_destroy(&w->finished);
		pthread_mutex_destroy(&w->lock);
	}
	while ((job = w->head) != NULL) {
		w->head = job->next;
		job->done(job->arg, false);
		free(job);
	}
	free(w);
}

void
worker_submit(struct worker *w, worker_run_cb run, worker_done_cb done,
    void *arg)
{
	struct worker_job *job = xcalloc(1, sizeof *job);

	job->run = run;
	job->done = done;
	job->arg = arg;
	if (w->pending++ == 0)
		w->busy_since = stall_now();
	if (w->threaded)
		pthread_mutex_lock(&w->lock);
	if (w->tail != NULL)
		w->tail->next = job;
	else
		w->head = job;
	w->tail = job;
	if (w->threaded) {
		if (w->next_run == NULL)
			w->next_run = job;
		pthread_cond_signal(&w->work);
		pthread_mutex_unlock(&w->lock);
	}
}

void
worker_again(struct worker *w)
{
	w->again = true;
}

int
worker_pending(const struct worker *w)
{
	return w->pending;
}

uint64_t
worker_busy_ns(const struct worker *w)
{
	return w->busy_ns + (w->pending > 0 ? stall_now() - w->busy_since :
	    0);
}

/* Synchronous: run and apply the jobs in order, new ones included. */
static void
worker_run_here(struct worker *w)
{
	struct worker_job *job;

	while ((job = w->head) != NULL) {
		w->head = job->next;
		if (w->head == NULL)
			w->tail = NULL;
		if (job->run != NULL)
			job->run(job->arg);
		while (worker_apply_one(w, job))
			;
		free(job);
	}
}

void
worker_yield(struct worker *w)
{
	if (!w->threaded)
		worker_run_here(w);
}

void
worker_settle(struct worker *w)
{
	if (!w->threaded) {
		worker_run_here(w);
		return;
	}
	while (w->pending > 0) {
		pthread_mutex_lock(&w->lock);
		while (w->head != NULL && !w->head->finished)
			pthread_cond_wait(&w->finished, &w->lock);
		pthread_mutex_unlock(&w->lock);
		worker_apply(w, worker_take_finished(w));
	}
}
