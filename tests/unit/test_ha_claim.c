/*
 * Tests for ha_claim.c's pure parts: the claim script's replies
 * classified, the action each member of a group gets (send, send
 * unclaimed, delivered by a peer, wait), the too-old rule and the done
 * marker's fields. The Redis link is stubbed: nothing here sends.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <hiredis/hiredis.h>

#include "conf.h"
#include "ha.h"
#include "ha_claim.h"
#include "metrics.h"
#include "rlink.h"

/* What ha_claim.o links against, stubbed. */
struct metrics metrics;
const struct conf *ha_conf(const struct ha *ha) { (void)ha; return NULL; }
const char *ha_instance(const struct ha *ha) { (void)ha; return "a"; }
const char *ha_boot(const struct ha *ha) { (void)ha; return "0123"; }
struct rlink *ha_link(struct ha *ha) { (void)ha; return NULL; }
char *ha_key(const struct ha *ha, const char *s) { (void)ha; return strdup(s); }
bool rlink_up(const struct rlink *rl) { (void)rl; return false; }
int
rlink_eval(struct rlink *rl, struct rlink_script *s, rlink_reply_cb cb,
    void *arg, int nkeys, int argc, const char **argv, const size_t *argvlen)
{
	(void)rl; (void)s; (void)cb; (void)arg; (void)nkeys; (void)argc;
	(void)argv; (void)argvlen;
	return -1;
}

static redisReply *
str(const char *s)
{
	redisReply *r = calloc(1, sizeof *r);

	r->type = REDIS_REPLY_STRING;
	r->str = strdup(s);
	r->len = strlen(s);
	return r;
}

static redisReply *
num(long long v)
{
	redisReply *r = calloc(1, sizeof *r);

	r->type = REDIS_REPLY_INTEGER;
	r->integer = v;
	return r;
}

static redisReply *
arr(int n, ...)
{
	redisReply *r = calloc(1, sizeof *r);
	va_list ap;
	int i;

	r->type = REDIS_REPLY_ARRAY;
	r->elements = (size_t)n;
	r->element = calloc((size_t)n, sizeof *r->element);
	va_start(ap, n);
	for (i = 0; i < n; i++)
		r->element[i] = va_arg(ap, redisReply *);
	va_end(ap);
	return r;
}

static void
release(redisReply *r)
{
	size_t i;

	for (i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++)
		release(r->element[i]);
	free(r->element);
	free(r->str);
	free(r);
}

static void
test_parse(void **state)
{
	struct ha_claim_reply out;
	redisReply *r;

	(void)state;
	r = arr(3, str("ok"), str("17"), str(""));
	ha_claim_parse(r, &out);
	assert_int_equal(out.result, HA_CLAIM_WON);
	assert_int_equal(out.token, 17);
	assert_false(out.takeover);
	release(r);

	/* An expired claim of b's, or of an older boot of ours. */
	r = arr(3, str("ok"), str("18"), str("b/ffee/9"));
	ha_claim_parse(r, &out);
	assert_int_equal(out.result, HA_CLAIM_WON);
	assert_true(out.takeover);
	assert_string_equal(out.value, "b/ffee/9");
	release(r);

	r = arr(2, str("done"), str("b 9 1700000000123 delivered"));
	ha_claim_parse(r, &out);
	assert_int_equal(out.result, HA_CLAIM_DONE);
	assert_string_equal(out.value, "b 9 1700000000123 delivered");
	release(r);

	r = arr(3, str("held"), str("b/ffee/9"), num(700));
	ha_claim_parse(r, &out);
	assert_int_equal(out.result, HA_CLAIM_HELD);
	assert_int_equal(out.pttl_ms, 700);
	release(r);
	r = arr(3, str("held"), str("b/ffee/9"), num(-1));
	ha_claim_parse(r, &out);
	assert_int_equal(out.result, HA_CLAIM_HELD);
	assert_int_equal(out.pttl_ms, 0);
	release(r);

	/* Anything else is no answer: a bad token, short, an error, none. */
	r = arr(3, str("ok"), str("x7"), str(""));
	ha_claim_parse(r, &out);
	assert_int_equal(out.result, HA_CLAIM_ERROR);
	release(r);
	r = arr(3, str("ok"), str("0"), str(""));
	ha_claim_parse(r, &out);
	assert_int_equal(out.result, HA_CLAIM_ERROR);
	release(r);
	r = arr(1, str("done"));
	ha_claim_parse(r, &out);
	assert_int_equal(out.result, HA_CLAIM_ERROR);
	release(r);
	r = arr(3, str("held"), str("b/1/2"), str("700"));
	ha_claim_parse(r, &out);
	assert_int_equal(out.result, HA_CLAIM_ERROR);
	release(r);
	r = str("NOSCRIPT");
	r->type = REDIS_REPLY_ERROR;
	ha_claim_parse(r, &out);
	assert_int_equal(out.result, HA_CLAIM_ERROR);
	release(r);
	ha_claim_parse(NULL, &out);
	assert_int_equal(out.result, HA_CLAIM_ERROR);
}

