// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * k8s: the publish gate and patch body (pure), and the real HTTPS request.
 *
 * NO REAL KUBERNETES API SERVER RUNS HERE. The request is checked against
 * a local stand-in: a throwaway CA and server certificate are made with
 * openssl at test time, and a small Python HTTPS server (embedded below)
 * accepts exactly what the Kubernetes API documents for this call and
 * rejects the rest with the status the API server would use:
 *   PATCH /api/v1/nodes/{name}/status            (else 405 / 404)
 *   Authorization: Bearer <service account token> (else 401)
 *   Content-Type: application/merge-patch+json    (else 415)
 *   body: {"status":{"capacity":{..},"allocatable":{..}}} where every key
 *   is one of the four extended resources and every value a string that
 *   is a valid resource.Quantity                  (else 400 / 422)
 * It records every request so the test can assert on it too. The client
 * verifies the server against the CA, as in a pod with ca.crt mounted.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "k8s.h"
#include "fakekubelet.h"
#include "tfile.h"

extern char **environ;

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

/* ---- the local stand-in for the API server ---- */

static const char fake_apiserver_py[] =
"import json, os, re, ssl, sys, http.server\n"
"cert, key, token, node, portfile, logfile = sys.argv[1:7]\n"
"QTY = re.compile(r'^[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([KMGTPE]i|[numkMGTPE]|[eE][+-]?[0-9]+)?$')\n"
"NAMES = {'kubernetes.io/batch-cpu', 'kubernetes.io/batch-memory',\n"
"         'kubernetes.io/mid-cpu', 'kubernetes.io/mid-memory'}\n"
"def failure(code, reason, msg):\n"
"    return code, {'kind': 'Status', 'apiVersion': 'v1', 'metadata': {},\n"
"                  'status': 'Failure', 'message': msg, 'reason': reason, 'code': code}\n"
"def check_list(name, l):\n"
"    if not isinstance(l, dict) or not l:\n"
"        return 'status.%s must be a non-empty object' % name\n"
"    for k, v in l.items():\n"
"        if k not in NAMES:\n"
"            return 'status.%s: unexpected resource %s' % (name, k)\n"
"        if not isinstance(v, str) or not QTY.match(v):\n"
"            return 'status.%s[%s]: %r is not a quantity string' % (name, k, v)\n"
"    return None\n"
"class H(http.server.BaseHTTPRequestHandler):\n"
"    protocol_version = 'HTTP/1.1'\n"
"    def log_message(self, *a):\n"
"        pass\n"
"    def check(self, body):\n"
"        if self.path != '/api/v1/nodes/%s/status' % node:\n"
"            return failure(404, 'NotFound', 'the server could not find the requested resource')\n"
"        if self.command != 'PATCH':\n"
"            return failure(405, 'MethodNotAllowed', 'only PATCH here')\n"
"        if self.headers.get('Authorization') != 'Bearer ' + token:\n"
"            return failure(401, 'Unauthorized', 'Unauthorized')\n"
"        ct = (self.headers.get('Content-Type') or '').split(';')[0].strip()\n"
"        if ct != 'application/merge-patch+json':\n"
"            return failure(415, 'UnsupportedMediaType', 'the body of the request was in an unknown format')\n"
"        try:\n"
"            doc = json.loads(body)\n"
"        except ValueError as e:\n"
"            return failure(400, 'BadRequest', str(e))\n"
"        if not isinstance(doc, dict) or set(doc) != {'status'}:\n"
"            return failure(422, 'Invalid', 'patch must only touch status')\n"
"        st = doc['status']\n"
"        if not isinstance(st, dict) or set(st) != {'capacity', 'allocatable'}:\n"
"            return failure(422, 'Invalid', 'status must hold capacity and allocatable')\n"
"        for name in ('capacity', 'allocatable'):\n"
"            err = check_list(name, st[name])\n"
"            if err:\n"
"                return failure(422, 'Invalid', err)\n"
"        return 200, {'kind': 'Node', 'apiVersion': 'v1',\n"
"                     'metadata': {'name': node}, 'status': st}\n"
"    def any(self):\n"
"        n = int(self.headers.get('Content-Length') or 0)\n"
"        body = self.rfile.read(n)\n"
"        code, obj = self.check(body)\n"
"        rec = {'method': self.command, 'path': self.path, 'code': code,\n"
"               'content_type': self.headers.get('Content-Type'),\n"
"               'authorization': self.headers.get('Authorization'),\n"
"               'accept': self.headers.get('Accept'),\n"
"               'body': body.decode('utf-8', 'replace')}\n"
"        with open(logfile, 'a') as f:\n"
"            f.write(json.dumps(rec) + '\\n')\n"
"        out = json.dumps(obj).encode()\n"
"        self.send_response(code)\n"
"        self.send_header('Content-Type', 'application/json')\n"
"        self.send_header('Content-Length', str(len(out)))\n"
"        self.end_headers()\n"
"        self.wfile.write(out)\n"
"    do_PATCH = do_GET = do_POST = do_PUT = any\n"
FK_PY_SERVE_TLS;

