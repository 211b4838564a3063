/*
 * Compact per-decision records (detection notes §1): 16 bytes each,
 * appended to segment files in the state directory, read back by model
 * fits and drill-downs. The checkpoint stores the segment index that
 * matches the statistics; on open, anything beyond it (written after the
 * last checkpoint) is cut off, so records are exactly-once like the
 * counts.
 */
#ifndef STABILD_RECORDS_H
#define STABILD_RECORDS_H

#include <stdint.h>

#include "decision.h"

#define RECORD_SIZE 16

struct record {
	int32_t		day;		/* local day number (period.h) */
	uint16_t	office;		/* office index */
	uint8_t		benefit;
	uint8_t		kind;
	uint8_t		outcome;
	uint8_t		age;
	uint8_t		sex;
	uint8_t		diagnosis;
	uint8_t		employment;
	uint8_t		care;
	uint16_t	case_day;
	uint8_t		event;		/* enum decision_event */
	uint8_t		detail;		/* enum decision_detail */
};

/* Pure packing, fixed little-endian layout. */
void record_pack(const struct record *rec, unsigned char out[RECORD_SIZE]);
void record_unpack(const unsigned char in[RECORD_SIZE], struct record *rec);
void record_from_decision(const struct decision *d, int office, int32_t day,
    struct record *rec);

struct buf;
struct buf_reader;
struct records;

/*
 * The records are kept in segment files in the state directory:
 * records.000001, records.000002, ... (a single `records` file from before
 * segments is segment 0). Only the last is appended to; the checkpoint
 * saves the segment index (records_save) with each segment's length and
 * latest decided day, and a segment whose records are all older than the
 * retention is unlinked (records_expire).
 */

/*
 * Open the segments in dir. index is the checkpoint's segment index, or
 * NULL when it has none: then legacy_len is the length of the single
 * `records` file a checkpoint from before segments holds (0 without a
 * checkpoint). Anything written after the checkpoint is cut: the last
 * segment back to its length, later segments removed. NULL + *cause.
 */
struct records *records_open(const char *dir, struct buf_reader *index,
    uint64_t legacy_len, char **cause);
void records_close(struct records *r);
/*
 * Buffered append to the last segment. -1 (and errno) when the buffer
 * was full and could not be written: the record waits in memory (up to a
 * cap) for a records_flush that succeeds; take no more until then.
 */
int records_append(struct records *r, const struct record *rec);
/* Write buffered records to the file, without syncing. 0 or -1 (errno). */
int records_flush(struct records *r);
/*
 * Write out and fdatasync the last segment, the segments rotated since
 * the last sync and the directory; *len is the durable length of the last
 * segment. 0 or -1.
 */
int records_sync(struct records *r, uint64_t *len);
/* Bytes appended to the last segment, buffered ones included. */
uint64_t records_length(const struct records *r);
/*
 * The segment index for the checkpoint; right after records_sync. Its
 * layout is RECORDS_INDEX_VERSION, which the checkpoint stores before it.
 */
#define RECORDS_INDEX_VERSION	1
void records_save(const struct records *r, struct buf *b);
/*
 * Start a new segment (nothing happens while the last one is empty).
 * The old one is synced at the next records_sync. 0 or -1 (and errno).
 */
int records_rotate(struct records *r);
/*
 * Unlink the complete segments whose latest decided day is before
 * before_day. Returns how many went.
 */
int records_expire(struct records *r, int32_t before_day);
/* Segments and bytes on disk, buffered records included. */
int records_segments(const struct records *r);
uint64_t records_bytes(const struct records *r);

/*
 * What a reader may read: each segment's path and length as of the call.
 * Paths stay valid while no segment expires, which ingest does only at a
 * week close.
 */
struct records_view {
	int			 n;
	struct records_view_seg {
		char		*path;
		uint64_t	 len;
		int32_t		 last_day;
	}			*segs;
};

/* Flush and describe the segments; 0 or -1 (a write failed). */
int records_view(struct records *r, struct records_view *v);
void records_view_free(struct records_view *v);
/*
 * Call fn for each record in the view's segments in order, skipping the
 * segments whose latest day is before min_day. 0 or -1 (and errno).
 */
int records_view_scan(const struct records_view *v, int32_t min_day,
    void (*fn)(const struct record *rec, void *arg), void *arg);

/*
 * Read one file back: calls fn for each record, in file order, up to
 * len bytes. Returns 0 or -1 (and errno).
 */
int records_scan(const char *path, uint64_t len,
    void (*fn)(const struct record *rec, void *arg), void *arg);

#endif
