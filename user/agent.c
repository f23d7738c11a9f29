// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * colod run: the epoll loop and the wiring. A tick is sense (sense.c fills
 * a snapshot), decide (decide.c, pure) and act (reconcile.c, through the
 * journal); a breach event takes the same decide and act steps at once.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <bpf/libbpf.h>
#include "agent.h"
#include "agentlock.h"
#include "cfgmap.h"
#include "cgscan.h"
#include "classify.h"
#include "clock.h"
#include "config_watch.h"
#include "decide.h"
#include "fileio.h"
#include "headroom.h"
#include "k8s.h"
#include "podsource.h"
#include "kfeatures.h"
#include "loader.h"
#include "metrics.h"
#include "log.h"
#include "node.h"
#include "publish.h"
#include "reconcile.h"
#include "record.h"
#include "sense.h"

#define TICK_MS			1000

struct agent_opts {
	const char *config_path;
	const char *state_dir;
	const char *pin_dir;
	const char *cgroup_root;
	const char *resctrl_root;
	const char *action_log;
	const char *metrics_addr;	/* "off": no endpoint */
	const char *record_path;	/* --record: the flight recorder */
	uint64_t record_max_bytes;
	unsigned int record_files;
	struct node_labels labels;
	enum attr_mode mode;
	uint32_t max_cgroups;		/* cg_stats and cg_class entries, 0: default */
	struct podsource_opts pods;	/* url NULL: no pod source */
	const char *service_account;	/* token and ca.crt for the node patch */
};

struct agent {
	struct agent_opts o;
	struct colod_config cfg;
	struct policy_params pp;
	struct policy_state ps;
	struct headroom_params hp;
	struct publisher pub;
	struct colod_bpf *bpf;
	const struct colod_maps *maps;
	struct cg_ctx cg;
	struct journal *j;
	struct cgscan *scan;
	struct track track;
	struct sensor sense;
	struct decide_params dp;
	struct decision dec;
	struct reconciler rec;
	struct ring_buffer *rb;
	struct config_watch watch;
	struct metrics_server *metrics;
	struct k8s_publisher *k8s;
	struct recorder *rec_full;	/* --record PATH */
	struct recorder *rec_last;	/* <state>/decisions.jsonl, for colod explain */
	struct record_src rsrc;
	struct record_headroom last_hr;
	uint64_t capacity_milli;
	uint64_t nr_reloads, nr_reload_errors, nr_events, nr_ticks;
	int epfd, sigfd, timerfd, walkfd;
	bool cg_changed;		/* the kernel reported cgroups made or removed */
	bool stop;
};

/* ---- configuration ------------------------------------------------------ */

static void config_apply(struct agent *a)
{
	cfgmap_policy(&a->cfg, &a->pp);
	cfgmap_headroom(&a->cfg, &a->hp);
	if (a->cfg.own.node_cpu_capacity_milli)
		a->capacity_milli = a->cfg.own.node_cpu_capacity_milli;
	a->sense.capacity_milli = a->capacity_milli;
}

/* What is in force, for people and tools: <state-dir>/config.json. */
static void config_record(struct agent *a)
{
	char path[PATH_MAX];
	char *json = config_to_json(&a->cfg);

	if (!json)
		return;
	snprintf(path, sizeof(path), "%s/config.json", a->o.state_dir);
	/* informational only: a failure leaves the previous record, unreported */
	file_write_atomic(path, json, strlen(json), 0644);
	free(json);
}

