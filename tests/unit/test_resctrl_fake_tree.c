// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * resctrl: pure arithmetic (suite "resctrl") and fake-tree tests (suite
 * "resctrl_fake_tree").
 *
 * This kernel has no resctrl, so the I/O is tested against a temp tree
 * laid out as the kernel lays out /sys/fs/resctrl: info/L3/{cbm_mask,
 * min_cbm_bits,num_closids,shareable_bits}, info/MB/{min_bandwidth,
 * bandwidth_gran,num_closids}, info/last_cmd_status, a root schemata over
 * the non-contiguous cache ids 0 and 2 in the kernel's padded format
 * ("    L3:0=7ff;2=7ff"), and tasks files. What the real kernel validates
 * on a schemata write (contiguous masks, min_cbm_bits, MB range and
 * rounding) is checked by colod before writing; these tests show those
 * values never reach the file. A kernel refusal is emulated with a file
 * that refuses the write (/proc/self/oom_score_adj takes no schemata).
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "journal.h"
#include "resctrl.h"
#include "tfile.h"

/* ---- pure ---- */

Test(resctrl, cat_mask_koordinator_rounding)
{
	/* the examples Koordinator documents for its ceil() rounding */
	cr_expect_eq(resctrl_cat_mask(10, 1, 10, 80), 0xfe);
	cr_expect_eq(resctrl_cat_mask(11, 1, 10, 50), 0x3c);
	cr_expect_eq(resctrl_cat_mask(11, 1, 0, 30), 0xf);
	cr_expect_eq(resctrl_cat_mask(11, 1, 0, 100), 0x7ff);
	cr_expect_eq(resctrl_cat_mask(20, 1, 50, 100), 0xffc00);
	cr_expect_eq(resctrl_cat_mask(64, 1, 0, 100), ~0ULL);
}

Test(resctrl, cat_mask_min_bits_and_invalid)
{
	/* 95-100% of 11 ways rounds to nothing: widened to the top way(s) */
	cr_expect_eq(resctrl_cat_mask(11, 1, 95, 100), 0x400);
	cr_expect_eq(resctrl_cat_mask(11, 2, 95, 100), 0x600);
	/* 0-1% is one way; min_cbm_bits 2 makes it two */
	cr_expect_eq(resctrl_cat_mask(20, 1, 0, 1), 0x1);
	cr_expect_eq(resctrl_cat_mask(20, 2, 0, 1), 0x3);
	cr_expect_eq(resctrl_cat_mask(11, 0, 0, 30), 0xf);
	cr_expect_eq(resctrl_cat_mask(11, 1, 30, 30), 0);
	cr_expect_eq(resctrl_cat_mask(11, 1, 50, 20), 0);
	cr_expect_eq(resctrl_cat_mask(11, 1, -1, 20), 0);
	cr_expect_eq(resctrl_cat_mask(11, 1, 0, 101), 0);
	cr_expect_eq(resctrl_cat_mask(0, 1, 0, 100), 0);
	cr_expect_eq(resctrl_cat_mask(65, 1, 0, 100), 0);
	cr_expect_eq(resctrl_cat_mask(4, 5, 0, 100), 0);
}

Test(resctrl, mb_round_like_the_kernel)
{
	cr_expect_eq(resctrl_mb_round(10, 10, 15), 20);
	cr_expect_eq(resctrl_mb_round(10, 10, 20), 20);
	cr_expect_eq(resctrl_mb_round(10, 10, 5), 10);
	cr_expect_eq(resctrl_mb_round(10, 10, 100), 100);
	cr_expect_eq(resctrl_mb_round(10, 10, 150), 100);
	cr_expect_eq(resctrl_mb_round(1, 1, 33), 33);
	cr_expect_eq(resctrl_mb_round(0, 0, 0), 1);
}

