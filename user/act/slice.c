// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/sched.h>
#include <linux/sched/types.h>
#include "fileio.h"
#include "slice.h"

/* A thread list of some hundred thousand threads: 7 bytes each. */
#define THREADS_MAX	(4 << 20)
/* kubepods/besteffort/pod/container is 3 below a BE top; room for more */
#define TREE_DEPTH_MAX	16
#define PROBE_NS	50000000ULL

static int get_attr(pid_t tid, struct sched_attr *a)
{
	memset(a, 0, sizeof(*a));
	return syscall(SYS_sched_getattr, tid, a, sizeof(*a), 0) ? -errno : 0;
}

static int set_attr(pid_t tid, struct sched_attr *a)
{
	a->size = sizeof(*a);
	return syscall(SYS_sched_setattr, tid, a, 0) ? -errno : 0;
}

/* 1 when changed, 0 when left alone, -errno when the kernel refused. */
static int set_one(pid_t tid, uint64_t ns, uint64_t only_ns)
{
	struct sched_attr a;
	int err = get_attr(tid, &a);

	if (err)
		return err == -ESRCH ? 0 : err;
	/* real-time and deadline threads have no EEVDF slice */
	if (a.sched_policy != SCHED_NORMAL && a.sched_policy != SCHED_BATCH &&
	    a.sched_policy != SCHED_IDLE)
		return 0;
	if (a.sched_runtime == ns || (only_ns && a.sched_runtime != only_ns))
		return 0;
	/* the same policy and nice: only the slice changes */
	a.sched_flags &= SCHED_FLAG_RESET_ON_FORK;
	a.sched_runtime = ns;
	a.sched_deadline = a.sched_period = 0;
	err = set_attr(tid, &a);
	if (err)
		return err == -ESRCH ? 0 : err;
	return 1;
}

/* One cgroup's threads; n counts those changed, *first_err the first refusal. */
static int set_threads(int dfd, uint64_t ns, uint64_t only_ns, int *n, int *first_err)
{
	char *list, *p, *end;
	long tid;
	int fd, err;

	fd = openat(dfd, "cgroup.threads", O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		fd = openat(dfd, "tasks", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = file_read_fd(fd, THREADS_MAX, &list);
	close(fd);
	if (err)
		return err;
	for (p = list; *p; p = end) {
		tid = strtol(p, &end, 10);
		if (end == p)
			break;
		err = set_one((pid_t)tid, ns, only_ns);
		if (err > 0)
			(*n)++;
		else if (err && !*first_err)
			*first_err = err;
	}
	free(list);
	return 0;
}

/* dfd's cgroup and, depth first, those below it; dfd is closed. */
static int set_tree(int dfd, int depth, uint64_t ns, uint64_t only_ns, int *n, int *first_err)
{
	struct dirent *de;
	DIR *d;
	int sub, err;

	err = set_threads(dfd, ns, only_ns, n, first_err);
	if (err || depth >= TREE_DEPTH_MAX) {
		close(dfd);
		return err;
	}
	d = fdopendir(dfd);
	if (!d) {
		err = -errno;
		close(dfd);
		return err;
	}
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		/* a cgroup removed meanwhile has no threads left to set */
		if (sub >= 0)
			set_tree(sub, depth + 1, ns, only_ns, n, first_err);
	}
	closedir(d);
	return 0;
}

static int set_dir(const char *dir, bool tree, uint64_t ns, uint64_t only_ns)
{
	int dfd, err, n = 0, first_err = 0;

	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return errno == ENODEV ? -ENOENT : -errno;
	if (tree) {
		err = set_tree(dfd, 0, ns, only_ns, &n, &first_err);
	} else {
		err = set_threads(dfd, ns, only_ns, &n, &first_err);
		close(dfd);
	}
	if (err)
		return err == -ENODEV ? -ENOENT : err;
	return first_err ?: n;
}

int slice_set_tree(const char *dir, uint64_t ns, uint64_t only_ns)
{
	return set_dir(dir, true, ns, only_ns);
}

int slice_set_cgroup(const char *dir, uint64_t ns, uint64_t only_ns)
{
	return set_dir(dir, false, ns, only_ns);
}

/*
 * In a child process, which exits with the slice: putting the caller's
 * back would make it custom, since the kernel reports the default slice as
 * the runtime of a task that never set one. (A thread would do, but
 * pthread.h's sched.h and the kernel's sched/types.h both define
 * sched_param.)
 */
static bool probe(void)
{
	struct sched_attr a;

	if (get_attr(0, &a))
		return false;
	a.sched_flags &= SCHED_FLAG_RESET_ON_FORK;
	a.sched_runtime = PROBE_NS;
	return !set_attr(0, &a) && !get_attr(0, &a) && a.sched_runtime == PROBE_NS;
}

bool slice_supported(void)
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return false;
	if (!pid)
		_exit(probe() ? 0 : 1);
	if (waitpid(pid, &st, 0) != pid)
		return false;
	return WIFEXITED(st) && !WEXITSTATUS(st);
}
