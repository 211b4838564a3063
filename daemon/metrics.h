/*
 * Process-lifetime counters (reset at start) and the Prometheus text
 * exposition, which also reads the checkpointed counters of ingest.
 */
#ifndef STABILD_METRICS_H
#define STABILD_METRICS_H

#include <stdint.h>

#include "buf.h"

struct ingest;
struct monitor;
struct stream;

struct metrics {
	uint64_t	redis_reconnects;	/* successful connects after the first */
	uint64_t	redis_errors;		/* error replies and lost links */
	uint64_t	entries_read;		/* stream entries received */
	uint64_t	deadletter_writes;	/* dead-letter XADDs confirmed */
	uint64_t	acks;			/* entries acknowledged */
	uint64_t	checkpoints;
	uint64_t	checkpoint_failures;
	uint64_t	checkpoint_last_ms;	/* duration of the last one */
	uint64_t	checkpoint_fork_ns;	/* the last child's start, on the loop */
	uint64_t	checkpoint_fork_max_ns;
	uint64_t	http_requests[6];	/* by status class: 0 other, 1xx..5xx */
	uint64_t	http_unauthorized;
	uint64_t	http_answer_hits;	/* answers from the cache */
	uint64_t	http_answer_misses;	/* cacheable ones built */
	uint64_t	notifications_queued;	/* alert notifications stored */
	uint64_t	notifications_delivered;
	uint64_t	notification_retries;	/* failed attempts retried */
	uint64_t	notifications_expired;
	uint64_t	outbox_pending;		/* waiting or in flight */
	uint64_t	outbox_expired;		/* given up, kept on disk */
	uint64_t	notifications_dropped;	/* expired ones pruned */
	uint64_t	deliveries_inflight;	/* transfers under way */
	int64_t		started_at;		/* Unix seconds */
	uint64_t	first_entry_ns;		/* monotonic: first entry read */
	uint64_t	last_entry_ns;		/* monotonic: last batch counted */
	int64_t		last_entry_at;		/* Unix s: last batch counted */
};

extern struct metrics metrics;

/* Append the exposition text to out; mon may be NULL. */
void metrics_render(struct buf *out, const struct ingest *in,
    const struct stream *st, const struct monitor *mon);

#endif
