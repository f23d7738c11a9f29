/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The LS and BE cgroups the agent follows, and what the kernel measured
 * for them over the last tick, summed per class.
 */
#ifndef COLOD_TRACK_H
#define COLOD_TRACK_H

#include <stdbool.h>
#include <stdint.h>
#include "colod/colod.h"
#include "hist.h"
#include "maps.h"
#include "policy.h"

/*
 * What only an LS cgroup needs: its p99 is judged at every tick from the
 * slots' delta, and /metrics' histogram is counted here in 64-bit buckets
 * that never wrap. 1.5 KB a cgroup, which BE cgroups (half of a node's) do
 * without.
 */
struct tracked_ls {
	__u32 runq_prev[COLOD_HIST_SLOTS];	/* the kernel's slots at the last tick */
	uint64_t runq_buckets[HIST_PROM_BUCKETS];	/* /metrics: all waits so far */
	struct breach_snap {			/* counters at recent breach events */
		uint64_t t_ns, samples, breaches, breaches_all;
	} snap[8];
	unsigned int nsnap;
};

struct tracked {
	uint64_t id;
	char *path;			/* relative to the hierarchy root */
	enum colod_class cls;
	int rule;			/* classification rule, -1: kubelet layout */
	int cls_src;			/* enum class_source: directory, rule, label, priority */
	long long batch_cpu_milli;	/* BE pod: its own kubernetes.io/batch-cpu limit, 0: none */
	long long batch_mem_bytes;	/* BE pod: its own kubernetes.io/batch-memory limit, 0: none */
	bool top;			/* no tracked ancestor of the same class */
	int top_of;			/* index of its topmost same-class ancestor (or itself) */
	bool kubelet;			/* in kubelet's layout: kubelet and the runtime write here */
	bool is_pod;			/* kubelet's pod-level cgroup */
	int pod_of;			/* index of its pod-level ancestor (or itself), -1: none */
	int nr_below;			/* tracked cgroups below it */
	uint32_t scan_gen;		/* the scan that found it */
	bool cpu_idle;			/* cpu.idle 1 in force, written by colod */
	bool limits_read;		/* mem_limit and the requests are read (tops) */
	long long mem_limit;		/* tops: memory limit, -1: none or not read */
	uint32_t class_flags;		/* COLOD_CG_* as last written to cg_class */
	uint64_t latency_target_us;	/* LS */
	uint64_t cpu_request_milli;	/* LS tops: rule or cpu.shares */
	uint64_t mem_request_bytes;	/* LS tops: rule or the memory limit */
	uint64_t cpu_milli;		/* last tick, this cgroup's own tasks */
	uint64_t tree_cpu_milli;	/* tops: last tick, the whole subtree */
	uint64_t mem_bytes;		/* tops: memory in use without page cache */
	bool no_memory;			/* not in the memory hierarchy */
	bool mem_read;			/* mem_bytes holds a reading */
	double p99_us;			/* last tick, 0 without samples */
	uint64_t tick_samples;		/* last tick: run-queue waits */
	uint64_t tick_breaches;		/* last tick: LS waits over target, any cause */
	uint64_t tick_breaches_be;	/* last tick: those BE is to blame for */
	uint64_t tick_reclaim_ns;	/* last tick: in direct (global) reclaim */
	struct colod_cg_counters prev;	/* cumulative at the last tick */
	struct tracked_ls *ls;		/* LS only, else NULL */
};

struct class_sums {
	uint64_t cpu_milli;
	uint64_t breaches;		/* LS: BE's breaches, of cgroups over their 1% budget only */
	uint64_t direct_reclaim_ns;	/* global reclaim: what BE can relieve */
	uint32_t worst_p99_milli;	/* worst p99 / target x 1000, of those LS cgroups only */
	uint64_t runq_count;
};

struct track {
	struct tracked *v;
	int nr, cap;
	uint32_t scan_gen;		/* walks done so far */
	int nr_top[COLOD_CLASS_NR];	/* as of the last track_mark_tops() */
	struct class_sums sum[COLOD_CLASS_NR];
};

struct tracked *track_add(struct track *t, uint64_t id, const char *path,
			  enum colod_class cls, int rule);
void track_remove(struct track *t, uint64_t id);
/* Take a new cgroup's counters as they are now, so its first tick is a delta. */
void track_start(struct tracked *e, const struct colod_maps *m);
/*
 * An LS cgroup's waits per slot since the last tick (d, modulo 2^32: right
 * across a slot's wrap); its buckets count them and its slots move on to now.
 */
void track_ls_delta(struct tracked_ls *ls, const __u32 *now, __u32 *d);
/* The entry of cgroup id, or NULL; const-agnostic, as strchr: decide reads through it. */
struct tracked *track_find(const struct track *t, uint64_t id);
/*
 * An LS cgroup's latency target is a p99: 1% of its waits may exceed it.
 * Breaches beyond that budget (and at least a handful, so that one slow
 * wake-up among few samples is not read as interference) mean BE hurts it.
 */
#define TRACK_BREACH_MIN	POLICY_BREACH_MIN
/* From this many tracked cgroups, cg_stats is read in batches (track_measure). */
#define TRACK_BATCH_MIN		64
bool track_over_budget(uint64_t breaches, uint64_t samples, unsigned int budget_pct);

/* Recompute the top flags, pods and counts below after additions and removals. */
void track_mark_tops(struct track *t);
/* Read every tracked cgroup's counters; tick_ns is the time since the last. */
void track_measure(struct track *t, const struct colod_maps *m, uint64_t tick_ns);
int track_count_top(const struct track *t, enum colod_class cls);
void track_free(struct track *t);

#endif /* COLOD_TRACK_H */
