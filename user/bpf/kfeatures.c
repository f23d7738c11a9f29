// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Probe the kernel features colod relies on and decide, in one place, what
 * colod does without each. Probes load nothing that stays: a throw-away
 * program or map is created and closed, a throw-away cgroup at most made
 * and removed.
 */
#include <dirent.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <cjson/cJSON.h>
#include "fileio.h"
#include "kfeatures.h"
#include "loader.h"
#include "log.h"
#include "slice.h"

#define BTF_VMLINUX		"/sys/kernel/btf/vmlinux"
#define RESCTRL_DEFAULT		"/sys/fs/resctrl"
/* the mount table of a node with thousands of containers */
#define PROC_READ_MAX		(64u << 20)

static const char *const feat_names[FEAT_NR] = {
	[FEAT_BTF]		= "btf",
	[FEAT_TP_BTF]		= "tp_btf",
	[FEAT_TASK_STORAGE]	= "task_storage",
	[FEAT_RINGBUF]		= "ringbuf",
	[FEAT_BPF_ATOMICS]	= "bpf_atomics",
	[FEAT_CGROUP_V2]	= "cgroup_v2",
	[FEAT_CG_CPU]		= "cgroup_cpu",
	[FEAT_CG_CPUSET]	= "cgroup_cpuset",
	[FEAT_CG_MEMORY]	= "cgroup_memory",
	[FEAT_CPU_IDLE]		= "cpu_idle",
	[FEAT_RESCTRL]		= "resctrl",
	[FEAT_SCHED_SLICE]	= "sched_slice",
};

/*
 * The tracepoints bpf/colod.bpf.c attaches to: libbpf fails the whole load
 * if one is missing from the kernel's BTF, so name the missing ones.
 */
static const char *const bpf_tracepoints[] = {
	"sched_switch", "sched_wakeup", "sched_wakeup_new",
	"mm_vmscan_direct_reclaim_begin", "mm_vmscan_direct_reclaim_end",
	"mm_vmscan_memcg_reclaim_begin", "mm_vmscan_memcg_reclaim_end",
	"cgroup_mkdir", "cgroup_rmdir", "hrtimer_expire_entry", "sched_process_exit",
};

static const struct {
	const char *name;
	unsigned int bit;
} ctrl_names[] = {
	{ "cpu", CG_CTRL_CPU },
	{ "cpuset", CG_CTRL_CPUSET },
	{ "memory", CG_CTRL_MEMORY },
	{ "io", CG_CTRL_IO },
	{ "blkio", CG_CTRL_IO },
	{ "pids", CG_CTRL_PIDS },
	{ "cpuacct", CG_CTRL_CPUACCT },
};

const char *feat_name(enum feat_id id)
{
	return (unsigned int)id < FEAT_NR ? feat_names[id] : "?";
}

const char *feat_state_name(enum feat_state st)
{
	switch (st) {
	case FEAT_YES:
		return "yes";
	case FEAT_NO:
		return "no";
	default:
		return "unknown";
	}
}

static unsigned int ctrl_bit(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(ctrl_names) / sizeof(ctrl_names[0]); i++)
		if (strlen(ctrl_names[i].name) == len &&
		    !strncmp(ctrl_names[i].name, name, len))
			return ctrl_names[i].bit;
	return 0;
}

unsigned int features_parse_controllers(const char *text)
{
	unsigned int mask = 0;
	const char *p = text;

	while (p && *p) {
		size_t len;

		p += strspn(p, " \t\n");
		len = strcspn(p, " \t\n");
		if (!len)
			break;
		mask |= ctrl_bit(p, len);
		p += len;
	}
	return mask;
}

/* Mount points in /proc/self/mounts escape space, tab, newline, backslash. */
static void unescape_mount(char *s)
{
	char *w = s;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' &&
		    s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 4;
		} else {
			*w++ = *s++;
		}
	}
	*w = '\0';
}

static bool under_root(const char *mnt, const char *root)
{
	size_t n = strlen(root);

	while (n > 1 && root[n - 1] == '/')
		n--;
	if (n == 1 && root[0] == '/')
		return true;
	return !strncmp(mnt, root, n) && (mnt[n] == '\0' || mnt[n] == '/');
}

