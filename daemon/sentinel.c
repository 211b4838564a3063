/*
 * Redis Sentinel discovery (sentinel.h). A stub until Part D lands:
 * every resolution fails; ha_check_available refuses redis.sentinels
 * meanwhile.
 */
#include <stdlib.h>

#include "conf.h"
#include "sentinel.h"
#include "xmalloc.h"

struct sentinel {
	struct event_base	*base;
	const struct conf	*conf;
};

bool
sentinel_available(void)
{
	return false;
}

struct sentinel *
sentinel_create(struct event_base *base, const struct conf *c)
{
	struct sentinel *s;

	if (c->redis_sentinels == NULL)
		return NULL;
	s = xcalloc(1, sizeof *s);
	s->base = base;
	s->conf = c;
	return s;
}

void
sentinel_free(struct sentinel *s)
{
	free(s);
}

int
sentinel_resolve(struct sentinel *s, sentinel_cb cb, void *arg)
{
	(void)s;
	cb(arg, NULL, 0, "redis.sentinels: not available in this build");
	return 0;
}
