/*
 * detect: the CUSUM and estimator arithmetic by hand, and the calibration
 * (thresholds, delays, tau^2, size) by simulation with fixed seeds against
 * known theory. The generator is xoshiro256** with Box-Muller normals.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>

#include "buf.h"
#include "detect.h"
#include "test_rng.h"

#define LOG_OR_15	0.4054651081081644	/* log(1.5) */
#define Z975		1.959963984540054

/* The generator itself: uniform mean and normal moments. */
static void
test_rng(void **state)
{
	struct rng r;
	double u, z, su = 0, sz = 0, sz2 = 0, sz4 = 0;
	int i, n = 200000;

	(void)state;
	rng_seed(&r, 1);
	for (i = 0; i < n; i++) {
		u = rng_unif(&r);
		assert_true(u > 0 && u < 1);
		su += u;
		z = rng_normal(&r);
		sz += z;
		sz2 += z * z;
		sz4 += z * z * z * z;
	}
	/* SEs: 0.00065, 0.0022, 0.0032, 0.022. */
	assert_true(fabs(su / n - 0.5) < 0.003);
	assert_true(fabs(sz / n) < 0.01);
	assert_true(fabs(sz2 / n - 1) < 0.015);
	assert_true(fabs(sz4 / n - 3) < 0.1);
}

static void
assert_close(double got, double want, double tol)
{
	if (!(fabs(got - want) <= tol))
		fail_msg("got %.17g, want %.17g (tolerance %g)", got, want,
		    tol);
}

static void
assert_rel(double got, double want, double rel)
{
	if (!(fabs(got - want) <= rel * fabs(want)))
		fail_msg("got %.17g, want %.17g (relative %g)", got, want, rel);
}

/* LLR by hand, the tau2 = 0 case, sign symmetry, empty weeks. */
static void
test_llr(void **state)
{
	static const double cases[][3] = {	/* delta, oe, v */
		{ 0.3, 5.5, 40 }, { -0.7, -2.25, 3 }, { 1.2, 0, 0.5 },
		{ 0.05, 80, 2500 }, { -0.2, 13, 7 },
	};
	double tau2s[] = { 0, 0.01, 0.3 };
	size_t i, j;

	(void)state;
	/* 1 + 0.25 * 4 = 2: 0.5 * 3/2 - 0.25 * 4/4 = 0.5; by -delta -1. */
	assert_true(detect_llr(0.5, 3, 4, 0.25) == 0.5);
	assert_true(detect_llr(-0.5, 3, 4, 0.25) == -1.0);
	/* 1 + 0.01 * 50 = 1.5: 0.2 * 6/1.5 - 0.04 * 50/3 = 0.8 - 2/3. */
	assert_close(detect_llr(0.2, 6, 50, 0.01), 0.8 - 2.0 / 3, 1e-15);
	/*
	 * tau2 = 0: log(1.5) * 2.5 - log(1.5)^2 * 10/2, the Bernoulli score
	 * LLR delta (O - E) - delta^2 V/2 = 1.013662770270411 -
	 * 0.822009769465827 = 0.191653000804584.
	 */
	assert_close(detect_llr(LOG_OR_15, 2.5, 10, 0), 0.191653000804584,
	    1e-13);
	/* tau2 = 0 is exactly delta (O - E) - delta^2 V/2. */
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		assert_close(detect_llr(cases[i][0], cases[i][1], cases[i][2],
		    0), cases[i][0] * cases[i][1] -
		    cases[i][0] * cases[i][0] * cases[i][2] / 2, 1e-12);
	/* LLR(delta; oe) == LLR(-delta; -oe), exactly. */
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		for (j = 0; j < sizeof tau2s / sizeof tau2s[0]; j++)
			assert_true(detect_llr(cases[i][0], cases[i][1],
			    cases[i][2], tau2s[j]) == detect_llr(-cases[i][0],
			    -cases[i][1], cases[i][2], tau2s[j]));
	/* No information: nothing moves. */
	assert_true(detect_llr(0.5, 3, 0, 0.1) == 0);
	assert_true(detect_llr(0.5, 3, -1, 0.1) == 0);
	assert_true(detect_llr(0.5, NAN, 4, 0.1) == 0);
	assert_true(detect_llr(0.5, 3, INFINITY, 0.1) == 0);
	assert_true(detect_weight(4, 0.25) == 2);
	assert_true(detect_weight(0, 0.25) == 0);
	assert_true(detect_weight(-3, 0) == 0);
}

/*
 * With tau2 = 0 the LLR is the second-order expansion of the exact
 * Bernoulli LLR of Steiner et al., sum y delta - log(1 - p + p e^delta):
 * their difference is the third cumulant term,
 * -sum p(1-p)(1-2p) delta^3/6, up to O(delta^4).
 */
static void
test_llr_bernoulli(void **state)
{
	static const double p[] = { 0.05, 0.1, 0.2, 0.2, 0.3, 0.45, 0.6 };
	static const int y[] = { 0, 1, 0, 1, 0, 1, 1 };
	double delta = 0.01, exact = 0, oe = 0, v = 0, k3 = 0, ours;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof p / sizeof p[0]; i++) {
		exact += y[i] * delta - log1p(p[i] * expm1(delta));
		oe += y[i] - p[i];
		v += p[i] * (1 - p[i]);
		k3 += p[i] * (1 - p[i]) * (1 - 2 * p[i]);
	}
	ours = detect_llr(delta, oe, v, 0);
	/* Next term is O(delta) relative: 1% at delta = 0.01. */
	assert_rel(exact - ours, -k3 * delta * delta * delta / 6, 0.03);
}

