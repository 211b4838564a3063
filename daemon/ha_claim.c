/*
 * Delivery claims (ha_claim.h): four Lua scripts, each one atomic step in
 * Redis, so that "not done, not held: take it with a new token" cannot
 * interleave with another instance's claim or done marker.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "conf.h"
#include "ha.h"
#include "ha_claim.h"
#include "log.h"
#include "metrics.h"
#include "rlink.h"
#include "xmalloc.h"

/*
 * KEYS claim, claimed, done, fence; ARGV instance, boot, ttl ms.
 * A live claim of our own current boot is renewed and ours again (a
 * claim whose answer was lost); one of an older boot of ours (we were
 * restarted) is taken over at once; one of another instance holds.
 */
static struct rlink_script ha_claim_take_script = { "claim",
	"local d = redis.call('GET', KEYS[3])\n"
	"if d then return {'done', d} end\n"
	"local c = redis.call('GET', KEYS[1])\n"
	"if c then\n"
	"  local i, b, t = string.match(c, '^([^/]*)/([^/]*)/(%d+)$')\n"
	"  if i == ARGV[1] and b == ARGV[2] then\n"
	"    redis.call('PEXPIRE', KEYS[1], ARGV[3])\n"
	"    return {'ok', t, ''}\n"
	"  end\n"
	"  if i ~= ARGV[1] then\n"
	"    return {'held', c, redis.call('PTTL', KEYS[1])}\n"
	"  end\n"
	"end\n"
	"local prev = redis.call('GET', KEYS[2]) or ''\n"
	"local t = redis.call('INCR', KEYS[4])\n"
	"local v = ARGV[1] .. '/' .. ARGV[2] .. '/' .. t\n"
	"redis.call('SET', KEYS[1], v, 'PX', ARGV[3])\n"
	"redis.call('SET', KEYS[2], v, 'PX', 86400000)\n"
	"return {'ok', tostring(t), prev}\n",
	""
};

/* KEYS claim, claimed; ARGV value, ttl ms. */
static struct rlink_script ha_claim_renew_script = { "renew",
	"if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end\n"
	"redis.call('PEXPIRE', KEYS[1], ARGV[2])\n"
	"return 1\n",
	""
};

/*
 * KEYS claim, claimed, done; ARGV value ("" unclaimed), marker, ttl ms.
 * A marker there already with our instance and token is ours, written
 * by an earlier call whose answer was lost: not a repeat.
 */
static struct rlink_script ha_claim_done_script = { "done",
	"if redis.call('GET', KEYS[1]) == ARGV[1] then\n"
	"  redis.call('DEL', KEYS[1])\n"
	"end\n"
	"if redis.call('GET', KEYS[2]) == ARGV[1] then\n"
	"  redis.call('DEL', KEYS[2])\n"
	"end\n"
	"if redis.call('SET', KEYS[3], ARGV[2], 'NX', 'PX', ARGV[3]) then\n"
	"  return 1\n"
	"end\n"
	"local ours = string.match(ARGV[2], '^%S+ %d+ ')\n"
	"local d = redis.call('GET', KEYS[3])\n"
	"if ours and d and string.sub(d, 1, #ours) == ours then return 1 end\n"
	"return 0\n",
	""
};

/* KEYS claim, claimed; ARGV value. */
static struct rlink_script ha_claim_release_script = { "release",
	"if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end\n"
	"redis.call('DEL', KEYS[1])\n"
	"if redis.call('GET', KEYS[2]) == ARGV[1] then\n"
	"  redis.call('DEL', KEYS[2])\n"
	"end\n"
	"return 1\n",
	""
};

struct ha_claim {
	struct ha	*ha;
};

/* Wall clock in Unix ms: a done marker says when it was written. */
static int64_t
ha_claim_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One script in flight. */
struct ha_claim_req {
	ha_claim_cb	 take_cb;
	ha_claim_ok_cb	 ok_cb;
	void		*arg;
	char		 nid[256];
	const char	*what;		/* for the log */
};

