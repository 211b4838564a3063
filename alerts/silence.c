/*
 * The silence registry: validation of a silence's JSON, matching against
 * alert states with expiry at ends_at, and persistence in one small JSON
 * file replaced atomically after every change.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "alert.h"
#include "decision.h"
#include "file.h"
#include "silence.h"
#include "utc.h"
#include "xmalloc.h"


struct silence_registry {
	struct silence	**items;
	int		  n;
	int		  size;
	uint64_t	  counter;	/* fallback id material */
	bool		  shared;	/* HA: silence_load reads nothing */
};

static const char *const silence_keys[SILENCE_NKEYS] = {
	"office", "benefit", "kind", "scope", "direction", "classification",
	"alert_id", "indicator"
};

/* The values a closed matcher accepts; NULL for free strings. */
static const char *const silence_values[SILENCE_NKEYS][3] = {
	{ NULL }, { NULL }, { NULL },
	{ "office", "national", NULL },
	{ "up", "down", NULL },
	{ "explained", "unexplained", NULL },
	{ NULL }, { NULL },
};

struct silence_registry *
silence_create(void)
{
	return xcalloc(1, sizeof (struct silence_registry));
}

void
silence_entry_free(struct silence *s)
{
	int i;

	if (s == NULL)
		return;
	for (i = 0; i < SILENCE_NKEYS; i++)
		free(s->match[i]);
	free(s->comment);
	free(s->created_by);
	free(s);
}

void
silence_free(struct silence_registry *reg)
{
	int i;

	if (reg == NULL)
		return;
	for (i = 0; i < reg->n; i++)
		silence_entry_free(reg->items[i]);
	free(reg->items);
	free(reg);
}

/* Characters in a UTF-8 string (jansson strings are valid UTF-8). */
static size_t
silence_utf8_len(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++) {
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	}
	return n;
}

/* An RFC 3339 time (not bare Unix seconds); 0 or -1. */
static int
silence_parse_time(const json_t *v, int64_t *t)
{
	const char *s;
	size_t len;

	if (!json_is_string(v))
		return -1;
	s = json_string_value(v);
	len = json_string_length(v);
	if (len < 20 || strlen(s) != len || (s[10] != 'T' && s[10] != 't'))
		return -1;
	return decision_parse_time(s, len, t);
}

