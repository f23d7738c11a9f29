// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * colod stats: what the BPF programs measured per cgroup over a window,
 * from a fresh load or from the pinned maps of a running agent.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cjson/cJSON.h>
#include "cgscan.h"
#include "cli.h"
#include "hist.h"
#include "loader.h"
#include "log.h"

#define STATS_MAX_CGROUPS	4096

struct cg_row {
	uint64_t id;
	char path[PATH_MAX];
	struct colod_cg_stats *before;
	struct colod_cg_stats *after;
};

struct stats_run {
	struct cg_row *rows;
	int nr;
	bool all;		/* no --cgroup: every cgroup seen */
	const char *hier_root;
};

/* Name the cgroups found in the map: one walk of the hierarchy. */
static void name_rows(struct stats_run *r)
{
	struct cgscan *scan = cgscan_new(r->hier_root, NULL, 0);
	const struct cgscan_entry *e;
	int i;

	if (!scan || cgscan_run(scan) < 0)
		goto out;
	for (i = 0; i < r->nr; i++) {
		e = cgscan_find(scan, r->rows[i].id);
		if (e && !r->rows[i].path[0])
			snprintf(r->rows[i].path, PATH_MAX, "%s", e->path);
	}
out:
	cgscan_free(scan);
}

static struct cg_row *row_add(struct stats_run *r, uint64_t id, const char *path)
{
	struct cg_row *row;

	if (r->nr == STATS_MAX_CGROUPS)
		return NULL;
	row = &r->rows[r->nr++];
	memset(row, 0, sizeof(*row));
	row->id = id;
	if (path)
		snprintf(row->path, sizeof(row->path), "%s", path);
	row->before = calloc(1, sizeof(*row->before));
	row->after = calloc(1, sizeof(*row->after));
	return row->before && row->after ? row : NULL;
}

static int take_before(uint64_t id, const struct colod_cg_stats *s, void *ctx)
{
	struct cg_row *row = row_add(ctx, id, NULL);

	if (row)
		*row->before = *s;
	return 0;
}

static int take_after(uint64_t id, const struct colod_cg_stats *s, void *ctx)
{
	struct stats_run *r = ctx;
	struct cg_row *row = NULL;
	int i;

	for (i = 0; i < r->nr; i++)
		if (r->rows[i].id == id)
			row = &r->rows[i];
	if (!row && r->all)
		row = row_add(r, id, NULL);
	if (row)
		*row->after = *s;
	return 0;
}

int cgroup_path_id(const char *hier_root, const char *path, uint64_t *id,
		   char *rel, size_t len)
{
	char full[PATH_MAX];
	size_t rl = strlen(hier_root);
	struct stat st;

	/* accept a path under the mount point or one relative to it */
	if (!strncmp(path, hier_root, rl) && (path[rl] == '/' || !path[rl]))
		path += rl;
	snprintf(full, sizeof(full), "%s/%s", hier_root, path[0] == '/' ? path + 1 : path);
	if (stat(full, &st) || !S_ISDIR(st.st_mode))
		return -ENOENT;
	*id = st.st_ino;
	snprintf(rel, len, "%s%s", path[0] == '/' ? "" : "/", path[0] ? path : "/");
	return 0;
}

/*
 * Programs of its own keep no histogram but LS ones: ask for one for each
 * cgroup shown (every cgroup without --cgroup, as many as the map holds).
 */
static void want_hists(const struct colod_maps *m, const struct stats_run *r)
{
	struct cgscan *scan;
	int i, n;

	for (i = 0; i < r->nr; i++)
		maps_set_class(m, r->rows[i].id, COLOD_CLASS_SYSTEM, 0, COLOD_CG_HIST);
	if (!r->all)
		return;
	scan = cgscan_new(r->hier_root, NULL, 0);
	if (scan && cgscan_run(scan) >= 0)
		for (i = 0, n = cgscan_count(scan); i < n; i++)
			if (maps_set_class(m, cgscan_entry(scan, i)->id, COLOD_CLASS_SYSTEM,
					   0, COLOD_CG_HIST))
				break;	/* full */
	cgscan_free(scan);
}