struct ha_claim *
ha_claim_create(struct ha *ha)
{
	struct ha_claim *hc = xcalloc(1, sizeof *hc);

	hc->ha = ha;
	return hc;
}

void
ha_claim_free(struct ha_claim *hc)
{
	free(hc);
}

static void
ha_claim_copy(char *buf, size_t size, const struct redisReply *r)
{
	size_t n = r->len < size - 1 ? r->len : size - 1;

	memcpy(buf, r->str, n);
	buf[n] = '\0';
}

static bool
ha_claim_is_text(const struct redisReply *r)
{
	return r != NULL && (r->type == REDIS_REPLY_STRING ||
	    r->type == REDIS_REPLY_STATUS);
}

void
ha_claim_parse(const struct redisReply *r, struct ha_claim_reply *out)
{
	const struct redisReply *tag, *v;
	char num[32], *end;

	memset(out, 0, sizeof *out);
	out->result = HA_CLAIM_ERROR;
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements < 2 ||
	    !ha_claim_is_text(r->element[0]) ||
	    !ha_claim_is_text(r->element[1]))
		return;
	tag = r->element[0];
	v = r->element[1];
	if (tag->len == 4 && memcmp(tag->str, "done", 4) == 0) {
		ha_claim_copy(out->value, sizeof out->value, v);
		out->result = HA_CLAIM_DONE;
	} else if (tag->len == 4 && memcmp(tag->str, "held", 4) == 0 &&
	    r->elements >= 3 && r->element[2]->type == REDIS_REPLY_INTEGER) {
		ha_claim_copy(out->value, sizeof out->value, v);
		/* -1 (no expiry) or -2 (just gone): retry soon. */
		out->pttl_ms = r->element[2]->integer > 0 ?
		    r->element[2]->integer : 0;
		out->result = HA_CLAIM_HELD;
	} else if (tag->len == 2 && memcmp(tag->str, "ok", 2) == 0 &&
	    r->elements >= 3 && ha_claim_is_text(r->element[2])) {
		ha_claim_copy(num, sizeof num, v);
		out->token = strtoull(num, &end, 10);
		if (num[0] == '\0' || *end != '\0' || out->token == 0)
			return;
		ha_claim_copy(out->value, sizeof out->value, r->element[2]);
		out->takeover = out->value[0] != '\0';
		out->result = HA_CLAIM_WON;
	}
}

static void
ha_claim_take_cb(void *arg, const struct redisReply *r)
{
	struct ha_claim_req *req = arg;
	struct ha_claim_reply out;

	ha_claim_parse(r, &out);
	if (out.result == HA_CLAIM_ERROR && r != NULL)
		log_warnx("ha_claim: %s: unexpected answer to the claim%s%.*s",
		    req->nid, r->type == REDIS_REPLY_ERROR ? ": " : "",
		    r->type == REDIS_REPLY_ERROR ? (int)r->len : 0,
		    r->type == REDIS_REPLY_ERROR ? r->str : "");
	switch (out.result) {
	case HA_CLAIM_WON:
		metrics.ha_claims[METRICS_CLAIM_WON]++;
		if (out.takeover) {
			metrics.ha_takeovers++;
			log_notice("ha_claim: %s: taken over from %s",
			    req->nid, out.value);
		}
		break;
	case HA_CLAIM_DONE:
		metrics.ha_claims[METRICS_CLAIM_DONE]++;
		break;
	case HA_CLAIM_HELD:
		metrics.ha_claims[METRICS_CLAIM_HELD]++;
		break;
	case HA_CLAIM_ERROR:
		metrics.ha_claims[METRICS_CLAIM_ERROR]++;
		break;
	}
	req->take_cb(req->arg, &out);
	free(req);
}

