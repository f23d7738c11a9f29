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

#endif /* COLOD_HIST_H */
