/*
 * Tests for decision.c. The entry rules of contract §1 are a table in
 * tests/data/decisions.txt, applied as changes to a valid base entry;
 * decided_at parsing and the name functions are tables here.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "decision.h"

#define DATA_FILE	"tests/data/decisions.txt"
#define MAX_FIELDS	64
#define CAUSE_MAX	200	/* quoting keeps reasons short */

/* The clock and tolerance every case in the data file is parsed with. */
#define NOW		INT64_C(1700000000)	/* 2023-11-14T22:13:20Z */
#define FUTURE_S	86400

static const char *const benefits[] = {
	"sjukpenning", "rehabiliteringsersattning", "sjukersattning",
	"aktivitetsersattning",
};
#define NBENEFITS ((int)(sizeof benefits / sizeof benefits[0]))

/* The base entry that each case changes. */
static const char *const base[][2] = {
	{ "id", "D-1" },
	{ "office", "K017" },
	{ "benefit", "sjukpenning" },
	{ "kind", "first" },
	{ "outcome", "granted" },
	{ "decided_at", "2023-04-17T09:12:00+02:00" },
};

/* An owned byte string, possibly holding NULs. */
struct bytes {
	char	*p;
	size_t	 len;
};

struct entry {
	struct bytes	name[MAX_FIELDS];
	struct bytes	value[MAX_FIELDS];
	size_t		n;
};

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Undo the data file's escapes: \t \n \r \\ \xNN. */
static struct bytes
unescape(const char *s, size_t len, int line)
{
	struct bytes b;
	size_t i;
	int hi = 0, lo = 0;

	b.p = malloc(len + 1);
	assert_non_null(b.p);
	b.len = 0;
	for (i = 0; i < len; i++) {
		if (s[i] != '\\') {
			b.p[b.len++] = s[i];
			continue;
		}
		if (++i == len)
			fail_msg("%s:%d: trailing backslash", DATA_FILE, line);
		switch (s[i]) {
		case 't':
			b.p[b.len++] = '\t';
			break;
		case 'n':
			b.p[b.len++] = '\n';
			break;
		case 'r':
			b.p[b.len++] = '\r';
			break;
		case '\\':
			b.p[b.len++] = '\\';
			break;
		case 'x':
			if (i + 2 >= len || (hi = hexval(s[i + 1])) == -1 ||
			    (lo = hexval(s[i + 2])) == -1)
				fail_msg("%s:%d: bad \\x escape", DATA_FILE,
				    line);
			b.p[b.len++] = (char)(hi * 16 + lo);
			i += 2;
			break;
		default:
			fail_msg("%s:%d: unknown escape \\%c", DATA_FILE, line,
			    s[i]);
		}
	}
	b.p[b.len] = '\0';
	return b;
}

/* Does the byte string equal s (len bytes)? */
static bool
bytes_equal(const struct bytes *a, const char *s, size_t len)
{
	return a->len == len && memcmp(a->p, s, len) == 0;
}

static void
entry_add(struct entry *e, struct bytes name, struct bytes value)
{
	assert_true(e->n < MAX_FIELDS);
	e->name[e->n] = name;
	e->value[e->n] = value;
	e->n++;
}

static void
entry_remove(struct entry *e, size_t i)
{
	free(e->name[i].p);
	free(e->value[i].p);
	memmove(&e->name[i], &e->name[i + 1],
	    (e->n - i - 1) * sizeof e->name[0]);
	memmove(&e->value[i], &e->value[i + 1],
	    (e->n - i - 1) * sizeof e->value[0]);
	e->n--;
}

static void
entry_free(struct entry *e)
{
	while (e->n > 0)
		entry_remove(e, e->n - 1);
}

static void
entry_base(struct entry *e)
{
	size_t i;

	e->n = 0;
	for (i = 0; i < sizeof base / sizeof base[0]; i++)
		entry_add(e, unescape(base[i][0], strlen(base[i][0]), 0),
		    unescape(base[i][1], strlen(base[i][1]), 0));
}

/*
 * Apply one change: "name=value" replaces the field or adds it, "-name"
 * removes it, "+name=value" adds it even when present (a duplicate).
 */
