// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * k8s: the publish gate and patch body (pure), and the real HTTPS request.
 *
 * NO REAL KUBERNETES API SERVER RUNS HERE. The request is checked against
 * the local stand-in of tests/lib/fakeapi.h, which accepts exactly what the
 * Kubernetes API documents for this call and answers the rest as the API
 * server would. tests/kernel/test_node.c runs the whole agent against it.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "k8s.h"
#include "fakeapi.h"
#include "fakekubelet.h"
#include "tfile.h"

static const struct k8s_gate gate = { .diff_threshold = 0.1, .update_time_s = 300 };
#define SEC 1000000000ULL

/* ---- pure ---- */

Test(k8s, gate_publishes_first_time_and_after_update_time)
{
	struct k8s_node_resources a = { 1000, 1 << 30, 500, 1 << 29 };

	cr_assert(k8s_should_publish(&a, false, 0, &a, 1, &gate));
	cr_assert(!k8s_should_publish(&a, true, 10 * SEC, &a, 310 * SEC, &gate),
		  "exactly update_time_s is not more than it");
	cr_assert(k8s_should_publish(&a, true, 10 * SEC, &a, 310 * SEC + 1, &gate));
	/* a clock that went backwards must not freeze publishing */
	cr_assert(k8s_should_publish(&a, true, 10 * SEC, &a, 5 * SEC, &gate));
}

Test(k8s, gate_follows_resource_diff_threshold)
{
	struct k8s_node_resources last = { 1000, 1000000, 1000, 1000000 };
	struct k8s_node_resources now = last;

	now.batch_cpu_milli = 1099;	/* +9.9%: below threshold */
	cr_assert(!k8s_should_publish(&last, true, 0, &now, SEC, &gate));
	now.batch_cpu_milli = 1100;	/* +10%: not more than the threshold */
	cr_assert(!k8s_should_publish(&last, true, 0, &now, SEC, &gate));
	now.batch_cpu_milli = 1101;
	cr_assert(k8s_should_publish(&last, true, 0, &now, SEC, &gate));
	now = last;
	now.mid_memory_bytes = 899999;	/* beyond -10% */
	cr_assert(k8s_should_publish(&last, true, 0, &now, SEC, &gate));
	now = last;
	now.batch_memory_bytes = 950000;
	cr_assert(!k8s_should_publish(&last, true, 0, &now, SEC, &gate));
	/* zero stays zero: no update */
	last.mid_cpu_milli = 0;
	now = last;
	cr_assert(!k8s_should_publish(&last, true, 0, &now, SEC, &gate));
	now.mid_cpu_milli = 1;	/* anything from zero is a change */
	cr_assert(k8s_should_publish(&last, true, 0, &now, SEC, &gate));
}

static const char *str_at(cJSON *root, const char *list, const char *name)
{
	cJSON *s = cJSON_GetObjectItemCaseSensitive(root, "status");
	cJSON *l = cJSON_GetObjectItemCaseSensitive(s, list);
	cJSON *v = cJSON_GetObjectItemCaseSensitive(l, name);

	cr_assert(cJSON_IsString(v), "status.%s.%s is not a string", list, name);
	return v->valuestring;
}

Test(k8s, patch_body_has_both_lists_with_string_quantities)
{
	struct k8s_node_resources r = { 1500, 12884901888ULL, 250, 1073741824ULL };
	static const char *const lists[] = { "capacity", "allocatable" };
	char *body = k8s_node_status_patch(&r);
	cJSON *root;
	int i;

	cr_assert(body != NULL);
	root = cJSON_Parse(body);
	cr_assert(root != NULL, "not JSON: %s", body);
	cr_assert_eq(cJSON_GetArraySize(root), 1, "only status: %s", body);
	for (i = 0; i < 2; i++) {
		cJSON *l = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(root, "status"), lists[i]);

		cr_assert_eq(cJSON_GetArraySize(l), 4, "%s", body);
		cr_assert_str_eq(str_at(root, lists[i], K8S_RES_BATCH_CPU), "1500");
		cr_assert_str_eq(str_at(root, lists[i], K8S_RES_BATCH_MEMORY), "12884901888");
		cr_assert_str_eq(str_at(root, lists[i], K8S_RES_MID_CPU), "250");
		cr_assert_str_eq(str_at(root, lists[i], K8S_RES_MID_MEMORY), "1073741824");
	}
	cJSON_Delete(root);
	free(body);
}

