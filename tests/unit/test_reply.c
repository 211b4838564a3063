/*
 * reply: hiredis's reader builds the same reply trees with the arena
 * functions as with its own, big replies spill into new chunks, a freed
 * reply's memory is reused for the next one, and a kept reply outlives
 * the replies parsed after it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>
#include <hiredis/read.h>

#include "buf.h"
#include "reply.h"

static redisReply *
parse(redisReader *r, const char *resp, size_t len)
{
	void *reply = NULL;

	assert_int_equal(redisReaderFeed(r, resp, len), REDIS_OK);
	assert_int_equal(redisReaderGetReply(r, &reply), REDIS_OK);
	assert_non_null(reply);
	return reply;
}

static void
test_shapes(void **state)
{
	static const char resp[] =
	    "*4\r\n$5\r\nhello\r\n:42\r\n$-1\r\n*2\r\n+OK\r\n-ERR bad\r\n";
	redisReader *r = redisReaderCreateWithFunctions(reply_functions());
	redisReply *rep;

	(void)state;
	rep = parse(r, resp, sizeof resp - 1);
	assert_int_equal(rep->type, REDIS_REPLY_ARRAY);
	assert_int_equal(rep->elements, 4);
	assert_int_equal(rep->element[0]->type, REDIS_REPLY_STRING);
	assert_string_equal(rep->element[0]->str, "hello");
	assert_int_equal(rep->element[0]->len, 5);
	assert_int_equal(rep->element[1]->type, REDIS_REPLY_INTEGER);
	assert_true(rep->element[1]->integer == 42);
	assert_int_equal(rep->element[2]->type, REDIS_REPLY_NIL);
	assert_int_equal(rep->element[3]->elements, 2);
	assert_int_equal(rep->element[3]->element[0]->type, REDIS_REPLY_STATUS);
	assert_string_equal(rep->element[3]->element[0]->str, "OK");
	assert_int_equal(rep->element[3]->element[1]->type, REDIS_REPLY_ERROR);
	assert_string_equal(rep->element[3]->element[1]->str, "ERR bad");
	freeReplyObject(NULL);
	r->fn->freeObject(rep);
	redisReaderFree(r);
	reply_release();
}

/* A stream-like reply of n entries with binary-safe values. */
static void
build_batch(struct buf *b, int n, char tag)
{
	char line[128];
	int i;

	buf_reset(b);
	snprintf(line, sizeof line, "*%d\r\n", n);
	buf_put(b, line, strlen(line));
	for (i = 0; i < n; i++) {
		char value[3] = { tag, '\0', tag };

		snprintf(line, sizeof line, "*2\r\n$7\r\nid-%04d\r\n$3\r\n",
		    i % 10000);
		buf_put(b, line, strlen(line));
		buf_put(b, value, 3);	/* values are binary-safe */
		buf_put(b, "\r\n", 2);
	}
}

static void
test_big_and_reused(void **state)
{
	redisReader *r = redisReaderCreateWithFunctions(reply_functions());
	redisReply *rep;
	struct buf b;
	size_t after_first;
	int round, i;

	(void)state;
	buf_init(&b);
	for (round = 0; round < 3; round++) {
		/* 20000 entries: several arena chunks on the first round. */
		build_batch(&b, 20000, (char)('a' + round));
		rep = parse(r, (const char *)b.data, b.len);
		assert_int_equal(rep->elements, 20000);
		for (i = 0; i < 20000; i += 997) {
			char want[16];

			snprintf(want, sizeof want, "id-%04d", i % 10000);
			assert_string_equal(rep->element[i]->element[0]->str,
			    want);
			assert_int_equal(rep->element[i]->element[1]->len, 3);
			assert_int_equal(rep->element[i]->element[1]->str[0],
			    'a' + round);
			assert_int_equal(rep->element[i]->element[1]->str[1],
			    '\0');
		}
		r->fn->freeObject(rep);
		if (round == 0)
			after_first = reply_memory();
		else	/* merged into one block that fits: no growth */
			assert_int_equal(reply_memory(), after_first);
	}
	assert_true(after_first >= 20000 * 3 * sizeof(redisReply));
	redisReaderFree(r);
	reply_release();
	assert_int_equal(reply_memory(), 0);
	buf_free(&b);
}

/* Whether rep is build_batch's reply of n entries tagged tag. */
static void
check_batch(const redisReply *rep, int n, char tag)
{
	char want[16];
	int i;

	assert_int_equal(rep->elements, n);
	for (i = 0; i < n; i++) {
		snprintf(want, sizeof want, "id-%04d", i % 10000);
		assert_string_equal(rep->element[i]->element[0]->str, want);
		assert_int_equal(rep->element[i]->element[1]->str[0], tag);
		assert_int_equal(rep->element[i]->element[1]->str[2], tag);
	}
}

static void
test_kept(void **state)
{
	redisReader *r = redisReaderCreateWithFunctions(reply_functions());
	redisReply *a, *b, *c;
	struct reply_arena *ka, *kb;
	struct buf buf;
	size_t spare;

	(void)state;
	buf_init(&buf);
	/* Kept in its callback, then freed by hiredis: still whole. */
	build_batch(&buf, 5000, 'a');
	a = parse(r, (const char *)buf.data, buf.len);
	ka = reply_keep();
	assert_non_null(ka);
	r->fn->freeObject(a);
	/* The next replies go elsewhere and leave it alone. */
	build_batch(&buf, 3000, 'b');
	b = parse(r, (const char *)buf.data, buf.len);
	kb = reply_keep();
	r->fn->freeObject(b);
	build_batch(&buf, 100, 'c');
	c = parse(r, (const char *)buf.data, buf.len);
	check_batch(a, 5000, 'a');
	check_batch(b, 3000, 'b');
	check_batch(c, 100, 'c');
	r->fn->freeObject(c);
	/* Given back: the larger one stays as the spare, in one chunk. */
	reply_arena_free(kb);
	reply_arena_free(ka);
	spare = reply_memory();
	/* The next reply starts in the spare: no new memory. */
	build_batch(&buf, 100, 'd');
	c = parse(r, (const char *)buf.data, buf.len);
	check_batch(c, 100, 'd');
	r->fn->freeObject(c);
	assert_true(reply_memory() <= spare);
	reply_arena_free(NULL);
	redisReaderFree(r);
	reply_release();
	assert_int_equal(reply_memory(), 0);
	buf_free(&buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shapes),
		cmocka_unit_test(test_big_and_reused),
		cmocka_unit_test(test_kept),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
