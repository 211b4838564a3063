/*
 * The simulated agency behind stabild-sim: offices, benefits, case mix, a
 * logistic rejection model with season, office effects, weekly
 * overdispersion and injected drift. Deterministic for a seed; no I/O.
 */

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "simmodel.h"

#define SIM_TWO_PI		6.283185307179586
#define SIM_GOLDEN		0x9e3779b97f4a7c15ULL

/* Hash tags: each random quantity keyed by what it belongs to. */
#define SIM_TAG_EVENT		1
#define SIM_TAG_OFFICE		2
#define SIM_TAG_ALPHA		3
#define SIM_TAG_REGION		4
#define SIM_TAG_DEV		5
#define SIM_TAG_NATDEV		6
#define SIM_TAG_VOLUME		7
#define SIM_TAG_CALIBRATE	8
#define SIM_TAG_ORDER		9
#define SIM_TAG_TALPHA		10	/* office effect of another target */
#define SIM_TAG_TDEV		11	/* its weekly noise */
#define SIM_TAG_CHILD		12	/* the draws of the other event kinds */

/*
 * The other event kinds draw from generators keyed off this salt, never
 * from the decisions' own, so that a run without them sends exactly the
 * stream it always did, and a run with them the same decisions.
 */
#define SIM_EVENTS_SALT		0x6576656e74734b31ULL

#define SIM_SLOTS		(7 * 24)	/* local hours of a week */
#define SIM_NAGES		6	/* 0 missing, then five bands */
#define SIM_NSEXES		4
#define SIM_NCHAPTERS		27	/* 0 missing, 1..26 'A'..'Z' */
#define SIM_NBANDS		7	/* 0 missing, then six case-day bands */
#define SIM_NEMPLOYMENTS	6
#define SIM_NCARES		3
#define SIM_NCELLS		(SIM_NBENEFITS * SIM_NKINDS)

#define SIM_DISMISSED_P		0.02	/* of all decisions */
#define SIM_PARTIAL_P		0.05	/* of those not rejected */
#define SIM_DUP_MAXDELAY	50	/* a duplicate follows 1..50 events later */
#define SIM_CALIBRATE_N		20000

/*
 * The other event kinds (plan of the indicators): shares and base rates.
 * A reconsideration follows some rejections and partial grants later in
 * the week, an appeal some unchanged reconsiderations, an assessment some
 * sick-pay decisions at a time point of the rehabilitation chain.
 */
#define SIM_SUPP_PRESENT	0.95	/* decisions saying supplement_requested */
#define SIM_RECON_OF_REJECTED	0.10
#define SIM_RECON_OF_PARTIAL	0.03
#define SIM_APPEAL_OF_UNCHANGED	0.30
#define SIM_ASSESS_OF_SICKPAY	0.25
#define SIM_COURT_PRESENT	0.90

/* Bits of simrec.empty: a missing optional attribute sent as "". */
#define SIM_EMPTY_AGE		0x01
#define SIM_EMPTY_SEX		0x02
#define SIM_EMPTY_DIAG		0x04
#define SIM_EMPTY_CASEDAY	0x08
#define SIM_EMPTY_EMPLOYMENT	0x10
#define SIM_EMPTY_CARE		0x20
#define SIM_EMPTY_REGION	0x40

/* How a timestamp is written (simrec.tsform). */
enum sim_tsform { SIM_TSF_UNIX, SIM_TSF_LOCAL, SIM_TSF_Z };

/* Ways to break an event (simrec.malformed; 0 is intact). */
enum sim_defect {
	SIM_DEF_NONE = 0,
	SIM_DEF_MISSING,	/* a required field left out */
	SIM_DEF_OUTCOME,	/* outcome not one of the four */
	SIM_DEF_TIME,		/* decided_at unparseable */
	SIM_DEF_CASEDAY,	/* case_day not an integer 1..3000 */
	SIM_DEF_OFFICE,		/* office with bad characters or too long */
	SIM_DEF_BENEFIT,	/* benefit not in the list */
	SIM_DEF_ID,		/* id too long or with bad characters */
	SIM_DEF_KIND,		/* kind not first/ongoing */
	/* The other event kinds' defects, drawn only when they are on. */
	SIM_DEF_EVENT,		/* event not a known kind */
	SIM_DEF_FOREIGN,	/* an outcome of another kind */
	SIM_DEF_CHECKPOINT,	/* assessment: checkpoint missing or bad */
	SIM_DEF_SUPPLEMENT,	/* supplement_requested not yes/no */
};
#define SIM_NDEFECTS 8		/* the decisions' own, drawn as always */

/* Fields of an entry in the order they are sent. */
enum sim_field {
	SIM_F_ID, SIM_F_OFFICE, SIM_F_BENEFIT, SIM_F_KIND, SIM_F_OUTCOME,
	SIM_F_DECIDED_AT, SIM_F_AGE, SIM_F_SEX, SIM_F_DIAGNOSIS, SIM_F_CASEDAY,
	SIM_F_EMPLOYMENT, SIM_F_CARE, SIM_F_REGION,
	SIM_F_EVENT, SIM_F_DETAIL, SIM_F_COURT,	/* other kinds, supplement */
};
#define SIM_NFIELDS 16

/* One simulated decision before it is written out. */
struct simrec {
	int64_t		 t;		/* decided_at, Unix seconds */
	double		 p;
	double		 p0;
	uint64_t	 seq;
	uint64_t	 due;		/* duplicates: primaries sent before it */
	int32_t		 week;
	int32_t		 gmtoff;	/* local offset of t, seconds */
	uint32_t	 idx;		/* draw order within the week */
	uint16_t	 office;
	uint16_t	 case_day;	/* 0 missing */
	uint16_t	 frac;		/* milliseconds shown, 0 none */
	uint16_t	 variant;	/* picks the form of a defect */
	uint8_t		 benefit;
	uint8_t		 kind;
	uint8_t		 outcome;
	uint8_t		 age;		/* 0 missing */
	uint8_t		 sex;		/* 0 missing */
	uint8_t		 chapter;	/* 0 missing, 1..26 */
	uint8_t		 diagform;	/* 0 "F", 1 "F32", 2 "F32.1" */
	uint8_t		 diagnum;	/* 0..99 */
	uint8_t		 diagsub;	/* 0..9 */
	uint8_t		 band;		/* 0 missing, 1..6 */
	uint8_t		 employment;	/* 0 missing */
	uint8_t		 care;		/* 0 missing */
	uint8_t		 region_missing;
	uint8_t		 empty;		/* SIM_EMPTY_* bits */
	uint8_t		 tsform;	/* enum sim_tsform */
	uint8_t		 malformed;	/* enum sim_defect */
	uint8_t		 dup;		/* is sent again later */
	uint8_t		 dupdelay;	/* 1..SIM_DUP_MAXDELAY */
	/* The other event kinds (all 0 for a plain decision). */
	uint8_t		 event;		/* enum sim_eventkind */
	uint8_t		 detail;	/* decision.h's numbers, 0 none */
	uint8_t		 court;		/* appeal: 1 + index, 0 none */
	uint8_t		 slot;		/* hour of the week it falls in */
	uint32_t	 parent;	/* idx of the decision it is about */
	double		 q;		/* P(yes); a decision's: supplement */
	double		 q0;
};

/* Case-mix distributions in force for a week (they move with shifts). */
struct simmix {
	double		 chapter_cdf[SIM_NCHAPTERS - 1];
	double		 band_cdf[SIM_NCELLS][SIM_NBANDS - 1];
};

/* xoshiro256** state. */
struct simrng {
	uint64_t	 s[4];
};

struct sim {
	struct sim_options o;
	uint64_t	 key;		/* from the seed */
	int		 start_days;	/* local date of the start, days since epoch */

	char		(*names)[SIM_OFFICEMAX];
	double		*office_cdf;
	double		*alpha;
	const char	**region;
	double		 intercept[SIM_NCELLS];
	double		 slot_cdf[SIM_SLOTS];
	/* The other targets: intercepts, office effects, effects in force. */
	double		 tintercept[SIM_NTARGETS][SIM_NCELLS];
	double		*talpha[SIM_NTARGETS];	/* K each */
	double		*teff[SIM_NTARGETS];	/* K x cells each */
	uint64_t	*seq_of;	/* a week's decisions' seq by idx */
	uint32_t	 nchildren;	/* other events drawn this week */

	/* The week being sent. */
	int		 week;
	int64_t		 slot_t[SIM_SLOTS];
	int32_t		 slot_off[SIM_SLOTS];
	double		 season;
	struct simmix	 mix;
	double		*eff;		/* K x cells: alpha + noise + drift */
	struct simrec	*recs;
	size_t		 nrecs;
	size_t		 caprecs;
	size_t		 next;
	uint32_t	*volume;	/* events per week */

	/* Duplicates waiting to be sent again: a heap by due. */
	struct simrec	*heap;
	int		 nheap;
	uint64_t	 primaries;
	uint64_t	 seq;
	struct simrec	 popped;	/* the duplicate being sent */

	/* Orders other than time: the whole run, drawn at creation. */
	struct simrec	*all;
	size_t		 nall;
	size_t		 allnext;
	int		 dup_pending;	/* all[allnext - 1] goes again */
};

static const char *sim_benefits[SIM_NBENEFITS] = {
	"sjukpenning", "rehabiliteringsersattning", "sjukersattning",
	"aktivitetsersattning",
};
/* Share of national volume, share of first decisions, target rates. */
static const double sim_benefit_share[SIM_NBENEFITS] = {
	0.80, 0.05, 0.10, 0.05,
};
static const double sim_first_share[SIM_NBENEFITS] = {
	0.40, 0.50, 0.60, 0.50,
};
static const double sim_target_rate[SIM_NBENEFITS][SIM_NKINDS] = {
	{ 0.07, 0.10 }, { 0.05, 0.04 }, { 0.45, 0.20 }, { 0.40, 0.25 },
};

static const char *sim_kinds[SIM_NKINDS] = { "first", "ongoing" };
static const char *sim_outcomes[4] = {
	"granted", "rejected", "partial", "dismissed",
};

static const char *sim_ages[SIM_NAGES] = {
	"", "16-29", "30-39", "40-49", "50-59", "60-",
};

static const char *sim_orders[SIM_NORDERS] = {
	"time", "shuffled", "office", "benefit",
};
static const double sim_age_dist[SIM_NBENEFITS][SIM_NAGES - 1] = {
	{ 0.15, 0.22, 0.25, 0.25, 0.13 },
	{ 0.15, 0.22, 0.25, 0.25, 0.13 },
	{ 0.03, 0.12, 0.22, 0.35, 0.28 },
	{ 1.00, 0.00, 0.00, 0.00, 0.00 },
};
static const double sim_age_eff[SIM_NAGES] = {
	0.10, 0.15, 0.0, 0.0, -0.05, -0.20,
};

static const char *sim_sexes[SIM_NSEXES] = { "", "f", "m", "x" };
static const double sim_sex_cdf[SIM_NSEXES - 1] = { 0.62, 0.995, 1.0 };
static const double sim_sex_eff[SIM_NSEXES] = { 0.05, 0.0, 0.05, 0.0 };