Test(k8s, node_names)
{
	cr_assert(k8s_valid_node_name("node-1"));
	cr_assert(k8s_valid_node_name("ip-10-0-0-1.ec2.internal"));
	cr_assert(!k8s_valid_node_name(""));
	cr_assert(!k8s_valid_node_name(NULL));
	cr_assert(!k8s_valid_node_name("Node1"));
	cr_assert(!k8s_valid_node_name("-a"));
	cr_assert(!k8s_valid_node_name("a-"));
	cr_assert(!k8s_valid_node_name("a..b"));
	cr_assert(!k8s_valid_node_name("a/b"));
	cr_assert(!k8s_valid_node_name("a-.b"));
}

Test(k8s, not_in_cluster_is_off)
{
	struct k8s_client *c = (void *)1;

	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
	setenv("NODE_NAME", "n1", 1);
	cr_assert_eq(k8s_client_from_env("/nonexistent", &c), -ENODEV);
	cr_assert_null(c);
	setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	unsetenv("NODE_NAME");
	cr_assert_eq(k8s_client_from_env("/nonexistent", &c), -ENODEV);
	setenv("NODE_NAME", "n1", 1);
	cr_assert_eq(k8s_client_from_env("/nonexistent", &c), -ENOENT,
		     "in a cluster without a token is an error");
}

/* ---- against the local stand-in for the API server ---- */

#define TOKEN	"eyJhbGciOiJSUzI1NiJ9.test-token"
#define NODE	"node-1.example"

static char dir[64];
static struct fakeapi api = { .pid = -1 };

static const char *at(const char *name)
{
	return fakeapi_path(&api, name);
}

static void write_file(const char *name, const char *text)
{
	tfile_write(at(name), text);
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/colod-test-k8s-XXXXXX");
	cr_assert(mkdtemp(dir) != NULL);
	fakeapi_start(&api, dir, TOKEN, NODE);
	setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", api.port_str, 1);
	setenv("NODE_NAME", NODE, 1);
}

static void teardown(void)
{
	fakeapi_stop(&api);
	if (dir[0] && !strncmp(dir, "/tmp/colod-test-k8s-", 20) && tfile_rm_tree(dir))
		fprintf(stderr, "k8s test: could not remove %s\n", dir);
}

/* The n-th (0-based) recorded request, parsed. */
static cJSON *request(int n)
{
	cJSON *j = fakeapi_request(&api, n);

	cr_assert(j != NULL, "no request #%d recorded", n);
	return j;
}

static const char *field(cJSON *j, const char *name)
{
	return fakeapi_field(j, name);
}

Test(k8s, patch_is_what_the_api_documents, .init = setup, .fini = teardown)
{
	struct k8s_node_resources r = { 1500, 12884901888ULL, 700, 3221225472ULL };
	struct k8s_client *c = NULL;
	char *want = k8s_node_status_patch(&r);
	cJSON *req;

	cr_assert_eq(k8s_client_from_env(at("sa"), &c), 0);
	cr_assert_str_eq(k8s_client_node(c), NODE);
	cr_assert_eq(k8s_patch_node_status(c, &r), 0);
	req = request(0);
	cr_assert_eq(fakeapi_code(req), 200);
	cr_assert_str_eq(field(req, "method"), "PATCH");
	cr_assert_str_eq(field(req, "path"), "/api/v1/nodes/" NODE "/status");
	cr_assert_str_eq(field(req, "content_type"), "application/merge-patch+json");
	cr_assert_str_eq(field(req, "authorization"), "Bearer " TOKEN);
	cr_assert_str_eq(field(req, "accept"), "application/json");
	cr_assert_str_eq(field(req, "body"), want);
	cJSON_Delete(req);
	free(want);
	k8s_client_free(c);
}

Test(k8s, token_is_reread_and_rejections_map_to_errno, .init = setup,
     .fini = teardown)
{
	struct k8s_node_resources r = { 1, 2, 3, 4 };
	struct k8s_client *c = NULL;

	cr_assert_eq(k8s_client_from_env(at("sa"), &c), 0);
	write_file("sa/token", "rotated-but-wrong\n");
	cr_assert_eq(k8s_patch_node_status(c, &r), -EACCES);
	write_file("sa/token", TOKEN "\n");
	cr_assert_eq(k8s_patch_node_status(c, &r), 0);
	k8s_client_free(c);

	setenv("NODE_NAME", "some-other-node", 1);
	cr_assert_eq(k8s_client_from_env(at("sa"), &c), 0);
	cr_assert_eq(k8s_patch_node_status(c, &r), -ENOENT);
	k8s_client_free(c);
}

