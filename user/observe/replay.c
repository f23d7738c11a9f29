// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * colod replay: the decide step again over a recording (record.h).
 *
 * Without --config every record is decided again from its own recorded
 * inputs (state before, snapshot, track, configuration): the decision and
 * the state after must be the recorded ones, and Batch/Mid from the
 * recorded headroom inputs too. The first difference is printed with its
 * inputs and the exit code is 1.
 *
 * With --config DIR (what if): the same recorded node under another
 * configuration. The policy state is carried from one record to the next
 * (it starts as recorded at the first one), so a different threshold
 * moves the allowance for the rest of the recording. The recording is an
 * open loop: BE's usage is what it was under the recorded allowance.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cfgmap.h"
#include "log.h"
#include "record.h"

#define WHATIF_ROWS_MAX	40

struct whatif_sums {
	uint64_t allowance, batch_cpu, mid_cpu, batch_mem, mid_mem;
	uint64_t cuts, evictions;
};

struct replay {
	FILE *out;
	const char *path;
	unsigned long line;
	bool whatif;
	bool have_config;
	struct policy_caps caps;
	struct colod_config cfg;
	struct policy_params pp, wpp;
	struct headroom_params hp, whp;
	struct track track;		/* the last tick's, for breaches */
	bool have_track;
	struct policy_state ws;		/* what if: carried over */
	bool ws_set;
	struct decision d;
	uint64_t t0_ns, now_ns;
	uint64_t nr_ticks, nr_breaches, nr_skipped;
	struct whatif_sums rec, wi;	/* what if: summed over ticks */
	uint64_t last_rec, last_wi;
	uint64_t wi_tick_cuts, rec_tick_cuts;
	int rows;
	char why[512];
};

/* ---- comparing ---------------------------------------------------------- */

static bool knob_differs(const struct knob *a, const struct knob *b)
{
	return a->cg != b->cg || a->kind != b->kind || a->value != b->value ||
	       a->period_us != b->period_us;
}

static bool act_differs(const struct policy_action *a, const struct policy_action *b)
{
	return a->kind != b->kind || a->reason != b->reason || a->old_value != b->old_value ||
	       a->new_value != b->new_value || a->bound != b->bound ||
	       a->measured != b->measured || a->unit != b->unit ||
	       a->trigger_cgroup_id != b->trigger_cgroup_id;
}

static const char *cg_path(const struct track *t, int i)
{
	return i >= 0 && i < t->nr ? t->v[i].path : "?";
}

static void fmt_act(const struct policy_action *a, char *buf, size_t len)
{
	snprintf(buf, len, "%s %s %" PRIu64 " -> %" PRIu64 " bound %" PRIu64
		 " measured %" PRIu64, policy_action_name(a->kind),
		 policy_reason_name(a->reason), a->old_value, a->new_value, a->bound,
		 a->measured);
}

/* First difference between the recorded decision r and the replayed d. */
static bool decision_diff(const struct track *t, const struct decision *r,
			  const struct decision *d, char *why, size_t len)
{
	char x[160], y[160];
	int i;

	if (r->nr_acts != d->nr_acts) {
		snprintf(why, len, "actions: recorded %d, replayed %d", r->nr_acts, d->nr_acts);
		return true;
	}
	for (i = 0; i < r->nr_acts; i++) {
		if (!act_differs(&r->acts[i], &d->acts[i]))
			continue;
		fmt_act(&r->acts[i], x, sizeof(x));
		fmt_act(&d->acts[i], y, sizeof(y));
		snprintf(why, len, "action %d: recorded %s, replayed %s", i, x, y);
		return true;
	}
	if (r->nr_knobs != d->nr_knobs) {
		snprintf(why, len, "knobs: recorded %d, replayed %d", r->nr_knobs, d->nr_knobs);
		return true;
	}
	for (i = 0; i < r->nr_knobs; i++) {
		if (!knob_differs(&r->knobs[i], &d->knobs[i]))
			continue;
		snprintf(why, len, "knob %d (%s on %s): recorded %lld (period %" PRIu64
			 "), replayed %s on %s = %lld (period %" PRIu64 ")", i,
			 knob_kind_name(r->knobs[i].kind), cg_path(t, r->knobs[i].cg),
			 r->knobs[i].value, r->knobs[i].period_us,
			 knob_kind_name(d->knobs[i].kind), cg_path(t, d->knobs[i].cg),
			 d->knobs[i].value, d->knobs[i].period_us);
		return true;
	}
	if (r->nr_evict != d->nr_evict || memcmp(r->evict, d->evict, r->nr_evict * sizeof(int))) {
		snprintf(why, len, "evictions: recorded %d (first %s), replayed %d (first %s)",
			 r->nr_evict, r->nr_evict ? cg_path(t, r->evict[0]) : "-",
			 d->nr_evict, d->nr_evict ? cg_path(t, d->evict[0]) : "-");
		return true;
	}
	return false;
}

