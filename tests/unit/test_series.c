/*
 * Tests for the series rings: counting, the national sum, ring recycling,
 * sums, the office table, iteration, and checkpoint save/load.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "decision.h"
#include "series.h"
#include "test_rng.h"

#define NBENEFITS	3
#define WEEKS		10
#define MONTHS		4

static struct series_set *
new_set(int max_offices)
{
	return series_set_create(max_offices, NBENEFITS, WEEKS, MONTHS);
}

static void
assert_bucket_equal(const struct bucket *a, const struct bucket *b)
{
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(a->n, b->n);
	assert_int_equal(a->rejected, b->rejected);
	assert_int_equal(a->partial, b->partial);
	assert_int_equal(a->dismissed, b->dismissed);
	assert_float_equal(a->expected, b->expected, 1e-9);
	assert_float_equal(a->variance, b->variance, 1e-9);
}

/* Each outcome lands in the right counters; p only counts on the merits. */
static void
test_outcomes(void **state)
{
	static const struct {
		int		outcome;
		double		p;
		struct bucket	want;
	} cases[] = {
		{ OUTCOME_GRANTED, -1, { 1, 0, 0, 0, 0, 0 } },
		{ OUTCOME_REJECTED, -1, { 1, 1, 0, 0, 0, 0 } },
		{ OUTCOME_PARTIAL, -1, { 1, 0, 1, 0, 0, 0 } },
		{ OUTCOME_DISMISSED, -1, { 0, 0, 0, 1, 0, 0 } },
		{ OUTCOME_GRANTED, 0.25, { 1, 0, 0, 0, 0.25, 0.1875 } },
		{ OUTCOME_REJECTED, 0.5, { 1, 1, 0, 0, 0.5, 0.25 } },
		{ OUTCOME_PARTIAL, 0, { 1, 0, 1, 0, 0, 0 } },
		{ OUTCOME_DISMISSED, 0.5, { 0, 0, 0, 1, 0, 0 } },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct series_set *set = new_set(4);
		int o = series_office_index(set, "K001", true);
		const struct series *s;

		assert_int_equal(series_add(set, o, 1, DECISION_ONGOING, 100,
		    25, cases[i].outcome, cases[i].p), 0);
		s = series_get(set, o, 1, DECISION_ONGOING);
		assert_bucket_equal(series_week(s, 100), &cases[i].want);
		assert_bucket_equal(series_month(s, 25), &cases[i].want);
		s = series_get(set, SERIES_NATIONAL, 1, DECISION_ONGOING);
		assert_bucket_equal(series_week(s, 100), &cases[i].want);
		assert_bucket_equal(series_month(s, 25), &cases[i].want);
		assert_null(series_get(set, o, 0, DECISION_ONGOING));
		assert_null(series_get(set, o, 1, DECISION_FIRST));
		series_set_free(set);
	}
}

/* Bad arguments are refused and count nothing. */
static void
test_add_refused(void **state)
{
	struct series_set *set = new_set(4);
	int o = series_office_index(set, "K001", true);

	(void)state;
	assert_int_equal(series_add(set, SERIES_NATIONAL, 0, 0, 1, 1, 0, -1),
	    -1);
	assert_int_equal(series_add(set, o + 1, 0, 0, 1, 1, 0, -1), -1);
	assert_int_equal(series_add(set, o, NBENEFITS, 0, 1, 1, 0, -1), -1);
	assert_int_equal(series_add(set, o, -1, 0, 1, 1, 0, -1), -1);
	assert_int_equal(series_add(set, o, 0, DECISION_NKINDS, 1, 1, 0, -1),
	    -1);
	assert_int_equal(series_add(set, o, 0, 0, 1, 1, 4, -1), -1);
	assert_int_equal(series_add(set, o, 0, 0, INT32_MIN, 1, 0, -1), -1);
	assert_int_equal(series_count(set), 0);
	assert_null(series_first(set));
	series_set_free(set);
}

/* The national series is the sum over all offices, bucket by bucket. */
static void
test_national_sum(void **state)
{
	struct series_set *set = new_set(8);
	const struct series *s;
	struct bucket sum, nat;
	int32_t w;
	int i, o;

	(void)state;
	srand(7);
	for (i = 0; i < 5000; i++) {
		char name[16];

		snprintf(name, sizeof name, "K%03d", rand() % 8);
		o = series_office_index(set, name, true);
		assert_int_equal(series_add(set, o, 2, DECISION_FIRST,
		    200 + rand() % WEEKS, 50 + rand() % MONTHS, rand() % 4,
		    (rand() % 100) / 100.0), 0);
	}
	assert_int_equal(series_office_count(set), 8);
	for (w = 200; w < 200 + WEEKS; w++) {
		memset(&sum, 0, sizeof sum);
		for (o = 0; o < 8; o++) {
			const struct bucket *b;

			s = series_get(set, o, 2, DECISION_FIRST);
			if ((b = series_week(s, w)) == NULL)
				continue;
			sum.n += b->n;
			sum.rejected += b->rejected;
			sum.partial += b->partial;
			sum.dismissed += b->dismissed;
			sum.expected += b->expected;
			sum.variance += b->variance;
		}
		s = series_get(set, SERIES_NATIONAL, 2, DECISION_FIRST);
		assert_bucket_equal(series_week(s, w), &sum);
	}
	s = series_get(set, SERIES_NATIONAL, 2, DECISION_FIRST);
	series_total(s, &nat);
	assert_int_equal(nat.n + nat.dismissed, 5000);
	series_set_free(set);
}

