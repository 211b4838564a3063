/*
 * Stall accounting for the event loop. The heartbeat's lateness is the
 * stall (stabild_loop_stall_max_seconds): our own steps and whatever else
 * kept the process off a CPU. The steps timed between two beats say which
 * of it was ours (stabild_loop_step_max_seconds). A step that is not an
 * API read also invalidates the API's answer cache (answer.h).
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <sys/resource.h>
#include <unistd.h>

#include "answer.h"
#include "log.h"
#include "stall.h"

/* A stall this long is logged with its cause: the API's p99 goal. */
#define STALL_WARN_NS	50000000u
/* A step this long is noted at debug level. */
#define STALL_STEP_NOTE_NS	20000000u

static uint64_t		 stall_last_beat;
static uint64_t		 stall_max;		/* longest the loop was late */
static uint64_t		 stall_step_max;	/* longest step of our own */
static const char	*stall_step_max_name;
static int		 stall_sched_fd = -2;	/* -2 unopened, -1 none */
static const char	*stall_worst_what;
static uint64_t		 stall_worst_ns;

uint64_t
stall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t
stall_cpu_now(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == -1)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t
stall_proc_now(void)
{
	struct rusage self, kids;

	if (getrusage(RUSAGE_SELF, &self) == -1 ||
	    getrusage(RUSAGE_CHILDREN, &kids) == -1)
		return 0;
	return ((uint64_t)self.ru_utime.tv_sec + (uint64_t)self.ru_stime.tv_sec +
	    (uint64_t)kids.ru_utime.tv_sec + (uint64_t)kids.ru_stime.tv_sec) *
	    1000000000u + ((uint64_t)self.ru_utime.tv_usec +
	    (uint64_t)self.ru_stime.tv_usec + (uint64_t)kids.ru_utime.tv_usec +
	    (uint64_t)kids.ru_stime.tv_usec) * 1000u;
}

/*
 * The loop thread's time waiting on a run queue (schedstat's second
 * field), so that a step's own time leaves out the time the host gave
 * the CPU to others. Without schedstat it is 0: wall time alone.
 */
static uint64_t
stall_queued(void)
{
	char buf[96];
	ssize_t n;
	char *p;

	if (stall_sched_fd == -2)
		stall_sched_fd = open("/proc/thread-self/schedstat",
		    O_RDONLY | O_CLOEXEC);
	if (stall_sched_fd < 0)
		return 0;
	n = pread(stall_sched_fd, buf, sizeof buf - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	strtoull(buf, &p, 10);
	return strtoull(p, NULL, 10);
}

void
stall_start(struct stall_mark *m)
{
	m->wall = stall_now();
	m->queued = stall_queued();
}

void
stall_step_read(const char *what, const struct stall_mark *m)
{
	uint64_t wall = stall_now() - m->wall, queued = stall_queued();
	uint64_t took = wall;

	if (queued >= m->queued && queued - m->queued <= wall)
		took = wall - (queued - m->queued);

	if (took > stall_step_max) {
		stall_step_max = took;
		stall_step_max_name = what;
	}
	if (took >= STALL_STEP_NOTE_NS)
		log_debug("loop: %s took %.1f ms", what, (double)took / 1e6);
	if (took > stall_worst_ns) {
		stall_worst_ns = took;
		stall_worst_what = what;
	}
}

/*
 * The single place where the state generation moves on: a step that is
 * not an API read may have changed anything an answer shows.
 */
void
stall_step(const char *what, const struct stall_mark *m)
{
	answer_changed();
	stall_step_read(what, m);
}

void
stall_beat(uint64_t period_ns)
{
	uint64_t now = stall_now(), late = 0;

	if (stall_last_beat != 0 && now - stall_last_beat > period_ns)
		late = now - stall_last_beat - period_ns;
	if (late > stall_max)
		stall_max = late;
	if (late >= STALL_WARN_NS)
		log_info("loop: stalled %.1f ms; longest step %s (%.1f ms)",
		    (double)late / 1e6,
		    stall_worst_what != NULL ? stall_worst_what : "unknown",
		    (double)stall_worst_ns / 1e6);
	stall_last_beat = now;
	stall_worst_ns = 0;
	stall_worst_what = NULL;
}

uint64_t
stall_max_ns(void)
{
	return stall_max;
}

uint64_t
stall_step_max_ns(void)
{
	return stall_step_max;
}

const char *
stall_step_max_what(void)
{
	return stall_step_max_name != NULL ? stall_step_max_name : "none";
}
