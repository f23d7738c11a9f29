// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The cgroup module on this machine's real v1 hierarchies (hybrid host):
 * a quota set through the module makes the kernel throttle, cpu.idle and
 * cpu.shares give an LS group the CPU, writes the kernel rejects leave
 * nothing half-done, and the journal puts every original back byte for
 * byte, also after the agent was SIGKILLed and restarted. Root required.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "cgroup.h"
#include "cgtest.h"
#include "fileio.h"
#include "journal.h"
#include "tfile.h"

static struct cg_ctx ctx;
static struct journal *j;
static char state[64];
static struct cgtest_group ls, be, parent, child;

static void setup(void)
{
	strcpy(state, "/tmp/colod-cgv1-state-XXXXXX");
	cr_assert_not_null(mkdtemp(state));
	cr_assert_eq(cg_detect(&ctx, NULL), 0);
	cr_assert(ctx.mode == CG_V1 || ctx.mode == CG_HYBRID,
		  "these tests need v1 controllers; mode is %s",
		  cg_mode_name(ctx.mode));
	j = journal_open(state);
	cr_assert_not_null(j);
}

static void teardown(void)
{
	if (j)
		journal_restore_all(j);
	journal_close(j);
	j = NULL;
	cgtest_remove(&child);
	cgtest_remove(&parent);
	cgtest_remove(&ls);
	cgtest_remove(&be);
	tfile_rm_tree(state);
}

TestSuite(cgroup_v1, .init = setup, .fini = teardown, .timeout = 60);

static void read_knob(const struct cgtest_group *g, unsigned int ctrl,
		      const char *file, char *buf, size_t len)
{
	char path[512];
	char *s;

	cr_assert_eq(cgtest_path(path, sizeof(path), g, ctrl, file), 0);
	cr_assert_eq(file_read_all(path, 1 << 20, &s), 0, "%s", path);
	snprintf(buf, len, "%s", s);
	free(s);
}

/* Raw bytes of a knob, to compare originals byte for byte. */
#define SNAP(g, ctrl, file, var) \
	char var[256]; read_knob(g, ctrl, file, var, sizeof(var))

static void assert_knob(const struct cgtest_group *g, unsigned int ctrl,
			const char *file, const char *want)
{
	char got[256];

	read_knob(g, ctrl, file, got, sizeof(got));
	cr_assert_str_eq(got, want, "%s/%s", g->rel, file);
}

/* The last CPU of the root cpuset, to pin two groups onto one CPU. */
static void one_cpu(char *buf, size_t len)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	snprintf(buf, len, "%ld", n > 1 ? n - 1 : 0);
}

Test(cgroup_v1, detect_finds_v1_hierarchies)
{
	char path[PATH_MAX];

	cr_assert_eq(ctx.mode, CG_HYBRID, "this machine is hybrid (v1 + empty v2)");
	cg_path(path, sizeof(path), ctx.cpu, NULL, "cpu.shares");
	cr_assert_eq(access(path, F_OK), 0, "%s", path);
	cg_path(path, sizeof(path), ctx.cpuacct, NULL, "cpuacct.usage");
	cr_assert_eq(access(path, F_OK), 0, "%s", path);
	cg_path(path, sizeof(path), ctx.memory, NULL, "memory.limit_in_bytes");
	cr_assert_eq(access(path, F_OK), 0, "%s", path);
	cg_path(path, sizeof(path), ctx.unified, NULL, "cgroup.procs");
	cr_assert_eq(access(path, F_OK), 0, "%s", path);
}

/*
 * A quota with its own period, asked for again at the next pass (the same
 * decision, tick after tick): the period stays held and in place. It used
 * to be written only when it differed, so the next pass did not ask for it
 * and the sweep put the original back, and the pass after wrote it again:
 * 500 BE pods cost 1,500 writes and a journal save every tick.
 */
Test(cgroup_v1, same_quota_next_pass_keeps_its_period)
{
	const char *name;
	uint64_t drift, released = 0;
	int pass, i;

	cr_assert_eq(cgtest_make_unique(&be, "be", CGT_CPU | CGT_CPUACCT), 0);
	SNAP(&be, CGT_CPU, "cpu.cfs_period_us", period0);
	cr_assert_str_eq(period0, "100000\n", "the kernel's default period");
	for (pass = 0; pass < 3; pass++) {
		journal_begin_pass(j);
		cr_assert_eq(cg_set_cpu_quota(&ctx, j, be.rel, 1000, 10000), 0);
		cr_assert_eq(journal_sweep(j), 0);
		assert_knob(&be, CGT_CPU, "cpu.cfs_period_us", "10000\n");
		assert_knob(&be, CGT_CPU, "cpu.cfs_quota_us", "1000\n");
	}
	for (i = 0; !journal_knob_counts(j, i, &name, &drift, &released); i++)
		cr_assert_eq(released, 0, "%s released %llu times", name,
			     (unsigned long long)released);
	cr_assert_eq(journal_restore_all(j), 0);
	assert_knob(&be, CGT_CPU, "cpu.cfs_period_us", period0);
}

