/*
 * Fuzz target: silence JSON, both ways it comes in: a POST body checked
 * by silence_from_json, and the state file silences.json read by
 * silence_load at start. An accepted silence is added, matched against
 * alerts, and must read back from its stored form unchanged.
 *
 * Input: the JSON text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "alert.h"
#include "fuzzfile.h"
#include "silence.h"

#define FUZZ_NOW	1700000000LL	/* 2023-11-14: a fixed wall clock */

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_match(const struct silence_registry *reg)
{
	struct alert a;

	memset(&a, 0, sizeof a);
	strcpy(a.id, "K001.sjukpenning.first.2023-W10");
	strcpy(a.office, "K001");
	strcpy(a.benefit, "sjukpenning");
	strcpy(a.kind, "first");
	(void)silence_match(reg, &a, FUZZ_NOW);
	a.scope = ALERT_NATIONAL;
	a.direction = ALERT_DOWN;
	a.classification = ALERT_EXPLAINED;
	strcpy(a.office, "national");
	(void)silence_match(reg, &a, FUZZ_NOW + 86400);
}

/* The stored form of s, as the file holds it, loads back the same. */
static void
fuzz_round_trip(const struct silence *s)
{
	struct silence_registry *reg;
	json_t *j, *file, *j2;
	char *text, *path, *cause = NULL;

	if ((j = silence_to_json(s, FUZZ_NOW)) == NULL)
		abort();
	/* A copy: the file has no "active", the comparison does. */
	file = json_pack("{s:[o]}", "silences", json_deep_copy(j));
	if (file == NULL)
		abort();
	json_object_del(json_array_get(json_object_get(file, "silences"), 0),
	    "active");
	if ((text = json_dumps(file, 0)) == NULL)
		abort();
	path = fuzzfile_write("silences-again.json", (const uint8_t *)text,
	    strlen(text));
	reg = silence_create();
	if (silence_load(reg, path, FUZZ_NOW, &cause) == -1 ||
	    silence_count(reg) != 1)
		abort();
	j2 = silence_to_json(silence_at(reg, 0), FUZZ_NOW);
	if (j2 == NULL || !json_equal(j, j2))
		abort();
	json_decref(j2);
	silence_free(reg);
	free(path);
	free(text);
	json_decref(file);
	json_decref(j);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct silence_registry *reg;
	const struct silence *added;
	struct silence *s;
	json_error_t jerr;
	json_t *o, *list;
	char *path, *cause = NULL;

	fuzzfile_init();

	/* A POST body. */
	o = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES,
	    &jerr);
	if (o != NULL) {
		if (silence_from_json(o, FUZZ_NOW, &s, &cause) == 0) {
			reg = silence_create();
			if ((added = silence_add_saved(reg, s, NULL,
			    &cause)) == NULL)
				abort();
			fuzz_match(reg);
			fuzz_round_trip(added);
			if ((list = silence_list_json(reg, FUZZ_NOW)) == NULL)
				abort();
			json_decref(list);
			silence_free(reg);
		} else if (cause == NULL)
			abort();
		free(cause);
		cause = NULL;
		json_decref(o);
	}

	/* The state file. */
	path = fuzzfile_write("silences.json", data, size);
	reg = silence_create();
	if (silence_load(reg, path, FUZZ_NOW, &cause) == 0) {
		fuzz_match(reg);
		if (silence_count(reg) > 0)
			fuzz_round_trip(silence_at(reg, 0));
	} else if (cause == NULL)
		abort();
	free(cause);
	silence_free(reg);
	free(path);
	return 0;
}
