/*
 * The monitor as JSON for the API and the dashboard: series, alerts,
 * models, control charts and funnels. Read only.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "conf.h"
#include "decision.h"
#include "detect.h"
#include "indicator.h"
#include "log.h"
#include "model.h"
#include "monitor_int.h"
#include "period.h"
#include "utc.h"
#include "xmalloc.h"

static json_t *
mon_json_number(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

/* The monitor's series of s; NULL for an indicator it does not hold. */
static const struct mon_series *
mon_json_series(const struct monitor *mon, const struct series *s)
{
	int ind = series_indicator(s);

	if (ind < 0 || ind >= mon->nind)
		return NULL;
	return &mon->series[mon_index(mon, ind, series_office(s),
	    series_benefit(s), series_kind(s))];
}

json_t *
monitor_series_json(const struct monitor *mon, const struct series *s)
{
	const struct mon_series *ms = mon_json_series(mon, s);
	const struct mon_group *g;
	json_t *o, *flags;
	char label[PERIOD_LABEL_MAX];

	if (ms == NULL || !ms->used)
		return json_pack("{s:s}", "state", "learning");
	g = mon_group_of(mon, ms);
	flags = json_array();
	if (ms->underpowered)
		json_array_append_new(flags, json_string("underpowered"));
	if (ms->outlier)
		json_array_append_new(flags, json_string("outlier"));
	o = json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:s, s:o, s:o, s:o, "
	    "s:o, s:o, s:o}",
	    "state", mon_state_name(ms->state),
	    "flags", flags,
	    "cusum_up", json_real(ms->cusum.up),
	    "cusum_down", json_real(ms->cusum.down),
	    "threshold", mon_json_number(ms->h),
	    "threshold_down", mon_json_number(ms->h_down),
	    "statistic", ms->small ? "binomial" : "normal",
	    "weekly_weight", json_real(ms->w),
	    "expected_delay_weeks", mon_json_number(ms->delay),
	    "detectable_odds_ratio", mon_json_number(ms->detectable_or),
	    "office_level", json_real(ms->alpha),
	    "regime_shift", json_real(ms->shift),
	    "tau2", json_real(mon_tau2(mon, ms)));
	if (ms->office != SERIES_NATIONAL)
		json_object_set_new(o, "funnel_z13", json_real(ms->z13));
	if (ms->cusum.up > 0) {
		period_week_label(ms->cusum.up_start, label);
		json_object_set_new(o, "excursion_up_since", json_string(label));
	}
	if (ms->cusum.down > 0) {
		period_week_label(ms->cusum.down_start, label);
		json_object_set_new(o, "excursion_down_since",
		    json_string(label));
	}
	if (ms->alert >= 0) {
		json_object_set_new(o, "alert", json_string(
		    mon->alerts[ms->alert].a.id));
		json_object_set_new(o, "change", json_pack("{s:s, s:f, s:f}",
		    "onset", mon->alerts[ms->alert].a.onset,
		    "odds_ratio", mon->alerts[ms->alert].a.odds_ratio,
		    "log_odds_ratio", ms->size));
	}
	json_object_set_new(o, "model_version", g->model != NULL ?
	    json_integer(model_info(g->model)->version) : json_null());
	return o;
}

static bool
mon_alert_matches(const struct alert *a, const char *status,
    const char *classification, const char *scope, const char *direction,
    const char *office)
{
	return (status == NULL || strcmp(status,
	    alert_status_name(a->status)) == 0) &&
	    (classification == NULL || strcmp(classification,
	    alert_classification_name(a->classification)) == 0) &&
	    (scope == NULL || strcmp(scope, alert_scope_name(a->scope)) == 0) &&
	    (direction == NULL || strcmp(direction,
	    alert_direction_name(a->direction)) == 0) &&
	    (office == NULL || strcmp(office, a->office) == 0);
}

