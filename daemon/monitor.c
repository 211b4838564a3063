/*
 * The drift monitor. Per (benefit, kind) a case-mix model frozen for the
 * regime; per series a weekly history of n, O, E, V and a two-sided CUSUM
 * of observed against expected: national series against the model
 * (stability), office series against the concurrent national level
 * without that office plus the office's own baseline (uniformity). An
 * alarm becomes an alert with onset, size, rates, decomposition and
 * strata, classified against the explanation registry.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alert.h"
#include "conf.h"
#include "decision.h"
#include "detect.h"
#include "explain.h"
#include "log.h"
#include "model.h"
#include "monitor.h"
#include "period.h"
#include "records.h"
#include "sink.h"
#include "xmalloc.h"

#define MON_HIST		160	/* weeks of history per series */
#define MON_BASELINE_WEEKS	13	/* raw rate before onset */
#define MON_FUNNEL_WEEKS	13	/* outlier flag window */
#define MON_OUTLIER_Z		3.09	/* two-sided 99.8% */
#define MON_MAX_ALERTS		10000
#define MON_SAVE_VERSION	1
#define MON_METHOD		"score-cusum/v1"
/*
 * The thresholds rest on a normal approximation of a week's O - E; below
 * about five expected rejections (or approvals) a week the count is too
 * skewed for it, and simulation shows such series alarm far too often.
 */
#define MON_MIN_WEIGHT		5.0

enum mon_state {
	MON_LEARNING,		/* no reference window yet: no alarms */
	MON_STABLE,
	MON_DRIFTING,		/* alarm, unexplained, not yet returned */
	MON_EXPLAINED,		/* alarm covered; new regime learning */
};

static const char *const mon_state_names[] = {
	"learning", "stable", "drifting", "explained",
};

/* One week of one series, as the monitor sees it. */
struct mon_week {
	int32_t		week;		/* INT32_MIN: empty slot */
	uint32_t	n;
	uint32_t	o;
	double		e;		/* from the frozen model */
	double		v;
	double		oe;		/* the increment used: O - E adjusted */
};

struct mon_series {
	int		office;		/* SERIES_NATIONAL or index */
	int		benefit;
	int		kind;
	bool		used;
	enum mon_state	state;
	bool		underpowered;
	bool		outlier;
	double		alpha;		/* office level vs nation (log odds) */
	double		shift;		/* regime moves since the fit */
	double		w;		/* mean weekly weight, reference */
	double		h;		/* threshold, LLR units */
	double		delay;		/* expected weeks to the design shift */
	double		detectable_or;
	double		z13;		/* funnel: standardised 13-week excess */
	struct detect_cusum cusum;
	struct detect_cusum back;	/* return to the old level */
	double		size;		/* log OR of the current change */
	int		alert;		/* index of its open alert, or -1 */
	int		outlier_alert;	/* its open outlier alert, or -1 */
	int32_t		regime_week;	/* first week of the current regime */
	double		late_oe;	/* late events, for the next close */
	double		late_v;
	struct mon_week	hist[MON_HIST];
};

struct mon_group {
	struct model	*model;
	double		 tau2_national;
	double		 tau2_office;
	int32_t		 ref_from;	/* reference window, weeks */
	int32_t		 ref_to;
	int32_t		 fitted_at;	/* week of the fit */
	bool		 refit;		/* asked for */
};

/* An alert and what the monitor needs to follow it up. */
struct mon_alert {
	struct alert	a;
	int		series;		/* index into mon->series */
	int32_t		onset_week;
	int32_t		onset_day;
};

struct monitor {
	const struct conf	*conf;
	struct explain_registry	*reg;
	monitor_records_cb	 records_cb;
	void			*records_arg;
	struct detector		 det;

	int			 nbenefits;
	int			 max_offices;
	struct mon_group	*groups;	/* nbenefits x 2 */
	struct mon_series	*series;	/* (max_offices + 1) x nb x 2 */
	int			 nseries;

	int32_t			 first_week;	/* first week with data */
	int32_t			 closed_week;
	int64_t			 watermark;
	int64_t			 last_look_day;
	bool			 fitted;	/* the first regime started */

	struct mon_alert	*alerts;
	int			 nalerts;
	int			 capalerts;
	uint64_t		 explain_gen;
};

static const char *
mon_kind_name(int kind)
{
	return decision_kind_name(kind);
}

static struct mon_group *
mon_group(const struct monitor *mon, int benefit, int kind)
{
	return &mon->groups[benefit * DECISION_NKINDS + kind];
}

static int
mon_index(const struct monitor *mon, int office, int benefit, int kind)
{
	int o = office == SERIES_NATIONAL ? 0 : office + 1;

	return (o * mon->nbenefits + benefit) * DECISION_NKINDS + kind;
}

static struct mon_series *
mon_series_of(struct monitor *mon, int office, int benefit, int kind)
{
	return &mon->series[mon_index(mon, office, benefit, kind)];
}

static const char *
mon_office_name(const struct monitor *mon, const struct series_set *set,
    int office)
{
	(void)mon;
	return office == SERIES_NATIONAL ? SERIES_NATIONAL_NAME :
	    series_office_name(set, office);
}

static struct mon_week *
mon_hist(struct mon_series *ms, int32_t week)
{
	struct mon_week *w = &ms->hist[((week % MON_HIST) + MON_HIST) %
	    MON_HIST];

	if (w->week != week) {
		memset(w, 0, sizeof *w);
		w->week = week;
	}
	return w;
}

