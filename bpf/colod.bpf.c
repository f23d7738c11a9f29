// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * colod's kernel side: per-cgroup run-queue latency, CPU time, context
 * switches and reclaim stalls, plus LS latency breaches on a ring buffer.
 * Everything that crosses into userspace is defined in colod/colod.h.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "colod/colod.h"

#define TASK_RUNNING	0

/* Set by the loader before load. */
const volatile bool use_dfl_cgroup = false;	/* v2: default hierarchy */
const volatile __u64 breach_min_interval_ns = 1000000;

/* Per-task state; lives and dies with the task. */
struct task_ts {
	__u64 enqueued_ns;	/* 0 when not waiting on a run-queue */
	__u64 oncpu_ns;		/* when it was last switched in */
	__u64 reclaim_ns;	/* start of the reclaim in progress */
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct task_ts);
} task_ts SEC(".maps");

/*
 * Not preallocated: a value is 1.7 KB per CPU, so preallocating 10240 of
 * them would charge tens of MiB per CPU to the agent's memory cgroup.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, COLOD_MAX_CGROUPS_DEFAULT);
	__type(key, __u64);
	__type(value, struct colod_cg_stats);
} cg_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, COLOD_MAX_CGROUPS_DEFAULT);
	__type(key, __u64);
	__type(value, struct colod_cg_class);
} cg_class SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, COLOD_CNT_NR);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/* Written by userspace only; here so that it carries BTF for bpftool. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct colod_headroom);
} headroom SEC(".maps");

static const struct colod_cg_stats zero_stats;

/* Before 5.14 the field was task_struct.state. */
struct task_struct___pre514 {
	long state;
} __attribute__((preserve_access_index));

static __always_inline bool task_runnable(struct task_struct *t)
{
	if (bpf_core_field_exists(t->__state))
		return t->__state == TASK_RUNNING;
	return ((struct task_struct___pre514 *)(void *)t)->state == TASK_RUNNING;
}

static __always_inline void count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &idx);

	if (v)
		(*v)++;
}

/*
 * tp_btf hands us trusted task pointers, so plain loads (CO-RE relocated,
 * run as cheap PROBE_MEM instructions) replace bpf_probe_read calls on the
 * hot path.
 */
static __always_inline __u64 task_cgroup_id(struct task_struct *t)
{
	struct cgroup *cgrp;

	if (use_dfl_cgroup)
		cgrp = t->cgroups->dfl_cgrp;
	else	/* v1 and hybrid: the cpu controller's hierarchy, where kubelet puts pods */
		cgrp = t->cgroups->subsys[bpf_core_enum_value(enum cgroup_subsys_id,
							      cpu_cgrp_id)]->cgroup;
	return cgrp->kn->id;
}

static __always_inline struct colod_cg_stats *stats_of(__u64 cgid)
{
	struct colod_cg_stats *s = bpf_map_lookup_elem(&cg_stats, &cgid);

	if (s)
		return s;
	/* A full map must not turn into silently wrong totals: count it. */
	if (bpf_map_update_elem(&cg_stats, &cgid, &zero_stats, BPF_NOEXIST) &&
	    !bpf_map_lookup_elem(&cg_stats, &cgid)) {
		count(COLOD_CNT_STATS_FULL);
		return NULL;
	}
	return bpf_map_lookup_elem(&cg_stats, &cgid);
}