json_t *
monitor_alerts_json(const struct monitor *mon, const char *status,
    const char *classification, const char *scope, const char *direction,
    const char *office)
{
	json_t *list = json_array();
	int i;

	/* Newest first: what a person looks for. */
	for (i = mon->nalerts - 1; i >= 0; i--) {
		const struct alert *a = &mon->alerts[i].a;

		if (mon_alert_matches(a, status, classification, scope,
		    direction, office))
			json_array_append_new(list, alert_json(a,
			    mon->conf->http_url));
	}
	return list;
}

static const struct mon_alert *
mon_alert_named(const struct monitor *mon, const char *id)
{
	int i;

	for (i = 0; i < mon->nalerts; i++) {
		if (strcmp(mon->alerts[i].a.id, id) == 0)
			return &mon->alerts[i];
	}
	return NULL;
}

json_t *
monitor_alert_json(const struct monitor *mon, const char *id)
{
	const struct mon_alert *ma = mon_alert_named(mon, id);

	return ma != NULL ? alert_json(&ma->a, mon->conf->http_url) : NULL;
}

bool
monitor_alert_known(const struct monitor *mon, const char *id)
{
	return mon_alert_named(mon, id) != NULL;
}

/*
 * The models of every indicator, rejection's first; another indicator's
 * carry "indicator" (first, so that a reader sees whose model it is).
 */
json_t *
monitor_models_json(const struct monitor *mon)
{
	json_t *list = json_array(), *coef, *o;
	char from[PERIOD_LABEL_MAX], to[PERIOD_LABEL_MAX];
	int g, i, ind, b, k;

	for (g = 0; g < mon->ngroups; g++) {
		const struct mon_group *gr = &mon->groups[g];
		const struct model_fit_info *info;

		ind = mon_group_ind(mon, g);
		b = mon_group_benefit(mon, g);
		k = mon_group_kind(mon, g);
		o = json_object();
		if (ind != INDICATOR_REJECTION)
			json_object_set_new(o, "indicator",
			    json_string(mon->ind.ind[ind].name));
		if (gr->model == NULL) {
			json_object_update_new(o, json_pack("{s:s, s:s, s:b}",
			    "benefit", mon->conf->benefits[b], "kind",
			    mon_kind_name(k), "fitted", 0));
			json_array_append_new(list, o);
			continue;
		}
		info = model_info(gr->model);
		coef = json_array();
		for (i = 0; i < model_coef_count(); i++)
			json_array_append_new(coef, json_pack("{s:s, s:f, "
			    "s:o}", "name", model_coef_name(i), "value",
			    model_coef(gr->model, i), "se",
			    mon_json_number(model_coef_se(gr->model, i))));
		period_week_label(gr->ref_from, from);
		period_week_label(gr->ref_to - 1, to);
		json_object_update_new(o, json_pack("{s:s, s:s, s:b, s:i, "
		    "s:{s:s, s:s}, s:{s:i, s:b, s:f, s:f, s:I, s:I, s:f, s:I, "
		    "s:f}, s:f, s:f, s:o}",
		    "benefit", mon->conf->benefits[b],
		    "kind", mon_kind_name(k),
		    "fitted", 1,
		    "version", (int)info->version,
		    "reference_window", "from", from, "to", to,
		    "fit", "iterations", info->iterations,
		    "converged", info->converged,
		    "deviance", info->deviance,
		    "null_deviance", info->null_deviance,
		    "decisions", (json_int_t)info->n,
		    "rejected", (json_int_t)info->rejected,
		    "expected", info->expected,
		    "cells", (json_int_t)info->cells,
		    "ridge", info->ridge,
		    "tau2_national", gr->tau2_national,
		    "tau2_office", gr->tau2_office,
		    "coefficients", coef));
		json_array_append_new(list, o);
	}
	return list;
}

int
monitor_firing(const struct monitor *mon)
{
	int i, n = 0;

	for (i = 0; i < mon->nalerts; i++)
		n += mon->alerts[i].a.status == ALERT_FIRING;
	return n;
}

