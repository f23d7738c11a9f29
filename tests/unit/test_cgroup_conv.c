// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Pure helpers of the cgroup module: conversions, cpu.max, paths, modes. */
#include <criterion/criterion.h>
#include <errno.h>
#include <linux/magic.h>
#include <string.h>
#include "cgroup.h"

Test(cgroup, shares_to_weight_matches_kernel_formula)
{
	/* 1 + ((shares - 2) * 9999) / 262142, at the ends and the default. */
	cr_assert_eq(cg_shares_to_weight(2), 1);
	cr_assert_eq(cg_shares_to_weight(1024), 39);
	cr_assert_eq(cg_shares_to_weight(262144), 10000);
	cr_assert_eq(cg_shares_to_weight(26216), 1000);
	/* Out of range is clamped like the kernel clamps shares. */
	cr_assert_eq(cg_shares_to_weight(0), 1);
	cr_assert_eq(cg_shares_to_weight(1), 1);
	cr_assert_eq(cg_shares_to_weight(1 << 30), 10000);
}

Test(cgroup, shares_to_weight_is_monotonic)
{
	uint64_t s, prev = 0, w;

	for (s = 2; s <= 262144; s++) {
		w = cg_shares_to_weight(s);
		cr_assert_geq(w, prev, "shares %lu", (unsigned long)s);
		cr_assert(w >= 1 && w <= 10000);
		prev = w;
	}
}

Test(cgroup, weight_round_trips_through_shares)
{
	uint64_t w, s;

	cr_assert_eq(cg_weight_to_shares(1), 2);
	cr_assert_eq(cg_weight_to_shares(10000), 262144);
	for (w = 1; w <= 10000; w++) {
		s = cg_weight_to_shares(w);
		cr_assert(s >= 2 && s <= 262144, "weight %lu -> %lu",
			  (unsigned long)w, (unsigned long)s);
		cr_assert_eq(cg_shares_to_weight(s), w, "weight %lu -> shares %lu",
			     (unsigned long)w, (unsigned long)s);
	}
	cr_assert_eq(cg_weight_to_shares(0), 2);
	cr_assert_eq(cg_weight_to_shares(20000), 262144);
}

Test(cgroup, weight_to_shares_is_the_least_shares_of_that_weight)
{
	/*
	 * runc writes weight 1 + ((shares - 2) * 9999) / 262142: weight 39 is
	 * shares 999..1024 (kubelet's 1000m is 1024). The inverse is the least
	 * of them, 999; a floored inverse gives 998, which is weight 38.
	 */
	cr_assert_eq(cg_weight_to_shares(39), 999);
	cr_assert_eq(cg_shares_to_weight(999), 39);
	cr_assert_eq(cg_shares_to_weight(998), 38);
	cr_assert_eq(cg_shares_to_weight(1024), 39);
	cr_assert_eq(cg_shares_to_weight(1025), 40);
	cr_assert_eq(cg_weight_to_shares(cg_shares_to_weight(1024)), 999);
}

Test(cgroup, cpu_max_format)
{
	char buf[64];

	cr_assert_eq(cg_format_cpu_max(buf, sizeof(buf), -1, 100000), 0);
	cr_assert_str_eq(buf, "max 100000");
	cr_assert_eq(cg_format_cpu_max(buf, sizeof(buf), 50000, 100000), 0);
	cr_assert_str_eq(buf, "50000 100000");
	cr_assert_eq(cg_format_cpu_max(buf, sizeof(buf), 1000, 1000), 0);
	cr_assert_str_eq(buf, "1000 1000");
	/* The kernel's limits: quota >= 1 ms, 1 ms <= period <= 1 s. */
	cr_assert_eq(cg_format_cpu_max(buf, sizeof(buf), 999, 100000), -EINVAL);
	cr_assert_eq(cg_format_cpu_max(buf, sizeof(buf), 5000, 999), -EINVAL);
	cr_assert_eq(cg_format_cpu_max(buf, sizeof(buf), 5000, 1000001), -EINVAL);
	cr_assert_eq(cg_format_cpu_max(buf, 4, 50000, 100000), -ENAMETOOLONG);
}

Test(cgroup, cpu_max_parse)
{
	long long q;
	uint64_t p;

	cr_assert_eq(cg_parse_cpu_max("max 100000\n", &q, &p), 0);
	cr_assert_eq(q, -1);
	cr_assert_eq(p, 100000);
	cr_assert_eq(cg_parse_cpu_max("20000 50000", &q, &p), 0);
	cr_assert_eq(q, 20000);
	cr_assert_eq(p, 50000);
	cr_assert_eq(cg_parse_cpu_max("max", &q, &p), -EINVAL);
	cr_assert_eq(cg_parse_cpu_max("", &q, &p), -EINVAL);
	cr_assert_eq(cg_parse_cpu_max("lots 100000", &q, &p), -EINVAL);
	cr_assert_eq(cg_parse_cpu_max("-5 100000", &q, &p), -EINVAL);
	cr_assert_eq(cg_parse_cpu_max("5000 100000 7", &q, &p), -EINVAL);
	cr_assert_eq(cg_parse_cpu_max("5000 5000000", &q, &p), -EINVAL);
}

