/*
 * The case-mix model: ridge logistic regression fitted by IRLS (Newton
 * with step halving) from cell counts, a small Cholesky solver for the
 * penalised Hessian, and a week table so that a prediction is 7 lookups.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "model.h"
#include "xmalloc.h"

#define MODEL_SAVE_VERSION	1
#define MODEL_YEAR_WEEKS	52.1775		/* mean ISO weeks per year */
#define MODEL_ETA_MAX		30.0		/* keeps p inside (0, 1) */
#define MODEL_COEF_MAX		1e4		/* a loaded |coefficient| */
#define MODEL_HALVINGS		30
#define MODEL_NSEASON		4
/* Non-zeros in a design row: intercept, one per attribute, season. */
#define MODEL_ROW_MAX		(1 + MODEL_NATTRS + MODEL_NSEASON)

/* Cell key: the packed covariates, 24 bits. */
#define MODEL_KEY_AGE		0	/* 3 bits */
#define MODEL_KEY_SEX		3	/* 2 bits */
#define MODEL_KEY_DIAGNOSIS	5	/* 5 bits */
#define MODEL_KEY_CASE_BAND	10	/* 3 bits */
#define MODEL_KEY_EMPLOYMENT	13	/* 3 bits */
#define MODEL_KEY_CARE		16	/* 2 bits */
#define MODEL_KEY_WOY		18	/* 6 bits */

static const int model_nlevels[MODEL_NATTRS] = {
	DECISION_NAGES, DECISION_NSEXES, DECISION_NDIAGNOSES,
	MODEL_NCASE_BANDS, DECISION_NEMPLOYMENTS, DECISION_NCARES,
};
static const int model_first[MODEL_NATTRS] = {
	MODEL_COEF_AGE, MODEL_COEF_SEX, MODEL_COEF_DIAGNOSIS,
	MODEL_COEF_CASE_BAND, MODEL_COEF_EMPLOYMENT, MODEL_COEF_CARE,
};
static const int model_shift[MODEL_NATTRS] = {
	MODEL_KEY_AGE, MODEL_KEY_SEX, MODEL_KEY_DIAGNOSIS,
	MODEL_KEY_CASE_BAND, MODEL_KEY_EMPLOYMENT, MODEL_KEY_CARE,
};
static const unsigned model_mask[MODEL_NATTRS] = { 7, 3, 31, 7, 7, 3 };

static const char *const model_names[MODEL_NCOEF] = {
	"intercept",
	"age=missing", "age=16-29", "age=30-39", "age=40-49", "age=50-59",
	"age=60-",
	"sex=missing", "sex=f", "sex=m", "sex=x",
	"diagnosis=missing",
	"diagnosis=A", "diagnosis=B", "diagnosis=C", "diagnosis=D",
	"diagnosis=E", "diagnosis=F", "diagnosis=G", "diagnosis=H",
	"diagnosis=I", "diagnosis=J", "diagnosis=K", "diagnosis=L",
	"diagnosis=M", "diagnosis=N", "diagnosis=O", "diagnosis=P",
	"diagnosis=Q", "diagnosis=R", "diagnosis=S", "diagnosis=T",
	"diagnosis=U", "diagnosis=V", "diagnosis=W", "diagnosis=X",
	"diagnosis=Y", "diagnosis=Z",
	"case_day=missing", "case_day=1-14", "case_day=15-90",
	"case_day=91-180", "case_day=181-365", "case_day=366-550",
	"case_day=551-",
	"employment=missing", "employment=employed", "employment=unemployed",
	"employment=self_employed", "employment=student", "employment=other",
	"care=missing", "care=primary", "care=specialist",
	"season_sin1", "season_cos1", "season_sin2", "season_cos2",
};

struct model_cell {
	uint32_t	key;
	uint64_t	n;
	uint64_t	rejected;
};

