/*
 * Validation of one decision event against contract §1: the fields of a
 * stream entry become a struct decision, or a short reason that the stream
 * writes to the dead-letter stream. Pure: no I/O and no logging.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "decision.h"
#include "utf8.h"
#include "xmalloc.h"

/*
 * A reason quotes at most this many bytes of a bad value, each possibly
 * escaped to four characters, plus quotes, an ellipsis and the NUL.
 */
#define DECISION_QUOTE_MAX	32
#define DECISION_QUOTE_SIZE	(DECISION_QUOTE_MAX * 4 + 8)

/* Years outside this range are typing errors, not history. */
#define DECISION_YEAR_MIN	1970
#define DECISION_YEAR_MAX	2200

/* Longest diagnosis accepted ("F43.8A" and the like fit easily). */
#define DECISION_DIAGNOSIS_MAX	8

enum decision_time_result {
	DECISION_TIME_OK,
	DECISION_TIME_SYNTAX,	/* neither RFC 3339 nor Unix seconds */
	DECISION_TIME_RANGE,	/* well formed, outside 1970..2200 */
};

/* The fields of contract §1, in the order their rules are checked. */
enum decision_key {
	KEY_ID,
	KEY_OFFICE,
	KEY_BENEFIT,
	KEY_KIND,
	KEY_OUTCOME,
	KEY_DECIDED_AT,
	KEY_AGE_BAND,
	KEY_SEX,
	KEY_DIAGNOSIS,
	KEY_CASE_DAY,
	KEY_EMPLOYMENT,
	KEY_CARE,
	KEY_REGION,
	KEY_EVENT,		/* resolved first: the rest depend on it */
	KEY_SUPPLEMENT,		/* the event kinds' own fields */
	KEY_CHANGED_TO,
	KEY_COURT,
	KEY_CHECKPOINT,
};
#define DECISION_NKEYS 18

#define DECISION_COURT_MAX	64

#define DECISION_KEY(n, r, e)	{ n, sizeof n - 1, r, e }
#define DECISION_ANY		-1	/* a field of every event kind */

/*
 * A field of another event kind than the entry's is not its own: it is
 * ignored like any unknown field (contract §1: the case system may add).
 */
static const struct {
	const char	*name;
	size_t		 len;
	bool		 required;
	int		 event;		/* DECISION_ANY or its event kind */
} decision_keys[DECISION_NKEYS] = {
	DECISION_KEY("id", true, DECISION_ANY),
	DECISION_KEY("office", true, DECISION_ANY),
	DECISION_KEY("benefit", true, DECISION_ANY),
	DECISION_KEY("kind", true, DECISION_ANY),
	DECISION_KEY("outcome", true, DECISION_ANY),
	DECISION_KEY("decided_at", true, DECISION_ANY),
	DECISION_KEY("age_band", false, DECISION_ANY),
	DECISION_KEY("sex", false, DECISION_ANY),
	DECISION_KEY("diagnosis", false, DECISION_ANY),
	DECISION_KEY("case_day", false, DECISION_ANY),
	DECISION_KEY("employment", false, DECISION_ANY),
	DECISION_KEY("care", false, DECISION_ANY),
	DECISION_KEY("region", false, DECISION_ANY),
	DECISION_KEY("event", false, DECISION_ANY),
	DECISION_KEY("supplement_requested", false, EVENT_DECISION),
	DECISION_KEY("changed_to", false, EVENT_RECONSIDERATION),
	DECISION_KEY("court", false, EVENT_APPEAL),
	DECISION_KEY("checkpoint", true, EVENT_ASSESSMENT),
};

/* Value names: index i is enum value i, or i + 1 where 0 means missing. */
static const char *const decision_kind_names[] = { "first", "ongoing" };
static const char *const decision_outcome_names[] = {
	"granted", "rejected", "partial", "dismissed",
};
static const char *const decision_age_names[] = {
	"16-29", "30-39", "40-49", "50-59", "60-",
};
static const char *const decision_sex_names[] = { "f", "m", "x" };
static const char *const decision_employment_names[] = {
	"employed", "unemployed", "self_employed", "student", "other",
};
static const char *const decision_care_names[] = { "primary", "specialist" };

