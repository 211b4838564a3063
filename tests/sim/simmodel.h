/*
 * The simulated agency: a pure, deterministic model of sickness-insurance
 * decisions with a known truth (case mix, office effects, overdispersion,
 * injected drift, malformed entries and re-sent duplicates). No I/O.
 */
#ifndef STABILD_SIMMODEL_H
#define STABILD_SIMMODEL_H

#include <stddef.h>
#include <stdint.h>

#define SIM_NBENEFITS		4
#define SIM_NKINDS		2
#define SIM_MAXOFFICES		999
#define SIM_MAXWEEKS		5200
#define SIM_MAXDRIFTS		64
#define SIM_MAXSHIFTS		16
#define SIM_MAXFIELDS		16
#define SIM_EVENTBUF		1024
#define SIM_LABELMAX		16	/* "2015-W02" and NUL */
#define SIM_OFFICEMAX		8	/* "K001" and NUL */

enum sim_type {
	SIM_VALID = 0,		/* first sending of a valid event */
	SIM_DUPLICATE = 1,	/* a valid event sent again, same id */
	SIM_MALFORMED = 2,	/* breaks the contract: must be dead-lettered */
};

enum sim_outcome {
	SIM_GRANTED = 0,
	SIM_REJECTED = 1,
	SIM_PARTIAL = 2,	/* partly granted: not a rejection */
	SIM_DISMISSED = 3,	/* not tried on the merits */
	/* The other event kinds' outcomes, numbered as in decision.h. */
	SIM_CHANGED = 4,	/* reconsideration, appeal */
	SIM_UNCHANGED = 5,
	SIM_ON_TIME = 6,	/* assessment */
	SIM_LATE = 7,
};

/* Event kinds, numbered as enum decision_event. */
enum sim_eventkind {
	SIM_EV_DECISION = 0,
	SIM_EV_RECONSIDERATION = 1,
	SIM_EV_APPEAL = 2,
	SIM_EV_ASSESSMENT = 3,
};
#define SIM_NEVENTS		4

/*
 * What a drift or a truth row is about: the rejection rate, or the yes
 * rate of another event kind. Bits of sim_options.events (1 << target);
 * rejection is always on.
 */
enum sim_target {
	SIM_T_REJECTION = 0,
	SIM_T_SUPPLEMENT = 1,	/* a decision's supplement_requested */
	SIM_T_RECONSIDERATION = 2,
	SIM_T_APPEAL = 3,
	SIM_T_ASSESSMENT = 4,
};
#define SIM_NTARGETS		5
#define SIM_TARGET_BIT(t)	(1u << (t))
#define SIM_EVENTS_ALL		((1u << SIM_NTARGETS) - 1)

/* The order events arrive in; the same events in every order. */
enum sim_order {
	SIM_ORDER_TIME = 0,	/* week by week, in decision time */
	SIM_ORDER_SHUFFLED = 1,	/* a seeded permutation of the whole run */
	SIM_ORDER_OFFICE = 2,	/* office by office, each in time order */
	SIM_ORDER_BENEFIT = 3,	/* benefit by benefit, each in time order */
};
#define SIM_NORDERS		4

/* Bits of sim_options.benefits. */
#define SIM_BENEFIT_BIT(b)	(1u << (b))
#define SIM_BENEFITS_ALL	((1u << SIM_NBENEFITS) - 1)

enum sim_tsformat {
	SIM_TS_MIXED = 0,	/* Unix seconds, local offsets and Z */
	SIM_TS_RFC3339 = 1,	/* local offsets and Z */
	SIM_TS_UNIX = 2,	/* Unix seconds only */
};

/* One injected change of practice: log(OR) added to its target's logit. */
struct sim_drift {
	int		 office;	/* office index, -1 for national */
	int		 benefit;	/* benefit index, -1 for all */
	int		 kind;		/* 0 first, 1 ongoing, -1 for both */
	int		 from_week;	/* first simulation week, 0-based */
	int		 to_week;	/* first week without it, -1 never */
	double		 log_or;
	int		 target;	/* enum sim_target */
};

/* A case-mix-only change: more F diagnoses and long cases from a week. */
struct sim_shift {
	int		 from_week;
	double		 factor;	/* > 1 raises the shares, < 1 lowers */
};

struct sim_options {
	uint64_t	 seed;
	int		 offices;
	int		 weeks;
	int		 start_year;	/* a Monday, local date */
	int		 start_mon;
	int		 start_mday;
	double		 per_week;	/* national decisions in an ordinary week */
	double		 tau;		/* sd of weekly (office, benefit, kind) log odds */
	double		 tau_national;	/* sd of weekly (benefit, kind) log odds */
	double		 office_sd;	/* sd of the fixed office effects */
	double		 malformed;	/* fraction of events replaced by broken ones */
	double		 duplicates;	/* fraction of valid events sent again */
	int		 timestamps;	/* enum sim_tsformat */
	int		 order;		/* enum sim_order */
	unsigned	 benefits;	/* SIM_BENEFIT_BIT of those sent */
	struct sim_drift drifts[SIM_MAXDRIFTS];
	int		 ndrifts;
	struct sim_shift shifts[SIM_MAXSHIFTS];
	int		 nshifts;
	unsigned	 events;	/* bits 1 << enum sim_target; 0: decisions */
};