struct model_data {
	struct model_cell	*cells;		/* in order of first sight */
	size_t			 ncells;
	size_t			 cap;
	uint32_t		*table;		/* cell index + 1, 0 free */
	size_t			 mask;		/* table size - 1 */
	uint64_t		 n;
	uint64_t		 rejected;
};

struct model {
	bool			fitted;
	uint8_t			ref[MODEL_NATTRS];	/* reference levels */
	double			coef[MODEL_NCOEF];	/* 0 at references */
	double			se[MODEL_NCOEF];
	struct model_fit_info	info;
	double			week[MODEL_NWEEKS];	/* intercept + season */
};

/* One cell as the fit reads it: design columns instead of levels. */
struct model_row {
	double		n;
	double		y;
	uint8_t		col[MODEL_NATTRS];	/* coefficient slot, 0 none */
	uint8_t		woy;
};

/* Scratch of one fit. */
struct model_fit {
	struct model_row	*rows;
	size_t			 nrows;
	bool			 fixed[MODEL_NCOEF];	/* held at 0 */
	double			 season[MODEL_NWEEKS][MODEL_NSEASON];
	double			 ridge;
};

_Static_assert(MODEL_NCOEF == 58, "coefficient layout");
_Static_assert(MODEL_NCOEF <= UINT8_MAX, "slots fit a byte");

/* The four seasonal regressors of a week; all 0 for an unknown week. */
static void
model_season(int woy, double s[MODEL_NSEASON])
{
	double a;

	if (woy < 1 || woy >= MODEL_NWEEKS) {
		s[0] = s[1] = s[2] = s[3] = 0;
		return;
	}
	a = 2 * M_PI * woy / MODEL_YEAR_WEEKS;
	s[0] = sin(a);
	s[1] = cos(a);
	s[2] = sin(2 * a);
	s[3] = cos(2 * a);
}

int
model_case_band(uint16_t case_day)
{
	if (case_day == 0)
		return 0;
	if (case_day <= 14)
		return 1;
	if (case_day <= 90)
		return 2;
	if (case_day <= 180)
		return 3;
	if (case_day <= 365)
		return 4;
	if (case_day <= 550)
		return 5;
	return 6;
}

void
model_x_set(struct model_x *x, uint8_t age, uint8_t sex, uint8_t diagnosis,
    uint16_t case_day, uint8_t employment, uint8_t care, int woy)
{
	x->age = age < DECISION_NAGES ? age : 0;
	x->sex = sex < DECISION_NSEXES ? sex : 0;
	x->diagnosis = diagnosis < DECISION_NDIAGNOSES ? diagnosis : 0;
	x->case_band = (uint8_t)model_case_band(case_day);
	x->employment = employment < DECISION_NEMPLOYMENTS ? employment : 0;
	x->care = care < DECISION_NCARES ? care : 0;
	x->woy = woy >= 1 && woy < MODEL_NWEEKS ? (uint8_t)woy : 0;
}

/* Level of attribute a in x, out-of-range values as missing. */
static int
model_x_level(const struct model_x *x, int a)
{
	int v;

	switch (a) {
	case MODEL_AGE:
		v = x->age;
		break;
	case MODEL_SEX:
		v = x->sex;
		break;
	case MODEL_DIAGNOSIS:
		v = x->diagnosis;
		break;
	case MODEL_CASE_BAND:
		v = x->case_band;
		break;
	case MODEL_EMPLOYMENT:
		v = x->employment;
		break;
	default:
		v = x->care;
		break;
	}
	return v < model_nlevels[a] ? v : 0;
}

/* Pack x into a cell key. */
static uint32_t
model_key(const struct model_x *x)
{
	uint32_t key;
	int a;

	key = (uint32_t)(x->woy < MODEL_NWEEKS ? x->woy : 0) << MODEL_KEY_WOY;
	for (a = 0; a < MODEL_NATTRS; a++)
		key |= (uint32_t)model_x_level(x, a) << model_shift[a];
	return key;
}

