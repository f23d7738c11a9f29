// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The act step on this machine's real v1 cpu hierarchy: the originals of
 * the BE CPU knobs a breach cuts are journaled, with one save, at the tick
 * that finds the BE cgroups, so that the cut itself writes the knobs and
 * nothing else (no journal save with its fsyncs on the reaction path); a
 * knob no longer wanted gets its original back at the next tick; a stop
 * still puts every original back. Root required.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cgroup.h"
#include "cgtest.h"
#include "reconcile.h"
#include "journal.h"
#include "tfile.h"

static struct cg_ctx ctx;
static struct journal *j;
static struct track track;
static struct reconciler rec;
static struct decision dec;
static struct policy_caps caps;
static struct policy_state ps;
static struct policy_params pp;
static char state[64], jfile[128];
static struct cgtest_group be1, be2, be3;

static void setup(void)
{
	strcpy(state, "/tmp/colod-enforce-state-XXXXXX");
	cr_assert_not_null(mkdtemp(state));
	snprintf(jfile, sizeof(jfile), "%s/%s", state, JOURNAL_FILE);
	cr_assert_eq(cg_detect(&ctx, NULL), 0);
	cr_assert(ctx.mode == CG_V1 || ctx.mode == CG_HYBRID,
		  "these tests need v1 controllers; mode is %s", cg_mode_name(ctx.mode));
	j = journal_open(state);
	cr_assert_not_null(j);
	rec = (struct reconciler) { .cg = &ctx, .j = j };
	policy_params_default(&pp);
	/* the dynamic CPU lever alone: no static QoS knobs in the journal */
	pp.qos[COLOD_CLASS_BE].cpu_enable = false;
	pp.qos[COLOD_CLASS_BE].memory_enable = false;
	policy_init(&ps, &pp, 2000);
	cr_assert_eq(cgtest_make_unique(&be1, "enf-be1", CGT_CPU), 0);
	cr_assert_eq(cgtest_make_unique(&be2, "enf-be2", CGT_CPU), 0);
	cr_assert_not_null(track_add(&track, 1, be1.rel, COLOD_CLASS_BE, 0));
	cr_assert_not_null(track_add(&track, 2, be2.rel, COLOD_CLASS_BE, 0));
	track_mark_tops(&track);
}

static void teardown(void)
{
	if (j)
		journal_restore_all(j);
	journal_close(j);
	j = NULL;
	track_free(&track);
	decision_free(&dec);
	cgtest_remove(&be1);
	cgtest_remove(&be2);
	cgtest_remove(&be3);
	tfile_rm_tree(state);
}

TestSuite(reconcile, .init = setup, .fini = teardown, .timeout = 30);

static ino_t journal_ino(void)
{
	struct stat st;

	cr_assert_eq(stat(jfile, &st), 0, "%s", jfile);
	return st.st_ino;
}

static void assert_knob(const struct cgtest_group *g, const char *file,
			const char *want)
{
	char got[64];

	cr_assert_eq(cgtest_read(g, CGT_CPU, file, got, sizeof(got)), 0);
	cr_assert_str_eq(got, want, "%s/%s", g->rel, file);
}

/* One tick's act with nothing decided but what the policy state says. */
static void tick(void)
{
	struct decide_params dp = { .p = &pp, .caps = &caps };

	cr_assert_eq(decide_knobs(&dp, &ps, &track, false, &dec), 0);
	reconcile(&rec, &pp, &track, &dec, NULL);
}

