/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * colod's configuration: the keys of Koordinator's slo-controller-config /
 * ACK's ack-slo-config ConfigMap (colocation-config, resource-threshold-config,
 * resource-qos-config) plus colod's own key (colod-config).
 *
 * Schema, key names and defaults are Koordinator's, so that an existing
 * ConfigMap works unchanged; docs/CONFIGURATION.md lists every key.
 *
 * Everything here is pure (strings in, plain structs out) except
 * config_load() and node_labels_parse(), which read files.
 */
#ifndef COLOD_CONFIG_H
#define COLOD_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "classify.h"

/* ConfigMap keys (file names in a mounted ConfigMap directory). */
#define CONFIG_KEY_COLOCATION	"colocation-config"
#define CONFIG_KEY_THRESHOLD	"resource-threshold-config"
#define CONFIG_KEY_QOS		"resource-qos-config"
#define CONFIG_KEY_COLOD	"colod-config"

/* A ConfigMap holds at most 1 MiB; anything bigger is not one. */
#define CONFIG_FILE_MAX		(1024 * 1024)

/* Optional integer fields that Koordinator leaves nil by default. */
#define CONFIG_UNSET		(-1)
/*
 * beSchedSliceUs: the kernel keeps a custom slice of 0.1 to 100 ms; the
 * default slice of other tasks is at most 3 ms (0.75 ms x (1 + log2 CPUs,
 * up to 8)), so 10 ms is the shortest that is always longer.
 */
#define CONFIG_BE_SLICE_MIN_US	10000U
#define CONFIG_BE_SLICE_MAX_US	100000U

/* Resource calculation policy for Batch resources (colocation-config). */
enum calc_policy {
	CALC_USAGE = 0,		/* "usage": reclaim requested-but-unused */
	CALC_REQUEST,		/* "request": memory only, no overcommit */
	CALC_MAX_USAGE_REQUEST,	/* "maxUsageRequest": max(usage, request) */
};

/* How BE CPU is suppressed (resource-threshold-config). */
enum cpu_suppress_policy {
	SUPPRESS_CPUSET = 0,	/* "cpuset": shrink the BE cpuset */
	SUPPRESS_CFS_QUOTA,	/* "cfsQuota": lower the BE CFS quota */
};

/* resource-qos-config policies.cpuPolicy. */
enum cpu_qos_policy {
	CPU_QOS_GROUP_IDENTITY = 0,	/* "groupIdentity" (Anolis kernels) */
	CPU_QOS_CORE_SCHED,		/* "coreSched": core scheduling + cpu.idle */
};

/* QoS classes of resource-qos-config, in this order. */
enum qos_class_idx {
	QOS_LSR = 0,	/* "lsrClass" */
	QOS_LS,		/* "lsClass" */
	QOS_BE,		/* "beClass" */
	QOS_SYSTEM,	/* "systemClass" */
	QOS_NR,
};

/* colocation-config (top-level fields plus "nodeConfigs"). */
struct colocation_cfg {
	bool enable;					/* default false */
	int metric_aggregate_duration_seconds;		/* s, >= 1, default 300 */
	int metric_report_interval_seconds;		/* s, >= 1, default 60 */
	int cpu_reclaim_threshold_percent;		/* % of node CPU, default 60 */
	int memory_reclaim_threshold_percent;		/* % of node memory, default 65 */
	enum calc_policy cpu_calculate_policy;		/* usage | maxUsageRequest */
	enum calc_policy memory_calculate_policy;	/* usage | request | maxUsageRequest */
	int degrade_time_minutes;			/* min, >= 1, default 15 */
	int update_time_threshold_seconds;		/* s, >= 1, default 300 */
	double resource_diff_threshold;			/* ratio in (0, 1], default 0.1 */
	int mid_cpu_threshold_percent;			/* %, [0, 100], default 100 */
	int mid_memory_threshold_percent;		/* %, [0, 100], default 100 */
};

/* resource-threshold-config (clusterStrategy / nodeStrategies). */
struct threshold_cfg {
	bool enable;					/* default false */
	int cpu_suppress_threshold_percent;		/* % of node CPU, default 65 */
	enum cpu_suppress_policy cpu_suppress_policy;	/* default cpuset */
	int cpu_suppress_min_percent;			/* %, default unset */
	int memory_evict_threshold_percent;		/* % of node memory, default 70 */
	int memory_evict_lower_percent;			/* %, unset: config_memory_evict_lower() */
	int cpu_evict_be_satisfaction_lower_percent;	/* %, default unset (off) */
	int cpu_evict_be_satisfaction_upper_percent;	/* %, default unset (off) */
	int cpu_evict_be_usage_threshold_percent;	/* %, default 90 */
};

struct cpu_qos_cfg {
	bool enable;
	int group_identity;	/* [-1, 2]: LSR/LS 2, BE -1, SYSTEM 0 */
	int sched_idle;		/* [0, 1]: cpu.idle; default 0 */
};

struct memory_qos_cfg {
	bool enable;
	int min_limit_percent;	/* % of memory request -> memory.min, default 0 */
	int low_limit_percent;	/* % of memory request -> memory.low, default 0 */
	int throttling_percent;	/* % between request and limit -> memory.high, 0 = off */
};

struct resctrl_qos_cfg {
	bool enable;
	int cat_range_start_percent;	/* % of L3 ways, default 0 */
	int cat_range_end_percent;	/* % of L3 ways, default 100 (BE: 30) */
	int mba_percent;		/* % of memory bandwidth, default 100 */
};

struct qos_class_cfg {
	struct cpu_qos_cfg cpu;
	struct memory_qos_cfg memory;
	struct resctrl_qos_cfg resctrl;
};