/* Table slot for key: multiplicative hash, linear probing. */
static size_t
model_data_probe(const struct model_data *d, uint32_t key)
{
	uint32_t h = key * 0x9e3779b1U;
	size_t slot = (h ^ (h >> 15)) & d->mask;

	while (d->table[slot] != 0 &&
	    d->cells[d->table[slot] - 1].key != key)
		slot = (slot + 1) & d->mask;
	return slot;
}

/* Double the table and index the cells again. */
static void
model_data_grow(struct model_data *d)
{
	size_t i, size = (d->mask + 1) * 2;

	free(d->table);
	d->table = xcalloc(size, sizeof *d->table);
	d->mask = size - 1;
	for (i = 0; i < d->ncells; i++)
		d->table[model_data_probe(d, d->cells[i].key)] =
		    (uint32_t)(i + 1);
}

struct model_data *
model_data_create(void)
{
	struct model_data *d = xcalloc(1, sizeof *d);

	d->mask = 1023;
	d->table = xcalloc(d->mask + 1, sizeof *d->table);
	return d;
}

void
model_data_free(struct model_data *d)
{
	if (d == NULL)
		return;
	free(d->cells);
	free(d->table);
	free(d);
}

void
model_data_add(struct model_data *d, const struct model_x *x, uint32_t n,
    uint32_t rejected)
{
	uint32_t key = model_key(x);
	struct model_cell *c;
	size_t slot;

	if (n == 0)
		return;
	if (rejected > n)
		rejected = n;
	slot = model_data_probe(d, key);
	if (d->table[slot] == 0) {
		/* Keep the table at most half full. */
		if (2 * (d->ncells + 1) > d->mask + 1) {
			model_data_grow(d);
			slot = model_data_probe(d, key);
		}
		if (d->ncells == d->cap) {
			d->cap = d->cap == 0 ? 1024 : d->cap * 2;
			d->cells = xreallocarray(d->cells, d->cap,
			    sizeof *d->cells);
		}
		c = &d->cells[d->ncells++];
		c->key = key;
		c->n = c->rejected = 0;
		d->table[slot] = (uint32_t)d->ncells;
	} else
		c = &d->cells[d->table[slot] - 1];
	c->n += n;
	c->rejected += rejected;
	d->n += n;
	d->rejected += rejected;
}

size_t
model_data_cells(const struct model_data *d)
{
	return d->ncells;
}

uint64_t
model_data_n(const struct model_data *d)
{
	return d->n;
}

uint64_t
model_data_rejected(const struct model_data *d)
{
	return d->rejected;
}

/* Fill the week table from the intercept and the seasonal terms. */
static void
model_tables(struct model *m)
{
	double s[MODEL_NSEASON];
	int w, k;

	for (w = 0; w < MODEL_NWEEKS; w++) {
		model_season(w, s);
		m->week[w] = m->coef[MODEL_COEF_INTERCEPT];
		for (k = 0; k < MODEL_NSEASON; k++)
			m->week[w] += m->coef[MODEL_COEF_SEASON + k] * s[k];
	}
}

struct model *
model_create(void)
{
	struct model *m = xcalloc(1, sizeof *m);

	model_tables(m);
	return m;
}

void
model_free(struct model *m)
{
	free(m);
}

bool
model_fitted(const struct model *m)
{
	return m->fitted;
}

double
model_logistic(double eta)
{
	if (eta > MODEL_ETA_MAX)
		eta = MODEL_ETA_MAX;
	else if (eta < -MODEL_ETA_MAX)
		eta = -MODEL_ETA_MAX;
	return 1 / (1 + exp(-eta));
}