static void put_pct(const struct colod_cg_stats *d, double pct)
{
	if (cg_stats_has_hist(d))
		printf(" %9.0f", hist_percentile_us(d->runq_hist, COLOD_HIST_SLOTS, pct));
	else
		printf(" %9s", "-");
}

static void print_table(const struct stats_run *r, double secs)
{
	int i;

	printf("%-40s %10s %6s %9s %9s %9s %9s %9s %10s %8s\n", "CGROUP", "ID", "CPU",
	       "P50(us)", "P90(us)", "P99(us)", "MAX(us)", "SAMPLES", "RECLAIM(ms)",
	       "BREACH");
	for (i = 0; i < r->nr; i++) {
		const struct cg_row *row = &r->rows[i];
		struct colod_cg_stats d;

		cg_stats_delta(row->after, row->before, &d);
		printf("%-40s %10llu %6.2f", row->path[0] ? row->path : "?",
		       (unsigned long long)row->id, d.cnt.cpu_ns / 1e9 / secs);
		put_pct(&d, 50);
		put_pct(&d, 90);
		put_pct(&d, 99);
		printf(" %9.0f %9llu %10.1f %8llu\n",
		       d.cnt.runq_max_ns / 1e3, (unsigned long long)d.cnt.runq_count,
		       (d.cnt.direct_reclaim_ns + d.cnt.memcg_reclaim_ns) / 1e6,
		       (unsigned long long)d.cnt.breaches);
	}
}

static int print_json(const struct stats_run *r, double secs)
{
	cJSON *root = cJSON_CreateObject(), *arr, *cg, *rq;
	struct colod_cg_stats d;
	char *text;
	int i;

	if (!root)
		return -ENOMEM;
	cJSON_AddNumberToObject(root, "duration_s", secs);
	arr = cJSON_AddArrayToObject(root, "cgroups");
	for (i = 0; i < r->nr; i++) {
		const struct cg_row *row = &r->rows[i];

		cg_stats_delta(row->after, row->before, &d);
		cg = cJSON_CreateObject();
		cJSON_AddItemToArray(arr, cg);
		cJSON_AddStringToObject(cg, "path", row->path);
		cJSON_AddNumberToObject(cg, "cgroup_id", (double)row->id);
		cJSON_AddNumberToObject(cg, "cpu_cores", d.cnt.cpu_ns / 1e9 / secs);
		cJSON_AddNumberToObject(cg, "cpu_ns", (double)d.cnt.cpu_ns);
		rq = cJSON_AddObjectToObject(cg, "runq_us");
		if (cg_stats_has_hist(&d)) {
			cJSON_AddNumberToObject(rq, "p50", hist_percentile_us(d.runq_hist, COLOD_HIST_SLOTS, 50));
			cJSON_AddNumberToObject(rq, "p90", hist_percentile_us(d.runq_hist, COLOD_HIST_SLOTS, 90));
			cJSON_AddNumberToObject(rq, "p99", hist_percentile_us(d.runq_hist, COLOD_HIST_SLOTS, 99));
		}
		cJSON_AddNumberToObject(rq, "max", d.cnt.runq_max_ns / 1e3);
		cJSON_AddNumberToObject(rq, "count", (double)d.cnt.runq_count);
		cJSON_AddNumberToObject(cg, "reclaim_ms",
					(d.cnt.direct_reclaim_ns + d.cnt.memcg_reclaim_ns) / 1e6);
		cJSON_AddNumberToObject(cg, "reclaim_count",
					(double)(d.cnt.direct_reclaim_count + d.cnt.memcg_reclaim_count));
		cJSON_AddNumberToObject(cg, "nvcsw", (double)d.cnt.nvcsw);
		cJSON_AddNumberToObject(cg, "nivcsw", (double)d.cnt.nivcsw);
		cJSON_AddNumberToObject(cg, "breaches", (double)d.cnt.breaches);
		cJSON_AddNumberToObject(cg, "breaches_be", (double)d.cnt.breaches_be);
	}
	text = cJSON_Print(root);
	if (text)
		puts(text);
	free(text);
	cJSON_Delete(root);
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: colod stats [--json] [--duration SECONDS] [--cgroup PATH]...\n"
		"                   [--pin-dir DIR] [--cgroup-mode auto|v1|v2] [--cgroup-root DIR]\n"
		"Measure per-cgroup CPU, run-queue latency and reclaim stalls for SECONDS\n"
		"(default 5). Reads the pinned maps of a running agent when there are\n"
		"some under --pin-dir (default " COLOD_PIN_DIR_DEFAULT "), else loads\n"
		"the BPF programs itself. PATH is relative to the hierarchy's mount\n"
		"point (the cpu controller's on cgroup v1) or under it.\n");
}

