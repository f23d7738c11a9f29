// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Kernel feature probing: the parsers of cgroup.controllers and the mount
 * table, and the decision table "feature missing -> what colod does".
 * The probes themselves run for real in the qemu test (make test-vm).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>
#include "kfeatures.h"

/* This machine's layout: v1 controllers plus an empty v2, systemd style. */
static const char hybrid_mounts[] =
	"sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0\n"
	"tmpfs /sys/fs/cgroup tmpfs rw,relatime,mode=755 0 0\n"
	"cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,relatime,cpu,cpuacct 0 0\n"
	"cgroup /sys/fs/cgroup/cpuset cgroup rw,relatime,cpuset 0 0\n"
	"cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0\n"
	"cgroup /sys/fs/cgroup/systemd cgroup rw,relatime,name=systemd 0 0\n"
	"cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0\n";

static const char v2_mounts[] =
	"proc /proc proc rw 0 0\n"
	"cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid,nodev,noexec,relatime,nsdelegate 0 0\n"
	"bpf /sys/fs/bpf bpf rw 0 0\n";

/* A full-featured pure-v2 kernel, as Debian 12's 6.1 shows under qemu. */
static void full_v2(struct colod_features *f)
{
	int i;

	memset(f, 0, sizeof(*f));
	cr_assert_eq(features_parse_mounts(v2_mounts, "/sys/fs/cgroup", &f->cg), 0);
	for (i = 0; i < FEAT_NR; i++)
		f->state[i] = FEAT_YES;
}

Test(kfeatures, controllers_parsed_from_cgroup_controllers_text)
{
	unsigned int m = features_parse_controllers("cpuset cpu io memory hugetlb pids rdma misc\n");

	cr_assert_eq(m, CG_CTRL_CPUSET | CG_CTRL_CPU | CG_CTRL_IO | CG_CTRL_MEMORY | CG_CTRL_PIDS);
}

Test(kfeatures, controllers_prefixes_do_not_match)
{
	/* "cpuacct" is not "cpu", "cpus" is nothing */
	cr_assert_eq(features_parse_controllers("cpuacct cpus memoryx"), CG_CTRL_CPUACCT);
	cr_assert_eq(features_parse_controllers(""), 0u);
	cr_assert_eq(features_parse_controllers("\n"), 0u);
	cr_assert_eq(features_parse_controllers("  memory\t cpu  "), CG_CTRL_MEMORY | CG_CTRL_CPU);
}

Test(kfeatures, hybrid_mount_table)
{
	struct cg_layout l;

	cr_assert_eq(features_parse_mounts(hybrid_mounts, "/sys/fs/cgroup", &l), 0);
	cr_assert_eq(l.mode, CG_HYBRID);
	cr_assert_str_eq(l.unified, "/sys/fs/cgroup/unified");
	cr_assert_str_eq(l.cpu, "/sys/fs/cgroup/cpu,cpuacct");
	cr_assert_str_eq(l.cpuset, "/sys/fs/cgroup/cpuset");
	cr_assert_str_eq(l.memory, "/sys/fs/cgroup/memory");
	cr_assert_eq(l.v1_ctrls, CG_CTRL_CPU | CG_CTRL_CPUACCT | CG_CTRL_CPUSET | CG_CTRL_MEMORY);
}

Test(kfeatures, pure_v2_mount_table)
{
	struct cg_layout l;

	cr_assert_eq(features_parse_mounts(v2_mounts, "/sys/fs/cgroup", &l), 0);
	cr_assert_eq(l.mode, CG_V2);
	cr_assert_str_eq(l.unified, "/sys/fs/cgroup");
	cr_assert_str_eq(l.cpu, "/sys/fs/cgroup");
	cr_assert_str_eq(l.memory, "/sys/fs/cgroup");
	cr_assert_eq(l.v1_ctrls, 0u);
}

Test(kfeatures, named_v1_hierarchy_alone_is_still_v2)
{
	static const char t[] =
		"cgroup2 /sys/fs/cgroup/unified cgroup2 rw 0 0\n"
		"cgroup /sys/fs/cgroup/systemd cgroup rw,xattr,name=systemd 0 0\n";
	struct cg_layout l;

	cr_assert_eq(features_parse_mounts(t, NULL, &l), 0);
	cr_assert_eq(l.mode, CG_V2);
	cr_assert_str_eq(l.cpu, "/sys/fs/cgroup/unified");
}

