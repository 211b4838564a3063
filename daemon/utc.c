/*
 * RFC 3339 in UTC, the one way stabild writes a time for others to read.
 */
#include <stdio.h>
#include <string.h>
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

int
utc_parse(const char *s, int64_t *t)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof tm);
	if (strlen(s) != 20 ||
	    (end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm)) == NULL ||
	    *end != '\0')
		return -1;
	*t = (int64_t)timegm(&tm);
	return 0;
}