/* a and b name the same directory (up to trailing slashes) */
static bool same_dir(const char *a, const char *b)
{
	return under_root(a, b) && under_root(b, a);
}

/* Controllers named in v1 mount options, e.g. "rw,nosuid,cpu,cpuacct". */
static unsigned int v1_opts_ctrls(const char *opts)
{
	unsigned int mask = 0;
	const char *p = opts;

	while (*p) {
		size_t len = strcspn(p, ",");

		mask |= ctrl_bit(p, len);
		p += len;
		if (*p == ',')
			p++;
	}
	return mask;
}

static void set_path(char *dst, const char *src)
{
	snprintf(dst, PATH_MAX, "%s", src);
}

static int parse_mount_line(char *line, const char *root, struct cg_layout *out)
{
	char *dev, *mnt, *type, *opts, *save = NULL;
	unsigned int ctrls;

	dev = strtok_r(line, " \t", &save);
	if (!dev)
		return 0;	/* blank line */
	mnt = strtok_r(NULL, " \t", &save);
	type = strtok_r(NULL, " \t", &save);
	opts = strtok_r(NULL, " \t", &save);
	if (!mnt || !type || !opts)
		return -EINVAL;
	unescape_mount(mnt);
	if (!under_root(mnt, root))
		return 0;
	if (!strcmp(type, "cgroup2")) {
		if (!out->unified[0])
			set_path(out->unified, mnt);
		return 0;
	}
	if (strcmp(type, "cgroup"))
		return 0;
	ctrls = v1_opts_ctrls(opts);
	/* The first hierarchy holding a controller is the one that counts. */
	if ((ctrls & CG_CTRL_CPU) && !(out->v1_ctrls & CG_CTRL_CPU))
		set_path(out->cpu, mnt);
	if ((ctrls & CG_CTRL_CPUSET) && !(out->v1_ctrls & CG_CTRL_CPUSET))
		set_path(out->cpuset, mnt);
	if ((ctrls & CG_CTRL_MEMORY) && !(out->v1_ctrls & CG_CTRL_MEMORY))
		set_path(out->memory, mnt);
	out->v1_ctrls |= ctrls;
	return 0;
}

int features_parse_mounts(const char *text, const char *cgroup_root,
			  struct cg_layout *out)
{
	const char *p = text;
	int err = 0;

	memset(out, 0, sizeof(*out));
	if (!cgroup_root)
		cgroup_root = CG_ROOT_DEFAULT;
	while (p && *p && !err) {
		size_t len = strcspn(p, "\n");
		char *line = strndup(p, len);

		if (!line)
			return -ENOMEM;
		err = parse_mount_line(line, cgroup_root, out);
		free(line);
		p += len;
		if (*p == '\n')
			p++;
	}
	if (err)
		return err;
	/* Controllers not bound to v1 live on the default hierarchy. */
	if (out->unified[0]) {
		if (!(out->v1_ctrls & CG_CTRL_CPU))
			set_path(out->cpu, out->unified);
		if (!(out->v1_ctrls & CG_CTRL_CPUSET))
			set_path(out->cpuset, out->unified);
		if (!(out->v1_ctrls & CG_CTRL_MEMORY))
			set_path(out->memory, out->unified);
	}
	/* the magics statfs would see, as cg_detect() decides from them */
	out->mode = cg_mode_from_magic(out->unified[0] && same_dir(out->unified, cgroup_root) ?
				       CGROUP2_SUPER_MAGIC : 0, out->v1_ctrls != 0,
				       out->unified[0] ? CGROUP2_SUPER_MAGIC : 0);
	return 0;
}

/* ---- decisions (pure) ---------------------------------------------------- */

static bool maybe(const struct colod_features *f, enum feat_id id)
{
	return f->state[id] != FEAT_NO;
}

static bool on_unified(const struct colod_features *f, const char *path)
{
	return path[0] && f->cg.unified[0] && !strcmp(path, f->cg.unified);
}

