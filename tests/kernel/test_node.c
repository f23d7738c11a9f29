// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Leaving the cluster cleanly, for real (issue 16, item 8): the colod
 * binary runs as in a pod (KUBERNETES_SERVICE_HOST/PORT, NODE_NAME, a
 * service account directory) against a local TLS stand-in for the API
 * server (tests/lib/fakeapi.h: NO REAL API SERVER RUNS HERE; it accepts
 * only what the API documents for PATCH nodes/{name}/status and records
 * every request with its time). The assertions are on what the stand-in
 * received:
 *   - while running, a patch that publishes batch-cpu/batch-memory (and
 *     Mid) in capacity and allocatable;
 *   - on SIGTERM and on SIGINT, a last patch that removes all four (null in
 *     a merge patch), the kubelet's own resources untouched; SIGHUP reloads
 *     and withdraws nothing;
 *   - a 401 is answered at once by reading the token file again (the
 *     stand-in rotates it, as the kubelet does), no failure counted;
 *   - refusals (403) are spaced by the publisher's backoff, [5, 10] s after
 *     the first, [10, 20] s after the second, [20, 40] s after the third
 *     (plus one 1 s tick and room for a loaded machine), each attempt one
 *     request and one retry with the token read again; a token changed in
 *     the file during the backoff is the one the next request carries.
 * Which draw the jitter makes in [d/2, d] and the 5-minute cap are unit
 * tests (tests/unit/test_k8s.c): one run of one agent sees one draw.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "agentrun.h"
#include "fakeapi.h"

#define TOKEN		"eyJhbGciOiJSUzI1NiJ9.colod-node-test"
#define TOKEN_NEW	"eyJhbGciOiJSUzI1NiJ9.colod-node-test-rotated"
#define NODE		"colod-test-node"
#define STATUS_PATH	"/api/v1/nodes/" NODE "/status"

static const char *const resources[] = {
	"kubernetes.io/batch-cpu", "kubernetes.io/batch-memory",
	"kubernetes.io/mid-cpu", "kubernetes.io/mid-memory",
};

static struct agentrun run;
static struct fakeapi api = { .pid = -1 };

static void setup(void)
{
	char dir[160];

	if (geteuid())
		cr_skip_test("real-kernel tests need root");
	for (int i = 0; i < 120 && agentrun_other_agent(0); i++)
		sleep(1);
	if (agentrun_other_agent(0))
		cr_skip_test("another colod agent (pid %d) runs here", (int)agentrun_other_agent(0));
	agentrun_init(&run, "node");
	snprintf(dir, sizeof(dir), "%s", agentrun_path(&run, "api"));
	cr_assert_eq(mkdir(dir, 0700), 0);
	fakeapi_start(&api, dir, TOKEN, NODE);
	/* what the kubelet puts in every pod, and the downward API's node name */
	setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", api.port_str, 1);
	setenv("NODE_NAME", NODE, 1);
	agentrun_config(&run, "colocation-config", "{\"enable\": true}");
}

static void teardown(void)
{
	agentrun_cleanup(&run);
	fakeapi_stop(&api);
}

TestSuite(node, .init = setup, .fini = teardown, .timeout = 240);

static void start_agent(void)
{
	agentrun_start(&run, "--service-account", fakeapi_path(&api, "sa"), NULL);
	cr_assert(agentrun_wait_log(&run, "running:", 60000), "agent up");
	cr_assert(agentrun_log_has(&run, "publishing Batch and Mid to node " NODE));
}

/* Request n (0-based) once the stand-in recorded it (timeout_ms at most); fails the test else. */
static cJSON *wait_request(int n, int timeout_ms)
{
	cJSON *req;

	for (; timeout_ms > 0; timeout_ms -= 50) {
		req = fakeapi_request(&api, n);
		if (req)
			return req;
		usleep(50000);
	}
	agentrun_show_log(&run);
	cr_assert_fail("the API server stand-in got %d requests, not request #%d",
		       fakeapi_requests(&api), n);
	return NULL;
}

/* Every resource in both lists of the body of req null (withdraw) or a string (publish). */
static bool body_is(cJSON *req, bool withdraw)
{
	static const char *const lists[] = { "capacity", "allocatable" };
	cJSON *body = cJSON_Parse(fakeapi_field(req, "body")), *st, *v;
	bool ok = body != NULL;
	int i, j;

	st = cJSON_GetObjectItemCaseSensitive(body, "status");
	for (i = 0; ok && i < 2; i++)
		for (j = 0; ok && j < 4; j++) {
			v = cJSON_GetObjectItemCaseSensitive(
				cJSON_GetObjectItemCaseSensitive(st, lists[i]), resources[j]);
			ok = withdraw ? cJSON_IsNull(v) : cJSON_IsString(v);
		}
	cJSON_Delete(body);
	return ok;
}

