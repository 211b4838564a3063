/*
 * Tests for period.c: ISO weeks and months in Europe/Stockholm, across
 * year ends and DST switches, labels and their parsers, and the offset
 * cache. localtime_r serves as the reference where a sweep needs one.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "period.h"

#define WEEK_S	604800
#define HOUR_S	3600

/* Unix time of a UTC date and time. */
static int64_t
utc(int y, int mon, int d, int h, int min, int s)
{
	struct tm tm;

	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = min;
	tm.tm_sec = s;
	return (int64_t)timegm(&tm);
}

/* The local date of t as the C library sees it, for comparisons. */
static void
ref_date(int64_t t, int *y, int *mon, int *d)
{
	time_t tt = (time_t)t;
	struct tm tm;

	assert_non_null(localtime_r(&tt, &tm));
	*y = tm.tm_year + 1900;
	*mon = tm.tm_mon + 1;
	*d = tm.tm_mday;
}

static int
setup(void **state)
{
	(void)state;
	period_init();
	return 0;
}

/* Dates at noon UTC, which is the same date in Stockholm. */
static void
test_iso_weeks(void **state)
{
	static const struct {
		int	y, mon, d;
		int32_t	day;
		int	iso_year, iso_week, wday;
		const char *label;
	} cases[] = {
		{ 2020, 12, 31, 18627, 2020, 53, 4, "2020-W53" },
		{ 2021, 1, 3, 18630, 2020, 53, 7, "2020-W53" },
		{ 2021, 1, 4, 18631, 2021, 1, 1, "2021-W01" },
		{ 2024, 12, 30, 20087, 2025, 1, 1, "2025-W01" },
		{ 2026, 12, 31, 20818, 2026, 53, 4, "2026-W53" },
		{ 2027, 1, 1, 20819, 2026, 53, 5, "2026-W53" },
		{ 2008, 12, 29, 14242, 2009, 1, 1, "2009-W01" },
		{ 2023, 1, 1, 19358, 2022, 52, 7, "2022-W52" },
		{ 2023, 1, 2, 19359, 2023, 1, 1, "2023-W01" },
		{ 2016, 2, 29, 16860, 2016, 9, 1, "2016-W09" },
		{ 2015, 12, 31, 16800, 2015, 53, 4, "2015-W53" },
		{ 2009, 12, 31, 14609, 2009, 53, 4, "2009-W53" },
		{ 2010, 1, 3, 14612, 2009, 53, 7, "2009-W53" },
		{ 2000, 1, 2, 10958, 1999, 52, 7, "1999-W52" },
		{ 2000, 1, 3, 10959, 2000, 1, 1, "2000-W01" },
		{ 2040, 12, 31, 25932, 2041, 1, 1, "2041-W01" },
		{ 1970, 1, 1, 0, 1970, 1, 4, "1970-W01" },
	};
	char label[PERIOD_LABEL_MAX];
	struct period p;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		period_of(utc(cases[i].y, cases[i].mon, cases[i].d, 12, 0, 0),
		    &p);
		assert_int_equal(p.year, cases[i].y);
		assert_int_equal(p.mon, cases[i].mon);
		assert_int_equal(p.mday, cases[i].d);
		assert_int_equal(p.day, cases[i].day);
		assert_int_equal(p.iso_year, cases[i].iso_year);
		assert_int_equal(p.iso_week, cases[i].iso_week);
		assert_int_equal(p.wday, cases[i].wday);
		assert_int_equal(p.month, cases[i].y * 12 + cases[i].mon - 1);
		assert_int_equal(p.week, period_week_of_day(p.day));
		period_week_label(p.week, label);
		assert_string_equal(label, cases[i].label);
	}
}

/* Linear numbering: week 0 starts Monday 1969-12-29, days go negative. */
static void
test_linear_numbers(void **state)
{
	static const struct {
		int	y, mon, d;
		int32_t	day, week;
		const char *label;
	} cases[] = {
		{ 1970, 1, 1, 0, 0, "1970-W01" },
		{ 1969, 12, 29, -3, 0, "1970-W01" },
		{ 1969, 12, 28, -4, -1, "1969-W52" },
		{ 1970, 1, 4, 3, 0, "1970-W01" },
		{ 1970, 1, 5, 4, 1, "1970-W02" },
		{ 1969, 7, 20, -165, -24, "1969-W29" },
	};
	char label[PERIOD_LABEL_MAX];
	struct period p;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		period_of(utc(cases[i].y, cases[i].mon, cases[i].d, 12, 0, 0),
		    &p);
		assert_int_equal(p.day, cases[i].day);
		assert_int_equal(p.week, cases[i].week);
		assert_int_equal(period_week_of_day(cases[i].day),
		    cases[i].week);
		period_week_label(p.week, label);
		assert_string_equal(label, cases[i].label);
	}
}

