// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include "cfgmap.h"

static void map_class(const struct qos_class_cfg *q, struct policy_class_qos *o)
{
	o->cpu_enable = q->cpu.enable;
	o->memory_enable = q->memory.enable;
	o->min_limit_pct = q->memory.min_limit_percent;
	o->low_limit_pct = q->memory.low_limit_percent;
	o->throttling_pct = q->memory.throttling_percent;
	o->resctrl_enable = q->resctrl.enable;
	o->cat_start_pct = q->resctrl.cat_range_start_percent;
	o->cat_end_pct = q->resctrl.cat_range_end_percent;
	o->mba_pct = q->resctrl.mba_percent;
}

void cfgmap_policy(const struct colod_config *c, struct policy_params *p)
{
	const struct threshold_cfg *t = &c->threshold;

	policy_params_default(p);
	map_class(&c->qos.cls[QOS_LS], &p->qos[COLOD_CLASS_LS]);
	map_class(&c->qos.cls[QOS_BE], &p->qos[COLOD_CLASS_BE]);
	map_class(&c->qos.cls[QOS_SYSTEM], &p->qos[COLOD_CLASS_SYSTEM]);
	p->suppress_enable = t->enable;
	p->suppress_policy = t->cpu_suppress_policy == SUPPRESS_CPUSET ?
			     POLICY_SUPPRESS_CPUSET : POLICY_SUPPRESS_CFS_QUOTA;
	p->cpu_suppress_threshold_pct = t->cpu_suppress_threshold_percent;
	if (t->cpu_suppress_min_percent != CONFIG_UNSET)
		p->cpu_suppress_min_pct = t->cpu_suppress_min_percent;
	p->mem_evict_enable = t->enable;
	p->mem_evict_threshold_pct = t->memory_evict_threshold_percent;
	p->mem_evict_lower_pct = config_memory_evict_lower(t);
	/* latency feedback needs the suppress loop: same switch */
	p->latency_feedback = t->enable;
	p->judge_window_ms = (uint32_t)c->own.cut_verdict_window_ms;
	p->be_slice_us = (uint32_t)c->own.be_sched_slice_us;
}

static enum headroom_policy calc_policy(enum calc_policy c)
{
	switch (c) {
	case CALC_REQUEST:
		return HEADROOM_POLICY_REQUEST;
	case CALC_MAX_USAGE_REQUEST:
		return HEADROOM_POLICY_MAX_USAGE_REQUEST;
	default:
		return HEADROOM_POLICY_USAGE;
	}
}

void cfgmap_headroom(const struct colod_config *c, struct headroom_params *p)
{
	const struct colocation_cfg *k = &c->colocation;

	headroom_params_default(p);
	p->reclaim_threshold_percent[HEADROOM_CPU] = k->cpu_reclaim_threshold_percent;
	p->reclaim_threshold_percent[HEADROOM_MEMORY] = k->memory_reclaim_threshold_percent;
	p->policy[HEADROOM_CPU] = calc_policy(k->cpu_calculate_policy);
	p->policy[HEADROOM_MEMORY] = calc_policy(k->memory_calculate_policy);
	p->mid_threshold_percent[HEADROOM_CPU] = k->mid_cpu_threshold_percent;
	p->mid_threshold_percent[HEADROOM_MEMORY] = k->mid_memory_threshold_percent;
	p->degrade_time_minutes = k->degrade_time_minutes;
	p->resource_diff_threshold = k->resource_diff_threshold;
	p->update_time_threshold_seconds = k->update_time_threshold_seconds;
}

uint64_t cfgmap_latency_target_us(const struct colod_config *c, int rule)
{
	if (rule >= 0 && rule < c->own.nr_rules && c->own.rules[rule].latency_target_us)
		return c->own.rules[rule].latency_target_us;
	return c->own.ls_latency_target_us;
}
