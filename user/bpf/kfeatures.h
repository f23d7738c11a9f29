/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Kernel features colod relies on, probed once at start, and what colod
 * does without each of them. Probing is I/O (bpf(2), /proc, cgroupfs);
 * parsing and the fallback decisions are pure functions over the structs
 * below so that they can be tested without the kernel in question.
 */
#ifndef COLOD_KFEATURES_H
#define COLOD_KFEATURES_H

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include "cgroup.h"

enum feat_id {
	FEAT_BTF = 0,		/* /sys/kernel/btf/vmlinux: CO-RE relocations */
	FEAT_TP_BTF,		/* BTF-typed raw tracepoints (tp_btf/sched_switch) */
	FEAT_TASK_STORAGE,	/* task storage usable from tracing programs */
	FEAT_RINGBUF,		/* BPF_MAP_TYPE_RINGBUF */
	FEAT_BPF_ATOMICS,	/* BPF_CMPXCHG */
	FEAT_CGROUP_V2,		/* pure cgroup v2 (no v1 controller mounted) */
	FEAT_CG_CPU,		/* cpu controller usable for child cgroups */
	FEAT_CG_CPUSET,		/* cpuset controller usable for child cgroups */
	FEAT_CG_MEMORY,		/* memory controller usable for child cgroups */
	FEAT_CPU_IDLE,		/* cpu.idle (SCHED_IDLE for a whole cgroup, 5.15+) */
	FEAT_RESCTRL,		/* /sys/fs/resctrl mounted */
	FEAT_SCHED_SLICE,	/* a custom EEVDF slice for SCHED_OTHER tasks (6.12+) */
	FEAT_NR,
};

enum feat_state {
	FEAT_NO = 0,
	FEAT_YES = 1,
	FEAT_UNKNOWN = 2,	/* could not probe (e.g. no CAP_BPF) */
};

/* Controller bits, as found in cgroup.controllers or v1 mount options. */
#define CG_CTRL_CPU	(1u << 0)
#define CG_CTRL_CPUSET	(1u << 1)
#define CG_CTRL_MEMORY	(1u << 2)
#define CG_CTRL_IO	(1u << 3)
#define CG_CTRL_PIDS	(1u << 4)
#define CG_CTRL_CPUACCT	(1u << 5)	/* v1 only */

/* Where the cgroup hierarchies are, as read from the mount table. */
struct cg_layout {
	enum cg_kind mode;	/* cg_mode_from_magic() of the mounts below */
	char unified[PATH_MAX];	/* cgroup2 mount point, "" if none */
	char cpu[PATH_MAX];	/* hierarchy of the cpu controller, "" if none */
	char cpuset[PATH_MAX];
	char memory[PATH_MAX];
	unsigned int v1_ctrls;	/* controllers bound to v1 hierarchies */
};

#define FEAT_DETAIL_MAX	160

struct colod_features {
	enum feat_state state[FEAT_NR];
	char detail[FEAT_NR][FEAT_DETAIL_MAX];	/* why, where, or how to enable */
	struct cg_layout cg;
	unsigned int v2_available;	/* root cgroup.controllers (v2) */
	unsigned int v2_enabled;	/* root cgroup.subtree_control (v2) */
	char kernel[72];		/* uname -r */
};

/*
 * What colod does with the features found: the agent reads this rather
 * than the raw states, so that every fallback is decided in one place.
 */
struct colod_plan {
	bool bpf;		/* load and attach the BPF sampler */
	bool use_dfl_cgroup;	/* BPF attributes to the default (v2) hierarchy */
	bool cpu_v2_knobs;	/* cpu.max / cpu.weight, else cfs_quota_us / shares */
	bool cpu_throttle;	/* any CPU knob may be written */
	bool cpu_idle;		/* BE gets cpu.idle = 1 */
	bool memory_high;	/* BE memory.high is written (v2 only) */
	bool cpuset;		/* BE cpusets may be written */
	bool task_storage;	/* BPF stamps in task storage, else a pid-keyed hash */
	bool bpf_atomics;	/* BPF_CMPXCHG, else plain stores */
	bool resctrl;		/* L3 / MB partitioned through resctrl */
	bool sched_slice;	/* BE threads get beSchedSliceUs (slice.h) */
};

const char *feat_name(enum feat_id id);
const char *feat_state_name(enum feat_state st);

/*
 * Probe everything. cgroup_root is where cgroup filesystems are mounted
 * (NULL: "/sys/fs/cgroup"). loaded: the choices of the caller's loaded
 * programs (loader_choices()), which answer the BPF probes without parsing
 * the kernel's BTF a second time; NULL: probe as the loader would
 * (loader_probe()), so that `colod features` says what the load will do.
 * Never fails for a missing feature (that is a FEAT_NO with a detail);
 * returns -errno only if the mount table is unreadable.
 */
struct loader_choices;
int features_probe(struct colod_features *f, const char *cgroup_root,
		   const struct loader_choices *loaded);

/*
 * COLOD_FORCE_FALLBACK=name[,name...]: take the fallback of these features
 * even where the kernel has them (task_storage, atomics, cpu_idle), so that
 * a fallback can be tested and measured on a kernel that does not need it.
 */
#define COLOD_FORCE_ENV	"COLOD_FORCE_FALLBACK"
bool features_forced_off(const char *name);

/* Decide the plan from probed (or hand-made) features. Pure. */
void features_plan(const struct colod_features *f, struct colod_plan *p);

/* One line: what colod does without feature id, given the features. Pure. */
const char *features_fallback(const struct colod_features *f, enum feat_id id);

/* colod run cannot start here: its BPF programs cannot load. */
bool features_fatal(const struct colod_features *f);

/*
 * Pure parsers. Controller lists are space separated ("cpuset cpu io
 * memory"); unknown names are ignored. The mount table is /proc/self/mounts
 * text; only mounts at or below cgroup_root are considered. Returns 0 or
 * -EINVAL for a malformed line.
 */
unsigned int features_parse_controllers(const char *text);
int features_parse_mounts(const char *text, const char *cgroup_root,
			  struct cg_layout *out);

/*
 * For the agent at start: one warning per missing feature naming what colod
 * does without it (pr_warn), one debug line per present one; an error if
 * nothing useful is left (features_fatal).
 */
void features_log(const struct colod_features *f);

/* Print the table (or JSON) of f to out. */
void features_print(FILE *out, const struct colod_features *f, bool json);

/* `colod features [--cgroup-root DIR] [--json]` */
int cmd_features(int argc, char **argv);

#endif /* COLOD_KFEATURES_H */
