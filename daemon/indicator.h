/*
 * Indicators: a yes/no outcome of one kind of event, counted, modelled
 * and alerted on like the rejection rate. Index 0 is the built-in
 * `rejection`; the others come from the [indicator "NAME"] sections in
 * file order, and may only be appended (the checkpoint keeps each one's
 * name and signature). A pure table: no I/O, no logging.
 */
#ifndef STABILD_INDICATOR_H
#define STABILD_INDICATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decision.h"

struct conf;

#define INDICATOR_MAX		16	/* rejection and 15 configured */
#define INDICATOR_REJECTION	0
#define INDICATOR_REJECTION_NAME "rejection"
#define INDICATOR_NAME_MAX	32	/* [a-z][a-z0-9_]{0,31} */
#define INDICATOR_LABEL_MAX	64
#define INDICATOR_DESCRIPTION_MAX 256
#define INDICATOR_STREAM_MAX	512	/* bytes of a stream key */
#define INDICATOR_SIGNATURE_MAX	96	/* with the NUL */

/* An event's relation to one indicator. */
enum indicator_class {
	INDICATOR_NOT = 0,	/* another event kind, or filtered out */
	INDICATOR_NO,
	INDICATOR_YES,
	INDICATOR_EXCLUDED,	/* its event, out of the rate (dismissed) */
};

/* What is yes or no: the outcome, or the event's detail field. */
enum indicator_field {
	INDICATOR_FIELD_OUTCOME = 0,
	INDICATOR_FIELD_DETAIL,	/* a decision's supplement_requested */
};

struct indicator {
	char		name[INDICATOR_NAME_MAX + 1];
	char		label[INDICATOR_LABEL_MAX + 1];	/* "rejection rate" */
	char		description[INDICATOR_DESCRIPTION_MAX + 1]; /* "": none */
	int		event;		/* enum decision_event */
	int		field;		/* enum indicator_field */
	/* Bit v: outcome v, or detail value v for INDICATOR_FIELD_DETAIL. */
	uint16_t	yes;
	uint16_t	no;
	uint16_t	details;	/* filter, bit per detail value; 0: all */
	double		design_or_office;
	double		design_or_national;
	bool		alerts;		/* off: watched and shown, not sent */
	double		budget_weight;	/* share of the false-alarm budget */
	int		stream;		/* index into indicators.streams */
	int		line;		/* of its section; 0 for rejection */
};

struct indicators {
	int		n;
	struct indicator ind[INDICATOR_MAX];
	/* Per event kind, the indicators that may count it, in index order. */
	uint8_t		of_event[DECISION_NEVENTS][INDICATOR_MAX];
	int		nof_event[DECISION_NEVENTS];
	/* The streams to read, redis.stream first. */
	char		streams[INDICATOR_MAX][INDICATOR_STREAM_MAX + 1];
	int		nstreams;
	/* Per stream, indicators_stream_event's answer, worked out once. */
	int		stream_event[INDICATOR_MAX];
};

/*
 * Build the table from c: rejection, then c->indicators in order. c has
 * passed conf_load's checks; -1 with *cause (caller frees) only for what
 * they should have refused.
 */
int indicators_from_conf(struct indicators *t, const struct conf *c,
    char **cause) __attribute__((warn_unused_result));
/* Index of a name, -1 when unknown. */
int indicators_find(const struct indicators *t, const char *name);

/* How an event (outcome, detail) stands to ind. */
enum indicator_class indicator_classify(const struct indicator *ind,
    int event, int outcome, int detail);
/*
 * The indicators an event counts in (class other than INDICATOR_NOT):
 * their indices in inds[] and classes in ys[], in index order. Returns
 * how many. Looks only at the event's own indicators (of_event).
 */
int indicators_of(const struct indicators *t, int event, int outcome,
    int detail, int inds[INDICATOR_MAX], int ys[INDICATOR_MAX]);
/*
 * The outcome series_add counts for class y of indicator ind: rejection
 * keeps the decision's own (partial stays partial); for the others yes
 * is OUTCOME_REJECTED, no OUTCOME_GRANTED, excluded OUTCOME_DISMISSED.
 */
int indicator_series_outcome(int ind, int y, int outcome);
/*
 * What the indicator counts, for the checkpoint's append-only check:
 * "EVENT:FIELD:yes=LIST:no=LIST:d=MASK", e.g.
 * "reconsideration:outcome:yes=4:no=5:d=0". buf holds
 * INDICATOR_SIGNATURE_MAX bytes.
 */
void indicator_signature(const struct indicator *ind, char *buf);
/* Weight of each of its CUSUMs in the shared budget: 0 when alerts off. */
double indicator_weight(const struct indicator *ind);

/* Index of a stream key in t->streams, -1 when not read. */
int indicators_stream_find(const struct indicators *t, const char *key);
/*
 * The kind of an entry without `event` on stream k: a decision on the
 * first (redis.stream); on another, the kind of the indicators that name
 * it, or -1 when they are of several kinds. A look-up, for every entry.
 */
int indicators_stream_event(const struct indicators *t, int k);

#endif
