// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * colod next to kubelet, for real (issue 13): the colod binary runs as the
 * agent while this test plays kubelet (cgroupfs driver) and runc on real v1
 * hierarchies, with the writes they make (see docs/KUBELET.md for each one
 * and its source). Every one of those writes must succeed while the agent
 * runs: cpu.idle=1 on a cgroup makes the kernel refuse cpu.shares writes to
 * it (EINVAL), which is how kubelet failed to restart next to Koordinator
 * (koordinator #2732).
 *
 * The layout sits below a test root, colod-test-kubelet-<pid>/kubepods/...,
 * which the agent is told is kubelet's (colod-config kubeletCgroupRoot), so
 * no real /kubepods is made.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/stat.h>
#include "agentrun.h"
#include "cgtest.h"

#define MAX_DIRS	16
#define MiB		(1024LL * 1024)

/* The v1 hierarchies kubelet's cgroup manager writes (hugetlb is not mounted here). */
static const char *const ctrls[] = { "cpu", "cpuacct", "cpuset", "memory", "pids" };
#define NR_CTRLS	(int)(sizeof(ctrls) / sizeof(ctrls[0]))

static char root[64];			/* colod-test-kubelet-<pid> */
static char dirs[MAX_DIRS][256];	/* made, in order, relative to each hierarchy */
static int nr_dirs;
static struct cgtest_group be_ctr, ls_ctr;	/* the containers' processes */
static struct agentrun run;
static long long mem_total;

static bool have_ctrl(const char *c)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s/cgroup.procs", cgtest_root(), c);
	return access(p, F_OK) == 0;
}

/* write(2) of value, as kubelet's os.WriteFile and runc's WriteFile do: 0 or errno. */
static int kwrite(const char *ctrl, const char *rel, const char *file, const char *value)
{
	char p[512];
	size_t len = strlen(value);
	ssize_t n;
	int fd, err = 0;

	snprintf(p, sizeof(p), "%s/%s/%s/%s", cgtest_root(), ctrl, rel, file);
	fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	n = write(fd, value, len);
	if (n < 0)
		err = errno;
	else if ((size_t)n != len)
		err = EIO;
	close(fd);
	return err;
}

/* A kubelet or runc write that must succeed. */
#define KW(who, ctrl, rel, file, value)                                                 \
	do {                                                                             \
		int e_ = kwrite(ctrl, rel, file, value);                                 \
		cr_assert_eq(e_, 0, "%s: write %s=%s on %s/%s failed: %s (see %s)",       \
			     who, file, value, ctrl, rel, strerror(e_),                  \
			     agentrun_path(&run, "agent.log"));                          \
	} while (0)

static void kwrite_ll(const char *who, const char *ctrl, const char *rel, const char *file,
		      long long v)
{
	char s[32];

	snprintf(s, sizeof(s), "%lld", v);
	KW(who, ctrl, rel, file, s);
}

static void kread(const char *ctrl, const char *rel, const char *file, char *buf, size_t len)
{
	char p[512];
	FILE *f;

	buf[0] = 0;
	snprintf(p, sizeof(p), "%s/%s/%s/%s", cgtest_root(), ctrl, rel, file);
	f = fopen(p, "r");
	if (!f)
		return;
	if (!fgets(buf, (int)len, f))
		buf[0] = 0;
	fclose(f);
	buf[strcspn(buf, "\n")] = 0;
}

/*
 * mkdir rel in every hierarchy, as runc's fs manager Apply does for kubelet's
 * Create and for a container; in cpuset, the parent's cpus and mems are
 * copied in first (runc cpusetCopyIfNeeded), or no task could join.
 */