Test(resctrl, parse_padded_schemata)
{
	struct resctrl_schemata s;

	cr_assert_eq(resctrl_schemata_parse("    L2:0=ff\n    L3:0=007ff;2=00003\n"
					    "    MB:0= 100;2=  30\n", &s), 0);
	cr_expect_eq(s.nr_other, 1);
	cr_assert_eq(s.nr_l3, 2);
	cr_expect_eq(s.l3_id[0], 0);
	cr_expect_eq(s.l3[0], 0x7ff);
	cr_expect_eq(s.l3_id[1], 2);
	cr_expect_eq(s.l3[1], 0x3);
	cr_assert_eq(s.nr_mb, 2);
	cr_expect_eq(s.mb[0], 100);
	cr_expect_eq(s.mb_id[1], 2);
	cr_expect_eq(s.mb[1], 30);
	cr_expect_eq(resctrl_schemata_parse("L3 0=7ff\n", &s), -EINVAL);
	cr_expect_eq(resctrl_schemata_parse("L3:0=zz\n", &s), -EINVAL);
	cr_expect_eq(resctrl_schemata_parse("L3:x=7ff\n", &s), -EINVAL);
	cr_expect_eq(resctrl_schemata_parse("", &s), 0);
	cr_expect_eq(s.nr_l3 + s.nr_mb + s.nr_other, 0);
}

static void test_info(struct resctrl_info *info)
{
	memset(info, 0, sizeof(*info));
	info->mounted = info->has_l3 = info->has_mb = true;
	info->cbm_mask = 0x7ff;
	info->cbm_bits = 11;
	info->min_cbm_bits = 2;
	info->nr_l3_ids = info->nr_mb_ids = 2;
	info->l3_ids[0] = info->mb_ids[0] = 0;
	info->l3_ids[1] = info->mb_ids[1] = 2;
	info->mb_min = 10;
	info->mb_gran = 10;
}

Test(resctrl, schemata_line_every_cache_id)
{
	struct resctrl_info info;
	struct resctrl_qos be = { 0, 30, 15 };
	char buf[256];
	int n;

	test_info(&info);
	n = resctrl_schemata_line(buf, sizeof(buf), &info, &be);
	cr_assert_str_eq(buf, "L3:0=f;2=f\nMB:0=20;2=20\n");
	cr_expect_eq(n, (int)strlen(buf));

	info.has_mb = false;
	resctrl_schemata_line(buf, sizeof(buf), &info, &be);
	cr_expect_str_eq(buf, "L3:0=f;2=f\n");
	info.has_mb = true;
	info.has_l3 = false;
	resctrl_schemata_line(buf, sizeof(buf), &info, &be);
	cr_expect_str_eq(buf, "MB:0=20;2=20\n");

	info.has_l3 = true;
	cr_expect_eq(resctrl_schemata_line(buf, 10, &info, &be), -ENOSPC);
	be.cat_end_pct = 0;
	cr_expect_eq(resctrl_schemata_line(buf, sizeof(buf), &info, &be), -EINVAL);
	be.cat_end_pct = 30;
	be.mba_pct = 101;
	cr_expect_eq(resctrl_schemata_line(buf, sizeof(buf), &info, &be), -EINVAL);
	/* mba 0: MB not managed */
	be.mba_pct = 0;
	cr_expect_eq(resctrl_schemata_line(buf, sizeof(buf), &info, &be), 11);
	cr_expect_str_eq(buf, "L3:0=f;2=f\n");
	info.has_l3 = false;
	cr_expect_eq(resctrl_schemata_line(buf, sizeof(buf), &info, &be), 0);
	cr_expect_str_eq(buf, "");
}

Test(resctrl, check_what_the_kernel_refuses)
{
	static const char *const bad[] = {
		"L3:0=5;2=7ff\n",	/* non-consecutive 1-bits */
		"L3:0=1;2=7ff\n",	/* fewer than min_cbm_bits */
		"L3:0=0;2=7ff\n",	/* empty */
		"L3:0=fff;2=7ff\n",	/* beyond cbm_mask */
		"L3:1=7ff\n",		/* no such cache id */
		"MB:0=5\n",		/* below min_bandwidth */
		"MB:0=150\n",		/* above 100 */
		"MB:3=50\n",		/* no such domain */
		"L3:0=7ff",		/* no trailing newline */
		"L2:0=ff\n",		/* not ours */
		"L3:0=7ff;2\n",		/* malformed */
	};
	struct resctrl_info info;
	char why[160];
	size_t i;

	test_info(&info);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_expect_eq(resctrl_schemata_check(&info, bad[i], why, sizeof(why)),
			     -EINVAL, "'%s' accepted", bad[i]);
		cr_expect_neq(why[0], '\0', "'%s': no reason given", bad[i]);
	}
	cr_expect_eq(resctrl_schemata_check(&info, "L3:0=ff;2=7fe\nMB:2=20\n",
					    why, sizeof(why)), 0, "%s", why);
	/* sparse_masks lets non-contiguous masks through */
	info.sparse_masks = true;
	cr_expect_eq(resctrl_schemata_check(&info, "L3:0=505\n", why, sizeof(why)), 0);
}

