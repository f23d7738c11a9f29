// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The flight recorder's writer (record.h). One line is built in memory and
 * written with one write(2): a reader never sees half a record, and a
 * crash loses at most the line being built. Integers are formatted by hand
 * (no printf per field): a tick of a node with 1,000 tracked cgroups is
 * about 100 KB of text, and the recorder is meant to stay on.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "fileio.h"
#include "log.h"
#include "metrics.h"
#include "record.h"

#define JSON_SAFE_MAX	(1ULL << 53)	/* doubles hold integers exactly up to here */

struct recorder {
	char *path;
	uint64_t max_bytes, size, total;
	unsigned int files;
	bool with_track;
	int fd;
	uint64_t gen;			/* generation of the last config record */
	bool have_gen;
	struct strbuf b;
};

static void put(struct strbuf *b, const char *s)
{
	strbuf_append(b, s, strlen(s));
}

static void put_u64(struct strbuf *b, uint64_t v)
{
	char tmp[24], *p = tmp + sizeof(tmp);
	bool quote = v >= JSON_SAFE_MAX;

	if (quote)
		*--p = '"';
	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	if (quote)
		*--p = '"';
	strbuf_append(b, p, (size_t)(tmp + sizeof(tmp) - p));
}

static void put_s64(struct strbuf *b, int64_t v)
{
	if (v < 0) {
		strbuf_append(b, "-", 1);
		put_u64(b, (uint64_t)-(v + 1) + 1);
		return;
	}
	put_u64(b, (uint64_t)v);
}

/* "key": as a JSON member, with a comma before it unless first */
static void key(struct strbuf *b, const char *k)
{
	if (b->len && b->buf[b->len - 1] != '{' && b->buf[b->len - 1] != '[')
		strbuf_append(b, ",", 1);
	strbuf_append(b, "\"", 1);
	put(b, k);
	strbuf_append(b, "\":", 2);
}

static void kv(struct strbuf *b, const char *k, uint64_t v)
{
	key(b, k);
	put_u64(b, v);
}

static void item(struct strbuf *b, uint64_t v)
{
	if (b->buf[b->len - 1] != '[')
		strbuf_append(b, ",", 1);
	put_u64(b, v);
}

static void put_str(struct strbuf *b, const char *s)
{
	const char *p;
	char esc[8];

	strbuf_append(b, "\"", 1);
	for (p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			strbuf_append(b, esc, 2);
		} else if (c < 0x20) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			strbuf_append(b, esc, 6);
		} else {
			strbuf_append(b, p, 1);
		}
	}
	strbuf_append(b, "\"", 1);
}

static void put_items(struct strbuf *b, const char *k, const uint64_t *v, int n)
{
	int i;

	key(b, k);
	put(b, "[");
	for (i = 0; i < n; i++)
		item(b, v[i]);
	put(b, "]");
}

/* Cuts waiting for their verdict, the distrusted LS cgroups, the last verdict. */
static void put_judging(struct strbuf *b, const struct policy_state *s)
{
	const struct policy_judge *j = &s->judge;
	const struct policy_verdict *v = &s->verdict;
	uint64_t jv[] = { j->cgid, j->last_cut_ms, j->pre_milli, j->nr_cuts, j->before_ppm,
			  j->after_ms, j->after_breaches, j->after_samples, j->after_p99_milli };
	uint64_t vv[] = { v->at_ms, v->cgid, v->verdict, v->nr_cuts, v->before_ppm,
			  v->after_ppm, v->after_p99_milli, v->need_ppm };
	int i;

	put_items(b, "judge", jv, 9);
	/* distrust: [slot, cgid, need_ppm, until_ms], taken slots only */
	key(b, "distrust");
	put(b, "[");
	for (i = 0; i < POLICY_DISTRUST_MAX; i++) {
		const struct policy_distrust *d = &s->distrust[i];

		if (!d->cgid)
			continue;
		put(b, b->buf[b->len - 1] == '[' ? "[" : ",[");
		put_u64(b, (uint64_t)i);
		item(b, d->cgid);
		item(b, d->need_ppm);
		item(b, d->until_ms);
		put(b, "]");
	}
	put(b, "]");
	put_items(b, "verdict", vv, 8);
	kv(b, "nr_verdicts", s->nr_verdicts);
	put_items(b, "nr_judged", s->nr_judged, POLICY_V_NR);
}