double
model_eta(const struct model *m, const struct model_x *x)
{
	const double *c = m->coef;

	return m->week[x->woy < MODEL_NWEEKS ? x->woy : 0] +
	    c[MODEL_COEF_AGE + (x->age < DECISION_NAGES ? x->age : 0)] +
	    c[MODEL_COEF_SEX + (x->sex < DECISION_NSEXES ? x->sex : 0)] +
	    c[MODEL_COEF_DIAGNOSIS +
	    (x->diagnosis < DECISION_NDIAGNOSES ? x->diagnosis : 0)] +
	    c[MODEL_COEF_CASE_BAND +
	    (x->case_band < MODEL_NCASE_BANDS ? x->case_band : 0)] +
	    c[MODEL_COEF_EMPLOYMENT +
	    (x->employment < DECISION_NEMPLOYMENTS ? x->employment : 0)] +
	    c[MODEL_COEF_CARE + (x->care < DECISION_NCARES ? x->care : 0)];
}

double
model_predict(const struct model *m, const struct model_x *x)
{
	return model_logistic(model_eta(m, x));
}

uint32_t
model_version(const struct model *m)
{
	return m->info.version;
}

void
model_set_version(struct model *m, uint32_t version)
{
	m->info.version = version;
}

int
model_coef_count(void)
{
	return MODEL_NCOEF;
}

const char *
model_coef_name(int i)
{
	if (i < 0 || i >= MODEL_NCOEF)
		return NULL;
	return model_names[i];
}

int
model_coef_index(enum model_attr attr, int level)
{
	if ((int)attr < 0 || (int)attr >= MODEL_NATTRS || level < 0 ||
	    level >= model_nlevels[attr])
		return -1;
	return model_first[attr] + level;
}

double
model_coef(const struct model *m, int i)
{
	if (i < 0 || i >= MODEL_NCOEF)
		return 0;
	return m->coef[i];
}

double
model_coef_se(const struct model *m, int i)
{
	if (i < 0 || i >= MODEL_NCOEF)
		return 0;
	return m->se[i];
}

bool
model_coef_is_reference(const struct model *m, int i)
{
	int a;

	for (a = 0; a < MODEL_NATTRS; a++) {
		if (i == model_first[a] + m->ref[a])
			return true;
	}
	return false;
}

int
model_reference(const struct model *m, enum model_attr attr)
{
	if ((int)attr < 0 || (int)attr >= MODEL_NATTRS)
		return 0;
	return m->ref[attr];
}

const struct model_fit_info *
model_info(const struct model *m)
{
	return &m->info;
}

/*
 * Cholesky factor of the symmetric positive definite n x n matrix a (row
 * major, lower triangle read), in place: a = L L'. -1 if a is not
 * positive definite.
 */
static int
model_cholesky(double *a, int n)
{
	double s;
	int i, j, k;

	for (j = 0; j < n; j++) {
		s = a[j * n + j];
		for (k = 0; k < j; k++)
			s -= a[j * n + k] * a[j * n + k];
		if (!(s > 0) || !isfinite(s))
			return -1;
		a[j * n + j] = sqrt(s);
		for (i = j + 1; i < n; i++) {
			s = a[i * n + j];
			for (k = 0; k < j; k++)
				s -= a[i * n + k] * a[j * n + k];
			a[i * n + j] = s / a[j * n + j];
		}
	}
	return 0;
}

/* Solve L L' x = b in place (x holds b on entry). */
static void
model_solve(const double *l, int n, double *x)
{
	double s;
	int i, k;

	for (i = 0; i < n; i++) {
		s = x[i];
		for (k = 0; k < i; k++)
			s -= l[i * n + k] * x[k];
		x[i] = s / l[i * n + i];
	}
	for (i = n - 1; i >= 0; i--) {
		s = x[i];
		for (k = i + 1; k < n; k++)
			s -= l[k * n + i] * x[k];
		x[i] = s / l[i * n + i];
	}
}

/*
 * One pass over the cells at beta: returns the log-likelihood and sets
 * *expected to the sum of fitted p. With g and h (zeroed by the caller)
 * also accumulates the score X'(y - mu) and the upper triangle of X'WX,
 * touching only the non-zeros of each row: O(cells * 11^2).
 */
