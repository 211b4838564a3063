/*
 * Delivery claims (issue 14): before an instance sends a notification it
 * claims its id in Redis (atomic, with an expiry and a fencing token),
 * renews the claim while the transfer runs and marks the id done on
 * success, so that every notification is delivered once. Used by
 * deliver.c only.
 *
 * Keys under ha.prefix, for notification id NID:
 *	claim:NID	"INST/BOOT/TOKEN", PX ha.claim_ttl: who may send now
 *	claimed:NID	the same value, kept a day: tells a takeover of a
 *			dead holder's expired claim from a first claim
 *	done:NID	"INST TOKEN UNIX_MS delivered|unclaimed", PX done_ttl
 *	fence		the token counter
 */
#ifndef STABILD_HA_CLAIM_H
#define STABILD_HA_CLAIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HA_CLAIM_VALUE_MAX	160	/* a claim's or done marker's value */
#define HA_CLAIM_DAY_MS		(24LL * 3600 * 1000)

struct conf;
struct ha;
struct redisReply;
struct ha_claim;

enum ha_claim_result {
	HA_CLAIM_WON,		/* ours: send, with token */
	HA_CLAIM_DONE,		/* delivered already (value says by whom) */
	HA_CLAIM_HELD,		/* another live claim: wait pttl_ms */
	HA_CLAIM_ERROR,		/* no answer (link down, error) */
};

/* The answer to a claim. */
struct ha_claim_reply {
	enum ha_claim_result	result;
	uint64_t		token;		/* WON */
	bool			takeover;	/* WON over another's claim */
	/* HELD: the holder's value; DONE: the marker; WON: the previous */
	char			value[HA_CLAIM_VALUE_MAX];
	int64_t			pttl_ms;	/* HELD */
};

struct ha_claim *ha_claim_create(struct ha *ha);
void ha_claim_free(struct ha_claim *hc);

/* The claim script's reply r (NULL: none) as out; pure, for the tests. */
void ha_claim_parse(const struct redisReply *r, struct ha_claim_reply *out);

typedef void (*ha_claim_cb)(void *arg, const struct ha_claim_reply *r);
/* 0 and cb later (ERROR when the link is lost), or -1: not sent. */
int ha_claim_take(struct ha_claim *hc, const char *nid, ha_claim_cb cb,
    void *arg);

/*
 * The others' answers: 1 done (renewed, marked, released), 0 not (the
 * claim was no longer ours; for ha_claim_done: the id was done already,
 * a repeat), -1 no answer. cb may be NULL; -1 returned: not sent.
 * ha_claim_done with unclaimed true writes the marker for a notification
 * sent without a claim (token 0).
 */
typedef void (*ha_claim_ok_cb)(void *arg, int result);
int ha_claim_renew(struct ha_claim *hc, const char *nid, uint64_t token,
    ha_claim_ok_cb cb, void *arg);
int ha_claim_done(struct ha_claim *hc, const char *nid, uint64_t token,
    bool unclaimed, ha_claim_ok_cb cb, void *arg);
int ha_claim_release(struct ha_claim *hc, const char *nid, uint64_t token,
    ha_claim_ok_cb cb, void *arg);

/*
 * How long a done marker is kept: alerts.historical_age +
 * alerts.delivery_expiry + 1 day, so that it outlives every outbox that
 * could still hold the notification.
 */
int64_t ha_claim_done_ttl(const struct conf *c);
/*
 * Whether a state change at stream time stream_ms is too old to queue at
 * wall time wall_ms: its done marker may have expired, and a peer that
 * was there handled it.
 */
bool ha_claim_too_old(int64_t stream_ms, int64_t wall_ms,
    int64_t done_ttl_ms);

/* What deliver.c does with one member after its claim's answer. */
enum ha_claim_action {
	HA_CLAIM_SEND,		/* won: send it under the claim */
	HA_CLAIM_SEND_UNCLAIMED, /* Redis silent too long: send anyway */
	HA_CLAIM_BY_PEER,	/* done: recorded as delivered by the marker */
	HA_CLAIM_WAIT,		/* held or no answer: wait until *at_ms */
};
/*
 * The action for r at now_ms. error_since_ms is the first unanswered
 * claim of the item in a row (0: none before this one; set on ERROR),
 * unclaimed_after_ms ha.unclaimed_after (0: never send unclaimed),
 * claim_ttl_ms bounds a holder's wait, jitter_ms (0 to 1000) spreads
 * the retries.
 */
enum ha_claim_action ha_claim_action(const struct ha_claim_reply *r,
    int64_t now_ms, int64_t *error_since_ms, int64_t unclaimed_after_ms,
    int64_t claim_ttl_ms, int64_t jitter_ms, int64_t *at_ms);

/* The instance in a done marker or claim value, into buf. */
void ha_claim_holder(const char *value, char *buf, size_t size);
/* The Unix ms in a done marker; 0 when it has none. */
int64_t ha_claim_done_at(const char *value);

#endif
