/*
 * The indicator table: the built-in rejection rate and the configured
 * indicators, with per event kind the list of indicators it may count in,
 * so that an event is classified against its own indicators only.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "decision.h"
#include "indicator.h"
#include "xmalloc.h"

#define INDICATOR_BIT(v)	((uint16_t)(1u << (v)))

/* The items of a comma list as bits: outcomes or detail values of event. */
static int
indicators_bits(const char *name, const char *key, const char *list,
    int event, bool detail, uint16_t *bits, char **cause)
{
	const char *p = list, *s;
	char item[32];
	size_t len;
	int v;

	*bits = 0;
	while (conf_list_next(&p, &s, &len)) {
		if (len >= sizeof item)
			len = sizeof item - 1;
		memcpy(item, s, len);
		item[len] = '\0';
		if (detail)
			v = decision_detail_parse(event, item);
		else
			v = decision_outcome_parse(event, item);
		if (v == -1) {
			*cause = xasprintf("indicator '%s': %s: unknown value "
			    "'%s'", name, key, item);
			return -1;
		}
		*bits |= INDICATOR_BIT(v);
	}
	return 0;
}

/* Copy s into a buffer of max + 1 bytes, or fail. */
static int
indicators_copy(const char *name, const char *what, const char *s,
    char *out, size_t max, char **cause)
{
	if (strlen(s) > max) {
		*cause = xasprintf("indicator '%s': %s longer than %zu bytes",
		    name, what, max);
		return -1;
	}
	strcpy(out, s);
	return 0;
}

/* The stream's index in t->streams, added when new. */
static int
indicators_stream_add(struct indicators *t, const char *name,
    const char *key, char **cause)
{
	int k;

	if ((k = indicators_stream_find(t, key)) != -1)
		return k;
	if (indicators_copy(name, "stream", key, t->streams[t->nstreams],
	    INDICATOR_STREAM_MAX, cause) == -1)
		return -1;
	return t->nstreams++;
}

static int
indicators_add_rejection(struct indicators *t, const struct conf *c,
    char **cause)
{
	struct indicator *ind = &t->ind[0];

	strcpy(ind->name, INDICATOR_REJECTION_NAME);
	strcpy(ind->label, "rejection rate");
	ind->event = EVENT_DECISION;
	ind->field = INDICATOR_FIELD_OUTCOME;
	ind->yes = INDICATOR_BIT(OUTCOME_REJECTED);
	ind->no = INDICATOR_BIT(OUTCOME_GRANTED) |
	    INDICATOR_BIT(OUTCOME_PARTIAL);
	ind->design_or_office = c->design_or_office;
	ind->design_or_national = c->design_or_national;
	ind->alerts = true;
	ind->budget_weight = 1;
	if ((ind->stream = indicators_stream_add(t, ind->name,
	    c->stream != NULL ? c->stream : "", cause)) == -1)
		return -1;
	t->n = 1;
	return 0;
}

