// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Configuration: defaults, every class of validation error, node strategies. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "config.h"
#include "tfile.h"

#define FIXTURES "tests/fixtures/config"

static char tmpdir[256];

static void tmp_setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/colod-test-config-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
}

static void tmp_teardown(void)
{
	if (tmpdir[0])
		tfile_rm_tree(tmpdir);
	tmpdir[0] = '\0';
}

/* Parse one key on top of defaults; returns the rc. */
static int parse1(const char *key, const char *json, const struct node_labels *labels,
		  struct colod_config *c, struct config_errors *e)
{
	config_defaults(c);
	config_errors_init(e);
	return config_parse_key(key, json, key, labels, c, e);
}

/* True if some error contains every one of the given pieces. */
static bool has_error(const struct config_errors *e, const char *a, const char *b,
		      const char *c)
{
	int i;

	for (i = 0; i < e->nr_errors && i < CONFIG_MAX_MSGS; i++)
		if (strstr(e->errors[i], a) && (!b || strstr(e->errors[i], b)) &&
		    (!c || strstr(e->errors[i], c)))
			return true;
	return false;
}

static bool has_warning(const struct config_errors *e, const char *a)
{
	int i;

	for (i = 0; i < e->nr_warnings && i < CONFIG_MAX_MSGS; i++)
		if (strstr(e->warnings[i], a))
			return true;
	return false;
}

static void dump(const struct config_errors *e)
{
	config_errors_print(e, stderr);
}

Test(config, defaults_colocation)
{
	struct colod_config c;

	config_defaults(&c);
	cr_expect_eq(c.colocation.enable, false);
	cr_expect_eq(c.colocation.metric_aggregate_duration_seconds, 300);
	cr_expect_eq(c.colocation.metric_report_interval_seconds, 60);
	cr_expect_eq(c.colocation.cpu_reclaim_threshold_percent, 60);
	cr_expect_eq(c.colocation.memory_reclaim_threshold_percent, 65);
	cr_expect_eq(c.colocation.cpu_calculate_policy, CALC_USAGE);
	cr_expect_eq(c.colocation.memory_calculate_policy, CALC_USAGE);
	cr_expect_eq(c.colocation.degrade_time_minutes, 15);
	cr_expect_eq(c.colocation.update_time_threshold_seconds, 300);
	cr_expect_float_eq(c.colocation.resource_diff_threshold, 0.1, 1e-12);
	cr_expect_eq(c.colocation.mid_cpu_threshold_percent, 100);
	cr_expect_eq(c.colocation.mid_memory_threshold_percent, 100);
}

Test(config, defaults_threshold)
{
	struct colod_config c;

	config_defaults(&c);
	cr_expect_eq(c.threshold.enable, false);
	cr_expect_eq(c.threshold.cpu_suppress_threshold_percent, 65);
	cr_expect_eq(c.threshold.cpu_suppress_policy, SUPPRESS_CPUSET);
	cr_expect_eq(c.threshold.cpu_suppress_min_percent, CONFIG_UNSET);
	cr_expect_eq(c.threshold.memory_evict_threshold_percent, 70);
	cr_expect_eq(c.threshold.memory_evict_lower_percent, CONFIG_UNSET);
	cr_expect_eq(config_memory_evict_lower(&c.threshold), 68);
	cr_expect_eq(c.threshold.cpu_evict_be_satisfaction_lower_percent, CONFIG_UNSET);
	cr_expect_eq(c.threshold.cpu_evict_be_satisfaction_upper_percent, CONFIG_UNSET);
	cr_expect_eq(c.threshold.cpu_evict_be_usage_threshold_percent, 90);
}

Test(config, defaults_qos)
{
	struct colod_config c;
	int i;

	config_defaults(&c);
	cr_expect_eq(c.qos.cpu_policy, CPU_QOS_GROUP_IDENTITY);
	for (i = 0; i < QOS_NR; i++) {
		const struct qos_class_cfg *q = &c.qos.cls[i];

		cr_expect_eq(q->cpu.enable, false, "%s", qos_class_key(i));
		cr_expect_eq(q->cpu.sched_idle, 0);
		cr_expect_eq(q->memory.enable, false);
		cr_expect_eq(q->memory.min_limit_percent, 0);
		cr_expect_eq(q->memory.low_limit_percent, 0);
		cr_expect_eq(q->memory.throttling_percent, 0);
		cr_expect_eq(q->resctrl.enable, false);
		cr_expect_eq(q->resctrl.cat_range_start_percent, 0);
		cr_expect_eq(q->resctrl.mba_percent, 100);
	}
	cr_expect_eq(c.qos.cls[QOS_LSR].cpu.group_identity, 2);
	cr_expect_eq(c.qos.cls[QOS_LS].cpu.group_identity, 2);
	cr_expect_eq(c.qos.cls[QOS_BE].cpu.group_identity, -1);
	cr_expect_eq(c.qos.cls[QOS_SYSTEM].cpu.group_identity, 0);
	cr_expect_eq(c.qos.cls[QOS_LSR].resctrl.cat_range_end_percent, 100);
	cr_expect_eq(c.qos.cls[QOS_LS].resctrl.cat_range_end_percent, 100);
	cr_expect_eq(c.qos.cls[QOS_BE].resctrl.cat_range_end_percent, 30);
	cr_expect_eq(c.qos.cls[QOS_SYSTEM].resctrl.cat_range_end_percent, 100);
}

