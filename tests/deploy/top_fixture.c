// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Stand-in for a running agent's pinned maps, for the `colod top` screen
 * test when no agent is at hand: creates cg_stats, cg_hist, cg_class, counters and
 * headroom with the ABI of include/colod/colod.h, pins them under PIN_DIR
 * and feeds two real cgroups with known rates until SIGTERM:
 *
 *   LS_DIR: class ls, 50% of a core, every run-queue sample 5000 us
 *   BE_DIR: class be, 100% of a core, every sample 200 us, 10 ms/s reclaim
 *
 * (LS has the worse latency on purpose: sorting by CPU and by p99 then
 * give different orders, which the test checks.) Rates are charged by
 * elapsed time, so they hold on a loaded machine.
 *
 * usage: top_fixture PIN_DIR LS_CGROUP_DIR BE_CGROUP_DIR
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <colod/colod.h>

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	stop = 1;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int make_pinned(const char *dir, const char *name, enum bpf_map_type type,
		       unsigned int ksz, unsigned int vsz, unsigned int max)
{
	char path[512];
	int fd = bpf_map_create(type, name, ksz, vsz, max, NULL);

	if (fd < 0) {
		fprintf(stderr, "top_fixture: create %s: %s\n", name, strerror(errno));
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (bpf_obj_pin(fd, path)) {
		fprintf(stderr, "top_fixture: pin %s: %s\n", path, strerror(errno));
		exit(1);
	}
	return fd;
}

static uint64_t cg_id(const char *dir)
{
	struct stat st;

	if (stat(dir, &st)) {
		fprintf(stderr, "top_fixture: %s: %s\n", dir, strerror(errno));
		exit(1);
	}
	return st.st_ino;
}

struct feed {
	uint64_t id;
	double cpu_share;
	uint64_t lat_us;
	double reclaim_share;
	double carry_samples;
};

/* Charge dt_ns of activity to the cgroup's counters and histogram. */
static void charge(int fd, int hist_fd, struct feed *f, uint64_t dt_ns)
{
	struct colod_cg_stats *v = calloc(1, sizeof(*v));
	uint64_t n;

	if (!v)
		exit(1);
	/* absent the first time */
	bpf_map_lookup_elem(fd, &f->id, &v->cnt);
	bpf_map_lookup_elem(hist_fd, &f->id, v->runq_hist);
	f->carry_samples += (double)dt_ns / 1e9 * 1000.0;	/* 1000 wakeups/s */
	n = (uint64_t)f->carry_samples;
	f->carry_samples -= (double)n;
	v[0].cnt.cpu_ns += (uint64_t)((double)dt_ns * f->cpu_share);
	v[0].cnt.runq_count += n;
	v[0].cnt.runq_sum_ns += n * f->lat_us * 1000;
	v[0].cnt.runq_max_ns = f->lat_us * 1000;
	v[0].runq_hist[colod_hist_slot(f->lat_us)] += n;
	v[0].cnt.nvcsw += n;
	v[0].cnt.direct_reclaim_ns += (uint64_t)((double)dt_ns * f->reclaim_share);
	if (bpf_map_update_elem(fd, &f->id, &v->cnt, BPF_ANY) ||
	    bpf_map_update_elem(hist_fd, &f->id, v->runq_hist, BPF_ANY)) {
		fprintf(stderr, "top_fixture: update: %s\n", strerror(errno));
		exit(1);
	}
	free(v);
}

int main(int argc, char **argv)
{
	struct colod_headroom h = { .batch_cpu_milli = 1234,
				    .batch_memory_bytes = 3ULL << 30,
				    .mid_cpu_milli = 567,
				    .mid_memory_bytes = 1ULL << 30,
				    .be_quota_milli = 200 };
	struct colod_cg_class ls = { .cls = COLOD_CLASS_LS, .threshold_ns = 1000000 };
	struct colod_cg_class be = { .cls = COLOD_CLASS_BE, .flags = COLOD_CG_HIST };
	struct feed feeds[2] = {
		{ .cpu_share = 0.5, .lat_us = 5000 },
		{ .cpu_share = 1.0, .lat_us = 200, .reclaim_share = 0.01 },
	};
	struct timespec tick = { 0, 50 * 1000 * 1000 };
	int stats, hist, cls, counters, headroom, i;
	uint32_t zero = 0;
	uint64_t last;

	if (argc != 4) {
		fprintf(stderr, "usage: top_fixture PIN_DIR LS_CGROUP_DIR BE_CGROUP_DIR\n");
		return 2;
	}
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	feeds[0].id = cg_id(argv[2]);
	feeds[1].id = cg_id(argv[3]);
	stats = make_pinned(argv[1], COLOD_MAP_CG_STATS, BPF_MAP_TYPE_HASH,
			    8, sizeof(struct colod_cg_counters), 1024);
	hist = make_pinned(argv[1], COLOD_MAP_CG_HIST, BPF_MAP_TYPE_HASH,
			   8, sizeof(struct colod_cg_hist), 1024);
	cls = make_pinned(argv[1], COLOD_MAP_CG_CLASS, BPF_MAP_TYPE_HASH, 8,
			  sizeof(struct colod_cg_class), 1024);
	counters = make_pinned(argv[1], COLOD_MAP_COUNTERS, BPF_MAP_TYPE_PERCPU_ARRAY,
			       4, 8, COLOD_CNT_NR);
	headroom = make_pinned(argv[1], COLOD_MAP_HEADROOM, BPF_MAP_TYPE_ARRAY, 4,
			       sizeof(struct colod_headroom), 1);
	bpf_map_update_elem(cls, &feeds[0].id, &ls, BPF_ANY);
	bpf_map_update_elem(cls, &feeds[1].id, &be, BPF_ANY);
	bpf_map_update_elem(headroom, &zero, &h, BPF_ANY);
	(void)counters;
	last = mono_ns();
	printf("ready\n");
	fflush(stdout);
	while (!stop) {
		uint64_t now;

		nanosleep(&tick, NULL);
		now = mono_ns();
		for (i = 0; i < 2; i++)
			charge(stats, hist, &feeds[i], now - last);
		last = now;
	}
	return 0;
}
