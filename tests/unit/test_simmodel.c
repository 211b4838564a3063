/*
 * Tests for the simulator's arrival orders and benefit choice: every
 * order sends the same entries with the same truth, only the order
 * differs, and leaving benefits out changes nothing of the rest. And the
 * other event kinds: without them the stream is the one it always was
 * (a pinned digest); with them the decisions stay the same, the other
 * kinds' yes rates follow their truth, a drift moves only its target, and
 * what the simulator breaks is exactly what the daemon's parser refuses.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <cmocka.h>

#include "../sim/simmodel.h"
#include "decision.h"

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
run_sim_events(int order, unsigned benefits, unsigned events, struct run *out)
{
	struct sim_options	 o;
	struct sim_event	 ev;
	struct sim		*s;
	struct got		*g;
	char			*cause = NULL;
	size_t			 cap = 32768, len;
	int			 i;

	sim_options_default(&o);
	o.seed = 7;
	o.weeks = WEEKS;
	o.per_week = PER_WEEK;
	o.duplicates = 0.02;
	o.malformed = 0.01;
	o.order = order;
	o.benefits = benefits;
	o.events = events;
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
		    "%d|%llu|%d|%d|%d|%d|%lld|%a|%a|%d|%d|%d|%a|%a", ev.type,
		    (unsigned long long)ev.seq, ev.office, ev.benefit, ev.kind,
		    ev.outcome, (long long)ev.decided_at, ev.p, ev.p0,
		    ev.event, ev.detail, ev.yes, ev.q, ev.q0);
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

static void
run_sim(int order, unsigned benefits, struct run *out)
{
	run_sim_events(order, benefits, 0, out);
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

/* Every order sends the same events with the other kinds on too. */
static void
test_orders_with_events(void **state)
{
	struct run	r[SIM_NORDERS];
	size_t		i, nother = 0;
	int		k;

	(void)state;
	for (k = 0; k < SIM_NORDERS; k++)
		run_sim_events(k, SIM_BENEFITS_ALL, SIM_EVENTS_ALL, &r[k]);
	for (i = 0; i < r[0].n; i++)
		nother += strstr(r[0].ev[i].key, "|event=") != NULL;
	assert_true(nother > WEEKS * PER_WEEK / 10);
	for (k = 1; k < SIM_NORDERS; k++) {
		assert_same_multiset(&r[0], &r[k]);
		for (i = 0; i < r[k].n; i++) {
			if (r[k].ev[i].type != SIM_DUPLICATE)
				continue;
			assert_int_equal(r[k].ev[i].seq, r[k].ev[i - 1].seq);
		}
	}
	for (k = 0; k < SIM_NORDERS; k++)
		free(r[k].ev);
}

/* FNV-1a, 64 bits. */
static uint64_t
fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char	*c = p;

	while (n-- > 0) {
		h ^= *c++;
		h *= 0x100000001b3ULL;
	}
	return (h);
}

/*
 * Without other event kinds the stream is byte for byte the one the
 * simulator sent before they existed: entries, ids and truth of the first
 * 10 000 events in every order, pinned.
 */
static void
test_default_stream_pinned(void **state)
{
	static const uint64_t want[SIM_NORDERS] = {
		0xde471dbf1d6bf79cULL, 0xb678daa711b58046ULL,
		0x064583727d3be1d3ULL, 0x683b8a43004d4718ULL,
	};
	struct sim_options	 o;
	struct sim_event	 ev;
	struct sim		*s;
	char			*cause = NULL, t[256];
	uint64_t		 h;
	int			 order, n, i, len;

	(void)state;
	for (order = 0; order < SIM_NORDERS; order++) {
		sim_options_default(&o);
		o.seed = 7;
		o.weeks = 8;
		o.per_week = 2000;
		o.duplicates = 0.02;
		o.malformed = 0.05;
		o.order = order;
		s = sim_create(&o, &cause);
		assert_non_null(s);
		h = 0xcbf29ce484222325ULL;
		for (n = 0; n < 10000 && sim_next(s, &ev) == 0; n++) {
			assert_int_equal(ev.event, 0);
			len = snprintf(t, sizeof t, "%d|%llu|%d|%d|%d|%d|%lld|"
			    "%a|%a|%d", ev.type, (unsigned long long)ev.seq,
			    ev.office, ev.benefit, ev.kind, ev.outcome,
			    (long long)ev.decided_at, ev.p, ev.p0, ev.week);
			h = fnv(h, t, (size_t)len);
			for (i = 0; i < ev.nfields; i++) {
				h = fnv(h, ev.names[i], strlen(ev.names[i]) + 1);
				h = fnv(h, ev.values[i], ev.lens[i]);
				h = fnv(h, "", 1);
			}
		}
		assert_int_equal(n, 10000);
		if (h != want[order])
			fail_msg("order %d: digest %016llx, want %016llx",
			    order, (unsigned long long)h,
			    (unsigned long long)want[order]);
		sim_free(s);
	}
}