Test(cgroup_v1, quota_throttles_and_restore_lifts_it)
{
	struct cg_cpu_stat s0, s1;
	double cores;
	int i;

	cr_assert_eq(cgtest_make_unique(&be, "be", CGT_CPU | CGT_CPUACCT), 0);
	SNAP(&be, CGT_CPU, "cpu.cfs_quota_us", quota0);
	SNAP(&be, CGT_CPU, "cpu.cfs_period_us", period0);
	/*
	 * High shares so that on a loaded machine (other tests run beside
	 * this one) BE still wants more than its quota: the quota, not the
	 * competition, must be what limits it.
	 */
	cr_assert_eq(cgtest_write(&be, CGT_CPU, "cpu.shares", "20480"), 0);
	for (i = 0; i < 2; i++)
		cr_assert_gt(cgtest_spawn_busy(&be), 0);

	/* 0.3 CPU for two busy loops. */
	cr_assert_eq(cg_set_cpu_quota(&ctx, j, be.rel, 30000, 100000), 0);
	assert_knob(&be, CGT_CPU, "cpu.cfs_quota_us", "30000\n");
	usleep(300000);
	cr_assert_eq(cg_read_cpu_stat(&ctx, be.rel, &s0), 0);
	cores = cgtest_measure_cpus(&be, 3000);
	cr_assert_eq(cg_read_cpu_stat(&ctx, be.rel, &s1), 0);
	cr_assert_gt(s1.nr_throttled, s0.nr_throttled + 10,
		     "nr_throttled %lu -> %lu", (unsigned long)s0.nr_throttled,
		     (unsigned long)s1.nr_throttled);
	cr_assert_gt(s1.throttled_ns, s0.throttled_ns);
	cr_assert(cores > 0.27 && cores < 0.33,
		  "BE used %.3f CPUs under a 0.3 CPU quota", cores);
	cr_assert_gt(s1.usage_ns, s0.usage_ns);

	cr_assert_eq(journal_restore_all(j), 0);
	assert_knob(&be, CGT_CPU, "cpu.cfs_quota_us", quota0);
	assert_knob(&be, CGT_CPU, "cpu.cfs_period_us", period0);
	/* Unthrottled: no period throttles any more (CPU use depends on load). */
	usleep(200000);
	cr_assert_eq(cg_read_cpu_stat(&ctx, be.rel, &s0), 0);
	usleep(1000000);
	cr_assert_eq(cg_read_cpu_stat(&ctx, be.rel, &s1), 0);
	cr_assert_eq(s1.nr_throttled, s0.nr_throttled);
}

Test(cgroup_v1, idle_gives_ls_the_cpu)
{
	char cpu[16];
	double c_ls, c_be;

	one_cpu(cpu, sizeof(cpu));
	cr_assert_eq(cgtest_make_unique(&ls, "ls", CGT_CPU | CGT_CPUACCT | CGT_CPUSET), 0);
	cr_assert_eq(cgtest_make_unique(&be, "be", CGT_CPU | CGT_CPUACCT | CGT_CPUSET), 0);
	SNAP(&be, CGT_CPU, "cpu.idle", idle0);
	SNAP(&be, CGT_CPU, "cpu.shares", shares0);
	SNAP(&be, CGT_CPUSET, "cpuset.cpus", cpus0);
	cr_assert_eq(cgtest_write(&ls, CGT_CPUSET, "cpuset.cpus", cpu), 0);
	/* BE is pinned through the module: cpuset.cpus is journaled too. */
	cr_assert_eq(cg_set_cpuset_cpus(&ctx, j, be.rel, cpu), 0);
	cr_assert_gt(cgtest_spawn_busy(&ls), 0);
	cr_assert_gt(cgtest_spawn_busy(&be), 0);

	cr_assert_eq(cg_set_cpu_idle(&ctx, j, be.rel, true), 0);
	assert_knob(&be, CGT_CPU, "cpu.idle", "1\n");
	usleep(200000);
	cr_assert_eq(cgtest_measure_two(&ls, &be, 2000, &c_ls, &c_be), 0);
	cr_assert_gt(c_ls / (c_ls + c_be), 0.85,
		     "LS %.3f vs idle BE %.3f CPUs on one CPU", c_ls, c_be);

	/* cpuset.cpus, cpu.idle and the cpu.shares the kernel resets with it */
	cr_assert_eq(journal_count(j), 3);
	cr_assert_eq(journal_restore_all(j), 0);
	assert_knob(&be, CGT_CPU, "cpu.idle", idle0);
	assert_knob(&be, CGT_CPU, "cpu.shares", shares0);
	assert_knob(&be, CGT_CPUSET, "cpuset.cpus", cpus0);
}

