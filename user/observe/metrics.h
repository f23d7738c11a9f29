/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Prometheus text exposition (format 0.0.4) for colod, served by
 * libmicrohttpd in its own thread, plus /healthz and /readyz.
 *
 * Threading: the render callback runs only in the thread that calls
 * metrics_start(), metrics_publish() and metrics_serve_pending() (the
 * agent's loop, which owns what the callback reads), so it needs no lock.
 * The result is an immutable, refcounted body that the HTTP thread streams
 * to every /metrics client; the HTTP thread never calls into the agent, it
 * only wakes it (metrics_wake_fd()) when a scrape finds the body older
 * than the agent's state (metrics_invalidate()). /healthz and /readyz read
 * atomics only. Everything else is private to metrics.c.
 */
#ifndef COLOD_METRICS_H
#define COLOD_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <colod/colod.h>

#define METRICS_ADDR_DEFAULT		"127.0.0.1:9317"
#define METRICS_HEALTH_TIMEOUT_DEFAULT	10	/* seconds without a tick */
#define METRICS_CONTENT_TYPE		"text/plain; version=0.0.4; charset=utf-8"

/*
 * What one client, or many, may cost the agent. A connection must get its
 * answer out within METRICS_DEADLINE_S of its start or of its previous
 * answer (Prometheus gives up on a scrape after 10 s by default), and is
 * closed after METRICS_IDLE_TIMEOUT_S without progress. Each holds at most
 * METRICS_CONN_MEMORY of pool, METRICS_BLOCK_SIZE of response buffer and
 * METRICS_SNDBUF (doubled by the kernel) of socket buffer. At most
 * METRICS_MAX_BODIES bodies exist at once: the current one and those that
 * slow clients are still reading.
 */
#define METRICS_MAX_CONNECTIONS		128
#define METRICS_MAX_PER_IP		8
#define METRICS_IDLE_TIMEOUT_S		10
#define METRICS_DEADLINE_S		15
#define METRICS_CONN_MEMORY		(16 * 1024)
#define METRICS_BLOCK_SIZE		(16 * 1024)
#define METRICS_SNDBUF			(64 * 1024)
#define METRICS_MAX_BODIES		3
/* A scrape waits this long for the owner's render, then gets a 503. */
#define METRICS_RENDER_WAIT_MS		5000

/* Growable, always NUL-terminated text buffer. err latches -ENOMEM. */
struct strbuf {
	char *buf;
	size_t len;
	size_t cap;
	int err;
};

void strbuf_init(struct strbuf *b);
void strbuf_reset(struct strbuf *b);	/* len = 0, keeps memory */
void strbuf_free(struct strbuf *b);
void strbuf_printf(struct strbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void strbuf_append(struct strbuf *b, const char *s, size_t n);

/*
 * Appends the whole exposition body. Called only from metrics_start() and
 * metrics_publish(), in their caller's thread.
 */
typedef void (*metrics_render_fn)(struct strbuf *b, void *ctx);

struct metrics_server;

/*
 * Parse "IPv4:port", "[IPv6]:port" or ":port" (all addresses, dual stack
 * where the host has IPv6). Port 0 asks for an ephemeral port. Returns 0 or
 * -EINVAL (logged with the value).
 */
struct sockaddr_storage;
int metrics_parse_addr(const char *addr, struct sockaddr_storage *ss,
		       bool *any);

/*
 * Serve on addr from a thread of its own; NULL with errno set (and
 * logged) on failure. Nothing is rendered yet: the owner publishes a
 * first body (metrics_publish()) or renders on demand (below).
 */
struct metrics_server *metrics_start(const char *addr, metrics_render_fn render,
				     void *ctx);
/* Port actually bound (useful with port 0); 0 if unknown. */
unsigned int metrics_port(const struct metrics_server *s);
void metrics_stop(struct metrics_server *s);

/*
 * Render the body now, in the caller's thread, and make it what /metrics
 * serves from then on. 0, -ENOMEM, or -EBUSY when METRICS_MAX_BODIES are
 * still held by slow clients (the previous body stays). s may be NULL.
 */
int metrics_publish(struct metrics_server *s);

/*
 * On-demand rendering, for an owner whose state changes at each tick:
 * metrics_invalidate() says the state changed (nothing is rendered then,
 * and the server lets its body go unless a response streams it); a scrape
 * that finds no body of the newest state makes metrics_wake_fd() (an
 * eventfd, for the owner's poll loop) readable and waits; the owner then
 * calls metrics_serve_pending(), which renders once if needed and answers
 * every waiting scrape. A scrape not answered within
 * METRICS_RENDER_WAIT_MS gets the body there is, or 503. Returns as
 * metrics_publish(). s may be NULL (wake fd -1).
 */
void metrics_invalidate(struct metrics_server *s);
int metrics_wake_fd(const struct metrics_server *s);
int metrics_serve_pending(struct metrics_server *s);

/* /readyz answers 200 once ready is set (maps loaded, first tick done). */
void metrics_set_ready(bool ready);
/* The agent's loop calls this every tick (CLOCK_MONOTONIC ns). */
void metrics_heartbeat(uint64_t now_ns);
/* /healthz answers 503 when the last heartbeat is older than this. */
void metrics_set_health_timeout(unsigned int seconds);

/* Pure health decision, exposed for tests. */
bool metrics_is_healthy(uint64_t last_beat_ns, uint64_t now_ns,
			unsigned int timeout_s);

/* ---- Rendering helpers: pure, append to b. ---- */

/* "# HELP name help\n# TYPE name type\n" */
void metrics_family(struct strbuf *b, const char *name, const char *type,
		    const char *help);
/* Label value escaped per the text format (\\, \", \n). */
void metrics_label_escape(struct strbuf *b, const char *value);

/*
 * Histogram lines of one series from per-bucket counts (HIST_PROM_BUCKETS,
 * lib/hist.h): cumulative name_bucket{labels,le="..."} at the bucket
 * bounds (seconds), +Inf, name_sum (seconds) and name_count. labels is ""
 * or 'k="v",...' already escaped. _count is the sum of the buckets, so it
 * always equals the +Inf bucket.
 */
void metrics_render_histogram(struct strbuf *b, const char *name,
			      const char *labels, const uint64_t *buckets,
			      uint64_t sum_ns);

/* One cgroup as the agent knows it, cumulative as of its last tick. */
struct metrics_cgroup {
	const char *path;	/* relative to the cgroup root, e.g. "/kubepods/..." */
	const char *cls;	/* "ls", "be", "system" */
	const struct colod_cg_counters *cnt;
	const uint64_t *runq_buckets;	/* HIST_PROM_BUCKETS; NULL: no histogram (not LS) */
};

/*
 * All per-cgroup families, each family once with every cgroup inside it:
 * colod_cgroup_info{cgroup,class} 1
 * colod_cgroup_runq_latency_seconds (histogram){cgroup}, LS cgroups only
 * colod_cgroup_runq_latency_max_seconds{cgroup}
 * colod_cgroup_cpu_seconds_total{cgroup}
 * colod_cgroup_reclaim_stall_seconds_total{cgroup,kind="direct|memcg"}
 * colod_cgroup_reclaim_stalls_total{cgroup,kind}
 * colod_cgroup_context_switches_total{cgroup,kind="voluntary|involuntary"}
 * colod_cgroup_latency_breaches_total{cgroup}
 */
void metrics_render_cgroups(struct strbuf *b, const struct metrics_cgroup *cgs,
			    size_t n);

/*
 * Node headroom gauges: colod_node_capacity_cpu_milli,
 * colod_node_capacity_memory_bytes, colod_batch_cpu_milli,
 * colod_batch_memory_bytes, colod_mid_cpu_milli, colod_mid_memory_bytes,
 * colod_ls_used_cpu_milli, colod_system_used_cpu_milli,
 * colod_be_cpu_quota_milli.
 */
void metrics_render_headroom(struct strbuf *b, const struct colod_headroom *h);

struct metrics_agent_counters {
	uint64_t config_reloads;	/* successful reloads */
	uint64_t config_errors;		/* rejected config files */
	uint64_t bpf_map_full;		/* COLOD_CNT_STATS_FULL */
	uint64_t bpf_untracked_dropped;	/* COLOD_CNT_STATS_UNTRACKED */
	uint64_t ringbuf_drops;		/* COLOD_CNT_RINGBUF_DROP */
	uint64_t breaches_rate_limited;	/* COLOD_CNT_RATE_LIMITED */
	uint64_t breach_events;		/* ring-buffer events handled */
	uint64_t breach_chance;		/* events over twice the budget, yet chance */
	uint64_t k8s_updates;		/* node status patches accepted */
	uint64_t k8s_errors;		/* node status patches failed */
	uint64_t pod_source_lists;	/* pod lists read from the pod source */
	uint64_t pod_source_errors;	/* failed polls of the pod source */
	uint64_t pod_source_fallback;	/* pod cgroups classed by directory, pod not listed */
	uint64_t ticks;			/* loop iterations */
	uint64_t knob_reads;		/* knobs read back (the others known in place) */
	uint64_t cgroups;		/* gauge: cgroups tracked */
};

/*
 * colod_config_reloads_total, colod_config_errors_total,
 * colod_bpf_map_full_total, colod_bpf_untracked_dropped_total,
 * colod_ringbuf_drops_total,
 * colod_breaches_rate_limited_total, colod_breach_events_total,
 * colod_breach_events_chance_total,
 * colod_k8s_node_updates_total, colod_k8s_node_errors_total,
 * colod_pod_source_lists_total, colod_pod_source_errors_total,
 * colod_pod_source_fallback_total,
 * colod_loop_ticks_total, colod_knob_reads_total, colod_cgroups.
 */
void metrics_render_agent(struct strbuf *b, const struct metrics_agent_counters *c);

struct metrics_kind_count {
	const char *kind;	/* e.g. "cpu_quota", "cpu_idle", "memory_high" */
	uint64_t count;
};

/* colod_actions_total{kind} */
/* One counter family with one label: name{label="kind"} count. */
void metrics_render_counter_by(struct strbuf *b, const char *name, const char *help,
			       const char *label, const struct metrics_kind_count *k,
			       size_t n);
void metrics_render_actions(struct strbuf *b, const struct metrics_kind_count *k,
			    size_t n);

#endif /* COLOD_METRICS_H */
