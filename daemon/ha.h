/*
 * HA mode (issue 14): the instance, its Redis link and the names of the
 * shared keys. Created only when ha.enabled is on; every HA path in the
 * daemon is gated on this object existing, so that a single instance
 * behaves exactly as without it.
 */
#ifndef STABILD_HA_H
#define STABILD_HA_H

#include <stdbool.h>

#include "conf.h"

#define HA_BOOT_LEN	16	/* hex characters of a boot id */

struct event_base;
struct rlink;
struct ha;

/* NULL with *cause when the boot id cannot be drawn. c is borrowed. */
struct ha *ha_create(struct event_base *base, const struct conf *c,
    char **cause);
/* Connect the link (the modules send once it is up). */
void ha_start(struct ha *ha);
/*
 * Drop the link: callbacks still pending get NULL. Call before freeing
 * the modules that use it, then ha_free after them.
 */
void ha_close(struct ha *ha);
void ha_free(struct ha *ha);
const struct conf *ha_conf(const struct ha *ha);

/* ha.instance. */
const char *ha_instance(const struct ha *ha);
/* New at every start (getrandom): tells our incarnations apart. */
const char *ha_boot(const struct ha *ha);
/* conf_digest of the configuration at start. */
const char *ha_config_digest(const struct ha *ha);
/* The event loop, for the modules' timers. */
struct event_base *ha_base(const struct ha *ha);
/* The shared link; NULL after ha_close. */
struct rlink *ha_link(struct ha *ha);
/* ha.prefix followed by suffix ("log", "claim:ID"); the caller frees. */
char *ha_key(const struct ha *ha, const char *suffix);

#endif