static const struct mon_week *
mon_hist_get(const struct mon_series *ms, int32_t week)
{
	const struct mon_week *w = &ms->hist[((week % MON_HIST) + MON_HIST) %
	    MON_HIST];

	return w->week == week ? w : NULL;
}

static int64_t
mon_days(int64_t ms)
{
	return ms / 1000 / 86400;
}

/* The design log odds ratio of a series. */
static double
mon_delta(const struct monitor *mon, const struct mon_series *ms)
{
	return log(ms->office == SERIES_NATIONAL ?
	    mon->conf->design_or_national : mon->conf->design_or_office);
}

static double
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
static double
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
 * Models: fitting from the records file.
 */

struct mon_scan {
	struct monitor		*mon;
	const struct series_set	*set;
	int32_t			 from;		/* weeks, inclusive */
	int32_t			 to;		/* exclusive */
	struct model_data	**data;		/* per group, or NULL */
	bool			 predict;	/* fill hist e, v */
	int32_t			 cache_week;	/* ISO week of year memo */
	int			 cache_woy;
	int32_t			 cache_day;
	int32_t			 cache_day_week;
};

/* ISO week of year of a linear week. */
static int
mon_woy(struct mon_scan *sc, int32_t week)
{
	struct period p;

	if (week != sc->cache_week) {
		period_of(period_week_start(week) + 3 * 86400 + 43200, &p);
		sc->cache_week = week;
		sc->cache_woy = p.iso_week;
	}
	return sc->cache_woy;
}

static void
mon_record_x(const struct record *rec, int woy, struct model_x *x)
{
	model_x_set(x, rec->age, rec->sex, rec->diagnosis, rec->case_day,
	    rec->employment, rec->care, woy);
}

static void
mon_scan_cb(const struct record *rec, void *arg)
{
	struct mon_scan *sc = arg;
	struct monitor *mon = sc->mon;
	struct model_x x;
	struct mon_series *ms;
	struct mon_week *w;
	int32_t week;
	double p;
	int k, offices[2];

	if (rec->outcome == OUTCOME_DISMISSED || rec->benefit >= mon->nbenefits ||
	    rec->kind >= DECISION_NKINDS || rec->office >= mon->max_offices)
		return;
	if (rec->day != sc->cache_day) {
		sc->cache_day = rec->day;
		sc->cache_day_week = period_week_of_day(rec->day);
	}
	week = sc->cache_day_week;
	if (week < sc->from || week >= sc->to)
		return;
	mon_record_x(rec, mon_woy(sc, week), &x);
	if (sc->data != NULL && sc->data[rec->benefit * 2 + rec->kind] != NULL)
		model_data_add(sc->data[rec->benefit * 2 + rec->kind], &x, 1,
		    rec->outcome == OUTCOME_REJECTED);
	if (!sc->predict)
		return;
	p = model_predict(mon_group(mon, rec->benefit, rec->kind)->model, &x);
	offices[0] = SERIES_NATIONAL;
	offices[1] = rec->office;
	for (k = 0; k < 2; k++) {
		ms = mon_series_of(mon, offices[k], rec->benefit, rec->kind);
		w = mon_hist(ms, week);
		w->e += p;
		w->v += p * (1 - p);
	}
}

/* Read the records of weeks [from, to) into sc; 0 or -1. */
static int
mon_scan(struct monitor *mon, struct mon_scan *sc)
{
	uint64_t len = 0;
	char *path;
	int rc;

	if (mon->records_cb == NULL || mon->records_cb(mon->records_arg,
	    &len) == -1) {
		log_warnx("monitor: the records file cannot be read; "
		    "models wait");
		return -1;
	}
	sc->mon = mon;
	sc->cache_week = INT32_MIN;
	sc->cache_day = INT32_MIN;
	path = xasprintf("%s/records", mon->conf->state_dir);
	rc = records_scan(path, len, mon_scan_cb, sc);
	if (rc == -1)
		log_warn("monitor: reading %s", path);
	free(path);
	return rc;
}

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
static void
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
 * Start the first regime, or refit one group: fit its model on the
 * reference window of national data read back from the records, fill
 * the expected sums of that window, and estimate levels and wobble.
 */
