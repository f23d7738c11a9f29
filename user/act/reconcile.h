/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Act: carry a decision out, level-triggered. Every knob of the decision is
 * read back and written only where it differs (journal_write: the original
 * is journaled before the first write, drift is counted); after a tick's
 * decision, every knob colod wrote and no longer wants gets its original
 * back (journal_sweep). Evictions, resctrl groups and their tasks, and one
 * log line per policy action are done here too.
 */
#ifndef COLOD_RECONCILE_H
#define COLOD_RECONCILE_H

#include <stdio.h>
#include "cgroup.h"
#include "decide.h"
#include "policy.h"
#include "resctrl.h"
#include "track.h"

struct reconciler {
	struct cg_ctx *cg;
	struct journal *j;
	struct policy_caps caps;
	const char *resctrl_root;
	struct resctrl_info resctrl;	/* .mounted false: no resctrl */
	bool resctrl_group_ready[COLOD_CLASS_NR];
	FILE *action_log;		/* JSON lines for the demo and bench; may be NULL */
	uint64_t nr_actions[POLICY_ACTION_NR];
	uint64_t nr_write_errors;
	uint64_t nr_evicted;		/* cgroups killed */
};

/*
 * Carry out d over the track t. trigger names what caused it (a breach) or
 * is NULL. A full decision (d->cpu_only false) also releases what is no
 * longer wanted and keeps resctrl's tasks in their groups.
 */
void reconcile(struct reconciler *r, const struct policy_params *p,
	       struct track *t, const struct decision *d, const char *trigger);

#endif /* COLOD_RECONCILE_H */