/* Moving past the ring recycles old slots; too-old weeks change nothing. */
static void
test_ring_wrap(void **state)
{
	struct series_set *set = new_set(4);
	int a = series_office_index(set, "A", true);
	int b = series_office_index(set, "B", true);
	const struct series *sa, *sb, *sn;
	struct bucket before_b, before_n, after;

	(void)state;
	assert_int_equal(series_add(set, a, 0, 0, 50, 10, OUTCOME_REJECTED,
	    -1), 0);
	assert_int_equal(series_add(set, b, 0, 0, 50, 10, OUTCOME_GRANTED,
	    -1), 0);
	sa = series_get(set, a, 0, 0);
	sb = series_get(set, b, 0, 0);
	sn = series_get(set, SERIES_NATIONAL, 0, 0);
	assert_non_null(series_week(sa, 50));

	/* Week 50 + WEEKS uses week 50's slot: it starts from zero. */
	assert_int_equal(series_add(set, a, 0, 0, 50 + WEEKS, 10,
	    OUTCOME_GRANTED, -1), 0);
	assert_null(series_week(sa, 50));
	assert_null(series_week(sn, 50));
	assert_int_equal(series_week(sa, 50 + WEEKS)->n, 1);
	assert_int_equal(series_week(sa, 50 + WEEKS)->rejected, 0);
	assert_int_equal(series_last_week(sa), 50 + WEEKS);
	assert_int_equal(series_first_week(sa), 50 + WEEKS);
	/* B never moved on, but national did: B's add must be refused. */
	series_total(sb, &before_b);
	series_total(sn, &before_n);
	assert_int_equal(series_add(set, b, 0, 0, 50, 10, OUTCOME_GRANTED,
	    -1), -1);
	series_total(sb, &after);
	assert_bucket_equal(&after, &before_b);
	series_total(sn, &after);
	assert_bucket_equal(&after, &before_n);
	assert_int_equal(series_week(sb, 50)->n, 1);

	/* The oldest week still in the ring is accepted. */
	assert_int_equal(series_add(set, b, 0, 0, 51, 10, OUTCOME_GRANTED,
	    -1), 0);
	assert_int_equal(series_first_week(sn), 51);

	/* Skipping past a slot still frees it, though nothing reused it. */
	assert_int_equal(series_add(set, b, 1, 0, 50, 10, OUTCOME_GRANTED,
	    -1), 0);
	assert_int_equal(series_add(set, b, 1, 0, 50 + WEEKS + 3, 10,
	    OUTCOME_GRANTED, -1), 0);
	sb = series_get(set, b, 1, 0);
	assert_null(series_week(sb, 50));
	assert_int_equal(series_first_week(sb), 50 + WEEKS + 3);
	series_total(sb, &after);
	assert_int_equal(after.n, 1);

	/* A far jump clears everything older. */
	assert_int_equal(series_add(set, a, 0, 0, 1000, 10, OUTCOME_GRANTED,
	    -1), 0);
	series_total(sa, &after);
	assert_int_equal(after.n, 1);
	assert_null(series_week(sa, 50 + WEEKS));
	series_set_free(set);
}

/* Months have their own ring, and a too-old month refuses the add too. */
static void
test_months(void **state)
{
	struct series_set *set = new_set(2);
	int o = series_office_index(set, "K1", true);
	const struct series *s;

	(void)state;
	assert_int_equal(series_add(set, o, 0, 1, 100, 24, 1, -1), 0);
	assert_int_equal(series_add(set, o, 0, 1, 101, 24, 1, -1), 0);
	assert_int_equal(series_add(set, o, 0, 1, 102, 25, 0, -1), 0);
	s = series_get(set, o, 0, 1);
	assert_int_equal(series_month(s, 24)->n, 2);
	assert_int_equal(series_month(s, 24)->rejected, 2);
	assert_int_equal(series_month(s, 25)->n, 1);
	assert_int_equal(series_first_month(s), 24);
	assert_int_equal(series_last_month(s), 25);
	assert_null(series_month(s, 23));

	assert_int_equal(series_add(set, o, 0, 1, 103, 24 + MONTHS, 0, -1), 0);
	assert_null(series_month(s, 24));
	assert_int_equal(series_first_month(s), 25);
	/* Week 103 is fine, but month 24 is gone: refused as a whole. */
	assert_int_equal(series_add(set, o, 0, 1, 103, 24, 0, -1), -1);
	assert_int_equal(series_week(s, 103)->n, 1);
	series_set_free(set);
}

/* Sums skip missing weeks and clip to what the ring holds. */
static void
test_sums(void **state)
{
	static const struct {
		int32_t	last;
		int	count;
		int	want;
	} cases[] = {
		{ 109, 10, 1 + 3 + 7 + 9 },
		{ 109, 1, 9 },
		{ 108, 1, 0 },
		{ 107, 5, 3 + 7 },
		{ 105, 3, 3 },
		{ 103, 2, 1 },
		{ 99, 50, 0 },
		{ 200, 100, 1 + 3 + 7 + 9 },
		{ 109, 0, 0 },
		{ 109, -3, 0 },
	};
	static const struct {
		int32_t	week;
		int	n;
	} adds[] = { { 102, 1 }, { 104, 3 }, { 107, 7 }, { 109, 9 } };
	struct series_set *set = new_set(2);
	int o = series_office_index(set, "K1", true);
	const struct series *s;
	struct bucket out;
	size_t i;
	int j;

	(void)state;
	for (i = 0; i < sizeof adds / sizeof adds[0]; i++) {
		for (j = 0; j < adds[i].n; j++)
			assert_int_equal(series_add(set, o, 0, 0,
			    adds[i].week, 20, OUTCOME_REJECTED, 0.5), 0);
	}
	s = series_get(set, o, 0, 0);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		series_sum_weeks(s, cases[i].last, cases[i].count, &out);
		assert_int_equal(out.n, cases[i].want);
		assert_int_equal(out.rejected, cases[i].want);
		assert_float_equal(out.expected, cases[i].want * 0.5, 1e-9);
	}
	series_total(s, &out);
	assert_int_equal(out.n, 20);
	assert_float_equal(out.variance, 20 * 0.25, 1e-9);
	assert_int_equal(series_first_week(s), 102);
	assert_int_equal(series_last_week(s), 109);
	series_sum_weeks(NULL, 109, 10, &out);
	assert_int_equal(out.n, 0);
	series_set_free(set);
}

