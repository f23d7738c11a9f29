// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * fakekubelet: the kubelet's authenticated GET /pods for places without a
 * cluster and without python or the openssl tool (make demo, the test VM):
 * the stand-in of tests/lib/fakekubelet.c as a program, with the same
 * files in DIR and the same pods (tests/lib/fakekubelet_pod.c).
 *
 *   fakekubelet serve DIR
 *	Makes, unless there: DIR/sa/ca.crt (a throwaway CA; its key ca.key),
 *	DIR/srv.crt + srv.key (a server certificate for IP 127.0.0.1 it
 *	signed), DIR/sa/token. Serves https://127.0.0.1:<port>/pods: the
 *	bytes of DIR/pods.json as they are at each request (an empty PodList
 *	while it is missing) with the bearer token, 401 without it, 404
 *	elsewhere; each request is one line in DIR/requests.log. Writes the
 *	port to DIR/port once it listens. Runs until SIGTERM or SIGINT.
 *   fakekubelet pod NAME UID LABEL PRIOCLASS PRIORITY LIMITS REQUESTS QOS
 *	Prints one pod as the kubelet lists it (fk_pod; "-": no label, no
 *	priority class); LIMITS and REQUESTS are a JSON object's inside.
 *   fakekubelet set DIR [POD...]
 *	Writes the PodList of these pods to DIR/pods.json, whole or not at all.
 *
 * One connection at a time, each closed after its answer, every read and
 * write bounded by a 5 s timeout: a client that stalls delays others, it
 * cannot hang the server.
 */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include "fakekubelet.h"

#define REQ_MAX		16384
#define BODY_MAX	(16 << 20)

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void path_of(char *buf, size_t len, const char *dir, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

/* text to dir/name through a temporary file: readers see all of it or the old one */
static int write_file(const char *dir, const char *name, const char *text, size_t len)
{
	char path[4096], tmp[4200];
	FILE *f;
	int err = 0;

	path_of(path, sizeof(path), dir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f) {
		err = -errno;
		fprintf(stderr, "fakekubelet: %s: %s\n", tmp, strerror(errno));
		return err;
	}
	if (fwrite(text, 1, len, f) != len)
		err = -EIO;
	if (fclose(f) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		fprintf(stderr, "fakekubelet: cannot write %s: %s\n", path, strerror(-err));
	return err;
}

/* ---------------------------------------------------------- certificates */

static int add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;
	int ok;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!e)
		return -1;
	ok = X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	return ok ? 0 : -1;
}

/* A certificate for key, named cn, signed by issuer (NULL: itself) */
static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key,
		       long serial)
{
	X509 *x = X509_new();
	bool ca = !issuer;
	int bad = !x;

	if (bad)
		return NULL;
	bad |= !X509_set_version(x, 2);
	bad |= !ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
	/* an hour back: a guest clock a little behind the host's still accepts it */
	bad |= !X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	bad |= !X509_gmtime_adj(X509_getm_notAfter(x), 7L * 86400);
	bad |= !X509_set_pubkey(x, key);
	bad |= !X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
					   (const unsigned char *)cn, -1, -1, 0);
	bad |= !X509_set_issuer_name(x, X509_get_subject_name(ca ? x : issuer));
	bad |= add_ext(x, ca ? x : issuer, NID_subject_key_identifier, "hash");
	if (ca) {
		bad |= add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE");
		bad |= add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign");
	} else {
		bad |= add_ext(x, issuer, NID_authority_key_identifier, "keyid");
		bad |= add_ext(x, issuer, NID_basic_constraints, "CA:FALSE");
		bad |= add_ext(x, issuer, NID_subject_alt_name, "IP:127.0.0.1");
	}
	bad |= !X509_sign(x, ca ? key : issuer_key, EVP_sha256());
	if (bad) {
		X509_free(x);
		return NULL;
	}
	return x;
}

static int save_pem(const char *dir, const char *name, X509 *x, EVP_PKEY *k)
{
	char path[4096];
	FILE *f;
	int ok;

	path_of(path, sizeof(path), dir, name);
	f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "fakekubelet: %s: %s\n", path, strerror(errno));
		return -errno;
	}
	if (k)
		fchmod(fileno(f), 0600);
	ok = x ? PEM_write_X509(f, x) : PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	if (fclose(f) || !ok) {
		fprintf(stderr, "fakekubelet: cannot write %s\n", path);
		return -EIO;
	}
	return 0;
}

