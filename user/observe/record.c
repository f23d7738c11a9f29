// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The flight recorder's reader: one line of a recording back into the
 * structs decide took and gave (record.h). Pure: text in, structs out.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "cfgmap.h"
#include "record.h"

struct rctx {
	char *err;
	size_t len;
	int bad;
	uint64_t version;		/* v1: nothing of judging cuts, read as none */
};

static void bad(struct rctx *c, const char *fmt, ...)
{
	va_list ap;

	if (c->bad++)
		return;
	va_start(ap, fmt);
	vsnprintf(c->err, c->len, fmt, ap);
	va_end(ap);
}

/* A u64 written as a number, or as a string above 2^53. */
static uint64_t u64_of(struct rctx *c, const cJSON *v, const char *what)
{
	if (cJSON_IsString(v))
		return strtoull(v->valuestring, NULL, 10);
	if (cJSON_IsNumber(v) && v->valuedouble >= 0)
		return (uint64_t)v->valuedouble;
	bad(c, "%s: not a non-negative integer", what);
	return 0;
}

static int64_t s64_of(struct rctx *c, const cJSON *v, const char *what)
{
	if (cJSON_IsNumber(v))
		return (int64_t)v->valuedouble;
	bad(c, "%s: not an integer", what);
	return 0;
}

static uint64_t get_u64(struct rctx *c, const cJSON *o, const char *k)
{
	return u64_of(c, cJSON_GetObjectItemCaseSensitive(o, k), k);
}

static const cJSON *get_arr(struct rctx *c, const cJSON *o, const char *k)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, k);

	if (!cJSON_IsArray(a)) {
		bad(c, "%s: missing or not an array", k);
		return NULL;
	}
	return a;
}

static const cJSON *get_obj(struct rctx *c, const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	if (!cJSON_IsObject(v)) {
		bad(c, "%s: missing or not an object", k);
		return NULL;
	}
	return v;
}

/* Element i of an array as u64 / s64. */
static uint64_t at_u64(struct rctx *c, const cJSON *a, int i, const char *what)
{
	return u64_of(c, cJSON_GetArrayItem(a, i), what);
}

static int64_t at_s64(struct rctx *c, const cJSON *a, int i, const char *what)
{
	return s64_of(c, cJSON_GetArrayItem(a, i), what);
}

/* n u64 items of array k into v */
static void get_items(struct rctx *c, const cJSON *o, const char *k, uint64_t *v, int n)
{
	const cJSON *a = get_arr(c, o, k);
	int i;

	if (a && cJSON_GetArraySize(a) != n) {
		bad(c, "%s: not %d items", k, n);
		return;
	}
	for (i = 0; a && i < n; i++)
		v[i] = at_u64(c, a, i, k);
}

static void parse_judging(struct rctx *c, const cJSON *o, struct policy_state *s)
{
	struct policy_judge *j = &s->judge;
	struct policy_verdict *v = &s->verdict;
	uint64_t jv[9] = {}, vv[8] = {}, slot;
	const cJSON *e;

	get_items(c, o, "judge", jv, 9);
	*j = (struct policy_judge) {
		.cgid = jv[0], .last_cut_ms = jv[1], .pre_milli = jv[2],
		.nr_cuts = (uint32_t)jv[3], .before_ppm = (uint32_t)jv[4], .after_ms = jv[5],
		.after_breaches = jv[6], .after_samples = jv[7],
		.after_p99_milli = (uint32_t)jv[8],
	};
	cJSON_ArrayForEach(e, get_arr(c, o, "distrust")) {
		slot = at_u64(c, e, 0, "distrust[].slot");
		if (slot >= POLICY_DISTRUST_MAX) {
			bad(c, "distrust[].slot: %llu: not below %d", (unsigned long long)slot,
			    POLICY_DISTRUST_MAX);
			return;
		}
		s->distrust[slot] = (struct policy_distrust) {
			.cgid = at_u64(c, e, 1, "distrust[].cgid"),
			.need_ppm = (uint32_t)at_u64(c, e, 2, "distrust[].need_ppm"),
			.until_ms = at_u64(c, e, 3, "distrust[].until_ms"),
		};
	}
	get_items(c, o, "verdict", vv, 8);
	*v = (struct policy_verdict) {
		.at_ms = vv[0], .cgid = vv[1], .verdict = (enum policy_verdict_kind)vv[2],
		.nr_cuts = (uint32_t)vv[3], .before_ppm = (uint32_t)vv[4],
		.after_ppm = (uint32_t)vv[5], .after_p99_milli = (uint32_t)vv[6],
		.need_ppm = (uint32_t)vv[7],
	};
	s->nr_verdicts = get_u64(c, o, "nr_verdicts");
	get_items(c, o, "nr_judged", s->nr_judged, POLICY_V_NR);
}