static void
entry_change(struct entry *e, const char *op, int line)
{
	struct bytes name, value;
	const char *eq;
	bool append = false;
	size_t i;

	if (op[0] == '-') {
		name = unescape(op + 1, strlen(op + 1), line);
		for (i = e->n; i > 0; i--) {
			if (bytes_equal(&e->name[i - 1], name.p, name.len))
				entry_remove(e, i - 1);
		}
		free(name.p);
		return;
	}
	if (op[0] == '+') {
		append = true;
		op++;
	}
	if ((eq = strchr(op, '=')) == NULL) {
		fail_msg("%s:%d: change without '=': %s", DATA_FILE, line, op);
		return;
	}
	name = unescape(op, (size_t)(eq - op), line);
	value = unescape(eq + 1, strlen(eq + 1), line);
	for (i = 0; !append && i < e->n; i++) {
		if (bytes_equal(&e->name[i], name.p, name.len)) {
			free(name.p);
			free(e->value[i].p);
			e->value[i] = value;
			return;
		}
	}
	entry_add(e, name, value);
}

/* Compare one "member=value" expectation with the parsed decision. */
static void
check_member(const struct decision *d, const char *check, int line)
{
	static const struct {
		const char	*name;
		size_t		 off;
		int		 size;	/* 0: string */
	} members[] = {
		{ "id", offsetof(struct decision, id), 0 },
		{ "office", offsetof(struct decision, office), 0 },
		{ "region", offsetof(struct decision, region), 0 },
		{ "benefit", offsetof(struct decision, benefit), 1 },
		{ "kind", offsetof(struct decision, kind), 1 },
		{ "outcome", offsetof(struct decision, outcome), 1 },
		{ "age", offsetof(struct decision, age), 1 },
		{ "sex", offsetof(struct decision, sex), 1 },
		{ "diagnosis", offsetof(struct decision, diagnosis), 1 },
		{ "employment", offsetof(struct decision, employment), 1 },
		{ "care", offsetof(struct decision, care), 1 },
		{ "case_day", offsetof(struct decision, case_day), 2 },
		{ "decided_at", offsetof(struct decision, decided_at), 8 },
		{ "event", offsetof(struct decision, event), 1 },
		{ "detail", offsetof(struct decision, detail), 1 },
	};
	const char *eq = strchr(check, '='), *base_p = (const char *)d;
	struct bytes want;
	long long got = 0;
	uint16_t u16;
	int64_t i64;
	size_t i;

	if (eq == NULL) {
		fail_msg("%s:%d: check without '=': %s", DATA_FILE, line,
		    check);
		return;
	}
	for (i = 0; i < sizeof members / sizeof members[0]; i++) {
		if (strlen(members[i].name) == (size_t)(eq - check) &&
		    strncmp(check, members[i].name, (size_t)(eq - check)) == 0)
			break;
	}
	if (i == sizeof members / sizeof members[0]) {
		fail_msg("%s:%d: unknown member in %s", DATA_FILE, line, check);
		return;
	}

	if (members[i].size == 0) {
		want = unescape(eq + 1, strlen(eq + 1), line);
		if (strcmp(base_p + members[i].off, want.p) != 0)
			fail_msg("%s:%d: %s is '%s', want '%s'", DATA_FILE,
			    line, members[i].name, base_p + members[i].off,
			    want.p);
		free(want.p);
		return;
	}
	switch (members[i].size) {
	case 1:
		got = *(const uint8_t *)(base_p + members[i].off);
		break;
	case 2:
		memcpy(&u16, base_p + members[i].off, sizeof u16);
		got = u16;
		break;
	default:
		memcpy(&i64, base_p + members[i].off, sizeof i64);
		got = i64;
		break;
	}
	if (got != strtoll(eq + 1, NULL, 10))
		fail_msg("%s:%d: %s is %lld, want %s", DATA_FILE, line,
		    members[i].name, got, eq + 1);
}

/*
 * One line of the data file: "ok<TAB>checks<TAB>changes..." or
 * "bad<TAB>reason substring<TAB>changes...".
 */
