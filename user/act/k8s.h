/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Publishing Batch and Mid headroom as node extended resources, the way
 * Koordinator's slo-controller does: kubernetes.io/batch-cpu (millicores),
 * kubernetes.io/batch-memory (bytes), kubernetes.io/mid-cpu,
 * kubernetes.io/mid-memory, in both status.capacity and status.allocatable
 * of the agent's own Node, by
 *
 *   PATCH /api/v1/nodes/<NODE_NAME>/status
 *   Content-Type: application/merge-patch+json   (RFC 7386)
 *   Authorization: Bearer <service account token>
 *
 * A JSON merge patch touches only the keys it names, so the kubelet's own
 * cpu/memory/pods entries are left as they are.
 *
 * Off unless running in a cluster: KUBERNETES_SERVICE_HOST/PORT set (the
 * kubelet sets them in every pod), NODE_NAME set (downward API in the
 * DaemonSet) and the service account token mounted.
 */
#ifndef COLOD_K8S_H
#define COLOD_K8S_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define K8S_SA_DIR_DEFAULT	"/var/run/secrets/kubernetes.io/serviceaccount"
#define K8S_PATCH_CONTENT_TYPE	"application/merge-patch+json"

#define K8S_RES_BATCH_CPU	"kubernetes.io/batch-cpu"
#define K8S_RES_BATCH_MEMORY	"kubernetes.io/batch-memory"
#define K8S_RES_MID_CPU		"kubernetes.io/mid-cpu"
#define K8S_RES_MID_MEMORY	"kubernetes.io/mid-memory"

/*
 * After a failed patch the publisher waits k8s_backoff_ns(): doubling from
 * 10 s up to 5 min (Koordinator's default updateTimeThresholdSeconds), with
 * jitter. On stop it withdraws the resources within K8S_WITHDRAW_TIMEOUT_MS.
 */
#define K8S_BACKOFF_BASE_NS		(10ULL * 1000000000ULL)
#define K8S_BACKOFF_MAX_NS		(300ULL * 1000000000ULL)
#define K8S_WITHDRAW_TIMEOUT_MS		5000L

/* Koordinator's defaults for colocation-config. */
#define K8S_DIFF_THRESHOLD_DEFAULT	0.1
#define K8S_UPDATE_TIME_DEFAULT_S	300

struct k8s_node_resources {
	uint64_t batch_cpu_milli;
	uint64_t batch_memory_bytes;
	uint64_t mid_cpu_milli;
	uint64_t mid_memory_bytes;
};

/* colocation-config: resourceDiffThreshold, updateTimeThresholdSeconds. */
struct k8s_gate {
	double diff_threshold;		/* relative change that forces an update */
	unsigned int update_time_s;	/* publish at least this often */
};

/*
 * Pure: should resources now be published, given what was last published
 * (have_last false: nothing yet) at last_ns? True when nothing was
 * published yet, when more than update_time_s passed since last_ns, or
 * when any of the four values moved by more than diff_threshold relative to
 * what was published (headroom_is_diff(), Koordinator's IsQuantityDiff: an
 * unchanged value never counts, not even 0 -> 0; anything from 0 does).
 */
bool k8s_should_publish(const struct k8s_node_resources *last, bool have_last,
			uint64_t last_ns, const struct k8s_node_resources *now,
			uint64_t now_ns, const struct k8s_gate *gate);

/*
 * Pure: the merge-patch body, {"status":{"capacity":{...},"allocatable":{...}}}
 * with every quantity a decimal string (Kubernetes quantities are strings).
 * Returns a malloc'd string, or NULL on allocation failure.
 */
char *k8s_node_status_patch(const struct k8s_node_resources *r);

/*
 * Pure: the merge patch that removes the four resources from capacity and
 * allocatable (each set to null, RFC 7386), which is what Koordinator's
 * slo-controller does to a node it resets: the keys go, not a 0.
 */
char *k8s_node_status_withdrawal(void);

/*
 * Pure: how long to wait after fails consecutive failures (0 for none):
 * d = min(K8S_BACKOFF_BASE_NS * 2^(fails-1), K8S_BACKOFF_MAX_NS), then
 * d/2 + rnd % (d/2 + 1), so in [d/2, d].
 */
uint64_t k8s_backoff_ns(unsigned int fails, uint64_t rnd);

/* Pure: is name a valid Node name (RFC 1123 subdomain, <= 253 chars)? */
bool k8s_valid_node_name(const char *name);

struct k8s_client;

