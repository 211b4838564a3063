/*
 * Rolling per-period counts for every (indicator, office, benefit, kind)
 * series and its national sum: fixed rings of weeks and months, allocated
 * on first use, so that counting one event is O(1) and never allocates
 * after warm-up. The indicator is the outermost index, so indicator 0
 * (rejection) has the slots a set without indicators had.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "decision.h"
#include "indicator.h"
#include "log.h"
#include "series.h"
#include "xmalloc.h"

#define SERIES_NAME_MAX		32	/* contract §1: office is 1-32 chars */
#define SERIES_EMPTY		INT32_MIN	/* period of an unused slot */
#define SERIES_SAVE_VERSION	2	/* 1: no indicator before the office */
#define SERIES_SAVE_NATIONAL	0xffffffffU
/* Saved bytes per bucket: period, four counters, two doubles. */
#define SERIES_SAVE_BUCKET	(4 + 4 * 4 + 2 * 8)

/*
 * A ring of periods. Invariant: every slot is either empty or holds a
 * period in (last - size, last], so a slot's period alone says whether it
 * is current, and the newest period always has data.
 *
 * Its slots are a column of a block (struct series_block): slot i at
 * [i * stride]. The series of a block keep the same period side by side,
 * so that a week's counts touch a few pages, not one per series (each
 * page written after a checkpoint's fork is copied while the loop waits).
 */
struct ring {
	int32_t		 size;
	int32_t		 last;		/* newest period, SERIES_EMPTY none */
	int32_t		 first;		/* oldest period held, SERIES_EMPTY none */
	size_t		 stride;
	uint32_t	*period;	/* per slot, ring_period_code */
	struct bucket	*bucket;
};

/* Series per block: mapped whole, its rows take memory as they are used. */
#define SERIES_BLOCK		256

/*
 * SERIES_BLOCK series' rings, row by row: the week ring's slot i of
 * column c at wperiod[i * SERIES_BLOCK + c], and so on. Mapped zeroed,
 * which is every slot empty (ring_period_code).
 */
struct series_block {
	uint32_t	*wperiod;
	struct bucket	*wbucket;
	uint32_t	*mperiod;
	struct bucket	*mbucket;
};

struct series {
	int		 ind;		/* indicator index */
	int		 office;	/* index, or SERIES_NATIONAL */
	int		 benefit;
	int		 kind;
	size_t		 slot;		/* position in set->series */
	struct ring	 weeks;
	struct ring	 months;
};

struct series_set {
	int		 nind;		/* indicators */
	int		 max_offices;
	int		 nbenefits;
	int		 weeks;
	int		 months;

	int		 noffices;
	char		(*names)[SERIES_NAME_MAX + 1];
	int32_t		*index;		/* name hash: office + 1, 0 free */
	size_t		 index_mask;

	/*
	 * By indicator, then national first, then by office, benefit, kind;
	 * NULL unused.
	 */
	struct series	**series;
	size_t		 nslots;
	int		 nseries;	/* also the next series' column */
	struct series_block *blocks;
	int		 nblocks;
	int		*nseries_in;	/* per indicator */
	uint64_t	 memory;
	uint64_t	 firsts;	/* see series_firsts_changed */
};

/* FNV-1a: office names are short and few, so a simple hash is enough. */
static uint64_t
series_name_hash(const char *name)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *name != '\0'; name++) {
		h ^= (unsigned char)*name;
		h *= 0x100000001b3ULL;
	}
	return h ^ (h >> 32);
}

static size_t
series_slot_of(const struct series_set *set, int ind, int office,
    int benefit, int kind)
{
	return (((size_t)ind * ((size_t)set->max_offices + 1) +
	    (size_t)(office + 1)) * (size_t)set->nbenefits +
	    (size_t)benefit) * DECISION_NKINDS + (size_t)kind;
}

struct series_set *
series_set_create(int max_offices, int nbenefits, int weeks, int months)
{
	return series_set_create_n(1, max_offices, nbenefits, weeks, months);
}

