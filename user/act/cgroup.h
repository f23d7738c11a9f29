/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * cgroup knobs and readers for cgroup v1, v2 and hybrid hosts.
 *
 * A cgroup is named by its path relative to the hierarchy root, with or
 * without a leading '/' ("/kubepods/besteffort/pod1", "" or "/" for the
 * root); on v1 the same relative path is used in every controller's
 * hierarchy (cpu, cpuacct, cpuset, memory), as kubelet and runc lay it out.
 *
 * Every write goes through journal_write(), so the original is journaled
 * first, a value already in place is not written, and a cgroup that
 * vanished returns -ENOENT without an error message. Values are checked
 * before writing with the errors the kernel would return (cpu.weight out of
 * range: -ERANGE; cpu.max quota/period out of range: -EINVAL). See
 * docs/ENFORCEMENT.md for the v1 <-> v2 mapping.
 */
#ifndef COLOD_CGROUP_H
#define COLOD_CGROUP_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "journal.h"

#define CG_ROOT_DEFAULT		"/sys/fs/cgroup"

enum cg_kind {
	CG_NONE = 0,
	CG_V1,		/* v1 controllers only */
	CG_V2,		/* one unified hierarchy with controllers */
	CG_HYBRID,	/* v1 controllers plus an (empty) v2 at <root>/unified */
};

struct cg_ctx {
	enum cg_kind mode;
	char root[PATH_MAX];
	/* v1/hybrid: each controller's hierarchy; v2: all equal to root. */
	char cpu[PATH_MAX];
	char cpuacct[PATH_MAX];
	char cpuset[PATH_MAX];
	char memory[PATH_MAX];
	char unified[PATH_MAX];	/* v2 root, or hybrid's <root>/unified; "" if none */
	long page_size;
};

/* ---- pure helpers ----------------------------------------------------- */

#define CG_SHARES_MIN		2ULL
#define CG_SHARES_MAX		262144ULL
#define CG_WEIGHT_MIN		1ULL
#define CG_WEIGHT_MAX		10000ULL
#define CG_QUOTA_MIN_US		1000LL		/* kernel: min_cfs_quota_period */
#define CG_PERIOD_MIN_US	1000ULL
#define CG_PERIOD_MAX_US	1000000ULL	/* kernel: max_cfs_quota_period */

/*
 * Mode from statfs magics: of root, and of <root>/unified (0 if absent);
 * has_v1_ctrl: a v1 controller hierarchy is mounted below root. A v2
 * hierarchy at <root>/unified with no v1 controller is CG_V2 (rooted
 * there), as on systemd's hybrid layout booted with cgroup_no_v1=all.
 */
enum cg_kind cg_mode_from_magic(long root_magic, bool has_v1_ctrl,
				long unified_magic);
const char *cg_mode_name(enum cg_kind mode);

/* cpu.shares -> cpu.weight: 1 + ((shares - 2) * 9999) / 262142, clamped. */
uint64_t cg_shares_to_weight(uint64_t shares);
/* cpu.weight -> cpu.shares: the inverse, rounded up so weight round-trips. */
uint64_t cg_weight_to_shares(uint64_t weight);

/* "max 100000" / "50000 100000"; quota_us < 0 is unlimited. -EINVAL if bad. */
int cg_format_cpu_max(char *buf, size_t len, long long quota_us,
		      uint64_t period_us);
int cg_parse_cpu_max(const char *s, long long *quota_us, uint64_t *period_us);

/* Validate like the kernel: -EINVAL (quota/period), -ERANGE (weight). */
int cg_check_cpu_quota(long long quota_us, uint64_t period_us);
int cg_check_cpu_weight(uint64_t weight);

/* ---- context ---------------------------------------------------------- */

/*
 * Detect the mode from the statfs magic of root (NULL: /sys/fs/cgroup) and
 * its controller mounts, and fill in the hierarchy paths. The one cgroup
 * mode detector: the loader and the feature probe decide with it too.
 */
int cg_detect(struct cg_ctx *ctx, const char *root);
/* Lay out the paths for a given mode without looking (fake trees, tests). */
int cg_ctx_init(struct cg_ctx *ctx, enum cg_kind mode, const char *root);

/*
 * The path of file in cgroup rel of the hierarchy hier (ctx->cpu, ...).
 * file may be NULL for the directory itself. Returns -ENAMETOOLONG.
 */
int cg_path(char *buf, size_t len, const char *hier, const char *rel,
	    const char *file);

/* ---- knobs (all writes are journaled) --------------------------------- */

/*
 * CFS bandwidth: quota_us < 0 is unlimited; period_us == 0 keeps the
 * current period. v2: cpu.max. v1: cpu.cfs_quota_us + cpu.cfs_period_us;
 * when the period changes the quota goes to -1 first (always accepted),
 * then the period, then the quota; a rejected final step rolls both back.
 */
int cg_set_cpu_quota(const struct cg_ctx *ctx, struct journal *j,
		     const char *rel, long long quota_us, uint64_t period_us);
/*
 * The files cg_set_cpu_quota() writes for rel, in its write order (v2:
 * cpu.max; v1: cpu.cfs_quota_us, cpu.cfs_period_us): 1 or 2, or -errno.
 */
int cg_cpu_quota_paths(const struct cg_ctx *ctx, const char *rel,
		       char paths[2][PATH_MAX]);
