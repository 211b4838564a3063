/*
 * Peers (ha_peers.h): every ha.heartbeat a script writes this instance's
 * state into <prefix>peers, stamped with Redis's TIME, and answers with
 * every entry and that time, so that "up" never depends on host clocks.
 * Hash fields cannot expire (before Redis 7.4), so the script drops the
 * entries unseen for a week, and a peer is up while its stamp is younger
 * than ha.peer_timeout.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>

#include "buf.h"
#include "clock.h"
#include "conf.h"
#include "ha.h"
#include "ha_log.h"
#include "ha_peer.h"
#include "ha_peers.h"
#include "ingest.h"
#include "log.h"
#include "metrics.h"
#include "monitor.h"
#include "rlink.h"
#include "stream.h"
#include "xmalloc.h"

#define HA_PEERS_KEEP_MS	(7 * 86400 * 1000LL)	/* unseen: dropped */
#define HA_PEERS_RETRY_MS	100	/* while the link is down */

/*
 * KEYS[1] the hash; ARGV: instance, host, object, first (1: refuse a
 * live entry of our name from another host), peer_timeout ms, keep ms.
 * {"conflict", now, old} or {"ok", now, name, value, ...}.
 */
static struct rlink_script ha_peers_script = {
	"heartbeat",
	"local t = redis.call('TIME')\n"
	"local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
	"if ARGV[4] == '1' then\n"
	"  local old = redis.call('HGET', KEYS[1], ARGV[1])\n"
	"  if old then\n"
	"    local ms, body = string.match(old, '^(%d+) (.*)$')\n"
	"    if ms and now - tonumber(ms) < tonumber(ARGV[5]) then\n"
	"      local ok, o = pcall(cjson.decode, body)\n"
	"      if ok and type(o) == 'table' and o.host ~= ARGV[2] then\n"
	"        return {'conflict', string.format('%d', now), old}\n"
	"      end\n"
	"    end\n"
	"  end\n"
	"end\n"
	"redis.call('HSET', KEYS[1], ARGV[1], string.format('%d', now) .. ' ' .. ARGV[3])\n"
	"local all = redis.call('HGETALL', KEYS[1])\n"
	"local out = {'ok', string.format('%d', now)}\n"
	"for i = 1, #all, 2 do\n"
	"  local ms = tonumber(string.match(all[i + 1], '^(%d+) '))\n"
	"  if ms == nil or now - ms > tonumber(ARGV[6]) then\n"
	"    redis.call('HDEL', KEYS[1], all[i])\n"
	"  else\n"
	"    out[#out + 1] = all[i]\n"
	"    out[#out + 1] = all[i + 1]\n"
	"  end\n"
	"end\n"
	"return out\n",
	"",
};

struct ha_peers {
	struct ha		*ha;
	struct ha_log		*hl;
	const struct ingest	*in;
	const struct stream	*st;
	const struct monitor	*mon;
	struct event		*timer;
	char			*key;		/* <prefix>peers */
	char			 host[HOST_NAME_MAX + 1];
	bool			 inflight;
	bool			 first;		/* no beat written yet */
	bool			 failing;	/* a failure is logged */

	/* The last answer: the peers and Redis's time then. */
	struct ha_peer		*peers;
	size_t			 npeers;
	int64_t			 redis_ms;
	int64_t			 mono_ms;	/* when it came */
	bool			 agree;
	char			*bad_logged;	/* the last bad entry's name */
	char			*clash_logged;	/* instance/boot */
};

/* ha_peers_metrics has no argument: the one instance. */
static struct ha_peers *ha_peers_one;

static int64_t
ha_peers_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct ha_peers *
ha_peers_create(struct ha *ha, struct ha_log *hl, const struct ingest *in,
    const struct stream *st, const struct monitor *mon)
{
	struct ha_peers *hp = xcalloc(1, sizeof *hp);
	const char *host;

	hp->ha = ha;
	hp->hl = hl;
	hp->in = in;
	hp->st = st;
	hp->mon = mon;
	hp->key = ha_key(ha, "peers");
	hp->first = true;
	hp->agree = true;
	/* Tests play two hosts on one machine. */
	if ((host = getenv("STABILD_HA_HOST")) != NULL && *host != '\0')
		snprintf(hp->host, sizeof hp->host, "%s", host);
	else if (gethostname(hp->host, sizeof hp->host) == -1)
		snprintf(hp->host, sizeof hp->host, "unknown");
	hp->host[sizeof hp->host - 1] = '\0';
	ha_peers_one = hp;
	return hp;
}

