/*
 * Tests for auth.c: the tokens file (errors with their line, never with
 * the token) and role lookup from Authorization header values.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "auth.h"
#include "log.h"
#include "xmalloc.h"

#define NITEMS(a)	(sizeof (a) / sizeof (a)[0])
#define DATA		"tests/data/conf/"

/* Roles of header values against the good tokens file. */
static void
test_roles(void **state)
{
	static const struct {
		const char	*header;
		enum auth_role	 want;
	} cases[] = {
		{ "Bearer reader-token-0123456789", AUTH_READ },
		{ "Bearer writer-token-0123456789abcdef", AUTH_WRITE },
		{ "bearer writer-token-0123456789abcdef", AUTH_WRITE },
		{ "BEARER reader-token-0123456789", AUTH_READ },
		/* Listed as read and as write: the higher role wins. */
		{ "Bearer both-roles-token-0123456789", AUTH_WRITE },
		{ "Bearer 16-chars-token!!", AUTH_READ },
		{ "Bearer no-newline-token-0123456789", AUTH_READ },
		{ "Bearer reader-token-012345678", AUTH_NONE },	/* prefix */
		{ "Bearer reader-token-0123456789x", AUTH_NONE },
		{ "Bearer reader-token-0123456788", AUTH_NONE },
		{ "Bearer Reader-token-0123456789", AUTH_NONE },
		{ "Bearer  reader-token-0123456789", AUTH_NONE },
		{ "Bearer reader-token-0123456789 ", AUTH_NONE },
		{ "Bearer\treader-token-0123456789", AUTH_NONE },
		{ "Basic reader-token-0123456789", AUTH_NONE },
		{ "Bearerreader-token-0123456789", AUTH_NONE },
		{ "reader-token-0123456789", AUTH_NONE },
		{ "Bearer ", AUTH_NONE },
		{ "Bearer", AUTH_NONE },
		{ "", AUTH_NONE },
		{ NULL, AUTH_NONE },
	};
	struct auth *a;
	char *cause = NULL, *header;
	size_t i;

	(void)state;
	a = auth_load(DATA "tokens", &cause);
	if (a == NULL) {
		fprintf(stderr, "%s\n", cause);
		free(cause);
		fail();
	}
	assert_null(cause);
	assert_int_equal(auth_count(a), 7);
	for (i = 0; i < NITEMS(cases); i++) {
		if (auth_role_of(a, cases[i].header) != cases[i].want) {
			fprintf(stderr, "header \"%s\"\n", cases[i].header);
			fail();
		}
	}

	/* The longest token allowed; one character short does not match. */
	header = xmalloc(7 + 256 + 1);
	memcpy(header, "Bearer ", 7);
	memset(header + 7, 'L', 256);
	header[7 + 256] = '\0';
	assert_int_equal(auth_role_of(a, header), AUTH_WRITE);
	header[7 + 255] = '\0';
	assert_int_equal(auth_role_of(a, header), AUTH_NONE);
	free(header);

	auth_free(a);
}

/* Errors name file and line and never quote the token. */
static void
test_load_errors(void **state)
{
	static const struct {
		const char	*file;
		int		 line;
		const char	*error;
		const char	*secret;	/* must not be in the message */
	} cases[] = {
		{ "tokens-short", 3, "shorter than 16", "shorttoken12345" },
		{ "tokens-role", 2, "role read or write",
		  "admin-token-0123456789" },
		{ "tokens-bare", 1, "role read or write",
		  "bare-token-0123456789abcdef" },
		{ "tokens-missing", 2, "missing token", "write" },
		{ "tokens-extra", 1, "unexpected text after the token",
		  "extra-token-0123456789" },
		{ "tokens-control", 1, "not printable ASCII", "ctrl-token" },
		{ "tokens-nonascii", 1, "not printable ASCII", "t\303\266ken" },
		{ "tokens-long", 2, "longer than 256", "LLLLLLLL" },
		{ "tokens-nul", 1, "NUL byte", "nul-token" },
	};
	struct auth *a;
	char *cause, *prefix, *path;
	size_t i;

	(void)state;
	for (i = 0; i < NITEMS(cases); i++) {
		path = xasprintf(DATA "%s", cases[i].file);
		cause = NULL;
		a = auth_load(path, &cause);
		assert_null(a);
		assert_non_null(cause);
		free(path);
		prefix = xasprintf(DATA "%s:%d: ", cases[i].file,
		    cases[i].line);
		if (strncmp(cause, prefix, strlen(prefix)) != 0 ||
		    strstr(cause, cases[i].error) == NULL ||
		    strstr(cause, cases[i].secret) != NULL) {
			fprintf(stderr, "got \"%s\"\nwant \"%s\" and \"%s\"\n",
			    cause, prefix, cases[i].error);
			fail();
		}
		free(prefix);
		free(cause);
	}
}

