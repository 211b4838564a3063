/*
 * Exact run lengths of the detector's one-sided CUSUM (detect.h), by a
 * Markov chain on the discretised statistic (Brook and Evans 1972; for
 * Bernoulli-type counts Reynolds and Stoumbos 1999), where Siegmund's
 * normal approximation is poor: small series (skewed binomial counts) and
 * large series whose true weekly variance differs from the one the
 * statistic assumes. No I/O, no logging, and no state but each thread's
 * few spare work blocks (the same results with or without them). All
 * ARLs are in weeks; h is in LLR units, as in detect.h.
 */
#ifndef STABILD_ARL_H
#define STABILD_ARL_H

/* Week types a binomial model may have. */
#define ARL_MAX_WEEKS		8

/*
 * One type of week: n decisions (may be fractional: a mixture of
 * floor(n) and ceil(n) decisions with the same p, mean n), mean
 * expected probability p, and its share of weeks (weights need not sum
 * to 1).
 */
struct arl_week {
	double		n;
	double		p;
	double		weight;
};

/*
 * A small series' weekly data and its statistic. A week of type j has
 * O | u ~ Binomial(n_j, expit(logit p_j + theta + u)), u ~ N(0, tau2_true)
 * and adds detect_llr_bernoulli(delta, O - E, E, V, n, tau2_stat) with
 * E = n p_j, V = n p_j (1 - p_j) for its actual n. delta is signed: > 0
 * for the upward CUSUM, < 0 for the downward one. The statistic reflects
 * at 0 and is compared with h once a week, at the commit.
 */
struct arl_binomial {
	const struct arl_week	*weeks;
	int			 nweeks;	/* 1 to ARL_MAX_WEEKS used */
	double			 tau2_true;
	double			 tau2_stat;
	double			 delta;
};

/*
 * Zero-start ARL at threshold h when the true log odds ratio is theta
 * (0: in control). INFINITY when the weeks carry no information.
 */
double arl_binomial_run(const struct arl_binomial *m, double h, double theta);
/*
 * The weekly increments under theta, computed once for many runs at
 * different h (a threshold search): arl_prepared_run(p, h) equals
 * arl_binomial_run(m, h, theta). It keeps the chain's memory between
 * runs, so one p is run by one thread at a time. NULL (runs are
 * INFINITY) when the weeks carry no information.
 */
struct arl_prepared;
struct arl_prepared *arl_binomial_prepare(const struct arl_binomial *m,
    double theta);
double arl_prepared_run(struct arl_prepared *p, double h);
void arl_prepared_free(struct arl_prepared *p);
/*
 * The h whose in-control ARL is arl0: 0 when even h = 0 gives a longer
 * ARL, INFINITY when the weeks carry no information or arl0 is infinite.
 */
double arl_binomial_threshold(const struct arl_binomial *m, double arl0);
/*
 * The same, and in *arl_at the zero-start ARL at the h returned, as the
 * search computed it (INFINITY where h is): a search from h with the
 * same increments need not compute it again.
 */
double arl_binomial_threshold_at(const struct arl_binomial *m, double arl0,
    double *arl_at);

/*
 * A large series in the units of detect.h: a week adds
 * m (r Z + shift_sd - m/2), Z ~ N(0, 1), where r^2 is the ratio of the
 * true weekly variance to the one the statistic assumes,
 * (1 + tau2_true V)/(1 + tau2_stat V), and shift_sd = theta sqrt(w). With
 * looks > 1 the statistic is compared with h after each of `looks` equal
 * parts of the week (the last is the commit) and reflects at 0 only at
 * the commit. Zero-start ARL; INFINITY when m <= 0 or r <= 0.
 */
double arl_normal_run(double h, double m, double r, int looks,
    double shift_sd);
/*
 * The h whose in-control false-alarm rate is 1/arl0. With dof = k > 1 the
 * variance ratio is uncertain, tau^2 having been estimated from k weekly
 * values: r^2 is drawn as r^2 (k - 1)/chi^2_{k-1} and the rate averaged
 * over it, E[1/ARL0(h; r)] = 1/arl0. dof <= 1 means r is known. 0 when
 * even h = 0 gives a longer ARL, INFINITY when m <= 0, r <= 0 or arl0 is
 * infinite.
 */
double arl_normal_threshold(double arl0, double m, double r, int looks,
    int dof);

#endif