struct series_set *
series_set_create_n(int nindicators, int max_offices, int nbenefits,
    int weeks, int months)
{
	struct series_set *set;
	size_t cap;

	/* Records store the office in 16 bits and the benefit in 8. */
	if (nindicators < 1 || nindicators > INDICATOR_MAX || max_offices < 0 ||
	    max_offices > 0xffff || nbenefits < 1 || nbenefits > 0xff ||
	    weeks < 1 || months < 1)
		fatalx("series: bad sizes (%d indicators, %d offices, "
		    "%d benefits, %d weeks, %d months)", nindicators,
		    max_offices, nbenefits, weeks, months);

	set = xcalloc(1, sizeof *set);
	set->nind = nindicators;
	set->max_offices = max_offices;
	set->nbenefits = nbenefits;
	set->weeks = weeks;
	set->months = months;
	set->names = xcalloc((size_t)max_offices, sizeof *set->names);

	/* At most half full, so linear probes stay short. */
	for (cap = 4; cap < 2 * (size_t)max_offices; cap *= 2)
		;
	set->index = xcalloc(cap, sizeof *set->index);
	set->index_mask = cap - 1;

	set->nslots = series_slot_of(set, nindicators, SERIES_NATIONAL, 0, 0);
	set->series = xcalloc(set->nslots, sizeof *set->series);
	set->nseries_in = xcalloc((size_t)nindicators,
	    sizeof *set->nseries_in);

	set->memory = sizeof *set + (size_t)max_offices * sizeof *set->names +
	    cap * sizeof *set->index + set->nslots * sizeof *set->series +
	    (size_t)nindicators * sizeof *set->nseries_in;
	return set;
}

int
series_set_indicators(const struct series_set *set)
{
	return set->nind;
}

/* What one allocated series costs: its struct and both rings. */
static size_t
series_bytes(const struct series_set *set)
{
	return sizeof (struct series) +
	    ((size_t)set->weeks + (size_t)set->months) *
	    (sizeof (int32_t) + sizeof (struct bucket));
}

/* Slots in each of a block's week and month arrays. */
static size_t
series_block_slots(const struct series_set *set, bool weeks)
{
	return (size_t)(weeks ? set->weeks : set->months) * SERIES_BLOCK;
}

static void
series_blocks_free(struct series_set *set)
{
	size_t w = series_block_slots(set, true);
	size_t m = series_block_slots(set, false);
	int i;

	for (i = 0; i < set->nblocks; i++) {
		struct series_block *bl = &set->blocks[i];

		xunmap(bl->wperiod, w, sizeof *bl->wperiod);
		xunmap(bl->wbucket, w, sizeof *bl->wbucket);
		xunmap(bl->mperiod, m, sizeof *bl->mperiod);
		xunmap(bl->mbucket, m, sizeof *bl->mbucket);
	}
	free(set->blocks);
	set->blocks = NULL;
	set->nblocks = 0;
}

/* The block holding column c, mapped when it is the first of its block. */
static struct series_block *
series_block_of(struct series_set *set, int c)
{
	size_t w = series_block_slots(set, true);
	size_t m = series_block_slots(set, false);
	struct series_block *bl;

	if (c / SERIES_BLOCK < set->nblocks)
		return &set->blocks[c / SERIES_BLOCK];
	set->blocks = xreallocarray(set->blocks, (size_t)set->nblocks + 1,
	    sizeof *set->blocks);
	bl = &set->blocks[set->nblocks++];
	bl->wperiod = xmap(w, sizeof *bl->wperiod);
	bl->wbucket = xmap(w, sizeof *bl->wbucket);
	bl->mperiod = xmap(m, sizeof *bl->mperiod);
	bl->mbucket = xmap(m, sizeof *bl->mbucket);
	return bl;
}

/* Back to the state series_set_create left: no offices, no series. */
static void
series_set_clear(struct series_set *set)
{
	size_t i;

	for (i = 0; i < set->nslots; i++) {
		if (set->series[i] == NULL)
			continue;
		set->memory -= series_bytes(set);
		free(set->series[i]);
		set->series[i] = NULL;
	}
	series_blocks_free(set);
	set->nseries = 0;
	memset(set->nseries_in, 0, (size_t)set->nind *
	    sizeof *set->nseries_in);
	memset(set->index, 0, (set->index_mask + 1) * sizeof *set->index);
	memset(set->names, 0, (size_t)set->max_offices * sizeof *set->names);
	set->noffices = 0;
}

void
series_set_free(struct series_set *set)
{
	if (set == NULL)
		return;
	series_set_clear(set);
	free(set->series);
	free(set->nseries_in);
	free(set->index);
	free(set->names);
	free(set);
}