/* weight 1..10000. v2: cpu.weight; v1: cpu.shares = cg_weight_to_shares(). */
int cg_set_cpu_weight(const struct cg_ctx *ctx, struct journal *j,
		      const char *rel, uint64_t weight);
/* v1 only: cpu.shares 2..262144 as is. v2: cpu.weight converted. */
int cg_set_cpu_shares(const struct cg_ctx *ctx, struct journal *j,
		      const char *rel, uint64_t shares);
/*
 * BE's EEVDF slice ns (journal_slice(), in the cpu hierarchy: threads are
 * the same in every one): journaled for the tree of top_rel, and given to
 * the threads of rel (NULL: none).
 */
int cg_set_sched_slice(const struct cg_ctx *ctx, struct journal *j,
		       const char *top_rel, const char *rel, uint64_t ns);
/* cpu.idle (both). -EOPNOTSUPP if the kernel has no cpu.idle. */
int cg_set_cpu_idle(const struct cg_ctx *ctx, struct journal *j,
		    const char *rel, bool idle);
/* cpuset.cpus, a cpu list such as "0-1,3". */
int cg_set_cpuset_cpus(const struct cg_ctx *ctx, struct journal *j,
		       const char *rel, const char *cpus);
/*
 * Memory, bytes (rounded down to the page, as the kernel stores it), < 0 for
 * unlimited ("max"; v1: the kernel's unlimited value). v1 mapping:
 *   max  -> memory.limit_in_bytes
 *   low  -> memory.soft_limit_in_bytes
 *   high -> memory.high where the kernel has it on v1 (Alibaba Cloud Linux,
 *           as Koordinator does), else -EOPNOTSUPP
 *   min  -> memory.min likewise, else -EOPNOTSUPP
 */
int cg_set_mem_max(const struct cg_ctx *ctx, struct journal *j,
		   const char *rel, long long bytes);
int cg_set_mem_high(const struct cg_ctx *ctx, struct journal *j,
		    const char *rel, long long bytes);
int cg_set_mem_low(const struct cg_ctx *ctx, struct journal *j,
		   const char *rel, long long bytes);
int cg_set_mem_min(const struct cg_ctx *ctx, struct journal *j,
		   const char *rel, long long bytes);

/* ---- readers ------------------------------------------------------------ */

struct cg_cpu_stat {
	uint64_t usage_ns;	/* v1: cpuacct.usage; v2: usage_usec * 1000 */
	uint64_t nr_periods;
	uint64_t nr_throttled;
	uint64_t throttled_ns;	/* v1: throttled_time; v2: throttled_usec * 1000 */
};

int cg_read_cpu_usage(const struct cg_ctx *ctx, const char *rel,
		      uint64_t *usage_ns);
/* usage_ns is filled too (from cpuacct on v1). */
int cg_read_cpu_stat(const struct cg_ctx *ctx, const char *rel,
		     struct cg_cpu_stat *st);
/* quota_us = -1 when unlimited. */
int cg_read_cpu_quota(const struct cg_ctx *ctx, const char *rel,
		      long long *quota_us, uint64_t *period_us);
int cg_read_cpu_weight(const struct cg_ctx *ctx, const char *rel,
		       uint64_t *weight);
int cg_read_cpu_shares(const struct cg_ctx *ctx, const char *rel,
		       uint64_t *shares);
/*
 * Memory in use without page cache (Koordinator's usageWithoutPageCache):
 * v1 memory.usage_in_bytes - total_inactive_file; v2 memory.current -
 * inactive_file; never below 0.
 */
int cg_read_mem_usage(const struct cg_ctx *ctx, const char *rel,
		      uint64_t *bytes);
/* memory.max / memory.limit_in_bytes; -1 when unlimited. */
int cg_read_mem_limit(const struct cg_ctx *ctx, const char *rel,
		      long long *bytes);

/* kernfs id of the cgroup (the inode of its directory) in the cpu hierarchy. */
int cg_id(const struct cg_ctx *ctx, const char *rel, uint64_t *id);

/*
 * Walk the cpu hierarchy (v2: the unified one) from rel (NULL: root), pre-
 * order. relpath starts with '/' ("/" for the root). The callback returns
 * 0 to go on, CG_WALK_SKIP not to descend, < 0 to stop (returned). Cgroups
 * that vanish during the walk are skipped.
 */
#define CG_WALK_SKIP	1
typedef int (*cg_walk_fn)(const char *relpath, uint64_t id, int depth,
			  void *arg);
int cg_walk(const struct cg_ctx *ctx, const char *rel, cg_walk_fn fn,
	    void *arg);

/* pids in cgroup.procs of the cpu hierarchy; *pids is malloc'd. */
int cg_read_pids(const struct cg_ctx *ctx, const char *rel, pid_t **pids,
		 size_t *nr);

/*
 * Evict: kill every process in rel and below. v2: cgroup.kill; v1 (or a v2
 * without cgroup.kill): SIGKILL each pid of cgroup.procs, repeated until
 * empty, bounded (about 1 s); -EBUSY if tasks remain. Never kills colod:
 * v1 spares its pid, v2 refuses (-EPERM) a subtree that holds it.
 */
int cg_kill(const struct cg_ctx *ctx, const char *rel);

#endif /* COLOD_CGROUP_H */