#define STATE_FIELD(f)	{ #f, offsetof(struct policy_state, f), sizeof(((struct policy_state *)0)->f) }

static const struct {
	const char *name;
	size_t off, size;
} state_fields[] = {
	STATE_FIELD(allowed_milli), STATE_FIELD(cpu_limited), STATE_FIELD(cpus),
	STATE_FIELD(bound_milli), STATE_FIELD(last_breach_ms), STATE_FIELD(last_md_ms),
	STATE_FIELD(last_cut_ms), STATE_FIELD(last_grow_ms), STATE_FIELD(last_tick_ms),
	STATE_FIELD(breach_answered), STATE_FIELD(be_mem_high),
	STATE_FIELD(mem_stuck_ticks), STATE_FIELD(last_mem_pressure_ms),
	STATE_FIELD(last_mem_change_ms), STATE_FIELD(last_evict_ms),
	STATE_FIELD(win_len), STATE_FIELD(judge.cgid), STATE_FIELD(judge.last_cut_ms),
	STATE_FIELD(judge.pre_milli), STATE_FIELD(judge.nr_cuts),
	STATE_FIELD(judge.before_ppm), STATE_FIELD(judge.after_ms),
	STATE_FIELD(judge.after_breaches), STATE_FIELD(judge.after_samples),
	STATE_FIELD(judge.after_p99_milli), STATE_FIELD(nr_verdicts),
	STATE_FIELD(verdict.at_ms), STATE_FIELD(verdict.cgid), STATE_FIELD(verdict.verdict),
	STATE_FIELD(verdict.nr_cuts), STATE_FIELD(verdict.after_ppm),
	STATE_FIELD(verdict.need_ppm), STATE_FIELD(nr_judged[0]), STATE_FIELD(nr_judged[1]),
};

static uint64_t field_u64(const struct policy_state *s, size_t off, size_t size)
{
	const char *p = (const char *)s + off;
	uint64_t v = 0;

	switch (size) {
	case 1: v = *(const uint8_t *)p; break;
	case 4: v = *(const uint32_t *)p; break;
	default: v = *(const uint64_t *)p; break;
	}
	return v;
}

static bool state_diff(const struct policy_state *r, const struct policy_state *s,
		       char *why, size_t len)
{
	size_t i;
	uint32_t k;

	for (i = 0; i < sizeof(state_fields) / sizeof(state_fields[0]); i++) {
		uint64_t a = field_u64(r, state_fields[i].off, state_fields[i].size);
		uint64_t b = field_u64(s, state_fields[i].off, state_fields[i].size);

		if (a == b)
			continue;
		snprintf(why, len, "policy state after, %s: recorded %" PRIu64 ", replayed %"
			 PRIu64, state_fields[i].name, a, b);
		return true;
	}
	for (k = 0; k < POLICY_DISTRUST_MAX; k++) {
		const struct policy_distrust *a = &r->distrust[k], *b = &s->distrust[k];

		if (a->cgid == b->cgid && a->need_ppm == b->need_ppm && a->until_ms == b->until_ms)
			continue;
		snprintf(why, len, "policy state after, distrust slot %u: recorded cgroup %" PRIu64
			 " needing %u ppm until %" PRIu64 " ms, replayed %" PRIu64 " needing %u ppm"
			 " until %" PRIu64 " ms", k, a->cgid, a->need_ppm, a->until_ms, b->cgid,
			 b->need_ppm, b->until_ms);
		return true;
	}
	for (k = 0; k < r->win_len; k++) {
		const struct policy_bound_sample *a = &r->win[(r->win_head + k) % POLICY_WIN_MAX];
		const struct policy_bound_sample *b = &s->win[(s->win_head + k) % POLICY_WIN_MAX];

		if (a->t_ms == b->t_ms && a->milli == b->milli)
			continue;
		snprintf(why, len, "policy state after, bound window sample %u: recorded %"
			 PRIu64 "m at %" PRIu64 " ms, replayed %" PRIu64 "m at %" PRIu64 " ms",
			 k, a->milli, a->t_ms, b->milli, b->t_ms);
		return true;
	}
	return false;
}