int
monitor_firing_unexplained(const struct monitor *mon)
{
	int i, n = 0;

	for (i = 0; i < mon->nalerts; i++)
		n += mon->alerts[i].a.status == ALERT_FIRING &&
		    mon->alerts[i].a.classification == ALERT_UNEXPLAINED;
	return n;
}

int
monitor_alert_count(const struct monitor *mon)
{
	return mon->nalerts;
}

int
monitor_firing_in(const struct monitor *mon, int ind, bool unexplained_only)
{
	const struct mon_alert *ma;
	int i, n = 0;

	for (i = 0; i < mon->nalerts; i++) {
		ma = &mon->alerts[i];
		if (mon->series[ma->series].ind == ind &&
		    ma->a.status == ALERT_FIRING && (!unexplained_only ||
		    ma->a.classification == ALERT_UNEXPLAINED))
			n++;
	}
	return n;
}

/* ---------------------------------------------------------------------
 * Charts for the dashboard: read only.
 */

#define MON_BAND_Z		1.96	/* band of ordinary weekly variation */
#define MON_FUNNEL_Z95		1.96
#define MON_FUNNEL_POINTS	48	/* points of each drawn limit */

static json_t *
mon_json_week(int32_t week)
{
	char label[PERIOD_LABEL_MAX];

	if (week == INT32_MIN)
		return json_null();
	period_week_label(week, label);
	return json_string(label);
}

/* The week holding Unix time t (event time), as a label. */
static json_t *
mon_json_week_of(int64_t t)
{
	struct period p;

	if (t <= 0)
		return json_null();
	period_of(t, &p);
	return mon_json_week(p.week);
}

/* Unix time t as RFC 3339 UTC; null for 0 (none). */
static json_t *
mon_json_time(int64_t t)
{
	char buf[UTC_TIME_SIZE];

	if (t == 0 || utc_format(t, buf) == -1)
		return json_null();
	return json_string(buf);
}

static double
mon_clamp01(double x)
{
	return x < 0 ? 0 : x > 1 ? 1 : x;
}

/* The alerts of one series, oldest first, for chart markers. */
static json_t *
mon_series_alerts_json(const struct monitor *mon, int idx)
{
	json_t *list = json_array(), *ids;
	int i, j;

	for (i = 0; i < mon->nalerts; i++) {
		const struct mon_alert *ma = &mon->alerts[i];
		const struct alert *a = &ma->a;

		if (ma->series != idx)
			continue;
		ids = json_array();
		for (j = 0; j < a->nexplanations; j++)
			json_array_append_new(ids,
			    json_string(a->explanations[j]));
		json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s, "
		    "s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o}",
		    "alert_id", a->id,
		    "status", alert_status_name(a->status),
		    "classification",
		    alert_classification_name(a->classification),
		    "direction", alert_direction_name(a->direction),
		    "method", a->method,
		    "onset", a->onset,
		    "detected_week", mon_json_week_of(a->detected_at),
		    "resolved_week", a->status == ALERT_RESOLVED ?
		    mon_json_week_of(a->resolved_at) : json_null(),
		    "odds_ratio", mon_json_number(a->odds_ratio),
		    "explanations", ids,
		    "alarm_week", mon_json_week(ma->alarm_week),
		    "explained_at", mon_json_time(ma->explained_at)));
	}
	return list;
}

static const char *const mon_phase_names[] = {
	NULL, "unwatched", "watched", "drifting", "learning",
};

static json_t *
mon_json_phase(uint8_t phase)
{
	if (phase == MON_PHASE_UNKNOWN || phase > MON_PHASE_LEARNING)
		return json_null();
	return json_string(mon_phase_names[phase]);
}

/*
 * Why the CUSUMs start again at a week evaluated in phase cur after one
 * in phase prev: a new regime (an explained change), its level learnt,
 * an alert resolved (back at the old level, or the new one accepted), an
 * explanation withdrawn, watching (again) after a fit. NULL: no restart
 * of the detector's own. Into drifting is the alarm's crossing.
 */
