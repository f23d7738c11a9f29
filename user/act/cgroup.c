// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * cgroup v1 / v2 / hybrid knobs and readers (see cgroup.h and
 * docs/ENFORCEMENT.md). Pure conversions first, then paths, then I/O.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>
#include "cgroup.h"
#include "fileio.h"
#include "log.h"

#define CG_READ_MAX		(1 << 20)	/* cgroup.procs of a big cgroup */
#define KILL_ROUNDS		100
#define KILL_WAIT_NS		10000000L	/* 10 ms between rounds */

/* ---- pure helpers --------------------------------------------------- */

enum cg_kind cg_mode_from_magic(long root_magic, bool has_v1_ctrl,
				long unified_magic)
{
	bool unified = unified_magic == CGROUP2_SUPER_MAGIC;

	if (root_magic == CGROUP2_SUPER_MAGIC)
		return CG_V2;
	/* systemd's hybrid layout with every controller on v2 (cgroup_no_v1=all) */
	if (!has_v1_ctrl)
		return unified ? CG_V2 : CG_NONE;
	return unified ? CG_HYBRID : CG_V1;
}

const char *cg_mode_name(enum cg_kind mode)
{
	switch (mode) {
	case CG_V1:
		return "v1";
	case CG_V2:
		return "v2";
	case CG_HYBRID:
		return "hybrid";
	default:
		return "none";
	}
}

uint64_t cg_shares_to_weight(uint64_t shares)
{
	if (shares < CG_SHARES_MIN)
		shares = CG_SHARES_MIN;
	if (shares > CG_SHARES_MAX)
		shares = CG_SHARES_MAX;
	return 1 + ((shares - 2) * 9999) / 262142;
}

uint64_t cg_weight_to_shares(uint64_t weight)
{
	if (weight < CG_WEIGHT_MIN)
		weight = CG_WEIGHT_MIN;
	if (weight > CG_WEIGHT_MAX)
		weight = CG_WEIGHT_MAX;
	/* Rounded up: cg_shares_to_weight(cg_weight_to_shares(w)) == w. */
	return 2 + ((weight - 1) * 262142 + 9998) / 9999;
}

int cg_check_cpu_quota(long long quota_us, uint64_t period_us)
{
	if (period_us < CG_PERIOD_MIN_US || period_us > CG_PERIOD_MAX_US)
		return -EINVAL;
	if (quota_us >= 0 && quota_us < CG_QUOTA_MIN_US)
		return -EINVAL;
	return 0;
}

int cg_check_cpu_weight(uint64_t weight)
{
	if (weight < CG_WEIGHT_MIN || weight > CG_WEIGHT_MAX)
		return -ERANGE;
	return 0;
}