/* The entry as one string, for comparing runs. */
static void
entry_key(const struct sim_event *ev, char *buf, size_t size)
{
	size_t	len;
	int	i;

	len = (size_t)snprintf(buf, size, "%d|%llu|%lld", ev->type,
	    (unsigned long long)ev->seq, (long long)ev->decided_at);
	for (i = 0; i < ev->nfields && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "|%s=%.*s",
		    ev->names[i], (int)ev->lens[i], ev->values[i]);
	assert_true(len < size);
}

/*
 * The other kinds come on top of the decisions and take their ids:
 * without supplement_requested the decisions are sent exactly as without
 * the other kinds, and every other event follows a decision of its id.
 */
static void
test_events_keep_decisions(void **state)
{
	const unsigned		 events = SIM_TARGET_BIT(SIM_T_RECONSIDERATION) |
	    SIM_TARGET_BIT(SIM_T_APPEAL) | SIM_TARGET_BIT(SIM_T_ASSESSMENT);
	struct sim_options	 o;
	struct sim_event	 ev;
	struct sim		*a, *b;
	char			*cause = NULL, ka[1400], kb[1400];
	int64_t			*sent;
	size_t			 n = 0, other = 0;
	const size_t		 max = 4 * 3000 * 2;
	int			 done;

	(void)state;
	sim_options_default(&o);
	o.seed = 11;
	o.weeks = 4;
	o.per_week = 3000;
	o.malformed = 0.02;
	o.duplicates = 0.02;
	a = sim_create(&o, &cause);
	o.events = events;
	b = sim_create(&o, &cause);
	assert_non_null(a);
	assert_non_null(b);
	sent = calloc(max, sizeof *sent);
	assert_non_null(sent);
	for (;;) {
		/* The next first sending of a decision in each run. */
		while ((done = sim_next(b, &ev)) == 0) {
			assert_true(ev.seq < max);
			if (ev.event != 0 && ev.type != SIM_DUPLICATE) {
				/* Its decision went before, valid or not. */
				assert_true(sent[ev.seq] != 0);
				assert_true(ev.decided_at > sent[ev.seq]);
				other++;
			}
			if (ev.event == 0 && ev.type != SIM_DUPLICATE)
				break;
		}
		if (done)
			break;
		sent[ev.seq] = ev.decided_at;
		entry_key(&ev, kb, sizeof kb);
		do {
			assert_int_equal(sim_next(a, &ev), 0);
		} while (ev.type == SIM_DUPLICATE);
		entry_key(&ev, ka, sizeof ka);
		assert_string_equal(ka, kb);
		n++;
	}
	while ((done = sim_next(a, &ev)) == 0)
		assert_int_equal(ev.type, SIM_DUPLICATE);
	assert_true(n > 10000 && other > 1000);
	free(sent);
	sim_free(a);
	sim_free(b);
}

/* Sums of one target's events: yeses, P(yes), its variance. */
struct tally {
	double	n;
	double	yes;
	double	q;
	double	var;
};

static void
tally_add(struct tally *t, int yes, double q)
{
	t->n++;
	t->yes += yes;
	t->q += q;
	t->var += q * (1.0 - q);
}

/* The yeses are within 3 standard errors of the sum of P(yes). */
static void
assert_tally(const struct tally *t, const char *what, double lo, double hi)
{
	double	z = (t->yes - t->q) / sqrt(t->var);

	if (t->n < 200 || fabs(z) > 3.0 || t->yes / t->n < lo ||
	    t->yes / t->n > hi)
		fail_msg("%s: %.0f events, %.0f yes, %.1f expected (z %.2f)",
		    what, t->n, t->yes, t->q, z);
}

