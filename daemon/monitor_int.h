/*
 * Private to the monitor files (monitor.c, monitor_fit.c,
 * monitor_alerts.c, monitor_save.c, monitor_json.c): the monitor's state,
 * per (indicator, benefit, kind) group, per series and per alert, and the
 * functions these files share. Everything else goes through monitor.h.
 * The indicator is the outermost index of groups and series, so that
 * rejection's (indicator 0) are numbered as before indicators existed.
 */
#ifndef STABILD_MONITOR_INT_H
#define STABILD_MONITOR_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "alert.h"
#include "arl.h"
#include "decision.h"
#include "detect.h"
#include "detector.h"
#include "indicator.h"
#include "monitor.h"
#include "series.h"

struct buf;
struct event_base;
struct model;
struct buf_reader;
struct worker;

#define MON_HIST		160	/* weeks of history per series */
/* Weeks after a fit's window whose expected sums it fills too. */
#define MON_AHEAD		40
#define MON_FUNNEL_WEEKS	13	/* outlier flag window */
#define MON_OUTLIER_Z		3.09	/* two-sided 99.8% */

enum mon_state {
	MON_LEARNING,		/* no reference window yet: no alarms */
	MON_STABLE,
	MON_DRIFTING,		/* alarm, unexplained, not yet returned */
	MON_EXPLAINED,		/* alarm covered; new regime learning */
};

/*
 * How the detector evaluated a closed week, kept for the control chart:
 * which CUSUM it ran, so that the chart redraws what it did.
 */
enum mon_phase {
	MON_PHASE_UNKNOWN,	/* closed before phases were kept */
	MON_PHASE_UNWATCHED,	/* no model or thresholds yet, or a fit's week */
	MON_PHASE_WATCHED,	/* the CUSUMs against the baseline */
	MON_PHASE_DRIFTING,	/* after an alarm: a return is looked for */
	MON_PHASE_LEARNING,	/* a new regime learns its level: no alarms */
};

/* One week of one series, as the monitor sees it. */
struct mon_week {
	int32_t		week;		/* INT32_MIN: empty slot */
	uint32_t	n;
	uint32_t	o;
	uint32_t	late;		/* decisions counted after it closed */
	double		e;		/* from the frozen model */
	double		v;
	double		oe;		/* the increment used: O - E adjusted */
	double		va;		/* V adjusted to the baseline */
	uint8_t		phase;		/* enum mon_phase */
};

struct mon_series {
	int		ind;		/* indicator */
	int		office;		/* SERIES_NATIONAL or index */
	int		benefit;
	int		kind;
	bool		used;
	enum mon_state	state;
	bool		underpowered;
	bool		outlier;
	double		alpha;		/* office level vs nation (log odds) */
	double		ref_v;		/* sum V and V^2 of its reference */
	double		ref_v2;
	double		shift;		/* regime moves since the fit */
	double		w;		/* mean weekly weight, reference */
	double		h;		/* threshold of the upward side, LLR */
	double		delay;		/* expected weeks to the design shift */
	double		detectable_or;
	double		z13;		/* funnel: standardised 13-week excess */
	struct detect_cusum cusum;
	struct detect_cusum back;	/* return to the old level */
	double		size;		/* log OR of the current change */
	double		moved;		/* baseline move of its new regime */
	int		alert;		/* index of its open alert, or -1 */
	int		outlier_alert;	/* its open outlier alert, or -1 */
	int32_t		regime_week;	/* first week of the current regime */
	double		late_oe;	/* late events, for the next close */
	double		late_v;
	double		h_down;		/* threshold of the downward side */
	bool		daily;		/* looked at daily (large series) */
	bool		small;		/* exact binomial thresholds */
	/*
	 * Its weeks, slot j at hist[j * hstride]: a column of mon->hist,
	 * where the series keep a week side by side, so that a week's close
	 * writes a few pages, not one per series (each page written after a
	 * checkpoint's fork is copied while the loop waits). MON_HIST_AT.
	 */
	struct mon_week	*hist;
	size_t		hstride;
};