static double
model_pass(const struct model_fit *f, const double *beta, double *g,
    double *h, double *expected)
{
	const struct model_row *row;
	int idx[MODEL_ROW_MAX], k, a, b;
	double val[MODEL_ROW_MAX], ll = 0, sum = 0;
	double eta, e, p, q, l1pe, mu, r, w, wa;
	size_t i;

	idx[0] = MODEL_COEF_INTERCEPT;
	val[0] = 1;
	for (i = 0; i < f->nrows; i++) {
		row = &f->rows[i];
		k = 1;
		for (a = 0; a < MODEL_NATTRS; a++) {
			if (row->col[a] != 0) {
				idx[k] = row->col[a];
				val[k++] = 1;
			}
		}
		if (row->woy != 0) {
			for (a = 0; a < MODEL_NSEASON; a++) {
				idx[k] = MODEL_COEF_SEASON + a;
				val[k++] = f->season[row->woy][a];
			}
		}
		eta = 0;
		for (a = 0; a < k; a++)
			eta += beta[idx[a]] * val[a];

		/* p and 1 - p without overflow or cancellation. */
		e = exp(-fabs(eta));
		if (eta >= 0) {
			p = 1 / (1 + e);
			q = e / (1 + e);
		} else {
			p = e / (1 + e);
			q = 1 / (1 + e);
		}
		l1pe = log1p(e);
		ll -= row->y * (fmax(-eta, 0) + l1pe) +
		    (row->n - row->y) * (fmax(eta, 0) + l1pe);
		mu = row->n * p;
		sum += mu;
		if (g == NULL)
			continue;

		r = row->y - mu;
		w = row->n * p * q;
		for (a = 0; a < k; a++) {
			g[idx[a]] += val[a] * r;
			wa = w * val[a];
			for (b = a; b < k; b++)
				h[idx[a] * MODEL_NCOEF + idx[b]] += wa * val[b];
		}
	}
	*expected = sum;
	return ll;
}

/* Penalised deviance, score and information at beta. */
static double
model_evaluate(const struct model_fit *f, const double *beta, double *g,
    double *h, double *expected)
{
	double ll, pen = 0;
	int j;

	memset(g, 0, MODEL_NCOEF * sizeof *g);
	memset(h, 0, MODEL_NCOEF * MODEL_NCOEF * sizeof *h);
	ll = model_pass(f, beta, g, h, expected);
	for (j = 1; j < MODEL_NCOEF; j++) {
		if (!f->fixed[j])
			pen += beta[j] * beta[j];
	}
	return -2 * ll + f->ridge * pen;
}

/*
 * The penalised Newton system at beta: a = X'WX + ridge (intercept
 * excepted), made symmetric, with identity rows for the fixed slots;
 * rhs = score - ridge * beta. Factors a in place; -1 if it fails.
 */
static int
model_system(const struct model_fit *f, const double *beta, const double *g,
    const double *h, double *a, double *rhs)
{
	int i, j;

	for (i = 0; i < MODEL_NCOEF; i++) {
		for (j = 0; j < MODEL_NCOEF; j++) {
			a[i * MODEL_NCOEF + j] = i <= j ?
			    h[i * MODEL_NCOEF + j] : h[j * MODEL_NCOEF + i];
		}
		rhs[i] = g[i];
		if (f->fixed[i]) {
			/* No row uses the slot: its row and column are 0. */
			a[i * MODEL_NCOEF + i] = 1;
			rhs[i] = 0;
		} else if (i != MODEL_COEF_INTERCEPT) {
			a[i * MODEL_NCOEF + i] += f->ridge;
			rhs[i] -= f->ridge * beta[i];
		}
	}
	return model_cholesky(a, MODEL_NCOEF);
}

/*
 * Turn the cells into design rows. The reference of each attribute is its
 * most frequent level (ties: the lowest code), so that it is always in
 * the data and the other levels are contrasts against a common case.
 */
