/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Directory fds of the cgroups whose knobs are read back at every tick.
 *
 * Opening /sys/fs/cgroup/cpu/kubepods/besteffort/pod.../cpu.idle walks
 * every component of the path; with hundreds of BE pods that walk, and
 * the stat(2) of the directory that tells a cgroup made again under the
 * same name (journal.c), were most of a tick's cost. A knob is opened
 * relative to its cgroup's directory fd instead (one component), and the
 * directory's inode is the one taken when that fd was opened.
 *
 * Soundness: an fd of a removed cgroup's directory finds none of its files
 * (kernfs: ENOENT), so an open that fails that way drops the fd and tries
 * the full path, which finds the cgroup made again, if any, and caches its
 * directory. A directory not used between two knobdir_sweep() calls (its
 * cgroup gone or no longer managed) is closed then, so no fd keeps a
 * removed cgroup's directory for longer than one pass. The number of fds
 * is bounded (knobdir_new()); past it, knobs are opened by path as before.
 */
#ifndef COLOD_KNOBDIR_H
#define COLOD_KNOBDIR_H

#include <stdint.h>

struct knobdirs;

/* A cache of at most max directory fds (0: none, every open by path). */
struct knobdirs *knobdir_new(unsigned int max);
void knobdir_free(struct knobdirs *c);

/* open(2) of path (flags as open's), through its directory's cached fd. */
int knobdir_open(struct knobdirs *c, const char *path, int flags);

/*
 * The inode of the directory holding path, 0 if gone. A cached directory
 * is checked once between sweeps: its fd must still find path's file.
 */
uint64_t knobdir_ino(struct knobdirs *c, const char *path);

/* Close the directories not used since the previous sweep. */
void knobdir_sweep(struct knobdirs *c);

/* Directory fds held now. */
unsigned int knobdir_count(const struct knobdirs *c);

/*
 * How many directory fds this process can afford: a quarter of its open
 * files limit (RLIMIT_NOFILE), after raising the soft limit towards the
 * hard one (at most 65536), and at most 8192.
 */
unsigned int knobdir_budget(void);

#endif /* COLOD_KNOBDIR_H */
