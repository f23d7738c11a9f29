// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Koordinator pod semantics for real (issue 18): the colod binary runs with
 * --pod-source pointed at a local stand-in for the kubelet's /pods
 * (tests/lib/fakekubelet.c: TLS, bearer token, the PodList JSON the kubelet
 * serves), over real v1 cgroups laid out as kubelet's cgroupfs driver lays
 * them out, below colod-test-pods-<pid>/kubepods. The pods are the ACK
 * colocation guide's: nginx (koordinator.sh/qosClass LS, Guaranteed, 8 CPUs,
 * 1Gi: kubelet wrote its pod-level quota and memory limit) and be-ffmpeg
 * (koordinator.sh/qosClass BE, kubernetes.io/batch-cpu "70k" and
 * batch-memory "22Gi" only: BestEffort to kubelet), plus a Burstable pod
 * labelled BE, which only the label makes BE.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "agentrun.h"
#include "cgtest.h"
#include "clock.h"
#include "fakekubelet.h"

#define UID_LS	"5f0c3a52-0d9e-4b1c-9a8e-1f2a3b4c5d6e"
#define UID_BE	"9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d"
#define UID_BU	"3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f"
#define GiB	(1024LL * 1024 * 1024)
#define NR_DIRS	10

enum { ROOT, KUBEPODS, BESTEFFORT, BURSTABLE, BE_POD, BE_CTR, BU_POD, BU_CTR, LS_POD, LS_CTR };

static struct cgtest_group g[NR_DIRS];
static struct agentrun run;
static struct fakekubelet kl = { .pid = -1 };

static void make_layout(void)
{
	static const char *const rel[NR_DIRS] = {
		[KUBEPODS] = "kubepods", [BESTEFFORT] = "kubepods/besteffort",
		[BURSTABLE] = "kubepods/burstable",
		[BE_POD] = "kubepods/besteffort/pod" UID_BE,
		[BE_CTR] = "kubepods/besteffort/pod" UID_BE "/ffmpeg",
		[BU_POD] = "kubepods/burstable/pod" UID_BU,
		[BU_CTR] = "kubepods/burstable/pod" UID_BU "/batch",
		[LS_POD] = "kubepods/pod" UID_LS, [LS_CTR] = "kubepods/pod" UID_LS "/nginx",
	};
	char path[256];
	int i;

	cr_assert_eq(cgtest_make_unique(&g[ROOT], "pods", CGT_ALL), 0);
	for (i = KUBEPODS; i < NR_DIRS; i++) {
		snprintf(path, sizeof(path), "%s/%s", g[ROOT].rel, rel[i]);
		cr_assert_eq(cgtest_make(&g[i], path, CGT_ALL), 0, "mkdir %s", path);
	}
	/* kubelet's pod-level writes for the Guaranteed nginx (8 CPUs, 1Gi) */
	cr_assert_eq(cgtest_write(&g[LS_POD], CGT_CPU, "cpu.cfs_period_us", "100000"), 0);
	cr_assert_eq(cgtest_write(&g[LS_POD], CGT_CPU, "cpu.cfs_quota_us", "800000"), 0);
	cr_assert_eq(cgtest_write(&g[LS_POD], CGT_MEMORY, "memory.limit_in_bytes", "1073741824"), 0);
	/* BestEffort pods get cpu.shares=2 only */
	cr_assert_eq(cgtest_write(&g[BE_POD], CGT_CPU, "cpu.shares", "2"), 0);
}

static void pods(const char *be_label, const char *bu_label)
{
	char a[2048], b[2048], c[2048], items[6400];

	fk_pod(a, sizeof(a), "nginx", UID_LS, "LS", NULL, 0,
	       "\"cpu\":\"8\",\"memory\":\"1Gi\"", "\"cpu\":\"8\",\"memory\":\"1Gi\"", "Guaranteed");
	fk_pod(b, sizeof(b), "be-ffmpeg", UID_BE, be_label, NULL, 0,
	       "\"kubernetes.io/batch-cpu\":\"70k\",\"kubernetes.io/batch-memory\":\"22Gi\"",
	       "\"kubernetes.io/batch-cpu\":\"70k\",\"kubernetes.io/batch-memory\":\"22Gi\"",
	       "BestEffort");
	fk_pod(c, sizeof(c), "batch", UID_BU, bu_label, NULL, 0, "",
	       "\"cpu\":\"100m\"", "Burstable");
	snprintf(items, sizeof(items), "%s,%s,%s", a, b, c);
	fakekubelet_set_items(&kl, items);
}