static void parse_state(struct rctx *c, const cJSON *o, struct policy_state *s)
{
	const cJSON *win, *w;

	memset(s, 0, sizeof(*s));
	if (!o)
		return;
	s->capacity_milli = get_u64(c, o, "capacity_milli");
	s->allowed_milli = get_u64(c, o, "allowed_milli");
	s->cpu_limited = get_u64(c, o, "cpu_limited");
	s->cpus = (uint32_t)get_u64(c, o, "cpus");
	s->bound_milli = get_u64(c, o, "bound_milli");
	s->last_breach_ms = get_u64(c, o, "last_breach_ms");
	s->last_md_ms = get_u64(c, o, "last_md_ms");
	s->last_cut_ms = get_u64(c, o, "last_cut_ms");
	s->last_grow_ms = get_u64(c, o, "last_grow_ms");
	s->last_tick_ms = get_u64(c, o, "last_tick_ms");
	s->breach_answered = get_u64(c, o, "breach_answered");
	s->be_mem_high = get_u64(c, o, "be_mem_high");
	s->mem_stuck_ticks = (uint32_t)get_u64(c, o, "mem_stuck_ticks");
	s->last_mem_pressure_ms = get_u64(c, o, "last_mem_pressure_ms");
	s->last_mem_change_ms = get_u64(c, o, "last_mem_change_ms");
	s->last_evict_ms = get_u64(c, o, "last_evict_ms");
	s->nr_cuts = get_u64(c, o, "nr_cuts");
	s->nr_grows = get_u64(c, o, "nr_grows");
	s->nr_evicts = get_u64(c, o, "nr_evicts");
	if (c->version >= 2)
		parse_judging(c, o, s);
	win = get_arr(c, o, "win");
	cJSON_ArrayForEach(w, win) {
		if (s->win_len == POLICY_WIN_MAX) {
			bad(c, "win: more than %d samples", POLICY_WIN_MAX);
			break;
		}
		s->win[s->win_len].t_ms = at_u64(c, w, 0, "win[].t_ms");
		s->win[s->win_len].milli = at_u64(c, w, 1, "win[].milli");
		s->win_len++;
	}
	s->win_head = 0;		/* the oldest first, as written */
}

static void parse_decision(struct rctx *c, const cJSON *o, struct decision *d)
{
	const cJSON *knobs, *acts, *ev, *e;
	int n;

	if (!o)
		return;
	d->cpu_only = get_u64(c, o, "cpu_only");
	knobs = get_arr(c, o, "knobs");
	n = cJSON_GetArraySize(knobs);
	d->knobs = n ? calloc((size_t)n, sizeof(*d->knobs)) : NULL;
	if (n && !d->knobs) {
		bad(c, "knobs: out of memory");
		return;
	}
	d->cap_knobs = n;
	cJSON_ArrayForEach(e, knobs) {
		struct knob *k = &d->knobs[d->nr_knobs++];

		k->cg = (int)at_s64(c, e, 0, "knobs[].cg");
		k->kind = (enum knob_kind)at_u64(c, e, 1, "knobs[].kind");
		k->value = at_s64(c, e, 2, "knobs[].value");
		k->period_us = at_u64(c, e, 3, "knobs[].period_us");
	}
	acts = get_arr(c, o, "acts");
	cJSON_ArrayForEach(e, acts) {
		struct policy_action *a;

		if (d->nr_acts == POLICY_TICK_MAX_ACTIONS) {
			bad(c, "acts: more than %d", POLICY_TICK_MAX_ACTIONS);
			break;
		}
		a = &d->acts[d->nr_acts++];
		a->kind = (enum policy_action_kind)at_u64(c, e, 0, "acts[].kind");
		a->reason = (enum policy_reason)at_u64(c, e, 1, "acts[].reason");
		a->old_value = at_u64(c, e, 2, "acts[].old");
		a->new_value = at_u64(c, e, 3, "acts[].new");
		a->bound = at_u64(c, e, 4, "acts[].bound");
		a->measured = at_u64(c, e, 5, "acts[].measured");
		a->unit = (enum policy_unit)at_u64(c, e, 6, "acts[].unit");
		a->trigger_cgroup_id = at_u64(c, e, 7, "acts[].trigger");
	}
	ev = get_arr(c, o, "evict");
	cJSON_ArrayForEach(e, ev) {
		if (d->nr_evict == DECIDE_MAX_EVICT) {
			bad(c, "evict: more than %d", DECIDE_MAX_EVICT);
			break;
		}
		d->evict[d->nr_evict++] = (int)s64_of(c, e, "evict[]");
	}
}

