/*
 * alert and sink: the contract §3 JSON body and dispatch to sinks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "alert.h"
#include "sink.h"

static void
sample(struct alert *a)
{
	memset(a, 0, sizeof *a);
	strcpy(a->id, "a-1");
	a->status = ALERT_FIRING;
	a->classification = ALERT_EXPLAINED;
	a->scope = ALERT_OFFICE;
	a->direction = ALERT_DOWN;
	strcpy(a->office, "K017");
	strcpy(a->benefit, "sjukpenning");
	strcpy(a->kind, "first");
	a->detected_at = 1683021600;	/* 2023-05-02T10:00:00Z */
	a->raised_at = 1683021660;
	strcpy(a->onset, "2023-W14");
	a->baseline_rate = 0.081;
	a->current_rate = 0.124;
	a->expected_rate = 0.085;
	a->odds_ratio = 1.62;
	strcpy(a->method, "score-cusum");
	strcpy(a->explanations[0], "hfd-2023-12");
	a->nexplanations = 1;
}

static void
test_json_contract(void **state)
{
	struct alert a;
	json_t *o;
	json_error_t err;
	char *s;

	(void)state;
	sample(&a);
	s = alert_to_json(&a, "http://127.0.0.1:8080");
	o = json_loads(s, 0, &err);
	assert_non_null(o);
	assert_int_equal(json_integer_value(json_object_get(o, "version")), 1);
	assert_string_equal(json_string_value(json_object_get(o, "alert_id")),
	    "a-1");
	assert_string_equal(json_string_value(json_object_get(o, "status")),
	    "firing");
	assert_string_equal(json_string_value(json_object_get(o,
	    "classification")), "explained");
	assert_string_equal(json_string_value(json_object_get(o, "scope")),
	    "office");
	assert_string_equal(json_string_value(json_object_get(o, "direction")),
	    "down");
	assert_string_equal(json_string_value(json_object_get(
	    json_object_get(o, "series"), "office")), "K017");
	assert_string_equal(json_string_value(json_object_get(o,
	    "detected_at")), "2023-05-02T10:00:00Z");
	assert_string_equal(json_string_value(json_object_get(o, "onset")),
	    "2023-W14");
	assert_true(json_real_value(json_object_get(o, "odds_ratio")) == 1.62);
	assert_int_equal(json_array_size(json_object_get(o, "explanations")),
	    1);
	assert_string_equal(json_string_value(json_object_get(o,
	    "status_url")),
	    "http://127.0.0.1:8080/v1/series/K017/sjukpenning/first");
	json_decref(o);
	free(s);
}

/*
 * A rejection alert's body, byte for byte as before indicators: webhook
 * signatures and receivers' parsers depend on it.
 */
static const char rejection_body[] =
    "{\"version\":1,\"alert_id\":\"a-1\",\"status\":\"firing\","
    "\"classification\":\"explained\",\"scope\":\"office\","
    "\"direction\":\"down\",\"series\":{\"office\":\"K017\","
    "\"benefit\":\"sjukpenning\",\"kind\":\"first\"},"
    "\"detected_at\":\"2023-05-02T10:00:00Z\","
    "\"raised_at\":\"2023-05-02T10:01:00Z\",\"onset\":\"2023-W14\","
    "\"baseline_rate\":0.0625,\"current_rate\":0.125,"
    "\"expected_rate\":0.09375,\"odds_ratio\":1.5,"
    "\"method\":\"score-cusum\",\"explanations\":[\"hfd-2023-12\"],"
    "\"status_url\":\"http://h/v1/series/K017/sjukpenning/first\","
    "\"seq\":2,\"updated_at\":null,\"resolved_at\":null,"
    "\"historical\":false,\"odds_ratio_ci\":[1.25,null],"
    "\"decomposition\":{\"case_mix\":0.0078125,\"practice\":0.03125},"
    "\"decisions_since_onset\":812,\"context\":[],"
    "\"strata\":[{\"stratum\":\"age=60+\",\"share\":0.5,"
    "\"odds_ratio\":1.5,\"excess\":12.0}]}";

static void
test_json_rejection_unchanged(void **state)
{
	struct alert a;
	char *s;

	(void)state;
	sample(&a);
	/* Figures that print exactly, so the bytes are the point. */
	a.baseline_rate = 0.0625;
	a.current_rate = 0.125;
	a.expected_rate = 0.09375;
	a.odds_ratio = 1.5;
	a.seq = 2;
	a.odds_ratio_lo = 1.25;
	a.odds_ratio_hi = INFINITY;
	a.case_mix_part = 0.0078125;
	a.practice_part = 0.03125;
	a.decisions = 812;
	strcpy(a.strata[0].name, "age=60+");
	a.strata[0].share = 0.5;
	a.strata[0].odds_ratio = 1.5;
	a.strata[0].excess = 12;
	a.nstrata = 1;
	s = alert_to_json(&a, "http://h");
	assert_string_equal(s, rejection_body);
	free(s);
	assert_string_equal(alert_indicator(&a), "rejection");
}

