// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * resctrl writer (see resctrl.h and docs/RESCTRL.md). Facts about the
 * kernel interface this relies on (Documentation/arch/x86/resctrl.rst and
 * fs/resctrl):
 *  - info/L3/cbm_mask is the all-ways mask in hex; info/L3/min_cbm_bits the
 *    fewest consecutive bits a mask may have; masks must be contiguous
 *    unless info/L3/sparse_masks reads 1.
 *  - info/MB/min_bandwidth and bandwidth_gran are percents on Intel; the
 *    kernel rounds an MB value up to a multiple of bandwidth_gran and
 *    refuses one outside [min_bandwidth, 100]. AMD (and the mba_MBps mount
 *    option) use other units: MB lines holding values above 100 are left
 *    alone.
 *  - a schemata write must end in '\n'; all its lines are validated, then
 *    applied together, so one write is all or nothing. Resource names are
 *    padded on reading ("    L3:0=7ff;2=7ff"), masks zero-padded, MB
 *    values space-padded; cache ids need not be contiguous (L3:0, L3:2).
 *  - the tasks file takes one thread id per write (ESRCH if it exited).
 *  - the reason for a refused write is in info/last_cmd_status.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "fileio.h"
#include "journal.h"
#include "log.h"
#include "resctrl.h"

#define READ_MAX	(4 << 20)

/* ---- pure ---- */

uint64_t resctrl_cat_mask(unsigned int cbm_bits, unsigned int min_bits,
			  int start_pct, int end_pct)
{
	unsigned int s, e;
	uint64_t hi, lo;

	if (cbm_bits == 0 || cbm_bits > 64 || start_pct < 0 || end_pct > 100 ||
	    start_pct >= end_pct)
		return 0;
	if (min_bits == 0)
		min_bits = 1;
	if (min_bits > cbm_bits)
		return 0;
	s = (cbm_bits * (unsigned int)start_pct + 99) / 100;
	e = (cbm_bits * (unsigned int)end_pct + 99) / 100;
	/* a narrow range still gets the ways the hardware requires */
	if (e - s < min_bits) {
		e = s + min_bits > cbm_bits ? cbm_bits : s + min_bits;
		s = e - min_bits;
	}
	hi = e == 64 ? ~0ULL : (1ULL << e) - 1;
	lo = (1ULL << s) - 1;
	return hi & ~lo;
}

unsigned int resctrl_mb_round(unsigned int min_bw, unsigned int gran, int pct)
{
	unsigned int v;

	if (pct > RESCTRL_MB_MAX)
		pct = RESCTRL_MB_MAX;
	v = pct < 1 ? 1 : (unsigned int)pct;
	if (v < min_bw)
		v = min_bw;
	if (gran > 1)
		v = (v + gran - 1) / gran * gran;
	return v;
}

static bool contiguous(uint64_t m)
{
	m >>= __builtin_ctzll(m);
	return (m & (m + 1)) == 0;
}

int resctrl_parse_cbm(const char *text, uint64_t *mask, unsigned int *bits)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(text, &end, 16);
	while (isspace((unsigned char)*end))
		end++;
	if (errno || end == text || *end || v == 0 || (v & (v + 1)))
		return -EINVAL;	/* the all-ways mask starts at bit 0 */
	*mask = v;
	*bits = (unsigned int)__builtin_popcountll(v);
	return 0;
}

static int parse_domains(const char *s, bool hex, int *ids, uint64_t *vals,
			 int *nr)
{
	while (*s) {
		unsigned long long v;
		long id;
		char *end;

		while (isspace((unsigned char)*s) || *s == ';')
			s++;
		if (!*s)
			break;
		errno = 0;
		id = strtol(s, &end, 10);
		if (errno || end == s || *end != '=' || id < 0 || id > INT_MAX)
			return -EINVAL;
		s = end + 1;
		v = strtoull(s, &end, hex ? 16 : 10);
		if (errno || end == s)
			return -EINVAL;
		s = end;
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s && *s != ';')
			return -EINVAL;
		if (*nr >= RESCTRL_MAX_IDS)
			return -E2BIG;
		ids[*nr] = (int)id;
		vals[*nr] = v;
		(*nr)++;
	}
	return 0;
}

