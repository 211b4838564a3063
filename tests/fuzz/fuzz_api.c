/*
 * Fuzz target: the HTTP API in process. Requests are built as evhttp
 * would hand them over (method, target parsed as evhttp parses it,
 * headers, body) and dispatched through api_handle to the route table,
 * the query checks and the handlers, against a fixed state made once per
 * process: two years of simulated decisions with a drift, so that there
 * are series, models, alerts and explanations to ask about.
 *
 * Input:
 *	METHOD TARGET\n
 *	Name: value\n		(headers, any number)
 *	\n
 *	body
 * The reader's and the writer's tokens are in the dictionary.
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/http_struct.h>
#include <jansson.h>

#include "api.h"
#include "auth.h"
#include "explain.h"
#include "fuzzfile.h"
#include "log.h"
#include "metrics.h"
#include "monitor.h"
#include "silence.h"
#include "simfeed.h"
#include "simmodel.h"
#include "xmalloc.h"

#define FUZZ_MAX_HEADERS	16

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char fuzz_tokens[] =
    "read reader-token-0123456789\n"
    "write writer-token-0123456789abcdef\n";

static struct {
	struct simfeed		 feed;
	struct event_base	*base;
	struct auth		*auth;
	struct silence_registry	*silences;
	struct api		*api;
} fuzz;

static const struct {
	const char		*name;
	enum evhttp_cmd_type	 type;
} fuzz_methods[] = {
	{ "GET", EVHTTP_REQ_GET },
	{ "HEAD", EVHTTP_REQ_HEAD },
	{ "POST", EVHTTP_REQ_POST },
	{ "DELETE", EVHTTP_REQ_DELETE },
	{ "PUT", EVHTTP_REQ_PUT },
	{ "PATCH", EVHTTP_REQ_PATCH },
	{ "OPTIONS", EVHTTP_REQ_OPTIONS },
	{ "TRACE", EVHTTP_REQ_TRACE },
	{ "CONNECT", EVHTTP_REQ_CONNECT },
};

/* A checkpoint the API asks for is answered at once: nothing to save. */
static void
fuzz_checkpoint_cb(void *arg, uint64_t ticket)
{
	(void)arg;
	api_checkpoint_done(fuzz.api, ticket, NULL);
}

static void
fuzz_explained_cb(void *arg)
{
	(void)arg;
	monitor_explanations_changed(fuzz.feed.mon);
	ingest_touch(fuzz.feed.in);
}

static void
fuzz_monitor_changed_cb(void *arg)
{
	(void)arg;
	ingest_touch(fuzz.feed.in);
}

static json_t *
fuzz_deliveries(void *arg)
{
	(void)arg;
	return json_pack("{s:[], s:i}", "outbox", "pending", 0);
}

/* The explanation of the fixed state, registered through the API. */
static const char fuzz_expl[] = "{\"id\": \"hfd-2023-12\", "
    "\"kind\": \"legislation\", \"effective_from\": \"2023-04-03\", "
    "\"benefits\": [\"sjukpenning\"], \"kinds\": [\"ongoing\"], "
    "\"offices\": [], \"reference\": \"Prop. 2020/21:78\"}";

/* The fixed state: a simulated agency with a drift at one office. */
static void
fuzz_setup(void)
{
	struct sim_options o;
	struct sim *s;
	char *path, *cause = NULL;

	fuzzfile_init();
	sim_options_default(&o);
	o.offices = 4;
	o.weeks = 30;
	o.per_week = 1200;
	o.start_year = 2023;
	o.start_mon = 1;
	o.start_mday = 2;
	o.malformed = 0.001;
	o.duplicates = 0.001;
	o.drifts[0] = (struct sim_drift){ 1, 0, 0, 20, -1, log(3.0),
	    SIM_T_REJECTION };
	o.drifts[1] = (struct sim_drift){ -1, 1, -1, 22, -1, log(0.5),
	    SIM_T_REJECTION };
	o.ndrifts = 2;
	if ((s = sim_create(&o, &cause)) == NULL)
		fatalx("fuzz: %s", cause);
	simfeed_open(&fuzz.feed, 0, true, fuzz_expl);
	/* The shortest windows allowed: a few weeks give alerts. */
	fuzz.feed.c.reference_weeks = 52;
	fuzz.feed.c.min_reference_weeks = 13;
	fuzz.feed.c.learning_weeks = 2;
	monitor_set_conf(fuzz.feed.mon, &fuzz.feed.c);
	simfeed_run(&fuzz.feed, s);
	sim_free(s);

	path = fuzzfile_write("tokens", (const uint8_t *)fuzz_tokens,
	    sizeof fuzz_tokens - 1);
	if ((fuzz.auth = auth_load(path, &cause)) == NULL)
		fatalx("fuzz: %s", cause);
	free(path);
	free(fuzz.feed.c.http_bind);
	fuzz.feed.c.http_bind = xstrdup("127.0.0.1");
	fuzz.feed.c.http_port = 0;
	fuzz.feed.c.auth = true;

	if ((fuzz.base = event_base_new()) == NULL)
		fatalx("fuzz: event_base_new");
	fuzz.api = api_create(fuzz.base, &fuzz.feed.c, fuzz.auth,
	    fuzz.feed.in, NULL, &cause);
	if (fuzz.api == NULL)
		fatalx("fuzz: %s", cause);
	fuzz.silences = silence_create();
	api_set_checkpoint(fuzz.api, fuzz_checkpoint_cb, NULL);
	api_set_explanations(fuzz.api, fuzz.feed.reg,
	    (const char *const *)fuzz.feed.c.benefits, fuzz.feed.c.nbenefits,
	    NULL, fuzz_explained_cb, NULL);
	api_set_monitor(fuzz.api, fuzz.feed.mon, fuzz_monitor_changed_cb,
	    NULL);
	api_set_deliveries(fuzz.api, fuzz_deliveries, NULL);
	api_set_silences(fuzz.api, fuzz.silences, NULL);
}

