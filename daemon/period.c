/*
 * Periods in Europe/Stockholm: Unix times to local days, ISO weeks and
 * months, and back to the instants where they start. period_of runs for
 * every event, so it caches the zone's UTC offset per hour.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "period.h"

/*
 * Direct-mapped cache of UTC offsets keyed by the hour since the epoch.
 * Stockholm's offset changes only on whole UTC hours, so one entry answers
 * for a whole hour; an hour in which the offset does change (historic
 * zones) is never cached. Not thread-safe: the daemon has one thread.
 */
#define PERIOD_CACHE_SIZE	256

struct period_cache_entry {
	int64_t		hour;
	int32_t		offset;
	bool		used;
};
static struct period_cache_entry period_cache[PERIOD_CACHE_SIZE];

/*
 * Times further out are clamped so that the arithmetic below cannot
 * overflow; 2^45 seconds is over a million years either way.
 */
#define PERIOD_T_LIMIT		(INT64_C(1) << 45)

/* Floor division and modulo, for times and days before 1970. */
static int64_t
period_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

static int64_t
period_mod(int64_t a, int64_t b)
{
	return a - period_div(a, b) * b;
}

/* Days from 1970-01-01 to a proleptic Gregorian date. */
static int64_t
period_days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* The date of a day number (inverse of period_days_from_civil). */
static void
period_civil_from_days(int64_t z, int *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

/* ISO year and week of a day: those of the Thursday of its week. */
static void
period_iso(int64_t day, int *iso_year, int *iso_week)
{
	int64_t thursday;
	int m, d;

	thursday = day - period_mod(day + 3, 7) + 3;
	period_civil_from_days(thursday, iso_year, &m, &d);
	*iso_week = (int)((thursday -
	    period_days_from_civil(*iso_year, 1, 1)) / 7 + 1);
}

static int64_t
period_week_of(int64_t day)
{
	return period_div(day + 3, 7);
}

/* Number of ISO weeks in an ISO year, 52 or 53. */
static int
period_weeks_in(int year)
{
	return (int)(period_week_of(period_days_from_civil(year + 1, 1, 4)) -
	    period_week_of(period_days_from_civil(year, 1, 4)));
}

/* The zone's offset at t from the tz database; false if it cannot say. */
static bool
period_offset_at(int64_t t, int32_t *offset)
{
	time_t tt = (time_t)t;
	struct tm tm;
	int64_t local;

	if (localtime_r(&tt, &tm) == NULL)
		return false;
	local = period_days_from_civil((int64_t)tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday) * 86400 + tm.tm_hour * 3600 +
	    tm.tm_min * 60 + tm.tm_sec;
	*offset = (int32_t)(local - t);
	return true;
}

/* The offset at t, through the per-hour cache. */
static int32_t
period_offset(int64_t t)
{
	struct period_cache_entry *e;
	int64_t hour = period_div(t, 3600);
	int32_t first, last;

	e = &period_cache[(uint64_t)hour % PERIOD_CACHE_SIZE];
	if (e->used && e->hour == hour)
		return e->offset;
	if (!period_offset_at(hour * 3600, &first))
		return 0;
	if (period_offset_at(hour * 3600 + 3599, &last) && last == first) {
		e->hour = hour;
		e->offset = first;
		e->used = true;
		return first;
	}
	/* The offset changes within this hour: ask for t itself. */
	if (!period_offset_at(t, &first))
		return 0;
	return first;
}

void
period_init(void)
{
	setenv("TZ", "Europe/Stockholm", 1);
	tzset();
	/* Offsets cached under another zone would be wrong now. */
	memset(period_cache, 0, sizeof period_cache);
}

/* Local date of t from the cached offset; no mktime on this path. */
void
period_of(int64_t t, struct period *p)
{
	int64_t day;

	if (t > PERIOD_T_LIMIT)
		t = PERIOD_T_LIMIT;
	else if (t < -PERIOD_T_LIMIT)
		t = -PERIOD_T_LIMIT;
	day = period_div(t + period_offset(t), 86400);
	p->day = (int32_t)day;
	p->week = (int32_t)period_week_of(day);
	p->wday = (int)period_mod(day + 3, 7) + 1;
	period_civil_from_days(day, &p->year, &p->mon, &p->mday);
	p->month = p->year * 12 + p->mon - 1;
	period_iso(day, &p->iso_year, &p->iso_week);
}

/*
 * Local midnight starting a day. mktime resolves the zone's rules; a
 * Swedish DST switch happens at 02:00 or 03:00, so midnight always exists
 * and is never repeated.
 */
static int64_t
period_midnight(int64_t day)
{
	struct tm tm;
	time_t t;
	int y, m, d;

	period_civil_from_days(day, &y, &m, &d);
	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	tm.tm_isdst = -1;
	if ((t = mktime(&tm)) != (time_t)-1)
		return (int64_t)t;
	/* Out of mktime's range: the offset at UTC midnight is near enough. */
	return day * 86400 - period_offset(day * 86400);
}

int64_t
period_week_start(int32_t week)
{
	return period_midnight((int64_t)week * 7 - 3);
}

int64_t
period_month_start(int32_t month)
{
	int64_t year = period_div(month, 12);
	int mon = (int)period_mod(month, 12) + 1;

	return period_midnight(period_days_from_civil(year, mon, 1));
}

int64_t
period_day_start(int32_t day)
{
	return period_midnight(day);
}

int32_t
period_week_of_day(int32_t day)
{
	return (int32_t)period_week_of(day);
}

int
period_week_iso(int32_t week)
{
	int iso_year, iso_week;

	period_iso((int64_t)week * 7 - 3, &iso_year, &iso_week);
	return iso_week;
}

/* Label a week by its Monday, which period_iso takes to its Thursday. */
void
period_week_label(int32_t week, char *buf)
{
	int iso_year, iso_week;

	period_iso((int64_t)week * 7 - 3, &iso_year, &iso_week);
	if (snprintf(buf, PERIOD_LABEL_MAX, "%04d-W%02d", iso_year,
	    iso_week) >= PERIOD_LABEL_MAX)
		buf[PERIOD_LABEL_MAX - 1] = '\0';
}

void
period_month_label(int32_t month, char *buf)
{
	int year = (int)period_div(month, 12);
	int mon = (int)period_mod(month, 12) + 1;

	if (snprintf(buf, PERIOD_LABEL_MAX, "%04d-%02d", year, mon) >=
	    PERIOD_LABEL_MAX)
		buf[PERIOD_LABEL_MAX - 1] = '\0';
}

/* Exactly n decimal digits at s. */
static bool
period_digits(const char *s, size_t n, int *v)
{
	size_t i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		*v = *v * 10 + (s[i] - '0');
	}
	return true;
}

/* "YYYY-Www" exactly, with a week that exists in that ISO year. */
int
period_parse_week(const char *s, int32_t *week)
{
	int year, w;

	if (strlen(s) != 8 || !period_digits(s, 4, &year) || s[4] != '-' ||
	    s[5] != 'W' || !period_digits(s + 6, 2, &w))
		return -1;
	if (w < 1 || w > period_weeks_in(year))
		return -1;
	*week = (int32_t)(period_week_of(period_days_from_civil(year, 1, 4)) +
	    w - 1);
	return 0;
}

/* "YYYY-MM" exactly. */
int
period_parse_month(const char *s, int32_t *month)
{
	int year, mon;

	if (strlen(s) != 7 || !period_digits(s, 4, &year) || s[4] != '-' ||
	    !period_digits(s + 5, 2, &mon) || mon < 1 || mon > 12)
		return -1;
	*month = year * 12 + mon - 1;
	return 0;
}