static void
run_case(char *text, int line)
{
	struct decision_field fields[MAX_FIELDS];
	struct decision d, before;
	struct entry e;
	struct bytes want;
	char *expect, *what, *op, *check, *cause = NULL;
	size_t i;
	int rc;
	bool ok = false;

	expect = strsep(&text, "\t");
	what = strsep(&text, "\t");
	if (what == NULL)
		fail_msg("%s:%d: want expect<TAB>what[<TAB>change...]",
		    DATA_FILE, line);
	if (strcmp(expect, "ok") == 0)
		ok = true;
	else if (strcmp(expect, "bad") == 0)
		ok = false;
	else
		fail_msg("%s:%d: expect is ok or bad, not %s", DATA_FILE, line,
		    expect);

	entry_base(&e);
	while ((op = strsep(&text, "\t")) != NULL)
		entry_change(&e, op, line);
	for (i = 0; i < e.n; i++) {
		fields[i].name = e.name[i].p;
		fields[i].namelen = e.name[i].len;
		fields[i].value = e.value[i].p;
		fields[i].valuelen = e.value[i].len;
	}

	memset(&d, 0xa5, sizeof d);
	memcpy(&before, &d, sizeof before);
	rc = decision_parse(&d, fields, e.n, benefits, NBENEFITS, NOW,
	    FUTURE_S, &cause);
	if (ok) {
		if (rc != 0)
			fail_msg("%s:%d: rejected: %s", DATA_FILE, line,
			    cause != NULL ? cause : "(no cause)");
		assert_null(cause);
		if (strcmp(what, "-") != 0) {
			while ((check = strsep(&what, " ")) != NULL) {
				if (*check != '\0')
					check_member(&d, check, line);
			}
		}
	} else {
		if (rc != -1)
			fail_msg("%s:%d: accepted", DATA_FILE, line);
		if (cause == NULL)
			fail_msg("%s:%d: no cause", DATA_FILE, line);
		want = unescape(what, strlen(what), line);
		if (strstr(cause, want.p) == NULL)
			fail_msg("%s:%d: cause \"%s\" lacks \"%s\"", DATA_FILE,
			    line, cause, want.p);
		free(want.p);
		/* Reasons go to logs and JSON: short and printable only. */
		if (strlen(cause) >= CAUSE_MAX)
			fail_msg("%s:%d: cause too long", DATA_FILE, line);
		for (i = 0; cause[i] != '\0'; i++) {
			if (cause[i] < 0x20 || cause[i] > 0x7e)
				fail_msg("%s:%d: raw byte 0x%02x in cause",
				    DATA_FILE, line, (unsigned char)cause[i]);
		}
		free(cause);
		/* A rejected entry leaves d as it was. */
		assert_memory_equal(&d, &before, sizeof d);
	}
	entry_free(&e);
}

/* Every case of the data file; the first failing line is reported. */
static void
test_data_file(void **state)
{
	FILE *f;
	char *text = NULL;
	size_t size = 0;
	ssize_t n;
	int line = 0, cases = 0, bad = 0;

	(void)state;
	f = fopen(DATA_FILE, "r");
	if (f == NULL)
		fail_msg("cannot open %s (run from the repository root)",
		    DATA_FILE);
	while ((n = getline(&text, &size, f)) != -1) {
		line++;
		if (n > 0 && text[n - 1] == '\n')
			text[--n] = '\0';
		if (n == 0 || text[0] == '#')
			continue;
		if (strncmp(text, "bad\t", 4) == 0)
			bad++;
		run_case(text, line);
		cases++;
	}
	free(text);
	fclose(f);
	/* Guard against a truncated or misread file passing vacuously. */
	assert_true(cases >= 150);
	assert_true(bad >= 80);
}

/* The same entry in another field order gets the same reason. */
static void
test_field_order(void **state)
{
	struct decision_field fields[3] = {
		{ "kind", 4, "later", 5 },
		{ "outcome", 7, "approved", 8 },
		{ "id", 2, "x y", 3 },
	};
	struct decision_field rev[3] = { fields[2], fields[1], fields[0] };
	struct decision d;
	char *a, *b;

	(void)state;
	assert_int_equal(decision_parse(&d, fields, 3, benefits, NBENEFITS,
	    NOW, FUTURE_S, &a), -1);
	assert_int_equal(decision_parse(&d, rev, 3, benefits, NBENEFITS,
	    NOW, FUTURE_S, &b), -1);
	assert_string_equal(a, "id: invalid character in 'x y'");
	assert_string_equal(a, b);
	free(a);
	free(b);
}

