/*
 * buf: round trips of every type, and the reader's refusal of short input.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "buf.h"

static void
test_round_trip(void **state)
{
	struct buf b;
	struct buf_reader r;
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;
	int64_t i64;
	double d;
	char s[16];

	(void)state;
	buf_init(&b);
	buf_put_u8(&b, 0xab);
	buf_put_u16(&b, 0xbeef);
	buf_put_u32(&b, 0xdeadbeef);
	buf_put_u64(&b, 0x0123456789abcdefULL);
	buf_put_i64(&b, -42);
	buf_put_double(&b, -0.125);
	buf_put_str(&b, "national");
	assert_int_equal(b.len, 1 + 2 + 4 + 8 + 8 + 8 + 4 + 8);
	/* Little-endian on every machine: the file format depends on it. */
	assert_int_equal(b.data[1], 0xef);
	assert_int_equal(b.data[2], 0xbe);

	buf_reader_init(&r, b.data, b.len);
	assert_int_equal(buf_get_u8(&r, &u8), 0);
	assert_int_equal(u8, 0xab);
	assert_int_equal(buf_get_u16(&r, &u16), 0);
	assert_int_equal(u16, 0xbeef);
	assert_int_equal(buf_get_u32(&r, &u32), 0);
	assert_int_equal(u32, 0xdeadbeef);
	assert_int_equal(buf_get_u64(&r, &u64), 0);
	assert_true(u64 == 0x0123456789abcdefULL);
	assert_int_equal(buf_get_i64(&r, &i64), 0);
	assert_int_equal(i64, -42);
	assert_int_equal(buf_get_double(&r, &d), 0);
	assert_true(d == -0.125);
	assert_int_equal(buf_get_str(&r, s, sizeof s), 0);
	assert_string_equal(s, "national");
	assert_int_equal(r.left, 0);
	assert_false(r.bad);
	buf_free(&b);
}

static void
test_short_input(void **state)
{
	struct buf b;
	struct buf_reader r;
	uint64_t u64;
	uint32_t u32;
	char s[4];

	(void)state;
	buf_init(&b);
	buf_put_u32(&b, 7);
	buf_reader_init(&r, b.data, b.len);
	assert_int_equal(buf_get_u64(&r, &u64), -1);
	assert_true(r.bad);
	/* Once bad, always bad: loaders check at the end. */
	assert_int_equal(buf_get_u32(&r, &u32), -1);

	buf_reset(&b);
	buf_put_str(&b, "too long");
	buf_reader_init(&r, b.data, b.len);
	assert_int_equal(buf_get_str(&r, s, sizeof s), -1);
	assert_true(r.bad);

	/* A length field larger than what follows. */
	buf_reset(&b);
	buf_put_u32(&b, 1000);
	buf_put(&b, "ab", 2);
	buf_reader_init(&r, b.data, b.len);
	assert_null(buf_get_bytes(&r, 1000));
	buf_free(&b);
}

/* Many u64 at once are the bytes of as many single puts. */
static void
test_u64s(void **state)
{
	static const size_t counts[] = { 0, 1, 2, 31, 1000 };
	uint64_t v[1000];
	struct buf one, many;
	size_t i, k;

	(void)state;
	for (i = 0; i < 1000; i++)
		v[i] = 0x0123456789abcdefULL * (i + 1) ^ (i << 40);
	for (k = 0; k < sizeof counts / sizeof counts[0]; k++) {
		buf_init(&one);
		buf_init(&many);
		buf_put_u8(&one, 7);
		buf_put_u8(&many, 7);
		for (i = 0; i < counts[k]; i++)
			buf_put_u64(&one, v[i]);
		buf_put_u64s(&many, v, counts[k]);
		assert_int_equal(one.len, 1 + 8 * counts[k]);
		assert_int_equal(many.len, one.len);
		assert_memory_equal(many.data, one.data, one.len);
		buf_free(&one);
		buf_free(&many);
	}
}