/* Names map to indices in order, national is special, the table fills. */
static void
test_offices(void **state)
{
	static const char *names[] = { "K001", "K002", "a.b-c_d", "x",
	    "12345678901234567890123456789012" };
	struct series_set *set = new_set(5);
	char name[64];
	size_t i;
	int k;

	(void)state;
	assert_int_equal(series_office_count(set), 0);
	assert_false(series_office_valid(set,
	    series_office_index(set, "K001", false)));
	assert_int_equal(series_office_count(set), 0);
	for (i = 0; i < 5; i++)
		assert_int_equal(series_office_index(set, names[i], true),
		    (int)i);
	for (i = 0; i < 5; i++) {
		assert_int_equal(series_office_index(set, names[i], false),
		    (int)i);
		assert_int_equal(series_office_index(set, names[i], true),
		    (int)i);
		assert_string_equal(series_office_name(set, (int)i), names[i]);
		assert_true(series_office_valid(set, (int)i));
	}
	assert_int_equal(series_office_count(set), 5);

	/* Full: a new name gets an index that is not valid, nor national. */
	k = series_office_index(set, "K999", true);
	assert_false(series_office_valid(set, k));
	assert_int_not_equal(k, SERIES_NATIONAL);
	assert_null(series_office_name(set, k));
	assert_int_equal(series_office_count(set), 5);

	assert_int_equal(series_office_index(set, "national", true),
	    SERIES_NATIONAL);
	assert_true(series_office_valid(set, SERIES_NATIONAL));
	assert_string_equal(series_office_name(set, SERIES_NATIONAL),
	    "national");
	assert_false(series_office_valid(set, 5));
	assert_false(series_office_valid(set, -2));
	series_set_free(set);

	/* Bad names never take a slot. */
	set = new_set(5);
	memset(name, 'a', 33);
	name[33] = '\0';
	assert_false(series_office_valid(set,
	    series_office_index(set, name, true)));
	assert_false(series_office_valid(set,
	    series_office_index(set, "", true)));
	assert_int_equal(series_office_count(set), 0);
	series_set_free(set);
}

/* Many offices: every name finds its own index again. */
static void
test_many_offices(void **state)
{
	struct series_set *set = series_set_create(3000, 1, 2, 2);
	char name[16];
	int i;

	(void)state;
	for (i = 0; i < 3000; i++) {
		snprintf(name, sizeof name, "O%d", i * 7919);
		assert_int_equal(series_office_index(set, name, true), i);
	}
	for (i = 2999; i >= 0; i--) {
		snprintf(name, sizeof name, "O%d", i * 7919);
		assert_int_equal(series_office_index(set, name, false), i);
	}
	assert_false(series_office_valid(set,
	    series_office_index(set, "O1", false)));
	series_set_free(set);
}

/* National first, then offices, benefits and kinds in order. */
static void
test_iteration(void **state)
{
	static const int adds[][3] = {
		{ 2, 1, 0 }, { 0, 2, 1 }, { 1, 0, 1 }, { 0, 0, 0 },
		{ 2, 1, 0 }, { 1, 0, 0 },
	};
	static const int want[][3] = {
		{ -1, 0, 0 }, { -1, 0, 1 }, { -1, 1, 0 }, { -1, 2, 1 },
		{ 0, 0, 0 }, { 0, 2, 1 }, { 1, 0, 0 }, { 1, 0, 1 },
		{ 2, 1, 0 },
	};
	struct series_set *set = new_set(3);
	const struct series *s;
	size_t i;

	(void)state;
	series_office_index(set, "A", true);
	series_office_index(set, "B", true);
	series_office_index(set, "C", true);
	for (i = 0; i < sizeof adds / sizeof adds[0]; i++)
		assert_int_equal(series_add(set, adds[i][0], adds[i][1],
		    adds[i][2], 10, 3, OUTCOME_GRANTED, -1), 0);
	assert_int_equal(series_count(set), 9);
	i = 0;
	for (s = series_first(set); s != NULL; s = series_next(set, s)) {
		assert_true(i < sizeof want / sizeof want[0]);
		assert_int_equal(series_office(s), want[i][0]);
		assert_int_equal(series_benefit(s), want[i][1]);
		assert_int_equal(series_kind(s), want[i][2]);
		i++;
	}
	assert_int_equal(i, sizeof want / sizeof want[0]);
	series_set_free(set);
}

/* Memory grows on first use of a series, not on later adds. */
static void
test_memory(void **state)
{
	struct series_set *set = new_set(4);
	int o = series_office_index(set, "A", true);
	uint64_t m0, m1, m2;

	(void)state;
	m0 = series_set_memory(set);
	assert_true(m0 > 0);
	assert_int_equal(series_add(set, o, 0, 0, 1, 1, 0, -1), 0);
	m1 = series_set_memory(set);
	/* Two series (office and national), each with both rings. */
	assert_true(m1 >= m0 + 2 * (WEEKS + MONTHS) * sizeof (struct bucket));
	assert_int_equal(series_add(set, o, 0, 0, 2, 1, 0, -1), 0);
	assert_int_equal(series_set_memory(set), m1);
	assert_int_equal(series_add(set, o, 1, 0, 2, 1, 0, -1), 0);
	m2 = series_set_memory(set);
	assert_int_equal(m2 - m1, m1 - m0);
	series_set_free(set);
}