/* 1 or 0 from a script, -1 for anything else. */
static void
ha_claim_ok_reply_cb(void *arg, const struct redisReply *r)
{
	struct ha_claim_req *req = arg;
	int result = -1;

	if (r != NULL && r->type == REDIS_REPLY_INTEGER)
		result = r->integer == 1 ? 1 : 0;
	else if (r != NULL)
		log_warnx("ha_claim: %s: unexpected answer to %s%s%.*s",
		    req->nid, req->what, r->type == REDIS_REPLY_ERROR ? ": " :
		    "", r->type == REDIS_REPLY_ERROR ? (int)r->len : 0,
		    r->type == REDIS_REPLY_ERROR ? r->str : "");
	if (req->ok_cb != NULL)
		req->ok_cb(req->arg, result);
	free(req);
}

/* Run s with keys claim:, claimed:, done: (as many as nkeys) and argv. */
static int
ha_claim_eval(struct ha_claim *hc, struct rlink_script *s,
    struct ha_claim_req *req, int nkeys, int nargs, const char **args)
{
	static const char *const kinds[] = { "claim:", "claimed:", "done:" };
	struct rlink *rl = ha_link(hc->ha);
	const char *argv[8];
	char *keys[4], *suffix;
	int i, rc;

	if (rl == NULL || !rlink_up(rl) || strlen(req->nid) == 0) {
		free(req);
		return -1;
	}
	for (i = 0; i < nkeys; i++) {
		if (i < 3) {
			suffix = xasprintf("%s%s", kinds[i], req->nid);
			keys[i] = ha_key(hc->ha, suffix);
			free(suffix);
		} else
			keys[i] = ha_key(hc->ha, "fence");
		argv[i] = keys[i];
	}
	for (i = 0; i < nargs; i++)
		argv[nkeys + i] = args[i];
	rc = rlink_eval(rl, s, req->take_cb != NULL ? ha_claim_take_cb :
	    ha_claim_ok_reply_cb, req, nkeys, nkeys + nargs, argv, NULL);
	for (i = 0; i < nkeys; i++)
		free(keys[i]);
	if (rc == -1)
		free(req);
	return rc;
}

static struct ha_claim_req *
ha_claim_req(const char *nid, const char *what, ha_claim_cb take_cb,
    ha_claim_ok_cb ok_cb, void *arg)
{
	struct ha_claim_req *req = xcalloc(1, sizeof *req);

	if (strlen(nid) >= sizeof req->nid) {
		req->nid[0] = '\0';	/* refused by ha_claim_eval */
		log_warnx("ha_claim: an id too long to claim");
	} else
		snprintf(req->nid, sizeof req->nid, "%s", nid);
	req->what = what;
	req->take_cb = take_cb;
	req->ok_cb = ok_cb;
	req->arg = arg;
	return req;
}

int
ha_claim_take(struct ha_claim *hc, const char *nid, ha_claim_cb cb,
    void *arg)
{
	const struct conf *c = ha_conf(hc->ha);
	char ttl[32];
	const char *args[3];

	snprintf(ttl, sizeof ttl, "%" PRId64, c->ha_claim_ttl_ms);
	args[0] = ha_instance(hc->ha);
	args[1] = ha_boot(hc->ha);
	args[2] = ttl;
	return ha_claim_eval(hc, &ha_claim_take_script, ha_claim_req(nid,
	    "the claim", cb, NULL, arg), 4, 3, args);
}

/* Our claim's value for token. */
static char *
ha_claim_value(struct ha_claim *hc, uint64_t token)
{
	return xasprintf("%s/%s/%" PRIu64, ha_instance(hc->ha),
	    ha_boot(hc->ha), token);
}

int
ha_claim_renew(struct ha_claim *hc, const char *nid, uint64_t token,
    ha_claim_ok_cb cb, void *arg)
{
	char ttl[32], *value = ha_claim_value(hc, token);
	const char *args[2];
	int rc;

	snprintf(ttl, sizeof ttl, "%" PRId64, ha_conf(hc->ha)->ha_claim_ttl_ms);
	args[0] = value;
	args[1] = ttl;
	rc = ha_claim_eval(hc, &ha_claim_renew_script, ha_claim_req(nid,
	    "the renewal", NULL, cb, arg), 2, 2, args);
	free(value);
	return rc;
}

