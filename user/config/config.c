// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Configuration: Koordinator's ConfigMap keys plus colod-config, parsed
 * with cJSON through field tables, so that parsing, validation, defaults
 * and printing all follow one description of each key.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "config.h"
#include "fileio.h"

/* ---- messages ---------------------------------------------------------- */

void config_errors_init(struct config_errors *errs)
{
	errs->nr_errors = 0;
	errs->nr_warnings = 0;
}

static void add_msg(char (*msgs)[CONFIG_MSG_LEN], int *nr, const char *fmt, va_list ap)
{
	if (*nr < CONFIG_MAX_MSGS)
		vsnprintf(msgs[*nr], CONFIG_MSG_LEN, fmt, ap);
	(*nr)++;
}

void config_error(struct config_errors *errs, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_msg(errs->errors, &errs->nr_errors, fmt, ap);
	va_end(ap);
}

void config_warn(struct config_errors *errs, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_msg(errs->warnings, &errs->nr_warnings, fmt, ap);
	va_end(ap);
}

static void print_msgs(FILE *f, const char *what, char (*msgs)[CONFIG_MSG_LEN], int nr)
{
	int i;

	for (i = 0; i < nr && i < CONFIG_MAX_MSGS; i++)
		fprintf(f, "%s: %s\n", what, msgs[i]);
	if (nr > CONFIG_MAX_MSGS)
		fprintf(f, "%s: ... and %d more\n", what, nr - CONFIG_MAX_MSGS);
}

void config_errors_print(const struct config_errors *errs, FILE *f)
{
	print_msgs(f, "warning", (char (*)[CONFIG_MSG_LEN])errs->warnings, errs->nr_warnings);
	print_msgs(f, "error", (char (*)[CONFIG_MSG_LEN])errs->errors, errs->nr_errors);
}

/* ---- parse context: file name, JSON path, messages ---------------------- */

struct pctx {
	const char *file;
	char path[512];
	size_t len;
	struct config_errors *errs;
};

