/*
 * The drift monitor. Per (benefit, kind) a case-mix model frozen for the
 * regime; per series a weekly history of n, O, E, V and a two-sided CUSUM
 * of observed against expected: national series against the model
 * (stability), office series against the concurrent national level
 * without that office plus the office's own baseline (uniformity). An
 * alarm becomes an alert with onset, size, rates, decomposition and
 * strata, classified against the explanation registry.
 *
 * This file holds the series and their states: the detector hooks,
 * increments, regimes and the life cycle. Models and record scans are in
 * monitor_fit.c, the alert store in monitor_alerts.c, the checkpoint in
 * monitor_save.c and the JSON in monitor_json.c; monitor_int.h is shared.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "decision.h"
#include "detect.h"
#include "explain.h"
#include "log.h"
#include "model.h"
#include "monitor_int.h"
#include "period.h"
#include "xmalloc.h"

#define MON_METHOD		"score-cusum/v1"

static const char *const mon_state_names[] = {
	"learning", "stable", "drifting", "explained",
};

const char *
mon_state_name(enum mon_state state)
{
	return mon_state_names[state];
}

/* The design log odds ratio of a series. */
double
mon_delta(const struct monitor *mon, const struct mon_series *ms)
{
	return log(ms->office == SERIES_NATIONAL ?
	    mon->conf->design_or_national : mon->conf->design_or_office);
}

double
mon_tau2(const struct monitor *mon, const struct mon_series *ms)
{
	const struct mon_group *g = mon_group(mon, ms->benefit, ms->kind);

	return ms->office == SERIES_NATIONAL ? g->tau2_national :
	    g->tau2_office;
}

/* ---------------------------------------------------------------------
 * Increments: what one week adds to a series' CUSUM.
 */

/*
 * O - E of a series for week values (n, o, e, v), adjusted to its
 * baseline: the national series against the model and its regime shift;
 * an office against the nation's concurrent deviation without it (gamma,
 * a one-step score estimate) plus its own level and regime shift. All to
 * first order in the log odds: E' = E + s V.
 */
double
mon_adjusted_oe(const struct mon_series *ms, double n, double o, double e,
    double v, double nat_o, double nat_e, double nat_v)
{
	double gamma = 0, s, pbar;

	if (ms->office == SERIES_NATIONAL)
		s = ms->shift;
	else {
		if (nat_v - v > 1e-9)
			gamma = ((nat_o - o) - (nat_e - e)) / (nat_v - v);
		s = gamma + ms->alpha + ms->shift;
	}
	/* Second order too: a national shift must not leak into offices. */
	pbar = n > 0 ? e / n : 0;
	return o - e - s * v - s * s / 2 * v * (1 - 2 * pbar);
}

/* ---------------------------------------------------------------------
 * Regimes and alarms: where a series changes state.
 */

/*
 * The one place a series' state changes, but for a new series and the
 * checkpoint: each change is logged with its reason.
 */
static void
mon_set_state(struct monitor *mon, struct mon_series *ms,
    enum mon_state state, const char *why)
{
	char office[16];

	if (ms->state == state)
		return;
	if (ms->office == SERIES_NATIONAL)
		snprintf(office, sizeof office, "%s", SERIES_NATIONAL_NAME);
	else
		snprintf(office, sizeof office, "%d", ms->office);
	log_notice("monitor: series %s/%s/%s: %s -> %s: %s", office,
	    mon->conf->benefits[ms->benefit], mon_kind_name(ms->kind),
	    mon_state_name(ms->state), mon_state_name(state), why);
	ms->state = state;
}

/* A new regime for an explained change: move the baseline by its size. */
static void
mon_new_regime(struct monitor *mon, struct mon_series *ms)
{
	ms->shift += ms->size;
	detect_cusum_reset(&ms->cusum);
	detect_cusum_reset(&ms->back);
	mon_set_state(mon, ms, MON_EXPLAINED, "the change is explained");
	ms->regime_week = mon->closed_week + 1;
	log_notice("monitor: series %d/%d/%d: new regime, baseline moved by "
	    "%.3f log odds", ms->office, ms->benefit, ms->kind, ms->size);
}

/*
 * The national level shift s (log odds against the model) that makes the
 * expected sum of weeks [from, to] meet the observed one, to second
 * order: sum O - E = s V + s^2/2 V (1 - 2 p). The one-step score estimate
 * is biased by about that second term, which a national series, with
 * hundreds of decisions a week, would read as a new drift.
 */
