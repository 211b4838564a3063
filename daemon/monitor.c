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
#include <time.h>

#include "clock.h"
#include "conf.h"
#include "decision.h"
#include "detect.h"
#include "explain.h"
#include "indicator.h"
#include "log.h"
#include "model.h"
#include "monitor_int.h"
#include "period.h"
#include "stall.h"
#include "xmalloc.h"

#define MON_METHOD		"score-cusum/v1"
#define MON_MAX_LEVEL		1.0	/* log odds a baseline may move */

static const char *const mon_state_names[] = {
	"learning", "stable", "drifting", "explained",
};

const char *
mon_state_name(enum mon_state state)
{
	return mon_state_names[state];
}

/* The design log odds ratio of a series: its indicator's. */
double
mon_delta(const struct monitor *mon, const struct mon_series *ms)
{
	const struct indicator *ind = &mon->ind.ind[ms->ind];

	if (ms->ind == INDICATOR_REJECTION)
		return log(ms->office == SERIES_NATIONAL ?
		    mon->conf->design_or_national :
		    mon->conf->design_or_office);
	return log(ms->office == SERIES_NATIONAL ? ind->design_or_national :
	    ind->design_or_office);
}

double
mon_tau2(const struct monitor *mon, const struct mon_series *ms)
{
	const struct mon_group *g = mon_group_of(mon, ms);

	return ms->office == SERIES_NATIONAL ? g->tau2_national :
	    g->tau2_office;
}

/* ---------------------------------------------------------------------
 * Increments: what one week adds to a series' CUSUM.
 */

/*
 * The level s that solves oe = s v + s^2 a, the root near oe/v: the
 * sums of a week (or weeks) moved by s in the log odds, to second order,
 * with a = sum p(1-p)(1-2p)/2. A one-step score estimate oe/v is biased
 * by about that second term.
 */
double
mon_level(double oe, double v, double a)
{
	double disc, s;

	if (!(v > 0))
		return 0;
	disc = v * v + 4 * a * oe;
	if (fabs(a) < 1e-12 || disc < 0)
		return oe / v;
	s = (-v + sqrt(disc)) / (2 * a);
	return isfinite(s) ? s : oe / v;
}

/*
 * The expected sum and variance of a week moved to the series' baseline:
 * logit p + s, with s the regime shift of a national series, or for an
 * office the nation's concurrent deviation without it (gamma) plus the
 * office's level and regime shift. Second order in s for both, with the
 * week's mean p standing in for each decision's: gamma solved to first
 * order overshoots a national change by about s (1 - 2p)/2, and a V left
 * unmoved understates the variance after one; either made every office
 * alarm when the nation moved.
 */
void
mon_adjust(const struct mon_series *ms, double n, double o, double e,
    double v, double nat_n, double nat_o, double nat_e, double nat_v,
    double *e_adj, double *v_adj)
{
	double gamma = 0, s, p, rv, rn;

	if (ms->office == SERIES_NATIONAL)
		s = ms->shift;
	else {
		rv = nat_v - v;
		rn = nat_n - n;
		if (rv > 1e-9 && rn > 0)
			gamma = mon_level((nat_o - o) - (nat_e - e), rv,
			    rv * (1 - 2 * (nat_e - e) / rn) / 2);
		s = gamma + ms->alpha + ms->shift;
	}
	/*
	 * Beyond an odds ratio of e the expansion is no guide, and only a
	 * broken model or week gets there: hold it at the edge.
	 */
	s = fmax(-MON_MAX_LEVEL, fmin(MON_MAX_LEVEL, s));
	p = n > 0 ? e / n : 0;
	*e_adj = e + s * v + s * s / 2 * v * (1 - 2 * p);
	*v_adj = v * (1 + s * (1 - 2 * p) + s * s / 2 *
	    (1 - 6 * p + 6 * p * p));
	if (!(*v_adj > 0))
		*v_adj = v;
}

double
mon_adjusted_oe(const struct mon_series *ms, double n, double o, double e,
    double v, double nat_n, double nat_o, double nat_e, double nat_v)
{
	double ea, va;

	mon_adjust(ms, n, o, e, v, nat_n, nat_o, nat_e, nat_v, &ea, &va);
	return o - ea;
}

/* ---------------------------------------------------------------------
 * Regimes and alarms: where a series changes state.
 */

/*
 * The one place a series' state changes, but for a new series and the
 * checkpoint: each change is logged with its reason.
 */
static void
mon_set_state_as(struct monitor *mon, struct mon_series *ms,
    enum mon_state state, const char *why, bool quiet)
{
	char office[16], line[256];

	if (ms->state == state)
		return;
	if (quiet && log_get_level() < LOG_DEBUG) {
		ms->state = state;
		return;
	}
	if (ms->office == SERIES_NATIONAL)
		snprintf(office, sizeof office, "%s", SERIES_NATIONAL_NAME);
	else
		snprintf(office, sizeof office, "%d", ms->office);
	snprintf(line, sizeof line, "monitor: series %s%s%s/%s/%s: %s -> %s: "
	    "%s", mon_ind_prefix(mon, ms->ind), ms->ind != 0 ? ":" : "",
	    office, mon->conf->benefits[ms->benefit], mon_kind_name(ms->kind),
	    mon_state_name(ms->state), mon_state_name(state), why);
	if (quiet)
		log_debug("%s", line);
	else
		log_notice("%s", line);
	ms->state = state;
}

