// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include "colod.skel.h"
#include "cgroup.h"
#include "fileio.h"
#include "kfeatures.h"
#include "log.h"
#include "loader.h"

struct colod_bpf {
	struct colod_bpf_skel *skel;
	struct colod_maps maps;
	char pin_dir[PATH_MAX];
	char hier_root[PATH_MAX];
	struct loader_choices choices;
	bool v2;
	bool pinned;
};

int attr_mode_parse(const char *s, enum attr_mode *out)
{
	if (!strcmp(s, "auto"))
		*out = ATTR_AUTO;
	else if (!strcmp(s, "v1"))
		*out = ATTR_V1;
	else if (!strcmp(s, "v2"))
		*out = ATTR_V2;
	else
		return -EINVAL;
	return 0;
}

static bool is_fs(const char *path, long magic)
{
	struct statfs st;

	return !statfs(path, &st) && st.f_type == magic;
}

int attr_mode_resolve(const char *cgroup_root, enum attr_mode mode,
		      enum attr_mode *resolved, char *hier_root, size_t len)
{
	struct cg_ctx cg;
	int err;

	err = cg_detect(&cg, cgroup_root);
	if (err)
		return err;
	if (mode == ATTR_AUTO)
		mode = cg.mode == CG_V2 ? ATTR_V2 : ATTR_V1;
	if (mode == ATTR_V2) {
		/* hybrid hosts keep the default hierarchy under unified/ */
		if (!cg.unified[0]) {
			pr_err("%s: no cgroup v2 hierarchy mounted there; "
			       "use --cgroup-mode v1", cg.root);
			return -ENOENT;
		}
		snprintf(hier_root, len, "%s", cg.unified);
	} else {
		if (cg.mode == CG_V2) {
			pr_err("%s/cpu: no cgroup v1 cpu hierarchy mounted there; "
			       "use --cgroup-mode v2 or mount it", cg.root);
			return -ENOENT;
		}
		snprintf(hier_root, len, "%s", cg.cpu);
	}
	*resolved = mode;
	return 0;
}

static int preflight(const struct loader_opts *o)
{
	if (geteuid() != 0) {
		pr_err("must run as root (BPF needs CAP_BPF, CAP_PERFMON and "
		       "CAP_SYS_ADMIN): run it with sudo");
		return -EPERM;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		pr_err("/sys/kernel/btf/vmlinux: kernel has no BTF; colod needs a "
		       "kernel built with CONFIG_DEBUG_INFO_BTF=y");
		return -ENOENT;
	}
	if (o->pin_dir && !is_fs("/sys/fs/bpf", BPF_FS_MAGIC) &&
	    !strncmp(o->pin_dir, "/sys/fs/bpf", 11)) {
		pr_err("/sys/fs/bpf: bpffs is not mounted; mount it with "
		       "'mount -t bpf bpf /sys/fs/bpf'");
		return -ENOENT;
	}
	return 0;
}

/* ---- kernel-dependent choices (libbpf-tools' way: probe, then fall back) -- */

static int silent_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

libbpf_print_fn_t loader_quiet(void)
{
	return libbpf_set_print(silent_print);
}

/* r0 = cmpxchg(fp - 8, r0, r1): BPF_ATOMIC beyond add came in 5.12. */
static int probe_cmpxchg(void)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 1, .imm = 1 },
		{ .code = BPF_STX | BPF_MEM | BPF_DW, .dst_reg = 10, .src_reg = 1, .off = -8 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 1 },
		{ .code = BPF_STX | BPF_ATOMIC | BPF_DW, .dst_reg = 10, .src_reg = 1,
		  .off = -8, .imm = BPF_CMPXCHG },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int fd = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "colod_cmpxchg", "GPL",
			       insns, sizeof(insns) / sizeof(insns[0]), NULL);

	if (fd < 0)
		return errno == EPERM || errno == EACCES ? -errno : 0;
	close(fd);
	return 1;
}

/*
 * Task storage for colod's stamps needs the map (5.11) and its helpers in
 * tracing programs (bpf_task_storage_get, bpf_get_current_task_btf: 5.12;
 * raw_tp answers for tp_btf, whose helpers are the same set).
 */
