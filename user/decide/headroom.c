// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Batch and Mid headroom: Koordinator's formulas (pkg/slo-controller/
 * noderesource/plugins/util CalculateBatchResourceByPolicy and
 * CalculateMidResourceByPolicy) over millicores and bytes.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "headroom.h"
#include "minmax.h"

static const char *const res_name[HEADROOM_NR_RES] = { "cpu", "memory" };

void headroom_params_default(struct headroom_params *p)
{
	memset(p, 0, sizeof(*p));
	p->reclaim_threshold_percent[HEADROOM_CPU] = 60;
	p->reclaim_threshold_percent[HEADROOM_MEMORY] = 65;
	p->policy[HEADROOM_CPU] = HEADROOM_POLICY_USAGE;
	p->policy[HEADROOM_MEMORY] = HEADROOM_POLICY_USAGE;
	p->batch_threshold_percent[HEADROOM_CPU] = HEADROOM_UNSET;
	p->batch_threshold_percent[HEADROOM_MEMORY] = HEADROOM_UNSET;
	p->mid_threshold_percent[HEADROOM_CPU] = 100;
	p->mid_threshold_percent[HEADROOM_MEMORY] = 100;
	p->degrade_time_minutes = 15;
	p->resource_diff_threshold = 0.1;
	p->update_time_threshold_seconds = 300;
}

static const char *const policy_names[] = {
	[HEADROOM_POLICY_USAGE] = "usage",
	[HEADROOM_POLICY_REQUEST] = "request",
	[HEADROOM_POLICY_MAX_USAGE_REQUEST] = "maxUsageRequest",
};

int headroom_policy_from_name(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(policy_names) / sizeof(policy_names[0]); i++)
		if (name && !strcmp(name, policy_names[i]))
			return (int)i;
	return -1;
}

const char *headroom_policy_name(enum headroom_policy policy)
{
	if ((unsigned int)policy >= sizeof(policy_names) / sizeof(policy_names[0]))
		return "?";
	return policy_names[policy];
}

