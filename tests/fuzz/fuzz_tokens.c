/*
 * Fuzz target: the tokens file (auth_load), then role lookups of the
 * Authorization headers a client could send against what loaded.
 *
 * Input: the file's bytes. Every line that looks like "<role> <token>"
 * is also tried as the header "Bearer <token>".
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "fuzzfile.h"
#include "xmalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_headers(const struct auth *a, const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size, *nl, *sp;
	char *header;
	enum auth_role r;

	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		sp = memchr(p, ' ', (size_t)(nl - p));
		if (sp != NULL) {
			header = xasprintf("Bearer %.*s", (int)(nl - sp - 1),
			    sp + 1);
			r = auth_role_of(a, header);
			if (r != AUTH_NONE && r != AUTH_READ && r != AUTH_WRITE)
				abort();
			free(header);
		}
		p = nl + 1;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct auth *a;
	char *path, *cause = NULL;

	fuzzfile_init();
	path = fuzzfile_write("tokens", data, size);
	if ((a = auth_load(path, &cause)) == NULL) {
		if (cause == NULL || strncmp(cause, path, strlen(path)) != 0)
			abort();
		free(cause);
		free(path);
		return 0;
	}
	fuzz_headers(a, data, size);
	if (auth_role_of(a, NULL) != AUTH_NONE ||
	    auth_role_of(a, "Bearer ") != AUTH_NONE)
		abort();
	auth_free(a);
	free(path);
	return 0;
}
