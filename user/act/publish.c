// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include "log.h"
#include "publish.h"
#include "minmax.h"

#define PREDICTOR_SAVE_TICKS	600	/* checkpoint the Mid model every 10 min */

static void publish(struct publisher *a, const struct headroom_params *hp,
		    const struct policy_state *ps, const struct headroom_result *r,
		    const struct headroom_res_input *cpu,
		    const struct headroom_res_input *mem, uint64_t now)
{
	a->published = (struct colod_headroom) {
		.updated_ns = now,
		.capacity_cpu_milli = cpu->capacity,
		.capacity_memory_bytes = mem->capacity,
		.batch_cpu_milli = r->res[HEADROOM_CPU].batch,
		.batch_memory_bytes = r->res[HEADROOM_MEMORY].batch,
		.mid_cpu_milli = r->res[HEADROOM_CPU].mid,
		.mid_memory_bytes = r->res[HEADROOM_MEMORY].mid,
		.ls_used_cpu_milli = cpu->ls_used,
		.system_used_cpu_milli = r->res[HEADROOM_CPU].system_used,
		.be_quota_milli = ps->cpu_limited ? ps->allowed_milli : 0,
	};
	maps_write_headroom(a->maps, &a->published);
	/*
	 * Offered every tick: the publisher gates on what the API server last
	 * accepted and times its own retries (backoff). Behind the gate below,
	 * which moves on what was merely offered, a refused or failed patch
	 * would wait for a 10% change or updateTimeThresholdSeconds.
	 */
	if (a->k8s) {
		struct k8s_node_resources kr = {
			.batch_cpu_milli = a->published.batch_cpu_milli,
			.batch_memory_bytes = a->published.batch_memory_bytes,
			.mid_cpu_milli = a->published.mid_cpu_milli,
			.mid_memory_bytes = a->published.mid_memory_bytes,
		};

		k8s_publisher_submit(a->k8s, &kr, now);
	}
	if (!headroom_gate_update(&a->gate, hp, r, now))
		return;
	pr_info("headroom batch_cpu=%llum batch_memory=%lluB mid_cpu=%llum "
		"mid_memory=%lluB (%s)",
		(unsigned long long)r->res[HEADROOM_CPU].batch,
		(unsigned long long)r->res[HEADROOM_MEMORY].batch,
		(unsigned long long)r->res[HEADROOM_CPU].mid,
		(unsigned long long)r->res[HEADROOM_MEMORY].mid,
		r->res[HEADROOM_CPU].formula);
}

/*
 * Gather the LS side per top-level LS cgroup (a pod, or a rule's match):
 * what it uses (as sensed this tick), what it requested, and feed the
 * long-term model.
 */
static size_t gather_ls(struct publisher *a, const struct track *tr,
			struct headroom_input *in,
			struct predictor_ls_item *items, uint64_t *be_mem,
			int64_t now_s)
{
	struct headroom_res_input *cpu = &in->res[HEADROOM_CPU];
	struct headroom_res_input *mem = &in->res[HEADROOM_MEMORY];
	struct predictor_key key = { .kind = PREDICTOR_KEY_CGROUP };
	size_t n = 0;
	uint64_t v;
	int i;

	for (i = 0; i < tr->nr; i++) {
		const struct tracked *t = &tr->v[i];

		if (!t->top)
			continue;
		v = t->mem_bytes;
		if (t->cls == COLOD_CLASS_BE) {
			*be_mem += v;
			continue;
		}
		mem->ls_used += v;
		cpu->ls_request += t->cpu_request_milli;
		mem->ls_request += t->mem_request_bytes;
		cpu->ls_max_used_request += max_u64(t->cpu_request_milli, t->tree_cpu_milli);
		mem->ls_max_used_request += max_u64(t->mem_request_bytes, v);
		key.id = t->id;
		predictor_observe(a->pred, key, t->tree_cpu_milli, v, now_s);
		items[n++] = (struct predictor_ls_item) {
			.cgroup_id = t->id,
			.request = { t->cpu_request_milli, t->mem_request_bytes },
		};
	}
	return n;
}

