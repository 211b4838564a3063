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

#include "conf.h"
#include "decision.h"
#include "detect.h"
#include "log.h"
#include "model.h"
#include "monitor_int.h"
#include "period.h"
#include "records.h"
#include "xmalloc.h"

/*
 * The thresholds rest on a normal approximation of a week's O - E; below
 * about five expected rejections (or approvals) a week the count is too
 * skewed for it, and simulation shows such series alarm far too often.
 */
#define MON_MIN_WEIGHT		5.0

/* Reset e, v of weeks [from, to) before a rescan fills them. */
static void
mon_clear_expected(struct monitor *mon, int benefit_only, int32_t from,
    int32_t to)
{
	int i;
	int32_t wk;

	for (i = 0; i < mon->nseries; i++) {
		struct mon_series *ms = &mon->series[i];

		if (!ms->used || (benefit_only >= 0 &&
		    ms->benefit * 2 + ms->kind != benefit_only))
			continue;
		for (wk = from; wk < to; wk++) {
			struct mon_week *w = &ms->hist[((wk % MON_HIST) +
			    MON_HIST) % MON_HIST];

			if (w->week == wk)
				w->e = w->v = 0;
		}
	}
}

/*
 * Estimate what the reference window says about each series of a group:
 * the office levels alpha (shrunk towards 0), tau^2 per scope, and the
 * typical weekly weight; then thresholds.
 */
static void
mon_estimate(struct monitor *mon, const struct series_set *set, int b, int k)
{
	struct mon_group *g = mon_group(mon, b, k);
	struct mon_series *nat = mon_series_of(mon, SERIES_NATIONAL, b, k);
	int nweeks = g->ref_to - g->ref_from, o, i, n, nraw = 0;
	double rawz2 = 0;
	double *oe = xcalloc((size_t)nweeks * (size_t)(mon->max_offices + 1),
	    sizeof *oe);
	double *v = xcalloc((size_t)nweeks * (size_t)(mon->max_offices + 1),
	    sizeof *v);
	int32_t wk;

	(void)set;
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

	/* Offices: level first, then the pooled week-to-week wobble. */
	n = 0;
	for (o = 0; o < mon->max_offices; o++) {
		struct mon_series *ms = mon_series_of(mon, o, b, k);
		double sum_oe = 0, sum_v = 0;
		int first = n;

		if (!ms->used)
			continue;
		ms->alpha = 0;
		for (wk = g->ref_from; wk < g->ref_to; wk++) {
			const struct mon_week *w = mon_hist_get(ms, wk);
			const struct mon_week *nw = mon_hist_get(nat, wk);

			if (w == NULL || nw == NULL || w->v <= 0)
				continue;
			oe[n] = mon_adjusted_oe(ms, w->n, w->o, w->e, w->v,
			    nw->o, nw->e, nw->v);
			rawz2 += (w->o - w->e) * (w->o - w->e) / w->v;
			nraw++;
			v[n] = w->v;
			sum_oe += oe[n];
			sum_v += v[n];
			n++;
		}
		if (sum_v > 0)
			ms->alpha = sum_oe / sum_v * sum_v /
			    (sum_v + mon->conf->shrink_offices);
		for (i = first; i < n; i++)
			oe[i] -= ms->alpha * v[i];
	}
	g->tau2_office = detect_tau2_dl(oe, v, n);
	{
		double z2 = 0, sv = 0, sv2 = 0;

		for (i = 0; i < n; i++) {
			z2 += oe[i] * oe[i] / v[i];
			sv += v[i];
			sv2 += v[i] * v[i];
		}
		log_debug("monitor: offices: %d weeks, mean z^2 %.4f (raw "
		    "%.4f), mean v %.2f, moment tau2 %.5f", n, z2 / n,
		    rawz2 / nraw, sv / n, (z2 - n) / sv);
	}
	log_info("monitor: %s/%s: tau2 national %.5f, offices %.5f",
	    mon->conf->benefits[b], mon_kind_name(k), g->tau2_national,
	    g->tau2_office);
	free(oe);
	free(v);
}

/*
 * The office wobble is estimated from a year of weeks; small groups give
 * a noisy, often too small tau^2, and a too small tau^2 costs false
 * alarms. Weekly wobble comes from office-wide causes (staffing, batch
 * work), so the estimate pooled over all groups is a floor for each.
 */
static void
mon_pool_tau2(struct monitor *mon)
{
	int ng = mon->nbenefits * DECISION_NKINDS, g, o, n = 0, cap = 0;
	double *oe = NULL, *v = NULL, pooled;
	int32_t wk;

	for (g = 0; g < ng; g++) {
		struct mon_group *gr = &mon->groups[g];
		struct mon_series *nat = mon_series_of(mon, SERIES_NATIONAL,
		    g / 2, g % 2);

		if (gr->model == NULL)
			continue;
		for (o = 0; o < mon->max_offices; o++) {
			struct mon_series *ms = mon_series_of(mon, o, g / 2,
			    g % 2);

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
				    w->v, nw->o, nw->e, nw->v);
				v[n] = w->v;
				n++;
			}
		}
	}
	pooled = detect_tau2_dl(oe, v, n);
	for (g = 0; g < ng; g++) {
		if (mon->groups[g].tau2_office < pooled)
			mon->groups[g].tau2_office = pooled;
	}
	log_info("monitor: pooled office tau2 %.5f over %d weeks", pooled, n);
	/* The same floor for the national series, from their own weeks. */
	n = 0;
	for (g = 0; g < ng; g++) {
		struct mon_group *gr = &mon->groups[g];
		struct mon_series *nat = mon_series_of(mon, SERIES_NATIONAL,
		    g / 2, g % 2);

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
	for (g = 0; g < ng; g++) {
		if (mon->groups[g].tau2_national < pooled)
			mon->groups[g].tau2_national = pooled;
	}
	log_info("monitor: pooled national tau2 %.5f over %d weeks", pooled,
	    n);
	free(oe);
	free(v);
}