static void kmkdir(const char *who, const char *rel)
{
	char p[512], parent[256], v[256];
	int i;

	cr_assert_lt(nr_dirs, MAX_DIRS);
	snprintf(dirs[nr_dirs++], sizeof(dirs[0]), "%s", rel);
	for (i = 0; i < NR_CTRLS; i++) {
		if (!have_ctrl(ctrls[i]))
			continue;
		snprintf(p, sizeof(p), "%s/%s/%s", cgtest_root(), ctrls[i], rel);
		cr_assert(mkdir(p, 0755) == 0 || errno == EEXIST, "%s: mkdir %s: %s", who, p,
			  strerror(errno));
	}
	snprintf(parent, sizeof(parent), "%s", rel);
	*strrchr(parent, '/') = 0;
	kread("cpuset", parent, "cpuset.cpus", v, sizeof(v));
	KW(who, "cpuset", rel, "cpuset.cpus", v);
	kread("cpuset", parent, "cpuset.mems", v, sizeof(v));
	KW(who, "cpuset", rel, "cpuset.mems", v);
}

/* rmdir rel in every hierarchy, retried while the kernel still holds exiting tasks. */
static int krmdir(const char *rel)
{
	char p[512];
	int i, tries, err = 0;

	for (i = NR_CTRLS - 1; i >= 0; i--) {
		snprintf(p, sizeof(p), "%s/%s/%s", cgtest_root(), ctrls[i], rel);
		for (tries = 0; tries < 200; tries++) {
			if (!rmdir(p) || errno == ENOENT)
				break;
			if (errno != EBUSY) {
				err = errno;
				break;
			}
			usleep(10000);
		}
		if (tries == 200)
			err = EBUSY;
	}
	return err;
}

static void forget_dir(const char *rel)
{
	int i;

	for (i = 0; i < nr_dirs; i++)
		if (!strcmp(dirs[i], rel))
			dirs[i][0] = 0;
}

/* ---- the layout ---------------------------------------------------------- */

static char kubepods[128], burstable[160], besteffort[160];
static char be_pod[256], be_ctr_rel[256], ls_pod[256], ls_ctr_rel[256];

static void names(void)
{
	snprintf(root, sizeof(root), CGT_PREFIX "kubelet-%d", getpid());
	snprintf(kubepods, sizeof(kubepods), "%s/kubepods", root);
	snprintf(burstable, sizeof(burstable), "%s/burstable", kubepods);
	snprintf(besteffort, sizeof(besteffort), "%s/besteffort", kubepods);
	/* cgroupfs driver: pod<uid>, the API uid with its dashes */
	snprintf(be_pod, sizeof(be_pod), "%s/pod0b5e7a1c-3f2d-4e6a-9c1b-%012x", besteffort,
		 (unsigned int)getpid());
	snprintf(ls_pod, sizeof(ls_pod), "%s/pod7d9e2f40-1a3b-4c5d-8e6f-%012x", burstable,
		 (unsigned int)getpid());
	/* containerd's runc shim names the container cgroup by its 64-hex id */
	snprintf(be_ctr_rel, sizeof(be_ctr_rel), "%s/%s", be_pod,
		 "b1e0000000000000000000000000000000000000000000000000000000000001");
	snprintf(ls_ctr_rel, sizeof(ls_ctr_rel), "%s/%s", ls_pod,
		 "15000000000000000000000000000000000000000000000000000000000000a1");
}

/* ---- kubelet ------------------------------------------------------------- */

/* Node allocatable: the whole machine (no reservations). */
static long long alloc_milli(void)
{
	return sysconf(_SC_NPROCESSORS_ONLN) * 1000LL;
}

/* cm.MilliCPUToShares: milli * 1024 / 1000, at least 2. */
static long long milli_to_shares(long long m)
{
	long long s = m * 1024 / 1000;

	return s < 2 ? 2 : s;
}

/* The LS pod's requests and limits, which a resize changes. */
static long long ls_req_milli = 500, ls_lim_milli = 1000, ls_mem = 256 * MiB;

/*
 * qosContainerManagerImpl.UpdateCgroups: besteffort cpu.shares=2, burstable
 * cpu.shares from the sum of the Burstable pods' requests; with QOSReserved
 * memory=100%, the memory limits of both tiers.
 */