int
ha_claim_done(struct ha_claim *hc, const char *nid, uint64_t token,
    bool unclaimed, ha_claim_ok_cb cb, void *arg)
{
	char ttl[32], *value, *marker;
	const char *args[3];
	int rc;

	value = unclaimed ? xstrdup("") : ha_claim_value(hc, token);
	marker = xasprintf("%s %" PRIu64 " %" PRId64 " %s",
	    ha_instance(hc->ha), token, ha_claim_now_ms(),
	    unclaimed ? "unclaimed" : "delivered");
	snprintf(ttl, sizeof ttl, "%" PRId64, ha_claim_done_ttl(ha_conf(
	    hc->ha)));
	args[0] = value;
	args[1] = marker;
	args[2] = ttl;
	rc = ha_claim_eval(hc, &ha_claim_done_script, ha_claim_req(nid,
	    "the done marker", NULL, cb, arg), 3, 3, args);
	free(value);
	free(marker);
	return rc;
}

int
ha_claim_release(struct ha_claim *hc, const char *nid, uint64_t token,
    ha_claim_ok_cb cb, void *arg)
{
	char *value = ha_claim_value(hc, token);
	const char *args[1];
	int rc;

	args[0] = value;
	rc = ha_claim_eval(hc, &ha_claim_release_script, ha_claim_req(nid,
	    "the release", NULL, cb, arg), 2, 1, args);
	free(value);
	return rc;
}

int64_t
ha_claim_done_ttl(const struct conf *c)
{
	return c->historical_age_ms + c->delivery_expiry_ms + HA_CLAIM_DAY_MS;
}

bool
ha_claim_too_old(int64_t stream_ms, int64_t wall_ms, int64_t done_ttl_ms)
{
	return stream_ms < wall_ms - done_ttl_ms + HA_CLAIM_DAY_MS;
}

enum ha_claim_action
ha_claim_action(const struct ha_claim_reply *r, int64_t now_ms,
    int64_t *error_since_ms, int64_t unclaimed_after_ms,
    int64_t claim_ttl_ms, int64_t jitter_ms, int64_t *at_ms)
{
	int64_t wait;

	*at_ms = now_ms;
	if (r->result != HA_CLAIM_ERROR)
		*error_since_ms = 0;
	switch (r->result) {
	case HA_CLAIM_WON:
		return HA_CLAIM_SEND;
	case HA_CLAIM_DONE:
		return HA_CLAIM_BY_PEER;
	case HA_CLAIM_HELD:
		/* Until the holder's claim ends, unless it renews. */
		wait = r->pttl_ms < claim_ttl_ms ? r->pttl_ms : claim_ttl_ms;
		*at_ms = now_ms + wait + jitter_ms;
		return HA_CLAIM_WAIT;
	case HA_CLAIM_ERROR:
		break;
	}
	if (*error_since_ms == 0)
		*error_since_ms = now_ms;
	if (unclaimed_after_ms > 0 &&
	    now_ms - *error_since_ms >= unclaimed_after_ms)
		return HA_CLAIM_SEND_UNCLAIMED;
	*at_ms = now_ms + 1000 + jitter_ms;
	return HA_CLAIM_WAIT;
}

void
ha_claim_holder(const char *value, char *buf, size_t size)
{
	size_t n = strcspn(value, " /");

	if (n >= size)
		n = size - 1;
	memcpy(buf, value, n);
	buf[n] = '\0';
}

int64_t
ha_claim_done_at(const char *value)
{
	const char *p = strchr(value, ' ');

	if (p == NULL || (p = strchr(p + 1, ' ')) == NULL)
		return 0;
	return strtoll(p + 1, NULL, 10);
}
