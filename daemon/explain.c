/*
 * The explanation registry: one list in order of effective_from and id,
 * validation of contract §2 JSON and of config sections into entries, the
 * state file that keeps the API's entries, and the matching rules.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "explain.h"
#include "indicator.h"
#include "utc.h"
#include "file.h"
#include "xmalloc.h"

#define EXPLAIN_NITEMS(a)	(sizeof (a) / sizeof (a)[0])
#define EXPLAIN_MAX_OFFICES	4096	/* offices one entry may name */
#define EXPLAIN_DATE_SIZE	40	/* "YYYY-MM-DD", room for any int */
#define EXPLAIN_QUOTE_MAX	64	/* input characters echoed in errors */
#define EXPLAIN_NKINDS		2	/* first, ongoing */

struct explain_registry {
	struct explanation	**list;		/* by from_day, then id */
	int			 n;
	int			 size;
	uint64_t		 generation;
	char			*path;		/* of explain_setup */
	bool			 shared;	/* HA: the API's entries are shared */
};

static const char *const explain_kinds[] = {
	[EXPLAIN_LEGISLATION] = "legislation",
	[EXPLAIN_LEGAL_POSITION] = "legal_position",
	[EXPLAIN_COURT_RULING] = "court_ruling",
	[EXPLAIN_CASE_MIX] = "case_mix",
	[EXPLAIN_DATA_CORRECTION] = "data_correction",
	[EXPLAIN_CONTEXT] = "context",
};

/* Decision kinds by their bit in struct explanation's kinds. */
static const char *const explain_decision_kinds[EXPLAIN_NKINDS] = {
	"first", "ongoing",
};

/* The members of contract §2, in the order explain_to_json writes them. */
static const char *const explain_members[] = {
	"id", "kind", "effective_from", "effective_to", "benefits", "kinds",
	"offices", "indicators", "reference", "description",
};

const char *
explain_kind_name(enum explain_kind kind)
{
	if ((unsigned int)kind >= EXPLAIN_NITEMS(explain_kinds))
		return NULL;
	return explain_kinds[kind];
}

int
explain_kind_parse(const char *name)
{
	size_t i;

	for (i = 0; i < EXPLAIN_NITEMS(explain_kinds); i++) {
		if (strcmp(name, explain_kinds[i]) == 0)
			return (int)i;
	}
	return -1;
}

/*
 * Input for an error message: printable ASCII only (others become '?'),
 * cut at EXPLAIN_QUOTE_MAX, so that the message is always valid UTF-8.
 */
static const char *
explain_quote(const char *s, size_t len, char *buf, size_t size)
{
	size_t i;

	for (i = 0; i < len && i < size - 1 && i < EXPLAIN_QUOTE_MAX; i++)
		buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	buf[i] = '\0';
	return buf;
}

/* Whether the len characters of s are ASCII letters, digits or in punct. */
static bool
explain_chars_valid(const char *s, size_t len, const char *punct)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (!(s[i] >= 'a' && s[i] <= 'z') &&
		    !(s[i] >= 'A' && s[i] <= 'Z') &&
		    !(s[i] >= '0' && s[i] <= '9') &&
		    (s[i] == '\0' || strchr(punct, s[i]) == NULL))
			return false;
	}
	return true;
}

/* Whether s is an id: 1..64 of A-Z a-z 0-9 . _ : - */
static bool
explain_id_valid(const char *s, size_t len)
{
	return len > 0 && len <= EXPLAIN_ID_MAX &&
	    explain_chars_valid(s, len, "._:-");
}

/* Whether s is an office: 1..32 of A-Z a-z 0-9 . _ -, not the nation. */
static bool
explain_office_valid(const char *s, size_t len)
{
	if (len == strlen(EXPLAIN_NATIONAL) &&
	    memcmp(s, EXPLAIN_NATIONAL, len) == 0)
		return false;
	return len > 0 && len <= EXPLAIN_OFFICE_MAX &&
	    explain_chars_valid(s, len, "._-");
}

/*
 * Whether s is an indicator name by its syntax, [a-z][a-z0-9_]{0,31}
 * ("rejection" is one); whether it is configured is the caller's check.
 */
static bool
explain_indicator_valid(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > INDICATOR_NAME_MAX || !(s[0] >= 'a' &&
	    s[0] <= 'z'))
		return false;
	for (i = 1; i < len; i++) {
		if (!(s[i] >= 'a' && s[i] <= 'z') &&
		    !(s[i] >= '0' && s[i] <= '9') && s[i] != '_')
			return false;
	}
	return true;
}

/* Append a copy of the len bytes at s to e's indicators. */
static void
explain_add_indicator(struct explanation *e, const char *s, size_t len)
{
	e->indicators = xreallocarray(e->indicators,
	    (size_t)e->nindicators + 1, sizeof *e->indicators);
	e->indicators[e->nindicators++] = xstrndup(s, len);
}

