// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The cgroup tracker over temp directory trees laid out as kubelet lays
 * out cgroups with either driver: added, removed and reclassified cgroups
 * are reported once, and ids are the directories' inodes.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "cgscan.h"
#include "tfile.h"

static char tmp[64];

static void setup(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/colod-test-cgscan-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
}

static void teardown(void)
{
	if (tmp[0])
		tfile_rm_tree(tmp);
	tmp[0] = '\0';
}

/* mkdir -p tmp/rel, plus a regular file as cgroupfs has them */
static void mk(const char *rel)
{
	char p[PATH_MAX], *s;
	FILE *f;

	snprintf(p, sizeof(p), "%s%s", tmp, rel);
	for (s = p + strlen(tmp) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		mkdir(p, 0755);
		*s = '/';
	}
	cr_assert(mkdir(p, 0755) == 0 || errno == EEXIST, "mkdir %s: %m", p);
	strncat(p, "/cgroup.procs", sizeof(p) - strlen(p) - 1);
	f = fopen(p, "w");
	cr_assert_not_null(f);
	fclose(f);
}

static void rm(const char *rel)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s%s", tmp, rel);
	cr_assert_eq(tfile_rm_tree(p), 0, "rm %s", p);
}

static uint64_t ino(const char *rel)
{
	char p[PATH_MAX];
	struct stat st;

	snprintf(p, sizeof(p), "%s%s", tmp, rel);
	cr_assert_eq(stat(p, &st), 0, "stat %s", p);
	return st.st_ino;
}

static const struct cgscan_entry *find_path(const struct cgscan *s,
					    const char *path)
{
	int i;

	for (i = 0; i < cgscan_count(s); i++)
		if (!strcmp(cgscan_entry(s, i)->path, path))
			return cgscan_entry(s, i);
	return NULL;
}

static bool in_list(const struct cgscan *s, const char *path,
		    int (*nr)(const struct cgscan *),
		    const struct cgscan_entry *(*get)(const struct cgscan *, int))
{
	int i;

	for (i = 0; i < nr(s); i++)
		if (!strcmp(get(s, i)->path, path))
			return true;
	return false;
}

#define P_BE	"/kubepods/besteffort/pod11111111-2222-3333-4444-555555555555"
#define P_BU	"/kubepods/burstable/pod66666666-2222-3333-4444-555555555555"
#define P_GU	"/kubepods/pod77777777-2222-3333-4444-555555555555"

static void cgroupfs_tree(void)
{
	mk("/system.slice/sshd.service");
	mk(P_BE "/ctr-be");
	mk(P_BU "/ctr-bu");
	mk(P_GU "/ctr-gu");
}

TestSuite(cgscan, .init = setup, .fini = teardown);

Test(cgscan, first_run_reports_everything_classified)
{
	struct cgscan *s;
	const struct cgscan_entry *e;
	int n;

	cgroupfs_tree();
	s = cgscan_new(tmp, NULL, 0);
	cr_assert_not_null(s);
	n = cgscan_run(s);
	/* /, system.slice, sshd, kubepods, besteffort, burstable, 3 pods, 3 ctrs */
	cr_assert_eq(n, 12, "found %d", n);
	cr_expect_eq(cgscan_nr_added(s), 12);
	cr_expect_eq(cgscan_nr_removed(s), 0);

	e = find_path(s, "/");
	cr_assert_not_null(e);
	cr_expect_eq(e->id, ino("/"));
	cr_expect_eq(e->cls.cls, COLOD_CLASS_SYSTEM);

	e = find_path(s, P_BE);
	cr_assert_not_null(e);
	cr_expect_eq(e->id, ino(P_BE));
	cr_expect_eq(e->cls.cls, COLOD_CLASS_BE);
	cr_expect(e->cls.is_pod);
	cr_expect_eq(cgscan_find(s, e->id), e);

	e = find_path(s, P_BE "/ctr-be");
	cr_assert_not_null(e);
	cr_expect_eq(e->cls.cls, COLOD_CLASS_BE);
	cr_expect(e->cls.is_container);

	e = find_path(s, P_GU "/ctr-gu");
	cr_assert_not_null(e);
	cr_expect_eq(e->cls.cls, COLOD_CLASS_LS);
	e = find_path(s, P_BU);
	cr_assert_not_null(e);
	cr_expect_eq(e->cls.cls, COLOD_CLASS_LS);
	e = find_path(s, "/system.slice/sshd.service");
	cr_assert_not_null(e);
	cr_expect_eq(e->cls.cls, COLOD_CLASS_SYSTEM);
	/* files are not cgroups */
	cr_expect_null(find_path(s, "/cgroup.procs"));
	cgscan_free(s);
}

