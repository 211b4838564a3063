/*
 * The monitor's reads of the records: a model fit (cell counts, the IRLS
 * fit, then the expected sums of the window under the new models) and an
 * alert's strata. They run on the worker with a job description of their
 * own (the segments to read, the models, the window) and write only into
 * the job; the loop applies the result in monitor_fit.c, a slice per
 * turn where it is long. While a job is outstanding the detector is
 * busy, so ingest hands it nothing and the results are the same however
 * long the reading, or the number of slices, takes.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "decision.h"
#include "indicator.h"
#include "log.h"
#include "model.h"
#include "monitor_int.h"
#include "period.h"
#include "records.h"
#include "stall.h"
#include "worker.h"
#include "xmalloc.h"

/* Threads a fit or thresholds job may use at most. */
#define MON_THR_THREADS		4

/* Weeks a window needs for the model to learn the season. */
#define MON_SEASON_WEEKS	52

/* Memo of the last day and week seen, for a run of records in order. */
struct mon_memo {
	int32_t			 day;
	int32_t			 day_week;
	int32_t			 woy_week;
	int			 woy;
};

struct mon_job;

/* One thread's read of the records for a fit: the groups of its part. */
struct mon_scan {
	struct mon_job		*j;
	int			 part;
	int			 err;		/* errno of a failed read */
	struct mon_memo		 memo;
};

struct mon_job {
	struct monitor		*mon;		/* for done only */
	const struct series_set	*set;		/* for done only */
	bool			 strata;	/* else a fit */
	bool			 viewed;	/* the records could be listed */
	struct records_view	 view;
	int			 scan_errno;	/* a read failed */
	/* A copy: a reload may change the monitor's meanwhile. */
	struct indicators	 ind;
	int			 nind;
	int			 nbenefits;
	int			 max_offices;
	int			 nweeks;
	int32_t			 from;		/* weeks, inclusive */
	int32_t			 to;		/* exclusive (fit) */
	int32_t			 pto;		/* exclusive (expected sums) */

	/* A fit. */
	int32_t			 week;		/* the close that asked */
	int			 phase;		/* of its application */
	int			 next;		/* series or group next */
	unsigned		 gen;		/* conf_gen of the estimates */
	bool			 ok;		/* a model was fitted */
	double			 ridge;
	const struct model	**old;		/* per group, borrowed */
	struct model_data	**data;
	bool			 predicting;
	struct mon_fit_result	 fit;
	/*
	 * The reads are shared out by group: each group, and each series
	 * and week of its sums, is read by one thread in the records'
	 * order, so the models and sums are the same however many threads
	 * read them.
	 */
	signed char		*part_of;	/* per group */
	int			 nparts;
	struct mon_scan		 scans[MON_THR_THREADS];

	/* Thresholds. */
	struct mon_thr_prep	 thr_prep;	/* the inputs */
	struct mon_thr_out	*thr_out;
	int			 nthr;
	enum mon_thr_then	 then;
	int			 group;

	/* Strata. */
	int			 alert;		/* index into mon->alerts */
	bool			 emit;		/* hand the alert on after */
	int			 indicator;
	int			 benefit;
	int			 kind;
	int			 office;
	const struct model	*model;		/* borrowed */
	struct mon_strata_sums	 sums;

	double			 ms;		/* time the reading took */
	struct mon_memo		 memo;		/* strata */
};

static double
mon_job_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void
mon_memo_reset(struct mon_memo *m)
{
	m->day = m->woy_week = INT32_MIN;
}

static int32_t
mon_job_week(struct mon_memo *m, int32_t day)
{
	if (day != m->day) {
		m->day = day;
		m->day_week = period_week_of_day(day);
	}
	return m->day_week;
}

static int
mon_job_woy(struct mon_memo *m, int32_t week)
{
	if (week != m->woy_week) {
		m->woy_week = week;
		m->woy = period_week_iso(week);
	}
	return m->woy;
}

/* The series index of monitor_int.h's mon_index. */
static int
mon_job_index(const struct mon_job *j, int ind, int office, int benefit,
    int kind)
{
	int o = office == SERIES_NATIONAL ? 0 : office + 1;

	return ((ind * (j->max_offices + 1) + o) * j->nbenefits + benefit) *
	    DECISION_NKINDS + kind;
}