int resctrl_schemata_parse(const char *text, struct resctrl_schemata *out)
{
	uint64_t vals[RESCTRL_MAX_IDS];
	const char *line = text;
	int i, err;

	memset(out, 0, sizeof(*out));
	while (line && *line) {
		const char *nl = strchrnul(line, '\n');
		char buf[RESCTRL_SCHEMATA_MAX], *name, *colon, *e;
		size_t n = (size_t)(nl - line);

		if (n >= sizeof(buf))
			return -E2BIG;
		memcpy(buf, line, n);
		buf[n] = '\0';
		line = *nl ? nl + 1 : nl;
		for (name = buf; isspace((unsigned char)*name); name++)
			;
		if (!*name)
			continue;
		colon = strchr(name, ':');
		if (!colon)
			return -EINVAL;
		for (e = colon; e > name && isspace((unsigned char)e[-1]); e--)
			;
		*e = '\0';
		if (!strcmp(name, "L3")) {
			out->nr_l3 = 0;
			err = parse_domains(colon + 1, true, out->l3_id, out->l3,
					    &out->nr_l3);
		} else if (!strcmp(name, "MB")) {
			out->nr_mb = 0;
			err = parse_domains(colon + 1, false, out->mb_id, vals,
					    &out->nr_mb);
			for (i = 0; !err && i < out->nr_mb; i++)
				out->mb[i] = vals[i] > UINT_MAX ? UINT_MAX :
					     (unsigned int)vals[i];
		} else {
			out->nr_other++;
			err = 0;
		}
		if (err)
			return err;
	}
	return 0;
}

int resctrl_schemata_line(char *buf, size_t len, const struct resctrl_info *info,
			  const struct resctrl_qos *qos)
{
	size_t off = 0;
	uint64_t mask = 0;
	unsigned int mb = 0;
	int i, n;

#define APPEND(...)							\
	do {								\
		n = snprintf(buf + off, len > off ? len - off : 0, __VA_ARGS__); \
		if (n < 0 || off + (size_t)n >= len)			\
			return -ENOSPC;					\
		off += (size_t)n;					\
	} while (0)

	if (!len)
		return -ENOSPC;
	buf[0] = '\0';
	if (info->has_l3 && info->nr_l3_ids) {
		mask = resctrl_cat_mask(info->cbm_bits, info->min_cbm_bits,
					qos->cat_start_pct, qos->cat_end_pct);
		if (!mask)
			return -EINVAL;
		APPEND("L3:");
		for (i = 0; i < info->nr_l3_ids; i++)
			APPEND("%s%d=%" PRIx64, i ? ";" : "", info->l3_ids[i], mask);
		APPEND("\n");
	}
	/* mba 0: bandwidth not managed for this class */
	if (qos->mba_pct < 0 || qos->mba_pct > RESCTRL_MB_MAX)
		return -EINVAL;
	if (info->has_mb && info->nr_mb_ids && qos->mba_pct) {
		mb = resctrl_mb_round(info->mb_min, info->mb_gran, qos->mba_pct);
		APPEND("MB:");
		for (i = 0; i < info->nr_mb_ids; i++)
			APPEND("%s%d=%u", i ? ";" : "", info->mb_ids[i], mb);
		APPEND("\n");
	}
#undef APPEND
	return (int)off;
}

static bool has_id(const int *ids, int nr, int id)
{
	int i;

	for (i = 0; i < nr; i++)
		if (ids[i] == id)
			return true;
	return false;
}

