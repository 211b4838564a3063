/*
 * The control log (ha_log.h): the stream <ha.prefix>log of control
 * entries, read behind every read of the decisions (the stream's gate)
 * and applied at the position its `at` field gives, so that every
 * instance applies it between the same two decisions. Writers are Lua
 * scripts that read the decisions' last-generated-id and XADD the entry
 * in one step. The clock moves while idle only through tick entries.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "buf.h"
#include "checkpoint.h"
#include "clock.h"
#include "conf.h"
#include "decision.h"
#include "ha.h"
#include "ha_log.h"
#include "ingest.h"
#include "log.h"
#include "metrics.h"
#include "rlink.h"
#include "stream.h"
#include "xmalloc.h"

#define HA_LOG_PAGE		1000	/* entries per XRANGE */
#define HA_LOG_TAG		CP_TAG('H', 'L', 'O', 'G')
#define HA_LOG_VERSION		1
#define HA_LOG_KINDS		8	/* handlers */
#define HA_LOG_RESULTS		64	/* handler results kept for waiters */
#define HA_LOG_FIELD_MAX	64	/* bytes of kind, op, by */
#define HA_LOG_TICK_TRY_MS	250	/* a tick script at most this often */
#define HA_LOG_TRIM_FIRST_S	10
#define HA_LOG_TRIM_EVERY_S	3600

struct ha_log_entry {
	struct stream_id	 log_id;
	struct stream_id	 at;
	char			*kind;
	char			*op;
	char			*id;		/* NULL: none */
	char			*by;
	char			*body;		/* NULL: none */
	size_t			 bodylen;
	char			*invalid;	/* why skipped; NULL: not */
	struct ha_log_entry	*next;
};

struct ha_log_handler {
	char			*kind;
	ha_log_apply_cb		 cb;
	void			*arg;
};

struct ha_log_waiter {
	struct ha_log		*hl;
	struct stream_id	 log_id;
	ha_log_wait_cb		 cb;
	void			*arg;
	struct event		*ev;		/* its timeout */
	struct ha_log_waiter	*next;
};

struct ha_log_append_req {
	ha_log_append_cb	 cb;
	void			*arg;
};

struct ha_log {
	struct ha		*ha;
	struct ingest		*in;
	char			*key;		/* the log */
	char			*tick_key;	/* the tick gate */
	struct stream_id	 applied;	/* last control entry applied */
	struct stream_id	 queued;	/* last read: the cursor */
	struct ha_log_entry	*head;		/* read, not yet applied */
	struct ha_log_entry	**tail;
	int64_t			 nqueued;
	bool			 complete;	/* the last page was not full */
	struct stream_id	 limit;		/* else: its last entry's at */
	struct ha_log_handler	 handlers[HA_LOG_KINDS];
	int			 nhandlers;
	struct ha_log_waiter	*waiters;
	struct {
		struct stream_id id;
		int		 result;
	}			 results[HA_LOG_RESULTS];
	size_t			 nresults;	/* ever recorded; ring */
	bool			 told_invalid;	/* one warning, then debug */
	bool			 ticking;	/* a tick script in flight */
	int64_t			 tick_tried_ms;	/* wall clock */
	struct event		*trim_ev;
	struct stream_gate	 gate;
	/* The request's arguments, borrowed by the stream until the next. */
	char			 from[STREAM_ID_MAX + 1];
	const char		*argv[6];
	size_t			 argvlen[6];
};

/*
 * Append an entry with the decisions' last-generated-id as its `at`,
 * in one step (KEYS: log, decisions; ARGV: kind, op, id, body, by; an
 * empty id or body is left out).
 */
static struct rlink_script ha_log_append_script = {
	"ha_log_append",
	"local ok, info = pcall(redis.call, 'XINFO', 'STREAM', KEYS[2])\n"
	"local at = '0-0'\n"
	"if ok then\n"
	"  for i = 1, #info, 2 do\n"
	"    if info[i] == 'last-generated-id' then at = info[i + 1] end\n"
	"  end\n"
	"end\n"
	"local f = {'v', '1', 'kind', ARGV[1], 'op', ARGV[2]}\n"
	"if ARGV[3] ~= '' then table.insert(f, 'id'); "
	"table.insert(f, ARGV[3]) end\n"
	"if ARGV[4] ~= '' then table.insert(f, 'body'); "
	"table.insert(f, ARGV[4]) end\n"
	"table.insert(f, 'by'); table.insert(f, ARGV[5])\n"
	"table.insert(f, 'at'); table.insert(f, at)\n"
	"return redis.call('XADD', KEYS[1], '*', unpack(f))\n",
	""
};

