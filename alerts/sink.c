/*
 * Alert sinks: a fixed list of registered receivers of alert changes,
 * and the log sink, which every daemon has.
 */
#include <stddef.h>

#include "log.h"
#include "sink.h"

static const struct sink *sink_list[SINK_MAX];
static int sink_n;

int
sink_register(const struct sink *s)
{
	if (sink_n == SINK_MAX)
		return -1;
	sink_list[sink_n++] = s;
	return 0;
}

void
sink_unregister_all(void)
{
	sink_n = 0;
}

int
sink_count(void)
{
	return sink_n;
}

void
sink_emit(const struct alert *a)
{
	int i;

	for (i = 0; i < sink_n; i++)
		sink_list[i]->emit(sink_list[i]->arg, a);
}

static void
sink_log_emit(void *arg, const struct alert *a)
{
	(void)arg;
	log_notice("alert: %s %s %s %s/%s/%s %s onset %s odds ratio %.2f%s",
	    a->id, alert_status_name(a->status),
	    alert_classification_name(a->classification), a->office,
	    a->benefit, a->kind, alert_direction_name(a->direction), a->onset,
	    a->odds_ratio, a->historical ? " (historical)" : "");
}

static const struct sink sink_log_ops = {
	.name = "log",
	.emit = sink_log_emit,
};

const struct sink *
sink_log(void)
{
	return &sink_log_ops;
}