/*
 * Instants around local midnights and both 2023 DST switches: the local
 * date, and the seconds since that date's local midnight (which counts
 * the 23 and 25 hour days, so a wrong offset shows).
 */
static void
test_local_time(void **state)
{
	static const struct {
		int	y, mon, d, h, min, s;	/* UTC */
		int	ly, lmon, ld;		/* local date */
		int64_t	since_midnight;
	} cases[] = {
		/* New year's eve: 23:59:59 and 00:30 CET. */
		{ 2022, 12, 31, 22, 59, 59, 2022, 12, 31, 86399 },
		{ 2022, 12, 31, 23, 30, 0, 2023, 1, 1, 1800 },
		/* Spring forward: 01:59:59 CET, then 03:00 CEST. */
		{ 2023, 3, 25, 22, 59, 59, 2023, 3, 25, 86399 },
		{ 2023, 3, 25, 23, 0, 0, 2023, 3, 26, 0 },
		{ 2023, 3, 26, 0, 59, 59, 2023, 3, 26, 7199 },
		{ 2023, 3, 26, 1, 0, 0, 2023, 3, 26, 7200 },
		{ 2023, 3, 26, 21, 59, 59, 2023, 3, 26, 82799 },
		{ 2023, 3, 26, 22, 0, 0, 2023, 3, 27, 0 },
		/* Fall back: 02:59:59 CEST, then 02:00 CET again. */
		{ 2023, 10, 28, 21, 59, 59, 2023, 10, 28, 86399 },
		{ 2023, 10, 28, 22, 0, 0, 2023, 10, 29, 0 },
		{ 2023, 10, 29, 0, 59, 59, 2023, 10, 29, 10799 },
		{ 2023, 10, 29, 1, 0, 0, 2023, 10, 29, 10800 },
		{ 2023, 10, 29, 22, 59, 59, 2023, 10, 29, 89999 },
		{ 2023, 10, 29, 23, 0, 0, 2023, 10, 30, 0 },
	};
	struct period p;
	int64_t t;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		t = utc(cases[i].y, cases[i].mon, cases[i].d, cases[i].h,
		    cases[i].min, cases[i].s);
		period_of(t, &p);
		assert_int_equal(p.year, cases[i].ly);
		assert_int_equal(p.mon, cases[i].lmon);
		assert_int_equal(p.mday, cases[i].ld);
		assert_int_equal(t - period_day_start(p.day),
		    cases[i].since_midnight);
	}
}

/* The local year ends before the UTC one: day, week and month follow. */
static void
test_year_boundary(void **state)
{
	char label[PERIOD_LABEL_MAX];
	struct period p;

	(void)state;
	period_of(utc(2022, 12, 31, 23, 30, 0), &p);
	assert_int_equal(p.year, 2023);
	assert_int_equal(p.mon, 1);
	assert_int_equal(p.mday, 1);
	assert_int_equal(p.wday, 7);
	assert_int_equal(p.iso_year, 2022);
	assert_int_equal(p.iso_week, 52);
	assert_int_equal(p.month, 2023 * 12);
	period_month_label(p.month, label);
	assert_string_equal(label, "2023-01");
	period_week_label(p.week, label);
	assert_string_equal(label, "2022-W52");
	assert_int_equal(period_month_start(p.month),
	    utc(2022, 12, 31, 23, 0, 0));
	assert_int_equal(period_week_start(p.week),
	    utc(2022, 12, 25, 23, 0, 0));
}

