/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Watch a configuration path with inotify and say when to reload it.
 *
 * The agent puts config_watch.fd in its epoll set (EPOLLIN); on readiness
 * it calls config_watch_drain() and, when that returns 1, config_load()
 * into the configuration in force (which config_load leaves untouched when
 * the new content is invalid, so the last good one stays).
 *
 * Handled: the kubelet ConfigMap update (a new "..<timestamp>" directory,
 * "..data_tmp" renamed over "..data": one IN_MOVED_TO of "..data"), files
 * written in place (IN_CLOSE_WRITE), atomic replace by rename (IN_MOVED_TO),
 * removal. Not handled: a watched directory that is itself removed (the
 * mount point of a ConfigMap never is), nor a subPath mount (kubelet never
 * updates those).
 */
#ifndef COLOD_CONFIG_WATCH_H
#define COLOD_CONFIG_WATCH_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

struct config_watch {
	int fd;				/* inotify, non-blocking; -1 when closed */
	int wd;				/* watch on dir; -1 once the dir is gone */
	bool single_file;		/* PATH is one JSON file inside dir */
	char dir[PATH_MAX];		/* the watched directory */
	char name[NAME_MAX + 1];	/* single_file: the file's name in dir */
};

/* Start watching PATH (a ConfigMap directory or a JSON file). 0 or -errno. */
int config_watch_open(struct config_watch *w, const char *path);

/*
 * Read every pending event without blocking. 1 if the configuration may
 * have changed and should be reloaded, 0 if not, -errno on a read error.
 */
int config_watch_drain(struct config_watch *w);

/* Pure: does one event (its mask and name, "" for none) call for a reload? */
bool config_watch_event_wants_reload(const struct config_watch *w, uint32_t mask,
				     const char *name);

void config_watch_close(struct config_watch *w);

#endif /* COLOD_CONFIG_WATCH_H */
