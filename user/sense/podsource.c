// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The pods of this node from the kubelet's /pods (see podsource.h): a
 * parser of PodList JSON (pure) and a poller thread over k8s.c's client.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cjson/cJSON.h>
#include "clock.h"
#include "k8s.h"
#include "log.h"
#include "podsource.h"

#define RES_BATCH_CPU		K8S_RES_BATCH_CPU
#define RES_BATCH_MEMORY	K8S_RES_BATCH_MEMORY
#define BACKOFF_MIN_MS		1000u
#define BACKOFF_MAX_MS		30000u

/* ---- quantities ---- */

/* The suffix of a quantity: a power of ten and a power of two. */
static int quantity_suffix(const char *s, int *e10, int *e2)
{
	static const struct {
		const char *sfx;
		int e10, e2;
	} t[] = {
		{ "Ki", 0, 10 }, { "Mi", 0, 20 }, { "Gi", 0, 30 }, { "Ti", 0, 40 },
		{ "Pi", 0, 50 }, { "Ei", 0, 60 }, { "n", -9, 0 }, { "u", -6, 0 },
		{ "m", -3, 0 }, { "", 0, 0 }, { "k", 3, 0 }, { "M", 6, 0 },
		{ "G", 9, 0 }, { "T", 12, 0 }, { "P", 15, 0 }, { "E", 18, 0 },
	};
	size_t i;
	char *end;
	long e;

	*e10 = *e2 = 0;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (!strcmp(s, t[i].sfx)) {
			*e10 = t[i].e10;
			*e2 = t[i].e2;
			return 0;
		}
	}
	if ((s[0] != 'e' && s[0] != 'E') || !s[1])
		return -EINVAL;
	errno = 0;
	e = strtol(s + 1, &end, 10);
	if (*end || errno || e < -60 || e > 60)
		return -EINVAL;
	*e10 = (int)e;
	return 0;
}

int k8s_quantity_parse(const char *s, long long *out)
{
	unsigned __int128 v = 0, p10 = 1;
	int digits = 0, frac = 0, e10, e2, err;
	bool dot = false;

	if (!s || !*s)
		return -EINVAL;
	if (*s == '+')
		s++;
	for (; (*s >= '0' && *s <= '9') || (*s == '.' && !dot); s++) {
		if (*s == '.') {
			dot = true;
			continue;
		}
		if (++digits > 30)
			return -ERANGE;
		v = v * 10 + (unsigned int)(*s - '0');
		frac += dot;
	}
	if (!digits)
		return -EINVAL;
	err = quantity_suffix(s, &e10, &e2);
	if (err)
		return err;
	e10 -= frac;
	v <<= e2;	/* < 10^30 * 2^60 fits 128 bits */
	for (; e10 > 0; e10--) {
		if (v > (unsigned __int128)INT64_MAX)
			return -ERANGE;
		v *= 10;
	}
	for (; e10 < 0 && p10 <= v; e10++)
		p10 *= 10;
	if (e10 < 0)	/* smaller than any unit left: rounds up to 1 (or 0) */
		v = v ? 1 : 0;
	else
		v = (v + p10 - 1) / p10;	/* Value() rounds up */
	if (v > (unsigned __int128)INT64_MAX)
		return -ERANGE;
	*out = (long long)v;
	return 0;
}

/* ---- PodList ---- */

static const char *str_of(const cJSON *obj, const char *name)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(obj, name);

	return cJSON_IsString(j) ? j->valuestring : NULL;
}

/*
 * A pod's batch limit as koordlet reads it: the sum over its containers,
 * none (-1) if any container has none, for then the pod is not bounded.
 */
static void add_limit(const cJSON *limits, const char *name, long long *sum,
		      bool *none, const char *uid)
{
	const char *q = str_of(limits, name);
	long long v;

	if (!q) {
		*none = true;
		return;
	}
	if (k8s_quantity_parse(q, &v) || v <= 0) {
		pr_warn("pod %s: resources.limits[\"%s\"]: \"%s\" is not a positive "
			"quantity; ignored", uid, name, q);
		*none = true;
		return;
	}
	*sum = *sum + v < *sum ? INT64_MAX : *sum + v;
}