void features_plan(const struct colod_features *f, struct colod_plan *p)
{
	memset(p, 0, sizeof(*p));
	/* libbpf fails the load without these; the others have fallbacks */
	p->bpf = maybe(f, FEAT_BTF) && maybe(f, FEAT_TP_BTF) && maybe(f, FEAT_RINGBUF);
	p->task_storage = f->state[FEAT_TASK_STORAGE] == FEAT_YES;
	p->bpf_atomics = f->state[FEAT_BPF_ATOMICS] == FEAT_YES;
	p->use_dfl_cgroup = on_unified(f, f->cg.cpu) ||
			    (!f->cg.cpu[0] && f->cg.mode == CG_V2);
	p->cpu_throttle = f->state[FEAT_CG_CPU] == FEAT_YES;
	p->cpu_v2_knobs = p->cpu_throttle && on_unified(f, f->cg.cpu);
	p->cpu_idle = p->cpu_throttle && f->state[FEAT_CPU_IDLE] == FEAT_YES;
	/* v1 has no memory.high; limit_in_bytes would OOM-kill, not throttle. */
	p->memory_high = f->state[FEAT_CG_MEMORY] == FEAT_YES &&
			 on_unified(f, f->cg.memory);
	p->cpuset = f->state[FEAT_CG_CPUSET] == FEAT_YES;
	p->resctrl = f->state[FEAT_RESCTRL] == FEAT_YES;
	p->sched_slice = f->state[FEAT_SCHED_SLICE] == FEAT_YES;
}

bool features_fatal(const struct colod_features *f)
{
	struct colod_plan p;

	/* colod run cannot start without its programs (loader.c) */
	features_plan(f, &p);
	return !p.bpf;
}

#define NO_SAMPLER " colod run refuses to start (it needs the BPF programs)"

const char *features_fallback(const struct colod_features *f, enum feat_id id)
{
	switch (id) {
	case FEAT_BTF:
		return "no CO-RE relocation possible;" NO_SAMPLER;
	case FEAT_TP_BTF:
		return "cannot attach tp_btf/sched_*;" NO_SAMPLER;
	case FEAT_TASK_STORAGE:
		return "wake-up stamps in a pid-keyed hash map sized for the node "
		       "(threads-max, pid_max), entries deleted at task exit (as runqlat)";
	case FEAT_BPF_ATOMICS:
		return "run-queue max and breach rate limit without cmpxchg: a racing "
		       "update may be lost (a max a little low, rarely one more breach event)";
	case FEAT_RINGBUF:
		return "no breach ring buffer (5.8+);" NO_SAMPLER;
	case FEAT_CGROUP_V2:
		if (f->cg.mode == CG_NONE)
			return "no cgroup filesystem: nothing to attribute or throttle";
		return "v1/hybrid: attribute to the cpu hierarchy, throttle via "
		       "cpu.cfs_quota_us/cpu.shares; no memory.high (v1 has none)";
	case FEAT_CG_CPU:
		return "BE CPU not throttled (observe only)";
	case FEAT_CG_CPUSET:
		return "BE cpusets left as they are";
	case FEAT_CG_MEMORY:
		return "BE memory not limited (memory.high not written)";
	case FEAT_CPU_IDLE:
		if (f->state[FEAT_CG_CPU] != FEAT_YES)
			return "no cpu controller: no CPU lever at all";
		if (on_unified(f, f->cg.cpu))
			return "BE held by cpu.max at the lowest cpu.weight (1; kubelet "
			       "writes it for BestEffort) instead of SCHED_IDLE";
		return "BE held by cfs quota at the lowest cpu.shares (2; kubelet "
		       "writes it for BestEffort) instead of SCHED_IDLE";
	case FEAT_RESCTRL:
		return "L3 cache and memory bandwidth not partitioned";
	case FEAT_SCHED_SLICE:
		return "BE threads keep the default slice (beSchedSliceUs has no effect)";
	default:
		return "?";
	}
}

/* ---- probes (I/O) -------------------------------------------------------- */

