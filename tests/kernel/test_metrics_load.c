// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * /metrics under hostile load, with the real agent and a real large body:
 * 400 LS cgroups with kubelet-length names make a body of about 3 MiB, as
 * on a node with 400 LS pods (issue 16). Clients come from 127.0.0.2..9,
 * as other pods would; /healthz is asked from 127.0.0.1, as the kubelet
 * would. Every client loop is bounded in count and time. Root required.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "agentrun.h"
#include "cgtest.h"

#define NR_CG		400
#define NR_IPS		8

static struct cgtest_group top;
static struct agentrun run;
static unsigned int port;
static int nr_made;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void child_path(char *buf, size_t len, const char *ctrl, int i)
{
	/* as long as a kubelet container cgroup's last component */
	snprintf(buf, len, "%s/%s/%s/cri-containerd-%064x.scope", cgtest_root(),
		 ctrl, top.rel, i);
}

static void make_children(void)
{
	static const char *ctrls[] = { "cpu", "cpuacct" };
	char path[512];
	int i, c;

	for (i = 0; i < NR_CG; i++, nr_made++)
		for (c = 0; c < 2; c++) {
			child_path(path, sizeof(path), ctrls[c], i);
			cr_assert_eq(mkdir(path, 0755), 0, "%s: %s", path, strerror(errno));
		}
}

static void remove_children(void)
{
	static const char *ctrls[] = { "cpu", "cpuacct" };
	char path[512];
	int i, c;

	for (i = 0; i < nr_made; i++)
		for (c = 0; c < 2; c++) {
			child_path(path, sizeof(path), ctrls[c], i);
			rmdir(path);
		}
	nr_made = 0;
}

static unsigned int log_port(void)
{
	/* the whole log: 400 "tracking" lines come before the port's */
	static char buf[1 << 20];
	char *p;
	unsigned int v = 0;
	FILE *f = fopen(agentrun_path(&run, "agent.log"), "r");
	size_t n = 0;

	if (f) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = 0;
	if ((p = strstr(buf, "(port ")))
		sscanf(p, "(port %u)", &v);
	return v;
}

static void setup(void)
{
	char rules[512];

	if (geteuid())
		cr_skip_test("real-kernel tests need root");
	cr_assert_eq(cgtest_make_unique(&top, "mload", CGT_CPU | CGT_CPUACCT), 0);
	make_children();
	agentrun_init(&run, "mload");
	snprintf(rules, sizeof(rules),
		 "{\"lsLatencyTargetUs\": 1000, \"classificationRules\": ["
		 "{\"match\": \"/%s/*\", \"class\": \"LS\"}]}", top.rel);
	agentrun_config(&run, "colod-config", rules);
	agentrun_start(&run, NULL);
	cr_assert(agentrun_wait_log(&run, "(port ", 20000), "metrics port in the log");
	port = log_port();
	cr_assert_gt(port, 0);
}

static void teardown(void)
{
	agentrun_cleanup(&run);
	remove_children();
	cgtest_remove(&top);
}

TestSuite(mload, .init = setup, .fini = teardown, .timeout = 120);

