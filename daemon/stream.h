/*
 * The Redis stream consumer: hiredis async on the libevent loop. Creates
 * the group (MKSTREAM), reads this consumer's pending entries first and
 * then new ones, hands each entry to ingest, dead-letters invalid ones
 * (with the source entry's id, so repeating it is harmless), acknowledges
 * entries once a checkpoint covers them, and reconnects with backoff.
 */
#ifndef STABILD_STREAM_H
#define STABILD_STREAM_H

#include <stdbool.h>
#include <stdint.h>

struct event_base;
struct conf;
struct ingest;
struct stream;

enum stream_state {
	STREAM_DISCONNECTED,	/* waiting for the reconnect timer */
	STREAM_CONNECTING,	/* TCP/unix connect and AUTH under way */
	STREAM_PREPARING,	/* XGROUP CREATE */
	STREAM_PENDING,		/* re-reading our pending entries */
	STREAM_READING,		/* reading new entries */
	STREAM_STOPPED,		/* stream_stop: no more reads */
};

/* Called after a batch when ingest has enough unsaved entries. */
typedef void (*stream_checkpoint_cb)(void *arg);

struct stream *stream_create(struct event_base *base, const struct conf *c,
    struct ingest *in, stream_checkpoint_cb cb, void *arg);
void stream_free(struct stream *st);
void stream_start(struct stream *st);
/*
 * Ingest no longer waits (detector.h busy, or backpressure lifted): hand
 * it the entries that waited, then read on.
 */
void stream_resume(struct stream *st);
/* Stop reading; pending replies are ignored. */
void stream_stop(struct stream *st);
/* Acknowledge every received entry up to ingest's checkpointed position. */
void stream_ack(struct stream *st);
/*
 * Call cb(arg) once Redis has answered everything sent so far (or the link
 * drops). -1 when there is no link: call it yourself.
 */
int stream_flush(struct stream *st, void (*cb)(void *), void *arg);
/*
 * The longest a stream_flush may wait on a live link: the reads on the
 * wire block for up to redis.block each before Redis answers the rest.
 */
int64_t stream_flush_ms(const struct conf *c);
/* Number of entries received but not yet acknowledged. */
uint64_t stream_unacked(const struct stream *st);
/* Swap the borrowed conf after a reload (connection keys need a restart). */
void stream_set_conf(struct stream *st, const struct conf *c);

enum stream_state stream_state(const struct stream *st);
const char *stream_state_name(enum stream_state s);
/* Entries in the stream not yet delivered to the group (XINFO lag); -1 unknown. */
int64_t stream_lag(const struct stream *st);
/* Entries delivered to the group but not acknowledged (XPENDING); -1 unknown. */
int64_t stream_pending(const struct stream *st);
int64_t stream_length(const struct stream *st);
/* Whether the link to Redis is up (connected, group ready). */
bool stream_link_up(const struct stream *st);
/* Unix seconds since the link has been down (or since start); 0 when up. */
int64_t stream_down_since(const struct stream *st);
/* Why the link is down, or NULL. */
const char *stream_last_error(const struct stream *st);
/* Unix ms of the next connection attempt; 0 when none is waiting. */
int64_t stream_retry_at_ms(const struct stream *st);
/* True when the last read returned nothing (the stream is drained). */
bool stream_idle(const struct stream *st);
/*
 * The readers: one per stream key, chained from the one stream_create
 * returns (redis.stream). A reader's key, and the next reader or NULL.
 * The functions above act on, or sum over, the chain from the reader
 * they are given on (all of it from the first).
 */
const char *stream_key(const struct stream *st);
const struct stream *stream_sibling(const struct stream *st);

/*
 * HA mode: a gate that orders control entries among the entries read
 * (issue 14, Part A). request gives a command to pipeline right behind
 * each read on the reader's own connection (0: none this time; argv is
 * borrowed until the next call), and reply gets its answer (NULL: the
 * link was lost). before is asked before entry next of stream k (ingest's
 * stream number) is handed to ingest: false holds it until more of the
 * log is in. idle runs after an empty read; lost when the link drops and
 * what was held is dropped. Without a gate (HA off) the readers behave
 * as they always have. Set on the first reader, before stream_start;
 * both are borrowed.
 */
struct redisReply;
struct stream_id;
struct stream_gate {
	int	(*request)(void *arg, int *argc, const char ***argv,
		    const size_t **argvlen);
	void	(*reply)(void *arg, const struct redisReply *r);
	bool	(*before)(void *arg, int k, const struct stream_id *next);
	void	(*idle)(void *arg);
	void	(*lost)(void *arg);
};
void stream_set_gate(struct stream *st, const struct stream_gate *gate,
    void *arg);

#endif