/* Diagnosis chapters 'A'..'Z': F and M dominate. */
static const double sim_chapter_w[SIM_NCHAPTERS - 1] = {
	0.005, 0.005, 0.05, 0.01, 0.01, 0.38, 0.05, 0.01, 0.04, 0.03,
	0.02, 0.005, 0.22, 0.02, 0.03, 0.0, 0.003, 0.04, 0.06, 0.01,
	0.0, 0.0, 0.0, 0.0, 0.0, 0.02,
};
static const double sim_chapter_eff[SIM_NCHAPTERS] = {
	0.25,						/* missing */
	0.0, 0.0, -0.9, 0.0, 0.0, 0.45, -0.2, 0.0, -0.3, 0.0,	/* A..J */
	0.0, 0.0, 0.2, 0.0, -0.2, 0.0, 0.0, 0.35, -0.3, 0.0,	/* K..T */
	0.0, 0.0, 0.0, 0.0, 0.0, 0.5,				/* U..Z */
};
static const uint8_t sim_f_codes[8] = { 32, 43, 41, 33, 48, 31, 20, 60 };
static const uint8_t sim_m_codes[8] = { 54, 79, 51, 75, 17, 16, 47, 77 };

/* Case-day bands 1-14, 15-90, 91-180, 181-365, 366-550, 551+. */
static const int sim_band_lo[SIM_NBANDS] = { 0, 1, 15, 91, 181, 366, 551 };
static const int sim_band_hi[SIM_NBANDS] = { 0, 14, 90, 180, 365, 550, 3000 };
static const double sim_band_w[SIM_NCELLS][SIM_NBANDS - 1] = {
	{ 0.35, 0.55, 0.06, 0.03, 0.007, 0.003 },	/* sjukpenning first */
	{ 0.02, 0.38, 0.25, 0.20, 0.09, 0.06 },		/* ongoing */
	{ 0.10, 0.45, 0.20, 0.15, 0.06, 0.04 },		/* rehabilitering */
	{ 0.02, 0.30, 0.28, 0.22, 0.10, 0.08 },
	{ 0.01, 0.04, 0.10, 0.20, 0.25, 0.40 },		/* sjukersattning */
	{ 0.01, 0.02, 0.05, 0.12, 0.20, 0.60 },
	{ 0.05, 0.10, 0.15, 0.20, 0.20, 0.30 },		/* aktivitets */
	{ 0.02, 0.05, 0.08, 0.15, 0.20, 0.50 },
};
static const double sim_band_eff[SIM_NBANDS] = {
	0.20, -0.40, 0.0, 0.25, 0.70, 0.85, 1.00,
};

static const char *sim_employments[SIM_NEMPLOYMENTS] = {
	"", "employed", "unemployed", "self_employed", "student", "other",
};
static const double sim_employment_cdf[2][SIM_NEMPLOYMENTS - 1] = {
	{ 0.72, 0.86, 0.91, 0.94, 1.0 },	/* sick pay, rehabilitation */
	{ 0.25, 0.60, 0.63, 0.75, 1.0 },	/* activity and sickness comp. */
};
static const double sim_employment_eff[SIM_NEMPLOYMENTS] = {
	0.10, 0.0, 0.35, 0.25, 0.20, 0.15,
};

static const char *sim_cares[SIM_NCARES] = { "", "primary", "specialist" };
static const double sim_care_eff[SIM_NCARES] = { 0.20, 0.0, -0.50 };

/* Fractions of each optional attribute that are missing. */
#define SIM_MISS_AGE		0.03
#define SIM_MISS_SEX		0.02
#define SIM_MISS_DIAG		0.05
#define SIM_MISS_CASEDAY	0.04
#define SIM_MISS_EMPLOYMENT	0.06
#define SIM_MISS_CARE		0.08
#define SIM_MISS_REGION		0.01

/* County codes the offices belong to. */
static const char *sim_regions[] = {
	"01", "03", "04", "05", "06", "07", "08", "09", "10", "12", "13",
	"14", "17", "18", "19", "20", "21", "22", "23", "24", "25",
};
#define SIM_NREGIONS (sizeof sim_regions / sizeof sim_regions[0])

static const char *sim_field_names[SIM_NFIELDS] = {
	"id", "office", "benefit", "kind", "outcome", "decided_at", "age_band",
	"sex", "diagnosis", "case_day", "employment", "care", "region",
	"event", NULL, "court",	/* the detail's name is the event's */
};
static const char *sim_detail_fields[SIM_NEVENTS] = {
	"supplement_requested", "changed_to", NULL, "checkpoint",
};
static const char *sim_missing_defects[6] = {
	"missing id", "missing office", "missing benefit", "missing kind",
	"missing outcome", "missing decided_at",
};

static const char *sim_bad_outcomes[] = { "approved", "denied", "avslag", "" };
static const char *sim_bad_times[] = {
	"yesterday", "2015-13-45T10:00:00+01:00", "1420070400abc", "",
	"T10:00:00Z",
};
static const char *sim_bad_case_days[] = {
	"0", "3001", "-7", "12a", "99999999999999999999",
};
static const char *sim_bad_benefits[] = {
	"foraldrapenning", "sjukpeng", "bostadsbidrag", "",
};
static const char *sim_bad_kinds[] = { "renewal", "initial", "" };
#define SIM_NELEM(a) (sizeof (a) / sizeof (a)[0])

static const char *sim_targets[SIM_NTARGETS] = {
	"rejection", "supplement", "reconsideration", "appeal", "assessment",
};
static const char *sim_events[SIM_NEVENTS] = {
	"decision", "reconsideration", "appeal", "assessment",
};
/* Yes rate of each target in an average case, first and ongoing. */
static const double sim_target_base[SIM_NTARGETS][SIM_NKINDS] = {
	{ 0.0, 0.0 }, { 0.35, 0.25 }, { 0.12, 0.12 }, { 0.15, 0.15 },
	{ 0.18, 0.22 },
};
/* How much of the rejection's case-mix effect each target has. */
static const double sim_target_mix[SIM_NTARGETS] = {
	1.0, 0.6, 0.5, 0.3, 0.4,
};
/* Assessments: checkpoint 90, 180, 365 (detail 1..3). */
static const double sim_checkpoint_cdf[3] = { 0.50, 0.85, 1.0 };
static const double sim_checkpoint_eff[4] = { 0.0, -0.2, 0.1, 0.4 };
static const uint8_t sim_checkpoint_band[4] = { 0, 2, 3, 4 };
static const char *sim_checkpoints[4] = { "", "90", "180", "365" };
static const char *sim_changed_tos[4] = { "", "granted", "partial",
    "rejected" };
static const char *sim_supplements[3] = { "", "yes", "no" };
static const char *sim_courts[] = {
	"F\xc3\xb6rvaltningsr\xc3\xa4tten i Stockholm",
	"F\xc3\xb6rvaltningsr\xc3\xa4tten i G\xc3\xb6teborg",
	"F\xc3\xb6rvaltningsr\xc3\xa4tten i Malm\xc3\xb6",
	"F\xc3\xb6rvaltningsr\xc3\xa4tten i Ume\xc3\xa5",
};
static const char *sim_bad_events[] = {
	"ruling", "omprovning", "Reconsideration", "appeals",
};
static const char *sim_bad_supplements[] = { "maybe", "ja", "1" };
static const char *sim_bad_checkpoints[] = { "100", "90d", "" };
/* An outcome of another kind, by the event it is sent on. */
static const char *sim_foreign_outcomes[SIM_NEVENTS][3] = {
	{ "changed", "late", "on_time" },
	{ "granted", "rejected", "late" },
	{ "late", "granted", "on_time" },
	{ "changed", "rejected", "unchanged" },
};

/* splitmix64: advance *x and return the next 64 bits. */
static uint64_t
sim_splitmix(uint64_t *x)
{
	uint64_t	z;

	z = (*x += SIM_GOLDEN);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return (z ^ (z >> 31));
}

/* A 64-bit hash of a key, a tag and three numbers. */
static uint64_t
sim_hash(uint64_t key, uint64_t tag, uint64_t a, uint64_t b, uint64_t c)
{
	uint64_t	x = key ^ (tag * SIM_GOLDEN);

	x = sim_splitmix(&x) ^ a;
	x = sim_splitmix(&x) ^ b;
	x = sim_splitmix(&x) ^ c;
	return (sim_splitmix(&x));
}

/* The top 53 bits of x as a double in [0, 1). */
static double
sim_u01(uint64_t x)
{
	return ((double)(x >> 11) * 0x1.0p-53);
}

/* A standard normal variate determined by a hash (Box-Muller). */
static double
sim_hash_normal(uint64_t h)
{
	double	u1, u2;

	u1 = sim_u01(sim_splitmix(&h));
	u2 = sim_u01(sim_splitmix(&h));
	return (sqrt(-2.0 * log(1.0 - u1)) * cos(SIM_TWO_PI * u2));
}

/* Seed a xoshiro256** state from a hash through splitmix64. */
static void
sim_rng_seed(struct simrng *r, uint64_t h)
{
	int	i;

	for (i = 0; i < 4; i++)
		r->s[i] = sim_splitmix(&h);
}

static inline uint64_t
sim_rotl(uint64_t x, int k)
{
	return ((x << k) | (x >> (64 - k)));
}

/* xoshiro256**: the next 64 bits. */
static inline uint64_t
sim_rng_next(struct simrng *r)
{
	uint64_t	*s = r->s, result, t;

	result = sim_rotl(s[1] * 5, 7) * 9;
	t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = sim_rotl(s[3], 45);
	return (result);
}

static inline double
sim_rng_u01(struct simrng *r)
{
	return (sim_u01(sim_rng_next(r)));
}

/* Index of the first cdf entry above u; the last entry if none is. */
static int
sim_cdf_pick(const double *cdf, int n, double u)
{
	int	lo = 0, hi = n - 1, mid;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (u < cdf[mid])
			hi = mid;
		else
			lo = mid + 1;
	}
	return (lo);
}

/* Turn n weights into a cumulative distribution ending at exactly 1. */
static void
sim_cdf_make(double *cdf, const double *w, int n)
{
	double	sum = 0.0, acc = 0.0;
	int	i;

	for (i = 0; i < n; i++)
		sum += w[i];
	for (i = 0; i < n; i++) {
		acc += w[i];
		cdf[i] = sum > 0.0 ? acc / sum : (double)(i + 1) / n;
	}
	cdf[n - 1] = 1.0;
}

static double
sim_logistic(double x)
{
	return (1.0 / (1.0 + exp(-x)));
}