static void pod_limits(const cJSON *spec, struct pod_meta *m)
{
	const cJSON *ctrs = cJSON_GetObjectItemCaseSensitive(spec, "containers");
	const cJSON *c;
	bool no_cpu = false, no_mem = false;
	long long cpu = 0, mem = 0;
	int n = 0;

	cJSON_ArrayForEach(c, ctrs) {
		const cJSON *res = cJSON_GetObjectItemCaseSensitive(c, "resources");
		const cJSON *lim = cJSON_GetObjectItemCaseSensitive(res, "limits");

		n++;
		add_limit(lim, RES_BATCH_CPU, &cpu, &no_cpu, m->uid);
		add_limit(lim, RES_BATCH_MEMORY, &mem, &no_mem, m->uid);
		m->cpu_limit |= str_of(lim, "cpu") != NULL;
		m->mem_limit |= str_of(lim, "memory") != NULL;
	}
	m->batch_cpu_milli = n && !no_cpu ? cpu : -1;
	m->batch_mem_bytes = n && !no_mem ? mem : -1;
}

static bool pod_parse(const cJSON *item, struct pod_meta *m)
{
	const cJSON *md = cJSON_GetObjectItemCaseSensitive(item, "metadata");
	const cJSON *spec = cJSON_GetObjectItemCaseSensitive(item, "spec");
	const cJSON *labels = cJSON_GetObjectItemCaseSensitive(md, "labels");
	const cJSON *prio = cJSON_GetObjectItemCaseSensitive(spec, "priority");
	const char *uid = str_of(md, "uid"), *qos;

	memset(m, 0, sizeof(*m));
	if (!uid || !*uid || strlen(uid) >= sizeof(m->uid))
		return false;
	strcpy(m->uid, uid);
	qos = str_of(labels, POD_LABEL_QOS);
	m->cls.qos = koord_qos_parse(qos);
	if (qos && m->cls.qos == KOORD_QOS_NONE)
		pr_warn("pod %s: label %s: \"%s\" is not one of LSE, LSR, LS, BE, "
			"SYSTEM; ignored", uid, POD_LABEL_QOS, qos);
	m->cls.prio = koord_priority_of(str_of(spec, "priorityClassName"),
					cJSON_IsNumber(prio),
					cJSON_IsNumber(prio) ? (long long)prio->valuedouble : 0);
	pod_limits(spec, m);
	return true;
}

static int cmp_pod(const void *a, const void *b)
{
	return strcmp(((const struct pod_meta *)a)->uid, ((const struct pod_meta *)b)->uid);
}

int pod_view_parse(const char *json, size_t len, struct pod_view *out)
{
	cJSON *root = cJSON_ParseWithLength(json, len);
	const cJSON *items, *it;
	const char *kind;
	int n, err = 0;

	memset(out, 0, sizeof(*out));
	if (!root) {
		pr_warn("pod source: the response is not JSON");
		return -EINVAL;
	}
	kind = str_of(root, "kind");
	items = cJSON_GetObjectItemCaseSensitive(root, "items");
	if (!kind || strcmp(kind, "PodList") || !(cJSON_IsArray(items) || cJSON_IsNull(items))) {
		pr_warn("pod source: kind \"%s\": not a PodList with items",
			kind ? kind : "");
		err = -EINVAL;
		goto out;
	}
	n = cJSON_GetArraySize(items);
	out->pods = calloc((size_t)n + 1, sizeof(*out->pods));
	if (!out->pods) {
		err = -ENOMEM;
		goto out;
	}
	cJSON_ArrayForEach(it, items)
		if (pod_parse(it, &out->pods[out->nr]))
			out->nr++;
	qsort(out->pods, (size_t)out->nr, sizeof(*out->pods), cmp_pod);
out:
	cJSON_Delete(root);
	return err;
}

const struct pod_meta *pod_view_find(const struct pod_view *v, const char *uid)
{
	struct pod_meta key;

	if (!v->nr || strlen(uid) >= sizeof(key.uid))
		return NULL;
	strcpy(key.uid, uid);
	return bsearch(&key, v->pods, (size_t)v->nr, sizeof(key), cmp_pod);
}

void pod_view_free(struct pod_view *v)
{
	free(v->pods);
	memset(v, 0, sizeof(*v));
}

/* ---- the poller ---- */

struct podsource {
	struct k8s_client *client;
	unsigned int interval_ms;
	struct k8s_worker w;
	bool have_new;
	struct pod_view next;		/* the newest good list, not yet taken */
	uint64_t last_hash;		/* of the last good body: the same body is no new list */
	uint64_t lists, errors;
	bool failing;
};

/* FNV-1a: a steady node serves the same list poll after poll. */
static uint64_t body_hash(const char *s, size_t len)
{
	uint64_t h = 14695981039346656037ULL;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h;
}

