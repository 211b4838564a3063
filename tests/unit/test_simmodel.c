/*
 * Tests for the simulator's arrival orders and benefit choice: every
 * order sends the same entries with the same truth, only the order
 * differs, and leaving benefits out changes nothing of the rest.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../sim/simmodel.h"

#define WEEKS		3
#define PER_WEEK	2000

/* One event as sent: the whole entry and its truth in one string. */
struct got {
	char		 key[1400];
	int		 type;
	int		 office;
	int		 benefit;
	int64_t		 t;
	uint64_t	 seq;
};

struct run {
	struct got	*ev;
	size_t		 n;
};

static void
run_sim(int order, unsigned benefits, struct run *out)
{
	struct sim_options	 o;
	struct sim_event	 ev;
	struct sim		*s;
	struct got		*g;
	char			*cause = NULL;
	size_t			 cap = 16384, len;
	int			 i;

	sim_options_default(&o);
	o.seed = 7;
	o.weeks = WEEKS;
	o.per_week = PER_WEEK;
	o.duplicates = 0.02;
	o.malformed = 0.01;
	o.order = order;
	o.benefits = benefits;
	s = sim_create(&o, &cause);
	assert_non_null(s);
	out->ev = calloc(cap, sizeof *out->ev);
	assert_non_null(out->ev);
	out->n = 0;
	while (sim_next(s, &ev) == 0) {
		assert_true(out->n < cap);
		g = &out->ev[out->n++];
		g->type = ev.type;
		g->office = ev.office;
		g->benefit = ev.benefit;
		g->t = ev.decided_at;
		g->seq = ev.seq;
		len = (size_t)snprintf(g->key, sizeof g->key,
		    "%d|%llu|%d|%d|%d|%d|%lld|%a|%a", ev.type,
		    (unsigned long long)ev.seq, ev.office, ev.benefit, ev.kind,
		    ev.outcome, (long long)ev.decided_at, ev.p, ev.p0);
		for (i = 0; i < ev.nfields; i++) {
			assert_true(len < sizeof g->key);
			len += (size_t)snprintf(g->key + len,
			    sizeof g->key - len, "|%s=%.*s", ev.names[i],
			    (int)ev.lens[i], ev.values[i]);
		}
		assert_true(len < sizeof g->key);
	}
	sim_free(s);
}

static int
got_cmp(const void *a, const void *b)
{
	return strcmp(((const struct got *)a)->key,
	    ((const struct got *)b)->key);
}

/* Sorted copies of two runs hold the same entries. */
static void
assert_same_multiset(const struct run *a, const struct run *b)
{
	struct got	*x, *y;
	size_t		 i;

	assert_int_equal(a->n, b->n);
	x = malloc(a->n * sizeof *x);
	y = malloc(b->n * sizeof *y);
	assert_non_null(x);
	assert_non_null(y);
	memcpy(x, a->ev, a->n * sizeof *x);
	memcpy(y, b->ev, b->n * sizeof *y);
	qsort(x, a->n, sizeof *x, got_cmp);
	qsort(y, b->n, sizeof *y, got_cmp);
	for (i = 0; i < a->n; i++)
		assert_string_equal(x[i].key, y[i].key);
	free(x);
	free(y);
}

/* Within a group (office or benefit, or all) first sendings go in time. */
static size_t
count_descents(const struct run *r, int by)
{
	const struct got	*prev = NULL, *g;
	size_t			 i, n = 0;

	for (i = 0; i < r->n; i++) {
		g = &r->ev[i];
		if (g->type == SIM_DUPLICATE)
			continue;
		if (prev != NULL) {
			if (by == SIM_ORDER_OFFICE)
				assert_true(g->office >= prev->office);
			if (by == SIM_ORDER_BENEFIT)
				assert_true(g->benefit >= prev->benefit);
			if ((by != SIM_ORDER_OFFICE ||
			    g->office == prev->office) &&
			    (by != SIM_ORDER_BENEFIT ||
			    g->benefit == prev->benefit) && g->t < prev->t)
				n++;
		}
		prev = g;
	}
	return (n);
}