/* Whether the fit takes group g (monitor_int.h's mon_group_selected). */
static bool
mon_job_selected(const struct mon_job *j, int g)
{
	if (j->fit.only_group >= 0)
		return g == j->fit.only_group;
	return (j->fit.inds >> (g / DECISION_NKINDS / j->nbenefits) & 1) != 0;
}

/* One record in one indicator's group g, as yes or no. */
static void
mon_job_fit_add(struct mon_job *j, const struct record *rec, int ind, int g,
    bool yes, const struct model_x *x, int32_t week)
{
	const struct model *m;
	double p;
	int k, slot, offices[2];

	if (!j->predicting) {
		if (j->data[g] != NULL)
			model_data_add(j->data[g], x, 1, yes);
		return;
	}
	/* Only the groups fitted now: the others' sums stand. */
	if (!mon_job_selected(j, g))
		return;
	/* A group whose fit failed keeps its old model, if any. */
	m = j->fit.models[g] != NULL ? j->fit.models[g] : j->old[g];
	if (m == NULL)
		return;
	p = model_predict(m, x);
	offices[0] = SERIES_NATIONAL;
	offices[1] = rec->office;
	for (k = 0; k < 2; k++) {
		slot = mon_job_index(j, ind, offices[k], rec->benefit,
		    rec->kind) * j->nweeks + (week - j->from);
		j->fit.e[slot] += p;
		j->fit.v[slot] += p * (1 - p);
		j->fit.touched[slot] = 1;
	}
}

/*
 * A record in each indicator it counts in (indicators_of, as ingest
 * counted it): a decision may count in rejection and supplement.
 */
static void
mon_job_fit_cb(const struct record *rec, void *arg)
{
	struct mon_scan *sc = arg;
	struct mon_job *j = sc->j;
	struct model_x x;
	int32_t week;
	int inds[INDICATOR_MAX], ys[INDICATOR_MAX], gs[INDICATOR_MAX], g, i, k;
	int n;

	if (rec->benefit >= j->nbenefits || rec->kind >= DECISION_NKINDS ||
	    rec->office >= j->max_offices)
		return;
	n = indicators_of(&j->ind, rec->event, rec->outcome, rec->detail,
	    inds, ys);
	/* Excluded (a dismissed decision) is out of the rate. */
	for (i = k = 0; i < n; i++) {
		if (ys[i] == INDICATOR_EXCLUDED || inds[i] >= j->nind)
			continue;
		g = (inds[i] * j->nbenefits + rec->benefit) *
		    DECISION_NKINDS + rec->kind;
		if (j->part_of[g] != sc->part)
			continue;	/* another thread's, or not fitted */
		inds[k] = inds[i];
		gs[k] = g;
		ys[k++] = ys[i];
	}
	if (k == 0)
		return;
	week = mon_job_week(&sc->memo, rec->day);
	if (week < j->from || week >= (j->predicting ? j->pto : j->to))
		return;
	/*
	 * A window shorter than a year cannot tell the season from
	 * whatever else moved in it: fitted without (its terms stay 0).
	 */
	model_x_set(&x, rec->age, rec->sex, rec->diagnosis, rec->case_day,
	    rec->employment, rec->care, j->predicting || j->to - j->from >=
	    MON_SEASON_WEEKS ? mon_job_woy(&sc->memo, week) : 0);
	for (i = 0; i < k; i++)
		mon_job_fit_add(j, rec, inds[i], gs[i], ys[i] == INDICATOR_YES,
		    &x, week);
}

static void mon_job_fit_read(struct mon_job *);
static void mon_share(void (*)(void *, int), void *, int, int);
static int mon_cores(void);

/* One group's fit; a failure leaves its cause and no model. */
static void
mon_job_fit_one(void *arg, int i)
{
	struct mon_job *j = arg;
	char *cause = NULL;

	if (j->data[i] == NULL)
		return;
	j->fit.models[i] = model_create();
	if (model_fit(j->fit.models[i], j->data[i], j->ridge, &cause) == -1) {
		model_free(j->fit.models[i]);
		j->fit.models[i] = NULL;
		j->fit.causes[i] = cause;
	}
}

