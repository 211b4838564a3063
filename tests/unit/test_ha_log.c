/*
 * Tests for the control log's pure parts (ha_log.c): the `at` rule
 * (ha_log_due) and reading a control entry's fields, bad ones kept to
 * be skipped with the reason. The Redis link and the instance are
 * stubbed: nothing here talks to Redis.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "decision.h"
#include "ha.h"
#include "ha_log.h"
#include "ingest.h"
#include "metrics.h"
#include "rlink.h"

struct metrics metrics;

/* Stubs: ha_log.c's link and instance, never reached by these tests. */
struct event_base *ha_base(const struct ha *ha) { (void)ha; return NULL; }
struct rlink *ha_link(struct ha *ha) { (void)ha; return NULL; }
const struct conf *ha_conf(const struct ha *ha) { (void)ha; return NULL; }
const char *ha_instance(const struct ha *ha) { (void)ha; return "a"; }
char *ha_key(const struct ha *ha, const char *s) { (void)ha; return strdup(s); }
bool rlink_up(const struct rlink *rl) { (void)rl; return false; }

int
rlink_command(struct rlink *rl, rlink_reply_cb cb, void *arg, int argc,
    const char **argv, const size_t *argvlen)
{
	(void)rl; (void)cb; (void)arg; (void)argc; (void)argv; (void)argvlen;
	return -1;
}

int
rlink_eval(struct rlink *rl, struct rlink_script *s, rlink_reply_cb cb,
    void *arg, int nkeys, int argc, const char **argv,
    const size_t *argvlen)
{
	(void)rl; (void)s; (void)cb; (void)arg; (void)nkeys; (void)argc;
	(void)argv; (void)argvlen;
	return -1;
}

static struct stream_id
sid(uint64_t ms, uint64_t seq)
{
	struct stream_id id = { ms, seq };

	return id;
}

static void
test_due_one_page(void **state)
{
	struct stream_id at = sid(1000, 5), none = sid(0, 0);
	struct stream_id before = sid(1000, 4), after = sid(1000, 6);
	struct stream_id later = sid(2000, 0);

	(void)state;
	/* at < E: C goes first. */
	assert_int_equal(ha_log_due(&at, &after, true, &none), HA_LOG_APPLY);
	assert_int_equal(ha_log_due(&at, &later, true, &none), HA_LOG_APPLY);
	/* at == E: E was there when C was written; C comes after it. */
	assert_int_equal(ha_log_due(&at, &at, true, &none), HA_LOG_FEED);
	/* at > E: E first. */
	assert_int_equal(ha_log_due(&at, &before, true, &none), HA_LOG_FEED);
	/* Nothing waiting, the whole log read: feed. */
	assert_int_equal(ha_log_due(NULL, &later, true, &none), HA_LOG_FEED);
}

static void
test_due_deleted(void **state)
{
	/* C was written with at = 1000-5, and 1000-5 was deleted (XDEL):
	 * C still goes before the next decision that exists. */
	struct stream_id at = sid(1000, 5), none = sid(0, 0);
	struct stream_id next = sid(1000, 6);

	(void)state;
	assert_int_equal(ha_log_due(&at, &next, true, &none), HA_LOG_APPLY);
}

static void
test_due_full_page(void **state)
{
	/* The last page read was full; its last entry had at = 3000-0. */
	struct stream_id limit = sid(3000, 0), head = sid(2000, 0);
	struct stream_id e1 = sid(1500, 0), e2 = sid(3000, 0);
	struct stream_id e3 = sid(3000, 1), e4 = sid(4000, 0);

	(void)state;
	/* Up to limit, entries not read yet cannot be due before E. */
	assert_int_equal(ha_log_due(&head, &e1, false, &limit), HA_LOG_FEED);
	assert_int_equal(ha_log_due(&head, &e2, false, &limit), HA_LOG_APPLY);
	assert_int_equal(ha_log_due(NULL, &e2, false, &limit), HA_LOG_FEED);
	/* Past it, unread entries may be: read more of the log first. */
	assert_int_equal(ha_log_due(NULL, &e3, false, &limit), HA_LOG_READ);
	assert_int_equal(ha_log_due(NULL, &e4, false, &limit), HA_LOG_READ);
	/* Applying what was read comes before reading more. */
	assert_int_equal(ha_log_due(&head, &e4, false, &limit), HA_LOG_APPLY);
	/* Read on and complete: feed. */
	assert_int_equal(ha_log_due(NULL, &e4, true, &limit), HA_LOG_FEED);
}