static void kubelet_update_qos(const char *why, bool ls_pod_exists)
{
	long long bu_req = ls_pod_exists ? ls_req_milli : 0;
	long long bu_mem = ls_pod_exists ? ls_mem : 0;

	kwrite_ll(why, "cpu", besteffort, "cpu.shares", 2);
	kwrite_ll(why, "cpu", burstable, "cpu.shares", milli_to_shares(bu_req));
	kwrite_ll(why, "memory", burstable, "memory.limit_in_bytes", mem_total);
	kwrite_ll(why, "memory", besteffort, "memory.limit_in_bytes", mem_total - bu_mem);
}

/*
 * Start: the node allocatable cgroup (kubepods: cpu.shares and memory limit of
 * the allocatable), then the QoS tiers (qosContainerManagerImpl.Start: Create,
 * or Update when they exist, with besteffort cpu.shares=2), then the first
 * UpdateCgroups, which wait.Until runs at once.
 */
static void kubelet_start(const char *why, bool restart, bool ls_pod_exists)
{
	if (!restart) {
		kmkdir(why, kubepods);
		kmkdir(why, burstable);
		kmkdir(why, besteffort);
	}
	kwrite_ll(why, "cpu", kubepods, "cpu.shares", milli_to_shares(alloc_milli()));
	kwrite_ll(why, "memory", kubepods, "memory.limit_in_bytes", mem_total);
	kwrite_ll(why, "cpu", besteffort, "cpu.shares", 2);
	kubelet_update_qos(why, ls_pod_exists);
}

/* The container's process, as runc starts it. */
static void spawn_into(struct cgtest_group *g, const char *rel, bool busy)
{
	snprintf(g->rel, sizeof(g->rel), "%s", rel);
	g->ctrls = CGT_ALL;
	if (busy)
		cr_assert_gt(cgtest_spawn_busy(g), 0, "a process joins %s", rel);
	else
		cr_assert_gt(cgtest_spawn_periodic(g, 2000, 10000), 0, "a process joins %s", rel);
}

/*
 * A BestEffort pod: UpdateQOSCgroups, then the pod cgroup made by
 * EnsureExists -> Create (ResourceConfigForPod: cpu.shares=2 only; pids.max
 * with --pod-max-pids), then its container by runc: cpu.shares=2 from CRI
 * CpuShares, cpu.cfs_period_us from CRI CpuPeriod (CpuQuota 0 is not written).
 */
static void create_be_pod(void)
{
	const char *k = "kubelet pod create (BE)", *r = "runc create (BE container)";

	kubelet_update_qos(k, false);
	kmkdir(k, be_pod);
	KW(k, "cpu", be_pod, "cpu.shares", "2");
	if (have_ctrl("pids"))
		KW(k, "pids", be_pod, "pids.max", "1024");
	kmkdir(r, be_ctr_rel);
	KW(r, "cpu", be_ctr_rel, "cpu.shares", "2");
	KW(r, "cpu", be_ctr_rel, "cpu.cfs_period_us", "100000");
	spawn_into(&be_ctr, be_ctr_rel, true);
	spawn_into(&be_ctr, be_ctr_rel, true);
}

/* Pod level (v1 SetCgroupConfig / Create) and runc's container writes for the LS pod. */
static void ls_pod_writes(const char *k)
{
	kwrite_ll(k, "cpu", ls_pod, "cpu.shares", milli_to_shares(ls_req_milli));
	KW(k, "cpu", ls_pod, "cpu.cfs_period_us", "100000");
	kwrite_ll(k, "cpu", ls_pod, "cpu.cfs_quota_us", ls_lim_milli * 100);
	kwrite_ll(k, "memory", ls_pod, "memory.limit_in_bytes", ls_mem);
}