Test(k8s, server_not_signed_by_the_ca_is_refused, .init = setup,
     .fini = teardown)
{
	struct k8s_node_resources r = { 1, 2, 3, 4 };
	struct k8s_client *c = NULL;
	char url[64], ca[600];

	snprintf(ca, sizeof(ca), "%s/other.crt", dir);
	snprintf(url, sizeof(url), "https://127.0.0.1:%u", api.port);
	cr_assert_eq(k8s_client_new(url, NODE, at("sa/token"), ca, &c), 0);
	cr_assert_eq(k8s_patch_node_status(c, &r), -EIO);
	cr_assert_neq(access(at("requests.jsonl"), F_OK), 0,
		      "a request reached a server that failed verification");
	k8s_client_free(c);
}

Test(k8s, publisher_gates_and_publishes_off_thread, .init = setup,
     .fini = teardown)
{
	struct k8s_node_resources r = { 2000, 4000000000ULL, 1000, 2000000000ULL };
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	struct k8s_publisher *p = NULL;
	struct k8s_client *c = NULL;
	uint64_t up = 0, errs = 0;
	int i;

	cr_assert_eq(k8s_client_from_env(at("sa"), &c), 0);
	cr_assert_eq(k8s_publisher_start(c, &gate, &p), 0);
	cr_assert(k8s_publisher_submit(p, &r, 100 * SEC));
	for (i = 0; i < 1500 && up == 0; i++) {
		nanosleep(&ts, NULL);
		k8s_publisher_counts(p, &up, &errs);
	}
	cr_assert_eq(up, 1, "no accepted patch after 30 s (errors %lu)",
		     (unsigned long)errs);
	r.batch_cpu_milli = 2100;	/* +5%: under the 10% threshold */
	cr_assert(!k8s_publisher_submit(p, &r, 101 * SEC));
	r.batch_cpu_milli = 2500;	/* +25% */
	cr_assert(k8s_publisher_submit(p, &r, 102 * SEC));
	for (i = 0; i < 1500 && up < 2; i++) {
		nanosleep(&ts, NULL);
		k8s_publisher_counts(p, &up, &errs);
	}
	cr_assert_eq(up, 2);
	cr_assert_eq(errs, 0);
	k8s_publisher_stop(p);
	{
		cJSON *req = request(1);

		cr_assert(strstr(field(req, "body"), "\"kubernetes.io/batch-cpu\":\"2500\""),
			  "%s", field(req, "body"));
		cJSON_Delete(req);
	}
}

/* ---- leaving the cluster, backoff ---- */

Test(k8s, withdrawal_removes_every_resource_with_null)
{
	static const char *const lists[] = { "capacity", "allocatable" };
	static const char *const names[] = { K8S_RES_BATCH_CPU, K8S_RES_BATCH_MEMORY,
					     K8S_RES_MID_CPU, K8S_RES_MID_MEMORY };
	char *body = k8s_node_status_withdrawal();
	cJSON *root, *status;
	int i, j;

	cr_assert(body != NULL);
	root = cJSON_Parse(body);
	cr_assert(root != NULL, "not JSON: %s", body);
	status = cJSON_GetObjectItemCaseSensitive(root, "status");
	cr_assert_eq(cJSON_GetArraySize(root), 1, "only status: %s", body);
	cr_assert_eq(cJSON_GetArraySize(status), 2, "%s", body);
	for (i = 0; i < 2; i++) {
		cJSON *l = cJSON_GetObjectItemCaseSensitive(status, lists[i]);

		cr_assert_eq(cJSON_GetArraySize(l), 4, "%s", body);
		for (j = 0; j < 4; j++)
			cr_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(l, names[j])),
				  "%s.%s is not null: %s", lists[i], names[j], body);
	}
	cJSON_Delete(root);
	free(body);
}

Test(k8s, backoff_doubles_with_jitter_up_to_five_minutes)
{
	uint64_t step = K8S_BACKOFF_BASE_NS, prev_max = 0;
	unsigned int f;

	cr_assert_eq(k8s_backoff_ns(0, 12345), 0);
	cr_assert_eq(K8S_BACKOFF_BASE_NS, 10 * SEC);
	cr_assert_eq(K8S_BACKOFF_MAX_NS, 300 * SEC);
	for (f = 1; f <= 12; f++) {
		uint64_t lo = k8s_backoff_ns(f, 0), hi = k8s_backoff_ns(f, step / 2);
		uint64_t mid = k8s_backoff_ns(f, 0x123456789abcdefULL);

		cr_assert_eq(lo, step / 2, "fails %u: shortest wait %lu", f,
			     (unsigned long)lo);
		cr_assert_eq(hi, step, "fails %u: longest wait %lu", f,
			     (unsigned long)hi);
		cr_assert(mid >= lo && mid <= hi);
		cr_assert(hi >= prev_max, "the wait never shrinks");
		prev_max = hi;
		step = step * 2 > K8S_BACKOFF_MAX_NS ? K8S_BACKOFF_MAX_NS : step * 2;
	}
	cr_assert_eq(k8s_backoff_ns(UINT_MAX, UINT64_MAX) <= K8S_BACKOFF_MAX_NS, 1);
	/* jitter: different random draws give different waits */
	cr_assert_neq(k8s_backoff_ns(3, 1), k8s_backoff_ns(3, 987654321));
}