/* Probe for name: the office index, or SERIES_UNKNOWN with *pos free. */
static int
series_office_find(const struct series_set *set, const char *name,
    size_t *pos)
{
	size_t i = (size_t)series_name_hash(name) & set->index_mask;

	while (set->index[i] != 0) {
		int office = set->index[i] - 1;

		if (strcmp(set->names[office], name) == 0)
			return office;
		i = (i + 1) & set->index_mask;
	}
	*pos = i;
	return SERIES_UNKNOWN;
}

int
series_office_lookup(const struct series_set *set, const char *name)
{
	size_t len = strlen(name), pos = 0;

	if (strcmp(name, SERIES_NATIONAL_NAME) == 0)
		return SERIES_NATIONAL;
	if (len < 1 || len > SERIES_NAME_MAX)
		return SERIES_UNKNOWN;
	return series_office_find(set, name, &pos);
}

int
series_office_index(struct series_set *set, const char *name, bool create)
{
	size_t len = strlen(name), pos = 0;
	int office;

	if (strcmp(name, SERIES_NATIONAL_NAME) == 0)
		return SERIES_NATIONAL;
	if (len < 1 || len > SERIES_NAME_MAX)
		return SERIES_UNKNOWN;
	office = series_office_find(set, name, &pos);
	if (office != SERIES_UNKNOWN || !create ||
	    set->noffices == set->max_offices)
		return office;

	office = set->noffices++;
	memcpy(set->names[office], name, len + 1);
	set->index[pos] = office + 1;
	return office;
}

bool
series_office_valid(const struct series_set *set, int office)
{
	return office == SERIES_NATIONAL ||
	    (office >= 0 && office < set->noffices);
}

const char *
series_office_name(const struct series_set *set, int office)
{
	if (office == SERIES_NATIONAL)
		return SERIES_NATIONAL_NAME;
	if (office < 0 || office >= set->noffices)
		return NULL;
	return set->names[office];
}

int
series_office_count(const struct series_set *set)
{
	return set->noffices;
}

static void
ring_init(struct ring *rg, int32_t size, uint32_t *period,
    struct bucket *bucket, size_t stride)
{
	rg->size = size;
	rg->last = SERIES_EMPTY;
	rg->first = SERIES_EMPTY;
	rg->stride = stride;
	rg->period = period;
	rg->bucket = bucket;
}

/*
 * A slot's period as stored, flipped in its top bit so that SERIES_EMPTY
 * (INT32_MIN) is 0, as a zeroed block holds; the flip is its own inverse.
 */
static uint32_t
ring_period_code(uint32_t p)
{
	return p ^ 0x80000000U;
}

static int32_t
ring_period(const struct ring *rg, size_t i)
{
	return (int32_t)ring_period_code(rg->period[i * rg->stride]);
}

static void
ring_set_period(struct ring *rg, size_t i, int32_t p)
{
	rg->period[i * rg->stride] = ring_period_code((uint32_t)p);
}

static struct bucket *
ring_bucket(const struct ring *rg, size_t i)
{
	return &rg->bucket[i * rg->stride];
}

static size_t
ring_index(const struct ring *rg, int32_t p)
{
	int32_t i = p % rg->size;

	return (size_t)(i < 0 ? i + rg->size : i);
}

/* The oldest period the ring can still hold. */
static int64_t
ring_oldest(const struct ring *rg)
{
	return (int64_t)rg->last - rg->size + 1;
}

static bool
ring_too_old(const struct ring *rg, int32_t p)
{
	return rg->last != SERIES_EMPTY && p < ring_oldest(rg);
}

/*
 * The bucket for period p, which must not be too old: a newer period
 * moves the ring on and frees the slots of periods that fall out.
 */
static struct bucket *
ring_take(struct ring *rg, int32_t p)
{
	struct bucket *b;
	int64_t k, n;
	size_t i;

	if (rg->last == SERIES_EMPTY)
		rg->last = p;
	else if (p > rg->last) {
		n = (int64_t)p - rg->last;
		if (n > rg->size)
			n = rg->size;
		for (k = 1; k <= n; k++)
			ring_set_period(rg, ring_index(rg,
			    (int32_t)(rg->last + k)), SERIES_EMPTY);
		rg->last = p;
	}
	i = ring_index(rg, p);
	b = ring_bucket(rg, i);
	if (ring_period(rg, i) != p) {
		ring_set_period(rg, i, p);
		memset(b, 0, sizeof *b);
	}
	/*
	 * The oldest period held, kept as it changes so that a week close
	 * need not search every ring: only a move past it looks again, and
	 * then finds p at the latest.
	 */
	if (rg->first == SERIES_EMPTY || p < rg->first)
		rg->first = p;
	else if (rg->first < ring_oldest(rg)) {
		for (k = ring_oldest(rg); k <= rg->last; k++)
			if (ring_period(rg, ring_index(rg, (int32_t)k)) == k)
				break;
		rg->first = (int32_t)k;
	}
	return b;
}

