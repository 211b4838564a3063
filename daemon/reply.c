/*
 * Arena-backed hiredis reply objects. hiredis asks for one object per
 * element of a reply; here they come from a bump allocator that is reset
 * when hiredis frees the reply, so a batch costs no malloc at all once
 * the arena has grown to the batch size.
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
#define REPLY_ALIGN		16

struct reply_chunk {
	struct reply_chunk	*next;
	struct reply_reader	*owner;		/* whose spare it becomes */
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
	struct reply_chunk	*spare;		/* a kept reply's, given back */
};

static struct reply_reader reply_default;
/* The arena of the reply being read: its callback may keep it. */
static struct reply_reader *reply_current = &reply_default;

static void *
reply_alloc(struct reply_reader *rr, size_t n)
{
	struct reply_chunk *c = rr->chunks;
	size_t size;
	void *p;

	n = (n + REPLY_ALIGN - 1) & ~(size_t)(REPLY_ALIGN - 1);
	if (c == NULL && rr->spare != NULL) {
		/* Memory already touched: no page faults for this reply. */
		c = rr->chunks = rr->spare;
		rr->spare = NULL;
	}
	if (c == NULL || c->size - c->used < n) {
		size = c == NULL ? REPLY_CHUNK_MIN : c->size * 2;
		if (size < n)
			size = n;
		c = xmalloc(sizeof *c + size);
		c->owner = rr;
		c->size = size;
		c->used = 0;
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
	struct reply_chunk *c, *next;
	size_t total = 0;

	memcpy(&rr, (unsigned char *)obj - REPLY_ALIGN, sizeof rr);
	if (rr->chunks == NULL)
		return;		/* kept (reply_keep) */
	if (rr->chunks->next == NULL) {
		rr->chunks->used = 0;
		return;
	}
	for (c = rr->chunks; c != NULL; c = next) {
		next = c->next;
		total += c->size;
		free(c);
	}
	if (total > REPLY_ARENA_MAX)
		total = REPLY_ARENA_MAX;
	c = xmalloc(sizeof *c + total);
	c->owner = rr;
	c->size = total;
	c->used = 0;
	c->next = NULL;
	rr->chunks = c;
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
 * in the spare, or in a new chunk.
 */
struct reply_arena *
reply_keep(void)
{
	struct reply_chunk *c = reply_current->chunks;

	reply_current->chunks = NULL;
	return (struct reply_arena *)c;
}

/* A kept reply is done with: its largest chunk becomes the spare. */
void
reply_arena_free(struct reply_arena *a)
{
	struct reply_chunk *c, *next, *best = NULL;

	for (c = (struct reply_chunk *)a; c != NULL; c = next) {
		next = c->next;
		if (best == NULL || c->size > best->size) {
			free(best);
			best = c;
		} else
			free(c);
	}
	if (best == NULL)
		return;
	if (best->owner->spare == NULL || best->owner->spare->size <
	    best->size) {
		free(best->owner->spare);
		best->used = 0;
		best->next = NULL;
		best->owner->spare = best;
	} else
		free(best);
}

static size_t
reply_reader_memory(const struct reply_reader *rr)
{
	struct reply_chunk *c;
	size_t total = 0;

	for (c = rr->chunks; c != NULL; c = c->next)
		total += c->size;
	if (rr->spare != NULL)
		total += rr->spare->size;
	return total;
}

size_t
reply_memory(void)
{
	return reply_reader_memory(&reply_default);
}

static void
reply_reader_clear(struct reply_reader *rr)
{
	struct reply_chunk *c, *next;

	for (c = rr->chunks; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	rr->chunks = NULL;
	free(rr->spare);
	rr->spare = NULL;
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
