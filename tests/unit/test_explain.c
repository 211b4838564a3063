/*
 * Tests for explain.c: the JSON rules of contract §2, the round trip to
 * JSON and back, the matching rules of detection.md §7, the registry, its
 * state file, and the entries of the config file; an entry's indicators
 * in each of them.
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

#include <jansson.h>

#include "conf.h"
#include "explain.h"
#include "xmalloc.h"

#define NITEMS(a)	(sizeof (a) / sizeof (a)[0])

static const char *const benefits[] = {
	"sjukpenning", "rehabiliteringsersattning", "sjukersattning",
	"aktivitetsersattning",
};
#define NBENEFITS	((int)NITEMS(benefits))

/* A fresh temporary directory; the caller removes it with rm_dir. */
static char *
make_dir(void)
{
	const char *tmp = getenv("TMPDIR");
	char *dir = xasprintf("%s/test_explain.XXXXXX",
	    tmp != NULL ? tmp : "/tmp");

	assert_non_null(mkdtemp(dir));
	return dir;
}

/* Remove dir and the files the tests put in it. */
static void
rm_dir(char *dir)
{
	static const char *const names[] = { EXPLAIN_STATE_FILE, "bad.json",
	    "conf" };
	char *path;
	size_t i;

	for (i = 0; i < NITEMS(names); i++) {
		path = xasprintf("%s/%s", dir, names[i]);
		unlink(path);
		free(path);
	}
	assert_int_equal(rmdir(dir), 0);
	free(dir);
}

/* Write text to dir/name; returns the path, which the caller frees. */
static char *
write_file(const char *dir, const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
	return path;
}

/* Parse JSON text that the test itself got right. */
static json_t *
parse(const char *text)
{
	json_error_t err;
	json_t *o = json_loads(text, JSON_DECODE_ANY, &err);

	if (o == NULL) {
		fprintf(stderr, "bad test JSON: %s: %s\n", text, err.text);
		fail();
	}
	return o;
}

/* explain_from_json on text: the entry, or NULL with *cause. */
static struct explanation *
from_text(const char *text, char **cause)
{
	struct explanation *e = NULL;
	json_t *o = parse(text);

	*cause = NULL;
	if (explain_from_json(o, benefits, NBENEFITS, &e, cause) == -1)
		assert_null(e);
	else
		assert_null(*cause);
	json_decref(o);
	return e;
}

/* An entry that must be valid. */
static struct explanation *
entry(const char *text)
{
	struct explanation *e;
	char *cause;

	if ((e = from_text(text, &cause)) == NULL) {
		fprintf(stderr, "%s: %s\n", text, cause);
		free(cause);
		fail();
	}
	return e;
}

/* Kind names and back. */
static void
test_kinds(void **state)
{
	static const char *const names[] = { "legislation", "legal_position",
	    "court_ruling", "case_mix", "data_correction", "context" };
	size_t i;

	(void)state;
	for (i = 0; i < NITEMS(names); i++) {
		assert_int_equal(explain_kind_parse(names[i]), (int)i);
		assert_string_equal(explain_kind_name((enum explain_kind)i),
		    names[i]);
	}
	assert_int_equal(EXPLAIN_CONTEXT, 5);
	assert_int_equal(explain_kind_parse("Legislation"), -1);
	assert_int_equal(explain_kind_parse(""), -1);
	assert_null(explain_kind_name((enum explain_kind)6));
}

