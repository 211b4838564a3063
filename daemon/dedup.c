/*
 * Duplicate detection over the last N decision ids: a ring of 64-bit id
 * hashes in arrival order plus a linear-probing index over them. Eviction
 * uses backward-shift deletion, so the index never fills with tombstones.
 */
#include <stdlib.h>
#include <string.h>

#include "dedup.h"
#include "log.h"
#include "xmalloc.h"

#define DEDUP_SAVE_VERSION	1

struct dedup {
	size_t		 window;
	size_t		 count;		/* ids in the ring, <= window */
	size_t		 next;		/* ring slot written next */
	uint64_t	*ring;		/* hashes, oldest at next - count */
	uint64_t	*table;		/* index: hashes, 0 free */
	size_t		 mask;		/* table size - 1 */
};

/*
 * FNV-1a over the bytes, then the murmur3 finaliser to spread FNV's weak
 * low bits over the table. Fixed constants: hashes are checkpointed, so
 * they must be the same in every run. 0 marks a free table slot.
 */
static uint64_t
dedup_hash(const char *id, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)id[i];
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h == 0 ? 1 : h;
}

/*
 * The index is mapped on its own and left out of the checkpoint's fork
 * (MADV_DONTFORK): the child saves the ring alone, and an index shared
 * with it would make every insert after a fork copy a page of it, while
 * the loop waits; its inserts touch pages at random, so nearly all of
 * them before the next checkpoint.
 */
static uint64_t *
dedup_table_alloc(size_t cap)
{
	/* Probed at random: huge pages spare a TLB miss on most probes. */
	return xmap_grow(NULL, 0, cap, sizeof(uint64_t), XMAP_NOFORK |
	    XMAP_HUGE);
}

struct dedup *
dedup_create(size_t window)
{
	struct dedup *d = xcalloc(1, sizeof *d);
	size_t cap;

	if (window > SIZE_MAX / 4 / sizeof *d->table)
		fatalx("dedup: window %zu is too large", window);
	d->window = window;
	if (window == 0)
		return d;
	/* At most half full, so probes stay short. */
	for (cap = 2; cap < 2 * window; cap *= 2)
		;
	/* Touch every page now, not one fault at a time while ingesting. */
	d->ring = xreallocarray(NULL, window, sizeof *d->ring);
	memset(d->ring, 0, window * sizeof *d->ring);
	d->table = dedup_table_alloc(cap);
	memset(d->table, 0, cap * sizeof *d->table);
	d->mask = cap - 1;
	return d;
}

void
dedup_free(struct dedup *d)
{
	if (d == NULL)
		return;
	free(d->ring);
	if (d->table != NULL)
		xunmap(d->table, d->mask + 1, sizeof *d->table);
	free(d);
}

/* The table slot holding h, or of the free slot ending its probe. */
static size_t
dedup_probe(const struct dedup *d, uint64_t h)
{
	size_t i = (size_t)h & d->mask;

	while (d->table[i] != 0 && d->table[i] != h)
		i = (i + 1) & d->mask;
	return i;
}

/*
 * Remove h from the index: move later members of the probe run back into
 * the hole when their home slot allows it, so lookups never need
 * tombstones.
 */
static void
dedup_unindex(struct dedup *d, uint64_t h)
{
	size_t hole = dedup_probe(d, h), j = hole, home;

	if (d->table[hole] == 0)
		fatalx("dedup: evicted id missing from the index");
	for (;;) {
		j = (j + 1) & d->mask;
		if (d->table[j] == 0)
			break;
		home = (size_t)d->table[j] & d->mask;
		/* Stay put when home lies cyclically in (hole, j]. */
		if (hole <= j ? (hole < home && home <= j) :
		    (hole < home || home <= j))
			continue;
		d->table[hole] = d->table[j];
		hole = j;
	}
	d->table[hole] = 0;
}

/* Remember h (not present), evicting the oldest id when the ring is full. */
static void
dedup_insert(struct dedup *d, uint64_t h, size_t slot)
{
	if (d->count == d->window) {
		dedup_unindex(d, d->ring[d->next]);
		/* The slot may have moved by the shift: look again. */
		slot = dedup_probe(d, h);
	} else
		d->count++;
	d->table[slot] = h;
	d->ring[d->next] = h;
	d->next = d->next + 1 == d->window ? 0 : d->next + 1;
}

bool
dedup_check_add(struct dedup *d, const char *id, size_t len)
{
	uint64_t h;
	size_t slot;

	if (d->window == 0)
		return false;
	h = dedup_hash(id, len);
	slot = dedup_probe(d, h);
	if (d->table[slot] == h)
		return true;
	dedup_insert(d, h, slot);
	return false;
}

size_t
dedup_count(const struct dedup *d)
{
	return d->count;
}

size_t
dedup_window(const struct dedup *d)
{
	return d->window;
}

uint64_t
dedup_memory(const struct dedup *d)
{
	uint64_t n = sizeof *d;

	if (d->window != 0)
		n += d->window * sizeof *d->ring +
		    (d->mask + 1) * sizeof *d->table;
	return n;
}

void
dedup_save(const struct dedup *d, struct buf *b)
{
	size_t n, at;

	buf_put_u32(b, DEDUP_SAVE_VERSION);
	buf_put_u64(b, d->window);
	buf_put_u64(b, d->count);
	at = (d->next + d->window - d->count) % (d->window ? d->window : 1);
	if (d->count == 0)
		return;
	/* Oldest first: up to the ring's end, then from its start. */
	n = d->count < d->window - at ? d->count : d->window - at;
	buf_put_u64s(b, d->ring + at, n);
	buf_put_u64s(b, d->ring, d->count - n);
}

/* Forget every id. */
static void
dedup_clear(struct dedup *d)
{
	d->count = 0;
	d->next = 0;
	if (d->table != NULL)
		memset(d->table, 0, (d->mask + 1) * sizeof *d->table);
}

int
dedup_load(struct dedup *d, struct buf_reader *r, char **cause)
{
	uint64_t window, count, skip, i, h;
	uint32_t version;
	size_t slot;

	dedup_clear(d);
	buf_get_u32(r, &version);
	buf_get_u64(r, &window);
	if (buf_get_u64(r, &count) == -1)
		goto truncated;
	if (version != DEDUP_SAVE_VERSION) {
		*cause = xasprintf("dedup: unknown format %u", version);
		goto fail;
	}
	if (count > window) {
		*cause = xasprintf("dedup: %ju ids in a window of %ju",
		    (uintmax_t)count, (uintmax_t)window);
		goto fail;
	}
	if (count > r->left / sizeof h)
		goto truncated;
	/* A smaller window keeps only the newest ids. */
	skip = count > d->window ? count - d->window : 0;
	for (i = 0; i < count; i++) {
		if (buf_get_u64(r, &h) == -1)
			goto truncated;
		if (h == 0) {
			*cause = xstrdup("dedup: checkpoint has a zero hash");
			goto fail;
		}
		if (i < skip)
			continue;
		slot = dedup_probe(d, h);
		if (d->table[slot] == h) {
			*cause = xstrdup("dedup: checkpoint repeats a hash");
			goto fail;
		}
		dedup_insert(d, h, slot);
	}
	return 0;

truncated:
	*cause = xstrdup("dedup: checkpoint is truncated");
fail:
	dedup_clear(d);
	return -1;
}
