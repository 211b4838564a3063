/*
 * Times as people and JSON readers see them: RFC 3339 in UTC.
 */
#ifndef STABILD_UTC_H
#define STABILD_UTC_H

#include <stdint.h>

#define UTC_TIME_SIZE 32

/*
 * Unix seconds as "2023-05-02T10:00:00Z" into buf (UTC_TIME_SIZE bytes).
 * 0, or -1 for a time that cannot be shown (buf then holds the epoch).
 */
int utc_format(int64_t t, char *buf);
/* The inverse of utc_format, exactly that form only; 0 or -1. */
int utc_parse(const char *s, int64_t *t);

#endif
