// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * colod explain: why BE's CPU allowance is what it is (the last decisions
 * that moved it, with their inputs and rule) and each term of the Batch
 * and Mid formulas with its value and where it came from. Reads a running
 * agent's <state>/decisions.jsonl (record.h, rotated once into .1) or a
 * recording of `colod run --record`. The class of each LS and BE cgroup and
 * where it came from (directory, rule, pod label, priority class) come from
 * the running agent's pinned cg_class, or from the recording's last tick.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <cjson/cJSON.h>
#include "cgroup.h"
#include "cgscan.h"
#include "classify.h"
#include "journal.h"
#include "maps.h"
#include "record.h"

#define EXPLAIN_LAST_DEFAULT	5
#define EXPLAIN_LAST_MAX	64

struct moved {
	enum record_type type;
	uint64_t t_ms;
	struct policy_action act;
	struct snapshot snap;		/* ticks: the inputs */
	struct policy_breach breach;
	struct policy_verdict verdict;	/* cut_no_effect: the verdict behind it */
};

struct explain {
	struct colod_config cfg;
	struct policy_params pp;
	struct headroom_params hp;
	bool have_config, have_tick, have_state;
	struct policy_state now;	/* after the last decision */
	uint64_t now_ms;
	struct snapshot snap;		/* the last tick's */
	struct record_headroom hr;
	bool have_headroom;
	struct moved moved[EXPLAIN_LAST_MAX];
	unsigned int nr_moved, last;
	struct policy_verdict verdicts[EXPLAIN_LAST_MAX];	/* cuts judged */
	unsigned int nr_verdicts;
	cJSON *classes;			/* [{cgroup, class, source}] of LS and BE */
};

static bool cpu_act(const struct policy_action *a)
{
	return a->kind == POLICY_BE_CPU_QUOTA || a->kind == POLICY_BE_CPUSET_CPUS;
}

/* ---- classes and their sources ------------------------------------------- */

static void add_class(struct explain *e, const char *path, int cls, int src)
{
	cJSON *c;

	if (cls != COLOD_CLASS_LS && cls != COLOD_CLASS_BE)
		return;
	c = cJSON_CreateObject();
	cJSON_AddStringToObject(c, "cgroup", path);
	cJSON_AddStringToObject(c, "class", class_names[cls]);
	cJSON_AddStringToObject(c, "source", class_source_name(src));
	cJSON_AddItemToArray(e->classes, c);
}

static void classes_from_track(struct explain *e, const struct track *t)
{
	int i;

	cJSON_Delete(e->classes);
	e->classes = cJSON_CreateArray();
	for (i = 0; i < t->nr; i++)
		add_class(e, t->v[i].path, t->v[i].cls, t->v[i].cls_src);
}

/*
 * A running agent's classes: its pinned cg_class, keyed by cgroup id (the
 * inode of the cpu hierarchy's directory), named by a walk of that
 * hierarchy. Not there (no agent, another pin dir): said, not an error.
 */
static void classes_from_pins(struct explain *e, const char *pin_dir, const char *cg_root)
{
	struct colod_maps m = { .class_fd = -1 };
	struct cgscan *scan = NULL;
	const struct cgscan_entry *ce;
	struct colod_cg_class c;
	uint64_t key, *prev = NULL;
	struct cg_ctx cg;
	int err;

	err = maps_open_pinned(pin_dir, &m);
	if (err) {
		fprintf(stderr, "explain: no agent maps under %s (%s): classes not shown\n",
			pin_dir, strerror(-err));
		return;
	}
	if (!cg_detect(&cg, cg_root))
		scan = cgscan_new(cg.cpu, NULL, 0);
	if (!scan || cgscan_run(scan))
		fprintf(stderr, "explain: no cgroup hierarchy at %s: cgroups named by id\n",
			cg_root ? cg_root : CG_ROOT_DEFAULT);
	cJSON_Delete(e->classes);
	e->classes = cJSON_CreateArray();
	while (!bpf_map_get_next_key(m.class_fd, prev, &key)) {
		char id[32];

		prev = &key;
		if (bpf_map_lookup_elem(m.class_fd, &key, &c))
			continue;	/* removed since */
		ce = scan ? cgscan_find(scan, key) : NULL;
		snprintf(id, sizeof(id), "id %" PRIu64, key);
		add_class(e, ce ? ce->path : id, (int)c.cls,
			  (int)COLOD_CG_SRC(c.flags));
	}
	cgscan_free(scan);
	maps_close(&m);
}

