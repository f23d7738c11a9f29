// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The real agent holds its ground, level-triggered, on real v1 cgroups:
 * what someone else changes is put back at the next tick and counted; a
 * feature turned off by a reload, or a cgroup that leaves its class, gets
 * its original back; a restart after kill -9 with a bad configuration
 * restores what the dead agent left, then refuses. Root required.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "agentrun.h"
#include "cgtest.h"

static struct cgtest_group be, be2;
static struct agentrun run;
static char idle_path[256], idle0[16], shares_path[256], shares0[16];

#define QOS_ON	"{\"clusterStrategy\": {\"beClass\": {\"cpuQOS\": {\"enable\": true}}}}"
#define QOS_OFF	"{\"clusterStrategy\": {\"beClass\": {\"cpuQOS\": {\"enable\": false}}}}"

static void rules(const char *glob)
{
	char text[512];

	snprintf(text, sizeof(text), "{\"classificationRules\": ["
		 "{\"match\": \"%s\", \"class\": \"BE\"}]}", glob);
	agentrun_config(&run, "colod-config", text);
}

static void setup(void)
{
	char glob[300];

	if (geteuid())
		cr_skip_test("real-kernel tests need root");
	cr_assert_eq(cgtest_make_unique(&be, "lvl-be", CGT_CPU | CGT_CPUACCT), 0);
	cr_assert_eq(cgtest_path(idle_path, sizeof(idle_path), &be, CGT_CPU, "cpu.idle"), 0);
	if (access(idle_path, F_OK))
		cr_skip_test("this kernel has no cpu.idle");
	read_text(idle_path, idle0, sizeof(idle0));
	/* kubelet's BestEffort value, not the kernel's default */
	cr_assert_eq(cgtest_write(&be, CGT_CPU, "cpu.shares", "2"), 0);
	cr_assert_eq(cgtest_path(shares_path, sizeof(shares_path), &be, CGT_CPU, "cpu.shares"), 0);
	read_text(shares_path, shares0, sizeof(shares0));
	cr_assert_str_eq(idle0, "0", "a new cgroup is not idle");
	cr_assert_gt(cgtest_spawn_busy(&be), 0);
	agentrun_init(&run, "lvl");
	agentrun_config(&run, "resource-qos-config", QOS_ON);
	/* no CPU suppression: cpu.idle is the only knob in play */
	agentrun_config(&run, "resource-threshold-config",
			"{\"clusterStrategy\": {\"enable\": false}}");
	snprintf(glob, sizeof(glob), "/%s", be.rel);
	rules(glob);
}

static void teardown(void)
{
	agentrun_cleanup(&run);
	cgtest_remove(&be);
	cgtest_remove(&be2);
}

TestSuite(level, .init = setup, .fini = teardown, .timeout = 60);

static bool wait_metric(const char *series, double at_least, int timeout_ms)
{
	for (; timeout_ms > 0; timeout_ms -= 100) {
		if (agentrun_metric(&run, series) >= at_least)
			return true;
		usleep(100000);
	}
	return false;
}

static void start_and_wait_idle(void)
{
	agentrun_start(&run, NULL);
	cr_assert(wait_text(idle_path, "1", 10000), "BE put in cpu.idle (see %s)",
		  agentrun_path(&run, "agent.log"));
}

Test(level, drift_is_put_back_at_the_next_tick_and_counted)
{
	FILE *f;

	start_and_wait_idle();
	f = fopen(idle_path, "w");
	cr_assert_not_null(f);
	fputs("0", f);
	cr_assert_eq(fclose(f), 0, "someone else's write succeeds");
	cr_assert(wait_text(idle_path, "1", 2500), "cpu.idle put back within a tick");
	/* /metrics is rendered after the tick that put it back */
	cr_assert(wait_metric("colod_knob_drift_total{knob=\"cpu.idle\"}", 1, 2500),
		  "the drift is counted per knob");
}

/*
 * A knob nobody wrote since colod read it is not read back at each tick
 * (inotify, user/act/knobwatch.c); a foreign write still is, at once.
 */
