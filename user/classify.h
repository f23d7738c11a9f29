/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Classification of cgroups into LS, BE and SYSTEM: pure functions over a
 * path relative to the hierarchy's mount point (e.g.
 * "/kubepods/besteffort/pod1234/abcd") and configured rules.
 */
#ifndef COLOD_CLASSIFY_H
#define COLOD_CLASSIFY_H

#include <stdbool.h>
#include <stdint.h>
#include "colod/colod.h"

#define CLASSIFY_GLOB_MAX	256
#define CLASSIFY_MAX_RULES	64

/* A bare-metal rule: cgroups whose path matches glob (fnmatch(3), no flags). */
struct classify_rule {
	char glob[CLASSIFY_GLOB_MAX];
	enum colod_class cls;
	uint64_t latency_target_us;	/* LS: run-queue latency target; 0 = default */
	uint64_t cpu_request_milli;	/* LS: CPU request on bare metal; 0 = none */
	uint64_t memory_request_bytes;	/* LS: memory request on bare metal; 0 = none */
};

struct classify_result {
	enum colod_class cls;
	bool is_qos;		/* kubelet's burstable / besteffort QoS-level cgroup */
	bool is_pod;		/* a pod-level cgroup (kubelet layouts) */
	bool is_container;	/* below a pod-level cgroup */
	int rule;		/* index of the matching rule, -1 for none */
	char pod_uid[64];	/* kubelet layouts: the pod's uid, "" otherwise */
};

/* kubelet's default --cgroup-root: kubepods right below the hierarchy root */
#define CLASSIFY_KUBELET_ROOT_DEFAULT	"/"

/*
 * Classify one cgroup. Rules are tried first, in order, then the kubelet
 * layouts (cgroupfs and systemd drivers) of the kubepods cgroup directly
 * below kubelet_root ("/", NULL: the hierarchy root; "/kubelet.slice": its
 * systemd prefix "kubelet-"); anything else is SYSTEM.
 */
void classify_path(const char *relpath, const char *kubelet_root,
		   const struct classify_rule *rules, int nr_rules,
		   struct classify_result *out);

/* "SYSTEM", "LS", "BE" by enum colod_class, NULL-terminated. */
extern const char *const class_names[COLOD_CLASS_NR + 1];
/* class_names[cls], "UNKNOWN" out of range. */
const char *class_name(enum colod_class cls);
/* "system", "ls", "be" (metrics labels, top); "-" out of range. */
const char *class_label(int cls);
/* "LS", "BE", "SYSTEM" (case-insensitive) -> class; -1 if unknown. */
int class_from_name(const char *name);

#endif /* COLOD_CLASSIFY_H */
