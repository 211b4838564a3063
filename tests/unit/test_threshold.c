/*
 * monitor_fit: a series' thresholds against the definition they are
 * searched for. The false-alarm rate averaged over the baseline's lasting
 * offset N(0, sd^2) (three-point Gauss-Hermite: 0 and +-sqrt(3) sd,
 * weights 2/3, 1/6, 1/6) must be 1/arl0 at the threshold, whatever the
 * offset: also where it turns a node's in-control drift upwards, so that
 * its ARL grows only in proportion to h and the threshold is many times
 * the one without the offset. Models are drawn from a seeded generator:
 * small binomial series of one to twelve decisions a week, and normal
 * ones.
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
#include "monitor_int.h"
#include "test_rng.h"

#define NODE	1.7320508075688772

/* log(rate x arl0) of one side at h, straight from the definition. */
static double
excess_binomial(const struct mon_thr_in *in, double delta, double h)
{
	static const double node[3] = { 0, NODE, -NODE };
	static const double weight[3] = { 2.0 / 3, 1.0 / 6, 1.0 / 6 };
	struct arl_binomial bm;
	double rate = 0;
	int j;

	bm.weeks = in->types;
	bm.nweeks = in->ntypes;
	bm.tau2_true = bm.tau2_stat = in->tau2;
	bm.delta = delta;
	for (j = 0; j < 3; j++)
		rate += weight[j] / arl_binomial_run(&bm, h, node[j] * in->sd);
	return log(rate * in->arl0);
}

static double
excess_normal(const struct mon_thr_in *in, double h)
{
	static const double node[3] = { 0, NODE, -NODE };
	static const double weight[3] = { 2.0 / 3, 1.0 / 6, 1.0 / 6 };
	double rate = 0, sw = sqrt(in->w);
	int j;

	for (j = 0; j < 3; j++)
		rate += weight[j] / arl_normal_run(h, in->delta * sw, 1,
		    in->looks, node[j] * in->sd * sw);
	return log(rate * in->arl0);
}

/* The unshifted threshold, which the search starts from. */
static double
h0_binomial(const struct mon_thr_in *in, double delta)
{
	struct arl_binomial bm;

	bm.weeks = in->types;
	bm.nweeks = in->ntypes;
	bm.tau2_true = bm.tau2_stat = in->tau2;
	bm.delta = delta;
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

static void
test_normal_budget(void **state)
{
	struct rng r;
	struct mon_thr_in in;
	struct mon_thr_out out;
	int i, far = 0;
	double h0;

	(void)state;
	rng_seed(&r, 6122026);
	for (i = 0; i < 30; i++) {
		memset(&in, 0, sizeof in);
		in.w = 20 + rng_unif(&r) * 500;
		in.delta = rng_unif(&r) < 0.5 ? log(1.2) : log(1.5);
		in.sd = in.delta * (0.1 + 1.9 * rng_unif(&r));
		in.arl0 = rng_unif(&r) < 0.5 ? 2000 : 14000;
		in.looks = rng_unif(&r) < 0.5 ? 1 : 5;
		in.relevant = in.delta;
		in.horizon = 52;
		mon_threshold_compute(&in, &out);
		assert_false(out.small);
		h0 = arl_normal_threshold(in.arl0, in.delta * sqrt(in.w), 1,
		    in.looks, 0);
		check_side(excess_normal(&in, out.h), out.h, h0, "normal", i);
		far += out.h > 3 * h0;
	}
	if (far < 5)
		fail_msg("only %d models with a threshold over 3 times the "
		    "unshifted one", far);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_binomial_budget),
		cmocka_unit_test(test_normal_budget),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
