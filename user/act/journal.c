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
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>
#include "fileio.h"
#include "journal.h"
#include "knobdir.h"
#include "knobwatch.h"
#include "log.h"
#include "slice.h"

#define JOURNAL_VERSION		1
#define JOURNAL_LOCK		"journal.lock"
#define KNOB_MAX		(1 << 20)	/* one knob file */
#define RESTORE_PASSES		8
#define REPORT_MAX		10	/* failures named one by one */
/*
 * A watched knob is read anyway every so many passes (staggered by entry):
 * the kernel changes a cpuset's CPUs itself, without a write(2) and so
 * without an event (v1: hot-unplug shrinks cpuset.cpus); the other knobs
 * change only by writes, and are read now and then all the same.
 */
#define RESYNC_CPUSET		10
#define RESYNC_OTHER		60

/*
 * OP_SLICE: an EEVDF slice colod gives the threads of a cgroup's tree
 * (slice.h); restored, the threads that still have it get the kernel's
 * default back.
 */
enum entry_op { OP_WRITE, OP_MKDIR, OP_SLICE };
static const char *const op_names[] = { "write", "mkdir", "slice" };

struct entry {
	enum entry_op op;
	char *path;
	char *orig;		/* OP_WRITE: the content before colod's first write */
	char *last;		/* what this run last wrote; NULL: nothing yet */
	bool written;		/* colod's value may be in place (this run or a previous one) */
	uint64_t dir_ino;	/* OP_WRITE: inode of the cgroup's directory; 0: unknown */
	uint64_t wanted;	/* the pass that last asked for it */
	int wd;			/* its inotify watch; -1: none */
	bool quiet;		/* holds last, unwritten since a read under the watch */
	uint8_t resync;		/* read anyway every so many passes */
	uint64_t slice_ns;	/* OP_SLICE: the slice colod gives */
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
	/*
	 * Index of ents by path (open addressing, -1 free): the agent asks
	 * for thousands of knobs each tick, a linear search made that
	 * quadratic. Rebuilt at the next lookup after a drop shifted ents.
	 */
	int *slot;
	unsigned int nr_slots;	/* a power of two, at least twice nr */
	bool slot_stale;
	/* knobs read back each tick open relative to their cgroup's dir fd */
	struct knobdirs *dirs;
	/* ... and only when written since the last read (or at a resync) */
	struct knobwatch *watch;
	uint64_t nr_reads;	/* knob read-backs by journal_write() */
};

/* ---- file helpers --------------------------------------------------- */

static bool vanished(int err)
{
	/* ENODEV: the file was open while its cgroup was removed. */
	return err == ENOENT || err == ENODEV;
}

static long test_hier_fs;

void journal_test_hierarchy_fs(long f_type)
{
	test_hier_fs = f_type;
}

static bool hierarchy_fs(long type)
{
	return type == CGROUP_SUPER_MAGIC || type == CGROUP2_SUPER_MAGIC ||
	       type == RDTGROUP_SUPER_MAGIC || (test_hier_fs && type == test_hier_fs);
}

/*
 * A file that is not there went with its cgroup (-ENOENT) only when its
 * closest existing ancestor is on a cgroup (or resctrl) filesystem: the
 * hierarchy is there and the cgroup is not. Anywhere else (cgroupfs not
 * mounted in this container, a wrong root) it is -ENOMEDIUM, and the entry
 * must be kept.
 */
static int gone_why(const char *path, char *closest)
{
	struct statfs sf;
	char *slash;

	if (snprintf(closest, PATH_MAX, "%s", path) >= PATH_MAX)
		return -ENAMETOOLONG;
	while ((slash = strrchr(closest, '/'))) {
		slash[slash == closest] = '\0';
		if (!statfs(closest, &sf))
			return hierarchy_fs(sf.f_type) ? -ENOENT : -ENOMEDIUM;
		if (!vanished(errno) && errno != ENOTDIR)
			return -errno;
		if (slash == closest)
			break;
	}
	return -ENOMEDIUM;
}

/* 0: path is there; -ENOENT: gone with its cgroup; -ENOMEDIUM; -errno. */
static int file_state(const char *path)
{
	char closest[PATH_MAX];

	if (!access(path, F_OK))
		return 0;
	if (!vanished(errno))
		return -errno;
	return gone_why(path, closest);
}