static void
model_fit_rows(struct model_fit *f, const struct model_data *d,
    uint8_t ref[MODEL_NATTRS])
{
	uint64_t count[MODEL_NATTRS][DECISION_NDIAGNOSES];
	const struct model_cell *c;
	struct model_row *row;
	int a, v;
	size_t i;

	memset(count, 0, sizeof count);
	for (i = 0; i < d->ncells; i++) {
		c = &d->cells[i];
		for (a = 0; a < MODEL_NATTRS; a++)
			count[a][(c->key >> model_shift[a]) & model_mask[a]] +=
			    c->n;
	}
	memset(f->fixed, 0, sizeof f->fixed);
	for (a = 0; a < MODEL_NATTRS; a++) {
		ref[a] = 0;
		for (v = 1; v < model_nlevels[a]; v++) {
			if (count[a][v] > count[a][ref[a]])
				ref[a] = (uint8_t)v;
		}
		f->fixed[model_first[a] + ref[a]] = true;
	}

	f->nrows = d->ncells;
	f->rows = xreallocarray(NULL, f->nrows, sizeof *f->rows);
	for (i = 0; i < d->ncells; i++) {
		c = &d->cells[i];
		row = &f->rows[i];
		row->n = (double)c->n;
		row->y = (double)c->rejected;
		for (a = 0; a < MODEL_NATTRS; a++) {
			v = (int)((c->key >> model_shift[a]) & model_mask[a]);
			row->col[a] = v == ref[a] ? 0 :
			    (uint8_t)(model_first[a] + v);
		}
		row->woy = (uint8_t)(c->key >> MODEL_KEY_WOY);
	}
	for (v = 0; v < MODEL_NWEEKS; v++)
		model_season(v, f->season[v]);
}

/* -2 log-likelihood of the intercept-only model. */
static double
model_null_deviance(uint64_t n, uint64_t y)
{
	double dn = (double)n, dy = (double)y;

	return -2 * (dy * log(dy / dn) + (dn - dy) * log((dn - dy) / dn));
}

