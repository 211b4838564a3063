/*
 * Shared registries (ha_registry.h). A stub until Part B lands: every
 * write is refused as not sent; ha_check_available refuses HA mode
 * meanwhile.
 */
#include <stdlib.h>

#include "ha_registry.h"
#include "xmalloc.h"

struct ha_registry {
	struct ha		*ha;
	struct ha_log		*hl;
	struct explain_registry	*reg;
	struct silence_registry	*silences;
	struct monitor		*mon;
	struct ingest		*in;
};

bool
ha_registry_available(void)
{
	return false;
}

struct ha_registry *
ha_registry_create(struct ha *ha, struct ha_log *hl,
    struct explain_registry *reg, struct silence_registry *silences,
    struct monitor *mon, struct ingest *in)
{
	struct ha_registry *hr = xcalloc(1, sizeof *hr);

	hr->ha = ha;
	hr->hl = hl;
	hr->reg = reg;
	hr->silences = silences;
	hr->mon = mon;
	hr->in = in;
	return hr;
}

void
ha_registry_start(struct ha_registry *hr)
{
	(void)hr;
}

void
ha_registry_free(struct ha_registry *hr)
{
	free(hr);
}

void
ha_registry_reload(struct ha_registry *hr)
{
	(void)hr;
}

int
ha_registry_explain_put(struct ha_registry *hr, const struct explanation *e,
    ha_registry_done_cb cb, void *arg)
{
	(void)hr;
	(void)e;
	(void)cb;
	(void)arg;
	return -1;
}

int
ha_registry_explain_delete(struct ha_registry *hr, const char *id,
    ha_registry_done_cb cb, void *arg)
{
	(void)hr;
	(void)id;
	(void)cb;
	(void)arg;
	return -1;
}

int
ha_registry_silence_put(struct ha_registry *hr, const struct silence *s,
    ha_registry_done_cb cb, void *arg)
{
	(void)hr;
	(void)s;
	(void)cb;
	(void)arg;
	return -1;
}

int
ha_registry_silence_delete(struct ha_registry *hr, const char *id,
    ha_registry_done_cb cb, void *arg)
{
	(void)hr;
	(void)id;
	(void)cb;
	(void)arg;
	return -1;
}

int
ha_registry_rebaseline(struct ha_registry *hr, const char *indicator,
    const char *office, const char *benefit, const char *kind,
    const char *note, ha_registry_done_cb cb, void *arg)
{
	(void)hr;
	(void)indicator;
	(void)office;
	(void)benefit;
	(void)kind;
	(void)note;
	(void)cb;
	(void)arg;
	return -1;
}

int
ha_registry_refit(struct ha_registry *hr, const char *indicator,
    const char *benefit, const char *kind, ha_registry_done_cb cb,
    void *arg)
{
	(void)hr;
	(void)indicator;
	(void)benefit;
	(void)kind;
	(void)cb;
	(void)arg;
	return -1;
}
