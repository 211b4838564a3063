/*
 * silence: validation of a silence's JSON, matching on each field and on
 * subsets, expiry at the exact second, and the saved file's round trip.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "alert.h"
#include "silence.h"

#define NOW	1700000000LL		/* 2023-11-14T22:13:20Z */
#define LATER	"2023-11-15T00:00:00Z"	/* NOW + 6400 s */
#define LATER_T	(NOW + 6400)

static char dir[64];
static char path[128];

static int
setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/stabild-test-silence-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof path, "%s/silences.json", dir);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unlink(path);
	rmdir(dir);
	return 0;
}

/* Parse text as a POST body at NOW; the silence or NULL with *cause. */
static struct silence *
parse(const char *text, char **cause)
{
	struct silence *s = NULL;
	json_error_t jerr;
	json_t *o;

	*cause = NULL;
	o = json_loads(text, 0, &jerr);
	assert_non_null(o);
	if (silence_from_json(o, NOW, &s, cause) == -1)
		s = NULL;
	json_decref(o);
	return s;
}

static void
test_valid(void **state)
{
	struct silence *s;
	char *cause;

	(void)state;
	s = parse("{\"matchers\": {\"office\": \"K017\", \"scope\": "
	    "\"office\", \"direction\": \"up\", \"classification\": "
	    "\"unexplained\", \"benefit\": \"sjukpenning\", \"kind\": "
	    "\"first\"}, \"ends_at\": \"" LATER "\", \"comment\": \"known\", "
	    "\"created_by\": \"anna\"}", &cause);
	assert_non_null(s);
	assert_string_equal(s->match[SILENCE_OFFICE], "K017");
	assert_string_equal(s->match[SILENCE_KIND], "first");
	assert_int_equal(s->ends_at, LATER_T);
	assert_int_equal(s->created_at, NOW);
	assert_string_equal(s->created_by, "anna");
	silence_entry_free(s);

	/* An offset, created_by left out, an empty comment. */
	s = parse("{\"matchers\": {\"benefit\": \"sjukpenning\"}, "
	    "\"ends_at\": \"2023-11-15T02:00:00+02:00\", \"comment\": \"\"}",
	    &cause);
	assert_non_null(s);
	assert_int_equal(s->ends_at, LATER_T);
	assert_null(s->created_by);
	assert_null(s->match[SILENCE_OFFICE]);
	silence_entry_free(s);
}

static void
test_invalid(void **state)
{
	static const char *bad[] = {
		"[]",
		"{\"ends_at\": \"" LATER "\", \"comment\": \"\"}",
		"{\"matchers\": {}, \"ends_at\": \"" LATER "\", "
		    "\"comment\": \"\"}",
		"{\"matchers\": [], \"ends_at\": \"" LATER "\", "
		    "\"comment\": \"\"}",
		"{\"matchers\": {\"region\": \"x\"}, \"ends_at\": \"" LATER
		    "\", \"comment\": \"\"}",
		"{\"matchers\": {\"office\": 17}, \"ends_at\": \"" LATER
		    "\", \"comment\": \"\"}",
		"{\"matchers\": {\"office\": \"\"}, \"ends_at\": \"" LATER
		    "\", \"comment\": \"\"}",
		"{\"matchers\": {\"scope\": \"region\"}, \"ends_at\": \""
		    LATER "\", \"comment\": \"\"}",
		"{\"matchers\": {\"direction\": \"sideways\"}, \"ends_at\": \""
		    LATER "\", \"comment\": \"\"}",
		"{\"matchers\": {\"classification\": \"maybe\"}, "
		    "\"ends_at\": \"" LATER "\", \"comment\": \"\"}",
		"{\"matchers\": {\"office\": \"K017\"}, \"comment\": \"\"}",
		"{\"matchers\": {\"office\": \"K017\"}, \"ends_at\": "
		    "\"tomorrow\", \"comment\": \"\"}",
		"{\"matchers\": {\"office\": \"K017\"}, \"ends_at\": "
		    "\"1700009999\", \"comment\": \"\"}",
		"{\"matchers\": {\"office\": \"K017\"}, \"ends_at\": "
		    "1700009999, \"comment\": \"\"}",
		/* Not in the future: NOW itself and before. */
		"{\"matchers\": {\"office\": \"K017\"}, \"ends_at\": "
		    "\"2023-11-14T22:13:20Z\", \"comment\": \"\"}",
		"{\"matchers\": {\"office\": \"K017\"}, \"ends_at\": "
		    "\"2020-01-01T00:00:00Z\", \"comment\": \"\"}",
		"{\"matchers\": {\"office\": \"K017\"}, \"ends_at\": \"" LATER
		    "\"}",
		"{\"matchers\": {\"office\": \"K017\"}, \"ends_at\": \"" LATER
		    "\", \"comment\": 5}",
		"{\"matchers\": {\"office\": \"K017\"}, \"ends_at\": \"" LATER
		    "\", \"comment\": \"\", \"created_by\": 5}",
		"{\"matchers\": {\"office\": \"K017\"}, \"ends_at\": \"" LATER
		    "\", \"comment\": \"\", \"id\": \"s-0000000000000001\"}",
		"{\"matchers\": {\"office\": \"K017\"}, \"ends_at\": \"" LATER
		    "\", \"comment\": \"\", \"starts_at\": \"" LATER "\"}",
	};
	struct silence *s;
	char *cause, *text;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		s = parse(bad[i], &cause);
		if (s != NULL)
			fail_msg("accepted: %s", bad[i]);
		assert_non_null(cause);
		free(cause);
	}

	/* The comment limit counts characters, not bytes. */
	text = malloc(4096);
	assert_non_null(text);
	i = (size_t)snprintf(text, 4096, "{\"matchers\": {\"office\": "
	    "\"K017\"}, \"ends_at\": \"" LATER "\", \"comment\": \"");
	memset(text + i, 'x', 1000);
	strcpy(text + i + 1000, "\"}");
	s = parse(text, &cause);
	assert_non_null(s);
	silence_entry_free(s);
	for (int k = 0; k < 1000; k++)
		memcpy(text + i + 2 * k, "\xc3\xb6", 2);
	strcpy(text + i + 2000, "\"}");
	s = parse(text, &cause);
	assert_non_null(s);
	silence_entry_free(s);
	strcpy(text + i + 2000, "x\"}");
	s = parse(text, &cause);
	assert_null(s);
	assert_non_null(strstr(cause, "comment"));
	free(cause);
	free(text);
}