/* Event kinds: enum decision_event. */
static const char *const decision_event_names[] = {
	"decision", "reconsideration", "appeal", "assessment",
};
static const char *const decision_event_nouns[] = {
	"decisions", "reconsiderations", "court rulings", "assessments",
};

/* Every outcome, enum decision_outcome; each event owns a range of it. */
static const char *const decision_outcome_all[DECISION_NOUTCOMES] = {
	"granted", "rejected", "partial", "dismissed",
	"changed", "unchanged", "on_time", "late",
};
static const struct {
	int		 first;
	int		 n;
	const char	*list;
} decision_event_outcomes[DECISION_NEVENTS] = {
	{ OUTCOME_GRANTED, 4, "granted, rejected, partial, dismissed" },
	{ OUTCOME_CHANGED, 2, "changed, unchanged" },
	{ OUTCOME_CHANGED, 2, "changed, unchanged" },
	{ OUTCOME_ON_TIME, 2, "on_time, late" },
};

/* Each event's detail field: value i + 1 is names[i], 0 is missing. */
static const char *const decision_supplement_names[] = { "yes", "no" };
static const char *const decision_changed_to_names[] = {
	"granted", "partial", "rejected",
};
static const char *const decision_checkpoint_names[] = { "90", "180", "365" };
static const struct {
	const char		*key;
	const char *const	*names;
	int			 n;
	const char		*list;
} decision_details[DECISION_NEVENTS] = {
	{ "supplement_requested", decision_supplement_names, 2, "yes, no" },
	{ "changed_to", decision_changed_to_names, 3,
	  "granted, partial, rejected" },
	{ NULL, NULL, 0, "" },
	{ "checkpoint", decision_checkpoint_names, 3, "90, 180, 365" },
};

#define DECISION_NITEMS(a) ((int)(sizeof (a) / sizeof (a)[0]))

/* Does the value (not NUL-terminated) equal the string s? */
static bool
decision_equal(const char *v, size_t len, const char *s)
{
	/* The first byte rules out most names before strlen. */
	if (len == 0)
		return *s == '\0';
	return v[0] == s[0] && len == strlen(s) && memcmp(v, s, len) == 0;
}

/* Index of the value in names, or -1. */
static int
decision_lookup(const char *const *names, int n, const char *v, size_t len)
{
	int i;

	for (i = 0; i < n; i++) {
		if (decision_equal(v, len, names[i]))
			return i;
	}
	return -1;
}

/*
 * Quote a value for a reason: values may hold any bytes, and the reason
 * ends up in logs and JSON, so only printable ASCII passes as is. Quote and
 * backslash are escaped too, so the quoted text is unambiguous.
 */
static void
decision_quote(const char *v, size_t len, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, n, o = 0;
	unsigned char c;

	n = len > DECISION_QUOTE_MAX ? DECISION_QUOTE_MAX : len;
	out[o++] = '\'';
	for (i = 0; i < n; i++) {
		c = (unsigned char)v[i];
		if (c >= 0x20 && c <= 0x7e && c != '\'' && c != '\\')
			out[o++] = (char)c;
		else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 0xf];
		}
	}
	out[o++] = '\'';
	if (n < len) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

/* Set *cause to "key: what 'value'". */
static int
decision_fail(char **cause, enum decision_key key, const char *what,
    const struct decision_field *f)
{
	char q[DECISION_QUOTE_SIZE];

	decision_quote(f->value, f->valuelen, q);
	*cause = xasprintf("%s: %s %s", decision_keys[key].name, what, q);
	return -1;
}

static bool
decision_is_alnum(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9');
}

static bool
decision_is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/*
 * An identifier (id, office): 1..max bytes of letters, digits and the bytes
 * in extra, copied with a terminator into out (max + 1 bytes).
 */
