// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Batch/Mid formulas against worked examples whose numbers are derived by
 * hand in the comments, properties over generated traces, degrade, the
 * publish gate, the short-term peak and the kubelet cgroup conversions.
 */
#include <errno.h>
#include <criterion/criterion.h>
#include "cgroup.h"
#include "headroom.h"
#include "shortterm.h"
#include "trand.h"

#define GIB	1073741824ULL
#define MIN_NS	(60 * HEADROOM_NS_PER_S)
#define T0	(1000 * HEADROOM_NS_PER_S)

/*
 * The worked node: 16 cores, 64 GiB; Koordinator defaults (reclaim 60% CPU,
 * 65% memory).
 *   CPU:    margin = 16000 * (100 - 60) / 100 = 6400
 *           system used 1000, reserved 1500 -> max = 1500
 *           LS used 4000, LS request 7000, sum max(req, used) 7500
 *   Memory: margin = 68719476736 * 35 / 100 = 24051816857.6 -> 24051816857
 *           system used 2 GiB, reserved 3 GiB -> max = 3 GiB = 3221225472
 *           LS used 20 GiB = 21474836480, request 30 GiB = 32212254720,
 *           sum max(req, used) 32 GiB = 34359738368
 */
static void worked_input(struct headroom_input *in)
{
	memset(in, 0, sizeof(*in));
	in->res[HEADROOM_CPU] = (struct headroom_res_input){
		.capacity = 16000, .node_used = 9000, .system_used = 1000,
		.reserved = 1500, .ls_used = 4000, .ls_request = 7000,
		.ls_max_used_request = 7500, .mid_reclaimable = 5000,
	};
	in->res[HEADROOM_MEMORY] = (struct headroom_res_input){
		.capacity = 64 * GIB, .node_used = 40 * GIB, .system_used = 2 * GIB,
		.reserved = 3 * GIB, .ls_used = 20 * GIB, .ls_request = 30 * GIB,
		.ls_max_used_request = 32 * GIB, .mid_reclaimable = 10 * GIB,
	};
	in->measured_ns = T0;
	in->now_ns = T0 + HEADROOM_NS_PER_S;
}

static struct headroom_params params;
static struct headroom_input in;
static struct headroom_result out;

static void setup(void)
{
	headroom_params_default(&params);
	worked_input(&in);
}

TestSuite(headroom, .init = setup);

Test(headroom, defaults_are_koordinators)
{
	cr_assert_eq(params.reclaim_threshold_percent[HEADROOM_CPU], 60);
	cr_assert_eq(params.reclaim_threshold_percent[HEADROOM_MEMORY], 65);
	cr_assert_eq(params.degrade_time_minutes, 15);
	cr_assert_eq(params.update_time_threshold_seconds, 300);
	cr_assert_float_eq(params.resource_diff_threshold, 0.1, 1e-12);
	cr_assert_eq(params.batch_threshold_percent[HEADROOM_CPU], HEADROOM_UNSET);
	cr_assert_eq(params.mid_threshold_percent[HEADROOM_MEMORY], 100);
}

Test(headroom, usage_policy_worked_example)
{
	headroom_compute(&params, &in, &out);
	cr_assert_not(out.degraded);
	/* 16000 - 6400 - 1500 - 4000 = 4100 */
	cr_assert_eq(out.res[HEADROOM_CPU].safety_margin, 6400);
	cr_assert_eq(out.res[HEADROOM_CPU].system_used, 1500);
	cr_assert_eq(out.res[HEADROOM_CPU].batch, 4100);
	/* 68719476736 - 24051816857 - 3221225472 - 21474836480 = 19971597927 */
	cr_assert_eq(out.res[HEADROOM_MEMORY].safety_margin, 24051816857ULL);
	cr_assert_eq(out.res[HEADROOM_MEMORY].batch, 19971597927ULL);
	cr_assert(strstr(out.res[HEADROOM_CPU].formula, "batch 4100"),
		  "formula: %s", out.res[HEADROOM_CPU].formula);
}

Test(headroom, system_usage_above_reserved_is_used)
{
	in.res[HEADROOM_CPU].system_used = 2500;
	headroom_compute(&params, &in, &out);
	/* 16000 - 6400 - max(2500, 1500) - 4000 = 3100 */
	cr_assert_eq(out.res[HEADROOM_CPU].batch, 3100);
}

