/*
 * One peer's heartbeat as the shared hash holds it, "MS JSON" with MS
 * Redis's clock at the write, and the judgement of the peers seen at one
 * time: who is up, how far behind, whether their alerts agree. Pure, so
 * that the tests reach it; ha_peers.c does the I/O.
 */
#ifndef STABILD_HA_PEER_H
#define STABILD_HA_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct ha_peer {
	json_t		*beat;		/* the peer's object */
	int64_t		 seen_ms;	/* Redis time of its last beat */
	/* Borrowed from beat; "" when missing. */
	const char	*instance;
	const char	*host;
	const char	*group;
	const char	*applied;
	const char	*control_applied;
	const char	*alerts_digest;
	const char	*config_digest;
	int64_t		 stream_ms;	/* its stream clock */

	/* ha_peer_judge. */
	bool		 self;
	bool		 up;
	bool		 config_same;
	bool		 group_clash;	/* up, another name, our group */
	int64_t		 behind_s;

	bool		 logged_up;	/* ha_peers.c: up as last logged */
};

/*
 * Parse the hash field name's value (len bytes) into p: 0, or -1 with
 * *cause (p is then cleared). The object must name the field's instance.
 */
int ha_peer_parse(struct ha_peer *p, const char *name, const char *value,
    size_t len, char **cause);
void ha_peer_clear(struct ha_peer *p);

/*
 * Judge n peers seen at Redis time now_ms: up while its last beat is
 * younger than timeout_ms; behind by the largest stream clock of the
 * live peers less its own; self is the one named self. False when two
 * live peers at the same position (decisions and control log applied)
 * report different alerts.
 */
bool ha_peer_judge(struct ha_peer *p, size_t n, const char *self,
    int64_t now_ms, int64_t timeout_ms);

/* A peer of GET /v1/status's ha.peers (new reference). */
json_t *ha_peer_json(const struct ha_peer *p);

#endif