static int config_reload(struct agent *a, bool first)
{
	struct config_errors errs;
	struct colod_config next;
	struct policy_params pp;
	char why[256];
	int err;

	config_errors_init(&errs);
	err = config_load(a->o.config_path, &a->o.labels, &next, &errs);
	config_errors_print(&errs, stderr);
	/* the keys are valid one by one; the policy checks how they relate */
	if (!err) {
		cfgmap_policy(&next, &pp);
		err = policy_params_check(&pp, why, sizeof(why));
		if (err) {
			errs.nr_errors++;
			pr_err("%s: %s", a->o.config_path, why);
		}
	}
	if (err) {
		a->nr_reload_errors++;
		pr_err("%s: configuration rejected (%d errors)%s", a->o.config_path,
		       errs.nr_errors, first ? "" : "; the last good one stays in force");
		return err;
	}
	a->cfg = next;
	a->nr_reloads++;
	config_apply(a);
	config_record(a);
	if (a->sense.track)
		sense_config_changed(&a->sense);
	pr_info("configuration %s from %s", first ? "loaded" : "reloaded",
		a->o.config_path);
	return 0;
}

/* ---- the loop's handlers ------------------------------------------------ */

static const char *path_of(struct agent *a, uint64_t id)
{
	struct tracked *t = track_find(&a->track, id);

	return t ? t->path : "?";
}

static int on_breach(void *ctx, void *data, size_t len)
{
	const struct colod_breach_event *ev = data;
	struct agent *a = ctx;
	struct policy_breach b = {
		.ls_cgroup_id = ev->cgroup_id,
		.latency_ns = ev->latency_ns,
		.now_ms = mono_ns() / 1000000,
	};
	char trigger[2 * PATH_MAX + 64];
	struct policy_state before;
	int ret;

	if (len < sizeof(*ev))
		return 0;
	a->nr_events++;
	if (!a->pp.latency_feedback || !track_count_top(&a->track, COLOD_CLASS_BE))
		return 0;
	if (!sense_breach(&a->sense, ev->cgroup_id, mono_ns(), &b))
		return 0;
	before = a->ps;
	ret = decide_breach(&a->dp, &a->ps, &b, &a->track, &a->dec);
	/*
	 * A breach the policy did not even count (an LS whose cuts did not
	 * help, short of its stronger evidence) is not recorded: such an LS
	 * sends events all the time, and each record stands on its own state
	 * before, so replay loses nothing.
	 */
	if (ret <= 0 && a->ps.last_breach_ms == before.last_breach_ms)
		return 0;
	recorder_breach(a->rec_full, &a->rsrc, &before, &a->ps, &b, ret, &a->dec);
	recorder_breach(a->rec_last, &a->rsrc, &before, &a->ps, &b, ret, &a->dec);
	if (ret <= 0)
		return 0;
	snprintf(trigger, sizeof(trigger), "%s:%lluus(after %s)", path_of(a, ev->cgroup_id),
		 (unsigned long long)(ev->latency_ns / 1000), path_of(a, ev->be_cgroup_id));
	reconcile(&a->rec, &a->pp, &a->track, &a->dec, trigger);
	return 0;
}

/* sense -> decide -> act, then the headroom is published */
static void on_tick(struct agent *a)
{
	struct policy_state before = a->ps;
	struct snapshot snap;

	a->nr_ticks++;
	sense_tick(&a->sense, &snap);
	snap.config_gen = a->nr_reloads;
	if (decide_tick(&a->dp, &a->ps, &snap, &a->track, &a->dec))
		pr_warn("tick %llu: no decision (out of memory)", (unsigned long long)a->nr_ticks);
	else
		reconcile(&a->rec, &a->pp, &a->track, &a->dec, NULL);
	sense_class_flags(&a->sense);
	publish_tick(&a->pub, &a->hp, &a->cfg, &a->ps, &a->track, &snap);
	a->last_hr = (struct record_headroom) { a->pub.last_in, a->pub.last_r };
	recorder_tick(a->rec_full, &a->rsrc, &before, &a->ps, &snap, &a->dec, &a->last_hr);
	recorder_tick(a->rec_last, &a->rsrc, &before, &a->ps, &snap, &a->dec, &a->last_hr);
}

