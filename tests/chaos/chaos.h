/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The chaos suite's shared fixture (make test-chaos; docs/OPERATIONS.md):
 * an LS and a BE cgroup in real v1 hierarchies with busy processes, the
 * real `colod run` over them (tests/lib/agentrun.h) with a configuration
 * that classifies those two and nothing else, and the snapshot of every
 * knob file colod may write in them, taken before the agent ever ran and
 * compared byte for byte after.
 *
 * The originals are set away from the kernel's defaults first (shares,
 * period, soft limit), so that a restore which wrote a default instead of
 * the original would show.
 */
#ifndef COLOD_TESTS_CHAOS_H
#define COLOD_TESTS_CHAOS_H

#include <stdbool.h>
#include <stddef.h>
#include "agentrun.h"
#include "cgtest.h"

/* Every knob file colod may write in a v1 cgroup (cgroup.c). */
#define CHAOS_NR_KNOBS	8

struct chaos_snap {
	char v[2][CHAOS_NR_KNOBS][128];	/* [ls, be][knob]: raw bytes */
};

extern struct cgtest_group chaos_ls, chaos_be;
extern struct agentrun chaos_run;

/* Skips without root or v1 controllers; makes the groups, sets originals. */
void chaos_setup(const char *name);
void chaos_teardown(void);

/*
 * The ConfigMap keys for the agent: cpuset (true) or cfsQuota suppress;
 * rules name only the fixture's two groups, everything else is SYSTEM (other
 * tests on this machine make kubelet-like trees that must stay untouched).
 */
void chaos_config(struct agentrun *r, bool cpuset_policy);

void chaos_snapshot(struct chaos_snap *s);
/* Knobs that differ from s; each named in why (may be NULL). */
int chaos_diff(const struct chaos_snap *s, char *why, size_t len);
/* Fail the test naming every knob that is not back byte for byte. */
void chaos_assert_originals(const struct chaos_snap *s, const char *when);

/* `colod restore --state-dir <dir>/state`, output appended to restore.log: exit code. */
int chaos_restore(struct agentrun *r);
/* Leftover temp files (".<name>.XXXXXX" of an atomic replace) in <dir>/state. */
int chaos_temp_files(struct agentrun *r, char *first, size_t len);
/* Entries in a pin directory; -1 if it does not exist. */
int chaos_pins(const char *pin_dir);

/* Uniform in [0, n). */
unsigned int chaos_rand(unsigned int n);
/* Seed from $CHAOS_SEED, else the clock; logged so a failure can be replayed. */
void chaos_seed(void);
/* $name as a positive int, else def. */
int chaos_env_int(const char *name, int def);

/*
 * agentrun_start() with no extra arguments, after emptying agent.log: the
 * log is appended to, and a "running:" of an earlier run must not count.
 */
void chaos_start(struct agentrun *r);

/* Wait for the agent's BE knobs (cpu.idle=1), i.e. the first reconcile ran. */
bool chaos_wait_be_idle(int timeout_ms);

#endif /* COLOD_TESTS_CHAOS_H */
