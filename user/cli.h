/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The subcommands of the colod binary; each returns the process exit code. */
#ifndef COLOD_CLI_H
#define COLOD_CLI_H

#include <stddef.h>
#include <stdint.h>

int cmd_stats(int argc, char **argv);
int cmd_headroom(int argc, char **argv);
int cmd_top(int argc, char **argv);	/* top.c */

/*
 * Resolve a cgroup path (relative to hier_root, or under it) to its id and
 * its path relative to hier_root ("/a/b"); -ENOENT if no such cgroup.
 */
int cgroup_path_id(const char *hier_root, const char *path, uint64_t *id,
		   char *rel, size_t len);

#endif /* COLOD_CLI_H */
