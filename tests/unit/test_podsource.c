// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Pod semantics (issue 18): Kubernetes quantities, the PodList parser, the
 * classification by Koordinator's label and priority class, a BE pod's
 * own limits as knobs of the decision, and the poller against a local
 * stand-in for the kubelet's /pods (tests/lib/fakekubelet.c; no cluster).
 *
 * The pods are the ACK colocation guide's: nginx (koordinator.sh/qosClass
 * LS, Guaranteed, 8 CPUs and 1Gi) and be-ffmpeg (koordinator.sh/qosClass
 * BE, only kubernetes.io/batch-cpu "70k" and batch-memory "22Gi").
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "classify.h"
#include "decide.h"
#include "fakekubelet.h"
#include "podsource.h"
#include "tfile.h"

#define GiB	(1024LL * 1024 * 1024)
#define UID_LS	"5f0c3a52-0d9e-4b1c-9a8e-1f2a3b4c5d6e"
#define UID_BE	"9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d"

/* the guide's two pods, as the kubelet lists them */
static const char *nginx(char *buf, size_t len, const char *label)
{
	return fk_pod(buf, len, "nginx", UID_LS, label, NULL, 0,
		      "\"cpu\":\"8\",\"memory\":\"1Gi\"", "\"cpu\":\"8\",\"memory\":\"1Gi\"",
		      "Guaranteed");
}

static const char *ffmpeg(char *buf, size_t len, const char *label)
{
	return fk_pod(buf, len, "be-ffmpeg", UID_BE, label, NULL, 0,
		      "\"kubernetes.io/batch-cpu\":\"70k\",\"kubernetes.io/batch-memory\":\"22Gi\"",
		      "\"kubernetes.io/batch-cpu\":\"70k\",\"kubernetes.io/batch-memory\":\"22Gi\"",
		      "BestEffort");
}

Test(podsource, quantities_as_the_api_server_reads_them)
{
	static const struct {
		const char *s;
		long long v;
	} ok[] = {
		{ "70k", 70000 }, { "22Gi", 22 * GiB }, { "8", 8 }, { "1.5", 2 },
		{ "500m", 1 }, { "0", 0 }, { "1e3", 1000 }, { "0.5Gi", GiB / 2 },
		{ "+2Ki", 2048 }, { "1500000u", 2 }, { "3E", 3000000000000000000LL },
	};
	static const char *const bad[] = { "", "abc", "1Zi", "1.2.3", "Gi", "-1", "1 Gi", "1e" };
	long long v;
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		cr_assert_eq(k8s_quantity_parse(ok[i].s, &v), 0, "%s", ok[i].s);
		cr_assert_eq(v, ok[i].v, "%s: %lld, want %lld", ok[i].s, v, ok[i].v);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(k8s_quantity_parse(bad[i], &v), -EINVAL, "\"%s\"", bad[i]);
	cr_assert_eq(k8s_quantity_parse("10E", &v), -ERANGE);
}

Test(podsource, the_guides_pods_parse_to_their_semantics)
{
	char a[2048], b[2048], doc[8192];
	const struct pod_meta *ls, *be;
	struct pod_view v;

	snprintf(doc, sizeof(doc), "{\"kind\":\"PodList\",\"apiVersion\":\"v1\","
		 "\"metadata\":{},\"items\":[%s,%s]}", ffmpeg(a, sizeof(a), "BE"),
		 nginx(b, sizeof(b), "LS"));
	cr_assert_eq(pod_view_parse(doc, strlen(doc), &v), 0);
	cr_assert_eq(v.nr, 2);
	ls = pod_view_find(&v, UID_LS);
	be = pod_view_find(&v, UID_BE);
	cr_assert(ls && be);
	cr_assert_eq(ls->cls.qos, KOORD_QOS_LS);
	cr_assert(ls->cpu_limit && ls->mem_limit, "kubelet owns nginx's pod limits");
	cr_assert_eq(ls->batch_cpu_milli, -1);
	cr_assert_eq(be->cls.qos, KOORD_QOS_BE);
	cr_assert(!be->cpu_limit && !be->mem_limit);
	cr_assert_eq(be->batch_cpu_milli, 70000, "70k millicores: %lld", be->batch_cpu_milli);
	cr_assert_eq(be->batch_mem_bytes, 22 * GiB);
	cr_assert_null(pod_view_find(&v, "0000"));
	pod_view_free(&v);

	/* anything that is not a PodList changes nothing */
	cr_assert_eq(pod_view_parse("{\"kind\":\"Status\"}", 17, &v), -EINVAL);
	cr_assert_eq(pod_view_parse("<html>", 6, &v), -EINVAL);
}