/* A set with a bit of everything, for save/load. */
static struct series_set *
filled_set(int offices, int weeks, int months)
{
	struct series_set *set;
	char name[16];
	int i, o;

	set = series_set_create(offices, NBENEFITS, weeks, months);
	srand(11);
	for (i = 0; i < 3000; i++) {
		snprintf(name, sizeof name, "K%d", rand() % offices);
		o = series_office_index(set, name, true);
		/* Weeks 0..29 rising with i, so rings of any size wrap. */
		series_add(set, o, rand() % NBENEFITS, rand() % 2,
		    i / 100 - rand() % 3, (i / 100) / 4, rand() % 4,
		    rand() % 3 == 0 ? -1 : (rand() % 1000) / 1000.0);
	}
	return set;
}

static void
save(const struct series_set *set, struct buf *b)
{
	buf_init(b);
	series_set_save(set, b);
}

/* Every bucket of a equals that of b; with drop, b may miss old ones. */
static void
assert_sets_equal(const struct series_set *a, const struct series_set *b)
{
	const struct series *sa, *sb;
	int32_t p;
	int i;

	assert_int_equal(series_office_count(a), series_office_count(b));
	for (i = 0; i < series_office_count(a); i++)
		assert_string_equal(series_office_name(a, i),
		    series_office_name(b, i));
	assert_int_equal(series_count(a), series_count(b));
	for (sa = series_first(a), sb = series_first(b); sa != NULL;
	    sa = series_next(a, sa), sb = series_next(b, sb)) {
		assert_non_null(sb);
		assert_int_equal(series_indicator(sa), series_indicator(sb));
		assert_int_equal(series_office(sa), series_office(sb));
		assert_int_equal(series_benefit(sa), series_benefit(sb));
		assert_int_equal(series_kind(sa), series_kind(sb));
		assert_int_equal(series_last_week(sa), series_last_week(sb));
		assert_int_equal(series_first_week(sa), series_first_week(sb));
		assert_int_equal(series_last_month(sa), series_last_month(sb));
		for (p = series_last_week(sa) - 100;
		    p <= series_last_week(sa); p++) {
			if (series_week(sa, p) == NULL)
				assert_null(series_week(sb, p));
			else
				assert_bucket_equal(series_week(sa, p),
				    series_week(sb, p));
		}
		for (p = series_last_month(sa) - 30;
		    p <= series_last_month(sa); p++) {
			if (series_month(sa, p) == NULL)
				assert_null(series_month(sb, p));
			else
				assert_bucket_equal(series_month(sa, p),
				    series_month(sb, p));
		}
	}
	assert_null(sb);
}

static void
test_save_load(void **state)
{
	struct series_set *a = filled_set(6, WEEKS, MONTHS), *b;
	struct buf out, again;
	struct buf_reader r;
	char *cause = NULL;

	(void)state;
	assert_true(series_count(a) > 10);
	save(a, &out);
	b = series_set_create(6, NBENEFITS, WEEKS, MONTHS);
	buf_reader_init(&r, out.data, out.len);
	assert_int_equal(series_set_load(b, &r, &cause), 0);
	assert_null(cause);
	assert_int_equal(r.left, 0);
	assert_sets_equal(a, b);
	/* The same state saves to the same bytes. */
	save(b, &again);
	assert_int_equal(again.len, out.len);
	assert_memory_equal(again.data, out.data, out.len);
	/* Loading twice into one set is refused. */
	buf_reader_init(&r, out.data, out.len);
	assert_int_equal(series_set_load(b, &r, &cause), -1);
	assert_non_null(cause);
	free(cause);
	buf_free(&again);
	series_set_free(b);

	/* A bigger ring holds the same. */
	b = series_set_create(10, NBENEFITS, 3 * WEEKS, 3 * MONTHS);
	buf_reader_init(&r, out.data, out.len);
	assert_int_equal(series_set_load(b, &r, &cause), 0);
	assert_sets_equal(a, b);
	series_set_free(b);

	/* Too few office slots is an error, and leaves the set empty. */
	b = series_set_create(5, NBENEFITS, WEEKS, MONTHS);
	buf_reader_init(&r, out.data, out.len);
	cause = NULL;
	assert_int_equal(series_set_load(b, &r, &cause), -1);
	assert_non_null(cause);
	free(cause);
	assert_int_equal(series_office_count(b), 0);
	assert_int_equal(series_count(b), 0);
	series_set_free(b);

	buf_free(&out);
	series_set_free(a);
}

/* A smaller ring keeps each series' newest periods and drops the rest. */
static void
test_load_smaller(void **state)
{
	struct series_set *a = filled_set(4, WEEKS, MONTHS), *b;
	const struct series *sa, *sb;
	struct buf out;
	struct buf_reader r;
	char *cause = NULL;
	int32_t p;
	int kept = 0, dropped = 0;

	(void)state;
	save(a, &out);
	b = series_set_create(4, NBENEFITS, 4, 2);
	buf_reader_init(&r, out.data, out.len);
	assert_int_equal(series_set_load(b, &r, &cause), 0);
	assert_int_equal(series_count(a), series_count(b));
	for (sa = series_first(a), sb = series_first(b); sa != NULL;
	    sa = series_next(a, sa), sb = series_next(b, sb)) {
		int32_t last = series_last_week(sa);

		assert_int_equal(series_last_week(sb), last);
		for (p = last - WEEKS; p <= last; p++) {
			if (series_week(sa, p) == NULL) {
				assert_null(series_week(sb, p));
			} else if (p > last - 4) {
				assert_bucket_equal(series_week(sa, p),
				    series_week(sb, p));
				kept++;
			} else {
				assert_null(series_week(sb, p));
				dropped++;
			}
		}
		assert_non_null(series_month(sb, series_last_month(sa)));
		assert_null(series_month(sb, series_last_month(sa) - 2));
	}
	assert_true(kept > 0);
	assert_true(dropped > 0);
	/* The smaller set goes on counting from where it was. */
	sb = series_get(b, 0, 0, 0);
	assert_non_null(sb);
	assert_int_equal(series_add(b, 0, 0, 0, series_last_week(sb) - 4,
	    series_last_month(sb), 0, -1), -1);
	assert_int_equal(series_add(b, 0, 0, 0, series_last_week(sb) + 1,
	    series_last_month(sb), 0, -1), 0);
	buf_free(&out);
	series_set_free(b);
	series_set_free(a);
}