int cmd_stats(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "duration", required_argument, NULL, 'd' },
		{ "cgroup", required_argument, NULL, 'c' },
		{ "pin-dir", required_argument, NULL, 'p' },
		{ "cgroup-mode", required_argument, NULL, 'm' },
		{ "cgroup-root", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct loader_opts lo = { .cgroup_root = "/sys/fs/cgroup" };
	const char *pin_dir = COLOD_PIN_DIR_DEFAULT, *cgroups[256];
	struct stats_run run = {};
	struct colod_bpf *bpf = NULL;
	struct colod_maps pinned;
	const struct colod_maps *maps;
	char hier[PATH_MAX], rel[PATH_MAX];
	double duration = 5;
	int nr_cg = 0, opt, i, err;
	enum attr_mode mode = ATTR_AUTO;
	bool json = false, own = false;
	struct timespec t0, t1;
	uint64_t id;
	char *end;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "jd:c:p:m:r:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json = true;
			break;
		case 'd':
			duration = strtod(optarg, &end);
			if (*end || duration <= 0 || duration > 86400) {
				pr_err("--duration: '%s' is not a number of seconds in (0, 86400]", optarg);
				return 2;
			}
			break;
		case 'c':
			if (nr_cg == 256) {
				pr_err("--cgroup: at most 256");
				return 2;
			}
			cgroups[nr_cg++] = optarg;
			break;
		case 'p':
			pin_dir = optarg;
			break;
		case 'm':
			if (attr_mode_parse(optarg, &mode)) {
				pr_err("--cgroup-mode: '%s' is not one of auto, v1, v2", optarg);
				return 2;
			}
			break;
		case 'r':
			lo.cgroup_root = optarg;
			break;
		default:
			usage();
			return opt == 'h' ? 0 : 2;
		}
	}
	lo.mode = mode;
	err = attr_mode_resolve(lo.cgroup_root, mode, &mode, hier, sizeof(hier));
	if (err)
		return 1;
	run.rows = calloc(STATS_MAX_CGROUPS, sizeof(*run.rows));
	if (!run.rows)
		return 1;
	run.hier_root = hier;
	run.all = nr_cg == 0;
	for (i = 0; i < nr_cg; i++) {
		if (cgroup_path_id(hier, cgroups[i], &id, rel, sizeof(rel))) {
			pr_err("--cgroup %s: no such cgroup under %s", cgroups[i], hier);
			err = -ENOENT;
			goto out;
		}
		if (!row_add(&run, id, cgroups[i])) {
			err = -ENOMEM;
			goto out;
		}
	}

	if (!maps_open_pinned(pin_dir, &pinned)) {
		maps = &pinned;
		own = false;
		pr_info("reading the pinned maps of a running agent under %s", pin_dir);
	} else {
		err = loader_open(&lo, &bpf);
		if (err)
			goto out;
		maps = loader_maps(bpf);
		own = true;
		want_hists(maps, &run);
	}
	/* what was counted before the window (since attach, or by the agent) */
	if (run.all)
		maps_for_each_stats(maps, take_before, &run);
	else
		for (i = 0; i < run.nr; i++)
			maps_read_stats(maps, run.rows[i].id, run.rows[i].before);
	pr_info("measuring for %g s", duration);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	usleep((useconds_t)(duration * 1e6));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	maps_for_each_stats(maps, take_after, &run);
	if (run.all)
		name_rows(&run);
	duration = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	pr_info("measured %.3f s", duration);
	if (json)
		err = print_json(&run, duration);
	else
		print_table(&run, duration);
	if (own)
		loader_close(bpf);
	else
		maps_close(&pinned);
out:
	for (i = 0; i < run.nr; i++) {
		free(run.rows[i].before);
		free(run.rows[i].after);
	}
	free(run.rows);
	return err ? 1 : 0;
}
