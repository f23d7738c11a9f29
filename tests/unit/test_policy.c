// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Policy tests: static QoS tables, the pieces of the suppress arithmetic,
 * and scripted closed-loop scenarios with injected time (a BE burst,
 * recovery, an LS that idles, steady noisy load, memory pressure).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "policy.h"

#define CAP	2000ULL			/* 2 cores, as on the test machine */
#define GIB	(1ULL << 30)
#define MIB	(1ULL << 20)
#define MAX_LOG	4096

struct logged {
	uint64_t t_ms;
	struct policy_action a;
};

/* A closed loop in miniature: params, state, clock and everything it did. */
struct sim {
	struct policy_params p;
	struct policy_state s;
	uint64_t now;
	struct logged log[MAX_LOG];
	int nlog;
};

/* One per test: criterion runs every test in its own process. */
static struct sim sim_buf;

static void sim_init(struct sim *m)
{
	memset(m, 0, sizeof(*m));
	policy_params_default(&m->p);
	policy_init(&m->s, &m->p, CAP);
	m->now = 1000000;	/* monotonic clocks do not start at 0 */
}

static void sim_log(struct sim *m, const struct policy_action *a)
{
	cr_assert_lt(m->nlog, MAX_LOG, "action log overflow");
	m->log[m->nlog].t_ms = m->now;
	m->log[m->nlog].a = *a;
	m->nlog++;
}

/* A quiet tick: LS using ls milli, system 100m, memory well below the threshold. */
static struct policy_tick_input quiet(const struct sim *m, uint64_t ls, uint32_t p99)
{
	struct policy_tick_input in = {
		.now_ms = m->now,
		.capacity_milli = CAP,
		.ls_used_milli = ls,
		.system_used_milli = 100,
		.be_used_milli = 500,
		.node_mem_used_bytes = 8 * GIB,
		.node_mem_capacity_bytes = 24 * GIB,
		.be_mem_used_bytes = 2 * GIB,
		.ls_p99_milli = p99,
	};
	return in;
}

static int sim_tick(struct sim *m, struct policy_tick_input *in)
{
	struct policy_action out[POLICY_TICK_MAX_ACTIONS];
	int i, n;

	in->now_ms = m->now;
	n = policy_tick(&m->p, &m->s, in, out, POLICY_TICK_MAX_ACTIONS);
	cr_assert_geq(n, 0, "policy_tick failed: %d", n);
	for (i = 0; i < n; i++)
		sim_log(m, &out[i]);
	return n;
}

static int sim_on_breach(struct sim *m, const struct policy_breach *b)
{
	struct policy_action a;
	int r = policy_on_breach(&m->p, &m->s, b, &a);

	cr_assert_geq(r, 0);
	if (r)
		sim_log(m, &a);
	return r;
}

static int sim_breach(struct sim *m, uint64_t latency_us)
{
	struct policy_breach b = {
		.ls_cgroup_id = 4242, .latency_ns = latency_us * 1000, .now_ms = m->now,
	};

	return sim_on_breach(m, &b);
}

static bool is_cpu(const struct policy_action *a)
{
	return a->kind == POLICY_BE_CPU_QUOTA || a->kind == POLICY_BE_CPUSET_CPUS;
}

/* Most direction changes of the CPU allowance within any 60 s window. */
static int max_reversals_per_minute(const struct sim *m)
{
	int worst = 0, i, j;

	for (i = 0; i < m->nlog; i++) {
		int dir = 0, rev = 0;

		for (j = i; j < m->nlog && m->log[j].t_ms < m->log[i].t_ms + 60000; j++) {
			const struct policy_action *a = &m->log[j].a;
			int d;

			if (!is_cpu(a) || a->old_value == POLICY_UNLIMITED)
				continue;
			d = a->new_value > a->old_value ? 1 : -1;
			if (dir && d != dir)
				rev++;
			dir = d;
		}
		if (rev > worst)
			worst = rev;
	}
	return worst;
}

static void assert_cpu_in_range(const struct sim *m)
{
	uint64_t floor = policy_floor_milli(&m->p, CAP);

	cr_assert_geq(m->s.allowed_milli, floor, "allowance %lu below floor %lu",
		      (unsigned long)m->s.allowed_milli, (unsigned long)floor);
	cr_assert_leq(m->s.allowed_milli, CAP, "allowance %lu above capacity",
		      (unsigned long)m->s.allowed_milli);
}

/* Run healthy ticks for secs seconds at one tick per second. */
static void run_quiet(struct sim *m, int secs, uint64_t ls)
{
	int i;

	for (i = 0; i < secs; i++) {
		struct policy_tick_input in = quiet(m, ls, 400);

		sim_tick(m, &in);
		assert_cpu_in_range(m);
		m->now += 1000;
	}
}

/* Deterministic noise, so a failure can be replayed. */
static uint32_t lcg(uint32_t *x)
{
	*x = *x * 1664525u + 1013904223u;
	return *x >> 8;
}

static void run_noisy(struct sim *m, int secs, uint32_t seed, int breach_every)
{
	uint32_t x = seed;
	int i;

	for (i = 0; i < secs; i++) {
		/* LS 700 +- 200m, system 100 +- 50m, p99 at 40-85% of the target */
		struct policy_tick_input in = quiet(m, 500 + lcg(&x) % 401,
						    400 + lcg(&x) % 451);

		in.system_used_milli = 50 + lcg(&x) % 101;
		if (breach_every && i % breach_every == breach_every - 1) {
			sim_breach(m, 1500 + lcg(&x) % 3000);
			in.ls_breaches = 1;
		}
		sim_tick(m, &in);
		assert_cpu_in_range(m);
		m->now += 900 + lcg(&x) % 201;		/* a tick that jitters */
	}
}

/* ---- parameters ------------------------------------------------------------ */