Test(cgroup_v1, low_shares_give_ls_the_cpu)
{
	char cpu[16];
	double c_ls, c_be;
	uint64_t w;

	one_cpu(cpu, sizeof(cpu));
	cr_assert_eq(cgtest_make_unique(&ls, "ls", CGT_CPU | CGT_CPUACCT | CGT_CPUSET), 0);
	cr_assert_eq(cgtest_make_unique(&be, "be", CGT_CPU | CGT_CPUACCT | CGT_CPUSET), 0);
	SNAP(&be, CGT_CPU, "cpu.shares", shares0);
	cr_assert_eq(cgtest_write(&ls, CGT_CPUSET, "cpuset.cpus", cpu), 0);
	cr_assert_eq(cgtest_write(&be, CGT_CPUSET, "cpuset.cpus", cpu), 0);
	cr_assert_gt(cgtest_spawn_busy(&ls), 0);
	cr_assert_gt(cgtest_spawn_busy(&be), 0);

	/* weight 1 -> shares 2 (the kernel's minimum) vs LS's 1024. */
	cr_assert_eq(cg_set_cpu_weight(&ctx, j, be.rel, 1), 0);
	assert_knob(&be, CGT_CPU, "cpu.shares", "2\n");
	cr_assert_eq(cg_read_cpu_weight(&ctx, be.rel, &w), 0);
	cr_assert_eq(w, 1);
	usleep(200000);
	cr_assert_eq(cgtest_measure_two(&ls, &be, 2000, &c_ls, &c_be), 0);
	cr_assert_gt(c_ls / (c_ls + c_be), 0.85,
		     "LS %.3f vs BE(shares 2) %.3f CPUs on one CPU", c_ls, c_be);

	cr_assert_eq(journal_restore_all(j), 0);
	assert_knob(&be, CGT_CPU, "cpu.shares", shares0);
}

Test(cgroup_v1, rejected_write_is_reported_and_leaves_nothing)
{
	char path[PATH_MAX], want[PATH_MAX + 64], msg[2048];
	int saved, err;
	FILE *log;
	size_t n;

	cr_assert_eq(cgtest_make_unique(&be, "be", CGT_CPU), 0);
	SNAP(&be, CGT_CPU, "cpu.cfs_quota_us", quota0);
	/* Below the kernel's 1 ms minimum: EINVAL from the kernel itself. */
	cgtest_path(path, sizeof(path), &be, CGT_CPU, "cpu.cfs_quota_us");
	fflush(stderr);
	saved = dup(2);
	cr_assert_not_null(log = tmpfile());
	dup2(fileno(log), 2);
	err = journal_write(j, path, "500");
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	cr_assert_eq(err, -EINVAL);
	rewind(log);
	n = fread(msg, 1, sizeof(msg) - 1, log);
	msg[n] = '\0';
	fclose(log);
	snprintf(want, sizeof(want), "%s: cannot write '500': Invalid argument",
		 path);
	cr_assert_not_null(strstr(msg, want), "logged: %s", msg);
	assert_knob(&be, CGT_CPU, "cpu.cfs_quota_us", quota0);
	cr_assert_eq(journal_count(j), 0, "a rejected write is not journaled");
	/* The module refuses it before the kernel sees it. */
	cr_assert_eq(cg_set_cpu_quota(&ctx, j, be.rel, 500, 100000), -EINVAL);
	cr_assert_eq(journal_count(j), 0);
}

