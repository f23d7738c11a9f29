/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * CLOCK_MONOTONIC in nanoseconds: the clock of the agent's loop, of the
 * action log and of bpf_ktime_get_ns(), so times from all three compare.
 */
#ifndef COLOD_CLOCK_H
#define COLOD_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

#endif /* COLOD_CLOCK_H */
