/*
 * The alert-sink interface: where alerts go once the detector raises or
 * updates them. Sinks register once at start; sink_emit hands an alert to
 * each in turn. A sink copies what it keeps: the alert is borrowed for the
 * call only. Delivery (webhook, email, outbox) plugs in here.
 */
#ifndef STABILD_SINK_H
#define STABILD_SINK_H

#include "alert.h"

#define SINK_MAX 8

struct sink {
	const char	*name;
	void		*arg;
	/* Take one alert state change; must not block the loop. */
	void		(*emit)(void *arg, const struct alert *a);
};

/* Borrowed: s must outlive the registration. -1 when full. */
int sink_register(const struct sink *s);
void sink_unregister_all(void);
/* Hand a to every sink; each decides what a historical alert means to it. */
void sink_emit(const struct alert *a);
int sink_count(void);
/* The sink that logs every alert state change at notice level. */
const struct sink *sink_log(void);

#endif
