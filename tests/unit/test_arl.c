/*
 * arl: the Markov-chain run lengths against seeded simulations of the
 * statistic itself (detect_llr_bernoulli for binomial weeks, the normal
 * increment with looks), against Siegmund where his approximation is
 * accurate, and the tau^2 uncertainty against a simulation that draws the
 * variance ratio. The generator is xoshiro256** with Box-Muller normals.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>

#include "arl.h"
#include "detect.h"
#include "test_rng.h"

#define LOG_OR_15	0.4054651081081644	/* log(1.5) */
#define LOG_OR_2	0.6931471805599453	/* log(2) */

/* Binomial by counting Bernoulli trials: n is small here. */
static int
rng_binomial(struct rng *r, int n, double p)
{
	int i, k = 0;

	for (i = 0; i < n; i++)
		k += rng_unif(r) < p;
	return k;
}

/* Mean run length and its standard error. */
struct mc {
	double		mean;
	double		se;
};

static void
mc_add(double *s1, double *s2, double t)
{
	*s1 += t;
	*s2 += t * t;
}

static void
mc_end(struct mc *out, double s1, double s2, int runs)
{
	out->mean = s1 / runs;
	out->se = sqrt(fmax(s2 / runs - out->mean * out->mean, 0) / runs);
}

/*
 * The binomial model's weeks, drawn as arl.h states: a week type by its
 * weight, floor or ceil of a fractional n, u ~ N(0, tau2_true), then the
 * count; the statistic is detect_llr_bernoulli for the actual n.
 */
static double
mc_binomial_week(struct rng *r, const struct arl_binomial *m, double theta)
{
	const struct arl_week *w;
	double total = 0, pick, u, p, e, v;
	int j, n, o;

	for (j = 0; j < m->nweeks; j++)
		total += m->weeks[j].weight;
	pick = rng_unif(r) * total;
	for (j = 0; j < m->nweeks - 1; j++) {
		if (pick < m->weeks[j].weight)
			break;
		pick -= m->weeks[j].weight;
	}
	w = &m->weeks[j];
	n = (int)floor(w->n);
	if (rng_unif(r) < w->n - n)
		n++;
	u = sqrt(m->tau2_true) * rng_normal(r);
	p = detect_expit(detect_logit(w->p) + theta + u);
	o = rng_binomial(r, n, p);
	e = n * w->p;
	v = n * w->p * (1 - w->p);
	return detect_llr_bernoulli(m->delta, o - e, e, v, n, m->tau2_stat);
}

/* Zero-start run lengths, reflecting at 0, alarm when S > h. */
static void
mc_binomial(const struct arl_binomial *m, double h, double theta, int runs,
    uint64_t seed, struct mc *out)
{
	struct rng r;
	double s, s1 = 0, s2 = 0;
	long t;
	int i;

	rng_seed(&r, seed);
	for (i = 0; i < runs; i++) {
		s = 0;
		for (t = 1;; t++) {
			s = fmax(0, s + mc_binomial_week(&r, m, theta));
			if (s > h)
				break;
		}
		mc_add(&s1, &s2, (double)t);
	}
	mc_end(out, s1, s2, runs);
}

/*
 * One week of the normal statistic from s: `looks` partial sums, each
 * compared with h, reflected at 0 only at the commit. Returns -1 on an
 * alarm, else the committed value.
 */
static double
mc_normal_week(struct rng *r, double s, double h, double m, double rr,
    int looks, double shift_sd)
{
	double mu = m * (shift_sd - m / 2) / looks, sd = m * rr / sqrt(looks);
	int l;

	for (l = 0; l < looks; l++) {
		s += mu + sd * rng_normal(r);
		if (s > h)
			return -1;
	}
	return fmax(0, s);
}

static void
mc_normal(double h, double m, double rr, int looks, double shift_sd,
    int runs, uint64_t seed, struct mc *out)
{
	struct rng r;
	double s, s1 = 0, s2 = 0;
	long t;
	int i;

	rng_seed(&r, seed);
	for (i = 0; i < runs; i++) {
		s = 0;
		for (t = 1;; t++)
			if ((s = mc_normal_week(&r, s, h, m, rr, looks,
			    shift_sd)) < 0)
				break;
		mc_add(&s1, &s2, (double)t);
	}
	mc_end(out, s1, s2, runs);
}