static void parse_snapshot(struct rctx *c, const cJSON *o, struct snapshot *s)
{
	const cJSON *sum, *mem, *e;
	int i = 0;

	if (!o)
		return;
	s->now_ns = get_u64(c, o, "now_ns");
	s->tick_ns = get_u64(c, o, "tick_ns");
	s->capacity_milli = get_u64(c, o, "capacity_milli");
	s->node_busy_milli = get_u64(c, o, "node_busy_milli");
	s->node.busy_ns = get_u64(c, o, "busy_ns");
	s->node.total_ns = get_u64(c, o, "total_ns");
	s->node.mem_total = get_u64(c, o, "mem_total");
	s->node.mem_used = get_u64(c, o, "mem_used");
	s->config_gen = get_u64(c, o, "config_gen");
	sum = get_arr(c, o, "sum");
	cJSON_ArrayForEach(e, sum) {
		struct class_sums *cs;

		if (i == COLOD_CLASS_NR)
			break;
		cs = &s->sum[i++];
		cs->cpu_milli = at_u64(c, e, 0, "sum[].cpu_milli");
		cs->breaches = at_u64(c, e, 1, "sum[].breaches");
		cs->direct_reclaim_ns = at_u64(c, e, 2, "sum[].direct_reclaim_ns");
		cs->worst_p99_milli = (uint32_t)at_u64(c, e, 3, "sum[].worst_p99_milli");
		cs->runq_count = at_u64(c, e, 4, "sum[].runq_count");
	}
	mem = get_arr(c, o, "class_mem");
	for (i = 0; i < COLOD_CLASS_NR && i < cJSON_GetArraySize(mem); i++)
		s->mem_used[i] = at_u64(c, mem, i, "class_mem[]");
}

static void parse_cg(struct rctx *c, const cJSON *e, struct tracked *t)
{
	const cJSON *path = cJSON_GetArrayItem(e, 1);
	int n = cJSON_GetArraySize(e), i = 2;

	/*
	 * v1 recordings from before cls_src have 19 fields, later ones 20;
	 * v2 adds each cgroup's waits and breaches over the tick (23), then
	 * a BE pod's batch-cpu and batch-memory (25), which decide turns
	 * into the pod's own limits
	 */
	if ((n != 19 && n != 20 && n != 23 && n != 25) || !cJSON_IsString(path)) {
		bad(c, "track.cg[]: not the 25 fields of track_fields");
		return;
	}
	t->id = at_u64(c, e, 0, "track.cg[].id");
	t->path = strdup(path->valuestring);
	t->cls = (enum colod_class)at_u64(c, e, i++, "cls");
	t->rule = (int)at_s64(c, e, i++, "rule");
	t->top = at_u64(c, e, i++, "top");
	t->top_of = (int)at_u64(c, e, i++, "top_of");
	t->kubelet = at_u64(c, e, i++, "kubelet");
	t->is_pod = at_u64(c, e, i++, "is_pod");
	t->pod_of = (int)at_s64(c, e, i++, "pod_of");
	t->nr_below = (int)at_u64(c, e, i++, "nr_below");
	t->scan_gen = (uint32_t)at_u64(c, e, i++, "scan_gen");
	t->mem_limit = at_s64(c, e, i++, "mem_limit");
	t->latency_target_us = at_u64(c, e, i++, "latency_target_us");
	t->cpu_request_milli = at_u64(c, e, i++, "cpu_request_milli");
	t->mem_request_bytes = at_u64(c, e, i++, "mem_request_bytes");
	t->cpu_milli = at_u64(c, e, i++, "cpu_milli");
	t->tree_cpu_milli = at_u64(c, e, i++, "tree_cpu_milli");
	t->mem_bytes = at_u64(c, e, i++, "mem_bytes");
	t->p99_us = (double)at_u64(c, e, i++, "p99_ns") / 1000;
	t->cls_src = n > i ? (int)at_s64(c, e, i++, "cls_src") : -1;
	t->tick_samples = n > i ? at_u64(c, e, i++, "tick_samples") : 0;
	t->tick_breaches = n > i ? at_u64(c, e, i++, "tick_breaches") : 0;
	t->tick_breaches_be = n > i ? at_u64(c, e, i++, "tick_breaches_be") : 0;
	t->batch_cpu_milli = n > i ? at_s64(c, e, i++, "batch_cpu_milli") : 0;
	t->batch_mem_bytes = n > i ? at_s64(c, e, i++, "batch_mem_bytes") : 0;
	if (!t->path)
		bad(c, "track: out of memory");
}

