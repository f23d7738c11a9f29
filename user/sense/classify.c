// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Classification of cgroups into LS, BE and SYSTEM (see docs/CLASSIFICATION.md).
 *
 * Kubelet lays pods out in one of two ways, depending on its cgroup driver:
 *
 *   cgroupfs: /kubepods/pod<uid>/<ctr>                      Guaranteed
 *             /kubepods/burstable/pod<uid>/<ctr>            Burstable
 *             /kubepods/besteffort/pod<uid>/<ctr>           BestEffort
 *   systemd:  /kubepods.slice/kubepods-pod<uid>.slice/...   Guaranteed
 *             /kubepods.slice/kubepods-burstable.slice/
 *                 kubepods-burstable-pod<uid>.slice/<ctr>.scope
 *             /kubepods.slice/kubepods-besteffort.slice/
 *                 kubepods-besteffort-pod<uid>.slice/<ctr>.scope
 *
 * (the systemd driver writes the uid's dashes as underscores). Koordinator
 * BE pods request only kubernetes.io/batch-* extended resources, so kubelet
 * puts them in the BestEffort QoS class: besteffort is BE, the rest of
 * kubepods is LS, and everything else on the machine is SYSTEM.
 *
 * The kubepods root may sit below a prefix (kubelet --cgroup-root, kind,
 * docker-in-docker: /docker/<id>/kubepods/..., /kubelet.slice/
 * kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/...). That
 * prefix is configured (kubeletCgroupRoot), never searched for: a user
 * with a delegated subtree could otherwise make /user.slice/.../kubepods/
 * besteffort and get BE or LS cgroups of their own.
 */
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "classify.h"

#define COMP_MAX	256
#define PREFIX_MAX	64	/* of "<prefix>kubepods.slice" */

enum qos_level { QOS_NONE, QOS_GUARANTEED, QOS_BURSTABLE, QOS_BESTEFFORT };

/* Copy the next path component of *p into buf; false at the end. */
static bool next_comp(const char **p, char *buf, size_t len)
{
	const char *s = *p, *e;
	size_t n;

	while (*s == '/')
		s++;
	if (!*s)
		return false;
	e = strchrnul(s, '/');
	n = (size_t)(e - s);
	if (n >= len)
		n = len - 1;	/* longer than any name we match: harmless */
	memcpy(buf, s, n);
	buf[n] = '\0';
	*p = e;
	return true;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);

	return ls >= lx && !strcmp(s + ls - lx, suffix);
}

/*
 * A pod uid as kubelet writes it: hex digits and dashes (API uids), or the
 * 32-digit hash of a static pod; the systemd driver turns '-' into '_'.
 * Stores it with dashes restored.
 */
static bool parse_uid(const char *s, size_t n, char *uid, size_t len)
{
	size_t i;

	if (n == 0 || n >= len)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c == '_')
			c = '-';
		else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
			   (c >= 'A' && c <= 'F') || c == '-'))
			return false;
		uid[i] = c;
	}
	uid[n] = '\0';
	return true;
}

/* cgroupfs driver: "pod<uid>" */
static bool cgfs_pod(const char *comp, char *uid, size_t len)
{
	return !strncmp(comp, "pod", 3) &&
	       parse_uid(comp + 3, strlen(comp) - 3, uid, len);
}

/* systemd driver: "<base>-pod<uid>.slice" where base is e.g. "kubepods-besteffort" */
static bool sd_pod(const char *comp, const char *base, char *uid, size_t len)
{
	size_t lb = strlen(base), lc = strlen(comp);
	const size_t lsuf = strlen(".slice");

	if (lc <= lb + 4 + lsuf || strncmp(comp, base, lb) ||
	    strncmp(comp + lb, "-pod", 4) || !ends_with(comp, ".slice"))
		return false;
	return parse_uid(comp + lb + 4, lc - lb - 4 - lsuf, uid, len);
}

/* Pods in besteffort are BE; burstable and guaranteed ones are LS. */
static enum colod_class qos_class(enum qos_level qos)
{
	return qos == QOS_BESTEFFORT ? COLOD_CLASS_BE : COLOD_CLASS_LS;
}

/* The pod's own cgroup (p at its end), or a container below it. */
static void pod_found(enum qos_level qos, const char *p, struct classify_result *out)
{
	char comp[COMP_MAX];

	out->cls = qos_class(qos);
	if (next_comp(&p, comp, sizeof(comp)))
		out->is_container = true;
	else
		out->is_pod = true;
}