static void
mon_job_fit_run(void *arg)
{
	struct mon_job *j = arg;
	double t0 = mon_job_now_ms();

	mon_job_fit_read(j);
	j->ms = mon_job_now_ms() - t0;
}

/* One thread's read: the records of the groups of part. */
static void
mon_job_scan_part(void *arg, int part)
{
	struct mon_job *j = arg;
	struct mon_scan *sc = &j->scans[part];

	sc->j = j;
	sc->part = part;
	sc->err = 0;
	mon_memo_reset(&sc->memo);
	/* From the Monday of week from. */
	if (records_view_scan(&j->view, j->from * 7 - 3, mon_job_fit_cb,
	    sc) == -1)
		sc->err = errno != 0 ? errno : EIO;
}

/* Read the records once for every part; 0, or -1 with scan_errno. */
static int
mon_job_scan(struct mon_job *j)
{
	int i;

	mon_share(mon_job_scan_part, j, j->nparts, 1);
	for (i = 0; i < j->nparts; i++) {
		if (j->scans[i].err != 0) {
			j->scan_errno = j->scans[i].err;
			return -1;
		}
	}
	return 0;
}

static void
mon_job_fit_read(struct mon_job *j)
{
	int ngroups = j->nind * j->nbenefits * DECISION_NKINDS, i, fitted = 0;

	if (!j->viewed)
		return;
	if (j->fit.predict_only) {
		j->fit.scanned = true;
		fitted = 1;
		goto predict;
	}
	if (mon_job_scan(j) == -1)
		return;
	j->fit.scanned = true;
	/* Ingest waits for the models too: every group at once. */
	mon_share(mon_job_fit_one, j, ngroups, 1);
	for (i = 0; i < ngroups; i++) {
		fitted += j->fit.models[i] != NULL;
		/* Tens of megabytes of cells: freed here, not on the loop. */
		if (j->data[i] != NULL)
			model_data_free(j->data[i]);
		j->data[i] = NULL;
	}
	if (fitted == 0)
		return;
predict:
	/* The expected sums under the new models. */
	j->predicting = true;
	if (mon_job_scan(j) == -1)
		return;
	j->fit.predicted = true;
}

static void
mon_job_free(struct mon_job *j)
{
	int ngroups = j->nind * j->nbenefits * DECISION_NKINDS, i;

	if (!j->strata) {
		for (i = 0; i < ngroups; i++) {
			if (j->data[i] != NULL)
				model_data_free(j->data[i]);
			model_free(j->fit.models[i]);
			free(j->fit.causes[i]);
		}
		free(j->data);
		free(j->old);
		free(j->fit.models);
		free(j->fit.causes);
		free(j->fit.e);
		free(j->fit.v);
		free(j->fit.touched);
		free(j->part_of);
	}
	if (j->viewed)
		records_view_free(&j->view);
	free(j);
}

/* Say why the records could not be read, as the reads used to. */
static void
mon_job_report(const struct mon_job *j)
{
	if (!j->viewed)
		log_warnx("monitor: the records file cannot be read; models "
		    "wait");
	else if (j->scan_errno != 0)
		log_warnx("monitor: reading the records: %s",
		    strerror(j->scan_errno));
}

/*
 * What a job writes on the loop after its read, at most per turn: the
 * history's pages fault when first written after a checkpoint's fork,
 * and a first fit's writes in one step took over 100 ms on a loaded
 * host. The job is applied again next turn for the rest (worker_again),
 * before any job behind it, so the loop answers between, ingest waits
 * as for any job, and the slices add up to what one pass gave.
 */
#define MON_SLICE_NS	2000000

