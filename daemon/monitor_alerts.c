/*
 * The monitor's alert store: new alerts and their identity, what an
 * alert says about its change (onset, size, rates, decomposition), its
 * classification against the explanation registry, resolution, and the
 * funnel outlier alert. Each change is handed to the sinks once.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "conf.h"
#include "decision.h"
#include "explain.h"
#include "log.h"
#include "monitor_int.h"
#include "period.h"
#include "sink.h"
#include "xmalloc.h"

#define MON_BASELINE_WEEKS	13	/* raw rate before onset */
#define MON_MAX_ALERTS		10000

static const char *
mon_office_name(const struct monitor *mon, const struct series_set *set,
    int office)
{
	(void)mon;
	return office == SERIES_NATIONAL ? SERIES_NATIONAL_NAME :
	    series_office_name(set, office);
}

struct mon_alert *
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

/*
 * Hand a changed alert on, once per state change; an indicator whose
 * alerts are off keeps its alerts to show, and sends none.
 */
void
mon_alert_changed(struct monitor *mon, struct mon_alert *ma)
{
	int64_t now = clock_now();
	int ind = mon->series[ma->series].ind;

	ma->a.seq++;
	ma->a.updated_at = mon->watermark;
	ma->a.historical = mon->watermark < now -
	    mon->conf->historical_age_ms / 1000;
	/* A replay hands on only what it changed, when it is done. */
	if (!mon->replaying && mon->ind.ind[ind].alerts)
		sink_emit(&ma->a);
}

/*
 * An indicator's alerts were switched on (a reload): hand on its firing
 * alerts once, since they changed while nothing was sent for them.
 */
void
mon_alerts_switched_on(struct monitor *mon, int ind)
{
	int i;

	if (mon->replaying)
		return;
	for (i = 0; i < mon->nalerts; i++) {
		struct mon_alert *ma = &mon->alerts[i];

		if (mon->series[ma->series].ind == ind &&
		    ma->a.status == ALERT_FIRING)
			sink_emit(&ma->a);
	}
}