static bool is_ident(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

static size_t path_push(struct pctx *ctx, const char *name)
{
	size_t old = ctx->len;
	size_t room = sizeof(ctx->path) - old;
	int n;

	if (is_ident(name))
		n = snprintf(ctx->path + old, room, ".%s", name);
	else
		n = snprintf(ctx->path + old, room, "[\"%.64s\"]", name);
	ctx->len = (n < 0 || (size_t)n >= room) ? sizeof(ctx->path) - 1 : old + n;
	return old;
}

static size_t path_push_index(struct pctx *ctx, int i)
{
	size_t old = ctx->len;
	size_t room = sizeof(ctx->path) - old;
	int n = snprintf(ctx->path + old, room, "[%d]", i);

	ctx->len = (n < 0 || (size_t)n >= room) ? sizeof(ctx->path) - 1 : old + n;
	return old;
}

static void path_pop(struct pctx *ctx, size_t old)
{
	ctx->len = old;
	ctx->path[old] = '\0';
}

/* The shortest of %.15g and %.17g that reads back as d: 0.1, not 0.1000...01. */
static void format_number(double d, char *buf, size_t n)
{
	snprintf(buf, n, "%.15g", d);
	if (strtod(buf, NULL) != d)
		snprintf(buf, n, "%.17g", d);
}

/* A short, printable rendering of a JSON value for messages. */
static void describe(const cJSON *v, char *buf, size_t n)
{
	if (!v)
		snprintf(buf, n, "nothing");
	else if (cJSON_IsBool(v))
		snprintf(buf, n, "%s", cJSON_IsTrue(v) ? "true" : "false");
	else if (cJSON_IsNull(v))
		snprintf(buf, n, "null");
	else if (cJSON_IsNumber(v))
		format_number(v->valuedouble, buf, n);
	else if (cJSON_IsString(v)) {
		size_t len = strlen(v->valuestring);

		snprintf(buf, n, "\"%.48s%s\"", v->valuestring, len > 48 ? "..." : "");
	} else if (cJSON_IsArray(v))
		snprintf(buf, n, "an array");
	else if (cJSON_IsObject(v))
		snprintf(buf, n, "an object");
	else
		snprintf(buf, n, "an invalid value");
}

static void ctx_bad(struct pctx *ctx, const cJSON *v, const char *expected)
{
	char found[80];

	describe(v, found, sizeof(found));
	config_error(ctx->errs, "%s: %s: found %s, expected %s", ctx->file, ctx->path,
		     found, expected);
}

/* ---- field tables --------------------------------------------------------- */

enum ftype { FT_BOOL, FT_INT, FT_U64, FT_DOUBLE, FT_ENUM, FT_STRING, FT_OBJECT };

struct field {
	const char *name;
	enum ftype type;
	size_t off;
	double min, max;		/* inclusive range of numbers */
	bool min_excl;			/* (min, max] */
	bool optional;			/* int: CONFIG_UNSET allowed, omitted when printed */
	bool icase;			/* enum: case-insensitive names */
	const char *const *enums;	/* enum: names indexed by value, NULL ends */
	unsigned int enum_mask;		/* enum: allowed values (bit per value), 0 = all */
	size_t size;			/* string: buffer size */
	const struct field *sub;	/* object: fields of the member, relative to base */
	const char *const *ignored;	/* object: Koordinator keys colod does not use */
};

#define F_BOOL(n, t, m)		{ .name = n, .type = FT_BOOL, .off = offsetof(t, m) }
#define F_INT(n, t, m, lo, hi)	{ .name = n, .type = FT_INT, .off = offsetof(t, m), .min = lo, .max = hi }
#define F_OPT(n, t, m, lo, hi)	{ .name = n, .type = FT_INT, .off = offsetof(t, m), .min = lo, .max = hi, .optional = true }
#define F_U64(n, t, m, lo, hi)	{ .name = n, .type = FT_U64, .off = offsetof(t, m), .min = lo, .max = hi }
#define F_ENUM(n, t, m, names, mask) \
	{ .name = n, .type = FT_ENUM, .off = offsetof(t, m), .enums = names, .enum_mask = mask }
#define F_OBJ(n, off_, fields, ign) \
	{ .name = n, .type = FT_OBJECT, .off = off_, .sub = fields, .ignored = ign }
#define F_END			{ .name = NULL }

/* Largest integer a double holds exactly: bigger byte counts are not sane. */
#define U64_JSON_MAX	9007199254740992.0

static const char *const calc_policy_names[] = { "usage", "request", "maxUsageRequest", NULL };
static const char *const suppress_names[] = { "cpuset", "cfsQuota", NULL };
static const char *const cpu_policy_names[] = { "groupIdentity", "coreSched", NULL };

static const struct field colocation_fields[] = {
	F_BOOL("enable", struct colocation_cfg, enable),
	F_INT("metricAggregateDurationSeconds", struct colocation_cfg,
	      metric_aggregate_duration_seconds, 1, INT_MAX),
	F_INT("metricReportIntervalSeconds", struct colocation_cfg,
	      metric_report_interval_seconds, 1, INT_MAX),
	F_INT("cpuReclaimThresholdPercent", struct colocation_cfg,
	      cpu_reclaim_threshold_percent, 0, 1000),
	F_INT("memoryReclaimThresholdPercent", struct colocation_cfg,
	      memory_reclaim_threshold_percent, 0, 1000),
	F_ENUM("cpuCalculatePolicy", struct colocation_cfg, cpu_calculate_policy,
	       calc_policy_names, (1u << CALC_USAGE) | (1u << CALC_MAX_USAGE_REQUEST)),
	F_ENUM("memoryCalculatePolicy", struct colocation_cfg, memory_calculate_policy,
	       calc_policy_names, 0),
	F_INT("degradeTimeMinutes", struct colocation_cfg, degrade_time_minutes, 1, INT_MAX),
	F_INT("updateTimeThresholdSeconds", struct colocation_cfg,
	      update_time_threshold_seconds, 1, INT_MAX),
	{ .name = "resourceDiffThreshold", .type = FT_DOUBLE,
	  .off = offsetof(struct colocation_cfg, resource_diff_threshold),
	  .min = 0, .max = 1, .min_excl = true },
	F_INT("midCPUThresholdPercent", struct colocation_cfg, mid_cpu_threshold_percent, 0, 100),
	F_INT("midMemoryThresholdPercent", struct colocation_cfg,
	      mid_memory_threshold_percent, 0, 100),
	F_END
};

static const char *const colocation_ignored[] = {
	"metricAggregatePolicy", "metricMemoryCollectPolicy", "midReclaimMode",
	"midUnallocatedPercent", "midStaticCPUReservedPercent",
	"midStaticMemoryReservedPercent", "batchCPUThresholdPercent",
	"batchMemoryThresholdPercent", "extensions", NULL
};

static const struct field threshold_fields[] = {
	F_BOOL("enable", struct threshold_cfg, enable),
	F_INT("cpuSuppressThresholdPercent", struct threshold_cfg,
	      cpu_suppress_threshold_percent, 0, 100),
	F_ENUM("cpuSuppressPolicy", struct threshold_cfg, cpu_suppress_policy, suppress_names, 0),
	F_OPT("cpuSuppressMinPercent", struct threshold_cfg, cpu_suppress_min_percent, 0, 100),
	F_INT("memoryEvictThresholdPercent", struct threshold_cfg,
	      memory_evict_threshold_percent, 0, 100),
	F_OPT("memoryEvictLowerPercent", struct threshold_cfg,
	      memory_evict_lower_percent, 0, 100),
	F_OPT("cpuEvictBESatisfactionLowerPercent", struct threshold_cfg,
	      cpu_evict_be_satisfaction_lower_percent, 0, 100),
	F_OPT("cpuEvictBESatisfactionUpperPercent", struct threshold_cfg,
	      cpu_evict_be_satisfaction_upper_percent, 0, 100),
	F_INT("cpuEvictBEUsageThresholdPercent", struct threshold_cfg,
	      cpu_evict_be_usage_threshold_percent, 0, 100),
	F_END
};

static const char *const threshold_ignored[] = {
	"cpuEvictTimeWindowSeconds", "cpuEvictPolicy", "cpuEvictThresholdPercent",
	"cpuEvictLowerPercent", "allocatableEvictPriorityThreshold",
	"cpuAllocatableEvictThresholdPercent", "cpuAllocatableEvictLowerPercent",
	"memoryAllocatableEvictThresholdPercent", "memoryAllocatableEvictLowerPercent", NULL
};

static const struct field cpu_qos_fields[] = {
	F_BOOL("enable", struct cpu_qos_cfg, enable),
	F_INT("groupIdentity", struct cpu_qos_cfg, group_identity, -1, 2),
	F_INT("schedIdle", struct cpu_qos_cfg, sched_idle, 0, 1),
	F_END
};

static const char *const cpu_qos_ignored[] = { "coreExpeller", NULL };

static const struct field memory_qos_fields[] = {
	F_BOOL("enable", struct memory_qos_cfg, enable),
	F_INT("minLimitPercent", struct memory_qos_cfg, min_limit_percent, 0, 100),
	F_INT("lowLimitPercent", struct memory_qos_cfg, low_limit_percent, 0, 100),
	F_INT("throttlingPercent", struct memory_qos_cfg, throttling_percent, 0, 100),
	F_END
};

static const char *const memory_qos_ignored[] = {
	"wmarkRatio", "wmarkScalePermill", "wmarkMinAdj", "pageCacheLimitEnable",
	"pageCacheLimitSync", "pageCacheLimitSize", "priorityEnable", "priority",
	"oomKillGroup", "policy", NULL
};

static const struct field resctrl_qos_fields[] = {
	F_BOOL("enable", struct resctrl_qos_cfg, enable),
	F_INT("catRangeStartPercent", struct resctrl_qos_cfg, cat_range_start_percent, 0, 100),
	F_INT("catRangeEndPercent", struct resctrl_qos_cfg, cat_range_end_percent, 0, 100),
	F_INT("mbaPercent", struct resctrl_qos_cfg, mba_percent, 0, 100),
	F_END
};

static const struct field class_fields[] = {
	F_OBJ("cpuQOS", offsetof(struct qos_class_cfg, cpu), cpu_qos_fields, cpu_qos_ignored),
	F_OBJ("memoryQOS", offsetof(struct qos_class_cfg, memory), memory_qos_fields,
	      memory_qos_ignored),
	F_OBJ("resctrlQOS", offsetof(struct qos_class_cfg, resctrl), resctrl_qos_fields, NULL),
	F_END
};

static const char *const class_ignored[] = { "blkioQOS", "networkQOS", NULL };

static const struct field policies_fields[] = {
	F_ENUM("cpuPolicy", struct qos_cfg, cpu_policy, cpu_policy_names, 0),
	F_END
};

static const char *const policies_ignored[] = { "netQOSPolicy", NULL };

static const struct field qos_fields[] = {
	F_OBJ("policies", 0, policies_fields, policies_ignored),
	F_OBJ("lsrClass", offsetof(struct qos_cfg, cls[QOS_LSR]), class_fields, class_ignored),
	F_OBJ("lsClass", offsetof(struct qos_cfg, cls[QOS_LS]), class_fields, class_ignored),
	F_OBJ("beClass", offsetof(struct qos_cfg, cls[QOS_BE]), class_fields, class_ignored),
	F_OBJ("systemClass", offsetof(struct qos_cfg, cls[QOS_SYSTEM]), class_fields,
	      class_ignored),
	F_END
};

static const char *const qos_ignored[] = { "cgroupRoot", NULL };

static const struct field own_fields[] = {
	F_U64("lsLatencyTargetUs", struct colod_own_cfg, ls_latency_target_us, 1, 10000000),
	F_U64("breachMinIntervalMs", struct colod_own_cfg, breach_min_interval_ms, 0, 60000),
	F_U64("cutVerdictWindowMs", struct colod_own_cfg, cut_verdict_window_ms, 0, 60000),
	F_U64("beSchedSliceUs", struct colod_own_cfg, be_sched_slice_us, 0, CONFIG_BE_SLICE_MAX_US),
	F_U64("nodeCPUCapacityMilli", struct colod_own_cfg, node_cpu_capacity_milli, 0, 1e9),
	F_U64("nodeMemoryCapacityBytes", struct colod_own_cfg, node_memory_capacity_bytes,
	      0, U64_JSON_MAX),
	{ .name = "kubeletCgroupRoot", .type = FT_STRING,
	  .off = offsetof(struct colod_own_cfg, kubelet_cgroup_root), .size = CLASSIFY_GLOB_MAX },
	F_END
};

static const struct field rule_fields[] = {
	{ .name = "match", .type = FT_STRING, .off = offsetof(struct classify_rule, glob),
	  .size = CLASSIFY_GLOB_MAX },
	{ .name = "class", .type = FT_ENUM, .off = offsetof(struct classify_rule, cls),
	  .enums = class_names, .icase = true },
	F_U64("latencyTargetUs", struct classify_rule, latency_target_us, 0, 10000000),
	F_U64("cpuRequestMilli", struct classify_rule, cpu_request_milli, 0, 1e9),
	F_U64("memoryRequestBytes", struct classify_rule, memory_request_bytes, 0, U64_JSON_MAX),
	F_END
};

/* Keys of Koordinator's ConfigMap that colod does not use: no warning. */
static const char *const koord_keys_ignored[] = {
	"cpu-burst-config", "system-config", "host-application-config",
	"cpu-normalization-config", "resource-amplification-config", NULL
};

static bool in_list(const char *const *list, const char *name)
{
	for (; list && *list; list++)
		if (!strcasecmp(*list, name))
			return true;
	return false;
}

/* ---- applying JSON to a struct ------------------------------------------ */

static void expect_range(const struct field *f, char *buf, size_t n)
{
	const char *what = f->type == FT_DOUBLE ? "a number" : "an integer";
	char lo[32], hi[32];

	format_number(f->min, lo, sizeof(lo));
	format_number(f->max, hi, sizeof(hi));
	snprintf(buf, n, "%s in %c%s, %s]", what, f->min_excl ? '(' : '[', lo, hi);
}

static void expect_enum(const struct field *f, char *buf, size_t n)
{
	size_t len = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; f->enums[i]; i++) {
		if (f->enum_mask && !(f->enum_mask & (1u << i)))
			continue;
		len += snprintf(buf + len, n > len ? n - len : 0, "%s\"%s\"",
				len ? " or " : "one of ", f->enums[i]);
		if (len >= n)
			break;
	}
}