static void set_feat(struct colod_features *f, enum feat_id id,
		     enum feat_state st, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void set_feat(struct colod_features *f, enum feat_id id,
		     enum feat_state st, const char *fmt, ...)
{
	va_list ap;

	f->state[id] = st;
	va_start(ap, fmt);
	vsnprintf(f->detail[id], FEAT_DETAIL_MAX, fmt, ap);
	va_end(ap);
}

static enum feat_state from_err(int err)
{
	return err == -EPERM || err == -EACCES ? FEAT_UNKNOWN : FEAT_NO;
}

/* dir/name into buf; false if it does not fit. */
static bool path_join(char *buf, size_t size, const char *dir, const char *name)
{
	int n = snprintf(buf, size, "%s/%s", dir, name);

	return n >= 0 && (size_t)n < size;
}

static bool has_file(const char *dir, const char *name)
{
	char path[PATH_MAX];

	return path_join(path, sizeof(path), dir, name) && !access(path, F_OK);
}

static int tp_btf_load(int btf_id)
{
	const struct bpf_insn insns[] = {
		{ .code = 0xb7, .dst_reg = 0, .imm = 0 },	/* r0 = 0 */
		{ .code = 0x95 },				/* exit */
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts,
		.expected_attach_type = BPF_TRACE_RAW_TP,
		.attach_btf_id = (__u32)btf_id);
	int fd;

	fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, "colod_probe", "GPL",
			   insns, 2, &opts);
	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

static void probe_btf_tp(struct colod_features *f)
{
	char missing[FEAT_DETAIL_MAX] = "", name[96];
	struct btf *btf;
	size_t i;
	int id, err;

	if (access(BTF_VMLINUX, R_OK)) {
		set_feat(f, FEAT_BTF, FEAT_NO,
			 "no %s (kernel built without CONFIG_DEBUG_INFO_BTF)", BTF_VMLINUX);
		set_feat(f, FEAT_TP_BTF, FEAT_NO, "needs kernel BTF");
		return;
	}
	btf = btf__load_vmlinux_btf();
	err = libbpf_get_error(btf);
	if (err) {
		set_feat(f, FEAT_BTF, FEAT_NO, "%s unreadable: %s", BTF_VMLINUX, strerror(-err));
		set_feat(f, FEAT_TP_BTF, FEAT_NO, "needs kernel BTF");
		return;
	}
	set_feat(f, FEAT_BTF, FEAT_YES, "%s, %u types", BTF_VMLINUX, btf__type_cnt(btf));
	for (i = 0; i < sizeof(bpf_tracepoints) / sizeof(bpf_tracepoints[0]); i++) {
		snprintf(name, sizeof(name), "btf_trace_%s", bpf_tracepoints[i]);
		if (btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF) < 0) {
			size_t l = strlen(missing);

			snprintf(missing + l, sizeof(missing) - l, "%s%s",
				 l ? "," : "", bpf_tracepoints[i]);
		}
	}
	id = btf__find_by_name_kind(btf, "btf_trace_sched_switch", BTF_KIND_TYPEDEF);
	btf__free(btf);
	if (id < 0) {
		set_feat(f, FEAT_TP_BTF, FEAT_NO, "no btf_trace_sched_switch in kernel BTF");
		return;
	}
	err = tp_btf_load(id);
	if (err)
		set_feat(f, FEAT_TP_BTF, from_err(err), "probe load of tp_btf/sched_switch: %s%s",
			 strerror(-err), from_err(err) == FEAT_UNKNOWN ? " (needs CAP_BPF)" : "");
	else if (missing[0])
		set_feat(f, FEAT_TP_BTF, FEAT_YES, "tracepoints missing: %s", missing);
	else
		set_feat(f, FEAT_TP_BTF, FEAT_YES, "sched and vmscan tracepoints in BTF");
}

static void probe_map(struct colod_features *f, enum feat_id id,
		      enum bpf_map_type type, const char *since)
{
	int ret = libbpf_probe_bpf_map_type(type, NULL);