/* Each rule of contract §2: NULL wants the object accepted. */
static void
test_json_rules(void **state)
{
	static const char ok[] = "\"id\":\"a\",\"kind\":\"context\","
	    "\"effective_from\":\"2023-01-01\"";
	static const struct {
		const char	*members;	/* after ok's; '!': the whole */
		const char	*error;
	} cases[] = {
		{ "", NULL },
		{ "!{\"id\":\"a\",\"kind\":\"context\",\"effective_from\":"
		  "\"2023-01-01\",\"effective_to\":null,\"benefits\":[],"
		  "\"kinds\":[],\"offices\":[],\"reference\":null,"
		  "\"description\":null}", NULL },
		{ "![]", "expected a JSON object" },
		{ "!\"x\"", "expected a JSON object" },
		{ "!null", "expected a JSON object" },
		{ ",\"foo\":1", "unknown member 'foo'" },
		{ ",\"source\":\"api\"", "unknown member 'source'" },
		{ ",\"created_at\":\"2023-01-01T00:00:00Z\"",
		  "unknown member 'created_at'" },
		{ ",\"\\u00e4\":1", "unknown member '?" "?'" },
		/* id */
		{ "!{\"kind\":\"context\",\"effective_from\":\"2023-01-01\"}",
		  "id: required" },
		{ "!{\"id\":1,\"kind\":\"context\",\"effective_from\":"
		  "\"2023-01-01\"}", "id: expected 1 to 64 characters" },
		{ "!{\"id\":\"\",\"kind\":\"context\",\"effective_from\":"
		  "\"2023-01-01\"}", "id: expected 1 to 64 characters" },
		{ "!{\"id\":\"a b\",\"kind\":\"context\",\"effective_from\":"
		  "\"2023-01-01\"}", "id: expected" },
		{ "!{\"id\":\"a/b\",\"kind\":\"context\",\"effective_from\":"
		  "\"2023-01-01\"}", "id: expected" },
		{ "!{\"id\":\"\\u00e4\",\"kind\":\"context\","
		  "\"effective_from\":\"2023-01-01\"}", "id: expected" },
		{ "!{\"id\":\"abcdefghijklmnopqrstuvwxyz"
		  "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.:\",\"kind\":"
		  "\"context\",\"effective_from\":\"2023-01-01\"}", NULL },
		{ "!{\"id\":\"abcdefghijklmnopqrstuvwxyz"
		  "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.:-\",\"kind\":"
		  "\"context\",\"effective_from\":\"2023-01-01\"}",
		  "id: expected 1 to 64" },
		/* kind */
		{ "!{\"id\":\"a\",\"effective_from\":\"2023-01-01\"}",
		  "kind: required" },
		{ "!{\"id\":\"a\",\"kind\":\"law\",\"effective_from\":"
		  "\"2023-01-01\"}", "kind: 'law' is not legislation, "
		  "legal_position, court_ruling, case_mix, data_correction or "
		  "context" },
		{ "!{\"id\":\"a\",\"kind\":7,\"effective_from\":"
		  "\"2023-01-01\"}", "kind: '(not a string)'" },
		{ "!{\"id\":\"a\",\"kind\":\"Context\",\"effective_from\":"
		  "\"2023-01-01\"}", "kind: 'Context' is not" },
		/* dates */
		{ "!{\"id\":\"a\",\"kind\":\"context\"}", "effective_from: "
		  "required" },
		{ "!{\"id\":\"a\",\"kind\":\"context\","
		  "\"effective_from\":null}", "effective_from: required" },
		{ "!{\"id\":\"a\",\"kind\":\"context\",\"effective_from\":"
		  "\"2023-02-29\"}", "effective_from: expected a date "
		  "YYYY-MM-DD" },
		{ "!{\"id\":\"a\",\"kind\":\"context\",\"effective_from\":"
		  "\"2023-1-1\"}", "effective_from: expected a date" },
		{ "!{\"id\":\"a\",\"kind\":\"context\",\"effective_from\":"
		  "20230101}", "effective_from: expected a date" },
		{ "!{\"id\":\"a\",\"kind\":\"context\",\"effective_from\":"
		  "\"2023-01-01T00:00:00Z\"}", "effective_from: expected" },
		{ ",\"effective_to\":null", NULL },
		{ ",\"effective_to\":\"2023-01-01\"", NULL },
		{ ",\"effective_to\":\"2022-12-31\"",
		  "effective_to: before effective_from" },
		{ ",\"effective_to\":\"2023-13-01\"",
		  "effective_to: expected a date YYYY-MM-DD (from 1900) or "
		  "null" },
		{ ",\"effective_to\":\"\"", "effective_to: expected a date" },
		/* benefits */
		{ ",\"benefits\":[\"sjukpenning\",\"aktivitetsersattning\"]",
		  NULL },
		{ ",\"benefits\":\"sjukpenning\"",
		  "benefits: expected an array of strings" },
		{ ",\"benefits\":null",
		  "benefits: expected an array of strings" },
		{ ",\"benefits\":[1]",
		  "benefits: expected an array of strings" },
		{ ",\"benefits\":[\"sjukpenning\",\"x\"]",
		  "benefits: 'x' is not a configured benefit" },
		{ ",\"benefits\":[\"Sjukpenning\"]",
		  "benefits: 'Sjukpenning' is not a configured benefit" },
		{ ",\"benefits\":[\"sjukpenning\",\"sjukpenning\"]",
		  "benefits: 'sjukpenning' is listed twice" },
		/* kinds */
		{ ",\"kinds\":[\"first\",\"ongoing\"]", NULL },
		{ ",\"kinds\":[\"later\"]", "kinds: 'later' is not first or "
		  "ongoing" },
		{ ",\"kinds\":[\"first\",\"first\"]",
		  "kinds: 'first' is listed twice" },
		{ ",\"kinds\":{}", "kinds: expected an array of strings" },
		/* offices */
		{ ",\"offices\":[\"K017\",\"a.b_c-D\","
		  "\"abcdefghijabcdefghijabcdefghij12\"]", NULL },
		{ ",\"offices\":[\"abcdefghijabcdefghijabcdefghij123\"]",
		  "offices: 'abcdefghijabcdefghijabcdefghij123' is not an "
		  "office (1 to 32 characters of A-Z a-z 0-9 . _ -)" },
		{ ",\"offices\":[\"\"]", "offices: '' is not an office" },
		{ ",\"offices\":[\"K:1\"]", "offices: 'K:1' is not an office" },
		{ ",\"offices\":[\"K 1\"]", "offices: 'K 1' is not an office" },
		{ ",\"offices\":[\"national\"]", "offices: 'national' is not "
		  "an office; an empty list covers the national series" },
		{ ",\"offices\":[\"K1\",\"K1\"]",
		  "offices: 'K1' is listed twice" },
		{ ",\"offices\":[null]",
		  "offices: expected an array of strings" },
		/* texts */
		{ ",\"reference\":\"Prop. 2020/21:78\",\"description\":\"\"",
		  NULL },
		{ ",\"reference\":1", "reference: expected a string" },
		{ ",\"description\":[]", "description: expected a string" },
	};
	struct explanation *e;
	char *text, *cause;
	size_t i;

	(void)state;
	for (i = 0; i < NITEMS(cases); i++) {
		if (cases[i].members[0] == '!')
			text = xstrdup(cases[i].members + 1);
		else
			text = xasprintf("{%s%s}", ok, cases[i].members);
		e = from_text(text, &cause);
		if (cases[i].error == NULL && e == NULL) {
			fprintf(stderr, "refused %s: %s\n", text, cause);
			fail();
		}
		/* The message starts with the expected text. */
		if (cases[i].error != NULL && (e != NULL ||
		    strncmp(cause, cases[i].error,
		    strlen(cases[i].error)) != 0)) {
			fprintf(stderr, "%s: got \"%s\", want \"%s\"\n", text,
			    cause != NULL ? cause : "(accepted)",
			    cases[i].error);
			fail();
		}
		explain_entry_free(e);
		free(cause);
		free(text);
	}
}

/* reference and description: 1000 characters, counted as such. */
static void
test_json_text_length(void **state)
{
	struct explanation *e;
	char *text, *cause, *s;
	size_t i;

	(void)state;
	s = xcalloc(2 * 1001 + 1, 1);
	for (i = 0; i < 1000; i++)
		memcpy(s + 2 * i, "\xc3\xa4", 2);	/* a-umlaut */
	text = xasprintf("{\"id\":\"a\",\"kind\":\"context\","
	    "\"effective_from\":\"2023-01-01\",\"description\":\"%s\","
	    "\"reference\":\"%.1000s\"}", s, "x");
	e = entry(text);
	assert_int_equal(strlen(e->description), 2000);
	explain_entry_free(e);
	free(text);

	memcpy(s + 2 * 1000, "\xc3\xa4", 2);
	text = xasprintf("{\"id\":\"a\",\"kind\":\"context\","
	    "\"effective_from\":\"2023-01-01\",\"description\":\"%s\"}", s);
	assert_null(from_text(text, &cause));
	assert_string_equal(cause, "description: longer than 1000 characters");
	free(cause);
	free(text);

	memset(s, 'r', 1001);
	s[1001] = '\0';
	text = xasprintf("{\"id\":\"a\",\"kind\":\"context\","
	    "\"effective_from\":\"2023-01-01\",\"reference\":\"%s\"}", s);
	assert_null(from_text(text, &cause));
	assert_string_equal(cause, "reference: longer than 1000 characters");
	free(cause);
	free(text);
	s[1000] = '\0';
	text = xasprintf("{\"id\":\"a\",\"kind\":\"context\","
	    "\"effective_from\":\"2023-01-01\",\"reference\":\"%s\"}", s);
	e = entry(text);
	assert_int_equal(strlen(e->reference), 1000);
	explain_entry_free(e);
	free(text);
	free(s);
}

