/*
 * Detector simulations with known truth: the simulator's events go
 * straight into ingest and the monitor (no Redis), scenario by scenario,
 * and the alerts they raise are checked against what the design promises.
 * Exit 0 when every check holds; a summary line per scenario either way.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "alert.h"
#include "conf.h"
#include "ingest.h"
#include "log.h"
#include "monitor.h"
#include "period.h"
#include "simfeed.h"
#include "simmodel.h"
#include "simorder.h"
#include "sink.h"
#include "xmalloc.h"

#define MAX_SEEN	4096

struct seen {
	struct alert	a;
	int32_t		detected_week;
};

static struct seen seen[MAX_SEEN];
static int nseen;
static int failures;
static int verbose;
static double sim_tau = -1;
static int64_t look_ms;
static bool outlier_on;

static void
capture_emit(void *arg, const struct alert *a)
{
	struct period p;
	int i;

	(void)arg;
	for (i = 0; i < nseen; i++) {
		if (strcmp(seen[i].a.id, a->id) == 0) {
			seen[i].a = *a;	/* the latest state */
			return;
		}
	}
	if (nseen == MAX_SEEN)
		return;
	seen[nseen].a = *a;
	period_of(a->detected_at - 1, &p);
	seen[nseen].detected_week = p.week;
	nseen++;
}

static const struct sink capture_sink = { "capture", NULL, capture_emit };

struct scenario {
	const char	*name;
	int		 weeks;
	const char	*drift;		/* simulator syntax, or NULL */
	const char	*shift;
	const char	*explanation;	/* JSON, or NULL */
};

struct run {
	int32_t		 week0;		/* linear week of simulation week 0 */
	int32_t		 monitor_from;	/* first week the monitor watched */
	double		 years;		/* monitored */
	double		 seconds;	/* feeding the events */
	uint64_t	 decisions;
	char		 dir[64];
};

static void
check(bool ok, const char *scenario, const char *fmt, ...)
{
	va_list ap;

	printf("  %s %s: ", ok ? "ok  " : "FAIL", scenario);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!ok)
		failures++;
}

/* Run one scenario; alerts land in seen[]. */
static void
run_scenario(const struct scenario *sc, double per_week, uint64_t seed,
    struct run *run)
{
	struct sim_options o;
	struct simfeed f;
	struct period p;
	char *cause = NULL;
	int i;

	nseen = 0;
	sim_options_default(&o);
	o.seed = seed;
	o.weeks = sc->weeks;
	o.per_week = per_week;
	o.timestamps = SIM_TS_UNIX;
	if (sim_tau >= 0)
		o.tau = sim_tau;
	if (sim_start_parse(&o, "2015-01-05", &cause) == -1 ||
	    (sc->shift != NULL && sim_shift_parse(&o, sc->shift, &cause) == -1))
		fatalx("simcheck: %s", cause);
	/* Several drifts are separated by spaces. */
	if (sc->drift != NULL) {
		char *copy = xstrdup(sc->drift), *save = NULL, *one;

		for (one = strtok_r(copy, " ", &save); one != NULL;
		    one = strtok_r(NULL, " ", &save)) {
			if (sim_drift_parse(&o, one, &cause) == -1)
				fatalx("simcheck: %s", cause);
		}
		free(copy);
	}
	period_of(1420444800 + 43200, &p);	/* 2015-01-05 */
	run->week0 = p.week;

	simfeed_open(&f, look_ms, outlier_on, sc->explanation);
	snprintf(run->dir, sizeof run->dir, "%s", f.dir);

