/*
 * Tests for the duplicate-id window: repeats inside it, forgetting after
 * N newer ids, a disabled window, churn against an exact model, and
 * checkpoint save/load into windows of other sizes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dedup.h"

static bool
check(struct dedup *d, const char *id)
{
	return dedup_check_add(d, id, strlen(id));
}

static bool
check_n(struct dedup *d, unsigned long n)
{
	char id[32];

	snprintf(id, sizeof id, "dec-%lu", n);
	return check(d, id);
}

/* A table of id sequences and whether each id is a repeat. */
static void
test_window(void **state)
{
	static const struct {
		size_t		 window;
		const char	*ids[8];
		const char	*dup;	/* '1' where a repeat is expected */
	} cases[] = {
		{ 3, { "a", "b", "a", "c", "a" }, "00101" },
		{ 3, { "a", "b", "c", "d", "a" }, "00000" },
		{ 3, { "a", "b", "c", "a", "d", "a" }, "000100" },
		{ 1, { "a", "a", "b", "a", "a" }, "01001" },
		{ 2, { "a", "b", "a", "b", "c", "a", "b" }, "0011000" },
		{ 0, { "a", "a", "a" }, "000" },
		/* Prefixes and case are different ids. */
		{ 4, { "ab", "a", "AB", "ab" }, "0001" },
	};
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct dedup *d = dedup_create(cases[i].window);

		assert_int_equal(dedup_window(d), cases[i].window);
		for (j = 0; cases[i].ids[j] != NULL; j++)
			assert_int_equal(check(d, cases[i].ids[j]),
			    cases[i].dup[j] == '1');
		assert_true(dedup_count(d) <= cases[i].window);
		dedup_free(d);
	}
}

/* An id is forgotten exactly after N newer ids. */
static void
test_forget(void **state)
{
	static const size_t windows[] = { 1, 2, 7, 64, 1000 };
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof windows / sizeof windows[0]; i++) {
		size_t n = windows[i];
		struct dedup *d = dedup_create(n);

		assert_false(check(d, "first"));
		for (k = 1; k < n; k++)
			assert_false(check_n(d, k));
		assert_int_equal(dedup_count(d), n);
		assert_true(check(d, "first"));
		assert_false(check_n(d, n));
		assert_int_equal(dedup_count(d), n);
		assert_false(check(d, "first"));
		dedup_free(d);
	}
}

/* Window 0 remembers nothing and uses no table. */
static void
test_disabled(void **state)
{
	struct dedup *d = dedup_create(0);
	struct buf b;
	struct buf_reader r;
	char *cause = NULL;

	(void)state;
	assert_false(check(d, "x"));
	assert_false(check(d, "x"));
	assert_int_equal(dedup_count(d), 0);
	assert_true(dedup_memory(d) < 1024);
	buf_init(&b);
	dedup_save(d, &b);
	buf_reader_init(&r, b.data, b.len);
	assert_int_equal(dedup_load(d, &r, &cause), 0);
	assert_int_equal(dedup_count(d), 0);
	buf_free(&b);
	dedup_free(d);
}

/*
 * Heavy churn: a stream with many repeats at random distances, checked
 * against an exact model: id k is remembered when it was last inserted
 * fewer than N insertions ago.
 */
static void
test_churn(void **state)
{
	enum { N = 1000, STEPS = 1000000 };
	long *inserted = malloc(STEPS * sizeof *inserted), insertions = 0;
	unsigned long next = 0, id;
	struct dedup *d = dedup_create(N);
	uint64_t seed = 12345;
	size_t dups = 0;
	bool want;
	int step;

	(void)state;
	assert_non_null(inserted);
	for (step = 0; step < STEPS; step++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		/* Half new ids, half repeats up to 2N back, near the edge. */
		if ((seed >> 62) & 1)
			id = next;
		else
			id = next - 1 - (unsigned long)((seed >> 20) %
			    (next < 2 * N ? next + 1 : 2 * N));
		if (id >= next) {
			id = next++;
			inserted[id] = -N - 1;
		}
		want = inserted[id] >= insertions - N;
		assert_int_equal(check_n(d, id), want);
		if (want)
			dups++;
		else
			inserted[id] = insertions++;
	}
	assert_int_equal(dedup_count(d), N);
	/* Both answers must have come up often for the test to mean much. */
	assert_true(dups > STEPS / 10);
	assert_true(dups < STEPS / 2);
	free(inserted);
	dedup_free(d);
}

static void
save(const struct dedup *d, struct buf *b)
{
	buf_init(b);
	dedup_save(d, b);
}