struct cusum_step {
	int32_t		week;
	double		oe;
	double		v;
	double		tau2;
	double		up;
	double		down;
	int32_t		up_start;
	int32_t		down_start;
};

/*
 * delta = 0.5, v = 4, tau2 = 0: LLR(+) = oe/2 - 1/2, LLR(-) = -oe/2 - 1/2.
 * With tau2 = 0.25, v = 4: LLR(+) = oe/4 - 1/4, LLR(-) = -oe/4 - 1/4.
 */
static const struct cusum_step cusum_steps[] = {
	{ 100, 3, 4, 0, 1.0, 0, 100, DETECT_NO_START },
	{ 101, 2, 4, 0, 1.5, 0, 100, DETECT_NO_START },
	/* up falls to exactly 0 and loses its start; down starts. */
	{ 102, -2, 4, 0, 0, 0.5, DETECT_NO_START, 102 },
	{ 103, 0, 4, 0, 0, 0, DETECT_NO_START, DETECT_NO_START },
	{ 104, -4, 4, 0, 0, 1.5, DETECT_NO_START, 104 },
	{ 105, 5, 4, 0, 2.0, 0, 105, DETECT_NO_START },
	/* A week without information changes nothing. */
	{ 106, 1, 0, 0, 2.0, 0, 105, DETECT_NO_START },
	{ 107, 3, 4, 0.25, 2.5, 0, 105, DETECT_NO_START },
	{ 108, -3, 4, 0.25, 1.5, 0.5, 105, 108 },
	{ 109, -1, 4, 0.25, 1.0, 0.5, 105, 108 },
	{ 110, -5, 4, 0.25, 0, 1.5, DETECT_NO_START, 108 },
};

/* A hand-worked sequence of weeks: values and excursion starts. */
static void
test_cusum(void **state)
{
	struct detect_cusum c, before;
	const struct cusum_step *s;
	double up, down;
	size_t i;

	(void)state;
	c.up = c.down = 7;
	c.up_start = c.down_start = 3;
	detect_cusum_reset(&c);
	assert_true(c.up == 0 && c.down == 0);
	assert_int_equal(c.up_start, DETECT_NO_START);
	assert_int_equal(c.down_start, DETECT_NO_START);

	for (i = 0; i < sizeof cusum_steps / sizeof cusum_steps[0]; i++) {
		s = &cusum_steps[i];
		/* The peek predicts the commit and leaves c alone. */
		before = c;
		detect_cusum_peek(&c, s->oe, s->v, s->tau2, 0.5, &up, &down);
		assert_memory_equal(&c, &before, sizeof c);
		detect_cusum_update(&c, s->week, s->oe, s->v, s->tau2, 0.5);
		assert_true(up == c.up && down == c.down);
		if (c.up != s->up || c.down != s->down)
			fail_msg("week %d: up %g down %g, want %g %g",
			    (int)s->week, c.up, c.down, s->up, s->down);
		assert_int_equal(c.up_start, s->up_start);
		assert_int_equal(c.down_start, s->down_start);
	}
	/* A partial week: 1.5 + (-1/4 - 1/4) on the down side. */
	detect_cusum_peek(&c, 1, 4, 0.25, 0.5, &up, &down);
	assert_true(up == 0 && down == 1.0);
}

/* Round trip, and refusal of short or inconsistent input. */
static void
test_cusum_save_load(void **state)
{
	struct detect_cusum c, d;
	struct buf b;
	struct buf_reader r;
	char *cause = NULL;
	size_t cut;

	(void)state;
	c.up = 3.25;
	c.down = 0;
	c.up_start = -5;
	c.down_start = DETECT_NO_START;
	buf_init(&b);
	detect_cusum_save(&c, &b);
	assert_int_equal(b.len, 24);
	buf_reader_init(&r, b.data, b.len);
	assert_int_equal(detect_cusum_load(&d, &r, &cause), 0);
	assert_null(cause);
	assert_int_equal(r.left, 0);
	assert_true(d.up == 3.25 && d.down == 0);
	assert_int_equal(d.up_start, -5);
	assert_int_equal(d.down_start, DETECT_NO_START);

	for (cut = 0; cut < b.len; cut++) {
		buf_reader_init(&r, b.data, cut);
		assert_int_equal(detect_cusum_load(&d, &r, &cause), -1);
		assert_non_null(cause);
		free(cause);
		cause = NULL;
		assert_true(d.up == 0 && d.up_start == DETECT_NO_START);
	}

	/* A positive value without a start, a start at 0, NaN, < 0. */
	{
		struct detect_cusum bad[4] = {
			{ 1, 0, DETECT_NO_START, DETECT_NO_START },
			{ 0, 0, DETECT_NO_START, 12 },
			{ NAN, 0, 1, DETECT_NO_START },
			{ 0, -1, DETECT_NO_START, 1 },
		};
		size_t i;

		for (i = 0; i < 4; i++) {
			buf_reset(&b);
			detect_cusum_save(&bad[i], &b);
			buf_reader_init(&r, b.data, b.len);
			assert_int_equal(detect_cusum_load(&d, &r, &cause),
			    -1);
			assert_non_null(cause);
			free(cause);
			cause = NULL;
		}
	}
	buf_free(&b);
}

