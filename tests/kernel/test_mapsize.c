// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * cg_stats sized for many cgroups, with the real `colod run` on real v1
 * cgroups: more untracked cgroups run than 3/4 of the map admits; the LS
 * cgroups colod tracks still get their entries and samples, and the
 * samples left out are counted, in /metrics and in `colod top`.
 *
 * A 10,000-cgroup node at 1/20 of the size (--max-cgroups 512: 560
 * untracked cgroups, more than it holds, and 16 tracked). Moving a task
 * into a v1 cgroup took 22 ms on this loaded machine, so 10,000 would
 * take minutes; scripts/bench/scale.sh runs the full size (make bench, and
 * under qemu with 255 possible CPUs). Root required.
 *
 * And the files a cgroup costs: a container below its pod has its limits
 * and requests left unread (each file opened is a dentry and an inode).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "agentrun.h"
#include "maps.h"
#include "tmaps.h"

#define MAX_CGROUPS	512
#define NR_UNTRACKED	560	/* more than the map holds */
#define NR_TRACKED	16

static struct agentrun run;
static char base[256];		/* /sys/fs/cgroup/cpu/colod-test-mapsize-PID */
static char rel[128];		/* /colod-test-mapsize-PID */

static void dir_of(char *buf, size_t len, const char *kind, int i)
{
	if (i < 0)
		snprintf(buf, len, "%s/%s", base, kind);
	else
		snprintf(buf, len, "%s/%s/g%d", base, kind, i);
}

static void remove_all(void)
{
	char path[320];
	int i;

	if (!base[0])
		return;
	snprintf(path, sizeof(path), "%s/ls/g0/c0", base);
	rmdir(path);
	for (i = 0; i < NR_UNTRACKED; i++) {
		dir_of(path, sizeof(path), "other", i);
		rmdir(path);
	}
	for (i = 0; i < NR_TRACKED; i++) {
		dir_of(path, sizeof(path), "ls", i);
		rmdir(path);
	}
	dir_of(path, sizeof(path), "other", -1);
	rmdir(path);
	dir_of(path, sizeof(path), "ls", -1);
	rmdir(path);
	rmdir(base);
}

static void setup(void)
{
	char path[320], text[512];
	int i;

	if (geteuid())
		cr_skip_test("real-kernel tests need root");
	/* first: without $COLOD_BIN it fails before anything is made */
	agentrun_init(&run, "mapsize");
	snprintf(rel, sizeof(rel), "/colod-test-mapsize-%d", getpid());
	snprintf(base, sizeof(base), "/sys/fs/cgroup/cpu%s", rel);
	if (access("/sys/fs/cgroup/cpu/cpu.shares", F_OK))
		cr_skip_test("no v1 cpu hierarchy at /sys/fs/cgroup/cpu");
	cr_assert_eq(mkdir(base, 0755), 0, "%s: %s", base, strerror(errno));
	dir_of(path, sizeof(path), "other", -1);
	cr_assert_eq(mkdir(path, 0755), 0, "%s", path);
	dir_of(path, sizeof(path), "ls", -1);
	cr_assert_eq(mkdir(path, 0755), 0, "%s", path);
	for (i = 0; i < NR_UNTRACKED; i++) {
		dir_of(path, sizeof(path), "other", i);
		cr_assert_eq(mkdir(path, 0755), 0, "%s: %s", path, strerror(errno));
	}
	for (i = 0; i < NR_TRACKED; i++) {
		dir_of(path, sizeof(path), "ls", i);
		cr_assert_eq(mkdir(path, 0755), 0, "%s: %s", path, strerror(errno));
	}
	snprintf(text, sizeof(text), "{\"classificationRules\": ["
		 "{\"match\": \"%s/ls/*\", \"class\": \"LS\"}]}", rel);
	agentrun_config(&run, "colod-config", text);
}

static void teardown(void)
{
	agentrun_cleanup(&run);
	remove_all();
}

TestSuite(mapsize, .init = setup, .fini = teardown, .timeout = 240);

/* A task that moves into dir, sleeps and wakes `times` times, and exits. */
static pid_t run_in(const char *dir, int times)
{
	char path[340];
	pid_t pid = fork();
	FILE *f;

	if (pid)
		return pid;
	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	f = fopen(path, "w");
	if (!f || fprintf(f, "0\n") < 0 || fclose(f))
		_exit(1);
	while (times--)
		usleep(1000);
	_exit(0);
}

static int reap(pid_t pid)
{
	int st;

	return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) ?
	       WEXITSTATUS(st) : -1;
}

static uint64_t id_of(const char *dir)
{
	struct stat st;

	cr_assert_eq(stat(dir, &st), 0, "%s", dir);
	return st.st_ino;
}

/* "untracked-dropped N" of one `colod top -b` frame, -1 if not there. */
static long long top_dropped(void)
{
	char cmd[512], line[512];
	long long n = -1;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "%s top -b -n 1 -d 1 --pin-dir %s 2>&1",
		 getenv("COLOD_BIN"), run.pin_dir);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	while (fgets(line, sizeof(line), p)) {
		char *s = strstr(line, "untracked-dropped ");

		if (s)
			n = strtoll(s + strlen("untracked-dropped "), NULL, 10);
	}
	pclose(p);
	return n;
}

