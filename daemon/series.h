/*
 * Rolling statistics per series (office, benefit, kind) and per national
 * series, per ISO week and per month, kept in fixed-size rings covering the
 * retention. The national series is the sum over all offices.
 */
#ifndef STABILD_SERIES_H
#define STABILD_SERIES_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"

#define SERIES_NATIONAL		(-1)	/* office index of the national series */
#define SERIES_UNKNOWN		(-2)	/* office index for unknown or full */
#define SERIES_NATIONAL_NAME	"national"

/* What one period of one series holds. */
struct bucket {
	uint32_t	n;		/* decisions on the merits */
	uint32_t	rejected;
	uint32_t	partial;
	uint32_t	dismissed;	/* not in n */
	double		expected;	/* sum of p over the n decisions */
	double		variance;	/* sum of p(1-p) */
};

struct series;
struct series_set;

/*
 * A set sized for max_offices offices, nbenefits benefits, and rings of
 * weeks and months periods. Series memory is allocated on first use.
 */
struct series_set *series_set_create(int max_offices, int nbenefits,
    int weeks, int months);
void series_set_free(struct series_set *set);
/*
 * The same for nindicators indicators: the indicator is one more index,
 * outermost, so indicator 0's series are the ones of series_set_create.
 */
struct series_set *series_set_create_n(int nindicators, int max_offices,
    int nbenefits, int weeks, int months);
int series_set_indicators(const struct series_set *set);

/* Office index by name; creates it when create is set and there is room.
 * "national" maps to SERIES_NATIONAL. A negative index other than
 * SERIES_NATIONAL when unknown or full: check with series_office_valid. */
int series_office_index(struct series_set *set, const char *name, bool create);
bool series_office_valid(const struct series_set *set, int office);
/* The index of a known office (or SERIES_NATIONAL), else SERIES_UNKNOWN. */
int series_office_lookup(const struct series_set *set, const char *name);
/* Borrowed; valid for the life of the set. */
const char *series_office_name(const struct series_set *set, int office);
int series_office_count(const struct series_set *set);

/*
 * Count one decision in week/month of (office, benefit, kind) and of the
 * national series. p < 0 means no expectation (expected and variance are
 * left alone). Periods older than the ring are refused: returns -1.
 */
int series_add(struct series_set *set, int office, int benefit, int kind,
    int32_t week, int32_t month, int outcome, double p);

/*
 * The same for indicator ind (series_add is indicator 0). An event counts
 * in all its indicators or none: check every one with series_refuses_in,
 * which is true when series_add_in would return -1, before adding any.
 */
int series_add_in(struct series_set *set, int ind, int office, int benefit,
    int kind, int32_t week, int32_t month, int outcome, double p);
bool series_refuses_in(const struct series_set *set, int ind, int office,
    int benefit, int kind, int32_t week, int32_t month);

/* NULL when the series has never been counted. */
const struct series *series_get(const struct series_set *set, int office,
    int benefit, int kind);
const struct series *series_get_in(const struct series_set *set, int ind,
    int office, int benefit, int kind);
int series_indicator(const struct series *s);
int series_office(const struct series *s);
int series_benefit(const struct series *s);
int series_kind(const struct series *s);
/* Iterate in (indicator, office, benefit, kind) order, national first. */
const struct series *series_first(const struct series_set *set);
const struct series *series_next(const struct series_set *set,
    const struct series *s);
int series_count(const struct series_set *set);
/*
 * Grows whenever a series is added or a series' first week moves
 * earlier: while it stays the same, every series and first week a reader
 * has seen is as it was.
 */
uint64_t series_firsts_changed(const struct series_set *set);
/* Series of indicator ind. */
int series_count_in(const struct series_set *set, int ind);

/* The bucket of a week/month, or NULL if empty or outside the ring. */
const struct bucket *series_week(const struct series *s, int32_t week);
const struct bucket *series_month(const struct series *s, int32_t month);
/* Latest week/month with data, or INT32_MIN when none. */
int32_t series_last_week(const struct series *s);
int32_t series_first_week(const struct series *s);
int32_t series_last_month(const struct series *s);
int32_t series_first_month(const struct series *s);
/* Sum of count weeks ending with last (inclusive) into out. */
void series_sum_weeks(const struct series *s, int32_t last, int count,
    struct bucket *out);
/* Sum of everything still in the ring. */
void series_total(const struct series *s, struct bucket *out);
/* Bytes the set holds now, for /metrics and the docs. */
uint64_t series_set_memory(const struct series_set *set);

/* Checkpoint: offices, and every non-empty bucket with its period. */
void series_set_save(const struct series_set *set, struct buf *b);
/* Load into an empty set of any ring size (buckets outside are dropped). */
int series_set_load(struct series_set *set, struct buf_reader *r,
    char **cause);

#endif
