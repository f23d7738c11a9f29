// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Cgroup tracker: a full rescan each run rather than inotify, because
 * inotify needs one watch per directory, re-armed on every new pod and
 * container (and racing with their creation), while a walk of a thousand
 * directories costs about a millisecond: simpler and always right.
 *
 * Every directory is walked, SYSTEM subtrees included: rules may match
 * anywhere, so pruning would need to prove no rule can match below, which
 * is not worth its risk.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cgscan.h"
#include "log.h"

struct cgvec {
	struct cgscan_entry *v;
	int nr, cap;
};

struct cgscan {
	char *root;
	char kubelet_root[CLASSIFY_GLOB_MAX];
	struct classify_rule rules[CLASSIFY_MAX_RULES];
	int nr_rules;
	bool reclassify;
	struct cgvec known;	/* sorted by id */
	int *added, nr_added;	/* indices into known */
	int *changed, nr_changed;
	struct cgvec removed;	/* owned copies */
};

static int vec_push(struct cgvec *vec, uint64_t id, char *path, size_t foreign_at)
{
	if (vec->nr == vec->cap) {
		int cap = vec->cap ? vec->cap * 2 : 256;
		struct cgscan_entry *v = realloc(vec->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		vec->v = v;
		vec->cap = cap;
	}
	memset(&vec->v[vec->nr], 0, sizeof(vec->v[0]));
	vec->v[vec->nr].id = id;
	vec->v[vec->nr].path = path;
	vec->v[vec->nr].foreign_at = (uint16_t)foreign_at;
	vec->nr++;
	return 0;
}

static void vec_clear(struct cgvec *vec)
{
	int i;

	for (i = 0; i < vec->nr; i++)
		free(vec->v[i].path);
	vec->nr = 0;
}

static void vec_free(struct cgvec *vec)
{
	vec_clear(vec);
	free(vec->v);
	vec->v = NULL;
	vec->cap = 0;
}

struct cgscan *cgscan_new(const char *root, const struct classify_rule *rules,
			  int nr_rules)
{
	struct cgscan *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->root = strdup(root);
	strcpy(s->kubelet_root, CLASSIFY_KUBELET_ROOT_DEFAULT);
	if (!s->root || cgscan_set_rules(s, rules, nr_rules)) {
		int err = s->root ? EINVAL : ENOMEM;

		cgscan_free(s);
		errno = err;
		return NULL;
	}
	return s;
}

void cgscan_free(struct cgscan *s)
{
	if (!s)
		return;
	vec_free(&s->known);
	vec_free(&s->removed);
	free(s->added);
	free(s->changed);
	free(s->root);
	free(s);
}

int cgscan_set_rules(struct cgscan *s, const struct classify_rule *rules,
		     int nr_rules)
{
	if (nr_rules < 0 || nr_rules > CLASSIFY_MAX_RULES ||
	    (nr_rules && !rules))
		return -EINVAL;
	if (nr_rules)
		memcpy(s->rules, rules, nr_rules * sizeof(*rules));
	s->nr_rules = nr_rules;
	s->reclassify = true;
	return 0;
}

int cgscan_set_kubelet_root(struct cgscan *s, const char *kubelet_root)
{
	if (!kubelet_root || strlen(kubelet_root) >= sizeof(s->kubelet_root))
		return -EINVAL;
	if (strcmp(s->kubelet_root, kubelet_root)) {
		strcpy(s->kubelet_root, kubelet_root);
		s->reclassify = true;
	}
	return 0;
}

#define DENTS_BUF	16384

struct walk {
	struct cgvec found;
	char path[PATH_MAX];
	dev_t dev;
	char *bufs[CGSCAN_MAX_DEPTH];	/* getdents64 buffer per level */
};

/*
 * Record the directory open at fd (path in w->path) and walk its children.
 * getdents64 rather than fdopendir/readdir: 5 syscalls a cgroup instead
 * of 8, which matters on a busy node with thousands of cgroups. foreign_at
 * is the length of the path of the first directory on the way that root
 * does not own (0: none yet).
 */
static int walk_dir(struct walk *w, int fd, size_t len, size_t foreign_at, int depth)
{
	struct stat st;
	char *path, *buf;
	ssize_t n, off;
	int err = 0;

	if (fstat(fd, &st)) {
		err = errno == ENOENT ? 0 : -errno;
		goto out;
	}
	if (depth == 0)
		w->dev = st.st_dev;
	else if (st.st_dev != w->dev)	/* another mount: not this hierarchy */
		goto out;
	if (st.st_uid != 0 && !foreign_at)
		foreign_at = len;
	path = strdup(len ? w->path : "/");
	if (!path || vec_push(&w->found, st.st_ino, path, foreign_at)) {
		free(path);
		err = -ENOMEM;
		goto out;
	}
	if (depth >= CGSCAN_MAX_DEPTH)
		goto out;
	if (!w->bufs[depth] && !(w->bufs[depth] = malloc(DENTS_BUF))) {
		err = -ENOMEM;
		goto out;
	}
	buf = w->bufs[depth];
	while (!err && (n = getdents64(fd, buf, DENTS_BUF)) > 0) {
		for (off = 0; !err && off < n; ) {
			struct dirent64 *de = (struct dirent64 *)(buf + off);
			size_t nlen = strlen(de->d_name);
			int cfd;

			off += de->d_reclen;
			if (de->d_name[0] == '.' && (!de->d_name[1] ||
			    (de->d_name[1] == '.' && !de->d_name[2])))
				continue;
			if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
				continue;	/* cgroup files: no syscall */
			if (len + 1 + nlen >= sizeof(w->path))
				continue;
			cfd = openat(fd, de->d_name, O_RDONLY | O_DIRECTORY |
				     O_NOFOLLOW | O_CLOEXEC);
			if (cfd < 0) {
				/* vanished, or not a directory after all */
				if (errno == EMFILE || errno == ENFILE ||
				    errno == ENOMEM)
					err = -errno;
				continue;
			}
			w->path[len] = '/';
			memcpy(w->path + len + 1, de->d_name, nlen + 1);
			err = walk_dir(w, cfd, len + 1 + nlen, foreign_at, depth + 1);
			w->path[len] = '\0';
		}
	}
	/* a directory removed while listed reads as empty: not an error */
out:
	close(fd);
	return err;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct cgscan_entry *x = a, *y = b;

	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return strcmp(x->path, y->path);
}

/*
 * A delegated subtree is SYSTEM unless its top is a kubelet container's
 * cgroup: the path down to it (root's) must classify as a container.
 */
static void classify_entry(struct cgscan *s, struct cgscan_entry *e)
{
	char top[PATH_MAX];
	struct classify_result r;

	classify_path(e->path, s->kubelet_root, s->rules, s->nr_rules, &e->cls);
	if (!e->foreign_at)
		return;
	snprintf(top, sizeof(top), "%.*s", (int)e->foreign_at, e->path);
	classify_path(top, s->kubelet_root, NULL, 0, &r);
	if (!r.is_container || e->cls.rule >= 0) {
		memset(&e->cls, 0, sizeof(e->cls));
		e->cls.cls = COLOD_CLASS_SYSTEM;
		e->cls.rule = -1;
	}
}

/* Move an old entry (path ownership included) into the removed list. */
static void note_removed(struct cgscan *s, struct cgscan_entry *old)
{
	s->removed.v[s->removed.nr++] = *old;
	old->path = NULL;
}

/*
 * Merge the sorted new walk with the known set. Entries found again keep
 * their classification (unless the rules changed); only new ones are
 * classified, which keeps a steady-state run free of fnmatch calls.
 */
static int merge(struct cgscan *s, struct cgvec *found)
{
	struct cgvec *old = &s->known;
	int i = 0, k;
	int *added = malloc((found->nr + 1) * sizeof(int));
	int *changed = malloc((found->nr + 1) * sizeof(int));

	if (!added || !changed) {
		free(added);
		free(changed);
		return -ENOMEM;
	}
	vec_clear(&s->removed);
	/* room for every old entry, so that note_removed() cannot fail */
	if (s->removed.cap < old->nr) {
		struct cgscan_entry *v = realloc(s->removed.v,
						 old->nr * sizeof(*v));

		if (!v) {
			free(added);
			free(changed);
			return -ENOMEM;
		}
		s->removed.v = v;
		s->removed.cap = old->nr;
	}
	s->nr_added = s->nr_changed = 0;
	for (k = 0; k < found->nr; k++) {
		struct cgscan_entry *e = &found->v[k];

		while (i < old->nr && old->v[i].id < e->id)
			note_removed(s, &old->v[i++]);
		if (i < old->nr && old->v[i].id == e->id &&
		    !strcmp(old->v[i].path, e->path)) {
			struct classify_result prev = old->v[i].cls;

			e->cls = prev;
			/* chowned since (delegated after mkdir): classify again */
			if (s->reclassify || e->foreign_at != old->v[i].foreign_at) {
				classify_entry(s, e);
				if (e->cls.cls != prev.cls || e->cls.rule != prev.rule)
					changed[s->nr_changed++] = k;
			}
			i++;
			continue;
		}
		if (i < old->nr && old->v[i].id == e->id)
			note_removed(s, &old->v[i++]);	/* same inode, new cgroup */
		classify_entry(s, e);
		added[s->nr_added++] = k;
	}
	while (i < old->nr)
		note_removed(s, &old->v[i++]);
	free(s->added);
	free(s->changed);
	s->added = added;
	s->changed = changed;
	vec_free(old);
	*old = *found;
	memset(found, 0, sizeof(*found));
	s->reclassify = false;
	return 0;
}

int cgscan_run(struct cgscan *s)
{
	struct walk *w = calloc(1, sizeof(*w));
	int fd, err, i;

	if (!w)
		return -ENOMEM;
	fd = open(s->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		pr_err("cgscan: cannot open %s: %s", s->root, strerror(errno));
		goto out;
	}
	err = walk_dir(w, fd, 0, 0, 0);
	if (err) {
		pr_err("cgscan: walking %s: %s", s->root, strerror(-err));
		goto out;
	}
	qsort(w->found.v, w->found.nr, sizeof(w->found.v[0]), cmp_entry);
	err = merge(s, &w->found);
	if (!err)
		err = s->known.nr;
out:
	for (i = 0; i < CGSCAN_MAX_DEPTH; i++)
		free(w->bufs[i]);
	vec_free(&w->found);
	free(w);
	return err;
}

int cgscan_count(const struct cgscan *s)
{
	return s->known.nr;
}

const struct cgscan_entry *cgscan_entry(const struct cgscan *s, int i)
{
	return i >= 0 && i < s->known.nr ? &s->known.v[i] : NULL;
}

const struct cgscan_entry *cgscan_find(const struct cgscan *s, uint64_t id)
{
	int lo = 0, hi = s->known.nr - 1;

	while (lo <= hi) {
		int mid = lo + (hi - lo) / 2;
		uint64_t v = s->known.v[mid].id;

		if (v == id)
			return &s->known.v[mid];
		if (v < id)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return NULL;
}

int cgscan_nr_added(const struct cgscan *s)
{
	return s->nr_added;
}

const struct cgscan_entry *cgscan_added(const struct cgscan *s, int i)
{
	return i >= 0 && i < s->nr_added ? &s->known.v[s->added[i]] : NULL;
}

int cgscan_nr_removed(const struct cgscan *s)
{
	return s->removed.nr;
}

const struct cgscan_entry *cgscan_removed(const struct cgscan *s, int i)
{
	return i >= 0 && i < s->removed.nr ? &s->removed.v[i] : NULL;
}

int cgscan_nr_changed(const struct cgscan *s)
{
	return s->nr_changed;
}

const struct cgscan_entry *cgscan_changed(const struct cgscan *s, int i)
{
	return i >= 0 && i < s->nr_changed ? &s->known.v[s->changed[i]] : NULL;
}