/* Applied a slice per turn (mon_fit_apply_sums, mon_fit_estimate). */
static void
mon_job_fit_done(void *arg, bool apply)
{
	struct mon_job *j = arg;
	uint64_t deadline = stall_now() + MON_SLICE_NS;

	if (!apply) {
		mon_job_free(j);
		return;
	}
	if (j->phase == 0) {
		mon_job_report(j);
		log_info("monitor: fit of weeks %d..%d read and computed in "
		    "%.0f ms", j->from, j->to - 1, j->ms);
		j->phase = 1;
	}
	if (j->phase == 1) {
		if (!mon_fit_apply_sums(j->mon, &j->fit, &j->next, deadline))
			goto again;
		j->ok = mon_fit_apply(j->mon, &j->fit) == 0;
		j->next = 0;
		j->gen = j->mon->conf_gen;
		j->phase = 2;
	}
	/* A reload between slices: every group under the new settings. */
	if (j->gen != j->mon->conf_gen) {
		j->next = 0;
		j->gen = j->mon->conf_gen;
	}
	if (!mon_fit_estimate(j->mon, &j->fit, &j->next, deadline))
		goto again;
	/* A first fit that fitted nothing waits for the next close. */
	if (!j->fit.predict_only && (j->ok || j->fit.only_group >= 0))
		mon_fitted(j->mon, j->fit.only_group, j->fit.inds, j->week);
	if (j->mon->replaying)
		mon_replay_step(j->mon);
	mon_job_free(j);
	return;
again:
	worker_again(j->mon->worker);
}

/* The job's view of the records; a failure leaves it empty. */
static void
mon_job_view(struct monitor *mon, struct mon_job *j)
{
	j->viewed = mon->records_cb != NULL &&
	    mon->records_cb(mon->records_arg, &j->view) == 0;
}

/* Group weights, heaviest first (ties by index): mon_job_parts's order. */
struct mon_job_load {
	double	 n;
	int	 g;
};

static int
mon_job_load_cmp(const void *a, const void *b)
{
	const struct mon_job_load *x = a, *y = b;

	if (x->n != y->n)
		return x->n > y->n ? -1 : 1;
	return x->g - y->g;
}

/*
 * Share the groups the job fits among as many parts as there are cores
 * to read them on (the loop waits meanwhile), at most one a group, by
 * their decisions in the window: each to the part with the fewest so
 * far, heaviest first. The other groups are in none (-1).
 */
static void
mon_job_parts(struct monitor *mon, struct mon_job *j, int ngroups)
{
	struct mon_job_load *load = xcalloc((size_t)ngroups, sizeof *load);
	double sum[MON_THR_THREADS] = { 0 };
	int g, i, n = 0, best;
	int32_t wk;

	j->part_of = xcalloc((size_t)ngroups, sizeof *j->part_of);
	for (g = 0; g < ngroups; g++) {
		const struct mon_series *nat = mon_series_of(mon,
		    mon_group_ind(mon, g), SERIES_NATIONAL,
		    mon_group_benefit(mon, g), mon_group_kind(mon, g));

		j->part_of[g] = -1;
		if (!mon_group_selected(mon, j->fit.only_group, j->fit.inds,
		    g))
			continue;
		load[n].g = g;
		load[n].n = 1;
		for (wk = j->from; wk < j->pto && nat->used; wk++) {
			const struct mon_week *w = mon_hist_get(nat, wk);

			load[n].n += w != NULL ? w->n : 0;
		}
		n++;
	}
	j->nparts = mon_cores() < n ? mon_cores() : n > 0 ? n : 1;
	qsort(load, (size_t)n, sizeof *load, mon_job_load_cmp);
	for (i = 0; i < n; i++) {
		for (best = 0, g = 1; g < j->nparts; g++)
			if (sum[g] < sum[best])
				best = g;
		j->part_of[load[i].g] = (signed char)best;
		sum[best] += load[i].n;
	}
	free(load);
}

/*
 * A fit of only_group, or the groups of indicators inds, on [from, to)
 * (predict_only: none, the current models) whose expected sums cover
 * [from, pto).
 */