/* The fields a valid object gives. */
static void
test_json_fields(void **state)
{
	struct explanation *e;

	(void)state;
	e = entry("{\"id\":\"hfd-2023:12\",\"kind\":\"court_ruling\","
	    "\"effective_from\":\"2021-07-01\",\"effective_to\":\"2024-02-29\","
	    "\"benefits\":[\"sjukersattning\",\"sjukpenning\"],"
	    "\"kinds\":[\"ongoing\"],\"offices\":[\"K2\",\"K1\"],"
	    "\"reference\":\"HFD 2023 ref. 12\",\"description\":\"Text\"}");
	assert_string_equal(e->id, "hfd-2023:12");
	assert_int_equal(e->kind, EXPLAIN_COURT_RULING);
	assert_int_equal(e->from_day, 18809);
	assert_int_equal(e->to_day, 19782);
	assert_int_equal(e->benefits, 0x5);
	assert_int_equal(e->kinds, EXPLAIN_KIND_ONGOING);
	assert_int_equal(e->noffices, 2);
	assert_string_equal(e->offices[0], "K2");
	assert_string_equal(e->offices[1], "K1");
	assert_string_equal(e->reference, "HFD 2023 ref. 12");
	assert_string_equal(e->description, "Text");
	assert_int_equal(e->created_at, 0);
	assert_false(e->from_config);
	explain_entry_free(e);

	/* Everything left out: all series, open, no texts. */
	e = entry("{\"id\":\"x\",\"kind\":\"legislation\","
	    "\"effective_from\":\"1970-01-01\"}");
	assert_int_equal(e->kind, EXPLAIN_LEGISLATION);
	assert_int_equal(e->from_day, 0);
	assert_int_equal(e->to_day, INT32_MAX);
	assert_int_equal(e->benefits, 0);
	assert_int_equal(e->kinds, 0);
	assert_int_equal(e->noffices, 0);
	assert_null(e->offices);
	assert_null(e->reference);
	assert_null(e->description);
	explain_entry_free(e);
	explain_entry_free(NULL);
}

/* To JSON and back: the same object, the same entry. */
static void
test_json_round_trip(void **state)
{
	static const char *const texts[] = {
		"{\"id\":\"prop-2020-21-78\",\"kind\":\"legislation\","
		"\"effective_from\":\"2021-07-01\",\"effective_to\":null,"
		"\"benefits\":[\"sjukpenning\"],\"kinds\":[\"ongoing\"],"
		"\"offices\":[],\"reference\":\"Prop. 2020/21:78\","
		"\"description\":\"Deferral from day 181\"}",
		"{\"id\":\"b\",\"kind\":\"context\","
		"\"effective_from\":\"1969-12-31\",\"effective_to\":"
		"\"2000-02-29\",\"benefits\":[\"sjukpenning\","
		"\"aktivitetsersattning\"],\"kinds\":[\"first\",\"ongoing\"],"
		"\"offices\":[\"K9\",\"K1\"],\"reference\":null,"
		"\"description\":\"\\u00e4\"}",
	};
	struct explanation *e, *back;
	json_t *want, *got;
	char *cause;
	size_t i;

	(void)state;
	for (i = 0; i < NITEMS(texts); i++) {
		e = entry(texts[i]);
		e->created_at = 1700000000;
		e->from_config = i == 1;
		got = explain_to_json(e, benefits);
		assert_non_null(got);
		want = parse(texts[i]);
		assert_int_equal(json_object_set_new(want, "source",
		    json_string(i == 1 ? "config" : "api")), 0);
		assert_int_equal(json_object_set_new(want, "created_at",
		    json_string("2023-11-14T22:13:20Z")), 0);
		if (!json_equal(got, want)) {
			char *a = json_dumps(got, JSON_SORT_KEYS);
			char *b = json_dumps(want, JSON_SORT_KEYS);

			fprintf(stderr, "got  %s\nwant %s\n", a, b);
			free(a);
			free(b);
			fail();
		}
		/* The members come in the contract's order. */
		assert_string_equal(json_object_iter_key(json_object_iter(got)),
		    "id");
		json_object_del(got, "source");
		json_object_del(got, "created_at");
		cause = NULL;
		assert_int_equal(explain_from_json(got, benefits, NBENEFITS,
		    &back, &cause), 0);
		assert_string_equal(back->id, e->id);
		assert_int_equal(back->kind, e->kind);
		assert_int_equal(back->from_day, e->from_day);
		assert_int_equal(back->to_day, e->to_day);
		assert_int_equal(back->benefits, e->benefits);
		assert_int_equal(back->kinds, e->kinds);
		assert_int_equal(back->noffices, e->noffices);
		if (e->noffices > 0)
			assert_string_equal(back->offices[1], e->offices[1]);
		assert_true((back->reference == NULL) ==
		    (e->reference == NULL));
		assert_string_equal(back->description, e->description);
		explain_entry_free(back);
		json_decref(got);
		json_decref(want);
		explain_entry_free(e);
	}
}

/* The matching rules: scope, the nation, context, the window's edges. */
static void
test_matching(void **state)
{
	/* effective_from 2023-03-01 is day 19417. */
	static const struct {
		const char	*members;
		const char	*office;
		int		 benefit;
		int		 kind;
		int32_t		 onset;
		bool		 scope;
		bool		 covers;
	} cases[] = {
		/* Empty lists: every office, the nation, every series. */
		{ "", "K1", 0, 0, 19417, true, true },
		{ "", "national", 3, 1, 19417, true, true },
		/* The window, 28 days before to 56 after, both inclusive. */
		{ "", "K1", 0, 0, 19417 - 28, true, true },
		{ "", "K1", 0, 0, 19417 - 29, true, false },
		{ "", "K1", 0, 0, 19417 + 56, true, true },
		{ "", "K1", 0, 0, 19417 + 57, true, false },
		/* Benefits and kinds. */
		{ ",\"benefits\":[\"sjukersattning\"]", "K1", 2, 0, 19417,
		  true, true },
		{ ",\"benefits\":[\"sjukersattning\"]", "K1", 0, 0, 19417,
		  false, false },
		{ ",\"benefits\":[\"sjukersattning\"]", "national", 2, 1,
		  19417, true, true },
		{ ",\"kinds\":[\"first\"]", "K1", 0, 0, 19417, true, true },
		{ ",\"kinds\":[\"first\"]", "K1", 0, 1, 19417, false, false },
		{ ",\"kinds\":[\"ongoing\"]", "K1", 0, 1, 19417, true, true },
		{ ",\"kinds\":[\"first\",\"ongoing\"]", "K1", 0, 1, 19417, true,
		  true },
		/* Offices: those named only, never the nation. */
		{ ",\"offices\":[\"K1\",\"K2\"]", "K2", 0, 0, 19417, true,
		  true },
		{ ",\"offices\":[\"K1\",\"K2\"]", "K3", 0, 0, 19417, false,
		  false },
		{ ",\"offices\":[\"K1\"]", "national", 0, 0, 19417, false,
		  false },
		{ ",\"offices\":[\"K1\"]", "k1", 0, 0, 19417, false, false },
		/* All three lists at once. */
		{ ",\"benefits\":[\"sjukpenning\"],\"kinds\":[\"ongoing\"],"
		  "\"offices\":[\"K1\"]", "K1", 0, 1, 19417 + 56, true, true },
		{ ",\"benefits\":[\"sjukpenning\"],\"kinds\":[\"ongoing\"],"
		  "\"offices\":[\"K1\"]", "K1", 1, 1, 19417, false, false },
		/* Context matches its scope but never covers. */
		{ "!context", "K1", 0, 0, 19417, true, false },
		{ "!context", "national", 0, 0, 19417 - 28, true, false },
		/* effective_to does not limit the window. */
		{ ",\"effective_to\":\"2023-03-01\"", "K1", 0, 0, 19417 + 56,
		  true, true },
	};
	struct explanation *e;
	char *text;
	size_t i;

	(void)state;
	for (i = 0; i < NITEMS(cases); i++) {
		if (strcmp(cases[i].members, "!context") == 0)
			text = xstrdup("{\"id\":\"m\",\"kind\":\"context\","
			    "\"effective_from\":\"2023-03-01\"}");
		else
			text = xasprintf("{\"id\":\"m\",\"kind\":"
			    "\"legislation\",\"effective_from\":"
			    "\"2023-03-01\"%s}", cases[i].members);
		e = entry(text);
		assert_int_equal(e->from_day, 19417);
		if (explain_scope_matches(e, NULL, cases[i].office,
		    cases[i].benefit, cases[i].kind) != cases[i].scope ||
		    explain_covers(e, NULL, cases[i].office, cases[i].benefit,
		    cases[i].kind, cases[i].onset, 28, 56) != cases[i].covers) {
			fprintf(stderr, "case %zu: %s for %s/%d/%d onset %d\n",
			    i, text, cases[i].office, cases[i].benefit,
			    cases[i].kind, cases[i].onset);
			fail();
		}
		explain_entry_free(e);
		free(text);
	}

	/* Even an entry built by hand that names "national" as an office. */
	e = entry("{\"id\":\"m\",\"kind\":\"legislation\","
	    "\"effective_from\":\"2023-03-01\",\"offices\":[\"K1\"]}");
	free(e->offices[0]);
	e->offices[0] = xstrdup("national");
	assert_false(explain_scope_matches(e, NULL, "national", 0, 0));
	assert_false(explain_covers(e, NULL, "national", 0, 0, 19417, 28, 56));
	explain_entry_free(e);
}

