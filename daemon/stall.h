/*
 * The event loop's stalls: how late its heartbeat came, and which step
 * (a batch, a worker result, a request, a timer) took longest before it,
 * so that a stall in the log names its cause.
 */
#ifndef STABILD_STALL_H
#define STABILD_STALL_H

#include <stdint.h>

/* Monotonic nanoseconds. */
uint64_t stall_now(void);

/* A step of the loop that began at t0 has ended. */
void stall_step(const char *what, uint64_t t0);

/* The heartbeat of period_ns fired; log a stall over the warning limit. */
void stall_beat(uint64_t period_ns);

#endif
