/*
 * Shared registries (ha_registry.h). A write runs one Lua script that
 * checks the registry's hash, reads the decisions stream's last id (`at`),
 * appends the change to the control log and updates the hash, atomically;
 * every instance then applies the change from the log at its position
 * (ha_log.c), this one included, and the request is answered once it has
 * (or after ha.write_timeout). The API layer lives in the checkpoint
 * (HREG), so a replay sees the registries as they were at its position;
 * the state directory's files are a mirror, rewritten at most once a
 * second, and imported once at an instance's first HA start.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <jansson.h>

#include "buf.h"
#include "checkpoint.h"
#include "clock.h"
#include "conf.h"
#include "decision.h"
#include "explain.h"
#include "ha.h"
#include "ha_log.h"
#include "ha_registry.h"
#include "indicator.h"
#include "ingest.h"
#include "log.h"
#include "metrics.h"
#include "monitor.h"
#include "rlink.h"
#include "series.h"
#include "silence.h"
#include "utc.h"
#include "xmalloc.h"

#define HREG_TAG	CP_TAG('H', 'R', 'E', 'G')
#define HREG_VERSION	1
#define HREG_RETRY_MS	500	/* start: link not up, or a failed step */
#define HREG_MIRROR_MS	1000	/* the files are rewritten at most this often */

/*
 * KEYS: the registry's hash, the log, the decisions stream. ARGV: kind, op,
 * id, body (put), by, max entries (0: no limit), cutoff (silences: drop
 * those that ended before this RFC 3339 time). Returns {0, log id}, or
 * {409 | 404, message}.
 */
static struct rlink_script hr_script = { "registry",
	"local kind, op, id, body, by = ARGV[1], ARGV[2], ARGV[3], ARGV[4], "
	"ARGV[5]\n"
	"local max, cutoff = tonumber(ARGV[6]), ARGV[7]\n"
	"local have = redis.call('HEXISTS', KEYS[1], id) == 1\n"
	"if op == 'put' then\n"
	"  if have then\n"
	"    return {409, kind .. ' \"' .. id .. '\" already exists'}\n"
	"  end\n"
	"  if cutoff ~= '' then\n"
	"    local all = redis.call('HGETALL', KEYS[1])\n"
	"    for i = 1, #all, 2 do\n"
	"      local e = string.match(all[i + 1], '\"ends_at\":%s*\"([^\"]+)\"')\n"
	"      if e ~= nil and e < cutoff then\n"
	"        redis.call('HDEL', KEYS[1], all[i])\n"
	"      end\n"
	"    end\n"
	"  end\n"
	"  if max > 0 and redis.call('HLEN', KEYS[1]) >= max then\n"
	"    return {409, 'the registry holds ' .. max .. ' ' .. kind .. "
	"'s, the most it can'}\n"
	"  end\n"
	"elseif not have then\n"
	"  return {404, 'no ' .. kind .. ' \"' .. id .. '\"'}\n"
	"end\n"
	"local at = '0-0'\n"
	"local ok, info = pcall(redis.call, 'XINFO', 'STREAM', KEYS[3])\n"
	"if ok then\n"
	"  for i = 1, #info, 2 do\n"
	"    if info[i] == 'last-generated-id' then at = info[i + 1] end\n"
	"  end\n"
	"end\n"
	"local f = {'v', '1', 'kind', kind, 'op', op, 'id', id, 'by', by, "
	"'at', at}\n"
	"if op == 'put' then f[#f + 1] = 'body'; f[#f + 1] = body end\n"
	"local lid = redis.call('XADD', KEYS[2], '*', unpack(f))\n"
	"if op == 'put' then\n"
	"  redis.call('HSET', KEYS[1], id, '{\"log_id\":\"' .. lid .. "
	"'\",\"by\":\"' .. by .. '\",' .. string.sub(body, 2))\n"
	"else\n"
	"  redis.call('HDEL', KEYS[1], id)\n"
	"end\n"
	"return {0, lid}\n",
	""
};

enum hr_what {
	HR_EXPLANATION,
	HR_SILENCE,
	HR_REBASELINE,
	HR_REFIT,
};

/* One write: the script's answer, then the wait until applied here. */
struct hr_write {
	struct ha_registry	*hr;		/* NULL: detached at free */
	ha_registry_done_cb	 cb;		/* NULL: import or detached */
	void			*arg;
	enum hr_what		 what;
	int			 status;	/* on success */
	json_t			*body;		/* the answer on success */
	char			 log_id[STREAM_ID_MAX];
	struct hr_write		*next;		/* hr->waiting */
};

struct ha_registry {
	struct ha		*ha;
	struct ha_log		*hl;
	struct explain_registry	*reg;
	struct silence_registry	*silences;
	struct monitor		*mon;
	struct ingest		*in;

	/* The API layer of explanations: id -> stored JSON, shadowed too. */
	json_t			*layer;
	struct hr_write		*waiting;	/* applied-here waits */
	/* A failed rebaseline or refit when applied, for its waiter. */
	char			 failed_id[STREAM_ID_MAX];
	char			*failed_cause;

	struct event		*retry_ev;	/* start steps */
	struct event		*mirror_ev;
	bool			 mirror_dirty;
	bool			 checked_gap;	/* the trimmed-log check is done */
	bool			 imported;
	int			 importing;	/* script calls in flight */
	bool			 import_failed;
};

static void hr_retry(struct ha_registry *hr);
static void hr_step_cb(evutil_socket_t fd, short what, void *arg);

static const char *const *
hr_benefits(const struct ha_registry *hr)
{
	return (const char *const *)ha_conf(hr->ha)->benefits;
}

