/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The journal of original values: every file colod writes (cgroup knobs,
 * resctrl schemata, ...) has its original content recorded in a state file
 * before the first write, so that a clean stop or `colod restore` (after a
 * crash) puts every original back byte for byte.
 */
#ifndef COLOD_JOURNAL_H
#define COLOD_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JOURNAL_STATE_DIR_DEFAULT	"/var/lib/colod"
#define JOURNAL_FILE			"journal.json"
/*
 * The most a journal file may hold: far above what thousands of pods need
 * (an entry is some 150 bytes), so never reached on a real node; a journal
 * over it is refused by name, and a save that would pass it fails.
 */
#define JOURNAL_SIZE_MAX		(256 << 20)

struct journal;

/*
 * Open (or create) the journal under state_dir, loading what a previous
 * agent recorded: originals already held are kept, never overwritten by the
 * values this agent writes. Returns NULL with errno set on failure.
 */
struct journal *journal_open(const char *state_dir);
void journal_close(struct journal *j);

/*
 * Write value to path, journaling the file's current content first if this
 * is the first write to it. Skips the write when the content is already
 * value (trailing newline ignored). A path that vanished (ENOENT, ENODEV:
 * the cgroup was removed) returns -ENOENT without an error message; other
 * failures are reported with path, value and errno and return -errno.
 */
int journal_write(struct journal *j, const char *path, const char *value);

/*
 * Journal the originals of several files with one save, for an action about
 * to write the same knob of many cgroups (each first write would otherwise
 * save the journal, with its fsyncs, once per file). Files already held or
 * gone are skipped. The writes still go through journal_write().
 */
int journal_remember(struct journal *j, char *const *paths, int n);

/*
 * A file the kernel changes as a side effect of a knob colod writes
 * (cpu.idle resets cpu.shares / cpu.weight): with record, its original is
 * journaled before that write; held, it counts as written and wanted in
 * this pass, so it is restored (after the knob: restore runs backwards)
 * and released with it. Without record, only a file already held is
 * marked (the knob is already in place).
 */
int journal_hold(struct journal *j, const char *path, bool record);
/*
 * Read a knob as journal_write() reads it back (file_read_all(), opened
 * relative to its cgroup's cached directory fd). j may be NULL.
 */
int journal_read(struct journal *j, const char *path, size_t max, char **out);
/*
 * Whether journal_write(j, path, value) would find value in place without
 * a read: colod wrote it and nobody wrote the file since (knobwatch.h).
 */
bool journal_in_place(const struct journal *j, const char *path, const char *value);
/* Whether path is held (no file read: the caller can skip computing record). */
bool journal_holds(const struct journal *j, const char *path);

/*
 * BE's EEVDF slice ns (slice.h) on the tree of the cgroup at top, wanted in
 * this pass and journaled before the first thread gets it: a restore, or a
 * release by the sweep, gives every thread of the tree that still has it
 * the kernel's default back. With dir, the threads of the cgroup at dir
 * (in top's tree) get it now. Returns the number of threads changed,
 * -ENOENT when the cgroup is gone, or -errno.
 */
int journal_slice(struct journal *j, const char *top, const char *dir, uint64_t ns);

/* Record a directory colod created (a resctrl group), removed on restore. */
int journal_note_mkdir(struct journal *j, const char *path);

/*
 * Level-triggered ownership. After journal_begin_pass() the agent asks,
 * through journal_write(), for every knob it wants; journal_sweep() gives
 * every knob it wrote and did not ask for in this pass its original back
 * and forgets it (the
 * class changed, a feature was turned off), and prunes entries of vanished
 * cgroups. Returns 0 or the first -errno of a restore the kernel refused
 * (kept and retried at the next sweep).
 */
void journal_begin_pass(struct journal *j);
/*
 * Ask for a knob found in place without writing it (the caller read it):
 * if colod holds it, it stays held in this pass. No file is read.
 */
int journal_want(struct journal *j, const char *path);
int journal_sweep(struct journal *j);

/*
 * Per knob file name (i from 0 until -ENOENT): how often a value colod had
 * written was found changed by someone else (drift) and put back, and how
 * often a knob was released to its original by journal_sweep().
 */
int journal_knob_counts(const struct journal *j, int i, const char **name,
			uint64_t *drift, uint64_t *released);

/* Put every original back, remove created directories, empty the journal. */
int journal_restore_all(struct journal *j);

/* Number of files journaled. */
int journal_count(const struct journal *j);
/* Knobs journal_write() read back (the others were known in place). */
uint64_t journal_reads(const struct journal *j);

/* Additions (beside the contract above). */

/*
 * The original content journaled for path, or NULL if colod has not written
 * it. Lets a reader see past colod's own throttling (e.g. an LS limit).
 */
const char *journal_original(const struct journal *j, const char *path);

/*
 * Tests on plain files: take files on the filesystem of type f_type as a
 * cgroup hierarchy, so a missing one counts as gone with its cgroup.
 */
void journal_test_hierarchy_fs(long f_type);

/* `colod restore [--state-dir DIR]`: put every journaled original back. */
int cmd_restore(int argc, char **argv);

#endif /* COLOD_JOURNAL_H */
