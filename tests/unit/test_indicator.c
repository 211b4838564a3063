/*
 * The indicator table: the built-in rejection rate, configured indicators
 * with their filters and fields, which indicators an event counts in, the
 * outcomes the series count, signatures, weights and streams, and the
 * configurations the table refuses.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "decision.h"
#include "indicator.h"

#define BIT(v)	(1u << (v))

/*
 * Section text lives in writable arrays the table only reads; nindicators
 * is cleared before conf_free, which owns none of it.
 */
static char s_reconsideration[] = "reconsideration";
static char s_appeal[] = "appeal";
static char s_assessment[] = "assessment";
static char s_decision[] = "decision";
static char s_timeliness[] = "timeliness";
static char s_timeliness_180[] = "timeliness_180";
static char s_supplement[] = "supplement";
static char s_changed[] = "changed";
static char s_unchanged[] = "unchanged";
static char s_late[] = "late";
static char s_on_time[] = "on_time";
static char s_yes[] = "yes";
static char s_no[] = "no";
static char s_180[] = "180";
static char s_supplement_requested[] = "supplement_requested";
static char s_label[] = "change rate at reconsideration";
static char s_side[] = "side";

static struct conf_indicator *
section(struct conf *c, char *name, char *event, char *yes, char *no)
{
	struct conf_indicator *ci = &c->indicators[c->nindicators++];

	memset(ci, 0, sizeof *ci);
	ci->name = name;
	ci->event = event;
	ci->yes = yes;
	ci->no = no;
	ci->line = 10 * c->nindicators;
	return ci;
}

/* The four shipped indicators and a timeliness one at day 180: 0..5. */
static void
shipped(struct conf *c)
{
	struct conf_indicator *ci;

	conf_default(c);
	ci = section(c, s_reconsideration, s_reconsideration, s_changed,
	    s_unchanged);
	ci->label = s_label;
	ci = section(c, s_appeal, s_appeal, s_changed, s_unchanged);
	ci->design_or_office = 2.0;
	section(c, s_timeliness, s_assessment, s_late, s_on_time);
	ci = section(c, s_supplement, s_decision, s_yes, s_no);
	ci->field = s_supplement_requested;
	ci = section(c, s_timeliness_180, s_assessment, s_late, s_on_time);
	ci->checkpoint = s_180;
}

static void
done(struct conf *c)
{
	c->nindicators = 0;
	conf_free(c);
}

static void
build(struct indicators *t, const struct conf *c)
{
	char *cause = NULL;

	if (indicators_from_conf(t, c, &cause) == -1)
		fail_msg("indicators_from_conf: %s", cause);
}

/* Refused, with a reason containing want. */
static void
refused(const struct conf *c, const char *want)
{
	struct indicators t;
	char *cause = NULL;

	assert_int_equal(indicators_from_conf(&t, c, &cause), -1);
	assert_non_null(cause);
	if (strstr(cause, want) == NULL)
		fail_msg("'%s' does not say '%s'", cause, want);
	free(cause);
}

static void
test_builtin(void **state)
{
	struct indicators t;
	struct conf c;
	const struct indicator *r;
	char sig[INDICATOR_SIGNATURE_MAX];
	int e;

	(void)state;
	conf_default(&c);
	build(&t, &c);
	assert_int_equal(t.n, 1);
	r = &t.ind[INDICATOR_REJECTION];
	assert_string_equal(r->name, "rejection");
	assert_string_equal(r->label, "rejection rate");
	assert_string_equal(r->description, "");
	assert_int_equal(r->event, EVENT_DECISION);
	assert_int_equal(r->field, INDICATOR_FIELD_OUTCOME);
	assert_int_equal(r->yes, BIT(OUTCOME_REJECTED));
	assert_int_equal(r->no, BIT(OUTCOME_GRANTED) | BIT(OUTCOME_PARTIAL));
	assert_int_equal(r->details, 0);
	assert_true(r->design_or_office == c.design_or_office);
	assert_true(r->design_or_national == c.design_or_national);
	assert_true(r->alerts);
	assert_true(r->budget_weight == 1);
	assert_true(indicator_weight(r) == 1);
	assert_int_equal(r->stream, 0);
	assert_int_equal(t.nstreams, 1);
	assert_string_equal(t.streams[0], c.stream);
	indicator_signature(r, sig);
	assert_string_equal(sig, "decision:outcome:yes=1:no=0,2:d=0");
	assert_int_equal(indicators_find(&t, "rejection"), 0);
	assert_int_equal(indicators_find(&t, "reconsideration"), -1);
	assert_int_equal(indicators_find(&t, ""), -1);
	/* Decisions count in rejection, nothing else counts. */
	assert_int_equal(t.nof_event[EVENT_DECISION], 1);
	assert_int_equal(t.of_event[EVENT_DECISION][0], 0);
	for (e = 1; e < DECISION_NEVENTS; e++)
		assert_int_equal(t.nof_event[e], 0);
	done(&c);
}

