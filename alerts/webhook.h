/*
 * Webhook request building: the header lines and the HMAC signature that
 * go with a contract §3 JSON body. Pure: no I/O, no logging, so secrets
 * never reach the log from here.
 *
 * Signature, for receivers to verify: with the configured secret as the
 * HMAC key,
 *
 *	X-Stabild-Timestamp: <t>
 *	X-Stabild-Signature: sha256=<hex>
 *
 * where <t> is Unix seconds in decimal and <hex> is the lower-case hex of
 * HMAC-SHA256(secret, "<t>" "." body): the timestamp's decimal digits
 * exactly as in the header, one ".", then the request body bytes exactly
 * as sent. Receivers recompute it, compare in constant time, and reject a
 * timestamp too far from their clock, against replay.
 */
#ifndef STABILD_WEBHOOK_H
#define STABILD_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>

/*
 * The X-Stabild-Signature value "sha256=<64 lower-case hex digits>" for
 * body signed at timestamp, as described above. The caller frees; NULL
 * only if the HMAC fails.
 */
char *webhook_signature(const char *secret, size_t secretlen,
    int64_t timestamp, const void *body, size_t len);

/*
 * Build the NULL-terminated header list for one delivery into *out, in this
 * order:
 *
 *	Content-Type: application/json
 *	Idempotency-Key: <idempotency_key>
 *	X-Stabild-Timestamp: <timestamp>
 *	X-Stabild-Signature: sha256=<hex>	(only when secret is not NULL)
 *	each line of extra, unchanged	(NULL-terminated, or NULL)
 *
 * The key and extra lines are copied. Returns -1 and leaves *out NULL when
 * the key is empty or holds a control character, an extra line is not
 * "Name: value" or holds CR or LF, an extra line sets one of the headers
 * above, or the HMAC fails. Free *out with webhook_headers_free.
 */
int webhook_headers(char ***out, const char *idempotency_key,
    const char *secret, size_t secretlen, int64_t timestamp,
    const void *body, size_t len, const char *const *extra)
    __attribute__((warn_unused_result));

/* Free a list from webhook_headers; NULL does nothing. */
void webhook_headers_free(char **headers);

#endif
