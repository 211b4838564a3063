/*
 * Growable byte buffer and a bounds-checked reader over bytes, for the
 * checkpoint format. Integers are little-endian, doubles IEEE-754 bits.
 */
#ifndef STABILD_BUF_H
#define STABILD_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct buf {
	unsigned char	*data;
	size_t		 len;
	size_t		 cap;
	bool		 mapped;	/* large: a mapping of its own (buf.c) */
};

void buf_init(struct buf *b);
void buf_free(struct buf *b);		/* frees the data, not b itself */
void buf_reset(struct buf *b);		/* len = 0, keeps the memory */
void buf_put(struct buf *b, const void *p, size_t len);
/* n values, as n buf_put_u64 calls would put them. */
void buf_put_u64s(struct buf *b, const uint64_t *v, size_t n);

/* Makes room for len more bytes; buf_room's rare case. */
void buf_grow(struct buf *b, size_t len);

/*
 * Room for len > 0 more bytes at the end, which now count. Inline, like
 * the fixed-size puts below: a checkpoint puts millions of small fields,
 * and each is then a comparison and a store.
 */
static inline unsigned char *
buf_room(struct buf *b, size_t len)
{
	unsigned char *at;

	if (len > b->cap - b->len)
		buf_grow(b, len);
	at = b->data + b->len;
	b->len += len;
	return at;
}

/*
 * Stores into room already made (buf_room), little-endian. A record of
 * many fields takes its room once and stores each: one bounds check, and
 * no reload of the buffer's length after every byte store (which may
 * alias it).
 */
static inline unsigned char *
buf_store_u8(unsigned char *x, uint8_t v)
{
	*x = v;
	return x + 1;
}

static inline unsigned char *
buf_store_u16(unsigned char *x, uint16_t v)
{
	x[0] = (unsigned char)v;
	x[1] = (unsigned char)(v >> 8);
	return x + 2;
}

static inline unsigned char *
buf_store_u32(unsigned char *x, uint32_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	/* The layout is the host's own: one store. */
	memcpy(x, &v, 4);
#else
	int i;

	for (i = 0; i < 4; i++)
		x[i] = (unsigned char)(v >> (8 * i));
#endif
	return x + 4;
}

static inline unsigned char *
buf_store_u64(unsigned char *x, uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	memcpy(x, &v, 8);
#else
	int i;

	for (i = 0; i < 8; i++)
		x[i] = (unsigned char)(v >> (8 * i));
#endif
	return x + 8;
}

static inline unsigned char *
buf_store_double(unsigned char *x, double v)
{
	uint64_t u;

	memcpy(&u, &v, sizeof u);
	return buf_store_u64(x, u);
}

/* A record stored short of or past its room: a bug, fatal. */
void buf_overrun(const struct buf *b, const unsigned char *end);

/*
 * A record's stores ended at end: it must be where the room made last
 * for it ends, or a field was added without its bytes counted.
 */
static inline void
buf_stored(const struct buf *b, const unsigned char *end)
{
	if (end != b->data + b->len)
		buf_overrun(b, end);
}

static inline void
buf_put_u8(struct buf *b, uint8_t v)
{
	buf_store_u8(buf_room(b, 1), v);
}

static inline void
buf_put_u16(struct buf *b, uint16_t v)
{
	buf_store_u16(buf_room(b, 2), v);
}

static inline void
buf_put_u32(struct buf *b, uint32_t v)
{
	buf_store_u32(buf_room(b, 4), v);
}

static inline void
buf_put_u64(struct buf *b, uint64_t v)
{
	buf_store_u64(buf_room(b, 8), v);
}

static inline void
buf_put_i64(struct buf *b, int64_t v)
{
	buf_put_u64(b, (uint64_t)v);
}

static inline void
buf_put_double(struct buf *b, double v)
{
	buf_store_double(buf_room(b, 8), v);
}

/* u32 length, then the bytes (no terminator). */
void buf_put_str(struct buf *b, const char *s);

/*
 * Reader: borrows the bytes. Every get returns 0 or -1 when the input is
 * short; after the first failure `bad` stays set and later gets fail too,
 * so a loader can check once at the end.
 */
struct buf_reader {
	const unsigned char	*p;
	size_t			 left;
	bool			 bad;
};

void buf_reader_init(struct buf_reader *r, const void *data, size_t len);
int buf_get(struct buf_reader *r, void *out, size_t len);
int buf_get_u8(struct buf_reader *r, uint8_t *v);
int buf_get_u16(struct buf_reader *r, uint16_t *v);
int buf_get_u32(struct buf_reader *r, uint32_t *v);
int buf_get_u64(struct buf_reader *r, uint64_t *v);
int buf_get_i64(struct buf_reader *r, int64_t *v);
int buf_get_double(struct buf_reader *r, double *v);
/* Copies into out (NUL-terminated); fails when longer than outsize - 1. */
int buf_get_str(struct buf_reader *r, char *out, size_t outsize);
/* Borrows len bytes in place. */
const unsigned char *buf_get_bytes(struct buf_reader *r, size_t len);

#endif