static bool headroom_diff(const struct headroom_params *hp, const struct record_headroom *hr,
			  struct headroom_result *out, char *why, size_t len)
{
	static const char *const res[HEADROOM_NR_RES] = { "cpu", "memory" };
	int i;

	headroom_compute(hp, &hr->in, out);
	for (i = 0; i < HEADROOM_NR_RES; i++) {
		if (out->res[i].batch != hr->out.res[i].batch) {
			snprintf(why, len, "Batch %s: recorded %" PRIu64 ", replayed %" PRIu64,
				 res[i], hr->out.res[i].batch, out->res[i].batch);
			return true;
		}
		if (out->res[i].mid != hr->out.res[i].mid) {
			snprintf(why, len, "Mid %s: recorded %" PRIu64 ", replayed %" PRIu64,
				 res[i], hr->out.res[i].mid, out->res[i].mid);
			return true;
		}
	}
	return false;
}

/* ---- printing ----------------------------------------------------------- */

static const char *ms_ago(uint64_t now_ms, uint64_t t_ms, char *buf, size_t len)
{
	if (t_ms == POLICY_NEVER)
		snprintf(buf, len, "never");
	else
		snprintf(buf, len, "%.1f s ago", (double)(now_ms - t_ms) / 1000);
	return buf;
}

static void print_state(FILE *f, const struct policy_state *s, uint64_t now_ms)
{
	char a[32], b[32], c[32];

	fprintf(f, "  state before: BE allowance %" PRIu64 "m (%s), suppress bound %" PRIu64
		"m, last cut %s, last growth %s, last breach %s, BE memory.high %s\n",
		s->allowed_milli, s->cpu_limited ? "in force" : "knob not set yet",
		s->bound_milli, ms_ago(now_ms, s->last_cut_ms, a, sizeof(a)),
		ms_ago(now_ms, s->last_grow_ms, b, sizeof(b)),
		ms_ago(now_ms, s->last_breach_ms, c, sizeof(c)),
		s->be_mem_high == POLICY_UNLIMITED ? "max" : "set");
}

static void print_inputs(struct replay *rp, const struct record *r)
{
	const struct snapshot *s = &r->snap;
	const struct class_sums *ls = &s->sum[COLOD_CLASS_LS], *be = &s->sum[COLOD_CLASS_BE];
	uint64_t now_ms = r->type == RECORD_TICK ? s->now_ns / 1000000 : r->breach.now_ms;
	int i;

	fprintf(rp->out, "inputs (%s, configuration generation %" PRIu64 "):\n",
		record_type_name(r->type), r->gen);
	if (r->type == RECORD_BREACH) {
		fprintf(rp->out, "  breach: LS cgroup id %" PRIu64 " waited %" PRIu64 " us\n",
			r->breach.ls_cgroup_id, r->breach.latency_ns / 1000);
	} else {
		fprintf(rp->out, "  node: capacity %" PRIu64 "m, busy %" PRIu64 "m, memory %"
			PRIu64 " of %" PRIu64 " bytes\n", s->capacity_milli, s->node_busy_milli,
			s->node.mem_used, s->node.mem_total);
		fprintf(rp->out, "  LS: cpu %" PRIu64 "m, BE-blamed breaches %" PRIu64
			", worst p99/target %.2fx, reclaim stall %" PRIu64 " ms\n",
			ls->cpu_milli, ls->breaches, ls->worst_p99_milli / 1000.0,
			ls->direct_reclaim_ns / 1000000);
		fprintf(rp->out, "  BE: cpu %" PRIu64 "m, memory %" PRIu64 " bytes\n",
			be->cpu_milli, s->mem_used[COLOD_CLASS_BE]);
	}
	for (i = 0; i < rp->track.nr; i++) {
		const struct tracked *c = &rp->track.v[i];

		if (!c->top)
			continue;
		fprintf(rp->out, "  %s %s: cpu %" PRIu64 "m, memory %" PRIu64 " bytes, p99 %.0f us\n",
			class_name(c->cls), c->path, c->tree_cpu_milli, c->mem_bytes, c->p99_us);
	}
	print_state(rp->out, &r->before, now_ms);
}

