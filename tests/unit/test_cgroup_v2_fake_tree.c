// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Pure cgroup v2, in a temp tree laid out as the kernel lays it out: this
 * kernel (hybrid, an empty v2 at /sys/fs/cgroup/unified) has no pure v2
 * with the cpu, cpuset and memory controllers, so the v2 writers and
 * readers are tested against regular files with the kernel's names and
 * formats ("max 100000", "max", memory.stat keys), and bad values must be
 * refused with the errors the kernel returns (cpu.max: EINVAL; cpu.weight:
 * ERANGE) before anything is written.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include "cgroup.h"
#include "fileio.h"
#include "journal.h"
#include "tfile.h"

#define POD	"/kubepods/besteffort/pod1"

static char root[64];
static char state[128];
static struct cg_ctx ctx;
static struct journal *j;

static void put(const char *rel, const char *file, const char *content)
{
	char path[PATH_MAX];

	cr_assert_eq(cg_path(path, sizeof(path), root, rel, file), 0);
	tfile_write(path, content);
}

static void assert_file(const char *rel, const char *file, const char *want)
{
	char path[PATH_MAX];
	char *s;

	cg_path(path, sizeof(path), root, rel, file);
	cr_assert_eq(file_read_all(path, 1 << 20, &s), 0, "%s", path);
	cr_assert_str_eq(s, want, "%s: \"%s\" != \"%s\"", path, s, want);
	free(s);
}

static void mk(const char *rel)
{
	char path[PATH_MAX];

	cg_path(path, sizeof(path), root, rel, NULL);
	cr_assert_eq(mkdir(path, 0755), 0, "%s", path);
	/* Every v2 cgroup has these core files. */
	put(rel, "cgroup.procs", "");
	put(rel, "cgroup.controllers", "cpuset cpu io memory pids\n");
	put(rel, "cgroup.subtree_control", "cpuset cpu memory\n");
	put(rel, "cgroup.kill", "");
	put(rel, "cpu.stat", "usage_usec 0\nuser_usec 0\nsystem_usec 0\n");
}

/* A non-root cgroup with the cpu, cpuset and memory controllers on. */
static void mk_full(const char *rel)
{
	mk(rel);
	put(rel, "cpu.max", "max 100000\n");
	put(rel, "cpu.weight", "100\n");
	put(rel, "cpu.idle", "0\n");
	put(rel, "cpuset.cpus", "\n");
	put(rel, "memory.max", "max\n");
	put(rel, "memory.high", "max\n");
	put(rel, "memory.low", "0\n");
	put(rel, "memory.min", "0\n");
	put(rel, "memory.current", "0\n");
	put(rel, "memory.stat", "anon 0\nfile 0\ninactive_file 0\n");
}

static void setup(void)
{
	strcpy(root, "/tmp/colod-cgv2-XXXXXX");
	cr_assert_not_null(mkdtemp(root));
	snprintf(state, sizeof(state), "%s.state", root);
	put("", "cgroup.controllers", "cpuset cpu io memory pids\n");
	put("", "cgroup.procs", "1\n");
	put("", "cpu.stat", "usage_usec 5\nuser_usec 3\nsystem_usec 2\n");
	mk_full("/kubepods");
	mk_full("/kubepods/besteffort");
	mk_full(POD);
	cr_assert_eq(cg_ctx_init(&ctx, CG_V2, root), 0);
	j = journal_open(state);
	cr_assert_not_null(j);
}

static void teardown(void)
{
	journal_close(j);
	tfile_rm_tree(root);
	tfile_rm_tree(state);
}

TestSuite(cgroup_v2_fake_tree, .init = setup, .fini = teardown);

Test(cgroup_v2_fake_tree, quota_writes_cpu_max_and_restores)
{
	long long q;
	uint64_t p;

	cr_assert_eq(cg_set_cpu_quota(&ctx, j, POD, 50000, 100000), 0);
	assert_file(POD, "cpu.max", "50000 100000");
	cr_assert_eq(cg_read_cpu_quota(&ctx, POD, &q, &p), 0);
	cr_assert_eq(q, 50000);
	cr_assert_eq(p, 100000);
	cr_assert_eq(cg_set_cpu_quota(&ctx, j, POD, -1, 20000), 0);
	assert_file(POD, "cpu.max", "max 20000");
	cr_assert_eq(journal_count(j), 1);
	cr_assert_eq(journal_restore_all(j), 0);
	assert_file(POD, "cpu.max", "max 100000\n");
}