static int enum_lookup(const struct field *f, const char *s)
{
	int i;

	for (i = 0; f->enums[i]; i++) {
		if (f->enum_mask && !(f->enum_mask & (1u << i)))
			continue;
		if (f->icase ? !strcasecmp(s, f->enums[i]) : !strcmp(s, f->enums[i]))
			return i;
	}
	return -1;
}

static void apply_number(struct pctx *ctx, const struct field *f, const cJSON *v, char *base)
{
	char exp[96];
	double d = v->valuedouble;
	bool integral = f->type != FT_DOUBLE;
	bool ok = cJSON_IsNumber(v) && isfinite(d) && d <= f->max &&
		  (f->min_excl ? d > f->min : d >= f->min) && (!integral || d == floor(d));

	if (!ok) {
		expect_range(f, exp, sizeof(exp));
		ctx_bad(ctx, v, exp);
		return;
	}
	if (f->type == FT_INT)
		*(int *)(base + f->off) = (int)d;
	else if (f->type == FT_U64)
		*(uint64_t *)(base + f->off) = (uint64_t)d;
	else
		*(double *)(base + f->off) = d;
}

static void apply_object(struct pctx *ctx, const cJSON *obj, const struct field *fields,
			 const char *const *ignored, const char *const *skip, char *base);

static void apply_field(struct pctx *ctx, const struct field *f, const cJSON *v, char *base)
{
	char exp[160];
	int e;

	if (cJSON_IsNull(v))	/* Go: a nil pointer, the field is not set */
		return;
	switch (f->type) {
	case FT_BOOL:
		if (!cJSON_IsBool(v))
			ctx_bad(ctx, v, "a boolean (true or false)");
		else
			*(bool *)(base + f->off) = cJSON_IsTrue(v);
		break;
	case FT_INT:
	case FT_U64:
	case FT_DOUBLE:
		apply_number(ctx, f, v, base);
		break;
	case FT_ENUM:
		e = cJSON_IsString(v) ? enum_lookup(f, v->valuestring) : -1;
		if (e < 0) {
			expect_enum(f, exp, sizeof(exp));
			ctx_bad(ctx, v, exp);
		} else {
			*(int *)(base + f->off) = e;
		}
		break;
	case FT_STRING:
		if (!cJSON_IsString(v) || !v->valuestring[0] ||
		    strlen(v->valuestring) >= f->size) {
			snprintf(exp, sizeof(exp), "a non-empty string of at most %zu bytes",
				 f->size - 1);
			ctx_bad(ctx, v, exp);
		} else {
			memset(base + f->off, 0, f->size);
			memcpy(base + f->off, v->valuestring, strlen(v->valuestring));
		}
		break;
	case FT_OBJECT:
		if (!cJSON_IsObject(v))
			ctx_bad(ctx, v, "an object");
		else
			apply_object(ctx, v, f->sub, f->ignored, NULL, base + f->off);
		break;
	}
}

static const struct field *find_field(const struct field *fields, const char *name)
{
	for (; fields->name; fields++)
		if (!strcasecmp(fields->name, name))	/* as Go's encoding/json */
			return fields;
	return NULL;
}

/*
 * Apply every member of obj that fields describes; members named in skip
 * are the caller's, those in ignored are Koordinator's and unused here,
 * anything else is warned about.
 */
static void apply_object(struct pctx *ctx, const cJSON *obj, const struct field *fields,
			 const char *const *ignored, const char *const *skip, char *base)
{
	const cJSON *m;

	cJSON_ArrayForEach(m, obj) {
		const struct field *f = find_field(fields, m->string);
		size_t old = path_push(ctx, m->string);

		if (f)
			apply_field(ctx, f, m, base);
		else if (!in_list(skip, m->string) && !in_list(ignored, m->string))
			config_warn(ctx->errs, "%s: %s: unknown key, ignored", ctx->file, ctx->path);
		path_pop(ctx, old);
	}
}

/* ---- node selectors ------------------------------------------------------- */

const char *node_labels_get(const struct node_labels *labels, const char *key)
{
	int i;

	for (i = 0; labels && i < labels->nr; i++)
		if (!strcmp(labels->l[i].key, key))
			return labels->l[i].value;
	return NULL;
}

static bool string_in_array(const cJSON *arr, const char *s)
{
	const cJSON *v;

	cJSON_ArrayForEach(v, arr)
		if (cJSON_IsString(v) && !strcmp(v->valuestring, s))
			return true;
	return false;
}

static bool match_labels(struct pctx *ctx, const cJSON *ml, const struct node_labels *labels)
{
	const cJSON *v;
	bool match = true;

	if (!cJSON_IsObject(ml)) {
		ctx_bad(ctx, ml, "an object of label key to value");
		return false;
	}
	cJSON_ArrayForEach(v, ml) {
		size_t old = path_push(ctx, v->string);
		const char *have = node_labels_get(labels, v->string);

		if (!cJSON_IsString(v))
			ctx_bad(ctx, v, "a string");
		else if (!have || strcmp(have, v->valuestring))
			match = false;
		path_pop(ctx, old);
	}
	return match;
}

static const char *const selector_ops[] = { "In", "NotIn", "Exists", "DoesNotExist", NULL };