Test(podsource, a_container_without_a_batch_limit_leaves_the_pod_unbounded)
{
	const char *doc = "{\"kind\":\"PodList\",\"apiVersion\":\"v1\",\"metadata\":{},\"items\":[{"
		"\"metadata\":{\"uid\":\"aa\",\"labels\":{\"koordinator.sh/qosClass\":\"BE\"}},"
		"\"spec\":{\"priorityClassName\":\"koord-batch\",\"priority\":5000,\"containers\":["
		"{\"name\":\"a\",\"resources\":{\"limits\":{\"kubernetes.io/batch-cpu\":\"1k\","
		"\"kubernetes.io/batch-memory\":\"1Gi\"}}},"
		"{\"name\":\"b\",\"resources\":{\"limits\":{\"kubernetes.io/batch-cpu\":\"500\"}}}]}}]}";
	struct pod_view v;

	cr_assert_eq(pod_view_parse(doc, strlen(doc), &v), 0);
	cr_assert_eq(v.nr, 1);
	cr_assert_eq(v.pods[0].batch_cpu_milli, 1500, "summed over containers");
	cr_assert_eq(v.pods[0].batch_mem_bytes, -1, "b has no batch-memory limit");
	cr_assert_eq(v.pods[0].cls.prio, KOORD_PRIO_BATCH);
	pod_view_free(&v);
}

static void classify_with(const char *path, enum koord_qos q, enum koord_priority p,
			  struct classify_result *r)
{
	struct classify_pod_meta m = { q, p };

	classify_path(path, NULL, NULL, 0, r);
	classify_pod(&m, r);
}

Test(podsource, label_then_priority_then_directory)
{
	const char *be_pod = "/kubepods/besteffort/pod" UID_BE;
	const char *bu_ctr = "/kubepods/burstable/pod" UID_LS "/abc";
	const char *g_pod = "/kubepods/pod" UID_LS;
	struct classify_rule rule = { .glob = "/kubepods/burstable/*", .cls = COLOD_CLASS_SYSTEM };
	struct classify_pod_meta m = { KOORD_QOS_BE, KOORD_PRIO_NONE };
	struct classify_result r;

	/* LSE / LSR / LS are latency-sensitive, even in the besteffort directory */
	classify_with(be_pod, KOORD_QOS_LSR, KOORD_PRIO_NONE, &r);
	cr_assert_eq(r.cls, COLOD_CLASS_LS);
	cr_assert_eq(r.src, CLASS_SRC_LABEL);
	classify_with(be_pod, KOORD_QOS_LSE, KOORD_PRIO_BATCH, &r);
	cr_assert_eq(r.cls, COLOD_CLASS_LS, "the label wins over the priority");
	/* BE in a Burstable pod's directory: BE, its containers too */
	classify_with(bu_ctr, KOORD_QOS_BE, KOORD_PRIO_PROD, &r);
	cr_assert_eq(r.cls, COLOD_CLASS_BE);
	cr_assert(r.is_container);
	classify_with(g_pod, KOORD_QOS_SYSTEM, KOORD_PRIO_NONE, &r);
	cr_assert_eq(r.cls, COLOD_CLASS_SYSTEM, "SYSTEM is left alone");
	/* no label: prod LS, batch and free BE, mid has no say */
	classify_with(be_pod, KOORD_QOS_NONE, KOORD_PRIO_PROD, &r);
	cr_assert_eq(r.cls, COLOD_CLASS_LS);
	cr_assert_eq(r.src, CLASS_SRC_PRIORITY);
	classify_with(g_pod, KOORD_QOS_NONE, KOORD_PRIO_FREE, &r);
	cr_assert_eq(r.cls, COLOD_CLASS_BE);
	classify_with(be_pod, KOORD_QOS_NONE, KOORD_PRIO_MID, &r);
	cr_assert_eq(r.cls, COLOD_CLASS_BE);
	cr_assert_eq(r.src, CLASS_SRC_DIR, "koord-mid: the QoS directory decides");
	classify_with(g_pod, KOORD_QOS_NONE, KOORD_PRIO_MID, &r);
	cr_assert_eq(r.cls, COLOD_CLASS_LS);
	/* the QoS level has no pod; a rule is the operator's last word */
	classify_with("/kubepods/besteffort", KOORD_QOS_LS, KOORD_PRIO_NONE, &r);
	cr_assert_eq(r.cls, COLOD_CLASS_BE);
	classify_path(bu_ctr, NULL, &rule, 1, &r);
	classify_pod(&m, &r);
	cr_assert_eq(r.cls, COLOD_CLASS_SYSTEM);
	cr_assert_eq(r.src, CLASS_SRC_RULE);
	/* Koordinator's values, exactly */
	cr_assert_eq(koord_qos_parse("LSR"), KOORD_QOS_LSR);
	cr_assert_eq(koord_qos_parse("be"), KOORD_QOS_NONE);
	cr_assert_eq(koord_priority_of(NULL, true, 9500), KOORD_PRIO_PROD);
	cr_assert_eq(koord_priority_of(NULL, true, 6000), KOORD_PRIO_NONE);
	cr_assert_eq(koord_priority_of("koord-free", false, 0), KOORD_PRIO_FREE);
}

