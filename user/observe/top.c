// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * colod top: a live view of a running agent, one row per cgroup, read from
 * the maps it pinned (so it needs no connection to the agent and works
 * while the agent is busy). Every refresh reads the stats, takes
 * the difference to the previous refresh and shows rates over that
 * interval: CPU in % of one core, run-queue p99 from the histogram delta,
 * reclaim stall in ms per second, and the CFS throttle state read from
 * cgroupfs. Plain ANSI escapes; -b prints plain frames for scripts.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "cgroup.h"
#include "cgscan.h"
#include "classify.h"
#include "clock.h"
#include "hist.h"
#include "log.h"
#include "maps.h"

enum top_sort { SORT_CPU, SORT_P99, SORT_RECLAIM, SORT_RUNQ, SORT_NAME, SORT_CLASS };

static const char *const sort_names[] = {
	[SORT_CPU] = "cpu", [SORT_P99] = "p99", [SORT_RECLAIM] = "reclaim",
	[SORT_RUNQ] = "runq", [SORT_NAME] = "name", [SORT_CLASS] = "class",
};

struct top_sample {
	uint64_t id;
	struct colod_cg_stats st;
};

struct top_row {
	uint64_t id;
	const char *path;		/* points into the path table */
	int cls;			/* enum colod_class, -1: not classified */
	int src;			/* enum class_source, -1: not classified */
	double cpu_pct;			/* of one core */
	double p99_us;
	bool has_hist;			/* its waits are in a histogram (LS, on an agent's maps) */
	double runq_per_s;		/* latency samples (wakeups) per second */
	double reclaim_ms_per_s;
	char throttle[32];
};

struct top {
	struct colod_maps maps;
	struct cg_ctx cg;
	bool have_cg;
	struct top_sample *prev, *cur;
	size_t nprev, ncur, cap_cur, cap_prev;
	struct cgscan *scan;		/* cgroup id -> path; NULL without cgroups */
	struct top_row *rows;
	size_t nrows;
	uint64_t prev_ns, cur_ns;
	/* cpu.stat nr_throttled of the previous refresh, by id */
	uint64_t *thr_id, *thr_val;
	size_t nthr, cap_thr;
	enum top_sort sort;
	bool batch;
	const char *pin_dir;
};

static volatile sig_atomic_t top_quit;

static void on_signal(int sig)
{
	top_quit = 1;
}

static int cmp_sample(const void *a, const void *b)
{
	uint64_t x = ((const struct top_sample *)a)->id;
	uint64_t y = ((const struct top_sample *)b)->id;

	return x < y ? -1 : x > y;
}

/* ---- sampling ---- */