static const struct bucket *
ring_get(const struct ring *rg, int32_t p)
{
	size_t i;

	if (rg->last == SERIES_EMPTY || p == SERIES_EMPTY)
		return NULL;
	i = ring_index(rg, p);
	return ring_period(rg, i) == p ? ring_bucket(rg, i) : NULL;
}

/* INT32_MIN when empty: SERIES_EMPTY is INT32_MIN. */
static int32_t
ring_first(const struct ring *rg)
{
	return rg->first;
}

static void
bucket_sum(struct bucket *out, const struct bucket *b)
{
	out->n += b->n;
	out->rejected += b->rejected;
	out->partial += b->partial;
	out->dismissed += b->dismissed;
	out->expected += b->expected;
	out->variance += b->variance;
}

static void
bucket_count(struct bucket *b, int outcome, double p)
{
	switch (outcome) {
	case OUTCOME_DISMISSED:
		b->dismissed++;
		return;
	case OUTCOME_REJECTED:
		b->rejected++;
		break;
	case OUTCOME_PARTIAL:
		b->partial++;
		break;
	}
	b->n++;
	if (p >= 0) {
		b->expected += p;
		b->variance += p * (1 - p);
	}
}

static struct series *
series_new(struct series_set *set, int ind, int office, int benefit,
    int kind)
{
	struct series *s = xcalloc(1, sizeof *s);
	struct series_block *bl;
	size_t c;

	s->ind = ind;
	s->office = office;
	s->benefit = benefit;
	s->kind = kind;
	s->slot = series_slot_of(set, ind, office, benefit, kind);
	bl = series_block_of(set, set->nseries);
	c = (size_t)(set->nseries % SERIES_BLOCK);
	ring_init(&s->weeks, set->weeks, bl->wperiod + c, bl->wbucket + c,
	    SERIES_BLOCK);
	ring_init(&s->months, set->months, bl->mperiod + c, bl->mbucket + c,
	    SERIES_BLOCK);
	set->series[s->slot] = s;
	set->nseries++;
	set->nseries_in[ind]++;
	set->firsts++;
	set->memory += series_bytes(set);
	return s;
}

static bool
series_refuses(const struct series *s, int32_t week, int32_t month)
{
	return s != NULL && (ring_too_old(&s->weeks, week) ||
	    ring_too_old(&s->months, month));
}

/* Whether (ind, office, benefit, kind, week, month) can be counted at all. */
static bool
series_args_valid(const struct series_set *set, int ind, int office,
    int benefit, int kind, int32_t week, int32_t month)
{
	/* The national series is only ever the sum of the offices. */
	return ind >= 0 && ind < set->nind && office >= 0 &&
	    office < set->noffices && benefit >= 0 &&
	    benefit < set->nbenefits && kind >= 0 && kind < DECISION_NKINDS &&
	    week != SERIES_EMPTY && month != SERIES_EMPTY;
}

int
series_add(struct series_set *set, int office, int benefit, int kind,
    int32_t week, int32_t month, int outcome, double p)
{
	return series_add_in(set, 0, office, benefit, kind, week, month,
	    outcome, p);
}