static bool match_expression(struct pctx *ctx, const cJSON *e, const struct node_labels *labels)
{
	const cJSON *key = cJSON_GetObjectItemCaseSensitive(e, "key");
	const cJSON *op = cJSON_GetObjectItemCaseSensitive(e, "operator");
	const cJSON *vals = cJSON_GetObjectItemCaseSensitive(e, "values");
	const cJSON *v;
	const char *have;
	size_t old;
	int o = -1, i;

	if (!cJSON_IsObject(e)) {
		ctx_bad(ctx, e, "an object with key, operator and values");
		return false;
	}
	for (i = 0; selector_ops[i]; i++)
		if (cJSON_IsString(op) && !strcmp(op->valuestring, selector_ops[i]))
			o = i;
	old = path_push(ctx, "key");
	if (!cJSON_IsString(key) || !key->valuestring[0])
		ctx_bad(ctx, key, "a non-empty string");
	path_pop(ctx, old);
	old = path_push(ctx, "operator");
	if (o < 0)
		ctx_bad(ctx, op, "one of \"In\", \"NotIn\", \"Exists\", \"DoesNotExist\"");
	path_pop(ctx, old);
	old = path_push(ctx, "values");
	if (vals && !cJSON_IsNull(vals) && !cJSON_IsArray(vals))
		ctx_bad(ctx, vals, "an array of strings");
	else if ((o == 0 || o == 1) && cJSON_GetArraySize(vals) == 0)
		ctx_bad(ctx, vals, "a non-empty array of strings for In and NotIn");
	else if ((o == 2 || o == 3) && cJSON_GetArraySize(vals) != 0)
		ctx_bad(ctx, vals, "no values for Exists and DoesNotExist");
	cJSON_ArrayForEach(v, vals) {
		if (!cJSON_IsString(v)) {
			ctx_bad(ctx, v, "a string");
			break;
		}
	}
	path_pop(ctx, old);
	cJSON_ArrayForEach(v, e) {
		if (strcmp(v->string, "key") && strcmp(v->string, "operator") &&
		    strcmp(v->string, "values")) {
			old = path_push(ctx, v->string);
			config_warn(ctx->errs, "%s: %s: unknown key, ignored", ctx->file, ctx->path);
			path_pop(ctx, old);
		}
	}
	if (o < 0 || !cJSON_IsString(key))
		return false;
	have = node_labels_get(labels, key->valuestring);
	switch (o) {
	case 0: return have && string_in_array(vals, have);
	case 1: return !have || !string_in_array(vals, have);
	case 2: return have != NULL;
	default: return have == NULL;
	}
}

/* A metav1.LabelSelector: empty matches every node, absent matches none. */
static bool match_selector(struct pctx *ctx, const cJSON *sel, const struct node_labels *labels)
{
	const cJSON *m, *e, *exprs;
	bool match = true;
	size_t old;
	int i = 0;

	if (!cJSON_IsObject(sel)) {
		ctx_bad(ctx, sel, "an object (a label selector)");
		return false;
	}
	cJSON_ArrayForEach(m, sel) {
		old = path_push(ctx, m->string);
		if (!strcmp(m->string, "matchLabels")) {
			if (!cJSON_IsNull(m) && !match_labels(ctx, m, labels))
				match = false;
		} else if (!strcmp(m->string, "matchExpressions")) {
			if (!cJSON_IsNull(m) && !cJSON_IsArray(m)) {
				ctx_bad(ctx, m, "an array of label selector requirements");
				match = false;
			}
			i = 0;
			exprs = cJSON_IsArray(m) ? m : NULL;
			cJSON_ArrayForEach(e, exprs) {
				size_t o2 = path_push_index(ctx, i++);

				if (!match_expression(ctx, e, labels))
					match = false;
				path_pop(ctx, o2);
			}
		} else {
			config_warn(ctx->errs, "%s: %s: unknown key, ignored", ctx->file, ctx->path);
		}
		path_pop(ctx, old);
	}
	return match;
}

/* ---- keys ----------------------------------------------------------------- */

union strategy_buf {
	struct colocation_cfg colocation;
	struct threshold_cfg threshold;
	struct qos_cfg qos;
};

struct key_desc {
	const char *key;
	size_t off, size;		/* the strategy in struct colod_config */
	const struct field *fields;
	const char *const *ignored;
	bool wrapped;			/* clusterStrategy + nodeStrategies */
	const char *nodes_name;		/* "nodeStrategies" / "nodeConfigs" / NULL */
	void (*check)(struct pctx *ctx, const void *strategy);
};

static void check_threshold(struct pctx *ctx, const void *p)
{
	const struct threshold_cfg *t = p;
	int lo = t->cpu_evict_be_satisfaction_lower_percent;
	int hi = t->cpu_evict_be_satisfaction_upper_percent;

	if (t->memory_evict_lower_percent != CONFIG_UNSET &&
	    t->memory_evict_lower_percent >= t->memory_evict_threshold_percent)
		config_error(ctx->errs, "%s: %s.memoryEvictLowerPercent: found %d, expected "
			     "less than memoryEvictThresholdPercent (%d)", ctx->file, ctx->path,
			     t->memory_evict_lower_percent, t->memory_evict_threshold_percent);
	if (lo != CONFIG_UNSET && hi != CONFIG_UNSET && lo >= hi)
		config_error(ctx->errs, "%s: %s.cpuEvictBESatisfactionLowerPercent: found %d, "
			     "expected less than cpuEvictBESatisfactionUpperPercent (%d)",
			     ctx->file, ctx->path, lo, hi);
	else if (lo != CONFIG_UNSET && hi != CONFIG_UNSET && (lo == 0 || lo > 60 || hi >= 100))
		config_warn(ctx->errs, "%s: %s: koordlet needs cpuEvictBESatisfactionLowerPercent "
			    "in (0, 60] and cpuEvictBESatisfactionUpperPercent in (0, 100) "
			    "(found %d and %d): BE eviction by satisfaction stays off",
			    ctx->file, ctx->path, lo, hi);
	else if ((lo == CONFIG_UNSET) != (hi == CONFIG_UNSET))
		config_warn(ctx->errs, "%s: %s: only one of cpuEvictBESatisfactionLowerPercent "
			    "and cpuEvictBESatisfactionUpperPercent is set: BE eviction by "
			    "satisfaction stays off", ctx->file, ctx->path);
}

static void check_qos(struct pctx *ctx, const void *p)
{
	const struct qos_cfg *q = p;
	int i;

	for (i = 0; i < QOS_NR; i++) {
		const struct resctrl_qos_cfg *r = &q->cls[i].resctrl;

		if (r->cat_range_start_percent >= r->cat_range_end_percent)
			config_error(ctx->errs, "%s: %s.%s.resctrlQOS.catRangeStartPercent: found "
				     "%d, expected less than catRangeEndPercent (%d)", ctx->file,
				     ctx->path, qos_class_key(i), r->cat_range_start_percent,
				     r->cat_range_end_percent);
	}
}

/*
 * kubeletCgroupRoot: an absolute cgroup path, no "." or ".." in it.
 * beSchedSliceUs: 0, or longer than any other task's slice (the kernel's
 * default is at most 3 ms), or BE would preempt them at wake-up.
 */
