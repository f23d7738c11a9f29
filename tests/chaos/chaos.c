// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The chaos suite's shared fixture; see chaos.h. */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
#include "chaos.h"
#include "fileio.h"
#include "journal.h"

struct cgtest_group chaos_ls, chaos_be;
struct agentrun chaos_run;

static const struct {
	unsigned int ctrl;
	const char *file;
} knobs[CHAOS_NR_KNOBS] = {
	{ CGT_CPU, "cpu.idle" },
	{ CGT_CPU, "cpu.shares" },
	{ CGT_CPU, "cpu.cfs_quota_us" },
	{ CGT_CPU, "cpu.cfs_period_us" },
	{ CGT_CPUSET, "cpuset.cpus" },
	{ CGT_CPUSET, "cpuset.mems" },
	{ CGT_MEMORY, "memory.soft_limit_in_bytes" },
	{ CGT_MEMORY, "memory.limit_in_bytes" },
};

#define CHAOS_CTRLS	(CGT_CPU | CGT_CPUACCT | CGT_CPUSET | CGT_MEMORY)

void chaos_setup(const char *name)
{
	char n[64];

	if (geteuid())
		cr_skip_test("real-kernel tests need root");
	if (!cgtest_have(CGT_CPU) || !cgtest_have(CGT_CPUSET) || !cgtest_have(CGT_MEMORY))
		cr_skip_test("the chaos suite needs the v1 cpu, cpuset and memory hierarchies");
	snprintf(n, sizeof(n), "chaos-%s-ls", name);
	cr_assert_eq(cgtest_make_unique(&chaos_ls, n, CHAOS_CTRLS), 0);
	snprintf(n, sizeof(n), "chaos-%s-be", name);
	cr_assert_eq(cgtest_make_unique(&chaos_be, n, CHAOS_CTRLS), 0);
	if (cgtest_write(&chaos_be, CGT_CPU, "cpu.idle", "0"))
		cr_skip_test("this kernel has no cpu.idle");
	/* originals away from the defaults: a restore to a default shows */
	cr_assert_eq(cgtest_write(&chaos_ls, CGT_CPU, "cpu.shares", "3000"), 0);
	/*
	 * BE keeps the default cpu.shares here: cpu.idle=0 resets shares to
	 * 1024 in the kernel, which colod does not journal (the bug that
	 * test_idle_shares.c shows on its own, so that it does not hide the
	 * rest of the suite).
	 */
	cr_assert_eq(cgtest_write(&chaos_be, CGT_CPU, "cpu.cfs_period_us", "50000"), 0);
	cr_assert_eq(cgtest_write(&chaos_be, CGT_MEMORY, "memory.soft_limit_in_bytes",
				  "4294967296"), 0);
	cr_assert_eq(cgtest_write(&chaos_ls, CGT_MEMORY, "memory.soft_limit_in_bytes",
				  "8589934592"), 0);
	snprintf(n, sizeof(n), "chaos-%s", name);
	agentrun_init(&chaos_run, n);
	chaos_config(&chaos_run, false);
}

void chaos_teardown(void)
{
	agentrun_cleanup(&chaos_run);
	cgtest_remove(&chaos_ls);
	cgtest_remove(&chaos_be);
}

void chaos_config(struct agentrun *r, bool cpuset_policy)
{
	char text[1024];

	agentrun_config(r, "colocation-config", "{\"enable\": true}");
	snprintf(text, sizeof(text),
		 "{\"clusterStrategy\": {\"enable\": true, \"cpuSuppressPolicy\": \"%s\","
		 " \"cpuSuppressThresholdPercent\": %d, \"memoryEvictThresholdPercent\": 100}}",
		 cpuset_policy ? "cpuset" : "cfsQuota", cpuset_policy ? 50 : 65);
	agentrun_config(r, "resource-threshold-config", text);
	agentrun_config(r, "resource-qos-config",
			"{\"clusterStrategy\": {\"beClass\": {\"cpuQOS\": {\"enable\": true,"
			" \"schedIdle\": 1}, \"memoryQOS\": {\"enable\": true,"
			" \"throttlingPercent\": 80}}, \"lsClass\": {\"cpuQOS\": {\"enable\": true}}}}");
	snprintf(text, sizeof(text),
		 "{\"lsLatencyTargetUs\": 1000, \"classificationRules\": ["
		 "{\"match\": \"/%s\", \"class\": \"LS\"},"
		 "{\"match\": \"/%s\", \"class\": \"BE\"},"
		 "{\"match\": \"*\", \"class\": \"SYSTEM\"}]}", chaos_ls.rel, chaos_be.rel);
	agentrun_config(r, "colod-config", text);
}

