// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Peak predictor: decaying histograms per model, trained per minute, with a
 * JSON checkpoint. Facts (bucket layout, epsilon, half-lives, percentiles,
 * safety margin, reference shifting) follow Koordinator's pkg/koordlet/
 * prediction and pkg/util/histogram.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "colod/colod.h"
#include "fileio.h"
#include "log.h"
#include "predictor.h"
#include "minmax.h"

/* Koordinator: MinSampleWeight 0.1, epsilon = 0.001 * MinSampleWeight. */
#define DHIST_EPSILON		0.0001
#define DHIST_MAX_EXPONENT	100

const struct dhist_opts dhist_cpu_opts = {
	.first = 25.0, .ratio = 1.05, .epsilon = DHIST_EPSILON, .nbuckets = 158,
};

const struct dhist_opts dhist_memory_opts = {
	.first = 5.0 * 1024 * 1024, .ratio = 1.05, .epsilon = DHIST_EPSILON,
	.nbuckets = 205,
};

void dhist_init(struct dhist *h, const struct dhist_opts *o, uint32_t half_life_s)
{
	memset(h, 0, sizeof(*h));
	h->o = o;
	h->half_life_s = half_life_s ? half_life_s : 1;
	h->min_b = (int)o->nbuckets;
	h->max_b = -1;
}

void dhist_free(struct dhist *h)
{
	free(h->w);
	h->w = NULL;
	h->lo = h->n = 0;
}

static float weight_of(const struct dhist *h, int b)
{
	return b >= h->lo && b < h->lo + h->n ? h->w[b - h->lo] : 0;
}

/* The weights kept cover [lo, hi): grow or shrink to that, zeros for new buckets. */
static int dhist_span(struct dhist *h, int lo, int hi)
{
	float *w;
	int i;

	if (hi <= lo) {
		dhist_free(h);
		return 0;
	}
	if (lo == h->lo && hi - lo == h->n)
		return 0;
	w = calloc((size_t)(hi - lo), sizeof(*w));
	if (!w)
		return -ENOMEM;
	for (i = lo; i < hi; i++)
		w[i - lo] = weight_of(h, i);
	free(h->w);
	h->w = w;
	h->lo = lo;
	h->n = hi - lo;
	return 0;
}

/* Bucket b's weight, the span grown to hold it; NULL without memory. */
static float *dhist_slot(struct dhist *h, int b)
{
	int lo = h->n && h->lo < b ? h->lo : b;
	int hi = h->n && h->lo + h->n > b + 1 ? h->lo + h->n : b + 1;

	return dhist_span(h, lo, hi) ? NULL : &h->w[b - h->lo];
}

int dhist_bucket(const struct dhist_opts *o, double value)
{
	double b;

	if (!(value > 0))
		return 0;
	b = floor(log(value * (o->ratio - 1) / o->first + 1) / log(o->ratio));
	if (b >= o->nbuckets - 1)
		return (int)o->nbuckets - 1;
	return (int)b;
}

double dhist_bucket_start(const struct dhist_opts *o, int bucket)
{
	return o->first * (pow(o->ratio, bucket) - 1) / (o->ratio - 1);
}

bool dhist_empty(const struct dhist *h)
{
	return h->min_b > h->max_b;
}

/* Recompute the non-empty range after weights were scaled down. */
static void dhist_trim(struct dhist *h)
{
	int b;

	h->min_b = (int)h->o->nbuckets;
	h->max_b = -1;
	for (b = h->lo; b < h->lo + h->n; b++) {
		if (h->w[b - h->lo] < h->o->epsilon) {
			h->w[b - h->lo] = 0;
			continue;
		}
		if (b < h->min_b)
			h->min_b = b;
		h->max_b = b;
	}
	if (dhist_empty(h))
		h->total = 0;
	/* a smaller copy, or the same one if there is no memory for it */
	dhist_span(h, h->min_b, h->max_b + 1);
}

/* Move ref to the half-life boundary at or below t, scaling the weights so
 * that every sample keeps its weight relative to the others. */
