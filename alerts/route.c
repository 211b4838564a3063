/*
 * Routes in the spirit of Alertmanager's: matchers on an alert's fields,
 * a list of receivers, and whether to go on to the next route.
 */
#include <string.h>

#include "route.h"

/* Whether the comma-separated list is unset (any) or holds value. */
static bool
route_list_has(const char *list, const char *value)
{
	const char *s;
	size_t len, vlen = strlen(value);

	if (list == NULL)
		return true;
	while (conf_list_next(&list, &s, &len)) {
		if (len == vlen && memcmp(s, value, len) == 0)
			return true;
	}
	return false;
}

bool
route_matches(const struct conf_route *rt, const struct alert *a)
{
	/* An office matcher never takes a national alert. */
	if (rt->offices != NULL && a->scope == ALERT_NATIONAL)
		return false;
	return route_list_has(rt->offices, a->office) &&
	    route_list_has(rt->benefits, a->benefit) &&
	    route_list_has(rt->kinds, a->kind) &&
	    route_list_has(rt->scopes, alert_scope_name(a->scope)) &&
	    route_list_has(rt->directions,
	    alert_direction_name(a->direction)) &&
	    route_list_has(rt->classifications,
	    alert_classification_name(a->classification)) &&
	    route_list_has(rt->indicators, alert_indicator(a));
}

const struct conf_receiver *
route_receiver(const struct conf *c, const char *name)
{
	int i;

	for (i = 0; i < c->nreceivers; i++) {
		if (strcmp(c->receivers[i].name, name) == 0)
			return &c->receivers[i];
	}
	return NULL;
}

const struct conf_route *
route_find(const struct conf *c, const char *name)
{
	int i;

	for (i = 0; i < c->nroutes; i++) {
		if (strcmp(c->routes[i].name, name) == 0)
			return &c->routes[i];
	}
	return NULL;
}

/* Add r to out unless it is there already. */
static void
route_add(struct route_target *out, int *n, const struct conf_receiver *r,
    const struct conf_route *rt)
{
	int i;

	for (i = 0; i < *n; i++) {
		if (out[i].receiver == r)
			return;
	}
	if (*n < CONF_MAX_RECEIVERS) {
		out[*n].receiver = r;
		out[*n].route = rt;
		(*n)++;
	}
}

int
route_targets(const struct conf *c, const struct alert *a,
    struct route_target *out)
{
	const struct conf_receiver *r;
	const struct conf_route *rt;
	const char *list, *s;
	char name[128];
	size_t len;
	int i, n = 0;

	if (c->nroutes == 0) {
		for (i = 0; i < c->nreceivers; i++)
			route_add(out, &n, &c->receivers[i], NULL);
		return n;
	}
	for (i = 0; i < c->nroutes; i++) {
		rt = &c->routes[i];
		if (!route_matches(rt, a))
			continue;
		list = rt->receivers;
		while (list != NULL && conf_list_next(&list, &s, &len)) {
			if (len >= sizeof name)
				continue;
			memcpy(name, s, len);
			name[len] = '\0';
			/* conf_load checked the names; a gap is skipped. */
			if ((r = route_receiver(c, name)) != NULL)
				route_add(out, &n, r, rt);
		}
		if (!rt->cont)
			break;
	}
	return n;
}