/* Fill fields from name/value pairs. */
static size_t
make_fields(struct decision_field *fields, const char *const (*kv)[2],
    size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		fields[i].name = kv[i][0];
		fields[i].namelen = strlen(kv[i][0]);
		fields[i].value = kv[i][1];
		fields[i].valuelen = strlen(kv[i][1]);
	}
	return n;
}

/*
 * The kind of an entry without `event` comes from its stream: a side
 * stream of one kind, or none (-1) when the stream carries several.
 */
static void
test_default_event(void **state)
{
	static const char *const recon[][2] = {
		{ "id", "R-1" }, { "office", "K017" },
		{ "benefit", "sjukpenning" }, { "kind", "first" },
		{ "outcome", "changed" },
		{ "decided_at", "2023-04-17T09:12:00+02:00" },
		{ "changed_to", "partial" },
	};
	struct decision_field fields[16];
	struct decision d;
	char *cause = NULL;
	size_t n;

	(void)state;
	n = make_fields(fields, recon, 7);
	assert_int_equal(decision_parse_as(&d, fields, n, benefits, NBENEFITS,
	    EVENT_RECONSIDERATION, NOW, FUTURE_S, &cause), 0);
	assert_null(cause);
	assert_int_equal(d.event, EVENT_RECONSIDERATION);
	assert_int_equal(d.outcome, OUTCOME_CHANGED);
	assert_int_equal(d.detail, DETAIL_CHANGED_TO_PARTIAL);
	assert_string_equal(d.id, "R-1");

	/* The same entry read as a decision: its outcome is not one. */
	assert_int_equal(decision_parse(&d, fields, n, benefits, NBENEFITS,
	    NOW, FUTURE_S, &cause), -1);
	assert_string_equal(cause, "outcome: unknown value 'changed'");
	free(cause);

	/* On a stream of several kinds, the entry must say. */
	assert_int_equal(decision_parse_as(&d, fields, n, benefits, NBENEFITS,
	    -1, NOW, FUTURE_S, &cause), -1);
	assert_string_equal(cause,
	    "event: missing (this stream carries several event kinds)");
	free(cause);
	fields[n].name = "event";
	fields[n].namelen = 5;
	fields[n].value = "";
	fields[n].valuelen = 0;
	assert_int_equal(decision_parse_as(&d, fields, n + 1, benefits,
	    NBENEFITS, -1, NOW, FUTURE_S, &cause), -1);
	assert_string_equal(cause,
	    "event: missing (this stream carries several event kinds)");
	free(cause);
	fields[n].value = "reconsideration";
	fields[n].valuelen = strlen("reconsideration");
	memset(&d, 0, sizeof d);
	assert_int_equal(decision_parse_as(&d, fields, n + 1, benefits,
	    NBENEFITS, -1, NOW, FUTURE_S, &cause), 0);
	assert_int_equal(d.event, EVENT_RECONSIDERATION);

	/* An entry's own event wins over its stream's. */
	assert_int_equal(decision_parse_as(&d, fields, n + 1, benefits,
	    NBENEFITS, EVENT_ASSESSMENT, NOW, FUTURE_S, &cause), 0);
	assert_int_equal(d.event, EVENT_RECONSIDERATION);
	fields[n].value = "decision";
	fields[n].valuelen = strlen("decision");
	assert_int_equal(decision_parse_as(&d, fields, n + 1, benefits,
	    NBENEFITS, EVENT_RECONSIDERATION, NOW, FUTURE_S, &cause), -1);
	assert_string_equal(cause, "outcome: unknown value 'changed'");
	free(cause);
}