/*
 * The simulated mean within rel of the computed ARL, widened by two
 * simulation standard errors.
 */
static void
assert_mc(const char *what, const struct mc *got, double want, double rel)
{
	if (!(fabs(got->mean - want) <= rel * want + 2 * got->se))
		fail_msg("%s: simulated %.2f (se %.2f), computed %.2f", what,
		    got->mean, got->se, want);
}

/*
 * Small classes at a quick in-control target, one with more
 * overdispersion than the statistic assumes, one downward: the in-control
 * ARL at the computed threshold and the delay at odds ratio 2 (1/2 for
 * the downward side) within 10% of simulation. With one size of week the
 * statistic takes values on a lattice and the exact ARL is a staircase in
 * h; the threshold is the smallest h reaching the target, which may sit on
 * a riser, and there a simulation lands on the stair above or below it.
 * So the in-control check is against the chain's ARL just below and just
 * above h (0.05, about one grid step): the simulation must lie between
 * them, give or take 10%.
 */
static void
test_binomial_sim(void **state)
{
	static const struct {
		double	n, p, tau2_true, tau2_stat, delta;
	} cls[] = {
		{ 5, 0.05, 0.01, 0.01, LOG_OR_15 },
		{ 5, 0.2, 0.01, 0.01, LOG_OR_15 },
		{ 5, 0.45, 0.01, 0.01, LOG_OR_15 },
		{ 20, 0.05, 0.01, 0.01, LOG_OR_15 },
		{ 20, 0.2, 0.01, 0.01, LOG_OR_15 },
		{ 20, 0.45, 0.01, 0.01, LOG_OR_15 },
		{ 100, 0.05, 0.01, 0.01, LOG_OR_15 },
		{ 100, 0.2, 0.01, 0.01, LOG_OR_15 },
		{ 100, 0.45, 0.01, 0.01, LOG_OR_15 },
		{ 20, 0.2, 0.1, 0.01, LOG_OR_15 },
		{ 20, 0.2, 0.01, 0.01, -LOG_OR_15 },
	};
	struct arl_week w;
	struct arl_binomial m;
	struct mc mc;
	double h, arl, arl1, theta, below, above, at;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cls / sizeof cls[0]; i++) {
		w.n = cls[i].n;
		w.p = cls[i].p;
		w.weight = 1;
		m.weeks = &w;
		m.nweeks = 1;
		m.tau2_true = cls[i].tau2_true;
		m.tau2_stat = cls[i].tau2_stat;
		m.delta = cls[i].delta;
		h = arl_binomial_threshold_at(&m, 300, &at);
		assert_true(h > 0 && isfinite(h));
		arl = arl_binomial_run(&m, h, 0);
		/* The offset search takes it as the chain's own. */
		assert_true(at == arl);
		assert_true(arl > 300 * (1 - 2e-3) && arl < 300 * 1.1);
		below = arl_binomial_run(&m, h - 0.05, 0);
		above = arl_binomial_run(&m, h + 0.05, 0);
		assert_true(below < 300 && above > 300);
		mc_binomial(&m, h, 0, 2000, 100 + i, &mc);
		if (!(mc.mean >= 0.9 * below - 2 * mc.se &&
		    mc.mean <= 1.1 * above + 2 * mc.se))
			fail_msg("class %zu: simulated %.2f (se %.2f), "
			    "computed %.2f to %.2f", i, mc.mean, mc.se, below,
			    above);
		theta = m.delta > 0 ? LOG_OR_2 : -LOG_OR_2;
		arl1 = arl_binomial_run(&m, h, theta);
		assert_true(arl1 >= 1 && arl1 < 300);
		mc_binomial(&m, h, theta, 2000, 200 + i, &mc);
		assert_mc("odds ratio 2", &mc, arl1, 0.10);
	}
}

/*
 * A series of mixed weeks: three sizes, one fractional, one with an
 * expected count below 1, and more overdispersion than assumed.
 */
