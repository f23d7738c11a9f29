// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The state directory under stress: a full filesystem (a small tmpfs as
 * --state-dir), a damaged journal (torn tail, garbage between entries) and
 * an oversized one (over JOURNAL_SIZE_MAX). Whatever the journal cannot
 * hold, colod must not write; whatever it holds comes back byte for byte.
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "chaos.h"
#include "fileio.h"
#include "journal.h"
#include "tfile.h"

static char state[256];
static bool mounted;

static void setup(void)
{
	chaos_setup("state");
	snprintf(state, sizeof(state), "%s", agentrun_path(&chaos_run, "state"));
	cr_assert_eq(mkdir(state, 0700), 0);
}

static void teardown(void)
{
	if (mounted)
		umount2(state, MNT_DETACH);
	mounted = false;
	chaos_teardown();
}

TestSuite(chaos_state, .init = setup, .fini = teardown, .timeout = 180);

static const char *filler(void)
{
	return agentrun_path(&chaos_run, "state/filler");
}

/* Fill the state dir's filesystem to the last byte. */
static void fill(void)
{
	static char buf[4096];
	int fd = open(filler(), O_WRONLY | O_CREAT | O_APPEND, 0600);

	cr_assert_geq(fd, 0);
	while (write(fd, buf, sizeof(buf)) > 0)
		;
	cr_assert_eq(errno, ENOSPC, "filled up: %s", strerror(errno));
	while (write(fd, buf, 1) > 0)
		;
	close(fd);
}

static void mount_small_tmpfs(void)
{
	cr_assert_eq(mount("tmpfs", state, "tmpfs", 0, "size=64k,mode=0700"), 0, "%s",
		     strerror(errno));
	mounted = true;
}

static void assert_clean_state(const char *when)
{
	char name[256] = "";

	cr_assert_eq(chaos_temp_files(&chaos_run, name, sizeof(name)), 0,
		     "%s: temp file %s left in the state dir", when, name);
}

Test(chaos_state, a_full_state_dir_changes_nothing_until_space_is_back)
{
	struct chaos_snap orig;

	cr_assert_gt(cgtest_spawn_busy(&chaos_be), 0);
	chaos_snapshot(&orig);
	mount_small_tmpfs();
	fill();
	chaos_start(&chaos_run);
	sleep(3);
	/* no journal, no write: nothing may have changed */
	chaos_assert_originals(&orig, "agent on a full state dir");
	assert_clean_state("full state dir");
	if (agentrun_alive(&chaos_run)) {
		cr_assert_eq(unlink(filler()), 0);
		cr_assert(chaos_wait_be_idle(10000), "with space back the agent does its work");
		cr_assert_eq(WEXITSTATUS(agentrun_stop(&chaos_run, SIGTERM)), 0);
	} else {
		cr_log_info("the agent exited on a full state dir (status %#x)", chaos_run.status);
		cr_assert_neq(chaos_run.status, 0, "and said so in its exit status");
	}
	chaos_assert_originals(&orig, "after stop");
	assert_clean_state("after stop");
}

Test(chaos_state, space_running_out_mid_run_then_kill_9_and_restore)
{
	struct chaos_snap orig, before;
	int rc;

	cr_assert_gt(cgtest_spawn_busy(&chaos_be), 0);
	cr_assert_gt(cgtest_spawn_busy(&chaos_ls), 0);
	chaos_snapshot(&orig);
	mount_small_tmpfs();
	chaos_start(&chaos_run);
	cr_assert(chaos_wait_be_idle(20000), "BE idled");
	sleep(1);
	fill();
	/* the cpuset policy needs cpuset.cpus, a knob not journaled yet */
	chaos_snapshot(&before);
	chaos_config(&chaos_run, true);
	sleep(3);
	cr_assert_str_eq(orig.v[1][4], before.v[1][4]);
	{
		char cpus[128];

		cgtest_read(&chaos_be, CGT_CPUSET, "cpuset.cpus", cpus, sizeof(cpus));
		cr_assert_eq(strncmp(cpus, orig.v[1][4], strcspn(orig.v[1][4], "\n")), 0,
			     "cpuset.cpus unwritten while its original cannot be saved (%s)", cpus);
	}
	agentrun_stop(&chaos_run, SIGKILL);
	assert_clean_state("killed on a full state dir");
	rc = chaos_restore(&chaos_run);
	cr_log_info("colod restore on a full state dir: exit %d", rc);
	chaos_assert_originals(&orig, "colod restore on a full state dir");
	cr_assert_eq(unlink(filler()), 0);
	cr_assert_eq(chaos_restore(&chaos_run), 0, "with space back, restore exits 0");
	cr_assert_eq(agentrun_journal_entries(&chaos_run), 0);
	chaos_assert_originals(&orig, "second restore");
	assert_clean_state("after restore");
}

/* ---- damaged journals ----------------------------------------------- */

