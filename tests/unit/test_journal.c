// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The journal of originals, on plain files in a temp dir (no root): first
 * write journals, skip when in place, vanished paths, restore byte for
 * byte, crash (SIGKILL) + restart + restore, locking, corrupt state files.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "fileio.h"
#include "journal.h"
#include "tfile.h"

static char tmp[64];
static char state[128];

static void setup(void)
{
	strcpy(tmp, "/tmp/colod-journal-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
	snprintf(state, sizeof(state), "%s/state/nested", tmp);
}

static void teardown(void)
{
	tfile_rm_tree(tmp);
}

TestSuite(journal, .init = setup, .fini = teardown);

static char *knob(const char *name)
{
	static char buf[8][256];
	static int i;
	char *p = buf[i++ % 8];

	snprintf(p, 256, "%s/%s", tmp, name);
	return p;
}

static char *get(const char *path)
{
	char *s = NULL;

	cr_assert_eq(file_read_all(path, 1 << 20, &s), 0, "%s", path);
	return s;
}

static void assert_content(const char *path, const char *want)
{
	char *s = get(path);

	cr_assert_str_eq(s, want, "%s", path);
	free(s);
}

static cJSON *state_json(void)
{
	char path[256];
	char *s;
	cJSON *j;

	snprintf(path, sizeof(path), "%s/journal.json", state);
	s = get(path);
	j = cJSON_Parse(s);
	free(s);
	cr_assert_not_null(j);
	return j;
}

static const char *jfile(void)
{
	static char path[256];

	snprintf(path, sizeof(path), "%s/journal.json", state);
	return path;
}

/* Files of the state dir whose name starts with prefix. */
static int count_prefixed(const char *prefix)
{
	struct dirent *d;
	DIR *dir = opendir(state);
	int n = 0;

	cr_assert_not_null(dir);
	while ((d = readdir(dir)))
		n += !strncmp(d->d_name, prefix, strlen(prefix));
	closedir(dir);
	return n;
}

/* Plain files in tmp stand in for a cgroup hierarchy. */
static void tmp_is_a_hierarchy(void)
{
	struct statfs sf;

	cr_assert_eq(statfs(tmp, &sf), 0);
	journal_test_hierarchy_fs(sf.f_type);
}

/* The content of the one journal.json.corrupt-* file. */
static char *read_aside(void)
{
	char path[512];
	struct dirent *d;
	DIR *dir = opendir(state);

	cr_assert_not_null(dir);
	while ((d = readdir(dir)) && strncmp(d->d_name, "journal.json.corrupt-", 21))
		;
	cr_assert_not_null(d, "no journal.json.corrupt-* in %s", state);
	snprintf(path, sizeof(path), "%s/%s", state, d->d_name);
	closedir(dir);
	return get(path);
}

Test(journal, first_write_journals_original_before_writing)
{
	struct journal *j = journal_open(state);
	const cJSON *e;
	cJSON *js;

	cr_assert_not_null(j);
	tfile_write(knob("cpu.cfs_quota_us"), "-1\n");
	cr_assert_eq(journal_write(j, knob("cpu.cfs_quota_us"), "20000"), 0);
	assert_content(knob("cpu.cfs_quota_us"), "20000");
	cr_assert_eq(journal_count(j), 1);
	cr_assert_str_eq(journal_original(j, knob("cpu.cfs_quota_us")), "-1\n");

	js = state_json();
	e = cJSON_GetArrayItem(cJSON_GetObjectItem(js, "entries"), 0);
	cr_assert_str_eq(cJSON_GetObjectItem(e, "path")->valuestring,
			 knob("cpu.cfs_quota_us"));
	cr_assert_str_eq(cJSON_GetObjectItem(e, "original")->valuestring, "-1\n");
	cJSON_Delete(js);

	/* A second write keeps the first original. */
	cr_assert_eq(journal_write(j, knob("cpu.cfs_quota_us"), "10000"), 0);
	assert_content(knob("cpu.cfs_quota_us"), "10000");
	cr_assert_eq(journal_count(j), 1);
	cr_assert_str_eq(journal_original(j, knob("cpu.cfs_quota_us")), "-1\n");
	journal_close(j);
}

Test(journal, no_temp_file_left_behind)
{
	struct journal *j = journal_open(state);
	char path[256];

	tfile_write(knob("a"), "1");
	cr_assert_eq(journal_write(j, knob("a"), "2"), 0);
	snprintf(path, sizeof(path), "%s/journal.json.tmp", state);
	cr_assert_eq(access(path, F_OK), -1);
	snprintf(path, sizeof(path), "%s/journal.json", state);
	cr_assert_eq(access(path, F_OK), 0);
	journal_close(j);
}

Test(journal, skip_when_value_in_place)
{
	struct journal *j = journal_open(state);
	struct stat a, b;

	tfile_write(knob("cpu.shares"), "1024\n");
	stat(knob("cpu.shares"), &a);
	usleep(20000);
	cr_assert_eq(journal_write(j, knob("cpu.shares"), "1024"), 0);
	cr_assert_eq(journal_write(j, knob("cpu.shares"), "1024\n"), 0);
	stat(knob("cpu.shares"), &b);
	cr_assert_eq(journal_count(j), 0, "nothing was written, nothing journaled");
	cr_assert_eq(a.st_mtim.tv_nsec, b.st_mtim.tv_nsec);
	cr_assert_eq(a.st_mtim.tv_sec, b.st_mtim.tv_sec);
	assert_content(knob("cpu.shares"), "1024\n");
	cr_assert_eq(journal_write(j, knob("cpu.shares"), "2"), 0);
	cr_assert_eq(journal_count(j), 1);
	journal_close(j);
}

Test(journal, vanished_path_is_enoent_and_not_journaled)
{
	struct journal *j = journal_open(state);

	cr_assert_eq(journal_write(j, knob("gone/cpu.shares"), "2"), -ENOENT);
	cr_assert_eq(journal_count(j), 0);
	journal_close(j);
}

Test(journal, unreadable_path_is_reported_not_journaled)
{
	struct journal *j = journal_open(state);

	/* A directory reads with EISDIR: reported, not journaled. */
	mkdir(knob("dir"), 0755);
	cr_assert_eq(journal_write(j, knob("dir"), "1"), -EISDIR);
	cr_assert_eq(journal_count(j), 0);
	journal_close(j);
}

Test(journal, restore_puts_originals_back_byte_for_byte)
{
	static const char *const orig[] = {
		"max 100000\n", "no newline", "", "tab\there \"quoted\" \\ \x01\n",
		"0-1\n\n", "9223372036854771712\n",
	};
	struct journal *j = journal_open(state);
	char name[32];
	size_t i, n = sizeof(orig) / sizeof(orig[0]);

	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "k%zu", i);
		tfile_write(knob(name), orig[i]);
		cr_assert_eq(journal_write(j, knob(name), "colod-value"), 0);
		assert_content(knob(name), "colod-value");
	}
	cr_assert_eq(journal_count(j), (int)n);
	/* One more round of writes: originals must not move. */
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "k%zu", i);
		cr_assert_eq(journal_write(j, knob(name), "other"), 0);
	}
	journal_close(j);

	j = journal_open(state);
	cr_assert_not_null(j);
	cr_assert_eq(journal_count(j), (int)n);
	cr_assert_eq(journal_restore_all(j), 0);
	cr_assert_eq(journal_count(j), 0);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "k%zu", i);
		assert_content(knob(name), orig[i]);
	}
	journal_close(j);

	/* The state file is emptied too. */
	j = journal_open(state);
	cr_assert_eq(journal_count(j), 0);
	journal_close(j);
}