/*
 * A tick, when neither a decision nor a control entry came for an
 * interval by Redis's clock, and no other instance ticked in it (KEYS:
 * log, decisions, tick gate; ARGV: instance, interval ms). 0: none.
 */
static struct rlink_script ha_log_tick_script = {
	"ha_log_tick",
	"local function last(key)\n"
	"  local ok, info = pcall(redis.call, 'XINFO', 'STREAM', key)\n"
	"  if ok then\n"
	"    for i = 1, #info, 2 do\n"
	"      if info[i] == 'last-generated-id' then return info[i + 1] end\n"
	"    end\n"
	"  end\n"
	"  return '0-0'\n"
	"end\n"
	"local function ms(id)\n"
	"  return tonumber(string.match(id, '^(%d+)'))\n"
	"end\n"
	"local t = redis.call('TIME')\n"
	"local now = tonumber(t[1]) * 1000 +\n"
	"  math.floor(tonumber(t[2]) / 1000)\n"
	"local every = tonumber(ARGV[2])\n"
	"local at = last(KEYS[2])\n"
	"if now - ms(at) < every or now - ms(last(KEYS[1])) < every then\n"
	"  return 0\n"
	"end\n"
	"if not redis.call('SET', KEYS[3], ARGV[1], 'NX', 'PX', ARGV[2]) then\n"
	"  return 0\n"
	"end\n"
	"return redis.call('XADD', KEYS[1], '*', 'v', '1', 'kind', 'tick', "
	"'op', 'put', 'by', ARGV[1], 'at', at)\n",
	""
};

static int64_t
ha_log_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

enum ha_log_step
ha_log_due(const struct stream_id *head, const struct stream_id *next,
    bool complete, const struct stream_id *limit)
{
	if (head != NULL && stream_id_cmp(head, next) < 0)
		return HA_LOG_APPLY;
	/* Unread entries have an `at` >= limit: none is due before next. */
	if (!complete && stream_id_cmp(next, limit) > 0)
		return HA_LOG_READ;
	return HA_LOG_FEED;
}

/* A field's value as a string, or NULL when absent. */
static const struct decision_field *
ha_log_field(const struct decision_field *f, size_t n, const char *name)
{
	size_t i, len = strlen(name);

	for (i = 0; i < n; i++) {
		if (f[i].namelen == len && memcmp(f[i].name, name, len) == 0)
			return &f[i];
	}
	return NULL;
}

static char *
ha_log_copy(const struct decision_field *v)
{
	char *s = xmalloc(v->valuelen + 1);

	memcpy(s, v->value, v->valuelen);
	s[v->valuelen] = '\0';
	return s;
}

/* A short field that must be there: kind, op, by. */
static char *
ha_log_word(const struct decision_field *f, size_t n, const char *name,
    char **invalid)
{
	const struct decision_field *v = ha_log_field(f, n, name);

	if (*invalid != NULL)
		return NULL;
	if (v == NULL || v->valuelen == 0)
		*invalid = xasprintf("no %s", name);
	else if (v->valuelen > HA_LOG_FIELD_MAX ||
	    memchr(v->value, '\0', v->valuelen) != NULL)
		*invalid = xasprintf("bad %s", name);
	else
		return ha_log_copy(v);
	return NULL;
}

