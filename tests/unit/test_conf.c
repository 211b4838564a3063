/*
 * Tests for conf.c: defaults, every value type with its errors and their
 * FILE:LINE, sections and receivers, the duration and benefit parsers, the
 * reload comparison and the example configuration.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <cmocka.h>

#include "conf.h"
#include "xmalloc.h"

#define NITEMS(a)	(sizeof (a) / sizeof (a)[0])
#define DATA		"tests/data/conf/"

/* Write text to a new temporary file; the caller unlinks and frees it. */
static char *
write_temp(const char *text)
{
	const char *dir = getenv("TMPDIR");
	char *path;
	FILE *f;
	int fd;

	path = xasprintf("%s/test_conf.XXXXXX", dir != NULL ? dir : "/tmp");
	fd = mkstemp(path);
	assert_true(fd != -1);
	f = fdopen(fd, "w");
	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
	return path;
}

/* Load text as a config file into c (defaults first). */
static int
load_text(struct conf *c, const char *text, char **cause)
{
	char *path = write_temp(text);
	int ret;

	conf_default(c);
	ret = conf_load(c, path, cause);
	unlink(path);
	free(path);
	return ret;
}

/* Load text that must be valid. */
static void
load_text_ok(struct conf *c, const char *text)
{
	char *cause = NULL;

	if (load_text(c, text, &cause) != 0) {
		fprintf(stderr, "unexpected error: %s\n", cause);
		free(cause);
		fail();
	}
	assert_null(cause);
}

/*
 * Assert that cause is "FILE:LINE: ..." for the given line (0: "FILE: ...")
 * and contains want.
 */
static void
assert_cause(const char *cause, const char *file, int line, const char *want)
{
	char *prefix;

	assert_non_null(cause);
	if (line > 0)
		prefix = xasprintf("%s:%d: ", file, line);
	else
		prefix = xasprintf("%s: ", file);
	if (strncmp(cause, prefix, strlen(prefix)) != 0 ||
	    strstr(cause, want) == NULL) {
		fprintf(stderr, "got \"%s\"\nwant \"%s\" and \"%s\"\n", cause,
		    prefix, want);
		fail();
	}
	free(prefix);
}

/* Defaults match the table's documented values. */
static void
test_defaults(void **state)
{
	struct conf c;

	(void)state;
	conf_default(&c);
	assert_string_equal(c.redis_host, "127.0.0.1");
	assert_int_equal(c.redis_port, 6379);
	assert_null(c.redis_socket);
	assert_null(c.redis_user);
	assert_null(c.redis_password_file);
	assert_null(c.redis_password);
	assert_string_equal(c.stream, "stabild:decisions");
	assert_string_equal(c.group, "stabild");
	assert_string_equal(c.consumer, "stabild-1");
	assert_string_equal(c.deadletter, "stabild:deadletter");
	assert_int_equal(c.batch, 500);
	assert_int_equal(c.block_ms, 2000);
	assert_int_equal(c.connect_timeout_ms, 5000);
	assert_int_equal(c.reconnect_max_ms, 30000);
	assert_string_equal(c.http_bind, "127.0.0.1");
	assert_int_equal(c.http_port, 8080);
	assert_null(c.tokens_file);
	assert_true(c.auth);
	assert_int_equal(c.http_max_body, 65536);
	assert_int_equal(c.http_timeout_ms, 10000);
	assert_string_equal(c.state_dir, "/var/lib/stabild");
	assert_int_equal(c.checkpoint_interval_ms, 30000);
	assert_int_equal(c.checkpoint_events, 200000);
	assert_float_equal(c.checkpoint_share, 0.1, 0);
	assert_int_equal(c.dedup_window, 1000000);
	assert_true(c.records);
	assert_int_equal(c.lateness_ms, INT64_C(3) * 86400000);
	assert_int_equal(c.retention_ms, INT64_C(10) * 365 * 86400000);
	assert_int_equal(c.future_ms, 86400000);
	assert_int_equal(c.max_offices, 128);
	assert_int_equal(c.nbenefits, 4);
	assert_string_equal(c.benefits[0], "sjukpenning");
	assert_string_equal(c.benefits[1], "rehabiliteringsersattning");
	assert_string_equal(c.benefits[2], "sjukersattning");
	assert_string_equal(c.benefits[3], "aktivitetsersattning");
	assert_int_equal(c.log_level, LOG_INFO);
	assert_float_equal(c.false_alarms_per_year, 12, 0);
	assert_float_equal(c.design_or_office, 1.5, 0);
	assert_float_equal(c.design_or_national, 1.2, 0);
	assert_float_equal(c.relevant_or, 1.5, 0);
	assert_int_equal(c.horizon_ms, INT64_C(26) * 7 * 86400000);
	assert_int_equal(c.reference_weeks, 104);
	assert_int_equal(c.min_reference_weeks, 52);
	assert_int_equal(c.learning_weeks, 13);
	assert_float_equal(c.ridge, 1, 0);
	assert_int_equal(c.explain_before_ms, INT64_C(4) * 7 * 86400000);
	assert_int_equal(c.explain_after_ms, INT64_C(8) * 7 * 86400000);
	assert_int_equal(c.evaluate_every_ms, 86400000);
	assert_false(c.outlier_alerts);
	assert_float_equal(c.shrink_offices, 50, 0);
	assert_int_equal(c.historical_age_ms, INT64_C(30) * 86400000);
	assert_int_equal(c.nreceivers, 0);
	assert_int_equal(c.nexplanations, 0);
	assert_null(c.explanations);
	assert_null(c.path);
	conf_free(&c);
	/* conf_free leaves a struct that can be freed again. */
	conf_free(&c);
	assert_null(c.redis_host);
}

/* Good values of every type land in their fields. */
static void
test_good_values(void **state)
{
	struct conf c;

	(void)state;
	load_text_ok(&c, "[redis]\nport = 1\nbatch = 100000\nblock = 10ms\n"
	    "reconnect_max = 10m\nconnect_timeout = 1\n"
	    "[http]\nport = 0\nmax_body = 1k\nauth = OFF\ntimeout = 100ms\n"
	    "[state]\ndedup_window = 0\ncheckpoint_events = 10000000\n"
	    "checkpoint_share = 1\nrecords = false\n"
	    "[periods]\nlateness = 0\nretention = 50y\nfuture = 365d\n"
	    "max_offices = 1\n"
	    "[log]\nlevel = warning\n"
	    "[detector]\nfalse_alarms_per_year = 1e4\n");
	assert_int_equal(c.redis_port, 1);
	assert_int_equal(c.batch, 100000);
	assert_int_equal(c.block_ms, 10);
	assert_int_equal(c.reconnect_max_ms, 600000);
	assert_int_equal(c.connect_timeout_ms, 1000);
	assert_int_equal(c.http_port, 0);
	assert_int_equal(c.http_max_body, 1024);
	assert_false(c.auth);
	assert_int_equal(c.http_timeout_ms, 100);
	assert_int_equal(c.dedup_window, 0);
	assert_int_equal(c.checkpoint_events, 10000000);
	assert_float_equal(c.checkpoint_share, 1, 0);
	assert_false(c.records);
	assert_int_equal(c.lateness_ms, 0);
	assert_int_equal(c.retention_ms, INT64_C(50) * 365 * 86400000);
	assert_int_equal(c.future_ms, INT64_C(365) * 86400000);
	assert_int_equal(c.max_offices, 1);
	assert_int_equal(c.log_level, LOG_WARNING);
	assert_float_equal(c.false_alarms_per_year, 10000, 0);
	conf_free(&c);

	load_text_ok(&c, "[redis]\nport = 65535\nsocket = /run/r.sock\n"
	    "user = u\n[http]\nmax_body = 16M\n[log]\nlevel = debug\n"
	    "[detector]\nfalse_alarms_per_year = 0.001\n"
	    "[alerts]\nhistorical_age = 1m\n");
	assert_int_equal(c.redis_port, 65535);
	assert_string_equal(c.redis_socket, "/run/r.sock");
	assert_string_equal(c.redis_user, "u");
	assert_int_equal(c.http_max_body, 16 * 1024 * 1024);
	assert_int_equal(c.log_level, LOG_DEBUG);
	assert_float_equal(c.false_alarms_per_year, 0.001, 1e-12);
	assert_int_equal(c.historical_age_ms, 60000);
	conf_free(&c);

	/* The detector keys at their lower bounds, then at their upper. */
	load_text_ok(&c, "[detector]\ndesign_or_office = 1.01\n"
	    "design_or_national = 1.01\nrelevant_or = 1.01\nhorizon = 1w\n"
	    "reference_weeks = 52\nmin_reference_weeks = 13\n"
	    "learning_weeks = 1\nridge = 0\nexplain_before = 0\n"
	    "explain_after = 0\nevaluate_every = 1h\noutlier_alerts = on\n"
	    "shrink_offices = 0\n");
	assert_float_equal(c.design_or_office, 1.01, 0);
	assert_float_equal(c.design_or_national, 1.01, 0);
	assert_float_equal(c.relevant_or, 1.01, 0);
	assert_int_equal(c.horizon_ms, INT64_C(7) * 86400000);
	assert_int_equal(c.reference_weeks, 52);
	assert_int_equal(c.min_reference_weeks, 13);
	assert_int_equal(c.learning_weeks, 1);
	assert_float_equal(c.ridge, 0, 0);
	assert_int_equal(c.explain_before_ms, 0);
	assert_int_equal(c.explain_after_ms, 0);
	assert_int_equal(c.evaluate_every_ms, 3600000);
	assert_true(c.outlier_alerts);
	assert_float_equal(c.shrink_offices, 0, 0);
	conf_free(&c);

	load_text_ok(&c, "[detector]\ndesign_or_office = 10\n"
	    "design_or_national = 10\nrelevant_or = 10\nhorizon = 10y\n"
	    "reference_weeks = 520\nmin_reference_weeks = 520\n"
	    "learning_weeks = 104\nridge = 100\nexplain_before = 52w\n"
	    "explain_after = 364d\nevaluate_every = 7d\n"
	    "shrink_offices = 100000\n");
	assert_float_equal(c.design_or_office, 10, 0);
	assert_float_equal(c.design_or_national, 10, 0);
	assert_float_equal(c.relevant_or, 10, 0);
	assert_int_equal(c.horizon_ms, INT64_C(3650) * 86400000);
	assert_int_equal(c.reference_weeks, 520);
	assert_int_equal(c.min_reference_weeks, 520);
	assert_int_equal(c.learning_weeks, 104);
	assert_float_equal(c.ridge, 100, 0);
	assert_int_equal(c.explain_before_ms, INT64_C(364) * 86400000);
	assert_int_equal(c.explain_after_ms, INT64_C(364) * 86400000);
	assert_int_equal(c.evaluate_every_ms, INT64_C(7) * 86400000);
	assert_float_equal(c.shrink_offices, 100000, 0);
	conf_free(&c);

	/* An empty value unsets a key that has no default; last one wins. */
	load_text_ok(&c, "[redis]\nsocket = /run/a\nsocket =\nhost = a\n"
	    "host = b\n");
	assert_null(c.redis_socket);
	assert_string_equal(c.redis_host, "b");
	conf_free(&c);

	/* The public URL is kept as written; unset by default. */
	load_text_ok(&c, "[log]\n");
	assert_null(c.http_public_url);
	conf_free(&c);
	load_text_ok(&c, "[http]\npublic_url = HTTPS://proxy.example.se:8443"
	    "/stabild/\n");
	assert_string_equal(c.http_public_url,
	    "HTTPS://proxy.example.se:8443/stabild/");
	conf_free(&c);
}

