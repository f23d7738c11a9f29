// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "enforce.h"
#include "clock.h"
#include "log.h"

static void log_action(struct enforcer *e, const struct policy_action *a,
		       const char *cgroup, const char *trigger)
{
	char line[512];

	policy_action_format(a, cgroup, line, sizeof(line));
	pr_info("%s%s%s", line, trigger ? " trigger=" : "", trigger ? trigger : "");
	if (e->action_log) {
		fprintf(e->action_log,
			"{\"mono_ns\":%" PRIu64 ",\"kind\":\"%s\",\"reason\":\"%s\","
			"\"cgroup\":\"%s\",\"old\":%" PRIu64 ",\"new\":%" PRIu64
			",\"measured\":%" PRIu64 "}\n",
			mono_ns(), policy_action_name(a->kind),
			policy_reason_name(a->reason), cgroup, a->old_value,
			a->new_value, a->measured);
		fflush(e->action_log);
	}
}

/* -ENOENT: the cgroup went away meanwhile, which is not an error. */
static void check(struct enforcer *e, int err, const char *what, const char *cg)
{
	if (err && err != -ENOENT) {
		e->nr_write_errors++;
		pr_warn("%s on %s failed: %s", what, cg, strerror(-err));
	}
}

void enforce_static_qos(struct enforcer *e, const struct policy_params *p,
			struct tracked *t)
{
	struct policy_static_qos q;
	long long limit = -1;

	cg_read_mem_limit(e->cg, t->path, &limit);
	policy_static_qos(p, t->cls, &e->caps, limit < 0 ? 0 : (uint64_t)limit,
			  t->mem_request_bytes, &q);
	if (q.cpu_idle != POLICY_KEEP) {
		int err = cg_set_cpu_idle(e->cg, e->j, t->path, q.cpu_idle);

		check(e, err, "cpu.idle", t->path);
		t->cpu_idle = !err && q.cpu_idle == 1;
	}
	if (q.cpu_shares && !e->caps.cgroup_v2)
		check(e, cg_set_cpu_shares(e->cg, e->j, t->path, q.cpu_shares), "cpu.shares", t->path);
	if (q.cpu_weight && e->caps.cgroup_v2)
		check(e, cg_set_cpu_weight(e->cg, e->j, t->path, q.cpu_weight), "cpu.weight", t->path);
	if (q.set_mem_min)
		check(e, cg_set_mem_min(e->cg, e->j, t->path, q.mem_min), "memory.min", t->path);
	if (q.set_mem_low)
		check(e, cg_set_mem_low(e->cg, e->j, t->path, q.mem_low), "memory.low", t->path);
	if (q.set_mem_high)
		check(e, cg_set_mem_high(e->cg, e->j, t->path, q.mem_high), "memory.high", t->path);
	if (q.set_soft_limit)
		check(e, cg_set_mem_low(e->cg, e->j, t->path, q.soft_limit),
		      "memory.soft_limit_in_bytes", t->path);
	if (q.resctrl && e->resctrl.mounted && !e->resctrl_group_ready[t->cls]) {
		struct resctrl_qos rq = { q.cat_start_pct, q.cat_end_pct, q.mba_pct };
		int err = resctrl_apply_class(e->resctrl_root, q.resctrl_group,
					      &e->resctrl, &rq, e->j);

		check(e, err < 0 ? err : 0, "resctrl schemata", q.resctrl_group);
		e->resctrl_group_ready[t->cls] = err >= 0;
	}
	t->qos_applied = true;
	pr_info("action=static_qos cgroup=%s class=%s cpu_idle=%d", t->path,
		t->cls == COLOD_CLASS_LS ? "LS" : "BE", q.cpu_idle);
}

void enforce_resctrl_tasks(struct enforcer *e, const struct track *t)
{
	char dir[PATH_MAX];
	int i;

	for (i = 0; i < t->nr; i++) {
		const struct tracked *c = &t->v[i];

		if (!c->top || !e->resctrl_group_ready[c->cls])
			continue;
		if (cg_path(dir, sizeof(dir), e->cg->cpu, c->path, NULL))
			continue;
		resctrl_assign_cgroup(e->resctrl_root, c->cls == COLOD_CLASS_LS ?
				      RESCTRL_GROUP_LS : RESCTRL_GROUP_BE, dir);
	}
}

/* BE gets the last n CPUs: LS keeps the low ones the kernel fills first. */
static void cpuset_list(uint32_t n, char *buf, size_t len)
{
	uint32_t ncpu = 0;
	long online = sysconf(_SC_NPROCESSORS_ONLN);

	ncpu = online > 0 ? (uint32_t)online : 1;
	if (!n || n > ncpu)
		n = ncpu;
	if (n == 1)
		snprintf(buf, len, "%u", ncpu - 1);
	else
		snprintf(buf, len, "%u-%u", ncpu - n, ncpu - 1);
}

