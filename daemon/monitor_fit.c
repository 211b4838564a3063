/*
 * The monitor's models: installing the case-mix model of a (benefit,
 * kind) fitted on its reference window read back from the records file
 * (the reading is in monitor_job.c), the expected sums of that window,
 * office levels and week-to-week wobble, the thresholds that follow from
 * them, and the strata of an alert, also read from the records.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arl.h"
#include "conf.h"
#include "decision.h"
#include "detect.h"
#include "log.h"
#include "model.h"
#include "monitor_int.h"
#include "period.h"
#include "records.h"
#include "stall.h"
#include "xmalloc.h"

/*
 * The read's expected sums into the history, before the models go in
 * (mon_fit_apply): weeks [from, pto) of the fit's groups reset, then
 * what the read added, series *next on until the deadline passes. A
 * slice per turn of the loop: after a checkpoint's fork every page of
 * the history written faults once, and in one step the writes took over
 * 100 ms on a loaded host. True when done.
 *
 * Only a read that made sums: a refit that fitted nothing (none or all
 * of its window rejected, say) keeps its model and so its sums. Reset
 * without new ones, its weeks had counts and no expectation, and the
 * open week would have closed with all its O against the part of E
 * counted after the refit.
 */
bool
mon_fit_apply_sums(struct monitor *mon, const struct mon_fit_result *r,
    int *next, uint64_t deadline)
{
	int nweeks = r->pto - r->from, k;
	int32_t wk;

	if (!r->scanned || !r->predicted)
		return true;
	while (*next < mon->nseries) {
		int i = (*next)++;
		struct mon_series *ms = &mon->series[i];

		if (ms->used && mon_group_selected(mon, r->only_group,
		    r->inds, mon_group_index(mon, ms->ind, ms->benefit,
		    ms->kind))) {
			for (wk = r->from; wk < r->pto; wk++) {
				struct mon_week *w = &MON_HIST_AT(ms,
				    ((wk % MON_HIST) + MON_HIST) % MON_HIST);

				if (w->week == wk)
					w->e = w->v = 0;
			}
		}
		for (k = 0; k < nweeks; k++) {
			size_t slot = (size_t)i * (size_t)nweeks + (size_t)k;
			struct mon_week *w;

			if (!r->touched[slot])
				continue;
			w = mon_hist(ms, r->from + k);
			w->e += r->e[slot];
			w->v += r->v[slot];
		}
		if (stall_now() >= deadline)
			break;
	}
	return *next >= mon->nseries;
}

/*
 * Estimate what the reference window says about each series of a group:
 * the office levels alpha (shrunk towards 0), tau^2 per scope, and the
 * typical weekly weight; then thresholds.
 */
static void
mon_estimate(struct monitor *mon, int gi)
{
	int ind = mon_group_ind(mon, gi), b = mon_group_benefit(mon, gi);
	int k = mon_group_kind(mon, gi);
	struct mon_group *g = &mon->groups[gi];
	struct mon_series *nat = mon_series_of(mon, ind, SERIES_NATIONAL, b,
	    k);
	int nweeks = g->ref_to - g->ref_from, o, i, n, nraw = 0;
	double rawz2 = 0;
	int nbetween = 0;
	double *raw = xcalloc((size_t)mon->max_offices, sizeof *raw);
	double *se2 = xcalloc((size_t)mon->max_offices, sizeof *se2);
	double *oe = xcalloc((size_t)nweeks * (size_t)(mon->max_offices + 1),
	    sizeof *oe);
	double *v = xcalloc((size_t)nweeks * (size_t)(mon->max_offices + 1),
	    sizeof *v);
	int32_t wk;

	/* National: against the model alone. */
	n = 0;
	for (wk = g->ref_from; wk < g->ref_to; wk++) {
		const struct mon_week *w = mon_hist_get(nat, wk);

		if (w == NULL || w->v <= 0)
			continue;
		oe[n] = w->o - w->e;
		v[n] = w->v;
		n++;
	}
	g->tau2_national = detect_tau2_dl(oe, v, n);
	nat->ref_v = nat->ref_v2 = 0;
	for (i = 0; i < n; i++) {
		nat->ref_v += v[i];
		nat->ref_v2 += v[i] * v[i];
	}

	/* Offices: level first, then the pooled week-to-week wobble. */
	n = 0;
	for (o = 0; o < mon->max_offices; o++) {
		struct mon_series *ms = mon_series_of(mon, ind, o, b, k);
		double sum_oe = 0, sum_v = 0, sum_v2 = 0;
		int first = n;

		raw[o] = se2[o] = 0;
		if (!ms->used)
			continue;
		ms->alpha = 0;
		for (wk = g->ref_from; wk < g->ref_to; wk++) {
			const struct mon_week *w = mon_hist_get(ms, wk);
			const struct mon_week *nw = mon_hist_get(nat, wk);

			if (w == NULL || nw == NULL || w->v <= 0)
				continue;
			oe[n] = mon_adjusted_oe(ms, w->n, w->o, w->e, w->v,
			    nw->n, nw->o, nw->e, nw->v);
			rawz2 += (w->o - w->e) * (w->o - w->e) / w->v;
			nraw++;
			v[n] = w->v;
			sum_oe += oe[n];
			sum_v += v[n];
			sum_v2 += v[n] * v[n];
			n++;
		}
		raw[o] = sum_oe;
		se2[o] = sum_v;
		ms->ref_v = sum_v;
		ms->ref_v2 = sum_v2;
		if (sum_v > 0) {
			ms->alpha = sum_oe / (sum_v +
			    mon->conf->shrink_offices);
			nbetween++;
		}
		for (i = first; i < n; i++)
			oe[i] -= ms->alpha * v[i];
	}
	g->tau2_office = detect_tau2_dl(oe, v, n);
	/*
	 * The spread of true office levels, for their errors' variance:
	 * DerSimonian-Laird across offices, each office one window's
	 * estimate (raw holds its O - E, se2 its V).
	 */
	g->alpha_between = nbetween > 1 ? detect_tau2_dl(raw, se2,
	    mon->max_offices) : 0;
	{
		double z2 = 0, sv = 0;

		for (i = 0; i < n; i++) {
			z2 += oe[i] * oe[i] / v[i];
			sv += v[i];
		}
		log_debug("monitor: offices: %d weeks, mean z^2 %.4f (raw "
		    "%.4f), mean v %.2f, moment tau2 %.5f", n, z2 / n,
		    rawz2 / nraw, sv / n, (z2 - n) / sv);
	}
	log_info("monitor: %s%s%s/%s: tau2 national %.5f, offices %.5f",
	    mon_ind_prefix(mon, ind), ind != 0 ? ":" : "",
	    mon->conf->benefits[b], mon_kind_name(k), g->tau2_national,
	    g->tau2_office);
	free(oe);
	free(v);
	free(raw);
	free(se2);
}