#define MON_HIST_AT(ms, j)	((ms)->hist[(size_t)(j) * (ms)->hstride])

struct mon_group {
	struct model	*model;
	double		 tau2_national;
	double		 tau2_office;
	double		 alpha_between;	/* variance of true office levels */
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
	int32_t		alarm_week;	/* the week whose look alarmed */
	/* Event time it was found explained after detection; 0: not so. */
	int64_t		explained_at;
};

/* Per indicator: its data and its first regime. */
struct mon_first {
	int32_t		first_week;	/* first week with data */
	bool		fitted;		/* the first regime started */
};

struct monitor {
	const struct conf	*conf;
	unsigned		 conf_gen;	/* moves at each reload */
	struct explain_registry	*reg;
	monitor_records_cb	 records_cb;
	void			*records_arg;
	struct detector		 det;

	struct indicators	 ind;		/* from the configuration */
	int			 nind;
	int			 nbenefits;
	int			 max_offices;
	struct mon_group	*groups;	/* nind x nbenefits x 2 */
	int			 ngroups;
	/* nind x (max_offices + 1) x nb x 2 */
	struct mon_series	*series;
	int			 nseries;
	struct mon_week		*hist;		/* MON_HIST rows of nseries */

	struct mon_first	 first[INDICATOR_MAX];
	/*
	 * The set whose series and first weeks a close has taken in, at its
	 * series_firsts_changed; NULL: none yet (mon_blank, which a load
	 * starts from).
	 */
	const struct series_set	*firsts_set;
	uint64_t		 firsts_seen;
	int32_t			 closed_week;
	int64_t			 watermark;
	int64_t			 last_look_day;
	/*
	 * Earliest closed week that late history changed enough to be
	 * evaluated again (INT32_MAX: none); see mon_replay.
	 */
	int32_t			 dirty_week;
	/* Late decisions for weeks the history no longer holds. */
	uint32_t		 late_unheld;
	bool			 replaying;	/* alerts are not handed on */
	bool			 live;		/* the open week is today's */
	int32_t			 predicted_to;	/* e, v filled below it */
	/* A replay under way (mon_replay_step): where it stands. */
	const struct series_set	*replay_set;
	int32_t			 replay_next;
	int32_t			 replay_last;
	struct mon_alert	*replay_old;	/* the store before it */
	int			 replay_nold;

	struct mon_alert	*alerts;
	int			 nalerts;
	int			 capalerts;
	uint64_t		 explain_gen;

	struct worker		*worker;	/* record reads (monitor_job.c) */
	bool			 explain_deferred; /* changed while busy */
	void			(*resume_cb)(void *);
	void			*resume_arg;
};

/* What a read of the records off the loop hands to mon_fit_apply. */
struct mon_fit_result {
	int		 only_group;	/* -1: the groups of inds */
	uint32_t	 inds;		/* bit per indicator */
	bool		 predict_only;	/* no fit: the current models */
	int32_t		 from;		/* the reference window, weeks */
	int32_t		 to;
	int32_t		 pto;		/* expected sums of [from, pto) */
	bool		 scanned;	/* the window was read */
	bool		 predicted;	/* and its expected sums */
	bool		 estimate;	/* levels and wobble to estimate */
	struct model	**models;	/* per group: fitted, or NULL */
	char		**causes;	/* per group: why not */
	double		*e;		/* [series][week - from] */
	double		*v;
	uint8_t		*touched;	/* a record added to e and v */
};

/* An alert's strata sums: O and E per attribute level since onset. */
#define MON_STRATA_ATTRS	6
#define MON_STRATA_LEVELS	27
struct mon_strata_sums {
	double		o[MON_STRATA_ATTRS][MON_STRATA_LEVELS];
	double		e[MON_STRATA_ATTRS][MON_STRATA_LEVELS];
};

static inline const char *
mon_kind_name(int kind)
{
	return decision_kind_name(kind);
}