Test(cgscan, added_and_removed_between_runs)
{
	struct cgscan *s;
	const char *np = "/kubepods/besteffort/pod88888888-2222-3333-4444-555555555555";
	char nc[PATH_MAX];
	uint64_t gone_id;
	int i;

	cgroupfs_tree();
	s = cgscan_new(tmp, NULL, 0);
	cr_assert_not_null(s);
	cr_assert_eq(cgscan_run(s), 12);

	/* nothing changed: nothing reported */
	cr_assert_eq(cgscan_run(s), 12);
	cr_expect_eq(cgscan_nr_added(s), 0);
	cr_expect_eq(cgscan_nr_removed(s), 0);
	cr_expect_eq(cgscan_nr_changed(s), 0);

	gone_id = ino(P_BU "/ctr-bu");
	rm(P_BU);
	snprintf(nc, sizeof(nc), "%s/ctr-new", np);
	mk(nc);
	cr_assert_eq(cgscan_run(s), 12);
	cr_expect_eq(cgscan_nr_added(s), 2);
	cr_expect(in_list(s, np, cgscan_nr_added, cgscan_added));
	cr_expect(in_list(s, nc, cgscan_nr_added, cgscan_added));
	for (i = 0; i < cgscan_nr_added(s); i++)
		cr_expect_eq(cgscan_added(s, i)->cls.cls, COLOD_CLASS_BE);
	cr_expect_eq(cgscan_nr_removed(s), 2);
	cr_expect(in_list(s, P_BU, cgscan_nr_removed, cgscan_removed));
	cr_expect(in_list(s, P_BU "/ctr-bu", cgscan_nr_removed, cgscan_removed));
	for (i = 0; i < cgscan_nr_removed(s); i++) {
		const struct cgscan_entry *e = cgscan_removed(s, i);

		/* the removed copy keeps what the agent needs to undo its QoS */
		cr_expect_eq(e->cls.cls, COLOD_CLASS_LS);
		if (!strcmp(e->path, P_BU "/ctr-bu"))
			cr_expect_eq(e->id, gone_id);
	}
	cr_expect_null(find_path(s, P_BU));

	/* reported once */
	cr_assert_eq(cgscan_run(s), 12);
	cr_expect_eq(cgscan_nr_added(s), 0);
	cr_expect_eq(cgscan_nr_removed(s), 0);
	cgscan_free(s);
}

#define SD_BE_POD "/kubepods.slice/kubepods-besteffort.slice/" \
	"kubepods-besteffort-pod11111111_2222_3333_4444_555555555555.slice"
#define SD_GU_POD "/kubepods.slice/kubepods-pod77777777_2222_3333_4444_555555555555.slice"

Test(cgscan, systemd_driver_tree)
{
	struct cgscan *s;
	const struct cgscan_entry *e;

	mk("/system.slice/containerd.service");
	mk(SD_BE_POD "/cri-containerd-aaaa.scope");
	mk(SD_GU_POD "/cri-containerd-bbbb.scope");
	s = cgscan_new(tmp, NULL, 0);
	cr_assert_not_null(s);
	cr_assert_eq(cgscan_run(s), 9);

	e = find_path(s, SD_BE_POD "/cri-containerd-aaaa.scope");
	cr_assert_not_null(e);
	cr_expect_eq(e->cls.cls, COLOD_CLASS_BE);
	cr_expect(e->cls.is_container);
	cr_expect_str_eq(e->cls.pod_uid, "11111111-2222-3333-4444-555555555555");
	e = find_path(s, SD_GU_POD);
	cr_assert_not_null(e);
	cr_expect_eq(e->cls.cls, COLOD_CLASS_LS);
	cr_expect(e->cls.is_pod);
	e = find_path(s, "/kubepods.slice/kubepods-besteffort.slice");
	cr_assert_not_null(e);
	cr_expect_eq(e->cls.cls, COLOD_CLASS_BE);
	cr_expect(!e->cls.is_pod);

	rm(SD_BE_POD "/cri-containerd-aaaa.scope");
	mk(SD_BE_POD "/cri-containerd-cccc.scope");
	cr_assert_eq(cgscan_run(s), 9);
	cr_expect_eq(cgscan_nr_added(s), 1);
	cr_expect(in_list(s, SD_BE_POD "/cri-containerd-cccc.scope",
			  cgscan_nr_added, cgscan_added));
	cr_expect_eq(cgscan_nr_removed(s), 1);
	cr_expect(in_list(s, SD_BE_POD "/cri-containerd-aaaa.scope",
			  cgscan_nr_removed, cgscan_removed));
	cgscan_free(s);
}

