/*
 * The monitor's section of the checkpoint: models, reference windows,
 * every series' state, CUSUMs and weekly history, and the alert store,
 * field by field. Each version adds to the last; the loader reads them all.
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alert.h"
#include "buf.h"
#include "decision.h"
#include "detect.h"
#include "model.h"
#include "monitor_int.h"
#include "utf8.h"
#include "xmalloc.h"

/*
 * 1: the first. 2: replay state, thresholds, adjusted variances.
 * 3: alerts field by field (1 and 2 stored struct alert as raw bytes).
 * 4: each week's phase and when an alert was explained, for the charts.
 * 5: indicators: their number and each one's first regime after the
 *    header, the groups of all of them, and each alert's indicator. The
 *    series index holds the indicator (outermost), so rejection's series
 *    and groups keep the numbers of 4, which loads as rejection alone.
 * 6: the weekly history after the series, slot by slot (the order it is
 *    kept in memory, so that the writer reads it in sequence), an empty
 *    week as one byte.
 */
#define MON_SAVE_VERSION	6

/* A history week in version 6: empty, or its fields follow. */
#define MON_WEEK_EMPTY		0
#define MON_WEEK_HELD		1
/* A held week's bytes: the mark, week, n, o, e, v, oe, late, va, phase. */
#define MON_WEEK_HELD_SIZE	(1 + 3 * 4 + 3 * 8 + 4 + 8 + 1)

/*
 * struct alert as versions 1 and 2 stored it: its bytes on x86-64, as
 * the compiler laid it out then. Frozen here, so that a field added to
 * struct alert does not change how those checkpoints are read.
 */
struct mon_alert_raw {
	char		id[128];
	uint32_t	status;
	uint32_t	classification;
	uint32_t	scope;
	uint32_t	direction;
	char		office[72];
	char		benefit[72];
	char		kind[72];
	int64_t		detected_at;
	int64_t		raised_at;
	char		onset[16];
	double		baseline_rate;
	double		current_rate;
	double		expected_rate;
	double		odds_ratio;
	char		method[72];
	char		explanations[8][72];
	int32_t		nexplanations;
	uint8_t		historical;
	uint32_t	seq;
	int64_t		updated_at;
	int64_t		resolved_at;
	double		odds_ratio_lo;
	double		odds_ratio_hi;
	double		case_mix_part;
	double		practice_part;
	uint64_t	decisions;
	char		context[8][72];
	int32_t		ncontext;
	struct {
		char	name[72];
		double	share;
		double	odds_ratio;
		double	excess;
	}		strata[3];
	int32_t		nstrata;
	char		note[128];
};
#define MON_ALERT_RAW_SIZE	2152
_Static_assert(sizeof(struct mon_alert_raw) == MON_ALERT_RAW_SIZE,
    "the layout of versions 1 and 2 has changed");

/* A fixed-size string field: NUL-terminated within it, or -1. */
static int
mon_raw_str(char *dst, size_t dstsize, const char *src, size_t srcsize)
{
	size_t len = strnlen(src, srcsize);

	if (len == srcsize || len >= dstsize)
		return -1;
	memcpy(dst, src, len);
	dst[len] = '\0';
	return 0;
}