/* Between ticks (a reload): every knob for the state as it is, at once. */
static void reconcile_now(struct agent *a)
{
	if (decide_knobs(&a->dp, &a->ps, &a->track, false, &a->dec))
		return;
	reconcile(&a->rec, &a->pp, &a->track, &a->dec, NULL);
	sense_class_flags(&a->sense);
}

static int on_cgroup_event(void *ctx, void *data, size_t len)
{
	struct agent *a = ctx;

	a->cg_changed = true;
	return 0;
}

/*
 * Cgroups made or removed: a pod gets its class and knobs now, and its
 * originals back as its last container goes, not at the next tick.
 */
static void on_cgroup_changes(struct agent *a)
{
	struct itimerspec its = {};
	uint64_t wait;

	if (!a->cg_changed)
		return;
	wait = sense_cgroups_changed(&a->sense);
	if (!wait) {
		a->cg_changed = false;
		reconcile_now(a);
		return;
	}
	/* a walk ran moments ago: the next one when the window ends */
	its.it_value.tv_sec = wait / 1000000000;
	its.it_value.tv_nsec = wait % 1000000000;
	timerfd_settime(a->walkfd, 0, &its, NULL);
}

/* A changed configuration: in force at once, every knob for it. */
static void reload_now(struct agent *a)
{
	if (!config_reload(a, false))
		reconcile_now(a);
	metrics_invalidate(a->metrics);
}

/*
 * SIGHUP reloads the configuration, as daemons do (and the only way to
 * reload where inotify cannot watch the path); SIGTERM and SIGINT stop.
 */
static void on_signal(struct agent *a)
{
	struct signalfd_siginfo si;

	if (read(a->sigfd, &si, sizeof(si)) != sizeof(si))
		return;
	if (si.ssi_signo == SIGHUP) {
		pr_info("SIGHUP: reloading %s", a->o.config_path);
		reload_now(a);
		return;
	}
	pr_info("signal %u: stopping", si.ssi_signo);
	a->stop = true;
}

/* ---- /metrics (rendered by this thread when scraped: metrics_serve_pending) */

/* Drift put back and knobs released, per knob file. */
static void render_knobs(struct strbuf *b, const struct journal *j)
{
	struct metrics_kind_count drift[32], rel[32];
	uint64_t d, r;
	const char *name;
	int n;

	for (n = 0; n < 32 && !journal_knob_counts(j, n, &name, &d, &r); n++) {
		drift[n] = (struct metrics_kind_count) { .kind = name, .count = d };
		rel[n] = (struct metrics_kind_count) { .kind = name, .count = r };
	}
	metrics_render_counter_by(b, "colod_knob_drift_total",
				  "Knobs found changed by someone else and put back.",
				  "knob", drift, n);
	metrics_render_counter_by(b, "colod_knob_released_total",
				  "Knobs given their original back (class left, feature off).",
				  "knob", rel, n);
}

/* colod_cuts_total{verdict}: latency cuts by what they did for their LS. */
static void render_cuts(struct strbuf *b, const struct policy_state *ps)
{
	struct metrics_kind_count v[POLICY_V_NR];
	int i;

	for (i = 0; i < POLICY_V_NR; i++)
		v[i] = (struct metrics_kind_count) {
			.kind = policy_verdict_name(i), .count = ps->nr_judged[i],
		};
	metrics_render_counter_by(b, "colod_cuts_total",
				  "BE CPU cuts for LS latency, by verdict: its LS got better "
				  "(helped) or not (no_effect) over the window after them.",
				  "verdict", v, POLICY_V_NR);
}