static void take(struct explain *e, const struct record *r)
{
	char why[256];
	int i;

	if (r->type == RECORD_CONFIG) {
		e->have_config = !record_config_params(r->config_json, &e->cfg, &e->pp,
						       &e->hp, why, sizeof(why));
		return;
	}
	e->now = r->after;
	e->have_state = true;
	e->now_ms = r->type == RECORD_TICK ? r->snap.now_ns / 1000000 : r->breach.now_ms;
	if (r->type == RECORD_TICK && r->has_track)
		classes_from_track(e, &r->track);
	if (r->type == RECORD_TICK) {
		e->snap = r->snap;
		e->have_tick = true;
		e->hr = r->hr;
		e->have_headroom = r->has_headroom;
	}
	if (r->after.nr_verdicts != r->before.nr_verdicts)
		e->verdicts[e->nr_verdicts++ % EXPLAIN_LAST_MAX] = r->after.verdict;
	for (i = 0; i < r->dec.nr_acts; i++) {
		struct moved *m = &e->moved[e->nr_moved++ % EXPLAIN_LAST_MAX];

		if (!cpu_act(&r->dec.acts[i])) {
			e->nr_moved--;
			continue;
		}
		*m = (struct moved) { r->type, e->now_ms, r->dec.acts[i], r->snap, r->breach,
				      r->after.verdict };
	}
}

static int read_file(struct explain *e, const char *path, bool must)
{
	FILE *f = fopen(path, "re");
	char *line = NULL, why[256];
	size_t cap = 0;
	struct record r;

	if (!f) {
		if (must || errno != ENOENT)
			fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return must || errno != ENOENT ? -errno : 0;
	}
	while (getline(&line, &cap, f) > 0) {
		if (record_parse(line, &r, why, sizeof(why)))
			continue;	/* a line cut by a crash: the next is whole */
		take(e, &r);
		record_free(&r);
	}
	free(line);
	fclose(f);
	return 0;
}

/* ---- the rule behind an allowance move ------------------------------------ */