static void ls_ctr_writes(const char *r)
{
	kwrite_ll(r, "cpu", ls_ctr_rel, "cpu.shares", milli_to_shares(ls_req_milli));
	KW(r, "cpu", ls_ctr_rel, "cpu.cfs_period_us", "100000");
	kwrite_ll(r, "cpu", ls_ctr_rel, "cpu.cfs_quota_us", ls_lim_milli * 100);
	kwrite_ll(r, "memory", ls_ctr_rel, "memory.limit_in_bytes", ls_mem);
}

/* A Burstable pod: 500m request, 1 CPU and 256 MiB limits. */
static void create_ls_pod(void)
{
	const char *k = "kubelet pod create (LS)";

	/* the new pod is active already: its request counts in burstable's shares */
	kubelet_update_qos(k, true);
	kmkdir(k, ls_pod);
	ls_pod_writes(k);
	if (have_ctrl("pids"))
		KW(k, "pids", ls_pod, "pids.max", "1024");
	kmkdir("runc create (LS container)", ls_ctr_rel);
	ls_ctr_writes("runc create (LS container)");
	spawn_into(&ls_ctr, ls_ctr_rel, false);
}

/* ---- the agent ------------------------------------------------------------ */

static void write_config(void)
{
	char own[256];

	agentrun_config(&run, "colocation-config", "{\"enable\": true}");
	agentrun_config(&run, "resource-threshold-config",
			"{\"clusterStrategy\": {\"enable\": true, \"cpuSuppressPolicy\": \"cfsQuota\","
			" \"cpuSuppressThresholdPercent\": 65}}");
	agentrun_config(&run, "resource-qos-config",
			"{\"clusterStrategy\": {"
			"\"beClass\": {\"cpuQOS\": {\"enable\": true, \"schedIdle\": 1},"
			" \"memoryQOS\": {\"enable\": true, \"throttlingPercent\": 80}},"
			" \"lsClass\": {\"cpuQOS\": {\"enable\": true}}}}");
	snprintf(own, sizeof(own), "{\"lsLatencyTargetUs\": 1000, \"kubeletCgroupRoot\": \"/%s\"}",
		 root);
	agentrun_config(&run, "colod-config", own);
}

static void start_agent(void)
{
	write_config();
	agentrun_start(&run, NULL);
	cr_assert(agentrun_wait_log(&run, "running:", 20000), "agent up (see %s)",
		  agentrun_path(&run, "agent.log"));
}

/* Wait until file of rel (cpu hierarchy) reads value, polling every step_ms. */
static bool wait_cpu_knob_ms(const char *rel, const char *file, const char *value,
			     int timeout_ms, int step_ms)
{
	char buf[64];

	for (; timeout_ms > 0; timeout_ms -= step_ms) {
		kread("cpu", rel, file, buf, sizeof(buf));
		if (!strcmp(buf, value))
			return true;
		usleep(step_ms * 1000);
	}
	return false;
}

static bool wait_cpu_knob(const char *rel, const char *file, const char *value, int timeout_ms)
{
	return wait_cpu_knob_ms(rel, file, value, timeout_ms, 100);
}

/* ---- setup and teardown ---------------------------------------------------- */