Test(cgroup_v2_fake_tree, period_zero_keeps_current_period)
{
	put(POD, "cpu.max", "max 50000\n");
	cr_assert_eq(cg_set_cpu_quota(&ctx, j, POD, 20000, 0), 0);
	assert_file(POD, "cpu.max", "20000 50000");
}

Test(cgroup_v2_fake_tree, bad_values_refused_with_kernel_errno)
{
	cr_assert_eq(cg_set_cpu_quota(&ctx, j, POD, 500, 100000), -EINVAL);
	cr_assert_eq(cg_set_cpu_quota(&ctx, j, POD, 50000, 2000000), -EINVAL);
	cr_assert_eq(cg_set_cpu_quota(&ctx, j, POD, 50000, 10), -EINVAL);
	cr_assert_eq(cg_set_cpu_weight(&ctx, j, POD, 0), -ERANGE);
	cr_assert_eq(cg_set_cpu_weight(&ctx, j, POD, 10001), -ERANGE);
	assert_file(POD, "cpu.max", "max 100000\n");
	assert_file(POD, "cpu.weight", "100\n");
	cr_assert_eq(journal_count(j), 0);
}

Test(cgroup_v2_fake_tree, weight_shares_idle_cpuset)
{
	uint64_t v;

	cr_assert_eq(cg_set_cpu_weight(&ctx, j, POD, 10), 0);
	assert_file(POD, "cpu.weight", "10");
	cr_assert_eq(cg_read_cpu_weight(&ctx, POD, &v), 0);
	cr_assert_eq(v, 10);
	cr_assert_eq(cg_read_cpu_shares(&ctx, POD, &v), 0);
	cr_assert_eq(v, cg_weight_to_shares(10));
	/* v1 shares through v2: the kernel's conversion. */
	cr_assert_eq(cg_set_cpu_shares(&ctx, j, POD, 2), 0);
	assert_file(POD, "cpu.weight", "1");
	cr_assert_eq(cg_set_cpu_shares(&ctx, j, POD, 1024), 0);
	assert_file(POD, "cpu.weight", "39");
	cr_assert_eq(cg_set_cpu_idle(&ctx, j, POD, true), 0);
	assert_file(POD, "cpu.idle", "1");
	cr_assert_eq(cg_set_cpuset_cpus(&ctx, j, POD, "0"), 0);
	assert_file(POD, "cpuset.cpus", "0");
	cr_assert_eq(journal_count(j), 3);
	cr_assert_eq(journal_restore_all(j), 0);
	assert_file(POD, "cpu.weight", "100\n");
	assert_file(POD, "cpu.idle", "0\n");
	assert_file(POD, "cpuset.cpus", "\n");
}

Test(cgroup_v2_fake_tree, memory_knobs_page_rounded)
{
	long page = sysconf(_SC_PAGESIZE);
	char want[32];

	cr_assert_eq(cg_set_mem_max(&ctx, j, POD, 10 * page + 123), 0);
	snprintf(want, sizeof(want), "%ld", 10 * page);
	assert_file(POD, "memory.max", want);
	cr_assert_eq(cg_set_mem_high(&ctx, j, POD, 8 * page), 0);
	snprintf(want, sizeof(want), "%ld", 8 * page);
	assert_file(POD, "memory.high", want);
	cr_assert_eq(cg_set_mem_low(&ctx, j, POD, 4 * page), 0);
	cr_assert_eq(cg_set_mem_min(&ctx, j, POD, 2 * page), 0);
	snprintf(want, sizeof(want), "%ld", 2 * page);
	assert_file(POD, "memory.min", want);
	cr_assert_eq(cg_set_mem_max(&ctx, j, POD, -1), 0);
	assert_file(POD, "memory.max", "max");
	cr_assert_eq(journal_count(j), 4);
	cr_assert_eq(journal_restore_all(j), 0);
	assert_file(POD, "memory.max", "max\n");
	assert_file(POD, "memory.high", "max\n");
	assert_file(POD, "memory.low", "0\n");
	assert_file(POD, "memory.min", "0\n");
}

