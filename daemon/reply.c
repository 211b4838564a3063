/*
 * Arena-backed hiredis reply objects. hiredis asks for one object per
 * element of a reply; here they come from a bump allocator that is reset
 * when hiredis frees the reply, so a batch costs no malloc at all once
 * the arena has grown to the batch size.
 *
 * The chunks are mapped on their own, left out of the checkpoint's fork
 * (MADV_DONTFORK: the child reads no reply), and kept for reuse when a
 * kept reply gives them back: a reply written after a fork then copies
 * no page, and no chunk is unmapped and mapped again, whose first touches
 * would fault as often.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>
#include <hiredis/read.h>

#include "reply.h"
#include "xmalloc.h"

#define REPLY_CHUNK_MIN		(256 * 1024)
#define REPLY_ARENA_MAX		(64 * 1024 * 1024)	/* kept between replies */
#define REPLY_POOL_MAX		4	/* chunks kept for the next replies */
#define REPLY_ALIGN		16

struct reply_chunk {
	struct reply_chunk	*next;
	struct reply_reader	*owner;		/* whose pool it goes back to */
	size_t			 size;
	size_t			 used;
	unsigned char		 data[];
};

/*
 * One arena per connection (its reader's privdata), since two links may
 * each have a reply half read; the default one for readers without.
 */
struct reply_reader {
	struct reply_chunk	*chunks;	/* newest first */
	struct reply_chunk	*pool;		/* kept replies' chunks, given back */
};

static struct reply_reader reply_default;
/* The arena of the reply being read: its callback may keep it. */
static struct reply_reader *reply_current = &reply_default;

static void
reply_chunk_unmap(struct reply_chunk *c)
{
	xunmap(c, sizeof *c + c->size, 1);
}

/* A list of chunks (next-linked): their bytes, or all of them unmapped. */
static size_t
reply_chunks_size(const struct reply_chunk *c)
{
	size_t total = 0;

	for (; c != NULL; c = c->next)
		total += c->size;
	return total;
}

static void
reply_chunks_unmap(struct reply_chunk *c)
{
	struct reply_chunk *next;

	for (; c != NULL; c = next) {
		next = c->next;
		reply_chunk_unmap(c);
	}
}

/* The pool's largest chunk if it holds need bytes, else a new one of want. */
static struct reply_chunk *
reply_chunk_get(struct reply_reader *rr, size_t need, size_t want)
{
	struct reply_chunk **pp, **best = NULL, *c;

	for (pp = &rr->pool; *pp != NULL; pp = &(*pp)->next) {
		if (best == NULL || (*pp)->size > (*best)->size)
			best = pp;
	}
	if (best != NULL && (*best)->size >= need) {
		c = *best;
		*best = c->next;
	} else {
		if (want < need)
			want = need;
		c = xmap_grow(NULL, 0, sizeof *c + want, 1, XMAP_NOFORK);
		c->owner = rr;
		c->size = want;
	}
	c->used = 0;
	c->next = NULL;
	return c;
}

/*
 * Back to its reader's pool; past REPLY_POOL_MAX the smallest goes, and
 * a chunk grown past what the arena keeps for one reply is not kept.
 */
static void
reply_chunk_put(struct reply_chunk *c)
{
	struct reply_reader *rr = c->owner;
	struct reply_chunk **pp, **small;
	int n = 0;

	if (c->size > REPLY_ARENA_MAX) {
		reply_chunk_unmap(c);
		return;
	}
	c->next = rr->pool;
	rr->pool = c;
	small = &rr->pool;
	for (pp = &rr->pool; *pp != NULL; pp = &(*pp)->next) {
		n++;
		if ((*pp)->size < (*small)->size)
			small = pp;
	}
	if (n <= REPLY_POOL_MAX)
		return;
	c = *small;
	*small = c->next;
	reply_chunk_unmap(c);
}

static void *
reply_alloc(struct reply_reader *rr, size_t n)
{
	struct reply_chunk *c = rr->chunks;
	void *p;

	n = (n + REPLY_ALIGN - 1) & ~(size_t)(REPLY_ALIGN - 1);
	if (c == NULL || c->size - c->used < n) {
		c = reply_chunk_get(rr, n, c == NULL ? REPLY_CHUNK_MIN :
		    c->size * 2);
		c->next = rr->chunks;
		rr->chunks = c;
	}
	p = c->data + c->used;
	c->used += n;
	return p;
}

static struct reply_reader *
reply_reader_of(const redisReadTask *task)
{
	return task->privdata != NULL ? task->privdata : &reply_default;
}

/*
 * A new object of the task's type, linked into its parent array. A
 * whole reply's object is preceded by its arena, for the free.
 */
