/*
 * Compact per-decision records (detection notes §1): 16 bytes each,
 * appended to a file in the state directory, read back by model fits and
 * drill-downs. The checkpoint stores the file length that matches the
 * statistics; on open, anything beyond it (written after the last
 * checkpoint) is cut off, so records are exactly-once like the counts.
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
};

/* Pure packing, fixed little-endian layout. */
void record_pack(const struct record *rec, unsigned char out[RECORD_SIZE]);
void record_unpack(const unsigned char in[RECORD_SIZE], struct record *rec);
void record_from_decision(const struct decision *d, int office, int32_t day,
    struct record *rec);

struct records;

/* Open (create) path and cut it to valid_len bytes. NULL + *cause on error. */
struct records *records_open(const char *path, uint64_t valid_len,
    char **cause);
void records_close(struct records *r);
/* Buffered append. */
void records_append(struct records *r, const struct record *rec);
/* Write buffered records to the file, without syncing. 0 or -1. */
int records_flush(struct records *r);
/* Write out and fdatasync; *len is the durable length. 0 or -1. */
int records_sync(struct records *r, uint64_t *len);
uint64_t records_length(const struct records *r);

/*
 * Read records back: calls fn for each, in file order, up to the synced
 * length. Returns 0 or -1 (and errno).
 */
int records_scan(const char *path, uint64_t len,
    void (*fn)(const struct record *rec, void *arg), void *arg);

#endif
