/*
 * A worker thread for work too slow for the event loop. A job's run()
 * happens on the thread and writes only into the job's own memory; its
 * done() happens on the loop, one job at a time in submission order, and
 * applies the result. Without an event base the worker is synchronous:
 * worker_yield runs and applies what was submitted in the caller's
 * thread, so the same code gives the same results with or without a loop.
 */
#ifndef STABILD_WORKER_H
#define STABILD_WORKER_H

#include <stdbool.h>
#include <stdint.h>

struct event_base;
struct worker;

/*
 * Off the loop: may read files and shared read-only data. NULL for a job
 * whose work is all in its done(), on the loop (one applied in slices).
 */
typedef void (*worker_run_cb)(void *arg);
/* On the loop: apply (or, when !apply, only free) the job. */
typedef void (*worker_done_cb)(void *arg, bool apply);
/* On the loop: the last outstanding job was applied. */
typedef void (*worker_idle_cb)(void *arg);

/* base NULL: synchronous. NULL + *cause when no thread can start. */
struct worker *worker_create(struct event_base *base, worker_idle_cb idle,
    void *idle_arg, char **cause);
/* Waits for the running job; jobs not yet applied are freed, not applied. */
void worker_free(struct worker *w);
void worker_submit(struct worker *w, worker_run_cb run, worker_done_cb done,
    void *arg);
/*
 * From a job's done(): apply it again next turn of the loop instead of
 * freeing it, before any job behind it; it stays outstanding. For a
 * result applied a slice at a time, with the loop answering between.
 */
void worker_again(struct worker *w);
/* Jobs submitted and not yet applied. */
int worker_pending(const struct worker *w);
/* Monotonic ns with a job submitted and not yet applied, in all. */
uint64_t worker_busy_ns(const struct worker *w);
/*
 * The caller finished a step: a synchronous worker runs and applies
 * every job now; a threaded one goes on in the background.
 */
void worker_yield(struct worker *w);
/* Wait for every job and apply it now, in the caller; no idle call. */
void worker_settle(struct worker *w);

#endif
