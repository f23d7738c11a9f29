// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The decide step, pure: where each knob goes in kubelet's layout and on
 * bare metal, memory.max behind memory.high, and who an eviction takes.
 * The agent-level tests (tests/kernel/test_kubelet.c, test_level.c,
 * test_memory.c) check the same on real cgroups.
 */
#include <criterion/criterion.h>
#include "decide.h"

static struct track t;
static struct policy_params pp;
static struct policy_caps caps = { .has_cpu_idle = true };
static struct policy_state ps;
static struct decision d;

static void fini(void)
{
	track_free(&t);
	decision_free(&d);
}

TestSuite(decide, .fini = fini);

static int add(const char *path, enum colod_class cls, bool pod, bool kubelet)
{
	struct tracked *c = track_add(&t, (uint64_t)t.nr + 1, path, cls, kubelet ? -1 : 0);

	cr_assert_not_null(c);
	c->is_pod = pod;
	c->kubelet = kubelet;
	return t.nr - 1;
}

static const struct knob *knob_of(int cg, enum knob_kind kind)
{
	int i;

	for (i = 0; i < d.nr_knobs; i++)
		if (d.knobs[i].cg == cg && d.knobs[i].kind == kind)
			return &d.knobs[i];
	return NULL;
}

static void decide_now(void)
{
	struct decide_params dp = { .p = &pp, .caps = &caps };

	track_mark_tops(&t);
	cr_assert_eq(decide_knobs(&dp, &ps, &t, false, &d), 0);
}

Test(decide, kubelet_layout_idles_settled_be_pods_with_a_container_only)
{
	int qos, pod, ctr, young, empty;

	policy_params_default(&pp);
	policy_init(&ps, &pp, 2000);
	t.scan_gen = 1;
	qos = add("/kubepods/besteffort", COLOD_CLASS_BE, false, true);
	pod = add("/kubepods/besteffort/pod1", COLOD_CLASS_BE, true, true);
	ctr = add("/kubepods/besteffort/pod1/c1", COLOD_CLASS_BE, false, true);
	empty = add("/kubepods/besteffort/pod2", COLOD_CLASS_BE, true, true);
	t.scan_gen = 2;
	young = add("/kubepods/besteffort/pod3", COLOD_CLASS_BE, true, true);
	add("/kubepods/besteffort/pod3/c3", COLOD_CLASS_BE, false, true);
	decide_now();
	cr_assert_null(knob_of(qos, KNOB_CPU_IDLE), "never on the QoS cgroup kubelet writes");
	cr_assert_not_null(knob_of(pod, KNOB_CPU_IDLE), "a settled pod with a container");
	cr_assert_null(knob_of(ctr, KNOB_CPU_IDLE), "not on containers");
	cr_assert_null(knob_of(empty, KNOB_CPU_IDLE), "not on a pod without containers");
	cr_assert_null(knob_of(young, KNOB_CPU_IDLE), "not on a pod found by this walk");
	cr_assert_null(knob_of(qos, KNOB_CPU_SHARES), "shares are kubelet's");
	cr_assert_eq(decide_idle_holder(&t, ctr), pod);
}

Test(decide, bare_metal_rules_idle_the_top_or_lower_its_shares)
{
	int top, child;

	policy_params_default(&pp);
	policy_init(&ps, &pp, 2000);
	top = add("/batch", COLOD_CLASS_BE, false, false);
	child = add("/batch/job1", COLOD_CLASS_BE, false, false);
	decide_now();
	cr_assert_not_null(knob_of(top, KNOB_CPU_IDLE));
	cr_assert_null(knob_of(child, KNOB_CPU_IDLE));
	caps.has_cpu_idle = false;
	decide_now();
	caps.has_cpu_idle = true;
	cr_assert_null(knob_of(top, KNOB_CPU_IDLE));
	cr_assert_not_null(knob_of(top, KNOB_CPU_SHARES), "no cpu.idle: the lowest shares");
	cr_assert_eq(knob_of(top, KNOB_CPU_SHARES)->value, 2);
}