Test(cgroup, cpu_max_round_trip)
{
	static const long long quotas[] = { -1, 1000, 12345, 1000000, 4000000 };
	static const uint64_t periods[] = { 1000, 100000, 1000000 };
	char buf[64];
	long long q;
	uint64_t p;
	size_t i, k;

	for (i = 0; i < sizeof(quotas) / sizeof(quotas[0]); i++)
		for (k = 0; k < sizeof(periods) / sizeof(periods[0]); k++) {
			cr_assert_eq(cg_format_cpu_max(buf, sizeof(buf), quotas[i],
						       periods[k]), 0);
			cr_assert_eq(cg_parse_cpu_max(buf, &q, &p), 0, "%s", buf);
			cr_assert_eq(q, quotas[i]);
			cr_assert_eq(p, periods[k]);
		}
}

Test(cgroup, weight_check_uses_kernel_errno)
{
	cr_assert_eq(cg_check_cpu_weight(0), -ERANGE);
	cr_assert_eq(cg_check_cpu_weight(10001), -ERANGE);
	cr_assert_eq(cg_check_cpu_weight(1), 0);
	cr_assert_eq(cg_check_cpu_weight(10000), 0);
}

Test(cgroup, mode_from_statfs_magic)
{
	cr_assert_eq(cg_mode_from_magic(CGROUP2_SUPER_MAGIC, false, 0), CG_V2);
	cr_assert_eq(cg_mode_from_magic(TMPFS_MAGIC, true, CGROUP2_SUPER_MAGIC),
		     CG_HYBRID);
	cr_assert_eq(cg_mode_from_magic(TMPFS_MAGIC, true, 0), CG_V1);
	cr_assert_eq(cg_mode_from_magic(TMPFS_MAGIC, true, TMPFS_MAGIC), CG_V1);
	/* every controller on the v2 at <root>/unified (cgroup_no_v1=all) */
	cr_assert_eq(cg_mode_from_magic(TMPFS_MAGIC, false, CGROUP2_SUPER_MAGIC),
		     CG_V2);
	cr_assert_eq(cg_mode_from_magic(TMPFS_MAGIC, false, TMPFS_MAGIC), CG_NONE);
	cr_assert_eq(cg_mode_from_magic(0, false, 0), CG_NONE);
	cr_assert_str_eq(cg_mode_name(CG_HYBRID), "hybrid");
}

Test(cgroup, paths)
{
	char buf[PATH_MAX];

	cr_assert_eq(cg_path(buf, sizeof(buf), "/r/cpu", "/kubepods/pod1",
			     "cpu.shares"), 0);
	cr_assert_str_eq(buf, "/r/cpu/kubepods/pod1/cpu.shares");
	cr_assert_eq(cg_path(buf, sizeof(buf), "/r/cpu", "kubepods", NULL), 0);
	cr_assert_str_eq(buf, "/r/cpu/kubepods");
	cr_assert_eq(cg_path(buf, sizeof(buf), "/r/cpu", "/", "cpu.stat"), 0);
	cr_assert_str_eq(buf, "/r/cpu/cpu.stat");
	cr_assert_eq(cg_path(buf, sizeof(buf), "/r/cpu", NULL, NULL), 0);
	cr_assert_str_eq(buf, "/r/cpu");
	cr_assert_eq(cg_path(buf, 10, "/r/cpu", "kubepods", NULL), -ENAMETOOLONG);
}

Test(cgroup, ctx_layouts)
{
	struct cg_ctx ctx;

	cr_assert_eq(cg_ctx_init(&ctx, CG_V1, "/x"), 0);
	cr_assert_str_eq(ctx.cpu, "/x/cpu");
	cr_assert_str_eq(ctx.cpuacct, "/x/cpuacct");
	cr_assert_str_eq(ctx.cpuset, "/x/cpuset");
	cr_assert_str_eq(ctx.memory, "/x/memory");
	cr_assert_str_eq(ctx.unified, "");
	cr_assert_eq(cg_ctx_init(&ctx, CG_HYBRID, "/x"), 0);
	cr_assert_str_eq(ctx.unified, "/x/unified");
	cr_assert_str_eq(ctx.cpu, "/x/cpu");
	cr_assert_eq(cg_ctx_init(&ctx, CG_V2, "/y"), 0);
	cr_assert_str_eq(ctx.cpu, "/y");
	cr_assert_str_eq(ctx.memory, "/y");
	cr_assert_str_eq(ctx.unified, "/y");
	cr_assert_eq(cg_ctx_init(&ctx, CG_NONE, "/y"), -EINVAL);
}