Test(config, defaults_own)
{
	struct colod_config c;

	config_defaults(&c);
	cr_expect_eq(c.own.ls_latency_target_us, 2000);
	cr_expect_eq(c.own.breach_min_interval_ms, 2);
	cr_expect_eq(c.own.node_cpu_capacity_milli, 0);
	cr_expect_eq(c.own.node_memory_capacity_bytes, 0);
	cr_expect_str_eq(c.own.kubelet_cgroup_root, "/");
	cr_expect_eq(c.own.nr_rules, 0);
}

/* beSchedSliceUs: off, or longer than any other task's default slice */
Test(config, be_sched_slice)
{
	static const unsigned int good[] = { 0, 10000, 100000 }, bad[] = { 1, 500, 9999 };
	struct colod_config c;
	struct config_errors e;
	char json[128], want[64];
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(json, sizeof(json), "{\"beSchedSliceUs\": %u}", good[i]);
		cr_expect_eq(parse1(CONFIG_KEY_COLOD, json, NULL, &c, &e), 0, "%u", good[i]);
		cr_expect_eq(c.own.be_sched_slice_us, good[i]);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(json, sizeof(json), "{\"beSchedSliceUs\": %u}", bad[i]);
		snprintf(want, sizeof(want), "$.beSchedSliceUs: found %u,", bad[i]);
		cr_expect_eq(parse1(CONFIG_KEY_COLOD, json, NULL, &c, &e), -EINVAL, "%u", bad[i]);
		cr_expect(has_error(&e, want, "colod-config", "lets BE preempt them"),
			  "%u", bad[i]);
	}
	cr_expect_eq(parse1(CONFIG_KEY_COLOD, "{\"beSchedSliceUs\": 100001}", NULL, &c, &e),
		     -EINVAL);
}

/* kubeletCgroupRoot: an absolute cgroup path, nothing that climbs out */
Test(config, kubelet_cgroup_root)
{
	static const char *const bad[] = { "kubepods", "/a/../b", "/..", "/./x", "" };
	struct colod_config c;
	struct config_errors e;
	char json[128];
	size_t i;

	cr_assert_eq(parse1(CONFIG_KEY_COLOD, "{\"kubeletCgroupRoot\": \"/kubelet.slice\"}",
			    NULL, &c, &e), 0);
	cr_expect_str_eq(c.own.kubelet_cgroup_root, "/kubelet.slice");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(json, sizeof(json), "{\"kubeletCgroupRoot\": \"%s\"}", bad[i]);
		cr_expect_eq(parse1(CONFIG_KEY_COLOD, json, NULL, &c, &e), -EINVAL, "%s", bad[i]);
		cr_expect(has_error(&e, "colod-config: $.kubeletCgroupRoot: found \"", bad[i],
				    NULL), "%s", bad[i]);
		dump(&e);
	}
}

/* Keys absent or empty objects take every default. */
Test(config, empty_objects_are_defaults)
{
	struct colod_config c, d;
	struct config_errors e;
	const char *keys[] = { CONFIG_KEY_COLOCATION, CONFIG_KEY_THRESHOLD, CONFIG_KEY_QOS,
			       CONFIG_KEY_COLOD };
	int i;

	config_defaults(&d);
	for (i = 0; i < 4; i++) {
		cr_assert_eq(parse1(keys[i], "{}", NULL, &c, &e), 0);
		cr_expect_eq(memcmp(&c, &d, sizeof(c)), 0, "%s", keys[i]);
		cr_assert_eq(parse1(keys[i], "{\"clusterStrategy\": {}}", NULL, &c, &e), 0);
		cr_expect_eq(c.colocation.cpu_reclaim_threshold_percent, 60);
	}
}

Test(config, null_takes_default)
{
	struct colod_config c;
	struct config_errors e;

	cr_assert_eq(parse1(CONFIG_KEY_COLOCATION,
			    "{\"cpuReclaimThresholdPercent\": null, \"enable\": true}",
			    NULL, &c, &e), 0);
	cr_expect_eq(c.colocation.cpu_reclaim_threshold_percent, 60);
	cr_expect(c.colocation.enable);
}

Test(config, values_applied)
{
	struct colod_config c;
	struct config_errors e;

	cr_assert_eq(parse1(CONFIG_KEY_COLOCATION,
			    "{\"enable\": true, \"cpuReclaimThresholdPercent\": 70,"
			    " \"memoryCalculatePolicy\": \"request\","
			    " \"cpuCalculatePolicy\": \"maxUsageRequest\","
			    " \"resourceDiffThreshold\": 0.25, \"degradeTimeMinutes\": 5}",
			    NULL, &c, &e), 0);
	cr_expect(c.colocation.enable);
	cr_expect_eq(c.colocation.cpu_reclaim_threshold_percent, 70);
	cr_expect_eq(c.colocation.memory_calculate_policy, CALC_REQUEST);
	cr_expect_eq(c.colocation.cpu_calculate_policy, CALC_MAX_USAGE_REQUEST);
	cr_expect_float_eq(c.colocation.resource_diff_threshold, 0.25, 1e-12);
	cr_expect_eq(c.colocation.degrade_time_minutes, 5);
	cr_expect_eq(c.colocation.memory_reclaim_threshold_percent, 65);

	cr_assert_eq(parse1(CONFIG_KEY_THRESHOLD,
			    "{\"clusterStrategy\": {\"enable\": true,"
			    " \"cpuSuppressPolicy\": \"cfsQuota\", \"cpuSuppressMinPercent\": 20,"
			    " \"memoryEvictThresholdPercent\": 80}}", NULL, &c, &e), 0);
	cr_expect(c.threshold.enable);
	cr_expect_eq(c.threshold.cpu_suppress_policy, SUPPRESS_CFS_QUOTA);
	cr_expect_eq(c.threshold.cpu_suppress_min_percent, 20);
	cr_expect_eq(config_memory_evict_lower(&c.threshold), 78);
}