Test(cgscan, rename_is_removal_plus_addition)
{
	struct cgscan *s;
	char a[PATH_MAX], b[PATH_MAX];
	uint64_t id;

	mk("/batch/job-a");
	s = cgscan_new(tmp, NULL, 0);
	cr_assert_not_null(s);
	cr_assert_eq(cgscan_run(s), 3);
	id = ino("/batch/job-a");
	snprintf(a, sizeof(a), "%s/batch/job-a", tmp);
	snprintf(b, sizeof(b), "%s/batch/job-b", tmp);
	cr_assert_eq(rename(a, b), 0);
	cr_assert_eq(cgscan_run(s), 3);
	cr_expect_eq(cgscan_nr_added(s), 1);
	cr_expect_eq(cgscan_nr_removed(s), 1);
	cr_expect_str_eq(cgscan_added(s, 0)->path, "/batch/job-b");
	cr_expect_eq(cgscan_added(s, 0)->id, id);
	cr_expect_str_eq(cgscan_removed(s, 0)->path, "/batch/job-a");
	cgscan_free(s);
}

Test(cgscan, rules_apply_and_reload_reports_changes)
{
	struct classify_rule be = { .glob = "/batch/*", .cls = COLOD_CLASS_BE };
	struct classify_rule ls = { .glob = "/batch/job-a", .cls = COLOD_CLASS_LS };
	struct classify_rule two[2];
	struct cgscan *s;
	const struct cgscan_entry *e;

	mk("/batch/job-a/worker");
	mk("/batch/job-b");
	mk("/web");
	s = cgscan_new(tmp, &be, 1);
	cr_assert_not_null(s);
	cr_assert_eq(cgscan_run(s), 6);
	e = find_path(s, "/batch/job-a/worker");
	cr_assert_not_null(e);
	cr_expect_eq(e->cls.cls, COLOD_CLASS_BE);
	cr_expect_eq(e->cls.rule, 0);
	cr_expect_eq(find_path(s, "/batch")->cls.cls, COLOD_CLASS_SYSTEM);
	cr_expect_eq(find_path(s, "/web")->cls.cls, COLOD_CLASS_SYSTEM);

	two[0] = ls;
	two[1] = be;
	cr_assert_eq(cgscan_set_rules(s, two, 2), 0);
	cr_assert_eq(cgscan_run(s), 6);
	cr_expect_eq(cgscan_nr_added(s), 0);
	cr_expect_eq(cgscan_nr_removed(s), 0);
	/* job-a changed class; the others keep BE through another rule index */
	cr_expect_eq(cgscan_nr_changed(s), 3, "changed %d", cgscan_nr_changed(s));
	cr_expect(in_list(s, "/batch/job-b", cgscan_nr_changed, cgscan_changed));
	cr_expect(in_list(s, "/batch/job-a", cgscan_nr_changed, cgscan_changed));
	cr_expect(in_list(s, "/batch/job-a/worker", cgscan_nr_changed, cgscan_changed));
	cr_expect_eq(find_path(s, "/batch/job-a")->cls.cls, COLOD_CLASS_LS);
	cr_expect_eq(find_path(s, "/batch/job-b")->cls.rule, 1);

	cr_assert_eq(cgscan_run(s), 6);
	cr_expect_eq(cgscan_nr_changed(s), 0);
	cr_expect_eq(cgscan_set_rules(s, two, CLASSIFY_MAX_RULES + 1), -EINVAL);
	cgscan_free(s);
}

Test(cgscan, missing_root_keeps_state)
{
	struct cgscan *s;
	char gone[PATH_MAX];

	mk("/a");
	s = cgscan_new(tmp, NULL, 0);
	cr_assert_not_null(s);
	cr_assert_eq(cgscan_run(s), 2);
	snprintf(gone, sizeof(gone), "%s-gone", tmp);
	cr_assert_eq(rename(tmp, gone), 0);
	cr_expect_eq(cgscan_run(s), -ENOENT);
	cr_expect_eq(cgscan_count(s), 2);
	cr_assert_eq(rename(gone, tmp), 0);
	cgscan_free(s);
}

