// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * `colod features` against what `colod run` does on the same kernel: every
 * feature it reports missing, the agent names at start with the same
 * fallback, and the agent acts on the fallback. The fallbacks of older
 * kernels (no task storage for tracing, no cmpxchg: 5.10; no cpu.idle:
 * before 5.15) are forced on this one with COLOD_FORCE_FALLBACK; on the
 * kernels themselves make test-vm checks the same under qemu.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <cjson/cJSON.h>
#include "agentrun.h"
#include "cgtest.h"
#include "kfeatures.h"

static struct cgtest_group be;
static struct agentrun run;

static void setup(void)
{
	char rules[512];

	if (geteuid())
		cr_skip_test("real-kernel tests need root");
	agentrun_init(&run, "features");
	cr_assert_eq(cgtest_make_unique(&be, "feat-be", CGT_CPU | CGT_CPUACCT), 0);
	agentrun_config(&run, "colocation-config", "{\"enable\": true}");
	agentrun_config(&run, "resource-qos-config",
			"{\"clusterStrategy\": {\"beClass\": {\"cpuQOS\": {\"enable\": true,"
			" \"schedIdle\": 1}}}}");
	snprintf(rules, sizeof(rules),
		 "{\"classificationRules\": [{\"match\": \"/%s\", \"class\": \"BE\"}]}", be.rel);
	agentrun_config(&run, "colod-config", rules);
}

static void teardown(void)
{
	agentrun_cleanup(&run);
	unsetenv(COLOD_FORCE_ENV);
	cgtest_kill_all(&be);
	cgtest_remove(&be);
}

TestSuite(features, .init = setup, .fini = teardown, .timeout = 90);

/* `colod features --json` with the environment of this process. */
static cJSON *features_json(void)
{
	static char out[64 * 1024];
	char cmd[512];
	size_t n;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "%s features --json", getenv("COLOD_BIN"));
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = 0;
	cr_assert_eq(pclose(p), 0, "colod features --json exits 0: %s", out);
	return cJSON_Parse(out);
}

static bool feat_present(cJSON *j, const char *name)
{
	cJSON *f = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "features"), name);

	cr_assert_not_null(f, "feature %s reported", name);
	return cJSON_IsTrue(cJSON_GetObjectItem(f, "present"));
}

/*
 * Each feature `colod features` reports missing: the agent's start-up line
 * for it ends in the same fallback; each present one: no such line.
 */
static int agent_matches_features(cJSON *j)
{
	const char *log = slurp(agentrun_path(&run, "agent.log"));
	cJSON *f;
	int missing = 0;

	cJSON_ArrayForEach(f, cJSON_GetObjectItem(j, "features")) {
		char head[96], want[512];
		const char *line;

		snprintf(head, sizeof(head), "kernel feature %s: ", f->string);
		line = strstr(log, head);
		if (cJSON_IsTrue(cJSON_GetObjectItem(f, "present"))) {
			cr_assert_null(line, "%s present, yet the agent warns: %.200s",
				       f->string, line);
			continue;
		}
		missing++;
		cr_assert_not_null(line, "colod features says %s is missing; the agent does not",
				   f->string);
		snprintf(want, sizeof(want), "without it: %s\n",
			 cJSON_GetStringValue(cJSON_GetObjectItem(f, "without")));
		cr_assert_not_null(strstr(line, want), "%s: agent '%.*s', colod features '%s'",
				   f->string, (int)strcspn(line, "\n"), line, want);
	}
	return missing;
}

static void read_knob(const char *file, char *buf, size_t len)
{
	buf[0] = 0;
	cgtest_read(&be, CGT_CPU, file, buf, len);
	buf[strcspn(buf, "\n")] = 0;
}

Test(features, the_agent_says_and_does_what_colod_features_says)
{
	char path[512];
	cJSON *j;

	cr_assert_gt(cgtest_spawn_busy(&be), 0);
	j = features_json();
	cr_assert_not_null(j, "colod features --json is JSON");
	cr_assert(feat_present(j, "task_storage") && feat_present(j, "bpf_atomics") &&
		  feat_present(j, "cpu_idle"), "this kernel (6.18) has every BPF feature and cpu.idle");
	agentrun_start(&run, NULL);
	cr_assert_eq(cgtest_path(path, sizeof(path), &be, CGT_CPU, "cpu.idle"), 0);
	cr_assert(wait_text(path, "1", 20000), "BE gets cpu.idle with the feature");
	agent_matches_features(j);
	cr_assert_eq(WEXITSTATUS(agentrun_stop(&run, SIGTERM)), 0);
	cJSON_Delete(j);
}

Test(features, forced_fallbacks_are_said_and_taken_by_the_agent)
{
	char idle0[32], idle[32], shares[32], path[512];
	cJSON *j;
	int missing;

	read_knob("cpu.idle", idle0, sizeof(idle0));
	cr_assert_gt(cgtest_spawn_busy(&be), 0);
	setenv(COLOD_FORCE_ENV, "task_storage,atomics,cpu_idle", 1);
	j = features_json();
	cr_assert_not_null(j, "colod features --json is JSON");
	cr_assert_not(feat_present(j, "task_storage"));
	cr_assert_not(feat_present(j, "bpf_atomics"));
	cr_assert_not(feat_present(j, "cpu_idle"));
	cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "plan"), "bpf")),
		  "colod still samples with BPF");

	agentrun_start(&run, NULL);	/* inherits COLOD_FORCE_FALLBACK */
	cr_assert_eq(cgtest_path(path, sizeof(path), &be, CGT_CPU, "cpu.shares"), 0);
	cr_assert(wait_text(path, "2", 20000),
		  "without cpu.idle BE gets the lowest cpu.shares (see %s)",
		  agentrun_path(&run, "agent.log"));
	cr_assert(agentrun_alive(&run), "colod run works on the pid-keyed hash");
	read_knob("cpu.idle", idle, sizeof(idle));
	cr_assert_str_eq(idle, idle0, "no cpu.idle written when colod says it has none");
	missing = agent_matches_features(j);
	cr_assert_geq(missing, 3);
	cr_assert_eq(WEXITSTATUS(agentrun_stop(&run, SIGTERM)), 0);
	read_knob("cpu.shares", shares, sizeof(shares));
	cr_assert_str_neq(shares, "2", "cpu.shares restored on stop");
	cJSON_Delete(j);
}
