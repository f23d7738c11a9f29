// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "clock.h"
#include "log.h"
#include "reconcile.h"

/* The --action-log line of one action on one cgroup. */
static void action_json(struct reconciler *r, const struct policy_action *a,
			const char *cgroup)
{
	char *json;
	cJSON *name;

	if (!r->action_log)
		return;
	/* the cgroup's name is anyone's: cJSON escapes its quotes and controls */
	name = cJSON_CreateString(cgroup);
	json = name ? cJSON_PrintUnformatted(name) : NULL;
	if (json) {
		fprintf(r->action_log,
			"{\"mono_ns\":%" PRIu64 ",\"kind\":\"%s\",\"reason\":\"%s\","
			"\"cgroup\":%s,\"old\":%" PRIu64 ",\"new\":%" PRIu64
			",\"measured\":%" PRIu64 "}\n",
			mono_ns(), policy_action_name(a->kind),
			policy_reason_name(a->reason), json, a->old_value,
			a->new_value, a->measured);
		fflush(r->action_log);
	}
	free(json);
	cJSON_Delete(name);
}

/*
 * One log line for an action however many cgroups it applies to (a node
 * with 500 BE pods logged 500 lines alike at each change of BE's
 * allowance); the action log has a line per cgroup.
 */
static void log_action(struct reconciler *r, const struct policy_action *a,
		       const char *cgroup, const char *trigger, int more)
{
	char line[512];

	policy_action_format(a, cgroup, line, sizeof(line));
	if (more)
		pr_info("%s%s%s (and %d more BE cgroups alike)", line,
			trigger ? " trigger=" : "", trigger ? trigger : "", more);
	else
		pr_info("%s%s%s", line, trigger ? " trigger=" : "", trigger ? trigger : "");
}

/* -ENOENT: the cgroup went away meanwhile, which is not an error. */
static void check(struct reconciler *r, int err, const char *what, const char *cg)
{
	if (err && err != -ENOENT) {
		r->nr_write_errors++;
		pr_warn("%s on %s failed: %s", what, cg, strerror(-err));
	}
}

/* BE gets the last n CPUs: LS keeps the low ones the kernel fills first. */
static void cpuset_list(uint32_t n, char *buf, size_t len)
{
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	uint32_t ncpu = online > 0 ? (uint32_t)online : 1;

	if (!n || n > ncpu)
		n = ncpu;
	if (n == 1)
		snprintf(buf, len, "%u", ncpu - 1);
	else
		snprintf(buf, len, "%u-%u", ncpu - n, ncpu - 1);
}

static int apply_knob(struct reconciler *r, const struct track *t, const struct knob *k)
{
	const char *rel = t->v[k->cg].path;
	char cpus[64];

	switch (k->kind) {
	case KNOB_CPU_IDLE:
		return cg_set_cpu_idle(r->cg, r->j, rel, k->value == 1);
	case KNOB_CPU_SHARES:
		return cg_set_cpu_shares(r->cg, r->j, rel, (uint64_t)k->value);
	case KNOB_CPU_WEIGHT:
		return cg_set_cpu_weight(r->cg, r->j, rel, (uint64_t)k->value);
	case KNOB_CPU_QUOTA:
		return cg_set_cpu_quota(r->cg, r->j, rel, k->value, k->period_us);
	case KNOB_CPUSET_CPUS:
		cpuset_list((uint32_t)k->value, cpus, sizeof(cpus));
		return cg_set_cpuset_cpus(r->cg, r->j, rel, cpus);
	case KNOB_MEM_HIGH:
		return cg_set_mem_high(r->cg, r->j, rel, k->value);
	case KNOB_MEM_MAX:
		return cg_set_mem_max(r->cg, r->j, rel, k->value);
	case KNOB_MEM_LOW:
	case KNOB_MEM_SOFT:	/* v1: memory.low maps to the soft limit */
		return cg_set_mem_low(r->cg, r->j, rel, k->value);
	case KNOB_MEM_MIN:
		return cg_set_mem_min(r->cg, r->j, rel, k->value);
	case KNOB_SCHED_SLICE:
		return cg_set_sched_slice(r->cg, r->j, rel, NULL, (uint64_t)k->value);
	case KNOB_SCHED_SLICE_THREADS:
		return cg_set_sched_slice(r->cg, r->j, t->v[t->v[k->cg].top_of].path, rel,
					  (uint64_t)k->value);
	default:
		return -EINVAL;
	}
}

/*
 * Journal, with one save, the originals of the CPU knobs a breach would
 * cut on every topmost BE cgroup: the journal's fsyncs take milliseconds
 * on a loaded node, and a cut must be one write when LS latency degrades,
 * not a save followed by a write. Knobs already held cost no save.
 */
