// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The host under the agent: two agents started at once on one pin
 * directory (one runs, the other changes nothing), cgroupfs unmounted under
 * `colod restore` (it keeps the journal and exits non-zero; once mounted
 * again every original comes back), and cgroups removed while the agent
 * writes them (no error, no crash, the survivors restored).
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "chaos.h"

#define ROUNDS		5
#define NR_MOUNTS	4
#define NR_CHURN	6

static const char *const v1_ctrls[NR_MOUNTS] = { "cpu", "cpuacct", "cpuset", "memory" };
static struct agentrun other;
static char cgroot[256];
static bool mounted[NR_MOUNTS + 1];	/* [NR_MOUNTS]: the tmpfs below them */
static struct cgtest_group churn[NR_CHURN];

static bool recreated[NR_CHURN];

static void setup(void)
{
	memset(recreated, 0, sizeof(recreated));
	chaos_setup("host");
	cgroot[0] = 0;
}

static void unmount_all(void)
{
	char p[300];
	int i;

	for (i = 0; i < NR_MOUNTS; i++) {
		snprintf(p, sizeof(p), "%s/%s", cgroot, v1_ctrls[i]);
		if (mounted[i] && !umount2(p, MNT_DETACH))
			mounted[i] = false;
	}
}

static void teardown(void)
{
	int i;

	agentrun_cleanup(&other);
	if (cgroot[0]) {
		unmount_all();
		if (mounted[NR_MOUNTS])
			umount2(cgroot, MNT_DETACH);
		mounted[NR_MOUNTS] = false;
	}
	for (i = 0; i < NR_CHURN; i++)
		cgtest_remove(&churn[i]);
	chaos_teardown();
}

TestSuite(chaos_host, .init = setup, .fini = teardown, .timeout = 300);

/* ---- two agents ----------------------------------------------------- */

Test(chaos_host, two_agents_started_at_once_on_one_pin_dir_one_runs_the_other_changes_nothing)
{
	struct agentrun *a[2] = { &chaos_run, &other }, *win, *lose;
	struct chaos_snap orig;
	int round, st;

	cr_assert_gt(cgtest_spawn_busy(&chaos_be), 0);
	chaos_snapshot(&orig);
	agentrun_init(&other, "chaos-host2");
	chaos_config(&other, false);
	for (round = 0; round < ROUNDS; round++) {
		chaos_start(a[0]);
		/* a log that is not there yet has nothing to empty */
		(void)!truncate(agentrun_path(a[1], "agent.log"), 0);
		agentrun_start(a[1], "--pin-dir", chaos_run.pin_dir, NULL);
		cr_assert(chaos_wait_be_idle(20000), "round %d: one agent idles BE", round);
		sleep(1);
		cr_assert(agentrun_alive(a[0]) != agentrun_alive(a[1]),
			  "round %d: exactly one agent runs (%d, %d)", round,
			  agentrun_alive(a[0]), agentrun_alive(a[1]));
		win = agentrun_alive(a[0]) ? a[0] : a[1];
		lose = win == a[0] ? a[1] : a[0];
		st = lose->status;
		cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1, "round %d: the other exits 1 (%#x)",
			  round, st);
		cr_assert(agentrun_log_has(lose, "another colod agent"), "and says why");
		cr_assert_leq(agentrun_journal_entries(lose), 0, "round %d: it journaled nothing", round);
		/* the winner dies hard: its journal alone puts everything back */
		agentrun_stop(win, SIGKILL);
		cr_assert_eq(chaos_restore(lose), 0);
		cr_assert_eq(chaos_restore(win), 0);
		chaos_assert_originals(&orig, "two agents, winner killed, both restored");
	}
}

/* ---- cgroupfs not mounted under restore ----------------------------- */

static void mount_private_root(void)
{
	char p[300];
	int i;

	snprintf(cgroot, sizeof(cgroot), "%s", agentrun_path(&chaos_run, "cgroot"));
	cr_assert_eq(mkdir(cgroot, 0755), 0);
	cr_assert_eq(mount("tmpfs", cgroot, "tmpfs", 0, "size=64k"), 0, "%s", strerror(errno));
	mounted[NR_MOUNTS] = true;
	for (i = 0; i < NR_MOUNTS; i++) {
		snprintf(p, sizeof(p), "%s/%s", cgroot, v1_ctrls[i]);
		cr_assert_eq(mkdir(p, 0755), 0, "mkdir %s: %s", p, strerror(errno));
		/* the same v1 hierarchy as the host's, mounted a second time */
		cr_assert_eq(mount("cgroup", p, "cgroup", 0, v1_ctrls[i]), 0, "mount %s: %s", p,
			     strerror(errno));
		mounted[i] = true;
	}
}

