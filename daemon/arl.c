/*
 * Run lengths of the one-sided CUSUM by a Markov chain on a grid of
 * values of the statistic (Brook and Evans 1972): with Q the chance of
 * moving between grid states in a week without an alarm, the ARLs from
 * all states solve (I - Q) L = 1 and L[0] is the zero-start ARL.
 * Thresholds are found on log ARL, which is nearly linear in h.
 */
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "arl.h"
#include "detect.h"
#include "xmalloc.h"

/*
 * Gauss-Hermite for a standard normal, 12 nodes: E f(Z) = sum w f(+-z).
 * The outer pair (weight 1.5e-7) is kept: it costs little.
 */
static const double arl_gh[6][2] = {
	{ 0.44440300194413901, 0.32166436151283007 },
	{ 1.3403751971516167, 0.14696704804532995 },
	{ 2.2594644510007993, 0.029116687912364138 },
	{ 3.2237098287700974, 0.0022033806875331849 },
	{ 4.2718258479322815, 4.8371849225906076e-05 },
	{ 5.500901704467748, 1.4999271676371695e-07 },
};
#define ARL_GH_HALF		6

/* Binomial probabilities below this are left out. */
#define ARL_PMF_EPS		1e-15

/*
 * Binomial grid: M + 1 points 0, h/M, ..., h. A value between two points
 * is split between them in proportion, which keeps the weekly drift
 * exact however small it is. M depends on the model, not on h, so the
 * ARL is continuous in h: the grid step is at most 1/ARL_BINOMIAL_SPLIT
 * of the smallest lattice step of the LLR (one more rejection) up to
 * h = ARL_BINOMIAL_HREF, with M between ARL_BINOMIAL_MIN and
 * ARL_BINOMIAL_MAX.
 */
#define ARL_BINOMIAL_SPLIT	3
#define ARL_BINOMIAL_HREF	10
#define ARL_BINOMIAL_MIN	60
#define ARL_BINOMIAL_MAX	120

/*
 * Normal grid: cells of width at most 1/ARL_NORMAL_CELLS of a look's
 * standard deviation, between ARL_NORMAL_MIN and ARL_NORMAL_MAX cells up
 * to h; within a
 * week the partial sums may go ARL_NORMAL_BELOW weekly standard
 * deviations below 0 before they are held there (from further down a
 * return above h within the same week is negligible, and holding them
 * higher only adds alarms).
 */
#define ARL_NORMAL_CELLS	3
#define ARL_NORMAL_MIN		40
#define ARL_NORMAL_MAX		100
#define ARL_NORMAL_BELOW	5

/* Relative precision of a threshold's ARL (log scale). */
#define ARL_SOLVE_TOL		1e-3

struct arl_work;

/* Weekly increments (LLR units) and their probabilities. */
struct arl_steps {
	double		*x;
	double		*p;
	int		 n;
	int		 cap;
	double		 lattice;	/* smallest step between counts */
	struct arl_work	*work;		/* the chain's, kept for the next h */
};

typedef double (*arl_log_cb)(double, void *);

static void arl_work_free(struct arl_work *);

static void
arl_steps_add(struct arl_steps *s, double x, double p)
{
	if (s->n == s->cap) {
		s->cap = s->cap == 0 ? 256 : s->cap * 2;
		s->x = xreallocarray(s->x, s->cap, sizeof *s->x);
		s->p = xreallocarray(s->p, s->cap, sizeof *s->p);
	}
	s->x[s->n] = x;
	s->p[s->n] = p;
	s->n++;
}

static void
arl_steps_free(struct arl_steps *s)
{
	free(s->x);
	free(s->p);
	arl_work_free(s->work);
	s->work = NULL;
}

/*
 * Adds weight times the Binomial(n, p) pmf into pmf[0..n]: from the mode
 * outwards by the ratio of successive terms, so nothing underflows for
 * large n.
 */
static void
arl_binom_add(double *pmf, int n, double p, double weight)
{
	int mode, k, sign;
	double lp, lq, t, t0, ratio;

	if (p <= 0) {
		pmf[0] += weight;
		return;
	}
	if (p >= 1) {
		pmf[n] += weight;
		return;
	}
	mode = (int)floor((n + 1) * p);
	if (mode > n)
		mode = n;
	lp = log(p);
	lq = log1p(-p);
	/* lgamma_r: lgamma writes signgam, shared by the job's threads. */
	t0 = weight * exp(lgamma_r(n + 1.0, &sign) -
	    lgamma_r(mode + 1.0, &sign) - lgamma_r(n - mode + 1.0, &sign) +
	    mode * lp + (n - mode) * lq);
	pmf[mode] += t0;
	ratio = p / (1 - p);
	for (k = mode + 1, t = t0; k <= n; k++) {
		t *= ratio * (n - k + 1) / k;
		if (t < ARL_PMF_EPS * weight)
			break;
		pmf[k] += t;
	}
	for (k = mode - 1, t = t0; k >= 0; k--) {
		t *= (k + 1) / (ratio * (n - k));
		if (t < ARL_PMF_EPS * weight)
			break;
		pmf[k] += t;
	}
}

/*
 * One week size nn (an integer) with share weight: its counts under the
 * overdispersed model, integrated over u by Gauss-Hermite, each with the
 * LLR the statistic gives it.
 */