static void render(struct strbuf *b, void *ctx)
{
	struct agent *a = ctx;
	struct metrics_agent_counters c = {
		.config_reloads = a->nr_reloads,
		.config_errors = a->nr_reload_errors,
		.breach_events = a->nr_events,
		.breach_chance = a->sense.nr_breach_chance,
		.ticks = a->nr_ticks,
		.knob_reads = journal_reads(a->j),
		.cgroups = (uint64_t)a->track.nr,
	};
	struct metrics_kind_count kinds[POLICY_ACTION_NR];
	uint64_t cnt[COLOD_CNT_NR] = {};
	struct metrics_cgroup *cgs;
	int i;

	if (!maps_read_counters(a->maps, cnt)) {
		c.bpf_map_full = cnt[COLOD_CNT_STATS_FULL];
		c.bpf_untracked_dropped = cnt[COLOD_CNT_STATS_UNTRACKED];
		c.ringbuf_drops = cnt[COLOD_CNT_RINGBUF_DROP];
		c.breaches_rate_limited = cnt[COLOD_CNT_RATE_LIMITED];
	}
	if (a->k8s)
		k8s_publisher_counts(a->k8s, &c.k8s_updates, &c.k8s_errors);
	if (a->sense.pods) {
		bool failing;

		podsource_counts(a->sense.pods, &c.pod_source_lists,
				 &c.pod_source_errors, &failing);
		c.pod_source_fallback = a->sense.nr_pod_fallback;
	}
	metrics_render_agent(b, &c);
	metrics_render_headroom(b, &a->pub.published);
	for (i = 0; i < POLICY_ACTION_NR; i++)
		kinds[i] = (struct metrics_kind_count) {
			.kind = policy_action_name(i), .count = a->rec.nr_actions[i],
		};
	metrics_render_actions(b, kinds, POLICY_ACTION_NR);
	render_cuts(b, &a->ps);
	render_knobs(b, a->j);
	cgs = calloc(a->track.nr + 1, sizeof(*cgs));
	if (!cgs)
		return;
	for (i = 0; i < a->track.nr; i++)
		cgs[i] = (struct metrics_cgroup) {
			.path = a->track.v[i].path,
			.cls = class_label(a->track.v[i].cls),
			.cnt = &a->track.v[i].prev,
			.runq_buckets = a->track.v[i].ls ? a->track.v[i].ls->runq_buckets : NULL,
		};
	metrics_render_cgroups(b, cgs, a->track.nr);
	free(cgs);
}

/* In a pod with a service account and NODE_NAME: publish to the node. */
static void k8s_start(struct agent *a)
{
	struct k8s_gate gate = {
		.diff_threshold = a->hp.resource_diff_threshold,
		.update_time_s = a->hp.update_time_threshold_seconds,
	};
	struct k8s_client *c;

	if (!getenv("KUBERNETES_SERVICE_HOST"))
		return;
	if (k8s_client_from_env(a->o.service_account, &c)) {
		pr_warn("in a cluster but without NODE_NAME or service account: "
			"Batch and Mid are not published to the node");
		return;
	}
	if (k8s_publisher_start(c, &gate, &a->k8s)) {
		k8s_client_free(c);
		return;
	}
	a->pub.k8s = a->k8s;
	pr_info("publishing Batch and Mid to node %s", k8s_client_node(c));
}

/* ---- lifecycle ---------------------------------------------------------- */

/* What this kernel offers decides the levers: one warning per missing one. */
static void probe_caps(struct agent *a)
{
	struct colod_features f;
	struct colod_plan plan;

	/* probe_caps() runs once the programs are loaded */
	if (features_probe(&f, a->o.cgroup_root, loader_choices(a->bpf))) {
		a->rec.caps.cgroup_v2 = a->cg.mode == CG_V2;
		return;
	}
	features_log(&f);
	features_plan(&f, &plan);
	a->rec.caps.cgroup_v2 = plan.cpu_v2_knobs;
	a->rec.caps.has_cpu_idle = plan.cpu_idle;
	a->rec.caps.has_memory_qos = plan.memory_high;
	a->rec.caps.has_sched_slice = plan.sched_slice;
}

static int epoll_add(int epfd, int fd, uint32_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = tag };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

enum { EV_RING, EV_TICK, EV_SIGNAL, EV_CONFIG, EV_WALK, EV_METRICS };

