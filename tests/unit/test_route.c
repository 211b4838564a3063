/*
 * route and ledger: which receivers an alert goes to, and what each was
 * told, kept across a restart.
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
#include "conf.h"
#include "ledger.h"
#include "log.h"
#include "route.h"
#include "xmalloc.h"

static const char routes_conf[] =
    "[benefits]\nlist = sjukpenning, rehab\n"
    "[receiver \"a\"]\ntype = webhook\nurl = http://a\n"
    "[receiver \"b\"]\ntype = webhook\nurl = http://b\n"
    "[receiver \"c\"]\ntype = webhook\nurl = http://c\n"
    "[route \"explained\"]\nclassifications = explained\nreceivers =\n"
    "[route \"south\"]\noffices = K017, K024\ndirections = up\n"
    "receivers = a\ncontinue = on\ngroup_wait = 30s\n"
    "[route \"rehab\"]\nbenefits = rehab\nscopes = national\n"
    "receivers = c\n"
    "[route \"rest\"]\nreceivers = b, a\n";

static void
load(struct conf *c, const char *text)
{
	const char *dir = getenv("TMPDIR");
	char *path, *cause = NULL;
	FILE *f;
	int fd;

	path = xasprintf("%s/test_route.XXXXXX", dir != NULL ? dir : "/tmp");
	assert_true((fd = mkstemp(path)) != -1);
	assert_non_null(f = fdopen(fd, "w"));
	fputs(text, f);
	fclose(f);
	conf_default(c);
	if (conf_load(c, path, &cause) != 0)
		fail_msg("%s", cause);
	unlink(path);
	free(path);
}

static void
alert(struct alert *a, const char *office, const char *benefit,
    enum alert_direction dir, enum alert_classification cls)
{
	memset(a, 0, sizeof *a);
	snprintf(a->id, sizeof a->id, "%s.%s.first.2024-W10.x", office,
	    benefit);
	snprintf(a->office, sizeof a->office, "%s", office);
	snprintf(a->benefit, sizeof a->benefit, "%s", benefit);
	snprintf(a->kind, sizeof a->kind, "first");
	a->scope = strcmp(office, "national") == 0 ? ALERT_NATIONAL :
	    ALERT_OFFICE;
	a->direction = dir;
	a->classification = cls;
	a->seq = 1;
}

/* The receivers as "name/route name ..." for comparing. */
static char *
targets(const struct conf *c, const struct alert *a)
{
	struct route_target t[CONF_MAX_RECEIVERS];
	char buf[512];
	size_t len = 0;
	int i, n = route_targets(c, a, t);

	buf[0] = '\0';
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s/%s",
		    i > 0 ? " " : "", t[i].receiver->name,
		    t[i].route != NULL ? t[i].route->name : "-");
	return xstrdup(buf);
}

static void
expect(const struct conf *c, const char *office, const char *benefit,
    enum alert_direction dir, enum alert_classification cls, const char *want)
{
	struct alert a;
	char *got;

	alert(&a, office, benefit, dir, cls);
	got = targets(c, &a);
	if (strcmp(got, want) != 0)
		fail_msg("%s %s: got \"%s\", want \"%s\"", office, benefit, got,
		    want);
	free(got);
}

static void
test_routes(void **state)
{
	struct conf c;

	(void)state;
	load(&c, routes_conf);
	/* Explained: the first route matches and records only. */
	expect(&c, "K017", "sjukpenning", ALERT_UP, ALERT_EXPLAINED, "");
	/* South, up: a from south, then continue to rest (b; a once). */
	expect(&c, "K017", "sjukpenning", ALERT_UP, ALERT_UNEXPLAINED,
	    "a/south b/rest");
	/* Down does not match south. */
	expect(&c, "K024", "sjukpenning", ALERT_DOWN, ALERT_UNEXPLAINED,
	    "b/rest a/rest");
	/* An office matcher never takes the nation; the rehab scope does. */
	expect(&c, "national", "rehab", ALERT_UP, ALERT_UNEXPLAINED,
	    "c/rehab");
	expect(&c, "K099", "rehab", ALERT_UP, ALERT_UNEXPLAINED,
	    "b/rest a/rest");
	conf_free(&c);

	/* No routes: every receiver, no route. */
	load(&c, "[receiver \"a\"]\ntype = webhook\nurl = http://a\n"
	    "[receiver \"b\"]\ntype = webhook\nurl = http://b\n");
	expect(&c, "K017", "sjukpenning", ALERT_UP, ALERT_EXPLAINED,
	    "a/- b/-");
	conf_free(&c);
}

/*
 * route.indicators: a list of indicator names, rejection among them;
 * unset takes every indicator.
 */
