/*
 * The durable delivery queue ("outbox"): one JSON file per notification in
 * DIR/outbox/, written and synced before the first attempt and removed
 * only once the receiver has accepted it. A failed attempt rewrites the
 * file at once (a kill -9 loses nothing); an accepted one is journalled
 * at once and its file removed later. spool_sync's batches do the
 * removals and fsyncs, off the loop if the caller likes, so that a burst
 * of deliveries costs the loop no burst of disk waits. Expired
 * notifications are kept for inspection up to a count and an age, then
 * dropped by spool_prune.
 */
#ifndef STABILD_SPOOL_H
#define STABILD_SPOOL_H

#include <sys/queue.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* alert id (127) "." seq (10) "." receiver (64) ".r" repeat (10), NUL */
#define SPOOL_ID_MAX		224
#define SPOOL_RECEIVER_MAX	72	/* names of up to 64 characters */
#define SPOOL_TYPE_MAX		128	/* content type */
#define SPOOL_ERROR_MAX		160	/* last_error, cut to fit */
#define SPOOL_MAX_ITEMS		100000	/* pending; spool_put fails beyond */
#define SPOOL_KEEP		1000	/* expired items kept, by default */
#define SPOOL_KEEP_MAX		100000
#define SPOOL_KEEP_MS		(7LL * 24 * 3600 * 1000)	/* and how long */
#define SPOOL_PAYLOAD_MAX	(4 * 1024 * 1024)

#define SPOOL_BASE_MS		1000			/* first retry delay */
#define SPOOL_CAP_MS		(5 * 60 * 1000)		/* longest delay */
#define SPOOL_EXPIRY_MS		(24LL * 3600 * 1000)	/* give up after */

enum spool_state {
	SPOOL_QUEUED,		/* written, never tried: waiting, due at next_at */
	SPOOL_INFLIGHT,		/* handed out by spool_next_due; in memory only */
	SPOOL_RETRY,		/* failed at least once: waiting, due at next_at */
	SPOOL_DELIVERED,	/* accepted; file removed, item freed */
	SPOOL_EXPIRED,		/* given up; file kept for inspection */
};

TAILQ_HEAD(spool_list, spool_item);

/*
 * One notification. The payload is kept in memory (notifications are few)
 * and NUL-terminated after len bytes for convenience. Owned by the spool
 * and read-only for callers: valid until spool_delivered frees it or
 * spool_close.
 */
struct spool_item {
	char		 id[SPOOL_ID_MAX];	/* unique in the spool */
	char		 receiver[SPOOL_RECEIVER_MAX];
	char		 group[SPOOL_RECEIVER_MAX];	/* "" or a route name */
	char		 content_type[SPOOL_TYPE_MAX];
	char		*payload;
	size_t		 len;
	int64_t		 created_at;	/* Unix ms, of spool_put */
	int64_t		 next_at;	/* Unix ms the next attempt is due;
					   when EXPIRED, the time it expired */
	uint32_t	 attempts;	/* failed attempts so far */
	int64_t		 claim_error_at; /* HA: first unanswered claim in a
					   row, Unix ms, 0: none; the
					   caller's, in memory only */
	char		 last_error[SPOOL_ERROR_MAX];	/* "" if none */
	enum spool_state state;		/* written by spool_set_state only */
	char		*path;		/* of its file */

	/* The spool's own bookkeeping. */
	TAILQ_ENTRY(spool_item) entry;		/* every item */
	TAILQ_ENTRY(spool_item) xentry;		/* expired ones */
	TAILQ_ENTRY(spool_item) sentry;		/* unsynced ones */
	bool		 unsynced;
	int		 heap_i;	/* in the due heap, or -1 */
	uint64_t	 seq;		/* creation order */
	uint64_t	 hash;		/* of the id, as in the file name */
	struct spool_item *hnext;	/* hash chain */
};

/* Counters since spool_open (not persisted). */
struct spool_stats {
	uint64_t	queued;		/* new notifications stored */
	uint64_t	delivered;
	uint64_t	retried;	/* failures that led to a retry */
	uint64_t	expired;
	uint64_t	dropped;	/* expired items pruned */
};

/*
 * Lookups by id are hashed and the due items sit in a heap: putting,
 * handing out and finishing an item cost O(log n) whatever the backlog.
 */
struct spool;
struct json_t;

const char *spool_state_name(enum spool_state s);

/*
 * Open the spool under dir: create dir/outbox/ if missing and load every
 * notification there. Damaged files are renamed to NAME.bad and logged;
 * items found INFLIGHT (written by older versions) become RETRY, due now.
 * NULL with *cause if the directory cannot be made or read.
 */
struct spool *spool_open(const char *dir, char **cause);
/* Free the spool and its items; the files stay. NULL does nothing. */
void spool_close(struct spool *sp);

/* Seed the jitter generator (e.g. from getrandom); any value is fine. */
void spool_set_seed(struct spool *sp, uint64_t seed);
/* Backoff base and cap and the expiry, in ms; -1 if out of order. */
int spool_set_limits(struct spool *sp, int64_t base_ms, int64_t cap_ms,
    int64_t expiry_ms);