static int loop_setup(struct agent *a)
{
	struct itimerspec its = {
		.it_interval = { .tv_sec = TICK_MS / 1000 },
		.it_value = { .tv_sec = TICK_MS / 1000 },
	};
	sigset_t mask;
	int err;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	a->sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
	a->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	a->walkfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	a->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (a->sigfd < 0 || a->timerfd < 0 || a->walkfd < 0 || a->epfd < 0)
		return -errno;
	timerfd_settime(a->timerfd, 0, &its, NULL);
	a->rb = ring_buffer__new(a->maps->events_fd, on_breach, a, NULL);
	if (!a->rb)
		return -errno;
	err = ring_buffer__add(a->rb, a->maps->cg_events_fd, on_cgroup_event, a);
	if (err)
		return err;
	if ((err = epoll_add(a->epfd, ring_buffer__epoll_fd(a->rb), EV_RING)) ||
	    (err = epoll_add(a->epfd, a->timerfd, EV_TICK)) ||
	    (err = epoll_add(a->epfd, a->walkfd, EV_WALK)) ||
	    (err = epoll_add(a->epfd, a->sigfd, EV_SIGNAL)))
		return err;
	/* a scrape asks for a body: rendered here, where the state is */
	if (a->metrics &&
	    (err = epoll_add(a->epfd, metrics_wake_fd(a->metrics), EV_METRICS)))
		return err;
	if (!config_watch_open(&a->watch, a->o.config_path))
		return epoll_add(a->epfd, a->watch.fd, EV_CONFIG);
	pr_warn("%s: cannot watch for changes; send SIGHUP to reload", a->o.config_path);
	return 0;
}

static void loop_run(struct agent *a)
{
	struct epoll_event evs[8];
	uint64_t expirations;
	int i, n;

	while (!a->stop) {
		n = epoll_wait(a->epfd, evs, 8, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			pr_err("epoll_wait: %s", strerror(errno));
			break;
		}
		for (i = 0; i < n; i++) {
			switch (evs[i].data.u32) {
			case EV_RING:
				ring_buffer__consume(a->rb);
				on_cgroup_changes(a);
				break;
			case EV_WALK:
				if (read(a->walkfd, &expirations, sizeof(expirations)) > 0)
					on_cgroup_changes(a);
				break;
			case EV_TICK:
				if (read(a->timerfd, &expirations, sizeof(expirations)) <= 0)
					break;
				on_tick(a);
				metrics_invalidate(a->metrics);
				metrics_heartbeat(mono_ns());
				break;
			case EV_METRICS:
				metrics_serve_pending(a->metrics);
				break;
			case EV_SIGNAL:
				on_signal(a);
				break;
			case EV_CONFIG:
				if (config_watch_drain(&a->watch) > 0)
					reload_now(a);
				break;
			}
		}
	}
}

/*
 * The flight recorder (--record) and the agent's own short history of
 * decisions for `colod explain`. Only --record failing stops the start.
 */
static int recorders_start(struct agent *a)
{
	char path[PATH_MAX];

	a->rsrc = (struct record_src) {
		.cfg = &a->cfg, .caps = &a->rec.caps, .gen = &a->nr_reloads, .track = &a->track,
	};
	snprintf(path, sizeof(path), "%s/" RECORD_DECISIONS_FILE, a->o.state_dir);
	a->rec_last = recorder_open(path, RECORD_DECISIONS_BYTES, RECORD_DECISIONS_FILES, false);
	if (!a->rec_last)
		pr_warn("%s: %s; colod explain has no history", path, strerror(errno));
	if (!a->o.record_path)
		return 0;
	a->rec_full = recorder_open(a->o.record_path, a->o.record_max_bytes,
				    a->o.record_files, true);
	if (!a->rec_full) {
		pr_err("--record %s: %s", a->o.record_path, strerror(errno));
		return -errno;
	}
	return 0;
}