static bool
mon_national_level(const struct mon_series *ms, int32_t from, int32_t to,
    double *level)
{
	double oe = 0, v = 0, a = 0, disc;
	int32_t wk;

	for (wk = from; wk <= to; wk++) {
		const struct mon_week *w = mon_hist_get(ms, wk);

		if (w == NULL || w->v <= 0 || w->n == 0)
			continue;
		oe += w->o - w->e;
		v += w->v;
		a += w->v * (1 - 2 * w->e / w->n) / 2;
	}
	if (v <= 0)
		return false;
	disc = v * v + 4 * a * oe;
	if (fabs(a) < 1e-12 || disc < 0)
		*level = oe / v;
	else
		*level = (-v + sqrt(disc)) / (2 * a);
	return isfinite(*level);
}

/*
 * End of a new regime's learning: its level is what the weeks since it
 * began say (on top of the move made at the alarm); watching resumes.
 */
static void
mon_regime_learnt(struct monitor *mon, struct mon_series *ms, int32_t week)
{
	double oe[MON_HIST], v[MON_HIST];
	struct detect_size size;
	int32_t wk;
	int k = 0;

	for (wk = ms->regime_week; wk <= week && k < MON_HIST; wk++) {
		const struct mon_week *w = mon_hist_get(ms, wk);

		if (w == NULL)
			continue;
		oe[k] = w->oe;
		v[k] = w->v;
		k++;
	}
	detect_size_estimate(oe, v, k, mon_tau2(mon, ms), &size);
	if (ms->office == SERIES_NATIONAL)
		mon_national_level(ms, ms->regime_week, week, &ms->shift);
	else if (isfinite(size.log_or))
		ms->shift += size.log_or;
	detect_cusum_reset(&ms->cusum);
	mon_set_state(mon, ms, MON_STABLE, "the new level is learnt");
	ms->regime_week = week + 1;
	mon_resolve(mon, ms, "explained; the new level is learnt");
}

/* An alarm: a new alert for the series. */
static void
mon_alarm(struct monitor *mon, const struct series_set *set,
    struct mon_series *ms, bool up, int32_t onset, int32_t last)
{
	struct mon_alert *ma;
	struct alert *a;

	ma = mon_alert_start(mon, set, ms, onset, up, up ? "up" : "down",
	    MON_METHOD);
	a = &ma->a;
	mon_describe(mon, ms, ma, onset, last);
	/* Read off the loop; the alert goes out once they are in. */
	mon_job_strata(mon, ms, ma, onset);
	mon_classify(mon, ma);
	ms->alert = (int)(ma - mon->alerts);
	detect_cusum_reset(&ms->back);
	log_notice("monitor: alarm %s: odds ratio %.2f, %s (weekly weight "
	    "%.1f, threshold %.2f%s)", a->id, a->odds_ratio,
	    alert_classification_name(a->classification), ms->w, ms->h,
	    ms->underpowered ? ", underpowered" : "");
	if (a->classification == ALERT_EXPLAINED)
		mon_new_regime(mon, ms);
	else
		mon_set_state(mon, ms, MON_DRIFTING, "unexplained alarm");
}

/* ---------------------------------------------------------------------
 * The weekly and daily evaluation.
 */

/* One series' increment for a week from statistics buckets. */
static bool
mon_increment(struct mon_series *ms, const struct bucket *b,
    const struct bucket *nb, double late_oe, double late_v, double *oe,
    double *v)
{
	if (b == NULL || nb == NULL)
		return false;
	*oe = mon_adjusted_oe(ms, b->n, b->rejected, b->expected,
	    b->variance, nb->rejected, nb->expected, nb->variance) + late_oe;
	*v = b->variance + late_v;
	return *v > 0;
}

/*
 * The new level a drifting series is tested against for a return. The
 * estimate at the alarm rests on the few weeks that made the CUSUM cross,
 * picked for being high, so it overshoots, at times severalfold; from it
 * an ordinary new level looked like a return to the old one. Tested from
 * at most the design size instead, a return is found as fast as a change
 * of that size is, and an overshoot cannot fake one.
 */
static double
mon_back_level(const struct mon_series *ms, double delta)
{
	if (ms->size > delta)
		return delta;
	if (ms->size < -delta)
		return -delta;
	return ms->size;
}

