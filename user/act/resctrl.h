/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * resctrl: L3 cache allocation (CAT) and memory bandwidth allocation (MBA)
 * for the LS and BE classes, in the manner of Koordinator's koordlet: one
 * resctrl group per class, schemata written for every cache id the machine
 * has, tasks of the class's cgroups moved into the group and kept there.
 *
 * Pure functions (mask and percent arithmetic, schemata text, the checks
 * the kernel makes on a schemata write) are separate from the I/O
 * (detect, group creation, schemata and tasks writes). All I/O takes the
 * resctrl root as an argument (default /sys/fs/resctrl, --resctrl-root).
 * See docs/RESCTRL.md.
 */
#ifndef COLOD_RESCTRL_H
#define COLOD_RESCTRL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct journal;

#define RESCTRL_ROOT_DEFAULT	"/sys/fs/resctrl"
#define RESCTRL_GROUP_LS	"LS"
#define RESCTRL_GROUP_BE	"BE"
#define RESCTRL_MAX_IDS		64	/* cache ids (L3 domains) */
#define RESCTRL_MB_MAX		100	/* MBA percent */
#define RESCTRL_SCHEMATA_MAX	2048

/* What the resctrl mount offers, from info/ and the root schemata. */
struct resctrl_info {
	bool mounted;			/* root has info/ and schemata */
	bool has_l3;			/* info/L3 and an L3 line */
	uint64_t cbm_mask;		/* info/L3/cbm_mask: all ways */
	unsigned int cbm_bits;		/* ways: bits in cbm_mask */
	unsigned int min_cbm_bits;	/* info/L3/min_cbm_bits */
	unsigned int l3_closids;	/* info/L3/num_closids */
	uint64_t shareable_bits;	/* info/L3/shareable_bits */
	bool sparse_masks;		/* info/L3/sparse_masks is 1 */
	int nr_l3_ids;
	int l3_ids[RESCTRL_MAX_IDS];	/* cache ids, as the root schemata lists them */
	bool has_mb;			/* info/MB and an MB line */
	unsigned int mb_min;		/* info/MB/min_bandwidth (percent) */
	unsigned int mb_gran;		/* info/MB/bandwidth_gran (percent) */
	unsigned int mb_closids;	/* info/MB/num_closids */
	int nr_mb_ids;
	int mb_ids[RESCTRL_MAX_IDS];
};

/* One class's share: L3 ways [start, end) percent, MBA percent. */
struct resctrl_qos {
	int cat_start_pct;		/* 0..99 */
	int cat_end_pct;		/* 1..100, > start */
	int mba_pct;			/* 1..100, rounded as the kernel rounds; 0: MB left alone */
};

/* The parsed content of a schemata file: only L3 and MB lines are kept. */
struct resctrl_schemata {
	int nr_l3;
	int l3_id[RESCTRL_MAX_IDS];
	uint64_t l3[RESCTRL_MAX_IDS];
	int nr_mb;
	int mb_id[RESCTRL_MAX_IDS];
	unsigned int mb[RESCTRL_MAX_IDS];
	int nr_other;			/* lines of other resources (L2, L3CODE, ...) */
};

/* ---- pure ---- */

/*
 * The CAT mask of ways [ceil(bits*start/100), ceil(bits*end/100)) of a
 * cbm_bits-way cache (Koordinator's rounding), widened to min_bits ways
 * (upwards, then downwards at the top) so the kernel accepts it. 0 when
 * the arguments make no mask (bits 0 or > 64, percents out of 0..100 or
 * start >= end).
 */
uint64_t resctrl_cat_mask(unsigned int cbm_bits, unsigned int min_bits,
			  int start_pct, int end_pct);

/*
 * The MB percent the kernel will hold for pct: clamped to [min_bw, 100]
 * and rounded up to a multiple of gran (the kernel rounds up, so writing
 * the rounded value keeps the already-in-place check exact).
 */
unsigned int resctrl_mb_round(unsigned int min_bw, unsigned int gran, int pct);

/* Parse info values: "7ff\n" -> 0x7ff etc. 0 or -EINVAL. */
int resctrl_parse_cbm(const char *text, uint64_t *mask, unsigned int *bits);

/*
 * Parse schemata text ("    L3:0=7ff;2=7ff\n    MB:0=100;2=100\n", names
 * padded as the kernel pads them). Lines of other resources are skipped.
 * -EINVAL on a malformed L3/MB line, -E2BIG over RESCTRL_MAX_IDS.
 */
int resctrl_schemata_parse(const char *text, struct resctrl_schemata *out);

/*
 * Build the schemata for a class: "L3:<id>=<mask>;...\nMB:<id>=<pct>;...\n"
 * over every cache id info lists (the L3 line only if has_l3, the MB line
 * only if has_mb and mba_pct is not 0). Returns the length (0: nothing to
 * write), -EINVAL for a qos that makes no mask, -ENOSPC if len is too small.
 */