/* ---- a BE pod's own limits in the decision ---- */

static const struct knob *knob_of(const struct decision *d, int cg, enum knob_kind k)
{
	int i;

	for (i = 0; i < d->nr_knobs; i++)
		if (d->knobs[i].cg == cg && d->knobs[i].kind == k)
			return &d->knobs[i];
	return NULL;
}

Test(podsource, batch_limits_are_pod_knobs_under_the_suppress_bound)
{
	struct policy_params p;
	struct policy_caps caps = { .cgroup_v2 = false, .has_cpu_idle = true };
	struct decide_params dp = { &p, &caps };
	struct policy_state s;
	struct track t = {};
	struct decision d = {};
	struct tracked *qos, *pod;
	const struct knob *k;

	policy_params_default(&p);
	p.suppress_enable = true;
	policy_init(&s, &p, 4000);
	qos = track_add(&t, 1, "/kubepods/besteffort", COLOD_CLASS_BE, -1);
	qos->kubelet = true;
	pod = track_add(&t, 2, "/kubepods/besteffort/pod" UID_BE, COLOD_CLASS_BE, -1);
	pod->kubelet = pod->is_pod = true;
	pod->batch_cpu_milli = 1500;
	pod->batch_mem_bytes = 22 * GiB;
	track_mark_tops(&t);

	/* no suppression in force: the pod's own limits as they are */
	s.cpu_limited = false;
	cr_assert_eq(decide_knobs(&dp, &s, &t, false, &d), 0);
	k = knob_of(&d, 1, KNOB_CPU_QUOTA);
	cr_assert_eq(k ? k->value : 0, 150000, "1500m at a 100 ms period");
	cr_assert_eq(k->period_us, 100000);
	k = knob_of(&d, 1, KNOB_MEM_MAX);
	cr_assert(k && k->value == 22 * GiB);
	cr_assert_null(knob_of(&d, 0, KNOB_CPU_QUOTA));

	/* suppressed to 1 CPU: v1 holds the pod at its top's share */
	s.cpu_limited = true;
	s.allowed_milli = 1000;
	cr_assert_eq(decide_knobs(&dp, &s, &t, true, &d), 0);
	k = knob_of(&d, 1, KNOB_CPU_QUOTA);
	cr_assert_eq(k ? k->value : 0, 100000, "clamped to the BE top's 1000m");
	cr_assert_not_null(knob_of(&d, 0, KNOB_CPU_QUOTA), "the node-wide bound stays");
	cr_assert_null(knob_of(&d, 1, KNOB_MEM_MAX), "a breach decides CPU only");
	/* v2 takes the lower of the two by itself */
	caps.cgroup_v2 = true;
	cr_assert_eq(decide_knobs(&dp, &s, &t, false, &d), 0);
	k = knob_of(&d, 1, KNOB_CPU_QUOTA);
	cr_assert_eq(k ? k->value : 0, 150000);

	/* the label or the limit goes: no knob, so the sweep gives the original back */
	t.v[1].batch_cpu_milli = t.v[1].batch_mem_bytes = 0;
	cr_assert_eq(decide_knobs(&dp, &s, &t, false, &d), 0);
	cr_assert_null(knob_of(&d, 1, KNOB_CPU_QUOTA));
	cr_assert_null(knob_of(&d, 1, KNOB_MEM_MAX));
	decision_free(&d);
	track_free(&t);
}

