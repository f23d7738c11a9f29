// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The peak predictor: bucket layout, convergence to a known distribution's
 * percentile, decay by the half-life, per-minute p90 training, the
 * reclaimable formula, expiry, and the checkpoint (round trip, corrupt and
 * truncated files ignored with a warning).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include "colod/colod.h"
#include "log.h"
#include "predictor.h"
#include "trand.h"
#include "tfile.h"

#define GIB		1073741824ULL
#define MIB		1048576ULL
#define DAY0		1767225600LL	/* 2026-01-01 00:00:00 UTC, minute-aligned */
#define HOUR		3600LL

static const struct predictor_key LS_KEY = { PREDICTOR_KEY_CLASS, COLOD_CLASS_LS };
static const struct predictor_key SYS_KEY = { PREDICTOR_KEY_CLASS, COLOD_CLASS_SYSTEM };

static struct predictor_params params;
static struct predictor *pr;
static char dir[64];

static void setup(void)
{
	/* quiet: the corrupt-checkpoint tests warn on purpose */
	log_verbosity = LOG_ERROR - 1;
	predictor_params_default(&params);
	pr = predictor_new(&params);
	cr_assert(pr);
	snprintf(dir, sizeof(dir), "/tmp/colod-test-predictor-XXXXXX");
	cr_assert(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
}

static void teardown(void)
{
	predictor_free(pr);
	tfile_rm_tree(dir);
}

TestSuite(predictor, .init = setup, .fini = teardown);

static uint64_t rng_state = 0x2545f4914f6cdd1dULL;

static uint64_t rnd(void)
{
	return trand_next(&rng_state);
}

/* Uniform in [0, 1). */
static double rnd_unit(void)
{
	return (double)(rnd() >> 11) / 9007199254740992.0;
}

/* 60 one-second samples of a constant, then a tick into the next minute. */
static void feed_minute(struct predictor *p, struct predictor_key key, int64_t minute_start,
			uint64_t cpu, uint64_t mem)
{
	for (int s = 0; s < 60; s++)
		cr_assert_eq(predictor_observe(p, key, cpu, mem, minute_start + s), 0);
	predictor_tick(p, minute_start + 60);
}

/* Weights are kept for the span of buckets in use only, not for all 158. */
Test(predictor, a_histogram_keeps_the_buckets_it_uses)
{
	struct dhist h;

	dhist_init(&h, &dhist_cpu_opts, 3600);
	cr_assert_eq(h.n, 0);
	dhist_add(&h, 1000, 1, DAY0);
	cr_assert_eq(h.n, 1);
	dhist_add(&h, 1100, 1, DAY0);
	cr_assert_eq(h.n, dhist_bucket(&dhist_cpu_opts, 1100) - dhist_bucket(&dhist_cpu_opts, 1000) + 1);
	cr_assert_lt(h.n, 4);
	dhist_add(&h, 500, 1, DAY0);
	cr_assert_eq(h.lo, dhist_bucket(&dhist_cpu_opts, 500));
	cr_assert_float_eq(dhist_percentile(&h, 0.3), dhist_bucket_start(&dhist_cpu_opts, h.lo + 1), 1e-6);
	/* 150 half-lives on, the old weights are gone and so is their span */
	dhist_add(&h, 4000, 1, DAY0 + 150 * 3600);
	cr_assert_eq(h.n, 1, "span %d", h.n);
	cr_assert_eq(h.lo, dhist_bucket(&dhist_cpu_opts, 4000));
	dhist_free(&h);
}

Test(predictor, bucket_layout_matches_koordinator_options)
{
	/* numBuckets = ceil(log_ratio(max * (ratio - 1) / first + 1)) + 1 */
	uint32_t cpu_n = (uint32_t)ceil(log(1024000 * 0.05 / 25 + 1) / log(1.05)) + 1;
	uint32_t mem_n = (uint32_t)ceil(log(2199023255552.0 * 0.05 / (5 * MIB) + 1) /
					log(1.05)) + 1;

	cr_assert_eq(dhist_cpu_opts.nbuckets, cpu_n);
	cr_assert_eq(dhist_memory_opts.nbuckets, mem_n);
	for (double v = 1; v < 1e6; v *= 1.37) {
		int b = dhist_bucket(&dhist_cpu_opts, v);

		cr_assert_leq(dhist_bucket_start(&dhist_cpu_opts, b), v * (1 + 1e-9), "v %g", v);
		cr_assert_gt(dhist_bucket_start(&dhist_cpu_opts, b + 1), v * (1 - 1e-9), "v %g", v);
	}
	/* 5% growth: a percentile is at most one bucket (5%, or 25m) high */
	cr_assert_float_eq(dhist_bucket_start(&dhist_cpu_opts, 1), 25.0, 1e-9);
	cr_assert_eq(dhist_bucket(&dhist_cpu_opts, 5e9), (int)cpu_n - 1);
}

/* The model learns the distribution of per-minute values: feed a value
 * drawn per minute, constant within it, so its p90 is the draw itself. */
Test(predictor, converges_to_percentiles_of_known_distribution)
{
	int64_t t = DAY0;

	for (int m = 0; m < 3 * 1440; m++, t += 60) {
		/* CPU uniform in [1000, 5000] m: p95 = 1000 + 0.95 * 4000 = 4800 */
		uint64_t cpu = 1000 + (uint64_t)(rnd_unit() * 4000);
		/* memory uniform in [1, 3] GiB: p98 = 1 + 0.98 * 2 = 2.96 GiB */
		uint64_t mem = GIB + (uint64_t)(rnd_unit() * 2 * GIB);

		feed_minute(pr, LS_KEY, t, cpu, mem);
	}
	uint64_t cpu, mem, cpu50, mem50;

	cr_assert_eq(predictor_percentile(pr, LS_KEY, 0.95, &cpu, &mem), 0);
	/* an upper bucket bound: at most 5% above, sampling noise below */
	cr_assert(cpu >= 4800 * 0.97 && cpu <= 4800 * 1.06, "p95 cpu %lu", cpu);
	cr_assert_eq(predictor_percentile(pr, LS_KEY, 0.98, &cpu, &mem), 0);
	cr_assert(mem >= 2.96 * GIB * 0.97 && mem <= 2.96 * GIB * 1.06, "p98 mem %lu", mem);
	cr_assert_eq(predictor_percentile(pr, LS_KEY, 0.5, &cpu50, &mem50), 0);
	cr_assert(cpu50 >= 3000 * 0.95 && cpu50 <= 3000 * 1.08, "p50 cpu %lu", cpu50);
	cr_assert(mem50 >= 2 * GIB * 0.95 && mem50 <= 2 * GIB * 1.08, "p50 mem %lu", mem50);

	/* the peak is p95 / p98 with the 10% safety margin on top */
	uint64_t pk_cpu, pk_mem, p95, p98, x;

	cr_assert_eq(predictor_peak(pr, LS_KEY, &pk_cpu, &pk_mem), 0);
	predictor_percentile(pr, LS_KEY, 0.95, &p95, &x);
	predictor_percentile(pr, LS_KEY, 0.98, &x, &p98);
	cr_assert_eq(pk_cpu, p95 * 110 / 100);
	cr_assert_eq(pk_mem, (uint64_t)((unsigned __int128)p98 * 110 / 100));
}

Test(predictor, trains_with_p90_of_each_minute)
{
	uint64_t cpu, mem;

	/* one minute of 100, 200, ..., 6000 m (scrambled): the p90 by nearest
	 * rank is the 54th value, 5400 m; the max 6000 must not be learned */
	for (int s = 0; s < 60; s++) {
		uint64_t v = (uint64_t)((s * 7) % 60 + 1) * 100;

		cr_assert_eq(predictor_observe(pr, LS_KEY, v, v * MIB, DAY0 + s), 0);
	}
	cr_assert_eq(predictor_percentile(pr, LS_KEY, 1.0, &cpu, &mem), -ENOENT,
		     "not trained before the minute ends");
	predictor_tick(pr, DAY0 + 59);
	cr_assert_eq(predictor_percentile(pr, LS_KEY, 1.0, &cpu, &mem), -ENOENT);
	predictor_tick(pr, DAY0 + 60);
	cr_assert_eq(predictor_percentile(pr, LS_KEY, 1.0, &cpu, &mem), 0);
	cr_assert(cpu >= 5400 && cpu <= 5400 * 1.05 + 25, "cpu %lu", cpu);
	cr_assert(mem >= 5400 * MIB && mem <= 5400 * MIB * 1.05, "mem %lu", mem);
	cr_assert_lt(cpu, 6000);

	/* a sample in the next minute also trains the previous one */
	struct predictor_key k = { PREDICTOR_KEY_CGROUP, 42 };

	for (int s = 0; s < 30; s++)
		predictor_observe(pr, k, 700, GIB, DAY0 + 120 + s);
	predictor_observe(pr, k, 9000, GIB, DAY0 + 180);
	cr_assert_eq(predictor_percentile(pr, k, 1.0, &cpu, &mem), 0);
	cr_assert(cpu >= 700 && cpu <= 700 * 1.05 + 25, "cpu %lu", cpu);
}

/* Samples are kept in 32 bits: past that they saturate, never wrap to small. */
Test(predictor, samples_past_32_bits_saturate)
{
	uint64_t cpu, mem;

	for (int s = 0; s < 60; s++)
		cr_assert_eq(predictor_observe(pr, LS_KEY, (1ULL << 32) + 100,
					       (4ULL << 40) + 100 * MIB, DAY0 + s), 0);
	predictor_tick(pr, DAY0 + 60);
	cr_assert_eq(predictor_percentile(pr, LS_KEY, 1.0, &cpu, &mem), 0);
	cr_assert_gt(cpu, 1000 * 1000, "cpu %lu: wrapped to about 100 m", cpu);
	cr_assert_gt(mem, 1ULL << 40, "mem %lu: wrapped to about 100 MiB", mem);
}

/*
 * One minute at 1000 m, then one minute at 4000 m k half-lives later: the
 * newer minute weighs 2^k times the older, so the older holds a share of
 * 1 / (1 + 2^k) of the weight and the quantile flips from the old value to
 * the new one right there.
 */
static void check_flip(int64_t gap_s, double share)
{
	uint64_t cpu_lo, cpu_hi, mem;
	struct predictor *p = predictor_new(&params);

	cr_assert(p);
	feed_minute(p, LS_KEY, DAY0, 1000, GIB);
	feed_minute(p, LS_KEY, DAY0 + gap_s, 4000, GIB);
	cr_assert_eq(predictor_percentile(p, LS_KEY, share - 0.02, &cpu_lo, &mem), 0);
	cr_assert_eq(predictor_percentile(p, LS_KEY, share + 0.02, &cpu_hi, &mem), 0);
	cr_assert(cpu_lo >= 1000 && cpu_lo <= 1100, "gap %ld below %g: %lu", gap_s, share, cpu_lo);
	cr_assert(cpu_hi >= 4000 && cpu_hi <= 4250, "gap %ld above %g: %lu", gap_s, share, cpu_hi);
	predictor_free(p);
}

Test(predictor, decays_with_the_half_life)
{
	/* CPU half-life 12 h */
	check_flip(12 * HOUR, 1.0 / 3);
	check_flip(24 * HOUR, 1.0 / 5);
	check_flip(36 * HOUR, 1.0 / 9);

	/* memory half-life 24 h: after 24 h the old minute has 1/3 */
	uint64_t cpu, mem_lo, mem_hi;

	feed_minute(pr, LS_KEY, DAY0, 1000, 1 * GIB);
	feed_minute(pr, LS_KEY, DAY0 + 24 * HOUR, 1000, 4 * GIB);
	predictor_percentile(pr, LS_KEY, 1.0 / 3 - 0.02, &cpu, &mem_lo);
	predictor_percentile(pr, LS_KEY, 1.0 / 3 + 0.02, &cpu, &mem_hi);
	cr_assert(mem_lo >= GIB && mem_lo <= GIB * 1.06, "mem %lu", mem_lo);
	cr_assert(mem_hi >= 4 * GIB && mem_hi <= 4 * GIB * 1.06, "mem %lu", mem_hi);
}

Test(predictor, decay_survives_reference_shift)
{
	struct dhist h;
	int64_t hl = 3600;

	dhist_init(&h, &dhist_cpu_opts, (uint32_t)hl);
	/* far past the 100 half-lives of headroom in the exponent */
	dhist_add(&h, 1000, 1, DAY0);
	dhist_add(&h, 4000, 1, DAY0 + 150 * hl);
	cr_assert(dhist_percentile(&h, 0.01) >= 4000, "old sample decayed to nothing");
	/* two equal-weight samples later still split the weight in half */
	dhist_add(&h, 2000, 1e30, DAY0 + 400 * hl);
	dhist_add(&h, 3000, 1e30, DAY0 + 400 * hl);
	cr_assert(dhist_percentile(&h, 0.45) < 2200);
	cr_assert(dhist_percentile(&h, 0.55) >= 3000 && dhist_percentile(&h, 0.55) < 3300);
	/* one half-life later a new sample weighs twice an old one */
	dhist_add(&h, 5000, 1e30, DAY0 + 401 * hl);
	/* weights 1, 1, 2 (of 4): the 2000 bucket holds the first quarter */
	cr_assert(dhist_percentile(&h, 0.23) < 2200);
	cr_assert(dhist_percentile(&h, 0.27) >= 3000 && dhist_percentile(&h, 0.27) < 3300);
	cr_assert(dhist_percentile(&h, 0.52) >= 5000);
	dhist_free(&h);
}

Test(predictor, empty_and_unknown)
{
	uint64_t cpu = 1, mem = 1;
	struct dhist h;
	int64_t first;

	dhist_init(&h, &dhist_memory_opts, 86400);
	cr_assert(dhist_empty(&h));
	cr_assert_eq(dhist_percentile(&h, 0.5), 0);
	cr_assert_eq(predictor_peak(pr, LS_KEY, &cpu, &mem), -ENOENT);
	cr_assert_eq(predictor_first_seen(pr, LS_KEY, &first), -ENOENT);
	predictor_observe(pr, LS_KEY, 10, 10, DAY0 + 5);
	cr_assert_eq(predictor_first_seen(pr, LS_KEY, &first), 0);
	cr_assert_eq(first, DAY0 + 5);
}

Test(predictor, models_expire_without_samples)
{
	struct predictor_key k = { PREDICTOR_KEY_CGROUP, 7 };

	feed_minute(pr, k, DAY0, 100, MIB);
	feed_minute(pr, LS_KEY, DAY0, 100, MIB);
	cr_assert_eq(predictor_count(pr), 2);
	/* LS keeps reporting, the cgroup is gone */
	for (int64_t t = DAY0 + 60; t < DAY0 + 30 * 60; t += 60)
		feed_minute(pr, LS_KEY, t, 100, MIB);
	/* last tick at DAY0 + 1800: the cgroup's last sample (DAY0 + 59) is
	 * 1741 s old; the next tick makes it 1801 s, over 30 min */
	cr_assert_eq(predictor_count(pr), 2, "expired too early");
	feed_minute(pr, LS_KEY, DAY0 + 30 * 60, 100, MIB);
	cr_assert_eq(predictor_count(pr), 1);
	cr_assert_eq(predictor_peak(pr, k, &(uint64_t){ 0 }, &(uint64_t){ 0 }), -ENOENT);
}

Test(predictor, max_models_enforced)
{
	params.max_models = 3;
	struct predictor *p = predictor_new(&params);

	cr_assert(p);
	for (uint64_t id = 1; id <= 3; id++)
		cr_assert_eq(predictor_observe(p, (struct predictor_key){ PREDICTOR_KEY_CGROUP, id },
					       1, 1, DAY0), 0);
	cr_assert_eq(predictor_observe(p, (struct predictor_key){ PREDICTOR_KEY_CGROUP, 4 },
				       1, 1, DAY0), -ENOSPC);
	cr_assert_eq(predictor_observe(p, (struct predictor_key){ PREDICTOR_KEY_CGROUP, 2 },
				       1, 1, DAY0 + 1), 0, "known keys still accepted");
	predictor_free(p);
}

/* ---- reclaimable (Mid input) ---- */

/* Train LS, SYSTEM and two cgroups with constants for two days. */
static void train_node(struct predictor *p, uint64_t scale_pct)
{
	for (int64_t t = DAY0; t < DAY0 + 2 * 86400; t += 60) {
		feed_minute(p, LS_KEY, t, 3000 * scale_pct / 100, 6 * GIB * scale_pct / 100);
		feed_minute(p, SYS_KEY, t, 500, 1 * GIB);
		feed_minute(p, (struct predictor_key){ PREDICTOR_KEY_CGROUP, 1 }, t,
			    1000 * scale_pct / 100, 2 * GIB * scale_pct / 100);
		feed_minute(p, (struct predictor_key){ PREDICTOR_KEY_CGROUP, 2 }, t,
			    2000 * scale_pct / 100, 4 * GIB * scale_pct / 100);
	}
}

static uint64_t margin(uint64_t v)
{
	return (uint64_t)((unsigned __int128)v * 110 / 100);
}

static uint64_t sat(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

static uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

Test(predictor, reclaimable_is_min_of_cgroup_and_class_predictors)
{
	const uint64_t cap[HEADROOM_NR_RES] = { 16000, 64 * GIB };
	struct predictor_ls_item items[] = {
		{ 1, { 4000, 8 * GIB } },
		{ 2, { 4000, 8 * GIB } },
	};
	struct predictor_reclaim rc;
	int64_t now = DAY0 + 2 * 86400;
	uint64_t c1, m1, c2, m2, cl, ml, cs, ms;

	train_node(pr, 100);
	/* the constants come back within one bucket */
	predictor_percentile(pr, (struct predictor_key){ PREDICTOR_KEY_CGROUP, 1 }, 0.95, &c1, &(uint64_t){ 0 });
	predictor_percentile(pr, (struct predictor_key){ PREDICTOR_KEY_CGROUP, 1 }, 0.98, &(uint64_t){ 0 }, &m1);
	predictor_percentile(pr, (struct predictor_key){ PREDICTOR_KEY_CGROUP, 2 }, 0.95, &c2, &(uint64_t){ 0 });
	predictor_percentile(pr, (struct predictor_key){ PREDICTOR_KEY_CGROUP, 2 }, 0.98, &(uint64_t){ 0 }, &m2);
	predictor_percentile(pr, LS_KEY, 0.95, &cl, &(uint64_t){ 0 });
	predictor_percentile(pr, LS_KEY, 0.98, &(uint64_t){ 0 }, &ml);
	predictor_percentile(pr, SYS_KEY, 0.95, &cs, &(uint64_t){ 0 });
	predictor_percentile(pr, SYS_KEY, 0.98, &(uint64_t){ 0 }, &ms);
	cr_assert(c1 >= 1000 && c1 <= 1075 && c2 >= 2000 && c2 <= 2125);
	cr_assert(cl >= 3000 && cl <= 3175 && cs >= 500 && cs <= 550);
	cr_assert(m1 >= 2 * GIB && m1 <= 2.11 * GIB && ml >= 6 * GIB && ml <= 6.31 * GIB);

	predictor_reclaimable(pr, items, 2, cap, now, &rc);
	cr_assert(rc.class_ready);
	cr_assert_eq(rc.predicted, 2);
	cr_assert_eq(rc.unpredicted, 0);
	/*
	 * CPU, roughly: per cgroup (4000 - 1100) + (4000 - 2200) = 4700;
	 * class 8000 - (3000 + 500) * 1.1 = 4150: the class one wins.
	 */
	uint64_t cg = min64(sat(cap[0], margin(c1) + margin(c2)),
			    sat(4000, margin(c1)) + sat(4000, margin(c2)));
	uint64_t cls = min64(sat(cap[0], margin(cl + cs)), sat(8000, margin(cl + cs)));

	cr_assert_eq(rc.reclaimable[HEADROOM_CPU], min64(cg, cls));
	cr_assert(rc.reclaimable[HEADROOM_CPU] >= 3800 && rc.reclaimable[HEADROOM_CPU] <= 4150,
		  "cpu reclaimable %lu", rc.reclaimable[HEADROOM_CPU]);
	cr_assert_eq(rc.peak[HEADROOM_CPU], margin(cl + cs) > margin(c1) + margin(c2) ?
		     margin(cl + cs) : margin(c1) + margin(c2));
	/*
	 * Memory, roughly: per cgroup (8 - 2.2) + (8 - 4.4) = 9.4 GiB; class
	 * 16 - (6 + 1) * 1.1 = 8.3 GiB.
	 */
	cr_assert(rc.reclaimable[HEADROOM_MEMORY] >= 7.6 * GIB &&
		  rc.reclaimable[HEADROOM_MEMORY] <= 8.3 * GIB,
		  "memory reclaimable %lu", rc.reclaimable[HEADROOM_MEMORY]);
}

Test(predictor, reclaimable_cold_unknown_and_missing_class)
{
	const uint64_t cap[HEADROOM_NR_RES] = { 16000, 64 * GIB };
	struct predictor_ls_item items[] = {
		{ 1, { 4000, 8 * GIB } },
		{ 99, { 4000, 8 * GIB } },	/* never seen: counts at request */
	};
	struct predictor_reclaim rc;

	train_node(pr, 100);
	predictor_reclaimable(pr, items, 2, cap, DAY0 + 2 * 86400, &rc);
	cr_assert_eq(rc.predicted, 1);
	cr_assert_eq(rc.unpredicted, 1);
	/* per cgroup: only cgroup 1 reclaims, about 4000 - 1100 = 2900 */
	cr_assert(rc.reclaimable[HEADROOM_CPU] >= 2800 && rc.reclaimable[HEADROOM_CPU] <= 2900,
		  "cpu %lu", rc.reclaimable[HEADROOM_CPU]);
	/* the peak counts the unknown cgroup at its request */
	cr_assert_geq(rc.peak[HEADROOM_CPU], 4000 + 1100);

	/* inside the 24 h cold start every cgroup is unpredicted: 0 */
	predictor_reclaimable(pr, items, 1, cap, DAY0 + 23 * HOUR, &rc);
	cr_assert_eq(rc.unpredicted, 1);
	cr_assert_eq(rc.reclaimable[HEADROOM_CPU], 0);
	cr_assert_eq(rc.reclaimable[HEADROOM_MEMORY], 0);

	/* without a SYSTEM model the class predictor cannot run: 0 */
	struct predictor *p = predictor_new(&params);

	cr_assert(p);
	for (int64_t t = DAY0; t < DAY0 + 86400 + 60; t += 60) {
		feed_minute(p, LS_KEY, t, 3000, 6 * GIB);
		feed_minute(p, (struct predictor_key){ PREDICTOR_KEY_CGROUP, 1 }, t, 1000, GIB);
	}
	predictor_reclaimable(p, items, 1, cap, DAY0 + 86400 + 60, &rc);
	cr_assert_not(rc.class_ready);
	cr_assert_eq(rc.reclaimable[HEADROOM_CPU], 0);
	predictor_free(p);
}

Test(predictor, reclaimable_never_grows_with_ls_usage)
{
	const uint64_t cap[HEADROOM_NR_RES] = { 16000, 64 * GIB };
	struct predictor_ls_item items[] = {
		{ 1, { 4000, 8 * GIB } },
		{ 2, { 4000, 8 * GIB } },
	};
	uint64_t prev[HEADROOM_NR_RES] = { UINT64_MAX, UINT64_MAX };

	for (uint64_t scale = 50; scale <= 250; scale += 25) {
		struct predictor *p = predictor_new(&params);
		struct predictor_reclaim rc;

		cr_assert(p);
		train_node(p, scale);
		predictor_reclaimable(p, items, 2, cap, DAY0 + 2 * 86400, &rc);
		for (int r = 0; r < HEADROOM_NR_RES; r++) {
			cr_assert_leq(rc.reclaimable[r], prev[r], "scale %lu res %d", scale, r);
			cr_assert_leq(rc.reclaimable[r], cap[r]);
			prev[r] = rc.reclaimable[r];
		}
		predictor_free(p);
	}
	cr_assert_eq(prev[HEADROOM_CPU], 0, "LS at 250%% of 3000m leaves nothing");
}

/* ---- checkpoint ---- */

static void train_mixed(struct predictor *p)
{
	for (int m = 0; m < 600; m++) {
		int64_t t = DAY0 + m * 60;

		feed_minute(p, LS_KEY, t, 1000 + rnd() % 3000, GIB + rnd() % GIB);
		feed_minute(p, SYS_KEY, t, 100 + rnd() % 300, GIB / 4 + rnd() % MIB);
		feed_minute(p, (struct predictor_key){ PREDICTOR_KEY_CGROUP, 1ULL << 60 }, t,
			    rnd() % 5000, rnd() % (8 * GIB));
	}
}

static const double qs[] = { 0.01, 0.1, 0.5, 0.9, 0.95, 0.98, 1.0 };

static void assert_same_models(struct predictor *a, struct predictor *b)
{
	struct predictor_key keys[] = {
		LS_KEY, SYS_KEY, { PREDICTOR_KEY_CGROUP, 1ULL << 60 },
	};

	cr_assert_eq(predictor_count(a), predictor_count(b));
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		int64_t fa, fb;

		cr_assert_eq(predictor_first_seen(a, keys[k], &fa), 0);
		cr_assert_eq(predictor_first_seen(b, keys[k], &fb), 0, "key %zu", k);
		cr_assert_eq(fa, fb);
		for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
			uint64_t ca, ma, cb, mb;

			cr_assert_eq(predictor_percentile(a, keys[k], qs[i], &ca, &ma), 0);
			cr_assert_eq(predictor_percentile(b, keys[k], qs[i], &cb, &mb), 0);
			cr_assert_eq(ca, cb, "key %zu q %g", k, qs[i]);
			cr_assert_eq(ma, mb, "key %zu q %g", k, qs[i]);
		}
	}
}