Test(config, keys_match_case_insensitively_like_go)
{
	struct colod_config c;
	struct config_errors e;

	cr_assert_eq(parse1(CONFIG_KEY_QOS,
			    "{\"clusterStrategy\": {\"beClass\": {\"resctrlQOS\":"
			    " {\"enable\": true, \"CATRangeStartPercent\": 10,"
			    " \"CATRangeEndPercent\": 40, \"MBAPercent\": 50}}}}",
			    NULL, &c, &e), 0);
	cr_expect(c.qos.cls[QOS_BE].resctrl.enable);
	cr_expect_eq(c.qos.cls[QOS_BE].resctrl.cat_range_start_percent, 10);
	cr_expect_eq(c.qos.cls[QOS_BE].resctrl.cat_range_end_percent, 40);
	cr_expect_eq(c.qos.cls[QOS_BE].resctrl.mba_percent, 50);
	cr_expect_eq(e.nr_warnings, 0);
}

/* ---- every class of error names file, path, value and expectation ---- */

Test(config, error_type)
{
	struct colod_config c;
	struct config_errors e;

	cr_assert_eq(parse1(CONFIG_KEY_COLOCATION, "{\"enable\": \"yes\"}", NULL, &c, &e),
		     -EINVAL);
	cr_expect(has_error(&e, "colocation-config: $.enable: found \"yes\"", "boolean", NULL));
	cr_assert_eq(parse1(CONFIG_KEY_QOS, "{\"clusterStrategy\": {\"lsClass\": 3}}", NULL,
			    &c, &e), -EINVAL);
	cr_expect(has_error(&e, "$.clusterStrategy.lsClass: found 3", "an object", NULL));
}

Test(config, error_range)
{
	struct colod_config c;
	struct config_errors e;

	cr_assert_eq(parse1(CONFIG_KEY_THRESHOLD,
			    "{\"clusterStrategy\": {\"cpuSuppressThresholdPercent\": 150}}",
			    NULL, &c, &e), -EINVAL);
	dump(&e);
	cr_expect(has_error(&e, "resource-threshold-config",
			    "$.clusterStrategy.cpuSuppressThresholdPercent: found 150",
			    "an integer in [0, 100]"));
	cr_assert_eq(parse1(CONFIG_KEY_QOS, "{\"clusterStrategy\": {\"beClass\": {\"cpuQOS\":"
			    " {\"groupIdentity\": -2}}}}", NULL, &c, &e), -EINVAL);
	cr_expect(has_error(&e, "$.clusterStrategy.beClass.cpuQOS.groupIdentity: found -2",
			    "[-1, 2]", NULL));
	cr_assert_eq(parse1(CONFIG_KEY_COLOCATION, "{\"resourceDiffThreshold\": 0}", NULL,
			    &c, &e), -EINVAL);
	cr_expect(has_error(&e, "$.resourceDiffThreshold: found 0", "a number in (0, 1]", NULL));
}

Test(config, error_not_integer)
{
	struct colod_config c;
	struct config_errors e;

	cr_assert_eq(parse1(CONFIG_KEY_COLOCATION, "{\"degradeTimeMinutes\": 1.5}", NULL,
			    &c, &e), -EINVAL);
	cr_expect(has_error(&e, "$.degradeTimeMinutes: found 1.5", "an integer", NULL));
}

Test(config, error_enum)
{
	struct colod_config c;
	struct config_errors e;

	cr_assert_eq(parse1(CONFIG_KEY_THRESHOLD,
			    "{\"clusterStrategy\": {\"cpuSuppressPolicy\": \"quota\"}}",
			    NULL, &c, &e), -EINVAL);
	cr_expect(has_error(&e, "$.clusterStrategy.cpuSuppressPolicy: found \"quota\"",
			    "\"cpuset\" or \"cfsQuota\"", NULL));
	/* "request" is a memory-only policy in Koordinator */
	cr_assert_eq(parse1(CONFIG_KEY_COLOCATION, "{\"cpuCalculatePolicy\": \"request\"}",
			    NULL, &c, &e), -EINVAL);
	cr_expect(has_error(&e, "$.cpuCalculatePolicy: found \"request\"",
			    "\"usage\" or \"maxUsageRequest\"", NULL));
}

Test(config, error_invalid_json)
{
	struct colod_config c;
	struct config_errors e;

	cr_assert_eq(parse1(CONFIG_KEY_COLOCATION, "{\n  \"enable\": true,\n  oops\n}", NULL,
			    &c, &e), -EINVAL);
	dump(&e);
	cr_expect(has_error(&e, "colocation-config: $: invalid JSON at line 3", NULL, NULL));
	cr_assert_eq(parse1(CONFIG_KEY_COLOCATION, "[1, 2]", NULL, &c, &e), -EINVAL);
	cr_expect(has_error(&e, "$: found an array", "a JSON object", NULL));
}