static void dhist_shift(struct dhist *h, int64_t t_s)
{
	int64_t hl = h->half_life_s;
	int64_t new_ref = t_s - ((t_s % hl) + hl) % hl;
	double k = floor((double)(new_ref - h->ref_s) / (double)hl);
	int b;

	h->ref_s = new_ref;
	if (dhist_empty(h))
		return;
	if (k > 2 * DHIST_MAX_EXPONENT) {
		dhist_free(h);
		dhist_init(h, h->o, h->half_life_s);
		h->ref_s = new_ref;
		return;
	}
	for (b = 0; b < h->n; b++)
		h->w[b] = (float)ldexp(h->w[b], (int)-k);
	h->total = ldexp(h->total, (int)-k);
	dhist_trim(h);
}

void dhist_add(struct dhist *h, double value, double weight, int64_t t_s)
{
	double factor;
	float *w;
	int b;

	if (!(weight > 0))
		return;
	if (t_s - h->ref_s > (int64_t)h->half_life_s * DHIST_MAX_EXPONENT)
		dhist_shift(h, t_s);
	factor = exp2((double)(t_s - h->ref_s) / h->half_life_s);
	b = dhist_bucket(h->o, value);
	w = dhist_slot(h, b);
	if (!w)
		return;	/* no memory: this sample is not learned */
	*w += (float)(weight * factor);
	h->total += weight * factor;
	if (*w >= h->o->epsilon) {
		if (b < h->min_b)
			h->min_b = b;
		if (b > h->max_b)
			h->max_b = b;
	}
}

double dhist_percentile(const struct dhist *h, double q)
{
	double threshold = q * h->total, sum = 0;
	int b;

	if (dhist_empty(h))
		return 0;
	for (b = h->min_b; b < h->max_b; b++) {
		sum += weight_of(h, b);
		if (sum >= threshold)
			break;
	}
	/* the end of the bucket: never below the true quantile */
	if (b < (int)h->o->nbuckets - 1)
		return dhist_bucket_start(h->o, b + 1);
	return dhist_bucket_start(h->o, b);
}

/* Samples kept per training interval: 60 at 1 Hz, some slack for jitter;
 * beyond that new samples overwrite old ones round-robin. */
#define PRED_INTERVAL_SAMPLES	64

struct predictor_model {
	struct predictor_key key;
	int64_t first_seen_s;
	int64_t last_seen_s;
	int64_t last_trained_s;
	int64_t interval;	/* index of the interval being collected */
	uint32_t nsamples;
	uint32_t next;		/* overwrite position once full */
	/*
	 * 32 bits: a node of 2,500 LS pods keeps 2,500 models. CPU in milli
	 * (4 million cores), memory in KiB rounded up (4 TiB), far finer than
	 * the histograms' 25 milli and 5 MiB first buckets.
	 */
	uint32_t cpu_buf[PRED_INTERVAL_SAMPLES];
	uint32_t mem_kib[PRED_INTERVAL_SAMPLES];
	struct dhist cpu;
	struct dhist mem;
};

struct predictor {
	struct predictor_params p;
	struct predictor_model **models;	/* sorted by key */
	size_t n, cap;
};

void predictor_params_default(struct predictor_params *p)
{
	p->cpu_half_life_s = 12 * 3600;
	p->memory_half_life_s = 24 * 3600;
	p->cpu_percentile = 95;
	p->memory_percentile = 98;
	p->safety_margin_percent = 10;
	p->training_interval_s = 60;
	p->train_percentile = 90;
	p->cold_start_s = 24 * 3600;
	p->expiration_s = 30 * 60;
	p->max_models = 4096;
}

struct predictor *predictor_new(const struct predictor_params *p)
{
	struct predictor *pr = calloc(1, sizeof(*pr));

	if (!pr)
		return NULL;
	pr->p = *p;
	if (!pr->p.training_interval_s)
		pr->p.training_interval_s = 60;
	return pr;
}

static void model_free(struct predictor_model *m)
{
	if (!m)
		return;
	dhist_free(&m->cpu);
	dhist_free(&m->mem);
	free(m);
}

static void free_models(struct predictor_model **models, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		model_free(models[i]);
	free(models);
}

