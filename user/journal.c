// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The journal of original values (see journal.h and docs/ENFORCEMENT.md).
 *
 * State file: <state_dir>/journal.json, replaced atomically (temp file,
 * fsync, rename, fsync of the directory) every time an entry is added, and
 * always before the write it protects. Entries are kept in first-write
 * order; restore walks them backwards, so a knob written after another is
 * restored before it, and retries what the kernel refused (EINVAL, EBUSY:
 * hierarchy ordering constraints such as a child's quota above its
 * parent's, or a child's cpuset outside its parent's) until no progress.
 *
 * The state directory is locked (a POSIX record lock on
 * <state_dir>/journal.lock) for the journal's lifetime, so `colod restore`
 * cannot race a running agent. A SIGKILLed agent's lock goes with it.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "fileio.h"
#include "journal.h"
#include "log.h"

#define JOURNAL_VERSION		1
#define JOURNAL_LOCK		"journal.lock"
#define READ_MAX		(1 << 20)
#define RESTORE_PASSES		8

enum entry_op { OP_WRITE, OP_MKDIR };

struct entry {
	enum entry_op op;
	char *path;
	char *orig;		/* OP_WRITE: the content before colod's first write */
	char *last;		/* what this run last wrote; NULL: nothing yet */
	bool written;		/* colod's value may be in place (this run or a previous one) */
	uint64_t wanted;	/* the pass that last asked for it */
};

/* Per knob file name (cpu.idle, cpu.cfs_quota_us, ...): drift and releases. */
#define KNOB_NAMES_MAX	24
struct knob_count {
	char name[32];
	uint64_t drift, released;
};

struct journal {
	char *dir;
	char *file;		/* <dir>/journal.json */
	int lock_fd;
	bool locked;		/* this journal holds the state dir's lock */
	struct entry *ents;
	int nr, cap;
	struct knob_count knobs[KNOB_NAMES_MAX];
	int nr_knobs;
	uint64_t pass;		/* journal_begin_pass() calls */
};

/* ---- file helpers --------------------------------------------------- */

static bool vanished(int err)
{
	/* ENODEV: the file was open while its cgroup was removed. */
	return err == ENOENT || err == ENODEV;
}

/*
 * One write(2) of the whole value: cgroupfs parses each write on its own,
 * so a split write would apply a truncated value.
 */
static int write_once(const char *path, const char *value)
{
	size_t len = strlen(value);
	ssize_t n;
	int fd, err = 0;

	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, value, len);
	if (n < 0)
		err = -errno;
	else if ((size_t)n != len)
		err = -EIO;
	if (close(fd) && !err)
		err = -errno;
	return err;
}

/* Equal up to trailing newlines: "max\n" is in place when "max" is asked. */
static bool same_value(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	while (la && a[la - 1] == '\n')
		la--;
	while (lb && b[lb - 1] == '\n')
		lb--;
	return la == lb && !memcmp(a, b, la);
}

/* ---- persistence ---------------------------------------------------- */

static cJSON *to_json(const struct journal *j)
{
	cJSON *root, *arr, *e;
	int i;

	root = cJSON_CreateObject();
	if (!root)
		return NULL;
	if (!cJSON_AddNumberToObject(root, "version", JOURNAL_VERSION))
		goto fail;
	arr = cJSON_AddArrayToObject(root, "entries");
	if (!arr)
		goto fail;
	for (i = 0; i < j->nr; i++) {
		e = cJSON_CreateObject();
		if (!e)
			goto fail;
		cJSON_AddItemToArray(arr, e);
		if (!cJSON_AddStringToObject(e, "op",
				j->ents[i].op == OP_WRITE ? "write" : "mkdir"))
			goto fail;
		if (!cJSON_AddStringToObject(e, "path", j->ents[i].path))
			goto fail;
		if (j->ents[i].op == OP_WRITE &&
		    !cJSON_AddStringToObject(e, "original", j->ents[i].orig))
			goto fail;
	}
	return root;
fail:
	cJSON_Delete(root);
	return NULL;
}

