/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef COLOD_INOTIFY_DRAIN_H
#define COLOD_INOTIFY_DRAIN_H

#include <sys/inotify.h>

/*
 * Read every event queued on the non-blocking inotify fd and pass each to
 * fn. 0 once the queue is empty, or the -errno of a failed read.
 */
int inotify_drain(int fd, void (*fn)(const struct inotify_event *e, void *ctx),
		  void *ctx);

#endif /* COLOD_INOTIFY_DRAIN_H */