Test(reconcile, the_tick_journals_be_knobs_and_the_cut_is_one_write)
{
	struct decide_params dp = { .p = &pp, .caps = &caps };
	struct policy_breach b = { .ls_cgroup_id = 9, .latency_ns = 5000000, .now_ms = 1000 };
	char q0[64], p0[64], want[32];
	ino_t ino;

	cr_assert_eq(cgtest_read(&be1, CGT_CPU, "cpu.cfs_quota_us", q0, sizeof(q0)), 0);
	cr_assert_eq(cgtest_read(&be1, CGT_CPU, "cpu.cfs_period_us", p0, sizeof(p0)), 0);
	cr_assert_str_eq(q0, "-1", "a new cgroup is unlimited");

	tick();
	cr_assert_eq(journal_count(j), 4, "quota and period of both BE cgroups");
	assert_knob(&be1, "cpu.cfs_quota_us", "-1");	/* journaled, not written */
	ino = journal_ino();

	/* a second tick adds nothing: no save */
	tick();
	cr_assert_eq(journal_ino(), ino, "the journal was saved again");

	/* a BE cgroup that appears later is journaled at the tick that finds it */
	cr_assert_eq(cgtest_make_unique(&be3, "enf-be3", CGT_CPU), 0);
	cr_assert_not_null(track_add(&track, 3, be3.rel, COLOD_CLASS_BE, 0));
	track_mark_tops(&track);
	tick();
	cr_assert_eq(journal_count(j), 6, "be3's quota and period added");
	ino = journal_ino();

	/* the cut, split over three BE cgroups: knob writes, no journal save */
	cr_assert_eq(decide_breach(&dp, &ps, &b, &track, &dec), 1);
	reconcile(&rec, &pp, &track, &dec, NULL);
	cr_assert_eq(rec.nr_write_errors, 0);
	snprintf(want, sizeof(want), "%llu", (unsigned long long)
		 policy_cfs_quota_us(ps.allowed_milli / 3, pp.be_cfs_period_us));
	assert_knob(&be1, "cpu.cfs_quota_us", want);
	assert_knob(&be2, "cpu.cfs_quota_us", want);
	assert_knob(&be3, "cpu.cfs_quota_us", want);
	cr_assert_eq(journal_ino(), ino, "the cut saved the journal");
	cr_assert_eq(journal_count(j), 6);

	/* the next ticks want the same: nothing is released, period included */
	tick();
	tick();
	assert_knob(&be3, "cpu.cfs_quota_us", want);
	snprintf(want, sizeof(want), "%u", pp.be_cfs_period_us);
	assert_knob(&be3, "cpu.cfs_period_us", want);

	cr_assert_eq(journal_restore_all(j), 0);
	assert_knob(&be1, "cpu.cfs_quota_us", q0);
	assert_knob(&be1, "cpu.cfs_period_us", p0);
	assert_knob(&be2, "cpu.cfs_quota_us", q0);
	assert_knob(&be3, "cpu.cfs_quota_us", q0);
}

Test(reconcile, a_knob_no_longer_wanted_gets_its_original_back)
{
	struct decide_params dp = { .p = &pp, .caps = &caps };
	struct policy_breach b = { .ls_cgroup_id = 9, .latency_ns = 5000000, .now_ms = 1000 };
	char q0[64], got[64];

	cr_assert_eq(cgtest_read(&be1, CGT_CPU, "cpu.cfs_quota_us", q0, sizeof(q0)), 0);
	cr_assert_eq(decide_breach(&dp, &ps, &b, &track, &dec), 1);
	reconcile(&rec, &pp, &track, &dec, NULL);
	cr_assert_eq(cgtest_read(&be1, CGT_CPU, "cpu.cfs_quota_us", got, sizeof(got)), 0);
	cr_assert_str_neq(got, q0, "the cut wrote the quota");

	/* the configuration turns both CPU levers off: the next tick releases */
	pp.suppress_enable = false;
	pp.latency_feedback = false;
	tick();
	assert_knob(&be1, "cpu.cfs_quota_us", q0);
	assert_knob(&be2, "cpu.cfs_quota_us", q0);
	cr_assert_eq(journal_count(j), 0, "released knobs leave the journal");
}

Test(reconcile, nothing_journaled_when_no_dynamic_cpu_limit)
{
	pp.suppress_enable = false;
	pp.latency_feedback = false;
	tick();
	cr_assert_eq(journal_count(j), 0, "no lever writes BE CPU knobs");
}
