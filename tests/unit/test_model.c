/*
 * Tests for the case-mix model: recovery of known coefficients from
 * simulated decisions, cell counts against a dense per-decision fit,
 * prediction, degenerate data, checkpoint save/load, and the fit time.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "buf.h"
#include "decision.h"
#include "model.h"

#ifdef __SANITIZE_ADDRESS__
#define BENCH_PER_WEEK	10000	/* sanitizers are slow: a smaller year */
#else
#define BENCH_PER_WEEK	60000	/* a year of national decisions */
#endif

#define RECOVER_N	300000
#define DENSE_N		8000
#define YEAR_WEEKS	52.1775

/* splitmix64: small, fixed-seed, good enough for simulation. */
struct rng {
	uint64_t	s;
};

static uint64_t
rng_next(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform on [0, 1). */
static double
rng_uniform(struct rng *r)
{
	return (double)(rng_next(r) >> 11) * 0x1p-53;
}

/* Index drawn from weights w[0..n-1] summing to 1. */
static int
rng_pick(struct rng *r, const double *w, int n)
{
	double u = rng_uniform(r), c = 0;
	int i;

	for (i = 0; i < n - 1; i++) {
		c += w[i];
		if (u < c)
			return i;
	}
	return n - 1;
}

/* Realistic attribute frequencies. */
static const double age_w[DECISION_NAGES] = {
	0.02, 0.15, 0.22, 0.24, 0.23, 0.14,
};
static const double sex_w[DECISION_NSEXES] = { 0.01, 0.62, 0.365, 0.005 };
static const double band_w[MODEL_NCASE_BANDS] = {
	0.02, 0.10, 0.35, 0.20, 0.18, 0.08, 0.07,
};
static const int band_lo[MODEL_NCASE_BANDS] = {
	0, 1, 15, 91, 181, 366, 551,
};
static const int band_hi[MODEL_NCASE_BANDS] = {
	0, 14, 90, 180, 365, 550, 3000,
};
static const double employment_w[DECISION_NEMPLOYMENTS] = {
	0.03, 0.80, 0.08, 0.04, 0.02, 0.03,
};
static const double care_w[DECISION_NCARES] = { 0.05, 0.65, 0.30 };

#define DIAG(c)	((c) - 'A' + 1)

/* Diagnosis chapters: F and M dominate; U, W, X and Y never occur. */
static void
diagnosis_weights(double w[DECISION_NDIAGNOSES])
{
	static const struct {
		int	level;
		double	w;
	} common[] = {
		{ 0, 0.03 }, { DIAG('F'), 0.45 }, { DIAG('M'), 0.18 },
		{ DIAG('S'), 0.06 }, { DIAG('J'), 0.05 }, { DIAG('R'), 0.05 },
		{ DIAG('C'), 0.04 }, { DIAG('G'), 0.03 }, { DIAG('I'), 0.03 },
		{ DIAG('Z'), 0.03 }, { DIAG('O'), 0.02 },
	};
	static const char rare[] = "ABDEHKLNPQTV";
	size_t i;

	memset(w, 0, DECISION_NDIAGNOSES * sizeof *w);
	for (i = 0; i < sizeof common / sizeof common[0]; i++)
		w[common[i].level] = common[i].w;
	for (i = 0; rare[i] != '\0'; i++)
		w[DIAG(rare[i])] = 0.03 / 12;
}

/*
 * The true model as level effects over every slot (the zero is arbitrary:
 * the fit reports contrasts against its reference levels).
 */
static void
truth(double te[MODEL_NCOEF])
{
	memset(te, 0, MODEL_NCOEF * sizeof *te);
	te[MODEL_COEF_INTERCEPT] = -2.3;
	te[model_coef_index(MODEL_DIAGNOSIS, DIAG('F'))] = 0.6;
	te[model_coef_index(MODEL_DIAGNOSIS, DIAG('M'))] = 0.3;
	te[model_coef_index(MODEL_CASE_BAND, 4)] = 0.5;
	te[model_coef_index(MODEL_CASE_BAND, 6)] = 0.9;
	te[model_coef_index(MODEL_CARE, CARE_SPECIALIST)] = -0.4;
	te[model_coef_index(MODEL_EMPLOYMENT, EMPLOYMENT_UNEMPLOYED)] = 0.3;
	te[model_coef_index(MODEL_AGE, AGE_60)] = 0.2;
	/* Season: amplitude 0.15 on the first harmonic, 0.05 on the second. */
	te[MODEL_COEF_SEASON + 0] = 0.12;
	te[MODEL_COEF_SEASON + 1] = 0.09;
	te[MODEL_COEF_SEASON + 3] = 0.05;
}

static void
season(int woy, double s[4])
{
	double a = 2 * M_PI * woy / YEAR_WEEKS;

	s[0] = sin(a);
	s[1] = cos(a);
	s[2] = sin(2 * a);
	s[3] = cos(2 * a);
}

/* Level of attribute a in x. */
static int
level(const struct model_x *x, int a)
{
	switch (a) {
	case MODEL_AGE:
		return x->age;
	case MODEL_SEX:
		return x->sex;
	case MODEL_DIAGNOSIS:
		return x->diagnosis;
	case MODEL_CASE_BAND:
		return x->case_band;
	case MODEL_EMPLOYMENT:
		return x->employment;
	default:
		return x->care;
	}
}

/* Full one-hot linear predictor of x under level effects te. */
static double
truth_eta(const double te[MODEL_NCOEF], const struct model_x *x)
{
	double s[4], eta = te[MODEL_COEF_INTERCEPT];
	int a, k;

	for (a = 0; a < MODEL_NATTRS; a++)
		eta += te[model_coef_index(a, level(x, a))];
	season(x->woy, s);
	for (k = 0; k < 4; k++)
		eta += te[MODEL_COEF_SEASON + k] * s[k];
	return eta;
}

/* One simulated decision: covariates and outcome. */
struct sim {
	struct model_x	x;
	uint8_t		rejected;
};

static void
simulate(struct rng *r, const double te[MODEL_NCOEF], int woy,
    struct sim *d)
{
	static double diag_w[DECISION_NDIAGNOSES];
	static int ready;
	int band, day;

	if (!ready) {
		diagnosis_weights(diag_w);
		ready = 1;
	}
	band = rng_pick(r, band_w, MODEL_NCASE_BANDS);
	day = band_lo[band] + (int)(rng_uniform(r) *
	    (band_hi[band] - band_lo[band] + 1));
	model_x_set(&d->x, (uint8_t)rng_pick(r, age_w, DECISION_NAGES),
	    (uint8_t)rng_pick(r, sex_w, DECISION_NSEXES),
	    (uint8_t)rng_pick(r, diag_w, DECISION_NDIAGNOSES), (uint16_t)day,
	    (uint8_t)rng_pick(r, employment_w, DECISION_NEMPLOYMENTS),
	    (uint8_t)rng_pick(r, care_w, DECISION_NCARES), woy);
	d->rejected = rng_uniform(r) < 1 / (1 + exp(-truth_eta(te, &d->x)));
}

/* n decisions over weeks 1..52, each added to data as a single decision. */
static struct sim *
simulate_many(uint64_t seed, size_t n, const double te[MODEL_NCOEF],
    struct model_data *data)
{
	struct sim *d = calloc(n, sizeof *d);
	struct rng r = { seed };
	size_t i;

	assert_non_null(d);
	for (i = 0; i < n; i++) {
		simulate(&r, te, 1 + (int)(i % 52), &d[i]);
		if (data != NULL)
			model_data_add(data, &d[i].x, 1, d[i].rejected);
	}
	return d;
}

/* The fitted parametrisation of level effects te: contrasts to refs. */
static void
truth_contrasts(const struct model *m, const double te[MODEL_NCOEF],
    double want[MODEL_NCOEF])
{
	int a, v, ref;

	memcpy(want, te, MODEL_NCOEF * sizeof *want);
	for (a = 0; a < MODEL_NATTRS; a++) {
		ref = model_coef_index(a, model_reference(m, a));
		want[MODEL_COEF_INTERCEPT] += te[ref];
		for (v = 0; model_coef_index(a, v) != -1; v++)
			want[model_coef_index(a, v)] -= te[ref];
	}
}

/* Known coefficients come back, within their SEs and a stated tolerance. */
static void
test_recover(void **state)
{
	struct model_data *data = model_data_create();
	struct model *m = model_create();
	const struct model_fit_info *fi;
	double te[MODEL_NCOEF], want[MODEL_NCOEF], share[MODEL_NCOEF];
	double diff, se, tol, sum = 0, diag_w[DECISION_NDIAGNOSES];
	uint64_t rejected = 0;
	struct sim *d;
	char *cause = NULL;
	int i, v;

	(void)state;
	truth(te);
	d = simulate_many(42, RECOVER_N, te, data);
	assert_int_equal(model_data_n(data), RECOVER_N);
	assert_int_equal(model_fit(m, data, 1.0, &cause), 0);
	assert_null(cause);
	fi = model_info(m);

	/* The most frequent level of each attribute is the reference. */
	assert_int_equal(model_reference(m, MODEL_AGE), AGE_40_49);
	assert_int_equal(model_reference(m, MODEL_SEX), SEX_F);
	assert_int_equal(model_reference(m, MODEL_DIAGNOSIS), DIAG('F'));
	assert_int_equal(model_reference(m, MODEL_CASE_BAND), 2);
	assert_int_equal(model_reference(m, MODEL_EMPLOYMENT),
	    EMPLOYMENT_EMPLOYED);
	assert_int_equal(model_reference(m, MODEL_CARE), CARE_PRIMARY);

	/* Share of each level in the simulation. */
	diagnosis_weights(diag_w);
	for (i = 0; i < MODEL_NCOEF; i++)
		share[i] = 1;
	for (v = 0; v < DECISION_NAGES; v++)
		share[model_coef_index(MODEL_AGE, v)] = age_w[v];
	for (v = 0; v < DECISION_NSEXES; v++)
		share[model_coef_index(MODEL_SEX, v)] = sex_w[v];
	for (v = 0; v < DECISION_NDIAGNOSES; v++)
		share[model_coef_index(MODEL_DIAGNOSIS, v)] = diag_w[v];
	for (v = 0; v < MODEL_NCASE_BANDS; v++)
		share[model_coef_index(MODEL_CASE_BAND, v)] = band_w[v];
	for (v = 0; v < DECISION_NEMPLOYMENTS; v++)
		share[model_coef_index(MODEL_EMPLOYMENT, v)] = employment_w[v];
	for (v = 0; v < DECISION_NCARES; v++)
		share[model_coef_index(MODEL_CARE, v)] = care_w[v];

	/*
	 * Every coefficient within 4 SEs of the truth; levels with at least
	 * 10% of the decisions (and the intercept and season) within 0.05,
	 * levels with 5-10% within 0.08. Unseen levels are exactly 0 with
	 * the prior's SE, 1 / sqrt(ridge).
	 */
	truth_contrasts(m, te, want);
	printf("model: %-26s %8s %8s %7s\n", "coefficient", "truth", "fit",
	    "se");
	for (i = 0; i < MODEL_NCOEF; i++) {
		diff = fabs(model_coef(m, i) - want[i]);
		se = model_coef_se(m, i);
		if (model_coef_is_reference(m, i)) {
			assert_true(model_coef(m, i) == 0 && se == 0);
			continue;
		}
		if (share[i] == 0) {
			assert_true(model_coef(m, i) == 0);
			assert_float_equal(se, 1.0, 1e-12);
			continue;
		}
		printf("model: %-26s %8.4f %8.4f %7.4f\n", model_coef_name(i),
		    want[i], model_coef(m, i), se);
		assert_true(se > 0 && se < 1);
		assert_true(diff <= 4 * se);
		if (share[i] >= 0.05) {
			tol = share[i] >= 0.10 ? 0.05 : 0.08;
			assert_true(diff <= tol);
		}
	}

	assert_true(fi->converged);
	assert_in_range(fi->iterations, 1, 10);
	assert_int_equal(fi->n, RECOVER_N);
	assert_int_equal(fi->cells, model_data_cells(data));
	assert_true(fi->deviance < fi->null_deviance);
	assert_int_equal(fi->version, 1);
	assert_float_equal(fi->ridge, 1.0, 0);

	/* Calibration: the fitted p add up to the observed rejections. */
	for (i = 0; i < RECOVER_N; i++) {
		sum += model_predict(m, &d[i].x);
		rejected += d[i].rejected;
	}
	assert_int_equal(fi->rejected, rejected);
	assert_true(fabs(sum - (double)rejected) <= 1e-3 * (double)rejected);
	assert_true(fabs(fi->expected - (double)rejected) <=
	    1e-3 * (double)rejected);
	printf("model: %ju decisions, %zu cells, %d iterations, observed "
	    "%ju, expected %.2f, deviance %.1f (null %.1f)\n",
	    (uintmax_t)fi->n, fi->cells, fi->iterations,
	    (uintmax_t)fi->rejected, fi->expected, fi->deviance,
	    fi->null_deviance);

	/* A refit counts up the version; the caller may set it. */
	assert_int_equal(model_fit(m, data, 1.0, &cause), 0);
	assert_int_equal(model_version(m), 2);
	model_set_version(m, 7);
	assert_int_equal(model_info(m)->version, 7);
	assert_int_equal(model_fit(m, data, 1.0, &cause), 0);
	assert_int_equal(model_version(m), 8);

	free(d);
	model_data_free(data);
	model_free(m);
}

/* Solve a x = b by Gauss elimination with partial pivoting (a is lost). */
static void
gauss_solve(double *a, double *b, int n)
{
	double t, f;
	int i, j, k, p;

	for (k = 0; k < n; k++) {
		p = k;
		for (i = k + 1; i < n; i++) {
			if (fabs(a[i * n + k]) > fabs(a[p * n + k]))
				p = i;
		}
		for (j = 0; j < n; j++) {
			t = a[k * n + j];
			a[k * n + j] = a[p * n + j];
			a[p * n + j] = t;
		}
		t = b[k];
		b[k] = b[p];
		b[p] = t;
		for (i = k + 1; i < n; i++) {
			f = a[i * n + k] / a[k * n + k];
			for (j = k; j < n; j++)
				a[i * n + j] -= f * a[k * n + j];
			b[i] -= f * b[k];
		}
	}
	for (k = n - 1; k >= 0; k--) {
		t = b[k];
		for (j = k + 1; j < n; j++)
			t -= a[k * n + j] * b[j];
		b[k] = t / a[k * n + k];
	}
}

/* The dense design row of x under m's reference levels. */
static void
dense_row(const struct model *m, const struct model_x *x,
    double row[MODEL_NCOEF])
{
	double s[4];
	int a, j;

	memset(row, 0, MODEL_NCOEF * sizeof *row);
	row[MODEL_COEF_INTERCEPT] = 1;
	for (a = 0; a < MODEL_NATTRS; a++) {
		j = model_coef_index(a, level(x, a));
		if (!model_coef_is_reference(m, j))
			row[j] = 1;
	}
	season(x->woy, s);
	for (j = 0; j < 4; j++)
		row[MODEL_COEF_SEASON + j] = s[j];
}

/*
 * Penalised Newton over the individual decisions with a dense Hessian,
 * run until the step is below 1e-13: the reference the cell fit must
 * reproduce. Fills beta and the standard errors.
 */
static void
dense_fit(const struct model *m, const struct sim *d, size_t n,
    double ridge, double beta[MODEL_NCOEF], double se[MODEL_NCOEF])
{
	static double h[MODEL_NCOEF * MODEL_NCOEF];
	static double a[MODEL_NCOEF * MODEL_NCOEF];
	double row[MODEL_NCOEF], g[MODEL_NCOEF], e[MODEL_NCOEF];
	double eta, p, big, rej = 0;
	int it, i, j;
	size_t k;

	for (k = 0; k < n; k++)
		rej += d[k].rejected;
	memset(beta, 0, MODEL_NCOEF * sizeof *beta);
	beta[0] = log(rej / ((double)n - rej));
	for (it = 0; it < 100; it++) {
		memset(g, 0, sizeof g);
		memset(h, 0, sizeof h);
		for (k = 0; k < n; k++) {
			dense_row(m, &d[k].x, row);
			for (eta = 0, j = 0; j < MODEL_NCOEF; j++)
				eta += row[j] * beta[j];
			p = 1 / (1 + exp(-eta));
			for (i = 0; i < MODEL_NCOEF; i++) {
				g[i] += row[i] * (d[k].rejected - p);
				for (j = 0; j < MODEL_NCOEF; j++)
					h[i * MODEL_NCOEF + j] +=
					    p * (1 - p) * row[i] * row[j];
			}
		}
		for (i = 1; i < MODEL_NCOEF; i++) {
			if (model_coef_is_reference(m, i))
				h[i * MODEL_NCOEF + i] = 1;
			else {
				h[i * MODEL_NCOEF + i] += ridge;
				g[i] -= ridge * beta[i];
			}
		}
		memcpy(a, h, sizeof a);
		gauss_solve(a, g, MODEL_NCOEF);
		for (big = 0, i = 0; i < MODEL_NCOEF; i++) {
			beta[i] += g[i];
			big = fmax(big, fabs(g[i]));
		}
		if (big < 1e-13)
			break;
	}
	assert_true(it < 100);
	for (i = 0; i < MODEL_NCOEF; i++) {
		memcpy(a, h, sizeof a);
		memset(e, 0, sizeof e);
		e[i] = 1;
		gauss_solve(a, e, MODEL_NCOEF);
		se[i] = model_coef_is_reference(m, i) ? 0 : sqrt(e[i]);
	}
}

/* Order simulated decisions by covariates, then outcome. */
static int
sim_cmp(const void *a, const void *b)
{
	const struct sim *x = a, *y = b;
	int c = memcmp(&x->x, &y->x, sizeof x->x);

	return c != 0 ? c : (int)x->rejected - (int)y->rejected;
}

/* Cells give the fit of the individual decisions. */
static void
test_cells_equal_decisions(void **state)
{
	struct model_data *single = model_data_create();
	struct model_data *cells = model_data_create();
	struct model *ms = model_create(), *mc = model_create();
	double te[MODEL_NCOEF], beta[MODEL_NCOEF], se[MODEL_NCOEF];
	struct sim *d;
	char *cause = NULL;
	size_t i, j, k;
	uint32_t n, y;

	(void)state;
	truth(te);
	d = simulate_many(7, DENSE_N, te, single);

	/* The same decisions summed per cell by hand, added last first. */
	qsort(d, DENSE_N, sizeof *d, sim_cmp);
	for (i = DENSE_N; i > 0; i = j) {
		for (j = i - 1; j > 0 &&
		    memcmp(&d[j - 1].x, &d[i - 1].x, sizeof d->x) == 0; j--)
			;
		for (n = y = 0, k = j; k < i; k++) {
			n++;
			y += d[k].rejected;
		}
		model_data_add(cells, &d[i - 1].x, n, y);
	}
	assert_int_equal(model_data_n(cells), DENSE_N);
	assert_int_equal(model_data_cells(cells), model_data_cells(single));
	assert_int_equal(model_data_rejected(cells),
	    model_data_rejected(single));

	assert_int_equal(model_fit(ms, single, 1.0, &cause), 0);
	assert_int_equal(model_fit(mc, cells, 1.0, &cause), 0);
	for (i = 0; i < MODEL_NCOEF; i++) {
		assert_float_equal(model_coef(ms, (int)i),
		    model_coef(mc, (int)i), 1e-9);
		assert_float_equal(model_coef_se(ms, (int)i),
		    model_coef_se(mc, (int)i), 1e-9);
	}
	assert_float_equal(model_info(ms)->deviance, model_info(mc)->deviance,
	    1e-6);

	/* And both match a dense fit over the individual decisions. */
	dense_fit(mc, d, DENSE_N, 1.0, beta, se);
	for (i = 0; i < MODEL_NCOEF; i++) {
		assert_float_equal(model_coef(mc, (int)i), beta[i], 1e-9);
		assert_float_equal(model_coef_se(mc, (int)i), se[i], 1e-9);
	}

	free(d);
	model_data_free(single);
	model_data_free(cells);
	model_free(ms);
	model_free(mc);
}

/* Offset of coefficient i in a saved image. */
#define IMAGE_COEF(i)	(4 + 1 + 4 + MODEL_NATTRS + 8 * (size_t)(i))
#define IMAGE_SE(i)	IMAGE_COEF(MODEL_NCOEF + (i))

/* Overwrite a double in a saved image. */
static void
image_set_double(struct buf *b, size_t off, double v)
{
	struct buf tmp;

	buf_init(&tmp);
	buf_put_double(&tmp, v);
	assert_true(off + 8 <= b->len);
	memcpy(b->data + off, tmp.data, 8);
	buf_free(&tmp);
}

/* A small fitted model. */
static struct model *
fitted_model(uint64_t seed, size_t n)
{
	struct model_data *data = model_data_create();
	struct model *m = model_create();
	double te[MODEL_NCOEF];
	char *cause = NULL;

	truth(te);
	free(simulate_many(seed, n, te, data));
	assert_int_equal(model_fit(m, data, 1.0, &cause), 0);
	model_data_free(data);
	return m;
}

/* Predictions are the logistic of x'b, and stay inside (0, 1). */
static void
test_predict(void **state)
{
	static const struct {
		uint8_t		age, sex, diagnosis;
		uint16_t	case_day;
		uint8_t		employment, care;
		int		woy;
	} xs[] = {
		{ AGE_40_49, SEX_F, 6, 30, EMPLOYMENT_EMPLOYED, CARE_PRIMARY,
		    10 },
		{ AGE_60, SEX_M, 13, 200, EMPLOYMENT_UNEMPLOYED,
		    CARE_SPECIALIST, 1 },
		{ 0, 0, 0, 0, 0, 0, 0 },
		{ AGE_16_29, SEX_X, 26, 3000, EMPLOYMENT_OTHER, 0, 53 },
		{ AGE_30_39, SEX_F, 21, 14, EMPLOYMENT_STUDENT, CARE_PRIMARY,
		    27 },
	};
	struct model *m = fitted_model(3, 20000), *e = model_create();
	struct model_x x;
	struct buf b;
	struct buf_reader r;
	double eta, s[4], p;
	char *cause = NULL;
	size_t i;
	int a, k;

	(void)state;
	for (i = 0; i < sizeof xs / sizeof xs[0]; i++) {
		model_x_set(&x, xs[i].age, xs[i].sex, xs[i].diagnosis,
		    xs[i].case_day, xs[i].employment, xs[i].care, xs[i].woy);
		eta = model_coef(m, MODEL_COEF_INTERCEPT);
		for (a = 0; a < MODEL_NATTRS; a++)
			eta += model_coef(m, model_coef_index(a, level(&x, a)));
		if (xs[i].woy != 0) {
			season(xs[i].woy, s);
			for (k = 0; k < 4; k++)
				eta += model_coef(m, MODEL_COEF_SEASON + k) *
				    s[k];
		}
		assert_float_equal(model_eta(m, &x), eta, 1e-12);
		assert_float_equal(model_predict(m, &x), 1 / (1 + exp(-eta)),
		    1e-12);
	}

	/* An unfitted model says 0.5. */
	assert_false(model_fitted(e));
	assert_true(model_fitted(m));
	assert_float_equal(model_predict(e, &x), 0.5, 0);

	/* Extreme coefficients, loaded from an edited image. */
	buf_init(&b);
	model_save(m, &b);
	for (k = -1; k <= 1; k += 2) {
		image_set_double(&b, IMAGE_COEF(MODEL_COEF_INTERCEPT),
		    k * 9000.0);
		buf_reader_init(&r, b.data, b.len);
		assert_int_equal(model_load(e, &r, &cause), 0);
		for (i = 0; i < sizeof xs / sizeof xs[0]; i++) {
			model_x_set(&x, xs[i].age, xs[i].sex, xs[i].diagnosis,
			    xs[i].case_day, xs[i].employment, xs[i].care,
			    xs[i].woy);
			p = model_predict(e, &x);
			assert_true(p > 0 && p < 1);
			assert_true(k > 0 ? p > 0.5 : p < 0.5);
		}
	}
	for (i = 0; i < 5; i++) {
		static const double etas[] = {
			-INFINITY, -1e300, -745, 745, INFINITY,
		};

		p = model_logistic(etas[i]);
		assert_true(p > 0 && p < 1);
	}
	assert_float_equal(model_logistic(0), 0.5, 0);
	assert_float_equal(model_logistic(2), 1 / (1 + exp(-2.0)), 1e-15);

	buf_free(&b);
	model_free(m);
	model_free(e);
}

/*
 * A small group (the reconsiderations or appeals of one benefit and kind:
 * tens of decisions a year) against the truth on fresh decisions. With 52
 * free coefficients and few decisions, a level seen a few times, all with
 * one outcome, is nearly separated; under a faint prior its coefficient
 * runs to several units, and a decision that combines two or three such
 * levels is predicted at odds hundreds of times off (in the daemon: p of
 * 1e-6, a weekly weight of 0, thresholds of 0 and alarms of odds ratio 0
 * or inf on a single decision). The default prior, sd 1 on each
 * coefficient, keeps predictions near the truth at every size, in worlds
 * whose case-mix effects are half, once and twice the test's truth; at
 * national sizes it costs nothing (test_recover fits with it).
 */
#define SMALL_SEEDS	20
#define SMALL_FRESH	4000

/* Mean |log odds error| over fresh decisions, and the share far off. */
static void
small_errors(size_t n, double ridge, const struct sim *fresh,
    const double te[MODEL_NCOEF], double *mean, double *far)
{
	struct model *m;
	struct model_data *data;
	char *cause = NULL;
	double err, sum = 0;
	size_t i, nfar = 0, fits = 0;
	uint64_t seed;

	for (seed = 1; seed <= SMALL_SEEDS; seed++) {
		data = model_data_create();
		m = model_create();
		free(simulate_many(1000 + seed, n, te, data));
		/* A sample without both outcomes cannot be fitted. */
		if (model_fit(m, data, ridge, &cause) == 0) {
			fits++;
			for (i = 0; i < SMALL_FRESH; i++) {
				double p = model_predict(m, &fresh[i].x);

				err = fabs(log(p / (1 - p)) -
				    truth_eta(te, &fresh[i].x));
				sum += err;
				/* Odds off by more than a factor of 100. */
				nfar += err > log(100.0);
			}
		}
		free(cause);
		cause = NULL;
		model_free(m);
		model_data_free(data);
	}
	assert_true(fits >= SMALL_SEEDS - 2);
	*mean = sum / (double)(fits * SMALL_FRESH);
	*far = (double)nfar / (double)(fits * SMALL_FRESH);
}

static void
test_small_groups(void **state)
{
	static const size_t sizes[] = { 30, 50, 150, 400 };
	static const double scale[] = { 0.5, 1, 2 };
	double te[MODEL_NCOEF], mean1, far1, mean0, far0;
	struct sim *fresh;
	size_t k, f;
	int i;

	(void)state;
	for (f = 0; f < sizeof scale / sizeof scale[0]; f++) {
		truth(te);
		for (i = 1; i < MODEL_NCOEF; i++)
			te[i] *= scale[f];
		fresh = simulate_many(77, SMALL_FRESH, te, NULL);
		for (k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
			small_errors(sizes[k], 1.0, fresh, te, &mean1, &far1);
			small_errors(sizes[k], 0.01, fresh, te, &mean0, &far0);
			printf("model: effects x%.1f, %zu decisions, %d seeds: "
			    "mean |log odds error| %.3f with ridge 1, %.3f "
			    "with 0.01; odds off over 100 times %.4f and "
			    "%.4f\n", scale[f], sizes[k], SMALL_SEEDS, mean1,
			    mean0, far1, far0);
			/* The prior's estimate is the better one at every size. */
			assert_true(mean1 < mean0);
			/* Within about an odds ratio of 3 on average. */
			assert_true(mean1 < 1.1);
			/* Hardly any a hundred times off (0.02 % at most). */
			assert_true(far1 < 0.001);
			/* Where the faint prior breaks down (the test can fail). */
			if (sizes[k] <= 150) {
				assert_true(mean0 > 2 * mean1);
				assert_true(far0 > 0.05);
			}
		}
		free(fresh);
	}
}

/* Fits that cannot be done are refused; separation converges. */
static void
test_degenerate(void **state)
{
	static const double ridges[] = { 1e-4, 1.0 };
	struct model_data *data = model_data_create();
	struct model *m = model_create();
	const struct model_fit_info *fi;
	struct model_x x, q;
	double te[MODEL_NCOEF], before, c;
	char *cause = NULL;
	size_t i;
	int j;

	(void)state;
	/* No data. */
	assert_int_equal(model_fit(m, data, 1.0, &cause), -1);
	assert_non_null(cause);
	free(cause);
	cause = NULL;
	assert_false(model_fitted(m));

	/* All approved, then all rejected. */
	model_x_set(&x, AGE_30_39, SEX_F, DIAG('F'), 40, EMPLOYMENT_EMPLOYED,
	    CARE_PRIMARY, 12);
	model_data_add(data, &x, 1000, 0);
	assert_int_equal(model_fit(m, data, 1.0, &cause), -1);
	assert_non_null(cause);
	free(cause);
	cause = NULL;
	model_data_free(data);
	data = model_data_create();
	model_data_add(data, &x, 1000, 1000);
	assert_int_equal(model_fit(m, data, 1.0, &cause), -1);
	assert_non_null(cause);
	free(cause);
	cause = NULL;
	assert_false(model_fitted(m));
	model_data_free(data);

	/* Bad ridges. */
	truth(te);
	data = model_data_create();
	free(simulate_many(11, 20000, te, data));
	for (i = 0; i < 3; i++) {
		static const double bad[] = { 0, -1, NAN };

		assert_int_equal(model_fit(m, data, bad[i], &cause), -1);
		assert_non_null(cause);
		free(cause);
		cause = NULL;
	}
	assert_false(model_fitted(m));

	/* A failed refit leaves the model as it was. */
	assert_int_equal(model_fit(m, data, 1.0, &cause), 0);
	before = model_predict(m, &x);
	assert_int_equal(model_fit(m, data, -1, &cause), -1);
	free(cause);
	cause = NULL;
	assert_true(model_fitted(m));
	assert_int_equal(model_version(m), 1);
	assert_float_equal(model_predict(m, &x), before, 0);

	/* Diagnosis U, absent from the simulation, only approved. */
	for (j = 1; j <= 52; j++) {
		model_x_set(&q, AGE_50_59, SEX_M, DIAG('U'), 100,
		    EMPLOYMENT_EMPLOYED, CARE_SPECIALIST, j);
		model_data_add(data, &q, 6, 0);
	}
	for (i = 0; i < sizeof ridges / sizeof ridges[0]; i++) {
		assert_int_equal(model_fit(m, data, ridges[i], &cause), 0);
		fi = model_info(m);
		c = model_coef(m, model_coef_index(MODEL_DIAGNOSIS, DIAG('U')));
		printf("model: separated level, ridge %g: coefficient %.3f "
		    "(se %.3f), %d iterations\n", ridges[i], c,
		    model_coef_se(m, model_coef_index(MODEL_DIAGNOSIS,
		    DIAG('U'))), fi->iterations);
		assert_true(fi->converged);
		assert_true(isfinite(c));
		assert_true(c < -1);
		assert_true(model_predict(m, &q) > 0);
	}

	model_data_free(data);

	/*
	 * A rare level rejected half the time against 1% elsewhere: the
	 * first full Newton step overshoots far beyond the optimum (the
	 * deviance rises) and must be halved back.
	 */
	data = model_data_create();
	for (j = 1; j <= 52; j++) {
		model_x_set(&x, AGE_30_39, SEX_F, DIAG('F'), 40,
		    EMPLOYMENT_EMPLOYED, CARE_PRIMARY, j);
		model_data_add(data, &x, 2000, 20);
		model_x_set(&q, AGE_30_39, SEX_F, DIAG('J'), 40,
		    EMPLOYMENT_EMPLOYED, CARE_PRIMARY, j);
		model_data_add(data, &q, 20, 10);
	}
	assert_int_equal(model_fit(m, data, 1e-4, &cause), 0);
	fi = model_info(m);
	c = model_coef(m, model_coef_index(MODEL_DIAGNOSIS, DIAG('J')));
	assert_true(fi->converged);
	assert_float_equal(c, log(99.0), 1e-3);
	assert_float_equal(model_predict(m, &q), 0.5, 1e-4);
	assert_float_equal(model_predict(m, &x), 0.01, 1e-5);

	model_data_free(data);
	model_free(m);
}

/* A model survives a save and load; damaged images are refused. */
static void
test_save_load(void **state)
{
	static const struct {
		size_t		off;
		int		width;		/* 1, 4 or 8 (double) */
		double		v;
	} corrupt[] = {
		{ 0, 4, 2 },					/* format */
		{ 4, 1, 2 },					/* fitted */
		{ 5, 4, MODEL_NCOEF - 1 },			/* count */
		{ 9 + MODEL_AGE, 1, DECISION_NAGES },		/* ref */
		{ 9 + MODEL_CARE, 1, 200 },			/* ref */
		{ IMAGE_COEF(3), 8, NAN },
		{ IMAGE_COEF(0), 8, INFINITY },
		{ IMAGE_COEF(5), 8, 1e5 },
		{ IMAGE_SE(7), 8, -1 },
		{ IMAGE_SE(9), 8, NAN },
		{ IMAGE_SE(MODEL_NCOEF), 4, 51 },		/* iterations */
		{ IMAGE_SE(MODEL_NCOEF) + 4, 1, 2 },		/* converged */
		{ IMAGE_SE(MODEL_NCOEF) + 5, 8, NAN },		/* deviance */
		{ IMAGE_SE(MODEL_NCOEF) + 13, 8, -1 },		/* null dev. */
		/* The u64 counts: a double 0 is eight zero bytes. */
		{ IMAGE_SE(MODEL_NCOEF) + 21, 8, 0 },		/* n */
		{ IMAGE_SE(MODEL_NCOEF) + 29, 8, 0 },		/* rejected */
		{ IMAGE_SE(MODEL_NCOEF) + 37, 8, 1e12 },	/* expected */
		{ IMAGE_SE(MODEL_NCOEF) + 45, 8, 0 },		/* cells */
		{ IMAGE_SE(MODEL_NCOEF) + 53, 8, 0 },		/* ridge */
	};
	struct model *m = fitted_model(5, 20000), *o = fitted_model(6, 5000);
	struct model *l = model_create();
	const struct model_fit_info *a, *b;
	struct model_x x;
	struct buf out, bad;
	struct buf_reader r;
	double before;
	char *cause = NULL;
	size_t len, i;
	int j, w;

	(void)state;
	model_set_version(m, 41);
	buf_init(&out);
	model_save(m, &out);
	buf_reader_init(&r, out.data, out.len);
	assert_int_equal(model_load(l, &r, &cause), 0);
	assert_int_equal(r.left, 0);
	assert_true(model_fitted(l));
	for (j = 0; j < MODEL_NCOEF; j++) {
		assert_true(model_coef(l, j) == model_coef(m, j));
		assert_true(model_coef_se(l, j) == model_coef_se(m, j));
		assert_int_equal(model_coef_is_reference(l, j),
		    model_coef_is_reference(m, j));
	}
	a = model_info(m);
	b = model_info(l);
	assert_int_equal(a->iterations, b->iterations);
	assert_int_equal(a->converged, b->converged);
	assert_true(a->deviance == b->deviance);
	assert_true(a->null_deviance == b->null_deviance);
	assert_int_equal(a->n, b->n);
	assert_int_equal(a->rejected, b->rejected);
	assert_true(a->expected == b->expected);
	assert_int_equal(a->cells, b->cells);
	assert_true(a->ridge == b->ridge);
	assert_int_equal(b->version, 41);
	/* Identical predictions over every covariate combination tried. */
	for (i = 0; i < 200000; i++) {
		model_x_set(&x, (uint8_t)(i % 6), (uint8_t)(i / 6 % 4),
		    (uint8_t)(i / 24 % 27), (uint16_t)(i / 648 % 700),
		    (uint8_t)(i / 7 % 6), (uint8_t)(i / 11 % 3),
		    (int)(i % 54));
		assert_true(model_predict(l, &x) == model_predict(m, &x));
	}

	/* Every truncation fails and leaves the model alone. */
	model_x_set(&x, AGE_60, SEX_M, DIAG('M'), 400, EMPLOYMENT_UNEMPLOYED,
	    CARE_SPECIALIST, 30);
	before = model_predict(o, &x);
	for (len = 0; len < out.len; len++) {
		buf_reader_init(&r, out.data, len);
		assert_int_equal(model_load(o, &r, &cause), -1);
		assert_non_null(cause);
		free(cause);
		cause = NULL;
		assert_true(model_predict(o, &x) == before);
		assert_int_equal(model_version(o), 1);
	}

	/* Damaged fields. */
	buf_init(&bad);
	for (i = 0; i < sizeof corrupt / sizeof corrupt[0]; i++) {
		buf_reset(&bad);
		buf_put(&bad, out.data, out.len);
		w = corrupt[i].width;
		if (w == 8)
			image_set_double(&bad, corrupt[i].off, corrupt[i].v);
		else {
			struct buf tmp;

			buf_init(&tmp);
			if (w == 1)
				buf_put_u8(&tmp, (uint8_t)corrupt[i].v);
			else
				buf_put_u32(&tmp, (uint32_t)corrupt[i].v);
			memcpy(bad.data + corrupt[i].off, tmp.data, tmp.len);
			buf_free(&tmp);
		}
		buf_reader_init(&r, bad.data, bad.len);
		assert_int_equal(model_load(o, &r, &cause), -1);
		assert_non_null(cause);
		free(cause);
		cause = NULL;
		assert_true(model_predict(o, &x) == before);
	}
	/* A coefficient on a reference level. */
	buf_reset(&bad);
	buf_put(&bad, out.data, out.len);
	image_set_double(&bad, IMAGE_COEF(model_coef_index(MODEL_DIAGNOSIS,
	    model_reference(m, MODEL_DIAGNOSIS))), 0.5);
	buf_reader_init(&r, bad.data, bad.len);
	assert_int_equal(model_load(o, &r, &cause), -1);
	free(cause);
	cause = NULL;
	/* The unedited copy still loads. */
	buf_reset(&bad);
	buf_put(&bad, out.data, out.len);
	buf_reader_init(&r, bad.data, bad.len);
	assert_int_equal(model_load(o, &r, &cause), 0);
	assert_true(model_predict(o, &x) == model_predict(m, &x));

	/* An unfitted model round-trips as unfitted. */
	model_free(l);
	l = model_create();
	buf_reset(&out);
	model_save(l, &out);
	buf_reader_init(&r, out.data, out.len);
	assert_int_equal(model_load(o, &r, &cause), 0);
	assert_false(model_fitted(o));
	assert_float_equal(model_predict(o, &x), 0.5, 0);

	buf_free(&bad);
	buf_free(&out);
	model_free(m);
	model_free(o);
	model_free(l);
}

/* Case-day bands change at their stated boundaries. */
static void
test_case_band(void **state)
{
	static const struct {
		uint16_t	day;
		int		band;
	} cases[] = {
		{ 0, 0 }, { 1, 1 }, { 14, 1 }, { 15, 2 }, { 90, 2 },
		{ 91, 3 }, { 180, 3 }, { 181, 4 }, { 365, 4 }, { 366, 5 },
		{ 550, 5 }, { 551, 6 }, { 3000, 6 }, { 65535, 6 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		assert_int_equal(model_case_band(cases[i].day), cases[i].band);
}

/* Out-of-range attribute values become missing. */
static void
test_x_set(void **state)
{
	struct model_x x;

	(void)state;
	model_x_set(&x, AGE_60, SEX_X, 26, 551, EMPLOYMENT_OTHER,
	    CARE_SPECIALIST, 53);
	assert_int_equal(x.age, AGE_60);
	assert_int_equal(x.sex, SEX_X);
	assert_int_equal(x.diagnosis, 26);
	assert_int_equal(x.case_band, 6);
	assert_int_equal(x.employment, EMPLOYMENT_OTHER);
	assert_int_equal(x.care, CARE_SPECIALIST);
	assert_int_equal(x.woy, 53);
	model_x_set(&x, 6, 4, 27, 0, 6, 3, 54);
	assert_int_equal(x.age, 0);
	assert_int_equal(x.sex, 0);
	assert_int_equal(x.diagnosis, 0);
	assert_int_equal(x.case_band, 0);
	assert_int_equal(x.employment, 0);
	assert_int_equal(x.care, 0);
	assert_int_equal(x.woy, 0);
	model_x_set(&x, 1, 1, 1, 1, 1, 1, -3);
	assert_int_equal(x.woy, 0);
}

/* Names and slots of the coefficients. */
static void
test_names(void **state)
{
	int i, j;

	(void)state;
	assert_int_equal(model_coef_count(), MODEL_NCOEF);
	assert_string_equal(model_coef_name(0), "intercept");
	assert_string_equal(model_coef_name(model_coef_index(MODEL_AGE,
	    AGE_30_39)), "age=30-39");
	assert_string_equal(model_coef_name(model_coef_index(MODEL_SEX,
	    SEX_M)), "sex=m");
	assert_string_equal(model_coef_name(model_coef_index(MODEL_DIAGNOSIS,
	    DIAG('F'))), "diagnosis=F");
	assert_string_equal(model_coef_name(model_coef_index(MODEL_DIAGNOSIS,
	    0)), "diagnosis=missing");
	assert_string_equal(model_coef_name(model_coef_index(MODEL_DIAGNOSIS,
	    DIAG('Z'))), "diagnosis=Z");
	assert_string_equal(model_coef_name(model_coef_index(MODEL_CASE_BAND,
	    4)), "case_day=181-365");
	assert_string_equal(model_coef_name(model_coef_index(MODEL_EMPLOYMENT,
	    EMPLOYMENT_UNEMPLOYED)), "employment=unemployed");
	assert_string_equal(model_coef_name(model_coef_index(MODEL_CARE,
	    CARE_SPECIALIST)), "care=specialist");
	assert_string_equal(model_coef_name(MODEL_COEF_SEASON), "season_sin1");
	assert_string_equal(model_coef_name(MODEL_NCOEF - 1), "season_cos2");
	assert_null(model_coef_name(-1));
	assert_null(model_coef_name(MODEL_NCOEF));
	assert_int_equal(model_coef_index(MODEL_AGE, DECISION_NAGES), -1);
	assert_int_equal(model_coef_index(MODEL_CARE, -1), -1);
	assert_int_equal(model_coef_index((enum model_attr)MODEL_NATTRS, 0),
	    -1);
	for (i = 0; i < MODEL_NCOEF; i++) {
		assert_non_null(model_coef_name(i));
		for (j = 0; j < i; j++)
			assert_string_not_equal(model_coef_name(i),
			    model_coef_name(j));
	}
}

/* Cells aggregate identical covariates, and the table grows. */
static void
test_data(void **state)
{
	struct model_data *d = model_data_create();
	struct model_x x;
	uint32_t i;

	(void)state;
	model_x_set(&x, 1, 1, 1, 1, 1, 1, 1);
	model_data_add(d, &x, 3, 1);
	model_data_add(d, &x, 2, 5);		/* clamped to 2 */
	model_data_add(d, &x, 0, 0);		/* nothing */
	assert_int_equal(model_data_cells(d), 1);
	assert_int_equal(model_data_n(d), 5);
	assert_int_equal(model_data_rejected(d), 3);
	model_data_free(d);

	d = model_data_create();
	for (i = 0; i < 2 * 300000; i++) {
		static const uint16_t day[MODEL_NCASE_BANDS] = {
			0, 1, 15, 91, 181, 366, 551,
		};
		uint32_t c = i % 300000;

		model_x_set(&x, (uint8_t)(c % 6), (uint8_t)(c / 6 % 4),
		    (uint8_t)(c / 24 % 27), day[c / 648 % 7],
		    (uint8_t)(c / 4536 % 6), (uint8_t)(c / 27216 % 3),
		    (int)(c / 81648 + 1));
		model_data_add(d, &x, 2, 1);
	}
	assert_int_equal(model_data_cells(d), 300000);
	assert_int_equal(model_data_n(d), 4 * 300000);
	assert_int_equal(model_data_rejected(d), 2 * 300000);
	model_data_free(NULL);
	model_free(NULL);
	model_data_free(d);
}

/* The fit of a year of national decisions, timed. */
static void
test_fit_time(void **state)
{
	struct model_data *data = model_data_create();
	struct model *m = model_create();
	double te[MODEL_NCOEF], ms;
	struct rng r = { 2024 };
	struct timespec t0, t1;
	struct sim d;
	char *cause = NULL;
	int w, i;

	(void)state;
	truth(te);
	for (w = 1; w <= 52; w++) {
		for (i = 0; i < BENCH_PER_WEEK; i++) {
			simulate(&r, te, w, &d);
			model_data_add(data, &d.x, 1, d.rejected);
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(model_fit(m, data, 1.0, &cause), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	printf("model: fit of %ju decisions in %zu cells: %.0f ms "
	    "(%d iterations)\n", (uintmax_t)model_data_n(data),
	    model_data_cells(data), ms, model_info(m)->iterations);
	assert_int_equal(model_info(m)->n, 52 * BENCH_PER_WEEK);
	assert_true(model_info(m)->converged);
	assert_in_range(model_info(m)->iterations, 1, 10);
	model_data_free(data);
	model_free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_case_band),
		cmocka_unit_test(test_x_set),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_data),
		cmocka_unit_test(test_recover),
		cmocka_unit_test(test_cells_equal_decisions),
		cmocka_unit_test(test_predict),
		cmocka_unit_test(test_degenerate),
		cmocka_unit_test(test_small_groups),
		cmocka_unit_test(test_save_load),
		cmocka_unit_test(test_fit_time),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