/* A group of four members: each gets its own action. */
static void
test_group(void **state)
{
	struct ha_claim_reply r[4];
	int64_t since[4] = { 0, 0, 0, 0 }, at;
	const int64_t now = 1700000000000LL;

	(void)state;
	memset(r, 0, sizeof r);
	r[0].result = HA_CLAIM_WON;
	r[0].token = 5;
	r[1].result = HA_CLAIM_DONE;
	r[2].result = HA_CLAIM_HELD;
	r[2].pttl_ms = 800;
	r[3].result = HA_CLAIM_ERROR;
	assert_int_equal(ha_claim_action(&r[0], now, &since[0], 60000, 30000,
	    100, &at), HA_CLAIM_SEND);
	assert_int_equal(ha_claim_action(&r[1], now, &since[1], 60000, 30000,
	    100, &at), HA_CLAIM_BY_PEER);
	assert_int_equal(ha_claim_action(&r[2], now, &since[2], 60000, 30000,
	    100, &at), HA_CLAIM_WAIT);
	assert_int_equal(at, now + 900);	/* its PTTL and the jitter */
	assert_int_equal(ha_claim_action(&r[3], now, &since[3], 60000, 30000,
	    100, &at), HA_CLAIM_WAIT);
	assert_int_equal(at, now + 1100);	/* soon again */
	assert_int_equal(since[3], now);
	/* A holder's wait is bounded by the claim's lifetime. */
	r[2].pttl_ms = 10 * 60 * 1000;
	assert_int_equal(ha_claim_action(&r[2], now, &since[2], 60000, 30000,
	    0, &at), HA_CLAIM_WAIT);
	assert_int_equal(at, now + 30000);

	/* Redis silent: wait until ha.unclaimed_after, then send anyway. */
	assert_int_equal(ha_claim_action(&r[3], now + 59999, &since[3], 60000,
	    30000, 0, &at), HA_CLAIM_WAIT);
	assert_int_equal(ha_claim_action(&r[3], now + 60000, &since[3], 60000,
	    30000, 0, &at), HA_CLAIM_SEND_UNCLAIMED);
	/* 0: never. */
	assert_int_equal(ha_claim_action(&r[3], now + 3600000, &since[3], 0,
	    30000, 0, &at), HA_CLAIM_WAIT);
	/* An answer ends the silence: the count starts again. */
	assert_int_equal(ha_claim_action(&r[2], now + 3600000, &since[3],
	    60000, 30000, 0, &at), HA_CLAIM_WAIT);
	assert_int_equal(since[3], 0);
	assert_int_equal(ha_claim_action(&r[3], now + 3600001, &since[3],
	    60000, 30000, 0, &at), HA_CLAIM_WAIT);
}

static void
test_too_old(void **state)
{
	struct conf c;
	const int64_t day = HA_CLAIM_DAY_MS, wall = 1700000000000LL;
	int64_t ttl;

	(void)state;
	memset(&c, 0, sizeof c);
	c.historical_age_ms = 7 * day;
	c.delivery_expiry_ms = day;
	ttl = ha_claim_done_ttl(&c);
	assert_int_equal(ttl, 9 * day);
	/* Older than the marker would be kept, less the margin of a day. */
	assert_false(ha_claim_too_old(wall, wall, ttl));
	assert_false(ha_claim_too_old(wall - 8 * day, wall, ttl));
	assert_true(ha_claim_too_old(wall - 8 * day - 1, wall, ttl));
}

static void
test_marker(void **state)
{
	char by[72];

	(void)state;
	ha_claim_holder("b 9 1700000000123 delivered", by, sizeof by);
	assert_string_equal(by, "b");
	ha_claim_holder("host-2/0a1b/12", by, sizeof by);
	assert_string_equal(by, "host-2");
	ha_claim_holder("abcdef", by, 4);
	assert_string_equal(by, "abc");
	assert_int_equal(ha_claim_done_at("b 9 1700000000123 delivered"),
	    1700000000123LL);
	assert_int_equal(ha_claim_done_at("b 9"), 0);
	assert_int_equal(ha_claim_done_at(""), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_group),
		cmocka_unit_test(test_too_old),
		cmocka_unit_test(test_marker),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