static void
mon_job_fit_submit(struct monitor *mon, const struct series_set *set,
    int only_group, uint32_t inds, int32_t from, int32_t to, int32_t pto,
    int32_t week, bool predict_only)
{
	struct mon_job *j = xcalloc(1, sizeof *j);
	int ngroups = mon->ngroups, i;
	size_t cells;

	j->mon = mon;
	j->set = set;
	j->ind = mon->ind;
	j->nind = mon->nind;
	j->nbenefits = mon->nbenefits;
	j->max_offices = mon->max_offices;
	j->from = from;
	j->to = to;
	j->pto = pto > to ? pto : to;
	j->nweeks = j->pto > from ? j->pto - from : 0;
	j->week = week;
	j->ridge = mon->conf->ridge;
	j->fit.only_group = only_group;
	j->fit.inds = only_group >= 0 ? 0 : inds;
	j->fit.predict_only = predict_only;
	j->fit.from = from;
	j->fit.to = to;
	j->fit.pto = j->pto;
	j->data = xcalloc((size_t)ngroups, sizeof *j->data);
	j->old = xcalloc((size_t)ngroups, sizeof *j->old);
	j->fit.models = xcalloc((size_t)ngroups, sizeof *j->fit.models);
	j->fit.causes = xcalloc((size_t)ngroups, sizeof *j->fit.causes);
	for (i = 0; i < ngroups; i++) {
		if (mon_group_selected(mon, only_group, j->fit.inds, i)) {
			if (!predict_only)
				j->data[i] = model_data_create();
			j->old[i] = mon->groups[i].model;
		}
	}
	mon_job_parts(mon, j, ngroups);
	cells = (size_t)mon->nseries * (size_t)j->nweeks;
	j->fit.e = xcalloc(cells > 0 ? cells : 1, sizeof *j->fit.e);
	j->fit.v = xcalloc(cells > 0 ? cells : 1, sizeof *j->fit.v);
	j->fit.touched = xcalloc(cells > 0 ? cells : 1,
	    sizeof *j->fit.touched);
	/* Asked again when this fit fails (mon_fit_apply). */
	if (only_group >= 0)
		mon->groups[only_group].refit = false;
	mon_job_view(mon, j);
	worker_submit(mon->worker, mon_job_fit_run, mon_job_fit_done, j);
}

/*
 * The first fit's history: written on the loop, a slice per turn, so the
 * worker's part is empty; ingest waits as for any job.
 */
struct mon_fill {
	struct monitor		*mon;
	const struct series_set	*set;
	int32_t			 week;
	int			 n, g;		/* groups, the one filled now */
	int			 next;		/* its next series */
	uint32_t		 same[INDICATOR_MAX];
	int32_t			 from[INDICATOR_MAX];
};

static void
mon_job_fill_done(void *arg, bool apply)
{
	struct mon_fill *f = arg;
	uint64_t deadline = stall_now() + MON_SLICE_NS;

	while (apply && f->g < f->n) {
		if (!mon_fill_history(f->mon, f->set, f->same[f->g],
		    f->from[f->g], f->week, &f->next, deadline)) {
			worker_again(f->mon->worker);
			return;
		}
		/* Read off the loop; the rest follows in mon_fitted. */
		mon_job_fit(f->mon, f->set, -1, f->same[f->g], f->from[f->g],
		    f->week + 1, f->week);
		f->g++;
		f->next = 0;
	}
	free(f);
}

void
mon_job_fill(struct monitor *mon, const struct series_set *set,
    int32_t week, const uint32_t *same, const int32_t *from, int n)
{
	struct mon_fill *f = xcalloc(1, sizeof *f);

	f->mon = mon;
	f->set = set;
	f->week = week;
	f->n = n;
	memcpy(f->same, same, (size_t)n * sizeof *same);
	memcpy(f->from, from, (size_t)n * sizeof *from);
	worker_submit(mon->worker, NULL, mon_job_fill_done, f);
}

void
mon_job_fit(struct monitor *mon, const struct series_set *set,
    int only_group, uint32_t inds, int32_t from, int32_t to, int32_t week)
{
	mon_job_fit_submit(mon, set, only_group, inds, from, to,
	    to + MON_AHEAD, week, false);
}

void
mon_job_predict(struct monitor *mon, const struct series_set *set,
    int32_t from, int32_t to)
{
	mon_job_fit_submit(mon, set, -1, (1u << mon->nind) - 1, from, from,
	    to, mon->closed_week, true);
}

