/*
 * The oracle CUSUM: Steiner et al.'s (2000) Bernoulli log-likelihood
 * ratio y*delta - log(1 - p0 + p0 e^delta) per decision, summed per week
 * and divided by (1 + tau2 * V0) for the weekly wobble, as the detector
 * weighs its weeks; but with the true p0, so that nothing is estimated.
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "oracle.h"
#include "xmalloc.h"

/* Alarms the null simulation aims at: the run length's error is ~5%. */
#define ORACLE_NULL_ALARMS	400

struct oracle_week {
	float		*lp;		/* logit p0 of each decision */
	int		 n;
	int		 cap;
	int		 rejected;
	double		 a;		/* sum of log(1 - p0 + p0 e^delta) */
	double		 v0;		/* sum of p0 (1 - p0) */
};

struct oracle {
	double			 delta;
	double			 tau2;
	double			 h;
	int			 nweeks;
	struct oracle_week	*w;
};

struct oracle *
oracle_create(double delta, double tau2, int weeks)
{
	struct oracle *o = xcalloc(1, sizeof *o);

	o->delta = delta;
	o->tau2 = tau2;
	o->h = INFINITY;
	o->nweeks = weeks;
	o->w = xcalloc((size_t)weeks, sizeof *o->w);
	return o;
}

void
oracle_free(struct oracle *o)
{
	int i;

	if (o == NULL)
		return;
	for (i = 0; i < o->nweeks; i++)
		free(o->w[i].lp);
	free(o->w);
	free(o);
}

void
oracle_add(struct oracle *o, int week, int rejected, double p0)
{
	struct oracle_week *w;

	if (week < 0 || week >= o->nweeks || !(p0 > 0 && p0 < 1))
		return;
	w = &o->w[week];
	if (w->n == w->cap) {
		w->cap = w->cap == 0 ? 16 : 2 * w->cap;
		w->lp = xreallocarray(w->lp, (size_t)w->cap, sizeof *w->lp);
	}
	w->lp[w->n++] = (float)log(p0 / (1 - p0));
	w->rejected += rejected != 0;
	w->a += log1p(p0 * expm1(o->delta));
	w->v0 += p0 * (1 - p0);
}

double
oracle_info(const struct oracle *o, int from, int to)
{
	double sum = 0;
	int i, n = 0;

	for (i = from; i < to && i < o->nweeks; i++, n++)
		sum += o->w[i].v0;
	return n > 0 ? sum / n : 0;
}

/* A week's CUSUM increment for `rejected` rejections. */
static double
oracle_increment(const struct oracle *o, const struct oracle_week *w,
    int rejected)
{
	return (o->delta * rejected - w->a) / (1 + o->tau2 * w->v0);
}

/* splitmix64: small, seedable, good enough for a null simulation. */
static uint64_t
oracle_rng(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double
oracle_u01(uint64_t *state)
{
	return (double)(oracle_rng(state) >> 11) * 0x1.0p-53;
}

static double
oracle_normal(uint64_t *state)
{
	double u = oracle_u01(state), v = oracle_u01(state);

	return sqrt(-2 * log(1 - u)) * cos(2 * M_PI * v);
}

/* Alarms of a CUSUM restarted at zero after each, over m increments. */
static int64_t
oracle_alarms(const float *inc, int64_t m, double h)
{
	double s = 0;
	int64_t i, n = 0;

	for (i = 0; i < m; i++) {
		s += inc[i];
		if (s < 0)
			s = 0;
		else if (s > h) {
			n++;
			s = 0;
		}
	}
	return n;
}

/*
 * One long in-control stream of m weekly increments, each week one of the
 * series' own weeks in [from, to) with a fresh wobble and fresh outcomes.
 */
static float *
oracle_null(const struct oracle *o, int from, int to, int64_t m,
    uint64_t seed)
{
	const struct oracle_week *w;
	float *inc;
	double u;
	uint64_t state = seed;
	int64_t k;
	int i, y;

	inc = xreallocarray(NULL, (size_t)m, sizeof *inc);
	for (k = 0; k < m; k++) {
		w = &o->w[from + (int)(oracle_rng(&state) %
		    (uint64_t)(to - from))];
		u = o->tau2 > 0 ? sqrt(o->tau2) * oracle_normal(&state) : 0;
		for (i = 0, y = 0; i < w->n; i++)
			y += oracle_u01(&state) * (1 + exp(-(w->lp[i] + u))) < 1;
		inc[k] = (float)oracle_increment(o, w, y);
	}
	return inc;
}

/* Clip [from, to) to the weeks kept; false when nothing is left. */
static bool
oracle_span(const struct oracle *o, int *from, int *to)
{
	if (*to > o->nweeks)
		*to = o->nweeks;
	if (*from < 0)
		*from = 0;
	return *to > *from;
}

double
oracle_calibrate(struct oracle *o, int from, int to, double arl0,
    uint64_t seed)
{
	float *inc;
	double lo = 0, hi = 1, want;
	int64_t m;
	int it;

	if (!oracle_span(o, &from, &to) || !(arl0 > 1) || !isfinite(arl0)) {
		o->h = INFINITY;
		return o->h;
	}
	/* The run length for a threshold: the stream's length over alarms. */
	m = (int64_t)ceil(ORACLE_NULL_ALARMS * arl0);
	inc = oracle_null(o, from, to, m, seed);
	want = (double)m / arl0;
	while (oracle_alarms(inc, m, hi) > want && hi < 1e6)
		hi *= 2;
	for (it = 0; it < 50; it++) {
		double mid = (lo + hi) / 2;

		if (oracle_alarms(inc, m, mid) > want)
			lo = mid;
		else
			hi = mid;
	}
	free(inc);
	o->h = hi;
	return o->h;
}

double
oracle_null_arl(const struct oracle *o, int from, int to, double arl0,
    uint64_t seed)
{
	float *inc;
	int64_t m, n;

	if (!oracle_span(o, &from, &to) || !(arl0 > 1) || !isfinite(arl0) ||
	    !isfinite(o->h))
		return NAN;
	m = (int64_t)ceil(ORACLE_NULL_ALARMS * arl0);
	inc = oracle_null(o, from, to, m, seed);
	n = oracle_alarms(inc, m, o->h);
	free(inc);
	return n > 0 ? (double)m / (double)n : INFINITY;
}

int
oracle_delay(const struct oracle *o, int start, int to)
{
	double s = 0;
	int i;

	if (start < 0)
		start = 0;
	for (i = start; i < to && i < o->nweeks; i++) {
		s += oracle_increment(o, &o->w[i], o->w[i].rejected);
		if (s < 0)
			s = 0;
		else if (s > o->h)
			return i - start + 1;
	}
	return -1;
}