/*
 * The indicator is the outermost index: each indicator's series are apart,
 * listed after the previous indicator's, national first, and indicator 0
 * is what a set without indicators holds.
 */
static void
test_indicators(void **state)
{
	static const int adds[][4] = {	/* ind, office, benefit, kind */
		{ 2, 1, 0, 1 }, { 0, 0, 1, 0 }, { 1, 0, 0, 0 }, { 2, 0, 2, 1 },
		{ 0, 1, 0, 0 },
	};
	static const int want[][4] = {
		{ 0, -1, 0, 0 }, { 0, -1, 1, 0 }, { 0, 0, 1, 0 },
		{ 0, 1, 0, 0 },
		{ 1, -1, 0, 0 }, { 1, 0, 0, 0 },
		{ 2, -1, 0, 1 }, { 2, -1, 2, 1 }, { 2, 0, 2, 1 },
		{ 2, 1, 0, 1 },
	};
	struct series_set *set, *one;
	const struct series *s, *t;
	const struct bucket *b;
	size_t i;

	(void)state;
	set = series_set_create_n(3, 3, NBENEFITS, WEEKS, MONTHS);
	one = new_set(3);
	assert_int_equal(series_set_indicators(set), 3);
	assert_int_equal(series_set_indicators(one), 1);
	series_office_index(set, "A", true);
	series_office_index(set, "B", true);
	series_office_index(one, "A", true);
	series_office_index(one, "B", true);
	for (i = 0; i < sizeof adds / sizeof adds[0]; i++) {
		assert_int_equal(series_add_in(set, adds[i][0], adds[i][1],
		    adds[i][2], adds[i][3], 10, 3, OUTCOME_REJECTED, 0.5), 0);
		if (adds[i][0] == 0)
			assert_int_equal(series_add(one, adds[i][1],
			    adds[i][2], adds[i][3], 10, 3, OUTCOME_REJECTED,
			    0.5), 0);
	}
	assert_int_equal(series_count(set), 10);
	assert_int_equal(series_count_in(set, 0), 4);
	assert_int_equal(series_count_in(set, 1), 2);
	assert_int_equal(series_count_in(set, 2), 4);
	assert_int_equal(series_count_in(set, 3), 0);
	assert_int_equal(series_count_in(set, -1), 0);
	i = 0;
	t = series_first(one);
	for (s = series_first(set); s != NULL; s = series_next(set, s)) {
		assert_true(i < sizeof want / sizeof want[0]);
		assert_int_equal(series_indicator(s), want[i][0]);
		assert_int_equal(series_office(s), want[i][1]);
		assert_int_equal(series_benefit(s), want[i][2]);
		assert_int_equal(series_kind(s), want[i][3]);
		assert_ptr_equal(series_get_in(set, want[i][0], want[i][1],
		    want[i][2], want[i][3]), s);
		/* Indicator 0 lists as the set without indicators does. */
		if (want[i][0] == 0) {
			assert_non_null(t);
			assert_int_equal(series_office(t), series_office(s));
			assert_int_equal(series_benefit(t), series_benefit(s));
			assert_int_equal(series_kind(t), series_kind(s));
			t = series_next(one, t);
		}
		i++;
	}
	assert_int_equal(i, sizeof want / sizeof want[0]);
	assert_null(t);

	/* Counts of one indicator are not in another's series. */
	assert_null(series_get_in(set, 1, 0, 1, 0));
	assert_ptr_equal(series_get(set, 0, 1, 0),
	    series_get_in(set, 0, 0, 1, 0));
	b = series_week(series_get_in(set, 2, SERIES_NATIONAL, 0, 1), 10);
	assert_non_null(b);
	assert_int_equal(b->n, 1);
	assert_null(series_get(set, SERIES_NATIONAL, 0, 1));
	assert_int_equal(series_add_in(set, 1, 0, 0, 0, 10, 3,
	    OUTCOME_GRANTED, -1), 0);
	b = series_week(series_get_in(set, 1, 0, 0, 0), 10);
	assert_int_equal(b->n, 2);
	assert_int_equal(b->rejected, 1);
	assert_null(series_get(set, 0, 0, 0));

	/* Indicators outside the set are refused. */
	assert_int_equal(series_add_in(set, 3, 0, 0, 0, 10, 3,
	    OUTCOME_GRANTED, -1), -1);
	assert_int_equal(series_add_in(set, -1, 0, 0, 0, 10, 3,
	    OUTCOME_GRANTED, -1), -1);
	assert_true(series_refuses_in(set, 3, 0, 0, 0, 10, 3));
	assert_true(series_refuses_in(set, -1, 0, 0, 0, 10, 3));
	assert_null(series_get_in(set, 3, SERIES_NATIONAL, 0, 0));
	assert_int_equal(series_add_in(one, 1, 0, 0, 0, 10, 3,
	    OUTCOME_GRANTED, -1), -1);
	assert_int_equal(series_count(set), 10);
	series_set_free(one);
	series_set_free(set);
}

/*
 * series_refuses_in says what series_add_in would do, per indicator: a
 * week too old for one indicator's office or national series is refused
 * there and not in another indicator, so a caller can check all first.
 */
/*
 * The first week and month held, kept as counts arrive, against a search
 * of every period the ring can hold: random adds that move the rings on
 * by one, by a few and past their size, late ones near the oldest, and
 * refused ones too old.
 */
