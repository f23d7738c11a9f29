// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The agent's lock on its pin directory (see agentlock.h). bpffs holds no
 * regular files, so the lock is a flock() of the directory itself: it goes
 * with the process however it ends, and the descriptor is close-on-exec.
 * The directory may be removed under a lock (an agent unpins on its way
 * out), so a lock taken is kept only if the path still names the directory
 * locked.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "agentlock.h"
#include "log.h"

#define LOCK_TRIES	3

static int lock_fd = -1;

static bool still_there(int fd, const char *path)
{
	struct stat a, b;

	return !fstat(fd, &a) && !stat(path, &b) &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* 0 with the lock in *fd, 1 when the directory went away, -errno. */
static int lock_once(const char *dir, int *fd)
{
	int err;

	if (mkdir(dir, 0700) && errno != EEXIST) {
		err = -errno;
		pr_err("%s: cannot create the pin directory: %s", dir, strerror(-err));
		return err;
	}
	*fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*fd < 0) {
		err = -errno;
		pr_err("%s: cannot open the pin directory: %s", dir, strerror(-err));
		return err;
	}
	if (!flock(*fd, LOCK_EX | LOCK_NB))
		err = still_there(*fd, dir) ? 0 : 1;
	else if (errno == EWOULDBLOCK)
		err = -EBUSY;
	else
		err = -errno;
	if (err)
		close(*fd);
	return err;
}

int agent_lock(const char *pin_dir)
{
	int i, fd = -1, err = -EAGAIN;

	if (!pin_dir || lock_fd >= 0)
		return 0;
	for (i = 0; i < LOCK_TRIES; i++) {
		err = lock_once(pin_dir, &fd);
		if (err <= 0)
			break;
		err = -EAGAIN;
	}
	if (!err)
		lock_fd = fd;
	else if (err == -EBUSY)
		pr_err("%s: another colod agent runs with this pin directory; one "
		       "agent per pin directory (per host with the default); "
		       "this one stops and changes nothing", pin_dir);
	else if (err == -EAGAIN)
		pr_err("%s: cannot lock the pin directory: it keeps being removed",
		       pin_dir);
	return err;
}
