/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What one tick senses (sense.c), all of it, before anything is decided:
 * the node from /proc, the tracked cgroups' BPF counters summed per class
 * (their per-cgroup readings stay in the track), the memory of the topmost
 * cgroup of each class, and the configuration generation in force.
 */
#ifndef COLOD_SNAPSHOT_H
#define COLOD_SNAPSHOT_H

#include <stdint.h>
#include "colod/colod.h"
#include "node.h"
#include "track.h"

struct snapshot {
	uint64_t now_ns;		/* CLOCK_MONOTONIC */
	uint64_t tick_ns;		/* since the last snapshot */
	uint64_t capacity_milli;	/* node CPU capacity */
	uint64_t node_busy_milli;	/* node CPU in use over the tick */
	struct node_sample node;	/* cumulative CPU, memory now */
	struct class_sums sum[COLOD_CLASS_NR];
	uint64_t mem_used[COLOD_CLASS_NR];	/* topmost cgroups, without page cache */
	uint64_t config_gen;		/* configurations loaded so far */
};

#endif /* COLOD_SNAPSHOT_H */