static void
test_binomial_mixture(void **state)
{
	static const struct arl_week weeks[] = {
		{ 3, 0.1, 1 }, { 12.5, 0.3, 2 }, { 40, 0.05, 1 },
	};
	struct arl_binomial m = { weeks, 3, 0.05, 0.02, LOG_OR_15 };
	struct mc mc;
	double h, arl1;

	(void)state;
	h = arl_binomial_threshold(&m, 400);
	assert_true(h > 0 && isfinite(h));
	mc_binomial(&m, h, 0, 2000, 300, &mc);
	assert_mc("mixture in control", &mc, 400, 0.10);
	arl1 = arl_binomial_run(&m, h, LOG_OR_2);
	mc_binomial(&m, h, LOG_OR_2, 2000, 301, &mc);
	assert_mc("mixture odds ratio 2", &mc, arl1, 0.10);
}

/* Edges: no information, h = 0, targets below it, monotone in h. */
static void
test_binomial_edges(void **state)
{
	struct arl_week w = { 20, 0.2, 1 }, none = { 0, 0.2, 1 };
	struct arl_binomial m = { &w, 1, 0, 0, LOG_OR_15 };
	double pup = 0, e = 4, v = 3.2, o, lpmf, a0, prev = 0, h, arl;

	(void)state;
	/* h = 0: each week alarms when its LLR is > 0, a geometric wait. */
	for (o = 0; o <= 20; o++) {
		if (detect_llr_bernoulli(LOG_OR_15, o - e, e, v, 20, 0) <= 0)
			continue;
		lpmf = lgamma(21) - lgamma(o + 1) - lgamma(21 - o) +
		    o * log(0.2) + (20 - o) * log(0.8);
		pup += exp(lpmf);
	}
	a0 = arl_binomial_run(&m, 0, 0);
	assert_true(fabs(a0 * pup - 1) < 1e-9);
	assert_true(arl_binomial_threshold_at(&m, a0 * 0.99, &arl) == 0);
	assert_true(arl == a0);
	assert_true(arl_binomial_threshold(&m, a0 * 0.99) == 0);
	assert_true(arl_binomial_threshold(&m, 1) == 0);
	for (h = 0.25; h < 6; h += 0.25) {
		arl = arl_binomial_run(&m, h, 0);
		assert_true(arl > prev);
		prev = arl;
	}
	assert_true(isinf(arl_binomial_threshold(&m, INFINITY)));
	assert_true(isinf(arl_binomial_threshold_at(&m, INFINITY, &arl)));
	assert_true(isinf(arl));
	/* Without information nothing can alarm. */
	m.weeks = &none;
	assert_true(isinf(arl_binomial_threshold(&m, 300)));
	assert_true(isinf(arl_binomial_run(&m, 1, 0)));
	m.weeks = &w;
	m.delta = 0;
	assert_true(isinf(arl_binomial_threshold(&m, 300)));
	m.delta = LOG_OR_15;
	m.nweeks = 0;
	assert_true(isinf(arl_binomial_threshold(&m, 300)));
	m.nweeks = ARL_MAX_WEEKS + 1;
	assert_true(isinf(arl_binomial_threshold(&m, 300)));
	assert_true(isinf(arl_binomial_threshold(NULL, 300)));
	assert_true(isinf(arl_normal_threshold(300, 0, 1, 1, 0)));
	assert_true(isinf(arl_normal_run(1, 0.5, 0, 1, 0)));
	assert_true(arl_normal_threshold(1, 0.5, 1, 1, 0) == 0);
}

/*
 * The chain as its definition reads: every state's row of Q built from
 * every step, then (I - Q) L = 1 by dense elimination with pivoting. The
 * grid is arl.c's: (states + 1) points with states = 30 / |delta|
 * between 60 and 120 (tau2 = 0, so the lattice is |delta|).
 */
