/*
 * A peer's heartbeat and the judgement of all peers (ha_peer.h).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ha_peer.h"
#include "utc.h"
#include "xmalloc.h"

/* A string member of o, or "". */
static const char *
ha_peer_str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "";
}

void
ha_peer_clear(struct ha_peer *p)
{
	json_decref(p->beat);
	memset(p, 0, sizeof *p);
}

int
ha_peer_parse(struct ha_peer *p, const char *name, const char *value,
    size_t len, char **cause)
{
	json_error_t err;
	const json_t *v;
	int64_t ms = 0;
	size_t i;

	memset(p, 0, sizeof *p);
	for (i = 0; i < len && value[i] >= '0' && value[i] <= '9'; i++) {
		if (ms > (INT64_MAX - 9) / 10) {
			*cause = xstrdup("the time is out of range");
			return -1;
		}
		ms = ms * 10 + (value[i] - '0');
	}
	if (i == 0 || i == len || value[i] != ' ') {
		*cause = xstrdup("no time before the object");
		return -1;
	}
	i++;
	p->beat = json_loadb(value + i, len - i, 0, &err);
	if (p->beat == NULL || !json_is_object(p->beat)) {
		*cause = xasprintf("not a JSON object: %s",
		    p->beat == NULL ? err.text : "another type");
		ha_peer_clear(p);
		return -1;
	}
	p->seen_ms = ms;
	p->instance = ha_peer_str(p->beat, "instance");
	if (strcmp(p->instance, name) != 0) {
		*cause = xasprintf("it names instance \"%s\"", p->instance);
		ha_peer_clear(p);
		return -1;
	}
	p->host = ha_peer_str(p->beat, "host");
	p->group = ha_peer_str(p->beat, "group");
	p->applied = ha_peer_str(p->beat, "applied");
	p->control_applied = ha_peer_str(p->beat, "control_applied");
	p->alerts_digest = ha_peer_str(p->beat, "alerts_digest");
	p->config_digest = ha_peer_str(p->beat, "config_digest");
	v = json_object_get(p->beat, "stream_time_ms");
	p->stream_ms = json_is_integer(v) && json_integer_value(v) > 0 ?
	    (int64_t)json_integer_value(v) : 0;
	return 0;
}

bool
ha_peer_judge(struct ha_peer *p, size_t n, const char *self,
    int64_t now_ms, int64_t timeout_ms)
{
	const struct ha_peer *me = NULL;
	int64_t newest = 0;
	bool agree = true;
	size_t i, j;

	for (i = 0; i < n; i++) {
		p[i].self = strcmp(p[i].instance, self) == 0;
		if (p[i].self)
			me = &p[i];
		/* A beat stamped after now: Redis's clock went back. Up. */
		p[i].up = now_ms - p[i].seen_ms < timeout_ms;
		if (p[i].up && p[i].stream_ms > newest)
			newest = p[i].stream_ms;
	}
	for (i = 0; i < n; i++) {
		p[i].behind_s = newest > p[i].stream_ms ?
		    (newest - p[i].stream_ms) / 1000 : 0;
		p[i].config_same = me == NULL ||
		    strcmp(p[i].config_digest, me->config_digest) == 0;
		p[i].group_clash = me != NULL && !p[i].self && p[i].up &&
		    *p[i].group != '\0' && strcmp(p[i].group, me->group) == 0;
	}
	/*
	 * Only a comparison at one position means anything: the same
	 * decisions and the same control entries (a registry change is
	 * applied at the head by each peer at its own time).
	 */
	for (i = 0; i < n; i++) {
		if (!p[i].up || *p[i].applied == '\0' ||
		    *p[i].alerts_digest == '\0')
			continue;
		for (j = i + 1; j < n; j++) {
			if (p[j].up && strcmp(p[i].applied, p[j].applied) == 0 &&
			    strcmp(p[i].control_applied,
			    p[j].control_applied) == 0 &&
			    *p[j].alerts_digest != '\0' &&
			    strcmp(p[i].alerts_digest, p[j].alerts_digest) != 0)
				agree = false;
		}
	}
	return agree;
}

/* A member of the beat as it is, or null. */
static json_t *
ha_peer_copy(const struct ha_peer *p, const char *key)
{
	json_t *v = json_object_get(p->beat, key);

	return v != NULL ? json_incref(v) : json_null();
}

json_t *
ha_peer_json(const struct ha_peer *p)
{
	static const char *const copied[] = {
		"boot", "version", "pid", "api", "group", "consumer",
		"checkpointed", "control_applied", "counted", "lag",
		"unclaimed", "config_digest",
	};
	char seen[UTC_TIME_SIZE];
	const json_t *lb;
	json_t *o;
	size_t i;

	utc_format(p->seen_ms / 1000, seen);
	lb = json_object_get(p->beat, "log_behind");
	o = json_pack("{s:s, s:b, s:b, s:s, s:s, s:s, s:I, s:o, s:s, s:b, "
	    "s:o, s:o, s:o}",
	    "instance", p->instance,
	    "self", p->self,
	    "up", p->up,
	    "host", p->host,
	    "last_seen", seen,
	    "applied", p->applied,
	    "behind_s", (json_int_t)p->behind_s,
	    "control_behind", json_is_integer(lb) &&
	    json_integer_value(lb) >= 0 ? json_incref((json_t *)lb) :
	    json_null(),
	    "alerts_digest", p->alerts_digest,
	    "config_same", p->config_same,
	    "delivered", ha_peer_copy(p, "delivered"),
	    "by_peer", ha_peer_copy(p, "by_peer"),
	    "repeats", ha_peer_copy(p, "repeats"));
	if (o == NULL)
		return json_null();
	for (i = 0; i < sizeof copied / sizeof copied[0]; i++)
		json_object_set_new(o, copied[i], ha_peer_copy(p, copied[i]));
	json_object_set_new(o, "group_clash", json_boolean(p->group_clash));
	return o;
}