/* Wait (30 s at most: a loaded machine) until pred holds on the stats. */
static void wait_stats(struct k8s_publisher *p, struct k8s_publisher_stats *st,
		       uint64_t updates, uint64_t errors)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	int i;

	for (i = 0; i < 1500; i++) {
		k8s_publisher_stats(p, st);
		if (st->updates >= updates && st->errors >= errors)
			return;
		nanosleep(&ts, NULL);
	}
	cr_assert_fail("publisher: %lu updates, %lu errors after 30 s; wanted %lu, %lu",
		       (unsigned long)st->updates, (unsigned long)st->errors,
		       (unsigned long)updates, (unsigned long)errors);
}

static int request_count(void)
{
	return fakeapi_requests(&api);
}

static int request_code(int n)
{
	cJSON *req = request(n);
	int code = fakeapi_code(req);

	cJSON_Delete(req);
	return code;
}

/* The node's status as the fake API server holds it after the patches. */
static cJSON *node_status(void)
{
	cJSON *st = fakeapi_node_status(&api);

	cr_assert(st != NULL, "no patch was applied to the node");
	return st;
}

static bool has(cJSON *st, const char *list, const char *name)
{
	return fakeapi_has(st, list, name);
}

Test(k8s, stop_withdraws_batch_and_mid_from_the_node, .init = setup,
     .fini = teardown)
{
	struct k8s_node_resources r = { 2000, 4000000000ULL, 1000, 2000000000ULL };
	struct k8s_publisher_stats st;
	struct k8s_publisher *p = NULL;
	struct k8s_client *c = NULL;
	cJSON *node;

	cr_assert_eq(k8s_client_from_env(at("sa"), &c), 0);
	cr_assert_eq(k8s_publisher_start(c, &gate, &p), 0);
	cr_assert(k8s_publisher_submit(p, &r, 100 * SEC));
	wait_stats(p, &st, 1, 0);
	node = node_status();
	cr_assert(has(node, "allocatable", K8S_RES_BATCH_CPU), "not published");
	cJSON_Delete(node);

	cr_assert_eq(k8s_publisher_stop(p), 0);
	node = node_status();
	cr_assert(node != NULL);
	cr_assert(!has(node, "capacity", K8S_RES_BATCH_CPU) &&
		  !has(node, "allocatable", K8S_RES_BATCH_CPU) &&
		  !has(node, "capacity", K8S_RES_BATCH_MEMORY) &&
		  !has(node, "allocatable", K8S_RES_BATCH_MEMORY) &&
		  !has(node, "capacity", K8S_RES_MID_CPU) &&
		  !has(node, "allocatable", K8S_RES_MID_CPU) &&
		  !has(node, "capacity", K8S_RES_MID_MEMORY) &&
		  !has(node, "allocatable", K8S_RES_MID_MEMORY),
		  "Batch/Mid still on the node after stop");
	cr_assert(has(node, "capacity", "cpu") && has(node, "allocatable", "pods"),
		  "the kubelet's own resources were touched");
	cJSON_Delete(node);
	cr_assert_eq(request_count(), 2);
}