static int
indicators_add(struct indicators *t, const struct conf *c,
    const struct conf_indicator *ci, char **cause)
{
	struct indicator *ind = &t->ind[t->n];
	const char *name = ci->name != NULL ? ci->name : "";
	const char *detail_key;
	char label[INDICATOR_NAME_MAX + 8];

	if (indicators_copy(name, "name", name, ind->name, INDICATOR_NAME_MAX,
	    cause) == -1)
		return -1;
	if (ind->name[0] == '\0' || indicators_find(t, ind->name) != -1 ||
	    strcmp(ind->name, "all") == 0) {
		*cause = xasprintf("indicator '%s': name taken", name);
		return -1;
	}
	if ((ind->event = decision_event_parse(ci->event)) == -1) {
		*cause = xasprintf("indicator '%s': event: unknown value '%s'",
		    name, ci->event != NULL ? ci->event : "");
		return -1;
	}
	detail_key = decision_detail_key(ind->event);
	if (ci->field == NULL || strcmp(ci->field, "outcome") == 0)
		ind->field = INDICATOR_FIELD_OUTCOME;
	else if (ind->event == EVENT_DECISION &&
	    strcmp(ci->field, detail_key) == 0)
		ind->field = INDICATOR_FIELD_DETAIL;
	else {
		*cause = xasprintf("indicator '%s': field: unknown value '%s'",
		    name, ci->field);
		return -1;
	}
	if (ci->yes == NULL || ci->no == NULL) {
		*cause = xasprintf("indicator '%s': %s: missing", name,
		    ci->yes == NULL ? "yes" : "no");
		return -1;
	}
	if (indicators_bits(name, "yes", ci->yes, ind->event,
	    ind->field == INDICATOR_FIELD_DETAIL, &ind->yes, cause) == -1 ||
	    indicators_bits(name, "no", ci->no, ind->event,
	    ind->field == INDICATOR_FIELD_DETAIL, &ind->no, cause) == -1)
		return -1;
	if (ind->yes == 0 || ind->no == 0 || (ind->yes & ind->no) != 0) {
		*cause = xasprintf("indicator '%s': yes and no must be "
		    "non-empty and apart", name);
		return -1;
	}
	if (ci->checkpoint != NULL || ci->changed_to != NULL) {
		const char *key = ci->checkpoint != NULL ? "checkpoint" :
		    "changed_to";

		if (ci->checkpoint != NULL && ci->changed_to != NULL) {
			*cause = xasprintf("indicator '%s': checkpoint and "
			    "changed_to together", name);
			return -1;
		}
		if (detail_key == NULL || strcmp(detail_key, key) != 0 ||
		    ind->field == INDICATOR_FIELD_DETAIL) {
			*cause = xasprintf("indicator '%s': %s does not apply "
			    "to %s", name, key, decision_event_noun(ind->event));
			return -1;
		}
		if (indicators_bits(name, key, ci->checkpoint != NULL ?
		    ci->checkpoint : ci->changed_to, ind->event, true,
		    &ind->details, cause) == -1)
			return -1;
	}
	snprintf(label, sizeof label, "%s rate", ind->name);
	if (indicators_copy(name, "label", ci->label != NULL ? ci->label :
	    label, ind->label, INDICATOR_LABEL_MAX, cause) == -1 ||
	    indicators_copy(name, "description", ci->description != NULL ?
	    ci->description : "", ind->description,
	    INDICATOR_DESCRIPTION_MAX, cause) == -1)
		return -1;
	ind->design_or_office = ci->design_or_office > 0 ?
	    ci->design_or_office : c->design_or_office;
	ind->design_or_national = ci->design_or_national > 0 ?
	    ci->design_or_national : c->design_or_national;
	ind->alerts = !ci->alerts_off;
	ind->budget_weight = ci->budget_weight > 0 ? ci->budget_weight : 1;
	if ((ind->stream = indicators_stream_add(t, name, ci->stream != NULL ?
	    ci->stream : t->streams[0], cause)) == -1)
		return -1;
	ind->line = ci->line;
	t->n++;
	return 0;
}

/* The kind of an entry without `event` on stream k (stream_event). */
static int
indicators_stream_kind(const struct indicators *t, int k)
{
	int i, event = -1;

	if (k == 0)
		return EVENT_DECISION;
	for (i = 0; i < t->n; i++) {
		if (t->ind[i].stream != k)
			continue;
		if (event != -1 && event != t->ind[i].event)
			return -1;
		event = t->ind[i].event;
	}
	return event;
}

int
indicators_from_conf(struct indicators *t, const struct conf *c,
    char **cause)
{
	int e, i, k;

	memset(t, 0, sizeof *t);
	*cause = NULL;
	if (c->nindicators < 0 || c->nindicators > CONF_MAX_INDICATORS) {
		*cause = xasprintf("more than %d indicators",
		    CONF_MAX_INDICATORS);
		return -1;
	}
	if (indicators_add_rejection(t, c, cause) == -1)
		return -1;
	for (i = 0; i < c->nindicators; i++) {
		if (indicators_add(t, c, &c->indicators[i], cause) == -1)
			return -1;
	}
	for (i = 0; i < t->n; i++) {
		e = t->ind[i].event;
		t->of_event[e][t->nof_event[e]++] = (uint8_t)i;
	}
	for (k = 0; k < t->nstreams; k++)
		t->stream_event[k] = indicators_stream_kind(t, k);
	return 0;
}