/* Commit a closed week into one series, and look for an alarm. */
static void
mon_close_series(struct monitor *mon, const struct series_set *set,
    struct mon_series *ms, int32_t week)
{
	const struct series *s, *ns;
	const struct bucket *b, *nb;
	struct mon_week *w;
	double oe = 0, v = 0, delta = mon_delta(mon, ms);
	double tau2 = mon_tau2(mon, ms);

	s = series_get(set, ms->office, ms->benefit, ms->kind);
	ns = series_get(set, SERIES_NATIONAL, ms->benefit, ms->kind);
	b = s != NULL ? series_week(s, week) : NULL;
	nb = ns != NULL ? series_week(ns, week) : NULL;
	w = mon_hist(ms, week);
	if (b != NULL) {
		w->n = b->n;
		w->o = b->rejected;
		w->e = b->expected;
		w->v = b->variance;
	}
	if (!mon_increment(ms, b, nb, ms->late_oe, ms->late_v, &oe, &v)) {
		if (ms->late_v <= 0)
			return;
		oe = ms->late_oe;
		v = ms->late_v;
	}
	ms->late_oe = ms->late_v = 0;
	w->oe = oe;
	/* The week open at a fit mixes sums from before and after it. */
	if (ms->state == MON_LEARNING || !isfinite(ms->h) ||
	    week < ms->regime_week)
		return;
	if (ms->state == MON_EXPLAINED) {
		/* A new regime learns its level before it is watched. */
		if (week + 1 - ms->regime_week >= mon->conf->learning_weeks)
			mon_regime_learnt(mon, ms, week);
		return;
	}
	if (ms->state == MON_DRIFTING) {
		/* Back to the old level? A CUSUM from the new level towards it. */
		double level = mon_back_level(ms, delta), d = -level;

		/* A change too small to measure returns at half the design. */
		if (fabs(d) < delta / 2)
			d = ms->size >= 0 ? -delta / 2 : delta / 2;
		{
			detect_cusum_update(&ms->back, week, oe - level * v, v,
			    tau2, fabs(d));
			if ((d < 0 ? ms->back.down : ms->back.up) > ms->h) {
				mon_resolve(mon, ms, NULL);
				mon_set_state(mon, ms, MON_STABLE,
				    "back at the old level");
				detect_cusum_reset(&ms->cusum);
			}
		}
		return;
	}
	detect_cusum_update(&ms->cusum, week, oe, v, tau2, delta);
	/*
	 * Too little information a week for the normal approximation the
	 * thresholds rest on: watched and shown, but it raises no alarm.
	 */
	if (ms->underpowered)
		return;
	if (ms->cusum.up > ms->h)
		mon_alarm(mon, set, ms, true, ms->cusum.up_start, week);
	else if (ms->cusum.down > ms->h)
		mon_alarm(mon, set, ms, false, ms->cusum.down_start, week);
}

void
mon_funnel_sum(const struct monitor *mon, const struct mon_series *ms,
    int32_t last, int weeks, struct mon_funnel_sums *fs)
{
	double tau2 = mon_tau2(mon, ms);
	int32_t wk;

	memset(fs, 0, sizeof *fs);
	for (wk = last - weeks + 1; wk <= last; wk++) {
		const struct mon_week *w = mon_hist_get(ms, wk);

		if (w == NULL || w->v <= 0)
			continue;
		/* Against the nation only: the office level is the finding. */
		fs->oe += w->oe + (ms->alpha + ms->shift) * w->v;
		fs->var += w->v * (1 + tau2 * w->v);
		fs->v += w->v;
		fs->o += w->o;
		fs->n += w->n;
		fs->weeks++;
	}
}

/* The funnel flag: standardised excess over the last 13 closed weeks. */
static void
mon_funnel(struct monitor *mon, const struct series_set *set,
    struct mon_series *ms, int32_t week)
{
	struct mon_funnel_sums fs;
	double sum_oe, sum_var, sum_v;
	bool was;

	if (ms->office == SERIES_NATIONAL)
		return;
	mon_funnel_sum(mon, ms, week, MON_FUNNEL_WEEKS, &fs);
	sum_oe = fs.oe;
	sum_var = fs.var;
	sum_v = fs.v;
	ms->z13 = sum_var > 0 ? sum_oe / sqrt(sum_var) : 0;
	was = ms->outlier;
	ms->outlier = fabs(ms->z13) > MON_OUTLIER_Z;
	if (ms->outlier && !was && mon->conf->outlier_alerts &&
	    ms->outlier_alert < 0 && !ms->underpowered)
		mon_outlier_alert(mon, set, ms, week, sum_oe, sum_v);
	else if (!ms->outlier && ms->outlier_alert >= 0) {
		struct mon_alert *ma = &mon->alerts[ms->outlier_alert];

		ma->a.status = ALERT_RESOLVED;
		ma->a.resolved_at = mon->watermark;
		ms->outlier_alert = -1;
		mon_alert_changed(mon, ma);
	}
}

