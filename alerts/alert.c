/*
 * Alert names and the contract §3 JSON body. Times are UTC RFC 3339.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "alert.h"
#include "utc.h"
#include "log.h"
#include "xmalloc.h"

const char *
alert_status_name(enum alert_status s)
{
	return s == ALERT_FIRING ? "firing" : "resolved";
}

const char *
alert_classification_name(enum alert_classification c)
{
	return c == ALERT_EXPLAINED ? "explained" : "unexplained";
}

const char *
alert_scope_name(enum alert_scope s)
{
	return s == ALERT_NATIONAL ? "national" : "office";
}

const char *
alert_direction_name(enum alert_direction d)
{
	return d == ALERT_DOWN ? "down" : "up";
}

const char *
alert_indicator(const struct alert *a)
{
	return a->indicator[0] != '\0' ? a->indicator : "rejection";
}



/* RFC 3339 UTC, or JSON null for 0. */
static json_t *
alert_json_time(int64_t t)
{
	char buf[UTC_TIME_SIZE];

	if (t == 0)
		return json_null();
	(void)utc_format(t, buf);
	return json_string(buf);
}

static json_t *
alert_json_names(const char (*names)[ALERT_NAME_MAX], int n)
{
	json_t *a = json_array();
	int i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, json_string(names[i]));
	return a;
}

/* JSON has no infinities: a figure that is not finite goes out as 0. */
static double
alert_num(double v)
{
	return isfinite(v) ? v : 0;
}

json_t *
alert_json(const struct alert *a, const char *base_url)
{
	json_t *o, *strata;
	char *url;
	int i;

	/* Another indicator's series is its own, not rejection's. */
	url = xasprintf("%s/v1/series/%s/%s/%s%s%s",
	    base_url != NULL ? base_url : "", a->office,
	    a->benefit, a->kind, a->indicator[0] != '\0' ? "?indicator=" : "",
	    a->indicator);
	strata = json_array();
	for (i = 0; i < a->nstrata; i++)
		json_array_append_new(strata, json_pack("{s:s, s:f, s:f, s:f}",
		    "stratum", a->strata[i].name,
		    "share", alert_num(a->strata[i].share),
		    "odds_ratio", alert_num(a->strata[i].odds_ratio),
		    "excess", alert_num(a->strata[i].excess)));
	o = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s}, "
	    "s:o, s:o, s:s, s:f, s:f, s:f, s:f, s:s, s:o, s:s}",
	    "version", 1,
	    "alert_id", a->id,
	    "status", alert_status_name(a->status),
	    "classification", alert_classification_name(a->classification),
	    "scope", alert_scope_name(a->scope),
	    "direction", alert_direction_name(a->direction),
	    "series", "office", a->office, "benefit", a->benefit,
	    "kind", a->kind,
	    "detected_at", alert_json_time(a->detected_at),
	    "raised_at", alert_json_time(a->raised_at),
	    "onset", a->onset,
	    "baseline_rate", alert_num(a->baseline_rate),
	    "current_rate", alert_num(a->current_rate),
	    "expected_rate", alert_num(a->expected_rate),
	    "odds_ratio", alert_num(a->odds_ratio),
	    "method", a->method,
	    "explanations", alert_json_names(a->explanations,
	    a->nexplanations),
	    "status_url", url);
	free(url);
	if (o == NULL)
		fatalx("alert: cannot build JSON for %s", a->id);
	json_object_set_new(o, "seq", json_integer(a->seq));
	json_object_set_new(o, "updated_at", alert_json_time(a->updated_at));
	json_object_set_new(o, "resolved_at", alert_json_time(a->resolved_at));
	json_object_set_new(o, "historical", json_boolean(a->historical));
	/* An interval without an end (no information) has null there. */
	json_object_set_new(o, "odds_ratio_ci", json_pack("[o, o]",
	    isfinite(a->odds_ratio_lo) ? json_real(a->odds_ratio_lo) :
	    json_null(), isfinite(a->odds_ratio_hi) ?
	    json_real(a->odds_ratio_hi) : json_null()));
	json_object_set_new(o, "decomposition", json_pack("{s:f, s:f}",
	    "case_mix", alert_num(a->case_mix_part),
	    "practice", alert_num(a->practice_part)));
	json_object_set_new(o, "decisions_since_onset",
	    json_integer((json_int_t)a->decisions));
	json_object_set_new(o, "context", alert_json_names(a->context,
	    a->ncontext));
	json_object_set_new(o, "strata", strata);
	if (a->note[0] != '\0')
		json_object_set_new(o, "note", json_string(a->note));
	/* Rejection's alerts keep the body of contract §3 as it was. */
	if (a->indicator[0] != '\0') {
		json_object_set_new(o, "indicator", json_string(a->indicator));
		json_object_set_new(o, "indicator_label",
		    json_string(a->indicator_label));
		json_object_set_new(o, "event", json_string(a->event));
	}
	return o;
}