/* One alert as versions 1 and 2 stored it; -1 when it is damaged. */
static int
mon_load_alert_raw(struct buf_reader *r, struct alert *a)
{
	struct mon_alert_raw raw;
	int i, bad = 0;

	if (buf_get(r, &raw, sizeof raw) == -1)
		return -1;
	if (raw.status > ALERT_RESOLVED ||
	    raw.classification > ALERT_EXPLAINED ||
	    raw.scope > ALERT_NATIONAL || raw.direction > ALERT_DOWN ||
	    raw.historical > 1 ||
	    raw.nexplanations < 0 ||
	    raw.nexplanations > ALERT_MAX_EXPLANATIONS ||
	    raw.ncontext < 0 || raw.ncontext > ALERT_MAX_EXPLANATIONS ||
	    raw.nstrata < 0 || raw.nstrata > ALERT_MAX_STRATA)
		return -1;
	bad |= mon_raw_str(a->id, sizeof a->id, raw.id, sizeof raw.id);
	a->status = (enum alert_status)raw.status;
	a->classification = (enum alert_classification)raw.classification;
	a->scope = (enum alert_scope)raw.scope;
	a->direction = (enum alert_direction)raw.direction;
	bad |= mon_raw_str(a->office, sizeof a->office, raw.office,
	    sizeof raw.office);
	bad |= mon_raw_str(a->benefit, sizeof a->benefit, raw.benefit,
	    sizeof raw.benefit);
	bad |= mon_raw_str(a->kind, sizeof a->kind, raw.kind, sizeof raw.kind);
	a->detected_at = raw.detected_at;
	a->raised_at = raw.raised_at;
	bad |= mon_raw_str(a->onset, sizeof a->onset, raw.onset,
	    sizeof raw.onset);
	a->baseline_rate = raw.baseline_rate;
	a->current_rate = raw.current_rate;
	a->expected_rate = raw.expected_rate;
	a->odds_ratio = raw.odds_ratio;
	bad |= mon_raw_str(a->method, sizeof a->method, raw.method,
	    sizeof raw.method);
	a->nexplanations = raw.nexplanations;
	for (i = 0; i < raw.nexplanations; i++)
		bad |= mon_raw_str(a->explanations[i],
		    sizeof a->explanations[i], raw.explanations[i],
		    sizeof raw.explanations[i]);
	a->historical = raw.historical != 0;
	a->seq = raw.seq;
	a->updated_at = raw.updated_at;
	a->resolved_at = raw.resolved_at;
	a->odds_ratio_lo = raw.odds_ratio_lo;
	a->odds_ratio_hi = raw.odds_ratio_hi;
	a->case_mix_part = raw.case_mix_part;
	a->practice_part = raw.practice_part;
	a->decisions = raw.decisions;
	a->ncontext = raw.ncontext;
	for (i = 0; i < raw.ncontext; i++)
		bad |= mon_raw_str(a->context[i], sizeof a->context[i],
		    raw.context[i], sizeof raw.context[i]);
	a->nstrata = raw.nstrata;
	for (i = 0; i < raw.nstrata; i++) {
		bad |= mon_raw_str(a->strata[i].name, sizeof a->strata[i].name,
		    raw.strata[i].name, sizeof raw.strata[i].name);
		a->strata[i].share = raw.strata[i].share;
		a->strata[i].odds_ratio = raw.strata[i].odds_ratio;
		a->strata[i].excess = raw.strata[i].excess;
	}
	bad |= mon_raw_str(a->note, sizeof a->note, raw.note, sizeof raw.note);
	return bad ? -1 : 0;
}

/* One alert, field by field (version 3). */
static void
mon_save_alert(const struct alert *a, struct buf *b)
{
	int i;

	buf_put_str(b, a->id);
	buf_put_u8(b, (uint8_t)a->status);
	buf_put_u8(b, (uint8_t)a->classification);
	buf_put_u8(b, (uint8_t)a->scope);
	buf_put_u8(b, (uint8_t)a->direction);
	buf_put_str(b, a->office);
	buf_put_str(b, a->benefit);
	buf_put_str(b, a->kind);
	buf_put_i64(b, a->detected_at);
	buf_put_i64(b, a->raised_at);
	buf_put_str(b, a->onset);
	buf_put_double(b, a->baseline_rate);
	buf_put_double(b, a->current_rate);
	buf_put_double(b, a->expected_rate);
	buf_put_double(b, a->odds_ratio);
	buf_put_str(b, a->method);
	buf_put_u8(b, (uint8_t)a->nexplanations);
	for (i = 0; i < a->nexplanations; i++)
		buf_put_str(b, a->explanations[i]);
	buf_put_u8(b, a->historical);
	buf_put_u32(b, a->seq);
	buf_put_i64(b, a->updated_at);
	buf_put_i64(b, a->resolved_at);
	buf_put_double(b, a->odds_ratio_lo);
	buf_put_double(b, a->odds_ratio_hi);
	buf_put_double(b, a->case_mix_part);
	buf_put_double(b, a->practice_part);
	buf_put_u64(b, a->decisions);
	buf_put_u8(b, (uint8_t)a->ncontext);
	for (i = 0; i < a->ncontext; i++)
		buf_put_str(b, a->context[i]);
	buf_put_u8(b, (uint8_t)a->nstrata);
	for (i = 0; i < a->nstrata; i++) {
		buf_put_str(b, a->strata[i].name);
		buf_put_double(b, a->strata[i].share);
		buf_put_double(b, a->strata[i].odds_ratio);
		buf_put_double(b, a->strata[i].excess);
	}
	buf_put_str(b, a->note);
	buf_put_str(b, a->indicator);
	buf_put_str(b, a->indicator_label);
	buf_put_str(b, a->event);
}

