// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Cgroup names are anyone's (issue 16): the real `colod run` throttles a BE
 * cgroup named with a double quote, a backslash and an ESC sequence,
 *
 *	colod-test-names-<pid>/be"q\<ESC>[31mred
 *
 * (the kernel refuses a newline in a cgroup name). Every line of the action
 * log must still be one JSON object whose "cgroup" reads back as the name,
 * and no ESC byte may reach the agent's log, where it is written \x1b.
 * Before, the name went raw into both: a quote broke the JSON, an ESC
 * recoloured the operator's terminal.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "agentrun.h"
#include "cgtest.h"

#define ODD	"be\"q\\\033[31mred"

static struct cgtest_group top, be;
static struct agentrun run;

static void setup(void)
{
	char rel[256], rules[512];

	if (geteuid())
		cr_skip_test("real-kernel tests need root");
	agentrun_init(&run, "names");
	cr_assert_eq(cgtest_make_unique(&top, "names", CGT_CPU | CGT_CPUACCT), 0);
	snprintf(rel, sizeof(rel), "%s/" ODD, top.rel);
	cr_assert_eq(cgtest_make(&be, rel, CGT_CPU | CGT_CPUACCT), 0, "mkdir %s", rel);
	agentrun_config(&run, "colocation-config", "{\"enable\": true}");
	agentrun_config(&run, "resource-threshold-config",
			"{\"clusterStrategy\": {\"enable\": true, \"cpuSuppressPolicy\": \"cfsQuota\","
			" \"cpuSuppressThresholdPercent\": 30}}");
	/* a glob, so the config itself holds no odd bytes */
	snprintf(rules, sizeof(rules),
		 "{\"classificationRules\": [{\"match\": \"/%s/*\", \"class\": \"BE\"}]}",
		 top.rel);
	agentrun_config(&run, "colod-config", rules);
}

static void teardown(void)
{
	agentrun_cleanup(&run);
	cgtest_remove(&be);
	cgtest_remove(&top);
}

TestSuite(names, .init = setup, .fini = teardown, .timeout = 120);

/* Lines of actions.jsonl: all JSON objects; how many name the odd cgroup. */
static int actions_on(const char *want, int *bad)
{
	FILE *f = fopen(agentrun_path(&run, "actions.jsonl"), "r");
	char line[4096];
	int n = 0;

	*bad = 0;
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		cJSON *o = cJSON_Parse(line);
		const cJSON *cg = cJSON_GetObjectItemCaseSensitive(o, "cgroup");

		if (!cJSON_IsString(cg))
			(*bad)++;
		else if (!strcmp(cg->valuestring, want))
			n++;
		cJSON_Delete(o);
	}
	fclose(f);
	return n;
}

Test(names, quotes_and_escapes_in_a_name_stay_data)
{
	char want[300];
	int i, n = 0, bad = 0;

	cr_assert_gt(cgtest_spawn_busy(&be), 0);
	cr_assert_gt(cgtest_spawn_busy(&be), 0);
	agentrun_start(&run, NULL);
	cr_assert(agentrun_wait_log(&run, "running:", 30000), "agent up (see %s/agent.log)",
		  run.dir);
	snprintf(want, sizeof(want), "/%s", be.rel);
	for (i = 0; i < 300 && !n; i++) {
		usleep(100000);
		n = actions_on(want, &bad);
	}
	cr_expect_gt(n, 0, "an action on the odd BE cgroup, its name read back from JSON");
	cr_expect_eq(bad, 0, "%d lines of actions.jsonl are not JSON with a cgroup", bad);
	cr_expect(!strchr(slurp(agentrun_path(&run, "agent.log")), '\033'),
		  "an ESC byte reached the agent's log");
	cr_expect(agentrun_log_has(&run, "be\"q\\\\x1b[31mred"),
		  "the name is in the log with its ESC written \\x1b");
	if (!n || bad)
		agentrun_show_log(&run);
}