static const char *
mon_restart_reason(uint8_t prev, uint8_t cur)
{
	if (prev == cur || prev == MON_PHASE_UNKNOWN)
		return NULL;
	switch (cur) {
	case MON_PHASE_LEARNING:
		return "new_regime";
	case MON_PHASE_WATCHED:
		if (prev == MON_PHASE_LEARNING)
			return "level_learnt";
		if (prev == MON_PHASE_DRIFTING)
			return "resolved";
		return "watching";
	case MON_PHASE_DRIFTING:
		return prev == MON_PHASE_LEARNING ? "explanation_withdrawn" :
		    NULL;
	default:
		return NULL;
	}
}

/* The series' alert that was open at week: the last to alarm before it. */
static const struct mon_alert *
mon_alert_before(const struct monitor *mon, int idx, int32_t week)
{
	const struct mon_alert *best = NULL;
	int i;

	for (i = 0; i < mon->nalerts; i++) {
		const struct mon_alert *ma = &mon->alerts[i];

		if (ma->series == idx && ma->alarm_week < week &&
		    (best == NULL || ma->alarm_week >= best->alarm_week))
			best = ma;
	}
	return best;
}

/* A regime start for the chart: where the CUSUMs restart, and why. */
static json_t *
mon_regime_json(const struct monitor *mon, int idx, int32_t week,
    const char *reason)
{
	const struct mon_alert *ma = NULL;
	json_t *o, *ids = json_array();
	int i;

	if (strcmp(reason, "watching") != 0)
		ma = mon_alert_before(mon, idx, week);
	for (i = 0; ma != NULL && i < ma->a.nexplanations; i++)
		json_array_append_new(ids, json_string(ma->a.explanations[i]));
	o = json_pack("{s:o, s:s, s:s?, s:o, s:n}",
	    "week", mon_json_week(week),
	    "reason", reason,
	    "alert_id", ma != NULL ? ma->a.id : NULL,
	    "explanations", ids,
	    "learning_until");
	if (o != NULL && ma != NULL && ma->a.note[0] != '\0' &&
	    strcmp(reason, "resolved") == 0)
		json_object_set_new(o, "note", json_string(ma->a.note));
	return o;
}

/*
 * One week of a control chart. The expected rate the detector compares
 * with is the case-mix expectation moved by the baseline (for offices the
 * nation's concurrent level without the office, the office's own level
 * and regime): O - increment. Weeks before the first fit carry no
 * increment (it is exactly 0 there; a computed one never is): ref, the
 * series without its later regime moves, gives their baseline. The week
 * open at the fit has expected sums for part of its decisions only:
 * nothing is expected of it.
 */
static json_t *
mon_control_week(const struct monitor *mon, const struct mon_series *ms,
    const struct mon_series *ref, const struct mon_week *w,
    const struct detect_cusum *c, bool monitored, bool partial,
    const char *restart)
{
	const struct mon_series *nat = &mon->series[mon_index(mon, ms->ind,
	    SERIES_NATIONAL, ms->benefit, ms->kind)];
	const struct mon_week *nw = mon_hist_get(nat, w->week);
	double n = w->n, base = NAN, sd, tau2 = mon_tau2(mon, ms);

	if (partial)
		monitored = false;
	else if (monitored)
		base = w->o - w->oe;
	else if (w->v > 0 && nw != NULL)
		base = w->o - mon_adjusted_oe(ref, w->n, w->o, w->e, w->v,
		    nw->n, nw->o, nw->e, nw->v);
	sd = w->v > 0 ? sqrt(w->v * (1 + tau2 * w->v)) : NAN;
	return json_pack("{s:o, s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o, "
	    "s:o, s:o, s:o, s:s?}",
	    "week", mon_json_week(w->week),
	    "decisions", (json_int_t)w->n,
	    "rejected", (json_int_t)w->o,
	    "rejection_rate", mon_json_number(n > 0 ? w->o / n : NAN),
	    "expected_rate", mon_json_number(n > 0 && w->v > 0 && !partial ?
	    w->e / n : NAN),
	    "baseline_rate", mon_json_number(n > 0 ? base / n : NAN),
	    "band_low", mon_json_number(n > 0 ?
	    mon_clamp01((base - MON_BAND_Z * sd) / n) : NAN),
	    "band_high", mon_json_number(n > 0 ?
	    mon_clamp01((base + MON_BAND_Z * sd) / n) : NAN),
	    "monitored", json_boolean(monitored),
	    "cusum_up", monitored ? json_real(c->up) : json_null(),
	    "cusum_down", monitored ? json_real(c->down) : json_null(),
	    "phase", mon_json_phase(w->phase),
	    "cusum_restart", restart);
}