static void setup(void)
{
	char line[256];
	FILE *f;
	int i;

	if (geteuid())
		cr_skip_test("real-kernel tests need root");
	for (i = 0; i < 4; i++)
		if (!have_ctrl(ctrls[i]))
			cr_skip_test("the v1 %s hierarchy is not mounted", ctrls[i]);
	cr_assert_not_null(getenv("COLOD_BIN"), "COLOD_BIN names the colod binary (make sets it)");
	for (i = 0; i < 120 && agentrun_other_agent(0); i++)
		sleep(1);
	if (agentrun_other_agent(0))
		cr_skip_test("another colod agent (pid %d) runs here and would act on the test's "
			     "kubepods tree", (int)agentrun_other_agent(0));
	agentrun_init(&run, "kubelet");
	run.no_action_log = true;
	f = fopen("/proc/meminfo", "r");
	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemTotal: %lld kB", &mem_total) == 1)
			break;
	fclose(f);
	mem_total *= 1024;
	cr_assert_gt(mem_total, 0);
	names();
	/* the host root (kubelet --cgroup-root=/): made by the test, not kubelet */
	snprintf(dirs[nr_dirs++], sizeof(dirs[0]), "%s", root);
	for (i = 0; i < NR_CTRLS; i++) {
		char p[512];

		if (!have_ctrl(ctrls[i]))
			continue;
		snprintf(p, sizeof(p), "%s/%s/%s", cgtest_root(), ctrls[i], root);
		cr_assert_eq(mkdir(p, 0755), 0, "mkdir %s: %s", p, strerror(errno));
	}
	{
		char v[256];

		kread("cpuset", ".", "cpuset.cpus", v, sizeof(v));
		KW("test root", "cpuset", root, "cpuset.cpus", v);
		kread("cpuset", ".", "cpuset.mems", v, sizeof(v));
		KW("test root", "cpuset", root, "cpuset.mems", v);
	}
}

static void teardown(void)
{
	int i;

	/* restores what a crashed agent left in its journal */
	agentrun_cleanup(&run);
	cgtest_kill_all(&be_ctr);
	cgtest_kill_all(&ls_ctr);
	for (i = nr_dirs - 1; i >= 0; i--)
		if (dirs[i][0] && krmdir(dirs[i]))
			fprintf(stderr, "test_kubelet: could not remove %s\n", dirs[i]);
}

TestSuite(kubelet, .init = setup, .fini = teardown, .timeout = 240);

/* ---- the sequence ----------------------------------------------------------- */