Test(decide, memory_max_backs_memory_high_on_v2_when_high_does_not_hold)
{
	struct policy_caps v2 = { .cgroup_v2 = true, .has_memory_qos = true };
	struct decide_params dp = { .p = &pp, .caps = &v2 };
	int be;

	policy_params_default(&pp);
	policy_init(&ps, &pp, 2000);
	be = add("/batch", COLOD_CLASS_BE, false, false);
	track_mark_tops(&t);
	ps.be_mem_high = 1ULL << 30;
	cr_assert_eq(decide_knobs(&dp, &ps, &t, false, &d), 0);
	cr_assert_eq(knob_of(be, KNOB_MEM_HIGH)->value, 1LL << 30);
	cr_assert_null(knob_of(be, KNOB_MEM_MAX), "memory.high first");
	ps.mem_stuck_ticks = 2;
	cr_assert_eq(decide_knobs(&dp, &ps, &t, false, &d), 0);
	cr_assert_eq(knob_of(be, KNOB_MEM_MAX)->value, 1LL << 30);
	ps.be_mem_high = POLICY_UNLIMITED;
	cr_assert_eq(decide_knobs(&dp, &ps, &t, false, &d), 0);
	cr_assert_null(knob_of(be, KNOB_MEM_HIGH), "released when the pressure is over");
	cr_assert_null(knob_of(be, KNOB_MEM_MAX));
}

Test(decide, eviction_takes_be_pods_largest_first_never_ls)
{
	struct decide_params dp = { .p = &pp, .caps = &caps };
	struct snapshot snap = { .now_ns = 100ULL << 30, .capacity_milli = 2000 };
	int small, big, ls;

	policy_params_default(&pp);
	policy_init(&ps, &pp, 2000);
	add("/kubepods/besteffort", COLOD_CLASS_BE, false, true);
	small = add("/kubepods/besteffort/pod1", COLOD_CLASS_BE, true, true);
	big = add("/kubepods/besteffort/pod2", COLOD_CLASS_BE, true, true);
	ls = add("/kubepods/pod3", COLOD_CLASS_LS, true, true);
	t.v[small].mem_bytes = 1ULL << 30;
	t.v[big].mem_bytes = 4ULL << 30;
	t.v[ls].mem_bytes = 8ULL << 30;
	track_mark_tops(&t);
	/* node 90% used of 16 GiB, BE memory.high already down and stuck */
	snap.node.mem_total = 16ULL << 30;
	snap.node.mem_used = snap.node.mem_total / 10 * 9;
	snap.mem_used[COLOD_CLASS_BE] = 5ULL << 30;
	ps.be_mem_high = 5ULL << 30;
	ps.mem_stuck_ticks = pp.evict_after_ticks;
	ps.last_evict_ms = POLICY_NEVER;
	cr_assert_eq(decide_tick(&dp, &ps, &snap, &t, &d), 0);
	cr_assert_geq(d.nr_evict, 1, "an eviction is decided");
	cr_assert_eq(d.evict[0], big, "the largest BE pod first");
	for (int i = 0; i < d.nr_evict; i++)
		cr_assert_neq(d.evict[i], ls, "never LS");
}

/*
 * A breach cut is judged against the event's window plus the LS cgroup's
 * last tick when BE ran through it (at its floor or more: 100m here);
 * a BE that had not run leaves the event alone as the evidence.
 */