/*
 * The weeks of a control chart, oldest first, and the regime starts among
 * them (regimes: appended to).
 */
static json_t *
mon_control_weeks(const struct monitor *mon, int idx, int weeks,
    json_t *regimes)
{
	const struct mon_series *ms = &mon->series[idx];
	const struct mon_group *g = mon_group_of(mon, ms);
	struct mon_series *ref;
	struct detect_cusum c;
	json_t *rows = json_array(), *row, *learning = NULL;
	int32_t wk, last = mon->closed_week, partial;
	uint8_t prev = MON_PHASE_UNKNOWN;
	bool monitored, crossed = false;
	double tau2, delta;
	const char *why;

	tau2 = mon_tau2(mon, ms);
	delta = mon_delta(mon, ms);
	partial = g->model != NULL ? g->fitted_at + 1 : INT32_MIN;
	ref = xmalloc(sizeof *ref);
	*ref = *ms;
	ref->shift = 0;
	/*
	 * The CUSUMs are recomputed from the stored increments: the detector
	 * keeps only their current values. They start at 0 in the window, at
	 * each regime start (from the weeks' phases; for weeks closed before
	 * phases were kept, the current regime), and after each crossing of
	 * the threshold.
	 */
	detect_cusum_reset(&c);
	for (wk = last - weeks + 1; wk <= last; wk++) {
		const struct mon_week *w = mon_hist_get(ms, wk);

		if (w == NULL || w->n == 0)
			continue;
		if (w->phase != MON_PHASE_UNKNOWN &&
		    prev != MON_PHASE_UNKNOWN)
			why = mon_restart_reason(prev, w->phase);
		else
			why = wk == ms->regime_week ? "regime" : NULL;
		if (why != NULL) {
			row = mon_regime_json(mon, idx, wk, why);
			/* Borrowed: the array holds it. */
			learning = row != NULL && json_array_append_new(regimes,
			    row) == 0 && w->phase == MON_PHASE_LEARNING ? row :
			    NULL;
		}
		if (learning != NULL && w->phase == MON_PHASE_LEARNING)
			json_object_set_new(learning, "learning_until",
			    mon_json_week(wk));
		if (why == NULL && crossed)
			why = "alarm";
		if (why != NULL) {
			detect_cusum_reset(&c);
			crossed = false;
		}
		prev = w->phase;
		monitored = w->oe != 0 && wk != partial;
		if (monitored) {
			/* The detector's own statistic and thresholds. */
			detect_cusum_update_bernoulli(&c, wk, w->oe,
			    w->o - w->oe, w->va > 0 ? w->va : w->v, w->n,
			    tau2, delta);
			crossed = c.up > ms->h || c.down > ms->h_down;
		}
		row = mon_control_week(mon, ms, ref, w, &c, monitored,
		    wk == partial, why);
		if (row == NULL || json_array_append_new(rows, row) == -1) {
			json_decref(rows);
			free(ref);
			return NULL;
		}
	}
	free(ref);
	/* A regime still learning: until when it will. */
	if (learning != NULL && ms->state == MON_EXPLAINED)
		json_object_set_new(learning, "learning_until", mon_json_week(
		    ms->regime_week + mon->conf->learning_weeks - 1));
	return rows;
}