static void put_state(struct strbuf *b, const char *k, const struct policy_state *s)
{
	uint32_t i;

	key(b, k);
	put(b, "{");
	kv(b, "capacity_milli", s->capacity_milli);
	kv(b, "allowed_milli", s->allowed_milli);
	kv(b, "cpu_limited", s->cpu_limited);
	kv(b, "cpus", s->cpus);
	kv(b, "bound_milli", s->bound_milli);
	kv(b, "last_breach_ms", s->last_breach_ms);
	kv(b, "last_md_ms", s->last_md_ms);
	kv(b, "last_cut_ms", s->last_cut_ms);
	kv(b, "last_grow_ms", s->last_grow_ms);
	kv(b, "last_tick_ms", s->last_tick_ms);
	kv(b, "breach_answered", s->breach_answered);
	kv(b, "be_mem_high", s->be_mem_high);
	kv(b, "mem_stuck_ticks", s->mem_stuck_ticks);
	kv(b, "last_mem_pressure_ms", s->last_mem_pressure_ms);
	kv(b, "last_mem_change_ms", s->last_mem_change_ms);
	kv(b, "last_evict_ms", s->last_evict_ms);
	kv(b, "nr_cuts", s->nr_cuts);
	kv(b, "nr_grows", s->nr_grows);
	kv(b, "nr_evicts", s->nr_evicts);
	put_judging(b, s);
	/* the growth ceiling's window, oldest first */
	key(b, "win");
	put(b, "[");
	for (i = 0; i < s->win_len; i++) {
		const struct policy_bound_sample *w =
			&s->win[(s->win_head + i) % POLICY_WIN_MAX];

		put(b, i ? ",[" : "[");
		put_u64(b, w->t_ms);
		item(b, w->milli);
		put(b, "]");
	}
	put(b, "]}");
}

static void put_decision(struct strbuf *b, int ret, const struct decision *d)
{
	int i;

	key(b, "ret");
	put_s64(b, ret);
	key(b, "decision");
	put(b, "{");
	kv(b, "cpu_only", d->cpu_only);
	/* knobs: [track index, kind, value, period_us] */
	key(b, "knobs");
	put(b, "[");
	for (i = 0; i < d->nr_knobs; i++) {
		put(b, i ? ",[" : "[");
		put_s64(b, d->knobs[i].cg);
		item(b, d->knobs[i].kind);
		strbuf_append(b, ",", 1);
		put_s64(b, d->knobs[i].value);
		item(b, d->knobs[i].period_us);
		put(b, "]");
	}
	/* actions: [kind, reason, old, new, bound, measured, unit, trigger] */
	put(b, "]");
	key(b, "acts");
	put(b, "[");
	for (i = 0; i < d->nr_acts; i++) {
		const struct policy_action *a = &d->acts[i];

		put(b, i ? ",[" : "[");
		put_u64(b, a->kind);
		item(b, a->reason);
		item(b, a->old_value);
		item(b, a->new_value);
		item(b, a->bound);
		item(b, a->measured);
		item(b, a->unit);
		item(b, a->trigger_cgroup_id);
		put(b, "]");
	}
	put(b, "]");
	key(b, "evict");
	put(b, "[");
	for (i = 0; i < d->nr_evict; i++) {
		if (i)
			put(b, ",");
		put_s64(b, d->evict[i]);
	}
	put(b, "]}");
}

static void put_sums(struct strbuf *b, const struct class_sums *s)
{
	int c;

	key(b, "sum");
	put(b, "[");
	for (c = 0; c < COLOD_CLASS_NR; c++) {
		put(b, c ? ",[" : "[");
		put_u64(b, s[c].cpu_milli);
		item(b, s[c].breaches);
		item(b, s[c].direct_reclaim_ns);
		item(b, s[c].worst_p99_milli);
		item(b, s[c].runq_count);
		put(b, "]");
	}
	put(b, "]");
}

static void put_snapshot(struct strbuf *b, const struct snapshot *s)
{
	int c;

	key(b, "snap");
	put(b, "{");
	kv(b, "now_ns", s->now_ns);
	kv(b, "tick_ns", s->tick_ns);
	kv(b, "capacity_milli", s->capacity_milli);
	kv(b, "node_busy_milli", s->node_busy_milli);
	kv(b, "busy_ns", s->node.busy_ns);
	kv(b, "total_ns", s->node.total_ns);
	kv(b, "mem_total", s->node.mem_total);
	kv(b, "mem_used", s->node.mem_used);
	put_sums(b, s->sum);
	key(b, "class_mem");
	put(b, "[");
	for (c = 0; c < COLOD_CLASS_NR; c++)
		item(b, s->mem_used[c]);
	put(b, "]");
	kv(b, "config_gen", s->config_gen);
	put(b, "}");
}

/* The per-cgroup array's fields, in order: what decide reads of each. */
static const char track_fields[] =
	"id,path,cls,rule,top,top_of,kubelet,is_pod,pod_of,nr_below,scan_gen,"
	"mem_limit,latency_target_us,cpu_request_milli,mem_request_bytes,"
	"cpu_milli,tree_cpu_milli,mem_bytes,p99_ns,cls_src,tick_samples,tick_breaches,"
	"tick_breaches_be,batch_cpu_milli,batch_mem_bytes";