/*
 * Published ARLs of the one-sided standard normal CUSUM with k = 0.5:
 * h = 4 gives 336 in control and 8.38 for a 1 sd shift, h = 5 gives 930
 * and 10.4 (Markov-chain values, e.g. Montgomery's tables; the two-sided
 * scheme halves the in-control ones). Siegmund gives 338.1, 938.2, 8.34
 * and 10.34. In our units m = 1 (k = m/2), and h_sd = h/m.
 */
static void
test_arl_known(void **state)
{
	static const double ms[] = { 0.05, 0.25, 0.5, 2, 3.5 };
	size_t i;
	double m, hs;

	(void)state;
	assert_rel(detect_siegmund(4, 0.5, 0), 336, 0.03);
	assert_rel(detect_siegmund(5, 0.5, 0), 930, 0.03);
	assert_rel(detect_siegmund(4, 0.5, 1), 8.38, 0.03);
	assert_rel(detect_siegmund(5, 0.5, 1), 10.4, 0.03);
	assert_rel(detect_arl0(4, 1), 336, 0.03);
	assert_rel(detect_arl0(5, 1), 930, 0.03);
	assert_rel(detect_arl1(4, 1, 1), 8.38, 0.03);
	assert_rel(detect_arl1(5, 1, 1), 10.4, 0.03);
	/* No drift: ARL = b^2 = (h + 1.166)^2. */
	assert_close(detect_siegmund(4, 0.5, 0.5), 5.166 * 5.166, 1e-12);
	assert_rel(detect_siegmund(4, 0.5, 0.5 + 1e-9), 5.166 * 5.166, 1e-8);

	/*
	 * The unit mapping: our h at m is m h_sd of the standard CUSUM with
	 * k = m/2, and a shift of mu sd is mu in detect_arl1.
	 */
	for (i = 0; i < sizeof ms / sizeof ms[0]; i++) {
		m = ms[i];
		for (hs = 0.5; hs < 12; hs += 1.5) {
			assert_rel(detect_arl0(m * hs, m),
			    detect_siegmund(hs, m / 2, 0), 1e-12);
			assert_rel(detect_arl1(m * hs, m, m),
			    detect_siegmund(hs, m / 2, m), 1e-12);
			assert_rel(detect_arl1(m * hs, m, 0.3),
			    detect_siegmund(hs, m / 2, 0.3), 1e-12);
		}
	}
	/* The formula of the design note, in our units. */
	m = 0.7;
	assert_rel(detect_arl0(3.2, m), (exp(3.2 + 1.166 * m) - 3.2 -
	    1.166 * m - 1) / (m * m / 2), 1e-12);
	/* No information, no alarms. */
	assert_true(isinf(detect_arl0(3, 0)));
	assert_true(isinf(detect_threshold(100, 0)));
	assert_true(isinf(detect_threshold(100, -1)));
}

/* detect_threshold inverts detect_arl0 both ways, for every look count. */
static void
test_threshold_inverse(void **state)
{
	static const double ms[] = { 0.01, 0.05, 0.3, 1, 2.5, 4, 8 };
	static const double arls[] = { 5, 50, 200, 1000, 1e5, 1e8 };
	static const int looks[] = { 1, 7, 168 };
	size_t i, j, l;
	double h, a, hs;

	(void)state;
	for (l = 0; l < sizeof looks / sizeof looks[0]; l++)
	for (i = 0; i < sizeof ms / sizeof ms[0]; i++) {
		for (j = 0; j < sizeof arls / sizeof arls[0]; j++) {
			if (arls[j] <= detect_arl0_looks(0, ms[i], looks[l]))
				continue;
			h = detect_threshold_looks(arls[j], ms[i], looks[l]);
			assert_true(h > 0);
			assert_rel(detect_arl0_looks(h, ms[i], looks[l]),
			    arls[j], 1e-9);
		}
		for (hs = 0.25; hs < 15; hs *= 1.7) {
			a = detect_arl0_looks(hs, ms[i], looks[l]);
			assert_rel(detect_threshold_looks(a, ms[i], looks[l]),
			    hs, 1e-9);
		}
	}
	/* The plain forms are the weekly ones. */
	assert_true(detect_threshold(1000, 0.6) ==
	    detect_threshold_looks(1000, 0.6, 1));
	/* More looks, more chances: a higher threshold for the same ARL. */
	assert_true(detect_threshold_looks(1000, 0.6, 7) >
	    detect_threshold(1000, 0.6));
	assert_true(detect_threshold_looks(1000, 0.6, 168) >
	    detect_threshold_looks(1000, 0.6, 7));
	/* Below the ARL of h = 0 the threshold is 0. */
	assert_true(detect_threshold(1.0, 1) == 0);
	/* ARL0 grows with h, delay shrinks with the shift. */
	assert_true(detect_arl0(4, 0.8) > detect_arl0(3.9, 0.8));
	assert_true(detect_arl1(4, 0.8, 1.0) < detect_arl1(4, 0.8, 0.9));
	/* 12 false alarms a year over 1000 one-sided CUSUMs. */
	assert_close(detect_budget_arl0(12, 1000), 52.1775 * 1000 / 12, 1e-9);
	assert_true(isinf(detect_budget_arl0(0, 1000)));
	assert_true(isinf(detect_budget_arl0(12, 0)));
	/*
	 * Shared by weight: at equal weights exactly the unweighted share
	 * (so rejection alone keeps its thresholds); a CUSUM of weight 2
	 * gets half the ARL0, one of 0.5 twice; the rates add up to F.
	 */
	{
		int n;
		double w2, rate;

		for (n = 1; n <= 4096; n *= 4)
			assert_true(detect_budget_arl0_weighted(12, n, 1) ==
			    detect_budget_arl0(12, n));
		assert_close(detect_budget_arl0_weighted(12, 1000, 2),
		    detect_budget_arl0(12, 1000) / 2, 1e-9);
		assert_close(detect_budget_arl0_weighted(12, 1000, 0.5),
		    detect_budget_arl0(12, 1000) * 2, 1e-9);
		/* 600 CUSUMs of weight 1 and 200 of weight 2: W = 1000. */
		w2 = 600 * 1.0 + 200 * 2.0;
		rate = 600 * 52.1775 / detect_budget_arl0_weighted(12, w2, 1) +
		    200 * 52.1775 / detect_budget_arl0_weighted(12, w2, 2);
		assert_close(rate, 12, 1e-9);
		assert_true(isinf(detect_budget_arl0_weighted(12, 1000, 0)));
		assert_true(isinf(detect_budget_arl0_weighted(12, 0, 1)));
		assert_true(isinf(detect_budget_arl0_weighted(0, 1000, 1)));
	}
}