static int
decision_name(enum decision_key key, const struct decision_field *f,
    size_t max, const char *extra, char *out, char **cause)
{
	char what[64];
	size_t i;
	unsigned char c;

	if (f->valuelen > max) {
		snprintf(what, sizeof what, "longer than %zu characters", max);
		return decision_fail(cause, key, what, f);
	}
	for (i = 0; i < f->valuelen; i++) {
		c = (unsigned char)f->value[i];
		/* strchr would find the terminator for a NUL byte. */
		if (!decision_is_alnum(c) &&
		    (c == '\0' || strchr(extra, c) == NULL))
			return decision_fail(cause, key, "invalid character in",
			    f);
	}
	memcpy(out, f->value, f->valuelen);
	out[f->valuelen] = '\0';
	return 0;
}

/*
 * region, court: 1..max bytes of visible ASCII or valid UTF-8, kept as
 * given in out (max + 1 bytes). A court's name has blanks in it
 * ("Förvaltningsrätten i Stockholm"), so spaces pass where space is set.
 */
static int
decision_text(enum decision_key key, const struct decision_field *f,
    size_t max, bool space, char *out, char **cause)
{
	const unsigned char *p = (const unsigned char *)f->value;
	size_t i = 0, n;
	char what[64];

	if (f->valuelen > max) {
		snprintf(what, sizeof what, "longer than %zu bytes", max);
		return decision_fail(cause, key, what, f);
	}
	while (i < f->valuelen) {
		if ((p[i] >= 0x21 && p[i] <= 0x7e) || (space && p[i] == ' '))
			n = 1;
		else if (p[i] == 0xc2 && i + 1 < f->valuelen &&
		    p[i + 1] < 0xa0)
			n = 0;	/* U+0080..U+009F are controls */
		else if (p[i] >= 0x80)
			n = utf8_len(p + i, f->valuelen - i);
		else
			n = 0;
		if (n == 0)
			return decision_fail(cause, key, "invalid character in",
			    f);
		i += n;
	}
	memcpy(out, f->value, f->valuelen);
	out[f->valuelen] = '\0';
	return 0;
}

/*
 * diagnosis: an ICD-10 chapter letter alone ("F"), or a category of two
 * digits ("F32"), optionally with a subdivision of letters and digits,
 * dotted or not ("F32.1", "F43.8A", "F321"). Returns the chapter, 1..26.
 */
static int
decision_diagnosis(const struct decision_field *f, uint8_t *out,
    char **cause)
{
	const unsigned char *p = (const unsigned char *)f->value;
	size_t len = f->valuelen, i;

	if (len > DECISION_DIAGNOSIS_MAX || p[0] < 'A' || p[0] > 'Z')
		goto bad;
	if (len == 1)
		goto good;
	if (len < 3 || !decision_is_digit(p[1]) || !decision_is_digit(p[2]))
		goto bad;
	i = 3;
	if (i < len && p[i] == '.') {
		/* A dot needs a subdivision after it. */
		if (++i == len)
			goto bad;
	}
	for (; i < len; i++) {
		if (!decision_is_digit(p[i]) && (p[i] < 'A' || p[i] > 'Z'))
			goto bad;
	}
good:
	*out = (uint8_t)(p[0] - 'A' + 1);
	return 0;
bad:
	return decision_fail(cause, KEY_DIAGNOSIS,
	    "not an ICD-10 code or chapter", f);
}

/* case_day: a plain decimal integer, 1..3000. */
static int
decision_case_day(const struct decision_field *f, uint16_t *out,
    char **cause)
{
	size_t i;
	long v = 0;

	for (i = 0; i < f->valuelen; i++) {
		if (!decision_is_digit((unsigned char)f->value[i]))
			return decision_fail(cause, KEY_CASE_DAY,
			    "not an integer", f);
		/* Saturate: anything this long is out of range anyway. */
		if (v <= DECISION_CASE_DAY_MAX)
			v = v * 10 + (f->value[i] - '0');
	}
	if (v < 1 || v > DECISION_CASE_DAY_MAX)
		return decision_fail(cause, KEY_CASE_DAY,
		    "out of range 1-3000", f);
	*out = (uint16_t)v;
	return 0;
}

/* An enumerated value: stores index + offset (offset 1 when 0 is missing). */
static int
decision_enum(enum decision_key key, const struct decision_field *f,
    const char *const *names, int n, int offset, uint8_t *out, char **cause)
{
	int i;

	if ((i = decision_lookup(names, n, f->value, f->valuelen)) == -1)
		return decision_fail(cause, key, "unknown value", f);
	*out = (uint8_t)(i + offset);
	return 0;
}