/* Every spelling of a boolean. */
static void
test_bool_values(void **state)
{
	static const struct {
		const char	*text;
		bool		 want;
	} cases[] = {
		{ "on", true }, { "off", false }, { "yes", true },
		{ "no", false }, { "true", true }, { "false", false },
		{ "1", true }, { "0", false }, { "On", true }, { "NO", false },
	};
	struct conf c;
	char *text;
	size_t i;

	(void)state;
	for (i = 0; i < NITEMS(cases); i++) {
		text = xasprintf("[http]\nauth = %s\n[state]\nrecords = %s\n",
		    cases[i].text, cases[i].text);
		load_text_ok(&c, text);
		assert_int_equal(c.auth, cases[i].want);
		assert_int_equal(c.records, cases[i].want);
		conf_free(&c);
		free(text);
	}
}

/* Bad values: the error names the line, the key and the bound crossed. */
static void
test_bad_values(void **state)
{
	static const struct {
		const char	*text;
		int		 line;
		const char	*error;
	} cases[] = {
		{ "[redis]\nport = 0\n", 2, "port: 0 is below the minimum 1" },
		{ "[http]\npublic_url = stabild.example.se\n", 2,
		  "public_url must start with http:// or https://" },
		{ "[http]\n\npublic_url = https://\n", 3, "public_url has no host" },
		{ "[http]\npublic_url = http:///v1\n", 2, "has no host" },
		{ "[http]\npublic_url = https://a.example/?x=1\n", 2,
		  "no blanks, control characters, non-ASCII, '?' or '#'" },
		{ "[http]\npublic_url = https://a.example/#top\n", 2,
		  "'?' or '#' allowed" },
		{ "[http]\npublic_url = https://b\xc3\xa5t.example/\n", 2,
		  "non-ASCII" },
		{ "[redis]\nport = 65536\n", 2,
		  "port: 65536 is above the maximum 65535" },
		{ "[redis]\nport = -1\n", 2, "below the minimum 1" },
		{ "[redis]\nport = 99999999999999999999\n", 2,
		  "above the maximum 65535" },
		{ "[redis]\nport = abc\n", 2, "port: 'abc' is not an integer" },
		{ "[redis]\nport = 12x\n", 2, "'12x' is not an integer" },
		{ "[redis]\nport = +5\n", 2, "is not an integer" },
		{ "[redis]\nport = 1.5\n", 2, "is not an integer" },
		{ "[redis]\nport =\n", 2, "is not an integer" },
		{ "[redis]\nbatch = 100001\n", 2, "above the maximum 100000" },
		{ "[redis]\n\nbatch = 0\n", 3, "below the minimum 1" },
		{ "[state]\ndedup_window = -1\n", 2, "below the minimum 0" },
		{ "[state]\ndedup_window = 100000001\n", 2,
		  "above the maximum 100000000" },
		{ "[state]\ncheckpoint_events = 0\n", 2, "below the minimum 1" },
		{ "[state]\ncheckpoint_share = 0.009\n", 2,
		  "must be at least 0.01" },
		{ "[state]\ncheckpoint_share = 1.1\n", 2,
		  "above the maximum 1" },
		{ "[periods]\nmax_offices = 4097\n", 2,
		  "above the maximum 4096" },
		{ "[redis]\nblock = 5ms\n", 2,
		  "block: 5ms is below the minimum 10ms" },
		{ "[redis]\nblock = 61s\n", 2, "above the maximum 1m" },
		{ "[redis]\nblock = 2 s\n", 2, "'2 s' is not a duration" },
		{ "[redis]\nblock = -2s\n", 2, "is not a duration" },
		{ "[redis]\nblock = 2x\n", 2, "is not a duration" },
		{ "[redis]\nblock =\n", 2, "is not a duration" },
		{ "[redis]\nreconnect_max = 11m\n", 2, "above the maximum 10m" },
		{ "[redis]\nreconnect_max = 99ms\n", 2,
		  "below the minimum 100ms" },
		{ "[periods]\nretention = 7w\n", 2, "below the minimum 8w" },
		{ "[periods]\nretention = 51y\n", 2, "above the maximum 50y" },
		{ "[periods]\nlateness = 61d\n", 2, "above the maximum 60d" },
		{ "[periods]\nfuture = 366d\n", 2, "future: 366d is above" },
		{ "[state]\ncheckpoint_interval = 11m\n", 2,
		  "checkpoint_interval: 11m is above the maximum 10m" },
		{ "[alerts]\nhistorical_age = 30s\n", 2,
		  "below the minimum 1m" },
		{ "[http]\nauth = maybe\n", 2, "auth: 'maybe' is not a boolean" },
		{ "[http]\nauth =\n", 2, "is not a boolean" },
		{ "[state]\nrecords = 2\n", 2, "is not a boolean" },
		{ "[http]\nmax_body = 1023\n", 2,
		  "max_body: 1023 is below the minimum 1k" },
		{ "[http]\nmax_body = 17M\n", 2, "above the maximum 16M" },
		{ "[http]\nmax_body = 64kb\n", 2, "'64kb' is not a size" },
		{ "[http]\ntimeout = 50ms\n", 2, "below the minimum 100ms" },
		{ "[detector]\nfalse_alarms_per_year = 0\n", 2,
		  "must be greater than 0" },
		{ "[detector]\nfalse_alarms_per_year = -1\n", 2,
		  "must be greater than 0" },
		{ "[detector]\nfalse_alarms_per_year = 10001\n", 2,
		  "above the maximum 10000" },
		{ "[detector]\nfalse_alarms_per_year = nan\n", 2,
		  "is not a number" },
		{ "[detector]\nfalse_alarms_per_year = 12abc\n", 2,
		  "is not a number" },
		{ "[detector]\nfalse_alarms_per_year =\n", 2, "is not a number" },
		{ "[detector]\ndesign_or_office = 1.0\n", 2,
		  "design_or_office: 1.0 must be at least 1.01" },
		{ "[detector]\ndesign_or_office = 10.5\n", 2,
		  "design_or_office: 10.5 is above the maximum 10" },
		{ "[detector]\ndesign_or_national = 1\n", 2,
		  "design_or_national: 1 must be at least 1.01" },
		{ "[detector]\ndesign_or_national = 11\n", 2,
		  "above the maximum 10" },
		{ "[detector]\nrelevant_or = 1.009\n", 2,
		  "relevant_or: 1.009 must be at least 1.01" },
		{ "[detector]\nrelevant_or = 10.01\n", 2,
		  "relevant_or: 10.01 is above the maximum 10" },
		{ "[detector]\nhorizon = 6d\n", 2,
		  "horizon: 6d is below the minimum 1w" },
		{ "[detector]\nhorizon = 11y\n", 2,
		  "horizon: 11y is above the maximum 10y" },
		{ "[detector]\nhorizon = 26\n", 2,
		  "horizon: 26 is below the minimum 1w" },
		{ "[detector]\nreference_weeks = 51\n", 2,
		  "reference_weeks: 51 is below the minimum 52" },
		{ "[detector]\nreference_weeks = 521\n", 2,
		  "reference_weeks: 521 is above the maximum 520" },
		{ "[detector]\nreference_weeks = 1.5\n", 2, "not an integer" },
		{ "[detector]\nmin_reference_weeks = 12\n", 2,
		  "min_reference_weeks: 12 is below the minimum 13" },
		{ "[detector]\nmin_reference_weeks = 521\n", 2,
		  "min_reference_weeks: 521 is above the maximum 520" },
		{ "[detector]\nlearning_weeks = 0\n", 2,
		  "learning_weeks: 0 is below the minimum 1" },
		{ "[detector]\nlearning_weeks = 105\n", 2,
		  "learning_weeks: 105 is above the maximum 104" },
		{ "[detector]\nridge = -0.1\n", 2,
		  "ridge: -0.1 must be at least 0" },
		{ "[detector]\nridge = 100.5\n", 2,
		  "ridge: 100.5 is above the maximum 100" },
		{ "[detector]\nridge = inf\n", 2,
		  "ridge: 'inf' is not a number" },
		{ "[detector]\nexplain_before = 53w\n", 2,
		  "explain_before: 53w is above the maximum 52w" },
		{ "[detector]\nexplain_after = 365d\n", 2,
		  "explain_after: 365d is above the maximum 52w" },
		{ "[detector]\nexplain_after = -1d\n", 2, "is not a duration" },
		{ "[detector]\nexplain_before = 36h\n", 2,
		  "explain_before must be whole days" },
		{ "[detector]\n\nexplain_after = 1d1h\n", 3,
		  "is not a duration" },
		{ "[detector]\nexplain_after = 25h\n", 2,
		  "explain_after must be whole days" },
		{ "[detector]\nevaluate_every = 59m\n", 2,
		  "evaluate_every: 59m is below the minimum 1h" },
		{ "[detector]\nevaluate_every = 8d\n", 2,
		  "evaluate_every: 8d is above the maximum 1w" },
		{ "[detector]\noutlier_alerts = sometimes\n", 2,
		  "outlier_alerts: 'sometimes' is not a boolean" },
		{ "[detector]\nshrink_offices = -1\n", 2,
		  "shrink_offices: -1 must be at least 0" },
		{ "[detector]\nshrink_offices = 100001\n", 2,
		  "shrink_offices: 100001 is above the maximum 100000" },
		{ "[detector]\nmin_reference_weeks = 105\n", 2,
		  "min_reference_weeks must not exceed reference_weeks" },
		{ "[detector]\nmin_reference_weeks = 100\n"
		  "reference_weeks = 99\n", 3,
		  "min_reference_weeks must not exceed reference_weeks" },
		{ "[log]\nlevel = verbose\n", 2, "'verbose' is not a log level" },
		{ "[redis]\nhost =\n", 2, "host: must not be empty" },
		{ "[redis]\nstream =\n", 2, "stream: must not be empty" },
		{ "[redis]\ngroup =\n", 2, "group: must not be empty" },
		{ "[redis]\nconsumer =\n", 2, "must not be empty" },
		{ "[state]\ndir =\n", 2, "dir: must not be empty" },
		{ "[benefits]\nlist =\n", 2, "at least one benefit" },
		{ "[benefits]\nlist = a,,b\n", 2, "empty item" },
		{ "[benefits]\nlist = a, b,\n", 2, "empty item" },
		{ "[benefits]\nlist = Sjukpenning\n", 2,
		  "'Sjukpenning' is not a benefit name" },
		{ "[benefits]\nlist = sjuk penning\n", 2, "not a benefit name" },
		{ "[benefits]\nlist = a, b, a\n", 2, "'a' is listed twice" },
		{ "[benefits]\nlist = abcdefghijabcdefghijabcdefghijabc\n", 2,
		  "not a benefit name" },
		{ "[benefits]\nlist = a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q\n", 2,
		  "more than 16 benefits" },
		{ "[redis]\nstream = x\n[http]\n[redis]\ndeadletter = x\n", 5,
		  "stream and deadletter must differ" },
		{ "[redis]\ndeadletter = stabild:decisions\n", 2,
		  "stream and deadletter must differ" },
	};
	struct conf c;
	char *path, *cause;
	size_t i;

	(void)state;
	for (i = 0; i < NITEMS(cases); i++) {
		path = write_temp(cases[i].text);
		conf_default(&c);
		cause = NULL;
		if (conf_load(&c, path, &cause) == 0) {
			fprintf(stderr, "loaded: %s", cases[i].text);
			fail();
		}
		assert_cause(cause, path, cases[i].line, cases[i].error);
		free(cause);
		conf_free(&c);
		unlink(path);
		free(path);
	}
}