Test(resctrl, satisfied_compares_values_not_text)
{
	struct resctrl_info info;

	test_info(&info);
	cr_expect(resctrl_schemata_satisfied(&info, "    L3:0=0000f;2=0000f\n"
					     "    MB:0=  20;2=  20\n",
					     "L3:0=f;2=f\nMB:0=20;2=20\n"));
	/* the kernel holds 20 for a write of 15 */
	cr_expect(resctrl_schemata_satisfied(&info, "MB:0=20;2=20\n", "MB:0=15;2=15\n"));
	cr_expect_not(resctrl_schemata_satisfied(&info, "L3:0=f;2=1f\n", "L3:0=f;2=f\n"));
	cr_expect_not(resctrl_schemata_satisfied(&info, "L3:0=f\n", "L3:0=f;2=f\n"));
	cr_expect_not(resctrl_schemata_satisfied(&info, "MB:0=30;2=20\n", "MB:0=20;2=20\n"));
}

/* ---- fake tree ---- */

static char tmp[64];
static char root[128];
static char state[128];
static struct journal *jr;

static char *get(const char *rel)
{
	static char buf[4096];
	char p[PATH_MAX];
	size_t n;
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	f = fopen(p, "r");
	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void mkd(const char *rel)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	cr_assert_eq(mkdir(p, 0755), 0, "%s: %m", p);
}

#define ROOT_SCHEMATA	"    L3:0=7ff;2=7ff\n    MB:0=100;2=100\n"

/* A group as the kernel makes it on mkdir: default schemata, no tasks. */
static void kernel_group(const char *name)
{
	char rel[64];

	mkd(name);
	snprintf(rel, sizeof(rel), "%s/schemata", name);
	tfile_put(root, rel, ROOT_SCHEMATA);
	snprintf(rel, sizeof(rel), "%s/tasks", name);
	tfile_put(root, rel, "");
}

static void setup(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/colod-test-resctrl-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
	snprintf(root, sizeof(root), "%s/resctrl", tmp);
	snprintf(state, sizeof(state), "%s/state", tmp);
	cr_assert_eq(mkdir(root, 0755), 0);
	cr_assert_eq(mkdir(state, 0755), 0);
	mkd("info");
	mkd("info/L3");
	mkd("info/MB");
	tfile_put(root, "info/L3/cbm_mask", "7ff\n");
	tfile_put(root, "info/L3/min_cbm_bits", "2\n");
	tfile_put(root, "info/L3/num_closids", "16\n");
	tfile_put(root, "info/L3/shareable_bits", "600\n");
	tfile_put(root, "info/MB/min_bandwidth", "10\n");
	tfile_put(root, "info/MB/bandwidth_gran", "10\n");
	tfile_put(root, "info/MB/num_closids", "8\n");
	tfile_put(root, "info/last_cmd_status", "ok\n");
	tfile_put(root, "schemata", ROOT_SCHEMATA);
	tfile_put(root, "tasks", "1\n2\n");
	jr = journal_open(state);
	cr_assert_not_null(jr, "journal_open: %m");
}

static void teardown(void)
{
	if (jr)
		journal_close(jr);
	jr = NULL;
	if (tmp[0])
		tfile_rm_tree(tmp);
	tmp[0] = '\0';
}

TestSuite(resctrl_fake_tree, .init = setup, .fini = teardown);