#define F(n, v)	{ n, sizeof n - 1, v, sizeof v - 1 }

static void
test_parse_good(void **state)
{
	struct decision_field f[] = {
		F("v", "1"), F("kind", "explanation"), F("op", "delete"),
		F("id", "lag-2019"), F("body", "{\"a\":1}"), F("by", "b"),
		F("at", "1700000000000-3"), F("future", "ignored"),
	};
	struct stream_id log_id = sid(1700000000100, 0);
	struct ha_log_entry *e;
	struct ha_change c;
	const char *why = NULL;

	(void)state;
	e = ha_log_entry_parse(&log_id, f, sizeof f / sizeof f[0]);
	assert_non_null(e);
	assert_int_equal(ha_log_entry_view(e, &c, &why), 0);
	assert_int_equal(stream_id_cmp(c.log_id, &log_id), 0);
	assert_true(c.at->ms == 1700000000000ULL && c.at->seq == 3);
	assert_string_equal(c.kind, "explanation");
	assert_string_equal(c.op, "delete");
	assert_string_equal(c.id, "lag-2019");
	assert_string_equal(c.by, "b");
	assert_int_equal(c.bodylen, 7);
	assert_memory_equal(c.body, "{\"a\":1}", 7);
	ha_log_entry_free(e);
}

static void
test_parse_tick(void **state)
{
	struct decision_field f[] = {
		F("v", "1"), F("kind", "tick"), F("op", "put"), F("by", "a"),
		F("at", "0-0"),
	};
	struct stream_id log_id = sid(5, 1);
	struct ha_log_entry *e;
	struct ha_change c;
	const char *why = NULL;

	(void)state;
	e = ha_log_entry_parse(&log_id, f, sizeof f / sizeof f[0]);
	assert_int_equal(ha_log_entry_view(e, &c, &why), 0);
	assert_null(c.id);
	assert_null(c.body);
	assert_int_equal(c.bodylen, 0);
	ha_log_entry_free(e);
}

/* Entry f (n fields) is to be skipped, for a reason containing want. */
static void
bad(const struct decision_field *f, size_t n, const char *want)
{
	struct stream_id log_id = sid(9, 0);
	struct ha_log_entry *e = ha_log_entry_parse(&log_id, f, n);
	struct ha_change c;
	const char *why = NULL;

	assert_non_null(e);
	assert_int_equal(ha_log_entry_view(e, &c, &why), -1);
	assert_non_null(why);
	if (strstr(why, want) == NULL)
		fail_msg("reason \"%s\" does not say \"%s\"", why, want);
	ha_log_entry_free(e);
}

#define BAD(want, ...) do {						\
	struct decision_field f_[] = { __VA_ARGS__ };			\
	bad(f_, sizeof f_ / sizeof f_[0], want);			\
} while (0)

static void
test_parse_bad(void **state)
{
	(void)state;
	BAD("no version", F("kind", "tick"), F("op", "put"), F("by", "a"),
	    F("at", "1-0"));
	BAD("version 2", F("v", "2"), F("kind", "tick"), F("op", "put"),
	    F("by", "a"), F("at", "1-0"));
	BAD("no kind", F("v", "1"), F("op", "put"), F("by", "a"),
	    F("at", "1-0"));
	BAD("no kind", F("v", "1"), F("kind", ""), F("op", "put"),
	    F("by", "a"), F("at", "1-0"));
	BAD("no op", F("v", "1"), F("kind", "tick"), F("by", "a"),
	    F("at", "1-0"));
	BAD("neither put nor delete", F("v", "1"), F("kind", "tick"),
	    F("op", "upsert"), F("by", "a"), F("at", "1-0"));
	BAD("no by", F("v", "1"), F("kind", "tick"), F("op", "put"),
	    F("at", "1-0"));
	BAD("no at", F("v", "1"), F("kind", "tick"), F("op", "put"),
	    F("by", "a"));
	BAD("bad at", F("v", "1"), F("kind", "tick"), F("op", "put"),
	    F("by", "a"), F("at", "yesterday"));
	BAD("bad kind", F("v", "1"), F("kind",
	    "a-kind-name-that-is-much-longer-than-"
	    "sixty-four-bytes-of-text-xxxxx"),
	    F("op", "put"), F("by", "a"), F("at", "1-0"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_due_one_page),
		cmocka_unit_test(test_due_deleted),
		cmocka_unit_test(test_due_full_page),
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_tick),
		cmocka_unit_test(test_parse_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
