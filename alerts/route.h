/*
 * Routing: which receivers an alert state goes to. Routes are tried in
 * file order; the first that matches decides, unless it says continue.
 * Without any route every receiver gets every alert. Pure: no I/O.
 */
#ifndef STABILD_ROUTE_H
#define STABILD_ROUTE_H

#include "alert.h"
#include "conf.h"

struct route_target {
	const struct conf_receiver	*receiver;
	const struct conf_route		*route;	/* NULL: no routes configured */
};

/* Whether route rt's matchers all accept a. */
bool route_matches(const struct conf_route *rt, const struct alert *a);

/*
 * The receivers for a, each at most once (the first route naming it
 * wins), into out (CONF_MAX_RECEIVERS entries); their count. 0 when the
 * matching route lists none (recorded only) or no route matches.
 */
int route_targets(const struct conf *c, const struct alert *a,
    struct route_target *out);

/* The receiver of that name, or NULL. */
const struct conf_receiver *route_receiver(const struct conf *c,
    const char *name);
/* The route of that name, or NULL. */
const struct conf_route *route_find(const struct conf *c, const char *name);

#endif