/* Set *cause to an allocated message, if the caller wants one. */
static void
sim_cause(char **cause, const char *fmt, ...)
{
	va_list	ap;

	if (cause == NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(cause, fmt, ap) == -1)
		*cause = NULL;
	va_end(ap);
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t
sim_days_from_civil(int y, int m, int d)
{
	int64_t		era;
	unsigned	yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (unsigned)((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1);
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (era * 146097 + (int64_t)doe - 719468);
}

/* The date of a day number. */
static void
sim_civil_from_days(int64_t z, int *y, int *m, int *d)
{
	int64_t		era;
	unsigned	doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)((int64_t)yoe + era * 400 + (*m <= 2));
}

/* ISO year and week of the Monday-starting week containing day z. */
static void
sim_iso_week(int64_t z, int *iso_year, int *iso_week)
{
	int64_t	monday, thursday;
	int	y, m, d;

	monday = z - (((z + 3) % 7 + 7) % 7);
	thursday = monday + 3;
	sim_civil_from_days(thursday, &y, &m, &d);
	*iso_year = y;
	*iso_week = (int)((thursday - sim_days_from_civil(y, 1, 1)) / 7) + 1;
}

void
sim_options_default(struct sim_options *o)
{
	memset(o, 0, sizeof *o);
	o->seed = 1;
	o->offices = 58;
	o->weeks = 1;
	o->start_year = 2015;
	o->start_mon = 1;
	o->start_mday = 5;
	o->per_week = 60000;
	o->tau = 0.1;
	o->tau_national = 0.0;
	o->office_sd = 0.1;
	o->malformed = 0.0;
	o->duplicates = 0.0;
	o->timestamps = SIM_TS_MIXED;
	o->order = SIM_ORDER_TIME;
	o->benefits = SIM_BENEFITS_ALL;
}

/* Parse a whole string as a non-negative int. */
static int
sim_parse_int(const char *s, int max, int *v)
{
	char	*end;
	long	 l;

	if (*s == '\0' || !isdigit((unsigned char)*s))
		return (-1);
	errno = 0;
	l = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || l < 0 || l > max)
		return (-1);
	*v = (int)l;
	return (0);
}

/* Parse a whole string as a finite positive double. */
static int
sim_parse_positive(const char *s, double *v)
{
	char	*end;
	double	 d;

	if (*s == '\0')
		return (-1);
	errno = 0;
	d = strtod(s, &end);
	if (errno != 0 || *end != '\0' || !isfinite(d) || d <= 0.0)
		return (-1);
	*v = d;
	return (0);
}

int
sim_benefit_find(const char *name)
{
	int	i;

	for (i = 0; i < SIM_NBENEFITS; i++) {
		if (strcmp(name, sim_benefits[i]) == 0)
			return (i);
	}
	return (-1);
}

int
sim_kind_find(const char *name)
{
	int	i;

	for (i = 0; i < SIM_NKINDS; i++) {
		if (strcmp(name, sim_kinds[i]) == 0)
			return (i);
	}
	return (-1);
}

int
sim_target_find(const char *name)
{
	int	i;

	for (i = 0; i < SIM_NTARGETS; i++) {
		if (strcmp(name, sim_targets[i]) == 0)
			return (i);
	}
	return (-1);
}

const char *
sim_target_name(int target)
{
	if (target < 0 || target >= SIM_NTARGETS)
		return ("?");
	return (sim_targets[target]);
}

const char *
sim_event_name(int event)
{
	if (event < 0 || event >= SIM_NEVENTS)
		return ("?");
	return (sim_events[event]);
}

const char *
sim_detail_name(int event, int detail)
{
	if (detail < 1 || detail > 3)
		return ("-");
	switch (event) {
	case SIM_EV_DECISION:
		return (detail <= 2 ? sim_supplements[detail] : "-");
	case SIM_EV_RECONSIDERATION:
		return (sim_changed_tos[detail]);
	case SIM_EV_ASSESSMENT:
		return (sim_checkpoints[detail]);
	}
	return ("-");
}

int
sim_events_parse(struct sim_options *o, const char *s, char **cause)
{
	char		*copy, *save = NULL, *one;
	unsigned	 mask = 0;
	int		 t, ret = -1;

	if (strcmp(s, "all") == 0) {
		o->events = SIM_EVENTS_ALL;
		return (0);
	}
	if ((copy = strdup(s)) == NULL) {
		sim_cause(cause, "events: out of memory");
		return (-1);
	}
	for (one = strtok_r(copy, ",", &save); one != NULL;
	    one = strtok_r(NULL, ",", &save)) {
		if ((t = sim_target_find(one)) == -1) {
			sim_cause(cause, "events: %s: want all or rejection, "
			    "supplement, reconsideration, appeal, assessment",
			    one);
			goto out;
		}
		mask |= SIM_TARGET_BIT(t);
	}
	if (mask == 0) {
		sim_cause(cause, "events: %s: name at least one", s);
		goto out;
	}
	/* Rejection alone is the plain stream of decisions. */
	o->events = mask == SIM_TARGET_BIT(SIM_T_REJECTION) ? 0 :
	    mask | SIM_TARGET_BIT(SIM_T_REJECTION);
	ret = 0;
out:
	free(copy);
	return (ret);
}

int
sim_drift_parse(struct sim_options *o, const char *s, char **cause)
{
	struct sim_drift	 d;
	char			*copy, *part[7], *p, *at;
	int			 n = 0, ret = -1, office, target = 0;

	if (o->ndrifts >= SIM_MAXDRIFTS) {
		sim_cause(cause, "drift: more than %d", SIM_MAXDRIFTS);
		return (-1);
	}
	if ((copy = strdup(s)) == NULL) {
		sim_cause(cause, "drift: out of memory");
		return (-1);
	}
	if ((at = strchr(copy, '@')) != NULL) {
		*at++ = '\0';
		if ((target = sim_target_find(at)) == -1) {
			sim_cause(cause, "drift: %s: unknown target %s (want "
			    "rejection, supplement, reconsideration, appeal "
			    "or assessment)", s, at);
			goto out;
		}
	}
	p = copy;
	while (n < 7) {
		part[n++] = p;
		if ((p = strchr(p, ':')) == NULL)
			break;
		*p++ = '\0';
	}
	if (n != 5 && n != 6) {
		sim_cause(cause, "drift: %s: want "
		    "SCOPE:BENEFIT:KIND:FROM_WEEK:ODDS_RATIO[:TO_WEEK]"
		    "[@TARGET]", s);
		goto out;
	}

	memset(&d, 0, sizeof d);
	if (strcmp(part[0], "national") == 0)
		d.office = -1;
	else if (part[0][0] == 'K' && strlen(part[0]) == 4 &&
	    sim_parse_int(part[0] + 1, SIM_MAXOFFICES, &office) == 0 &&
	    office >= 1)
		d.office = office - 1;
	else {
		sim_cause(cause, "drift: %s: scope must be national or an "
		    "office like K017", s);
		goto out;
	}
	if (strcmp(part[1], "*") == 0)
		d.benefit = -1;
	else if ((d.benefit = sim_benefit_find(part[1])) == -1) {
		sim_cause(cause, "drift: %s: unknown benefit %s", s, part[1]);
		goto out;
	}
	if (strcmp(part[2], "*") == 0)
		d.kind = -1;
	else if ((d.kind = sim_kind_find(part[2])) == -1) {
		sim_cause(cause, "drift: %s: unknown kind %s", s, part[2]);
		goto out;
	}
	if (sim_parse_int(part[3], SIM_MAXWEEKS, &d.from_week) == -1) {
		sim_cause(cause, "drift: %s: bad week %s", s, part[3]);
		goto out;
	}
	if (sim_parse_positive(part[4], &d.log_or) == -1) {
		sim_cause(cause, "drift: %s: bad odds ratio %s", s, part[4]);
		goto out;
	}
	d.log_or = log(d.log_or);
	d.to_week = -1;
	if (n == 6 && (sim_parse_int(part[5], SIM_MAXWEEKS, &d.to_week) == -1 ||
	    d.to_week <= d.from_week)) {
		sim_cause(cause, "drift: %s: bad end week %s", s, part[5]);
		goto out;
	}
	d.target = target;
	o->drifts[o->ndrifts++] = d;
	ret = 0;
out:
	free(copy);
	return (ret);
}

int
sim_shift_parse(struct sim_options *o, const char *s, char **cause)
{
	struct sim_shift	 sh;
	char			*copy, *colon;
	int			 ret = -1;

	if (o->nshifts >= SIM_MAXSHIFTS) {
		sim_cause(cause, "casemix-shift: more than %d", SIM_MAXSHIFTS);
		return (-1);
	}
	if ((copy = strdup(s)) == NULL) {
		sim_cause(cause, "casemix-shift: out of memory");
		return (-1);
	}
	if ((colon = strchr(copy, ':')) == NULL) {
		sim_cause(cause, "casemix-shift: %s: want FROM_WEEK:FACTOR", s);
		goto out;
	}
	*colon = '\0';
	if (sim_parse_int(copy, SIM_MAXWEEKS, &sh.from_week) == -1 ||
	    sim_parse_positive(colon + 1, &sh.factor) == -1) {
		sim_cause(cause, "casemix-shift: %s: want FROM_WEEK:FACTOR", s);
		goto out;
	}
	o->shifts[o->nshifts++] = sh;
	ret = 0;
out:
	free(copy);
	return (ret);
}

int
sim_start_parse(struct sim_options *o, const char *s, char **cause)
{
	int	y, m, d, py, pm, pd;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-' ||
	    !isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) ||
	    !isdigit((unsigned char)s[2]) || !isdigit((unsigned char)s[3]) ||
	    !isdigit((unsigned char)s[5]) || !isdigit((unsigned char)s[6]) ||
	    !isdigit((unsigned char)s[8]) || !isdigit((unsigned char)s[9]))
		goto bad;
	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 +
	    (s[3] - '0');
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	if (y < 1971 || y > 2200 || m < 1 || m > 12 || d < 1 || d > 31)
		goto bad;
	sim_civil_from_days(sim_days_from_civil(y, m, d), &py, &pm, &pd);
	if (py != y || pm != m || pd != d)
		goto bad;
	o->start_year = y;
	o->start_mon = m;
	o->start_mday = d;
	return (0);
bad:
	sim_cause(cause, "start: %s: want a date YYYY-MM-DD", s);
	return (-1);
}

int
sim_benefits_parse(struct sim_options *o, const char *s, char **cause)
{
	char		*copy, *save = NULL, *one;
	unsigned	 mask = 0;
	int		 b, ret = -1;

	if ((copy = strdup(s)) == NULL) {
		sim_cause(cause, "benefits: out of memory");
		return (-1);
	}
	for (one = strtok_r(copy, ",", &save); one != NULL;
	    one = strtok_r(NULL, ",", &save)) {
		if ((b = sim_benefit_find(one)) == -1) {
			sim_cause(cause, "benefits: unknown benefit %s", one);
			goto out;
		}
		mask |= SIM_BENEFIT_BIT(b);
	}
	if (mask == 0) {
		sim_cause(cause, "benefits: %s: name at least one", s);
		goto out;
	}
	o->benefits = mask;
	ret = 0;
out:
	free(copy);
	return (ret);
}

int
sim_order_find(const char *name)
{
	int	i;

	for (i = 0; i < SIM_NORDERS; i++) {
		if (strcmp(name, sim_orders[i]) == 0)
			return (i);
	}
	return (-1);
}

const char *
sim_order_name(int order)
{
	if (order < 0 || order >= SIM_NORDERS)
		return ("?");
	return (sim_orders[order]);
}

const char *
sim_benefit_name(int benefit)
{
	if (benefit < 0 || benefit >= SIM_NBENEFITS)
		return ("?");
	return (sim_benefits[benefit]);
}

const char *
sim_kind_name(int kind)
{
	if (kind < 0 || kind >= SIM_NKINDS)
		return ("?");
	return (sim_kinds[kind]);
}

