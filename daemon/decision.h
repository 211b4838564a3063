/*
 * One event (contract §1 and §1a): a decision, or a reconsideration, an
 * appeal's ruling or an assessment of a case; validation of a stream
 * entry's fields into a struct. Pure: no I/O, no logging; the reason for
 * a rejection is handed back so that the stream can dead-letter it.
 */
#ifndef STABILD_DECISION_H
#define STABILD_DECISION_H

#include <stddef.h>
#include <stdint.h>

#define DECISION_ID_MAX		64
#define DECISION_OFFICE_MAX	32
#define DECISION_REGION_MAX	32
#define DECISION_CASE_DAY_MAX	3000

enum decision_kind {
	DECISION_FIRST = 0,
	DECISION_ONGOING = 1,
};
#define DECISION_NKINDS 2

/* The kind of event; an entry without `event` is a decision. */
enum decision_event {
	EVENT_DECISION = 0,
	EVENT_RECONSIDERATION = 1,
	EVENT_APPEAL = 2,	/* a court's ruling on an appealed decision */
	EVENT_ASSESSMENT = 3,	/* a time point of the rehabilitation chain */
};
#define DECISION_NEVENTS 4

/*
 * Outcomes of every event kind in one numbering, so that code which
 * forgets the event can never read `changed` as `rejected`.
 */
enum decision_outcome {
	OUTCOME_GRANTED = 0,
	OUTCOME_REJECTED = 1,
	OUTCOME_PARTIAL = 2,	/* partly granted: not a rejection */
	OUTCOME_DISMISSED = 3,	/* not tried on the merits: not in rates */
	OUTCOME_CHANGED = 4,	/* reconsideration, appeal */
	OUTCOME_UNCHANGED = 5,
	OUTCOME_ON_TIME = 6,	/* assessment */
	OUTCOME_LATE = 7,
};
#define DECISION_NOUTCOMES 8

/*
 * An event's own enumerated field, 0 when missing (two bits in a record):
 * a decision's supplement_requested, a reconsideration's changed_to, an
 * assessment's checkpoint. An appeal has none.
 */
enum decision_detail {
	DETAIL_MISSING = 0,
	DETAIL_SUPPLEMENT_YES = 1, DETAIL_SUPPLEMENT_NO = 2,
	DETAIL_CHANGED_TO_GRANTED = 1, DETAIL_CHANGED_TO_PARTIAL = 2,
	DETAIL_CHANGED_TO_REJECTED = 3,
	DETAIL_CHECKPOINT_90 = 1, DETAIL_CHECKPOINT_180 = 2,
	DETAIL_CHECKPOINT_365 = 3,
};
#define DECISION_NDETAILS 4

/* Case-mix attributes: 0 always means "missing", a level of its own. */
enum decision_age {
	AGE_MISSING = 0, AGE_16_29, AGE_30_39, AGE_40_49, AGE_50_59, AGE_60,
};
#define DECISION_NAGES 6
enum decision_sex { SEX_MISSING = 0, SEX_F, SEX_M, SEX_X };
#define DECISION_NSEXES 4
/* diagnosis: 0 missing, 1..26 the ICD-10 chapter letter 'A'..'Z'. */
#define DECISION_NDIAGNOSES 27
enum decision_employment {
	EMPLOYMENT_MISSING = 0, EMPLOYMENT_EMPLOYED, EMPLOYMENT_UNEMPLOYED,
	EMPLOYMENT_SELF_EMPLOYED, EMPLOYMENT_STUDENT, EMPLOYMENT_OTHER,
};
#define DECISION_NEMPLOYMENTS 6
enum decision_care { CARE_MISSING = 0, CARE_PRIMARY, CARE_SPECIALIST };
#define DECISION_NCARES 3

struct decision {
	char		id[DECISION_ID_MAX + 1];
	char		office[DECISION_OFFICE_MAX + 1];
	char		region[DECISION_REGION_MAX + 1];	/* "" missing */
	uint8_t		benefit;	/* index into the configured list */
	uint8_t		kind;		/* enum decision_kind */
	uint8_t		outcome;	/* enum decision_outcome */
	uint8_t		age;		/* enum decision_age */
	uint8_t		sex;		/* enum decision_sex */
	uint8_t		diagnosis;	/* 0 or 1..26 */
	uint8_t		employment;	/* enum decision_employment */
	uint8_t		care;		/* enum decision_care */
	uint16_t	case_day;	/* 0 missing, else 1..3000 */
	int64_t		decided_at;	/* Unix seconds */
	uint8_t		event;		/* enum decision_event */
	uint8_t		detail;		/* enum decision_detail, by event */
};

/* One field of a stream entry; values are not NUL-terminated. */
struct decision_field {
	const char	*name;
	size_t		 namelen;
	const char	*value;
	size_t		 valuelen;
};

/*
 * Validate fields into d. benefits/nbenefits is the configured list.
 * Entries decided more than future_s seconds after now are rejected.
 * Unknown fields are ignored (the case system may send more); an empty
 * optional value counts as missing. Returns 0, or -1 with *cause set to a
 * short reason naming the field ("outcome: unknown value"), caller frees.
 */
int decision_parse(struct decision *d, const struct decision_field *fields,
    size_t nfields, const char *const *benefits, int nbenefits, int64_t now,
    int64_t future_s, char **cause) __attribute__((warn_unused_result));
/*
 * The same for any event kind: an entry without `event` is of
 * default_event, or is refused when default_event is -1 (a stream that
 * carries several kinds). decision_parse is default_event EVENT_DECISION.
 */
int decision_parse_as(struct decision *d, const struct decision_field *fields,
    size_t nfields, const char *const *benefits, int nbenefits,
    int default_event, int64_t now, int64_t future_s, char **cause)
    __attribute__((warn_unused_result));

/* RFC 3339 with offset ("Z" or ±HH:MM, optional fraction) or Unix seconds. */
int decision_parse_time(const char *s, size_t len, int64_t *t);

const char *decision_kind_name(int kind);
/* A decision's outcome (0..3) by name; "unknown" for the others. */
const char *decision_outcome_name(int outcome);
/* Parse a kind name ("first", "ongoing"); -1 if unknown. */
int decision_kind_parse(const char *s);

/* "decision", "reconsideration", "appeal", "assessment"; "unknown". */
const char *decision_event_name(int event);
/* The event kind of a name; -1 if unknown. */
int decision_event_parse(const char *s);
/* The events in plain words, plural: "decisions", "court rulings"... */
const char *decision_event_noun(int event);

/*
 * Outcomes by event kind: the name of an outcome of that event ("unknown"
 * for one of another kind), the outcome of a name (-1 if not of that
 * event), and the event's vocabulary for messages ("changed, unchanged").
 */
const char *decision_outcome_name_in(int event, int outcome);
int decision_outcome_parse(int event, const char *s);
const char *decision_outcome_list(int event);

/*
 * The event's detail field: its key ("supplement_requested", "changed_to",
 * "checkpoint"; NULL for an appeal), a value's name ("unknown" for 0 or
 * out of range), a name's value (-1 when unknown), and the vocabulary for
 * messages ("90, 180, 365"; "" for an appeal).
 */
const char *decision_detail_key(int event);
const char *decision_detail_name(int event, int detail);
int decision_detail_parse(int event, const char *s);
const char *decision_detail_list(int event);

#endif
