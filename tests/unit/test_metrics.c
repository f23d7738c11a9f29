// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * metrics: the text renderers (checked against brute force over the same
 * samples) and the real libmicrohttpd server on a loopback ephemeral port,
 * scraped with libcurl.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include "hist.h"
#include "metrics.h"

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

Test(metrics, strbuf_grows_and_terminates)
{
	struct strbuf b;
	int i;

	strbuf_init(&b);
	for (i = 0; i < 10000; i++)
		strbuf_printf(&b, "line %d\n", i);
	cr_assert_eq(b.err, 0);
	cr_assert(strstr(b.buf, "line 9999\n") != NULL);
	cr_assert_eq(strlen(b.buf), b.len);
	strbuf_reset(&b);
	cr_assert_eq(b.len, 0);
	cr_assert_str_eq(b.buf, "");
	strbuf_free(&b);
}

Test(metrics, parse_addr_accepts_documented_forms)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	bool any;

	cr_assert_eq(metrics_parse_addr("127.0.0.1:9317", &ss, &any), 0);
	cr_assert_eq(ss.ss_family, AF_INET);
	cr_assert_eq(ntohs(in4->sin_port), 9317);
	cr_assert_eq(ntohl(in4->sin_addr.s_addr), INADDR_LOOPBACK);
	cr_assert(!any);

	cr_assert_eq(metrics_parse_addr("[::1]:80", &ss, &any), 0);
	cr_assert_eq(ss.ss_family, AF_INET6);
	cr_assert_eq(ntohs(in6->sin6_port), 80);
	cr_assert(IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr));

	cr_assert_eq(metrics_parse_addr(":9317", &ss, &any), 0);
	cr_assert(any);
	cr_assert_eq(ntohs(in6->sin6_port), 9317);

	cr_assert_eq(metrics_parse_addr("0.0.0.0:0", &ss, &any), 0);
}

Test(metrics, parse_addr_rejects_garbage)
{
	static const char *const bad[] = {
		"", "9317", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536",
		"127.0.0.1:-1", "localhost:9317", "::1:9317", "[::1]9317",
		"[::1]:", "[]:1", "1.2.3:4", "127.0.0.1:12x",
	};
	struct sockaddr_storage ss;
	bool any;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(metrics_parse_addr(bad[i], &ss, &any), -EINVAL,
			     "accepted \"%s\"", bad[i]);
	cr_assert_eq(metrics_parse_addr(NULL, &ss, &any), -EINVAL);
}

/* Every slot lies wholly below its bucket's bound and above the one before. */
Test(metrics, each_slot_falls_in_one_bucket_whose_bound_is_a_slot_boundary)
{
	unsigned int s, b;

	for (b = 0; b < HIST_PROM_BOUNDS; b++) {
		uint64_t bound = hist_prom_bound_us(b);

		if (b)
			cr_assert_gt(bound, hist_prom_bound_us(b - 1));
		/* a boundary: the value just below falls in another slot */
		cr_assert_neq(colod_hist_slot(bound - 1), colod_hist_slot(bound),
			      "bound %lu", (unsigned long)bound);
	}
	for (s = 0; s < COLOD_HIST_SLOTS - 1; s++) {
		b = hist_prom_bucket(s);
		if (b < HIST_PROM_BOUNDS)
			cr_assert_leq(hist_slot_upper_us(s), hist_prom_bound_us(b), "slot %u", s);
		if (b)
			cr_assert_geq(hist_slot_lower_us(s), hist_prom_bound_us(b - 1), "slot %u", s);
	}
	cr_assert_eq(hist_prom_bucket(COLOD_HIST_SLOTS - 1), HIST_PROM_BOUNDS,
		     "the saturating slot is +Inf's");
}

static uint64_t line_value(const char *text, const char *series)
{
	const char *p = strstr(text, series);
	size_t n = strlen(series);

	cr_assert(p != NULL, "no series %s in:\n%.2000s", series, text);
	cr_assert_eq(p[n], ' ', "series %s not followed by value", series);
	return strtoull(p + n + 1, NULL, 10);
}