/* Starts of the weeks and days around the 2023 DST switches. */
static void
test_dst_starts(void **state)
{
	struct period p;

	(void)state;
	/* Sunday 2023-03-26 is in the week of Monday 2023-03-20 (CET). */
	period_of(utc(2023, 3, 26, 12, 0, 0), &p);
	assert_int_equal(period_week_start(p.week),
	    utc(2023, 3, 19, 23, 0, 0));
	assert_int_equal(period_week_start(p.week + 1) -
	    period_week_start(p.week), WEEK_S - HOUR_S);
	assert_int_equal(period_day_start(p.day), utc(2023, 3, 25, 23, 0, 0));
	assert_int_equal(period_day_start(p.day + 1) - period_day_start(p.day),
	    23 * HOUR_S);

	/* The next week starts at CEST midnight. */
	period_of(utc(2023, 3, 27, 12, 0, 0), &p);
	assert_int_equal(period_week_start(p.week),
	    utc(2023, 3, 26, 22, 0, 0));

	/* Sunday 2023-10-29 is in the week of Monday 2023-10-23 (CEST). */
	period_of(utc(2023, 10, 29, 12, 0, 0), &p);
	assert_int_equal(period_week_start(p.week),
	    utc(2023, 10, 22, 22, 0, 0));
	assert_int_equal(period_week_start(p.week + 1),
	    utc(2023, 10, 29, 23, 0, 0));
	assert_int_equal(period_week_start(p.week + 1) -
	    period_week_start(p.week), WEEK_S + HOUR_S);
	assert_int_equal(period_day_start(p.day + 1) - period_day_start(p.day),
	    25 * HOUR_S);

	/* Months starting in summer and winter time. */
	assert_int_equal(period_month_start(2023 * 12 + 3),
	    utc(2023, 3, 31, 22, 0, 0));
	assert_int_equal(period_month_start(2023 * 12 + 10),
	    utc(2023, 10, 31, 23, 0, 0));
}

/* Every 10 minutes through both 2023 DST weeks, against localtime_r. */
static void
test_dst_sweep(void **state)
{
	static const int64_t from[] = { 1679270400, 1698019200 };
	struct period p;
	int64_t t;
	size_t i;
	int y, mon, d;

	(void)state;
	/* from[] are 2023-03-20 and 2023-10-23, 00:00Z. */
	assert_int_equal(from[0], utc(2023, 3, 20, 0, 0, 0));
	assert_int_equal(from[1], utc(2023, 10, 23, 0, 0, 0));
	for (i = 0; i < sizeof from / sizeof from[0]; i++) {
		for (t = from[i]; t < from[i] + 2 * WEEK_S; t += 600) {
			period_of(t, &p);
			ref_date(t, &y, &mon, &d);
			assert_int_equal(p.year, y);
			assert_int_equal(p.mon, mon);
			assert_int_equal(p.mday, d);
			assert_true(period_day_start(p.day) <= t);
			assert_true(t < period_day_start(p.day + 1));
		}
	}
}

/*
 * Every ISO week from 2000-W01 to the last of 2040: labels round-trip,
 * starts are Mondays at local midnight, and weeks are 7 days long except
 * one short (March) and one long (October) week each year.
 */
static void
test_weeks_2000_2040(void **state)
{
	char label[PERIOD_LABEL_MAX], again[PERIOD_LABEL_MAX];
	struct period p;
	int32_t w, first, last, parsed;
	int64_t start, next, len;
	int shorter = 0, longer = 0;

	(void)state;
	assert_int_equal(period_parse_week("2000-W01", &first), 0);
	assert_int_equal(period_parse_week("2040-W52", &last), 0);
	assert_int_equal(period_parse_week("2040-W53", &parsed), -1);
	for (w = first; w <= last; w++) {
		period_week_label(w, label);
		assert_int_equal(period_parse_week(label, &parsed), 0);
		assert_int_equal(parsed, w);

		start = period_week_start(w);
		period_of(start, &p);
		assert_int_equal(p.week, w);
		assert_int_equal(p.wday, 1);
		assert_int_equal(period_day_start(p.day), start);
		snprintf(again, sizeof again, "%04d-W%02d", p.iso_year,
		    p.iso_week);
		assert_string_equal(again, label);
		period_of(start - 1, &p);
		assert_int_equal(p.week, w - 1);
		assert_int_equal(p.wday, 7);

		next = period_week_start(w + 1);
		len = next - start;
		if (len == WEEK_S - HOUR_S) {
			period_of(start, &p);
			assert_int_equal(p.mon, 3);
			shorter++;
		} else if (len == WEEK_S + HOUR_S) {
			period_of(start, &p);
			assert_int_equal(p.mon, 10);
			longer++;
		} else
			assert_int_equal(len, WEEK_S);
	}
	assert_int_equal(shorter, 41);
	assert_int_equal(longer, 41);
	period_week_label(first, label);
	assert_string_equal(label, "2000-W01");
	period_week_label(last, label);
	assert_string_equal(label, "2040-W52");
}