static int
mon_fit(struct monitor *mon, const struct series_set *set, int only_group,
    int32_t from, int32_t to)
{
	struct model_data **data;
	struct mon_scan sc;
	int ngroups = mon->nbenefits * DECISION_NKINDS, i, fitted = 0;
	char *cause = NULL;

	data = xcalloc((size_t)ngroups, sizeof *data);
	for (i = 0; i < ngroups; i++) {
		if (only_group < 0 || i == only_group)
			data[i] = model_data_create();
	}
	memset(&sc, 0, sizeof sc);
	sc.set = set;
	sc.from = from;
	sc.to = to;
	sc.data = data;
	if (mon_scan(mon, &sc) == -1)
		goto out;
	for (i = 0; i < ngroups; i++) {
		struct mon_group *g = &mon->groups[i];
		struct model *m;

		if (data[i] == NULL)
			continue;
		m = model_create();
		if (model_fit(m, data[i], mon->conf->ridge, &cause) == -1) {
			log_info("monitor: %s/%s: no model yet: %s",
			    mon->conf->benefits[i / 2], mon_kind_name(i % 2),
			    cause);
			free(cause);
			cause = NULL;
			model_free(m);
			continue;
		}
		if (g->model != NULL) {
			model_set_version(m, model_info(g->model)->version + 1);
			model_free(g->model);
		}
		g->model = m;
		g->ref_from = from;
		g->ref_to = to;
		g->fitted_at = mon->closed_week;
		g->refit = false;
		fitted++;
		log_notice("monitor: %s/%s: model v%u fitted on weeks %d..%d, "
		    "%" PRIu64 " decisions in %zu cells, %d iterations",
		    mon->conf->benefits[i / 2], mon_kind_name(i % 2),
		    model_info(m)->version, from, to - 1, model_info(m)->n,
		    model_info(m)->cells, model_info(m)->iterations);
	}
	/* Expected sums of the window under the new models. */
	memset(&sc, 0, sizeof sc);
	sc.set = set;
	sc.from = from;
	sc.to = to;
	sc.predict = true;
	mon_clear_expected(mon, only_group, from, to);
	if (fitted > 0 && mon_scan(mon, &sc) == -1)
		goto out;
	for (i = 0; i < ngroups; i++) {
		if (data[i] != NULL && mon->groups[i].model != NULL &&
		    mon->groups[i].ref_to == to)
			mon_estimate(mon, set, i / 2, i % 2);
	}
	mon_pool_tau2(mon);
out:
	for (i = 0; i < ngroups; i++) {
		if (data[i] != NULL)
			model_data_free(data[i]);
	}
	free(data);
	return fitted > 0 ? 0 : -1;
}

/* ---------------------------------------------------------------------
 * Alerts.
 */

static struct mon_alert *
mon_alert_new(struct monitor *mon)
{
	if (mon->nalerts == MON_MAX_ALERTS) {
		int i;

		/* Drop the oldest resolved one; the store stays bounded. */
		for (i = 0; i < mon->nalerts; i++) {
			if (mon->alerts[i].a.status == ALERT_RESOLVED)
				break;
		}
		if (i == mon->nalerts)
			i = 0;
		memmove(&mon->alerts[i], &mon->alerts[i + 1],
		    (size_t)(mon->nalerts - i - 1) * sizeof *mon->alerts);
		mon->nalerts--;
		for (int j = 0; j < mon->nseries; j++) {
			int *refs[2] = { &mon->series[j].alert,
			    &mon->series[j].outlier_alert };

			for (int k = 0; k < 2; k++) {
				if (*refs[k] == i)
					*refs[k] = -1;
				else if (*refs[k] > i)
					(*refs[k])--;
			}
		}
	}
	if (mon->nalerts == mon->capalerts) {
		mon->capalerts = mon->capalerts ? mon->capalerts * 2 : 16;
		mon->alerts = xreallocarray(mon->alerts,
		    (size_t)mon->capalerts, sizeof *mon->alerts);
	}
	memset(&mon->alerts[mon->nalerts], 0, sizeof *mon->alerts);
	return &mon->alerts[mon->nalerts++];
}

/* Hand a changed alert on, once per state change. */
static void
mon_alert_changed(struct monitor *mon, struct mon_alert *ma)
{
	int64_t now = (int64_t)time(NULL);

	ma->a.seq++;
	ma->a.updated_at = mon->watermark;
	ma->a.historical = mon->watermark < now -
	    mon->conf->historical_age_ms / 1000;
	sink_emit(&ma->a);
}

/* Classify against the registry; true when something changed. */
static bool
mon_classify(struct monitor *mon, struct mon_alert *ma)
{
	const struct explanation *cover[ALERT_MAX_EXPLANATIONS];
	const struct explanation *ctx[ALERT_MAX_EXPLANATIONS];
	struct alert *a = &ma->a;
	struct mon_series *ms = &mon->series[ma->series];
	enum alert_classification old = a->classification;
	int ncover, nctx = 0, i;
	char before[ALERT_MAX_EXPLANATIONS][ALERT_NAME_MAX];
	int nbefore = a->nexplanations;

	if (mon->reg == NULL)
		return false;
	memcpy(before, a->explanations, sizeof before);
	ncover = explain_match(mon->reg, a->office, ms->benefit, ms->kind,
	    ma->onset_day, (int)mon_days(mon->conf->explain_before_ms),
	    (int)mon_days(mon->conf->explain_after_ms), cover,
	    ALERT_MAX_EXPLANATIONS, ctx, ALERT_MAX_EXPLANATIONS, &nctx);
	if (ncover > ALERT_MAX_EXPLANATIONS)
		ncover = ALERT_MAX_EXPLANATIONS;
	if (nctx > ALERT_MAX_EXPLANATIONS)
		nctx = ALERT_MAX_EXPLANATIONS;
	a->nexplanations = ncover;
	for (i = 0; i < ncover; i++)
		snprintf(a->explanations[i], ALERT_NAME_MAX, "%s",
		    cover[i]->id);
	a->ncontext = nctx;
	for (i = 0; i < nctx; i++)
		snprintf(a->context[i], ALERT_NAME_MAX, "%s", ctx[i]->id);
	a->classification = ncover > 0 ? ALERT_EXPLAINED : ALERT_UNEXPLAINED;
	return a->classification != old || a->nexplanations != nbefore ||
	    memcmp(before, a->explanations, sizeof before) != 0;
}

/* A new regime for an explained change: move the baseline by its size. */
static void
mon_new_regime(struct monitor *mon, struct mon_series *ms)
{
	ms->shift += ms->size;
	detect_cusum_reset(&ms->cusum);
	detect_cusum_reset(&ms->back);
	ms->state = MON_EXPLAINED;
	ms->regime_week = mon->closed_week + 1;
	log_notice("monitor: series %d/%d/%d: new regime, baseline moved by "
	    "%.3f log odds", ms->office, ms->benefit, ms->kind, ms->size);
}