/*
 * A series for simulation: log odds ratio delta, tau2, and weeks whose V
 * is vbar times one of five factors at random, so the mean weight w (and
 * m = delta sqrt(w)) is exact.
 */
static const double sim_factor[5] = { 0.5, 0.75, 1, 1.25, 1.5 };

struct sim_series {
	double		delta;
	double		tau2;
	double		vbar;
	double		w;
};

static double
sim_mean_weight(double vbar, double tau2)
{
	double w = 0;
	int i;

	for (i = 0; i < 5; i++)
		w += detect_weight(vbar * sim_factor[i], tau2);
	return w / 5;
}

/* Choose vbar so that m = delta sqrt(w) is the one asked for. */
static void
sim_series_for(struct sim_series *s, double delta, double tau2, double m)
{
	double lo = 0, hi = 1e6, mid;
	int i;

	s->delta = delta;
	s->tau2 = tau2;
	for (i = 0; i < 200; i++) {
		mid = (lo + hi) / 2;
		if (sim_mean_weight(mid, tau2) * delta * delta < m * m)
			lo = mid;
		else
			hi = mid;
	}
	s->vbar = hi;
	s->w = sim_mean_weight(hi, tau2);
	assert_rel(s->delta * sqrt(s->w), m, 1e-9);
}

/*
 * Weeks until one side of the CUSUM exceeds h (up when sign > 0, down
 * otherwise) on data with true log odds ratio theta and a weekly
 * N(0, tau2) deviation. With looks > 1 the week's V arrives in equal
 * parts and each part ends with a look at the provisional value, the last
 * being the commit; an alarm after part d counts (d/looks) of a week.
 */
static double
sim_run_length(struct rng *r, const struct sim_series *s, double h,
    double theta, int looks, int sign, double cap)
{
	struct detect_cusum c;
	double v, u, oe, vpart, vsum, up, down, stat;
	int32_t t;
	int d;

	detect_cusum_reset(&c);
	for (t = 1; t < cap; t++) {
		v = s->vbar * sim_factor[rng_next(r) % 5];
		u = sqrt(s->tau2) * rng_normal(r);
		oe = vsum = 0;
		vpart = v / looks;
		for (d = 1; d < looks; d++) {
			oe += vpart * (theta + u) + sqrt(vpart) * rng_normal(r);
			vsum += vpart;
			detect_cusum_peek(&c, oe, vsum, s->tau2, s->delta, &up,
			    &down);
			if ((sign > 0 ? up : down) > h)
				return t - 1 + (double)d / looks;
		}
		if (looks > 1)
			oe += vpart * (theta + u) + sqrt(vpart) * rng_normal(r);
		else
			oe = v * theta + sqrt(v * (1 + s->tau2 * v)) *
			    rng_normal(r);
		detect_cusum_update(&c, t, oe, v, s->tau2, s->delta);
		stat = sign > 0 ? c.up : c.down;
		if (stat > h)
			return t;
	}
	return cap;
}

static double
sim_mean_run_length(struct rng *r, const struct sim_series *s, double h,
    double theta, int looks, int sign, int reps, double cap)
{
	double sum = 0;
	int i;

	for (i = 0; i < reps; i++)
		sum += sim_run_length(r, s, h, theta, looks, sign, cap);
	return sum / reps;
}

struct arl_case {
	double		m;
	double		arl0;
	int		looks;
	int		reps;
};

/*
 * The calibration in our units: in control the weekly O - E is
 * N(0, V (1 + tau2 V)) with V varying week to week, so the data are
 * overdispersed and the weights vary; m = delta sqrt(mean w). Run lengths
 * are nearly exponential (sd about the mean), so the standard error of a
 * simulated ARL0 is ARL0/sqrt(reps): 1.6% at 4000 replications, 2.2% at
 * 2000. Delays vary less (sd at most the mean), SE under 2.2% at 2000.
 * Found at these seeds: ARL0 within 4.2% of the target and delays within
 * 4.5% of theory, weekly and daily. Siegmund's approximation holds here
 * from m = 0.3 up; it drifts for large m (about -10% in ARL0 at m = 2.5
 * with weekly looks, seen outside this test, where delays are two weeks),
 * so the largest m tested is 1.5.
 */
