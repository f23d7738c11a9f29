/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Short-term reservation of LS usage: a percentile (default the maximum) of
 * the samples taken in a sliding time window (default 60 s). The agent adds
 * one sample per tick of the node-wide sum of LS usage and feeds the peak to
 * headroom_compute() as ls_used. Pure: time is passed in.
 *
 * Why the maximum over 60 s (docs/HEADROOM.md): a rise of LS usage lowers
 * Batch in the same tick, a fall gives Batch back only after a minute of
 * calm (no BE flapping), each sample is already a 1 s mean, and the rare
 * burst that a percentile would let through is left to the in-kernel
 * breach path rather than to LS.
 */
#ifndef COLOD_SHORTTERM_H
#define COLOD_SHORTTERM_H

#include <stdint.h>

#define SHORTTERM_MAX_SAMPLES		600	/* 10 min at 1 Hz */
#define SHORTTERM_WINDOW_S_DEFAULT	60
#define SHORTTERM_PERCENTILE_DEFAULT	100	/* 100 = maximum */

struct shortterm {
	uint64_t window_ns;
	uint32_t percentile;		/* 1..100, nearest rank */
	uint32_t head;			/* next slot to write */
	uint32_t count;
	uint64_t ts[SHORTTERM_MAX_SAMPLES];
	uint64_t val[SHORTTERM_MAX_SAMPLES];
};

/* window_s is clamped to [1, 3600], percentile to [1, 100]. */
void shortterm_init(struct shortterm *st, uint32_t window_s, uint32_t percentile);

/* Add a sample taken at now_ns (samples must come in time order; older
 * ones are dropped). When the ring is full the oldest sample is lost. */
void shortterm_add(struct shortterm *st, uint64_t now_ns, uint64_t value);

/* The percentile of the samples in (now_ns - window, now_ns]; 0 if none. */
uint64_t shortterm_peak(const struct shortterm *st, uint64_t now_ns);

/* Number of samples in the window at now_ns. */
uint32_t shortterm_count(const struct shortterm *st, uint64_t now_ns);

#endif /* COLOD_SHORTTERM_H */