static void
test_first_tracked(void **state)
{
	struct series_set *set = new_set(4);
	const struct series *s;
	struct rng r;
	int32_t week = 300, w, want, p;
	int o, i, step, checked = 0;

	(void)state;
	rng_seed(&r, 23);
	o = series_office_index(set, "K1", true);
	for (i = 0; i < 20000; i++) {
		step = (int)(rng_next(&r) % 100);
		if (step < 5)
			week += 1 + (int)(rng_next(&r) % (2 * WEEKS));
		else if (step < 40)
			week += (int)(rng_next(&r) % 2);
		w = week - (int32_t)(rng_next(&r) % (WEEKS + 2));
		(void)series_add(set, o, 0, (int)(rng_next(&r) % 2), w, w / 4,
		    OUTCOME_GRANTED, -1);
		s = series_get(set, o, 0, 0);
		if (s == NULL)
			continue;
		want = INT32_MIN;
		for (p = series_last_week(s) - WEEKS + 1;
		    p <= series_last_week(s); p++)
			if (series_week(s, p) != NULL) {
				want = p;
				break;
			}
		assert_int_equal(series_first_week(s), want);
		want = INT32_MIN;
		for (p = series_last_month(s) - MONTHS + 1;
		    p <= series_last_month(s); p++)
			if (series_month(s, p) != NULL) {
				want = p;
				break;
			}
		assert_int_equal(series_first_month(s), want);
		checked++;
	}
	assert_true(checked > 19000);
	series_set_free(set);
}

/*
 * series_firsts_changed: while it stays, no series was added and no
 * series' first week moved earlier, so a reader (the monitor's week
 * close) need not look at them again. Two indicators and two offices, so
 * that national and office series differ; adds out of order, late ones
 * near the oldest week a ring holds, and refused ones.
 */
#define FT_SLOTS	64

static void
test_firsts_changed(void **state)
{
	struct series_set *set = series_set_create_n(2, 4, NBENEFITS, WEEKS,
	    MONTHS);
	const struct series *s;
	struct rng r;
	int32_t week = 300, w, first[FT_SLOTS];
	uint64_t before;
	int office[2], i, j, n, nbefore = 0, same = 0, moved = 0, earlier;

	(void)state;
	rng_seed(&r, 29);
	office[0] = series_office_index(set, "K1", true);
	office[1] = series_office_index(set, "K2", true);
	for (j = 0; j < FT_SLOTS; j++)
		first[j] = INT32_MAX;
	for (i = 0; i < 20000; i++) {
		if (rng_next(&r) % 100 < 20)
			week += (int)(rng_next(&r) % 3);
		w = week - (int32_t)(rng_next(&r) % (WEEKS + 2));
		before = series_firsts_changed(set);
		(void)series_add_in(set, (int)(rng_next(&r) % 2),
		    office[rng_next(&r) % 2], 0, (int)(rng_next(&r) % 2), w,
		    w / 4, OUTCOME_GRANTED, -1);
		n = 0;
		earlier = 0;
		for (s = series_first(set); s != NULL; s = series_next(set, s)) {
			assert_true(n < FT_SLOTS);
			if (series_first_week(s) < first[n])
				earlier = 1;
			first[n++] = series_first_week(s);
		}
		if (series_firsts_changed(set) == before) {
			/* Unchanged: the same series, none earlier. */
			assert_int_equal(n, nbefore);
			assert_false(earlier);
			same++;
		} else
			moved++;
		nbefore = n;
	}
	/* Both happen often: most adds move nothing, late ones do. */
	assert_true(same > 10000);
	assert_true(moved > 500);
	series_set_free(set);
}

static void
test_refuses_in(void **state)
{
	struct series_set *set;
	bool refused;
	int ind;

	(void)state;
	set = series_set_create_n(2, 3, NBENEFITS, WEEKS, MONTHS);
	series_office_index(set, "A", true);
	series_office_index(set, "B", true);
	assert_int_equal(series_add_in(set, 0, 0, 0, 0, 5, 1,
	    OUTCOME_GRANTED, -1), 0);
	/* Indicator 1's national moves 2 rings on through office A. */
	assert_int_equal(series_add_in(set, 1, 0, 0, 0, 5 + 2 * WEEKS, 1,
	    OUTCOME_GRANTED, -1), 0);
	assert_false(series_refuses_in(set, 0, 0, 0, 0, 5, 1));
	assert_false(series_refuses_in(set, 0, 1, 0, 0, 5, 1));
	assert_true(series_refuses_in(set, 1, 0, 0, 0, 5, 1));
	/* B of indicator 1 is new, but its national refuses. */
	assert_null(series_get_in(set, 1, 1, 0, 0));
	assert_true(series_refuses_in(set, 1, 1, 0, 0, 5, 1));
	assert_int_equal(series_add_in(set, 1, 1, 0, 0, 5, 1,
	    OUTCOME_GRANTED, -1), -1);
	/* Refused adds create nothing. */
	assert_null(series_get_in(set, 1, 1, 0, 0));
	/* Another benefit of indicator 1 has its own national. */
	assert_false(series_refuses_in(set, 1, 1, 1, 0, 5, 1));
	for (ind = 0; ind < 2; ind++) {
		refused = series_refuses_in(set, ind, 1, 0, 0, 6, 1);
		assert_int_equal(series_add_in(set, ind, 1, 0, 0, 6, 1,
		    OUTCOME_GRANTED, -1), refused ? -1 : 0);
	}
	series_set_free(set);
}