static void
mon_set_state(struct monitor *mon, struct mon_series *ms,
    enum mon_state state, const char *why)
{
	mon_set_state_as(mon, ms, state, why, false);
}

/*
 * Whether an office's alert is explained by an entry that names the
 * office: its own lawful change, not one of the whole country.
 */
static bool
mon_own_explanation(const struct monitor *mon, const struct mon_series *ms)
{
	const struct mon_alert *ma;
	const struct explanation *e;
	int i;

	if (ms->alert < 0 || mon->reg == NULL)
		return false;
	ma = &mon->alerts[ms->alert];
	for (i = 0; i < ma->a.nexplanations; i++) {
		e = explain_find(mon->reg, ma->a.explanations[i]);
		if (e != NULL && e->noffices > 0)
			return true;
	}
	return false;
}

/*
 * A new regime for an explained change: move the baseline by its size.
 * Office series are measured against the concurrent nation, which has
 * already taken up a change of the whole country: moving an office's
 * baseline for it as well counts it twice and turns the office into an
 * alarm the other way. Only an office's own explained change moves its
 * offset at once; otherwise its level is learnt from the data.
 */
static void
mon_new_regime(struct monitor *mon, struct mon_series *ms)
{
	if (ms->office == SERIES_NATIONAL || mon_own_explanation(mon, ms))
		ms->moved = ms->size;
	else
		ms->moved = 0;
	ms->shift += ms->moved;
	detect_cusum_reset(&ms->cusum);
	detect_cusum_reset(&ms->back);
	mon_set_state(mon, ms, MON_EXPLAINED, "the change is explained");
	ms->regime_week = mon->closed_week + 1;
	log_notice("monitor: series %d/%d/%d: new regime, baseline moved by "
	    "%.3f log odds", ms->office, ms->benefit, ms->kind, ms->moved);
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
	double oe = 0, v = 0, a = 0;
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
	*level = mon_level(oe, v, a);
	return isfinite(*level);
}

/* The size of a series' change over weeks [from, to], from its increments. */
void
mon_size(const struct monitor *mon, const struct mon_series *ms,
    int32_t from, int32_t to, struct detect_size *size)
{
	double oe[MON_HIST], v[MON_HIST];
	int32_t wk;
	int k = 0;

	for (wk = from; wk <= to && k < MON_HIST; wk++) {
		const struct mon_week *w = mon_hist_get(ms, wk);

		if (w == NULL)
			continue;
		oe[k] = w->oe;
		/* The variance at the baseline the increment was taken at. */
		v[k] = w->va > 0 ? w->va : w->v;
		k++;
	}
	detect_size_estimate(oe, v, k, mon_tau2(mon, ms), size);
}

/*
 * End of a new regime's learning: its level is what the weeks since it
 * began say (on top of the move made at the alarm); watching resumes.
 */
static void
mon_regime_learnt(struct monitor *mon, struct mon_series *ms, int32_t week)
{
	struct detect_size size;

	mon_size(mon, ms, ms->regime_week, week, &size);
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
	ma->alarm_week = last;
	mon_describe(mon, ms, ma, onset, last);
	/*
	 * Read off the loop; the alert goes out once they are in. A replay
	 * reads them once it is done (mon_alerts_replayed).
	 */
	if (!mon->replaying)
		mon_job_strata(mon, ms, ma, onset, last, true);
	mon_classify(mon, ma);
	ms->alert = (int)(ma - mon->alerts);
	detect_cusum_reset(&ms->back);
	log_notice("monitor: alarm %s: odds ratio %.2f, %s (weekly weight "
	    "%.1f, threshold %.2f, %s%s)", a->id, a->odds_ratio,
	    alert_classification_name(a->classification), ms->w,
	    up ? ms->h : ms->h_down, ms->small ? "binomial" : "normal",
	    ms->underpowered ? ", underpowered" : "");
	if (a->classification == ALERT_EXPLAINED)
		mon_new_regime(mon, ms);
	else
		mon_set_state(mon, ms, MON_DRIFTING, "unexplained alarm");
	if (mon->replaying)
		mon_alert_changed(mon, ma);
}

/* ---------------------------------------------------------------------
 * The weekly and daily evaluation.
 */

/*
 * Late decisions make a closed week worth evaluating again once they are
 * more than this share of what it held when it closed (and at least
 * MON_DIRTY_MIN): a backfill out of time order, not the odd straggler,
 * whose O - E simply joins the next close.
 */
#define MON_DIRTY_SHARE		0.05
#define MON_DIRTY_MIN		20
/* The open week is looked at daily only while it is this close to now. */
#define MON_LIVE_S		(14 * 86400)

/*
 * Both sides' CUSUM step from a week's adjusted sums: the Bernoulli form
 * (detect_llr_bernoulli), exact for small counts, with E' = O - oe.
 */
static void
mon_cusum_update(struct detect_cusum *c, int32_t week, double n, double o,
    double oe, double va, double tau2, double delta)
{
	detect_cusum_update_bernoulli(c, week, oe, o - oe, va, n, tau2, delta);
}