const char *
sim_outcome_name(int outcome)
{
	static const char *other[4] = {
		"changed", "unchanged", "on_time", "late",
	};

	if (outcome < 0 || outcome > SIM_LATE)
		return ("?");
	return (outcome <= SIM_DISMISSED ? sim_outcomes[outcome] :
	    other[outcome - SIM_CHANGED]);
}

int
sim_noffices(const struct sim *s)
{
	return (s->o.offices);
}

int
sim_nweeks(const struct sim *s)
{
	return (s->o.weeks);
}

const char *
sim_office_name(const struct sim *s, int office)
{
	if (office < 0 || office >= s->o.offices)
		return ("?");
	return (s->names[office]);
}

double
sim_office_effect(const struct sim *s, int office)
{
	if (office < 0 || office >= s->o.offices)
		return (0.0);
	return (s->alpha[office]);
}

void
sim_week_label(const struct sim *s, int w, char *buf, size_t len)
{
	int	iso_year, iso_week;

	sim_iso_week((int64_t)s->start_days + 7 * (int64_t)w, &iso_year,
	    &iso_week);
	snprintf(buf, len, "%04d-W%02d", iso_year, iso_week);
}

/* Unix time of a local wall-clock time; *gmtoff gets its offset. */
static int64_t
sim_local_time(const struct sim *s, int days, int hour, int32_t *gmtoff)
{
	struct tm	tm;
	time_t		t;

	memset(&tm, 0, sizeof tm);
	tm.tm_year = s->o.start_year - 1900;
	tm.tm_mon = s->o.start_mon - 1;
	tm.tm_mday = s->o.start_mday + days;
	tm.tm_hour = hour;
	tm.tm_isdst = -1;
	t = mktime(&tm);
	if (gmtoff != NULL)
		*gmtoff = (int32_t)tm.tm_gmtoff;
	return ((int64_t)t);
}

int64_t
sim_week_start(const struct sim *s, int w)
{
	return (sim_local_time(s, 7 * w, 0, NULL));
}

/* The ISO week number (1..53) of simulation week w. */
static int
sim_week_of_year(const struct sim *s, int w)
{
	int	iso_year, iso_week;

	sim_iso_week((int64_t)s->start_days + 7 * (int64_t)w, &iso_year,
	    &iso_week);
	return (iso_week);
}

/* Season in log odds: two harmonics of the week of the year. */
static double
sim_season(int week_of_year)
{
	double	x = SIM_TWO_PI * (week_of_year - 1) / 52.0;

	return (0.10 * sin(x) + 0.05 * cos(x) + 0.04 * sin(2 * x) -
	    0.03 * cos(2 * x));
}

/* Relative national volume of a week: summer and Christmas are quiet. */
static double
sim_volume_factor(int week_of_year)
{
	if (week_of_year >= 28 && week_of_year <= 31)
		return (0.60);
	if (week_of_year == 27 || week_of_year == 32)
		return (0.80);
	if (week_of_year >= 52 || week_of_year == 1)
		return (0.70);
	return (1.0 + 0.08 * cos(SIM_TWO_PI * (week_of_year - 8) / 52.0));
}

/* Weight of a local hour of the week: office hours on weekdays. */
static double
sim_slot_weight(int day, int hour)
{
	if (day >= 5)
		return (hour >= 9 && hour <= 14 ? 0.3 : 0.0);
	if (hour < 7 || hour > 20)
		return (0.0);	/* also keeps clear of DST changes */
	if (hour == 7)
		return (2.0);
	if (hour == 12 || hour == 16)
		return (6.0);
	if (hour == 17)
		return (2.0);
	if (hour >= 18)
		return (0.5);
	return (10.0);
}

/* Case-mix distributions for a factor on F diagnoses and long cases. */
static void
sim_mix_make(struct simmix *mix, double factor)
{
	double	cw[SIM_NCHAPTERS - 1], w[SIM_NBANDS - 1];
	int	i, c;

	memcpy(cw, sim_chapter_w, sizeof cw);
	cw['F' - 'A'] *= factor;
	sim_cdf_make(mix->chapter_cdf, cw, SIM_NCHAPTERS - 1);
	for (c = 0; c < SIM_NCELLS; c++) {
		for (i = 0; i < SIM_NBANDS - 1; i++) {
			w[i] = sim_band_w[c][i];
			if (i >= 3)	/* 181 days and more */
				w[i] *= factor;
		}
		sim_cdf_make(mix->band_cdf[c], w, SIM_NBANDS - 1);
	}
}

/*
 * Draw the case-mix attributes of r (benefit and kind set) and return
 * their effect in log odds. Always takes the same number of draws.
 */
static double
sim_attrs_draw(const struct simmix *mix, struct simrng *g, struct simrec *r)
{
	const double	*cdf;
	double		 u, age_cdf[SIM_NAGES - 1], pspec;
	double		 miss[6], eff;
	uint64_t	 raw;
	int		 cell, group, i, lo, hi;

	cell = r->benefit * SIM_NKINDS + r->kind;
	group = r->benefit >= 2;
	for (i = 0; i < 6; i++)
		miss[i] = sim_rng_u01(g);

	sim_cdf_make(age_cdf, sim_age_dist[r->benefit], SIM_NAGES - 1);
	u = sim_rng_u01(g);
	r->age = miss[0] < SIM_MISS_AGE ? 0 :
	    (uint8_t)(1 + sim_cdf_pick(age_cdf, SIM_NAGES - 1, u));

	u = sim_rng_u01(g);
	r->sex = miss[1] < SIM_MISS_SEX ? 0 :
	    (uint8_t)(1 + sim_cdf_pick(sim_sex_cdf, SIM_NSEXES - 1, u));

	u = sim_rng_u01(g);
	raw = sim_rng_next(g);
	r->chapter = miss[2] < SIM_MISS_DIAG ? 0 :
	    (uint8_t)(1 + sim_cdf_pick(mix->chapter_cdf, SIM_NCHAPTERS - 1, u));
	r->diagform = (uint8_t)(raw % 10 < 3 ? 0 : raw % 10 < 7 ? 1 : 2);
	if (r->chapter == 6)
		r->diagnum = sim_f_codes[(raw >> 8) % 8];
	else if (r->chapter == 13)
		r->diagnum = sim_m_codes[(raw >> 8) % 8];
	else
		r->diagnum = (uint8_t)((raw >> 8) % 100);
	r->diagsub = (uint8_t)((raw >> 16) % 10);

	cdf = mix->band_cdf[cell];
	u = sim_rng_u01(g);
	r->band = miss[3] < SIM_MISS_CASEDAY ? 0 :
	    (uint8_t)(1 + sim_cdf_pick(cdf, SIM_NBANDS - 1, u));
	u = sim_rng_u01(g);
	if (r->band == 0)
		r->case_day = 0;
	else if (r->band == SIM_NBANDS - 1) {
		lo = 551 + (int)(-300.0 * log(1.0 - u));
		r->case_day = (uint16_t)(lo > 3000 ? 3000 : lo);
	} else {
		lo = sim_band_lo[r->band];
		hi = sim_band_hi[r->band];
		r->case_day = (uint16_t)(lo + (int)(u * (hi - lo + 1)));
	}

	u = sim_rng_u01(g);
	r->employment = miss[4] < SIM_MISS_EMPLOYMENT ? 0 : (uint8_t)(1 +
	    sim_cdf_pick(sim_employment_cdf[group], SIM_NEMPLOYMENTS - 1, u));

	/* Specialist care is more common for cancer, neurology, long cases. */
	pspec = 0.28;
	if (r->chapter == 3 || r->chapter == 7)
		pspec += 0.25;
	if (r->chapter == 6)
		pspec += 0.05;
	if (group)
		pspec += 0.10;
	u = sim_rng_u01(g);
	r->care = miss[5] < SIM_MISS_CARE ? 0 : (u < pspec ? 2 : 1);

	eff = sim_age_eff[r->age] + sim_sex_eff[r->sex] +
	    sim_chapter_eff[r->chapter] + sim_band_eff[r->band] +
	    sim_employment_eff[r->employment] + sim_care_eff[r->care];
	return (eff);
}

/*
 * The other targets' intercepts for a cell whose mean case-mix effect is
 * mean: about their base rate for an average case (not calibrated as
 * closely as the rejection rate; the truth gives what was drawn).
 */
static void
sim_target_intercepts(struct sim *s, int cell, double mean)
{
	double	base;
	int	t;

	for (t = SIM_T_SUPPLEMENT; t < SIM_NTARGETS; t++) {
		base = sim_target_base[t][cell % SIM_NKINDS];
		s->tintercept[t][cell] = log(base / (1.0 - base)) -
		    sim_target_mix[t] * mean;
	}
}

/*
 * Set the intercept of each (benefit, kind) so that the mean rejection
 * probability over the baseline case mix is its target rate.
 */
static void
sim_calibrate(struct sim *s)
{
	struct simmix	 mix;
	struct simrng	 g;
	struct simrec	 r;
	double		*x, lo, hi, mid, mean;
	int		 b, k, i, it;

	sim_mix_make(&mix, 1.0);
	x = calloc(SIM_CALIBRATE_N, sizeof *x);
	for (b = 0; b < SIM_NBENEFITS; b++) {
		for (k = 0; k < SIM_NKINDS; k++) {
			for (i = 0; i < SIM_CALIBRATE_N && x != NULL; i++) {
				memset(&r, 0, sizeof r);
				r.benefit = (uint8_t)b;
				r.kind = (uint8_t)k;
				sim_rng_seed(&g, sim_hash(0, SIM_TAG_CALIBRATE,
				    (uint64_t)b, (uint64_t)k, (uint64_t)i));
				x[i] = sim_attrs_draw(&mix, &g, &r);
			}
			lo = -10.0;
			hi = 10.0;
			for (it = 0; it < 50 && x != NULL; it++) {
				mid = (lo + hi) / 2.0;
				mean = 0.0;
				for (i = 0; i < SIM_CALIBRATE_N; i++)
					mean += sim_logistic(mid + x[i]);
				if (mean / SIM_CALIBRATE_N < sim_target_rate[b][k])
					lo = mid;
				else
					hi = mid;
			}
			s->intercept[b * SIM_NKINDS + k] = x == NULL ?
			    log(sim_target_rate[b][k] /
			    (1.0 - sim_target_rate[b][k])) : (lo + hi) / 2.0;
			mean = 0.0;
			for (i = 0; i < SIM_CALIBRATE_N && x != NULL; i++)
				mean += x[i] / SIM_CALIBRATE_N;
			sim_target_intercepts(s, b * SIM_NKINDS + k, mean);
		}
	}
	free(x);
}