/* What mon_save_alert wrote; -1 when it is short or out of range. */
static int
mon_load_alert(struct buf_reader *r, uint32_t version, struct alert *a)
{
	uint8_t status, classification, scope, direction, n, historical;
	int i;

	buf_get_str(r, a->id, sizeof a->id);
	buf_get_u8(r, &status);
	buf_get_u8(r, &classification);
	buf_get_u8(r, &scope);
	buf_get_u8(r, &direction);
	if (r->bad || status > ALERT_RESOLVED ||
	    classification > ALERT_EXPLAINED || scope > ALERT_NATIONAL ||
	    direction > ALERT_DOWN)
		return -1;
	a->status = (enum alert_status)status;
	a->classification = (enum alert_classification)classification;
	a->scope = (enum alert_scope)scope;
	a->direction = (enum alert_direction)direction;
	buf_get_str(r, a->office, sizeof a->office);
	buf_get_str(r, a->benefit, sizeof a->benefit);
	buf_get_str(r, a->kind, sizeof a->kind);
	buf_get_i64(r, &a->detected_at);
	buf_get_i64(r, &a->raised_at);
	buf_get_str(r, a->onset, sizeof a->onset);
	buf_get_double(r, &a->baseline_rate);
	buf_get_double(r, &a->current_rate);
	buf_get_double(r, &a->expected_rate);
	buf_get_double(r, &a->odds_ratio);
	buf_get_str(r, a->method, sizeof a->method);
	if (buf_get_u8(r, &n) == -1 || n > ALERT_MAX_EXPLANATIONS)
		return -1;
	a->nexplanations = n;
	for (i = 0; i < n; i++)
		buf_get_str(r, a->explanations[i], sizeof a->explanations[i]);
	if (buf_get_u8(r, &historical) == -1 || historical > 1)
		return -1;
	a->historical = historical != 0;
	buf_get_u32(r, &a->seq);
	buf_get_i64(r, &a->updated_at);
	buf_get_i64(r, &a->resolved_at);
	buf_get_double(r, &a->odds_ratio_lo);
	buf_get_double(r, &a->odds_ratio_hi);
	buf_get_double(r, &a->case_mix_part);
	buf_get_double(r, &a->practice_part);
	buf_get_u64(r, &a->decisions);
	if (buf_get_u8(r, &n) == -1 || n > ALERT_MAX_EXPLANATIONS)
		return -1;
	a->ncontext = n;
	for (i = 0; i < n; i++)
		buf_get_str(r, a->context[i], sizeof a->context[i]);
	if (buf_get_u8(r, &n) == -1 || n > ALERT_MAX_STRATA)
		return -1;
	a->nstrata = n;
	for (i = 0; i < n; i++) {
		buf_get_str(r, a->strata[i].name, sizeof a->strata[i].name);
		buf_get_double(r, &a->strata[i].share);
		buf_get_double(r, &a->strata[i].odds_ratio);
		buf_get_double(r, &a->strata[i].excess);
	}
	buf_get_str(r, a->note, sizeof a->note);
	if (version >= 5) {
		buf_get_str(r, a->indicator, sizeof a->indicator);
		buf_get_str(r, a->indicator_label, sizeof a->indicator_label);
		buf_get_str(r, a->event, sizeof a->event);
	}
	return r->bad ? -1 : 0;
}