/*
 * The office wobble is estimated from a year of weeks; small groups give
 * a noisy, often too small tau^2, and a too small tau^2 costs false
 * alarms. Weekly wobble comes from office-wide causes (staffing, batch
 * work), so the estimate pooled over all groups of an indicator is a
 * floor for each. One indicator's groups only: another indicator's
 * events wobble in their own way, and adding one must not move the
 * others' estimates.
 */
static void
mon_pool_tau2(struct monitor *mon, int ind)
{
	int ng = mon->nbenefits * DECISION_NKINDS, g, o, n = 0, cap = 0;
	int g0 = ind * ng;
	double *oe = NULL, *v = NULL, pooled;
	int32_t wk;

	for (g = g0; g < g0 + ng; g++) {
		struct mon_group *gr = &mon->groups[g];
		struct mon_series *nat = mon_series_of(mon, ind,
		    SERIES_NATIONAL, mon_group_benefit(mon, g),
		    mon_group_kind(mon, g));

		if (gr->model == NULL)
			continue;
		for (o = 0; o < mon->max_offices; o++) {
			struct mon_series *ms = mon_series_of(mon, ind, o,
			    mon_group_benefit(mon, g), mon_group_kind(mon, g));

			if (!ms->used)
				continue;
			for (wk = gr->ref_from; wk < gr->ref_to; wk++) {
				const struct mon_week *w = mon_hist_get(ms, wk);
				const struct mon_week *nw = mon_hist_get(nat,
				    wk);

				if (w == NULL || nw == NULL || w->v <= 0)
					continue;
				if (n == cap) {
					cap = cap ? cap * 2 : 4096;
					oe = xreallocarray(oe, (size_t)cap,
					    sizeof *oe);
					v = xreallocarray(v, (size_t)cap,
					    sizeof *v);
				}
				oe[n] = mon_adjusted_oe(ms, w->n, w->o, w->e,
				    w->v, nw->n, nw->o, nw->e, nw->v);
				v[n] = w->v;
				n++;
			}
		}
	}
	/*
	 * One group's offices give a noisy tau^2, too small as often as too
	 * large, and either misplaces that group's thresholds; the causes
	 * of the wobble are office-wide, so every group takes the estimate
	 * pooled over all of them (thousands of office-weeks).
	 */
	pooled = detect_tau2_dl(oe, v, n);
	for (g = g0; g < g0 + ng; g++)
		mon->groups[g].tau2_office = pooled;
	log_info("monitor: %s%spooled office tau2 %.5f over %d weeks",
	    mon_ind_prefix(mon, ind), ind != 0 ? ": " : "", pooled, n);
	/*
	 * The nation adds up the offices' wobble: at least
	 * tau2_office sum V_o^2 / (sum V_o)^2, whatever one window of
	 * national weeks happens to say.
	 */
	for (g = g0; g < g0 + ng; g++) {
		double sv = 0, sv2 = 0, floor;

		for (o = 0; o < mon->max_offices; o++) {
			const struct mon_series *ms = mon_series_of(mon, ind,
			    o, mon_group_benefit(mon, g),
			    mon_group_kind(mon, g));

			if (!ms->used)
				continue;
			sv += ms->ref_v;
			sv2 += ms->ref_v * ms->ref_v;
		}
		floor = sv > 0 ? pooled * sv2 / (sv * sv) : 0;
		if (mon->groups[g].tau2_national < floor)
			mon->groups[g].tau2_national = floor;
	}
	/* The same floor for the national series, from their own weeks. */
	n = 0;
	for (g = g0; g < g0 + ng; g++) {
		struct mon_group *gr = &mon->groups[g];
		struct mon_series *nat = mon_series_of(mon, ind,
		    SERIES_NATIONAL, mon_group_benefit(mon, g),
		    mon_group_kind(mon, g));

		if (gr->model == NULL)
			continue;
		for (wk = gr->ref_from; wk < gr->ref_to; wk++) {
			const struct mon_week *w = mon_hist_get(nat, wk);

			if (w == NULL || w->v <= 0 || n == cap)
				continue;
			oe[n] = w->o - w->e;
			v[n] = w->v;
			n++;
		}
	}
	pooled = detect_tau2_dl(oe, v, n);
	for (g = g0; g < g0 + ng; g++) {
		if (mon->groups[g].tau2_national < pooled)
			mon->groups[g].tau2_national = pooled;
	}
	log_info("monitor: %s%spooled national tau2 %.5f over %d weeks",
	    mon_ind_prefix(mon, ind), ind != 0 ? ": " : "", pooled, n);
	free(oe);
	free(v);
}

