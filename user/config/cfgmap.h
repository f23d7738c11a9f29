/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The configuration (Koordinator's ConfigMap keys) mapped onto the plain
 * parameters of the pure policy and headroom modules.
 */
#ifndef COLOD_CFGMAP_H
#define COLOD_CFGMAP_H

#include "config.h"
#include "headroom.h"
#include "policy.h"

void cfgmap_policy(const struct colod_config *c, struct policy_params *p);
void cfgmap_headroom(const struct colod_config *c, struct headroom_params *p);
/* LS run-queue latency target of a cgroup that matched rule (-1: none). */
uint64_t cfgmap_latency_target_us(const struct colod_config *c, int rule);

#endif /* COLOD_CFGMAP_H */
