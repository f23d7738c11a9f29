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
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include "headroom.h"
#include "fileio.h"
#include "k8s.h"
#include "log.h"

#define K8S_TIMEOUT_MS		10000L
#define K8S_TOKEN_MAX		(64 * 1024)

struct k8s_client {
	char *api_url;
	char *node;
	char *token_path;
	char *ca_path;
	atomic_bool abort;		/* stop: abandon the request in flight */
	atomic_uint_fast64_t token_reads;
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

/* r NULL: every name null, which a merge patch reads as "remove the key" */
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
		uint64_t v;
		cJSON *item;

		if (r) {
			v = *(const uint64_t *)((const char *)r + fields[i].off);
			/* batch-cpu is counted in millicores as a plain
			 * integer, as Koordinator publishes it (not "1500m") */
			snprintf(val, sizeof(val), "%" PRIu64, v);
			item = cJSON_AddStringToObject(obj, fields[i].name, val);
		} else {
			item = cJSON_AddNullToObject(obj, fields[i].name);
		}
		if (!item) {
			cJSON_Delete(obj);
			return NULL;
		}
	}
	return obj;
}

static char *status_patch(const struct k8s_node_resources *r)
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

char *k8s_node_status_patch(const struct k8s_node_resources *r)
{
	return status_patch(r);
}

char *k8s_node_status_withdrawal(void)
{
	return status_patch(NULL);
}

uint64_t k8s_backoff_ns(unsigned int fails, uint64_t rnd)
{
	uint64_t d = K8S_BACKOFF_BASE_NS;

	if (fails == 0)
		return 0;
	while (--fails && d < K8S_BACKOFF_MAX_NS)
		d *= 2;
	if (d > K8S_BACKOFF_MAX_NS)
		d = K8S_BACKOFF_MAX_NS;
	/* "equal jitter": at least half the step, so that the nodes of a
	 * cluster that failed together (an API server restart) spread out
	 * instead of coming back in step */
	return d / 2 + rnd % (d / 2 + 1);
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

/*
 * A response body, up to max bytes with its NUL: a kubelet's PodList of 110
 * pods is ~1 MB. Past max a GET fails (too_big); a PATCH keeps the start of
 * the body for the log (keep_start) and discards the rest.
 */
struct body_buf {
	char *data;
	size_t len, cap, max;
	bool keep_start;
	bool too_big;
};

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
	struct body_buf *b = ud;
	size_t take = sz * n;
	char *d;

	if (b->len + take + 1 > b->max) {
		if (!b->keep_start) {
			b->too_big = true;
			return 0;	/* aborts the transfer */
		}
		take = b->max > b->len + 1 ? b->max - b->len - 1 : 0;
		if (!take)
			return sz * n;
	}
	if (b->len + take + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : b->keep_start ? b->max : 64 * 1024;

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
	return sz * n;
}

/* Empty again, for the request's second try. */
static void body_reset(struct body_buf *b)
{
	b->len = 0;
	b->too_big = false;
	if (b->data)
		b->data[0] = '\0';
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

/* libcurl calls this about once a second and on every chunk */
static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut,
		       curl_off_t un)
{
	struct k8s_client *c = ud;

	return atomic_load(&c->abort) ? 1 : 0;
}

/*
 * What every request does: TLS verified against the CA file, bounded in
 * time, and abandoned when its worker stops (c->abort).
 */
static void curl_common(CURL *curl, struct k8s_client *c, const char *url,
			struct curl_slist *hdrs, long timeout_ms)
{
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(curl, CURLOPT_CAINFO, c->ca_path);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(curl, CURLOPT_XFERINFODATA, c);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "colod");
}

/* One request over HTTPS: a GET of a body, or a PATCH with one. */
struct request {
	const char *method;		/* "GET", "PATCH" */
	const char *url;
	const char *body;		/* NULL: none */
	const char *content_type;	/* of the body */
	struct body_buf *resp;		/* the response body */
};

