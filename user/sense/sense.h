/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Sense: fill one snapshot per tick. Finds and classes the cgroups (a full
 * walk while it is cheap), tells the kernel side each one's class, reads
 * the BPF counters of the tracked ones, the node from /proc and the memory
 * of the cgroups that memory decisions need.
 */
#ifndef COLOD_SENSE_H
#define COLOD_SENSE_H

#include "cgroup.h"
#include "cgscan.h"
#include "config.h"
#include "maps.h"
#include "podsource.h"
#include "snapshot.h"
#include "track.h"

struct sensor {
	struct cg_ctx *cg;
	const struct colod_maps *maps;
	struct cgscan *scan;
	struct track *track;
	const struct colod_config *cfg;	/* the configuration in force */
	struct node_sample node_prev;
	uint64_t last_tick_ns;
	uint64_t next_scan_ns;
	uint64_t last_walk_ns;
	uint64_t nr_ticks;
	uint64_t capacity_milli;
	struct podsource *pods;		/* NULL: classes by QoS directory and rules only */
	struct pod_view view;		/* the last good list of the pod source */
	bool have_view;
	uint64_t nr_pod_fallback;	/* pod cgroups classed by directory, their pod unknown */
	uint64_t nr_breach_chance;	/* events over twice the budget, yet chance */
};

/* Start: the node's first reading and the first walk. */
void sense_start(struct sensor *s);
/* One tick's snapshot. */
void sense_tick(struct sensor *s, struct snapshot *out);
/*
 * Cgroups were made or removed: 0 when a walk ran now (then reconcile),
 * else the nanoseconds until the next walk may run.
 */
uint64_t sense_cgroups_changed(struct sensor *s);
/* The configuration changed: rules re-class at the next walk, LS targets now. */
void sense_config_changed(struct sensor *s);
/*
 * After a reconcile: tell the kernel side which BE cgroups are idle-class
 * (their pod, or their top, holds cpu.idle=1), for its blame of waits.
 */
void sense_class_flags(struct sensor *s);
/*
 * A breach event of LS cgroup cgid: true when its BE-caused breaches over
 * the last 50 ms exceed twice its p99 budget (the event is then worth a cut).
 * The window's waits and breaches go into b for decide (the evidence a
 * distrusted cgroup needs, the density a cut is judged against).
 */
bool sense_breach(struct sensor *s, uint64_t cgid, uint64_t now_ns, struct policy_breach *b);
/* Stop the pod source (if any) and free its view. */
void sense_stop(struct sensor *s);
/* The memory of t (tops and BE pods), cached over a few ticks. */
uint64_t sense_memory(struct sensor *s, struct tracked *t);

#endif /* COLOD_SENSE_H */
