/*
 * Fuzz target: one file of the delivery outbox as spool_open loads it at
 * start. A damaged file must be set aside (renamed to .bad) with a
 * reason; one that loads must list, and must be due, retried and expired
 * as the spool's rules say.
 *
 * Input: the file's bytes. It is stored under the name the spool expects
 * for the "id" it holds (when it holds one), so that mutations get past
 * the name check to the item itself.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fuzzfile.h"
#include "spool.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct spool *sp;
	struct spool_item *it;
	json_error_t jerr;
	json_t *o, *j;
	const char *id = NULL;
	char name[128], *path, *cause = NULL;
	int n, i;

	fuzzfile_init();
	o = json_loadb((const char *)data, size, 0, &jerr);
	if (o != NULL)
		id = json_string_value(json_object_get(o, "id"));
	if (id != NULL) {
		memcpy(name, "outbox/", 7);
		spool_file_name(id, name + 7, sizeof name - 7);
	} else
		snprintf(name, sizeof name, "outbox/no-id.json");
	json_decref(o);
	path = fuzzfile_write(name, data, size);

	if ((sp = spool_open(fuzzfile_dir(), &cause)) == NULL)
		abort();
	n = spool_count(sp);
	if (n > 1)
		abort();
	for (i = 0; i < n; i++) {
		if ((j = spool_item_json(spool_at(sp, i))) == NULL)
			abort();
		json_decref(j);
	}
	if (spool_pending(sp) > n)
		abort();
	/* Due now or later, never twice. */
	(void)spool_next_time(sp);
	if ((it = spool_next_due(sp, INT64_MAX / 4)) != NULL &&
	    spool_next_due(sp, INT64_MAX / 4) != NULL)
		abort();
	spool_close(sp);
	fuzzfile_clear("outbox");
	free(path);
	return 0;
}