static int collect_one(uint64_t cgid, const struct colod_cg_stats *s, void *ctx)
{
	struct top *t = ctx;

	if (t->ncur == t->cap_cur) {
		size_t cap = t->cap_cur ? t->cap_cur * 2 : 64;
		struct top_sample *p = realloc(t->cur, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		t->cur = p;
		t->cap_cur = cap;
	}
	t->cur[t->ncur].id = cgid;
	t->cur[t->ncur].st = *s;
	t->ncur++;
	return 0;
}

static int sample(struct top *t)
{
	int err;

	t->ncur = 0;
	err = maps_for_each_stats(&t->maps, collect_one, t);
	if (err)
		return err;
	t->cur_ns = mono_ns();
	qsort(t->cur, t->ncur, sizeof(*t->cur), cmp_sample);
	return 0;
}

static void swap_samples(struct top *t)
{
	struct top_sample *p = t->prev;
	size_t cap = t->cap_prev;

	t->prev = t->cur;
	t->nprev = t->ncur;
	t->cap_prev = t->cap_cur;
	t->cur = p;
	t->cap_cur = cap;
	t->ncur = 0;
	t->prev_ns = t->cur_ns;
}

/* ---- cgroup id -> path ---- */

/* Rewalk the hierarchy: ids are inode numbers, cheap to collect by readdir. */
static void refresh_paths(struct top *t)
{
	if (t->scan)
		cgscan_run(t->scan);
}

static const char *path_of(struct top *t, uint64_t id)
{
	const struct cgscan_entry *e = t->scan ? cgscan_find(t->scan, id) : NULL;

	return e ? e->path : NULL;
}

/* ---- rows ---- */

/* The class and where it came from (directory, rule, label, priority). */
static int class_of(struct top *t, uint64_t id, int *src)
{
	struct colod_cg_class c;

	*src = -1;
	if (bpf_map_lookup_elem(t->maps.class_fd, &id, &c))
		return -1;
	*src = (int)COLOD_CG_SRC(c.flags);
	return c.cls < COLOD_CLASS_NR ? (int)c.cls : -1;
}

static bool throttled_more(struct top *t, uint64_t id, uint64_t now)
{
	size_t i;

	for (i = 0; i < t->nthr; i++) {
		if (t->thr_id[i] == id) {
			bool more = now > t->thr_val[i];

			t->thr_val[i] = now;
			return more;
		}
	}
	if (t->nthr == t->cap_thr) {
		size_t cap = t->cap_thr ? t->cap_thr * 2 : 64;
		uint64_t *a = realloc(t->thr_id, cap * sizeof(*a));
		uint64_t *b;

		if (!a)
			return false;
		t->thr_id = a;
		b = realloc(t->thr_val, cap * sizeof(*b));
		if (!b)
			return false;
		t->thr_val = b;
		t->cap_thr = cap;
	}
	t->thr_id[t->nthr] = id;
	t->thr_val[t->nthr++] = now;
	return false;
}

/*
 * "quota 20%" (of one core, CFS bandwidth), "idle" (cpu.idle = 1), "-"
 * otherwise; a trailing '*' when the cgroup was throttled in the interval.
 */
static void throttle_state(struct top *t, struct top_row *r)
{
	struct cg_cpu_stat st = { 0 };
	long long quota = -1;
	uint64_t period = 0;
	char path[PATH_MAX];
	bool idle = false, hit;
	size_t n = 0;
	FILE *f;
	int v;

	if (!r->path || !t->have_cg) {
		snprintf(r->throttle, sizeof(r->throttle), "?");
		return;
	}
	cg_read_cpu_quota(&t->cg, r->path, &quota, &period);
	if (!cg_path(path, sizeof(path), t->cg.cpu, r->path, "cpu.idle")) {
		f = fopen(path, "re");
		if (f) {
			idle = fscanf(f, "%d", &v) == 1 && v == 1;
			fclose(f);
		}
	}
	hit = !cg_read_cpu_stat(&t->cg, r->path, &st) &&
	      throttled_more(t, r->id, st.nr_throttled);
	if (quota >= 0 && period)
		n += (size_t)snprintf(r->throttle, sizeof(r->throttle), "quota %lld%%",
				      quota * 100 / (long long)period);
	if (idle)
		n += (size_t)snprintf(r->throttle + n, sizeof(r->throttle) - n, "%sidle",
				      n ? " " : "");
	if (!n)
		n = (size_t)snprintf(r->throttle, sizeof(r->throttle), "-");
	if (hit && n < sizeof(r->throttle) - 2)
		snprintf(r->throttle + n, sizeof(r->throttle) - n, " *");
}

static void make_rows(struct top *t)
{
	double dt = (double)(t->cur_ns - t->prev_ns) / 1e9;
	struct colod_cg_stats *d;
	size_t i;

	if (dt <= 0)
		dt = 1e-9;
	free(t->rows);
	t->nrows = 0;
	t->rows = calloc(t->ncur ? t->ncur : 1, sizeof(*t->rows));
	d = malloc(sizeof(*d));
	if (!t->rows || !d) {
		free(d);
		return;
	}
	for (i = 0; i < t->ncur; i++) {
		const struct top_sample *cur = &t->cur[i], *prev;
		struct top_row *r = &t->rows[t->nrows++];

		prev = bsearch(cur, t->prev, t->nprev, sizeof(*prev), cmp_sample);
		if (prev)
			cg_stats_delta(&cur->st, &prev->st, d);
		else
			*d = cur->st;	/* new since the last refresh */
		r->id = cur->id;
		r->path = path_of(t, cur->id);
		r->cls = class_of(t, cur->id, &r->src);
		r->cpu_pct = (double)d->cnt.cpu_ns / 1e9 / dt * 100.0;
		r->p99_us = hist_percentile_us(d->runq_hist, COLOD_HIST_SLOTS, 99.0);
		r->has_hist = cg_stats_has_hist(d);
		r->runq_per_s = (double)d->cnt.runq_count / dt;
		r->reclaim_ms_per_s = (double)(d->cnt.direct_reclaim_ns +
					       d->cnt.memcg_reclaim_ns) / 1e6 / dt;
	}
	free(d);
}

static enum top_sort sort_key;

static int cmp_double_desc(double a, double b)
{
	return a > b ? -1 : a < b;
}

static int cmp_row(const void *a, const void *b)
{
	const struct top_row *x = a, *y = b;
	int c = 0;

	switch (sort_key) {
	case SORT_CPU:
		c = cmp_double_desc(x->cpu_pct, y->cpu_pct);
		break;
	case SORT_P99:
		c = cmp_double_desc(x->p99_us, y->p99_us);
		break;
	case SORT_RECLAIM:
		c = cmp_double_desc(x->reclaim_ms_per_s, y->reclaim_ms_per_s);
		break;
	case SORT_RUNQ:
		c = cmp_double_desc(x->runq_per_s, y->runq_per_s);
		break;
	case SORT_CLASS:
		c = (x->cls > y->cls) - (x->cls < y->cls);
		break;
	case SORT_NAME:
		break;
	}
	if (!c)
		c = strcmp(x->path ? x->path : "~", y->path ? y->path : "~");
	if (!c)
		c = (x->id > y->id) - (x->id < y->id);
	return c;
}

static void sort_rows(struct top *t)
{
	sort_key = t->sort;
	qsort(t->rows, t->nrows, sizeof(*t->rows), cmp_row);
}

/* ---- drawing ---- */

static void term_size(int *rows, int *cols)
{
	struct winsize ws;

	*rows = 24;
	*cols = 100;
	if (!ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ws.ws_row && ws.ws_col) {
		*rows = ws.ws_row;
		*cols = ws.ws_col;
	}
}

static void human_bytes(char *buf, size_t len, uint64_t b)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)b;
	int u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, "%.1f%s", v, unit[u]);
}