void predictor_free(struct predictor *pr)
{
	if (!pr)
		return;
	free_models(pr->models, pr->n);
	free(pr);
}

size_t predictor_count(const struct predictor *pr)
{
	return pr->n;
}

static int key_cmp(struct predictor_key a, struct predictor_key b)
{
	if (a.kind != b.kind)
		return a.kind < b.kind ? -1 : 1;
	if (a.id != b.id)
		return a.id < b.id ? -1 : 1;
	return 0;
}

/* Index of key, or -(insertion point) - 1. */
static ssize_t model_find(struct predictor_model *const *models, size_t n,
			  struct predictor_key key)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = key_cmp(models[mid]->key, key);

		if (!c)
			return (ssize_t)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -(ssize_t)lo - 1;
}

static const struct predictor_model *model_get(const struct predictor *pr,
					       struct predictor_key key)
{
	ssize_t i = model_find(pr->models, pr->n, key);

	return i >= 0 ? pr->models[i] : NULL;
}

static struct predictor_model *model_alloc(const struct predictor_params *p,
					   struct predictor_key key, int64_t now_s)
{
	struct predictor_model *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->key = key;
	m->first_seen_s = now_s;
	m->last_seen_s = now_s;
	m->interval = -1;
	dhist_init(&m->cpu, &dhist_cpu_opts, p->cpu_half_life_s);
	dhist_init(&m->mem, &dhist_memory_opts, p->memory_half_life_s);
	return m;
}

static int model_insert(struct predictor_model ***models, size_t *n, size_t *cap,
			size_t at, struct predictor_model *m)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		struct predictor_model **nm = realloc(*models, ncap * sizeof(*nm));

		if (!nm)
			return -ENOMEM;
		*models = nm;
		*cap = ncap;
	}
	memmove(*models + at + 1, *models + at, (*n - at) * sizeof(**models));
	(*models)[at] = m;
	(*n)++;
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of n values (sorts them). */
static uint32_t nearest_rank(uint32_t *v, uint32_t n, uint32_t pct)
{
	uint64_t rank;

	qsort(v, n, sizeof(*v), cmp_u32);
	rank = ((uint64_t)pct * n + 99) / 100;
	return v[rank ? rank - 1 : 0];
}

/* Train the model with the p90 of the interval it collected. */
static void model_train(const struct predictor_params *p, struct predictor_model *m)
{
	uint32_t pct = p->train_percentile ? p->train_percentile : 90;
	int64_t t = (m->interval + 1) * (int64_t)p->training_interval_s;

	if (!m->nsamples)
		return;
	dhist_add(&m->cpu, (double)nearest_rank(m->cpu_buf, m->nsamples, pct), 1.0, t);
	dhist_add(&m->mem, 1024.0 * nearest_rank(m->mem_kib, m->nsamples, pct), 1.0, t);
	m->last_trained_s = t;
	m->nsamples = 0;
	m->next = 0;
}

int predictor_observe(struct predictor *pr, struct predictor_key key,
		      uint64_t cpu_milli, uint64_t memory_bytes, int64_t now_s)
{
	int64_t interval = now_s / (int64_t)pr->p.training_interval_s;
	ssize_t i = model_find(pr->models, pr->n, key);
	struct predictor_model *m;
	uint32_t slot;
	int err;

	if (i >= 0) {
		m = pr->models[i];
	} else {
		if (pr->p.max_models && pr->n >= pr->p.max_models)
			return -ENOSPC;
		m = model_alloc(&pr->p, key, now_s);
		if (!m)
			return -ENOMEM;
		err = model_insert(&pr->models, &pr->n, &pr->cap, (size_t)(-i - 1), m);
		if (err) {
			model_free(m);
			return err;
		}
	}
	if (m->interval != interval) {
		model_train(&pr->p, m);
		m->interval = interval;
	}
	if (m->nsamples < PRED_INTERVAL_SAMPLES) {
		slot = m->nsamples++;
	} else {
		slot = m->next;
		m->next = (m->next + 1) % PRED_INTERVAL_SAMPLES;
	}
	m->cpu_buf[slot] = (uint32_t)min_u64(cpu_milli, UINT32_MAX);
	m->mem_kib[slot] = (uint32_t)min_u64((memory_bytes + 1023) >> 10, UINT32_MAX);
	m->last_seen_s = now_s;
	return 0;
}