Test(resctrl_fake_tree, detect_noncontiguous_cache_ids)
{
	struct resctrl_info info;

	cr_assert_eq(resctrl_detect(root, &info), 0);
	cr_expect(info.mounted);
	cr_expect(info.has_l3);
	cr_expect(info.has_mb);
	cr_expect_eq(info.cbm_mask, 0x7ff);
	cr_expect_eq(info.cbm_bits, 11);
	cr_expect_eq(info.min_cbm_bits, 2);
	cr_expect_eq(info.l3_closids, 16);
	cr_expect_eq(info.shareable_bits, 0x600);
	cr_expect_not(info.sparse_masks);
	cr_expect_eq(info.mb_min, 10);
	cr_expect_eq(info.mb_gran, 10);
	cr_expect_eq(info.mb_closids, 8);
	cr_assert_eq(info.nr_l3_ids, 2);
	cr_expect_eq(info.l3_ids[0], 0);
	cr_expect_eq(info.l3_ids[1], 2);
	cr_assert_eq(info.nr_mb_ids, 2);
	cr_expect_eq(info.mb_ids[1], 2);
}

Test(resctrl_fake_tree, detect_absent_and_malformed)
{
	struct resctrl_info info;
	char gone[160];

	snprintf(gone, sizeof(gone), "%s/nothing", tmp);
	cr_expect_eq(resctrl_detect(gone, &info), 0);
	cr_expect_not(info.mounted);

	tfile_put(root, "info/L3/cbm_mask", "7f7\n");	/* not contiguous from bit 0 */
	cr_expect_eq(resctrl_detect(root, &info), -EINVAL);
	tfile_put(root, "info/L3/cbm_mask", "7ff\n");
	tfile_put(root, "info/MB/bandwidth_gran", "ten\n");
	cr_expect_eq(resctrl_detect(root, &info), -EINVAL);
	tfile_put(root, "info/MB/bandwidth_gran", "10\n");
	cr_expect_eq(resctrl_detect(root, &info), 0);
	cr_expect(info.mounted);
}

Test(resctrl_fake_tree, detect_mb_not_percent)
{
	struct resctrl_info info;

	/* AMD: MB in 1/8 GB/s units, 2048 by default: left alone */
	tfile_put(root, "schemata", "L3:0=7ff;2=7ff\nMB:0=2048;2=2048\n");
	cr_assert_eq(resctrl_detect(root, &info), 0);
	cr_expect(info.has_l3);
	cr_expect_not(info.has_mb);
}

Test(resctrl_fake_tree, apply_writes_every_id_then_skips)
{
	struct resctrl_info info;
	struct resctrl_qos be = { 0, 30, 50 };
	char *s;

	cr_assert_eq(resctrl_detect(root, &info), 0);
	kernel_group("BE");
	cr_assert_eq(resctrl_apply_class(root, "BE", &info, &be, jr), 0);
	s = get("BE/schemata");
	cr_assert_not_null(s);
	cr_expect_str_eq(s, "L3:0=f;2=f\nMB:0=50;2=50\n");
	cr_expect_eq(journal_count(jr), 1);
	/* the root group (SYSTEM) is untouched */
	cr_expect_str_eq(get("schemata"), ROOT_SCHEMATA);

	/* as the kernel shows it back: padded; already in place, not written */
	tfile_put(root, "BE/schemata", "    L3:0=00f;2=00f\n    MB:0= 50;2= 50\n");
	cr_expect_eq(resctrl_schemata_write(root, "BE", &info,
					    "L3:0=f;2=f\nMB:0=50;2=50\n", jr), 0);
	cr_expect_str_eq(get("BE/schemata"), "    L3:0=00f;2=00f\n    MB:0= 50;2= 50\n");

	/* a new share is written */
	cr_expect_eq(resctrl_schemata_write(root, "BE", &info,
					    "L3:0=3;2=3\nMB:0=10;2=10\n", jr), 1);
	cr_expect_str_eq(get("BE/schemata"), "L3:0=3;2=3\nMB:0=10;2=10\n");

	/* restore puts the original back byte for byte */
	cr_expect_eq(journal_restore_all(jr), 0);
	cr_expect_str_eq(get("BE/schemata"), ROOT_SCHEMATA);
}

