/*
 * stall: the longest step of the loop's own work and its name, a step's
 * own time without the time spent waiting for a CPU, and the heartbeat's
 * lateness as the longest stall.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include <time.h>

#include "answer.h"
#include "log.h"
#include "stall.h"

static uint64_t
cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * Burn ms milliseconds of this thread's CPU time: the step's own time,
 * however long a loaded machine makes it wait for a CPU on the way.
 */
static void
busy(unsigned ms)
{
	uint64_t end = cpu_now() + (uint64_t)ms * 1000000u;
	volatile uint64_t x = 0;

	while (cpu_now() < end)
		x++;
}

static void
sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void
test_steps(void **state)
{
	struct stall_mark m;

	(void)state;
	assert_int_equal(stall_step_max_ns(), 0);
	assert_string_equal(stall_step_max_what(), "none");

	stall_start(&m);
	busy(5);
	stall_step("a short step", &m);
	assert_true(stall_step_max_ns() >= 4000000u);
	assert_string_equal(stall_step_max_what(), "a short step");

	stall_start(&m);
	busy(30);
	stall_step("a long step", &m);
	assert_true(stall_step_max_ns() >= 25000000u);
	assert_string_equal(stall_step_max_what(), "a long step");

	/* A shorter one later leaves the longest in place. */
	stall_start(&m);
	stall_step("an empty step", &m);
	assert_string_equal(stall_step_max_what(), "a long step");
}

/* Every step but a read moves the answer cache's generation on. */
static void
test_generation(void **state)
{
	struct stall_mark m;
	uint64_t gen = answer_generation();

	(void)state;
	stall_start(&m);
	stall_step_read("an HTTP request", &m);
	assert_true(answer_generation() == gen);
	stall_start(&m);
	stall_step("counting a stream batch", &m);
	assert_true(answer_generation() != gen);
}

static void
test_beats(void **state)
{
	(void)state;
	stall_beat(10000000u);		/* the first beat has nothing before it */
	assert_int_equal(stall_max_ns(), 0);
	stall_beat(10000000u);		/* early: no stall */
	assert_int_equal(stall_max_ns(), 0);
	sleep_ms(70);
	stall_beat(10000000u);		/* 60 ms late */
	assert_true(stall_max_ns() >= 55000000u && stall_max_ns() < 1000000000u);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_steps),
		cmocka_unit_test(test_generation),
		cmocka_unit_test(test_beats),
	};

	log_init(LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
