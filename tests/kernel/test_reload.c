// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Reloading the configuration (issue 16), the real `colod run` over a real
 * v1 cgroup colod-test-reload-<pid> that a classification rule makes BE:
 *
 * - SIGHUP reloads, as daemons do, even for a change inotify never
 *   reported (a file still open for writing: no IN_CLOSE_WRITE), and does
 *   not stop the agent (it used to stop it and restore everything);
 * - a FIFO renamed in as a key is refused with an error naming it, without
 *   being read (the read used to block the loop forever): the agent keeps
 *   ticking, the last good configuration stays.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "agentrun.h"
#include "cgtest.h"

static struct cgtest_group cg;
static struct agentrun run;
static int held_fd = -1;

static void setup(void)
{
	if (geteuid())
		cr_skip_test("real-kernel tests need root");
	agentrun_init(&run, "reload");
	cr_assert_eq(cgtest_make_unique(&cg, "reload", CGT_CPU | CGT_CPUACCT), 0);
	agentrun_config(&run, "colocation-config", "{\"enable\": true}");
}

static void teardown(void)
{
	if (held_fd >= 0)
		close(held_fd);
	held_fd = -1;
	agentrun_cleanup(&run);
	cgtest_remove(&cg);
}

TestSuite(reload, .init = setup, .fini = teardown, .timeout = 120);

static const char *rule_be(void)
{
	static char json[384];

	snprintf(json, sizeof(json),
		 "{\"classificationRules\": [{\"match\": \"/%s\", \"class\": \"BE\"}]}", cg.rel);
	return json;
}

static bool tracked_be(void)
{
	char needle[320];

	snprintf(needle, sizeof(needle), "tracking BE cgroup /%s (id", cg.rel);
	return agentrun_log_has(&run, needle);
}

static bool wait_metric(const char *series, double value, int timeout_ms)
{
	for (; timeout_ms > 0; timeout_ms -= 100) {
		if (agentrun_metric(&run, series) == value)
			return true;
		usleep(100000);
	}
	return false;
}

static void start(void)
{
	agentrun_start(&run, NULL);
	cr_assert(agentrun_wait_log(&run, "running:", 30000), "agent up (see %s/agent.log)",
		  run.dir);
}

Test(reload, sighup_reloads_a_change_inotify_did_not_report)
{
	char path[512];
	const char *json = rule_be();
	int i;

	start();
	cr_assert(!tracked_be(), "no rule yet: SYSTEM");
	/* written, never closed: inotify reports nothing colod reloads on */
	snprintf(path, sizeof(path), "%s/config/colod-config", run.dir);
	held_fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	cr_assert_geq(held_fd, 0);
	cr_assert_eq(write(held_fd, json, strlen(json)), (ssize_t)strlen(json));
	sleep(2);
	cr_assert(!tracked_be(), "reloaded without a signal: the test proves nothing");

	cr_assert_eq(kill(run.pid, SIGHUP), 0);
	cr_expect(agentrun_wait_log(&run, "SIGHUP: reloading", 5000), "SIGHUP logged");
	for (i = 0; i < 100 && !tracked_be(); i++)
		usleep(100000);
	cr_expect(tracked_be(), "the rule from the reload classifies /%s BE", cg.rel);
	cr_expect(wait_metric("colod_config_reloads_total", 2, 5000),
		  "two configurations applied, found %g",
		  agentrun_metric(&run, "colod_config_reloads_total"));
	cr_expect(agentrun_alive(&run), "SIGHUP does not stop the agent");
	cr_expect(!agentrun_log_has(&run, "stopping"), "SIGHUP does not stop the agent");
}

Test(reload, a_fifo_as_a_key_is_refused_and_the_agent_keeps_running)
{
	char fifo[512], key[512], needle[600];
	double ticks;

	agentrun_config(&run, "colod-config", rule_be());
	start();
	for (int i = 0; i < 100 && !tracked_be(); i++)
		usleep(100000);
	cr_assert(tracked_be(), "the rule classifies /%s BE", cg.rel);

	/* renamed in: inotify reports it, the reload must not read it */
	snprintf(fifo, sizeof(fifo), "%s/config/.fifo", run.dir);
	snprintf(key, sizeof(key), "%s/config/colod-config", run.dir);
	cr_assert_eq(mkfifo(fifo, 0644), 0);
	cr_assert_eq(rename(fifo, key), 0);
	snprintf(needle, sizeof(needle), "%s: a FIFO, refused", key);
	cr_expect(agentrun_wait_log(&run, needle, 5000), "error naming the FIFO");
	cr_expect(agentrun_wait_log(&run, "the last good one stays in force", 5000));
	cr_expect(wait_metric("colod_config_errors_total", 1, 5000),
		  "one configuration rejected, found %g",
		  agentrun_metric(&run, "colod_config_errors_total"));
	/* still ticking: the loop is not stuck in a read */
	ticks = agentrun_metric(&run, "colod_loop_ticks_total");
	sleep(2);
	cr_expect_gt(agentrun_metric(&run, "colod_loop_ticks_total"), ticks, "the loop ticks");
	cr_expect(agentrun_alive(&run), "agent still running");
	cr_expect(!agentrun_log_has(&run, "stopping"));

	/* and a SIGHUP with the FIFO there refuses it again, the loop unharmed */
	cr_assert_eq(kill(run.pid, SIGHUP), 0);
	cr_expect(wait_metric("colod_config_errors_total", 2, 5000),
		  "refused again, found %g", agentrun_metric(&run, "colod_config_errors_total"));
	cr_expect(agentrun_alive(&run), "agent still running after SIGHUP");
	/* the last good configuration stays: the BE cgroup was never dropped */
	cr_expect(file_has(agentrun_path(&run, "state/config.json"), cg.rel),
		  "config.json still holds the rule");
	cr_expect_eq(agentrun_metric(&run, "colod_config_reloads_total"), 1);
}