Test(resctrl_fake_tree, mb_written_rounded)
{
	struct resctrl_info info;
	struct resctrl_qos be = { 0, 100, 15 };

	cr_assert_eq(resctrl_detect(root, &info), 0);
	kernel_group("BE");
	cr_assert_eq(resctrl_apply_class(root, "BE", &info, &be, jr), 0);
	cr_expect_str_eq(get("BE/schemata"), "L3:0=7ff;2=7ff\nMB:0=20;2=20\n");
}

Test(resctrl_fake_tree, refused_values_never_reach_the_file)
{
	static const char *const bad[] = {
		"L3:0=5;2=7ff\n", "L3:0=1;2=1\n", "L3:1=7ff\n", "MB:0=5;2=5\n",
	};
	struct resctrl_info info;
	size_t i;

	cr_assert_eq(resctrl_detect(root, &info), 0);
	kernel_group("BE");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect_eq(resctrl_schemata_write(root, "BE", &info, bad[i], jr),
			     -EINVAL, "%s", bad[i]);
	cr_expect_str_eq(get("BE/schemata"), ROOT_SCHEMATA);
	cr_expect_eq(journal_count(jr), 0);
	/* nor is the root group ever written */
	cr_expect_eq(resctrl_schemata_write(root, "", &info, "L3:0=3\n", jr), -EINVAL);
	cr_expect_eq(resctrl_schemata_write(root, "..", &info, "L3:0=3\n", jr), -EINVAL);
}

Test(resctrl_fake_tree, group_created_journaled_and_restored)
{
	char p[PATH_MAX];
	struct stat st;

	snprintf(p, sizeof(p), "%s/LS", root);
	cr_assert_eq(resctrl_group_ensure(root, "LS", jr), 1);
	cr_expect_eq(stat(p, &st), 0);
	cr_expect_eq(resctrl_group_ensure(root, "LS", jr), 0);
	cr_expect_eq(resctrl_group_ensure(root, "info", jr), -EINVAL);
	cr_expect_eq(resctrl_group_ensure(root, "a/b", jr), -EINVAL);
	cr_expect_eq(journal_restore_all(jr), 0);
	cr_expect_neq(stat(p, &st), 0, "restore left %s", p);

	/* a group that was there before colod is never removed */
	kernel_group("BE");
	cr_assert_eq(resctrl_group_ensure(root, "BE", jr), 0);
	cr_expect_eq(journal_restore_all(jr), 0);
	snprintf(p, sizeof(p), "%s/BE", root);
	cr_expect_eq(stat(p, &st), 0);
}

Test(resctrl_fake_tree, failed_apply_leaves_no_group)
{
	struct resctrl_info info;
	struct resctrl_qos be = { 0, 30, 50 };
	char p[PATH_MAX];
	struct stat st;

	cr_assert_eq(resctrl_detect(root, &info), 0);
	/* mkdir in a plain directory makes no schemata: the write fails */
	cr_expect_lt(resctrl_apply_class(root, "BE", &info, &be, jr), 0);
	snprintf(p, sizeof(p), "%s/BE", root);
	cr_expect_neq(stat(p, &st), 0, "half-made group %s left", p);
}

/* criterion runs the suite's .init (setup) first, then this one */
static void redirect(void)
{
	cr_redirect_stderr();
}

Test(resctrl_fake_tree, kernel_refusal_reported, .init = redirect)
{
	struct resctrl_info info;
	char p[PATH_MAX], line[1024], all[8192] = "";
	FILE *err;

	cr_assert_eq(resctrl_detect(root, &info), 0);
	mkd("BE");
	tfile_put(root, "BE/tasks", "");
	tfile_put(root, "info/last_cmd_status", "Mask out of range\n");
	/* a file that reads fine but refuses this write with EINVAL */
	snprintf(p, sizeof(p), "%s/BE/schemata", root);
	cr_assert_eq(symlink("/proc/self/oom_score_adj", p), 0);
	cr_expect_eq(resctrl_schemata_write(root, "BE", &info,
					    "L3:0=f;2=f\n", jr), -EINVAL);
	/* the journal dropped the entry of the failed write */
	cr_expect_eq(journal_count(jr), 0);
	fflush(stderr);
	err = cr_get_redirected_stderr();
	while (fgets(line, sizeof(line), err))
		strncat(all, line, sizeof(all) - strlen(all) - 1);
	cr_expect(strstr(all, p), "path not reported: %s", all);
	cr_expect(strstr(all, "L3:0=f;2=f"), "value not reported: %s", all);
	cr_expect(strstr(all, "Invalid argument"), "errno not reported: %s", all);
	cr_expect(strstr(all, "Mask out of range"), "last_cmd_status not reported: %s", all);
}

