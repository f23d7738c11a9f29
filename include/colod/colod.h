/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The contract between colod's BPF programs and its userspace agent: every
 * map value, event and constant that crosses the boundary is defined here
 * and only here.
 */
#ifndef COLOD_COLOD_H
#define COLOD_COLOD_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Map names as pinned under the pin directory (default /sys/fs/bpf/colod). */
#define COLOD_PIN_DIR_DEFAULT	"/sys/fs/bpf/colod"
#define COLOD_MAP_CG_STATS	"cg_stats"
#define COLOD_MAP_CG_HIST	"cg_hist"
#define COLOD_MAP_CG_CLASS	"cg_class"
#define COLOD_MAP_EVENTS	"events"
#define COLOD_MAP_COUNTERS	"counters"
#define COLOD_MAP_HEADROOM	"headroom"

#define COLOD_MAX_CGROUPS_DEFAULT	10240

/* QoS class of a cgroup; SYSTEM cgroups are observed but never written to. */
enum colod_class {
	COLOD_CLASS_SYSTEM = 0,
	COLOD_CLASS_LS = 1,
	COLOD_CLASS_BE = 2,
	COLOD_CLASS_NR = 3,
};

/*
 * Log-linear histogram of run-queue latency in microseconds: values below
 * 2^COLOD_HIST_SUB_BITS are exact, above that every power of two is split
 * into 2^COLOD_HIST_SUB_BITS linear slots, so a slot's width is at most
 * 1/8 of its lower bound and a percentile read from it is within 12.5%.
 */
#define COLOD_HIST_SUB_BITS	3
#define COLOD_HIST_SUB		(1 << COLOD_HIST_SUB_BITS)
#define COLOD_HIST_MAX_LOG2	26	/* 2^27 us = 134 s: everything above saturates */
#define COLOD_HIST_SLOTS	((COLOD_HIST_MAX_LOG2 - COLOD_HIST_SUB_BITS + 2) * COLOD_HIST_SUB)

/*
 * The cg_stats value, keyed by cgroup id (kernfs id = inode): one value per
 * cgroup that all CPUs add to atomically (not per CPU), for every cgroup
 * in which a task ran. 104 B: with the hash's own 56 B, a 192 B slab
 * object (docs/MAPS.md).
 */
struct colod_cg_counters {
	__u64 runq_count;		/* run-queue latency samples */
	__u64 runq_sum_ns;
	__u64 runq_max_ns;
	__u64 cpu_ns;			/* on-CPU time, charged at switch-out and tick */
	__u64 nvcsw;			/* voluntary switches (task blocked) */
	__u64 nivcsw;			/* involuntary switches (preempted) */
	__u64 direct_reclaim_ns;	/* time in direct (global) reclaim */
	__u64 direct_reclaim_count;
	__u64 memcg_reclaim_ns;		/* time in memcg limit reclaim */
	__u64 memcg_reclaim_count;
	__u64 breaches;			/* LS samples above threshold */
	__u64 breaches_be;		/* of which a BE task had the CPU before */
	__u64 breach_events;		/* of those, sent on the ring buffer */
};

/*
 * The cg_hist value: the run-queue waits of an LS cgroup (cg_class says
 * LS, or COLOD_CG_HIST) by slot, which only LS cgroups have: their p99 is
 * what the agent judges. 32-bit slots, so the value (800 B) fits the kernel's 1 KiB slab
 * objects: a slot wraps after 2^32 waits, which the per-tick deltas, taken
 * modulo 2^32, do not notice.
 */
struct colod_cg_hist {
	__u32 runq_hist[COLOD_HIST_SLOTS];
};

/* One cgroup's statistics as userspace reads them: both maps' values. */
struct colod_cg_stats {
	struct colod_cg_counters cnt;
	__u32 runq_hist[COLOD_HIST_SLOTS];	/* zero without a cg_hist entry */
};

