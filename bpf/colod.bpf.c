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
const volatile __u32 nr_cpus = 1;			/* possible CPUs, cpu_be's size */
/*
 * Kernel features the loader probed (user/bpf/loader.c). The verifier prunes
 * the branch a false one guards, so the helpers and instructions an older
 * kernel lacks are never checked there.
 *   has_task_storage: task storage usable from tracing programs and
 *     bpf_get_current_task_btf() (5.11/5.12); without it the loader turns
 *     task_ts into a hash map keyed by pid, as runqlat's "start" map.
 * BPF_CMPXCHG (5.12) cannot be pruned that way: before 5.12 the verifier
 * refuses a program that holds one anywhere, so colod_sched_switch comes
 * in two variants and the loader loads one of them.
 */
const volatile bool has_task_storage = true;
/*
 * cg_stats admits a cgroup without a cg_class entry (one colod does not
 * track) only while it holds fewer entries than this, so that the rest of
 * the map stays for tracked cgroups however many others run.
 */
const volatile __u64 stats_untracked_max = COLOD_MAX_CGROUPS_DEFAULT * 3 / 4;

/* Entries in cg_stats: counted at insert and at delete (rmdir). */
__u64 stats_nr = 0;

#define MAX_CPUS	1024	/* bound of the loop over cpu_be for the verifier */

/* Per-task state; lives and dies with the task. */
struct task_ts {
	__u64 enqueued_ns;	/* 0 when not waiting on a run-queue */
	__u64 charged_rt;	/* its sum_exec_runtime when last charged */
	__u64 reclaim_ns;	/* start of the reclaim in progress */
	__u64 enq_be_ns;	/* its run-queue CPU's BE time when it began to wait */
	__u32 enq_cpu;		/* that CPU */
	__u32 on_cpu;		/* charged_rt holds: switched in since attach */
};

/*
 * Task storage where the kernel has it; otherwise the loader makes this a
 * BPF_MAP_TYPE_HASH keyed by pid, sized for the node's tasks, whose entries
 * colod_task_exit deletes.
 */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct task_ts);
} task_ts SEC(".maps");

/*
 * One value per cgroup shared by all CPUs, updated with atomic adds: a
 * per-CPU value (1.7 KB for every possible CPU of every cgroup that ran)
 * cost 848 MiB for 2,000 cgroups with 255 possible CPUs. Not preallocated:
 * only cgroups that ran take memory. The counters of every cgroup here,
 * the histograms of LS cgroups only in cg_hist. See docs/MAPS.md.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, COLOD_MAX_CGROUPS_DEFAULT);
	__type(key, __u64);
	__type(value, struct colod_cg_counters);
} cg_stats SEC(".maps");

/* Run-queue waits by slot, LS cgroups only; sized as cg_class. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, COLOD_MAX_CGROUPS_DEFAULT);
	__type(key, __u64);
	__type(value, struct colod_cg_hist);
} cg_hist SEC(".maps");

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

/*
 * Ids of cgroups made and removed: the agent classes a pod as it appears,
 * and gives a pod its original cpu.idle back as its last container goes
 * (before kubelet's cleanup writes its cpu.shares), not a walk later.
 */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} cg_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, COLOD_CNT_NR);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/*
 * Per CPU, indexed by CPU number (the loader sizes it to the possible
 * CPUs): how long BE tasks have run there, so that an LS wait can be told
 * spent behind BE or not. Each CPU writes its own slot only.
 */
struct cpu_be {
	__u64 be_ns;		/* BE run time, intervals closed so far */
	__u64 be_since;		/* switch-in of the BE task running now; 0: none */
	__u64 be_cgid;		/* cgroup of the last BE task that ran here */
	__u64 be_idle;		/* that task's cgroup is COLOD_CG_IDLE */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cpu_be);
} cpu_be SEC(".maps");

/* Written by userspace only; here so that it carries BTF for bpftool. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct colod_headroom);
} headroom SEC(".maps");

static const struct colod_cg_counters zero_stats;
static const struct colod_cg_hist zero_hist;
static const struct task_ts zero_ts;

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

/*
 * Every CPU adds to the same value: atomic adds (lock xadd on x86, the same
 * instruction runqlat's histogram uses). The result is unused, so the
 * compiler emits BPF_ATOMIC_ADD without fetch.
 */