static void
test_calibration_sim(void **state)
{
	static const struct arl_case cases[] = {
		{ 0.3, 200, 1, 4000 }, { 0.3, 1000, 1, 2000 },
		{ 0.6, 200, 1, 4000 }, { 0.6, 1000, 1, 2000 },
		{ 1.0, 200, 1, 4000 }, { 1.0, 1000, 1, 2000 },
		{ 0.3, 200, 7, 4000 }, { 0.3, 1000, 7, 2000 },
		{ 1.0, 200, 7, 4000 }, { 1.0, 1000, 7, 2000 },
		{ 1.5, 200, 7, 4000 }, { 1.5, 1000, 7, 2000 },
	};
	struct sim_series s;
	struct rng r;
	const struct arl_case *c;
	double h, arl0, up, delay, want;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		c = &cases[i];
		sim_series_for(&s, LOG_OR_15, 0.01, c->m);
		h = detect_threshold_looks(c->arl0, c->m, c->looks);
		rng_seed(&r, 1000 + i);
		arl0 = sim_mean_run_length(&r, &s, h, 0, c->looks, 1,
		    c->reps, 100 * c->arl0);
		if (fabs(arl0 / c->arl0 - 1) > 0.2)
			fail_msg("m %.1f looks %d: ARL0 %.1f, target %.0f",
			    c->m, c->looks, arl0, c->arl0);
		/* The design shift, upwards, then downwards. */
		want = detect_arl1_looks(h, c->m, c->m, c->looks);
		up = sim_mean_run_length(&r, &s, h, s.delta, c->looks, 1, 2000,
		    1e6);
		if (fabs(up / want - 1) > 0.2)
			fail_msg("m %.1f looks %d: delay %.2f, theory %.2f",
			    c->m, c->looks, up, want);
		delay = sim_mean_run_length(&r, &s, h, -s.delta, c->looks, -1,
		    2000, 1e6);
		if (fabs(delay / want - 1) > 0.2)
			fail_msg("m %.1f looks %d: down delay %.2f, theory "
			    "%.2f", c->m, c->looks, delay, want);
		print_message("m %.1f looks %d h %.3f: ARL0 %.1f (target "
		    "%.0f), delay %.2f up %.2f down (theory %.2f)\n", c->m,
		    c->looks, h, arl0, c->arl0, up, delay, want);
	}
}

/*
 * Why the _looks forms exist: the weekly threshold under daily looks at
 * m = 1.5 gives about 0.58 of the target ARL0 (60% more false alarms);
 * the bound 0.8 is over 6 SE away on either side.
 */
static void
test_calibration_daily_needs_looks(void **state)
{
	struct sim_series s;
	struct rng r;
	double h, arl0;

	(void)state;
	sim_series_for(&s, LOG_OR_15, 0.01, 1.5);
	h = detect_threshold(1000, 1.5);
	rng_seed(&r, 77);
	arl0 = sim_mean_run_length(&r, &s, h, 0, 7, 1, 1000, 1e5);
	assert_true(arl0 < 0.8 * 1000);
	/* The same data with weekly looks keep to the target. */
	rng_seed(&r, 77);
	arl0 = sim_mean_run_length(&r, &s, h, 0, 1, 1, 1000, 1e5);
	assert_true(fabs(arl0 / 1000 - 1) < 0.2);
}

/* DerSimonian-Laird by hand and at the edges. */
static void
test_tau2_dl_hand(void **state)
{
	/*
	 * theta = 2, -0.5, 1; mean 5/7; Q = 81/49 + 289/98 + 64/196 =
	 * 966/196; S1 - S2/S1 = 7 - 21/7 = 4; tau2 = (966/196 - 2)/4.
	 */
	double oe[] = { 2, -1, 4, 9 }, v[] = { 1, 2, 4, 0 };
	double same_oe[] = { 1, 2, 3 }, same_v[] = { 10, 20, 30 };

	(void)state;
	assert_close(detect_tau2_dl(oe, v, 4), (966.0 / 196 - 2) / 4, 1e-14);
	/* Q below its df: 0, never negative. */
	assert_true(detect_tau2_dl(same_oe, same_v, 3) == 0);
	assert_true(detect_tau2_dl(oe, v, 1) == 0);
	assert_true(detect_tau2_dl(oe, v, 0) == 0);
	/* Only one usable week. */
	v[0] = v[1] = -1;
	assert_true(detect_tau2_dl(oe, v, 4) == 0);
}

/*
 * K = 2000 weeks with V uniform on [20, 400] and theta ~ N(0.1, 1/V +
 * tau2). Over 400 replications the estimate had sd 0.00009 at tau2 = 0
 * (mean 0.00006, being cut at 0), 0.0005 at 0.01 and 0.0015 at 0.04: the
 * bounds below are 3 sd or more from the truth.
 */
static void
test_tau2_dl_sim(void **state)
{
	static const double tau2s[] = { 0, 0.01, 0.04 };
	enum { K = 2000 };
	static double oe[K], v[K];
	struct rng r;
	double est;
	size_t j;
	int i;

	(void)state;
	for (j = 0; j < sizeof tau2s / sizeof tau2s[0]; j++) {
		rng_seed(&r, 500 + j);
		for (i = 0; i < K; i++) {
			v[i] = 20 + 380 * rng_unif(&r);
			oe[i] = v[i] * 0.1 + sqrt(v[i] * (1 + tau2s[j] *
			    v[i])) * rng_normal(&r);
		}
		est = detect_tau2_dl(oe, v, K);
		if (tau2s[j] == 0)
			assert_true(est >= 0 && est < 0.003);
		else
			assert_rel(est, tau2s[j], 0.15);
	}
}