/* resource-qos-config. */
struct qos_cfg {
	enum cpu_qos_policy cpu_policy;		/* policies.cpuPolicy, default groupIdentity */
	struct qos_class_cfg cls[QOS_NR];
};

/* colod-config: what Koordinator does not have. */
struct colod_own_cfg {
	uint64_t ls_latency_target_us;		/* run-queue wait above this breaches, default 2000 */
	uint64_t breach_min_interval_ms;	/* per-cgroup breach event rate limit, default 10 */
	uint64_t cut_verdict_window_ms;		/* cuts judged over this long, 0 = off, default 2000 */
	uint64_t be_sched_slice_us;		/* BE threads' EEVDF slice, 0 = leave them alone */
	uint64_t node_cpu_capacity_milli;	/* bare metal override, 0 = detect */
	uint64_t node_memory_capacity_bytes;	/* bare metal override, 0 = detect */
	/* kubelet's --cgroup-root in the hierarchy, default "/": kubepods below it */
	char kubelet_cgroup_root[CLASSIFY_GLOB_MAX];
	int nr_rules;
	struct classify_rule rules[CLASSIFY_MAX_RULES];
};

enum config_key_idx {
	CFG_COLOCATION = 0,
	CFG_THRESHOLD,
	CFG_QOS,
	CFG_COLOD,
	CFG_NR_KEYS,
};

struct colod_config {
	struct colocation_cfg colocation;
	struct threshold_cfg threshold;
	struct qos_cfg qos;
	struct colod_own_cfg own;
	/* name of the node strategy that applied to each key, "" for none */
	char node_strategy[CFG_NR_KEYS][64];
};

/* Node labels for nodeSelector matching (--node-labels). */
#define NODE_LABELS_MAX		64
#define NODE_LABEL_KEY_MAX	320	/* prefix (253) + "/" + name (63) */
#define NODE_LABEL_VALUE_MAX	64	/* 63 + NUL */

struct node_label {
	char key[NODE_LABEL_KEY_MAX];
	char value[NODE_LABEL_VALUE_MAX];
};

struct node_labels {
	int nr;
	struct node_label l[NODE_LABELS_MAX];
};

/* Errors and warnings, each one line naming file, JSON path and value. */
#define CONFIG_MAX_MSGS		64
#define CONFIG_MSG_LEN		384

struct config_errors {
	int nr_errors;			/* stored plus dropped */
	int nr_warnings;
	char errors[CONFIG_MAX_MSGS][CONFIG_MSG_LEN];
	char warnings[CONFIG_MAX_MSGS][CONFIG_MSG_LEN];
};

void config_errors_init(struct config_errors *errs);
void config_error(struct config_errors *errs, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void config_warn(struct config_errors *errs, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Print every message, one a line, "error: ..." / "warning: ...". */
void config_errors_print(const struct config_errors *errs, FILE *f);

/* The effective configuration with nothing configured (Koordinator's). */
void config_defaults(struct colod_config *c);

/* Index of a ConfigMap key, -1 for a key colod does not know. */
int config_key_index(const char *key);

/*
 * Apply one ConfigMap key's JSON text on top of *inout: the cluster part
 * first, then the first node strategy whose nodeSelector matches labels
 * (labels may be NULL: a node without labels). file_name only labels
 * the messages. Every error is added to errs; on any error *inout is left
 * as it was and -EINVAL is returned, 0 otherwise. Unknown keys only warn.
 */
int config_parse_key(const char *key, const char *json_text, const char *file_name,
		     const struct node_labels *labels, struct colod_config *inout,
		     struct config_errors *errs);

/*
 * Parse a single JSON document holding the keys as members (each an object,
 * or a string of JSON as in a ConfigMap's data), or a whole ConfigMap as
 * JSON (its "data"). Starts from defaults; *out is written only on success.
 */
int config_parse_document(const char *json_text, const char *file_name,
			  const struct node_labels *labels, struct colod_config *out,
			  struct config_errors *errs);

/*
 * Load PATH: a directory as Kubernetes mounts a ConfigMap (one file per
 * key, read through the "..data" link when present so a concurrent update
 * is never half-seen), or one JSON file (config_parse_document). Missing
 * keys take their defaults. *out is written only on success (0); -EINVAL
 * for invalid content, -errno when PATH cannot be read (also in errs).
 */
int config_load(const char *path, const struct node_labels *labels,
		struct colod_config *out, struct config_errors *errs);

/* The configuration as one JSON document config_parse_document accepts; free(). */
char *config_to_json(const struct colod_config *c);

/*
 * --node-labels: "k=v,k2=v2" or a file with one k=v (or k="v", as the
 * downward API writes them) a line; '#' starts a comment. 0 or -errno.
 */
int node_labels_parse(const char *arg, struct node_labels *out);
/* The same over text: sep is ',' for an argument, '\n' for a file. */
int node_labels_parse_text(const char *text, char sep, struct node_labels *out);
/* Value of label key, NULL if absent. */
const char *node_labels_get(const struct node_labels *labels, const char *key);

/* memoryEvictLowerPercent in force: as set, or threshold - 2 as koordlet does. */
int config_memory_evict_lower(const struct threshold_cfg *t);

const char *calc_policy_name(enum calc_policy p);
const char *cpu_suppress_policy_name(enum cpu_suppress_policy p);
const char *cpu_qos_policy_name(enum cpu_qos_policy p);
const char *qos_class_key(enum qos_class_idx i);

/* Subcommands, wired in main.c: exit codes 0 ok, 1 invalid, 2 usage. */
int cmd_check_config(int argc, char **argv);
int cmd_config(int argc, char **argv);

#endif /* COLOD_CONFIG_H */
