// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Node extended resources through the Kubernetes API with libcurl. See
 * k8s.h for the request; the decisions (gate, body) are pure functions.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include "headroom.h"
#include "fileio.h"
#include "k8s.h"
#include "log.h"

#define K8S_TIMEOUT_S		10L
#define K8S_RETRY_AFTER_NS	(10ULL * 1000000000ULL)	/* after a failed patch */
#define K8S_TOKEN_MAX		(64 * 1024)

struct k8s_client {
	char *api_url;
	char *node;
	char *token_path;
	char *ca_path;
};

/* ---- pure ---- */

bool k8s_should_publish(const struct k8s_node_resources *last, bool have_last,
			uint64_t last_ns, const struct k8s_node_resources *now,
			uint64_t now_ns, const struct k8s_gate *gate)
{
	double t = gate->diff_threshold;

	if (!have_last)
		return true;
	if (now_ns < last_ns ||
	    now_ns - last_ns > (uint64_t)gate->update_time_s * 1000000000ULL)
		return true;
	/* the rule the headroom gate applies, so the two agree at the edge */
	return headroom_is_diff(last->batch_cpu_milli, now->batch_cpu_milli, t) ||
	       headroom_is_diff(last->batch_memory_bytes, now->batch_memory_bytes, t) ||
	       headroom_is_diff(last->mid_cpu_milli, now->mid_cpu_milli, t) ||
	       headroom_is_diff(last->mid_memory_bytes, now->mid_memory_bytes, t);
}

static cJSON *resource_list(const struct k8s_node_resources *r)
{
	static const struct {
		const char *name;
		size_t off;
	} fields[] = {
		{ K8S_RES_BATCH_CPU, offsetof(struct k8s_node_resources, batch_cpu_milli) },
		{ K8S_RES_BATCH_MEMORY, offsetof(struct k8s_node_resources, batch_memory_bytes) },
		{ K8S_RES_MID_CPU, offsetof(struct k8s_node_resources, mid_cpu_milli) },
		{ K8S_RES_MID_MEMORY, offsetof(struct k8s_node_resources, mid_memory_bytes) },
	};
	cJSON *obj = cJSON_CreateObject();
	char val[24];
	size_t i;

	if (!obj)
		return NULL;
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		uint64_t v = *(const uint64_t *)((const char *)r + fields[i].off);

		/* batch-cpu is counted in millicores as a plain integer, as
		 * Koordinator publishes it (not "1500m") */
		snprintf(val, sizeof(val), "%" PRIu64, v);
		if (!cJSON_AddStringToObject(obj, fields[i].name, val)) {
			cJSON_Delete(obj);
			return NULL;
		}
	}
	return obj;
}

char *k8s_node_status_patch(const struct k8s_node_resources *r)
{
	cJSON *root = cJSON_CreateObject(), *status, *cap, *alloc;
	char *out = NULL;

	if (!root)
		return NULL;
	status = cJSON_AddObjectToObject(root, "status");
	cap = resource_list(r);
	alloc = resource_list(r);
	if (!status || !cap || !alloc) {
		cJSON_Delete(cap);
		cJSON_Delete(alloc);
		goto out;
	}
	cJSON_AddItemToObject(status, "capacity", cap);
	cJSON_AddItemToObject(status, "allocatable", alloc);
	out = cJSON_PrintUnformatted(root);
out:
	cJSON_Delete(root);
	return out;
}