int cg_format_cpu_max(char *buf, size_t len, long long quota_us,
		      uint64_t period_us)
{
	int n;

	if (cg_check_cpu_quota(quota_us, period_us))
		return -EINVAL;
	if (quota_us < 0)
		n = snprintf(buf, len, "max %" PRIu64, period_us);
	else
		n = snprintf(buf, len, "%lld %" PRIu64, quota_us, period_us);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int cg_parse_cpu_max(const char *s, long long *quota_us, uint64_t *period_us)
{
	unsigned long long period;
	long long quota;
	char q[32], tail;
	int n;

	n = sscanf(s, "%31s %llu %c", q, &period, &tail);
	if (n != 2)
		return -EINVAL;
	if (!strcmp(q, "max")) {
		quota = -1;
	} else {
		char *end;

		errno = 0;
		quota = strtoll(q, &end, 10);
		if (errno || *end || quota < 0)
			return -EINVAL;
	}
	if (cg_check_cpu_quota(quota, period))
		return -EINVAL;
	*quota_us = quota;
	*period_us = period;
	return 0;
}

/* ---- context and paths ---------------------------------------------- */

static long magic_of(const char *path)
{
	struct statfs sf;

	return statfs(path, &sf) ? 0 : (long)sf.f_type;
}

static int join(char *buf, size_t len, const char *a, const char *b)
{
	int n = snprintf(buf, len, "%s/%s", a, b);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int cg_ctx_init(struct cg_ctx *ctx, enum cg_kind mode, const char *root)
{
	int err = 0;

	memset(ctx, 0, sizeof(*ctx));
	if (!root)
		root = CG_ROOT_DEFAULT;
	if (snprintf(ctx->root, sizeof(ctx->root), "%s", root) >=
	    (int)sizeof(ctx->root))
		return -ENAMETOOLONG;
	ctx->mode = mode;
	ctx->page_size = sysconf(_SC_PAGESIZE);
	switch (mode) {
	case CG_V2:
		strcpy(ctx->cpu, ctx->root);
		strcpy(ctx->cpuacct, ctx->root);
		strcpy(ctx->cpuset, ctx->root);
		strcpy(ctx->memory, ctx->root);
		strcpy(ctx->unified, ctx->root);
		return 0;
	case CG_HYBRID:
		err = join(ctx->unified, sizeof(ctx->unified), root, "unified");
		/* fall through */
	case CG_V1:
		err = err ?: join(ctx->cpu, sizeof(ctx->cpu), root, "cpu");
		err = err ?: join(ctx->cpuacct, sizeof(ctx->cpuacct), root, "cpuacct");
		err = err ?: join(ctx->cpuset, sizeof(ctx->cpuset), root, "cpuset");
		err = err ?: join(ctx->memory, sizeof(ctx->memory), root, "memory");
		return err;
	default:
		return -EINVAL;
	}
}

int cg_detect(struct cg_ctx *ctx, const char *root)
{
	char path[PATH_MAX];
	long root_magic, uni_magic;
	enum cg_kind mode;
	bool v1;
	int err;

	if (!root)
		root = CG_ROOT_DEFAULT;
	root_magic = magic_of(root);
	if (!root_magic) {
		err = -errno;
		pr_err("%s: cannot statfs: %s", root, strerror(errno));
		return err;
	}
	/* The cpu hierarchy is where kubelet puts pods and what we attribute by. */
	if (join(path, sizeof(path), root, "cpu"))
		return -ENAMETOOLONG;
	v1 = magic_of(path) == CGROUP_SUPER_MAGIC;
	if (join(path, sizeof(path), root, "unified"))
		return -ENAMETOOLONG;
	uni_magic = magic_of(path);
	mode = cg_mode_from_magic(root_magic, v1, uni_magic);
	if (mode == CG_NONE) {
		pr_err("%s: neither a cgroup2 mount nor a tree of v1 controllers "
		       "(statfs magic 0x%lx)", root, root_magic);
		return -ENOENT;
	}
	/* v2 below <root>/unified: that is the hierarchy (path still holds it) */
	err = cg_ctx_init(ctx, mode,
			  mode == CG_V2 && root_magic != CGROUP2_SUPER_MAGIC ? path : root);
	if (err)
		return err;
	pr_debug("%s: cgroup mode %s", ctx->root, cg_mode_name(mode));
	return 0;
}

int cg_path(char *buf, size_t len, const char *hier, const char *rel,
	    const char *file)
{
	int n;

	while (rel && *rel == '/')
		rel++;
	if (!rel)
		rel = "";
	n = snprintf(buf, len, "%s%s%s%s%s", hier, *rel ? "/" : "", rel,
		     file ? "/" : "", file ? file : "");
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static bool is_v2(const struct cg_ctx *ctx)
{
	return ctx->mode == CG_V2;
}

int cg_cpu_quota_paths(const struct cg_ctx *ctx, const char *rel,
		       char paths[2][PATH_MAX])
{
	if (is_v2(ctx))
		return cg_path(paths[0], PATH_MAX, ctx->cpu, rel, "cpu.max") ?: 1;
	return cg_path(paths[0], PATH_MAX, ctx->cpu, rel, "cpu.cfs_quota_us") ?:
	       cg_path(paths[1], PATH_MAX, ctx->cpu, rel, "cpu.cfs_period_us") ?: 2;
}

/* The file's path for a message (truncated if absurdly long). */
static const char *msg_path(char *buf, size_t len, const char *hier,
			    const char *rel, const char *file)
{
	if (cg_path(buf, len, hier, rel, file))
		snprintf(buf, len, "%s/...", hier);
	return buf;
}

/* ---- writes ----------------------------------------------------------- */

/* A missing knob (memory.high on v1) is reported once, not per cgroup. */
static bool first_missing(const char *file)
{
	static const char *seen[16];
	int i;

	for (i = 0; i < 16 && seen[i]; i++)
		if (!strcmp(seen[i], file))
			return false;
	if (i < 16)
		seen[i] = file;
	return true;
}

/*
 * journal_write() on hier/rel/file. -ENOENT means the cgroup is gone; a
 * cgroup that is there without the file has no such knob: -EOPNOTSUPP.
 */
static int knob_write(const struct cg_ctx *ctx, struct journal *j,
		      const char *hier, const char *rel, const char *file,
		      const char *value)
{
	char path[PATH_MAX];
	struct stat st;
	int err;

	err = cg_path(path, sizeof(path), hier, rel, file);
	if (err)
		return err;
	err = journal_write(j, path, value);
	if (err != -ENOENT)
		return err;
	if (cg_path(path, sizeof(path), hier, rel, NULL) || stat(path, &st))
		return -ENOENT;
	if (first_missing(file))
		pr_warn("%s/%s: no such knob on this kernel or controller not "
			"enabled (reported once per knob)", path, file);
	return -EOPNOTSUPP;
}

static int read_knob(const char *hier, const char *rel, const char *file,
		     char **out)
{
	char path[PATH_MAX];
	int err;

	err = cg_path(path, sizeof(path), hier, rel, file);
	if (err)
		return err;
	return file_read_all(path, CG_READ_MAX, out);
}

/* j: read through the journal's directory fds (a knob read each tick). */
static int read_ll_j(struct journal *j, const char *hier, const char *rel,
		     const char *file, long long *v)
{
	char path[PATH_MAX], *buf, *end;
	int err;

	err = cg_path(path, sizeof(path), hier, rel, file);
	if (err)
		return err;
	err = journal_read(j, path, CG_READ_MAX, &buf);
	if (err)
		return err;
	errno = 0;
	if (!strncmp(buf, "max", 3)) {
		*v = -1;
	} else {
		*v = strtoll(buf, &end, 10);
		if (errno || end == buf)
			err = -EINVAL;
	}
	free(buf);
	return err;
}

static int read_ll(const char *hier, const char *rel, const char *file,
		   long long *v)
{
	return read_ll_j(NULL, hier, rel, file, v);
}

static int read_u64(const char *hier, const char *rel, const char *file,
		    uint64_t *v)
{
	char *buf, *end;
	int err;

	err = read_knob(hier, rel, file, &buf);
	if (err)
		return err;
	errno = 0;
	*v = strtoull(buf, &end, 10);
	if (errno || end == buf)
		err = -EINVAL;
	free(buf);
	return err;
}

/* "key value" lines (cpu.stat, memory.stat); a missing key reads as 0. */
static int read_keyed(const char *hier, const char *rel, const char *file,
		      const char *const *keys, uint64_t *vals, int nr)
{
	char *buf, *line, *save = NULL;
	char key[64];
	unsigned long long v;
	int err, i;

	for (i = 0; i < nr; i++)
		vals[i] = 0;
	err = read_knob(hier, rel, file, &buf);
	if (err)
		return err;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "%63s %llu", key, &v) != 2)
			continue;
		for (i = 0; i < nr; i++)
			if (!strcmp(key, keys[i]))
				vals[i] = v;
	}
	free(buf);
	return 0;
}

