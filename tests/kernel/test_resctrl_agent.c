// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * resctrl task assignment with real cgroups and real processes (issue 13).
 *
 * This kernel has no resctrl, so the resctrl side is a temp directory laid
 * out like /sys/fs/resctrl (info/L3, info/MB, a root schemata over cache
 * ids 0 and 2, and a BE group with schemata and tasks as the kernel shows
 * them), handed to colod with --resctrl-root. Its tasks files are plain
 * files: colod's one-id-per-write "assign" is an append of the tid, and the
 * test reads them back as the kernel's tasks file reads, one tid a line.
 *
 * Suite resctrl_agent: the real `colod run` over real v1 cgroups laid out
 * like kubelet's cgroupfs driver under a unique test root,
 *
 *	colod-test-rsa-<pid>/besteffort/pod<uid>/<container>
 *
 * (no "kubepods" component, so no other agent on the machine takes them
 * for a kubelet's), the BE top matched by a classification rule and the
 * sleeping processes (several threads each) two levels below it. The BE
 * group is there before colod starts, as one left by an earlier agent: a
 * plain directory cannot make schemata and tasks appear on mkdir as the
 * kernel does, so colod cannot create it here (and resctrl_apply_class()
 * would remove it again, see the fake-tree unit tests). So on stop the
 * journal restores its schemata and keeps the group.
 *
 * Suite resctrl_tasks_kernel: resctrl_assign_subtree() against a group
 * whose tasks file is a real v1 cgroup's, which, as resctrl's does, takes
 * one tid per write and refuses a tid that exited with ESRCH.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "agentrun.h"
#include "cgtest.h"
#include "resctrl.h"
#include "tfile.h"

#define TICK_MS		1000	/* agent.c's tick */
#define MAX_TIDS	256
#define ROOT_SCHEMATA	"    L3:0=7ff;2=7ff\n    MB:0=100;2=100\n"
#define BE_SCHEMATA	"L3:0=f;2=f\nMB:0=50;2=50\n"	/* 0-30% of 11 ways, MB 50 */
#define CTRLS		(CGT_CPU | CGT_CPUACCT)

/* Cgroups in creation order; removed in reverse (children first). */
enum { CG_TOP, CG_BE, CG_POD0, CG_POD1, CG_C00, CG_C01, CG_C10, CG_SYS, CG_LATE, NR_CG };

static struct cgtest_group cg[NR_CG];
static struct agentrun run;
static char rroot[192];

/* ---- processes ---- */

static void *park(void *arg)
{
	for (;;)
		pause();
	return NULL;
}

/*
 * A sleeping process of nthreads threads that joined g (every controller)
 * before making its threads, as a container's. Killed with the group.
 */
static pid_t spawn_sleeper(struct cgtest_group *g, int nthreads)
{
	char c = 'E', pid_s[32];
	pthread_t th;
	int p[2], i;
	pid_t pid;

	cr_assert_lt(g->nr_pids, CGT_MAX_PIDS);
	cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		close(p[0]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		snprintf(pid_s, sizeof(pid_s), "%d", (int)getpid());
		if (cgtest_write(g, CGT_CPU, "cgroup.procs", pid_s) ||
		    ((g->ctrls & CGT_CPUACCT) &&
		     cgtest_write(g, CGT_CPUACCT, "cgroup.procs", pid_s)))
			_exit(2);
		for (i = 1; i < nthreads; i++)
			if (pthread_create(&th, NULL, park, NULL))
				_exit(3);
		c = 'K';
		if (write(p[1], &c, 1) != 1)
			_exit(4);
		park(NULL);
	}
	close(p[1]);
	g->pids[g->nr_pids++] = pid;
	cr_assert_eq(read(p[0], &c, 1), 1, "sleeper %d ready", (int)pid);
	close(p[0]);
	cr_assert_eq(c, 'K', "sleeper joined %s", g->rel);
	return pid;
}

/* The thread ids of pid, appended to tids. */
static void tids_of(pid_t pid, pid_t *tids, int *nr)
{
	char path[64];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	cr_assert_not_null(d, "%s: %m", path);
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && *nr < MAX_TIDS)
			tids[(*nr)++] = atoi(de->d_name);
	closedir(d);
}

/* ---- the fake resctrl tree ---- */