/* Size by hand: w = 2 in both weeks, log OR = (2/2 + 4/2)/4. */
static void
test_size_hand(void **state)
{
	double oe[] = { 2, 4, 7 }, v[] = { 4, 4, 0 };
	struct detect_size sz;

	(void)state;
	detect_size_estimate(oe, v, 3, 0.25, &sz);
	assert_true(sz.log_or == 0.75);
	assert_true(sz.se == 0.5);
	assert_close(sz.lo, 0.75 - Z975 * 0.5, 1e-15);
	assert_close(sz.hi, 0.75 + Z975 * 0.5, 1e-15);
	/* tau2 = 0: (2 + 4)/8, se 1/sqrt(8). */
	detect_size_estimate(oe, v, 2, 0, &sz);
	assert_true(sz.log_or == 0.75);
	assert_close(sz.se, 1 / sqrt(8), 1e-15);
	/* No information. */
	detect_size_estimate(oe, v + 2, 1, 0, &sz);
	assert_true(sz.log_or == 0 && isinf(sz.se));
	assert_true(isinf(sz.lo) && sz.lo < 0 && isinf(sz.hi));
}

/*
 * A step of OR 1.5 over 26 weeks, V uniform on [20, 60], tau2 = 0.01,
 * 500 replications. The estimator is unbiased with sd exactly se on this
 * model, so coverage is 95% (SE 1%): assert 90-99%. The mean of 500
 * estimates has SE se/22; assert within 4 of those.
 */
static void
test_size_sim(void **state)
{
	enum { WEEKS = 26, REPS = 500 };
	double oe[WEEKS], v[WEEKS], theta = LOG_OR_15, tau2 = 0.01;
	double sum = 0, se = 0;
	struct detect_size sz;
	struct rng r;
	int i, k, covered = 0;

	(void)state;
	rng_seed(&r, 4242);
	for (k = 0; k < REPS; k++) {
		for (i = 0; i < WEEKS; i++) {
			v[i] = 20 + 40 * rng_unif(&r);
			oe[i] = v[i] * (theta + sqrt(tau2) * rng_normal(&r)) +
			    sqrt(v[i]) * rng_normal(&r);
		}
		detect_size_estimate(oe, v, WEEKS, tau2, &sz);
		if (k == 0)
			assert_true(fabs(sz.log_or - theta) < 2 * sz.se);
		covered += sz.lo <= theta && theta <= sz.hi;
		sum += sz.log_or;
		se = sz.se;
	}
	assert_true(covered >= 0.90 * REPS && covered <= 0.99 * REPS);
	assert_true(fabs(sum / REPS - theta) < 4 * se / sqrt(REPS));
}

/*
 * On Bernoulli data the estimate is a one-step score estimate: its mean
 * is sum (p1 - p0) / sum p0 (1 - p0), not theta; for OR 1.2 and these
 * p that is 0.1880 against 0.1823, a bias of 0.17 se (se 0.033 at 200
 * decisions a week for 26 weeks); it grows as theta^2 (1 - 2p)/2. The
 * test checks the mean of 200 runs against that expectation (SE se/14),
 * coverage (about 94%, SE 1.7%) and one run against theta.
 */
static void
test_size_bernoulli(void **state)
{
	enum { WEEKS = 26, PER_WEEK = 200, REPS = 200 };
	static const double p0[] = { 0.1, 0.2, 0.3, 0.5 };
	double oe[WEEKS], v[WEEKS], theta = log(1.2), p, p1[4];
	double sum = 0, se = 0, expect_num = 0, expect_den = 0;
	struct detect_size sz;
	struct rng r;
	int i, j, k, covered = 0;

	(void)state;
	for (j = 0; j < 4; j++)
		p1[j] = detect_expit(detect_logit(p0[j]) + theta);
	for (j = 0; j < PER_WEEK; j++) {
		expect_num += p1[j % 4] - p0[j % 4];
		expect_den += p0[j % 4] * (1 - p0[j % 4]);
	}
	rng_seed(&r, 99);
	for (k = 0; k < REPS; k++) {
		for (i = 0; i < WEEKS; i++) {
			oe[i] = v[i] = 0;
			for (j = 0; j < PER_WEEK; j++) {
				p = p0[j % 4];
				oe[i] += (rng_unif(&r) < p1[j % 4]) - p;
				v[i] += p * (1 - p);
			}
		}
		detect_size_estimate(oe, v, WEEKS, 0, &sz);
		if (k == 0)
			assert_true(fabs(sz.log_or - theta) < 2 * sz.se);
		covered += sz.lo <= theta && theta <= sz.hi;
		sum += sz.log_or;
		se = sz.se;
	}
	assert_true(fabs(sum / REPS - expect_num / expect_den) <
	    4 * se / sqrt(REPS));
	assert_true(covered >= 0.88 * REPS && covered <= 0.99 * REPS);
}