int resctrl_schemata_line(char *buf, size_t len, const struct resctrl_info *info,
			  const struct resctrl_qos *qos);

/*
 * What the kernel checks on a schemata write, so that a bad value is
 * refused here with a reason rather than by the kernel: resources and
 * cache ids that exist, masks non-zero, within cbm_mask, contiguous
 * (unless sparse_masks) and at least min_cbm_bits wide, MB within
 * [min_bandwidth, 100]. 0 or -EINVAL with the reason in why.
 */
int resctrl_schemata_check(const struct resctrl_info *info, const char *text,
			   char *why, size_t why_len);

/*
 * True when every value want sets is already what cur holds (MB compared
 * after the kernel's rounding), so the write can be skipped.
 */
bool resctrl_schemata_satisfied(const struct resctrl_info *info,
				const char *cur, const char *want);

/* ---- I/O ---- */

/*
 * Read root/info and the root schemata. A missing mount is not an error:
 * 0 with info->mounted false. A malformed info file is -EINVAL, reported
 * with its path and content.
 */
int resctrl_detect(const char *root, struct resctrl_info *info);

/*
 * Make the group root/name exist. A directory colod creates is noted in
 * the journal first (so restore removes it, even after a crash), then
 * made; an existing one (another agent's, or ours from before) is used as
 * it is. Returns 1 if created, 0 if it existed, -errno (ENOSPC: no CLOSID
 * left) reported with the path.
 */
int resctrl_group_ensure(const char *root, const char *name, struct journal *j);

/*
 * Write schemata text to root/name/schemata through the journal, in one
 * write (the kernel applies all lines of a write or none). Skipped when
 * already in place (returns 0); checked first with resctrl_schemata_check.
 * Returns 1 when written, -errno when refused, reported with path, value,
 * errno and the kernel's info/last_cmd_status.
 */
int resctrl_schemata_write(const char *root, const char *name,
			   const struct resctrl_info *info, const char *text,
			   struct journal *j);

/*
 * ensure + schemata for one class; a group created by this call is removed
 * again if its schemata cannot be written, so nothing is left half-done.
 * Returns 0 or -errno.
 */
int resctrl_apply_class(const char *root, const char *name,
			const struct resctrl_info *info,
			const struct resctrl_qos *qos, struct journal *j);

/*
 * Move tasks into root/group by writing each id to its tasks file, one per
 * write. Ids already in the group (its tasks file is read first) are
 * skipped; an id that exited meanwhile (ESRCH) is not an error. Note that
 * resctrl moves one thread per id: pass thread ids (a cgroup's "tasks" in
 * v1, "cgroup.threads" in v2), not only process ids. A refused id does not
 * stop the others (a removed group does). Returns the number moved, or the
 * first -errno other than a vanished task's.
 */
int resctrl_assign_tasks(const char *root, const char *group,
			 const pid_t *tids, int nr);

/*
 * Read a list of ids, one a line (a cgroup's tasks, cgroup.threads or
 * cgroup.procs, a resctrl tasks file). *ids is malloc'ed. Returns the
 * count or -errno (-ENOENT: the cgroup is gone).
 */
int resctrl_read_ids(const char *path, pid_t **ids);

/* What one resctrl_assign_subtree() call did. */
struct resctrl_assign_stats {
	int cgroups;		/* cgroups whose thread list was read */
	int threads;		/* distinct thread ids listed in them */
	int moved;		/* written into the group */
	int vanished;		/* exited before their write (ESRCH): not errors */
	int failed;		/* reads and writes that failed otherwise */
};

/*
 * Put every thread of a cgroup subtree into root/group. resctrl has no
 * hierarchy: under kubelet the BE top cgroup (kubepods/besteffort) holds
 * no task itself, its threads are in pod<uid>/<container> below, so
 * cgroup_dir (in any one hierarchy) is walked recursively and each
 * cgroup's "tasks" (v1) or "cgroup.threads" (v2) read. The group's tasks
 * file is read once and ids already there are not written again, so a
 * tick where nothing changed reads and writes no more than that. The
 * runtime forks new containers' tasks outside the group: the agent calls
 * this every tick. A cgroup that vanishes during the walk is skipped, a
 * thread that exited before its write (ESRCH) counted as vanished. st
 * (may be NULL) gets the counts. Returns the number moved, or the first
 * -errno (the failures are reported with their path; the walk and the
 * writes go on past one, not past a removed group). 0 when cgroup_dir is
 * gone.
 */
int resctrl_assign_subtree(const char *root, const char *group,
			   const char *cgroup_dir, struct resctrl_assign_stats *st);

/* resctrl_assign_subtree() without the counts (the agent's call). */
int resctrl_assign_cgroup(const char *root, const char *group,
			  const char *cgroup_dir);

#endif /* COLOD_RESCTRL_H */
