/*
 * Change-point maths for one series: the overdispersion-robust two-sided
 * score CUSUM, thresholds from one false-alarm budget, the
 * DerSimonian-Laird estimate of tau^2 and the size of a change. Pure: no
 * I/O, no logging, no state outside the structs passed in.
 *
 * Units. For a week with O - E = oe and V = sum p(1-p), the weight is
 * w = V/(1 + tau2 V) and the week's log-likelihood ratio for a shift delta
 * has in control mean -delta^2 w/2 and variance delta^2 w. With
 * m = delta sqrt(w) and Z = oe/sqrt(V(1 + tau2 V)) ~ N(0,1),
 * LLR = m (Z - m/2): our CUSUM S = sum LLR is exactly m times the standard
 * normal CUSUM with reference k = m/2, so a threshold h here (LLR units) is
 * h/m in standard deviations. A true log odds ratio theta moves Z by
 * theta sqrt(w) standard deviations. When weights vary from week to week,
 * take w as the mean of the weekly weights (not the weight at the mean V):
 * the mean in-control drift of S is then exactly -delta^2 w/2.
 */
#ifndef STABILD_DETECT_H
#define STABILD_DETECT_H

#include <stdint.h>

#include "buf.h"

/* A CUSUM at 0 has no excursion, so no start week. */
#define DETECT_NO_START		INT32_MIN

/* Looks per week when the open week is checked daily. */
#define DETECT_LOOKS_DAILY	7

/* ISO weeks in a mean Gregorian year (365.2425 / 7). */
#define DETECT_WEEKS_PER_YEAR	52.1775

/* Weight V/(1 + tau2 V) of a week; 0 when v <= 0 or not finite. */
double detect_weight(double v, double tau2);

/*
 * LLR(delta) = delta oe/(1 + tau2 v) - delta^2 v/(2 (1 + tau2 v)); 0 when
 * v <= 0 or any input is not finite (a week without information).
 */
double detect_llr(double delta, double oe, double v, double tau2);

struct detect_cusum {
	double		up;		/* S+: delta > 0, more rejections */
	double		down;		/* S-: -delta, fewer rejections */
	/*
	 * First week of the current excursion (the week after the statistic
	 * was last 0), or DETECT_NO_START when it is at 0: the onset estimate.
	 */
	int32_t		up_start;
	int32_t		down_start;
};

/* Both sides to 0, no excursion. */
void detect_cusum_reset(struct detect_cusum *c);
/*
 * Commit a closed week: up = max(0, up + LLR(+delta)),
 * down = max(0, down + LLR(-delta)); delta > 0 is the design log odds
 * ratio. A side leaving 0 starts its excursion at `week`
 * (> DETECT_NO_START).
 */
void detect_cusum_update(struct detect_cusum *c, int32_t week, double oe,
    double v, double tau2, double delta);
/*
 * The values the open week's partial sums would give if it closed now,
 * without changing c (alarm when *up or *down exceeds h).
 */
void detect_cusum_peek(const struct detect_cusum *c, double oe, double v,
    double tau2, double delta, double *up, double *down);
/*
 * 24 bytes: up, down, up_start, down_start. No version: the caller's
 * section carries one. load checks values and starts agree (start set
 * exactly when the value is > 0); on error c is reset and *cause is the
 * caller's to free.
 */
void detect_cusum_save(const struct detect_cusum *c, struct buf *b);
int detect_cusum_load(struct detect_cusum *c, struct buf_reader *r,
    char **cause) __attribute__((warn_unused_result));

/*
 * Siegmund's approximation for the standard normal CUSUM with threshold
 * h_sd and reference k, run on N(mu, 1) data: with drift d = mu - k and
 * b = h_sd + 1.166, ARL = (exp(-2 d b) + 2 d b - 1)/(2 d^2), b^2 at d = 0.
 */
double detect_siegmund(double h_sd, double k, double mu);

/*
 * Thresholds and delays. h is in LLR units, m = delta sqrt(w) with w the
 * mean weekly weight; ARLs are in weeks. The plain forms assume the
 * statistic is compared with h once a week, at the commit: they are
 * Siegmund's formula in our units. The _looks forms assume `looks`
 * comparisons per week, each on the provisional value of the open week
 * (detect_cusum_peek), the last being the commit: 7 for daily looks; use
 * the largest number of looks any week can get (more looks, more chances
 * of a false alarm). Siegmund's 1.166 m is 0.583 m per edge of [0, h];
 * the edge at 0 keeps it (the statistic reflects only at the weekly
 * commit), the edge at h sees steps of sd m/sqrt(looks) and gets
 * 0.583 m/sqrt(looks). Checked by simulation for m from 0.3 to 2.5.
 */

/*
 * In-control ARL: (exp(h + 1.166 m) - h - 1.166 m - 1)/(m^2/2), which is
 * detect_siegmund(h/m, m/2, 0). Infinite when m <= 0.
 */