bool k8s_valid_node_name(const char *name)
{
	size_t len = name ? strlen(name) : 0, i;

	if (len == 0 || len > 253)
		return false;
	for (i = 0; i < len; i++) {
		char c = name[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

		if (alnum)
			continue;
		if (c != '-' && c != '.')
			return false;
		/* labels start and end with an alphanumeric */
		if (i == 0 || i == len - 1 || name[i - 1] == '.' ||
		    (c == '.' && name[i - 1] == '-') ||
		    (name[i + 1] == '.' && c == '-'))
			return false;
	}
	return true;
}

/* ---- client ---- */

void k8s_client_free(struct k8s_client *c)
{
	if (!c)
		return;
	free(c->api_url);
	free(c->node);
	free(c->token_path);
	free(c->ca_path);
	free(c);
}

const char *k8s_client_node(const struct k8s_client *c)
{
	return c->node;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

int k8s_client_new(const char *api_url, const char *node_name,
		   const char *token_path, const char *ca_path,
		   struct k8s_client **out)
{
	struct k8s_client *c;

	/* no node: a client that reads (the pod source), never patches */
	if (node_name && !k8s_valid_node_name(node_name)) {
		pr_err("k8s: NODE_NAME: invalid node name \"%s\"",
		       node_name ? node_name : "");
		return -EINVAL;
	}
	if (strncmp(api_url, "https://", 8)) {
		pr_err("k8s: API server URL \"%s\" is not https", api_url);
		return -EINVAL;
	}
	/* before any thread uses libcurl */
	pthread_once(&curl_once, curl_init_once);
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->api_url = strdup(api_url);
	c->node = node_name ? strdup(node_name) : NULL;
	c->token_path = strdup(token_path);
	c->ca_path = strdup(ca_path);
	if (!c->api_url || (node_name && !c->node) || !c->token_path || !c->ca_path) {
		k8s_client_free(c);
		return -ENOMEM;
	}
	*out = c;
	return 0;
}

int k8s_client_from_env(const char *sa_dir, struct k8s_client **out)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	const char *node = getenv("NODE_NAME");
	char url[512], token[PATH_MAX], ca[PATH_MAX];

	*out = NULL;
	if (!host || !*host || !port || !*port) {
		pr_info("k8s: KUBERNETES_SERVICE_HOST/PORT not set: not in a cluster, "
			"node resources are not published");
		return -ENODEV;
	}
	if (!node || !*node) {
		pr_warn("k8s: in a cluster but NODE_NAME is not set (downward API "
			"spec.nodeName): node resources are not published");
		return -ENODEV;
	}
	if (!sa_dir)
		sa_dir = K8S_SA_DIR_DEFAULT;
	snprintf(token, sizeof(token), "%s/token", sa_dir);
	snprintf(ca, sizeof(ca), "%s/ca.crt", sa_dir);
	if (access(token, R_OK) || access(ca, R_OK)) {
		int err = errno;

		pr_err("k8s: service account files %s, %s: %s", token, ca,
		       strerror(err));
		return -err;
	}
	/* an IPv6 service address needs brackets in a URL */
	snprintf(url, sizeof(url), strchr(host, ':') ? "https://[%s]:%s" :
		 "https://%s:%s", host, port);
	return k8s_client_new(url, node, token, ca, out);
}

static int read_token(const char *path, char **out)
{
	char *buf = malloc(K8S_TOKEN_MAX);
	ssize_t r;
	size_t n;

	if (!buf)
		return -ENOMEM;
	r = file_read_buf(path, buf, K8S_TOKEN_MAX);
	if (r < 0) {
		pr_err("k8s: token %s: %s", path, strerror((int)-r));
		free(buf);
		return (int)r;
	}
	n = (size_t)r;
	while (n && isspace((unsigned char)buf[n - 1]))
		n--;
	buf[n] = '\0';
	if (n == 0 || strpbrk(buf, "\r\n")) {
		pr_err("k8s: token %s: empty or not one line", path);
		free(buf);
		return -EINVAL;
	}
	*out = buf;
	return 0;
}

struct resp_buf {
	char data[512];
	size_t len;
};

static size_t on_resp(char *p, size_t sz, size_t n, void *ud)
{
	struct resp_buf *r = ud;
	size_t take = sz * n;

	/* keep the start of the body for the log; the rest is discarded */
	if (take > sizeof(r->data) - 1 - r->len)
		take = sizeof(r->data) - 1 - r->len;
	memcpy(r->data + r->len, p, take);
	r->len += take;
	r->data[r->len] = '\0';
	return sz * n;
}

static int status_errno(long status)
{
	if (status >= 200 && status < 300)
		return 0;
	if (status == 401 || status == 403)
		return -EACCES;
	if (status == 404)
		return -ENOENT;
	if (status == 409 || status == 429 || status >= 500)
		return -EAGAIN;
	return -EPROTO;
}

/* Bearer token, JSON wanted, and the body's type if any; NULL on failure. */
static struct curl_slist *request_headers(const char *token, const char *content_type)
{
	struct curl_slist *hdrs = NULL, *h;
	char *auth = NULL, ct[128];

	if (asprintf(&auth, "Authorization: Bearer %s", token) < 0)
		return NULL;
	h = curl_slist_append(hdrs, auth);	/* copies it */
	memset(auth, 0, strlen(auth));		/* don't leave secrets in the heap */
	free(auth);
	if (h)
		hdrs = h;
	if (h && content_type) {
		snprintf(ct, sizeof(ct), "Content-Type: %s", content_type);
		h = curl_slist_append(hdrs, ct);
	}
	h = h ? curl_slist_append(hdrs, "Accept: application/json") : NULL;
	if (!h) {
		curl_slist_free_all(hdrs);
		return NULL;
	}
	return hdrs;
}

/* What every request does: TLS verified against the CA file, bounded in time. */
static void curl_common(CURL *curl, const struct k8s_client *c, const char *url,
			struct curl_slist *hdrs)
{
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(curl, CURLOPT_CAINFO, c->ca_path);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, K8S_TIMEOUT_S);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "colod");
}