Test(headroom, memory_request_policy_worked_example)
{
	params.policy[HEADROOM_MEMORY] = HEADROOM_POLICY_REQUEST;
	in.res[HEADROOM_MEMORY].system_used = 5 * GIB;	/* ignored: reserved only */
	headroom_compute(&params, &in, &out);
	/* 68719476736 - 24051816857 - 3221225472 (reserved) - 32212254720 = 9234179687 */
	cr_assert_eq(out.res[HEADROOM_MEMORY].batch, 9234179687ULL);
	cr_assert_eq(out.res[HEADROOM_MEMORY].ls_term, 30 * GIB);
}

Test(headroom, max_usage_request_policy_worked_example)
{
	params.policy[HEADROOM_CPU] = HEADROOM_POLICY_MAX_USAGE_REQUEST;
	params.policy[HEADROOM_MEMORY] = HEADROOM_POLICY_MAX_USAGE_REQUEST;
	headroom_compute(&params, &in, &out);
	/* 16000 - 6400 - 1500 - 7500 = 600 */
	cr_assert_eq(out.res[HEADROOM_CPU].batch, 600);
	/* 68719476736 - 24051816857 - 3221225472 - 34359738368 = 7086696039 */
	cr_assert_eq(out.res[HEADROOM_MEMORY].batch, 7086696039ULL);
}

Test(headroom, cpu_request_policy_falls_back_to_usage)
{
	params.policy[HEADROOM_CPU] = HEADROOM_POLICY_REQUEST;
	headroom_compute(&params, &in, &out);
	/* as usage: 16000 - 6400 - 1500 - 4000 = 4100, not 16000-6400-1500-7000 */
	cr_assert_eq(out.res[HEADROOM_CPU].batch, 4100);
}

Test(headroom, batch_threshold_caps)
{
	params.batch_threshold_percent[HEADROOM_CPU] = 20;
	params.batch_threshold_percent[HEADROOM_MEMORY] = 25;
	headroom_compute(&params, &in, &out);
	/* min(4100, 16000 * 20 / 100 = 3200) */
	cr_assert_eq(out.res[HEADROOM_CPU].batch, 3200);
	/* min(19971597927, 64 GiB * 25 / 100 = 16 GiB = 17179869184) */
	cr_assert_eq(out.res[HEADROOM_MEMORY].batch, 17179869184ULL);
	/* a cap above the value changes nothing */
	params.batch_threshold_percent[HEADROOM_CPU] = 90;
	headroom_compute(&params, &in, &out);
	cr_assert_eq(out.res[HEADROOM_CPU].batch, 4100);
}

Test(headroom, batch_clamped_at_zero)
{
	in.res[HEADROOM_CPU].ls_used = 12000;	/* 16000-6400-1500-12000 < 0 */
	in.res[HEADROOM_MEMORY].reserved = 70 * GIB;
	headroom_compute(&params, &in, &out);
	cr_assert_eq(out.res[HEADROOM_CPU].batch, 0);
	cr_assert_eq(out.res[HEADROOM_MEMORY].batch, 0);
}

Test(headroom, reclaim_threshold_100_means_no_margin)
{
	params.reclaim_threshold_percent[HEADROOM_CPU] = 100;
	headroom_compute(&params, &in, &out);
	/* 16000 - 0 - 1500 - 4000 = 10500 */
	cr_assert_eq(out.res[HEADROOM_CPU].batch, 10500);
}

Test(headroom, mid_worked_example)
{
	headroom_compute(&params, &in, &out);
	/* unused = 16000 - 9000 = 7000; min(5000, 7000) = 5000 */
	cr_assert_eq(out.res[HEADROOM_CPU].node_unused, 7000);
	cr_assert_eq(out.res[HEADROOM_CPU].mid, 5000);
	/* memory: unused 24 GiB; min(10 GiB, 24 GiB) = 10 GiB */
	cr_assert_eq(out.res[HEADROOM_MEMORY].mid, 10 * GIB);

	in.res[HEADROOM_CPU].mid_reclaimable = 8000;	/* min(8000, 7000) */
	headroom_compute(&params, &in, &out);
	cr_assert_eq(out.res[HEADROOM_CPU].mid, 7000);

	params.mid_threshold_percent[HEADROOM_CPU] = 40;	/* cap 6400 */
	headroom_compute(&params, &in, &out);
	cr_assert_eq(out.res[HEADROOM_CPU].mid, 6400);

	in.res[HEADROOM_CPU].node_used = 20000;		/* over capacity: 0 */
	headroom_compute(&params, &in, &out);
	cr_assert_eq(out.res[HEADROOM_CPU].mid, 0);
}