void publish_tick(struct publisher *a, const struct headroom_params *hp,
		  const struct colod_config *cfg, const struct policy_state *ps,
		  const struct track *t, const struct snapshot *snap)
{
	const struct node_sample *n = &snap->node;
	uint64_t node_milli = snap->node_busy_milli, now = snap->now_ns;
	struct headroom_input in = { .measured_ns = now, .now_ns = now };
	struct headroom_res_input *cpu = &in.res[HEADROOM_CPU];
	struct headroom_res_input *mem = &in.res[HEADROOM_MEMORY];
	struct predictor_key cls_ls = { PREDICTOR_KEY_CLASS, COLOD_CLASS_LS };
	struct predictor_key cls_sys = { PREDICTOR_KEY_CLASS, COLOD_CLASS_SYSTEM };
	struct predictor_ls_item *items;
	struct predictor_reclaim rc;
	struct headroom_result r;
	int64_t now_s = time(NULL);
	uint64_t be_mem = 0, v, cap[HEADROOM_NR_RES];
	size_t nr;

	items = calloc(t->nr + 1, sizeof(*items));
	if (!items)
		return;
	nr = gather_ls(a, t, &in, items, &be_mem, now_s);
	cpu->capacity = snap->capacity_milli;
	cpu->node_used = node_milli;
	v = snap->sum[COLOD_CLASS_LS].cpu_milli + snap->sum[COLOD_CLASS_BE].cpu_milli;
	cpu->system_used = node_milli > v ? node_milli - v : 0;
	mem->capacity = cfg->own.node_memory_capacity_bytes ?: n->mem_total;
	mem->node_used = n->mem_used;
	v = mem->ls_used + be_mem;
	mem->system_used = n->mem_used > v ? n->mem_used - v : 0;

	/* short-term reservation: the recent peak of LS usage */
	shortterm_add(&a->ls_cpu_peak, now, snap->sum[COLOD_CLASS_LS].cpu_milli);
	shortterm_add(&a->ls_mem_peak, now, mem->ls_used);
	/* long-term reservation: decaying histograms per class and per cgroup */
	predictor_observe(a->pred, cls_ls, snap->sum[COLOD_CLASS_LS].cpu_milli,
			  mem->ls_used, now_s);
	predictor_observe(a->pred, cls_sys, cpu->system_used, mem->system_used, now_s);
	predictor_tick(a->pred, now_s);
	cap[HEADROOM_CPU] = cpu->capacity;
	cap[HEADROOM_MEMORY] = mem->capacity;
	predictor_reclaimable(a->pred, items, nr, cap, now_s, &rc);
	free(items);
	cpu->ls_used = shortterm_peak(&a->ls_cpu_peak, now);
	mem->ls_used = shortterm_peak(&a->ls_mem_peak, now);
	cpu->mid_reclaimable = rc.reclaimable[HEADROOM_CPU];
	mem->mid_reclaimable = rc.reclaimable[HEADROOM_MEMORY];
	headroom_compute(hp, &in, &r);
	a->last_in = in;
	a->last_r = r;
	publish(a, hp, ps, &r, cpu, mem, now);
	if (++a->nr_ticks % PREDICTOR_SAVE_TICKS == 0)
		predictor_save(a->pred, a->state_dir, time(NULL));
}

int publish_start(struct publisher *p, const struct colod_maps *maps,
		  const char *state_dir)
{
	struct predictor_params pp;

	p->maps = maps;
	p->state_dir = state_dir;
	shortterm_init(&p->ls_cpu_peak, SHORTTERM_WINDOW_S_DEFAULT,
		       SHORTTERM_PERCENTILE_DEFAULT);
	shortterm_init(&p->ls_mem_peak, SHORTTERM_WINDOW_S_DEFAULT,
		       SHORTTERM_PERCENTILE_DEFAULT);
	predictor_params_default(&pp);
	p->pred = predictor_new(&pp);
	if (!p->pred)
		return -ENOMEM;
	/* the long-term model survives restarts through its checkpoint */
	predictor_load(p->pred, state_dir, time(NULL));
	return 0;
}

void publish_stop(struct publisher *p)
{
	if (!p->pred)
		return;
	predictor_save(p->pred, p->state_dir, time(NULL));
	predictor_free(p->pred);
	p->pred = NULL;
}