static void remount(void)
{
	char p[300];
	int i;

	for (i = 0; i < NR_MOUNTS; i++) {
		snprintf(p, sizeof(p), "%s/%s", cgroot, v1_ctrls[i]);
		cr_assert_eq(mount("cgroup", p, "cgroup", 0, v1_ctrls[i]), 0, "%s", strerror(errno));
		mounted[i] = true;
	}
}

Test(chaos_host, restore_with_cgroupfs_unmounted_keeps_the_journal_and_fails)
{
	struct chaos_snap orig, left, after;
	int n;

	cr_assert_gt(cgtest_spawn_busy(&chaos_be), 0);
	cr_assert_gt(cgtest_spawn_busy(&chaos_ls), 0);
	chaos_snapshot(&orig);
	mount_private_root();
	agentrun_start(&chaos_run, "--cgroup-root", cgroot, NULL);
	cr_assert(chaos_wait_be_idle(20000), "the agent works through %s", cgroot);
	sleep(1);
	agentrun_stop(&chaos_run, SIGKILL);
	n = agentrun_journal_entries(&chaos_run);
	cr_assert_gt(n, 0);
	chaos_snapshot(&left);

	unmount_all();
	cr_assert_neq(chaos_restore(&chaos_run), 0, "colod restore exits non-zero");
	cr_assert(file_has(agentrun_path(&chaos_run, "restore.log"), "not mounted"),
		  "and says the hierarchy is not mounted");
	cr_assert_eq(agentrun_journal_entries(&chaos_run), n, "the journal keeps all %d entries", n);
	chaos_snapshot(&after);
	cr_assert_eq(memcmp(&after, &left, sizeof(after)), 0, "nothing was written");
	/* and a second try changes nothing either */
	cr_assert_neq(chaos_restore(&chaos_run), 0);
	cr_assert_eq(agentrun_journal_entries(&chaos_run), n);

	remount();
	cr_assert_eq(chaos_restore(&chaos_run), 0, "mounted again, restore exits 0");
	chaos_assert_originals(&orig, "restore once cgroupfs is back");
	cr_assert_eq(agentrun_journal_entries(&chaos_run), 0);
}

/* ---- cgroups removed mid-write -------------------------------------- */

static void churn_config(void)
{
	char text[1024];

	chaos_config(&chaos_run, false);
	snprintf(text, sizeof(text),
		 "{\"lsLatencyTargetUs\": 1000, \"classificationRules\": ["
		 "{\"match\": \"/%s\", \"class\": \"LS\"},"
		 "{\"match\": \"/%s\", \"class\": \"BE\"},"
		 "{\"match\": \"/colod-test-chaos-churn-%d-*\", \"class\": \"BE\"},"
		 "{\"match\": \"*\", \"class\": \"SYSTEM\"}]}", chaos_ls.rel, chaos_be.rel,
		 (int)getpid());
	agentrun_config(&chaos_run, "colod-config", text);
}

/*
 * The first of each name gets cpu.cfs_period_us=50000 as its original; one
 * made again under the same name keeps the kernel's default, and must
 * still hold it after restore (an entry of the removed one must not be
 * applied to the new one).
 */
static void make_churn(int i)
{
	char rel[128];

	snprintf(rel, sizeof(rel), "colod-test-chaos-churn-%d-%d", (int)getpid(), i);
	cr_assert_eq(cgtest_make(&churn[i], rel, CGT_CPU | CGT_CPUACCT | CGT_CPUSET | CGT_MEMORY),
		     0);
	if (!recreated[i])
		cr_assert_eq(cgtest_write(&churn[i], CGT_CPU, "cpu.cfs_period_us", "50000"), 0);
	cr_assert_gt(cgtest_spawn_periodic(&churn[i], 2000, 20000), 0);
}