/* Characters (UTF-8 code points) of a valid UTF-8 string. */
static size_t
explain_utf8_length(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++) {
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	}
	return n;
}

/* A day number as YYYY-MM-DD (the inverse of conf_parse_date). */
static void
explain_format_date(int32_t day, char *buf)
{
	int64_t z = (int64_t)day + 719468, era, doe, yoe, doy, mp, y;
	int m, d;

	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = (int)(doy - (153 * mp + 2) / 5 + 1);
	m = (int)(mp < 10 ? mp + 3 : mp - 9);
	y = yoe + era * 400 + (m <= 2);
	snprintf(buf, EXPLAIN_DATE_SIZE, "%04d-%02d-%02d", (int)y, m, d);
}

/* A new entry with no dates, lists or texts. */
static struct explanation *
explain_entry_new(void)
{
	struct explanation *e = xcalloc(1, sizeof *e);

	e->to_day = INT32_MAX;
	return e;
}

void
explain_entry_free(struct explanation *e)
{
	int i;

	if (e == NULL)
		return;
	for (i = 0; i < e->noffices; i++)
		free(e->offices[i]);
	free(e->offices);
	for (i = 0; i < e->nindicators; i++)
		free(e->indicators[i]);
	free(e->indicators);
	free(e->reference);
	free(e->description);
	free(e);
}

