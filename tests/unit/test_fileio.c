// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Whole-file reads (limit, EFBIG, empty, missing, pipes) and atomic
 * replacement (content, mode, no temp file left, old file intact when a
 * write or the rename fails), on plain files in a temp dir (no root).
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "fileio.h"
#include "tfile.h"

static char tmp[64];

static void setup(void)
{
	strcpy(tmp, "/tmp/colod-test-fileio-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
}

static void teardown(void)
{
	tfile_rm_tree(tmp);
}

TestSuite(fileio, .init = setup, .fini = teardown);

static char *at(const char *name)
{
	static char buf[4][256];
	static int i;
	char *p = buf[i++ % 4];

	snprintf(p, 256, "%s/%s", tmp, name);
	return p;
}

/* n bytes of a pattern, so a misplaced chunk shows up as a mismatch */
static char *pattern(size_t n)
{
	char *s = malloc(n + 1);
	size_t i;

	cr_assert_not_null(s);
	for (i = 0; i < n; i++)
		s[i] = 'a' + i % 23;
	s[n] = '\0';
	return s;
}

static void put(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f, "%s", path);
	cr_assert_eq(fwrite(data, 1, len, f), len);
	cr_assert_eq(fclose(f), 0);
}

/* Names in tmp, for "no temp file left behind". */
static int nr_entries(void)
{
	struct dirent *de;
	DIR *d = opendir(tmp);
	int n = 0;

	cr_assert_not_null(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

Test(fileio, read_up_to_the_limit)
{
	size_t max = 10000;	/* past the first 4 KiB chunk: the buffer grows */
	char *want = pattern(max), *got = NULL;

	put(at("f"), want, max);
	cr_assert_eq(file_read_all(at("f"), max, &got), 0);
	cr_assert_not_null(got);
	cr_assert_eq(strlen(got), max);
	cr_assert_str_eq(got, want);
	free(got);
	free(want);
}

Test(fileio, one_byte_past_the_limit_is_efbig)
{
	size_t max = 10000;
	char *data = pattern(max + 1), *got = (char *)1;

	put(at("f"), data, max + 1);
	cr_assert_eq(file_read_all(at("f"), max, &got), -EFBIG);
	cr_assert_null(got, "no buffer handed out on failure");
	free(data);
}

Test(fileio, small_limits)
{
	char *got = NULL;

	put(at("one"), "x", 1);
	cr_assert_eq(file_read_all(at("one"), 0, &got), -EFBIG);
	cr_assert_eq(file_read_all(at("one"), 1, &got), 0);
	cr_assert_str_eq(got, "x");
	free(got);
}

Test(fileio, empty_file)
{
	char *got = NULL;

	put(at("empty"), "", 0);
	cr_assert_eq(file_read_all(at("empty"), 0, &got), 0);
	cr_assert_not_null(got);
	cr_assert_str_eq(got, "");
	free(got);
}

Test(fileio, missing_file)
{
	char *got = (char *)1;

	cr_assert_eq(file_read_all(at("none"), 100, &got), -ENOENT);
	cr_assert_null(got);
}

Test(fileio, directory_is_an_error)
{
	char *got = NULL;

	cr_assert_eq(file_read_all(tmp, 100, &got), -EISDIR);
	cr_assert_null(got);
}

/* A pipe has no size: the limit must hold on what is read. */
Test(fileio, reads_a_pipe_to_eof)
{
	size_t n = 70000;	/* more than a pipe buffer: several reads */
	char *data = pattern(n), *got = NULL, path[64];
	int fds[2], status;
	pid_t pid;

	cr_assert_eq(pipe(fds), 0);
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		close(fds[0]);
		_exit(write(fds[1], data, n) == (ssize_t)n ? 0 : 1);
	}
	close(fds[1]);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fds[0]);
	cr_assert_eq(file_read_all(path, n, &got), 0);
	close(fds[0]);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	cr_assert_str_eq(got, data);
	free(got);
	free(data);
}