/* Every event kind and outcome against the rejection rate. */
static void
test_classify_rejection(void **state)
{
	static const struct {
		int	event, outcome, detail, want;
	} cases[] = {
		{ EVENT_DECISION, OUTCOME_GRANTED, 0, INDICATOR_NO },
		{ EVENT_DECISION, OUTCOME_REJECTED, 0, INDICATOR_YES },
		{ EVENT_DECISION, OUTCOME_PARTIAL, 0, INDICATOR_NO },
		{ EVENT_DECISION, OUTCOME_DISMISSED, 0, INDICATOR_EXCLUDED },
		/* The supplement field does not touch the rejection rate. */
		{ EVENT_DECISION, OUTCOME_REJECTED, DETAIL_SUPPLEMENT_YES,
		  INDICATOR_YES },
		{ EVENT_DECISION, OUTCOME_GRANTED, DETAIL_SUPPLEMENT_NO,
		  INDICATOR_NO },
		{ EVENT_RECONSIDERATION, OUTCOME_CHANGED, 0, INDICATOR_NOT },
		{ EVENT_RECONSIDERATION, OUTCOME_UNCHANGED,
		  DETAIL_CHANGED_TO_REJECTED, INDICATOR_NOT },
		{ EVENT_APPEAL, OUTCOME_CHANGED, 0, INDICATOR_NOT },
		{ EVENT_ASSESSMENT, OUTCOME_LATE, DETAIL_CHECKPOINT_90,
		  INDICATOR_NOT },
		/* Out of range is nobody's. */
		{ EVENT_DECISION, DECISION_NOUTCOMES, 0, INDICATOR_NOT },
		{ EVENT_DECISION, OUTCOME_REJECTED, DECISION_NDETAILS,
		  INDICATOR_NOT },
		{ DECISION_NEVENTS, OUTCOME_REJECTED, 0, INDICATOR_NOT },
		{ -1, OUTCOME_REJECTED, 0, INDICATOR_NOT },
	};
	struct indicators t;
	struct conf c;
	int inds[INDICATOR_MAX], ys[INDICATOR_MAX], n;
	size_t i;

	(void)state;
	conf_default(&c);
	build(&t, &c);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		if ((int)indicator_classify(&t.ind[0], cases[i].event,
		    cases[i].outcome, cases[i].detail) != cases[i].want)
			fail_msg("case %zu", i);
		n = indicators_of(&t, cases[i].event, cases[i].outcome,
		    cases[i].detail, inds, ys);
		if (cases[i].want == INDICATOR_NOT)
			assert_int_equal(n, 0);
		else {
			assert_int_equal(n, 1);
			assert_int_equal(inds[0], 0);
			assert_int_equal(ys[0], cases[i].want);
		}
	}
	done(&c);
}