static int v1_set_cpu_quota(const struct cg_ctx *ctx, struct journal *j,
			    const char *rel, long long quota, uint64_t period)
{
	char qs[32], ps[32], cqs[32], cps[32], path[PATH_MAX];
	long long cur_q, cur_p;
	int err;

	if (quota < 0)
		quota = -1;
	snprintf(qs, sizeof(qs), "%lld", quota);
	/*
	 * colod's period in place and nobody wrote it since (knobwatch.h): no
	 * read of it (500 BE pods: 500 reads a tick otherwise).
	 */
	snprintf(ps, sizeof(ps), "%" PRIu64, period);
	if (period && !cg_path(path, sizeof(path), ctx->cpu, rel, "cpu.cfs_period_us") &&
	    journal_in_place(j, path, ps))
		cur_p = (long long)period;
	else if ((err = read_ll_j(j, ctx->cpu, rel, "cpu.cfs_period_us", &cur_p)))
		return err == -ENODEV ? -ENOENT : err;
	if (!period)
		period = cur_p;
	if (cg_check_cpu_quota(quota, period)) {
		pr_err("%s: bad CPU quota %lld us / period %" PRIu64 " us",
		       msg_path(path, sizeof(path), ctx->cpu, rel, "cpu.cfs_quota_us"),
		       quota, period);
		return -EINVAL;
	}
	snprintf(ps, sizeof(ps), "%" PRIu64, period);
	/*
	 * Asked for even when in place: a period colod wrote stays wanted in
	 * this pass, or the sweep would put the original back and the next
	 * pass write it again; and known in place from the next pass on.
	 */
	if ((uint64_t)cur_p == period) {
		err = cg_path(path, sizeof(path), ctx->cpu, rel, "cpu.cfs_period_us");
		err = err ?: journal_write(j, path, ps);
		return err ?: knob_write(ctx, j, ctx->cpu, rel, "cpu.cfs_quota_us", qs);
	}
	err = read_ll(ctx->cpu, rel, "cpu.cfs_quota_us", &cur_q);
	if (err)
		return err == -ENODEV ? -ENOENT : err;
	/*
	 * The kernel checks quota/period against the parent and children at
	 * every write, so go through "unlimited", which it always accepts.
	 */
	snprintf(cqs, sizeof(cqs), "%lld", cur_q);
	snprintf(cps, sizeof(cps), "%lld", cur_p);
	err = knob_write(ctx, j, ctx->cpu, rel, "cpu.cfs_quota_us", "-1");
	if (err)
		return err;
	err = knob_write(ctx, j, ctx->cpu, rel, "cpu.cfs_period_us", ps);
	if (err)
		goto rollback_quota;
	if (quota < 0)
		return 0;
	err = knob_write(ctx, j, ctx->cpu, rel, "cpu.cfs_quota_us", qs);
	if (!err)
		return 0;
	knob_write(ctx, j, ctx->cpu, rel, "cpu.cfs_period_us", cps);
rollback_quota:
	knob_write(ctx, j, ctx->cpu, rel, "cpu.cfs_quota_us", cqs);
	return err;
}

