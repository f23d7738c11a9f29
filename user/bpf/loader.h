/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Lifecycle of colod's BPF programs: pre-flight checks, choice of the
 * attribution hierarchy, load, attach, pin. Map access is in maps.h.
 */
#ifndef COLOD_LOADER_H
#define COLOD_LOADER_H

#include <stdbool.h>
#include <stdint.h>
#include <bpf/libbpf.h>
#include "maps.h"

enum attr_mode {
	ATTR_AUTO = 0,	/* v2 when cg_detect() finds v2, else the v1 cpu hierarchy */
	ATTR_V1,	/* the v1 hierarchy of the cpu controller */
	ATTR_V2,	/* the default (unified) hierarchy */
};

struct loader_opts {
	const char *pin_dir;		/* NULL: do not pin */
	const char *cgroup_root;	/* default /sys/fs/cgroup */
	enum attr_mode mode;
	uint32_t max_cgroups;		/* 0: COLOD_MAX_CGROUPS_DEFAULT */
	uint64_t breach_min_interval_ns;
};

/*
 * The kernel-dependent choices of the load, made by loader_probe() and
 * read by `colod features` and the agent (features_probe()), so that what
 * colod says is what it does.
 */
struct loader_choices {
	bool task_storage;	/* task_ts is task storage; else a pid-keyed hash */
	bool atomics;		/* BPF_CMPXCHG; else plain stores (may lose a race) */
	bool unknown;		/* a probe lacked privilege: the load will tell */
	uint32_t task_entries;	/* max_entries of the hash when !task_storage */
	char task_storage_why[96];
	char atomics_why[96];
};

struct colod_bpf;

/*
 * Probe task storage (map, and its helpers from tracing programs: 5.12)
 * and BPF_CMPXCHG (5.12); honours COLOD_FORCE_FALLBACK (kfeatures.h).
 */
void loader_probe(struct loader_choices *c);
const struct loader_choices *loader_choices(const struct colod_bpf *b);
/* libbpf's messages off (a probe that fails is an answer); the old printer */
libbpf_print_fn_t loader_quiet(void);

/* Check, load, attach and (if asked) pin; -errno with the reason logged. */
int loader_open(const struct loader_opts *o, struct colod_bpf **out);
/* Detach, unpin and free. */
void loader_close(struct colod_bpf *b);

const struct colod_maps *loader_maps(const struct colod_bpf *b);
/* The hierarchy whose directory inodes are the ids the programs report. */
const char *loader_hier_root(const struct colod_bpf *b);
bool loader_uses_v2(const struct colod_bpf *b);

/* ATTR_* from "auto", "v1", "v2"; -EINVAL otherwise. */
int attr_mode_parse(const char *s, enum attr_mode *out);
/*
 * Resolve a mode and the matching hierarchy root (a buffer of PATH_MAX)
 * from what cg_detect() finds under cgroup_root (NULL: /sys/fs/cgroup).
 */
int attr_mode_resolve(const char *cgroup_root, enum attr_mode mode,
		      enum attr_mode *resolved, char *hier_root, size_t len);

#endif /* COLOD_LOADER_H */
