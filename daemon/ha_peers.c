/*
 * Peers (ha_peers.h). A stub until Part D lands: no heartbeat, no peers;
 * ha_check_available refuses HA mode meanwhile.
 */
#include <stdlib.h>

#include "buf.h"
#include "ha_peers.h"
#include "xmalloc.h"

struct ha_peers {
	struct ha		*ha;
	struct ha_log		*hl;
	const struct ingest	*in;
	const struct stream	*st;
	const struct monitor	*mon;
};

bool
ha_peers_available(void)
{
	return false;
}

struct ha_peers *
ha_peers_create(struct ha *ha, struct ha_log *hl, const struct ingest *in,
    const struct stream *st, const struct monitor *mon)
{
	struct ha_peers *hp = xcalloc(1, sizeof *hp);

	hp->ha = ha;
	hp->hl = hl;
	hp->in = in;
	hp->st = st;
	hp->mon = mon;
	return hp;
}

void
ha_peers_start(struct ha_peers *hp)
{
	(void)hp;
}

void
ha_peers_free(struct ha_peers *hp)
{
	free(hp);
}

json_t *
ha_peers_json(const struct ha_peers *hp)
{
	(void)hp;
	return json_array();
}

bool
ha_peers_agree(const struct ha_peers *hp)
{
	(void)hp;
	return true;
}

void
ha_peers_metrics(struct buf *out)
{
	(void)out;
}