static double
ref_chain(const struct arl_week *w, int nw, double delta, double theta,
    double h)
{
	int states = (int)ceil(30 / fabs(delta)), n, i, j, k, o, d, piv;
	double *a, *b, c, total = 0, x, y, f, pr, e, v, t, lp;

	states = states < 60 ? 60 : states > 120 ? 120 : states;
	n = states + 1;
	c = h / states;
	a = calloc((size_t)n * n, sizeof *a);
	b = calloc(n, sizeof *b);
	assert_non_null(a);
	assert_non_null(b);
	for (k = 0; k < nw; k++)
		total += w[k].weight;
	for (k = 0; k < nw; k++) {
		int nn = (int)w[k].n;
		double p = detect_expit(detect_logit(w[k].p) + theta);

		e = nn * w[k].p;
		v = e * (1 - w[k].p);
		for (o = 0; o <= nn; o++) {
			lp = lgamma(nn + 1.0) - lgamma(o + 1.0) -
			    lgamma(nn - o + 1.0) + o * log(p) +
			    (nn - o) * log1p(-p);
			pr = exp(lp) * w[k].weight / total;
			x = detect_llr_bernoulli(delta, o - e, e, v, nn, 0);
			y = x / c;
			if (y > states)
				continue;
			d = (int)floor(y);
			f = y - d;
			for (i = 0; i < n; i++) {
				int to = i + d;

				if (to < 0)
					a[(size_t)i * n] += pr;
				else if (to < states) {
					a[(size_t)i * n + to] += (1 - f) * pr;
					a[(size_t)i * n + to + 1] += f * pr;
				} else if (to == states && f == 0)
					a[(size_t)i * n + to] += pr;
			}
		}
	}
	for (i = 0; i < n; i++) {
		for (j = 0; j < n; j++)
			a[(size_t)i * n + j] = (i == j) - a[(size_t)i * n + j];
		b[i] = 1;
	}
	for (k = 0; k < n; k++) {
		for (piv = k, i = k + 1; i < n; i++)
			if (fabs(a[(size_t)i * n + k]) >
			    fabs(a[(size_t)piv * n + k]))
				piv = i;
		for (j = 0; j < n; j++) {
			t = a[(size_t)k * n + j];
			a[(size_t)k * n + j] = a[(size_t)piv * n + j];
			a[(size_t)piv * n + j] = t;
		}
		t = b[k];
		b[k] = b[piv];
		b[piv] = t;
		for (i = k + 1; i < n; i++) {
			f = a[(size_t)i * n + k] / a[(size_t)k * n + k];
			for (j = k; j < n; j++)
				a[(size_t)i * n + j] -= f * a[(size_t)k * n + j];
			b[i] -= f * b[k];
		}
	}
	for (k = n - 1; k >= 0; k--) {
		for (j = k + 1; j < n; j++)
			b[k] -= a[(size_t)k * n + j] * b[j];
		b[k] /= a[(size_t)k * n + k];
	}
	t = b[0];
	free(a);
	free(b);
	return t;
}

/*
 * The banded chain against the reference on random models (one to three
 * sizes of week from 1 to 80 decisions, either side, in control and
 * shifted, thresholds from a fraction of a step to 30), and a
 * prepared model run at many h in a random order gives what a fresh run
 * gives at each: nothing of one run's working memory leaks into the next.
 */
static void
test_binomial_reference(void **state)
{
	static const double deltas[] = { LOG_OR_15, -LOG_OR_15, LOG_OR_2,
	    -LOG_OR_2, 0.1, -0.25 };
	struct arl_week w[3];
	struct arl_binomial m;
	struct arl_prepared *prep;
	struct rng r;
	double hs[8], got, want, theta;
	int trial, k, i, nw, compared = 0;

	(void)state;
	rng_seed(&r, 20261205);
	for (trial = 0; trial < 60; trial++) {
		nw = 1 + (int)(rng_unif(&r) * 3);
		for (k = 0; k < nw; k++) {
			w[k].n = 1 + (int)(rng_unif(&r) * (trial % 3 ? 20 : 80));
			w[k].p = 0.02 + 0.6 * rng_unif(&r);
			w[k].weight = 0.2 + rng_unif(&r);
		}
		m.weeks = w;
		m.nweeks = nw;
		m.tau2_true = m.tau2_stat = 0;
		m.delta = deltas[trial % 6];
		/*
		 * Every other trial shifted towards delta: short runs even
		 * at a high h, where the upper states cannot fall to 0 in a
		 * week and only the band reaches them.
		 */
		theta = trial % 2 ? 0.5 * (m.delta > 0 ? 1 : -1) : 0;
		for (i = 0; i < 8; i++)
			hs[i] = 0.05 + pow(rng_unif(&r), 2) * 30;
		prep = arl_binomial_prepare(&m, theta);
		assert_non_null(prep);
		for (i = 0; i < 8; i++) {
			want = ref_chain(w, nw, m.delta, theta, hs[i]);
			got = arl_binomial_run(&m, hs[i], theta);
			assert_true(arl_prepared_run(prep, hs[i]) == got);
			/*
			 * I - Q is as ill-conditioned as the ARL is long: both
			 * solutions keep about 16 - log10(ARL) digits.
			 */
			if (want > 1e7)
				continue;
			if (!(fabs(got / want - 1) < 1e-10 + want * 1e-13))
				fail_msg("trial %d h %.4f: chain %.10g, "
				    "reference %.10g", trial, hs[i], got,
				    want);
			compared++;
		}
		/* Again, backwards: each run stands on its own. */
		for (i = 7; i >= 0; i--)
			assert_true(arl_prepared_run(prep, hs[i]) ==
			    arl_binomial_run(&m, hs[i], theta));
		arl_prepared_free(prep);
	}
	assert_true(compared >= 300);
}