/* Whether w is a slot never written since it was blanked. */
static bool
mon_week_empty(const struct mon_week *w)
{
	return w->week == INT32_MIN && w->n == 0 && w->o == 0 &&
	    w->late == 0 && w->e == 0 && w->v == 0 && w->oe == 0 &&
	    w->va == 0 && w->phase == 0 && !signbit(w->e) &&
	    !signbit(w->v) && !signbit(w->oe) && !signbit(w->va);
}

static void
mon_save_week(const struct mon_week *w, struct buf *b)
{
	unsigned char *x;

	if (mon_week_empty(w)) {
		buf_put_u8(b, MON_WEEK_EMPTY);
		return;
	}
	/* A checkpoint holds hundreds of thousands: room made once. */
	x = buf_room(b, MON_WEEK_HELD_SIZE);
	x = buf_store_u8(x, MON_WEEK_HELD);
	x = buf_store_u32(x, (uint32_t)w->week);
	x = buf_store_u32(x, w->n);
	x = buf_store_u32(x, w->o);
	x = buf_store_double(x, w->e);
	x = buf_store_double(x, w->v);
	x = buf_store_double(x, w->oe);
	x = buf_store_u32(x, w->late);
	x = buf_store_double(x, w->va);
	buf_stored(b, buf_store_u8(x, w->phase));
}

/* A week as version `version` stored it; -1 when it is damaged. */
static int
mon_load_week(struct buf_reader *r, uint32_t version, struct mon_week *w)
{
	uint32_t u32;
	uint8_t u8;

	if (version >= 6) {
		if (buf_get_u8(r, &u8) == -1 || u8 > MON_WEEK_HELD)
			return -1;
		if (u8 == MON_WEEK_EMPTY) {
			memset(w, 0, sizeof *w);
			w->week = INT32_MIN;
			return 0;
		}
	}
	buf_get_u32(r, &u32);
	w->week = (int32_t)u32;
	buf_get_u32(r, &w->n);
	buf_get_u32(r, &w->o);
	buf_get_double(r, &w->e);
	buf_get_double(r, &w->v);
	buf_get_double(r, &w->oe);
	if (version >= 2) {
		buf_get_u32(r, &w->late);
		buf_get_double(r, &w->va);
	} else
		w->va = w->v;
	/* Older weeks: unknown, which the chart says. */
	if (version >= 4) {
		buf_get_u8(r, &u8);
		w->phase = u8 <= MON_PHASE_LEARNING ? u8 : MON_PHASE_UNKNOWN;
	}
	return r->bad ? -1 : 0;
}

/*
 * The series used, in index order (the order they are saved in and
 * loaded back), into a new array; *n their number.
 */
static struct mon_series **
mon_series_used(struct monitor *mon, int *n)
{
	struct mon_series **used = xcalloc((size_t)mon->nseries + 1,
	    sizeof *used);
	int i;

	for (i = 0, *n = 0; i < mon->nseries; i++) {
		if (mon->series[i].used)
			used[(*n)++] = &mon->series[i];
	}
	return used;
}