Test(config, error_cross_field)
{
	struct colod_config c;
	struct config_errors e;

	cr_assert_eq(parse1(CONFIG_KEY_THRESHOLD,
			    "{\"clusterStrategy\": {\"memoryEvictThresholdPercent\": 60,"
			    " \"memoryEvictLowerPercent\": 60}}", NULL, &c, &e), -EINVAL);
	cr_expect(has_error(&e, "$.clusterStrategy.memoryEvictLowerPercent: found 60",
			    "less than memoryEvictThresholdPercent (60)", NULL));
	cr_assert_eq(parse1(CONFIG_KEY_THRESHOLD,
			    "{\"clusterStrategy\": {\"cpuEvictBESatisfactionLowerPercent\": 50,"
			    " \"cpuEvictBESatisfactionUpperPercent\": 40}}", NULL, &c, &e),
		     -EINVAL);
	cr_expect(has_error(&e, "cpuEvictBESatisfactionLowerPercent: found 50",
			    "less than cpuEvictBESatisfactionUpperPercent (40)", NULL));
	/* BE's default CAT end is 30: a start of 40 alone is inconsistent */
	cr_assert_eq(parse1(CONFIG_KEY_QOS, "{\"clusterStrategy\": {\"beClass\": {\"resctrlQOS\":"
			    " {\"catRangeStartPercent\": 40}}}}", NULL, &c, &e), -EINVAL);
	cr_expect(has_error(&e, "$.clusterStrategy.beClass.resctrlQOS.catRangeStartPercent: "
			    "found 40", "less than catRangeEndPercent (30)", NULL));
}

Test(config, satisfaction_bounds_koordlet_would_ignore_warn)
{
	struct colod_config c;
	struct config_errors e;

	cr_assert_eq(parse1(CONFIG_KEY_THRESHOLD,
			    "{\"clusterStrategy\": {\"cpuEvictBESatisfactionLowerPercent\": 70,"
			    " \"cpuEvictBESatisfactionUpperPercent\": 90}}", NULL, &c, &e), 0);
	cr_expect(has_warning(&e, "in (0, 60]"));
	cr_expect_eq(c.threshold.cpu_evict_be_satisfaction_lower_percent, 70);
	cr_assert_eq(parse1(CONFIG_KEY_THRESHOLD,
			    "{\"clusterStrategy\": {\"cpuEvictBESatisfactionLowerPercent\": 30}}",
			    NULL, &c, &e), 0);
	cr_expect(has_warning(&e, "only one of"));
	cr_assert_eq(parse1(CONFIG_KEY_THRESHOLD,
			    "{\"clusterStrategy\": {\"cpuEvictBESatisfactionLowerPercent\": 30,"
			    " \"cpuEvictBESatisfactionUpperPercent\": 60}}", NULL, &c, &e), 0);
	cr_expect_eq(e.nr_warnings, 0);
}

Test(config, lower_default_follows_threshold_without_error)
{
	struct colod_config c;
	struct config_errors e;

	/* an unset lower must not be compared with a lowered threshold */
	cr_assert_eq(parse1(CONFIG_KEY_THRESHOLD,
			    "{\"clusterStrategy\": {\"memoryEvictThresholdPercent\": 50}}",
			    NULL, &c, &e), 0);
	cr_expect_eq(config_memory_evict_lower(&c.threshold), 48);
}

Test(config, error_rules)
{
	struct colod_config c;
	struct config_errors e;
	char big[8192];
	size_t n = 0;
	int i;

	cr_assert_eq(parse1(CONFIG_KEY_COLOD, "{\"classificationRules\": [{\"class\": \"LS\"},"
			    " {\"match\": \"/x\"}, {\"match\": \"/y\", \"class\": \"MID\"},"
			    " {\"match\": \"\", \"class\": \"BE\"}]}", NULL, &c, &e), -EINVAL);
	dump(&e);
	cr_expect(has_error(&e, "$.classificationRules[0].match: found nothing", "required",
			    NULL));
	cr_expect(has_error(&e, "$.classificationRules[1].class: found nothing", "required",
			    NULL));
	cr_expect(has_error(&e, "$.classificationRules[2].class: found \"MID\"", "\"LS\"",
			    NULL));
	cr_expect(has_error(&e, "$.classificationRules[3].match: found \"\"", "non-empty",
			    NULL));
	cr_expect_eq(e.nr_errors, 4);

	n += snprintf(big + n, sizeof(big) - n, "{\"classificationRules\": [");
	for (i = 0; i <= CLASSIFY_MAX_RULES; i++)
		n += snprintf(big + n, sizeof(big) - n, "%s{\"match\": \"/r%d\", \"class\": \"BE\"}",
			      i ? "," : "", i);
	snprintf(big + n, sizeof(big) - n, "]}");
	cr_assert_eq(parse1(CONFIG_KEY_COLOD, big, NULL, &c, &e), -EINVAL);
	cr_expect(has_error(&e, "found 65 rules", "at most 64 rules", NULL));
}