struct ha_log_entry *
ha_log_entry_parse(const struct stream_id *log_id,
    const struct decision_field *f, size_t n)
{
	struct ha_log_entry *e = xcalloc(1, sizeof *e);
	const struct decision_field *v, *at;

	e->log_id = *log_id;
	v = ha_log_field(f, n, "v");
	if (v == NULL)
		e->invalid = xstrdup("no version (v)");
	else if (v->valuelen != 1 || v->value[0] != '1')
		e->invalid = xasprintf("version %.*s, not 1",
		    (int)(v->valuelen > 16 ? 16 : v->valuelen), v->value);
	e->kind = ha_log_word(f, n, "kind", &e->invalid);
	e->op = ha_log_word(f, n, "op", &e->invalid);
	e->by = ha_log_word(f, n, "by", &e->invalid);
	if (e->invalid == NULL && strcmp(e->op, "put") != 0 &&
	    strcmp(e->op, "delete") != 0)
		e->invalid = xasprintf("op %s is neither put nor delete",
		    e->op);
	at = ha_log_field(f, n, "at");
	if (e->invalid == NULL && (at == NULL ||
	    stream_id_parse(at->value, at->valuelen, &e->at) == -1))
		e->invalid = xstrdup(at == NULL ? "no at" : "bad at");
	if (e->invalid != NULL) {
		memset(&e->at, 0, sizeof e->at);	/* skipped at once */
		return e;
	}
	if ((v = ha_log_field(f, n, "id")) != NULL)
		e->id = ha_log_copy(v);
	if ((v = ha_log_field(f, n, "body")) != NULL) {
		e->body = ha_log_copy(v);
		e->bodylen = v->valuelen;
	}
	return e;
}

int
ha_log_entry_view(const struct ha_log_entry *e, struct ha_change *c,
    const char **why)
{
	if (e->invalid != NULL) {
		*why = e->invalid;
		return -1;
	}
	c->log_id = &e->log_id;
	c->at = &e->at;
	c->kind = e->kind;
	c->op = e->op;
	c->id = e->id;
	c->by = e->by;
	c->body = e->body;
	c->bodylen = e->bodylen;
	return 0;
}

void
ha_log_entry_free(struct ha_log_entry *e)
{
	if (e == NULL)
		return;
	free(e->kind);
	free(e->op);
	free(e->id);
	free(e->by);
	free(e->body);
	free(e->invalid);
	free(e);
}

/* The result a handler gave for log_id, 0 when no longer known. */
static int
ha_log_result(const struct ha_log *hl, const struct stream_id *log_id)
{
	size_t i, n = hl->nresults < HA_LOG_RESULTS ? hl->nresults :
	    HA_LOG_RESULTS;

	for (i = 0; i < n; i++) {
		if (stream_id_cmp(&hl->results[i].id, log_id) == 0)
			return hl->results[i].result;
	}
	return 0;
}

static void
ha_log_waiter_free(struct ha_log_waiter *w)
{
	event_free(w->ev);
	free(w);
}

/* Tell the waiters for entries applied now. */
static void
ha_log_wake(struct ha_log *hl)
{
	struct ha_log_waiter **wp = &hl->waiters, *w;

	while ((w = *wp) != NULL) {
		if (stream_id_cmp(&w->log_id, &hl->applied) > 0) {
			wp = &w->next;
			continue;
		}
		*wp = w->next;
		w->cb(w->arg, true, ha_log_result(hl, &w->log_id));
		ha_log_waiter_free(w);
	}
}

static const struct ha_log_handler *
ha_log_handler_of(const struct ha_log *hl, const char *kind)
{
	int i;

	for (i = 0; i < hl->nhandlers; i++) {
		if (strcmp(hl->handlers[i].kind, kind) == 0)
			return &hl->handlers[i];
	}
	return NULL;
}

/* Skipped, never a stop: every instance skips the same entries. */
static void
ha_log_skip(struct ha_log *hl, const char *idstr, const char *why)
{
	metrics.ha_control_invalid++;
	if (!hl->told_invalid)
		log_warnx("ha: control entry %s skipped: %s (further ones are "
		    "counted in stabild_ha_control_invalid_total)", idstr,
		    why);
	else
		log_debug("ha: control entry %s skipped: %s", idstr, why);
	hl->told_invalid = true;
}