static void
mon_cusum_peek(const struct detect_cusum *c, double n, double o, double oe,
    double va, double tau2, double delta, double *up, double *down)
{
	detect_cusum_peek_bernoulli(c, oe, o - oe, va, n, tau2, delta, up,
	    down);
}

/* n and O of a week of s (NULL: none counted) into w. */
static void
mon_take_week(const struct series *s, int32_t week, struct mon_week *w)
{
	const struct bucket *b = s != NULL ? series_week(s, week) : NULL;

	w->n = b != NULL ? b->n : 0;
	w->o = b != NULL ? b->rejected : 0;
}

/* n and O of a week from the statistics, which are exact in any order. */
static void
mon_take_counts(const struct series_set *set, struct mon_series *ms,
    int32_t week, struct mon_week *w)
{
	mon_take_week(series_get_in(set, ms->ind, ms->office, ms->benefit,
	    ms->kind), week, w);
}

/*
 * A week's increment of a series against its baseline: O - E' and V'
 * (mon_adjust) from the week's counts and the expected sums the monitor
 * keeps (national sums of the same week in nw). False without
 * information.
 */
static bool
mon_increment(const struct mon_series *ms, const struct mon_week *w,
    const struct mon_week *nw, double *oe, double *va)
{
	double ea;

	if (w == NULL || nw == NULL || !(w->v > 0) || !(nw->v > 0) ||
	    w->n == 0)
		return false;
	mon_adjust(ms, w->n, w->o, w->e, w->v, nw->n, nw->o, nw->e, nw->v,
	    &ea, va);
	*oe = w->o - ea;
	return *va > 0;
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

/* How a series evaluates a week it closes now (mon_close_series). */
static enum mon_phase
mon_phase_of(const struct mon_series *ms, int32_t week)
{
	/* The week open at a fit mixes sums from before and after it. */
	if (ms->state == MON_LEARNING || !isfinite(ms->h) ||
	    week < ms->regime_week)
		return MON_PHASE_UNWATCHED;
	if (ms->state == MON_EXPLAINED)
		return MON_PHASE_LEARNING;
	if (ms->state == MON_DRIFTING)
		return MON_PHASE_DRIFTING;
	return MON_PHASE_WATCHED;
}

/* Commit a closed week into one series, and look for an alarm. */
static void
mon_close_series(struct monitor *mon, const struct series_set *set,
    struct mon_series *ms, int32_t week)
{
	struct mon_series *nat = mon_national_of(mon, ms);
	struct mon_week *w;
	const struct mon_week *nw;
	double oe = 0, v = 0, delta = mon_delta(mon, ms);
	double tau2 = mon_tau2(mon, ms);

	w = mon_hist(ms, week);
	mon_take_counts(set, ms, week, w);
	w->phase = mon_phase_of(ms, week);
	/* National series close first, so nw holds this week's counts. */
	nw = ms == nat ? w : mon_hist_get(nat, week);
	if (!mon_increment(ms, w, nw, &oe, &v)) {
		oe = v = 0;
		if (ms->late_v <= 0)
			return;
	}
	oe += ms->late_oe;
	v += ms->late_v;
	ms->late_oe = ms->late_v = 0;
	w->oe = oe;
	w->va = v;
	if (w->phase == MON_PHASE_UNWATCHED)
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
		mon_cusum_update(&ms->back, week, w->n, w->o, oe - level * v,
		    v, tau2, fabs(d));
		if ((d < 0 ? ms->back.down : ms->back.up) >
		    (d < 0 ? ms->h_down : ms->h)) {
			mon_resolve(mon, ms, NULL);
			mon_set_state(mon, ms, MON_STABLE,
			    "back at the old level");
			detect_cusum_reset(&ms->cusum);
		}
		return;
	}
	mon_cusum_update(&ms->cusum, week, w->n, w->o, oe, v, tau2, delta);
	/* Underpowered series alarm too: slower, never muted. */
	if (ms->cusum.up > ms->h)
		mon_alarm(mon, set, ms, true, ms->cusum.up_start, week);
	else if (ms->cusum.down > ms->h_down)
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

/* A series seen for the first time, in its initial state. */
static void
mon_series_init(struct mon_series *ms, int ind, int office, int benefit,
    int kind)
{
	ms->used = true;
	ms->ind = ind;
	ms->office = office;
	ms->benefit = benefit;
	ms->kind = kind;
	ms->alert = -1;
	ms->outlier_alert = -1;
	ms->state = MON_LEARNING;
	ms->h = ms->h_down = INFINITY;
	detect_cusum_reset(&ms->cusum);
	detect_cusum_reset(&ms->back);
}

/* The reference window of indicator ind that ends with week. */
static int32_t
mon_window_from(const struct monitor *mon, int ind, int32_t week)
{
	int32_t from = week + 1 - mon->conf->reference_weeks;

	return from < mon->first[ind].first_week ?
	    mon->first[ind].first_week : from;
}

/*
 * The first regime of the indicators in inds: models fitted on the
 * reference window that ends with week, then thresholds; every series
 * with one is watched from the week after. Indicators whose windows
 * start in the same week share one read of the records. Their history
 * is filled first, a slice per turn (mon_job_fill).
 */
static void
mon_first_fit(struct monitor *mon, const struct series_set *set,
    int32_t week, uint32_t inds)
{
	uint32_t same[INDICATOR_MAX];
	int32_t from[INDICATOR_MAX];
	int i, k, n = 0;

	while (inds != 0) {
		for (k = 0; (inds >> k & 1) == 0; k++)
			;
		from[n] = mon_window_from(mon, k, week);
		same[n] = 0;
		for (i = k; i < mon->nind; i++) {
			if ((inds >> i & 1) && mon_window_from(mon, i,
			    week) == from[n])
				same[n] |= 1u << i;
		}
		inds &= ~same[n];
		n++;
	}
	mon_job_fill(mon, set, week, same, from, n);
}

/*
 * The first fit's history, so that its window has its O and n: weeks
 * [from, week] of the series of the indicators in inds from *next on,
 * until the deadline passes. Written on the loop, which the API reads
 * it from; after a checkpoint's fork each page of it faults once, which
 * made this a step of a hundred milliseconds on a slow host when done
 * at once. True when every series is filled.
 */
bool
mon_fill_history(struct monitor *mon, const struct series_set *set,
    uint32_t inds, int32_t from, int32_t week, int *next, uint64_t deadline)
{
	const struct series *s;
	int32_t wk;

	for (; *next < mon->nseries; ) {
		struct mon_series *ms = &mon->series[(*next)++];

		if (!ms->used || (inds >> ms->ind & 1) == 0)
			continue;
		s = series_get_in(set, ms->ind, ms->office, ms->benefit,
		    ms->kind);
		for (wk = from; wk <= week; wk++)
			mon_take_week(s, wk, mon_hist(ms, wk));
		if (stall_now() >= deadline)
			break;
	}
	return *next >= mon->nseries;
}

/*
 * A fit read off the loop was applied after the close of week: the first
 * regime starts for the indicators that have a model now, or a refit
 * group starts afresh.
 */
void
mon_fitted(struct monitor *mon, int only_group, uint32_t inds, int32_t week)
{
	uint32_t ready = 0;
	int g;

	if (only_group >= 0) {
		mon_job_thresholds(mon, MON_THEN_REFIT, only_group, week);
		return;
	}
	for (g = 0; g < mon->ngroups; g++) {
		if (mon->groups[g].model != NULL &&
		    mon_group_selected(mon, -1, inds, g))
			ready |= 1u << mon_group_ind(mon, g);
	}
	/* The rest follows in mon_thresholds_then. */
	if (ready != 0)
		mon_job_thresholds(mon, MON_THEN_FIRST_FIT, (int)ready, week);
}

void
mon_thresholds_then(struct monitor *mon, enum mon_thr_then then, int group,
    int32_t week)
{
	int watched[INDICATOR_MAX] = { 0 };
	int i;

	if (then == MON_THEN_FIRST_FIT) {
		for (i = 0; i < mon->nind; i++) {
			if ((uint32_t)group >> i & 1)
				mon->first[i].fitted = true;
		}
		for (i = 0; i < mon->nseries; i++) {
			struct mon_series *ms = &mon->series[i];

			if (ms->used && ((uint32_t)group >> ms->ind & 1) &&
			    isfinite(ms->h)) {
				/* Thousands at once: one line each at debug. */
				mon_set_state_as(mon, ms, MON_STABLE,
				    "first models fitted", true);
				ms->regime_week = week + 2;
				watched[ms->ind]++;
			}
		}
		for (i = 0; i < mon->nind; i++) {
			if ((uint32_t)group >> i & 1)
				log_notice("monitor: %s: %d series watched "
				    "from week %d: first models fitted",
				    mon->ind.ind[i].name, watched[i],
				    week + 2);
		}
		return;
	}
	if (then != MON_THEN_REFIT)
		return;
	for (i = 0; i < mon->nseries; i++) {
		struct mon_series *ms = &mon->series[i];

		if (ms->used && mon_group_index(mon, ms->ind, ms->benefit,
		    ms->kind) == group) {
			detect_cusum_reset(&ms->cusum);
			ms->regime_week = week + 2;
		}
	}
}

/* The earliest week of s joins its indicator's first_week. */
static void
mon_note_first_week(struct monitor *mon, const struct series *s)
{
	int ind = series_indicator(s);

	if (ind < 0 || ind >= mon->nind)
		return;
	if (mon->first[ind].first_week == INT32_MIN ||
	    series_first_week(s) < mon->first[ind].first_week)
		mon->first[ind].first_week = series_first_week(s);
}

/* Every series of set is the monitor's, its first week noted. */
static void
mon_take_series(struct monitor *mon, const struct series_set *set)
{
	const struct series *s;
	struct mon_series *ms;
	int ind;

	for (s = series_first(set); s != NULL; s = series_next(set, s)) {
		ind = series_indicator(s);
		if (ind < 0 || ind >= mon->nind)
			continue;
		ms = mon_series_of(mon, ind, series_office(s),
		    series_benefit(s), series_kind(s));
		if (!ms->used)
			mon_series_init(ms, ind, series_office(s),
			    series_benefit(s), series_kind(s));
		mon_note_first_week(mon, s);
	}
	mon->firsts_set = set;
	mon->firsts_seen = series_firsts_changed(set);
}

/* Close one week: the core of week_closed, also run by a replay. */
static void
mon_close_week(struct monitor *mon, int32_t week, const struct series_set *set)
{
	uint32_t ready = 0;
	int i, g;

	mon->closed_week = week;
	if (mon->watermark < period_week_start(week + 1))
		mon->watermark = period_week_start(week + 1);
	/*
	 * New series and earlier first weeks, looked for only when the set
	 * has any: with five indicators a walk over every series each week
	 * cost more than closing the used ones.
	 */
	if (mon->firsts_set != set ||
	    series_firsts_changed(set) != mon->firsts_seen)
		mon_take_series(mon, set);
	/* Each indicator's first regime once it has the weeks for it. */
	for (i = 0; i < mon->nind; i++) {
		if (!mon->first[i].fitted &&
		    mon->first[i].first_week != INT32_MIN &&
		    week + 1 - mon->first[i].first_week >=
		    mon->conf->min_reference_weeks)
			ready |= 1u << i;
	}
	if (ready != 0)
		mon_first_fit(mon, set, week, ready);
	if (!mon_fitted_any(mon))
		return;
	/*
	 * National series first (lower indices within an indicator):
	 * offices read their week. A group without a model waits.
	 */
	for (i = 0; i < mon->nseries; i++) {
		struct mon_series *ms = &mon->series[i];

		if (!ms->used || mon_group_of(mon, ms)->model == NULL)
			continue;
		mon_close_series(mon, set, ms, week);
		mon_funnel(mon, set, ms, week);
	}
	for (g = 0; g < mon->ngroups; g++) {
		if (mon->groups[g].refit)
			mon_job_fit(mon, set, g, 0, mon_window_from(mon,
			    mon_group_ind(mon, g), week), week + 1, week);
	}
}

bool
monitor_fitted_all(const struct monitor *mon)
{
	int i;

	for (i = 0; i < mon->nind; i++)
		if (!mon->first[i].fitted)
			return false;
	return mon->nind > 0;
}

static void
mon_week_closed(void *arg, int32_t week, const struct series_set *set)
{
	struct monitor *mon = arg;
	const struct series *s;

	/*
	 * Late history has made the evaluation stale: note the week and
	 * wait for the replay (mon_idle) rather than build on it.
	 */
	if (mon->dirty_week != INT32_MAX) {
		mon->closed_week = week;
		for (s = series_first(set); s != NULL; s = series_next(set, s))
			mon_note_first_week(mon, s);
		return;
	}
	mon_close_week(mon, week, set);
}

/*
 * An event was counted in indicator ind as y: its expected yes joins its
 * week's sums (the monitor keeps E and V itself, so that a replay can
 * fill them anew). A late one is carried into the next close as well,
 * and a closed week that late events change by more than a few per cent
 * is due for a replay.
 */
static void
mon_counted(void *arg, int ind, int y, const struct decision *d, int office,
    const struct period *p, double prob, bool late)
{
	struct monitor *mon = arg;
	struct mon_week *w;
	double yes;
	int k, offices[2] = { SERIES_NATIONAL, office };

	if (ind < 0 || ind >= mon->nind || y == INDICATOR_EXCLUDED ||
	    y == INDICATOR_NOT || d->benefit >= mon->nbenefits ||
	    office < 0 || office >= mon->max_offices)
		return;
	/* Only weeks the history ring holds for both sides of now. */
	if (mon->closed_week != INT32_MIN &&
	    (p->week <= mon->closed_week - MON_HIST / 2 ||
	    p->week > mon->closed_week + MON_HIST / 2))
		prob = -1;
	if (late && mon->first[ind].fitted) {
		struct mon_series *nat = mon_series_of(mon, ind,
		    SERIES_NATIONAL, d->benefit, d->kind);

		w = (struct mon_week *)mon_hist_get(nat, p->week);
		if (w != NULL)
			w->late++;
		else
			mon->late_unheld++;
		if (((w == NULL && mon->late_unheld >= MON_DIRTY_MIN) ||
		    (w != NULL && w->late >= MON_DIRTY_MIN &&
		    w->late > MON_DIRTY_SHARE * w->n)) &&
		    p->week < mon->dirty_week) {
			if (mon->dirty_week == INT32_MAX)
				log_info("monitor: late history for week %d; "
				    "the evaluation will be replayed",
				    p->week);
			mon->dirty_week = p->week;
		}
	}
	if (prob < 0)
		return;
	yes = y == INDICATOR_YES;
	for (k = 0; k < 2; k++) {
		struct mon_series *ms = mon_series_of(mon, ind, offices[k],
		    d->benefit, d->kind);

		/*
		 * Its history is the monitor's from now: a checkpoint before
		 * the week's close saves the used series' weeks alone.
		 */
		if (!ms->used)
			mon_series_init(ms, ind, offices[k], d->benefit,
			    d->kind);
		w = mon_hist(ms, p->week);
		w->e += prob;
		w->v += prob * (1 - prob);
		/* Its week is closed: carry its O - E into the next close. */
		if (late) {
			ms->late_oe += yes - prob;
			ms->late_v += prob * (1 - prob);
		}
	}
}

static double
mon_predict(void *arg, int ind, const struct decision *d,
    const struct period *p)
{
	struct monitor *mon = arg;
	struct mon_group *g;
	struct model_x x;

	if (ind < 0 || ind >= mon->nind || d->benefit >= mon->nbenefits)
		return -1;
	g = mon_group(mon, ind, d->benefit, d->kind);
	if (g->model == NULL)
		return -1;
	model_x_set(&x, d->age, d->sex, d->diagnosis, d->case_day,
	    d->employment, d->care, p->iso_week);
	return model_predict(g->model, &x);
}

/*
 * The daily look at the open week: alarm early on a large shift. Only
 * while the open week is today's: a replay of history is evaluated at
 * its weekly closes, so that it gives the same alerts in any order.
 */
static void
mon_tick(void *arg, int64_t watermark, const struct series_set *set)
{
	struct monitor *mon = arg;
	int64_t every = mon->conf->evaluate_every_ms / 1000;
	int32_t week = mon->closed_week + 1;
	bool live, fitted = mon_fitted_any(mon);
	int i, g;

	mon->watermark = watermark;
	live = watermark >= clock_now() -
	    mon->conf->lateness_ms / 1000 - MON_LIVE_S;
	if (live != mon->live) {
		mon->live = live;
		/* Daily looks spend the budget faster: other thresholds. */
		if (fitted)
			mon_job_thresholds(mon, MON_THEN_NOTHING, -1,
			    mon->closed_week);
	}
	if (!fitted || !live || every <= 0 ||
	    mon->dirty_week != INT32_MAX ||
	    watermark / every <= mon->last_look_day)
		return;
	mon->last_look_day = watermark / every;
	/* The nation's open week first: offices are measured against it. */
	for (g = 0; g < mon->ngroups; g++) {
		struct mon_series *nat = mon_series_of(mon,
		    mon_group_ind(mon, g), SERIES_NATIONAL,
		    mon_group_benefit(mon, g), mon_group_kind(mon, g));

		if (nat->used)
			mon_take_counts(set, nat, week, mon_hist(nat, week));
	}
	for (i = 0; i < mon->nseries; i++) {
		struct mon_series *ms = &mon->series[i];
		struct mon_series *nat;
		struct mon_week *w;
		const struct mon_week *nw;
		double oe, v, up, down;

		if (!ms->used || ms->state != MON_STABLE || !isfinite(ms->h) ||
		    week < ms->regime_week || !ms->daily)
			continue;
		nat = mon_national_of(mon, ms);
		w = mon_hist(ms, week);
		mon_take_counts(set, ms, week, w);
		nw = ms == nat ? w : mon_hist_get(nat, week);
		if (!mon_increment(ms, w, nw, &oe, &v))
			continue;
		oe += ms->late_oe;
		v += ms->late_v;
		mon_cusum_peek(&ms->cusum, w->n, w->o, oe, v,
		    mon_tau2(mon, ms), mon_delta(mon, ms), &up, &down);
		if (up > ms->h || down > ms->h_down) {
			/* The open week so far, so the alert can size it. */
			w->oe = oe;
			w->va = v;
		}
		if (up > ms->h)
			mon_alarm(mon, set, ms, true, ms->cusum.up > 0 ?
			    ms->cusum.up_start : week, week);
		else if (down > ms->h_down)
			mon_alarm(mon, set, ms, false, ms->cusum.down > 0 ?
			    ms->cusum.down_start : week, week);
	}
}

/*
 * Every series unseen and the history empty: a new monitor, or one about
 * to replay its history.
 */
static void
mon_blank(struct monitor *mon)
{
	size_t j;
	int i;

	for (i = 0; i < mon->nseries; i++) {
		struct mon_series *ms = &mon->series[i];

		memset(ms, 0, sizeof *ms);
		ms->alert = ms->outlier_alert = -1;
		ms->hist = &mon->hist[i];
		ms->hstride = (size_t)mon->nseries;
	}
	for (j = 0; j < mon_hist_slots(mon); j++) {
		memset(&mon->hist[j], 0, sizeof mon->hist[j]);
		mon->hist[j].week = INT32_MIN;
	}
	for (i = 0; i < INDICATOR_MAX; i++) {
		mon->first[i].first_week = INT32_MIN;
		mon->first[i].fitted = false;
	}
	mon->closed_week = INT32_MIN;
	mon->predicted_to = INT32_MIN;
	mon->dirty_week = INT32_MAX;
	mon->late_unheld = 0;
	mon->firsts_set = NULL;
}

/*
 * Evaluate the whole history again, in week order, from the statistics
 * (exact in any arrival order) and the records: the same models, sums,
 * states and alerts as had the decisions come in time order (detection
 * notes 8a). Run when late history has filled weeks already evaluated,
 * once the input is idle. The records are read off the loop (the first
 * fit, then the expected sums a stretch of weeks at a time), so the
 * replay goes on in mon_replay_step as each read is applied; ingest
 * waits meanwhile. The alert store is rebuilt and then compared with the
 * old one (mon_alerts_replayed).
 */
static void
mon_replay_start(struct monitor *mon, const struct series_set *set)
{
	int32_t first = INT32_MAX;
	const struct series *s;
	int i;

	for (s = series_first(set); s != NULL; s = series_next(set, s))
		if (series_first_week(s) < first)
			first = series_first_week(s);
	log_notice("monitor: replaying weeks %d..%d after late history "
	    "from week %d", first, mon->closed_week, mon->dirty_week);
	mon->replay_old = mon->alerts;
	mon->replay_nold = mon->nalerts;
	mon->replay_set = set;
	mon->replay_next = first;
	mon->replay_last = mon->closed_week;
	mon->alerts = NULL;
	mon->nalerts = mon->capalerts = 0;
	for (i = 0; i < mon->ngroups; i++) {
		model_free(mon->groups[i].model);
		memset(&mon->groups[i], 0, sizeof mon->groups[i]);
	}
	mon_blank(mon);
	mon->replaying = true;
	mon_replay_step(mon);
}

void
mon_replay_step(struct monitor *mon)
{
	const struct series_set *set = mon->replay_set;
	int32_t last = mon->replay_last, wk;

	while (!mon_jobs_busy(mon) && mon->replay_next <= last) {
		wk = mon->replay_next;
		/* Expected sums ahead of the weeks, a stretch at a time. */
		if (mon_fitted_any(mon) && wk >= mon->predicted_to) {
			mon_job_predict(mon, set, wk, wk + MON_AHEAD);
			return;
		}
		mon->watermark = period_week_start(wk + 1);
		mon->replay_next++;
		mon_close_week(mon, wk, set);
	}
	if (mon_jobs_busy(mon))
		return;
	/* The open week and any later ones, for the live evaluation. */
	if (mon_fitted_any(mon) && last + 1 + MON_AHEAD > mon->predicted_to) {
		wk = last + 1 > mon->predicted_to ? last + 1 :
		    mon->predicted_to;
		mon_job_predict(mon, set, wk, last + 1 + MON_AHEAD);
		return;
	}
	mon->replaying = false;
	mon_alerts_replayed(mon, mon->replay_old, mon->replay_nold);
	mon->replay_old = NULL;
	mon->replay_nold = 0;
	if (!mon_jobs_busy(mon) && mon->resume_cb != NULL)
		mon->resume_cb(mon->resume_arg);
}

/* The input is idle: replay the evaluation if late history asks for it. */
static bool
mon_idle(void *arg, const struct series_set *set)
{
	struct monitor *mon = arg;

	if (mon->dirty_week == INT32_MAX || mon->replaying ||
	    mon_jobs_busy(mon))
		return false;
	mon_replay_start(mon, set);
	mon_jobs_yield(mon);
	return true;
}

/* The hooks that may leave reads outstanding end here. */
static void
mon_week_closed_hook(void *arg, int32_t week, const struct series_set *set)
{
	mon_week_closed(arg, week, set);
	mon_jobs_yield(arg);
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
	struct monitor *mon = arg;

	return mon_jobs_busy(mon) || mon->replaying;
}

static const char *
mon_state_of(void *arg, const struct series *s)
{
	struct monitor *mon = arg;
	const struct mon_series *ms;

	if (series_indicator(s) >= mon->nind)
		return "learning";
	ms = mon_series_of(mon, series_indicator(s), series_office(s),
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
	char *cause = NULL;

	mon->conf = c;
	mon->reg = reg;
	mon->records_cb = records_cb;
	mon->records_arg = records_arg;
	/* conf_load has checked the sections: a failure here is a bug. */
	if (indicators_from_conf(&mon->ind, c, &cause) == -1)
		fatalx("monitor: %s", cause);
	mon->nind = mon->ind.n;
	mon->nbenefits = c->nbenefits;
	mon->max_offices = c->max_offices;
	mon->ngroups = mon->nind * mon->nbenefits * DECISION_NKINDS;
	mon->groups = xcalloc((size_t)mon->ngroups, sizeof *mon->groups);
	mon->nseries = mon->nind * (mon->max_offices + 1) * mon->nbenefits *
	    DECISION_NKINDS;
	mon->series = xcalloc((size_t)mon->nseries, sizeof *mon->series);
	/*
	 * In huge pages: each week's close and counts write a new row, and
	 * after a checkpoint's fork the first write to each page faults.
	 * With five indicators that was some 80 faults a week; in huge pages
	 * a tenth of that was measured (a page written while the child
	 * still runs is split and copied in 4 KB), and the fork is shorter.
	 */
	mon->hist = xmap_grow(NULL, 0, mon_hist_slots(mon), sizeof *mon->hist,
	    XMAP_HUGE);
	mon_blank(mon);
	mon->watermark = INT64_MIN;
	mon->explain_gen = reg != NULL ? explain_generation(reg) : 0;

	mon->det.name = "monitor";
	mon->det.arg = mon;
	mon->det.predict = mon_predict;
	mon->det.counted = mon_counted;
	mon->det.week_closed = mon_week_closed_hook;
	mon->det.tick = mon_tick_hook;
	mon->det.idle = mon_idle;
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
	for (i = 0; i < mon->ngroups; i++)
		model_free(mon->groups[i].model);
	free(mon->replay_old);
	free(mon->groups);
	free(mon->series);
	xunmap(mon->hist, mon_hist_slots(mon), sizeof *mon->hist);
	free(mon->alerts);
	free(mon);
}

const struct detector *
monitor_detector(struct monitor *mon)
{
	return &mon->det;
}

/*
 * The reloadable part of the indicators (label, description, alerts,
 * budget weight) from c; the rest needs a restart, which conf_load's
 * reload check asks for, so a table of another shape is not taken.
 */
static void
mon_set_indicators(struct monitor *mon, const struct conf *c)
{
	struct indicators t, was;
	char *cause = NULL, a[INDICATOR_SIGNATURE_MAX];
	char b[INDICATOR_SIGNATURE_MAX];
	int i;

	if (indicators_from_conf(&t, c, &cause) == -1) {
		log_warnx("monitor: indicators kept: %s", cause);
		free(cause);
		return;
	}
	for (i = 0; i < t.n && t.n == mon->nind; i++) {
		indicator_signature(&t.ind[i], a);
		indicator_signature(&mon->ind.ind[i], b);
		if (strcmp(t.ind[i].name, mon->ind.ind[i].name) != 0 ||
		    strcmp(a, b) != 0)
			break;
	}
	if (t.n != mon->nind || i != t.n) {
		log_warnx("monitor: the indicators changed; they take effect "
		    "at the next start");
		return;
	}
	was = mon->ind;
	mon->ind = t;
	for (i = 0; i < t.n; i++)
		if (t.ind[i].alerts && !was.ind[i].alerts) {
			log_info("monitor: alerts of %s switched on",
			    t.ind[i].name);
			mon_alerts_switched_on(mon, i);
		}
}

void
monitor_set_conf(struct monitor *mon, const struct conf *c)
{
	mon->conf = c;
	mon->conf_gen++;
	mon_set_indicators(mon, c);
	if (mon_fitted_any(mon))
		mon_job_thresholds(mon, MON_THEN_NOTHING, -1,
		    mon->closed_week);
	monitor_explanations_changed(mon);
}

void
monitor_explanations_changed(struct monitor *mon)
{
	int i;

	if (mon->reg == NULL)
		return;
	/* Not under an alert whose strata are being read: afterwards. */
	if (mon_busy(mon)) {
		mon->explain_deferred = true;
		return;
	}
	mon->explain_gen = explain_generation(mon->reg);
	for (i = 0; i < mon->nalerts; i++) {
		struct mon_alert *ma = &mon->alerts[i];
		struct mon_series *ms = &mon->series[ma->series];
		bool open = ms->alert == i;
		enum alert_classification was = ma->a.classification;

		if (!mon_classify(mon, ma))
			continue;
		log_notice("monitor: %s now %s", ma->a.id,
		    alert_classification_name(ma->a.classification));
		/* For its history: detected unexplained, explained since. */
		if (ma->a.classification == ALERT_UNEXPLAINED)
			ma->explained_at = 0;
		else if (was == ALERT_UNEXPLAINED)
			ma->explained_at = mon->watermark;
		if (open && ma->a.classification == ALERT_EXPLAINED &&
		    ms->state == MON_DRIFTING)
			mon_new_regime(mon, ms);
		else if (open && ma->a.classification == ALERT_UNEXPLAINED &&
		    ms->state == MON_EXPLAINED) {
			/* Its explanation went away: drifting again. */
			ms->shift -= ms->moved;
			ms->moved = 0;
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
	return monitor_request_refit_in(mon, INDICATOR_REJECTION, benefit,
	    kind, cause);
}

int
monitor_request_refit_in(struct monitor *mon, int ind, int benefit, int kind,
    char **cause)
{
	if (ind < 0 || ind >= mon->nind) {
		*cause = xstrdup("no such indicator");
		return -1;
	}
	if (benefit < 0 || benefit >= mon->nbenefits || kind < 0 ||
	    kind >= DECISION_NKINDS) {
		*cause = xstrdup("no such benefit or kind");
		return -1;
	}
	if (!mon->first[ind].fitted) {
		*cause = xstrdup("no model yet: the reference window is not "
		    "complete");
		return -1;
	}
	mon_group(mon, ind, benefit, kind)->refit = true;
	return 0;
}

uint64_t
monitor_memory(const struct monitor *mon)
{
	/* The models are a few kilobytes each: left out. */
	return sizeof *mon +
	    (uint64_t)mon->ngroups * sizeof *mon->groups +
	    (uint64_t)mon->nseries * sizeof *mon->series +
	    (uint64_t)mon_hist_slots(mon) * sizeof *mon->hist +
	    (uint64_t)mon->capalerts * sizeof *mon->alerts;
}

int
monitor_rebaseline(struct monitor *mon, const struct series *s,
    const char *note, char **cause)
{
	struct mon_series *ms;

	if (series_indicator(s) < 0 || series_indicator(s) >= mon->nind) {
		*cause = xstrdup("the series is not drifting");
		return -1;
	}
	ms = mon_series_of(mon, series_indicator(s), series_office(s),
	    series_benefit(s), series_kind(s));
	if (!ms->used || ms->state != MON_DRIFTING) {
		*cause = xstrdup("the series is not drifting");
		return -1;
	}
	if (mon_busy(mon)) {
		*cause = xstrdup("the detector is reading the records (a "
		    "model fit, an alert's strata or a replay of late "
		    "history); try again in a moment");
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