/* Office sizes (log-normal, largest 10x the median), effects, regions. */
static void
sim_offices_make(struct sim *s)
{
	double	*z, *sorted, med, sigma, sum = 0.0, acc = 0.0;
	int	 K = s->o.offices, i, j;

	z = s->office_cdf;	/* used as scratch first */
	sorted = s->alpha;
	for (i = 0; i < K; i++) {
		z[i] = sim_hash_normal(sim_hash(s->key, SIM_TAG_OFFICE,
		    (uint64_t)i, 0, 0));
		sorted[i] = z[i];
	}
	for (i = 1; i < K; i++) {	/* insertion sort: K is small */
		med = sorted[i];
		for (j = i; j > 0 && sorted[j - 1] > med; j--)
			sorted[j] = sorted[j - 1];
		sorted[j] = med;
	}
	med = K % 2 ? sorted[K / 2] : (sorted[K / 2 - 1] + sorted[K / 2]) / 2;
	sigma = sorted[K - 1] - med > 1e-9 ? log(10.0) /
	    (sorted[K - 1] - med) : 0.0;
	for (i = 0; i < K; i++) {
		z[i] = exp(sigma * (z[i] - med));
		sum += z[i];
	}
	for (i = 0; i < K; i++) {
		acc += z[i];
		s->office_cdf[i] = acc / sum;
	}
	s->office_cdf[K - 1] = 1.0;

	for (i = 0; i < K; i++) {
		snprintf(s->names[i], SIM_OFFICEMAX, "K%03u",
		    (unsigned)(i + 1) % 1000);
		s->alpha[i] = s->o.office_sd * sim_hash_normal(sim_hash(s->key,
		    SIM_TAG_ALPHA, (uint64_t)i, 0, 0));
		s->region[i] = sim_regions[sim_hash(s->key, SIM_TAG_REGION,
		    (uint64_t)i, 0, 0) % SIM_NREGIONS];
	}
}

static int sim_draw_all(struct sim *, char **);

/* Whether any event kind besides plain decisions is drawn. */
static int
sim_other_events(const struct sim *s)
{
	return ((s->o.events & ~SIM_TARGET_BIT(SIM_T_REJECTION)) != 0);
}

static int
sim_target_on(const struct sim *s, int target)
{
	return ((s->o.events & SIM_TARGET_BIT(target)) != 0);
}

struct sim *
sim_create(const struct sim_options *o, char **cause)
{
	struct sim	*s;
	struct tm	 tm;
	time_t		 summer, winter;
	double		 maxvol;
	int		 i, w, day, K = o->offices;

	if (K < 1 || K > SIM_MAXOFFICES) {
		sim_cause(cause, "offices: %d not in 1..%d", K, SIM_MAXOFFICES);
		return (NULL);
	}
	if (o->weeks < 1 || o->weeks > SIM_MAXWEEKS) {
		sim_cause(cause, "weeks: %d not in 1..%d", o->weeks,
		    SIM_MAXWEEKS);
		return (NULL);
	}
	if (!(o->per_week >= 0.0 && o->per_week <= 1e8) ||
	    !(o->tau >= 0.0 && o->tau <= 5.0) ||
	    !(o->tau_national >= 0.0 && o->tau_national <= 5.0) ||
	    !(o->office_sd >= 0.0 && o->office_sd <= 5.0)) {
		sim_cause(cause, "per-week, tau or office sd out of range");
		return (NULL);
	}
	if (!(o->malformed >= 0.0 && o->malformed <= 1.0) ||
	    !(o->duplicates >= 0.0 && o->duplicates <= 1.0)) {
		sim_cause(cause, "malformed and duplicates must be in 0..1");
		return (NULL);
	}
	if (o->order < 0 || o->order >= SIM_NORDERS) {
		sim_cause(cause, "order: %d unknown", o->order);
		return (NULL);
	}
	if (o->benefits == 0 || (o->benefits & ~SIM_BENEFITS_ALL) != 0) {
		sim_cause(cause, "benefits: no benefit or an unknown one");
		return (NULL);
	}
	if ((o->events & ~SIM_EVENTS_ALL) != 0) {
		sim_cause(cause, "events: an unknown target");
		return (NULL);
	}
	for (i = 0; i < o->ndrifts; i++) {
		if (o->drifts[i].office >= K) {
			sim_cause(cause, "drift: office K%03d beyond the %d "
			    "offices", o->drifts[i].office + 1, K);
			return (NULL);
		}
		if (o->drifts[i].target < 0 ||
		    o->drifts[i].target >= SIM_NTARGETS) {
			sim_cause(cause, "drift: unknown target %d",
			    o->drifts[i].target);
			return (NULL);
		}
	}

	setenv("TZ", "Europe/Stockholm", 1);
	tzset();

	if ((s = calloc(1, sizeof *s)) == NULL) {
		sim_cause(cause, "out of memory");
		return (NULL);
	}
	s->o = *o;
	s->key = sim_hash(o->seed, 0, 0, 0, 0);
	s->start_days = (int)sim_days_from_civil(o->start_year, o->start_mon,
	    o->start_mday);
	s->week = -1;
	if (((s->start_days + 3) % 7 + 7) % 7 != 0) {
		sim_cause(cause, "start: %04d-%02d-%02d is not a Monday",
		    o->start_year, o->start_mon, o->start_mday);
		goto fail;
	}

	/* Without the zone files the C library silently falls back to UTC. */
	summer = 1435752000;	/* 2015-07-01 12:00 UTC */
	winter = 1421323200;	/* 2015-01-15 12:00 UTC */
	if (localtime_r(&summer, &tm) == NULL || tm.tm_gmtoff != 7200 ||
	    localtime_r(&winter, &tm) == NULL || tm.tm_gmtoff != 3600) {
		sim_cause(cause, "time zone Europe/Stockholm not available");
		goto fail;
	}

	s->names = calloc((size_t)K, sizeof *s->names);
	s->office_cdf = calloc((size_t)K, sizeof *s->office_cdf);
	s->alpha = calloc((size_t)K, sizeof *s->alpha);
	s->region = calloc((size_t)K, sizeof *s->region);
	s->eff = calloc((size_t)K * SIM_NCELLS, sizeof *s->eff);
	s->volume = calloc((size_t)o->weeks, sizeof *s->volume);
	s->heap = calloc(SIM_DUP_MAXDELAY + 2, sizeof *s->heap);
	if (s->names == NULL || s->office_cdf == NULL || s->alpha == NULL ||
	    s->region == NULL || s->eff == NULL || s->volume == NULL ||
	    s->heap == NULL) {
		sim_cause(cause, "out of memory");
		goto fail;
	}
	sim_offices_make(s);
	sim_calibrate(s);
	for (i = SIM_T_SUPPLEMENT; i < SIM_NTARGETS && sim_other_events(s);
	    i++) {
		int	j;

		s->talpha[i] = calloc((size_t)K, sizeof *s->talpha[i]);
		s->teff[i] = calloc((size_t)K * SIM_NCELLS, sizeof *s->teff[i]);
		if (s->talpha[i] == NULL || s->teff[i] == NULL) {
			sim_cause(cause, "out of memory");
			goto fail;
		}
		for (j = 0; j < K; j++)
			s->talpha[i][j] = o->office_sd * sim_hash_normal(
			    sim_hash(s->key, SIM_TAG_TALPHA, (uint64_t)j,
			    (uint64_t)i, 0));
	}

	{
		double	sw[SIM_SLOTS];

		for (day = 0; day < 7; day++) {
			for (i = 0; i < 24; i++)
				sw[day * 24 + i] = sim_slot_weight(day, i);
		}
		sim_cdf_make(s->slot_cdf, sw, SIM_SLOTS);
	}

	maxvol = 0.0;
	for (w = 0; w < o->weeks; w++) {
		double	v;

		v = o->per_week * sim_volume_factor(sim_week_of_year(s, w)) *
		    exp(0.03 * sim_hash_normal(sim_hash(s->key, SIM_TAG_VOLUME,
		    (uint64_t)w, 0, 0)));
		s->volume[w] = (uint32_t)floor(v + 0.5);
		if (v > maxvol)
			maxvol = v;
	}
	s->caprecs = (size_t)maxvol + 2;
	if (sim_other_events(s)) {
		/* A decision's idx keeps its seq; at most three follow it. */
		if ((s->seq_of = calloc(s->caprecs, sizeof *s->seq_of)) ==
		    NULL) {
			sim_cause(cause, "out of memory");
			goto fail;
		}
		s->caprecs *= 4;
	}
	if ((s->recs = calloc(s->caprecs, sizeof *s->recs)) == NULL) {
		sim_cause(cause, "out of memory for %zu events a week",
		    s->caprecs);
		goto fail;
	}
	if (o->order != SIM_ORDER_TIME && sim_draw_all(s, cause) == -1)
		goto fail;
	return (s);
fail:
	sim_free(s);
	return (NULL);
}

void
sim_free(struct sim *s)
{
	int	i;

	if (s == NULL)
		return;
	free(s->names);
	free(s->office_cdf);
	free(s->alpha);
	free(s->region);
	free(s->eff);
	free(s->volume);
	free(s->heap);
	free(s->recs);
	free(s->all);
	free(s->seq_of);
	for (i = 0; i < SIM_NTARGETS; i++) {
		free(s->talpha[i]);
		free(s->teff[i]);
	}
	free(s);
}

/* Events of a week are sent in time order; ties in draw order. */
static int
sim_rec_cmp(const void *a, const void *b)
{
	const struct simrec	*ra = a, *rb = b;

	if (ra->t != rb->t)
		return (ra->t < rb->t ? -1 : 1);
	return (ra->idx < rb->idx ? -1 : ra->idx > rb->idx);
}

/* Draw one decision of week w into r; returns its case-mix effect. */
static double
sim_rec_draw(struct sim *s, int w, uint32_t idx, struct simrec *r)
{
	const struct sim_options	*o = &s->o;
	struct simrng			 g;
	double				 x, u, lin, udis, urej, upart;
	uint64_t			 raw;
	int				 slot, cell;

	memset(r, 0, sizeof *r);
	sim_rng_seed(&g, sim_hash(s->key, SIM_TAG_EVENT, (uint64_t)w, idx, 0));
	r->week = w;
	r->idx = idx;

	r->office = (uint16_t)sim_cdf_pick(s->office_cdf, o->offices,
	    sim_rng_u01(&g));
	u = sim_rng_u01(&g);
	for (r->benefit = 0; r->benefit < SIM_NBENEFITS - 1; r->benefit++) {
		if (u < sim_benefit_share[r->benefit])
			break;
		u -= sim_benefit_share[r->benefit];
	}
	r->kind = sim_rng_u01(&g) < sim_first_share[r->benefit] ? 0 : 1;

	slot = sim_cdf_pick(s->slot_cdf, SIM_SLOTS, sim_rng_u01(&g));
	r->t = s->slot_t[slot] + (int64_t)(sim_rng_u01(&g) * 3600.0);
	r->gmtoff = s->slot_off[slot];
	r->slot = (uint8_t)slot;

	x = sim_attrs_draw(&s->mix, &g, r);

	raw = sim_rng_next(&g);
	r->region_missing = sim_u01(raw) < SIM_MISS_REGION;
	raw = sim_rng_next(&g);
	r->empty = (uint8_t)(raw & (raw >> 8) & 0x7f);	/* each bit 1/4 */

	u = sim_rng_u01(&g);
	raw = sim_rng_next(&g);
	switch (o->timestamps) {
	case SIM_TS_UNIX:
		r->tsform = SIM_TSF_UNIX;
		break;
	case SIM_TS_RFC3339:
		r->tsform = u < 0.8 ? SIM_TSF_LOCAL : SIM_TSF_Z;
		break;
	default:
		r->tsform = u < 0.5 ? SIM_TSF_UNIX : u < 0.85 ?
		    SIM_TSF_LOCAL : SIM_TSF_Z;
		break;
	}
	if (r->tsform != SIM_TSF_UNIX && raw % 20 == 0)
		r->frac = (uint16_t)(1 + (raw >> 8) % 499);

	cell = r->benefit * SIM_NKINDS + r->kind;
	lin = s->intercept[cell] + x + s->season;
	r->p0 = sim_logistic(lin + s->alpha[r->office]);
	r->p = sim_logistic(lin + s->eff[r->office * SIM_NCELLS + cell]);

	udis = sim_rng_u01(&g);
	urej = sim_rng_u01(&g);
	upart = sim_rng_u01(&g);
	if (udis < SIM_DISMISSED_P)
		r->outcome = SIM_DISMISSED;
	else if (urej < r->p)
		r->outcome = SIM_REJECTED;
	else if (upart < SIM_PARTIAL_P)
		r->outcome = SIM_PARTIAL;
	else
		r->outcome = SIM_GRANTED;

	u = sim_rng_u01(&g);
	raw = sim_rng_next(&g);
	if (u < o->malformed) {
		r->malformed = (uint8_t)(1 + raw % SIM_NDEFECTS);
		r->variant = (uint16_t)((raw >> 8) % 1000);
	}
	u = sim_rng_u01(&g);
	raw = sim_rng_next(&g);
	if (r->malformed == SIM_DEF_NONE && u < o->duplicates) {
		r->dup = 1;
		r->dupdelay = (uint8_t)(1 + raw % SIM_DUP_MAXDELAY);
	}
	return (x);
}