/* Apply the oldest entry read, at the position the caller has reached. */
static void
ha_log_apply_head(struct ha_log *hl)
{
	struct ha_log_entry *e = hl->head;
	const struct ha_log_handler *h;
	struct ha_change c;
	char idstr[STREAM_ID_MAX], *cause = NULL, *why = NULL;
	const char *invalid;
	int result = 0;
	size_t slot;

	if ((hl->head = e->next) == NULL)
		hl->tail = &hl->head;
	hl->nqueued--;
	stream_id_format(&e->log_id, idstr);
	/* Redis's time at its XADD: the same on every instance. */
	clock_set_stream_ms((int64_t)e->log_id.ms);
	if (ha_log_entry_view(e, &c, &invalid) == -1) {
		ha_log_skip(hl, idstr, invalid);
		result = -1;
	} else if (strcmp(c.kind, "tick") == 0) {
		metrics.ha_control_applied++;
		ingest_tick(hl->in, (int64_t)(e->log_id.ms / 1000), true);
	} else if ((h = ha_log_handler_of(hl, c.kind)) == NULL) {
		why = xasprintf("unknown kind %s", c.kind);
		ha_log_skip(hl, idstr, why);
		free(why);
		result = -1;
	} else {
		metrics.ha_control_applied++;
		if ((result = h->cb(h->arg, &c, &cause)) == -1) {
			log_info("ha: control entry %s (%s %s%s%s) by %s: %s",
			    idstr, c.kind, c.op, c.id != NULL ? " " : "",
			    c.id != NULL ? c.id : "", c.by,
			    cause != NULL ? cause : "refused");
			free(cause);
		}
	}
	hl->applied = e->log_id;
	slot = hl->nresults++ % HA_LOG_RESULTS;
	hl->results[slot].id = e->log_id;
	hl->results[slot].result = result;
	/* The checkpoint must hold the new position. */
	ingest_touch(hl->in);
	ha_log_entry_free(e);
	ha_log_wake(hl);
}

/* The gate: XRANGE log (cursor + COUNT page, behind each read. */
static int
ha_log_gate_request(void *arg, int *argc, const char ***argv,
    const size_t **argvlen)
{
	struct ha_log *hl = arg;
	static char count[16];
	int i;

	hl->from[0] = '(';
	stream_id_format(&hl->queued, hl->from + 1);
	snprintf(count, sizeof count, "%d", HA_LOG_PAGE);
	hl->argv[0] = "XRANGE";
	hl->argv[1] = hl->key;
	hl->argv[2] = hl->from;
	hl->argv[3] = "+";
	hl->argv[4] = "COUNT";
	hl->argv[5] = count;
	for (i = 0; i < 6; i++)
		hl->argvlen[i] = strlen(hl->argv[i]);
	*argc = 6;
	*argv = hl->argv;
	*argvlen = hl->argvlen;
	return 1;
}

/* One entry of a page: [id, [field, value, ...]]; queued when new. */
static void
ha_log_gate_entry(struct ha_log *hl, const redisReply *e)
{
	struct decision_field stackf[16] = { { NULL, 0, NULL, 0 } };
	struct decision_field *f = stackf;
	const redisReply *fl;
	struct ha_log_entry *le;
	struct stream_id id;
	size_t i, n;

	if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
	    e->element[0]->type != REDIS_REPLY_STRING ||
	    stream_id_parse(e->element[0]->str, e->element[0]->len,
	    &id) == -1)
		return;
	/* Pages asked for before the last one came may overlap. */
	if (stream_id_cmp(&id, &hl->queued) <= 0)
		return;
	fl = e->element[1];
	n = fl->type == REDIS_REPLY_ARRAY ? fl->elements / 2 : 0;
	if (n > sizeof stackf / sizeof stackf[0])
		f = xreallocarray(NULL, n, sizeof *f);
	for (i = 0; i < n; i++) {
		const redisReply *k = fl->element[2 * i];
		const redisReply *v = fl->element[2 * i + 1];

		if (k->type != REDIS_REPLY_STRING ||
		    v->type != REDIS_REPLY_STRING) {
			f[i].name = "";
			f[i].namelen = 0;
			f[i].value = "";
			f[i].valuelen = 0;
			continue;
		}
		f[i].name = k->str;
		f[i].namelen = k->len;
		f[i].value = v->str;
		f[i].valuelen = v->len;
	}
	le = ha_log_entry_parse(&id, f, n);
	if (f != stackf)
		free(f);
	*hl->tail = le;
	hl->tail = &le->next;
	hl->nqueued++;
	hl->queued = id;
}