/* Every month 1970..2200: labels round-trip, starts are local midnights. */
static void
test_months(void **state)
{
	char label[PERIOD_LABEL_MAX];
	struct period p;
	int32_t m, parsed;
	int64_t start;

	(void)state;
	for (m = 1970 * 12; m < 2201 * 12; m++) {
		period_month_label(m, label);
		assert_int_equal(period_parse_month(label, &parsed), 0);
		assert_int_equal(parsed, m);
		start = period_month_start(m);
		period_of(start, &p);
		assert_int_equal(p.month, m);
		assert_int_equal(p.mday, 1);
		assert_int_equal(period_day_start(p.day), start);
		period_of(start - 1, &p);
		assert_int_equal(p.month, m - 1);
	}
	period_month_label(2023 * 12 + 3, label);
	assert_string_equal(label, "2023-04");
	period_month_label(1970 * 12, label);
	assert_string_equal(label, "1970-01");
	period_month_label(2200 * 12 + 11, label);
	assert_string_equal(label, "2200-12");
}

/* Strict week labels: two-digit weeks that exist in that ISO year. */
static void
test_parse_week(void **state)
{
	static const struct {
		const char	*s;
		int		 rc;
	} cases[] = {
		{ "2020-W53", 0 },
		{ "2026-W53", 0 },
		{ "2015-W53", 0 },
		{ "2009-W53", 0 },
		{ "2023-W01", 0 },
		{ "2023-W52", 0 },
		{ "1970-W01", 0 },
		{ "2023-W53", -1 },
		{ "2021-W53", -1 },
		{ "2010-W53", -1 },
		{ "2023-W54", -1 },
		{ "2023-W00", -1 },
		{ "2023-W1", -1 },
		{ "2023-W001", -1 },
		{ "2023-w01", -1 },
		{ "2023W01", -1 },
		{ "2023-01", -1 },
		{ "23-W01", -1 },
		{ "2O23-W01", -1 },
		{ "2023-W+1", -1 },
		{ "2023-W-1", -1 },
		{ " 2023-W01", -1 },
		{ "2023-W01 ", -1 },
		{ "2023-W01\n", -1 },
		{ "junk", -1 },
		{ "", -1 },
	};
	char label[PERIOD_LABEL_MAX];
	int32_t w;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		w = INT32_MIN;
		assert_int_equal(period_parse_week(cases[i].s, &w),
		    cases[i].rc);
		if (cases[i].rc == 0) {
			period_week_label(w, label);
			assert_string_equal(label, cases[i].s);
		} else
			assert_int_equal(w, INT32_MIN);
	}
}

/* Strict month labels; a failed parse leaves the output alone. */
static void
test_parse_month(void **state)
{
	static const struct {
		const char	*s;
		int		 rc;
		int32_t		 month;
	} cases[] = {
		{ "2023-04", 0, 2023 * 12 + 3 },
		{ "1970-01", 0, 1970 * 12 },
		{ "2023-12", 0, 2023 * 12 + 11 },
		{ "2023-13", -1, 0 },
		{ "2023-00", -1, 0 },
		{ "2023-4", -1, 0 },
		{ "2023-04-01", -1, 0 },
		{ "2023/04", -1, 0 },
		{ "2023-W04", -1, 0 },
		{ "abcd-01", -1, 0 },
		{ "2023-04 ", -1, 0 },
		{ "", -1, 0 },
	};
	int32_t m;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		m = INT32_MIN;
		assert_int_equal(period_parse_month(cases[i].s, &m),
		    cases[i].rc);
		assert_int_equal(m, cases[i].rc == 0 ? cases[i].month :
		    INT32_MIN);
	}
}

/*
 * A summer and a winter instant whose hours are 3840 apart (a multiple of
 * the cache size, 256, and of 24): they share a cache slot, and both are
 * at 22:30Z, where the offset decides the local date.
 */
