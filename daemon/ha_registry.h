/*
 * Shared registries (issue 14, Part B): explanations and silences written
 * through the API go to Redis (a hash per registry and an entry in the
 * control log, atomically) and are applied by every instance from the
 * log; the configuration file's explanations stay a local read-only
 * layer.
 */
#ifndef STABILD_HA_REGISTRY_H
#define STABILD_HA_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct ha;
struct ha_log;
struct explain_registry;
struct explanation;
struct silence_registry;
struct silence;
struct monitor;
struct ingest;
struct ha_registry;

/*
 * All borrowed. Registers its log handlers and adds its checkpoint
 * section to in: call before ingest_open.
 */
struct ha_registry *ha_registry_create(struct ha *ha, struct ha_log *hl,
    struct explain_registry *reg, struct silence_registry *silences,
    struct monitor *mon, struct ingest *in);
/* Once the link is up: import the state directory's files (first time). */
void ha_registry_start(struct ha_registry *hr);
void ha_registry_free(struct ha_registry *hr);
/* SIGHUP: the configuration's explanations changed (shadowing). */
void ha_registry_reload(struct ha_registry *hr);

/*
 * The answer to a write: HTTP status (201, 204, 200, 404, 409, 503), the
 * body (a new reference, or NULL) or err, and whether this instance has
 * applied it yet (X-Stabild-Applied).
 */
typedef void (*ha_registry_done_cb)(void *arg, int status, json_t *body,
    const char *err, bool applied);
/*
 * Each returns 0 and calls cb later, or -1 (not sent: the link is down;
 * cb not called). Arguments are copied.
 */
int ha_registry_explain_put(struct ha_registry *hr,
    const struct explanation *e, ha_registry_done_cb cb, void *arg);
int ha_registry_explain_delete(struct ha_registry *hr, const char *id,
    ha_registry_done_cb cb, void *arg);
int ha_registry_silence_put(struct ha_registry *hr, const struct silence *s,
    ha_registry_done_cb cb, void *arg);
int ha_registry_silence_delete(struct ha_registry *hr, const char *id,
    ha_registry_done_cb cb, void *arg);
/* indicator is the indicator's name ("rejection" for the built-in one). */
int ha_registry_rebaseline(struct ha_registry *hr, const char *indicator,
    const char *office, const char *benefit, const char *kind,
    const char *note, ha_registry_done_cb cb, void *arg);
int ha_registry_refit(struct ha_registry *hr, const char *indicator,
    const char *benefit, const char *kind, ha_registry_done_cb cb,
    void *arg);

/*
 * Apply one logged change (op "put" with the stored JSON as body, or
 * "delete"): what the control log's handlers do, exposed for tests.
 * Idempotent. 0, or -1 with *cause for a change that cannot apply.
 */
int ha_registry_apply_explanation(struct ha_registry *hr, const char *op,
    const char *id, const char *body, size_t bodylen, char **cause);
int ha_registry_apply_silence(struct ha_registry *hr, const char *op,
    const char *id, const char *body, size_t bodylen, char **cause);

#endif