int cg_set_cpu_quota(const struct cg_ctx *ctx, struct journal *j,
		     const char *rel, long long quota_us, uint64_t period_us)
{
	char buf[64], path[PATH_MAX];
	long long q;
	int err;

	if (!is_v2(ctx))
		return v1_set_cpu_quota(ctx, j, rel, quota_us, period_us);
	if (!period_us) {
		err = cg_read_cpu_quota(ctx, rel, &q, &period_us);
		if (err)
			return err;
	}
	if (cg_format_cpu_max(buf, sizeof(buf), quota_us, period_us)) {
		pr_err("%s: bad CPU quota %lld us / period %" PRIu64 " us",
		       msg_path(path, sizeof(path), ctx->cpu, rel, "cpu.max"),
		       quota_us, period_us);
		return -EINVAL;
	}
	return knob_write(ctx, j, ctx->cpu, rel, "cpu.max", buf);
}

int cg_set_cpu_weight(const struct cg_ctx *ctx, struct journal *j,
		      const char *rel, uint64_t weight)
{
	char buf[32], path[PATH_MAX];

	if (cg_check_cpu_weight(weight)) {
		pr_err("%s: cpu weight %" PRIu64 " out of range 1..10000",
		       msg_path(path, sizeof(path), ctx->cpu, rel,
				is_v2(ctx) ? "cpu.weight" : "cpu.shares"),
		       weight);
		return -ERANGE;
	}
	if (is_v2(ctx)) {
		snprintf(buf, sizeof(buf), "%" PRIu64, weight);
		return knob_write(ctx, j, ctx->cpu, rel, "cpu.weight", buf);
	}
	snprintf(buf, sizeof(buf), "%" PRIu64, cg_weight_to_shares(weight));
	return knob_write(ctx, j, ctx->cpu, rel, "cpu.shares", buf);
}