/* NULL-safe string equality. */
static bool
explain_str_equal(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* Whether a and b say the same, whenever and however registered. */
static bool
explain_entry_equal(const struct explanation *a, const struct explanation *b)
{
	int i;

	if (strcmp(a->id, b->id) != 0 || a->kind != b->kind ||
	    a->from_day != b->from_day || a->to_day != b->to_day ||
	    a->benefits != b->benefits || a->kinds != b->kinds ||
	    a->noffices != b->noffices || a->from_config != b->from_config ||
	    a->nindicators != b->nindicators ||
	    !explain_str_equal(a->reference, b->reference) ||
	    !explain_str_equal(a->description, b->description))
		return false;
	for (i = 0; i < a->noffices; i++) {
		if (strcmp(a->offices[i], b->offices[i]) != 0)
			return false;
	}
	for (i = 0; i < a->nindicators; i++) {
		if (strcmp(a->indicators[i], b->indicators[i]) != 0)
			return false;
	}
	return true;
}

struct explain_registry *
explain_create(void)
{
	return xcalloc(1, sizeof(struct explain_registry));
}

void
explain_free(struct explain_registry *reg)
{
	int i;

	if (reg == NULL)
		return;
	for (i = 0; i < reg->n; i++)
		explain_entry_free(reg->list[i]);
	free(reg->list);
	free(reg->path);
	free(reg);
}

/* Order of the list: effective_from, then id. */
static int
explain_order(const struct explanation *a, const struct explanation *b)
{
	if (a->from_day != b->from_day)
		return a->from_day < b->from_day ? -1 : 1;
	return strcmp(a->id, b->id);
}

/* Index of id in the list, or -1. */
static int
explain_index(const struct explain_registry *reg, const char *id)
{
	int i;

	for (i = 0; i < reg->n; i++) {
		if (strcmp(reg->list[i]->id, id) == 0)
			return i;
	}
	return -1;
}

/* Put e in its place; the caller has checked its id and the size. */
static void
explain_insert(struct explain_registry *reg, struct explanation *e)
{
	int i;

	if (reg->n == reg->size) {
		reg->size = reg->size == 0 ? 16 : reg->size * 2;
		reg->list = xreallocarray(reg->list, (size_t)reg->size,
		    sizeof *reg->list);
	}
	for (i = reg->n; i > 0 && explain_order(reg->list[i - 1], e) > 0; i--)
		reg->list[i] = reg->list[i - 1];
	reg->list[i] = e;
	reg->n++;
	if (e->created_at == 0)
		e->created_at = (int64_t)time(NULL);
}

/* Take the entry at index i out of the list and free it. */
static void
explain_delete_at(struct explain_registry *reg, int i)
{
	explain_entry_free(reg->list[i]);
	memmove(&reg->list[i], &reg->list[i + 1],
	    (size_t)(reg->n - i - 1) * sizeof *reg->list);
	reg->n--;
}

/* Whether e may be added: a new id and room for it. */
static int
explain_check_new(const struct explain_registry *reg,
    const struct explanation *e, char **cause)
{
	if (explain_index(reg, e->id) != -1) {
		*cause = xasprintf("explanation \"%s\" already exists", e->id);
		return -1;
	}
	if (reg->n >= EXPLAIN_MAX) {
		*cause = xasprintf("the registry is full (%d explanations)",
		    EXPLAIN_MAX);
		return -1;
	}
	return 0;
}

int
explain_add(struct explain_registry *reg, struct explanation *e,
    char **cause)
{
	if (explain_check_new(reg, e, cause) == -1) {
		explain_entry_free(e);
		return -1;
	}
	explain_insert(reg, e);
	reg->generation++;
	return 0;
}

int
explain_remove(struct explain_registry *reg, const char *id)
{
	int i;

	if ((i = explain_index(reg, id)) == -1)
		return -1;
	explain_delete_at(reg, i);
	reg->generation++;
	return 0;
}

/* Remove the config entries without counting a change; how many went. */
static int
explain_drop_config(struct explain_registry *reg)
{
	int i, j = 0, n = reg->n;

	for (i = 0; i < reg->n; i++) {
		if (reg->list[i]->from_config)
			explain_entry_free(reg->list[i]);
		else
			reg->list[j++] = reg->list[i];
	}
	reg->n = j;
	return n - j;
}

void
explain_remove_config(struct explain_registry *reg)
{
	if (explain_drop_config(reg) > 0)
		reg->generation++;
}

const struct explanation *
explain_find(const struct explain_registry *reg, const char *id)
{
	int i = explain_index(reg, id);

	return i == -1 ? NULL : reg->list[i];
}

int
explain_count(const struct explain_registry *reg)
{
	return reg->n;
}

const struct explanation *
explain_at(const struct explain_registry *reg, int i)
{
	if (i < 0 || i >= reg->n)
		return NULL;
	return reg->list[i];
}

uint64_t
explain_generation(const struct explain_registry *reg)
{
	return reg->generation;
}

/*
 * The member name of o as an array of strings, none empty or twice, into
 * *a (NULL when absent). -1 with *cause otherwise.
 */
static int
explain_json_list(const json_t *o, const char *name, json_t **a,
    char **cause)
{
	json_t *v, *w;
	size_t i, j;

	*a = NULL;
	if ((v = json_object_get(o, name)) == NULL)
		return 0;
	if (!json_is_array(v))
		goto bad;
	json_array_foreach(v, i, w) {
		if (!json_is_string(w) ||
		    strlen(json_string_value(w)) != json_string_length(w))
			goto bad;
		for (j = 0; j < i; j++) {
			if (strcmp(json_string_value(json_array_get(v, j)),
			    json_string_value(w)) == 0) {
				char q[EXPLAIN_QUOTE_MAX + 1];

				*cause = xasprintf("%s: '%s' is listed twice",
				    name, explain_quote(json_string_value(w),
				    json_string_length(w), q, sizeof q));
				return -1;
			}
		}
	}
	*a = v;
	return 0;

bad:
	*cause = xasprintf("%s: expected an array of strings", name);
	return -1;
}

/* A required or optional date member; INT32_MAX when optional and absent. */
static int
explain_json_date(const json_t *o, const char *name, bool required,
    int32_t *day, char **cause)
{
	json_t *v = json_object_get(o, name);

	if (v == NULL || json_is_null(v)) {
		if (required) {
			*cause = xasprintf("%s: required", name);
			return -1;
		}
		*day = INT32_MAX;
		return 0;
	}
	if (!json_is_string(v) || conf_parse_date(json_string_value(v),
	    day) != 0) {
		*cause = xasprintf("%s: expected a date YYYY-MM-DD (from "
		    "1900)%s", name, required ? "" : " or null");
		return -1;
	}
	return 0;
}

/* An optional text member of up to EXPLAIN_TEXT_MAX characters. */
static int
explain_json_text(const json_t *o, const char *name, char **text,
    char **cause)
{
	json_t *v = json_object_get(o, name);

	*text = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v) ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		*cause = xasprintf("%s: expected a string", name);
		return -1;
	}
	if (explain_utf8_length(json_string_value(v)) > EXPLAIN_TEXT_MAX) {
		*cause = xasprintf("%s: longer than %d characters", name,
		    EXPLAIN_TEXT_MAX);
		return -1;
	}
	*text = xstrdup(json_string_value(v));
	return 0;
}

/* id, kind and the dates of a contract §2 object. */
static int
explain_json_head(const json_t *o, struct explanation *e, char **cause)
{
	char q[EXPLAIN_QUOTE_MAX + 1];
	json_t *v;
	int kind;

	v = json_object_get(o, "id");
	if (v == NULL) {
		*cause = xstrdup("id: required");
		return -1;
	}
	if (!json_is_string(v) ||
	    !explain_id_valid(json_string_value(v), json_string_length(v))) {
		*cause = xasprintf("id: expected 1 to %d characters of A-Z a-z "
		    "0-9 . _ : -", EXPLAIN_ID_MAX);
		return -1;
	}
	memcpy(e->id, json_string_value(v), json_string_length(v) + 1);

	v = json_object_get(o, "kind");
	if (v == NULL) {
		*cause = xstrdup("kind: required");
		return -1;
	}
	if (!json_is_string(v) ||
	    (kind = explain_kind_parse(json_string_value(v))) == -1) {
		*cause = xasprintf("kind: '%s' is not legislation, "
		    "legal_position, court_ruling, case_mix, data_correction "
		    "or context", json_is_string(v) ?
		    explain_quote(json_string_value(v), json_string_length(v),
		    q, sizeof q) : "(not a string)");
		return -1;
	}
	e->kind = (enum explain_kind)kind;

	if (explain_json_date(o, "effective_from", true, &e->from_day,
	    cause) == -1 ||
	    explain_json_date(o, "effective_to", false, &e->to_day,
	    cause) == -1)
		return -1;
	if (e->to_day < e->from_day) {
		*cause = xstrdup("effective_to: before effective_from");
		return -1;
	}
	return 0;
}