/* A JSON string without NUL bytes, or NULL. */
static const char *
silence_string(const json_t *v)
{
	if (!json_is_string(v) ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return NULL;
	return json_string_value(v);
}

/* The "matchers" object into s->match; -1 with *cause. */
static int
silence_parse_matchers(const json_t *m, struct silence *s, char **cause)
{
	const char *key, *value;
	json_t *v;
	size_t max;
	int i, j, n = 0;

	if (!json_is_object(m)) {
		*cause = xstrdup("matchers: expected an object");
		return -1;
	}
	json_object_foreach((json_t *)m, key, v) {
		for (i = 0; i < SILENCE_NKEYS; i++) {
			if (strcmp(key, silence_keys[i]) == 0)
				break;
		}
		if (i == SILENCE_NKEYS) {
			*cause = xasprintf("matchers: unknown key \"%.64s\"",
			    key);
			return -1;
		}
		max = i == SILENCE_ALERT_ID ? SILENCE_ALERT_ID_MAX :
		    SILENCE_VALUE_MAX;
		if ((value = silence_string(v)) == NULL || *value == '\0' ||
		    strlen(value) > max) {
			*cause = xasprintf("matchers: %s: expected a string "
			    "of 1 to %zu bytes", key, max);
			return -1;
		}
		if (silence_values[i][0] != NULL) {
			for (j = 0; silence_values[i][j] != NULL; j++) {
				if (strcmp(value, silence_values[i][j]) == 0)
					break;
			}
			if (silence_values[i][j] == NULL) {
				*cause = xasprintf("matchers: %s: expected "
				    "%s or %s", key, silence_values[i][0],
				    silence_values[i][1]);
				return -1;
			}
		}
		s->match[i] = xstrdup(value);
		n++;
	}
	if (n == 0) {
		*cause = xstrdup("matchers: at least one is needed");
		return -1;
	}
	return 0;
}

/* Is id "s-" and 16 lower-case hex digits? */
static bool
silence_id_valid(const char *id)
{
	size_t i;

	if (strlen(id) != SILENCE_ID_SIZE - 1 || strncmp(id, "s-", 2) != 0)
		return false;
	for (i = 2; id[i] != '\0'; i++) {
		if (strchr("0123456789abcdef", id[i]) == NULL)
			return false;
	}
	return true;
}

/*
 * One silence: from a client (stored false: no id, ends_at after now) or
 * from the saved file (stored true: id and created_at too).
 */
static int
silence_parse(const json_t *o, int64_t now, bool stored, struct silence **out,
    char **cause)
{
	struct silence *s;
	const char *key, *str;
	json_t *v;

	*out = NULL;
	if (!json_is_object(o)) {
		*cause = xstrdup("expected a JSON object");
		return -1;
	}
	json_object_foreach((json_t *)o, key, v) {
		if (strcmp(key, "matchers") == 0 ||
		    strcmp(key, "ends_at") == 0 ||
		    strcmp(key, "comment") == 0 ||
		    strcmp(key, "created_by") == 0)
			continue;
		if (stored && (strcmp(key, "id") == 0 ||
		    strcmp(key, "created_at") == 0))
			continue;
		*cause = xasprintf("unknown field \"%.64s\"", key);
		return -1;
	}

	s = xcalloc(1, sizeof *s);
	s->created_at = now;
	if ((v = json_object_get(o, "matchers")) == NULL) {
		*cause = xstrdup("matchers: required");
		goto fail;
	}
	if (silence_parse_matchers(v, s, cause) == -1)
		goto fail;
	if ((v = json_object_get(o, "ends_at")) == NULL) {
		*cause = xstrdup("ends_at: required");
		goto fail;
	}
	if (silence_parse_time(v, &s->ends_at) == -1) {
		*cause = xstrdup("ends_at: expected an RFC 3339 time");
		goto fail;
	}
	if (!stored && s->ends_at <= now) {
		*cause = xstrdup("ends_at: must be in the future");
		goto fail;
	}
	if ((v = json_object_get(o, "comment")) == NULL) {
		*cause = xstrdup("comment: required");
		goto fail;
	}
	if ((str = silence_string(v)) == NULL ||
	    silence_utf8_len(str) > SILENCE_COMMENT_MAX) {
		*cause = xasprintf("comment: expected a string of at most %d "
		    "characters", SILENCE_COMMENT_MAX);
		goto fail;
	}
	s->comment = xstrdup(str);
	if ((v = json_object_get(o, "created_by")) != NULL && !json_is_null(v)) {
		if ((str = silence_string(v)) == NULL ||
		    silence_utf8_len(str) > SILENCE_NAME_MAX) {
			*cause = xasprintf("created_by: expected a string of "
			    "at most %d characters", SILENCE_NAME_MAX);
			goto fail;
		}
		s->created_by = xstrdup(str);
	}
	if (stored) {
		if ((str = silence_string(json_object_get(o, "id"))) == NULL ||
		    !silence_id_valid(str)) {
			*cause = xstrdup("id: expected s- and 16 hex digits");
			goto fail;
		}
		memcpy(s->id, str, SILENCE_ID_SIZE);
		if (silence_parse_time(json_object_get(o, "created_at"),
		    &s->created_at) == -1) {
			*cause = xstrdup("created_at: expected an RFC 3339 "
			    "time");
			goto fail;
		}
	}
	*out = s;
	return 0;

fail:
	silence_entry_free(s);
	return -1;
}

int
silence_from_json(const json_t *o, int64_t now, struct silence **out,
    char **cause)
{
	return silence_parse(o, now, false, out, cause);
}

/* The JSON form; with active unless it is for the file. */
static json_t *
silence_json(const struct silence *s, int64_t now, bool active)
{
	char ends[UTC_TIME_SIZE], created[UTC_TIME_SIZE];
	json_t *o, *m;
	int i;

	m = json_object();
	for (i = 0; i < SILENCE_NKEYS; i++) {
		if (s->match[i] != NULL)
			json_object_set_new(m, silence_keys[i],
			    json_string(s->match[i]));
	}
	(void)utc_format(s->ends_at, ends);
	(void)utc_format(s->created_at, created);
	o = json_pack("{s:s, s:o, s:s, s:s, s:s?, s:s}", "id", s->id,
	    "matchers", m, "ends_at", ends, "comment", s->comment,
	    "created_by", s->created_by, "created_at", created);
	if (o != NULL && active)
		json_object_set_new(o, "active", json_boolean(now < s->ends_at));
	return o;
}

json_t *
silence_to_json(const struct silence *s, int64_t now)
{
	return silence_json(s, now, true);
}

/* The whole registry, for the API or (active false) for the file. */
static json_t *
silence_list(const struct silence_registry *reg, int64_t now, bool active)
{
	json_t *list = json_array();
	int i;

	for (i = 0; i < reg->n; i++)
		json_array_append_new(list, silence_json(reg->items[i], now,
		    active));
	return json_pack("{s:o}", "silences", list);
}

json_t *
silence_list_json(const struct silence_registry *reg, int64_t now)
{
	return silence_list(reg, now, true);
}

/* Write the registry to path with file_replace; -1 with *cause. */
int
silence_save(const struct silence_registry *reg, const char *path,
    char **cause)
{
	json_t *o;
	char *text;
	int rc;

	if (path == NULL)
		return 0;
	o = silence_list(reg, 0, false);
	text = o != NULL ? json_dumps(o, JSON_INDENT(1) |
	    JSON_PRESERVE_ORDER) : NULL;
	json_decref(o);
	if (text == NULL) {
		*cause = xstrdup("silences: cannot encode the registry");
		return -1;
	}
	rc = file_replace("silences", path, text, strlen(text), cause);
	free(text);
	return rc;
}

/* Append s, growing the array. */
static void
silence_append(struct silence_registry *reg, struct silence *s)
{
	if (reg->n == reg->size) {
		reg->size = reg->size == 0 ? 16 : reg->size * 2;
		reg->items = xreallocarray(reg->items, (size_t)reg->size,
		    sizeof *reg->items);
	}
	reg->items[reg->n++] = s;
}

/* A fresh random id not in the registry. */
void
silence_new_id(struct silence_registry *reg, char *id)
{
	uint64_t r;
	struct timespec ts;

	do {
		if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r) {
			clock_gettime(CLOCK_REALTIME, &ts);
			r = ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)ts.tv_nsec ^
			    (++reg->counter * 0x9e3779b97f4a7c15ULL);
		}
		snprintf(id, SILENCE_ID_SIZE, "s-%016" PRIx64, r);
	} while (silence_find(reg, id) != NULL);
}