static int
hr_nbenefits(const struct ha_registry *hr)
{
	return ha_conf(hr->ha)->nbenefits;
}

/* The registry changed: rewrite the files within a second. */
static void
hr_mirror_later(struct ha_registry *hr)
{
	struct timeval tv = { HREG_MIRROR_MS / 1000, 0 };

	hr->mirror_dirty = true;
	if (hr->mirror_ev != NULL && !evtimer_pending(hr->mirror_ev, NULL))
		evtimer_add(hr->mirror_ev, &tv);
}

/* The files, so that switching HA off starts from the latest registries. */
static void
hr_mirror_write(struct ha_registry *hr)
{
	const char *epath = explain_path(hr->reg);
	char *spath, *cause = NULL;

	if (!hr->mirror_dirty)
		return;
	hr->mirror_dirty = false;
	if (epath != NULL && explain_save(hr->reg, epath, hr_benefits(hr),
	    &cause) == -1) {
		log_warnx("ha: registry mirror: %s", cause);
		free(cause);
		cause = NULL;
	}
	spath = xasprintf("%s/silences.json", ha_conf(hr->ha)->state_dir);
	if (silence_save(hr->silences, spath, &cause) == -1) {
		log_warnx("ha: registry mirror: %s", cause);
		free(cause);
	}
	free(spath);
}

static void
hr_mirror_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	hr_mirror_write(arg);
}

/* A stored object without the members the hash adds. */
static json_t *
hr_strip(const json_t *o)
{
	json_t *copy = json_deep_copy(o);

	if (copy != NULL) {
		json_object_del(copy, "log_id");
		json_object_del(copy, "by");
		json_object_del(copy, "active");
	}
	return copy;
}

/*
 * Put one explanation of the layer into the registry unless the config
 * shadows it: 1 (the registry changed), 0 (shadowed), -1 (bad, logged).
 */
static int
hr_explain_install(struct ha_registry *hr, const char *id, const json_t *o)
{
	const struct explanation *old = explain_find(hr->reg, id);
	struct explanation *e;
	char *cause = NULL;
	json_t *copy;
	int rc;

	if (old != NULL && old->from_config) {
		log_warnx("ha: explanation \"%s\" is shadowed by this host's "
		    "configuration file", id);
		return 0;
	}
	copy = hr_strip(o);
	rc = copy != NULL ? explain_from_stored_json(copy, hr_benefits(hr),
	    hr_nbenefits(hr), &e, &cause) : -1;
	json_decref(copy);
	if (rc == 0 && strcmp(e->id, id) != 0) {
		cause = xasprintf("its id is \"%s\"", e->id);
		explain_entry_free(e);
		rc = -1;
	}
	if (rc == 0 && explain_put(hr->reg, e, &cause) == 0)
		return 1;
	log_warnx("ha: explanation \"%s\" not applied: %s", id,
	    cause != NULL ? cause : "out of memory");
	free(cause);
	return -1;
}

/* The registries changed at this position. */
static void
hr_changed(struct ha_registry *hr, bool explanations)
{
	if (explanations && hr->mon != NULL)
		monitor_explanations_changed(hr->mon);
	if (hr->in != NULL)
		ingest_touch(hr->in);
	hr_mirror_later(hr);
}

int
ha_registry_apply_explanation(struct ha_registry *hr, const char *op,
    const char *id, const char *body, size_t bodylen, char **cause)
{
	json_error_t jerr;
	json_t *o;
	int rc;

	if (id == NULL || *id == '\0' || strlen(id) > EXPLAIN_ID_MAX) {
		*cause = xstrdup("explanation: a bad id");
		return -1;
	}
	if (strcmp(op, "delete") == 0) {
		json_object_del(hr->layer, id);
		if (explain_find(hr->reg, id) == NULL ||
		    explain_find(hr->reg, id)->from_config)
			return 0;
		(void)explain_remove(hr->reg, id);
		log_info("ha: explanation \"%s\" deleted", id);
		hr_changed(hr, true);
		return 0;
	}
	if (strcmp(op, "put") != 0) {
		*cause = xasprintf("explanation: unknown op %.16s", op);
		return -1;
	}
	if (body == NULL || (o = json_loadb(body, bodylen,
	    JSON_REJECT_DUPLICATES, &jerr)) == NULL || !json_is_object(o)) {
		*cause = xstrdup("explanation: a bad body");
		if (body != NULL && o != NULL)
			json_decref(o);
		return -1;
	}
	json_object_set_new(hr->layer, id, o);
	if ((rc = hr_explain_install(hr, id, o)) == -1) {
		json_object_del(hr->layer, id);
		*cause = xasprintf("explanation \"%.64s\": a bad body", id);
		return -1;
	}
	if (rc == 1) {
		log_info("ha: explanation \"%s\" applied", id);
		hr_changed(hr, true);
	}
	return 0;
}