/* One request over HTTPS; *status is the HTTP status, or 0 on transport failure. */
struct request {
	const char *method;		/* "GET", "PATCH" */
	const char *url;
	const char *body;		/* NULL: none */
	const char *content_type;	/* of the body */
	curl_write_callback on_data;	/* the response body */
	void *data;
};

static CURLcode perform(struct k8s_client *c, const char *token,
			const struct request *rq, long *status)
{
	struct curl_slist *hdrs;
	CURLcode rc = CURLE_OUT_OF_MEMORY;
	CURL *curl;

	*status = 0;
	curl = curl_easy_init();
	if (!curl)
		return rc;
	hdrs = request_headers(token, rq->content_type);
	if (!hdrs)
		goto out;
	curl_common(curl, c, rq->url, hdrs);
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, rq->method);
	if (rq->body)
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, rq->body);
	else
		curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");	/* gzip when offered */
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, rq->on_data);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, rq->data);
	rc = curl_easy_perform(curl);
	if (rc == CURLE_OK)
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status);
out:
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(curl);
	return rc;
}

static int perform_patch(struct k8s_client *c, const char *token,
			 const char *body)
{
	struct resp_buf resp = { .len = 0 };
	char url[1024];
	struct request rq = { "PATCH", url, body, K8S_PATCH_CONTENT_TYPE, on_resp, &resp };
	long status;
	CURLcode rc;
	int err;

	snprintf(url, sizeof(url), "%s/api/v1/nodes/%s/status", c->api_url, c->node);
	rc = perform(c, token, &rq, &status);
	if (rc != CURLE_OK) {
		pr_err("k8s: PATCH %s: %s", url, curl_easy_strerror(rc));
		return rc == CURLE_OUT_OF_MEMORY ? -ENOMEM : -EIO;
	}
	err = status_errno(status);
	if (err)
		pr_err("k8s: PATCH %s: HTTP %ld: %s", url, status, resp.data);
	else
		pr_debug("k8s: PATCH %s: HTTP %ld", url, status);
	return err;
}

int k8s_patch_node_status(struct k8s_client *c, const struct k8s_node_resources *r)
{
	char *token = NULL, *body;
	int err;

	if (!c->node)
		return -EINVAL;

	body = k8s_node_status_patch(r);
	if (!body)
		return -ENOMEM;
	err = read_token(c->token_path, &token);
	if (!err)
		err = perform_patch(c, token, body);
	if (token) {
		memset(token, 0, strlen(token));	/* don't leave secrets in the heap */
		free(token);
	}
	free(body);
	return err;
}

/* A whole response body, up to a bound: a kubelet's PodList of 110 pods is ~1 MB. */
struct body_buf {
	char *data;
	size_t len, cap, max;
	bool too_big;
};

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
	struct body_buf *b = ud;
	size_t take = sz * n;
	char *d;

	if (b->len + take + 1 > b->max) {
		b->too_big = true;
		return 0;	/* aborts the transfer */
	}
	if (b->len + take + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64 * 1024;

		while (cap < b->len + take + 1)
			cap *= 2;
		d = realloc(b->data, cap);
		if (!d)
			return 0;
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, take);
	b->len += take;
	b->data[b->len] = '\0';
	return take;
}

static int perform_get(struct k8s_client *c, const char *token, const char *path,
		       struct body_buf *b)
{
	char url[1024];
	struct request rq = { "GET", url, NULL, NULL, on_body, b };
	long status;
	CURLcode rc;
	int err;

	snprintf(url, sizeof(url), "%s%s", c->api_url, path);
	rc = perform(c, token, &rq, &status);
	if (rc != CURLE_OK) {
		pr_warn("k8s: GET %s: %s", url, b->too_big ? "response too large" :
			curl_easy_strerror(rc));
		return b->too_big ? -EFBIG : rc == CURLE_OUT_OF_MEMORY ? -ENOMEM : -EIO;
	}
	err = status_errno(status);
	if (err)
		pr_warn("k8s: GET %s: HTTP %ld: %.200s", url, status,
			b->data ? b->data : "");
	return err;
}

