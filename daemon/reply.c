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
	size_t			 size;
	size_t			 used;
	unsigned char		 data[];
};

static struct reply_chunk *reply_chunks;	/* newest first */
static struct reply_chunk *reply_spare;	/* a kept reply's, given back */

static void *
reply_alloc(size_t n)
{
	struct reply_chunk *c = reply_chunks;
	size_t size;
	void *p;

	n = (n + REPLY_ALIGN - 1) & ~(size_t)(REPLY_ALIGN - 1);
	if (c == NULL && reply_spare != NULL) {
		/* Memory already touched: no page faults for this reply. */
		c = reply_chunks = reply_spare;
		reply_spare = NULL;
	}
	if (c == NULL || c->size - c->used < n) {
		size = c == NULL ? REPLY_CHUNK_MIN : c->size * 2;
		if (size < n)
			size = n;
		c = xmalloc(sizeof *c + size);
		c->size = size;
		c->used = 0;
		c->next = reply_chunks;
		reply_chunks = c;
	}
	p = c->data + c->used;
	c->used += n;
	return p;
}

/* A new object of the task's type, linked into its parent array. */
static redisReply *
reply_object(const redisReadTask *task)
{
	redisReply *r = reply_alloc(sizeof *r), *parent;

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

	r->str = reply_alloc(len + 1);
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
		r->element = reply_alloc((size_t)elements * sizeof *r->element);
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
	struct reply_chunk *c, *next;
	size_t total = 0;

	(void)obj;
	if (reply_chunks == NULL)
		return;
	if (reply_chunks->next == NULL) {
		reply_chunks->used = 0;
		return;
	}
	for (c = reply_chunks; c != NULL; c = next) {
		next = c->next;
		total += c->size;
		free(c);
	}
	if (total > REPLY_ARENA_MAX)
		total = REPLY_ARENA_MAX;
	c = xmalloc(sizeof *c + total);
	c->size = total;
	c->used = 0;
	c->next = NULL;
	reply_chunks = c;
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
	struct reply_chunk *c = reply_chunks;

	reply_chunks = NULL;
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
	if (reply_spare == NULL || reply_spare->size < best->size) {
		free(reply_spare);
		best->used = 0;
		best->next = NULL;
		reply_spare = best;
	} else
		free(best);
}

size_t
reply_memory(void)
{
	struct reply_chunk *c;
	size_t total = 0;

	for (c = reply_chunks; c != NULL; c = c->next)
		total += c->size;
	if (reply_spare != NULL)
		total += reply_spare->size;
	return total;
}

void
reply_release(void)
{
	struct reply_chunk *c, *next;

	for (c = reply_chunks; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	reply_chunks = NULL;
	free(reply_spare);
	reply_spare = NULL;
}