char *
alert_to_json(const struct alert *a, const char *base_url)
{
	json_t *o = alert_json(a, base_url);
	char *out;

	out = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (out == NULL)
		fatalx("alert: cannot encode JSON for %s", a->id);
	return out;
}

/* Copy a string member into dst; -1 if absent, not a string or too long. */
static int
alert_get_text(const json_t *o, const char *key, char *dst, size_t size)
{
	const char *v = json_string_value(json_object_get(o, key));

	if (v == NULL || strlen(v) >= size)
		return -1;
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

static int
alert_get_number(const json_t *o, const char *key, double *v)
{
	const json_t *j = json_object_get(o, key);

	if (!json_is_number(j))
		return -1;
	*v = json_number_value(j);
	return 0;
}

/* A time member: RFC 3339 or null (0). */
static int
alert_get_time(const json_t *o, const char *key, int64_t *t)
{
	const json_t *j = json_object_get(o, key);

	if (json_is_null(j)) {
		*t = 0;
		return 0;
	}
	if (!json_is_string(j))
		return -1;
	return utc_parse(json_string_value(j), t);
}

static int
alert_get_names(const json_t *o, const char *key,
    char (*names)[ALERT_NAME_MAX], int *n)
{
	const json_t *arr = json_object_get(o, key), *v;
	size_t i;

	*n = 0;
	if (!json_is_array(arr) || json_array_size(arr) > ALERT_MAX_EXPLANATIONS)
		return -1;
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v) ||
		    strlen(json_string_value(v)) >= ALERT_NAME_MAX)
			return -1;
		snprintf(names[*n], ALERT_NAME_MAX, "%s", json_string_value(v));
		(*n)++;
	}
	return 0;
}

/* One of two names: 0 for first, 1 for second, -1 for neither. */
static int
alert_get_choice(const json_t *o, const char *key, const char *first,
    const char *second)
{
	const char *v = json_string_value(json_object_get(o, key));

	if (v == NULL)
		return -1;
	if (strcmp(v, first) == 0)
		return 0;
	return strcmp(v, second) == 0 ? 1 : -1;
}