Test(fileio, atomic_write_creates_and_replaces)
{
	char *got = NULL;
	struct stat st;

	cr_assert_eq(file_write_atomic(at("state.json"), "first", 5, 0600), 0);
	cr_assert_eq(file_read_all(at("state.json"), 100, &got), 0);
	cr_assert_str_eq(got, "first");
	free(got);
	cr_assert_eq(file_write_atomic(at("state.json"), "second\n", 7, 0640), 0);
	cr_assert_eq(file_read_all(at("state.json"), 100, &got), 0);
	cr_assert_str_eq(got, "second\n");
	free(got);
	cr_assert_eq(stat(at("state.json"), &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0640, "mode as given: %o", st.st_mode & 07777);
	cr_assert_eq(nr_entries(), 1, "no temp file left behind");
}

Test(fileio, atomic_write_of_nothing)
{
	char *got = NULL;

	put(at("f"), "old", 3);
	cr_assert_eq(file_write_atomic(at("f"), "", 0, 0600), 0);
	cr_assert_eq(file_read_all(at("f"), 100, &got), 0);
	cr_assert_str_eq(got, "");
	free(got);
}

Test(fileio, missing_directory)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/no/such/dir/f", tmp);
	cr_assert_eq(file_write_atomic(path, "x", 1, 0600), -ENOENT);
	cr_assert_eq(nr_entries(), 0);
}

/* The rename fails (a directory is in the way): the temp file goes. */
Test(fileio, failed_rename_removes_the_temp_file)
{
	char *got = NULL;

	cr_assert_eq(mkdir(at("d"), 0700), 0);
	put(at("d/keep"), "kept", 4);
	cr_assert_eq(file_write_atomic(at("d"), "x", 1, 0600), -EISDIR);
	cr_assert_eq(nr_entries(), 1, "only the directory, no temp file");
	cr_assert_eq(file_read_all(at("d/keep"), 100, &got), 0);
	cr_assert_str_eq(got, "kept");
	free(got);
}

/*
 * A write that fails half way (RLIMIT_FSIZE: root ignores permissions, not
 * this) leaves the old file as it was and no temp file. In a child, so the
 * limit does not outlive the test.
 */
Test(fileio, failed_write_keeps_the_old_file)
{
	char *data = pattern(8192), *got = NULL;
	struct rlimit rl = { 4096, 4096 };
	int status, err;
	pid_t pid;

	put(at("f"), "old content\n", 12);
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		signal(SIGXFSZ, SIG_IGN);
		if (setrlimit(RLIMIT_FSIZE, &rl))
			_exit(255);
		err = file_write_atomic(at("f"), data, 8192, 0600);
		_exit(err < 0 ? -err : 0);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status));
	cr_assert_eq(WEXITSTATUS(status), EFBIG, "write error reported: %d",
		     WEXITSTATUS(status));
	cr_assert_eq(file_read_all(at("f"), 100, &got), 0);
	cr_assert_str_eq(got, "old content\n");
	cr_assert_eq(nr_entries(), 1, "no temp file left behind");
	free(got);
	free(data);
}

Test(fileio, fsync_dir_errors)
{
	cr_assert_eq(fsync_dir(tmp), 0);
	cr_assert_eq(fsync_dir(at("none")), -ENOENT);
	put(at("f"), "x", 1);
	cr_assert_eq(fsync_dir(at("f")), -ENOTDIR);
}

Test(fileio, read_buf_reads_the_head_or_the_whole)
{
	char path[128], buf[8];

	snprintf(path, sizeof(path), "%s/f", tmp);
	cr_assert_eq(file_read_buf(path, buf, sizeof(buf)), -ENOENT);
	tfile_write(path, "abc\n");
	cr_assert_eq(file_read_buf(path, buf, sizeof(buf)), 4);
	cr_assert_str_eq(buf, "abc\n");
	/* longer than the buffer: its head, NUL-terminated */
	tfile_write(path, "0123456789");
	cr_assert_eq(file_read_buf(path, buf, sizeof(buf)), 7);
	cr_assert_str_eq(buf, "0123456");
	tfile_write(path, "");
	cr_assert_eq(file_read_buf(path, buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "");
}