int
model_fit(struct model *m, const struct model_data *d, double ridge,
    char **cause)
{
	struct model_fit f;
	double beta[MODEL_NCOEF], trial[MODEL_NCOEF], step[MODEL_NCOEF];
	double g[MODEL_NCOEF], tg[MODEL_NCOEF], se[MODEL_NCOEF];
	double *h = NULL, *th = NULL, *a = NULL, *swap;
	double dev, tdev, expected, texpected, t, pen;
	uint8_t ref[MODEL_NATTRS];
	int iterations = 0, halvings, j;
	bool converged = false;

	memset(&f, 0, sizeof f);
	if (d->n == 0) {
		*cause = xstrdup("model: no decisions to fit");
		return -1;
	}
	if (d->rejected == 0 || d->rejected == d->n) {
		*cause = xasprintf("model: %s of %" PRIu64 " decisions "
		    "rejected", d->rejected == 0 ? "none" : "all", d->n);
		return -1;
	}
	if (!(ridge > 0) || !isfinite(ridge)) {
		*cause = xasprintf("model: ridge %g is not positive", ridge);
		return -1;
	}
	f.ridge = ridge;
	model_fit_rows(&f, d, ref);
	h = xcalloc(MODEL_NCOEF * MODEL_NCOEF, sizeof *h);
	th = xcalloc(MODEL_NCOEF * MODEL_NCOEF, sizeof *th);
	a = xcalloc(MODEL_NCOEF * MODEL_NCOEF, sizeof *a);

	/* Start from the intercept-only fit. */
	memset(beta, 0, sizeof beta);
	beta[MODEL_COEF_INTERCEPT] = log((double)d->rejected /
	    (double)(d->n - d->rejected));
	dev = model_evaluate(&f, beta, g, h, &expected);

	while (iterations < MODEL_MAX_ITERATIONS) {
		if (model_system(&f, beta, g, h, a, step) != 0)
			goto singular;
		model_solve(a, MODEL_NCOEF, step);

		/* Halve the step until the penalised deviance does not rise. */
		for (t = 1, halvings = 0; halvings <= MODEL_HALVINGS;
		    halvings++, t /= 2) {
			for (j = 0; j < MODEL_NCOEF; j++)
				trial[j] = beta[j] + t * step[j];
			tdev = model_evaluate(&f, trial, tg, th, &texpected);
			if (tdev <= dev)
				break;
		}
		if (halvings > MODEL_HALVINGS) {
			/* No descent left: at the optimum to rounding. */
			converged = true;
			break;
		}
		iterations++;
		converged = fabs(dev - tdev) / (fabs(tdev) + 0.1) <
		    MODEL_TOLERANCE;
		memcpy(beta, trial, sizeof beta);
		memcpy(g, tg, sizeof g);
		swap = h;
		h = th;
		th = swap;
		dev = tdev;
		expected = texpected;
		if (converged)
			break;
	}

	/* Standard errors from the inverse penalised Hessian at beta. */
	if (model_system(&f, beta, g, h, a, step) != 0)
		goto singular;
	for (j = 0; j < MODEL_NCOEF; j++) {
		if (f.fixed[j]) {
			se[j] = 0;
			continue;
		}
		memset(step, 0, sizeof step);
		step[j] = 1;
		model_solve(a, MODEL_NCOEF, step);
		se[j] = sqrt(step[j]);
	}
	for (j = 0; j < MODEL_NCOEF; j++) {
		if (!isfinite(beta[j]) || !isfinite(se[j]))
			goto singular;
	}

	pen = 0;
	for (j = 1; j < MODEL_NCOEF; j++)
		pen += beta[j] * beta[j];
	m->fitted = true;
	memcpy(m->ref, ref, sizeof m->ref);
	memcpy(m->coef, beta, sizeof m->coef);
	memcpy(m->se, se, sizeof m->se);
	m->info.iterations = iterations;
	m->info.converged = converged;
	m->info.deviance = dev - ridge * pen;
	m->info.null_deviance = model_null_deviance(d->n, d->rejected);
	m->info.n = d->n;
	m->info.rejected = d->rejected;
	m->info.expected = expected;
	m->info.cells = d->ncells;
	m->info.ridge = ridge;
	m->info.version++;
	model_tables(m);
	free(f.rows);
	free(h);
	free(th);
	free(a);
	return 0;

singular:
	*cause = xasprintf("model: penalised Hessian not positive definite "
	    "(ridge %g)", ridge);
	free(f.rows);
	free(h);
	free(th);
	free(a);
	return -1;
}

void
model_save(const struct model *m, struct buf *b)
{
	const struct model_fit_info *fi = &m->info;
	int i;

	buf_put_u32(b, MODEL_SAVE_VERSION);
	buf_put_u8(b, m->fitted);
	buf_put_u32(b, MODEL_NCOEF);
	buf_put(b, m->ref, sizeof m->ref);
	for (i = 0; i < MODEL_NCOEF; i++)
		buf_put_double(b, m->coef[i]);
	for (i = 0; i < MODEL_NCOEF; i++)
		buf_put_double(b, m->se[i]);
	buf_put_u32(b, (uint32_t)fi->iterations);
	buf_put_u8(b, fi->converged);
	buf_put_double(b, fi->deviance);
	buf_put_double(b, fi->null_deviance);
	buf_put_u64(b, fi->n);
	buf_put_u64(b, fi->rejected);
	buf_put_double(b, fi->expected);
	buf_put_u64(b, fi->cells);
	buf_put_double(b, fi->ridge);
	buf_put_u32(b, fi->version);
}