/* The event and the kinds' own fields give one reason in any order. */
static void
test_event_field_order(void **state)
{
	static const char *const kv[][2] = {
		{ "checkpoint", "100" }, { "outcome", "granted" },
		{ "event", "assessment" }, { "id", "A-1" },
		{ "office", "K017" }, { "benefit", "sjukpenning" },
		{ "kind", "first" },
		{ "decided_at", "2023-04-17T09:12:00+02:00" },
	};
	struct decision_field fields[8], rev[8];
	struct decision d;
	char *a, *b;
	size_t i, n;

	(void)state;
	n = make_fields(fields, kv, 8);
	for (i = 0; i < n; i++)
		rev[i] = fields[n - 1 - i];
	assert_int_equal(decision_parse(&d, fields, n, benefits, NBENEFITS,
	    NOW, FUTURE_S, &a), -1);
	assert_int_equal(decision_parse(&d, rev, n, benefits, NBENEFITS,
	    NOW, FUTURE_S, &b), -1);
	assert_string_equal(a, "outcome: unknown value 'granted' for an "
	    "assessment (on_time, late)");
	assert_string_equal(a, b);
	free(a);
	free(b);

	fields[1].value = "late";
	fields[1].valuelen = 4;
	for (i = 0; i < n; i++)
		rev[i] = fields[n - 1 - i];
	assert_int_equal(decision_parse(&d, fields, n, benefits, NBENEFITS,
	    NOW, FUTURE_S, &a), -1);
	assert_int_equal(decision_parse(&d, rev, n, benefits, NBENEFITS,
	    NOW, FUTURE_S, &b), -1);
	assert_string_equal(a, "checkpoint: unknown value '100'");
	assert_string_equal(a, b);
	free(a);
	free(b);

	fields[0].value = "365";
	fields[0].valuelen = 3;
	assert_int_equal(decision_parse(&d, fields, n, benefits, NBENEFITS,
	    NOW, FUTURE_S, &a), 0);
	assert_int_equal(d.event, EVENT_ASSESSMENT);
	assert_int_equal(d.outcome, OUTCOME_LATE);
	assert_int_equal(d.detail, DETAIL_CHECKPOINT_365);
	assert_int_equal(d.case_day, 365);
}

/* A benefit list with no entries rejects every benefit. */
static void
test_no_benefits(void **state)
{
	struct decision_field fields[6];
	struct decision d;
	char *cause;
	size_t i;

	(void)state;
	for (i = 0; i < 6; i++) {
		fields[i].name = base[i][0];
		fields[i].namelen = strlen(base[i][0]);
		fields[i].value = base[i][1];
		fields[i].valuelen = strlen(base[i][1]);
	}
	assert_int_equal(decision_parse(&d, fields, 6, benefits, NBENEFITS,
	    NOW, FUTURE_S, &cause), 0);
	assert_int_equal(decision_parse(&d, fields, 6, NULL, 0, NOW,
	    FUTURE_S, &cause), -1);
	assert_string_equal(cause, "benefit: not configured 'sjukpenning'");
	free(cause);
}