/* Temp file, fsync, rename, fsync of the directory: all or nothing. */
static int journal_save(struct journal *j)
{
	char *text = NULL, *nt;
	cJSON *root;
	size_t len;
	int err;

	root = to_json(j);
	if (root)
		text = cJSON_Print(root);
	cJSON_Delete(root);
	if (!text)
		return -ENOMEM;
	len = strlen(text);
	nt = realloc(text, len + 2);
	if (!nt) {
		err = -ENOMEM;
		goto out;
	}
	text = nt;
	memcpy(text + len, "\n", 2);
	err = file_write_atomic(j->file, text, len + 1, 0600);
out:
	if (err)
		pr_err("%s: cannot save journal: %s", j->file, strerror(-err));
	free(text);
	return err;
}

static int add_entry(struct journal *j, enum entry_op op, const char *path,
		     const char *orig)
{
	struct entry *ne, *e;

	if (j->nr == j->cap) {
		int cap = j->cap ? j->cap * 2 : 16;

		ne = realloc(j->ents, cap * sizeof(*ne));
		if (!ne)
			return -ENOMEM;
		j->ents = ne;
		j->cap = cap;
	}
	e = &j->ents[j->nr];
	e->op = op;
	e->path = strdup(path);
	e->orig = orig ? strdup(orig) : NULL;
	e->last = NULL;
	/* loaded from a previous run: its value may still be in place */
	e->written = true;
	e->wanted = 0;
	if (!e->path || (orig && !e->orig)) {
		free(e->path);
		free(e->orig);
		return -ENOMEM;
	}
	j->nr++;
	return 0;
}

static void drop_entry(struct journal *j, int i)
{
	free(j->ents[i].path);
	free(j->ents[i].orig);
	free(j->ents[i].last);
	memmove(&j->ents[i], &j->ents[i + 1], (j->nr - i - 1) * sizeof(*j->ents));
	j->nr--;
}

static int find_entry(const struct journal *j, enum entry_op op, const char *path)
{
	int i;

	for (i = 0; i < j->nr; i++)
		if (j->ents[i].op == op && !strcmp(j->ents[i].path, path))
			return i;
	return -1;
}

/* Bad input names the file, the JSON path and the value. */
static int load_entry(struct journal *j, const cJSON *e, int i)
{
	const cJSON *op = cJSON_GetObjectItemCaseSensitive(e, "op");
	const cJSON *path = cJSON_GetObjectItemCaseSensitive(e, "path");
	const cJSON *orig = cJSON_GetObjectItemCaseSensitive(e, "original");

	if (!cJSON_IsString(op) || (strcmp(op->valuestring, "write") &&
				    strcmp(op->valuestring, "mkdir"))) {
		pr_err("%s: entries[%d].op: expected \"write\" or \"mkdir\", got %s",
		       j->file, i, cJSON_IsString(op) ? op->valuestring : "(none)");
		return -EINVAL;
	}
	if (!cJSON_IsString(path) || path->valuestring[0] != '/') {
		pr_err("%s: entries[%d].path: expected an absolute path, got %s",
		       j->file, i, cJSON_IsString(path) ? path->valuestring : "(none)");
		return -EINVAL;
	}
	if (!strcmp(op->valuestring, "mkdir"))
		return add_entry(j, OP_MKDIR, path->valuestring, NULL);
	if (!cJSON_IsString(orig)) {
		pr_err("%s: entries[%d].original: expected a string", j->file, i);
		return -EINVAL;
	}
	return add_entry(j, OP_WRITE, path->valuestring, orig->valuestring);
}

static int journal_load(struct journal *j)
{
	const cJSON *ver, *arr, *e;
	char *text;
	cJSON *root;
	int err, i = 0;

	err = file_read_all(j->file, READ_MAX, &text);
	if (err == -ENOENT)
		return 0;
	if (err) {
		pr_err("%s: cannot read journal: %s", j->file, strerror(-err));
		return err;
	}
	root = cJSON_Parse(text);
	free(text);
	if (!root) {
		pr_err("%s: not valid JSON; refusing to overwrite it", j->file);
		return -EINVAL;
	}
	err = -EINVAL;
	ver = cJSON_GetObjectItemCaseSensitive(root, "version");
	if (!cJSON_IsNumber(ver) || ver->valueint != JOURNAL_VERSION) {
		pr_err("%s: version: expected %d", j->file, JOURNAL_VERSION);
		goto out;
	}
	arr = cJSON_GetObjectItemCaseSensitive(root, "entries");
	if (!cJSON_IsArray(arr)) {
		pr_err("%s: entries: expected an array", j->file);
		goto out;
	}
	cJSON_ArrayForEach(e, arr) {
		err = load_entry(j, e, i++);
		if (err)
			goto out;
	}
	err = 0;
out:
	cJSON_Delete(root);
	return err;
}