/*
 * Below this weekly information (sum p(1-p)) a week's count is too skewed
 * for a normal approximation: thresholds come from the exact binomial
 * chain, and the series is looked at once a week.
 */
#define MON_SMALL_V		30.0
/*
 * The share of an office level's error variance the thresholds allow
 * for. All of it calibrates the long-run rate of a CUSUM that restarts
 * after each alarm; but an office whose level is off alarms once and then
 * stays drifting until its level is accepted, so over the first years
 * after a fit it spends less. Half, checked by simulation (simcheck -i):
 * 10.5 false alarms a year over two monitored years and 13.0 over six,
 * against 12 configured, on three seeds.
 */
#define MON_OFFSET_SHARE	0.5
/* The model's intercept and four season terms. */
#define MON_MODEL_DF		5.0

static int
mon_week_cmp(const void *a, const void *b)
{
	const struct arl_week *x = a, *y = b;

	return x->n < y->n ? -1 : x->n > y->n;
}

/*
 * A small series' reference weeks as at most ARL_MAX_WEEKS types of
 * week (equal shares of weeks ordered by size), each with the mean
 * expected probability at the series' baseline. The number of types, or
 * 0 without information.
 */
static int
mon_week_types(const struct monitor *mon, const struct mon_series *ms,
    struct arl_week *types)
{
	const struct mon_group *g = mon_group_of(mon, ms);
	struct arl_week wk[MON_HIST];
	double shift = ms->shift + (ms->office == SERIES_NATIONAL ? 0 :
	    ms->alpha);
	int n = 0, t, i, ntypes, lo, hi;
	int32_t w;

	for (w = g->ref_from; w < g->ref_to && n < MON_HIST; w++) {
		const struct mon_week *hw = mon_hist_get(ms, w);
		double p;

		if (hw == NULL || hw->n == 0 || !(hw->v > 0))
			continue;
		p = detect_expit(detect_logit(hw->e / hw->n) + shift);
		wk[n].n = hw->n;
		wk[n].p = p;
		wk[n].weight = 1;
		n++;
	}
	if (n == 0)
		return 0;
	qsort(wk, (size_t)n, sizeof *wk, mon_week_cmp);
	ntypes = n < ARL_MAX_WEEKS ? n : ARL_MAX_WEEKS;
	for (t = 0; t < ntypes; t++) {
		double sn = 0, se = 0;

		lo = t * n / ntypes;
		hi = (t + 1) * n / ntypes;
		for (i = lo; i < hi; i++) {
			sn += wk[i].n;
			se += wk[i].n * wk[i].p;
		}
		types[t].n = sn / (hi - lo);
		types[t].p = se / sn;
		types[t].weight = hi - lo;
	}
	return ntypes;
}

/* Mean weekly sum p(1-p) of a series in its reference window. */
static double
mon_mean_v(const struct monitor *mon, const struct mon_series *ms)
{
	const struct mon_group *g = mon_group_of(mon, ms);
	double sum = 0;
	int n = 0;
	int32_t w;

	for (w = g->ref_from; w < g->ref_to; w++) {
		const struct mon_week *hw = mon_hist_get(ms, w);

		sum += hw != NULL ? hw->v : 0;
		n++;
	}
	return n > 0 ? sum / n : 0;
}

/* Three-point Gauss-Hermite for the offset: 0 and +-sqrt(3) sd. */
#define MON_OFFSET_NODES	3
static const double mon_offset_node[MON_OFFSET_NODES] = { 0,
    1.7320508075688772, -1.7320508075688772 };
static const double mon_offset_weight[MON_OFFSET_NODES] = { 2.0 / 3,
    1.0 / 6, 1.0 / 6 };

/* What a side's run length is computed from, for the offset average. */
struct mon_arl {
	const struct arl_binomial	*bm;	/* small series, or NULL */
	double				 m;	/* large: as in arl.h */
	double				 sw;	/* sqrt of the weekly weight */
	int				 looks;
	/* Small: each node's increments, made once for the search. */
	struct arl_prepared		*prep[MON_OFFSET_NODES];
};