void
mon_save(void *arg, struct buf *b)
{
	struct monitor *mon = arg;
	struct mon_series **used;
	int i, j, n;

	buf_put_u32(b, MON_SAVE_VERSION);
	buf_put_u32(b, (uint32_t)mon->nbenefits);
	buf_put_u32(b, (uint32_t)mon->max_offices);
	buf_put_u32(b, (uint32_t)mon->first[0].first_week);
	buf_put_u32(b, (uint32_t)mon->closed_week);
	buf_put_i64(b, mon->watermark);
	buf_put_i64(b, mon->last_look_day);
	buf_put_u8(b, mon->first[0].fitted);
	buf_put_u32(b, (uint32_t)mon->dirty_week);
	buf_put_u32(b, mon->late_unheld);
	buf_put_u8(b, mon->live);
	buf_put_u32(b, (uint32_t)mon->predicted_to);
	buf_put_u32(b, (uint32_t)mon->nind);
	for (i = 0; i < mon->nind; i++) {
		buf_put_u8(b, mon->first[i].fitted);
		buf_put_u32(b, (uint32_t)mon->first[i].first_week);
	}
	for (i = 0; i < mon->ngroups; i++) {
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
		buf_put_double(b, g->alpha_between);
	}
	used = mon_series_used(mon, &n);
	buf_put_u32(b, (uint32_t)n);
	for (i = 0; i < n; i++) {
		const struct mon_series *ms = used[i];

		buf_put_u32(b, (uint32_t)(ms - mon->series));
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
		buf_put_double(b, ms->moved);
		/* Thresholds take a while to compute: kept, not redone. */
		buf_put_double(b, ms->w);
		buf_put_double(b, ms->h);
		buf_put_double(b, ms->h_down);
		buf_put_double(b, ms->delay);
		buf_put_double(b, ms->detectable_or);
		buf_put_u8(b, (uint8_t)(ms->underpowered | ms->daily << 1 |
		    ms->small << 2));
		buf_put_double(b, ms->ref_v);
		buf_put_double(b, ms->ref_v2);
		detect_cusum_save(&ms->cusum, b);
		detect_cusum_save(&ms->back, b);
	}
	/*
	 * The history, a slot at a time: a slot's weeks of all series are
	 * side by side in memory, a series' weeks far apart.
	 */
	for (j = 0; j < MON_HIST; j++) {
		for (i = 0; i < n; i++)
			mon_save_week(&MON_HIST_AT(used[i], j), b);
	}
	free(used);
	buf_put_u32(b, (uint32_t)mon->nalerts);
	for (i = 0; i < mon->nalerts; i++) {
		struct mon_alert *ma = &mon->alerts[i];

		mon_save_alert(&ma->a, b);
		buf_put_u32(b, (uint32_t)ma->series);
		buf_put_u32(b, (uint32_t)ma->onset_week);
		buf_put_u32(b, (uint32_t)ma->onset_day);
		buf_put_u32(b, (uint32_t)ma->alarm_week);
		buf_put_i64(b, ma->explained_at);
	}
}

/* A C string within its array, and text that JSON can carry. */
#define MON_TERMINATED(s)	(memchr((s), '\0', sizeof (s)) != NULL && \
	utf8_valid((s), strlen(s)))

/*
 * An alert read back as raw bytes: every string within its array and
 * valid UTF-8 (alert_json treats anything else as a broken invariant),
 * every count and enum in range, or readers would run past them.
 */
static bool
mon_alert_sane(const struct alert *a)
{
	unsigned char historical;
	int i;

	/* A bool other than 0 or 1 may not even be loaded. */
	memcpy(&historical, &a->historical, 1);
	if (historical > 1)
		return false;

	if (!MON_TERMINATED(a->id) || !MON_TERMINATED(a->office) ||
	    !MON_TERMINATED(a->benefit) || !MON_TERMINATED(a->kind) ||
	    !MON_TERMINATED(a->onset) || !MON_TERMINATED(a->method) ||
	    !MON_TERMINATED(a->note) || !MON_TERMINATED(a->indicator) ||
	    !MON_TERMINATED(a->indicator_label) ||
	    !MON_TERMINATED(a->event) ||
	    (unsigned)a->status > ALERT_RESOLVED ||
	    (unsigned)a->classification > ALERT_EXPLAINED ||
	    (unsigned)a->scope > ALERT_NATIONAL ||
	    (unsigned)a->direction > ALERT_DOWN ||
	    a->nexplanations < 0 || a->nexplanations > ALERT_MAX_EXPLANATIONS ||
	    a->ncontext < 0 || a->ncontext > ALERT_MAX_EXPLANATIONS ||
	    a->nstrata < 0 || a->nstrata > ALERT_MAX_STRATA)
		return false;
	for (i = 0; i < ALERT_MAX_EXPLANATIONS; i++) {
		if (!MON_TERMINATED(a->explanations[i]) ||
		    !MON_TERMINATED(a->context[i]))
			return false;
	}
	for (i = 0; i < ALERT_MAX_STRATA; i++) {
		if (!MON_TERMINATED(a->strata[i].name))
			return false;
	}
	return true;
}