static void
mon_week_closed(void *arg, int32_t week, const struct series_set *set)
{
	struct monitor *mon = arg;
	const struct series *s;
	int i, g;

	mon->closed_week = week;
	if (mon->watermark < period_week_start(week + 1))
		mon->watermark = period_week_start(week + 1);
	for (s = series_first(set); s != NULL; s = series_next(set, s)) {
		struct mon_series *ms = mon_series_of(mon, series_office(s),
		    series_benefit(s), series_kind(s));

		if (!ms->used) {
			ms->used = true;
			ms->office = series_office(s);
			ms->benefit = series_benefit(s);
			ms->kind = series_kind(s);
			ms->alert = -1;
			ms->state = MON_LEARNING;
			ms->h = INFINITY;
			detect_cusum_reset(&ms->cusum);
			detect_cusum_reset(&ms->back);
		}
		if (mon->first_week == INT32_MIN ||
		    series_first_week(s) < mon->first_week)
			mon->first_week = series_first_week(s);
	}
	if (!mon->fitted && mon->first_week != INT32_MIN &&
	    week + 1 - mon->first_week >= mon->conf->min_reference_weeks) {
		int32_t from = week + 1 - mon->conf->reference_weeks;

		if (from < mon->first_week)
			from = mon->first_week;
		/* History first, so the fit's window has its O and n. */
		for (i = 0; i < mon->nseries; i++) {
			struct mon_series *ms = &mon->series[i];
			int32_t wk;

			if (!ms->used)
				continue;
			s = series_get(set, ms->office, ms->benefit, ms->kind);
			for (wk = from; wk <= week && s != NULL; wk++) {
				const struct bucket *b = series_week(s, wk);
				struct mon_week *w;

				if (b == NULL)
					continue;
				w = mon_hist(ms, wk);
				w->n = b->n;
				w->o = b->rejected;
			}
		}
		/* The rest follows in mon_fitted. */
		mon_job_fit(mon, set, -1, from, week + 1, week);
		return;
	}
	if (!mon->fitted)
		return;
	/* National series first: offices read the same buckets anyway. */
	for (i = 0; i < mon->nseries; i++) {
		struct mon_series *ms = &mon->series[i];

		if (!ms->used)
			continue;
		g = ms->benefit * DECISION_NKINDS + ms->kind;
		if (mon->groups[g].model == NULL)
			continue;
		mon_close_series(mon, set, ms, week);
		mon_funnel(mon, set, ms, week);
	}
	for (g = 0; g < mon->nbenefits * DECISION_NKINDS; g++) {
		if (mon->groups[g].refit) {
			int32_t from = week + 1 - mon->conf->reference_weeks;

			if (from < mon->first_week)
				from = mon->first_week;
			mon_job_fit(mon, set, g, from, week + 1, week);
		}
	}
}

/*
 * A fit read off the loop was applied (ok: a model was fitted) after the
 * close of week: the first regime starts, or a refit group starts afresh.
 */
void
mon_fitted(struct monitor *mon, int only_group, int32_t week, bool ok)
{
	int i;

	if (only_group < 0) {
		if (!ok)
			return;
		mon->fitted = true;
		mon_thresholds(mon);
		for (i = 0; i < mon->nseries; i++) {
			struct mon_series *ms = &mon->series[i];

			if (ms->used && isfinite(ms->h)) {
				mon_set_state(mon, ms, MON_STABLE,
				    "first models fitted");
				ms->regime_week = week + 2;
			}
		}
		return;
	}
	mon_thresholds(mon);
	for (i = 0; i < mon->nseries; i++) {
		struct mon_series *ms = &mon->series[i];

		if (ms->used && ms->benefit * DECISION_NKINDS + ms->kind ==
		    only_group) {
			detect_cusum_reset(&ms->cusum);
			ms->regime_week = week + 2;
		}
	}
}

/* The hooks that may leave reads outstanding end here. */
static void
mon_week_closed_hook(void *arg, int32_t week, const struct series_set *set)
{
	mon_week_closed(arg, week, set);
	mon_jobs_yield(arg);
}