/*
 * log of the false-alarm rate averaged over the offset, times arl0, of
 * a large series (a small one's: mon_look).
 */
static double
mon_rate_excess(const struct mon_arl *a, double h, double sd, double arl0)
{
	double rate = 0, arl;
	int j;

	for (j = 0; j < MON_OFFSET_NODES; j++) {
		arl = arl_normal_run(h, a->m, 1, a->looks,
		    mon_offset_node[j] * sd * a->sw);
		rate += mon_offset_weight[j] / (arl > 0 ? arl : 1e-300);
	}
	return log(rate * arl0);
}

/*
 * The threshold whose false-alarm rate, averaged over an offset
 * N(0, sd^2) of the baseline that stays for the regime (an office level
 * estimated from one window), is 1/arl0. h0 is the threshold without the
 * offset, which the answer is never below. A bracket, then regula falsi
 * on the log rate.
 */
static double mon_offset_search(const struct mon_arl *, double, double,
    double);
static double mon_offset_search_small(const struct mon_arl *, double,
    double, double);

/* arl_h0: the ARL without the offset at h0 if known (a small series). */
static double
mon_offset_threshold(struct mon_arl *a, double h0, double arl_h0, double sd,
    double arl0)
{
	double h;
	int j;

	if (!(sd > 1e-4) || !isfinite(h0))
		return h0;
	for (j = 0; j < MON_OFFSET_NODES; j++)
		a->prep[j] = a->bm != NULL ? arl_binomial_prepare(a->bm,
		    mon_offset_node[j] * sd) : NULL;
	h = a->bm != NULL ? mon_offset_search_small(a, h0, arl_h0, arl0) :
	    mon_offset_search(a, h0, sd, arl0);
	for (j = 0; j < MON_OFFSET_NODES; j++) {
		arl_prepared_free(a->prep[j]);
		a->prep[j] = NULL;
	}
	return h;
}

/* A large series' search (mon_offset_search_small: a small one's). */
static double
mon_offset_search(const struct mon_arl *a, double h0, double sd, double arl0)
{
	double lo = h0, hi, flo, fhi, mid, fmid, step, slope;
	int i, side = 0;

	flo = mon_rate_excess(a, lo, sd, arl0);
	if (flo <= 0)
		return h0;
	/*
	 * log ARL grows by about 1 per unit of h: step by the excess, a
	 * fixed step. Where it grows much slower (an offset node whose
	 * in-control drift is upwards, so that its ARL grows only in
	 * proportion to h) fixed steps would stop short of the root, with a
	 * false-alarm rate above the series' share: where the log rate falls
	 * slower than half a unit per unit of h, step by twice the secant's
	 * distance to the root instead (at most four times the last step),
	 * as a small series' search does. Where its cells grow wide the
	 * normal chain splits a look between them in proportion, with the
	 * look's variance kept, so its run lengths hold at such h (README,
	 * "Thresholds where an offset outweighs the shift").
	 */
	step = fmax(0.25, flo);
	hi = h0 + step;
	for (i = 0; (fhi = mon_rate_excess(a, hi, sd, arl0)) > 0 && i < 40;
	    i++) {
		slope = (flo - fhi) / (hi - lo);
		lo = hi;
		flo = fhi;
		if (slope > 0 && slope < 0.5)
			step = fmax(fmax(0.25, fhi), fmin(2 * fhi / slope,
			    4 * step));
		else
			step = fmax(0.25, fhi);
		hi += step;
	}
	if (fhi > 0)
		return hi;
	for (i = 0; i < 30 && hi - lo > 1e-3; i++) {
		mid = hi - fhi * (hi - lo) / (fhi - flo);
		if (!(mid > lo && mid < hi))
			mid = (lo + hi) / 2;
		fmid = mon_rate_excess(a, mid, sd, arl0);
		if (fabs(fmid) < 0.02)
			return mid;
		if (fmid > 0) {
			lo = mid;
			flo = fmid;
			if (side == 1)
				fhi /= 2;
			side = 1;
		} else {
			hi = mid;
			fhi = fmid;
			if (side == -1)
				flo /= 2;
			side = -1;
		}
	}
	return hi;
}

/*
 * A small series' look at h: each offset node's log ARL, and the log of
 * the averaged rate times arl0 (mon_rate_excess). Node 0 has no offset:
 * its ARL at h0 is the one h0 was found with (arl0_known, else 0).
 */
struct mon_look {
	double	h;
	double	l[MON_OFFSET_NODES];
	double	g;
};

static void
mon_look(const struct mon_arl *a, double h, double arl0_known, double arl0,
    struct mon_look *lk)
{
	double rate = 0, arl;
	int j;

	lk->h = h;
	for (j = 0; j < MON_OFFSET_NODES; j++) {
		arl = j == 0 && arl0_known > 0 ? arl0_known :
		    arl_prepared_run(a->prep[j], h);
		if (!(arl > 0))
			arl = 1e-300;
		lk->l[j] = log(arl);
		rate += mon_offset_weight[j] / arl;
	}
	lk->g = log(rate * arl0);
}