Test(mapsize, tracked_cgroups_keep_their_entries_when_untracked_ones_fill_the_map)
{
	uint64_t cnt[COLOD_CNT_NR] = {};
	struct colod_cg_stats *s = calloc(1, sizeof(*s));
	struct colod_maps m;
	char path[320];
	pid_t pids[NR_TRACKED];
	int i, admitted = 0, with_samples = 0, with_hist = 0, hists;
	double metric = -1;
	long long top;

	cr_assert_not_null(s);
	agentrun_start(&run, "--max-cgroups", "512", NULL);
	cr_assert(agentrun_wait_log(&run, "running:", 30000), "the agent did not start");
	cr_assert(agentrun_log_has(&run, "tracking LS cgroup"), "the LS cgroups are tracked");
	/* untracked first: they take the map up to 3/4, then are left out */
	for (i = 0; i < NR_UNTRACKED; i++) {
		dir_of(path, sizeof(path), "other", i);
		cr_assert_eq(reap(run_in(path, 1)), 0, "a task in %s", path);
	}
	for (i = 0; i < NR_TRACKED; i++) {
		dir_of(path, sizeof(path), "ls", i);
		pids[i] = run_in(path, 20);
	}
	for (i = 0; i < NR_TRACKED; i++)
		cr_assert_eq(reap(pids[i]), 0, "a task in tracked group %d", i);

	cr_assert_eq(maps_open_pinned(run.pin_dir, &m), 0, "the agent's pinned maps");
	for (i = 0; i < NR_TRACKED; i++) {
		dir_of(path, sizeof(path), "ls", i);
		if (maps_read_stats(&m, id_of(path), s))
			continue;
		admitted++;
		with_samples += s->cnt.nvcsw >= 10;
		with_hist += !maps_read_hist(&m, id_of(path), s->runq_hist);
	}
	hists = tmaps_count_keys(m.hist_fd);
	maps_read_counters(&m, cnt);
	maps_close(&m);
	cr_log_info("%d/%d tracked admitted (%d with their samples); %llu untracked "
		    "samples dropped, %llu lost to a full map", admitted, NR_TRACKED,
		    with_samples, (unsigned long long)cnt[COLOD_CNT_STATS_UNTRACKED],
		    (unsigned long long)cnt[COLOD_CNT_STATS_FULL]);
	cr_assert_eq(admitted, NR_TRACKED, "every tracked cgroup has its entry");
	cr_assert_eq(with_samples, NR_TRACKED, "and its samples (20 sleeps each)");
	/* histograms (1 KiB each in the kernel) for the LS cgroups alone */
	cr_assert_eq(with_hist, NR_TRACKED, "every LS cgroup has its histogram");
	cr_assert_eq(hists, NR_TRACKED, "and no other cgroup has one: %d in cg_hist", hists);
	cr_assert_gt(cnt[COLOD_CNT_STATS_UNTRACKED], 0,
		     "%d untracked cgroups ran into a map that admits 3/4 of %d: "
		     "their samples are counted as dropped", NR_UNTRACKED, MAX_CGROUPS);
	cr_assert_eq(cnt[COLOD_CNT_STATS_FULL], 0, "the last quarter was not used up");

	/* what an operator sees: the metric (read at a scrape) and colod top */
	for (i = 0; i < 50 && metric <= 0; i++) {
		metric = agentrun_metric(&run, "colod_bpf_untracked_dropped_total");
		if (metric <= 0)
			usleep(100000);
	}
	cr_assert_gt(metric, 0, "colod_bpf_untracked_dropped_total is %g", metric);
	top = top_dropped();
	cr_assert_gt(top, 0, "colod top shows untracked-dropped %lld", top);
	free(s);
}

/* IN_OPEN events so far on watches 1 and 2, into n[0] and n[1]. */
static void opens(int fd, int n[2])
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	ssize_t len;

	n[0] = n[1] = 0;
	while ((len = read(fd, buf, sizeof(buf))) > 0)
		for (char *p = buf; p < buf + len; p += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)p;
			if ((ev->mask & IN_OPEN) && ev->wd >= 1 && ev->wd <= 2)
				n[ev->wd - 1]++;
		}
}

/*
 * Below a top of its class a cgroup's limits and requests are never used,
 * so they are not read: on a 10,000-cgroup node each file opened is a
 * dentry and an inode the kernel keeps. A pod's container is LS below its
 * LS pod; its cpu.shares stays unopened while the pod's is read.
 */
Test(mapsize, a_container_below_its_pod_has_its_requests_left_unread)
{
	char pod[320], ctr[340], path[360];
	int fd, n[2];

	snprintf(pod, sizeof(pod), "%s/ls/g0", base);
	snprintf(ctr, sizeof(ctr), "%s/c0", pod);
	cr_assert_eq(mkdir(ctr, 0755), 0, "%s: %s", ctr, strerror(errno));
	fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	cr_assert_geq(fd, 0, "inotify_init1: %s", strerror(errno));
	snprintf(path, sizeof(path), "%s/cpu.shares", pod);
	cr_assert_eq(inotify_add_watch(fd, path, IN_OPEN), 1, "%s: %s", path, strerror(errno));
	snprintf(path, sizeof(path), "%s/cpu.shares", ctr);
	cr_assert_eq(inotify_add_watch(fd, path, IN_OPEN), 2, "%s: %s", path, strerror(errno));

	agentrun_start(&run, NULL);
	snprintf(path, sizeof(path), "tracking LS cgroup %s/ls/g0/c0", rel);
	cr_assert(agentrun_wait_log(&run, "running:", 30000), "the agent did not start");
	cr_assert(agentrun_wait_log(&run, path, 10000), "the container is tracked");
	usleep(1000000);	/* ten ticks */
	opens(fd, n);
	close(fd);
	cr_log_info("cpu.shares opened: pod %d, container %d", n[0], n[1]);
	cr_assert_gt(n[0], 0, "the LS pod's request is read from its cpu.shares");
	cr_assert_eq(n[1], 0, "the container's cpu.shares is not opened");
}