Test(journal, restore_of_vanished_file_is_not_an_error)
{
	struct journal *j = journal_open(state);

	tfile_write(knob("x"), "1");
	tfile_write(knob("y"), "a");
	cr_assert_eq(journal_write(j, knob("x"), "2"), 0);
	cr_assert_eq(journal_write(j, knob("y"), "b"), 0);
	unlink(knob("x"));
	tmp_is_a_hierarchy();
	cr_assert_eq(journal_restore_all(j), 0);
	assert_content(knob("y"), "a");
	cr_assert_eq(access(knob("x"), F_OK), -1, "restore must not create files");
	journal_close(j);
}

Test(journal, noted_directories_removed_on_restore)
{
	struct journal *j = journal_open(state);

	mkdir(knob("grp"), 0755);
	cr_assert_eq(journal_note_mkdir(j, knob("grp")), 0);
	cr_assert_eq(journal_note_mkdir(j, knob("grp")), 0);
	cr_assert_eq(journal_note_mkdir(j, knob("never-made")), 0);
	cr_assert_eq(journal_count(j), 0, "directories are not files");
	journal_close(j);

	j = journal_open(state);
	cr_assert_eq(journal_restore_all(j), 0);
	cr_assert_eq(access(knob("grp"), F_OK), -1);
	journal_close(j);
}