static void
mon_job_strata_cb(const struct record *rec, void *arg)
{
	struct mon_job *j = arg;
	struct model_x x;
	int32_t week;
	double p, y;
	int lv[MON_STRATA_ATTRS], i, c;

	if (rec->benefit != j->benefit || rec->kind != j->kind ||
	    (j->office != SERIES_NATIONAL && rec->office != j->office))
		return;
	/* The alert's indicator only, as ingest counted it. */
	c = indicator_classify(&j->ind.ind[j->indicator], rec->event,
	    rec->outcome, rec->detail);
	if (c != INDICATOR_YES && c != INDICATOR_NO)
		return;
	/* Up to the alarm's week, so that any arrival order agrees. */
	week = mon_job_week(&j->memo, rec->day);
	if (week < j->from || week > j->to || j->model == NULL)
		return;
	model_x_set(&x, rec->age, rec->sex, rec->diagnosis, rec->case_day,
	    rec->employment, rec->care, mon_job_woy(&j->memo, week));
	p = model_predict(j->model, &x);
	y = c == INDICATOR_YES;
	lv[0] = rec->age;
	lv[1] = rec->sex;
	lv[2] = rec->diagnosis;
	lv[3] = model_case_band(rec->case_day);
	lv[4] = rec->employment;
	lv[5] = rec->care;
	for (i = 0; i < MON_STRATA_ATTRS; i++) {
		if (lv[i] < 0 || lv[i] >= MON_STRATA_LEVELS)
			continue;
		j->sums.o[i][lv[i]] += y;
		j->sums.e[i][lv[i]] += p;
	}
}

static void
mon_job_strata_run(void *arg)
{
	struct mon_job *j = arg;
	double t0 = mon_job_now_ms();

	if (!j->viewed)
		return;
	mon_memo_reset(&j->memo);
	if (records_view_scan(&j->view, j->from * 7 - 3, mon_job_strata_cb,
	    j) == -1)
		j->scan_errno = errno;
	j->ms = mon_job_now_ms() - t0;
}

static void
mon_job_strata_done(void *arg, bool apply)
{
	struct mon_job *j = arg;
	struct mon_alert *ma;

	if (apply) {
		ma = &j->mon->alerts[j->alert];
		if (j->viewed && j->scan_errno == 0)
			mon_strata_apply(j->mon, ma, &j->sums);
		log_info("monitor: strata of %s read in %.0f ms", ma->a.id,
		    j->ms);
		/* The alert goes out with its strata. */
		if (j->emit)
			mon_alert_changed(j->mon, ma);
	}
	mon_job_free(j);
}

void
mon_job_strata(struct monitor *mon, struct mon_series *ms,
    struct mon_alert *ma, int32_t onset, int32_t last, bool emit)
{
	struct mon_job *j = xcalloc(1, sizeof *j);

	j->mon = mon;
	j->strata = true;
	j->ind = mon->ind;
	j->nind = mon->nind;
	j->nbenefits = mon->nbenefits;
	j->max_offices = mon->max_offices;
	j->alert = (int)(ma - mon->alerts);
	j->indicator = ms->ind;
	j->benefit = ms->benefit;
	j->kind = ms->kind;
	j->office = ms->office;
	j->from = onset;
	j->to = last;
	j->emit = emit;
	/* Alive until a later fit is applied, which waits for this job. */
	j->model = mon_group_of(mon, ms)->model;
	mon_job_view(mon, j);
	worker_submit(mon->worker, mon_job_strata_run, mon_job_strata_done, j);
}

/*
 * Items 0..n-1 of a job shared among the cores the loop leaves idle while
 * ingest waits for it: each thread takes the next item not yet taken, so
 * a costly item does not hold back the rest. Each item is pure and
 * written only by the thread that computes it, so the result does not
 * depend on how they were shared out. min: items worth a thread.
 */
struct mon_share {
	void		(*fn)(void *, int);
	void		*arg;
	int		 n;
	atomic_int	 next;
};

static void *
mon_share_run(void *arg)
{
	struct mon_share *sh = arg;
	int i;

	while ((i = atomic_fetch_add(&sh->next, 1)) < sh->n)
		sh->fn(sh->arg, i);
	return NULL;
}

/* The threads a job shares its items among: the cores, at most four. */
static int
mon_cores(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	return cpus < 1 ? 1 : cpus > MON_THR_THREADS ? MON_THR_THREADS :
	    (int)cpus;
}

