// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Histogram bucketing and percentiles against exact percentiles. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cli.h"
#include "colod/colod.h"
#include "hist.h"

Test(hist, every_value_falls_inside_its_slot)
{
	uint64_t us;
	unsigned int slot;

	for (us = 0; us < 2000000; us += (us < 4096 ? 1 : 97)) {
		slot = colod_hist_slot(us);
		cr_assert_lt(slot, COLOD_HIST_SLOTS);
		cr_assert_leq(hist_slot_lower_us(slot), us, "us=%lu slot=%u", us, slot);
		cr_assert_lt(us, hist_slot_upper_us(slot), "us=%lu slot=%u", us, slot);
	}
}

Test(hist, slots_are_contiguous_and_fine)
{
	unsigned int s;

	for (s = 1; s < COLOD_HIST_SLOTS; s++) {
		cr_assert_eq(hist_slot_lower_us(s), hist_slot_upper_us(s - 1), "slot %u", s);
		/* width at most 1/8 of the lower bound: percentiles within 12.5% */
		if (s >= COLOD_HIST_SUB)
			cr_assert_leq((hist_slot_upper_us(s) - hist_slot_lower_us(s)) * 8,
				      hist_slot_lower_us(s), "slot %u", s);
	}
}

Test(hist, huge_values_saturate)
{
	cr_assert_eq(colod_hist_slot(1ULL << 40), COLOD_HIST_SLOTS - 1);
	cr_assert_eq(colod_hist_slot(UINT64_MAX), COLOD_HIST_SLOTS - 1);
}

Test(hist, empty_histogram_has_no_percentile)
{
	__u32 h[COLOD_HIST_SLOTS] = {};

	cr_assert_eq(hist_percentile_us(h, COLOD_HIST_SLOTS, 99), 0);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Samples from a few shapes a run-queue latency takes. */
static uint64_t sample(int shape, unsigned int *seed)
{
	double u = (rand_r(seed) + 1.0) / ((double)RAND_MAX + 2.0);

	switch (shape) {
	case 0:		/* exponential, mean 200 us */
		return (uint64_t)(-200.0 * log(u));
	case 1:		/* uniform 0..5 ms */
		return (uint64_t)(u * 5000);
	case 2:		/* bimodal: mostly ~20 us, 3% tail near 4 ms */
		return rand_r(seed) % 100 < 3 ? 3000 + (uint64_t)(u * 2000) :
						  10 + (uint64_t)(u * 20);
	default:	/* heavy tail (Pareto, alpha 1.5) */
		return (uint64_t)(10.0 / pow(u, 1 / 1.5));
	}
}

Test(hist, percentiles_within_a_quarter_of_exact)
{
	static const double pcts[] = { 50, 90, 99, 99.9 };
	enum { N = 20000 };
	uint64_t *v = malloc(N * sizeof(*v));
	unsigned int seed = 42;
	int shape, i, k;

	cr_assert_not_null(v);
	for (shape = 0; shape < 4; shape++) {
		__u32 h[COLOD_HIST_SLOTS] = {};

		for (i = 0; i < N; i++) {
			v[i] = sample(shape, &seed);
			h[colod_hist_slot(v[i])]++;
		}
		qsort(v, N, sizeof(*v), cmp_u64);
		for (k = 0; k < 4; k++) {
			size_t rank = (size_t)ceil(pcts[k] / 100 * N) - 1;
			double exact = (double)v[rank];
			double got = hist_percentile_us(h, COLOD_HIST_SLOTS, pcts[k]);

			cr_assert(fabs(got - exact) <= 0.25 * exact + 1,
				  "shape %d p%.1f: histogram %.1f exact %.1f", shape,
				  pcts[k], got, exact);
		}
	}
	free(v);
}

Test(hist, cgroup_path_resolves_to_directory_inode)
{
	char root[] = "/tmp/colod-hist-XXXXXX", sub[PATH_MAX], rel[PATH_MAX];
	struct stat st;
	uint64_t id;

	cr_assert_not_null(mkdtemp(root));
	snprintf(sub, sizeof(sub), "%s/a", root);
	cr_assert_eq(mkdir(sub, 0755), 0);
	cr_assert_eq(stat(sub, &st), 0);
	cr_assert_eq(cgroup_path_id(root, "a", &id, rel, sizeof(rel)), 0);
	cr_assert_eq(id, st.st_ino);
	cr_assert_str_eq(rel, "/a");
	cr_assert_eq(cgroup_path_id(root, sub, &id, rel, sizeof(rel)), 0,
		     "a path under the mount point is accepted too");
	cr_assert_str_eq(rel, "/a");
	cr_assert_eq(cgroup_path_id(root, "/missing", &id, rel, sizeof(rel)), -ENOENT);
	rmdir(sub);
	rmdir(root);
}
