/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A local stand-in for the kubelet's authenticated read endpoint, for tests
 * without a cluster: GET /pods over TLS on 127.0.0.1, answering the PodList
 * the test last set (a v1 PodList as the kubelet encodes it), 401 without
 * the right bearer token, 404 elsewhere. Every request is counted. The
 * certificates come from a throwaway CA (tls_make_certs), as the k8s test
 * makes them. Needs openssl and python3; fakekubelet_start skips the test
 * (reported as a skip) when either is missing.
 */
#ifndef COLOD_TESTS_FAKEKUBELET_H
#define COLOD_TESTS_FAKEKUBELET_H

#include <stddef.h>
#include <sys/types.h>

/*
 * The end of a Python test server: handler class H served over TLS (cert,
 * key) on a free loopback port, written to portfile once it listens.
 */
#define FK_PY_SERVE_TLS \
"srv = http.server.HTTPServer(('127.0.0.1', 0), H)\n" \
"ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n" \
"ctx.load_cert_chain(cert, key)\n" \
"srv.socket = ctx.wrap_socket(srv.socket, server_side=True)\n" \
"with open(portfile + '.tmp', 'w') as f:\n" \
"    f.write(str(srv.server_address[1]))\n" \
"os.rename(portfile + '.tmp', portfile)\n" \
"srv.serve_forever()\n"

/*
 * Run the Python server script (written to <dir>/<name>) as
 * python3 <dir>/<name> args... <dir>/port, and wait (30 s at most) until it
 * wrote the loopback port it listens on to that file: its pid. The
 * script's last argument is the port file (FK_PY_SERVE_TLS's portfile).
 */
pid_t fk_serve(const char *dir, const char *name, const char *script,
	       const char *const *args, unsigned int *port);

/* SIGTERM to *pid (if > 0) and reap it; *pid = -1. */
void fk_kill(pid_t *pid);
/* Lines of the file at path; 0 if it cannot be read. */
int fk_lines(const char *path);
/* <dir>/<name> (two calls' results stay valid). */
const char *fk_path(const char *dir, const char *name);
/* Write <dir>/<name> whole or not at all: a stand-in reads it at any moment. */
void fk_put(const char *dir, const char *name, const char *text);
/* Skips the test unless openssl and python3 are installed; what names the stand-in. */
void fk_need_tools(const char *what);

#define FK_TOKEN	"eyJhbGciOiJSUzI1NiJ9.kubelet-reader"

/*
 * In dir (existing): sa/ca.crt + ca.key (a CA), srv.crt + srv.key (a
 * server certificate for IP 127.0.0.1 signed by it), other.crt (an
 * unrelated CA). Fails the test on error.
 */
void tls_make_certs(const char *dir);

struct fakekubelet {
	char dir[128];
	char url[96];		/* https://127.0.0.1:<port>/pods */
	pid_t pid;		/* -1: not running */
	unsigned int port;
};

/* Certificates, sa/token, an empty PodList, and the server, in dir (existing). */
void fakekubelet_start(struct fakekubelet *k, const char *dir);
/* Serve a PodList with these items (a JSON array's inside: "{...},{...}"). */
void fakekubelet_set_items(struct fakekubelet *k, const char *items);
/* Stop the server (the source goes away); idempotent. */
void fakekubelet_stop(struct fakekubelet *k);
/* Requests served so far (any path, any answer). */
int fakekubelet_requests(struct fakekubelet *k);
/* <dir>/<name>: "sa/token", "sa/ca.crt", ... (two calls' results stay valid). */
const char *fakekubelet_path(struct fakekubelet *k, const char *name);

/*
 * One pod as the kubelet lists it (metadata, spec, status), shaped by the
 * v1 Pod schema, into buf: uid, the koordinator.sh/qosClass label (NULL:
 * none), priorityClassName (NULL: none) and priority, and one container's
 * "limits" and "requests" objects' inside (e.g. "\"cpu\": \"8\"").
 */
const char *fk_pod(char *buf, size_t len, const char *name, const char *uid,
		   const char *qos_label, const char *prio_class, int priority,
		   const char *limits, const char *requests, const char *qos_status);

/* A v1 PodList of these items into buf: its length, -1 if it does not fit. */
int fk_podlist(char *buf, size_t len, const char *items);

#endif /* COLOD_TESTS_FAKEKUBELET_H */