/* Exactly n decimal digits at s. */
static bool
decision_digits(const char *s, size_t n, int *v)
{
	size_t i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (!decision_is_digit((unsigned char)s[i]))
			return false;
		*v = *v * 10 + (s[i] - '0');
	}
	return true;
}

static bool
decision_is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
decision_month_days(int y, int m)
{
	static const int days[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};

	if (m == 2 && decision_is_leap(y))
		return 29;
	return days[m - 1];
}

/* Days from 1970-01-01 to a proleptic Gregorian date. */
static int64_t
decision_days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* Last second of the accepted range, 2200-12-31T23:59:59Z. */
static int64_t
decision_time_max(void)
{
	return decision_days_from_civil(DECISION_YEAR_MAX + 1, 1, 1) * 86400 -
	    1;
}

/* "YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)"; the fraction is dropped. */
static enum decision_time_result
decision_rfc3339(const char *s, size_t len, int64_t *t)
{
	int year, mon, mday, hour, min, sec, oh, om, off;
	size_t i;
	int64_t v;

	if (len < 20 || !decision_digits(s, 4, &year) || s[4] != '-' ||
	    !decision_digits(s + 5, 2, &mon) || s[7] != '-' ||
	    !decision_digits(s + 8, 2, &mday) ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    !decision_digits(s + 11, 2, &hour) || s[13] != ':' ||
	    !decision_digits(s + 14, 2, &min) || s[16] != ':' ||
	    !decision_digits(s + 17, 2, &sec))
		return DECISION_TIME_SYNTAX;
	i = 19;
	if (s[i] == '.') {
		i++;
		if (i == len || !decision_is_digit((unsigned char)s[i]))
			return DECISION_TIME_SYNTAX;
		while (i < len && decision_is_digit((unsigned char)s[i]))
			i++;
	}
	if (i == len)
		return DECISION_TIME_SYNTAX;	/* no offset: ambiguous */
	if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == len)
		off = 0;
	else if ((s[i] == '+' || s[i] == '-') && i + 6 == len &&
	    decision_digits(s + i + 1, 2, &oh) && s[i + 3] == ':' &&
	    decision_digits(s + i + 4, 2, &om) && oh <= 23 && om <= 59) {
		off = oh * 3600 + om * 60;
		if (s[i] == '-')
			off = -off;
	} else
		return DECISION_TIME_SYNTAX;

	if (mon < 1 || mon > 12 || mday < 1 ||
	    mday > decision_month_days(year, mon) || hour > 23 || min > 59 ||
	    sec > 60)
		return DECISION_TIME_SYNTAX;
	if (sec == 60)
		sec = 59;	/* a leap second belongs to its minute */
	if (year < DECISION_YEAR_MIN || year > DECISION_YEAR_MAX)
		return DECISION_TIME_RANGE;
	v = decision_days_from_civil(year, mon, mday) * 86400 +
	    hour * 3600 + min * 60 + sec - off;
	if (v < 0 || v > decision_time_max())
		return DECISION_TIME_RANGE;
	*t = v;
	return DECISION_TIME_OK;
}

/* RFC 3339 or Unix seconds (1-12 digits, nothing else). */
static enum decision_time_result
decision_time(const char *s, size_t len, int64_t *t)
{
	size_t i;
	int64_t v = 0;

	if (len == 0)
		return DECISION_TIME_SYNTAX;
	for (i = 0; i < len; i++) {
		if (!decision_is_digit((unsigned char)s[i]))
			break;
	}
	if (i < len)
		return decision_rfc3339(s, len, t);
	if (len > 12)
		return DECISION_TIME_SYNTAX;
	for (i = 0; i < len; i++)
		v = v * 10 + (s[i] - '0');
	if (v > decision_time_max())
		return DECISION_TIME_RANGE;
	*t = v;
	return DECISION_TIME_OK;
}

int
decision_parse_time(const char *s, size_t len, int64_t *t)
{
	return decision_time(s, len, t) == DECISION_TIME_OK ? 0 : -1;
}

