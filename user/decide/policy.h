/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The QoS / throttle policy of the closed loop: pure functions over plain
 * structs. Nothing here reads a clock, a file or a map: the agent passes
 * measurements and the time (now_ms, CLOCK_MONOTONIC milliseconds) in, and
 * writes the actions that come out. See docs/POLICY.md.
 *
 * Two halves:
 *  - static QoS (resource-qos-config), decided once per cgroup when it is
 *    classified: cpu.idle / shares / weight, memory protection and throttle,
 *    resctrl group;
 *  - dynamic limits (resource-threshold-config plus colod's latency
 *    feedback), decided on every LS breach event and every tick: the node-wide
 *    BE CPU allowance, the BE memory.high, and eviction as a last resort.
 */
#ifndef COLOD_POLICY_H
#define COLOD_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "colod/colod.h"

/* A knob value meaning "no limit" (cfs quota -1, memory.high "max"). */
#define POLICY_UNLIMITED	UINT64_MAX
/* A time that never happened. */
#define POLICY_NEVER		UINT64_MAX
/* Kernel minimum for cpu.cfs_quota_us and cpu.cfs_period_us. */
#define POLICY_CFS_MIN_US	1000ULL
/* Samples of the suppress bound kept for the growth ceiling. */
#define POLICY_WIN_MAX		64
/* LS cgroups whose breaches need stronger evidence after a cut that did not help. */
#define POLICY_DISTRUST_MAX	8
/* Fewer breaches than this are never a signal, whatever the waits. */
#define POLICY_BREACH_MIN	3
/* Breach densities are in breaches per million waits. */
#define POLICY_PPM		1000000ULL

/* resource-threshold-config cpuSuppressPolicy. */
enum policy_suppress {
	POLICY_SUPPRESS_CFS_QUOTA = 0,	/* "cfsQuota" */
	POLICY_SUPPRESS_CPUSET = 1,	/* "cpuset" */
};

/* resource-qos-config, one class (lsClass / beClass). */
struct policy_class_qos {
	bool cpu_enable;		/* cpuQOS.enable */
	bool memory_enable;		/* memoryQOS.enable */
	uint32_t min_limit_pct;		/* memoryQOS.minLimitPercent of request */
	uint32_t low_limit_pct;		/* memoryQOS.lowLimitPercent of request */
	uint32_t throttling_pct;	/* memoryQOS.throttlingPercent of limit */
	bool resctrl_enable;		/* resctrlQOS.enable */
	uint32_t cat_start_pct;		/* resctrlQOS.catRangeStartPercent */
	uint32_t cat_end_pct;		/* resctrlQOS.catRangeEndPercent */
	uint32_t mba_pct;		/* resctrlQOS.mbaPercent */
};

struct policy_params {
	struct policy_class_qos qos[COLOD_CLASS_NR];	/* SYSTEM is ignored */

	/* resource-threshold-config */
	bool suppress_enable;			/* clusterStrategy.enable */
	enum policy_suppress suppress_policy;	/* cpuSuppressPolicy */
	uint32_t cpu_suppress_threshold_pct;	/* cpuSuppressThresholdPercent */
	uint32_t cpu_suppress_min_pct;		/* cpuSuppressMinPercent: floor */
	bool mem_evict_enable;
	uint32_t mem_evict_threshold_pct;	/* memoryEvictThresholdPercent */
	uint32_t mem_evict_lower_pct;		/* memoryEvictLowerPercent; 0: threshold - 2 */