int cg_set_cpu_shares(const struct cg_ctx *ctx, struct journal *j,
		      const char *rel, uint64_t shares)
{
	char buf[32];

	if (is_v2(ctx))
		return cg_set_cpu_weight(ctx, j, rel, cg_shares_to_weight(shares));
	/* The kernel clamps silently; clamp here so the read-back matches. */
	if (shares < CG_SHARES_MIN)
		shares = CG_SHARES_MIN;
	if (shares > CG_SHARES_MAX)
		shares = CG_SHARES_MAX;
	snprintf(buf, sizeof(buf), "%" PRIu64, shares);
	return knob_write(ctx, j, ctx->cpu, rel, "cpu.shares", buf);
}

/*
 * The kernel sets the group's weight when cpu.idle changes (3 shares when
 * idle, 1024 / weight 100 when not, whatever was there): the weight's
 * original is held with the knob, or a restore would leave kubelet's
 * BestEffort pod at the weight of a Guaranteed one.
 */
int cg_set_cpu_idle(const struct cg_ctx *ctx, struct journal *j,
		    const char *rel, bool idle)
{
	char path[PATH_MAX], *cur = NULL;
	bool change = false;
	int err;

	err = cg_path(path, sizeof(path), ctx->cpu, rel,
		      is_v2(ctx) ? "cpu.weight" : "cpu.shares");
	/* held already (every tick after the first): no read of cpu.idle here */
	if (!err && !journal_holds(j, path)) {
		change = read_knob(ctx->cpu, rel, "cpu.idle", &cur) || atoi(cur) != idle;
		free(cur);
	}
	if (!err)
		err = journal_hold(j, path, change);
	if (err && err != -ENOENT)
		return err;
	return knob_write(ctx, j, ctx->cpu, rel, "cpu.idle", idle ? "1" : "0");
}

int cg_set_sched_slice(const struct cg_ctx *ctx, struct journal *j,
		       const char *top_rel, const char *rel, uint64_t ns)
{
	char top[PATH_MAX], dir[PATH_MAX];
	int err;

	err = cg_path(top, sizeof(top), ctx->cpu, top_rel, NULL);
	if (!err && rel)
		err = cg_path(dir, sizeof(dir), ctx->cpu, rel, NULL);
	if (!err)
		err = journal_slice(j, top, rel ? dir : NULL, ns);
	return err < 0 ? err : 0;
}

int cg_set_cpuset_cpus(const struct cg_ctx *ctx, struct journal *j,
		       const char *rel, const char *cpus)
{
	return knob_write(ctx, j, ctx->cpuset, rel, "cpuset.cpus", cpus);
}

/* The kernel's "unlimited" on v1 reads as PAGE_COUNTER_MAX pages. */
static long long v1_mem_unlimited(const struct cg_ctx *ctx)
{
	return (LLONG_MAX / ctx->page_size) * ctx->page_size;
}