/* Typical weight, threshold, power of every series, from the budget. */
void
mon_thresholds(struct monitor *mon)
{
	const struct conf *c = mon->conf;
	double arl0, horizon = (double)mon_days(c->horizon_ms) / 7.0;
	int i, ncusums = 0, looks, pass;
	int32_t wk;

	for (i = 0; i < mon->nseries; i++) {
		struct mon_series *ms = &mon->series[i];
		struct mon_group *g;
		double sum = 0;
		int n = 0;

		if (!ms->used)
			continue;
		g = mon_group(mon, ms->benefit, ms->kind);
		if (g->model == NULL || !model_fitted(g->model))
			continue;
		for (wk = g->ref_from; wk < g->ref_to; wk++) {
			const struct mon_week *w = mon_hist_get(ms, wk);

			sum += w != NULL ? detect_weight(w->v, mon_tau2(mon,
			    ms)) : 0;
			n++;
		}
		ms->w = n > 0 ? sum / n : 0;
		if (ms->w > 0)
			ncusums += 2;
	}
	/* The open week is looked at every evaluate_every as well. */
	looks = (int)lround(7.0 * 86400 * 1000 / (double)c->evaluate_every_ms);
	if (looks < 1)
		looks = 1;
	/*
	 * Twice: the budget is shared by the series that can alarm, and
	 * which can depends on the thresholds the budget gives.
	 */
	for (pass = 0; pass < 2; pass++) {
	arl0 = detect_budget_arl0(c->false_alarms_per_year, ncusums);
	ncusums = 0;
	for (i = 0; i < mon->nseries; i++) {
		struct mon_series *ms = &mon->series[i];
		double delta = mon_delta(mon, ms), m;

		if (!ms->used)
			continue;
		if (ms->w <= 0) {
			ms->h = INFINITY;
			ms->underpowered = true;
			ms->detectable_or = INFINITY;
			ms->delay = INFINITY;
			continue;
		}
		m = delta * sqrt(ms->w);
		ms->h = detect_threshold_looks(arl0, m, looks);
		ms->delay = detect_arl1_looks(ms->h, m, log(c->relevant_or) *
		    sqrt(ms->w), looks);
		ms->detectable_or = detect_detectable_or_looks(ms->h, delta,
		    ms->w, horizon, looks);
		ms->underpowered = !(ms->delay <= horizon) ||
		    ms->w < MON_MIN_WEIGHT;
		if (!ms->underpowered)
			ncusums += 2;
	}
	}
}

/*
 * Start the first regime, or refit one group: install the models fitted
 * on the reference window read back from the records (monitor_job.c),
 * the expected sums of that window, and estimate levels and wobble.
 */
int
mon_fit_apply(struct monitor *mon, const struct series_set *set,
    struct mon_fit_result *r)
{
	int ngroups = mon->nbenefits * DECISION_NKINDS, i, k, fitted = 0;
	int nweeks = r->to - r->from;

	for (i = 0; i < ngroups; i++) {
		struct mon_group *g = &mon->groups[i];
		struct model *m = r->models[i];

		if (r->only_group >= 0 && i != r->only_group)
			continue;
		if (m == NULL) {
			if (r->scanned)
				log_info("monitor: %s/%s: no model yet: %s",
				    mon->conf->benefits[i / 2],
				    mon_kind_name(i % 2), r->causes[i] != NULL ?
				    r->causes[i] : "no data");
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
		log_notice("monitor: %s/%s: model v%u fitted on weeks %d..%d, "
		    "%" PRIu64 " decisions in %zu cells, %d iterations",
		    mon->conf->benefits[i / 2], mon_kind_name(i % 2),
		    model_info(m)->version, r->from, r->to - 1,
		    model_info(m)->n, model_info(m)->cells,
		    model_info(m)->iterations);
	}
	if (!r->scanned)
		return -1;
	/* Expected sums of the window under the new models. */
	mon_clear_expected(mon, r->only_group, r->from, r->to);
	if (fitted > 0 && !r->predicted)
		return 0;
	for (i = 0; fitted > 0 && i < mon->nseries; i++) {
		for (k = 0; k < nweeks; k++) {
			size_t slot = (size_t)i * (size_t)nweeks + (size_t)k;
			struct mon_week *w;

			if (!r->touched[slot])
				continue;
			w = mon_hist(&mon->series[i], r->from + k);
			w->e += r->e[slot];
			w->v += r->v[slot];
		}
	}
	for (i = 0; i < ngroups; i++) {
		if ((r->only_group < 0 || i == r->only_group) &&
		    mon->groups[i].model != NULL &&
		    mon->groups[i].ref_to == r->to)
			mon_estimate(mon, set, i / 2, i % 2);
	}
	mon_pool_tau2(mon);
	return fitted > 0 ? 0 : -1;
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