	/* colod's latency feedback on top of the suppress bound */
	bool latency_feedback;
	uint32_t md_factor_pct;		/* on a breach keep this % of the allowance */
	uint32_t breach_guard_ms;	/* at most one cut per this window */
	uint32_t ai_step_pct;		/* growth per ai_interval_ms, % of capacity */
	uint32_t ai_interval_ms;
	uint32_t healthy_hold_ms;	/* no breach and no cut for this long before growing */
	uint32_t grow_below_milli;	/* grow only while LS p99/target x1000 is below */
	uint32_t deadband_pct;		/* cut to bound when over it by % of capacity */
	uint32_t min_delta_pct;		/* skip increases smaller than this % of capacity */
	uint32_t bound_window_ms;	/* growth ceiling: lowest bound seen over this window */
	uint32_t be_cfs_period_us;	/* cpu.cfs_period_us given to BE cgroups */
	uint32_t be_slice_us;		/* BE threads' EEVDF slice, 0: theirs (beSchedSliceUs) */
	uint32_t judge_window_ms;	/* a cut is judged over this long after it; 0: never */
	uint32_t distrust_ms;		/* stronger evidence for this long after no effect */

	/* memory */
	uint32_t mem_high_step_pct;	/* stall cut (% of BE use), release step (% of node) */
	uint64_t mem_high_min_bytes;	/* never lower BE memory.high below this */
	uint32_t reclaim_stall_ms;	/* LS reclaim stall per tick that counts as pressure */
	uint32_t evict_after_ticks;	/* ticks still over after memory.high came down */
	uint32_t evict_cooldown_ms;
	uint32_t mem_release_hold_ms;	/* no pressure this long before raising memory.high */
	uint32_t mem_release_interval_ms; /* then one release step per this interval */
};

/* Koordinator's defaults where it has one, colod's choices elsewhere. */
void policy_params_default(struct policy_params *p);

/*
 * Check ranges and relations between fields. On error returns -EINVAL and
 * writes "<field>: <value>: <why>" (field named as its JSON key) into err.
 */
int policy_params_check(const struct policy_params *p, char *err, size_t len);

/* ---- static QoS ---------------------------------------------------------- */

/* What the running kernel offers; the agent probes it once. */
struct policy_caps {
	bool cgroup_v2;		/* cpu/memory controllers are v2 (cpu.weight, memory.*) */
	bool has_cpu_idle;	/* cpu.idle exists (5.15+, v1 and v2) */
	bool has_memory_qos;	/* memory.min/low/high exist (v2, or Alibaba Cloud Linux v1) */
	bool has_resctrl;	/* /sys/fs/resctrl mounted with CAT or MBA */
	bool has_sched_slice;	/* a custom EEVDF slice for SCHED_OTHER tasks (6.12+) */
};

#define POLICY_KEEP		(-1)	/* static_qos.cpu_idle: leave the knob alone */
#define POLICY_RESCTRL_NAME_MAX	16

/* Values to write for a newly classified cgroup; unset fields are left alone. */
struct policy_static_qos {
	int cpu_idle;			/* 0, 1 or POLICY_KEEP */
	uint64_t cpu_shares;		/* v1 cpu.shares; 0 = keep */
	uint64_t cpu_weight;		/* v2 cpu.weight; 0 = keep */
	uint64_t cfs_period_us;		/* cfs_period_us / cpu.max period; 0 = keep */
	uint64_t slice_ns;		/* BE: the EEVDF slice of its threads; 0 = keep */
	bool set_mem_min, set_mem_low, set_mem_high, set_soft_limit;
	uint64_t mem_min;		/* memory.min */
	uint64_t mem_low;		/* memory.low */
	uint64_t mem_high;		/* memory.high */
	uint64_t soft_limit;		/* v1 without memory.high: memory.soft_limit_in_bytes */
	bool resctrl;			/* put the cgroup's tasks into resctrl_group */
	char resctrl_group[POLICY_RESCTRL_NAME_MAX];
	uint32_t cat_start_pct, cat_end_pct, mba_pct;
};

/*
 * Decide the static QoS of a cgroup of class cls. mem_limit_bytes and
 * mem_request_bytes are the cgroup's memory limit and request (0: none).
 * SYSTEM cgroups get nothing (every field "keep").
 */
void policy_static_qos(const struct policy_params *p, enum colod_class cls,
		       const struct policy_caps *caps, uint64_t mem_limit_bytes,
		       uint64_t mem_request_bytes, struct policy_static_qos *out);

/* ---- dynamic limits ------------------------------------------------------ */