int resctrl_schemata_check(const struct resctrl_info *info, const char *text,
			   char *why, size_t why_len)
{
	struct resctrl_schemata s;
	int i, err;

	why[0] = '\0';
	err = resctrl_schemata_parse(text, &s);
	if (err) {
		snprintf(why, why_len, "malformed schemata");
		return -EINVAL;
	}
	if (!*text || text[strlen(text) - 1] != '\n') {
		snprintf(why, why_len, "a schemata write must end in a newline");
		return -EINVAL;
	}
	if (s.nr_other) {
		snprintf(why, why_len, "only L3 and MB lines are written");
		return -EINVAL;
	}
	if (s.nr_l3 && !info->has_l3) {
		snprintf(why, why_len, "no L3 allocation on this machine");
		return -EINVAL;
	}
	if (s.nr_mb && !info->has_mb) {
		snprintf(why, why_len, "no MB allocation in percent on this machine");
		return -EINVAL;
	}
	for (i = 0; i < s.nr_l3; i++) {
		uint64_t m = s.l3[i];

		if (!has_id(info->l3_ids, info->nr_l3_ids, s.l3_id[i])) {
			snprintf(why, why_len, "L3: unknown cache id %d", s.l3_id[i]);
			return -EINVAL;
		}
		if (!m || (m & ~info->cbm_mask)) {
			snprintf(why, why_len, "L3:%d: mask %" PRIx64 " out of range (cbm_mask %"
				 PRIx64 ")", s.l3_id[i], m, info->cbm_mask);
			return -EINVAL;
		}
		if (!info->sparse_masks && !contiguous(m)) {
			snprintf(why, why_len, "L3:%d: mask %" PRIx64 " has non-consecutive 1-bits",
				 s.l3_id[i], m);
			return -EINVAL;
		}
		if ((unsigned int)__builtin_popcountll(m) < info->min_cbm_bits) {
			snprintf(why, why_len, "L3:%d: mask %" PRIx64 " has fewer than %u bits",
				 s.l3_id[i], m, info->min_cbm_bits);
			return -EINVAL;
		}
	}
	for (i = 0; i < s.nr_mb; i++) {
		if (!has_id(info->mb_ids, info->nr_mb_ids, s.mb_id[i])) {
			snprintf(why, why_len, "MB: unknown domain id %d", s.mb_id[i]);
			return -EINVAL;
		}
		if (s.mb[i] < info->mb_min || s.mb[i] > RESCTRL_MB_MAX) {
			snprintf(why, why_len, "MB:%d: %u out of range [%u,%d]",
				 s.mb_id[i], s.mb[i], info->mb_min, RESCTRL_MB_MAX);
			return -EINVAL;
		}
	}
	return 0;
}

bool resctrl_schemata_satisfied(const struct resctrl_info *info,
				const char *cur, const char *want)
{
	struct resctrl_schemata c, w;
	int i, k;

	if (resctrl_schemata_parse(cur, &c) || resctrl_schemata_parse(want, &w))
		return false;
	for (i = 0; i < w.nr_l3; i++) {
		for (k = 0; k < c.nr_l3 && c.l3_id[k] != w.l3_id[i]; k++)
			;
		if (k == c.nr_l3 || c.l3[k] != w.l3[i])
			return false;
	}
	for (i = 0; i < w.nr_mb; i++) {
		unsigned int v = resctrl_mb_round(info->mb_min, info->mb_gran,
						  (int)w.mb[i]);

		for (k = 0; k < c.nr_mb && c.mb_id[k] != w.mb_id[i]; k++)
			;
		if (k == c.nr_mb || c.mb[k] != v)
			return false;
	}
	return true;
}

/* ---- I/O ---- */

/* The value on one line for messages: newlines as "\n". */
static void one_line(const char *s, char *buf, size_t len)
{
	size_t o = 0;

	for (; *s && o + 3 < len; s++) {
		if (*s == '\n') {
			buf[o++] = '\\';
			buf[o++] = 'n';
		} else {
			buf[o++] = *s;
		}
	}
	buf[o] = '\0';
}

/* Read an unsigned decimal info file; -EINVAL reported with path and content. */
static int read_uint(const char *root, const char *rel, unsigned int *v)
{
	char path[PATH_MAX], *text, *end;
	unsigned long x;
	int err;

	snprintf(path, sizeof(path), "%s/info/%s", root, rel);
	err = file_read_all(path, READ_MAX, &text);
	if (err) {
		pr_err("resctrl: %s: cannot read: %s", path, strerror(-err));
		return err;
	}
	errno = 0;
	x = strtoul(text, &end, 10);
	while (isspace((unsigned char)*end))
		end++;
	if (errno || end == text || *end || x > UINT_MAX) {
		pr_err("resctrl: %s: not a number: '%.*s'", path,
		       (int)strcspn(text, "\n"), text);
		err = -EINVAL;
	} else {
		*v = (unsigned int)x;
	}
	free(text);
	return err;
}

static bool exists(const char *root, const char *rel)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	return access(path, F_OK) == 0;
}