/* explain_match over a registry: covering, context, limits. */
static void
test_match(void **state)
{
	static const char *const texts[] = {
		"{\"id\":\"law\",\"kind\":\"legislation\","
		"\"effective_from\":\"2023-03-01\"}",
		"{\"id\":\"ruling\",\"kind\":\"court_ruling\","
		"\"effective_from\":\"2023-02-01\",\"offices\":[\"K1\"]}",
		"{\"id\":\"ctx-1\",\"kind\":\"context\","
		"\"effective_from\":\"2023-03-10\"}",
		"{\"id\":\"ctx-2\",\"kind\":\"context\","
		"\"effective_from\":\"2023-03-05\",\"offices\":[\"K1\"]}",
		"{\"id\":\"far\",\"kind\":\"legislation\","
		"\"effective_from\":\"2020-01-01\"}",
		"{\"id\":\"ctx-far\",\"kind\":\"context\","
		"\"effective_from\":\"2020-01-01\"}",
	};
	struct explain_registry *reg = explain_create();
	const struct explanation *cov[4], *ctx[4];
	char *cause = NULL;
	size_t i;
	int n, nctx;

	(void)state;
	for (i = 0; i < NITEMS(texts); i++)
		assert_int_equal(explain_add(reg, entry(texts[i]), &cause), 0);

	/* 2023-03-01: law and ruling cover, both contexts are near. */
	memset(cov, 0, sizeof cov);
	n = explain_match(reg, NULL, "K1", 0, 0, 19417, 28, 56, cov, 4, ctx, 4,
	    &nctx);
	assert_int_equal(n, 2);
	assert_string_equal(cov[0]->id, "ruling");	/* earlier from */
	assert_string_equal(cov[1]->id, "law");
	assert_null(cov[2]);
	assert_int_equal(nctx, 2);
	assert_string_equal(ctx[0]->id, "ctx-2");
	assert_string_equal(ctx[1]->id, "ctx-1");

	/* The nation: the ruling and ctx-2 name an office. */
	n = explain_match(reg, NULL, "national", 0, 0, 19417, 28, 56, cov, 4,
	    ctx, 4, &nctx);
	assert_int_equal(n, 1);
	assert_string_equal(cov[0]->id, "law");
	assert_int_equal(nctx, 1);
	assert_string_equal(ctx[0]->id, "ctx-1");

	/* Counted beyond what the arrays hold; NULL arrays with 0. */
	memset(cov, 0, sizeof cov);
	n = explain_match(reg, NULL, "K1", 0, 0, 19417, 28, 56, cov, 1, NULL, 0,
	    &nctx);
	assert_int_equal(n, 2);
	assert_string_equal(cov[0]->id, "ruling");
	assert_null(cov[1]);
	assert_int_equal(nctx, 2);
	n = explain_match(reg, NULL, "K1", 0, 0, 19417, 28, 56, NULL, 0, NULL,
	    0, NULL);
	assert_int_equal(n, 2);

	/* Nothing near: unexplained, no context. */
	n = explain_match(reg, NULL, "K1", 0, 0, 19417 + 400, 28, 56, cov, 4,
	    ctx, 4, &nctx);
	assert_int_equal(n, 0);
	assert_int_equal(nctx, 0);
	/* Only the window of "far" and "ctx-far" (2020-01-01 = 18262). */
	n = explain_match(reg, NULL, "K7", 1, 1, 18262 - 28, 28, 56, cov, 4,
	    ctx, 4, &nctx);
	assert_int_equal(n, 1);
	assert_string_equal(cov[0]->id, "far");
	assert_int_equal(nctx, 1);
	assert_string_equal(ctx[0]->id, "ctx-far");
	explain_free(reg);
}