/* Put back what a previous run left; the journal stays open and locked. */
static void restore_left(struct agent *a)
{
	int n = journal_count(a->j);

	if (!n)
		return;
	if (journal_restore_all(a->j))
		pr_err("%s: some originals a previous run left could not be restored",
		       a->o.state_dir);
	else
		pr_info("restored %d original values a previous run left", n);
}

static int agent_start(struct agent *a)
{
	struct loader_opts lo = {
		.pin_dir = a->o.pin_dir,
		.cgroup_root = a->o.cgroup_root,
		.mode = a->o.mode,
		.max_cgroups = a->o.max_cgroups,
	};
	int err;

	/* one agent per pin directory, before anything is touched */
	err = agent_lock(a->o.pin_dir);
	if (err)
		return err;
	a->capacity_milli = node_cpu_capacity_milli();
	/*
	 * The journal first: what a crashed run left in place is put back
	 * before a bad configuration can stop this one, so a crash loop under
	 * a DaemonSet never leaves BE throttled.
	 */
	a->j = journal_open(a->o.state_dir);
	if (!a->j) {
		err = -errno;
		pr_err("%s: cannot open the journal: %s", a->o.state_dir, strerror(errno));
		return err;
	}
	err = config_reload(a, true);
	if (err) {
		restore_left(a);
		return err;
	}
	lo.breach_min_interval_ns = a->cfg.own.breach_min_interval_ms * 1000000;
	err = cg_detect(&a->cg, a->o.cgroup_root);
	if (err) {
		pr_err("%s: no cgroup hierarchy found: %s", a->o.cgroup_root, strerror(-err));
		return err;
	}
	err = loader_open(&lo, &a->bpf);
	if (err)
		return err;
	a->maps = loader_maps(a->bpf);
	a->scan = cgscan_new(loader_hier_root(a->bpf), a->cfg.own.rules, a->cfg.own.nr_rules);
	if (!a->scan)
		return -ENOMEM;
	cgscan_set_kubelet_root(a->scan, a->cfg.own.kubelet_cgroup_root);
	a->rec.cg = &a->cg;
	a->rec.j = a->j;
	a->dp = (struct decide_params) { .p = &a->pp, .caps = &a->rec.caps };
	probe_caps(a);
	a->rec.resctrl_root = a->o.resctrl_root;
	if (resctrl_detect(a->o.resctrl_root, &a->rec.resctrl))
		a->rec.resctrl.mounted = false;
	a->rec.caps.has_resctrl = a->rec.resctrl.mounted;
	if (a->o.action_log)
		a->rec.action_log = fopen(a->o.action_log, "ae");
	err = recorders_start(a);
	if (err)
		return err;
	policy_init(&a->ps, &a->pp, a->capacity_milli);
	err = publish_start(&a->pub, a->maps, a->o.state_dir);
	if (err)
		return err;
	a->sense = (struct sensor) {
		.cg = &a->cg, .maps = a->maps, .scan = a->scan, .track = &a->track,
		.cfg = &a->cfg, .capacity_milli = a->capacity_milli,
	};
	if (a->o.pods.url) {
		err = podsource_start(&a->o.pods, &a->sense.pods);
		if (err)
			return err;
	}
	sense_start(&a->sense);
	/* what a previous run left is reconciled now, not at the first tick */
	reconcile_now(a);
	k8s_start(a);
	if (strcmp(a->o.metrics_addr, "off")) {
		a->metrics = metrics_start(a->o.metrics_addr, render, a);
		if (!a->metrics) {
			pr_err("--metrics-addr %s: cannot serve metrics there "
			       "(use another address or 'off')", a->o.metrics_addr);
			return -EADDRINUSE;
		}
	}
	err = loop_setup(a);
	metrics_set_ready(!err);
	return err;
}