/* 0 with a new view, 1 when the list is the last one again, or -errno. */
static int poll_once(struct podsource *p, struct pod_view *v)
{
	char *body = NULL;
	size_t len;
	uint64_t h;
	int err;

	err = k8s_get(p->client, "", PODSOURCE_BODY_MAX, &body, &len);
	if (err)
		return err;
	/* unchanged: no parse, and its warnings are not repeated every poll */
	h = body_hash(body, len);
	if (p->lists && h == p->last_hash) {
		free(body);
		return 1;
	}
	err = pod_view_parse(body, len, v);
	if (!err)
		p->last_hash = h;
	free(body);
	return err;
}

/* Sleep ms unless stopped; called and returns with mu held. */
static void wait_ms(struct podsource *p, unsigned int ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	while (!p->w.stop && pthread_cond_timedwait(&p->w.cv, &p->w.mu, &ts) != ETIMEDOUT)
		;
}

/* A good list: the view the loop takes next; logged when it ends a failure. */
static void got_list(struct podsource *p, struct pod_view *v)
{
	if (p->failing)
		pr_info("pod source: back, %d pods", v->nr);
	pod_view_free(&p->next);
	p->next = *v;
	p->have_new = true;
	p->lists++;
	p->failing = false;
	pthread_cond_broadcast(&p->w.cv);
}

/* The list did not change: counted, and it ends a failure like a new one. */
static void same_list(struct podsource *p)
{
	if (p->failing)
		pr_info("pod source: back, the same list");
	p->lists++;
	p->failing = false;
	pthread_cond_broadcast(&p->w.cv);
}

static void *poller_main(void *arg)
{
	struct podsource *p = arg;
	unsigned int backoff = BACKOFF_MIN_MS;
	struct pod_view v;
	int err;

	pthread_mutex_lock(&p->w.mu);
	while (!p->w.stop) {
		pthread_mutex_unlock(&p->w.mu);
		err = poll_once(p, &v);
		pthread_mutex_lock(&p->w.mu);
		if (err >= 0) {
			if (err)
				same_list(p);
			else
				got_list(p, &v);
			backoff = BACKOFF_MIN_MS;
			wait_ms(p, p->interval_ms);
			continue;
		}
		if (!p->failing)
			pr_warn("pod source: %s; keeping the last list, pods not in it "
				"are classified by their QoS directory; retrying with "
				"backoff", strerror(-err));
		p->errors++;
		p->failing = true;
		pthread_cond_broadcast(&p->w.cv);
		wait_ms(p, backoff);
		backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
	}
	pthread_mutex_unlock(&p->w.mu);
	return NULL;
}

int podsource_start(const struct podsource_opts *o, struct podsource **out)
{
	struct podsource *p = calloc(1, sizeof(*p));
	int err;

	if (!p)
		return -ENOMEM;
	err = k8s_client_new(o->url, NULL, o->token_path, o->ca_path, &p->client);
	if (err) {
		pr_err("--pod-source %s: not a usable https URL", o->url);
		free(p);
		return err;
	}
	p->interval_ms = o->interval_ms ? o->interval_ms : PODSOURCE_INTERVAL_MS_DEFAULT;
	err = k8s_worker_start(&p->w, p->client, poller_main, p);
	if (err) {
		k8s_client_free(p->client);
		free(p);
		return err;
	}
	*out = p;
	return 0;
}

bool podsource_take(struct podsource *p, struct pod_view *v)
{
	bool got;

	pthread_mutex_lock(&p->w.mu);
	got = p->have_new;
	if (got) {
		pod_view_free(v);
		*v = p->next;
		memset(&p->next, 0, sizeof(p->next));
		p->have_new = false;
	}
	pthread_mutex_unlock(&p->w.mu);
	return got;
}

bool podsource_wait_first(struct podsource *p, unsigned int timeout_ms)
{
	uint64_t end = mono_ns() + (uint64_t)timeout_ms * 1000000ULL;
	bool got;

	pthread_mutex_lock(&p->w.mu);
	while (!p->lists && !p->errors && mono_ns() < end) {
		pthread_mutex_unlock(&p->w.mu);
		/* the poller's broadcasts also wake its own waits: poll instead */
		nanosleep(&(struct timespec) { 0, 10 * 1000000L }, NULL);
		pthread_mutex_lock(&p->w.mu);
	}
	got = p->lists > 0;
	pthread_mutex_unlock(&p->w.mu);
	return got;
}

void podsource_counts(struct podsource *p, uint64_t *lists, uint64_t *errors,
		      bool *failing)
{
	pthread_mutex_lock(&p->w.mu);
	*lists = p->lists;
	*errors = p->errors;
	*failing = p->failing;
	pthread_mutex_unlock(&p->w.mu);
}

void podsource_stop(struct podsource *p)
{
	if (!p)
		return;
	k8s_worker_stop(&p->w);
	pod_view_free(&p->next);
	k8s_client_free(p->client);
	free(p);
}
