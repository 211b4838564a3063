/*
 * The detector's pure maths: the overdispersion-robust score CUSUM, its
 * thresholds (Siegmund's approximation, in LLR units), tau^2 by
 * DerSimonian-Laird and the size of a change. See detect.h for the units.
 */
#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "detect.h"
#include "xmalloc.h"

/*
 * Siegmund's overshoot correction, in sd of a step, per edge of the band
 * (-zeta(1/2)/sqrt(2 pi) = 0.5826, rounded as in his 1.166 = 2 x 0.583).
 */
#define DETECT_RHO		0.583

/* 97.5% standard normal quantile. */
#define DETECT_Z975		1.959963984540054

#define DETECT_P_MIN		1e-15

/* exp(x) - 1 - x without cancellation near 0. */
static double
detect_em1x(double x)
{
	double term, sum;
	int i;

	if (fabs(x) >= 1e-2)
		return expm1(x) - x;
	/* Taylor series from x^2/2; the x^10 term is below 1e-20 x^2. */
	term = x * x / 2;
	sum = term;
	for (i = 3; i <= 9; i++) {
		term *= x / i;
		sum += term;
	}
	return sum;
}

/* V/(1 + tau2 V), 0 for a week without information. */
double
detect_weight(double v, double tau2)
{
	double w;

	if (!isfinite(v) || !isfinite(tau2) || v <= 0)
		return 0;
	w = v / (1 + tau2 * v);
	return isfinite(w) && w > 0 ? w : 0;
}

/* The week's LLR for a shift delta; 0 when it carries no information. */
double
detect_llr(double delta, double oe, double v, double tau2)
{
	double d, llr;

	if (!isfinite(delta) || !isfinite(oe) || !isfinite(v) ||
	    !isfinite(tau2) || v <= 0)
		return 0;
	d = 1 + tau2 * v;
	if (!(d > 0))
		return 0;
	llr = delta * oe / d - delta * delta * v / (2 * d);
	return isfinite(llr) ? llr : 0;
}

void
detect_cusum_reset(struct detect_cusum *c)
{
	c->up = 0;
	c->down = 0;
	c->up_start = DETECT_NO_START;
	c->down_start = DETECT_NO_START;
}

/* One side: add llr, reflect at 0, keep the week the excursion began. */
static void
detect_cusum_step(double *s, int32_t *start, int32_t week, double llr)
{
	double next = *s + llr;

	if (!(next > 0)) {
		*s = 0;
		*start = DETECT_NO_START;
		return;
	}
	if (*start == DETECT_NO_START)
		*start = week;
	*s = next;
}

/* Commit a closed week to both sides. */
void
detect_cusum_update(struct detect_cusum *c, int32_t week, double oe,
    double v, double tau2, double delta)
{
	detect_cusum_step(&c->up, &c->up_start, week,
	    detect_llr(delta, oe, v, tau2));
	detect_cusum_step(&c->down, &c->down_start, week,
	    detect_llr(-delta, oe, v, tau2));
}

/* Both sides as they would be if the open week closed now. */
void
detect_cusum_peek(const struct detect_cusum *c, double oe, double v,
    double tau2, double delta, double *up, double *down)
{
	*up = fmax(0, c->up + detect_llr(delta, oe, v, tau2));
	*down = fmax(0, c->down + detect_llr(-delta, oe, v, tau2));
}

/* Values, then starts as two's complement u32. */
void
detect_cusum_save(const struct detect_cusum *c, struct buf *b)
{
	buf_put_double(b, c->up);
	buf_put_double(b, c->down);
	buf_put_u32(b, (uint32_t)c->up_start);
	buf_put_u32(b, (uint32_t)c->down_start);
}

/* A side is consistent when finite, >= 0, and started exactly when > 0. */
static bool
detect_cusum_side_ok(double s, int32_t start)
{
	if (!isfinite(s) || s < 0)
		return false;
	return (s > 0) == (start != DETECT_NO_START);
}