static void report_diff(struct replay *rp, const struct record *r)
{
	uint64_t t = r->type == RECORD_TICK ? r->snap.now_ns : r->breach.now_ms * 1000000;

	fprintf(rp->out, "%s:%lu: %s at %.3f s: the decision differs: %s\n", rp->path,
		rp->line, record_type_name(r->type),
		t >= rp->t0_ns ? (double)(t - rp->t0_ns) / 1e9 : 0.0, rp->why);
	print_inputs(rp, r);
}

/* ---- replaying ---------------------------------------------------------- */

static int on_config(struct replay *rp, struct record *r)
{
	struct policy_params pp;
	struct headroom_params hp;

	if (record_config_params(r->config_json, &rp->cfg, &pp, &hp, rp->why, sizeof(rp->why))) {
		fprintf(stderr, "%s:%lu: recorded configuration: %s\n", rp->path, rp->line, rp->why);
		return -EINVAL;
	}
	rp->pp = pp;
	rp->hp = hp;
	rp->caps = r->caps;
	rp->have_config = true;
	return 0;
}

/* A breach cut, or a tick's: actions that lowered the BE CPU allowance. */
static int cuts_of(const struct decision *d)
{
	int i, n = 0;

	for (i = 0; i < d->nr_acts; i++)
		n += (d->acts[i].kind == POLICY_BE_CPU_QUOTA ||
		      d->acts[i].kind == POLICY_BE_CPUSET_CPUS) &&
		     d->acts[i].new_value < d->acts[i].old_value;
	return n;
}

static int check(struct replay *rp, struct record *r, int ret)
{
	if (ret < 0) {
		snprintf(rp->why, sizeof(rp->why), "decide failed: %s", strerror(-ret));
		return 1;
	}
	if (r->type == RECORD_BREACH && ret != r->ret) {
		snprintf(rp->why, sizeof(rp->why), "decide_breach returned %d, recorded %d",
			 ret, r->ret);
		return 1;
	}
	if (decision_diff(&rp->track, &r->dec, &rp->d, rp->why, sizeof(rp->why)))
		return 1;
	return 0;
}

static void whatif_row(struct replay *rp, const struct record *r,
		       const struct headroom_result *wh)
{
	const struct headroom_res_result *rc = r->hr.out.res, *wc = wh->res;
	uint64_t rec = r->after.allowed_milli, wi = rp->ws.allowed_milli;
	bool differs = rec != wi || rp->rec_tick_cuts != rp->wi_tick_cuts ||
		       r->dec.nr_evict != rp->d.nr_evict ||
		       rc[HEADROOM_CPU].batch != wc[HEADROOM_CPU].batch ||
		       rc[HEADROOM_CPU].mid != wc[HEADROOM_CPU].mid;

	if (!differs)
		return;
	if (rp->rows == WHATIF_ROWS_MAX)
		fprintf(rp->out, "  ... (further differing ticks left out)\n");
	if (rp->rows++ >= WHATIF_ROWS_MAX)
		return;
	if (rp->rows == 1)
		fprintf(rp->out, "%9s  %19s  %9s  %9s  %21s  %21s\n", "t (s)",
			"BE allowance (m)", "BE cuts", "evictions", "Batch CPU (m)", "Mid CPU (m)");
	fprintf(rp->out, "%9.1f  %9" PRIu64 " %9" PRIu64 "  %4" PRIu64 " %4" PRIu64
		"  %4d %4d  %10" PRIu64 " %10" PRIu64 "  %10" PRIu64 " %10" PRIu64 "\n",
		(double)(r->snap.now_ns - rp->t0_ns) / 1e9, rec, wi, rp->rec_tick_cuts,
		rp->wi_tick_cuts, r->dec.nr_evict, rp->d.nr_evict, rc[HEADROOM_CPU].batch,
		wc[HEADROOM_CPU].batch, rc[HEADROOM_CPU].mid, wc[HEADROOM_CPU].mid);
}

static void whatif_sum(struct whatif_sums *s, uint64_t allowance,
		       const struct headroom_result *h, int cuts, int evictions)
{
	s->allowance += allowance;
	s->batch_cpu += h->res[HEADROOM_CPU].batch;
	s->mid_cpu += h->res[HEADROOM_CPU].mid;
	s->batch_mem += h->res[HEADROOM_MEMORY].batch;
	s->mid_mem += h->res[HEADROOM_MEMORY].mid;
	s->cuts += (uint64_t)cuts;
	s->evictions += (uint64_t)evictions;
}