/* The shipped indicators: fields, filters, labels, defaults. */
static void
test_configured(void **state)
{
	struct indicators t;
	struct conf c;
	const struct indicator *ind;

	(void)state;
	shipped(&c);
	build(&t, &c);
	assert_int_equal(t.n, 6);

	ind = &t.ind[1];
	assert_string_equal(ind->name, "reconsideration");
	assert_string_equal(ind->label, "change rate at reconsideration");
	assert_int_equal(ind->event, EVENT_RECONSIDERATION);
	assert_int_equal(ind->yes, BIT(OUTCOME_CHANGED));
	assert_int_equal(ind->no, BIT(OUTCOME_UNCHANGED));
	assert_int_equal(ind->line, 10);
	assert_true(ind->design_or_office == c.design_or_office);

	ind = &t.ind[2];
	assert_string_equal(ind->label, "appeal rate");
	assert_true(ind->design_or_office == 2.0);
	assert_true(ind->design_or_national == c.design_or_national);

	ind = &t.ind[3];
	assert_int_equal(ind->event, EVENT_ASSESSMENT);
	assert_int_equal(ind->yes, BIT(OUTCOME_LATE));
	assert_int_equal(ind->no, BIT(OUTCOME_ON_TIME));
	assert_int_equal(ind->details, 0);

	ind = &t.ind[4];
	assert_int_equal(ind->event, EVENT_DECISION);
	assert_int_equal(ind->field, INDICATOR_FIELD_DETAIL);
	assert_int_equal(ind->yes, BIT(DETAIL_SUPPLEMENT_YES));
	assert_int_equal(ind->no, BIT(DETAIL_SUPPLEMENT_NO));

	ind = &t.ind[5];
	assert_int_equal(ind->details, BIT(DETAIL_CHECKPOINT_180));

	for (int i = 1; i < t.n; i++) {
		assert_true(t.ind[i].alerts);
		assert_true(t.ind[i].budget_weight == 1);
		assert_int_equal(t.ind[i].stream, 0);
		assert_int_equal(indicators_find(&t, t.ind[i].name), i);
	}
	assert_int_equal(t.nstreams, 1);

	/* Per event kind, its own indicators in index order. */
	assert_int_equal(t.nof_event[EVENT_DECISION], 2);
	assert_int_equal(t.of_event[EVENT_DECISION][0], 0);
	assert_int_equal(t.of_event[EVENT_DECISION][1], 4);
	assert_int_equal(t.nof_event[EVENT_RECONSIDERATION], 1);
	assert_int_equal(t.of_event[EVENT_RECONSIDERATION][0], 1);
	assert_int_equal(t.nof_event[EVENT_APPEAL], 1);
	assert_int_equal(t.of_event[EVENT_APPEAL][0], 2);
	assert_int_equal(t.nof_event[EVENT_ASSESSMENT], 2);
	assert_int_equal(t.of_event[EVENT_ASSESSMENT][0], 3);
	assert_int_equal(t.of_event[EVENT_ASSESSMENT][1], 5);
	done(&c);
}

/* Which indicators an event counts in, and as what. */
static void
test_indicators_of(void **state)
{
	static const struct {
		int	event, outcome, detail;
		int	n, inds[3], ys[3];
	} cases[] = {
		/* A decision with supplement_requested counts twice. */
		{ EVENT_DECISION, OUTCOME_REJECTED, DETAIL_SUPPLEMENT_YES,
		  2, { 0, 4 }, { INDICATOR_YES, INDICATOR_YES } },
		{ EVENT_DECISION, OUTCOME_PARTIAL, DETAIL_SUPPLEMENT_NO,
		  2, { 0, 4 }, { INDICATOR_NO, INDICATOR_NO } },
		/* Without it: out of the supplement rate, kept as excluded. */
		{ EVENT_DECISION, OUTCOME_GRANTED, DETAIL_MISSING,
		  2, { 0, 4 }, { INDICATOR_NO, INDICATOR_EXCLUDED } },
		{ EVENT_DECISION, OUTCOME_DISMISSED, DETAIL_SUPPLEMENT_YES,
		  2, { 0, 4 }, { INDICATOR_EXCLUDED, INDICATOR_YES } },
		{ EVENT_RECONSIDERATION, OUTCOME_CHANGED,
		  DETAIL_CHANGED_TO_GRANTED, 1, { 1 }, { INDICATOR_YES } },
		{ EVENT_RECONSIDERATION, OUTCOME_UNCHANGED, DETAIL_MISSING,
		  1, { 1 }, { INDICATOR_NO } },
		/* Another event's outcome: its event, neither yes nor no. */
		{ EVENT_RECONSIDERATION, OUTCOME_REJECTED, DETAIL_MISSING,
		  1, { 1 }, { INDICATOR_EXCLUDED } },
		{ EVENT_APPEAL, OUTCOME_CHANGED, DETAIL_MISSING,
		  1, { 2 }, { INDICATOR_YES } },
		/* The filter: day 180 counts in both, day 90 in one. */
		{ EVENT_ASSESSMENT, OUTCOME_LATE, DETAIL_CHECKPOINT_180,
		  2, { 3, 5 }, { INDICATOR_YES, INDICATOR_YES } },
		{ EVENT_ASSESSMENT, OUTCOME_ON_TIME, DETAIL_CHECKPOINT_180,
		  2, { 3, 5 }, { INDICATOR_NO, INDICATOR_NO } },
		{ EVENT_ASSESSMENT, OUTCOME_LATE, DETAIL_CHECKPOINT_90,
		  1, { 3 }, { INDICATOR_YES } },
		{ EVENT_ASSESSMENT, OUTCOME_LATE, DETAIL_CHECKPOINT_365,
		  1, { 3 }, { INDICATOR_YES } },
		{ EVENT_ASSESSMENT, OUTCOME_LATE, DETAIL_MISSING,
		  1, { 3 }, { INDICATOR_YES } },
		{ DECISION_NEVENTS, OUTCOME_LATE, DETAIL_MISSING, 0, { 0 },
		  { 0 } },
	};
	struct indicators t;
	struct conf c;
	int inds[INDICATOR_MAX], ys[INDICATOR_MAX], n, k;
	size_t i;

	(void)state;
	shipped(&c);
	build(&t, &c);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		n = indicators_of(&t, cases[i].event, cases[i].outcome,
		    cases[i].detail, inds, ys);
		if (n != cases[i].n)
			fail_msg("case %zu: %d indicators, want %d", i, n,
			    cases[i].n);
		for (k = 0; k < n; k++) {
			if (inds[k] != cases[i].inds[k] ||
			    ys[k] != cases[i].ys[k])
				fail_msg("case %zu: #%d is %d/%d, want %d/%d",
				    i, k, inds[k], ys[k], cases[i].inds[k],
				    cases[i].ys[k]);
			/* indicators_of agrees with classify. */
			assert_int_equal(indicator_classify(&t.ind[inds[k]],
			    cases[i].event, cases[i].outcome,
			    cases[i].detail), ys[k]);
		}
	}
	done(&c);
}

