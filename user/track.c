// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdlib.h>
#include <string.h>
#include "hist.h"
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
	if (!n->path)
		return NULL;
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
	*e = t->v[--t->nr];
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
 * Memory and limits are hierarchical in cgroupfs while BPF CPU time is
 * charged to the leaf: only the topmost cgroup of a class is summed for
 * memory and receives BE limits.
 */
void track_mark_tops(struct track *t)
{
	struct tracked *c, *p;
	int i, k;

	memset(t->nr_top, 0, sizeof(t->nr_top));
	for (i = 0; i < t->nr; i++) {
		t->v[i].nr_below = 0;
		t->v[i].pod_of = t->v[i].is_pod ? i : -1;
	}
	for (i = 0; i < t->nr; i++) {
		c = &t->v[i];
		c->top = true;
		c->top_of = i;
		for (k = 0; k < t->nr; k++) {
			p = &t->v[k];
			if (k == i || !is_below(c->path, p->path))
				continue;
			p->nr_below++;
			if (p->is_pod)
				c->pod_of = k;
			if (p->cls == c->cls &&
			    (c->top || is_below(t->v[c->top_of].path, p->path))) {
				c->top = false;
				c->top_of = k;
			}
		}
		t->nr_top[c->cls] += c->top;
	}
}

int track_count_top(const struct track *t, enum colod_class cls)
{
	return t->nr_top[cls];
}

bool track_over_budget(uint64_t breaches, uint64_t samples, unsigned int budget_pct)
{
	return breaches >= TRACK_BREACH_MIN && breaches * 100 > samples * budget_pct;
}

static void measure_one(struct track *t, struct tracked *e,
			const struct colod_cg_stats *now, struct colod_cg_stats *d,
			uint64_t tick_ns)
{
	struct class_sums *s = &t->sum[e->cls];
	uint32_t ratio;

	cg_stats_delta(now, &e->prev, d);
	e->prev = *now;
	e->cpu_milli = tick_ns ? d->cpu_ns * 1000 / tick_ns : 0;
	e->p99_us = hist_percentile_us(d->runq_hist, COLOD_HIST_SLOTS, 99);
	s->cpu_milli += e->cpu_milli;
	/*
	 * BE answers only for the breaches it is to blame for (the kernel
	 * attributes each one), and for the p99 of an LS cgroup that had some:
	 * an LS late on its own does not cut BE nor hold its regrowth.
	 */
	if (track_over_budget(d->breaches_be, d->runq_count, 1))
		s->breaches += d->breaches_be;
	s->direct_reclaim_ns += d->direct_reclaim_ns;
	s->runq_count += d->runq_count;
	if (e->cls == COLOD_CLASS_LS && e->latency_target_us && d->breaches_be) {
		ratio = (uint32_t)(e->p99_us * 1000 / e->latency_target_us);
		if (ratio > s->worst_p99_milli)
			s->worst_p99_milli = ratio;
	}
}

void track_measure(struct track *t, const struct colod_maps *m, uint64_t tick_ns)
{
	/* scratch: the cumulative counters and their delta over the tick */
	struct colod_cg_stats *now = malloc(2 * sizeof(*now));
	int i;

	memset(t->sum, 0, sizeof(t->sum));
	if (!now)
		return;
	for (i = 0; i < t->nr; i++) {
		/* no entry yet: nothing of it ran since it was created */
		if (maps_read_stats(m, t->v[i].id, now))
			memcpy(now, &t->v[i].prev, sizeof(*now));
		measure_one(t, &t->v[i], now, now + 1, tick_ns);
		t->v[i].tree_cpu_milli = 0;
	}
	/* BPF charges the leaf; a pod's usage is its whole subtree's */
	for (i = 0; i < t->nr; i++)
		t->v[t->v[i].top_of].tree_cpu_milli += t->v[i].cpu_milli;
	free(now);
}

void track_free(struct track *t)
{
	int i;

	for (i = 0; i < t->nr; i++)
		free(t->v[i].path);
	free(t->v);
	memset(t, 0, sizeof(*t));
}