Test(metrics, histogram_buckets_match_brute_force)
{
	static uint64_t vals[20000];
	__u32 hist[COLOD_HIST_SLOTS] = { 0 };
	uint64_t buckets[HIST_PROM_BUCKETS] = { 0 };
	uint64_t seed = 0x9e3779b97f4a7c15ULL, sum_ns = 0;
	size_t i, j;
	struct strbuf b;
	char series[160];

	for (i = 0; i < 20000; i++) {
		/* log-uniform over 0 .. 2^28 us so every bucket and the
		 * saturating slot get samples */
		unsigned int sh = (unsigned int)(xorshift(&seed) % 29);

		vals[i] = xorshift(&seed) & ((1ULL << sh) - 1);
		hist[colod_hist_slot(vals[i])]++;
		sum_ns += vals[i] * 1000;
	}
	hist_prom_add(buckets, hist);
	strbuf_init(&b);
	metrics_render_histogram(&b, "t_seconds", "cgroup=\"/a\"", buckets, sum_ns);
	cr_assert_eq(b.err, 0);
	for (j = 0; j < HIST_PROM_BOUNDS; j++) {
		uint64_t want = 0, bound = hist_prom_bound_us(j);

		for (i = 0; i < 20000; i++)
			want += vals[i] < bound;
		snprintf(series, sizeof(series),
			 "t_seconds_bucket{cgroup=\"/a\",le=\"%lu.%06lu\"}",
			 (unsigned long)(bound / 1000000),
			 (unsigned long)(bound % 1000000));
		cr_assert_eq(line_value(b.buf, series), want, "%s", series);
	}
	cr_assert_eq(line_value(b.buf, "t_seconds_bucket{cgroup=\"/a\",le=\"+Inf\"}"),
		     20000);
	cr_assert_eq(line_value(b.buf, "t_seconds_count{cgroup=\"/a\"}"), 20000);
	snprintf(series, sizeof(series), "t_seconds_sum{cgroup=\"/a\"} %lu.%09lu\n",
		 (unsigned long)(sum_ns / 1000000000),
		 (unsigned long)(sum_ns % 1000000000));
	cr_assert(strstr(b.buf, series) != NULL, "want %s", series);
	strbuf_free(&b);
}

Test(metrics, label_values_are_escaped)
{
	struct strbuf b;

	strbuf_init(&b);
	metrics_label_escape(&b, "a\"b\\c\nd");
	cr_assert_str_eq(b.buf, "a\\\"b\\\\c\\nd");
	strbuf_free(&b);
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (; (hay = strstr(hay, needle)); hay++)
		n++;
	return n;
}

