/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Long-term reservation of LS usage: Koordinator's peak predictor
 * (pkg/koordlet/prediction) in C. Per model (the LS class, the system, and
 * each LS cgroup) two decaying histograms, CPU (half-life 12 h) and memory
 * (24 h), each trained once a minute with the p90 of that minute's samples.
 * The peak is p95 (CPU) / p98 (memory) times (100 + safety margin) / 100;
 * reclaimable = LS requests - peak feeds Mid (headroom.h).
 *
 * Times are wall-clock Unix seconds (CLOCK_REALTIME), passed in, so that a
 * checkpoint keeps its meaning across restarts and reboots and tests run
 * days of history in milliseconds. Not thread-safe: one agent loop.
 */
#ifndef COLOD_PREDICTOR_H
#define COLOD_PREDICTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "headroom.h"

/*
 * Decaying histogram with exponential buckets (Koordinator's
 * histogram.NewDecayingHistogram over NewExponentialHistogramOptions): bucket
 * b starts at first * (ratio^b - 1) / (ratio - 1). A sample at time t weighs
 * weight * 2^((t - ref) / half_life): newer samples weigh more, which is the
 * same as decaying the old ones; ref moves forward (rescaling all weights)
 * before the exponent passes 100.
 */
struct dhist_opts {
	double first;		/* size of the first bucket */
	double ratio;		/* growth of each next bucket */
	double epsilon;		/* weights below this count as empty */
	uint32_t nbuckets;
};

/* CPU: 25 milli to 1024 cores; memory: 5 MiB to 2 TiB; 5% growth. */
extern const struct dhist_opts dhist_cpu_opts;
extern const struct dhist_opts dhist_memory_opts;

/*
 * The weights are kept for the buckets from the lowest to the highest one
 * that holds any, not for all 158 (CPU) or 205 (memory): a pod's p90 over
 * a day spans a few dozen, and a node has thousands of pods.
 */
struct dhist {
	const struct dhist_opts *o;
	uint32_t half_life_s;
	int64_t ref_s;
	double total;
	int min_b, max_b;	/* non-empty range; min_b > max_b when empty */
	int lo, n;		/* w[i] is the weight of bucket lo + i */
	float *w;
};

void dhist_init(struct dhist *h, const struct dhist_opts *o, uint32_t half_life_s);
void dhist_free(struct dhist *h);
int dhist_bucket(const struct dhist_opts *o, double value);
double dhist_bucket_start(const struct dhist_opts *o, int bucket);
void dhist_add(struct dhist *h, double value, double weight, int64_t t_s);
bool dhist_empty(const struct dhist *h);
/* The end of the bucket holding quantile q (0..1]: an upper bound within
 * one bucket (5%) of the exact value; 0 when empty. */
double dhist_percentile(const struct dhist *h, double q);

/* What a model describes. */
enum predictor_kind {
	PREDICTOR_KEY_CLASS = 1,	/* id = enum colod_class (LS, SYSTEM) */
	PREDICTOR_KEY_CGROUP = 2,	/* id = cgroup id (kernfs inode) */
};

struct predictor_key {
	uint32_t kind;
	uint64_t id;
};

struct predictor_params {
	uint32_t cpu_half_life_s;		/* 12 h */
	uint32_t memory_half_life_s;		/* 24 h */
	uint32_t cpu_percentile;		/* 95 */
	uint32_t memory_percentile;		/* 98 */
	uint32_t safety_margin_percent;		/* 10 */
	uint32_t training_interval_s;		/* 60 */
	uint32_t train_percentile;		/* 90: of each interval's samples */
	uint32_t cold_start_s;			/* 24 h: cgroup models younger
						 * than this are not trusted */
	uint32_t expiration_s;			/* 30 min without samples: drop */
	uint32_t max_models;			/* 4096 */
};

void predictor_params_default(struct predictor_params *p);

struct predictor;

struct predictor *predictor_new(const struct predictor_params *p);
void predictor_free(struct predictor *pr);
size_t predictor_count(const struct predictor *pr);

/*
 * One sample of a model's usage at now_s (the agent calls this every tick
 * for the LS class sum, the system usage and each LS cgroup). A sample in a
 * new training interval first trains the model with the p90 of the previous
 * interval. -ENOSPC when max_models would be exceeded.
 */
int predictor_observe(struct predictor *pr, struct predictor_key key,
		      uint64_t cpu_milli, uint64_t memory_bytes, int64_t now_s);

/* Train every model whose interval has ended; drop models that had no
 * sample for expiration_s. Call once per tick. */
void predictor_tick(struct predictor *pr, int64_t now_s);

/* The model's q-quantile (0..1], no margin. -ENOENT if no trained model. */
int predictor_percentile(const struct predictor *pr, struct predictor_key key,
			 double q, uint64_t *cpu_milli, uint64_t *memory_bytes);

/* Peak: p95 CPU, p98 memory, times (100 + margin) / 100. -ENOENT if none. */
int predictor_peak(const struct predictor *pr, struct predictor_key key,
		   uint64_t *cpu_milli, uint64_t *memory_bytes);

/* First-seen time of a model (for cold start); -ENOENT if none. */
int predictor_first_seen(const struct predictor *pr, struct predictor_key key,
			 int64_t *first_s);

/* One LS cgroup with its requests, indexed by enum headroom_res. */
struct predictor_ls_item {
	uint64_t cgroup_id;
	uint64_t request[HEADROOM_NR_RES];
};

struct predictor_reclaim {
	uint64_t reclaimable[HEADROOM_NR_RES];	/* -> mid_reclaimable */
	uint64_t peak[HEADROOM_NR_RES];		/* predicted LS (+system) peak */
	uint32_t predicted;	/* cgroups with a usable model */
	uint32_t unpredicted;	/* cold or unknown: counted at request */
	bool class_ready;	/* LS and SYSTEM class models trained */
};

/*
 * Koordinator's ProdReclaimablePredictor: the minimum of
 *  - per cgroup: min(capacity - sum peak_i, sum max(request_i - peak_i, 0)),
 *    cold or unknown cgroups counting 0 reclaimable;
 *  - per class: min(capacity - P, max(sum request - P, 0)) with
 *    P = (p(LS) + p(SYSTEM)) * (100 + margin) / 100;
 * and 0 when a class model is missing. capacity indexed by headroom_res.
 */
void predictor_reclaimable(const struct predictor *pr,
			   const struct predictor_ls_item *items, size_t n,
			   const uint64_t capacity[HEADROOM_NR_RES], int64_t now_s,
			   struct predictor_reclaim *out);

#define PREDICTOR_CHECKPOINT_FILE	"predictor.json"
#define PREDICTOR_CHECKPOINT_VERSION	1

/*
 * Write all trained models to state_dir/predictor.json atomically (temp
 * file, fsync, rename, fsync of the directory). 0 or -errno.
 */
int predictor_save(const struct predictor *pr, const char *state_dir, int64_t now_s);

/*
 * Replace the models with those of state_dir/predictor.json. A missing file
 * returns -ENOENT quietly; a corrupt, truncated or foreign one is ignored
 * with a warning naming the file, the JSON path and the value, returns
 * -EINVAL and leaves the models as they were. Loaded models count as seen at
 * now_s, so they do not expire during the first expiration_s.
 */
int predictor_load(struct predictor *pr, const char *state_dir, int64_t now_s);

#endif /* COLOD_PREDICTOR_H */