/* Save and load of several indicators; a set with fewer refuses. */
static void
test_save_load_indicators(void **state)
{
	struct series_set *a, *b;
	struct buf out, again;
	struct buf_reader r;
	char *cause = NULL;
	char name[16];
	int i, o;

	(void)state;
	a = series_set_create_n(3, 5, NBENEFITS, WEEKS, MONTHS);
	srand(7);
	for (i = 0; i < 2000; i++) {
		snprintf(name, sizeof name, "K%d", rand() % 5);
		o = series_office_index(a, name, true);
		series_add_in(a, rand() % 3, o, rand() % NBENEFITS, rand() % 2,
		    i / 100, (i / 100) / 4, rand() % 4,
		    rand() % 2 == 0 ? -1 : (rand() % 1000) / 1000.0);
	}
	assert_true(series_count_in(a, 1) > 10);
	assert_true(series_count_in(a, 2) > 10);
	save(a, &out);

	b = series_set_create_n(3, 5, NBENEFITS, WEEKS, MONTHS);
	buf_reader_init(&r, out.data, out.len);
	assert_int_equal(series_set_load(b, &r, &cause), 0);
	assert_int_equal(r.left, 0);
	assert_sets_equal(a, b);
	for (i = 0; i < 3; i++)
		assert_int_equal(series_count_in(a, i), series_count_in(b, i));
	save(b, &again);
	assert_int_equal(again.len, out.len);
	assert_memory_equal(again.data, out.data, out.len);
	buf_free(&again);
	series_set_free(b);

	/* An indicator appended since: loads, and holds nothing yet. */
	b = series_set_create_n(4, 5, NBENEFITS, WEEKS, MONTHS);
	buf_reader_init(&r, out.data, out.len);
	assert_int_equal(series_set_load(b, &r, &cause), 0);
	assert_sets_equal(a, b);
	assert_int_equal(series_count_in(b, 3), 0);
	series_set_free(b);

	/* Fewer indicators than saved: refused, and the set left empty. */
	b = series_set_create_n(2, 5, NBENEFITS, WEEKS, MONTHS);
	buf_reader_init(&r, out.data, out.len);
	assert_int_equal(series_set_load(b, &r, &cause), -1);
	assert_non_null(cause);
	free(cause);
	assert_int_equal(series_count(b), 0);
	assert_int_equal(series_office_count(b), 0);
	series_set_free(b);

	buf_free(&out);
	series_set_free(a);
}

/* One v1 ring: a single bucket. */
static void
put_v1_ring(struct buf *b, int32_t period, uint32_t n, uint32_t rejected)
{
	buf_put_u32(b, 1);
	buf_put_u32(b, (uint32_t)period);
	buf_put_u32(b, n);
	buf_put_u32(b, rejected);
	buf_put_u32(b, 0);
	buf_put_u32(b, 1);
	buf_put_double(b, 0.25);
	buf_put_double(b, 0.125);
}

/* A version 1 image (before indicators) loads as indicator 0. */
static void
test_load_v1(void **state)
{
	struct series_set *b, *c;
	const struct series *s;
	const struct bucket *bk;
	struct buf v1, out;
	struct buf_reader r;
	char *cause = NULL;

	(void)state;
	buf_init(&v1);
	buf_put_u32(&v1, 1);		/* version */
	buf_put_u32(&v1, 1);		/* offices */
	buf_put_str(&v1, "K1");
	buf_put_u32(&v1, 2);		/* series */
	buf_put_u32(&v1, 0xffffffffU);	/* national */
	buf_put_u32(&v1, 1);
	buf_put_u32(&v1, 0);
	put_v1_ring(&v1, 40, 7, 3);
	put_v1_ring(&v1, 9, 7, 3);
	buf_put_u32(&v1, 0);		/* K1 */
	buf_put_u32(&v1, 1);
	buf_put_u32(&v1, 0);
	put_v1_ring(&v1, 40, 7, 3);
	put_v1_ring(&v1, 9, 7, 3);

	b = series_set_create_n(2, 3, NBENEFITS, WEEKS, MONTHS);
	buf_reader_init(&r, v1.data, v1.len);
	assert_int_equal(series_set_load(b, &r, &cause), 0);
	assert_int_equal(r.left, 0);
	assert_int_equal(series_count_in(b, 0), 2);
	assert_int_equal(series_count_in(b, 1), 0);
	for (s = series_first(b); s != NULL; s = series_next(b, s))
		assert_int_equal(series_indicator(s), 0);
	bk = series_week(series_get(b, 0, 1, 0), 40);
	assert_non_null(bk);
	assert_int_equal(bk->n, 7);
	assert_int_equal(bk->rejected, 3);
	assert_int_equal(bk->dismissed, 1);
	assert_non_null(series_month(series_get(b, SERIES_NATIONAL, 1, 0), 9));

	/* It saves as version 2, which loads back the same. */
	save(b, &out);
	assert_int_equal(out.data[0], 2);
	assert_int_equal(out.len, v1.len + 2 * 4);
	c = series_set_create_n(2, 3, NBENEFITS, WEEKS, MONTHS);
	buf_reader_init(&r, out.data, out.len);
	assert_int_equal(series_set_load(c, &r, &cause), 0);
	assert_sets_equal(b, c);
	series_set_free(c);
	series_set_free(b);
	buf_free(&out);
	buf_free(&v1);
}

/* Every truncation of a saved set fails cleanly and leaves it empty. */
static void
test_load_truncated(void **state)
{
	struct series_set *a = series_set_create(3, 2, 3, 2), *b;
	struct buf out;
	struct buf_reader r;
	char *cause;
	size_t len;

	(void)state;
	series_office_index(a, "A", true);
	series_office_index(a, "B", true);
	assert_int_equal(series_add(a, 0, 0, 0, 5, 1, 1, 0.5), 0);
	assert_int_equal(series_add(a, 1, 1, 1, 6, 1, 3, -1), 0);
	assert_int_equal(series_add(a, 1, 1, 1, 7, 2, 0, 0.1), 0);
	save(a, &out);
	for (len = 0; len < out.len; len++) {
		b = series_set_create(3, 2, 3, 2);
		buf_reader_init(&r, out.data, len);
		cause = NULL;
		assert_int_equal(series_set_load(b, &r, &cause), -1);
		assert_non_null(cause);
		free(cause);
		assert_int_equal(series_count(b), 0);
		assert_int_equal(series_office_count(b), 0);
		series_set_free(b);
	}
	buf_free(&out);
	series_set_free(a);
}