static redisReply *
reply_object(const redisReadTask *task)
{
	struct reply_reader *rr = reply_reader_of(task);
	redisReply *r, *parent;
	unsigned char *p;

	reply_current = rr;
	if (task->parent == NULL) {
		p = reply_alloc(rr, REPLY_ALIGN + sizeof *r);
		memcpy(p, &rr, sizeof rr);
		r = (redisReply *)(p + REPLY_ALIGN);
	} else
		r = reply_alloc(rr, sizeof *r);
	memset(r, 0, sizeof *r);
	r->type = task->type;
	if (task->parent != NULL) {
		parent = task->parent->obj;
		parent->element[task->idx] = r;
	}
	return r;
}

static void *
reply_create_string(const redisReadTask *task, char *str, size_t len)
{
	redisReply *r = reply_object(task);

	r->str = reply_alloc(reply_reader_of(task), len + 1);
	memcpy(r->str, str, len);
	r->str[len] = '\0';
	r->len = len;
	return r;
}

static void *
reply_create_array(const redisReadTask *task, int elements)
{
	redisReply *r = reply_object(task);

	r->type = REDIS_REPLY_ARRAY;
	if (elements > 0) {
		r->element = reply_alloc(reply_reader_of(task),
		    (size_t)elements * sizeof *r->element);
		memset(r->element, 0, (size_t)elements * sizeof *r->element);
	}
	r->elements = elements > 0 ? (size_t)elements : 0;
	return r;
}

static void *
reply_create_integer(const redisReadTask *task, long long value)
{
	redisReply *r = reply_object(task);

	r->type = REDIS_REPLY_INTEGER;
	r->integer = value;
	return r;
}

static void *
reply_create_nil(const redisReadTask *task)
{
	redisReply *r = reply_object(task);

	/* The task says "bulk string"; the object is nil. */
	r->type = REDIS_REPLY_NIL;
	return r;
}

/*
 * hiredis frees only whole replies, one at a time: start the arena over.
 * Chunks grown for a big reply merge into one, so that the next reply of
 * that size fits in a single block.
 */
static void
reply_free_object(void *obj)
{
	struct reply_reader *rr;
	size_t total;

	memcpy(&rr, (unsigned char *)obj - REPLY_ALIGN, sizeof rr);
	if (rr->chunks == NULL)
		return;		/* kept (reply_keep) */
	if (rr->chunks->next == NULL) {
		rr->chunks->used = 0;
		return;
	}
	/* The pieces are smaller than what replaces them: not kept. */
	total = reply_chunks_size(rr->chunks);
	reply_chunks_unmap(rr->chunks);
	if (total > REPLY_ARENA_MAX)
		total = REPLY_ARENA_MAX;
	rr->chunks = reply_chunk_get(rr, total, total);
}

static redisReplyObjectFunctions reply_fns = {
	reply_create_string,
	reply_create_array,
	reply_create_integer,
	reply_create_nil,
	reply_free_object,
};

struct redisReplyObjectFunctions *
reply_functions(void)
{
	return &reply_fns;
}

/*
 * The reply in its callback now stays past it: its chunks leave the
 * arena (hiredis's free then finds it empty) and the next reply starts
 * in a pooled chunk, or in a new one.
 */
struct reply_arena *
reply_keep(void)
{
	struct reply_chunk *c = reply_current->chunks;

	reply_current->chunks = NULL;
	return (struct reply_arena *)c;
}

/* A kept reply is done with: its chunks go back to the pool. */
void
reply_arena_free(struct reply_arena *a)
{
	struct reply_chunk *c, *next;

	for (c = (struct reply_chunk *)a; c != NULL; c = next) {
		next = c->next;
		reply_chunk_put(c);
	}
}

static size_t
reply_reader_memory(const struct reply_reader *rr)
{
	return reply_chunks_size(rr->chunks) + reply_chunks_size(rr->pool);
}

size_t
reply_memory(void)
{
	return reply_reader_memory(&reply_default);
}

static void
reply_reader_clear(struct reply_reader *rr)
{
	reply_chunks_unmap(rr->chunks);
	rr->chunks = NULL;
	reply_chunks_unmap(rr->pool);
	rr->pool = NULL;
}

void
reply_release(void)
{
	reply_reader_clear(&reply_default);
}

struct reply_reader *
reply_reader_new(void)
{
	return xcalloc(1, sizeof (struct reply_reader));
}

/* After the reader using it is freed and its kept replies are. */
void
reply_reader_free(struct reply_reader *rr)
{
	if (rr == NULL)
		return;
	reply_reader_clear(rr);
	if (reply_current == rr)
		reply_current = &reply_default;
	free(rr);
}
