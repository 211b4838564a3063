/*
 * One decision event (contract §1): validation of a stream entry's fields
 * into a struct. Pure: no I/O, no logging; the reason for a rejection is
 * handed back so that the stream can dead-letter it.
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

enum decision_outcome {
	OUTCOME_GRANTED = 0,
	OUTCOME_REJECTED = 1,
	OUTCOME_PARTIAL = 2,	/* partly granted: not a rejection */
	OUTCOME_DISMISSED = 3,	/* not tried on the merits: not in rates */
};

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

/* RFC 3339 with offset ("Z" or ±HH:MM, optional fraction) or Unix seconds. */
int decision_parse_time(const char *s, size_t len, int64_t *t);

const char *decision_kind_name(int kind);
const char *decision_outcome_name(int outcome);
/* Parse a kind name ("first", "ongoing"); -1 if unknown. */
int decision_kind_parse(const char *s);

#endif
