/*
 * Fuzz target: the checkpoint as the daemon loads it at start
 * (ingest_open): the file's framing, then each section's loader (the
 * ingest state, the series, the dedup window, the drift monitor, the
 * records index, read but not opened). A damaged file must be refused
 * with a reason; one that loads must answer the API's questions.
 *
 * Input: the file without its trailing SHA-256, which is added here, so
 * that mutations reach the section loaders instead of the checksum.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "conf.h"
#include "explain.h"
#include "fuzzfile.h"
#include "ingest.h"
#include "log.h"
#include "monitor.h"
#include "series.h"
#include "xmalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct conf fuzz_conf;

static int
fuzz_records_cb(void *arg, struct records_view *view)
{
	struct ingest *const *in = arg;

	return *in != NULL ? ingest_records_view(*in, view) : -1;
}

/*
 * The configuration of the daemon run that made the seeds (seeds.py),
 * without its records files: the checkpoint's index of them is read but
 * not checked against files that are not there.
 */
static const char fuzz_conf_text[] =
    "[state]\ndedup_window = 1000\nrecords = off\n"
    "[benefits]\nlist = sjukpenning\n"
    "[periods]\nretention = 1y\nmax_offices = 4\n"
    "[detector]\nreference_weeks = 52\nmin_reference_weeks = 13\n"
    "learning_weeks = 2\n";

static void
fuzz_setup(void)
{
	char *path, *cause = NULL;

	fuzzfile_init();
	path = fuzzfile_write("stabild.conf", (const uint8_t *)fuzz_conf_text,
	    sizeof fuzz_conf_text - 1);
	conf_default(&fuzz_conf);
	if (conf_load(&fuzz_conf, path, &cause) == -1)
		fatalx("fuzz: %s", cause);
	free(path);
	free(fuzz_conf.state_dir);
	fuzz_conf.state_dir = xstrdup(fuzzfile_dir());
}

/* What GET /v1/series, /v1/alerts and /v1/model read of a loaded state. */
static void
fuzz_read(const struct monitor *mon, const struct ingest *in)
{
	const struct series_set *set = ingest_series(in);
	const struct series *s;
	json_t *j;
	int n = 0;

	for (s = series_first(set); s != NULL && n < 8;
	    s = series_next(set, s), n++) {
		if ((j = monitor_series_json(mon, s)) != NULL)
			json_decref(j);
		if ((j = monitor_control_json(mon, s, 13)) != NULL)
			json_decref(j);
	}
	if ((j = monitor_alerts_json(mon, NULL, NULL, NULL, NULL,
	    NULL)) != NULL)
		json_decref(j);
	if ((j = monitor_models_json(mon)) != NULL)
		json_decref(j);
	if ((j = monitor_funnel_json(mon, set, 0, 0, 13)) != NULL)
		json_decref(j);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct explain_registry *reg;
	struct monitor *mon;
	struct ingest *in = NULL;
	unsigned char *file;
	unsigned int hashlen = 0;
	char *path, *cause = NULL;

	if (fuzz_conf.state_dir == NULL)
		fuzz_setup();
	file = xmalloc(size + EVP_MAX_MD_SIZE);
	if (size > 0)
		memcpy(file, data, size);
	if (EVP_Digest(file, size, file + size, &hashlen, EVP_sha256(),
	    NULL) != 1)
		abort();
	path = fuzzfile_write("checkpoint", file, size + hashlen);
	free(file);

	reg = explain_create();
	mon = monitor_create(&fuzz_conf, reg, fuzz_records_cb, &in, NULL);
	in = ingest_create(&fuzz_conf, monitor_detector(mon));
	if (ingest_open(in, &cause) == 0)
		fuzz_read(mon, in);
	else if (cause == NULL)
		abort();
	else
		log_info("fuzz: refused: %s", cause);
	free(cause);
	ingest_free(in);
	monitor_free(mon);
	explain_free(reg);
	/* The checkpoint and any records files the open made. */
	fuzzfile_clear(NULL);
	free(path);
	return 0;
}
