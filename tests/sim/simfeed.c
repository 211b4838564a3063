/*
 * The simulator straight into ingest and the monitor: one entry at a
 * time with made-up stream ids, as stream.c would hand them over.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "decision.h"
#include "explain.h"
#include "log.h"
#include "monitor.h"
#include "simfeed.h"
#include "simmodel.h"
#include "xmalloc.h"

/* arg points to the ingest, which exists only after the monitor. */
static int
simfeed_records_cb(void *arg, struct records_view *view)
{
	struct ingest *const *in = arg;

	return *in != NULL ? ingest_records_view(*in, view) : -1;
}

/* A copy of a section's string, NULL staying NULL. */
static char *
simfeed_strdup(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

void
simfeed_open(struct simfeed *f, int64_t look_ms, bool outlier,
    const char *explanation)
{
	simfeed_open_conf(f, look_ms, outlier, explanation, NULL, 0);
}

void
simfeed_open_conf(struct simfeed *f, int64_t look_ms, bool outlier,
    const char *explanation, const struct conf_indicator *ind, int n)
{
	char *cause = NULL;
	int i;

	memset(f, 0, sizeof *f);
	f->id.ms = 1;
	strcpy(f->dir, "/tmp/stabild-simcheck-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		fatal("simcheck: mkdtemp");
	conf_default(&f->c);
	free(f->c.state_dir);
	f->c.state_dir = xstrdup(f->dir);
	f->c.dedup_window = 1000;
	if (look_ms > 0)
		f->c.evaluate_every_ms = look_ms;
	f->c.outlier_alerts = outlier;
	if (n > CONF_MAX_INDICATORS)
		fatalx("simcheck: more than %d indicators", CONF_MAX_INDICATORS);
	for (i = 0; i < n; i++) {
		struct conf_indicator *ci = &f->c.indicators[i];

		*ci = ind[i];
		ci->name = simfeed_strdup(ind[i].name);
		ci->event = simfeed_strdup(ind[i].event);
		ci->field = simfeed_strdup(ind[i].field);
		ci->yes = simfeed_strdup(ind[i].yes);
		ci->no = simfeed_strdup(ind[i].no);
		ci->checkpoint = simfeed_strdup(ind[i].checkpoint);
		ci->changed_to = simfeed_strdup(ind[i].changed_to);
		ci->label = simfeed_strdup(ind[i].label);
		ci->description = simfeed_strdup(ind[i].description);
		ci->stream = simfeed_strdup(ind[i].stream);
	}
	f->c.nindicators = n;
	f->reg = explain_create();
	if (explanation != NULL) {
		json_error_t jerr;
		json_t *j = json_loads(explanation, 0, &jerr);
		struct explanation *e;

		if (j == NULL || explain_from_json(j,
		    (const char *const *)f->c.benefits, f->c.nbenefits, &e,
		    &cause) == -1 || explain_add(f->reg, e, &cause) == -1)
			fatalx("simcheck: explanation: %s", cause);
		json_decref(j);
	}
	f->in = NULL;
	/* No loop: fits and strata are read in this thread. */
	f->mon = monitor_create(&f->c, f->reg, simfeed_records_cb, &f->in,
	    NULL);
	f->in = ingest_create(&f->c, monitor_detector(f->mon));
	if (ingest_open(f->in, &cause) == -1)
		fatalx("simcheck: %s", cause);
}

void
simfeed_run(struct simfeed *f, struct sim *s)
{
	struct sim_event ev;
	struct decision_field fields[SIM_MAXFIELDS];
	struct timespec t0, t1;
	char *cause = NULL;
	int i;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (sim_next(s, &ev) == 0) {
		if (f->event != NULL)
			f->event(f->event_arg, &ev);
		for (i = 0; i < ev.nfields; i++) {
			fields[i].name = ev.names[i];
			fields[i].namelen = strlen(ev.names[i]);
			fields[i].value = ev.values[i];
			fields[i].valuelen = ev.lens[i];
		}
		f->id.seq++;
		if (ingest_entry(f->in, &f->id, fields, (size_t)ev.nfields,
		    false, SIMFEED_NOW, &cause) == INGEST_INVALID &&
		    f->nbad++ == 0)
			printf("  invalid: %s\n", cause);
		free(cause);
		cause = NULL;
	}
	/* The stream drained: what a daemon does when it goes idle. */
	ingest_tick(f->in, SIMFEED_NOW, true);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	f->seconds = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
}

void
simfeed_close(struct simfeed *f)
{
	struct dirent *de;
	char path[512];
	DIR *d;

	ingest_free(f->in);
	monitor_free(f->mon);
	explain_free(f->reg);
	if ((d = opendir(f->dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (strncmp(de->d_name, "records", 7) != 0)
				continue;
			snprintf(path, sizeof path, "%s/%s", f->dir,
			    de->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(f->dir);
	conf_free(&f->c);
}
