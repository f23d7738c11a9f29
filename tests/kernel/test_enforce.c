// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The enforcer on this machine's real v1 cpu hierarchy: the originals of
 * the BE CPU knobs a breach cuts are journaled, with one save, when the BE
 * cgroups are classified, so that the cut itself writes the knobs and
 * nothing else (no journal save with its fsyncs on the reaction path), and
 * a stop still puts every original back. Root required.
 */
#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cgroup.h"
#include "cgtest.h"
#include "enforce.h"
#include "journal.h"

static struct cg_ctx ctx;
static struct journal *j;
static struct track track;
static struct enforcer enf;
static struct policy_params pp;
static char state[64], jfile[128];
static struct cgtest_group be1, be2, be3;

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
	return remove(p);
}

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
	enf = (struct enforcer) { .cg = &ctx, .j = j };
	policy_params_default(&pp);
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
	cgtest_remove(&be1);
	cgtest_remove(&be2);
	cgtest_remove(&be3);
	nftw(state, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(enforce, .init = setup, .fini = teardown, .timeout = 30);

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

Test(enforce, prepare_journals_be_knobs_and_the_cut_is_one_write)
{
	struct policy_action cut = {
		.kind = POLICY_BE_CPU_QUOTA, .reason = POLICY_R_LS_BREACH,
		.old_value = 2000, .new_value = 1000,
	};
	char q0[64], p0[64], half[32];	/* half: 500m as a quota */
	ino_t ino;

	cr_assert_eq(cgtest_read(&be1, CGT_CPU, "cpu.cfs_quota_us", q0, sizeof(q0)), 0);
	cr_assert_eq(cgtest_read(&be1, CGT_CPU, "cpu.cfs_period_us", p0, sizeof(p0)), 0);
	cr_assert_str_eq(q0, "-1", "a new cgroup is unlimited");

	enforce_prepare(&enf, &pp, &track);
	cr_assert_eq(journal_count(j), 4, "quota and period of both BE cgroups");
	assert_knob(&be1, "cpu.cfs_quota_us", "-1");	/* journaled, not written */
	ino = journal_ino();

	/* a second scan adds nothing: no save */
	enforce_prepare(&enf, &pp, &track);
	cr_assert_eq(journal_ino(), ino, "the journal was saved again");

	/* a BE cgroup that appears later is journaled at the scan that finds it */
	track.v[0].qos_applied = track.v[1].qos_applied = true;
	cr_assert_eq(cgtest_make_unique(&be3, "enf-be3", CGT_CPU), 0);
	cr_assert_not_null(track_add(&track, 3, be3.rel, COLOD_CLASS_BE, 0));
	track_mark_tops(&track);
	enforce_prepare(&enf, &pp, &track);
	cr_assert_eq(journal_count(j), 6, "be3's quota and period added");
	ino = journal_ino();

	/* the cut: 1500 milli split over three BE cgroups, no journal save */
	cut.new_value = 1500;
	enforce_action(&enf, &pp, &track, &cut, NULL);
	cr_assert_eq(enf.nr_write_errors, 0);
	snprintf(half, sizeof(half), "%u", pp.be_cfs_period_us / 2);
	assert_knob(&be1, "cpu.cfs_quota_us", half);
	assert_knob(&be2, "cpu.cfs_quota_us", half);
	assert_knob(&be3, "cpu.cfs_quota_us", half);
	cr_assert_eq(journal_ino(), ino, "the cut saved the journal");
	cr_assert_eq(journal_count(j), 6);

	cr_assert_eq(journal_restore_all(j), 0);
	assert_knob(&be1, "cpu.cfs_quota_us", q0);
	assert_knob(&be1, "cpu.cfs_period_us", p0);
	assert_knob(&be2, "cpu.cfs_quota_us", q0);
	assert_knob(&be3, "cpu.cfs_quota_us", q0);
}

Test(enforce, nothing_journaled_when_no_dynamic_cpu_limit)
{
	pp.suppress_enable = false;
	pp.latency_feedback = false;
	enforce_prepare(&enf, &pp, &track);
	cr_assert_eq(journal_count(j), 0, "no lever writes BE CPU knobs");
}
