/*
 * The simulator straight into ingest and the detector, without Redis:
 * what stabild-simcheck's scenarios and the arrival-order check share.
 */
#ifndef STABILD_SIMFEED_H
#define STABILD_SIMFEED_H

#include <stdbool.h>
#include <stdint.h>

#include "conf.h"
#include "ingest.h"

#define SIMFEED_NOW	4102444800LL	/* 2100: nothing is "in the future" */

struct explain_registry;
struct monitor;
struct sim;
struct sim_event;

struct simfeed {
	struct conf		 c;
	struct explain_registry	*reg;
	struct monitor		*mon;
	struct ingest		*in;
	struct stream_id	 id;
	int			 nbad;		/* entries refused */
	double			 seconds;	/* in simfeed_run */
	/* Sees every event with its truth before ingest does; or NULL. */
	void			(*event)(void *, const struct sim_event *);
	void			*event_arg;
	char			 dir[64];	/* the state directory */
};

/*
 * Ingest and monitor in a fresh state directory with the default
 * configuration, a small duplicate window, look_ms (0: default) between
 * looks, outlier alerts as asked and an explanation (JSON, or NULL).
 * Dies on failure: a test tool.
 */
void simfeed_open(struct simfeed *f, int64_t look_ms, bool outlier,
    const char *explanation);
/*
 * The same with indicators besides rejection: n [indicator] sections
 * (their strings copied) into the configuration, as conf_load fills it.
 */
void simfeed_open_conf(struct simfeed *f, int64_t look_ms, bool outlier,
    const char *explanation, const struct conf_indicator *ind, int n);
/* Every event of s into the ingest; prints the first refusal. */
void simfeed_run(struct simfeed *f, struct sim *s);
/* Free everything and remove the state directory. */
void simfeed_close(struct simfeed *f);

#endif