static void
ha_peers_arm(struct ha_peers *hp, int64_t ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	evtimer_add(hp->timer, &tv);
}

/* This instance's entry. */
static json_t *
ha_peers_local(const struct ha_peers *hp)
{
	const struct conf *c = ha_conf(hp->ha);
	const struct stream_id *applied = ingest_applied(hp->in);
	char a[STREAM_ID_MAX], cp[STREAM_ID_MAX], ctl[STREAM_ID_MAX];
	char digest[MONITOR_DIGEST_LEN + 1];
	const char *api;
	int64_t stream_ms = clock_stream_ms();

	stream_id_format(applied, a);
	stream_id_format(ingest_checkpointed(hp->in), cp);
	stream_id_format(ha_log_applied(hp->hl), ctl);
	monitor_digest(hp->mon, digest);
	/* Until the stream clock runs, the decisions' position is the time. */
	if ((int64_t)applied->ms > stream_ms)
		stream_ms = (int64_t)applied->ms;
	api = c->http_public_url != NULL ? c->http_public_url : c->http_url;
	return json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:s?, "
	    "s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:s, s:s, "
	    "s:I, s:I, s:I, s:I}",
	    "instance", ha_instance(hp->ha),
	    "boot", ha_boot(hp->ha),
	    "host", hp->host,
	    "pid", (json_int_t)getpid(),
	    "version", STABILD_VERSION,
	    "group", c->group,
	    "consumer", c->consumer,
	    "api", api,
	    "applied", a,
	    "checkpointed", cp,
	    "control_applied", ctl,
	    "stream_time_ms", (json_int_t)stream_ms,
	    "counted", (json_int_t)ingest_counters(hp->in)->counted,
	    "log_behind", (json_int_t)ha_log_behind(hp->hl),
	    "lag", (json_int_t)stream_lag(hp->st),
	    "alerts_digest", digest,
	    "config_digest", ha_config_digest(hp->ha),
	    "delivered", (json_int_t)metrics.notifications_delivered,
	    "by_peer", (json_int_t)metrics.ha_delivered_by_peer,
	    "unclaimed", (json_int_t)metrics.ha_unclaimed,
	    "repeats", (json_int_t)metrics.ha_repeats);
}

static void
ha_peers_free_list(struct ha_peer *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		ha_peer_clear(&p[i]);
	free(p);
}

/* Judge the last answer as of now (Redis's time, moved on locally). */
static bool
ha_peers_judge(const struct ha_peers *hp)
{
	int64_t now = hp->redis_ms + (ha_peers_mono_ms() - hp->mono_ms);

	return ha_peer_judge(hp->peers, hp->npeers, ha_instance(hp->ha), now,
	    ha_conf(hp->ha)->ha_peer_timeout_ms);
}

/* Log what changed between the old list and the new one. */
static void
ha_peers_changes(struct ha_peers *hp, const struct ha_peer *old,
    size_t nold, bool agree)
{
	const struct ha_peer *o;
	struct ha_peer *p;
	const char *boot;
	char *who;
	size_t i, j;

	for (i = 0; i < hp->npeers; i++) {
		p = &hp->peers[i];
		for (o = NULL, j = 0; j < nold && o == NULL; j++) {
			if (strcmp(old[j].instance, p->instance) == 0)
				o = &old[j];
		}
		if (p->self)
			continue;
		/* Not o->up: a request judges the old list again meanwhile. */
		p->logged_up = o != NULL && o->logged_up;
		if (p->up && !p->logged_up)
			log_notice("ha: peer %s on %s is up", p->instance,
			    p->host);
		else if (!p->up && p->logged_up)
			log_warnx("ha: peer %s on %s is down: no heartbeat "
			    "for %" PRId64 " ms", p->instance, p->host,
			    hp->redis_ms - p->seen_ms);
		p->logged_up = p->up;
		if (!p->group_clash)
			continue;
		boot = json_string_value(json_object_get(p->beat, "boot"));
		who = xasprintf("%s/%s", p->instance, boot != NULL ? boot : "");
		if (hp->clash_logged == NULL ||
		    strcmp(hp->clash_logged, who) != 0) {
			log_errorx("ha: instance %s on %s reads with our "
			    "consumer group %s: the two split the stream "
			    "between them; give each instance its own "
			    "redis.group", p->instance, p->host, p->group);
			free(hp->clash_logged);
			hp->clash_logged = who;
		} else
			free(who);
	}
	if (!agree && hp->agree)
		log_warnx("ha: peers at one position report different "
		    "alerts (alerts_digest)");
	else if (agree && !hp->agree)
		log_notice("ha: peers agree again");
	hp->agree = agree;
}