Test(predictor, checkpoint_round_trip)
{
	struct predictor *b = predictor_new(&params);
	int64_t now = DAY0 + 600 * 60;
	char path[128];
	struct stat st;

	cr_assert(b);
	train_mixed(pr);
	cr_assert_eq(predictor_save(pr, dir, now), 0);
	snprintf(path, sizeof(path), "%s/%s", dir, PREDICTOR_CHECKPOINT_FILE);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(predictor_load(b, dir, now + 7200), 0);
	assert_same_models(pr, b);

	/* restored models get a fresh expiration window from the load time,
	 * even though the file is two hours old */
	predictor_tick(b, now + 7200 + 29 * 60);
	cr_assert_eq(predictor_count(b), 3);
	assert_same_models(pr, b);

	/* both keep learning identically after the restart */
	for (int m = 0; m < 60; m++) {
		feed_minute(pr, LS_KEY, now + 7200 + m * 60, 9000, 5 * GIB);
		feed_minute(b, LS_KEY, now + 7200 + m * 60, 9000, 5 * GIB);
	}
	uint64_t ca, ma, cb, mb;

	predictor_percentile(pr, LS_KEY, 0.95, &ca, &ma);
	predictor_percentile(b, LS_KEY, 0.95, &cb, &mb);
	cr_assert_eq(ca, cb);
	cr_assert_eq(ma, mb);
	cr_assert_geq(ca, 9000, "an hour of 9000m newest weighs enough for p95");
	predictor_free(b);
}

