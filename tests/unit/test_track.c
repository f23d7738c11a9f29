// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * track_mark_tops() (one sorted pass) gives what the definition says:
 * for every tracked cgroup its topmost same-class tracked ancestor, its
 * pod and how many tracked cgroups lie below it, on random hierarchies
 * with the names that trip a plain sort ("/a", "/a-b", "/a/c") and the
 * root. The reference is the quadratic pairwise check it replaced. And
 * the deltas taken of the kernel's 32-bit histogram slots, across a wrap:
 * colod stats' and top's, and the tick's into an LS cgroup's 64-bit one.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hist.h"
#include "track.h"

static bool below(const char *a, const char *b)
{
	size_t n = strlen(b);

	if (!strcmp(b, "/"))
		return strcmp(a, "/") != 0;
	return !strncmp(a, b, n) && a[n] == '/';
}

struct ref {
	bool top;
	int top_of, pod_of, nr_below;
};

/* By the definition, pair by pair. */
static void reference(const struct track *t, struct ref *r)
{
	int i, k, best;

	for (i = 0; i < t->nr; i++) {
		const struct tracked *c = &t->v[i];

		r[i].nr_below = 0;
		best = -1;
		r[i].pod_of = c->is_pod ? i : -1;
		for (k = 0; k < t->nr; k++) {
			const struct tracked *p = &t->v[k];

			if (k == i || !below(c->path, p->path))
				continue;
			if (p->is_pod && (r[i].pod_of == i || r[i].pod_of < 0 ||
					  below(t->v[r[i].pod_of].path, p->path)))
				r[i].pod_of = k;
			if (p->cls == c->cls && (best < 0 || below(t->v[best].path, p->path)))
				best = k;
		}
		r[i].top = best < 0;
		r[i].top_of = best < 0 ? i : best;
		for (k = 0; k < t->nr; k++)
			r[i].nr_below += k != i && below(t->v[k].path, c->path);
	}
}

static const char *const names[] = { "a", "a-b", "a.b", "ab", "b", "pod1", "c" };

Test(track, mark_tops_matches_the_pairwise_definition)
{
	struct track t = {};
	struct ref *r;
	char path[256];
	int round, i, k, depth, tops[COLOD_CLASS_NR];

	srand(1);
	for (round = 0; round < 200; round++) {
		int n = 1 + rand() % 60;

		for (i = 0; i < n; i++) {
			depth = rand() % 5;
			strcpy(path, depth ? "" : "/");
			for (k = 0; k < depth; k++) {
				strcat(path, "/");
				strcat(path, names[rand() % 7]);
			}
			for (k = 0; k < t.nr && strcmp(t.v[k].path, path); k++)
				;
			if (k < t.nr)
				continue;	/* one entry per path, as cgscan gives */
			cr_assert_not_null(track_add(&t, 1000 + i, path,
						     1 + rand() % 2, -1));
			t.v[t.nr - 1].is_pod = strstr(path, "pod1") &&
					       !strcmp(strrchr(path, '/'), "/pod1");
		}
		r = calloc(t.nr, sizeof(*r));
		reference(&t, r);
		track_mark_tops(&t);
		memset(tops, 0, sizeof(tops));
		for (i = 0; i < t.nr; i++) {
			cr_assert_eq(t.v[i].top, r[i].top, "round %d: top of %s", round, t.v[i].path);
			cr_assert_eq(t.v[i].top_of, r[i].top_of, "round %d: top of %s is %s, not %s",
				     round, t.v[i].path, t.v[r[i].top_of].path,
				     t.v[t.v[i].top_of].path);
			cr_assert_eq(t.v[i].pod_of, r[i].pod_of, "round %d: pod of %s", round,
				     t.v[i].path);
			cr_assert_eq(t.v[i].nr_below, r[i].nr_below, "round %d: below %s",
				     round, t.v[i].path);
			tops[t.v[i].cls] += r[i].top;
		}
		for (i = 0; i < COLOD_CLASS_NR; i++)
			cr_assert_eq(track_count_top(&t, i), tops[i]);
		free(r);
		track_free(&t);
	}
}

/* The kernel's 32-bit histogram slots wrap; a delta across the wrap is exact. */
Test(track, a_delta_across_a_slot_wrap_is_exact)
{
	struct colod_cg_stats *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct colod_cg_stats *d = calloc(1, sizeof(*d));

	cr_assert(a && b && d);
	b->runq_hist[9] = UINT32_MAX - 1;
	a->runq_hist[9] = 3;			/* 5 waits later */
	b->runq_hist[10] = 7;
	a->runq_hist[10] = 7;
	b->cnt.runq_count = UINT32_MAX - 1;
	a->cnt.runq_count = (uint64_t)UINT32_MAX + 4;	/* the counters do not wrap */
	cg_stats_delta(a, b, d);
	cr_assert_eq(d->runq_hist[9], 5);
	cr_assert_eq(d->runq_hist[10], 0);
	cr_assert_eq(d->cnt.runq_count, 5);
	/* all 5 in slot 9: 9 us, whose midpoint is reported */
	cr_assert_float_eq(hist_percentile_us(d->runq_hist, COLOD_HIST_SLOTS, 99), 9.5, 1e-9);
	free(a);
	free(b);
	free(d);
}

Test(track, an_ls_histogram_widens_across_a_slot_wrap)
{
	struct tracked_ls *ls = calloc(1, sizeof(*ls));
	__u32 now[COLOD_HIST_SLOTS] = { 0 }, d[COLOD_HIST_SLOTS];
	unsigned int b = hist_prom_bucket(9);

	cr_assert(ls);
	ls->runq_prev[9] = UINT32_MAX - 1;
	ls->runq_buckets[b] = 3 * (1ULL << 32) + UINT32_MAX - 1;	/* wrapped 3 times */
	now[9] = 3;
	track_ls_delta(ls, now, d);
	cr_assert_eq(d[9], 5);
	cr_assert_eq(ls->runq_buckets[b], 4 * (1ULL << 32) + 3, "widened: %llu",
		     (unsigned long long)ls->runq_buckets[b]);
	track_ls_delta(ls, now, d);
	cr_assert_eq(d[9], 0, "nothing new");
	cr_assert_eq(ls->runq_buckets[b], 4 * (1ULL << 32) + 3);
	free(ls);
}