enum policy_action_kind {
	POLICY_BE_CPU_QUOTA = 0,	/* value: millicores (quota = milli x period / 1000) */
	POLICY_BE_CPUSET_CPUS,		/* value: number of CPUs for the BE cpuset */
	POLICY_BE_MEMORY_HIGH,		/* value: bytes, POLICY_UNLIMITED = "max" */
	POLICY_BE_EVICT,		/* old: BE bytes in use, new: expected after release */
	POLICY_ACTION_NR,
};

enum policy_reason {
	POLICY_R_LS_BREACH = 0,		/* a breach event from the ring buffer */
	POLICY_R_LS_P99,		/* tick: LS breaches / p99 over target */
	POLICY_R_SUPPRESS_BOUND,	/* tick: allowance above capacity x threshold - LS - sys */
	POLICY_R_LS_HEALTHY,		/* tick: additive increase */
	POLICY_R_MEM_THRESHOLD,		/* node memory above memoryEvictThresholdPercent */
	POLICY_R_RECLAIM_STALL,		/* LS cgroups stalled in reclaim */
	POLICY_R_MEM_HEALTHY,		/* memory.high released */
	POLICY_R_MEM_EVICT,		/* last resort */
	POLICY_R_CUT_NO_EFFECT,		/* tick: the cuts did not help their LS: given back */
	POLICY_R_NR,
};

/* Unit of policy_action.measured. */
enum policy_unit {
	POLICY_U_US = 0,		/* microseconds (latency) */
	POLICY_U_MS,			/* milliseconds (reclaim stall) */
	POLICY_U_MILLICORES,		/* CPU used */
	POLICY_U_PERMILLE_RATIO,	/* p99 / target x 1000, printed as 1.35x */
	POLICY_U_PERMILLE_PCT,		/* share x 1000, printed as 72.5% */
	POLICY_U_COUNT,			/* a plain count (breach samples) */
};

/* policy_tick never writes more actions than this; max_out must be at least it. */
#define POLICY_TICK_MAX_ACTIONS	2

struct policy_action {
	enum policy_action_kind kind;
	enum policy_reason reason;
	uint64_t old_value;
	uint64_t new_value;
	uint64_t bound;			/* CPU: suppress bound; evict: bytes to free */
	uint64_t measured;		/* the value that triggered the action */
	enum policy_unit unit;
	uint64_t trigger_cgroup_id;	/* LS cgroup whose breach triggered it; 0: none */
};

struct policy_bound_sample {
	uint64_t t_ms;
	uint64_t milli;
};

/*
 * The cuts of one episode (a breach and the cuts that followed it within
 * the window) waiting for their verdict: did the LS cgroup that triggered
 * them get better over judge_window_ms after the last one?
 */
struct policy_judge {
	uint64_t cgid;			/* LS cgroup that triggered the first cut; 0: none */
	uint64_t last_cut_ms;		/* the window starts at the episode's last cut */
	uint64_t pre_milli;		/* the allowance before the episode's first cut */
	uint32_t nr_cuts;
	uint32_t before_ppm;		/* its breach density (all breaches) before the first cut */
	uint64_t after_ms;		/* ticks measured wholly after the last cut */
	uint64_t after_breaches, after_samples;
	uint32_t after_p99_milli;	/* worst p99 / target x 1000 over them */
};

/* An LS cgroup whose breaches cut BE for nothing: BE's blame needs need_ppm. */
struct policy_distrust {
	uint64_t cgid;			/* 0: a free slot */
	uint32_t need_ppm;		/* BE breaches per million waits a cut needs */
	uint64_t until_ms;		/* then back to normal */
};

enum policy_verdict_kind {
	POLICY_V_NO_EFFECT = 0,
	POLICY_V_HELPED,
	POLICY_V_NR,
};

/* The last verdict, for the action log and explain. */
struct policy_verdict {
	uint64_t at_ms;
	uint64_t cgid;			/* the LS cgroup judged */
	enum policy_verdict_kind verdict;
	uint32_t nr_cuts;
	uint32_t before_ppm, after_ppm;	/* breach density at the cut, after it */
	uint32_t after_p99_milli;
	uint32_t need_ppm;		/* no effect: the evidence its breaches need now */
};

