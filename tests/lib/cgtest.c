// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Real-kernel cgroup v1 test helpers; see cgtest.h. */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "cgtest.h"

#define RMDIR_TRIES	200	/* x 10 ms */

static const struct {
	unsigned int bit;
	const char *name;
} ctrl_names[] = {
	{ CGT_CPU, "cpu" },
	{ CGT_CPUACCT, "cpuacct" },
	{ CGT_CPUSET, "cpuset" },
	{ CGT_MEMORY, "memory" },
};

#define NR_CTRLS	(int)(sizeof(ctrl_names) / sizeof(ctrl_names[0]))

const char *cgtest_root(void)
{
	const char *r = getenv("COLOD_CGROUP_ROOT");

	return r && *r ? r : "/sys/fs/cgroup";
}

static const char *ctrl_name(unsigned int ctrl)
{
	int i;

	for (i = 0; i < NR_CTRLS; i++)
		if (ctrl_names[i].bit == ctrl)
			return ctrl_names[i].name;
	return NULL;
}

int cgtest_have(unsigned int ctrl)
{
	char path[512];

	if (!ctrl_name(ctrl))
		return 0;
	snprintf(path, sizeof(path), "%s/%s/cgroup.procs", cgtest_root(),
		 ctrl_name(ctrl));
	return access(path, F_OK) == 0;
}

static int rel_path(char *buf, size_t len, const char *rel, unsigned int ctrl,
		    const char *file)
{
	int n;

	if (!ctrl_name(ctrl))
		return -EINVAL;
	n = snprintf(buf, len, "%s/%s/%s%s%s", cgtest_root(), ctrl_name(ctrl),
		     rel, file ? "/" : "", file ? file : "");
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int cgtest_path(char *buf, size_t len, const struct cgtest_group *g,
		unsigned int ctrl, const char *file)
{
	return rel_path(buf, len, g->rel, ctrl, file);
}

static int write_str(const char *path, const char *value)
{
	ssize_t n;
	int fd, err = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, value, strlen(value));
	if (n < 0)
		err = -errno;
	close(fd);
	return err;
}