int
ha_registry_apply_silence(struct ha_registry *hr, const char *op,
    const char *id, const char *body, size_t bodylen, char **cause)
{
	struct silence *s;
	json_error_t jerr;
	json_t *o, *copy;
	char *why = NULL;
	int rc;

	if (id == NULL || strlen(id) != SILENCE_ID_SIZE - 1) {
		*cause = xstrdup("silence: a bad id");
		return -1;
	}
	if (strcmp(op, "delete") == 0) {
		if (silence_find(hr->silences, id) == NULL)
			return 0;
		if (silence_remove_saved(hr->silences, id, NULL, &why) == -1) {
			free(why);
			return 0;
		}
		log_info("ha: silence %s deleted", id);
		hr_changed(hr, false);
		return 0;
	}
	if (strcmp(op, "put") != 0) {
		*cause = xasprintf("silence: unknown op %.16s", op);
		return -1;
	}
	if (body == NULL || (o = json_loadb(body, bodylen,
	    JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		*cause = xstrdup("silence: a bad body");
		return -1;
	}
	copy = hr_strip(o);
	json_decref(o);
	rc = copy != NULL ? silence_from_stored_json(copy, &s, &why) : -1;
	json_decref(copy);
	if (rc == 0 && strcmp(s->id, id) != 0) {
		why = xasprintf("its id is %s", s->id);
		silence_entry_free(s);
		rc = -1;
	}
	if (rc == 0)
		rc = silence_put(hr->silences, s, clock_now(), &why);
	if (rc == -1) {
		*cause = xasprintf("silence %s: %s", id,
		    why != NULL ? why : "out of memory");
		free(why);
		return -1;
	}
	log_info("ha: silence %s applied", id);
	hr_changed(hr, false);
	return 0;
}

/* A rebaseline or refit failed when applied: keep why for its waiter. */
static int
hr_refuse(struct ha_registry *hr, const struct ha_change *c, char *why,
    char **cause)
{
	stream_id_format(c->log_id, hr->failed_id);
	free(hr->failed_cause);
	hr->failed_cause = xstrdup(why);
	*cause = why;
	return -1;
}

/* The series or model a rebaseline or refit names, from its body o. */
static int
hr_target(struct ha_registry *hr, const json_t *o, bool series, int *ind,
    int *benefit, int *kind, const struct series **s, char **why)
{
	const struct conf *conf = ha_conf(hr->ha);
	const char *iname, *bname, *kname, *office;
	int oi;

	iname = json_string_value(json_object_get(o, "indicator"));
	bname = json_string_value(json_object_get(o, "benefit"));
	kname = json_string_value(json_object_get(o, "kind"));
	office = json_string_value(json_object_get(o, "office"));
	if (iname == NULL || bname == NULL || kname == NULL ||
	    (series && office == NULL)) {
		*why = xstrdup("a bad body");
		return -1;
	}
	if ((*ind = indicators_find(ingest_indicators(hr->in), iname)) == -1 ||
	    (*benefit = conf_benefit_index(conf, bname, strlen(bname))) == -1 ||
	    (*kind = decision_kind_parse(kname)) == -1) {
		*why = xasprintf("unknown %s/%s/%s here", iname, bname, kname);
		return -1;
	}
	if (!series)
		return 0;
	oi = series_office_lookup(ingest_series(hr->in), office);
	*s = oi == SERIES_UNKNOWN ? NULL : series_get_in(ingest_series(hr->in),
	    *ind, oi, *benefit, *kind);
	if (*s == NULL) {
		*why = xasprintf("no series %.64s/%s/%s", office, bname, kname);
		return -1;
	}
	return 0;
}

/* A change's body as JSON, or NULL. */
static json_t *
hr_body(const struct ha_change *c)
{
	json_error_t jerr;

	if (c->body == NULL)
		return NULL;
	return json_loadb(c->body, c->bodylen, 0, &jerr);
}

/* Log apply: a rebaseline, checked again at its position. */
static int
hr_apply_rebaseline(void *arg, const struct ha_change *c, char **cause)
{
	struct ha_registry *hr = arg;
	const struct series *s = NULL;
	const char *note;
	char *why = NULL;
	json_t *o;
	int ind, benefit, kind;

	if ((o = hr_body(c)) == NULL)
		return hr_refuse(hr, c, xstrdup("a bad body"), cause);
	if (hr_target(hr, o, true, &ind, &benefit, &kind, &s, &why) == -1) {
		json_decref(o);
		return hr_refuse(hr, c, why, cause);
	}
	note = json_string_value(json_object_get(o, "note"));
	if (monitor_rebaseline(hr->mon, s, note != NULL ? note :
	    "new level accepted through the API", &why) == -1) {
		log_notice("ha: rebaseline of %s not done: %s",
		    c->id != NULL ? c->id : "?", why);
		json_decref(o);
		return hr_refuse(hr, c, why, cause);
	}
	json_decref(o);
	log_notice("ha: %s rebaselined (by %s)", c->id != NULL ? c->id : "?",
	    c->by != NULL ? c->by : "?");
	ingest_touch(hr->in);
	return 0;
}

/* Log apply: a refit request, checked again at its position. */
static int
hr_apply_refit(void *arg, const struct ha_change *c, char **cause)
{
	struct ha_registry *hr = arg;
	char *why = NULL;
	json_t *o;
	int ind, benefit, kind;

	if ((o = hr_body(c)) == NULL)
		return hr_refuse(hr, c, xstrdup("a bad body"), cause);
	if (hr_target(hr, o, false, &ind, &benefit, &kind, NULL, &why) == -1 ||
	    monitor_request_refit_in(hr->mon, ind, benefit,
	    kind, &why) == -1) {
		json_decref(o);
		return hr_refuse(hr, c, why != NULL ? why : xstrdup("refused"),
		    cause);
	}
	json_decref(o);
	log_notice("ha: refit of %s requested (by %s)",
	    c->id != NULL ? c->id : "?", c->by != NULL ? c->by : "?");
	ingest_touch(hr->in);
	return 0;
}

static int
hr_apply_explanation_cb(void *arg, const struct ha_change *c, char **cause)
{
	return ha_registry_apply_explanation(arg, c->op, c->id, c->body,
	    c->bodylen, cause);
}

static int
hr_apply_silence_cb(void *arg, const struct ha_change *c, char **cause)
{
	return ha_registry_apply_silence(arg, c->op, c->id, c->body,
	    c->bodylen, cause);
}

/* HREG: the API layer as of the checkpoint's positions, JSON. */
static void
hr_save(void *arg, struct buf *b)
{
	struct ha_registry *hr = arg;
	json_t *o, *list = json_array();
	char *text;
	int i;

	for (i = 0; i < silence_count(hr->silences); i++)
		json_array_append_new(list,
		    silence_to_stored_json(silence_at(hr->silences, i)));
	o = json_pack("{s:O, s:o}", "explanations", hr->layer, "silences",
	    list);
	text = o != NULL ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(o);
	buf_put_str(b, text != NULL ? text : "");
	free(text);
}

/* Replace the API layer by o's: {"explanations": {...}, "silences": [...]}. */
static int
hr_install(struct ha_registry *hr, const json_t *expl, const json_t *sil,
    char **cause)
{
	struct silence *s;
	const char *id;
	json_t *v, *copy;
	char *why = NULL;
	size_t i;
	int n, rc;

	if (!json_is_object(expl) || !json_is_array(sil)) {
		*cause = xstrdup("expected explanations and silences");
		return -1;
	}
	/* Out with the old layer, in with the new. */
	for (n = explain_count(hr->reg); n-- > 0;) {
		if (!explain_at(hr->reg, n)->from_config) {
			char eid[EXPLAIN_ID_MAX + 1];

			snprintf(eid, sizeof eid, "%s", explain_at(hr->reg,
			    n)->id);
			(void)explain_remove(hr->reg, eid);
		}
	}
	while (silence_count(hr->silences) > 0) {
		char sid[SILENCE_ID_SIZE];

		snprintf(sid, sizeof sid, "%s", silence_at(hr->silences, 0)->id);
		if (silence_remove_saved(hr->silences, sid, NULL, &why) == -1) {
			free(why);
			break;
		}
	}
	json_decref(hr->layer);
	hr->layer = json_object();
	json_object_foreach((json_t *)expl, id, v) {
		json_object_set(hr->layer, id, v);
		(void)hr_explain_install(hr, id, v);
	}
	json_array_foreach(sil, i, v) {
		copy = hr_strip(v);
		rc = copy != NULL ? silence_from_stored_json(copy, &s, &why) :
		    -1;
		json_decref(copy);
		if (rc == 0)
			rc = silence_put(hr->silences, s, clock_now(), &why);
		if (rc == -1) {
			log_warnx("ha: a stored silence is skipped: %s",
			    why != NULL ? why : "out of memory");
			free(why);
			why = NULL;
		}
	}
	return 0;
}

static int
hr_load(void *arg, uint32_t version, struct buf_reader *r, char **cause)
{
	struct ha_registry *hr = arg;
	json_error_t jerr;
	const unsigned char *p;
	uint32_t len;
	json_t *o;
	int rc;

	(void)version;
	if (buf_get_u32(r, &len) == -1 || (p = buf_get_bytes(r, len)) == NULL) {
		*cause = xstrdup("HREG: short");
		return -1;
	}
	if ((o = json_loadb((const char *)p, len, 0, &jerr)) == NULL) {
		*cause = xasprintf("HREG: %s", jerr.text);
		return -1;
	}
	rc = hr_install(hr, json_object_get(o, "explanations"),
	    json_object_get(o, "silences"), cause);
	json_decref(o);
	/* The checkpointed alerts were classified with this layer. */
	if (rc == 0)
		hr_mirror_later(hr);
	return rc;
}

struct ha_registry *
ha_registry_create(struct ha *ha, struct ha_log *hl,
    struct explain_registry *reg, struct silence_registry *silences,
    struct monitor *mon, struct ingest *in)
{
	struct ha_registry *hr = xcalloc(1, sizeof *hr);

	hr->ha = ha;
	hr->hl = hl;
	hr->reg = reg;
	hr->silences = silences;
	hr->mon = mon;
	hr->in = in;
	hr->layer = json_object();
	explain_set_shared(reg, true);
	silence_set_shared(silences, true);
	if (hl != NULL) {
		ha_log_handle(hl, "explanation", hr_apply_explanation_cb, hr);
		ha_log_handle(hl, "silence", hr_apply_silence_cb, hr);
		ha_log_handle(hl, "rebaseline", hr_apply_rebaseline, hr);
		ha_log_handle(hl, "refit", hr_apply_refit, hr);
	}
	if (in != NULL)
		(void)ingest_add_section(in, HREG_TAG, HREG_VERSION, hr_save,
		    hr_load, hr);
	if (ha != NULL && ha_base(ha) != NULL) {
		hr->retry_ev = evtimer_new(ha_base(ha), hr_step_cb, hr);
		hr->mirror_ev = evtimer_new(ha_base(ha), hr_mirror_cb, hr);
	}
	return hr;
}

/* Try the start steps again a little later. */
static void
hr_retry(struct ha_registry *hr)
{
	struct timeval tv = { 0, HREG_RETRY_MS * 1000 };

	if (hr->retry_ev != NULL)
		evtimer_add(hr->retry_ev, &tv);
}

/* The value of name in a flat RESP2 map (XINFO), or NULL. */
static const redisReply *
hr_map_get(const redisReply *r, const char *name)
{
	size_t i;

	if (r == NULL || r->type != REDIS_REPLY_ARRAY)
		return NULL;
	for (i = 0; i + 1 < r->elements; i += 2) {
		if (r->element[i]->type == REDIS_REPLY_STRING &&
		    strcmp(r->element[i]->str, name) == 0)
			return r->element[i + 1];
	}
	return NULL;
}

/* HGETALL's flat array as a JSON object of the stored values. */
static json_t *
hr_hash_json(const redisReply *r)
{
	json_error_t jerr;
	json_t *o = json_object(), *v;
	size_t i;

	for (i = 0; r != NULL && r->type == REDIS_REPLY_ARRAY &&
	    i + 1 < r->elements; i += 2) {
		if (r->element[i + 1]->type != REDIS_REPLY_STRING)
			continue;
		if ((v = json_loadb(r->element[i + 1]->str,
		    r->element[i + 1]->len, 0, &jerr)) == NULL ||
		    !json_is_object(v)) {
			log_warnx("ha: a stored entry %.64s is damaged; "
			    "skipped", r->element[i]->str);
			json_decref(v);
			continue;
		}
		json_object_set_new(o, r->element[i]->str, v);
	}
	return o;
}

/* The trimmed-log fallback, second half: the silences' hash. */
static void
hr_snapshot_silences_cb(void *arg, const redisReply *r)
{
	struct ha_registry *hr = arg;
	json_t *sil = hr_hash_json(r), *list = json_array(), *v, *expl;
	const char *id;
	char *cause = NULL;

	expl = hr->layer;
	hr->layer = NULL;
	if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
		hr->layer = expl;
		json_decref(sil);
		json_decref(list);
		hr->checked_gap = false;
		hr_retry(hr);
		return;
	}
	json_object_foreach(sil, id, v) {
		json_array_append(list, v);
	}
	if (hr_install(hr, expl, list, &cause) == -1) {
		log_warnx("ha: %s", cause);
		free(cause);
	}
	json_decref(expl);
	json_decref(sil);
	json_decref(list);
	if (hr->mon != NULL)
		monitor_explanations_changed(hr->mon);
	if (hr->in != NULL)
		ingest_touch(hr->in);
	hr_retry(hr);
}

/* The trimmed-log fallback, first half: the explanations' hash. */
static void
hr_snapshot_explanations_cb(void *arg, const redisReply *r)
{
	struct ha_registry *hr = arg;
	struct rlink *rl = ha_link(hr->ha);
	const char *argv[2];
	char *key;

	if (r == NULL || r->type != REDIS_REPLY_ARRAY || rl == NULL) {
		hr->checked_gap = false;
		hr_retry(hr);
		return;
	}
	/* Kept in layer until the silences are in: then both at once. */
	json_decref(hr->layer);
	hr->layer = hr_hash_json(r);
	key = ha_key(hr->ha, "silences");
	argv[0] = "HGETALL";
	argv[1] = key;
	if (rlink_command(rl, hr_snapshot_silences_cb, hr, 2, argv,
	    NULL) == -1) {
		hr->checked_gap = false;
		hr_retry(hr);
	}
	free(key);
}

/* XINFO STREAM of the log: was it trimmed past our position? */
static void
hr_gap_cb(void *arg, const redisReply *r)
{
	struct ha_registry *hr = arg;
	const redisReply *v;
	struct stream_id deleted;
	struct rlink *rl = ha_link(hr->ha);
	const char *argv[2];
	char *key, have[STREAM_ID_MAX];

	if (r == NULL) {
		hr_retry(hr);
		return;
	}
	hr->checked_gap = true;
	/* No log yet (an error: no such key) is no gap. */
	if (r->type == REDIS_REPLY_ERROR ||
	    (v = hr_map_get(r, "max-deleted-entry-id")) == NULL ||
	    v->type != REDIS_REPLY_STRING ||
	    stream_id_parse(v->str, v->len, &deleted) == -1 ||
	    (deleted.ms == 0 && deleted.seq == 0) ||
	    stream_id_cmp(&deleted, ha_log_applied(hr->hl)) <= 0) {
		hr_retry(hr);
		return;
	}
	stream_id_format(ha_log_applied(hr->hl), have);
	log_errorx("ha: control log trimmed past our position (%s, trimmed "
	    "through %s); registries taken from the snapshot; alerts may "
	    "differ from peers", have, v->str);
	metrics.ha_log_gaps++;
	key = ha_key(hr->ha, "explanations");
	argv[0] = "HGETALL";
	argv[1] = key;
	if (rl == NULL || rlink_command(rl, hr_snapshot_explanations_cb, hr,
	    2, argv, NULL) == -1) {
		hr->checked_gap = false;
		hr_retry(hr);
	}
	free(key);
}

/* The arguments of one script call; the strings are borrowed. */
struct hr_call {
	const char	*kind;
	const char	*op;
	const char	*id;
	const char	*body;	/* NULL: delete */
	int		 max;
	const char	*cutoff;	/* "" for explanations */
};

/* Send the registry script; 0 or -1 (not sent). */
static int
hr_eval(struct ha_registry *hr, const struct hr_call *c, rlink_reply_cb cb,
    void *arg)
{
	struct rlink *rl = ha_link(hr->ha);
	const char *argv[10];
	char *hash, *log, max[16];
	int rc;

	if (rl == NULL || !rlink_up(rl))
		return -1;
	hash = ha_key(hr->ha, strcmp(c->kind, "explanation") == 0 ?
	    "explanations" : "silences");
	log = ha_key(hr->ha, "log");
	snprintf(max, sizeof max, "%d", c->max);
	argv[0] = hash;
	argv[1] = log;
	argv[2] = ha_conf(hr->ha)->stream;
	argv[3] = c->kind;
	argv[4] = c->op;
	argv[5] = c->id;
	argv[6] = c->body != NULL ? c->body : "";
	argv[7] = ha_instance(hr->ha);
	argv[8] = max;
	argv[9] = c->cutoff;
	rc = rlink_eval(rl, &hr_script, cb, arg, 3, 10, argv, NULL);
	free(hash);
	free(log);
	return rc;
}

/* The cutoff of silences kept: ended SILENCE_KEEP_S before now. */
static void
hr_cutoff(char *buf)
{
	(void)utc_format((int64_t)time(NULL) - SILENCE_KEEP_S, buf);
}

/* SET imported:<instance>. */
static void
hr_set_cb(void *arg, const redisReply *r)
{
	struct ha_registry *hr = arg;

	if (r == NULL || r->type == REDIS_REPLY_ERROR) {
		hr_retry(hr);
		return;
	}
	hr->imported = true;
	log_notice("ha: the state directory's registries are imported");
}

/* Every import answered: mark this instance's files imported. */
static void
hr_import_done(struct ha_registry *hr)
{
	struct rlink *rl = ha_link(hr->ha);
	const char *argv[3];
	char *key, when[UTC_TIME_SIZE];

	if (hr->import_failed || rl == NULL) {
		hr_retry(hr);
		return;
	}
	(void)utc_format((int64_t)time(NULL), when);
	key = xasprintf("%simported:%s", ha_conf(hr->ha)->ha_prefix,
	    ha_instance(hr->ha));
	argv[0] = "SET";
	argv[1] = key;
	argv[2] = when;
	if (rlink_command(rl, hr_set_cb, hr, 3, argv, NULL) == -1)
		hr_retry(hr);
	free(key);
}

/* One import's answer: 409 (already there) is fine. */
static void
hr_import_cb(void *arg, const redisReply *r)
{
	struct ha_registry *hr = arg;

	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2)
		hr->import_failed = true;
	if (--hr->importing == 0)
		hr_import_done(hr);
}