Test(metrics, cgroup_families_appear_once_with_every_cgroup)
{
	struct colod_cg_counters a = { .cpu_ns = 1500000000, .direct_reclaim_ns = 7,
				       .memcg_reclaim_ns = 2000000001, .nvcsw = 11, .nivcsw = 12,
				       .breaches = 3, .breaches_be = 2, .runq_sum_ns = 500000 };
	struct colod_cg_counters c = { .cpu_ns = 42 };
	uint64_t buckets[HIST_PROM_BUCKETS] = { 0 };
	struct metrics_cgroup cgs[] = {
		{ "/kubepods/podA", "ls", &a, buckets },
		{ "/batch/\"odd\"", "be", &c, NULL },
	};
	struct strbuf b;

	buckets[hist_prom_bucket(colod_hist_slot(100))] = 5;
	strbuf_init(&b);
	metrics_render_cgroups(&b, cgs, 2);
	cr_assert_eq(b.err, 0);
	cr_assert_eq(count(b.buf, "# TYPE colod_cgroup_runq_latency_seconds histogram\n"), 1);
	cr_assert_eq(count(b.buf, "# TYPE colod_cgroup_cpu_seconds_total counter\n"), 1);
	cr_assert_eq(count(b.buf, "# TYPE "), 9);
	cr_assert(strstr(b.buf, "colod_cgroup_info{cgroup=\"/kubepods/podA\",class=\"ls\"} 1\n"));
	cr_assert(strstr(b.buf, "colod_cgroup_info{cgroup=\"/batch/\\\"odd\\\"\",class=\"be\"} 1\n"));
	cr_assert(strstr(b.buf, "colod_cgroup_cpu_seconds_total{cgroup=\"/kubepods/podA\"} 1.500000000\n"));
	cr_assert(strstr(b.buf, "colod_cgroup_cpu_seconds_total{cgroup=\"/batch/\\\"odd\\\"\"} 0.000000042\n"));
	cr_assert(strstr(b.buf, "colod_cgroup_reclaim_stall_seconds_total{cgroup=\"/kubepods/podA\",kind=\"memcg\"} 2.000000001\n"));
	cr_assert(strstr(b.buf, "colod_cgroup_context_switches_total{cgroup=\"/kubepods/podA\",kind=\"involuntary\"} 12\n"));
	cr_assert(strstr(b.buf, "colod_cgroup_latency_breaches_total{cgroup=\"/kubepods/podA\"} 3\n"));
	cr_assert(strstr(b.buf, "colod_cgroup_latency_breaches_be_total{cgroup=\"/kubepods/podA\"} 2\n"));
	cr_assert_eq(line_value(b.buf, "colod_cgroup_runq_latency_seconds_count{cgroup=\"/kubepods/podA\"}"), 5);
	/* the agent widens LS histograms only: a BE cgroup has none */
	cr_assert_null(strstr(b.buf, "colod_cgroup_runq_latency_seconds_bucket{cgroup=\"/batch"));
	cr_assert_not_null(strstr(b.buf, "colod_cgroup_runq_latency_max_seconds{cgroup=\"/batch"));
	/* a family's samples are contiguous: no other family between them */
	{
		const char *first = strstr(b.buf, "colod_cgroup_info{");
		const char *next = strstr(first, "# HELP");

		cr_assert(strstr(first, "colod_cgroup_info{cgroup=\"/batch") < next);
	}
	strbuf_free(&b);
}

Test(metrics, node_and_agent_families)
{
	struct colod_headroom h = { .batch_cpu_milli = 1234, .mid_memory_bytes = 99 };
	struct metrics_agent_counters c = { .config_reloads = 2, .ringbuf_drops = 5 };
	struct metrics_kind_count k[] = { { "cpu_quota", 7 }, { "cpu_idle", 1 } };
	struct strbuf b;

	strbuf_init(&b);
	metrics_render_headroom(&b, &h);
	metrics_render_agent(&b, &c);
	metrics_render_actions(&b, k, 2);
	cr_assert_eq(line_value(b.buf, "\ncolod_batch_cpu_milli"), 1234);
	cr_assert_eq(line_value(b.buf, "\ncolod_mid_memory_bytes"), 99);
	cr_assert_eq(line_value(b.buf, "\ncolod_config_reloads_total"), 2);
	cr_assert_eq(line_value(b.buf, "\ncolod_ringbuf_drops_total"), 5);
	cr_assert_eq(line_value(b.buf, "\ncolod_bpf_map_full_total"), 0);
	cr_assert_eq(line_value(b.buf, "colod_actions_total{kind=\"cpu_quota\"}"), 7);
	cr_assert_eq(count(b.buf, "# TYPE colod_actions_total counter"), 1);
	strbuf_free(&b);
}

Test(metrics, health_decision)
{
	cr_assert(metrics_is_healthy(1000000000ULL, 5000000000ULL, 10));
	cr_assert(metrics_is_healthy(0, 10000000000ULL, 10));
	cr_assert(!metrics_is_healthy(0, 10000000001ULL, 10));
	cr_assert(metrics_is_healthy(5, 4, 0));
}

/* ---- the real server ---- */

struct scrape {
	long status;
	char type[128];
	struct strbuf body;
};

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
	strbuf_append(&((struct scrape *)ud)->body, p, sz * n);
	return sz * n;
}

static void fetch(unsigned int port, const char *path, const char *method,
		  struct scrape *out)
{
	CURL *c = curl_easy_init();
	char url[128];
	char *ct = NULL;
	CURLcode rc;

	cr_assert(c != NULL);
	memset(out, 0, sizeof(*out));
	strbuf_init(&out->body);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", port, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	if (method) {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "x=1");
	}
	rc = curl_easy_perform(c);
	cr_assert_eq(rc, CURLE_OK, "GET %s: %s", url, curl_easy_strerror(rc));
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
	curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
	if (ct)
		snprintf(out->type, sizeof(out->type), "%s", ct);
	curl_easy_cleanup(c);
}

