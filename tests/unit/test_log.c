/*
 * log: priority prefixes, level filtering, errno suffix, level names.
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
#include <unistd.h>

#include "log.h"

/* Run fn with stderr sent to a temporary file; return what it wrote. */
static char *
capture(void (*fn)(void))
{
	char path[] = "/tmp/stabild-test-log-XXXXXX";
	int fd = mkstemp(path), saved = dup(2);
	static char out[4096];
	FILE *f;
	size_t n;

	assert_true(fd >= 0);
	fflush(stderr);
	dup2(fd, 2);
	fn();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	f = fopen(path, "r");
	n = fread(out, 1, sizeof out - 1, f);
	out[n] = '\0';
	fclose(f);
	close(fd);
	unlink(path);
	return out;
}

static void
emit_levels(void)
{
	log_init(LOG_INFO);
	log_debug("hidden %d", 1);
	log_info("info %d", 2);
	log_warnx("warn %s", "x");
	log_errorx("error");
}

static void
emit_errno(void)
{
	log_init(LOG_DEBUG);
	errno = ENOENT;
	log_warn("open %s", "file");
	errno = ENOENT;
	log_error("again");
}

static void
test_prefix_and_filter(void **state)
{
	const char *out;

	(void)state;
	out = capture(emit_levels);
	assert_null(strstr(out, "hidden"));
	assert_non_null(strstr(out, "<6>info 2\n"));
	assert_non_null(strstr(out, "<4>warn x\n"));
	assert_non_null(strstr(out, "<3>error\n"));
}

static void
test_errno_suffix(void **state)
{
	const char *out;

	(void)state;
	out = capture(emit_errno);
	assert_non_null(strstr(out, "<4>open file: No such file or directory"));
	assert_non_null(strstr(out, "<3>again: No such file or directory"));
}

static void
test_level_names(void **state)
{
	(void)state;
	assert_int_equal(log_level_parse("debug"), LOG_DEBUG);
	assert_int_equal(log_level_parse("INFO"), LOG_INFO);
	assert_int_equal(log_level_parse("warning"), LOG_WARNING);
	assert_int_equal(log_level_parse("error"), LOG_ERR);
	assert_int_equal(log_level_parse("loud"), -1);
	assert_string_equal(log_level_name(LOG_NOTICE), "notice");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prefix_and_filter),
		cmocka_unit_test(test_errno_suffix),
		cmocka_unit_test(test_level_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