Test(kubelet, every_kubelet_and_runc_write_succeeds_while_colod_runs)
{
	char v[64];

	/* kubelet starts: kubepods, the QoS tiers and their first update */
	kubelet_start("kubelet start", false, false);

	start_agent();

	create_be_pod();
	create_ls_pod();

	/* three ticks: colod has classified the pods and acted */
	cr_expect(wait_cpu_knob(be_pod, "cpu.idle", "1", 3500),
		  "cpu.idle=1 on the BE pod cgroup %s after 3 ticks", be_pod);
	kread("cpu", besteffort, "cpu.idle", v, sizeof(v));
	cr_expect_str_eq(v, "0", "no cpu.idle on the BestEffort QoS cgroup (kubelet writes its "
			 "cpu.shares): it reads %s", v);
	kread("cpu", burstable, "cpu.idle", v, sizeof(v));
	cr_expect_str_eq(v, "0", "no cpu.idle on the Burstable QoS cgroup");

	/* kubelet's periodic QoS update (every minute) */
	kubelet_update_qos("kubelet periodic QoS update", true);

	/* in-place resize of the LS pod: 1 CPU request, 1.5 CPU limit, 512 MiB */
	ls_req_milli = 1000;
	ls_lim_milli = 1500;
	ls_mem = 512 * MiB;
	ls_pod_writes("kubelet resize (LS pod)");
	ls_ctr_writes("runc update (LS container)");
	usleep(2500000);
	kread("cpu", ls_pod, "cpu.shares", v, sizeof(v));
	cr_assert_str_eq(v, "1024", "the resized LS pod keeps its cpu.shares");
	kread("cpu", ls_pod, "cpu.cfs_quota_us", v, sizeof(v));
	cr_assert_str_eq(v, "150000", "the resized LS pod keeps its quota");
	kread("memory", ls_pod, "memory.limit_in_bytes", v, sizeof(v));
	cr_assert_str_eq(v, "536870912", "the resized LS pod keeps its memory limit");
	kread("cpu", ls_ctr_rel, "cpu.shares", v, sizeof(v));
	cr_assert_str_eq(v, "1024", "the resized LS container keeps its cpu.shares");
	kread("cpu", ls_ctr_rel, "cpu.cfs_quota_us", v, sizeof(v));
	cr_assert_str_eq(v, "150000", "the resized LS container keeps its quota");
	kread("memory", ls_ctr_rel, "memory.limit_in_bytes", v, sizeof(v));
	cr_assert_str_eq(v, "536870912", "the resized LS container keeps its memory limit");

	/* kubelet restarts: Start's Update of the existing tiers, then UpdateCgroups */
	kubelet_start("kubelet restart", true, true);

	/* the BE pod is deleted: its containers stop and runc removes their cgroups */
	cgtest_kill_all(&be_ctr);
	cr_assert_eq(krmdir(be_ctr_rel), 0, "runc delete: rmdir %s", be_ctr_rel);
	forget_dir(be_ctr_rel);
	/* the next housekeeping (every 2 s): ReduceCPULimits while volumes remain */
	usleep(2500000);
	KW("kubelet ReduceCPULimits (BE pod)", "cpu", be_pod, "cpu.shares", "2");
	cr_assert_eq(krmdir(be_pod), 0, "kubelet Destroy: rmdir %s", be_pod);
	forget_dir(be_pod);

	/* the LS pod likewise */
	cgtest_kill_all(&ls_ctr);
	cr_assert_eq(krmdir(ls_ctr_rel), 0, "runc delete: rmdir %s", ls_ctr_rel);
	forget_dir(ls_ctr_rel);
	usleep(2500000);
	KW("kubelet ReduceCPULimits (LS pod)", "cpu", ls_pod, "cpu.shares", "2");
	cr_assert_eq(krmdir(ls_pod), 0, "kubelet Destroy: rmdir %s", ls_pod);
	forget_dir(ls_pod);

	/* the next periodic update, with no pod left */
	kubelet_update_qos("kubelet periodic QoS update (no pods)", false);

	cr_assert(agentrun_alive(&run), "the agent kept running");
	cr_assert_eq(agentrun_stop(&run, SIGTERM), 0, "colod run exits 0 on SIGTERM");
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/*
 * The kernel reports each new cgroup (tp_btf/cgroup_mkdir): a BE pod is
 * idle as soon as its first container cgroup appears, not a tick or a
 * walk later. The pod is made 300 ms before its container (kubelet's
 * creation writes land in between); the 1 s tick alone would take
 * 0-1000 ms, so three pods all within 300 ms do not happen by chance.
 */
Test(kubelet, a_be_pod_is_idle_as_its_first_container_appears)
{
	struct cgtest_group procs[3] = {};
	char pod[3][256], ctr[3][320];
	long long t0, waited[3];
	int i;

	kubelet_start("kubelet start", false, false);
	start_agent();
	for (i = 0; i < 3; i++) {
		snprintf(pod[i], sizeof(pod[i]), "%s/pod5a1e0000-0000-4000-8000-%012x", besteffort,
			 (unsigned int)(getpid() * 4 + i));
		snprintf(ctr[i], sizeof(ctr[i]), "%s/c%063d", pod[i], i);
		kmkdir("kubelet pod create (BE)", pod[i]);
		KW("kubelet pod create (BE)", "cpu", pod[i], "cpu.shares", "2");
		usleep(300000);
		kmkdir("runc create (BE container)", ctr[i]);
		t0 = now_ms();
		cr_assert(wait_cpu_knob_ms(pod[i], "cpu.idle", "1", 3000, 10),
			  "pod %d never idle (see %s)", i, agentrun_path(&run, "agent.log"));
		waited[i] = now_ms() - t0;
		spawn_into(&procs[i], ctr[i], false);
		cr_log_info("pod %d idle %lld ms after its container appeared", i, waited[i]);
	}
	for (i = 0; i < 3; i++)
		cr_expect_leq(waited[i], 300, "pod %d idle %lld ms after its container appeared",
			      i, waited[i]);
	for (i = 0; i < 3; i++)
		cgtest_kill_all(&procs[i]);
}
