// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "cfgmap.h"
#include "classify.h"
#include "clock.h"
#include "decide.h"
#include "headroom.h"
#include "log.h"
#include "sense.h"

#define SCAN_BUDGET		400	/* walk cost x 400: 0.25% of a core */
#define MEM_EVERY_TICKS		5
#define BREACH_WINDOW_NS	50000000ULL	/* 50 ms */
#define EVENT_WALK_MIN_NS	100000000ULL	/* 100 ms between walks on events */
#define ARRAY_LEN(x)		(sizeof(x) / sizeof((x)[0]))
#define POD_FIRST_WAIT_MS	3000

/* Tell the kernel side a cgroup's class, LS target and flags (and, for top, its source). */
static void write_class(struct sensor *s, struct tracked *t, uint32_t flags)
{
	flags = (flags & ~COLOD_CG_SRC_MASK) |
		(((uint32_t)t->cls_src << COLOD_CG_SRC_SHIFT) & COLOD_CG_SRC_MASK);
	if (!maps_set_class(s->maps, t->id, t->cls, t->latency_target_us * 1000, flags))
		t->class_flags = flags;
}

/*
 * A top's memory limit and, for LS, its request: rule, else cpu.shares
 * (kubelet's layout: a Guaranteed pod's limit is its request). Read once,
 * when the cgroup first is a top: below a top of its class they are never
 * used, and on a node of 10,000 cgroups each file read is a dentry and an
 * inode the kernel keeps (docs/BENCHMARKS.md, "Scale").
 */
static void read_limits(struct sensor *s, struct tracked *t)
{
	const struct classify_rule *r;
	uint64_t shares;

	t->limits_read = true;
	cg_read_mem_limit(s->cg, t->path, &t->mem_limit);
	if (t->cls != COLOD_CLASS_LS)
		return;
	r = t->rule >= 0 ? &s->cfg->own.rules[t->rule] : NULL;
	if (r && r->cpu_request_milli)
		t->cpu_request_milli = r->cpu_request_milli;
	else if (!cg_read_cpu_shares(s->cg, t->path, &shares))
		t->cpu_request_milli = lsreq_cpu_from_shares(shares);
	t->mem_request_bytes = r ? r->memory_request_bytes :
			       lsreq_memory_request(0, t->mem_limit < 0 ? HEADROOM_UNLIMITED :
							  (uint64_t)t->mem_limit);
}

/* After cgroups came, went or changed class: which are tops now, and their limits. */
static void mark_tops(struct sensor *s)
{
	struct track *t = s->track;
	int i;

	track_mark_tops(t);
	for (i = 0; i < t->nr; i++)
		if (t->v[i].top && !t->v[i].limits_read)
			read_limits(s, &t->v[i]);
}

/*
 * The class a cgroup gets: its path's (rules, QoS directory), then, for a
 * pod's cgroups, the pod's spec when the pod source lists the pod.
 */
static const struct pod_meta *pod_class(struct sensor *s, const struct cgscan_entry *e,
					struct classify_result *r)
{
	const struct pod_meta *m = NULL;

	*r = e->cls;
	if (!s->pods || !r->pod_uid[0] || r->rule >= 0)
		return NULL;
	if (s->have_view)
		m = pod_view_find(&s->view, r->pod_uid);
	if (m)
		classify_pod(&m->cls, r);
	return m;
}

/*
 * A BE pod's own limits, as koordlet applies them: none where kubelet or
 * the runtime write a CPU or memory limit of their own (a container with
 * limits.cpu / limits.memory; docs/KUBELET.md).
 */
static void pod_limits(struct tracked *t, const struct pod_meta *m)
{
	bool be_pod = m && t->cls == COLOD_CLASS_BE && t->is_pod;

	t->batch_cpu_milli = be_pod && !m->cpu_limit && m->batch_cpu_milli > 0 ?
			     m->batch_cpu_milli : 0;
	t->batch_mem_bytes = be_pod && !m->mem_limit && m->batch_mem_bytes > 0 ?
			     m->batch_mem_bytes : 0;
}

