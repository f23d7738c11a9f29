// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The kernel side for real: colod's BPF programs loaded and attached on
 * this machine, real cgroups (v1 cpu hierarchy here), real processes.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cjson/cJSON.h>
#include "cgtest.h"
#include "clock.h"
#include <dirent.h>
#include "agentrun.h"
#include "hist.h"
#include "kfeatures.h"
#include "loader.h"
#include "tmaps.h"

static struct colod_bpf *bpf;
static struct cgtest_group ga, gb;
static char pin_dir[64];
static pid_t stats_pid = -1;	/* a colod stats the test runs */

static void setup(void)
{
	struct loader_opts o = {
		.cgroup_root = "/sys/fs/cgroup",
		.breach_min_interval_ns = 1000000,	/* 1 ms, as the assertion below expects */
	};

	if (geteuid())
		cr_skip_test("real-kernel tests need root");
	snprintf(pin_dir, sizeof(pin_dir), "/sys/fs/bpf/colod-test-%d", getpid());
	if (access("/sys/fs/bpf", F_OK) == 0 && system("mountpoint -q /sys/fs/bpf") == 0)
		o.pin_dir = pin_dir;
	cr_assert_eq(loader_open(&o, &bpf), 0, "BPF programs load and attach");
}

static void demote(const struct cgtest_group *g)
{
	struct sched_param sp = { .sched_priority = 0 };
	int i;

	for (i = 0; i < g->nr_pids; i++)
		sched_setscheduler(g->pids[i], SCHED_OTHER, &sp);
}

static void teardown(void)
{
	if (stats_pid > 0) {
		kill(stats_pid, SIGKILL);
		waitpid(stats_pid, NULL, 0);
		stats_pid = -1;
	}
	/* an RT child its group's budget throttles would die only when it runs again */
	demote(&ga);
	demote(&gb);
	cgtest_kill_all(&ga);
	cgtest_kill_all(&gb);
	cgtest_remove(&ga);
	cgtest_remove(&gb);
	loader_close(bpf);
	bpf = NULL;
}

TestSuite(sampling, .init = setup, .fini = teardown, .timeout = 60);

static uint64_t group_id(const struct cgtest_group *g)
{
	char path[512];
	struct stat st;

	cr_assert_eq(cgtest_path(path, sizeof(path), g, CGT_CPU, NULL), 0);
	cr_assert_eq(stat(path, &st), 0, "%s exists", path);
	return st.st_ino;
}

static void read_stats(const struct cgtest_group *g, struct colod_cg_stats *s)
{
	memset(s, 0, sizeof(*s));
	/* no entry: nothing of the group ran yet */
	maps_read_stats(loader_maps(bpf), group_id(g), s);
}

static void stop_children(struct cgtest_group *g)
{
	int i;

	for (i = 0; i < g->nr_pids; i++) {
		kill(g->pids[i], SIGKILL);
		waitpid(g->pids[i], NULL, 0);
	}
	g->nr_pids = 0;
}

/* A BPF map of this process with that type, max_entries and value size. */
static bool own_map(unsigned int type, unsigned int entries, unsigned int value_size)
{
	char path[64], want[128];
	struct dirent *de;
	bool found = false;
	DIR *d = opendir("/proc/self/fdinfo");

	cr_assert_not_null(d);
	snprintf(want, sizeof(want), "map_type:\t%u\nkey_size:\t4\nvalue_size:\t%u\n"
		 "max_entries:\t%u\n", type, value_size, entries);
	while (!found && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/fdinfo/%s", de->d_name);
		found = file_has(path, want);
	}
	closedir(d);
	return found;
}

/*
 * With COLOD_FORCE_FALLBACK=task_storage,atomics (docs/PORTABILITY.md) the
 * other tests of this suite measure the 5.10 programs: make sure that is
 * what is loaded, and without it the task-storage ones.
 */
Test(sampling, forced_fallback_is_loaded)
{
	const struct loader_choices *c = loader_choices(bpf);
	bool forced = features_forced_off("task_storage");

	cr_log_info("task storage %d, cmpxchg %d, forced %d", c->task_storage, c->atomics, forced);
	cr_assert_eq(c->task_storage, !forced, "%s", c->task_storage_why);
	cr_assert_eq(c->atomics, !features_forced_off("atomics"), "%s", c->atomics_why);
	if (forced)
		cr_assert(own_map(BPF_MAP_TYPE_HASH, c->task_entries, 40),
			  "task_ts is a pid-keyed hash of %u entries", c->task_entries);
	else
		cr_assert(own_map(BPF_MAP_TYPE_TASK_STORAGE, 0, 40), "task_ts is task storage");
}