static void draw(struct top *t)
{
	uint64_t cnt[COLOD_CNT_NR] = { 0 };
	struct colod_headroom h = { 0 };
	char bm[16], mm[16], line[512], idbuf[32], p99[24];
	char safe[4 * PATH_MAX];	/* a path with every byte escaped */
	int rows, cols, max_rows;
	size_t i;

	term_size(&rows, &cols);
	if (t->batch) {
		rows = INT_MAX;
		cols = 200;
	}
	if (!t->batch)
		fputs("\033[H\033[2J", stdout);
	maps_read_headroom(&t->maps, &h);
	maps_read_counters(&t->maps, cnt);
	human_bytes(bm, sizeof(bm), h.batch_memory_bytes);
	human_bytes(mm, sizeof(mm), h.mid_memory_bytes);
	printf("colod top - %s - %zu cgroups - sort: %s   "
	       "[c]pu [l]atency [r]eclaim [w]akeups [n]ame [k]class [q]uit\n",
	       t->pin_dir, t->nrows, sort_names[t->sort]);
	printf("batch %" PRIu64 "m %s  mid %" PRIu64 "m %s  be-quota %" PRIu64
	       "m  map-full %" PRIu64 "  untracked-dropped %" PRIu64
	       "  ringbuf-drops %" PRIu64 "\n\n",
	       (uint64_t)h.batch_cpu_milli, bm, (uint64_t)h.mid_cpu_milli, mm,
	       (uint64_t)h.be_quota_milli, cnt[COLOD_CNT_STATS_FULL],
	       cnt[COLOD_CNT_STATS_UNTRACKED], cnt[COLOD_CNT_RINGBUF_DROP]);
	printf("%s%-6s %-5s %7s %9s %9s %10s %-14s %s%s\n", t->batch ? "" : "\033[7m",
	       "CLASS", "BY", "CPU%", "P99(us)", "WAKEUP/s", "RECLAIM", "THROTTLE",
	       "CGROUP", t->batch ? "" : "\033[0m");
	max_rows = rows - 5;
	for (i = 0; i < t->nrows && (int)i < max_rows; i++) {
		struct top_row *r = &t->rows[i];
		const char *p = r->path;
		int room, plen;

		throttle_state(t, r);
		if (!p) {
			snprintf(idbuf, sizeof(idbuf), "id:%" PRIu64, r->id);
			p = idbuf;
		} else {
			/* anyone may name a cgroup: no ESC sequence reaches the terminal */
			log_escape(p, safe, sizeof(safe));
			p = safe;
		}
		/* waits without a histogram: the kernel keeps one for LS only */
		if (r->has_hist)
			snprintf(p99, sizeof(p99), "%.0f", r->p99_us);
		else
			snprintf(p99, sizeof(p99), "-");
		snprintf(line, sizeof(line), "%-6s %-5s %7.1f %9s %9.0f %8.1fms %-14s ",
			 class_label(r->cls), class_source_name(r->src), r->cpu_pct, p99, r->runq_per_s,
			 r->reclaim_ms_per_s, r->throttle);
		/* keep the tail of long paths: the pod and container are there */
		room = cols - (int)strlen(line) - 1;
		plen = (int)strlen(p);
		if (room > 3 && plen > room)
			printf("%s...%s\n", line, p + plen - room + 3);
		else
			printf("%s%s\n", line, p);
	}
	fflush(stdout);
}

