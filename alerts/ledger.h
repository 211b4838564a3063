/*
 * What each receiver has been told about each firing, unexplained alert:
 * so that those receivers hear when it resolves or is explained, even
 * when routing would no longer send it to them, and so that a still
 * firing alert can be sent again after the route's repeat interval.
 * Saved as JSON (state.dir/notified.json) after every change.
 */
#ifndef STABILD_LEDGER_H
#define STABILD_LEDGER_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#define LEDGER_MAX_ALERTS	10000
#define LEDGER_MAX_TOLD		32	/* receivers per alert */

struct ledger_told {
	char		receiver[72];	/* names of up to 64 characters */
	int64_t		last_sent;	/* Unix ms */
	uint32_t	repeats;	/* sent again so many times */
};

struct ledger_entry {
	char		 alert_id[128];
	json_t		*alert;		/* its latest state (alert_json) */
	struct ledger_told told[LEDGER_MAX_TOLD];
	int		 ntold;
};

struct ledger;

/* Read path (missing: empty). NULL with *cause when it is damaged. */
struct ledger *ledger_open(const char *path, char **cause);
void ledger_free(struct ledger *l);

/*
 * Receiver was sent alert (a new reference is taken) at now, as a repeat
 * or not: add or update the alert's entry and the receiver's time. -1
 * when the ledger is full.
 */
int ledger_told(struct ledger *l, const char *alert_id, json_t *alert,
    const char *receiver, int64_t now, bool repeat);
/*
 * HA mode: another instance sent receiver repeat number repeats of the
 * alert at Unix ms at. Bring the receiver's count and time forward to
 * it (never back), so that the next repeat follows the one sent. Whether
 * anything changed; nothing when the alert or receiver is unknown.
 */
bool ledger_sync(struct ledger *l, const char *alert_id,
    const char *receiver, uint32_t repeats, int64_t at);
/* The alert's entry, or NULL; borrowed until the next change. */
struct ledger_entry *ledger_find(struct ledger *l, const char *alert_id);
/* Drop the alert's entry (it resolved or was explained). */
void ledger_forget(struct ledger *l, const char *alert_id);

int ledger_count(const struct ledger *l);
struct ledger_entry *ledger_at(struct ledger *l, int i);

/* Write the file if anything changed since; -1 with *cause. */
int ledger_save(struct ledger *l, char **cause)
    __attribute__((warn_unused_result));

#endif