static void rule_text(const struct explain *e, const struct moved *m, char *buf, size_t len)
{
	const struct policy_params *p = &e->pp;
	const struct snapshot *s = &m->snap;
	uint64_t ls = s->sum[COLOD_CLASS_LS].cpu_milli, be = s->sum[COLOD_CLASS_BE].cpu_milli;
	uint64_t sys = s->node_busy_milli > ls + be ? s->node_busy_milli - ls - be : 0;

	switch (m->act.reason) {
	case POLICY_R_SUPPRESS_BOUND:
		snprintf(buf, len, "the suppress bound: capacity %" PRIu64 "m x "
			 "cpuSuppressThresholdPercent %u%% - LS used %" PRIu64 "m - system used %"
			 PRIu64 "m = %" PRIu64 "m (floor cpuSuppressMinPercent %u%%)",
			 s->capacity_milli, p->cpu_suppress_threshold_pct, ls, sys, m->act.bound,
			 p->cpu_suppress_min_pct);
		break;
	case POLICY_R_LS_BREACH:
		snprintf(buf, len, "a confirmed breach: LS cgroup %" PRIu64 " waited %" PRIu64
			 " us with BE to blame (over twice its 1%% budget within 50 ms, beyond "
			 "what an LS at its budget shows by chance); the "
			 "allowance keeps %u%% (at most one cut per %u ms)",
			 m->breach.ls_cgroup_id, m->breach.latency_ns / 1000, p->md_factor_pct,
			 p->breach_guard_ms);
		break;
	case POLICY_R_LS_P99:
		snprintf(buf, len, "the tick saw LS late with BE to blame: %" PRIu64
			 " BE-blamed breaches, worst p99/target %.2fx; the allowance keeps %u%%",
			 s->sum[COLOD_CLASS_LS].breaches,
			 s->sum[COLOD_CLASS_LS].worst_p99_milli / 1000.0, p->md_factor_pct);
		break;
	case POLICY_R_LS_HEALTHY:
		snprintf(buf, len, "LS healthy: no breach and no cut for %u ms and p99/target "
			 "under %.2fx; growth of %u%% of capacity per %u ms, up to the lowest "
			 "suppress bound of the last %u ms", p->healthy_hold_ms,
			 p->grow_below_milli / 1000.0, p->ai_step_pct, p->ai_interval_ms,
			 p->bound_window_ms);
		break;
	case POLICY_R_CUT_NO_EFFECT:
		snprintf(buf, len, "%u cut(s) for LS cgroup %" PRIu64 " did not help: over %u ms "
			 "after the last one its breach density went from %.2f%% to %.2f%% (not "
			 "halved) and its p99 stayed at %.2fx its target; BE gets back what it had "
			 "before them, and BE's blame for that cgroup's breaches needs a density "
			 "over %.2f%% for %u ms", m->verdict.nr_cuts, m->verdict.cgid,
			 p->judge_window_ms, m->verdict.before_ppm / 1e4,
			 m->verdict.after_ppm / 1e4, m->verdict.after_p99_milli / 1000.0,
			 m->verdict.need_ppm / 1e4, p->distrust_ms);
		break;
	default:
		snprintf(buf, len, "%s", policy_reason_name(m->act.reason));
		break;
	}
}

/* ---- cuts judged by their effect ----------------------------------------- */

static cJSON *cuts_json(const struct explain *e, unsigned int last)
{
	unsigned int n = e->nr_verdicts < last ? e->nr_verdicts : last, i;
	cJSON *o = cJSON_CreateObject(), *arr, *v;
	uint32_t need;

	cJSON_AddNumberToObject(o, "window_ms", e->pp.judge_window_ms);
	cJSON_AddNumberToObject(o, "helped", (double)e->now.nr_judged[POLICY_V_HELPED]);
	cJSON_AddNumberToObject(o, "no_effect", (double)e->now.nr_judged[POLICY_V_NO_EFFECT]);
	arr = cJSON_AddArrayToObject(o, "verdicts");
	for (i = 0; i < n; i++) {
		const struct policy_verdict *pv =
			&e->verdicts[(e->nr_verdicts - n + i) % EXPLAIN_LAST_MAX];

		v = cJSON_CreateObject();
		cJSON_AddNumberToObject(v, "seconds_ago", (double)(e->now_ms - pv->at_ms) / 1000);
		cJSON_AddStringToObject(v, "verdict", policy_verdict_name(pv->verdict));
		cJSON_AddNumberToObject(v, "ls_cgroup_id", (double)pv->cgid);
		cJSON_AddNumberToObject(v, "cuts", pv->nr_cuts);
		cJSON_AddNumberToObject(v, "density_before_pct", pv->before_ppm / 1e4);
		cJSON_AddNumberToObject(v, "density_after_pct", pv->after_ppm / 1e4);
		cJSON_AddNumberToObject(v, "p99_after_x", pv->after_p99_milli / 1000.0);
		cJSON_AddItemToArray(arr, v);
	}
	arr = cJSON_AddArrayToObject(o, "stronger_evidence");
	for (i = 0; i < POLICY_DISTRUST_MAX; i++) {
		const struct policy_distrust *d = &e->now.distrust[i];

		need = policy_distrust_ppm(&e->now, d->cgid, e->now_ms);
		if (!need)
			continue;
		v = cJSON_CreateObject();
		cJSON_AddNumberToObject(v, "ls_cgroup_id", (double)d->cgid);
		cJSON_AddNumberToObject(v, "need_density_pct", need / 1e4);
		cJSON_AddNumberToObject(v, "seconds_left", (double)(d->until_ms - e->now_ms) / 1000);
		cJSON_AddItemToArray(arr, v);
	}
	if (e->now.judge.cgid) {
		v = cJSON_AddObjectToObject(o, "pending");
		cJSON_AddNumberToObject(v, "ls_cgroup_id", (double)e->now.judge.cgid);
		cJSON_AddNumberToObject(v, "cuts", e->now.judge.nr_cuts);
		cJSON_AddNumberToObject(v, "measured_ms", (double)e->now.judge.after_ms);
	}
	return o;
}