static int detect_l3(const char *root, struct resctrl_info *info)
{
	char path[PATH_MAX], *text;
	unsigned int sparse = 0;
	int err;

	snprintf(path, sizeof(path), "%s/info/L3/cbm_mask", root);
	err = file_read_all(path, READ_MAX, &text);
	if (err) {
		pr_err("resctrl: %s: cannot read: %s", path, strerror(-err));
		return err;
	}
	err = resctrl_parse_cbm(text, &info->cbm_mask, &info->cbm_bits);
	if (err)
		pr_err("resctrl: %s: not a contiguous hex mask: '%.*s'", path,
		       (int)strcspn(text, "\n"), text);
	free(text);
	if (!err)
		err = read_uint(root, "L3/min_cbm_bits", &info->min_cbm_bits);
	if (!err)
		err = read_uint(root, "L3/num_closids", &info->l3_closids);
	if (!err && exists(root, "info/L3/shareable_bits")) {
		snprintf(path, sizeof(path), "%s/info/L3/shareable_bits", root);
		if (!file_read_all(path, READ_MAX, &text)) {
			info->shareable_bits = strtoull(text, NULL, 16);
			free(text);
		}
	}
	if (!err && exists(root, "info/L3/sparse_masks"))
		err = read_uint(root, "L3/sparse_masks", &sparse);
	info->sparse_masks = sparse == 1;
	if (!err && info->min_cbm_bits > info->cbm_bits) {
		pr_err("resctrl: %s/info/L3/min_cbm_bits: %u exceeds the %u ways of cbm_mask",
		       root, info->min_cbm_bits, info->cbm_bits);
		err = -EINVAL;
	}
	return err;
}

static int detect_mb(const char *root, struct resctrl_info *info)
{
	int err;

	err = read_uint(root, "MB/min_bandwidth", &info->mb_min);
	if (!err)
		err = read_uint(root, "MB/bandwidth_gran", &info->mb_gran);
	if (!err)
		err = read_uint(root, "MB/num_closids", &info->mb_closids);
	return err;
}

int resctrl_detect(const char *root, struct resctrl_info *info)
{
	struct resctrl_schemata s;
	char path[PATH_MAX], *text = NULL;
	bool l3_dir, mb_dir;
	int i, err;

	memset(info, 0, sizeof(*info));
	if (!exists(root, "info") || !exists(root, "schemata")) {
		pr_info("resctrl: not mounted at %s: no cache or bandwidth allocation", root);
		return 0;
	}
	l3_dir = exists(root, "info/L3");
	mb_dir = exists(root, "info/MB");
	err = l3_dir ? detect_l3(root, info) : 0;
	if (!err && mb_dir)
		err = detect_mb(root, info);
	if (err)
		return err;
	snprintf(path, sizeof(path), "%s/schemata", root);
	err = file_read_all(path, READ_MAX, &text);
	if (err) {
		pr_err("resctrl: %s: cannot read: %s", path, strerror(-err));
		return err;
	}
	err = resctrl_schemata_parse(text, &s);
	if (err) {
		char shown[RESCTRL_SCHEMATA_MAX];

		one_line(text, shown, sizeof(shown));
		pr_err("resctrl: %s: cannot parse: '%s'", path, shown);
		goto out;
	}
	info->mounted = true;
	info->nr_l3_ids = s.nr_l3;
	memcpy(info->l3_ids, s.l3_id, sizeof(s.l3_id));
	info->nr_mb_ids = s.nr_mb;
	memcpy(info->mb_ids, s.mb_id, sizeof(s.mb_id));
	info->has_l3 = l3_dir && s.nr_l3 > 0;
	info->has_mb = mb_dir && s.nr_mb > 0;
	for (i = 0; i < s.nr_mb; i++)
		if (s.mb[i] > RESCTRL_MB_MAX)
			info->has_mb = false;
	if (mb_dir && s.nr_mb && !info->has_mb)
		pr_info("resctrl: MB is not in percent here (AMD or mba_MBps): bandwidth left alone");
	if (!l3_dir && exists(root, "info/L3CODE"))
		pr_info("resctrl: mounted with cdp: L3 allocation left alone");
out:
	free(text);
	return err;
}

static bool valid_group_name(const char *name)
{
	return name && *name && !strchr(name, '/') && strcmp(name, ".") &&
	       strcmp(name, "..") && strcmp(name, "info") &&
	       strcmp(name, "mon_groups") && strcmp(name, "mon_data");
}

