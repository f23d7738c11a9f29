/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The real `colod run` as a child of a real-kernel test: a temp directory
 * with config/ (ConfigMap keys), state/, agent.log (its stderr) and
 * actions.jsonl (its action log), a pin dir of its own, metrics on a free
 * loopback port it reports in its log. agentrun_cleanup() stops it, runs
 * `colod restore` on its state dir (a killed agent leaves its journal) and
 * removes the directories; safe to call from a .fini at any point, also
 * when agentrun_init() was never reached.
 *
 * Typical use:
 *
 *	static struct agentrun run;
 *	static void init(void) { agentrun_init(&run, "x"); agentrun_config(&run, ...); }
 *	static void fini(void) { agentrun_cleanup(&run); }
 *	...
 *	agentrun_start(&run, "--resctrl-root", root, NULL);
 *	cr_assert(agentrun_wait_log(&run, "running:", 20000));
 */
#ifndef COLOD_TESTS_AGENTRUN_H
#define COLOD_TESTS_AGENTRUN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct agentrun {
	char dir[128];		/* /tmp/colod-test-<name>-XXXXXX */
	char pin_dir[128];	/* /sys/fs/bpf/colod-test-<name>-<pid> */
	bool no_action_log;	/* set before agentrun_start: no --action-log */
	pid_t pid;		/* -1: not running */
	int status;		/* wait status once it stopped or exited */
};

/* Make the directories (config/ empty). Fails the test on error or without $COLOD_BIN. */
void agentrun_init(struct agentrun *r, const char *name);
/* Write config/<name>. */
void agentrun_config(struct agentrun *r, const char *name, const char *text);
/*
 * Start `colod run --config --state-dir --pin-dir --metrics-addr 127.0.0.1:0
 * [--action-log]` with extra arguments (NULL-terminated); its stderr is
 * appended to agent.log.
 */
void agentrun_start(struct agentrun *r, ...);
/* Send sig and reap; returns the wait status (the last one if not running). */
int agentrun_stop(struct agentrun *r, int sig);
/* Whether it still runs; reaps it (into status) if it exited. */
bool agentrun_alive(struct agentrun *r);
/* Wait up to timeout_ms for the child to exit by itself; false if it did not. */
bool agentrun_wait_exit(struct agentrun *r, int timeout_ms);
/* Wait until agent.log holds needle; false at once if the agent exits without it. */
bool agentrun_wait_log(struct agentrun *r, const char *needle, int timeout_ms);
bool agentrun_log_has(struct agentrun *r, const char *needle);
/*
 * Lines of actions.jsonl on cgroup /rel of kind (NULL: any kind); the first
 * is copied to first (if not NULL).
 */
int agentrun_actions(struct agentrun *r, const char *kind, const char *rel, char *first,
		     size_t len);
/* GET /metrics; the value of the first sample starting with series, or -1. */
double agentrun_metric(struct agentrun *r, const char *series);
/* The end of agent.log on stderr, to explain a failure. */
void agentrun_show_log(struct agentrun *r);
/* Path of a file in the test's directory (two calls' results stay valid). */
const char *agentrun_path(struct agentrun *r, const char *name);
/*
 * `colod restore --state-dir <dir>/state`, output shown (or sent where the
 * shell redirect says); its exit status, -1 if it did not exit.
 */
int agentrun_restore(struct agentrun *r);
int agentrun_restore_to(struct agentrun *r, const char *redirect);
/*
 * `colod replay rec`, output on stderr: 0 when every decision is the same.
 * With COLOD_RECORD_FIXTURES=DIR, rec is kept there as name: a replay
 * fixture without a kernel (tests/unit/test_replay.c).
 */
int agentrun_replay(const char *rec);
void agentrun_keep_fixture(const char *rec, const char *name);
/* Entries in the agent's journal.json, -1 if it cannot be read. */
int agentrun_journal_entries(struct agentrun *r);
void agentrun_cleanup(struct agentrun *r);
/*
 * A "colod run" on this machine other than self (a kernel test of another
 * checkout): it would class a test's kubepods tree as kubelet's and act on
 * it too. Its pid, or 0.
 */
pid_t agentrun_other_agent(pid_t self);

/* ---- files the tests read (at most 1 MiB of each) ---- */

/* Whole small file, cut at the first newline; "" if unreadable. */
const char *read_text(const char *path, char *buf, size_t len);
/* Poll path every 50 ms until it reads value. */
bool wait_text(const char *path, const char *value, int timeout_ms);
/* Whole file in a static buffer, valid until the next call; "" if unreadable. */
const char *slurp(const char *path);
bool file_has(const char *path, const char *needle);
/* Lines of path for which match() holds; the first is copied to first (if not NULL). */
int count_lines(const char *path, bool (*match)(const char *line, const void *arg),
		const void *arg, char *first, size_t len);

#endif /* COLOD_TESTS_AGENTRUN_H */