double detect_arl0(double h, double m);
double detect_arl0_looks(double h, double m, int looks);
/*
 * The h with detect_arl0(h, m) == arl0: 0 when even h = 0 gives a longer
 * ARL, infinite when m <= 0 (no information: the series cannot alarm).
 */
double detect_threshold(double arl0, double m);
double detect_threshold_looks(double arl0, double m, int looks);
/*
 * Expected delay (zero-start ARL) when the true shift is
 * shift_sd = theta sqrt(w) standard deviations, theta the true log odds
 * ratio (shift_sd = m for the design shift):
 * detect_siegmund(h/m, m/2, shift_sd) for weekly looks. Not clamped: with
 * looks > 1 an alarm can come inside the first week.
 */
double detect_arl1(double h, double m, double shift_sd);
double detect_arl1_looks(double h, double m, double shift_sd, int looks);
/* The largest detectable odds ratio reported (the dashboard says 100). */
#define DETECT_OR_MAX	100.0

/*
 * Smallest odds ratio (> 1) that the upward CUSUM with design log odds
 * ratio delta and threshold h (for m = delta sqrt(w)) detects within
 * horizon weeks on average (detect_arl1_looks <= horizon), for a series
 * with mean weekly weight w = V/(1 + tau2 V) (detect_weight: tau2 enters
 * only through w). exp(delta) exactly when the design delay equals the
 * horizon. The downward side detects its reciprocal. 1 when even the
 * in-control ARL is within the horizon; infinite when w <= 0,
 * delta <= 0, horizon <= 0 or no odds ratio up to DETECT_OR_MAX will do:
 * a series of a few decisions a year would otherwise report odds ratios
 * such as 1e150, which the normal approximation behind the figure cannot
 * speak for and no change in practice comes near.
 */
double detect_detectable_or(double h, double delta, double w,
    double horizon);
double detect_detectable_or_looks(double h, double delta, double w,
    double horizon, int looks);

/*
 * In-control ARL in weeks for each of ncusums one-sided CUSUMs sharing
 * false_alarms_per_year: 52.1775 ncusums / F. Infinite when F <= 0 or
 * ncusums <= 0.
 */
double detect_budget_arl0(double false_alarms_per_year, int ncusums);
/*
 * The same when CUSUMs carry weights (their indicator's budget_weight):
 * for one of weight w out of a total total_weight, 52.1775 W / (F w).
 * With every weight 1 it is detect_budget_arl0. Infinite when F <= 0,
 * W <= 0 or w <= 0.
 */
double detect_budget_arl0_weighted(double false_alarms_per_year,
    double total_weight, double weight);

/*
 * DerSimonian-Laird tau^2 from weekly theta = oe/v with within-week
 * variance 1/v; weeks with v <= 0 or non-finite values are skipped. >= 0;
 * 0 with fewer than 2 usable weeks.
 */
double detect_tau2_dl(const double *oe, const double *v, int n);

/* A log odds ratio with its standard error and 95% interval. */
struct detect_size {
	double		log_or;
	double		se;
	double		lo;
	double		hi;
};

/*
 * Size of a change over n weeks (since onset):
 * log OR = sum oe/(1 + tau2 v) / sum w, se = 1/sqrt(sum w), 95% interval
 * log OR -+ 1.96 se. Weeks without information are skipped; with none,
 * log OR 0 and an infinite se and interval.
 */
void detect_size_estimate(const double *oe, const double *v, int n,
    double tau2, struct detect_size *out);

/* log(p/(1-p)) with p clamped to [1e-15, 1 - 1e-15]; NaN stays NaN. */
double detect_logit(double p);
/* 1/(1 + exp(-x)) without overflow for any x; NaN stays NaN. */
double detect_expit(double x);

/*
 * The week's exact Bernoulli-form LLR for a shift delta (signed): with
 * pbar = e/n (clamped into (1e-9, 1 - 1e-9)) and
 * g(delta, p) = (log(1 - p + p e^delta) - delta p)/(p (1 - p)),
 * LLR = (delta oe - v g(delta, pbar))/(1 + tau2 v), oe = O - E, e = E,
 * v = sum p(1-p), n decisions. With tau2 = 0 and v = n pbar (1 - pbar) it
 * is the binomial log-likelihood ratio of Steiner et al. summed over the
 * week; g -> delta^2/2 as delta -> 0, giving detect_llr. 0 when n <= 0,
 * v <= 0 or any input is not finite.
 */
double detect_llr_bernoulli(double delta, double oe, double e, double v,
    double n, double tau2);
/*
 * detect_cusum_update and detect_cusum_peek with detect_llr_bernoulli: the
 * same struct, the same excursion starts.
 */
void detect_cusum_update_bernoulli(struct detect_cusum *c, int32_t week,
    double oe, double e, double v, double n, double tau2, double delta);
void detect_cusum_peek_bernoulli(const struct detect_cusum *c, double oe,
    double e, double v, double n, double tau2, double delta, double *up,
    double *down);

#endif