Test(podsource, a_be_top_pod_gets_the_lower_rate_of_its_two_quotas)
{
	struct policy_params p;
	struct policy_caps caps = { .cgroup_v2 = true };
	struct decide_params dp = { &p, &caps };
	struct policy_state s;
	struct track t = {};
	struct decision d = {};
	struct tracked *pod;
	const struct knob *k;

	policy_params_default(&p);
	p.suppress_enable = true;
	policy_init(&s, &p, 4000);
	/* a BE-labelled pod in the burstable directory is its own BE top */
	pod = track_add(&t, 2, "/kubepods/burstable/pod" UID_BE, COLOD_CLASS_BE, -1);
	pod->kubelet = pod->is_pod = true;
	pod->batch_cpu_milli = 500;
	track_mark_tops(&t);
	s.cpu_limited = true;
	s.allowed_milli = 2000;
	cr_assert_eq(decide_knobs(&dp, &s, &t, false, &d), 0);
	k = knob_of(&d, 0, KNOB_CPU_QUOTA);
	cr_assert_not_null(k);
	/* 500m at 100 ms beats 2000m at the suppress period */
	cr_assert_eq(k->value * 1000 / (long long)k->period_us, 500, "%lld/%llu", k->value,
		     (unsigned long long)k->period_us);
	s.allowed_milli = 200;
	cr_assert_eq(decide_knobs(&dp, &s, &t, false, &d), 0);
	k = knob_of(&d, 0, KNOB_CPU_QUOTA);
	cr_assert_eq(k->value * 1000 / (long long)k->period_us, 200);
	decision_free(&d);
	track_free(&t);
}

/* ---- the poller against the local kubelet stand-in ---- */

static char dir[64];
static struct fakekubelet kl = { .pid = -1 };

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/colod-test-pods-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	fakekubelet_start(&kl, dir);
}

static void teardown(void)
{
	fakekubelet_stop(&kl);
	if (dir[0] && !strncmp(dir, "/tmp/colod-test-pods-", 21))
		tfile_rm_tree(dir);
}

/* The kubelet stand-in's URL, with the CA and token files named (copied into ca, tok). */
static void opts(struct podsource_opts *o, char *ca, const char *ca_name, char *tok,
		 const char *tok_name)
{
	snprintf(ca, 320, "%s", fakekubelet_path(&kl, ca_name));
	snprintf(tok, 320, "%s", fakekubelet_path(&kl, tok_name));
	*o = (struct podsource_opts) { .url = kl.url, .token_path = tok, .ca_path = ca,
				       .interval_ms = 200 };
}

/* Take views until one has n pods, for up to ms. */
static bool take_until(struct podsource *ps, struct pod_view *v, int n, int ms)
{
	for (; ms > 0; ms -= 20) {
		if (podsource_take(ps, v) && v->nr == n)
			return true;
		usleep(20000);
	}
	return false;
}