static void
arl_steps_size(const struct arl_binomial *m, int nn, double p, double theta,
    double weight, struct arl_steps *s)
{
	double *pmf, e, v, lo, sd, a;
	int o, k;

	e = nn * p;
	v = nn * p * (1 - p);
	if (nn <= 0 || !(v > 0)) {
		arl_steps_add(s, 0, weight);
		return;
	}
	pmf = xcalloc(nn + 1, sizeof *pmf);
	lo = detect_logit(p) + theta;
	sd = m->tau2_true > 0 ? sqrt(m->tau2_true) : 0;
	if (sd == 0)
		arl_binom_add(pmf, nn, detect_expit(lo), weight);
	else {
		for (k = 0; k < ARL_GH_HALF; k++) {
			arl_binom_add(pmf, nn, detect_expit(lo +
			    sd * arl_gh[k][0]), weight * arl_gh[k][1]);
			arl_binom_add(pmf, nn, detect_expit(lo -
			    sd * arl_gh[k][0]), weight * arl_gh[k][1]);
		}
	}
	for (o = 0; o <= nn; o++)
		if (pmf[o] > 0)
			arl_steps_add(s, detect_llr_bernoulli(m->delta, o - e, e,
			    v, nn, m->tau2_stat), pmf[o]);
	a = fabs(m->delta) / (1 + m->tau2_stat * v);
	if (a > 0 && (s->lattice == 0 || a < s->lattice))
		s->lattice = a;
	free(pmf);
}

/*
 * The weekly increments of a binomial model under theta; 0 when the
 * weeks carry no information (s is then empty).
 */
static int
arl_steps_binomial(const struct arl_binomial *m, double theta,
    struct arl_steps *s)
{
	const struct arl_week *w;
	double total = 0, share, fl, f;
	int j;

	s->x = s->p = NULL;
	s->n = s->cap = 0;
	s->lattice = 0;
	s->work = NULL;
	if (m == NULL || m->weeks == NULL || m->nweeks <= 0 ||
	    m->nweeks > ARL_MAX_WEEKS || !isfinite(m->delta) ||
	    m->delta == 0 || !isfinite(m->tau2_true) || m->tau2_true < 0 ||
	    !isfinite(m->tau2_stat) || m->tau2_stat < 0 || !isfinite(theta))
		return 0;
	for (j = 0; j < m->nweeks; j++) {
		w = &m->weeks[j];
		if (isfinite(w->weight) && w->weight > 0 && isfinite(w->n) &&
		    w->n >= 0 && w->n < 1e6 && isfinite(w->p))
			total += w->weight;
	}
	if (!(total > 0))
		return 0;
	for (j = 0; j < m->nweeks; j++) {
		w = &m->weeks[j];
		if (!(isfinite(w->weight) && w->weight > 0 && isfinite(w->n) &&
		    w->n >= 0 && w->n < 1e6 && isfinite(w->p)))
			continue;
		share = w->weight / total;
		/* A fractional n: floor and ceil, mean n, the same p. */
		fl = floor(w->n);
		f = w->n - fl;
		if (f < 1e-12)
			arl_steps_size(m, (int)fl, w->p, theta, share, s);
		else {
			arl_steps_size(m, (int)fl, w->p, theta,
			    share * (1 - f), s);
			arl_steps_size(m, (int)fl + 1, w->p, theta, share * f,
			    s);
		}
	}
	if (s->lattice == 0) {
		arl_steps_free(s);
		s->x = s->p = NULL;
		s->n = 0;
		return 0;
	}
	return 1;
}

/*
 * The elimination spends nearly all of its time in y[0..n) -= g x[0..n)
 * over two rows of one matrix, which never overlap: said so (restrict),
 * the loop runs on vectors, and on x86-64 with GCC the solver has a
 * clone for AVX2, picked at load time where the CPU has it. Multiplies
 * and subtractions stay separate (no fused multiply-add), so every
 * result is the scalar loop's to the bit.
 */
#if defined(__GNUC__) && __GNUC__ >= 6 && !defined(__clang__) && \
    defined(__x86_64__) && defined(__GLIBC__)	/* clones need ifunc */
#define ARL_VECTOR	__attribute__((target_clones("avx2", "default"), \
	optimize("tree-vectorize", "vect-cost-model=cheap", "fp-contract=off")))
#else
#define ARL_VECTOR
#endif

static inline void
arl_axpy(double *restrict y, const double *restrict x, double g, int n)
{
	int j;

	for (j = 0; j < n; j++)
		y[j] -= g * x[j];
}

/*
 * Solves (I - Q) L = 1 for the (n x n) matrix a = I - Q, row-major, and
 * returns L[0]. Row sums of Q are at most 1, so I - Q is diagonally
 * dominant and elimination needs no pivoting. end[i] is the last nonzero
 * column of row i: rows reach up only as far as a week can climb, and
 * elimination keeps that band (a row takes on the pivot row's end).
 * below[k] is the last row with a nonzero in column k (a week falls only
 * so far), kept the same way, so that rows beyond it are not visited.
 */