/* The benefits, kinds and offices lists of a contract §2 object. */
static int
explain_json_scope(const json_t *o, const char *const *benefits,
    int nbenefits, struct explanation *e, char **cause)
{
	char q[EXPLAIN_QUOTE_MAX + 1];
	const char *s;
	json_t *a, *v;
	size_t i, len;
	int b, k;

	if (explain_json_list(o, "benefits", &a, cause) == -1)
		return -1;
	json_array_foreach(a, i, v) {
		s = json_string_value(v);
		for (b = 0; b < nbenefits && b < 32; b++) {
			if (strcmp(benefits[b], s) == 0)
				break;
		}
		if (b == nbenefits || b == 32) {
			*cause = xasprintf("benefits: '%s' is not a configured "
			    "benefit", explain_quote(s, json_string_length(v),
			    q, sizeof q));
			return -1;
		}
		e->benefits |= UINT32_C(1) << b;
	}

	if (explain_json_list(o, "kinds", &a, cause) == -1)
		return -1;
	json_array_foreach(a, i, v) {
		s = json_string_value(v);
		for (k = 0; k < EXPLAIN_NKINDS; k++) {
			if (strcmp(explain_decision_kinds[k], s) == 0)
				break;
		}
		if (k == EXPLAIN_NKINDS) {
			*cause = xasprintf("kinds: '%s' is not first or "
			    "ongoing", explain_quote(s, json_string_length(v),
			    q, sizeof q));
			return -1;
		}
		e->kinds |= (uint8_t)(1U << k);
	}

	if (explain_json_list(o, "offices", &a, cause) == -1)
		return -1;
	if (json_array_size(a) > EXPLAIN_MAX_OFFICES) {
		*cause = xasprintf("offices: more than %d",
		    EXPLAIN_MAX_OFFICES);
		return -1;
	}
	json_array_foreach(a, i, v) {
		s = json_string_value(v);
		len = json_string_length(v);
		if (strcmp(s, EXPLAIN_NATIONAL) == 0) {
			*cause = xstrdup("offices: 'national' is not an "
			    "office; an empty list covers the national "
			    "series");
			return -1;
		}
		if (!explain_office_valid(s, len)) {
			*cause = xasprintf("offices: '%s' is not an office "
			    "(1 to %d characters of A-Z a-z 0-9 . _ -)",
			    explain_quote(s, len, q, sizeof q),
			    EXPLAIN_OFFICE_MAX);
			return -1;
		}
		if (e->noffices == 0)
			e->offices = xcalloc(json_array_size(a),
			    sizeof *e->offices);
		e->offices[e->noffices++] = xstrdup(s);
	}

	/* Names by their syntax; the API checks that they are configured. */
	if (explain_json_list(o, "indicators", &a, cause) == -1)
		return -1;
	if (json_array_size(a) > INDICATOR_MAX) {
		*cause = xasprintf("indicators: more than %d", INDICATOR_MAX);
		return -1;
	}
	json_array_foreach(a, i, v) {
		s = json_string_value(v);
		len = json_string_length(v);
		if (!explain_indicator_valid(s, len)) {
			*cause = xasprintf("indicators: '%s' is not an "
			    "indicator name (a-z first, then up to %d of a-z "
			    "0-9 _)", explain_quote(s, len, q, sizeof q),
			    INDICATOR_NAME_MAX - 1);
			return -1;
		}
		explain_add_indicator(e, s, len);
	}
	return 0;
}

int
explain_from_json(const json_t *o, const char *const *benefits,
    int nbenefits, struct explanation **out, char **cause)
{
	char q[EXPLAIN_QUOTE_MAX + 1];
	struct explanation *e;
	const char *key;
	json_t *v;
	size_t i;

	*out = NULL;
	if (!json_is_object(o)) {
		*cause = xstrdup("expected a JSON object");
		return -1;
	}
	json_object_foreach((json_t *)o, key, v) {
		for (i = 0; i < EXPLAIN_NITEMS(explain_members); i++) {
			if (strcmp(key, explain_members[i]) == 0)
				break;
		}
		if (i == EXPLAIN_NITEMS(explain_members)) {
			*cause = xasprintf("unknown member '%s'",
			    explain_quote(key, strlen(key), q, sizeof q));
			return -1;
		}
	}
	e = explain_entry_new();
	if (explain_json_head(o, e, cause) == -1 ||
	    explain_json_scope(o, benefits, nbenefits, e, cause) == -1 ||
	    explain_json_text(o, "reference", &e->reference, cause) == -1 ||
	    explain_json_text(o, "description", &e->description,
	    cause) == -1) {
		explain_entry_free(e);
		return -1;
	}
	*out = e;
	return 0;
}