Test(headroom, degrade_on_stale_measurements)
{
	/* 15 min exactly is not yet older than 15 min */
	in.now_ns = T0 + 15 * MIN_NS;
	headroom_compute(&params, &in, &out);
	cr_assert_not(out.degraded);
	cr_assert_eq(out.res[HEADROOM_CPU].batch, 4100);

	in.now_ns = T0 + 15 * MIN_NS + 1;
	headroom_compute(&params, &in, &out);
	cr_assert(out.degraded);
	for (int r = 0; r < HEADROOM_NR_RES; r++) {
		cr_assert_eq(out.res[r].batch, 0);
		cr_assert_eq(out.res[r].mid, 0);
		cr_assert(strstr(out.res[r].formula, "degraded"));
	}

	params.degrade_time_minutes = 30;
	headroom_compute(&params, &in, &out);
	cr_assert_not(out.degraded);
}

Test(headroom, degrade_without_or_with_future_measurements)
{
	in.measured_ns = 0;
	headroom_compute(&params, &in, &out);
	cr_assert(out.degraded);
	cr_assert_eq(out.res[HEADROOM_CPU].batch, 0);

	in.measured_ns = in.now_ns + 1;
	cr_assert(headroom_degraded(&params, in.measured_ns, in.now_ns));
}

Test(headroom, is_diff_matches_koordinator)
{
	cr_assert_not(headroom_is_diff(1000, 1100, 0.1));	/* 100 > 100? no */
	cr_assert(headroom_is_diff(1000, 1101, 0.1));
	cr_assert(headroom_is_diff(1000, 899, 0.1));
	cr_assert_not(headroom_is_diff(0, 0, 0.1));
	cr_assert(headroom_is_diff(0, 1, 0.1));
	cr_assert(headroom_is_diff(1000, 0, 0.1));
}

Test(headroom, publish_gate)
{
	struct headroom_gate g = { 0 };
	uint64_t t = T0;

	headroom_compute(&params, &in, &out);
	cr_assert(headroom_gate_update(&g, &params, &out, t), "first publishes");
	cr_assert_not(headroom_gate_update(&g, &params, &out, t + 1));

	/* Batch CPU 4100 -> 3900: |200| > 410? no */
	in.res[HEADROOM_CPU].ls_used = 4200;
	headroom_compute(&params, &in, &out);
	cr_assert_eq(out.res[HEADROOM_CPU].batch, 3900);
	cr_assert_not(headroom_gate_update(&g, &params, &out, t + 2));

	/* 4100 -> 3600: |500| > 410: publish, and 3600 is the new reference */
	in.res[HEADROOM_CPU].ls_used = 4500;
	headroom_compute(&params, &in, &out);
	cr_assert(headroom_gate_update(&g, &params, &out, t + 3));
	cr_assert_eq(g.batch[HEADROOM_CPU], 3600);

	/* Mid memory moves 10 -> 12 GiB: published */
	in.res[HEADROOM_MEMORY].mid_reclaimable = 12 * GIB;
	headroom_compute(&params, &in, &out);
	cr_assert(headroom_gate_update(&g, &params, &out, t + 4));

	/* unchanged but 300 s old: not yet; 300 s + 1 ns: yes */
	cr_assert_not(headroom_gate_update(&g, &params, &out, t + 4 + 300 * HEADROOM_NS_PER_S));
	cr_assert(headroom_gate_update(&g, &params, &out, t + 4 + 300 * HEADROOM_NS_PER_S + 1));

	/* degrade drops everything to 0: a change of 100% publishes */
	in.measured_ns = 0;
	headroom_compute(&params, &in, &out);
	cr_assert(headroom_gate_update(&g, &params, &out, t + 400 * HEADROOM_NS_PER_S));
	cr_assert_eq(g.batch[HEADROOM_CPU], 0);
}