static void setup(void)
{
	char own[512];

	if (geteuid())
		cr_skip_test("real-kernel tests need root");
	if (!cgtest_have(CGT_CPU) || !cgtest_have(CGT_MEMORY) || !cgtest_have(CGT_CPUSET) ||
	    !cgtest_have(CGT_CPUACCT))
		cr_skip_test("the v1 cpu, cpuacct, cpuset and memory hierarchies are needed");
	for (int i = 0; i < 120 && agentrun_other_agent(0); i++)
		sleep(1);
	if (agentrun_other_agent(0))
		cr_skip_test("another colod agent (pid %d) runs here and would act on the test's "
			     "kubepods tree", (int)agentrun_other_agent(0));
	agentrun_init(&run, "pods");
	fakekubelet_start(&kl, agentrun_path(&run, "kubelet"));
	make_layout();
	/* the test's kubepods is kubelet's: below its own unique root */
	snprintf(own, sizeof(own), "{\"kubeletCgroupRoot\": \"/%s\"}", g[ROOT].rel);
	agentrun_config(&run, "colod-config", own);
	/* no suppression: a BE pod's own limits are seen as they are */
	agentrun_config(&run, "colocation-config", "{\"enable\": true}");
	agentrun_config(&run, "resource-qos-config",
			"{\"clusterStrategy\": {\"beClass\": {\"cpuQOS\": {\"enable\": true, "
			"\"schedIdle\": 1}}}}");
}

static void teardown(void)
{
	int i;

	agentrun_cleanup(&run);
	fakekubelet_stop(&kl);
	for (i = NR_DIRS - 1; i >= 0; i--)
		cgtest_remove(&g[i]);
}

TestSuite(pods, .init = setup, .fini = teardown, .timeout = 240);

static const char *knob(int d, unsigned int ctrl, const char *file)
{
	static char buf[2][64];
	static int n;

	n ^= 1;
	if (cgtest_read(&g[d], ctrl, file, buf[n], sizeof(buf[n])))
		return "?";
	return buf[n];
}

/* Until both files read their values; the ms it took, or -1 after timeout_ms. */
static int wait_limits(const char *quota, const char *mem, int timeout_ms)
{
	uint64_t t0 = mono_ns();

	for (; timeout_ms > 0; timeout_ms -= 50) {
		if (!strcmp(knob(BE_POD, CGT_CPU, "cpu.cfs_quota_us"), quota) &&
		    !strcmp(knob(BE_POD, CGT_MEMORY, "memory.limit_in_bytes"), mem))
			return (int)((mono_ns() - t0) / 1000000);
		usleep(50000);
	}
	return -1;
}

static bool is_class(int d, const char *cls)
{
	char series[512];

	snprintf(series, sizeof(series), "colod_cgroup_info{cgroup=\"/%s\",class=\"%s\"}",
		 g[d].rel, cls);
	return agentrun_metric(&run, series) == 1;
}

static bool wait_class(int d, const char *cls, int timeout_ms)
{
	for (; timeout_ms > 0; timeout_ms -= 100) {
		if (is_class(d, cls))
			return true;
		usleep(100000);
	}
	return false;
}

/* Whether `colod explain` of the running agent prints line within 5 s (its first decisions). */
static bool explain_says(const char *line)
{
	char cmd[1024], out[1 << 16];
	int tries = 50;
	size_t n;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "%s explain --state-dir %s --pin-dir %s 2>&1",
		 getenv("COLOD_BIN"), agentrun_path(&run, "state"), run.pin_dir);
	do {
		p = popen(cmd, "r");
		cr_assert_not_null(p, "%s", cmd);
		n = fread(out, 1, sizeof(out) - 1, p);
		out[n] = 0;
		pclose(p);
		if (strstr(out, line))
			return true;
		usleep(100000);
	} while (--tries);
	cr_log_info("$ %s\n%s", cmd, out);
	return false;
}