static __always_inline struct task_ts *ts_of(struct task_struct *t, bool create)
{
	return bpf_task_storage_get(&task_ts, t, NULL,
				    create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
}

static __always_inline void mark_enqueued(struct task_struct *t, __u64 now)
{
	struct task_ts *ts = ts_of(t, true);

	if (ts)
		ts->enqueued_ns = now;
}

/*
 * An LS sample above its cgroup's threshold goes to userspace at once, but
 * at most one per cgroup per breach_min_interval_ns: a storm of breaches
 * must not flood the ring buffer nor the agent.
 */
static __always_inline bool report_breach(struct colod_cg_class *c, __u64 cgid,
					  struct task_struct *t, __u64 delta,
					  __u64 now)
{
	struct colod_breach_event *e;
	__u64 last = c->last_event_ns;

	if (now - last < breach_min_interval_ns ||
	    __sync_val_compare_and_swap(&c->last_event_ns, last, now) != last) {
		count(COLOD_CNT_RATE_LIMITED);
		return false;
	}
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(COLOD_CNT_RINGBUF_DROP);
		return false;
	}
	e->cgroup_id = cgid;
	e->latency_ns = delta;
	e->ts_ns = now;
	e->pid = t->pid;
	e->cpu = bpf_get_smp_processor_id();
	BPF_CORE_READ_STR_INTO(&e->comm, t, comm);
	bpf_ringbuf_submit(e, 0);
	return true;
}

static __always_inline void account_switch_in(struct task_struct *next, __u64 now)
{
	struct colod_cg_stats *s;
	struct colod_cg_class *c;
	struct task_ts *ts;
	__u64 delta, cgid;
	__u32 slot;

	ts = ts_of(next, true);
	if (!ts)
		return;
	ts->oncpu_ns = now;
	if (!ts->enqueued_ns)
		return;
	delta = now - ts->enqueued_ns;
	ts->enqueued_ns = 0;

	cgid = task_cgroup_id(next);
	s = stats_of(cgid);
	if (!s)
		return;
	s->runq_count++;
	s->runq_sum_ns += delta;
	if (delta > s->runq_max_ns)
		s->runq_max_ns = delta;
	slot = colod_hist_slot(delta / 1000);
	/* the compiler knows the bound; make it check it so the verifier sees it */
	asm volatile("" : "+r"(slot));
	if (slot < COLOD_HIST_SLOTS)
		s->runq_hist[slot]++;

	c = bpf_map_lookup_elem(&cg_class, &cgid);
	if (c && c->cls == COLOD_CLASS_LS && c->threshold_ns &&
	    delta > c->threshold_ns) {
		s->breaches++;
		if (report_breach(c, cgid, next, delta, now))
			s->breach_events++;
	}
}