static void
ha_log_gate_reply(void *arg, const struct redisReply *r)
{
	struct ha_log *hl = arg;
	const redisReply *last;
	struct stream_id at;
	size_t i;

	if (r == NULL || r->type != REDIS_REPLY_ARRAY)
		return;
	for (i = 0; i < r->elements; i++)
		ha_log_gate_entry(hl, r->element[i]);
	if (r->elements < HA_LOG_PAGE) {
		/* Everything written before this page was read is here. */
		hl->complete = true;
		return;
	}
	hl->complete = false;
	last = r->element[r->elements - 1];
	if (last->type == REDIS_REPLY_ARRAY && last->elements == 2 &&
	    last->element[1]->type == REDIS_REPLY_ARRAY) {
		const redisReply *fl = last->element[1];

		for (i = 0; i + 1 < fl->elements; i += 2) {
			const redisReply *k = fl->element[i];
			const redisReply *v = fl->element[i + 1];

			if (k->type == REDIS_REPLY_STRING && k->len == 2 &&
			    memcmp(k->str, "at", 2) == 0 &&
			    v->type == REDIS_REPLY_STRING &&
			    stream_id_parse(v->str, v->len, &at) == 0 &&
			    stream_id_cmp(&at, &hl->limit) > 0)
				hl->limit = at;
		}
	}
}

static bool
ha_log_gate_before(void *arg, int k, const struct stream_id *next)
{
	struct ha_log *hl = arg;

	/* Only the decisions stream has positions (conf.c: no other). */
	if (k != 0)
		return true;
	for (;;) {
		switch (ha_log_due(hl->head != NULL ? &hl->head->at : NULL,
		    next, hl->complete, &hl->limit)) {
		case HA_LOG_FEED:
			return !ingest_waits(hl->in);
		case HA_LOG_READ:
			return false;
		case HA_LOG_APPLY:
			/* Its consequences wait like an entry's. */
			if (ingest_waits(hl->in))
				return false;
			ha_log_apply_head(hl);
			break;
		}
	}
}

static void
ha_log_tick_cb(void *arg, const struct redisReply *r)
{
	struct ha_log *hl = arg;

	hl->ticking = false;
	if (r == NULL)
		return;
	if (r->type == REDIS_REPLY_ERROR)
		log_warnx("ha: tick: %s", r->str);
	else if (r->type == REDIS_REPLY_STRING) {
		metrics.ha_ticks_written++;
		log_debug("ha: wrote tick %s", r->str);
	}
}

/* Drained: a tick when the streams have been quiet for an interval. */
static void
ha_log_tick_try(struct ha_log *hl)
{
	const struct conf *c = ha_conf(hl->ha);
	struct rlink *rl = ha_link(hl->ha);
	const char *argv[5];
	char every[24];
	int64_t now = ha_log_wall_ms();

	if (hl->ticking || rl == NULL || !rlink_up(rl) ||
	    now - hl->tick_tried_ms < HA_LOG_TICK_TRY_MS)
		return;
	hl->tick_tried_ms = now;
	snprintf(every, sizeof every, "%lld",
	    (long long)c->ha_tick_interval_ms);
	argv[0] = hl->key;
	argv[1] = c->stream;
	argv[2] = hl->tick_key;
	argv[3] = ha_instance(hl->ha);
	argv[4] = every;
	if (rlink_eval(rl, &ha_log_tick_script, ha_log_tick_cb, hl, 3, 5,
	    argv, NULL) == 0)
		hl->ticking = true;
}

static void
ha_log_gate_idle(void *arg)
{
	struct ha_log *hl = arg;

	/*
	 * Every entry read was written before this empty read ran, so
	 * every decision up to its `at` is applied and any later one
	 * comes after: all are due now.
	 */
	while (hl->head != NULL && !ingest_waits(hl->in))
		ha_log_apply_head(hl);
	ha_log_tick_try(hl);
}

static void
ha_log_drop_queued(struct ha_log *hl)
{
	struct ha_log_entry *e;

	while ((e = hl->head) != NULL) {
		hl->head = e->next;
		ha_log_entry_free(e);
	}
	hl->tail = &hl->head;
	hl->nqueued = 0;
}

