// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "fakekubelet.h"
#include "tfile.h"

extern char **environ;

/* GET /pods as the kubelet serves it (server.go InstallAuthFilters + getPods). */
static const char fake_kubelet_py[] =
"import os, ssl, sys, http.server\n"
"cert, key, token, podsfile, logfile, portfile = sys.argv[1:7]\n"
"class H(http.server.BaseHTTPRequestHandler):\n"
"    protocol_version = 'HTTP/1.1'\n"
"    def log_message(self, *a):\n"
"        pass\n"
"    def reply(self, code, body):\n"
"        with open(logfile, 'a') as f:\n"
"            f.write('%s %s %d\\n' % (self.command, self.path, code))\n"
"        self.send_response(code)\n"
"        self.send_header('Content-Type', 'application/json')\n"
"        self.send_header('Content-Length', str(len(body)))\n"
"        self.end_headers()\n"
"        self.wfile.write(body)\n"
"    def do_GET(self):\n"
"        if self.headers.get('Authorization') != 'Bearer ' + token:\n"
"            return self.reply(401, b'Unauthorized')\n"
"        if self.path != '/pods':\n"
"            return self.reply(404, b'404 page not found')\n"
"        with open(podsfile, 'rb') as f:\n"
"            self.reply(200, f.read())\n"
FK_PY_SERVE_TLS;

void fk_need_tools(const char *what)
{
	if (system("command -v openssl >/dev/null 2>&1 && command -v python3 >/dev/null 2>&1"))
		cr_skip_test("openssl and python3 are needed for the local %s stand-in", what);
}

const char *fk_path(const char *dir, const char *name)
{
	static char buf[2][320];
	static int n;

	n ^= 1;
	snprintf(buf[n], sizeof(buf[n]), "%s/%s", dir, name);
	return buf[n];
}

void fk_put(const char *dir, const char *name, const char *text)
{
	char tmp[340];

	snprintf(tmp, sizeof(tmp), "%s.tmp", fk_path(dir, name));
	tfile_write(tmp, text);
	cr_assert_eq(rename(tmp, fk_path(dir, name)), 0, "rename %s", tmp);
}

void tls_make_certs(const char *dir)
{
	char cmd[2048];
	int rc;

	snprintf(cmd, sizeof(cmd), "mkdir -p %s/sa", dir);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	/* a throwaway CA, a server cert for 127.0.0.1 signed by it, and an
	 * unrelated CA for the verification-failure tests */
	snprintf(cmd, sizeof(cmd),
		 "cd %s && exec >openssl.log 2>&1 && "
		 "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
		 "-nodes -keyout ca.key -out sa/ca.crt -subj /CN=colod-test-ca -days 1 && "
		 "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
		 "-keyout srv.key -out srv.csr -subj /CN=kubernetes && "
		 "printf 'subjectAltName=IP:127.0.0.1\\n' > ext && "
		 "openssl x509 -req -in srv.csr -CA sa/ca.crt -CAkey ca.key "
		 "-CAcreateserial -out srv.crt -days 1 -extfile ext && "
		 "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
		 "-nodes -keyout other.key -out other.crt -subj /CN=other-ca -days 1",
		 dir);
	rc = system(cmd);
	cr_assert_eq(rc, 0, "command failed (%d): %s", rc, cmd);
}

const char *fakekubelet_path(struct fakekubelet *k, const char *name)
{
	return fk_path(k->dir, name);
}

void fakekubelet_set_items(struct fakekubelet *k, const char *items)
{
	size_t len = strlen(items) + 256;
	char *doc = malloc(len);

	cr_assert_not_null(doc);
	cr_assert_geq(fk_podlist(doc, len, items), 0);
	fk_put(k->dir, "pods.json", doc);
	free(doc);
}

pid_t fk_serve(const char *dir, const char *name, const char *script,
	       const char *const *args, unsigned int *port)
{
	const char *py = access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
	char script_path[320], portfile[320];
	const char *argv[16];
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	int i, n = 0, err;
	pid_t pid;
	FILE *f;

	snprintf(script_path, sizeof(script_path), "%s/%s", dir, name);
	snprintf(portfile, sizeof(portfile), "%s/port", dir);
	tfile_write(script_path, script);
	argv[n++] = py;
	argv[n++] = script_path;
	for (i = 0; args[i] && n < 14; i++)
		argv[n++] = args[i];
	argv[n++] = portfile;
	argv[n] = NULL;
	err = posix_spawnp(&pid, py, NULL, NULL, (char *const *)argv, environ);
	cr_assert_eq(err, 0, "spawn %s: %s", py, strerror(err));
	/* generous: python start-up on a loaded 2-core machine */
	for (i = 0; i < 1500; i++) {
		f = fopen(portfile, "r");
		if (f) {
			cr_assert_eq(fscanf(f, "%u", port), 1);
			fclose(f);
			return pid;
		}
		cr_assert_eq(waitpid(pid, NULL, WNOHANG), 0, "%s exited early", name);
		nanosleep(&ts, NULL);
	}
	cr_assert_fail("%s did not start in 30 s", name);
	return -1;
}

static void spawn_server(struct fakekubelet *k)
{
	char a[4][320];
	const char *args[6];

	snprintf(a[0], sizeof(a[0]), "%s", fakekubelet_path(k, "srv.crt"));
	snprintf(a[1], sizeof(a[1]), "%s", fakekubelet_path(k, "srv.key"));
	snprintf(a[2], sizeof(a[2]), "%s", fakekubelet_path(k, "pods.json"));
	snprintf(a[3], sizeof(a[3]), "%s", fakekubelet_path(k, "requests.log"));
	args[0] = a[0];
	args[1] = a[1];
	args[2] = FK_TOKEN;
	args[3] = a[2];
	args[4] = a[3];
	args[5] = NULL;
	k->pid = fk_serve(k->dir, "fake_kubelet.py", fake_kubelet_py, args, &k->port);
	snprintf(k->url, sizeof(k->url), "https://127.0.0.1:%u/pods", k->port);
}

void fakekubelet_start(struct fakekubelet *k, const char *dir)
{
	k->pid = -1;
	snprintf(k->dir, sizeof(k->dir), "%s", dir);
	fk_need_tools("kubelet");
	tls_make_certs(dir);
	tfile_write(fakekubelet_path(k, "sa/token"), FK_TOKEN "\n");
	fakekubelet_set_items(k, "");
	spawn_server(k);
}

void fk_kill(pid_t *pid)
{
	if (*pid > 0) {
		kill(*pid, SIGTERM);
		waitpid(*pid, NULL, 0);
	}
	*pid = -1;
}

int fk_lines(const char *path)
{
	FILE *f = fopen(path, "r");
	int n = 0, c;

	if (!f)
		return 0;
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

void fakekubelet_stop(struct fakekubelet *k)
{
	fk_kill(&k->pid);
}

int fakekubelet_requests(struct fakekubelet *k)
{
	return fk_lines(fakekubelet_path(k, "requests.log"));
}

