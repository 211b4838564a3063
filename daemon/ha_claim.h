/*
 * Delivery claims (issue 14, Part C): before an instance sends a
 * notification it claims its id in Redis (atomic, with an expiry and a
 * fencing token), renews the claim while the transfer runs and marks the
 * id done on success, so that every notification is delivered once.
 * Used by deliver.c only; Part C may reshape this header.
 */
#ifndef STABILD_HA_CLAIM_H
#define STABILD_HA_CLAIM_H

#include <stdbool.h>
#include <stdint.h>

struct ha;
struct ha_claim;

enum ha_claim_result {
	HA_CLAIM_WON,		/* ours: send, with token */
	HA_CLAIM_DONE,		/* another instance delivered it */
	HA_CLAIM_HELD,		/* another live claim: wait pttl_ms */
	HA_CLAIM_ERROR,		/* no answer (link down, error) */
};

/* Whether this build has delivery claims (false: a stub). */
bool ha_claim_available(void);
struct ha_claim *ha_claim_create(struct ha *ha);
void ha_claim_free(struct ha_claim *hc);

/*
 * The answer to a claim: token with HA_CLAIM_WON (takeover: an expired
 * claim of another was replaced), the holder's value and its remaining
 * time with HA_CLAIM_HELD, the done marker's value with HA_CLAIM_DONE.
 */
typedef void (*ha_claim_cb)(void *arg, enum ha_claim_result result,
    uint64_t token, bool takeover, const char *value, int64_t pttl_ms);
/* Each returns 0 and calls cb later, or -1: not sent, cb not called. */
int ha_claim_take(struct ha_claim *hc, const char *nid, ha_claim_cb cb,
    void *arg);
/* cb's ok: the claim was still ours (renewed, marked done, released). */
typedef void (*ha_claim_ok_cb)(void *arg, bool ok);
int ha_claim_renew(struct ha_claim *hc, const char *nid, uint64_t token,
    ha_claim_ok_cb cb, void *arg);
int ha_claim_done(struct ha_claim *hc, const char *nid, uint64_t token,
    bool unclaimed, ha_claim_ok_cb cb, void *arg);
int ha_claim_release(struct ha_claim *hc, const char *nid, uint64_t token,
    ha_claim_ok_cb cb, void *arg);

#endif
