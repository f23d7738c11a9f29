// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * kill -9 of the real agent at random moments, then `colod restore`: every
 * original comes back byte for byte, the journal is empty, no temp file of
 * a save is left, and pins never pile up (a restart replaces a killed
 * agent's pins; the last, clean stop removes them).
 *
 * The moments, in turn:
 *  - startup: 0-400 ms after exec (BPF load, journal open, first reconcile);
 *  - save: the instant the k-th temp file of a journal save appears in the
 *    state dir (inotify), i.e. between its creation and its rename;
 *  - cut: 0-1.5 s into the loop while LS burns a core, so the suppress
 *    bound moves BE's quota every tick;
 *  - reload: 0-400 ms after the suppress policy is flipped between
 *    cfsQuota and cpuset (reconcile_now releases one knob, writes another).
 *
 * CHAOS_KILLS sets the number of kills (make test-chaos: 300; CI: 48),
 * CHAOS_SEED replays a run.
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "chaos.h"

enum phase { STARTUP, SAVE, CUT, RELOAD, NR_PHASES };
static const char *const phase_names[] = { "startup", "save", "cut", "reload" };

static int ino = -1;

static void setup(void)
{
	chaos_setup("kill");
}

static void teardown(void)
{
	if (ino >= 0)
		close(ino);
	ino = -1;
	chaos_teardown();
}

TestSuite(chaos_kill, .init = setup, .fini = teardown, .timeout = 3600);

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Wait for the nth creation of a save's temp file (".journal.json.XXXXXX")
 * in the state dir; true if seen within timeout_ms.
 */
static bool wait_nth_save(int nth, int timeout_ms)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	struct pollfd pfd = { .fd = ino, .events = POLLIN };
	long end = now_ms() + timeout_ms;
	const struct inotify_event *ev;
	ssize_t n;
	char *p;

	while (now_ms() < end) {
		if (poll(&pfd, 1, (int)(end - now_ms())) <= 0)
			continue;
		n = read(ino, buf, sizeof(buf));
		for (p = buf; n > 0 && p < buf + n; p += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)p;
			if (ev->len && !strncmp(ev->name, ".journal.json.", 14) && !--nth)
				return true;
		}
	}
	return false;
}

/* Start the agent, let it reach the moment of phase ph, kill -9 it. */
static bool kill_at(enum phase ph, bool *cpuset_policy)
{
	bool hit = true;

	chaos_start(&chaos_run);
	switch (ph) {
	case STARTUP:
		usleep(chaos_rand(400) * 1000);
		break;
	case SAVE:
		hit = wait_nth_save(1 + chaos_rand(2), 5000);
		break;
	case CUT:
		hit = agentrun_wait_log(&chaos_run, "running:", 10000);
		usleep(chaos_rand(1500) * 1000);
		break;
	case RELOAD:
		hit = agentrun_wait_log(&chaos_run, "running:", 10000);
		*cpuset_policy = !*cpuset_policy;
		chaos_config(&chaos_run, *cpuset_policy);
		usleep(chaos_rand(400) * 1000);
		break;
	default:
		break;
	}
	agentrun_stop(&chaos_run, SIGKILL);
	return hit;
}

