/*
 * The arrival-order check. Each order runs in a child process, so that
 * a crash in one is reported as such and the others still run; the child
 * writes what it ended with as sorted "key<TAB>value" lines to a file,
 * and the parent compares the files of the other orders with time's.
 */
#include <sys/wait.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "alert.h"
#include "decision.h"
#include "ingest.h"
#include "log.h"
#include "monitor.h"
#include "period.h"
#include "series.h"
#include "simfeed.h"
#include "simmodel.h"
#include "simorder.h"
#include "xmalloc.h"


/* What a run ends with, one kind of thing per category. */
enum simorder_cat { SIMORDER_STATS, SIMORDER_MODELS, SIMORDER_ALERTS };
#define SIMORDER_NCATS 3
static const char simorder_tag[SIMORDER_NCATS] = { 'S', 'M', 'A' };
static const char *simorder_what[SIMORDER_NCATS] = {
	"series-weeks", "models", "alerts",
};

/* The lines of one run. */
struct simorder_lines {
	char	**v;
	size_t	  n;
	int	  failed;	/* the run did not finish: why, printed */
};

/* Write every series' weeks, the models and the alerts to f. */
static void
simorder_dump(FILE *f, struct simfeed *fd)
{
	const struct series_set *set = ingest_series(fd->in);
	const struct series *se;
	const struct bucket *b;
	char label[PERIOD_LABEL_MAX];
	json_t *models, *alerts, *m, *fit, *win;
	size_t i;
	int32_t w, last;

	for (se = series_first(set); se != NULL; se = series_next(set, se)) {
		last = series_last_week(se);
		for (w = series_first_week(se); w <= last; w++) {
			if ((b = series_week(se, w)) == NULL)
				continue;
			period_week_label(w, label);
			fprintf(f, "S %s/%s/%s/%s\tn=%u rejected=%u\n",
			    series_office_name(set, series_office(se)),
			    fd->c.benefits[series_benefit(se)],
			    decision_kind_name(series_kind(se)), label, b->n,
			    b->rejected);
		}
	}
	models = monitor_models_json(fd->mon);
	json_array_foreach(models, i, m) {
		fit = json_object_get(m, "fit");
		win = json_object_get(m, "reference_window");
		fprintf(f, "M %s/%s\t", json_string_value(json_object_get(m,
		    "benefit")), json_string_value(json_object_get(m, "kind")));
		if (fit == NULL)
			fprintf(f, "not fitted\n");
		else
			fprintf(f, "v%" JSON_INTEGER_FORMAT " weeks %s..%s "
			    "decisions=%" JSON_INTEGER_FORMAT "\n",
			    json_integer_value(json_object_get(m, "version")),
			    json_string_value(json_object_get(win, "from")),
			    json_string_value(json_object_get(win, "to")),
			    json_integer_value(json_object_get(fit,
			    "decisions")));
	}
	json_decref(models);
	/*
	 * The store at the end, not what was handed on: alerts of history
	 * are not delivered, and a replay may withdraw them.
	 */
	alerts = monitor_alerts_json(fd->mon, NULL, NULL, NULL, NULL, NULL);
	json_array_foreach(alerts, i, m) {
		fprintf(f, "A %s\tonset=%s %s %s\n",
		    json_string_value(json_object_get(m, "alert_id")),
		    json_string_value(json_object_get(m, "onset")),
		    json_string_value(json_object_get(m, "classification")),
		    json_string_value(json_object_get(m, "status")));
	}
	json_decref(alerts);
}

/* The child: one order through ingest and the monitor into path. */
static void
simorder_child(const struct sim_options *o, const char *path)
{
	struct simfeed fd;
	struct sim *s;
	char *cause = NULL;
	FILE *f;

	simfeed_open(&fd, 0, false, NULL);
	if ((s = sim_create(o, &cause)) == NULL)
		fatalx("simorder: %s", cause);
	simfeed_run(&fd, s);
	sim_free(s);
	if ((f = fopen(path, "w")) == NULL)
		fatal("simorder: %s", path);
	simorder_dump(f, &fd);
	if (fclose(f) != 0)
		fatal("simorder: %s", path);
	simfeed_close(&fd);
}

static int
simorder_strcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Run an order in a child and read its lines back, sorted. */
/* A run under way: its child and the file it writes. */
struct simorder_child_run {
	pid_t	pid;
	int	order;
	char	path[32];
};

/* Start one order in a forked child, so that a crash is reported. */
static void
simorder_start(const struct sim_options *o, struct simorder_child_run *cr)
{
	int fd;

	snprintf(cr->path, sizeof cr->path, "/tmp/stabild-simorder-XXXXXX");
	cr->order = o->order;
	if ((fd = mkstemp(cr->path)) == -1)
		fatal("simorder: mkstemp");
	close(fd);
	fflush(stdout);
	if ((cr->pid = fork()) == -1)
		fatal("simorder: fork");
	if (cr->pid == 0) {
		simorder_child(o, cr->path);
		fflush(stdout);
		_exit(0);
	}
}