	if (ret == 1)
		set_feat(f, id, FEAT_YES, "map created");
	else if (ret == 0)
		set_feat(f, id, FEAT_NO, "kernel rejects the map type (needs %s)", since);
	else
		set_feat(f, id, from_err(ret), "probe failed: %s%s", strerror(-ret),
			 from_err(ret) == FEAT_UNKNOWN ? " (needs CAP_BPF)" : "");
}

static void probe_ctrl(struct colod_features *f, enum feat_id id,
		       const char *name, unsigned int bit, const char *path)
{
	if (f->cg.v1_ctrls & bit) {
		set_feat(f, id, FEAT_YES, "v1 hierarchy %s", path);
		return;
	}
	if (!f->cg.unified[0]) {
		set_feat(f, id, FEAT_NO, "no hierarchy has the %s controller", name);
		return;
	}
	if (f->v2_enabled & bit)
		set_feat(f, id, FEAT_YES, "v2 %s, enabled in cgroup.subtree_control", path);
	else if (f->v2_available & bit)
		set_feat(f, id, FEAT_NO, "available but not enabled: echo +%s > %s/cgroup.subtree_control",
			 name, f->cg.unified);
	else
		set_feat(f, id, FEAT_NO, "not in %s/cgroup.controllers", f->cg.unified);
}

static void probe_cgroups(struct colod_features *f)
{
	char path[PATH_MAX], buf[512];

	if (f->cg.unified[0]) {
		if (path_join(path, sizeof(path), f->cg.unified, "cgroup.controllers") &&
		    file_read_buf(path, buf, sizeof(buf)) >= 0)
			f->v2_available = features_parse_controllers(buf);
		if (path_join(path, sizeof(path), f->cg.unified, "cgroup.subtree_control") &&
		    file_read_buf(path, buf, sizeof(buf)) >= 0)
			f->v2_enabled = features_parse_controllers(buf);
	}
	switch (f->cg.mode) {
	case CG_V2:
		set_feat(f, FEAT_CGROUP_V2, FEAT_YES, "cgroup2 at %s", f->cg.unified);
		break;
	case CG_HYBRID:
		set_feat(f, FEAT_CGROUP_V2, FEAT_NO, "hybrid: v1 controllers, cgroup2 at %s",
			 f->cg.unified);
		break;
	case CG_V1:
		set_feat(f, FEAT_CGROUP_V2, FEAT_NO, "v1 only");
		break;
	default:
		set_feat(f, FEAT_CGROUP_V2, FEAT_NO, "no cgroup filesystem mounted");
	}
	probe_ctrl(f, FEAT_CG_CPU, "cpu", CG_CTRL_CPU, f->cg.cpu);
	probe_ctrl(f, FEAT_CG_CPUSET, "cpuset", CG_CTRL_CPUSET, f->cg.cpuset);
	probe_ctrl(f, FEAT_CG_MEMORY, "memory", CG_CTRL_MEMORY, f->cg.memory);
}

/*
 * On v2 the root cgroup has no cpu.* knobs: look at a child that has the
 * cpu controller (cpu.weight), or make a throw-away one if there is none.
 */
static int v2_cpu_idle(const char *root)
{
	char child[PATH_MAX], name[64];
	struct dirent *de;
	int found = -ENOENT;
	DIR *d = opendir(root);

	if (!d)
		return -errno;
	while ((de = readdir(d)) && found == -ENOENT) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		if (!path_join(child, sizeof(child), root, de->d_name))
			continue;
		if (has_file(child, "cpu.weight"))
			found = has_file(child, "cpu.idle");
	}
	closedir(d);
	if (found != -ENOENT)
		return found;
	snprintf(name, sizeof(name), "colod-probe-%d", (int)getpid());
	if (!path_join(child, sizeof(child), root, name))
		return -ENAMETOOLONG;
	if (mkdir(child, 0755))
		return -errno;
	found = has_file(child, "cpu.idle");
	rmdir(child);
	return found;
}

