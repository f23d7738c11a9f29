/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Reproducible pseudo-random numbers for generated test traces: xorshift64
 * over a state the test owns (and seeds), so a failing trace replays.
 */
#ifndef COLOD_TESTS_TRAND_H
#define COLOD_TESTS_TRAND_H

#include <stdint.h>

static inline uint64_t trand_next(uint64_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state;
}

#endif /* COLOD_TESTS_TRAND_H */