/* A reconsideration filter on changed_to: a missing one is filtered out. */
static void
test_changed_to(void **state)
{
	static char rejected[] = "rejected";
	struct indicators t;
	struct conf c;
	int inds[INDICATOR_MAX], ys[INDICATOR_MAX];

	(void)state;
	conf_default(&c);
	section(&c, s_reconsideration, s_reconsideration, s_changed,
	    s_unchanged)->changed_to = rejected;
	build(&t, &c);
	assert_int_equal(t.ind[1].details, BIT(DETAIL_CHANGED_TO_REJECTED));
	assert_int_equal(indicators_of(&t, EVENT_RECONSIDERATION,
	    OUTCOME_CHANGED, DETAIL_CHANGED_TO_REJECTED, inds, ys), 1);
	assert_int_equal(ys[0], INDICATOR_YES);
	assert_int_equal(indicators_of(&t, EVENT_RECONSIDERATION,
	    OUTCOME_CHANGED, DETAIL_CHANGED_TO_GRANTED, inds, ys), 0);
	assert_int_equal(indicators_of(&t, EVENT_RECONSIDERATION,
	    OUTCOME_CHANGED, DETAIL_MISSING, inds, ys), 0);
	done(&c);
}

static void
test_series_outcome(void **state)
{
	int o;

	(void)state;
	/* Rejection keeps the decision's own outcome, partial included. */
	for (o = OUTCOME_GRANTED; o <= OUTCOME_DISMISSED; o++) {
		assert_int_equal(indicator_series_outcome(INDICATOR_REJECTION,
		    INDICATOR_NO, o), o);
		assert_int_equal(indicator_series_outcome(INDICATOR_REJECTION,
		    INDICATOR_YES, o), o);
	}
	assert_int_equal(indicator_series_outcome(1, INDICATOR_YES,
	    OUTCOME_CHANGED), OUTCOME_REJECTED);
	assert_int_equal(indicator_series_outcome(1, INDICATOR_NO,
	    OUTCOME_UNCHANGED), OUTCOME_GRANTED);
	assert_int_equal(indicator_series_outcome(4, INDICATOR_EXCLUDED,
	    OUTCOME_PARTIAL), OUTCOME_DISMISSED);
	assert_int_equal(indicator_series_outcome(4, INDICATOR_NO,
	    OUTCOME_PARTIAL), OUTCOME_GRANTED);
	assert_int_equal(indicator_series_outcome(3, INDICATOR_YES,
	    OUTCOME_LATE), OUTCOME_REJECTED);
}