json_t *
explain_to_json(const struct explanation *e, const char *const *benefits)
{
	char from[EXPLAIN_DATE_SIZE], to[EXPLAIN_DATE_SIZE];
	char created[UTC_TIME_SIZE];
	json_t *b = json_array(), *k = json_array(), *off = json_array();
	json_t *ind = NULL;
	int i;

	/* A name missing from benefits (a list changed without a restart) is
	 * left out rather than failing the whole answer. */
	for (i = 0; b != NULL && i < 32; i++) {
		if ((e->benefits & (UINT32_C(1) << i)) && benefits[i] != NULL &&
		    json_array_append_new(b, json_string(benefits[i])) == -1) {
			json_decref(b);
			b = NULL;
		}
	}
	for (i = 0; k != NULL && i < EXPLAIN_NKINDS; i++) {
		if ((e->kinds & (1U << i)) && json_array_append_new(k,
		    json_string(explain_decision_kinds[i])) == -1) {
			json_decref(k);
			k = NULL;
		}
	}
	for (i = 0; off != NULL && i < e->noffices; i++) {
		if (json_array_append_new(off,
		    json_string(e->offices[i])) == -1) {
			json_decref(off);
			off = NULL;
		}
	}
	/* Only when it names some: an entry of all indicators reads as before. */
	for (i = 0; i < e->nindicators; i++) {
		if (ind == NULL)
			ind = json_array();
		if (ind == NULL || json_array_append_new(ind,
		    json_string(e->indicators[i])) == -1) {
			json_decref(ind);
			ind = NULL;
			json_decref(b);
			b = NULL;	/* fails the whole object */
			break;
		}
	}
	explain_format_date(e->from_day, from);
	if (e->to_day != INT32_MAX)
		explain_format_date(e->to_day, to);
	(void)utc_format(e->created_at, created);
	/* json_pack takes the "o" arguments, also when it fails. */
	return json_pack("{s:s, s:s?, s:s, s:s?, s:o, s:o, s:o, s:o*, s:s?, "
	    "s:s?, s:s, s:s}",
	    "id", e->id,
	    "kind", explain_kind_name(e->kind),
	    "effective_from", from,
	    "effective_to", e->to_day != INT32_MAX ? to : NULL,
	    "benefits", b,
	    "kinds", k,
	    "offices", off,
	    "indicators", ind,
	    "reference", e->reference,
	    "description", e->description,
	    "source", e->from_config ? "config" : "api",
	    "created_at", created);
}

/* The lists of a config section; the names were checked by conf_load. */
static int
explain_conf_scope(const struct conf_explanation *ce, const struct conf *c,
    struct explanation *e, char **cause)
{
	const char *p, *s;
	size_t len;
	int b, k;

	p = ce->benefits;
	while (p != NULL && conf_list_next(&p, &s, &len)) {
		if ((b = conf_benefit_index(c, s, len)) == -1 || b >= 32) {
			*cause = xasprintf("explanation \"%s\": benefits: "
			    "'%.*s' is not a configured benefit", ce->id,
			    (int)len, s);
			return -1;
		}
		e->benefits |= UINT32_C(1) << b;
	}
	p = ce->kinds;
	while (p != NULL && conf_list_next(&p, &s, &len)) {
		for (k = 0; k < EXPLAIN_NKINDS; k++) {
			if (strlen(explain_decision_kinds[k]) == len &&
			    memcmp(explain_decision_kinds[k], s, len) == 0)
				break;
		}
		if (k == EXPLAIN_NKINDS) {
			*cause = xasprintf("explanation \"%s\": kinds: "
			    "'%.*s' is not first or ongoing", ce->id,
			    (int)len, s);
			return -1;
		}
		e->kinds |= (uint8_t)(1U << k);
	}
	p = ce->offices;
	while (p != NULL && conf_list_next(&p, &s, &len)) {
		if (!explain_office_valid(s, len)) {
			*cause = xasprintf("explanation \"%s\": offices: "
			    "'%.*s' is not an office", ce->id, (int)len, s);
			return -1;
		}
		e->offices = xreallocarray(e->offices, (size_t)e->noffices + 1,
		    sizeof *e->offices);
		e->offices[e->noffices++] = xstrndup(s, len);
	}
	/* conf_load checked that each is rejection or configured. */
	p = ce->indicators;
	while (p != NULL && conf_list_next(&p, &s, &len)) {
		if (!explain_indicator_valid(s, len)) {
			*cause = xasprintf("explanation \"%s\": indicators: "
			    "'%.*s' is not an indicator", ce->id, (int)len, s);
			return -1;
		}
		explain_add_indicator(e, s, len);
	}
	return 0;
}

