/*
 * The HA instance (ha.h): name, boot id, configuration digest and the
 * one Redis link the HA modules share.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "conf.h"
#include "ha.h"
#include "ha_claim.h"
#include "ha_log.h"
#include "ha_peers.h"
#include "ha_registry.h"
#include "log.h"
#include "metrics.h"
#include "rlink.h"
#include "xmalloc.h"

struct ha {
	struct event_base	*base;
	const struct conf	*conf;
	struct rlink		*link;
	char			 boot[HA_BOOT_LEN + 1];
	char			 digest[CONF_DIGEST_LEN + 1];
};

/* The link's state, for the metrics. */
static void
ha_link_cb(void *arg, bool up)
{
	(void)arg;
	metrics.ha_link_up = up ? 1 : 0;
}

struct ha *
ha_create(struct event_base *base, const struct conf *c, char **cause)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[HA_BOOT_LEN / 2];
	struct ha *ha;
	size_t i;

	if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw) {
		*cause = xasprintf("ha: getrandom: %s", strerror(errno));
		return NULL;
	}
	ha = xcalloc(1, sizeof *ha);
	ha->base = base;
	ha->conf = c;
	for (i = 0; i < sizeof raw; i++) {
		ha->boot[2 * i] = hex[raw[i] >> 4];
		ha->boot[2 * i + 1] = hex[raw[i] & 0xf];
	}
	conf_digest(c, ha->digest);
	ha->link = rlink_create(base, c, "ha", ha_link_cb, ha);
	return ha;
}

void
ha_start(struct ha *ha)
{
	log_notice("ha: instance %s (boot %s, configuration %.12s)",
	    ha_instance(ha), ha->boot, ha->digest);
	rlink_start(ha->link);
}

void
ha_close(struct ha *ha)
{
	if (ha == NULL)
		return;
	rlink_free(ha->link);
	ha->link = NULL;
}

void
ha_free(struct ha *ha)
{
	if (ha == NULL)
		return;
	ha_close(ha);
	free(ha);
}

const struct conf *
ha_conf(const struct ha *ha)
{
	return ha->conf;
}

const char *
ha_instance(const struct ha *ha)
{
	return ha->conf->ha_instance;
}

const char *
ha_boot(const struct ha *ha)
{
	return ha->boot;
}

const char *
ha_config_digest(const struct ha *ha)
{
	return ha->digest;
}

struct event_base *
ha_base(const struct ha *ha)
{
	return ha->base;
}

struct rlink *
ha_link(struct ha *ha)
{
	return ha->link;
}

char *
ha_key(const struct ha *ha, const char *suffix)
{
	return xasprintf("%s%s", ha->conf->ha_prefix, suffix);
}

