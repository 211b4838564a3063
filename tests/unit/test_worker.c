/*
 * worker: the time with a job outstanding (what ingest waits for), in a
 * synchronous worker and on a thread whose results the loop applies;
 * idle time between jobs is not counted; a job applied again keeps its
 * place.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
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

/*
 * worker_again: a job applied a slice at a time keeps its place. A asks
 * to be applied again three times, each on a later turn of the loop (a
 * ping activated by one slice has run before the next), while B behind
 * it waits; C, submitted by A's last slice, comes after B.
 */
struct again {
	struct worker	*w;
	struct event	*ping;
	char		 trace[16];
	int		 n;
	int		 slices;	/* A's so far */
	int		 pings;
	int		 pings_seen[8];
	int		 pending_seen;
	int		 freed;
};

static void
again_ping(evutil_socket_t fd, short what, void *arg)
{
	struct again *g = arg;

	(void)fd;
	(void)what;
	g->pings++;
	/* A and B are outstanding between A's slices. */
	g->pending_seen = worker_pending(g->w);
}

static void
again_c(void *arg, bool apply)
{
	struct again *g = arg;

	if (apply)
		g->trace[g->n++] = 'C';
}

static void
again_b(void *arg, bool apply)
{
	struct again *g = arg;

	if (apply)
		g->trace[g->n++] = 'B';
}

static void
again_a(void *arg, bool apply)
{
	struct again *g = arg;

	if (!apply) {
		g->freed++;
		return;
	}
	g->trace[g->n++] = 'A';
	g->pings_seen[g->slices] = g->pings;
	if (++g->slices < 4) {
		if (g->ping != NULL)
			event_active(g->ping, EV_TIMEOUT, 0);
		worker_again(g->w);
		return;
	}
	worker_submit(g->w, NULL, again_c, g);
}

static void
test_again(void **state)
{
	struct loop l = { event_base_new(), 0 };
	struct again g = { 0 }, s = { 0 };
	char *cause = NULL;
	int i;

	(void)state;
	/* Synchronous: the same order. */
	s.w = worker_create(NULL, NULL, NULL, NULL);
	worker_submit(s.w, NULL, again_a, &s);
	worker_submit(s.w, NULL, again_b, &s);
	worker_yield(s.w);
	assert_string_equal(s.trace, "AAAABC");
	assert_int_equal(worker_pending(s.w), 0);
	worker_free(s.w);

	assert_non_null(l.base);
	g.w = worker_create(l.base, loop_idle, &l, &cause);
	assert_non_null(g.w);
	g.ping = event_new(l.base, -1, 0, again_ping, &g);
	worker_submit(g.w, NULL, again_a, &g);
	worker_submit(g.w, NULL, again_b, &g);
	event_base_dispatch(l.base);
	assert_string_equal(g.trace, "AAAABC");
	/* Each slice on a turn of its own: the ping ran in between. */
	for (i = 0; i < 4; i++)
		assert_int_equal(g.pings_seen[i], i);
	assert_int_equal(g.pending_seen, 2);
	/* Idle once, when all was applied. */
	assert_int_equal(l.idle, 1);
	assert_int_equal(worker_pending(g.w), 0);

	/* Settling applies every slice now, in order. */
	g.n = g.slices = g.pings = 0;
	memset(g.trace, 0, sizeof g.trace);
	worker_submit(g.w, NULL, again_a, &g);
	worker_submit(g.w, NULL, again_b, &g);
	worker_settle(g.w);
	assert_string_equal(g.trace, "AAAABC");
	assert_int_equal(worker_pending(g.w), 0);

	/* Freed while it has slices to go: done(false) once. */
	g.slices = 0;
	worker_submit(g.w, NULL, again_a, &g);
	while (g.slices == 0)
		event_base_loop(l.base, EVLOOP_ONCE);
	assert_int_equal(worker_pending(g.w), 1);
	worker_free(g.w);
	assert_int_equal(g.freed, 1);
	event_free(g.ping);
	event_base_free(l.base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_synchronous),
		cmocka_unit_test(test_threaded),
		cmocka_unit_test(test_again),
	};

	log_init(LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