/* Send one stored entry as an import; counts it in flight. */
static void
hr_import_one(struct ha_registry *hr, const char *kind, const char *id,
    json_t *o)
{
	struct hr_call c = { kind, "put", id, NULL, 0, "" };
	char cutoff[UTC_TIME_SIZE], *body;

	body = o != NULL ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) :
	    NULL;
	json_decref(o);
	if (body == NULL) {
		log_warnx("ha: import: %s %s cannot be encoded", kind, id);
		return;
	}
	c.body = body;
	if (strcmp(kind, "silence") == 0) {
		hr_cutoff(cutoff);
		c.cutoff = cutoff;
		c.max = SILENCE_MAX;
	} else
		c.max = EXPLAIN_MAX;
	if (hr_eval(hr, &c, hr_import_cb, hr) == 0)
		hr->importing++;
	else
		hr->import_failed = true;
	free(body);
}

/* First HA start of this instance: the files' entries go to Redis. */
static void
hr_import(struct ha_registry *hr)
{
	const struct conf *conf = ha_conf(hr->ha);
	struct explain_registry *reg = explain_create();
	struct silence_registry *sil = silence_create();
	const struct explanation *e;
	char *epath, *spath, *cause = NULL;
	int i;

	epath = xasprintf("%s/%s", conf->state_dir, EXPLAIN_STATE_FILE);
	spath = xasprintf("%s/silences.json", conf->state_dir);
	hr->import_failed = false;
	hr->importing = 1;	/* this walk itself */
	if (explain_load(reg, epath, hr_benefits(hr), hr_nbenefits(hr),
	    &cause) == -1 || silence_load(sil, spath, (int64_t)time(NULL),
	    &cause) == -1) {
		log_errorx("ha: import: %s; not imported", cause);
		free(cause);
		hr->imported = true;	/* not again: it would fail again */
		hr->importing = 0;
		goto out;
	}
	for (i = 0; i < explain_count(reg); i++) {
		e = explain_at(reg, i);
		hr_import_one(hr, "explanation", e->id, explain_to_json(e,
		    hr_benefits(hr)));
	}
	for (i = 0; i < silence_count(sil); i++)
		hr_import_one(hr, "silence", silence_at(sil, i)->id,
		    silence_to_stored_json(silence_at(sil, i)));
	if (explain_count(reg) + silence_count(sil) > 0)
		log_notice("ha: importing %d explanations and %d silences "
		    "from %s", explain_count(reg), silence_count(sil),
		    conf->state_dir);
	if (--hr->importing == 0)
		hr_import_done(hr);
out:
	explain_free(reg);
	silence_free(sil);
	free(epath);
	free(spath);
}