/* ---- public API ----------------------------------------------------- */

static int mkdir_p(const char *dir)
{
	char buf[PATH_MAX];
	char *p;

	if (snprintf(buf, sizeof(buf), "%s", dir) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

/*
 * A POSIX record lock, not flock(): it is not inherited across fork(), so
 * a child the agent leaves behind cannot keep `colod restore` out after a
 * crash. Such locks do not exclude the same process, hence the table of
 * lock files this process holds, checked before the file is even opened
 * (closing any descriptor of it would drop the lock).
 */
#define MAX_HELD	8
static struct { dev_t dev; ino_t ino; bool used; } held[MAX_HELD];

static int held_slot(dev_t dev, ino_t ino)
{
	int i;

	for (i = 0; i < MAX_HELD; i++)
		if (held[i].used && held[i].dev == dev && held[i].ino == ino)
			return i;
	return -1;
}

static int lock_dir(struct journal *j)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	char path[PATH_MAX];
	struct stat st;
	int i;

	if (snprintf(path, sizeof(path), "%s/%s", j->dir, JOURNAL_LOCK) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	if (!stat(path, &st) && held_slot(st.st_dev, st.st_ino) >= 0)
		goto busy;
	j->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (j->lock_fd < 0)
		return -errno;
	if (fcntl(j->lock_fd, F_SETLK, &fl)) {
		if (errno == EACCES || errno == EAGAIN)
			goto busy;
		return -errno;
	}
	if (fstat(j->lock_fd, &st))
		return -errno;
	for (i = 0; i < MAX_HELD && held[i].used; i++)
		;
	if (i == MAX_HELD)
		return -EMFILE;
	held[i].dev = st.st_dev;
	held[i].ino = st.st_ino;
	held[i].used = true;
	return 0;
busy:
	pr_err("%s: journal is held by another colod process", j->dir);
	return -EBUSY;
}

static void unlock_dir(struct journal *j)
{
	struct stat st;
	int i;

	if (j->lock_fd < 0)
		return;
	if (!fstat(j->lock_fd, &st)) {
		i = held_slot(st.st_dev, st.st_ino);
		/* Only the holder's close releases; a refused open never held it. */
		if (i >= 0 && j->locked)
			held[i].used = false;
	}
	close(j->lock_fd);
	j->lock_fd = -1;
}

struct journal *journal_open(const char *state_dir)
{
	struct journal *j;
	int err;

	if (!state_dir || !*state_dir)
		state_dir = JOURNAL_STATE_DIR_DEFAULT;
	j = calloc(1, sizeof(*j));
	if (!j) {
		errno = ENOMEM;
		return NULL;
	}
	j->lock_fd = -1;
	err = -ENOMEM;
	j->dir = strdup(state_dir);
	if (!j->dir || asprintf(&j->file, "%s/%s", state_dir, JOURNAL_FILE) < 0) {
		j->file = NULL;
		goto fail;
	}
	err = mkdir_p(state_dir);
	if (err) {
		pr_err("%s: cannot create state directory: %s", state_dir,
		       strerror(-err));
		goto fail;
	}
	err = lock_dir(j);
	if (err)
		goto fail;
	j->locked = true;
	err = journal_load(j);
	if (err)
		goto fail;
	if (j->nr)
		pr_info("%s: %d entries kept from a previous run", j->file, j->nr);
	return j;
fail:
	journal_close(j);
	errno = -err;
	return NULL;
}

void journal_close(struct journal *j)
{
	int i;

	if (!j)
		return;
	for (i = 0; i < j->nr; i++) {
		free(j->ents[i].path);
		free(j->ents[i].orig);
		free(j->ents[i].last);
	}
	free(j->ents);
	unlock_dir(j);
	free(j->file);
	free(j->dir);
	free(j);
}

/*
 * The key of a path in the journal: its canonical form, so that
 * "/sys/fs/cgroup/cpu/x" and "/sys/fs/cgroup/cpu,cpuacct//x/" (another
 * --cgroup-root spelling after a restart) are one entry with one original.
 */
static int canonical(const char *path, char *buf)
{
	if (realpath(path, buf))
		return 0;
	if (vanished(errno))
		return -ENOENT;
	if (snprintf(buf, PATH_MAX, "%s", path) >= PATH_MAX)
		return -ENAMETOOLONG;
	return 0;
}

/* Record key's original unless already held; *added says if it was new. */
static int journal_first(struct journal *j, const char *key, const char *orig,
			 bool *added)
{
	int err;

	*added = false;
	if (find_entry(j, OP_WRITE, key) >= 0)
		return 0;
	err = add_entry(j, OP_WRITE, key, orig);
	if (err)
		return err;
	err = journal_save(j);
	if (err) {
		drop_entry(j, j->nr - 1);
		return err;
	}
	*added = true;
	return 0;
}

static struct knob_count *knob_of(struct journal *j, const char *path)
{
	const char *name = strrchr(path, '/');
	int i;

	name = name ? name + 1 : path;
	for (i = 0; i < j->nr_knobs; i++)
		if (!strcmp(j->knobs[i].name, name))
			return &j->knobs[i];
	if (j->nr_knobs == KNOB_NAMES_MAX)
		return NULL;
	snprintf(j->knobs[i].name, sizeof(j->knobs[i].name), "%s", name);
	return &j->knobs[j->nr_knobs++];
}

static void note_written(struct entry *e, const char *value)
{
	char *v = strdup(value);

	if (v) {
		free(e->last);
		e->last = v;
	}
	e->written = true;
}

/*
 * Journal the original if this is the first write, then write. A write the
 * kernel rejects drops the entry it just added again, so a failed write
 * leaves neither the knob nor the journal changed. Every call also marks
 * the knob as wanted in the current pass (journal_begin_pass()). A knob
 * that holds something else than colod last wrote there has drifted:
 * someone else wrote it, and it is counted and put back.
 */
int journal_write(struct journal *j, const char *path, const char *value)
{
	char key[PATH_MAX];
	struct knob_count *k;
	struct entry *e = NULL;
	bool added = false;
	char *cur;
	int err, i;

	err = file_read_all(path, READ_MAX, &cur);
	if (vanished(-err))
		return -ENOENT;
	if (err) {
		pr_err("%s: cannot read: %s", path, strerror(-err));
		return err;
	}
	err = canonical(path, key);
	if (err)
		goto out;
	i = find_entry(j, OP_WRITE, key);
	if (i >= 0) {
		e = &j->ents[i];
		e->wanted = j->pass;
	}
	if (same_value(cur, value)) {
		if (e && !e->last)
			note_written(e, value);
		goto out;
	}
	if (e && e->last && same_value(e->last, value) && (k = knob_of(j, key)))
		k->drift++;
	if (!e) {
		err = journal_first(j, key, cur, &added);
		if (err)
			goto out;
	}
	err = write_once(key, value);
	if (!err) {
		e = &j->ents[added ? j->nr - 1 : i];
		e->wanted = j->pass;
		note_written(e, value);
		goto out;
	}
	if (added) {
		drop_entry(j, j->nr - 1);
		journal_save(j);
	}
	if (vanished(-err)) {
		err = -ENOENT;
		goto out;
	}
	pr_err("%s: cannot write '%s': %s", path, value, strerror(-err));
out:
	free(cur);
	return err;
}

int journal_remember(struct journal *j, char *const *paths, int n)
{
	char key[PATH_MAX], *cur;
	int i, added = 0, err = 0;

	for (i = 0; i < n && !err; i++) {
		if (canonical(paths[i], key) || find_entry(j, OP_WRITE, key) >= 0)
			continue;
		/* unreadable here is reported by journal_write() when written */
		if (file_read_all(key, READ_MAX, &cur))
			continue;
		err = add_entry(j, OP_WRITE, key, cur);
		free(cur);
		if (!err)
			j->ents[j->nr - 1].written = false;
		added += !err;
	}
	if (added && journal_save(j)) {
		while (added--)
			drop_entry(j, j->nr - 1);
		return -EIO;
	}
	return err;
}

int journal_note_mkdir(struct journal *j, const char *path)
{
	char key[PATH_MAX];
	int err;

	/* A directory that is already gone still goes in under its name. */
	if (!realpath(path, key) &&
	    snprintf(key, sizeof(key), "%s", path) >= (int)sizeof(key))
		return -ENAMETOOLONG;
	if (find_entry(j, OP_MKDIR, key) >= 0)
		return 0;
	err = add_entry(j, OP_MKDIR, key, NULL);
	if (err)
		return err;
	err = journal_save(j);
	if (err)
		drop_entry(j, j->nr - 1);
	return err;
}

/* 0 when done (or nothing left to do), -errno otherwise. */
static int restore_one(const struct entry *e, bool quiet)
{
	char *cur;
	int err;

	if (e->op == OP_MKDIR) {
		if (!rmdir(e->path) || vanished(errno))
			return 0;
		err = -errno;
		if (!quiet)
			pr_err("%s: cannot remove directory: %s", e->path,
			       strerror(-err));
		return err;
	}
	err = file_read_all(e->path, READ_MAX, &cur);
	if (vanished(-err))
		return 0;
	if (!err) {
		/* Exact here: the original comes back byte for byte. */
		bool same = !strcmp(cur, e->orig);

		free(cur);
		if (same)
			return 0;
	}
	err = write_once(e->path, e->orig);
	if (!err || vanished(-err))
		return 0;
	if (!quiet)
		pr_err("%s: cannot write '%s': %s", e->path, e->orig,
		       strerror(-err));
	return err;
}

/*
 * Backwards over first-write order; what the kernel refuses for ordering
 * reasons (EINVAL, EBUSY) is retried in later passes while any pass makes
 * progress. The last pass reports what is still failing. Entries that are
 * done are removed from the state file; failing ones stay in it.
 */
int journal_restore_all(struct journal *j)
{
	int pass, i, err = 0, first_err, done;
	bool last;

	for (pass = 0; pass < RESTORE_PASSES && j->nr; pass++) {
		first_err = 0;
		done = 0;
		last = pass == RESTORE_PASSES - 1;
		for (i = j->nr - 1; i >= 0; i--) {
			err = restore_one(&j->ents[i], !last);
			if (!err) {
				drop_entry(j, i);
				done++;
			} else if (!first_err) {
				first_err = err;
			}
		}
		err = first_err;
		if (!err)
			break;
		if (!done && !last) {
			/* No progress: one last, loud pass for the report. */
			pass = RESTORE_PASSES - 2;
		}
	}
	if (journal_save(j) && !err)
		err = -EIO;
	return err;
}

void journal_begin_pass(struct journal *j)
{
	j->pass++;
}

/*
 * Knobs colod wrote and no longer wants (not asked for through
 * journal_write() since journal_begin_pass()) get their original back and leave
 * the journal; entries of files that vanished with their cgroup are pruned.
 * What the kernel refuses now stays, to be retried at the next sweep.
 */
int journal_sweep(struct journal *j)
{
	int i, err, first_err = 0, changed = 0;
	struct knob_count *k;
	struct entry *e;

	for (i = j->nr - 1; i >= 0; i--) {
		e = &j->ents[i];
		if (e->op != OP_WRITE)
			continue;
		if (e->wanted) {
			e->wanted = 0;
			continue;
		}
		if (!e->written) {
			/* remembered ahead of a cut: kept while the file exists */
			if (access(e->path, F_OK) && vanished(errno))
				drop_entry(j, i), changed++;
			continue;
		}
		if (access(e->path, F_OK) && vanished(errno)) {
			drop_entry(j, i);
			changed++;
			continue;
		}
		err = restore_one(e, false);
		if (err) {
			first_err = first_err ?: err;
			continue;
		}
		if ((k = knob_of(j, e->path)))
			k->released++;
		pr_info("%s: released, original '%.*s' restored", e->path,
			(int)strcspn(e->orig, "\n"), e->orig);
		drop_entry(j, i);
		changed++;
	}
	if (changed && journal_save(j))
		return -EIO;
	return first_err;
}

int journal_knob_counts(const struct journal *j, int i, const char **name,
			uint64_t *drift, uint64_t *released)
{
	if (i < 0 || i >= j->nr_knobs)
		return -ENOENT;
	*name = j->knobs[i].name;
	*drift = j->knobs[i].drift;
	*released = j->knobs[i].released;
	return 0;
}

int journal_count(const struct journal *j)
{
	int i, n = 0;

	for (i = 0; i < j->nr; i++)
		n += j->ents[i].op == OP_WRITE;
	return n;
}

const char *journal_original(const struct journal *j, const char *path)
{
	char key[PATH_MAX];
	int i;

	if (canonical(path, key))
		return NULL;
	i = find_entry(j, OP_WRITE, key);
	return i < 0 ? NULL : j->ents[i].orig;
}