/* Whole files: structure errors, receivers and cross-checks. */
static void
test_bad_files(void **state)
{
	static const struct {
		const char	*file;
		int		 line;
		const char	*error;
	} cases[] = {
		{ "bad-unknown-key.conf", 4,
		  "unknown key 'foo' in section [redis]" },
		{ "bad-unknown-section.conf", 4, "unknown section [bogus]" },
		{ "bad-syntax.conf", 3, "syntax error" },
		{ "bad-section-syntax.conf", 3, "syntax error" },
		{ "bad-header-junk.conf", 1, "unexpected text after" },
		{ "bad-outside.conf", 2, "'port' is outside any section" },
		{ "bad-after-error.conf", 3, "port: 0 is below" },
		{ "bad-long-line.conf", 3, "line is longer than" },
		{ "bad-password-missing.conf", 3, "password_file: "
		  DATA "no-such-password: No such file or directory" },
		{ "bad-password-empty.conf", 3,
		  "password_file: " DATA "redis.password-empty: first line is "
		  "empty" },
		{ "bad-receiver-missing-url.conf", 4,
		  "receiver \"ops\": missing url" },
		{ "bad-receiver-missing-type.conf", 5,
		  "receiver \"mail\": missing type" },
		{ "bad-receiver-dup.conf", 5,
		  "receiver \"ops\" is already defined at line 1" },
		{ "bad-receiver-dup-key.conf", 4,
		  "receiver \"ops\": url is given twice" },
		{ "bad-receiver-name.conf", 3, "expected [receiver \"NAME\"]" },
		{ "bad-receiver-noname.conf", 1,
		  "expected [receiver \"NAME\"]" },
		{ "bad-receiver-unquoted.conf", 1,
		  "expected [receiver \"NAME\"]" },
		{ "bad-receiver-scheme.conf", 3,
		  "webhook url must start with http:// or https://" },
		{ "bad-receiver-email-scheme.conf", 2,
		  "email url must start with smtp:// or smtps://" },
		{ "bad-receiver-empty-url.conf", 3, "webhook url must start" },
		{ "bad-receiver-type.conf", 2,
		  "type: 'sms' is not webhook or email" },
		{ "bad-receiver-key.conf", 4,
		  "unknown key 'token' in section [receiver \"ops\"]" },
		{ "bad-stream-deadletter.conf", 4,
		  "stream and deadletter must differ" },
		{ "bad-lateness-retention.conf", 3,
		  "lateness must be shorter than retention" },
		{ "no-such-file.conf", 0, "No such file or directory" },
	};
	struct conf c;
	char *path, *cause;
	size_t i;

	(void)state;
	for (i = 0; i < NITEMS(cases); i++) {
		path = xasprintf(DATA "%s", cases[i].file);
		conf_default(&c);
		cause = NULL;
		assert_int_equal(conf_load(&c, path, &cause), -1);
		assert_cause(cause, path, cases[i].line, cases[i].error);
		free(cause);
		conf_free(&c);
		free(path);
	}

	/* A directory opens but cannot be read. */
	conf_default(&c);
	assert_int_equal(conf_load(&c, "tests/data/conf", &cause), -1);
	assert_cause(cause, "tests/data/conf", 0, "Is a directory");
	free(cause);
	conf_free(&c);
}

/* A file that sets everything, with receivers and odd formatting. */
static void
test_good_file(void **state)
{
	struct conf c;
	char *cause = NULL;

	(void)state;
	conf_default(&c);
	assert_int_equal(conf_load(&c, DATA "good.conf", &cause), 0);
	assert_null(cause);
	assert_string_equal(c.path, DATA "good.conf");
	assert_string_equal(c.redis_host, "redis.example");
	assert_int_equal(c.redis_port, 6380);
	assert_string_equal(c.redis_socket, "/run/redis/test.sock");
	assert_string_equal(c.redis_user, "stabild");
	assert_string_equal(c.stream, "cases:decisions");
	assert_string_equal(c.group, "g1");
	assert_string_equal(c.consumer, "c1");
	assert_string_equal(c.deadletter, "cases:deadletter");
	assert_int_equal(c.batch, 100);
	assert_int_equal(c.block_ms, 500);
	assert_int_equal(c.connect_timeout_ms, 1000);
	assert_int_equal(c.reconnect_max_ms, 60000);
	assert_string_equal(c.http_bind, "0.0.0.0");
	assert_int_equal(c.http_port, 0);	/* inline comment removed */
	assert_string_equal(c.tokens_file, DATA "tokens");
	assert_false(c.auth);
	assert_int_equal(c.http_max_body, 1024 * 1024);
	assert_int_equal(c.http_timeout_ms, 2000);
	assert_string_equal(c.state_dir, "state");
	assert_int_equal(c.checkpoint_interval_ms, 100);
	assert_int_equal(c.checkpoint_events, 10);
	assert_int_equal(c.dedup_window, 0);
	assert_false(c.records);
	assert_int_equal(c.lateness_ms, 86400000);	/* indented key */
	assert_int_equal(c.retention_ms, INT64_C(8) * 7 * 86400000);
	assert_int_equal(c.future_ms, 0);
	assert_int_equal(c.max_offices, 4096);
	assert_int_equal(c.nbenefits, 2);
	assert_string_equal(c.benefits[0], "sjukpenning");
	assert_string_equal(c.benefits[1], "sjukersattning");
	assert_int_equal(c.log_level, LOG_DEBUG);
	assert_float_equal(c.false_alarms_per_year, 0.5, 0);
	assert_int_equal(c.historical_age_ms, 3600000);

	assert_int_equal(c.nreceivers, 2);
	assert_string_equal(c.receivers[0].name, "ops");
	assert_string_equal(c.receivers[0].type, "webhook");
	assert_string_equal(c.receivers[0].url, "https://ops.example/hook");
	assert_string_equal(c.receivers[0].secret_file, DATA "ops.secret");
	assert_string_equal(c.receivers[1].name, "mail.team-1");
	assert_string_equal(c.receivers[1].type, "email");
	assert_string_equal(c.receivers[1].url, "smtps://mail.example:465");
	assert_null(c.receivers[1].secret_file);
	assert_string_equal(c.receivers[1].from, "Stabild <stabild@example.org>");
	assert_string_equal(c.receivers[1].to,
	    "Öster Åsa <ops@example.org>, team@example.org");
	assert_null(c.receivers[1].cc);
	assert_string_equal(c.receivers[1].starttls, "required");
	assert_int_equal(c.receivers[1].connect_timeout_ms, 5000);
	assert_int_equal(c.receivers[1].timeout_ms, 30000);

	assert_int_equal(c.nroutes, 2);
	assert_string_equal(c.routes[0].name, "explained");
	assert_null(c.routes[0].receivers);	/* recorded only */
	assert_string_equal(c.routes[0].classifications, "explained");
	assert_int_equal(c.routes[0].group_wait_ms, 0);
	assert_false(c.routes[0].cont);
	assert_string_equal(c.routes[1].offices, "K017, K024");
	assert_string_equal(c.routes[1].receivers, "ops, mail.team-1");
	assert_int_equal(c.routes[1].group_wait_ms, 30000);
	assert_int_equal(c.routes[1].repeat_interval_ms, 4 * 3600000);
	assert_true(c.routes[1].cont);
	conf_free(&c);
}

