// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include "fileio.h"
#include "inotify_drain.h"
#include "knobwatch.h"

/*
 * IN_MODIFY for write(2) and truncate; the others for plain files that a
 * test replaces or removes (cgroupfs files go only with their directory,
 * which the journal checks once a pass).
 */
#define KW_MASK	(IN_MODIFY | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF)

struct kw_event {
	int wd;
	bool gone;
};

struct knobwatch {
	int fd;
	struct kw_event *ev;	/* since the last drain, sorted by wd, one per wd */
	unsigned int nr, cap;
	unsigned int nr_watches, max_watches;
};

/*
 * Watches count against fs.inotify.max_user_watches of root, which
 * kubelet, cAdvisor and the container runtime share (8,192 by default
 * before 5.11): colod takes at most an eighth of it, and reads the rest
 * of its knobs back at every tick.
 */
static unsigned int watch_budget(void)
{
	uint64_t max = file_read_u64("/proc/sys/fs/inotify/max_user_watches", 8192) / 8;

	return max > 1u << 20 ? 1u << 20 : (unsigned int)max;
}

struct knobwatch *knobwatch_new(void)
{
	struct knobwatch *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd < 0) {
		free(w);
		return NULL;
	}
	w->max_watches = watch_budget();
	return w;
}

void knobwatch_free(struct knobwatch *w)
{
	if (!w)
		return;
	close(w->fd);
	free(w->ev);
	free(w);
}

int knobwatch_add(struct knobwatch *w, const char *path)
{
	int wd;

	if (!w)
		return -ENOSYS;
	if (w->nr_watches >= w->max_watches)
		return -ENOSPC;
	wd = inotify_add_watch(w->fd, path, KW_MASK);
	if (wd < 0)
		return -errno;
	w->nr_watches++;
	return wd;
}

void knobwatch_rm(struct knobwatch *w, int wd)
{
	if (w && wd >= 0)
		inotify_rm_watch(w->fd, wd);
}

static int push(struct knobwatch *w, int wd, bool gone)
{
	struct kw_event *v;

	if (w->nr == w->cap) {
		unsigned int cap = w->cap ? w->cap * 2 : 64;

		v = realloc(w->ev, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		w->ev = v;
		w->cap = cap;
	}
	w->ev[w->nr++] = (struct kw_event) { .wd = wd, .gone = gone };
	return 0;
}

static int by_wd(const void *a, const void *b)
{
	const struct kw_event *x = a, *y = b;

	return (x->wd > y->wd) - (x->wd < y->wd);
}

/* Sort by wd and fold the events of one watch into one. */
static void fold(struct knobwatch *w)
{
	unsigned int i, n = 0;

	if (!w->nr)
		return;
	qsort(w->ev, w->nr, sizeof(*w->ev), by_wd);
	for (i = 0; i < w->nr; i++) {
		if (n && w->ev[n - 1].wd == w->ev[i].wd)
			w->ev[n - 1].gone |= w->ev[i].gone;
		else
			w->ev[n++] = w->ev[i];
	}
	w->nr = n;
}

struct drain {
	struct knobwatch *w;
	bool lost;
};

static void on_event(const struct inotify_event *e, void *ctx)
{
	struct drain *d = ctx;
	struct knobwatch *w = d->w;

	/* every watch ends with one IN_IGNORED, removed by us or not */
	if (e->mask & IN_IGNORED && w->nr_watches)
		w->nr_watches--;
	if (e->mask & IN_Q_OVERFLOW || push(w, e->wd, e->mask & IN_IGNORED))
		d->lost = true;
}

int knobwatch_drain(struct knobwatch *w)
{
	struct drain d = { .w = w };

	if (!w)
		return -1;
	w->nr = 0;
	if (inotify_drain(w->fd, on_event, &d))
		d.lost = true;
	fold(w);
	return d.lost ? -1 : (int)w->nr;
}

enum knobwatch_state knobwatch_state(const struct knobwatch *w, int wd)
{
	struct kw_event key = { .wd = wd }, *e;

	if (!w || !w->nr)
		return KW_QUIET;
	e = bsearch(&key, w->ev, w->nr, sizeof(*w->ev), by_wd);
	if (!e)
		return KW_QUIET;
	return e->gone ? KW_GONE : KW_WRITTEN;
}