static void
mon_counted(void *arg, const struct decision *d, int office,
    const struct period *p, double prob, bool late)
{
	struct monitor *mon = arg;
	double y;
	int k, offices[2] = { SERIES_NATIONAL, office };

	(void)p;
	if (!late || prob < 0 || d->outcome == OUTCOME_DISMISSED)
		return;
	/* Its week is closed: carry its O - E into the next close. */
	y = d->outcome == OUTCOME_REJECTED;
	for (k = 0; k < 2; k++) {
		struct mon_series *ms = mon_series_of(mon, offices[k],
		    d->benefit, d->kind);

		ms->late_oe += y - prob;
		ms->late_v += prob * (1 - prob);
	}
}

static double
mon_predict(void *arg, const struct decision *d, const struct period *p)
{
	struct monitor *mon = arg;
	struct mon_group *g;
	struct model_x x;

	if (d->benefit >= mon->nbenefits)
		return -1;
	g = mon_group(mon, d->benefit, d->kind);
	if (g->model == NULL)
		return -1;
	model_x_set(&x, d->age, d->sex, d->diagnosis, d->case_day,
	    d->employment, d->care, p->iso_week);
	return model_predict(g->model, &x);
}

/* The daily look at the open week: alarm early on a large shift. */
static void
mon_tick(void *arg, int64_t watermark, const struct series_set *set)
{
	struct monitor *mon = arg;
	int64_t every = mon->conf->evaluate_every_ms / 1000;
	int32_t week = mon->closed_week + 1;
	int i;

	mon->watermark = watermark;
	if (!mon->fitted || every <= 0 || watermark / every <= mon->last_look_day)
		return;
	mon->last_look_day = watermark / every;
	for (i = 0; i < mon->nseries; i++) {
		struct mon_series *ms = &mon->series[i];
		const struct series *s, *ns;
		double oe, v, up, down;

		if (!ms->used || ms->state != MON_STABLE || !isfinite(ms->h) ||
		    ms->underpowered || week < ms->regime_week)
			continue;
		s = series_get(set, ms->office, ms->benefit, ms->kind);
		ns = series_get(set, SERIES_NATIONAL, ms->benefit, ms->kind);
		if (s == NULL || ns == NULL || !mon_increment(ms,
		    series_week(s, week), series_week(ns, week), ms->late_oe,
		    ms->late_v, &oe, &v))
			continue;
		detect_cusum_peek(&ms->cusum, oe, v, mon_tau2(mon, ms),
		    mon_delta(mon, ms), &up, &down);
		if (up > ms->h || down > ms->h) {
			/* The open week so far, so the alert can size it. */
			const struct bucket *b = series_week(s, week);
			struct mon_week *w = mon_hist(ms, week);

			w->n = b->n;
			w->o = b->rejected;
			w->e = b->expected;
			w->v = b->variance;
			w->oe = oe;
		}
		if (up > ms->h)
			mon_alarm(mon, set, ms, true, ms->cusum.up > 0 ?
			    ms->cusum.up_start : week, week);
		else if (down > ms->h)
			mon_alarm(mon, set, ms, false, ms->cusum.down > 0 ?
			    ms->cusum.down_start : week, week);
	}
}

static void
mon_tick_hook(void *arg, int64_t watermark, const struct series_set *set)
{
	mon_tick(arg, watermark, set);
	mon_jobs_yield(arg);
}

static bool
mon_busy(void *arg)
{
	return mon_jobs_busy(arg);
}

static const char *
mon_state_of(void *arg, const struct series *s)
{
	struct monitor *mon = arg;
	const struct mon_series *ms = mon_series_of(mon, series_office(s),
	    series_benefit(s), series_kind(s));

	return ms->used ? mon_state_names[ms->state] : "learning";
}

/* ---------------------------------------------------------------------
 * Life cycle and requests.
 */

struct monitor *
monitor_create(const struct conf *c, struct explain_registry *reg,
    monitor_records_cb records_cb, void *records_arg,
    struct event_base *base)
{
	struct monitor *mon = xcalloc(1, sizeof *mon);
	int i;