/* GET imported:<instance>. */
static void
hr_imported_cb(void *arg, const redisReply *r)
{
	struct ha_registry *hr = arg;

	if (r == NULL || r->type == REDIS_REPLY_ERROR) {
		hr_retry(hr);
		return;
	}
	if (r->type == REDIS_REPLY_STRING) {
		hr->imported = true;
		return;
	}
	hr_import(hr);
}

/* The start steps, in order, each once the link is up. */
static void
hr_step_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ha_registry *hr = arg;
	struct rlink *rl = ha_link(hr->ha);
	const char *argv[2];
	char *key;
	int rc;

	(void)fd;
	(void)what;
	if (rl == NULL)
		return;
	if (!rlink_up(rl) || hr->importing > 0) {
		hr_retry(hr);
		return;
	}
	if (!hr->checked_gap) {
		key = ha_key(hr->ha, "log");
		{
			const char *xargv[3] = { "XINFO", "STREAM", key };

			rc = rlink_command(rl, hr_gap_cb, hr, 3, xargv, NULL);
		}
		free(key);
		if (rc == -1)
			hr_retry(hr);
		return;
	}
	if (!hr->imported) {
		key = xasprintf("%simported:%s", ha_conf(hr->ha)->ha_prefix,
		    ha_instance(hr->ha));
		argv[0] = "GET";
		argv[1] = key;
		if (rlink_command(rl, hr_imported_cb, hr, 2, argv, NULL) == -1)
			hr_retry(hr);
		free(key);
	}
}