Test(sampling, cpu_time_matches_the_kernels_accounting)
{
	struct colod_cg_stats s;
	uint64_t kernel_ns;
	double ratio;

	cr_assert_eq(cgtest_make_unique(&ga, "cpu", CGT_CPU | CGT_CPUACCT), 0);
	cr_assert_gt(cgtest_spawn_busy(&ga), 0);
	sleep(2);
	/* the final switch-out charges the last slice */
	stop_children(&ga);
	kernel_ns = cgtest_cpu_usage_ns(&ga);
	read_stats(&ga, &s);
	cr_assert_gt(kernel_ns, 200000000ULL, "the busy child ran (%lu ns)", kernel_ns);
	ratio = (double)s.cnt.cpu_ns / kernel_ns;
	cr_expect(ratio > 0.95 && ratio < 1.05,
		  "colod %llu ns vs cpuacct.usage %lu ns (ratio %.3f)",
		  (unsigned long long)s.cnt.cpu_ns, kernel_ns, ratio);
	cr_expect_gt(s.cnt.nvcsw + s.cnt.nivcsw, 0, "switches counted");
}

/* A task's time on CPU and how many times it was switched in. */
static void task_schedstat(pid_t pid, uint64_t *run_ns, uint64_t *slices)
{
	unsigned long long run, wait, n;
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/schedstat", pid);
	f = fopen(path, "r");
	cr_assert_not_null(f, "%s: %s", path, strerror(errno));
	cr_assert_eq(fscanf(f, "%llu %llu %llu", &run, &wait, &n), 3, "%s", path);
	fclose(f);
	*run_ns = run;
	*slices = n;
}

/*
 * A busy task that keeps its CPU is not switched out, so only the tick
 * program charges it. Windows of 50 ms in which the task was not switched
 * in again (its schedstat slice count unchanged) yet ran must show that
 * time in cpu_ns, within the ticks at either end; charged at switch-out
 * only, they would show none.
 */
Test(sampling, a_task_that_keeps_its_cpu_is_charged_at_the_tick)
{
	struct colod_cg_stats *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	uint64_t r0, n0, r1, n1, ran = 0, charged = 0;
	struct sched_param sp = { .sched_priority = 1 };
	int i, windows = 0;
	char path[512];
	pid_t pid;

	cr_assert(a && b);
	cr_assert_eq(cgtest_make_unique(&ga, "tick", CGT_CPU | CGT_CPUACCT), 0);
	/*
	 * SCHED_FIFO: no CFS task takes its CPU away, however busy the
	 * machine. With RT group scheduling the group needs a budget: half
	 * of each second, so the rest of the machine still runs.
	 */
	if (cgtest_path(path, sizeof(path), &ga, CGT_CPU, "cpu.rt_runtime_us") == 0 &&
	    access(path, F_OK) == 0)
		cr_assert_eq(cgtest_write(&ga, CGT_CPU, "cpu.rt_runtime_us", "500000"), 0);
	pid = cgtest_spawn_busy(&ga);
	cr_assert_gt(pid, 0);
	cr_assert_eq(sched_setscheduler(pid, SCHED_FIFO, &sp), 0, "%s", strerror(errno));
	usleep(100000);
	for (i = 0; i < 80 && windows < 3; i++) {
		read_stats(&ga, a);
		task_schedstat(pid, &r0, &n0);
		usleep(50000);
		read_stats(&ga, b);
		task_schedstat(pid, &r1, &n1);
		if (n1 != n0 || r1 - r0 < 25000000)
			continue;	/* switched meanwhile, or hardly ran */
		windows++;
		ran += r1 - r0;
		charged += b->cnt.cpu_ns - a->cnt.cpu_ns;
	}
	free(a);
	free(b);
	cr_assert_geq(windows, 3, "only %d of %d windows of 50 ms without a switch "
		      "of the SCHED_FIFO busy task", windows, i);
	cr_assert(charged > ran * 7 / 10 && charged < ran * 13 / 10,
		  "over %d windows without a switch the task ran %llu ns, cpu_ns grew "
		  "%llu ns", windows, (unsigned long long)ran, (unsigned long long)charged);
}

/* cpuacct.usage of a group, sampled while colod stats runs */
struct usage_log {
	uint64_t t[4096], ns[4096];
	int nr;
};

static void usage_sample(struct usage_log *l, const struct cgtest_group *g)
{
	if (l->nr < 4096) {
		l->t[l->nr] = mono_ns();
		l->ns[l->nr++] = cgtest_cpu_usage_ns(g);
	}
}

