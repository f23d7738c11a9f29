// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Decisions that prove themselves, for real: the colod binary runs with
 * --record over real v1 cgroups (a periodic LS beside busy BE, so the
 * suppress bound and the breach path both decide), then `colod replay`
 * decides again over the recording, a tampered recording, and the same
 * node under another threshold; `colod explain` asks the running agent.
 */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "agentrun.h"
#include "cgtest.h"
#include "tfile.h"

static struct cgtest_group ls, be;
static struct agentrun run;

/*
 * Koordinator's bound is max(floor, capacity x threshold - LS - system).
 * On this shared machine other people's load can fill the node (system
 * used near capacity), which puts the bound at its floor under any
 * threshold: the what-if raises both, so BE gets more either way.
 */
static void write_config(const char *dir, int threshold, int floor)
{
	char rules[1024], thr[256];

	snprintf(thr, sizeof(thr),
		 "{\"clusterStrategy\": {\"enable\": true, \"cpuSuppressPolicy\": \"cfsQuota\","
		 " \"cpuSuppressThresholdPercent\": %d, \"cpuSuppressMinPercent\": %d}}",
		 threshold, floor);
	snprintf(rules, sizeof(rules),
		 "{\"lsLatencyTargetUs\": 1000, \"classificationRules\": ["
		 "{\"match\": \"/%s\", \"class\": \"LS\"},"
		 "{\"match\": \"/%s\", \"class\": \"BE\"}]}", ls.rel, be.rel);
	tfile_put(dir, "colocation-config", "{\"enable\": true}");
	tfile_put(dir, "resource-threshold-config", thr);
	tfile_put(dir, "resource-qos-config",
		  "{\"clusterStrategy\": {\"beClass\": {\"cpuQOS\": {\"enable\": true,"
		  " \"schedIdle\": 1}}}}");
	tfile_put(dir, "colod-config", rules);
}

static void setup(void)
{
	if (geteuid())
		cr_skip_test("real-kernel tests need root");
	agentrun_init(&run, "record");
	cr_assert_eq(cgtest_make_unique(&ls, "rec-ls", CGT_CPU | CGT_CPUACCT), 0);
	cr_assert_eq(cgtest_make_unique(&be, "rec-be", CGT_CPU | CGT_CPUACCT), 0);
	write_config(agentrun_path(&run, "config"), 65, 5);
}

static void teardown(void)
{
	agentrun_cleanup(&run);
	cgtest_remove(&ls);
	cgtest_remove(&be);
}

TestSuite(record, .init = setup, .fini = teardown, .timeout = 180);