void
ha_registry_start(struct ha_registry *hr)
{
	hr_retry(hr);
}

/* Forget w in hr's list of waits. */
static void
hr_unlink(struct ha_registry *hr, struct hr_write *w)
{
	struct hr_write **p;

	for (p = &hr->waiting; *p != NULL; p = &(*p)->next) {
		if (*p == w) {
			*p = w->next;
			return;
		}
	}
}

static void
hr_write_free(struct hr_write *w)
{
	json_decref(w->body);
	free(w);
}

/* Answer a write and free it. */
static void
hr_answer(struct hr_write *w, int status, json_t *body, const char *err,
    bool applied)
{
	if (w->cb != NULL)
		w->cb(w->arg, status, body, err, applied);
	else
		json_decref(body);
	hr_write_free(w);
}

/* The change is applied here (or the wait timed out). */
static void
hr_wait_cb(void *arg, bool applied, int result)
{
	struct hr_write *w = arg;
	struct ha_registry *hr = w->hr;
	const struct series *s = NULL;
	const char *iname;
	json_t *body;
	char *why = NULL, *err;
	int ind, benefit, kind;

	if (hr == NULL) {	/* detached at free */
		hr_write_free(w);
		return;
	}
	hr_unlink(hr, w);
	if (applied && result == -1 && (w->what == HR_REBASELINE ||
	    w->what == HR_REFIT)) {
		err = xasprintf("not done when applied: %s",
		    strcmp(hr->failed_id, w->log_id) == 0 &&
		    hr->failed_cause != NULL ? hr->failed_cause : "refused");
		hr_answer(w, 409, NULL, err, true);
		free(err);
		return;
	}
	if (applied && w->what == HR_REBASELINE && hr_target(hr, w->body,
	    true, &ind, &benefit, &kind, &s, &why) == 0) {
		hr_answer(w, 200, monitor_series_json(hr->mon, s), NULL, true);
		return;
	}
	free(why);
	body = w->body;
	w->body = NULL;
	/* The answer without HA names an indicator other than rejection. */
	iname = json_string_value(json_object_get(body, "indicator"));
	if (w->what == HR_REFIT && iname != NULL &&
	    strcmp(iname, INDICATOR_REJECTION_NAME) == 0)
		json_object_del(body, "indicator");
	hr_answer(w, w->status, body, NULL, applied);
}

