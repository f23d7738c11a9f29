// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Classification cannot be spoofed (issue 16): the real `colod run` over
 * real v1 cgroups, told that kubelet's root is this test's
 * colod-test-trust-<pid> (colod-config kubeletCgroupRoot). Beside a real
 * BestEffort pod there,
 *
 *	<root>/kubepods/besteffort/pod<uid>		kubelet's: BE
 *	<root>/elsewhere/kubepods/besteffort/pod<uid>	kubepods outside the root
 *	<root>/kubepods/burstable/pod<uid>		chowned to uid 1000 (delegated)
 *	<root>/kubepods/besteffort/pod<uid>/<ctr>/sub	a container chowned to
 *							100000 (a userns pod)
 *
 * the first must be tracked as BE, the next two never (a cgroup colod does
 * not track is one it never writes), the container keeps its pod's class. The
 * old agent took the first "kubepods" anywhere in the path and never
 * looked at owners, so it tracked both fakes.
 */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "agentrun.h"
#include "cgtest.h"

#define CTRLS		(CGT_CPU | CGT_CPUACCT | CGT_MEMORY)
#define BE_UID		"1b6e2f3a-8c4d-4e5f-9a0b-%012x"
#define BU_UID		"2c7f3a4b-9d5e-4f60-8b1c-%012x"
#define FAKE_UID	"3d8a4b5c-0e6f-4071-9c2d-%012x"

enum { CG_ROOT, CG_KP, CG_BE, CG_BU, CG_POD, CG_CTR, CG_SUB, CG_ELSE, CG_EKP, CG_EBE,
       CG_FAKE, CG_DELEG, NR_CG };

static struct cgtest_group cg[NR_CG];
static struct agentrun run;

static void make_cg(int i, int parent, const char *name, ...)
{
	char leaf[128], rel[256];
	va_list ap;

	va_start(ap, name);
	vsnprintf(leaf, sizeof(leaf), name, ap);
	va_end(ap);
	if (parent < 0)
		snprintf(rel, sizeof(rel), "%s", leaf);
	else
		snprintf(rel, sizeof(rel), "%s/%s", cg[parent].rel, leaf);
	cr_assert_eq(cgtest_make(&cg[i], rel, CTRLS), 0, "cgroup %s", rel);
}

/* chown the cgroup's directory in every hierarchy, as systemd and runc delegate */
static void delegate(int i, uid_t uid)
{
	static const unsigned int ctrls[] = { CGT_CPU, CGT_CPUACCT, CGT_MEMORY };
	char p[512];
	size_t k;

	for (k = 0; k < sizeof(ctrls) / sizeof(ctrls[0]); k++) {
		cr_assert_eq(cgtest_path(p, sizeof(p), &cg[i], ctrls[k], NULL), 0);
		cr_assert_eq(chown(p, uid, uid), 0, "chown %s: %m", p);
	}
}

static void setup(void)
{
	unsigned int id = (unsigned int)getpid();
	char own[256];

	if (geteuid())
		cr_skip_test("real-kernel tests need root");
	agentrun_init(&run, "trust");
	make_cg(CG_ROOT, -1, CGT_PREFIX "trust-%d", getpid());
	make_cg(CG_KP, CG_ROOT, "kubepods");
	make_cg(CG_BE, CG_KP, "besteffort");
	make_cg(CG_BU, CG_KP, "burstable");
	make_cg(CG_POD, CG_BE, "pod" BE_UID, id);
	make_cg(CG_CTR, CG_POD, "c0ffee0000000000000000000000000000000000000000000000000000000001");
	make_cg(CG_SUB, CG_CTR, "sub");
	make_cg(CG_ELSE, CG_ROOT, "elsewhere");
	make_cg(CG_EKP, CG_ELSE, "kubepods");
	make_cg(CG_EBE, CG_EKP, "besteffort");
	make_cg(CG_FAKE, CG_EBE, "pod" FAKE_UID, id);
	make_cg(CG_DELEG, CG_BU, "pod" BU_UID, id);
	delegate(CG_DELEG, 1000);
	delegate(CG_CTR, 100000);
	delegate(CG_SUB, 100000);
	agentrun_config(&run, "colocation-config", "{\"enable\": true}");
	snprintf(own, sizeof(own), "{\"kubeletCgroupRoot\": \"/%s\"}", cg[CG_ROOT].rel);
	agentrun_config(&run, "colod-config", own);
}

static void teardown(void)
{
	int i;

	agentrun_cleanup(&run);
	for (i = NR_CG - 1; i >= 0; i--)
		cgtest_remove(&cg[i]);
}

TestSuite(trust, .init = setup, .fini = teardown, .timeout = 120);

static bool tracked(int i)
{
	char needle[320];

	snprintf(needle, sizeof(needle), "cgroup /%s (id", cg[i].rel);
	return agentrun_log_has(&run, needle);
}

Test(trust, kubepods_outside_the_root_and_delegated_subtrees_are_system)
{
	char needle[320];
	int i;

	agentrun_start(&run, NULL);
	cr_assert(agentrun_wait_log(&run, "running:", 30000), "agent up (see %s/agent.log)",
		  run.dir);
	snprintf(needle, sizeof(needle), "tracking BE cgroup /%s (id", cg[CG_POD].rel);
	cr_assert(agentrun_wait_log(&run, needle, 10000), "the real BE pod is tracked");
	/* a few more ticks for anything the agent would still take */
	sleep(2);
	cr_expect(agentrun_alive(&run), "agent still running");
	for (i = CG_ELSE; i <= CG_FAKE; i++)
		cr_expect(!tracked(i), "kubepods outside kubeletCgroupRoot tracked: /%s",
			  cg[i].rel);
	cr_expect(!tracked(CG_DELEG), "a pod chowned to uid 1000 tracked: /%s",
		  cg[CG_DELEG].rel);
	/* a userns pod's container, chowned by runc, keeps its pod's class */
	snprintf(needle, sizeof(needle), "tracking BE cgroup /%s (id", cg[CG_SUB].rel);
	cr_expect(agentrun_log_has(&run, needle), "the delegated container's child is BE");
}
