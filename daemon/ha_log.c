/*
 * The control log (ha_log.h). A stub until Part A lands: no gate, no
 * entries; ha_check_available refuses HA mode meanwhile.
 */
#include <stdlib.h>

#include "ha.h"
#include "ha_log.h"
#include "ingest.h"
#include "xmalloc.h"

struct ha_log {
	struct ha		*ha;
	struct ingest		*in;
	struct stream_id	 applied;
};

bool
ha_log_available(void)
{
	return false;
}

struct ha_log *
ha_log_create(struct ha *ha, struct ingest *in)
{
	struct ha_log *hl = xcalloc(1, sizeof *hl);

	hl->ha = ha;
	hl->in = in;
	return hl;
}

void
ha_log_start(struct ha_log *hl)
{
	(void)hl;
}

void
ha_log_free(struct ha_log *hl)
{
	free(hl);
}

void
ha_log_handle(struct ha_log *hl, const char *kind, ha_log_apply_cb cb,
    void *arg)
{
	(void)hl;
	(void)kind;
	(void)cb;
	(void)arg;
}

void
ha_log_wait(struct ha_log *hl, const struct stream_id *log_id,
    int64_t timeout_ms, ha_log_wait_cb cb, void *arg)
{
	(void)hl;
	(void)log_id;
	(void)timeout_ms;
	cb(arg, false, 0);
}

int
ha_log_append(struct ha_log *hl, const char *kind, const char *id,
    const char *body, ha_log_append_cb cb, void *arg)
{
	(void)hl;
	(void)kind;
	(void)id;
	(void)body;
	(void)cb;
	(void)arg;
	return -1;
}

const struct stream_id *
ha_log_applied(const struct ha_log *hl)
{
	return &hl->applied;
}

int64_t
ha_log_behind(const struct ha_log *hl)
{
	(void)hl;
	return -1;
}

const struct stream_gate *
ha_log_gate(struct ha_log *hl)
{
	(void)hl;
	return NULL;
}