static int count_lines_with(const char *text, const char *num)
{
	char needle[32];
	int n = 0;
	const char *s = text;
	size_t l;

	snprintf(needle, sizeof(needle), "%s\n", num);
	l = strlen(needle);
	while ((s = strstr(s, needle))) {
		if (s == text || s[-1] == '\n')
			n++;
		s += l;
	}
	return n;
}

Test(resctrl_fake_tree, assign_tasks_skips_present)
{
	pid_t tids[] = { 100, 200, 300, 200, 0 };
	char *t;

	kernel_group("BE");
	tfile_put(root, "BE/tasks", "100\n");
	cr_expect_eq(resctrl_assign_tasks(root, "BE", tids, 5), 2);
	t = get("BE/tasks");
	cr_expect_eq(count_lines_with(t, "100"), 1, "%s", t);
	cr_expect_eq(count_lines_with(t, "200"), 1, "%s", t);
	cr_expect_eq(count_lines_with(t, "300"), 1, "%s", t);
	/* every tick: only new threads are written */
	cr_expect_eq(resctrl_assign_tasks(root, "BE", tids, 5), 0);
	cr_expect_eq(resctrl_assign_tasks(root, "nope", tids, 5), -ENOENT);
}

Test(resctrl_fake_tree, assign_cgroup_v1_v2_and_vanished)
{
	char cg[PATH_MAX];
	pid_t *ids;
	char *t;

	kernel_group("BE");
	mkd("cg-v1");
	tfile_put(root, "cg-v1/tasks", "11\n12\n");
	mkd("cg-v2");
	tfile_put(root, "cg-v2/cgroup.threads", "21\n22\n23\n");
	tfile_put(root, "cg-v2/cgroup.procs", "21\n");

	snprintf(cg, sizeof(cg), "%s/cg-v1", root);
	cr_expect_eq(resctrl_assign_cgroup(root, "BE", cg), 2);
	snprintf(cg, sizeof(cg), "%s/cg-v2", root);
	cr_expect_eq(resctrl_assign_cgroup(root, "BE", cg), 3);
	cr_expect_eq(resctrl_assign_cgroup(root, "BE", cg), 0);
	mkd("cg-empty");
	tfile_put(root, "cg-empty/tasks", "");
	snprintf(cg, sizeof(cg), "%s/cg-empty", root);
	cr_expect_eq(resctrl_assign_cgroup(root, "BE", cg), 0);
	snprintf(cg, sizeof(cg), "%s/cg-gone", root);
	cr_expect_eq(resctrl_assign_cgroup(root, "BE", cg), 0);

	t = get("BE/tasks");
	cr_expect_eq(resctrl_read_ids(strcat(strcpy(cg, root), "/BE/tasks"), &ids), 5, "%s", t);
	free(ids);
	tfile_put(root, "cg-v1/tasks", "11\nbogus\n");
	snprintf(cg, sizeof(cg), "%s/cg-v1/tasks", root);
	cr_expect_eq(resctrl_read_ids(cg, &ids), -EINVAL);
}

/*
 * A cgroup tree beside the resctrl tree, as kubelet's cgroupfs driver lays
 * it out: the BE top (besteffort) and the pods hold no task, the
 * containers two levels below do.
 */
static char cgtop[PATH_MAX];

static void cg_dir(const char *rel, const char *file, const char *ids)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", cgtop, rel);
	cr_assert(!mkdir(p, 0755) || errno == EEXIST, "%s: %m", p);
	tfile_put(p, file, ids);
}