/*
 * Each target's yeses follow its true probabilities, at about the rates
 * the plan gives, and every event kind comes in its share.
 */
static void
test_events_truth(void **state)
{
	struct sim_options	 o;
	struct sim_event	 ev;
	struct sim		*s;
	struct tally		 t[SIM_NTARGETS];
	double			 ndec = 0, nsick = 0, nrej = 0, nev[SIM_NEVENTS];
	double			 ncp[4], nsupp = 0, npart = 0, want;
	char			*cause = NULL;

	(void)state;
	memset(t, 0, sizeof t);
	memset(nev, 0, sizeof nev);
	memset(ncp, 0, sizeof ncp);
	sim_options_default(&o);
	o.seed = 21;
	o.weeks = 8;
	o.per_week = 8000;
	o.offices = 20;
	o.events = SIM_EVENTS_ALL;
	s = sim_create(&o, &cause);
	assert_non_null(s);
	while (sim_next(s, &ev) == 0) {
		assert_int_equal(ev.type, SIM_VALID);
		assert_true(ev.q > 0.0 && ev.q < 1.0 && ev.q0 > 0.0);
		nev[ev.event]++;
		switch (ev.event) {
		case SIM_EV_DECISION:
			ndec++;
			nsick += ev.benefit == 0;
			nrej += ev.outcome == SIM_REJECTED;
			npart += ev.outcome == SIM_PARTIAL;
			assert_true(ev.q == ev.p && ev.q0 == ev.p0);
			if (ev.yes != -1)
				tally_add(&t[SIM_T_REJECTION], ev.yes, ev.q);
			if (ev.detail != 0) {
				nsupp++;
				tally_add(&t[SIM_T_SUPPLEMENT], ev.detail == 1,
				    ev.sq);
			}
			break;
		case SIM_EV_RECONSIDERATION:
			tally_add(&t[SIM_T_RECONSIDERATION], ev.yes, ev.q);
			assert_true(ev.outcome == SIM_CHANGED ||
			    ev.outcome == SIM_UNCHANGED);
			/* changed_to only when changed. */
			assert_int_equal(ev.detail != 0, ev.yes);
			break;
		case SIM_EV_APPEAL:
			tally_add(&t[SIM_T_APPEAL], ev.yes, ev.q);
			assert_int_equal(ev.detail, 0);
			break;
		case SIM_EV_ASSESSMENT:
			tally_add(&t[SIM_T_ASSESSMENT], ev.yes, ev.q);
			assert_int_equal(ev.benefit, 0);
			assert_true(ev.detail >= 1 && ev.detail <= 3);
			ncp[ev.detail]++;
			break;
		}
	}
	sim_free(s);
	assert_tally(&t[SIM_T_REJECTION], "rejection", 0.05, 0.25);
	assert_tally(&t[SIM_T_SUPPLEMENT], "supplement", 0.2, 0.4);
	assert_tally(&t[SIM_T_RECONSIDERATION], "reconsideration", 0.06,
	    0.2);
	assert_tally(&t[SIM_T_APPEAL], "appeal", 0.07, 0.25);
	assert_tally(&t[SIM_T_ASSESSMENT], "assessment", 0.12, 0.3);
	/* Shares: supplement on 95 %, assessments of a quarter of sick pay,
	 * checkpoints 50/35/15 %, reconsiderations after about a tenth of
	 * rejections, appeals after about 30 % of unchanged ones. */
	assert_true(fabs(nsupp / ndec - 0.95) < 0.01);
	assert_true(fabs(nev[SIM_EV_ASSESSMENT] / nsick - 0.25) < 0.01);
	assert_true(fabs(ncp[1] / nev[SIM_EV_ASSESSMENT] - 0.50) < 0.02);
	assert_true(fabs(ncp[3] / nev[SIM_EV_ASSESSMENT] - 0.15) < 0.02);
	want = 0.10 * nrej + 0.03 * npart;
	assert_true(fabs(nev[SIM_EV_RECONSIDERATION] - want) <
	    4 * sqrt(want));
	assert_true(nev[SIM_EV_APPEAL] / (nev[SIM_EV_RECONSIDERATION] -
	    t[SIM_T_RECONSIDERATION].yes) > 0.25 &&
	    nev[SIM_EV_APPEAL] / (nev[SIM_EV_RECONSIDERATION] -
	    t[SIM_T_RECONSIDERATION].yes) < 0.35);
}

