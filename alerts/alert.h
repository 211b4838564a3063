/*
 * The alert object of contract §3 and its JSON form. The detector fills
 * alerts; sinks deliver them. Pure: no I/O.
 */
#ifndef STABILD_ALERT_H
#define STABILD_ALERT_H

#include <stdbool.h>
#include <stdint.h>

#define ALERT_ID_MAX		128
#define ALERT_NAME_MAX		72	/* explanation ids: 64 */
#define ALERT_MAX_EXPLANATIONS	8

enum alert_status {
	ALERT_FIRING,
	ALERT_RESOLVED,
};

enum alert_classification {
	ALERT_UNEXPLAINED,
	ALERT_EXPLAINED,
};

enum alert_scope {
	ALERT_OFFICE,
	ALERT_NATIONAL,
};

enum alert_direction {
	ALERT_UP,		/* more rejections */
	ALERT_DOWN,		/* more approvals */
};

/* One attribute level that contributes to an office's excess. */
struct alert_stratum {
	char		name[ALERT_NAME_MAX];	/* "diagnosis=F" */
	double		share;		/* of the series' O - E since onset */
	double		odds_ratio;	/* the level's own, observed/expected */
	double		excess;		/* O - E of the level */
};
#define ALERT_MAX_STRATA 3

struct alert {
	char		id[ALERT_ID_MAX];
	enum alert_status status;
	enum alert_classification classification;
	enum alert_scope scope;
	enum alert_direction direction;
	char		office[ALERT_NAME_MAX];
	char		benefit[ALERT_NAME_MAX];
	char		kind[ALERT_NAME_MAX];
	int64_t		detected_at;	/* event time (watermark), Unix s */
	int64_t		raised_at;	/* wall clock, Unix s */
	char		onset[16];	/* ISO week label */
	double		baseline_rate;
	double		current_rate;
	double		expected_rate;
	double		odds_ratio;
	char		method[ALERT_NAME_MAX];
	char		explanations[ALERT_MAX_EXPLANATIONS][ALERT_NAME_MAX];
	int		nexplanations;
	bool		historical;	/* too old to deliver (backfill) */

	/* Extensions of contract §3, documented in the README. */
	uint32_t	seq;		/* state changes so far, from 1 */
	int64_t		updated_at;	/* event time of the last change */
	int64_t		resolved_at;	/* event time, 0 while firing */
	double		odds_ratio_lo;	/* 95% interval */
	double		odds_ratio_hi;
	double		case_mix_part;	/* expected - baseline rate */
	double		practice_part;	/* current - expected rate */
	uint64_t	decisions;	/* since onset */
	char		context[ALERT_MAX_EXPLANATIONS][ALERT_NAME_MAX];
	int		ncontext;
	struct alert_stratum strata[ALERT_MAX_STRATA];
	int		nstrata;
	char		note[128];	/* how it resolved, if by hand */
	/* The indicator; all "" for rejection, whose JSON omits them. */
	char		indicator[ALERT_NAME_MAX];
	char		indicator_label[ALERT_NAME_MAX];
	char		event[16];	/* "reconsideration" */
};

const char *alert_status_name(enum alert_status s);
const char *alert_classification_name(enum alert_classification c);
const char *alert_scope_name(enum alert_scope s);
const char *alert_direction_name(enum alert_direction d);
/* The alert's indicator name: "rejection" when indicator is "". */
const char *alert_indicator(const struct alert *a);

/*
 * The contract §3 webhook body, with status_url made from base_url
 * ("http://host:port", see url.h; NULL: a path from the API's root).
 * Compact JSON; the caller frees.
 */
char *alert_to_json(const struct alert *a, const char *base_url);
/* The same object as a jansson value (new reference). */
struct json_t;
struct json_t *alert_json(const struct alert *a, const char *base_url);
/*
 * The inverse of alert_json, for alerts kept as JSON (the outbox): every
 * member alert_json writes, status_url aside. 0, or -1 when o is not such
 * an object.
 */
int alert_from_json(const struct json_t *o, struct alert *a)
    __attribute__((warn_unused_result));

#endif