/* The log odds of yes for target t, with and without noise and drift. */
static void
sim_target_p(const struct sim *s, int t, const struct simrec *r, double x,
    double *q, double *q0)
{
	int	cell = r->benefit * SIM_NKINDS + r->kind;
	double	lin;

	lin = s->tintercept[t][cell] + sim_target_mix[t] * x;
	*q0 = sim_logistic(lin + s->talpha[t][r->office]);
	*q = sim_logistic(lin + s->teff[t][r->office * SIM_NCELLS + cell]);
}

/*
 * A later event about decision r, in the same week: after `after` (an
 * earlier event about it), in an hour of the week as busy as decisions'.
 * Takes its copy of r's case mix; the caller sets what is its own.
 */
static struct simrec *
sim_child(struct sim *s, const struct simrec *r, const struct simrec *after,
    struct simrng *g, int event)
{
	struct simrec	*c;
	double		 u, lo;
	int		 slot;

	if (s->nrecs >= s->caprecs)
		return (NULL);	/* cannot happen: three at most each */
	c = &s->recs[s->nrecs++];
	*c = *r;
	c->event = (uint8_t)event;
	c->idx = r->idx + (uint32_t)(s->volume[r->week] * (uint32_t)event);
	c->parent = r->idx;
	c->detail = 0;
	c->court = 0;
	c->dup = 0;
	c->malformed = SIM_DEF_NONE;
	lo = after->slot > 0 ? s->slot_cdf[after->slot - 1] : 0.0;
	u = lo + sim_rng_u01(g) * (1.0 - lo);
	slot = sim_cdf_pick(s->slot_cdf, SIM_SLOTS, u);
	if (slot < after->slot)
		slot = after->slot;
	c->slot = (uint8_t)slot;
	c->t = s->slot_t[slot] + (int64_t)(sim_rng_u01(g) * 3600.0);
	c->gmtoff = s->slot_off[slot];
	/* Within the hour: never before the event it follows. */
	if (c->t <= after->t)
		c->t = after->t + 1;
	return (c);
}

/* Break child c (or decision c) with one of the other kinds' defects. */
static void
sim_child_break(const struct sim_options *o, struct simrng *g,
    struct simrec *c)
{
	uint64_t	raw;
	double		u;

	u = sim_rng_u01(g);
	raw = sim_rng_next(g);
	if (u < o->malformed) {
		switch (raw % (c->event == SIM_EV_ASSESSMENT ? 3 : 2)) {
		case 0:
			c->malformed = SIM_DEF_EVENT;
			break;
		case 1:
			c->malformed = SIM_DEF_FOREIGN;
			break;
		default:
			c->malformed = SIM_DEF_CHECKPOINT;
			break;
		}
		c->variant = (uint16_t)((raw >> 8) % 1000);
	}
	u = sim_rng_u01(g);
	raw = sim_rng_next(g);
	if (c->malformed == SIM_DEF_NONE && u < o->duplicates) {
		c->dup = 1;
		c->dupdelay = (uint8_t)(1 + raw % SIM_DUP_MAXDELAY);
	}
}

/*
 * The other event kinds about decision r (case-mix effect x), each from
 * its own generator: its supplement_requested, a reconsideration and
 * perhaps an appeal, an assessment. Appended to the week's records.
 */
static void
sim_children_draw(struct sim *s, struct simrec *r, double x)
{
	const struct sim_options	*o = &s->o;
	struct simrng			 g;
	struct simrec			*c, *rc;
	uint64_t			 key = s->key ^ SIM_EVENTS_SALT;
	double				 q, q0, u, xa;
	int				 cp;

	if (sim_target_on(s, SIM_T_SUPPLEMENT)) {
		sim_rng_seed(&g, sim_hash(key, SIM_TAG_CHILD, (uint64_t)r->week,
		    r->idx, SIM_T_SUPPLEMENT));
		sim_target_p(s, SIM_T_SUPPLEMENT, r, x, &r->q, &r->q0);
		u = sim_rng_u01(&g);
		if (sim_rng_u01(&g) < SIM_SUPP_PRESENT)
			r->detail = u < r->q ? 1 : 2;
		/* Some of the decisions broken anyway break here instead. */
		if (r->malformed != SIM_DEF_NONE && sim_rng_u01(&g) < 0.25)
			r->malformed = SIM_DEF_SUPPLEMENT;
	}
	if ((sim_target_on(s, SIM_T_RECONSIDERATION) ||
	    sim_target_on(s, SIM_T_APPEAL)) &&
	    (r->outcome == SIM_REJECTED || r->outcome == SIM_PARTIAL)) {
		sim_rng_seed(&g, sim_hash(key, SIM_TAG_CHILD, (uint64_t)r->week,
		    r->idx, SIM_T_RECONSIDERATION));
		u = sim_rng_u01(&g);
		if (u < (r->outcome == SIM_REJECTED ? SIM_RECON_OF_REJECTED :
		    SIM_RECON_OF_PARTIAL) &&
		    (rc = sim_child(s, r, r, &g, SIM_EV_RECONSIDERATION)) !=
		    NULL) {
			sim_target_p(s, SIM_T_RECONSIDERATION, r, x, &q, &q0);
			rc->q = q;
			rc->q0 = q0;
			u = sim_rng_u01(&g);
			rc->outcome = u < q ? SIM_CHANGED : SIM_UNCHANGED;
			u = sim_rng_u01(&g);
			if (rc->outcome == SIM_CHANGED && r->outcome ==
			    SIM_REJECTED)
				rc->detail = u < 0.7 ? 1 : 2;	/* granted */
			else if (rc->outcome == SIM_CHANGED)
				rc->detail = u < 0.8 ? 1 : 3;
			sim_child_break(o, &g, rc);
			/* Appeals come from reconsiderations left as they were. */
			u = sim_rng_u01(&g);
			if (sim_target_on(s, SIM_T_APPEAL) &&
			    rc->outcome == SIM_UNCHANGED &&
			    u < SIM_APPEAL_OF_UNCHANGED &&
			    (c = sim_child(s, r, rc, &g, SIM_EV_APPEAL)) !=
			    NULL) {
				sim_target_p(s, SIM_T_APPEAL, r, x, &q, &q0);
				c->q = q;
				c->q0 = q0;
				u = sim_rng_u01(&g);
				c->outcome = u < q ? SIM_CHANGED :
				    SIM_UNCHANGED;
				u = sim_rng_u01(&g);
				c->court = u < SIM_COURT_PRESENT ? (uint8_t)(1 +
				    sim_rng_next(&g) % SIM_NELEM(sim_courts)) :
				    0;
				sim_child_break(o, &g, c);
			}
			/* Only the appeal was asked for: drop it again. */
			if (!sim_target_on(s, SIM_T_RECONSIDERATION))
				rc->event = SIM_NEVENTS;
		}
	}
	if (sim_target_on(s, SIM_T_ASSESSMENT) && r->benefit == 0) {
		sim_rng_seed(&g, sim_hash(key, SIM_TAG_CHILD, (uint64_t)r->week,
		    r->idx, SIM_T_ASSESSMENT));
		u = sim_rng_u01(&g);
		if (u < SIM_ASSESS_OF_SICKPAY &&
		    (c = sim_child(s, r, r, &g, SIM_EV_ASSESSMENT)) != NULL) {
			cp = 1 + sim_cdf_pick(sim_checkpoint_cdf, 3,
			    sim_rng_u01(&g));
			c->detail = (uint8_t)cp;
			/* It stands at its checkpoint's day of the case. */
			c->band = sim_checkpoint_band[cp];
			c->case_day = 0;
			xa = x - sim_band_eff[r->band] + sim_band_eff[c->band];
			sim_target_p(s, SIM_T_ASSESSMENT, r, xa, &q, &q0);
			q = sim_logistic(log(q / (1.0 - q)) +
			    sim_checkpoint_eff[cp]);
			q0 = sim_logistic(log(q0 / (1.0 - q0)) +
			    sim_checkpoint_eff[cp]);
			c->q = q;
			c->q0 = q0;
			u = sim_rng_u01(&g);
			c->outcome = u < q ? SIM_LATE : SIM_ON_TIME;
			sim_child_break(o, &g, c);
		}
	}
}

/* The other targets' effects in force in week w: noise and drifts. */
static void
sim_week_targets(struct sim *s, int w)
{
	const struct sim_options	*o = &s->o;
	const struct sim_drift		*d;
	double				*e;
	int				 t, office, cell, j;

	for (t = SIM_T_SUPPLEMENT; t < SIM_NTARGETS; t++) {
		for (office = 0; office < o->offices; office++) {
			for (cell = 0; cell < SIM_NCELLS; cell++) {
				e = &s->teff[t][office * SIM_NCELLS + cell];
				*e = s->talpha[t][office] + o->tau *
				    sim_hash_normal(sim_hash(s->key,
				    SIM_TAG_TDEV, (uint64_t)w,
				    (uint64_t)office, (uint64_t)(cell *
				    SIM_NTARGETS + t)));
				for (j = 0; j < o->ndrifts; j++) {
					d = &o->drifts[j];
					if (d->target == t &&
					    (d->office == -1 ||
					    d->office == office) &&
					    (d->benefit == -1 ||
					    d->benefit == cell / SIM_NKINDS) &&
					    (d->kind == -1 ||
					    d->kind == cell % SIM_NKINDS) &&
					    w >= d->from_week &&
					    (d->to_week == -1 ||
					    w < d->to_week))
						*e += d->log_or;
				}
			}
		}
	}
}