/* One event's truth, keyed by its id and kind, for comparing runs. */
struct truthrow {
	uint64_t	seq;
	int		event;
	int		office;
	int		week;
	int		yes;
	double		q;
	double		q0;
	double		sq;
	char		key[1400];
};

static int
truthrow_cmp(const void *a, const void *b)
{
	const struct truthrow	*x = a, *y = b;

	if (x->seq != y->seq)
		return (x->seq < y->seq ? -1 : 1);
	return (x->event - y->event);
}

static struct truthrow *
truth_rows(const struct sim_options *o, size_t *n)
{
	struct sim_event	 ev;
	struct sim		*s;
	struct truthrow		*rows;
	char			*cause = NULL;
	size_t			 cap = 65536;

	s = sim_create(o, &cause);
	assert_non_null(s);
	rows = calloc(cap, sizeof *rows);
	assert_non_null(rows);
	*n = 0;
	while (sim_next(s, &ev) == 0) {
		assert_true(*n < cap);
		rows[*n].seq = ev.seq;
		rows[*n].event = ev.event;
		rows[*n].office = ev.office;
		rows[*n].week = ev.week;
		rows[*n].yes = ev.yes;
		rows[*n].q = ev.q;
		rows[*n].q0 = ev.q0;
		rows[*n].sq = ev.sq;
		entry_key(&ev, rows[*n].key, sizeof rows[*n].key);
		(*n)++;
	}
	sim_free(s);
	qsort(rows, *n, sizeof *rows, truthrow_cmp);
	return (rows);
}

/*
 * A drift @reconsideration in one office (the largest) from a week moves
 * only the reconsiderations there and then, by its odds ratio; the
 * decisions and every other office's events are as without it.
 */
static void
test_drift_target(void **state)
{
	struct sim_options	 o;
	struct truthrow		*a, *b;
	char			*cause = NULL;
	size_t			 na, nb, i, j, moved = 0;
	double			 lor;

	(void)state;
	sim_options_default(&o);
	o.seed = 3;
	o.weeks = 6;
	o.per_week = 4000;
	o.offices = 5;
	o.events = SIM_EVENTS_ALL;
	a = truth_rows(&o, &na);
	assert_int_equal(sim_drift_parse(&o, "K001:*:*:3:2.0@reconsideration",
	    &cause), 0);
	b = truth_rows(&o, &nb);
	for (i = j = 0; i < na && j < nb;) {
		if (truthrow_cmp(&a[i], &b[j]) != 0) {
			/* A changed outcome may bring or drop an appeal,
			 * only where the drift is. */
			const struct truthrow *x = truthrow_cmp(&a[i], &b[j]) <
			    0 ? &a[i++] : &b[j++];

			assert_int_equal(x->event, SIM_EV_APPEAL);
			assert_true(x->office == 0 && x->week >= 3);
			continue;
		}
		if (a[i].event == SIM_EV_RECONSIDERATION && a[i].office == 0 &&
		    a[i].week >= 3) {
			lor = log(b[j].q / (1 - b[j].q)) -
			    log(a[i].q / (1 - a[i].q));
			assert_true(fabs(lor - log(2.0)) < 1e-9);
			assert_true(a[i].q0 == b[j].q0);
			moved++;
		} else if (a[i].event != SIM_EV_APPEAL || a[i].office != 0) {
			assert_string_equal(a[i].key, b[j].key);
			assert_true(a[i].q == b[j].q && a[i].sq == b[j].sq);
		}
		i++;
		j++;
	}
	if (moved < 20)
		fail_msg("only %zu reconsiderations moved", moved);
	free(a);
	free(b);
}

/*
 * What the simulator breaks is exactly what the daemon's parser refuses,
 * for every event kind, and what it does not break parses back to its
 * truth: event, outcome, detail.
 */