/* rq with this token, within timeout_ms: 0 on 2xx, else -errno (logged). */
static int perform(struct k8s_client *c, const char *token,
		   const struct request *rq, long timeout_ms)
{
	struct body_buf *b = rq->resp;
	CURLcode rc = CURLE_OUT_OF_MEMORY;
	struct curl_slist *hdrs;
	long status = 0;
	CURL *curl;
	int err;

	curl = curl_easy_init();
	if (!curl)
		return -ENOMEM;
	hdrs = request_headers(token, rq->content_type);
	if (!hdrs)
		goto out;
	curl_common(curl, c, rq->url, hdrs, timeout_ms);
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, rq->method);
	if (rq->body)
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, rq->body);
	else
		curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");	/* gzip when offered */
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, b);
	rc = curl_easy_perform(curl);
	if (rc == CURLE_OK)
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
out:
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(curl);
	if (rc != CURLE_OK) {
		pr_warn("k8s: %s %s: %s", rq->method, rq->url,
			b->too_big ? "response too large" : curl_easy_strerror(rc));
		return b->too_big ? -EFBIG : rc == CURLE_OUT_OF_MEMORY ? -ENOMEM : -EIO;
	}
	err = status_errno(status);
	if (err)
		pr_warn("k8s: %s %s: HTTP %ld: %.200s", rq->method, rq->url, status,
			b->data ? b->data : "");
	else
		pr_debug("k8s: %s %s: HTTP %ld", rq->method, rq->url, status);
	return err;
}

/* One try of rq with the token as the file holds it now. */
static int request_once(struct k8s_client *c, const struct request *rq,
			long timeout_ms)
{
	char *token = NULL;
	int err;

	atomic_fetch_add(&c->token_reads, 1);
	err = read_token(c->token_path, &token);
	if (!err)
		err = perform(c, token, rq, timeout_ms);
	if (token) {
		memset(token, 0, strlen(token));	/* don't leave secrets in the heap */
		free(token);
	}
	return err;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * A rejected token (401/403) is read once more and the request repeated:
 * the kubelet rotates projected tokens, and the file may have changed
 * since it was read. Both tries share timeout_ms.
 */
static int send_request(struct k8s_client *c, const struct request *rq,
			long timeout_ms)
{
	uint64_t start = mono_ms(), spent;
	int err = request_once(c, rq, timeout_ms);

	if (err != -EACCES || atomic_load(&c->abort))
		return err;
	spent = mono_ms() - start;
	if (spent >= (uint64_t)timeout_ms)
		return err;
	pr_info("k8s: token rejected; reading %s again", c->token_path);
	body_reset(rq->resp);
	return request_once(c, rq, timeout_ms - (long)spent);
}

/* PATCH of the node status with body (freed here; NULL: out of memory). */
static int patch_body(struct k8s_client *c, char *body, long timeout_ms)
{
	struct body_buf resp = { .max = 512, .keep_start = true };
	char url[1024];
	struct request rq = { "PATCH", url, body, K8S_PATCH_CONTENT_TYPE, &resp };
	int err;

	if (!body)
		return -ENOMEM;
	if (!c->node) {
		free(body);
		return -EINVAL;
	}
	snprintf(url, sizeof(url), "%s/api/v1/nodes/%s/status", c->api_url, c->node);
	err = send_request(c, &rq, timeout_ms);
	free(resp.data);
	free(body);
	return err;
}

int k8s_patch_node_status(struct k8s_client *c, const struct k8s_node_resources *r)
{
	return patch_body(c, k8s_node_status_patch(r), K8S_TIMEOUT_MS);
}

int k8s_withdraw_node_status(struct k8s_client *c, long timeout_ms)
{
	return patch_body(c, k8s_node_status_withdrawal(), timeout_ms);
}

uint64_t k8s_client_token_reads(const struct k8s_client *c)
{
	return atomic_load(&c->token_reads);
}

int k8s_get(struct k8s_client *c, const char *path, size_t max, char **body,
	    size_t *len)
{
	struct body_buf b = { .max = max };
	char url[1024];
	struct request rq = { "GET", url, NULL, NULL, &b };
	int err;

	*body = NULL;
	*len = 0;
	snprintf(url, sizeof(url), "%s%s", c->api_url, path);
	err = send_request(c, &rq, K8S_TIMEOUT_MS);
	if (err || !b.data) {
		free(b.data);
		return err ?: -ENODATA;
	}
	*body = b.data;
	*len = b.len;
	return 0;
}

/* ---- worker threads ---- */

int k8s_worker_start(struct k8s_worker *w, struct k8s_client *c,
		     void *(*fn)(void *), void *arg)
{
	pthread_condattr_t ca;
	int err;

	w->client = c;
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
	/* a request in flight is abandoned, so that stop is not held up by it */
	atomic_store(&w->client->abort, true);
	pthread_join(w->thread, NULL);
	atomic_store(&w->client->abort, false);
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
	unsigned int fails;		/* consecutive failed patches */
	uint64_t backoff_ns;		/* wait after the last failure */
	uint64_t retry_ns;		/* no new patch before this */
	uint64_t rnd;			/* xorshift64 state for the jitter */
	uint64_t updates;
	uint64_t errors;
};

static uint64_t next_rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Under p->w.mu: account for the outcome of a patch submitted at at_ns. */
static void publish_done(struct k8s_publisher *p, int err,
			 const struct k8s_node_resources *r, uint64_t at_ns)
{
	if (!err) {
		p->updates++;
		p->fails = 0;
		p->backoff_ns = 0;
		p->have_last = true;
		p->last = *r;
		p->last_ns = at_ns;
		return;
	}
	p->errors++;
	if (p->fails < UINT_MAX)
		p->fails++;
	p->backoff_ns = k8s_backoff_ns(p->fails, next_rnd(&p->rnd));
	p->retry_ns = at_ns + p->backoff_ns;
	if (err == -EACCES)
		pr_err("k8s: node %s: the API server refuses this service account "
		       "even with a freshly read token (RBAC: patch nodes/status); "
		       "next try in %" PRIu64 " s", p->client->node,
		       (uint64_t)(p->backoff_ns / 1000000000ULL));
	else
		pr_warn("k8s: node %s: patch failed (%u consecutive); next try in "
			"%" PRIu64 " s", p->client->node, p->fails,
			(uint64_t)(p->backoff_ns / 1000000000ULL));
}

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
		publish_done(p, err, &r, at);
		pthread_cond_broadcast(&p->w.cv);
	}
	pthread_mutex_unlock(&p->w.mu);
	return NULL;
}

