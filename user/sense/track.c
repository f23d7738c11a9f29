// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdlib.h>
#include <string.h>
#include "hist.h"
#include "policy.h"
#include "track.h"

struct tracked *track_add(struct track *t, uint64_t id, const char *path,
			  enum colod_class cls, int rule)
{
	struct tracked *n;

	if (t->nr == t->cap) {
		int cap = t->cap ? t->cap * 2 : 64;

		n = realloc(t->v, cap * sizeof(*n));
		if (!n)
			return NULL;
		t->v = n;
		t->cap = cap;
	}
	n = &t->v[t->nr];
	memset(n, 0, sizeof(*n));
	n->path = strdup(path);
	if (cls == COLOD_CLASS_LS)
		n->ls = calloc(1, sizeof(*n->ls));
	if (!n->path || (cls == COLOD_CLASS_LS && !n->ls)) {
		free(n->path);
		free(n->ls);
		return NULL;
	}
	n->id = id;
	n->cls = cls;
	n->rule = rule;
	n->pod_of = -1;
	n->mem_limit = -1;
	n->scan_gen = t->scan_gen;
	t->nr++;
	return n;
}

struct tracked *track_find(const struct track *t, uint64_t id)
{
	int i;

	for (i = 0; i < t->nr; i++)
		if (t->v[i].id == id)
			return (struct tracked *)&t->v[i];
	return NULL;
}

void track_remove(struct track *t, uint64_t id)
{
	struct tracked *e = track_find(t, id);

	if (!e)
		return;
	free(e->path);
	free(e->ls);
	*e = t->v[--t->nr];
}

void track_start(struct tracked *e, const struct colod_maps *m)
{
	struct colod_cg_hist now;

	/* no entry yet: nothing ran (or waited) in it, and zero is where it starts */
	if (maps_read_cnt(m, e->id, &e->prev))
		memset(&e->prev, 0, sizeof(e->prev));
	if (!e->ls || maps_read_hist(m, e->id, now.runq_hist))
		return;
	memcpy(e->ls->runq_prev, now.runq_hist, sizeof(e->ls->runq_prev));
	hist_prom_add(e->ls->runq_buckets, now.runq_hist);
}

/* a is below b in the hierarchy: "/x/y" under "/x" */
static bool is_below(const char *a, const char *b)
{
	size_t n = strlen(b);

	if (!strcmp(b, "/"))
		return strcmp(a, "/") != 0;
	return !strncmp(a, b, n) && a[n] == '/';
}

/*
 * Path order with '/' before every other byte: a cgroup's descendants
 * follow it at once ("/a", "/a/c", "/a-b"), so one pass with a stack of
 * ancestors sees the whole hierarchy.
 */
static int path_rank(unsigned char c)
{
	return c == '/' ? 1 : c ? c + 1 : 0;
}

static int cmp_path(const void *x, const void *y, void *arg)
{
	const struct tracked *v = arg;
	const unsigned char *a = (const unsigned char *)v[*(const int *)x].path;
	const unsigned char *b = (const unsigned char *)v[*(const int *)y].path;

	for (; *a && *a == *b; a++, b++)
		;
	return path_rank(*a) - path_rank(*b);
}

/*
 * Memory and limits are hierarchical in cgroupfs while BPF CPU time is
 * charged to the leaf: only the topmost cgroup of a class is summed for
 * memory and receives BE limits. O(n log n): it runs after every scan
 * that found a change, on nodes with thousands of tracked cgroups.
 */
void track_mark_tops(struct track *t)
{
	int *order = malloc((size_t)(t->nr ? t->nr : 1) * 2 * sizeof(int));
	int *stack = order + (t->nr ? t->nr : 1);
	int i, k, n, depth = 0;

	if (!order)
		return;	/* the flags and counts of the last pass stay */
	memset(t->nr_top, 0, sizeof(t->nr_top));
	for (i = 0; i < t->nr; i++) {
		order[i] = i;
		t->v[i].nr_below = 0;
	}
	qsort_r(order, t->nr, sizeof(*order), cmp_path, t->v);
	for (n = 0; n < t->nr; n++) {
		struct tracked *c = &t->v[order[n]];

		while (depth && !is_below(c->path, t->v[stack[depth - 1]].path))
			depth--;
		c->top = true;
		c->top_of = order[n];
		c->pod_of = c->is_pod ? order[n] : -1;
		for (k = depth - 1; k >= 0; k--) {	/* nearest first: the topmost wins */
			struct tracked *p = &t->v[stack[k]];

			p->nr_below++;
			if (p->is_pod)
				c->pod_of = stack[k];
			if (p->cls == c->cls) {
				c->top = false;
				c->top_of = stack[k];
			}
		}
		t->nr_top[c->cls] += c->top;
		stack[depth++] = order[n];
	}
	free(order);
}