/* Another indicator's alert says which, and its status_url is its own. */
static void
test_json_indicator(void **state)
{
	struct alert a, b;
	json_t *o;
	const char *want;
	char *s;
	size_t n;

	(void)state;
	sample(&a);
	strcpy(a.id, "reconsideration:K017.sjukpenning.first.2023-W14.down");
	strcpy(a.indicator, "reconsideration");
	strcpy(a.indicator_label, "change rate at reconsideration");
	strcpy(a.event, "reconsideration");
	assert_string_equal(alert_indicator(&a), "reconsideration");
	s = alert_to_json(&a, "http://h");
	/* The three members come last; everything before is as for rejection. */
	want = "\"context\":[],\"strata\":[],"
	    "\"indicator\":\"reconsideration\","
	    "\"indicator_label\":\"change rate at reconsideration\","
	    "\"event\":\"reconsideration\"}";
	n = strlen(s);
	assert_true(n > strlen(want));
	assert_string_equal(s + n - strlen(want), want);
	assert_non_null(strstr(s, "\"status_url\":\"http://h/v1/series/K017/"
	    "sjukpenning/first?indicator=reconsideration\""));
	free(s);

	o = alert_json(&a, NULL);
	assert_int_equal(alert_from_json(o, &b), 0);
	assert_memory_equal(&a, &b, sizeof a);
	/* An indicator without its label or event is not an alert of ours. */
	json_object_del(o, "event");
	assert_int_equal(alert_from_json(o, &b), -1);
	json_object_set_new(o, "event", json_integer(3));
	assert_int_equal(alert_from_json(o, &b), -1);
	json_object_set_new(o, "event", json_string("reconsideration"));
	json_object_del(o, "indicator_label");
	assert_int_equal(alert_from_json(o, &b), -1);
	/* Without the members it is rejection's, as outboxes of before hold. */
	json_object_del(o, "indicator");
	json_object_del(o, "event");
	assert_int_equal(alert_from_json(o, &b), 0);
	assert_string_equal(b.indicator, "");
	assert_string_equal(alert_indicator(&b), "rejection");
	json_decref(o);
}

static int seen;
static char last_id[ALERT_ID_MAX];

static void
count_emit(void *arg, const struct alert *a)
{
	(*(int *)arg)++;
	strcpy(last_id, a->id);
}

/* Every member alert_json writes comes back through alert_from_json. */
static void
test_json_round_trip(void **state)
{
	struct alert a, b;
	json_t *o;

	(void)state;
	sample(&a);
	a.status = ALERT_RESOLVED;
	a.seq = 3;
	a.updated_at = 1683626400;
	a.resolved_at = 1683626400;
	a.odds_ratio_lo = 1.25;
	a.odds_ratio_hi = 2.5;
	a.case_mix_part = 0.004;
	a.practice_part = 0.039;
	a.decisions = 12345;
	strcpy(a.context[0], "campaign-2023");
	a.ncontext = 1;
	strcpy(a.strata[0].name, "diagnosis=F");
	a.strata[0].share = 0.6;
	a.strata[0].odds_ratio = 1.9;
	a.strata[0].excess = 41.5;
	strcpy(a.strata[1].name, "age=60+");
	a.strata[1].share = 0.25;
	a.strata[1].odds_ratio = 1.4;
	a.strata[1].excess = 17;
	a.nstrata = 2;
	strcpy(a.note, "rebaselined by hand");

	o = alert_json(&a, "http://x");
	assert_int_equal(alert_from_json(o, &b), 0);
	json_decref(o);
	/* sample() zeroed a, so padding and unused slots compare too. */
	assert_memory_equal(&a, &b, sizeof a);

	/* A member of the wrong type or value is refused. */
	o = alert_json(&a, "http://x");
	json_object_set_new(o, "direction", json_string("sideways"));
	assert_int_equal(alert_from_json(o, &b), -1);
	json_object_set_new(o, "direction", json_string("up"));
	assert_int_equal(alert_from_json(o, &b), 0);
	json_object_set_new(o, "detected_at", json_string("yesterday"));
	assert_int_equal(alert_from_json(o, &b), -1);
	json_decref(o);
}

static void
test_sink_dispatch(void **state)
{
	struct sink s = { "count", &seen, count_emit };
	struct alert a;
	int i;

	(void)state;
	sink_unregister_all();
	sample(&a);
	assert_int_equal(sink_register(&s), 0);
	assert_int_equal(sink_register(&s), 0);
	sink_emit(&a);
	assert_int_equal(seen, 2);
	assert_string_equal(last_id, "a-1");
	for (i = 2; i < SINK_MAX; i++)
		assert_int_equal(sink_register(&s), 0);
	assert_int_equal(sink_register(&s), -1);
	assert_int_equal(sink_count(), SINK_MAX);
	sink_unregister_all();
	sink_emit(&a);
	assert_int_equal(seen, 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_contract),
		cmocka_unit_test(test_json_round_trip),
		cmocka_unit_test(test_json_rejection_unchanged),
		cmocka_unit_test(test_json_indicator),
		cmocka_unit_test(test_sink_dispatch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