#define TOKEN	"eyJhbGciOiJSUzI1NiJ9.test-token"
#define NODE	"node-1.example"

static char dir[64];
static char path_buf[512];
static pid_t server_pid;
static unsigned int server_port;

static const char *at(const char *name)
{
	snprintf(path_buf, sizeof(path_buf), "%s/%s", dir, name);
	return path_buf;
}

static void write_file(const char *name, const char *text)
{
	tfile_write(at(name), text);
}

static void make_certs(void)
{
	tls_make_certs(dir);
}

static void start_server(void)
{
	char script[600], cert[600], key[600], portfile[600], log[600];
	const char *py = access("/usr/bin/python3", X_OK) == 0 ?
			 "/usr/bin/python3" : "python3";
	char *argv[10];
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	int i, err;

	snprintf(script, sizeof(script), "%s/fake_apiserver.py", dir);
	snprintf(cert, sizeof(cert), "%s/srv.crt", dir);
	snprintf(key, sizeof(key), "%s/srv.key", dir);
	snprintf(portfile, sizeof(portfile), "%s/port", dir);
	snprintf(log, sizeof(log), "%s/requests.jsonl", dir);
	write_file("fake_apiserver.py", fake_apiserver_py);
	argv[0] = (char *)py;
	argv[1] = script;
	argv[2] = cert;
	argv[3] = key;
	argv[4] = TOKEN;
	argv[5] = NODE;
	argv[6] = portfile;
	argv[7] = log;
	argv[8] = NULL;
	err = posix_spawnp(&server_pid, py, NULL, NULL, argv, environ);
	cr_assert_eq(err, 0, "spawn %s: %s", py, strerror(err));
	/* generous: python start-up on a loaded 2-core machine */
	for (i = 0; i < 1500; i++) {
		FILE *f = fopen(portfile, "r");

		if (f) {
			cr_assert_eq(fscanf(f, "%u", &server_port), 1);
			fclose(f);
			return;
		}
		cr_assert_eq(waitpid(server_pid, NULL, WNOHANG), 0,
			     "fake API server exited early");
		nanosleep(&ts, NULL);
	}
	cr_assert_fail("fake API server did not start in 30 s");
}

static void setup(void)
{
	char port[16];

	snprintf(dir, sizeof(dir), "/tmp/colod-test-k8s-XXXXXX");
	cr_assert(mkdtemp(dir) != NULL);
	mkdir(at("sa"), 0700);
	write_file("sa/token", TOKEN "\n");
	make_certs();
	start_server();
	snprintf(port, sizeof(port), "%u", server_port);
	setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", port, 1);
	setenv("NODE_NAME", NODE, 1);
}

static void teardown(void)
{
	char cmd[128];

	if (server_pid > 0) {
		kill(server_pid, SIGTERM);
		waitpid(server_pid, NULL, 0);
		server_pid = 0;
	}
	if (dir[0] && !strncmp(dir, "/tmp/colod-test-k8s-", 20)) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd))
			fprintf(stderr, "k8s test: could not remove %s\n", dir);
	}
}

/* The n-th (0-based) recorded request, parsed. */
static cJSON *request(int n)
{
	static char line[8192];
	FILE *f = fopen(at("requests.jsonl"), "r");
	cJSON *j = NULL;
	int i = 0;

	cr_assert(f != NULL, "the fake API server saw no request");
	while (fgets(line, sizeof(line), f))
		if (i++ == n)
			j = cJSON_Parse(line);
	fclose(f);
	cr_assert(j != NULL, "no request #%d recorded", n);
	return j;
}

static const char *field(cJSON *j, const char *name)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(j, name);

	return cJSON_IsString(v) ? v->valuestring : "";
}

Test(k8s, patch_is_what_the_api_documents, .init = setup, .fini = teardown)
{
	struct k8s_node_resources r = { 1500, 12884901888ULL, 700, 3221225472ULL };
	struct k8s_client *c = NULL;
	char *want = k8s_node_status_patch(&r);
	cJSON *req, *code;

	cr_assert_eq(k8s_client_from_env(at("sa"), &c), 0);
	cr_assert_str_eq(k8s_client_node(c), NODE);
	cr_assert_eq(k8s_patch_node_status(c, &r), 0);
	req = request(0);
	code = cJSON_GetObjectItemCaseSensitive(req, "code");
	cr_assert_eq(code->valueint, 200);
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
	snprintf(url, sizeof(url), "https://127.0.0.1:%u", server_port);
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