int
silence_load(struct silence_registry *reg, const char *path, int64_t now,
    char **cause)
{
	json_error_t jerr;
	json_t *o, *list, *v;
	struct silence *s;
	char *why = NULL;
	size_t i;

	if (reg->shared || (access(path, F_OK) == -1 && errno == ENOENT))
		return 0;
	if ((o = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		*cause = xasprintf("silences: %s: %s (line %d)", path,
		    jerr.text, jerr.line);
		return -1;
	}
	list = json_object_get(o, "silences");
	if (!json_is_array(list) || json_object_size(o) != 1) {
		*cause = xasprintf("silences: %s: expected {\"silences\": "
		    "[...]}", path);
		json_decref(o);
		return -1;
	}
	json_array_foreach(list, i, v) {
		if (silence_parse(v, now, true, &s, &why) == -1) {
			*cause = xasprintf("silences: %s: entry %zu: %s", path,
			    i + 1, why);
			free(why);
			json_decref(o);
			return -1;
		}
		if (silence_find(reg, s->id) != NULL) {
			*cause = xasprintf("silences: %s: %s twice", path,
			    s->id);
			silence_entry_free(s);
			json_decref(o);
			return -1;
		}
		if (now - s->ends_at > SILENCE_KEEP_S ||
		    reg->n >= SILENCE_MAX) {
			silence_entry_free(s);
			continue;
		}
		silence_append(reg, s);
	}
	json_decref(o);
	return 0;
}

const struct silence *
silence_add_saved(struct silence_registry *reg, struct silence *s,
    const char *path, char **cause)
{
	if (reg->n >= SILENCE_MAX) {
		*cause = xasprintf("the registry holds %d silences, the most "
		    "it can", SILENCE_MAX);
		silence_entry_free(s);
		return NULL;
	}
	silence_new_id(reg, s->id);
	silence_append(reg, s);
	if (silence_save(reg, path, cause) == -1) {
		reg->n--;
		silence_entry_free(s);
		return NULL;
	}
	return s;
}

int
silence_remove_saved(struct silence_registry *reg, const char *id,
    const char *path, char **cause)
{
	struct silence *s;
	int i;

	for (i = 0; i < reg->n; i++) {
		if (strcmp(reg->items[i]->id, id) == 0)
			break;
	}
	if (i == reg->n) {
		*cause = xasprintf("no silence \"%.64s\"", id);
		return -1;
	}
	s = reg->items[i];
	memmove(&reg->items[i], &reg->items[i + 1],
	    (size_t)(reg->n - i - 1) * sizeof *reg->items);
	reg->n--;
	if (silence_save(reg, path, cause) == -1) {
		memmove(&reg->items[i + 1], &reg->items[i],
		    (size_t)(reg->n - i) * sizeof *reg->items);
		reg->items[i] = s;
		reg->n++;
		return -1;
	}
	silence_entry_free(s);
	return 0;
}

void
silence_set_shared(struct silence_registry *reg, bool shared)
{
	reg->shared = shared;
}

int
silence_from_stored_json(const json_t *o, struct silence **out,
    char **cause)
{
	return silence_parse(o, 0, true, out, cause);
}

json_t *
silence_to_stored_json(const struct silence *s)
{
	return silence_json(s, 0, false);
}

int
silence_put(struct silence_registry *reg, struct silence *s, int64_t now,
    char **cause)
{
	int i, j;

	for (i = 0; i < reg->n; i++) {
		if (strcmp(reg->items[i]->id, s->id) == 0) {
			silence_entry_free(reg->items[i]);
			reg->items[i] = s;
			return 0;
		}
	}
	/* Full: drop those long ended, as silence_load does. */
	if (reg->n >= SILENCE_MAX) {
		for (i = j = 0; i < reg->n; i++) {
			if (now - reg->items[i]->ends_at > SILENCE_KEEP_S)
				silence_entry_free(reg->items[i]);
			else
				reg->items[j++] = reg->items[i];
		}
		reg->n = j;
	}
	if (reg->n >= SILENCE_MAX) {
		*cause = xasprintf("the registry holds %d silences, the most "
		    "it can", SILENCE_MAX);
		silence_entry_free(s);
		return -1;
	}
	silence_append(reg, s);
	return 0;
}

int
silence_count(const struct silence_registry *reg)
{
	return reg->n;
}

const struct silence *
silence_at(const struct silence_registry *reg, int i)
{
	return i >= 0 && i < reg->n ? reg->items[i] : NULL;
}

const struct silence *
silence_find(const struct silence_registry *reg, const char *id)
{
	int i;

	for (i = 0; i < reg->n; i++) {
		if (strcmp(reg->items[i]->id, id) == 0)
			return reg->items[i];
	}
	return NULL;
}

/* Does one silence match a's fields? Expiry aside. */
static bool
silence_matches(const struct silence *s, const struct alert *a)
{
	const char *have[SILENCE_NKEYS];
	int i;

	have[SILENCE_OFFICE] = a->office;
	have[SILENCE_BENEFIT] = a->benefit;
	have[SILENCE_KIND] = a->kind;
	have[SILENCE_SCOPE] = alert_scope_name(a->scope);
	have[SILENCE_DIRECTION] = alert_direction_name(a->direction);
	have[SILENCE_CLASSIFICATION] =
	    alert_classification_name(a->classification);
	have[SILENCE_ALERT_ID] = a->id;
	have[SILENCE_INDICATOR] = alert_indicator(a);
	for (i = 0; i < SILENCE_NKEYS; i++) {
		if (s->match[i] != NULL && strcmp(s->match[i], have[i]) != 0)
			return false;
	}
	return true;
}

const struct silence *
silence_match(const struct silence_registry *reg, const struct alert *a,
    int64_t now)
{
	int i;

	for (i = 0; i < reg->n; i++) {
		if (now < reg->items[i]->ends_at &&
		    silence_matches(reg->items[i], a))
			return reg->items[i];
	}
	return NULL;
}