ARL_VECTOR static double
arl_solve_chain(double *a, double *b, int *end, int *below, int n)
{
	double *ri, *rk, f, l0;
	int i, j, k, last;

	for (i = 0; i < n; i++)
		b[i] = 1;
	for (k = 0; k < n; k++) {
		rk = a + (size_t)k * n;
		if (!(rk[k] > 0))
			return INFINITY;
		last = k;
		for (i = k + 1; i <= below[k]; i++) {
			ri = a + (size_t)i * n;
			if (ri[k] == 0)
				continue;
			f = ri[k] / rk[k];
			arl_axpy(ri + k + 1, rk + k + 1, f, end[k] - k);
			b[i] -= f * b[k];
			if (end[i] < end[k])
				end[i] = end[k];
			last = i;
		}
		/* The rows changed now reach down the pivot row's columns. */
		for (j = k + 1; j <= end[k]; j++)
			if (below[j] < last)
				below[j] = last;
	}
	for (k = n - 1; k >= 0; k--) {
		rk = a + (size_t)k * n;
		for (j = k + 1; j <= end[k]; j++)
			b[k] -= rk[j] * b[j];
		b[k] /= rk[k];
	}
	l0 = b[0];
	return isfinite(l0) && l0 > 0 ? l0 : INFINITY;
}

/* Grid intervals for a binomial model, from its lattice step alone. */
static int
arl_binomial_states(const struct arl_steps *s)
{
	double want = ceil(ARL_BINOMIAL_HREF * ARL_BINOMIAL_SPLIT / s->lattice);

	if (want < ARL_BINOMIAL_MIN)
		return ARL_BINOMIAL_MIN;
	if (want > ARL_BINOMIAL_MAX)
		return ARL_BINOMIAL_MAX;
	return (int)want;
}

/*
 * A chain's working memory, sized by the grid, which depends on the steps
 * alone: kept with them, so that a search over h allocates it once.
 *
 * The fold: every step is the same from every state, so what a row
 * receives depends only on the integer part d of its length in cells
 * (d = -states - 1 stands for anything lower), at index d + states + 1.
 * A step of d + f cells (0 <= f < 1) from state i lands at i + d + f: at
 * or below 0 it reflects to 0 whole; above states it alarms; between, it
 * is split, 1 - f to i + d and f to i + d + 1.
 */
struct arl_work {
	void	*mem;		/* every array below, in one block */
	double	*a;		/* I - Q, (states + 1)^2, row-major */
	double	*b;
	int	*end;		/* see arl_solve_chain */
	int	*lowest;
	double	*whole;		/* sum of p: all of it to 0 when i + d < 0 */
	double	*lower;		/* sum of (1 - f) p, to i + d */
	double	*upper;		/* sum of f p over f > 0, to i + d + 1 */
	double	*exact;		/* sum of p over f == 0: stays when i + d == states */
	double	*below;		/* [j]: the whole mass of every index < j */
	char	*has;
	char	*has_upper;
	char	*has_exact;
	/*
	 * -Q by offset j - i (index j - i + states), for a column strictly
	 * between 0 and states (mid) and for the column states (top); the
	 * w_ flags say the entry is written, which keeps the band.
	 */
	double	*mid;
	double	*top;
	char	*w_mid;
	char	*w_top;
	int	*last_mid;
	int	*first_mid;
};

/*
 * Blocks a thread has finished with, kept for its next chains. A block
 * (133 KB) is above glibc's first mmap and trim thresholds: freed and
 * allocated again for each of the thousands of chains of a thresholds
 * job, it went back to the kernel and was faulted in again every time
 * (a fifth of the job). A block is sized for the largest grid, so that
 * a spare fits any chain; the few a thread keeps are freed when it
 * exits.
 */
#define ARL_SPARES		4

struct arl_spares {
	struct arl_work	*w[ARL_SPARES];
	int		 n;
};

static _Thread_local struct arl_spares arl_spares;
static pthread_key_t arl_spares_key;
static pthread_once_t arl_spares_once = PTHREAD_ONCE_INIT;
static bool arl_spares_keyed;

static void
arl_spares_drop(void *arg)
{
	struct arl_spares *sp = arg;

	while (sp->n > 0) {
		sp->n--;
		free(sp->w[sp->n]->mem);
		free(sp->w[sp->n]);
	}
}

static void
arl_spares_init(void)
{
	arl_spares_keyed = pthread_key_create(&arl_spares_key,
	    arl_spares_drop) == 0;
}

static void
arl_work_free(struct arl_work *w)
{
	if (w == NULL)
		return;
	(void)pthread_once(&arl_spares_once, arl_spares_init);
	/* Kept only where the thread's exit frees them: the key's value. */
	if (arl_spares_keyed && arl_spares.n < ARL_SPARES) {
		if (arl_spares.n == 0)
			(void)pthread_setspecific(arl_spares_key, &arl_spares);
		arl_spares.w[arl_spares.n++] = w;
		return;
	}
	free(w->mem);
	free(w);
}

/* n elements of size from *at, which moves past them. */
static void *
arl_carve(char **at, size_t n, size_t size)
{
	void *p = *at;

	*at += n * size;
	return p;
}