static void
test_signatures(void **state)
{
	static const char *const want[] = {
		"decision:outcome:yes=1:no=0,2:d=0",
		"reconsideration:outcome:yes=4:no=5:d=0",
		"appeal:outcome:yes=4:no=5:d=0",
		"assessment:outcome:yes=7:no=6:d=0",
		"decision:supplement_requested:yes=1:no=2:d=0",
		"assessment:outcome:yes=7:no=6:d=4",
	};
	struct indicators t;
	struct conf c;
	char sig[INDICATOR_SIGNATURE_MAX];
	int i;

	(void)state;
	shipped(&c);
	/* Labels, weights and design odds ratios are not the definition. */
	c.indicators[0].budget_weight = 3;
	c.indicators[0].alerts_off = true;
	build(&t, &c);
	for (i = 0; i < t.n; i++) {
		indicator_signature(&t.ind[i], sig);
		assert_string_equal(sig, want[i]);
	}
	/* Longer than any real one: every outcome and detail. */
	t.ind[1].yes = 0x7f;
	t.ind[1].no = 0x80;
	t.ind[1].details = 0xf;
	indicator_signature(&t.ind[1], sig);
	assert_string_equal(sig, "reconsideration:outcome:yes=0,1,2,3,4,5,6:"
	    "no=7:d=15");
	/* Too long for the buffer: cut, never overrun. */
	t.ind[1].yes = 0x7fff;
	t.ind[1].no = 0x8000;
	t.ind[1].details = 0xffff;
	t.ind[1].field = INDICATOR_FIELD_DETAIL;
	indicator_signature(&t.ind[1], sig);
	assert_true(strlen(sig) < INDICATOR_SIGNATURE_MAX);
	done(&c);
}

/* The shared budget: weights, alerts off, design odds ratios. */
static void
test_weights(void **state)
{
	struct indicators t;
	struct conf c;

	(void)state;
	shipped(&c);
	c.indicators[0].budget_weight = 0.5;
	c.indicators[1].alerts_off = true;
	c.indicators[1].budget_weight = 2;
	c.indicators[2].design_or_national = 1.3;
	build(&t, &c);
	assert_true(indicator_weight(&t.ind[1]) == 0.5);
	assert_true(t.ind[2].budget_weight == 2);
	assert_false(t.ind[2].alerts);
	assert_true(indicator_weight(&t.ind[2]) == 0);
	assert_true(t.ind[3].design_or_national == 1.3);
	assert_true(t.ind[3].design_or_office == c.design_or_office);
	assert_true(indicator_weight(&t.ind[4]) == 1);
	done(&c);
}

/* Streams: redis.stream first, side streams by the kinds they carry. */
static void
test_streams(void **state)
{
	static char main_stream[] = "stabild:decisions";
	struct indicators t;
	struct conf c;

	(void)state;
	shipped(&c);
	c.indicators[0].stream = s_side;	/* reconsideration */
	c.indicators[3].stream = main_stream;	/* supplement, named */
	build(&t, &c);
	assert_int_equal(t.nstreams, 2);
	assert_string_equal(t.streams[0], "stabild:decisions");
	assert_string_equal(t.streams[1], "side");
	assert_int_equal(t.ind[1].stream, 1);
	assert_int_equal(t.ind[4].stream, 0);
	assert_int_equal(indicators_stream_find(&t, "side"), 1);
	assert_int_equal(indicators_stream_find(&t, "stabild:decisions"), 0);
	assert_int_equal(indicators_stream_find(&t, "other"), -1);
	assert_int_equal(indicators_stream_event(&t, 0), EVENT_DECISION);
	assert_int_equal(indicators_stream_event(&t, 1),
	    EVENT_RECONSIDERATION);
	/* Worked out once, when the table is built, not at each entry. */
	assert_int_equal(t.stream_event[0], EVENT_DECISION);
	assert_int_equal(t.stream_event[1], EVENT_RECONSIDERATION);
	t.ind[1].event = EVENT_APPEAL;
	assert_int_equal(indicators_stream_event(&t, 1),
	    EVENT_RECONSIDERATION);
	assert_int_equal(indicators_stream_event(&t, 2), -1);
	done(&c);

	/* Two kinds on one side stream: entries must say which. */
	shipped(&c);
	c.indicators[0].stream = s_side;
	c.indicators[1].stream = s_side;
	build(&t, &c);
	assert_int_equal(t.nstreams, 2);
	assert_int_equal(indicators_stream_event(&t, 1), -1);
	assert_int_equal(t.stream_event[1], -1);
	/* Entries without `event` on the decision stream are decisions. */
	assert_int_equal(indicators_stream_event(&t, 0), EVENT_DECISION);
	done(&c);
}

