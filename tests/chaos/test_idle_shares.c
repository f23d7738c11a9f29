// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * cpu.idle has a side effect on cpu.shares: writing 1 sets shares to 3
 * (WEIGHT_IDLEPRIO) and writing 0 sets them to 1024 (NICE_0_LOAD),
 * whatever they were before (kernel/sched/fair.c, sched_group_set_idle).
 * A BE pod cgroup as kubelet makes it has cpu.shares=2; after colod idled it
 * and put cpu.idle back to 0, on stop or by `colod restore`, its shares must
 * be 2 again, not 1024 (BE would then weigh as much as a Guaranteed pod).
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <sys/wait.h>
#include "chaos.h"

static void setup(void)
{
	chaos_setup("idle");
	/* kubelet's cpu.shares of a BestEffort pod (MinShares) */
	cr_assert_eq(cgtest_write(&chaos_be, CGT_CPU, "cpu.shares", "2"), 0);
}

TestSuite(chaos_idle, .init = setup, .fini = chaos_teardown, .timeout = 120);

Test(chaos_idle, cpu_shares_of_an_idled_be_group_come_back_on_stop)
{
	struct chaos_snap orig;

	chaos_snapshot(&orig);
	chaos_start(&chaos_run);
	cr_assert(chaos_wait_be_idle(20000), "BE idled");
	cr_assert_eq(WEXITSTATUS(agentrun_stop(&chaos_run, SIGTERM)), 0);
	chaos_assert_originals(&orig, "after SIGTERM");
}

Test(chaos_idle, cpu_shares_of_an_idled_be_group_come_back_by_colod_restore)
{
	struct chaos_snap orig;

	chaos_snapshot(&orig);
	chaos_start(&chaos_run);
	cr_assert(chaos_wait_be_idle(20000), "BE idled");
	agentrun_stop(&chaos_run, SIGKILL);
	cr_assert_eq(chaos_restore(&chaos_run), 0);
	chaos_assert_originals(&orig, "after kill -9 and colod restore");
}