static void track_new(struct sensor *s, const struct cgscan_entry *e)
{
	const struct pod_meta *m;
	struct classify_result r;
	struct tracked *t;

	m = pod_class(s, e, &r);
	if (s->pods && r.is_pod && r.rule < 0 && !m) {
		s->nr_pod_fallback++;
		pr_info("pod %s is not in the pod source's list%s: %s by its QoS "
			"directory", r.pod_uid, s->have_view ? "" : " (none yet)",
			class_name(r.cls));
	}
	if (r.cls == COLOD_CLASS_SYSTEM)
		return;
	t = track_add(s->track, e->id, e->path, r.cls, r.rule);
	if (!t)
		return;
	t->cls_src = r.src;
	t->is_pod = e->cls.is_pod;
	pod_limits(t, m);
	t->kubelet = e->cls.is_pod || e->cls.is_container || e->cls.is_qos;
	track_start(t, s->maps);
	if (t->cls == COLOD_CLASS_LS)
		t->latency_target_us = cfgmap_latency_target_us(s->cfg, t->rule);
	write_class(s, t, 0);
	pr_info("tracking %s cgroup %s (id %llu, by %s)", class_name(t->cls), t->path,
		(unsigned long long)t->id, class_source_name(t->cls_src));
}

static void forget(struct sensor *s, uint64_t id)
{
	track_remove(s->track, id);
	maps_del_class(s->maps, id);
}

/*
 * A full walk of the hierarchy finds new and removed cgroups. Its cost
 * grows with the number of cgroups, so it runs each tick only while it is
 * cheap: the next walk waits SCAN_BUDGET times the last one's duration
 * (0.25% of a core), at least a tick.
 */
static void rescan(struct sensor *s)
{
	uint64_t t0 = mono_ns();
	int i, n;

	if (t0 < s->next_scan_ns || cgscan_run(s->scan) < 0)
		return;
	s->last_walk_ns = t0;
	s->next_scan_ns = t0 + (mono_ns() - t0) * SCAN_BUDGET;
	s->track->scan_gen++;
	if (!cgscan_nr_removed(s->scan) && !cgscan_nr_changed(s->scan) &&
	    !cgscan_nr_added(s->scan))
		return;
	for (i = 0, n = cgscan_nr_removed(s->scan); i < n; i++)
		forget(s, cgscan_removed(s->scan, i)->id);
	/* a rule change re-classifies: drop and add again */
	for (i = 0, n = cgscan_nr_changed(s->scan); i < n; i++) {
		forget(s, cgscan_changed(s->scan, i)->id);
		track_new(s, cgscan_changed(s->scan, i));
	}
	for (i = 0, n = cgscan_nr_added(s->scan); i < n; i++)
		track_new(s, cgscan_added(s->scan, i));
	mark_tops(s);
}

/* A pod's cgroup under a new list: re-classed (dropped, added) or new limits. */
static bool pod_reclass(struct sensor *s, const struct cgscan_entry *e)
{
	struct tracked *t = track_find(s->track, e->id);
	const struct pod_meta *m;
	struct classify_result r;

	m = pod_class(s, e, &r);
	if (t && t->cls == r.cls && t->cls_src == (int)r.src) {
		pod_limits(t, m);
		return false;
	}
	if (!t && r.cls == COLOD_CLASS_SYSTEM)
		return false;
	pr_info("pod %s: cgroup %s is now %s (by %s)", r.pod_uid, e->path,
		class_name(r.cls), class_source_name(r.src));
	if (t)
		forget(s, e->id);
	track_new(s, e);
	return true;
}

/*
 * A new list from the pod source: every pod cgroup is classed again when
 * it differs from the last (a label changed, a pod came or went), so a
 * change shows within the tick that takes the list. A failed poll leaves
 * the last list in force (podsource.c).
 */
