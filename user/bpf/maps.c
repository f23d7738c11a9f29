// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "log.h"
#include "maps.h"

static int open_one(const char *dir, const char *name, int *fd)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	*fd = bpf_obj_get(path);
	return *fd < 0 ? -errno : 0;
}

/*
 * A map pinned by another colod version (per-CPU values, or the histogram
 * inside cg_stats) would not match a read: refuse it.
 */
static int check_layout(int fd, const char *pin_dir, const char *name, size_t value_size)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	if (info.type != BPF_MAP_TYPE_HASH || info.value_size != value_size) {
		pr_err("%s/%s: map type %u, value %u B: pinned by a different colod "
		       "version (this one reads a hash of %zu B values)", pin_dir,
		       name, info.type, info.value_size, value_size);
		return -EPROTO;
	}
	return 0;
}

int maps_open_pinned(const char *pin_dir, struct colod_maps *m)
{
	int err;

	memset(m, 0xff, sizeof(*m));	/* every fd -1 */
	if ((err = open_one(pin_dir, COLOD_MAP_CG_STATS, &m->stats_fd)) ||
	    (err = check_layout(m->stats_fd, pin_dir, COLOD_MAP_CG_STATS,
				sizeof(struct colod_cg_counters))) ||
	    (err = open_one(pin_dir, COLOD_MAP_CG_HIST, &m->hist_fd)) ||
	    (err = check_layout(m->hist_fd, pin_dir, COLOD_MAP_CG_HIST,
				sizeof(struct colod_cg_hist))) ||
	    (err = open_one(pin_dir, COLOD_MAP_CG_CLASS, &m->class_fd)) ||
	    (err = open_one(pin_dir, COLOD_MAP_COUNTERS, &m->counters_fd)) ||
	    (err = open_one(pin_dir, COLOD_MAP_HEADROOM, &m->headroom_fd))) {
		maps_close(m);
		return err;
	}
	return 0;
}

void maps_close(struct colod_maps *m)
{
	int *fds[] = { &m->stats_fd, &m->hist_fd, &m->class_fd, &m->events_fd,
		       &m->counters_fd, &m->headroom_fd, &m->cg_events_fd };
	size_t i;

	for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

/* Per-CPU values arrive as one array of libbpf_num_possible_cpus() elements. */
static int read_percpu(int fd, const void *key, size_t size, void *sum,
		       void (*add)(void *sum, const void *one))
{
	int ncpu = libbpf_num_possible_cpus(), i, err = 0;
	char *vals;

	if (ncpu < 0)
		return ncpu;
	vals = calloc(ncpu, size);
	if (!vals)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, key, vals)) {
		err = -errno;
		goto out;
	}
	memset(sum, 0, size);
	for (i = 0; i < ncpu; i++)
		add(sum, vals + (size_t)i * size);
out:
	free(vals);
	return err;
}

int maps_read_cnt(const struct colod_maps *m, uint64_t cgid, struct colod_cg_counters *cnt)
{
	return bpf_map_lookup_elem(m->stats_fd, &cgid, cnt) ? -errno : 0;
}

int maps_read_hist(const struct colod_maps *m, uint64_t cgid, __u32 *hist)
{
	if (!bpf_map_lookup_elem(m->hist_fd, &cgid, hist))
		return 0;
	memset(hist, 0, sizeof(struct colod_cg_hist));
	return -errno;
}

int maps_read_stats(const struct colod_maps *m, uint64_t cgid,
		    struct colod_cg_stats *s)
{
	int err = maps_read_cnt(m, cgid, &s->cnt);

	if (!err && (err = maps_read_hist(m, cgid, s->runq_hist)) == -ENOENT)
		err = 0;	/* not LS, or no wait yet: zero slots */
	return err;
}

typedef int (*each_fn)(uint64_t key, const void *value, void *ctx);

/* One get_next_key and one lookup per entry: kernels without batch ops. */
static int each_by_key(int fd, size_t vsize, each_fn fn, void *ctx)
{
	uint64_t key, next;
	void *prev = NULL, *v;
	int err = 0;

	v = malloc(vsize);
	if (!v)
		return -ENOMEM;
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		/* removed between next_key and lookup: a cgroup just died */
		if (bpf_map_lookup_elem(fd, &key, v))
			continue;
		err = fn(key, v, ctx);
		if (err)
			break;
	}
	free(v);
	return err;
}