int track_count_top(const struct track *t, enum colod_class cls)
{
	return t->nr_top[cls];
}

bool track_over_budget(uint64_t breaches, uint64_t samples, unsigned int budget_pct)
{
	return policy_over_ppm(breaches, samples, budget_pct * POLICY_PPM / 100);
}

void track_ls_delta(struct tracked_ls *ls, const __u32 *now, __u32 *d)
{
	int i;

	for (i = 0; i < COLOD_HIST_SLOTS; i++)
		d[i] = now[i] - ls->runq_prev[i];
	memcpy(ls->runq_prev, now, sizeof(ls->runq_prev));
	hist_prom_add(ls->runq_buckets, d);
}

/* The counters' delta over the tick (now: cumulative); prev moves on to now. */
static void measure_cnt(struct tracked *e, const struct colod_cg_counters *now,
			uint64_t tick_ns)
{
	struct colod_cg_counters d;

	cg_counters_delta(now, &e->prev, &d);
	e->prev = *now;
	e->cpu_milli = tick_ns ? d.cpu_ns * 1000 / tick_ns : 0;
	e->tick_samples = d.runq_count;
	e->tick_breaches = d.breaches;
	e->tick_breaches_be = d.breaches_be;
	e->tick_reclaim_ns = d.direct_reclaim_ns;
}

/* An LS cgroup's p99 over the tick from its slots now (cumulative). */
static void measure_hist(struct tracked *e, const __u32 *now)
{
	__u32 d[COLOD_HIST_SLOTS];

	track_ls_delta(e->ls, now, d);
	e->p99_us = hist_percentile_us(d, COLOD_HIST_SLOTS, 99);
}

static void add_sums(struct track *t, const struct tracked *e)
{
	struct class_sums *s = &t->sum[e->cls];
	bool blamed = track_over_budget(e->tick_breaches_be, e->tick_samples, 1);
	uint32_t ratio;

	s->cpu_milli += e->cpu_milli;
	/*
	 * BE answers only for the breaches it is to blame for (the kernel
	 * attributes each one) beyond the LS's 1% budget, and for the p99 of
	 * such an LS, as the tick's decision counts them (tick_signal() in
	 * policy.c): an LS late on its own does not cut BE nor hold its
	 * regrowth.
	 */
	if (blamed)
		s->breaches += e->tick_breaches_be;
	s->direct_reclaim_ns += e->tick_reclaim_ns;
	s->runq_count += e->tick_samples;
	if (e->cls == COLOD_CLASS_LS && e->latency_target_us && blamed) {
		ratio = (uint32_t)(e->p99_us * 1000 / e->latency_target_us);
		if (ratio > s->worst_p99_milli)
			s->worst_p99_milli = ratio;
	}
}

/* Batch reads of cg_stats and cg_hist: each entry's tracked cgroup found by id. */
struct batch {
	struct track *t;
	int *slot;		/* open addressing: index into t->v, -1 free */
	unsigned int mask;
	bool *seen;		/* seen[i]: t->v[i] had an entry */
	uint64_t tick_ns;
};

static unsigned int id_hash(uint64_t id)
{
	return (unsigned int)((id * 0x9e3779b97f4a7c15ULL) >> 32);
}

/* The tracked cgroup of id whose entry was not seen yet, or NULL. */
static struct tracked *batch_find(struct batch *b, uint64_t id)
{
	unsigned int h = id_hash(id) & b->mask;
	int i;

	for (; (i = b->slot[h]) >= 0; h = (h + 1) & b->mask) {
		if (b->t->v[i].id != id)
			continue;
		if (b->seen[i])
			return NULL;
		b->seen[i] = true;
		return &b->t->v[i];
	}
	return NULL;
}