/*
 * Take back what a request added or removed, so that each input meets
 * the same registries (a refit or rebaseline stays: it is the monitor's).
 */
static void
fuzz_reset(void)
{
	const struct explanation *e;
	struct explanation *again;
	json_error_t jerr;
	json_t *j;
	char *cause = NULL;
	bool changed = false;
	int i;

	for (i = explain_count(fuzz.feed.reg) - 1; i >= 0; i--) {
		e = explain_at(fuzz.feed.reg, i);
		if (strcmp(e->id, "hfd-2023-12") != 0) {
			(void)explain_remove(fuzz.feed.reg, e->id);
			changed = true;
		}
	}
	if (explain_find(fuzz.feed.reg, "hfd-2023-12") == NULL) {
		j = json_loads(fuzz_expl, 0, &jerr);
		if (j == NULL || explain_from_json(j,
		    (const char *const *)fuzz.feed.c.benefits,
		    fuzz.feed.c.nbenefits, &again, &cause) == -1 ||
		    explain_add(fuzz.feed.reg, again, &cause) == -1)
			abort();
		json_decref(j);
		changed = true;
	}
	if (changed)
		monitor_explanations_changed(fuzz.feed.mon);
	while (silence_count(fuzz.silences) > 0) {
		if (silence_remove_saved(fuzz.silences,
		    silence_at(fuzz.silences, 0)->id, NULL, &cause) == -1)
			abort();
	}
}

/* The next line of [*p, end) without its CR LF; NULL at the end. */
static char *
fuzz_line(const char **p, const char *end)
{
	const char *start = *p, *nl, *stop;

	if (start >= end)
		return NULL;
	if ((nl = memchr(start, '\n', (size_t)(end - start))) == NULL)
		nl = end;
	stop = nl;
	if (stop > start && stop[-1] == '\r')
		stop--;
	*p = nl < end ? nl + 1 : end;
	return xstrndup(start, (size_t)(stop - start));
}

static uint64_t
fuzz_answers(void)
{
	uint64_t n = 0;
	int i;

	for (i = 0; i < 6; i++)
		n += metrics.http_requests[i];
	return n;
}

/*
 * A request as evhttp makes it from the wire: NULL for what evhttp
 * itself refuses before any callback (a target it cannot parse, a header
 * it would not take, a body over the limit).
 */
static struct evhttp_request *
fuzz_request(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size, *sp;
	struct evhttp_request *req;
	char *line, *colon, *value;
	size_t i;
	int nheaders = 0;

	if ((line = fuzz_line(&p, end)) == NULL)
		return NULL;
	if ((sp = strchr(line, ' ')) == NULL || strchr(sp + 1, ' ') != NULL) {
		free(line);
		return NULL;
	}
	for (i = 0; i < sizeof fuzz_methods / sizeof fuzz_methods[0]; i++) {
		if ((size_t)(sp - line) == strlen(fuzz_methods[i].name) &&
		    memcmp(line, fuzz_methods[i].name, (size_t)(sp - line)) == 0)
			break;
	}
	if (i == sizeof fuzz_methods / sizeof fuzz_methods[0]) {
		free(line);
		return NULL;
	}
	req = evhttp_request_new(NULL, NULL);
	req->type = fuzz_methods[i].type;
	req->uri = xstrdup(sp + 1);
	free(line);
	/* As evhttp_parse_request_line does. */
	req->uri_elems = evhttp_uri_parse_with_flags(req->uri,
	    EVHTTP_URI_NONCONFORMANT);
	if (req->uri_elems == NULL)
		goto refuse;

	while ((line = fuzz_line(&p, end)) != NULL && *line != '\0') {
		if ((colon = strchr(line, ':')) == NULL ||
		    nheaders++ == FUZZ_MAX_HEADERS) {
			free(line);
			goto refuse;
		}
		*colon = '\0';
		value = colon + 1;
		value += strspn(value, " \t");
		if (evhttp_add_header(req->input_headers, line, value) == -1) {
			free(line);
			goto refuse;
		}
		free(line);
	}
	free(line);
	if ((size_t)(end - p) > fuzz.feed.c.http_max_body)
		goto refuse;
	evbuffer_add(req->input_buffer, p, (size_t)(end - p));
	return req;

refuse:
	evhttp_request_free(req);
	return NULL;
}

/*
 * The fixed state (30 simulated weeks, models and thresholds) is built
 * before the first input, outside libFuzzer's per-input time limit: on a
 * busy machine it takes longer than that limit.
 */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_setup();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct evhttp_request *req;
	uint64_t before;

	if (fuzz.api == NULL)
		fuzz_setup();
	if ((req = fuzz_request(data, size)) == NULL)
		return 0;
	before = fuzz_answers();
	api_handle(fuzz.api, req);
	/* Exactly one answer (and evhttp freed the request with it). */
	if (fuzz_answers() != before + 1)
		abort();
	fuzz_reset();
	return 0;
}
