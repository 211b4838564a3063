/*
 * Ingest: the path of one stream entry, free of I/O. Validates it, drops
 * duplicates, buckets it by event time, counts it, feeds the detector,
 * appends its record, and moves the watermark that closes weeks. Owns the
 * state that the checkpoint saves together with the stream position.
 */
#ifndef STABILD_INGEST_H
#define STABILD_INGEST_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "conf.h"
#include "decision.h"
#include "detector.h"
#include "indicator.h"
#include "records.h"
#include "series.h"

/* A Redis stream entry id "ms-seq". */
struct stream_id {
	uint64_t	ms;
	uint64_t	seq;
};
#define STREAM_ID_MAX 48

int stream_id_parse(const char *s, size_t len, struct stream_id *id);
int stream_id_cmp(const struct stream_id *a, const struct stream_id *b);
/* buf holds STREAM_ID_MAX bytes. */
void stream_id_format(const struct stream_id *id, char *buf);

enum ingest_result {
	INGEST_COUNTED,		/* counted now */
	INGEST_DUPLICATE,	/* its decision id was counted before */
	INGEST_INVALID,		/* dead-letter it with *cause */
	INGEST_APPLIED,		/* at or before the checkpointed position */
};

/* Counters that live in the checkpoint (exactly-once like the counts). */
struct ingest_counters {
	/* Valid events counted, of every kind (by_event splits it). */
	uint64_t	counted;
	uint64_t	invalid;	/* dead-lettered */
	uint64_t	duplicates;
	uint64_t	late;		/* counted into an already closed week */
	uint64_t	by_outcome[4];	/* a decision's enum decision_outcome */
	uint64_t	by_event[DECISION_NEVENTS];	/* enum decision_event */
};

struct ingest;

/*
 * c is borrowed for the life of ingest (swap with ingest_set_conf after a
 * reload). det is borrowed too; NULL means detector_none().
 */
struct ingest *ingest_create(const struct conf *c, const struct detector *det);
void ingest_free(struct ingest *in);
void ingest_set_conf(struct ingest *in, const struct conf *c);

/*
 * Open the state directory: read the checkpoint (if any) and the records
 * file. 0, or -1 with *cause (a damaged checkpoint is an error, not a
 * silent restart from zero).
 */
int ingest_open(struct ingest *in, char **cause)
    __attribute__((warn_unused_result));

/*
 * One entry. `redelivered` says it came from this consumer's pending list
 * (it may have been applied before the last crash or disconnect). now is
 * the wall clock in Unix seconds. INGEST_INVALID sets *cause (caller
 * frees); an invalid entry is reported again when redelivered, so that its
 * dead-lettering is never lost.
 */
enum ingest_result ingest_entry(struct ingest *in, const struct stream_id *id,
    const struct decision_field *fields, size_t nfields, bool redelivered,
    int64_t now, char **cause);
/*
 * The same for an entry of stream k (0 .. ingest_streams - 1; 0 is
 * redis.stream, and ingest_entry is stream 0): positions are per stream.
 */
enum ingest_result ingest_entry_from(struct ingest *in, int k,
    const struct stream_id *id, const struct decision_field *fields,
    size_t nfields, bool redelivered, int64_t now, char **cause);
/* The streams read: their count and keys (borrowed), redis.stream first. */
int ingest_streams(const struct ingest *in);
const char *ingest_stream_key(const struct ingest *in, int k);

/*
 * Reader k's last read found nothing (idle), or it has entries again.
 * The watermark follows the streams that still have entries to read: a
 * drained one does not hold it back (an entry of stream k counts as its
 * having entries again).
 */
void ingest_stream_idle(struct ingest *in, int k, bool idle);

/*
 * Wall-clock tick. When idle (every stream had nothing), the watermark
 * follows the latest event of any stream, and when it is within lateness
 * of now, now - lateness becomes the watermark, so weeks close in a quiet
 * live system. Calls the detector's tick.
 */
void ingest_tick(struct ingest *in, int64_t now, bool idle);

/*
 * Another module's section of the checkpoint (HA: the control log's
 * position, the registries), saved with everything else by
 * ingest_checkpoint and the forked writer alike, so that it always
 * matches the stream positions; save may run in that child, so it
 * only reads memory. save appends its data after the u32
 * version ingest writes; load gets that version (1 .. version; a newer
 * one is refused) and reads the rest. A checkpoint without the section
 * does not call load. Call before ingest_open. -1: a tag of ingest's own
 * or one already added, or too many sections.
 */