Test(pods, classes_follow_the_labels_and_be_pods_get_their_own_limits)
{
	char unlimited[64], orig_quota[64];
	int ms;

	snprintf(orig_quota, sizeof(orig_quota), "%s", knob(BE_POD, CGT_CPU, "cpu.cfs_quota_us"));
	snprintf(unlimited, sizeof(unlimited), "%s",
		 knob(BE_POD, CGT_MEMORY, "memory.limit_in_bytes"));
	cr_assert_str_eq(orig_quota, "-1");
	pods("BE", "BE");
	agentrun_start(&run, "--pod-source", kl.url,
		       "--pod-source-token", fakekubelet_path(&kl, "sa/token"),
		       "--pod-source-ca", fakekubelet_path(&kl, "sa/ca.crt"),
		       "--pod-source-interval-ms", "200",
		       "--record", agentrun_path(&run, "rec.jsonl"), NULL);
	cr_assert(agentrun_wait_log(&run, "running:", 30000), "agent up");

	/* the seed's BE pod: 70k millicores -> 70 CPUs of quota at 100 ms; 22Gi */
	ms = wait_limits("7000000", "23622320128", 10000);
	cr_assert_geq(ms, 0, "be-ffmpeg's own limits: quota %s, memory %s",
		      knob(BE_POD, CGT_CPU, "cpu.cfs_quota_us"),
		      knob(BE_POD, CGT_MEMORY, "memory.limit_in_bytes"));
	cr_assert_str_eq(knob(BE_POD, CGT_CPU, "cpu.cfs_period_us"), "100000");
	cr_assert(wait_class(BE_POD, "be", 5000));
	cr_assert(is_class(BE_CTR, "be"));
	/* the label, not the burstable directory, makes this pod BE */
	cr_assert(wait_class(BU_POD, "be", 5000), "Burstable pod labelled BE");
	cr_assert(is_class(BU_CTR, "be"));
	cr_assert(is_class(LS_POD, "ls"));
	cr_assert(agentrun_log_has(&run, "by label"));
	{
		char line[512];

		snprintf(line, sizeof(line), "  BE  label  /%s\n", g[BU_POD].rel);
		cr_assert(explain_says(line), "explain: %s", line);
		snprintf(line, sizeof(line), "  LS  label  /%s\n", g[LS_POD].rel);
		cr_assert(explain_says(line), "explain: %s", line);
	}
	/* kubelet's own pod limits of nginx are untouched; no batch limit on the Burstable pod */
	cr_assert_str_eq(knob(LS_POD, CGT_CPU, "cpu.cfs_quota_us"), "800000");
	cr_assert_str_eq(knob(LS_POD, CGT_MEMORY, "memory.limit_in_bytes"), "1073741824");
	cr_assert_str_eq(knob(BU_POD, CGT_CPU, "cpu.cfs_quota_us"), "-1");

	/* labels change: ffmpeg LS, the Burstable pod unlabelled -> its directory (LS) */
	pods("LS", NULL);
	ms = wait_limits("-1", unlimited, 10000);
	cr_assert_geq(ms, 0, "originals back: quota %s, memory %s",
		      knob(BE_POD, CGT_CPU, "cpu.cfs_quota_us"),
		      knob(BE_POD, CGT_MEMORY, "memory.limit_in_bytes"));
	/* one poll (200 ms) and one tick (1 s), with room for a loaded machine */
	cr_assert_leq(ms, 2500, "re-classed within one tick of the list: %d ms", ms);
	cr_assert(wait_class(BE_POD, "ls", 3000));
	cr_assert(wait_class(BU_POD, "ls", 3000));
	cr_assert_gt(agentrun_metric(&run, "colod_knob_released_total{knob=\"cpu.cfs_quota_us\"}"), 0);

	/* BE again, then the source goes away: the last list stays in force */
	pods("BE", "BE");
	cr_assert_geq(wait_limits("7000000", "23622320128", 10000), 0);
	fakekubelet_stop(&kl);
	for (int i = 0; i < 100 && agentrun_metric(&run, "colod_pod_source_errors_total") < 1; i++)
		usleep(100000);
	cr_assert_geq(agentrun_metric(&run, "colod_pod_source_errors_total"), 1);
	sleep(3);	/* three ticks without a source */
	cr_assert_str_eq(knob(BE_POD, CGT_CPU, "cpu.cfs_quota_us"), "7000000");
	cr_assert(is_class(BE_POD, "be"));
	cr_assert(is_class(BU_POD, "be"), "the label seen last still counts");
	cr_assert(agentrun_alive(&run));

	/* stop: every original back */
	cr_assert_eq(agentrun_stop(&run, SIGTERM), 0);
	cr_assert_str_eq(knob(BE_POD, CGT_CPU, "cpu.cfs_quota_us"), "-1");
	cr_assert_str_eq(knob(BE_POD, CGT_MEMORY, "memory.limit_in_bytes"), unlimited);

	/*
	 * The pods' batch limits are decide's input too: replay of the
	 * recording (labels changing, the source gone) decides the same
	 */
	cr_assert(file_has(agentrun_path(&run, "rec.jsonl"), ",70000,23622320128]"),
		  "the recording holds be-ffmpeg's batch-cpu and batch-memory");
	cr_assert_eq(agentrun_replay(agentrun_path(&run, "rec.jsonl")), 0,
		     "colod replay: every decision the same");
	agentrun_keep_fixture(agentrun_path(&run, "rec.jsonl"), "kernel-pods-batch-limits.jsonl");
}