struct render_ctx {
	int calls;
	uint64_t value;
};

static void render(struct strbuf *b, void *ctx)
{
	struct render_ctx *r = ctx;

	r->calls++;
	metrics_family(b, "colod_test_value", "gauge", "A test value.");
	strbuf_printf(b, "colod_test_value %lu\n", (unsigned long)r->value);
}

static struct metrics_server *srv;

static void srv_fini(void)
{
	metrics_stop(srv);
	srv = NULL;
	metrics_set_ready(false);
	metrics_set_health_timeout(METRICS_HEALTH_TIMEOUT_DEFAULT);
}

Test(metrics, server_serves_metrics_health_and_ready, .fini = srv_fini)
{
	struct render_ctx r = { .value = 77 };
	struct scrape s;
	unsigned int port;

	metrics_set_ready(false);
	srv = metrics_start("127.0.0.1:0", render, &r);
	cr_assert(srv != NULL, "metrics_start: %s", strerror(errno));
	port = metrics_port(srv);
	cr_assert_gt(port, 0);
	cr_assert_eq(r.calls, 0, "nothing rendered before the owner publishes");
	cr_assert_eq(metrics_publish(srv), 0);

	fetch(port, "/metrics", NULL, &s);
	cr_assert_eq(s.status, 200);
	cr_assert_str_eq(s.type, METRICS_CONTENT_TYPE);
	cr_assert(strstr(s.body.buf, "\ncolod_test_value 77\n") != NULL, "%s", s.body.buf);
	strbuf_free(&s.body);

	r.value = 78;	/* not served until the owner of the value publishes */
	fetch(port, "/metrics", NULL, &s);
	cr_assert(strstr(s.body.buf, "\ncolod_test_value 77\n") != NULL);
	strbuf_free(&s.body);
	cr_assert_eq(metrics_publish(srv), 0);
	fetch(port, "/metrics", NULL, &s);
	cr_assert(strstr(s.body.buf, "\ncolod_test_value 78\n") != NULL);
	cr_assert_eq(r.calls, 2, "one render per publish, none per scrape");
	strbuf_free(&s.body);

	fetch(port, "/readyz", NULL, &s);
	cr_assert_eq(s.status, 503);
	strbuf_free(&s.body);
	metrics_set_ready(true);
	fetch(port, "/readyz", NULL, &s);
	cr_assert_eq(s.status, 200);
	strbuf_free(&s.body);

	fetch(port, "/healthz", NULL, &s);
	cr_assert_eq(s.status, 200, "fresh server must be healthy");
	strbuf_free(&s.body);
	metrics_heartbeat(1);	/* a tick at boot time: long stale */
	metrics_set_health_timeout(1);
	fetch(port, "/healthz", NULL, &s);
	cr_assert_eq(s.status, 503);
	strbuf_free(&s.body);

	fetch(port, "/nope", NULL, &s);
	cr_assert_eq(s.status, 404);
	strbuf_free(&s.body);
	fetch(port, "/metrics", "POST", &s);
	cr_assert_eq(s.status, 405);
	strbuf_free(&s.body);
	cr_assert_eq(r.calls, 2, "POST must not render");
}

Test(metrics, start_fails_on_bad_or_busy_address, .fini = srv_fini)
{
	struct render_ctx r = { 0 };
	struct metrics_server *other;
	char addr[64];

	cr_assert_null(metrics_start("nonsense", render, &r));
	cr_assert_eq(errno, EINVAL);
	srv = metrics_start("127.0.0.1:0", render, &r);
	cr_assert(srv != NULL);
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", metrics_port(srv));
	other = metrics_start(addr, render, &r);
	cr_assert_null(other, "second bind of %s succeeded", addr);
}

/* ---- on-demand rendering: a thread that plays the agent's loop ---- */

static atomic_bool owner_stop;

