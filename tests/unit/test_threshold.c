/*
 * monitor_fit: a small series' thresholds against the definition they are
 * searched for. The false-alarm rate averaged over the baseline's lasting
 * offset N(0, sd^2) (three-point Gauss-Hermite: 0 and +-sqrt(3) sd,
 * weights 2/3, 1/6, 1/6) must be 1/arl0 at the threshold, whatever the
 * offset: also where it turns a node's in-control drift upwards, so that
 * its ARL grows only in proportion to h and the threshold is many times
 * the one without the offset. Models are drawn from a seeded generator
 * (one to twelve decisions a week). At such thresholds the chain's grid
 * is coarse against a decision's step, so the rate is also simulated
 * there, straight from the model. Large series (the normal chain) are
 * held to the same definition: drawn models, and far ones whose run
 * length at the node that sets the rate is simulated.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "arl.h"
#include "detect.h"
#include "monitor_int.h"
#include "test_rng.h"

/* The offset's nodes, in units of its sd, and their weights. */
static const double node[3] = { 0, 1.7320508075688772, -1.7320508075688772 };
static const double weight[3] = { 2.0 / 3, 1.0 / 6, 1.0 / 6 };

/* One side's chain model, as mon_threshold_compute builds it. */
static struct arl_binomial
side_model(const struct mon_thr_in *in, double delta)
{
	struct arl_binomial bm;

	bm.weeks = in->types;
	bm.nweeks = in->ntypes;
	bm.tau2_true = bm.tau2_stat = in->tau2;
	bm.delta = delta;
	return bm;
}

/* log(rate x arl0) of one side at h, straight from the definition. */
static double
excess_binomial(const struct mon_thr_in *in, double delta, double h)
{
	struct arl_binomial bm = side_model(in, delta);
	double rate = 0;
	int j;

	for (j = 0; j < 3; j++)
		rate += weight[j] / arl_binomial_run(&bm, h, node[j] * in->sd);
	return log(rate * in->arl0);
}

/* The unshifted threshold, which the search starts from. */
static double
h0_binomial(const struct mon_thr_in *in, double delta)
{
	struct arl_binomial bm = side_model(in, delta);

	return arl_binomial_threshold(&bm, in->arl0);
}

/*
 * At the threshold the rate is on target (the search stops within 0.02
 * of it on the log scale), or below it where the threshold without the
 * offset is already enough.
 */
static void
check_side(double f, double h, double h0, const char *what, int i)
{
	if (h > h0 + 1e-9 ? fabs(f) <= 0.03 : f <= 0.03)
		return;
	fail_msg("%s of model %d: h %.3f (%.3f without the offset) has "
	    "log(rate x arl0) %.3f", what, i, h, h0, f);
}

static void
test_binomial_budget(void **state)
{
	struct rng r;
	struct mon_thr_in in;
	struct mon_thr_out out;
	int i, t, far = 0;
	double h0, sum;

	(void)state;
	rng_seed(&r, 20261206);
	for (i = 0; i < 60; i++) {
		memset(&in, 0, sizeof in);
		in.small = true;
		in.ntypes = 1 + (int)(rng_unif(&r) * 4);
		sum = 0;
		for (t = 0; t < in.ntypes; t++) {
			in.types[t].n = 1 + floor(rng_unif(&r) * 12);
			in.types[t].p = 0.03 + rng_unif(&r) * 0.4;
			in.types[t].weight = 0.2 + rng_unif(&r);
			sum += in.types[t].weight;
		}
		in.w = 0;
		for (t = 0; t < in.ntypes; t++) {
			in.types[t].weight /= sum;
			in.w += in.types[t].weight * in.types[t].n *
			    in.types[t].p * (1 - in.types[t].p);
		}
		in.delta = rng_unif(&r) < 0.5 ? log(1.5) : log(2);
		/* From a tenth of the shift to twice it. */
		in.sd = in.delta * (0.1 + 1.9 * rng_unif(&r));
		in.tau2 = rng_unif(&r) < 0.5 ? 0 : 0.02;
		in.arl0 = rng_unif(&r) < 0.5 ? 2000 : 14000;
		in.relevant = in.delta;
		in.horizon = 52;
		in.looks = 1;
		mon_threshold_compute(&in, &out);
		assert_true(out.small);
		h0 = h0_binomial(&in, in.delta);
		check_side(excess_binomial(&in, in.delta, out.h), out.h, h0,
		    "upward", i);
		far += out.h > 3 * h0;
		h0 = h0_binomial(&in, -in.delta);
		check_side(excess_binomial(&in, -in.delta, out.h_down),
		    out.h_down, h0, "downward", i);
		far += out.h_down > 3 * h0;
	}
	/* The drawn models must reach the regime the search is for. */
	if (far < 10)
		fail_msg("only %d sides with a threshold over 3 times the "
		    "unshifted one", far);
}

/* One week's LLR for each count, and the counts' CDF, under theta. */
struct sim_week {
	int	n;
	double	llr[64];
	double	cdf[64];
};