static void mem_value(const struct cg_ctx *ctx, long long bytes, char *buf,
		      size_t len)
{
	if (bytes < 0 && is_v2(ctx))
		snprintf(buf, len, "max");
	else if (bytes < 0)
		snprintf(buf, len, "%lld", v1_mem_unlimited(ctx));
	else
		snprintf(buf, len, "%lld", bytes / ctx->page_size * ctx->page_size);
}

static int set_mem(const struct cg_ctx *ctx, struct journal *j,
		   const char *rel, const char *v2_file, const char *v1_file,
		   long long bytes)
{
	char buf[32];

	mem_value(ctx, bytes, buf, sizeof(buf));
	return knob_write(ctx, j, ctx->memory, rel,
			  is_v2(ctx) ? v2_file : v1_file, buf);
}

int cg_set_mem_max(const struct cg_ctx *ctx, struct journal *j,
		   const char *rel, long long bytes)
{
	return set_mem(ctx, j, rel, "memory.max", "memory.limit_in_bytes", bytes);
}

int cg_set_mem_high(const struct cg_ctx *ctx, struct journal *j,
		    const char *rel, long long bytes)
{
	/* v1 memory.high exists only on Alibaba Cloud Linux kernels. */
	return set_mem(ctx, j, rel, "memory.high", "memory.high", bytes);
}

int cg_set_mem_low(const struct cg_ctx *ctx, struct journal *j,
		   const char *rel, long long bytes)
{
	return set_mem(ctx, j, rel, "memory.low", "memory.soft_limit_in_bytes",
		       bytes);
}

int cg_set_mem_min(const struct cg_ctx *ctx, struct journal *j,
		   const char *rel, long long bytes)
{
	return set_mem(ctx, j, rel, "memory.min", "memory.min", bytes);
}

/* ---- readers ---------------------------------------------------------- */

int cg_read_cpu_usage(const struct cg_ctx *ctx, const char *rel,
		      uint64_t *usage_ns)
{
	static const char *const keys[] = { "usage_usec" };
	int err;

	if (!is_v2(ctx))
		return read_u64(ctx->cpuacct, rel, "cpuacct.usage", usage_ns);
	err = read_keyed(ctx->cpu, rel, "cpu.stat", keys, usage_ns, 1);
	*usage_ns *= 1000;
	return err;
}

int cg_read_cpu_stat(const struct cg_ctx *ctx, const char *rel,
		     struct cg_cpu_stat *st)
{
	static const char *const v1_keys[] = {
		"nr_periods", "nr_throttled", "throttled_time",
	};
	static const char *const v2_keys[] = {
		"nr_periods", "nr_throttled", "throttled_usec", "usage_usec",
	};
	uint64_t v[4];
	int err;

	memset(st, 0, sizeof(*st));
	if (is_v2(ctx)) {
		err = read_keyed(ctx->cpu, rel, "cpu.stat", v2_keys, v, 4);
		if (err)
			return err;
		st->nr_periods = v[0];
		st->nr_throttled = v[1];
		st->throttled_ns = v[2] * 1000;
		st->usage_ns = v[3] * 1000;
		return 0;
	}
	err = read_keyed(ctx->cpu, rel, "cpu.stat", v1_keys, v, 3);
	if (err)
		return err;
	st->nr_periods = v[0];
	st->nr_throttled = v[1];
	st->throttled_ns = v[2];
	return cg_read_cpu_usage(ctx, rel, &st->usage_ns);
}

int cg_read_cpu_quota(const struct cg_ctx *ctx, const char *rel,
		      long long *quota_us, uint64_t *period_us)
{
	long long p;
	char *buf;
	int err;

	if (is_v2(ctx)) {
		err = read_knob(ctx->cpu, rel, "cpu.max", &buf);
		if (err)
			return err;
		err = cg_parse_cpu_max(buf, quota_us, period_us);
		free(buf);
		return err;
	}
	err = read_ll(ctx->cpu, rel, "cpu.cfs_quota_us", quota_us);
	err = err ?: read_ll(ctx->cpu, rel, "cpu.cfs_period_us", &p);
	if (err)
		return err;
	if (*quota_us < 0)
		*quota_us = -1;
	*period_us = p;
	return 0;
}

