/*
 * The detector interface: what ingest tells a change-point detector, and
 * what it asks of it. Ingest calls, in this order per event and for each
 * indicator it counts in (indicator.h indicators_of), predict() (the
 * expected yes probability that fills the statistics' E and V) and
 * counted(); week_closed() once per ISO week in order when the
 * watermark passes its end; tick() whenever the watermark enters a new day
 * (event time, so a replay looks as often as live operation). The
 * detector may keep state in the checkpoint through save() and load().
 *
 * Every hook is optional (NULL). Hooks run on the event loop and must not
 * block. The statistics they get are borrowed for the call.
 *
 * A hook may leave work outstanding off the loop (a model fit, an alert's
 * strata): busy() says so, and until it says false ingest calls no other
 * hook, so that the results do not depend on how long the work takes.
 */
#ifndef STABILD_DETECTOR_H
#define STABILD_DETECTOR_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "decision.h"
#include "period.h"
#include "series.h"

struct detector {
	const char	*name;
	void		*arg;
	/*
	 * Expected yes probability of indicator ind in (0,1), or < 0 for
	 * none. Not asked for an event the indicator excludes.
	 */
	double		(*predict)(void *arg, int ind, const struct decision *d,
			    const struct period *p);
	/*
	 * An event was counted in indicator ind as y (enum indicator_class;
	 * late: its week had already closed).
	 */
	void		(*counted)(void *arg, int ind, int y,
			    const struct decision *d, int office,
			    const struct period *p, double prob, bool late);
	/* Week `week` closed; set holds its final counts (late ones aside). */
	void		(*week_closed)(void *arg, int32_t week,
			    const struct series_set *set);
	/* Daily look at the open week; watermark in Unix seconds. */
	void		(*tick)(void *arg, int64_t watermark,
			    const struct series_set *set);
	/*
	 * The input is idle (the stream is drained): a time for deferred
	 * work. True when the detector's state changed (checkpoint it).
	 */
	bool		(*idle)(void *arg, const struct series_set *set);
	/* Detector state of a series for the API ("learning", "stable"…). */
	const char	*(*state_of)(void *arg, const struct series *s);
	/* Work outstanding: call nothing else until it is applied. */
	bool		(*busy)(void *arg);
	void		(*save)(void *arg, struct buf *b);
	int		(*load)(void *arg, struct buf_reader *r, char **cause);
};

/*
 * The detector used until a model exists: it predicts nothing and calls
 * every series "learning" (no reference window, so no alarms).
 */
const struct detector *detector_none(void);
/* State name for s through d, "learning" when d has no state_of. */
const char *detector_state_of(const struct detector *d, const struct series *s);

#endif