/* log of a million: a node's rate below the target's millionth. */
#define MON_LOOK_NEGLIGIBLE	13.815510557964274
/*
 * Where the lines aim within the tolerance of 0.02: a rate 1 % below the
 * target, so that where a line errs the threshold errs high, as the
 * search before it, which closed in from both sides, did.
 */
#define MON_LOOK_AIM		(-0.01)

/*
 * Where the two looks' lines through each node's log ARL put the
 * averaged rate on target: each log ARL is nearly linear in h (the
 * chain's ARL grows about exponentially), far more so than their
 * average, so this lands close to the root at once. Newton's method on
 * the lines, which are cheap; NAN where a line does not rise.
 */
static double
mon_look_root(const struct mon_look *p, const struct mon_look *q,
    double arl0)
{
	double s[MON_OFFSET_NODES], h = q->h, num, den, e, gl, dg;
	double far = log(arl0) + MON_LOOK_NEGLIGIBLE;
	int i, j, used = 0;

	if (!(q->h > p->h))
		return NAN;
	for (j = 0; j < MON_OFFSET_NODES; j++) {
		/*
		 * A node whose rate is a millionth of the target or less
		 * (its ARL out of range, or held at the chain's precision)
		 * adds nothing from here, as its ARL only grows: no line.
		 */
		s[j] = NAN;
		if (q->l[j] > far)
			continue;
		s[j] = (q->l[j] - p->l[j]) / (q->h - p->h);
		if (!(s[j] > 0) || isinf(s[j]))
			return NAN;
		used++;
	}
	if (used == 0)
		return NAN;
	for (i = 0; i < 50; i++) {
		num = den = 0;
		for (j = 0; j < MON_OFFSET_NODES; j++) {
			if (isnan(s[j]))
				continue;
			e = mon_offset_weight[j] * exp(-(q->l[j] +
			    s[j] * (h - q->h)));
			num += e;
			den += s[j] * e;
		}
		gl = log(num * arl0) - MON_LOOK_AIM;
		dg = den / num;		/* minus the slope */
		if (!isfinite(gl) || !(dg > 0))
			return NAN;
		h += gl / dg;
		if (fabs(gl) < 1e-9)
			break;
	}
	return isfinite(h) ? h : NAN;
}

/*
 * mon_offset_search for a small series, on the same definition and
 * tolerance, in fewer looks (a look costs a chain per node): each next
 * h from the lines through the nodes' log ARLs at the last two
 * (mon_look_root), kept inside the bracket once there is one. Before,
 * it steps out by at most four times the last step; without lines, by
 * twice the secant's distance to the root on the averaged rate (never
 * less than the excess): where an upward drift makes a node's ARL grow
 * only in proportion to h, fixed steps would stop short of the root,
 * with a false-alarm rate above the series' share. The binomial chain
 * splits each step between grid points in proportion, so the drift
 * stays exact at any h.
 */
static double
mon_offset_search_small(const struct mon_arl *a, double h0, double arl_h0,
    double arl0)
{
	struct mon_look p, q, r;
	double lo = h0, hi = INFINITY, step, h, slope;
	int i;

	mon_look(a, h0, arl_h0, arl0, &p);
	if (p.g <= 0)
		return h0;
	/* log ARL grows by about 1 per unit of h: step by the excess. */
	step = fmax(0.25, p.g);
	mon_look(a, h0 + step, 0, arl0, &q);
	for (i = 0; i < 60; i++) {
		if (fabs(q.g) < 0.02)
			return q.h;
		if (q.g > 0)
			lo = fmax(lo, q.h);
		else
			hi = fmin(hi, q.h);
		if (hi - lo <= 1e-3)
			return hi;
		h = mon_look_root(&p, &q, arl0);
		if (isinf(hi)) {
			/*
			 * Out to a bracket: never back, and at most four
			 * times the last step. Without the lines, twice the
			 * secant's distance on the averaged rate, as
			 * mon_offset_search steps.
			 */
			slope = (p.g - q.g) / (q.h - p.h);
			if (!(h > lo))
				h = lo + fmax(fmax(0.25, q.g), slope > 0 ?
				    fmin(2 * q.g / slope, 4 * step) : 4 * step);
			h = fmin(h, lo + 4 * step);
			step = h - lo;
		} else if (!(h > lo && h < hi))
			h = (lo + hi) / 2;
		mon_look(a, h, 0, arl0, &r);
		p = q;
		q = r;
	}
	return isfinite(hi) ? hi : q.h;
}

/* The sd of an office level's error (mon_estimate), 0 for the nation. */
static double
mon_offset_sd(const struct monitor *mon, const struct mon_series *ms)
{
	const struct mon_group *g = mon_group_of(mon, ms);
	double lambda, se2, tau2 = mon_tau2(mon, ms);

	if (!(ms->ref_v > 0))
		return 0;
	/*
	 * The nation against the model fitted on the same window: its
	 * intercept and season terms carry that window's noise into every
	 * later week (about MON_MODEL_DF parameters' worth).
	 */
	if (ms->office == SERIES_NATIONAL)
		return sqrt(MON_MODEL_DF * (ms->ref_v + tau2 * ms->ref_v2) /
		    (ms->ref_v * ms->ref_v));
	lambda = ms->ref_v / (ms->ref_v + mon->conf->shrink_offices);
	se2 = (ms->ref_v + tau2 * ms->ref_v2) / (ms->ref_v * ms->ref_v);
	return sqrt(MON_OFFSET_SHARE * ((1 - lambda) * (1 - lambda) *
	    g->alpha_between + lambda * lambda * se2));
}

