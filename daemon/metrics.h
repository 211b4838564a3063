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
	/* The detector's busy time (busy_ns) at the first entry and the last. */
	uint64_t	(*busy_ns)(void *);
	void		*busy_arg;
	uint64_t	first_entry_busy_ns;
	uint64_t	last_entry_busy_ns;
	int64_t		last_entry_at;		/* Unix s: last batch counted */
	/*
	 * CPU time at the first entry and the last: the loop thread's, and
	 * the process's (every thread and the checkpoint children ended).
	 */
	uint64_t	first_entry_cpu_ns;
	uint64_t	last_entry_cpu_ns;
	uint64_t	first_entry_proc_ns;
	uint64_t	last_entry_proc_ns;
	/* Checkpoints written by the first entry and by the last. */
	uint64_t	first_entry_checkpoints;
	uint64_t	last_entry_checkpoints;
	/*
	 * When ingest first went on with every indicator's first models
	 * (monotonic; 0 if not in this run) and the entries read by then:
	 * the drained line's rate after the one-time first fit.
	 */
	uint64_t	fitted_ns;
	uint64_t	fitted_entries;
	uint64_t	fitted_busy_ns;

	/*
	 * Issue 14, rendered only while ha_on (HA mode) or sentinels_on
	 * (redis.sentinels), so that a single instance's exposition is as
	 * before. The parts only increment them.
	 */
	bool		ha_on;
	bool		sentinels_on;
	uint64_t	ha_link_up;		/* gauge: 0 or 1 */
	uint64_t	ha_control_applied;	/* control entries applied */
	uint64_t	ha_control_invalid;	/* skipped as unknown or bad */
	uint64_t	ha_ticks_written;
	uint64_t	ha_log_gaps;		/* log trimmed past our position */
	uint64_t	ha_registry_writes;
	uint64_t	ha_registry_conflicts;	/* 409 from the script */
	uint64_t	ha_claims[4];		/* by enum metrics_claim */
	uint64_t	ha_takeovers;
	uint64_t	ha_delivered_by_peer;
	uint64_t	ha_unclaimed;		/* sent without a claim */
	uint64_t	ha_repeats;		/* done already: same-key repeat */
	uint64_t	redis_failovers;	/* master address changed */
	uint64_t	stream_replayed;	/* new to the group, applied before */
	/* The per-peer gauges (ha_peers_metrics); NULL: none. */
	void		(*ha_peers_render)(struct buf *out);
};

enum metrics_claim {
	METRICS_CLAIM_WON,
	METRICS_CLAIM_DONE,
	METRICS_CLAIM_HELD,
	METRICS_CLAIM_ERROR,
};

extern struct metrics metrics;

/* Append the exposition text to out; mon may be NULL. */
void metrics_render(struct buf *out, const struct ingest *in,
    const struct stream *st, const struct monitor *mon);

#endif
