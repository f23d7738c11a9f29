/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef COLOD_MINMAX_H
#define COLOD_MINMAX_H

#include <stdint.h>

static inline uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static inline uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

#endif