Test(level, a_knob_nobody_writes_is_not_read_at_every_tick)
{
	double t0, r0, dt, dr;
	FILE *f;

	start_and_wait_idle();
	/* the write and its read-back are done */
	cr_assert(wait_metric("colod_loop_ticks_total", 3, 5000));
	t0 = agentrun_metric(&run, "colod_loop_ticks_total");
	r0 = agentrun_metric(&run, "colod_knob_reads_total");
	cr_assert(wait_metric("colod_loop_ticks_total", t0 + 5, 10000));
	dt = agentrun_metric(&run, "colod_loop_ticks_total") - t0;
	dr = agentrun_metric(&run, "colod_knob_reads_total") - r0;
	/* one knob (cpu.idle) wanted at each tick; a resync every 60th */
	cr_assert_leq(dr, dt / 4, "%.0f read-backs of one quiet knob in %.0f ticks", dr, dt);
	f = fopen(idle_path, "w");
	cr_assert_not_null(f);
	fputs("0", f);
	cr_assert_eq(fclose(f), 0);
	cr_assert(wait_text(idle_path, "1", 2500), "a foreign write is put back within a tick");
	cr_assert(wait_metric("colod_knob_drift_total{knob=\"cpu.idle\"}", 1, 2500));
}

/*
 * An action on BE applies to every BE top: one log line names the first
 * and counts the others; the action log has one line per cgroup.
 */
static bool has(const char *line, const void *needle)
{
	return strstr(line, needle) != NULL;
}

Test(level, an_action_on_two_be_tops_is_one_log_line)
{
	char text[1024], needle[300];

	cr_assert_eq(cgtest_make_unique(&be2, "lvl-be2", CGT_CPU | CGT_CPUACCT), 0);
	snprintf(text, sizeof(text), "{\"classificationRules\": ["
		 "{\"match\": \"/%s\", \"class\": \"BE\"},"
		 "{\"match\": \"/%s\", \"class\": \"BE\"}]}", be.rel, be2.rel);
	agentrun_config(&run, "colod-config", text);
	/* the first tick bounds BE: a be_cpu_quota action */
	agentrun_config(&run, "resource-threshold-config",
			"{\"clusterStrategy\": {\"enable\": true, \"cpuSuppressPolicy\": "
			"\"cfsQuota\", \"cpuSuppressThresholdPercent\": 90}}");
	agentrun_start(&run, NULL);
	cr_assert(agentrun_wait_log(&run, "(and 1 more BE cgroups alike)", 10000),
		  "one line for both BE tops (see %s)", agentrun_path(&run, "agent.log"));
	snprintf(needle, sizeof(needle), "action=be_cpu_quota cgroup=/%s ", be2.rel);
	cr_assert_eq(count_lines(agentrun_path(&run, "agent.log"), has, needle, NULL, 0), 0,
		     "no line of its own for the second BE top");
}

Test(level, a_reload_that_turns_the_feature_off_restores_the_original)
{
	start_and_wait_idle();
	agentrun_config(&run, "resource-qos-config", QOS_OFF);
	if (!wait_text(idle_path, idle0, 2500))
		agentrun_show_log(&run);
	cr_assert(wait_text(idle_path, idle0, 100), "cpu.idle back to %s within a tick", idle0);
	cr_assert(wait_text(shares_path, shares0, 100),
		  "cpu.shares back to %s too (the kernel set 1024 with cpu.idle=0)", shares0);
	cr_assert(wait_metric("colod_knob_released_total{knob=\"cpu.idle\"}", 1, 2500));
	sleep(2);
	cr_assert(wait_text(idle_path, idle0, 100), "and it stays there");
	agentrun_config(&run, "resource-qos-config", QOS_ON);
	cr_assert(wait_text(idle_path, "1", 2500), "turned on again, applied again");
}