Test(headroom, policy_names)
{
	cr_assert_eq(headroom_policy_from_name("usage"), HEADROOM_POLICY_USAGE);
	cr_assert_eq(headroom_policy_from_name("request"), HEADROOM_POLICY_REQUEST);
	cr_assert_eq(headroom_policy_from_name("maxUsageRequest"),
		     HEADROOM_POLICY_MAX_USAGE_REQUEST);
	cr_assert_eq(headroom_policy_from_name("Usage"), -1);
	cr_assert_eq(headroom_policy_from_name(NULL), -1);
	cr_assert_str_eq(headroom_policy_name(HEADROOM_POLICY_MAX_USAGE_REQUEST),
			 "maxUsageRequest");
}

/* ---- properties over generated traces ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
	return trand_next(&rng_state);
}

static uint64_t rnd_range(uint64_t lo, uint64_t hi)
{
	return lo + rnd() % (hi - lo + 1);
}

#define NR_LS	8

struct node_state {
	uint64_t cap[HEADROOM_NR_RES];
	uint64_t sys[HEADROOM_NR_RES], reserved[HEADROOM_NR_RES];
	uint64_t used[NR_LS][HEADROOM_NR_RES], req[NR_LS][HEADROOM_NR_RES];
	uint64_t mid_reclaimable[HEADROOM_NR_RES];
};

static void random_params(struct headroom_params *p)
{
	headroom_params_default(p);
	for (int r = 0; r < HEADROOM_NR_RES; r++) {
		p->reclaim_threshold_percent[r] = (uint32_t)rnd_range(0, 120);
		p->policy[r] = (enum headroom_policy)rnd_range(0, 2);
		p->batch_threshold_percent[r] = (int32_t)rnd_range(0, 130) - 10;
		if (p->batch_threshold_percent[r] < 0)
			p->batch_threshold_percent[r] = HEADROOM_UNSET;
		p->mid_threshold_percent[r] = (uint32_t)rnd_range(0, 120);
	}
}

static void random_node(struct node_state *s)
{
	memset(s, 0, sizeof(*s));
	s->cap[HEADROOM_CPU] = rnd_range(1, 256) * 1000;
	s->cap[HEADROOM_MEMORY] = rnd_range(1, 1024) * GIB;
	for (int r = 0; r < HEADROOM_NR_RES; r++) {
		uint64_t c = s->cap[r];

		s->sys[r] = rnd_range(0, c / 4);
		s->reserved[r] = rnd_range(0, c / 4);
		for (int i = 0; i < NR_LS; i++) {
			s->used[i][r] = rnd_range(0, c / NR_LS);
			s->req[i][r] = rnd_range(0, c / NR_LS);
		}
		s->mid_reclaimable[r] = rnd_range(0, c * 2);
	}
}

/* The agent's aggregation: sums over LS cgroups. ls_used is given (the
 * short-term peak); node used = system + LS + a BE share. */
static void to_input(const struct node_state *s, const uint64_t ls_used[HEADROOM_NR_RES],
		     struct headroom_input *hin)
{
	memset(hin, 0, sizeof(*hin));
	for (int r = 0; r < HEADROOM_NR_RES; r++) {
		struct headroom_res_input *ri = &hin->res[r];

		ri->capacity = s->cap[r];
		ri->system_used = s->sys[r];
		ri->reserved = s->reserved[r];
		ri->mid_reclaimable = s->mid_reclaimable[r];
		ri->ls_used = ls_used[r];
		for (int i = 0; i < NR_LS; i++) {
			ri->ls_request += s->req[i][r];
			ri->ls_max_used_request += s->used[i][r] > s->req[i][r] ?
						   s->used[i][r] : s->req[i][r];
		}
		ri->node_used = s->sys[r] + ls_used[r];
	}
	hin->measured_ns = T0;
	hin->now_ns = T0;
}

static void ls_sum(const struct node_state *s, uint64_t sum[HEADROOM_NR_RES])
{
	for (int r = 0; r < HEADROOM_NR_RES; r++) {
		sum[r] = 0;
		for (int i = 0; i < NR_LS; i++)
			sum[r] += s->used[i][r];
	}
}