Test(chaos_kill, kill_9_at_random_moments_then_restore_brings_back_every_original)
{
	int kills = chaos_env_int("CHAOS_KILLS", 48);
	int i, rc, dirty = 0, missed = 0, max_pins = 0, pins, tmp, other_tmp = 0;
	int per_phase[NR_PHASES] = { 0 }, dirty_phase[NR_PHASES] = { 0 };
	bool cpuset_policy = false;
	struct chaos_snap orig;
	char why[1024], name[256];
	long t0 = now_ms();

	chaos_seed();
	cr_assert_gt(cgtest_spawn_busy(&chaos_be), 0);
	cr_assert_gt(cgtest_spawn_busy(&chaos_be), 0);
	cr_assert_gt(cgtest_spawn_busy(&chaos_ls), 0);
	cr_assert_gt(cgtest_spawn_mem(&chaos_be, 16 << 20), 0);
	chaos_snapshot(&orig);
	mkdir(agentrun_path(&chaos_run, "state"), 0700);
	ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	cr_assert_geq(ino, 0);
	cr_assert_geq(inotify_add_watch(ino, agentrun_path(&chaos_run, "state"), IN_CREATE), 0);

	/* one clean run first: how many pins an agent leaves while it runs */
	chaos_start(&chaos_run);
	cr_assert(chaos_wait_be_idle(20000), "the agent idles BE (log %s)",
		  agentrun_path(&chaos_run, "agent.log"));
	max_pins = chaos_pins(chaos_run.pin_dir);
	cr_assert_gt(max_pins, 0, "the agent pins its maps");
	cr_assert_eq(WEXITSTATUS(agentrun_stop(&chaos_run, SIGTERM)), 0);
	chaos_assert_originals(&orig, "after a clean stop");

	for (i = 0; i < kills; i++) {
		enum phase ph = (enum phase)(i % NR_PHASES);

		/* drain events of the previous round */
		while (read(ino, why, sizeof(why)) > 0)
			;
		if (!kill_at(ph, &cpuset_policy))
			missed++;
		per_phase[ph]++;
		if (chaos_diff(&orig, NULL, 0)) {
			dirty++;
			dirty_phase[ph]++;
		}
		pins = chaos_pins(chaos_run.pin_dir);
		cr_assert_leq(pins, max_pins, "kill %d (%s): %d pins, more than a running agent's %d",
			      i, phase_names[ph], pins, max_pins);
		rc = chaos_restore(&chaos_run);
		if (rc)
			cr_log_error("restore log: %s", agentrun_path(&chaos_run, "restore.log"));
		cr_assert_eq(rc, 0, "kill %d (%s): colod restore exits 0", i, phase_names[ph]);
		snprintf(why, sizeof(why), "kill %d (%s), after colod restore", i,
			 phase_names[ph]);
		chaos_assert_originals(&orig, why);
		/*
		 * A journal save's temp file is colod restore's to remove; the
		 * other state files' temps (config.json, predictor.json) are
		 * not removed by anyone: counted here, shown by
		 * temp_files_of_a_killed_config_save_are_removed_at_the_next_start.
		 */
		tmp = chaos_temp_files(&chaos_run, name, sizeof(name));
		cr_assert(!tmp || strncmp(name, ".journal.json.", 14),
			  "%s: temp file %s left in the state dir", why, name);
		other_tmp = tmp;
		cr_assert_eq(agentrun_journal_entries(&chaos_run), 0, "%s: journal empty", why);
	}

	/* the last agent stops cleanly: no pin left */
	chaos_config(&chaos_run, false);
	chaos_start(&chaos_run);
	cr_assert(chaos_wait_be_idle(20000), "the agent still works after %d kills", kills);
	cr_assert_eq(WEXITSTATUS(agentrun_stop(&chaos_run, SIGTERM)), 0);
	chaos_assert_originals(&orig, "after the last, clean stop");
	cr_assert_eq(chaos_pins(chaos_run.pin_dir), -1, "no pin left behind: %s is gone",
		     chaos_run.pin_dir);

	fprintf(stderr, "chaos: %d kills in %.1f s; knobs changed at the kill: %d "
		"(startup %d/%d, save %d/%d, cut %d/%d, reload %d/%d); moment not reached: %d; "
		"temp files of other state files left: %d\n",
		kills, (now_ms() - t0) / 1000.0, dirty, dirty_phase[STARTUP], per_phase[STARTUP],
		dirty_phase[SAVE], per_phase[SAVE], dirty_phase[CUT], per_phase[CUT],
		dirty_phase[RELOAD], per_phase[RELOAD], missed, other_tmp);
	/* the kills must hit an agent that had changed something */
	cr_assert_geq(dirty_phase[CUT], per_phase[CUT] / 2,
		      "mid-cut kills found knobs changed (%d of %d)", dirty_phase[CUT],
		      per_phase[CUT]);
	cr_assert_geq(dirty_phase[RELOAD], per_phase[RELOAD] / 2);
	cr_assert_leq(missed, kills / 8, "%d kills did not reach their moment", missed);
}

/*
 * config.json (and predictor.json) in the state dir are replaced through a
 * temp file too; a kill -9 between its creation and its rename leaves it.
 * The next agent (or colod restore) must not leave it there for good.
 */
Test(chaos_kill, temp_files_of_a_killed_config_save_are_removed_at_the_next_start)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	struct pollfd pfd;
	const struct inotify_event *ev;
	char name[256] = "";
	bool seen = false;
	long end;
	ssize_t n;
	char *p;

	mkdir(agentrun_path(&chaos_run, "state"), 0700);
	ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	cr_assert_geq(ino, 0);
	cr_assert_geq(inotify_add_watch(ino, agentrun_path(&chaos_run, "state"), IN_CREATE), 0);
	pfd = (struct pollfd){ .fd = ino, .events = POLLIN };
	chaos_start(&chaos_run);
	for (end = now_ms() + 10000; !seen && now_ms() < end;) {
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		n = read(ino, buf, sizeof(buf));
		for (p = buf; n > 0 && p < buf + n; p += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)p;
			if (ev->len && !strncmp(ev->name, ".config.json.", 13))
				seen = true;
		}
	}
	agentrun_stop(&chaos_run, SIGKILL);
	cr_assert(seen, "the agent saved config.json");
	if (!chaos_temp_files(&chaos_run, name, sizeof(name)))
		cr_skip_test("the kill came after the rename; nothing to clean up");
	cr_log_info("kill -9 left %s", name);
	chaos_start(&chaos_run);
	cr_assert(chaos_wait_be_idle(20000), "the next agent runs");
	cr_assert_eq(WEXITSTATUS(agentrun_stop(&chaos_run, SIGTERM)), 0);
	cr_assert_eq(chaos_restore(&chaos_run), 0);
	name[0] = 0;
	cr_assert_eq(chaos_temp_files(&chaos_run, name, sizeof(name)), 0,
		     "%s still in the state dir after a restart, a stop and colod restore", name);
}