static int batch_cnt(uint64_t id, const struct colod_cg_counters *c, void *ctx)
{
	struct batch *b = ctx;
	struct tracked *e = batch_find(b, id);

	if (e)
		measure_cnt(e, c, b->tick_ns);
	return 0;
}

static int batch_hist(uint64_t id, const struct colod_cg_hist *h, void *ctx)
{
	struct tracked *e = batch_find(ctx, id);

	if (e && e->ls)
		measure_hist(e, h->runq_hist);
	return 0;
}

static bool batch_init(struct batch *b)
{
	struct track *t = b->t;
	unsigned int n = 16, h;
	int i;

	while (n < 2 * (unsigned int)t->nr)
		n *= 2;
	b->slot = malloc(n * sizeof(*b->slot));
	if (!b->slot)
		return false;
	b->mask = n - 1;
	memset(b->slot, 0xff, n * sizeof(*b->slot));
	for (i = 0; i < t->nr; i++) {
		for (h = id_hash(t->v[i].id) & b->mask; b->slot[h] >= 0; h = (h + 1) & b->mask)
			;
		b->slot[h] = i;
	}
	return true;
}

/*
 * With most of cg_stats' entries tracked, a few BPF_MAP_LOOKUP_BATCH calls
 * read them all instead of one lookup syscall per cgroup (2,000 a tick on
 * a node with 2,000 pods' cgroups); cg_hist holds LS cgroups only, all of
 * them tracked.
 */
static bool batch_worth(const struct track *t, const struct colod_maps *m)
{
	/* an untracked entry costs a copy: only when they are few */
	return m->stats_nr && t->nr >= TRACK_BATCH_MIN &&
	       *m->stats_nr <= 2 * (uint64_t)t->nr;
}

/*
 * Counters, then LS histograms: batched where it pays, else (or for what
 * a failed batch left) one lookup each. A cgroup without an entry did not
 * run, or had no wait: now is where the last tick left it.
 */
static void measure_cnt_all(struct batch *b, const struct colod_maps *m, bool batched)
{
	struct track *t = b->t;
	struct colod_cg_counters now;
	int i;

	memset(b->seen, 0, (size_t)t->nr * sizeof(*b->seen));
	batched = batched && !maps_for_each_cnt(m, batch_cnt, b);
	for (i = 0; i < t->nr; i++) {
		if (b->seen[i])
			continue;
		if (batched || maps_read_cnt(m, t->v[i].id, &now))
			now = t->v[i].prev;
		measure_cnt(&t->v[i], &now, b->tick_ns);
	}
}

static void measure_hist_all(struct batch *b, const struct colod_maps *m, bool batched)
{
	struct track *t = b->t;
	struct colod_cg_hist now;
	int i;

	memset(b->seen, 0, (size_t)t->nr * sizeof(*b->seen));
	if (batched && !maps_for_each_hist(m, batch_hist, b))
		return;
	for (i = 0; i < t->nr; i++)
		if (!b->seen[i] && t->v[i].ls && !maps_read_hist(m, t->v[i].id, now.runq_hist))
			measure_hist(&t->v[i], now.runq_hist);
}

void track_measure(struct track *t, const struct colod_maps *m, uint64_t tick_ns)
{
	struct batch b = { .t = t, .tick_ns = tick_ns };
	bool batched;
	int i;

	memset(t->sum, 0, sizeof(t->sum));
	b.seen = calloc((size_t)t->nr + 1, sizeof(*b.seen));
	if (!b.seen)
		return;
	for (i = 0; i < t->nr; i++) {
		t->v[i].tree_cpu_milli = 0;
		t->v[i].p99_us = 0;
	}
	batched = batch_worth(t, m) && batch_init(&b);
	measure_cnt_all(&b, m, batched);
	measure_hist_all(&b, m, batched);
	if (batched)
		free(b.slot);
	free(b.seen);
	for (i = 0; i < t->nr; i++)
		add_sums(t, &t->v[i]);
	/* BPF charges the leaf; a pod's usage is its whole subtree's */
	for (i = 0; i < t->nr; i++)
		t->v[t->v[i].top_of].tree_cpu_milli += t->v[i].cpu_milli;
}

void track_free(struct track *t)
{
	int i;

	for (i = 0; i < t->nr; i++) {
		free(t->v[i].path);
		free(t->v[i].ls);
	}
	free(t->v);
	memset(t, 0, sizeof(*t));
}