int cg_read_cpu_weight(const struct cg_ctx *ctx, const char *rel,
		       uint64_t *weight)
{
	uint64_t shares;
	int err;

	if (is_v2(ctx))
		return read_u64(ctx->cpu, rel, "cpu.weight", weight);
	err = read_u64(ctx->cpu, rel, "cpu.shares", &shares);
	if (!err)
		*weight = cg_shares_to_weight(shares);
	return err;
}

int cg_read_cpu_shares(const struct cg_ctx *ctx, const char *rel,
		       uint64_t *shares)
{
	uint64_t weight;
	int err;

	if (!is_v2(ctx))
		return read_u64(ctx->cpu, rel, "cpu.shares", shares);
	err = read_u64(ctx->cpu, rel, "cpu.weight", &weight);
	if (!err)
		*shares = cg_weight_to_shares(weight);
	return err;
}

int cg_read_mem_usage(const struct cg_ctx *ctx, const char *rel,
		      uint64_t *bytes)
{
	static const char *const v1_keys[] = { "total_inactive_file" };
	static const char *const v2_keys[] = { "inactive_file" };
	uint64_t usage, inactive;
	int err;

	err = read_u64(ctx->memory, rel,
		       is_v2(ctx) ? "memory.current" : "memory.usage_in_bytes",
		       &usage);
	err = err ?: read_keyed(ctx->memory, rel, "memory.stat",
				is_v2(ctx) ? v2_keys : v1_keys, &inactive, 1);
	if (err)
		return err;
	*bytes = usage > inactive ? usage - inactive : 0;
	return 0;
}

int cg_read_mem_limit(const struct cg_ctx *ctx, const char *rel,
		      long long *bytes)
{
	int err;

	err = read_ll(ctx->memory, rel,
		      is_v2(ctx) ? "memory.max" : "memory.limit_in_bytes", bytes);
	if (!err && !is_v2(ctx) && *bytes >= v1_mem_unlimited(ctx))
		*bytes = -1;
	return err;
}

int cg_id(const struct cg_ctx *ctx, const char *rel, uint64_t *id)
{
	char path[PATH_MAX];
	struct stat st;
	int err;

	err = cg_path(path, sizeof(path), ctx->cpu, rel, NULL);
	if (err)
		return err;
	if (stat(path, &st))
		return -errno;
	*id = st.st_ino;
	return 0;
}

/* ---- walker, pids, kill ----------------------------------------------- */

struct walk {
	cg_walk_fn fn;
	void *arg;
	char path[PATH_MAX];	/* absolute */
	size_t base;		/* length of the hierarchy root in path */
};

static int walk_dir(struct walk *w, int depth)
{
	size_t len = strlen(w->path);
	const char *rel = w->path[w->base] ? w->path + w->base : "/";
	struct dirent *de;
	struct stat st;
	DIR *d;
	int ret;

	if (stat(w->path, &st))
		return 0;	/* vanished */
	ret = w->fn(rel, st.st_ino, depth, w->arg);
	if (ret)
		return ret < 0 ? ret : 0;
	d = opendir(w->path);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || !strcmp(de->d_name, ".") ||
		    !strcmp(de->d_name, ".."))
			continue;
		if (len + 1 + strlen(de->d_name) >= sizeof(w->path))
			continue;
		sprintf(w->path + len, "/%s", de->d_name);
		ret = walk_dir(w, depth + 1);
		w->path[len] = '\0';
		if (ret < 0)
			break;
	}
	closedir(d);
	return ret < 0 ? ret : 0;
}

int cg_walk(const struct cg_ctx *ctx, const char *rel, cg_walk_fn fn,
	    void *arg)
{
	struct walk w = { .fn = fn, .arg = arg };
	int err;

	w.base = strlen(ctx->cpu);
	err = cg_path(w.path, sizeof(w.path), ctx->cpu, rel, NULL);
	if (err)
		return err;
	return walk_dir(&w, 0);
}