static void probe_cpu_idle(struct colod_features *f)
{
	int ret;

	if (features_forced_off("cpu_idle")) {
		set_feat(f, FEAT_CPU_IDLE, FEAT_NO, "forced off by " COLOD_FORCE_ENV);
		return;
	}
	if (f->state[FEAT_CG_CPU] != FEAT_YES) {
		set_feat(f, FEAT_CPU_IDLE, FEAT_NO, "needs the cpu controller");
		return;
	}
	if (f->cg.v1_ctrls & CG_CTRL_CPU)
		ret = has_file(f->cg.cpu, "cpu.idle");
	else
		ret = v2_cpu_idle(f->cg.cpu);
	if (ret == 1)
		set_feat(f, FEAT_CPU_IDLE, FEAT_YES, "cpu.idle present");
	else if (ret == 0)
		set_feat(f, FEAT_CPU_IDLE, FEAT_NO, "no cpu.idle (kernel before 5.15)");
	else
		set_feat(f, FEAT_CPU_IDLE, from_err(ret), "could not look for cpu.idle under %s: %s",
			 f->cg.cpu, strerror(-ret));
}

static void probe_sched_slice(struct colod_features *f)
{
	if (features_forced_off("sched_slice"))
		set_feat(f, FEAT_SCHED_SLICE, FEAT_NO, "forced off by " COLOD_FORCE_ENV);
	else if (slice_supported())
		set_feat(f, FEAT_SCHED_SLICE, FEAT_YES, "sched_setattr keeps a slice");
	else
		set_feat(f, FEAT_SCHED_SLICE, FEAT_NO,
			 "sched_setattr keeps no slice for SCHED_OTHER (kernel before 6.12)");
}

static bool fs_known(const char *fstype)
{
	char *text, *line, *save = NULL;
	bool found = false;

	if (file_read_all("/proc/filesystems", PROC_READ_MAX, &text))
		return false;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *name = strrchr(line, '\t');

		if (!strcmp(name ? name + 1 : line, fstype))
			found = true;
	}
	free(text);
	return found;
}

static void probe_resctrl(struct colod_features *f, const char *mounts)
{
	const char *p = strstr(mounts, " resctrl ");

	if (p) {
		const char *start = p;

		/* the field before the type is the mount point */
		while (start > mounts && start[-1] != '\n')
			start--;
		start = strchr(start, ' ');
		set_feat(f, FEAT_RESCTRL, FEAT_YES, "mounted at %.*s",
			 (int)(p - start - 1), start + 1);
	} else if (fs_known("resctrl")) {
		set_feat(f, FEAT_RESCTRL, FEAT_NO,
			 "supported but not mounted: mount -t resctrl resctrl " RESCTRL_DEFAULT);
	} else {
		set_feat(f, FEAT_RESCTRL, FEAT_NO,
			 "kernel or CPU lacks resctrl (no RDT/CAT/MBA)");
	}
}

/* The loader's choices: what the programs use (or will use) on this kernel. */
static void bpf_choice_feats(struct colod_features *f, const struct loader_choices *c)
{
	enum feat_state no = c->unknown ? FEAT_UNKNOWN : FEAT_NO;

	if (c->task_storage)
		set_feat(f, FEAT_TASK_STORAGE, FEAT_YES, "%s", c->task_storage_why);
	else
		set_feat(f, FEAT_TASK_STORAGE, no, "%s; pid-keyed hash of %u entries",
			 c->task_storage_why, c->task_entries);
	set_feat(f, FEAT_BPF_ATOMICS, c->atomics ? FEAT_YES : no, "%s", c->atomics_why);
}

bool features_forced_off(const char *name)
{
	const char *v = getenv(COLOD_FORCE_ENV), *p;
	size_t len = strlen(name);

	for (p = v; p && *p; p += strcspn(p, ",")) {
		p += strspn(p, ", ");
		if (strcspn(p, ",") == len && !strncmp(p, name, len))
			return true;
	}
	return false;
}