/*
 * A client from the in-cluster environment: KUBERNETES_SERVICE_HOST,
 * KUBERNETES_SERVICE_PORT, NODE_NAME, sa_dir/token, sa_dir/ca.crt
 * (sa_dir NULL: K8S_SA_DIR_DEFAULT). Returns 0 with *out set; -ENODEV when
 * not in a cluster (publishing is off, not an error); other -errno (logged,
 * naming the variable or file) when the cluster environment is broken.
 */
int k8s_client_from_env(const char *sa_dir, struct k8s_client **out);

/*
 * Explicit client: api_url "https://host:port"; files read at each request.
 * node_name NULL: a client that only reads (k8s_get), e.g. the pod source.
 */
int k8s_client_new(const char *api_url, const char *node_name,
		   const char *token_path, const char *ca_path,
		   struct k8s_client **out);
void k8s_client_free(struct k8s_client *c);
const char *k8s_client_node(const struct k8s_client *c);

/*
 * Blocking PATCH of the node status (timeout 10 s). The token file is read
 * at every call: projected service account tokens are rotated by the
 * kubelet; on 401/403 it is read once more and the request repeated
 * (within the same timeout). 0 on 2xx; -EACCES on 401/403, -ENOENT on
 * 404, -EAGAIN on 409/429/5xx, -EPROTO on other statuses, -EIO on
 * transport/TLS failure or timeout.
 */
int k8s_patch_node_status(struct k8s_client *c, const struct k8s_node_resources *r);
/* The same with k8s_node_status_withdrawal(), within timeout_ms in all. */
int k8s_withdraw_node_status(struct k8s_client *c, long timeout_ms);
/* How many times the token file was read (tests, metrics). */
uint64_t k8s_client_token_reads(const struct k8s_client *c);

/*
 * Blocking GET of api_url + path (timeout 10 s), the token read as above
 * (and once more on 401/403). On 0, *body is a malloc'd, NUL-terminated copy of the response
 * (*len bytes). Errors as k8s_patch_node_status(), plus -EFBIG when the
 * body exceeds max bytes.
 */
int k8s_get(struct k8s_client *c, const char *path, size_t max, char **body,
	    size_t *len);

/*
 * A thread that does the blocking requests of client off the agent's loop
 * (the publisher, the pod source): its lock, its condition
 * (CLOCK_MONOTONIC, for timed waits) and its stop flag, read under the lock.
 */
struct k8s_worker {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	struct k8s_client *client;
};

/* Start fn(arg) in a new thread; 0 or -errno (then nothing is left). */
int k8s_worker_start(struct k8s_worker *w, struct k8s_client *client,
		     void *(*fn)(void *), void *arg);
/*
 * Set stop, wake the thread, abandon the client's request in flight (within
 * about a second: libcurl's progress callback) and wait for the thread.
 */
void k8s_worker_stop(struct k8s_worker *w);

/*
 * Publisher: a thread that owns the client and does the blocking PATCH off
 * the agent's loop. submit() is cheap and non-blocking: it applies the
 * gate against what was last accepted by the API server and, if needed,
 * hands the values to the thread (a newer submit replaces a pending one).
 * After a failure nothing is queued until k8s_backoff_ns() has passed
 * (counted in submit's clock from the failed submit), then the current
 * values go regardless of the gate.
 */
struct k8s_publisher;

int k8s_publisher_start(struct k8s_client *c, const struct k8s_gate *gate,
			struct k8s_publisher **out);
/* Returns true when the values were queued for publishing. */
bool k8s_publisher_submit(struct k8s_publisher *p,
			  const struct k8s_node_resources *r, uint64_t now_ns);
void k8s_publisher_set_gate(struct k8s_publisher *p, const struct k8s_gate *gate);
/* Counters for metrics: patches accepted and failed so far. */
void k8s_publisher_counts(struct k8s_publisher *p, uint64_t *updates,
			  uint64_t *errors);
struct k8s_publisher_stats {
	uint64_t updates, errors;
	unsigned int fails;		/* consecutive failures */
	uint64_t backoff_ns;		/* current wait after the last failure */
	uint64_t retry_ns;		/* submit clock: no patch before this */
	uint64_t token_reads;
};
void k8s_publisher_stats(struct k8s_publisher *p, struct k8s_publisher_stats *st);
/*
 * Stops the thread (abandoning a request in flight), withdraws Batch and
 * Mid from the node (k8s_withdraw_node_status(), K8S_WITHDRAW_TIMEOUT_MS)
 * and frees the client. Returns the withdrawal's result (logged).
 */
int k8s_publisher_stop(struct k8s_publisher *p);

#endif /* COLOD_K8S_H */