/* Adding, finding, removing, the order, and the generation. */
static void
test_registry(void **state)
{
	struct explain_registry *reg = explain_create();
	struct explanation *e;
	char *cause = NULL;
	uint64_t g;

	(void)state;
	assert_int_equal(explain_count(reg), 0);
	assert_null(explain_at(reg, 0));
	g = explain_generation(reg);

	assert_int_equal(explain_add(reg, entry("{\"id\":\"b\",\"kind\":"
	    "\"context\",\"effective_from\":\"2023-01-01\"}"), &cause), 0);
	assert_true(explain_generation(reg) > g);
	g = explain_generation(reg);
	assert_int_equal(explain_add(reg, entry("{\"id\":\"a\",\"kind\":"
	    "\"context\",\"effective_from\":\"2023-01-01\"}"), &cause), 0);
	assert_int_equal(explain_add(reg, entry("{\"id\":\"c\",\"kind\":"
	    "\"context\",\"effective_from\":\"2022-12-31\"}"), &cause), 0);
	assert_true(explain_generation(reg) >= g + 2);
	assert_int_equal(explain_count(reg), 3);
	assert_string_equal(explain_at(reg, 0)->id, "c");
	assert_string_equal(explain_at(reg, 1)->id, "a");
	assert_string_equal(explain_at(reg, 2)->id, "b");
	assert_null(explain_at(reg, 3));
	assert_null(explain_at(reg, -1));
	assert_true(explain_at(reg, 0)->created_at > 1600000000);

	/* A taken id: refused, the registry and its generation as they were. */
	g = explain_generation(reg);
	e = entry("{\"id\":\"a\",\"kind\":\"legislation\","
	    "\"effective_from\":\"2020-01-01\"}");
	assert_int_equal(explain_add(reg, e, &cause), -1);
	assert_string_equal(cause, "explanation \"a\" already exists");
	free(cause);
	assert_int_equal(explain_generation(reg), g);
	assert_int_equal(explain_count(reg), 3);
	assert_int_equal(explain_find(reg, "a")->kind, EXPLAIN_CONTEXT);
	assert_null(explain_find(reg, "d"));

	/* Removing. */
	assert_int_equal(explain_remove(reg, "d"), -1);
	assert_int_equal(explain_generation(reg), g);
	assert_int_equal(explain_remove(reg, "a"), 0);
	assert_true(explain_generation(reg) > g);
	assert_null(explain_find(reg, "a"));
	assert_int_equal(explain_count(reg), 2);
	assert_string_equal(explain_at(reg, 1)->id, "b");

	/* remove_config takes config entries only, and counts a change. */
	e = entry("{\"id\":\"cfg\",\"kind\":\"context\","
	    "\"effective_from\":\"2023-01-01\"}");
	e->from_config = true;
	assert_int_equal(explain_add(reg, e, &cause), 0);
	g = explain_generation(reg);
	explain_remove_config(reg);
	assert_true(explain_generation(reg) > g);
	assert_null(explain_find(reg, "cfg"));
	assert_int_equal(explain_count(reg), 2);
	g = explain_generation(reg);
	explain_remove_config(reg);
	assert_int_equal(explain_generation(reg), g);
	explain_free(reg);
	explain_free(NULL);
}

/* The state file: API entries only, the same after loading. */
static void
test_save_load(void **state)
{
	struct explain_registry *reg = explain_create(), *back;
	const struct explanation *a, *b;
	struct explanation *e;
	char *dir = make_dir(), *path, *cause = NULL;
	json_error_t err;
	json_t *file;
	int i;

	(void)state;
	path = xasprintf("%s/%s", dir, EXPLAIN_STATE_FILE);
	/* A missing file is an empty registry. */
	back = explain_create();
	assert_int_equal(explain_load(back, path, benefits, NBENEFITS, &cause),
	    0);
	assert_int_equal(explain_count(back), 0);
	assert_int_equal(explain_generation(back), 0);

	e = entry("{\"id\":\"one\",\"kind\":\"court_ruling\","
	    "\"effective_from\":\"2021-07-01\",\"effective_to\":\"2022-01-01\","
	    "\"benefits\":[\"sjukersattning\"],\"kinds\":[\"first\"],"
	    "\"offices\":[\"K1\",\"K2\"],\"reference\":\"R\","
	    "\"description\":\"D \\u00e4\"}");
	e->created_at = 1700000000;
	assert_int_equal(explain_add(reg, e, &cause), 0);
	assert_int_equal(explain_add(reg, entry("{\"id\":\"two\",\"kind\":"
	    "\"legislation\",\"effective_from\":\"2020-01-01\"}"), &cause), 0);
	e = entry("{\"id\":\"cfg\",\"kind\":\"context\",\"effective_from\":"
	    "\"2023-01-01\"}");
	e->from_config = true;
	assert_int_equal(explain_add(reg, e, &cause), 0);
	assert_int_equal(explain_save(reg, path, benefits, &cause), 0);

	/* A JSON array of the two API entries, in order. */
	file = json_load_file(path, 0, &err);
	assert_non_null(file);
	assert_true(json_is_array(file));
	assert_int_equal(json_array_size(file), 2);
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(file, 0), "id")), "two");
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(file, 1), "source")), "api");
	json_decref(file);

	assert_int_equal(explain_load(back, path, benefits, NBENEFITS, &cause),
	    0);
	assert_int_equal(explain_count(back), 2);
	assert_true(explain_generation(back) > 0);
	assert_null(explain_find(back, "cfg"));
	for (i = 0; i < 2; i++) {
		a = explain_at(reg, i);
		b = explain_at(back, i);
		assert_string_equal(a->id, b->id);
		assert_int_equal(a->kind, b->kind);
		assert_int_equal(a->from_day, b->from_day);
		assert_int_equal(a->to_day, b->to_day);
		assert_int_equal(a->benefits, b->benefits);
		assert_int_equal(a->kinds, b->kinds);
		assert_int_equal(a->noffices, b->noffices);
		assert_int_equal(a->created_at, b->created_at);
		assert_false(b->from_config);
	}
	b = explain_find(back, "one");
	assert_int_equal(b->created_at, 1700000000);
	assert_string_equal(b->offices[1], "K2");
	assert_string_equal(b->reference, "R");
	assert_string_equal(b->description, "D \xc3\xa4");

	/* Loading it again: every id is taken, nothing is added. */
	assert_int_equal(explain_load(back, path, benefits, NBENEFITS, &cause),
	    -1);
	assert_non_null(strstr(cause, "damaged: entry 1: id \"two\" is "
	    "already registered"));
	free(cause);
	assert_int_equal(explain_count(back), 2);
	explain_free(back);
	explain_free(reg);
	free(path);
	rm_dir(dir);
}