/* Run colod with args (NULL-terminated); its stdout into out; its exit code. */
static int colod(char *out, size_t len, ...)
{
	char cmd[4096];
	const char *arg;
	size_t n = 0;
	va_list ap;
	FILE *p;
	int st;

	n = snprintf(cmd, sizeof(cmd), "%s", getenv("COLOD_BIN"));
	va_start(ap, len);
	while ((arg = va_arg(ap, const char *)))
		n += snprintf(cmd + n, sizeof(cmd) - n, " '%s'", arg);
	va_end(ap);
	p = popen(cmd, "r");
	cr_assert_not_null(p, "%s", cmd);
	n = fread(out, 1, len - 1, p);
	out[n] = 0;
	st = pclose(p);
	cr_log_info("$ %s -> %d\n%s", cmd, WEXITSTATUS(st), out);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* LS and BE run, the agent records until BE's quota has been set and a few ticks more. */
static void record_a_while(const char *rec)
{
	char quota[64] = "", path[512];
	int i;

	cr_assert_gt(cgtest_spawn_periodic(&ls, 600, 1000), 0);
	for (i = 0; i < 3; i++)
		cr_assert_gt(cgtest_spawn_busy(&be), 0);
	agentrun_start(&run, "--record", rec, NULL);
	cr_assert(agentrun_wait_log(&run, "running:", 20000), "the agent starts");
	cgtest_path(path, sizeof(path), &be, CGT_CPU, "cpu.cfs_quota_us");
	for (i = 0; i < 100 && (!strcmp(read_text(path, quota, sizeof(quota)), "-1") || !*quota); i++)
		usleep(100000);
	cr_assert_neq(strcmp(quota, "-1"), 0, "the agent throttles BE (quota %s)", quota);
	sleep(4);
}

/* A copy of rec whose first tick with a BE quota knob asks for 1 ms more. */
static void tamper(const char *rec, const char *out)
{
	FILE *in = fopen(rec, "r"), *o = fopen(out, "w");
	char *line = NULL;
	size_t cap = 0;
	bool done = false;

	cr_assert(in && o);
	while (getline(&line, &cap, in) > 0) {
		cJSON *r = cJSON_Parse(line), *k;
		char *txt;

		cJSON_ArrayForEach(k, cJSON_GetObjectItem(cJSON_GetObjectItem(r, "decision"), "knobs")) {
			if (done || cJSON_GetArrayItem(k, 1)->valueint != 3)	/* KNOB_CPU_QUOTA */
				continue;
			cJSON_SetNumberValue(cJSON_GetArrayItem(k, 2),
					     cJSON_GetArrayItem(k, 2)->valuedouble + 1000);
			done = true;
			txt = cJSON_PrintUnformatted(r);
			fprintf(o, "%s\n", txt);
			free(txt);
			break;
		}
		if (!k)
			fputs(line, o);
		cJSON_Delete(r);
	}
	free(line);
	fclose(in);
	fclose(o);
	cr_assert(done, "the recording holds a BE quota knob to tamper with");
}

Test(record, replay_of_a_real_recording_is_the_same_and_a_tampered_one_is_not)
{
	char rec[256], bad[256], other[256], out[65536];
	unsigned long rec_mean = 0, wi_mean = 0;
	const char *p;

	snprintf(rec, sizeof(rec), "%s", agentrun_path(&run, "rec.jsonl"));
	snprintf(bad, sizeof(bad), "%s", agentrun_path(&run, "tampered.jsonl"));
	snprintf(other, sizeof(other), "%s", agentrun_path(&run, "config90"));
	record_a_while(rec);
	agentrun_stop(&run, SIGTERM);
	cr_assert(file_has(rec, "\"type\":\"tick\""), "ticks recorded in %s", rec);
	agentrun_keep_fixture(rec, "kernel-record-ls-be.jsonl");

	cr_assert_eq(colod(out, sizeof(out), "replay", rec, NULL), 0,
		     "the replay of the real recording decides the same: %s", out);
	cr_assert(strstr(out, "every decision is the same"), "%s", out);

	tamper(rec, bad);
	cr_assert_eq(colod(out, sizeof(out), "replay", bad, NULL), 1,
		     "a tampered decision is found: %s", out);
	cr_assert(strstr(out, "the decision differs: knob") && strstr(out, "cpu quota") &&
		  strstr(out, "inputs (tick"), "the difference and its inputs: %s", out);

	/* what if: 90% (floor 30%) instead of 65% (floor 5%) leaves BE more */
	cr_assert_eq(mkdir(other, 0755), 0);
	write_config(other, 90, 30);
	cr_assert_eq(colod(out, sizeof(out), "replay", rec, "--config", other, NULL), 0, "%s", out);
	p = strstr(out, "BE allowance, mean: recorded ");
	cr_assert_not_null(p, "%s", out);
	cr_assert_eq(sscanf(p, "BE allowance, mean: recorded %lum, what-if %lum", &rec_mean,
			    &wi_mean), 2, "%s", p);
	cr_assert_gt(wi_mean, rec_mean, "a higher cpuSuppressThresholdPercent gives BE more: %s", p);
}

Test(record, explain_names_the_rule_behind_the_running_agents_allowance)
{
	char out[65536], act[1024] = "", rule[64] = "", want[128];
	const char *r, *p;

	record_a_while(agentrun_path(&run, "rec.jsonl"));
	cr_assert(agentrun_alive(&run));
	cr_assert_eq(colod(out, sizeof(out), "explain", "--state-dir",
			   agentrun_path(&run, "state"), "--pin-dir", run.pin_dir, NULL), 0, "%s",
		     out);
	/* each class and the rule that made it, named by the running agent's maps */
	snprintf(want, sizeof(want), "  LS  rule   /%s\n", ls.rel);
	cr_assert(strstr(out, want), "explain says %s: %s", want, out);
	snprintf(want, sizeof(want), "  BE  rule   /%s\n", be.rel);
	cr_assert(strstr(out, want), "explain says %s: %s", want, out);
	/* the last BE CPU action the agent logged is the rule explain names */
	cr_assert_gt(agentrun_actions(&run, "be_cpu_quota", be.rel, NULL, 0), 0);
	/* the last BE quota line: verdicts on cuts are logged there too */
	for (p = slurp(agentrun_path(&run, "actions.jsonl")), r = NULL;
	     (p = strstr(p, "\"kind\":\"be_cpu_quota\"")); p++)
		r = p;
	cr_assert_not_null(r);
	snprintf(act, sizeof(act), "%s", r);
	r = strstr(act, "\"reason\":\"");
	cr_assert_not_null(r, "%s", act);
	sscanf(r + 10, "%63[^\"]", rule);
	snprintf(want, sizeof(want), "rule: %s\n", rule);
	cr_assert(strstr(out, want), "explain names %s: %s", want, out);
	cr_assert(strstr(out, "Batch CPU:") && strstr(out, "safety margin") &&
		  strstr(out, "cpuReclaimThresholdPercent 60") && strstr(out, "Mid CPU:"),
		  "the terms of Batch and Mid: %s", out);
	cr_assert_eq(colod(out, sizeof(out), "explain", "--json", "--state-dir",
			   agentrun_path(&run, "state"), NULL), 0);
	snprintf(want, sizeof(want), "\"rule\":\t\"%s\"", rule);
	cr_assert(strstr(out, want), "--json names %s: %s", want, out);

	/* from the recording: its last tick's classes and their sources */
	cr_assert_eq(colod(out, sizeof(out), "explain", "--json", "--record",
			   agentrun_path(&run, "rec.jsonl"), NULL), 0);
	snprintf(want, sizeof(want), "\"cgroup\":\t\"/%s\",\n\t\t\t\"class\":\t\"BE\",\n"
		 "\t\t\t\"source\":\t\"rule\"", be.rel);
	cr_assert(strstr(out, want), "the recording's classes: %s", out);
}