int k8s_publisher_start(struct k8s_client *c, const struct k8s_gate *gate,
			struct k8s_publisher **out)
{
	struct k8s_publisher *p = calloc(1, sizeof(*p));
	struct timespec ts;
	int err;

	if (!p)
		return -ENOMEM;
	p->client = c;
	p->gate = *gate;
	clock_gettime(CLOCK_REALTIME, &ts);
	/* jitter differs between nodes: seed from the time, pid and node */
	p->rnd = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^
		 ((uint64_t)getpid() << 40) ^ (uint64_t)(uintptr_t)c->node;
	if (!p->rnd)
		p->rnd = 0x9e3779b97f4a7c15ULL;
	err = k8s_worker_start(&p->w, c, publisher_main, p);
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
	/* after a failure, back off before asking an API server in trouble
	 * (or one that refuses us) again */
	if (p->fails && now_ns < p->retry_ns &&
	    p->retry_ns - now_ns <= p->backoff_ns)
		go = false;
	else if (p->busy || p->pending)
		go = p->pending;	/* replace the queued values, if any */
	else
		go = p->fails || k8s_should_publish(&p->last, p->have_last,
						    p->last_ns, r, now_ns, &p->gate);
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

void k8s_publisher_stats(struct k8s_publisher *p, struct k8s_publisher_stats *st)
{
	pthread_mutex_lock(&p->w.mu);
	st->updates = p->updates;
	st->errors = p->errors;
	st->fails = p->fails;
	st->backoff_ns = p->backoff_ns;
	st->retry_ns = p->retry_ns;
	st->token_reads = k8s_client_token_reads(p->client);
	pthread_mutex_unlock(&p->w.mu);
}

int k8s_publisher_stop(struct k8s_publisher *p)
{
	int err;

	if (!p)
		return 0;
	/* a request in flight may be one that publishes: it is abandoned */
	k8s_worker_stop(&p->w);
	/*
	 * Nobody protects this node's LS services from BE pods once colod is
	 * gone: take Batch and Mid off the node, as Koordinator's
	 * slo-controller does when it resets them, so that the scheduler
	 * stops placing BE here. Always, not only after a patch of ours: a
	 * previous colod on this node may have published them. Bounded, so
	 * that restoring the knobs still fits in the grace period.
	 */
	err = k8s_withdraw_node_status(p->client, K8S_WITHDRAW_TIMEOUT_MS);
	if (err)
		pr_err("k8s: node %s: could not withdraw %s and the other "
		       "extended resources (%s): the scheduler may place BE pods "
		       "here until they are removed (kubectl edit node --subresource=status)",
		       p->client->node, K8S_RES_BATCH_CPU, strerror(-err));
	else
		pr_info("k8s: node %s: Batch and Mid withdrawn", p->client->node);
	k8s_client_free(p->client);
	free(p);
	return err;
}