int
series_add_in(struct series_set *set, int ind, int office, int benefit,
    int kind, int32_t week, int32_t month, int outcome, double p)
{
	struct series *so, *sn;

	if (!series_args_valid(set, ind, office, benefit, kind, week, month) ||
	    outcome < OUTCOME_GRANTED || outcome > OUTCOME_DISMISSED)
		return -1;

	/* Check both before touching either, so that they never disagree. */
	so = set->series[series_slot_of(set, ind, office, benefit, kind)];
	sn = set->series[series_slot_of(set, ind, SERIES_NATIONAL, benefit,
	    kind)];
	if (series_refuses(so, week, month) || series_refuses(sn, week, month))
		return -1;
	if (so == NULL)
		so = series_new(set, ind, office, benefit, kind);
	if (sn == NULL)
		sn = series_new(set, ind, SERIES_NATIONAL, benefit, kind);
	/* Late history before a series' first week moves it (ring_take). */
	if (week < ring_first(&so->weeks) || week < ring_first(&sn->weeks))
		set->firsts++;

	bucket_count(ring_take(&so->weeks, week), outcome, p);
	bucket_count(ring_take(&so->months, month), outcome, p);
	bucket_count(ring_take(&sn->weeks, week), outcome, p);
	bucket_count(ring_take(&sn->months, month), outcome, p);
	return 0;
}

bool
series_refuses_in(const struct series_set *set, int ind, int office,
    int benefit, int kind, int32_t week, int32_t month)
{
	if (!series_args_valid(set, ind, office, benefit, kind, week, month))
		return true;
	return series_refuses(set->series[series_slot_of(set, ind, office,
	    benefit, kind)], week, month) ||
	    series_refuses(set->series[series_slot_of(set, ind,
	    SERIES_NATIONAL, benefit, kind)], week, month);
}

const struct series *
series_get(const struct series_set *set, int office, int benefit, int kind)
{
	return series_get_in(set, 0, office, benefit, kind);
}

const struct series *
series_get_in(const struct series_set *set, int ind, int office, int benefit,
    int kind)
{
	if (ind < 0 || ind >= set->nind || office < SERIES_NATIONAL ||
	    office >= set->noffices || benefit < 0 ||
	    benefit >= set->nbenefits || kind < 0 || kind >= DECISION_NKINDS)
		return NULL;
	return set->series[series_slot_of(set, ind, office, benefit, kind)];
}

int
series_indicator(const struct series *s)
{
	return s->ind;
}

int
series_count_in(const struct series_set *set, int ind)
{
	if (ind < 0 || ind >= set->nind)
		return 0;
	return set->nseries_in[ind];
}

int
series_office(const struct series *s)
{
	return s->office;
}

int
series_benefit(const struct series *s)
{
	return s->benefit;
}

int
series_kind(const struct series *s)
{
	return s->kind;
}

/* The first allocated series at or after slot i. */
static const struct series *
series_from(const struct series_set *set, size_t i)
{
	for (; i < set->nslots; i++) {
		if (set->series[i] != NULL)
			return set->series[i];
	}
	return NULL;
}

const struct series *
series_first(const struct series_set *set)
{
	return series_from(set, 0);
}

const struct series *
series_next(const struct series_set *set, const struct series *s)
{
	return series_from(set, s->slot + 1);
}

uint64_t
series_firsts_changed(const struct series_set *set)
{
	return set->firsts;
}

int
series_count(const struct series_set *set)
{
	return set->nseries;
}

const struct bucket *
series_week(const struct series *s, int32_t week)
{
	return s == NULL ? NULL : ring_get(&s->weeks, week);
}

const struct bucket *
series_month(const struct series *s, int32_t month)
{
	return s == NULL ? NULL : ring_get(&s->months, month);
}

int32_t
series_last_week(const struct series *s)
{
	return s == NULL ? INT32_MIN : s->weeks.last;
}

int32_t
series_first_week(const struct series *s)
{
	return s == NULL ? INT32_MIN : ring_first(&s->weeks);
}

int32_t
series_last_month(const struct series *s)
{
	return s == NULL ? INT32_MIN : s->months.last;
}

int32_t
series_first_month(const struct series *s)
{
	return s == NULL ? INT32_MIN : ring_first(&s->months);
}

void
series_sum_weeks(const struct series *s, int32_t last, int count,
    struct bucket *out)
{
	const struct bucket *b;
	int64_t p, from;

	memset(out, 0, sizeof *out);
	if (s == NULL || count <= 0 || s->weeks.last == SERIES_EMPTY)
		return;
	/* Only weeks still in the ring can be present: clip to it. */
	from = (int64_t)last - count + 1;
	if (from < ring_oldest(&s->weeks))
		from = ring_oldest(&s->weeks);
	for (p = from; p <= last && p <= s->weeks.last; p++) {
		if ((b = ring_get(&s->weeks, (int32_t)p)) != NULL)
			bucket_sum(out, b);
	}
}