static void parse_track(struct rctx *c, const cJSON *o, struct track *t)
{
	const cJSON *cgs = get_arr(c, o, "cg"), *nt = get_arr(c, o, "nr_top"), *e;
	int n = cJSON_GetArraySize(cgs), i;

	t->scan_gen = (uint32_t)get_u64(c, o, "scan_gen");
	for (i = 0; i < COLOD_CLASS_NR && i < cJSON_GetArraySize(nt); i++)
		t->nr_top[i] = (int)at_u64(c, nt, i, "nr_top[]");
	t->v = calloc((size_t)n + 1, sizeof(*t->v));
	if (!t->v) {
		bad(c, "track: out of memory");
		return;
	}
	t->cap = n + 1;
	cJSON_ArrayForEach(e, cgs) {
		parse_cg(c, e, &t->v[t->nr++]);
		if (t->v[t->nr - 1].top_of >= n || t->v[t->nr - 1].pod_of >= n)
			bad(c, "track.cg[%d]: top_of or pod_of out of range", t->nr - 1);
	}
}

static void parse_headroom_res(struct rctx *c, const cJSON *o,
			       struct headroom_res_input *in, struct headroom_res_result *out)
{
	if (!o)
		return;
	in->capacity = get_u64(c, o, "capacity");
	in->node_used = get_u64(c, o, "node_used");
	in->system_used = get_u64(c, o, "system_used");
	in->reserved = get_u64(c, o, "reserved");
	in->ls_used = get_u64(c, o, "ls_used");
	in->ls_request = get_u64(c, o, "ls_request");
	in->ls_max_used_request = get_u64(c, o, "ls_max_used_request");
	in->mid_reclaimable = get_u64(c, o, "mid_reclaimable");
	out->batch = get_u64(c, o, "batch");
	out->mid = get_u64(c, o, "mid");
}

static void parse_headroom(struct rctx *c, const cJSON *o, struct record_headroom *hr)
{
	hr->in.measured_ns = get_u64(c, o, "measured_ns");
	hr->in.now_ns = get_u64(c, o, "now_ns");
	hr->out.degraded = get_u64(c, o, "degraded");
	parse_headroom_res(c, get_obj(c, o, "cpu"), &hr->in.res[HEADROOM_CPU],
			   &hr->out.res[HEADROOM_CPU]);
	parse_headroom_res(c, get_obj(c, o, "memory"), &hr->in.res[HEADROOM_MEMORY],
			   &hr->out.res[HEADROOM_MEMORY]);
}

static void parse_config(struct rctx *c, const cJSON *root, struct record *r)
{
	const cJSON *caps = get_obj(c, root, "caps");
	const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(root, "config");

	if (caps) {
		r->caps.cgroup_v2 = get_u64(c, caps, "cgroup_v2");
		r->caps.has_cpu_idle = get_u64(c, caps, "has_cpu_idle");
		r->caps.has_memory_qos = get_u64(c, caps, "has_memory_qos");
		r->caps.has_resctrl = get_u64(c, caps, "has_resctrl");
		/* recordings before beSchedSliceUs have none */
		if (cJSON_GetObjectItemCaseSensitive(caps, "has_sched_slice"))
			r->caps.has_sched_slice = get_u64(c, caps, "has_sched_slice");
	}
	if (!cJSON_IsObject(cfg)) {
		bad(c, "config: missing or not an object");
		return;
	}
	r->config_json = cJSON_PrintUnformatted(cfg);
	if (!r->config_json)
		bad(c, "config: out of memory");
}