/* A connected TCP socket from src (127.0.0.x) to the agent, or -1. */
static int dial(const char *src, int rcvbuf)
{
	struct sockaddr_in sa = { .sin_family = AF_INET }, me = { .sin_family = AF_INET };
	struct timeval tv = { .tv_sec = 1 };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (rcvbuf)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	inet_pton(AF_INET, src, &me.sin_addr);
	sa.sin_port = htons(port);
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if (bind(fd, (struct sockaddr *)&me, sizeof(me)) ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	return fd;
}

static void attacker_ip(char *buf, size_t len, int i)
{
	snprintf(buf, len, "127.0.0.%d", 2 + i % NR_IPS);
}

/*
 * GET path from 127.0.0.1 and read the whole answer within timeout_ms.
 * Returns the status (-1: no complete answer in time); *body_len the body
 * bytes read, checked against Content-Length.
 */
static char buf[16 << 20];	/* the last answer get() read */

static int get(const char *path, int timeout_ms, size_t *body_len, bool *complete)
{
	uint64_t end = now_ms() + (uint64_t)timeout_ms;
	char req[128], *hdr_end, *cl;
	size_t len = 0;
	int status = -1, fd;
	long want = -1;
	ssize_t n;

	*body_len = 0;
	*complete = false;
	fd = dial("127.0.0.1", 0);
	if (fd < 0)
		return -1;
	snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\n\r\n", path);
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req))
		goto out;
	while (len < sizeof(buf) - 1 && now_ms() < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, (int)(end - now_ms())) <= 0)
			break;
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n <= 0) {
			buf[len] = 0;
			if (n == 0 && sscanf(buf, "HTTP/1.%*d %d", &status) == 1)
				*complete = true;
			break;
		}
		len += (size_t)n;
	}
	buf[len] = 0;
	if (!*complete)
		status = -1;
	hdr_end = strstr(buf, "\r\n\r\n");
	if (hdr_end) {
		*body_len = len - (size_t)(hdr_end + 4 - buf);
		if ((cl = strcasestr(buf, "\r\nContent-Length:")) && cl < hdr_end)
			want = strtol(cl + 17, NULL, 10);
		if (want >= 0 && (size_t)want != *body_len)
			*complete = false;
	}
out:
	close(fd);
	return status;
}

static long rss_kb(void)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", run.pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* /healthz answers 200 within 1 s; returns its time in ms. */
static uint64_t healthz_ok(const char *when)
{
	uint64_t t0 = now_ms();
	bool complete;
	size_t len;
	int st = get("/healthz", 1000, &len, &complete);

	cr_assert_eq(st, 200, "/healthz %s: status %d after %lu ms", when, st,
		     (unsigned long)(now_ms() - t0));
	return now_ms() - t0;
}

/* A full scrape; returns the body size. */
static size_t scrape_ok(const char *when)
{
	bool complete;
	size_t len;
	int st = get("/metrics", 5000, &len, &complete);

	cr_assert_eq(st, 200, "/metrics %s: status %d", when, st);
	cr_assert(complete, "/metrics %s: %zu bytes, incomplete", when, len);
	return len;
}

static void wait_all_tracked(void)
{
	int i;

	for (i = 0; i < 100; i++) {
		if (agentrun_metric(&run, "colod_cgroups ") >= NR_CG)
			return;
		usleep(200000);
	}
	agentrun_show_log(&run);
	cr_assert_fail("the agent tracks %.0f cgroups, not %d",
		       agentrun_metric(&run, "colod_cgroups "), NR_CG);
}

