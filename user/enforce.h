/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Carrying out the policy's decisions on cgroups: static QoS for a newly
 * classified cgroup, and the dynamic BE limits. Every write is journaled
 * (cgroup.c -> journal.c) and every action is one structured log line.
 */
#ifndef COLOD_ENFORCE_H
#define COLOD_ENFORCE_H

#include <stdio.h>
#include "cgroup.h"
#include "policy.h"
#include "resctrl.h"
#include "track.h"

struct enforcer {
	struct cg_ctx *cg;
	struct journal *j;
	struct policy_caps caps;
	const char *resctrl_root;
	struct resctrl_info resctrl;	/* .mounted false: no resctrl */
	bool resctrl_group_ready[COLOD_CLASS_NR];
	FILE *action_log;		/* JSON lines for the demo and bench; may be NULL */
	uint64_t nr_actions[POLICY_ACTION_NR];
	uint64_t nr_write_errors;
};

void enforce_static_qos(struct enforcer *e, const struct policy_params *p,
			struct tracked *t);
/*
 * Apply one policy action to every top-level BE cgroup (the node-wide CPU
 * allowance is split evenly among them) and log it.
 */
void enforce_action(struct enforcer *e, const struct policy_params *p,
		    struct track *t, const struct policy_action *a,
		    const char *trigger);
/*
 * Journal the originals of the BE CPU knobs the dynamic limits write, with
 * one save, ahead of any cut (after each scan that classified cgroups).
 */
void enforce_prepare(struct enforcer *e, const struct policy_params *p,
		     const struct track *t);
/* Keep the tasks of LS and BE cgroups in their resctrl groups (each tick). */
void enforce_resctrl_tasks(struct enforcer *e, const struct track *t);
/* Put a new BE cgroup under the allowance currently in force. */
void enforce_current(struct enforcer *e, const struct policy_params *p,
		     const struct policy_state *s, struct tracked *be,
		     int nr_be_top, uint64_t capacity_milli);

#endif /* COLOD_ENFORCE_H */
