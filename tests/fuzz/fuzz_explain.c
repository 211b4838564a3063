/*
 * Fuzz target: explanation JSON (contract §2), both ways it comes in: a
 * POST body checked by explain_from_json, and the state file
 * explanations.json read by explain_load at start. An accepted entry must
 * survive a round trip through explain_to_json unchanged, and the
 * matching rules run on it.
 *
 * Input: the JSON text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "explain.h"
#include "fuzzfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char *const fuzz_benefits[] = {
	"sjukpenning", "rehabiliteringsersattning", "sjukersattning",
	"aktivitetsersattning", NULL
};
#define FUZZ_NBENEFITS	4

/* to_json, without what the API adds, must parse back to the same. */
static void
fuzz_round_trip(const struct explanation *e)
{
	struct explanation *e2;
	json_t *j, *j2;
	char *cause = NULL;

	if ((j = explain_to_json(e, fuzz_benefits)) == NULL)
		abort();
	json_object_del(j, "source");
	json_object_del(j, "created_at");
	if (explain_from_json(j, fuzz_benefits, FUZZ_NBENEFITS, &e2,
	    &cause) == -1)
		abort();
	e2->created_at = e->created_at;
	e2->from_config = e->from_config;
	if ((j2 = explain_to_json(e2, fuzz_benefits)) == NULL)
		abort();
	json_object_del(j2, "source");
	json_object_del(j2, "created_at");
	if (!json_equal(j, j2))
		abort();
	json_decref(j2);
	json_decref(j);
	explain_entry_free(e2);
}

static void
fuzz_match(const struct explain_registry *reg)
{
	const struct explanation *cov[4], *ctx[4];
	int i, n, nctx;

	for (i = 0; i < explain_count(reg); i++) {
		n = explain_match(reg, NULL, "K001", 0, 0,
		    explain_at(reg, i)->from_day, 28, 56, cov, 4, ctx, 4,
		    &nctx);
		if (n < 0 || nctx < 0)
			abort();
		(void)explain_match(reg, NULL, EXPLAIN_NATIONAL, 3, 1,
		    explain_at(reg, i)->to_day, 0, 0, cov, 4, ctx, 4, &nctx);
		(void)explain_match(reg, "reconsideration", "K001", 1, 0,
		    explain_at(reg, i)->from_day, 28, 56, cov, 4, ctx, 4,
		    &nctx);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct explain_registry *reg;
	struct explanation *e;
	json_error_t jerr;
	json_t *o;
	char *path, *cause = NULL;

	fuzzfile_init();

	/* A POST body. */
	o = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES,
	    &jerr);
	if (o != NULL) {
		if (explain_from_json(o, fuzz_benefits, FUZZ_NBENEFITS, &e,
		    &cause) == 0) {
			fuzz_round_trip(e);
			reg = explain_create();
			if (explain_add(reg, e, &cause) == -1)
				abort();
			fuzz_match(reg);
			explain_free(reg);
		} else if (cause == NULL)
			abort();
		free(cause);
		cause = NULL;
		json_decref(o);
	}

	/* The state file. */
	path = fuzzfile_write(EXPLAIN_STATE_FILE, data, size);
	reg = explain_create();
	if (explain_load(reg, path, fuzz_benefits, FUZZ_NBENEFITS,
	    &cause) == 0) {
		fuzz_match(reg);
		if (explain_count(reg) > 0)
			fuzz_round_trip(explain_at(reg, 0));
	} else if (cause == NULL)
		abort();
	free(cause);
	explain_free(reg);
	free(path);
	return 0;
}