/* ---- terminal and keys ---- */

static struct termios saved_tio;
static bool tio_saved;

static void term_enter(void)
{
	struct termios tio;

	if (isatty(STDIN_FILENO) && !tcgetattr(STDIN_FILENO, &saved_tio)) {
		tio = saved_tio;
		tio.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
		tio.c_cc[VMIN] = 0;
		tio.c_cc[VTIME] = 0;
		tcsetattr(STDIN_FILENO, TCSANOW, &tio);
		tio_saved = true;
	}
	/* alternate screen, cursor hidden: the shell's screen comes back at q */
	fputs("\033[?1049h\033[?25l", stdout);
	fflush(stdout);
}

static void term_leave(void)
{
	fputs("\033[?25h\033[?1049l", stdout);
	fflush(stdout);
	if (tio_saved)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
	tio_saved = false;
}

/* Returns true when the view must be redrawn now (sort key changed). */
static bool handle_key(struct top *t, char c)
{
	enum top_sort s = t->sort;

	switch (c) {
	case 'q':
	case 'Q':
		top_quit = 1;
		return false;
	case 'c':
		s = SORT_CPU;
		break;
	case 'l':
	case 'p':
		s = SORT_P99;
		break;
	case 'r':
		s = SORT_RECLAIM;
		break;
	case 'w':
		s = SORT_RUNQ;
		break;
	case 'n':
		s = SORT_NAME;
		break;
	case 'k':
		s = SORT_CLASS;
		break;
	default:
		return false;
	}
	t->sort = s;
	return true;
}

/* Wait up to ms for keys; redraw with the old data when the sort changes. */
static void wait_keys(struct top *t, int ms)
{
	uint64_t end = mono_ns() + (uint64_t)ms * 1000000ULL;
	struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
	char buf[16];
	ssize_t n, i;

	while (!top_quit) {
		uint64_t now = mono_ns();
		bool redraw = false;

		if (now >= end)
			return;
		if (t->batch || !tio_saved) {
			struct timespec ts = { .tv_sec = (time_t)((end - now) / 1000000000ULL),
					       .tv_nsec = (long)((end - now) % 1000000000ULL) };

			nanosleep(&ts, NULL);
			continue;
		}
		if (poll(&pfd, 1, (int)((end - now) / 1000000ULL) + 1) <= 0)
			continue;
		n = read(STDIN_FILENO, buf, sizeof(buf));
		for (i = 0; i < n; i++)
			redraw |= handle_key(t, buf[i]);
		if (redraw && !top_quit) {
			sort_rows(t);
			draw(t);
		}
	}
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: colod top [--pin-dir DIR] [--cgroup-root DIR] [-d SECONDS]\n"
		"                 [-n ITERATIONS] [-b] [-s cpu|p99|reclaim|runq|name|class]\n"
		"  Live per-cgroup view of a running agent, from its pinned maps.\n"
		"  Keys: c cpu, l/p run-queue p99, r reclaim, w wakeups, n name,\n"
		"        k class, q quit. -b: plain frames on stdout (no terminal).\n");
}