static int
ha_peers_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ha_peer *)a)->instance,
	    ((const struct ha_peer *)b)->instance);
}

/* The answer {"ok", now, name, value, ...}: the new list of peers. */
static void
ha_peers_take(struct ha_peers *hp, const redisReply *r, int64_t now)
{
	struct ha_peer *old = hp->peers, *p;
	size_t nold = hp->npeers, i, n = 0;
	const redisReply *k, *v;
	char *cause;

	p = xcalloc(r->elements / 2 + 1, sizeof *p);
	for (i = 2; i + 1 < r->elements; i += 2) {
		k = r->element[i];
		v = r->element[i + 1];
		if (k->type != REDIS_REPLY_STRING ||
		    v->type != REDIS_REPLY_STRING)
			continue;
		if (ha_peer_parse(&p[n], k->str, v->str, v->len,
		    &cause) == -1) {
			if (hp->bad_logged == NULL ||
			    strcmp(hp->bad_logged, k->str) != 0) {
				log_warnx("ha: %s: entry %s skipped: %s",
				    hp->key, k->str, cause);
				free(hp->bad_logged);
				hp->bad_logged = xstrdup(k->str);
			}
			free(cause);
			continue;
		}
		n++;
	}
	/* By name: the hash's order changes as it grows. */
	qsort(p, n, sizeof *p, ha_peers_cmp);
	hp->peers = p;
	hp->npeers = n;
	hp->redis_ms = now;
	hp->mono_ms = ha_peers_mono_ms();
	ha_peers_changes(hp, old, nold, ha_peers_judge(hp));
	ha_peers_free_list(old, nold);
}

/* Another host's live entry holds our name: two would be one. */
static void __attribute__((noreturn))
ha_peers_conflict(struct ha_peers *hp, const redisReply *old)
{
	struct ha_peer p;
	char *cause;

	if (old->type == REDIS_REPLY_STRING && ha_peer_parse(&p,
	    ha_instance(hp->ha), old->str, old->len, &cause) == 0)
		fatalx("ha: ha.instance %s is in use on %s (pid %" PRId64
		    "); give this instance another name",
		    ha_instance(hp->ha), p.host,
		    (int64_t)json_integer_value(json_object_get(p.beat,
		    "pid")));
	fatalx("ha: ha.instance %s is in use on another host; give this "
	    "instance another name", ha_instance(hp->ha));
}

static void
ha_peers_reply_cb(void *arg, const redisReply *r)
{
	struct ha_peers *hp = arg;
	const char *what = NULL;
	int64_t now;

	hp->inflight = false;
	if (r == NULL)
		what = "the link was lost";
	else if (r->type == REDIS_REPLY_ERROR)
		what = r->str;
	else if (r->type != REDIS_REPLY_ARRAY || r->elements < 2 ||
	    r->element[0]->type != REDIS_REPLY_STRING ||
	    r->element[1]->type != REDIS_REPLY_STRING)
		what = "an answer of another shape";
	if (what != NULL) {
		if (!hp->failing)
			log_warnx("ha: heartbeat failed: %s", what);
		hp->failing = true;
		/* Also at ha_close, before ha_peers_free: harmless then. */
		ha_peers_arm(hp, ha_conf(hp->ha)->ha_heartbeat_ms);
		return;
	}
	if (hp->failing)
		log_notice("ha: heartbeat written again");
	hp->failing = false;
	now = strtoll(r->element[1]->str, NULL, 10);
	if (strcmp(r->element[0]->str, "conflict") == 0 &&
	    r->elements >= 3)
		ha_peers_conflict(hp, r->element[2]);
	hp->first = false;
	ha_peers_take(hp, r, now);
	ha_peers_arm(hp, ha_conf(hp->ha)->ha_heartbeat_ms);
}

