// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "fakeapi.h"
#include "fakekubelet.h"

static const char fake_apiserver_py[] =
"import json, os, re, ssl, sys, http.server\n"
"import time\n"
"cert, key, token, node, logfile, tokfile, portfile = sys.argv[1:8]\n"
"d = os.path.dirname(logfile)\n"
"KUBELET = {'cpu': '2', 'memory': '8Gi', 'pods': '110'}\n"
"state = {'capacity': dict(KUBELET), 'allocatable': dict(KUBELET)}\n"
"def save_state():\n"
"    with open(os.path.join(d, 'state.json.tmp'), 'w') as f:\n"
"        json.dump(state, f)\n"
"    os.rename(os.path.join(d, 'state.json.tmp'), os.path.join(d, 'state.json'))\n"
"def accepted():\n"
"    try:\n"
"        with open(os.path.join(d, 'accepted-token')) as f:\n"
"            return f.read().strip()\n"
"    except OSError:\n"
"        return token\n"
"def rotate():\n"
"    if os.path.exists(os.path.join(d, 'rotate-on-401')):\n"
"        with open(tokfile + '.tmp', 'w') as f:\n"
"            f.write(accepted() + '\\n')\n"
"        os.rename(tokfile + '.tmp', tokfile)\n"
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
"        if v is not None and (not isinstance(v, str) or not QTY.match(v)):\n"
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
"        if self.headers.get('Authorization') != 'Bearer ' + accepted():\n"
"            rotate()\n"
"            return failure(401, 'Unauthorized', 'Unauthorized')\n"
"        if os.path.exists(os.path.join(d, 'forbid')):\n"
"            return failure(403, 'Forbidden', 'nodes \"%s\" is forbidden: User cannot patch resource \"nodes/status\"' % node)\n"
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
"        for name in ('capacity', 'allocatable'):\n"
"            for k, v in st[name].items():\n"
"                if v is None:\n"
"                    state[name].pop(k, None)\n"
"                else:\n"
"                    state[name][k] = v\n"
"        save_state()\n"
"        return 200, {'kind': 'Node', 'apiVersion': 'v1',\n"
"                     'metadata': {'name': node}, 'status': state}\n"
"    def any(self):\n"
"        n = int(self.headers.get('Content-Length') or 0)\n"
"        body = self.rfile.read(n)\n"
"        code, obj = self.check(body)\n"
"        rec = {'t': time.monotonic(), 'method': self.command, 'path': self.path, 'code': code,\n"
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

const char *fakeapi_path(struct fakeapi *s, const char *name)
{
	return fk_path(s->dir, name);
}

void fakeapi_put(struct fakeapi *s, const char *name, const char *text)
{
	fk_put(s->dir, name, text);
}

void fakeapi_start(struct fakeapi *s, const char *dir, const char *token,
		   const char *node)
{
	char a[4][320], tok[600];
	const char *args[7];

	s->pid = -1;
	snprintf(s->dir, sizeof(s->dir), "%s", dir);
	fk_need_tools("API server");
	tls_make_certs(dir);
	snprintf(tok, sizeof(tok), "%s\n", token);
	fakeapi_put(s, "sa/token", tok);
	snprintf(a[0], sizeof(a[0]), "%s", fakeapi_path(s, "srv.crt"));
	snprintf(a[1], sizeof(a[1]), "%s", fakeapi_path(s, "srv.key"));
	snprintf(a[2], sizeof(a[2]), "%s", fakeapi_path(s, "requests.jsonl"));
	snprintf(a[3], sizeof(a[3]), "%s", fakeapi_path(s, "sa/token"));
	args[0] = a[0];
	args[1] = a[1];
	args[2] = token;
	args[3] = node;
	args[4] = a[2];
	args[5] = a[3];
	args[6] = NULL;
	s->pid = fk_serve(dir, "fake_apiserver.py", fake_apiserver_py, args, &s->port);
	snprintf(s->port_str, sizeof(s->port_str), "%u", s->port);
}

void fakeapi_stop(struct fakeapi *s)
{
	fk_kill(&s->pid);
}

int fakeapi_requests(struct fakeapi *s)
{
	return fk_lines(fakeapi_path(s, "requests.jsonl"));
}

cJSON *fakeapi_request(struct fakeapi *s, int n)
{
	static char line[16384];
	FILE *f = fopen(fakeapi_path(s, "requests.jsonl"), "r");
	cJSON *j = NULL;
	int i = 0;

	if (!f)
		return NULL;
	while (!j && fgets(line, sizeof(line), f))
		if (i++ == n)
			j = cJSON_Parse(line);
	fclose(f);
	return j;
}

const char *fakeapi_field(cJSON *req, const char *name)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(req, name);

	return cJSON_IsString(v) ? v->valuestring : "";
}

int fakeapi_code(cJSON *req)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(req, "code");

	return cJSON_IsNumber(v) ? v->valueint : -1;
}

double fakeapi_time(cJSON *req)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(req, "t");

	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

cJSON *fakeapi_node_status(struct fakeapi *s)
{
	static char buf[8192];
	FILE *f = fopen(fakeapi_path(s, "state.json"), "r");
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return cJSON_Parse(buf);
}

bool fakeapi_has(cJSON *status, const char *list, const char *name)
{
	return cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(status, list), name) != NULL;
}
