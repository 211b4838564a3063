/*
 * The control log (issue 14, Part A): a Redis stream of control entries
 * (clock ticks, registry changes, rebaseline and refit requests) applied
 * by every instance at the same position among the decisions, so that
 * all compute the same state. Its gate (stream.h) does the ordering.
 */
#ifndef STABILD_HA_LOG_H
#define STABILD_HA_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ha;
struct ingest;
struct stream_gate;
struct stream_id;
struct ha_log;

/* One control entry, borrowed for the call. */
struct ha_change {
	const struct stream_id	*log_id;	/* its id in the log */
	const struct stream_id	*at;		/* decisions' last id then */
	const char		*kind;		/* tick, explanation, ... */
	const char		*op;		/* put, delete */
	const char		*id;		/* NULL when none */
	const char		*by;		/* the writer's instance */
	const char		*body;		/* JSON; NULL when none */
	size_t			 bodylen;
};

/* Adds its checkpoint section to in: call before ingest_open. */
struct ha_log *ha_log_create(struct ha *ha, struct ingest *in);
void ha_log_start(struct ha_log *hl);
void ha_log_free(struct ha_log *hl);

/*
 * Apply entries of kind with cb: 0, or -1 with *cause (logged, counted,
 * and handed to a waiter as the result). One handler per kind.
 */
typedef int (*ha_log_apply_cb)(void *arg, const struct ha_change *c,
    char **cause);
void ha_log_handle(struct ha_log *hl, const char *kind, ha_log_apply_cb cb,
    void *arg);

/*
 * Call cb once log_id is applied here (applied true, result the
 * handler's 0 or -1) or timeout_ms has passed (applied false).
 */
typedef void (*ha_log_wait_cb)(void *arg, bool applied, int result);
void ha_log_wait(struct ha_log *hl, const struct stream_id *log_id,
    int64_t timeout_ms, ha_log_wait_cb cb, void *arg);

/*
 * Append an entry (op put) with its `at`; cb gets its log id, or err.
 * -1: not sent (the link is down), cb not called.
 */
typedef void (*ha_log_append_cb)(void *arg, const struct stream_id *log_id,
    const char *err);
int ha_log_append(struct ha_log *hl, const char *kind, const char *id,
    const char *body, ha_log_append_cb cb, void *arg);

/* The last control entry applied (0-0 before any). */
const struct stream_id *ha_log_applied(const struct ha_log *hl);
/* Entries in the log not yet applied here; -1 unknown. */
int64_t ha_log_behind(const struct ha_log *hl);
/* The gate for stream_set_gate; NULL: none (the stream reads as before). */
const struct stream_gate *ha_log_gate(struct ha_log *hl);

/*
 * The `at` rule, pure: control entry C goes after every decision with
 * id <= C.at and before every later one. Before decision next, with
 * head the `at` of the oldest control entry waiting (NULL: none), and,
 * when the last page of the log read was full (complete false), limit
 * the `at` of its last entry (entries not read yet have an `at` no
 * lower): apply the head first, feed next, or read more of the log.
 */
enum ha_log_step {
	HA_LOG_FEED,
	HA_LOG_APPLY,
	HA_LOG_READ,
};
enum ha_log_step ha_log_due(const struct stream_id *head,
    const struct stream_id *next, bool complete,
    const struct stream_id *limit);

/*
 * A control entry as read from the log (fields as name/value pairs),
 * copied. One that is bad is kept, to be skipped at its place with the
 * reason; its `at` is then 0-0.
 */
struct decision_field;
struct ha_log_entry;
struct ha_log_entry *ha_log_entry_parse(const struct stream_id *log_id,
    const struct decision_field *f, size_t n);
/* 0 and *c, borrowed from e; -1 with *why when it is to be skipped. */
int ha_log_entry_view(const struct ha_log_entry *e, struct ha_change *c,
    const char **why);
void ha_log_entry_free(struct ha_log_entry *e);

#endif