static inline int
mon_group_index(const struct monitor *mon, int ind, int benefit, int kind)
{
	return (ind * mon->nbenefits + benefit) * DECISION_NKINDS + kind;
}

static inline struct mon_group *
mon_group(const struct monitor *mon, int ind, int benefit, int kind)
{
	return &mon->groups[mon_group_index(mon, ind, benefit, kind)];
}

/* The indicator, benefit and kind of group index g. */
static inline int
mon_group_ind(const struct monitor *mon, int g)
{
	return g / DECISION_NKINDS / mon->nbenefits;
}

static inline int
mon_group_benefit(const struct monitor *mon, int g)
{
	return g / DECISION_NKINDS % mon->nbenefits;
}

static inline int
mon_group_kind(const struct monitor *mon, int g)
{
	(void)mon;
	return g % DECISION_NKINDS;
}

/* Whether group g is among those of a fit: one group, or indicators. */
static inline bool
mon_group_selected(const struct monitor *mon, int only_group, uint32_t inds,
    int g)
{
	if (only_group >= 0)
		return g == only_group;
	return (inds >> mon_group_ind(mon, g) & 1) != 0;
}

static inline struct mon_group *
mon_group_of(const struct monitor *mon, const struct mon_series *ms)
{
	return mon_group(mon, ms->ind, ms->benefit, ms->kind);
}

static inline int
mon_index(const struct monitor *mon, int ind, int office, int benefit,
    int kind)
{
	int o = office == SERIES_NATIONAL ? 0 : office + 1;

	return ((ind * (mon->max_offices + 1) + o) * mon->nbenefits +
	    benefit) * DECISION_NKINDS + kind;
}

static inline struct mon_series *
mon_series_of(struct monitor *mon, int ind, int office, int benefit,
    int kind)
{
	return &mon->series[mon_index(mon, ind, office, benefit, kind)];
}

/* The national series of ms's indicator, benefit and kind. */
static inline struct mon_series *
mon_national_of(struct monitor *mon, const struct mon_series *ms)
{
	return mon_series_of(mon, ms->ind, SERIES_NATIONAL, ms->benefit,
	    ms->kind);
}

/* Whether some indicator's first regime has started. */
static inline bool
mon_fitted_any(const struct monitor *mon)
{
	int i;

	for (i = 0; i < mon->nind; i++) {
		if (mon->first[i].fitted)
			return true;
	}
	return false;
}

/* Indicator ind's name for a log line or an alert: "" for rejection. */
static inline const char *
mon_ind_prefix(const struct monitor *mon, int ind)
{
	return ind == INDICATOR_REJECTION ? "" : mon->ind.ind[ind].name;
}

/* The weeks mon->hist holds: MON_HIST of every series slot. */
static inline size_t
mon_hist_slots(const struct monitor *mon)
{
	return (size_t)MON_HIST * (size_t)mon->nseries;
}

static inline struct mon_week *
mon_hist(struct mon_series *ms, int32_t week)
{
	struct mon_week *w = &MON_HIST_AT(ms, ((week % MON_HIST) + MON_HIST) %
	    MON_HIST);

	if (w->week != week) {
		memset(w, 0, sizeof *w);
		w->week = week;
	}
	return w;
}

static inline const struct mon_week *
mon_hist_get(const struct mon_series *ms, int32_t week)
{
	const struct mon_week *w = &MON_HIST_AT(ms, ((week % MON_HIST) +
	    MON_HIST) % MON_HIST);

	return w->week == week ? w : NULL;
}