/* decided_at: a time within range and not too far past now. */
static int
decision_decided_at(const struct decision_field *f, int64_t now,
    int64_t future_s, int64_t *out, char **cause)
{
	int64_t t = 0, limit;

	switch (decision_time(f->value, f->valuelen, &t)) {
	case DECISION_TIME_OK:
		break;
	case DECISION_TIME_SYNTAX:
		return decision_fail(cause, KEY_DECIDED_AT,
		    "not RFC 3339 or Unix seconds", f);
	case DECISION_TIME_RANGE:
		return decision_fail(cause, KEY_DECIDED_AT,
		    "outside the years 1970-2200", f);
	}
	/* Saturate now + future_s rather than overflow. */
	if (future_s > 0 && now > INT64_MAX - future_s)
		limit = INT64_MAX;
	else if (future_s < 0 && now < INT64_MIN - future_s)
		limit = INT64_MIN;
	else
		limit = now + future_s;
	if (t > limit)
		return decision_fail(cause, KEY_DECIDED_AT, "in the future", f);
	*out = t;
	return 0;
}

/*
 * outcome, in the vocabulary of d's event. A decision's reason stays the
 * one of contract §1; the others name the event and its outcomes, since
 * the value may be right for another kind.
 */
static int
decision_outcome(struct decision *d, const struct decision_field *f,
    char **cause)
{
	char q[DECISION_QUOTE_SIZE];
	const char *name;
	int i, first = decision_event_outcomes[d->event].first;

	i = decision_lookup(decision_outcome_all + first,
	    decision_event_outcomes[d->event].n, f->value, f->valuelen);
	if (i != -1) {
		d->outcome = (uint8_t)(first + i);
		return 0;
	}
	if (d->event == EVENT_DECISION)
		return decision_fail(cause, KEY_OUTCOME, "unknown value", f);
	decision_quote(f->value, f->valuelen, q);
	name = decision_event_names[d->event];
	*cause = xasprintf("outcome: unknown value %s for %s %s (%s)", q,
	    strchr("aeiou", name[0]) != NULL ? "an" : "a", name,
	    decision_event_outcomes[d->event].list);
	return -1;
}

/* Check one present, non-empty field and store it in d. */
static int
decision_check(struct decision *d, enum decision_key key,
    const struct decision_field *f, const char *const *benefits,
    int nbenefits, int64_t now, int64_t future_s, char **cause)
{
	int i;

	switch (key) {
	case KEY_ID:
		return decision_name(key, f, DECISION_ID_MAX, "._:-", d->id,
		    cause);
	case KEY_OFFICE:
		if (decision_name(key, f, DECISION_OFFICE_MAX, "._-",
		    d->office, cause) == -1)
			return -1;
		/*
		 * The nation-wide series is keyed by this name; any spelling
		 * of it would read as that series in the API and alerts.
		 */
		if (strcasecmp(d->office, "national") == 0) {
			*cause = xstrdup("office: 'national' is reserved");
			return -1;
		}
		return 0;
	case KEY_BENEFIT:
		/* The index must fit d->benefit. */
		for (i = 0; i < nbenefits && i <= UINT8_MAX; i++) {
			if (!decision_equal(f->value, f->valuelen, benefits[i]))
				continue;
			d->benefit = (uint8_t)i;
			return 0;
		}
		return decision_fail(cause, key, "not configured", f);
	case KEY_KIND:
		return decision_enum(key, f, decision_kind_names,
		    DECISION_NITEMS(decision_kind_names), 0, &d->kind, cause);
	case KEY_OUTCOME:
		return decision_outcome(d, f, cause);
	case KEY_DECIDED_AT:
		return decision_decided_at(f, now, future_s, &d->decided_at,
		    cause);
	case KEY_AGE_BAND:
		return decision_enum(key, f, decision_age_names,
		    DECISION_NITEMS(decision_age_names), 1, &d->age, cause);
	case KEY_SEX:
		return decision_enum(key, f, decision_sex_names,
		    DECISION_NITEMS(decision_sex_names), 1, &d->sex, cause);
	case KEY_DIAGNOSIS:
		return decision_diagnosis(f, &d->diagnosis, cause);
	case KEY_CASE_DAY:
		return decision_case_day(f, &d->case_day, cause);
	case KEY_EMPLOYMENT:
		return decision_enum(key, f, decision_employment_names,
		    DECISION_NITEMS(decision_employment_names), 1,
		    &d->employment, cause);
	case KEY_CARE:
		return decision_enum(key, f, decision_care_names,
		    DECISION_NITEMS(decision_care_names), 1, &d->care, cause);
	case KEY_REGION:
		return decision_text(key, f, DECISION_REGION_MAX, false,
		    d->region, cause);
	case KEY_EVENT:
		return 0;	/* resolved before the others */
	case KEY_COURT: {
		char court[DECISION_COURT_MAX + 1];

		/* Checked, not kept: no indicator looks at it. */
		return decision_text(key, f, DECISION_COURT_MAX, true, court,
		    cause);
	}
	case KEY_SUPPLEMENT:
	case KEY_CHANGED_TO:
	case KEY_CHECKPOINT:
		return decision_enum(key, f, decision_details[d->event].names,
		    decision_details[d->event].n, 1, &d->detail, cause);
	}
	*cause = xstrdup("internal: unknown field");
	return -1;
}