static void pods_refresh(struct sensor *s)
{
	struct pod_view old = s->view;
	bool same, changed = false;
	int i, n;

	s->view = (struct pod_view) {};
	if (!s->pods || !podsource_take(s->pods, &s->view)) {
		s->view = old;
		return;
	}
	same = s->have_view && old.nr == s->view.nr &&
	       (!old.nr || !memcmp(old.pods, s->view.pods, old.nr * sizeof(*old.pods)));
	pod_view_free(&old);
	if (same)
		return;
	s->have_view = true;
	for (i = 0, n = cgscan_count(s->scan); i < n; i++) {
		const struct cgscan_entry *e = cgscan_entry(s->scan, i);

		if (e->cls.pod_uid[0])
			changed |= pod_reclass(s, e);
	}
	if (changed)
		mark_tops(s);
}

void sense_stop(struct sensor *s)
{
	podsource_stop(s->pods);
	s->pods = NULL;
	pod_view_free(&s->view);
}

/*
 * Memory moves slower than CPU and memory.stat is costly to read: every
 * MEM_EVERY_TICKS per cgroup (spread over the ticks by id), cached between.
 * BE tops are read every tick: memory protection acts on their sum.
 */
uint64_t sense_memory(struct sensor *s, struct tracked *t)
{
	bool every = t->cls == COLOD_CLASS_BE && t->top;
	uint64_t v;
	int err;

	if (t->no_memory ||
	    (t->mem_read && !every && (s->nr_ticks + t->id) % MEM_EVERY_TICKS))
		return t->mem_bytes;
	t->mem_read = true;
	err = cg_read_mem_usage(s->cg, t->path, &v);
	if (err == -ENOENT)
		t->no_memory = true;
	t->mem_bytes = err ? 0 : v;
	return t->mem_bytes;
}

static void sense_memory_all(struct sensor *s, struct snapshot *out)
{
	struct track *t = s->track;
	int i;

	for (i = 0; i < t->nr; i++) {
		struct tracked *c = &t->v[i];

		if (c->top)
			out->mem_used[c->cls] += sense_memory(s, c);
		else if (c->cls == COLOD_CLASS_BE && c->is_pod)
			sense_memory(s, c);	/* eviction's order */
	}
}

/* A BE cgroup is idle-class when its pod (or its top) holds cpu.idle=1. */
void sense_class_flags(struct sensor *s)
{
	struct track *t = s->track;
	int i, h;

	for (i = 0; i < t->nr; i++) {
		struct tracked *c = &t->v[i];
		uint32_t flags;

		if (c->cls != COLOD_CLASS_BE)
			continue;
		h = decide_idle_holder(t, i);
		flags = h >= 0 && t->v[h].cpu_idle ? COLOD_CG_IDLE : 0;
		if (flags != (c->class_flags & ~COLOD_CG_SRC_MASK))
			write_class(s, c, flags);
	}
}

void sense_start(struct sensor *s)
{
	node_read(&s->node_prev);
	s->last_tick_ns = mono_ns();
	/* the first walk classes pods by their spec, not by directory first */
	if (s->pods && !podsource_wait_first(s->pods, POD_FIRST_WAIT_MS))
		pr_warn("pod source: no list yet; pods are classed by their QoS "
			"directory until one arrives");
	pods_refresh(s);
	rescan(s);
}

void sense_tick(struct sensor *s, struct snapshot *out)
{
	struct node_sample n = s->node_prev;
	uint64_t now = mono_ns();

	memset(out, 0, sizeof(*out));
	s->nr_ticks++;
	pods_refresh(s);
	rescan(s);
	out->now_ns = now;
	out->tick_ns = now - s->last_tick_ns;
	out->capacity_milli = s->capacity_milli;
	track_measure(s->track, s->maps, out->tick_ns);
	memcpy(out->sum, s->track->sum, sizeof(out->sum));
	if (node_read(&n))
		n = s->node_prev;
	else if (n.total_ns > s->node_prev.total_ns)
		out->node_busy_milli = (n.busy_ns - s->node_prev.busy_ns) *
				       s->capacity_milli / (n.total_ns - s->node_prev.total_ns);
	out->node = n;
	s->node_prev = n;
	s->last_tick_ns = now;
	sense_memory_all(s, out);
}