/* Wait for a run and read its lines, sorted. */
static void
simorder_collect(struct simorder_child_run *cr, struct simorder_lines *out)
{
	char *line = NULL;
	size_t cap = 0, alloc = 0;
	ssize_t len;
	int status;
	FILE *f;

	memset(out, 0, sizeof *out);
	while (waitpid(cr->pid, &status, 0) == -1 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		if (WIFSIGNALED(status))
			printf("simorder: %s: died of signal %d\n",
			    sim_order_name(cr->order), WTERMSIG(status));
		else
			printf("simorder: %s: exit status %d\n",
			    sim_order_name(cr->order), WEXITSTATUS(status));
		out->failed = 1;
		unlink(cr->path);
		return;
	}
	if ((f = fopen(cr->path, "r")) == NULL)
		fatal("simorder: %s", cr->path);
	while ((len = getline(&line, &cap, f)) != -1) {
		if (len > 0 && line[len - 1] == '\n')
			line[len - 1] = '\0';
		if (out->n == alloc) {
			alloc = alloc == 0 ? 4096 : alloc * 2;
			out->v = xreallocarray(out->v, alloc, sizeof *out->v);
		}
		out->v[out->n++] = xstrdup(line);
	}
	free(line);
	fclose(f);
	unlink(cr->path);
	qsort(out->v, out->n, sizeof *out->v, simorder_strcmp);
}

static void
simorder_lines_free(struct simorder_lines *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

/* Length of a line's key (up to the tab). */
static size_t
simorder_keylen(const char *s)
{
	const char *tab = strchr(s, '\t');

	return tab != NULL ? (size_t)(tab - s) : strlen(s);
}

/*
 * Compare category cat of b against the reference a: counts of keys
 * only in a (missing), only in b (extra) and in both with other values;
 * the first difference into ex.
 */
static int
simorder_compare(const struct simorder_lines *a, const struct simorder_lines *b,
    int cat, size_t *total, char *ex, size_t exlen)
{
	size_t i = 0, j = 0, la, lb, missing = 0, extra = 0, differ = 0;
	char tag = simorder_tag[cat];
	int c;

	*total = 0;
	*ex = '\0';
	while (i < a->n || j < b->n) {
		if (i < a->n && a->v[i][0] != tag) {
			i++;
			continue;
		}
		if (j < b->n && b->v[j][0] != tag) {
			j++;
			continue;
		}
		if (i < a->n)
			(*total)++;
		if (i == a->n)
			c = 1;
		else if (j == b->n)
			c = -1;
		else {
			la = simorder_keylen(a->v[i]);
			lb = simorder_keylen(b->v[j]);
			c = strncmp(a->v[i], b->v[j], la < lb ? la : lb);
			if (c == 0)
				c = la < lb ? -1 : la > lb;
		}
		if (c < 0) {
			if (missing++ == 0 && *ex == '\0')
				snprintf(ex, exlen, "missing %s", a->v[i] + 2);
			i++;
		} else if (c > 0) {
			if (extra++ == 0 && *ex == '\0')
				snprintf(ex, exlen, "extra %s", b->v[j] + 2);
			j++;
		} else {
			if (strcmp(a->v[i], b->v[j]) != 0 && differ++ == 0 &&
			    *ex == '\0')
				snprintf(ex, exlen, "%s, time order %s",
				    b->v[j] + 2, a->v[i] + simorder_keylen(
				    a->v[i]) + 1);
			i++;
			j++;
		}
	}
	if (missing + extra + differ > 0) {
		snprintf(ex + strlen(ex), exlen - strlen(ex), " (%zu missing, "
		    "%zu extra, %zu differ)", missing, extra, differ);
		return 1;
	}
	return 0;
}

int
simorder_check(uint64_t seed, int weeks, double per_week)
{
	static const int orders[] = { SIM_ORDER_SHUFFLED, SIM_ORDER_OFFICE };
	struct sim_options o;
	struct simorder_lines ref, got;
	struct simorder_child_run runs[3];
	char *cause = NULL, ex[SIMORDER_NCATS][512];
	size_t total[SIMORDER_NCATS];
	int failed = 0, bad[SIMORDER_NCATS], k, c;

	sim_options_default(&o);
	o.seed = seed;
	o.weeks = weeks;
	o.per_week = per_week;
	o.timestamps = SIM_TS_UNIX;
	if (sim_start_parse(&o, "2015-01-05", &cause) == -1)
		fatalx("simorder: %s", cause);
	printf("simorder: %d weeks of %.0f decisions, seed %llu, compared "
	    "with time order\n", weeks, per_week, (unsigned long long)seed);
	/* Two at a time: the machines that run this have two cores. */
	o.order = SIM_ORDER_TIME;
	simorder_start(&o, &runs[0]);
	o.order = orders[0];
	simorder_start(&o, &runs[1]);
	simorder_collect(&runs[0], &ref);
	o.order = orders[1];
	simorder_start(&o, &runs[2]);
	if (ref.failed) {
		simorder_collect(&runs[1], &got);
		simorder_lines_free(&got);
		simorder_collect(&runs[2], &got);
		simorder_lines_free(&got);
		return 1;
	}
	for (c = 0; c < SIMORDER_NCATS; c++) {
		simorder_compare(&ref, &ref, c, &total[c], ex[c], sizeof ex[c]);
	}
	printf("simorder: time: %zu series-weeks, %zu models, %zu alerts\n",
	    total[SIMORDER_STATS], total[SIMORDER_MODELS],
	    total[SIMORDER_ALERTS]);
	for (k = 0; k < (int)(sizeof orders / sizeof orders[0]); k++) {
		o.order = orders[k];
		simorder_collect(&runs[k + 1], &got);
		if (got.failed) {
			failed += SIMORDER_NCATS;
			continue;
		}
		printf("simorder: %s:", sim_order_name(o.order));
		for (c = 0; c < SIMORDER_NCATS; c++) {
			bad[c] = simorder_compare(&ref, &got, c, &total[c],
			    ex[c], sizeof ex[c]);
			failed += bad[c];
			printf("%s %s %s", c > 0 ? ";" : "",
			    simorder_what[c], bad[c] ? "DIFFER" : "same");
			if (bad[c])
				printf(": %s", ex[c]);
		}
		printf("\n");
		simorder_lines_free(&got);
	}
	simorder_lines_free(&ref);
	return failed;
}