int
decision_parse(struct decision *d, const struct decision_field *fields,
    size_t nfields, const char *const *benefits, int nbenefits, int64_t now,
    int64_t future_s, char **cause)
{
	return decision_parse_as(d, fields, nfields, benefits, nbenefits,
	    EVENT_DECISION, now, future_s, cause);
}

/*
 * The entry's event kind: its `event`, else default_event. -1 with *cause
 * when unknown, or when missing on a stream of several kinds.
 */
static int
decision_event(const struct decision_field *f, int default_event,
    char **cause)
{
	int i;

	if (f == NULL || f->valuelen == 0) {
		if (default_event >= 0 && default_event < DECISION_NEVENTS)
			return default_event;
		*cause = xstrdup("event: missing (this stream carries "
		    "several event kinds)");
		return -1;
	}
	if ((i = decision_lookup(decision_event_names, DECISION_NEVENTS,
	    f->value, f->valuelen)) == -1)
		return decision_fail(cause, KEY_EVENT, "unknown value", f);
	return i;
}

/*
 * Collect the known fields first and check them in a fixed order, so that
 * an entry gets the same reason whatever order its fields came in: the
 * event kind first, since which fields are the entry's own and the
 * outcome's vocabulary depend on it, then contract §1's fields, then the
 * kind's own. d is written only when the whole entry is valid.
 */
int
decision_parse_as(struct decision *d, const struct decision_field *fields,
    size_t nfields, const char *const *benefits, int nbenefits,
    int default_event, int64_t now, int64_t future_s, char **cause)
{
	const struct decision_field *seen[DECISION_NKEYS] = { NULL };
	const struct decision_field *f;
	struct decision nd;
	size_t i;
	int event, j, k, last = -1, dup = -1;

	*cause = NULL;
	for (i = 0; i < nfields; i++) {
		f = &fields[i];
		/* Writers tend to keep one field order: try the key after
		 * the last match first, then all of them. */
		for (j = 0; j < DECISION_NKEYS; j++) {
			k = (last + 1 + j) % DECISION_NKEYS;
			if (f->namelen == decision_keys[k].len &&
			    memcmp(f->name, decision_keys[k].name,
			    f->namelen) == 0)
				break;
		}
		if (j == DECISION_NKEYS)
			continue;	/* not ours: the case system may add */
		last = k;
		if (seen[k] == NULL) {
			seen[k] = f;
			continue;
		}
		/* A kind's own field: an error only if the entry's kind. */
		if (decision_keys[k].event == DECISION_ANY) {
			*cause = xasprintf("%s: given twice",
			    decision_keys[k].name);
			return -1;
		}
		if (dup == -1)
			dup = k;
	}

	if ((event = decision_event(seen[KEY_EVENT], default_event,
	    cause)) == -1)
		return -1;
	if (dup != -1 && decision_keys[dup].event == event) {
		*cause = xasprintf("%s: given twice", decision_keys[dup].name);
		return -1;
	}

	memset(&nd, 0, sizeof nd);
	nd.event = (uint8_t)event;
	for (k = 0; k < DECISION_NKEYS; k++) {
		if (decision_keys[k].event != DECISION_ANY &&
		    decision_keys[k].event != event)
			continue;
		f = seen[k];
		if (f == NULL || f->valuelen == 0) {
			if (!decision_keys[k].required)
				continue;
			*cause = xasprintf("%s: %s", decision_keys[k].name,
			    f == NULL ? "missing" : "empty");
			return -1;
		}
		if (decision_check(&nd, k, f, benefits, nbenefits, now,
		    future_s, cause) == -1)
			return -1;
	}
	/*
	 * An assessment stands where its checkpoint is in the chain: the
	 * model's case-day band sees that when the producer leaves it out.
	 */
	if (event == EVENT_ASSESSMENT && nd.case_day == 0) {
		static const uint16_t days[] = { 0, 90, 180, 365 };

		nd.case_day = days[nd.detail];
	}
	*d = nd;
	return 0;
}

