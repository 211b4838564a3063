/*
 * utf8: well-formed sequences pass; overlongs, surrogates, code points
 * past U+10FFFF, stray continuation bytes and cut sequences do not.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "utf8.h"

static void
test_lengths(void **state)
{
	(void)state;
	assert_int_equal(utf8_len((const unsigned char *)"a", 1), 1);
	assert_int_equal(utf8_len((const unsigned char *)"\xc3\xa5", 2), 2);
	assert_int_equal(utf8_len((const unsigned char *)"\xe2\x82\xac", 3), 3);
	assert_int_equal(utf8_len((const unsigned char *)"\xf0\x9f\x98\x80", 4),
	    4);
	/* Cut short, or nothing left. */
	assert_int_equal(utf8_len((const unsigned char *)"\xe2\x82", 2), 0);
	assert_int_equal(utf8_len((const unsigned char *)"a", 0), 0);
}

static void
test_valid(void **state)
{
	static const char *const good[] = {
		"", "K017", "rehabiliteringsers\xc3\xa4ttning", "\xc2\xa0",
		"\xed\x9f\xbf", "\xee\x80\x80", "\xf4\x8f\xbf\xbf",
	};
	static const char *const bad[] = {
		"\x80", "\xbf", "\xc0\x80", "\xc1\xbf",	/* stray, overlong */
		"\xe0\x80\x80", "\xe0\x9f\xbf",		/* overlong */
		"\xed\xa0\x80", "\xed\xbf\xbf",		/* surrogates */
		"\xf0\x80\x80\x80", "\xf4\x90\x80\x80",	/* overlong, too big */
		"\xf5\x80\x80\x80", "\xff", "\xfe",
		"ok\xc3", "\xc3\x28",			/* cut, not continued */
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof good / sizeof good[0]; i++)
		assert_true(utf8_valid(good[i], strlen(good[i])));
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_false(utf8_valid(bad[i], strlen(bad[i])));
	/* A NUL inside the length is a character like any other. */
	assert_true(utf8_valid("a\0b", 3));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lengths),
		cmocka_unit_test(test_valid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