Test(cgroup_v1, child_quota_above_parent_rolls_back_period)
{
	char rel[300];

	cr_assert_eq(cgtest_make_unique(&parent, "p", CGT_CPU), 0);
	snprintf(rel, sizeof(rel), "%s/be", parent.rel);
	cr_assert_eq(cgtest_make(&child, rel, CGT_CPU), 0);
	SNAP(&child, CGT_CPU, "cpu.cfs_quota_us", quota0);
	SNAP(&child, CGT_CPU, "cpu.cfs_period_us", period0);
	cr_assert_eq(cg_set_cpu_quota(&ctx, j, parent.rel, 50000, 100000), 0);

	/* 0.8 CPU under a 0.5 CPU parent: v1 refuses the last step. */
	cr_assert_eq(cg_set_cpu_quota(&ctx, j, child.rel, 160000, 200000), -EINVAL);
	assert_knob(&child, CGT_CPU, "cpu.cfs_quota_us", quota0);
	assert_knob(&child, CGT_CPU, "cpu.cfs_period_us", period0);
	/* 0.4 CPU with a new period goes through. */
	cr_assert_eq(cg_set_cpu_quota(&ctx, j, child.rel, 80000, 200000), 0);
	assert_knob(&child, CGT_CPU, "cpu.cfs_quota_us", "80000\n");
	assert_knob(&child, CGT_CPU, "cpu.cfs_period_us", "200000\n");
	cr_assert_eq(journal_restore_all(j), 0);
	assert_knob(&child, CGT_CPU, "cpu.cfs_quota_us", quota0);
	assert_knob(&child, CGT_CPU, "cpu.cfs_period_us", period0);
	assert_knob(&parent, CGT_CPU, "cpu.cfs_quota_us", "-1\n");
}

/*
 * Originals with a hierarchy constraint: the parent's quota may not go
 * below the child's, so restore must put the child back first.
 */
Test(cgroup_v1, restore_respects_hierarchy_order)
{
	char rel[300];

	cr_assert_eq(cgtest_make_unique(&parent, "p", CGT_CPU), 0);
	snprintf(rel, sizeof(rel), "%s/be", parent.rel);
	cr_assert_eq(cgtest_make(&child, rel, CGT_CPU), 0);
	cr_assert_eq(cgtest_write(&parent, CGT_CPU, "cpu.cfs_quota_us", "50000"), 0);
	cr_assert_eq(cgtest_write(&child, CGT_CPU, "cpu.cfs_quota_us", "40000"), 0);

	cr_assert_eq(cg_set_cpu_quota(&ctx, j, parent.rel, -1, 0), 0);
	cr_assert_eq(cg_set_cpu_quota(&ctx, j, child.rel, 90000, 0), 0);
	assert_knob(&child, CGT_CPU, "cpu.cfs_quota_us", "90000\n");
	cr_assert_eq(journal_restore_all(j), 0);
	assert_knob(&child, CGT_CPU, "cpu.cfs_quota_us", "40000\n");
	assert_knob(&parent, CGT_CPU, "cpu.cfs_quota_us", "50000\n");
}

Test(cgroup_v1, vanished_cgroup_is_not_an_error)
{
	struct cgtest_group gone;
	char rel[256];

	cr_assert_eq(cgtest_make_unique(&gone, "gone", CGT_CPU), 0);
	snprintf(rel, sizeof(rel), "%s", gone.rel);
	cr_assert_eq(cg_set_cpu_weight(&ctx, j, rel, 5), 0);
	cgtest_remove(&gone);	/* the pod is deleted */
	cr_assert_eq(cg_set_cpu_weight(&ctx, j, rel, 7), -ENOENT);
	cr_assert_eq(cg_set_cpu_quota(&ctx, j, rel, 10000, 0), -ENOENT);
	cr_assert_eq(journal_restore_all(j), 0);
	cr_assert_eq(journal_count(j), 0);
}