static void rmkdir(const char *rel)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", rroot, rel);
	cr_assert_eq(mkdir(p, 0755), 0, "%s: %m", p);
}

static void fake_resctrl(void)
{
	snprintf(rroot, sizeof(rroot), "%s/resctrl", run.dir);
	cr_assert_eq(mkdir(rroot, 0755), 0);
	rmkdir("info");
	rmkdir("info/L3");
	rmkdir("info/MB");
	tfile_put(rroot, "info/L3/cbm_mask", "7ff\n");
	tfile_put(rroot, "info/L3/min_cbm_bits", "2\n");
	tfile_put(rroot, "info/L3/num_closids", "16\n");
	tfile_put(rroot, "info/MB/min_bandwidth", "10\n");
	tfile_put(rroot, "info/MB/bandwidth_gran", "10\n");
	tfile_put(rroot, "info/MB/num_closids", "8\n");
	tfile_put(rroot, "info/last_cmd_status", "ok\n");
	tfile_put(rroot, "schemata", ROOT_SCHEMATA);
	tfile_put(rroot, "tasks", "1\n");
	rmkdir("BE");
	tfile_put(rroot, "BE/schemata", ROOT_SCHEMATA);
	tfile_put(rroot, "BE/tasks", "");
}

static const char *rread(const char *rel)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", rroot, rel);
	return slurp(p);
}

/*
 * How often tid is listed in a tasks file, read as the kernel's reads:
 * one decimal tid a line. -1 if a line is anything else.
 */
static int times_listed(const char *text, pid_t tid)
{
	const char *s = text;
	char *end;
	int n = 0;
	long v;

	while (*s) {
		v = strtol(s, &end, 10);
		if (end == s || *end != '\n' || v <= 0)
			return -1;
		n += v == tid;
		s = end + 1;
	}
	return n;
}