static int probe_task_storage(void)
{
	int ret = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_TASK_STORAGE, NULL);

	if (ret == 1)
		ret = libbpf_probe_bpf_helper(BPF_PROG_TYPE_RAW_TRACEPOINT,
					      BPF_FUNC_task_storage_get, NULL);
	if (ret == 1)
		ret = libbpf_probe_bpf_helper(BPF_PROG_TYPE_RAW_TRACEPOINT,
					      BPF_FUNC_get_current_task_btf, NULL);
	return ret;
}

/*
 * The hash that stands in for task storage needs an entry per live task:
 * the kernel allows no more than threads-max of them and pid_max pids.
 * Not preallocated, so only tasks that ran take memory.
 */
static uint32_t task_entries(void)
{
	uint64_t n = file_read_u64("/proc/sys/kernel/threads-max", 32768);
	uint64_t pids = file_read_u64("/proc/sys/kernel/pid_max", 32768);

	if (pids < n)
		n = pids;
	return n < 1024 ? 1024 : n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

/* answer of a probe into yes/no and why; false if it could not tell */
static bool choose(int ret, const char *what, const char *since, const char *force,
		   bool *yes, char *why, size_t len)
{
	if (features_forced_off(force)) {
		*yes = false;
		snprintf(why, len, "%s forced off by " COLOD_FORCE_ENV, what);
		return true;
	}
	*yes = ret == 1;
	if (ret == 1)
		snprintf(why, len, "%s: probe loaded", what);
	else if (ret == -EPERM || ret == -EACCES)
		snprintf(why, len, "%s: cannot probe without CAP_BPF", what);
	else
		snprintf(why, len, "%s: not in this kernel (%s)", what, since);
	return ret != -EPERM && ret != -EACCES;
}

void loader_probe(struct loader_choices *c)
{
	libbpf_print_fn_t old = loader_quiet();
	bool known;

	memset(c, 0, sizeof(*c));
	known = choose(probe_task_storage(), "task storage from tracing programs", "5.12",
		       "task_storage", &c->task_storage, c->task_storage_why,
		       sizeof(c->task_storage_why));
	known &= choose(probe_cmpxchg(), "BPF_CMPXCHG", "5.12", "atomics", &c->atomics,
			c->atomics_why, sizeof(c->atomics_why));
	c->unknown = !known;
	c->task_entries = task_entries();
	libbpf_set_print(old);
}

/* The probe and its fallback together: what loader_probe() chose, applied. */
static int apply_choices(struct colod_bpf *b)
{
	const struct loader_choices *c = &b->choices;
	int err;

	b->skel->rodata->has_task_storage = c->task_storage;
	err = bpf_program__set_autoload(b->skel->progs.colod_task_exit, !c->task_storage);
	/* a program holding a cmpxchg fails to load before 5.12, even pruned */
	err = err ?: bpf_program__set_autoload(b->skel->progs.colod_sched_switch, c->atomics);
	err = err ?: bpf_program__set_autoload(b->skel->progs.colod_sched_switch_plain,
					       !c->atomics);
	if (!err && !c->task_storage) {
		/* runqlat's "start" map: wake-up stamps keyed by pid */
		err = bpf_map__set_type(b->skel->maps.task_ts, BPF_MAP_TYPE_HASH);
		err = err ?: bpf_map__set_max_entries(b->skel->maps.task_ts, c->task_entries);
		pr_debug("no task storage for tracing programs (%s): wake-up stamps in a "
			 "pid-keyed hash map of %u entries", c->task_storage_why,
			 c->task_entries);
	}
	if (!c->atomics)
		pr_debug("no BPF_CMPXCHG (%s): run-queue max and breach rate limit "
			 "without it", c->atomics_why);
	if (err)
		pr_err("cannot set up the BPF programs for this kernel: %s", strerror(-err));
	return err;
}

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && log_verbosity < LOG_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static int pin_maps(struct colod_bpf *b)
{
	struct bpf_map *maps[] = { b->skel->maps.cg_stats, b->skel->maps.cg_hist,
				   b->skel->maps.cg_class, b->skel->maps.events,
				   b->skel->maps.counters, b->skel->maps.headroom };
	char path[PATH_MAX];
	size_t i;
	int err;

	if (mkdir(b->pin_dir, 0700) && errno != EEXIST) {
		err = -errno;
		pr_err("%s: cannot create pin directory: %s", b->pin_dir, strerror(errno));
		return err;
	}
	for (i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", b->pin_dir, bpf_map__name(maps[i]));
		/* a pin left by an agent that was killed: replace it */
		unlink(path);
		err = bpf_map__pin(maps[i], path);
		if (err) {
			pr_err("%s: cannot pin map: %s", path, strerror(-err));
			return err;
		}
	}
	b->pinned = true;
	return 0;
}

static void unpin_maps(struct colod_bpf *b)
{
	struct bpf_map *map;

	if (!b->pinned)
		return;
	bpf_object__for_each_map(map, b->skel->obj)
		if (bpf_map__is_pinned(map))
			bpf_map__unpin(map, NULL);
	rmdir(b->pin_dir);
}

int loader_open(const struct loader_opts *o, struct colod_bpf **out)
{
	uint32_t max = o->max_cgroups ? o->max_cgroups : COLOD_MAX_CGROUPS_DEFAULT;
	struct colod_bpf *b;
	enum attr_mode mode;
	int err, ncpu;

	err = preflight(o);
	if (err)
		return err;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	err = attr_mode_resolve(o->cgroup_root, o->mode, &mode, b->hier_root,
				sizeof(b->hier_root));
	if (err)
		goto fail;
	b->v2 = mode == ATTR_V2;
	libbpf_set_print(libbpf_log);

	b->skel = colod_bpf_skel__open();
	if (!b->skel) {
		err = -errno;
		pr_err("cannot open the BPF object: %s", strerror(errno));
		goto fail;
	}
	b->skel->rodata->use_dfl_cgroup = b->v2;
	b->skel->rodata->breach_min_interval_ns = o->breach_min_interval_ns;
	bpf_map__set_max_entries(b->skel->maps.cg_stats, max);
	/* the last quarter of cg_stats is for the cgroups colod tracks */
	b->skel->rodata->stats_untracked_max = max - max / 4;
	bpf_map__set_max_entries(b->skel->maps.cg_class, max);
	bpf_map__set_max_entries(b->skel->maps.cg_hist, max);
	ncpu = libbpf_num_possible_cpus();
	if (ncpu < 0) {
		err = ncpu;
		pr_err("cannot count the possible CPUs: %s", strerror(-err));
		goto fail;
	}
	bpf_map__set_max_entries(b->skel->maps.cpu_be, ncpu);
	b->skel->rodata->nr_cpus = ncpu;
	loader_probe(&b->choices);
	err = apply_choices(b);
	if (err)
		goto fail;

	err = colod_bpf_skel__load(b->skel);
	if (err) {
		pr_err("cannot load the BPF programs: %s (run with -v for the "
		       "verifier log)", strerror(-err));
		goto fail;
	}
	err = colod_bpf_skel__attach(b->skel);
	if (err) {
		pr_err("cannot attach the BPF programs: %s", strerror(-err));
		goto fail;
	}
	b->maps = (struct colod_maps) {
		.stats_fd = bpf_map__fd(b->skel->maps.cg_stats),
		.hist_fd = bpf_map__fd(b->skel->maps.cg_hist),
		.class_fd = bpf_map__fd(b->skel->maps.cg_class),
		.events_fd = bpf_map__fd(b->skel->maps.events),
		.cg_events_fd = bpf_map__fd(b->skel->maps.cg_events),
		.counters_fd = bpf_map__fd(b->skel->maps.counters),
		.headroom_fd = bpf_map__fd(b->skel->maps.headroom),
		.stats_nr = b->skel->bss ? &b->skel->bss->stats_nr : NULL,
	};
	if (o->pin_dir) {
		snprintf(b->pin_dir, sizeof(b->pin_dir), "%s", o->pin_dir);
		err = pin_maps(b);
		if (err)
			goto fail;
	}
	pr_debug("BPF loaded, attributing to %s (%s)", b->hier_root,
		 b->v2 ? "cgroup v2" : "cgroup v1 cpu");
	*out = b;
	return 0;
fail:
	loader_close(b);
	return err;
}

void loader_close(struct colod_bpf *b)
{
	if (!b)
		return;
	if (b->skel) {
		unpin_maps(b);
		colod_bpf_skel__destroy(b->skel);
	}
	free(b);
}

const struct colod_maps *loader_maps(const struct colod_bpf *b)
{
	return &b->maps;
}

const char *loader_hier_root(const struct colod_bpf *b)
{
	return b->hier_root;
}

const struct loader_choices *loader_choices(const struct colod_bpf *b)
{
	return &b->choices;
}

bool loader_uses_v2(const struct colod_bpf *b)
{
	return b->v2;
}