Test(config, rules_parsed)
{
	struct colod_config c;
	struct config_errors e;

	cr_assert_eq(parse1(CONFIG_KEY_COLOD, "{\"lsLatencyTargetUs\": 1000,"
			    " \"breachMinIntervalMs\": 5, \"classificationRules\": ["
			    " {\"match\": \"/colod-demo/ls*\", \"class\": \"ls\","
			    "  \"latencyTargetUs\": 800, \"cpuRequestMilli\": 1000,"
			    "  \"memoryRequestBytes\": 1073741824},"
			    " {\"match\": \"/colod-demo/be*\", \"class\": \"BE\"}]}",
			    NULL, &c, &e), 0);
	cr_expect_eq(c.own.ls_latency_target_us, 1000);
	cr_expect_eq(c.own.breach_min_interval_ms, 5);
	cr_assert_eq(c.own.nr_rules, 2);
	cr_expect_str_eq(c.own.rules[0].glob, "/colod-demo/ls*");
	cr_expect_eq(c.own.rules[0].cls, COLOD_CLASS_LS);
	cr_expect_eq(c.own.rules[0].latency_target_us, 800);
	cr_expect_eq(c.own.rules[0].cpu_request_milli, 1000);
	cr_expect_eq(c.own.rules[0].memory_request_bytes, 1073741824ULL);
	cr_expect_eq(c.own.rules[1].cls, COLOD_CLASS_BE);
	cr_expect_eq(c.own.rules[1].latency_target_us, 0);
}

Test(config, error_selector)
{
	struct colod_config c;
	struct config_errors e;

	cr_assert_eq(parse1(CONFIG_KEY_THRESHOLD, "{\"nodeStrategies\": [{\"name\": \"a\","
			    " \"nodeSelector\": {\"matchExpressions\": [{\"key\": \"k\","
			    " \"operator\": \"Equals\", \"values\": [\"v\"]},"
			    " {\"key\": \"k\", \"operator\": \"In\"}]}}]}", NULL, &c, &e),
		     -EINVAL);
	dump(&e);
	cr_expect(has_error(&e, "$.nodeStrategies[0].nodeSelector.matchExpressions[0].operator:"
			    " found \"Equals\"", "\"In\"", NULL));
	cr_expect(has_error(&e, "matchExpressions[1].values: found nothing",
			    "non-empty array", NULL));
	cr_assert_eq(parse1(CONFIG_KEY_THRESHOLD, "{\"nodeStrategies\": {}}", NULL, &c, &e),
		     -EINVAL);
	cr_expect(has_error(&e, "$.nodeStrategies: found an object", "an array", NULL));
}

Test(config, all_errors_listed_and_input_untouched)
{
	struct colod_config c, before;
	struct config_errors e;

	config_defaults(&c);
	c.colocation.cpu_reclaim_threshold_percent = 42;	/* a "last good" value */
	before = c;
	config_errors_init(&e);
	cr_assert_eq(config_parse_key(CONFIG_KEY_COLOCATION,
				      "{\"enable\": 1, \"cpuReclaimThresholdPercent\": 80,"
				      " \"midCPUThresholdPercent\": 101,"
				      " \"memoryCalculatePolicy\": \"x\"}",
				      "/etc/colod/colocation-config", NULL, &c, &e), -EINVAL);
	cr_expect_eq(e.nr_errors, 3);
	cr_expect(has_error(&e, "/etc/colod/colocation-config: $.enable", NULL, NULL));
	cr_expect(has_error(&e, "$.midCPUThresholdPercent: found 101", NULL, NULL));
	cr_expect(has_error(&e, "$.memoryCalculatePolicy: found \"x\"", NULL, NULL));
	cr_expect_eq(memcmp(&c, &before, sizeof(c)), 0);
}

Test(config, unknown_keys_warn_not_fatal)
{
	struct colod_config c;
	struct config_errors e;

	cr_assert_eq(parse1(CONFIG_KEY_COLOCATION, "{\"enabel\": true,"
			    " \"metricMemoryCollectPolicy\": \"usageWithoutPageCache\"}",
			    NULL, &c, &e), 0);
	cr_expect_eq(e.nr_errors, 0);
	cr_expect(has_warning(&e, "$.enabel: unknown key"));
	/* a Koordinator key colod does not use is not warned about */
	cr_expect_eq(e.nr_warnings, 1);
	cr_expect_eq(c.colocation.enable, false);
}

/* ---- node strategies ---- */

static const char *threshold_nodes =
	"{\"clusterStrategy\": {\"enable\": true, \"cpuSuppressThresholdPercent\": 60},"
	" \"nodeStrategies\": ["
	"  {\"name\": \"gpu\", \"nodeSelector\": {\"matchLabels\": {\"pool\": \"gpu\"}},"
	"   \"cpuSuppressThresholdPercent\": 40},"
	"  {\"name\": \"big\", \"nodeSelector\": {\"matchExpressions\": [{\"key\": \"size\","
	"   \"operator\": \"In\", \"values\": [\"xl\", \"l\"]}]},"
	"   \"cpuSuppressThresholdPercent\": 50, \"memoryEvictThresholdPercent\": 90},"
	"  {\"name\": \"any\", \"nodeSelector\": {}, \"cpuSuppressThresholdPercent\": 30}]}";