static int parse_sort(const char *s, enum top_sort *out)
{
	size_t i;

	for (i = 0; i < sizeof(sort_names) / sizeof(sort_names[0]); i++) {
		if (!strcmp(s, sort_names[i])) {
			*out = (enum top_sort)i;
			return 0;
		}
	}
	return -EINVAL;
}

static void top_free(struct top *t)
{
	maps_close(&t->maps);
	free(t->prev);
	free(t->cur);
	cgscan_free(t->scan);
	free(t->rows);
	free(t->thr_id);
	free(t->thr_val);
}

static int top_loop(struct top *t, double delay, long iterations)
{
	long frame = 0;
	int err;

	err = sample(t);
	if (err)
		return err;
	swap_samples(t);
	refresh_paths(t);
	while (!top_quit) {
		wait_keys(t, (int)(delay * 1000));
		if (top_quit)
			break;
		err = sample(t);
		if (err)
			return err;
		refresh_paths(t);
		make_rows(t);
		sort_rows(t);
		draw(t);
		if (t->batch)
			putchar('\n');
		swap_samples(t);
		if (iterations > 0 && ++frame >= iterations)
			break;
	}
	return 0;
}

int cmd_top(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pin-dir", required_argument, NULL, 'P' },
		{ "cgroup-root", required_argument, NULL, 'C' },
		{ "delay", required_argument, NULL, 'd' },
		{ "iterations", required_argument, NULL, 'n' },
		{ "batch", no_argument, NULL, 'b' },
		{ "sort", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct top t = { .sort = SORT_CPU, .pin_dir = COLOD_PIN_DIR_DEFAULT };
	const char *cg_root = NULL;
	struct sigaction sa = { .sa_handler = on_signal };
	double delay = 1.0;
	long iterations = 0;
	int c, err;

	optind = 1;
	while ((c = getopt_long(argc, argv, "d:n:bs:h", opts, NULL)) != -1) {
		switch (c) {
		case 'P':
			t.pin_dir = optarg;
			break;
		case 'C':
			cg_root = optarg;
			break;
		case 'd':
			delay = strtod(optarg, NULL);
			if (delay < 0.1 || delay > 3600) {
				pr_err("top: -d: delay \"%s\" not in 0.1..3600 s", optarg);
				return 2;
			}
			break;
		case 'n':
			iterations = strtol(optarg, NULL, 10);
			break;
		case 'b':
			t.batch = true;
			break;
		case 's':
			if (parse_sort(optarg, &t.sort)) {
				pr_err("top: --sort: unknown key \"%s\"", optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	err = maps_open_pinned(t.pin_dir, &t.maps);
	if (err) {
		pr_err("top: no agent maps under %s: %s (is colod running with "
		       "--pin-dir %s?)", t.pin_dir, strerror(-err), t.pin_dir);
		return 1;
	}
	t.have_cg = !cg_detect(&t.cg, cg_root);
	if (t.have_cg)
		t.scan = cgscan_new(t.cg.cpu, NULL, 0);
	if (!t.scan)
		pr_warn("top: no cgroup hierarchy at %s: showing cgroup ids",
			cg_root ? cg_root : CG_ROOT_DEFAULT);
	if (!isatty(STDOUT_FILENO))
		t.batch = true;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	top_quit = 0;
	if (!t.batch)
		term_enter();
	err = top_loop(&t, delay, iterations);
	if (!t.batch)
		term_leave();
	if (err)
		pr_err("top: reading %s: %s", t.pin_dir, strerror(-err));
	top_free(&t);
	return err ? 1 : 0;
}