/*
 * colod_cg_class.flags. IDLE: a BE cgroup that runs in a cpu.idle group,
 * which the scheduler preempts at any LS wake-up and counts as idle when
 * it places one; BE running elsewhere is then no reason an LS task waited.
 */
#define COLOD_CG_IDLE		(1u << 0)
/*
 * HIST: keep a cg_hist histogram for this cgroup though it is not LS
 * (`colod stats` on programs of its own, for the cgroups it shows).
 */
#define COLOD_CG_HIST		(1u << 1)
/*
 * Userspace only (colod top): where the class came from, enum class_source
 * of user/sense/classify.h (QoS directory, rule, pod label, priority class).
 */
#define COLOD_CG_SRC_SHIFT	8
#define COLOD_CG_SRC_MASK	(0xfu << COLOD_CG_SRC_SHIFT)
#define COLOD_CG_SRC(flags)	(((flags) & COLOD_CG_SRC_MASK) >> COLOD_CG_SRC_SHIFT)

/* Written by userspace: the class of a cgroup and its LS latency target. */
struct colod_cg_class {
	__u32 cls;			/* enum colod_class */
	__u32 flags;			/* COLOD_CG_* */
	__u64 threshold_ns;		/* LS run-queue latency above this breaches */
	__u64 last_event_ns;		/* kernel-owned: rate limit state */
};

/*
 * Ring-buffer record of one LS latency breach that BE is to blame for: the
 * task that had the CPU until the late LS task got it was in a BE cgroup.
 */
struct colod_breach_event {
	__u64 cgroup_id;
	__u64 be_cgroup_id;		/* the cgroup of that BE task */
	__u64 latency_ns;
	__u64 ts_ns;			/* bpf_ktime_get_ns() at switch-in */
	__u32 pid;
	__u32 cpu;
	char comm[16];
};

/* Global counters (per-CPU array), indexed by enum colod_counter. */
enum colod_counter {
	COLOD_CNT_STATS_FULL = 0,	/* cg_stats or cg_hist insert failed: map full */
	COLOD_CNT_RINGBUF_DROP,		/* ring buffer reserve failed */
	COLOD_CNT_RATE_LIMITED,		/* breach not sent: rate limit */
	COLOD_CNT_STATS_UNTRACKED,	/* cg_stats near full: a sample of a
					 * cgroup colod does not track dropped */
	COLOD_CNT_NR,
};

/* Node headroom published by a running agent (array map, one entry). */
struct colod_headroom {
	__u64 updated_ns;		/* CLOCK_MONOTONIC of the computation */
	__u64 capacity_cpu_milli;
	__u64 capacity_memory_bytes;
	__u64 batch_cpu_milli;
	__u64 batch_memory_bytes;
	__u64 mid_cpu_milli;
	__u64 mid_memory_bytes;
	__u64 ls_used_cpu_milli;
	__u64 system_used_cpu_milli;
	__u64 be_quota_milli;		/* current BE CPU allowance */
};

/* Slot of a latency in microseconds; shared by the BPF side and the tests. */
static inline __u32 colod_hist_slot(__u64 us)
{
	__u32 log2 = 0;
	__u64 v = us;

	if (us < COLOD_HIST_SUB)
		return (__u32)us;
	/* branch-free floor(log2) keeps the verifier and the hot path happy */
	if (v >> 32) { v >>= 32; log2 += 32; }
	if (v >> 16) { v >>= 16; log2 += 16; }
	if (v >> 8) { v >>= 8; log2 += 8; }
	if (v >> 4) { v >>= 4; log2 += 4; }
	if (v >> 2) { v >>= 2; log2 += 2; }
	if (v >> 1) { log2 += 1; }
	if (log2 > COLOD_HIST_MAX_LOG2)
		return COLOD_HIST_SLOTS - 1;
	return (log2 - COLOD_HIST_SUB_BITS + 1) * COLOD_HIST_SUB +
	       (__u32)((us >> (log2 - COLOD_HIST_SUB_BITS)) & (COLOD_HIST_SUB - 1));
}

#endif /* COLOD_COLOD_H */
