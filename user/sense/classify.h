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

/* Where a cgroup's class came from (colod top shows it). */
enum class_source {
	CLASS_SRC_DIR = 0,	/* kubelet's QoS directories (or SYSTEM by default) */
	CLASS_SRC_RULE,		/* a configured rule */
	CLASS_SRC_LABEL,	/* the pod's koordinator.sh/qosClass label */
	CLASS_SRC_PRIORITY,	/* the pod's Koordinator priority class */
	CLASS_SRC_NR,
};

/* koordinator.sh/qosClass */
enum koord_qos {
	KOORD_QOS_NONE = 0,	/* no label, or a value Koordinator does not define */
	KOORD_QOS_LSE,
	KOORD_QOS_LSR,
	KOORD_QOS_LS,
	KOORD_QOS_BE,
	KOORD_QOS_SYSTEM,
};

/* Koordinator priority classes: koord-prod [9000, 9999], mid [7000, 7999], ... */
enum koord_priority {
	KOORD_PRIO_NONE = 0,
	KOORD_PRIO_PROD,
	KOORD_PRIO_MID,
	KOORD_PRIO_BATCH,
	KOORD_PRIO_FREE,
};

/* What a pod's spec says about its class (podsource.c fills it in). */
struct classify_pod_meta {
	enum koord_qos qos;
	enum koord_priority prio;
};

struct classify_result {
	enum colod_class cls;
	enum class_source src;	/* classify_path(): DIR or RULE; classify_pod(): also LABEL, PRIORITY */
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

/*
 * A pod's metadata over a path's result (a pod or container cgroup of the
 * kubelet layout, out of classify_path()): a configured rule stays (the
 * operator's override); else the koordinator.sh/qosClass label decides
 * (LSE, LSR, LS -> LS; BE -> BE; SYSTEM -> SYSTEM); else the priority class
 * (koord-prod -> LS; koord-batch, koord-free -> BE; koord-mid has no say);
 * else the QoS directory's class stays. docs/CLASSIFICATION.md.
 */
void classify_pod(const struct classify_pod_meta *m, struct classify_result *out);
/* "LSE", "LSR", "LS", "BE", "SYSTEM" (exact, as Koordinator compares) -> KOORD_QOS_*. */
enum koord_qos koord_qos_parse(const char *s);
/*
 * The priority class: a koord-* priorityClassName, else spec.priority by
 * Koordinator's ranges (has_priority false: no spec.priority).
 */
enum koord_priority koord_priority_of(const char *class_name, bool has_priority,
				      long long priority);
const char *koord_qos_name(enum koord_qos q);
/* "dir", "rule", "label", "prio"; "-" out of range. */
const char *class_source_name(int src);

/* "SYSTEM", "LS", "BE" by enum colod_class, NULL-terminated. */
extern const char *const class_names[COLOD_CLASS_NR + 1];
/* class_names[cls], "UNKNOWN" out of range. */
const char *class_name(enum colod_class cls);
/* "system", "ls", "be" (metrics labels, top); "-" out of range. */
const char *class_label(int cls);
/* "LS", "BE", "SYSTEM" (case-insensitive) -> class; -1 if unknown. */
int class_from_name(const char *name);

#endif /* COLOD_CLASSIFY_H */
