/*
 * The event loop's stalls: how late its heartbeat came, and which step
 * (a batch, a worker result, a request, a timer) took longest before it,
 * so that a stall in the log names its cause.
 */
#ifndef STABILD_STALL_H
#define STABILD_STALL_H

#include <stdint.h>

/* Where a step began: the clock, and the time spent waiting for a CPU. */
struct stall_mark {
	uint64_t	wall;
	uint64_t	queued;
};

/* Monotonic nanoseconds. */
uint64_t stall_now(void);
/* The calling thread's CPU time, ns. */
uint64_t stall_cpu_now(void);
/* The process's, its threads' and ended children's, ns. */
uint64_t stall_proc_now(void);

/* A step of the loop begins. */
void stall_start(struct stall_mark *);

/*
 * The step that began at *m has ended. It may have changed what the API
 * answers, so the answer cache is invalidated (answer_changed): every
 * step of our own work that changes state is bracketed by stall_start and
 * stall_step.
 */
void stall_step(const char *what, const struct stall_mark *m);
/* The same for a step that changed nothing (an API read). */
void stall_step_read(const char *what, const struct stall_mark *m);

/* The heartbeat of period_ns fired; log a stall over the warning limit. */
void stall_beat(uint64_t period_ns);

/* Since start: the longest stall, the longest step and what it was. */
uint64_t stall_max_ns(void);
uint64_t stall_step_max_ns(void);
const char *stall_step_max_what(void);

#endif