/* A damaged state file is an error, and adds nothing. */
static void
test_load_damaged(void **state)
{
	static const struct {
		const char	*text;
		const char	*error;
	} cases[] = {
		{ "", "damaged: " },
		{ "[", "damaged: " },
		{ "{}", "damaged: expected a JSON array" },
		{ "[1]", "damaged: entry 1: expected a JSON object" },
		{ "[{\"id\":\"a\",\"kind\":\"context\",\"effective_from\":"
		  "\"2023-01-01\"}]",
		  "damaged: entry 1: created_at: expected a time" },
		{ "[{\"id\":\"a\",\"kind\":\"context\",\"effective_from\":"
		  "\"2023-01-01\",\"created_at\":\"2023-01-01\"}]",
		  "damaged: entry 1: created_at: expected a time" },
		{ "[{\"id\":\"a\",\"kind\":\"context\",\"effective_from\":"
		  "\"2023-01-01\",\"created_at\":\"2023-01-01T00:00:00Z\","
		  "\"source\":\"config\"}]",
		  "damaged: entry 1: source: expected \"api\"" },
		{ "[{\"id\":\"a\",\"kind\":\"context\",\"effective_from\":"
		  "\"2023-01-01\",\"created_at\":\"2023-01-01T00:00:00Z\"},"
		  "{\"id\":\"b\",\"kind\":\"context\",\"effective_from\":"
		  "\"2023-01-01\",\"created_at\":\"2023-01-01T00:00:00Z\","
		  "\"benefits\":[\"gone\"]}]",
		  "damaged: entry 2: benefits: 'gone' is not a configured "
		  "benefit" },
		{ "[{\"id\":\"a\",\"kind\":\"context\",\"effective_from\":"
		  "\"2023-01-01\",\"created_at\":\"2023-01-01T00:00:00Z\"},"
		  "{\"id\":\"a\",\"kind\":\"legislation\",\"effective_from\":"
		  "\"2023-01-01\",\"created_at\":\"2023-01-01T00:00:00Z\"}]",
		  "damaged: entry 2: id \"a\" appears twice" },
		{ "[{\"id\":\"a\",\"kind\":\"context\",\"id\":\"b\"}]",
		  "damaged: duplicate object key" },
	};
	struct explain_registry *reg;
	char *dir = make_dir(), *path, *cause;
	size_t i;

	(void)state;
	for (i = 0; i < NITEMS(cases); i++) {
		path = write_file(dir, "bad.json", cases[i].text);
		reg = explain_create();
		cause = NULL;
		assert_int_equal(explain_load(reg, path, benefits, NBENEFITS,
		    &cause), -1);
		if (strncmp(cause, "explanations: ", 14) != 0 ||
		    strstr(cause, path) == NULL ||
		    strstr(cause, cases[i].error) == NULL) {
			fprintf(stderr, "%s: got \"%s\", want \"%s\"\n",
			    cases[i].text, cause, cases[i].error);
			fail();
		}
		assert_int_equal(explain_count(reg), 0);
		assert_int_equal(explain_generation(reg), 0);
		free(cause);
		explain_free(reg);
		free(path);
	}
	/* A directory is not a file. */
	reg = explain_create();
	assert_int_equal(explain_load(reg, dir, benefits, NBENEFITS, &cause),
	    -1);
	assert_non_null(strstr(cause, "damaged"));
	free(cause);
	explain_free(reg);
	rm_dir(dir);
}

/* The API's changes: saved first; a failed save changes nothing. */
static void
test_saved_changes(void **state)
{
	struct explain_registry *reg = explain_create(), *back;
	char *dir = make_dir(), *path, *bad, *cause = NULL;
	uint64_t g;

	(void)state;
	path = xasprintf("%s/%s", dir, EXPLAIN_STATE_FILE);
	bad = xasprintf("%s/no-such-dir/%s", dir, EXPLAIN_STATE_FILE);
	assert_int_equal(explain_add_saved(reg, entry("{\"id\":\"a\",\"kind\":"
	    "\"context\",\"effective_from\":\"2023-01-01\"}"), path, benefits,
	    &cause), 0);
	assert_non_null(explain_find(reg, "a"));
	assert_true(explain_find(reg, "a")->created_at > 0);

	/* The file already has it. */
	back = explain_create();
	assert_int_equal(explain_load(back, path, benefits, NBENEFITS, &cause),
	    0);
	assert_non_null(explain_find(back, "a"));
	explain_free(back);

	/* A save that fails: nothing added, nothing removed. */
	g = explain_generation(reg);
	assert_int_equal(explain_add_saved(reg, entry("{\"id\":\"b\",\"kind\":"
	    "\"context\",\"effective_from\":\"2023-01-01\"}"), bad, benefits,
	    &cause), -1);
	assert_non_null(strstr(cause, "no-such-dir"));
	assert_non_null(strstr(cause, "No such file or directory"));
	free(cause);
	assert_null(explain_find(reg, "b"));
	assert_int_equal(explain_generation(reg), g);
	assert_int_equal(explain_remove_saved(reg, "a", bad, benefits, &cause),
	    -1);
	free(cause);
	assert_non_null(explain_find(reg, "a"));
	assert_int_equal(explain_generation(reg), g);

	/* A taken id, an absent id. */
	assert_int_equal(explain_add_saved(reg, entry("{\"id\":\"a\",\"kind\":"
	    "\"context\",\"effective_from\":\"2023-01-01\"}"), path, benefits,
	    &cause), -1);
	assert_string_equal(cause, "explanation \"a\" already exists");
	free(cause);
	assert_int_equal(explain_remove_saved(reg, "zz", path, benefits,
	    &cause), -1);
	assert_string_equal(cause, "no explanation \"zz\"");
	free(cause);

	/* Removing saves the file without it. */
	assert_int_equal(explain_remove_saved(reg, "a", path, benefits,
	    &cause), 0);
	assert_null(explain_find(reg, "a"));
	assert_true(explain_generation(reg) > g);
	back = explain_create();
	assert_int_equal(explain_load(back, path, benefits, NBENEFITS, &cause),
	    0);
	assert_int_equal(explain_count(back), 0);
	explain_free(back);

	/* No path: kept in memory only. */
	assert_int_equal(explain_add_saved(reg, entry("{\"id\":\"m\",\"kind\":"
	    "\"context\",\"effective_from\":\"2023-01-01\"}"), NULL, benefits,
	    &cause), 0);
	assert_non_null(explain_find(reg, "m"));
	explain_free(reg);
	free(bad);
	free(path);
	rm_dir(dir);
}

/* Load a config file text into c. */
static void
load_conf(struct conf *c, const char *dir, const char *text)
{
	char *path = write_file(dir, "conf", text), *cause = NULL;

	conf_default(c);
	if (conf_load(c, path, &cause) != 0) {
		fprintf(stderr, "%s\n", cause);
		free(cause);
		fail();
	}
	free(path);
}