/*
 * Threshold, delay and power of one series for an in-control ARL of arl0
 * weeks per side. Small series: the exact binomial chain, each side on
 * its own (the counts are skewed). Large ones: the normal chain with the
 * daily looks when live, and for the national series the uncertainty of
 * a tau^2 estimated from one window of weeks. Pure, so that it can run
 * on the worker.
 */
void
mon_threshold_compute(const struct mon_thr_in *in, struct mon_thr_out *out)
{
	struct arl_binomial bm;
	struct mon_arl a;
	double m, h0, arl_h0;

	memset(out, 0, sizeof *out);
	memset(&a, 0, sizeof a);
	if (!(in->w > 0)) {
		out->h = out->h_down = INFINITY;
		out->underpowered = true;
		out->detectable_or = INFINITY;
		out->delay = INFINITY;
		return;
	}
	out->small = in->small && in->ntypes > 0;
	if (out->small) {
		bm.weeks = in->types;
		bm.nweeks = in->ntypes;
		bm.tau2_true = bm.tau2_stat = in->tau2;
		a.bm = &bm;
		bm.delta = in->delta;
		h0 = arl_binomial_threshold_at(&bm, in->arl0, &arl_h0);
		out->h = mon_offset_threshold(&a, h0, arl_h0, in->sd,
		    in->arl0);
		out->delay = arl_binomial_run(&bm, out->h, in->relevant);
		bm.delta = -in->delta;
		h0 = arl_binomial_threshold_at(&bm, in->arl0, &arl_h0);
		out->h_down = mon_offset_threshold(&a, h0, arl_h0, in->sd,
		    in->arl0);
		out->daily = false;
		out->detectable_or = detect_detectable_or(out->h, in->delta,
		    in->w, in->horizon);
	} else {
		m = in->delta * sqrt(in->w);
		a.bm = NULL;
		a.m = m;
		a.sw = sqrt(in->w);
		a.looks = in->looks;
		out->h = out->h_down = mon_offset_threshold(&a,
		    arl_normal_threshold(in->arl0, m, 1, in->looks, in->dof),
		    0, in->sd, in->arl0);
		out->delay = arl_normal_run(out->h, m, 1, in->looks,
		    in->relevant * sqrt(in->w));
		out->daily = in->looks > 1;
		out->detectable_or = detect_detectable_or_looks(out->h,
		    in->delta, in->w, in->horizon, in->looks);
	}
	/* A flag of what it can find, never a reason to be silent. */
	out->underpowered = !(out->delay <= in->horizon);
}

void
mon_thresholds_prep_start(struct monitor *mon, struct mon_thr_prep *p)
{
	memset(p, 0, sizeof *p);
	p->in = xcalloc((size_t)mon->nseries, sizeof *p->in);
	p->gen = mon->conf_gen;
}

/*
 * What each series' thresholds are computed from, in mon->series order
 * (unused series get w = 0): the budget's share, its weeks, wobble,
 * design and the uncertainty of its baseline. Cheap per series, but
 * each reads its reference window across the history: with five
 * indicators some milliseconds in all, so a slice per turn until the
 * deadline; true when done. The computation is mon_threshold_compute.
 */
bool
mon_thresholds_prep_slice(struct monitor *mon, struct mon_thr_prep *p,
    uint64_t deadline)
{
	const struct conf *c = mon->conf;
	struct mon_thr_in *in = p->in;
	double weight;
	int i, looks;
	int32_t wk;

	if (p->gen != mon->conf_gen) {
		memset(in, 0, (size_t)mon->nseries * sizeof *in);
		p->total = 0;
		p->pass = p->next = 0;
		p->gen = mon->conf_gen;
	}
	/* First every series' weight, for the budget's total. */
	while (p->pass == 0 && p->next < mon->nseries) {
		struct mon_series *ms = &mon->series[p->next++];
		struct mon_group *g;
		double sum = 0;
		int n = 0;

		if (!ms->used)
			continue;
		ms->w = 0;
		g = mon_group_of(mon, ms);
		if (g->model == NULL || !model_fitted(g->model))
			continue;
		for (wk = g->ref_from; wk < g->ref_to; wk++) {
			const struct mon_week *w = mon_hist_get(ms, wk);

			sum += w != NULL ? detect_weight(w->v, mon_tau2(mon,
			    ms)) : 0;
			n++;
		}
		ms->w = n > 0 ? sum / n : 0;
		/* Two CUSUMs, each of its indicator's weight. */
		if (ms->w > 0)
			p->total += 2 * indicator_weight(&mon->ind.ind[ms->ind]);
		if (stall_now() >= deadline)
			return false;
	}
	if (p->pass == 0) {
		p->pass = 1;
		p->next = 0;
	}
	/* The open week is looked at every evaluate_every as well. */
	looks = (int)lround(7.0 * 86400 * 1000 / (double)c->evaluate_every_ms);
	/* History is evaluated at its weekly closes only (mon_tick). */
	if (looks < 1 || !mon->live)
		looks = 1;
	while (p->next < mon->nseries) {
		struct mon_series *ms = &mon->series[i = p->next++];
		const struct mon_group *g = mon_group_of(mon, ms);

		if (!ms->used || !(ms->w > 0))
			continue;
		/*
		 * One budget over every indicator's CUSUMs, shared by weight:
		 * with all weights 1, each spends an equal share. A series
		 * whose alerts are off is watched as if of weight 1, and
		 * spends none of it.
		 */
		weight = indicator_weight(&mon->ind.ind[ms->ind]);
		in[i].w = ms->w;
		in[i].arl0 = detect_budget_arl0_weighted(
		    c->false_alarms_per_year, p->total, weight > 0 ? weight :
		    1);
		in[i].looks = looks;
		in[i].tau2 = mon_tau2(mon, ms);
		in[i].delta = mon_delta(mon, ms);
		in[i].relevant = log(c->relevant_or);
		in[i].horizon = (double)mon_days(c->horizon_ms) / 7.0;
		in[i].sd = mon_offset_sd(mon, ms);
		/* One window of weekly values behind a national tau^2. */
		in[i].dof = ms->office == SERIES_NATIONAL ? g->ref_to -
		    g->ref_from : 0;
		in[i].small = mon_mean_v(mon, ms) < MON_SMALL_V;
		if (in[i].small)
			in[i].ntypes = mon_week_types(mon, ms, in[i].types);
		if (stall_now() >= deadline)
			return false;
	}
	return true;
}