static void read_raw(const struct cgtest_group *g, int k, char *buf, size_t len)
{
	char path[512], *s = NULL;

	cgtest_path(path, sizeof(path), g, knobs[k].ctrl, knobs[k].file);
	if (file_read_all(path, 1 << 16, &s)) {
		snprintf(buf, len, "(unreadable)");
		return;
	}
	snprintf(buf, len, "%s", s);
	free(s);
}

void chaos_snapshot(struct chaos_snap *s)
{
	int k;

	/* whole struct defined: snapshots compare with memcmp() too */
	memset(s, 0, sizeof(*s));
	for (k = 0; k < CHAOS_NR_KNOBS; k++) {
		read_raw(&chaos_ls, k, s->v[0][k], sizeof(s->v[0][k]));
		read_raw(&chaos_be, k, s->v[1][k], sizeof(s->v[1][k]));
	}
}

int chaos_diff(const struct chaos_snap *s, char *why, size_t len)
{
	const struct cgtest_group *g[2] = { &chaos_ls, &chaos_be };
	char cur[128];
	size_t used = 0;
	int c, k, n = 0;

	if (why && len)
		why[0] = 0;
	for (c = 0; c < 2; c++)
		for (k = 0; k < CHAOS_NR_KNOBS; k++) {
			read_raw(g[c], k, cur, sizeof(cur));
			if (!strcmp(cur, s->v[c][k]))
				continue;
			n++;
			if (why && used < len)
				used += snprintf(why + used, len - used, " %s/%s: '%.*s' (was '%.*s');",
						 g[c]->rel, knobs[k].file,
						 (int)strcspn(cur, "\n"), cur,
						 (int)strcspn(s->v[c][k], "\n"), s->v[c][k]);
		}
	return n;
}

void chaos_assert_originals(const struct chaos_snap *s, const char *when)
{
	char why[2048];
	int n = chaos_diff(s, why, sizeof(why));

	if (n)
		agentrun_show_log(&chaos_run);
	cr_assert_eq(n, 0, "%s: %d knobs not back byte for byte:%s", when, n, why);
}

int chaos_restore(struct agentrun *r)
{
	char redirect[300];

	snprintf(redirect, sizeof(redirect), " >>%s/restore.log 2>&1", r->dir);
	return agentrun_restore_to(r, redirect);
}

int chaos_temp_files(struct agentrun *r, char *first, size_t len)
{
	DIR *d = opendir(agentrun_path(r, "state"));
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		/* file_replace()'s temp names: ".<file>.XXXXXX" */
		if (e->d_name[0] != '.' || !strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (!n++ && first)
			snprintf(first, len, "%s", e->d_name);
	}
	closedir(d);
	return n;
}

int chaos_pins(const char *pin_dir)
{
	DIR *d = opendir(pin_dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static unsigned int rand_state;

unsigned int chaos_rand(unsigned int n)
{
	/* xorshift32: reproducible from the logged seed, whatever libc does */
	rand_state ^= rand_state << 13;
	rand_state ^= rand_state >> 17;
	rand_state ^= rand_state << 5;
	return n ? rand_state % n : 0;
}

int chaos_env_int(const char *name, int def)
{
	const char *v = getenv(name);
	long n = v ? strtol(v, NULL, 10) : 0;

	return n > 0 ? (int)n : def;
}

void chaos_seed(void)
{
	rand_state = (unsigned int)chaos_env_int("CHAOS_SEED", 0);
	if (!rand_state)
		rand_state = (unsigned int)time(NULL) ^ (unsigned int)getpid();
	rand_state |= 1;
	cr_log_info("CHAOS_SEED=%u replays this run", rand_state);
	fprintf(stderr, "chaos: CHAOS_SEED=%u replays this run\n", rand_state);
}

bool chaos_wait_be_idle(int timeout_ms)
{
	char path[512];

	cgtest_path(path, sizeof(path), &chaos_be, CGT_CPU, "cpu.idle");
	return wait_text(path, "1", timeout_ms);
}

void chaos_start(struct agentrun *r)
{
	/* a log that is not there yet has nothing to empty */
	(void)!truncate(agentrun_path(r, "agent.log"), 0);
	agentrun_start(r, NULL);
}