static bool node_has(const char *list, const char *name)
{
	cJSON *st = fakeapi_node_status(&api);
	bool has = fakeapi_has(st, list, name);

	cJSON_Delete(st);
	return has;
}

/* The first accepted patch: it publishes all four, with the service account's token. */
static void assert_published(void)
{
	cJSON *req = wait_request(0, 30000);

	cr_assert_eq(fakeapi_code(req), 200, "%s", fakeapi_field(req, "body"));
	cr_assert_str_eq(fakeapi_field(req, "method"), "PATCH");
	cr_assert_str_eq(fakeapi_field(req, "path"), STATUS_PATH);
	cr_assert_str_eq(fakeapi_field(req, "authorization"), "Bearer " TOKEN);
	cr_assert(body_is(req, false), "not a publication: %s", fakeapi_field(req, "body"));
	cJSON_Delete(req);
	cr_assert(node_has("allocatable", "kubernetes.io/batch-cpu") &&
		  node_has("capacity", "kubernetes.io/batch-memory"),
		  "batch-cpu/batch-memory not on the node");
	for (int i = 0; i < 50 && agentrun_metric(&run, "colod_k8s_node_updates_total") < 1; i++)
		usleep(100000);
	cr_assert_geq(agentrun_metric(&run, "colod_k8s_node_updates_total"), 1);
}

/* Stop with sig: exit 0, and the last request the stand-in got took all four off the node. */
static void assert_stop_withdraws(int sig)
{
	int n, i, st;
	cJSON *req;

	st = agentrun_stop(&run, sig);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "signal %d: wait status %#x", sig, st);
	n = fakeapi_requests(&api);
	cr_assert_geq(n, 2, "no request after the publication (signal %d)", sig);
	req = fakeapi_request(&api, n - 1);
	cr_assert_not_null(req);
	cr_assert_str_eq(fakeapi_field(req, "path"), STATUS_PATH);
	cr_assert_eq(fakeapi_code(req), 200);
	cr_assert(body_is(req, true), "signal %d: the last patch is no withdrawal: %s", sig,
		  fakeapi_field(req, "body"));
	cJSON_Delete(req);
	/* and only the last one: nothing withdrew while it ran */
	for (i = 0; i < n - 1; i++) {
		req = fakeapi_request(&api, i);
		cr_assert_not(body_is(req, true), "request #%d withdrew before the stop", i);
		cJSON_Delete(req);
	}
	for (i = 0; i < 4; i++)
		cr_assert(!node_has("capacity", resources[i]) &&
			  !node_has("allocatable", resources[i]),
			  "%s still on the node after signal %d", resources[i], sig);
	cr_assert(node_has("capacity", "cpu") && node_has("allocatable", "pods"),
		  "the kubelet's own resources were touched");
	cr_assert(agentrun_log_has(&run, "Batch and Mid withdrawn"));
}

Test(node, publishes_while_running_and_withdraws_on_sigterm_not_on_sighup)
{
	int n;

	start_agent();
	assert_published();
	/* SIGHUP reloads the configuration; the node keeps its resources */
	n = fakeapi_requests(&api);
	kill(run.pid, SIGHUP);
	cr_assert(agentrun_wait_log(&run, "SIGHUP: reloading", 10000));
	sleep(2);
	cr_assert(agentrun_alive(&run), "SIGHUP stopped the agent");
	for (int i = n; i < fakeapi_requests(&api); i++) {
		cJSON *req = fakeapi_request(&api, i);

		cr_assert_not(body_is(req, true), "SIGHUP withdrew the resources");
		cJSON_Delete(req);
	}
	cr_assert(node_has("allocatable", "kubernetes.io/batch-cpu"));
	assert_stop_withdraws(SIGTERM);
}

Test(node, withdraws_on_sigint)
{
	start_agent();
	assert_published();
	assert_stop_withdraws(SIGINT);
}

/*
 * The kubelet rotated the projected token after colod read it: the 401 is
 * answered by reading the file again and repeating the request at once,
 * not by a failure and a backoff.
 */