/* The log id is known: wait until it is applied here. */
static void
hr_written(struct hr_write *w, const char *log_id)
{
	struct ha_registry *hr = w->hr;
	struct stream_id id;

	metrics.ha_registry_writes++;
	snprintf(w->log_id, sizeof w->log_id, "%s", log_id);
	if (stream_id_parse(log_id, strlen(log_id), &id) == -1) {
		hr_answer(w, w->status, w->body, NULL, false);
		return;
	}
	w->next = hr->waiting;
	hr->waiting = w;
	ha_log_wait(hr->hl, &id, ha_conf(hr->ha)->ha_write_timeout_ms,
	    hr_wait_cb, w);
}

/* The registry script answered. */
static void
hr_reply_cb(void *arg, const redisReply *r)
{
	struct hr_write *w = arg;
	const redisReply *code, *text;
	char *err;

	if (r == NULL) {
		hr_answer(w, 503, NULL, "the shared registry is unreachable "
		    "(the link was lost)", false);
		return;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    (code = r->element[0])->type != REDIS_REPLY_INTEGER ||
	    (text = r->element[1])->type != REDIS_REPLY_STRING) {
		err = xasprintf("the shared registry is unreachable (%.200s)",
		    r->type == REDIS_REPLY_ERROR ? r->str : "a bad reply");
		log_warnx("ha: registry write: %s", err);
		hr_answer(w, 503, NULL, err, false);
		free(err);
		return;
	}
	if (code->integer != 0) {
		if (code->integer == 409)
			metrics.ha_registry_conflicts++;
		hr_answer(w, (int)code->integer, NULL, text->str, false);
		return;
	}
	hr_written(w, text->str);
}

/* ha_log_append's answer (rebaseline, refit). */
static void
hr_appended_cb(void *arg, const struct stream_id *log_id, const char *err)
{
	struct hr_write *w = arg;
	char id[STREAM_ID_MAX], *msg;

	if (log_id == NULL || err != NULL) {
		msg = xasprintf("the shared registry is unreachable (%.200s)",
		    err != NULL ? err : "the link was lost");
		hr_answer(w, 503, NULL, msg, false);
		free(msg);
		return;
	}
	stream_id_format(log_id, id);
	hr_written(w, id);
}

static struct hr_write *
hr_write_new(struct ha_registry *hr, enum hr_what what, int status,
    json_t *body, ha_registry_done_cb cb, void *arg)
{
	struct hr_write *w = xcalloc(1, sizeof *w);

	w->hr = hr;
	w->what = what;
	w->status = status;
	w->body = body;
	w->cb = cb;
	w->arg = arg;
	return w;
}

/* Send a put or delete; the answer body is the stored object (put). */
static int
hr_write(struct ha_registry *hr, enum hr_what what, const char *op,
    const char *id, json_t *stored, json_t *answer, int status,
    ha_registry_done_cb cb, void *arg)
{
	struct hr_call c = { what == HR_EXPLANATION ? "explanation" :
	    "silence", op, id, NULL, 0, "" };
	struct hr_write *w;
	char cutoff[UTC_TIME_SIZE], *body = NULL;

	if (stored != NULL) {
		body = json_dumps(stored, JSON_COMPACT | JSON_PRESERVE_ORDER);
		json_decref(stored);
		if (body == NULL) {
			json_decref(answer);
			return -1;
		}
		c.body = body;
	}
	if (what == HR_SILENCE) {
		hr_cutoff(cutoff);
		c.cutoff = cutoff;
		c.max = SILENCE_MAX;
	} else
		c.max = EXPLAIN_MAX;
	w = hr_write_new(hr, what, status, answer, cb, arg);
	if (hr_eval(hr, &c, hr_reply_cb, w) == -1) {
		w->cb = NULL;
		hr_write_free(w);
		free(body);
		return -1;
	}
	free(body);
	return 0;
}