/* The CA (sa/ca.crt, ca.key) and the server's certificate (srv.crt, srv.key) */
static int make_certs(const char *dir)
{
	EVP_PKEY *ca_key = EVP_EC_gen("P-256"), *srv_key = EVP_EC_gen("P-256");
	X509 *ca = NULL, *srv = NULL;
	char sa[4096];
	int err = -EINVAL;

	path_of(sa, sizeof(sa), dir, "sa");
	if (mkdir(sa, 0755) && errno != EEXIST) {
		fprintf(stderr, "fakekubelet: mkdir %s: %s\n", sa, strerror(errno));
		err = -errno;
		goto out;
	}
	if (ca_key && srv_key)
		ca = make_cert(ca_key, "colod-fakekubelet-ca", NULL, NULL, 1);
	if (ca)
		srv = make_cert(srv_key, "kubernetes", ca, ca_key, 2);
	if (!srv) {
		fprintf(stderr, "fakekubelet: cannot make the certificates\n");
		ERR_print_errors_fp(stderr);
		goto out;
	}
	err = save_pem(dir, "ca.key", NULL, ca_key);
	err = err ?: save_pem(dir, "srv.key", NULL, srv_key);
	err = err ?: save_pem(dir, "srv.crt", srv, NULL);
	/* last: its presence says the set is whole */
	err = err ?: save_pem(dir, "sa/ca.crt", ca, NULL);
out:
	X509_free(srv);
	X509_free(ca);
	EVP_PKEY_free(srv_key);
	EVP_PKEY_free(ca_key);
	return err;
}

/* ---------------------------------------------------------- serving */

struct server {
	const char *dir;
	char token[512];
	SSL_CTX *ctx;
	int fd;
};

static char *read_pods(const char *dir, size_t *len)
{
	char path[4096];
	char *buf;
	FILE *f;

	path_of(path, sizeof(path), dir, "pods.json");
	buf = malloc(BODY_MAX);
	if (!buf)
		return NULL;
	f = fopen(path, "r");
	if (!f) {
		*len = (size_t)fk_podlist(buf, BODY_MAX, "");
		return buf;
	}
	*len = fread(buf, 1, BODY_MAX, f);
	fclose(f);
	return buf;
}

static void log_request(struct server *s, const char *method, const char *path, int code)
{
	char p[4096];
	FILE *f;

	path_of(p, sizeof(p), s->dir, "requests.log");
	f = fopen(p, "a");
	if (!f)
		return;
	fprintf(f, "%s %s %d\n", method, path, code);
	fclose(f);
}

static void reply(SSL *ssl, int code, const char *body, size_t len)
{
	const char *why = code == 200 ? "OK" : code == 401 ? "Unauthorized" :
			  code == 404 ? "Not Found" : "Bad Request";
	char head[256];
	int n;

	n = snprintf(head, sizeof(head),
		     "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
		     "Content-Length: %zu\r\nConnection: close\r\n\r\n", code, why, len);
	if (SSL_write(ssl, head, n) == n && len)
		SSL_write(ssl, body, (int)len);
}

/* The request's head (up to the blank line) into req; its length or -1. */
static int read_head(SSL *ssl, char *req, int cap)
{
	int n = 0, r;

	while (n < cap - 1) {
		r = SSL_read(ssl, req + n, cap - 1 - n);
		if (r <= 0)
			return -1;
		n += r;
		req[n] = '\0';
		if (strstr(req, "\r\n\r\n"))
			return n;
	}
	return -1;
}

static bool has_token(struct server *s, char *req)
{
	char *line, *save = NULL, *v;

	for (line = strtok_r(req, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
		if (strncasecmp(line, "Authorization:", 14))
			continue;
		for (v = line + 14; *v == ' '; v++)
			;
		return !strncmp(v, "Bearer ", 7) && !strcmp(v + 7, s->token);
	}
	return false;
}

static void serve_one(struct server *s, SSL *ssl)
{
	char req[REQ_MAX], method[16] = "?", path[1024] = "?";
	char *body = NULL;
	size_t len = 0;
	int code;

	if (read_head(ssl, req, sizeof(req)) < 0)
		return;
	if (sscanf(req, "%15s %1023s", method, path) != 2)
		code = 400;
	else if (!has_token(s, req))
		code = 401;
	else if (strcmp(method, "GET") || strcmp(path, "/pods"))
		code = 404;
	else
		code = (body = read_pods(s->dir, &len)) ? 200 : 400;
	log_request(s, method, path, code);
	if (code == 200)
		reply(ssl, code, body, len);
	else if (code == 401)
		reply(ssl, code, "Unauthorized", 12);
	else
		reply(ssl, code, "404 page not found", 18);
	free(body);
}

static int listen_loopback(struct server *s)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	char port[16];

	s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(s->fd, 16) || getsockname(s->fd, (struct sockaddr *)&a, &alen)) {
		fprintf(stderr, "fakekubelet: listen on 127.0.0.1: %s\n", strerror(errno));
		return -errno;
	}
	snprintf(port, sizeof(port), "%u", ntohs(a.sin_port));
	return write_file(s->dir, "port", port, strlen(port));
}

