/*
 * The alert object of contract §3 and its JSON form. The detector fills
 * alerts; sinks deliver them. Pure: no I/O.
 */
#ifndef STABILD_ALERT_H
#define STABILD_ALERT_H

#include <stdbool.h>
#include <stdint.h>

#define ALERT_ID_MAX		64
#define ALERT_NAME_MAX		64
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
};

const char *alert_status_name(enum alert_status s);
const char *alert_classification_name(enum alert_classification c);
const char *alert_scope_name(enum alert_scope s);
const char *alert_direction_name(enum alert_direction d);

/*
 * The contract §3 webhook body, with status_url made from base_url
 * ("http://host:port"). Compact JSON; the caller frees.
 */
char *alert_to_json(const struct alert *a, const char *base_url);

#endif