static void *owner_loop(void *arg)
{
	struct pollfd p = { .fd = metrics_wake_fd(arg), .events = POLLIN };

	/* bounded: the test stops it, and 30 s is far past the test's length */
	for (int i = 0; i < 600 && !atomic_load(&owner_stop); i++)
		if (poll(&p, 1, 50) > 0)
			metrics_serve_pending(arg);
	return NULL;
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1e3 + (t.tv_nsec - t0->tv_nsec) / 1e6;
}

Test(metrics, renders_only_when_scraped_once_per_state, .fini = srv_fini)
{
	struct render_ctx r = { .value = 1 };
	struct timespec t0;
	struct scrape s;
	pthread_t owner;
	unsigned int port;

	srv = metrics_start("127.0.0.1:0", render, &r);
	cr_assert(srv != NULL, "metrics_start: %s", strerror(errno));
	port = metrics_port(srv);
	cr_assert_geq(metrics_wake_fd(srv), 0);
	cr_assert_eq(metrics_publish(srv), 0);
	atomic_store(&owner_stop, false);
	cr_assert_eq(pthread_create(&owner, NULL, owner_loop, srv), 0);

	/* three ticks, nobody scrapes: nothing is rendered */
	for (int i = 0; i < 3; i++) {
		r.value = 2;
		metrics_invalidate(srv);
		usleep(100000);
	}
	cr_assert_eq(r.calls, 1, "%d renders without a scrape", r.calls);
	/* a scrape waits for one render of the newest state */
	fetch(port, "/metrics", NULL, &s);
	cr_assert_eq(s.status, 200);
	cr_assert(strstr(s.body.buf, "\ncolod_test_value 2\n") != NULL, "%s", s.body.buf);
	cr_assert(strstr(s.body.buf, "colod_metrics_renders_total 2\n") != NULL,
		  "%s", s.body.buf);
	strbuf_free(&s.body);
	cr_assert_eq(r.calls, 2);
	/* more scrapes of the same state: no render */
	for (int i = 0; i < 3; i++) {
		fetch(port, "/metrics", NULL, &s);
		cr_assert_eq(s.status, 200);
		strbuf_free(&s.body);
	}
	cr_assert_eq(r.calls, 2, "%d renders for one state", r.calls);

	/* the owner stalls: a scrape is answered 503 after the wait, not left hanging */
	atomic_store(&owner_stop, true);
	pthread_join(owner, NULL);
	r.value = 3;
	metrics_invalidate(srv);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	fetch(port, "/metrics", NULL, &s);
	cr_assert_eq(s.status, 503);
	cr_assert_geq(ms_since(&t0), METRICS_RENDER_WAIT_MS - 200.0);
	cr_assert_lt(ms_since(&t0), METRICS_RENDER_WAIT_MS + 2000.0);
	strbuf_free(&s.body);
	cr_assert_eq(r.calls, 2);
	/* /healthz does not wait for renders */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	fetch(port, "/healthz", NULL, &s);
	cr_assert_eq(s.status, 200);
	cr_assert_lt(ms_since(&t0), 1000.0);
	strbuf_free(&s.body);
}

/* A scrape still waiting when the server stops: answered or closed, no hang. */
static void *scrape_bg(void *arg)
{
	static struct scrape s;
	CURL *c = curl_easy_init();
	char url[128];

	snprintf(url, sizeof(url), "http://127.0.0.1:%u/metrics", *(unsigned int *)arg);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	strbuf_init(&s.body);
	curl_easy_perform(c);
	curl_easy_cleanup(c);
	strbuf_free(&s.body);
	return NULL;
}

Test(metrics, stop_with_a_waiting_scrape, .fini = srv_fini)
{
	struct render_ctx r = { .value = 1 };
	struct timespec t0;
	unsigned int port;
	pthread_t bg;

	srv = metrics_start("127.0.0.1:0", render, &r);
	cr_assert(srv != NULL);
	port = metrics_port(srv);
	metrics_invalidate(srv);
	cr_assert_eq(pthread_create(&bg, NULL, scrape_bg, &port), 0);
	usleep(300000);	/* the scrape is waiting: nobody serves the wake fd */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	metrics_stop(srv);
	srv = NULL;
	pthread_join(bg, NULL);
	cr_assert_lt(ms_since(&t0), 3000.0, "stop took %.0f ms", ms_since(&t0));
}