/* Smaller series need larger shifts; the design OR at its own delay. */
static void
test_detectable_or(void **state)
{
	static const int looks[] = { 1, 7 };
	double delta = LOG_OR_15, w, h, prev, or, horizon, m, top = 0;
	size_t l;

	(void)state;
	for (l = 0; l < 2; l++) {
		/*
		 * The threshold fixed (for m = 1, w = 6.1), and recalibrated
		 * for each w as the detector does. A fixed h far from its own
		 * m is degenerate: at w > 100 (m > 4) its h_sd = h/m is under
		 * 1.2 and Siegmund's overshoot term dominates, so stay below.
		 */
		h = detect_threshold_looks(1000, 1.0, looks[l]);
		prev = INFINITY;
		for (w = 0.5; w < 60; w *= 1.3) {
			or = detect_detectable_or_looks(h, delta, w, 26,
			    looks[l]);
			assert_true(or > 1 && or < prev);
			prev = or;
		}
		prev = INFINITY;
		for (w = 0.5; w < 200; w *= 1.3) {
			m = delta * sqrt(w);
			h = detect_threshold_looks(1000, m, looks[l]);
			or = detect_detectable_or_looks(h, delta, w, 26,
			    looks[l]);
			assert_true(or > 1 && or < prev);
			prev = or;
		}
		/* The delay for the design shift as horizon: exp(delta). */
		for (w = 1; w < 100; w *= 3) {
			m = delta * sqrt(w);
			h = detect_threshold_looks(1000, m, looks[l]);
			horizon = detect_arl1_looks(h, m, m, looks[l]);
			assert_rel(detect_detectable_or_looks(h, delta, w,
			    horizon, looks[l]), exp(delta), 1e-12);
			/* A longer horizon reaches a smaller OR. */
			assert_true(detect_detectable_or_looks(h, delta, w,
			    horizon * 1.5, looks[l]) < exp(delta));
		}
	}
	/* Against the delay itself: at the OR found, the delay is 26. */
	w = 4;
	m = delta * sqrt(w);
	h = detect_threshold(500, m);
	or = detect_detectable_or(h, delta, w, 26);
	assert_true(or == detect_detectable_or_looks(h, delta, w, 26, 1));
	assert_rel(detect_arl1(h, m, log(or) * sqrt(w)), 26, 1e-9);
	/* Degenerate inputs. */
	assert_true(isinf(detect_detectable_or_looks(h, delta, 0, 26, 1)));
	assert_true(isinf(detect_detectable_or_looks(h, 0, 4, 26, 1)));
	assert_true(isinf(detect_detectable_or_looks(h, delta, 4, 0, 1)));
	/* A horizon past the in-control ARL: any OR > 1 will do. */
	assert_true(detect_detectable_or_looks(h, delta, w, 1e6, 1) == 1);
	/*
	 * A series of a few decisions a year: as w falls the odds ratio
	 * found within the horizon grows to DETECT_OR_MAX, then there is
	 * none (not 1e150), and no smaller w finds one again.
	 */
	prev = 1;
	for (w = 1; w > 1e-6; w /= 2) {
		m = delta * sqrt(w);
		h = detect_threshold(500, m);
		or = detect_detectable_or(h, delta, w, 26);
		if (isinf(prev)) {
			assert_true(isinf(or));
			continue;
		}
		assert_true(isinf(or) || (or > prev && or <= DETECT_OR_MAX));
		if (!isinf(or)) {
			assert_rel(detect_arl1(h, m, log(or) * sqrt(w)), 26,
			    1e-9);
			top = or;
		}
		prev = or;
	}
	assert_true(isinf(prev));
	/* It grew well past the design shift before there was none. */
	assert_true(top > 20);
	/* Just above the cap: none; just below: the odds ratio itself. */
	w = 1;
	m = delta * sqrt(w);
	h = detect_threshold(500, m);
	horizon = detect_arl1(h, m, log(DETECT_OR_MAX / 1.01) * sqrt(w));
	assert_rel(detect_detectable_or(h, delta, w, horizon),
	    DETECT_OR_MAX / 1.01, 1e-9);
	horizon = detect_arl1(h, m, log(DETECT_OR_MAX * 1.01) * sqrt(w));
	assert_true(isinf(detect_detectable_or(h, delta, w, horizon)));
}

static void
test_logit_expit(void **state)
{
	double x;

	(void)state;
	assert_true(detect_expit(0) == 0.5);
	assert_true(detect_logit(0.5) == 0);
	assert_close(detect_logit(0.2), log(0.25), 1e-15);
	assert_close(detect_expit(log(3)), 0.75, 1e-15);
	for (x = -30; x <= 30; x += 0.37)
		/* 1 - expit(x) loses about exp(x) ulps for x > 0. */
		assert_close(detect_logit(detect_expit(x)), x,
		    1e-12 + 1e-15 * exp(fabs(x)));
	/* No overflow, no exact 0 or 1 into logit. */
	assert_true(detect_expit(800) == 1);
	assert_true(detect_expit(-800) >= 0 && detect_expit(-800) < 1e-300);
	assert_true(isfinite(detect_logit(0)) && detect_logit(0) < -34);
	assert_true(isfinite(detect_logit(1)) && detect_logit(1) > 34);
	assert_true(isfinite(detect_logit(-2)));
	assert_true(isnan(detect_logit(NAN)));
	assert_true(isnan(detect_expit(NAN)));
}

/*
 * detect_llr_bernoulli: the normal form for tiny delta, the exact
 * binomial LLR with tau2 = 0, and E0[exp(LLR)] = 1 summed over the
 * binomial pmf (a likelihood ratio has mean 1 under the null).
 */
