/*
 * The unit tests' seeded random numbers: xoshiro256** seeded by
 * splitmix64, uniforms and Box-Muller normals. A header of static inline
 * functions, so each test takes what it uses.
 */
#ifndef STABILD_TEST_RNG_H
#define STABILD_TEST_RNG_H

#include <math.h>
#include <stdint.h>

struct rng {
	uint64_t	s[4];
	double		spare;
	int		has_spare;
};

static inline uint64_t
rng_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* splitmix64 expands the seed into the xoshiro state. */
static inline void
rng_seed(struct rng *r, uint64_t seed)
{
	uint64_t z;
	int i;

	for (i = 0; i < 4; i++) {
		z = (seed += 0x9e3779b97f4a7c15ULL);
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
		r->s[i] = z ^ (z >> 31);
	}
	r->has_spare = 0;
}

/* xoshiro256** by Blackman and Vigna. */
static inline uint64_t
rng_next(struct rng *r)
{
	uint64_t result = rng_rotl(r->s[1] * 5, 7) * 9, t = r->s[1] << 17;

	r->s[2] ^= r->s[0];
	r->s[3] ^= r->s[1];
	r->s[1] ^= r->s[2];
	r->s[0] ^= r->s[3];
	r->s[2] ^= t;
	r->s[3] = rng_rotl(r->s[3], 45);
	return result;
}

/* Uniform on (0, 1). */
static inline double
rng_unif(struct rng *r)
{
	return ((double)(rng_next(r) >> 11) + 0.5) * 0x1p-53;
}

/* Standard normal by Box-Muller, both values used. */
static inline double
rng_normal(struct rng *r)
{
	double rad, ang;

	if (r->has_spare) {
		r->has_spare = 0;
		return r->spare;
	}
	rad = sqrt(-2 * log(rng_unif(r)));
	ang = 2 * M_PI * rng_unif(r);
	r->spare = rad * sin(ang);
	r->has_spare = 1;
	return rad * cos(ang);
}

#endif
