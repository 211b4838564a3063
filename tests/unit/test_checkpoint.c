/*
 * checkpoint: atomic write and verified read; damage of any single byte
 * and any truncation is detected, never loaded.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint.h"

static char dir[64];
static char path[128];

static int
setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/stabild-test-cp-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof path, "%s/checkpoint", dir);
	return 0;
}

static int
teardown(void **state)
{
	char tmp[160];

	(void)state;
	unlink(path);
	snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
	unlink(tmp);
	rmdir(dir);
	return 0;
}

static void
write_sample(uint32_t value)
{
	struct checkpoint cp;
	char *cause = NULL;
	struct buf *b;

	checkpoint_init(&cp);
	b = checkpoint_add(&cp, CP_TAG('A', 'A', 'A', 'A'));
	buf_put_u32(b, value);
	buf_put_str(b, "hello");
	b = checkpoint_add(&cp, CP_TAG('B', 'B', 'B', 'B'));
	buf_put_u64(b, 123456789012345ULL);
	assert_int_equal(checkpoint_write(&cp, path, &cause), 0);
	assert_null(cause);
	checkpoint_free(&cp);
}

static void
test_round_trip(void **state)
{
	struct checkpoint cp;
	struct buf_reader r;
	char *cause = NULL, s[16], tmp[160];
	uint32_t v;
	uint64_t w;
	struct stat sb;

	(void)state;
	write_sample(7);
	write_sample(8);	/* replaces the first */
	snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
	assert_int_equal(stat(tmp, &sb), -1);
	checkpoint_init(&cp);
	assert_int_equal(checkpoint_read(&cp, path, &cause), 1);
	assert_int_equal(checkpoint_get(&cp, CP_TAG('A', 'A', 'A', 'A'), &r), 0);
	assert_int_equal(buf_get_u32(&r, &v), 0);
	assert_int_equal(v, 8);
	assert_int_equal(buf_get_str(&r, s, sizeof s), 0);
	assert_string_equal(s, "hello");
	assert_int_equal(checkpoint_get(&cp, CP_TAG('B', 'B', 'B', 'B'), &r), 0);
	assert_int_equal(buf_get_u64(&r, &w), 0);
	assert_true(w == 123456789012345ULL);
	assert_int_equal(checkpoint_get(&cp, CP_TAG('C', 'C', 'C', 'C'), &r), -1);
	checkpoint_free(&cp);
}

static void
test_missing(void **state)
{
	struct checkpoint cp;
	char *cause = NULL;

	(void)state;
	checkpoint_init(&cp);
	assert_int_equal(checkpoint_read(&cp, path, &cause), 0);
	assert_null(cause);
	checkpoint_free(&cp);
}

/* Read the file, apply f, write it back. */
static size_t
mangle(size_t at, int truncate_to)
{
	FILE *f = fopen(path, "rb");
	unsigned char data[4096];
	size_t n;

	assert_non_null(f);
	n = fread(data, 1, sizeof data, f);
	fclose(f);
	if (truncate_to >= 0)
		n = (size_t)truncate_to;
	else
		data[at % n] ^= 0x01;
	f = fopen(path, "wb");
	fwrite(data, 1, n, f);
	fclose(f);
	return n;
}

static void
test_damage_detected(void **state)
{
	struct checkpoint cp;
	char *cause;
	size_t len, i;
	struct stat sb;

	(void)state;
	write_sample(1);
	assert_int_equal(stat(path, &sb), 0);
	len = (size_t)sb.st_size;
	for (i = 0; i < len; i++) {
		write_sample(1);
		mangle(i, -1);
		cause = NULL;
		checkpoint_init(&cp);
		assert_int_equal(checkpoint_read(&cp, path, &cause), -1);
		assert_non_null(cause);
		free(cause);
		checkpoint_free(&cp);
	}
	for (i = 0; i < len; i++) {
		write_sample(1);
		mangle(0, (int)i);
		cause = NULL;
		checkpoint_init(&cp);
		assert_int_equal(checkpoint_read(&cp, path, &cause), -1);
		assert_non_null(cause);
		free(cause);
		checkpoint_free(&cp);
	}
}

static void
test_unwritable(void **state)
{
	struct checkpoint cp;
	char *cause = NULL;

	(void)state;
	checkpoint_init(&cp);
	buf_put_u32(checkpoint_add(&cp, 1), 1);
	assert_int_equal(checkpoint_write(&cp, "/nonexistent-dir/cp", &cause),
	    -1);
	assert_non_null(strstr(cause, "/nonexistent-dir/cp.tmp"));
	free(cause);
	checkpoint_free(&cp);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damage_detected, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_unwritable, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