static uint64_t sub_sat(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

/* value * percent / 100 without overflow; truncates like Koordinator's
 * int64(float64(v) * ratio). */
static uint64_t percent_of(uint64_t value, uint64_t percent)
{
	return (uint64_t)((unsigned __int128)value * percent / 100);
}

bool headroom_degraded(const struct headroom_params *p, uint64_t measured_ns,
		       uint64_t now_ns)
{
	uint64_t max_age = (uint64_t)p->degrade_time_minutes * 60 * HEADROOM_NS_PER_S;

	if (!measured_ns || measured_ns > now_ns)
		return true;
	return now_ns - measured_ns > max_age;
}

/*
 * Batch for one resource:
 *   usage:           capacity - margin - max(system, reserved) - LS used
 *   request:         capacity - margin - reserved - LS request
 *   maxUsageRequest: capacity - margin - max(system, reserved)
 *                    - sum(max(LS request, LS used))
 * clamped at zero, then at capacity * batch threshold when that is set.
 */
static void batch_one(const struct headroom_params *p, enum headroom_res r,
		      const struct headroom_res_input *in,
		      struct headroom_res_result *out)
{
	enum headroom_policy policy = p->policy[r];
	uint64_t reclaim = min_u64(p->reclaim_threshold_percent[r], 100);
	uint64_t sys, ls, batch;
	const char *ls_label;
	int32_t cap_pct = p->batch_threshold_percent[r];

	/* Koordinator has no CPU "request" policy: it falls to "usage". */
	if (r == HEADROOM_CPU && policy == HEADROOM_POLICY_REQUEST)
		policy = HEADROOM_POLICY_USAGE;

	out->safety_margin = percent_of(in->capacity, 100 - reclaim);
	out->system_used = max_u64(in->system_used, in->reserved);
	switch (policy) {
	case HEADROOM_POLICY_REQUEST:
		sys = in->reserved;
		ls = in->ls_request;
		ls_label = "reserved";
		break;
	case HEADROOM_POLICY_MAX_USAGE_REQUEST:
		sys = out->system_used;
		ls = in->ls_max_used_request;
		ls_label = "systemUsed";
		break;
	default:
		sys = out->system_used;
		ls = in->ls_used;
		ls_label = "systemUsed";
		break;
	}
	out->ls_term = ls;
	batch = sub_sat(sub_sat(sub_sat(in->capacity, out->safety_margin), sys), ls);
	if (cap_pct >= 0)
		batch = min_u64(batch, percent_of(in->capacity, (uint64_t)cap_pct));
	out->batch = batch;

	snprintf(out->formula, sizeof(out->formula),
		 "%s batch %" PRIu64 " = capacity %" PRIu64 " - margin %" PRIu64
		 " - %s %" PRIu64 " - ls(%s) %" PRIu64 "%s; mid %" PRIu64
		 " = min(reclaimable %" PRIu64 ", unused %" PRIu64 ") cap %u%%",
		 res_name[r], batch, in->capacity, out->safety_margin, ls_label,
		 sys, headroom_policy_name(policy), ls,
		 cap_pct >= 0 ? " (capped)" : "", out->mid, in->mid_reclaimable,
		 out->node_unused, p->mid_threshold_percent[r]);
}

/* Mid = min(min(LS reclaimable, node unused), capacity * mid threshold). */
static void mid_one(const struct headroom_params *p, enum headroom_res r,
		    const struct headroom_res_input *in,
		    struct headroom_res_result *out)
{
	uint64_t cap = percent_of(in->capacity, min_u64(p->mid_threshold_percent[r], 100));

	out->node_unused = sub_sat(in->capacity, in->node_used);
	out->mid = min_u64(min_u64(in->mid_reclaimable, out->node_unused), cap);
}

void headroom_compute(const struct headroom_params *p,
		      const struct headroom_input *in,
		      struct headroom_result *out)
{
	int r;

	memset(out, 0, sizeof(*out));
	out->degraded = headroom_degraded(p, in->measured_ns, in->now_ns);
	for (r = 0; r < HEADROOM_NR_RES; r++) {
		mid_one(p, r, &in->res[r], &out->res[r]);
		batch_one(p, r, &in->res[r], &out->res[r]);
		if (out->degraded) {
			out->res[r].batch = 0;
			out->res[r].mid = 0;
			snprintf(out->res[r].formula, sizeof(out->res[r].formula),
				 "%s batch 0, mid 0: degraded, measurements older than %u min",
				 res_name[r], p->degrade_time_minutes);
		}
	}
}

bool headroom_is_diff(uint64_t old_v, uint64_t new_v, double threshold)
{
	double diff = old_v > new_v ? (double)(old_v - new_v) : (double)(new_v - old_v);

	return diff > (double)old_v * threshold;
}

bool headroom_gate_update(struct headroom_gate *g,
			  const struct headroom_params *p,
			  const struct headroom_result *r, uint64_t now_ns)
{
	uint64_t max_age = (uint64_t)p->update_time_threshold_seconds * HEADROOM_NS_PER_S;
	bool publish = !g->published || now_ns < g->published_ns ||
		       now_ns - g->published_ns > max_age;
	int i;

	for (i = 0; i < HEADROOM_NR_RES && !publish; i++)
		publish = headroom_is_diff(g->batch[i], r->res[i].batch,
					   p->resource_diff_threshold) ||
			  headroom_is_diff(g->mid[i], r->res[i].mid,
					   p->resource_diff_threshold);
	if (!publish)
		return false;
	g->published = true;
	g->published_ns = now_ns;
	for (i = 0; i < HEADROOM_NR_RES; i++) {
		g->batch[i] = r->res[i].batch;
		g->mid[i] = r->res[i].mid;
	}
	return true;
}

/* kubelet: MinShares = 2, SharesPerCPU = 1024. */
#define KUBE_MIN_SHARES		2ULL

uint64_t lsreq_cpu_from_shares(uint64_t shares)
{
	if (shares <= KUBE_MIN_SHARES)
		return 0;
	return (shares * 1000 + 1023) / 1024;
}

uint64_t lsreq_memory_request(uint64_t memory_min, uint64_t memory_limit)
{
	if (memory_min && memory_min != HEADROOM_UNLIMITED)
		return memory_min;
	if (memory_limit != HEADROOM_UNLIMITED)
		return memory_limit;
	return 0;
}