static int whatif_tick(struct replay *rp, struct record *r)
{
	struct decide_params dp = { .p = &rp->wpp, .caps = &rp->caps };
	struct headroom_result wh = {};
	int err;

	err = decide_tick(&dp, &rp->ws, &r->snap, &rp->track, &rp->d);
	if (err)
		return err;
	if (r->has_headroom)
		headroom_compute(&rp->whp, &r->hr.in, &wh);
	rp->rec_tick_cuts += (uint64_t)cuts_of(&r->dec);
	rp->wi_tick_cuts += (uint64_t)cuts_of(&rp->d);
	whatif_row(rp, r, &wh);
	whatif_sum(&rp->rec, r->after.allowed_milli, &r->hr.out, 0, r->dec.nr_evict);
	whatif_sum(&rp->wi, rp->ws.allowed_milli, &wh, 0, rp->d.nr_evict);
	rp->rec.cuts += rp->rec_tick_cuts;
	rp->wi.cuts += rp->wi_tick_cuts;
	rp->rec_tick_cuts = rp->wi_tick_cuts = 0;
	rp->last_rec = r->after.allowed_milli;
	rp->last_wi = rp->ws.allowed_milli;
	return 0;
}

static int on_tick(struct replay *rp, struct record *r)
{
	struct decide_params dp = { .p = &rp->pp, .caps = &rp->caps };
	struct policy_state s = r->before;
	struct headroom_result h;
	int err;

	if (!r->has_track) {
		fprintf(stderr, "%s:%lu: a tick without its per-cgroup inputs (a recording "
			"of `colod run --record`, not decisions.jsonl, can be replayed)\n",
			rp->path, rp->line);
		return -EINVAL;
	}
	track_free(&rp->track);
	rp->track = r->track;
	memset(&r->track, 0, sizeof(r->track));
	rp->have_track = true;
	if (!rp->t0_ns)
		rp->t0_ns = r->snap.now_ns;
	rp->nr_ticks++;
	if (rp->whatif) {
		if (!rp->ws_set)
			rp->ws = r->before;
		rp->ws_set = true;
		return whatif_tick(rp, r);
	}
	err = decide_tick(&dp, &s, &r->snap, &rp->track, &rp->d);
	if (check(rp, r, err) || state_diff(&r->after, &s, rp->why, sizeof(rp->why)) ||
	    (r->has_headroom && headroom_diff(&rp->hp, &r->hr, &h, rp->why, sizeof(rp->why))))
		return 1;
	return 0;
}

static int on_breach(struct replay *rp, struct record *r)
{
	struct decide_params dp = { .p = rp->whatif ? &rp->wpp : &rp->pp, .caps = &rp->caps };
	struct policy_state s = r->before;
	int ret;

	if (!rp->have_track) {
		rp->nr_skipped++;	/* before this file's first tick: no track */
		return 0;
	}
	rp->nr_breaches++;
	if (rp->whatif) {
		if (!rp->ws_set)
			rp->ws = r->before;
		rp->ws_set = true;
		ret = decide_breach(&dp, &rp->ws, &r->breach, &rp->track, &rp->d);
		rp->rec_tick_cuts += (uint64_t)cuts_of(&r->dec);
		rp->wi_tick_cuts += (uint64_t)(ret > 0 ? cuts_of(&rp->d) : 0);
		return ret < 0 ? ret : 0;
	}
	ret = decide_breach(&dp, &s, &r->breach, &rp->track, &rp->d);
	if (check(rp, r, ret) || state_diff(&r->after, &s, rp->why, sizeof(rp->why)))
		return 1;
	return 0;
}

static int one_line(struct replay *rp, const char *line)
{
	struct record r;
	int err;

	if (record_parse(line, &r, rp->why, sizeof(rp->why))) {
		fprintf(stderr, "%s:%lu: %s\n", rp->path, rp->line, rp->why);
		return -EINVAL;
	}
	if (r.type == RECORD_CONFIG) {
		err = on_config(rp, &r);
	} else if (!rp->have_config) {
		fprintf(stderr, "%s:%lu: a %s before any configuration record\n", rp->path,
			rp->line, record_type_name(r.type));
		err = -EINVAL;
	} else {
		err = r.type == RECORD_TICK ? on_tick(rp, &r) : on_breach(rp, &r);
		if (err > 0)
			report_diff(rp, &r);
	}
	record_free(&r);
	return err;
}

