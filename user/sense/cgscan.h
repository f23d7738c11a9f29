/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A tracker of the cgroups of one hierarchy: each cgscan_run() walks the
 * tree under root (readdir + fstat only, no file is read), classifies the
 * cgroups it has not seen before and reports what was added, removed or
 * reclassified since the previous run. Cheap enough for the agent's 1 s
 * tick on a node with thousands of cgroups.
 *
 * A cgroup is identified by its inode number, which is its cgroup id (the
 * key of the BPF maps), and its path relative to root ("/" for the root,
 * "/kubepods/besteffort/pod<uid>" ...). Same inode under a new path counts
 * as a removal plus an addition, so an inode reused by an unrelated cgroup
 * (or a temp dir in tests) is never mistaken for the old one.
 *
 * A subtree whose directory a user other than root owns (systemd and
 * runc delegate by chown) is SYSTEM whatever its path: that user could
 * otherwise lay out kubelet's names or a rule's and make LS or BE cgroups.
 * Only a container's own cgroup may be delegated (runc chowns it for a
 * pod with a user namespace): it and its subtree keep the pod's class.
 */
#ifndef COLOD_CGSCAN_H
#define COLOD_CGSCAN_H

#include <stdint.h>
#include "classify.h"

#define CGSCAN_MAX_DEPTH	32	/* kubelet needs 4; deeper is not walked */

struct cgscan_entry {
	uint64_t id;			/* inode = cgroup id */
	char *path;			/* relative to root, starts with '/' */
	/*
	 * Length of the path of the first directory on the way to this one
	 * that a user other than root owns (a delegated subtree's top), 0
	 * when root owns them all.
	 */
	uint16_t foreign_at;
	struct classify_result cls;
};

struct cgscan;

/*
 * A tracker of the hierarchy mounted (or laid out) at root. The rules are
 * copied. Returns NULL with errno set on failure; the root need not exist
 * yet (cgscan_run then fails).
 */
struct cgscan *cgscan_new(const char *root, const struct classify_rule *rules,
			  int nr_rules);
void cgscan_free(struct cgscan *s);

/*
 * Replace the rules (config reload): every known cgroup is classified
 * again at the next cgscan_run() and those whose class changed are
 * reported as changed.
 */
int cgscan_set_rules(struct cgscan *s, const struct classify_rule *rules,
		     int nr_rules);

/*
 * Anchor kubelet's layout at this cgroup (config kubeletCgroupRoot; "/"
 * until set): every known cgroup is classified again at the next run.
 */
int cgscan_set_kubelet_root(struct cgscan *s, const char *kubelet_root);

/*
 * Walk the tree. Returns the number of cgroups now known, or -errno when
 * the root cannot be opened (then the previous state is kept). Cgroups
 * that vanish while being walked are skipped, not errors.
 */
int cgscan_run(struct cgscan *s);

/* Every cgroup known after the last run, sorted by id. */
int cgscan_count(const struct cgscan *s);
const struct cgscan_entry *cgscan_entry(const struct cgscan *s, int i);
/* The cgroup with this id, NULL if unknown. */
const struct cgscan_entry *cgscan_find(const struct cgscan *s, uint64_t id);

/*
 * What the last run found; valid until the next run. Added and changed
 * point into the known set; removed entries are copies kept until then.
 * On the first run every cgroup is added.
 */
int cgscan_nr_added(const struct cgscan *s);
const struct cgscan_entry *cgscan_added(const struct cgscan *s, int i);
int cgscan_nr_removed(const struct cgscan *s);
const struct cgscan_entry *cgscan_removed(const struct cgscan *s, int i);
/* Known before, class (or rule) different now: after cgscan_set_rules(). */
int cgscan_nr_changed(const struct cgscan *s);
const struct cgscan_entry *cgscan_changed(const struct cgscan *s, int i);

#endif /* COLOD_CGSCAN_H */
