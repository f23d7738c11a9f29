// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The metrics server with every family colod exposes, filled with sample
 * values, for tests/deploy/metrics-scrape.sh: the scrape is parsed by
 * python3-prometheus-client, not by us. Listens on 127.0.0.1, ephemeral
 * port; prints "port N" and serves until SIGTERM.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "hist.h"
#include "metrics.h"

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	stop = 1;
}

static struct colod_cg_counters ls, be, sys;
static uint64_t ls_hist[HIST_PROM_BUCKETS];	/* the agent keeps LS histograms only */

static void render(struct strbuf *b, void *ctx)
{
	struct metrics_cgroup cgs[] = {
		{ "/kubepods/pod0a1b/ctr", "ls", &ls, ls_hist },
		{ "/kubepods/besteffort/pod\"quoted\"\\back", "be", &be, NULL },
		{ "/", "system", &sys, NULL },
	};
	struct colod_headroom h = {
		.capacity_cpu_milli = 2000, .capacity_memory_bytes = 25769803776ULL,
		.batch_cpu_milli = 1234, .batch_memory_bytes = 3221225472ULL,
		.mid_cpu_milli = 567, .mid_memory_bytes = 1073741824ULL,
		.ls_used_cpu_milli = 400, .system_used_cpu_milli = 100,
		.be_quota_milli = 800,
	};
	struct metrics_agent_counters c = {
		.config_reloads = 3, .config_errors = 1, .bpf_map_full = 0,
		.ringbuf_drops = 2, .breaches_rate_limited = 17,
		.breach_events = 40, .k8s_updates = 5, .k8s_errors = 0,
		.ticks = 1000, .cgroups = 3,
	};
	struct metrics_kind_count k[] = {
		{ "cpu_quota", 12 }, { "cpu_idle", 2 }, { "restore", 1 },
	};

	metrics_render_headroom(b, &h);
	metrics_render_agent(b, &c);
	metrics_render_actions(b, k, 3);
	metrics_render_cgroups(b, cgs, 3);
}

static void fill(struct colod_cg_counters *s, uint64_t *hist, unsigned int lat_us,
		 unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (hist)
			hist[hist_prom_bucket(colod_hist_slot(lat_us + i * 37))]++;
		s->runq_sum_ns += (lat_us + i * 37) * 1000ULL;
	}
	s->runq_count = n;
	s->runq_max_ns = (lat_us + (n - 1) * 37) * 1000ULL;
	s->cpu_ns = 123456789012ULL;
	s->nvcsw = n;
	s->nivcsw = n / 3;
	s->direct_reclaim_ns = 5000000;
	s->direct_reclaim_count = 4;
	s->memcg_reclaim_ns = 700;
	s->memcg_reclaim_count = 1;
	s->breaches = n / 10;
}

int main(void)
{
	struct metrics_server *srv;

	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	fill(&ls, ls_hist, 150, 500);
	fill(&be, NULL, 4000, 800);
	fill(&sys, NULL, 3, 20);
	srv = metrics_start("127.0.0.1:0", render, NULL);
	if (!srv || metrics_publish(srv))
		return 1;
	metrics_set_ready(true);
	printf("port %u\n", metrics_port(srv));
	fflush(stdout);
	while (!stop) {
		{
			struct timespec ts;

			clock_gettime(CLOCK_MONOTONIC, &ts);
			metrics_heartbeat((uint64_t)ts.tv_sec * 1000000000ULL +
					  (uint64_t)ts.tv_nsec);
		}
		usleep(200000);
	}
	metrics_stop(srv);
	return 0;
}