static inline int64_t
mon_days(int64_t ms)
{
	return ms / 1000 / 86400;
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

/* What a series' thresholds are computed from (mon_thresholds_prep_slice). */
struct mon_thr_in {
	double		 w;		/* mean weekly weight; 0: none */
	double		 arl0;		/* in-control ARL of each side */
	int		 looks;
	double		 tau2;
	double		 delta;
	double		 relevant;	/* log OR the delay is given for */
	double		 horizon;	/* weeks */
	double		 sd;		/* of the baseline's lasting error */
	int		 dof;		/* weeks behind tau^2, 0: many */
	bool		 small;
	int		 ntypes;
	struct arl_week	 types[ARL_MAX_WEEKS];
};

struct mon_thr_out {
	double		 h;
	double		 h_down;
	double		 delay;
	double		 detectable_or;
	bool		 underpowered;
	bool		 daily;
	bool		 small;
};

/* What follows a threshold computation read off the loop. */
enum mon_thr_then {
	MON_THEN_NOTHING,
	MON_THEN_FIRST_FIT,	/* the first regime starts */
	MON_THEN_REFIT,		/* a refit group starts afresh */
};

/* monitor.c: series, increments and regimes. */
const char *mon_state_name(enum mon_state state);
/* The design log odds ratio of a series. */
double mon_delta(const struct monitor *mon, const struct mon_series *ms);
double mon_tau2(const struct monitor *mon, const struct mon_series *ms);
/*
 * A week's expected sum and variance moved to the series' baseline (see
 * monitor.c); nat_* are the national series' sums of the same week.
 */
void mon_adjust(const struct mon_series *ms, double n, double o, double e,
    double v, double nat_n, double nat_o, double nat_e, double nat_v,
    double *e_adj, double *v_adj);
double mon_adjusted_oe(const struct mon_series *ms, double n, double o,
    double e, double v, double nat_n, double nat_o, double nat_e,
    double nat_v);
/* The size of a series' change over weeks [from, to]. */
void mon_size(const struct monitor *mon, const struct mon_series *ms,
    int32_t from, int32_t to, struct detect_size *size);
/* The level s with oe = s v + s^2 a: a shift solved to second order. */
double mon_level(double oe, double v, double a);
void mon_funnel_sum(const struct monitor *mon, const struct mon_series *ms,
    int32_t last, int weeks, struct mon_funnel_sums *fs);
/*
 * A first fit's history: weeks [from, week] of the series of indicators
 * inds copied from the statistics, series *next on until the deadline;
 * true when every series has them.
 */
bool mon_fill_history(struct monitor *mon, const struct series_set *set,
    uint32_t inds, int32_t from, int32_t week, int *next, uint64_t deadline);
/*
 * A fit was applied: the first regime of indicators inds (those that
 * have a model now), or a refit of only_group.
 */
void mon_fitted(struct monitor *mon, int only_group, uint32_t inds,
    int32_t week);
/*
 * Thresholds are in: what waited for them (mon_job_thresholds). group is
 * the refit group (MON_THEN_REFIT) or the bits of the indicators whose
 * first regime starts (MON_THEN_FIRST_FIT).
 */
void mon_thresholds_then(struct monitor *mon, enum mon_thr_then then,
    int group, int32_t week);
/* Expected sums were read for a replay: it goes on. */
void mon_replay_step(struct monitor *mon);

/* monitor_fit.c: models, and what is made of the records read back. */
/*
 * Apply a fit in three parts, each a slice per turn where it can be
 * long (true when done): the expected sums it read into the history,
 * series *next on until the deadline; the models (mon_fit_apply, which
 * takes the models it installs: 0 when a model was fitted); the levels
 * and wobble of its groups, group *next on. A predict-only result has
 * the expected sums alone.
 */
bool mon_fit_apply_sums(struct monitor *mon, const struct mon_fit_result *r,
    int *next, uint64_t deadline);
int mon_fit_apply(struct monitor *mon, struct mon_fit_result *r);
bool mon_fit_estimate(struct monitor *mon, const struct mon_fit_result *r,
    int *next, uint64_t deadline);
/* Thresholds now (mon_thresholds) or as a job (mon_job_thresholds). */
void mon_thresholds(struct monitor *mon);
/*
 * The inputs a slice per turn: the budget's weights, then each series'.
 * A reload between slices begins them again under the new settings.
 */
struct mon_thr_prep {
	struct mon_thr_in	*in;		/* per series */
	double			 total;		/* the budget's weights */
	int			 pass;		/* 0: weights, 1: inputs */
	int			 next;		/* series */
	unsigned		 gen;		/* the monitor's conf_gen */
};
void mon_thresholds_prep_start(struct monitor *mon, struct mon_thr_prep *p);
bool mon_thresholds_prep_slice(struct monitor *mon, struct mon_thr_prep *p,
    uint64_t deadline);
void mon_threshold_compute(const struct mon_thr_in *in,
    struct mon_thr_out *out);
void mon_thresholds_apply(struct monitor *mon, const struct mon_thr_out *out);
/* The top strata of an alert from its sums. */
void mon_strata_apply(struct monitor *mon, struct mon_alert *ma,
    const struct mon_strata_sums *ss);

/*
 * monitor_job.c: reading the records, on the worker. A fit's result is
 * applied (mon_fit_apply, then mon_fitted), an alarm's strata filled in
 * and the alert emitted, on the loop once the work is done; meanwhile the
 * detector is busy. Without an event base all of it happens at the end
 * of the hook (mon_jobs_yield).
 */
void mon_jobs_start(struct monitor *mon, struct event_base *base);
void mon_jobs_stop(struct monitor *mon);
bool mon_jobs_busy(const struct monitor *mon);
void mon_jobs_yield(struct monitor *mon);
/*
 * Fit only_group, or when it is -1 the groups of the indicators in inds,
 * on [from, to); expected sums of [from, to + MON_AHEAD).
 */
void mon_job_fit(struct monitor *mon, const struct series_set *set,
    int only_group, uint32_t inds, int32_t from, int32_t to, int32_t week);
/*
 * The first fit of the groups of indicators same[i], i < n, each on
 * [from[i], week]: their history filled a slice per turn of the loop
 * (mon_fill_history), then each group's fit as mon_job_fit.
 */
void mon_job_fill(struct monitor *mon, const struct series_set *set,
    int32_t week, const uint32_t *same, const int32_t *from, int n);
/* Expected sums of [from, to) under the current models (a replay). */
void mon_job_predict(struct monitor *mon, const struct series_set *set,
    int32_t from, int32_t to);
/*
 * Thresholds off the loop (they take a while for ~1000 CUSUMs), then
 * `then` for group (see mon_thresholds_then) after the close of week.
 */
void mon_job_thresholds(struct monitor *mon, enum mon_thr_then then,
    int group, int32_t week);
/* Strata of weeks [onset, last]; emit: hand the alert on afterwards. */
void mon_job_strata(struct monitor *mon, struct mon_series *ms,
    struct mon_alert *ma, int32_t onset, int32_t last, bool emit);

/* monitor_alerts.c: the alert store. */
struct mon_alert *mon_alert_new(struct monitor *mon);
struct mon_alert *mon_alert_start(struct monitor *mon,
    const struct series_set *set, struct mon_series *ms, int32_t onset,
    bool up, const char *suffix, const char *method);
void mon_alert_changed(struct monitor *mon, struct mon_alert *ma);
void mon_alerts_switched_on(struct monitor *mon, int ind);
bool mon_classify(struct monitor *mon, struct mon_alert *ma);
void mon_describe(struct monitor *mon, struct mon_series *ms,
    struct mon_alert *ma, int32_t onset, int32_t last);
void mon_resolve(struct monitor *mon, struct mon_series *ms,
    const char *note);
void mon_outlier_alert(struct monitor *mon, const struct series_set *set,
    struct mon_series *ms, int32_t week, double sum_oe, double sum_v);

/* The alert store's follow-up of a replay (monitor_alerts.c). */
void mon_alerts_replayed(struct monitor *mon, struct mon_alert *old,
    int nold);

/* monitor_save.c: the checkpoint section. */
void mon_save(void *arg, struct buf *b);
int mon_load(void *arg, struct buf_reader *r, char **cause);

#endif