static void print_cuts(const cJSON *c)
{
	const cJSON *v;

	printf("cuts judged by their effect (window %.0f ms): %.0f helped, %.0f no effect\n",
	       cJSON_GetObjectItem(c, "window_ms")->valuedouble,
	       cJSON_GetObjectItem(c, "helped")->valuedouble,
	       cJSON_GetObjectItem(c, "no_effect")->valuedouble);
	cJSON_ArrayForEach(v, cJSON_GetObjectItem(c, "verdicts"))
		printf("  %7.1f s ago %s: %.0f cut(s) for LS cgroup %.0f, breach density "
		       "%.2f%% -> %.2f%%, p99 after %.2fx target\n",
		       cJSON_GetObjectItem(v, "seconds_ago")->valuedouble,
		       cJSON_GetObjectItem(v, "verdict")->valuestring,
		       cJSON_GetObjectItem(v, "cuts")->valuedouble,
		       cJSON_GetObjectItem(v, "ls_cgroup_id")->valuedouble,
		       cJSON_GetObjectItem(v, "density_before_pct")->valuedouble,
		       cJSON_GetObjectItem(v, "density_after_pct")->valuedouble,
		       cJSON_GetObjectItem(v, "p99_after_x")->valuedouble);
	cJSON_ArrayForEach(v, cJSON_GetObjectItem(c, "stronger_evidence"))
		printf("  LS cgroup %.0f: BE's blame needs a breach density over %.2f%% "
		       "(%.0f s left)\n", cJSON_GetObjectItem(v, "ls_cgroup_id")->valuedouble,
		       cJSON_GetObjectItem(v, "need_density_pct")->valuedouble,
		       cJSON_GetObjectItem(v, "seconds_left")->valuedouble);
}

/* ---- Batch and Mid ------------------------------------------------------ */

static const char *const res_key[HEADROOM_NR_RES] = { "cpu", "memory" };

static const char *ls_source(enum headroom_policy p)
{
	switch (p) {
	case HEADROOM_POLICY_REQUEST:
		return "sum of LS requests (rules, cpu.shares)";
	case HEADROOM_POLICY_MAX_USAGE_REQUEST:
		return "sum over LS cgroups of max(request, usage)";
	default:
		return "peak of LS usage over the last 60 s (short-term)";
	}
}

static cJSON *term(cJSON *arr, const char *name, uint64_t v, const char *from)
{
	cJSON *t = cJSON_CreateObject();

	cJSON_AddStringToObject(t, "term", name);
	cJSON_AddNumberToObject(t, "value", (double)v);
	cJSON_AddStringToObject(t, "from", from);
	cJSON_AddItemToArray(arr, t);
	return t;
}