static void mon_resolve(struct monitor *mon, struct mon_series *ms,
    const char *note);

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
	ms->state = MON_STABLE;
	ms->regime_week = week + 1;
	mon_resolve(mon, ms, "explained; the new level is learnt");
}

/* Onset, size, rates and decomposition of a change since onset. */
static void
mon_describe(struct monitor *mon, struct mon_series *ms, struct mon_alert *ma,
    int32_t onset, int32_t last)
{
	double oe[MON_HIST], v[MON_HIST];
	struct detect_size size;
	double o = 0, e = 0, n = 0, bo = 0, bn = 0;
	int32_t wk;
	int k = 0;

	for (wk = onset; wk <= last && k < MON_HIST; wk++) {
		const struct mon_week *w = mon_hist_get(ms, wk);

		if (w == NULL)
			continue;
		oe[k] = w->oe;
		v[k] = w->v;
		k++;
		o += w->o;
		n += w->n;
		/* Expected under the baseline: E plus the adjustments. */
		e += w->o - w->oe;
	}
	for (wk = onset - MON_BASELINE_WEEKS; wk < onset; wk++) {
		const struct mon_week *w = mon_hist_get(ms, wk);

		if (w != NULL) {
			bo += w->o;
			bn += w->n;
		}
	}
	detect_size_estimate(oe, v, k, mon_tau2(mon, ms), &size);
	ms->size = size.log_or;
	ma->a.odds_ratio = exp(size.log_or);
	ma->a.odds_ratio_lo = exp(size.lo);
	ma->a.odds_ratio_hi = exp(size.hi);
	ma->a.current_rate = n > 0 ? o / n : 0;
	ma->a.expected_rate = n > 0 ? e / n : 0;
	ma->a.baseline_rate = bn > 0 ? bo / bn : 0;
	ma->a.case_mix_part = ma->a.expected_rate - ma->a.baseline_rate;
	ma->a.practice_part = ma->a.current_rate - ma->a.expected_rate;
	ma->a.decisions = (uint64_t)n;
}

/* Strata: per attribute level, O - E since onset from the records. */
struct mon_strata {
	struct monitor		*mon;
	const struct mon_series	*ms;
	struct mon_scan		 sc;
	int32_t			 from;
	double			 o[6][27];
	double			 e[6][27];
};

static const char *const mon_attr_names[] = {
	"age", "sex", "diagnosis", "case_day", "employment", "care",
};

static void
mon_strata_cb(const struct record *rec, void *arg)
{
	struct mon_strata *st = arg;
	const struct mon_series *ms = st->ms;
	struct model_x x;
	int32_t week;
	double p, y;
	int lv[6], i;

	if (rec->outcome == OUTCOME_DISMISSED || rec->benefit != ms->benefit ||
	    rec->kind != ms->kind || (ms->office != SERIES_NATIONAL &&
	    rec->office != ms->office))
		return;
	if (rec->day != st->sc.cache_day) {
		st->sc.cache_day = rec->day;
		st->sc.cache_day_week = period_week_of_day(rec->day);
	}
	week = st->sc.cache_day_week;
	if (week < st->from)
		return;
	mon_record_x(rec, mon_woy(&st->sc, week), &x);
	p = model_predict(mon_group(st->mon, ms->benefit, ms->kind)->model,
	    &x);
	y = rec->outcome == OUTCOME_REJECTED;
	lv[0] = rec->age;
	lv[1] = rec->sex;
	lv[2] = rec->diagnosis;
	lv[3] = model_case_band(rec->case_day);
	lv[4] = rec->employment;
	lv[5] = rec->care;
	for (i = 0; i < 6; i++) {
		if (lv[i] < 0 || lv[i] >= 27)
			continue;
		st->o[i][lv[i]] += y;
		st->e[i][lv[i]] += p;
	}
}

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

static void
mon_strata(struct monitor *mon, struct mon_series *ms, struct mon_alert *ma,
    int32_t onset)
{
	struct mon_strata *st = xcalloc(1, sizeof *st);
	double total = 0, excess, best;
	uint64_t len = 0;
	char *path;
	int i, l, bi, bl, k;
	bool taken[6][27];

	st->mon = mon;
	st->ms = ms;
	st->from = onset;
	st->sc.mon = mon;
	st->sc.cache_week = INT32_MIN;
	st->sc.cache_day = INT32_MIN;
	if (mon->records_cb == NULL ||
	    mon->records_cb(mon->records_arg, &len) == -1) {
		free(st);
		return;
	}
	path = xasprintf("%s/records", mon->conf->state_dir);
	if (records_scan(path, len, mon_strata_cb, st) == -1) {
		free(path);
		free(st);
		return;
	}
	free(path);
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
	free(st);
}

/*
 * A new firing alert for a series: its identity (series, onset, the id
 * OFFICE.BENEFIT.KIND.ONSET.SUFFIX), method and times; the caller fills
 * in the estimates.
 */