static __always_inline void account_switch_out(struct task_struct *prev,
					       bool preempt, __u64 now)
{
	struct colod_cg_stats *s;
	struct task_ts *ts;
	bool runnable;

	/* the idle task has no cgroup worth charging */
	if (!prev->pid)
		return;
	runnable = task_runnable(prev);
	ts = ts_of(prev, runnable);
	s = stats_of(task_cgroup_id(prev));
	if (s) {
		if (ts && ts->oncpu_ns && now > ts->oncpu_ns)
			s->cpu_ns += now - ts->oncpu_ns;
		if (runnable || preempt)
			s->nivcsw++;
		else
			s->nvcsw++;
	}
	if (ts) {
		ts->oncpu_ns = 0;
		/* still runnable: it waits on the run-queue from now on */
		ts->enqueued_ns = runnable ? now : 0;
	}
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(colod_sched_wakeup, struct task_struct *p)
{
	mark_enqueued(p, bpf_ktime_get_ns());
	return 0;
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(colod_sched_wakeup_new, struct task_struct *p)
{
	mark_enqueued(p, bpf_ktime_get_ns());
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(colod_sched_switch, bool preempt, struct task_struct *prev,
	     struct task_struct *next)
{
	__u64 now = bpf_ktime_get_ns();

	account_switch_out(prev, preempt, now);
	if (next->pid)
		account_switch_in(next, now);
	return 0;
}

/*
 * The scheduler tick's hrtimer callback, renamed twice (tick_sched_timer,
 * then tick_nohz_highres_handler in 6.7, then tick_nohz_handler). Weak:
 * the names this kernel lacks resolve to 0. (Before 6.7 tick_nohz_handler
 * was the low-res clockevent handler, never an hrtimer's callback.)
 */
extern const void tick_nohz_handler __ksym __weak;
extern const void tick_nohz_highres_handler __ksym __weak;
extern const void tick_sched_timer __ksym __weak;

/*
 * A task that runs for long without a switch (alone on its CPU, or with
 * the others idle-class) would be charged only when it finally leaves the
 * CPU, so a 1 s tick could see a busy cgroup as idle. The scheduler tick
 * charges the running task's time so far. A tracepoint rather than fentry
 * on the tick function: fentry needs ftrace, which some kernels (this
 * project's CI host among them) do not allow. The tick runs in hardirq on
 * the task's own CPU, so it cannot interleave with that task's switch-out.
 */
SEC("tp_btf/hrtimer_expire_entry")
int BPF_PROG(colod_tick, struct hrtimer *timer)
{
	const void *fn = timer->function;
	struct task_struct *t;
	struct colod_cg_stats *s;
	struct task_ts *ts;
	__u64 now;

	if (!fn || (fn != &tick_nohz_handler && fn != &tick_nohz_highres_handler &&
		    fn != &tick_sched_timer))
		return 0;
	t = bpf_get_current_task_btf();
	if (!t->pid)
		return 0;
	ts = ts_of(t, false);
	if (!ts)
		return 0;
	now = bpf_ktime_get_ns();
	/*
	 * It is on this CPU now; unstamped, its switch-in found the task
	 * storage busy (a task exiting on this CPU was freeing its own):
	 * count it from this tick rather than not at all.
	 */
	if (!ts->oncpu_ns || now <= ts->oncpu_ns) {
		ts->oncpu_ns = now;
		return 0;
	}
	s = stats_of(task_cgroup_id(t));
	if (!s)
		return 0;
	s->cpu_ns += now - ts->oncpu_ns;
	ts->oncpu_ns = now;
	return 0;
}

static __always_inline void reclaim_begin(void)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct task_ts *ts = ts_of(t, true);

	if (ts)
		ts->reclaim_ns = bpf_ktime_get_ns();
}

static __always_inline void reclaim_end(bool memcg)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct task_ts *ts = ts_of(t, false);
	struct colod_cg_stats *s;
	__u64 delta;

	if (!ts || !ts->reclaim_ns)
		return;
	delta = bpf_ktime_get_ns() - ts->reclaim_ns;
	ts->reclaim_ns = 0;
	s = stats_of(task_cgroup_id(t));
	if (!s)
		return;
	if (memcg) {
		s->memcg_reclaim_ns += delta;
		s->memcg_reclaim_count++;
	} else {
		s->direct_reclaim_ns += delta;
		s->direct_reclaim_count++;
	}
}

SEC("tp_btf/mm_vmscan_direct_reclaim_begin")
int BPF_PROG(colod_direct_reclaim_begin)
{
	reclaim_begin();
	return 0;
}

SEC("tp_btf/mm_vmscan_direct_reclaim_end")
int BPF_PROG(colod_direct_reclaim_end)
{
	reclaim_end(false);
	return 0;
}

SEC("tp_btf/mm_vmscan_memcg_reclaim_begin")
int BPF_PROG(colod_memcg_reclaim_begin)
{
	reclaim_begin();
	return 0;
}

SEC("tp_btf/mm_vmscan_memcg_reclaim_end")
int BPF_PROG(colod_memcg_reclaim_end)
{
	reclaim_end(true);
	return 0;
}

/* Forget a removed cgroup so that its id's slot can be reused. */
SEC("tp_btf/cgroup_rmdir")
int BPF_PROG(colod_cgroup_rmdir, struct cgroup *cgrp)
{
	__u64 cgid = cgrp->kn->id;

	bpf_map_delete_elem(&cg_stats, &cgid);
	bpf_map_delete_elem(&cg_class, &cgid);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