struct policy_state {
	uint64_t capacity_milli;
	uint64_t allowed_milli;		/* BE CPU allowance, node-wide */
	bool cpu_limited;		/* false until the first CPU action: BE knob unset */
	uint32_t cpus;			/* cpuset policy: CPUs given to BE (0: unset) */
	uint64_t bound_milli;		/* last suppress bound */
	uint64_t last_breach_ms;
	uint64_t last_md_ms;		/* last multiplicative decrease (breach guard) */
	uint64_t last_cut_ms;		/* last decrease of the allowance, any cause */
	uint64_t last_grow_ms;
	uint64_t last_tick_ms;
	bool breach_answered;		/* policy_on_breach cut since the last tick */
	struct policy_bound_sample win[POLICY_WIN_MAX];
	uint32_t win_head, win_len;

	uint64_t be_mem_high;		/* BE memory.high, aggregate; POLICY_UNLIMITED = max */
	uint32_t mem_stuck_ticks;	/* ticks over the threshold with memory.high lowered */
	uint64_t last_mem_pressure_ms;
	uint64_t last_mem_change_ms;
	uint64_t last_evict_ms;

	struct policy_judge judge;	/* cuts waiting for their verdict */
	struct policy_distrust distrust[POLICY_DISTRUST_MAX];
	struct policy_verdict verdict;	/* the last one */
	uint64_t nr_verdicts;

	uint64_t nr_cuts, nr_grows, nr_evicts;	/* counters for /metrics */
	uint64_t nr_judged[POLICY_V_NR];	/* cuts by verdict */
};

/* Start with BE unthrottled (its knobs untouched) on a node of this capacity. */
void policy_init(struct policy_state *s, const struct policy_params *p,
		 uint64_t capacity_milli);

/* One LS breach event from the ring buffer. */
struct policy_breach {
	uint64_t ls_cgroup_id;
	uint64_t latency_ns;
	uint64_t now_ms;
	/* that cgroup's evidence window (sense_breach): waits, breaches, BE's */
	uint64_t samples, breaches, breaches_be;
	/*
	 * Its waits and breaches over the last tick when BE ran through it
	 * (decide_breach), else 0: with the window, what a cut is judged against
	 */
	uint64_t base_samples, base_breaches;
};

/*
 * React to a breach at once: multiplicative decrease of the BE allowance,
 * at most once per breach_guard_ms, never below the floor. Returns 1 with
 * *out filled when a knob must change, 0 when nothing is to be written,
 * -EINVAL on bad arguments.
 */
int policy_on_breach(const struct policy_params *p, struct policy_state *s,
		     const struct policy_breach *b, struct policy_action *out);

/* One LS cgroup over the last tick. */
struct policy_ls {
	uint64_t cgid;
	uint64_t samples;		/* run-queue waits */
	uint64_t breaches;		/* waits above its target, any cause */
	uint64_t breaches_be;		/* those BE is to blame for */
	uint32_t p99_milli;		/* p99 / its target x 1000; 0: no target or samples */
};

/* Measurements of the last tick (normally one second). */
struct policy_tick_input {
	uint64_t now_ms;
	uint64_t capacity_milli;	/* node CPU capacity */
	uint64_t ls_used_milli;		/* CPU used by LS (non-BE) cgroups */
	uint64_t system_used_milli;	/* CPU used by everything not LS nor BE */
	uint64_t reserved_milli;	/* kubelet / annotation reservation (max'ed with system) */
	uint64_t be_used_milli;		/* CPU used by BE cgroups */
	uint64_t node_mem_used_bytes;
	uint64_t node_mem_capacity_bytes;
	uint64_t be_mem_used_bytes;
	uint64_t ls_reclaim_stall_ms;	/* time LS tasks spent in reclaim during the tick */
	uint32_t ls_breaches;		/* LS breach samples during the tick */
	uint32_t ls_p99_milli;		/* worst LS p99 / its target x 1000; 0 = no samples */
	/*
	 * Each LS cgroup (decide.c): when given, ls_breaches and ls_p99_milli
	 * are computed from them, with a distrusted cgroup's held to its
	 * stronger evidence, and the cuts are judged by them.
	 */
	const struct policy_ls *ls;
	uint32_t nr_ls;
	bool have_ls;
};