Test(headroom, property_bounds_and_monotone_in_ls_usage)
{
	for (int iter = 0; iter < 20000; iter++) {
		struct headroom_params p;
		struct node_state s;
		struct headroom_input a, b;
		struct headroom_result ra, rb;
		uint64_t sum[HEADROOM_NR_RES];
		int i = (int)rnd_range(0, NR_LS - 1);

		random_params(&p);
		random_node(&s);
		ls_sum(&s, sum);
		to_input(&s, sum, &a);
		headroom_compute(&p, &a, &ra);

		/* one LS cgroup uses more of one or both resources */
		for (int r = 0; r < HEADROOM_NR_RES; r++)
			s.used[i][r] += rnd_range(0, s.cap[r] / 2);
		ls_sum(&s, sum);
		to_input(&s, sum, &b);
		headroom_compute(&p, &b, &rb);

		for (int r = 0; r < HEADROOM_NR_RES; r++) {
			cr_assert_leq(ra.res[r].batch, s.cap[r], "iter %d res %d", iter, r);
			cr_assert_leq(ra.res[r].mid, s.cap[r], "iter %d res %d", iter, r);
			cr_assert_leq(rb.res[r].batch, ra.res[r].batch,
				      "iter %d res %d policy %d: batch rose %lu -> %lu",
				      iter, r, p.policy[r], ra.res[r].batch, rb.res[r].batch);
			cr_assert_leq(rb.res[r].mid, ra.res[r].mid, "iter %d res %d", iter, r);
			/* no wrap-around: a saturated subtraction never exceeds
			 * what capacity minus the margin allows */
			cr_assert_leq(ra.res[r].batch,
				      s.cap[r] - ra.res[r].safety_margin, "iter %d", iter);
		}
	}
}

/*
 * Over a 20-minute trace at 1 Hz: trace B is trace A plus a non-negative
 * extra LS usage at every tick; with the short-term peak as ls_used, Batch
 * from B is never above Batch from A, and both stay in [0, capacity].
 */
Test(headroom, property_trace_with_short_term_peak)
{
	for (int trial = 0; trial < 30; trial++) {
		struct shortterm *sa = malloc(sizeof(*sa)), *sb = malloc(sizeof(*sb));
		struct headroom_params p;
		struct node_state s;
		uint64_t base = 0, burst_until = 0;

		cr_assert(sa && sb);
		random_params(&p);
		random_node(&s);
		shortterm_init(sa, (uint32_t)rnd_range(10, 300), (uint32_t)rnd_range(50, 100));
		shortterm_init(sb, (uint32_t)(sa->window_ns / HEADROOM_NS_PER_S), sa->percentile);
		for (uint64_t t = 1; t <= 1200; t++) {
			uint64_t now = T0 + t * HEADROOM_NS_PER_S;
			uint64_t cap = s.cap[HEADROOM_CPU];
			uint64_t ua, ub, ls[HEADROOM_NR_RES] = { 0 };
			struct headroom_input a, b;
			struct headroom_result ra, rb;

			/* a random walk with bursts */
			base = (base + rnd_range(0, cap / 20)) % (cap / 2 + 1);
			if (!(rnd() % 50))
				burst_until = t + rnd_range(1, 30);
			ua = base + (t < burst_until ? cap / 4 : 0);
			ub = ua + rnd_range(0, cap / 10);
			shortterm_add(sa, now, ua);
			shortterm_add(sb, now, ub);

			ls[HEADROOM_CPU] = shortterm_peak(sa, now);
			to_input(&s, ls, &a);
			ls[HEADROOM_CPU] = shortterm_peak(sb, now);
			to_input(&s, ls, &b);
			b.res[HEADROOM_CPU].ls_max_used_request += ub - ua;
			headroom_compute(&p, &a, &ra);
			headroom_compute(&p, &b, &rb);
			cr_assert_geq(shortterm_peak(sa, now), ua > 0 && sa->percentile == 100 ? ua : 0);
			cr_assert_leq(ra.res[HEADROOM_CPU].batch, cap);
			cr_assert_leq(rb.res[HEADROOM_CPU].batch, ra.res[HEADROOM_CPU].batch,
				      "trial %d t %lu", trial, t);
			cr_assert_leq(rb.res[HEADROOM_CPU].mid, ra.res[HEADROOM_CPU].mid);
		}
		free(sa);
		free(sb);
	}
}

/* ---- short-term peak ---- */

