/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Helpers for real-kernel tests on cgroup v1 (and hybrid) hosts: make and
 * remove a test cgroup in a set of v1 controllers, spawn busy, periodic or
 * memory-holding children into it, measure its CPU through cpuacct.
 *
 * Rules they keep (see the helper brief): test cgroups are named
 * "colod-test-..." and only those are ever removed; every child dies with
 * the test process (PR_SET_PDEATHSIG) and is killed and reaped by
 * cgtest_remove(), which is safe to call from a .fini on a group that was
 * never made or is already removed.
 *
 * Typical use:
 *
 *	static struct cgtest_group be;
 *	static void fini(void) { cgtest_remove(&be); }
 *	...
 *	cr_assert_eq(cgtest_make_unique(&be, "be", CGT_CPU | CGT_CPUACCT), 0);
 *	cr_assert_gt(cgtest_spawn_busy(&be), 0);
 *	double cores = cgtest_measure_cpus(&be, 2000);
 *
 * The same relative path (be.rel) is what the cgroup module takes.
 */
#ifndef COLOD_TESTS_CGTEST_H
#define COLOD_TESTS_CGTEST_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* v1 controllers, each its own hierarchy under the root (cpu, cpuacct...). */
#define CGT_CPU		(1u << 0)
#define CGT_CPUACCT	(1u << 1)
#define CGT_CPUSET	(1u << 2)
#define CGT_MEMORY	(1u << 3)
#define CGT_ALL		(CGT_CPU | CGT_CPUACCT | CGT_CPUSET | CGT_MEMORY)

#define CGT_PREFIX	"colod-test-"
#define CGT_MAX_PIDS	32

struct cgtest_group {
	char rel[256];		/* relative to each hierarchy, "colod-test-..." */
	unsigned int ctrls;	/* the controllers it was made in */
	pid_t pids[CGT_MAX_PIDS];	/* children spawned into it */
	int nr_pids;
};

/* "/sys/fs/cgroup", or $COLOD_CGROUP_ROOT when set. */
const char *cgtest_root(void);

/* Whether the v1 hierarchy of ctrl (one CGT_ bit) is mounted. */
int cgtest_have(unsigned int ctrl);

/*
 * Make rel in each controller of ctrls; rel must start with "colod-test-"
 * (a child "colod-test-x/be" needs its parent made first). In cpuset, the
 * parent's cpuset.cpus and cpuset.mems are copied in so tasks can join.
 * Returns 0 or -errno; on error nothing is left behind.
 */
int cgtest_make(struct cgtest_group *g, const char *rel, unsigned int ctrls);
/* Same, with rel = "colod-test-<name>-<pid>". */
int cgtest_make_unique(struct cgtest_group *g, const char *name,
		       unsigned int ctrls);

/*
 * Kill and reap the group's children, then rmdir it in every controller
 * (retried while the kernel still holds exiting tasks). Idempotent.
 */
void cgtest_remove(struct cgtest_group *g);

/*
 * Children, already inside the group (every controller of it) when these
 * return: their pid, or -errno. busy: spins forever. periodic: every
 * period_us burns run_us of CPU, then sleeps. mem: has touched bytes of
 * anonymous memory (charged to the group) before this returns, then sleeps.
 */
pid_t cgtest_spawn_busy(struct cgtest_group *g);
pid_t cgtest_spawn_periodic(struct cgtest_group *g, unsigned int run_us,
			    unsigned int period_us);
pid_t cgtest_spawn_mem(struct cgtest_group *g, size_t bytes);

/* SIGKILL and reap every child spawned into g. */
void cgtest_kill_all(struct cgtest_group *g);

/* <root>/<ctrl>/<rel>[/file]; ctrl is one CGT_ bit. */
int cgtest_path(char *buf, size_t len, const struct cgtest_group *g,
		unsigned int ctrl, const char *file);
/* Plain write/read of a file of the group (read strips the newline). */
int cgtest_write(const struct cgtest_group *g, unsigned int ctrl,
		 const char *file, const char *value);
int cgtest_read(const struct cgtest_group *g, unsigned int ctrl,
		const char *file, char *buf, size_t len);

/* cpuacct.usage of the group, ns; 0 on error. */
uint64_t cgtest_cpu_usage_ns(const struct cgtest_group *g);
/* CPUs (cores) the group used over the next ms milliseconds; < 0 on error. */
double cgtest_measure_cpus(const struct cgtest_group *g, unsigned int ms);
/* Same for two groups over the same interval. */
int cgtest_measure_two(const struct cgtest_group *a, const struct cgtest_group *b,
		       unsigned int ms, double *cores_a, double *cores_b);

#endif /* COLOD_TESTS_CGTEST_H */