static void
test_route_indicators(void **state)
{
	struct conf_route rt;
	struct alert a;
	char list[] = "reconsideration, appeal";
	char only[] = "rejection";
	char down[] = "down";

	(void)state;
	memset(&rt, 0, sizeof rt);
	alert(&a, "K017", "sjukpenning", ALERT_UP, ALERT_UNEXPLAINED);
	assert_true(route_matches(&rt, &a));
	rt.indicators = list;
	assert_false(route_matches(&rt, &a));
	snprintf(a.indicator, sizeof a.indicator, "reconsideration");
	assert_true(route_matches(&rt, &a));
	snprintf(a.indicator, sizeof a.indicator, "appeal");
	assert_true(route_matches(&rt, &a));
	snprintf(a.indicator, sizeof a.indicator, "appea");
	assert_false(route_matches(&rt, &a));
	snprintf(a.indicator, sizeof a.indicator, "timeliness");
	assert_false(route_matches(&rt, &a));
	rt.indicators = only;
	assert_false(route_matches(&rt, &a));
	a.indicator[0] = '\0';
	assert_true(route_matches(&rt, &a));
	/* Together with the other matchers, all must hold. */
	rt.indicators = list;
	snprintf(a.indicator, sizeof a.indicator, "appeal");
	rt.directions = down;
	assert_false(route_matches(&rt, &a));
	a.direction = ALERT_DOWN;
	assert_true(route_matches(&rt, &a));
}

/* route.indicators from the file: one indicator's alerts to their own desk. */
static void
test_route_indicators_conf(void **state)
{
	struct conf c;
	struct alert a;
	char *got;

	(void)state;
	load(&c, "[indicator \"reconsideration\"]\nevent = reconsideration\n"
	    "yes = changed\nno = unchanged\n"
	    "[receiver \"a\"]\ntype = webhook\nurl = http://a\n"
	    "[receiver \"b\"]\ntype = webhook\nurl = http://b\n"
	    "[route \"recon\"]\nindicators = reconsideration\n"
	    "receivers = b\n"
	    "[route \"rest\"]\nreceivers = a\n");
	alert(&a, "K017", "sjukpenning", ALERT_UP, ALERT_UNEXPLAINED);
	got = targets(&c, &a);
	assert_string_equal(got, "a/rest");
	free(got);
	snprintf(a.indicator, sizeof a.indicator, "reconsideration");
	got = targets(&c, &a);
	assert_string_equal(got, "b/recon");
	free(got);
	conf_free(&c);
}

static void
test_ledger(void **state)
{
	const char *dir = getenv("TMPDIR");
	struct ledger *l;
	struct ledger_entry *e;
	struct alert a;
	char *path, *cause = NULL;
	json_t *j;
	FILE *f;

	(void)state;
	path = xasprintf("%s/test_ledger.%d.json", dir != NULL ? dir : "/tmp",
	    (int)getpid());
	unlink(path);
	assert_non_null(l = ledger_open(path, &cause));
	assert_int_equal(ledger_count(l), 0);
	alert(&a, "K017", "sjukpenning", ALERT_UP, ALERT_UNEXPLAINED);
	j = alert_json(&a, "http://x");
	assert_int_equal(ledger_told(l, a.id, j, "a", 1000, false), 0);
	assert_int_equal(ledger_told(l, a.id, j, "b", 2000, false), 0);
	assert_int_equal(ledger_told(l, a.id, j, "a", 5000, true), 0);
	assert_int_equal(ledger_told(l, "other", j, "a", 7000, false), 0);
	json_decref(j);
	assert_int_equal(ledger_save(l, &cause), 0);
	ledger_free(l);

	/* Back after a restart, as it was. */
	assert_non_null(l = ledger_open(path, &cause));
	assert_int_equal(ledger_count(l), 2);
	assert_non_null(e = ledger_find(l, a.id));
	assert_int_equal(e->ntold, 2);
	assert_string_equal(e->told[0].receiver, "a");
	assert_int_equal(e->told[0].last_sent, 5000);
	assert_int_equal(e->told[0].repeats, 1);
	assert_string_equal(e->told[1].receiver, "b");
	assert_int_equal(e->told[1].repeats, 0);
	assert_int_equal(alert_from_json(e->alert, &a), 0);
	assert_string_equal(a.office, "K017");
	ledger_forget(l, a.id);
	assert_null(ledger_find(l, a.id));
	assert_int_equal(ledger_save(l, &cause), 0);
	ledger_free(l);
	assert_non_null(l = ledger_open(path, &cause));
	assert_int_equal(ledger_count(l), 1);
	ledger_free(l);

	/* A damaged file is refused with a reason. */
	assert_non_null(f = fopen(path, "w"));
	fputs("{\"version\": 1, \"alerts\": [{\"alert_id\": 3}]}", f);
	fclose(f);
	assert_null(ledger_open(path, &cause));
	assert_non_null(strstr(cause, "damaged"));
	free(cause);
	unlink(path);
	free(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_route_indicators),
		cmocka_unit_test(test_route_indicators_conf),
		cmocka_unit_test(test_ledger),
	};

	log_init(LOG_CRIT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
