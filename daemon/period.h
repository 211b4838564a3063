/*
 * Periods in Europe/Stockholm: ISO weeks (Monday start) and calendar months.
 * Weeks and months are numbered linearly so that ranges are arithmetic:
 * week 0 is ISO 1970-W01 (Monday 1969-12-29), month m is year*12 + (mon-1).
 */
#ifndef STABILD_PERIOD_H
#define STABILD_PERIOD_H

#include <stdint.h>

#define PERIOD_LABEL_MAX 16

struct period {
	int32_t		day;		/* local days since 1970-01-01 */
	int32_t		week;		/* linear ISO week */
	int32_t		month;		/* year * 12 + mon - 1 */
	int		iso_year;
	int		iso_week;	/* 1..53 */
	int		year;
	int		mon;		/* 1..12 */
	int		mday;		/* 1..31 */
	int		wday;		/* 1 = Monday .. 7 = Sunday */
};

/* Select the Europe/Stockholm zone for this process (sets TZ). */
void period_init(void);
/* The local periods of Unix time t. */
void period_of(int64_t t, struct period *p);
/* Unix time of local midnight starting the week / month / day. */
int64_t period_week_start(int32_t week);
int64_t period_month_start(int32_t month);
int64_t period_day_start(int32_t day);
/* The week containing a local day number. */
int32_t period_week_of_day(int32_t day);
/* The ISO week of the year (1..53) of a linear week; pure arithmetic, so
 * safe off the loop thread (period_of shares a cache). */
int period_week_iso(int32_t week);
/* "2023-W14" and "2023-04"; buf holds PERIOD_LABEL_MAX bytes. */
void period_week_label(int32_t week, char *buf);
void period_month_label(int32_t month, char *buf);
/* Parse those labels back; 0 or -1. */
int period_parse_week(const char *s, int32_t *week);
int period_parse_month(const char *s, int32_t *month);

#endif