int k8s_get(struct k8s_client *c, const char *path, size_t max, char **body,
	    size_t *len)
{
	struct body_buf b = { .max = max };
	char *token = NULL;
	int err;

	*body = NULL;
	*len = 0;
	err = read_token(c->token_path, &token);
	if (!err)
		err = perform_get(c, token, path, &b);
	if (token) {
		memset(token, 0, strlen(token));
		free(token);
	}
	if (err || !b.data) {
		free(b.data);
		return err ?: -ENODATA;
	}
	*body = b.data;
	*len = b.len;
	return 0;
}

/* ---- worker threads ---- */

int k8s_worker_start(struct k8s_worker *w, void *(*fn)(void *), void *arg)
{
	pthread_condattr_t ca;
	int err;

	w->stop = false;
	pthread_mutex_init(&w->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cv, &ca);
	pthread_condattr_destroy(&ca);
	err = pthread_create(&w->thread, NULL, fn, arg);
	if (err) {
		pthread_cond_destroy(&w->cv);
		pthread_mutex_destroy(&w->mu);
		return -err;
	}
	return 0;
}

void k8s_worker_stop(struct k8s_worker *w)
{
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
}

/* ---- publisher thread ---- */

struct k8s_publisher {
	struct k8s_client *client;
	struct k8s_worker w;
	struct k8s_gate gate;
	bool pending;			/* values waiting for the thread */
	bool busy;			/* a request is in flight */
	struct k8s_node_resources want;
	uint64_t want_ns;
	bool have_last;			/* last accepted by the API server */
	struct k8s_node_resources last;
	uint64_t last_ns;
	uint64_t last_err_ns;
	bool failed;
	uint64_t updates;
	uint64_t errors;
};

static void *publisher_main(void *arg)
{
	struct k8s_publisher *p = arg;
	struct k8s_node_resources r;
	uint64_t at;
	int err;

	pthread_mutex_lock(&p->w.mu);
	for (;;) {
		while (!p->w.stop && !p->pending)
			pthread_cond_wait(&p->w.cv, &p->w.mu);
		if (p->w.stop)
			break;
		r = p->want;
		at = p->want_ns;
		p->pending = false;
		p->busy = true;
		pthread_mutex_unlock(&p->w.mu);
		err = k8s_patch_node_status(p->client, &r);
		pthread_mutex_lock(&p->w.mu);
		p->busy = false;
		if (err) {
			p->errors++;
			p->failed = true;
			p->last_err_ns = at;
		} else {
			p->updates++;
			p->failed = false;
			p->have_last = true;
			p->last = r;
			p->last_ns = at;
		}
		pthread_cond_broadcast(&p->w.cv);
	}
	pthread_mutex_unlock(&p->w.mu);
	return NULL;
}

int k8s_publisher_start(struct k8s_client *c, const struct k8s_gate *gate,
			struct k8s_publisher **out)
{
	struct k8s_publisher *p = calloc(1, sizeof(*p));
	int err;

	if (!p)
		return -ENOMEM;
	p->client = c;
	p->gate = *gate;
	err = k8s_worker_start(&p->w, publisher_main, p);
	if (err) {
		free(p);
		return err;
	}
	*out = p;
	return 0;
}

bool k8s_publisher_submit(struct k8s_publisher *p,
			  const struct k8s_node_resources *r, uint64_t now_ns)
{
	bool go;

	pthread_mutex_lock(&p->w.mu);
	/* after a failure, wait before hammering an API server in trouble */
	if (p->failed && now_ns >= p->last_err_ns &&
	    now_ns - p->last_err_ns < K8S_RETRY_AFTER_NS)
		go = false;
	else if (p->busy || p->pending)
		go = p->pending;	/* replace the queued values, if any */
	else
		go = k8s_should_publish(&p->last, p->have_last, p->last_ns, r,
					now_ns, &p->gate);
	if (go) {
		p->want = *r;
		p->want_ns = now_ns;
		p->pending = true;
		pthread_cond_broadcast(&p->w.cv);
	}
	pthread_mutex_unlock(&p->w.mu);
	return go;
}

void k8s_publisher_set_gate(struct k8s_publisher *p, const struct k8s_gate *gate)
{
	pthread_mutex_lock(&p->w.mu);
	p->gate = *gate;
	pthread_mutex_unlock(&p->w.mu);
}

void k8s_publisher_counts(struct k8s_publisher *p, uint64_t *updates,
			  uint64_t *errors)
{
	pthread_mutex_lock(&p->w.mu);
	*updates = p->updates;
	*errors = p->errors;
	pthread_mutex_unlock(&p->w.mu);
}

void k8s_publisher_stop(struct k8s_publisher *p)
{
	if (!p)
		return;
	k8s_worker_stop(&p->w);
	k8s_client_free(p->client);
	free(p);
}