static void
fill_alert(struct alert *a)
{
	memset(a, 0, sizeof *a);
	snprintf(a->id, sizeof a->id, "K017.sjukpenning.first.2023-W40");
	snprintf(a->office, sizeof a->office, "K017");
	snprintf(a->benefit, sizeof a->benefit, "sjukpenning");
	snprintf(a->kind, sizeof a->kind, "first");
	a->scope = ALERT_OFFICE;
	a->direction = ALERT_UP;
	a->classification = ALERT_UNEXPLAINED;
	a->status = ALERT_FIRING;
	a->seq = 1;
}

/* A registry holding one silence with the given matchers (JSON). */
static struct silence_registry *
one(const char *matchers)
{
	struct silence_registry *reg = silence_create();
	struct silence *s;
	char text[512], *cause;

	snprintf(text, sizeof text, "{\"matchers\": %s, \"ends_at\": \""
	    LATER "\", \"comment\": \"\"}", matchers);
	s = parse(text, &cause);
	assert_non_null(s);
	assert_non_null(silence_add_saved(reg, s, NULL, &cause));
	return reg;
}

static void
test_match(void **state)
{
	static const struct {
		const char	*matchers;
		int		 match;
	} cases[] = {
		{ "{\"office\": \"K017\"}", 1 },
		{ "{\"office\": \"K018\"}", 0 },
		{ "{\"office\": \"k017\"}", 0 },
		{ "{\"office\": \"K01\"}", 0 },
		{ "{\"benefit\": \"sjukpenning\"}", 1 },
		{ "{\"benefit\": \"bostadsbidrag\"}", 0 },
		{ "{\"kind\": \"first\"}", 1 },
		{ "{\"kind\": \"ongoing\"}", 0 },
		{ "{\"scope\": \"office\"}", 1 },
		{ "{\"scope\": \"national\"}", 0 },
		{ "{\"direction\": \"up\"}", 1 },
		{ "{\"direction\": \"down\"}", 0 },
		{ "{\"classification\": \"unexplained\"}", 1 },
		{ "{\"classification\": \"explained\"}", 0 },
		{ "{\"office\": \"K017\", \"benefit\": \"sjukpenning\"}", 1 },
		{ "{\"office\": \"K017\", \"direction\": \"down\"}", 0 },
		{ "{\"office\": \"K017\", \"benefit\": \"sjukpenning\", "
		    "\"kind\": \"first\", \"scope\": \"office\", "
		    "\"direction\": \"up\", \"classification\": "
		    "\"unexplained\"}", 1 },
		{ "{\"office\": \"K017\", \"benefit\": \"sjukpenning\", "
		    "\"kind\": \"first\", \"scope\": \"office\", "
		    "\"direction\": \"up\", \"classification\": "
		    "\"explained\"}", 0 },
	};
	struct silence_registry *reg;
	const struct silence *s;
	struct alert a;
	size_t i;

	(void)state;
	fill_alert(&a);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		reg = one(cases[i].matchers);
		s = silence_match(reg, &a, NOW);
		if ((s != NULL) != cases[i].match)
			fail_msg("%s: expected %s", cases[i].matchers,
			    cases[i].match ? "a match" : "none");
		silence_free(reg);
	}

	/* The other fields of a national, explained, downward alert. */
	a.scope = ALERT_NATIONAL;
	a.direction = ALERT_DOWN;
	a.classification = ALERT_EXPLAINED;
	reg = one("{\"scope\": \"national\", \"direction\": \"down\", "
	    "\"classification\": \"explained\"}");
	assert_non_null(silence_match(reg, &a, NOW));
	silence_free(reg);
}