Test(chaos_host, cgroups_removed_while_the_agent_writes_them)
{
	struct chaos_snap orig;
	char fresh[2][64], now[64], path[512];
	int rounds = chaos_env_int("CHAOS_CHURN_ROUNDS", 30), r, i, kills = 0;

	chaos_seed();
	cr_assert_gt(cgtest_spawn_busy(&chaos_be), 0);
	cr_assert_gt(cgtest_spawn_busy(&chaos_ls), 0);
	chaos_snapshot(&orig);
	churn_config();
	for (i = 0; i < NR_CHURN; i++)
		make_churn(i);
	/* what a new cgroup holds: what a recreated one must hold after restore */
	cgtest_read(&churn[0], CGT_CPU, "cpu.idle", fresh[0], sizeof(fresh[0]));
	cgtest_read(&churn[0], CGT_CPU, "cpu.cfs_quota_us", fresh[1], sizeof(fresh[1]));
	chaos_start(&chaos_run);
	cr_assert(chaos_wait_be_idle(20000), "BE idled");
	cgtest_path(path, sizeof(path), &churn[0], CGT_CPU, "cpu.idle");
	cr_assert(wait_text(path, "1", 10000), "the churned groups are BE tops colod writes");
	cgtest_path(path, sizeof(path), &churn[0], CGT_CPU, "cpu.cfs_period_us");
	for (i = 0; i < 100 && !strcmp(read_text(path, now, sizeof(now)), "50000"); i++)
		usleep(100000);
	cr_assert_str_neq(now, "50000", "and their CPU period (the BE quota's) too");
	cr_log_info("churn group period under colod: %s", read_text(path, now, sizeof(now)));
	for (r = 0; r < rounds; r++) {
		i = (int)chaos_rand(NR_CHURN);
		usleep(chaos_rand(300) * 1000);
		cgtest_remove(&churn[i]);
		recreated[i] = true;
		usleep(chaos_rand(300) * 1000);
		make_churn(i);
		if (chaos_rand(5) == 0) {
			/* a hard kill between removals: restore skips what is gone */
			agentrun_stop(&chaos_run, SIGKILL);
			cr_assert_eq(chaos_restore(&chaos_run), 0, "round %d: restore exits 0", r);
			kills++;
			chaos_start(&chaos_run);
		}
		cr_assert(agentrun_alive(&chaos_run), "round %d: the agent runs on", r);
	}
	cr_assert_eq(WEXITSTATUS(agentrun_stop(&chaos_run, SIGTERM)), 0);
	cr_assert_not(agentrun_log_has(&chaos_run, "cannot write"), "no write error logged");
	chaos_assert_originals(&orig, "after churn and SIGTERM");
	cr_assert_eq(agentrun_journal_entries(&chaos_run), 0);
	for (i = 0; i < NR_CHURN; i++) {
		cgtest_read(&churn[i], CGT_CPU, "cpu.idle", now, sizeof(now));
		cr_assert_str_eq(now, fresh[0], "%s: cpu.idle", churn[i].rel);
		cgtest_read(&churn[i], CGT_CPU, "cpu.cfs_quota_us", now, sizeof(now));
		cr_assert_str_eq(now, fresh[1], "%s: cpu.cfs_quota_us", churn[i].rel);
		/*
		 * Made again: whether the old entry was pruned first depends on
		 * where the ticks fell; a_cgroup_made_again_under_its_name_...
		 * tests that deterministically.
		 */
		if (recreated[i])
			continue;
		cgtest_read(&churn[i], CGT_CPU, "cpu.cfs_period_us", now, sizeof(now));
		cr_assert_str_eq(now, "50000", "%s (never removed): cpu.cfs_period_us is %s, "
				 "its original 50000", churn[i].rel, now);
	}
	cr_log_info("%d rounds of removal, %d kills", rounds, kills);
}

/*
 * A BE cgroup removed and made again under the same name between two
 * ticks: the journal's entry of the removed one (keyed by path) must not
 * give the new one the old one's original on stop.
 */
Test(chaos_host, a_cgroup_made_again_under_its_name_keeps_its_own_originals)
{
	char path[512], now[64];
	int i;

	cr_assert_gt(cgtest_spawn_busy(&chaos_ls), 0);
	churn_config();
	make_churn(0);
	cr_assert_gt(cgtest_spawn_busy(&churn[0]), 0);
	chaos_start(&chaos_run);
	cgtest_path(path, sizeof(path), &churn[0], CGT_CPU, "cpu.cfs_period_us");
	for (i = 0; i < 100 && !strcmp(read_text(path, now, sizeof(now)), "50000"); i++)
		usleep(100000);
	cr_assert_str_neq(now, "50000", "colod set the BE period");
	/* processes gone first: rmdir and mkdir then take microseconds, within one tick */
	cgtest_kill_all(&churn[0]);
	usleep(100000);
	cgtest_remove(&churn[0]);
	recreated[0] = true;
	make_churn(0);
	cr_assert_gt(cgtest_spawn_busy(&churn[0]), 0);
	sleep(3);
	cr_assert_eq(WEXITSTATUS(agentrun_stop(&chaos_run, SIGTERM)), 0);
	read_text(path, now, sizeof(now));
	cr_assert_str_eq(now, "100000", "the new cgroup's period is %s after stop, its original "
			 "100000 (50000 was the removed one's)", now);
}