static void
test_llr_bernoulli_week(void **state)
{
	static const double ns[] = { 1, 5, 20, 100 };
	static const double ps[] = { 0.03, 0.2, 0.5, 0.9 };
	static const double deltas[] = { 0.4054651081081644, -0.6931471805599453,
	    1e-5, -3e-5, 1.5 };
	double n, p, e, v, delta, o, llr, exact, lpmf, sum, tiny, g;
	size_t i, j, k;

	(void)state;
	for (i = 0; i < sizeof ns / sizeof ns[0]; i++)
		for (j = 0; j < sizeof ps / sizeof ps[0]; j++)
			for (k = 0; k < sizeof deltas / sizeof deltas[0]; k++) {
				n = ns[i];
				p = ps[j];
				delta = deltas[k];
				e = n * p;
				v = n * p * (1 - p);
				sum = 0;
				for (o = 0; o <= n; o++) {
					llr = detect_llr_bernoulli(delta,
					    o - e, e, v, n, 0);
					exact = delta * o -
					    n * log1p(p * expm1(delta));
					assert_close(llr, exact,
					    1e-12 * (1 + fabs(exact)));
					lpmf = lgamma(n + 1) - lgamma(o + 1) -
					    lgamma(n - o + 1) + o * log(p) +
					    (n - o) * log1p(-p);
					sum += exp(lpmf + llr);
				}
				assert_close(sum, 1, 1e-12);
			}
	/* Tiny delta: detect_llr, up to the cubic term. */
	for (j = 0; j < sizeof ps / sizeof ps[0]; j++) {
		p = ps[j];
		tiny = 1e-3;
		llr = detect_llr_bernoulli(tiny, 2.5, 20 * p, 20 * p * (1 - p),
		    20, 0.05);
		g = detect_llr(tiny, 2.5, 20 * p * (1 - p), 0.05);
		assert_close(llr, g, 20 * p * (1 - p) * (fabs(1 - 2 * p) / 6 +
		    tiny / 24) * tiny * tiny * tiny * 1.01 + 1e-15);
		/* Both branches of g agree where they meet. */
		assert_rel(detect_llr_bernoulli(1e-3 * (1 - 1e-12), 0, p,
		    p * (1 - p), 1, 0), detect_llr_bernoulli(1e-3, 0, p,
		    p * (1 - p), 1, 0), 1e-10);
	}
	/* tau2 shrinks by 1 + tau2 v. */
	assert_close(detect_llr_bernoulli(0.5, 3, 4, 2, 10, 0.5),
	    detect_llr_bernoulli(0.5, 3, 4, 2, 10, 0) / 2, 1e-15);
	/* No information. */
	assert_true(detect_llr_bernoulli(0.5, 1, 1, 0, 4, 0) == 0);
	assert_true(detect_llr_bernoulli(0.5, 1, 1, 1, 0, 0) == 0);
	assert_true(detect_llr_bernoulli(0.5, NAN, 1, 1, 4, 0) == 0);
	assert_true(detect_llr_bernoulli(0.5, 1, 1, 1, INFINITY, 0) == 0);
	/* pbar outside (0, 1) is clamped, not a NaN. */
	assert_true(isfinite(detect_llr_bernoulli(0.5, 0, 0, 1e-12, 4, 0)));
	assert_true(isfinite(detect_llr_bernoulli(0.5, 0, 4, 1e-12, 4, 0)));
}

/* The Bernoulli twins step exactly like detect_cusum_update/_peek. */
static void
test_cusum_bernoulli(void **state)
{
	static const double os[] = { 3, 0, 0, 5, 1, 0, 0, 0, 0, 0, 0, 0 };
	struct detect_cusum c, before;
	double up, down, want_up = 0, want_down = 0, n = 10, e = 1.2,
	    v = 1.02, tau2 = 0.1, delta = 0.6931471805599453;
	int32_t want_us = DETECT_NO_START, want_ds = DETECT_NO_START;
	size_t i;

	(void)state;
	detect_cusum_reset(&c);
	for (i = 0; i < sizeof os / sizeof os[0]; i++) {
		before = c;
		detect_cusum_peek_bernoulli(&c, os[i] - e, e, v, n, tau2,
		    delta, &up, &down);
		assert_memory_equal(&c, &before, sizeof c);
		detect_cusum_update_bernoulli(&c, 10 + (int32_t)i, os[i] - e,
		    e, v, n, tau2, delta);
		assert_true(up == c.up && down == c.down);
		want_up += detect_llr_bernoulli(delta, os[i] - e, e, v, n,
		    tau2);
		want_down += detect_llr_bernoulli(-delta, os[i] - e, e, v, n,
		    tau2);
		if (!(want_up > 0)) {
			want_up = 0;
			want_us = DETECT_NO_START;
		} else if (want_us == DETECT_NO_START)
			want_us = 10 + (int32_t)i;
		if (!(want_down > 0)) {
			want_down = 0;
			want_ds = DETECT_NO_START;
		} else if (want_ds == DETECT_NO_START)
			want_ds = 10 + (int32_t)i;
		assert_true(c.up == want_up && c.down == want_down);
		assert_int_equal(c.up_start, want_us);
		assert_int_equal(c.down_start, want_ds);
	}
	/* The run went up, back to 0, and down. */
	assert_true(c.down > 0 && c.up == 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rng),
		cmocka_unit_test(test_llr),
		cmocka_unit_test(test_llr_bernoulli),
		cmocka_unit_test(test_cusum),
		cmocka_unit_test(test_cusum_save_load),
		cmocka_unit_test(test_arl_known),
		cmocka_unit_test(test_threshold_inverse),
		cmocka_unit_test(test_calibration_sim),
		cmocka_unit_test(test_calibration_daily_needs_looks),
		cmocka_unit_test(test_tau2_dl_hand),
		cmocka_unit_test(test_tau2_dl_sim),
		cmocka_unit_test(test_size_hand),
		cmocka_unit_test(test_size_sim),
		cmocka_unit_test(test_size_bernoulli),
		cmocka_unit_test(test_detectable_or),
		cmocka_unit_test(test_logit_expit),
		cmocka_unit_test(test_llr_bernoulli_week),
		cmocka_unit_test(test_cusum_bernoulli),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