/* Two's complement back to int32_t without implementation-defined casts. */
static int32_t
detect_i32(uint32_t u)
{
	if (u <= INT32_MAX)
		return (int32_t)u;
	return (int32_t)(u - 0x80000000u) + INT32_MIN;
}

/* Reads what detect_cusum_save wrote; c stays reset on any error. */
int
detect_cusum_load(struct detect_cusum *c, struct buf_reader *r, char **cause)
{
	double up, down;
	uint32_t us, ds;

	detect_cusum_reset(c);
	buf_get_double(r, &up);
	buf_get_double(r, &down);
	buf_get_u32(r, &us);
	if (buf_get_u32(r, &ds) == -1) {
		*cause = xstrdup("detect: cusum is truncated");
		return -1;
	}
	if (!detect_cusum_side_ok(up, detect_i32(us)) ||
	    !detect_cusum_side_ok(down, detect_i32(ds))) {
		*cause = xstrdup("detect: cusum has bad values");
		return -1;
	}
	c->up = up;
	c->down = down;
	c->up_start = detect_i32(us);
	c->down_start = detect_i32(ds);
	return 0;
}

/*
 * Corrected diffusion: Siegmund's 1.166 = 2 x 0.583 widens the band [0, h]
 * by 0.583 sd of a step at each edge. The edge at 0 is where the weekly
 * commit reflects, so it keeps the weekly correction; at h, looks per
 * week split the week into steps of sd m/sqrt(looks), so its share
 * shrinks to 0.583 m/sqrt(looks). Returned in units of m.
 */
static double
detect_rho_looks(int looks)
{
	if (looks <= 1)
		return 2 * DETECT_RHO;
	return DETECT_RHO * (1 + 1 / sqrt((double)looks));
}

/* ARL with b = h_sd + corrections and drift d = mu - k, in steps. */
static double
detect_siegmund_b(double b, double d)
{
	double arl, y = -2 * d * b;

	/* Near d = 0 the series b^2 (1 + y/3 + y^2/12) avoids d^2 underflow. */
	if (fabs(y) < 1e-6)
		return b * b * (1 + y / 3 + y * y / 12);
	arl = detect_em1x(y) / (2 * d * d);
	return isnan(arl) ? INFINITY : arl;
}

/* Siegmund's ARL in the standard parameterisation. */
double
detect_siegmund(double h_sd, double k, double mu)
{
	return detect_siegmund_b(h_sd + 2 * DETECT_RHO, mu - k);
}

double
detect_arl0(double h, double m)
{
	return detect_arl0_looks(h, m, 1);
}

/* Siegmund's in-control ARL in LLR units with the looks correction. */
double
detect_arl0_looks(double h, double m, int looks)
{
	if (!(m > 0))
		return INFINITY;
	return detect_em1x(h + detect_rho_looks(looks) * m) / (m * m / 2);
}

double
detect_threshold(double arl0, double m)
{
	return detect_threshold_looks(arl0, m, 1);
}

/*
 * With x = h + rho m, detect_arl0_looks == arl0 is exp(x) - 1 - x = c for
 * c = arl0 m^2/2. The left side is convex and increasing for x > 0, so
 * Newton from a start right of the root falls monotonically onto it;
 * sqrt(2c) and log(2c + 2) both lie right of it.
 */
double
detect_threshold_looks(double arl0, double m, int looks)
{
	double c, x, step;
	int i;

	if (!(m > 0) || isnan(arl0))
		return INFINITY;
	if (arl0 <= detect_arl0_looks(0, m, looks))
		return 0;
	if (isinf(arl0))
		return INFINITY;
	c = arl0 * m * m / 2;
	x = fmin(sqrt(2 * c), log(2 * c + 2));
	for (i = 0; i < 200; i++) {
		step = (detect_em1x(x) - c) / expm1(x);
		if (!(step > 0))
			break;
		x -= step;
		if (step <= 4 * x * DBL_EPSILON)
			break;
	}
	return fmax(0, x - detect_rho_looks(looks) * m);
}

double
detect_arl1(double h, double m, double shift_sd)
{
	return detect_arl1_looks(h, m, shift_sd, 1);
}