/* Routes and receiver keys: each mistake named with its line. */
static void
test_routes(void **state)
{
	static const struct {
		const char	*text;
		int		 line;
		const char	*want;
	} bad[] = {
		{ "[receiver \"a\"]\ntype = webhook\nurl = http://x\n"
		  "[route \"r\"]\noffices = K1\n", 4,
		  "route \"r\": missing receivers" },
		{ "[receiver \"a\"]\ntype = webhook\nurl = http://x\n"
		  "[route \"r\"]\nreceivers = a, b\n", 4,
		  "'b' is not a defined receiver" },
		{ "[route \"r\"]\nreceivers =\nscopes = regional\n", 3,
		  "'regional' is not office or national" },
		{ "[route \"r\"]\nreceivers =\ndirections = up, up\n", 3,
		  "'up' is listed twice" },
		{ "[route \"r\"]\nreceivers =\nbenefits = nope\n", 1,
		  "'nope' is not a configured benefit" },
		{ "[route \"r\"]\nreceivers =\nrepeat_interval = 500ms\n", 1,
		  "at least 1s" },
		{ "[route \"r\"]\nreceivers =\n[route \"r\"]\n", 3,
		  "route \"r\" is already defined at line 1" },
		{ "[route \"r\"]\nreceivers =\nreceivers =\n", 3,
		  "receivers is given twice" },
		{ "[route \"r\"]\nfoo = 1\n", 2,
		  "unknown key 'foo' in section [route \"r\"]" },
		{ "[receiver \"m\"]\ntype = email\nurl = smtp://x\n"
		  "to = a@b.c\n", 1, "from must be an address" },
		{ "[receiver \"m\"]\ntype = email\nurl = smtp://x\n"
		  "from = a@b.c\n", 1, "missing to" },
		{ "[receiver \"m\"]\ntype = email\nurl = smtp://x\n"
		  "from = a@b.c\nto = not-an-address\n", 5,
		  "'not-an-address' is not an address" },
		{ "[receiver \"m\"]\ntype = email\nurl = smtps://x\n"
		  "from = a@b.c\nto = d@e.f\nstarttls = required\n", 1,
		  "starttls does not apply to smtps://" },
		{ "[receiver \"m\"]\ntype = email\nurl = smtp://x\n"
		  "from = a@b.c\nto = d@e.f\nsecret_file = /s\n", 1,
		  "secret_file is for webhook receivers only" },
		{ "[receiver \"w\"]\ntype = webhook\nurl = http://x\n"
		  "from = a@b.c\n", 1, "from is for email receivers only" },
		{ "[receiver \"w\"]\ntype = webhook\nurl = http://x\n"
		  "starttls = maybe\n", 4,
		  "'maybe' is not required or optional or off" },
	};
	struct conf c;
	char *cause = NULL, *path;
	size_t i;

	(void)state;
	for (i = 0; i < NITEMS(bad); i++) {
		path = write_temp(bad[i].text);
		conf_default(&c);
		assert_int_equal(conf_load(&c, path, &cause), -1);
		assert_cause(cause, path, bad[i].line, bad[i].want);
		free(cause);
		cause = NULL;
		conf_free(&c);
		unlink(path);
		free(path);
	}
}

/* A byte order mark and CRLF line endings are accepted. */
static void
test_file_encodings(void **state)
{
	struct conf c;
	char *cause = NULL;

	(void)state;
	conf_default(&c);
	assert_int_equal(conf_load(&c, DATA "bom.conf", &cause), 0);
	assert_int_equal(c.redis_port, 6390);
	conf_free(&c);

	conf_default(&c);
	assert_int_equal(conf_load(&c, DATA "crlf.conf", &cause), 0);
	assert_int_equal(c.redis_port, 6391);
	assert_int_equal(c.log_level, LOG_ERR);
	conf_free(&c);
	assert_null(cause);
}

/* Receiver names up to 64 characters (longer than inih keeps). */
static void
test_receiver_names(void **state)
{
	static const char name64[] =
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.";
	struct conf c;
	char *text, *cause = NULL;
	size_t i;

	(void)state;
	assert_int_equal(strlen(name64), 64);
	text = xasprintf("[receiver \"%s\"]\ntype = email\n"
	    "url = smtp://mail.example:25\nfrom = a@b.example\n"
	    "to = c@d.example\n\n[receiver \"%s-\"]\n"
	    "type = webhook\nurl = http://x\n", name64, name64 + 1);
	load_text_ok(&c, text);
	assert_int_equal(c.nreceivers, 2);
	assert_string_equal(c.receivers[0].name, name64);
	assert_string_equal(c.receivers[0].type, "email");
	assert_string_equal(c.receivers[1].type, "webhook");
	conf_free(&c);
	free(text);

	/* 65 characters. */
	text = xasprintf("[log]\n[receiver \"%sx\"]\ntype = email\n", name64);
	assert_int_equal(load_text(&c, text, &cause), -1);
	assert_non_null(strstr(cause, ":2: expected [receiver \"NAME\"]"));
	free(cause);
	conf_free(&c);
	free(text);

	/* Empty name, and a section with nothing in it. */
	assert_int_equal(load_text(&c, "[receiver \"\"]\n", &cause), -1);
	assert_non_null(strstr(cause, ":1: expected [receiver"));
	free(cause);
	conf_free(&c);
	assert_int_equal(load_text(&c, "[log]\n\n[receiver \"x\"]\n", &cause),
	    -1);
	assert_non_null(strstr(cause, ":3: receiver \"x\": missing type"));
	free(cause);
	conf_free(&c);

	/* One more receiver than allowed. */
	text = xstrdup("");
	for (i = 0; i <= CONF_MAX_RECEIVERS; i++) {
		char *more = xasprintf("%s[receiver \"r%zu\"]\ntype = webhook\n"
		    "url = http://h/%zu\n", text, i, i);
		free(text);
		text = more;
	}
	assert_int_equal(load_text(&c, text, &cause), -1);
	assert_non_null(strstr(cause, ":97: more than 32 receivers"));
	free(cause);
	conf_free(&c);
	free(text);
}

/* [explanation "ID"] sections: every key, lists as written, header lines. */
static void
test_explanations_good(void **state)
{
	const struct conf_explanation *e;
	struct conf c;

	(void)state;
	/* The benefit "extra" is configured after the section using it. */
	load_text_ok(&c, "[explanation \"hfd-2023:12.a_B\"]\n"
	    "kind = court_ruling\n"
	    "effective_from = 2023-03-01\n"
	    "effective_to = 2024-02-29\n"
	    "benefits = sjukpenning , extra\n"
	    "kinds = ongoing\n"
	    "offices = K017, K.2-x\n"
	    "reference = HFD 2023 ref. 12\n"
	    "description = Ruling on the assessment ; inline comment\n"
	    "[explanation \"second\"]\n"
	    "kind = context\n"
	    "effective_from = 2024-02-29\n"
	    "effective_to =\n"
	    "benefits =\n"
	    "[benefits]\n"
	    "list = sjukpenning, extra\n");
	assert_int_equal(c.nexplanations, 2);
	e = &c.explanations[0];
	assert_string_equal(e->id, "hfd-2023:12.a_B");
	assert_string_equal(e->kind, "court_ruling");
	assert_string_equal(e->effective_from, "2023-03-01");
	assert_string_equal(e->effective_to, "2024-02-29");
	assert_string_equal(e->benefits, "sjukpenning , extra");
	assert_string_equal(e->kinds, "ongoing");
	assert_string_equal(e->offices, "K017, K.2-x");
	assert_string_equal(e->reference, "HFD 2023 ref. 12");
	assert_string_equal(e->description, "Ruling on the assessment");
	assert_int_equal(e->line, 1);
	e = &c.explanations[1];
	assert_string_equal(e->id, "second");
	assert_string_equal(e->kind, "context");
	assert_string_equal(e->effective_from, "2024-02-29");
	assert_null(e->effective_to);
	assert_null(e->benefits);
	assert_null(e->kinds);
	assert_null(e->offices);
	assert_null(e->reference);
	assert_null(e->description);
	assert_int_equal(e->line, 10);
	conf_free(&c);
	assert_null(c.explanations);
	assert_int_equal(c.nexplanations, 0);

	/* The longest id, every kind, both decision kinds, equal dates. */
	load_text_ok(&c, "[explanation \"abcdefghijklmnopqrstuvwxyzABCDEFGHIJ"
	    "KLMNOPQRSTUVWXYZ0123456789.:\"]\nkind = legislation\n"
	    "effective_from = 1900-01-01\neffective_to = 1900-01-01\n"
	    "kinds = first,ongoing\n"
	    "[explanation \"b\"]\nkind = legal_position\n"
	    "effective_from = 2000-02-29\n"
	    "[explanation \"c\"]\nkind = case_mix\n"
	    "effective_from = 9999-12-31\n"
	    "[explanation \"d\"]\nkind = data_correction\n"
	    "effective_from = 2021-07-01\n");
	assert_int_equal(c.nexplanations, 4);
	assert_int_equal(strlen(c.explanations[0].id), 64);
	assert_string_equal(c.explanations[0].kinds, "first,ongoing");
	assert_string_equal(c.explanations[1].kind, "legal_position");
	assert_string_equal(c.explanations[2].kind, "case_mix");
	assert_string_equal(c.explanations[3].kind, "data_correction");
	conf_free(&c);
}