/* The first of tids not listed exactly once in path, 0 if none. */
static pid_t first_missing(const char *path, const pid_t *tids, int nr)
{
	const char *text = slurp(path);
	int i;

	for (i = 0; i < nr; i++)
		if (times_listed(text, tids[i]) != 1)
			return tids[i];
	return 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

/* Wait until every tid is in path once; the ms it took, -1 on timeout. */
static long wait_assigned(const char *path, const pid_t *tids, int nr, int timeout_ms)
{
	uint64_t t0 = now_ms();

	do {
		if (!first_missing(path, tids, nr))
			return (long)(now_ms() - t0);
		usleep(20000);
	} while (now_ms() - t0 < (uint64_t)timeout_ms);
	return -1;
}

/* ---- the agent ---- */

static void write_config(const char *be_rel)
{
	char rules[512];

	agentrun_config(&run, "colocation-config", "{\"enable\": true}");
	agentrun_config(&run, "resource-threshold-config",
			"{\"clusterStrategy\": {\"enable\": false}}");
	agentrun_config(&run, "resource-qos-config",
			"{\"clusterStrategy\": {\"beClass\": {\"resctrlQOS\": {\"enable\": true,"
			" \"catRangeStartPercent\": 0, \"catRangeEndPercent\": 30,"
			" \"mbaPercent\": 50}}}}");
	snprintf(rules, sizeof(rules),
		 "{\"classificationRules\": [{\"match\": \"/%s\", \"class\": \"BE\"}]}", be_rel);
	agentrun_config(&run, "colod-config", rules);
}

static void make_cg(int i, const char *rel)
{
	cr_assert_eq(cgtest_make(&cg[i], rel, CTRLS), 0, "cgroup %s", rel);
}

static void setup(void)
{
	char top[96], rel[256];

	if (geteuid())
		cr_skip_test("real-kernel tests need root");
	agentrun_init(&run, "rsa");
	/* colod as it runs by default, without --action-log */
	run.no_action_log = true;
	fake_resctrl();
	snprintf(top, sizeof(top), CGT_PREFIX "rsa-%d", getpid());
	make_cg(CG_TOP, top);
	snprintf(rel, sizeof(rel), "%s/besteffort", top);
	make_cg(CG_BE, rel);
	snprintf(rel, sizeof(rel), "%s/pod6b1c0f2e-0d4a-4e2b-9c51-6a8e2d0f7a11", cg[CG_BE].rel);
	make_cg(CG_POD0, rel);
	snprintf(rel, sizeof(rel), "%s/pod0c9e7d1a-5b3f-4a86-8e2d-1f4b6c7a9e02", cg[CG_BE].rel);
	make_cg(CG_POD1, rel);
	snprintf(rel, sizeof(rel), "%s/3f1a9c0e7b2d", cg[CG_POD0].rel);
	make_cg(CG_C00, rel);
	snprintf(rel, sizeof(rel), "%s/a8d2e4f6c1b0", cg[CG_POD0].rel);
	make_cg(CG_C01, rel);
	snprintf(rel, sizeof(rel), "%s/5e7c9a1b3d2f", cg[CG_POD1].rel);
	make_cg(CG_C10, rel);
	/* beside besteffort: not BE, its tasks must stay out of the group */
	snprintf(rel, sizeof(rel), "%s/system", top);
	make_cg(CG_SYS, rel);
	write_config(cg[CG_BE].rel);
}

static void teardown(void)
{
	int i;

	agentrun_cleanup(&run);
	for (i = NR_CG - 1; i >= 0; i--)
		cgtest_remove(&cg[i]);
}

TestSuite(resctrl_agent, .init = setup, .fini = teardown, .timeout = 120);

Test(resctrl_agent, every_thread_two_levels_below_the_be_top_joins_the_group)
{
	pid_t tids[MAX_TIDS], late[MAX_TIDS], sys[MAX_TIDS];
	int nr = 0, nr_late = 0, nr_sys = 0, i, status;
	char tasks[256], rel[256], journal[256];
	long ms;

	tids_of(spawn_sleeper(&cg[CG_C00], 3), tids, &nr);
	tids_of(spawn_sleeper(&cg[CG_C00], 1), tids, &nr);
	tids_of(spawn_sleeper(&cg[CG_C01], 2), tids, &nr);
	tids_of(spawn_sleeper(&cg[CG_C10], 4), tids, &nr);
	tids_of(spawn_sleeper(&cg[CG_SYS], 2), sys, &nr_sys);
	cr_assert_eq(nr, 10);
	snprintf(tasks, sizeof(tasks), "%s/BE/tasks", rroot);

	agentrun_start(&run, "--resctrl-root", rroot, NULL);
	cr_assert(agentrun_wait_log(&run, "running:", 30000), "agent up (see %s/agent.log)", run.dir);
	ms = wait_assigned(tasks, tids, nr, 3 * TICK_MS);
	cr_assert_geq(ms, 0, "tid %d not in %s within 3 ticks:\n%s", (int)first_missing(tasks, tids, nr),
		      tasks, rread("BE/tasks"));
	cr_expect_str_eq(rread("BE/schemata"), BE_SCHEMATA);
	for (i = 0; i < nr_sys; i++)
		cr_expect_eq(times_listed(rread("BE/tasks"), sys[i]), 0,
			     "tid %d of %s (not BE) is in the BE group", (int)sys[i],
			     cg[CG_SYS].rel);

	/* a new container after start: the runtime forks it outside the group */
	snprintf(rel, sizeof(rel), "%s/77c0e5d9b4a3", cg[CG_POD1].rel);
	make_cg(CG_LATE, rel);
	tids_of(spawn_sleeper(&cg[CG_LATE], 3), late, &nr_late);
	ms = wait_assigned(tasks, late, nr_late, 2 * TICK_MS + 200);
	cr_assert_geq(ms, 0, "new container's tid %d not assigned within 2 ticks:\n%s",
		      (int)first_missing(tasks, late, nr_late), rread("BE/tasks"));
	cr_log_info("new container's threads in the BE group %ld ms after it started", ms);
	/* the next tick writes nothing again: each tid is still listed once */
	usleep(TICK_MS * 1000 + 200000);
	cr_expect_eq(first_missing(tasks, tids, nr), 0, "%s", rread("BE/tasks"));
	cr_expect_eq(first_missing(tasks, late, nr_late), 0, "%s", rread("BE/tasks"));
	/* ticks later the schemata is still colod's: it is asked for each pass */
	cr_expect_str_eq(rread("BE/schemata"), BE_SCHEMATA);

	status = agentrun_stop(&run, SIGTERM);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "colod exits 0 on SIGTERM (%#x)",
		  status);
	snprintf(journal, sizeof(journal), "%s/agent.log", run.dir);
	cr_expect_not(strstr(slurp(journal), "could not be restored"), "%s", slurp(journal));
	/* the group was there before colod: its schemata back byte for byte, kept */
	cr_expect_str_eq(rread("BE/schemata"), ROOT_SCHEMATA);
	snprintf(journal, sizeof(journal), "%s/BE", rroot);
	cr_expect_eq(access(journal, F_OK), 0, "a group colod did not create is kept");
	snprintf(journal, sizeof(journal), "%s/state/journal.json", run.dir);
	cr_expect_not(strstr(slurp(journal), "resctrl"), "journal left: %s", slurp(journal));
	cr_expect_str_eq(rread("schemata"), ROOT_SCHEMATA, "the root group is never written");
}