Test(cgroup_v2_fake_tree, value_in_place_is_not_written)
{
	cr_assert_eq(cg_set_cpu_quota(&ctx, j, POD, -1, 100000), 0);
	cr_assert_eq(cg_set_cpu_weight(&ctx, j, POD, 100), 0);
	cr_assert_eq(cg_set_mem_max(&ctx, j, POD, -1), 0);
	cr_assert_eq(journal_count(j), 0);
	assert_file(POD, "cpu.max", "max 100000\n");
}

Test(cgroup_v2_fake_tree, vanished_cgroup_and_missing_controller)
{
	cr_assert_eq(cg_set_cpu_weight(&ctx, j, "/kubepods/gone", 5), -ENOENT);
	/* A cgroup whose parent did not enable cpu has no cpu.weight. */
	mk("/kubepods/nocpu");
	cr_assert_eq(cg_set_cpu_weight(&ctx, j, "/kubepods/nocpu", 5), -EOPNOTSUPP);
	cr_assert_eq(journal_count(j), 0);
}

Test(cgroup_v2_fake_tree, restore_after_pod_deleted)
{
	char path[PATH_MAX];
	struct statfs sf;

	cr_assert_eq(cg_set_cpu_weight(&ctx, j, POD, 1), 0);
	cr_assert_eq(cg_set_cpu_weight(&ctx, j, "/kubepods/besteffort", 50), 0);
	cg_path(path, sizeof(path), root, POD, NULL);
	tfile_rm_tree(path);
	/* the fake tree stands for a mounted hierarchy: the pod is gone */
	cr_assert_eq(statfs(root, &sf), 0);
	journal_test_hierarchy_fs(sf.f_type);
	cr_assert_eq(journal_restore_all(j), 0);
	assert_file("/kubepods/besteffort", "cpu.weight", "100\n");
	cr_assert_eq(journal_count(j), 0);
}

Test(cgroup_v2_fake_tree, readers)
{
	struct cg_cpu_stat st;
	long long lim;
	uint64_t v;

	put(POD, "cpu.stat", "usage_usec 123456\nuser_usec 100000\n"
	    "system_usec 23456\nnr_periods 10\nnr_throttled 3\n"
	    "throttled_usec 4567\nnr_bursts 0\nburst_usec 0\n");
	put(POD, "memory.current", "104857600\n");
	put(POD, "memory.stat", "anon 73400320\nfile 31457280\nkernel 0\n"
	    "active_anon 0\ninactive_anon 73400320\nactive_file 10485760\n"
	    "inactive_file 20971520\nunevictable 0\n");
	cr_assert_eq(cg_read_cpu_usage(&ctx, POD, &v), 0);
	cr_assert_eq(v, 123456000ULL);
	cr_assert_eq(cg_read_cpu_stat(&ctx, POD, &st), 0);
	cr_assert_eq(st.usage_ns, 123456000ULL);
	cr_assert_eq(st.nr_periods, 10);
	cr_assert_eq(st.nr_throttled, 3);
	cr_assert_eq(st.throttled_ns, 4567000ULL);
	cr_assert_eq(cg_read_mem_usage(&ctx, POD, &v), 0);
	cr_assert_eq(v, 104857600ULL - 20971520ULL);
	cr_assert_eq(cg_read_mem_limit(&ctx, POD, &lim), 0);
	cr_assert_eq(lim, -1);
	put(POD, "memory.max", "1073741824\n");
	cr_assert_eq(cg_read_mem_limit(&ctx, POD, &lim), 0);
	cr_assert_eq(lim, 1073741824LL);
	/* The root has no cpu.max; its cpu.stat has usage only. */
	cr_assert_eq(cg_read_cpu_usage(&ctx, "/", &v), 0);
	cr_assert_eq(v, 5000);
	cr_assert_eq(cg_read_cpu_quota(&ctx, "/", (long long *)&lim, &v), -ENOENT);
}

struct seen {
	char rel[16][128];
	uint64_t id[16];
	int depth[16];
	int n;
};

