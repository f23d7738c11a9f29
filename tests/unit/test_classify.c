// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Classification over both kubelet cgroup drivers' layouts and over rules. */
#include <criterion/criterion.h>
#include <string.h>
#include "classify.h"

struct layout_case {
	const char *path;
	enum colod_class cls;
	bool is_pod;
	bool is_container;
	const char *uid;
};

#define UID	"1d2c3b4a-0000-4a5b-9c8d-0123456789ab"
#define UID_SD	"1d2c3b4a_0000_4a5b_9c8d_0123456789ab"

static void check_cases_at(const char *root, const struct layout_case *c, size_t n)
{
	struct classify_result r;
	size_t i;

	for (i = 0; i < n; i++) {
		classify_path(c[i].path, root, NULL, 0, &r);
		cr_expect_eq(r.cls, c[i].cls, "%s: class %s, want %s", c[i].path,
			     class_name(r.cls), class_name(c[i].cls));
		cr_expect_eq(r.is_pod, c[i].is_pod, "%s: is_pod %d", c[i].path, r.is_pod);
		cr_expect_eq(r.is_container, c[i].is_container, "%s: is_container %d",
			     c[i].path, r.is_container);
		cr_expect_str_eq(r.pod_uid, c[i].uid, "%s: uid '%s'", c[i].path, r.pod_uid);
		cr_expect_eq(r.rule, -1);
	}
}

static void check_cases(const struct layout_case *c, size_t n)
{
	check_cases_at(NULL, c, n);
}

Test(classify, cgroupfs_driver)
{
	static const struct layout_case c[] = {
		{ "/", COLOD_CLASS_SYSTEM, false, false, "" },
		{ "/system.slice/sshd.service", COLOD_CLASS_SYSTEM, false, false, "" },
		{ "/kubepods", COLOD_CLASS_SYSTEM, false, false, "" },
		{ "/kubepods/burstable", COLOD_CLASS_LS, false, false, "" },
		{ "/kubepods/besteffort", COLOD_CLASS_BE, false, false, "" },
		{ "/kubepods/pod" UID, COLOD_CLASS_LS, true, false, UID },
		{ "/kubepods/pod" UID "/abcdef0123", COLOD_CLASS_LS, false, true, UID },
		{ "/kubepods/burstable/pod" UID, COLOD_CLASS_LS, true, false, UID },
		{ "/kubepods/burstable/pod" UID "/c1", COLOD_CLASS_LS, false, true, UID },
		{ "/kubepods/besteffort/pod" UID, COLOD_CLASS_BE, true, false, UID },
		{ "/kubepods/besteffort/pod" UID "/c1", COLOD_CLASS_BE, false, true, UID },
		{ "/kubepods/besteffort/pod" UID "/c1/sub", COLOD_CLASS_BE, false, true, UID },
		/* static pods: the uid is a 32-digit hash */
		{ "/kubepods/burstable/pod0123456789abcdef0123456789abcdef",
		  COLOD_CLASS_LS, true, false, "0123456789abcdef0123456789abcdef" },
		/* kubepods elsewhere is not kubelet's (a delegated user's, say) */
		{ "/docker/abc/kubepods/besteffort/pod" UID, COLOD_CLASS_SYSTEM, false, false, "" },
		{ "/user.slice/user-1000.slice/kubepods/burstable/pod" UID,
		  COLOD_CLASS_SYSTEM, false, false, "" },
		/* not kubelet's: never guessed */
		{ "/kubepods/besteffort/notapod", COLOD_CLASS_SYSTEM, false, false, "" },
		{ "/kubepods/podXYZ", COLOD_CLASS_SYSTEM, false, false, "" },
		{ "/kubepods/pod", COLOD_CLASS_SYSTEM, false, false, "" },
		{ "/notkubepods/besteffort/pod" UID, COLOD_CLASS_SYSTEM, false, false, "" },
	};

	check_cases(c, sizeof(c) / sizeof(c[0]));
}