#define INGEST_MAX_SECTIONS	8
struct buf;
struct buf_reader;
typedef void (*ingest_save_cb)(void *arg, struct buf *b);
typedef int (*ingest_load_cb)(void *arg, uint32_t version,
    struct buf_reader *r, char **cause);
int ingest_add_section(struct ingest *in, uint32_t tag, uint32_t version,
    ingest_save_cb save, ingest_load_cb load, void *arg);

/* Entries applied since the last checkpoint. */
uint64_t ingest_dirty(const struct ingest *in);
/*
 * The detector's state changed outside ingest (an explanation, a refit
 * request, a rebaseline): the next checkpoint must be written.
 */
void ingest_touch(struct ingest *in);
/*
 * Write the checkpoint (records synced first) in this process. Not while
 * a child checkpoint runs. 0 or -1 with *cause; a write that fails puts
 * ingest under backpressure, one that succeeds lifts it.
 */
int ingest_checkpoint(struct ingest *in, char **cause)
    __attribute__((warn_unused_result));
/*
 * Write the checkpoint in a forked child, so that counting and the API go
 * on meanwhile (copy-on-write keeps the child's view fixed). Returns the
 * child's pid, or -1 with *cause. The child dies with its parent. When it
 * has exited, call ingest_checkpoint_done with whether it succeeded; only
 * then does the checkpointed position move.
 */
pid_t ingest_checkpoint_start(struct ingest *in, char **cause);
/*
 * status is the child's wait status, or -1 when it could not be waited
 * for. A child that could not write the checkpoint puts ingest under
 * backpressure (INGEST_CHECKPOINT_BLOCKED). True when it succeeded.
 */
bool ingest_checkpoint_done(struct ingest *in, int status);
/* The running child's pid, or 0. */
pid_t ingest_checkpoint_child(const struct ingest *in);
/* Position of the last checkpoint: entries up to it may be acknowledged. */
const struct stream_id *ingest_checkpointed(const struct ingest *in);
/* Position of the last entry applied in memory. */
const struct stream_id *ingest_applied(const struct ingest *in);
/* The same per stream k; ingest_checkpointed and _applied are stream 0. */
const struct stream_id *ingest_checkpointed_of(const struct ingest *in, int k);
const struct stream_id *ingest_applied_of(const struct ingest *in, int k);

/*
 * Write the buffered records out (no sync) and describe the segments, so
 * that a reader sees every record counted so far. -1 without records.
 */
int ingest_records_view(struct ingest *in, struct records_view *v);
/* The records, for their size; NULL when state.records is off. */
const struct records *ingest_records(const struct ingest *in);
/*
 * The detector has work outstanding (detector.h busy), or week closes
 * and a look wait for it: hand over no entry and write no checkpoint
 * until ingest_resume, called once the detector is done, clears it.
 */
bool ingest_busy(const struct ingest *in);
/* Close the weeks and take the look that waited for the detector. */
void ingest_resume(struct ingest *in);

/*
 * Backpressure: the records or the checkpoint cannot be written (a full
 * disk, most often). While it holds, the stream hands ingest no entry and
 * reads no more, so that nothing is counted that cannot be kept and the
 * pending list stops growing; what was counted waits in memory.
 */
enum ingest_pressure {
	INGEST_FLOWING,			/* entries are taken */
	INGEST_RECORDS_BLOCKED,		/* a records write failed */
	INGEST_CHECKPOINT_BLOCKED,	/* the last checkpoint write failed */
};
/*
 * The state, with (when blocked, else NULL and 0) the reason, borrowed
 * until the state changes, and since when (Unix seconds). Pointers may
 * be NULL.
 */
enum ingest_pressure ingest_pressure(const struct ingest *in,
    const char **why, int64_t *since);
const char *ingest_pressure_name(enum ingest_pressure p);
/*
 * Try the records again: 0 when they are written and entries flow again,
 * -1 while they still cannot be. A checkpoint that is blocked is retried
 * by writing a checkpoint.
 */
int ingest_retry(struct ingest *in);
/* The stream must wait: ingest is busy or under backpressure. */
bool ingest_waits(const struct ingest *in);
const struct series_set *ingest_series(const struct ingest *in);
const struct ingest_counters *ingest_counters(const struct ingest *in);
const struct detector *ingest_detector(const struct ingest *in);
/* The indicator table ingest counts by; borrowed. */
const struct indicators *ingest_indicators(const struct ingest *in);
/* Unix seconds; INT64_MIN before the first event. */
int64_t ingest_watermark(const struct ingest *in);
int64_t ingest_max_seen(const struct ingest *in);
/* Last closed week, INT32_MIN when none. */
int32_t ingest_closed_week(const struct ingest *in);
uint64_t ingest_memory(const struct ingest *in);

#endif