Test(config, node_strategy_first_match_wins)
{
	struct node_labels l;
	struct colod_config c;
	struct config_errors e;

	cr_assert_eq(node_labels_parse_text("pool=gpu,size=xl", ',', &l), 0);
	cr_assert_eq(parse1(CONFIG_KEY_THRESHOLD, threshold_nodes, &l, &c, &e), 0);
	cr_expect_eq(c.threshold.cpu_suppress_threshold_percent, 40);
	cr_expect_eq(c.threshold.memory_evict_threshold_percent, 70);
	cr_expect(c.threshold.enable, "cluster values stay under a node strategy");
	cr_expect_str_eq(c.node_strategy[CFG_THRESHOLD], "gpu");

	cr_assert_eq(node_labels_parse_text("size=l", ',', &l), 0);
	cr_assert_eq(parse1(CONFIG_KEY_THRESHOLD, threshold_nodes, &l, &c, &e), 0);
	cr_expect_eq(c.threshold.cpu_suppress_threshold_percent, 50);
	cr_expect_eq(c.threshold.memory_evict_threshold_percent, 90);
	cr_expect_str_eq(c.node_strategy[CFG_THRESHOLD], "big");

	/* an empty selector matches every node */
	cr_assert_eq(parse1(CONFIG_KEY_THRESHOLD, threshold_nodes, NULL, &c, &e), 0);
	cr_expect_eq(c.threshold.cpu_suppress_threshold_percent, 30);
	cr_expect_str_eq(c.node_strategy[CFG_THRESHOLD], "any");
}

Test(config, node_strategy_operators)
{
	const char *fmt = "{\"nodeStrategies\": [{\"name\": \"n\", \"nodeSelector\":"
			  " {\"matchExpressions\": [{\"key\": \"k\", \"operator\": \"%s\"%s}]},"
			  " \"cpuSuppressThresholdPercent\": 10}]}";
	struct {
		const char *op, *values, *labels;
		bool match;
	} cases[] = {
		{ "In", ", \"values\": [\"a\"]", "k=a", true },
		{ "In", ", \"values\": [\"a\"]", "k=b", false },
		{ "NotIn", ", \"values\": [\"a\"]", "k=b", true },
		{ "NotIn", ", \"values\": [\"a\"]", "j=a", true },
		{ "NotIn", ", \"values\": [\"a\"]", "k=a", false },
		{ "Exists", "", "k=", true },
		{ "Exists", "", "j=x", false },
		{ "DoesNotExist", "", "j=x", true },
		{ "DoesNotExist", "", "k=x", false },
	};
	struct node_labels l;
	struct colod_config c;
	struct config_errors e;
	char json[512];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(json, sizeof(json), fmt, cases[i].op, cases[i].values);
		cr_assert_eq(node_labels_parse_text(cases[i].labels, ',', &l), 0);
		cr_assert_eq(parse1(CONFIG_KEY_THRESHOLD, json, &l, &c, &e), 0, "%s", json);
		cr_expect_eq(c.threshold.cpu_suppress_threshold_percent,
			     cases[i].match ? 10 : 65, "%s %s", cases[i].op, cases[i].labels);
	}
}

Test(config, node_strategy_errors_reported_when_not_matching)
{
	struct colod_config c;
	struct config_errors e;

	cr_assert_eq(parse1(CONFIG_KEY_QOS, "{\"nodeStrategies\": [{\"name\": \"x\","
			    " \"nodeSelector\": {\"matchLabels\": {\"no\": \"such\"}},"
			    " \"lsClass\": {\"memoryQOS\": {\"minLimitPercent\": 200}}}]}",
			    NULL, &c, &e), -EINVAL);
	cr_expect(has_error(&e, "$.nodeStrategies[0].lsClass.memoryQOS.minLimitPercent: "
			    "found 200", NULL, NULL));
}

Test(config, node_strategy_without_selector_matches_nothing)
{
	struct colod_config c;
	struct config_errors e;

	cr_assert_eq(parse1(CONFIG_KEY_THRESHOLD, "{\"nodeStrategies\": [{\"name\": \"x\","
			    " \"cpuSuppressThresholdPercent\": 10}]}", NULL, &c, &e), 0);
	cr_expect_eq(c.threshold.cpu_suppress_threshold_percent, 65);
	cr_expect(has_warning(&e, "$.nodeStrategies[0].nodeSelector: missing"));
}

Test(config, colocation_node_configs)
{
	struct node_labels l;
	struct colod_config c;
	struct config_errors e;

	cr_assert_eq(node_labels_parse_text("node-type=colo", ',', &l), 0);
	cr_assert_eq(parse1(CONFIG_KEY_COLOCATION, "{\"enable\": true,"
			    " \"cpuReclaimThresholdPercent\": 60, \"nodeConfigs\": [{\"name\":"
			    " \"colo\", \"nodeSelector\": {\"matchLabels\": {\"node-type\": \"colo\"}},"
			    " \"cpuReclaimThresholdPercent\": 80}]}", &l, &c, &e), 0);
	cr_expect_eq(c.colocation.cpu_reclaim_threshold_percent, 80);
	cr_expect(c.colocation.enable);
	cr_expect_str_eq(c.node_strategy[CFG_COLOCATION], "colo");
}

/* ---- printing ---- */

Test(config, json_round_trip)
{
	struct colod_config c, d;
	struct config_errors e;
	char *json;

	config_defaults(&c);
	config_errors_init(&e);
	cr_assert_eq(config_parse_key(CONFIG_KEY_THRESHOLD, threshold_nodes, NULL, NULL, &c,
				      &e), 0);
	cr_assert_eq(config_parse_key(CONFIG_KEY_COLOD, "{\"classificationRules\": [{\"match\":"
				      " \"/a*\", \"class\": \"LS\", \"latencyTargetUs\": 5}]}",
				      NULL, NULL, &c, &e), 0);
	cr_assert_eq(config_parse_key(CONFIG_KEY_COLOCATION, "{\"resourceDiffThreshold\": 0.3,"
				      " \"memoryCalculatePolicy\": \"maxUsageRequest\"}", NULL,
				      NULL, &c, &e), 0);
	json = config_to_json(&c);
	cr_assert_not_null(json);
	cr_assert_eq(config_parse_document(json, "printed", NULL, &d, &e), 0, "%s", json);
	cr_expect_eq(e.nr_warnings, 0);
	memset(c.node_strategy, 0, sizeof(c.node_strategy));
	cr_expect_eq(memcmp(&c, &d, sizeof(c)), 0, "%s", json);
	cr_expect(strstr(json, "\"cpuSuppressThresholdPercent\":\t30") != NULL, "%s", json);
	cr_expect(strstr(json, "\"memoryEvictLowerPercent\"") == NULL, "unset is omitted");
	free(json);
}