Test(classify, systemd_driver)
{
	static const struct layout_case c[] = {
		{ "/kubepods.slice", COLOD_CLASS_SYSTEM, false, false, "" },
		{ "/kubepods.slice/kubepods-besteffort.slice", COLOD_CLASS_BE, false, false, "" },
		{ "/kubepods.slice/kubepods-burstable.slice", COLOD_CLASS_LS, false, false, "" },
		{ "/kubepods.slice/kubepods-pod" UID_SD ".slice", COLOD_CLASS_LS, true, false, UID },
		{ "/kubepods.slice/kubepods-pod" UID_SD ".slice/cri-containerd-ab12.scope",
		  COLOD_CLASS_LS, false, true, UID },
		{ "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_SD ".slice",
		  COLOD_CLASS_LS, true, false, UID },
		{ "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_SD
		  ".slice/docker-ab12.scope", COLOD_CLASS_LS, false, true, UID },
		{ "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_SD ".slice",
		  COLOD_CLASS_BE, true, false, UID },
		{ "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_SD
		  ".slice/crio-ab12.scope", COLOD_CLASS_BE, false, true, UID },
		/* kind's layout, but kubeletCgroupRoot is "/" */
		{ "/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/"
		  "kubelet-kubepods-besteffort-pod" UID_SD ".slice", COLOD_CLASS_SYSTEM, false, false, "" },
		{ "/user.slice/kubepods.slice/kubepods-besteffort.slice",
		  COLOD_CLASS_SYSTEM, false, false, "" },
		/* a besteffort pod name in the burstable slice is not kubelet's */
		{ "/kubepods.slice/kubepods-burstable.slice/kubepods-besteffort-pod" UID_SD ".slice",
		  COLOD_CLASS_SYSTEM, false, false, "" },
		{ "/kubepods.slice/kubepods-besteffort.slice/other.slice",
		  COLOD_CLASS_SYSTEM, false, false, "" },
		{ "/system.slice/kubelet.service", COLOD_CLASS_SYSTEM, false, false, "" },
		{ "/user.slice/foo_kubepods.slice", COLOD_CLASS_SYSTEM, false, false, "" },
	};

	check_cases(c, sizeof(c) / sizeof(c[0]));
}

/* kubeletCgroupRoot: kubepods directly below it, nowhere else */
Test(classify, kubelet_root)
{
	static const struct layout_case dind[] = {
		{ "/docker/abc/kubepods/besteffort/pod" UID, COLOD_CLASS_BE, true, false, UID },
		{ "/docker/abc/kubepods/burstable", COLOD_CLASS_LS, false, false, "" },
		{ "/kubepods/besteffort/pod" UID, COLOD_CLASS_SYSTEM, false, false, "" },
		{ "/docker/abcd/kubepods/besteffort", COLOD_CLASS_SYSTEM, false, false, "" },
		{ "/docker/abc/x/kubepods/besteffort", COLOD_CLASS_SYSTEM, false, false, "" },
		{ "/docker/abc", COLOD_CLASS_SYSTEM, false, false, "" },
	};
	static const struct layout_case kind[] = {
		{ "/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/"
		  "kubelet-kubepods-besteffort-pod" UID_SD ".slice", COLOD_CLASS_BE, true, false, UID },
		{ "/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-pod" UID_SD ".slice",
		  COLOD_CLASS_LS, true, false, UID },
		/* the systemd driver's prefix is the root slice's name */
		{ "/kubelet.slice/kubepods.slice/kubepods-besteffort.slice",
		  COLOD_CLASS_SYSTEM, false, false, "" },
		{ "/kubepods.slice/kubepods-besteffort.slice", COLOD_CLASS_SYSTEM, false, false, "" },
	};

	check_cases_at("/docker/abc", dind, sizeof(dind) / sizeof(dind[0]));
	check_cases_at("/docker/abc/", dind, sizeof(dind) / sizeof(dind[0]));
	check_cases_at("/kubelet.slice", kind, sizeof(kind) / sizeof(kind[0]));
}