static struct mon_thr_in *
mon_thresholds_prepare(struct monitor *mon)
{
	struct mon_thr_prep p;

	mon_thresholds_prep_start(mon, &p);
	mon_thresholds_prep_slice(mon, &p, UINT64_MAX);
	return p.in;
}

/* The computed thresholds into the series. */
void
mon_thresholds_apply(struct monitor *mon, const struct mon_thr_out *out)
{
	int i;

	for (i = 0; i < mon->nseries; i++) {
		struct mon_series *ms = &mon->series[i];

		if (!ms->used)
			continue;
		ms->h = out[i].h;
		ms->h_down = out[i].h_down;
		ms->delay = out[i].delay;
		ms->detectable_or = out[i].detectable_or;
		ms->underpowered = out[i].underpowered;
		ms->daily = out[i].daily;
		ms->small = out[i].small;
	}
}

/* Thresholds computed here and now (a checkpoint load, the tests). */
void
mon_thresholds(struct monitor *mon)
{
	struct mon_thr_in *in = mon_thresholds_prepare(mon);
	struct mon_thr_out *out = xcalloc((size_t)mon->nseries, sizeof *out);
	int i;

	for (i = 0; i < mon->nseries; i++)
		mon_threshold_compute(&in[i], &out[i]);
	mon_thresholds_apply(mon, out);
	free(in);
	free(out);
}

/*
 * Start the first regime, or refit one group: install the models fitted
 * on the reference window read back from the records (monitor_job.c),
 * once their expected sums are in (mon_fit_apply_sums); the levels and
 * wobble follow (mon_fit_estimate).
 */
int
mon_fit_apply(struct monitor *mon, struct mon_fit_result *r)
{
	int ngroups = mon->ngroups, i, fitted = 0, ind;
	uint32_t others = 0;

	for (i = 0; i < ngroups && !r->predict_only; i++) {
		struct mon_group *g = &mon->groups[i];
		struct model *m = r->models[i];

		ind = mon_group_ind(mon, i);
		if (!mon_group_selected(mon, r->only_group, r->inds, i))
			continue;
		if (m == NULL) {
			if (r->scanned)
				log_info("monitor: %s%s%s/%s: no model yet: %s",
				    mon_ind_prefix(mon, ind), ind != 0 ? ":" :
				    "", mon->conf->benefits[
				    mon_group_benefit(mon, i)],
				    mon_kind_name(mon_group_kind(mon, i)),
				    r->causes[i] != NULL ? r->causes[i] :
				    "no data");
			/* A refit asked for is tried again next week. */
			if (r->only_group >= 0)
				g->refit = true;
			continue;
		}
		r->models[i] = NULL;
		if (g->model != NULL) {
			model_set_version(m, model_info(g->model)->version + 1);
			model_free(g->model);
		}
		g->model = m;
		g->ref_from = r->from;
		g->ref_to = r->to;
		g->fitted_at = mon->closed_week;
		fitted++;
		log_notice("monitor: %s%s%s/%s: model v%u fitted on weeks "
		    "%d..%d, %" PRIu64 " decisions in %zu cells, %d "
		    "iterations", mon_ind_prefix(mon, ind), ind != 0 ? ":" :
		    "", mon->conf->benefits[mon_group_benefit(mon, i)],
		    mon_kind_name(mon_group_kind(mon, i)),
		    model_info(m)->version, r->from, r->to - 1,
		    model_info(m)->n, model_info(m)->cells,
		    model_info(m)->iterations);
	}
	if (!r->scanned)
		return -1;
	if (r->predict_only)
		fitted = 1;
	/*
	 * Expected sums under the new models (the window, and the weeks
	 * after it that have decisions already: the open week, a backfill)
	 * are in (mon_fit_apply_sums).
	 */
	if (fitted > 0 && !r->predicted)
		return 0;
	/*
	 * predicted_to: every fitted group has its sums below it. A first
	 * fit of some indicators beside others fitted before fills only its
	 * own groups, so it cannot move it on.
	 */
	for (ind = 0; ind < mon->nind; ind++) {
		if (mon->first[ind].fitted && (r->inds >> ind & 1) == 0)
			others |= 1u << ind;
	}
	if (fitted > 0 && r->only_group < 0) {
		if (r->predict_only || others == 0) {
			if (r->pto > mon->predicted_to)
				mon->predicted_to = r->pto;
		} else if (r->pto < mon->predicted_to)
			mon->predicted_to = r->pto;
	}
	if (r->predict_only)
		return 0;
	r->estimate = true;
	return fitted > 0 ? 0 : -1;
}

