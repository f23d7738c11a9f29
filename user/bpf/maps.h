/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Reading and writing colod's BPF maps by fd, so that the same code serves
 * a freshly loaded skeleton and the pinned maps of a running agent.
 */
#ifndef COLOD_MAPS_H
#define COLOD_MAPS_H

#include <stdbool.h>
#include <stdint.h>
#include "colod/colod.h"

struct colod_maps {
	int stats_fd;			/* cg_stats: counters, every cgroup that ran */
	int hist_fd;			/* cg_hist: histograms, LS cgroups */
	int class_fd;
	int events_fd;
	int cg_events_fd;		/* ids of cgroups made and removed; -1 for pinned maps */
	int counters_fd;
	int headroom_fd;
	/* entries in cg_stats, the BPF side's own count (mapped .bss); NULL: unknown */
	const volatile __u64 *stats_nr;
};

/* Open the maps pinned under pin_dir; -errno (ENOENT: no agent there). */
int maps_open_pinned(const char *pin_dir, struct colod_maps *m);
void maps_close(struct colod_maps *m);

/* The counters of one cgroup; -ENOENT when it has none. */
int maps_read_cnt(const struct colod_maps *m, uint64_t cgid, struct colod_cg_counters *cnt);
/* Its histogram (COLOD_HIST_SLOTS); -ENOENT and zero slots without one (not LS, no wait yet). */
int maps_read_hist(const struct colod_maps *m, uint64_t cgid, __u32 *hist);
/* Its counters and histogram (zero slots without one); -ENOENT without counters. */
int maps_read_stats(const struct colod_maps *m, uint64_t cgid,
		    struct colod_cg_stats *s);

/*
 * Call fn for every entry of cg_stats (counters) or of cg_hist, batched;
 * stops and returns fn's value when it is non-zero.
 */
int maps_for_each_cnt(const struct colod_maps *m,
		      int (*fn)(uint64_t cgid, const struct colod_cg_counters *c, void *ctx),
		      void *ctx);
int maps_for_each_hist(const struct colod_maps *m,
		       int (*fn)(uint64_t cgid, const struct colod_cg_hist *h, void *ctx),
		       void *ctx);
/* Both, for every cgroup in cg_stats: one more lookup each (tools). */
int maps_for_each_stats(const struct colod_maps *m,
			int (*fn)(uint64_t cgid, const struct colod_cg_stats *s, void *ctx),
			void *ctx);

int maps_set_class(const struct colod_maps *m, uint64_t cgid,
		   enum colod_class cls, uint64_t threshold_ns, uint32_t flags);
int maps_del_class(const struct colod_maps *m, uint64_t cgid);
int maps_read_counters(const struct colod_maps *m, uint64_t out[COLOD_CNT_NR]);
int maps_write_headroom(const struct colod_maps *m, const struct colod_headroom *h);
int maps_read_headroom(const struct colod_maps *m, struct colod_headroom *h);

/* a - b for every counter (runq_max_ns is taken from a). */
void cg_counters_delta(const struct colod_cg_counters *a, const struct colod_cg_counters *b,
		       struct colod_cg_counters *out);
void cg_stats_delta(const struct colod_cg_stats *a, const struct colod_cg_stats *b,
		    struct colod_cg_stats *out);

/*
 * Whether the waits of a delta (or reading) are in its histogram: false
 * when it has waits but no slots, a cgroup without a cg_hist entry (on a
 * running agent's maps, any but LS).
 */
bool cg_stats_has_hist(const struct colod_cg_stats *d);

#endif /* COLOD_MAPS_H */