void predictor_tick(struct predictor *pr, int64_t now_s)
{
	int64_t interval = now_s / (int64_t)pr->p.training_interval_s;
	size_t i, kept = 0;

	for (i = 0; i < pr->n; i++) {
		struct predictor_model *m = pr->models[i];

		if (m->nsamples && m->interval < interval)
			model_train(&pr->p, m);
		if (pr->p.expiration_s && now_s - m->last_seen_s > (int64_t)pr->p.expiration_s) {
			pr_debug("predictor: model %u:%" PRIu64 " expired",
				 m->key.kind, m->key.id);
			model_free(m);
			continue;
		}
		pr->models[kept++] = m;
	}
	pr->n = kept;
}

static bool model_trained(const struct predictor_model *m)
{
	return m && !dhist_empty(&m->cpu) && !dhist_empty(&m->mem);
}

int predictor_percentile(const struct predictor *pr, struct predictor_key key,
			 double q, uint64_t *cpu_milli, uint64_t *memory_bytes)
{
	const struct predictor_model *m = model_get(pr, key);

	if (!model_trained(m))
		return -ENOENT;
	*cpu_milli = (uint64_t)dhist_percentile(&m->cpu, q);
	*memory_bytes = (uint64_t)dhist_percentile(&m->mem, q);
	return 0;
}

static uint64_t with_margin(const struct predictor_params *p, uint64_t v)
{
	return (uint64_t)((unsigned __int128)v * (100 + p->safety_margin_percent) / 100);
}

/* Raw (no margin) peak percentiles of a model. */
static int model_peak_raw(const struct predictor *pr, const struct predictor_model *m,
			  uint64_t peak[HEADROOM_NR_RES])
{
	if (!model_trained(m))
		return -ENOENT;
	peak[HEADROOM_CPU] = (uint64_t)dhist_percentile(&m->cpu, pr->p.cpu_percentile / 100.0);
	peak[HEADROOM_MEMORY] = (uint64_t)dhist_percentile(&m->mem,
							   pr->p.memory_percentile / 100.0);
	return 0;
}

int predictor_peak(const struct predictor *pr, struct predictor_key key,
		   uint64_t *cpu_milli, uint64_t *memory_bytes)
{
	uint64_t peak[HEADROOM_NR_RES];
	int err = model_peak_raw(pr, model_get(pr, key), peak);

	if (err)
		return err;
	*cpu_milli = with_margin(&pr->p, peak[HEADROOM_CPU]);
	*memory_bytes = with_margin(&pr->p, peak[HEADROOM_MEMORY]);
	return 0;
}

int predictor_first_seen(const struct predictor *pr, struct predictor_key key,
			 int64_t *first_s)
{
	const struct predictor_model *m = model_get(pr, key);

	if (!m)
		return -ENOENT;
	*first_s = m->first_seen_s;
	return 0;
}