static void whatif_summary(struct replay *rp)
{
	uint64_t n = rp->nr_ticks ? rp->nr_ticks : 1;
	const struct whatif_sums *a = &rp->rec, *b = &rp->wi;

	if (!rp->rows)
		fprintf(rp->out, "no tick decided differently\n");
	fprintf(rp->out, "over %" PRIu64 " ticks and %" PRIu64 " breach events, recorded vs what-if:\n",
		rp->nr_ticks, rp->nr_breaches);
	fprintf(rp->out, "BE allowance, mean: recorded %" PRIu64 "m, what-if %" PRIu64 "m\n",
		a->allowance / n, b->allowance / n);
	fprintf(rp->out, "BE allowance, last: recorded %" PRIu64 "m, what-if %" PRIu64 "m\n",
		rp->last_rec, rp->last_wi);
	fprintf(rp->out, "BE cuts: recorded %" PRIu64 ", what-if %" PRIu64 "\n", a->cuts, b->cuts);
	fprintf(rp->out, "evictions: recorded %" PRIu64 ", what-if %" PRIu64 "\n",
		a->evictions, b->evictions);
	fprintf(rp->out, "Batch CPU, mean: recorded %" PRIu64 "m, what-if %" PRIu64 "m\n",
		a->batch_cpu / n, b->batch_cpu / n);
	fprintf(rp->out, "Mid CPU, mean: recorded %" PRIu64 "m, what-if %" PRIu64 "m\n",
		a->mid_cpu / n, b->mid_cpu / n);
	fprintf(rp->out, "Batch memory, mean: recorded %" PRIu64 " bytes, what-if %" PRIu64 " bytes\n",
		a->batch_mem / n, b->batch_mem / n);
	fprintf(rp->out, "Mid memory, mean: recorded %" PRIu64 " bytes, what-if %" PRIu64 " bytes\n",
		a->mid_mem / n, b->mid_mem / n);
}

static int whatif_load(struct replay *rp, const char *dir, const struct node_labels *labels)
{
	struct config_errors errs;
	struct colod_config c;
	int err;

	config_errors_init(&errs);
	err = config_load(dir, labels, &c, &errs);
	config_errors_print(&errs, stderr);
	if (err)
		return err;
	cfgmap_policy(&c, &rp->wpp);
	cfgmap_headroom(&c, &rp->whp);
	err = policy_params_check(&rp->wpp, rp->why, sizeof(rp->why));
	if (err)
		fprintf(stderr, "%s: %s\n", dir, rp->why);
	rp->whatif = true;
	return err;
}

int replay_file(const char *path, const char *whatif_dir, const struct node_labels *labels,
		FILE *out)
{
	struct replay *rp = calloc(1, sizeof(*rp));
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;
	int err = 0;

	if (!rp || !f) {
		err = -errno;
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		goto out;
	}
	rp->out = out;
	rp->path = path;
	if (whatif_dir && (err = whatif_load(rp, whatif_dir, labels)))
		goto out;
	while (!err && getline(&line, &cap, f) > 0) {
		rp->line++;
		if (line[0] != '\n')
			err = one_line(rp, line);
	}
	if (err)
		goto out;
	if (rp->whatif)
		whatif_summary(rp);
	else
		fprintf(out, "%s: %" PRIu64 " ticks and %" PRIu64 " breach events replayed "
			"(%" PRIu64 " breaches before the first tick skipped): every decision "
			"is the same\n", path, rp->nr_ticks, rp->nr_breaches, rp->nr_skipped);
out:
	free(line);
	if (f)
		fclose(f);
	if (rp) {
		track_free(&rp->track);
		decision_free(&rp->d);
	}
	free(rp);
	return err;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: colod replay PATH [--config DIR|FILE] [--node-labels FILE|K=V,...]\n"
		"Decide again over a recording of `colod run --record PATH`: exit 0 when every\n"
		"decision is the same, 1 at the first difference (printed with its inputs).\n"
		"--config: what if the recorded node had run under this configuration;\n"
		"prints BE's allowance, cuts, evictions, Batch and Mid side by side.\n");
}

int cmd_replay(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "node-labels", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct node_labels labels = {};
	const char *cfg = NULL;
	int opt, err;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:n:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': cfg = optarg; break;
		case 'n':
			if (node_labels_parse(optarg, &labels)) {
				fprintf(stderr, "--node-labels: cannot parse '%s'\n", optarg);
				return 2;
			}
			break;
		default:
			usage();
			return opt == 'h' ? 0 : 2;
		}
	}
	if (optind != argc - 1) {
		usage();
		return 2;
	}
	err = replay_file(argv[optind], cfg, &labels, stdout);
	return err < 0 ? 2 : err;
}
