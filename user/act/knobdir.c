// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include "knobdir.h"

struct dirent_fd {
	char *dir;
	int fd;			/* O_PATH: no read access, only a base for openat */
	uint64_t ino;
	bool used;		/* since the last sweep */
	bool checked;		/* a file found through fd since the last sweep */
};

struct knobdirs {
	struct dirent_fd *v;
	unsigned int nr, max;
	int *slot;		/* open addressing over v by dir, -1 free */
	unsigned int nr_slots;	/* a power of two, at least 2 * max */
};

static unsigned int dir_hash(const char *s, size_t len)
{
	unsigned int h = 2166136261u;	/* FNV-1a */

	while (len--)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

struct knobdirs *knobdir_new(unsigned int max)
{
	struct knobdirs *c = calloc(1, sizeof(*c));
	unsigned int i;

	if (!c)
		return NULL;
	c->max = max;
	if (!max)
		return c;
	c->nr_slots = 16;
	while (c->nr_slots < 2 * max)
		c->nr_slots *= 2;
	c->v = calloc(max, sizeof(*c->v));
	c->slot = malloc(c->nr_slots * sizeof(*c->slot));
	if (!c->v || !c->slot) {
		knobdir_free(c);
		return NULL;
	}
	for (i = 0; i < c->nr_slots; i++)
		c->slot[i] = -1;
	return c;
}

void knobdir_free(struct knobdirs *c)
{
	unsigned int i;

	if (!c)
		return;
	for (i = 0; i < c->nr; i++) {
		close(c->v[i].fd);
		free(c->v[i].dir);
	}
	free(c->v);
	free(c->slot);
	free(c);
}

unsigned int knobdir_count(const struct knobdirs *c)
{
	return c ? c->nr : 0;
}

/* Slot of dir[0..len) in the index: its entry's, or the free one to use. */
static unsigned int find_slot(const struct knobdirs *c, const char *dir, size_t len)
{
	unsigned int m = c->nr_slots - 1, h = dir_hash(dir, len) & m;
	int i;

	while ((i = c->slot[h]) >= 0) {
		if (!strncmp(c->v[i].dir, dir, len) && !c->v[i].dir[len])
			break;
		h = (h + 1) & m;
	}
	return h;
}

static void reindex(struct knobdirs *c)
{
	unsigned int i;

	for (i = 0; i < c->nr_slots; i++)
		c->slot[i] = -1;
	for (i = 0; i < c->nr; i++)
		c->slot[find_slot(c, c->v[i].dir, strlen(c->v[i].dir))] = (int)i;
}

static void drop(struct knobdirs *c, unsigned int i)
{
	close(c->v[i].fd);
	free(c->v[i].dir);
	c->v[i] = c->v[--c->nr];
	reindex(c);
}

/* The cached entry of path's directory, opened now if there is room; -1. */
static int lookup(struct knobdirs *c, const char *path, size_t dlen)
{
	struct dirent_fd *d;
	unsigned int h;
	struct stat st;
	int fd;

	if (!c || !c->max || !dlen)
		return -1;
	h = find_slot(c, path, dlen);
	if (c->slot[h] >= 0) {
		c->v[c->slot[h]].used = true;
		return c->slot[h];
	}
	if (c->nr == c->max)
		return -1;
	d = &c->v[c->nr];
	d->dir = strndup(path, dlen);
	if (!d->dir)
		return -1;
	fd = open(d->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		if (fd >= 0)
			close(fd);
		free(d->dir);
		return -1;
	}
	d->fd = fd;
	d->ino = (uint64_t)st.st_ino;
	d->used = true;
	c->slot[h] = (int)c->nr;
	return (int)c->nr++;
}

static size_t dir_len(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash && slash != path ? (size_t)(slash - path) : 0;
}

int knobdir_open(struct knobdirs *c, const char *path, int flags)
{
	size_t dlen = dir_len(path);
	int i = lookup(c, path, dlen), fd;

	if (i < 0)
		return open(path, flags);
	fd = openat(c->v[i].fd, path + dlen + 1, flags);
	if (fd >= 0)
		c->v[i].checked = true;
	if (fd >= 0 || (errno != ENOENT && errno != ENODEV))
		return fd;
	/* the cgroup went, and maybe came back: its new directory, if any */
	drop(c, (unsigned int)i);
	i = lookup(c, path, dlen);
	if (i < 0)
		return open(path, flags);
	return openat(c->v[i].fd, path + dlen + 1, flags);
}

uint64_t knobdir_ino(struct knobdirs *c, const char *path)
{
	size_t dlen = dir_len(path);
	char dir[PATH_MAX];
	struct stat st;
	int i;

	if (!dlen || dlen >= sizeof(dir))
		return 0;
	i = lookup(c, path, dlen);
	/*
	 * A removed directory's fd finds no file: its cgroup went. Once a
	 * pass: within one, a cgroup removed and made again between a knob's
	 * read and this check goes unseen, as it did between a read and a
	 * stat() of the path.
	 */
	if (i >= 0 && !c->v[i].checked) {
		if (!faccessat(c->v[i].fd, path + dlen + 1, F_OK, 0)) {
			c->v[i].checked = true;
		} else if (errno == ENOENT || errno == ENODEV) {
			drop(c, (unsigned int)i);
			i = lookup(c, path, dlen);
		}
	}
	if (i >= 0)
		return c->v[i].ino;
	memcpy(dir, path, dlen);
	dir[dlen] = '\0';
	return stat(dir, &st) ? 0 : (uint64_t)st.st_ino;
}

void knobdir_sweep(struct knobdirs *c)
{
	unsigned int i, n = 0;

	if (!c)
		return;
	for (i = 0; i < c->nr; i++) {
		if (!c->v[i].used) {
			close(c->v[i].fd);
			free(c->v[i].dir);
			continue;
		}
		c->v[i].used = false;
		c->v[i].checked = false;
		c->v[n++] = c->v[i];
	}
	if (n != c->nr) {
		c->nr = n;
		reindex(c);
	}
}

unsigned int knobdir_budget(void)
{
	struct rlimit rl;
	rlim_t want;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return 0;
	want = rl.rlim_max < 65536 ? rl.rlim_max : 65536;
	if (rl.rlim_cur < want) {
		/* epoll everywhere: nothing here needs fds below FD_SETSIZE */
		rl.rlim_cur = want;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	return rl.rlim_cur / 4 < 8192 ? (unsigned int)(rl.rlim_cur / 4) : 8192;
}