/*
 * One write(2) of the whole value: cgroupfs parses each write on its own,
 * so a split write would apply a truncated value.
 */
static int write_once(struct knobdirs *dirs, const char *path, const char *value)
{
	size_t len = strlen(value);
	ssize_t n;
	int fd, err = 0;

	fd = knobdir_open(dirs, path, O_WRONLY | O_TRUNC | O_CLOEXEC);
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

/* One entry as one line of JSON (malloc'd), or NULL. */
static char *entry_line(const struct entry *e)
{
	cJSON *o = cJSON_CreateObject();
	char *line = NULL;

	if (!o)
		return NULL;
	if (cJSON_AddStringToObject(o, "op", op_names[e->op]) &&
	    cJSON_AddStringToObject(o, "path", e->path) &&
	    (e->op != OP_WRITE || cJSON_AddStringToObject(o, "original", e->orig)) &&
	    (e->op != OP_SLICE || cJSON_AddNumberToObject(o, "slice_ns", (double)e->slice_ns)) &&
	    (!e->dir_ino || cJSON_AddNumberToObject(o, "dir_ino", (double)e->dir_ino)))
		line = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return line;
}

static int append(char **buf, size_t *len, size_t *cap, const char *s)
{
	size_t n = strlen(s);
	char *nb;

	if (*len + n + 1 > *cap) {
		*cap = (*len + n + 1) * 2;
		nb = realloc(*buf, *cap);
		if (!nb)
			return -ENOMEM;
		*buf = nb;
	}
	memcpy(*buf + *len, s, n + 1);
	*len += n;
	return 0;
}

/*
 * The state file: an object with the version and the entries, one entry a
 * line (compact, and a damaged line costs that entry only on salvage).
 */
static int journal_text(const struct journal *j, char **out, size_t *len)
{
	size_t cap = 0;
	char *buf = NULL, *line;
	int i, err;

	*len = 0;
	err = append(&buf, len, &cap, "{\"version\":1,\"entries\":[");
	for (i = 0; i < j->nr && !err; i++) {
		line = entry_line(&j->ents[i]);
		if (!line) {
			err = -ENOMEM;
			break;
		}
		err = append(&buf, len, &cap, i ? ",\n" : "\n");
		if (!err)
			err = append(&buf, len, &cap, line);
		free(line);
	}
	if (!err)
		err = append(&buf, len, &cap, "\n]}\n");
	if (err) {
		free(buf);
		return err;
	}
	*out = buf;
	return 0;
}

/* Temp file, fsync, rename, fsync of the directory: all or nothing. */
static int journal_save(struct journal *j)
{
	char *text = NULL;
	size_t len;
	int err;

	err = journal_text(j, &text, &len);
	if (!err && len > JOURNAL_SIZE_MAX)
		err = -EFBIG;
	if (!err)
		err = file_write_atomic(j->file, text, len, 0600);
	if (err)
		pr_err("%s: cannot save journal (%d entries): %s", j->file, j->nr,
		       strerror(-err));
	free(text);
	return err;
}

/*
 * A cgroup removed and made again under its name is another cgroup: the
 * original journaled for the old one is not the new one's. dirs NULL: by
 * path; else through its directory's cached fd (knobdir_ino()).
 */
static bool same_cgroup(struct knobdirs *dirs, const struct entry *e)
{
	uint64_t now;

	if (e->op != OP_WRITE || !e->dir_ino)
		return true;
	now = knobdir_ino(dirs, e->path);
	return !now || now == e->dir_ino;
}

/* A knob's value, its file opened relative to its cgroup's directory. */
static int knob_read(struct journal *j, const char *path, char **out)
{
	return journal_read(j, path, KNOB_MAX, out);
}

int journal_read(struct journal *j, const char *path, size_t max, char **out)
{
	int fd = knobdir_open(j ? j->dirs : NULL, path, O_RDONLY | O_CLOEXEC);

	*out = NULL;
	if (fd < 0)
		return -errno;
	return file_read_fd(fd, max, out);
}

/* ---- index ---------------------------------------------------------- */

static unsigned int path_hash(const char *s)
{
	unsigned int h = 2166136261u;	/* FNV-1a */

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

static void slot_put(struct journal *j, int i)
{
	unsigned int m = j->nr_slots - 1, h = path_hash(j->ents[i].path) & m;

	while (j->slot[h] >= 0)
		h = (h + 1) & m;
	j->slot[h] = i;
}

/* -ENOMEM leaves the index stale: lookups fall back to a linear search. */
static int index_rebuild(struct journal *j)
{
	unsigned int n = 64;
	int i;

	while (n < 2 * (unsigned int)j->nr)
		n *= 2;
	if (n != j->nr_slots) {
		int *v = realloc(j->slot, n * sizeof(*v));

		if (!v)
			return -ENOMEM;
		j->slot = v;
		j->nr_slots = n;
	}
	memset(j->slot, 0xff, n * sizeof(*j->slot));
	for (i = 0; i < j->nr; i++)
		slot_put(j, i);
	j->slot_stale = false;
	return 0;
}

static void index_add(struct journal *j, int i)
{
	if (j->slot_stale || j->nr_slots < 2 * (unsigned int)j->nr)
		j->slot_stale = true;	/* rebuilt at the next lookup */
	else
		slot_put(j, i);
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
	e->dir_ino = op == OP_WRITE ? knobdir_ino(j->dirs, path) : 0;
	/* loaded from a previous run: its value may still be in place */
	e->written = true;
	e->wanted = 0;
	e->wd = -1;
	e->quiet = false;
	e->resync = strstr(path, "/cpuset.") ? RESYNC_CPUSET : RESYNC_OTHER;
	e->slice_ns = 0;
	if (!e->path || (orig && !e->orig)) {
		free(e->path);
		free(e->orig);
		return -ENOMEM;
	}
	j->nr++;
	index_add(j, j->nr - 1);
	return 0;
}

static void drop_entry(struct journal *j, int i)
{
	j->slot_stale = true;
	knobwatch_rm(j->watch, j->ents[i].wd);
	free(j->ents[i].path);
	free(j->ents[i].orig);
	free(j->ents[i].last);
	memmove(&j->ents[i], &j->ents[i + 1], (j->nr - i - 1) * sizeof(*j->ents));
	j->nr--;
}

static int find_entry(const struct journal *cj, enum entry_op op, const char *path)
{
	struct journal *j = (struct journal *)cj;	/* the index is a cache */
	unsigned int m, h;
	int i;

	if ((j->slot_stale || !j->nr_slots) && index_rebuild(j)) {
		for (i = 0; i < j->nr; i++)
			if (j->ents[i].op == op && !strcmp(j->ents[i].path, path))
				return i;
		return -1;
	}
	m = j->nr_slots - 1;
	for (h = path_hash(path) & m; (i = j->slot[h]) >= 0; h = (h + 1) & m)
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
	const cJSON *ino = cJSON_GetObjectItemCaseSensitive(e, "dir_ino");
	const cJSON *ns = cJSON_GetObjectItemCaseSensitive(e, "slice_ns");
	int err;

	if (!cJSON_IsString(op) || (strcmp(op->valuestring, "write") &&
				    strcmp(op->valuestring, "mkdir") &&
				    strcmp(op->valuestring, "slice"))) {
		pr_err("%s: entries[%d].op: expected \"write\", \"mkdir\" or \"slice\", got %s",
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
	if (!strcmp(op->valuestring, "slice")) {
		if (!cJSON_IsNumber(ns) || ns->valuedouble < 1) {
			pr_err("%s: entries[%d].slice_ns: expected a positive number", j->file, i);
			return -EINVAL;
		}
		err = add_entry(j, OP_SLICE, path->valuestring, NULL);
		if (!err)
			j->ents[j->nr - 1].slice_ns = (uint64_t)ns->valuedouble;
		return err;
	}
	if (!cJSON_IsString(orig)) {
		pr_err("%s: entries[%d].original: expected a string", j->file, i);
		return -EINVAL;
	}
	err = add_entry(j, OP_WRITE, path->valuestring, orig->valuestring);
	/* the inode it was journaled under, not the one there now */
	if (!err)
		j->ents[j->nr - 1].dir_ino = cJSON_IsNumber(ino) ? (uint64_t)ino->valuedouble : 0;
	return err;
}

/* Where text broke, as "line L, column C". */
static void where(const char *text, const char *at, char *buf, size_t len)
{
	const char *p, *bol = text;
	int line = 1;

	for (p = text; p < at && *p; p++)
		if (*p == '\n')
			line++, bol = p + 1;
	snprintf(buf, len, "line %d, column %d", line, (int)(at - bol) + 1);
}

/* The version the text claims, also when it does not parse; -1 if none. */
static long claimed_version(const char *text)
{
	const char *p = strstr(text, "\"version\"");

	if (!p)
		return -1;
	p += strlen("\"version\"");
	p += strspn(p, " \t\r\n");
	if (*p++ != ':')
		return -1;
	return strtol(p, NULL, 10);
}

/*
 * Every entry of a damaged journal that still parses, one object at a
 * time from the entries array on; past an object that does not parse, the
 * scan resumes at the next '{'. Returns the number of entries left out.
 */
static int salvage(struct journal *j, const char *text)
{
	const char *p = strstr(text, "\"entries\""), *end;
	int i = 0, lost = 0;
	cJSON *e;

	p = p ? strchr(p, '[') : NULL;
	if (!p)
		return 0;
	for (p = strchr(p, '{'); p; i++) {
		e = cJSON_ParseWithOpts(p, &end, false);
		if (!e || load_entry(j, e, i)) {
			lost++;
			p = strchr(p + 1, '{');
		} else {
			p = strchr(end, '{');
		}
		cJSON_Delete(e);
	}
	return lost;
}

/* Strict: 0 with every entry loaded, -EPROTO when it must be salvaged. */
static int parse(struct journal *j, const char *text)
{
	const cJSON *arr, *e;
	const char *end = NULL;
	char at[64];
	cJSON *root;
	int i = 0, err = 0;

	root = cJSON_ParseWithOpts(text, &end, true);
	if (!root) {
		where(text, end ? end : text, at, sizeof(at));
		pr_err("%s: not valid JSON at %s (byte %td)", j->file, at,
		       end ? end - text : 0);
		return -EPROTO;
	}
	arr = cJSON_GetObjectItemCaseSensitive(root, "entries");
	if (!cJSON_IsArray(arr)) {
		pr_err("%s: entries: expected an array", j->file);
		err = -EPROTO;
		goto out;
	}
	cJSON_ArrayForEach(e, arr) {
		err = load_entry(j, e, i++);
		if (err)
			break;
	}
out:
	cJSON_Delete(root);
	return err == -EINVAL ? -EPROTO : err;
}

/* Link the file as found to journal.json.corrupt-<time>; its name in aside. */
static int keep_aside(struct journal *j, char *aside, size_t len)
{
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	int n;

	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", gmtime_r(&now, &tm));
	for (n = 0; n < 100; n++) {
		snprintf(aside, len, "%s.corrupt-%s%s%.0d", j->file, stamp,
			 n ? "-" : "", n);
		if (!link(j->file, aside))
			return 0;
		if (errno != EEXIST)
			return -errno;
	}
	return -EEXIST;
}

/*
 * A damaged journal is not a reason to stop: the agent would crash-loop
 * with every throttle of the last run in place. What parses is kept (and
 * restored, in time), the file as found stays next to it for whatever did
 * not, and the loss is logged loud. Another version is not damage: it is
 * refused and kept, for the colod that wrote it.
 */
static int recover(struct journal *j, const char *text)
{
	char aside[PATH_MAX + 64];
	int i, lost, err;

	for (i = j->nr - 1; i >= 0; i--)
		drop_entry(j, i);
	lost = salvage(j, text);
	err = keep_aside(j, aside, sizeof(aside));
	if (!err)
		err = journal_save(j);
	if (err) {
		pr_err("%s: cannot set the damaged journal aside: %s", j->file,
		       strerror(-err));
		return err;
	}
	pr_err("%s: damaged: %d entries kept, %d lost; the file as found is %s "
	       "(knobs of lost entries may still hold colod's values)",
	       j->file, j->nr, lost, aside);
	return 0;
}

static int read_journal(struct journal *j, char **text)
{
	struct stat st;
	int err;

	*text = NULL;
	if (stat(j->file, &st))
		return -errno;
	err = st.st_size > JOURNAL_SIZE_MAX ? -EFBIG :
	      file_read_all(j->file, JOURNAL_SIZE_MAX, text);
	if (err == -EFBIG)
		pr_err("%s: %lld bytes, over the %d MiB a journal may hold; "
		       "not a journal colod wrote: move it away", j->file,
		       (long long)st.st_size, JOURNAL_SIZE_MAX >> 20);
	else if (err)
		pr_err("%s: cannot read journal: %s", j->file, strerror(-err));
	return err;
}

static int journal_load(struct journal *j)
{
	long ver;
	char *text;
	int err;

	err = read_journal(j, &text);
	if (err)
		return err == -ENOENT ? 0 : err;
	ver = claimed_version(text);
	if (ver != JOURNAL_VERSION && ver != -1) {
		pr_err("%s: version %ld, this colod reads %d; kept as it is",
		       j->file, ver, JOURNAL_VERSION);
		err = -EINVAL;
		goto out;
	}
	err = parse(j, text);
	if (err == -EPROTO)
		err = recover(j, text);
out:
	free(text);
	return err;
}

/*
 * Start-up housekeeping, under the lock: temp files of a save that was
 * killed before its rename, and entries of cgroups that are gone (the
 * state file is rewritten without them).
 */
/*
 * file_write_atomic() writes ".<name>.XXXXXX" beside <name>: the journal's,
 * config.json's and predictor.json's temp files in the state dir, which is
 * colod's alone and locked now.
 */
static bool temp_file(const char *name)
{
	const char *dot = strrchr(name, '.');

	return name[0] == '.' && dot && dot != name && strlen(dot + 1) == 6 &&
	       strstr(name, ".json.") == dot - 5;
}

static void remove_temp_files(struct journal *j)
{
	struct dirent *d;
	DIR *dir;

	dir = opendir(j->dir);
	if (!dir)
		return;
	while ((d = readdir(dir)))
		if (temp_file(d->d_name) && !unlinkat(dirfd(dir), d->d_name, 0))
			pr_info("%s/%s: removed, left by a save that was cut short",
				j->dir, d->d_name);
	closedir(dir);
}

static int prune(struct journal *j)
{
	int i, n = 0;

	for (i = j->nr - 1; i >= 0; i--) {
		if (j->ents[i].op == OP_MKDIR ||
		    file_state(j->ents[i].path) != -ENOENT)
			continue;
		drop_entry(j, i);
		n++;
	}
	if (n)
		pr_info("%s: %d entries of cgroups that are gone pruned", j->file, n);
	return n ? journal_save(j) : 0;
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
	remove_temp_files(j);
	err = journal_load(j);
	if (!err)
		err = prune(j);
	if (err)
		goto fail;
	/* none (out of memory): every knob is opened by its path */
	j->dirs = knobdir_new(knobdir_budget());
	/* none: every knob is read back at every pass */
	j->watch = knobwatch_new();
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
	free(j->slot);
	knobdir_free(j->dirs);
	knobwatch_free(j->watch);
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

/*
 * The key of path and its entry (-1: none). A path spelled as a key
 * already held is that key: keys are canonical, and realpath() costs a
 * readlink per component, for thousands of knobs each tick.
 */
static int key_of(const struct journal *j, enum entry_op op, const char *path,
		  char *key, int *idx)
{
	int err;

	*idx = find_entry(j, op, path);
	if (*idx >= 0) {
		if (snprintf(key, PATH_MAX, "%s", path) >= PATH_MAX)
			return -ENAMETOOLONG;
		return 0;
	}
	err = canonical(path, key);
	if (!err)
		*idx = find_entry(j, op, key);
	return err;
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

int journal_want(struct journal *j, const char *path)
{
	char key[PATH_MAX];
	int i, err;

	err = key_of(j, OP_WRITE, path, key, &i);
	if (!err && i >= 0)
		j->ents[i].wanted = j->pass;
	return err;
}

/*
 * The knob's value is known without a read: colod's last value is in place
 * and nothing wrote the file since it was read under the watch (its
 * cgroup checked to be the same one, once a pass).
 */
static bool known_in_place(const struct entry *e, const char *value)
{
	return e->quiet && e->last && same_value(e->last, value);
}

bool journal_in_place(const struct journal *j, const char *path, const char *value)
{
	int i = j ? find_entry(j, OP_WRITE, path) : -1;

	return i >= 0 && known_in_place(&j->ents[i], value);
}

/* Watch e's file from before the read that may find it in place. */
static bool arm(struct journal *j, struct entry *e)
{
	if (e->wd < 0 && j->watch)
		e->wd = knobwatch_add(j->watch, e->path);
	if (e->wd < 0)
		e->wd = -1;	/* no watch (-ENOSPC...): read at every pass */
	return e->wd >= 0;
}

/*
 * Journal the original if this is the first write, then write. A write the
 * kernel rejects drops the entry it just added again, so a failed write
 * leaves neither the knob nor the journal changed. Every call also marks
 * the knob as wanted in the current pass (journal_begin_pass()). A knob
 * that holds something else than colod last wrote there has drifted:
 * someone else wrote it, and it is counted and put back. A knob known to
 * be in place is not read (knobwatch.h).
 */
int journal_write(struct journal *j, const char *path, const char *value)
{
	char key[PATH_MAX];
	struct knob_count *k;
	struct entry *e = NULL;
	bool added = false, armed = false;
	char *cur = NULL;
	int err, i;

	err = key_of(j, OP_WRITE, path, key, &i);
	if (err)
		return vanished(-err) ? -ENOENT : err;
	if (i >= 0 && !same_cgroup(j->dirs, &j->ents[i])) {
		pr_info("%s: its cgroup was made again; the old original is dropped", key);
		drop_entry(j, i);
		i = -1;
	}
	if (i >= 0) {
		e = &j->ents[i];
		e->wanted = j->pass;
		if (known_in_place(e, value))
			return 0;
		armed = arm(j, e);
	}
	j->nr_reads++;
	err = knob_read(j, key, &cur);
	if (vanished(-err))
		return -ENOENT;
	if (err) {
		pr_err("%s: cannot read: %s", path, strerror(-err));
		return err;
	}
	if (same_value(cur, value)) {
		/* in place, whoever wrote it: colod's value from now on */
		if (e && (!e->last || !same_value(e->last, value)))
			note_written(e, value);
		if (e)
			e->quiet = armed;
		goto out;
	}
	if (e && e->last && same_value(e->last, value) && (k = knob_of(j, key)))
		k->drift++;
	if (!e) {
		err = journal_first(j, key, cur, &added);
		if (err)
			goto out;
	}
	err = write_once(j->dirs, key, value);
	if (!err) {
		e = &j->ents[added ? j->nr - 1 : i];
		e->wanted = j->pass;
		note_written(e, value);
		/* read back once at the next pass, under the watch */
		e->quiet = false;
		arm(j, e);
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
	int i, k, added = 0, err = 0;

	for (i = 0; i < n && !err; i++) {
		if (key_of(j, OP_WRITE, paths[i], key, &k) || k >= 0)
			continue;
		/* unreadable here is reported by journal_write() when written */
		if (file_read_all(key, KNOB_MAX, &cur))
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

int journal_hold(struct journal *j, const char *path, bool record)
{
	char key[PATH_MAX], *cur;
	int err, i;

	/* a path spelled as held: no realpath() (a readlink per component) */
	err = key_of(j, OP_WRITE, path, key, &i);
	if (err)
		return err;
	if (i >= 0 && !same_cgroup(j->dirs, &j->ents[i])) {
		/* the old cgroup's original; the new one's is taken below */
		pr_info("%s: its cgroup was made again; the old original is dropped", key);
		drop_entry(j, i);
		i = -1;
	}
	if (i < 0 && !record)
		return 0;
	if (i < 0) {
		err = file_read_all(key, KNOB_MAX, &cur);
		if (err)
			return vanished(-err) ? -ENOENT : err;
		err = add_entry(j, OP_WRITE, key, cur);
		free(cur);
		if (err)
			return err;
		i = j->nr - 1;
		err = journal_save(j);
		if (err) {
			drop_entry(j, i);
			return err;
		}
	}
	j->ents[i].written = true;
	j->ents[i].wanted = j->pass;
	return 0;
}

bool journal_holds(const struct journal *j, const char *path)
{
	char key[PATH_MAX];
	int i;

	return !key_of(j, OP_WRITE, path, key, &i) && i >= 0 &&
	       same_cgroup(j->dirs, &j->ents[i]);
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

int journal_slice(struct journal *j, const char *top, const char *dir, uint64_t ns)
{
	int i = find_entry(j, OP_SLICE, top), err;

	if (i >= 0 && j->ents[i].slice_ns != ns) {
		/* another length: the threads of the old one get the default first */
		err = slice_set_tree(top, 0, j->ents[i].slice_ns);
		if (err < 0)
			return vanished(-err) ? -ENOENT : err;
		j->ents[i].slice_ns = ns;
		err = journal_save(j);
		if (err)
			return err;
	}
	if (i < 0) {
		err = add_entry(j, OP_SLICE, top, NULL);
		if (err)
			return err;
		i = j->nr - 1;
		j->ents[i].slice_ns = ns;
		err = journal_save(j);
		if (err) {
			drop_entry(j, i);
			return err;
		}
	}
	j->ents[i].wanted = j->pass;
	if (!dir)
		return 0;
	err = slice_set_cgroup(dir, ns, 0);
	return err < 0 && vanished(-err) ? -ENOENT : err;
}

/* A file that is not there: done if gone with its cgroup, else kept. */
static int restore_missing(const struct entry *e, bool loud)
{
	char closest[PATH_MAX];
	int err = gone_why(e->path, closest);

	if (err == -ENOENT)
		return 0;
	if (loud && err == -ENOMEDIUM)
		pr_err("%s: not there, and %s is no cgroup hierarchy (not mounted?); "
		       "kept", e->path, closest);
	else if (loud)
		pr_err("%s: %s", e->path, strerror(-err));
	return err;
}

/* The threads that still have colod's slice get the default back. */
static int restore_slice(const struct entry *e, bool loud)
{
	int err = slice_set_tree(e->path, 0, e->slice_ns);

	if (err >= 0)
		return 0;
	if (vanished(-err))
		return restore_missing(e, loud);
	if (loud)
		pr_err("%s: cannot give its threads the default slice back: %s", e->path,
		       strerror(-err));
	return err;
}

/* 0 when done (or nothing left to do), -errno otherwise. */
static int restore_one(const struct entry *e, bool loud)
{
	char *cur;
	int err;

	if (e->op == OP_SLICE)
		return restore_slice(e, loud);
	if (e->op == OP_MKDIR) {
		/* a resctrl group goes with its mount: gone is done */
		if (!rmdir(e->path) || vanished(errno))
			return 0;
		err = -errno;
		if (loud)
			pr_err("%s: cannot remove directory: %s", e->path,
			       strerror(-err));
		return err;
	}
	/* its cgroup is gone; another one has the name now */
	if (!same_cgroup(NULL, e))
		return 0;
	err = file_read_all(e->path, KNOB_MAX, &cur);
	if (vanished(-err))
		return restore_missing(e, loud);
	if (!err) {
		/* Exact here: the original comes back byte for byte. */
		bool same = !strcmp(cur, e->orig);

		free(cur);
		if (same)
			return 0;
	}
	err = write_once(NULL, e->path, e->orig);
	if (vanished(-err))
		return restore_missing(e, loud);
	if (err && loud)
		pr_err("%s: cannot write '%s': %s", e->path, e->orig,
		       strerror(-err));
	return err;
}

/* One pass backwards; failures named while *reported is under REPORT_MAX. */
static int restore_pass(struct journal *j, bool last, int *done, int *reported)
{
	int i, err, first_err = 0;

	*done = 0;
	for (i = j->nr - 1; i >= 0; i--) {
		err = restore_one(&j->ents[i], last && *reported < REPORT_MAX);
		if (!err) {
			drop_entry(j, i);
			(*done)++;
			continue;
		}
		*reported += last;
		first_err = first_err ?: err;
	}
	return first_err;
}

/*
 * Backwards over first-write order; what the kernel refuses for ordering
 * reasons (EINVAL, EBUSY) is retried in later passes while any pass makes
 * progress. The last pass reports what is still failing. Entries that are
 * done (or whose cgroup is gone) are removed from the state file; failing
 * ones, and those whose hierarchy is not mounted, stay in it.
 */
int journal_restore_all(struct journal *j)
{
	int pass, err = 0, done, reported = 0;
	bool last;

	for (pass = 0; pass < RESTORE_PASSES && j->nr; pass++) {
		last = pass == RESTORE_PASSES - 1;
		err = restore_pass(j, last, &done, &reported);
		if (!err)
			break;
		if (!done && !last) {
			/* No progress: one last, loud pass for the report. */
			pass = RESTORE_PASSES - 2;
		}
	}
	if (reported > REPORT_MAX)
		pr_err("%s: and %d more entries not restored", j->file,
		       reported - REPORT_MAX);
	if (journal_save(j) && !err)
		err = -EIO;
	return err;
}

/* Events since the last pass: what someone wrote is read back in this one. */
void journal_begin_pass(struct journal *j)
{
	int i, n;
	struct entry *e;
	enum knobwatch_state st;

	j->pass++;
	n = knobwatch_drain(j->watch);
	for (i = 0; i < j->nr; i++) {
		e = &j->ents[i];
		if (e->wd < 0)
			continue;
		st = n < 0 ? KW_WRITTEN : knobwatch_state(j->watch, e->wd);
		if (st == KW_GONE)
			e->wd = -1;
		if (st != KW_QUIET || (j->pass + (uint64_t)i) % e->resync == 0)
			e->quiet = false;
	}
}

uint64_t journal_reads(const struct journal *j)
{
	return j->nr_reads;
}

/* One pass of the sweep, backwards; *changed counts entries restored or pruned. */
static int sweep_pass(struct journal *j, bool loud, int *changed)
{
	int i, st, err, first_err = 0;
	struct knob_count *k;
	struct entry *e;

	*changed = 0;
	for (i = j->nr - 1; i >= 0; i--) {
		e = &j->ents[i];
		if (e->op == OP_MKDIR || e->wanted == j->pass)
			continue;
		st = same_cgroup(NULL, e) ? file_state(e->path) : -ENOENT;
		if (st == -ENOENT) {
			drop_entry(j, i);
			(*changed)++;
			continue;
		}
		/* remembered ahead of a cut, or its hierarchy not there now */
		if (!e->written || st)
			continue;
		err = restore_one(e, loud);
		if (err) {
			first_err = first_err ?: err;
			continue;
		}
		if (e->op == OP_SLICE)
			pr_info("%s: released, its threads' slice back to the default",
				e->path);
		else if ((k = knob_of(j, e->path)))
			k->released++;
		if (e->op == OP_WRITE)
			pr_info("%s: released, original '%.*s' restored", e->path,
				(int)strcspn(e->orig, "\n"), e->orig);
		drop_entry(j, i);
		(*changed)++;
	}
	return first_err;
}

#define SWEEP_PASSES	3

/*
 * Knobs colod wrote and no longer wants (not asked for through
 * journal_write() since journal_begin_pass()) get their original back and leave
 * the journal; entries of files that vanished with their cgroup are pruned.
 * The kernel's ordering rules may refuse one restore until another is done
 * (v1: a parent's period back while its quota still holds a child's quota
 * below it), so quiet passes repeat while they make progress; what is still
 * refused is named by a last pass and stays, to be retried at the next sweep.
 */
int journal_sweep(struct journal *j)
{
	int pass, n, changed = 0, err = 0;

	for (pass = 0; pass < SWEEP_PASSES; pass++) {
		err = sweep_pass(j, false, &n);
		changed += n;
		if (!err || !n)
			break;
	}
	if (err) {
		err = sweep_pass(j, true, &n);
		changed += n;
	}
	/* the directories of cgroups gone or no longer managed are closed */
	knobdir_sweep(j->dirs);
	if (changed && journal_save(j))
		return -EIO;
	return err;
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
