/*
 * Tests for ha_peer.c: parsing a peer's heartbeat entry (bad ones
 * refused with the reason) and judging the peers seen at one time: up
 * against the timeout, behind the newest live peer, agreement at one
 * position, the configuration and the consumer group compared with ours.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "ha_peer.h"
#include "xmalloc.h"

/* A peer's entry stamped at ms. */
static void
peer(struct ha_peer *p, const char *name, int64_t ms, const char *group,
    const char *applied, int64_t stream_ms, const char *digest,
    const char *config)
{
	char *v, *cause = NULL;

	v = xasprintf("%lld {\"instance\":\"%s\",\"host\":\"h-%s\","
	    "\"group\":\"%s\",\"applied\":\"%s\",\"stream_time_ms\":%lld,"
	    "\"alerts_digest\":\"%s\",\"config_digest\":\"%s\","
	    "\"log_behind\":-1,\"delivered\":3}", (long long)ms, name, name,
	    group, applied, (long long)stream_ms, digest, config);
	assert_int_equal(ha_peer_parse(p, name, v, strlen(v), &cause), 0);
	assert_null(cause);
	free(v);
}

static void
bad(const char *name, const char *v, const char *why)
{
	struct ha_peer p;
	char *cause = NULL;

	assert_int_equal(ha_peer_parse(&p, name, v, strlen(v), &cause), -1);
	assert_non_null(cause);
	assert_non_null(strstr(cause, why));
	assert_null(p.beat);
	free(cause);
}

static void
test_parse(void **state)
{
	struct ha_peer p;

	(void)state;
	peer(&p, "a", 1700000000123, "stabild-a", "5-0", 5000, "d1", "c1");
	assert_int_equal(p.seen_ms, 1700000000123);
	assert_string_equal(p.instance, "a");
	assert_string_equal(p.host, "h-a");
	assert_string_equal(p.group, "stabild-a");
	assert_string_equal(p.applied, "5-0");
	assert_int_equal(p.stream_ms, 5000);
	assert_string_equal(p.alerts_digest, "d1");
	ha_peer_clear(&p);
	assert_null(p.beat);

	bad("a", "{\"instance\":\"a\"}", "no time before the object");
	bad("a", "12{\"instance\":\"a\"}", "no time before the object");
	bad("a", "12", "no time before the object");
	bad("a", "99999999999999999999 {}", "out of range");
	bad("a", "12 {\"instance\":", "not a JSON object");
	bad("a", "12 [1]", "not a JSON object: another type");
	bad("a", "12 {\"instance\":\"b\"}", "it names instance \"b\"");
	bad("a", "12 {}", "it names instance \"\"");
}

static void
test_judge(void **state)
{
	struct ha_peer p[3];
	json_t *o;

	(void)state;
	/* Both live, b 2.5 s of stream behind a, at different positions. */
	peer(&p[0], "a", 10000, "stabild-a", "9-0", 9000, "x", "c");
	peer(&p[1], "b", 9900, "stabild-b", "6-0", 6500, "y", "c");
	assert_true(ha_peer_judge(p, 2, "a", 10100, 2000));
	assert_true(p[0].self && !p[1].self);
	assert_true(p[0].up && p[1].up);
	assert_int_equal(p[0].behind_s, 0);
	assert_int_equal(p[1].behind_s, 2);
	assert_true(p[1].config_same);
	assert_false(p[1].group_clash);

	/* b silent for the timeout: down, and still behind. */
	assert_true(ha_peer_judge(p, 2, "a", 11900, 2000));
	assert_false(p[1].up);
	assert_true(p[0].up);
	assert_int_equal(p[1].behind_s, 2);
	o = ha_peer_json(&p[1]);
	assert_false(json_is_true(json_object_get(o, "up")));
	assert_int_equal(json_integer_value(json_object_get(o,
	    "behind_s")), 2);
	assert_true(json_is_null(json_object_get(o, "control_behind")));
	assert_int_equal(json_integer_value(json_object_get(o,
	    "delivered")), 3);
	assert_string_equal(json_string_value(json_object_get(o,
	    "last_seen")), "1970-01-01T00:00:09Z");
	json_decref(o);
	/* A down peer's stream clock does not count: b is behind nobody. */
	p[0].seen_ms = 5000;
	assert_true(ha_peer_judge(p, 2, "b", 11000, 2000));
	assert_false(p[0].up);
	assert_true(p[1].up);
	assert_int_equal(p[0].behind_s, 0);
	assert_int_equal(p[1].behind_s, 0);
	ha_peer_clear(&p[0]);
	ha_peer_clear(&p[1]);

	/* Same position, other alerts: disagreement; other config. */
	peer(&p[0], "a", 10000, "g", "9-0", 9000, "x", "c");
	peer(&p[1], "b", 10000, "g2", "9-0", 9000, "y", "other");
	peer(&p[2], "c", 10000, "g", "8-0", 8000, "z", "c");
	assert_false(ha_peer_judge(p, 3, "a", 10000, 2000));
	assert_false(p[1].config_same);
	assert_true(p[2].config_same);
	/* c reads with a's group: both would split the stream. */
	assert_true(p[2].group_clash);
	assert_false(p[0].group_clash);
	assert_false(p[1].group_clash);
	/* b down: its difference no longer counts. */
	p[1].seen_ms = 1000;
	assert_true(ha_peer_judge(p, 3, "a", 10000, 2000));
	assert_false(p[1].up);
	assert_true(p[2].group_clash);
	ha_peer_clear(&p[0]);
	ha_peer_clear(&p[1]);
	ha_peer_clear(&p[2]);

	/*
	 * The same decisions, but b has applied a registry change a has
	 * not yet: not one position, so other alerts are no disagreement.
	 */
	peer(&p[0], "a", 10000, "g", "9-0", 9000, "x", "c");
	peer(&p[1], "b", 10000, "g2", "9-0", 9000, "y", "c");
	p[1].control_applied = "9500-0";
	assert_true(ha_peer_judge(p, 2, "a", 10000, 2000));
	p[0].control_applied = "9500-0";
	assert_false(ha_peer_judge(p, 2, "a", 10000, 2000));
	ha_peer_clear(&p[0]);
	ha_peer_clear(&p[1]);

	/* One position, one digest: agreement. */
	peer(&p[0], "a", 10000, "g", "9-0", 9000, "x", "c");
	peer(&p[1], "b", 10000, "g2", "9-0", 9000, "x", "c");
	assert_true(ha_peer_judge(p, 2, "b", 10000, 2000));
	assert_true(p[1].self);
	ha_peer_clear(&p[0]);
	ha_peer_clear(&p[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_judge),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