/* Walk the rest of a cgroupfs-driver path below "kubepods". */
static void layout_cgroupfs(const char *p, struct classify_result *out)
{
	char comp[COMP_MAX];
	enum qos_level qos = QOS_GUARANTEED;

	if (!next_comp(&p, comp, sizeof(comp)))
		return;		/* kubepods itself: all classes, SYSTEM */
	if (!strcmp(comp, "burstable"))
		qos = QOS_BURSTABLE;
	else if (!strcmp(comp, "besteffort"))
		qos = QOS_BESTEFFORT;
	if (qos != QOS_GUARANTEED) {
		out->cls = qos_class(qos);
		if (!next_comp(&p, comp, sizeof(comp))) {
			out->is_qos = true;
			return;
		}
	}
	if (!cgfs_pod(comp, out->pod_uid, sizeof(out->pod_uid))) {
		/* not kubelet's: do not guess */
		out->cls = COLOD_CLASS_SYSTEM;
		return;
	}
	pod_found(qos, p, out);
}

/* Walk the rest of a systemd-driver path below "<prefix>kubepods.slice". */
static void layout_systemd(const char *p, const char *prefix,
			   struct classify_result *out)
{
	char comp[COMP_MAX], base[COMP_MAX], qos_slice[COMP_MAX];
	enum qos_level qos = QOS_GUARANTEED;
	static const char *const qos_names[] = { "burstable", "besteffort" };
	size_t i;

	if (!next_comp(&p, comp, sizeof(comp)))
		return;
	snprintf(base, sizeof(base), "%skubepods", prefix);
	for (i = 0; i < 2; i++) {
		snprintf(qos_slice, sizeof(qos_slice), "%skubepods-%s.slice",
			 prefix, qos_names[i]);
		if (strcmp(comp, qos_slice))
			continue;
		qos = i == 0 ? QOS_BURSTABLE : QOS_BESTEFFORT;
		snprintf(base, sizeof(base), "%skubepods-%s", prefix, qos_names[i]);
		out->cls = qos_class(qos);
		if (!next_comp(&p, comp, sizeof(comp))) {
			out->is_qos = true;
			return;
		}
		break;
	}
	if (!sd_pod(comp, base, out->pod_uid, sizeof(out->pod_uid))) {
		out->cls = COLOD_CLASS_SYSTEM;
		return;
	}
	pod_found(qos, p, out);
}

/*
 * Length of relpath's part that is kubelet_root ("/" or "" for the hierarchy
 * root, no trailing '/'), or -1 when relpath is not below it.
 */
static int below_root(const char *relpath, const char *kubelet_root)
{
	size_t n = strlen(kubelet_root);

	while (n && kubelet_root[n - 1] == '/')
		n--;
	if (strncmp(relpath, kubelet_root, n) ||
	    (relpath[n] != '/' && relpath[n] != '\0'))
		return -1;
	return (int)n;
}

/*
 * The systemd driver names kubepods after the root's slice: "kubepods.slice"
 * at the top, "kubelet-kubepods.slice" in "kubelet.slice". Returns the
 * prefix ("" or "kubelet-"), false when the root is not a slice.
 */
static bool slice_prefix(const char *kubelet_root, int n, char *prefix, size_t len)
{
	const char *base = kubelet_root + n;
	const size_t lsuf = strlen(".slice");
	size_t bl;

	while (base > kubelet_root && base[-1] != '/')
		base--;
	bl = (size_t)(kubelet_root + n - base);
	if (!bl) {
		prefix[0] = '\0';
		return true;
	}
	if (bl <= lsuf || bl + 1 - lsuf >= len || strncmp(base + bl - lsuf, ".slice", lsuf))
		return false;
	memcpy(prefix, base, bl - lsuf);
	prefix[bl - lsuf] = '-';
	prefix[bl - lsuf + 1] = '\0';
	return true;
}

/* The kubepods anchor is the component right below kubelet_root. */
static void classify_layout(const char *relpath, const char *kubelet_root,
			    struct classify_result *out)
{
	const char *root = kubelet_root ? kubelet_root : "";
	char comp[COMP_MAX], prefix[PREFIX_MAX], slice[COMP_MAX];
	int n = below_root(relpath, root);
	const char *p = relpath + (n < 0 ? 0 : n);

	if (n < 0 || !next_comp(&p, comp, sizeof(comp)))
		return;
	if (!strcmp(comp, "kubepods")) {
		layout_cgroupfs(p, out);
		return;
	}
	if (!slice_prefix(root, n, prefix, sizeof(prefix)))
		return;
	snprintf(slice, sizeof(slice), "%skubepods.slice", prefix);
	if (!strcmp(comp, slice))
		layout_systemd(p, prefix, out);
}

void classify_path(const char *relpath, const char *kubelet_root,
		   const struct classify_rule *rules, int nr_rules,
		   struct classify_result *out)
{
	int i;

	memset(out, 0, sizeof(*out));
	out->cls = COLOD_CLASS_SYSTEM;
	out->rule = -1;
	if (!relpath)
		return;
	/* pod and container facts are useful even when a rule sets the class */
	classify_layout(relpath, kubelet_root, out);
	for (i = 0; rules && i < nr_rules; i++) {
		if (fnmatch(rules[i].glob, relpath, 0) == 0) {
			out->cls = rules[i].cls;
			out->src = CLASS_SRC_RULE;
			out->rule = i;
			return;
		}
	}
}