/* What conf_load should have refused is refused here too. */
static void
test_refused(void **state)
{
	static char bogus[] = "ruling";
	static char rejection[] = "rejection";
	static char all[] = "all";
	static char granted[] = "granted";
	static char both[] = "changed, unchanged";
	static char unknown_cp[] = "100";
	struct conf c;
	int i;

	(void)state;
	conf_default(&c);
	section(&c, s_appeal, bogus, s_changed, s_unchanged);
	refused(&c, "event: unknown value 'ruling'");
	done(&c);

	conf_default(&c);
	section(&c, s_appeal, s_appeal, granted, s_unchanged);
	refused(&c, "yes: unknown value 'granted'");
	done(&c);

	conf_default(&c);
	section(&c, s_appeal, s_appeal, both, s_unchanged);
	refused(&c, "apart");
	done(&c);

	conf_default(&c);
	section(&c, s_appeal, s_appeal, s_changed, NULL);
	refused(&c, "no: missing");
	done(&c);

	conf_default(&c);
	section(&c, s_appeal, s_appeal, s_changed, s_unchanged)->checkpoint =
	    s_180;
	refused(&c, "checkpoint does not apply");
	done(&c);

	conf_default(&c);
	section(&c, s_timeliness, s_assessment, s_late,
	    s_on_time)->checkpoint = unknown_cp;
	refused(&c, "checkpoint: unknown value '100'");
	done(&c);

	conf_default(&c);
	section(&c, s_appeal, s_appeal, s_yes, s_no)->field =
	    s_supplement_requested;
	refused(&c, "field: unknown value 'supplement_requested'");
	done(&c);

	conf_default(&c);
	section(&c, rejection, s_appeal, s_changed, s_unchanged);
	refused(&c, "name taken");
	done(&c);

	conf_default(&c);
	section(&c, all, s_appeal, s_changed, s_unchanged);
	refused(&c, "name taken");
	done(&c);

	conf_default(&c);
	section(&c, s_appeal, s_appeal, s_changed, s_unchanged);
	section(&c, s_appeal, s_appeal, s_changed, s_unchanged);
	refused(&c, "name taken");
	done(&c);

	conf_default(&c);
	for (i = 0; i < CONF_MAX_INDICATORS; i++)
		section(&c, s_appeal, s_appeal, s_changed, s_unchanged);
	c.nindicators = CONF_MAX_INDICATORS + 1;
	refused(&c, "more than 15 indicators");
	done(&c);
}

/* The vocabularies the table is built with, both ways. */
static void
test_vocabulary(void **state)
{
	int e, o, d, n;

	(void)state;
	for (e = 0; e < DECISION_NEVENTS; e++) {
		assert_int_equal(decision_event_parse(decision_event_name(e)),
		    e);
		n = 0;
		for (o = 0; o < DECISION_NOUTCOMES; o++) {
			const char *name = decision_outcome_name_in(e, o);

			if (strcmp(name, "unknown") == 0)
				continue;
			n++;
			assert_int_equal(decision_outcome_parse(e, name), o);
			assert_non_null(strstr(decision_outcome_list(e),
			    name));
		}
		assert_int_equal(n, e == EVENT_DECISION ? 4 : 2);
		for (d = 1; d < DECISION_NDETAILS; d++) {
			const char *name = decision_detail_name(e, d);

			if (strcmp(name, "unknown") == 0)
				continue;
			assert_int_equal(decision_detail_parse(e, name), d);
		}
	}
	/* One event's outcomes are not another's. */
	assert_int_equal(decision_outcome_parse(EVENT_RECONSIDERATION,
	    "rejected"), -1);
	assert_int_equal(decision_outcome_parse(EVENT_DECISION, "changed"),
	    -1);
	assert_int_equal(decision_outcome_parse(EVENT_APPEAL, "changed"),
	    OUTCOME_CHANGED);
	assert_string_equal(decision_outcome_name(OUTCOME_CHANGED), "unknown");
	assert_int_equal(decision_event_parse("ruling"), -1);
	assert_null(decision_detail_key(EVENT_APPEAL));
	assert_int_equal(decision_detail_parse(EVENT_APPEAL, "90"), -1);
	assert_int_equal(decision_detail_parse(EVENT_ASSESSMENT, "365"),
	    DETAIL_CHECKPOINT_365);
	assert_string_equal(decision_event_noun(EVENT_APPEAL),
	    "court rulings");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_builtin),
		cmocka_unit_test(test_classify_rejection),
		cmocka_unit_test(test_configured),
		cmocka_unit_test(test_indicators_of),
		cmocka_unit_test(test_changed_to),
		cmocka_unit_test(test_series_outcome),
		cmocka_unit_test(test_signatures),
		cmocka_unit_test(test_weights),
		cmocka_unit_test(test_streams),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_vocabulary),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