/*
 * One event as returned by sim_next. names/values/lens are the stream
 * entry's field/value pairs in order, ready for XADD; values point into buf,
 * so the struct must not be copied and is valid until the next sim_next on
 * it. The rest is the truth behind the event (for a malformed event: what it
 * would have been had it not been broken).
 */
struct sim_event {
	int		 type;		/* enum sim_type */
	int		 nfields;
	const char	*names[SIM_MAXFIELDS];
	const char	*values[SIM_MAXFIELDS];
	size_t		 lens[SIM_MAXFIELDS];
	const char	*defect;	/* malformed: what is broken, else NULL */

	uint64_t	 seq;		/* the id's sequence number */
	int		 week;		/* simulation week, 0-based */
	int		 office;
	int		 benefit;
	int		 kind;
	int		 outcome;	/* enum sim_outcome */
	int64_t		 decided_at;	/* Unix seconds */
	double		 p;		/* true P(rejected | tried on the merits) */
	double		 p0;		/* same in control: no drift, no weekly noise */
	/*
	 * The event kind and its yes/no truth. A decision's target is the
	 * rejection rate (q, q0 as p, p0; yes -1 when dismissed), and its
	 * supplement_requested is detail 1 (yes) or 2 (no) with P(yes) in
	 * sq, sq0. A reconsideration's detail is changed_to (0 when
	 * unchanged), an assessment's its checkpoint (1 90, 2 180, 3 365).
	 */
	int		 event;		/* enum sim_eventkind */
	int		 detail;	/* enum decision_detail's numbers */
	int		 yes;		/* 1 yes, 0 no, -1 neither */
	double		 q;		/* true P(yes) of its target */
	double		 q0;		/* same in control */
	double		 sq;		/* decision: P(supplement requested) */
	double		 sq0;

	char		 buf[SIM_EVENTBUF];
};

struct sim;

/* Fill o with the defaults (58 offices, 60000 a week from 2015-01-05). */
void sim_options_default(struct sim_options *o);
/*
 * Parse "SCOPE:BENEFIT:KIND:FROM_WEEK:ODDS_RATIO[:TO_WEEK][@TARGET]" into
 * o; TARGET is rejection (the default) or another target's name.
 */
int sim_drift_parse(struct sim_options *o, const char *s, char **cause);
/* Parse "FROM_WEEK:FACTOR" into o. */
int sim_shift_parse(struct sim_options *o, const char *s, char **cause);
/* Parse "YYYY-MM-DD" into o's start date (the Monday is checked later). */
int sim_start_parse(struct sim_options *o, const char *s, char **cause);
/* Parse a comma-separated list of benefit names into o->benefits. */
int sim_benefits_parse(struct sim_options *o, const char *s, char **cause);
/*
 * Parse "all" or a comma-separated list of targets (rejection, supplement,
 * reconsideration, appeal, assessment) into o->events.
 */
int sim_events_parse(struct sim_options *o, const char *s, char **cause);
/* enum sim_target of a name, -1 if unknown; the name of one, "?". */
int sim_target_find(const char *name);
const char *sim_target_name(int target);
/* "decision", "reconsideration", "appeal", "assessment"; "?". */
const char *sim_event_name(int event);
/* A detail value's name for an event kind ("180", "granted"); "-" if 0. */
const char *sim_detail_name(int event, int detail);
/* enum sim_order of "time", "shuffled", "office" or "benefit"; -1 if not. */
int sim_order_find(const char *name);
const char *sim_order_name(int order);

/*
 * Make a simulation. Selects the Europe/Stockholm zone for the process
 * (TZ). Returns NULL with *cause set (caller frees) when the options are
 * bad or the zone is missing.
 */
struct sim *sim_create(const struct sim_options *o, char **cause);
void sim_free(struct sim *s);
/*
 * The next event into ev: 0, or 1 at the end. Orders other than time
 * draw the whole run first (about 80 bytes an event) and send each
 * duplicate right after its first sending.
 */
int sim_next(struct sim *s, struct sim_event *ev);

int sim_noffices(const struct sim *s);
int sim_nweeks(const struct sim *s);
/* Borrowed names, valid for the life of s (office) or forever. */
const char *sim_office_name(const struct sim *s, int office);
const char *sim_benefit_name(int benefit);
const char *sim_kind_name(int kind);
const char *sim_outcome_name(int outcome);
/* Index of a benefit / kind name, -1 if unknown. */
int sim_benefit_find(const char *name);
int sim_kind_find(const char *name);
/* ISO week label ("2015-W02") of simulation week w into buf. */
void sim_week_label(const struct sim *s, int w, char *buf, size_t len);
/* Unix time of local midnight starting simulation week w. */
int64_t sim_week_start(const struct sim *s, int w);
/* Fixed log-odds effect of an office relative to the nation. */
double sim_office_effect(const struct sim *s, int office);

#endif