Test(journal, second_open_is_refused_while_held)
{
	struct journal *a = journal_open(state), *b;

	cr_assert_not_null(a);
	b = journal_open(state);
	cr_assert_null(b);
	cr_assert_eq(errno, EBUSY);
	journal_close(a);
	b = journal_open(state);
	cr_assert_not_null(b);
	journal_close(b);
}

Test(journal, another_version_is_refused_and_kept)
{
	const char *text = "{\"version\":2,\"entries\":[]}";
	struct journal *j;

	j = journal_open(state);
	journal_close(j);
	tfile_write(jfile(), text);
	cr_assert_null(journal_open(state));
	cr_assert_eq(errno, EINVAL);
	assert_content(jfile(), text);
	cr_assert_eq(count_prefixed("journal.json.corrupt-"), 0);
}

/*
 * A corrupt journal: every entry that parses is kept, the file as found is
 * kept aside as journal.json.corrupt-<time>, and the agent goes on.
 */
Test(journal, corrupt_journal_is_salvaged_and_kept_aside)
{
	char text[1024], *aside;
	struct journal *j;

	j = journal_open(state);
	journal_close(j);
	snprintf(text, sizeof(text), "{\"version\":1,\"entries\":[\n"
		 "{\"op\":\"write\",\"path\":\"%s\",\"original\":\"1\"},\n"
		 "{\"op\":\"write\",\"pa#h\":\"%s\",\"original\":\"2\"},\n"
		 "{\"op\":\"write\",\"path\":\"rel\",\"original\":\"3\"},\n"
		 "{\"op\":\"write\",\"path\":\"%s\",\"original\":\"4\"},\n"
		 "{\"op\":\"write\",\"path\":\"%s\",\"origi",
		 knob("a"), knob("b"), knob("d"), knob("e"));
	tfile_write(knob("a"), "x");
	tfile_write(knob("d"), "x");
	tfile_write(jfile(), text);
	j = journal_open(state);
	cr_assert_not_null(j, "a corrupt journal does not stop the agent");
	cr_assert_eq(journal_count(j), 2, "the entries that parse are kept");
	cr_assert_str_eq(journal_original(j, knob("a")), "1");
	cr_assert_str_eq(journal_original(j, knob("d")), "4");
	cr_assert_eq(count_prefixed("journal.json.corrupt-"), 1);
	cr_assert_eq(journal_restore_all(j), 0);
	assert_content(knob("a"), "1");
	assert_content(knob("d"), "4");
	journal_close(j);

	/* the file as found, byte for byte */
	aside = read_aside();
	cr_assert_str_eq(aside, text);
	free(aside);
}

Test(journal, a_journal_of_another_kind_is_salvaged_empty)
{
	struct journal *j;

	j = journal_open(state);
	journal_close(j);
	tfile_write(jfile(), "{ not json");
	j = journal_open(state);
	cr_assert_not_null(j);
	cr_assert_eq(journal_count(j), 0);
	journal_close(j);
	cr_assert_eq(count_prefixed("journal.json.corrupt-"), 1);
}