int resctrl_group_ensure(const char *root, const char *name, struct journal *j)
{
	char path[PATH_MAX];
	struct stat st;
	int err;

	if (!valid_group_name(name) || !j)
		return -EINVAL;
	snprintf(path, sizeof(path), "%s/%s", root, name);
	if (!stat(path, &st))
		return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
	if (errno != ENOENT) {
		err = -errno;
		pr_err("resctrl: %s: %s", path, strerror(-err));
		return err;
	}
	/* journal first: a crash between the two still gets it removed */
	err = journal_note_mkdir(j, path);
	if (err) {
		pr_err("resctrl: %s: cannot journal the new group: %s", path,
		       strerror(-err));
		return err;
	}
	if (mkdir(path, 0755)) {
		err = -errno;
		if (err == -EEXIST)
			return 0;
		pr_err("resctrl: %s: cannot create group: %s%s", path, strerror(-err),
		       err == -ENOSPC ? " (no free CLOSID)" : "");
		return err;
	}
	pr_info("resctrl: created group %s", path);
	return 1;
}

int resctrl_schemata_write(const char *root, const char *name,
			   const struct resctrl_info *info, const char *text,
			   struct journal *j)
{
	char path[PATH_MAX], why[160], shown[RESCTRL_SCHEMATA_MAX], *cur = NULL;
	int err;

	/* the root group holds every SYSTEM task: never written */
	if (!valid_group_name(name) || !j)
		return -EINVAL;
	snprintf(path, sizeof(path), "%s/%s/schemata", root, name);
	one_line(text, shown, sizeof(shown));
	err = resctrl_schemata_check(info, text, why, sizeof(why));
	if (err) {
		pr_err("resctrl: %s: refusing '%s': %s", path, shown, why);
		return err;
	}
	err = file_read_all(path, READ_MAX, &cur);
	if (err) {
		pr_err("resctrl: %s: cannot read: %s", path, strerror(-err));
		return err;
	}
	if (resctrl_schemata_satisfied(info, cur, text)) {
		/* in place: still wanted in this pass, or the sweep releases it */
		err = journal_want(j, path);
		goto out;
	}
	err = journal_write(j, path, text);
	if (err) {
		char st_path[PATH_MAX], *status = NULL;

		snprintf(st_path, sizeof(st_path), "%s/info/last_cmd_status", root);
		if (!file_read_all(st_path, READ_MAX, &status))
			status[strcspn(status, "\n")] = '\0';
		pr_err("resctrl: %s: write of '%s' failed: %s (errno %d); last_cmd_status: %s",
		       path, shown, strerror(-err), -err,
		       status && *status ? status : "n/a");
		free(status);
		goto out;
	}
	err = 1;
out:
	free(cur);
	return err;
}

int resctrl_apply_class(const char *root, const char *name,
			const struct resctrl_info *info,
			const struct resctrl_qos *qos, struct journal *j)
{
	char text[RESCTRL_SCHEMATA_MAX], path[PATH_MAX];
	int created, err;

	if (!info->mounted || (!info->has_l3 && !info->has_mb))
		return -EOPNOTSUPP;
	err = resctrl_schemata_line(text, sizeof(text), info, qos);
	if (err < 0) {
		pr_err("resctrl: group %s: no schemata for L3 %d-%d%%, MB %d%% over %u ways",
		       name, qos->cat_start_pct, qos->cat_end_pct, qos->mba_pct,
		       info->cbm_bits);
		return err;
	}
	created = resctrl_group_ensure(root, name, j);
	if (created < 0 || err == 0)
		return created < 0 ? created : 0;
	err = resctrl_schemata_write(root, name, info, text, j);
	if (err < 0 && created == 1) {
		/* a group with default (full) schemata would give BE everything */
		snprintf(path, sizeof(path), "%s/%s", root, name);
		if (rmdir(path))
			pr_warn("resctrl: %s: cannot remove after failure: %s", path,
				strerror(errno));
	}
	return err < 0 ? err : 0;
}

/* ---- tasks ---- */

#define WALK_DEPTH	32	/* kubelet's layout is 3 below besteffort */

/* A growing array of thread ids. */
struct idvec {
	pid_t *v;
	int nr, cap;
};

