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

struct tracked *track_find(struct track *t, uint64_t id)
{
	int i;

	for (i = 0; i < t->nr; i++)
		if (t->v[i].id == id)
			return &t->v[i];
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
	struct colod_cg_stats *now = calloc(1, sizeof(*now));

	/* no entry yet: nothing ran in it, and zero is where it starts */
	if (!now || maps_read_stats(m, e->id, now))
		return free(now);
	e->prev = now->cnt;
	if (e->ls) {
		memcpy(e->ls->runq_prev, now->runq_hist, sizeof(e->ls->runq_prev));
		hist_prom_add(e->ls->runq_buckets, now->runq_hist);
	}
	free(now);
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

static void measure_one(struct track *t, struct tracked *e,
			const struct colod_cg_stats *now, struct colod_cg_stats *d,
			uint64_t tick_ns)
{
	struct class_sums *s = &t->sum[e->cls];
	uint32_t ratio;

	cg_counters_delta(&now->cnt, &e->prev, &d->cnt);
	e->prev = now->cnt;
	e->cpu_milli = tick_ns ? d->cnt.cpu_ns * 1000 / tick_ns : 0;
	e->p99_us = 0;
	if (e->ls) {
		track_ls_delta(e->ls, now->runq_hist, d->runq_hist);
		e->p99_us = hist_percentile_us(d->runq_hist, COLOD_HIST_SLOTS, 99);
	}
	e->tick_samples = d->cnt.runq_count;
	e->tick_breaches = d->cnt.breaches;
	e->tick_breaches_be = d->cnt.breaches_be;
	s->cpu_milli += e->cpu_milli;
	/*
	 * BE answers only for the breaches it is to blame for (the kernel
	 * attributes each one), and for the p99 of an LS cgroup that had some:
	 * an LS late on its own does not cut BE nor hold its regrowth.
	 */
	if (track_over_budget(d->cnt.breaches_be, d->cnt.runq_count, 1))
		s->breaches += d->cnt.breaches_be;
	s->direct_reclaim_ns += d->cnt.direct_reclaim_ns;
	s->runq_count += d->cnt.runq_count;
	if (e->cls == COLOD_CLASS_LS && e->latency_target_us && d->cnt.breaches_be) {
		ratio = (uint32_t)(e->p99_us * 1000 / e->latency_target_us);
		if (ratio > s->worst_p99_milli)
			s->worst_p99_milli = ratio;
	}
}

/* One batch read of cg_stats: each entry's tracked cgroup found by id. */
struct batch {
	struct track *t;
	int *slot;		/* open addressing: index into t->v, -1 free */
	unsigned int mask;
	bool *seen;
	struct colod_cg_stats *d;
	uint64_t tick_ns;
};

static unsigned int id_hash(uint64_t id)
{
	return (unsigned int)((id * 0x9e3779b97f4a7c15ULL) >> 32);
}

static int batch_one(uint64_t id, const struct colod_cg_stats *s, void *ctx)
{
	struct batch *b = ctx;
	unsigned int h = id_hash(id) & b->mask;
	int i;

	for (; (i = b->slot[h]) >= 0; h = (h + 1) & b->mask) {
		if (b->t->v[i].id != id)
			continue;
		if (!b->seen[i])
			measure_one(b->t, &b->t->v[i], s, b->d, b->tick_ns);
		b->seen[i] = true;
		break;
	}
	return 0;
}

/*
 * With most of cg_stats' entries tracked, a few BPF_MAP_LOOKUP_BATCH calls
 * read them all instead of one lookup syscall per cgroup (2,000 a tick on
 * a node with 2,000 pods' cgroups). seen[i]: t->v[i] was measured.
 */
static bool measure_batch(struct track *t, const struct colod_maps *m,
			  struct colod_cg_stats *d, uint64_t tick_ns, bool *seen)
{
	struct batch b = { .t = t, .seen = seen, .d = d, .tick_ns = tick_ns };
	unsigned int n = 16, h;
	int i;

	/* an untracked entry costs a copy: only when they are few */
	if (!m->stats_nr || t->nr < TRACK_BATCH_MIN || *m->stats_nr > 2 * (uint64_t)t->nr)
		return false;
	while (n < 2 * (unsigned int)t->nr)
		n *= 2;
	b.slot = malloc(n * sizeof(*b.slot));
	if (!b.slot)
		return false;
	b.mask = n - 1;
	memset(b.slot, 0xff, n * sizeof(*b.slot));
	for (i = 0; i < t->nr; i++) {
		for (h = id_hash(t->v[i].id) & b.mask; b.slot[h] >= 0; h = (h + 1) & b.mask)
			;
		b.slot[h] = i;
	}
	if (maps_for_each_stats(m, batch_one, &b)) {
		free(b.slot);
		return false;	/* the rest one by one */
	}
	free(b.slot);
	return true;
}

/* A cgroup without an entry did not run: now is where the last tick left it. */
static void prev_as_now(const struct tracked *e, struct colod_cg_stats *now)
{
	now->cnt = e->prev;
	if (e->ls)
		memcpy(now->runq_hist, e->ls->runq_prev, sizeof(now->runq_hist));
	else
		memset(now->runq_hist, 0, sizeof(now->runq_hist));
}

void track_measure(struct track *t, const struct colod_maps *m, uint64_t tick_ns)
{
	/* scratch: the cumulative counters and their delta over the tick */
	struct colod_cg_stats *now = malloc(2 * sizeof(*now));
	bool *seen = calloc((size_t)t->nr + 1, sizeof(*seen));
	bool batched;
	int i;

	memset(t->sum, 0, sizeof(t->sum));
	if (!now || !seen) {
		free(now);
		free(seen);
		return;
	}
	batched = measure_batch(t, m, now + 1, tick_ns, seen);
	for (i = 0; i < t->nr; i++) {
		t->v[i].tree_cpu_milli = 0;
		if (seen[i])
			continue;
		/* no entry (yet): nothing of it ran since it was created */
		if (batched || maps_read_stats(m, t->v[i].id, now))
			prev_as_now(&t->v[i], now);
		measure_one(t, &t->v[i], now, now + 1, tick_ns);
	}
	free(seen);
	/* BPF charges the leaf; a pod's usage is its whole subtree's */
	for (i = 0; i < t->nr; i++)
		t->v[t->v[i].top_of].tree_cpu_milli += t->v[i].cpu_milli;
	free(now);
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