/* ---- documents and files ---- */

Test(config, document_objects_strings_and_configmap)
{
	struct colod_config c;
	struct config_errors e;

	config_errors_init(&e);
	cr_assert_eq(config_parse_document("{\"colocation-config\": {\"enable\": true},"
					   " \"resource-threshold-config\":"
					   " \"{\\\"clusterStrategy\\\": {\\\"enable\\\": true}}\","
					   " \"cpu-burst-config\": {}}", "doc.json", NULL, &c,
					   &e), 0);
	cr_expect(c.colocation.enable);
	cr_expect(c.threshold.enable);
	cr_expect_eq(e.nr_warnings, 0);

	cr_assert_eq(config_parse_document("{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\","
					   " \"data\": {\"colocation-config\": \"{\\\"enable\\\":"
					   " 7}\"}}", "cm.json", NULL, &c, &e), -EINVAL);
	cr_expect(has_error(&e, "cm.json: $.data[\"colocation-config\"].enable: found 7",
			    NULL, NULL));
}

Test(config, load_dir_and_missing_keys, .init = tmp_setup, .fini = tmp_teardown)
{
	struct colod_config c, d;
	struct config_errors e;

	config_errors_init(&e);
	cr_assert_eq(config_load(tmpdir, NULL, &c, &e), 0);
	config_defaults(&d);
	cr_expect_eq(memcmp(&c, &d, sizeof(c)), 0, "empty dir = defaults");

	tfile_put(tmpdir, "colocation-config", "{\"enable\": true}");
	tfile_put(tmpdir, "colod-config", "{\"lsLatencyTargetUs\": 900}");
	tfile_put(tmpdir, "something-else", "{}");
	cr_assert_eq(config_load(tmpdir, NULL, &c, &e), 0);
	cr_expect(c.colocation.enable);
	cr_expect_eq(c.own.ls_latency_target_us, 900);
	cr_expect_eq(c.threshold.cpu_suppress_threshold_percent, 65);
	cr_expect(has_warning(&e, "something-else: unknown key"));
}

Test(config, load_error_names_file_and_keeps_out, .init = tmp_setup, .fini = tmp_teardown)
{
	struct colod_config c, before;
	struct config_errors e;
	char path[512];

	config_defaults(&c);
	c.own.ls_latency_target_us = 1234;
	before = c;
	tfile_put(tmpdir, "resource-qos-config", "{\"clusterStrategy\": {\"policies\":"
		   " {\"cpuPolicy\": \"fast\"}}}");
	config_errors_init(&e);
	cr_assert_eq(config_load(tmpdir, NULL, &c, &e), -EINVAL);
	snprintf(path, sizeof(path), "%s/resource-qos-config: "
		 "$.clusterStrategy.policies.cpuPolicy: found \"fast\"", tmpdir);
	cr_expect(has_error(&e, path, "\"groupIdentity\" or \"coreSched\"", NULL));
	cr_expect_eq(memcmp(&c, &before, sizeof(c)), 0);

	config_errors_init(&e);
	snprintf(path, sizeof(path), "%s/nonexistent", tmpdir);
	cr_expect_eq(config_load(path, NULL, &c, &e), -ENOENT);
	cr_expect(has_error(&e, "nonexistent: cannot read", NULL, NULL));
}

Test(config, load_reads_through_data_link, .init = tmp_setup, .fini = tmp_teardown)
{
	struct colod_config c;
	struct config_errors e;
	char p[512], q[512];

	/* the layout kubelet's AtomicWriter leaves */
	snprintf(p, sizeof(p), "%s/..2026_11_26_03_00_00.1", tmpdir);
	cr_assert_eq(mkdir(p, 0755), 0);
	tfile_put(p, "colod-config", "{\"lsLatencyTargetUs\": 777}");
	snprintf(p, sizeof(p), "%s/..data", tmpdir);
	cr_assert_eq(symlink("..2026_11_26_03_00_00.1", p), 0);
	snprintf(q, sizeof(q), "%s/colod-config", tmpdir);
	cr_assert_eq(symlink("..data/colod-config", q), 0);
	config_errors_init(&e);
	cr_assert_eq(config_load(tmpdir, NULL, &c, &e), 0);
	cr_expect_eq(c.own.ls_latency_target_us, 777);
	cr_expect_eq(e.nr_warnings, 0);
}

Test(config, load_too_big, .init = tmp_setup, .fini = tmp_teardown)
{
	struct colod_config c;
	struct config_errors e;
	char path[512];
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "%s/colocation-config", tmpdir);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	for (i = 0; i < CONFIG_FILE_MAX / 8 + 1; i++)
		fputs("        ", f);
	fclose(f);
	config_errors_init(&e);
	cr_assert_eq(config_load(tmpdir, NULL, &c, &e), -EINVAL);
	cr_expect(has_error(&e, "colocation-config: larger than", NULL, NULL));
}