/* Bytes of a block for a grid of states (see arl_work_get). */
static size_t
arl_work_size(int states)
{
	size_t n = (size_t)states + 1, span = 2 * (size_t)states + 2;
	size_t nd, ni, nc;

	nd = n * n + n + 4 * span + (span + 1) + 2 * (span - 1);
	ni = 2 * n + 2 * (span - 1);
	nc = 3 * span + 2 * (span - 1);
	return nd * sizeof (double) + ni * sizeof (int) + nc;
}

/*
 * The steps' work, carved for their grid when they first need it (the
 * grid depends on the steps alone, so it stays theirs). states is at
 * most ARL_BINOMIAL_MAX (arl_binomial_states), which every block holds.
 */
static struct arl_work *
arl_work_get(struct arl_steps *s, int states)
{
	struct arl_work *w = s->work;
	size_t n = (size_t)states + 1, span = 2 * (size_t)states + 2;
	char *at;

	if (w != NULL)
		return w;
	(void)pthread_once(&arl_spares_once, arl_spares_init);
	if (arl_spares.n > 0)
		w = arl_spares.w[--arl_spares.n];
	else {
		w = xcalloc(1, sizeof *w);
		w->mem = xmalloc(arl_work_size(ARL_BINOMIAL_MAX));
	}
	s->work = w;
	/* One block: the doubles first, so that every part is aligned. */
	at = w->mem;
	w->a = arl_carve(&at, n * n, sizeof *w->a);
	w->b = arl_carve(&at, n, sizeof *w->b);
	w->whole = arl_carve(&at, span, sizeof *w->whole);
	w->lower = arl_carve(&at, span, sizeof *w->lower);
	w->upper = arl_carve(&at, span, sizeof *w->upper);
	w->exact = arl_carve(&at, span, sizeof *w->exact);
	w->below = arl_carve(&at, span + 1, sizeof *w->below);
	w->mid = arl_carve(&at, span - 1, sizeof *w->mid);
	w->top = arl_carve(&at, span - 1, sizeof *w->top);
	w->end = arl_carve(&at, n, sizeof *w->end);
	w->lowest = arl_carve(&at, n, sizeof *w->lowest);
	w->last_mid = arl_carve(&at, span - 1, sizeof *w->last_mid);
	w->first_mid = arl_carve(&at, span - 1, sizeof *w->first_mid);
	w->has = arl_carve(&at, span, 1);
	w->has_upper = arl_carve(&at, span, 1);
	w->has_exact = arl_carve(&at, span, 1);
	w->w_mid = arl_carve(&at, span - 1, 1);
	w->w_top = arl_carve(&at, span - 1, 1);
	return w;
}

/* Zero-start ARL of the binomial chain with increments s at h. */
static double
arl_binomial_chain(struct arl_steps *s, double h)
{
	struct arl_work *w;
	double *a, *row, c, y, f, p, pup = 0;
	int i, j, e, d, k, t, n, states, span, lo;

	if (!(h > 0)) {
		/* Only 0 is below h: each week alarms when it rises. */
		for (e = 0; e < s->n; e++)
			if (s->x[e] > 0)
				pup += s->p[e];
		return pup > 0 ? 1 / pup : INFINITY;
	}
	states = arl_binomial_states(s);
	w = arl_work_get(s, states);
	c = h / states;
	n = states + 1;
	span = 2 * states + 2;
	lo = states + 1;
	memset(w->whole, 0, (size_t)span * sizeof *w->whole);
	memset(w->lower, 0, (size_t)span * sizeof *w->lower);
	memset(w->upper, 0, (size_t)span * sizeof *w->upper);
	memset(w->exact, 0, (size_t)span * sizeof *w->exact);
	memset(w->has, 0, (size_t)span);
	memset(w->has_upper, 0, (size_t)span);
	memset(w->has_exact, 0, (size_t)span);
	for (e = 0; e < s->n; e++) {
		y = s->x[e] / c;
		p = s->p[e];
		if (y > states)
			continue;
		if (y < -states - 1) {
			w->whole[0] += p;
			w->has[0] = 1;
			continue;
		}
		d = (int)floor(y);
		f = y - d;
		k = d + lo;
		w->whole[k] += p;
		w->lower[k] += (1 - f) * p;
		w->has[k] = 1;
		if (f > 0) {
			w->upper[k] += f * p;
			w->has_upper[k] = 1;
		} else {
			w->exact[k] += p;
			w->has_exact[k] = 1;
		}
	}
	w->below[0] = 0;
	for (k = 0; k < span; k++)
		w->below[k + 1] = w->below[k] + w->whole[k];
	/*
	 * -Q by offset t = j - i: a column takes the upper share of the
	 * steps one cell lower (d = t - 1), then the lower share, or at
	 * the column states only an exact landing, of those of d = t. The
	 * order of the subtractions is the one the entries always had.
	 */
	for (t = -states; t <= states; t++) {
		k = t + lo;
		w->mid[t + states] = (0.0 - w->upper[k - 1]) - w->lower[k];
		w->top[t + states] = (0.0 - w->upper[k - 1]) - w->exact[k];
		w->w_mid[t + states] = w->has[k] || w->has_upper[k - 1];
		w->w_top[t + states] = w->has_upper[k - 1] ||
		    w->has_exact[k];
	}
	/*
	 * The band: last_mid[t] is the largest offset <= t written in mid,
	 * first_mid[t] the smallest >= t (-span and span for none).
	 */
	for (t = -states, j = -span; t <= states; t++) {
		if (w->w_mid[t + states])
			j = t;
		w->last_mid[t + states] = j;
	}
	for (t = states, j = span; t >= -states; t--) {
		if (w->w_mid[t + states])
			j = t;
		w->first_mid[t + states] = j;
	}
	/*
	 * Row i: column 0 takes what reflects (every d < -i) and the lower
	 * share of d = -i; the rest is a slice of mid, then top.
	 */
	a = w->a;
	for (i = 0; i < n; i++) {
		row = a + (size_t)i * n;
		row[0] = (0.0 - w->below[lo - i]) - w->lower[lo - i];
		memcpy(row + 1, w->mid + (1 - i + states),
		    (size_t)(states - 1) * sizeof *row);
		row[states] = w->top[states - i + states];
		row[i] += 1;
		/* The row's last written column, at least i. */
		t = w->w_top[states - i + states] ? states - i :
		    w->last_mid[states - 1 - i + states];
		w->end[i] = t > 0 ? i + t : i;
	}
	/* Each column's last written row, at least its own. */
	w->lowest[0] = 0;
	for (i = states; i > 0; i--)
		if (w->below[lo - i] != 0 || w->has[lo - i]) {
			w->lowest[0] = i;
			break;
		}
	for (j = 1; j < states; j++) {
		t = w->first_mid[j - states + states];
		w->lowest[j] = t < 0 ? j - t : j;
	}
	w->lowest[states] = states;
	return arl_solve_chain(a, w->b, w->end, w->lowest, n);
}