static void check_own(struct pctx *ctx, const void *p)
{
	const struct colod_own_cfg *own = p;
	const char *root = own->kubelet_cgroup_root;
	const char *c;

	if (own->be_sched_slice_us && own->be_sched_slice_us < CONFIG_BE_SLICE_MIN_US)
		config_error(ctx->errs, "%s: %s.beSchedSliceUs: found %" PRIu64 ", expected 0 "
			     "(off) or %u to %u: a BE slice shorter than the others' lets BE "
			     "preempt them", ctx->file, ctx->path, own->be_sched_slice_us,
			     CONFIG_BE_SLICE_MIN_US, CONFIG_BE_SLICE_MAX_US);

	for (c = root; *c == '/'; ) {
		while (*c == '/')
			c++;
		if ((c[0] == '.' && (!c[1] || c[1] == '/')) ||
		    (c[0] == '.' && c[1] == '.' && (!c[2] || c[2] == '/')))
			break;
		c = strchrnul(c, '/');
	}
	if (*c)
		config_error(ctx->errs, "%s: %s.kubeletCgroupRoot: found \"%.64s\", expected a "
			     "cgroup path starting with / (kubelet's --cgroup-root, e.g. / or "
			     "/kubelet.slice) without . or ..", ctx->file, ctx->path, root);
}

int config_memory_evict_lower(const struct threshold_cfg *t)
{
	/* koordlet releases memory down to threshold - 2 when lower is unset */
	if (t->memory_evict_lower_percent != CONFIG_UNSET)
		return t->memory_evict_lower_percent;
	return t->memory_evict_threshold_percent >= 2 ? t->memory_evict_threshold_percent - 2 : 0;
}

static const struct key_desc key_descs[] = {
	[CFG_COLOCATION] = {
		.key = CONFIG_KEY_COLOCATION,
		.off = offsetof(struct colod_config, colocation),
		.size = sizeof(struct colocation_cfg),
		.fields = colocation_fields, .ignored = colocation_ignored,
		.nodes_name = "nodeConfigs",
	},
	[CFG_THRESHOLD] = {
		.key = CONFIG_KEY_THRESHOLD,
		.off = offsetof(struct colod_config, threshold),
		.size = sizeof(struct threshold_cfg),
		.fields = threshold_fields, .ignored = threshold_ignored,
		.wrapped = true, .nodes_name = "nodeStrategies",
		.check = check_threshold,
	},
	[CFG_QOS] = {
		.key = CONFIG_KEY_QOS,
		.off = offsetof(struct colod_config, qos),
		.size = sizeof(struct qos_cfg),
		.fields = qos_fields, .ignored = qos_ignored,
		.wrapped = true, .nodes_name = "nodeStrategies",
		.check = check_qos,
	},
	[CFG_COLOD] = {
		.key = CONFIG_KEY_COLOD,
		.off = offsetof(struct colod_config, own),
		.size = sizeof(struct colod_own_cfg),
		.fields = own_fields,
		.check = check_own,
	},
};

int config_key_index(const char *key)
{
	int i;

	for (i = 0; i < CFG_NR_KEYS; i++)
		if (!strcmp(key, key_descs[i].key))
			return i;
	return -1;
}

static void run_check(const struct key_desc *d, struct pctx *ctx, const void *s)
{
	if (d->check)
		d->check(ctx, s);
}

/* One entry of nodeStrategies/nodeConfigs; true if it applies to this node. */
static bool parse_node_strategy(const struct key_desc *d, struct pctx *ctx, const cJSON *e,
				const struct node_labels *labels, void *scratch, bool check)
{
	static const char *const profile[] = { "name", "nodeSelector", NULL };
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(e, "name");
	const cJSON *sel = cJSON_GetObjectItemCaseSensitive(e, "nodeSelector");
	bool match = false;
	size_t old;

	if (!cJSON_IsObject(e)) {
		ctx_bad(ctx, e, "an object (a node strategy)");
		return false;
	}
	old = path_push(ctx, "name");
	if (name && !cJSON_IsString(name) && !cJSON_IsNull(name))
		ctx_bad(ctx, name, "a string");
	path_pop(ctx, old);
	old = path_push(ctx, "nodeSelector");
	if (!sel || cJSON_IsNull(sel))
		config_warn(ctx->errs, "%s: %s: missing: this node strategy matches no node",
			    ctx->file, ctx->path);
	else
		match = match_selector(ctx, sel, labels);
	path_pop(ctx, old);
	apply_object(ctx, e, d->fields, d->ignored, profile, scratch);
	if (check)
		run_check(d, ctx, scratch);
	return match;
}

static void parse_node_strategies(const struct key_desc *d, struct pctx *ctx, const cJSON *arr,
				  const struct node_labels *labels, void *strategy, char *matched,
				  bool check)
{
	union strategy_buf chosen, scratch;
	const cJSON *e;
	bool found = false;
	int i = 0;

	if (!cJSON_IsArray(arr)) {
		ctx_bad(ctx, arr, "an array of node strategies");
		return;
	}
	cJSON_ArrayForEach(e, arr) {
		size_t old = path_push_index(ctx, i++);
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(e, "name");

		/* every entry is validated; the first match wins, as in Koordinator */
		memcpy(&scratch, strategy, d->size);
		if (parse_node_strategy(d, ctx, e, labels, &scratch, check) && !found) {
			found = true;
			memcpy(&chosen, &scratch, d->size);
			snprintf(matched, 64, "%.63s", cJSON_IsString(name) && name->valuestring[0] ?
				 name->valuestring : ctx->path);
		}
		path_pop(ctx, old);
	}
	if (found)
		memcpy(strategy, &chosen, d->size);
}

static void parse_rules(struct pctx *ctx, const cJSON *arr, struct colod_own_cfg *own)
{
	const cJSON *e;
	int i = 0;

	if (cJSON_IsNull(arr))
		return;
	if (!cJSON_IsArray(arr)) {
		ctx_bad(ctx, arr, "an array of classification rules");
		return;
	}
	if (cJSON_GetArraySize(arr) > CLASSIFY_MAX_RULES) {
		char exp[64];

		snprintf(exp, sizeof(exp), "at most %d rules", CLASSIFY_MAX_RULES);
		config_error(ctx->errs, "%s: %s: found %d rules, expected %s", ctx->file,
			     ctx->path, cJSON_GetArraySize(arr), exp);
		return;
	}
	memset(own->rules, 0, sizeof(own->rules));
	own->nr_rules = 0;
	cJSON_ArrayForEach(e, arr) {
		struct classify_rule *r = &own->rules[i];
		size_t old = path_push_index(ctx, i++);

		r->cls = COLOD_CLASS_NR;	/* "class" is required */
		if (!cJSON_IsObject(e)) {
			ctx_bad(ctx, e, "an object with match and class");
		} else {
			apply_object(ctx, e, rule_fields, NULL, NULL, (char *)r);
			if (!r->glob[0] && !cJSON_GetObjectItem(e, "match"))
				config_error(ctx->errs, "%s: %s.match: found nothing, expected a "
					     "glob over the cgroup path (required)", ctx->file,
					     ctx->path);
			if (r->cls == COLOD_CLASS_NR && !cJSON_GetObjectItem(e, "class"))
				config_error(ctx->errs, "%s: %s.class: found nothing, expected "
					     "one of \"LS\" or \"BE\" or \"SYSTEM\" (required)",
					     ctx->file, ctx->path);
			if (r->cls != COLOD_CLASS_LS && r->cls != COLOD_CLASS_NR &&
			    (r->latency_target_us || r->cpu_request_milli ||
			     r->memory_request_bytes))
				config_warn(ctx->errs, "%s: %s: latency target and requests only "
					    "apply to LS rules, ignored", ctx->file, ctx->path);
		}
		if (r->cls == COLOD_CLASS_NR)
			r->cls = COLOD_CLASS_SYSTEM;
		path_pop(ctx, old);
	}
	own->nr_rules = i;
}