int features_probe(struct colod_features *f, const char *cgroup_root,
		   const struct loader_choices *loaded)
{
	struct loader_choices probed;
	libbpf_print_fn_t old;
	struct utsname u;
	char *mounts;
	int err;

	memset(f, 0, sizeof(*f));
	if (!uname(&u))
		snprintf(f->kernel, sizeof(f->kernel), "%s", u.release);
	err = file_read_all("/proc/self/mounts", PROC_READ_MAX, &mounts);
	if (err) {
		pr_err("features: /proc/self/mounts: %s", strerror(-err));
		return err;
	}
	err = features_parse_mounts(mounts, cgroup_root, &f->cg);
	if (err) {
		pr_err("features: /proc/self/mounts: malformed line");
		goto out;
	}
	if (loaded) {
		/* colod's own programs loaded: their prerequisites are there */
		set_feat(f, FEAT_BTF, FEAT_YES, "colod's BPF programs loaded");
		set_feat(f, FEAT_TP_BTF, FEAT_YES, "colod's BPF programs attached");
		set_feat(f, FEAT_RINGBUF, FEAT_YES, "colod's BPF programs loaded");
	} else {
		/* A probe that fails is an answer, not a warning for the user. */
		old = loader_quiet();
		probe_btf_tp(f);
		probe_map(f, FEAT_RINGBUF, BPF_MAP_TYPE_RINGBUF, "5.8");
		libbpf_set_print(old);
		loader_probe(&probed);
		loaded = &probed;
	}
	bpf_choice_feats(f, loaded);
	probe_cgroups(f);
	probe_cpu_idle(f);
	probe_resctrl(f, mounts);
	probe_sched_slice(f);
out:
	free(mounts);
	return err;
}

/* ---- output -------------------------------------------------------------- */

void features_log(const struct colod_features *f)
{
	int i;

	for (i = 0; i < FEAT_NR; i++) {
		if (f->state[i] == FEAT_YES)
			pr_debug("kernel feature %s: yes (%s)", feat_name(i), f->detail[i]);
		else
			pr_warn("kernel feature %s: %s (%s); without it: %s", feat_name(i),
				feat_state_name(f->state[i]), f->detail[i],
				features_fallback(f, i));
	}
	if (features_fatal(f))
		pr_err("kernel %s: neither BPF sampling nor a CPU lever is available; "
		       "see `colod features`", f->kernel);
}

static void print_plan_text(FILE *out, const struct colod_features *f)
{
	struct colod_plan p;

	features_plan(f, &p);
	fprintf(out, "\ncolod will:\n");
	if (p.bpf)
		fprintf(out, "  sample in the kernel (BPF), attributing to the %s\n",
			p.use_dfl_cgroup ? "default (v2) hierarchy" : "v1 cpu hierarchy");
	else
		fprintf(out, "  not start: the BPF programs cannot load here\n");
	if (p.bpf)
		fprintf(out, "  keep wake-up stamps in %s, update maxima %s\n",
			p.task_storage ? "task storage" : "a pid-keyed hash map",
			p.bpf_atomics ? "with cmpxchg" : "with plain stores");
	if (!p.cpu_throttle)
		fprintf(out, "  leave BE CPU alone (no cpu controller)\n");
	else if (p.cpu_idle)
		fprintf(out, "  throttle BE CPU through %s, and cpu.idle\n",
			p.cpu_v2_knobs ? "cpu.max" : "cpu.cfs_quota_us");
	else
		fprintf(out, "  throttle BE CPU through %s at the lowest %s (no cpu.idle)\n",
			p.cpu_v2_knobs ? "cpu.max" : "cpu.cfs_quota_us",
			p.cpu_v2_knobs ? "cpu.weight" : "cpu.shares");
	fprintf(out, "  %s\n", p.memory_high ? "write BE memory.high" : "not limit BE memory");
	fprintf(out, "  %s\n", p.resctrl ? "partition L3 / MB through resctrl" :
		"not partition L3 / MB (no resctrl)");
	fprintf(out, "  %s\n", p.sched_slice ? "give BE threads beSchedSliceUs, when set" :
		"leave BE threads' slice alone (no custom slices)");
}