double
arl_binomial_run(const struct arl_binomial *m, double h, double theta)
{
	struct arl_steps s;
	double arl;

	if (isnan(h) || !arl_steps_binomial(m, theta, &s))
		return INFINITY;
	if (isinf(h))
		arl = INFINITY;
	else
		arl = arl_binomial_chain(&s, fmax(h, 0));
	arl_steps_free(&s);
	return arl;
}

struct arl_prepared {
	struct arl_steps	 s;
};

struct arl_prepared *
arl_binomial_prepare(const struct arl_binomial *m, double theta)
{
	struct arl_prepared *p = xcalloc(1, sizeof *p);

	if (!arl_steps_binomial(m, theta, &p->s)) {
		free(p);
		return NULL;
	}
	return p;
}

double
arl_prepared_run(struct arl_prepared *p, double h)
{
	if (p == NULL || isnan(h) || isinf(h))
		return INFINITY;
	return arl_binomial_chain(&p->s, fmax(h, 0));
}

void
arl_prepared_free(struct arl_prepared *p)
{
	if (p == NULL)
		return;
	arl_steps_free(&p->s);
	free(p);
}

/*
 * Illinois regula falsi for fn(h) = target on a bracket: fn(lo) - target
 * = flo < 0 <= fhi = fn(hi) - target. Where fn jumps the bracket closes
 * on the jump and its upper end is returned.
 */
static double
arl_illinois(arl_log_cb fn, void *arg, double target, double lo, double flo,
    double hi, double fhi)
{
	double h, f;
	int i, side = 0;

	for (i = 0; i < 100 && hi - lo > 1e-6 * hi; i++) {
		h = (lo * fhi - hi * flo) / (fhi - flo);
		if (!(h > lo && h < hi))
			h = lo + (hi - lo) / 2;
		f = fn(h, arg) - target;
		if (fabs(f) < ARL_SOLVE_TOL)
			return h;
		if (f < 0) {
			lo = h;
			flo = f;
			if (side == -1)
				fhi /= 2;
			side = -1;
		} else {
			hi = h;
			fhi = f;
			if (side == 1)
				flo /= 2;
			side = 1;
		}
	}
	return hi;
}

/*
 * The h >= 0 with fn(h) = target, fn increasing (a log ARL): 0 when
 * fn(0) >= target. log ARL grows by about 1 per unit of h, so step up
 * by the shortfall to a bracket, then Illinois regula falsi. Where fn
 * jumps (counts make the ARL a staircase in h) no h meets the target:
 * the bracket closes on the jump and its upper end is returned, the
 * smallest h whose ARL is at least the target.
 */
static double
arl_solve(arl_log_cb fn, void *arg, double target)
{
	double lo = 0, hi, flo, fhi;

	flo = fn(0, arg) - target;
	if (!(flo < 0))
		return 0;
	hi = fmax(-flo, 0.25);
	for (;;) {
		fhi = fn(hi, arg) - target;
		if (fhi >= 0)
			break;
		if (isnan(fhi) || hi > 1e3)
			return INFINITY;
		lo = hi;
		flo = fhi;
		hi += fmax(-1.5 * fhi, 0.25);
	}
	return arl_illinois(fn, arg, target, lo, flo, hi, fhi);
}

/* The binomial search's chain, and its last h and ARL. */
struct arl_seen {
	struct arl_steps	*s;
	double			 h;
	double			 arl;
};

/*
 * arl_solve for the binomial chain's log ARL, given f0 = fn(0) - target:
 * secant steps through the last two points until there are points on
 * both sides of the root, which a curve that is nearly straight brings
 * in quickly where regula falsi would keep its end at 0; then, as
 * arl_solve, Illinois on that bracket, since up close the chain's ARL
 * has small steps in h. The same tolerance.
 */