/* decided_at formats on their own, without the future check. */
static void
test_parse_time(void **state)
{
	static const struct {
		const char	*s;
		size_t		 len;	/* 0: strlen */
		int		 rc;
		int64_t		 t;
	} cases[] = {
		/* RFC 3339: offsets, Z, case, separators, fractions. */
		{ "2023-04-17T09:12:00+02:00", 0, 0, 1681715520 },
		{ "2023-04-17T07:12:00Z", 0, 0, 1681715520 },
		{ "2023-04-17t07:12:00z", 0, 0, 1681715520 },
		{ "2023-04-17 07:12:00Z", 0, 0, 1681715520 },
		{ "2023-04-17T07:12:00+00:00", 0, 0, 1681715520 },
		{ "2023-04-17T07:12:00-00:00", 0, 0, 1681715520 },
		{ "2023-04-17T02:12:00-05:00", 0, 0, 1681715520 },
		{ "2023-04-17T12:42:00+05:30", 0, 0, 1681715520 },
		{ "2023-04-18T07:11:00+23:59", 0, 0, 1681715520 },
		{ "2023-04-16T07:13:00-23:59", 0, 0, 1681715520 },
		{ "2023-04-17T07:12:00.999999999Z", 0, 0, 1681715520 },
		{ "2023-04-17T09:12:00.5+02:00", 0, 0, 1681715520 },
		{ "2023-04-17T07:12:00.0Z", 0, 0, 1681715520 },
		/* Calendar: leap years and month lengths. */
		{ "2020-02-29T00:00:00Z", 0, 0, 1582934400 },
		{ "2000-02-29T12:00:00Z", 0, 0, 951825600 },
		{ "2021-02-29T00:00:00Z", 0, -1, 0 },
		{ "2100-02-29T00:00:00Z", 0, -1, 0 },
		{ "1900-02-29T00:00:00Z", 0, -1, 0 },
		{ "2023-04-31T00:00:00Z", 0, -1, 0 },
		{ "2023-12-31T23:59:59Z", 0, 0, 1704067199 },
		{ "2023-13-01T00:00:00Z", 0, -1, 0 },
		{ "2023-00-10T00:00:00Z", 0, -1, 0 },
		{ "2023-04-00T00:00:00Z", 0, -1, 0 },
		{ "2023-04-17T24:00:00Z", 0, -1, 0 },
		{ "2023-04-17T23:60:00Z", 0, -1, 0 },
		{ "2023-04-17T23:59:61Z", 0, -1, 0 },
		/* A leap second counts as the second before it. */
		{ "2016-12-31T23:59:60Z", 0, 0, 1483228799 },
		/* Offsets must be there and well formed. */
		{ "2023-04-17T07:12:00", 0, -1, 0 },
		{ "2023-04-17T07:12:00.5", 0, -1, 0 },
		{ "2023-04-17T07:12:00+24:00", 0, -1, 0 },
		{ "2023-04-17T07:12:00+02:60", 0, -1, 0 },
		{ "2023-04-17T07:12:00+0200", 0, -1, 0 },
		{ "2023-04-17T07:12:00+02", 0, -1, 0 },
		{ "2023-04-17T07:12:00+02:00:00", 0, -1, 0 },
		{ "2023-04-17T07:12:00ZZ", 0, -1, 0 },
		{ "2023-04-17T07:12:00 Z", 0, -1, 0 },
		{ "2023-04-17T07:12:00.Z", 0, -1, 0 },
		{ "2023-04-17T07:12Z", 0, -1, 0 },
		{ "2023-04-17", 0, -1, 0 },
		{ "2023-4-17T07:12:00Z", 0, -1, 0 },
		{ "2023-04-17_07:12:00Z", 0, -1, 0 },
		{ "2023-04-17T07:12:00Z\n", 0, -1, 0 },
		{ " 2023-04-17T07:12:00Z", 0, -1, 0 },
		{ "2023-04-17T07:12:00Z\0", 21, -1, 0 },
		/* Range: 1970 to 2200, never before the epoch. */
		{ "1970-01-01T00:00:00Z", 0, 0, 0 },
		{ "1970-01-01T01:00:00+01:00", 0, 0, 0 },
		{ "1970-01-01T00:30:00+01:00", 0, -1, 0 },
		{ "1969-12-31T23:59:59Z", 0, -1, 0 },
		{ "1969-12-31T23:30:00-01:00", 0, -1, 0 },
		{ "2200-12-31T23:59:59Z", 0, 0, 7289654399 },
		{ "2201-01-01T00:00:00Z", 0, -1, 0 },
		/* Unix seconds: 1 to 12 digits, nothing else. */
		{ "0", 0, 0, 0 },
		{ "1681715520", 0, 0, 1681715520 },
		{ "001681715520", 0, 0, 1681715520 },
		{ "0001681715520", 0, -1, 0 },
		{ "7289654399", 0, 0, 7289654399 },
		{ "7289654400", 0, -1, 0 },
		{ "999999999999", 0, -1, 0 },
		{ "-1", 0, -1, 0 },
		{ "+1681715520", 0, -1, 0 },
		{ "1681715520.5", 0, -1, 0 },
		{ "1681715520 ", 0, -1, 0 },
		{ " 1681715520", 0, -1, 0 },
		{ "1681715520\0", 11, -1, 0 },
		{ "16817\0" "155", 9, -1, 0 },
		{ "1e9", 0, -1, 0 },
		{ "", 0, -1, 0 },
	};
	size_t i, len;
	int64_t t;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		len = cases[i].len != 0 ? cases[i].len : strlen(cases[i].s);
		t = -12345;
		if (decision_parse_time(cases[i].s, len, &t) != cases[i].rc)
			fail_msg("case %zu \"%s\": want %d", i, cases[i].s,
			    cases[i].rc);
		if (cases[i].rc == 0 && t != cases[i].t)
			fail_msg("case %zu \"%s\": %lld, want %lld", i,
			    cases[i].s, (long long)t, (long long)cases[i].t);
	}
}

