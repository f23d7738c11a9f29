// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The journal with the real agent and real v1 cgroups: a journal of 20,000
 * entries (far over 1 MiB) restores and lets the agent start; a journal
 * whose hierarchy is not mounted is kept, not emptied; a second agent on
 * the same pin directory is refused and changes nothing. Root required.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "agentrun.h"
#include "cgtest.h"
#include "fileio.h"
#include "journal.h"
#include "tfile.h"

#define NR_REAL		100	/* cgroups made, two knobs each */
#define NR_ENTRIES	20000

static struct cgtest_group top, be;
static struct agentrun run, second;
static char idle_path[256], idle0[16], fake[300];

#define QOS_ON	"{\"clusterStrategy\": {\"beClass\": {\"cpuQOS\": {\"enable\": true}}}}"

static void configure(struct agentrun *r, const char *glob)
{
	char text[512];

	agentrun_config(r, "resource-qos-config", QOS_ON);
	agentrun_config(r, "resource-threshold-config",
			"{\"clusterStrategy\": {\"enable\": false}}");
	snprintf(text, sizeof(text), "{\"classificationRules\": ["
		 "{\"match\": \"%s\", \"class\": \"BE\"}]}", glob);
	agentrun_config(r, "colod-config", text);
}

static void child_path(char *buf, size_t len, int i, const char *file)
{
	char dir[256];

	cgtest_path(dir, sizeof(dir), &top, CGT_CPU, NULL);
	snprintf(buf, len, "%s/c%d%s%s", dir, i, file ? "/" : "", file ?: "");
}

static void setup(void)
{
	if (geteuid())
		cr_skip_test("real-kernel tests need root");
	cr_assert_eq(cgtest_make_unique(&top, "jrn", CGT_CPU), 0);
	cr_assert_eq(cgtest_make_unique(&be, "jrn-be", CGT_CPU | CGT_CPUACCT), 0);
	cr_assert_eq(cgtest_path(idle_path, sizeof(idle_path), &be, CGT_CPU, "cpu.idle"), 0);
	if (access(idle_path, F_OK))
		cr_skip_test("this kernel has no cpu.idle");
	read_text(idle_path, idle0, sizeof(idle0));
	agentrun_init(&run, "jrn");
	configure(&run, "/colod-test-no-such-cgroup");
	fake[0] = 0;
}

static void teardown(void)
{
	char path[300];
	int i;

	if (fake[0])
		umount2(fake, MNT_DETACH);
	agentrun_cleanup(&run);
	agentrun_cleanup(&second);
	for (i = 0; i < NR_REAL; i++) {
		child_path(path, sizeof(path), i, NULL);
		rmdir(path);
	}
	cgtest_remove(&top);
	cgtest_remove(&be);
}

TestSuite(journal, .init = setup, .fini = teardown, .timeout = 120);

/*
 * NR_ENTRIES entries: two knobs of NR_REAL real cgroups, set away from
 * their originals as a killed agent would leave them, and the rest in
 * cgroups that are gone.
 */
static void write_big_journal(void)
{
	size_t len = 0, cap = (size_t)NR_ENTRIES * 256;
	char path[300], *text = malloc(cap);
	struct stat st;
	int i;

	cr_assert_not_null(text);
	len = snprintf(text, cap, "{\"version\":1,\"entries\":[");
	for (i = 0; i < NR_ENTRIES; i++) {
		const char *knob = i % 2 ? "cpu.cfs_quota_us" : "cpu.shares";
		const char *orig = i % 2 ? "-1\\n" : "1024\\n";

		if (i < 2 * NR_REAL) {
			child_path(path, sizeof(path), i / 2, NULL);
			if (!(i % 2))
				cr_assert_eq(mkdir(path, 0755), 0, "%s", path);
			child_path(path, sizeof(path), i / 2, knob);
			tfile_write(path, i % 2 ? "5000" : "2");
		} else {
			child_path(path, sizeof(path), i, "gone/cpu.shares");
		}
		len += snprintf(text + len, cap - len, "%s\n{\"op\":\"write\",\"path\":"
				"\"%s\",\"original\":\"%s\"}", i ? "," : "", path, orig);
	}
	len += snprintf(text + len, cap - len, "\n]}\n");
	mkdir(agentrun_path(&run, "state"), 0700);
	tfile_write(agentrun_path(&run, "state/journal.json"), text);
	free(text);
	cr_assert_eq(stat(agentrun_path(&run, "state/journal.json"), &st), 0);
	cr_assert_gt(st.st_size, 1 << 20, "the journal is over 1 MiB");
}