static void parse_body(struct rctx *c, const cJSON *root, struct record *r)
{
	const cJSON *v;

	if (r->type == RECORD_CONFIG) {
		parse_config(c, root, r);
		return;
	}
	parse_state(c, get_obj(c, root, "before"), &r->before);
	parse_state(c, get_obj(c, root, "after"), &r->after);
	r->ret = (int)s64_of(c, cJSON_GetObjectItemCaseSensitive(root, "ret"), "ret");
	parse_decision(c, get_obj(c, root, "decision"), &r->dec);
	if (r->type == RECORD_BREACH) {
		v = get_obj(c, root, "breach");
		if (!v)
			return;
		r->breach.ls_cgroup_id = get_u64(c, v, "ls_cgroup_id");
		r->breach.latency_ns = get_u64(c, v, "latency_ns");
		r->breach.now_ms = get_u64(c, v, "now_ms");
		if (c->version < 2)
			return;
		r->breach.samples = get_u64(c, v, "samples");
		r->breach.breaches = get_u64(c, v, "breaches");
		r->breach.breaches_be = get_u64(c, v, "breaches_be");
		return;
	}
	parse_snapshot(c, get_obj(c, root, "snap"), &r->snap);
	v = cJSON_GetObjectItemCaseSensitive(root, "track");
	r->has_track = cJSON_IsObject(v);
	if (r->has_track) {
		parse_track(c, v, &r->track);
		/* sense copied the track's class sums into the snapshot */
		memcpy(r->track.sum, r->snap.sum, sizeof(r->track.sum));
	}
	v = cJSON_GetObjectItemCaseSensitive(root, "headroom");
	r->has_headroom = cJSON_IsObject(v);
	if (r->has_headroom)
		parse_headroom(c, v, &r->hr);
}

int record_parse(const char *line, struct record *r, char *err, size_t len)
{
	struct rctx c = { .err = err, .len = len };
	cJSON *root = cJSON_Parse(line);
	const cJSON *type;
	int t;

	memset(r, 0, sizeof(*r));
	if (!cJSON_IsObject(root)) {
		snprintf(err, len, "not a JSON object");
		cJSON_Delete(root);
		return -EINVAL;
	}
	type = cJSON_GetObjectItemCaseSensitive(root, "type");
	for (t = 0; t < RECORD_NR; t++)
		if (cJSON_IsString(type) && !strcmp(type->valuestring, record_type_name(t)))
			break;
	if (t == RECORD_NR)
		bad(&c, "type: not one of config, tick, breach");
	else if ((c.version = get_u64(&c, root, "v")) < 1 || c.version > RECORD_VERSION)
		bad(&c, "v: not version 1 to %d", RECORD_VERSION);
	r->type = (enum record_type)t;
	r->gen = get_u64(&c, root, "gen");
	if (!c.bad)
		parse_body(&c, root, r);
	cJSON_Delete(root);
	if (c.bad) {
		record_free(r);
		return -EINVAL;
	}
	return 0;
}

void record_free(struct record *r)
{
	free(r->config_json);
	decision_free(&r->dec);
	track_free(&r->track);
	memset(r, 0, sizeof(*r));
}

int record_config_params(const char *config_json, struct colod_config *cfg,
			 struct policy_params *pp, struct headroom_params *hp,
			 char *err, size_t len)
{
	struct config_errors errs;
	int e;

	config_errors_init(&errs);
	e = config_parse_document(config_json, "recorded configuration", NULL, cfg, &errs);
	if (e) {
		snprintf(err, len, "%s", errs.nr_errors ? errs.errors[0] : "invalid");
		return -EINVAL;
	}
	cfgmap_policy(cfg, pp);
	cfgmap_headroom(cfg, hp);
	return policy_params_check(pp, err, len);
}