/* Times past now + future_s are rejected, and the sum cannot overflow. */
static void
test_future(void **state)
{
	static const struct {
		const char	*value;
		int64_t		 now, future_s;
		int		 rc;
	} cases[] = {
		{ "1700086400", NOW, FUTURE_S, 0 },
		{ "1700086401", NOW, FUTURE_S, -1 },
		{ "2023-11-15T23:13:20+01:00", NOW, FUTURE_S, 0 },
		{ "2023-11-15T23:13:21+01:00", NOW, FUTURE_S, -1 },
		{ "1700000000", NOW, 0, 0 },
		{ "1700000001", NOW, 0, -1 },
		{ "1700000000", INT64_MAX, INT64_MAX, 0 },
		{ "1700000000", INT64_MIN, INT64_MIN, -1 },
		{ "1700000000", INT64_MIN, INT64_MAX, -1 },
	};
	struct decision_field fields[6];
	struct decision d;
	char *cause;
	size_t i;

	(void)state;
	for (i = 0; i < 6; i++) {
		fields[i].name = base[i][0];
		fields[i].namelen = strlen(base[i][0]);
		fields[i].value = base[i][1];
		fields[i].valuelen = strlen(base[i][1]);
	}
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		fields[5].value = cases[i].value;
		fields[5].valuelen = strlen(cases[i].value);
		cause = NULL;
		if (decision_parse(&d, fields, 6, benefits, NBENEFITS,
		    cases[i].now, cases[i].future_s, &cause) != cases[i].rc)
			fail_msg("case %zu: want %d", i, cases[i].rc);
		if (cases[i].rc == -1) {
			assert_non_null(cause);
			assert_non_null(strstr(cause, "decided_at: in the "
			    "future"));
			free(cause);
		} else
			assert_null(cause);
	}
}

/* Kind and outcome names, both ways, and out-of-range values. */
static void
test_names(void **state)
{
	static const struct {
		int		 value;
		const char	*kind, *outcome;
	} names[] = {
		{ 0, "first", "granted" },
		{ 1, "ongoing", "rejected" },
		{ 2, "unknown", "partial" },
		{ 3, "unknown", "dismissed" },
		{ -1, "unknown", "unknown" },
		{ 4, "unknown", "unknown" },
	};
	static const struct {
		const char	*s;
		int		 kind;
	} parse[] = {
		{ "first", DECISION_FIRST },
		{ "ongoing", DECISION_ONGOING },
		{ "First", -1 },
		{ "first ", -1 },
		{ "firs", -1 },
		{ "", -1 },
		{ NULL, -1 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		assert_string_equal(decision_kind_name(names[i].value),
		    names[i].kind);
		assert_string_equal(decision_outcome_name(names[i].value),
		    names[i].outcome);
	}
	for (i = 0; i < sizeof parse / sizeof parse[0]; i++)
		assert_int_equal(decision_kind_parse(parse[i].s),
		    parse[i].kind);
	/* Every kind name parses back to itself. */
	for (i = 0; i < DECISION_NKINDS; i++)
		assert_int_equal(decision_kind_parse(
		    decision_kind_name((int)i)), (int)i);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_data_file),
		cmocka_unit_test(test_field_order),
		cmocka_unit_test(test_default_event),
		cmocka_unit_test(test_event_field_order),
		cmocka_unit_test(test_no_benefits),
		cmocka_unit_test(test_parse_time),
		cmocka_unit_test(test_future),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