/* A node-sized tree: 200 pods x 4 containers + QoS dirs, about 1000 cgroups. */
Test(cgscan, thousand_cgroups_is_cheap, .timeout = 60)
{
	struct cgscan *s;
	struct timespec t0, t1;
	char p[PATH_MAX];
	double ms;
	int i, c, n;

	for (i = 0; i < 200; i++)
		for (c = 0; c < 4; c++) {
			snprintf(p, sizeof(p), "/kubepods/%s/pod%08x-0000-0000-0000-000000000000/c%d",
				 i % 2 ? "besteffort" : "burstable", i, c);
			mk(p);
		}
	s = cgscan_new(tmp, NULL, 0);
	cr_assert_not_null(s);
	n = cgscan_run(s);
	cr_assert_eq(n, 1 + 1 + 2 + 200 + 800, "found %d", n);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	n = cgscan_run(s);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	cr_assert_eq(n, 1004);
	cr_expect_eq(cgscan_nr_added(s), 0);
	ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
	/* ~1-5 ms here; generous for a loaded 2-core machine and ASan */
	cr_expect_lt(ms, 250.0, "steady-state scan took %.1f ms", ms);
	cgscan_free(s);
}

static void own(const char *rel, uid_t uid)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s%s", tmp, rel);
	cr_assert_eq(chown(p, uid, uid), 0, "chown %s: %m", p);
}

/*
 * A subtree a user owns (delegated: systemd and runc chown it) is SYSTEM,
 * kubelet's names and rules notwithstanding, except a container's cgroup
 * (runc chowns it for a pod with a user namespace).
 */
Test(cgscan, delegated_subtree_is_system)
{
	struct classify_rule be = { .glob = "/batch/*", .cls = COLOD_CLASS_BE };
	struct cgscan *s;

	if (geteuid() != 0)
		cr_skip_test("chown needs root");
	mk(P_BE "/ctr-userns/nested");
	mk(P_BU);
	mk("/batch/job-user/sub");
	mk("/batch/job-root");
	own("/kubepods/burstable", 1000);
	own(P_BE "/ctr-userns", 100000);
	own(P_BE "/ctr-userns/nested", 100000);
	own("/batch/job-user", 1000);
	own("/batch/job-user/sub", 1000);
	s = cgscan_new(tmp, &be, 1);
	cr_assert_not_null(s);
	cr_assert_gt(cgscan_run(s), 0);
	cr_expect_eq(find_path(s, "/kubepods/burstable")->cls.cls, COLOD_CLASS_SYSTEM);
	cr_expect_eq(find_path(s, P_BU)->cls.cls, COLOD_CLASS_SYSTEM);
	cr_expect_eq(find_path(s, P_BU)->cls.is_pod, false);
	cr_expect_eq(find_path(s, P_BE)->cls.cls, COLOD_CLASS_BE);
	cr_expect_eq(find_path(s, P_BE "/ctr-userns")->cls.cls, COLOD_CLASS_BE);
	cr_expect_eq(find_path(s, P_BE "/ctr-userns/nested")->cls.cls, COLOD_CLASS_BE);
	cr_expect_eq(find_path(s, "/batch/job-user")->cls.cls, COLOD_CLASS_SYSTEM);
	cr_expect_eq(find_path(s, "/batch/job-user/sub")->cls.rule, -1);
	cr_expect_eq(find_path(s, "/batch/job-root")->cls.cls, COLOD_CLASS_BE);

	/* chowned after it was first seen: classified again */
	own("/batch/job-root", 1000);
	cr_assert_gt(cgscan_run(s), 0);
	cr_expect(in_list(s, "/batch/job-root", cgscan_nr_changed, cgscan_changed));
	cr_expect_eq(find_path(s, "/batch/job-root")->cls.cls, COLOD_CLASS_SYSTEM);
	cgscan_free(s);
}

Test(cgscan, kubelet_root_moves_the_layout)
{
	struct cgscan *s;

	mk("/t/kubepods/besteffort");
	mk("/kubepods/besteffort");
	s = cgscan_new(tmp, NULL, 0);
	cr_assert_not_null(s);
	cr_assert_gt(cgscan_run(s), 0);
	cr_expect_eq(find_path(s, "/t/kubepods/besteffort")->cls.cls, COLOD_CLASS_SYSTEM);
	cr_expect_eq(find_path(s, "/kubepods/besteffort")->cls.cls, COLOD_CLASS_BE);
	cr_assert_eq(cgscan_set_kubelet_root(s, "/t"), 0);
	cr_assert_gt(cgscan_run(s), 0);
	cr_expect_eq(cgscan_nr_changed(s), 2, "changed %d", cgscan_nr_changed(s));
	cr_expect_eq(find_path(s, "/t/kubepods/besteffort")->cls.cls, COLOD_CLASS_BE);
	cr_expect_eq(find_path(s, "/kubepods/besteffort")->cls.cls, COLOD_CLASS_SYSTEM);
	cgscan_free(s);
}