/* Apply one key's parsed JSON onto cfg (a scratch copy owned by the caller). */
static void apply_key(const struct key_desc *d, int idx, struct pctx *ctx, const cJSON *root,
		      const struct node_labels *labels, struct colod_config *cfg)
{
	static const char *const wrapped_skip[] = { "clusterStrategy", "nodeStrategies", NULL };
	const char *skip[] = { d->nodes_name, idx == CFG_COLOD ? "classificationRules" : NULL,
			       NULL };
	char *strategy = (char *)cfg + d->off;
	const cJSON *nodes = NULL, *m;
	bool check_nodes;
	int before;
	size_t old;

	if (!cJSON_IsObject(root)) {
		ctx_bad(ctx, root, "a JSON object");
		return;
	}
	if (d->wrapped) {
		cJSON_ArrayForEach(m, root) {
			old = path_push(ctx, m->string);
			if (!strcmp(m->string, "clusterStrategy"))
				apply_field(ctx, &(struct field)F_OBJ("", 0, d->fields, d->ignored),
					    m, strategy);
			else if (!in_list(wrapped_skip, m->string))
				config_warn(ctx->errs, "%s: %s: unknown key, ignored", ctx->file,
					    ctx->path);
			path_pop(ctx, old);
		}
	} else {
		apply_object(ctx, root, d->fields, d->ignored, skip[0] ? skip : skip + 1, strategy);
	}
	before = ctx->errs->nr_errors;
	old = ctx->len;
	if (d->wrapped)
		path_push(ctx, "clusterStrategy");
	run_check(d, ctx, strategy);
	path_pop(ctx, old);
	/* a cluster-level cross-field error would repeat for every node strategy */
	check_nodes = ctx->errs->nr_errors == before;
	if (idx == CFG_COLOD) {
		old = path_push(ctx, "classificationRules");
		m = cJSON_GetObjectItemCaseSensitive(root, "classificationRules");
		if (m)
			parse_rules(ctx, m, &cfg->own);
		path_pop(ctx, old);
	}
	if (d->nodes_name)
		nodes = cJSON_GetObjectItemCaseSensitive(root, d->nodes_name);
	cfg->node_strategy[idx][0] = '\0';
	if (nodes && !cJSON_IsNull(nodes)) {
		old = path_push(ctx, d->nodes_name);
		parse_node_strategies(d, ctx, nodes, labels, strategy, cfg->node_strategy[idx],
				      check_nodes);
		path_pop(ctx, old);
	}
}

static bool is_blank(const char *s)
{
	for (; *s; s++)
		if (!isspace((unsigned char)*s))
			return false;
	return true;
}

