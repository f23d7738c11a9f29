/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef COLOD_KNOBWATCH_H
#define COLOD_KNOBWATCH_H

#include <stdbool.h>

/*
 * Which knob files someone wrote since the last look (inotify). A write(2)
 * to a cgroupfs file raises IN_MODIFY as any file's does, so a knob colod
 * holds needs no read-back at each tick while nobody wrote it.
 */
struct knobwatch;

enum knobwatch_state {
	KW_QUIET,	/* no event since the last drain */
	KW_WRITTEN,	/* written (or changed) since */
	KW_GONE,	/* the watch is gone with its file: add it again */
};

/* NULL when inotify cannot be had: then every knob is read each tick. */
struct knobwatch *knobwatch_new(void);
void knobwatch_free(struct knobwatch *w);
/*
 * Watch path; its watch descriptor, or -errno (ENOSPC: colod's share of
 * fs.inotify.max_user_watches, an eighth, is taken).
 */
int knobwatch_add(struct knobwatch *w, const char *path);
void knobwatch_rm(struct knobwatch *w, int wd);
/*
 * Take in what arrived since the last drain: the number of watches with
 * events, or -1 when events were lost (queue overflow) and every watch
 * must be taken as written.
 */
int knobwatch_drain(struct knobwatch *w);
enum knobwatch_state knobwatch_state(const struct knobwatch *w, int wd);

#endif /* COLOD_KNOBWATCH_H */
