/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * BE's EEVDF slice: a custom slice (sched_setattr's sched_runtime, 6.12+)
 * on every thread of a BE cgroup. A task whose slice is shorter than the
 * running one's preempts it at wake-up (PREEMPT_SHORT), and a group's slice
 * is the shortest of its queued tasks', at every level: so a long slice on
 * BE's threads lets LS preempt BE where their cgroups meet, even where
 * cpu.idle cannot be (kubepods/besteffort, whose cpu.shares kubelet
 * writes). docs/ENFORCEMENT.md, "BE's slice".
 */
#ifndef COLOD_SLICE_H
#define COLOD_SLICE_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Whether this kernel keeps a custom slice for a SCHED_OTHER task, probed
 * in a child process: the caller's slice is left as it was.
 */
bool slice_supported(void);

/*
 * Give every SCHED_OTHER/BATCH/IDLE thread of the cgroup at dir and the
 * cgroups below it (their cgroup.threads, on v1 their tasks) the slice ns,
 * or with ns 0 the kernel's default; with only_ns, only threads whose slice
 * is only_ns now (a reset leaves alone a slice someone else set). Threads
 * that exit meanwhile are skipped. Returns the number of threads changed,
 * or -errno: -ENOENT when the cgroup is gone, or the first refusal.
 */
int slice_set_tree(const char *dir, uint64_t ns, uint64_t only_ns);
/* The same for the threads of the cgroup at dir alone. */
int slice_set_cgroup(const char *dir, uint64_t ns, uint64_t only_ns);

#endif /* COLOD_SLICE_H */