static struct mon_alert *
mon_alert_start(struct monitor *mon, const struct series_set *set,
    struct mon_series *ms, int32_t onset, bool up, const char *suffix,
    const char *method)
{
	struct mon_alert *ma = mon_alert_new(mon);
	struct alert *a = &ma->a;
	char label[PERIOD_LABEL_MAX];
	struct period p;

	ma->series = (int)(ms - mon->series);
	ma->onset_week = onset;
	period_of(period_week_start(onset) + 43200, &p);
	ma->onset_day = p.day;
	period_week_label(onset, label);
	snprintf(a->office, sizeof a->office, "%s",
	    mon_office_name(mon, set, ms->office));
	snprintf(a->benefit, sizeof a->benefit, "%s",
	    mon->conf->benefits[ms->benefit]);
	snprintf(a->kind, sizeof a->kind, "%s", mon_kind_name(ms->kind));
	snprintf(a->onset, sizeof a->onset, "%s", label);
	snprintf(a->id, sizeof a->id, "%.32s.%.32s.%.8s.%.10s.%s", a->office,
	    a->benefit, a->kind, label, suffix);
	snprintf(a->method, sizeof a->method, "%s", method);
	a->status = ALERT_FIRING;
	a->scope = ms->office == SERIES_NATIONAL ? ALERT_NATIONAL :
	    ALERT_OFFICE;
	a->direction = up ? ALERT_UP : ALERT_DOWN;
	a->detected_at = mon->watermark;
	a->raised_at = (int64_t)time(NULL);
	return ma;
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
	mon_strata(mon, ms, ma, onset);
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
		ms->state = MON_DRIFTING;
	mon_alert_changed(mon, ma);
}

static void
mon_resolve(struct monitor *mon, struct mon_series *ms, const char *note)
{
	struct mon_alert *ma;

	if (ms->alert < 0)
		return;
	ma = &mon->alerts[ms->alert];
	ma->a.status = ALERT_RESOLVED;
	ma->a.resolved_at = mon->watermark;
	if (note != NULL)
		snprintf(ma->a.note, sizeof ma->a.note, "%s", note);
	ms->alert = -1;
	log_notice("monitor: %s resolved%s%s", ma->a.id, note ? ": " : "",
	    note ? note : "");
	mon_alert_changed(mon, ma);
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
				ms->state = MON_STABLE;
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

/*
 * An alert for an office that sits outside the funnel limits: a lasting
 * difference from the nation (uniformity), not a change; only when
 * detector.outlier_alerts asks for it.
 */
static void
mon_outlier_alert(struct monitor *mon, const struct series_set *set,
    struct mon_series *ms, int32_t week, double sum_oe, double sum_v)
{
	struct mon_alert *ma;
	struct alert *a;
	double o = 0, n = 0;
	int32_t wk, from = week - MON_FUNNEL_WEEKS + 1;

	for (wk = from; wk <= week; wk++) {
		const struct mon_week *w = mon_hist_get(ms, wk);

		if (w != NULL) {
			o += w->o;
			n += w->n;
		}
	}
	ma = mon_alert_start(mon, set, ms, from, sum_oe >= 0, "outlier",
	    "funnel-13w/v1");
	a = &ma->a;
	a->odds_ratio = sum_v > 0 ? exp(sum_oe / sum_v) : 1;
	a->current_rate = n > 0 ? o / n : 0;
	a->expected_rate = n > 0 ? (o - sum_oe) / n : 0;
	a->baseline_rate = a->expected_rate;
	a->practice_part = a->current_rate - a->expected_rate;
	a->decisions = (uint64_t)n;
	mon_classify(mon, ma);
	ms->outlier_alert = (int)(ma - mon->alerts);
	log_notice("monitor: outlier %s: odds ratio %.2f against the nation",
	    a->id, a->odds_ratio);
	mon_alert_changed(mon, ma);
}

/* An office's excess over the nation in a window of weeks. */
struct mon_funnel_sums {
	double		oe;		/* O - E against the nation */
	double		var;		/* its variance, with the wobble */
	double		v;
	double		o;
	double		n;
	int		weeks;		/* with information */
};

static void
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
		if (mon_fit(mon, set, -1, from, week + 1) == 0) {
			mon->fitted = true;
			mon_thresholds(mon);
			for (i = 0; i < mon->nseries; i++) {
				struct mon_series *ms = &mon->series[i];

				if (ms->used && isfinite(ms->h)) {
					ms->state = MON_STABLE;
					ms->regime_week = week + 2;
				}
			}
		}
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
			mon_fit(mon, set, g, from, week + 1);
			mon_thresholds(mon);
			for (i = 0; i < mon->nseries; i++) {
				struct mon_series *ms = &mon->series[i];

				if (ms->used && ms->benefit * DECISION_NKINDS +
				    ms->kind == g) {
					detect_cusum_reset(&ms->cusum);
					ms->regime_week = week + 2;
				}
			}
		}
	}
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

static const char *
mon_state_of(void *arg, const struct series *s)
{
	struct monitor *mon = arg;
	const struct mon_series *ms = mon_series_of(mon, series_office(s),
	    series_benefit(s), series_kind(s));

	return ms->used ? mon_state_names[ms->state] : "learning";
}

/* ---------------------------------------------------------------------
 * Checkpoint.
 */