/* Whether an alert's indicator members are those of its series. */
static bool
mon_alert_indicator_ok(const struct monitor *mon, const struct mon_alert *ma)
{
	int ind = mon->series[ma->series].ind;

	if (ind == INDICATOR_REJECTION)
		return ma->a.indicator[0] == '\0';
	return strcmp(ma->a.indicator, mon->ind.ind[ind].name) == 0;
}

int
mon_load(void *arg, struct buf_reader *r, char **cause)
{
	struct monitor *mon = arg;
	uint32_t version, nb, maxo, u32, n, idx, na, nind = 1, prev = 0;
	uint8_t u8;
	int i, j, per, nused;

	buf_get_u32(r, &version);
	buf_get_u32(r, &nb);
	buf_get_u32(r, &maxo);
	/* Version 1 lacks what a replay and the adjusted V need. */
	if (r->bad || version < 1 || version > MON_SAVE_VERSION) {
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
	mon->first[0].first_week = (int32_t)u32;
	buf_get_u32(r, &u32);
	mon->closed_week = (int32_t)u32;
	buf_get_i64(r, &mon->watermark);
	buf_get_i64(r, &mon->last_look_day);
	buf_get_u8(r, &u8);
	mon->first[0].fitted = u8 != 0;
	if (version >= 2) {
		buf_get_u32(r, &u32);
		mon->dirty_week = (int32_t)u32;
		buf_get_u32(r, &mon->late_unheld);
		buf_get_u8(r, &u8);
		mon->live = u8 != 0;
		buf_get_u32(r, &u32);
		mon->predicted_to = (int32_t)u32;
	}
	/* Before 5, rejection alone: the header's fitted and first_week. */
	if (version >= 5) {
		if (buf_get_u32(r, &nind) == -1 || nind < 1 ||
		    nind > INDICATOR_MAX) {
			*cause = xstrdup("monitor: checkpoint indicators are "
			    "damaged");
			return -1;
		}
		if ((int)nind > mon->nind) {
			*cause = xasprintf("monitor: checkpoint holds %u "
			    "indicators; the configuration %d (indicators may "
			    "only be appended)", nind, mon->nind);
			return -1;
		}
		for (i = 0; i < (int)nind; i++) {
			buf_get_u8(r, &u8);
			mon->first[i].fitted = u8 != 0;
			buf_get_u32(r, &u32);
			mon->first[i].first_week = (int32_t)u32;
		}
	}
	for (i = 0; i < (int)nind * (int)nb * DECISION_NKINDS; i++) {
		/* Saved with its benefits, which may since have grown. */
		struct mon_group *g = mon_group(mon,
		    i / DECISION_NKINDS / (int)nb, i / DECISION_NKINDS %
		    (int)nb, i % DECISION_NKINDS);

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
		if (version >= 2)
			buf_get_double(r, &g->alpha_between);
	}
	per = mon->nseries / mon->nind;
	buf_get_u32(r, &n);
	for (j = 0; j < (int)n && !r->bad; j++) {
		struct mon_series *ms;

		if (buf_get_u32(r, &idx) == -1 ||
		    idx >= nind * (uint32_t)per)
			break;
		ms = &mon->series[idx];
		/*
		 * Written in rising order, each once; version 6 reads the
		 * weeks of the series used in that order, which are these
		 * alone since the monitor is blank (mon_blank) when it loads.
		 */
		if (ms->used || (j > 0 && idx <= prev))
			break;
		prev = idx;
		ms->used = true;
		ms->ind = (int)idx / per;
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
		if (version >= 2) {
			buf_get_double(r, &ms->moved);
			buf_get_double(r, &ms->w);
			buf_get_double(r, &ms->h);
			buf_get_double(r, &ms->h_down);
			buf_get_double(r, &ms->delay);
			buf_get_double(r, &ms->detectable_or);
			/* Saved before the cap (detect.h): none, as now. */
			if (ms->detectable_or > DETECT_OR_MAX)
				ms->detectable_or = INFINITY;
			buf_get_u8(r, &u8);
			ms->underpowered = (u8 & 1) != 0;
			ms->daily = (u8 & 2) != 0;
			ms->small = (u8 & 4) != 0;
			buf_get_double(r, &ms->ref_v);
			buf_get_double(r, &ms->ref_v2);
		} else
			ms->moved = ms->size;
		if (detect_cusum_load(&ms->cusum, r, cause) == -1 ||
		    detect_cusum_load(&ms->back, r, cause) == -1)
			return -1;
		/* Before 6, each series' weeks follow it. */
		for (i = 0; version < 6 && i < MON_HIST; i++) {
			if (mon_load_week(r, version, &MON_HIST_AT(ms,
			    i)) == -1)
				break;
		}
		if (ms->benefit < 0 || ms->benefit >= mon->nbenefits ||
		    ms->kind < 0 || ms->kind >= DECISION_NKINDS ||
		    ms->office < SERIES_NATIONAL ||
		    ms->office >= mon->max_offices ||
		    mon_index(mon, ms->ind, ms->office, ms->benefit, ms->kind) !=
		    (int)idx)
			break;
	}
	if (r->bad || j != (int)n) {
		*cause = xstrdup("monitor: checkpoint series are damaged");
		return -1;
	}
	/* 6: then the weeks, slot by slot, of the series in index order. */
	if (version >= 6) {
		struct mon_series **used = mon_series_used(mon, &nused);

		for (j = 0; j < MON_HIST && !r->bad; j++) {
			for (i = 0; i < nused && !r->bad; i++) {
				if (mon_load_week(r, version,
				    &MON_HIST_AT(used[i], j)) == -1)
					r->bad = true;
			}
		}
		free(used);
	}
	if (r->bad) {
		*cause = xstrdup("monitor: checkpoint history is damaged");
		return -1;
	}
	buf_get_u32(r, &na);
	for (i = 0; i < (int)na && !r->bad; i++) {
		struct mon_alert *ma = mon_alert_new(mon);

		if ((version >= 3 ? mon_load_alert(r, version, &ma->a) :
		    mon_load_alert_raw(r, &ma->a)) == -1 ||
		    !mon_alert_sane(&ma->a))
			break;
		buf_get_u32(r, &u32);
		ma->series = (int)u32;
		buf_get_u32(r, &u32);
		ma->onset_week = (int32_t)u32;
		buf_get_u32(r, &u32);
		ma->onset_day = (int32_t)u32;
		if (version >= 2) {
			buf_get_u32(r, &u32);
			ma->alarm_week = (int32_t)u32;
		} else
			ma->alarm_week = ma->onset_week;
		if (version >= 4)
			buf_get_i64(r, &ma->explained_at);
		if (ma->series < 0 || ma->series >= mon->nseries ||
		    !mon_alert_indicator_ok(mon, ma))
			break;
	}
	if (r->bad || i != (int)na) {
		*cause = xstrdup("monitor: checkpoint alerts are damaged");
		return -1;
	}
	for (i = 0; i < mon->nseries; i++) {
		if (mon->series[i].alert < -1 ||
		    mon->series[i].alert >= mon->nalerts)
			mon->series[i].alert = -1;
		if (mon->series[i].outlier_alert < -1 ||
		    mon->series[i].outlier_alert >= mon->nalerts)
			mon->series[i].outlier_alert = -1;
	}
	/* Version 1 did not keep them. */
	if (version < 2)
		mon_thresholds(mon);
	return 0;
}