/* A FIFO as a key would block the read (and the agent's loop) forever. */
Test(config, load_refuses_fifo_and_device, .init = tmp_setup, .fini = tmp_teardown,
     .timeout = 10)
{
	struct colod_config c, before;
	struct config_errors e;
	char path[512];

	config_defaults(&c);
	c.own.ls_latency_target_us = 4321;
	before = c;
	tfile_put(tmpdir, "colocation-config", "{\"enable\": true}");
	snprintf(path, sizeof(path), "%s/colod-config", tmpdir);
	cr_assert_eq(mkfifo(path, 0644), 0, "mkfifo %s: %m", path);
	config_errors_init(&e);
	cr_assert_eq(config_load(tmpdir, NULL, &c, &e), -EINVAL);
	dump(&e);
	cr_expect(has_error(&e, path, "a FIFO, refused", "regular file"));
	cr_expect_eq(memcmp(&c, &before, sizeof(c)), 0, "the last good one stays");

	cr_assert_eq(unlink(path), 0);
	cr_assert_eq(symlink("/dev/zero", path), 0);
	config_errors_init(&e);
	cr_assert_eq(config_load(tmpdir, NULL, &c, &e), -EINVAL);
	cr_expect(has_error(&e, path, "a device, refused", NULL));
}

Test(config, load_single_file, .init = tmp_setup, .fini = tmp_teardown)
{
	struct colod_config c;
	struct config_errors e;
	char path[512];

	tfile_put(tmpdir, "all.json", "{\"colod-config\": {\"breachMinIntervalMs\": 3}}");
	snprintf(path, sizeof(path), "%s/all.json", tmpdir);
	config_errors_init(&e);
	cr_assert_eq(config_load(path, NULL, &c, &e), 0);
	cr_expect_eq(c.own.breach_min_interval_ms, 3);
}

Test(config, node_labels_file_and_arg, .init = tmp_setup, .fini = tmp_teardown)
{
	struct node_labels l;
	char path[512];

	tfile_put(tmpdir, "labels", "# downward API style\nzone=\"a\"\n"
		   "kubernetes.io/hostname=\"n1\"\n\nplain=v\n");
	snprintf(path, sizeof(path), "%s/labels", tmpdir);
	cr_assert_eq(node_labels_parse(path, &l), 0);
	cr_expect_eq(l.nr, 3);
	cr_expect_str_eq(node_labels_get(&l, "zone"), "a");
	cr_expect_str_eq(node_labels_get(&l, "kubernetes.io/hostname"), "n1");
	cr_expect_str_eq(node_labels_get(&l, "plain"), "v");
	cr_expect_null(node_labels_get(&l, "missing"));

	cr_assert_eq(node_labels_parse("a=1, b=2,a=3", &l), 0);
	cr_expect_eq(l.nr, 2);
	cr_expect_str_eq(node_labels_get(&l, "a"), "3");
	cr_expect_eq(node_labels_parse("novalue", &l), -ENOENT);
	cr_expect_eq(node_labels_parse_text("a=1,broken", ',', &l), -EINVAL);
	cr_expect_eq(node_labels_parse_text("=v", ',', &l), -EINVAL);
}

/* ---- shipped examples ---- */

Test(config, fixtures_and_deploy_examples)
{
	const char *good[] = { "deploy/config", FIXTURES "/good",
			       FIXTURES "/ack-slo-config.json" };
	struct node_labels l;
	struct colod_config c;
	struct config_errors e;
	size_t i;

	cr_assert_eq(node_labels_parse_text("colod.io/demo=true", ',', &l), 0);
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		config_errors_init(&e);
		cr_expect_eq(config_load(good[i], &l, &c, &e), 0, "%s", good[i]);
		dump(&e);
		cr_expect_eq(e.nr_warnings, 0, "%s", good[i]);
	}
	/* the seed's ack-slo-config turns LS and BE QoS on */
	config_errors_init(&e);
	cr_assert_eq(config_load(FIXTURES "/ack-slo-config.json", NULL, &c, &e), 0);
	cr_expect(c.colocation.enable);
	cr_expect(c.threshold.enable);
	cr_expect(c.qos.cls[QOS_BE].resctrl.enable);
	cr_expect(c.qos.cls[QOS_LS].cpu.enable);
	cr_expect_eq(c.qos.cls[QOS_BE].resctrl.cat_range_end_percent, 30);

	config_errors_init(&e);
	cr_expect_eq(config_load(FIXTURES "/bad", NULL, &c, &e), -EINVAL);
	cr_expect_geq(e.nr_errors, 4);
}

/* ---- subcommands ---- */

Test(config, cmd_check_config_exit_codes)
{
	char *ok[] = { "check-config", "deploy/config", NULL };
	char *bad[] = { "check-config", FIXTURES "/bad", NULL };
	char *none[] = { "check-config", NULL };
	char *cfg[] = { "config", "deploy/config", "--node-labels", "a=b", NULL };
	FILE *saved = stdout;

	/* keep the printed JSON out of the test output */
	stdout = fopen("/dev/null", "w");
	cr_expect_eq(cmd_check_config(2, ok), 0);
	cr_expect_eq(cmd_check_config(2, bad), 1);
	cr_expect_eq(cmd_check_config(1, none), 2);
	cr_expect_eq(cmd_config(4, cfg), 0);
	fclose(stdout);
	stdout = saved;
}
