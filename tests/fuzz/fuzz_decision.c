/*
 * Fuzz target: one stream entry (contract §1) through ingest, as
 * stream_entry hands it over after XREADGROUP: field/value pairs, checked
 * by decision_parse, then counted into the series and the dedup window.
 *
 * Input: the first byte is the separator; the rest, split at it, is
 * name, value, name, value, ... (an odd last piece is a name without a
 * value and is dropped, as stream.c drops it).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "decision.h"
#include "fuzzfile.h"
#include "ingest.h"
#include "log.h"
#include "xmalloc.h"

#define FUZZ_MAX_FIELDS	64
#define FUZZ_NOW	1700000000LL	/* 2023-11-14: a fixed wall clock */

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct conf fuzz_conf;
static struct ingest *fuzz_in;
static struct stream_id fuzz_id;

static void
fuzz_setup(void)
{
	char *cause = NULL;

	fuzzfile_init();
	conf_default(&fuzz_conf);
	free(fuzz_conf.state_dir);
	fuzz_conf.state_dir = xstrdup(fuzzfile_dir());
	fuzz_conf.records = false;
	fuzz_conf.dedup_window = 1000;
	fuzz_in = ingest_create(&fuzz_conf, NULL);
	if (ingest_open(fuzz_in, &cause) == -1)
		fatalx("fuzz: %s", cause);
	fuzz_id.ms = 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct decision_field f[FUZZ_MAX_FIELDS];
	struct decision d;
	const char *p, *end, *next;
	const char *const *benefits;
	char *cause = NULL;
	size_t n = 0, len;
	int sep;

	if (fuzz_in == NULL)
		fuzz_setup();
	if (size < 1)
		return 0;
	sep = data[0];
	p = (const char *)data + 1;
	end = (const char *)data + size;
	while (p <= end && n < 2 * FUZZ_MAX_FIELDS) {
		next = memchr(p, sep, (size_t)(end - p));
		len = next != NULL ? (size_t)(next - p) : (size_t)(end - p);
		if (n % 2 == 0) {
			f[n / 2].name = p;
			f[n / 2].namelen = len;
		} else {
			f[n / 2].value = p;
			f[n / 2].valuelen = len;
		}
		n++;
		if (next == NULL)
			break;
		p = next + 1;
	}
	n /= 2;

	/* The parser on its own, then the whole of ingest. */
	benefits = (const char *const *)fuzz_conf.benefits;
	if (decision_parse(&d, f, n, benefits, fuzz_conf.nbenefits, FUZZ_NOW,
	    fuzz_conf.future_ms / 1000, &cause) == 0) {
		if (d.benefit >= fuzz_conf.nbenefits ||
		    d.kind >= DECISION_NKINDS || d.outcome > OUTCOME_DISMISSED ||
		    strlen(d.id) == 0 || strlen(d.office) == 0)
			abort();
	} else if (cause == NULL)
		abort();
	free(cause);
	cause = NULL;

	fuzz_id.seq++;
	if (ingest_entry(fuzz_in, &fuzz_id, f, n, false, FUZZ_NOW,
	    &cause) == INGEST_INVALID && cause == NULL)
		abort();
	free(cause);
	ingest_tick(fuzz_in, FUZZ_NOW, true);
	return 0;
}