static void
mon_save(void *arg, struct buf *b)
{
	struct monitor *mon = arg;
	int i, j, n;

	buf_put_u32(b, MON_SAVE_VERSION);
	buf_put_u32(b, (uint32_t)mon->nbenefits);
	buf_put_u32(b, (uint32_t)mon->max_offices);
	buf_put_u32(b, (uint32_t)mon->first_week);
	buf_put_u32(b, (uint32_t)mon->closed_week);
	buf_put_i64(b, mon->watermark);
	buf_put_i64(b, mon->last_look_day);
	buf_put_u8(b, mon->fitted);
	for (i = 0; i < mon->nbenefits * DECISION_NKINDS; i++) {
		struct mon_group *g = &mon->groups[i];

		buf_put_u8(b, g->model != NULL);
		if (g->model != NULL)
			model_save(g->model, b);
		buf_put_double(b, g->tau2_national);
		buf_put_double(b, g->tau2_office);
		buf_put_u32(b, (uint32_t)g->ref_from);
		buf_put_u32(b, (uint32_t)g->ref_to);
		buf_put_u32(b, (uint32_t)g->fitted_at);
		buf_put_u8(b, g->refit);
	}
	for (i = 0, n = 0; i < mon->nseries; i++)
		n += mon->series[i].used;
	buf_put_u32(b, (uint32_t)n);
	for (i = 0; i < mon->nseries; i++) {
		struct mon_series *ms = &mon->series[i];

		if (!ms->used)
			continue;
		buf_put_u32(b, (uint32_t)i);
		buf_put_u32(b, (uint32_t)ms->office);
		buf_put_u32(b, (uint32_t)ms->benefit);
		buf_put_u32(b, (uint32_t)ms->kind);
		buf_put_u8(b, (uint8_t)ms->state);
		buf_put_double(b, ms->alpha);
		buf_put_double(b, ms->shift);
		buf_put_double(b, ms->size);
		buf_put_double(b, ms->late_oe);
		buf_put_double(b, ms->late_v);
		buf_put_u32(b, (uint32_t)ms->alert);
		buf_put_u32(b, (uint32_t)ms->outlier_alert);
		buf_put_u8(b, ms->outlier);
		buf_put_u32(b, (uint32_t)ms->regime_week);
		detect_cusum_save(&ms->cusum, b);
		detect_cusum_save(&ms->back, b);
		for (j = 0; j < MON_HIST; j++) {
			const struct mon_week *w = &ms->hist[j];

			buf_put_u32(b, (uint32_t)w->week);
			buf_put_u32(b, w->n);
			buf_put_u32(b, w->o);
			buf_put_double(b, w->e);
			buf_put_double(b, w->v);
			buf_put_double(b, w->oe);
		}
	}
	buf_put_u32(b, (uint32_t)mon->nalerts);
	for (i = 0; i < mon->nalerts; i++) {
		struct mon_alert *ma = &mon->alerts[i];

		/* Plain data with fixed-size strings: stored as bytes. */
		buf_put(b, &ma->a, sizeof ma->a);
		buf_put_u32(b, (uint32_t)ma->series);
		buf_put_u32(b, (uint32_t)ma->onset_week);
		buf_put_u32(b, (uint32_t)ma->onset_day);
	}
}

static int
mon_load(void *arg, struct buf_reader *r, char **cause)
{
	struct monitor *mon = arg;
	uint32_t version, nb, maxo, u32, n, idx, na;
	uint8_t u8;
	int i, j;

	buf_get_u32(r, &version);
	buf_get_u32(r, &nb);
	buf_get_u32(r, &maxo);
	if (r->bad || version != MON_SAVE_VERSION) {
		*cause = xstrdup("monitor: checkpoint section has an unknown "
		    "version");
		return -1;
	}
	if ((int)nb > mon->nbenefits || (int)maxo != mon->max_offices) {
		*cause = xasprintf("monitor: checkpoint holds %u benefits and "
		    "%u offices; the configuration %d and %d (max_offices "
		    "may not change)", nb, maxo, mon->nbenefits,
		    mon->max_offices);
		return -1;
	}
	buf_get_u32(r, &u32);
	mon->first_week = (int32_t)u32;
	buf_get_u32(r, &u32);
	mon->closed_week = (int32_t)u32;
	buf_get_i64(r, &mon->watermark);
	buf_get_i64(r, &mon->last_look_day);
	buf_get_u8(r, &u8);
	mon->fitted = u8 != 0;
	for (i = 0; i < (int)nb * DECISION_NKINDS; i++) {
		struct mon_group *g = &mon->groups[i];

		buf_get_u8(r, &u8);
		if (u8) {
			g->model = model_create();
			if (model_load(g->model, r, cause) == -1)
				return -1;
		}
		buf_get_double(r, &g->tau2_national);
		buf_get_double(r, &g->tau2_office);
		buf_get_u32(r, &u32);
		g->ref_from = (int32_t)u32;
		buf_get_u32(r, &u32);
		g->ref_to = (int32_t)u32;
		buf_get_u32(r, &u32);
		g->fitted_at = (int32_t)u32;
		buf_get_u8(r, &u8);
		g->refit = u8 != 0;
	}
	buf_get_u32(r, &n);
	for (j = 0; j < (int)n && !r->bad; j++) {
		struct mon_series *ms;

		if (buf_get_u32(r, &idx) == -1 || (int)idx >= mon->nseries)
			break;
		ms = &mon->series[idx];
		ms->used = true;
		buf_get_u32(r, &u32);
		ms->office = (int)u32;
		buf_get_u32(r, &u32);
		ms->benefit = (int)u32;
		buf_get_u32(r, &u32);
		ms->kind = (int)u32;
		buf_get_u8(r, &u8);
		ms->state = u8 <= MON_EXPLAINED ? (enum mon_state)u8 :
		    MON_LEARNING;
		buf_get_double(r, &ms->alpha);
		buf_get_double(r, &ms->shift);
		buf_get_double(r, &ms->size);
		buf_get_double(r, &ms->late_oe);
		buf_get_double(r, &ms->late_v);
		buf_get_u32(r, &u32);
		ms->alert = (int)u32;
		buf_get_u32(r, &u32);
		ms->outlier_alert = (int)u32;
		buf_get_u8(r, &u8);
		ms->outlier = u8 != 0;
		buf_get_u32(r, &u32);
		ms->regime_week = (int32_t)u32;
		if (detect_cusum_load(&ms->cusum, r, cause) == -1 ||
		    detect_cusum_load(&ms->back, r, cause) == -1)
			return -1;
		for (i = 0; i < MON_HIST; i++) {
			struct mon_week *w = &ms->hist[i];

			buf_get_u32(r, &u32);
			w->week = (int32_t)u32;
			buf_get_u32(r, &w->n);
			buf_get_u32(r, &w->o);
			buf_get_double(r, &w->e);
			buf_get_double(r, &w->v);
			buf_get_double(r, &w->oe);
		}
		if (ms->benefit >= mon->nbenefits || ms->kind >= 2 ||
		    ms->office < SERIES_NATIONAL ||
		    ms->office >= mon->max_offices ||
		    mon_index(mon, ms->office, ms->benefit, ms->kind) !=
		    (int)idx)
			break;
	}
	if (r->bad || j != (int)n) {
		*cause = xstrdup("monitor: checkpoint series are damaged");
		return -1;
	}
	buf_get_u32(r, &na);
	for (i = 0; i < (int)na && !r->bad; i++) {
		struct mon_alert *ma = mon_alert_new(mon);

		buf_get(r, &ma->a, sizeof ma->a);
		ma->a.id[sizeof ma->a.id - 1] = '\0';
		buf_get_u32(r, &u32);
		ma->series = (int)u32;
		buf_get_u32(r, &u32);
		ma->onset_week = (int32_t)u32;
		buf_get_u32(r, &u32);
		ma->onset_day = (int32_t)u32;
		if (ma->series < 0 || ma->series >= mon->nseries)
			break;
	}
	if (r->bad || i != (int)na) {
		*cause = xstrdup("monitor: checkpoint alerts are damaged");
		return -1;
	}
	for (i = 0; i < mon->nseries; i++) {
		if (mon->series[i].alert >= mon->nalerts)
			mon->series[i].alert = -1;
		if (mon->series[i].outlier_alert >= mon->nalerts)
			mon->series[i].outlier_alert = -1;
	}
	mon_thresholds(mon);
	return 0;
}