static double
arl_solve_secant(arl_log_cb fn, void *arg, double target, double f0)
{
	double lo = 0, hi = INFINITY, flo = f0, fhi = 0, ha = 0, fa = f0, hb;
	double fb, h;
	int i;

	if (!(f0 < 0))
		return 0;
	hb = fmax(-f0, 0.25);
	for (i = 0; i < 100; i++) {
		fb = fn(hb, arg) - target;
		if (isnan(fb))
			return INFINITY;
		if (fabs(fb) < ARL_SOLVE_TOL)
			return hb;
		if (fb < 0) {
			lo = hb;
			flo = fb;
		} else {
			hi = hb;
			fhi = fb;
		}
		if (isfinite(hi) && lo > 0)
			break;
		if (isinf(hi) && hb > 1e3)
			return INFINITY;
		h = fb != fa ? hb - fb * (hb - ha) / (fb - fa) : NAN;
		if (isinf(hi)) {
			/* Out to a bracket: by the shortfall at least. */
			if (!(h > lo))
				h = lo + fmax(-1.5 * flo, 0.25);
		} else if (!(h > lo && h < hi))
			h = lo + (hi - lo) / 2;
		ha = hb;
		fa = fb;
		hb = h;
	}
	return arl_illinois(fn, arg, target, lo, flo, hi, fhi);
}

static double
arl_binomial_log(double h, void *arg)
{
	struct arl_seen *seen = arg;

	seen->h = h;
	seen->arl = arl_binomial_chain(seen->s, h);
	return log(seen->arl);
}

double
arl_binomial_threshold_at(const struct arl_binomial *m, double arl0,
    double *arl_at)
{
	struct arl_steps s;
	struct arl_seen seen;
	double h, a0;

	*arl_at = INFINITY;
	if (isnan(arl0) || !arl_steps_binomial(m, 0, &s))
		return INFINITY;
	if (arl0 <= (a0 = arl_binomial_chain(&s, 0))) {
		h = 0;
		*arl_at = a0;
	} else if (isinf(arl0))
		h = INFINITY;
	else {
		seen.s = &s;
		seen.h = NAN;
		h = arl_solve_secant(arl_binomial_log, &seen, log(arl0),
		    log(a0) - log(arl0));
		/*
		 * Nearly always the last h asked for; the bracket's upper
		 * end where it closed on a step of the ARL.
		 */
		if (seen.h == h)
			*arl_at = seen.arl;
		else if (isfinite(h))
			*arl_at = arl_binomial_chain(&s, h);
	}
	arl_steps_free(&s);
	return h;
}

double
arl_binomial_threshold(const struct arl_binomial *m, double arl0)
{
	double arl;

	return arl_binomial_threshold_at(m, arl0, &arl);
}

/* Standard normal distribution function. */
static double
arl_phi(double x)
{
	return 0.5 * erfc(-x / M_SQRT2);
}

/*
 * The normal chain. Cells of width c: cell t holds values in
 * ((t - 1/2) c, (t + 1/2) c], except the top cell `top`, which ends at
 * h, and the bottom cell -below, which holds everything lower. A look
 * moves by N(mu, sigma^2)/looks from the cell's centre; values above h
 * alarm. At the commit all cells <= 0 are the state 0. Within the week
 * the looks are independent equal parts: real days differ in size
 * (weekends are empty), which gives fewer effective looks, so this errs
 * towards alarms.
 */
struct arl_normal_grid {
	double		 c;		/* cell width */
	int		 top;		/* cells 1..top above 0 */
	int		 below;		/* cells -below..-1 within a week */
	int		 width;		/* a look moves at most width cells */
	double		*cdf;		/* P(look <= (k + 1/2) c), k = -width-1.. */
	double		*topcdf;	/* P(from cell t, value <= h) */
};

static double
arl_grid_cdf(const struct arl_normal_grid *g, int k)
{
	if (k < -g->width - 1)
		return 0;
	if (k > g->width)
		return 1;
	return g->cdf[k + g->width + 1];
}

/* E[(Z - x)+] for Z ~ N(mean, sd^2). */
static double
arl_excess(double x, double mean, double sd)
{
	double z = (mean - x) / sd;

	return sd * (z * arl_phi(z) + exp(-z * z / 2) / sqrt(2 * M_PI));
}

/*
 * The coarse grid's look (see arl_normal_chain): mass at y goes to the two
 * cell centres around it in proportion (a hat of width 2c about each
 * centre), so that a look keeps its mean however wide the cells.
 * kern[k], k = -width..width: to the interior cell k from the one it
 * starts at. Returns the step's variance on the grid.
 */
static double
arl_hat_kernel(const struct arl_normal_grid *g, double mus, double sde,
    double *kern)
{
	double m1 = 0, m2 = 0, x;
	int k;

	for (k = -g->width; k <= g->width; k++) {
		kern[k + g->width] = fmax(0, (arl_excess((k - 1) * g->c, mus,
		    sde) - 2 * arl_excess(k * g->c, mus, sde) +
		    arl_excess((k + 1) * g->c, mus, sde)) / g->c);
		x = k * g->c;
		m1 += kern[k + g->width] * x;
		m2 += kern[k + g->width] * x * x;
	}
	return m2 - m1 * m1;
}