/*
 * BPF_MAP_LOOKUP_BATCH (5.6): one syscall for up to `cap` entries of a
 * hash keyed by cgroup id. A hash bucket holding more entries than the
 * buffer fails with ENOSPC: grow it.
 */
static int each_batch(int fd, size_t vsize, each_fn fn, void *ctx)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	uint64_t *keys = NULL, *nk, in = 0, out = 0;
	uint32_t cap = 64, n, i;
	bool first = true, end = false;
	char *vals = NULL, *nv;
	int err = 0;

	while (!end && !err) {
		if (!vals) {
			nk = realloc(keys, cap * sizeof(*keys));
			if (nk)
				keys = nk;
			nv = nk ? malloc(cap * vsize) : NULL;
			if (!nv) {
				err = -ENOMEM;
				break;
			}
			vals = nv;
		}
		n = cap;
		if (bpf_map_lookup_batch(fd, first ? NULL : &in, &out, keys, vals, &n, &opts)) {
			if (errno == ENOSPC && cap < 65536) {
				cap *= 4;
				free(vals);
				vals = NULL;
				continue;
			}
			if (errno != ENOENT) {
				err = -errno;
				/* no batch ops here: the slow way, from the start */
				if (first && (err == -EINVAL || err == -524 /* ENOTSUPP */ ||
					      err == -EOPNOTSUPP))
					err = each_by_key(fd, vsize, fn, ctx);
				break;
			}
			end = true;	/* ENOENT: the last n entries, or none */
		}
		first = false;
		in = out;
		for (i = 0; i < n && !err; i++)
			err = fn(keys[i], vals + (size_t)i * vsize, ctx);
	}
	free(keys);
	free(vals);
	return err;
}

/* The callers' typed callbacks, called from each_batch's untyped one. */
struct each {
	const struct colod_maps *m;
	void *ctx;
	int (*cnt_fn)(uint64_t cgid, const struct colod_cg_counters *c, void *ctx);
	int (*hist_fn)(uint64_t cgid, const struct colod_cg_hist *h, void *ctx);
	int (*stats_fn)(uint64_t cgid, const struct colod_cg_stats *s, void *ctx);
	struct colod_cg_stats *s;
};

static int cnt_one(uint64_t cgid, const void *v, void *ctx)
{
	struct each *e = ctx;

	return e->cnt_fn(cgid, v, e->ctx);
}

static int hist_one(uint64_t cgid, const void *v, void *ctx)
{
	struct each *e = ctx;

	return e->hist_fn(cgid, v, e->ctx);
}

/* One cg_hist lookup per cgroup on top of the batch: for tools, not the tick. */
static int stats_one(uint64_t cgid, const void *v, void *ctx)
{
	struct each *e = ctx;

	e->s->cnt = *(const struct colod_cg_counters *)v;
	maps_read_hist(e->m, cgid, e->s->runq_hist);	/* none: zero slots */
	return e->stats_fn(cgid, e->s, e->ctx);
}

int maps_for_each_cnt(const struct colod_maps *m,
		      int (*fn)(uint64_t cgid, const struct colod_cg_counters *c, void *ctx),
		      void *ctx)
{
	struct each e = { .m = m, .ctx = ctx, .cnt_fn = fn };

	return each_batch(m->stats_fd, sizeof(struct colod_cg_counters), cnt_one, &e);
}

int maps_for_each_hist(const struct colod_maps *m,
		       int (*fn)(uint64_t cgid, const struct colod_cg_hist *h, void *ctx),
		       void *ctx)
{
	struct each e = { .m = m, .ctx = ctx, .hist_fn = fn };

	return each_batch(m->hist_fd, sizeof(struct colod_cg_hist), hist_one, &e);
}