/* The indicator matcher: rejection's alerts have none, others theirs. */
static void
test_match_indicator(void **state)
{
	struct silence_registry *reg;
	struct alert a;

	(void)state;
	fill_alert(&a);
	reg = one("{\"indicator\": \"rejection\"}");
	assert_non_null(silence_match(reg, &a, NOW));
	silence_free(reg);
	reg = one("{\"indicator\": \"reconsideration\", \"office\": "
	    "\"K017\"}");
	assert_null(silence_match(reg, &a, NOW));
	snprintf(a.indicator, sizeof a.indicator, "reconsideration");
	snprintf(a.id, sizeof a.id,
	    "reconsideration:K017.sjukpenning.first.2023-W40.up");
	assert_non_null(silence_match(reg, &a, NOW));
	snprintf(a.office, sizeof a.office, "K018");
	assert_null(silence_match(reg, &a, NOW));
	silence_free(reg);
	reg = one("{\"indicator\": \"rejection\"}");
	assert_null(silence_match(reg, &a, NOW));
	silence_free(reg);
	/* A prefixed id is one alert like any other. */
	reg = one("{\"alert_id\": "
	    "\"reconsideration:K018.sjukpenning.first.2023-W40.up\"}");
	assert_null(silence_match(reg, &a, NOW));
	snprintf(a.id, sizeof a.id,
	    "reconsideration:K018.sjukpenning.first.2023-W40.up");
	assert_non_null(silence_match(reg, &a, NOW));
	silence_free(reg);
}

/*
 * Matchers are written in a fixed order whatever order they came in;
 * indicator comes last, so silences of before keep their bytes.
 */
static void
test_matcher_order(void **state)
{
	struct silence_registry *reg;
	json_t *o;
	char *text;

	(void)state;
	reg = one("{\"alert_id\": \"x\", \"classification\": "
	    "\"explained\", \"direction\": \"up\", \"scope\": "
	    "\"office\", \"kind\": \"first\", \"benefit\": \"b\", "
	    "\"office\": \"K017\"}");
	o = silence_to_json(silence_at(reg, 0), NOW);
	text = json_dumps(json_object_get(o, "matchers"), JSON_COMPACT |
	    JSON_PRESERVE_ORDER);
	assert_string_equal(text, "{\"office\":\"K017\",\"benefit\":\"b\","
	    "\"kind\":\"first\",\"scope\":\"office\",\"direction\":"
	    "\"up\",\"classification\":\"explained\",\"alert_id\":\"x\"}");
	free(text);
	json_decref(o);
	silence_free(reg);

	reg = one("{\"indicator\": \"appeal\", \"alert_id\": \"x\", "
	    "\"office\": \"K017\"}");
	o = silence_to_json(silence_at(reg, 0), NOW);
	text = json_dumps(json_object_get(o, "matchers"), JSON_COMPACT |
	    JSON_PRESERVE_ORDER);
	assert_string_equal(text, "{\"office\":\"K017\",\"alert_id\":\"x\","
	    "\"indicator\":\"appeal\"}");
	free(text);
	json_decref(o);
	silence_free(reg);
}