/* The group's cpuacct.usage at time t, interpolated between samples. */
static double usage_at(const struct usage_log *l, uint64_t t)
{
	int i;

	for (i = 1; i < l->nr; i++)
		if (l->t[i] >= t)
			break;
	cr_assert(i > 0 && i < l->nr && l->t[i - 1] <= t, "no cpuacct sample around %lu", t);
	return l->ns[i - 1] + (double)(l->ns[i] - l->ns[i - 1]) *
	       (t - l->t[i - 1]) / (l->t[i] - l->t[i - 1]);
}

/*
 * Run the real colod stats --json on g, loading its own programs (no
 * pinned maps under a fresh --pin-dir), and sample cpuacct every 10 ms
 * meanwhile. Returns its JSON output; *end: when it exited.
 */
static cJSON *run_colod_stats(const struct cgtest_group *g, const char *duration,
			      struct usage_log *l, uint64_t *end)
{
	char none[64], out[16384];
	struct pollfd pfd;
	size_t n = 0;
	ssize_t r;
	int fds[2], status;

	cr_assert_not_null(getenv("COLOD_BIN"), "COLOD_BIN names the colod binary (make sets it)");
	snprintf(none, sizeof(none), "/sys/fs/bpf/colod-test-none-%d", getpid());
	cr_assert_eq(pipe(fds), 0);
	stats_pid = fork();
	cr_assert_geq(stats_pid, 0);
	if (!stats_pid) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execl(getenv("COLOD_BIN"), "colod", "stats", "--json", "--duration", duration,
		      "--cgroup", g->rel, "--pin-dir", none, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	pfd = (struct pollfd){ .fd = fds[0], .events = POLLIN };
	for (;;) {
		usage_sample(l, g);
		if (poll(&pfd, 1, 10) <= 0)
			continue;
		r = read(fds[0], out + n, sizeof(out) - 1 - n);
		if (r <= 0)
			break;
		n += r;
	}
	*end = mono_ns();
	usage_sample(l, g);
	close(fds[0]);
	out[n] = 0;
	cr_assert_eq(waitpid(stats_pid, &status, 0), stats_pid);
	stats_pid = -1;
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "colod stats failed:\n%s", out);
	return cJSON_Parse(out);
}

/*
 * A busy loop that was already running when the programs attached: the
 * real colod stats must see the CPU that cpuacct sees over its window,
 * from the first tick on, not only once the loop is first switched out.
 * SCHED_FIFO so that it keeps its CPU for long (a CFS one on a busy
 * machine is switched out within milliseconds, which hides the gap): the
 * group's RT budget is 4 s in 10 s, enough for the whole run, 0.4 of the
 * machine so that the tick test above can hold its 0.5 at the same time.
 */
Test(sampling, colod_stats_counts_a_task_running_since_before_attach, .timeout = 30)
{
	struct usage_log *l = calloc(1, sizeof(*l));
	struct sched_param sp = { .sched_priority = 1 };
	double secs, colod, kernel;
	char path[512];
	uint64_t end;
	cJSON *j, *cg;
	pid_t pid;

	cr_assert_not_null(l);
	cr_assert_eq(cgtest_make_unique(&ga, "prerun", CGT_CPU | CGT_CPUACCT), 0);
	if (cgtest_path(path, sizeof(path), &ga, CGT_CPU, "cpu.rt_runtime_us") == 0 &&
	    access(path, F_OK) == 0) {
		cr_assert_eq(cgtest_write(&ga, CGT_CPU, "cpu.rt_period_us", "10000000"), 0);
		cr_assert_eq(cgtest_write(&ga, CGT_CPU, "cpu.rt_runtime_us", "4000000"), 0);
	}
	pid = cgtest_spawn_busy(&ga);
	cr_assert_gt(pid, 0);
	cr_assert_eq(sched_setscheduler(pid, SCHED_FIFO, &sp), 0, "%s", strerror(errno));
	usleep(200000);
	j = run_colod_stats(&ga, "3", l, &end);
	cr_assert_not_null(j, "colod stats printed JSON");
	cg = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "cgroups"), 0);
	cr_assert_not_null(cg, "a row for the group");
	secs = cJSON_GetNumberValue(cJSON_GetObjectItem(j, "duration_s"));
	colod = cJSON_GetNumberValue(cJSON_GetObjectItem(cg, "cpu_cores"));
	cJSON_Delete(j);
	cr_assert(secs > 2.9 && secs < 3.5, "window %.3f s", secs);
	/*
	 * Its window ended just before it exited (the programs' detach and
	 * the exit take a few ms): the same window on the cpuacct samples.
	 */
	kernel = (usage_at(l, end) - usage_at(l, end - (uint64_t)(secs * 1e9))) / (secs * 1e9);
	free(l);
	cr_log_info("colod stats %.3f cores, cpuacct %.3f over the same %.3f s", colod, kernel,
		    secs);
	cr_assert_gt(kernel, 0.3, "the busy loop ran (%.3f cores)", kernel);
	cr_assert(colod > kernel * 0.95 && colod < kernel * 1.05,
		  "colod stats %.3f cores vs cpuacct %.3f (ratio %.3f)", colod, kernel,
		  colod / kernel);
}