/* Errors in explanation sections, each at its line. */
static void
test_explanations_bad(void **state)
{
	static const struct {
		const char	*text;
		int		 line;
		const char	*error;
	} cases[] = {
		{ "[log]\n[explanation \"a\"]\neffective_from = 2023-01-01\n",
		  2, "explanation \"a\": missing kind" },
		{ "[explanation \"a\"]\nkind = context\n[log]\n", 1,
		  "explanation \"a\": missing effective_from" },
		{ "[explanation \"a\"]\nkind = context\neffective_from =\n", 1,
		  "missing effective_from" },
		{ "[explanation \"a\"]\nkind = legislation\n"
		  "effective_from = 2023-02-29\n", 3,
		  "explanation \"a\": effective_from: '2023-02-29' is not a "
		  "date (YYYY-MM-DD" },
		{ "[explanation \"a\"]\neffective_from = 2023-1-01\n", 2,
		  "is not a date" },
		{ "[explanation \"a\"]\neffective_from = 23-01-01\n", 2,
		  "is not a date" },
		{ "[explanation \"a\"]\neffective_from = 2023-13-01\n", 2,
		  "is not a date" },
		{ "[explanation \"a\"]\neffective_from = 2023-04-31\n", 2,
		  "is not a date" },
		{ "[explanation \"a\"]\neffective_from = 2023-04-00\n", 2,
		  "is not a date" },
		{ "[explanation \"a\"]\neffective_from = 1899-12-31\n", 2,
		  "is not a date" },
		{ "[explanation \"a\"]\neffective_from = 2023-01-01x\n", 2,
		  "is not a date" },
		{ "[explanation \"a\"]\neffective_from = 2023/01/01\n", 2,
		  "is not a date" },
		{ "[explanation \"a\"]\nkind = context\n"
		  "effective_from = 2023-01-01\n\n"
		  "effective_to = 2023-03-0\n", 5,
		  "effective_to: '2023-03-0' is not a date" },
		{ "[explanation \"a\"]\nkind = context\n"
		  "effective_to = 2022-12-31\neffective_from = 2023-01-01\n", 4,
		  "explanation \"a\": effective_to is before effective_from" },
		{ "[explanation \"a\"]\nkind = context\n"
		  "effective_from = 2023-01-01\neffective_to = 2022-12-31\n", 4,
		  "effective_to is before effective_from" },
		{ "[explanation \"a\"]\nkind = law\n", 2,
		  "explanation \"a\": kind: 'law' is not legislation or "
		  "legal_position or court_ruling or case_mix or "
		  "data_correction or context" },
		{ "[explanation \"a\"]\nkind = legislation\n"
		  "effective_from = 2023-01-01\nbenefits = sjukpenning, foo\n"
		  "[benefits]\nlist = sjukpenning\n", 4,
		  "explanation \"a\": benefits: 'foo' is not a configured "
		  "benefit" },
		{ "[benefits]\nlist = a, b\n[explanation \"a\"]\n"
		  "kind = legislation\neffective_from = 2023-01-01\n"
		  "benefits = sjukpenning\n", 6,
		  "benefits: 'sjukpenning' is not a configured benefit" },
		{ "[explanation \"a\"]\nbenefits = Sjukpenning\n", 2,
		  "benefits: 'Sjukpenning' is not a configured benefit" },
		{ "[explanation \"a\"]\nbenefits = sjukpenning, sjukpenning\n",
		  2, "benefits: 'sjukpenning' is listed twice" },
		{ "[explanation \"a\"]\nbenefits = sjukpenning,\n", 2,
		  "benefits: empty item in the list" },
		{ "[explanation \"a\"]\nkinds = first, later\n", 2,
		  "kinds: 'later' is not first or ongoing" },
		{ "[explanation \"a\"]\nkinds = ongoing, ongoing\n", 2,
		  "kinds: 'ongoing' is listed twice" },
		{ "[explanation \"a\"]\noffices = K1,,K2\n", 2,
		  "offices: empty item in the list" },
		{ "[explanation \"a\"]\noffices = K1, national\n", 2,
		  "offices: 'national' is not 1 to 32 characters" },
		{ "[explanation \"a\"]\noffices = K 1\n", 2,
		  "offices: 'K 1' is not 1 to 32" },
		{ "[explanation \"a\"]\noffices = K:1\n", 2,
		  "offices: 'K:1' is not" },
		{ "[explanation \"a\"]\n"
		  "offices = abcdefghijabcdefghijabcdefghijabc\n", 2,
		  "is not 1 to 32 characters" },
		{ "[explanation \"a\"]\nkind = context\n"
		  "effective_from = 2023-01-01\n[explanation \"b\"]\n"
		  "kind = context\neffective_from = 2023-01-01\n\n"
		  "[explanation \"a\"]\n", 8,
		  "explanation \"a\" is already defined at line 1" },
		{ "[explanation \"a\"]\nkind = context\n"
		  "kind = legislation\n", 3,
		  "explanation \"a\": kind is given twice" },
		{ "[explanation \"a\"]\nurl = http://x\n", 2,
		  "unknown key 'url' in section [explanation \"a\"]" },
		{ "[log]\n[explanation \"a b\"]\n", 2,
		  "expected [explanation \"ID\"]" },
		{ "[explanation \"\"]\n", 1, "expected [explanation \"ID\"]" },
		{ "[explanation]\n", 1, "expected [explanation \"ID\"]" },
		{ "[explanation a]\n", 1, "expected [explanation \"ID\"]" },
		{ "[explanation \"a/b\"]\n", 1, "expected [explanation" },
		{ "[explanation \"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLM"
		  "NOPQRSTUVWXYZ0123456789.:-\"]\n", 1, "1 to 64 characters" },
		{ "[explanations]\n", 1, "unknown section [explanations]" },
		{ "[detector]\nkind = context\n", 2,
		  "unknown key 'kind' in section [detector]" },
	};
	struct conf c;
	char *path, *cause;
	size_t i;

	(void)state;
	for (i = 0; i < NITEMS(cases); i++) {
		path = write_temp(cases[i].text);
		conf_default(&c);
		cause = NULL;
		if (conf_load(&c, path, &cause) == 0) {
			fprintf(stderr, "loaded: %s", cases[i].text);
			fail();
		}
		assert_cause(cause, path, cases[i].line, cases[i].error);
		free(cause);
		conf_free(&c);
		assert_null(c.explanations);
		unlink(path);
		free(path);
	}
}

/* At most CONF_MAX_EXPLANATIONS sections. */
static void
test_explanations_max(void **state)
{
	struct conf c;
	char *text, *more, *cause = NULL;
	int i;

	(void)state;
	text = xstrdup("");
	for (i = 0; i < CONF_MAX_EXPLANATIONS; i++) {
		more = xasprintf("%s[explanation \"e%d\"]\nkind = context\n"
		    "effective_from = 2023-01-01\n", text, i);
		free(text);
		text = more;
	}
	load_text_ok(&c, text);
	assert_int_equal(c.nexplanations, CONF_MAX_EXPLANATIONS);
	assert_string_equal(c.explanations[255].id, "e255");
	assert_int_equal(c.explanations[255].line, 3 * 255 + 1);
	conf_free(&c);

	more = xasprintf("%s[explanation \"one-more\"]\n", text);
	free(text);
	text = more;
	assert_int_equal(load_text(&c, text, &cause), -1);
	assert_non_null(strstr(cause, ":769: more than 256 explanations"));
	free(cause);
	conf_free(&c);
	free(text);
}

/* conf_parse_date: day numbers of period.h and the calendar's rules. */
static void
test_parse_date(void **state)
{
	static const struct {
		const char	*text;
		int		 ret;
		int32_t		 day;
	} cases[] = {
		{ "1970-01-01", 0, 0 },
		{ "1970-01-02", 0, 1 },
		{ "1969-12-31", 0, -1 },
		{ "1900-01-01", 0, -25567 },
		{ "2000-02-29", 0, 11016 },
		{ "2000-03-01", 0, 11017 },
		{ "2021-07-01", 0, 18809 },
		{ "2024-02-29", 0, 19782 },
		{ "9999-12-31", 0, 2932896 },
		{ "1900-02-29", -1, 0 },
		{ "2023-02-29", -1, 0 },
		{ "2100-02-29", -1, 0 },
		{ "1899-12-31", -1, 0 },
		{ "2023-00-10", -1, 0 },
		{ "2023-12-32", -1, 0 },
		{ "2023-06-31", -1, 0 },
		{ "2023-6-30", -1, 0 },
		{ "2023-06-3", -1, 0 },
		{ "02023-06-30", -1, 0 },
		{ "2023-06-30 ", -1, 0 },
		{ "2023 06 30", -1, 0 },
		{ "2023-+6-30", -1, 0 },
		{ "", -1, 0 },
	};
	int32_t day;
	size_t i;

	(void)state;
	for (i = 0; i < NITEMS(cases); i++) {
		day = -42;
		if (conf_parse_date(cases[i].text, &day) != cases[i].ret) {
			fprintf(stderr, "\"%s\"\n", cases[i].text);
			fail();
		}
		if (cases[i].ret == 0)
			assert_int_equal(day, cases[i].day);
		else
			assert_int_equal(day, -42);	/* untouched */
	}
	assert_int_equal(conf_parse_date(NULL, &day), -1);
}

/*
 * A reload moves the reloadable detector keys, the receivers and the
 * explanations, and hands the old ones back for freeing.
 */
static void
test_apply_reloadable(void **state)
{
	struct conf running, fresh;

	(void)state;
	load_text_ok(&running, "[explanation \"old\"]\nkind = context\n"
	    "effective_from = 2020-01-01\n[redis]\nport = 7000\n");
	load_text_ok(&fresh, "[detector]\ndesign_or_office = 2\n"
	    "horizon = 52w\nreference_weeks = 200\nridge = 1\n"
	    "outlier_alerts = yes\nshrink_offices = 7\n"
	    "explain_before = 1w\n"
	    "[explanation \"new-1\"]\nkind = legislation\n"
	    "effective_from = 2021-01-01\n"
	    "[explanation \"new-2\"]\nkind = case_mix\n"
	    "effective_from = 2022-01-01\n[redis]\nport = 7001\n");
	conf_apply_reloadable(&running, &fresh);
	assert_float_equal(running.design_or_office, 2, 0);
	assert_int_equal(running.horizon_ms, INT64_C(364) * 86400000);
	assert_int_equal(running.reference_weeks, 200);
	assert_float_equal(running.ridge, 1, 0);
	assert_true(running.outlier_alerts);
	assert_float_equal(running.shrink_offices, 7, 0);
	assert_int_equal(running.explain_before_ms, INT64_C(7) * 86400000);
	assert_int_equal(running.redis_port, 7000);	/* needs a restart */
	assert_int_equal(running.nexplanations, 2);
	assert_string_equal(running.explanations[0].id, "new-1");
	assert_string_equal(running.explanations[1].id, "new-2");
	assert_int_equal(fresh.nexplanations, 1);
	assert_string_equal(fresh.explanations[0].id, "old");
	assert_float_equal(fresh.design_or_office, 1.5, 0);
	assert_int_equal(fresh.reference_weeks, 104);
	conf_free(&fresh);
	conf_free(&running);
}

/* The password is read at load from the file's first line. */
static void
test_password_file(void **state)
{
	struct conf c;
	char *cause = NULL;

	(void)state;
	conf_default(&c);
	assert_int_equal(conf_load(&c, DATA "password.conf", &cause), 0);
	assert_string_equal(c.redis_password_file, DATA "redis.password");
	assert_string_equal(c.redis_password, "correct horse battery staple");
	conf_free(&c);
	assert_null(c.redis_password);

	/* An empty value forgets both the file and the password. */
	load_text_ok(&c, "[redis]\npassword_file = " DATA "redis.password\n"
	    "password_file =\n");
	assert_null(c.redis_password_file);
	assert_null(c.redis_password);
	conf_free(&c);
}