/* Siegmund's ARL under a shift of shift_sd, in LLR units. */
double
detect_arl1_looks(double h, double m, double shift_sd, int looks)
{
	if (!(m > 0))
		return INFINITY;
	return detect_siegmund_b(h / m + detect_rho_looks(looks),
	    shift_sd - m / 2);
}

/*
 * The delay falls as the true shift theta grows (the weekly drift of the
 * LLR, w delta (theta - delta/2), grows), so bisect on theta.
 */
double
detect_detectable_or(double h, double delta, double w, double horizon)
{
	return detect_detectable_or_looks(h, delta, w, horizon, 1);
}

double
detect_detectable_or_looks(double h, double delta, double w, double horizon,
    int looks)
{
	double m, sw, lo, hi, mid, found;
	int i;

	if (!(w > 0) || !(delta > 0) || !(horizon > 0) || !isfinite(w) ||
	    !isfinite(delta) || isnan(h))
		return INFINITY;
	sw = sqrt(w);
	m = delta * sw;
	if (detect_arl1_looks(h, m, 0, looks) <= horizon)
		return 1;
	lo = 0;
	hi = delta;
	while (detect_arl1_looks(h, m, hi * sw, looks) > horizon) {
		if (hi >= log(DETECT_OR_MAX))
			return INFINITY;
		lo = hi;
		hi *= 2;
	}
	for (i = 0; i < 200 && hi - lo > 4 * hi * DBL_EPSILON; i++) {
		mid = lo + (hi - lo) / 2;
		if (mid <= lo || mid >= hi)
			break;
		if (detect_arl1_looks(h, m, mid * sw, looks) > horizon)
			lo = mid;
		else
			hi = mid;
	}
	found = exp(hi);
	return found <= DETECT_OR_MAX ? found : INFINITY;
}

/* One year's false-alarm budget shared by ncusums one-sided CUSUMs. */
double
detect_budget_arl0(double false_alarms_per_year, int ncusums)
{
	if (!(false_alarms_per_year > 0) || ncusums <= 0)
		return INFINITY;
	return DETECT_WEEKS_PER_YEAR * ncusums / false_alarms_per_year;
}

double
detect_budget_arl0_weighted(double false_alarms_per_year,
    double total_weight, double weight)
{
	if (!(false_alarms_per_year > 0) || !(total_weight > 0) ||
	    !(weight > 0))
		return INFINITY;
	return DETECT_WEEKS_PER_YEAR * total_weight /
	    (false_alarms_per_year * weight);
}

/* A week counts when its values are finite and v > 0. */
static bool
detect_usable(double oe, double v)
{
	return isfinite(oe) && isfinite(v) && v > 0;
}

/*
 * Weights a = v: mean theta = sum oe / sum v,
 * Q = sum v (oe/v - mean)^2, tau^2 = (Q - (k - 1)) / (S1 - S2/S1).
 */
double
detect_tau2_dl(const double *oe, const double *v, int n)
{
	double s1 = 0, s2 = 0, sx = 0, mean, q = 0, d, denom, t2;
	int i, k = 0;

	for (i = 0; i < n; i++) {
		if (!detect_usable(oe[i], v[i]))
			continue;
		s1 += v[i];
		s2 += v[i] * v[i];
		sx += oe[i];
		k++;
	}
	if (k < 2)
		return 0;
	mean = sx / s1;
	for (i = 0; i < n; i++) {
		if (!detect_usable(oe[i], v[i]))
			continue;
		d = oe[i] - v[i] * mean;
		q += d * d / v[i];
	}
	denom = s1 - s2 / s1;
	if (!(denom > 0))
		return 0;
	t2 = (q - (k - 1)) / denom;
	return isfinite(t2) && t2 > 0 ? t2 : 0;
}

/* Weighted log odds ratio since onset with its 95% interval. */
void
detect_size_estimate(const double *oe, const double *v, int n, double tau2,
    struct detect_size *out)
{
	double sw = 0, sx = 0, w;
	int i;