Test(decide, a_breach_cut_is_judged_against_the_last_tick_when_be_ran_through_it)
{
	struct decide_params dp = { .p = &pp, .caps = &caps };
	struct policy_breach b = { .now_ms = 10500, .samples = 100, .breaches = 3,
				   .breaches_be = 3, .latency_ns = 3000000 };
	int ls;

	policy_params_default(&pp);
	pp.suppress_enable = false;
	policy_init(&ps, &pp, 2000);
	ls = add("/ls", COLOD_CLASS_LS, false, false);
	add("/be", COLOD_CLASS_BE, false, false);
	t.v[ls].tick_samples = 1900;
	t.v[ls].tick_breaches = 10;
	t.sum[COLOD_CLASS_BE].cpu_milli = 100;	/* the last tick's, as sense sums it */
	track_mark_tops(&t);
	b.ls_cgroup_id = t.v[ls].id;
	ps.last_tick_ms = 10000;
	cr_assert_eq(decide_breach(&dp, &ps, &b, &t, &d), 1);
	cr_assert_eq(ps.judge.before_ppm, 6500, "13 of 2000 waits");

	policy_init(&ps, &pp, 2000);
	t.sum[COLOD_CLASS_BE].cpu_milli = 99;
	ps.last_tick_ms = 10000;
	cr_assert_eq(decide_breach(&dp, &ps, &b, &t, &d), 1);
	cr_assert_eq(ps.judge.before_ppm, 30000, "BE had not run: the event's 3 of 100");
}

/*
 * The tick hands the policy each LS cgroup's waits, breaches and p99 from
 * the track: an LS that stays late after a cut gets a verdict of no
 * effect in the decision, the allowance back, and its breaches no longer
 * cut at the next tick.
 */
Test(decide, a_tick_judges_a_cut_by_the_ls_cgroups_own_breaches)
{
	struct decide_params dp = { .p = &pp, .caps = &caps };
	struct policy_breach b = { .now_ms = 10500, .samples = 100, .breaches = 30,
				   .breaches_be = 10, .latency_ns = 3000000 };
	struct snapshot snap = { .capacity_milli = 2000 };
	struct tracked *ls;
	int i, be;

	policy_params_default(&pp);
	pp.suppress_enable = false;	/* the bound out of the way: the cut alone */
	policy_init(&ps, &pp, 2000);
	add("/ls", COLOD_CLASS_LS, false, false);
	be = add("/be", COLOD_CLASS_BE, false, false);
	ls = &t.v[0];
	ls->latency_target_us = 200;
	ls->p99_us = 600;
	ls->tick_samples = 2000;
	ls->tick_breaches = 600;
	ls->tick_breaches_be = 100;
	track_mark_tops(&t);
	b.ls_cgroup_id = ls->id;
	ps.last_tick_ms = 10000;
	ps.cpu_limited = true;
	cr_assert_eq(decide_breach(&dp, &ps, &b, &t, &d), 1);
	cr_assert_eq(ps.judge.cgid, ls->id);
	/* the ticks cut on to the floor (one episode), then two more judge it */
	for (i = 1; i <= 10 && !d.has_verdict; i++) {
		snap.now_ns = (10000 + 1000ULL * i) * 1000000;
		cr_assert_eq(decide_tick(&dp, &ps, &snap, &t, &d), 0);
	}
	cr_assert(d.has_verdict, "judged once the cuts stopped");
	cr_assert_eq(d.verdict.verdict, POLICY_V_NO_EFFECT);
	cr_assert_eq(d.verdict.cgid, ls->id);
	cr_assert_eq(d.verdict.after_ppm, 300000, "every breach over every wait");
	cr_assert_eq(d.nr_acts, 1);
	cr_assert_eq(d.acts[0].reason, POLICY_R_CUT_NO_EFFECT);
	cr_assert_eq(d.acts[0].new_value, 2000);
	cr_assert_not_null(knob_of(be, KNOB_CPU_QUOTA));
	snap.now_ns += 1000000000ULL;
	cr_assert_eq(decide_tick(&dp, &ps, &snap, &t, &d), 0);
	cr_assert_not(d.has_verdict);
	cr_assert_eq(d.nr_acts, 0, "its BE breaches (5%) are under the 60% it now needs");
	cr_assert_eq(ps.allowed_milli, 2000);
}