static void
test_cache_alternation(void **state)
{
	int64_t summer = utc(2023, 7, 1, 22, 30, 0);
	int64_t winter = utc(2023, 12, 8, 22, 30, 0);
	struct period p;
	int i;

	(void)state;
	assert_int_equal(winter - summer, 3840 * HOUR_S);
	assert_int_equal((winter - summer) / HOUR_S % 256, 0);
	for (i = 0; i < 8; i++) {
		period_of(summer, &p);
		assert_int_equal(p.mon, 7);
		assert_int_equal(p.mday, 2);	/* 00:30 CEST */
		period_of(winter + (i % 2) * 60, &p);
		assert_int_equal(p.mon, 12);
		assert_int_equal(p.mday, 8);	/* 23:30 CET */
	}
	/* Switching zones drops what was cached under the old one. */
	period_init();
	period_of(summer, &p);
	assert_int_equal(p.mday, 2);
}

/*
 * A long irregular walk from 1900 to 2100, against localtime_r: catches
 * stale cache entries for any slot, and pre-1970 arithmetic.
 */
static void
test_sweep_reference(void **state)
{
	int64_t t, end = utc(2100, 1, 1, 0, 0, 0);
	struct period p;
	int y, mon, d;

	(void)state;
	for (t = utc(1900, 1, 1, 0, 0, 0); t < end; t += 86400 * 3 + 3607) {
		period_of(t, &p);
		ref_date(t, &y, &mon, &d);
		assert_int_equal(p.year, y);
		assert_int_equal(p.mon, mon);
		assert_int_equal(p.mday, d);
		assert_int_equal(p.week, period_week_of_day(p.day));
	}
}

/* Before 1970: negative days and weeks floor, they do not truncate. */
static void
test_pre_1970(void **state)
{
	struct period p;
	int64_t t = utc(1969, 12, 31, 23, 30, 0);

	(void)state;
	period_of(t, &p);	/* 00:30 CET on 1970-01-01 */
	assert_int_equal(p.day, 0);
	period_of(utc(1969, 12, 31, 22, 30, 0), &p);
	assert_int_equal(p.day, -1);
	assert_int_equal(p.week, 0);
	assert_int_equal(p.wday, 3);
	assert_int_equal(p.month, 1969 * 12 + 11);
	period_of(utc(1969, 12, 28, 12, 0, 0), &p);
	assert_int_equal(p.week, -1);
	assert_int_equal(p.wday, 7);
	assert_int_equal(period_week_start(-1), utc(1969, 12, 21, 23, 0, 0));
	assert_int_equal(period_week_start(0), utc(1969, 12, 28, 23, 0, 0));
	assert_int_equal(period_day_start(-1), utc(1969, 12, 30, 23, 0, 0));
}

/*
 * On 1900-01-01 Stockholm went from +01:00:14 to +01:00 at 22:59:46Z, in
 * the middle of an hour: an offset cached for that whole hour would put
 * 22:59:46Z..22:59:59Z on the wrong side of local midnight.
 */
static void
test_offset_change_within_hour(void **state)
{
	int64_t t, from = utc(1899, 12, 31, 22, 0, 0);
	struct period p;
	int y, mon, d;

	(void)state;
	/* Fill the cache slot from the start of the hour first. */
	period_of(from, &p);
	for (t = from; t < from + 2 * HOUR_S; t++) {
		period_of(t, &p);
		ref_date(t, &y, &mon, &d);
		assert_int_equal(p.year, y);
		assert_int_equal(p.mon, mon);
		assert_int_equal(p.mday, d);
	}
	period_of(utc(1899, 12, 31, 22, 59, 50), &p);
	assert_int_equal(p.year, 1899);
	assert_int_equal(p.mday, 31);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_iso_weeks),
		cmocka_unit_test(test_linear_numbers),
		cmocka_unit_test(test_local_time),
		cmocka_unit_test(test_year_boundary),
		cmocka_unit_test(test_dst_starts),
		cmocka_unit_test(test_dst_sweep),
		cmocka_unit_test(test_weeks_2000_2040),
		cmocka_unit_test(test_months),
		cmocka_unit_test(test_parse_week),
		cmocka_unit_test(test_parse_month),
		cmocka_unit_test(test_cache_alternation),
		cmocka_unit_test(test_sweep_reference),
		cmocka_unit_test(test_pre_1970),
		cmocka_unit_test(test_offset_change_within_hour),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
