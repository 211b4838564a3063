/*
 * reply: hiredis's reader builds the same reply trees with the arena
 * functions as with its own, big replies spill into new chunks, a freed
 * reply's memory is reused for the next one, a kept reply outlives
 * the replies parsed after it, and the chunks kept replies give back are
 * reused rather than mapped anew, outside a forked child's memory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

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

/* The reader gone and the arena given back: no memory left. */
static void
finish(redisReader *r, struct buf *b)
{
	redisReaderFree(r);
	reply_release();
	assert_int_equal(reply_memory(), 0);
	buf_free(b);
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
	finish(r, &b);
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
	/* Given back to the pool, for the next replies. */
	reply_arena_free(kb);
	reply_arena_free(ka);
	spare = reply_memory();
	/* The next reply fits the arena's own chunk: no new memory. */
	build_batch(&buf, 100, 'd');
	c = parse(r, (const char *)buf.data, buf.len);
	check_batch(c, 100, 'd');
	r->fn->freeObject(c);
	assert_true(reply_memory() <= spare);
	reply_arena_free(NULL);
	finish(r, &buf);
}

/*
 * Replies kept while later ones are read (a stream's held batches) give
 * their chunks back to a pool of four: the next replies are written in
 * them, not in new mappings, and memory stays flat however many cycles.
 */
static void
test_pool(void **state)
{
	redisReader *r = redisReaderCreateWithFunctions(reply_functions());
	redisReply *rep[6], *c;
	struct reply_arena *kept[6];
	struct buf buf;
	size_t one, pooled;
	int i, round;

	(void)state;
	buf_init(&buf);
	build_batch(&buf, 100, 'a');
	c = parse(r, (const char *)buf.data, buf.len);
	r->fn->freeObject(c);
	one = reply_memory();	/* a reply of 100 fits one chunk */
	assert_true(one > 0);
	/*
	 * Six kept at once: the first in the arena's chunk, five new; kept
	 * replies are their holders', not the arena's.
	 */
	for (i = 0; i < 6; i++) {
		rep[i] = parse(r, (const char *)buf.data, buf.len);
		kept[i] = reply_keep();
		r->fn->freeObject(rep[i]);
	}
	assert_int_equal(reply_memory(), 0);
	c = parse(r, (const char *)buf.data, buf.len);
	r->fn->freeObject(c);
	assert_int_equal(reply_memory(), one);
	/* Given back: four are kept, two unmapped. */
	for (i = 0; i < 6; i++)
		reply_arena_free(kept[i]);
	pooled = reply_memory();
	assert_int_equal(pooled, 5 * one);
	rep[1] = rep[2] = NULL;
	/*
	 * Keep one, read another, give the first back: the two chunks take
	 * turns, at the same two addresses, and nothing grows.
	 */
	for (round = 0; round < 50; round++) {
		build_batch(&buf, 100, (char)('b' + round % 20));
		rep[0] = parse(r, (const char *)buf.data, buf.len);
		kept[0] = reply_keep();
		r->fn->freeObject(rep[0]);
		c = parse(r, (const char *)buf.data, buf.len);
		check_batch(rep[0], 100, (char)('b' + round % 20));
		check_batch(c, 100, (char)('b' + round % 20));
		r->fn->freeObject(c);
		reply_arena_free(kept[0]);
		if (round < 2)
			rep[1 + round] = rep[0];
		else
			assert_true(rep[0] == rep[1] || rep[0] == rep[2]);
		assert_int_equal(reply_memory(), pooled);
	}
	finish(r, &buf);
}

/*
 * A checkpoint's child reads no reply: the chunks are not in a forked
 * child at all, so the parent writing replies after a fork copies no
 * page. madvise on an unmapped range fails with ENOMEM.
 */
static void
test_not_forked(void **state)
{
	redisReader *r = redisReaderCreateWithFunctions(reply_functions());
	redisReply *rep;
	struct buf buf;
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	void *at, *local = &page;
	pid_t pid;
	int status;

	(void)state;
	buf_init(&buf);
	build_batch(&buf, 100, 'f');
	rep = parse(r, (const char *)buf.data, buf.len);
	at = (void *)((uintptr_t)rep & ~(page - 1));
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* The stack is there (the check can tell), the reply not. */
		if (madvise((void *)((uintptr_t)local & ~(page - 1)), page,
		    MADV_NORMAL) != 0)
			_exit(2);
		_exit(madvise(at, page, MADV_NORMAL) == -1 && errno ==
		    ENOMEM ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* In the parent it is whole. */
	check_batch(rep, 100, 'f');
	r->fn->freeObject(rep);
	finish(r, &buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shapes),
		cmocka_unit_test(test_big_and_reused),
		cmocka_unit_test(test_kept),
		cmocka_unit_test(test_pool),
		cmocka_unit_test(test_not_forked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