#define ADD(p, v)	__sync_fetch_and_add(&(p), (v))

static __always_inline void max_u64(__u64 *p, __u64 v, bool atomics)
{
	__u64 old = *p, cur;
	int i;

	if (!atomics) {
		/* no cmpxchg before 5.12: a racing larger value may be lost */
		if (v > old)
			*p = v;
		return;
	}
	/* a racing larger value wins; a few retries are plenty */
	for (i = 0; i < 4 && v > old; i++) {
		cur = __sync_val_compare_and_swap(p, old, v);
		if (cur == old)
			break;
		old = cur;
	}
}

static __always_inline struct colod_cg_counters *stats_of(__u64 cgid)
{
	struct colod_cg_counters *s = bpf_map_lookup_elem(&cg_stats, &cgid);

	if (s)
		return s;
	/* near full: keep the room for the cgroups colod tracks */
	if (stats_nr >= stats_untracked_max && !bpf_map_lookup_elem(&cg_class, &cgid)) {
		count(COLOD_CNT_STATS_UNTRACKED);
		return NULL;
	}
	if (!bpf_map_update_elem(&cg_stats, &cgid, &zero_stats, BPF_NOEXIST))
		ADD(stats_nr, 1);
	s = bpf_map_lookup_elem(&cg_stats, &cgid);
	/* A full map must not turn into silently wrong totals: count it. */
	if (!s)
		count(COLOD_CNT_STATS_FULL);
	return s;
}

/* An LS cgroup's histogram; its class entry bounds how many there are. */
static __always_inline struct colod_cg_hist *hist_of(__u64 cgid)
{
	struct colod_cg_hist *h = bpf_map_lookup_elem(&cg_hist, &cgid);

	if (h)
		return h;
	bpf_map_update_elem(&cg_hist, &cgid, &zero_hist, BPF_NOEXIST);
	h = bpf_map_lookup_elem(&cg_hist, &cgid);
	if (!h)
		count(COLOD_CNT_STATS_FULL);
	return h;
}

/*
 * The stamps of task t (pid is t's): its task storage, or its entry in the
 * pid-keyed hash that stands in for it.
 */
