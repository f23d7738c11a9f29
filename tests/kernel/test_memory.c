// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Node memory protection end to end, for real (issue 13): the colod binary
 * runs as the agent over real v1 cgroups (cpu, cpuacct, memory); an LS and a
 * BE cgroup each hold anonymous memory in a real process. The threshold of
 * resource-threshold-config is put a few points above what the node uses
 * now, then one class allocates past it:
 *
 *  - BE grows: colod must lower BE memory.high (on plain v1: the soft limit)
 *    and, as the last resort, evict BE, so that the node is back under the
 *    threshold within a bound derived from the policy; LS is untouched and
 *    every original knob comes back on SIGTERM;
 *  - LS grows (BE small): whatever colod does to BE, LS is never killed.
 *
 * Node memory use is MemTotal - MemAvailable, parsed by the agent's own
 * node_parse_meminfo(), so the test and the agent see the same number.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
#include "agentrun.h"
#include "cgtest.h"
#include "node.h"

#define MIB		((uint64_t)1 << 20)
#define GIB		((uint64_t)1 << 30)
/* What each class holds before the agent starts. */
#define LS_HOLD		(200 * MIB)
#define BE_HOLD		(200 * MIB)
#define BE_SMALL	(64 * MIB)
/* Threshold this many points above the node's use; lower = threshold - 2. */
#define THRESHOLD_ABOVE	3
#define LOWER_BELOW	2
/*
 * The growth: 8% of MemTotal (1.9 GiB on 24 GiB), i.e. 5 points past the
 * threshold, capped at 3 GiB and at what leaves 4 GiB available to the
 * other tests that share the machine.
 */
#define GROW_PCT	8
#define GROW_MAX	(3 * GIB)
#define KEEP_AVAIL	(4 * GIB)
#define SAMPLE_MS	100
/*
 * How long the node may stay over the threshold. colod ticks every second
 * (user/agent.c TICK_MS). The first tick that sees the node over lowers BE
 * memory.high (user/decide/policy.c mem_pressure); while memory.high is lowered,
 * each further tick still over counts as stuck, and at evict_after_ticks = 5
 * stuck ticks (policy_params_default; no cooldown before the first eviction)
 * BE is evicted. On v1 without swap the soft limit reclaims nothing from
 * anonymous memory, so eviction is what brings the node back: at most
 * 1 (next tick) + 5 (stuck ticks) = 6 s after the crossing, plus the kill and
 * the freeing of 2 GiB (well under 1 s), plus 3 s for ticks delayed on this
 * loaded 2-core machine: 10 s.
 */
#define OVER_BOUND_MS	10000
/* How long we watch; past the bound so that a miss is measured, not cut. */
#define WATCH_MS	20000
/* LS-only growth: long enough for a fixed agent to reach its eviction tick. */
#define LS_WATCH_MS	12000

static struct cgtest_group ls, be;
static struct agentrun run;
static char log_path[256], act_path[256];

/* ---- node memory, as the agent reads it ---------------------------------- */

struct node_mem {
	uint64_t total, used, avail;
};