static int collect(const char *relpath, uint64_t id, int depth, void *arg)
{
	struct seen *s = arg;

	cr_assert_lt(s->n, 16);
	snprintf(s->rel[s->n], sizeof(s->rel[0]), "%s", relpath);
	s->id[s->n] = id;
	s->depth[s->n] = depth;
	s->n++;
	return strcmp(relpath, "/kubepods/besteffort") ? 0 : CG_WALK_SKIP;
}

static int find(const struct seen *s, const char *rel)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (!strcmp(s->rel[i], rel))
			return i;
	return -1;
}

Test(cgroup_v2_fake_tree, walk_ids_depths_and_skip)
{
	struct seen s = { .n = 0 };
	uint64_t id;
	int i;

	mk("/system.slice");
	cr_assert_eq(cg_walk(&ctx, NULL, collect, &s), 0);
	cr_assert_eq(s.n, 4, "/, /kubepods, /kubepods/besteffort, /system.slice");
	cr_assert_str_eq(s.rel[0], "/");
	cr_assert_eq(s.depth[0], 0);
	i = find(&s, "/kubepods/besteffort");
	cr_assert_geq(i, 0);
	cr_assert_eq(s.depth[i], 2);
	cr_assert_eq(cg_id(&ctx, "/kubepods/besteffort", &id), 0);
	cr_assert_eq(s.id[i], id);
	cr_assert_eq(find(&s, POD), -1, "CG_WALK_SKIP must not descend");
	cr_assert_geq(find(&s, "/system.slice"), 0);
	cr_assert_eq(cg_id(&ctx, "/nope", &id), -ENOENT);

	s.n = 0;
	cr_assert_eq(cg_walk(&ctx, "/kubepods", collect, &s), 0);
	cr_assert_str_eq(s.rel[0], "/kubepods");
	cr_assert_eq(s.depth[0], 0);
}

static int stop_at_second(const char *relpath, uint64_t id, int depth, void *arg)
{
	return ++*(int *)arg == 2 ? -ECANCELED : 0;
}

Test(cgroup_v2_fake_tree, walk_stops_on_negative)
{
	int n = 0;

	cr_assert_eq(cg_walk(&ctx, NULL, stop_at_second, &n), -ECANCELED);
	cr_assert_eq(n, 2);
}

Test(cgroup_v2_fake_tree, pids_and_kill)
{
	pid_t *pids;
	size_t nr;

	put(POD, "cgroup.procs", "12\n345\n6789\n");
	cr_assert_eq(cg_read_pids(&ctx, POD, &pids, &nr), 0);
	cr_assert_eq(nr, 3);
	cr_assert_eq(pids[0], 12);
	cr_assert_eq(pids[2], 6789);
	free(pids);
	cr_assert_eq(cg_kill(&ctx, POD), 0);
	assert_file(POD, "cgroup.kill", "1");
	cr_assert_eq(journal_count(j), 0, "eviction is not a knob to restore");
}

/*
 * cgroup.kill kills the whole subtree, colod included if it is there (a
 * misclassified cgroup, a pod spec that puts colod under a BE parent, a
 * bad --cgroup-root): refused, and nothing written, for the cgroup that
 * holds colod and for each of its ancestors. A sibling is still killed.
 */
Test(cgroup_v2_fake_tree, kill_refuses_colods_own_cgroup_and_its_ancestors)
{
	static const char *const refused[] = { POD "/ctr", POD,
					       "/kubepods/besteffort", "/kubepods" };
	char self[32];
	size_t i;

	mk_full(POD "/ctr");
	mk_full("/kubepods/besteffort/pod2");
	snprintf(self, sizeof(self), "4242\n%d\n", (int)getpid());
	put(POD "/ctr", "cgroup.procs", self);
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		cr_assert_eq(cg_kill(&ctx, refused[i]), -EPERM,
			     "cg_kill(%s) holding colod's pid", refused[i]);
		assert_file(refused[i], "cgroup.kill", "");
	}
	put("/kubepods/besteffort/pod2", "cgroup.procs", "4343\n");
	cr_assert_eq(cg_kill(&ctx, "/kubepods/besteffort/pod2"), 0);
	assert_file("/kubepods/besteffort/pod2", "cgroup.kill", "1");
}
