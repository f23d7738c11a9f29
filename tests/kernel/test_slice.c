// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * BE's EEVDF slice (beSchedSliceUs), with the real agent on real v1
 * cgroups: a BE cgroup with a child (BE too: the rule's glob takes it),
 * each with a spinning task, and an LS cgroup beside them. The agent gives
 * every BE thread that runs the slice, and a thread that joins later or
 * that someone set back; LS threads keep theirs. A stop, `colod restore`
 * after a SIGKILL, and turning the key off give BE's threads the kernel's
 * default back. Skipped on kernels that keep no custom slice for
 * SCHED_OTHER (before 6.12). Root required.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/sched/types.h>
#include "agentrun.h"
#include "cgtest.h"
#include "slice.h"

#define SLICE_US	100000
#define SLICE_NS	(SLICE_US * 1000ULL)

static struct cgtest_group ls, be, be_child;
static struct agentrun run;
static uint64_t base_ns;	/* this kernel's default slice */

static uint64_t slice_of(pid_t pid)
{
	struct sched_attr a = { 0 };

	cr_assert_eq(syscall(SYS_sched_getattr, pid, &a, sizeof(a), 0), 0,
		     "sched_getattr %d: %s", pid, strerror(errno));
	return a.sched_runtime;
}

static int set_slice(pid_t pid, uint64_t ns)
{
	struct sched_attr a = { .size = sizeof(a), .sched_runtime = ns };

	return syscall(SYS_sched_setattr, pid, &a, 0) ? -errno : 0;
}

static void setup(void)
{
	char child[300];

	if (geteuid())
		cr_skip_test("real-kernel tests need root");
	/* the agent's own probe, which leaves this thread's slice alone */
	if (!slice_supported())
		cr_skip_test("this kernel keeps no custom slice for SCHED_OTHER (6.12+)");
	base_ns = slice_of(getpid());
	agentrun_init(&run, "slice");
	cr_assert_eq(cgtest_make_unique(&ls, "slice-ls", CGT_CPU | CGT_CPUACCT), 0);
	cr_assert_eq(cgtest_make_unique(&be, "slice-be", CGT_CPU | CGT_CPUACCT), 0);
	snprintf(child, sizeof(child), "%s/c", be.rel);
	cr_assert_eq(cgtest_make(&be_child, child, CGT_CPU | CGT_CPUACCT), 0);
}

static void teardown(void)
{
	agentrun_cleanup(&run);
	cgtest_remove(&be_child);
	cgtest_remove(&be);
	cgtest_remove(&ls);
}

TestSuite(slice, .init = setup, .fini = teardown, .timeout = 120);

static void config(unsigned int slice_us)
{
	char text[1024];

	snprintf(text, sizeof(text),
		 "{\"beSchedSliceUs\": %u, \"classificationRules\": ["
		 "{\"match\": \"/%s\", \"class\": \"LS\"},"
		 "{\"match\": \"/%s*\", \"class\": \"BE\"}]}", slice_us, ls.rel, be.rel);
	agentrun_config(&run, "colod-config", text);
	/* the slice is BE's CPU QoS, with cpu.idle */
	agentrun_config(&run, "resource-qos-config",
			"{\"clusterStrategy\": {\"beClass\": {\"cpuQOS\": {\"enable\": true}}}}");
}

static bool wait_slice(pid_t pid, uint64_t ns, int timeout_ms)
{
	for (; timeout_ms > 0; timeout_ms -= 100) {
		if (slice_of(pid) == ns)
			return true;
		usleep(100000);
	}
	return slice_of(pid) == ns;
}

static void start(void)
{
	agentrun_start(&run, NULL);
	cr_assert(agentrun_wait_log(&run, "running:", 30000), "agent up (see %s/agent.log)",
		  run.dir);
}

/* The agent running with the slice on: BE's threads have it, LS's not. */
static void started_with_the_slice(pid_t *b, pid_t *bc, pid_t *l)
{
	config(SLICE_US);
	*b = cgtest_spawn_busy(&be);
	*bc = cgtest_spawn_busy(&be_child);
	*l = cgtest_spawn_busy(&ls);
	cr_assert(*b > 0 && *bc > 0 && *l > 0);
	cr_assert_eq(slice_of(*b), base_ns, "BE starts at the default");
	start();
	cr_assert(wait_slice(*b, SLICE_NS, 10000), "BE's thread gets the slice (%lu ns)",
		  (unsigned long)slice_of(*b));
	cr_assert(wait_slice(*bc, SLICE_NS, 5000), "and the one in the cgroup below");
	cr_assert_eq(slice_of(*l), base_ns, "LS keeps its own");
	cr_assert(file_has(agentrun_path(&run, "state/journal.json"), "\"op\":\"slice\""),
		  "journaled before the first");
}

Test(slice, be_threads_get_it_level_triggered_and_a_stop_gives_it_back)
{
	pid_t b, bc, l, late;

	started_with_the_slice(&b, &bc, &l);
	late = cgtest_spawn_busy(&be);
	cr_assert(wait_slice(late, SLICE_NS, 5000), "a thread that joins later gets it");
	cr_assert_eq(set_slice(b, 0), 0);
	cr_assert_eq(slice_of(b), base_ns);
	cr_assert(wait_slice(b, SLICE_NS, 5000), "set back by someone: put back");
	/* someone else's slice on an LS thread is not colod's to touch */
	cr_assert_eq(set_slice(l, 20000000), 0);
	agentrun_stop(&run, SIGTERM);
	cr_assert_eq(slice_of(b), base_ns, "the stop gives BE the default back");
	cr_assert_eq(slice_of(bc), base_ns);
	cr_assert_eq(slice_of(late), base_ns);
	cr_assert_eq(slice_of(l), 20000000, "the LS thread's own slice is left alone");
}

Test(slice, restore_after_a_crash_gives_it_back)
{
	pid_t b, bc, l;

	started_with_the_slice(&b, &bc, &l);
	agentrun_stop(&run, SIGKILL);
	cr_assert_eq(slice_of(b), SLICE_NS, "a SIGKILL leaves it");
	cr_assert_eq(agentrun_restore(&run), 0, "colod restore");
	cr_assert_eq(slice_of(b), base_ns, "colod restore gives the default back");
	cr_assert_eq(slice_of(bc), base_ns);
}

Test(slice, turning_the_key_off_gives_it_back)
{
	pid_t b, bc, l;

	started_with_the_slice(&b, &bc, &l);
	config(0);
	cr_assert(wait_slice(b, base_ns, 10000), "released when the key is 0");
	cr_assert(wait_slice(bc, base_ns, 1000));
	cr_assert(agentrun_alive(&run));
	cr_assert_not(file_has(agentrun_path(&run, "state/journal.json"), "\"op\":\"slice\""),
		      "and forgotten");
}

Test(slice, a_slice_shorter_than_the_others_is_refused)
{
	pid_t b, bc, l;

	started_with_the_slice(&b, &bc, &l);
	config(500);
	cr_assert(agentrun_wait_log(&run, "beSchedSliceUs: found 500", 10000),
		  "the error names the field and the value");
	sleep(2);
	cr_assert_eq(slice_of(b), SLICE_NS, "the last good configuration stays in force");
	cr_assert(agentrun_alive(&run));
}
