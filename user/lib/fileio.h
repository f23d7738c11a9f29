/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Whole-file reads and atomic whole-file replacement, shared by the config
 * loader, the journal, cgroupfs, resctrl, the feature probe and the
 * predictor checkpoint. No logging
 * here: callers name the file in their own messages.
 */
#ifndef COLOD_FILEIO_H
#define COLOD_FILEIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Read the whole of path (a regular file, a pipe or a cgroupfs/resctrl
 * file) into a malloc'd NUL-terminated buffer; free(*out). Returns 0, or
 * -errno with *out NULL: -EFBIG when the file holds more than max bytes,
 * -ENOENT/-ENODEV when it vanished. EINTR is retried.
 */
int file_read_all(const char *path, size_t max, char **out);

/* The same from an open fd (a knob opened relative to its directory); closes fd. */
int file_read_fd(int fd, size_t max, char **out);

/*
 * The same for a file that must be a regular one (a ConfigMap key): -EINVAL
 * for a FIFO, a device or a socket, which is opened without blocking and
 * never read (a FIFO's read would wait for a writer forever).
 */
int file_read_regular(const char *path, size_t max, char **out);

/*
 * Read at most size - 1 bytes of path into buf and NUL-terminate it: the
 * head of a file (/proc/stat's first lines) or a small one whole. Returns
 * the length read, or -errno. EINTR is retried.
 */
ssize_t file_read_buf(const char *path, char *buf, size_t size);
/* The number a small file holds (a /proc/sys setting), or dflt if unreadable. */
uint64_t file_read_u64(const char *path, uint64_t dflt);

/*
 * Replace path with len bytes of data, all or nothing: a temp file in the
 * same directory, written in full, fsync'd, given mode (as is, not masked
 * by the umask), renamed over path, then the directory fsync'd. Returns 0
 * or -errno. On a failure before the rename the temp file is removed and
 * path keeps its old content; a failure of the final directory fsync
 * returns -errno with the new content already in place.
 */
int file_write_atomic(const char *path, const char *data, size_t len, mode_t mode);

/* As file_write_atomic without the directory fsync (the caller does it). */
int file_replace(const char *path, const char *data, size_t len, mode_t mode);

/* fsync a directory so a rename in it is durable. Returns 0 or -errno. */
int fsync_dir(const char *dir);
/* All of buf to fd, retried on EINTR and short writes; 0 or -errno. */
int write_all(int fd, const char *buf, size_t len);

#endif /* COLOD_FILEIO_H */