Test(kfeatures, v1_only_and_none)
{
	static const char v1[] = "cgroup /cg/cpu cgroup rw,cpu 0 0\n";
	struct cg_layout l;

	cr_assert_eq(features_parse_mounts(v1, "/cg", &l), 0);
	cr_assert_eq(l.mode, CG_V1);
	cr_assert_str_eq(l.cpu, "/cg/cpu");
	cr_assert_str_eq(l.memory, "");
	cr_assert_eq(features_parse_mounts("proc /proc proc rw 0 0\n", "/cg", &l), 0);
	cr_assert_eq(l.mode, CG_NONE);
	cr_assert_str_eq(l.cpu, "");
}

Test(kfeatures, mounts_outside_root_are_ignored)
{
	/* a container's view of another hierarchy, and a prefix that is not a parent */
	static const char t[] =
		"cgroup2 /other/cgroup cgroup2 rw 0 0\n"
		"cgroup /sys/fs/cgroupx/cpu cgroup rw,cpu 0 0\n"
		"cgroup2 /sys/fs/cgroup cgroup2 rw 0 0\n";
	struct cg_layout l;

	cr_assert_eq(features_parse_mounts(t, "/sys/fs/cgroup/", &l), 0);
	cr_assert_eq(l.mode, CG_V2);
	cr_assert_str_eq(l.unified, "/sys/fs/cgroup");
	cr_assert_eq(l.v1_ctrls, 0u);
}

Test(kfeatures, escaped_mount_point_is_unescaped)
{
	static const char t[] = "cgroup2 /mnt/my\\040cg cgroup2 rw 0 0\n";
	struct cg_layout l;

	cr_assert_eq(features_parse_mounts(t, "/mnt", &l), 0);
	cr_assert_str_eq(l.unified, "/mnt/my cg");
}

Test(kfeatures, truncated_mount_line_is_rejected)
{
	struct cg_layout l;

	cr_assert_eq(features_parse_mounts("cgroup2 /sys/fs/cgroup\n", NULL, &l), -EINVAL);
}

Test(kfeatures, full_v2_plan_uses_every_lever)
{
	struct colod_features f;
	struct colod_plan p;

	full_v2(&f);
	features_plan(&f, &p);
	cr_assert(p.bpf);
	cr_assert(p.use_dfl_cgroup);
	cr_assert(p.cpu_throttle && p.cpu_v2_knobs && p.cpu_idle);
	cr_assert(p.memory_high && p.cpuset && p.resctrl);
	cr_assert(p.task_storage && p.bpf_atomics);
	cr_assert_not(features_fatal(&f));
}

Test(kfeatures, any_bpf_prerequisite_missing_is_fatal)
{
	static const enum feat_id need[] = { FEAT_BTF, FEAT_TP_BTF, FEAT_RINGBUF };
	struct colod_features f;
	struct colod_plan p;
	size_t i;

	for (i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		full_v2(&f);
		f.state[need[i]] = FEAT_NO;
		features_plan(&f, &p);
		cr_assert_not(p.bpf, "%s missing but bpf planned", feat_name(need[i]));
		cr_assert(p.cpu_throttle, "CPU lever must stay without %s", feat_name(need[i]));
		cr_assert(strstr(features_fallback(&f, need[i]), "refuses to start"));
		cr_assert(features_fatal(&f), "colod run cannot start without %s",
			  feat_name(need[i]));
	}
}

/* 5.10: neither task storage for tracing nor cmpxchg; colod still starts */
Test(kfeatures, task_storage_and_atomics_missing_fall_back)
{
	static const enum feat_id ids[] = { FEAT_TASK_STORAGE, FEAT_BPF_ATOMICS };
	struct colod_features f;
	struct colod_plan p;
	size_t i;

	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		full_v2(&f);
		f.state[ids[i]] = FEAT_NO;
		features_plan(&f, &p);
		cr_assert(p.bpf, "%s has a fallback", feat_name(ids[i]));
		cr_assert_not(features_fatal(&f));
		cr_assert_eq(p.task_storage, ids[i] != FEAT_TASK_STORAGE);
		cr_assert_eq(p.bpf_atomics, ids[i] != FEAT_BPF_ATOMICS);
		cr_assert_null(strstr(features_fallback(&f, ids[i]), "refuses"));
	}
	cr_assert(strstr(features_fallback(&f, FEAT_TASK_STORAGE), "pid-keyed hash"));
}

