/*
 * Byte buffer and reader used to serialise state into checkpoints in a
 * fixed, machine-independent layout.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "xmalloc.h"

/*
 * From this size a buffer is a mapping of its own, in huge pages where
 * the kernel has them (MADV_HUGEPAGE): a checkpoint's sections are tens
 * of megabytes of fresh memory in a forked child, and touched a 4 KB page
 * at a time they cost ten times their serialising (55 MB: 150 ms of page
 * faults against 15 ms of puts, on a virtual machine).
 */
#define BUF_MAP_MIN	((size_t)2 << 20)

void
buf_init(struct buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->mapped = false;
}

void
buf_free(struct buf *b)
{
	if (b->mapped)
		xunmap(b->data, b->cap, 1);
	else
		free(b->data);
	buf_init(b);
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
}

/*
 * A mapping of cap bytes (a multiple of the page size) holding the
 * buffer's bytes: moved, not copied, when it grows.
 */
static void
buf_map(struct buf *b, size_t cap)
{
	unsigned char *p;

	if (b->mapped)
		p = xmap_grow(b->data, b->cap, cap, 1, XMAP_HUGE);
	else {
		p = xmap_grow(NULL, 0, cap, 1, XMAP_HUGE);
		if (b->len > 0)
			memcpy(p, b->data, b->len);
		free(b->data);
	}
	b->data = p;
	b->cap = cap;
	b->mapped = true;
}

void
buf_overrun(const struct buf *b, const unsigned char *end)
{
	fatalx("buf: a record's stores end %td bytes from its room's end",
	    end - (b->data + b->len));
}

/* Doubling, so that a checkpoint's millions of puts grow it rarely. */
void
buf_grow(struct buf *b, size_t len)
{
	size_t cap = b->cap ? b->cap : 256;

	if (len > SIZE_MAX / 4 - b->len)
		fatalx("buf: %zu more bytes after %zu", len, b->len);
	while (cap < b->len + len)
		cap *= 2;
	if (cap >= BUF_MAP_MIN) {
		buf_map(b, cap);
		return;
	}
	b->data = xreallocarray(b->data, cap, 1);
	b->cap = cap;
}

void
buf_put(struct buf *b, const void *p, size_t len)
{
	if (len == 0)
		return;
	memcpy(buf_room(b, len), p, len);
}

void
buf_put_u64s(struct buf *b, const uint64_t *v, size_t n)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	/* The layout is the host's own: one copy. */
	if (n > 0)
		memcpy(buf_room(b, n * sizeof *v), v, n * sizeof *v);
#else
	size_t i;

	for (i = 0; i < n; i++)
		buf_put_u64(b, v[i]);
#endif
}

void
buf_put_str(struct buf *b, const char *s)
{
	size_t len = strlen(s);

	buf_put_u32(b, (uint32_t)len);
	buf_put(b, s, len);
}

void
buf_reader_init(struct buf_reader *r, const void *data, size_t len)
{
	r->p = data;
	r->left = len;
	r->bad = false;
}

const unsigned char *
buf_get_bytes(struct buf_reader *r, size_t len)
{
	const unsigned char *p;

	if (r->bad || r->left < len) {
		r->bad = true;
		return NULL;
	}
	p = r->p;
	r->p += len;
	r->left -= len;
	return p;
}

int
buf_get(struct buf_reader *r, void *out, size_t len)
{
	const unsigned char *p = buf_get_bytes(r, len);

	if (p == NULL)
		return -1;
	memcpy(out, p, len);
	return 0;
}

int
buf_get_u8(struct buf_reader *r, uint8_t *v)
{
	return buf_get(r, v, 1);
}

int
buf_get_u16(struct buf_reader *r, uint16_t *v)
{
	const unsigned char *p = buf_get_bytes(r, 2);

	if (p == NULL)
		return -1;
	*v = (uint16_t)(p[0] | (p[1] << 8));
	return 0;
}

int
buf_get_u32(struct buf_reader *r, uint32_t *v)
{
	const unsigned char *p = buf_get_bytes(r, 4);
	int i;

	if (p == NULL)
		return -1;
	*v = 0;
	for (i = 3; i >= 0; i--)
		*v = (*v << 8) | p[i];
	return 0;
}

int
buf_get_u64(struct buf_reader *r, uint64_t *v)
{
	const unsigned char *p = buf_get_bytes(r, 8);
	int i;

	if (p == NULL)
		return -1;
	*v = 0;
	for (i = 7; i >= 0; i--)
		*v = (*v << 8) | p[i];
	return 0;
}

int
buf_get_i64(struct buf_reader *r, int64_t *v)
{
	uint64_t u;

	if (buf_get_u64(r, &u) == -1)
		return -1;
	*v = (int64_t)u;
	return 0;
}

int
buf_get_double(struct buf_reader *r, double *v)
{
	uint64_t u;

	if (buf_get_u64(r, &u) == -1)
		return -1;
	memcpy(v, &u, sizeof *v);
	return 0;
}

int
buf_get_str(struct buf_reader *r, char *out, size_t outsize)
{
	uint32_t len;
	const unsigned char *p;

	if (buf_get_u32(r, &len) == -1)
		return -1;
	if ((size_t)len + 1 > outsize) {
		r->bad = true;
		return -1;
	}
	if ((p = buf_get_bytes(r, len)) == NULL)
		return -1;
	memcpy(out, p, len);
	out[len] = '\0';
	return 0;
}