/*
 * A save killed between its temp file and the rename leaves the temp file:
 * the journal's, config.json's and predictor.json's are all colod's.
 */
Test(journal, temp_files_of_a_killed_save_are_removed_at_open)
{
	char path[256], pred[256], other[256];
	struct journal *j;

	j = journal_open(state);
	journal_close(j);
	snprintf(path, sizeof(path), "%s/.journal.json.Ab12Cd", state);
	snprintf(pred, sizeof(pred), "%s/.predictor.json.Ab12Cd", state);
	snprintf(other, sizeof(other), "%s/.operator-notes.txt", state);
	tfile_write(path, "{\"version\":1,");
	tfile_write(pred, "{\"models\":");
	tfile_write(other, "not colod's");
	j = journal_open(state);
	cr_assert_not_null(j);
	cr_assert_eq(access(path, F_OK), -1, "the journal's temp file is removed");
	cr_assert_eq(access(pred, F_OK), -1, "predictor.json's temp file is removed");
	cr_assert_eq(access(other, F_OK), 0, "other files are left alone");
	journal_close(j);
}

/* Far over 1 MiB: opened, restored in full, and a save of it holds. */
#define BIG	20000
Test(journal, a_journal_of_20000_entries_opens_and_restores, .timeout = 120)
{
	char *argv[] = { "restore", "--state-dir", state, NULL };
	char dir[200], path[256], *text, *p;
	struct journal *j;
	size_t len = 0, cap = (size_t)BIG * 200;
	struct stat st;
	int i;

	snprintf(dir, sizeof(dir), "%s/big", tmp);
	cr_assert_eq(mkdir(dir, 0755), 0);
	text = malloc(cap);
	p = text;
	len = sprintf(p, "{\"version\":1,\"entries\":[");
	for (i = 0; i < BIG; i++) {
		snprintf(path, sizeof(path), "%s/cpu.cfs_quota_us.%d", dir, i);
		tfile_write(path, "20000\n");
		len += snprintf(text + len, cap - len, "%s\n{\"op\":\"write\",\"path\":"
				"\"%s\",\"original\":\"-1\\n\"}", i ? "," : "", path);
	}
	len += snprintf(text + len, cap - len, "]}\n");
	j = journal_open(state);
	journal_close(j);
	tfile_write(jfile(), text);
	free(text);
	cr_assert_eq(stat(jfile(), &st), 0);
	cr_assert_gt(st.st_size, 1 << 20);

	j = journal_open(state);
	cr_assert_not_null(j, "a big journal opens: %s", strerror(errno));
	cr_assert_eq(journal_count(j), BIG);
	journal_close(j);
	cr_assert_eq(cmd_restore(3, argv), 0);
	for (i = 0; i < BIG; i += 997) {
		snprintf(path, sizeof(path), "%s/cpu.cfs_quota_us.%d", dir, i);
		assert_content(path, "-1\n");
	}
	snprintf(path, sizeof(path), "%s/cpu.cfs_quota_us.%d", dir, BIG - 1);
	assert_content(path, "-1\n");
	j = journal_open(state);
	cr_assert_eq(journal_count(j), 0);
	journal_close(j);
}

Test(journal, a_journal_over_the_size_cap_is_refused_by_name)
{
	struct journal *j;
	int fd;

	j = journal_open(state);
	journal_close(j);
	fd = open(jfile(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, (off_t)JOURNAL_SIZE_MAX + 1), 0);
	close(fd);
	cr_assert_null(journal_open(state));
	cr_assert_eq(errno, EFBIG);
	cr_assert_eq(count_prefixed("journal.json.corrupt-"), 0, "kept as it is");
}

/*
 * No cgroup hierarchy where the entries point (not mounted, a wrong root):
 * restore fails and the journal keeps them, rather than take every entry
 * for a cgroup that is gone.
 */