/*
 * The kernel keeps histograms for LS cgroups only; colod stats on programs
 * of its own asks for one for each cgroup it shows, so its percentiles are
 * there for any cgroup.
 */
Test(sampling, colod_stats_gives_percentiles_of_the_cgroups_it_shows, .timeout = 30)
{
	struct usage_log *l = calloc(1, sizeof(*l));
	cJSON *j, *rq;
	uint64_t end;

	cr_assert_not_null(l);
	cr_assert_eq(cgtest_make_unique(&ga, "pcts", CGT_CPU | CGT_CPUACCT), 0);
	cr_assert_gt(cgtest_spawn_periodic(&ga, 100, 1000), 0);
	j = run_colod_stats(&ga, "1", l, &end);
	free(l);
	cr_assert_not_null(j, "colod stats printed JSON");
	rq = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "cgroups"), 0),
				 "runq_us");
	cr_assert_gt(cJSON_GetNumberValue(cJSON_GetObjectItem(rq, "count")), 100,
		     "its waits are counted");
	cr_assert(cJSON_IsNumber(cJSON_GetObjectItem(rq, "p99")), "and it has a p99");
	cr_assert_gt(cJSON_GetNumberValue(cJSON_GetObjectItem(rq, "p99")), 0);
	cJSON_Delete(j);
}

/* p99 of the group's run-queue latency over a window, and its sample count */
static double window_p99(const struct cgtest_group *g, unsigned int ms, uint64_t *count)
{
	struct colod_cg_stats *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b)), d;
	double p99;

	read_stats(g, a);
	usleep(ms * 1000);
	read_stats(g, b);
	cg_stats_delta(b, a, &d);
	*count = d.cnt.runq_count;
	p99 = hist_percentile_us(d.runq_hist, COLOD_HIST_SLOTS, 99);
	free(a);
	free(b);
	return p99;
}

Test(sampling, latency_rises_under_contention_in_the_waiting_cgroup)
{
	uint64_t n_alone, n_busy, n_burn;
	double alone, busy, burners;
	int i;

	cr_assert_eq(cgtest_make_unique(&ga, "sleeper", CGT_CPU | CGT_CPUACCT), 0);
	cr_assert_eq(cgtest_make_unique(&gb, "burner", CGT_CPU | CGT_CPUACCT), 0);
	/* histograms are kept for LS cgroups (or flagged ones) only */
	cr_assert_eq(maps_set_class(loader_maps(bpf), group_id(&ga), COLOD_CLASS_LS, 0, 0), 0);
	cr_assert_eq(maps_set_class(loader_maps(bpf), group_id(&gb), COLOD_CLASS_SYSTEM, 0,
				    COLOD_CG_HIST), 0);
	/*
	 * Two tasks waking every 1 ms and running 600 us: real CPU demand (1.2
	 * cores). A lighter sleeper is shielded by wake-up preemption and
	 * barely notices the burners (docs: DESIGN, "what interference looks
	 * like here").
	 */
	cr_assert_gt(cgtest_spawn_periodic(&ga, 600, 1000), 0);
	cr_assert_gt(cgtest_spawn_periodic(&ga, 600, 1000), 0);
	usleep(300000);
	alone = window_p99(&ga, 2000, &n_alone);
	for (i = 0; i < 4; i++)
		cr_assert_gt(cgtest_spawn_busy(&gb), 0);
	usleep(300000);
	busy = window_p99(&ga, 2000, &n_busy);
	burners = window_p99(&gb, 1000, &n_burn);

	cr_log_info("sleeper p99 %.0f us alone, %.0f us beside 4 burners", alone, busy);
	cr_assert_gt(n_alone, 100, "sleeper samples alone: %lu", n_alone);
	cr_assert_gt(n_busy, 50, "sleeper samples under contention: %lu", n_busy);
	/* each wake-up is one sample: not far above the wake-up rate */
	cr_expect_lt(n_alone, 2 * 4000 + 400, "samples alone %lu for ~4000 wake-ups", n_alone);
	cr_assert_gt(busy, 3 * alone, "sleeper p99 %.0f us under contention vs %.0f us alone",
		     busy, alone);
	cr_expect_gt(n_burn, 0, "the burners' own waits land in their cgroup");
	(void)burners;
}