	struct sim *s = sim_create(&o, &cause);
	if (s == NULL)
		fatalx("simcheck: %s", cause);
	simfeed_run(&f, s);
	sim_free(s);
	run->seconds = f.seconds;
	run->decisions = ingest_counters(f.in)->counted;
	printf("  %s: %llu decisions counted, %d invalid, %.0f decisions/s "
	    "(simulator, ingest, model and detector)\n", sc->name,
	    (unsigned long long)run->decisions, f.nbad,
	    (double)run->decisions / run->seconds);
	if (verbose) {
		for (i = 0; i < nseen; i++)
			printf("    alert %s detected week %d (sim %d) OR %.2f "
			    "%s\n", seen[i].a.id, seen[i].detected_week,
			    seen[i].detected_week - run->week0,
			    seen[i].a.odds_ratio, alert_classification_name(
			    seen[i].a.classification));
		if (verbose > 1) {
			json_t *j = NULL;
			const struct series *se;

			for (se = series_first(ingest_series(f.in)); se != NULL;
			    se = series_next(ingest_series(f.in), se)) {
				char *t;

				if (series_office(se) != SERIES_NATIONAL)
					continue;
				j = monitor_series_json(f.mon, se);
				t = json_dumps(j, JSON_COMPACT);
				printf("    national %d/%d %s\n",
				    series_benefit(se), series_kind(se), t);
				free(t);
				json_decref(j);
			}
		}
	}
	run->monitor_from = run->week0 + f.c.min_reference_weeks;
	run->years = (sc->weeks - f.c.min_reference_weeks) / 52.1775;

	simfeed_close(&f);
}

static int32_t
onset_week(const struct alert *a)
{
	int32_t w = INT32_MIN;

	period_parse_week(a->onset, &w);
	return w;
}

static bool
series_is(const struct alert *a, const char *office, const char *benefit,
    const char *kind)
{
	return (office == NULL || strcmp(a->office, office) == 0) &&
	    (benefit == NULL || strcmp(a->benefit, benefit) == 0) &&
	    (kind == NULL || strcmp(a->kind, kind) == 0);
}

static int
cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

static int64_t office_volume[SIM_MAXOFFICES];

static int
cmp_office(const void *a, const void *b)
{
	int64_t x = office_volume[*(const int *)a];
	int64_t y = office_volume[*(const int *)b];

	return x < y ? -1 : x > y;
}

/* The office of median volume, from the simulator's first weeks. */
static void
median_office(uint64_t seed, double per_week, char *out, size_t len)
{
	struct sim_options o;
	struct sim_event ev;
	struct sim *s;
	char *cause = NULL;
	int idx[SIM_MAXOFFICES], i, n;

	sim_options_default(&o);
	o.seed = seed;
	o.weeks = 8;
	o.per_week = per_week;
	if (sim_start_parse(&o, "2015-01-05", &cause) == -1 ||
	    (s = sim_create(&o, &cause)) == NULL)
		fatalx("simcheck: %s", cause);
	memset(office_volume, 0, sizeof office_volume);
	while (sim_next(s, &ev) == 0)
		office_volume[ev.office]++;
	n = sim_noffices(s);
	for (i = 0; i < n; i++)
		idx[i] = i;
	qsort(idx, (size_t)n, sizeof *idx, cmp_office);
	snprintf(out, len, "%s", sim_office_name(s, idx[n / 2]));
	sim_free(s);
}

/* Alerts in a group with onset at or after a simulation week. */
static int
count_alerts(const struct run *run, enum alert_scope scope,
    const char *benefit, const char *kind, int from_week, int dir)
{
	int i, n = 0;

	for (i = 0; i < nseen; i++) {
		const struct alert *a = &seen[i].a;

		if (a->scope == scope && series_is(a, NULL, benefit, kind) &&
		    onset_week(a) >= run->week0 + from_week &&
		    (dir < 0 || (int)a->direction == dir))
			n++;
	}
	return n;
}

/* A shift in one office: detected, direction, onset, delay. */
static void
check_office_shift(const char *name, const char *office, int from,
    enum alert_direction dir, const struct run *run)
{
	int delays[64] = { 0 }, n = 0, i, onset_ok = 0, wrong = 0;

	for (i = 0; i < nseen; i++) {
		const struct alert *a = &seen[i].a;

		if (!series_is(a, office, NULL, NULL) ||
		    seen[i].detected_week < run->week0 + from)
			continue;
		if (a->direction != dir) {
			wrong++;
			continue;
		}
		if (n < 64)
			delays[n++] = seen[i].detected_week - (run->week0 +
			    from) + 1;
		if (abs(onset_week(a) - (run->week0 + from)) <= 2)
			onset_ok++;
	}
	qsort(delays, (size_t)n, sizeof *delays, cmp_int);
	check(n > 0, name, "%d %s alerts for %s after the shift (wrong "
	    "direction: %d); median delay %d weeks", n,
	    dir == ALERT_UP ? "up" : "down", office, wrong,
	    n > 0 ? delays[n / 2] : -1);
	printf("       %s: onset within 2 weeks of the shift in %d of %d\n",
	    name, onset_ok, n);
}