Test(cgroup_v1, memory_knobs_and_usage)
{
	long page = sysconf(_SC_PAGESIZE);
	long long lim;
	uint64_t used;
	char want[32];

	cr_assert_eq(cgtest_make_unique(&be, "mem", CGT_MEMORY | CGT_CPU), 0);
	SNAP(&be, CGT_MEMORY, "memory.limit_in_bytes", limit0);
	SNAP(&be, CGT_MEMORY, "memory.soft_limit_in_bytes", soft0);
	cr_assert_gt(cgtest_spawn_mem(&be, 64 << 20), 0);
	usleep(300000);
	cr_assert_eq(cg_read_mem_usage(&ctx, be.rel, &used), 0);
	cr_assert(used >= (60 << 20) && used < (256 << 20),
		  "64 MiB touched, usage w/o page cache %lu", (unsigned long)used);
	cr_assert_eq(cg_read_mem_limit(&ctx, be.rel, &lim), 0);
	cr_assert_eq(lim, -1);

	cr_assert_eq(cg_set_mem_max(&ctx, j, be.rel, (512 << 20) + 5), 0);
	snprintf(want, sizeof(want), "%d\n", 512 << 20);
	assert_knob(&be, CGT_MEMORY, "memory.limit_in_bytes", want);
	cr_assert_eq(cg_read_mem_limit(&ctx, be.rel, &lim), 0);
	cr_assert_eq(lim, 512 << 20);
	cr_assert_eq(cg_set_mem_low(&ctx, j, be.rel, 100 * page), 0);
	snprintf(want, sizeof(want), "%ld\n", 100 * page);
	assert_knob(&be, CGT_MEMORY, "memory.soft_limit_in_bytes", want);
	/* No memory.high / memory.min on a mainline v1 kernel. */
	cr_assert_eq(cg_set_mem_high(&ctx, j, be.rel, 1 << 30), -EOPNOTSUPP);
	cr_assert_eq(cg_set_mem_min(&ctx, j, be.rel, 1 << 20), -EOPNOTSUPP);
	/* Unlimited is written as the value the kernel reads back. */
	cr_assert_eq(cg_set_mem_max(&ctx, j, be.rel, -1), 0);
	assert_knob(&be, CGT_MEMORY, "memory.limit_in_bytes", limit0);
	cr_assert_eq(cg_set_mem_max(&ctx, j, be.rel, 1 << 30), 0);

	cr_assert_eq(journal_restore_all(j), 0);
	assert_knob(&be, CGT_MEMORY, "memory.limit_in_bytes", limit0);
	assert_knob(&be, CGT_MEMORY, "memory.soft_limit_in_bytes", soft0);
}

struct walk_seen {
	const char *want;
	uint64_t id;
	int depth;
	int n;
};

static int walk_cb(const char *relpath, uint64_t id, int depth, void *arg)
{
	struct walk_seen *w = arg;

	w->n++;
	if (!strcmp(relpath, w->want)) {
		w->id = id;
		w->depth = depth;
	}
	return 0;
}

Test(cgroup_v1, walk_ids_pids_and_kill)
{
	struct walk_seen w = { 0 };
	char rel[300], want[300];
	pid_t *pids;
	size_t nr, i;
	uint64_t id;
	int k, found = 0;

	cr_assert_eq(cgtest_make_unique(&parent, "p", CGT_CPU | CGT_CPUACCT), 0);
	snprintf(rel, sizeof(rel), "%s/be", parent.rel);
	cr_assert_eq(cgtest_make(&child, rel, CGT_CPU | CGT_CPUACCT), 0);
	snprintf(want, sizeof(want), "/%s", child.rel);
	w.want = want;
	cr_assert_eq(cg_walk(&ctx, parent.rel, walk_cb, &w), 0);
	cr_assert_eq(w.n, 2);
	cr_assert_eq(w.depth, 1);
	cr_assert_eq(cg_id(&ctx, child.rel, &id), 0);
	cr_assert_eq(w.id, id);

	for (k = 0; k < 3; k++)
		cr_assert_gt(cgtest_spawn_busy(&child), 0);
	cr_assert_eq(cg_read_pids(&ctx, child.rel, &pids, &nr), 0);
	cr_assert_eq(nr, 3);
	for (i = 0; i < nr; i++)
		for (k = 0; k < child.nr_pids; k++)
			found += pids[i] == child.pids[k];
	free(pids);
	cr_assert_eq(found, 3);

	/* Evict from the parent: the child's tasks go too. */
	cr_assert_eq(cg_kill(&ctx, parent.rel), 0);
	cr_assert_eq(cg_read_pids(&ctx, child.rel, &pids, &nr), 0);
	free(pids);
	cr_assert_eq(nr, 0);
	for (k = 0; k < child.nr_pids; k++) {
		int status;

		cr_assert_eq(waitpid(child.pids[k], &status, 0), child.pids[k]);
		cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	}
	child.nr_pids = 0;
}

/*
 * kill -9 of the agent after it throttled, a restart that throttles more,
 * then `colod restore`: every original back byte for byte. The agent is a
 * forked child driving the library, as the agent binary would.
 */