/*
 * The 5.10 programs (pid-keyed hash, no cmpxchg) and the task-storage ones
 * attached at once to the same load: the same wake-ups sampled, p99 within
 * one of runqlat's log2 buckets (a factor of 2), CPU within 5%.
 */
Test(sampling, fallback_measures_what_task_storage_measures)
{
	struct colod_cg_stats *a[2], *b[2], d[2];
	struct loader_opts o = { .cgroup_root = "/sys/fs/cgroup" };
	const char *env = getenv(COLOD_FORCE_ENV);
	char *saved = env ? strdup(env) : NULL;
	struct colod_bpf *other = NULL;
	double p99[2];
	int i, fb;

	/* the other variant than the suite's: forced on, or forced off */
	if (loader_choices(bpf)->task_storage)
		setenv(COLOD_FORCE_ENV, "task_storage,atomics", 1);
	else
		unsetenv(COLOD_FORCE_ENV);
	i = loader_open(&o, &other);
	if (saved)
		setenv(COLOD_FORCE_ENV, saved, 1);
	else
		unsetenv(COLOD_FORCE_ENV);
	free(saved);
	cr_assert_eq(i, 0, "a second copy of the programs loads");
	cr_assert_neq(loader_choices(other)->task_storage, loader_choices(bpf)->task_storage);
	fb = loader_choices(bpf)->task_storage ? 1 : 0;	/* index of the fallback */

	cr_assert_eq(cgtest_make_unique(&ga, "fbcmp", CGT_CPU | CGT_CPUACCT), 0);
	cr_assert_eq(cgtest_make_unique(&gb, "fbburn", CGT_CPU | CGT_CPUACCT), 0);
	cr_assert_eq(maps_set_class(loader_maps(bpf), group_id(&ga), COLOD_CLASS_LS, 0, 0), 0);
	cr_assert_eq(maps_set_class(loader_maps(other), group_id(&ga), COLOD_CLASS_LS, 0, 0), 0);
	cr_assert_gt(cgtest_spawn_periodic(&ga, 600, 1000), 0);
	cr_assert_gt(cgtest_spawn_periodic(&ga, 600, 1000), 0);
	for (i = 0; i < 2; i++)
		cr_assert_gt(cgtest_spawn_busy(&gb), 0);
	usleep(300000);
	for (i = 0; i < 2; i++) {
		a[i] = calloc(1, sizeof(*a[i]));
		b[i] = calloc(1, sizeof(*b[i]));
		cr_assert(a[i] && b[i]);
	}
	maps_read_stats(loader_maps(bpf), group_id(&ga), a[0]);
	maps_read_stats(loader_maps(other), group_id(&ga), a[1]);
	sleep(3);
	maps_read_stats(loader_maps(bpf), group_id(&ga), b[0]);
	maps_read_stats(loader_maps(other), group_id(&ga), b[1]);
	loader_close(other);
	for (i = 0; i < 2; i++) {
		cg_stats_delta(b[i], a[i], &d[i]);
		p99[i] = hist_percentile_us(d[i].runq_hist, COLOD_HIST_SLOTS, 99);
		free(a[i]);
		free(b[i]);
	}
	cr_log_info("task storage: %lu samples p99 %.0f us cpu %llu ns; pid hash: %lu samples "
		    "p99 %.0f us cpu %llu ns", (unsigned long)d[!fb].cnt.runq_count, p99[!fb],
		    (unsigned long long)d[!fb].cnt.cpu_ns, (unsigned long)d[fb].cnt.runq_count, p99[fb],
		    (unsigned long long)d[fb].cnt.cpu_ns);
	cr_assert_gt(d[!fb].cnt.runq_count, 100, "the sleepers woke (%lu)",
		     (unsigned long)d[!fb].cnt.runq_count);
	cr_assert(d[fb].cnt.runq_count > d[!fb].cnt.runq_count * 0.95 &&
		  d[fb].cnt.runq_count < d[!fb].cnt.runq_count * 1.05,
		  "samples: pid hash %lu, task storage %lu", (unsigned long)d[fb].cnt.runq_count,
		  (unsigned long)d[!fb].cnt.runq_count);
	cr_assert(p99[fb] >= p99[!fb] / 2 && p99[fb] <= p99[!fb] * 2,
		  "p99: pid hash %.0f us, task storage %.0f us", p99[fb], p99[!fb]);
	cr_assert(d[fb].cnt.cpu_ns > d[!fb].cnt.cpu_ns * 0.95 && d[fb].cnt.cpu_ns < d[!fb].cnt.cpu_ns * 1.05,
		  "cpu: pid hash %llu ns, task storage %llu ns",
		  (unsigned long long)d[fb].cnt.cpu_ns, (unsigned long long)d[!fb].cnt.cpu_ns);
}

