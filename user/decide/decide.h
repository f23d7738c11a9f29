/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Decide: one pure step from (parameters, policy state, snapshot or breach
 * event) to what every knob colod manages should hold, computed from
 * scratch each time, with the policy's actions as the reasons. Nothing here
 * reads a clock, a file or a map; reconcile.c carries the result out.
 *
 * Where each knob goes (docs/KUBELET.md): never into a file that kubelet or
 * the runtime writes, nor one the kernel ties to it. cpu.idle=1 makes the
 * kernel refuse cpu.shares/cpu.weight in the same directory, and kubelet
 * writes those at the QoS level (start, every minute), the pod level
 * (creation, resize, ReduceCPULimits at cleanup) and the runtime at the
 * container level. So in kubelet's layout cpu.idle goes on each BE pod,
 * once kubelet's creation writes are done (the pod was found by an earlier
 * scan) and only while a container runs in it; shares and weight are left
 * to kubelet. Bare-metal rules own their cgroups: idle or low shares on
 * the topmost cgroup of the class.
 */
#ifndef COLOD_DECIDE_H
#define COLOD_DECIDE_H

#include "policy.h"
#include "snapshot.h"
#include "track.h"

enum knob_kind {
	KNOB_CPU_IDLE = 0,	/* 0 or 1 */
	KNOB_CPU_SHARES,	/* v1 cpu.shares */
	KNOB_CPU_WEIGHT,	/* v2 cpu.weight */
	KNOB_CPU_QUOTA,		/* value: quota us, period_us */
	KNOB_CPUSET_CPUS,	/* value: the last n CPUs */
	KNOB_MEM_HIGH,		/* bytes, -1: max */
	KNOB_MEM_MAX,		/* v2 memory.max, where memory.high does not hold */
	KNOB_MEM_LOW,
	KNOB_MEM_MIN,
	KNOB_MEM_SOFT,		/* v1 memory.soft_limit_in_bytes */
	KNOB_SCHED_SLICE,	/* ns, on a BE top: its tree's slice, journaled (no thread set) */
	KNOB_SCHED_SLICE_THREADS, /* ns: the cgroup's own threads get it (they ran) */
	KNOB_NR,
};

struct knob {
	int cg;			/* index into the track */
	enum knob_kind kind;
	long long value;
	uint64_t period_us;	/* KNOB_CPU_QUOTA */
};

#define DECIDE_MAX_EVICT	64

struct decision {
	struct knob *knobs;
	int nr_knobs, cap_knobs;
	bool cpu_only;		/* a breach: only the BE CPU knobs were decided */
	struct policy_action acts[POLICY_TICK_MAX_ACTIONS];
	int nr_acts;
	int evict[DECIDE_MAX_EVICT];	/* track indexes, in eviction order */
	int nr_evict;
	bool has_verdict;	/* a tick judged cuts: verdict is the policy's */
	struct policy_verdict verdict;
	struct policy_ls *ls;	/* scratch: the tick's LS cgroups for the policy */
	int cap_ls;
};

struct decide_params {
	const struct policy_params *p;
	const struct policy_caps *caps;
};

/*
 * A tick: the policy over the snapshot, then every knob's desired value.
 * Returns 0 or -ENOMEM / -EINVAL. d is reset first; decision_free() frees.
 */
int decide_tick(const struct decide_params *dp, struct policy_state *s,
		const struct snapshot *snap, const struct track *t,
		struct decision *d);
/*
 * A breach event: the policy's cut, then the BE CPU knobs only (the fast
 * path; the next tick decides the rest). Returns 1 when there is a cut, 0
 * when nothing changes, < 0 on error.
 */
int decide_breach(const struct decide_params *dp, struct policy_state *s,
		  const struct policy_breach *b, const struct track *t,
		  struct decision *d);
/* Every knob's desired value for the state as it is (a reload, start-up). */
int decide_knobs(const struct decide_params *dp, const struct policy_state *s,
		 const struct track *t, bool cpu_only, struct decision *d);
void decision_free(struct decision *d);

/* The cgroup whose cpu.idle makes c idle-class: its pod, or its class top. */
int decide_idle_holder(const struct track *t, int c);
const char *knob_kind_name(enum knob_kind k);
/* Is CFS quota a per period pa a lower rate than b per pb (< 0: unlimited)? */
bool quota_lower(long long a, uint64_t pa, long long b, uint64_t pb);

#endif /* COLOD_DECIDE_H */