static void
mon_share(void (*fn)(void *, int), void *arg, int n, int min)
{
	struct mon_share sh;
	pthread_t tid[MON_THR_THREADS];
	bool started[MON_THR_THREADS];
	int i, nt;

	sh.fn = fn;
	sh.arg = arg;
	sh.n = n;
	atomic_init(&sh.next, 0);
	nt = mon_cores();
	if (nt > n / min + 1)
		nt = n / min + 1;
	/* A thread that cannot start leaves its items to the others. */
	for (i = 1; i < nt; i++)
		started[i] = pthread_create(&tid[i], NULL, mon_share_run,
		    &sh) == 0;
	mon_share_run(&sh);
	for (i = 1; i < nt; i++)
		if (started[i])
			pthread_join(tid[i], NULL);
}

static void
mon_thr_one(void *arg, int i)
{
	struct mon_job *j = arg;

	mon_threshold_compute(&j->thr_prep.in[i], &j->thr_out[i]);
}

/* Ingest waits for this job: the thresholds apply at one position. */
static void
mon_job_thresholds_run(void *arg)
{
	struct mon_job *j = arg;
	double t0 = mon_job_now_ms();

	mon_share(mon_thr_one, j, j->nthr, 64);
	j->ms = mon_job_now_ms() - t0;
}

static void
mon_job_thresholds_done(void *arg, bool apply)
{
	struct mon_job *j = arg;

	if (apply) {
		log_info("monitor: thresholds of %d series computed in %.0f ms",
		    j->nthr, j->ms);
		mon_thresholds_apply(j->mon, j->thr_out);
		mon_thresholds_then(j->mon, j->then, j->group, j->week);
		if (j->mon->replaying)
			mon_replay_step(j->mon);
	}
	free(j->thr_prep.in);
	free(j->thr_out);
	free(j);
}

/* The inputs on the loop, a slice per turn; then the job proper. */
static void
mon_job_thresholds_prep(void *arg, bool apply)
{
	struct mon_job *j = arg;

	if (!apply) {
		mon_job_thresholds_done(j, false);
		return;
	}
	if (!mon_thresholds_prep_slice(j->mon, &j->thr_prep, stall_now() +
	    MON_SLICE_NS)) {
		worker_again(j->mon->worker);
		return;
	}
	worker_submit(j->mon->worker, mon_job_thresholds_run,
	    mon_job_thresholds_done, j);
}

void
mon_job_thresholds(struct monitor *mon, enum mon_thr_then then, int group,
    int32_t week)
{
	struct mon_job *j = xcalloc(1, sizeof *j);

	j->mon = mon;
	mon_thresholds_prep_start(mon, &j->thr_prep);
	j->nthr = mon->nseries;
	j->thr_out = xcalloc((size_t)j->nthr, sizeof *j->thr_out);
	j->then = then;
	j->group = group;
	j->week = week;
	worker_submit(mon->worker, NULL, mon_job_thresholds_prep, j);
}

/* Outstanding work is applied: what waited for it, then ingest. */
static void
mon_jobs_idle(void *arg)
{
	struct monitor *mon = arg;

	if (mon->explain_deferred) {
		mon->explain_deferred = false;
		monitor_explanations_changed(mon);
	}
	if (mon->resume_cb != NULL)
		mon->resume_cb(mon->resume_arg);
}

void
mon_jobs_start(struct monitor *mon, struct event_base *base)
{
	char *cause = NULL;

	mon->worker = worker_create(base, mon_jobs_idle, mon, &cause);
	if (mon->worker == NULL)
		fatalx("monitor: %s", cause);
}

void
mon_jobs_stop(struct monitor *mon)
{
	worker_free(mon->worker);
	mon->worker = NULL;
}

bool
mon_jobs_busy(const struct monitor *mon)
{
	return worker_pending(mon->worker) > 0;
}

void
mon_jobs_yield(struct monitor *mon)
{
	worker_yield(mon->worker);
}

void
monitor_settle(struct monitor *mon)
{
	worker_settle(mon->worker);
	if (mon->explain_deferred) {
		mon->explain_deferred = false;
		monitor_explanations_changed(mon);
	}
}

uint64_t
monitor_busy_ns(const struct monitor *mon)
{
	return mon->worker != NULL ? worker_busy_ns(mon->worker) : 0;
}

void
monitor_set_resume(struct monitor *mon, void (*cb)(void *), void *arg)
{
	mon->resume_cb = cb;
	mon->resume_arg = arg;
}
