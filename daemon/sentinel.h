/*
 * Redis Sentinel discovery (issue 14, Part D): ask the configured
 * sentinels in turn, asynchronously, for the master's address.
 */
#ifndef STABILD_SENTINEL_H
#define STABILD_SENTINEL_H

#include <stdbool.h>

struct event_base;
struct conf;
struct sentinel;

/* Whether this build has Sentinel discovery (false: a stub). */
bool sentinel_available(void);
/* c is borrowed; NULL when redis.sentinels is unset. */
struct sentinel *sentinel_create(struct event_base *base,
    const struct conf *c);
void sentinel_free(struct sentinel *s);
/*
 * Find the master: cb(arg, host, port, NULL), or cb(arg, NULL, 0, err)
 * once every sentinel failed. 0, or -1 when a resolution is already
 * under way (cb not called).
 */
typedef void (*sentinel_cb)(void *arg, const char *host, int port,
    const char *err);
int sentinel_resolve(struct sentinel *s, sentinel_cb cb, void *arg);

#endif