static int idvec_push(struct idvec *iv, pid_t id)
{
	pid_t *nv;
	int cap;

	if (iv->nr == iv->cap) {
		cap = iv->cap ? iv->cap * 2 : 64;
		nv = realloc(iv->v, cap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		iv->v = nv;
		iv->cap = cap;
	}
	iv->v[iv->nr++] = id;
	return 0;
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return x < y ? -1 : x > y;
}

/* Sort, dropping duplicates. */
static void idvec_sort(struct idvec *iv)
{
	int i, n = 0;

	if (!iv->nr)
		return;
	qsort(iv->v, iv->nr, sizeof(*iv->v), cmp_pid);
	for (i = 0; i < iv->nr; i++)
		if (!n || iv->v[i] != iv->v[n - 1])
			iv->v[n++] = iv->v[i];
	iv->nr = n;
}

static bool idvec_has(const struct idvec *iv, pid_t id)
{
	return iv->nr && bsearch(&id, iv->v, iv->nr, sizeof(id), cmp_pid);
}

/*
 * Append the ids of path, one a line: all of them, or none with -errno
 * (-ENOENT: gone, -EINVAL: not a list of ids).
 */
static int read_ids_into(const char *path, struct idvec *iv)
{
	char *text, *s, *end;
	int err, nr = iv->nr;
	long x;

	err = file_read_all(path, READ_MAX, &text);
	if (err)
		return err == -ENODEV ? -ENOENT : err;
	for (s = text; !err; s = end) {
		while (isspace((unsigned char)*s))
			s++;
		if (!*s)
			break;
		errno = 0;
		x = strtol(s, &end, 10);
		if (errno || end == s || x <= 0 || x > INT_MAX)
			err = -EINVAL;
		else
			err = idvec_push(iv, (pid_t)x);
	}
	if (err)
		iv->nr = nr;
	free(text);
	return err;
}

int resctrl_read_ids(const char *path, pid_t **ids)
{
	struct idvec iv = { 0 };
	int err;

	err = read_ids_into(path, &iv);
	if (err) {
		free(iv.v);
		iv.v = NULL;
	}
	*ids = iv.v;
	return err ? err : iv.nr;
}

/* A group's tasks file: the threads it holds (sorted), and an fd to add. */
struct group_tasks {
	char path[PATH_MAX];
	struct idvec have;
	int fd;
};

static int group_open(struct group_tasks *g, const char *root, const char *group)
{
	int err;

	memset(g, 0, sizeof(*g));
	g->fd = -1;
	if (!valid_group_name(group))
		return -EINVAL;
	snprintf(g->path, sizeof(g->path), "%s/%s/tasks", root, group);
	err = read_ids_into(g->path, &g->have);
	if (err) {
		pr_err("resctrl: %s: cannot read the group's tasks: %s", g->path,
		       strerror(-err));
		return err;
	}
	idvec_sort(&g->have);
	g->fd = open(g->path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (g->fd < 0) {
		err = -errno;
		pr_err("resctrl: %s: cannot open for writing: %s", g->path,
		       strerror(-err));
	}
	return err;
}

static void group_close(struct group_tasks *g)
{
	if (g->fd >= 0)
		close(g->fd);
	free(g->have.v);
}

/* Move one thread: 0 or -errno (-ESRCH: it exited, -ENOENT: group gone). */
static int group_add(struct group_tasks *g, pid_t tid)
{
	char num[24];
	ssize_t w;
	int n, err;

	n = snprintf(num, sizeof(num), "%d\n", (int)tid);
	/* one id per write: the kernel parses each write on its own */
	w = write(g->fd, num, (size_t)n);
	if (w == n)
		return 0;
	err = w < 0 ? -errno : -EIO;
	return err == -ENODEV ? -ENOENT : err;
}

/*
 * Write every id of want (sorted, unique) that the group does not hold.
 * Goes on past a failed id (reported once, with the first failure) but
 * not past a removed group. Returns 0 or the first -errno.
 */
static int assign_sorted(struct group_tasks *g, const struct idvec *want,
			 struct resctrl_assign_stats *st)
{
	int i, err, first = 0;
	pid_t bad = 0;

	for (i = 0; i < want->nr; i++) {
		if (want->v[i] <= 0 || idvec_has(&g->have, want->v[i]))
			continue;
		err = group_add(g, want->v[i]);
		if (!err) {
			st->moved++;
			continue;
		}
		if (err == -ESRCH) {
			st->vanished++;	/* exited since it was listed */
			continue;
		}
		st->failed++;
		if (!first) {
			first = err;
			bad = want->v[i];
		}
		if (err == -ENOENT)
			break;		/* the group was removed */
	}
	if (first)
		pr_err("resctrl: %s: cannot write '%d': %s (errno %d)%s", g->path,
		       (int)bad, strerror(-first), -first,
		       st->failed > 1 ? "; more ids failed too" : "");
	return first;
}

int resctrl_assign_tasks(const char *root, const char *group,
			 const pid_t *tids, int nr)
{
	struct resctrl_assign_stats st = { 0 };
	struct idvec want = { 0 };
	struct group_tasks g;
	int i, err;

	if (nr < 0)
		return -EINVAL;
	err = group_open(&g, root, group);
	if (err)
		goto out;
	for (i = 0; i < nr && !err; i++)
		err = idvec_push(&want, tids[i]);
	if (err)
		goto out;
	idvec_sort(&want);
	err = assign_sorted(&g, &want, &st);
out:
	free(want.v);
	group_close(&g);
	return err ? err : st.moved;
}

/* A walk of a cgroup subtree gathering its thread ids. */
struct subtree_walk {
	const char *file;		/* "tasks" (v1) or "cgroup.threads" (v2) */
	struct idvec tids;
	struct resctrl_assign_stats *st;
	int err;			/* the first failure */
};

static void walk_failed(struct subtree_walk *w, const char *what,
			const char *path, int err)
{
	pr_err("resctrl: %s: cannot %s: %s", path, what, strerror(-err));
	w->st->failed++;
	if (!w->err)
		w->err = err;
}

/* The cgroup's own threads; one removed meanwhile is skipped. */
static void walk_read(struct subtree_walk *w, const char *dir)
{
	char path[PATH_MAX];
	int err;

	snprintf(path, sizeof(path), "%s/%s", dir, w->file);
	err = read_ids_into(path, &w->tids);
	if (!err)
		w->st->cgroups++;
	else if (err != -ENOENT)
		walk_failed(w, "read", path, err);
}

static bool is_child_cgroup(DIR *d, const struct dirent *de)
{
	struct stat st;

	if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
		return false;
	if (de->d_type != DT_UNKNOWN)
		return de->d_type == DT_DIR;
	return !fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) &&
	       S_ISDIR(st.st_mode);
}

/* dir (a PATH_MAX buffer, restored on return) and the cgroups below it. */
static void walk_dir(struct subtree_walk *w, char *dir, int depth)
{
	size_t off = strlen(dir);
	struct dirent *de;
	DIR *d;

	walk_read(w, dir);
	if (depth >= WALK_DEPTH)
		return;
	d = opendir(dir);
	if (!d) {
		if (errno != ENOENT && errno != ENODEV)
			walk_failed(w, "list", dir, -errno);
		return;
	}
	while ((de = readdir(d))) {
		if (!is_child_cgroup(d, de))
			continue;
		if (snprintf(dir + off, PATH_MAX - off, "/%s", de->d_name) >=
		    (int)(PATH_MAX - off)) {
			dir[off] = '\0';
			walk_failed(w, "walk below", dir, -ENAMETOOLONG);
			continue;
		}
		walk_dir(w, dir, depth + 1);
		dir[off] = '\0';
	}
	closedir(d);
}

int resctrl_assign_subtree(const char *root, const char *group,
			   const char *cgroup_dir, struct resctrl_assign_stats *st)
{
	struct resctrl_assign_stats none;
	struct subtree_walk w = { .st = st ? st : &none };
	struct group_tasks g = { .fd = -1 };
	char dir[PATH_MAX];
	int err = 0;

	memset(w.st, 0, sizeof(*w.st));
	if (snprintf(dir, sizeof(dir), "%s", cgroup_dir) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	if (!exists(dir, "."))
		return 0;	/* the cgroup is gone */
	/* v1 lists threads in "tasks", v2 in "cgroup.threads" */
	w.file = exists(dir, "tasks") ? "tasks" : "cgroup.threads";
	walk_dir(&w, dir, 0);
	idvec_sort(&w.tids);
	w.st->threads = w.tids.nr;
	if (!w.tids.nr)
		goto out;
	err = group_open(&g, root, group);
	if (!err)
		err = assign_sorted(&g, &w.tids, w.st);
	if (w.st->moved)
		pr_debug("resctrl: %d threads of %s moved into %s", w.st->moved,
			 cgroup_dir, g.path);
out:
	group_close(&g);
	free(w.tids.v);
	if (!err)
		err = w.err;
	return err ? err : w.st->moved;
}

int resctrl_assign_cgroup(const char *root, const char *group,
			  const char *cgroup_dir)
{
	return resctrl_assign_subtree(root, group, cgroup_dir, NULL);
}