/* A cut writes the BE tops' CPU knobs, and the quota of BE pods held below them. */
static bool be_cpu_cut(const struct tracked *c)
{
	return c->cls == COLOD_CLASS_BE && (c->top || c->batch_cpu_milli > 0);
}

static void remember_be_cpu(struct reconciler *r, const struct policy_params *p,
			    const struct track *t)
{
	int max = 0, i, j, k, n = 0;
	char paths[2][PATH_MAX];
	char **ptrs = NULL;

	for (i = 0; i < t->nr; i++)
		max += be_cpu_cut(&t->v[i]) ? 2 : 0;
	if (!max || !(p->suppress_enable || p->latency_feedback))
		return;
	/* each path its own length: PATH_MAX apiece was 4 MiB for 500 tops, every tick */
	ptrs = calloc((size_t)max, sizeof(*ptrs));
	if (!ptrs)
		return;
	for (i = 0; i < t->nr && n + 2 <= max; i++) {
		if (!be_cpu_cut(&t->v[i]))
			continue;
		if (p->suppress_policy == POLICY_SUPPRESS_CPUSET && t->v[i].top)
			k = cg_path(paths[0], PATH_MAX, r->cg->cpuset, t->v[i].path,
				    "cpuset.cpus") ? 0 : 1;
		else
			k = cg_cpu_quota_paths(r->cg, t->v[i].path, paths);
		for (j = 0; j < k; j++)	/* in write order: restored backwards */
			if ((ptrs[n] = strdup(paths[j])))
				n++;
	}
	check(r, journal_remember(r->j, ptrs, n), "journal", "BE CPU knobs");
	while (n--)
		free(ptrs[n]);
	free(ptrs);
}

/* A verdict on cuts: one line, and one JSON line in the action log. */
static void log_verdict(struct reconciler *r, struct track *t,
			const struct policy_verdict *v)
{
	const struct tracked *ls = track_find(t, v->cgid);
	char line[512], *json;
	cJSON *name;

	policy_verdict_format(v, ls ? ls->path : NULL, line, sizeof(line));
	pr_info("%s", line);
	if (!r->action_log)
		return;
	name = cJSON_CreateString(ls ? ls->path : "");
	json = name ? cJSON_PrintUnformatted(name) : NULL;
	if (json) {
		fprintf(r->action_log,
			"{\"mono_ns\":%" PRIu64 ",\"kind\":\"cut_verdict\",\"verdict\":\"%s\","
			"\"cgroup\":%s,\"cuts\":%u,\"density_before_ppm\":%u,"
			"\"density_after_ppm\":%u,\"p99_after_milli\":%u,\"need_ppm\":%u}\n",
			mono_ns(), policy_verdict_name(v->verdict), json, v->nr_cuts,
			v->before_ppm, v->after_ppm, v->after_p99_milli, v->need_ppm);
		fflush(r->action_log);
	}
	free(json);
	cJSON_Delete(name);
}

static void log_actions(struct reconciler *r, const struct track *t,
			const struct decision *d, const char *trigger)
{
	int a, i;

	for (a = 0; a < d->nr_acts; a++) {
		const char *first = NULL;
		int n = 0;

		r->nr_actions[d->acts[a].kind]++;
		if (d->acts[a].kind == POLICY_BE_EVICT)
			continue;	/* logged per victim */
		for (i = 0; i < t->nr; i++) {
			if (t->v[i].cls != COLOD_CLASS_BE || !t->v[i].top)
				continue;
			first = first ?: t->v[i].path;
			n++;
			action_json(r, &d->acts[a], t->v[i].path);
		}
		if (first)
			log_action(r, &d->acts[a], first, trigger, n - 1);
	}
}

/* Last resort, never LS: decide.c picked BE pods (or BE tops) only. */
static void evict(struct reconciler *r, const struct track *t, const struct decision *d)
{
	const struct policy_action *why = NULL;
	int a, i, err;

	for (a = 0; a < d->nr_acts; a++)
		if (d->acts[a].kind == POLICY_BE_EVICT)
			why = &d->acts[a];
	for (i = 0; why && i < d->nr_evict; i++) {
		const struct tracked *v = &t->v[d->evict[i]];

		if (v->cls != COLOD_CLASS_BE)
			continue;
		pr_warn("evicting BE cgroup %s (%" PRIu64 " bytes): node memory "
			"pressure, last resort", v->path, v->mem_bytes);
		err = cg_kill(r->cg, v->path);
		check(r, err, "evict", v->path);
		if (!err) {
			r->nr_evicted++;
			log_action(r, why, v->path, NULL, 0);
			action_json(r, why, v->path);
		}
	}
}