static void agent_stop(struct agent *a)
{
	metrics_stop(a->metrics);
	k8s_publisher_stop(a->k8s);
	sense_stop(&a->sense);
	if (a->j) {
		int n = journal_count(a->j);

		if (journal_restore_all(a->j))
			pr_err("%s: some originals could not be restored; run "
			       "'colod restore --state-dir %s'", a->o.state_dir, a->o.state_dir);
		else if (n)
			pr_info("restored %d original values", n);
		journal_close(a->j);
	}
	publish_stop(&a->pub);
	ring_buffer__free(a->rb);
	decision_free(&a->dec);
	config_watch_close(&a->watch);
	cgscan_free(a->scan);
	track_free(&a->track);
	loader_close(a->bpf);
	if (a->rec.action_log)
		fclose(a->rec.action_log);
	recorder_close(a->rec_full);
	recorder_close(a->rec_last);
	if (a->epfd > 0)
		close(a->epfd);
	if (a->sigfd > 0)
		close(a->sigfd);
	if (a->timerfd > 0)
		close(a->timerfd);
	if (a->walkfd > 0)
		close(a->walkfd);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: colod run --config PATH [--state-dir DIR] [--pin-dir DIR]\n"
		"                 [--cgroup-root DIR] [--cgroup-mode auto|v1|v2]\n"
		"                 [--resctrl-root DIR] [--max-cgroups N]\n"
		"                 [--node-labels FILE|K=V,...] [--action-log FILE]\n"
		"                 [--metrics-addr HOST:PORT|off]\n"
		"                 [--record PATH [--record-max-bytes N] [--record-files N]]\n"
		"                 [--pod-source https://NODE:10250/pods [--pod-source-token FILE]\n"
		"                  [--pod-source-ca FILE] [--pod-source-interval-ms MS]]\n"
		"                 [--service-account DIR]\n"
		"PATH is a directory of ConfigMap keys or one JSON file holding them.\n"
		"Defaults: --state-dir " JOURNAL_STATE_DIR_DEFAULT ", --pin-dir "
		COLOD_PIN_DIR_DEFAULT ", --metrics-addr " METRICS_ADDR_DEFAULT
		",\n--service-account " K8S_SA_DIR_DEFAULT " (token, ca.crt for the node patch)"
		", --max-cgroups %d\n(cgroups with statistics; past 3/4 of them only LS and BE ones get some).\nSIGTERM or SIGINT stop it and restore\n"
		"every value it changed; SIGHUP reloads the configuration.\n", COLOD_MAX_CGROUPS_DEFAULT);
}

