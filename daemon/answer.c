/*
 * The answer cache. Every answer it holds was built at the same state
 * generation within the same second, so that a change of either empties
 * it at once: there is never a stale answer to find, and what is dropped
 * is dropped together. Within that, a byte limit and the least recently
 * used order bound it.
 */
#include <sys/queue.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "xmalloc.h"

#define ANSWER_BUCKETS	256	/* a few hundred views at most are live */

struct answer_entry {
	TAILQ_ENTRY(answer_entry)	 lru;	/* most recent first */
	struct answer_entry		*next;	/* in its bucket */
	uint64_t			 hash;
	size_t				 keylen;
	size_t				 size;	/* counted against the limit */
	struct answer			 a;
	unsigned char			 data[];	/* key, then body */
};

TAILQ_HEAD(answer_list, answer_entry);

struct answer_cache {
	struct answer_entry	*buckets[ANSWER_BUCKETS];
	struct answer_list	 lru;
	size_t			 max;
	size_t			 bytes;
	size_t			 count;
	uint64_t		 gen;	/* of every answer held */
	int64_t			 at;	/* the second of every answer held */
};

static uint64_t answer_gen = 1;

void
answer_changed(void)
{
	answer_gen++;
}

uint64_t
answer_generation(void)
{
	return answer_gen;
}

/* FNV-1a. */
static uint64_t
answer_hash(const void *key, size_t len)
{
	const unsigned char *p = key;
	uint64_t h = 14695981039346656037u;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 1099511628211u;
	}
	return h;
}

struct answer_cache *
answer_create(size_t max_bytes)
{
	struct answer_cache *c = xcalloc(1, sizeof *c);

	TAILQ_INIT(&c->lru);
	c->max = max_bytes;
	return c;
}

/* Unlink e from its bucket and the order, and free it. */
static void
answer_remove(struct answer_cache *c, struct answer_entry *e)
{
	struct answer_entry **pp = &c->buckets[e->hash % ANSWER_BUCKETS];

	while (*pp != e)
		pp = &(*pp)->next;
	*pp = e->next;
	TAILQ_REMOVE(&c->lru, e, lru);
	c->bytes -= e->size;
	c->count--;
	free(e);
}

static void
answer_clear(struct answer_cache *c)
{
	struct answer_entry *e;

	while ((e = TAILQ_FIRST(&c->lru)) != NULL)
		answer_remove(c, e);
}

void
answer_free(struct answer_cache *c)
{
	if (c == NULL)
		return;
	answer_clear(c);
	free(c);
}

/*
 * Make the cache hold answers of generation gen and second now: when
 * either moved on, everything held is stale and goes.
 */
static void
answer_age(struct answer_cache *c, uint64_t gen, int64_t now)
{
	if (c->gen == gen && c->at == now)
		return;
	answer_clear(c);
	c->gen = gen;
	c->at = now;
}

static struct answer_entry *
answer_find(const struct answer_cache *c, const void *key, size_t keylen,
    uint64_t hash)
{
	struct answer_entry *e;

	for (e = c->buckets[hash % ANSWER_BUCKETS]; e != NULL; e = e->next) {
		if (e->hash == hash && e->keylen == keylen &&
		    memcmp(e->data, key, keylen) == 0)
			return e;
	}
	return NULL;
}

const struct answer *
answer_get(struct answer_cache *c, const void *key, size_t keylen,
    int64_t now)
{
	struct answer_entry *e;

	answer_age(c, answer_gen, now);
	if ((e = answer_find(c, key, keylen, answer_hash(key, keylen))) ==
	    NULL)
		return NULL;
	TAILQ_REMOVE(&c->lru, e, lru);
	TAILQ_INSERT_HEAD(&c->lru, e, lru);
	return &e->a;
}

void
answer_put(struct answer_cache *c, const void *key, size_t keylen,
    uint64_t gen, int64_t now, int code, const char *type, const void *body,
    size_t len)
{
	struct answer_entry *e, *old;
	uint64_t hash = answer_hash(key, keylen);
	size_t size = sizeof *e + keylen + len;

	/* Built before a change, or too big to keep beside others. */
	if (gen != answer_gen || keylen > c->max || len > c->max ||
	    size > c->max / 4)
		return;
	answer_age(c, gen, now);
	if ((old = answer_find(c, key, keylen, hash)) != NULL)
		answer_remove(c, old);
	while (c->bytes + size > c->max)
		answer_remove(c, TAILQ_LAST(&c->lru, answer_list));

	e = xmalloc(size);
	e->hash = hash;
	e->keylen = keylen;
	e->size = size;
	memcpy(e->data, key, keylen);
	if (len > 0)
		memcpy(e->data + keylen, body, len);
	e->a.code = code;
	e->a.type = type;
	e->a.body = e->data + keylen;
	e->a.len = len;
	e->next = c->buckets[hash % ANSWER_BUCKETS];
	c->buckets[hash % ANSWER_BUCKETS] = e;
	TAILQ_INSERT_HEAD(&c->lru, e, lru);
	c->bytes += size;
	c->count++;
}

size_t
answer_bytes(const struct answer_cache *c)
{
	return c->bytes;
}

size_t
answer_count(const struct answer_cache *c)
{
	return c->count;
}
