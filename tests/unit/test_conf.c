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
	assert_int_equal(c.checkpoint_interval_ms, 2000);
	assert_int_equal(c.checkpoint_events, 200000);
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
	assert_int_equal(c.historical_age_ms, INT64_C(30) * 86400000);
	assert_int_equal(c.nreceivers, 0);
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
	    "records = false\n"
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

	/* An empty value unsets a key that has no default; last one wins. */
	load_text_ok(&c, "[redis]\nsocket = /run/a\nsocket =\nhost = a\n"
	    "host = b\n");
	assert_null(c.redis_socket);
	assert_string_equal(c.redis_host, "b");
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
	conf_free(&c);
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
	    "url = smtp://mail.example:25\n\n[receiver \"%s-\"]\n"
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

/* The key table: names, help and which keys reload. */
static void
test_key_table(void **state)
{
	static const char *const reloadable[] = {
		"http.tokens_file", "http.auth", "http.max_body",
		"http.timeout", "state.checkpoint_interval",
		"state.checkpoint_events", "log.level",
		"detector.false_alarms_per_year", "alerts.historical_age",
		"receiver.type", "receiver.url", "receiver.secret_file",
	};
	const char *name, *dot;
	size_t i, j, n = conf_key_count(), nreload = 0;
	bool want;

	(void)state;
	assert_int_equal(n, 35);
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
	assert_int_equal(c.historical_age_ms, def.historical_age_ms);
	assert_null(c.tokens_file);
	assert_int_equal(c.nreceivers, 0);
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
		cmocka_unit_test(test_password_file),
		cmocka_unit_test(test_parse_duration),
		cmocka_unit_test(test_benefits),
		cmocka_unit_test(test_changed_nonreloadable),
		cmocka_unit_test(test_key_table),
		cmocka_unit_test(test_example_file),
		cmocka_unit_test(test_free_after_failure),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