/* A whole number in [min, max] for option opt (--pod-source-interval-ms: 100 ms to 1 h). */
static int parse_count(const char *opt, const char *arg, uint64_t min, uint64_t max,
		       uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(arg, &end, 10);
	if (errno || *end || end == arg || arg[0] == '-' || *out < min || *out > max) {
		pr_err("%s: '%s' is not a whole number from %llu to %llu", opt, arg,
		       (unsigned long long)min, (unsigned long long)max);
		return -EINVAL;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct agent_opts *o)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "pin-dir", required_argument, NULL, 'p' },
		{ "cgroup-root", required_argument, NULL, 'r' },
		{ "cgroup-mode", required_argument, NULL, 'm' },
		{ "node-labels", required_argument, NULL, 'n' },
		{ "action-log", required_argument, NULL, 'a' },
		{ "metrics-addr", required_argument, NULL, 'M' },
		{ "resctrl-root", required_argument, NULL, 'R' },
		{ "record", required_argument, NULL, 'w' },
		{ "record-max-bytes", required_argument, NULL, 'B' },
		{ "record-files", required_argument, NULL, 'N' },
		{ "max-cgroups", required_argument, NULL, 'X' },
		{ "pod-source", required_argument, NULL, 'P' },
		{ "pod-source-token", required_argument, NULL, 'T' },
		{ "pod-source-ca", required_argument, NULL, 'C' },
		{ "pod-source-interval-ms", required_argument, NULL, 'I' },
		{ "service-account", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	uint64_t v;
	int opt;

	*o = (struct agent_opts) {
		.state_dir = JOURNAL_STATE_DIR_DEFAULT,
		.pin_dir = COLOD_PIN_DIR_DEFAULT,
		.cgroup_root = CG_ROOT_DEFAULT,
		.resctrl_root = RESCTRL_ROOT_DEFAULT,
		.metrics_addr = METRICS_ADDR_DEFAULT,
		.record_max_bytes = RECORD_MAX_BYTES_DEFAULT,
		.record_files = RECORD_FILES_DEFAULT,
		.service_account = K8S_SA_DIR_DEFAULT,
		.pods = {
			.token_path = K8S_SA_DIR_DEFAULT "/token",
			.ca_path = K8S_SA_DIR_DEFAULT "/ca.crt",
		},
	};
	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:s:p:r:m:n:a:M:R:w:B:N:X:P:T:C:I:S:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': o->config_path = optarg; break;
		case 's': o->state_dir = optarg; break;
		case 'p': o->pin_dir = optarg; break;
		case 'r': o->cgroup_root = optarg; break;
		case 'a': o->action_log = optarg; break;
		case 'M': o->metrics_addr = optarg; break;
		case 'R': o->resctrl_root = optarg; break;
		case 'w': o->record_path = optarg; break;
		case 'B':
			if (parse_count("--record-max-bytes", optarg, 1, UINT64_MAX, &v))
				return -EINVAL;
			o->record_max_bytes = v;
			break;
		case 'N':
			if (parse_count("--record-files", optarg, 1, 100, &v))
				return -EINVAL;
			o->record_files = (unsigned int)v;
			break;
		case 'X':
			/* 16 and up: below, the last quarter kept for tracked cgroups is empty */
			if (parse_count("--max-cgroups", optarg, 16, 1000000, &v))
				return -EINVAL;
			o->max_cgroups = (uint32_t)v;
			break;
		case 'P': o->pods.url = optarg; break;
		case 'T': o->pods.token_path = optarg; break;
		case 'C': o->pods.ca_path = optarg; break;
		case 'S': o->service_account = optarg; break;
		case 'I':
			if (parse_count("--pod-source-interval-ms", optarg, 100, 3600000, &v))
				return -EINVAL;
			o->pods.interval_ms = (unsigned int)v;
			break;
		case 'm':
			if (attr_mode_parse(optarg, &o->mode)) {
				pr_err("--cgroup-mode: '%s' is not one of auto, v1, v2", optarg);
				return -EINVAL;
			}
			break;
		case 'n':
			if (node_labels_parse(optarg, &o->labels)) {
				pr_err("--node-labels: cannot parse '%s'", optarg);
				return -EINVAL;
			}
			break;
		default:
			usage();
			return opt == 'h' ? 1 : -EINVAL;
		}
	}
	if (!o->config_path) {
		pr_err("--config PATH is required");
		usage();
		return -EINVAL;
	}
	return 0;
}

static void block_stop_signals(void)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
}

int cmd_run(int argc, char **argv)
{
	struct agent *a = calloc(1, sizeof(*a));
	int err;

	if (!a)
		return 1;
	a->epfd = a->sigfd = a->timerfd = a->walkfd = a->watch.fd = -1;
	/*
	 * Before any thread exists (metrics, k8s): stop signals reach only the
	 * loop's signalfd, so that a stop always restores the originals.
	 */
	block_stop_signals();
	err = parse_args(argc, argv, &a->o);
	if (err) {
		free(a);
		return err > 0 ? 0 : 2;
	}
	err = agent_start(a);
	if (!err) {
		pr_info("running: %d cgroups tracked, pinned maps in %s", a->track.nr, a->o.pin_dir);
		loop_run(a);
	}
	agent_stop(a);
	free(a);
	return err ? 1 : 0;
}