/* The link dropped: read again from what is applied. */
static void
ha_log_gate_lost(void *arg)
{
	struct ha_log *hl = arg;

	ha_log_drop_queued(hl);
	hl->queued = hl->applied;
	hl->complete = true;
	memset(&hl->limit, 0, sizeof hl->limit);
}

static void
ha_log_save(void *arg, struct buf *b)
{
	const struct ha_log *hl = arg;

	buf_put_u64(b, hl->applied.ms);
	buf_put_u64(b, hl->applied.seq);
	buf_put_i64(b, clock_stream_ms());
}

static int
ha_log_load(void *arg, uint32_t version, struct buf_reader *r, char **cause)
{
	struct ha_log *hl = arg;
	int64_t ms;

	(void)version;
	buf_get_u64(r, &hl->applied.ms);
	buf_get_u64(r, &hl->applied.seq);
	buf_get_i64(r, &ms);
	if (r->bad) {
		*cause = xstrdup("ha: the checkpoint's control log section is "
		    "short");
		return -1;
	}
	hl->queued = hl->applied;
	clock_set_stream_ms(ms);
	return 0;
}

static void
ha_log_trim_cb(void *arg, const struct redisReply *r)
{
	(void)arg;
	if (r != NULL && r->type == REDIS_REPLY_ERROR)
		log_warnx("ha: XTRIM of the control log: %s", r->str);
	else if (r != NULL && r->type == REDIS_REPLY_INTEGER && r->integer > 0)
		log_info("ha: trimmed %lld entries off the control log",
		    (long long)r->integer);
}

/* Hourly: drop entries older than ha.log_keep (any instance may). */
static void
ha_log_trim_timer_cb(evutil_socket_t fd, short events, void *arg)
{
	struct ha_log *hl = arg;
	struct rlink *rl = ha_link(hl->ha);
	struct timeval tv = { HA_LOG_TRIM_EVERY_S, 0 };
	const char *argv[5];
	char minid[32];

	(void)fd;
	(void)events;
	evtimer_add(hl->trim_ev, &tv);
	if (rl == NULL)
		return;
	snprintf(minid, sizeof minid, "%lld", (long long)(ha_log_wall_ms() -
	    ha_conf(hl->ha)->ha_log_keep_ms));
	argv[0] = "XTRIM";
	argv[1] = hl->key;
	argv[2] = "MINID";
	argv[3] = "~";
	argv[4] = minid;
	(void)rlink_command(rl, ha_log_trim_cb, hl, 5, argv, NULL);
}

struct ha_log *
ha_log_create(struct ha *ha, struct ingest *in)
{
	struct ha_log *hl = xcalloc(1, sizeof *hl);

	hl->ha = ha;
	hl->in = in;
	hl->key = ha_key(ha, "log");
	hl->tick_key = ha_key(ha, "tick");
	hl->tail = &hl->head;
	hl->complete = true;
	hl->gate.request = ha_log_gate_request;
	hl->gate.reply = ha_log_gate_reply;
	hl->gate.before = ha_log_gate_before;
	hl->gate.idle = ha_log_gate_idle;
	hl->gate.lost = ha_log_gate_lost;
	if (ingest_add_section(in, HA_LOG_TAG, HA_LOG_VERSION, ha_log_save,
	    ha_log_load, hl) == -1)
		fatalx("ha: cannot add the control log's checkpoint section");
	hl->trim_ev = evtimer_new(ha_base(ha), ha_log_trim_timer_cb, hl);
	return hl;
}

void
ha_log_start(struct ha_log *hl)
{
	struct timeval tv = { HA_LOG_TRIM_FIRST_S, 0 };

	/* At load: the later of the decisions and control entries applied. */
	clock_set_stream_ms((int64_t)ingest_applied(hl->in)->ms);
	clock_set_stream_ms((int64_t)hl->applied.ms);
	evtimer_add(hl->trim_ev, &tv);
}

