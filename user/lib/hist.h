/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Reading the kernel's log-linear latency histograms (colod/colod.h). */
#ifndef COLOD_HIST_H
#define COLOD_HIST_H

#include <stdint.h>
#include <linux/types.h>

/* Bounds of a slot in microseconds: [lower, upper). */
uint64_t hist_slot_lower_us(unsigned int slot);
uint64_t hist_slot_upper_us(unsigned int slot);

/*
 * The pct-th percentile (0 < pct <= 100) of the samples counted in hist,
 * as the middle of the slot that holds it; 0 when hist is empty.
 */
double hist_percentile_us(const __u32 *hist, unsigned int nslots, double pct);

/*
 * The buckets /metrics exports: bounds 2^k and 1.5 * 2^k us (k = 2..26),
 * each a slot boundary so every count is exact, a ratio of at most 1.5
 * between neighbours (fine enough for histogram_quantile()), and +Inf last.
 * An LS cgroup's series are kept in these 51 64-bit counts, not in 200:
 * they never wrap, at a quarter of the size.
 */
#define HIST_PROM_BOUNDS	50
#define HIST_PROM_BUCKETS	(HIST_PROM_BOUNDS + 1)

/* Upper bound in us of bucket b < HIST_PROM_BOUNDS (exclusive: le is < here). */
uint64_t hist_prom_bound_us(unsigned int b);
/* The bucket that holds a slot; HIST_PROM_BOUNDS is +Inf. */
unsigned int hist_prom_bucket(unsigned int slot);
/* Add the slot counts d (COLOD_HIST_SLOTS) to per-bucket counts. */
void hist_prom_add(uint64_t *buckets, const __u32 *d);

#endif /* COLOD_HIST_H */