/* Dirty page cache in a small memcg until the kernel reclaims it. */
static pid_t spawn_writer(struct cgtest_group *g, const char *file, size_t mb)
{
	static char buf[1 << 20];
	char pid_s[32];
	pid_t pid = fork();
	size_t i;
	int fd;

	if (pid)
		return pid;
	snprintf(pid_s, sizeof(pid_s), "%d", getpid());
	if (cgtest_write(g, CGT_CPU, "cgroup.procs", pid_s) ||
	    cgtest_write(g, CGT_MEMORY, "cgroup.procs", pid_s))
		_exit(2);
	fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		_exit(3);
	memset(buf, 0x5a, sizeof(buf));
	for (i = 0; i < mb; i++)
		if (write(fd, buf, sizeof(buf)) != sizeof(buf))
			_exit(4);
	close(fd);
	_exit(0);
}

Test(sampling, reclaim_stall_is_charged_to_the_limited_cgroup)
{
	char file[] = "/var/tmp/colod-test-reclaimXXXXXX";
	struct colod_cg_stats s, idle;
	int status, fd;
	pid_t pid;

	cr_assert_eq(cgtest_make_unique(&ga, "memhog", CGT_CPU | CGT_MEMORY), 0);
	cr_assert_eq(cgtest_make_unique(&gb, "memidle", CGT_CPU | CGT_MEMORY), 0);
	cr_assert_eq(cgtest_write(&ga, CGT_MEMORY, "memory.limit_in_bytes", "33554432"), 0);
	fd = mkstemp(file);
	cr_assert_geq(fd, 0);
	close(fd);
	pid = spawn_writer(&ga, file, 256);
	cr_assert_gt(pid, 0);
	waitpid(pid, &status, 0);
	unlink(file);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "writer finished");
	read_stats(&ga, &s);
	read_stats(&gb, &idle);
	cr_assert_gt(s.cnt.memcg_reclaim_count + s.cnt.direct_reclaim_count, 0,
		     "256 MiB through a 32 MiB memcg reclaims");
	cr_assert_gt(s.cnt.memcg_reclaim_ns + s.cnt.direct_reclaim_ns, 0);
	cr_expect_eq(idle.cnt.memcg_reclaim_ns + idle.cnt.direct_reclaim_ns, 0,
		     "an idle cgroup stalls in no reclaim");
}

/* ctx: { LS cgroup id, BE cgroup id, events for the LS, of which naming the BE } */
static int count_event(void *ctx, void *data, size_t len)
{
	const struct colod_breach_event *e = data;
	uint64_t *want = ctx;

	if (len >= sizeof(*e) && e->cgroup_id == want[0] && e->latency_ns > 1000) {
		want[2]++;
		want[3] += e->be_cgroup_id == want[1];
	}
	return 0;
}

/*
 * Two seconds of events for an LS group (ga) with three spinners in gb,
 * of class gb_cls; ctx as count_event() fills it.
 */
static void breach_storm(enum colod_class gb_cls, uint64_t ctx[4],
			 struct colod_cg_stats *s)
{
	const struct colod_maps *m = loader_maps(bpf);
	struct ring_buffer *rb;
	int i;

	cr_assert_eq(cgtest_make_unique(&ga, "ls", CGT_CPU | CGT_CPUACCT), 0);
	cr_assert_eq(cgtest_make_unique(&gb, "spin", CGT_CPU | CGT_CPUACCT), 0);
	ctx[0] = group_id(&ga);
	ctx[1] = group_id(&gb);
	if (gb_cls != COLOD_CLASS_SYSTEM)
		cr_assert_eq(maps_set_class(m, ctx[1], gb_cls, 0, 0), 0);
	/* any wait above 1 us breaches: a storm the rate limit must tame */
	cr_assert_eq(maps_set_class(m, ctx[0], COLOD_CLASS_LS, 1000, 0), 0);
	rb = ring_buffer__new(m->events_fd, count_event, ctx, NULL);
	cr_assert_not_null(rb);
	cr_assert_gt(cgtest_spawn_periodic(&ga, 300, 1000), 0);
	for (i = 0; i < 3; i++)
		cr_assert_gt(cgtest_spawn_busy(&gb), 0);
	for (i = 0; i < 20; i++)
		ring_buffer__poll(rb, 100);
	ring_buffer__consume(rb);
	ring_buffer__free(rb);
	read_stats(&ga, s);
}