int
explain_from_conf(const struct conf_explanation *ce, const struct conf *c,
    struct explanation **out, char **cause)
{
	struct explanation *e;
	int kind;

	*out = NULL;
	if (ce->id == NULL || !explain_id_valid(ce->id, strlen(ce->id))) {
		*cause = xstrdup("explanation: not a valid id");
		return -1;
	}
	if (ce->kind == NULL || (kind = explain_kind_parse(ce->kind)) == -1) {
		*cause = xasprintf("explanation \"%s\": missing or unknown "
		    "kind", ce->id);
		return -1;
	}
	e = explain_entry_new();
	memcpy(e->id, ce->id, strlen(ce->id) + 1);
	e->kind = (enum explain_kind)kind;
	e->from_config = true;
	if (conf_parse_date(ce->effective_from, &e->from_day) != 0 ||
	    (ce->effective_to != NULL &&
	    conf_parse_date(ce->effective_to, &e->to_day) != 0)) {
		*cause = xasprintf("explanation \"%s\": effective_from or "
		    "effective_to is not a date", ce->id);
		goto fail;
	}
	if (e->to_day < e->from_day) {
		*cause = xasprintf("explanation \"%s\": effective_to is before "
		    "effective_from", ce->id);
		goto fail;
	}
	if (explain_conf_scope(ce, c, e, cause) == -1)
		goto fail;
	if (ce->reference != NULL)
		e->reference = xstrdup(ce->reference);
	if (ce->description != NULL)
		e->description = xstrdup(ce->description);
	*out = e;
	return 0;

fail:
	explain_entry_free(e);
	return -1;
}

/* Whether the config entries of reg are exactly those in fresh. */
static bool
explain_config_same(const struct explain_registry *reg,
    struct explanation *const *fresh, int n)
{
	const struct explanation *old;
	int i, nold = 0;

	for (i = 0; i < reg->n; i++)
		nold += reg->list[i]->from_config;
	if (nold != n)
		return false;
	for (i = 0; i < n; i++) {
		old = explain_find(reg, fresh[i]->id);
		if (old == NULL || !explain_entry_equal(old, fresh[i]))
			return false;
	}
	return true;
}

/* Whether fresh (n entries) has id. */
static bool
explain_config_defines(struct explanation *const *fresh, int n,
    const char *id)
{
	int i;

	for (i = 0; i < n; i++) {
		if (fresh[i] != NULL && strcmp(fresh[i]->id, id) == 0)
			return true;
	}
	return false;
}

int
explain_set_config(struct explain_registry *reg, const struct conf *c,
    char **cause)
{
	struct explanation **fresh;
	const struct explanation *old;
	int i, j, n = c->nexplanations, napi = 0;

	fresh = xcalloc(n > 0 ? (size_t)n : 1, sizeof *fresh);
	for (i = 0; i < n; i++) {
		if (explain_from_conf(&c->explanations[i], c, &fresh[i],
		    cause) == -1)
			goto fail;
		for (j = 0; j < i; j++) {
			if (strcmp(fresh[j]->id, fresh[i]->id) == 0) {
				*cause = xasprintf("explanation \"%s\" is "
				    "defined twice", fresh[i]->id);
				goto fail;
			}
		}
		if ((old = explain_find(reg, fresh[i]->id)) == NULL)
			continue;
		if (!old->from_config && !reg->shared) {
			*cause = xasprintf("explanation \"%s\" is in the "
			    "configuration file and also registered through "
			    "the API; delete one of them", fresh[i]->id);
			goto fail;
		}
		if (old->from_config)
			fresh[i]->created_at = old->created_at;
	}
	for (i = 0; i < reg->n; i++)
		napi += !reg->list[i]->from_config &&
		    !explain_config_defines(fresh, n, reg->list[i]->id);
	if (napi + n > EXPLAIN_MAX) {
		*cause = xasprintf("more than %d explanations", EXPLAIN_MAX);
		goto fail;
	}
	if (explain_config_same(reg, fresh, n)) {
		for (i = 0; i < n; i++)
			explain_entry_free(fresh[i]);
		free(fresh);
		return 0;
	}
	explain_drop_config(reg);
	/* Shared (HA): the config shadows the API's entry of the same id. */
	for (i = 0; i < n; i++)
		(void)explain_remove(reg, fresh[i]->id);
	for (i = 0; i < n; i++)
		explain_insert(reg, fresh[i]);
	reg->generation++;
	free(fresh);
	return 0;

fail:
	for (i = 0; i < n; i++)
		explain_entry_free(fresh[i]);
	free(fresh);
	return -1;
}

/*
 * Save the API's entries as they will be after adding extra (or NULL) and
 * dropping the entry skip (or NULL).
 */
