/*
 * Stall accounting for the event loop. The heartbeat's lateness is the
 * stall (stabild_loop_stall_max_seconds): our own steps and whatever else
 * kept the process off a CPU. The steps timed between two beats say which
 * of it was ours (stabild_loop_step_max_seconds).
 */
#include <stdint.h>
#include <time.h>

#include "log.h"
#include "metrics.h"
#include "stall.h"

/* A stall this long is logged with its cause: the API's p99 goal. */
#define STALL_WARN_NS	50000000u

static uint64_t		 stall_last_beat;
static const char	*stall_worst_what;
static uint64_t		 stall_worst_ns;

uint64_t
stall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void
stall_step(const char *what, uint64_t t0)
{
	uint64_t took = stall_now() - t0;

	if (took > metrics.loop_step_max_ns) {
		metrics.loop_step_max_ns = took;
		metrics.loop_step_max = what;
	}
	if (took > stall_worst_ns) {
		stall_worst_ns = took;
		stall_worst_what = what;
	}
}

void
stall_beat(uint64_t period_ns)
{
	uint64_t now = stall_now(), late = 0;

	if (stall_last_beat != 0 && now - stall_last_beat > period_ns)
		late = now - stall_last_beat - period_ns;
	if (late > metrics.loop_stall_max_ns)
		metrics.loop_stall_max_ns = late;
	if (late >= STALL_WARN_NS)
		log_info("loop: stalled %.1f ms; longest step %s (%.1f ms)",
		    (double)late / 1e6,
		    stall_worst_what != NULL ? stall_worst_what : "unknown",
		    (double)stall_worst_ns / 1e6);
	stall_last_beat = now;
	stall_worst_ns = 0;
	stall_worst_what = NULL;
}
