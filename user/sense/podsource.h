/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The pods of this node as their specs say (docs/CLASSIFICATION.md):
 * Koordinator's QoS label and priority class, and a BE pod's own
 * kubernetes.io/batch-cpu / batch-memory limits, by pod uid.
 *
 * The source is the kubelet's authenticated read endpoint, GET /pods on
 * its port (10250), the same list koordlet's states informer reads: no
 * load on the API server at any fleet size, what the kubelet actually
 * runs, and it works while the API server is down. A thread polls it with
 * the k8s.c client (service account token, TLS verified against a CA
 * file) every interval, and after a failure backs off (1 s doubling to
 * 30 s). Each good list becomes a new view that the agent's loop takes
 * between ticks; a failed poll keeps the last good view.
 */
#ifndef COLOD_PODSOURCE_H
#define COLOD_PODSOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "classify.h"

#define POD_LABEL_QOS		"koordinator.sh/qosClass"
#define POD_UID_MAX		64
#define PODSOURCE_BODY_MAX	(64u * 1024 * 1024)
#define PODSOURCE_INTERVAL_MS_DEFAULT	1000u

struct pod_meta {
	char uid[POD_UID_MAX];
	struct classify_pod_meta cls;
	long long batch_cpu_milli;	/* sum of the containers' limits; -1: none */
	long long batch_mem_bytes;	/* likewise */
	bool cpu_limit;			/* a container has limits.cpu: kubelet/runc own the quota */
	bool mem_limit;			/* a container has limits.memory */
};

/* One PodList, sorted by uid. */
struct pod_view {
	struct pod_meta *pods;
	int nr;
};

/*
 * Pure: a Kubernetes quantity ("70k", "22Gi", "500m", "1.5", "1e3") as an
 * integer count of its unit, rounded up as the API server's Value() does.
 * 0, or -EINVAL (not a quantity) / -ERANGE (beyond 2^63).
 */
int k8s_quantity_parse(const char *s, long long *out);
/*
 * Pure: a v1 PodList (JSON) into a view. Pods without a uid are skipped;
 * a body that is not a PodList is -EINVAL (logged, naming the field).
 */
int pod_view_parse(const char *json, size_t len, struct pod_view *out);
/* The pod with this uid, NULL if not in the view. */
const struct pod_meta *pod_view_find(const struct pod_view *v, const char *uid);
void pod_view_free(struct pod_view *v);

struct podsource_opts {
	const char *url;		/* https://<node>:10250/pods */
	const char *token_path;
	const char *ca_path;
	unsigned int interval_ms;	/* 0: PODSOURCE_INTERVAL_MS_DEFAULT */
};

struct podsource;

/* Start the poller. -EINVAL (logged) for a bad URL, -errno otherwise. */
int podsource_start(const struct podsource_opts *o, struct podsource **out);
/*
 * Non-blocking, from the agent's loop: when a newer good list arrived, its
 * view replaces *v (the old one is freed) and true is returned.
 */
bool podsource_take(struct podsource *p, struct pod_view *v);
/*
 * At start-up: wait up to timeout_ms for the first poll to end, so that
 * pods are classed by their spec from the first walk. True with a list.
 */
bool podsource_wait_first(struct podsource *p, unsigned int timeout_ms);
/* Since the start: good lists and failed polls; whether the last poll failed. */
void podsource_counts(struct podsource *p, uint64_t *lists, uint64_t *errors,
		      bool *failing);
/* Stops the thread (waits for an in-flight request) and frees everything. */
void podsource_stop(struct podsource *p);

#endif /* COLOD_PODSOURCE_H */
