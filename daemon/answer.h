/*
 * The answer cache: the dumped bodies of the API's heavy read-only GET
 * answers (series, control chart, funnel, alerts, models), so that many
 * readers of the same view cost one build per change of state, not one
 * per request. An answer is kept only while nothing it may read changed:
 * the state generation and the wall-clock second it was built in.
 */
#ifndef STABILD_ANSWER_H
#define STABILD_ANSWER_H

#include <stddef.h>
#include <stdint.h>

struct answer_cache;

/* A kept answer, borrowed until the next call on its cache. */
struct answer {
	int		 code;
	const char	*type;	/* Content-Type; a static string */
	const void	*body;
	size_t		 len;
};

/*
 * State an answer may read changed: every kept answer is stale. The
 * daemon's state changes only in steps of its own work on the loop, and
 * stall_step calls this at the end of each (all but the API's reads).
 */
void answer_changed(void);
/* The state generation: it moves on with each answer_changed. */
uint64_t answer_generation(void);

/* A cache of at most max_bytes (keys, bodies and bookkeeping). */
struct answer_cache *answer_create(size_t max_bytes);
void answer_free(struct answer_cache *);

/*
 * The answer kept for the key's keylen bytes, if it was built at this
 * generation within the second now (Unix seconds: every "now" an answer
 * reads has this resolution), else NULL. A hit becomes the most recent.
 */
const struct answer *answer_get(struct answer_cache *, const void *key,
    size_t keylen, int64_t now);

/*
 * Keep an answer built at generation gen (answer_generation before it was
 * built) wholly within the second now (the caller checks the clock before
 * and after); the body is copied. Nothing is kept if the state moved on
 * meanwhile (the answer was stale at birth) or if it would take more than
 * a quarter of the cache; the least recently used answers go to make room.
 */
void answer_put(struct answer_cache *, const void *key, size_t keylen,
    uint64_t gen, int64_t now, int code, const char *type, const void *body,
    size_t len);

/* What the cache holds now. */
size_t answer_bytes(const struct answer_cache *);
size_t answer_count(const struct answer_cache *);

#endif