json_t *
monitor_control_json(const struct monitor *mon, const struct series *s,
    int weeks)
{
	const struct mon_series *ms = mon_json_series(mon, s);
	int idx = ms != NULL ? (int)(ms - mon->series) : -1;
	json_t *rows, *regimes;
	int32_t last = mon->closed_week;

	if (ms == NULL || !ms->used || last == INT32_MIN)
		return json_pack("{s:s, s:n, s:o, s:o, s:[], s:[], s:n}",
		    "state", "learning", "threshold", "closed_through",
		    mon_json_week(last), "weeks", json_array(), "alerts",
		    "regimes", "learning_until");
	regimes = json_array();
	rows = mon_control_weeks(mon, idx, weeks, regimes);
	if (rows == NULL) {
		json_decref(regimes);
		return NULL;
	}
	return json_pack("{s:s, s:o, s:o, s:o, s:f, s:f, s:o, s:o, s:o, s:o, "
	    "s:o, s:o}",
	    "state", mon_state_name(ms->state),
	    "threshold", mon_json_number(ms->h),
	    "threshold_down", mon_json_number(ms->h_down),
	    "tau2", json_real(mon_tau2(mon, ms)),
	    "design_odds_ratio", exp(mon_delta(mon, ms)),
	    "band", 0.95,
	    "regime_from", ms->regime_week > 0 ?
	    mon_json_week(ms->regime_week) : json_null(),
	    "learning_until", ms->state == MON_EXPLAINED ?
	    mon_json_week(ms->regime_week + mon->conf->learning_weeks - 1) :
	    json_null(),
	    "closed_through", mon_json_week(last),
	    "weeks", rows,
	    "alerts", mon_series_alerts_json(mon, idx),
	    "regimes", regimes);
}

/* Odds-ratio limits at z for log-odds standard error se. */
static json_t *
mon_funnel_limits(double se)
{
	return json_pack("{s:o, s:o, s:o, s:o}",
	    "low95", mon_json_number(exp(-MON_FUNNEL_Z95 * se)),
	    "high95", mon_json_number(exp(MON_FUNNEL_Z95 * se)),
	    "low998", mon_json_number(exp(-MON_OUTLIER_Z * se)),
	    "high998", mon_json_number(exp(MON_OUTLIER_Z * se)));
}

json_t *
monitor_funnel_json(const struct monitor *mon, const struct series_set *set,
    int benefit, int kind, int weeks)
{
	return monitor_funnel_json_in(mon, set, INDICATOR_REJECTION, benefit,
	    kind, weeks);
}

