/*
 * Peers (issue 14, Part D): every ha.heartbeat each instance writes its
 * state to a shared hash, stamped with Redis's clock, and reads the
 * others'; the status and metrics show who is up, behind or in
 * disagreement.
 */
#ifndef STABILD_HA_PEERS_H
#define STABILD_HA_PEERS_H

#include <stdbool.h>

#include <jansson.h>

struct buf;
struct ha;
struct ha_log;
struct ingest;
struct stream;
struct monitor;
struct ha_peers;

/* All borrowed. One per process (ha_peers_metrics has no argument). */
struct ha_peers *ha_peers_create(struct ha *ha, struct ha_log *hl,
    const struct ingest *in, const struct stream *st,
    const struct monitor *mon);
void ha_peers_start(struct ha_peers *hp);
void ha_peers_free(struct ha_peers *hp);

/* GET /v1/status's ha.peers: a new array, this instance included. */
json_t *ha_peers_json(const struct ha_peers *hp);
/* False when two peers at one position report different alerts. */
bool ha_peers_agree(const struct ha_peers *hp);
/* The per-peer gauges, for metrics.ha_peers_render. */
void ha_peers_metrics(struct buf *out);

#endif