static int apply_one(struct enforcer *e, const struct policy_params *p,
		     const struct policy_action *a, struct tracked *be, int nr_be)
{
	uint64_t each, period = p->be_cfs_period_us;
	long long bytes;
	char cpus[64];
	int err;

	switch (a->kind) {
	case POLICY_BE_CPU_QUOTA:
		if (a->new_value == POLICY_UNLIMITED)
			return cg_set_cpu_quota(e->cg, e->j, be->path, -1, period);
		each = a->new_value / (uint64_t)nr_be;
		return cg_set_cpu_quota(e->cg, e->j, be->path,
					(long long)policy_cfs_quota_us(each, period), period);
	case POLICY_BE_CPUSET_CPUS:
		cpuset_list((uint32_t)a->new_value, cpus, sizeof(cpus));
		return cg_set_cpuset_cpus(e->cg, e->j, be->path, cpus);
	case POLICY_BE_MEMORY_HIGH:
		bytes = a->new_value == POLICY_UNLIMITED ? -1 :
			(long long)(a->new_value / (uint64_t)nr_be);
		err = cg_set_mem_high(e->cg, e->j, be->path, bytes);
		/* plain v1 has no memory.high: the soft limit is the nearest lever */
		if (err == -EOPNOTSUPP)
			err = cg_set_mem_low(e->cg, e->j, be->path, bytes);
		return err;
	case POLICY_BE_EVICT:
		pr_warn("evicting BE cgroup %s: node memory pressure, last resort", be->path);
		return cg_kill(e->cg, be->path);
	default:
		return -EINVAL;
	}
}

/*
 * The CPU knob files that the dynamic lever writes (quota and period, or
 * cpuset.cpus) of every top-level BE cgroup not yet given its static QoS,
 * i.e. new since the last scan, into paths; returns how many.
 */
static int be_cpu_knob_paths(const struct enforcer *e, const struct policy_params *p,
			     const struct track *t, char (*paths)[PATH_MAX], int max)
{
	int i, k, n = 0;

	for (i = 0; i < t->nr && n + 2 <= max; i++) {
		if (t->v[i].cls != COLOD_CLASS_BE || !t->v[i].top || t->v[i].qos_applied)
			continue;
		if (p->suppress_policy == POLICY_SUPPRESS_CPUSET)
			k = cg_path(paths[n], PATH_MAX, e->cg->cpuset, t->v[i].path,
				    "cpuset.cpus") ? 0 : 1;
		else
			k = cg_cpu_quota_paths(e->cg, t->v[i].path, &paths[n]);
		n += k > 0 ? k : 0;
	}
	return n;
}

/*
 * Journal, with one save, the originals of the CPU knobs a breach would
 * cut, as soon as BE cgroups are classified: the journal's fsyncs take
 * milliseconds on a loaded node, and a cut must be one write when LS
 * latency degrades, not a save followed by a write. Call it before the
 * static QoS of new cgroups; knobs already held are skipped. Should the
 * save fail, the cut's own writes still journal each knob first.
 */
void enforce_prepare(struct enforcer *e, const struct policy_params *p,
		     const struct track *t)
{
	int max = 2 * track_count_top(t, COLOD_CLASS_BE), i, n;
	char (*paths)[PATH_MAX] = NULL;
	char **ptrs = NULL;

	if (!max || !(p->suppress_enable || p->latency_feedback))
		return;
	paths = malloc((size_t)max * PATH_MAX);
	ptrs = malloc((size_t)max * sizeof(*ptrs));
	if (!paths || !ptrs)
		goto out;
	n = be_cpu_knob_paths(e, p, t, paths, max);
	for (i = 0; i < n; i++)
		ptrs[i] = paths[i];
	check(e, journal_remember(e->j, ptrs, n), "journal", "BE CPU knobs");
out:
	free(paths);
	free(ptrs);
}

void enforce_action(struct enforcer *e, const struct policy_params *p,
		    struct track *t, const struct policy_action *a,
		    const char *trigger)
{
	int nr_be = track_count_top(t, COLOD_CLASS_BE), i, err;

	if (!nr_be)
		return;
	e->nr_actions[a->kind]++;
	for (i = 0; i < t->nr; i++) {
		struct tracked *be = &t->v[i];

		if (be->cls != COLOD_CLASS_BE || !be->top)
			continue;
		err = apply_one(e, p, a, be, nr_be);
		check(e, err, policy_action_name(a->kind), be->path);
		if (!err)
			log_action(e, a, be->path, trigger);
	}
}

void enforce_current(struct enforcer *e, const struct policy_params *p,
		     const struct policy_state *s, struct tracked *be,
		     int nr_be_top, uint64_t capacity_milli)
{
	struct policy_action a = { .reason = POLICY_R_SUPPRESS_BOUND };

	if (!s->cpu_limited || !nr_be_top)
		return;
	if (p->suppress_policy == POLICY_SUPPRESS_CPUSET) {
		a.kind = POLICY_BE_CPUSET_CPUS;
		a.new_value = s->cpus;
	} else {
		a.kind = POLICY_BE_CPU_QUOTA;
		a.new_value = s->allowed_milli;
	}
	check(e, apply_one(e, p, &a, be, nr_be_top), policy_action_name(a.kind), be->path);
}