static cJSON *headroom_terms(const struct explain *e, int r)
{
	const struct headroom_res_input *in = &e->hr.in.res[r];
	struct headroom_result out;
	enum headroom_policy pol = e->hp.policy[r];
	cJSON *o = cJSON_CreateObject(), *batch, *mid;
	char from[256];
	bool cap_cfg = r == HEADROOM_CPU ? e->cfg.own.node_cpu_capacity_milli :
					   e->cfg.own.node_memory_capacity_bytes;

	headroom_compute(&e->hp, &e->hr.in, &out);
	if (r == HEADROOM_CPU && pol == HEADROOM_POLICY_REQUEST)
		pol = HEADROOM_POLICY_USAGE;
	cJSON_AddNumberToObject(o, "batch", (double)e->hr.out.res[r].batch);
	cJSON_AddNumberToObject(o, "mid", (double)e->hr.out.res[r].mid);
	cJSON_AddStringToObject(o, "policy", headroom_policy_name(pol));
	batch = cJSON_AddArrayToObject(o, "batch_terms");
	term(batch, "capacity", in->capacity, cap_cfg ? "colod-config node capacity" :
	     r == HEADROOM_CPU ? "online CPUs x 1000" : "MemTotal (/proc/meminfo)");
	snprintf(from, sizeof(from), "capacity x (100 - colocation-config %sReclaimThresholdPercent %u) / 100",
		 res_key[r], e->hp.reclaim_threshold_percent[r]);
	term(batch, "- safety margin", out.res[r].safety_margin, from);
	snprintf(from, sizeof(from), "%s: max(system used %" PRIu64 " (node used - LS - BE), reserved %" PRIu64 ")",
		 pol == HEADROOM_POLICY_REQUEST ? "reserved only (request policy)" : "system",
		 in->system_used, in->reserved);
	term(batch, "- system", pol == HEADROOM_POLICY_REQUEST ? in->reserved : out.res[r].system_used,
	     from);
	term(batch, "- LS", out.res[r].ls_term, ls_source(pol));
	mid = cJSON_AddArrayToObject(o, "mid_terms");
	term(mid, "LS reclaimable", in->mid_reclaimable,
	     "predictor: LS requests - predicted peak (p95 CPU / p98 memory + 10%); 0 until trained");
	term(mid, "node unused", out.res[r].node_unused, "capacity - node used");
	snprintf(from, sizeof(from), "capacity x colocation-config mid%sThresholdPercent %u%%",
		 r == HEADROOM_CPU ? "CPU" : "Memory", e->hp.mid_threshold_percent[r]);
	term(mid, "cap", in->capacity / 100 * e->hp.mid_threshold_percent[r], from);
	cJSON_AddStringToObject(o, "formula", out.res[r].formula);
	return o;
}

/* ---- output ------------------------------------------------------------- */

static cJSON *build(const struct explain *e, unsigned int last)
{
	cJSON *root = cJSON_CreateObject(), *arr, *hr;
	unsigned int i, n = e->nr_moved < last ? e->nr_moved : last;
	char rule[512];

	cJSON_AddNumberToObject(root, "allowance_milli", (double)e->now.allowed_milli);
	cJSON_AddNumberToObject(root, "capacity_milli", (double)e->now.capacity_milli);
	cJSON_AddBoolToObject(root, "cpu_limited", e->now.cpu_limited);
	cJSON_AddNumberToObject(root, "bound_milli", (double)e->now.bound_milli);
	if (!n)
		cJSON_AddStringToObject(root, "rule", e->now.cpu_limited ? "unknown (older than the history)" : "none");
	arr = cJSON_AddArrayToObject(root, "decisions");
	for (i = 0; i < n; i++) {
		const struct moved *m = &e->moved[(e->nr_moved - n + i) % EXPLAIN_LAST_MAX];
		cJSON *d = cJSON_CreateObject();

		rule_text(e, m, rule, sizeof(rule));
		cJSON_AddStringToObject(d, "record", record_type_name(m->type));
		cJSON_AddNumberToObject(d, "seconds_ago", (double)(e->now_ms - m->t_ms) / 1000);
		cJSON_AddStringToObject(d, "rule", policy_reason_name(m->act.reason));
		if (m->act.old_value == POLICY_UNLIMITED)
			cJSON_AddNullToObject(d, "old_milli");	/* the knob was not set */
		else
			cJSON_AddNumberToObject(d, "old_milli", (double)m->act.old_value);
		cJSON_AddNumberToObject(d, "new_milli", (double)m->act.new_value);
		cJSON_AddNumberToObject(d, "bound_milli", (double)m->act.bound);
		cJSON_AddNumberToObject(d, "measured", (double)m->act.measured);
		cJSON_AddStringToObject(d, "why", rule);
		cJSON_AddItemToArray(arr, d);
		if (i == n - 1)
			cJSON_AddStringToObject(root, "rule", policy_reason_name(m->act.reason));
	}
	cJSON_AddItemToObject(root, "cuts", cuts_json(e, last));
	if (e->classes)
		cJSON_AddItemReferenceToObject(root, "classes", e->classes);
	if (!e->have_headroom)
		return root;
	hr = cJSON_AddObjectToObject(root, "headroom");
	cJSON_AddItemToObject(hr, "cpu", headroom_terms(e, HEADROOM_CPU));
	cJSON_AddItemToObject(hr, "memory", headroom_terms(e, HEADROOM_MEMORY));
	return root;
}

