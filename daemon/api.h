/*
 * The supervision HTTP API on evhttp (contract §4): routes in a table,
 * bearer-token auth by role, JSON bodies and errors. Reads daemon state;
 * never writes detector internals.
 */
#ifndef STABILD_API_H
#define STABILD_API_H

struct event_base;
struct conf;
struct auth;
struct ingest;
struct stream;
struct api;

/* Bind and listen. NULL with *cause when the address cannot be bound. */
struct api *api_create(struct event_base *base, const struct conf *c,
    const struct auth *a, const struct ingest *in, const struct stream *st,
    char **cause);
void api_free(struct api *api);
/*
 * POST /v1/checkpoint calls cb(arg, &cause): 0 when a checkpoint was
 * written (or nothing needed one), -1 with *cause (which it frees).
 */
typedef int (*api_checkpoint_cb)(void *arg, char **cause);
void api_set_checkpoint(struct api *api, api_checkpoint_cb cb, void *arg);
/* Swap conf and tokens after a reload (both borrowed). */
void api_set_conf(struct api *api, const struct conf *c, const struct auth *a);

#endif