int
alert_from_json(const json_t *o, struct alert *a)
{
	const json_t *series, *ci, *dec, *strata, *s, *j;
	int status, cls, scope, dir;
	size_t i;

	memset(a, 0, sizeof *a);
	series = json_object_get(o, "series");
	ci = json_object_get(o, "odds_ratio_ci");
	dec = json_object_get(o, "decomposition");
	strata = json_object_get(o, "strata");
	status = alert_get_choice(o, "status", "firing", "resolved");
	cls = alert_get_choice(o, "classification", "unexplained",
	    "explained");
	scope = alert_get_choice(o, "scope", "office", "national");
	dir = alert_get_choice(o, "direction", "up", "down");
	if (!json_is_object(o) || !json_is_object(series) ||
	    status == -1 || cls == -1 || scope == -1 || dir == -1 ||
	    alert_get_text(o, "alert_id", a->id, sizeof a->id) == -1 ||
	    alert_get_text(series, "office", a->office, sizeof a->office) ==
	    -1 ||
	    alert_get_text(series, "benefit", a->benefit, sizeof a->benefit) ==
	    -1 ||
	    alert_get_text(series, "kind", a->kind, sizeof a->kind) == -1 ||
	    alert_get_text(o, "onset", a->onset, sizeof a->onset) == -1 ||
	    alert_get_text(o, "method", a->method, sizeof a->method) == -1 ||
	    alert_get_time(o, "detected_at", &a->detected_at) == -1 ||
	    alert_get_time(o, "raised_at", &a->raised_at) == -1 ||
	    alert_get_time(o, "updated_at", &a->updated_at) == -1 ||
	    alert_get_time(o, "resolved_at", &a->resolved_at) == -1 ||
	    alert_get_number(o, "baseline_rate", &a->baseline_rate) == -1 ||
	    alert_get_number(o, "current_rate", &a->current_rate) == -1 ||
	    alert_get_number(o, "expected_rate", &a->expected_rate) == -1 ||
	    alert_get_number(o, "odds_ratio", &a->odds_ratio) == -1 ||
	    alert_get_names(o, "explanations", a->explanations,
	    &a->nexplanations) == -1 ||
	    alert_get_names(o, "context", a->context, &a->ncontext) == -1 ||
	    !json_is_integer(json_object_get(o, "seq")) ||
	    !json_is_boolean(json_object_get(o, "historical")) ||
	    !json_is_array(ci) || json_array_size(ci) != 2 ||
	    !json_is_number(json_array_get(ci, 0)) ||
	    !json_is_number(json_array_get(ci, 1)) ||
	    !json_is_object(dec) ||
	    alert_get_number(dec, "case_mix", &a->case_mix_part) == -1 ||
	    alert_get_number(dec, "practice", &a->practice_part) == -1 ||
	    !json_is_integer(json_object_get(o, "decisions_since_onset")) ||
	    !json_is_array(strata) || json_array_size(strata) > ALERT_MAX_STRATA)
		return -1;
	a->status = status == 0 ? ALERT_FIRING : ALERT_RESOLVED;
	a->classification = cls == 0 ? ALERT_UNEXPLAINED : ALERT_EXPLAINED;
	a->scope = scope == 0 ? ALERT_OFFICE : ALERT_NATIONAL;
	a->direction = dir == 0 ? ALERT_UP : ALERT_DOWN;
	a->seq = (uint32_t)json_integer_value(json_object_get(o, "seq"));
	a->historical = json_is_true(json_object_get(o, "historical"));
	a->odds_ratio_lo = json_number_value(json_array_get(ci, 0));
	a->odds_ratio_hi = json_number_value(json_array_get(ci, 1));
	a->decisions = (uint64_t)json_integer_value(json_object_get(o,
	    "decisions_since_onset"));
	json_array_foreach(strata, i, s) {
		struct alert_stratum *st = &a->strata[a->nstrata];

		if (alert_get_text(s, "stratum", st->name, sizeof st->name) ==
		    -1 || alert_get_number(s, "share", &st->share) == -1 ||
		    alert_get_number(s, "odds_ratio", &st->odds_ratio) == -1 ||
		    alert_get_number(s, "excess", &st->excess) == -1)
			return -1;
		a->nstrata++;
	}
	if ((j = json_object_get(o, "note")) != NULL &&
	    alert_get_text(o, "note", a->note, sizeof a->note) == -1)
		return -1;
	/* Absent: rejection. */
	if (json_object_get(o, "indicator") != NULL &&
	    (alert_get_text(o, "indicator", a->indicator,
	    sizeof a->indicator) == -1 ||
	    alert_get_text(o, "indicator_label", a->indicator_label,
	    sizeof a->indicator_label) == -1 ||
	    alert_get_text(o, "event", a->event, sizeof a->event) == -1))
		return -1;
	return 0;
}