/* ---------------------------------------------------------------------
 * Life cycle and requests.
 */

struct monitor *
monitor_create(const struct conf *c, struct explain_registry *reg,
    monitor_records_cb records_cb, void *records_arg)
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
	mon->det.week_closed = mon_week_closed;
	mon->det.tick = mon_tick;
	mon->det.state_of = mon_state_of;
	mon->det.save = mon_save;
	mon->det.load = mon_load;
	return mon;
}

void
monitor_free(struct monitor *mon)
{
	int i;

	if (mon == NULL)
		return;
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
			ms->state = MON_DRIFTING;
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
	ms->shift += ms->size;
	detect_cusum_reset(&ms->cusum);
	detect_cusum_reset(&ms->back);
	ms->state = MON_STABLE;
	mon_resolve(mon, ms, note != NULL ? note :
	    "new level accepted by a supervisor");
	return 0;
}

/* ---------------------------------------------------------------------
 * JSON for the API.
 */

static json_t *
mon_json_number(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

json_t *
monitor_series_json(const struct monitor *mon, const struct series *s)
{
	const struct mon_series *ms = &mon->series[mon_index(mon,
	    series_office(s), series_benefit(s), series_kind(s))];
	const struct mon_group *g;
	json_t *o, *flags;
	char label[PERIOD_LABEL_MAX];

	if (!ms->used)
		return json_pack("{s:s}", "state", "learning");
	g = mon_group(mon, ms->benefit, ms->kind);
	flags = json_array();
	if (ms->underpowered)
		json_array_append_new(flags, json_string("underpowered"));
	if (ms->outlier)
		json_array_append_new(flags, json_string("outlier"));
	o = json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, "
	    "s:o}",
	    "state", mon_state_names[ms->state],
	    "flags", flags,
	    "cusum_up", json_real(ms->cusum.up),
	    "cusum_down", json_real(ms->cusum.down),
	    "threshold", mon_json_number(ms->h),
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
	char *base = xasprintf("http://%s:%d", mon->conf->http_bind,
	    mon->conf->http_port);
	int i;

	/* Newest first: what a person looks for. */
	for (i = mon->nalerts - 1; i >= 0; i--) {
		const struct alert *a = &mon->alerts[i].a;

		if (mon_alert_matches(a, status, classification, scope,
		    direction, office))
			json_array_append_new(list, alert_json(a, base));
	}
	free(base);
	return list;
}

json_t *
monitor_alert_json(const struct monitor *mon, const char *id)
{
	char *base;
	json_t *o;
	int i;

	for (i = 0; i < mon->nalerts; i++) {
		if (strcmp(mon->alerts[i].a.id, id) == 0) {
			base = xasprintf("http://%s:%d", mon->conf->http_bind,
			    mon->conf->http_port);
			o = alert_json(&mon->alerts[i].a, base);
			free(base);
			return o;
		}
	}
	return NULL;
}

json_t *
monitor_models_json(const struct monitor *mon)
{
	json_t *list = json_array(), *coef, *o;
	char from[PERIOD_LABEL_MAX], to[PERIOD_LABEL_MAX];
	int g, i;

	for (g = 0; g < mon->nbenefits * DECISION_NKINDS; g++) {
		const struct mon_group *gr = &mon->groups[g];
		const struct model_fit_info *info;

		if (gr->model == NULL) {
			json_array_append_new(list, json_pack("{s:s, s:s, "
			    "s:b}", "benefit", mon->conf->benefits[g / 2],
			    "kind", mon_kind_name(g % 2), "fitted", 0));
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
		o = json_pack("{s:s, s:s, s:b, s:i, s:{s:s, s:s}, s:{s:i, "
		    "s:b, s:f, s:f, s:I, s:I, s:f, s:I, s:f}, s:f, s:f, s:o}",
		    "benefit", mon->conf->benefits[g / 2],
		    "kind", mon_kind_name(g % 2),
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
		    "coefficients", coef);
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
monitor_alert_count(const struct monitor *mon)
{
	return mon->nalerts;
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
		    "s:s, s:s, s:o, s:o, s:o, s:o}",
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
		    "explanations", ids));
	}
	return list;
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
    const struct detect_cusum *c, bool monitored, bool partial)
{
	const struct mon_series *nat = &mon->series[mon_index(mon,
	    SERIES_NATIONAL, ms->benefit, ms->kind)];
	const struct mon_week *nw = mon_hist_get(nat, w->week);
	double n = w->n, base = NAN, sd, tau2 = mon_tau2(mon, ms);

	if (partial)
		monitored = false;
	else if (monitored)
		base = w->o - w->oe;
	else if (w->v > 0 && nw != NULL)
		base = w->o - mon_adjusted_oe(ref, w->n, w->o, w->e, w->v,
		    nw->o, nw->e, nw->v);
	sd = w->v > 0 ? sqrt(w->v * (1 + tau2 * w->v)) : NAN;
	return json_pack("{s:o, s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o, "
	    "s:o, s:o}",
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
	    "cusum_down", monitored ? json_real(c->down) : json_null());
}

json_t *
monitor_control_json(const struct monitor *mon, const struct series *s,
    int weeks)
{
	int idx = mon_index(mon, series_office(s), series_benefit(s),
	    series_kind(s));
	const struct mon_series *ms = &mon->series[idx];
	const struct mon_group *g = mon_group(mon, ms->benefit, ms->kind);
	struct mon_series *ref;
	struct detect_cusum c;
	json_t *rows = json_array(), *row;
	int32_t wk, last = mon->closed_week, partial;
	bool monitored, crossed = false;
	double tau2, delta;

	if (!ms->used || last == INT32_MIN)
		return json_pack("{s:s, s:n, s:o, s:o, s:[]}", "state",
		    "learning", "threshold", "closed_through",
		    mon_json_week(last), "weeks", rows, "alerts");
	tau2 = mon_tau2(mon, ms);
	delta = mon_delta(mon, ms);
	partial = g->model != NULL ? g->fitted_at + 1 : INT32_MIN;
	ref = xmalloc(sizeof *ref);
	*ref = *ms;
	ref->shift = 0;
	/*
	 * The CUSUMs are recomputed from the stored increments: the detector
	 * keeps only their current values. They start at 0 in the window, at
	 * the current regime, and after each crossing of the threshold.
	 */
	detect_cusum_reset(&c);
	for (wk = last - weeks + 1; wk <= last; wk++) {
		const struct mon_week *w = mon_hist_get(ms, wk);

		if (w == NULL || w->n == 0)
			continue;
		if (wk == ms->regime_week || crossed) {
			detect_cusum_reset(&c);
			crossed = false;
		}
		monitored = w->oe != 0 && wk != partial;
		if (monitored) {
			detect_cusum_update(&c, wk, w->oe, w->v, tau2, delta);
			crossed = c.up > ms->h || c.down > ms->h;
		}
		row = mon_control_week(mon, ms, ref, w, &c, monitored,
		    wk == partial);
		if (row == NULL || json_array_append_new(rows, row) == -1) {
			json_decref(rows);
			free(ref);
			return NULL;
		}
	}
	free(ref);
	return json_pack("{s:s, s:o, s:o, s:f, s:f, s:o, s:o, s:o, s:o}",
	    "state", mon_state_names[ms->state],
	    "threshold", mon_json_number(ms->h),
	    "tau2", json_real(tau2),
	    "design_odds_ratio", exp(delta),
	    "band", 0.95,
	    "regime_from", ms->regime_week > 0 ?
	    mon_json_week(ms->regime_week) : json_null(),
	    "closed_through", mon_json_week(last),
	    "weeks", rows,
	    "alerts", mon_series_alerts_json(mon, idx));
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
	const struct mon_group *g = mon_group(mon, benefit, kind);
	struct mon_funnel_sums fs;
	json_t *offices = json_array(), *curve = json_array(), *o;
	double tau2 = g->tau2_office, sum_n = 0, sum_e = 0, lo = INFINITY;
	double hi = 0, e, pbar, x, v, se;
	int32_t last = mon->closed_week;
	int i, k = 0;

	for (i = 0; g->model != NULL && last != INT32_MIN &&
	    i < mon->max_offices; i++) {
		const struct mon_series *ms = &mon->series[mon_index(mon, i,
		    benefit, kind)];

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
