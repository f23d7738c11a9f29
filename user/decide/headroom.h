/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Batch and Mid headroom of a node, computed as Koordinator's slo-controller
 * computes batch-cpu/batch-memory and mid-cpu/mid-memory, but every second on
 * the node itself. Pure functions over plain structs: no clock, no I/O, so
 * every formula is tested with hand-derived numbers (see docs/HEADROOM.md).
 *
 * Units: CPU in millicores, memory in bytes, times in nanoseconds of one
 * clock chosen by the caller (CLOCK_MONOTONIC in the agent).
 */
#ifndef COLOD_HEADROOM_H
#define COLOD_HEADROOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HEADROOM_NS_PER_S	1000000000ULL
#define HEADROOM_UNSET		(-1)	/* a batch threshold percent not set */
#define HEADROOM_UNLIMITED	UINT64_MAX

/* Koordinator's colocation-config calculatePolicy values. */
enum headroom_policy {
	HEADROOM_POLICY_USAGE = 0,		/* "usage" (default) */
	HEADROOM_POLICY_REQUEST,		/* "request" (memory only) */
	HEADROOM_POLICY_MAX_USAGE_REQUEST,	/* "maxUsageRequest" */
};

enum headroom_res { HEADROOM_CPU = 0, HEADROOM_MEMORY = 1, HEADROOM_NR_RES = 2 };

/* The colocation-config strategy fields this module needs. */
struct headroom_params {
	/* safety margin = capacity * (100 - reclaim threshold) / 100 */
	uint32_t reclaim_threshold_percent[HEADROOM_NR_RES];	/* 60, 65 */
	/* cpu: usage | maxUsageRequest ("request" acts as "usage", as in
	 * Koordinator); memory: usage | request | maxUsageRequest */
	enum headroom_policy policy[HEADROOM_NR_RES];
	/* Batch capped at capacity * percent / 100; HEADROOM_UNSET = no cap */
	int32_t batch_threshold_percent[HEADROOM_NR_RES];
	/* Mid capped at capacity * percent / 100 */
	uint32_t mid_threshold_percent[HEADROOM_NR_RES];	/* 100, 100 */
	uint32_t degrade_time_minutes;				/* 15 */
	double resource_diff_threshold;				/* 0.1 */
	uint32_t update_time_threshold_seconds;			/* 300 */
};

/* Koordinator's defaults (DefaultColocationStrategy). */
void headroom_params_default(struct headroom_params *p);

/* "usage", "request", "maxUsageRequest" -> policy; -1 if unknown. */
int headroom_policy_from_name(const char *name);
const char *headroom_policy_name(enum headroom_policy policy);

/* What the agent measured for one resource; see docs/HEADROOM.md. */
struct headroom_res_input {
	uint64_t capacity;	/* node capacity (cores*1000, MemTotal) */
	uint64_t node_used;	/* node usage (memory without page cache) */
	uint64_t system_used;	/* node used - all pods/cgroups used, >= 0 */
	uint64_t reserved;	/* max(kubelet reserved, node annotation) */
	uint64_t ls_used;	/* short-term peak of sum of LS usage */
	uint64_t ls_request;	/* sum of LS requests */
	uint64_t ls_max_used_request; /* sum over LS cgroups of max(request,
				       * used): the maxUsageRequest term */
	uint64_t mid_reclaimable; /* long-term reclaimable LS resources, from
				   * predictor_reclaimable(); 0 = no model */
};

struct headroom_input {
	struct headroom_res_input res[HEADROOM_NR_RES];
	uint64_t measured_ns;	/* when the measurements were taken; 0 = never */
	uint64_t now_ns;
};

struct headroom_res_result {
	uint64_t batch;
	uint64_t mid;
	/* the terms, for `colod headroom` and the metrics */
	uint64_t safety_margin;
	uint64_t system_used;	/* max(system used, reserved) */
	uint64_t node_unused;	/* capacity - node used, >= 0 */
	uint64_t ls_term;	/* what the policy subtracted for LS */
	char formula[256];	/* e.g. "batch 1200 = 4000 - 1600 - ..." */
};

struct headroom_result {
	struct headroom_res_result res[HEADROOM_NR_RES];
	bool degraded;		/* measurements too old: batch = mid = 0 */
};

/* Compute Batch and Mid for both resources; never fails. */
void headroom_compute(const struct headroom_params *p,
		      const struct headroom_input *in,
		      struct headroom_result *out);

/*
 * True when measurements taken at measured_ns are too old at now_ns: older
 * than degrade_time_minutes (strictly), never taken, or from the future.
 */
bool headroom_degraded(const struct headroom_params *p, uint64_t measured_ns,
		       uint64_t now_ns);

/*
 * Publish gate: a new headroom is published when any of Batch/Mid CPU/memory
 * moves by more than resource_diff_threshold of the published value
 * (|new - old| > old * threshold, Koordinator's IsQuantityDiff), or when the
 * published one is older than update_time_threshold_seconds, or on the first
 * call.
 */
struct headroom_gate {
	bool published;
	uint64_t published_ns;
	uint64_t batch[HEADROOM_NR_RES];
	uint64_t mid[HEADROOM_NR_RES];
};

/* Returns true (and records r as published at now_ns) when r should go out. */
bool headroom_gate_update(struct headroom_gate *g,
			  const struct headroom_params *p,
			  const struct headroom_result *r, uint64_t now_ns);

/* Koordinator's IsQuantityDiff: |new - old| > old * threshold. */
bool headroom_is_diff(uint64_t old_v, uint64_t new_v, double threshold);

/*
 * LS requests and limits from what kubelet writes into pod cgroups. Pure:
 * the caller reads the files. See docs/HEADROOM.md for which value is used
 * for what.
 */

/* cgroup v1 cpu.shares -> CPU request in millicores. kubelet writes
 * shares = milli * 1024 / 1000 (floored, at least 2), so the inverse rounds
 * up, which gives the request back exactly; 2 (the minimum) means none. */
uint64_t lsreq_cpu_from_shares(uint64_t shares);

/* The memory request that cgroups reveal: memory.min (kubelet's MemoryQoS
 * writes the request there) when non-zero, else a finite limit (exact for
 * Guaranteed pods), else 0 (unknown). The agent passes 0 for memory.min:
 * colod's own memory QoS writes it on LS. */
uint64_t lsreq_memory_request(uint64_t memory_min, uint64_t memory_limit);

#endif /* COLOD_HEADROOM_H */