static void print_terms(const cJSON *res, const char *name, const char *unit)
{
	const cJSON *t;

	printf("%s %s: %.0f%s (calculatePolicy %s)\n", "Batch", name,
	       cJSON_GetObjectItem(res, "batch")->valuedouble, unit,
	       cJSON_GetObjectItem(res, "policy")->valuestring);
	cJSON_ArrayForEach(t, cJSON_GetObjectItem(res, "batch_terms"))
		printf("    %-16s %16.0f%s  <- %s\n", cJSON_GetObjectItem(t, "term")->valuestring,
		       cJSON_GetObjectItem(t, "value")->valuedouble, unit,
		       cJSON_GetObjectItem(t, "from")->valuestring);
	printf("Mid %s: %.0f%s = the least of\n", name,
	       cJSON_GetObjectItem(res, "mid")->valuedouble, unit);
	cJSON_ArrayForEach(t, cJSON_GetObjectItem(res, "mid_terms"))
		printf("    %-16s %16.0f%s  <- %s\n", cJSON_GetObjectItem(t, "term")->valuestring,
		       cJSON_GetObjectItem(t, "value")->valuedouble, unit,
		       cJSON_GetObjectItem(t, "from")->valuestring);
}

static void print_classes(const cJSON *classes)
{
	const cJSON *c;

	if (!classes)
		return;
	printf("LS and BE cgroups (class, where it came from):\n");
	cJSON_ArrayForEach(c, classes)
		printf("  %-2s  %-5s  %s\n", cJSON_GetObjectItem(c, "class")->valuestring,
		       cJSON_GetObjectItem(c, "source")->valuestring,
		       cJSON_GetObjectItem(c, "cgroup")->valuestring);
}

static void print_text(const cJSON *root)
{
	const cJSON *d, *hr = cJSON_GetObjectItem(root, "headroom");
	char was[32];

	printf("BE CPU allowance: %.0fm of %.0fm (%s)\n",
	       cJSON_GetObjectItem(root, "allowance_milli")->valuedouble,
	       cJSON_GetObjectItem(root, "capacity_milli")->valuedouble,
	       cJSON_IsTrue(cJSON_GetObjectItem(root, "cpu_limited")) ?
	       "in force on BE's knobs" : "BE's CPU knob not set yet");
	printf("rule: %s\n", cJSON_GetObjectItem(root, "rule")->valuestring);
	printf("last decisions that moved it, oldest first:\n");
	cJSON_ArrayForEach(d, cJSON_GetObjectItem(root, "decisions")) {
		const cJSON *old = cJSON_GetObjectItem(d, "old_milli");

		if (cJSON_IsNull(old))
			snprintf(was, sizeof(was), "unset");
		else
			snprintf(was, sizeof(was), "%.0fm", old->valuedouble);
		printf("  %7.1f s ago (%s) %s: %s -> %.0fm; %s\n",
		       cJSON_GetObjectItem(d, "seconds_ago")->valuedouble,
		       cJSON_GetObjectItem(d, "record")->valuestring,
		       cJSON_GetObjectItem(d, "rule")->valuestring, was,
		       cJSON_GetObjectItem(d, "new_milli")->valuedouble,
		       cJSON_GetObjectItem(d, "why")->valuestring);
	}
	print_cuts(cJSON_GetObjectItem(root, "cuts"));
	print_classes(cJSON_GetObjectItem(root, "classes"));
	if (!hr) {
		printf("Batch and Mid: no tick with headroom inputs recorded yet\n");
		return;
	}
	print_terms(cJSON_GetObjectItem(hr, "cpu"), "CPU", "m");
	print_terms(cJSON_GetObjectItem(hr, "memory"), "memory", " B");
}