static int
explain_write(const struct explain_registry *reg,
    const struct explanation *extra, const char *skip, const char *path,
    const char *const *benefits, char **cause)
{
	json_t *a = json_array();
	char *text = NULL;
	int i, rc = -1;

	for (i = 0; a != NULL && i < reg->n; i++) {
		if (reg->list[i]->from_config || (skip != NULL &&
		    strcmp(reg->list[i]->id, skip) == 0))
			continue;
		if (json_array_append_new(a, explain_to_json(reg->list[i],
		    benefits)) == -1) {
			json_decref(a);
			a = NULL;
		}
	}
	if (a != NULL && extra != NULL &&
	    json_array_append_new(a, explain_to_json(extra, benefits)) == -1) {
		json_decref(a);
		a = NULL;
	}
	if (a != NULL)
		text = json_dumps(a, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (text == NULL) {
		*cause = xstrdup("explanations: cannot build the state file");
		goto out;
	}
	/* json_dumps ends without a newline; text files end with one. */
	{
		char *line = xasprintf("%s\n", text);

		rc = file_replace("explanations", path, line, strlen(line),
		    cause);
		free(line);
	}
out:
	free(text);
	json_decref(a);
	return rc;
}

int
explain_save(const struct explain_registry *reg, const char *path,
    const char *const *benefits, char **cause)
{
	return explain_write(reg, NULL, NULL, path, benefits, cause);
}

/* One entry of the state file: contract §2 with source and created_at. */
int
explain_from_stored_json(const json_t *item, const char *const *benefits, int nbenefits,
    struct explanation **out, char **cause)
{
	json_t *copy, *v;
	int64_t created;
	int rc;

	if (!json_is_object(item)) {
		*cause = xstrdup("expected a JSON object");
		return -1;
	}
	v = json_object_get(item, "source");
	if (v != NULL && (!json_is_string(v) ||
	    strcmp(json_string_value(v), "api") != 0)) {
		*cause = xstrdup("source: expected \"api\"");
		return -1;
	}
	v = json_object_get(item, "created_at");
	if (v == NULL || !json_is_string(v) ||
	    utc_parse(json_string_value(v), &created) == -1) {
		*cause = xstrdup("created_at: expected a time "
		    "YYYY-MM-DDTHH:MM:SSZ");
		return -1;
	}
	if ((copy = json_copy((json_t *)item)) == NULL) {
		*cause = xstrdup("out of memory");
		return -1;
	}
	json_object_del(copy, "source");
	json_object_del(copy, "created_at");
	rc = explain_from_json(copy, benefits, nbenefits, out, cause);
	json_decref(copy);
	if (rc == 0)
		(*out)->created_at = created;
	return rc;
}

int
explain_load(struct explain_registry *reg, const char *path,
    const char *const *benefits, int nbenefits, char **cause)
{
	struct explanation **list = NULL;
	json_error_t jerr;
	json_t *a, *item;
	char *why = NULL;
	size_t i, j, n = 0;
	FILE *f;

	if ((f = fopen(path, "re")) == NULL) {
		if (errno == ENOENT)
			return 0;
		*cause = xasprintf("explanations: %s: %s", path,
		    strerror(errno));
		return -1;
	}
	a = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
	fclose(f);
	if (a == NULL) {
		*cause = xasprintf("explanations: %s: damaged: %s (line %d)",
		    path, jerr.text, jerr.line);
		return -1;
	}
	if (!json_is_array(a)) {
		*cause = xasprintf("explanations: %s: damaged: expected a "
		    "JSON array", path);
		json_decref(a);
		return -1;
	}
	list = xcalloc(json_array_size(a) + 1, sizeof *list);
	json_array_foreach(a, i, item) {
		if (explain_from_stored_json(item, benefits, nbenefits, &list[n],
		    &why) == -1)
			goto fail;
		n++;
		for (j = 0; j + 1 < n; j++) {
			if (strcmp(list[j]->id, list[n - 1]->id) == 0) {
				why = xasprintf("id \"%s\" appears twice",
				    list[n - 1]->id);
				goto fail;
			}
		}
		if (explain_find(reg, list[n - 1]->id) != NULL) {
			why = xasprintf("id \"%s\" is already registered",
			    list[n - 1]->id);
			goto fail;
		}
		if ((size_t)reg->n + n > EXPLAIN_MAX) {
			why = xasprintf("more than %d explanations",
			    EXPLAIN_MAX);
			goto fail;
		}
	}
	for (j = 0; j < n; j++)
		explain_insert(reg, list[j]);
	if (n > 0)
		reg->generation++;
	free(list);
	json_decref(a);
	return 0;

fail:
	*cause = xasprintf("explanations: %s: damaged: entry %zu: %s", path,
	    i + 1, why);
	free(why);
	for (j = 0; j < n; j++)
		explain_entry_free(list[j]);
	free(list);
	json_decref(a);
	return -1;
}

int
explain_add_saved(struct explain_registry *reg, struct explanation *e,
    const char *path, const char *const *benefits, char **cause)
{
	if (explain_check_new(reg, e, cause) == -1) {
		explain_entry_free(e);
		return -1;
	}
	if (e->created_at == 0)
		e->created_at = (int64_t)time(NULL);
	if (path != NULL &&
	    explain_write(reg, e, NULL, path, benefits, cause) == -1) {
		explain_entry_free(e);
		return -1;
	}
	explain_insert(reg, e);
	reg->generation++;
	return 0;
}

int
explain_remove_saved(struct explain_registry *reg, const char *id,
    const char *path, const char *const *benefits, char **cause)
{
	int i;

	if ((i = explain_index(reg, id)) == -1) {
		*cause = xasprintf("no explanation \"%s\"", id);
		return -1;
	}
	if (path != NULL &&
	    explain_write(reg, NULL, id, path, benefits, cause) == -1)
		return -1;
	explain_delete_at(reg, i);
	reg->generation++;
	return 0;
}

int
explain_put(struct explain_registry *reg, struct explanation *e,
    char **cause)
{
	const struct explanation *old = explain_find(reg, e->id);

	if (old != NULL && old->from_config) {
		*cause = xasprintf("explanation \"%s\" is defined in the "
		    "configuration file", e->id);
		explain_entry_free(e);
		return -1;
	}
	e->from_config = false;
	if (old != NULL)
		explain_delete_at(reg, explain_index(reg, e->id));
	return explain_add(reg, e, cause);
}

void
explain_set_shared(struct explain_registry *reg, bool shared)
{
	reg->shared = shared;
}

int
explain_setup(struct explain_registry *reg, const struct conf *c,
    const char *state_dir, char **cause)
{
	char *path = xasprintf("%s/%s", state_dir, EXPLAIN_STATE_FILE);
	char *why;
	int rc = 0;

	/* HA: the API's entries come from the shared registry (the
	 * checkpoint and the control log); the file is only its mirror. */
	reg->shared = c->ha_enabled;
	if (!reg->shared)
		rc = explain_load(reg, path, (const char *const *)c->benefits,
		    c->nbenefits, cause);
	if (rc == 0 && (rc = explain_set_config(reg, c, &why)) == -1) {
		*cause = xasprintf("%s (the API's are kept in %s)", why, path);
		free(why);
	}
	free(reg->path);
	reg->path = path;
	return rc;
}

const char *
explain_path(const struct explain_registry *reg)
{
	return reg->path;
}

bool
explain_scope_matches(const struct explanation *e, const char *indicator,
    const char *office, int benefit, int kind)
{
	int i;

	if (e->nindicators != 0) {
		if (indicator == NULL)
			indicator = "rejection";
		for (i = 0; i < e->nindicators; i++) {
			if (strcmp(e->indicators[i], indicator) == 0)
				break;
		}
		if (i == e->nindicators)
			return false;
	}
	if (e->benefits != 0 && (benefit < 0 || benefit >= 32 ||
	    (e->benefits & (UINT32_C(1) << benefit)) == 0))
		return false;
	if (e->kinds != 0 && (kind < 0 || kind >= EXPLAIN_NKINDS ||
	    (e->kinds & (1U << kind)) == 0))
		return false;
	if (e->noffices == 0)
		return true;
	if (strcmp(office, EXPLAIN_NATIONAL) == 0)
		return false;
	for (i = 0; i < e->noffices; i++) {
		if (strcmp(e->offices[i], office) == 0)
			return true;
	}
	return false;
}

/* Whether onset lies in the window around e's effective_from. */
static bool
explain_in_window(const struct explanation *e, int32_t onset_day,
    int before_days, int after_days)
{
	int64_t onset = onset_day, from = e->from_day;

	return from - before_days <= onset && onset <= from + after_days;
}

bool
explain_covers(const struct explanation *e, const char *indicator,
    const char *office, int benefit, int kind, int32_t onset_day,
    int before_days, int after_days)
{
	return e->kind != EXPLAIN_CONTEXT &&
	    explain_scope_matches(e, indicator, office, benefit, kind) &&
	    explain_in_window(e, onset_day, before_days, after_days);
}

int
explain_match(const struct explain_registry *reg, const char *indicator,
    const char *office, int benefit, int kind, int32_t onset_day,
    int before_days, int after_days,
    const struct explanation **covering, int max,
    const struct explanation **context, int maxctx, int *ncontext)
{
	const struct explanation *e;
	int i, n = 0, nctx = 0;

	for (i = 0; i < reg->n; i++) {
		e = reg->list[i];
		if (!explain_scope_matches(e, indicator, office, benefit,
		    kind) ||
		    !explain_in_window(e, onset_day, before_days, after_days))
			continue;
		if (e->kind == EXPLAIN_CONTEXT) {
			if (nctx < maxctx)
				context[nctx] = e;
			nctx++;
		} else {
			if (n < max)
				covering[n] = e;
			n++;
		}
	}
	if (ncontext != NULL)
		*ncontext = nctx;
	return n;
}