/* Check a loaded image; NULL if sound, else the reason (static). */
static const char *
model_check(const struct model *m, uint8_t fitted, uint8_t converged,
    uint32_t iterations)
{
	const struct model_fit_info *fi = &m->info;
	int i;

	if (fitted > 1 || converged > 1)
		return "bad flag";
	for (i = 0; i < MODEL_NATTRS; i++) {
		if (m->ref[i] >= model_nlevels[i])
			return "reference level out of range";
	}
	for (i = 0; i < MODEL_NCOEF; i++) {
		if (!isfinite(m->coef[i]) || fabs(m->coef[i]) > MODEL_COEF_MAX)
			return "coefficient out of range";
		if (!isfinite(m->se[i]) || m->se[i] < 0)
			return "bad standard error";
		if (model_coef_is_reference(m, i) &&
		    (m->coef[i] != 0 || m->se[i] != 0))
			return "reference level with a coefficient";
		if (!fitted && (m->coef[i] != 0 || m->se[i] != 0))
			return "coefficients without a fit";
	}
	if (iterations > MODEL_MAX_ITERATIONS)
		return "too many iterations";
	if (!isfinite(fi->deviance) || fi->deviance < 0 ||
	    !isfinite(fi->null_deviance) || fi->null_deviance < 0)
		return "bad deviance";
	if (fi->rejected > fi->n || fi->cells > fi->n)
		return "inconsistent counts";
	if (!isfinite(fi->expected) || fi->expected < 0 ||
	    fi->expected > (double)fi->n * (1 + 1e-9))
		return "bad expected count";
	if (!isfinite(fi->ridge) || fi->ridge < 0)
		return "bad ridge";
	if (fitted && (fi->rejected == 0 || fi->rejected == fi->n ||
	    fi->cells == 0 || !(fi->ridge > 0)))
		return "fit without usable data";
	return NULL;
}

int
model_load(struct model *m, struct buf_reader *r, char **cause)
{
	struct model tmp;
	struct model_fit_info *fi = &tmp.info;
	uint32_t version, ncoef, iterations;
	uint64_t cells;
	uint8_t fitted, converged;
	const char *why;
	int i;

	memset(&tmp, 0, sizeof tmp);
	if (buf_get_u32(r, &version) == -1)
		goto truncated;
	if (version != MODEL_SAVE_VERSION) {
		*cause = xasprintf("model: unknown format %u", version);
		return -1;
	}
	buf_get_u8(r, &fitted);
	if (buf_get_u32(r, &ncoef) == -1)
		goto truncated;
	if (ncoef != MODEL_NCOEF) {
		*cause = xasprintf("model: %u coefficients, want %d", ncoef,
		    MODEL_NCOEF);
		return -1;
	}
	buf_get(r, tmp.ref, sizeof tmp.ref);
	for (i = 0; i < MODEL_NCOEF; i++)
		buf_get_double(r, &tmp.coef[i]);
	for (i = 0; i < MODEL_NCOEF; i++)
		buf_get_double(r, &tmp.se[i]);
	buf_get_u32(r, &iterations);
	buf_get_u8(r, &converged);
	buf_get_double(r, &fi->deviance);
	buf_get_double(r, &fi->null_deviance);
	buf_get_u64(r, &fi->n);
	buf_get_u64(r, &fi->rejected);
	buf_get_double(r, &fi->expected);
	buf_get_u64(r, &cells);
	buf_get_double(r, &fi->ridge);
	if (buf_get_u32(r, &fi->version) == -1)
		goto truncated;
	fi->cells = (size_t)cells;
	if ((why = model_check(&tmp, fitted, converged, iterations)) != NULL) {
		*cause = xasprintf("model: checkpoint: %s", why);
		return -1;
	}
	tmp.fitted = fitted;
	fi->converged = converged;
	fi->iterations = (int)iterations;
	model_tables(&tmp);
	*m = tmp;
	return 0;

truncated:
	*cause = xstrdup("model: checkpoint truncated");
	return -1;
}