int
ha_registry_explain_put(struct ha_registry *hr, const struct explanation *e,
    ha_registry_done_cb cb, void *arg)
{
	char created[UTC_TIME_SIZE];
	json_t *o;

	if ((o = explain_to_json(e, hr_benefits(hr))) == NULL)
		return -1;
	/* Made once, by the writer, and carried in the entry. */
	if (e->created_at == 0) {
		(void)utc_format((int64_t)time(NULL), created);
		json_object_set_new(o, "created_at", json_string(created));
	}
	json_object_set_new(o, "source", json_string("api"));
	return hr_write(hr, HR_EXPLANATION, "put", e->id, json_incref(o), o,
	    201, cb, arg);
}

int
ha_registry_explain_delete(struct ha_registry *hr, const char *id,
    ha_registry_done_cb cb, void *arg)
{
	return hr_write(hr, HR_EXPLANATION, "delete", id, NULL, NULL, 204, cb,
	    arg);
}

int
ha_registry_silence_put(struct ha_registry *hr, const struct silence *s,
    ha_registry_done_cb cb, void *arg)
{
	char id[SILENCE_ID_SIZE];
	json_t *o, *answer;

	if ((o = silence_to_stored_json(s)) == NULL)
		return -1;
	silence_new_id(hr->silences, id);
	json_object_set_new(o, "id", json_string(id));
	answer = json_deep_copy(o);
	json_object_set_new(answer, "active",
	    json_boolean((int64_t)time(NULL) < s->ends_at));
	return hr_write(hr, HR_SILENCE, "put", id, o, answer, 201, cb, arg);
}

int
ha_registry_silence_delete(struct ha_registry *hr, const char *id,
    ha_registry_done_cb cb, void *arg)
{
	return hr_write(hr, HR_SILENCE, "delete", id, NULL, NULL, 204, cb,
	    arg);
}

/* A rebaseline or refit request through the log. */
static int
hr_request(struct ha_registry *hr, enum hr_what what, const char *id,
    json_t *o, ha_registry_done_cb cb, void *arg)
{
	struct hr_write *w;
	char *body;

	if (o == NULL || (body = json_dumps(o, JSON_COMPACT |
	    JSON_PRESERVE_ORDER)) == NULL) {
		json_decref(o);
		return -1;
	}
	w = hr_write_new(hr, what, 202, o, cb, arg);
	if (ha_log_append(hr->hl, what == HR_REBASELINE ? "rebaseline" :
	    "refit", id, body, hr_appended_cb, w) == -1) {
		w->cb = NULL;
		hr_write_free(w);
		free(body);
		return -1;
	}
	free(body);
	return 0;
}

int
ha_registry_rebaseline(struct ha_registry *hr, const char *indicator,
    const char *office, const char *benefit, const char *kind,
    const char *note, ha_registry_done_cb cb, void *arg)
{
	char *id = xasprintf("%s/%s/%s/%s", indicator, office, benefit, kind);
	int rc;

	rc = hr_request(hr, HR_REBASELINE, id, json_pack("{s:s, s:s, s:s, "
	    "s:s, s:s?, s:s}", "indicator", indicator, "office", office,
	    "benefit", benefit, "kind", kind, "note", note, "rebaseline",
	    "requested"), cb, arg);
	free(id);
	return rc;
}

int
ha_registry_refit(struct ha_registry *hr, const char *indicator,
    const char *benefit, const char *kind, ha_registry_done_cb cb,
    void *arg)
{
	char *id = xasprintf("%s/%s/%s", indicator, benefit, kind);
	int rc;

	rc = hr_request(hr, HR_REFIT, id, json_pack("{s:s, s:s, s:s, s:s}",
	    "indicator", indicator, "benefit", benefit, "kind", kind, "refit",
	    "at the next week close"), cb, arg);
	free(id);
	return rc;
}

void
ha_registry_reload(struct ha_registry *hr)
{
	const char *id;
	json_t *v;
	bool changed = false;

	/* explain_set_config dropped what the config shadows now; put back
	 * what it frees. */
	json_object_foreach(hr->layer, id, v) {
		if (explain_find(hr->reg, id) == NULL)
			changed |= hr_explain_install(hr, id, v) == 1;
		else if (explain_find(hr->reg, id)->from_config)
			log_warnx("ha: explanation \"%s\" is shadowed by this "
			    "host's configuration file", id);
	}
	if (changed && hr->mon != NULL)
		monitor_explanations_changed(hr->mon);
	hr_mirror_later(hr);
}

void
ha_registry_free(struct ha_registry *hr)
{
	struct hr_write *w;

	if (hr == NULL)
		return;
	/* Waits ha_log may still end: answered now, freed by it later. */
	while ((w = hr->waiting) != NULL) {
		hr->waiting = w->next;
		if (w->cb != NULL)
			w->cb(w->arg, 503, NULL, "shutting down", false);
		w->cb = NULL;
		w->hr = NULL;
	}
	hr_mirror_write(hr);
	if (hr->retry_ev != NULL)
		event_free(hr->retry_ev);
	if (hr->mirror_ev != NULL)
		event_free(hr->mirror_ev);
	json_decref(hr->layer);
	free(hr->failed_cause);
	free(hr);
}
