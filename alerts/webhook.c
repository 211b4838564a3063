/*
 * Webhook request building: header lines and the HMAC-SHA256 signature
 * over "<timestamp>.<body>". Pure functions; see webhook.h for the exact
 * signed material.
 */
#include <ctype.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "webhook.h"
#include "xmalloc.h"

#define WEBHOOK_NFIXED	4	/* header lines before the extras */

/* Headers an extra line may not set: ours, or a second one confuses. */
static const char *const webhook_reserved[] = {
	"Content-Type",
	"Idempotency-Key",
	"X-Stabild-Timestamp",
	"X-Stabild-Signature",
	"Content-Length",
	"Host",
	NULL
};

char *
webhook_signature(const char *secret, size_t secretlen, int64_t timestamp,
    const void *body, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;
	char prefix[32], *msg, *out = NULL;
	size_t plen;
	int n;

	if (secretlen > INT_MAX || (body == NULL && len != 0))
		return NULL;
	n = snprintf(prefix, sizeof prefix, "%" PRId64 ".", timestamp);
	if (n < 0 || (size_t)n >= sizeof prefix)
		return NULL;
	plen = (size_t)n;
	if (len > SIZE_MAX - plen)
		return NULL;

	/* The signed material: "<timestamp>." then the body bytes. */
	msg = xmalloc(plen + len);
	memcpy(msg, prefix, plen);
	if (len != 0)
		memcpy(msg + plen, body, len);
	if (HMAC(EVP_sha256(), secretlen != 0 ? secret : "", (int)secretlen,
	    (const unsigned char *)msg, plen + len, md, &mdlen) == NULL)
		goto out;

	out = xmalloc(sizeof "sha256=" - 1 + 2 * (size_t)mdlen + 1);
	memcpy(out, "sha256=", sizeof "sha256=" - 1);
	for (i = 0; i < mdlen; i++) {
		out[7 + 2 * i] = hex[md[i] >> 4];
		out[7 + 2 * i + 1] = hex[md[i] & 0xf];
	}
	out[7 + 2 * mdlen] = '\0';
out:
	free(msg);
	return out;
}

/* Is line a "Name: value" header with a token name and no CR or LF? */
static int
webhook_line_ok(const char *line)
{
	const char *p;

	if (strpbrk(line, "\r\n") != NULL)
		return 0;
	for (p = line; *p != '\0' && *p != ':'; p++) {
		if (!isgraph((unsigned char)*p))
			return 0;
	}
	return *p == ':' && p != line;
}

/* Does line set one of the reserved headers? */
static int
webhook_line_reserved(const char *line)
{
	const char *const *r;
	size_t n;

	n = strcspn(line, ":");
	for (r = webhook_reserved; *r != NULL; r++) {
		if (strlen(*r) == n && strncasecmp(line, *r, n) == 0)
			return 1;
	}
	return 0;
}

int
webhook_headers(char ***out, const char *idempotency_key, const char *secret,
    size_t secretlen, int64_t timestamp, const void *body, size_t len,
    const char *const *extra)
{
	char **h = NULL, *sig;
	const char *p;
	size_t nextra = 0, i, n = 0;

	*out = NULL;
	if (idempotency_key == NULL || *idempotency_key == '\0')
		return -1;
	for (p = idempotency_key; *p != '\0'; p++) {
		if (iscntrl((unsigned char)*p))
			return -1;
	}
	for (i = 0; extra != NULL && extra[i] != NULL; i++) {
		if (!webhook_line_ok(extra[i]) ||
		    webhook_line_reserved(extra[i]))
			return -1;
	}
	nextra = i;

	h = xcalloc(WEBHOOK_NFIXED + nextra + 1, sizeof *h);
	h[n++] = xstrdup("Content-Type: application/json");
	h[n++] = xasprintf("Idempotency-Key: %s", idempotency_key);
	h[n++] = xasprintf("X-Stabild-Timestamp: %" PRId64, timestamp);
	if (secret != NULL) {
		sig = webhook_signature(secret, secretlen, timestamp, body,
		    len);
		if (sig == NULL) {
			webhook_headers_free(h);
			return -1;
		}
		h[n++] = xasprintf("X-Stabild-Signature: %s", sig);
		free(sig);
	}
	for (i = 0; i < nextra; i++)
		h[n++] = xstrdup(extra[i]);
	h[n] = NULL;
	*out = h;
	return 0;
}

void
webhook_headers_free(char **headers)
{
	char **h;

	if (headers == NULL)
		return;
	for (h = headers; *h != NULL; h++) {
		/* Extras may carry a bearer token: wipe before freeing. */
		explicit_bzero(*h, strlen(*h));
		free(*h);
	}
	free(headers);
}
