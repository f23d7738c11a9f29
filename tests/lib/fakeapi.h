/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A local stand-in for the Kubernetes API server's node-status endpoint,
 * for tests without a cluster (NO REAL API SERVER RUNS HERE). A small
 * Python HTTPS server on 127.0.0.1 accepts exactly what the API documents
 * for the call colod makes and rejects the rest with the status the API
 * server would use:
 *   PATCH /api/v1/nodes/{name}/status            (else 405 / 404)
 *   Authorization: Bearer <token>                 (else 401)
 *   Content-Type: application/merge-patch+json    (else 415)
 *   body: {"status":{"capacity":{..},"allocatable":{..}}} where every key
 *   is one of the four extended resources and every value a string that
 *   is a valid resource.Quantity, or null (remove it, RFC 7386)
 *                                                 (else 400 / 422)
 * It records every request in requests.jsonl (time on CLOCK_MONOTONIC,
 * method, path, status, headers, body), and keeps the node's status
 * (starting with the kubelet's cpu/memory/pods) as the merge patches leave
 * it in state.json. Files in its directory change its answers while it
 * runs:
 *   accepted-token  the token it accepts (default: the one it started with)
 *   forbid          the token is right but RBAC refuses: 403
 *   rotate-on-401   it plays the kubelet rotating the token: on a wrong
 *                   token it writes the accepted one to sa/token, then 401
 * Certificates come from tls_make_certs(); the client verifies the server
 * against sa/ca.crt, as in a pod with the service account mounted. Needs
 * openssl and python3: fakeapi_start skips the test (a reported skip)
 * without them.
 */
#ifndef COLOD_TESTS_FAKEAPI_H
#define COLOD_TESTS_FAKEAPI_H

#include <stdbool.h>
#include <sys/types.h>
#include <cjson/cJSON.h>

struct fakeapi {
	char dir[128];
	pid_t pid;		/* -1: not running */
	unsigned int port;
	char port_str[8];
};

/*
 * In dir (existing): the certificates, sa/token holding token, and the
 * server for node; it accepts token until told otherwise.
 */
void fakeapi_start(struct fakeapi *s, const char *dir, const char *token,
		   const char *node);
/* Stop the server; idempotent. */
void fakeapi_stop(struct fakeapi *s);
/* <dir>/<name> (two calls' results stay valid). */
const char *fakeapi_path(struct fakeapi *s, const char *name);
/* Write <dir>/<name> whole (renamed into place: the server may read it at any time). */
void fakeapi_put(struct fakeapi *s, const char *name, const char *text);
/* Requests recorded so far. */
int fakeapi_requests(struct fakeapi *s);
/* The n-th (0-based) recorded request, parsed; NULL if there is none. */
cJSON *fakeapi_request(struct fakeapi *s, int n);
/* A string field of a request ("" if absent), its status and its time in s. */
const char *fakeapi_field(cJSON *req, const char *name);
int fakeapi_code(cJSON *req);
double fakeapi_time(cJSON *req);
/* The node's status as the patches left it; NULL before the first accepted one. */
cJSON *fakeapi_node_status(struct fakeapi *s);
/* Whether the status's list ("capacity", "allocatable") holds resource name. */
bool fakeapi_has(cJSON *status, const char *list, const char *name);

#endif /* COLOD_TESTS_FAKEAPI_H */