void
ha_log_free(struct ha_log *hl)
{
	struct ha_log_waiter *w;
	int i;

	if (hl == NULL)
		return;
	ha_log_drop_queued(hl);
	/* Their owners (API requests) are gone by now: not called. */
	while ((w = hl->waiters) != NULL) {
		hl->waiters = w->next;
		ha_log_waiter_free(w);
	}
	for (i = 0; i < hl->nhandlers; i++)
		free(hl->handlers[i].kind);
	if (hl->trim_ev != NULL)
		event_free(hl->trim_ev);
	free(hl->key);
	free(hl->tick_key);
	free(hl);
}

void
ha_log_handle(struct ha_log *hl, const char *kind, ha_log_apply_cb cb,
    void *arg)
{
	if (hl->nhandlers == HA_LOG_KINDS || strcmp(kind, "tick") == 0 ||
	    ha_log_handler_of(hl, kind) != NULL)
		fatalx("ha: a second handler for control entries %s", kind);
	hl->handlers[hl->nhandlers].kind = xstrdup(kind);
	hl->handlers[hl->nhandlers].cb = cb;
	hl->handlers[hl->nhandlers].arg = arg;
	hl->nhandlers++;
}

static void
ha_log_wait_timer_cb(evutil_socket_t fd, short events, void *arg)
{
	struct ha_log_waiter *w = arg, **wp;
	struct ha_log *hl = w->hl;

	(void)fd;
	(void)events;
	for (wp = &hl->waiters; *wp != NULL; wp = &(*wp)->next) {
		if (*wp == w) {
			*wp = w->next;
			break;
		}
	}
	w->cb(w->arg, false, 0);
	ha_log_waiter_free(w);
}

void
ha_log_wait(struct ha_log *hl, const struct stream_id *log_id,
    int64_t timeout_ms, ha_log_wait_cb cb, void *arg)
{
	struct ha_log_waiter *w;
	struct timeval tv;

	if (stream_id_cmp(log_id, &hl->applied) <= 0) {
		cb(arg, true, ha_log_result(hl, log_id));
		return;
	}
	w = xcalloc(1, sizeof *w);
	w->hl = hl;
	w->log_id = *log_id;
	w->cb = cb;
	w->arg = arg;
	w->ev = evtimer_new(ha_base(hl->ha), ha_log_wait_timer_cb, w);
	tv.tv_sec = (time_t)(timeout_ms / 1000);
	tv.tv_usec = (suseconds_t)((timeout_ms % 1000) * 1000);
	evtimer_add(w->ev, &tv);
	w->next = hl->waiters;
	hl->waiters = w;
}

static void
ha_log_append_done(void *arg, const struct redisReply *r)
{
	struct ha_log_append_req *req = arg;
	struct stream_id id;

	if (r == NULL)
		req->cb(req->arg, NULL, "the link to redis was lost");
	else if (r->type == REDIS_REPLY_ERROR)
		req->cb(req->arg, NULL, r->str);
	else if (r->type != REDIS_REPLY_STRING ||
	    stream_id_parse(r->str, r->len, &id) == -1)
		req->cb(req->arg, NULL, "unexpected reply to the log write");
	else
		req->cb(req->arg, &id, NULL);
	free(req);
}

int
ha_log_append(struct ha_log *hl, const char *kind, const char *id,
    const char *body, ha_log_append_cb cb, void *arg)
{
	struct rlink *rl = ha_link(hl->ha);
	struct ha_log_append_req *req;
	const char *argv[7];

	if (rl == NULL)
		return -1;
	req = xcalloc(1, sizeof *req);
	req->cb = cb;
	req->arg = arg;
	argv[0] = hl->key;
	argv[1] = ha_conf(hl->ha)->stream;
	argv[2] = kind;
	argv[3] = "put";
	argv[4] = id != NULL ? id : "";
	argv[5] = body != NULL ? body : "";
	argv[6] = ha_instance(hl->ha);
	if (rlink_eval(rl, &ha_log_append_script, ha_log_append_done, req, 2, 7,
	    argv, NULL) == -1) {
		free(req);
		return -1;
	}
	return 0;
}

const struct stream_id *
ha_log_applied(const struct ha_log *hl)
{
	return &hl->applied;
}

int64_t
ha_log_behind(const struct ha_log *hl)
{
	return hl->nqueued;
}

const struct stream_gate *
ha_log_gate(struct ha_log *hl)
{
	return &hl->gate;
}
