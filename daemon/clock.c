/*
 * The wall clock, or the stream clock in HA mode (clock.h). One process,
 * one loop: plain statics.
 */
#include <time.h>

#include "clock.h"

static bool	clock_stream;		/* follow the stream */
static int64_t	clock_stream_last;	/* largest applied id ms */

static int64_t
clock_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
clock_now_ms(void)
{
	if (clock_stream && clock_stream_last != 0)
		return clock_stream_last;
	return clock_wall_ms();
}

int64_t
clock_now(void)
{
	if (clock_stream && clock_stream_last != 0)
		return clock_stream_last / 1000;
	return (int64_t)time(NULL);
}

void
clock_follow_stream(bool follow)
{
	clock_stream = follow;
}

void
clock_set_stream_ms(int64_t ms)
{
	if (ms > clock_stream_last)
		clock_stream_last = ms;
}

int64_t
clock_stream_ms(void)
{
	return clock_stream_last;
}