Test(headroom, shortterm_max_over_window)
{
	struct shortterm *st = malloc(sizeof(*st));

	cr_assert(st);
	shortterm_init(st, 60, 100);
	cr_assert_eq(shortterm_peak(st, T0), 0, "empty");
	shortterm_add(st, T0, 500);
	shortterm_add(st, T0 + 1 * HEADROOM_NS_PER_S, 3000);	/* the spike */
	for (int i = 2; i < 70; i++)
		shortterm_add(st, T0 + i * HEADROOM_NS_PER_S, 1000);
	/* at T0+60 s the spike (T0+1 s) is 59 s old: still in the window */
	cr_assert_eq(shortterm_peak(st, T0 + 60 * HEADROOM_NS_PER_S), 3000);
	/* at T0+61 s it is exactly 60 s old: out */
	cr_assert_eq(shortterm_peak(st, T0 + 61 * HEADROOM_NS_PER_S), 1000);
	cr_assert_eq(shortterm_count(st, T0 + 69 * HEADROOM_NS_PER_S), 60);
	free(st);
}

Test(headroom, shortterm_percentile_nearest_rank)
{
	struct shortterm *st = malloc(sizeof(*st));

	cr_assert(st);
	shortterm_init(st, 300, 95);
	/* 100 samples 1..100 in scrambled order: p95 by nearest rank = 95 */
	for (int i = 0; i < 100; i++)
		shortterm_add(st, T0 + i * HEADROOM_NS_PER_S, (uint64_t)((i * 37) % 100 + 1));
	cr_assert_eq(shortterm_peak(st, T0 + 99 * HEADROOM_NS_PER_S), 95);
	free(st);
}

Test(headroom, shortterm_ring_and_clock)
{
	struct shortterm *st = malloc(sizeof(*st));
	uint64_t t;

	cr_assert(st);
	shortterm_init(st, 3600, 100);
	/* more samples than the ring holds: the oldest (largest) fall out */
	for (t = 0; t < SHORTTERM_MAX_SAMPLES + 10; t++)
		shortterm_add(st, T0 + t * HEADROOM_NS_PER_S, 100000 - t);
	cr_assert_eq(shortterm_count(st, T0 + t * HEADROOM_NS_PER_S), SHORTTERM_MAX_SAMPLES);
	cr_assert_eq(shortterm_peak(st, T0 + t * HEADROOM_NS_PER_S), 100000 - 10);
	/* the clock going back restarts the window */
	shortterm_add(st, T0, 7);
	cr_assert_eq(shortterm_peak(st, T0), 7);
	cr_assert_eq(shortterm_count(st, T0), 1);
	free(st);
}

/* ---- kubelet cgroup values ---- */

Test(headroom, cpu_shares_round_trip_kubelet)
{
	/* kubelet: shares = max(2, milli * 1024 / 1000) */
	cr_assert_eq(lsreq_cpu_from_shares(1024), 1000);
	cr_assert_eq(lsreq_cpu_from_shares(102), 100);	/* 100m -> 102 */
	cr_assert_eq(lsreq_cpu_from_shares(2), 0);	/* BestEffort / none */
	cr_assert_eq(lsreq_cpu_from_shares(262144), 256000);
	for (uint64_t m = 3; m <= 64000; m++) {
		uint64_t shares = m * 1024 / 1000;

		cr_assert_eq(lsreq_cpu_from_shares(shares), m, "milli %lu", m);
	}
}

Test(headroom, cpu_request_from_v2_weight)
{
	/* v2: kubelet's 1000m is shares 1024, which runc writes as weight
	 * 1 + 1022 * 9999 / 262142 = 39. Read back through the smallest shares
	 * of weight 39 (999), that is 976m: one weight step is about 25m. */
	cr_assert_eq(lsreq_cpu_from_shares(cg_weight_to_shares(39)), 976);
	cr_assert_eq(lsreq_cpu_from_shares(cg_weight_to_shares(1)), 0);
}

Test(headroom, memory_requests)
{
	cr_assert_eq(lsreq_memory_request(GIB / 2, GIB), GIB / 2);
	cr_assert_eq(lsreq_memory_request(0, GIB), GIB);
	cr_assert_eq(lsreq_memory_request(0, HEADROOM_UNLIMITED), 0);
}