Test(sampling, ls_breaches_behind_be_reach_userspace_rate_limited)
{
	uint64_t ctx[4] = { 0 };
	struct colod_cg_stats s;

	breach_storm(COLOD_CLASS_BE, ctx, &s);
	cr_assert_gt(ctx[2], 0, "breach events arrived");
	cr_assert_eq(ctx[3], ctx[2], "every event names the BE group (%lu of %lu)",
		     ctx[3], ctx[2]);
	cr_assert_gt(s.cnt.breaches_be, ctx[2], "more BE breaches (%llu) than events (%lu)",
		     (unsigned long long)s.cnt.breaches_be, ctx[2]);
	cr_assert_geq(s.cnt.breaches, s.cnt.breaches_be);
	/* default limit: one event per cgroup per ms, over about 2 s */
	cr_expect_leq(ctx[2], 2600, "rate-limited: %lu events", ctx[2]);
}

/*
 * The same storm with the spinners in a cgroup that is not BE (system
 * work, or LS's own tasks): the LS still breaches, but cutting BE would
 * not help it, so no event goes out and no breach is BE's.
 */
Test(sampling, ls_breaches_behind_others_send_no_event)
{
	uint64_t ctx[4] = { 0 };
	struct colod_cg_stats s;

	breach_storm(COLOD_CLASS_SYSTEM, ctx, &s);
	cr_assert_gt(s.cnt.breaches, 100, "the LS breached (%llu)", (unsigned long long)s.cnt.breaches);
	cr_assert_eq(s.cnt.breaches_be, 0, "%llu breaches blamed on BE with no BE cgroup",
		     (unsigned long long)s.cnt.breaches_be);
	cr_assert_eq(ctx[2], 0, "%lu events without BE", ctx[2]);
}

static void pin_to(pid_t pid, int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	cr_assert_eq(sched_setaffinity(pid, sizeof(set), &set), 0, "%s", strerror(errno));
}

/*
 * LS waits behind its own spinner on CPU 0 while a BE spinner runs on
 * CPU 1: BE is to blame (the LS task could have run there) unless the BE
 * cgroup is idle-class, which the scheduler treats as an idle CPU.
 */
static uint64_t ls_breaches_be_with_be_elsewhere(uint32_t be_flags)
{
	const struct colod_maps *m = loader_maps(bpf);
	struct colod_cg_stats *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b)), s;

	cr_assert(a && b);
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		cr_skip_test("needs two CPUs: LS on one, BE on the other");
	cr_assert_eq(cgtest_make_unique(&ga, "ls", CGT_CPU | CGT_CPUACCT), 0);
	cr_assert_eq(cgtest_make_unique(&gb, "be", CGT_CPU | CGT_CPUACCT), 0);
	cr_assert_eq(maps_set_class(m, group_id(&gb), COLOD_CLASS_BE, 0, be_flags), 0);
	cr_assert_eq(maps_set_class(m, group_id(&ga), COLOD_CLASS_LS, 1000, 0), 0);
	pin_to(cgtest_spawn_busy(&gb), 1);
	pin_to(cgtest_spawn_busy(&ga), 0);
	pin_to(cgtest_spawn_periodic(&ga, 300, 1000), 0);
	/* from here on: before the pinning, a spinner may have shared a CPU */
	usleep(200000);
	read_stats(&ga, a);
	sleep(2);
	read_stats(&ga, b);
	cg_stats_delta(b, a, &s);
	free(a);
	free(b);
	cr_assert_gt(s.cnt.breaches, 100, "the LS breached (%llu)", (unsigned long long)s.cnt.breaches);
	return s.cnt.breaches_be;
}

Test(sampling, ls_wait_beside_be_on_another_cpu_is_bes)
{
	uint64_t n = ls_breaches_be_with_be_elsewhere(0);

	cr_assert_gt(n, 100, "BE breaches: %llu", (unsigned long long)n);
}

Test(sampling, ls_wait_beside_idle_be_on_another_cpu_is_not_bes)
{
	uint64_t n = ls_breaches_be_with_be_elsewhere(COLOD_CG_IDLE);

	cr_assert_eq(n, 0, "BE breaches: %llu", (unsigned long long)n);
}