/* conf_parse_duration on its own. */
static void
test_parse_duration(void **state)
{
	static const struct {
		const char	*text;
		int		 ret;
		int64_t		 ms;
	} cases[] = {
		{ "0", 0, 0 },
		{ "1", 0, 1000 },
		{ "500ms", 0, 500 },
		{ "0ms", 0, 0 },
		{ "2s", 0, 2000 },
		{ "5m", 0, 300000 },
		{ "3h", 0, 10800000 },
		{ "3d", 0, 259200000 },
		{ "2w", 0, 1209600000 },
		{ "10y", 0, INT64_C(315360000000) },
		{ "007s", 0, 7000 },
		{ "9223372036854775807ms", 0, INT64_MAX },
		{ "", -1, 0 },
		{ "s", -1, 0 },
		{ "ms", -1, 0 },
		{ "-1s", -1, 0 },
		{ "+1s", -1, 0 },
		{ "1.5s", -1, 0 },
		{ "5 s", -1, 0 },
		{ " 5s", -1, 0 },
		{ "5s ", -1, 0 },
		{ "5S", -1, 0 },
		{ "5sec", -1, 0 },
		{ "5ms5", -1, 0 },
		{ "5x", -1, 0 },
		{ "9223372036854775808ms", -1, 0 },
		{ "9223372036854775807s", -1, 0 },
		{ "300000000y", -1, 0 },
		{ "99999999999999999999999", -1, 0 },
	};
	int64_t ms;
	size_t i;

	(void)state;
	for (i = 0; i < NITEMS(cases); i++) {
		ms = -42;
		if (conf_parse_duration(cases[i].text, &ms) != cases[i].ret) {
			fprintf(stderr, "\"%s\"\n", cases[i].text);
			fail();
		}
		if (cases[i].ret == 0)
			assert_int_equal(ms, cases[i].ms);
		else
			assert_int_equal(ms, -42);	/* untouched */
	}
	assert_int_equal(conf_parse_duration(NULL, &ms), -1);
}

/* The benefits list: trimming, order, lookup by (name, len). */
static void
test_benefits(void **state)
{
	struct conf c;

	(void)state;
	load_text_ok(&c, "[benefits]\nlist =  b_2 ,a1,\tc  \n");
	assert_int_equal(c.nbenefits, 3);
	assert_string_equal(c.benefits[0], "b_2");
	assert_string_equal(c.benefits[1], "a1");
	assert_string_equal(c.benefits[2], "c");
	assert_int_equal(conf_benefit_index(&c, "a1", 2), 1);
	assert_int_equal(conf_benefit_index(&c, "c", 1), 2);
	assert_int_equal(conf_benefit_index(&c, "cx", 1), 2);	/* by len */
	assert_int_equal(conf_benefit_index(&c, "a", 1), -1);
	assert_int_equal(conf_benefit_index(&c, "b_2x", 4), -1);
	assert_int_equal(conf_benefit_index(&c, "", 0), -1);
	conf_free(&c);

	/* Sixteen names of 32 characters, and a failed list keeps the old. */
	load_text_ok(&c, "[benefits]\nlist = a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,"
	    "abcdefghijabcdefghijabcdefghij_2\n");
	assert_int_equal(c.nbenefits, 16);
	assert_string_equal(c.benefits[15], "abcdefghijabcdefghijabcdefghij_2");
	conf_free(&c);

	conf_default(&c);
	assert_int_equal(conf_benefit_index(&c, "sjukersattning", 14), 2);
	conf_free(&c);
}

static void
collect_key(const char *key, void *arg)
{
	char *keys = arg;

	strcat(keys, key);
	strcat(keys, " ");
}

/* Only non-reloadable differences are reported, in table order. */
static void
test_changed_nonreloadable(void **state)
{
	struct conf a, b;
	char keys[512];

	(void)state;
	conf_default(&a);
	conf_default(&b);
	keys[0] = '\0';
	assert_int_equal(conf_changed_nonreloadable(&a, &b, collect_key, keys),
	    0);
	assert_string_equal(keys, "");

	/* Reloadable keys do not count. */
	b.log_level = LOG_DEBUG;
	b.auth = false;
	free(b.tokens_file);
	b.tokens_file = xstrdup("tokens");
	b.http_max_body = 2048;
	b.false_alarms_per_year = 3;
	b.design_or_office = 2;
	b.design_or_national = 2;
	b.relevant_or = 2;
	b.horizon_ms = 1;
	b.reference_weeks = 60;
	b.min_reference_weeks = 20;
	b.learning_weeks = 2;
	b.ridge = 1;
	b.explain_before_ms = 0;
	b.explain_after_ms = 0;
	b.evaluate_every_ms = 1;
	b.outlier_alerts = true;
	b.shrink_offices = 1;
	b.historical_age_ms = 1;
	b.checkpoint_interval_ms = 1;
	assert_int_equal(conf_changed_nonreloadable(&a, &b, collect_key, keys),
	    0);

	b.redis_port = 1;
	free(b.stream);
	b.stream = xstrdup("other");
	b.redis_socket = xstrdup("/run/r.sock");	/* NULL before */
	b.records = false;
	b.block_ms = 11;
	b.http_max_body = 4096;
	assert_int_equal(conf_changed_nonreloadable(&a, &b, collect_key, keys),
	    5);
	assert_string_equal(keys, "redis.port redis.socket redis.stream "
	    "redis.block state.records ");
	conf_free(&b);

	/* The benefits list as a whole, and the password behind its file. */
	conf_default(&b);
	free(b.benefits[3]);
	b.nbenefits = 3;
	b.redis_password = xstrdup("new");
	keys[0] = '\0';
	assert_int_equal(conf_changed_nonreloadable(&a, &b, NULL, NULL), 2);
	assert_int_equal(conf_changed_nonreloadable(&a, &b, collect_key, keys),
	    2);
	assert_string_equal(keys, "redis.password_file benefits.list ");
	conf_free(&b);

	/* Same length, different name. */
	conf_default(&b);
	free(b.benefits[0]);
	b.benefits[0] = xstrdup("other");
	assert_int_equal(conf_changed_nonreloadable(&a, &b, NULL, NULL), 1);
	conf_free(&b);
	conf_free(&a);
}

/* [indicator "NAME"]: every key, in file order, defaults left 0/NULL. */
static void
test_indicators_good(void **state)
{
	const struct conf_indicator *ci;
	struct conf c;
	char *cause = NULL;

	(void)state;
	conf_default(&c);
	if (conf_load(&c, DATA "good-indicators.conf", &cause) != 0) {
		fprintf(stderr, "%s\n", cause);
		free(cause);
		fail();
	}
	assert_int_equal(c.nindicators, 6);
	ci = &c.indicators[0];
	assert_string_equal(ci->name, "reconsideration");
	assert_string_equal(ci->event, "reconsideration");
	assert_null(ci->field);
	assert_string_equal(ci->yes, "changed");
	assert_string_equal(ci->no, "unchanged");
	assert_null(ci->checkpoint);
	assert_null(ci->changed_to);
	assert_string_equal(ci->label, "change rate at reconsideration");
	assert_string_equal(ci->description,
	    "How often a reconsidered decision is changed.");
	assert_null(ci->stream);
	assert_float_equal(ci->design_or_office, 0, 0);
	assert_float_equal(ci->design_or_national, 0, 0);
	assert_float_equal(ci->budget_weight, 0, 0);
	assert_false(ci->alerts_off);
	assert_int_equal(ci->line, 4);

	ci = &c.indicators[1];
	assert_string_equal(ci->name, "appeal");
	assert_string_equal(ci->field, "outcome");
	assert_float_equal(ci->design_or_office, 2, 0);
	assert_null(ci->description);

	ci = &c.indicators[2];
	assert_string_equal(ci->event, "assessment");
	assert_string_equal(ci->yes, "late");
	assert_null(ci->checkpoint);	/* commented out */

	ci = &c.indicators[3];
	assert_string_equal(ci->name, "supplement");
	assert_string_equal(ci->field, "supplement_requested");
	assert_true(ci->alerts_off);

	ci = &c.indicators[4];
	assert_string_equal(ci->checkpoint, "180, 365");
	assert_float_equal(ci->design_or_national, 1.3, 0);
	assert_float_equal(ci->budget_weight, 0.5, 0);
	assert_string_equal(ci->stream, "stabild:assessments");
	assert_null(ci->label);

	ci = &c.indicators[5];
	assert_string_equal(ci->changed_to, "rejected");

	assert_int_equal(c.nroutes, 1);
	assert_string_equal(c.routes[0].indicators, "appeal, rejection");
	assert_int_equal(c.nexplanations, 1);
	assert_string_equal(c.explanations[0].indicators, "supplement");
	conf_free(&c);
}