Test(journal, restore_without_the_hierarchy_fails_and_keeps_the_entries)
{
	char *argv[] = { "restore", "--state-dir", state, NULL };
	char text[1024];
	struct journal *j;

	j = journal_open(state);
	journal_close(j);
	snprintf(text, sizeof(text), "{\"version\":1,\"entries\":["
		 "{\"op\":\"write\",\"path\":\"%s\",\"original\":\"1024\\n\"},"
		 "{\"op\":\"write\",\"path\":\"%s\",\"original\":\"-1\\n\"}]}",
		 knob("no-cgroupfs/cpu/kubepods/pod1/cpu.shares"),
		 knob("cpu.cfs_quota_us"));
	tfile_write(jfile(), text);
	/* tmp is not a cgroup filesystem: neither file is "gone with its cgroup" */
	cr_assert_eq(cmd_restore(3, argv), 1);
	j = journal_open(state);
	cr_assert_not_null(j);
	cr_assert_eq(journal_count(j), 2, "both entries kept");
	journal_close(j);

	/* once the hierarchy is there, they are vanished cgroups: pruned */
	tmp_is_a_hierarchy();
	cr_assert_eq(cmd_restore(3, argv), 0);
	j = journal_open(state);
	cr_assert_eq(journal_count(j), 0);
	journal_close(j);
}

Test(journal, entries_of_vanished_cgroups_are_pruned_at_open)
{
	struct journal *j;
	cJSON *js;

	tmp_is_a_hierarchy();
	j = journal_open(state);
	tfile_write(knob("x"), "1");
	tfile_write(knob("y"), "1");
	cr_assert_eq(journal_write(j, knob("x"), "2"), 0);
	cr_assert_eq(journal_write(j, knob("y"), "2"), 0);
	journal_close(j);
	unlink(knob("x"));
	j = journal_open(state);
	cr_assert_eq(journal_count(j), 1);
	js = state_json();
	cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(js, "entries")), 1,
		     "the state file is compacted");
	cJSON_Delete(js);
	journal_close(j);
}

/*
 * The agent is SIGKILLed after it has throttled: a restarted agent keeps
 * the originals (never journaling its own values), and restore brings each
 * back byte for byte.
 */