static void
sim_week_init(struct sim_week *w, int n, double p, double delta,
    double theta)
{
	double q = detect_expit(detect_logit(p) + theta), pmf, sum = 0;
	int o;

	assert_true(n < 64);
	w->n = n;
	for (o = 0; o <= n; o++) {
		w->llr[o] = detect_llr_bernoulli(delta, o - n * p, n * p,
		    n * p * (1 - p), n, 0);
		pmf = exp(lgamma(n + 1.0) - lgamma(o + 1.0) -
		    lgamma(n - o + 1.0) + o * log(q) + (n - o) * log1p(-q));
		sum += pmf;
		w->cdf[o] = sum;
	}
	w->cdf[n] = 1;
}

/* Mean and standard error of the run length from 0 to above h. */
static void
sim_arl(const struct sim_week *w, double h, int runs, struct rng *r,
    double *mean, double *se)
{
	double s1 = 0, s2 = 0, t, v, stat;
	int i, o;

	for (i = 0; i < runs; i++) {
		for (stat = 0, t = 1;; t++) {
			v = rng_unif(r);
			for (o = 0; o < w->n && w->cdf[o] < v; o++)
				;
			stat = fmax(0, stat + w->llr[o]);
			if (stat > h)
				break;
		}
		s1 += t;
		s2 += t * t;
	}
	*mean = s1 / runs;
	*se = sqrt((s2 / runs - *mean * *mean) / (runs - 1));
}

/*
 * Where the offset outweighs the shift, the threshold's rate simulated:
 * the node that turns the drift towards the side (its ARL is then about
 * arl0/6) by simulation, the others (far longer) by the chain. One week
 * type of n decisions, no wobble, so that the model is exactly a
 * binomial walk.
 */
static void
test_binomial_far_simulated(void **state)
{
	static const struct { int n; double p; double sd; } m[] = {
		{ 4, 0.25, 1.4 }, { 8, 0.15, 1.2 }, { 12, 0.3, 1.6 },
	};
	struct mon_thr_in in;
	struct mon_thr_out out;
	struct arl_binomial bm;
	struct sim_week w;
	struct rng r;
	double delta, h, h0, chain, mean, se, rate, rate_se;
	int i, j, side, near;

	(void)state;
	rng_seed(&r, 5122026);
	for (i = 0; i < (int)(sizeof m / sizeof m[0]); i++) {
		memset(&in, 0, sizeof in);
		in.small = true;
		in.ntypes = 1;
		in.types[0].n = m[i].n;
		in.types[0].p = m[i].p;
		in.types[0].weight = 1;
		in.w = m[i].n * m[i].p * (1 - m[i].p);
		in.delta = log(1.5);
		in.sd = m[i].sd * in.delta;
		in.arl0 = 2000;
		in.relevant = in.delta;
		in.horizon = 52;
		in.looks = 1;
		mon_threshold_compute(&in, &out);
		for (side = 0; side < 2; side++) {
			delta = side == 0 ? in.delta : -in.delta;
			h = side == 0 ? out.h : out.h_down;
			h0 = h0_binomial(&in, delta);
			if (!(h > 3 * h0))
				fail_msg("model %d side %d: h %.2f is not in "
				    "the regime (h0 %.2f)", i, side, h, h0);
			bm = side_model(&in, delta);
			/* The node the drift turns towards this side. */
			near = side == 0 ? 1 : 2;
			chain = arl_binomial_run(&bm, h, node[near] * in.sd);
			sim_week_init(&w, m[i].n, m[i].p, delta,
			    node[near] * in.sd);
			sim_arl(&w, h, 400, &r, &mean, &se);
			/* The chain's run length is the simulated one. */
			if (fabs(chain - mean) > 4 * se + 0.01 * mean)
				fail_msg("model %d side %d at h %.2f: chain "
				    "ARL %.1f, simulated %.1f +- %.1f", i,
				    side, h, chain, mean, se);
			/* And the averaged rate is on target. */
			for (j = 0, rate = 0; j < 3; j++)
				rate += weight[j] / (j == near ? mean :
				    arl_binomial_run(&bm, h, node[j] * in.sd));
			rate *= in.arl0;
			rate_se = weight[near] / mean * in.arl0 * se / mean;
			if (fabs(rate - 1) > 4 * rate_se + 0.03)
				fail_msg("model %d side %d at h %.2f: rate x "
				    "arl0 %.3f +- %.3f by simulation", i, side,
				    h, rate, rate_se);
		}
	}
}

/* A large series' chain model: as mon_threshold_compute builds it. */
static double
excess_normal(const struct mon_thr_in *in, double h)
{
	double m = in->delta * sqrt(in->w), rate = 0;
	int j;

	for (j = 0; j < 3; j++)
		rate += weight[j] / arl_normal_run(h, m, 1, in->looks,
		    node[j] * in->sd * sqrt(in->w));
	return log(rate * in->arl0);
}

