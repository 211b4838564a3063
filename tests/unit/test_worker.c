/*
 * worker: the time with a job outstanding (what ingest waits for), in a
 * synchronous worker and on a thread whose results the loop applies;
 * idle time between jobs is not counted.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <time.h>

#include <event2/event.h>

#include "log.h"
#include "stall.h"
#include "worker.h"

#define MS	1000000ull

static void
sleep_ms(unsigned ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1)
		;
}

struct job {
	unsigned	ms;
	int		applied;
};

static void
job_run(void *arg)
{
	sleep_ms(((struct job *)arg)->ms);
}

static void
job_done(void *arg, bool apply)
{
	if (apply)
		((struct job *)arg)->applied++;
}

static void
test_synchronous(void **state)
{
	struct worker *w = worker_create(NULL, NULL, NULL, NULL);
	struct job j = { 30, 0 };
	uint64_t busy;

	(void)state;
	assert_non_null(w);
	assert_int_equal(worker_busy_ns(w), 0);
	sleep_ms(20);
	/* Idle time is not busy time. */
	assert_int_equal(worker_busy_ns(w), 0);
	worker_submit(w, job_run, job_done, &j);
	worker_yield(w);
	assert_int_equal(j.applied, 1);
	assert_int_equal(worker_pending(w), 0);
	busy = worker_busy_ns(w);
	assert_true(busy >= 30 * MS);
	sleep_ms(20);
	assert_int_equal(worker_busy_ns(w), busy);
	worker_free(w);
}

struct loop {
	struct event_base	*base;
	int			 idle;
};

static void
loop_idle(void *arg)
{
	struct loop *l = arg;

	l->idle++;
	event_base_loopbreak(l->base);
}

static void
test_threaded(void **state)
{
	struct loop l = { event_base_new(), 0 };
	struct worker *w;
	struct job a = { 40, 0 }, b = { 40, 0 };
	uint64_t t0, busy1, busy2, elapsed;
	char *cause = NULL;

	(void)state;
	assert_non_null(l.base);
	w = worker_create(l.base, loop_idle, &l, &cause);
	assert_non_null(w);
	t0 = stall_now();
	/* Two jobs back to back: one busy span until both are applied. */
	worker_submit(w, job_run, job_done, &a);
	worker_submit(w, job_run, job_done, &b);
	sleep_ms(10);
	/* Counted while outstanding, not only once applied. */
	assert_true(worker_busy_ns(w) >= 10 * MS);
	event_base_dispatch(l.base);
	assert_int_equal(l.idle, 1);
	assert_int_equal(a.applied + b.applied, 2);
	busy1 = worker_busy_ns(w);
	assert_true(busy1 >= 80 * MS);
	assert_true(busy1 <= stall_now() - t0);
	/* A pause, then one more job: the pause is not counted. */
	sleep_ms(60);
	assert_int_equal(worker_busy_ns(w), busy1);
	a.ms = 30;
	worker_submit(w, job_run, job_done, &a);
	event_base_dispatch(l.base);
	assert_int_equal(l.idle, 2);
	busy2 = worker_busy_ns(w);
	elapsed = stall_now() - t0;
	assert_true(busy2 - busy1 >= 30 * MS);
	assert_true(busy2 + 60 * MS <= elapsed);
	/* Settling applies what is outstanding and ends the span too. */
	b.ms = 20;
	worker_submit(w, job_run, job_done, &b);
	worker_settle(w);
	assert_int_equal(worker_pending(w), 0);
	assert_true(worker_busy_ns(w) - busy2 >= 20 * MS);
	busy2 = worker_busy_ns(w);
	sleep_ms(20);
	assert_int_equal(worker_busy_ns(w), busy2);
	worker_free(w);
	event_base_free(l.base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_synchronous),
		cmocka_unit_test(test_threaded),
	};

	log_init(LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
