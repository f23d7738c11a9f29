// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* inotify watch of the configuration directory; see config_watch.h. */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>
#include "config_watch.h"
#include "inotify_drain.h"
#include "log.h"

/*
 * No IN_CREATE for plain names: a file being written is created empty and
 * would load as "all defaults" for a moment; its IN_CLOSE_WRITE follows.
 * IN_MODIFY likewise waits for the close.
 */
#define WATCH_MASK	(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | \
			 IN_CREATE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)

int config_watch_open(struct config_watch *w, const char *path)
{
	char copy[PATH_MAX];
	struct stat st;
	int err;

	memset(w, 0, sizeof(*w));
	w->fd = -1;
	w->wd = -1;
	if (stat(path, &st) < 0)
		return -errno;
	if (strlen(path) >= sizeof(copy))
		return -ENAMETOOLONG;
	if (S_ISDIR(st.st_mode)) {
		snprintf(w->dir, sizeof(w->dir), "%s", path);
	} else {
		w->single_file = true;
		snprintf(copy, sizeof(copy), "%s", path);
		snprintf(w->name, sizeof(w->name), "%s", basename(copy));
		snprintf(copy, sizeof(copy), "%s", path);
		snprintf(w->dir, sizeof(w->dir), "%s", dirname(copy));
	}
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd < 0)
		return -errno;
	w->wd = inotify_add_watch(w->fd, w->dir, WATCH_MASK);
	if (w->wd < 0) {
		err = -errno;
		close(w->fd);
		w->fd = -1;
		return err;
	}
	return 0;
}

bool config_watch_event_wants_reload(const struct config_watch *w, uint32_t mask,
				     const char *name)
{
	if (mask & (IN_Q_OVERFLOW | IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED))
		return true;	/* events lost or the directory went: read it again */
	if (!name || !*name)
		return false;
	/* kubelet's swap: "..data_tmp" renamed over "..data" */
	if (!strcmp(name, "..data"))
		return mask & (IN_MOVED_TO | IN_CREATE);
	if (w->single_file)
		return !strcmp(name, w->name) &&
		       (mask & (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE));
	/* "..<timestamp>", "..data_tmp", editors' ".swp": not keys */
	if (name[0] == '.')
		return false;
	return mask & (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE);
}

struct drain {
	struct config_watch *w;
	bool reload;
};

static void on_event(const struct inotify_event *ev, void *ctx)
{
	struct drain *d = ctx;
	struct config_watch *w = d->w;

	if (config_watch_event_wants_reload(w, ev->mask, ev->len ? ev->name : ""))
		d->reload = true;
	if (ev->mask & IN_IGNORED && ev->wd == w->wd) {
		pr_warn("config: %s is gone; no longer watched", w->dir);
		w->wd = -1;
	}
}

int config_watch_drain(struct config_watch *w)
{
	struct drain d = { .w = w };
	int err = inotify_drain(w->fd, on_event, &d);

	return err ?: d.reload;
}

void config_watch_close(struct config_watch *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	w->wd = -1;
}