/* Each error of an indicator section, at its line. */
static void
test_indicators_bad(void **state)
{
	static const struct {
		const char	*file;
		int		 line;
		const char	*error;
	} cases[] = {
		{ "bad-indicator-event.conf", 2, "indicator \"recon\": event: "
		  "'ruling' is not decision or reconsideration or appeal or "
		  "assessment" },
		{ "bad-indicator-missing-event.conf", 1,
		  "indicator \"recon\": missing event" },
		{ "bad-indicator-missing-yes.conf", 3,
		  "indicator \"recon\": missing yes" },
		{ "bad-indicator-missing-no.conf", 1,
		  "indicator \"recon\": missing no" },
		{ "bad-indicator-yes-value.conf", 3, "yes: 'rejected' is not "
		  "changed or unchanged, the outcomes of event "
		  "reconsideration" },
		{ "bad-indicator-no-value.conf", 5, "no: 'granted' is not "
		  "on_time or late, the outcomes of event assessment" },
		{ "bad-indicator-supplement-value.conf", 4, "yes: 'maybe' is "
		  "not yes or no, the values of field supplement_requested" },
		{ "bad-indicator-both.conf", 4,
		  "'changed' is in both yes and no" },
		{ "bad-indicator-checkpoint.conf", 3,
		  "checkpoint is for event assessment only" },
		{ "bad-indicator-checkpoint-value.conf", 5,
		  "checkpoint: '100' is not 90 or 180 or 365" },
		{ "bad-indicator-changed-to.conf", 5,
		  "changed_to is for event reconsideration only" },
		{ "bad-indicator-field.conf", 3, "indicator \"appeal\": field "
		  "supplement_requested is for event decision only" },
		{ "bad-indicator-stream.conf", 7,
		  "stream must not be redis.deadletter" },
		{ "bad-indicator-dup.conf", 6,
		  "indicator \"recon\" is already defined at line 1" },
		{ "bad-indicator-dup-key.conf", 3,
		  "indicator \"recon\": event is given twice" },
		{ "bad-indicator-name.conf", 1, "a name is a lower-case letter" },
		{ "bad-indicator-rejection.conf", 1, "the name is reserved" },
		{ "bad-indicator-unknown-key.conf", 3,
		  "unknown key 'threshold' in section [indicator \"recon\"]" },
		{ "bad-indicator-weight.conf", 5,
		  "budget_weight: 0 must be greater than 0" },
		{ "bad-indicator-too-many.conf", 61, "more than 15 indicators" },
		{ "bad-indicator-route.conf", 5, "route \"r\": indicators: "
		  "'appeal' is not rejection or a configured indicator" },
		{ "bad-indicator-explanation.conf", 4, "explanation \"x\": "
		  "indicators: 'recon' is not rejection or a configured "
		  "indicator" },
	};
	static const struct {
		const char	*text;
		int		 line;
		const char	*error;
	} texts[] = {
		{ "[indicator \"all\"]\n", 1, "the name is reserved" },
		{ "[indicator \"a23456789012345678901234567890123\"]\n", 1,
		  "expected [indicator \"NAME\"]" },
		{ "[indicator \"9a\"]\n", 1, "a name is a lower-case letter" },
		{ "[indicator \"a\"]\nevent = appeal\nyes = changed\n"
		  "no = unchanged\nlabel = "
		  "12345678901234567890123456789012345678901234567890"
		  "123456789012345\n", 5, "label is longer than 64 bytes" },
		{ "[indicator \"a\"]\nevent = appeal\nyes = changed\n"
		  "no = unchanged\nchanged_to = granted\n", 5,
		  "changed_to is for event reconsideration only" },
		{ "[indicator \"a\"]\nevent = decision\nyes = changed\n"
		  "no = granted\n", 3, "'changed' is not granted or rejected or "
		  "partial or dismissed" },
		{ "[indicator \"a\"]\nevent = appeal\nyes = changed\n"
		  "no = unchanged\ndesign_or_office = 1\n", 5,
		  "design_or_office: 1 must be at least 1.01" },
		{ "[indicator \"a\"]\nevent = appeal\nyes = changed\n"
		  "no = unchanged\nalerts = sometimes\n", 5,
		  "alerts: 'sometimes' is not a boolean" },
		{ "[indicator \"a\"]\nevent = appeal\nyes = changed, changed\n"
		  "no = unchanged\n", 3, "'changed' is listed twice" },
		{ "[route \"r\"]\nreceivers =\nindicators = Bad\n", 3,
		  "'Bad' is not an indicator name" },
		{ "[indicator \"a\"]\nevent = appeal\nyes = changed\n"
		  "no = unchanged\nfield = detail\n", 5,
		  "field: 'detail' is not outcome or supplement_requested" },
	};
	struct conf c;
	char *path, *cause;
	size_t i;

	(void)state;
	for (i = 0; i < NITEMS(cases); i++) {
		path = xasprintf(DATA "%s", cases[i].file);
		conf_default(&c);
		cause = NULL;
		assert_int_equal(conf_load(&c, path, &cause), -1);
		assert_cause(cause, path, cases[i].line, cases[i].error);
		free(cause);
		conf_free(&c);
		free(path);
	}
	for (i = 0; i < NITEMS(texts); i++) {
		path = write_temp(texts[i].text);
		conf_default(&c);
		cause = NULL;
		assert_int_equal(conf_load(&c, path, &cause), -1);
		assert_cause(cause, path, texts[i].line, texts[i].error);
		free(cause);
		conf_free(&c);
		unlink(path);
		free(path);
	}
}

/*
 * Reload: label, description, alerts and budget_weight apply at once;
 * anything else about an indicator, or adding, removing or reordering
 * one, needs a restart and is reported as such.
 */
static void
test_indicators_reload(void **state)
{
	static const char base[] =
	    "[indicator \"recon\"]\nevent = reconsideration\n"
	    "yes = changed\nno = unchanged\nlabel = old label\n"
	    "[indicator \"court\"]\nevent = appeal\nyes = changed\n"
	    "no = unchanged\n";
	struct conf a, b;
	char keys[512];

	(void)state;
	load_text_ok(&a, base);
	load_text_ok(&b, base);
	keys[0] = '\0';
	assert_int_equal(conf_changed_nonreloadable(&a, &b, collect_key, keys),
	    0);
	conf_free(&b);

	/* Reloadable keys only: nothing to report, and they move over. */
	load_text_ok(&b, "[indicator \"recon\"]\nevent = reconsideration\n"
	    "yes = changed\nno = unchanged\nlabel = new label\n"
	    "description = Words.\nalerts = off\nbudget_weight = 2\n"
	    "[indicator \"court\"]\nevent = appeal\nyes = changed\n"
	    "no = unchanged\n");
	assert_int_equal(conf_changed_nonreloadable(&a, &b, collect_key, keys),
	    0);
	conf_apply_reloadable(&a, &b);
	assert_string_equal(a.indicators[0].label, "new label");
	assert_string_equal(a.indicators[0].description, "Words.");
	assert_true(a.indicators[0].alerts_off);
	assert_float_equal(a.indicators[0].budget_weight, 2, 0);
	assert_string_equal(b.indicators[0].label, "old label");
	assert_null(b.indicators[0].description);
	assert_false(b.indicators[0].alerts_off);
	assert_int_equal(a.nindicators, 2);
	conf_free(&b);

	/* What it counts, and where from, need a restart. */
	load_text_ok(&b, "[indicator \"recon\"]\nevent = reconsideration\n"
	    "yes = changed\nno = unchanged\nchanged_to = rejected\n"
	    "stream = s2\n"
	    "[indicator \"court\"]\nevent = appeal\nyes = unchanged\n"
	    "no = changed\ndesign_or_office = 3\n");
	keys[0] = '\0';
	assert_int_equal(conf_changed_nonreloadable(&a, &b, collect_key, keys),
	    5);
	assert_string_equal(keys, "indicator.recon.changed_to "
	    "indicator.recon.stream indicator.court.yes indicator.court.no "
	    "indicator.court.design_or_office ");
	/* The running ones keep what they count. */
	conf_apply_reloadable(&a, &b);
	assert_null(a.indicators[0].changed_to);
	assert_string_equal(a.indicators[1].yes, "changed");
	conf_free(&b);

	/* Removed, added, reordered. */
	load_text_ok(&b, "[indicator \"court\"]\nevent = appeal\n"
	    "yes = changed\nno = unchanged\n"
	    "[indicator \"recon\"]\nevent = reconsideration\n"
	    "yes = changed\nno = unchanged\n"
	    "[indicator \"late\"]\nevent = assessment\nyes = late\n"
	    "no = on_time\n");
	keys[0] = '\0';
	assert_int_equal(conf_changed_nonreloadable(&a, &b, collect_key, keys),
	    3);
	assert_string_equal(keys, "indicator.recon indicator.court "
	    "indicator.court indicator.recon indicator.late ");
	conf_apply_reloadable(&a, &b);
	assert_string_equal(a.indicators[0].name, "recon");
	assert_int_equal(a.nindicators, 2);
	conf_free(&b);
	conf_free(&a);
}

/* The key table: names, help and which keys reload. */
static void
test_key_table(void **state)
{
	static const char *const reloadable[] = {
		"http.tokens_file", "http.auth", "http.max_body",
		"http.timeout", "http.chartjs_dir", "http.public_url",
		"state.checkpoint_interval",
		"state.checkpoint_events", "state.checkpoint_share", "log.level",
		"detector.false_alarms_per_year", "detector.design_or_office",
		"detector.design_or_national", "detector.relevant_or",
		"detector.horizon", "detector.reference_weeks",
		"detector.min_reference_weeks", "detector.learning_weeks",
		"detector.ridge", "detector.explain_before",
		"detector.explain_after", "detector.evaluate_every",
		"detector.outlier_alerts", "detector.shrink_offices",
		"alerts.historical_age",
		"alerts.delivery_expiry", "alerts.retry_max",
		"alerts.expired_keep", "alerts.expired_max_age",
		"alerts.max_inflight",
		"receiver.type", "receiver.url", "receiver.secret_file",
		"receiver.bearer_token_file", "receiver.headers_file",
		"receiver.ca_file",
		"receiver.connect_timeout", "receiver.timeout",
		"receiver.starttls", "receiver.auth_file", "receiver.from",
		"receiver.to", "receiver.cc", "receiver.template",
		"route.receivers", "route.offices", "route.benefits",
		"route.kinds", "route.scopes", "route.directions",
		"route.classifications", "route.group_wait",
		"route.repeat_interval", "route.continue",
		"explanation.kind", "explanation.effective_from",
		"explanation.effective_to", "explanation.benefits",
		"explanation.kinds", "explanation.offices",
		"explanation.reference", "explanation.description",
		"route.indicators", "explanation.indicators",
		"indicator.label", "indicator.description", "indicator.alerts",
		"indicator.budget_weight",
	};
	const char *name, *dot;
	size_t i, j, n = conf_key_count(), nreload = 0;
	bool want;

	(void)state;
	assert_int_equal(n, 112);
	for (i = 0; i < n; i++) {
		name = conf_key_name(i);
		assert_non_null(name);
		dot = strchr(name, '.');
		assert_non_null(dot);
		assert_true(dot > name && dot[1] != '\0');
		assert_non_null(conf_key_help(i));
		assert_true(strlen(conf_key_help(i)) > 10);
		for (j = 0; j < i; j++)
			assert_string_not_equal(name, conf_key_name(j));
		want = false;
		for (j = 0; j < NITEMS(reloadable); j++) {
			if (strcmp(name, reloadable[j]) == 0)
				want = true;
		}
		assert_int_equal(conf_key_reloadable(i), want);
		nreload += want;
	}
	assert_int_equal(nreload, NITEMS(reloadable));
	assert_null(conf_key_name(n));
	assert_null(conf_key_help(n));
	assert_false(conf_key_reloadable(n));
}

