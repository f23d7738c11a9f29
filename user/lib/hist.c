// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <math.h>
#include <pthread.h>
#include "colod/colod.h"
#include "hist.h"

uint64_t hist_slot_lower_us(unsigned int slot)
{
	unsigned int log2, sub;

	if (slot < COLOD_HIST_SUB)
		return slot;
	log2 = slot / COLOD_HIST_SUB + COLOD_HIST_SUB_BITS - 1;
	sub = slot % COLOD_HIST_SUB;
	return (uint64_t)(COLOD_HIST_SUB + sub) << (log2 - COLOD_HIST_SUB_BITS);
}

uint64_t hist_slot_upper_us(unsigned int slot)
{
	unsigned int log2;

	if (slot < COLOD_HIST_SUB)
		return slot + 1;
	log2 = slot / COLOD_HIST_SUB + COLOD_HIST_SUB_BITS - 1;
	return hist_slot_lower_us(slot) + (1ULL << (log2 - COLOD_HIST_SUB_BITS));
}

double hist_percentile_us(const __u32 *hist, unsigned int nslots, double pct)
{
	uint64_t total = 0, rank, cum = 0;
	unsigned int i;

	for (i = 0; i < nslots; i++)
		total += hist[i];
	if (!total)
		return 0;
	/* the smallest sample with at least pct% of samples at or below it */
	rank = (uint64_t)ceil(pct / 100.0 * (double)total);
	if (rank < 1)
		rank = 1;
	for (i = 0; i < nslots; i++) {
		cum += hist[i];
		if (cum >= rank)
			break;
	}
	if (i == nslots)
		i = nslots - 1;
	/* slots below COLOD_HIST_SUB hold one exact microsecond value */
	if (i < COLOD_HIST_SUB)
		return (double)i;
	return (hist_slot_lower_us(i) + hist_slot_upper_us(i)) / 2.0;
}

#define PROM_K_MIN	2

uint64_t hist_prom_bound_us(unsigned int b)
{
	unsigned int k = PROM_K_MIN + b / 2;

	return b % 2 ? 3ULL << (k - 1) : 1ULL << k;
}

unsigned int hist_prom_bucket(unsigned int slot)
{
	uint64_t end = hist_slot_upper_us(slot);
	unsigned int b;

	if (slot >= COLOD_HIST_SLOTS - 1)	/* the saturating slot: unbounded */
		return HIST_PROM_BOUNDS;
	for (b = 0; b < HIST_PROM_BOUNDS; b++)
		if (end <= hist_prom_bound_us(b))
			return b;
	return HIST_PROM_BOUNDS;
}

static unsigned char bucket_of[COLOD_HIST_SLOTS];
static pthread_once_t bucket_of_once = PTHREAD_ONCE_INIT;

static void bucket_of_init(void)
{
	unsigned int i;

	for (i = 0; i < COLOD_HIST_SLOTS; i++)
		bucket_of[i] = (unsigned char)hist_prom_bucket(i);
}

void hist_prom_add(uint64_t *buckets, const __u32 *d)
{
	unsigned int i;

	pthread_once(&bucket_of_once, bucket_of_init);
	for (i = 0; i < COLOD_HIST_SLOTS; i++)
		buckets[bucket_of[i]] += d[i];
}