int maps_for_each_stats(const struct colod_maps *m,
			int (*fn)(uint64_t cgid, const struct colod_cg_stats *s, void *ctx),
			void *ctx)
{
	struct each e = { .m = m, .ctx = ctx, .stats_fn = fn };
	int err;

	e.s = malloc(sizeof(*e.s));
	if (!e.s)
		return -ENOMEM;
	err = each_batch(m->stats_fd, sizeof(struct colod_cg_counters), stats_one, &e);
	free(e.s);
	return err;
}

int maps_set_class(const struct colod_maps *m, uint64_t cgid,
		   enum colod_class cls, uint64_t threshold_ns, uint32_t flags)
{
	struct colod_cg_class c = { .cls = cls, .flags = flags,
				    .threshold_ns = threshold_ns };
	struct colod_cg_class old;

	/* keep the kernel's rate-limit state across updates */
	if (!bpf_map_lookup_elem(m->class_fd, &cgid, &old))
		c.last_event_ns = old.last_event_ns;
	return bpf_map_update_elem(m->class_fd, &cgid, &c, BPF_ANY) ? -errno : 0;
}

/* Not LS any more: its histogram goes with its class (the kernel adds no more). */
int maps_del_class(const struct colod_maps *m, uint64_t cgid)
{
	if (bpf_map_delete_elem(m->hist_fd, &cgid) && errno != ENOENT)
		return -errno;
	if (bpf_map_delete_elem(m->class_fd, &cgid) && errno != ENOENT)
		return -errno;
	return 0;
}

static void add_u64(void *sum, const void *one)
{
	*(uint64_t *)sum += *(const uint64_t *)one;
}

int maps_read_counters(const struct colod_maps *m, uint64_t out[COLOD_CNT_NR])
{
	uint32_t i;
	int err;

	for (i = 0; i < COLOD_CNT_NR; i++) {
		err = read_percpu(m->counters_fd, &i, sizeof(uint64_t), &out[i], add_u64);
		if (err)
			return err;
	}
	return 0;
}

int maps_write_headroom(const struct colod_maps *m, const struct colod_headroom *h)
{
	uint32_t zero = 0;

	return bpf_map_update_elem(m->headroom_fd, &zero, h, BPF_ANY) ? -errno : 0;
}

int maps_read_headroom(const struct colod_maps *m, struct colod_headroom *h)
{
	uint32_t zero = 0;

	return bpf_map_lookup_elem(m->headroom_fd, &zero, h) ? -errno : 0;
}

void cg_counters_delta(const struct colod_cg_counters *a, const struct colod_cg_counters *b,
		       struct colod_cg_counters *out)
{
	out->runq_count = a->runq_count - b->runq_count;
	out->runq_sum_ns = a->runq_sum_ns - b->runq_sum_ns;
	out->runq_max_ns = a->runq_max_ns;
	out->cpu_ns = a->cpu_ns - b->cpu_ns;
	out->nvcsw = a->nvcsw - b->nvcsw;
	out->nivcsw = a->nivcsw - b->nivcsw;
	out->direct_reclaim_ns = a->direct_reclaim_ns - b->direct_reclaim_ns;
	out->direct_reclaim_count = a->direct_reclaim_count - b->direct_reclaim_count;
	out->memcg_reclaim_ns = a->memcg_reclaim_ns - b->memcg_reclaim_ns;
	out->memcg_reclaim_count = a->memcg_reclaim_count - b->memcg_reclaim_count;
	out->breaches = a->breaches - b->breaches;
	out->breaches_be = a->breaches_be - b->breaches_be;
	out->breach_events = a->breach_events - b->breach_events;
}

void cg_stats_delta(const struct colod_cg_stats *a, const struct colod_cg_stats *b,
		    struct colod_cg_stats *out)
{
	int i;

	cg_counters_delta(&a->cnt, &b->cnt, &out->cnt);
	/* __u32 arithmetic: right across a slot's wrap */
	for (i = 0; i < COLOD_HIST_SLOTS; i++)
		out->runq_hist[i] = a->runq_hist[i] - b->runq_hist[i];
}

bool cg_stats_has_hist(const struct colod_cg_stats *d)
{
	int i;

	for (i = 0; i < COLOD_HIST_SLOTS; i++)
		if (d->runq_hist[i])
			return true;
	return !d->cnt.runq_count;
}