Test(journal, sigkill_restart_restore)
{
	int ready[2];
	struct journal *j;
	pid_t pid;
	char c;
	int status;

	tfile_write(knob("cpu.cfs_quota_us"), "-1\n");
	tfile_write(knob("cpu.cfs_period_us"), "100000\n");
	tfile_write(knob("cpu.shares"), "1024\n");
	tfile_write(knob("memory.limit_in_bytes"), "9223372036854771712\n");
	cr_assert_eq(pipe(ready), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		j = journal_open(state);
		if (!j ||
		    journal_write(j, knob("cpu.cfs_period_us"), "50000") ||
		    journal_write(j, knob("cpu.cfs_quota_us"), "10000") ||
		    journal_write(j, knob("cpu.shares"), "2"))
			_exit(1);
		if (write(ready[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(ready[1]);
	cr_assert_eq(read(ready[0], &c, 1), 1, "child failed before throttling");
	close(ready[0]);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	cr_assert(WIFSIGNALED(status));
	assert_content(knob("cpu.cfs_quota_us"), "10000");

	/* The restart: throttled values are in place, originals are kept. */
	j = journal_open(state);
	cr_assert_not_null(j);
	cr_assert_eq(journal_count(j), 3);
	cr_assert_eq(journal_write(j, knob("cpu.cfs_quota_us"), "5000"), 0);
	cr_assert_eq(journal_write(j, knob("memory.limit_in_bytes"), "1048576"), 0);
	cr_assert_eq(journal_count(j), 4);
	cr_assert_str_eq(journal_original(j, knob("cpu.cfs_quota_us")), "-1\n");
	journal_close(j);	/* a second crash-free stop without restore */

	j = journal_open(state);
	cr_assert_eq(journal_count(j), 4);
	cr_assert_eq(journal_restore_all(j), 0);
	journal_close(j);
	assert_content(knob("cpu.cfs_quota_us"), "-1\n");
	assert_content(knob("cpu.cfs_period_us"), "100000\n");
	assert_content(knob("cpu.shares"), "1024\n");
	assert_content(knob("memory.limit_in_bytes"), "9223372036854771712\n");
}

Test(journal, cmd_restore_restores_and_rejects_bad_args)
{
	char *argv[] = { "restore", "--state-dir", state, NULL };
	char *bad[] = { "restore", "extra", NULL };
	struct journal *j = journal_open(state);

	tfile_write(knob("q"), "-1\n");
	cr_assert_eq(journal_write(j, knob("q"), "1000"), 0);
	/* Refused while an agent holds the journal. */
	cr_assert_eq(cmd_restore(3, argv), 1);
	assert_content(knob("q"), "1000");
	journal_close(j);
	cr_assert_eq(cmd_restore(3, argv), 0);
	assert_content(knob("q"), "-1\n");
	cr_assert_eq(cmd_restore(2, bad), 2);
}

/* Another spelling of the same file (a symlinked root, "//") is one entry. */
Test(journal, same_file_other_spelling_keeps_one_original)
{
	struct journal *j = journal_open(state);
	char other[300];

	mkdir(knob("cpu,cpuacct"), 0755);
	cr_assert_eq(symlink("cpu,cpuacct", knob("cpu")), 0);
	tfile_write(knob("cpu,cpuacct/cpu.shares"), "1024\n");
	cr_assert_eq(journal_write(j, knob("cpu/cpu.shares"), "2"), 0);
	snprintf(other, sizeof(other), "%s//cpu,cpuacct/./cpu.shares", tmp);
	cr_assert_eq(journal_write(j, other, "3"), 0);
	cr_assert_eq(journal_count(j), 1);
	cr_assert_str_eq(journal_original(j, other), "1024\n");
	cr_assert_str_eq(journal_original(j, knob("cpu/cpu.shares")), "1024\n");
	cr_assert_eq(journal_restore_all(j), 0);
	assert_content(knob("cpu/cpu.shares"), "1024\n");
	journal_close(j);
}

Test(journal, remember_journals_many_originals_at_once)
{
	struct journal *j = journal_open(state);
	char *paths[3] = { knob("q1"), knob("q2"), knob("gone") };
	struct stat st1, st2;
	char jpath[256];
	cJSON *js;

	cr_assert_not_null(j);
	tfile_write(paths[0], "-1\n");
	tfile_write(paths[1], "100000\n");
	cr_assert_eq(journal_remember(j, paths, 3), 0, "a vanished file is skipped");
	cr_assert_eq(journal_count(j), 2);
	js = state_json();
	cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(js, "entries")), 2,
		     "both originals saved before any write");
	cJSON_Delete(js);
	cr_assert_str_eq(journal_original(j, paths[1]), "100000\n");

	/* the writes that follow find them held: no further save */
	snprintf(jpath, sizeof(jpath), "%s/journal.json", state);
	cr_assert_eq(stat(jpath, &st1), 0);
	usleep(20000);
	cr_assert_eq(journal_write(j, paths[0], "5000"), 0);
	cr_assert_eq(journal_write(j, paths[1], "10000"), 0);
	cr_assert_eq(stat(jpath, &st2), 0);
	cr_assert_eq(st1.st_ino, st2.st_ino, "the journal was not rewritten");
	cr_assert_eq(journal_remember(j, paths, 2), 0, "held ones are skipped");
	cr_assert_str_eq(journal_original(j, paths[0]), "-1\n",
			 "remembering again never takes a written value as original");

	cr_assert_eq(journal_restore_all(j), 0);
	assert_content(paths[0], "-1\n");
	assert_content(paths[1], "100000\n");
	journal_close(j);
}
