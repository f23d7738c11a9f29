/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The headroom of a tick: Batch (the short-term LS peak) and Mid (the
 * long-term model, checkpointed in the state dir) from the snapshot and
 * the tracked cgroups, published to the headroom map, /metrics and, in a
 * cluster, the node's status (k8s.c) through its diff-or-age gate.
 */
#ifndef COLOD_PUBLISH_H
#define COLOD_PUBLISH_H

#include "config.h"
#include "headroom.h"
#include "k8s.h"
#include "maps.h"
#include "policy.h"
#include "predictor.h"
#include "shortterm.h"
#include "snapshot.h"
#include "track.h"

struct publisher {
	const struct colod_maps *maps;
	const char *state_dir;
	struct k8s_publisher *k8s;	/* NULL outside a cluster */
	struct headroom_gate gate;
	struct shortterm ls_cpu_peak;
	struct shortterm ls_mem_peak;
	struct predictor *pred;		/* the long-term (Mid) model */
	struct colod_headroom published;
	struct headroom_input last_in;	/* the last tick's inputs and result, */
	struct headroom_result last_r;	/* for the flight recorder */
	uint64_t nr_ticks;
};

/* The Mid model starts from its checkpoint. 0 or -ENOMEM. */
int publish_start(struct publisher *p, const struct colod_maps *maps,
		  const char *state_dir);
void publish_tick(struct publisher *p, const struct headroom_params *hp,
		  const struct colod_config *cfg, const struct policy_state *ps,
		  const struct track *t, const struct snapshot *snap);
/* Checkpoint the Mid model and free it. */
void publish_stop(struct publisher *p);

#endif /* COLOD_PUBLISH_H */