Test(level, a_cgroup_that_leaves_its_class_gets_its_original_back)
{
	start_and_wait_idle();
	rules("/colod-test-no-such-cgroup");
	cr_assert(wait_text(idle_path, idle0, 2500),
		  "no longer BE: cpu.idle back to %s within a tick", idle0);
	cr_assert_eq(kill(run.pid, 0), 0, "the agent keeps running");
}

Test(level, a_restart_with_a_bad_config_after_kill_9_restores_then_refuses)
{
	int st;

	start_and_wait_idle();
	agentrun_stop(&run, SIGKILL);
	cr_assert(wait_text(idle_path, "1", 100), "a killed agent restores nothing itself");
	agentrun_config(&run, "colod-config", "{\"classificationRules\": 5}");
	agentrun_start(&run, NULL);
	cr_assert(agentrun_wait_exit(&run, 10000), "the agent refuses the configuration");
	st = run.status;
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1, "exit status 1 (status %#x)", st);
	cr_assert(wait_text(idle_path, idle0, 100),
		  "what the dead agent left is restored before the refusal");
	cr_assert(wait_text(shares_path, shares0, 100), "cpu.shares back to %s", shares0);
	cr_assert(agentrun_log_has(&run, "colod-config"), "the error names the file");
	/* cpu.idle and the cpu.shares the kernel reset with it */
	cr_assert(agentrun_log_has(&run, "restored 2 original values a previous run left"));
}

/*
 * The knobs read back each tick are opened relative to a cached fd of
 * their cgroup's directory (user/knobdir.c). A cgroup removed and made
 * again under its name is a new directory: it is held again within a
 * tick or two, a foreign write to it is put back, and colod restores the
 * new cgroup's own original, not the old one's.
 */
Test(level, a_cgroup_made_again_under_its_name_is_held_again)
{
	char rel[256];

	char made[600], to[600];

	start_and_wait_idle();
	snprintf(rel, sizeof(rel), "%s", be.rel);
	cgtest_remove(&be);
	/*
	 * Made under another name, given its own cpu.shares (unlike the old
	 * one's 2), then renamed to the old name: the agent never sees it
	 * with the kernel's default.
	 */
	snprintf(made, sizeof(made), "%s/cpu/%s-new", cgtest_root(), rel);
	snprintf(to, sizeof(to), "%s/cpu/%s", cgtest_root(), rel);
	cr_assert_eq(mkdir(made, 0755), 0, "%s: %s", made, strerror(errno));
	snprintf(shares_path, sizeof(shares_path), "%s/cpu.shares", made);
	{
		FILE *f = fopen(shares_path, "w");

		cr_assert_not_null(f, "%s", shares_path);
		fputs("3", f);
		cr_assert_eq(fclose(f), 0);
	}
	cr_assert_eq(rename(made, to), 0, "rename %s: %s", made, strerror(errno));
	snprintf(be.rel, sizeof(be.rel), "%s", rel);
	be.ctrls = CGT_CPU;	/* for teardown */
	cr_assert_eq(cgtest_path(shares_path, sizeof(shares_path), &be, CGT_CPU, "cpu.shares"), 0);
	cr_assert(wait_text(shares_path, "3", 100));
	cr_assert(wait_text(idle_path, "1", 5000), "the new cgroup is put in cpu.idle (see %s)",
		  agentrun_path(&run, "agent.log"));
	cr_assert(wait_text(idle_path, "1", 100));
	cr_assert_eq(cgtest_write(&be, CGT_CPU, "cpu.idle", "0"), 0);
	cr_assert(wait_text(idle_path, "1", 2500), "a foreign write to it put back within a tick");
	agentrun_stop(&run, SIGTERM);
	cr_assert(wait_text(idle_path, idle0, 100), "cpu.idle restored on stop");
	{
		char v[32] = "";

		read_text(shares_path, v, sizeof(v));
		cr_assert(wait_text(shares_path, "3", 100),
			  "the new cgroup's own cpu.shares 3 restored, not %s (see %s)", v,
			  agentrun_path(&run, "agent.log"));
	}
}