/*
 * Periodic decision: the Koordinator suppress bound, additive increase while
 * LS is healthy, cuts on breaches not yet answered by policy_on_breach,
 * memory.high on memory pressure and its release, eviction as last resort.
 * Writes at most POLICY_TICK_MAX_ACTIONS actions into out (max_out must be
 * at least that); returns their number or -EINVAL.
 */
int policy_tick(const struct policy_params *p, struct policy_state *s,
		const struct policy_tick_input *in, struct policy_action *out,
		int max_out);

/* Floor of the BE CPU allowance for a capacity (millicores). */
uint64_t policy_floor_milli(const struct policy_params *p, uint64_t capacity_milli);

/*
 * Koordinator's suppress bound: capacity x threshold% - LS used -
 * max(system used, reserved), clamped to [floor, capacity].
 */
uint64_t policy_suppress_bound(const struct policy_params *p,
			       const struct policy_tick_input *in);

/* cpu.cfs_quota_us for an allowance at period_us, never below the kernel minimum. */
uint64_t policy_cfs_quota_us(uint64_t milli, uint64_t period_us);

/* Whole CPUs for an allowance (ceil), within [1, capacity CPUs]. */
uint32_t policy_cpuset_count(uint64_t milli, uint64_t capacity_milli);

/* A BE cgroup that could be evicted. */
struct policy_victim {
	int64_t priority;		/* lower goes first */
	uint64_t mem_used_bytes;	/* then larger goes first */
};

/*
 * Pick BE cgroups to evict until need_bytes are released: lowest priority
 * first, then largest memory user (Koordinator's order). Writes indexes into
 * idx; returns how many (at most max_idx), or -EINVAL.
 */
int policy_pick_victims(const struct policy_victim *v, int n, uint64_t need_bytes,
			int *idx, int max_idx);

/* breaches >= 3 and more than ppm per million of samples. */
bool policy_over_ppm(uint64_t breaches, uint64_t samples, uint64_t ppm);
/* What a breach event's window of BE-blamed breaches says against BE. */
enum policy_evidence {
	POLICY_EV_NONE,		/* within twice the budget */
	POLICY_EV_CHANCE,	/* over twice the budget, as an LS at its budget shows by chance */
	POLICY_EV_BEYOND,	/* over twice the budget and beyond chance: a cut */
};
enum policy_evidence policy_breach_evidence(uint64_t breaches_be, uint64_t samples);
/* The evidence BE's breaches of cgid need now: 0 normal, else per million waits. */
uint32_t policy_distrust_ppm(const struct policy_state *s, uint64_t cgid, uint64_t now_ms);

const char *policy_verdict_name(enum policy_verdict_kind v);
/*
 * The log line of a verdict on the cuts triggered by ls, e.g.
 * "verdict=no_effect ls=/x cuts=5 density_before=12.50% density_after=11.90%
 *  p99_after=3.10x need=23.80%". Returns the length, -ENOSPC, -EINVAL.
 */
int policy_verdict_format(const struct policy_verdict *v, const char *ls,
			  char *buf, size_t len);
const char *policy_action_name(enum policy_action_kind kind);
const char *policy_reason_name(enum policy_reason reason);

/*
 * The one structured log line of an action applied to cgroup, e.g.
 * "action=be_cpu_quota cgroup=/x old=1500m new=750m bound=1200m
 *  reason=ls_breach measured=3200us trigger_cgid=1234".
 * Returns the length, -ENOSPC if buf is too small (truncated), -EINVAL.
 */
int policy_action_format(const struct policy_action *a, const char *cgroup,
			 char *buf, size_t len);

#endif /* COLOD_POLICY_H */