/* Round trip into the same, a smaller and a bigger window. */
static void
test_save_load(void **state)
{
	static const struct {
		size_t	window;
		size_t	keep;	/* newest ids that must be remembered */
	} cases[] = {
		{ 100, 100 }, { 30, 30 }, { 1, 1 }, { 500, 100 }, { 0, 0 },
	};
	struct dedup *a = dedup_create(100), *b;
	struct buf out, again;
	struct buf_reader r;
	char *cause = NULL;
	size_t i;
	unsigned long k;

	(void)state;
	/* 250 ids through a window of 100: 150..249 are remembered. */
	for (k = 0; k < 250; k++)
		assert_false(check_n(a, k));
	save(a, &out);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		b = dedup_create(cases[i].window);
		check(b, "stale");
		buf_reader_init(&r, out.data, out.len);
		assert_int_equal(dedup_load(b, &r, &cause), 0);
		assert_int_equal(r.left, 0);
		assert_int_equal(dedup_count(b), cases[i].keep);
		for (k = 250 - cases[i].keep; k < 250; k++)
			assert_true(check_n(b, k));
		assert_false(check_n(b, 249 - cases[i].keep));
		/* Whatever b held before the load is gone. */
		assert_false(check(b, "stale"));
		dedup_free(b);
	}

	/* Same window: same bytes again. */
	b = dedup_create(100);
	buf_reader_init(&r, out.data, out.len);
	assert_int_equal(dedup_load(b, &r, &cause), 0);
	save(b, &again);
	assert_int_equal(again.len, out.len);
	assert_memory_equal(again.data, out.data, out.len);
	/* And it evicts in the saved order: 150 goes first. */
	assert_false(check(b, "new"));
	assert_true(check_n(b, 151));
	assert_false(check_n(b, 150));
	buf_free(&again);
	dedup_free(b);

	buf_free(&out);
	dedup_free(a);
}

/* Truncated and corrupt images fail with a cause and leave d empty. */
static void
test_load_bad(void **state)
{
	struct dedup *a = dedup_create(8), *b;
	struct buf out, bad;
	struct buf_reader r;
	char *cause;
	size_t len;

	(void)state;
	check(a, "x");
	check(a, "y");
	check(a, "z");
	save(a, &out);
	b = dedup_create(8);
	for (len = 0; len < out.len; len++) {
		check(b, "w");
		buf_reader_init(&r, out.data, len);
		cause = NULL;
		assert_int_equal(dedup_load(b, &r, &cause), -1);
		assert_non_null(cause);
		free(cause);
		assert_int_equal(dedup_count(b), 0);
	}

	/* A count beyond the saved window. */
	buf_init(&bad);
	buf_put_u32(&bad, 1);
	buf_put_u64(&bad, 2);
	buf_put_u64(&bad, 3);
	buf_put_u64(&bad, 5);
	buf_put_u64(&bad, 6);
	buf_put_u64(&bad, 7);
	buf_reader_init(&r, bad.data, bad.len);
	cause = NULL;
	assert_int_equal(dedup_load(b, &r, &cause), -1);
	free(cause);
	buf_free(&bad);

	/* A zero hash, a repeated hash, an unknown version. */
	buf_init(&bad);
	buf_put(&bad, out.data, out.len);
	memset(bad.data + out.len - 8, 0, 8);
	buf_reader_init(&r, bad.data, bad.len);
	cause = NULL;
	assert_int_equal(dedup_load(b, &r, &cause), -1);
	free(cause);
	memcpy(bad.data + out.len - 8, bad.data + out.len - 16, 8);
	buf_reader_init(&r, bad.data, bad.len);
	cause = NULL;
	assert_int_equal(dedup_load(b, &r, &cause), -1);
	free(cause);
	memcpy(bad.data + out.len - 8, out.data + out.len - 8, 8);
	bad.data[0] = 9;
	buf_reader_init(&r, bad.data, bad.len);
	cause = NULL;
	assert_int_equal(dedup_load(b, &r, &cause), -1);
	assert_non_null(cause);
	free(cause);
	assert_int_equal(dedup_count(b), 0);
	buf_free(&bad);

	buf_free(&out);
	dedup_free(b);
	dedup_free(a);
}

/* Memory is fixed by the window and grows with it. */
static void
test_memory(void **state)
{
	struct dedup *off = dedup_create(0), *small = dedup_create(10);
	struct dedup *big = dedup_create(100000);
	uint64_t m;
	unsigned long k;

	(void)state;
	m = dedup_memory(big);
	assert_true(m >= 100000 * 8 * 3);
	assert_true(dedup_memory(small) < m);
	for (k = 0; k < 300000; k++)
		check_n(big, k);
	assert_int_equal(dedup_memory(big), m);
	assert_true(dedup_memory(off) < dedup_memory(small));
	dedup_free(off);
	dedup_free(small);
	dedup_free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_forget),
		cmocka_unit_test(test_disabled),
		cmocka_unit_test(test_churn),
		cmocka_unit_test(test_save_load),
		cmocka_unit_test(test_load_bad),
		cmocka_unit_test(test_memory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