json_t *
monitor_funnel_json_in(const struct monitor *mon,
    const struct series_set *set, int ind, int benefit, int kind, int weeks)
{
	const struct mon_group *g;
	struct mon_funnel_sums fs;
	json_t *offices, *curve, *o;
	double tau2, sum_n = 0, sum_e = 0, lo = INFINITY;
	double hi = 0, e, pbar, x, v, se;
	int32_t last = mon->closed_week;
	int i, k = 0;

	if (ind < 0 || ind >= mon->nind)
		return NULL;
	g = mon_group(mon, ind, benefit, kind);
	tau2 = g->tau2_office;
	offices = json_array();
	curve = json_array();

	for (i = 0; g->model != NULL && last != INT32_MIN &&
	    i < mon->max_offices; i++) {
		const struct mon_series *ms = &mon->series[mon_index(mon, ind,
		    i, benefit, kind)];

		if (!ms->used)
			continue;
		mon_funnel_sum(mon, ms, last, weeks, &fs);
		if (fs.v <= 0 || fs.var <= 0)
			continue;
		e = fs.o - fs.oe;
		se = sqrt(fs.var) / fs.v;
		o = json_pack("{s:s?, s:I, s:I, s:f, s:f, s:f, s:f, s:f, s:b, "
		    "s:b, s:b}",
		    "office", series_office_name(set, i),
		    "decisions", (json_int_t)fs.n,
		    "rejected", (json_int_t)fs.o,
		    "expected", e,
		    "odds_ratio", exp(fs.oe / fs.v),
		    "log_odds_ratio", fs.oe / fs.v,
		    "se", se,
		    "z", fs.oe / sqrt(fs.var),
		    "outside", fabs(fs.oe / sqrt(fs.var)) > MON_OUTLIER_Z,
		    "outside95", fabs(fs.oe / sqrt(fs.var)) > MON_FUNNEL_Z95,
		    "underpowered", ms->underpowered);
		if (o != NULL && json_object_update_new(o,
		    mon_funnel_limits(se)) == -1) {
			json_decref(o);
			o = NULL;
		}
		if (o == NULL || json_array_append_new(offices, o) == -1) {
			json_decref(offices);
			json_decref(curve);
			return NULL;
		}
		sum_n += fs.n;
		sum_e += e;
		if (e < lo)
			lo = e;
		if (e > hi)
			hi = e;
		if (fs.weeks > k)
			k = fs.weeks;
	}
	/*
	 * The drawn limits: with equal weekly information V/k, the log odds
	 * ratio has variance 1/V + tau2/k; V from the expected count at the
	 * pooled expected rate. Each office's own limits use its weeks.
	 */
	pbar = sum_n > 0 ? sum_e / sum_n : 0;
	if (hi > 0 && pbar > 0 && pbar < 1) {
		lo = lo > 1 ? lo / 2 : 0.5;
		hi *= 1.5;
		for (i = 0; i < MON_FUNNEL_POINTS; i++) {
			x = lo * pow(hi / lo, (double)i /
			    (MON_FUNNEL_POINTS - 1));
			v = x * (1 - pbar);
			o = json_pack("{s:f}", "expected", x);
			json_object_update_new(o, mon_funnel_limits(sqrt(1 / v +
			    tau2 / k)));
			json_array_append_new(curve, o);
		}
	}
	return json_pack("{s:b, s:o, s:o, s:i, s:f, s:o, s:[{s:f, s:f}, "
	    "{s:f, s:f}], s:o, s:o}",
	    "fitted", g->model != NULL,
	    "from", last != INT32_MIN ? mon_json_week(last - weeks + 1) :
	    json_null(),
	    "to", mon_json_week(last),
	    "weeks_with_data", k,
	    "tau2", tau2,
	    "expected_rate", pbar > 0 ? json_real(pbar) : json_null(),
	    "limits", "level", 0.95, "z", MON_FUNNEL_Z95, "level", 0.998,
	    "z", MON_OUTLIER_Z,
	    "curve", curve,
	    "offices", offices);
}

static int
mon_digest_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void
monitor_digest(const struct monitor *mon, char out[MONITOR_DIGEST_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char hash[EVP_MAX_MD_SIZE];
	unsigned int hashlen = 0, j;
	EVP_MD_CTX *md;
	char **line;
	int i, n = mon->nalerts;

	/*
	 * Sorted: the store's order is the order of arrival, which need not
	 * be the same on two instances that agree.
	 */
	line = xcalloc(n > 0 ? (size_t)n : 1, sizeof *line);
	for (i = 0; i < n; i++) {
		const struct alert *a = &mon->alerts[i].a;

		line[i] = xasprintf("%s.%u.%s.%s\n", a->id, (unsigned)a->seq,
		    alert_status_name(a->status),
		    alert_classification_name(a->classification));
	}
	qsort(line, (size_t)n, sizeof *line, mon_digest_cmp);
	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
		fatalx("monitor: cannot compute SHA-256");
	for (i = 0; i < n; i++) {
		EVP_DigestUpdate(md, line[i], strlen(line[i]));
		free(line[i]);
	}
	EVP_DigestFinal_ex(md, hash, &hashlen);
	EVP_MD_CTX_free(md);
	free(line);
	for (j = 0; j < hashlen && 2 * j < MONITOR_DIGEST_LEN; j++) {
		out[2 * j] = hex[hash[j] >> 4];
		out[2 * j + 1] = hex[hash[j] & 0xf];
	}
	out[2 * j] = '\0';
}