/*
 * Weekly looks, small m: the normal chain agrees with Siegmund's formula,
 * which is accurate there (ARL within 2% at the budget's ARL0 and at
 * 300, thresholds within 0.01), and so do the delays at the design shift.
 */
static void
test_normal_siegmund(void **state)
{
	static const double ms[] = { 0.1, 0.2, 0.3, 0.5 };
	static const double arl0s[] = { 300, 4100 };
	double h, hs;
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof ms / sizeof ms[0]; i++)
		for (j = 0; j < sizeof arl0s / sizeof arl0s[0]; j++) {
			hs = detect_threshold(arl0s[j], ms[i]);
			h = arl_normal_threshold(arl0s[j], ms[i], 1, 1, 0);
			assert_true(fabs(h - hs) < 0.01);
			assert_true(fabs(arl_normal_run(hs, ms[i], 1, 1, 0) /
			    arl0s[j] - 1) < 0.02);
			assert_true(fabs(arl_normal_run(h, ms[i], 1, 1, ms[i]) /
			    detect_arl1(h, ms[i], ms[i]) - 1) < 0.03);
		}
}

/*
 * Daily looks and large m, where Siegmund's looks correction is off: the
 * chain against simulation within 10%, in control and at the design
 * shift; at m = 4 Siegmund's threshold gives an ARL 10% or more short.
 */
static void
test_normal_looks_sim(void **state)
{
	static const struct {
		double	m;
		int	looks;
	} cls[] = {
		{ 2, 7 }, { 3, 7 }, { 4, 7 }, { 3, 1 }, { 1, 7 },
	};
	struct mc mc;
	double h, arl1;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cls / sizeof cls[0]; i++) {
		h = arl_normal_threshold(300, cls[i].m, 1, cls[i].looks, 0);
		assert_true(h > 0 && isfinite(h));
		mc_normal(h, cls[i].m, 1, cls[i].looks, 0, 3000, 400 + i, &mc);
		assert_mc("normal in control", &mc, 300, 0.10);
		arl1 = arl_normal_run(h, cls[i].m, 1, cls[i].looks, cls[i].m);
		mc_normal(h, cls[i].m, 1, cls[i].looks, cls[i].m, 3000,
		    500 + i, &mc);
		assert_mc("normal design shift", &mc, arl1, 0.10);
	}
	h = detect_threshold_looks(300, 4, DETECT_LOOKS_DAILY);
	assert_true(arl_normal_run(h, 4, 1, DETECT_LOOKS_DAILY, 0) < 270);
	/* A variance larger than assumed: same check. */
	h = arl_normal_threshold(300, 2, 1.3, 7, 0);
	mc_normal(h, 2, 1.3, 7, 0, 3000, 600, &mc);
	assert_mc("normal r = 1.3", &mc, 300, 0.10);
	assert_true(h > arl_normal_threshold(300, 2, 1, 7, 0));
}

/*
 * Far above a look's spread (h over about 33 of them) the chain's cells
 * are capped at 100 and grow wider than a look's drift. An upward drift
 * (an offset larger than half the shift) must survive there, and the
 * spread must not grow with the cells: run lengths against simulation
 * within 5% (weekly, daily and hourly looks, strong and weak drifts),
 * and no jump where the grid turns coarse.
 */