/* resctrl has no hierarchy: the class's group, then every task of its tops. */
static void resctrl_reconcile(struct reconciler *r, const struct policy_params *p,
			      const struct track *t)
{
	struct policy_static_qos q;
	char dir[PATH_MAX];
	int i, cls, err;

	if (!r->resctrl.mounted)
		return;
	/* each pass, like every knob: a schemata not asked for is released */
	for (cls = COLOD_CLASS_LS; cls <= COLOD_CLASS_BE; cls++) {
		r->resctrl_group_ready[cls] = false;
		policy_static_qos(p, cls, &r->caps, 0, 0, &q);
		if (!q.resctrl || !track_count_top(t, cls))
			continue;
		err = resctrl_apply_class(r->resctrl_root, q.resctrl_group, &r->resctrl,
					  &(struct resctrl_qos) { q.cat_start_pct,
								  q.cat_end_pct, q.mba_pct },
					  r->j);
		check(r, err < 0 ? err : 0, "resctrl schemata", q.resctrl_group);
		r->resctrl_group_ready[cls] = err >= 0;
	}
	for (i = 0; i < t->nr; i++) {
		const struct tracked *c = &t->v[i];

		if (!c->top || !r->resctrl_group_ready[c->cls])
			continue;
		if (cg_path(dir, sizeof(dir), r->cg->cpu, c->path, NULL))
			continue;
		resctrl_assign_cgroup(r->resctrl_root, c->cls == COLOD_CLASS_LS ?
				      RESCTRL_GROUP_LS : RESCTRL_GROUP_BE, dir);
	}
}

/*
 * v1 refuses a CFS quota above the parent's (tg_cfs_schedulable_down,
 * -EINVAL), when the child is raised and when the parent is lowered. A BE
 * pod's own quota sits below its BE top's: so a pod's quota that goes down
 * is written first, one that goes up after its top's. When the top's quota
 * is released (suppression off) the release sweep lifts it: a pod's raise
 * refused before is tried again after the sweep (its journal entry, marked
 * wanted by the refused write, is not released meanwhile).
 */
enum { PHASE_POD_DOWN, PHASE_REST, PHASE_POD_UP, PHASE_RETRY };

static int knob_phase(struct reconciler *r, const struct track *t, const struct knob *k)
{
	const struct tracked *c = &t->v[k->cg];
	uint64_t period;
	long long cur;

	if (k->kind != KNOB_CPU_QUOTA || !c->is_pod || c->top)
		return PHASE_REST;
	if (cg_read_cpu_quota(r->cg, c->path, &cur, &period))
		return PHASE_REST;
	return quota_lower(k->value, k->period_us, cur, period) ? PHASE_POD_DOWN :
								  PHASE_POD_UP;
}

static void apply_knobs(struct reconciler *r, struct track *t,
			const struct decision *d, int *phase, int which)
{
	const struct knob *k;
	int i, err;

	for (i = 0; i < d->nr_knobs; i++) {
		k = &d->knobs[i];
		if (phase[i] != which)
			continue;
		err = apply_knob(r, t, k);
		if (which == PHASE_POD_UP && err == -EINVAL) {
			phase[i] = PHASE_RETRY;
			continue;
		}
		check(r, err, knob_kind_name(k->kind), t->v[k->cg].path);
		if (k->kind == KNOB_CPU_IDLE)
			t->v[k->cg].cpu_idle = !err;
	}
}

void reconcile(struct reconciler *r, const struct policy_params *p,
	       struct track *t, const struct decision *d, const char *trigger)
{
	int *phase = calloc((size_t)d->nr_knobs + 1, sizeof(*phase));
	int i;

	if (d->has_verdict)
		log_verdict(r, t, &d->verdict);
	log_actions(r, t, d, trigger);
	if (!d->cpu_only) {
		journal_begin_pass(r->j);
		remember_be_cpu(r, p, t);
		for (i = 0; i < t->nr; i++)
			t->v[i].cpu_idle = false;
	}
	if (!phase) {
		check(r, -ENOMEM, "reconcile", "every knob");
		return;
	}
	for (i = 0; i < d->nr_knobs; i++)
		phase[i] = knob_phase(r, t, &d->knobs[i]);
	apply_knobs(r, t, d, phase, PHASE_POD_DOWN);
	apply_knobs(r, t, d, phase, PHASE_REST);
	apply_knobs(r, t, d, phase, PHASE_POD_UP);
	if (!d->cpu_only) {
		evict(r, t, d);
		resctrl_reconcile(r, p, t);
		check(r, journal_sweep(r->j), "release", "knobs no longer wanted");
	}
	apply_knobs(r, t, d, phase, PHASE_RETRY);
	free(phase);
}
