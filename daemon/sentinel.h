/*
 * Redis Sentinel discovery (issue 14, Part D): ask the configured
 * sentinels in turn, asynchronously, for the master's address.
 */
#ifndef STABILD_SENTINEL_H
#define STABILD_SENTINEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct conf;
struct redisReply;
struct sentinel;

/* c is borrowed; NULL when redis.sentinels is unset. */
struct sentinel *sentinel_create(struct event_base *base,
    const struct conf *c);
/* A resolution under way ends without its callback. */
void sentinel_free(struct sentinel *s);
/*
 * Find the master: cb(arg, host, port, NULL), or cb(arg, NULL, 0, err)
 * once every sentinel failed. 0, or -1 when a resolution is already
 * under way (cb not called). cb is never called from inside
 * sentinel_resolve, and may start the next resolution.
 */
typedef void (*sentinel_cb)(void *arg, const char *host, int port,
    const char *err);
int sentinel_resolve(struct sentinel *s, sentinel_cb cb, void *arg);

/*
 * A link found host:port to be the master (ROLE). True, with a notice
 * logged, when the daemon's links knew another master before: a failover
 * to count, once for all links.
 */
bool sentinel_confirm(const char *host, int port);
/* How many failovers the links followed (stabild_redis_failovers_total). */
uint64_t sentinel_failovers(void);
/*
 * The address given was not the master (ROLE): ask the next sentinel
 * first from now on.
 */
void sentinel_distrust(struct sentinel *s);

/*
 * Reply helpers, for tests. The master's address out of
 * SENTINEL get-master-addr-by-name: 0, or -1 with *cause.
 */
int sentinel_parse_addr(const struct redisReply *r, char *host,
    size_t hostsz, int *port, char **cause);
/* ROLE: 0 for a master, -1 with *cause for anything else. */
int sentinel_parse_role(const struct redisReply *r, char **cause);

#endif