Test(k8s, rejected_token_is_reread_then_backoff_grows, .init = setup,
     .fini = teardown)
{
	struct k8s_node_resources r = { 1, 2, 3, 4 };
	struct k8s_publisher_stats st;
	struct k8s_publisher *p = NULL;
	struct k8s_client *c = NULL;
	uint64_t t = 100 * SEC, step = K8S_BACKOFF_BASE_NS;
	unsigned int i;

	cr_assert_eq(k8s_client_from_env(at("sa"), &c), 0);
	write_file("sa/token", "revoked-token\n");
	cr_assert_eq(k8s_publisher_start(c, &gate, &p), 0);
	for (i = 1; i <= 3; i++) {
		cr_assert(k8s_publisher_submit(p, &r, t), "attempt %u not queued", i);
		wait_stats(p, &st, 0, i);
		cr_assert_eq(st.updates, 0);
		cr_assert_eq(st.fails, i);
		/* each attempt reads the token, and once more after the 401 */
		cr_assert_eq(st.token_reads, 2 * i, "token read %lu times in %u attempts",
			     (unsigned long)st.token_reads, i);
		cr_assert_eq(request_count(), (int)(2 * i));
		cr_assert_eq(request_code(2 * i - 1), 401);
		cr_assert(st.backoff_ns >= step / 2 && st.backoff_ns <= step,
			  "attempt %u: backoff %lu ns, not in [%lu, %lu]", i,
			  (unsigned long)st.backoff_ns, (unsigned long)(step / 2),
			  (unsigned long)step);
		cr_assert_eq(st.retry_ns, t + st.backoff_ns);
		/* nothing goes before the wait is over, whatever the values */
		r.batch_cpu_milli *= 10;
		cr_assert(!k8s_publisher_submit(p, &r, st.retry_ns - 1));
		cr_assert(!k8s_publisher_submit(p, &r, t + 1));
		t = st.retry_ns;
		step *= 2;
	}
	cr_assert_eq(request_count(), 6, "a request went out during a backoff");
	k8s_publisher_stop(p);	/* the withdrawal is refused too */
}

Test(k8s, rotated_token_is_picked_up_without_a_failure, .init = setup,
     .fini = teardown)
{
	struct k8s_node_resources r = { 1, 2, 3, 4 };
	struct k8s_publisher_stats st;
	struct k8s_publisher *p = NULL;
	struct k8s_client *c = NULL;

	cr_assert_eq(k8s_client_from_env(at("sa"), &c), 0);
	write_file("sa/token", "token-before-rotation\n");
	write_file("rotate-on-401", "");
	cr_assert_eq(k8s_publisher_start(c, &gate, &p), 0);
	cr_assert(k8s_publisher_submit(p, &r, 100 * SEC));
	wait_stats(p, &st, 1, 0);
	cr_assert_eq(st.errors, 0, "a rotated token counted as a failure");
	cr_assert_eq(st.fails, 0);
	cr_assert_eq(request_code(0), 401);
	cr_assert_eq(request_code(1), 200);
	cr_assert_eq(k8s_publisher_stop(p), 0);
}

static void setup_no_server(void)
{
	snprintf(dir, sizeof(dir), "/tmp/colod-test-k8s-XXXXXX");
	cr_assert(mkdtemp(dir) != NULL);
	snprintf(api.dir, sizeof(api.dir), "%s", dir);
	tls_make_certs(dir);	/* a CA that parses, so the request gets to the wait */
	write_file("sa/token", TOKEN "\n");
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * SEC + (uint64_t)ts.tv_nsec;
}

/*
 * An API server that accepts connections and never answers (overloaded,
 * or a black-holed route): stop must neither wait for the request in
 * flight (10 s) nor for ever, but give the withdrawal its bounded try.
 */
Test(k8s, stop_is_bounded_when_the_api_server_hangs, .init = setup_no_server,
     .fini = teardown)
{
	struct k8s_node_resources r = { 1, 2, 3, 4 };
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct timespec ts = { 0, 300 * 1000 * 1000 };
	socklen_t len = sizeof(sa);
	struct k8s_publisher *p = NULL;
	struct k8s_client *c = NULL;
	uint64_t t0, took;
	char url[64], tok[600], ca[600];
	int fd, err;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert(fd >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(listen(fd, 16), 0);	/* the kernel accepts; nobody reads */
	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	snprintf(url, sizeof(url), "https://127.0.0.1:%u", ntohs(sa.sin_port));
	snprintf(tok, sizeof(tok), "%s/sa/token", dir);
	snprintf(ca, sizeof(ca), "%s/sa/ca.crt", dir);
	cr_assert_eq(k8s_client_new(url, NODE, tok, ca, &c), 0);
	cr_assert_eq(k8s_publisher_start(c, &gate, &p), 0);
	cr_assert(k8s_publisher_submit(p, &r, 100 * SEC));
	nanosleep(&ts, NULL);	/* the request is in flight */
	t0 = mono_ns();
	err = k8s_publisher_stop(p);
	took = mono_ns() - t0;
	close(fd);
	cr_assert_eq(err, -EIO, "withdrawal against a silent server: %d", err);
	cr_assert(took >= (uint64_t)K8S_WITHDRAW_TIMEOUT_MS * 1000000ULL - SEC / 2,
		  "the withdrawal was not tried (%lu ms)", (unsigned long)(took / 1000000));
	cr_assert(took <= (uint64_t)K8S_WITHDRAW_TIMEOUT_MS * 1000000ULL + 3 * SEC,
		  "stop took %lu ms", (unsigned long)(took / 1000000));
}