/* Every real knob back to its original within timeout_ms. */
static bool all_restored(int timeout_ms)
{
	char path[300];
	int i;

	for (i = 0; i < NR_REAL; i++) {
		child_path(path, sizeof(path), i, "cpu.shares");
		if (!wait_text(path, "1024", timeout_ms))
			return false;
		child_path(path, sizeof(path), i, "cpu.cfs_quota_us");
		if (!wait_text(path, "-1", timeout_ms))
			return false;
	}
	return true;
}

Test(journal, colod_restore_of_a_20000_entry_journal_restores_every_knob)
{
	write_big_journal();
	cr_assert_eq(agentrun_restore(&run), 0, "colod restore exits 0");
	cr_assert(all_restored(100), "every real knob back to its original");
	cr_assert_eq(agentrun_journal_entries(&run), 0, "the journal is empty");
}

Test(journal, colod_run_starts_on_a_20000_entry_journal_and_restores_it)
{
	write_big_journal();
	agentrun_start(&run, NULL);
	if (!agentrun_wait_log(&run, "running:", 20000))
		agentrun_show_log(&run);
	cr_assert(agentrun_log_has(&run, "running:"), "the agent starts");
	cr_assert(all_restored(5000), "knobs it no longer wants get their originals");
	cr_assert_eq(WEXITSTATUS(agentrun_stop(&run, SIGTERM)), 0);
	cr_assert_eq(agentrun_journal_entries(&run), 0);
}

/* Entries into a root with no cgroupfs: a tmpfs, and nothing at all. */
Test(journal, restore_without_cgroupfs_fails_and_keeps_the_journal)
{
	char text[1024];

	snprintf(fake, sizeof(fake), "%s", agentrun_path(&run, "fakecg"));
	cr_assert_eq(mkdir(fake, 0755), 0);
	cr_assert_eq(mount("tmpfs", fake, "tmpfs", 0, "size=1m"), 0, "%s", strerror(errno));
	snprintf(text, sizeof(text), "{\"version\":1,\"entries\":["
		 "{\"op\":\"write\",\"path\":\"%s/cpu/kubepods/pod1/cpu.shares\",\"original\":\"1024\\n\"},"
		 "{\"op\":\"write\",\"path\":\"%s/cpu/kubepods/cpu.shares\",\"original\":\"2\\n\"}]}",
		 fake, agentrun_path(&run, "no-such-root"));
	mkdir(agentrun_path(&run, "state"), 0700);
	tfile_write(agentrun_path(&run, "state/journal.json"), text);
	cr_assert_neq(agentrun_restore(&run), 0, "colod restore fails");
	cr_assert_eq(agentrun_journal_entries(&run), 2, "and the journal keeps both entries");
}

static int count_pins(const char *dir)
{
	struct dirent *d;
	DIR *dp = opendir(dir);
	int n = 0;

	if (!dp)
		return -1;
	while ((d = readdir(dp)))
		n += d->d_name[0] != '.';
	closedir(dp);
	return n;
}

Test(journal, a_second_agent_on_the_same_pin_dir_is_refused_and_changes_nothing)
{
	char glob[300];
	int pins, st;

	snprintf(glob, sizeof(glob), "/%s", be.rel);
	configure(&run, glob);
	cr_assert_gt(cgtest_spawn_busy(&be), 0);
	agentrun_start(&run, NULL);
	cr_assert(wait_text(idle_path, "1", 10000), "BE idled by the first agent");
	pins = count_pins(run.pin_dir);
	cr_assert_gt(pins, 0, "the first agent pinned its maps");

	agentrun_init(&second, "jrn2");
	configure(&second, glob);
	agentrun_start(&second, "--pin-dir", run.pin_dir, NULL);
	cr_assert(agentrun_wait_exit(&second, 10000), "the second agent stops by itself");
	st = second.status;
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1, "exit status 1 (status %#x)", st);
	cr_assert(agentrun_log_has(&second, "another colod agent"), "it says why");
	cr_assert_neq(access(agentrun_path(&second, "state/journal.json"), F_OK), 0,
		      "it journaled nothing");
	cr_assert_eq(count_pins(run.pin_dir), pins, "the first agent's pins are still there");
	cr_assert_eq(kill(run.pid, 0), 0, "the first agent runs on");
	cr_assert(wait_text(idle_path, "1", 100), "BE still idled");
	sleep(2);
	cr_assert(agentrun_metric(&run, "colod_knob_drift_total{knob=\"cpu.idle\"}") <= 0,
		  "nobody fought over the knob");
	cr_assert_eq(WEXITSTATUS(agentrun_stop(&run, SIGTERM)), 0);
	cr_assert(wait_text(idle_path, idle0, 100), "the first agent restores on stop");
}