Test(classify, rules_first_in_order)
{
	struct classify_rule rules[3] = {
		{ .glob = "/batch/keep-ls*", .cls = COLOD_CLASS_LS },
		{ .glob = "/batch/*", .cls = COLOD_CLASS_BE },
		{ .glob = "/kubepods/besteffort/pod*", .cls = COLOD_CLASS_LS },
	};
	struct classify_result r;

	classify_path("/batch/keep-ls-1", NULL, rules, 3, &r);
	cr_expect_eq(r.cls, COLOD_CLASS_LS);
	cr_expect_eq(r.rule, 0);

	/* no FNM_PATHNAME: '*' crosses '/' so a rule covers a whole subtree */
	classify_path("/batch/spark/executor-1", NULL, rules, 3, &r);
	cr_expect_eq(r.cls, COLOD_CLASS_BE);
	cr_expect_eq(r.rule, 1);

	/* "/batch" itself does not match "/batch/ *": SYSTEM */
	classify_path("/batch", NULL, rules, 3, &r);
	cr_expect_eq(r.cls, COLOD_CLASS_SYSTEM);
	cr_expect_eq(r.rule, -1);

	/* a rule overrides the kubelet layout; pod facts stay */
	classify_path("/kubepods/besteffort/pod" UID, NULL, rules, 3, &r);
	cr_expect_eq(r.cls, COLOD_CLASS_LS);
	cr_expect_eq(r.rule, 2);
	cr_expect(r.is_pod);
	cr_expect_str_eq(r.pod_uid, UID);

	/* fewer rules than the array holds: only nr_rules are tried */
	classify_path("/kubepods/besteffort/pod" UID, NULL, rules, 2, &r);
	cr_expect_eq(r.cls, COLOD_CLASS_BE);
	cr_expect_eq(r.rule, -1);
}

Test(classify, rule_can_mark_system)
{
	struct classify_rule rules[1] = {
		{ .glob = "/kubepods/besteffort/pod*", .cls = COLOD_CLASS_SYSTEM },
	};
	struct classify_result r;

	classify_path("/kubepods/besteffort/pod" UID "/c", NULL, rules, 1, &r);
	cr_expect_eq(r.cls, COLOD_CLASS_SYSTEM);
	cr_expect_eq(r.rule, 0);
	cr_expect(r.is_container);
}

Test(classify, names)
{
	cr_expect_str_eq(class_name(COLOD_CLASS_LS), "LS");
	cr_expect_str_eq(class_name(COLOD_CLASS_BE), "BE");
	cr_expect_str_eq(class_name(COLOD_CLASS_SYSTEM), "SYSTEM");
	cr_expect_eq(class_from_name("ls"), COLOD_CLASS_LS);
	cr_expect_eq(class_from_name("Be"), COLOD_CLASS_BE);
	cr_expect_eq(class_from_name("SYSTEM"), COLOD_CLASS_SYSTEM);
	cr_expect_eq(class_from_name("batch"), -1);
	cr_expect_eq(class_from_name(""), -1);
	cr_expect_eq(class_from_name(NULL), -1);
}

Test(classify, one_table_of_class_names)
{
	int c;

	for (c = 0; c < COLOD_CLASS_NR; c++) {
		cr_assert_eq(class_from_name(class_names[c]), c);
		cr_assert_str_eq(class_name(c), class_names[c]);
		cr_assert_eq(class_from_name(class_label(c)), c);
	}
	cr_assert_null(class_names[COLOD_CLASS_NR]);
	cr_assert_str_eq(class_name(COLOD_CLASS_LS), "LS");
	cr_assert_str_eq(class_label(COLOD_CLASS_BE), "be");
	cr_assert_str_eq(class_label(-1), "-");
	cr_assert_str_eq(class_name(COLOD_CLASS_NR), "UNKNOWN");
	cr_assert_eq(class_from_name("mid"), -1);
	cr_assert_eq(class_from_name(NULL), -1);
}