static void kubelet_tree(const char *file)
{
	snprintf(cgtop, sizeof(cgtop), "%s/besteffort", tmp);
	cr_assert_eq(mkdir(cgtop, 0755), 0);
	tfile_put(cgtop, file, "");
	cg_dir("poda", file, "");
	cg_dir("poda/c1", file, "101\n102\n");
	cg_dir("poda/c2", file, "103\n");
	cg_dir("podb", file, "");
	cg_dir("podb/c1", file, "201\n202\n");
}

static void expect_once(const char *ids[], int n)
{
	char *t = get("BE/tasks");
	int i;

	cr_assert_not_null(t);
	for (i = 0; i < n; i++)
		cr_expect_eq(count_lines_with(t, ids[i]), 1, "%s in:\n%s", ids[i], t);
}

Test(resctrl_fake_tree, assign_subtree_two_levels_below_the_top)
{
	static const char *ids[] = { "101", "102", "103", "201", "202", "301" };
	struct resctrl_assign_stats st;
	char before[4096];

	kernel_group("BE");
	tfile_put(root, "BE/tasks", "102\n");	/* already in the group */
	kubelet_tree("tasks");
	cr_expect_eq(resctrl_assign_subtree(root, "BE", cgtop, &st), 4);
	cr_expect_eq(st.cgroups, 6);
	cr_expect_eq(st.threads, 5);
	cr_expect_eq(st.moved, 4);
	cr_expect_eq(st.vanished + st.failed, 0);
	expect_once(ids, 5);

	/* the next tick: nothing new, nothing written */
	snprintf(before, sizeof(before), "%s", get("BE/tasks"));
	cr_expect_eq(resctrl_assign_subtree(root, "BE", cgtop, &st), 0);
	cr_expect_eq(st.threads, 5);
	cr_expect_str_eq(get("BE/tasks"), before);

	/* a new container, forked by the runtime outside the group */
	cg_dir("podb/c2", "tasks", "301\n");
	cr_expect_eq(resctrl_assign_cgroup(root, "BE", cgtop), 1);
	expect_once(ids, 6);
}

Test(resctrl_fake_tree, assign_subtree_v2_threads)
{
	static const char *ids[] = { "101", "102", "103", "201", "202" };

	kernel_group("BE");
	kubelet_tree("cgroup.threads");
	cg_dir("poda/c1", "cgroup.procs", "101\n");
	cr_expect_eq(resctrl_assign_subtree(root, "BE", cgtop, NULL), 5);
	expect_once(ids, 5);
}

Test(resctrl_fake_tree, assign_subtree_vanished_cgroups)
{
	static const char *ids[] = { "101", "102", "103", "201", "202" };
	struct resctrl_assign_stats st;
	char gone[PATH_MAX];

	kernel_group("BE");
	kubelet_tree("tasks");
	/* a container removed between the listing and the read of its tasks */
	cg_dir("poda/c3", "tasks", "");
	snprintf(gone, sizeof(gone), "%s/poda/c3/tasks", cgtop);
	cr_assert_eq(unlink(gone), 0);
	cr_expect_eq(resctrl_assign_subtree(root, "BE", cgtop, &st), 5);
	cr_expect_eq(st.cgroups, 6);
	cr_expect_eq(st.failed, 0);
	expect_once(ids, 5);
	/* the whole subtree gone: nothing to do, not an error */
	snprintf(gone, sizeof(gone), "%s/nothing", tmp);
	cr_expect_eq(resctrl_assign_subtree(root, "BE", gone, &st), 0);
	cr_expect_eq(st.threads, 0);
}

Test(resctrl_fake_tree, assign_subtree_goes_on_past_a_failure, .init = redirect)
{
	static const char *ids[] = { "101", "102", "103" };
	struct resctrl_assign_stats st;

	kernel_group("BE");
	kubelet_tree("tasks");
	cg_dir("podb/c1", "tasks", "201\nbogus\n");
	cr_expect_eq(resctrl_assign_subtree(root, "BE", cgtop, &st), -EINVAL);
	cr_expect_eq(st.failed, 1);
	cr_expect_eq(st.moved, 3, "the other containers' threads still go in");
	expect_once(ids, 3);
	cr_expect_eq(count_lines_with(get("BE/tasks"), "201"), 0);
	/* no such group */
	cr_expect_eq(resctrl_assign_subtree(root, "nope", cgtop, &st), -ENOENT);
}