static void print_text(FILE *out, const struct colod_features *f)
{
	int i;

	fprintf(out, "kernel %s, cgroup mode %s\n\n", f->kernel[0] ? f->kernel : "?",
		cg_mode_name(f->cg.mode));
	fprintf(out, "%-14s %-8s %s\n", "FEATURE", "PRESENT", "DETAIL");
	for (i = 0; i < FEAT_NR; i++) {
		fprintf(out, "%-14s %-8s %s\n", feat_name(i), feat_state_name(f->state[i]),
			f->detail[i]);
		if (f->state[i] != FEAT_YES)
			fprintf(out, "%-14s %-8s without it: %s\n", "", "",
				features_fallback(f, i));
	}
	print_plan_text(out, f);
}

static cJSON *plan_json(const struct colod_features *f)
{
	struct colod_plan p;
	cJSON *o = cJSON_CreateObject();

	features_plan(f, &p);
	cJSON_AddBoolToObject(o, "bpf", p.bpf);
	cJSON_AddBoolToObject(o, "use_dfl_cgroup", p.use_dfl_cgroup);
	cJSON_AddBoolToObject(o, "cpu_throttle", p.cpu_throttle);
	cJSON_AddBoolToObject(o, "cpu_v2_knobs", p.cpu_v2_knobs);
	cJSON_AddBoolToObject(o, "cpu_idle", p.cpu_idle);
	cJSON_AddBoolToObject(o, "memory_high", p.memory_high);
	cJSON_AddBoolToObject(o, "cpuset", p.cpuset);
	cJSON_AddBoolToObject(o, "task_storage", p.task_storage);
	cJSON_AddBoolToObject(o, "bpf_atomics", p.bpf_atomics);
	cJSON_AddBoolToObject(o, "resctrl", p.resctrl);
	cJSON_AddBoolToObject(o, "sched_slice", p.sched_slice);
	cJSON_AddBoolToObject(o, "fatal", features_fatal(f));
	return o;
}

static int print_json(FILE *out, const struct colod_features *f)
{
	cJSON *root = cJSON_CreateObject(), *feats, *o;
	char *s;
	int i;

	if (!root)
		return -ENOMEM;
	cJSON_AddStringToObject(root, "kernel", f->kernel);
	cJSON_AddStringToObject(root, "cgroup_mode", cg_mode_name(f->cg.mode));
	feats = cJSON_AddObjectToObject(root, "features");
	for (i = 0; feats && i < FEAT_NR; i++) {
		o = cJSON_AddObjectToObject(feats, feat_name(i));
		if (!o)
			break;
		if (f->state[i] == FEAT_UNKNOWN)
			cJSON_AddNullToObject(o, "present");
		else
			cJSON_AddBoolToObject(o, "present", f->state[i] == FEAT_YES);
		cJSON_AddStringToObject(o, "detail", f->detail[i]);
		if (f->state[i] != FEAT_YES)
			cJSON_AddStringToObject(o, "without", features_fallback(f, i));
	}
	cJSON_AddItemToObject(root, "plan", plan_json(f));
	s = cJSON_Print(root);
	cJSON_Delete(root);
	if (!s)
		return -ENOMEM;
	fprintf(out, "%s\n", s);
	free(s);
	return 0;
}

void features_print(FILE *out, const struct colod_features *f, bool json)
{
	if (json)
		print_json(out, f);
	else
		print_text(out, f);
}

static void features_usage(FILE *out)
{
	fprintf(out, "usage: colod features [--cgroup-root DIR] [--json]\n"
		"  Print the kernel features colod uses, whether this kernel has them,\n"
		"  and what colod does without the missing ones.\n");
}

int cmd_features(int argc, char **argv)
{
	const char *root = CG_ROOT_DEFAULT;
	struct colod_features f;
	bool json = false;
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "--cgroup-root") && i + 1 < argc) {
			root = argv[++i];
		} else if (!strncmp(argv[i], "--cgroup-root=", 14)) {
			root = argv[i] + 14;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			features_usage(stdout);
			return 0;
		} else {
			pr_err("features: unknown argument '%s'", argv[i]);
			features_usage(stderr);
			return 2;
		}
	}
	if (features_probe(&f, root, NULL))
		return 1;
	features_print(stdout, &f, json);
	return 0;
}
