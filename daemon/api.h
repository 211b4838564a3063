/*
 * The supervision HTTP API on evhttp (contract §4): routes in a table,
 * bearer-token auth by role, JSON bodies and errors. Reads daemon state;
 * never writes detector internals.
 */
#ifndef STABILD_API_H
#define STABILD_API_H

#include <stdint.h>

struct event_base;
struct conf;
struct auth;
struct ingest;
struct stream;
struct explain_registry;
struct api;

/* Bind and listen. NULL with *cause when the address cannot be bound. */
struct api *api_create(struct event_base *base, const struct conf *c,
    const struct auth *a, const struct ingest *in, const struct stream *st,
    char **cause);
void api_free(struct api *api);
/*
 * POST /v1/checkpoint waits without holding the loop: the request gets a
 * ticket (1, 2, ...) and cb(arg, ticket) asks the daemon for a checkpoint
 * that covers it. The daemon answers later, or at once from within cb,
 * with api_checkpoint_done: every request up to ticket upto gets 200, or
 * 500 with cause if cause is not NULL.
 */
typedef void (*api_checkpoint_cb)(void *arg, uint64_t ticket);
void api_set_checkpoint(struct api *api, api_checkpoint_cb cb, void *arg);
void api_checkpoint_done(struct api *api, uint64_t upto, const char *cause);
/*
 * The explanation routes (/v1/explanations): reg, benefits (the configured
 * names, in order) are borrowed for the life of the api; path is copied
 * (NULL: changes are not saved). After each change made through the API,
 * once it is saved, changed_cb(arg) is called (cb may be NULL). Until
 * this is called, those routes answer 503.
 */
typedef void (*api_explain_changed_cb)(void *arg);
void api_set_explanations(struct api *api, struct explain_registry *reg,
    const char *const *benefits, int nbenefits, const char *path,
    api_explain_changed_cb changed_cb, void *arg);
/*
 * The drift monitor behind /v1/alerts, /v1/model and series state;
 * changed_cb(arg) runs after a request changed its state (refit,
 * rebaseline), so that it is checkpointed.
 */
struct monitor;
void api_set_monitor(struct api *api, struct monitor *mon,
    void (*changed_cb)(void *), void *arg);
/* GET /v1/deliveries answers fn(arg) (a new JSON reference). */
struct json_t;
void api_set_deliveries(struct api *api, struct json_t *(*fn)(void *),
    void *arg);
/*
 * HA mode: GET /v1/status gains "ha", fn(arg) (a new JSON reference).
 * Without this call (HA off) the status has no "ha" member.
 */
void api_set_ha(struct api *api, struct json_t *(*fn)(void *), void *arg);
/*
 * HA mode: the explanation, silence, refit and rebaseline writes go
 * through hr (issue 14, Part B); borrowed. NULL or never set: local.
 */
struct ha_registry;
void api_set_ha_registry(struct api *api, struct ha_registry *hr);
/*
 * The silence routes (/v1/silences): reg is borrowed for the life of the
 * api, path copied (NULL: changes are not saved). Until this is called,
 * those routes answer 503.
 */
struct silence_registry;
void api_set_silences(struct api *api, struct silence_registry *reg,
    const char *path);
/* The port the API is bound to (the real one when http.port is 0). */
int api_port(const struct api *api);
/* Swap conf and tokens after a reload (both borrowed). */
void api_set_conf(struct api *api, const struct conf *c, const struct auth *a);
/*
 * Answer req as if a client had sent it, without a connection: for
 * requests built in the process (the fuzz target). evhttp frees req when
 * it is answered, which happens exactly once.
 */
struct evhttp_request;
void api_handle(struct api *api, struct evhttp_request *req);

#endif