/* Overwrite a u32 in a saved image. */
static void
poke32(struct buf *b, size_t off, uint32_t v)
{
	int i;

	for (i = 0; i < 4; i++)
		b->data[off + (size_t)i] = (unsigned char)(v >> (8 * i));
}

/* Corrupt fields are caught by validation, not by luck. */
static void
test_load_corrupt(void **state)
{
	/*
	 * Layout of the image below: version 0, noffices 4, "A" at 8
	 * (length, byte), nseries 13, series at 17: indicator 17, office
	 * 21, benefit 25, kind 29, week count 33, week period 37, n 41,
	 * rejected 45, partial 49, dismissed 53, expected 57, variance 65,
	 * month count 73, month period 77.
	 */
	static const struct {
		size_t		off;
		uint32_t	v;
	} cases[] = {
		{ 0, 3 },			/* unknown version */
		{ 0, 0 },			/* unknown version */
		{ 4, 4 },			/* more offices than fit */
		{ 8, 0 },			/* empty name */
		{ 8, 33 },			/* name too long */
		{ 13, 1000 },			/* more series than slots */
		{ 17, 1 },			/* indicator not in the set */
		{ 21, 1 },			/* office not in the table */
		{ 25, 2 },			/* benefit out of range */
		{ 29, DECISION_NKINDS },	/* kind out of range */
		{ 33, 0 },			/* no week buckets */
		{ 33, 0x10000000 },		/* absurd count */
		{ 37, 0x80000000 },		/* the reserved period */
		{ 45, 5 },			/* more rejected than n */
		{ 61, 0x7ff80000 },		/* expected is NaN */
		{ 73, 0 },			/* no month buckets */
	};
	struct series_set *a = series_set_create(3, 2, 3, 2), *b;
	struct buf out, bad, two;
	struct buf_reader r;
	char *cause;
	size_t i;

	(void)state;
	series_office_index(a, "A", true);
	assert_int_equal(series_add(a, 0, 0, 0, 5, 1, OUTCOME_REJECTED, 0.5),
	    0);
	save(a, &out);
	assert_int_equal(out.len, 2 * 4 + 4 + 1 + 4 + 2 * (4 * 4 + 2 *
	    (4 + 4 + 4 * 4 + 2 * 8)));
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		buf_init(&bad);
		buf_put(&bad, out.data, out.len);
		poke32(&bad, cases[i].off, cases[i].v);
		b = series_set_create(3, 2, 3, 2);
		buf_reader_init(&r, bad.data, bad.len);
		cause = NULL;
		assert_int_equal(series_set_load(b, &r, &cause), -1);
		assert_non_null(cause);
		free(cause);
		assert_int_equal(series_count(b), 0);
		series_set_free(b);
		buf_free(&bad);
	}

	/* "national" as an office name, and a repeated series. */
	buf_init(&bad);
	buf_put_u32(&bad, 1);
	buf_put_u32(&bad, 1);
	buf_put_str(&bad, "national");
	buf_put_u32(&bad, 0);
	b = series_set_create(3, 2, 3, 2);
	buf_reader_init(&r, bad.data, bad.len);
	cause = NULL;
	assert_int_equal(series_set_load(b, &r, &cause), -1);
	free(cause);
	series_set_free(b);
	buf_free(&bad);

	/* Week periods repeated or out of order (second one at 73). */
	assert_int_equal(series_add(a, 0, 0, 0, 6, 1, OUTCOME_GRANTED, -1), 0);
	save(a, &two);
	for (i = 0; i < 2; i++) {
		buf_init(&bad);
		buf_put(&bad, two.data, two.len);
		poke32(&bad, 73, i == 0 ? 5 : 4);
		b = series_set_create(3, 2, 3, 2);
		buf_reader_init(&r, bad.data, bad.len);
		cause = NULL;
		assert_int_equal(series_set_load(b, &r, &cause), -1);
		assert_non_null(cause);
		assert_non_null(strstr(cause, "order"));
		free(cause);
		series_set_free(b);
		buf_free(&bad);
	}
	buf_free(&two);

	buf_init(&bad);
	buf_put(&bad, out.data, out.len);
	poke32(&bad, 13, 3);
	/* Copy of the first series (national) after the two saved ones. */
	buf_put(&bad, out.data + 17, (out.len - 17) / 2);
	b = series_set_create(3, 2, 3, 2);
	buf_reader_init(&r, bad.data, bad.len);
	cause = NULL;
	assert_int_equal(series_set_load(b, &r, &cause), -1);
	assert_non_null(cause);
	assert_non_null(strstr(cause, "repeated"));
	free(cause);
	series_set_free(b);
	buf_free(&bad);

	buf_free(&out);
	series_set_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_outcomes),
		cmocka_unit_test(test_add_refused),
		cmocka_unit_test(test_national_sum),
		cmocka_unit_test(test_ring_wrap),
		cmocka_unit_test(test_months),
		cmocka_unit_test(test_sums),
		cmocka_unit_test(test_offices),
		cmocka_unit_test(test_many_offices),
		cmocka_unit_test(test_iteration),
		cmocka_unit_test(test_memory),
		cmocka_unit_test(test_save_load),
		cmocka_unit_test(test_load_smaller),
		cmocka_unit_test(test_load_truncated),
		cmocka_unit_test(test_load_corrupt),
		cmocka_unit_test(test_indicators),
		cmocka_unit_test(test_refuses_in),
		cmocka_unit_test(test_first_tracked),
		cmocka_unit_test(test_firsts_changed),
		cmocka_unit_test(test_save_load_indicators),
		cmocka_unit_test(test_load_v1),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
