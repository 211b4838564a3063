/*
 * Duplicate decision ids: a window of the last N ids seen, as 64-bit
 * hashes in a ring with an open-addressing index. Memory is fixed by N.
 * A repeat inside the window is a duplicate; one older than N ids is not
 * remembered (documented window). Hash collisions: about N/2^64 per id.
 */
#ifndef STABILD_DEDUP_H
#define STABILD_DEDUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct dedup;

struct dedup *dedup_create(size_t window);
void dedup_free(struct dedup *d);
/* True when id was seen within the window; otherwise remembers it. */
bool dedup_check_add(struct dedup *d, const char *id, size_t len);
size_t dedup_count(const struct dedup *d);
size_t dedup_window(const struct dedup *d);
uint64_t dedup_memory(const struct dedup *d);
void dedup_save(const struct dedup *d, struct buf *b);
/* Loads into d (any window; the newest ids are kept). */
int dedup_load(struct dedup *d, struct buf_reader *r, char **cause);

#endif