/* ---- pod metadata (Koordinator's QoS and priority classes) ---- */

static const char *const koord_qos_names[] = {
	[KOORD_QOS_NONE] = "", [KOORD_QOS_LSE] = "LSE", [KOORD_QOS_LSR] = "LSR",
	[KOORD_QOS_LS] = "LS", [KOORD_QOS_BE] = "BE", [KOORD_QOS_SYSTEM] = "SYSTEM",
};

enum koord_qos koord_qos_parse(const char *s)
{
	int i;

	for (i = KOORD_QOS_LSE; s && i <= KOORD_QOS_SYSTEM; i++)
		if (!strcmp(s, koord_qos_names[i]))
			return i;
	return KOORD_QOS_NONE;
}

const char *koord_qos_name(enum koord_qos q)
{
	return (unsigned int)q <= KOORD_QOS_SYSTEM ? koord_qos_names[q] : "";
}

enum koord_priority koord_priority_of(const char *class_name, bool has_priority,
				      long long priority)
{
	static const struct {
		const char *name;
		long long lo, hi;
	} prio[] = {
		[KOORD_PRIO_PROD] = { "koord-prod", 9000, 9999 },
		[KOORD_PRIO_MID] = { "koord-mid", 7000, 7999 },
		[KOORD_PRIO_BATCH] = { "koord-batch", 5000, 5999 },
		[KOORD_PRIO_FREE] = { "koord-free", 3000, 3999 },
	};
	int i;

	for (i = KOORD_PRIO_PROD; class_name && i <= KOORD_PRIO_FREE; i++)
		if (!strcmp(class_name, prio[i].name))
			return i;
	/* Koordinator itself goes by the value the admission put in spec.priority */
	for (i = KOORD_PRIO_PROD; has_priority && i <= KOORD_PRIO_FREE; i++)
		if (priority >= prio[i].lo && priority <= prio[i].hi)
			return i;
	return KOORD_PRIO_NONE;
}

void classify_pod(const struct classify_pod_meta *m, struct classify_result *out)
{
	/* only kubelet's pods, and a rule is the operator's last word */
	if (!out->pod_uid[0] || out->rule >= 0)
		return;
	switch (m->qos) {
	case KOORD_QOS_LSE:
	case KOORD_QOS_LSR:
	case KOORD_QOS_LS:
		out->cls = COLOD_CLASS_LS;
		out->src = CLASS_SRC_LABEL;
		return;
	case KOORD_QOS_BE:
		out->cls = COLOD_CLASS_BE;
		out->src = CLASS_SRC_LABEL;
		return;
	case KOORD_QOS_SYSTEM:
		out->cls = COLOD_CLASS_SYSTEM;
		out->src = CLASS_SRC_LABEL;
		return;
	default:
		break;
	}
	/* koord-mid: reclaimed LS capacity the scheduler promised; its QoS decides */
	if (m->prio == KOORD_PRIO_PROD || m->prio == KOORD_PRIO_BATCH ||
	    m->prio == KOORD_PRIO_FREE) {
		out->cls = m->prio == KOORD_PRIO_PROD ? COLOD_CLASS_LS : COLOD_CLASS_BE;
		out->src = CLASS_SRC_PRIORITY;
	}
}

const char *class_source_name(int src)
{
	static const char *const names[CLASS_SRC_NR] = { "dir", "rule", "label", "prio" };

	return (unsigned int)src < CLASS_SRC_NR ? names[src] : "-";
}

/* indexed by enum colod_class; NULL ends it (config's enum table) */
const char *const class_names[COLOD_CLASS_NR + 1] = {
	[COLOD_CLASS_SYSTEM]	= "SYSTEM",
	[COLOD_CLASS_LS]	= "LS",
	[COLOD_CLASS_BE]	= "BE",
};
/* the same, as metrics labels and top show them */
static const char *const class_labels[COLOD_CLASS_NR] = {
	[COLOD_CLASS_SYSTEM]	= "system",
	[COLOD_CLASS_LS]	= "ls",
	[COLOD_CLASS_BE]	= "be",
};

const char *class_name(enum colod_class cls)
{
	return (unsigned int)cls < COLOD_CLASS_NR ? class_names[cls] : "UNKNOWN";
}

const char *class_label(int cls)
{
	return (unsigned int)cls < COLOD_CLASS_NR ? class_labels[cls] : "-";
}

int class_from_name(const char *name)
{
	int i;

	for (i = 0; name && i < COLOD_CLASS_NR; i++)
		if (!strcasecmp(name, class_names[i]))
			return i;
	return -1;
}