Test(cgroup_v1, sigkill_restart_then_colod_restore)
{
	char *argv[] = { "restore", "--state-dir", state, NULL };
	int ready[2], status;
	char c, cpu[16], path[512];
	pid_t pid;

	one_cpu(cpu, sizeof(cpu));
	cr_assert_eq(cgtest_make_unique(&be, "be", CGT_CPU | CGT_CPUACCT | CGT_CPUSET), 0);
	SNAP(&be, CGT_CPU, "cpu.cfs_quota_us", quota0);
	SNAP(&be, CGT_CPU, "cpu.cfs_period_us", period0);
	SNAP(&be, CGT_CPU, "cpu.shares", shares0);
	SNAP(&be, CGT_CPU, "cpu.idle", idle0);
	SNAP(&be, CGT_CPUSET, "cpuset.cpus", cpus0);
	cr_assert_gt(cgtest_spawn_busy(&be), 0);
	journal_close(j);	/* the agent owns the state dir now */
	j = NULL;

	cr_assert_eq(pipe(ready), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct journal *aj = journal_open(state);

		if (!aj || cg_set_cpu_quota(&ctx, aj, be.rel, 20000, 50000) ||
		    cg_set_cpu_weight(&ctx, aj, be.rel, 1) ||
		    cg_set_cpu_idle(&ctx, aj, be.rel, true))
			_exit(1);
		if (write(ready[1], "k", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(ready[1]);
	cr_assert_eq(read(ready[0], &c, 1), 1, "agent failed before throttling");
	close(ready[0]);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	cr_assert(WIFSIGNALED(status));
	assert_knob(&be, CGT_CPU, "cpu.cfs_quota_us", "20000\n");

	/* Restart: throttled values in place must not become originals. */
	j = journal_open(state);
	cr_assert_not_null(j);
	cr_assert_eq(cg_set_cpu_quota(&ctx, j, be.rel, 10000, 0), 0);
	cr_assert_eq(cg_set_cpuset_cpus(&ctx, j, be.rel, cpu), 0);
	cgtest_path(path, sizeof(path), &be, CGT_CPU, "cpu.cfs_quota_us");
	cr_assert_not_null(journal_original(j, path));
	cr_assert_str_eq(journal_original(j, path), quota0);
	cr_assert_eq(journal_count(j), 5, "quota, period, shares, idle, cpuset");
	journal_close(j);	/* crashes again, before any restore */
	j = NULL;

	cr_assert_eq(cmd_restore(3, argv), 0);
	assert_knob(&be, CGT_CPU, "cpu.cfs_quota_us", quota0);
	assert_knob(&be, CGT_CPU, "cpu.cfs_period_us", period0);
	assert_knob(&be, CGT_CPU, "cpu.shares", shares0);
	assert_knob(&be, CGT_CPU, "cpu.idle", idle0);
	assert_knob(&be, CGT_CPUSET, "cpuset.cpus", cpus0);
}

Test(cgroup_v1, value_in_place_is_not_written)
{
	long long q;
	uint64_t p, s;

	cr_assert_eq(cgtest_make_unique(&be, "be", CGT_CPU | CGT_MEMORY), 0);
	cr_assert_eq(cg_read_cpu_shares(&ctx, be.rel, &s), 0);
	cr_assert_eq(cg_read_cpu_quota(&ctx, be.rel, &q, &p), 0);
	cr_assert_eq(q, -1);
	cr_assert_eq(cg_set_cpu_shares(&ctx, j, be.rel, s), 0);
	cr_assert_eq(cg_set_cpu_quota(&ctx, j, be.rel, -1, p), 0);
	cr_assert_eq(cg_set_cpu_idle(&ctx, j, be.rel, false), 0);
	cr_assert_eq(cg_set_mem_max(&ctx, j, be.rel, -1), 0);
	cr_assert_eq(journal_count(j), 0, "nothing written, nothing journaled");
}

/* The periodic helper is the stand-in LS load of other modules' tests. */
Test(cgroup_v1, periodic_child_uses_its_duty_cycle)
{
	double cores;

	cr_assert_eq(cgtest_make_unique(&ls, "ls", CGT_CPU | CGT_CPUACCT), 0);
	cr_assert_eq(cgtest_write(&ls, CGT_CPU, "cpu.shares", "20480"), 0);
	cr_assert_gt(cgtest_spawn_periodic(&ls, 2000, 10000), 0);
	usleep(200000);
	cores = cgtest_measure_cpus(&ls, 2000);
	cr_assert(cores > 0.1 && cores < 0.3, "20%% duty cycle used %.3f CPUs",
		  cores);
	cr_assert_eq(cgtest_spawn_periodic(&ls, 20, 10), -EINVAL);
}
