/*
 * The case-mix model (detection notes §2): per (benefit, kind), a ridge
 * logistic regression of "rejected" on the case-mix attributes and season,
 * fitted by IRLS from cell counts. It gives each decision its expected
 * rejection probability; the caller owns one model per (benefit, kind).
 */
#ifndef STABILD_MODEL_H
#define STABILD_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "decision.h"

/* Case-day bands: 0 missing, 1-14, 15-90, 91-180, 181-365, 366-550, 551+. */
#define MODEL_NCASE_BANDS	7
/* Week of year: 1..53; 0 means unknown and drops the seasonal terms. */
#define MODEL_NWEEKS		54

/* The attributes, in coefficient order. */
enum model_attr {
	MODEL_AGE = 0,		/* enum decision_age, 6 levels */
	MODEL_SEX,		/* enum decision_sex, 4 levels */
	MODEL_DIAGNOSIS,	/* 0 missing, 1..26 'A'..'Z', 27 levels */
	MODEL_CASE_BAND,	/* model_case_band(), 7 levels */
	MODEL_EMPLOYMENT,	/* enum decision_employment, 6 levels */
	MODEL_CARE,		/* enum decision_care, 3 levels */
};
#define MODEL_NATTRS		6

/*
 * Coefficient layout: the intercept, one slot per level of each attribute
 * (missing included), then the season: sin and cos of 2*pi*woy/52.1775,
 * then of 4*pi*woy/52.1775. In each attribute the level with the most
 * decisions in the fitted data is the reference: its slot is held at 0
 * (model_coef_is_reference), so 52 coefficients are free. A level absent
 * from the data gets 0 from the ridge penalty and predicts like the
 * reference.
 */
#define MODEL_COEF_INTERCEPT	0
#define MODEL_COEF_AGE		1
#define MODEL_COEF_SEX		(MODEL_COEF_AGE + DECISION_NAGES)
#define MODEL_COEF_DIAGNOSIS	(MODEL_COEF_SEX + DECISION_NSEXES)
#define MODEL_COEF_CASE_BAND	(MODEL_COEF_DIAGNOSIS + DECISION_NDIAGNOSES)
#define MODEL_COEF_EMPLOYMENT	(MODEL_COEF_CASE_BAND + MODEL_NCASE_BANDS)
#define MODEL_COEF_CARE		(MODEL_COEF_EMPLOYMENT + DECISION_NEMPLOYMENTS)
#define MODEL_COEF_SEASON	(MODEL_COEF_CARE + DECISION_NCARES)
#define MODEL_NCOEF		(MODEL_COEF_SEASON + 4)		/* 58 */

/* IRLS stops at this relative change of the penalised deviance. */
#define MODEL_TOLERANCE		1e-8
#define MODEL_MAX_ITERATIONS	50

/* One decision's covariates, as the model sees them. */
struct model_x {
	uint8_t		age;		/* enum decision_age */
	uint8_t		sex;		/* enum decision_sex */
	uint8_t		diagnosis;	/* 0 missing, 1..26 */
	uint8_t		case_band;	/* model_case_band() */
	uint8_t		employment;	/* enum decision_employment */
	uint8_t		care;		/* enum decision_care */
	uint8_t		woy;		/* ISO week 1..53, 0 unknown */
};

/* What the last successful fit (or load) found. */
struct model_fit_info {
	int		iterations;	/* Newton steps taken */
	bool		converged;
	double		deviance;	/* -2 log-likelihood of the decisions */
	double		null_deviance;	/* the same, intercept only */
	uint64_t	n;		/* decisions */
	uint64_t	rejected;	/* observed rejections */
	double		expected;	/* sum of fitted p: calibration */
	size_t		cells;		/* distinct covariate cells */
	double		ridge;
	uint32_t	version;	/* see model_version */
};

/* Case-day band of a day in the case (0 missing; above 550 is band 6). */
int model_case_band(uint16_t case_day);

/*
 * Fill x from the attribute codes of decision.h and the ISO week of year.
 * A value out of range is taken as missing (week: unknown).
 */
void model_x_set(struct model_x *x, uint8_t age, uint8_t sex,
    uint8_t diagnosis, uint16_t case_day, uint8_t employment, uint8_t care,
    int woy);

/*
 * Cell counts to fit from: decisions and rejections per distinct x.
 * Identical x are summed. Memory: up to about 60 bytes per distinct cell
 * (at most 4.4 million exist), and 24 more while a fit runs.
 */
struct model_data;

struct model_data *model_data_create(void);
void model_data_free(struct model_data *d);	/* NULL does nothing */
/* Add n decisions with x, rejected of them (clamped to n). n 0 is a no-op. */
void model_data_add(struct model_data *d, const struct model_x *x,
    uint32_t n, uint32_t rejected);
size_t model_data_cells(const struct model_data *d);
uint64_t model_data_n(const struct model_data *d);
uint64_t model_data_rejected(const struct model_data *d);

struct model;

/* A new model is not fitted: model_predict gives 0.5 until it is. */
struct model *model_create(void);
void model_free(struct model *m);		/* NULL does nothing */

/*
 * Fit from d. ridge (> 0) is the precision of a normal prior on each
 * coefficient but the intercept: the fit minimises
 * deviance + ridge * sum(beta_j^2). 1 is a weak prior (sd 1 on the log
 * odds), negligible next to national data. On success the version counter
 * goes up by one. Fails with *cause (caller frees) on no data, no
 * rejections or no approvals, a bad ridge, or a numerical breakdown; the
 * model is then unchanged.
 */
int model_fit(struct model *m, const struct model_data *d, double ridge,
    char **cause) __attribute__((warn_unused_result));
bool model_fitted(const struct model *m);

/* Expected rejection probability for x, in (0, 1). Table lookups only. */
double model_predict(const struct model *m, const struct model_x *x);
/* The linear predictor (log odds) for x. */
double model_eta(const struct model *m, const struct model_x *x);
/* 1 / (1 + exp(-eta)), kept inside (0, 1) for any eta, NaN excepted. */
double model_logistic(double eta);

/* Each fit adds one; the caller may set it, say when starting a regime. */
uint32_t model_version(const struct model *m);
void model_set_version(struct model *m, uint32_t version);

/* Introspection: coefficients by index 0 .. model_coef_count() - 1. */
int model_coef_count(void);
/* "intercept", "age=30-39", "diagnosis=missing", "season_cos2"; static. */
const char *model_coef_name(int i);
/* Slot of level of attr, or -1 when either is out of range. */
int model_coef_index(enum model_attr attr, int level);
double model_coef(const struct model *m, int i);
/* Standard error: sqrt of the diagonal of the inverse penalised Hessian. */
double model_coef_se(const struct model *m, int i);
bool model_coef_is_reference(const struct model *m, int i);
/* Reference level of attr in the current fit (0 before any fit). */
int model_reference(const struct model *m, enum model_attr attr);
/* Borrowed, valid until the next fit, load or free. */
const struct model_fit_info *model_info(const struct model *m);

/* Checkpoint image: a format version first, then everything above. */
void model_save(const struct model *m, struct buf *b);
/* Validates everything; on failure -1, *cause set and m unchanged. */
int model_load(struct model *m, struct buf_reader *r, char **cause)
    __attribute__((warn_unused_result));

#endif