Test(podsource, polls_the_kubelet_and_keeps_the_last_list, .init = setup, .fini = teardown,
     .timeout = 120)
{
	char a[2048], b[2048], items[4200];
	struct podsource_opts o;
	struct podsource *ps;
	struct pod_view v = {};
	uint64_t lists, errors, e0;
	bool failing;
	char ca[320], tok[320];

	opts(&o, ca, "sa/ca.crt", tok, "sa/token");
	snprintf(items, sizeof(items), "%s,%s", nginx(a, sizeof(a), "LS"),
		 ffmpeg(b, sizeof(b), "BE"));
	fakekubelet_set_items(&kl, items);
	cr_assert_eq(podsource_start(&o, &ps), 0);
	cr_assert(podsource_wait_first(ps, 20000), "a first list");
	cr_assert(take_until(ps, &v, 2, 10000));
	cr_assert_eq(pod_view_find(&v, UID_BE)->batch_cpu_milli, 70000);

	/* the same list again is counted, but is no new view (nothing to re-class) */
	podsource_counts(ps, &e0, &errors, &failing);
	for (int i = 0; i < 500; i++) {
		podsource_counts(ps, &lists, &errors, &failing);
		if (lists >= e0 + 2)
			break;
		usleep(20000);
	}
	cr_assert_geq(lists, e0 + 2, "polls go on");
	cr_assert_not(podsource_take(ps, &v), "an unchanged list is no new view");

	/* a label changes: the next poll has it */
	snprintf(items, sizeof(items), "%s,%s", nginx(a, sizeof(a), "LS"),
		 ffmpeg(b, sizeof(b), "LS"));
	fakekubelet_set_items(&kl, items);
	for (int i = 0; i < 500; i++) {
		podsource_take(ps, &v);
		if (pod_view_find(&v, UID_BE)->cls.qos == KOORD_QOS_LS)
			break;
		usleep(20000);
	}
	cr_assert_eq(pod_view_find(&v, UID_BE)->cls.qos, KOORD_QOS_LS);

	/* the source goes away: polls fail, no new list, the last one stays with the caller */
	podsource_counts(ps, &lists, &e0, &failing);
	fakekubelet_stop(&kl);
	for (int i = 0; i < 500; i++) {
		podsource_counts(ps, &lists, &errors, &failing);
		if (errors > e0)
			break;
		usleep(20000);
	}
	cr_assert_gt(errors, e0, "a failed poll is counted");
	cr_assert(failing);
	cr_assert_not(podsource_take(ps, &v) && v.nr != 2, "no new list while it is down");
	cr_assert_eq(v.nr, 2);
	podsource_stop(ps);
	pod_view_free(&v);
}

Test(podsource, a_wrong_ca_or_token_gives_no_list, .init = setup, .fini = teardown,
     .timeout = 120)
{
	struct podsource_opts o;
	struct podsource *ps;
	struct pod_view v = {};
	uint64_t lists, errors;
	bool failing;
	char ca[320], tok[320];

	opts(&o, ca, "other.crt", tok, "sa/token");
	cr_assert_eq(podsource_start(&o, &ps), 0);
	cr_assert_not(podsource_wait_first(ps, 20000), "TLS is verified against the CA");
	podsource_counts(ps, &lists, &errors, &failing);
	cr_assert(lists == 0 && errors >= 1 && failing);
	cr_assert_not(podsource_take(ps, &v));
	podsource_stop(ps);

	snprintf(ca, sizeof(ca), "%s", fakekubelet_path(&kl, "sa/ca.crt"));
	tfile_write(fakekubelet_path(&kl, "bad-token"), "not-the-token\n");
	snprintf(tok, sizeof(tok), "%s", fakekubelet_path(&kl, "bad-token"));
	cr_assert_eq(podsource_start(&o, &ps), 0);
	cr_assert_not(podsource_wait_first(ps, 20000), "401 is no list");
	cr_assert_geq(fakekubelet_requests(&kl), 1, "the request reached the kubelet");
	podsource_stop(ps);

	o.url = "http://127.0.0.1:1/pods";
	cr_assert_eq(podsource_start(&o, &ps), -EINVAL, "plain http is refused");
}
