/*
 * The notification ledger: a small list kept in memory and rewritten as a
 * whole, since only alerts that are firing and unexplained are in it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "file.h"
#include "ledger.h"
#include "xmalloc.h"

#define LEDGER_VERSION	1

struct ledger {
	char			*path;
	struct ledger_entry	*entries;
	int			 n;
	int			 size;
	int			 dirty;
};

static struct ledger_entry *
ledger_add(struct ledger *l, const char *alert_id)
{
	struct ledger_entry *e;

	if (l->n >= LEDGER_MAX_ALERTS)
		return NULL;
	if (l->n == l->size) {
		l->size = l->size == 0 ? 16 : l->size * 2;
		l->entries = xreallocarray(l->entries, (size_t)l->size,
		    sizeof *l->entries);
	}
	e = &l->entries[l->n++];
	memset(e, 0, sizeof *e);
	snprintf(e->alert_id, sizeof e->alert_id, "%s", alert_id);
	return e;
}

/* One entry of the file; -1 when it is not as ledger_save writes it. */
static int
ledger_load_entry(struct ledger *l, const json_t *o)
{
	const json_t *told, *t, *alert;
	const char *id, *receiver;
	struct ledger_entry *e;
	size_t i;

	id = json_string_value(json_object_get(o, "alert_id"));
	alert = json_object_get(o, "alert");
	told = json_object_get(o, "told");
	if (id == NULL || strlen(id) >= sizeof e->alert_id ||
	    !json_is_object(alert) || !json_is_array(told) ||
	    json_array_size(told) > LEDGER_MAX_TOLD ||
	    (e = ledger_add(l, id)) == NULL)
		return -1;
	e->alert = json_incref((json_t *)alert);
	json_array_foreach(told, i, t) {
		struct ledger_told *w = &e->told[e->ntold];

		receiver = json_string_value(json_object_get(t, "receiver"));
		if (receiver == NULL || strlen(receiver) >= sizeof w->receiver ||
		    !json_is_integer(json_object_get(t, "last_sent")) ||
		    !json_is_integer(json_object_get(t, "repeats")))
			return -1;
		snprintf(w->receiver, sizeof w->receiver, "%s", receiver);
		w->last_sent = json_integer_value(json_object_get(t,
		    "last_sent"));
		w->repeats = (uint32_t)json_integer_value(json_object_get(t,
		    "repeats"));
		e->ntold++;
	}
	return 0;
}

struct ledger *
ledger_open(const char *path, char **cause)
{
	struct ledger *l = xcalloc(1, sizeof *l);
	json_error_t err;
	json_t *o, *list, *v;
	size_t i;

	l->path = xstrdup(path);
	if ((o = json_load_file(path, JSON_REJECT_DUPLICATES, &err)) == NULL) {
		if (access(path, F_OK) == -1 && errno == ENOENT)
			return l;
		*cause = xasprintf("%s: line %d: %s", path, err.line,
		    err.text);
		ledger_free(l);
		return NULL;
	}
	list = json_object_get(o, "alerts");
	if (json_integer_value(json_object_get(o, "version")) !=
	    LEDGER_VERSION || !json_is_array(list)) {
		*cause = xasprintf("%s: not a notification ledger", path);
		goto fail;
	}
	json_array_foreach(list, i, v) {
		if (ledger_load_entry(l, v) == -1) {
			*cause = xasprintf("%s: entry %zu is damaged", path, i);
			goto fail;
		}
	}
	json_decref(o);
	return l;

fail:
	json_decref(o);
	ledger_free(l);
	return NULL;
}

void
ledger_free(struct ledger *l)
{
	int i;

	if (l == NULL)
		return;
	for (i = 0; i < l->n; i++)
		json_decref(l->entries[i].alert);
	free(l->entries);
	free(l->path);
	free(l);
}

struct ledger_entry *
ledger_find(struct ledger *l, const char *alert_id)
{
	int i;

	for (i = 0; i < l->n; i++) {
		if (strcmp(l->entries[i].alert_id, alert_id) == 0)
			return &l->entries[i];
	}
	return NULL;
}

int
ledger_told(struct ledger *l, const char *alert_id, json_t *alert,
    const char *receiver, int64_t now, bool repeat)
{
	struct ledger_entry *e;
	struct ledger_told *t = NULL;
	int i;

	if ((e = ledger_find(l, alert_id)) == NULL &&
	    (e = ledger_add(l, alert_id)) == NULL)
		return -1;
	json_incref(alert);
	json_decref(e->alert);
	e->alert = alert;
	for (i = 0; i < e->ntold; i++) {
		if (strcmp(e->told[i].receiver, receiver) == 0)
			t = &e->told[i];
	}
	if (t == NULL) {
		if (e->ntold == LEDGER_MAX_TOLD)
			return -1;
		t = &e->told[e->ntold++];
		memset(t, 0, sizeof *t);
		snprintf(t->receiver, sizeof t->receiver, "%s", receiver);
	}
	t->last_sent = now;
	if (repeat)
		t->repeats++;
	l->dirty = 1;
	return 0;
}

bool
ledger_sync(struct ledger *l, const char *alert_id, const char *receiver,
    uint32_t repeats, int64_t at)
{
	struct ledger_entry *e = ledger_find(l, alert_id);
	struct ledger_told *t;
	bool changed = false;
	int i;

	for (i = 0; e != NULL && i < e->ntold; i++) {
		t = &e->told[i];
		if (strcmp(t->receiver, receiver) != 0)
			continue;
		if (repeats > t->repeats) {
			t->repeats = repeats;
			changed = true;
		}
		if (at > t->last_sent) {
			t->last_sent = at;
			changed = true;
		}
	}
	if (changed)
		l->dirty = 1;
	return changed;
}

void
ledger_forget(struct ledger *l, const char *alert_id)
{
	struct ledger_entry *e = ledger_find(l, alert_id);
	int i;

	if (e == NULL)
		return;
	i = (int)(e - l->entries);
	json_decref(e->alert);
	memmove(&l->entries[i], &l->entries[i + 1],
	    (size_t)(l->n - i - 1) * sizeof *l->entries);
	l->n--;
	l->dirty = 1;
}

int
ledger_count(const struct ledger *l)
{
	return l->n;
}

struct ledger_entry *
ledger_at(struct ledger *l, int i)
{
	return i >= 0 && i < l->n ? &l->entries[i] : NULL;
}

int
ledger_save(struct ledger *l, char **cause)
{
	json_t *o, *list, *told;
	char *s;
	int i, j, rc;

	if (!l->dirty)
		return 0;
	list = json_array();
	for (i = 0; i < l->n; i++) {
		struct ledger_entry *e = &l->entries[i];

		told = json_array();
		for (j = 0; j < e->ntold; j++)
			json_array_append_new(told, json_pack("{s:s, s:I, s:I}",
			    "receiver", e->told[j].receiver,
			    "last_sent", (json_int_t)e->told[j].last_sent,
			    "repeats", (json_int_t)e->told[j].repeats));
		json_array_append_new(list, json_pack("{s:s, s:O, s:o}",
		    "alert_id", e->alert_id, "alert", e->alert,
		    "told", told));
	}
	o = json_pack("{s:i, s:o}", "version", LEDGER_VERSION, "alerts", list);
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	rc = file_replace("ledger", l->path, s, strlen(s), cause);
	free(s);
	if (rc == 0)
		l->dirty = 0;
	return rc;
}