static void put_track(struct strbuf *b, const struct track *t)
{
	int i, c;

	key(b, "track");
	put(b, "{");
	kv(b, "scan_gen", t->scan_gen);
	key(b, "nr_top");
	put(b, "[");
	for (c = 0; c < COLOD_CLASS_NR; c++)
		item(b, (uint64_t)t->nr_top[c]);
	put(b, "]");
	key(b, "cg");
	put(b, "[");
	for (i = 0; i < t->nr; i++) {
		const struct tracked *e = &t->v[i];

		put(b, i ? ",[" : "[");
		put_u64(b, e->id);
		strbuf_append(b, ",", 1);
		put_str(b, e->path);
		item(b, e->cls);
		strbuf_append(b, ",", 1);
		put_s64(b, e->rule);
		item(b, e->top);
		item(b, (uint64_t)e->top_of);
		item(b, e->kubelet);
		item(b, e->is_pod);
		strbuf_append(b, ",", 1);
		put_s64(b, e->pod_of);
		item(b, (uint64_t)e->nr_below);
		item(b, e->scan_gen);
		strbuf_append(b, ",", 1);
		put_s64(b, e->mem_limit);
		item(b, e->latency_target_us);
		item(b, e->cpu_request_milli);
		item(b, e->mem_request_bytes);
		item(b, e->cpu_milli);
		item(b, e->tree_cpu_milli);
		item(b, e->mem_bytes);
		/* p99 in whole ns: exact in JSON, and decide never reads it */
		item(b, (uint64_t)(e->p99_us * 1000));
		strbuf_append(b, ",", 1);
		put_s64(b, e->cls_src);
		item(b, e->tick_samples);
		item(b, e->tick_breaches);
		item(b, e->tick_breaches_be);
		strbuf_append(b, ",", 1);
		put_s64(b, e->batch_cpu_milli);
		strbuf_append(b, ",", 1);
		put_s64(b, e->batch_mem_bytes);
		put(b, "]");
	}
	put(b, "]}");
}

static void put_headroom_res(struct strbuf *b, const struct headroom_res_input *in,
			     const struct headroom_res_result *out)
{
	put(b, "{");
	kv(b, "capacity", in->capacity);
	kv(b, "node_used", in->node_used);
	kv(b, "system_used", in->system_used);
	kv(b, "reserved", in->reserved);
	kv(b, "ls_used", in->ls_used);
	kv(b, "ls_request", in->ls_request);
	kv(b, "ls_max_used_request", in->ls_max_used_request);
	kv(b, "mid_reclaimable", in->mid_reclaimable);
	kv(b, "batch", out->batch);
	kv(b, "mid", out->mid);
	put(b, "}");
}

static void put_headroom(struct strbuf *b, const struct record_headroom *hr)
{
	key(b, "headroom");
	put(b, "{");
	kv(b, "measured_ns", hr->in.measured_ns);
	kv(b, "now_ns", hr->in.now_ns);
	kv(b, "degraded", hr->out.degraded);
	key(b, "cpu");
	put_headroom_res(b, &hr->in.res[HEADROOM_CPU], &hr->out.res[HEADROOM_CPU]);
	key(b, "memory");
	put_headroom_res(b, &hr->in.res[HEADROOM_MEMORY], &hr->out.res[HEADROOM_MEMORY]);
	put(b, "}");
}

const char *record_type_name(enum record_type t)
{
	static const char *const names[RECORD_NR] = { "config", "tick", "breach" };

	return t < RECORD_NR ? names[t] : "?";
}

static void begin(struct strbuf *b, enum record_type t, uint64_t gen)
{
	strbuf_reset(b);
	put(b, "{");
	key(b, "type");
	put_str(b, record_type_name(t));
	kv(b, "v", RECORD_VERSION);
	kv(b, "gen", gen);
}

/* path.<k> for k >= 1, path itself for 0 */
static void nth_path(const struct recorder *r, unsigned int k, char *buf, size_t len)
{
	if (k)
		snprintf(buf, len, "%s.%u", r->path, k);
	else
		snprintf(buf, len, "%s", r->path);
}

static int open_file(struct recorder *r, bool truncate)
{
	off_t end;

	r->fd = open(r->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC |
		     (truncate ? O_TRUNC : 0), 0644);
	if (r->fd < 0)
		return -errno;
	end = lseek(r->fd, 0, SEEK_END);
	r->size = end > 0 ? (uint64_t)end : 0;
	r->have_gen = false;		/* every file starts with its configuration */
	return 0;
}

static int rotate(struct recorder *r)
{
	char from[4096], to[4096];
	unsigned int k;

	close(r->fd);
	r->fd = -1;
	for (k = r->files - 1; k >= 1; k--) {
		nth_path(r, k - 1, from, sizeof(from));
		nth_path(r, k, to, sizeof(to));
		if (rename(from, to) && errno != ENOENT)
			pr_warn("record: rename %s -> %s: %s", from, to, strerror(errno));
	}
	return open_file(r, true);
}