/* Config entries: converted, replaced on reload, never mixed with API ids. */
static void
test_config_entries(void **state)
{
	struct explain_registry *reg = explain_create();
	const struct explanation *e;
	struct explanation *x;
	char *dir = make_dir(), *cause = NULL;
	struct conf c;
	uint64_t g;

	(void)state;
	load_conf(&c, dir, "[explanation \"prop\"]\nkind = legislation\n"
	    "effective_from = 2021-07-01\neffective_to = 2022-06-30\n"
	    "benefits = sjukpenning, aktivitetsersattning\nkinds = ongoing\n"
	    "offices = K1 , K2\nreference = Prop. 2020/21:78\n"
	    "description = Day 181\n"
	    "[explanation \"ctx\"]\nkind = context\n"
	    "effective_from = 2023-01-01\n");
	assert_int_equal(explain_from_conf(&c.explanations[0], &c, &x, &cause),
	    0);
	assert_string_equal(x->id, "prop");
	assert_int_equal(x->kind, EXPLAIN_LEGISLATION);
	assert_int_equal(x->from_day, 18809);
	assert_int_equal(x->to_day, 18808 + 365);
	assert_int_equal(x->benefits, 0x9);
	assert_int_equal(x->kinds, EXPLAIN_KIND_ONGOING);
	assert_int_equal(x->noffices, 2);
	assert_string_equal(x->offices[0], "K1");
	assert_string_equal(x->offices[1], "K2");
	assert_string_equal(x->reference, "Prop. 2020/21:78");
	assert_string_equal(x->description, "Day 181");
	assert_true(x->from_config);
	explain_entry_free(x);

	/* An API entry first, then the config's. */
	assert_int_equal(explain_add(reg, entry("{\"id\":\"api\",\"kind\":"
	    "\"case_mix\",\"effective_from\":\"2023-01-01\"}"), &cause), 0);
	g = explain_generation(reg);
	assert_int_equal(explain_set_config(reg, &c, &cause), 0);
	assert_true(explain_generation(reg) > g);
	assert_int_equal(explain_count(reg), 3);
	e = explain_find(reg, "ctx");
	assert_non_null(e);
	assert_true(e->from_config);
	assert_false(explain_find(reg, "api")->from_config);

	/* The same again changes nothing, not even the generation. */
	g = explain_generation(reg);
	assert_int_equal(explain_set_config(reg, &c, &cause), 0);
	assert_int_equal(explain_generation(reg), g);
	assert_ptr_equal(explain_find(reg, "ctx"), e);
	conf_free(&c);

	/* A reload: prop goes, ctx changes and keeps its created_at. */
	((struct explanation *)e)->created_at = 1234;
	load_conf(&c, dir, "[explanation \"ctx\"]\nkind = context\n"
	    "effective_from = 2023-01-02\n"
	    "[explanation \"new\"]\nkind = data_correction\n"
	    "effective_from = 2023-05-01\n");
	assert_int_equal(explain_set_config(reg, &c, &cause), 0);
	assert_true(explain_generation(reg) > g);
	assert_int_equal(explain_count(reg), 3);
	assert_null(explain_find(reg, "prop"));
	assert_int_equal(explain_find(reg, "ctx")->from_day, 19359);
	assert_int_equal(explain_find(reg, "ctx")->created_at, 1234);
	assert_true(explain_find(reg, "new")->created_at > 1600000000);
	assert_non_null(explain_find(reg, "api"));
	conf_free(&c);

	/* An id registered through the API: refused, nothing changes. */
	g = explain_generation(reg);
	load_conf(&c, dir, "[explanation \"api\"]\nkind = context\n"
	    "effective_from = 2023-01-01\n");
	assert_int_equal(explain_set_config(reg, &c, &cause), -1);
	assert_string_equal(cause, "explanation \"api\" is in the "
	    "configuration file and also registered through the API; delete "
	    "one of them");
	free(cause);
	assert_int_equal(explain_generation(reg), g);
	assert_int_equal(explain_count(reg), 3);
	assert_false(explain_find(reg, "api")->from_config);
	assert_non_null(explain_find(reg, "new"));
	conf_free(&c);

	/* No sections: the config entries go, the API's stay. */
	load_conf(&c, dir, "[log]\n");
	assert_int_equal(explain_set_config(reg, &c, &cause), 0);
	assert_int_equal(explain_count(reg), 1);
	assert_non_null(explain_find(reg, "api"));
	conf_free(&c);
	explain_free(reg);
	rm_dir(dir);
}


/*
 * indicators: parsed by syntax, written only when non-empty (after
 * offices), kept in the state file, read from the config file, and
 * matched: empty is every indicator, NULL is rejection.
 */
