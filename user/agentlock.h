/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * One agent per pin directory. Two agents on one host would each journal
 * the other's throttles as originals, and the one that stops first would
 * unpin the other's maps. The pin directory is the one thing every agent of
 * a host shares by construction (the host's bpffs; /run is private to a
 * container, the cgroup root may be mounted anywhere): with the default
 * --pin-dir there is one agent per host. Tests give each agent a pin
 * directory of its own, and so can run several.
 */
#ifndef COLOD_AGENTLOCK_H
#define COLOD_AGENTLOCK_H

/*
 * Create pin_dir if needed and flock() it for the life of the process.
 * Returns 0, or -EBUSY (logged: another agent holds it; nothing was
 * changed) or -errno.
 */
int agent_lock(const char *pin_dir);

#endif /* COLOD_AGENTLOCK_H */