Test(mload, clients_that_never_read_cost_a_bounded_memory_and_health_answers)
{
	int fds[64], i, nfd = 0, rounds;
	long base, peak = 0, kb;
	uint64_t worst = 0, t;
	size_t body;
	char ip[32];

	wait_all_tracked();
	body = scrape_ok("before the load");
	cr_assert_gt(body, 2u << 20, "a large body (%zu bytes)", body);
	sleep(2);
	base = rss_kb();
	cr_assert_gt(base, 0);
	for (i = 0; i < 64; i++) {
		const char *req = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";

		attacker_ip(ip, sizeof(ip), i);
		fds[nfd] = dial(ip, 4096);
		if (fds[nfd] < 0)
			continue;
		if (write(fds[nfd], req, strlen(req)) < 0) {
			close(fds[nfd]);
			continue;
		}
		nfd++;
	}
	cr_assert_geq(nfd, 56, "most of the 64 clients connect (%d)", nfd);
	/* 8 s: the clients stay (an idle connection is cut after 10 s) */
	for (rounds = 0; rounds < 32; rounds++) {
		t = healthz_ok("with 64 clients that never read");
		if (t > worst)
			worst = t;
		kb = rss_kb();
		if (kb > peak)
			peak = kb;
		usleep(250000);
	}
	scrape_ok("with 64 clients that never read");
	kb = rss_kb();
	if (kb > peak)
		peak = kb;
	cr_log_info("body %zu KiB, RSS base %ld KiB, peak %ld KiB (+%ld), /healthz worst %lu ms",
		    body >> 10, base, peak, peak - base, (unsigned long)worst);
	fprintf(stderr, "mload: body %zu KiB, RSS base %ld KiB, peak %ld KiB (+%ld), "
		"/healthz worst %lu ms\n", body >> 10, base, peak, peak - base,
		(unsigned long)worst);
	/*
	 * base holds no body (the agent lets it go at the tick after a
	 * scrape). At most 3 exist at once (the newest one and two that
	 * clients are still reading), and each connection costs at most 16
	 * KiB of pool and 16 KiB of response buffer: 3 bodies + 64 x 32 KiB,
	 * plus 4 MiB of slack for the agent's own tick-to-tick variation.
	 */
	cr_assert_leq(peak - base, (long)(3 * (body >> 10)) + 64 * 32 + 4096,
		      "RSS %ld KiB over the base of %ld with a %zu KiB body",
		      peak - base, base, body >> 10);
	for (i = 0; i < nfd; i++)
		close(fds[i]);
}

/*
 * Clients that each send one byte a second and never finish: the agent
 * closes them (a fixed deadline per request), /healthz answers meanwhile.
 * send(): one byte, -1 once the agent has closed the connection.
 */