	for (i = 0; i < n; i++) {
		if (!detect_usable(oe[i], v[i]) ||
		    (w = detect_weight(v[i], tau2)) <= 0)
			continue;
		sw += w;
		sx += oe[i] * (w / v[i]);
	}
	if (!(sw > 0)) {
		out->log_or = 0;
		out->se = INFINITY;
		out->lo = -INFINITY;
		out->hi = INFINITY;
		return;
	}
	out->log_or = sx / sw;
	out->se = 1 / sqrt(sw);
	out->lo = out->log_or - DETECT_Z975 * out->se;
	out->hi = out->log_or + DETECT_Z975 * out->se;
}

/* Log odds, finite for every p in [0, 1] and beyond. */
double
detect_logit(double p)
{
	if (isnan(p))
		return p;
	p = fmin(fmax(p, DETECT_P_MIN), 1 - DETECT_P_MIN);
	return log(p) - log1p(-p);
}

/* Inverse of detect_logit; exp of a negative number never overflows. */
double
detect_expit(double x)
{
	double e;

	if (isnan(x))
		return x;
	if (x >= 0)
		return 1 / (1 + exp(-x));
	e = exp(x);
	return e / (1 + e);
}

/* pbar is kept off 0 and 1 so g stays finite. */
#define DETECT_PBAR_MIN		1e-9

/*
 * g(delta, p) = (log(1 - p + p e^delta) - delta p)/(p (1 - p)), the
 * Bernoulli cumulant generating function less its linear term, per unit
 * variance. For p > 1/2 the same value comes as
 * log(1 - (1 - p) + (1 - p) e^-delta) + delta (1 - p), which keeps the
 * small factor inside log1p. Below |delta| = 1e-3 the cumulant series
 * d^2/2 + k3 d^3/6 + k4 d^4/24 + k5 d^5/120 (per unit variance) is exact
 * to double precision, where the direct form would cancel.
 */
static double
detect_bernoulli_g(double delta, double p)
{
	double q = p * (1 - p), k3 = 1 - 2 * p, k4 = 1 - 6 * q,
	    k5 = k3 * (1 - 12 * q);

	if (fabs(delta) < 1e-3)
		return delta * delta * (0.5 + delta * (k3 / 6 + delta *
		    (k4 / 24 + delta * k5 / 120)));
	if (p > 0.5)
		return (log1p((1 - p) * expm1(-delta)) + delta * (1 - p)) / q;
	return (log1p(p * expm1(delta)) - delta * p) / q;
}

/* The exact binomial week LLR, shrunk by 1 + tau2 v like detect_llr. */
double
detect_llr_bernoulli(double delta, double oe, double e, double v, double n,
    double tau2)
{
	double pbar, d, llr;

	if (!isfinite(delta) || !isfinite(oe) || !isfinite(e) ||
	    !isfinite(v) || !isfinite(n) || !isfinite(tau2) || n <= 0 ||
	    v <= 0)
		return 0;
	d = 1 + tau2 * v;
	if (!(d > 0))
		return 0;
	pbar = fmin(fmax(e / n, DETECT_PBAR_MIN), 1 - DETECT_PBAR_MIN);
	llr = (delta * oe - v * detect_bernoulli_g(delta, pbar)) / d;
	return isfinite(llr) ? llr : 0;
}

void
detect_cusum_update_bernoulli(struct detect_cusum *c, int32_t week,
    double oe, double e, double v, double n, double tau2, double delta)
{
	detect_cusum_step(&c->up, &c->up_start, week,
	    detect_llr_bernoulli(delta, oe, e, v, n, tau2));
	detect_cusum_step(&c->down, &c->down_start, week,
	    detect_llr_bernoulli(-delta, oe, e, v, n, tau2));
}

void
detect_cusum_peek_bernoulli(const struct detect_cusum *c, double oe,
    double e, double v, double n, double tau2, double delta, double *up,
    double *down)
{
	*up = fmax(0, c->up + detect_llr_bernoulli(delta, oe, e, v, n, tau2));
	*down = fmax(0, c->down + detect_llr_bernoulli(-delta, oe, e, v, n,
	    tau2));
}