static __always_inline struct task_ts *ts_of(struct task_struct *t, __u32 pid,
					     bool create)
{
	struct task_ts *ts;

	if (has_task_storage)
		return bpf_task_storage_get(&task_ts, t, NULL,
					    create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
	ts = bpf_map_lookup_elem(&task_ts, &pid);
	if (ts || !create)
		return ts;
	bpf_map_update_elem(&task_ts, &pid, &zero_ts, BPF_NOEXIST);
	return bpf_map_lookup_elem(&task_ts, &pid);
}

/*
 * The running task. bpf_get_current_task_btf() came with task storage
 * (5.11); before it the pointer is untyped and read with BPF_CORE_READ.
 */
static __always_inline struct task_struct *current_task(void)
{
	if (has_task_storage)
		return bpf_get_current_task_btf();
	return (struct task_struct *)bpf_get_current_task();
}

/* task_cgroup_id() of an untyped task pointer (current_task() before 5.11) */
static __always_inline __u64 task_cgroup_id_read(struct task_struct *t)
{
	if (use_dfl_cgroup)
		return BPF_CORE_READ(t, cgroups, dfl_cgrp, kn, id);
	return BPF_CORE_READ(t, cgroups, subsys[bpf_core_enum_value(enum cgroup_subsys_id,
								    cpu_cgrp_id)], cgroup, kn, id);
}

/* The cgroup of the running task t, got from current_task(). */
static __always_inline __u64 current_cgroup_id(struct task_struct *t)
{
	return has_task_storage ? task_cgroup_id(t) : task_cgroup_id_read(t);
}

/* Before 5.16 (and where thread_info has no cpu) it was task_struct.cpu. */
struct task_struct___cpu {
	unsigned int cpu;
} __attribute__((preserve_access_index));

/* The CPU whose run-queue t is on. */
static __always_inline __u32 task_cpu(struct task_struct *t)
{
	if (bpf_core_field_exists(t->thread_info.cpu))
		return t->thread_info.cpu;
	return ((struct task_struct___cpu *)(void *)t)->cpu;
}

static __always_inline struct cpu_be *cpu_be_of(__u32 cpu)
{
	return bpf_map_lookup_elem(&cpu_be, &cpu);
}

/* BE time of a CPU up to now, the running BE task's included. */
static __always_inline __u64 be_ns_at(__u32 cpu, __u64 now)
{
	struct cpu_be *cb = cpu_be_of(cpu);

	if (!cb)
		return 0;
	return cb->be_ns + (cb->be_since && now > cb->be_since ? now - cb->be_since : 0);
}

/* The task of ts starts waiting on the run-queue of cpu, whose BE time is be_ns. */
static __always_inline void stamp_wait(struct task_ts *ts, __u32 cpu, __u64 be_ns,
				       __u64 now)
{
	ts->enqueued_ns = now;
	ts->enq_cpu = cpu;
	ts->enq_be_ns = be_ns;
}

/* A woken task starts waiting on the run-queue of its CPU. */
static __always_inline void mark_woken(struct task_struct *t, bool new_task)
{
	struct task_ts *ts = ts_of(t, t->pid, true);
	__u64 now = bpf_ktime_get_ns();
	__u32 cpu = task_cpu(t);

	if (!ts)
		return;
	/* a pid-keyed entry may be a dead task's whose pid this one reuses */
	if (new_task && !has_task_storage)
		*ts = zero_ts;
	stamp_wait(ts, cpu, be_ns_at(cpu, now), now);
}

/*
 * An LS sample above its cgroup's threshold that BE is to blame for goes to
 * userspace at once, but at most one per cgroup per breach_min_interval_ns:
 * a storm of breaches must not flood the ring buffer nor the agent.
 */
static __always_inline bool report_breach(struct colod_cg_class *c, __u64 cgid,
					  __u64 be_cgid, struct task_struct *t,
					  __u64 delta, __u64 now, bool atomics)
{
	struct colod_breach_event *e;
	__u64 last = c->last_event_ns;

	if (now - last < breach_min_interval_ns) {
		count(COLOD_CNT_RATE_LIMITED);
		return false;
	}
	/* before 5.12 (no cmpxchg) two CPUs may both send one */
	if (!atomics) {
		c->last_event_ns = now;
	} else if (__sync_val_compare_and_swap(&c->last_event_ns, last, now) != last) {
		count(COLOD_CNT_RATE_LIMITED);
		return false;
	}
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count(COLOD_CNT_RINGBUF_DROP);
		return false;
	}
	e->cgroup_id = cgid;
	e->be_cgroup_id = be_cgid;
	e->latency_ns = delta;
	e->ts_ns = now;
	e->pid = t->pid;
	e->cpu = bpf_get_smp_processor_id();
	BPF_CORE_READ_STR_INTO(&e->comm, t, comm);
	bpf_ringbuf_submit(e, 0);
	return true;
}

/*
 * The cgroup of a BE task running on some CPU other than cpu, or 0. An
 * idle-class one does not count: the scheduler places a waking LS task on
 * a CPU that runs only such tasks as if it were idle.
 */
static __always_inline __u64 be_running_elsewhere(__u32 cpu)
{
	struct cpu_be *cb;
	__u32 i;

	for (i = 0; i < MAX_CPUS && i < nr_cpus; i++) {
		if (i == cpu)
			continue;
		cb = cpu_be_of(i);
		if (cb && cb->be_since && !cb->be_idle)
			return cb->be_cgid;
	}
	return 0;
}

/*
 * A late LS wake-up is BE's doing when BE held the CPU until the LS task
 * got it, had that CPU for at least half of the wait, or (not idle-class)
 * was running on another CPU when the wait ended, where the LS task could
 * have run. One
 * spent behind LS's own tasks or system work while no BE ran anywhere is
 * not, and cutting BE would not bring it back. Returns the cgroup of the
 * BE task to blame, or 0.
 */
static __always_inline __u64 blame_be(const struct task_ts *ts, const struct cpu_be *cb,
				      __u32 cpu, bool prev_be, __u64 delta)
{
	if (prev_be || (ts->enq_cpu == cpu && (cb->be_ns - ts->enq_be_ns) * 2 >= delta))
		return cb->be_cgid;
	return be_running_elsewhere(cpu);
}

/*
 * CPU time is the scheduler's own sum_exec_runtime, as cpuacct counts it:
 * a clock delta from switch-in would also count the time the hypervisor
 * stole from the vCPU and hard interrupts, 7-9% over cpuacct on a busy
 * host.
 */