const char *
decision_kind_name(int kind)
{
	if (kind < 0 || kind >= DECISION_NITEMS(decision_kind_names))
		return "unknown";
	return decision_kind_names[kind];
}

const char *
decision_outcome_name(int outcome)
{
	if (outcome < 0 || outcome >= DECISION_NITEMS(decision_outcome_names))
		return "unknown";
	return decision_outcome_names[outcome];
}

int
decision_kind_parse(const char *s)
{
	if (s == NULL)
		return -1;
	return decision_lookup(decision_kind_names,
	    DECISION_NITEMS(decision_kind_names), s, strlen(s));
}

const char *
decision_event_name(int event)
{
	if (event < 0 || event >= DECISION_NEVENTS)
		return "unknown";
	return decision_event_names[event];
}

int
decision_event_parse(const char *s)
{
	if (s == NULL)
		return -1;
	return decision_lookup(decision_event_names, DECISION_NEVENTS, s,
	    strlen(s));
}

const char *
decision_event_noun(int event)
{
	if (event < 0 || event >= DECISION_NEVENTS)
		return "events";
	return decision_event_nouns[event];
}

const char *
decision_outcome_name_in(int event, int outcome)
{
	if (event < 0 || event >= DECISION_NEVENTS ||
	    outcome < decision_event_outcomes[event].first ||
	    outcome >= decision_event_outcomes[event].first +
	    decision_event_outcomes[event].n)
		return "unknown";
	return decision_outcome_all[outcome];
}

int
decision_outcome_parse(int event, const char *s)
{
	int i;

	if (event < 0 || event >= DECISION_NEVENTS || s == NULL)
		return -1;
	i = decision_lookup(decision_outcome_all +
	    decision_event_outcomes[event].first,
	    decision_event_outcomes[event].n, s, strlen(s));
	return i == -1 ? -1 : decision_event_outcomes[event].first + i;
}

const char *
decision_outcome_list(int event)
{
	if (event < 0 || event >= DECISION_NEVENTS)
		return "";
	return decision_event_outcomes[event].list;
}

const char *
decision_detail_key(int event)
{
	if (event < 0 || event >= DECISION_NEVENTS)
		return NULL;
	return decision_details[event].key;
}

const char *
decision_detail_name(int event, int detail)
{
	if (event < 0 || event >= DECISION_NEVENTS || detail < 1 ||
	    detail > decision_details[event].n)
		return "unknown";
	return decision_details[event].names[detail - 1];
}

int
decision_detail_parse(int event, const char *s)
{
	int i;

	if (event < 0 || event >= DECISION_NEVENTS || s == NULL ||
	    decision_details[event].n == 0)
		return -1;
	i = decision_lookup(decision_details[event].names,
	    decision_details[event].n, s, strlen(s));
	return i == -1 ? -1 : i + 1;
}

const char *
decision_detail_list(int event)
{
	if (event < 0 || event >= DECISION_NEVENTS)
		return "";
	return decision_details[event].list;
}