/*
 * The split adds variance: f(1 - f) c^2 for a landing at fraction f of
 * a cell, which depends on where the drift puts a look as much as on its
 * spread when the cells are wide. So the look's own sd is chosen, by
 * bisection, for the step on the grid to have the look's variance (the
 * least sd where the split alone has more). kern is left for that sd.
 */
static double
arl_hat_sd(const struct arl_normal_grid *g, double mus, double sds,
    double *kern)
{
	double lo = 1e-3 * sds, hi = sds, mid;
	int i;

	if (arl_hat_kernel(g, mus, lo, kern) >= sds * sds)
		return lo;
	for (i = 0; i < 30; i++) {
		mid = (lo + hi) / 2;
		if (arl_hat_kernel(g, mus, mid, kern) > sds * sds)
			hi = mid;
		else
			lo = mid;
	}
	arl_hat_kernel(g, mus, lo, kern);
	return lo;
}

/*
 * From cell s of the coarse grid: *top, what the top cell takes (from its
 * centre, which is h, down to the cell below, in proportion); *bottom,
 * what the bottom one takes (everything below its centre, and up to the
 * cell above in proportion). Above h alarms.
 */
static void
arl_hat_ends(const struct arl_normal_grid *g, double h, double mus,
    double sde, int s, double *top, double *bottom)
{
	double c = g->c, x = s * c;

	*top = (arl_excess((g->top - 1) * c - x, mus, sde) -
	    arl_excess(g->top * c - x, mus, sde)) / c -
	    (1 - arl_phi((h - x - mus) / sde));
	*bottom = 1 - (arl_excess(-g->below * c - x, mus, sde) -
	    arl_excess((1 - g->below) * c - x, mus, sde)) / c;
	*top = fmax(0, *top);
	*bottom = fmax(0, *bottom);
}

static double
arl_normal_chain(double h, double mu, double sigma, int looks)
{
	struct arl_normal_grid g;
	double *a, *b, *f, *nf, *kern = NULL, *tw = NULL, *bw = NULL, mus, sds,
	    sde, pk, fs, arl;
	int *end, *rows, i, k, s, t, n, span, lo, hi, nlo, nhi, look, tlo, thi;
	bool coarse = false;

	memset(&g, 0, sizeof g);
	mus = mu / looks;
	sds = sigma / sqrt(looks);
	g.c = sds / ARL_NORMAL_CELLS;
	if (h > 0 && h / g.c < ARL_NORMAL_MIN)
		g.c = h / ARL_NORMAL_MIN;
	/*
	 * Far above a look's spread the cells are capped and grow wider
	 * than a look's drift, which rounding to a centre would lose: there
	 * a look is split between centres in proportion instead.
	 */
	if (h / g.c > ARL_NORMAL_MAX) {
		g.c = h / ARL_NORMAL_MAX;
		coarse = true;
	}
	/* (top - 1/2) c < h <= (top + 1/2) c. */
	g.top = (int)ceil(h / g.c + 0.5) - 1;
	if (g.top < 0)
		g.top = 0;
	g.below = looks > 1 ? (int)ceil(ARL_NORMAL_BELOW * sigma / g.c) : 0;
	g.width = (int)ceil((6 * sds + fabs(mus)) / g.c) + 1;
	span = g.top + g.below + 1;
	if (coarse) {
		kern = xcalloc(2 * g.width + 1, sizeof *kern);
		sde = arl_hat_sd(&g, mus, sds, kern);
		/* The top cell's centre is h (100 cells): nothing above it. */
		tw = xcalloc(span, sizeof *tw);
		bw = xcalloc(span, sizeof *bw);
		for (t = -g.below; t <= g.top; t++)
			arl_hat_ends(&g, h, mus, sde, t, &tw[t + g.below],
			    &bw[t + g.below]);
	} else {
		/*
		 * Rounding each look to a cell centre adds variance c^2/12
		 * (Sheppard): take it off the look's own, so the walk's
		 * spread stays right.
		 */
		sde = sqrt(fmax(sds * sds - g.c * g.c / 12, sds * sds / 4));
		g.cdf = xcalloc(2 * g.width + 2, sizeof *g.cdf);
		for (k = -g.width - 1; k <= g.width; k++)
			g.cdf[k + g.width + 1] = arl_phi(((k + 0.5) * g.c -
			    mus) / sde);
		g.topcdf = xcalloc(span, sizeof *g.topcdf);
		for (t = -g.below; t <= g.top; t++)
			g.topcdf[t + g.below] = arl_phi((h - t * g.c - mus) /
			    sde);
	}

	n = g.top + 1;
	a = xcalloc((size_t)n * n, sizeof *a);
	b = xcalloc(n, sizeof *b);
	end = xcalloc(n, sizeof *end);
	f = xcalloc(span, sizeof *f);
	nf = xcalloc(span, sizeof *nf);
	for (i = 0; i < n; i++) {
		for (t = 0; t < span; t++)
			f[t] = 0;
		f[i + g.below] = 1;
		lo = hi = i;
		for (look = 0; look < looks; look++) {
			nlo = lo - g.width < -g.below ? -g.below : lo - g.width;
			nhi = hi + g.width > g.top ? g.top : hi + g.width;
			for (t = nlo; t <= nhi; t++)
				nf[t + g.below] = 0;
			for (s = lo; s <= hi; s++) {
				fs = f[s + g.below];
				if (fs == 0)
					continue;
				if (coarse) {
					tlo = s - g.width > -g.below + 1 ?
					    s - g.width : -g.below + 1;
					thi = s + g.width < g.top - 1 ?
					    s + g.width : g.top - 1;
					for (t = tlo; t <= thi; t++)
						nf[t + g.below] += fs *
						    kern[t - s + g.width];
					nf[g.top + g.below] += fs *
					    tw[s + g.below];
					nf[0] += fs * bw[s + g.below];
					continue;
				}
				/* Interior cells. */
				tlo = s - g.width > -g.below + 1 ? s - g.width :
				    -g.below + 1;
				thi = s + g.width < g.top - 1 ? s + g.width :
				    g.top - 1;
				for (t = tlo; t <= thi; t++) {
					pk = g.cdf[t - s + g.width + 1] -
					    g.cdf[t - s + g.width];
					nf[t + g.below] += fs * pk;
				}
				/* The top cell ends at h; the bottom holds all below. */
				if (g.top == -g.below)
					nf[g.below + g.top] += fs *
					    g.topcdf[s + g.below];
				else {
					nf[g.top + g.below] += fs *
					    fmax(0, g.topcdf[s + g.below] -
					    arl_grid_cdf(&g, g.top - 1 - s));
					nf[0] += fs * arl_grid_cdf(&g,
					    -g.below - s);
				}
			}
			for (t = nlo; t <= nhi; t++)
				f[t + g.below] = nf[t + g.below];
			lo = nlo;
			hi = nhi;
		}
		/* The commit: a = I - Q, everything <= 0 is the state 0. */
		for (t = lo; t <= hi; t++) {
			if (t <= 0)
				a[(size_t)i * n] -= f[t + g.below];
			else
				a[(size_t)i * n + t] -= f[t + g.below];
		}
		a[(size_t)i * n + i] += 1;
		end[i] = hi > i ? hi : i;
	}
	/* Every row may reach state 0: no column ends early. */
	rows = xcalloc(n, sizeof *rows);
	for (i = 0; i < n; i++)
		rows[i] = n - 1;
	arl = arl_solve_chain(a, b, end, rows, n);
	free(a);
	free(b);
	free(end);
	free(rows);
	free(f);
	free(nf);
	free(g.cdf);
	free(g.topcdf);
	free(kern);
	free(tw);
	free(bw);
	return arl;
}

