/*
 * Fuzz target: the configuration file, as the daemon reads it at start
 * and on SIGHUP: conf_load, the explanations it declares, the reload's
 * comparison and swap against a running configuration, and routing of
 * an alert through the routes and receivers it names.
 *
 * Input: the file's bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alert.h"
#include "conf.h"
#include "explain.h"
#include "fuzzfile.h"
#include "route.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_report(const char *key, void *arg)
{
	int *n = arg;

	if (key == NULL || *key == '\0')
		abort();
	(*n)++;
}

/* A fixed alert, for the routes of a configuration that loaded. */
static void
fuzz_route(const struct conf *c)
{
	struct route_target out[CONF_MAX_RECEIVERS];
	struct alert a;
	int n, i;

	memset(&a, 0, sizeof a);
	strcpy(a.id, "K001.sjukpenning.first.2023-W10");
	a.status = ALERT_FIRING;
	a.classification = ALERT_UNEXPLAINED;
	a.scope = ALERT_OFFICE;
	a.direction = ALERT_UP;
	strcpy(a.office, "K001");
	strcpy(a.benefit, c->nbenefits > 0 ? c->benefits[0] : "sjukpenning");
	strcpy(a.kind, "first");
	n = route_targets(c, &a, out);
	if (n < 0 || n > CONF_MAX_RECEIVERS)
		abort();
	for (i = 0; i < n; i++) {
		if (out[i].receiver == NULL ||
		    route_receiver(c, out[i].receiver->name) == NULL)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf c, running;
	struct explain_registry *reg;
	char *path, *cause = NULL;
	int changed = 0;

	fuzzfile_init();
	path = fuzzfile_write("stabild.conf", data, size);
	conf_default(&c);
	if (conf_load(&c, path, &cause) == -1) {
		/* An error names the file and, usually, the line. */
		if (cause == NULL || strncmp(cause, path, strlen(path)) != 0)
			abort();
		free(cause);
		conf_free(&c);
		free(path);
		return 0;
	}

	reg = explain_create();
	if (explain_set_config(reg, &c, &cause) == -1) {
		if (cause == NULL)
			abort();
		free(cause);
		cause = NULL;
	} else if (explain_count(reg) != c.nexplanations)
		abort();
	explain_free(reg);
	fuzz_route(&c);

	/* A reload of this file into a daemon that runs the defaults. */
	conf_default(&running);
	conf_changed_nonreloadable(&running, &c, fuzz_report, &changed);
	conf_apply_reloadable(&running, &c);
	fuzz_route(&running);
	conf_free(&running);
	conf_free(&c);
	free(path);
	return 0;
}