Test(sampling, pinned_maps_print_named_fields_under_bpftool)
{
	char cmd[256], out[8192];
	uint64_t id;
	size_t n;
	FILE *p;

	if (!strlen(pin_dir) || access(pin_dir, F_OK))
		cr_skip_test("bpffs not mounted at /sys/fs/bpf: nothing pinned");
	cr_assert_eq(cgtest_make_unique(&ga, "pin", CGT_CPU), 0);
	id = group_id(&ga);
	cr_assert_eq(maps_set_class(loader_maps(bpf), id, COLOD_CLASS_LS, 1234000, 0), 0);
	snprintf(cmd, sizeof(cmd), "bpftool map dump pinned %s/cg_class", pin_dir);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = 0;
	pclose(p);
	cr_assert(strstr(out, "\"threshold_ns\": 1234000"), "named field in:\n%s", out);
	cr_assert(strstr(out, "\"cls\": 1"), "named field in:\n%s", out);
	snprintf(cmd, sizeof(cmd), "bpftool map dump pinned %s/cg_stats | head -c 4000", pin_dir);
	p = popen(cmd, "r");
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = 0;
	pclose(p);
	cr_assert(strstr(out, "\"runq_count\"") && strstr(out, "\"cpu_ns\""),
		  "stats print named fields:\n%.500s", out);
	/* an LS cgroup's waits: its histogram, in cg_hist */
	cr_assert_gt(cgtest_spawn_periodic(&ga, 100, 1000), 0);
	usleep(200000);
	snprintf(cmd, sizeof(cmd), "bpftool map dump pinned %s/cg_hist | head -c 4000", pin_dir);
	p = popen(cmd, "r");
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = 0;
	pclose(p);
	cr_assert(strstr(out, "\"runq_hist\""), "cg_hist prints named fields:\n%.500s", out);
}

/*
 * Past three quarters of cg_stats, a cgroup colod does not track gets no
 * entry (its samples are counted as dropped), and one it tracks still does.
 */
Test(sampling, a_nearly_full_stats_map_keeps_room_for_tracked_cgroups)
{
	struct loader_opts o = { .cgroup_root = "/sys/fs/cgroup", .max_cgroups = 16,
				 .breach_min_interval_ns = 1000000 };
	static struct cgtest_group many[24];
	uint64_t cnt[COLOD_CNT_NR] = {};
	struct colod_cg_stats *s = calloc(1, sizeof(*s));
	struct colod_bpf *small;
	char rel[64];
	int i, n, made = 0, got;

	cr_assert_eq(loader_open(&o, &small), 0, "a second, small instance loads");
	/* the host's own cgroups fill it too: run more than it admits */
	for (i = 0; i < 24; i++) {
		snprintf(rel, sizeof(rel), "colod-test-adm-%d-%d", getpid(), i);
		if (cgtest_make(&many[i], rel, CGT_CPU))
			break;
		made++;
		cgtest_spawn_periodic(&many[i], 100, 1000);
	}
	usleep(200000);
	n = tmaps_count_keys(loader_maps(small)->stats_fd);
	for (i = 0; i < made; i++)
		cgtest_remove(&many[i]);
	cr_assert_eq(cgtest_make_unique(&ga, "tracked", CGT_CPU), 0);
	cr_assert_eq(maps_set_class(loader_maps(small), group_id(&ga), COLOD_CLASS_LS,
				    1000000, 0), 0);
	cr_assert_gt(cgtest_spawn_periodic(&ga, 100, 1000), 0);
	usleep(200000);
	got = maps_read_stats(loader_maps(small), group_id(&ga), s);
	maps_read_counters(loader_maps(small), cnt);
	loader_close(small);
	cr_log_info("%d groups made, %d entries before the tracked one, %llu untracked "
		    "samples dropped, %llu map full", made, n,
		    (unsigned long long)cnt[COLOD_CNT_STATS_UNTRACKED],
		    (unsigned long long)cnt[COLOD_CNT_STATS_FULL]);
	cr_assert_eq(made, 24);
	cr_assert_leq(n, 12, "untracked cgroups stop at 3/4 of 16 entries: %d", n);
	cr_assert_gt(cnt[COLOD_CNT_STATS_UNTRACKED], 0, "the dropped samples are counted");
	cr_assert_eq(got, 0, "the tracked cgroup has an entry");
	cr_assert_gt(s->cnt.runq_count + s->cnt.nvcsw, 0, "and its samples");
	free(s);
}