void
series_total(const struct series *s, struct bucket *out)
{
	int32_t i;

	memset(out, 0, sizeof *out);
	if (s == NULL)
		return;
	for (i = 0; i < s->weeks.size; i++) {
		if (ring_period(&s->weeks, (size_t)i) != SERIES_EMPTY)
			bucket_sum(out, ring_bucket(&s->weeks, (size_t)i));
	}
}

uint64_t
series_set_memory(const struct series_set *set)
{
	return set->memory;
}

/* Buckets of a ring, oldest first, so that a load can replay them. */
static void
ring_save(const struct ring *rg, struct buf *b)
{
	const struct bucket *bk;
	unsigned char *x;
	uint32_t n = 0;
	int64_t p;
	int32_t i;

	for (i = 0; i < rg->size; i++) {
		if (ring_period(rg, (size_t)i) != SERIES_EMPTY)
			n++;
	}
	buf_put_u32(b, n);
	if (n == 0)
		return;
	for (p = ring_oldest(rg); p <= rg->last; p++) {
		if ((bk = ring_get(rg, (int32_t)p)) == NULL)
			continue;
		/* Room made once for the bucket: millions in a checkpoint. */
		x = buf_room(b, SERIES_SAVE_BUCKET);
		x = buf_store_u32(x, (uint32_t)(int32_t)p);
		x = buf_store_u32(x, bk->n);
		x = buf_store_u32(x, bk->rejected);
		x = buf_store_u32(x, bk->partial);
		x = buf_store_u32(x, bk->dismissed);
		x = buf_store_double(x, bk->expected);
		buf_stored(b, buf_store_double(x, bk->variance));
	}
}

void
series_set_save(const struct series_set *set, struct buf *b)
{
	const struct series *s;
	int i;

	buf_put_u32(b, SERIES_SAVE_VERSION);
	buf_put_u32(b, (uint32_t)set->noffices);
	for (i = 0; i < set->noffices; i++)
		buf_put_str(b, set->names[i]);
	buf_put_u32(b, (uint32_t)set->nseries);
	for (s = series_first(set); s != NULL; s = series_next(set, s)) {
		buf_put_u32(b, (uint32_t)s->ind);
		if (s->office == SERIES_NATIONAL)
			buf_put_u32(b, SERIES_SAVE_NATIONAL);
		else
			buf_put_u32(b, (uint32_t)s->office);
		buf_put_u32(b, (uint32_t)s->benefit);
		buf_put_u32(b, (uint32_t)s->kind);
		ring_save(&s->weeks, b);
		ring_save(&s->months, b);
	}
}

static int
series_load_names(struct series_set *set, struct buf_reader *r,
    char **cause)
{
	char name[SERIES_NAME_MAX + 1];
	const unsigned char *p;
	uint32_t n, i, len;
	size_t pos = 0;

	if (buf_get_u32(r, &n) == -1)
		goto truncated;
	if (n > (uint32_t)set->max_offices) {
		*cause = xasprintf("series: checkpoint has %u offices, "
		    "max_offices is %d", n, set->max_offices);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (buf_get_u32(r, &len) == -1)
			goto truncated;
		if (len < 1 || len > SERIES_NAME_MAX) {
			*cause = xasprintf("series: office %u: bad name length "
			    "%u", i, len);
			return -1;
		}
		if ((p = buf_get_bytes(r, len)) == NULL)
			goto truncated;
		memcpy(name, p, len);
		name[len] = '\0';
		if (strlen(name) != len ||
		    strcmp(name, SERIES_NATIONAL_NAME) == 0 ||
		    series_office_find(set, name, &pos) != SERIES_UNKNOWN) {
			*cause = xasprintf("series: office %u: bad or repeated "
			    "name", i);
			return -1;
		}
		if (series_office_index(set, name, true) != (int)i)
			fatalx("series: office table out of step on load");
	}
	return 0;

truncated:
	*cause = xstrdup("series: checkpoint is truncated");
	return -1;
}

/*
 * Read one ring's buckets, oldest first, replaying them through ring_take
 * so that a smaller ring drops what no longer fits.
 */