/* ---- ESRCH from a real kernel tasks file ---- */

static struct cgtest_group src, dst;
static char kdir[] = "/tmp/colod-test-rsk-XXXXXX";

static void ksetup(void)
{
	if (geteuid())
		cr_skip_test("real-kernel tests need root");
	cr_assert_not_null(mkdtemp(kdir));
	cr_assert_eq(cgtest_make_unique(&src, "rsk-src", CGT_CPU), 0);
	cr_assert_eq(cgtest_make_unique(&dst, "rsk-dst", CGT_CPU), 0);
}

static void kteardown(void)
{
	char cmd[256];

	cgtest_remove(&src);	/* kills the sleepers, wherever their threads went */
	cgtest_remove(&dst);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", kdir);
	if (system(cmd) < 0)
		perror("rm");
}

TestSuite(resctrl_tasks_kernel, .init = ksetup, .fini = kteardown, .timeout = 30);

/* A tid that no longer exists: a child's, reaped. */
static pid_t dead_tid(void)
{
	pid_t pid = fork();

	cr_assert_geq(pid, 0);
	if (pid == 0)
		_exit(0);
	cr_assert_eq(waitpid(pid, NULL, 0), pid);
	return pid;
}

Test(resctrl_tasks_kernel, a_thread_gone_before_its_write_is_not_an_error)
{
	struct resctrl_assign_stats st;
	char p[256], cgtop[256], list[4096] = "", target[256];
	pid_t tids[MAX_TIDS];
	int nr = 0, i;

	tids_of(spawn_sleeper(&src, 3), tids, &nr);
	/* the group: its tasks file is dst's, which refuses a dead tid with ESRCH */
	snprintf(p, sizeof(p), "%s/BE", kdir);
	cr_assert_eq(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/BE/tasks", kdir);
	cr_assert_eq(cgtest_path(target, sizeof(target), &dst, CGT_CPU, "tasks"), 0);
	cr_assert_eq(symlink(target, p), 0);
	/* the container lists the sleeper's threads and one that has exited */
	snprintf(cgtop, sizeof(cgtop), "%s/besteffort", kdir);
	cr_assert_eq(mkdir(cgtop, 0755), 0);
	tfile_put(cgtop, "tasks", "");
	snprintf(p, sizeof(p), "%s/pod1", cgtop);
	cr_assert_eq(mkdir(p, 0755), 0);
	tfile_put(p, "tasks", "");
	snprintf(p, sizeof(p), "%s/pod1/c1", cgtop);
	cr_assert_eq(mkdir(p, 0755), 0);
	for (i = 0; i < nr; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%d\n", (int)tids[i]);
	snprintf(list + strlen(list), sizeof(list) - strlen(list), "%d\n", (int)dead_tid());
	tfile_put(p, "tasks", list);

	cr_expect_eq(resctrl_assign_subtree(kdir, "BE", cgtop, &st), nr);
	cr_expect_eq(st.moved, nr);
	cr_expect_eq(st.vanished, 1);
	cr_expect_eq(st.failed, 0);
	/* the kernel moved them: they are listed by dst now */
	cr_expect_eq(first_missing(target, tids, nr), 0, "%s", slurp(target));
	/* listed there, so not written again */
	cr_expect_eq(resctrl_assign_subtree(kdir, "BE", cgtop, &st), 0);
	cr_expect_eq(st.moved, 0);
	cr_expect_eq(st.vanished, 1);
}