/*
 * Levels and wobble of the fit's groups, group *next on, then each
 * indicator's wobble pooled over its groups. Each is a function of the
 * history and the settings alone, so after a reload they may be
 * estimated again.
 */
bool
mon_fit_estimate(struct monitor *mon, const struct mon_fit_result *r,
    int *next, uint64_t deadline)
{
	int i, g, ind;
	bool pooled;

	if (!r->estimate)
		return true;
	while (*next < mon->ngroups + mon->nind) {
		i = (*next)++;
		if (i < mon->ngroups) {
			if (!mon_group_selected(mon, r->only_group, r->inds,
			    i) || mon->groups[i].model == NULL ||
			    mon->groups[i].ref_to != r->to)
				continue;
			mon_estimate(mon, i);
		} else {
			ind = i - mon->ngroups;
			for (g = 0, pooled = false; g < mon->ngroups; g++)
				pooled |= mon_group_ind(mon, g) == ind &&
				    mon_group_selected(mon, r->only_group,
				    r->inds, g);
			if (!pooled)
				continue;
			mon_pool_tau2(mon, ind);
		}
		if (stall_now() >= deadline)
			break;
	}
	return *next >= mon->ngroups + mon->nind;
}

/* Strata: per attribute level, O - E since onset from the records. */
static const char *const mon_attr_names[] = {
	"age", "sex", "diagnosis", "case_day", "employment", "care",
};

static void
mon_level_name(int attr, int level, char *buf, size_t len)
{
	static const char *const age[] = { "missing", "16-29", "30-39",
	    "40-49", "50-59", "60-" };
	static const char *const sex[] = { "missing", "f", "m", "x" };
	static const char *const band[] = { "missing", "1-14", "15-90",
	    "91-180", "181-365", "366-550", "551-" };
	static const char *const emp[] = { "missing", "employed",
	    "unemployed", "self_employed", "student", "other" };
	static const char *const care[] = { "missing", "primary",
	    "specialist" };
	const char *v = "?";
	char letter[2];

	switch (attr) {
	case 0:
		v = level < 6 ? age[level] : "?";
		break;
	case 1:
		v = level < 4 ? sex[level] : "?";
		break;
	case 2:
		if (level == 0)
			v = "missing";
		else {
			letter[0] = (char)('A' + level - 1);
			letter[1] = '\0';
			v = letter;
		}
		break;
	case 3:
		v = level < 7 ? band[level] : "?";
		break;
	case 4:
		v = level < 6 ? emp[level] : "?";
		break;
	case 5:
		v = level < 3 ? care[level] : "?";
		break;
	}
	snprintf(buf, len, "%s=%s", mon_attr_names[attr], v);
}

void
mon_strata_apply(struct monitor *mon, struct mon_alert *ma,
    const struct mon_strata_sums *st)
{
	double total = 0, excess, best;
	int i, l, bi, bl, k;
	bool taken[6][27];

	(void)mon;
	for (l = 0; l < 27; l++)
		total += st->o[0][l] - st->e[0][l];
	memset(taken, 0, sizeof taken);
	/* The levels with the largest excess in the alert's direction. */
	for (k = 0; k < ALERT_MAX_STRATA; k++) {
		best = 0;
		bi = bl = -1;
		for (i = 0; i < 6; i++) {
			for (l = 0; l < 27; l++) {
				excess = st->o[i][l] - st->e[i][l];
				if (ma->a.direction == ALERT_DOWN)
					excess = -excess;
				if (!taken[i][l] && excess > best) {
					best = excess;
					bi = i;
					bl = l;
				}
			}
		}
		if (bi < 0)
			break;
		taken[bi][bl] = true;
		mon_level_name(bi, bl, ma->a.strata[k].name, ALERT_NAME_MAX);
		ma->a.strata[k].excess = st->o[bi][bl] - st->e[bi][bl];
		ma->a.strata[k].share = total != 0 ?
		    ma->a.strata[k].excess / total : 0;
		ma->a.strata[k].odds_ratio = st->e[bi][bl] > 0 ?
		    st->o[bi][bl] / st->e[bi][bl] : 0;
		ma->a.nstrata = k + 1;
	}
}