static int read_token(struct server *s)
{
	char path[4096];
	FILE *f;

	path_of(path, sizeof(path), s->dir, "sa/token");
	if (access(path, F_OK) && write_file(s->dir, "sa/token", FK_TOKEN "\n",
					     strlen(FK_TOKEN) + 1))
		return -EIO;
	f = fopen(path, "r");
	if (!f || !fgets(s->token, sizeof(s->token), f)) {
		fprintf(stderr, "fakekubelet: cannot read %s\n", path);
		if (f)
			fclose(f);
		return -EIO;
	}
	fclose(f);
	s->token[strcspn(s->token, "\r\n")] = '\0';
	return 0;
}

static int setup(struct server *s)
{
	char crt[4096], key[4096], ca[4096];

	path_of(ca, sizeof(ca), s->dir, "sa/ca.crt");
	path_of(crt, sizeof(crt), s->dir, "srv.crt");
	path_of(key, sizeof(key), s->dir, "srv.key");
	if (access(ca, F_OK) && make_certs(s->dir))
		return -EIO;
	if (read_token(s))
		return -EIO;
	s->ctx = SSL_CTX_new(TLS_server_method());
	if (!s->ctx || SSL_CTX_use_certificate_file(s->ctx, crt, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_use_PrivateKey_file(s->ctx, key, SSL_FILETYPE_PEM) != 1) {
		fprintf(stderr, "fakekubelet: cannot load %s and %s\n", crt, key);
		ERR_print_errors_fp(stderr);
		return -EIO;
	}
	return listen_loopback(s);
}

static int serve(const char *dir)
{
	struct server s = { .dir = dir, .fd = -1 };
	struct timeval tv = { .tv_sec = 5 };
	struct sigaction sa = { .sa_handler = on_signal };	/* no SA_RESTART: accept returns */
	int c, err;
	SSL *ssl;

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	err = setup(&s);
	while (!err && !stop) {
		c = accept4(s.fd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			continue;
		setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		ssl = SSL_new(s.ctx);
		if (ssl && SSL_set_fd(ssl, c) == 1 && SSL_accept(ssl) == 1) {
			serve_one(&s, ssl);
			SSL_shutdown(ssl);
		}
		SSL_free(ssl);
		close(c);
	}
	if (s.fd >= 0)
		close(s.fd);
	SSL_CTX_free(s.ctx);
	return err ? 1 : 0;
}

/* ---------------------------------------------------------- main */

static const char *opt(const char *s)
{
	return strcmp(s, "-") ? s : NULL;
}

static int set_pods(const char *dir, int n, char **pods)
{
	size_t cap = 64, len = 0;
	char *items, *doc;
	int i, out, err;

	for (i = 0; i < n; i++)
		cap += strlen(pods[i]) + 1;
	items = calloc(1, cap);
	doc = malloc(cap + 256);
	if (!items || !doc) {
		free(items);
		free(doc);
		return 1;
	}
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(items + len, cap - len, "%s%s", i ? "," : "", pods[i]);
	out = fk_podlist(doc, cap + 256, items);
	err = out < 0 ? -ENOSPC : write_file(dir, "pods.json", doc, (size_t)out);
	free(items);
	free(doc);
	return err ? 1 : 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: fakekubelet serve DIR\n"
		"       fakekubelet pod NAME UID LABEL|- PRIOCLASS|- PRIORITY LIMITS REQUESTS QOS\n"
		"       fakekubelet set DIR [POD...]\n");
}

int main(int argc, char **argv)
{
	char buf[8192];

	if (argc == 3 && !strcmp(argv[1], "serve"))
		return serve(argv[2]);
	if (argc >= 3 && !strcmp(argv[1], "set"))
		return set_pods(argv[2], argc - 3, argv + 3);
	if (argc == 10 && !strcmp(argv[1], "pod")) {
		puts(fk_pod(buf, sizeof(buf), argv[2], argv[3], opt(argv[4]), opt(argv[5]),
			    atoi(argv[6]), argv[7], argv[8], argv[9]));
		return 0;
	}
	usage();
	return 2;
}