double
arl_normal_run(double h, double m, double r, int looks, double shift_sd)
{
	if (!(m > 0) || !(r > 0) || !isfinite(m) || !isfinite(r) ||
	    isnan(h) || !isfinite(shift_sd))
		return INFINITY;
	if (isinf(h))
		return INFINITY;
	if (looks < 1)
		looks = 1;
	return arl_normal_chain(fmax(h, 0), m * (shift_sd - m / 2), m * r,
	    looks);
}

/*
 * The variance ratio's uncertainty. tau^2 estimated from k weeks is about
 * tau^2 chi^2_{k-1}/(k-1) (a variance from k values), so given the
 * estimate the true tau^2 is the estimate times (k-1)/chi^2_{k-1}. It is
 * put on the whole weekly variance r^2, which is exact when tau^2 V
 * dominates (the national series, where it matters) and errs towards
 * alarms otherwise (the binomial part is known). chi^2_nu/nu is
 * Y^3 by Wilson and Hilferty, Y ~ N(1 - 2/(9 nu), 2/(9 nu)), integrated
 * by Gauss-Hermite; Y is kept above 0.05 for very small nu.
 */
struct arl_normal_arg {
	double		m;
	double		r;
	int		looks;
	int		dof;
};

static double
arl_normal_log(double h, void *arg)
{
	const struct arl_normal_arg *na = arg;
	double nu, mean, sd, y, rate = 0, z;
	int k, sign;

	if (na->dof <= 1)
		return log(arl_normal_run(h, na->m, na->r, na->looks, 0));
	nu = na->dof - 1;
	mean = 1 - 2 / (9 * nu);
	sd = sqrt(2 / (9 * nu));
	for (k = 0; k < ARL_GH_HALF; k++)
		for (sign = -1; sign <= 1; sign += 2) {
			z = sign * arl_gh[k][0];
			y = fmax(mean + sd * z, 0.05);
			rate += arl_gh[k][1] / arl_normal_run(h, na->m,
			    na->r / sqrt(y * y * y), na->looks, 0);
		}
	return -log(rate);
}

double
arl_normal_threshold(double arl0, double m, double r, int looks, int dof)
{
	struct arl_normal_arg na;

	if (!(m > 0) || !(r > 0) || !isfinite(m) || !isfinite(r) ||
	    isnan(arl0))
		return INFINITY;
	na.m = m;
	na.r = r;
	na.looks = looks < 1 ? 1 : looks;
	na.dof = dof;
	if (log(arl0) <= arl_normal_log(0, &na))
		return 0;
	if (isinf(arl0))
		return INFINITY;
	return arl_solve(arl_normal_log, &na, log(arl0));
}