static void
ha_peers_timer_cb(int fd, short what, void *arg)
{
	struct ha_peers *hp = arg;
	const struct conf *c = ha_conf(hp->ha);
	struct rlink *rl = ha_link(hp->ha);
	char timeout[32], keep[32];
	const char *argv[7];
	json_t *o;
	char *text;
	int rc;

	(void)fd;
	(void)what;
	if (hp->inflight)
		return;
	if (rl == NULL || !rlink_up(rl)) {
		ha_peers_arm(hp, HA_PEERS_RETRY_MS < c->ha_heartbeat_ms ?
		    HA_PEERS_RETRY_MS : c->ha_heartbeat_ms);
		return;
	}
	o = ha_peers_local(hp);
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (text == NULL)
		fatalx("ha: out of memory");
	snprintf(timeout, sizeof timeout, "%" PRId64, c->ha_peer_timeout_ms);
	snprintf(keep, sizeof keep, "%lld", HA_PEERS_KEEP_MS);
	argv[0] = hp->key;
	argv[1] = ha_instance(hp->ha);
	argv[2] = hp->host;
	argv[3] = text;
	argv[4] = hp->first ? "1" : "0";
	argv[5] = timeout;
	argv[6] = keep;
	rc = rlink_eval(rl, &ha_peers_script, ha_peers_reply_cb, hp, 1, 7,
	    argv, NULL);
	free(text);
	if (rc == -1)
		ha_peers_arm(hp, c->ha_heartbeat_ms);
	else
		hp->inflight = true;
}

void
ha_peers_start(struct ha_peers *hp)
{
	hp->timer = evtimer_new(ha_base(hp->ha), ha_peers_timer_cb, hp);
	ha_peers_arm(hp, 0);
}

void
ha_peers_free(struct ha_peers *hp)
{
	if (hp == NULL)
		return;
	if (hp->timer != NULL)
		event_free(hp->timer);
	ha_peers_free_list(hp->peers, hp->npeers);
	free(hp->bad_logged);
	free(hp->clash_logged);
	free(hp->key);
	if (ha_peers_one == hp)
		ha_peers_one = NULL;
	free(hp);
}

json_t *
ha_peers_json(const struct ha_peers *hp)
{
	json_t *list = json_array(), *o;
	struct ha_peer me;
	char *text, *cause;
	size_t i;

	ha_peers_judge(hp);
	for (i = 0; i < hp->npeers; i++)
		json_array_append_new(list, ha_peer_json(&hp->peers[i]));
	if (hp->npeers > 0)
		return list;
	/* No heartbeat written yet: ourselves, not seen. */
	o = ha_peers_local(hp);
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (text != NULL) {
		char *value = xasprintf("0 %s", text);

		if (ha_peer_parse(&me, ha_instance(hp->ha), value,
		    strlen(value), &cause) == 0) {
			me.self = true;
			me.config_same = true;
			json_array_append_new(list, ha_peer_json(&me));
			ha_peer_clear(&me);
		} else
			free(cause);
		free(value);
	}
	free(text);
	return list;
}

bool
ha_peers_agree(const struct ha_peers *hp)
{
	return ha_peers_judge(hp);
}

/* Instance names from Redis go into labels: only the configured alphabet. */
static bool
ha_peers_label_ok(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' ||
		    *s == '-'))
			return false;
	}
	return true;
}

static void
ha_peers_put(struct buf *out, const char *s)
{
	buf_put(out, s, strlen(s));
}

void
ha_peers_metrics(struct buf *out)
{
	struct ha_peers *hp = ha_peers_one;
	char line[256];
	bool agree;
	size_t i;

	if (hp == NULL)
		return;
	agree = ha_peers_judge(hp);
	ha_peers_put(out, "# HELP stabild_ha_peer_up Whether the peer's "
	    "heartbeat is younger than ha.peer_timeout (this instance "
	    "included).\n# TYPE stabild_ha_peer_up gauge\n");
	for (i = 0; i < hp->npeers; i++) {
		if (!ha_peers_label_ok(hp->peers[i].instance))
			continue;
		snprintf(line, sizeof line,
		    "stabild_ha_peer_up{instance=\"%s\"} %d\n",
		    hp->peers[i].instance, hp->peers[i].up ? 1 : 0);
		ha_peers_put(out, line);
	}
	ha_peers_put(out, "# HELP stabild_ha_peer_behind_seconds How far "
	    "the peer's stream clock is behind the newest live peer's.\n"
	    "# TYPE stabild_ha_peer_behind_seconds gauge\n");
	for (i = 0; i < hp->npeers; i++) {
		if (!ha_peers_label_ok(hp->peers[i].instance))
			continue;
		snprintf(line, sizeof line,
		    "stabild_ha_peer_behind_seconds{instance=\"%s\"} %" PRId64
		    "\n", hp->peers[i].instance, hp->peers[i].behind_s);
		ha_peers_put(out, line);
	}
	snprintf(line, sizeof line, "# HELP stabild_ha_peers_agree 0 when "
	    "two live peers at one position report different alerts.\n"
	    "# TYPE stabild_ha_peers_agree gauge\nstabild_ha_peers_agree "
	    "%d\n", agree ? 1 : 0);
	ha_peers_put(out, line);
}