static int
ring_load(struct ring *rg, struct buf_reader *r, const char *what,
    char **cause)
{
	struct bucket bk, *to;
	uint32_t n, i, u;
	int64_t prev = INT64_MIN;
	int32_t p;

	if (buf_get_u32(r, &n) == -1)
		goto truncated;
	if (n == 0) {
		*cause = xasprintf("series: %s: no buckets", what);
		return -1;
	}
	if ((uint64_t)n * SERIES_SAVE_BUCKET > r->left)
		goto truncated;
	for (i = 0; i < n; i++) {
		buf_get_u32(r, &u);
		buf_get_u32(r, &bk.n);
		buf_get_u32(r, &bk.rejected);
		buf_get_u32(r, &bk.partial);
		buf_get_u32(r, &bk.dismissed);
		buf_get_double(r, &bk.expected);
		if (buf_get_double(r, &bk.variance) == -1)
			goto truncated;
		p = (int32_t)u;
		if (p == SERIES_EMPTY || p <= prev) {
			*cause = xasprintf("series: %s: periods out of order",
			    what);
			return -1;
		}
		prev = p;
		if ((uint64_t)bk.rejected + bk.partial > bk.n ||
		    (bk.n == 0 && bk.dismissed == 0) ||
		    !isfinite(bk.expected) || !isfinite(bk.variance)) {
			*cause = xasprintf("series: %s: bad bucket for period "
			    "%d", what, p);
			return -1;
		}
		to = ring_take(rg, p);
		*to = bk;
	}
	return 0;

truncated:
	*cause = xstrdup("series: checkpoint is truncated");
	return -1;
}

static int
series_load_one(struct series_set *set, struct buf_reader *r,
    uint32_t version, char **cause)
{
	uint32_t ind = 0, office, benefit, kind;
	struct series *s;
	int o;

	/* Version 1 knew only the rejection rate, indicator 0. */
	if (version >= 2 && buf_get_u32(r, &ind) == -1) {
		*cause = xstrdup("series: checkpoint is truncated");
		return -1;
	}
	if (ind >= (uint32_t)set->nind) {
		*cause = xasprintf("series: checkpoint has a series of "
		    "indicator %u, %d configured", ind, set->nind);
		return -1;
	}
	buf_get_u32(r, &office);
	buf_get_u32(r, &benefit);
	if (buf_get_u32(r, &kind) == -1) {
		*cause = xstrdup("series: checkpoint is truncated");
		return -1;
	}
	o = office == SERIES_SAVE_NATIONAL ? SERIES_NATIONAL : (int)office;
	if ((office != SERIES_SAVE_NATIONAL &&
	    office >= (uint32_t)set->noffices) ||
	    benefit >= (uint32_t)set->nbenefits || kind >= DECISION_NKINDS) {
		*cause = xasprintf("series: bad series (office %u, benefit %u, "
		    "kind %u)", office, benefit, kind);
		return -1;
	}
	if (set->series[series_slot_of(set, (int)ind, o, (int)benefit,
	    (int)kind)] != NULL) {
		*cause = xasprintf("series: repeated series (indicator %u, "
		    "office %u, benefit %u, kind %u)", ind, office, benefit,
		    kind);
		return -1;
	}
	s = series_new(set, (int)ind, o, (int)benefit, (int)kind);
	if (ring_load(&s->weeks, r, "weeks", cause) == -1 ||
	    ring_load(&s->months, r, "months", cause) == -1)
		return -1;
	return 0;
}

int
series_set_load(struct series_set *set, struct buf_reader *r, char **cause)
{
	uint32_t version, n, i;

	if (set->noffices != 0 || set->nseries != 0) {
		*cause = xstrdup("series: load into a set in use");
		return -1;
	}
	if (buf_get_u32(r, &version) == -1) {
		*cause = xstrdup("series: checkpoint is truncated");
		return -1;
	}
	if (version < 1 || version > SERIES_SAVE_VERSION) {
		*cause = xasprintf("series: unknown format %u", version);
		return -1;
	}
	if (series_load_names(set, r, cause) == -1)
		goto fail;
	if (buf_get_u32(r, &n) == -1) {
		*cause = xstrdup("series: checkpoint is truncated");
		goto fail;
	}
	if (n > set->nslots) {
		*cause = xasprintf("series: checkpoint has %u series", n);
		goto fail;
	}
	for (i = 0; i < n; i++) {
		if (series_load_one(set, r, version, cause) == -1)
			goto fail;
	}
	return 0;

fail:
	/* Leave the set empty rather than half loaded. */
	series_set_clear(set);
	return -1;
}