static __always_inline void charge_runtime(struct colod_cg_counters *s, struct task_ts *ts,
					   __u64 runtime)
{
	if (runtime > ts->charged_rt)
		ADD(s->cpu_ns, runtime - ts->charged_rt);
	ts->charged_rt = runtime;
}

/* The run-queue wait of next ends; returns its class entry, if any. */
static __always_inline struct colod_cg_class *
account_switch_in(struct task_struct *next, __u64 cgid, struct cpu_be *cb,
		  __u32 cpu, bool prev_be, __u64 now, bool atomics)
{
	struct colod_cg_class *c = bpf_map_lookup_elem(&cg_class, &cgid);
	__u32 cls = c ? c->cls : COLOD_CLASS_SYSTEM;
	struct colod_cg_counters *s;
	struct colod_cg_hist *h;
	struct task_ts *ts;
	__u64 delta, be_cgid;
	__u32 slot;

	ts = ts_of(next, next->pid, true);
	if (!ts)
		return c;
	ts->charged_rt = next->se.sum_exec_runtime;
	ts->on_cpu = 1;
	if (!ts->enqueued_ns)
		return c;
	delta = now - ts->enqueued_ns;
	ts->enqueued_ns = 0;

	s = stats_of(cgid);
	if (!s)
		return c;
	ADD(s->runq_count, 1);
	ADD(s->runq_sum_ns, delta);
	max_u64(&s->runq_max_ns, delta, atomics);
	if (!c || (cls != COLOD_CLASS_LS && !(c->flags & COLOD_CG_HIST)))
		return c;
	slot = colod_hist_slot(delta / 1000);
	/* the compiler knows the bound; make it check it so the verifier sees it */
	asm volatile("" : "+r"(slot));
	h = hist_of(cgid);
	if (h && slot < COLOD_HIST_SLOTS)
		ADD(h->runq_hist[slot], 1);

	if (cls != COLOD_CLASS_LS || !c->threshold_ns || delta <= c->threshold_ns)
		return c;
	ADD(s->breaches, 1);
	be_cgid = blame_be(ts, cb, cpu, prev_be, delta);
	if (!be_cgid)
		return c;
	ADD(s->breaches_be, 1);
	if (report_breach(c, cgid, be_cgid, next, delta, now, atomics))
		ADD(s->breach_events, 1);
	return c;
}