Test(predictor, checkpoint_missing_is_enoent)
{
	cr_assert_eq(predictor_load(pr, dir, DAY0), -ENOENT);
	cr_assert_eq(predictor_count(pr), 0);
}

Test(predictor, checkpoint_save_replaces_atomically)
{
	char path[128];
	DIR *d;
	struct dirent *de;
	int files = 0;

	train_mixed(pr);
	cr_assert_eq(predictor_save(pr, dir, DAY0 + 36000), 0);
	cr_assert_eq(predictor_save(pr, dir, DAY0 + 36060), 0);
	/* no temporary files left behind, one checkpoint */
	d = opendir(dir);
	cr_assert(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			files++;
	closedir(d);
	cr_assert_eq(files, 1);
	snprintf(path, sizeof(path), "%s/nonexistent/deeper", dir);
	cr_assert_lt(predictor_save(pr, path, DAY0), 0, "missing parent is an error");
}

static void write_checkpoint(const char *text, size_t len)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, PREDICTOR_CHECKPOINT_FILE);
	f = fopen(path, "w");
	cr_assert(f);
	cr_assert_eq(fwrite(text, 1, len, f), len);
	fclose(f);
}

static char *read_checkpoint(size_t *len)
{
	char path[128], *buf;
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "%s/%s", dir, PREDICTOR_CHECKPOINT_FILE);
	f = fopen(path, "r");
	cr_assert(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	cr_assert(buf);
	cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* Load text into a predictor that already has models: it must fail with
 * -EINVAL and keep the models it had. */
static void assert_rejected(const char *text, size_t len)
{
	struct predictor *b = predictor_new(&params);

	cr_assert(b);
	train_mixed(b);
	write_checkpoint(text, len);
	cr_assert_eq(predictor_load(b, dir, DAY0), -EINVAL, "accepted: %.80s", text);
	assert_same_models(pr, b);
	predictor_free(b);
}

Test(predictor, corrupt_or_truncated_checkpoint_is_ignored)
{
	size_t len;
	char *good, *bad;

	rng_state = 1;
	train_mixed(pr);
	cr_assert_eq(predictor_save(pr, dir, DAY0), 0);
	good = read_checkpoint(&len);

	/* every model reference below is compared with pr: same training */
	rng_state = 1;
	assert_rejected("", 0);
	rng_state = 1;
	assert_rejected("\x00\xff garbage", 10);
	for (size_t cut = 1; cut < len; cut += len / 7 + 1) {
		rng_state = 1;
		assert_rejected(good, cut);	/* truncated */
	}
	rng_state = 1;
	assert_rejected("{\"version\":2,\"models\":[]}", strlen("{\"version\":2,\"models\":[]}"));
	rng_state = 1;
	assert_rejected("[1,2,3]", strlen("[1,2,3]"));

	/* a bucket index beyond the layout */
	bad = strdup(good);
	cr_assert(bad);
	char *b = strstr(bad, "\"buckets\":[[");

	cr_assert(b);
	memcpy(b + strlen("\"buckets\":[["), "999", 3);
	rng_state = 1;
	assert_rejected(bad, strlen(bad));
	free(bad);

	/* the kind of a model mistyped */
	bad = strdup(good);
	b = strstr(bad, "\"class\"");
	cr_assert(b);
	memcpy(b, "\"clazz\"", 7);
	rng_state = 1;
	assert_rejected(bad, strlen(bad));
	free(bad);
	free(good);
}

Test(predictor, corrupt_checkpoint_warning_names_file_and_path)
{
	const char *text = "{\"version\":1,\"saved_at\":1,\"models\":[{\"kind\":\"cgroup\","
			   "\"id\":\"5\",\"first_seen\":1,\"last_trained\":1,"
			   "\"cpu\":{\"half_life_s\":43200,\"ref\":0,\"total\":1,"
			   "\"buckets\":[[3,-1]]},\"memory\":{}}]}";
	char line[512] = "";
	FILE *err;

	log_verbosity = LOG_WARN;
	cr_redirect_stderr();
	write_checkpoint(text, strlen(text));
	cr_assert_eq(predictor_load(pr, dir, DAY0), -EINVAL);
	fflush(stderr);
	err = cr_get_redirected_stderr();
	cr_assert(fgets(line, sizeof(line), err), "no warning printed");
	cr_assert(strstr(line, "warning"), "%s", line);
	cr_assert(strstr(line, PREDICTOR_CHECKPOINT_FILE), "%s", line);
	cr_assert(strstr(line, "$.models[0].cpu.buckets[0]"), "%s", line);
	cr_assert(strstr(line, "-1"), "%s", line);
	cr_assert_eq(predictor_count(pr), 0);
}