int
indicators_find(const struct indicators *t, const char *name)
{
	int i;

	for (i = 0; i < t->n; i++) {
		if (strcmp(t->ind[i].name, name) == 0)
			return i;
	}
	return -1;
}

enum indicator_class
indicator_classify(const struct indicator *ind, int event, int outcome,
    int detail)
{
	int v;

	if (event != ind->event || detail < 0 || detail >= DECISION_NDETAILS ||
	    outcome < 0 || outcome >= DECISION_NOUTCOMES)
		return INDICATOR_NOT;
	if (ind->details != 0 && (ind->details & INDICATOR_BIT(detail)) == 0)
		return INDICATOR_NOT;
	v = ind->field == INDICATOR_FIELD_DETAIL ? detail : outcome;
	if (ind->yes & INDICATOR_BIT(v))
		return INDICATOR_YES;
	if (ind->no & INDICATOR_BIT(v))
		return INDICATOR_NO;
	return INDICATOR_EXCLUDED;
}

int
indicators_of(const struct indicators *t, int event, int outcome, int detail,
    int inds[INDICATOR_MAX], int ys[INDICATOR_MAX])
{
	const struct indicator *ind;
	int i, k, n = 0, y;

	if (event < 0 || event >= DECISION_NEVENTS)
		return 0;
	for (i = 0; i < t->nof_event[event]; i++) {
		k = t->of_event[event][i];
		ind = &t->ind[k];
		if ((y = indicator_classify(ind, event, outcome, detail)) ==
		    INDICATOR_NOT)
			continue;
		inds[n] = k;
		ys[n++] = y;
	}
	return n;
}

int
indicator_series_outcome(int ind, int y, int outcome)
{
	if (ind == INDICATOR_REJECTION)
		return outcome;
	switch (y) {
	case INDICATOR_YES:
		return OUTCOME_REJECTED;
	case INDICATOR_NO:
		return OUTCOME_GRANTED;
	default:
		return OUTCOME_DISMISSED;
	}
}

/* Append the set bits of bits as "a,b,c". */
static size_t
indicator_put_bits(char *buf, size_t o, size_t size, uint16_t bits)
{
	const char *sep = "";
	int v, r;

	for (v = 0; v < 16; v++) {
		if ((bits & INDICATOR_BIT(v)) == 0)
			continue;
		r = snprintf(buf + o, size - o, "%s%d", sep, v);
		if (r > 0 && (size_t)r < size - o)
			o += (size_t)r;
		sep = ",";
	}
	return o;
}

void
indicator_signature(const struct indicator *ind, char *buf)
{
	const size_t size = INDICATOR_SIGNATURE_MAX;
	const char *field = "outcome";
	size_t o;
	int r;

	if (ind->field == INDICATOR_FIELD_DETAIL &&
	    (field = decision_detail_key(ind->event)) == NULL)
		field = "detail";
	r = snprintf(buf, size, "%s:%s:yes=", decision_event_name(ind->event),
	    field);
	o = r > 0 && (size_t)r < size ? (size_t)r : 0;
	o = indicator_put_bits(buf, o, size, ind->yes);
	r = snprintf(buf + o, size - o, ":no=");
	if (r > 0 && (size_t)r < size - o)
		o += (size_t)r;
	o = indicator_put_bits(buf, o, size, ind->no);
	snprintf(buf + o, size - o, ":d=%u", (unsigned)ind->details);
}

double
indicator_weight(const struct indicator *ind)
{
	return ind->alerts ? ind->budget_weight : 0;
}

int
indicators_stream_find(const struct indicators *t, const char *key)
{
	int k;

	for (k = 0; k < t->nstreams; k++) {
		if (strcmp(t->streams[k], key) == 0)
			return k;
	}
	return -1;
}

int
indicators_stream_event(const struct indicators *t, int k)
{
	return k >= 0 && k < t->nstreams ? t->stream_event[k] : -1;
}
