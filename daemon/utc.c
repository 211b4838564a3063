/*
 * RFC 3339 in UTC, the one way stabild writes a time for others to read.
 */
#include <stdio.h>
#include <time.h>

#include "utc.h"

int
utc_format(int64_t t, char *buf)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, UTC_TIME_SIZE, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
		snprintf(buf, UTC_TIME_SIZE, "1970-01-01T00:00:00Z");
		return -1;
	}
	return 0;
}