static int node_mem(struct node_mem *m)
{
	char buf[8192];
	const char *p;
	ssize_t n;
	int fd = open("/proc/meminfo", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = 0;
	if (node_parse_meminfo(buf, &m->total, &m->used))
		return -EINVAL;
	p = strstr(buf, "MemAvailable:");
	m->avail = p ? strtoull(p + 13, NULL, 10) * 1024 : 0;
	return 0;
}

/* Use in per mille of MemTotal. */
static unsigned int permille(const struct node_mem *m)
{
	return (unsigned int)(m->used * 1000 / m->total);
}

/* The policy's test: used >= total x threshold% (policy.c tick_mem). */
static bool over(const struct node_mem *m, unsigned int threshold_pct)
{
	return m->used >= m->total / 100 * threshold_pct +
			  m->total % 100 * threshold_pct / 100;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

/*
 * A sampler thread reads /proc/meminfo every SAMPLE_MS while a class
 * allocates (the allocation blocks the test thread for a second or so):
 * the first crossing, the first sample back under after it, the peak.
 */
struct watch {
	pthread_t th;
	unsigned int threshold;
	volatile bool stop;
	pthread_mutex_t lock;
	uint64_t t_over, t_under;	/* 0: not yet */
	unsigned int peak_pm, nr_samples;
};

static void *watch_run(void *arg)
{
	struct watch *w = arg;
	struct node_mem m;
	uint64_t t;

	while (!w->stop) {
		if (!node_mem(&m)) {
			t = now_ms();
			pthread_mutex_lock(&w->lock);
			w->nr_samples++;
			if (permille(&m) > w->peak_pm)
				w->peak_pm = permille(&m);
			if (over(&m, w->threshold)) {
				if (!w->t_over)
					w->t_over = t;
			} else if (w->t_over && !w->t_under) {
				w->t_under = t;
			}
			pthread_mutex_unlock(&w->lock);
		}
		usleep(SAMPLE_MS * 1000);
	}
	return NULL;
}

static void watch_start(struct watch *w, unsigned int threshold)
{
	memset(w, 0, sizeof(*w));
	w->threshold = threshold;
	pthread_mutex_init(&w->lock, NULL);
	cr_assert_eq(pthread_create(&w->th, NULL, watch_run, w), 0);
}

static void watch_get(struct watch *w, uint64_t *t_over, uint64_t *t_under)
{
	pthread_mutex_lock(&w->lock);
	*t_over = w->t_over;
	*t_under = w->t_under;
	pthread_mutex_unlock(&w->lock);
}

static void watch_stop(struct watch *w)
{
	w->stop = true;
	pthread_join(w->th, NULL);
}

/* ---- setup --------------------------------------------------------------- */

static void write_config(unsigned int threshold, unsigned int lower)
{
	char text[1024];

	agentrun_config(&run, "colocation-config", "{\"enable\": true}");
	/*
	 * The CPU levers stay out of the way: a BE in cpu.idle or cut to the
	 * suppress floor on a machine busy with other tests took 37 s to touch
	 * 2 GiB. The floor (cpuSuppressMinPercent) at 100% keeps BE's quota at
	 * the whole node; "enable" is also the switch of memory eviction.
	 */
	snprintf(text, sizeof(text),
		 "{\"clusterStrategy\": {\"enable\": true, \"cpuSuppressPolicy\": \"cfsQuota\","
		 " \"cpuSuppressThresholdPercent\": 100, \"cpuSuppressMinPercent\": 100,"
		 " \"memoryEvictThresholdPercent\": %u, \"memoryEvictLowerPercent\": %u}}",
		 threshold, lower);
	agentrun_config(&run, "resource-threshold-config", text);
	/* BE memoryQOS: v1 gets a soft limit at 80% of the BE limit set below */
	agentrun_config(&run, "resource-qos-config",
			"{\"clusterStrategy\": {\"beClass\": {\"cpuQOS\": {\"enable\": false},"
			" \"memoryQOS\": {\"enable\": true,"
			" \"throttlingPercent\": 80}}, \"lsClass\": {\"cpuQOS\": {\"enable\": true}}}}");
	/*
	 * Everything else is SYSTEM, hence untracked: other tests on this
	 * machine make kubelet-like trees (kubepods/besteffort) that the
	 * kubelet layouts would classify BE, and an agent that evicts must
	 * not kill their processes.
	 */
	snprintf(text, sizeof(text),
		 "{\"lsLatencyTargetUs\": 1000, \"classificationRules\": ["
		 "{\"match\": \"/%s\", \"class\": \"LS\"},"
		 "{\"match\": \"/%s\", \"class\": \"BE\"},"
		 "{\"match\": \"*\", \"class\": \"SYSTEM\"}]}", ls.rel, be.rel);
	agentrun_config(&run, "colod-config", text);
}

#define ALL_CG	(CGT_CPU | CGT_CPUACCT | CGT_MEMORY)

static void setup(void)
{
	if (geteuid())
		cr_skip_test("real-kernel tests need root");
	if (!cgtest_have(CGT_MEMORY) || !cgtest_have(CGT_CPU))
		cr_skip_test("needs the v1 cpu and memory hierarchies");
	agentrun_init(&run, "memory");
	snprintf(log_path, sizeof(log_path), "%s/agent.log", run.dir);
	snprintf(act_path, sizeof(act_path), "%s/actions.jsonl", run.dir);
	cr_assert_eq(cgtest_make_unique(&ls, "mem-ls", ALL_CG), 0);
	cr_assert_eq(cgtest_make_unique(&be, "mem-be", ALL_CG), 0);
}

/* Set at the end of a test: else teardown shows what the agent said. */
static bool passed;

static void teardown(void)
{
	if (!passed && run.pid > 0)
		agentrun_show_log(&run);
	agentrun_cleanup(&run);
	/* free the big allocations first: other tests share the machine */
	cgtest_kill_all(&be);
	cgtest_kill_all(&ls);
	cgtest_remove(&ls);
	cgtest_remove(&be);
}

TestSuite(memory, .init = setup, .fini = teardown, .timeout = 90);

/* Start the agent and wait until it tracks both groups and runs its loop. */
static void start_and_wait_tracked(void)
{
	char needle[320];

	agentrun_start(&run, NULL);
	snprintf(needle, sizeof(needle), "tracking LS cgroup /%s ", ls.rel);
	cr_assert(agentrun_wait_log(&run, needle, 30000), "the agent tracks LS (see %s)", log_path);
	snprintf(needle, sizeof(needle), "tracking BE cgroup /%s ", be.rel);
	cr_assert(agentrun_wait_log(&run, needle, 5000), "the agent tracks BE (see %s)", log_path);
	cr_assert(agentrun_wait_log(&run, "running:", 10000), "the agent runs (see %s)", log_path);
	cr_assert(agentrun_log_has(&run, "running: 2 cgroups tracked"),
		  "the agent tracks our two cgroups and nothing else (see %s)", log_path);
}

/*
 * Put the threshold THRESHOLD_ABOVE points above the node's use now; the
 * growth must end GROW_PCT - THRESHOLD_ABOVE points past it.
 */
static void pick_threshold(unsigned int *threshold, unsigned int *lower, uint64_t *grow)
{
	struct node_mem m;
	unsigned int cur;

	cr_assert_eq(node_mem(&m), 0);
	cur = (unsigned int)((m.used * 100 + m.total - 1) / m.total);	/* ceil */
	*threshold = cur + THRESHOLD_ABOVE;
	*lower = *threshold - LOWER_BELOW;
	*grow = m.total / 100 * GROW_PCT;
	if (*grow > GROW_MAX)
		*grow = GROW_MAX;
	if (m.avail < KEEP_AVAIL || *grow > m.avail - KEEP_AVAIL)
		cr_skip_test("only %" PRIu64 " MiB available: not safe to allocate %" PRIu64
			     " MiB here", m.avail / MIB, *grow / MIB);
	/* the growth must cross with a margin of 2 points for other tests' noise */
	if (*threshold > 95 || m.used + *grow < m.total / 100 * (*threshold + 2))
		cr_skip_test("node at %u%%: a %" PRIu64 " MiB growth cannot cross %u%% safely",
			     cur, *grow / MIB, *threshold);
	cr_log_info("node memory %u.%u%% of %" PRIu64 " MiB; threshold %u%%, lower %u%%, "
		    "growth %" PRIu64 " MiB", permille(&m) / 10, permille(&m) % 10,
		    m.total / MIB, *threshold, *lower, *grow / MIB);
}

static void read_knob(const struct cgtest_group *g, unsigned int ctrl, const char *file,
		      char *buf, size_t len)
{
	if (cgtest_read(g, ctrl, file, buf, len))
		snprintf(buf, len, "(unreadable)");
}

/* The knobs colod may write, and their values before it started. */
static const struct knob {
	unsigned int ctrl;
	const char *file;
} knobs[] = {
	{ CGT_CPU, "cpu.idle" },
	{ CGT_CPU, "cpu.shares" },
	{ CGT_CPU, "cpu.cfs_quota_us" },
	{ CGT_CPU, "cpu.cfs_period_us" },
	{ CGT_MEMORY, "memory.soft_limit_in_bytes" },
	{ CGT_MEMORY, "memory.limit_in_bytes" },
};
#define NR_KNOBS	(sizeof(knobs) / sizeof(knobs[0]))

struct originals {
	char v[NR_KNOBS][64];
};

static void record(const struct cgtest_group *g, struct originals *o)
{
	size_t i;

	for (i = 0; i < NR_KNOBS; i++)
		read_knob(g, knobs[i].ctrl, knobs[i].file, o->v[i], sizeof(o->v[i]));
}

static void assert_restored(const struct cgtest_group *g, const char *cls,
			    const struct originals *o)
{
	char buf[64];
	size_t i;

	for (i = 0; i < NR_KNOBS; i++) {
		read_knob(g, knobs[i].ctrl, knobs[i].file, buf, sizeof(buf));
		cr_expect_str_eq(buf, o->v[i], "%s %s back to %s after SIGTERM (is %s)", cls,
				 knobs[i].file, o->v[i], buf);
	}
}

static uint64_t cg_mem_usage(const struct cgtest_group *g)
{
	char buf[64] = "0";

	cgtest_read(g, CGT_MEMORY, "memory.usage_in_bytes", buf, sizeof(buf));
	return strtoull(buf, NULL, 10);
}

static uint64_t rss_bytes(pid_t pid)
{
	char path[64], *p;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	p = strstr(slurp(path), "VmRSS:");
	return p ? strtoull(p + 6, NULL, 10) * 1024 : 0;
}

/* Whether pid's v1 memory and cpu cgroup is /rel. */
static bool in_cgroup(pid_t pid, const char *rel)
{
	char path[64], mem[320], cpu[320], both[320];
	const char *text;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	text = slurp(path);
	/* cpu and cpuacct: one hierarchy "cpu,cpuacct" or two, as on this machine */
	snprintf(mem, sizeof(mem), ":memory:/%s\n", rel);
	snprintf(cpu, sizeof(cpu), ":cpu:/%s\n", rel);
	snprintf(both, sizeof(both), ":cpu,cpuacct:/%s\n", rel);
	return strstr(text, mem) && (strstr(text, cpu) || strstr(text, both));
}

/* How a child ended, without reaping it (cgtest_remove reaps): 0 if alive. */
static int child_fate(pid_t pid, int *code, int *status)
{
	siginfo_t si = { 0 };

	if (waitid(P_PID, pid, &si, WEXITED | WNOHANG | WNOWAIT) || !si.si_pid)
		return 0;
	*code = si.si_code;
	*status = si.si_status;
	return 1;
}

/* LS: same pid, alive, still in its cgroup, its memory still resident and charged. */
static void assert_ls_untouched(pid_t pid, uint64_t bytes, const char *when)
{
	int code, status;

	cr_assert_eq(child_fate(pid, &code, &status), 0,
		     "%s: LS pid %d alive (it ended: si_code %d, status %d)", when, (int)pid,
		     code, status);
	cr_assert(in_cgroup(pid, ls.rel), "%s: LS pid %d still in /%s", when, (int)pid, ls.rel);
	cr_assert_geq(rss_bytes(pid), bytes - bytes / 20, "%s: LS pid %d still holds its "
		      "%" PRIu64 " MiB (VmRSS %" PRIu64 " MiB)", when, (int)pid, bytes / MIB,
		      rss_bytes(pid) / MIB);
	cr_assert_geq(cg_mem_usage(&ls), bytes - bytes / 20, "%s: LS cgroup still charged "
		      "%" PRIu64 " MiB (usage %" PRIu64 " MiB)", when, bytes / MIB,
		      cg_mem_usage(&ls) / MIB);
}

/* The action log's lines on cgroup /rel of kind (NULL: any kind). */
static int count_actions(const char *kind, const char *rel, char *first, size_t len)
{
	return agentrun_actions(&run, kind, rel, first, len);
}

struct log_action {
	char cg[320], ev[320];
};

static bool is_log_action(const char *line, const void *arg)
{
	const struct log_action *m = arg;

	return (strstr(line, "action=be_") && strstr(line, m->cg)) || strstr(line, m->ev);
}

/*
 * stderr lines of dynamic actions ("action=be_... cgroup=/rel ...", and the
 * eviction warning) that name /rel.
 */
static int count_log_actions(const char *rel, char *first, size_t len)
{
	struct log_action m;

	snprintf(m.cg, sizeof(m.cg), "cgroup=/%s ", rel);
	snprintf(m.ev, sizeof(m.ev), "evicting BE cgroup /%s:", rel);
	return count_lines(log_path, is_log_action, &m, first, len);
}

/* LS: no dynamic action on it, no action line names it, no OOM kill in it. */
static void assert_no_action_on_ls(void)
{
	char line[512];

	cr_assert_eq(count_actions(NULL, ls.rel, line, sizeof(line)), 0,
		     "no dynamic action on LS: %s", line);
	cr_assert_eq(count_log_actions(ls.rel, line, sizeof(line)), 0,
		     "no action line names LS on stderr: %s", line);
	read_knob(&ls, CGT_MEMORY, "memory.oom_control", line, sizeof(line));
	cr_assert(strstr(line, "oom_kill 0"), "no OOM kill in LS: %s", line);
}

/* SIGTERM: colod exits 0 and every original of both classes is back. */
static void stop_and_assert_restored(const struct originals *ls0, const struct originals *be0)
{
	int status = agentrun_stop(&run, SIGTERM);

	cr_assert(WIFEXITED(status) && !WEXITSTATUS(status), "colod exits 0 on SIGTERM (%d)",
		  status);
	assert_restored(&be, "BE", be0);
	assert_restored(&ls, "LS", ls0);
}

/* ---- the tests ----------------------------------------------------------- */

Test(memory, be_growth_past_the_threshold_is_evicted_and_ls_is_untouched)
{
	struct originals ls0, be0;
	unsigned int threshold, lower;
	uint64_t grow, t_start, t_over, t_under, over_ms;
	pid_t ls_pid, be_pids[2];
	char line[512], needle[320], limit[32];
	const char *text;
	int code, status, i;
	struct watch w;
	size_t nkill;

	ls_pid = cgtest_spawn_mem(&ls, LS_HOLD);
	cr_assert_gt(ls_pid, 0);
	be_pids[0] = cgtest_spawn_mem(&be, BE_HOLD);
	cr_assert_gt(be_pids[0], 0);
	pick_threshold(&threshold, &lower, &grow);
	/* a safety cap: BE can never take more than it is asked to */
	snprintf(limit, sizeof(limit), "%" PRIu64, BE_HOLD + grow + 256 * MIB);
	cr_assert_eq(cgtest_write(&be, CGT_MEMORY, "memory.limit_in_bytes", limit), 0);
	write_config(threshold, lower);
	record(&ls, &ls0);
	record(&be, &be0);

	start_and_wait_tracked();
	sleep(2);	/* two ticks: the agent has read both groups' memory */
	cr_assert_eq(count_actions("be_evict", be.rel, NULL, 0), 0, "no eviction under the threshold");

	watch_start(&w, threshold);
	t_start = now_ms();
	/*
	 * -EIO: the child died before it had touched everything, which an
	 * agent that evicts while a slow allocation is still going causes;
	 * the be_evict line is asserted below either way.
	 */
	be_pids[1] = cgtest_spawn_mem(&be, grow);
	cr_log_info("BE growth of %" PRIu64 " MiB: %s after %" PRIu64 " ms", grow / MIB,
		    be_pids[1] > 0 ? "touched" : "died while touching", now_ms() - t_start);
	cr_assert(be_pids[1] > 0 || be_pids[1] == -EIO, "BE growth spawned: %d", be_pids[1]);
	for (;;) {
		watch_get(&w, &t_over, &t_under);
		if (t_under || (t_over && now_ms() - t_over >= WATCH_MS) ||
		    (!t_over && now_ms() - t_start >= WATCH_MS))
			break;
		usleep(SAMPLE_MS * 1000);
	}
	watch_stop(&w);
	cr_assert_neq(t_over, 0, "the BE growth took the node over %u%% (peak %u.%u%%)",
		      threshold, w.peak_pm / 10, w.peak_pm % 10);
	over_ms = (t_under ? t_under : now_ms()) - t_over;
	cr_log_info("node over %u%%: %" PRIu64 " ms%s (peak %u.%u%%, %u samples)", threshold,
		    over_ms, t_under ? "" : ", never back under while watched",
		    w.peak_pm / 10, w.peak_pm % 10, w.nr_samples);
	cr_assert(agentrun_alive(&run), "the agent keeps running (see %s)", log_path);
	cr_assert(t_under, "the node stayed over %u%% for the whole %d ms watched (peak "
		  "%u.%u%%): BE was neither throttled nor evicted (see %s)", threshold,
		  WATCH_MS, w.peak_pm / 10, w.peak_pm % 10, log_path);
	cr_assert_leq(over_ms, OVER_BOUND_MS, "back under %u%% after %" PRIu64 " ms; the policy "
		      "bound is %d ms", threshold, over_ms, OVER_BOUND_MS);

	/* memory.high (soft limit on v1) came down first, then the eviction */
	cr_assert_gt(count_actions("be_memory_high", be.rel, line, sizeof(line)), 0,
		     "BE memory.high lowered before the eviction (%s)", act_path);
	cr_assert(strstr(line, "\"reason\":\"mem_over_threshold\""), "first: %s", line);
	cr_assert_gt(count_actions("be_evict", be.rel, line, sizeof(line)), 0,
		     "a be_evict of /%s in the action log %s", be.rel, act_path);
	text = slurp(act_path);
	cr_assert(strstr(text, "\"kind\":\"be_memory_high\"") <
		  strstr(text, "\"kind\":\"be_evict\""), "memory.high before eviction");
	snprintf(needle, sizeof(needle), "action=be_evict cgroup=/%s ", be.rel);
	cr_assert(strstr(slurp(log_path), needle), "'%s' on stderr (%s)", needle, log_path);

	/* BE was killed by colod (SIGKILL), not by the OOM killer */
	for (i = 0; i < 2 && be_pids[i] > 0; i++) {
		cr_assert_eq(child_fate(be_pids[i], &code, &status), 1, "BE pid %d evicted",
			     (int)be_pids[i]);
		cr_assert(code == CLD_KILLED && status == SIGKILL, "BE pid %d: si_code %d "
			  "status %d, expected SIGKILL", (int)be_pids[i], code, status);
	}
	read_knob(&be, CGT_MEMORY, "memory.oom_control", line, sizeof(line));
	cr_assert(strstr(line, "oom_kill 0"), "no OOM kill in BE: %s", line);

	/* LS: nothing done to it, nothing logged on it */
	assert_ls_untouched(ls_pid, LS_HOLD, "after the eviction");
	assert_no_action_on_ls();

	/* SIGTERM: every original back */
	stop_and_assert_restored(&ls0, &be0);
	assert_ls_untouched(ls_pid, LS_HOLD, "after the agent stopped");
	nkill = (size_t)count_actions("be_evict", be.rel, NULL, 0);
	cr_log_info("%zu be_evict line(s); originals restored", nkill);
	passed = true;
}

Test(memory, ls_growth_past_the_threshold_never_kills_ls)
{
	struct originals ls0, be0;
	unsigned int threshold, lower;
	uint64_t grow, t_over, t_under, t0, t_grow;
	pid_t ls_pids[2], be_pid;
	struct watch w;

	ls_pids[0] = cgtest_spawn_mem(&ls, LS_HOLD);
	cr_assert_gt(ls_pids[0], 0);
	be_pid = cgtest_spawn_mem(&be, BE_SMALL);
	cr_assert_gt(be_pid, 0);
	pick_threshold(&threshold, &lower, &grow);
	write_config(threshold, lower);
	record(&ls, &ls0);
	record(&be, &be0);

	start_and_wait_tracked();
	sleep(2);
	watch_start(&w, threshold);
	t_grow = now_ms();
	ls_pids[1] = cgtest_spawn_mem(&ls, grow);
	cr_assert_gt(ls_pids[1], 0, "LS allocated %" PRIu64 " MiB", grow / MIB);
	/* past the tick at which the policy would evict (see OVER_BOUND_MS) */
	for (t0 = now_ms(); now_ms() - t0 < LS_WATCH_MS;) {
		usleep(500000);
		assert_ls_untouched(ls_pids[0], LS_HOLD, "while LS is over");
		assert_ls_untouched(ls_pids[1], grow, "while LS is over");
	}
	watch_stop(&w);
	watch_get(&w, &t_over, &t_under);
	cr_assert_neq(t_over, 0, "the LS growth took the node over %u%% (peak %u.%u%%)",
		      threshold, w.peak_pm / 10, w.peak_pm % 10);
	cr_log_info("LS over %u%% from %" PRIu64 " ms after its growth began; %s; "
		    "BE actions: memory.high %d, evict %d", threshold, t_over - t_grow,
		    t_under ? "back under at some point" : "still over",
		    count_actions("be_memory_high", be.rel, NULL, 0),
		    count_actions("be_evict", be.rel, NULL, 0));
	cr_assert(agentrun_alive(&run), "the agent keeps running (see %s)", log_path);
	assert_no_action_on_ls();

	stop_and_assert_restored(&ls0, &be0);
	assert_ls_untouched(ls_pids[0], LS_HOLD, "after the agent stopped");
	assert_ls_untouched(ls_pids[1], grow, "after the agent stopped");
	passed = true;
}
