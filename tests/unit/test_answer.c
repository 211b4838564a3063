/*
 * answer: the API's answer cache. A kept answer is found by its key only
 * at the generation and second it was built; a change of either drops
 * everything; the byte limit holds, the least recently used going first.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "answer.h"
#include "log.h"

static const char json[] = "application/json";

static void
put(struct answer_cache *c, const char *key, int64_t now, const char *body)
{
	answer_put(c, key, strlen(key) + 1, answer_generation(), now, 200,
	    json, body, strlen(body));
}

/* The body kept for key at now, or NULL. */
static const char *
get(struct answer_cache *c, const char *key, int64_t now)
{
	static char out[4096];
	const struct answer *a = answer_get(c, key, strlen(key) + 1, now);

	if (a == NULL)
		return NULL;
	assert_true(a->len < sizeof out);
	memcpy(out, a->body, a->len);
	out[a->len] = '\0';
	return out;
}

static void
test_hit_miss(void **state)
{
	struct answer_cache *c = answer_create(64 * 1024);
	const struct answer *a;

	(void)state;
	assert_null(get(c, "/v1/series", 100));
	put(c, "/v1/series", 100, "{\"series\":[]}\n");
	assert_string_equal(get(c, "/v1/series", 100), "{\"series\":[]}\n");
	a = answer_get(c, "/v1/series", sizeof "/v1/series", 100);
	assert_non_null(a);
	assert_int_equal(a->code, 200);
	assert_ptr_equal(a->type, json);
	/* Another key, a prefix of it, a key that differs after a NUL. */
	assert_null(get(c, "/v1/alerts", 100));
	assert_null(answer_get(c, "/v1/series", 5, 100));
	answer_put(c, "k\0a", 3, answer_generation(), 100, 200, json, "A", 1);
	answer_put(c, "k\0b", 3, answer_generation(), 100, 200, json, "B", 1);
	a = answer_get(c, "k\0a", 3, 100);
	assert_non_null(a);
	assert_memory_equal(a->body, "A", 1);
	a = answer_get(c, "k\0b", 3, 100);
	assert_non_null(a);
	assert_memory_equal(a->body, "B", 1);
	assert_int_equal(answer_count(c), 3);
	/* The same key again replaces the answer. */
	put(c, "/v1/series", 100, "{\"series\":[1]}\n");
	assert_string_equal(get(c, "/v1/series", 100), "{\"series\":[1]}\n");
	assert_int_equal(answer_count(c), 3);
	/* An empty body is an answer too. */
	put(c, "/empty", 100, "");
	assert_string_equal(get(c, "/empty", 100), "");
	answer_free(c);
	answer_free(NULL);
}

static void
test_invalidation(void **state)
{
	struct answer_cache *c = answer_create(64 * 1024);
	uint64_t gen;

	(void)state;
	put(c, "/v1/alerts", 200, "[1]");
	put(c, "/v1/model", 200, "[2]");
	assert_non_null(get(c, "/v1/alerts", 200));

	/* A change of state: nothing held is found, and it is all gone. */
	answer_changed();
	assert_null(get(c, "/v1/alerts", 200));
	assert_int_equal(answer_count(c), 0);
	assert_int_equal(answer_bytes(c), 0);

	/* The next second: the same. */
	put(c, "/v1/alerts", 200, "[3]");
	assert_string_equal(get(c, "/v1/alerts", 200), "[3]");
	assert_null(get(c, "/v1/alerts", 201));
	assert_int_equal(answer_count(c), 0);
	/* Nor is one from the second before found later. */
	put(c, "/v1/alerts", 201, "[4]");
	assert_null(get(c, "/v1/alerts", 202));

	/* Built before a change, put after it: stale at birth, not kept. */
	gen = answer_generation();
	answer_changed();
	answer_put(c, "/v1/alerts", sizeof "/v1/alerts", gen, 202, 200, json,
	    "[5]", 3);
	assert_null(get(c, "/v1/alerts", 202));
	assert_int_equal(answer_count(c), 0);
	answer_free(c);
}

static void
test_eviction(void **state)
{
	struct answer_cache *c = answer_create(16 * 1024);
	char key[32], body[1001];
	size_t most = 0;
	int i;

	(void)state;
	memset(body, 'x', sizeof body - 1);
	body[sizeof body - 1] = '\0';
	for (i = 0; i < 100; i++) {
		snprintf(key, sizeof key, "/v1/series/%d", i);
		put(c, key, 300, body);
		assert_true(answer_bytes(c) <= 16 * 1024);
		if (answer_count(c) > most)
			most = answer_count(c);
		/* Use the first one all along: it stays. */
		assert_non_null(get(c, "/v1/series/0", 300));
	}
	assert_true(most >= 10 && most < 16);
	assert_int_equal(answer_count(c), most);
	/* The least recently used went: the newest stay, the oldest not. */
	assert_non_null(get(c, "/v1/series/99", 300));
	assert_non_null(get(c, "/v1/series/98", 300));
	assert_null(get(c, "/v1/series/1", 300));
	assert_null(get(c, "/v1/series/50", 300));

	/* Over a quarter of the cache: not kept, nothing else lost. */
	{
		static char big[5000];

		memset(big, 'y', sizeof big - 1);
		put(c, "/big", 300, big);
		assert_null(get(c, "/big", 300));
		assert_int_equal(answer_count(c), most);
	}
	answer_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hit_miss),
		cmocka_unit_test(test_invalidation),
		cmocka_unit_test(test_eviction),
	};

	log_init(LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