/* Parse text as JSON, reporting where it breaks. NULL on error. */
static cJSON *parse_json(struct pctx *ctx, const char *text)
{
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithOpts(text, &end, true);
	int line = 1, col = 1;
	const char *p;

	if (root)
		return root;
	if (!end || end < text || end > text + strlen(text))
		end = text;
	for (p = text; p < end; p++) {
		if (*p == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	/* quote what follows the error up to the end of its line */
	for (p = end; *p && *p != '\n' && *p != '\r' && p - end < 24; p++)
		;
	if (p == end)
		config_error(ctx->errs, "%s: %s: invalid JSON at line %d, column %d: found the "
			     "end of the text, expected a complete JSON object", ctx->file,
			     ctx->path, line, col);
	else
		config_error(ctx->errs, "%s: %s: invalid JSON at line %d, column %d: found "
			     "\"%.*s\", expected a JSON object", ctx->file, ctx->path, line, col,
			     (int)(p - end), end);
	return NULL;
}

static int parse_key_text(int idx, struct pctx *ctx, const char *text,
			  const struct node_labels *labels, struct colod_config *cfg)
{
	cJSON *root;

	if (is_blank(text)) {
		config_warn(ctx->errs, "%s: %s: empty, defaults apply", ctx->file, ctx->path);
		return 0;
	}
	root = parse_json(ctx, text);
	if (!root)
		return -EINVAL;
	apply_key(&key_descs[idx], idx, ctx, root, labels, cfg);
	cJSON_Delete(root);
	return 0;
}

static void ctx_init(struct pctx *ctx, const char *file, struct config_errors *errs)
{
	ctx->file = file ? file : "(config)";
	ctx->errs = errs;
	snprintf(ctx->path, sizeof(ctx->path), "$");
	ctx->len = 1;
}

int config_parse_key(const char *key, const char *json_text, const char *file_name,
		     const struct node_labels *labels, struct colod_config *inout,
		     struct config_errors *errs)
{
	int idx = config_key_index(key);
	int before = errs->nr_errors;
	struct colod_config *tmp;
	struct pctx ctx;

	ctx_init(&ctx, file_name ? file_name : key, errs);
	if (idx < 0) {
		if (!in_list(koord_keys_ignored, key))
			config_warn(errs, "%s: unknown key \"%s\", ignored", ctx.file, key);
		return 0;
	}
	tmp = malloc(sizeof(*tmp));
	if (!tmp) {
		config_error(errs, "%s: out of memory", ctx.file);
		return -ENOMEM;
	}
	*tmp = *inout;
	parse_key_text(idx, &ctx, json_text, labels, tmp);
	if (errs->nr_errors == before)
		*inout = *tmp;
	free(tmp);
	return errs->nr_errors == before ? 0 : -EINVAL;
}

/* A document member: an object, or a string holding the key's JSON. */
static void parse_member(struct pctx *ctx, const cJSON *m, const struct node_labels *labels,
			 struct colod_config *cfg)
{
	int idx = config_key_index(m->string);

	if (idx < 0) {
		if (!in_list(koord_keys_ignored, m->string))
			config_warn(ctx->errs, "%s: %s: unknown key, ignored", ctx->file,
				    ctx->path);
		return;
	}
	if (cJSON_IsString(m))
		parse_key_text(idx, ctx, m->valuestring, labels, cfg);
	else if (cJSON_IsObject(m))
		apply_key(&key_descs[idx], idx, ctx, m, labels, cfg);
	else if (!cJSON_IsNull(m))
		ctx_bad(ctx, m, "an object, or a string holding a JSON object");
}

int config_parse_document(const char *json_text, const char *file_name,
			  const struct node_labels *labels, struct colod_config *out,
			  struct config_errors *errs)
{
	int before = errs->nr_errors;
	struct colod_config *tmp;
	const cJSON *m, *data;
	struct pctx ctx;
	cJSON *root;

	ctx_init(&ctx, file_name, errs);
	root = parse_json(&ctx, json_text);
	if (!root)
		return -EINVAL;
	tmp = malloc(sizeof(*tmp));
	if (!tmp) {
		cJSON_Delete(root);
		config_error(errs, "%s: out of memory", ctx.file);
		return -ENOMEM;
	}
	config_defaults(tmp);
	data = root;
	/* a whole ConfigMap, as `kubectl get cm -o json` prints it */
	m = cJSON_GetObjectItemCaseSensitive(root, "kind");
	if (cJSON_IsString(m) && !strcmp(m->valuestring, "ConfigMap")) {
		data = cJSON_GetObjectItemCaseSensitive(root, "data");
		path_push(&ctx, "data");
	}
	if (!cJSON_IsObject(data)) {
		ctx_bad(&ctx, data, "a JSON object whose members are ConfigMap keys");
	} else {
		size_t base = ctx.len;

		cJSON_ArrayForEach(m, data) {
			path_push(&ctx, m->string);
			parse_member(&ctx, m, labels, tmp);
			path_pop(&ctx, base);
		}
	}
	if (errs->nr_errors == before)
		*out = *tmp;
	free(tmp);
	cJSON_Delete(root);
	return errs->nr_errors == before ? 0 : -EINVAL;
}

/* ---- defaults ------------------------------------------------------------- */

static void qos_class_defaults(struct qos_class_cfg *c, enum qos_class_idx i)
{
	c->cpu.enable = false;
	c->cpu.group_identity = i == QOS_BE ? -1 : i == QOS_SYSTEM ? 0 : 2;
	c->cpu.sched_idle = 0;
	c->memory.enable = false;
	c->memory.min_limit_percent = 0;
	c->memory.low_limit_percent = 0;
	c->memory.throttling_percent = 0;
	c->resctrl.enable = false;
	c->resctrl.cat_range_start_percent = 0;
	c->resctrl.cat_range_end_percent = i == QOS_BE ? 30 : 100;
	c->resctrl.mba_percent = 100;
}

void config_defaults(struct colod_config *c)
{
	int i;

	memset(c, 0, sizeof(*c));
	c->colocation = (struct colocation_cfg) {
		.enable = false,
		.metric_aggregate_duration_seconds = 300,
		.metric_report_interval_seconds = 60,
		.cpu_reclaim_threshold_percent = 60,
		.memory_reclaim_threshold_percent = 65,
		.cpu_calculate_policy = CALC_USAGE,
		.memory_calculate_policy = CALC_USAGE,
		.degrade_time_minutes = 15,
		.update_time_threshold_seconds = 300,
		.resource_diff_threshold = 0.1,
		.mid_cpu_threshold_percent = 100,
		.mid_memory_threshold_percent = 100,
	};
	c->threshold = (struct threshold_cfg) {
		.enable = false,
		.cpu_suppress_threshold_percent = 65,
		.cpu_suppress_policy = SUPPRESS_CPUSET,
		.cpu_suppress_min_percent = CONFIG_UNSET,
		.memory_evict_threshold_percent = 70,
		.memory_evict_lower_percent = CONFIG_UNSET,
		.cpu_evict_be_satisfaction_lower_percent = CONFIG_UNSET,
		.cpu_evict_be_satisfaction_upper_percent = CONFIG_UNSET,
		.cpu_evict_be_usage_threshold_percent = 90,
	};
	c->qos.cpu_policy = CPU_QOS_GROUP_IDENTITY;
	for (i = 0; i < QOS_NR; i++)
		qos_class_defaults(&c->qos.cls[i], i);
	c->own.ls_latency_target_us = 2000;
	c->own.breach_min_interval_ms = 2;
	c->own.cut_verdict_window_ms = 2000;
	c->own.be_sched_slice_us = 0;
	c->own.node_cpu_capacity_milli = 0;
	c->own.node_memory_capacity_bytes = 0;
	snprintf(c->own.kubelet_cgroup_root, sizeof(c->own.kubelet_cgroup_root), "%s",
		 CLASSIFY_KUBELET_ROOT_DEFAULT);
	c->own.nr_rules = 0;
}

/* ---- printing --------------------------------------------------------------- */

static cJSON *emit_object(const struct field *fields, const char *base)
{
	cJSON *o = cJSON_CreateObject();
	int v;

	for (; o && fields->name; fields++) {
		const char *p = base + fields->off;

		switch (fields->type) {
		case FT_BOOL:
			cJSON_AddBoolToObject(o, fields->name, *(const bool *)p);
			break;
		case FT_INT:
			if (fields->optional && *(const int *)p == CONFIG_UNSET)
				break;
			cJSON_AddNumberToObject(o, fields->name, *(const int *)p);
			break;
		case FT_U64:
			cJSON_AddNumberToObject(o, fields->name, (double)*(const uint64_t *)p);
			break;
		case FT_DOUBLE:
			cJSON_AddNumberToObject(o, fields->name, *(const double *)p);
			break;
		case FT_ENUM:
			v = *(const int *)p;
			if (v >= 0 && v < 8 && fields->enums[v])
				cJSON_AddStringToObject(o, fields->name, fields->enums[v]);
			break;
		case FT_STRING:
			cJSON_AddStringToObject(o, fields->name, p);
			break;
		case FT_OBJECT:
			cJSON_AddItemToObject(o, fields->name, emit_object(fields->sub, p));
			break;
		}
	}
	return o;
}

char *config_to_json(const struct colod_config *c)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *wrap, *own, *rules;
	char *out = NULL;
	int i;

	if (!root)
		return NULL;
	cJSON_AddItemToObject(root, CONFIG_KEY_COLOCATION,
			      emit_object(colocation_fields, (const char *)&c->colocation));
	wrap = cJSON_AddObjectToObject(root, CONFIG_KEY_THRESHOLD);
	cJSON_AddItemToObject(wrap, "clusterStrategy",
			      emit_object(threshold_fields, (const char *)&c->threshold));
	wrap = cJSON_AddObjectToObject(root, CONFIG_KEY_QOS);
	cJSON_AddItemToObject(wrap, "clusterStrategy",
			      emit_object(qos_fields, (const char *)&c->qos));
	own = emit_object(own_fields, (const char *)&c->own);
	cJSON_AddItemToObject(root, CONFIG_KEY_COLOD, own);
	rules = cJSON_AddArrayToObject(own, "classificationRules");
	for (i = 0; rules && i < c->own.nr_rules && i < CLASSIFY_MAX_RULES; i++)
		cJSON_AddItemToArray(rules, emit_object(rule_fields, (const char *)&c->own.rules[i]));
	out = cJSON_Print(root);
	cJSON_Delete(root);
	return out;
}

const char *calc_policy_name(enum calc_policy p)
{
	return (unsigned int)p <= CALC_MAX_USAGE_REQUEST ? calc_policy_names[p] : "?";
}

const char *cpu_suppress_policy_name(enum cpu_suppress_policy p)
{
	return (unsigned int)p <= SUPPRESS_CFS_QUOTA ? suppress_names[p] : "?";
}

const char *cpu_qos_policy_name(enum cpu_qos_policy p)
{
	return (unsigned int)p <= CPU_QOS_CORE_SCHED ? cpu_policy_names[p] : "?";
}

const char *qos_class_key(enum qos_class_idx i)
{
	static const char *const keys[] = { "lsrClass", "lsClass", "beClass", "systemClass" };

	return (unsigned int)i < QOS_NR ? keys[i] : "?";
}

/* ---- files -------------------------------------------------------------------- */

/* What a non-regular file is, for the message that refuses it. */
static const char *file_kind(const char *path)
{
	struct stat st;

	if (stat(path, &st))
		return "not a regular file";
	if (S_ISFIFO(st.st_mode))
		return "a FIFO";
	if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
		return "a device";
	if (S_ISSOCK(st.st_mode))
		return "a socket";
	if (S_ISDIR(st.st_mode))
		return "a directory";
	return "not a regular file";
}

static void io_error(struct config_errors *errs, const char *path, int err)
{
	if (err == -EINVAL)	/* file_read_regular() */
		config_error(errs, "%s: %s, refused: a ConfigMap key must be a regular file",
			     path, file_kind(path));
	else if (err == -EFBIG)
		config_error(errs, "%s: larger than %d bytes, expected a ConfigMap value",
			     path, CONFIG_FILE_MAX);
	else
		config_error(errs, "%s: cannot read: %s", path, strerror(-err));
}

/* The directory the key links point into: PATH/..data's target, or PATH. */
static void data_dir(const char *dir, char *out, size_t n)
{
	char link[PATH_MAX], target[NAME_MAX + 1];
	ssize_t len;

	snprintf(link, sizeof(link), "%s/..data", dir);
	len = readlink(link, target, sizeof(target) - 1);
	if (len <= 0 || target[0] == '/' || memchr(target, '/', len)) {
		snprintf(out, n, "%s", dir);
		return;
	}
	target[len] = '\0';
	snprintf(out, n, "%s/%s", dir, target);
}

static void warn_unknown_files(const char *ddir, const char *dir, struct config_errors *errs)
{
	struct dirent *de;
	DIR *d = opendir(ddir);

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || config_key_index(de->d_name) >= 0 ||
		    in_list(koord_keys_ignored, de->d_name))
			continue;
		config_warn(errs, "%s/%s: unknown key, ignored", dir, de->d_name);
	}
	closedir(d);
}