static void
test_growth(void **state)
{
	struct buf b;
	uint32_t i, v;
	struct buf_reader r;

	(void)state;
	buf_init(&b);
	for (i = 0; i < 100000; i++)
		buf_put_u32(&b, i * 7);
	assert_int_equal(b.len, 400000);
	buf_reader_init(&r, b.data, b.len);
	for (i = 0; i < 100000; i++) {
		assert_int_equal(buf_get_u32(&r, &v), 0);
		assert_int_equal(v, i * 7);
	}
	buf_free(&b);
	assert_null(b.data);
}

/*
 * Past 2 MB a buffer is a mapping of its own (buf.c): the bytes survive
 * the move into it, each growth of it (mremap), a reset and reuse, and a
 * single put far larger than the buffer.
 */
static void
test_growth_mapped(void **state)
{
	static unsigned char big[5u << 20];
	struct buf b;
	struct buf_reader r;
	uint32_t i, v;
	const uint32_t n = (12u << 20) / 4;
	size_t at;

	(void)state;
	for (i = 0; i < sizeof big; i++)
		big[i] = (unsigned char)(i * 31 + 7);
	buf_init(&b);
	assert_false(b.mapped);
	for (i = 0; i < n; i++) {
		buf_put_u32(&b, i ^ 0x5a5a5a5aU);
		/* Below 2 MB the heap's, from it the mapping's. */
		assert_true(b.mapped == (b.cap >= (2u << 20)));
	}
	assert_true(b.mapped);
	assert_true(b.cap >= b.len);
	at = b.len;
	buf_put(&b, big, sizeof big);
	assert_int_equal(b.len, at + sizeof big);
	buf_reader_init(&r, b.data, b.len);
	for (i = 0; i < n; i++) {
		assert_int_equal(buf_get_u32(&r, &v), 0);
		assert_int_equal(v, i ^ 0x5a5a5a5aU);
	}
	assert_memory_equal(b.data + at, big, sizeof big);
	/* Kept across a reset, and written over from the start. */
	buf_reset(&b);
	assert_true(b.mapped);
	buf_put_str(&b, "after");
	assert_int_equal(b.len, 4 + 5);
	assert_memory_equal(b.data + 4, "after", 5);
	buf_free(&b);
	assert_null(b.data);
	assert_false(b.mapped);

	/* One put far past a small buffer: copied out of the heap whole. */
	buf_init(&b);
	buf_put_str(&b, "head");
	buf_put(&b, big, sizeof big);
	assert_true(b.mapped);
	assert_int_equal(b.len, 4 + 4 + sizeof big);
	assert_memory_equal(b.data + 4, "head", 4);
	assert_memory_equal(b.data + 8, big, sizeof big);
	buf_free(&b);
}

/* Stores into room made once: the same bytes as the puts, in order. */
static void
test_stores(void **state)
{
	struct buf a, b;
	unsigned char *x, *start;

	(void)state;
	buf_init(&a);
	buf_init(&b);
	buf_put_u8(&a, 0xab);
	buf_put_u16(&a, 0xbeef);
	buf_put_u32(&a, 0xdeadbeef);
	buf_put_u64(&a, 0x0123456789abcdefULL);
	buf_put_double(&a, -0.125);
	buf_put_u32(&a, 7);

	buf_put_u32(&b, 1);
	buf_reset(&b);
	x = start = buf_room(&b, 1 + 2 + 4 + 8 + 8);
	x = buf_store_u8(x, 0xab);
	x = buf_store_u16(x, 0xbeef);
	x = buf_store_u32(x, 0xdeadbeef);
	x = buf_store_u64(x, 0x0123456789abcdefULL);
	x = buf_store_double(x, -0.125);
	assert_ptr_equal(x, start + 23);
	assert_int_equal(b.len, 23);
	buf_stored(&b, x);	/* fatal were the record short or long */
	/* A put after the stores lands after them. */
	buf_put_u32(&b, 7);
	assert_int_equal(b.len, a.len);
	assert_memory_equal(b.data, a.data, a.len);
	/* Little-endian: the low byte first. */
	assert_int_equal(b.data[3], 0xef);
	assert_int_equal(b.data[7], 0xef);
	assert_int_equal(b.data[14], 0x01);
	buf_free(&a);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_short_input),
		cmocka_unit_test(test_growth),
		cmocka_unit_test(test_growth_mapped),
		cmocka_unit_test(test_u64s),
		cmocka_unit_test(test_stores),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