/* The line in r->b, after a rotation if it would pass the size bound. */
static void emit(struct recorder *r)
{
	int err;

	if (r->b.err || r->fd < 0)
		return;
	put(&r->b, "}\n");
	err = write_all(r->fd, r->b.buf, r->b.len);
	if (err) {
		pr_warn("record: %s: %s; recording stops", r->path, strerror(-err));
		close(r->fd);
		r->fd = -1;
		return;
	}
	r->size += r->b.len;
	r->total += r->b.len;
}

static void config_record(struct recorder *r, const struct record_src *src)
{
	char *json = config_to_json(src->cfg);

	if (json)
		cJSON_Minify(json);	/* one record, one line */
	begin(&r->b, RECORD_CONFIG, *src->gen);
	key(&r->b, "caps");
	put(&r->b, "{");
	kv(&r->b, "cgroup_v2", src->caps->cgroup_v2);
	kv(&r->b, "has_cpu_idle", src->caps->has_cpu_idle);
	kv(&r->b, "has_memory_qos", src->caps->has_memory_qos);
	kv(&r->b, "has_resctrl", src->caps->has_resctrl);
	kv(&r->b, "has_sched_slice", src->caps->has_sched_slice);
	put(&r->b, "}");
	key(&r->b, "track_fields");
	put_str(&r->b, track_fields);
	key(&r->b, "config");
	put(&r->b, json ? json : "null");
	free(json);
	emit(r);
	r->gen = *src->gen;
	r->have_gen = true;
}

/*
 * Rotate when the line in b would pass the bound, then the configuration
 * if this file has none yet or it changed, then the line.
 */
static void commit(struct recorder *r, const struct record_src *src)
{
	struct strbuf line = r->b;

	if (r->fd < 0 || line.err)
		return;
	if (r->size && r->size + line.len + 2 > r->max_bytes && rotate(r)) {
		pr_warn("record: %s: cannot rotate; recording stops", r->path);
		return;
	}
	if (!r->have_gen || r->gen != *src->gen) {
		/* the config record borrows the buffer: build it in a new one */
		strbuf_init(&r->b);
		config_record(r, src);
		strbuf_free(&r->b);
		r->b = line;
	}
	emit(r);
}

void recorder_tick(struct recorder *r, const struct record_src *src,
		   const struct policy_state *before, const struct policy_state *after,
		   const struct snapshot *snap, const struct decision *d,
		   const struct record_headroom *hr)
{
	if (!r)
		return;
	begin(&r->b, RECORD_TICK, *src->gen);
	put_snapshot(&r->b, snap);
	if (r->with_track)
		put_track(&r->b, src->track);
	put_state(&r->b, "before", before);
	put_decision(&r->b, 0, d);
	put_state(&r->b, "after", after);
	if (hr)
		put_headroom(&r->b, hr);
	commit(r, src);
}

void recorder_breach(struct recorder *r, const struct record_src *src,
		     const struct policy_state *before, const struct policy_state *after,
		     const struct policy_breach *b, int ret, const struct decision *d)
{
	if (!r)
		return;
	begin(&r->b, RECORD_BREACH, *src->gen);
	key(&r->b, "breach");
	put(&r->b, "{");
	kv(&r->b, "ls_cgroup_id", b->ls_cgroup_id);
	kv(&r->b, "latency_ns", b->latency_ns);
	kv(&r->b, "now_ms", b->now_ms);
	kv(&r->b, "samples", b->samples);
	kv(&r->b, "breaches", b->breaches);
	kv(&r->b, "breaches_be", b->breaches_be);
	put(&r->b, "}");
	put_state(&r->b, "before", before);
	put_decision(&r->b, ret, d);
	put_state(&r->b, "after", after);
	commit(r, src);
}

struct recorder *recorder_open(const char *path, uint64_t max_bytes, unsigned int files,
			       bool with_track)
{
	struct recorder *r = calloc(1, sizeof(*r));
	int err;

	if (!r)
		return NULL;
	r->path = strdup(path);
	r->max_bytes = max_bytes;
	r->files = files ? files : 1;
	r->with_track = with_track;
	strbuf_init(&r->b);
	err = r->path ? open_file(r, false) : -ENOMEM;
	if (err) {
		free(r->path);
		free(r);
		errno = -err;
		return NULL;
	}
	return r;
}

void recorder_close(struct recorder *r)
{
	if (!r)
		return;
	if (r->fd >= 0)
		close(r->fd);
	strbuf_free(&r->b);
	free(r->path);
	free(r);
}

uint64_t recorder_bytes(const struct recorder *r)
{
	return r ? r->total : 0;
}