/*
 * One attempt at a ConfigMap directory. Under kubelet's layout the ..data
 * target is the whole truth: a key missing there is absent (its link may
 * dangle until kubelet removes it). -ESTALE if that target vanished while
 * being read, which a ..data swap does.
 */
static int load_dir_once(const char *dir, const char *ddir, const struct node_labels *labels,
			 struct colod_config *cfg, struct config_errors *errs)
{
	char file[PATH_MAX + NAME_MAX + 2];
	struct stat st;
	char *text;
	int i, err;

	config_defaults(cfg);
	for (i = 0; i < CFG_NR_KEYS; i++) {
		struct pctx ctx;

		snprintf(file, sizeof(file), "%s/%s", ddir, key_descs[i].key);
		err = file_read_regular(file, CONFIG_FILE_MAX, &text);
		if (err == -ENOENT) {
			if (strcmp(dir, ddir) && stat(ddir, &st) < 0)
				return -ESTALE;
			continue;	/* a key absent from the ConfigMap: defaults */
		}
		snprintf(file, sizeof(file), "%s/%s", dir, key_descs[i].key);
		if (err) {
			io_error(errs, file, err);
			continue;
		}
		ctx_init(&ctx, file, errs);
		parse_key_text(i, &ctx, text, labels, cfg);
		free(text);
	}
	warn_unknown_files(ddir, dir, errs);
	return 0;
}

static void load_dir(const char *dir, const struct node_labels *labels,
		     struct colod_config *cfg, struct config_errors *errs)
{
	char ddir[PATH_MAX];
	int attempt, before = errs->nr_errors, wbefore = errs->nr_warnings;

	/* kubelet may swap ..data while we read: start again on the new one */
	for (attempt = 0; attempt < 3; attempt++) {
		data_dir(dir, ddir, sizeof(ddir));
		errs->nr_errors = before;
		errs->nr_warnings = wbefore;
		if (load_dir_once(dir, ddir, labels, cfg, errs) != -ESTALE)
			return;
	}
	config_error(errs, "%s: the ConfigMap kept changing while being read", dir);
}

int config_load(const char *path, const struct node_labels *labels,
		struct colod_config *out, struct config_errors *errs)
{
	int before = errs->nr_errors;
	struct colod_config *tmp;
	struct stat st;
	char *text;
	int err;

	if (stat(path, &st) < 0) {
		err = -errno;
		io_error(errs, path, err);
		return err;
	}
	if (!S_ISDIR(st.st_mode)) {
		err = file_read_all(path, CONFIG_FILE_MAX, &text);
		if (err) {
			io_error(errs, path, err);
			return err;
		}
		err = config_parse_document(text, path, labels, out, errs);
		free(text);
		return err;
	}
	tmp = malloc(sizeof(*tmp));
	if (!tmp)
		return -ENOMEM;
	load_dir(path, labels, tmp, errs);
	if (errs->nr_errors == before)
		*out = *tmp;
	free(tmp);
	return errs->nr_errors == before ? 0 : -EINVAL;
}

/* ---- node labels ---------------------------------------------------------------- */

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int add_label(struct node_labels *out, const char *key, const char *value)
{
	struct node_label *l = NULL;
	int i;

	if (!*key || strlen(key) >= NODE_LABEL_KEY_MAX || strlen(value) >= NODE_LABEL_VALUE_MAX)
		return -EINVAL;
	for (i = 0; i < out->nr; i++)
		if (!strcmp(out->l[i].key, key))
			l = &out->l[i];
	if (!l) {
		if (out->nr >= NODE_LABELS_MAX)
			return -E2BIG;
		l = &out->l[out->nr++];
	}
	snprintf(l->key, sizeof(l->key), "%s", key);
	snprintf(l->value, sizeof(l->value), "%s", value);
	return 0;
}

static int parse_label_item(char *item, struct node_labels *out)
{
	char *eq, *key, *value;
	size_t len;

	item = trim(item);
	if (!*item || *item == '#')
		return 0;
	eq = strchr(item, '=');
	if (!eq)
		return -EINVAL;
	*eq = '\0';
	key = trim(item);
	value = trim(eq + 1);
	len = strlen(value);
	/* the downward API writes key="value" */
	if (len >= 2 && value[0] == '"' && value[len - 1] == '"') {
		value[len - 1] = '\0';
		value++;
	}
	return add_label(out, key, value);
}

int node_labels_parse_text(const char *text, char sep, struct node_labels *out)
{
	char *copy = strdup(text), *p, *next;
	int err = 0;

	if (!copy)
		return -ENOMEM;
	out->nr = 0;
	for (p = copy; p && !err; p = next) {
		next = strchr(p, sep);
		if (next)
			*next++ = '\0';
		err = parse_label_item(p, out);
	}
	free(copy);
	return err;
}

int node_labels_parse(const char *arg, struct node_labels *out)
{
	struct stat st;
	char *text;
	int err;

	if (stat(arg, &st) == 0 && S_ISREG(st.st_mode)) {
		err = file_read_all(arg, CONFIG_FILE_MAX, &text);
		if (err)
			return err;
		err = node_labels_parse_text(text, '\n', out);
		free(text);
		return err;
	}
	if (!strchr(arg, '='))
		return -ENOENT;
	return node_labels_parse_text(arg, ',', out);
}