/* The example file loads and sets exactly the defaults. */
static void
test_example_file(void **state)
{
	struct conf def, c;
	char *cause = NULL;

	(void)state;
	conf_default(&def);
	conf_default(&c);
	if (conf_load(&c, "config/stabild.conf", &cause) != 0) {
		fprintf(stderr, "%s\n", cause);
		free(cause);
		fail();
	}
	assert_int_equal(conf_changed_nonreloadable(&def, &c, NULL, NULL), 0);
	assert_int_equal(c.auth, def.auth);
	assert_int_equal(c.http_max_body, def.http_max_body);
	assert_int_equal(c.http_timeout_ms, def.http_timeout_ms);
	assert_int_equal(c.checkpoint_interval_ms, def.checkpoint_interval_ms);
	assert_int_equal(c.checkpoint_events, def.checkpoint_events);
	assert_int_equal(c.log_level, def.log_level);
	assert_float_equal(c.false_alarms_per_year, def.false_alarms_per_year,
	    0);
	assert_float_equal(c.design_or_office, def.design_or_office, 0);
	assert_float_equal(c.design_or_national, def.design_or_national, 0);
	assert_float_equal(c.relevant_or, def.relevant_or, 0);
	assert_int_equal(c.horizon_ms, def.horizon_ms);
	assert_int_equal(c.reference_weeks, def.reference_weeks);
	assert_int_equal(c.min_reference_weeks, def.min_reference_weeks);
	assert_int_equal(c.learning_weeks, def.learning_weeks);
	assert_float_equal(c.ridge, def.ridge, 0);
	assert_int_equal(c.explain_before_ms, def.explain_before_ms);
	assert_int_equal(c.explain_after_ms, def.explain_after_ms);
	assert_int_equal(c.evaluate_every_ms, def.evaluate_every_ms);
	assert_int_equal(c.outlier_alerts, def.outlier_alerts);
	assert_float_equal(c.shrink_offices, def.shrink_offices, 0);
	assert_int_equal(c.historical_age_ms, def.historical_age_ms);
	assert_null(c.tokens_file);
	assert_int_equal(c.nreceivers, 0);
	assert_int_equal(c.nexplanations, 0);
	/* A default install stays rejection-only. */
	assert_int_equal(c.nindicators, 0);
	conf_free(&c);
	conf_free(&def);
}

/* A failed load leaves a struct that conf_free cleans up, and reloading
 * into a fresh struct works. */
static void
test_free_after_failure(void **state)
{
	struct conf c;
	char *cause = NULL;

	(void)state;
	/* Fails after strings, a receiver and the password were set. */
	assert_int_equal(load_text(&c, "[redis]\nhost = h\npassword_file = "
	    DATA "redis.password\n[receiver \"a\"]\ntype = webhook\n"
	    "url = http://a\n[http]\nport = x\n", &cause), -1);
	assert_non_null(strstr(cause, ":8: port: 'x' is not an integer"));
	assert_string_equal(c.redis_host, "h");	/* partly applied */
	free(cause);
	conf_free(&c);
	assert_null(c.redis_password);
	assert_int_equal(c.nreceivers, 0);
}

/* [ha] and redis.sentinels: defaults, good values, FILE:LINE errors. */
static void
test_ha_keys(void **state)
{
	static const struct {
		const char	*text;
		int		 line;
		const char	*error;
	} cases[] = {
		{ "[ha]\nenabled = on\n", 2, "ha.enabled needs ha.instance" },
		{ "[ha]\ninstance = a\n", 2, "instance is set but ha.enabled "
		  "is off" },
		{ "[ha]\nenabled = on\ninstance = a/b\n", 3, "instance: 1 to "
		  "64 characters" },
		{ "[ha]\nenabled = on\ninstance = "
		  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		  "\n", 3, "instance: 1 to 64" },
		{ "[ha]\nenabled = on\ninstance = a\nprefix = a b\n", 4,
		  "prefix: 1 to 64 printable" },
		{ "[ha]\nenabled = on\ninstance = a\nprefix = stabild:\n", 4,
		  "redis.stream and redis.deadletter must not start with it" },
		{ "[ha]\nenabled = on\ninstance = a\nheartbeat = 6s\n", 4,
		  "peer_timeout must be at least twice the heartbeat" },
		{ "[ha]\nheartbeat = 50ms\n", 2, "below the minimum 100ms" },
		{ "[ha]\nlog_keep = 1h\n", 2, "below the minimum" },
		{ "[ha]\nunclaimed_after = 2h\n", 2, "above the maximum" },
		{ "[redis]\nsentinels = a:1\n", 2, "sentinels need master_name" },
		{ "[redis]\nmaster_name = m\n", 2, "master_name is only used "
		  "with sentinels" },
		{ "[redis]\nmaster_name = m\nsentinels = a\n", 3,
		  "'a' is not host:port" },
		{ "[redis]\nmaster_name = m\nsentinels = a:0\n", 3,
		  "is not host:port" },
		{ "[redis]\nmaster_name = m\nsentinels = ::1:5\n", 3,
		  "is not host:port" },
		{ "[redis]\nmaster_name = m\nsentinels = a:1, b:2, a:1\n", 3,
		  "'a:1' is given twice" },
		{ "[redis]\nmaster_name = m\nsentinels = a:1,b:1,c:1,d:1,e:1,"
		  "f:1,g:1,h:1,i:1,j:1,k:1,l:1,m:1,n:1,o:1,p:1,q:1\n", 3,
		  "more than 16" },
		{ "[redis]\nport = 6380\nmaster_name = m\nsentinels = a:1\n", 2,
		  "port: the master is found through redis.sentinels" },
		{ "[redis]\nsentinels = a:1\nmaster_name = m m\n", 3,
		  "master_name: 1 to 64 printable" },
	};
	struct conf c;
	char *path, *cause, host[64];
	char d1[CONF_DIGEST_LEN + 1], d2[CONF_DIGEST_LEN + 1];
	size_t i;
	int port;

	(void)state;
	conf_default(&c);
	assert_false(c.ha_enabled);
	assert_null(c.ha_instance);
	assert_string_equal(c.ha_prefix, "stabild:ha:");
	assert_int_equal(c.ha_heartbeat_ms, 2000);
	assert_int_equal(c.ha_peer_timeout_ms, 10000);
	assert_int_equal(c.ha_claim_ttl_ms, 30000);
	assert_int_equal(c.ha_unclaimed_after_ms, 60000);
	assert_int_equal(c.ha_tick_interval_ms, 60000);
	assert_int_equal(c.ha_log_keep_ms, 30 * 86400000LL);
	assert_int_equal(c.ha_write_timeout_ms, 2000);
	assert_null(c.redis_sentinels);
	assert_null(c.redis_master_name);
	conf_digest(&c, d1);
	assert_int_equal(strlen(d1), CONF_DIGEST_LEN);
	conf_free(&c);

	/* The group follows the instance unless it is given. */
	load_text_ok(&c, "[ha]\nenabled = on\ninstance = b.2\n"
	    "unclaimed_after = 0\n[redis]\nsentinels = 10.0.0.1:26379, "
	    "[::1]:26380\nmaster_name = stabild\n");
	assert_true(c.ha_enabled);
	assert_string_equal(c.ha_instance, "b.2");
	assert_string_equal(c.group, "stabild-b.2");
	assert_int_equal(c.ha_unclaimed_after_ms, 0);
	conf_digest(&c, d2);
	/* Neither the instance nor the Redis address is in the digest. */
	assert_string_equal(d1, d2);
	conf_free(&c);
	load_text_ok(&c, "[redis]\ngroup = g\n[ha]\nenabled = on\n"
	    "instance = b\n");
	assert_string_equal(c.group, "g");
	conf_free(&c);
	/* What the state depends on is. */
	load_text_ok(&c, "[detector]\nridge = 0.02\n");
	conf_digest(&c, d2);
	assert_string_not_equal(d1, d2);
	conf_free(&c);
	load_text_ok(&c, "[route \"r\"]\nreceivers =\n");
	conf_digest(&c, d2);
	assert_string_not_equal(d1, d2);
	conf_free(&c);

	assert_int_equal(conf_parse_hostport("[fe80::1]:26379", 15, host,
	    sizeof host, &port), 0);
	assert_string_equal(host, "fe80::1");
	assert_int_equal(port, 26379);
	assert_int_equal(conf_parse_hostport("h:1x", 4, host, sizeof host,
	    &port), -1);
	assert_int_equal(conf_parse_hostport(":1", 2, host, sizeof host,
	    &port), -1);
	assert_int_equal(conf_parse_hostport("[]:1", 4, host, sizeof host,
	    &port), -1);

	for (i = 0; i < NITEMS(cases); i++) {
		path = write_temp(cases[i].text);
		conf_default(&c);
		cause = NULL;
		if (conf_load(&c, path, &cause) == 0) {
			fprintf(stderr, "loaded: %s", cases[i].text);
			fail();
		}
		assert_cause(cause, path, cases[i].line, cases[i].error);
		free(cause);
		conf_free(&c);
		unlink(path);
		free(path);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_good_values),
		cmocka_unit_test(test_bool_values),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_good_file),
		cmocka_unit_test(test_file_encodings),
		cmocka_unit_test(test_receiver_names),
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_explanations_good),
		cmocka_unit_test(test_explanations_bad),
		cmocka_unit_test(test_explanations_max),
		cmocka_unit_test(test_parse_date),
		cmocka_unit_test(test_apply_reloadable),
		cmocka_unit_test(test_password_file),
		cmocka_unit_test(test_parse_duration),
		cmocka_unit_test(test_benefits),
		cmocka_unit_test(test_changed_nonreloadable),
		cmocka_unit_test(test_indicators_good),
		cmocka_unit_test(test_indicators_bad),
		cmocka_unit_test(test_indicators_reload),
		cmocka_unit_test(test_key_table),
		cmocka_unit_test(test_example_file),
		cmocka_unit_test(test_free_after_failure),
		cmocka_unit_test(test_ha_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