/* Classify against the registry; true when something changed. */
bool
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
	ncover = explain_match(mon->reg, ms->ind == INDICATOR_REJECTION ?
	    NULL : mon->ind.ind[ms->ind].name, a->office, ms->benefit,
	    ms->kind, ma->onset_day,
	    (int)mon_days(mon->conf->explain_before_ms),
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

/* Onset, size, rates and decomposition of a change since onset. */
void
mon_describe(struct monitor *mon, struct mon_series *ms, struct mon_alert *ma,
    int32_t onset, int32_t last)
{
	struct detect_size size;
	double o = 0, e = 0, n = 0, bo = 0, bn = 0;
	int32_t wk;

	for (wk = onset; wk <= last; wk++) {
		const struct mon_week *w = mon_hist_get(ms, wk);

		if (w == NULL)
			continue;
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
	mon_size(mon, ms, onset, last, &size);
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

/*
 * A new firing alert for a series: its identity (series, onset, the id
 * OFFICE.BENEFIT.KIND.ONSET.SUFFIX, prefixed NAME: for an indicator other
 * than rejection), method and times; the caller fills in the estimates.
 * ':' is not allowed in office names, so no prefixed id is a rejection's.
 */
struct mon_alert *
mon_alert_start(struct monitor *mon, const struct series_set *set,
    struct mon_series *ms, int32_t onset, bool up, const char *suffix,
    const char *method)
{
	struct mon_alert *ma = mon_alert_new(mon);
	struct alert *a = &ma->a;
	const struct indicator *ind;
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
	if (ms->ind == INDICATOR_REJECTION)
		snprintf(a->id, sizeof a->id, "%.32s.%.32s.%.8s.%.10s.%s",
		    a->office, a->benefit, a->kind, label, suffix);
	else {
		ind = &mon->ind.ind[ms->ind];
		snprintf(a->id, sizeof a->id, "%.32s:%.32s.%.32s.%.8s.%.10s.%s",
		    ind->name, a->office, a->benefit, a->kind, label, suffix);
		snprintf(a->indicator, sizeof a->indicator, "%s", ind->name);
		snprintf(a->indicator_label, sizeof a->indicator_label, "%s",
		    ind->label);
		snprintf(a->event, sizeof a->event, "%s",
		    decision_event_name(ind->event));
	}
	snprintf(a->method, sizeof a->method, "%s", method);
	a->status = ALERT_FIRING;
	a->scope = ms->office == SERIES_NATIONAL ? ALERT_NATIONAL :
	    ALERT_OFFICE;
	a->direction = up ? ALERT_UP : ALERT_DOWN;
	a->detected_at = mon->watermark;
	a->raised_at = clock_now();
	return ma;
}

void
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

/*
 * An alert for an office that sits outside the funnel limits: a lasting
 * difference from the nation (uniformity), not a change; only when
 * detector.outlier_alerts asks for it.
 */
void
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

/* A replayed alert: its strata are read, then it is handed on. */
static void
mon_alert_strata_after(struct monitor *mon, struct mon_alert *ma)
{
	if (strstr(ma->a.id, ".outlier") != NULL) {
		mon_alert_changed(mon, ma);
		return;
	}
	mon_job_strata(mon, &mon->series[ma->series], ma, ma->onset_week,
	    ma->alarm_week, true);
}

/* Whether two states of an alert differ in what a receiver is told. */
static bool
mon_alert_differs(const struct alert *a, const struct alert *b)
{
	return a->status != b->status ||
	    a->classification != b->classification ||
	    a->nexplanations != b->nexplanations ||
	    memcmp(a->explanations, b->explanations,
	    sizeof a->explanations) != 0;
}

/*
 * After a replay: the new store against the old one. An alert the replay
 * raised again keeps its identity (sequence, raised_at) and is handed on
 * only if its state changed; a new one is handed on; one the replay no
 * longer raises is dropped when it was never sent (historical), and
 * otherwise kept as resolved, so that whoever was told it fires hears
 * that it ended. old is freed.
 */
void
mon_alerts_replayed(struct monitor *mon, struct mon_alert *old, int nold)
{
	int i, j, nnew = mon->nalerts, kept = 0, added = 0, changed = 0;
	bool *found = xcalloc((size_t)nold + 1, sizeof *found);

	for (i = 0; i < nnew; i++) {
		struct mon_alert *ma = &mon->alerts[i];

		for (j = 0; j < nold; j++) {
			if (!found[j] && strcmp(old[j].a.id, ma->a.id) == 0)
				break;
		}
		if (j == nold) {
			/* Read its strata, then hand it on. */
			ma->a.seq = 0;
			mon_alert_strata_after(mon, ma);
			added++;
			continue;
		}
		found[j] = true;
		ma->a.raised_at = old[j].a.raised_at;
		ma->a.seq = old[j].a.seq;
		/* A replay classifies at the alarm: the history says when. */
		if (ma->a.classification == ALERT_EXPLAINED)
			ma->explained_at = old[j].explained_at;
		if (mon_alert_differs(&ma->a, &old[j].a)) {
			mon_alert_strata_after(mon, ma);
			changed++;
		} else {
			ma->a.updated_at = old[j].a.updated_at;
			memcpy(ma->a.strata, old[j].a.strata,
			    sizeof ma->a.strata);
			ma->a.nstrata = old[j].a.nstrata;
			kept++;
		}
	}
	for (j = 0; j < nold; j++) {
		struct mon_alert *ma;

		if (found[j] || old[j].a.historical ||
		    old[j].a.status == ALERT_RESOLVED)
			continue;
		ma = mon_alert_new(mon);
		*ma = old[j];
		ma->a.status = ALERT_RESOLVED;
		ma->a.resolved_at = mon->watermark;
		snprintf(ma->a.note, sizeof ma->a.note, "%s",
		    "withdrawn: late history changed the evaluation");
		mon_alert_changed(mon, ma);
	}
	log_notice("monitor: replay: %d alerts as before, %d changed, %d new, "
	    "%d withdrawn", kept, changed, added, nold - kept - changed);
	free(found);
	free(old);
}
