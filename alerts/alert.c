/*
 * Alert names and the contract §3 JSON body. Times are UTC RFC 3339.
 */
#include <stdio.h>
#include <stdlib.h>
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

json_t *
alert_json(const struct alert *a, const char *base_url)
{
	json_t *o, *strata;
	char *url;
	int i;

	url = xasprintf("%s/v1/series/%s/%s/%s", base_url, a->office,
	    a->benefit, a->kind);
	strata = json_array();
	for (i = 0; i < a->nstrata; i++)
		json_array_append_new(strata, json_pack("{s:s, s:f, s:f, s:f}",
		    "stratum", a->strata[i].name, "share", a->strata[i].share,
		    "odds_ratio", a->strata[i].odds_ratio,
		    "excess", a->strata[i].excess));
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
	    "baseline_rate", a->baseline_rate,
	    "current_rate", a->current_rate,
	    "expected_rate", a->expected_rate,
	    "odds_ratio", a->odds_ratio,
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
	json_object_set_new(o, "odds_ratio_ci", json_pack("[f, f]",
	    a->odds_ratio_lo, a->odds_ratio_hi));
	json_object_set_new(o, "decomposition", json_pack("{s:f, s:f}",
	    "case_mix", a->case_mix_part, "practice", a->practice_part));
	json_object_set_new(o, "decisions_since_onset",
	    json_integer((json_int_t)a->decisions));
	json_object_set_new(o, "context", alert_json_names(a->context,
	    a->ncontext));
	json_object_set_new(o, "strata", strata);
	if (a->note[0] != '\0')
		json_object_set_new(o, "note", json_string(a->note));
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