static void usage(void)
{
	fprintf(stderr,
		"usage: colod explain [--state-dir DIR [--pin-dir DIR] [--cgroup-root DIR] |\n"
		"                      --record PATH] [--last N] [--json]\n"
		"Why BE's CPU allowance is what it is (the last N decisions that moved it, with\n"
		"their inputs and rule), every term of Batch and Mid, and where each LS and BE\n"
		"cgroup's class came from. Reads a running agent's DIR/" RECORD_DECISIONS_FILE "\n"
		"(default --state-dir " JOURNAL_STATE_DIR_DEFAULT ") and its pinned maps (default\n"
		"--pin-dir " COLOD_PIN_DIR_DEFAULT "), or a recording.\n");
}

static int explain_files(struct explain *e, const char *base)
{
	char older[4096];
	int err;

	snprintf(older, sizeof(older), "%s.1", base);
	err = read_file(e, older, false);
	return err ?: read_file(e, base, true);
}

int cmd_explain(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "state-dir", required_argument, NULL, 's' },
		{ "record", required_argument, NULL, 'r' },
		{ "pin-dir", required_argument, NULL, 'P' },
		{ "cgroup-root", required_argument, NULL, 'C' },
		{ "last", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	const char *dir = JOURNAL_STATE_DIR_DEFAULT, *rec = NULL, *pin_dir = COLOD_PIN_DIR_DEFAULT;
	const char *cg_root = NULL;
	struct explain *e = calloc(1, sizeof(*e));
	unsigned int last = EXPLAIN_LAST_DEFAULT;
	char base[4096], *txt;
	bool json = false;
	int opt, err;
	cJSON *root;

	if (!e)
		return 1;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "s:r:n:jh", opts, NULL)) != -1) {
		switch (opt) {
		case 's': dir = optarg; break;
		case 'r': rec = optarg; break;
		case 'P': pin_dir = optarg; break;
		case 'C': cg_root = optarg; break;
		case 'j': json = true; break;
		case 'n':
			last = (unsigned int)strtoul(optarg, NULL, 10);
			if (last < 1 || last > EXPLAIN_LAST_MAX) {
				fprintf(stderr, "--last: '%s' is not from 1 to %d\n", optarg,
					EXPLAIN_LAST_MAX);
				free(e);
				return 2;
			}
			break;
		default:
			usage();
			free(e);
			return opt == 'h' ? 0 : 2;
		}
	}
	snprintf(base, sizeof(base), "%s/" RECORD_DECISIONS_FILE, dir);
	err = explain_files(e, rec ? rec : base);
	if (!err && (!e->have_state || !e->have_config)) {
		fprintf(stderr, "%s: no decision recorded yet\n", rec ? rec : base);
		err = -ENOENT;
	}
	if (err) {
		cJSON_Delete(e->classes);
		free(e);
		return 1;
	}
	if (!rec)
		classes_from_pins(e, pin_dir, cg_root);
	root = build(e, last);
	if (json) {
		txt = cJSON_Print(root);
		printf("%s\n", txt ? txt : "{}");
		free(txt);
	} else {
		print_text(root);
	}
	cJSON_Delete(root);
	cJSON_Delete(e->classes);
	free(e);
	return 0;
}