static uint64_t sub_sat(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

/* Per-cgroup predictor: fills reclaimable and peak, counts. */
static void reclaim_by_cgroup(const struct predictor *pr,
			      const struct predictor_ls_item *items, size_t n,
			      const uint64_t capacity[HEADROOM_NR_RES], int64_t now_s,
			      uint64_t recl[HEADROOM_NR_RES], uint64_t peak[HEADROOM_NR_RES],
			      struct predictor_reclaim *out)
{
	uint64_t unrecl[HEADROOM_NR_RES] = { 0 }, unpred[HEADROOM_NR_RES] = { 0 };
	uint64_t sum[HEADROOM_NR_RES] = { 0 };
	size_t i;
	int r;

	for (i = 0; i < n; i++) {
		struct predictor_key key = { PREDICTOR_KEY_CGROUP, items[i].cgroup_id };
		const struct predictor_model *m = model_get(pr, key);
		uint64_t pk[HEADROOM_NR_RES];

		if (!m || now_s - m->first_seen_s < (int64_t)pr->p.cold_start_s ||
		    model_peak_raw(pr, m, pk)) {
			for (r = 0; r < HEADROOM_NR_RES; r++)
				unpred[r] += items[i].request[r];
			out->unpredicted++;
			continue;
		}
		out->predicted++;
		for (r = 0; r < HEADROOM_NR_RES; r++) {
			pk[r] = with_margin(&pr->p, pk[r]);
			unrecl[r] += pk[r];
			sum[r] += sub_sat(items[i].request[r], pk[r]);
		}
	}
	for (r = 0; r < HEADROOM_NR_RES; r++) {
		recl[r] = min_u64(sub_sat(capacity[r], unrecl[r]), sum[r]);
		peak[r] = unrecl[r] + unpred[r];
	}
}

void predictor_reclaimable(const struct predictor *pr,
			   const struct predictor_ls_item *items, size_t n,
			   const uint64_t capacity[HEADROOM_NR_RES], int64_t now_s,
			   struct predictor_reclaim *out)
{
	struct predictor_key ls_key = { PREDICTOR_KEY_CLASS, COLOD_CLASS_LS };
	struct predictor_key sys_key = { PREDICTOR_KEY_CLASS, COLOD_CLASS_SYSTEM };
	uint64_t recl[HEADROOM_NR_RES], peak[HEADROOM_NR_RES];
	uint64_t ls_pk[HEADROOM_NR_RES], sys_pk[HEADROOM_NR_RES], req[HEADROOM_NR_RES] = { 0 };
	size_t i;
	int r;

	memset(out, 0, sizeof(*out));
	reclaim_by_cgroup(pr, items, n, capacity, now_s, recl, peak, out);
	out->class_ready = !model_peak_raw(pr, model_get(pr, ls_key), ls_pk) &&
			   !model_peak_raw(pr, model_get(pr, sys_key), sys_pk);
	for (i = 0; i < n; i++)
		for (r = 0; r < HEADROOM_NR_RES; r++)
			req[r] += items[i].request[r];
	for (r = 0; r < HEADROOM_NR_RES; r++) {
		uint64_t cpk, crecl;

		if (!out->class_ready) {
			out->reclaimable[r] = 0;
			out->peak[r] = peak[r];
			continue;
		}
		cpk = with_margin(&pr->p, ls_pk[r] + sys_pk[r]);
		crecl = min_u64(sub_sat(capacity[r], cpk), sub_sat(req[r], cpk));
		out->reclaimable[r] = min_u64(recl[r], crecl);
		out->peak[r] = peak[r] > cpk ? peak[r] : cpk;
	}
}

/* ---- checkpoint ---- */

static const char *kind_name(uint32_t kind)
{
	return kind == PREDICTOR_KEY_CLASS ? "class" : "cgroup";
}

static cJSON *dhist_to_json(const struct dhist *h)
{
	cJSON *o = cJSON_CreateObject(), *buckets;
	int b;

	if (!o)
		return NULL;
	cJSON_AddNumberToObject(o, "half_life_s", h->half_life_s);
	cJSON_AddNumberToObject(o, "ref", (double)h->ref_s);
	cJSON_AddNumberToObject(o, "total", h->total);
	buckets = cJSON_AddArrayToObject(o, "buckets");
	if (!buckets)
		goto err;
	for (b = h->min_b; b <= h->max_b; b++) {
		cJSON *pair;

		if (weight_of(h, b) <= 0)
			continue;
		pair = cJSON_CreateArray();
		if (!pair)
			goto err;
		cJSON_AddItemToArray(buckets, pair);
		cJSON_AddItemToArray(pair, cJSON_CreateNumber(b));
		cJSON_AddItemToArray(pair, cJSON_CreateNumber(weight_of(h, b)));
		if (cJSON_GetArraySize(pair) != 2)
			goto err;
	}
	return o;
err:
	cJSON_Delete(o);
	return NULL;
}

static cJSON *model_to_json(const struct predictor_model *m)
{
	cJSON *o = cJSON_CreateObject(), *cpu, *mem;
	char id[24];

	if (!o)
		return NULL;
	snprintf(id, sizeof(id), "%" PRIu64, m->key.id);
	cJSON_AddStringToObject(o, "kind", kind_name(m->key.kind));
	cJSON_AddStringToObject(o, "id", id);
	cJSON_AddNumberToObject(o, "first_seen", (double)m->first_seen_s);
	cJSON_AddNumberToObject(o, "last_trained", (double)m->last_trained_s);
	cpu = dhist_to_json(&m->cpu);
	if (cpu)
		cJSON_AddItemToObject(o, "cpu", cpu);
	mem = dhist_to_json(&m->mem);
	if (mem)
		cJSON_AddItemToObject(o, "memory", mem);
	/* every field or nothing: a half model must not reach the file */
	if (!cpu || !mem || cJSON_GetArraySize(o) != 6) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static char *checkpoint_text(const struct predictor *pr, int64_t now_s)
{
	cJSON *root = cJSON_CreateObject(), *models;
	char *text = NULL;
	size_t i;

	if (!root)
		return NULL;
	cJSON_AddNumberToObject(root, "version", PREDICTOR_CHECKPOINT_VERSION);
	cJSON_AddNumberToObject(root, "saved_at", (double)now_s);
	cJSON_AddNumberToObject(root, "training_interval_s", pr->p.training_interval_s);
	models = cJSON_AddArrayToObject(root, "models");
	if (!models)
		goto out;
	for (i = 0; i < pr->n; i++) {
		cJSON *m;

		if (!model_trained(pr->models[i]))
			continue;
		m = model_to_json(pr->models[i]);
		if (!m)
			goto out;
		cJSON_AddItemToArray(models, m);
	}
	text = cJSON_PrintUnformatted(root);
out:
	cJSON_Delete(root);
	return text;
}

int predictor_save(const struct predictor *pr, const char *state_dir, int64_t now_s)
{
	char path[4096];
	char *text = checkpoint_text(pr, now_s);
	int err = 0;

	if (!text)
		return -ENOMEM;
	if (snprintf(path, sizeof(path), "%s/%s", state_dir, PREDICTOR_CHECKPOINT_FILE) >=
	    (int)sizeof(path)) {
		err = -ENAMETOOLONG;
		pr_err("predictor: state dir %s: path too long", state_dir);
		goto out;
	}
	if (mkdir(state_dir, 0700) && errno != EEXIST) {
		err = -errno;
		pr_err("predictor: mkdir %s: %s", state_dir, strerror(errno));
		goto out;
	}
	err = file_replace(path, text, strlen(text), 0600);
	if (err) {
		pr_err("predictor: write %s: %s", path, strerror(-err));
		goto out;
	}
	/* the checkpoint is in place; a lost rename only costs history */
	err = fsync_dir(state_dir);
	if (err)
		pr_warn("predictor: fsync %s: %s", state_dir, strerror(-err));
	err = 0;
out:
	free(text);
	return err;
}

#define CKPT_MAX_BYTES	(64u << 20)

/* Where a load failed: JSON path and what was wrong. */
struct ckpt_err {
	char path[128];
	char why[160];
};

static int bad(struct ckpt_err *e, const char *jpath, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int bad(struct ckpt_err *e, const char *jpath, const char *fmt, ...)
{
	va_list ap;

	snprintf(e->path, sizeof(e->path), "%s", jpath);
	va_start(ap, fmt);
	vsnprintf(e->why, sizeof(e->why), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* A number field that must be an integer in [lo, hi]. */
static int get_int(const cJSON *o, const char *name, const char *base, double lo,
		   double hi, int64_t *out, struct ckpt_err *e)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);
	char jpath[128];

	snprintf(jpath, sizeof(jpath), "%s.%s", base, name);
	if (!cJSON_IsNumber(it))
		return bad(e, jpath, "missing or not a number");
	if (!(it->valuedouble >= lo && it->valuedouble <= hi) ||
	    it->valuedouble != floor(it->valuedouble))
		return bad(e, jpath, "value %g out of range", it->valuedouble);
	*out = (int64_t)it->valuedouble;
	return 0;
}

static int dhist_from_json(const cJSON *o, struct dhist *h, const char *base,
			   struct ckpt_err *e)
{
	const cJSON *buckets, *total, *pair;
	char jpath[128];
	float *wp;
	int64_t hl, ref;
	double sum = 0;
	int idx = 0;

	if (!cJSON_IsObject(o))
		return bad(e, base, "missing or not an object");
	if (get_int(o, "half_life_s", base, 1, UINT32_MAX, &hl, e) ||
	    get_int(o, "ref", base, -1e15, 1e15, &ref, e))
		return -EINVAL;
	if (hl != h->half_life_s)
		pr_warn("predictor: checkpoint %s.half_life_s %" PRId64
			" differs from the configured %u; history kept", base, hl,
			h->half_life_s);
	total = cJSON_GetObjectItemCaseSensitive(o, "total");
	snprintf(jpath, sizeof(jpath), "%s.total", base);
	if (!cJSON_IsNumber(total) || !(total->valuedouble >= 0) || isinf(total->valuedouble))
		return bad(e, jpath, "missing or negative: %g",
			   cJSON_IsNumber(total) ? total->valuedouble : NAN);
	buckets = cJSON_GetObjectItemCaseSensitive(o, "buckets");
	snprintf(jpath, sizeof(jpath), "%s.buckets", base);
	if (!cJSON_IsArray(buckets))
		return bad(e, jpath, "missing or not an array");
	h->ref_s = ref;
	cJSON_ArrayForEach(pair, buckets) {
		const cJSON *bi = cJSON_GetArrayItem(pair, 0), *wi = cJSON_GetArrayItem(pair, 1);
		double b, w;

		snprintf(jpath, sizeof(jpath), "%s.buckets[%d]", base, idx++);
		if (!cJSON_IsArray(pair) || cJSON_GetArraySize(pair) != 2 ||
		    !cJSON_IsNumber(bi) || !cJSON_IsNumber(wi))
			return bad(e, jpath, "not a [bucket, weight] pair");
		b = bi->valuedouble;
		w = wi->valuedouble;
		if (!(b >= 0 && b < h->o->nbuckets) || b != floor(b))
			return bad(e, jpath, "bucket %g out of range", b);
		if (!(w >= 0) || w > 3e38)
			return bad(e, jpath, "weight %g out of range", w);
		wp = dhist_slot(h, (int)b);
		if (!wp)
			return -ENOMEM;
		*wp += (float)w;
		sum += w;
	}
	h->total = total->valuedouble;
	if (sum > 0 && fabs(sum - h->total) > 1e-3 * sum)
		return bad(e, base, "total %g does not match the sum of the buckets", h->total);
	dhist_trim(h);
	return 0;
}

static int model_from_json(const struct predictor_params *p, const cJSON *o, int i,
			   struct predictor_model **out, struct ckpt_err *e)
{
	const cJSON *kind, *id;
	struct predictor_key key = { 0, 0 };
	struct predictor_model *m;
	char base[64], jpath[96], *end;
	int64_t first, trained;

	snprintf(base, sizeof(base), "$.models[%d]", i);
	if (!cJSON_IsObject(o))
		return bad(e, base, "not an object");
	kind = cJSON_GetObjectItemCaseSensitive(o, "kind");
	snprintf(jpath, sizeof(jpath), "%s.kind", base);
	if (cJSON_IsString(kind) && !strcmp(kind->valuestring, "class"))
		key.kind = PREDICTOR_KEY_CLASS;
	else if (cJSON_IsString(kind) && !strcmp(kind->valuestring, "cgroup"))
		key.kind = PREDICTOR_KEY_CGROUP;
	else
		return bad(e, jpath, "not \"class\" or \"cgroup\"");
	id = cJSON_GetObjectItemCaseSensitive(o, "id");
	snprintf(jpath, sizeof(jpath), "%s.id", base);
	if (!cJSON_IsString(id) || id->valuestring[0] < '0' || id->valuestring[0] > '9')
		return bad(e, jpath, "missing or not a decimal string");
	errno = 0;
	key.id = strtoull(id->valuestring, &end, 10);
	if (errno || *end)
		return bad(e, jpath, "not a decimal string");
	if (get_int(o, "first_seen", base, 0, 1e15, &first, e) ||
	    get_int(o, "last_trained", base, 0, 1e15, &trained, e))
		return -EINVAL;
	m = model_alloc(p, key, first);
	if (!m)
		return -ENOMEM;
	m->last_trained_s = trained;
	snprintf(jpath, sizeof(jpath), "%s.cpu", base);
	if (dhist_from_json(cJSON_GetObjectItemCaseSensitive(o, "cpu"), &m->cpu, jpath, e))
		goto err;
	snprintf(jpath, sizeof(jpath), "%s.memory", base);
	if (dhist_from_json(cJSON_GetObjectItemCaseSensitive(o, "memory"), &m->mem, jpath, e))
		goto err;
	*out = m;
	return 0;
err:
	model_free(m);
	return -EINVAL;
}

static int models_from_json(const struct predictor_params *p, const cJSON *root,
			    struct predictor_model ***models, size_t *n, size_t *cap,
			    int64_t now_s, struct ckpt_err *e)
{
	const cJSON *arr, *it;
	int64_t version;
	int i = 0, err;

	if (!cJSON_IsObject(root))
		return bad(e, "$", "not a JSON object");
	if (get_int(root, "version", "$", 0, 1e9, &version, e))
		return -EINVAL;
	if (version != PREDICTOR_CHECKPOINT_VERSION)
		return bad(e, "$.version", "version %g not supported", (double)version);
	arr = cJSON_GetObjectItemCaseSensitive(root, "models");
	if (!cJSON_IsArray(arr))
		return bad(e, "$.models", "missing or not an array");
	cJSON_ArrayForEach(it, arr) {
		struct predictor_model *m = NULL;
		ssize_t at;

		err = model_from_json(p, it, i, &m, e);
		if (err)
			return err;
		at = model_find(*models, *n, m->key);
		if (at >= 0) {
			model_free(m);
			return bad(e, "$.models", "models[%d] duplicates an earlier model", i);
		}
		m->last_seen_s = now_s;
		err = model_insert(models, n, cap, (size_t)(-at - 1), m);
		if (err) {
			model_free(m);
			return err;
		}
		i++;
	}
	return 0;
}

int predictor_load(struct predictor *pr, const char *state_dir, int64_t now_s)
{
	struct predictor_model **models = NULL;
	size_t n = 0, cap = 0, len = 0;
	struct ckpt_err e = { "$", "" };
	cJSON *root = NULL;
	char path[4096], *text = NULL;
	int err;

	snprintf(path, sizeof(path), "%s/%s", state_dir, PREDICTOR_CHECKPOINT_FILE);
	err = file_read_all(path, CKPT_MAX_BYTES, &text);
	len = text ? strlen(text) : 0;
	if (err == -ENOENT) {
		pr_info("predictor: no checkpoint %s, starting without history", path);
		return err;
	}
	if (err) {
		pr_warn("predictor: ignoring checkpoint %s: %s", path, strerror(-err));
		return err;
	}
	root = cJSON_ParseWithLength(text, len);
	if (!root) {
		snprintf(e.why, sizeof(e.why), "not valid JSON (truncated or corrupt) at byte %td",
			 cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() - text : (ptrdiff_t)len);
		err = -EINVAL;
		goto out;
	}
	err = models_from_json(&pr->p, root, &models, &n, &cap, now_s, &e);
	if (err)
		goto out;
	free_models(pr->models, pr->n);
	pr->models = models;
	pr->n = n;
	pr->cap = cap;
	models = NULL;
	pr_info("predictor: restored %zu models from %s", n, path);
out:
	if (err) {
		pr_warn("predictor: ignoring checkpoint %s: %s: %s", path, e.path, e.why);
		free_models(models, n);
		err = -EINVAL;
	}
	cJSON_Delete(root);
	free(text);
	return err;
}