Test(kfeatures, unknown_bpf_state_is_tried)
{
	struct colod_features f;
	struct colod_plan p;

	/* no CAP_BPF for the probe: let the real load decide (and report) */
	full_v2(&f);
	f.state[FEAT_TP_BTF] = FEAT_UNKNOWN;
	features_plan(&f, &p);
	cr_assert(p.bpf);
}

Test(kfeatures, hybrid_uses_v1_knobs_and_no_memory_high)
{
	struct colod_features f;
	struct colod_plan p;
	int i;

	memset(&f, 0, sizeof(f));
	cr_assert_eq(features_parse_mounts(hybrid_mounts, NULL, &f.cg), 0);
	for (i = 0; i < FEAT_NR; i++)
		f.state[i] = FEAT_YES;
	f.state[FEAT_CGROUP_V2] = FEAT_NO;
	features_plan(&f, &p);
	cr_assert(p.bpf);
	cr_assert_not(p.use_dfl_cgroup);
	cr_assert(p.cpu_throttle);
	cr_assert_not(p.cpu_v2_knobs);
	cr_assert_not(p.memory_high);
	cr_assert(strstr(features_fallback(&f, FEAT_CGROUP_V2), "cfs_quota_us"));
	cr_assert(strstr(features_fallback(&f, FEAT_CPU_IDLE), "cpu.shares"));
}

Test(kfeatures, no_cpu_idle_falls_back_to_weight_on_v2)
{
	struct colod_features f;
	struct colod_plan p;

	full_v2(&f);
	f.state[FEAT_CPU_IDLE] = FEAT_NO;
	features_plan(&f, &p);
	cr_assert_not(p.cpu_idle);
	cr_assert(p.cpu_throttle);
	cr_assert(strstr(features_fallback(&f, FEAT_CPU_IDLE), "cpu.weight"));
}

Test(kfeatures, no_cpu_controller_disables_cpu_levers)
{
	struct colod_features f;
	struct colod_plan p;

	full_v2(&f);
	f.state[FEAT_CG_CPU] = FEAT_NO;
	features_plan(&f, &p);
	cr_assert_not(p.cpu_throttle);
	cr_assert_not(p.cpu_v2_knobs);
	cr_assert_not(p.cpu_idle, "cpu.idle is a cpu controller file");
	cr_assert(strstr(features_fallback(&f, FEAT_CPU_IDLE), "no cpu controller"));
	cr_assert_not(features_fatal(&f), "BPF still observes");
	f.state[FEAT_BTF] = FEAT_NO;
	cr_assert(features_fatal(&f));
}

Test(kfeatures, memory_resctrl_cpuset_slice_each_switch_only_their_lever)
{
	static const enum feat_id ids[] = { FEAT_CG_MEMORY, FEAT_RESCTRL, FEAT_CG_CPUSET,
					    FEAT_SCHED_SLICE };
	struct colod_features f;
	struct colod_plan full, p;
	size_t i;

	full_v2(&f);
	features_plan(&f, &full);
	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		full_v2(&f);
		f.state[ids[i]] = FEAT_NO;
		features_plan(&f, &p);
		cr_assert_eq(p.memory_high, ids[i] != FEAT_CG_MEMORY);
		cr_assert_eq(p.resctrl, ids[i] != FEAT_RESCTRL);
		cr_assert_eq(p.cpuset, ids[i] != FEAT_CG_CPUSET);
		cr_assert_eq(p.sched_slice, ids[i] != FEAT_SCHED_SLICE);
		cr_assert_eq(p.bpf, full.bpf);
		cr_assert_eq(p.cpu_idle, full.cpu_idle);
	}
}

Test(kfeatures, every_feature_has_a_name_and_a_fallback)
{
	struct colod_features f;
	int i;

	full_v2(&f);
	for (i = 0; i < FEAT_NR; i++) {
		cr_assert_str_neq(feat_name(i), "?");
		cr_assert_str_neq(features_fallback(&f, i), "?", "no fallback for %s", feat_name(i));
	}
	cr_assert_str_eq(feat_name(FEAT_NR), "?");
}

Test(kfeatures, cmd_features_rejects_unknown_argument)
{
	char *argv[] = { "features", "--bogus", NULL };

	cr_assert_eq(cmd_features(2, argv), 2);
}