int cg_read_pids(const struct cg_ctx *ctx, const char *rel, pid_t **pids,
		 size_t *nr)
{
	size_t n = 0, cap = 0;
	pid_t *v = NULL, *nv;
	char *buf, *p, *end;
	long pid;
	int err;

	*pids = NULL;
	*nr = 0;
	err = read_knob(ctx->cpu, rel, "cgroup.procs", &buf);
	if (err)
		return err == -ENODEV ? -ENOENT : err;
	for (p = buf;; p = end) {
		pid = strtol(p, &end, 10);
		if (end == p)
			break;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				free(v);
				free(buf);
				return -ENOMEM;
			}
			v = nv;
		}
		v[n++] = pid;
	}
	free(buf);
	*pids = v;
	*nr = n;
	return 0;
}

struct kill_round {
	const struct cg_ctx *ctx;
	size_t left;
};

static int kill_one_cgroup(const char *relpath, uint64_t id, int depth,
			   void *arg)
{
	struct kill_round *k = arg;
	pid_t *pids, self = getpid();
	size_t nr, i;

	if (cg_read_pids(k->ctx, relpath, &pids, &nr))
		return 0;
	for (i = 0; i < nr; i++) {
		if (pids[i] == self)
			continue;
		if (!kill(pids[i], SIGKILL) || errno != ESRCH)
			k->left++;
	}
	free(pids);
	return 0;
}

/* cg_walk callback: -EPERM where colod's own pid is listed. */
static int holds_self(const char *relpath, uint64_t id, int depth, void *arg)
{
	const struct cg_ctx *ctx = arg;
	pid_t *pids, self = getpid();
	size_t nr, i;
	int ret = 0;

	if (cg_read_pids(ctx, relpath, &pids, &nr))
		return 0;
	for (i = 0; i < nr && !ret; i++)
		if (pids[i] == self)
			ret = -EPERM;
	free(pids);
	return ret;
}

/*
 * cgroup.kill takes the whole subtree and cannot spare one process, as the
 * v1 path does: refuse when colod is anywhere in it, which covers colod's
 * own cgroup and each of its ancestors. cgroup.procs lists pids as this
 * pid namespace sees them, so getpid() matches inside a container too.
 */
static int kill_v2(const struct cg_ctx *ctx, const char *rel)
{
	char path[PATH_MAX];
	int fd, err = 0;

	err = cg_path(path, sizeof(path), ctx->cpu, rel, "cgroup.kill");
	if (err)
		return err;
	if (cg_walk(ctx, rel, holds_self, (void *)ctx) == -EPERM) {
		pr_err("%s: colod itself runs in this cgroup or below it: "
		       "not killing it", path);
		return -EPERM;
	}
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, "1", 1) != 1)
		err = -errno;
	close(fd);
	if (err && err != -ENOENT && err != -ENODEV)
		pr_err("%s: cannot write '1': %s", path, strerror(-err));
	return err;
}

int cg_kill(const struct cg_ctx *ctx, const char *rel)
{
	struct timespec ts = { 0, KILL_WAIT_NS };
	struct kill_round k = { .ctx = ctx };
	char path[PATH_MAX];
	int round, err;

	if (is_v2(ctx)) {
		err = kill_v2(ctx, rel);
		if (err != -ENOENT)
			return err == -ENODEV ? -ENOENT : err;
		/* No cgroup.kill (before 5.14): kill pid by pid below. */
	}
	for (round = 0; round < KILL_ROUNDS; round++) {
		k.left = 0;
		err = cg_walk(ctx, rel, kill_one_cgroup, &k);
		if (err)
			return err;
		if (!k.left)
			return 0;
		nanosleep(&ts, NULL);
	}
	pr_err("%s: %zu tasks still there after SIGKILL",
	       msg_path(path, sizeof(path), ctx->cpu, rel, "cgroup.procs"), k.left);
	return -EBUSY;
}