static int dribble(int fd, const char *text, size_t *pos, size_t len)
{
	struct pollfd p = { .fd = fd, .events = POLLIN | POLLRDHUP };
	char c;

	if (poll(&p, 1, 0) > 0) {
		if (p.revents & (POLLRDHUP | POLLHUP | POLLERR))
			return -1;
		if (recv(fd, &c, 1, MSG_DONTWAIT | MSG_PEEK) == 0)
			return -1;
		/* an answer (405): the agent closes after it */
		while (recv(fd, &c, 1, MSG_DONTWAIT) > 0)
			;
	}
	if (send(fd, text + *pos % len, 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 &&
	    errno != EAGAIN)
		return -1;
	(*pos)++;
	return 0;
}

static void slow_clients(const char *head, const char *repeat, int n, int limit_s)
{
	int fds[16], i, alive;
	uint64_t t0, closed_at[16];
	size_t pos[16] = {};
	char ip[32];

	cr_assert_leq(n, 16);
	wait_all_tracked();
	for (i = 0; i < n; i++) {
		attacker_ip(ip, sizeof(ip), i);
		fds[i] = dial(ip, 0);
		cr_assert_geq(fds[i], 0, "client %d connects", i);
		closed_at[i] = 0;
		if (head)
			cr_assert_eq(write(fds[i], head, strlen(head)), (ssize_t)strlen(head));
	}
	t0 = now_ms();
	/* one byte a second each, for at most limit_s + 10 s */
	for (alive = n; alive && now_ms() - t0 < (uint64_t)(limit_s + 10) * 1000;) {
		for (i = 0; i < n; i++) {
			if (closed_at[i])
				continue;
			if (dribble(fds[i], repeat, &pos[i], strlen(repeat))) {
				closed_at[i] = now_ms() - t0;
				alive--;
			}
		}
		healthz_ok("with slow clients");
		usleep(1000000);
	}
	for (i = 0; i < n; i++) {
		close(fds[i]);
		cr_assert(closed_at[i] && closed_at[i] <= (uint64_t)limit_s * 1000,
			  "client %d closed by the agent after %lu ms (limit %d s, 0: never)",
			  i, (unsigned long)closed_at[i], limit_s);
	}
	scrape_ok("after slow clients");
}

Test(mload, a_request_sent_one_byte_a_second_is_cut_off)
{
	/* a header line that never ends */
	slow_clients("GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ", "a", 16, 20);
}

Test(mload, a_chunked_body_sent_slowly_is_cut_off)
{
	slow_clients("POST /metrics HTTP/1.1\r\nHost: x\r\n"
		     "Transfer-Encoding: chunked\r\n\r\n", "1\r\na\r\n", 8, 20);
}

/*
 * The real agent renders its 3 MiB body only for a scrape, at most once
 * per tick: ticks go on without a scrape and nothing is rendered; the
 * scrape after them gets the newest tick.
 */
Test(mload, the_body_is_rendered_only_when_scraped)
{
	double r1, r2, t1, t2;

	wait_all_tracked();
	r1 = agentrun_metric(&run, "colod_metrics_renders_total ");
	t1 = agentrun_metric(&run, "colod_loop_ticks_total ");
	cr_assert_gt(r1, 0, "colod_metrics_renders_total is served");
	sleep(5);
	t2 = agentrun_metric(&run, "colod_loop_ticks_total ");
	r2 = agentrun_metric(&run, "colod_metrics_renders_total ");
	cr_log_info("renders %.0f -> %.0f, ticks %.0f -> %.0f", r1, r2, t1, t2);
	cr_assert_geq(t2, t1 + 3, "the scrape after 5 s sees the newest ticks "
		      "(%.0f -> %.0f)", t1, t2);
	/* the first of the two scrapes rendered; the second one at most once more */
	cr_assert_leq(r2, r1 + 2, "%.0f renders over %.0f ticks without a scrape",
		      r2 - r1, t2 - t1);
}

static void join(const char *ctrl, pid_t pid)
{
	char path[600];
	FILE *f;

	child_path(path, sizeof(path), ctrl, 0);
	strcat(path, "/cgroup.procs");
	f = fopen(path, "w");
	cr_assert_not_null(f, "%s", path);
	fprintf(f, "%d", pid);
	cr_assert_eq(fclose(f), 0, "%s: %s", path, strerror(errno));
}

/*
 * With 400 tracked cgroups the agent reads cg_stats in batches
 * (track_measure); what it reports for one of them must still be the
 * kernel's account: a busy task's CPU time within 5% of cpuacct.usage.
 */
Test(mload, cpu_time_of_one_of_400_tracked_cgroups_matches_cpuacct)
{
	char path[600], series[700], usage[32] = "";
	double colod = -1, kernel;
	bool complete;
	size_t len;
	pid_t pid;
	char *p;

	wait_all_tracked();
	pid = fork();
	cr_assert_geq(pid, 0);
	if (!pid) {
		alarm(30);	/* bounded even if the test dies */
		for (;;)
			;
	}
	join("cpu", pid);
	join("cpuacct", pid);
	sleep(3);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	sleep(3);	/* two ticks: the agent's counters caught up */
	child_path(path, sizeof(path), "cpuacct", 0);
	strcat(path, "/cpuacct.usage");
	read_text(path, usage, sizeof(usage));
	kernel = strtod(usage, NULL) / 1e9;
	cr_assert_gt(kernel, 0.5, "the task ran (%s: %s)", path, usage);
	cr_assert_eq(get("/metrics", 5000, &len, &complete), 200);
	cr_assert(complete);
	snprintf(series, sizeof(series),
		 "\ncolod_cgroup_cpu_seconds_total{cgroup=\"/%s/cri-containerd-%064x.scope\"} ",
		 top.rel, 0);
	if ((p = strstr(buf, series)))
		colod = strtod(p + strlen(series), NULL);
	cr_log_info("colod %.3f s, cpuacct %.3f s", colod, kernel);
	cr_assert_gt(colod, 0, "%s in the body", series + 1);
	cr_assert(colod > kernel * 0.95 && colod < kernel * 1.05,
		  "colod %.3f s vs cpuacct %.3f s", colod, kernel);
}