static void
normal_model(struct rng *r, struct mon_thr_in *in)
{
	memset(in, 0, sizeof *in);
	in->small = false;
	in->w = 20 + rng_unif(r) * 300;
	in->delta = rng_unif(r) < 0.5 ? log(1.5) : log(2);
	/*
	 * From a fiftieth of the shift to 0.6 of it: the upper node's drift
	 * turns upwards from sd = delta / (2 sqrt(3)), about 0.29 delta.
	 */
	in->sd = in->delta * (0.02 + 0.58 * rng_unif(r));
	in->arl0 = rng_unif(r) < 0.5 ? 2000 : 14000;
	in->relevant = in->delta;
	in->horizon = 52;
	in->looks = rng_unif(r) < 0.5 ? 1 : 7;
}

/*
 * Large series: the averaged rate on target at the threshold, also where
 * the offset turns a node's drift upwards and the threshold is many
 * times the one without it (there the normal chain's cells are wider
 * than a week's drift, and split a look in proportion).
 */
static void
test_normal_budget(void **state)
{
	struct rng r;
	struct mon_thr_in in;
	struct mon_thr_out out;
	int i, far = 0;
	double h0;

	(void)state;
	rng_seed(&r, 20261207);
	for (i = 0; i < 40; i++) {
		normal_model(&r, &in);
		mon_threshold_compute(&in, &out);
		assert_false(out.small);
		h0 = arl_normal_threshold(in.arl0, in.delta * sqrt(in.w), 1,
		    in.looks, 0);
		check_side(excess_normal(&in, out.h), out.h, h0, "normal", i);
		assert_true(out.h_down == out.h);
		far += out.h > 10 * fmax(h0, 1);
	}
	if (far < 5)
		fail_msg("only %d models with a threshold over 10 times the "
		    "unshifted one (and over 10)", far);
}

/* One run of the normal statistic from 0 to an alarm over h, in weeks. */
static double
sim_normal_run(struct rng *r, double h, double m, double shift, int looks)
{
	double mu = m * (shift - m / 2) / looks, sd = m / sqrt(looks), x = 0;
	long t;
	int l;

	for (t = 1;; t++) {
		for (l = 0; l < looks; l++) {
			x += mu + sd * rng_normal(r);
			if (x > h)
				return (double)t;
		}
		x = fmax(0, x);
	}
}

/*
 * Far large models: the run length of the node that turns the drift
 * upwards, at the threshold, simulated; the averaged rate with it on
 * target.
 */
static void
test_normal_far_simulated(void **state)
{
	static const struct { double w; double sd; int looks; } m[] = {
		{ 40, 0.4, 1 }, { 200, 0.35, 7 }, { 25, 0.6, 7 },
	};
	struct mon_thr_in in;
	struct mon_thr_out out;
	struct rng r;
	double mm, shift, chain, s1, s2, x, mean, se, rate, rate_se;
	int i, j, k, runs = 400;

	(void)state;
	rng_seed(&r, 7122026);
	for (i = 0; i < (int)(sizeof m / sizeof m[0]); i++) {
		memset(&in, 0, sizeof in);
		in.w = m[i].w;
		in.delta = log(1.5);
		in.sd = m[i].sd * in.delta;
		in.arl0 = 2000;
		in.relevant = in.delta;
		in.horizon = 52;
		in.looks = m[i].looks;
		mon_threshold_compute(&in, &out);
		mm = in.delta * sqrt(in.w);
		if (!(out.h > 10 * fmax(1, arl_normal_threshold(in.arl0, mm,
		    1, in.looks, 0))))
			fail_msg("model %d: h %.2f is not in the regime", i,
			    out.h);
		shift = node[1] * in.sd * sqrt(in.w);
		chain = arl_normal_run(out.h, mm, 1, in.looks, shift);
		for (k = 0, s1 = s2 = 0; k < runs; k++) {
			x = sim_normal_run(&r, out.h, mm, shift, in.looks);
			s1 += x;
			s2 += x * x;
		}
		mean = s1 / runs;
		se = sqrt(fmax(0, s2 / runs - mean * mean) / runs);
		if (fabs(chain - mean) > 4 * se + 0.02 * mean)
			fail_msg("model %d at h %.2f: chain ARL %.1f, simulated "
			    "%.1f +- %.1f", i, out.h, chain, mean, se);
		for (j = 0, rate = 0; j < 3; j++)
			rate += weight[j] / (j == 1 ? mean : arl_normal_run(
			    out.h, mm, 1, in.looks, node[j] * in.sd *
			    sqrt(in.w)));
		rate *= in.arl0;
		rate_se = weight[1] / mean * in.arl0 * se / mean;
		if (fabs(rate - 1) > 4 * rate_se + 0.04)
			fail_msg("model %d at h %.2f: rate x arl0 %.3f +- %.3f "
			    "by simulation", i, out.h, rate, rate_se);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_binomial_budget),
		cmocka_unit_test(test_binomial_far_simulated),
		cmocka_unit_test(test_normal_budget),
		cmocka_unit_test(test_normal_far_simulated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