Test(node, a_rejected_token_is_read_again_at_once)
{
	cJSON *first, *second;

	fakeapi_put(&api, "sa/token", "token-before-rotation\n");
	fakeapi_put(&api, "rotate-on-401", "");
	start_agent();
	first = wait_request(0, 30000);
	second = wait_request(1, 10000);
	cr_assert_eq(fakeapi_code(first), 401);
	cr_assert_str_eq(fakeapi_field(first, "authorization"), "Bearer token-before-rotation");
	cr_assert_eq(fakeapi_code(second), 200, "%s", fakeapi_field(second, "body"));
	cr_assert_str_eq(fakeapi_field(second, "authorization"), "Bearer " TOKEN,
			 "the retry did not read the token file again");
	cr_assert(body_is(second, false));
	cr_assert_lt(fakeapi_time(second) - fakeapi_time(first), 3.0,
		     "the retry waited %.1f s", fakeapi_time(second) - fakeapi_time(first));
	cJSON_Delete(first);
	cJSON_Delete(second);
	cr_assert_eq(agentrun_metric(&run, "colod_k8s_node_errors_total"), 0,
		     "a rotated token counted as a failure");
	assert_stop_withdraws(SIGTERM);
}

/* Requests a, a + 1 are one attempt: refused, token read again, refused again. */
static double refused_attempt(int a, const char *token)
{
	cJSON *r0 = wait_request(a, 40000), *r1 = wait_request(a + 1, 10000);
	double t = fakeapi_time(r0);

	cr_assert_eq(fakeapi_code(r0), 403, "request #%d: %d", a, fakeapi_code(r0));
	cr_assert_eq(fakeapi_code(r1), 403, "request #%d: %d", a + 1, fakeapi_code(r1));
	cr_assert_str_eq(fakeapi_field(r0, "authorization"), token);
	cr_assert_lt(fakeapi_time(r1) - t, 3.0, "the retry of a refused token waited");
	cJSON_Delete(r0);
	cJSON_Delete(r1);
	return t;
}

/*
 * RBAC refuses the service account (403). Each attempt is the request and
 * one retry with the token read again; attempts are spaced by the backoff
 * (a wait drawn in [d/2, d], d = 10, 20, 40 s), sent at the first 1 s tick
 * after it: three attempts, so that a fixed 10 s retry (what colod did
 * before) cannot pass. During the third wait the token changes in the file
 * and RBAC is fixed: the next request carries the new token and publishes.
 */
Test(node, refusals_back_off_and_the_new_token_is_used)
{
	static const double lo[3] = { 5, 10, 20 };
	double t[4], gap;
	cJSON *req;
	int i;

	fakeapi_put(&api, "forbid", "");
	start_agent();
	for (i = 0; i < 3; i++)
		t[i] = refused_attempt(2 * i, "Bearer " TOKEN);
	/* rotation and an RBAC fix, while colod waits */
	fakeapi_put(&api, "accepted-token", TOKEN_NEW);
	fakeapi_put(&api, "sa/token", TOKEN_NEW "\n");
	cr_assert_eq(unlink(fakeapi_path(&api, "forbid")), 0);
	req = wait_request(6, 60000);
	t[3] = fakeapi_time(req);
	cr_assert_eq(fakeapi_code(req), 200, "%s", fakeapi_field(req, "body"));
	cr_assert_str_eq(fakeapi_field(req, "authorization"), "Bearer " TOKEN_NEW,
			 "the token changed in the file was not read");
	cr_assert(body_is(req, false));
	cJSON_Delete(req);
	cr_log_info("attempts at +0, +%.1f, +%.1f, +%.1f s", t[1] - t[0], t[2] - t[0],
		    t[3] - t[0]);
	for (i = 0; i < 3; i++) {
		gap = t[i + 1] - t[i];
		/* a tick late at most, and 2 s of room for a loaded machine */
		cr_assert(gap >= lo[i] - 0.1 && gap <= 2 * lo[i] + 1 + 2,
			  "wait %d: %.1f s, not in [%.0f, %.0f] s", i + 1, gap, lo[i], 2 * lo[i]);
	}
	cr_assert_eq(fakeapi_requests(&api), 7, "a request went out during a backoff");
	cr_assert(agentrun_log_has(&run, "refuses this service account"));
	cr_assert_eq(agentrun_metric(&run, "colod_k8s_node_errors_total"), 3);
	assert_stop_withdraws(SIGTERM);
}
