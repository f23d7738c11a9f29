// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "decide.h"

/* Pod-level CFS period for a BE pod's own quota: the kernel's default, as kubelet uses. */
#define POD_CFS_PERIOD_US	100000ULL

bool quota_lower(long long a, uint64_t pa, long long b, uint64_t pb)
{
	if (a < 0)
		return false;
	if (b < 0)
		return true;
	return (unsigned __int128)a * pb < (unsigned __int128)b * pa;
}

static int add_knob(struct decision *d, int cg, enum knob_kind kind,
		    long long value, uint64_t period_us)
{
	struct knob *n;
	int i;

	/*
	 * two wishes for one knob (static and dynamic memory.high; a BE pod
	 * that is a BE top: its own quota and its share of the allowance): the
	 * lower. knobs() adds a cgroup's knobs together, so only the run at the
	 * end can hold it: a whole-list search was quadratic in the pods.
	 */
	for (i = d->nr_knobs - 1; i >= 0 && d->knobs[i].cg == cg; i--) {
		n = &d->knobs[i];
		if (n->kind != kind)
			continue;
		if (kind == KNOB_CPU_QUOTA) {
			if (quota_lower(value, period_us, n->value, n->period_us))
				*n = (struct knob) { cg, kind, value, period_us };
			return 0;
		}
		if (value >= 0 && (n->value < 0 || value < n->value))
			n->value = value;
		return 0;
	}
	if (d->nr_knobs == d->cap_knobs) {
		int cap = d->cap_knobs ? 2 * d->cap_knobs : 32;

		n = realloc(d->knobs, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		d->knobs = n;
		d->cap_knobs = cap;
	}
	d->knobs[d->nr_knobs++] = (struct knob) { cg, kind, value, period_us };
	return 0;
}

static void decision_reset(struct decision *d)
{
	d->nr_knobs = 0;
	d->nr_acts = 0;
	d->nr_evict = 0;
	d->cpu_only = false;
	d->has_verdict = false;
}

void decision_free(struct decision *d)
{
	free(d->knobs);
	free(d->ls);
	memset(d, 0, sizeof(*d));
}

int decide_idle_holder(const struct track *t, int c)
{
	return t->v[c].kubelet ? t->v[c].pod_of : t->v[c].top_of;
}

/*
 * A BE pod gets cpu.idle once kubelet's creation writes are behind it (an
 * earlier scan found it) and while a container runs in it: kubelet's
 * cleanup writes cpu.shares=2 to a pod whose containers are gone
 * (ReduceCPULimits), which the kernel refuses in an idle group.
 */
static bool idle_wanted(const struct track *t, int i)
{
	const struct tracked *c = &t->v[i];

	if (c->cls != COLOD_CLASS_BE)
		return false;
	if (!c->kubelet)
		return c->top;
	return c->is_pod && c->scan_gen < t->scan_gen && c->nr_below > 0;
}

static int static_knobs(const struct decide_params *dp, const struct track *t,
			int i, struct decision *d)
{
	const struct tracked *c = &t->v[i];
	struct policy_static_qos q;
	int err = 0;

	policy_static_qos(dp->p, c->cls, dp->caps,
			  c->mem_limit < 0 ? 0 : (uint64_t)c->mem_limit,
			  c->mem_request_bytes, &q);
	if (q.cpu_idle == 1 && idle_wanted(t, i))
		err = add_knob(d, i, KNOB_CPU_IDLE, 1, 0);
	/*
	 * BE's slice is journaled once per top (a restore walks its tree);
	 * threads get it in the cgroups whose own threads ran in the last
	 * tick, the only ones that can be in LS's way: a walk of every BE
	 * tree at every tick cost 1.1% of a core with 2,000 cgroups.
	 */
	if (q.slice_ns && c->cpu_milli)
		err = err ?: add_knob(d, i, KNOB_SCHED_SLICE_THREADS, (long long)q.slice_ns, 0);
	if (!c->top)
		return err;
	if (q.slice_ns)
		err = err ?: add_knob(d, i, KNOB_SCHED_SLICE, (long long)q.slice_ns, 0);
	/* kubelet and the runtime own shares and weight in their layout */
	if (!c->kubelet && q.cpu_shares)
		err = err ?: add_knob(d, i, KNOB_CPU_SHARES, (long long)q.cpu_shares, 0);
	if (!c->kubelet && q.cpu_weight)
		err = err ?: add_knob(d, i, KNOB_CPU_WEIGHT, (long long)q.cpu_weight, 0);
	if (q.set_mem_min)
		err = err ?: add_knob(d, i, KNOB_MEM_MIN, (long long)q.mem_min, 0);
	if (q.set_mem_low)
		err = err ?: add_knob(d, i, KNOB_MEM_LOW, (long long)q.mem_low, 0);
	if (q.set_mem_high)
		err = err ?: add_knob(d, i, KNOB_MEM_HIGH, (long long)q.mem_high, 0);
	if (q.set_soft_limit)
		err = err ?: add_knob(d, i, KNOB_MEM_SOFT, (long long)q.soft_limit, 0);
	return err;
}

/* Is BE CPU bounded by quota now? Then *each is every BE top's share. */
static bool be_quota_each(const struct decide_params *dp, const struct policy_state *s,
			  int nr_be, uint64_t *each)
{
	const struct policy_params *p = dp->p;

	if (!(p->suppress_enable || p->latency_feedback) || !s->cpu_limited ||
	    p->suppress_policy == POLICY_SUPPRESS_CPUSET || nr_be <= 0)
		return false;
	*each = s->allowed_milli / (uint64_t)nr_be;
	return true;
}

/* The node-wide BE allowance, split evenly over the topmost BE cgroups. */
static int be_cpu_knob(const struct decide_params *dp, const struct policy_state *s,
		       int i, int nr_be, struct decision *d)
{
	const struct policy_params *p = dp->p;
	uint64_t each;

	if (!(p->suppress_enable || p->latency_feedback) || !s->cpu_limited)
		return 0;
	if (p->suppress_policy == POLICY_SUPPRESS_CPUSET)
		return add_knob(d, i, KNOB_CPUSET_CPUS, s->cpus, 0);
	if (!be_quota_each(dp, s, nr_be, &each))
		return 0;
	return add_knob(d, i, KNOB_CPU_QUOTA,
			(long long)policy_cfs_quota_us(each, p->be_cfs_period_us),
			p->be_cfs_period_us);
}

/* Ticks over the threshold with memory.high down before memory.max backs it. */
#define MEM_MAX_AFTER_TICKS	2

/*
 * memory.high where the kernel has it; plain v1's nearest lever is the
 * soft limit. When BE stays over its memory.high (memory the kernel cannot
 * reclaim, anonymous without swap), memory.max at the same value makes the
 * kernel reclaim or OOM-kill inside BE, before colod evicts whole pods.
 */
static int be_mem_knob(const struct decide_params *dp, const struct policy_state *s,
		       int i, int nr_be, struct decision *d)
{
	long long each;
	int err;

	if (!dp->p->mem_evict_enable || s->be_mem_high == POLICY_UNLIMITED)
		return 0;
	each = (long long)(s->be_mem_high / (uint64_t)nr_be);
	if (!dp->caps->has_memory_qos)
		return add_knob(d, i, KNOB_MEM_SOFT, each, 0);
	err = add_knob(d, i, KNOB_MEM_HIGH, each, 0);
	if (!err && dp->caps->cgroup_v2 && s->mem_stuck_ticks >= MEM_MAX_AFTER_TICKS)
		err = add_knob(d, i, KNOB_MEM_MAX, each, 0);
	return err;
}

/*
 * A BE pod's own limits from its spec, as koordlet applies them: the pod's
 * CFS quota from kubernetes.io/batch-cpu and its memory limit from
 * kubernetes.io/batch-memory, at the pod level. They bound the pod inside
 * the node-wide allowance of its BE top, not instead of it. v1 refuses a
 * child quota above its parent's (tg_cfs_schedulable_down: -EINVAL), so
 * there the pod's quota is also held at its top's share; v2 takes the
 * lower of the two by itself.
 */
static int be_pod_knobs(const struct decide_params *dp, const struct policy_state *s,
			const struct track *t, int i, int nr_be, bool cpu_only,
			struct decision *d)
{
	const struct tracked *c = &t->v[i];
	uint64_t each, milli;
	int err = 0;

	if (c->cls != COLOD_CLASS_BE || !c->is_pod)
		return 0;
	if (c->batch_cpu_milli > 0) {
		milli = (uint64_t)c->batch_cpu_milli;
		if (!dp->caps->cgroup_v2 && !c->top && be_quota_each(dp, s, nr_be, &each) &&
		    each < milli)
			milli = each;
		err = add_knob(d, i, KNOB_CPU_QUOTA,
			       (long long)policy_cfs_quota_us(milli, POD_CFS_PERIOD_US),
			       POD_CFS_PERIOD_US);
	}
	if (!cpu_only && c->batch_mem_bytes > 0)
		err = err ?: add_knob(d, i, KNOB_MEM_MAX, c->batch_mem_bytes, 0);
	return err;
}

static int knobs(const struct decide_params *dp, const struct policy_state *s,
		 const struct track *t, bool cpu_only, struct decision *d)
{
	int nr_be = track_count_top(t, COLOD_CLASS_BE), i, err = 0;

	d->cpu_only = cpu_only;
	for (i = 0; i < t->nr && !err; i++) {
		const struct tracked *c = &t->v[i];

		if (!cpu_only)
			err = static_knobs(dp, t, i, d);
		err = err ?: be_pod_knobs(dp, s, t, i, nr_be, cpu_only, d);
		if (c->cls != COLOD_CLASS_BE || !c->top)
			continue;
		err = err ?: be_cpu_knob(dp, s, i, nr_be, d);
		if (!cpu_only)
			err = err ?: be_mem_knob(dp, s, i, nr_be, d);
	}
	return err;
}

int decide_knobs(const struct decide_params *dp, const struct policy_state *s,
		 const struct track *t, bool cpu_only, struct decision *d)
{
	decision_reset(d);
	return knobs(dp, s, t, cpu_only, d);
}

/*
 * The units an eviction kills: BE pods in kubelet's layout, else the
 * topmost BE cgroups. Largest first (Koordinator's order within one
 * priority), until what they hold covers what must be freed.
 */
static void pick_victims(const struct track *t, uint64_t need, struct decision *d)
{
	struct policy_victim v[DECIDE_MAX_EVICT];
	int idx[DECIDE_MAX_EVICT], n = 0, i, k;

	for (i = 0; i < t->nr && n < DECIDE_MAX_EVICT; i++) {
		const struct tracked *c = &t->v[i];

		if (c->cls != COLOD_CLASS_BE || !(c->kubelet ? c->is_pod : c->top))
			continue;
		idx[n] = i;
		v[n++] = (struct policy_victim) { 0, c->mem_bytes };
	}
	k = policy_pick_victims(v, n, need, d->evict, DECIDE_MAX_EVICT);
	d->nr_evict = k > 0 ? k : 0;
	for (i = 0; i < d->nr_evict; i++)
		d->evict[i] = idx[d->evict[i]];
}

/*
 * Each LS cgroup's waits, breaches and p99 over the tick: the policy holds
 * a distrusted cgroup to stronger evidence and judges cuts by them.
 */
static int ls_list(const struct track *t, struct decision *d, struct policy_tick_input *in)
{
	struct policy_ls *n;
	int i, k = 0;

	if (t->nr > d->cap_ls) {
		n = realloc(d->ls, (size_t)t->nr * sizeof(*n));
		if (!n)
			return -ENOMEM;
		d->ls = n;
		d->cap_ls = t->nr;
	}
	for (i = 0; i < t->nr; i++) {
		const struct tracked *c = &t->v[i];

		if (c->cls != COLOD_CLASS_LS || !c->tick_samples)
			continue;
		d->ls[k++] = (struct policy_ls) {
			.cgid = c->id, .samples = c->tick_samples,
			.breaches = c->tick_breaches, .breaches_be = c->tick_breaches_be,
			.p99_milli = c->latency_target_us ?
				     (uint32_t)(c->p99_us * 1000 / c->latency_target_us) : 0,
		};
	}
	in->ls = d->ls;
	in->nr_ls = (uint32_t)k;
	in->have_ls = true;
	return 0;
}

static void tick_input(const struct snapshot *snap, struct policy_tick_input *in)
{
	const struct class_sums *sum = snap->sum;
	uint64_t ls = sum[COLOD_CLASS_LS].cpu_milli, be = sum[COLOD_CLASS_BE].cpu_milli;

	*in = (struct policy_tick_input) {
		.now_ms = snap->now_ns / 1000000,
		.capacity_milli = snap->capacity_milli,
		.ls_used_milli = ls,
		.be_used_milli = be,
		.system_used_milli = snap->node_busy_milli > ls + be ?
				     snap->node_busy_milli - ls - be : 0,
		.node_mem_used_bytes = snap->node.mem_used,
		.node_mem_capacity_bytes = snap->node.mem_total,
		.be_mem_used_bytes = snap->mem_used[COLOD_CLASS_BE],
		.ls_reclaim_stall_ms = sum[COLOD_CLASS_LS].direct_reclaim_ns / 1000000,
		.ls_breaches = (uint32_t)sum[COLOD_CLASS_LS].breaches,
		.ls_p99_milli = sum[COLOD_CLASS_LS].worst_p99_milli,
	};
}

int decide_tick(const struct decide_params *dp, struct policy_state *s,
		const struct snapshot *snap, const struct track *t,
		struct decision *d)
{
	struct policy_tick_input in;
	uint64_t verdicts = s->nr_verdicts;
	int n = 0, i;

	decision_reset(d);
	tick_input(snap, &in);
	if (track_count_top(t, COLOD_CLASS_BE)) {
		if (ls_list(t, d, &in))
			return -ENOMEM;
		n = policy_tick(dp->p, s, &in, d->acts, POLICY_TICK_MAX_ACTIONS);
		if (n < 0)
			return n;
	}
	d->nr_acts = n;
	if (s->nr_verdicts != verdicts) {
		d->has_verdict = true;
		d->verdict = s->verdict;
	}
	for (i = 0; i < n; i++)
		if (d->acts[i].kind == POLICY_BE_EVICT)
			pick_victims(t, d->acts[i].bound, d);
	return knobs(dp, s, t, false, d);
}

/*
 * What a breach cut is judged against (policy.c, judge_tick): the event's
 * 50 ms and, when BE ran through the last tick (at least its floor), that
 * tick's waits of the LS cgroup. Against the 50 ms alone, a burst of three
 * late wake-ups, which an LS has now and then whatever BE does, looked
 * cured by any cut once the next 2 s were ordinary: in the demo, bursts of
 * 3 in about 120 waits over ticks at 0.3-1.2%, the same with BE at 0.86 or
 * 0.13 core, and every cut "helped". BE that had not run (it just started)
 * leaves the event as the only evidence.
 */
static void breach_baseline(const struct decide_params *dp, const struct track *t,
			    const struct policy_state *s, struct policy_breach *b)
{
	uint64_t be_milli = t->sum[COLOD_CLASS_BE].cpu_milli;
	const struct tracked *ls;

	if (!be_milli || be_milli < policy_floor_milli(dp->p, s->capacity_milli))
		return;
	ls = track_find(t, b->ls_cgroup_id);
	if (ls) {
		b->base_samples = ls->tick_samples;
		b->base_breaches = ls->tick_breaches;
	}
}

int decide_breach(const struct decide_params *dp, struct policy_state *s,
		  const struct policy_breach *b, const struct track *t,
		  struct decision *d)
{
	struct policy_breach ev = *b;
	int n, err;

	decision_reset(d);
	if (!dp->p->latency_feedback || !track_count_top(t, COLOD_CLASS_BE))
		return 0;
	breach_baseline(dp, t, s, &ev);
	n = policy_on_breach(dp->p, s, &ev, &d->acts[0]);
	if (n <= 0)
		return n;
	d->nr_acts = 1;
	err = knobs(dp, s, t, true, d);
	return err ?: 1;
}

const char *knob_kind_name(enum knob_kind k)
{
	static const char *const names[KNOB_NR] = {
		"cpu.idle", "cpu.shares", "cpu.weight", "cpu quota", "cpuset.cpus",
		"memory.high", "memory.max", "memory.low", "memory.min",
		"memory.soft_limit", "sched slice", "sched slice of threads",
	};

	return k < KNOB_NR ? names[k] : "?";
}