/*
 * The kernel reported cgroups made or removed: walk now, unless a walk ran within
 * EVENT_WALK_MIN_NS, so that a burst of mkdirs (a pod in every v1
 * hierarchy, a node starting its pods) costs one walk per window.
 */
uint64_t sense_cgroups_changed(struct sensor *s)
{
	uint64_t now = mono_ns(), next = s->last_walk_ns + EVENT_WALK_MIN_NS;

	if (now < next)
		return next - now;
	s->next_scan_ns = 0;
	rescan(s);
	return 0;
}

void sense_config_changed(struct sensor *s)
{
	struct track *t = s->track;
	int i;

	if (s->scan) {
		cgscan_set_rules(s->scan, s->cfg->own.rules, s->cfg->own.nr_rules);
		cgscan_set_kubelet_root(s->scan, s->cfg->own.kubelet_cgroup_root);
	}
	/* re-class at once: a reload's effect shows within the next tick */
	s->next_scan_ns = 0;
	for (i = 0; i < t->nr; i++) {
		if (t->v[i].cls != COLOD_CLASS_LS)
			continue;
		t->v[i].latency_target_us = cfgmap_latency_target_us(s->cfg, t->v[i].rule);
		write_class(s, &t->v[i], t->v[i].class_flags);
	}
}

/*
 * One slow wake-up is the tail an LS target allows (1% of its waits). A
 * cut needs breaches that BE is to blame for (the kernel sends no others)
 * within the last BREACH_WINDOW_NS: at least TRACK_BREACH_MIN, more than
 * twice that budget, and more than an LS at its budget shows by chance
 * (policy_breach_evidence). Right after BE starts they come within a few
 * milliseconds: 3 of 3 waits. An LS near its budget with 2,000 waits a
 * second needs 7 of about 120, where 3 used to pass. The counters at
 * recent events are kept per cgroup to find the window's start.
 */
bool sense_breach(struct sensor *s, uint64_t cgid, uint64_t now_ns, struct policy_breach *b)
{
	struct tracked *t = track_find(s->track, cgid);
	const struct breach_snap *base = NULL;
	enum policy_evidence ev;
	struct colod_cg_counters now;
	struct breach_snap cur;
	struct tracked_ls *ls;
	unsigned int i, n;

	/* the kernel reports LS cgroups only */
	if (!t || !(ls = t->ls) || maps_read_cnt(s->maps, cgid, &now))
		return false;
	cur = (struct breach_snap) { now_ns, now.runq_count, now.breaches_be, now.breaches };
	n = ls->nsnap < ARRAY_LEN(ls->snap) ? ls->nsnap : ARRAY_LEN(ls->snap);
	/* the newest snapshot at least a window old, else the oldest kept */
	for (i = 0; i < n; i++) {
		const struct breach_snap *sn = &ls->snap[(ls->nsnap - 1 - i) % ARRAY_LEN(ls->snap)];

		base = sn;
		if (now_ns - sn->t_ns >= BREACH_WINDOW_NS)
			break;
	}
	ls->snap[ls->nsnap++ % ARRAY_LEN(ls->snap)] = cur;
	if (!base)
		return false;
	/* the window's evidence: decide holds a distrusted cgroup to more */
	b->samples = cur.samples - base->samples;
	b->breaches_be = cur.breaches - base->breaches;
	b->breaches = cur.breaches_all - base->breaches_all;
	ev = policy_breach_evidence(b->breaches_be, b->samples);
	s->nr_breach_chance += ev == POLICY_EV_CHANCE;
	return ev == POLICY_EV_BEYOND;
}