/* Prepare week w: calendar, effects in force, and its drawn events. */
static void
sim_week_fill(struct sim *s, int w)
{
	const struct sim_options	*o = &s->o;
	const struct sim_drift		*d;
	double				 factor = 1.0, natdev[SIM_NCELLS];
	double				*e;
	uint32_t			 i, n;
	int				 slot, office, cell, j;

	s->week = w;
	for (slot = 0; slot < SIM_SLOTS; slot++) {
		s->slot_t[slot] = sim_local_time(s, 7 * w + slot / 24,
		    slot % 24, &s->slot_off[slot]);
	}
	s->season = sim_season(sim_week_of_year(s, w));
	for (j = 0; j < o->nshifts; j++) {
		if (w >= o->shifts[j].from_week)
			factor *= o->shifts[j].factor;
	}
	sim_mix_make(&s->mix, factor);

	for (cell = 0; cell < SIM_NCELLS; cell++) {
		natdev[cell] = o->tau_national * sim_hash_normal(sim_hash(
		    s->key, SIM_TAG_NATDEV, (uint64_t)w, (uint64_t)cell, 0));
	}
	for (office = 0; office < o->offices; office++) {
		for (cell = 0; cell < SIM_NCELLS; cell++) {
			e = &s->eff[office * SIM_NCELLS + cell];
			*e = s->alpha[office] + natdev[cell] + o->tau *
			    sim_hash_normal(sim_hash(s->key, SIM_TAG_DEV,
			    (uint64_t)w, (uint64_t)office, (uint64_t)cell));
			for (j = 0; j < o->ndrifts; j++) {
				d = &o->drifts[j];
				if (d->target == SIM_T_REJECTION &&
				    (d->office == -1 || d->office == office) &&
				    (d->benefit == -1 ||
				    d->benefit == cell / SIM_NKINDS) &&
				    (d->kind == -1 ||
				    d->kind == cell % SIM_NKINDS) &&
				    w >= d->from_week &&
				    (d->to_week == -1 || w < d->to_week))
					*e += d->log_or;
			}
		}
	}

	if (sim_other_events(s))
		sim_week_targets(s, w);

	n = s->volume[w];
	s->nrecs = n;
	for (i = 0; i < n; i++) {
		double	x = sim_rec_draw(s, w, i, &s->recs[i]);

		if (sim_other_events(s))
			sim_children_draw(s, &s->recs[i], x);
	}
	/* An appeal asked for without its reconsideration. */
	for (i = n, j = (int)n; i < s->nrecs; i++) {
		if (s->recs[i].event != SIM_NEVENTS)
			s->recs[j++] = s->recs[i];
	}
	if (s->nrecs > n)
		s->nrecs = (size_t)j;
	qsort(s->recs, s->nrecs, sizeof *s->recs, sim_rec_cmp);
	s->next = 0;
}

/* Order of the duplicate heap: by due, then by sequence. */
static int
sim_heap_less(const struct simrec *a, const struct simrec *b)
{
	if (a->due != b->due)
		return (a->due < b->due);
	return (a->seq < b->seq);
}

/* Add a duplicate to the heap. */
static void
sim_heap_push(struct sim *s, const struct simrec *r)
{
	struct simrec	tmp;
	int		i = s->nheap++, parent;

	s->heap[i] = *r;
	while (i > 0) {
		parent = (i - 1) / 2;
		if (!sim_heap_less(&s->heap[i], &s->heap[parent]))
			break;
		tmp = s->heap[i];
		s->heap[i] = s->heap[parent];
		s->heap[parent] = tmp;
		i = parent;
	}
}

/* Take the duplicate due first off the heap into r. */
static void
sim_heap_pop(struct sim *s, struct simrec *r)
{
	struct simrec	tmp;
	int		i = 0, c;

	*r = s->heap[0];
	s->heap[0] = s->heap[--s->nheap];
	for (;;) {
		c = 2 * i + 1;
		if (c >= s->nheap)
			break;
		if (c + 1 < s->nheap && sim_heap_less(&s->heap[c + 1],
		    &s->heap[c]))
			c++;
		if (!sim_heap_less(&s->heap[c], &s->heap[i]))
			break;
		tmp = s->heap[i];
		s->heap[i] = s->heap[c];
		s->heap[c] = tmp;
		i = c;
	}
}

/* Output cursor into an event's buffer. */
struct simout {
	char	*p;
	char	*end;
};

/* Append bytes to the event buffer, truncating at its end. */
static void
sim_put(struct simout *w, const char *s, size_t len)
{
	if (w->p >= w->end)
		return;
	if (len > (size_t)(w->end - w->p))
		len = (size_t)(w->end - w->p);
	memcpy(w->p, s, len);
	w->p += len;
}

static void
sim_puts(struct simout *w, const char *s)
{
	sim_put(w, s, strlen(s));
}

static void
sim_putc(struct simout *w, char c)
{
	if (w->p < w->end)
		*w->p++ = c;
}

/* Append a decimal number. */
static void
sim_put_u64(struct simout *w, uint64_t v)
{
	char	tmp[24];
	int	n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	while (n > 0)
		sim_putc(w, tmp[--n]);
}

/* A number with at least digits digits, zero padded. */
static void
sim_put_pad(struct simout *w, unsigned v, int digits)
{
	char	tmp[12];
	int	n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0 || n < digits);
	while (n > 0)
		sim_putc(w, tmp[--n]);
}

/* decided_at as Unix seconds or RFC 3339 in local time or UTC. */
static void
sim_put_time(struct simout *w, const struct simrec *r)
{
	int64_t		lt, days, sec;
	int		y, m, d, off;

	if (r->tsform == SIM_TSF_UNIX) {
		sim_put_u64(w, (uint64_t)r->t);
		return;
	}
	off = r->tsform == SIM_TSF_LOCAL ? r->gmtoff : 0;
	lt = r->t + off;
	days = lt >= 0 ? lt / 86400 : -((-lt + 86399) / 86400);
	sec = lt - days * 86400;
	sim_civil_from_days(days, &y, &m, &d);
	sim_put_pad(w, (unsigned)y, 4);
	sim_putc(w, '-');
	sim_put_pad(w, (unsigned)m, 2);
	sim_putc(w, '-');
	sim_put_pad(w, (unsigned)d, 2);
	sim_putc(w, 'T');
	sim_put_pad(w, (unsigned)(sec / 3600), 2);
	sim_putc(w, ':');
	sim_put_pad(w, (unsigned)(sec / 60 % 60), 2);
	sim_putc(w, ':');
	sim_put_pad(w, (unsigned)(sec % 60), 2);
	if (r->frac != 0) {
		sim_putc(w, '.');
		sim_put_pad(w, r->frac, 3);
	}
	if (r->tsform == SIM_TSF_Z) {
		sim_putc(w, 'Z');
		return;
	}
	sim_putc(w, off < 0 ? '-' : '+');
	off = off < 0 ? -off : off;
	sim_put_pad(w, (unsigned)(off / 3600), 2);
	sim_putc(w, ':');
	sim_put_pad(w, (unsigned)(off / 60 % 60), 2);
}

/* The id: "d", the seed, "-", the sequence number. */
static void
sim_put_id(struct sim *s, struct simout *w, const struct simrec *r)
{
	sim_putc(w, 'd');
	sim_put_u64(w, s->o.seed);
	sim_putc(w, '-');
	sim_put_u64(w, r->seq);
}

/* Write the value of field f of r, broken if r's defect is there. */
static void
sim_put_field(struct sim *s, struct simout *w, const struct simrec *r,
    int f, int broken)
{
	char	*mark = w->p;
	int	 v = r->variant;

	switch (f) {
	case SIM_F_ID:
		sim_put_id(s, w, r);
		if (broken && v % 4 == 0) {
			sim_puts(w, "/x");
		} else if (broken && v % 4 == 1) {
			w->p = mark;
		} else if (broken) {
			sim_putc(w, '-');
			while (w->p - mark < (v % 4 == 2 ? 65 : 150))
				sim_putc(w, (char)('a' + (w->p - mark) % 26));
		}
		break;
	case SIM_F_OFFICE:
		sim_puts(w, s->names[r->office]);
		if (broken) {
			switch (v % 5) {
			case 0:
				sim_puts(w, " x");
				break;
			case 1:
				sim_puts(w, "/x");
				break;
			case 2:
				sim_puts(w, "\xc3\xa4");	/* a-umlaut */
				break;
			case 3:
				sim_putc(w, '-');
				while (w->p - mark < 33)
					sim_putc(w, 'x');
				break;
			default:
				w->p = mark;
				break;
			}
		}
		break;
	case SIM_F_BENEFIT:
		sim_puts(w, broken ? sim_bad_benefits[v %
		    SIM_NELEM(sim_bad_benefits)] : sim_benefits[r->benefit]);
		break;
	case SIM_F_KIND:
		sim_puts(w, broken ? sim_bad_kinds[v %
		    SIM_NELEM(sim_bad_kinds)] : sim_kinds[r->kind]);
		break;
	case SIM_F_OUTCOME:
		if (r->malformed == SIM_DEF_FOREIGN)
			sim_puts(w, sim_foreign_outcomes[r->event][v % 3]);
		else
			sim_puts(w, broken ? sim_bad_outcomes[v %
			    SIM_NELEM(sim_bad_outcomes)] :
			    sim_outcome_name(r->outcome));
		break;
	case SIM_F_DECIDED_AT:
		if (broken)
			sim_puts(w, sim_bad_times[v % SIM_NELEM(sim_bad_times)]);
		else
			sim_put_time(w, r);
		break;
	case SIM_F_AGE:
		sim_puts(w, sim_ages[r->age]);
		break;
	case SIM_F_SEX:
		sim_puts(w, sim_sexes[r->sex]);
		break;
	case SIM_F_DIAGNOSIS:
		if (r->chapter == 0)
			break;
		sim_putc(w, (char)('A' + r->chapter - 1));
		if (r->diagform >= 1)
			sim_put_pad(w, r->diagnum, 2);
		if (r->diagform == 2) {
			sim_putc(w, '.');
			sim_putc(w, (char)('0' + r->diagsub));
		}
		break;
	case SIM_F_CASEDAY:
		if (broken)
			sim_puts(w, sim_bad_case_days[v %
			    SIM_NELEM(sim_bad_case_days)]);
		else if (r->case_day != 0)
			sim_put_u64(w, r->case_day);
		break;
	case SIM_F_EMPLOYMENT:
		sim_puts(w, sim_employments[r->employment]);
		break;
	case SIM_F_CARE:
		sim_puts(w, sim_cares[r->care]);
		break;
	case SIM_F_REGION:
		if (!r->region_missing)
			sim_puts(w, s->region[r->office]);
		break;
	case SIM_F_EVENT:
		sim_puts(w, broken ? sim_bad_events[v %
		    SIM_NELEM(sim_bad_events)] : sim_events[r->event]);
		break;
	case SIM_F_DETAIL:
		if (broken && r->event == SIM_EV_DECISION)
			sim_puts(w, sim_bad_supplements[v %
			    SIM_NELEM(sim_bad_supplements)]);
		else if (broken)
			sim_puts(w, sim_bad_checkpoints[(v / 2) %
			    SIM_NELEM(sim_bad_checkpoints)]);
		else
			sim_puts(w, sim_detail_name(r->event, r->detail));
		break;
	case SIM_F_COURT:
		sim_puts(w, sim_courts[r->court - 1]);
		break;
	}
}

