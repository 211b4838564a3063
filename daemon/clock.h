/*
 * The clock that state changes read. By default the wall clock; in HA mode
 * the stream clock: the largest entry-id millisecond applied so far
 * (decisions and control entries alike), which Redis stamped at XADD, so
 * that instances applying the same entries see the same time. Timing of
 * work (retries, timeouts, stalls) stays on the wall clock.
 */
#ifndef STABILD_CLOCK_H
#define STABILD_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

/* Unix seconds and milliseconds of the clock state changes read. */
int64_t clock_now(void);
int64_t clock_now_ms(void);
/*
 * Follow the stream (true) or the wall clock (false, the default). Until
 * the first clock_set_stream_ms the stream clock reads the wall clock.
 */
void clock_follow_stream(bool follow);
/* An entry with id milliseconds ms is applied; the clock never goes back. */
void clock_set_stream_ms(int64_t ms);
/* The stream clock's milliseconds; 0 before the first entry. */
int64_t clock_stream_ms(void);

#endif