/* A real journal: the agent idles and throttles, then is killed. */
static char *killed_agent_journal(struct chaos_snap *orig)
{
	char *text = NULL;

	cr_assert_gt(cgtest_spawn_busy(&chaos_be), 0);
	cr_assert_gt(cgtest_spawn_busy(&chaos_ls), 0);
	chaos_snapshot(orig);
	chaos_start(&chaos_run);
	cr_assert(chaos_wait_be_idle(20000), "BE idled");
	sleep(2);
	agentrun_stop(&chaos_run, SIGKILL);
	cr_assert_gt(agentrun_journal_entries(&chaos_run), 1, "the journal holds several knobs");
	cr_assert_gt(chaos_diff(orig, NULL, 0), 0, "the killed agent left knobs changed");
	cr_assert_eq(file_read_all(agentrun_path(&chaos_run, "state/journal.json"), 1 << 20,
				   &text), 0);
	return text;
}

static int corrupt_copies(void)
{
	char pat[300];
	glob_t g;
	int n;

	snprintf(pat, sizeof(pat), "%s/journal.json.corrupt-*", state);
	if (glob(pat, 0, NULL, &g))
		return 0;
	n = (int)g.gl_pathc;
	globfree(&g);
	return n;
}

Test(chaos_state, a_torn_journal_is_salvaged_by_colod_restore)
{
	struct chaos_snap orig;
	char *text = killed_agent_journal(&orig);
	char *end = strrchr(text, '}');

	/* cut after the last entry's closing brace: "\n]}\n" lost */
	cr_assert_not_null(end);
	end[0] = 0;
	end = strrchr(text, '}');
	end[1] = 0;
	tfile_write(agentrun_path(&chaos_run, "state/journal.json"), text);
	free(text);
	cr_assert_eq(chaos_restore(&chaos_run), 0, "colod restore exits 0");
	chaos_assert_originals(&orig, "restore of a torn journal");
	cr_assert_eq(corrupt_copies(), 1, "the file as found is kept aside");
	cr_assert_eq(agentrun_journal_entries(&chaos_run), 0);
}

Test(chaos_state, garbage_between_entries_is_salvaged_by_colod_run)
{
	struct chaos_snap orig;
	char *text = killed_agent_journal(&orig);
	char *cut = strstr(text, ",\n"), *bad;

	cr_assert_not_null(cut);
	cr_assert_gt(asprintf(&bad, "%.*s,\n\x01\xff\"garbage\":[%s", (int)(cut - text), text,
			      cut + 2), 0);
	tfile_write(agentrun_path(&chaos_run, "state/journal.json"), bad);
	free(bad);
	free(text);
	chaos_start(&chaos_run);
	cr_assert(agentrun_wait_log(&chaos_run, "running:", 20000), "the agent starts");
	if (!agentrun_log_has(&chaos_run, "damaged:"))
		agentrun_show_log(&chaos_run);
	cr_assert(agentrun_log_has(&chaos_run, "damaged:"), "and says the journal was damaged");
	cr_assert_eq(WEXITSTATUS(agentrun_stop(&chaos_run, SIGTERM)), 0);
	chaos_assert_originals(&orig, "SIGTERM of an agent that salvaged its journal");
	cr_assert_eq(corrupt_copies(), 1, "the file as found is kept aside");
}

Test(chaos_state, an_oversized_journal_is_refused_and_kept)
{
	struct chaos_snap orig, left;
	char *text = killed_agent_journal(&orig);
	char path[300];
	off_t big = (off_t)JOURNAL_SIZE_MAX + 4096;
	off_t real = (off_t)strlen(text);
	struct stat st;
	int fd;

	free(text);
	snprintf(path, sizeof(path), "%s/journal.json", state);
	chaos_snapshot(&left);
	/* sparse: the real journal, then zeros past the cap */
	fd = open(path, O_WRONLY);
	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, big), 0);
	close(fd);
	cr_assert_neq(chaos_restore(&chaos_run), 0, "colod restore refuses it");
	cr_assert(file_has(agentrun_path(&chaos_run, "restore.log"), "256 MiB"),
		  "naming the cap");
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_size, big, "the journal is kept as it is");

	chaos_start(&chaos_run);
	cr_assert(agentrun_wait_exit(&chaos_run, 20000), "colod run stops by itself");
	cr_assert_neq(chaos_run.status, 0, "with a non-zero status");
	cr_assert_eq(stat(path, &st), 0);
	if (st.st_size != big) {
		agentrun_show_log(&chaos_run);
		fprintf(stderr, "journal now: %s\nrestore.log: %s\n", slurp(path),
			slurp(agentrun_path(&chaos_run, "restore.log")));
	}
	cr_assert_eq(st.st_size, big, "the journal is still kept as it is (%lld bytes now)",
		     (long long)st.st_size);
	cr_assert_eq(chaos_diff(&left, NULL, 0), 0, "and nothing was written");

	/* the operator cuts it back to what colod wrote: all comes back */
	cr_assert_eq(truncate(path, real), 0);
	cr_assert_eq(chaos_restore(&chaos_run), 0);
	chaos_assert_originals(&orig, "restore of the journal cut back");
}