static void
test_orders_same_events(void **state)
{
	struct run	r[SIM_NORDERS];
	size_t		i, ndup = 0, nmal = 0;
	int		k;

	(void)state;
	for (k = 0; k < SIM_NORDERS; k++)
		run_sim(k, SIM_BENEFITS_ALL, &r[k]);
	for (i = 0; i < r[0].n; i++) {
		ndup += r[0].ev[i].type == SIM_DUPLICATE;
		nmal += r[0].ev[i].type == SIM_MALFORMED;
	}
	assert_true(r[0].n > WEEKS * PER_WEEK / 2);
	assert_true(ndup > 0 && nmal > 0);
	for (k = 1; k < SIM_NORDERS; k++)
		assert_same_multiset(&r[0], &r[k]);

	/* Time and the groups keep time order; shuffled is far from it. */
	assert_int_equal(count_descents(&r[SIM_ORDER_TIME], SIM_ORDER_TIME),
	    0);
	assert_int_equal(count_descents(&r[SIM_ORDER_OFFICE],
	    SIM_ORDER_OFFICE), 0);
	assert_int_equal(count_descents(&r[SIM_ORDER_BENEFIT],
	    SIM_ORDER_BENEFIT), 0);
	assert_true(count_descents(&r[SIM_ORDER_SHUFFLED], SIM_ORDER_TIME) >
	    r[0].n / 3);
	assert_true(r[SIM_ORDER_OFFICE].ev[0].office == 0);
	assert_true(r[SIM_ORDER_OFFICE].ev[r[0].n - 1].office > 0);

	/* Outside time order a duplicate follows its first sending. */
	for (k = 1; k < SIM_NORDERS; k++) {
		for (i = 0; i < r[k].n; i++) {
			if (r[k].ev[i].type != SIM_DUPLICATE)
				continue;
			assert_true(i > 0);
			assert_int_equal(r[k].ev[i].seq, r[k].ev[i - 1].seq);
			assert_int_equal(r[k].ev[i - 1].type, SIM_VALID);
		}
	}
	for (k = 0; k < SIM_NORDERS; k++)
		free(r[k].ev);
}

/* The same seed and order give the same sequence. */
static void
test_shuffled_repeatable(void **state)
{
	struct run	a, b;
	size_t		i;

	(void)state;
	run_sim(SIM_ORDER_SHUFFLED, SIM_BENEFITS_ALL, &a);
	run_sim(SIM_ORDER_SHUFFLED, SIM_BENEFITS_ALL, &b);
	assert_int_equal(a.n, b.n);
	for (i = 0; i < a.n; i++)
		assert_string_equal(a.ev[i].key, b.ev[i].key);
	free(a.ev);
	free(b.ev);
}

/* Leaving benefits out drops exactly their entries, in every order. */
static void
test_benefits_subset(void **state)
{
	const unsigned	mask = SIM_BENEFIT_BIT(0) | SIM_BENEFIT_BIT(2);
	struct run	all, sub, want;
	size_t		i;
	int		k;

	(void)state;
	assert_int_equal(sim_benefit_find("sjukpenning"), 0);
	assert_int_equal(sim_benefit_find("sjukersattning"), 2);
	for (k = 0; k < SIM_NORDERS; k++) {
		run_sim(k, SIM_BENEFITS_ALL, &all);
		run_sim(k, mask, &sub);
		want.ev = calloc(all.n, sizeof *want.ev);
		assert_non_null(want.ev);
		want.n = 0;
		for (i = 0; i < all.n; i++) {
			if (mask & SIM_BENEFIT_BIT(all.ev[i].benefit))
				want.ev[want.n++] = all.ev[i];
		}
		assert_true(want.n < all.n && want.n > all.n / 2);
		/* Not only the same entries: the same sequence. */
		assert_int_equal(sub.n, want.n);
		for (i = 0; i < sub.n; i++)
			assert_string_equal(sub.ev[i].key, want.ev[i].key);
		free(all.ev);
		free(sub.ev);
		free(want.ev);
	}
}

static void
test_parse(void **state)
{
	struct sim_options	 o;
	char			*cause = NULL;

	(void)state;
	sim_options_default(&o);
	assert_int_equal(o.order, SIM_ORDER_TIME);
	assert_int_equal(o.benefits, SIM_BENEFITS_ALL);
	assert_int_equal(sim_benefits_parse(&o, "sjukpenning,sjukersattning",
	    &cause), 0);
	assert_int_equal(o.benefits, SIM_BENEFIT_BIT(0) | SIM_BENEFIT_BIT(2));
	assert_int_equal(sim_benefits_parse(&o, "sjukpenning,bostadsbidrag",
	    &cause), -1);
	assert_non_null(cause);
	free(cause);
	cause = NULL;
	assert_int_equal(sim_benefits_parse(&o, ",", &cause), -1);
	free(cause);
	assert_int_equal(o.benefits, SIM_BENEFIT_BIT(0) | SIM_BENEFIT_BIT(2));
	assert_int_equal(sim_order_find("shuffled"), SIM_ORDER_SHUFFLED);
	assert_int_equal(sim_order_find("office"), SIM_ORDER_OFFICE);
	assert_int_equal(sim_order_find("random"), -1);
	assert_string_equal(sim_order_name(SIM_ORDER_BENEFIT), "benefit");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_orders_same_events),
		cmocka_unit_test(test_shuffled_repeatable),
		cmocka_unit_test(test_benefits_subset),
		cmocka_unit_test(test_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