static int read_str(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	while (n && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return 0;
}

int cgtest_write(const struct cgtest_group *g, unsigned int ctrl,
		 const char *file, const char *value)
{
	char path[512];
	int err = cgtest_path(path, sizeof(path), g, ctrl, file);

	return err ?: write_str(path, value);
}

int cgtest_read(const struct cgtest_group *g, unsigned int ctrl,
		const char *file, char *buf, size_t len)
{
	char path[512];
	int err = cgtest_path(path, sizeof(path), g, ctrl, file);

	return err ?: read_str(path, buf, len);
}

/* cpuset v1 starts empty: tasks cannot join until cpus and mems are set. */
static int cpuset_inherit(const struct cgtest_group *g)
{
	static const char *const files[] = { "cpuset.cpus", "cpuset.mems" };
	char parent[256], path[512], val[256];
	char *slash;
	int i, err;

	snprintf(parent, sizeof(parent), "%s", g->rel);
	slash = strrchr(parent, '/');
	if (slash)
		*slash = '\0';
	else
		parent[0] = '\0';
	for (i = 0; i < 2; i++) {
		err = rel_path(path, sizeof(path), parent, CGT_CPUSET, files[i]);
		err = err ?: read_str(path, val, sizeof(val));
		err = err ?: cgtest_write(g, CGT_CPUSET, files[i], val);
		if (err)
			return err;
	}
	return 0;
}

static void rmdir_retry(const char *path)
{
	struct timespec ts = { 0, 10000000L };
	int i;

	for (i = 0; i < RMDIR_TRIES; i++) {
		if (!rmdir(path) || errno == ENOENT)
			return;
		if (errno != EBUSY)
			break;
		nanosleep(&ts, NULL);
	}
	fprintf(stderr, "cgtest: cannot remove %s: %s\n", path, strerror(errno));
}

static bool is_test_rel(const char *rel)
{
	return !strncmp(rel, CGT_PREFIX, strlen(CGT_PREFIX)) &&
	       !strstr(rel, "..");
}

int cgtest_make(struct cgtest_group *g, const char *rel, unsigned int ctrls)
{
	char path[512];
	int i, err = 0;

	memset(g, 0, sizeof(*g));
	if (!is_test_rel(rel))
		return -EPERM;
	if (snprintf(g->rel, sizeof(g->rel), "%s", rel) >= (int)sizeof(g->rel))
		return -ENAMETOOLONG;
	for (i = 0; i < NR_CTRLS && !err; i++) {
		if (!(ctrls & ctrl_names[i].bit))
			continue;
		err = cgtest_path(path, sizeof(path), g, ctrl_names[i].bit, NULL);
		if (!err && mkdir(path, 0755))
			err = -errno;
		if (!err)
			g->ctrls |= ctrl_names[i].bit;
	}
	if (!err && (ctrls & CGT_CPUSET))
		err = cpuset_inherit(g);
	if (err) {
		fprintf(stderr, "cgtest: cannot make %s: %s\n", rel, strerror(-err));
		cgtest_remove(g);
		memset(g, 0, sizeof(*g));
	}
	return err;
}

int cgtest_make_unique(struct cgtest_group *g, const char *name,
		       unsigned int ctrls)
{
	char rel[256];

	snprintf(rel, sizeof(rel), CGT_PREFIX "%s-%d", name, (int)getpid());
	return cgtest_make(g, rel, ctrls);
}

void cgtest_kill_all(struct cgtest_group *g)
{
	int i;

	for (i = 0; i < g->nr_pids; i++)
		kill(g->pids[i], SIGKILL);
	for (i = 0; i < g->nr_pids; i++)
		while (waitpid(g->pids[i], NULL, 0) < 0 && errno == EINTR)
			;
	g->nr_pids = 0;
}

void cgtest_remove(struct cgtest_group *g)
{
	char path[512];
	int i;

	cgtest_kill_all(g);
	if (!g->rel[0] || !is_test_rel(g->rel))
		return;
	for (i = NR_CTRLS - 1; i >= 0; i--) {
		if (!(g->ctrls & ctrl_names[i].bit))
			continue;
		if (!cgtest_path(path, sizeof(path), g, ctrl_names[i].bit, NULL))
			rmdir_retry(path);
	}
	g->ctrls = 0;
}

/* ---- children ---------------------------------------------------------- */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

enum child_kind { CHILD_BUSY, CHILD_PERIODIC, CHILD_MEM };

struct child_args {
	enum child_kind kind;
	unsigned int run_us, period_us;
	size_t bytes;
};

static void __attribute__((noreturn)) child_run(const struct child_args *a)
{
	volatile unsigned long spin = 0;
	struct timespec ts;
	uint64_t next, t;

	switch (a->kind) {
	case CHILD_BUSY:
		for (;;)
			spin++;
	case CHILD_PERIODIC:
		next = now_ns();
		for (;;) {
			t = now_ns();
			while (now_ns() - t < a->run_us * 1000ULL)
				spin++;
			next += a->period_us * 1000ULL;
			ts.tv_sec = next / 1000000000ULL;
			ts.tv_nsec = next % 1000000000ULL;
			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
		}
	case CHILD_MEM:
		for (;;)
			pause();
	}
	_exit(4);
}

static int touch_mem(size_t bytes)
{
	char *mem;
	size_t off;

	mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return -errno;
	for (off = 0; off < bytes; off += 4096)
		mem[off] = 1;
	return 0;
}

/*
 * The child joins the group itself (every controller), reports through a
 * pipe, and only then starts its work: the parent never measures a child
 * that is still outside.
 */
static pid_t spawn(struct cgtest_group *g, const struct child_args *a)
{
	int p[2], i, err = 0;
	char pid_s[32], c;
	pid_t pid;

	if (g->nr_pids >= CGT_MAX_PIDS || !g->ctrls)
		return -ENOSPC;
	if (pipe2(p, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0) {
		err = -errno;
		close(p[0]);
		close(p[1]);
		return err;
	}
	if (pid == 0) {
		close(p[0]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		snprintf(pid_s, sizeof(pid_s), "%d", (int)getpid());
		for (i = 0; i < NR_CTRLS && !err; i++)
			if (g->ctrls & ctrl_names[i].bit)
				err = cgtest_write(g, ctrl_names[i].bit,
						   "cgroup.procs", pid_s);
		/* Charged to the group: touch it after joining, before "ready". */
		if (!err && a->kind == CHILD_MEM)
			err = touch_mem(a->bytes);
		c = err ? 'E' : 'K';
		if (write(p[1], &c, 1) != 1 || err)
			_exit(2);
		close(p[1]);
		child_run(a);
	}
	close(p[1]);
	g->pids[g->nr_pids++] = pid;
	if (read(p[0], &c, 1) != 1 || c != 'K') {
		close(p[0]);
		fprintf(stderr, "cgtest: child could not join %s\n", g->rel);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		g->nr_pids--;
		return -EIO;
	}
	close(p[0]);
	return pid;
}

pid_t cgtest_spawn_busy(struct cgtest_group *g)
{
	struct child_args a = { .kind = CHILD_BUSY };

	return spawn(g, &a);
}

pid_t cgtest_spawn_periodic(struct cgtest_group *g, unsigned int run_us,
			    unsigned int period_us)
{
	struct child_args a = {
		.kind = CHILD_PERIODIC, .run_us = run_us, .period_us = period_us,
	};

	if (!period_us || run_us > period_us)
		return -EINVAL;
	return spawn(g, &a);
}

pid_t cgtest_spawn_mem(struct cgtest_group *g, size_t bytes)
{
	struct child_args a = { .kind = CHILD_MEM, .bytes = bytes };

	return spawn(g, &a);
}

/* ---- measurement --------------------------------------------------------- */

uint64_t cgtest_cpu_usage_ns(const struct cgtest_group *g)
{
	char buf[64];

	if (cgtest_read(g, CGT_CPUACCT, "cpuacct.usage", buf, sizeof(buf)))
		return 0;
	return strtoull(buf, NULL, 10);
}

int cgtest_measure_two(const struct cgtest_group *a, const struct cgtest_group *b,
		       unsigned int ms, double *cores_a, double *cores_b)
{
	uint64_t a0, b0, a1, b1, t0, t1;
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	t0 = now_ns();
	a0 = cgtest_cpu_usage_ns(a);
	b0 = b ? cgtest_cpu_usage_ns(b) : 0;
	nanosleep(&ts, NULL);
	a1 = cgtest_cpu_usage_ns(a);
	b1 = b ? cgtest_cpu_usage_ns(b) : 0;
	t1 = now_ns();
	if (!a1 || (b && !b1) || t1 == t0)
		return -EIO;
	*cores_a = (double)(a1 - a0) / (t1 - t0);
	if (b)
		*cores_b = (double)(b1 - b0) / (t1 - t0);
	return 0;
}

double cgtest_measure_cpus(const struct cgtest_group *g, unsigned int ms)
{
	double c;

	return cgtest_measure_two(g, NULL, ms, &c, NULL) ? -1.0 : c;
}