int
main(int argc, char **argv)
{
	double per_week = 20000, years;
	int weeks_ic = 52 + 156, shift_at = 80, i, ch, n, off, nat;
	int ic_office, ic_national;
	char office[16], drift[64];
	uint64_t seed = 1;
	struct run run;
	bool quick = false, bench = false, order = false;
	const double F = 12;

	while ((ch = getopt(argc, argv, "bl:oqs:t:v")) != -1) {
		if (ch == 'b')
			bench = true;
		else if (ch == 'o')
			order = true;
		else if (ch == 't')
			sim_tau = strtod(optarg, NULL);
		else if (ch == 'l')
			look_ms = strtoll(optarg, NULL, 10) * 3600 * 1000;
		else if (ch == 'v')
			verbose++;
		else if (ch == 'q')
			quick = true;
		else if (ch == 's')
			seed = strtoull(optarg, NULL, 10);
	}
	if (quick) {
		per_week = 20000;
		weeks_ic = 52 + 104;
	}
	log_init(verbose > 4 ? LOG_DEBUG : verbose > 3 ? LOG_INFO : verbose > 2 ? LOG_NOTICE : LOG_WARNING);
	period_init();
	sink_register(&capture_sink);
	printf("simcheck: %.0f decisions a week, 58 offices, seed %llu\n",
	    per_week, (unsigned long long)seed);

	if (order) {
		/* Arrival order only: two years, the second monitored. */
		n = simorder_check(seed, 104, per_week);
		printf("simorder: %s\n", n == 0 ? "every order gives the same "
		    "results" : "ORDERS DIFFER");
		return n == 0 ? 0 : 1;
	}
	if (bench) {
		/* Throughput only: two years, the model fit after the first. */
		struct scenario sc = { "bench", 104, NULL, NULL, NULL };

		run_scenario(&sc, 60000, seed, &run);
		printf("detect: %llu decisions in %.1f s: %.0f decisions/s "
		    "through ingest, statistics, model and detector (one model "
		    "fit of a year included)\n",
		    (unsigned long long)run.decisions, run.seconds,
		    (double)run.decisions / run.seconds);
		return 0;
	}
	/* 1. In control: the false-alarm rate is the configured one. */
	{
		struct scenario sc = { "in-control", weeks_ic, NULL, NULL,
		    NULL };

		run_scenario(&sc, per_week, seed, &run);
		n = 0;
		for (i = 0; i < nseen; i++)
			n += seen[i].detected_week >= run.monitor_from;
		years = run.years;
		for (i = 0, nat = 0; i < nseen; i++)
			nat += strstr(seen[i].a.id, ".outlier") != NULL;
		check(nat == 0, sc.name, "%d outlier alerts with "
		    "outlier_alerts off", nat);
		check(n >= 0.5 * F * years && n <= 1.5 * F * years,
		    sc.name, "%d false alarms in %.1f monitored years = %.1f "
		    "a year (configured %.0f; allowed %.0f-%.0f)", n, years,
		    n / years, F, 0.5 * F, 1.5 * F);
	}
	/*
	 * Every scenario uses the same seed: until a scenario's change, its
	 * events are those of the in-control run, so the in-control run's
	 * alerts are the baseline that false alarms are judged against.
	 */
	ic_office = count_alerts(&run, ALERT_OFFICE, "sjukpenning", "first",
	    shift_at, ALERT_UP);
	ic_national = count_alerts(&run, ALERT_NATIONAL, NULL, NULL,
	    shift_at - 2, -1);
	median_office(seed, per_week, office, sizeof office);
	printf("  median-size office: %s\n", office);

	/* 2. Median office up by OR 1.5; 3. down by OR 1/1.5. */
	{
		struct scenario sc = { "office-up", shift_at + 40, drift,
		    NULL, NULL };

		snprintf(drift, sizeof drift, "%s:*:*:%d:1.5", office,
		    shift_at);
		run_scenario(&sc, per_week, seed, &run);
		check_office_shift(sc.name, office, shift_at, ALERT_UP, &run);
	}
	{
		struct scenario sc = { "office-down", shift_at + 40, drift,
		    NULL, NULL };

		snprintf(drift, sizeof drift, "%s:*:*:%d:0.6667", office,
		    shift_at);
		run_scenario(&sc, per_week, seed, &run);
		check_office_shift(sc.name, office, shift_at, ALERT_DOWN, &run);
	}
	/* 4. A national shift: a national alert, no office alerts from it. */
	{
		struct scenario sc = { "national", shift_at + 30,
		    "national:sjukpenning:first:80:1.3", NULL, NULL };

		run_scenario(&sc, per_week, seed, &run);
		nat = 0;
		for (i = 0; i < nseen; i++) {
			const struct alert *a = &seen[i].a;

			if (a->scope == ALERT_NATIONAL && series_is(a, NULL,
			    "sjukpenning", "first") && a->direction ==
			    ALERT_UP && seen[i].detected_week >= run.week0 +
			    shift_at)
				nat++;
		}
		off = count_alerts(&run, ALERT_OFFICE, "sjukpenning", "first",
		    shift_at, ALERT_UP);
		check(nat == 1, sc.name, "%d national alert(s) for "
		    "sjukpenning/first", nat);
		for (i = 0; i < nseen; i++) {
			const struct alert *a = &seen[i].a;

			if (a->scope == ALERT_NATIONAL && series_is(a, NULL,
			    "sjukpenning", "first") && seen[i].detected_week >=
			    run.week0 + shift_at)
				check(abs(onset_week(a) - (run.week0 +
				    shift_at)) <= 2, sc.name, "onset %s, detected "
				    "%d weeks after the shift (odds ratio %.2f)",
				    a->onset, seen[i].detected_week -
				    (run.week0 + shift_at) + 1, a->odds_ratio);
		}
		check(off <= ic_office, sc.name, "%d upward office alerts in "
		    "sjukpenning/first after the national shift (in control, "
		    "same seed: %d)", off, ic_office);
	}
	/* 5. Case mix only: more psychiatric diagnoses and longer cases. */
	{
		struct scenario sc = { "case-mix", shift_at + 30, NULL,
		    "80:1.6", NULL };

		run_scenario(&sc, per_week, seed, &run);
		nat = count_alerts(&run, ALERT_NATIONAL, NULL, NULL,
		    shift_at - 2, -1);
		check(nat <= ic_national, sc.name, "%d national alerts after a "
		    "case-mix change (in control, same seed: %d)", nat,
		    ic_national);
	}
	/* 6. Legislation explains; 7. context does not. */
	{
		struct scenario sc = { "legislation", shift_at + 30,
		    "national:sjukpenning:ongoing:80:1.4", NULL,
		    "{\"id\": \"prop-2016\", \"kind\": \"legislation\", "
		    "\"effective_from\": \"2016-07-18\", \"effective_to\": null, "
		    "\"benefits\": [\"sjukpenning\"], \"kinds\": [\"ongoing\"], "
		    "\"offices\": [], \"reference\": \"Prop. 2015/16:1\", "
		    "\"description\": \"test\"}" };
		int expl = 0, unexpl = 0;

		run_scenario(&sc, per_week, seed, &run);
		for (i = 0; i < nseen; i++) {
			const struct alert *a = &seen[i].a;

			if (a->scope != ALERT_NATIONAL || !series_is(a, NULL,
			    "sjukpenning", "ongoing") ||
			    seen[i].detected_week < run.week0 + shift_at)
				continue;
			if (a->classification == ALERT_EXPLAINED)
				expl++;
			else
				unexpl++;
		}
		check(expl == 1 && unexpl == 0, sc.name, "%d explained, %d "
		    "unexplained national alerts", expl, unexpl);
	}
	{
		struct scenario sc = { "context", shift_at + 30,
		    "national:sjukpenning:ongoing:80:1.4", NULL,
		    "{\"id\": \"new-director\", \"kind\": \"context\", "
		    "\"effective_from\": \"2016-07-18\", \"benefits\": [], "
		    "\"kinds\": [], \"offices\": [], \"reference\": \"\", "
		    "\"description\": \"a new director general\"}" };
		int expl = 0, unexpl = 0, ctx = 0;

		run_scenario(&sc, per_week, seed, &run);
		for (i = 0; i < nseen; i++) {
			const struct alert *a = &seen[i].a;

			if (a->scope != ALERT_NATIONAL || !series_is(a, NULL,
			    "sjukpenning", "ongoing") ||
			    seen[i].detected_week < run.week0 + shift_at)
				continue;
			if (a->classification == ALERT_EXPLAINED)
				expl++;
			else
				unexpl++;
			ctx += a->ncontext > 0;
		}
		check(expl == 0 && unexpl == 1 && ctx == 1, sc.name,
		    "%d explained, %d unexplained (%d with the context "
		    "attached)", expl, unexpl, ctx);
	}
	/*
	 * 9. An office drifts (OR 2.5) for 20 weeks and comes back: its
	 * alerts stay firing while the drift lasts and resolve soon after.
	 */
	{
		char drifts[512];
		struct scenario sc = { "office-return", shift_at + 40, drifts,
		    NULL, NULL };
		const int back = shift_at + 20, within = 13;
		int nal = 0, early = 0, in_time = 0, delays[64] = { 0 }, nd = 0, k;
		size_t len = 0;
		struct period p;

		/* Offices K001..K012 of every size: small ones estimate noisily. */
		for (k = 1; k <= 12; k++)
			len += (size_t)snprintf(drifts + len, sizeof drifts - len,
			    "%sK%03d:sjukpenning:*:%d:2.5:%d", k > 1 ? " " : "",
			    k, shift_at, back);
		run_scenario(&sc, per_week, seed, &run);
		for (i = 0; i < nseen; i++) {
			const struct alert *a = &seen[i].a;

			if (a->scope != ALERT_OFFICE ||
			    strncmp(a->office, "K0", 2) != 0 ||
			    atoi(a->office + 1) > 12 ||
			    strcmp(a->benefit, "sjukpenning") != 0 ||
			    a->direction != ALERT_UP ||
			    seen[i].detected_week < run.week0 + shift_at ||
			    seen[i].detected_week >= run.week0 + back)
				continue;
			nal++;
			if (a->status != ALERT_RESOLVED)
				continue;
			period_of(a->resolved_at - 1, &p);
			if (p.week < run.week0 + back)
				early++;
			else if (p.week < run.week0 + back + within) {
				in_time++;
				if (nd < 64)
					delays[nd++] = p.week -
					    (run.week0 + back) + 1;
			}
		}
		qsort(delays, (size_t)nd, sizeof *delays, cmp_int);
		check(nal > 0 && early == 0 && in_time * 4 >= nal * 3,
		    sc.name, "%d alerts in 12 offices during the drift: %d "
		    "resolved while it lasted, %d within %d weeks of its end "
		    "(median %d weeks)", nal, early, in_time, within,
		    nd > 0 ? delays[nd / 2] : -1);
	}
	/* 8. Offices that differ for good: alerts only when asked for. */
	{
		struct scenario sc = { "outliers", 52 + 26, NULL, NULL, NULL };
		int out = 0, up = 0;

		outlier_on = true;
		run_scenario(&sc, per_week, seed, &run);
		outlier_on = false;
		for (i = 0; i < nseen; i++) {
			if (strstr(seen[i].a.id, ".outlier") == NULL)
				continue;
			out++;
			up += (seen[i].a.direction == ALERT_UP) ==
			    (seen[i].a.odds_ratio > 1);
		}
		check(out > 0 && up == out, sc.name, "%d outlier alerts with "
		    "outlier_alerts on, direction agreeing with the odds "
		    "ratio in %d", out, up);
	}
	sink_unregister_all();
	printf("simcheck: %s\n", failures == 0 ? "all checks hold" :
	    "SOME CHECKS FAILED");
	return failures == 0 ? 0 : 1;
}
