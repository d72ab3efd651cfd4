/* splitmix64 for hosted tests: a fixed seed gives the same sequence on every run and host. */
#ifndef TEST_RNG_H
#define TEST_RNG_H

#include <stdint.h>

static uint64_t rng_state;

static inline void rng_seed(uint64_t seed)
{
	rng_state = seed;
}

static inline uint64_t rng_next(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform enough for tests; n must not be 0. */
static inline uint64_t rng_below(uint64_t n)
{
	return rng_next() % n;
}

#endif
