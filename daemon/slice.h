/*
 * The loop thread's scheduler slice. On Linux 6.12 and later the fair
 * scheduler takes a task's requested slice as a latency hint: a task
 * with a short slice that wakes up preempts one running a longer slice
 * sooner, and gets no more CPU for it. The loop asks for a short one, so
 * that a request that wakes it is not kept waiting behind the checkpoint
 * child, a worker or another process's slice. Older kernels ignore it.
 */
#ifndef STABILD_SLICE_H
#define STABILD_SLICE_H

#include <stdint.h>

/* The loop's slice, in nanoseconds (the kernel's least is 0.1 ms). */
#define SLICE_LOOP_NS	100000

/*
 * Ask for a slice of ns for the calling thread, 0 for the kernel's
 * default; threads and processes it creates afterwards inherit it, so
 * the loop's helpers ask for the default back. 0, or -1 with errno.
 */
int slice_request(uint64_t ns);

#endif