/* Missing and empty files, and the empty set. */
static void
test_empty(void **state)
{
	struct auth *a;
	char *cause = NULL;

	(void)state;
	a = auth_load(DATA "no-such-tokens", &cause);
	assert_null(a);
	assert_string_equal(cause, DATA "no-such-tokens: No such file or "
	    "directory");
	free(cause);

	cause = NULL;
	a = auth_load(DATA "tokens-empty", &cause);
	assert_non_null(a);
	assert_null(cause);
	assert_int_equal(auth_count(a), 0);
	assert_int_equal(auth_role_of(a, "Bearer reader-token-0123456789"),
	    AUTH_NONE);
	auth_free(a);

	a = auth_empty();
	assert_int_equal(auth_count(a), 0);
	assert_int_equal(auth_role_of(a, "Bearer "), AUTH_NONE);
	auth_free(a);

	assert_int_equal(auth_count(NULL), 0);
	assert_int_equal(auth_role_of(NULL, "Bearer x"), AUTH_NONE);
	auth_free(NULL);
}

/* A template for mkstemp in $TMPDIR; the caller frees it. */
static char *
temp_name(void)
{
	const char *dir = getenv("TMPDIR");

	return xasprintf("%s/test_auth.XXXXXX", dir != NULL ? dir : "/tmp");
}

/* Load path with stderr captured; returns what was logged. */
static char *
load_captured(const char *path, struct auth **a)
{
	char *tmp, *cause = NULL, buf[1024];
	int fd, saved;
	ssize_t n;

	tmp = temp_name();
	fd = mkstemp(tmp);
	assert_true(fd != -1);
	unlink(tmp);
	free(tmp);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	assert_true(saved != -1);
	assert_true(dup2(fd, STDERR_FILENO) != -1);
	*a = auth_load(path, &cause);
	fflush(stderr);
	assert_true(dup2(saved, STDERR_FILENO) != -1);
	close(saved);
	assert_null(cause);
	assert_non_null(*a);
	n = pread(fd, buf, sizeof buf - 1, 0);
	assert_true(n >= 0);
	buf[n] = '\0';
	close(fd);
	return xstrdup(buf);
}

/* A tokens file others can read is warned about, by name only. */
static void
test_mode_warning(void **state)
{
	char *path = temp_name(), *logged;
	struct auth *a;
	FILE *f;
	int fd;

	(void)state;
	log_set_level(LOG_WARNING);
	fd = mkstemp(path);
	assert_true(fd != -1);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs("write secret-token-0123456789\n", f);
	assert_int_equal(fclose(f), 0);

	assert_int_equal(chmod(path, 0640), 0);
	logged = load_captured(path, &a);
	assert_non_null(strstr(logged, "can be read by group or others"));
	assert_non_null(strstr(logged, path));
	assert_null(strstr(logged, "secret-token"));
	assert_int_equal(auth_role_of(a, "Bearer secret-token-0123456789"),
	    AUTH_WRITE);
	auth_free(a);
	free(logged);

	assert_int_equal(chmod(path, 0600), 0);
	logged = load_captured(path, &a);
	assert_string_equal(logged, "");
	auth_free(a);
	free(logged);
	unlink(path);
	free(path);
	log_set_level(LOG_ERR);
}

static void
test_role_names(void **state)
{
	(void)state;
	assert_string_equal(auth_role_name(AUTH_NONE), "none");
	assert_string_equal(auth_role_name(AUTH_READ), "read");
	assert_string_equal(auth_role_name(AUTH_WRITE), "write");
	assert_true(AUTH_WRITE > AUTH_READ && AUTH_READ > AUTH_NONE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roles),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_mode_warning),
		cmocka_unit_test(test_role_names),
	};

	/* The data files come out of git group-readable: keep quiet. */
	log_init(LOG_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
