/*
 * Alert delivery: a sink that turns every alert state change into one
 * notification per webhook receiver in the durable outbox, and a timer
 * that attempts the due ones over HTTP on the event loop, retrying with
 * backoff until they are delivered or expire.
 */
#ifndef STABILD_DELIVER_H
#define STABILD_DELIVER_H

#include <jansson.h>

struct event_base;
struct conf;
struct deliver;
struct sink;
struct silence_registry;

/*
 * Open the outbox under state_dir and read the receivers' secrets. c is
 * borrowed (see deliver_set_conf). NULL with *cause on error.
 */
struct deliver *deliver_create(struct event_base *base, const struct conf *c,
    const char *state_dir, char **cause);
void deliver_free(struct deliver *d);
/* The sink to register; borrowed from d. */
const struct sink *deliver_sink(struct deliver *d);
/* A reload: receivers and secrets as the new configuration says. */
int deliver_set_conf(struct deliver *d, const struct conf *c, char **cause);
/*
 * The silences deliver_emit checks (borrowed; NULL: none). A silenced
 * alert state is logged and not put into the outbox.
 */
void deliver_set_silences(struct deliver *d,
    const struct silence_registry *reg);
/*
 * HA mode (issue 14, Part C): claim every notification in Redis before
 * sending it. ha is borrowed; without this call deliveries are as before.
 */
struct ha;
void deliver_set_ha(struct deliver *d, struct ha *ha);
/* GET /v1/deliveries: every notification not yet delivered. */
json_t *deliver_json(const struct deliver *d);

#endif