static void
test_expiry(void **state)
{
	struct silence_registry *reg;
	const struct silence *s;
	struct alert a;
	json_t *o;

	(void)state;
	fill_alert(&a);
	reg = one("{\"office\": \"K017\"}");
	s = silence_at(reg, 0);
	assert_non_null(silence_match(reg, &a, LATER_T - 1));
	assert_null(silence_match(reg, &a, LATER_T));
	assert_null(silence_match(reg, &a, LATER_T + 1));

	o = silence_to_json(s, LATER_T - 1);
	assert_true(json_is_true(json_object_get(o, "active")));
	json_decref(o);
	o = silence_to_json(s, LATER_T);
	assert_true(json_is_false(json_object_get(o, "active")));
	json_decref(o);
	silence_free(reg);
}

static void
test_persistence(void **state)
{
	struct silence_registry *reg, *back;
	const struct silence *s1, *s2, *r;
	struct silence *s;
	char *cause, id1[SILENCE_ID_SIZE];
	char nowhere[192];
	json_t *a, *b;
	FILE *f;

	(void)state;
	reg = silence_create();
	assert_int_equal(silence_load(reg, path, NOW, &cause), 0);
	assert_int_equal(silence_count(reg), 0);

	s = parse("{\"matchers\": {\"office\": \"K017\", \"direction\": "
	    "\"up\"}, \"ends_at\": \"" LATER "\", \"comment\": \"h\xc3\xa4r\", "
	    "\"created_by\": \"anna\"}", &cause);
	assert_non_null(s);
	assert_non_null(s1 = silence_add_saved(reg, s, path, &cause));
	assert_int_equal(strlen(s1->id), 18);
	assert_memory_equal(s1->id, "s-", 2);
	s = parse("{\"matchers\": {\"benefit\": \"sjukpenning\"}, "
	    "\"ends_at\": \"" LATER "\", \"comment\": \"\"}", &cause);
	assert_non_null(s2 = silence_add_saved(reg, s, path, &cause));
	assert_string_not_equal(s1->id, s2->id);
	memcpy(id1, s1->id, sizeof id1);

	back = silence_create();
	assert_int_equal(silence_load(back, path, NOW, &cause), 0);
	assert_int_equal(silence_count(back), 2);
	a = silence_list_json(reg, NOW);
	b = silence_list_json(back, NOW);
	assert_true(json_equal(a, b));
	json_decref(a);
	json_decref(b);
	r = silence_find(back, id1);
	assert_non_null(r);
	assert_string_equal(r->comment, "h\xc3\xa4r");
	assert_string_equal(r->created_by, "anna");
	assert_int_equal(r->created_at, NOW);
	silence_free(back);

	/* Delete, then load: gone. Unknown ids are refused. */
	assert_int_equal(silence_remove_saved(reg, id1, path, &cause), 0);
	assert_int_equal(silence_remove_saved(reg, id1, path, &cause), -1);
	free(cause);
	back = silence_create();
	assert_int_equal(silence_load(back, path, NOW, &cause), 0);
	assert_int_equal(silence_count(back), 1);
	assert_null(silence_find(back, id1));
	silence_free(back);

	/* Expired within seven days: kept; longer ago: dropped at load. */
	back = silence_create();
	assert_int_equal(silence_load(back, path, LATER_T + SILENCE_KEEP_S,
	    &cause), 0);
	assert_int_equal(silence_count(back), 1);
	silence_free(back);
	back = silence_create();
	assert_int_equal(silence_load(back, path,
	    LATER_T + SILENCE_KEEP_S + 1, &cause), 0);
	assert_int_equal(silence_count(back), 0);
	silence_free(back);

	/* A save that fails leaves the registry as it was. */
	snprintf(nowhere, sizeof nowhere, "%s/missing/x.json", dir);
	s = parse("{\"matchers\": {\"kind\": \"first\"}, \"ends_at\": \""
	    LATER "\", \"comment\": \"\"}", &cause);
	assert_null(silence_add_saved(reg, s, nowhere,
	    &cause));
	free(cause);
	assert_int_equal(silence_count(reg), 1);
	assert_int_equal(silence_remove_saved(reg, s2->id,
	    nowhere, &cause), -1);
	free(cause);
	assert_int_equal(silence_count(reg), 1);
	silence_free(reg);

	/* A damaged file is an error, not an empty registry. */
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("{\"silences\": [{\"id\": \"nope\"}]}", f);
	fclose(f);
	back = silence_create();
	assert_int_equal(silence_load(back, path, NOW, &cause), -1);
	assert_non_null(cause);
	free(cause);
	silence_free(back);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_match_indicator),
		cmocka_unit_test(test_matcher_order),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_persistence),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