static void
test_normal_coarse_sim(void **state)
{
	static const struct {
		double	m, shift, h;
		int	looks;
	} cls[] = {
		{ 1, 0.6, 300, 1 }, { 1, 0.6, 300, 7 }, { 0.5, 0.4, 200, 1 },
		{ 1, 0.52, 60, 7 }, { 3, 2.0, 300, 7 }, { 1, 0.55, 50, 168 },
	};
	struct mc mc;
	double arl, below, above, sds;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cls / sizeof cls[0]; i++) {
		arl = arl_normal_run(cls[i].h, cls[i].m, 1, cls[i].looks,
		    cls[i].shift);
		mc_normal(cls[i].h, cls[i].m, 1, cls[i].looks, cls[i].shift,
		    cls[i].looks > 7 ? 200 : 400, 800 + i, &mc);
		assert_mc("normal, coarse grid", &mc, arl, 0.05);
	}
	/* Either side of the switch (h = 100 c, c a third of a look's sd). */
	sds = 1 / sqrt(7);
	below = arl_normal_run(100 * sds / 3 * 0.999, 1, 1, 7, 0.6);
	above = arl_normal_run(100 * sds / 3 * 1.001, 1, 1, 7, 0.6);
	if (!(above > below && above < below * 1.01))
		fail_msg("across the coarse switch: %.2f then %.2f", below,
		    above);
}

/*
 * tau^2 from k = 52 weeks: the threshold rises, and a simulation drawing
 * r^2 = (k - 1)/chi^2_{k-1} per stream (chi^2 as a sum of squared
 * normals) and counting alarms over long streams with restarts meets the
 * target rate within 15%, where the threshold that ignores the
 * uncertainty overspends it.
 */
static double
mc_rate_dof(double h, double m, int looks, int dof, int draws, int weeks,
    uint64_t seed)
{
	struct rng r;
	double chi, z, rr, s;
	long alarms = 0;
	int i, j, t;

	rng_seed(&r, seed);
	for (i = 0; i < draws; i++) {
		chi = 0;
		for (j = 0; j < dof - 1; j++) {
			z = rng_normal(&r);
			chi += z * z;
		}
		rr = sqrt((dof - 1) / chi);
		s = 0;
		for (t = 0; t < weeks; t++)
			if ((s = mc_normal_week(&r, s, h, m, rr, looks, 0)) <
			    0) {
				alarms++;
				s = 0;
			}
	}
	return (double)alarms / ((double)draws * weeks);
}

static void
test_normal_dof(void **state)
{
	double h0, h52, rate;

	(void)state;
	h0 = arl_normal_threshold(300, 3, 1, 1, 0);
	h52 = arl_normal_threshold(300, 3, 1, 1, 52);
	assert_true(h52 > h0 + 0.3);
	assert_true(arl_normal_threshold(300, 3, 1, 1, 1) == h0);
	assert_true(arl_normal_threshold(300, 3, 1, 1, -5) == h0);
	/* Fewer weeks, more doubt. */
	assert_true(arl_normal_threshold(300, 3, 1, 1, 20) > h52);
	rate = mc_rate_dof(h52, 3, 1, 52, 2000, 1500, 700);
	if (!(fabs(rate * 300 - 1) < 0.15))
		fail_msg("rate at dof 52: %g, want %g", rate, 1.0 / 300);
	rate = mc_rate_dof(h0, 3, 1, 52, 2000, 1500, 700);
	assert_true(rate * 300 > 1.3);
	/* Daily looks too. */
	h52 = arl_normal_threshold(300, 3, 1, 7, 52);
	rate = mc_rate_dof(h52, 3, 7, 52, 600, 1500, 701);
	if (!(fabs(rate * 300 - 1) < 0.15))
		fail_msg("rate at dof 52, daily: %g, want %g", rate,
		    1.0 / 300);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_binomial_sim),
		cmocka_unit_test(test_binomial_mixture),
		cmocka_unit_test(test_binomial_edges),
		cmocka_unit_test(test_binomial_reference),
		cmocka_unit_test(test_normal_siegmund),
		cmocka_unit_test(test_normal_looks_sim),
		cmocka_unit_test(test_normal_coarse_sim),
		cmocka_unit_test(test_normal_dof),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