static void
test_events_parse(void **state)
{
	static const char *const benefits[] = { "sjukpenning",
	    "rehabiliteringsersattning", "sjukersattning",
	    "aktivitetsersattning" };
	struct decision_field	 f[SIM_MAXFIELDS];
	struct sim_options	 o;
	struct sim_event	 ev;
	struct decision		 d;
	struct sim		*s;
	char			*cause = NULL;
	size_t			 nbad[SIM_NEVENTS], n = 0;
	int			 i, rc;

	(void)state;
	memset(nbad, 0, sizeof nbad);
	sim_options_default(&o);
	o.seed = 9;
	o.weeks = 4;
	o.per_week = 5000;
	o.offices = 10;
	o.malformed = 0.05;
	o.duplicates = 0.02;
	o.events = SIM_EVENTS_ALL;
	s = sim_create(&o, &cause);
	assert_non_null(s);
	while (sim_next(s, &ev) == 0) {
		for (i = 0; i < ev.nfields; i++) {
			f[i].name = ev.names[i];
			f[i].namelen = strlen(ev.names[i]);
			f[i].value = ev.values[i];
			f[i].valuelen = ev.lens[i];
		}
		rc = decision_parse(&d, f, (size_t)ev.nfields, benefits, 4,
		    INT64_C(4000000000), 86400, &cause);
		if (ev.type == SIM_MALFORMED) {
			if (rc == 0)
				fail_msg("broken (%s) yet accepted", ev.defect);
			nbad[ev.event]++;
			free(cause);
			cause = NULL;
			continue;
		}
		if (rc != 0)
			fail_msg("valid yet refused: %s", cause);
		assert_int_equal(d.event, ev.event);
		assert_int_equal(d.outcome, ev.outcome);
		assert_int_equal(d.detail, ev.detail);
		n++;
	}
	sim_free(s);
	assert_true(n > 20000);
	for (i = 0; i < SIM_NEVENTS; i++)
		assert_true(nbad[i] > 0);
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

	/* Event kinds and drift targets. */
	assert_int_equal(o.events, 0);
	assert_int_equal(sim_events_parse(&o, "all", &cause), 0);
	assert_int_equal(o.events, SIM_EVENTS_ALL);
	assert_int_equal(sim_events_parse(&o, "appeal,supplement", &cause), 0);
	assert_int_equal(o.events, SIM_TARGET_BIT(SIM_T_REJECTION) |
	    SIM_TARGET_BIT(SIM_T_APPEAL) | SIM_TARGET_BIT(SIM_T_SUPPLEMENT));
	assert_int_equal(sim_events_parse(&o, "rejection", &cause), 0);
	assert_int_equal(o.events, 0);
	assert_int_equal(sim_events_parse(&o, "appeal,ruling", &cause), -1);
	assert_non_null(strstr(cause, "ruling"));
	free(cause);
	cause = NULL;
	assert_int_equal(sim_drift_parse(&o, "K017:*:first:10:2.5", &cause),
	    0);
	assert_int_equal(o.drifts[0].target, SIM_T_REJECTION);
	assert_int_equal(sim_drift_parse(&o,
	    "national:sjukpenning:*:3:0.5:9@assessment", &cause), 0);
	assert_int_equal(o.drifts[1].target, SIM_T_ASSESSMENT);
	assert_int_equal(o.drifts[1].to_week, 9);
	assert_int_equal(o.drifts[1].office, -1);
	assert_int_equal(sim_drift_parse(&o, "K001:*:*:3:2@court", &cause),
	    -1);
	assert_non_null(strstr(cause, "unknown target court"));
	free(cause);
	assert_int_equal(o.ndrifts, 2);
	assert_string_equal(sim_target_name(SIM_T_RECONSIDERATION),
	    "reconsideration");
	assert_int_equal(sim_target_find("supplement"), SIM_T_SUPPLEMENT);
	assert_string_equal(sim_detail_name(SIM_EV_ASSESSMENT, 2), "180");
	assert_string_equal(sim_detail_name(SIM_EV_RECONSIDERATION, 1),
	    "granted");
	assert_string_equal(sim_detail_name(SIM_EV_APPEAL, 0), "-");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_orders_same_events),
		cmocka_unit_test(test_shuffled_repeatable),
		cmocka_unit_test(test_benefits_subset),
		cmocka_unit_test(test_orders_with_events),
		cmocka_unit_test(test_default_stream_pinned),
		cmocka_unit_test(test_events_keep_decisions),
		cmocka_unit_test(test_events_truth),
		cmocka_unit_test(test_drift_target),
		cmocka_unit_test(test_events_parse),
		cmocka_unit_test(test_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