/*
 * Expired items kept: at most keep of them (0 to SPOOL_KEEP_MAX), none
 * longer than keep_ms after it expired; -1 if out of range.
 */
int spool_set_keep(struct spool *sp, int keep, int64_t keep_ms);

/*
 * Store a new notification, due at now_ms, and return 0 only once its file
 * is durable. An id already in the spool (in any state) is left alone and
 * 0 returned, so a replay never duplicates. -1 with *cause on bad
 * arguments, a full spool (SPOOL_MAX_ITEMS pending; expired items do not
 * count) or a failed write.
 */
int spool_put(struct spool *sp, const char *id, const char *receiver,
    const char *content_type, const void *payload, size_t len,
    int64_t now_ms, char **cause) __attribute__((warn_unused_result));

/*
 * spool_put with a grouping tag (items of one receiver and group are sent
 * together, see spool_take_group; "" for none) and a first due time
 * due_ms >= now_ms.
 */
int spool_put_at(struct spool *sp, const char *id, const char *receiver,
    const char *group, const char *content_type, const void *payload,
    size_t len, int64_t now_ms, int64_t due_ms, char **cause)
    __attribute__((warn_unused_result));

/*
 * The due time of the open window of receiver's group: the earliest
 * next_at after now_ms of an item there never tried yet, or -1. A new
 * member joins it so the whole group goes out at once.
 */
int64_t spool_group_due(const struct spool *sp, const char *receiver,
    const char *group, int64_t now_ms);

/*
 * Every other waiting item of lead's receiver and group (lead itself is
 * INFLIGHT from spool_next_due), at most max, made INFLIGHT and stored in
 * out in order of creation; their count. None when lead's group is "".
 */
int spool_take_group(struct spool *sp, const struct spool_item *lead,
    struct spool_item **out, int max);

/*
 * The waiting item (QUEUED or RETRY) with the smallest next_at <= now_ms,
 * now INFLIGHT; NULL if none is due. The caller must finish it with
 * spool_delivered or spool_failed.
 */
struct spool_item *spool_next_due(struct spool *sp, int64_t now_ms);
/*
 * The receiver accepted it: the item leaves the spool (the caller's
 * pointer is dead) and a line in the removals journal says so, which a
 * kill -9 keeps; spool_sync removes the file. -1 if the journal could not
 * be written (logged; the item goes all the same).
 */
int spool_delivered(struct spool *sp, struct spool_item *it);
/*
 * The attempt failed with why: count it and wait with exponential backoff
 * and jitter, or, once now_ms - created_at exceeds the expiry, make it
 * EXPIRED (logged at error level). -1 if the file could not be rewritten
 * (logged; the state in memory is updated all the same).
 */
int spool_failed(struct spool *sp, struct spool_item *it, const char *why,
    int64_t now_ms);

/*
 * Not attempted after all (HA mode: another instance holds its claim, or
 * Redis did not answer): waiting again, due at at_ms, as it was before
 * spool_next_due; no attempt counted, the file untouched.
 */
void spool_defer(struct spool *sp, struct spool_item *it, int64_t at_ms);

/* The earliest next_at of a waiting item, or -1: for the caller's timer. */
int64_t spool_next_time(const struct spool *sp);

/*
 * Durability off the loop, one batch at a time: spool_sync_take hands out
 * the removals of delivered and dropped notifications, up to max files
 * rewritten since the last take, and the directory if anything in it
 * changed (NULL if nothing is to do, or a batch is out); spool_sync_run
 * removes and fsyncs them and touches nothing else, so it may run on
 * another thread; spool_sync_done, on the loop, ends the batch. A failed
 * fsync is logged and not retried (the contents are written: only a
 * power cut could lose them).
 */
struct spool_sync;
struct spool_sync *spool_sync_take(struct spool *sp, int max);
void spool_sync_run(struct spool_sync *batch);
void spool_sync_done(struct spool *sp, struct spool_sync *batch);
/* All three in the caller for up to max files; 1 if more are left. */
int spool_sync(struct spool *sp, int max);
/* Whether spool_sync has work: removals, files or the directory. */
bool spool_unsynced(const struct spool *sp);
/*
 * Drop up to max expired items beyond the count or age kept (oldest
 * expiry first): remove the file, count and log each. Their number.
 */
int spool_prune(struct spool *sp, int64_t now_ms, int max);
/* When spool_prune has work: now_ms or earlier, a later time, or -1. */
int64_t spool_prune_time(const struct spool *sp);

/*
 * Items in order of creation, for listing; borrowed until the next change.
 * spool_at walks a list: in order (0, 1, 2...) each step is O(1).
 */
int spool_count(const struct spool *sp);
const struct spool_item *spool_at(const struct spool *sp, int i);
/* The item without its payload, with "size" instead (new reference). */
struct json_t *spool_item_json(const struct spool_item *it);
void spool_get_stats(const struct spool *sp, struct spool_stats *st);
/* Items waiting or in flight (not expired). */
int spool_pending(const struct spool *sp);
/* Expired items kept. */
int spool_expired(const struct spool *sp);

/* The outbox file name (no directory) that holds notification id. */
void spool_file_name(const char *id, char *buf, size_t size);

#endif