static long long knob_ll(int d, unsigned int ctrl, const char *file)
{
	return atoll(knob(d, ctrl, file));
}

/*
 * With the node-wide suppress bound in force on v1, the pod's quota is held
 * at the BE tier's: the kernel refuses a child quota above its parent's
 * (EINVAL), so a pod quota over it would be a failed write every tick, and
 * lowering the tier's quota below a pod's would fail too.
 */
Test(pods, a_be_pods_quota_stays_under_the_suppress_bound)
{
	long long pq, tq, tp;
	int i, n = 0;

	agentrun_config(&run, "resource-threshold-config",
			"{\"clusterStrategy\": {\"enable\": true, \"cpuSuppressPolicy\": \"cfsQuota\","
			" \"cpuSuppressThresholdPercent\": 40}}");
	pods("BE", NULL);
	agentrun_start(&run, "--pod-source", kl.url,
		       "--pod-source-token", fakekubelet_path(&kl, "sa/token"),
		       "--pod-source-ca", fakekubelet_path(&kl, "sa/ca.crt"),
		       "--pod-source-interval-ms", "200", NULL);
	cr_assert(agentrun_wait_log(&run, "running:", 30000), "agent up");
	cr_assert_gt(cgtest_spawn_busy(&g[BE_CTR]), 0);
	for (i = 0; i < 100 && knob_ll(BESTEFFORT, CGT_CPU, "cpu.cfs_quota_us") <= 0; i++)
		usleep(100000);
	cr_assert_gt(knob_ll(BESTEFFORT, CGT_CPU, "cpu.cfs_quota_us"), 0, "the BE tier is bounded");
	/* over ten ticks the bound moves (cuts, regrowth); the pod follows under it */
	for (i = 0; i < 50; i++, usleep(200000)) {
		pq = knob_ll(BE_POD, CGT_CPU, "cpu.cfs_quota_us");
		tq = knob_ll(BESTEFFORT, CGT_CPU, "cpu.cfs_quota_us");
		tp = knob_ll(BESTEFFORT, CGT_CPU, "cpu.cfs_period_us");
		if (pq <= 0 || tq <= 0 || tp <= 0)
			continue;
		n++;
		/* rates: the pod's at 100 ms, the tier's at its period; rounding of 1 us */
		cr_assert_leq(pq * tp, (tq + 1) * 100000LL, "pod %lld/100000 over tier %lld/%lld",
			      pq, tq, tp);
	}
	cr_assert_gt(n, 10, "the pod held a quota under the tier's");
	cr_assert_lt(pq, 7000000, "held below its own 70 CPUs");
	if (agentrun_log_has(&run, "cannot write"))
		agentrun_show_log(&run);
	cr_assert_not(agentrun_log_has(&run, "cannot write"), "no write refused");
	cgtest_kill_all(&g[BE_CTR]);
	cr_assert_eq(agentrun_stop(&run, SIGTERM), 0);
	cr_assert_str_eq(knob(BE_POD, CGT_CPU, "cpu.cfs_quota_us"), "-1");
	cr_assert_str_eq(knob(BESTEFFORT, CGT_CPU, "cpu.cfs_quota_us"), "-1");
}