/* cb: this CPU's BE time, prev's interval already closed */
static __always_inline void account_switch_out(struct task_struct *prev,
					       bool preempt, const struct cpu_be *cb,
					       __u32 cpu, __u64 now)
{
	struct colod_cg_counters *s;
	struct task_ts *ts;
	bool runnable;

	/* the idle task has no cgroup worth charging */
	if (!prev->pid)
		return;
	runnable = task_runnable(prev);
	ts = ts_of(prev, prev->pid, runnable);
	s = stats_of(task_cgroup_id(prev));
	if (s) {
		if (ts && ts->on_cpu)
			charge_runtime(s, ts, prev->se.sum_exec_runtime);
		if (runnable || preempt)
			ADD(s->nivcsw, 1);
		else
			ADD(s->nvcsw, 1);
	}
	if (!ts)
		return;
	ts->on_cpu = 0;
	ts->enqueued_ns = 0;
	/* still runnable: it waits on this run-queue from now on */
	if (runnable)
		stamp_wait(ts, cpu, cb->be_ns, now);
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(colod_sched_wakeup, struct task_struct *p)
{
	mark_woken(p, false);
	return 0;
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(colod_sched_wakeup_new, struct task_struct *p)
{
	mark_woken(p, true);
	return 0;
}

/*
 * Loaded only with the pid-keyed stand-in for task storage (the loader
 * turns its autoload on): a task's entry goes with it, as its task storage
 * would.
 */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(colod_task_exit, struct task_struct *p)
{
	__u32 pid = p->pid;

	if (!has_task_storage)
		bpf_map_delete_elem(&task_ts, &pid);
	return 0;
}

/* atomics: a constant, so that the variant without cmpxchg holds none */
static __always_inline int sched_switch(bool preempt, struct task_struct *prev,
					struct task_struct *next, bool atomics)
{
	__u32 cpu = bpf_get_smp_processor_id();
	struct cpu_be *cb = cpu_be_of(cpu);
	struct colod_cg_class *c = NULL;
	__u64 now = bpf_ktime_get_ns(), cgid = 0;
	bool prev_be;

	if (!cb)
		return 0;
	/* close the BE interval of prev, if it was BE */
	prev_be = cb->be_since != 0;
	if (prev_be && now > cb->be_since)
		cb->be_ns += now - cb->be_since;
	cb->be_since = 0;
	account_switch_out(prev, preempt, cb, cpu, now);
	if (next->pid) {
		cgid = task_cgroup_id(next);
		c = account_switch_in(next, cgid, cb, cpu, prev_be, now, atomics);
	}
	if (c && c->cls == COLOD_CLASS_BE) {
		cb->be_since = now;
		cb->be_cgid = cgid;
		cb->be_idle = c->flags & COLOD_CG_IDLE;
	}
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(colod_sched_switch, bool preempt, struct task_struct *prev,
	     struct task_struct *next)
{
	return sched_switch(preempt, prev, next, true);
}

/* Before 5.12 (no BPF_CMPXCHG) the loader loads this one instead. */
SEC("tp_btf/sched_switch")
int BPF_PROG(colod_sched_switch_plain, bool preempt, struct task_struct *prev,
	     struct task_struct *next)
{
	return sched_switch(preempt, prev, next, false);
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
	struct colod_cg_counters *s;
	struct task_ts *ts;
	__u64 runtime;
	__u32 pid;

	if (!fn || (fn != &tick_nohz_handler && fn != &tick_nohz_highres_handler &&
		    fn != &tick_sched_timer))
		return 0;
	pid = (__u32)bpf_get_current_pid_tgid();
	if (!pid)
		return 0;
	t = current_task();
	ts = ts_of(t, pid, true);
	if (!ts)
		return 0;
	/* the tick updates it after this tracepoint: it lags by one tick */
	runtime = BPF_CORE_READ(t, se.sum_exec_runtime);
	/*
	 * Running but never switched in since the attach: its time counts
	 * from here, as what it ran before the attach is not colod's to
	 * charge. The time from the attach to this tick (under a tick
	 * period) is let go.
	 */
	if (!ts->on_cpu) {
		ts->charged_rt = runtime;
		ts->on_cpu = 1;
		return 0;
	}
	s = stats_of(current_cgroup_id(t));
	if (s)
		charge_runtime(s, ts, runtime);
	return 0;
}

static __always_inline void reclaim_begin(void)
{
	struct task_struct *t = current_task();
	struct task_ts *ts = ts_of(t, (__u32)bpf_get_current_pid_tgid(), true);

	if (ts)
		ts->reclaim_ns = bpf_ktime_get_ns();
}

static __always_inline void reclaim_end(bool memcg)
{
	struct task_struct *t = current_task();
	struct task_ts *ts = ts_of(t, (__u32)bpf_get_current_pid_tgid(), false);
	struct colod_cg_counters *s;
	__u64 delta;

	if (!ts || !ts->reclaim_ns)
		return;
	delta = bpf_ktime_get_ns() - ts->reclaim_ns;
	ts->reclaim_ns = 0;
	s = stats_of(current_cgroup_id(t));
	if (!s)
		return;
	if (memcg) {
		ADD(s->memcg_reclaim_ns, delta);
		ADD(s->memcg_reclaim_count, 1);
	} else {
		ADD(s->direct_reclaim_ns, delta);
		ADD(s->direct_reclaim_count, 1);
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

	if (!bpf_map_delete_elem(&cg_stats, &cgid))
		ADD(stats_nr, -1);
	bpf_map_delete_elem(&cg_hist, &cgid);
	bpf_map_delete_elem(&cg_class, &cgid);
	bpf_ringbuf_output(&cg_events, &cgid, sizeof(cgid), 0);
	return 0;
}

/*
 * A wake-up for the agent's walk. A full buffer loses the id, which the
 * walk at the next tick finds all the same.
 */
SEC("tp_btf/cgroup_mkdir")
int BPF_PROG(colod_cgroup_mkdir, struct cgroup *cgrp, const char *path)
{
	__u64 cgid = cgrp->kn->id;

	bpf_ringbuf_output(&cg_events, &cgid, sizeof(cgid), 0);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