static void
test_indicators(void **state)
{
	static const struct {
		const char	*list;
		const char	*why;
	} bad[] = {
		{ "\"reconsideration\"", "indicators: expected an array of "
		  "strings" },
		{ "[\"appeal\",\"appeal\"]", "indicators: 'appeal' is listed "
		  "twice" },
		{ "[\"Appeal\"]", "indicators: 'Appeal' is not an indicator "
		  "name" },
		{ "[\"\"]", "indicators: '' is not an indicator name" },
		{ "[\"9lives\"]", "not an indicator name" },
		{ "[\"a-b\"]", "not an indicator name" },
		{ "[\"abcdefghijabcdefghijabcdefghijabc\"]", "not an indicator "
		  "name" },
		{ "[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"i\","
		  "\"j\",\"k\",\"l\",\"m\",\"n\",\"o\",\"p\",\"q\"]",
		  "indicators: more than 16" },
	};
	struct explain_registry *reg = explain_create(), *back;
	const struct explanation *cover[4], *ctx[4];
	struct explanation *e, *x;
	const struct explanation *b;
	char *dir = make_dir(), *path, *cause = NULL, *text;
	json_t *o;
	struct conf c;
	void *it;
	size_t i;
	int nctx;
	uint64_t g;

	(void)state;
	for (i = 0; i < NITEMS(bad); i++) {
		text = xasprintf("{\"id\":\"m\",\"kind\":\"legislation\","
		    "\"effective_from\":\"2023-03-01\",\"indicators\":%s}",
		    bad[i].list);
		assert_null(e = from_text(text, &cause));
		if (strstr(cause, bad[i].why) == NULL) {
			fprintf(stderr, "case %zu: %s\n", i, cause);
			fail();
		}
		free(cause);
		free(text);
	}
	/* 32 characters is the longest name. */
	e = entry("{\"id\":\"m\",\"kind\":\"legislation\",\"effective_from\":"
	    "\"2023-03-01\",\"indicators\":[\"abcdefghijabcdefghijabcdefghij_9\","
	    "\"rejection\"]}");
	assert_int_equal(e->nindicators, 2);
	explain_entry_free(e);

	/* To JSON after offices, and back. */
	e = entry("{\"id\":\"recon\",\"kind\":\"legal_position\","
	    "\"effective_from\":\"2023-03-01\",\"offices\":[\"K1\"],"
	    "\"indicators\":[\"reconsideration\",\"appeal\"]}");
	assert_int_equal(e->nindicators, 2);
	assert_string_equal(e->indicators[0], "reconsideration");
	assert_string_equal(e->indicators[1], "appeal");
	o = explain_to_json(e, benefits);
	assert_non_null(o);
	it = json_object_iter(o);
	while (it != NULL && strcmp(json_object_iter_key(it), "offices") != 0)
		it = json_object_iter_next(o, it);
	assert_non_null(it);
	it = json_object_iter_next(o, it);
	assert_string_equal(json_object_iter_key(it), "indicators");
	assert_int_equal(json_array_size(json_object_get(o, "indicators")), 2);
	assert_string_equal(json_string_value(json_array_get(json_object_get(o,
	    "indicators"), 1)), "appeal");
	json_object_del(o, "source");
	json_object_del(o, "created_at");
	assert_int_equal(explain_from_json(o, benefits, NBENEFITS, &x, &cause),
	    0);
	assert_int_equal(x->nindicators, 2);
	assert_string_equal(x->indicators[1], "appeal");
	explain_entry_free(x);
	json_decref(o);

	/* Without indicators: no member at all, as before. */
	x = entry("{\"id\":\"all\",\"kind\":\"legislation\","
	    "\"effective_from\":\"2023-03-01\"}");
	o = explain_to_json(x, benefits);
	assert_null(json_object_get(o, "indicators"));
	json_decref(o);

	/* Matching: named ones only; empty all; NULL is rejection. */
	assert_true(explain_scope_matches(e, "reconsideration", "K1", 0, 0));
	assert_true(explain_scope_matches(e, "appeal", "K1", 0, 0));
	assert_false(explain_scope_matches(e, NULL, "K1", 0, 0));
	assert_false(explain_scope_matches(e, "rejection", "K1", 0, 0));
	assert_false(explain_scope_matches(e, "timeliness", "K1", 0, 0));
	assert_false(explain_scope_matches(e, "reconsideration", "K2", 0, 0));
	assert_true(explain_covers(e, "reconsideration", "K1", 1, 1, 19417,
	    28, 56));
	assert_false(explain_covers(e, NULL, "K1", 1, 1, 19417, 28, 56));
	assert_true(explain_scope_matches(x, NULL, "K1", 0, 0));
	assert_true(explain_scope_matches(x, "reconsideration", "national", 0,
	    0));
	assert_int_equal(explain_add(reg, e, &cause), 0);
	assert_int_equal(explain_add(reg, x, &cause), 0);
	assert_int_equal(explain_match(reg, "reconsideration", "K1", 0, 0,
	    19417, 28, 56, cover, 4, ctx, 4, &nctx), 2);
	assert_int_equal(explain_match(reg, NULL, "K1", 0, 0, 19417, 28, 56,
	    cover, 4, ctx, 4, &nctx), 1);
	assert_string_equal(cover[0]->id, "all");
	assert_int_equal(explain_match(reg, "timeliness", "K1", 0, 0, 19417,
	    28, 56, cover, 4, ctx, 4, &nctx), 1);
	assert_string_equal(cover[0]->id, "all");

	/* The state file keeps them. */
	path = xasprintf("%s/%s", dir, EXPLAIN_STATE_FILE);
	assert_int_equal(explain_save(reg, path, benefits, &cause), 0);
	back = explain_create();
	assert_int_equal(explain_load(back, path, benefits, NBENEFITS, &cause),
	    0);
	assert_non_null(b = explain_find(back, "recon"));
	assert_int_equal(b->nindicators, 2);
	assert_string_equal(b->indicators[0], "reconsideration");
	assert_string_equal(b->indicators[1], "appeal");
	assert_int_equal(explain_find(back, "all")->nindicators, 0);
	explain_free(back);
	free(path);
	explain_free(reg);

	/* From the config file; a changed list is a changed entry. */
	reg = explain_create();
	load_conf(&c, dir, "[indicator \"reconsideration\"]\n"
	    "event = reconsideration\nyes = changed\nno = unchanged\n"
	    "[explanation \"ruling\"]\nkind = court_ruling\n"
	    "effective_from = 2023-03-01\n"
	    "indicators = reconsideration, rejection\n");
	assert_int_equal(explain_from_conf(&c.explanations[0], &c, &x, &cause),
	    0);
	assert_int_equal(x->nindicators, 2);
	assert_string_equal(x->indicators[0], "reconsideration");
	assert_string_equal(x->indicators[1], "rejection");
	explain_entry_free(x);
	assert_int_equal(explain_set_config(reg, &c, &cause), 0);
	assert_true(explain_scope_matches(explain_find(reg, "ruling"), NULL,
	    "K1", 0, 0));
	conf_free(&c);
	g = explain_generation(reg);
	load_conf(&c, dir, "[indicator \"reconsideration\"]\n"
	    "event = reconsideration\nyes = changed\nno = unchanged\n"
	    "[explanation \"ruling\"]\nkind = court_ruling\n"
	    "effective_from = 2023-03-01\nindicators = reconsideration\n");
	assert_int_equal(explain_set_config(reg, &c, &cause), 0);
	assert_true(explain_generation(reg) > g);
	assert_int_equal(explain_find(reg, "ruling")->nindicators, 1);
	assert_false(explain_scope_matches(explain_find(reg, "ruling"), NULL,
	    "K1", 0, 0));
	conf_free(&c);
	explain_free(reg);
	rm_dir(dir);
}

/* explain_setup: the state file and the config together. */
static void
test_setup(void **state)
{
	struct explain_registry *reg;
	char *dir = make_dir(), *path, *cause = NULL;
	struct conf c;

	(void)state;
	path = write_file(dir, EXPLAIN_STATE_FILE, "[{\"id\":\"saved\","
	    "\"kind\":\"legislation\",\"effective_from\":\"2021-07-01\","
	    "\"created_at\":\"2023-01-01T00:00:00Z\",\"source\":\"api\"}]\n");
	load_conf(&c, dir, "[explanation \"cfg\"]\nkind = context\n"
	    "effective_from = 2023-01-01\n");
	reg = explain_create();
	assert_null(explain_path(reg));
	assert_int_equal(explain_setup(reg, &c, dir, &cause), 0);
	assert_string_equal(explain_path(reg), path);
	assert_int_equal(explain_count(reg), 2);
	assert_false(explain_find(reg, "saved")->from_config);
	assert_int_equal(explain_find(reg, "saved")->created_at, 1672531200);
	assert_true(explain_find(reg, "cfg")->from_config);
	explain_free(reg);
	conf_free(&c);

	/* The same id in both: an error naming the file. */
	load_conf(&c, dir, "[explanation \"saved\"]\nkind = context\n"
	    "effective_from = 2023-01-01\n");
	reg = explain_create();
	assert_int_equal(explain_setup(reg, &c, dir, &cause), -1);
	assert_non_null(strstr(cause, "explanation \"saved\" is in the "
	    "configuration file and also registered through the API"));
	assert_non_null(strstr(cause, path));
	free(cause);
	explain_free(reg);
	conf_free(&c);

	/* A damaged file. */
	free(path);
	path = write_file(dir, EXPLAIN_STATE_FILE, "[{\"id\":");
	load_conf(&c, dir, "[log]\n");
	reg = explain_create();
	assert_int_equal(explain_setup(reg, &c, dir, &cause), -1);
	assert_non_null(strstr(cause, "damaged"));
	free(cause);
	explain_free(reg);
	conf_free(&c);
	free(path);
	rm_dir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kinds),
		cmocka_unit_test(test_json_rules),
		cmocka_unit_test(test_json_text_length),
		cmocka_unit_test(test_json_fields),
		cmocka_unit_test(test_json_round_trip),
		cmocka_unit_test(test_matching),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_registry),
		cmocka_unit_test(test_save_load),
		cmocka_unit_test(test_load_damaged),
		cmocka_unit_test(test_saved_changes),
		cmocka_unit_test(test_config_entries),
		cmocka_unit_test(test_setup),
		cmocka_unit_test(test_indicators),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