	mon->conf = c;
	mon->reg = reg;
	mon->records_cb = records_cb;
	mon->records_arg = records_arg;
	mon->nbenefits = c->nbenefits;
	mon->max_offices = c->max_offices;
	mon->groups = xcalloc((size_t)mon->nbenefits * DECISION_NKINDS,
	    sizeof *mon->groups);
	mon->nseries = (mon->max_offices + 1) * mon->nbenefits *
	    DECISION_NKINDS;
	mon->series = xcalloc((size_t)mon->nseries, sizeof *mon->series);
	for (i = 0; i < mon->nseries; i++) {
		int j;

		mon->series[i].alert = -1;
		mon->series[i].outlier_alert = -1;
		for (j = 0; j < MON_HIST; j++)
			mon->series[i].hist[j].week = INT32_MIN;
	}
	mon->first_week = INT32_MIN;
	mon->closed_week = INT32_MIN;
	mon->watermark = INT64_MIN;
	mon->explain_gen = reg != NULL ? explain_generation(reg) : 0;

	mon->det.name = "monitor";
	mon->det.arg = mon;
	mon->det.predict = mon_predict;
	mon->det.counted = mon_counted;
	mon->det.week_closed = mon_week_closed_hook;
	mon->det.tick = mon_tick_hook;
	mon->det.busy = mon_busy;
	mon->det.state_of = mon_state_of;
	mon->det.save = mon_save;
	mon->det.load = mon_load;
	mon_jobs_start(mon, base);
	return mon;
}

void
monitor_free(struct monitor *mon)
{
	int i;

	if (mon == NULL)
		return;
	mon_jobs_stop(mon);
	for (i = 0; i < mon->nbenefits * DECISION_NKINDS; i++)
		model_free(mon->groups[i].model);
	free(mon->groups);
	free(mon->series);
	free(mon->alerts);
	free(mon);
}

const struct detector *
monitor_detector(struct monitor *mon)
{
	return &mon->det;
}

void
monitor_set_conf(struct monitor *mon, const struct conf *c)
{
	mon->conf = c;
	if (mon->fitted)
		mon_thresholds(mon);
	monitor_explanations_changed(mon);
}

void
monitor_explanations_changed(struct monitor *mon)
{
	int i;

	if (mon->reg == NULL)
		return;
	/* Not under an alert whose strata are being read: afterwards. */
	if (mon_jobs_busy(mon)) {
		mon->explain_deferred = true;
		return;
	}
	mon->explain_gen = explain_generation(mon->reg);
	for (i = 0; i < mon->nalerts; i++) {
		struct mon_alert *ma = &mon->alerts[i];
		struct mon_series *ms = &mon->series[ma->series];
		bool open = ms->alert == i;

		if (!mon_classify(mon, ma))
			continue;
		log_notice("monitor: %s now %s", ma->a.id,
		    alert_classification_name(ma->a.classification));
		if (open && ma->a.classification == ALERT_EXPLAINED &&
		    ms->state == MON_DRIFTING)
			mon_new_regime(mon, ms);
		else if (open && ma->a.classification == ALERT_UNEXPLAINED &&
		    ms->state == MON_EXPLAINED) {
			/* Its explanation went away: drifting again. */
			ms->shift -= ms->size;
			mon_set_state(mon, ms, MON_DRIFTING,
			    "its explanation is gone");
		}
		mon_alert_changed(mon, ma);
	}
}

int
monitor_request_refit(struct monitor *mon, int benefit, int kind,
    char **cause)
{
	if (benefit < 0 || benefit >= mon->nbenefits || kind < 0 ||
	    kind >= DECISION_NKINDS) {
		*cause = xstrdup("no such benefit or kind");
		return -1;
	}
	if (!mon->fitted) {
		*cause = xstrdup("no model yet: the reference window is not "
		    "complete");
		return -1;
	}
	mon_group(mon, benefit, kind)->refit = true;
	return 0;
}

int
monitor_rebaseline(struct monitor *mon, const struct series *s,
    const char *note, char **cause)
{
	struct mon_series *ms = mon_series_of(mon, series_office(s),
	    series_benefit(s), series_kind(s));

	if (!ms->used || ms->state != MON_DRIFTING) {
		*cause = xstrdup("the series is not drifting");
		return -1;
	}
	if (mon_jobs_busy(mon)) {
		*cause = xstrdup("the detector is reading the records (a "
		    "model fit or an alert's strata); try again in a moment");
		return -1;
	}
	ms->shift += ms->size;
	detect_cusum_reset(&ms->cusum);
	detect_cusum_reset(&ms->back);
	mon_set_state(mon, ms, MON_STABLE, "new level accepted");
	mon_resolve(mon, ms, note != NULL ? note :
	    "new level accepted by a supervisor");
	return 0;
}