Test(policy, defaults_are_valid_and_koordinator_like)
{
	struct policy_params p;
	char err[256];

	policy_params_default(&p);
	cr_assert_eq(policy_params_check(&p, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(p.cpu_suppress_threshold_pct, 65);
	cr_assert_eq(p.mem_evict_threshold_pct, 70);
	cr_assert_eq(p.qos[COLOD_CLASS_BE].cat_end_pct, 30);
	cr_assert_leq(p.be_cfs_period_us, 10000, "BE period must be short for latency");
}

Test(policy, check_names_field_and_value)
{
	struct policy_params p;
	char err[256];

	policy_params_default(&p);
	p.cpu_suppress_threshold_pct = 140;
	cr_assert_eq(policy_params_check(&p, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "cpuSuppressThresholdPercent") && strstr(err, "140"), "%s", err);

	policy_params_default(&p);
	p.mem_evict_lower_pct = 75;	/* above the 70% threshold */
	cr_assert_eq(policy_params_check(&p, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "memoryEvictLowerPercent") && strstr(err, "75"), "%s", err);

	policy_params_default(&p);
	p.qos[COLOD_CLASS_BE].cat_start_pct = 40;	/* start after end (30) */
	cr_assert_eq(policy_params_check(&p, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "beClass.resctrlQOS.catRangeEndPercent"), "%s", err);

	policy_params_default(&p);
	p.be_cfs_period_us = 500;	/* below the kernel minimum */
	cr_assert_eq(policy_params_check(&p, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "beCfsPeriodUs"), "%s", err);
}

/* ---- static QoS ------------------------------------------------------------ */

Test(policy, static_be_uses_cpu_idle_where_the_kernel_has_it)
{
	struct policy_params p;
	struct policy_caps caps = { .has_cpu_idle = true };
	struct policy_static_qos q;

	policy_params_default(&p);
	policy_static_qos(&p, COLOD_CLASS_BE, &caps, 0, 0, &q);
	cr_assert_eq(q.cpu_idle, 1);
	/* the kernel pins an idle group's weight: writing it would fail */
	cr_assert_eq(q.cpu_shares, 0);
	cr_assert_eq(q.cpu_weight, 0);
	cr_assert_eq(q.cfs_period_us, p.be_cfs_period_us);
}

/* BE's threads get beSchedSliceUs where the kernel keeps a slice; LS's never */
Test(policy, static_be_slice_where_the_kernel_keeps_one)
{
	struct policy_params p;
	struct policy_caps caps = { .has_cpu_idle = true, .has_sched_slice = true };
	struct policy_caps old = { .has_cpu_idle = true };
	struct policy_static_qos q;

	policy_params_default(&p);
	policy_static_qos(&p, COLOD_CLASS_BE, &caps, 0, 0, &q);
	cr_assert_eq(q.slice_ns, 0, "off by default");
	p.be_slice_us = 100000;
	policy_static_qos(&p, COLOD_CLASS_BE, &caps, 0, 0, &q);
	cr_assert_eq(q.slice_ns, 100000000);
	policy_static_qos(&p, COLOD_CLASS_LS, &caps, 0, 0, &q);
	cr_assert_eq(q.slice_ns, 0);
	policy_static_qos(&p, COLOD_CLASS_BE, &old, 0, 0, &q);
	cr_assert_eq(q.slice_ns, 0, "a kernel before 6.12 keeps none");
	p.qos[COLOD_CLASS_BE].cpu_enable = false;
	policy_static_qos(&p, COLOD_CLASS_BE, &caps, 0, 0, &q);
	cr_assert_eq(q.slice_ns, 0, "BE's CPU QoS off");
}

Test(policy, static_be_falls_back_to_minimal_weight)
{
	struct policy_params p;
	struct policy_caps v1 = { 0 }, v2 = { .cgroup_v2 = true };
	struct policy_static_qos q;

	policy_params_default(&p);
	policy_static_qos(&p, COLOD_CLASS_BE, &v1, 0, 0, &q);
	cr_assert_eq(q.cpu_idle, POLICY_KEEP);
	cr_assert_eq(q.cpu_shares, 2);
	cr_assert_eq(q.cpu_weight, 0);
	policy_static_qos(&p, COLOD_CLASS_BE, &v2, 0, 0, &q);
	cr_assert_eq(q.cpu_weight, 1);
	cr_assert_eq(q.cpu_shares, 0);
}

Test(policy, static_cpuset_policy_leaves_period_alone)
{
	struct policy_params p;
	struct policy_caps caps = { .has_cpu_idle = true };
	struct policy_static_qos q;

	policy_params_default(&p);
	p.suppress_policy = POLICY_SUPPRESS_CPUSET;
	policy_static_qos(&p, COLOD_CLASS_BE, &caps, 0, 0, &q);
	cr_assert_eq(q.cfs_period_us, 0);
}

Test(policy, static_ls_keeps_cpu_priority)
{
	struct policy_params p;
	struct policy_caps caps = { .has_cpu_idle = true, .cgroup_v2 = true };
	struct policy_static_qos q;

	policy_params_default(&p);
	policy_static_qos(&p, COLOD_CLASS_LS, &caps, 0, 0, &q);
	cr_assert_eq(q.cpu_idle, 0, "an LS group must never be idle");
	cr_assert_eq(q.cpu_weight, 0, "LS weight is left as kubelet set it");
	cr_assert_eq(q.cfs_period_us, 0);
}

Test(policy, static_memory_qos_from_request_and_limit)
{
	struct policy_params p;
	struct policy_caps caps = { .cgroup_v2 = true, .has_memory_qos = true };
	struct policy_static_qos q;

	policy_params_default(&p);
	p.qos[COLOD_CLASS_LS].min_limit_pct = 50;
	policy_static_qos(&p, COLOD_CLASS_LS, &caps, 4 * GIB, 2 * GIB, &q);
	cr_assert(q.set_mem_min && q.set_mem_low);
	cr_assert_eq(q.mem_min, 1 * GIB);
	cr_assert_eq(q.mem_low, 2 * GIB);
	cr_assert_not(q.set_mem_high, "LS throttlingPercent is 0");

	policy_static_qos(&p, COLOD_CLASS_BE, &caps, 10 * GIB, 0, &q);
	cr_assert_not(q.set_mem_min);
	cr_assert_not(q.set_mem_low);
	cr_assert(q.set_mem_high);
	cr_assert_eq(q.mem_high, 8 * GIB);

	/* no limit: nothing to take a percentage of */
	policy_static_qos(&p, COLOD_CLASS_BE, &caps, 0, 0, &q);
	cr_assert_not(q.set_mem_high);
}

Test(policy, static_memory_on_plain_v1_uses_soft_limit_for_be)
{
	struct policy_params p;
	struct policy_caps caps = { .has_cpu_idle = true };
	struct policy_static_qos q;

	policy_params_default(&p);
	policy_static_qos(&p, COLOD_CLASS_BE, &caps, 10 * GIB, 0, &q);
	cr_assert_not(q.set_mem_high);
	cr_assert(q.set_soft_limit);
	cr_assert_eq(q.soft_limit, 8 * GIB);
	policy_static_qos(&p, COLOD_CLASS_LS, &caps, 4 * GIB, 2 * GIB, &q);
	cr_assert_not(q.set_mem_low || q.set_mem_min || q.set_soft_limit);
}

Test(policy, static_resctrl_only_where_resctrl_exists)
{
	struct policy_params p;
	struct policy_caps none = { 0 }, rdt = { .has_resctrl = true };
	struct policy_static_qos q;

	policy_params_default(&p);
	policy_static_qos(&p, COLOD_CLASS_BE, &none, 0, 0, &q);
	cr_assert_not(q.resctrl);
	policy_static_qos(&p, COLOD_CLASS_BE, &rdt, 0, 0, &q);
	cr_assert(q.resctrl);
	cr_assert_str_eq(q.resctrl_group, "BE");
	cr_assert_eq(q.cat_start_pct, 0);
	cr_assert_eq(q.cat_end_pct, 30);
	cr_assert_eq(q.mba_pct, 100);
	policy_static_qos(&p, COLOD_CLASS_LS, &rdt, 0, 0, &q);
	cr_assert_str_eq(q.resctrl_group, "LS");
	cr_assert_eq(q.cat_end_pct, 100);
}

Test(policy, static_system_and_disabled_classes_are_untouched)
{
	struct policy_params p;
	struct policy_caps all = { .cgroup_v2 = true, .has_cpu_idle = true,
				   .has_memory_qos = true, .has_resctrl = true };
	struct policy_static_qos q;

	policy_params_default(&p);
	policy_static_qos(&p, COLOD_CLASS_SYSTEM, &all, 8 * GIB, 4 * GIB, &q);
	cr_assert_eq(q.cpu_idle, POLICY_KEEP);
	cr_assert_not(q.cpu_shares || q.cpu_weight || q.cfs_period_us || q.resctrl);
	cr_assert_not(q.set_mem_min || q.set_mem_low || q.set_mem_high || q.set_soft_limit);

	p.qos[COLOD_CLASS_BE].cpu_enable = false;
	p.qos[COLOD_CLASS_BE].memory_enable = false;
	p.qos[COLOD_CLASS_BE].resctrl_enable = false;
	policy_static_qos(&p, COLOD_CLASS_BE, &all, 8 * GIB, 4 * GIB, &q);
	cr_assert_eq(q.cpu_idle, POLICY_KEEP);
	cr_assert_not(q.cpu_weight || q.cfs_period_us || q.set_mem_high || q.resctrl);
}

/* ---- arithmetic -------------------------------------------------------------- */

Test(policy, suppress_bound_is_koordinators_formula)
{
	struct policy_params p;
	struct policy_tick_input in = { .capacity_milli = CAP, .ls_used_milli = 600,
					.system_used_milli = 100 };

	policy_params_default(&p);
	/* 2000 x 65% - 600 - 100 */
	cr_assert_eq(policy_suppress_bound(&p, &in), 600);
	/* system used is max(system used, reserved) */
	in.reserved_milli = 300;
	cr_assert_eq(policy_suppress_bound(&p, &in), 400);
	/* LS above the threshold: the floor, never below */
	in.ls_used_milli = 1900;
	cr_assert_eq(policy_suppress_bound(&p, &in), policy_floor_milli(&p, CAP));
	p.suppress_enable = false;
	cr_assert_eq(policy_suppress_bound(&p, &in), CAP);
}

Test(policy, floor_honours_min_percent_and_kernel_minimum_quota)
{
	struct policy_params p;

	policy_params_default(&p);
	p.cpu_suppress_min_pct = 5;
	cr_assert_eq(policy_floor_milli(&p, CAP), 100);
	p.cpu_suppress_min_pct = 20;
	cr_assert_eq(policy_floor_milli(&p, CAP), 400);
	/* 1 ms minimum quota at a 2 ms period is half a CPU */
	p.cpu_suppress_min_pct = 0;
	p.be_cfs_period_us = 2000;
	cr_assert_eq(policy_floor_milli(&p, CAP), 500);
	cr_assert_eq(policy_cfs_quota_us(750, 10000), 7500);
	cr_assert_eq(policy_cfs_quota_us(20, 10000), POLICY_CFS_MIN_US);
	cr_assert_eq(policy_cfs_quota_us(POLICY_UNLIMITED, 10000), POLICY_UNLIMITED);
}

Test(policy, cpuset_count_is_whole_cpus_rounded_up)
{
	cr_assert_eq(policy_cpuset_count(0, CAP), 1);
	cr_assert_eq(policy_cpuset_count(1, CAP), 1);
	cr_assert_eq(policy_cpuset_count(1000, CAP), 1);
	cr_assert_eq(policy_cpuset_count(1001, CAP), 2);
	cr_assert_eq(policy_cpuset_count(9000, CAP), 2);
	cr_assert_eq(policy_cpuset_count(POLICY_UNLIMITED, 64000), 64);
}

Test(policy, victims_lowest_priority_then_largest)
{
	struct policy_victim v[] = {
		{ .priority = 5, .mem_used_bytes = 4 * GIB },
		{ .priority = 1, .mem_used_bytes = 1 * GIB },
		{ .priority = 1, .mem_used_bytes = 3 * GIB },
		{ .priority = 9, .mem_used_bytes = 8 * GIB },
	};
	int idx[4];

	cr_assert_eq(policy_pick_victims(v, 4, 3 * GIB, idx, 4), 1);
	cr_assert_eq(idx[0], 2);
	cr_assert_eq(policy_pick_victims(v, 4, 5 * GIB, idx, 4), 3);
	cr_assert_eq(idx[0], 2);
	cr_assert_eq(idx[1], 1);
	cr_assert_eq(idx[2], 0);
	cr_assert_eq(policy_pick_victims(v, 4, 100 * GIB, idx, 4), 4);
	cr_assert_eq(policy_pick_victims(v, 4, 0, idx, 4), 0);
	cr_assert_eq(policy_pick_victims(NULL, 2, 1, idx, 4), -EINVAL);
}

/* ---- log line ------------------------------------------------------------ */

Test(policy, format_is_one_structured_line)
{
	struct policy_action a = {
		.kind = POLICY_BE_CPU_QUOTA, .reason = POLICY_R_LS_BREACH,
		.old_value = 1500, .new_value = 750, .bound = 1200,
		.measured = 3200, .unit = POLICY_U_US, .trigger_cgroup_id = 42,
	};
	char buf[256];
	int n;

	n = policy_action_format(&a, "/kubepods/besteffort", buf, sizeof(buf));
	cr_assert_str_eq(buf, "action=be_cpu_quota cgroup=/kubepods/besteffort old=1500m "
			 "new=750m bound=1200m reason=ls_breach measured=3200us trigger_cgid=42");
	cr_assert_eq(n, (int)strlen(buf));
	cr_assert_null(strchr(buf, '\n'));

	a = (struct policy_action){ .kind = POLICY_BE_MEMORY_HIGH,
		.reason = POLICY_R_MEM_THRESHOLD, .old_value = POLICY_UNLIMITED,
		.new_value = 1073741824, .measured = 725, .unit = POLICY_U_PERMILLE_PCT };
	policy_action_format(&a, "/be", buf, sizeof(buf));
	cr_assert_str_eq(buf, "action=be_memory_high cgroup=/be old=max new=1073741824 "
			 "reason=mem_over_threshold measured=72.5%");

	a = (struct policy_action){ .kind = POLICY_BE_CPU_QUOTA, .reason = POLICY_R_LS_P99,
		.old_value = 800, .new_value = 400, .bound = 600, .measured = 1350,
		.unit = POLICY_U_PERMILLE_RATIO };
	policy_action_format(&a, NULL, buf, sizeof(buf));
	cr_assert(strstr(buf, "cgroup=- ") && strstr(buf, "measured=1.35x"), "%s", buf);

	cr_assert_eq(policy_action_format(&a, "/be", buf, 16), -ENOSPC);
	cr_assert_eq(strlen(buf), 15, "truncated output stays terminated");
	a.kind = POLICY_ACTION_NR;
	cr_assert_eq(policy_action_format(&a, "/be", buf, sizeof(buf)), -EINVAL);
}

/* ---- CPU scenarios --------------------------------------------------------- */

Test(policy, first_tick_limits_unset_be_to_the_bound)
{
	struct sim *m = &sim_buf;
	struct policy_tick_input in;

	sim_init(m);
	in = quiet(m, 600, 400);
	cr_assert_eq(sim_tick(m, &in), 1);
	cr_assert_eq(m->log[0].a.kind, POLICY_BE_CPU_QUOTA);
	cr_assert_eq(m->log[0].a.old_value, POLICY_UNLIMITED);
	cr_assert_eq(m->log[0].a.new_value, 600);
	cr_assert_eq(m->log[0].a.reason, POLICY_R_SUPPRESS_BOUND);
	cr_assert_eq(m->log[0].a.measured, 700, "measured = LS + system used");
}

Test(policy, be_burst_is_cut_at_once_and_once_per_guard)
{
	struct sim *m = &sim_buf;
	int i, cuts = 0;

	sim_init(m);
	run_quiet(m, 60, 200);		/* BE settled at its bound: 1300 - 300 */
	cr_assert_eq(m->s.allowed_milli, 1000);
	m->nlog = 0;

	/* a burst of 40 breach events within 40 ms: one cut, right away */
	for (i = 0; i < 40; i++) {
		int r = sim_breach(m, 3200);

		if (i == 0)
			cr_assert_eq(r, 1, "the first breach must cut within the call");
		cuts += r;
		m->now += 1;
	}
	cr_assert_eq(cuts, 1);
	cr_assert_eq(m->log[0].a.old_value, 1000);
	cr_assert_eq(m->log[0].a.new_value, 500);
	cr_assert_eq(m->log[0].a.reason, POLICY_R_LS_BREACH);
	cr_assert_eq(m->log[0].a.measured, 3200);
	cr_assert_eq(m->log[0].a.trigger_cgroup_id, 4242);

	/* the breach continues past the guard: cut again, down to the floor only */
	for (i = 0; i < 50; i++) {
		m->now += m->p.breach_guard_ms;
		sim_breach(m, 3200);
		assert_cpu_in_range(m);
	}
	cr_assert_eq(m->s.allowed_milli, policy_floor_milli(&m->p, CAP));
	cr_assert_lt(m->nlog, 10, "cuts stop at the floor: %d actions", m->nlog);
}

Test(policy, tick_does_not_cut_twice_for_answered_breaches)
{
	struct sim *m = &sim_buf;
	struct policy_tick_input in;

	sim_init(m);
	run_quiet(m, 60, 200);
	m->now += 300;
	cr_assert_eq(sim_breach(m, 2500), 1);
	cr_assert_eq(m->s.allowed_milli, 500);
	m->now += 700;
	in = quiet(m, 200, 1400);
	in.ls_breaches = 12;		/* the same breaches, seen by the tick */
	sim_tick(m, &in);
	cr_assert_eq(m->s.allowed_milli, 500, "already answered by the event");

	/* breaches the ring buffer lost: the tick cuts itself */
	m->now += 1000;
	in = quiet(m, 200, 1400);
	in.ls_breaches = 5;
	cr_assert_eq(sim_tick(m, &in), 1);
	cr_assert_eq(m->s.allowed_milli, 250);
	cr_assert_eq(m->log[m->nlog - 1].a.reason, POLICY_R_LS_P99);
	cr_assert_eq(m->log[m->nlog - 1].a.measured, 1400);

	/* and again on the next tick while it lasts, down to the floor */
	m->now += 1000;
	in = quiet(m, 200, 1400);
	in.ls_breaches = 5;
	cr_assert_eq(sim_tick(m, &in), 1);
	cr_assert_eq(m->s.allowed_milli, 125);
	m->now += 1000;
	in = quiet(m, 200, 0);
	in.ls_breaches = 3;		/* no p99 yet: the count is the measure */
	cr_assert_eq(sim_tick(m, &in), 1);
	cr_assert_eq(m->s.allowed_milli, policy_floor_milli(&m->p, CAP));
	cr_assert_eq(m->log[m->nlog - 1].a.measured, 3);
	cr_assert_eq(m->log[m->nlog - 1].a.unit, POLICY_U_COUNT);
}

Test(policy, recovery_grows_back_to_the_bound_in_bounded_time)
{
	struct sim *m = &sim_buf;
	uint64_t floor, bound = 1000, prev, t0, step;
	int i, secs;

	sim_init(m);
	run_quiet(m, 30, 200);
	for (i = 0; i < 10; i++) {
		sim_breach(m, 5000);
		m->now += 200;
	}
	floor = policy_floor_milli(&m->p, CAP);
	cr_assert_eq(m->s.allowed_milli, floor);

	t0 = m->now;
	prev = m->s.allowed_milli;
	step = CAP * m->p.ai_step_pct / 100;
	/* hold + (bound - floor) / step ticks, plus two ticks of slack */
	secs = m->p.healthy_hold_ms / 1000 + (int)((bound - floor + step - 1) / step) + 2;
	for (i = 0; i < 120 && m->s.allowed_milli < bound; i++) {
		run_quiet(m, 1, 200);
		cr_assert_geq(m->s.allowed_milli, prev, "no cut while healthy");
		cr_assert_leq(m->s.allowed_milli - prev, step, "additive steps only");
		cr_assert_leq(m->s.allowed_milli, bound, "never above the bound");
		prev = m->s.allowed_milli;
	}
	cr_assert_eq(m->s.allowed_milli, bound);
	cr_assert_leq(m->now - t0, (uint64_t)secs * 1000, "took %lu ms, bound %d s",
		      (unsigned long)(m->now - t0), secs);
	cr_assert_geq(m->now - t0, m->p.healthy_hold_ms, "must hold before growing");
}

Test(policy, idle_ls_gives_its_cpu_back_to_be)
{
	struct sim *m = &sim_buf;
	uint64_t target;
	int i;

	sim_init(m);
	run_quiet(m, 30, 1000);		/* busy LS: bound 1300 - 1100 = 200 */
	cr_assert_eq(m->s.allowed_milli, 200);
	/* LS goes idle: the bound becomes 2000 x 65% - 0 - 100 */
	target = CAP * 65 / 100 - 100;
	for (i = 0; i < 60 && m->s.allowed_milli < target; i++)
		run_quiet(m, 1, 0);
	cr_assert_eq(m->s.allowed_milli, target, "BE got %lu of %lu",
		     (unsigned long)m->s.allowed_milli, (unsigned long)target);
	/* bound_window + (target - 200) / step + slack */
	cr_assert_leq(i, 10 + 10 + 3, "took %d s", i);
	run_quiet(m, 30, 0);
	cr_assert_eq(m->s.allowed_milli, target, "stays at the bound, never above");
}

Test(policy, ls_step_up_cuts_to_the_bound_in_the_same_tick)
{
	struct sim *m = &sim_buf;
	struct policy_tick_input in;

	sim_init(m);
	run_noisy(m, 120, 3, 0);	/* noisy history widens the deadband */
	run_quiet(m, 30, 200);
	cr_assert_eq(m->s.allowed_milli, 1000);
	m->nlog = 0;
	in = quiet(m, 900, 400);	/* LS ramps up: bound 1300 - 1000 = 300 */
	cr_assert_eq(sim_tick(m, &in), 1);
	cr_assert_eq(m->log[0].a.new_value, 300);
	cr_assert_eq(m->log[0].a.reason, POLICY_R_SUPPRESS_BOUND);
	cr_assert_eq(m->log[0].a.measured, 1000);
}

Test(policy, ls_close_to_target_holds_be_where_it_is)
{
	struct sim *m = &sim_buf;
	struct policy_tick_input in;
	uint64_t before;
	int i;

	sim_init(m);
	run_quiet(m, 30, 200);
	sim_breach(m, 3000);
	before = m->s.allowed_milli;
	for (i = 0; i < 30; i++) {
		m->now += 1000;
		in = quiet(m, 200, 950);	/* 95% of the target: no growth */
		sim_tick(m, &in);
	}
	cr_assert_eq(m->s.allowed_milli, before);
}

Test(policy, steady_noisy_load_does_not_oscillate)
{
	struct sim *m = &sim_buf;
	uint32_t seed;

	for (seed = 1; seed <= 20; seed++) {
		sim_init(m);
		run_noisy(m, 600, seed, 0);
		cr_assert_leq(max_reversals_per_minute(m), 6, "seed %u: %d reversals/min",
			      seed, max_reversals_per_minute(m));
		/* and it is not frozen low: BE holds at least the bound at LS peak */
		cr_assert_geq(m->s.allowed_milli, 1300 - 900 - 150 - 2 * CAP / 100,
			      "seed %u: allowance %lu", seed,
			      (unsigned long)m->s.allowed_milli);
	}
}

Test(policy, occasional_breaches_bound_reversals)
{
	struct sim *m = &sim_buf;
	uint32_t seed;
	int cuts, i;

	for (seed = 1; seed <= 10; seed++) {
		sim_init(m);
		run_noisy(m, 600, seed, 30);
		cr_assert_leq(max_reversals_per_minute(m), 6, "seed %u: %d reversals/min",
			      seed, max_reversals_per_minute(m));
		for (cuts = 0, i = 0; i < m->nlog; i++)
			cuts += m->log[i].a.reason == POLICY_R_LS_BREACH;
		cr_assert_geq(cuts, 15, "seed %u: breaches must still cut (%d)", seed, cuts);
	}
}

Test(policy, cpuset_policy_moves_in_whole_cpus)
{
	struct sim *m = &sim_buf;
	int i;

	sim_init(m);
	m->p.suppress_policy = POLICY_SUPPRESS_CPUSET;
	policy_init(&m->s, &m->p, CAP);
	run_quiet(m, 30, 0);		/* bound 1200: 2 CPUs */
	cr_assert_eq(m->s.cpus, 2);
	sim_breach(m, 4000);		/* 600m: 1 CPU */
	cr_assert_eq(m->log[m->nlog - 1].a.kind, POLICY_BE_CPUSET_CPUS);
	cr_assert_eq(m->log[m->nlog - 1].a.old_value, 2);
	cr_assert_eq(m->log[m->nlog - 1].a.new_value, 1);
	for (i = 0; i < 20; i++) {
		m->now += 200;
		sim_breach(m, 4000);
	}
	cr_assert_eq(m->s.cpus, 1, "never below one CPU");
	run_quiet(m, 60, 0);
	cr_assert_eq(m->s.cpus, 2);
	for (i = 0; i < m->nlog; i++) {
		cr_assert_eq(m->log[i].a.kind, POLICY_BE_CPUSET_CPUS);
		if (m->log[i].a.new_value != POLICY_UNLIMITED)
			cr_assert(m->log[i].a.new_value >= 1 && m->log[i].a.new_value <= 2);
	}
}

Test(policy, feedback_off_is_plain_koordinator_suppress)
{
	struct sim *m = &sim_buf;

	sim_init(m);
	m->p.latency_feedback = false;
	run_quiet(m, 30, 200);
	cr_assert_eq(sim_breach(m, 9000), 0);
	cr_assert_eq(m->s.allowed_milli, 1000);
}

Test(policy, random_inputs_stay_within_floor_and_capacity)
{
	struct sim *m = &sim_buf;
	uint32_t x = 7;
	int i;

	sim_init(m);
	for (i = 0; i < 20000; i++) {
		struct policy_tick_input in = quiet(m, lcg(&x) % 3000, lcg(&x) % 3000);

		in.system_used_milli = lcg(&x) % 800;
		in.ls_breaches = lcg(&x) % 4 == 0;
		in.node_mem_used_bytes = (uint64_t)(lcg(&x) % 1000) * 24 * GIB / 1000;
		in.be_mem_used_bytes = (uint64_t)(lcg(&x) % 1000) * 8 * GIB / 1000;
		in.ls_reclaim_stall_ms = lcg(&x) % 40;
		if (lcg(&x) % 3 == 0)
			sim_breach(m, lcg(&x) % 10000);
		else
			sim_tick(m, &in);
		assert_cpu_in_range(m);
		cr_assert(m->s.be_mem_high == POLICY_UNLIMITED ||
			  m->s.be_mem_high >= m->p.mem_high_min_bytes);
		m->now += lcg(&x) % 1500;
		if (m->nlog > MAX_LOG - 8)
			m->nlog = 0;
	}
}

/* ---- memory scenarios ------------------------------------------------------ */

static struct policy_tick_input mem_in(const struct sim *m, uint64_t used_permille,
				       uint64_t be_bytes)
{
	struct policy_tick_input in = quiet(m, 200, 400);

	in.node_mem_used_bytes = 24 * GIB * used_permille / 1000;
	in.be_mem_used_bytes = be_bytes;
	return in;
}

/* Actions logged of this kind and reason (-1: any). */
static int count_acts(const struct sim *m, int kind, int reason)
{
	int i, n = 0;

	for (i = 0; i < m->nlog; i++)
		n += (kind < 0 || (int)m->log[i].a.kind == kind) &&
		     (reason < 0 || (int)m->log[i].a.reason == reason);
	return n;
}

static int count_kind(const struct sim *m, enum policy_action_kind kind)
{
	return count_acts(m, (int)kind, -1);
}

Test(policy, memory_pressure_lowers_high_then_evicts)
{
	struct sim *m = &sim_buf;
	struct policy_tick_input in;
	const struct policy_action *a;
	uint64_t need;
	int i;

	sim_init(m);
	run_quiet(m, 5, 200);
	m->nlog = 0;

	/* 75% used, threshold 70%, lower 68%: release 7% of 24 GiB from BE's 6 GiB */
	in = mem_in(m, 750, 6 * GIB);
	cr_assert_eq(sim_tick(m, &in), 1);
	a = &m->log[0].a;
	need = in.node_mem_used_bytes - 24 * GIB * 68 / 100;
	cr_assert_eq(a->kind, POLICY_BE_MEMORY_HIGH);
	cr_assert_eq(a->reason, POLICY_R_MEM_THRESHOLD);
	cr_assert_eq(a->old_value, POLICY_UNLIMITED);
	cr_assert_eq(a->new_value, 6 * GIB - need);
	cr_assert_eq(a->measured, 750);

	/* memory.high does not help (BE memory is not reclaimable): evict after N ticks */
	for (i = 1; i <= (int)m->p.evict_after_ticks; i++) {
		m->now += 1000;
		in = mem_in(m, 750, 6 * GIB - need);
		sim_tick(m, &in);
		if (i < (int)m->p.evict_after_ticks)
			cr_assert_eq(count_kind(m, POLICY_BE_EVICT), 0,
				     "evicted too early (%d)", i);
	}
	cr_assert_eq(count_kind(m, POLICY_BE_EVICT), 1);
	a = &m->log[m->nlog - 1].a;
	cr_assert_eq(a->kind, POLICY_BE_EVICT);
	cr_assert_eq(a->reason, POLICY_R_MEM_EVICT);
	cr_assert_eq(a->bound, need, "release what Koordinator would: used - lower");

	/* still over: no second eviction within the cooldown */
	for (i = 0; i < (int)(m->p.evict_cooldown_ms / 1000) - 1; i++) {
		m->now += 1000;
		in = mem_in(m, 750, 6 * GIB - need);
		sim_tick(m, &in);
	}
	cr_assert_eq(count_kind(m, POLICY_BE_EVICT), 1);
	m->now += 2000;
	in = mem_in(m, 750, 6 * GIB - need);
	sim_tick(m, &in);
	cr_assert_eq(count_kind(m, POLICY_BE_EVICT), 2, "evicts again after the cooldown");
}

Test(policy, memory_high_released_when_healthy)
{
	struct sim *m = &sim_buf;
	struct policy_tick_input in;
	uint64_t low, prev;
	int i;

	sim_init(m);
	in = mem_in(m, 750, 6 * GIB);
	sim_tick(m, &in);
	low = m->s.be_mem_high;
	cr_assert_neq(low, POLICY_UNLIMITED);

	/* between lower and threshold: neither tightened nor released */
	for (i = 0; i < 60; i++) {
		m->now += 1000;
		in = mem_in(m, 690, 4 * GIB);
		sim_tick(m, &in);
	}
	cr_assert_eq(m->s.be_mem_high, low);

	/* well below: released in steps after the hold, then back to max */
	prev = low;
	for (i = 0; i < 300 && m->s.be_mem_high != POLICY_UNLIMITED; i++) {
		m->now += 1000;
		in = mem_in(m, 400, 4 * GIB);
		sim_tick(m, &in);
		cr_assert_geq(m->s.be_mem_high, prev, "release never lowers");
		prev = m->s.be_mem_high;
	}
	cr_assert_eq(m->s.be_mem_high, POLICY_UNLIMITED);
	cr_assert_eq(m->log[m->nlog - 1].a.reason, POLICY_R_MEM_HEALTHY);
	cr_assert_eq(count_kind(m, POLICY_BE_EVICT), 0);
}

Test(policy, ls_reclaim_stall_lowers_high_but_never_evicts)
{
	struct sim *m = &sim_buf;
	struct policy_tick_input in;
	int i;

	sim_init(m);
	run_quiet(m, 5, 200);
	m->nlog = 0;
	in = mem_in(m, 500, 4 * GIB);
	in.ls_reclaim_stall_ms = 50;
	cr_assert_eq(sim_tick(m, &in), 1);
	cr_assert_eq(m->log[0].a.kind, POLICY_BE_MEMORY_HIGH);
	cr_assert_eq(m->log[0].a.reason, POLICY_R_RECLAIM_STALL);
	cr_assert_eq(m->log[0].a.new_value, 4 * GIB - 4 * GIB / 10);
	cr_assert_eq(m->log[0].a.measured, 50);

	for (i = 0; i < 100; i++) {
		m->now += 1000;
		in = mem_in(m, 500, m->s.be_mem_high);
		in.ls_reclaim_stall_ms = 50;
		sim_tick(m, &in);
		cr_assert_geq(m->s.be_mem_high, m->p.mem_high_min_bytes);
	}
	cr_assert_eq(m->s.be_mem_high, m->p.mem_high_min_bytes, "down to the minimum");
	cr_assert_eq(count_kind(m, POLICY_BE_EVICT), 0, "a stall alone does not evict");
}

Test(policy, no_be_memory_means_no_memory_action)
{
	struct sim *m = &sim_buf;
	struct policy_tick_input in;
	int i;

	sim_init(m);
	for (i = 0; i < 30; i++) {
		in = mem_in(m, 900, 0);
		sim_tick(m, &in);
		m->now += 1000;
	}
	cr_assert_eq(count_kind(m, POLICY_BE_MEMORY_HIGH), 0);
	cr_assert_eq(count_kind(m, POLICY_BE_EVICT), 0);
}

Test(policy, bad_arguments_are_rejected)
{
	struct policy_params p;
	struct policy_state s;
	struct policy_tick_input in = { .capacity_milli = CAP };
	struct policy_action out[POLICY_TICK_MAX_ACTIONS];
	struct policy_breach b = { 0 };

	policy_params_default(&p);
	policy_init(&s, &p, CAP);
	cr_assert_eq(policy_tick(&p, &s, &in, out, 1), -EINVAL);
	cr_assert_eq(policy_tick(&p, &s, NULL, out, 2), -EINVAL);
	in.capacity_milli = 0;
	cr_assert_eq(policy_tick(&p, &s, &in, out, 2), -EINVAL);
	cr_assert_eq(policy_on_breach(&p, &s, &b, NULL), -EINVAL);
	policy_init(&s, &p, 0);
	cr_assert_eq(policy_on_breach(&p, &s, &b, out), -EINVAL);
}

/* ---- cuts judged by their effect ----------------------------------------- */

#define JUDGED_LS	4242

/* One LS cgroup's tick: waits, breaches (any cause, BE's) and p99 / target. */
static struct policy_ls ls_tick(uint64_t samples, uint64_t all, uint64_t be, uint32_t p99)
{
	return (struct policy_ls) { JUDGED_LS, samples, all, be, p99 };
}

/* A tick with LS using 200m (bound 1000m) and one LS cgroup as given. */
static int judged_tick(struct sim *m, const struct policy_ls *l)
{
	struct policy_tick_input in = quiet(m, 200, 0);

	in.ls = l;
	in.nr_ls = 1;
	in.have_ls = true;
	return sim_tick(m, &in);
}

/* A breach event of the judged cgroup over a 50 ms window of 100 waits. */
static int judged_breach(struct sim *m, uint64_t all, uint64_t be)
{
	struct policy_breach b = {
		.ls_cgroup_id = JUDGED_LS, .latency_ns = 3000000, .now_ms = m->now,
		.samples = 100, .breaches = all, .breaches_be = be,
	};

	return sim_on_breach(m, &b);
}

static int count_reason(const struct sim *m, enum policy_reason r)
{
	return count_acts(m, -1, (int)r);
}

static int count_cuts(const struct sim *m)
{
	return count_reason(m, POLICY_R_LS_BREACH) + count_reason(m, POLICY_R_LS_P99);
}

/*
 * The LS is late on its own (20% of its waits breach, p99 3x its target,
 * whatever BE gets) while BE is blamed for a quarter of it: BE settled at
 * its 1000m bound, then a breach event.
 */
static void self_late_ls_cut(struct sim *m)
{
	struct policy_ls l = ls_tick(2000, 400, 100, 3000);
	int i;

	sim_init(m);
	run_quiet(m, 60, 200);
	cr_assert_eq(m->s.allowed_milli, 1000);
	m->nlog = 0;
	m->now += 500;
	cr_assert_eq(judged_breach(m, 20, 5), 1);
	cr_assert_eq(m->s.judge.cgid, JUDGED_LS);
	cr_assert_eq(m->s.judge.pre_milli, 1000);
	cr_assert_eq(m->s.judge.before_ppm, 200000);
	/* the ticks see the same LS: they cut on to the floor, one episode */
	for (i = 0; i < 10 && m->s.allowed_milli > policy_floor_milli(&m->p, CAP); i++) {
		m->now += 1000;
		judged_tick(m, &l);
	}
	cr_assert_eq(m->s.allowed_milli, policy_floor_milli(&m->p, CAP));
	cr_assert_eq(m->s.nr_verdicts, 0, "no verdict while the cuts go on");
}

/* The same, then the ticks until the verdict, the LS no better. */
static void self_late_ls_judged(struct sim *m)
{
	struct policy_ls l = ls_tick(2000, 400, 100, 3000);
	int i;

	self_late_ls_cut(m);
	for (i = 0; i < 4 && !m->s.nr_verdicts; i++) {
		m->now += 1000;
		judged_tick(m, &l);
	}
}

Test(policy, a_cut_that_did_not_help_is_given_back_within_the_window)
{
	struct sim *m = &sim_buf;
	struct policy_ls l = ls_tick(2000, 400, 100, 3000);
	uint64_t last_cut;
	int cuts, i;

	self_late_ls_cut(m);
	cuts = count_cuts(m);
	last_cut = m->s.last_cut_ms;
	for (i = 0; i < 4 && !m->s.nr_verdicts; i++) {
		m->now += 1000;
		judged_tick(m, &l);
	}
	cr_assert_eq(m->s.nr_verdicts, 1);
	cr_assert_eq(m->s.verdict.verdict, POLICY_V_NO_EFFECT);
	cr_assert_eq(m->s.verdict.nr_cuts, (uint32_t)cuts);
	cr_assert_eq(m->s.verdict.after_ppm, 200000);
	cr_assert_eq(m->s.nr_judged[POLICY_V_NO_EFFECT], (uint64_t)cuts);
	cr_assert_eq(m->s.nr_judged[POLICY_V_HELPED], 0);
	/* given back at once, all of it, in the verdict's tick */
	cr_assert_eq(m->log[m->nlog - 1].a.reason, POLICY_R_CUT_NO_EFFECT);
	cr_assert_eq(m->log[m->nlog - 1].a.new_value, 1000);
	cr_assert_eq(m->log[m->nlog - 1].a.trigger_cgroup_id, JUDGED_LS);
	cr_assert_eq(m->s.allowed_milli, 1000);
	cr_assert_leq(m->now - last_cut, m->p.judge_window_ms + 1000,
		      "judged within a tick of the window");
	cr_assert_lt(m->now - last_cut, m->p.healthy_hold_ms,
		     "sooner than the healthy hold would even start regrowth");
	/* the evidence BE's blame needs is twice what the LS showed alone */
	cr_assert_eq(policy_distrust_ppm(&m->s, JUDGED_LS, m->now), 400000);
}

Test(policy, after_no_effect_the_same_breaches_need_stronger_evidence)
{
	struct sim *m = &sim_buf;
	struct policy_ls l = ls_tick(2000, 400, 100, 3000);
	int i;

	self_late_ls_judged(m);
	cr_assert_eq(m->s.verdict.verdict, POLICY_V_NO_EFFECT);
	m->nlog = 0;
	/* 30 s of the same: events and ticks cut nothing; BE keeps its bound */
	for (i = 0; i < 30; i++) {
		m->now += 400;
		cr_assert_eq(judged_breach(m, 20, 5), 0, "event %d cut", i);
		m->now += 600;
		judged_tick(m, &l);
	}
	cr_assert_eq(count_cuts(m), 0);
	cr_assert_eq(m->s.allowed_milli, 1000);
	/* BE really hurting it (BE blamed for 60% of the waits) still cuts */
	cr_assert_eq(judged_breach(m, 70, 60), 1);
}

Test(policy, stronger_evidence_returns_to_normal_after_a_while)
{
	struct sim *m = &sim_buf;
	struct policy_ls calm = ls_tick(2000, 2, 0, 500);
	int i;

	self_late_ls_judged(m);
	cr_assert_neq(policy_distrust_ppm(&m->s, JUDGED_LS, m->now), 0);
	for (i = 0; i < 61; i++) {
		m->now += 1000;
		judged_tick(m, &calm);
	}
	cr_assert_eq(policy_distrust_ppm(&m->s, JUDGED_LS, m->now), 0);
	cr_assert_eq(judged_breach(m, 20, 5), 1, "normal evidence cuts again");
}

Test(policy, a_cut_that_helped_is_judged_so_and_clears_the_distrust)
{
	struct sim *m = &sim_buf;
	struct policy_ls better = ls_tick(2000, 4, 0, 600);
	uint64_t allowed;
	int i;

	self_late_ls_judged(m);
	cr_assert_neq(policy_distrust_ppm(&m->s, JUDGED_LS, m->now), 0);
	/* BE starts hurting for real: strong evidence cuts, and the LS recovers */
	m->now += 300;
	cr_assert_eq(judged_breach(m, 70, 60), 1);
	allowed = m->s.allowed_milli;
	for (i = 0; i < 4 && m->s.nr_verdicts < 2; i++) {
		m->now += 1000;
		judged_tick(m, &better);
	}
	cr_assert_eq(m->s.nr_verdicts, 2);
	cr_assert_eq(m->s.verdict.verdict, POLICY_V_HELPED);
	cr_assert_eq(m->s.nr_judged[POLICY_V_HELPED], 1);
	cr_assert_eq(m->s.verdict.before_ppm, 700000);
	cr_assert_eq(m->s.verdict.after_ppm, 2000);
	cr_assert_eq(m->s.allowed_milli, allowed, "a cut that helped stays");
	cr_assert_eq(count_reason(m, POLICY_R_CUT_NO_EFFECT), 1);
	cr_assert_eq(policy_distrust_ppm(&m->s, JUDGED_LS, m->now), 0,
		     "BE was to blame after all: evidence back to normal");
}

Test(policy, a_tail_back_within_target_is_help_even_if_density_did_not_halve)
{
	struct sim *m = &sim_buf;
	struct policy_ls within = ls_tick(2000, 30, 0, 900);
	int i;

	sim_init(m);
	run_quiet(m, 60, 200);
	m->now += 500;
	cr_assert_eq(judged_breach(m, 2, 4), 1);	/* 2% before, 1.5% after */
	for (i = 0; i < 4 && !m->s.nr_verdicts; i++) {
		m->now += 1000;
		judged_tick(m, &within);
	}
	cr_assert_eq(m->s.verdict.verdict, POLICY_V_HELPED);
}

/*
 * A burst of 3 late waits in 100 sets off a cut while the second before,
 * BE running through it, had 0.5% of its waits late: the cut is judged
 * against both together, and 0.5% after it is no help. Against the burst
 * alone (3%) a quarter of it and a p99 within target read as help.
 */
Test(policy, a_burst_in_a_healthy_second_is_not_cured_by_the_cut)
{
	struct sim *m = &sim_buf;
	struct policy_ls same = ls_tick(2000, 10, 6, 800);
	struct policy_breach b = {
		.ls_cgroup_id = JUDGED_LS, .latency_ns = 3000000, .samples = 100,
		.breaches = 3, .breaches_be = 3, .base_samples = 2000, .base_breaches = 10,
	};
	int i;

	sim_init(m);
	run_quiet(m, 60, 200);
	m->now += 500;
	b.now_ms = m->now;
	cr_assert_eq(sim_on_breach(m, &b), 1, "the burst cuts");
	cr_assert_eq(m->s.judge.before_ppm, 6190, "13 of 2100 waits");
	for (i = 0; i < 4 && !m->s.nr_verdicts; i++) {
		m->now += 1000;
		judged_tick(m, &same);
	}
	cr_assert_eq(m->s.nr_verdicts, 1);
	cr_assert_eq(m->s.verdict.verdict, POLICY_V_NO_EFFECT);
	cr_assert_eq(m->s.allowed_milli, 1000, "given back");
	/* 0.5% with BE cut: the next burst needs twice the normal 2%, not 2% */
	cr_assert_eq(policy_distrust_ppm(&m->s, JUDGED_LS, m->now), 40000);
	m->now += 300;
	b.now_ms = m->now;
	cr_assert_eq(sim_on_breach(m, &b), 0, "the same burst cuts no more");

	/* the same cut against the burst alone */
	b.base_samples = b.base_breaches = 0;
	sim_init(m);
	run_quiet(m, 60, 200);
	m->now += 500;
	b.now_ms = m->now;
	cr_assert_eq(sim_on_breach(m, &b), 1);
	cr_assert_eq(m->s.judge.before_ppm, 30000);
	for (i = 0; i < 4 && !m->s.nr_verdicts; i++) {
		m->now += 1000;
		judged_tick(m, &same);
	}
	cr_assert_eq(m->s.verdict.verdict, POLICY_V_HELPED);
}

/*
 * The demo's nginx near its budget: 3 breaches of 124 waits in a 50 ms
 * window is 2.4%, over twice the budget, and a chance of 13% for an LS at
 * its 1% budget. Right after BE starts: 3 of 3.
 */
Test(policy, a_breach_event_is_evidence_only_beyond_chance)
{
	cr_assert_eq(policy_breach_evidence(3, 124), POLICY_EV_CHANCE, "a burst near the budget");
	cr_assert_eq(policy_breach_evidence(6, 124), POLICY_EV_CHANCE);
	cr_assert_eq(policy_breach_evidence(7, 124), POLICY_EV_BEYOND);
	cr_assert_eq(policy_breach_evidence(3, 3), POLICY_EV_BEYOND, "BE starts: every wait late");
	cr_assert_eq(policy_breach_evidence(4, 40), POLICY_EV_CHANCE);
	cr_assert_eq(policy_breach_evidence(5, 40), POLICY_EV_BEYOND);
	cr_assert_eq(policy_breach_evidence(2, 2), POLICY_EV_NONE,
		     "fewer than three is never a signal");
	cr_assert_eq(policy_breach_evidence(20, 1000), POLICY_EV_NONE,
		     "2% of a big window is not over twice");
	cr_assert_eq(policy_breach_evidence(40, 1000), POLICY_EV_BEYOND);
	cr_assert_eq(policy_breach_evidence(5000, 100000), POLICY_EV_BEYOND,
		     "no underflow to a wrong answer");
	cr_assert_eq(policy_breach_evidence(0, 0), POLICY_EV_NONE);
}

/*
 * A tick's LS p99 over its target cuts only when BE is blamed for more
 * than the budget of its waits: one BE breach among 140 waits (the first
 * tick of a starting LS, its tail its own) does not cut; five do.
 */
Test(policy, a_tail_over_target_cuts_only_when_be_is_blamed_beyond_the_budget)
{
	struct sim *m = &sim_buf;
	struct policy_ls own = ls_tick(140, 8, 1, 1344), be = ls_tick(140, 8, 5, 1344);

	sim_init(m);
	run_quiet(m, 60, 200);
	cr_assert_eq(m->s.allowed_milli, 1000);
	m->nlog = 0;
	m->now += 1000;
	judged_tick(m, &own);
	cr_assert_eq(count_cuts(m), 0, "the LS's own tail");
	m->now += 1000;
	judged_tick(m, &be);
	cr_assert_eq(count_reason(m, POLICY_R_LS_P99), 1, "BE's");
	cr_assert_eq(m->s.allowed_milli, 500);
}

Test(policy, judging_off_keeps_the_plain_loop)
{
	struct sim *m = &sim_buf;
	struct policy_ls l = ls_tick(2000, 400, 100, 3000);
	int i;

	sim_init(m);
	m->p.judge_window_ms = 0;
	run_quiet(m, 60, 200);
	m->now += 500;
	cr_assert_eq(judged_breach(m, 20, 5), 1);
	for (i = 0; i < 30; i++) {
		m->now += 1000;
		judged_tick(m, &l);
	}
	cr_assert_eq(m->s.nr_verdicts, 0);
	cr_assert_eq(count_reason(m, POLICY_R_CUT_NO_EFFECT), 0);
	cr_assert_eq(m->s.allowed_milli, policy_floor_milli(&m->p, CAP),
		     "without verdicts BE stays at the floor while LS is late");
}

Test(policy, verdict_is_one_structured_line)
{
	struct policy_verdict v = {
		.cgid = 7, .verdict = POLICY_V_NO_EFFECT, .nr_cuts = 4, .before_ppm = 125000,
		.after_ppm = 119000, .after_p99_milli = 3100, .need_ppm = 238000,
	};
	char buf[256];

	cr_assert_gt(policy_verdict_format(&v, "/ls", buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "verdict=no_effect ls=/ls ls_cgid=7 cuts=4 density_before=12.50% "
			 "density_after=11.90% p99_after=3.10x need=23.80%");
	v.verdict = POLICY_V_HELPED;
	cr_assert_gt(policy_verdict_format(&v, NULL, buf, sizeof(buf)), 0);
	cr_assert(strstr(buf, "verdict=helped ls=- ") && !strstr(buf, "need="), "%s", buf);
	cr_assert_eq(policy_verdict_format(&v, "/ls", buf, 8), -ENOSPC);
	cr_assert_str_eq(policy_reason_name(POLICY_R_CUT_NO_EFFECT), "cut_no_effect");
}