/* Whether optional field f is absent from the entry (not even ""). */
static int
sim_field_absent(const struct simrec *r, int f)
{
	switch (f) {
	case SIM_F_EVENT:
		return (r->event == SIM_EV_DECISION);
	case SIM_F_DETAIL:
		return (r->detail == 0 || sim_detail_fields[r->event] == NULL);
	case SIM_F_COURT:
		return (r->court == 0);
	case SIM_F_AGE:
		return (r->age == 0 && !(r->empty & SIM_EMPTY_AGE));
	case SIM_F_SEX:
		return (r->sex == 0 && !(r->empty & SIM_EMPTY_SEX));
	case SIM_F_DIAGNOSIS:
		return (r->chapter == 0 && !(r->empty & SIM_EMPTY_DIAG));
	case SIM_F_CASEDAY:
		/* An assessment's is its checkpoint's day: left out. */
		return (r->case_day == 0 && (!(r->empty & SIM_EMPTY_CASEDAY) ||
		    r->event == SIM_EV_ASSESSMENT));
	case SIM_F_EMPLOYMENT:
		return (r->employment == 0 &&
		    !(r->empty & SIM_EMPTY_EMPLOYMENT));
	case SIM_F_CARE:
		return (r->care == 0 && !(r->empty & SIM_EMPTY_CARE));
	case SIM_F_REGION:
		return (r->region_missing && !(r->empty & SIM_EMPTY_REGION));
	}
	return (0);
}

/* The event kind and its yes/no truth into ev. */
static void
sim_render_truth(const struct simrec *r, struct sim_event *ev)
{
	ev->event = r->event;
	ev->detail = r->detail;
	ev->sq = ev->sq0 = 0.0;
	switch (r->event) {
	case SIM_EV_DECISION:
		ev->yes = r->outcome == SIM_DISMISSED ? -1 :
		    r->outcome == SIM_REJECTED;
		ev->q = r->p;
		ev->q0 = r->p0;
		ev->sq = r->q;
		ev->sq0 = r->q0;
		break;
	case SIM_EV_ASSESSMENT:
		ev->yes = r->outcome == SIM_LATE;
		ev->q = r->q;
		ev->q0 = r->q0;
		break;
	default:
		ev->yes = r->outcome == SIM_CHANGED;
		ev->q = r->q;
		ev->q0 = r->q0;
		break;
	}
}

/* Render r into ev as field/value pairs. */
static void
sim_render(struct sim *s, const struct simrec *r, int type,
    struct sim_event *ev)
{
	struct simout	w;
	int		f, broken_field = -1, skip = -1;

	ev->type = type;
	ev->nfields = 0;
	ev->defect = NULL;
	ev->seq = r->seq;
	ev->week = r->week;
	ev->office = r->office;
	ev->benefit = r->benefit;
	ev->kind = r->kind;
	ev->outcome = r->outcome;
	ev->decided_at = r->t;
	ev->p = r->p;
	ev->p0 = r->p0;
	sim_render_truth(r, ev);

	switch (r->malformed) {
	case SIM_DEF_MISSING:
		skip = r->variant % 6;
		ev->defect = sim_missing_defects[skip];
		break;
	case SIM_DEF_OUTCOME:
		broken_field = SIM_F_OUTCOME;
		ev->defect = "bad outcome";
		break;
	case SIM_DEF_TIME:
		broken_field = SIM_F_DECIDED_AT;
		ev->defect = "bad decided_at";
		break;
	case SIM_DEF_CASEDAY:
		broken_field = SIM_F_CASEDAY;
		ev->defect = "bad case_day";
		break;
	case SIM_DEF_OFFICE:
		broken_field = SIM_F_OFFICE;
		ev->defect = "bad office";
		break;
	case SIM_DEF_BENEFIT:
		broken_field = SIM_F_BENEFIT;
		ev->defect = "unknown benefit";
		break;
	case SIM_DEF_ID:
		broken_field = SIM_F_ID;
		ev->defect = "bad id";
		break;
	case SIM_DEF_KIND:
		broken_field = SIM_F_KIND;
		ev->defect = "bad kind";
		break;
	case SIM_DEF_EVENT:
		broken_field = SIM_F_EVENT;
		ev->defect = "unknown event";
		break;
	case SIM_DEF_FOREIGN:
		broken_field = SIM_F_OUTCOME;
		ev->defect = "outcome of another kind";
		break;
	case SIM_DEF_CHECKPOINT:
		/* Left out, or a value that is not one. */
		if (r->variant % 2 == 0)
			skip = SIM_F_DETAIL;
		else
			broken_field = SIM_F_DETAIL;
		ev->defect = r->variant % 2 == 0 ? "missing checkpoint" :
		    "bad checkpoint";
		break;
	case SIM_DEF_SUPPLEMENT:
		broken_field = SIM_F_DETAIL;
		ev->defect = "bad supplement_requested";
		break;
	}

	w.p = ev->buf;
	w.end = ev->buf + sizeof ev->buf - SIM_NFIELDS;	/* room for NULs */
	for (f = 0; f < SIM_NFIELDS; f++) {
		if (f == skip)
			continue;
		if (f != broken_field && sim_field_absent(r, f))
			continue;
		ev->names[ev->nfields] = f == SIM_F_DETAIL ?
		    sim_detail_fields[r->event] : sim_field_names[f];
		ev->values[ev->nfields] = w.p;
		sim_put_field(s, &w, r, f, f == broken_field);
		ev->lens[ev->nfields] = (size_t)(w.p - ev->values[ev->nfields]);
		*w.p++ = '\0';
		ev->nfields++;
	}
}

/*
 * The next decision in time order, or NULL at the end; *type is its
 * enum sim_type. Duplicates are queued only in time order: the other
 * orders send each right after its first sending.
 */
static const struct simrec *
sim_step(struct sim *s, int *type)
{
	struct simrec	*rp;

	for (;;) {
		if (s->nheap > 0 && (s->heap[0].due <= s->primaries ||
		    (s->week == s->o.weeks - 1 && s->next == s->nrecs))) {
			sim_heap_pop(s, &s->popped);
			*type = SIM_DUPLICATE;
			return (&s->popped);
		}
		if (s->week >= 0 && s->next < s->nrecs) {
			rp = &s->recs[s->next++];
			/*
			 * The other kinds take their decision's id (sent
			 * before them), so decisions keep theirs.
			 */
			if (rp->event == SIM_EV_DECISION) {
				rp->seq = ++s->seq;
				if (s->seq_of != NULL)
					s->seq_of[rp->idx] = rp->seq;
			} else
				rp->seq = s->seq_of[rp->parent];
			s->primaries++;
			/* Left out after numbering, so the rest keep their ids. */
			if (!(s->o.benefits & SIM_BENEFIT_BIT(rp->benefit)))
				continue;
			if (rp->dup && s->o.order == SIM_ORDER_TIME) {
				rp->due = s->primaries + rp->dupdelay;
				sim_heap_push(s, rp);
			}
			*type = rp->malformed ? SIM_MALFORMED : SIM_VALID;
			return (rp);
		}
		if (s->week + 1 < s->o.weeks) {
			sim_week_fill(s, s->week + 1);
			continue;
		}
		if (s->nheap == 0)
			return (NULL);
	}
}

/*
 * By seq, which follows time; the other kinds share their decision's seq
 * and come after it in time.
 */
static int
sim_seq_cmp(const struct simrec *ra, const struct simrec *rb)
{
	if (ra->seq != rb->seq)
		return (ra->seq < rb->seq ? -1 : 1);
	return (sim_rec_cmp(ra, rb));
}

/* Office by office, each in time order (seq follows time). */
static int
sim_office_cmp(const void *a, const void *b)
{
	const struct simrec	*ra = a, *rb = b;

	if (ra->office != rb->office)
		return (ra->office < rb->office ? -1 : 1);
	return (sim_seq_cmp(ra, rb));
}

/* By a random key kept in due (unused outside time order). */
static int
sim_shuffle_cmp(const void *a, const void *b)
{
	const struct simrec	*ra = a, *rb = b;

	if (ra->due != rb->due)
		return (ra->due < rb->due ? -1 : 1);
	return (sim_seq_cmp(ra, rb));
}

static int
sim_benefit_cmp(const void *a, const void *b)
{
	const struct simrec	*ra = a, *rb = b;

	if (ra->benefit != rb->benefit)
		return (ra->benefit < rb->benefit ? -1 : 1);
	return (sim_seq_cmp(ra, rb));
}

/*
 * Draw the whole run in time order, so every decision has the id and
 * truth it has there, then put it in the arrival order asked for.
 */
static int
sim_draw_all(struct sim *s, char **cause)
{
	const struct simrec	*r;
	struct simrec		*tmp;
	size_t			 total = 0, i;
	int			 w, type;

	for (w = 0; w < s->o.weeks; w++)
		total += s->volume[w];
	if (total > 0 && (s->all = calloc(total, sizeof *s->all)) == NULL) {
		sim_cause(cause, "out of memory for %zu events", total);
		return (-1);
	}
	while ((r = sim_step(s, &type)) != NULL) {
		if (type == SIM_DUPLICATE)
			continue;
		/* The other kinds come on top of the decisions. */
		if (s->nall == total) {
			total = total + total / 2 + 16;
			if ((tmp = reallocarray(s->all, total,
			    sizeof *s->all)) == NULL) {
				sim_cause(cause, "out of memory for %zu "
				    "events", total);
				return (-1);
			}
			s->all = tmp;
		}
		s->all[s->nall++] = *r;
	}
	if (s->nall < total && s->nall > 0 &&
	    (tmp = realloc(s->all, s->nall * sizeof *s->all)) != NULL)
		s->all = tmp;

	switch (s->o.order) {
	case SIM_ORDER_SHUFFLED:
		/*
		 * A random key per decision rather than a shuffle of the
		 * array: leaving benefits out keeps the rest in their order.
		 */
		for (i = 0; i < s->nall; i++)
			s->all[i].due = sim_hash(s->key, SIM_TAG_ORDER,
			    s->all[i].seq, 0, 0);
		qsort(s->all, s->nall, sizeof *s->all, sim_shuffle_cmp);
		break;
	case SIM_ORDER_OFFICE:
		qsort(s->all, s->nall, sizeof *s->all, sim_office_cmp);
		break;
	case SIM_ORDER_BENEFIT:
		qsort(s->all, s->nall, sizeof *s->all, sim_benefit_cmp);
		break;
	}
	return (0);
}

int
sim_next(struct sim *s, struct sim_event *ev)
{
	const struct simrec	*r;
	int			 type;

	if (s->o.order == SIM_ORDER_TIME) {
		if ((r = sim_step(s, &type)) == NULL)
			return (1);
		sim_render(s, r, type, ev);
		return (0);
	}
	if (s->dup_pending) {
		s->dup_pending = 0;
		sim_render(s, &s->all[s->allnext - 1], SIM_DUPLICATE, ev);
		return (0);
	}
	if (s->allnext == s->nall)
		return (1);
	r = &s->all[s->allnext++];
	s->dup_pending = r->dup;
	sim_render(s, r, r->malformed ? SIM_MALFORMED : SIM_VALID, ev);
	return (0);
}
