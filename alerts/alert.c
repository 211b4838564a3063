/*
 * Alert names and the contract §3 JSON body. Times are UTC RFC 3339.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <jansson.h>

#include "alert.h"
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

static void
alert_time(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

char *
alert_to_json(const struct alert *a, const char *base_url)
{
	json_t *o, *expl;
	char detected[32], raised[32], *url, *out;
	int i;

	alert_time(a->detected_at, detected, sizeof detected);
	alert_time(a->raised_at, raised, sizeof raised);
	url = xasprintf("%s/v1/series/%s/%s/%s", base_url, a->office,
	    a->benefit, a->kind);
	expl = json_array();
	for (i = 0; i < a->nexplanations; i++)
		json_array_append_new(expl, json_string(a->explanations[i]));
	o = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s}, "
	    "s:s, s:s, s:s, s:f, s:f, s:f, s:f, s:s, s:o, s:s}",
	    "version", 1,
	    "alert_id", a->id,
	    "status", alert_status_name(a->status),
	    "classification", alert_classification_name(a->classification),
	    "scope", alert_scope_name(a->scope),
	    "direction", alert_direction_name(a->direction),
	    "series", "office", a->office, "benefit", a->benefit,
	    "kind", a->kind,
	    "detected_at", detected,
	    "raised_at", raised,
	    "onset", a->onset,
	    "baseline_rate", a->baseline_rate,
	    "current_rate", a->current_rate,
	    "expected_rate", a->expected_rate,
	    "odds_ratio", a->odds_ratio,
	    "method", a->method,
	    "explanations", expl,
	    "status_url", url);
	free(url);
	if (o == NULL)
		fatalx("alert: cannot build JSON for %s", a->id);
	out = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (out == NULL)
		fatalx("alert: cannot encode JSON for %s", a->id);
	return out;
}
